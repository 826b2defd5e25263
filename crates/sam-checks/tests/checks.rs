//! Every credential check against the fake providers of `sam-testkit`: the same scenarios for
//! each provider, and after each check the promise that the secret is in no message and no URL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::time::Duration;

use sam_checks::{CheckOutcome, CheckRequest, Checker, Endpoints, Verdict};
use sam_testkit::{FakeProviders, Fault, Provider};

const SCALEWAY_PROJECT: &str = "6d9b4d62-1c3e-4f5a-9b8c-7d6e5f4a3b2c";

/// One kind of check. Anthropic API keys and Claude subscription tokens share a fake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Hetzner,
    Scaleway,
    Anthropic,
    ClaudeOauth,
    OpenAi,
    Gemini,
    Mistral,
    Compatible,
    GitHub,
}

impl Case {
    const ALL: [Case; 9] = [
        Case::Hetzner,
        Case::Scaleway,
        Case::Anthropic,
        Case::ClaudeOauth,
        Case::OpenAi,
        Case::Gemini,
        Case::Mistral,
        Case::Compatible,
        Case::GitHub,
    ];

    fn provider(self) -> Provider {
        match self {
            Case::Hetzner => Provider::Hetzner,
            Case::Scaleway => Provider::Scaleway,
            Case::Anthropic | Case::ClaudeOauth => Provider::Anthropic,
            Case::OpenAi => Provider::OpenAi,
            Case::Gemini => Provider::Gemini,
            Case::Mistral => Provider::Mistral,
            Case::Compatible => Provider::Compatible,
            Case::GitHub => Provider::GitHub,
        }
    }

    /// Realistic, long, unique secrets: a leak of any of them is unmistakable.
    fn secret(self) -> &'static str {
        match self {
            Case::Hetzner => "hcloudTOKENabcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQR",
            Case::Scaleway => "0f7c4b2e-8a91-4d3f-b6e5-2c1d9a8b7e6f",
            Case::Anthropic => "sk-ant-api03-TESTkeyAbcdefghijklmnopqrstuvwxyz0123456789-ABCDEFGH",
            Case::ClaudeOauth => {
                "sk-ant-oat01-TESTtokenAbcdefghijklmnopqrstuvwxyz0123456789-IJKLMN"
            }
            Case::OpenAi => "sk-proj-TESTkeyAbcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
            Case::Gemini => "AIzaSyTESTkeyAbcdefghijklmnopqrstuvw",
            Case::Mistral => "MistralTESTkeyAbcdefghijklmnopqr",
            Case::Compatible => "sk-local-TESTkeyAbcdefghijklmnop",
            Case::GitHub => "ghp_TESTtokenAbcdefghijklmnopqrstuvwxyz01",
        }
    }

    /// A secret the fakes have never been told about.
    fn wrong_secret(self) -> String {
        format!("{}-WRONG", self.secret())
    }

    /// How messages name the provider at the start of a sentence.
    fn name(self) -> &'static str {
        match self {
            Case::Hetzner => "Hetzner",
            Case::Scaleway => "Scaleway",
            Case::Anthropic | Case::ClaudeOauth => "Anthropic",
            Case::OpenAi => "OpenAI",
            Case::Gemini => "Gemini",
            Case::Mistral => "Mistral",
            Case::Compatible => "The OpenAI-compatible server",
            Case::GitHub => "GitHub",
        }
    }

    fn request<'a>(self, secret: &'a str, compatible_url: &'a str) -> CheckRequest<'a> {
        match self {
            Case::Hetzner => CheckRequest::Hetzner { token: secret },
            Case::Scaleway => CheckRequest::Scaleway {
                secret_key: secret,
                project_id: SCALEWAY_PROJECT,
                zone: "fr-par-1",
            },
            Case::Anthropic => CheckRequest::Anthropic { api_key: secret },
            Case::ClaudeOauth => CheckRequest::ClaudeOauth { token: secret },
            Case::OpenAi => CheckRequest::OpenAi { api_key: secret },
            Case::Gemini => CheckRequest::Gemini { api_key: secret },
            Case::Mistral => CheckRequest::Mistral { api_key: secret },
            Case::Compatible => CheckRequest::OpenAiCompatible {
                base_url: compatible_url,
                api_key: secret,
            },
            Case::GitHub => CheckRequest::GitHub { token: secret },
        }
    }
}

/// A fake server and a checker pointed at it through the same `SAM_*` variables the app reads.
struct Harness {
    fake: FakeProviders,
    checker: Checker,
    compatible_url: String,
}

impl Harness {
    async fn start() -> Self {
        Self::with_total_timeout(Duration::from_secs(5)).await
    }

    async fn with_total_timeout(total: Duration) -> Self {
        let fake = FakeProviders::start().await.unwrap();
        let env = fake.endpoints_env();
        let endpoints = Endpoints::from_vars(|name| {
            env.iter()
                .find(|(variable, _)| variable == name)
                .map(|(_, value)| value.clone())
        })
        .unwrap();
        assert_eq!(endpoints.hetzner, fake.hetzner_url());
        assert_eq!(endpoints.github, fake.github_url());
        let checker = Checker::with_timeouts(endpoints, Duration::from_secs(2), total).unwrap();
        let compatible_url = fake.compatible_url().to_string();
        Self {
            fake,
            checker,
            compatible_url,
        }
    }

    fn accept(&self, case: Case) {
        self.fake.accept(case.provider(), case.secret());
    }

    /// Checks `secret` for `case`, and asserts it leaked into neither the message nor any URL
    /// the fake saw.
    async fn check_with(&self, case: Case, secret: &str) -> CheckOutcome {
        let outcome = self
            .checker
            .check(case.request(secret, &self.compatible_url))
            .await;
        assert_no_leak(&outcome, secret, case);
        for request in self.fake.requests() {
            let url = format!("{}?{}", request.path, request.query.unwrap_or_default());
            assert!(
                secret.is_empty() || !url.contains(secret),
                "{case:?}: secret in URL {url}"
            );
        }
        outcome
    }

    async fn check(&self, case: Case) -> CheckOutcome {
        self.check_with(case, case.secret()).await
    }
}

fn assert_no_leak(outcome: &CheckOutcome, secret: &str, case: Case) {
    assert!(
        secret.is_empty() || !outcome.message.contains(secret),
        "{case:?}: secret in message: {}",
        outcome.message
    );
    assert!(
        !outcome.message.is_empty() && outcome.message.ends_with('.'),
        "{case:?}: not a sentence: {}",
        outcome.message
    );
}

#[tokio::test]
async fn valid_keys_are_accepted_with_a_count() {
    let harness = Harness::start().await;
    for case in Case::ALL {
        harness.accept(case);
        let outcome = harness.check(case).await;
        assert_eq!(
            outcome.verdict,
            Verdict::Valid,
            "{case:?}: {}",
            outcome.message
        );
        assert!(
            outcome
                .message
                .starts_with(&format!("{} accepted the", case.name())),
            "{case:?}: {}",
            outcome.message
        );
        assert_eq!(outcome.retry_after_secs, None);
    }
    let messages: Vec<String> = {
        let mut out = Vec::new();
        for case in [
            Case::Hetzner,
            Case::Scaleway,
            Case::Anthropic,
            Case::Gemini,
            Case::OpenAi,
        ] {
            out.push(harness.check(case).await.message);
        }
        out
    };
    assert_eq!(
        messages[0],
        "Hetzner accepted the token (read & write; 6 locations available)."
    );
    assert_eq!(
        messages[1],
        "Scaleway accepted the secret key (10 Instance types available in fr-par-1)."
    );
    assert_eq!(
        messages[2],
        "Anthropic accepted the key (3 models available)."
    );
    assert_eq!(messages[3], "Gemini accepted the key (4 models available).");
    assert_eq!(messages[4], "OpenAI accepted the key (4 models available).");
}

#[tokio::test]
async fn hetzner_write_probe_creates_nothing() {
    let harness = Harness::start().await;
    harness.accept(Case::Hetzner);
    harness.check(Case::Hetzner).await;
    let probes: Vec<_> = harness
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(probes.len(), 1);
    assert_eq!(probes[0].path, "/hetzner/v1/ssh_keys");
    // 400 invalid_input: permission passed, the empty body was refused, nothing was created.
    assert_eq!(probes[0].status, 400);
}

#[tokio::test]
async fn unknown_keys_are_rejected_with_what_to_do() {
    let harness = Harness::start().await;
    for case in Case::ALL {
        // The right key is known, so a wrong one is judged on its own.
        harness.accept(case);
        let wrong = case.wrong_secret();
        let outcome = harness.check_with(case, &wrong).await;
        assert_eq!(
            outcome.verdict,
            Verdict::Rejected,
            "{case:?}: {}",
            outcome.message
        );
        assert!(
            outcome
                .message
                .starts_with(&format!("{} rejected the", case.name())),
            "{case:?}: {}",
            outcome.message
        );
    }
}

#[tokio::test]
async fn provider_text_is_quoted_and_an_echoed_key_redacted() {
    let harness = Harness::start().await;
    let outcome = harness.check(Case::Hetzner).await;
    assert_eq!(
        outcome.message,
        "Hetzner rejected the token: unable to authenticate. Check that you copied the whole token, or create a new Read & Write token in the Hetzner console → your project → Security → API tokens."
    );
    let outcome = harness.check(Case::Gemini).await;
    assert!(
        outcome.message.contains("API key not valid"),
        "{}",
        outcome.message
    );
    // This fake echoes the key in full, as some self-hosted proxies do.
    let outcome = harness.check(Case::Compatible).await;
    assert_eq!(outcome.verdict, Verdict::Rejected);
    assert!(
        outcome.message.contains("Invalid API key: <redacted>"),
        "{}",
        outcome.message
    );
}

#[tokio::test]
async fn status_401_is_rejected_for_every_provider() {
    let harness = Harness::start().await;
    for case in Case::ALL {
        harness.accept(case);
        harness.fake.inject(case.provider(), Fault::Status(401));
        let outcome = harness.check(case).await;
        assert_eq!(
            outcome.verdict,
            Verdict::Rejected,
            "{case:?}: {}",
            outcome.message
        );
    }
}

#[tokio::test]
async fn hetzner_read_only_token_is_read_only() {
    let harness = Harness::start().await;
    harness
        .fake
        .accept_read_only(Provider::Hetzner, Case::Hetzner.secret());
    let outcome = harness.check(Case::Hetzner).await;
    assert_eq!(outcome.verdict, Verdict::ReadOnly);
    assert_eq!(
        outcome.message,
        "Hetzner says this token is read-only: SAM cannot create servers with it. Create a Read & Write token in the Hetzner console → your project → Security → API tokens."
    );
    let probe = harness
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(
        (probe.path.as_str(), probe.status),
        ("/hetzner/v1/ssh_keys", 403)
    );
}

#[tokio::test]
async fn github_scopes_decide_between_valid_and_read_only() {
    let harness = Harness::start().await;
    harness
        .fake
        .accept_read_only(Provider::GitHub, Case::GitHub.secret());
    let outcome = harness.check(Case::GitHub).await;
    assert_eq!(outcome.verdict, Verdict::ReadOnly);
    assert!(
        outcome
            .message
            .contains("lacks the repo scope (it has only read:user)"),
        "{}",
        outcome.message
    );
    assert!(outcome.message.contains("private repositories"));

    harness.fake.accept_github(Case::GitHub.secret(), None);
    let outcome = harness.check(Case::GitHub).await;
    assert_eq!(outcome.verdict, Verdict::Valid);
    assert!(
        outcome
            .message
            .starts_with("GitHub accepted the fine-grained token for sam-test-user."),
        "{}",
        outcome.message
    );
    assert!(outcome.message.contains("per repository"));

    harness.accept(Case::GitHub);
    let outcome = harness.check(Case::GitHub).await;
    assert_eq!(
        outcome.message,
        "GitHub accepted the token for sam-test-user (classic token with the repo scope)."
    );
    let user_agent_sent = harness
        .fake
        .requests()
        .iter()
        .all(|r| r.header_names.iter().any(|h| h == "user-agent"));
    assert!(user_agent_sent);
}

#[tokio::test]
async fn rate_limits_say_when_to_retry() {
    let harness = Harness::start().await;
    for case in Case::ALL {
        harness.accept(case);
        harness
            .fake
            .inject(case.provider(), Fault::RateLimited { reset_secs: 30 });
        let outcome = harness.check(case).await;
        assert_eq!(
            outcome.verdict,
            Verdict::RateLimited,
            "{case:?}: {}",
            outcome.message
        );
        // Hetzner and GitHub send a UNIX reset time: a second may tick between the two clocks.
        let retry = outcome.retry_after_secs.unwrap();
        assert!((29..=30).contains(&retry), "{case:?}: retry after {retry}");
        assert!(
            outcome.message.contains("was not judged") && outcome.message.contains("Try again in"),
            "{case:?}: {}",
            outcome.message
        );
    }
}

#[tokio::test]
async fn server_errors_are_unreachable_not_rejected() {
    let harness = Harness::start().await;
    for case in Case::ALL {
        harness.accept(case);
        harness.fake.inject(case.provider(), Fault::Status(500));
        let outcome = harness.check(case).await;
        assert_eq!(
            outcome.verdict,
            Verdict::Unreachable,
            "{case:?}: {}",
            outcome.message
        );
        assert!(
            outcome.message.contains("server error (HTTP 500")
                && outcome.message.contains("was not judged"),
            "{case:?}: {}",
            outcome.message
        );
    }
    harness.fake.inject(Provider::Anthropic, Fault::Status(529));
    let outcome = harness.check(Case::Anthropic).await;
    assert_eq!(outcome.verdict, Verdict::Unreachable);
    assert!(
        outcome.message.contains("HTTP 529: Overloaded"),
        "{}",
        outcome.message
    );
}

#[tokio::test]
async fn slow_providers_time_out() {
    let harness = Harness::with_total_timeout(Duration::from_millis(300)).await;
    for case in Case::ALL {
        harness.accept(case);
        harness
            .fake
            .inject(case.provider(), Fault::Delay(Duration::from_secs(3)));
        let outcome = harness.check(case).await;
        assert_eq!(
            outcome.verdict,
            Verdict::Unreachable,
            "{case:?}: {}",
            outcome.message
        );
        assert!(
            outcome.message.contains("did not answer within 300 ms"),
            "{case:?}: {}",
            outcome.message
        );
    }
    // The same checker recovers once the provider is quick again.
    harness.fake.clear_faults();
    assert_eq!(harness.check(Case::OpenAi).await.verdict, Verdict::Valid);
}

#[tokio::test]
async fn malformed_json_is_unreachable() {
    let harness = Harness::start().await;
    for case in Case::ALL {
        harness.accept(case);
        harness.fake.inject(case.provider(), Fault::MalformedJson);
        let outcome = harness.check(case).await;
        assert_eq!(
            outcome.verdict,
            Verdict::Unreachable,
            "{case:?}: {}",
            outcome.message
        );
        assert!(
            outcome.message.contains("could not read"),
            "{case:?}: {}",
            outcome.message
        );
    }
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let port = {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        listener.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let endpoints = Endpoints::from_vars(|_| Some(format!("{base}/api"))).unwrap();
    let checker =
        Checker::with_timeouts(endpoints, Duration::from_secs(2), Duration::from_secs(5)).unwrap();
    let compatible = format!("{base}/v1");
    for case in Case::ALL {
        let outcome = checker
            .check(case.request(case.secret(), &compatible))
            .await;
        assert_no_leak(&outcome, case.secret(), case);
        assert_eq!(
            outcome.verdict,
            Verdict::Unreachable,
            "{case:?}: {}",
            outcome.message
        );
        assert!(
            outcome
                .message
                .contains(&format!("127.0.0.1:{port} refused the connection")),
            "{case:?}: {}",
            outcome.message
        );
    }
}

#[tokio::test]
async fn keys_travel_in_headers_with_the_provider_specific_extras() {
    let harness = Harness::start().await;
    for case in Case::ALL {
        harness.accept(case);
        harness.check(case).await;
    }
    let requests = harness.fake.requests();
    let headers_of = |path_prefix: &str| -> Vec<Vec<String>> {
        requests
            .iter()
            .filter(|r| r.path.starts_with(path_prefix))
            .map(|r| r.header_names.clone())
            .collect()
    };
    let gemini = headers_of("/gemini/");
    assert!(
        gemini
            .iter()
            .all(|h| h.iter().any(|n| n == "x-goog-api-key"))
    );
    let anthropic = headers_of("/anthropic/");
    assert_eq!(anthropic.len(), 2);
    assert!(
        anthropic
            .iter()
            .all(|h| h.iter().any(|n| n == "anthropic-version"))
    );
    assert!(anthropic.iter().any(|h| h.iter().any(|n| n == "x-api-key")));
    assert!(
        anthropic
            .iter()
            .any(|h| h.iter().any(|n| n == "anthropic-beta"))
    );
    let scaleway = headers_of("/scaleway/");
    assert!(
        scaleway
            .iter()
            .all(|h| h.iter().any(|n| n == "x-auth-token"))
    );
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/scaleway/instance/v1/zones/fr-par-1/products/servers")
    );
}

#[tokio::test]
async fn obviously_wrong_input_is_refused_without_asking() {
    let harness = Harness::start().await;
    for case in Case::ALL {
        let outcome = harness.check_with(case, "").await;
        assert_eq!(outcome.verdict, Verdict::Rejected, "{case:?}");
        assert!(outcome.message.contains("is empty"), "{}", outcome.message);
        let pasted = format!("{}\n", case.secret());
        let outcome = harness.check_with(case, &pasted).await;
        assert_eq!(outcome.verdict, Verdict::Rejected, "{case:?}");
        assert!(
            outcome.message.contains("line break"),
            "{}",
            outcome.message
        );
    }
    let outcome = harness
        .checker
        .check(CheckRequest::Anthropic {
            api_key: Case::ClaudeOauth.secret(),
        })
        .await;
    assert_eq!(outcome.verdict, Verdict::Rejected);
    assert!(outcome.message.contains("Claude subscription token"));
    let outcome = harness
        .checker
        .check(CheckRequest::Scaleway {
            secret_key: Case::Scaleway.secret(),
            project_id: SCALEWAY_PROJECT,
            zone: "../../admin",
        })
        .await;
    assert_eq!(outcome.verdict, Verdict::Rejected);
    assert!(outcome.message.contains("zone"), "{}", outcome.message);
    let outcome = harness
        .checker
        .check(CheckRequest::Scaleway {
            secret_key: "SCWABCDEFGHIJKLMNOPQ",
            project_id: SCALEWAY_PROJECT,
            zone: "fr-par-1",
        })
        .await;
    assert!(
        outcome.message.contains("access key"),
        "{}",
        outcome.message
    );
    let outcome = harness
        .checker
        .check(CheckRequest::OpenAiCompatible {
            base_url: "localhost:11434",
            api_key: Case::Compatible.secret(),
        })
        .await;
    assert_eq!(outcome.verdict, Verdict::Unreachable);
    assert!(
        harness.fake.requests().is_empty(),
        "nothing should have been sent"
    );
}

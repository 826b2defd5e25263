//! The fakes speak each provider's wire format: checked here with a plain HTTP client, so a
//! drift in the fakes shows up even when every checker happens to tolerate it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

// One test binary for the crate: the cloud fakes' tests live in a module beside this file.
#[path = "fakes/cloud.rs"]
mod cloud;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{Client, Response};
use sam_testkit::{FakeProviders, Fault, Provider};
use serde_json::Value;

async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn url(base: &url::Url, path: &str) -> String {
    format!("{}/{path}", base.as_str().trim_end_matches('/'))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn urls_and_environment_point_at_one_server() {
    let fake = FakeProviders::start().await.unwrap();
    let base = fake.base_url();
    assert_eq!(base.host_str(), Some("127.0.0.1"));
    assert_eq!(fake.hetzner_url().path(), "/hetzner/v1");
    assert_eq!(fake.compatible_url().path(), "/compatible/v1");
    let env = fake.endpoints_env();
    let names: Vec<&str> = env.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "SAM_HETZNER_API_URL",
            "SAM_SCALEWAY_API_URL",
            "SAM_ANTHROPIC_BASE_URL",
            "SAM_OPENAI_BASE_URL",
            "SAM_GEMINI_BASE_URL",
            "SAM_MISTRAL_BASE_URL",
            "SAM_GITHUB_API_URL",
        ]
    );
    for (_, value) in env {
        assert!(value.starts_with(base.as_str()), "{value}");
    }
}

#[tokio::test]
async fn hetzner_lists_locations_and_sends_rate_limit_headers_on_every_answer() {
    let fake = FakeProviders::start().await.unwrap();
    fake.accept(Provider::Hetzner, "rw-token");
    let client = Client::new();
    let locations = url(&fake.hetzner_url(), "locations");

    let response = client
        .get(&locations)
        .bearer_auth("rw-token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "ratelimit-limit").as_deref(),
        Some("3600")
    );
    assert_eq!(
        header(&response, "ratelimit-remaining").as_deref(),
        Some("3599")
    );
    let reset: u64 = header(&response, "ratelimit-reset")
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > now(), "the reset is a UNIX time");
    let (status, body) = json(response).await;
    assert_eq!(status, 200);
    assert_eq!(body["locations"][0]["name"], "fsn1");
    assert!(body["meta"]["pagination"]["total_entries"].is_number());

    let response = client
        .get(&locations)
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert!(header(&response, "ratelimit-remaining").is_some());
    let (status, body) = json(response).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(body["error"]["message"].is_string());
    assert!(body["error"].get("details").is_some());
}

#[tokio::test]
async fn hetzner_checks_permission_before_validating_the_ssh_key_body() {
    let fake = FakeProviders::start().await.unwrap();
    fake.accept(Provider::Hetzner, "rw-token");
    fake.accept_read_only(Provider::Hetzner, "ro-token");
    let client = Client::new();
    let ssh_keys = url(&fake.hetzner_url(), "ssh_keys");
    let post = |token: &'static str, body: Value| {
        client.post(&ssh_keys).bearer_auth(token).json(&body).send()
    };

    let (status, body) = json(post("ro-token", serde_json::json!({})).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );

    let (status, body) = json(post("rw-token", serde_json::json!({})).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_input"))
    );
    assert_eq!(body["error"]["details"]["fields"][0]["name"], "name");

    let full = serde_json::json!({ "name": "sam", "public_key": "ssh-ed25519 AAAA" });
    let (status, body) = json(post("rw-token", full).await.unwrap()).await;
    assert_eq!(status, 201);
    assert_eq!(body["ssh_key"]["name"], "sam");
}

#[tokio::test]
async fn every_provider_answers_its_cheapest_call_in_its_own_shape() {
    let fake = FakeProviders::start().await.unwrap();
    for provider in Provider::ALL {
        fake.accept(provider, "good-secret-0123456789");
    }
    fake.accept(Provider::Anthropic, "sk-ant-oat01-good");
    let client = Client::new();
    let secret = "good-secret-0123456789";

    let (status, body) = json(
        client
            .get(url(
                &fake.scaleway_url(),
                "instance/v1/zones/fr-par-1/products/servers",
            ))
            .header("x-auth-token", secret)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["servers"]["DEV1-S"]["ncpus"].is_number());

    let (status, body) = json(
        client
            .get(url(&fake.anthropic_url(), "v1/models"))
            .header("x-api-key", secret)
            .header("anthropic-version", "2023-06-01")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"][0]["type"], "model");
    assert_eq!(body["has_more"], false);

    let oauth = client
        .get(url(&fake.anthropic_url(), "v1/models"))
        .bearer_auth("sk-ant-oat01-good")
        .header("anthropic-version", "2023-06-01");
    let (status, body) = json(oauth.try_clone().unwrap().send().await.unwrap()).await;
    assert_eq!(status, 401, "OAuth needs the beta header");
    assert_eq!(body["error"]["type"], "authentication_error");
    let response = oauth
        .header("anthropic-beta", "oauth-2025-04-20")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    for (base, owner) in [
        (fake.openai_url(), "openai"),
        (fake.mistral_url(), "mistralai"),
        (fake.compatible_url(), "library"),
    ] {
        let (status, body) = json(
            client
                .get(url(&base, "models"))
                .bearer_auth(secret)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["object"], "list");
        assert_eq!(body["data"][0]["object"], "model");
        assert_eq!(body["data"][0]["owned_by"], owner);
    }

    let (status, body) = json(
        client
            .get(url(&fake.gemini_url(), "v1beta/models"))
            .header("x-goog-api-key", secret)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body["models"][0]["name"]
            .as_str()
            .unwrap()
            .starts_with("models/gemini-")
    );

    let response = client
        .get(url(&fake.github_url(), "user"))
        .bearer_auth(secret)
        .header("user-agent", "sam-desktop")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "x-oauth-scopes").as_deref(),
        Some("read:org, repo, workflow")
    );
    assert!(header(&response, "x-ratelimit-remaining").is_some());
    let (status, body) = json(response).await;
    assert_eq!(status, 200);
    assert_eq!(body["login"], "sam-test-user");
}

#[tokio::test]
async fn wrong_keys_get_each_providers_error_shape() {
    let fake = FakeProviders::start().await.unwrap();
    let client = Client::new();
    let wrong = "wrong-secret-0123456789";

    let (status, body) = json(
        client
            .get(url(
                &fake.scaleway_url(),
                "instance/v1/zones/fr-par-1/products/servers",
            ))
            .header("x-auth-token", wrong)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (401, Some("denied_authentication"))
    );

    let (status, body) = json(
        client
            .get(url(&fake.gemini_url(), "v1beta/models"))
            .header("x-goog-api-key", wrong)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(body["error"]["details"][0]["reason"], "API_KEY_INVALID");

    let (status, body) = json(
        client
            .get(url(&fake.openai_url(), "models"))
            .bearer_auth(wrong)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "invalid_api_key");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(!message.contains(wrong), "OpenAI masks the key: {message}");

    let (_, body) = json(
        client
            .get(url(&fake.compatible_url(), "models"))
            .bearer_auth(wrong)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains(wrong),
        "the compatible fake echoes the key so clients must redact it"
    );

    let response = client
        .get(url(&fake.github_url(), "user"))
        .bearer_auth(wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        403,
        "GitHub requires a User-Agent"
    );
}

#[tokio::test]
async fn faults_apply_until_cleared() {
    let fake = FakeProviders::start().await.unwrap();
    fake.accept(Provider::OpenAi, "key-0123456789");
    let client = Client::new();
    let models = url(&fake.openai_url(), "models");
    let get = || client.get(&models).bearer_auth("key-0123456789").send();

    fake.inject(Provider::OpenAi, Fault::Status(503));
    assert_eq!(get().await.unwrap().status().as_u16(), 503);
    assert_eq!(get().await.unwrap().status().as_u16(), 503);

    fake.inject(Provider::OpenAi, Fault::RateLimited { reset_secs: 7 });
    let response = get().await.unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(header(&response, "retry-after").as_deref(), Some("7"));

    fake.inject(Provider::OpenAi, Fault::MalformedJson);
    let response = get().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.json::<Value>().await.is_err());

    fake.inject(Provider::OpenAi, Fault::Delay(Duration::from_millis(200)));
    let started = std::time::Instant::now();
    assert_eq!(get().await.unwrap().status().as_u16(), 200);
    assert!(started.elapsed() >= Duration::from_millis(200));

    fake.clear_faults();
    assert_eq!(get().await.unwrap().status().as_u16(), 200);

    // A fault on one provider leaves the others alone.
    fake.accept(Provider::Mistral, "key-0123456789");
    fake.inject(Provider::OpenAi, Fault::Status(500));
    let mistral = client
        .get(url(&fake.mistral_url(), "models"))
        .bearer_auth("key-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(mistral.status().as_u16(), 200);
}

#[tokio::test]
async fn rate_limits_use_each_providers_own_signal() {
    let fake = FakeProviders::start().await.unwrap();
    let client = Client::new();
    for provider in Provider::ALL {
        fake.inject(provider, Fault::RateLimited { reset_secs: 60 });
    }

    let response = client
        .get(url(&fake.hetzner_url(), "locations"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(
        header(&response, "ratelimit-remaining").as_deref(),
        Some("0")
    );
    let reset: u64 = header(&response, "ratelimit-reset")
        .unwrap()
        .parse()
        .unwrap();
    assert!((now() + 58..=now() + 61).contains(&reset));
    assert_eq!(
        json(response).await.1["error"]["code"],
        "rate_limit_exceeded"
    );

    let response = client
        .get(url(&fake.github_url(), "user"))
        .header("user-agent", "t")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(
        header(&response, "x-ratelimit-remaining").as_deref(),
        Some("0")
    );

    let (status, body) = json(
        client
            .get(url(&fake.gemini_url(), "v1beta/models"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["details"][0]["retryDelay"], "60s");
}

#[tokio::test]
async fn requests_are_recorded_without_header_values() {
    let fake = FakeProviders::start().await.unwrap();
    let client = Client::new();
    client
        .get(url(&fake.openai_url(), "models?limit=5"))
        .bearer_auth("very-secret-value")
        .send()
        .await
        .unwrap();
    client
        .get(url(&fake.base_url(), "nowhere"))
        .send()
        .await
        .unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.provider, Some(Provider::OpenAi));
    assert_eq!(first.method, "GET");
    assert_eq!(first.path, "/openai/v1/models");
    assert_eq!(first.query.as_deref(), Some("limit=5"));
    assert_eq!(first.status, 401);
    assert!(first.header_names.iter().any(|h| h == "authorization"));
    assert!(!format!("{requests:?}").contains("very-secret-value"));
    assert_eq!(requests[1].provider, None);
    assert_eq!(requests[1].status, 404);
}

#[tokio::test]
#[should_panic(expected = "has no read-only keys")]
async fn read_only_keys_exist_only_where_the_provider_has_them() {
    let fake = FakeProviders::start().await.unwrap();
    fake.accept_read_only(Provider::OpenAi, "key");
}

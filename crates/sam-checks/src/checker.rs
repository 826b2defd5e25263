//! The entry point: one [`Checker`] per app, one call per credential.

use std::fmt;
use std::time::Duration;

use crate::endpoints::Endpoints;
use crate::http::Http;
use crate::outcome::{CheckOutcome, REDACTED};
use crate::{anthropic, gemini, github, hetzner, openai, scaleway};

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(15);

/// A credential to check, borrowed for the duration of the check. Its `Debug` output shows
/// which provider and the non-secret fields only.
#[derive(Clone, Copy)]
pub enum CheckRequest<'a> {
    /// A Hetzner Cloud API token.
    Hetzner {
        /// The token.
        token: &'a str,
    },
    /// A Scaleway API key, with the project and zone SAM will create servers in.
    Scaleway {
        /// The API key's secret key (a UUID; not the `SCW...` access key).
        secret_key: &'a str,
        /// The project ID (a UUID). Only its shape is checked: listing Instance types is not
        /// tied to a project.
        project_id: &'a str,
        /// The zone, e.g. `fr-par-1`.
        zone: &'a str,
    },
    /// An Anthropic API key (`sk-ant-api...`).
    Anthropic {
        /// The key.
        api_key: &'a str,
    },
    /// A Claude subscription OAuth token from `claude setup-token` (`sk-ant-oat...`), as in
    /// `CLAUDE_CODE_OAUTH_TOKEN`.
    ClaudeOauth {
        /// The token.
        token: &'a str,
    },
    /// An OpenAI API key.
    OpenAi {
        /// The key.
        api_key: &'a str,
    },
    /// A Google Gemini API key.
    Gemini {
        /// The key.
        api_key: &'a str,
    },
    /// A Mistral API key.
    Mistral {
        /// The key.
        api_key: &'a str,
    },
    /// A key for a server speaking the OpenAI API (Ollama, vLLM, LiteLLM, ...).
    OpenAiCompatible {
        /// The base URL the user gave, e.g. `http://localhost:11434/v1`; `/models` is appended.
        base_url: &'a str,
        /// The key.
        api_key: &'a str,
    },
    /// A GitHub personal access token, classic or fine-grained.
    GitHub {
        /// The token.
        token: &'a str,
    },
}

impl CheckRequest<'_> {
    /// The secret in this request, for the final redaction pass.
    fn secret(&self) -> &str {
        match *self {
            CheckRequest::Hetzner { token }
            | CheckRequest::ClaudeOauth { token }
            | CheckRequest::GitHub { token } => token,
            CheckRequest::Scaleway { secret_key, .. } => secret_key,
            CheckRequest::Anthropic { api_key }
            | CheckRequest::OpenAi { api_key }
            | CheckRequest::Gemini { api_key }
            | CheckRequest::Mistral { api_key }
            | CheckRequest::OpenAiCompatible { api_key, .. } => api_key,
        }
    }

    /// A stable name for logs.
    fn provider(&self) -> &'static str {
        match self {
            CheckRequest::Hetzner { .. } => "hetzner",
            CheckRequest::Scaleway { .. } => "scaleway",
            CheckRequest::Anthropic { .. } => "anthropic",
            CheckRequest::ClaudeOauth { .. } => "claude_oauth",
            CheckRequest::OpenAi { .. } => "openai",
            CheckRequest::Gemini { .. } => "gemini",
            CheckRequest::Mistral { .. } => "mistral",
            CheckRequest::OpenAiCompatible { .. } => "openai_compatible",
            CheckRequest::GitHub { .. } => "github",
        }
    }
}

impl fmt::Debug for CheckRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct(self.provider());
        if let CheckRequest::Scaleway {
            project_id, zone, ..
        } = self
        {
            out.field("project_id", project_id).field("zone", zone);
        }
        // The compatible base URL is left out: users put credentials in URLs too.
        out.field("secret", &REDACTED).finish_non_exhaustive()
    }
}

/// Why a [`Checker`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CheckerError {
    /// The HTTP client could not be set up, usually because the system TLS library failed to
    /// initialise.
    #[error(
        "could not set up the HTTP client for credential checks (is the system TLS library installed?)"
    )]
    Client(#[source] reqwest::Error),
}

/// Checks credentials against the providers at [`Endpoints`]. Holds one connection pool;
/// cheap to share behind an `Arc`, and checks may run concurrently.
#[derive(Debug)]
pub struct Checker {
    endpoints: Endpoints,
    http: Http,
}

impl Checker {
    /// A checker with a 5 s connect timeout and a 15 s total timeout per request.
    ///
    /// # Errors
    /// [`CheckerError::Client`] when the HTTP client cannot be built.
    pub fn new(endpoints: Endpoints) -> Result<Self, CheckerError> {
        Self::with_timeouts(endpoints, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TOTAL_TIMEOUT)
    }

    /// A checker with the given timeouts (tests use short ones). `total` bounds each request,
    /// body included; the Hetzner check makes two.
    ///
    /// # Errors
    /// [`CheckerError::Client`] when the HTTP client cannot be built.
    pub fn with_timeouts(
        endpoints: Endpoints,
        connect: Duration,
        total: Duration,
    ) -> Result<Self, CheckerError> {
        let http = Http::new(connect, total).map_err(CheckerError::Client)?;
        Ok(Self { endpoints, http })
    }

    /// The endpoints this checker talks to.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Checks one credential. Never fails: a check that gets no usable answer is
    /// [`crate::Verdict::Unreachable`], with a message saying why. Changes nothing at the
    /// provider.
    pub async fn check(&self, request: CheckRequest<'_>) -> CheckOutcome {
        let http = &self.http;
        let endpoints = &self.endpoints;
        let mut outcome = match request {
            CheckRequest::Hetzner { token } => {
                hetzner::check(http, &endpoints.hetzner, token).await
            }
            CheckRequest::Scaleway {
                secret_key,
                project_id,
                zone,
            } => scaleway::check(http, &endpoints.scaleway, secret_key, project_id, zone).await,
            CheckRequest::Anthropic { api_key } => {
                anthropic::check(http, &endpoints.anthropic, anthropic::Auth::ApiKey, api_key).await
            }
            CheckRequest::ClaudeOauth { token } => {
                anthropic::check(http, &endpoints.anthropic, anthropic::Auth::OAuth, token).await
            }
            CheckRequest::OpenAi { api_key } => {
                openai::check(http, &endpoints.openai, openai::Flavour::OpenAi, api_key).await
            }
            CheckRequest::Mistral { api_key } => {
                openai::check(http, &endpoints.mistral, openai::Flavour::Mistral, api_key).await
            }
            CheckRequest::OpenAiCompatible { base_url, api_key } => {
                openai::check_compatible(http, base_url, api_key).await
            }
            CheckRequest::Gemini { api_key } => {
                gemini::check(http, &endpoints.gemini, api_key).await
            }
            CheckRequest::GitHub { token } => github::check(http, &endpoints.github, token).await,
        };
        // Provider text was redacted on the way in; this pass covers every other part of the
        // sentence (a login, a model count), so the guarantee does not rest on each module.
        outcome.message = crate::outcome::redact_exact(&outcome.message, request.secret());
        tracing::info!(
            provider = request.provider(),
            verdict = ?outcome.verdict,
            "credential checked"
        );
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let requests = [
            CheckRequest::Hetzner {
                token: "hcloud-secret-1",
            },
            CheckRequest::Scaleway {
                secret_key: "scw-secret-2",
                project_id: "11111111-2222-3333-4444-555555555555",
                zone: "fr-par-1",
            },
            CheckRequest::OpenAiCompatible {
                base_url: "http://user:url-secret-3@localhost/v1",
                api_key: "compat-secret-4",
            },
            CheckRequest::ClaudeOauth {
                token: "sk-ant-oat01-secret-5",
            },
        ];
        for request in requests {
            let debug = format!("{request:?}");
            assert!(!debug.contains("secret-"), "{debug}");
            assert!(debug.contains("<redacted>"), "{debug}");
        }
        let scaleway = format!("{:?}", requests[1]);
        assert!(scaleway.contains("fr-par-1"), "{scaleway}");
    }

    #[test]
    fn checks_can_run_on_any_thread() {
        fn assert_send_sync<T: Send + Sync>(_: &T) {}
        fn assert_send<T: Send>(_: T) {}
        let checker = Checker::new(Endpoints::production()).unwrap();
        assert_send_sync(&checker);
        // Tauri commands and spawned tasks need the future to be Send; it is never polled here.
        assert_send(checker.check(CheckRequest::GitHub { token: "t" }));
    }

    #[test]
    fn checker_builds_with_production_endpoints() {
        let checker = Checker::new(Endpoints::production()).unwrap();
        assert_eq!(checker.endpoints(), &Endpoints::production());
    }
}

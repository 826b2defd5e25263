//! Fakes of the provider APIs SAM Desktop talks to (Hetzner, Scaleway, Anthropic, OpenAI,
//! Gemini, Mistral, GitHub and an OpenAI-compatible server), for tests only.
//!
//! One local HTTP server answers for every provider under a path prefix
//! (`/hetzner/v1/...`, `/github/...`), in the wire format each provider publishes: the same
//! JSON shapes, status codes and rate-limit headers, so code tested against it meets no
//! surprises in production. Tests decide which keys each fake accepts and inject faults
//! (status codes, rate limits, delays, broken JSON, dropped connections).
//!
//! The Hetzner Cloud and Scaleway fakes are stateful: SSH keys and servers created through
//! them persist for the life of the [`FakeProviders`], move through their providers' states as
//! they are polled, and can be inspected ([`FakeProviders::cloud_servers`]) or seeded
//! ([`FakeProviders::seed_server`]) by the test. Knobs make the provider run out of capacity
//! or quota, boot slowly, or exhaust its rate limit.
//!
//! This crate must never be a dependency of anything shipped, never reach the network beyond
//! 127.0.0.1, and never need the reference specs under `/work/shared` at run time. The fakes
//! never record header values or bodies, so a secret sent to them ends up nowhere.

mod cloud;
mod fakes;
mod forge;
pub mod git;
mod leaks;
pub mod models;
mod server;
pub mod sshd;

pub use cloud::{FakeServer, FakeSshKey, SeedServer};
pub use forge::{FakeGitHub, FakePull, ForgeRequest};
pub use leaks::files_containing;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use tokio::task::JoinHandle;
use url::Url;

/// A provider the fake server impersonates. Each lives under its own path prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Hetzner Cloud, under `/hetzner/v1`.
    Hetzner,
    /// Scaleway Instances, under `/scaleway`.
    Scaleway,
    /// Anthropic (API keys and Claude subscription OAuth tokens), under `/anthropic`.
    Anthropic,
    /// OpenAI, under `/openai/v1`.
    OpenAi,
    /// Google Gemini (Generative Language API), under `/gemini`.
    Gemini,
    /// Mistral, under `/mistral/v1`.
    Mistral,
    /// GitHub REST API, under `/github`.
    GitHub,
    /// A self-hosted OpenAI-compatible server (Ollama, vLLM, LiteLLM), under `/compatible/v1`.
    Compatible,
}

impl Provider {
    /// Every provider, in a fixed order, for tests that run the same scenario against each.
    pub const ALL: [Provider; 8] = [
        Provider::Hetzner,
        Provider::Scaleway,
        Provider::Anthropic,
        Provider::OpenAi,
        Provider::Gemini,
        Provider::Mistral,
        Provider::GitHub,
        Provider::Compatible,
    ];

    /// The first path segment this provider is served under.
    pub fn path_prefix(self) -> &'static str {
        match self {
            Provider::Hetzner => "hetzner",
            Provider::Scaleway => "scaleway",
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai",
            Provider::Gemini => "gemini",
            Provider::Mistral => "mistral",
            Provider::GitHub => "github",
            Provider::Compatible => "compatible",
        }
    }

    fn from_prefix(segment: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.path_prefix() == segment)
    }

    /// The base URL path, below the server root, that SAM's endpoint settings point at.
    fn base_path(self) -> &'static str {
        match self {
            Provider::Hetzner => "hetzner/v1",
            Provider::Scaleway => "scaleway",
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai/v1",
            Provider::Gemini => "gemini",
            Provider::Mistral => "mistral/v1",
            Provider::GitHub => "github",
            Provider::Compatible => "compatible/v1",
        }
    }
}

/// A way to make requests to one provider fail: every following one
/// ([`FakeProviders::inject`]) or the next few matching ones ([`FakeProviders::inject_next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and the provider's error body for it.
    Status(u16),
    /// Answer 429 with the provider's rate-limit headers, saying the limit resets in
    /// `reset_secs` (as `Retry-After`, or as the provider's own reset header).
    RateLimited {
        /// Seconds until the provider would accept requests again.
        reset_secs: u64,
    },
    /// Wait this long, then answer normally: for client timeouts.
    Delay(Duration),
    /// Answer 200 with a truncated JSON body.
    MalformedJson,
    /// Close the connection without a response; the request is not applied. The client sees
    /// a transport error (connection closed before the response), as when a proxy or the
    /// provider's front end drops it.
    DropConnection,
    /// Apply the request (a server really is created), then close the connection without a
    /// response. The client cannot tell this from [`Fault::DropConnection`]: it must look
    /// before retrying a create, or it makes a duplicate.
    DropAfterApply,
}

/// One request the fake server received. Header values and bodies are deliberately not kept,
/// so recording a request never stores a secret that was sent in a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The provider whose prefix the path starts with; `None` for paths outside every prefix.
    pub provider: Option<Provider>,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The full path, prefix included, e.g. `/hetzner/v1/locations`.
    pub path: String,
    /// The raw query string, if any. A test can check that no secret leaked into a URL.
    pub query: Option<String>,
    /// Header names, lower case, in the order received.
    pub header_names: Vec<String>,
    /// The status the fake answered with; 0 when it closed the connection instead
    /// ([`Fault::DropConnection`], [`Fault::DropAfterApply`]).
    pub status: u16,
}

/// What a fake accepts a secret as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Grant {
    /// Full access (Hetzner read & write; GitHub classic token with `repo`).
    Full,
    /// Hetzner read-only token; GitHub classic token with `read:user` only.
    ReadOnly,
    /// GitHub token with these OAuth scopes; `None` is a fine-grained token (no scopes header).
    GitHubScopes(Option<String>),
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) grants: HashMap<Provider, HashMap<String, Grant>>,
    pub(crate) faults: HashMap<Provider, Fault>,
    /// One-shot faults, in the order injected; each is dropped once used up.
    pub(crate) next_faults: Vec<fakes::NextFault>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) hetzner: fakes::hetzner::State,
    pub(crate) scaleway: fakes::scaleway::State,
}

#[derive(Debug, Default)]
pub(crate) struct Shared {
    inner: Mutex<Inner>,
}

impl Shared {
    /// A panicking test thread poisons the lock; the state is still consistent (every update
    /// is a single insert or push), so later assertions keep working.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running fake of every provider, on `127.0.0.1` and a free port. Dropping it stops the
/// server.
#[derive(Debug)]
pub struct FakeProviders {
    base: Url,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl FakeProviders {
    /// Starts the server on the current tokio runtime.
    ///
    /// # Errors
    /// When no local port can be bound.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding the fake provider server to 127.0.0.1")?;
        let address = listener
            .local_addr()
            .context("reading the fake server's address")?;
        let base = Url::parse(&format!("http://{address}/"))
            .context("building the fake server's base URL")?;
        let shared = Arc::new(Shared::default());
        let router = server::router(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::warn!(%error, "fake provider server stopped");
            }
        });
        Ok(Self {
            base,
            shared,
            server,
        })
    }

    /// The server root, e.g. `http://127.0.0.1:41234/`.
    pub fn base_url(&self) -> Url {
        self.base.clone()
    }

    fn url_for(&self, provider: Provider) -> Url {
        let mut url = self.base.clone();
        url.set_path(provider.base_path());
        url
    }

    /// `http://127.0.0.1:PORT/hetzner/v1`
    pub fn hetzner_url(&self) -> Url {
        self.url_for(Provider::Hetzner)
    }

    /// `http://127.0.0.1:PORT/scaleway`
    pub fn scaleway_url(&self) -> Url {
        self.url_for(Provider::Scaleway)
    }

    /// `http://127.0.0.1:PORT/anthropic`
    pub fn anthropic_url(&self) -> Url {
        self.url_for(Provider::Anthropic)
    }

    /// `http://127.0.0.1:PORT/openai/v1`
    pub fn openai_url(&self) -> Url {
        self.url_for(Provider::OpenAi)
    }

    /// `http://127.0.0.1:PORT/gemini`
    pub fn gemini_url(&self) -> Url {
        self.url_for(Provider::Gemini)
    }

    /// `http://127.0.0.1:PORT/mistral/v1`
    pub fn mistral_url(&self) -> Url {
        self.url_for(Provider::Mistral)
    }

    /// `http://127.0.0.1:PORT/github`
    pub fn github_url(&self) -> Url {
        self.url_for(Provider::GitHub)
    }

    /// `http://127.0.0.1:PORT/compatible/v1`, the base URL a user would type for a self-hosted
    /// OpenAI-compatible server.
    pub fn compatible_url(&self) -> Url {
        self.url_for(Provider::Compatible)
    }

    /// The `SAM_*` endpoint variables pointing at this server, for child processes (the CLI,
    /// the app) under test. The compatible server has no variable: users type its URL.
    pub fn endpoints_env(&self) -> Vec<(String, String)> {
        [
            ("SAM_HETZNER_API_URL", self.hetzner_url()),
            ("SAM_SCALEWAY_API_URL", self.scaleway_url()),
            ("SAM_ANTHROPIC_BASE_URL", self.anthropic_url()),
            ("SAM_OPENAI_BASE_URL", self.openai_url()),
            ("SAM_GEMINI_BASE_URL", self.gemini_url()),
            ("SAM_MISTRAL_BASE_URL", self.mistral_url()),
            ("SAM_GITHUB_API_URL", self.github_url()),
        ]
        .into_iter()
        .map(|(name, url)| (name.to_owned(), url.to_string()))
        .collect()
    }

    /// Makes `secret` a valid key with full access. For Anthropic, a secret starting with
    /// `sk-ant-oat` is a Claude subscription OAuth token (sent as a bearer token with the
    /// OAuth beta header); anything else is an API key (sent as `x-api-key`). For GitHub it is a
    /// classic token with the `repo` scope.
    pub fn accept(&self, provider: Provider, secret: &str) {
        self.grant(provider, secret, Grant::Full);
    }

    /// Makes `secret` valid but read-only: a Hetzner read-only token (GET works, POST is
    /// 403 `forbidden`) or a GitHub classic token with only `read:user`.
    ///
    /// # Panics
    /// For other providers, which have no read-only keys: a test asking for one is wrong.
    pub fn accept_read_only(&self, provider: Provider, secret: &str) {
        assert!(
            matches!(provider, Provider::Hetzner | Provider::GitHub),
            "{provider:?} has no read-only keys; only Hetzner and GitHub do"
        );
        self.grant(provider, secret, Grant::ReadOnly);
    }

    /// Makes `token` a valid GitHub token with exactly these OAuth scopes (`"repo, workflow"`),
    /// or a fine-grained token when `scopes` is `None` (GitHub then sends no scopes header).
    pub fn accept_github(&self, token: &str, scopes: Option<&str>) {
        self.grant(
            Provider::GitHub,
            token,
            Grant::GitHubScopes(scopes.map(str::to_owned)),
        );
    }

    fn grant(&self, provider: Provider, secret: &str, grant: Grant) {
        self.shared
            .lock()
            .grants
            .entry(provider)
            .or_default()
            .insert(secret.to_owned(), grant);
    }

    /// Makes every following request to `provider` fail this way, until [`Self::clear_faults`].
    /// A new fault for the same provider replaces the old one. Faults from
    /// [`Self::inject_next`] take precedence while they last.
    pub fn inject(&self, provider: Provider, fault: Fault) {
        self.shared.lock().faults.insert(provider, fault);
    }

    /// Removes every injected fault, standing and one-shot.
    pub fn clear_faults(&self) {
        let mut inner = self.shared.lock();
        inner.faults.clear();
        inner.next_faults.clear();
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }
}

impl Drop for FakeProviders {
    fn drop(&mut self) {
        self.server.abort();
    }
}

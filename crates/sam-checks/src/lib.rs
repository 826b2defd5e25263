//! Checks a provider credential (a Hetzner or Scaleway token, an AI provider's API key, a
//! Claude subscription token, a GitHub token) with the cheapest authenticated call that
//! provider offers, and turns the answer into a [`Verdict`] plus one sentence telling the user
//! what happened and what to do.
//!
//! A check must never change anything at the provider (the Hetzner write-permission probe is a
//! request that fails validation, so nothing is created), never follow a redirect (custom auth
//! headers would go with it), and never let a secret reach a message, a log line, an error or a
//! URL: provider text is redacted and truncated before it is shown. This crate never stores
//! credentials and never imports `tauri`.
//!
//! Each provider's JSON is known by its own module only; everything else sees [`CheckOutcome`].

mod anthropic;
mod checker;
mod endpoints;
mod gemini;
mod github;
mod hetzner;
mod http;
mod openai;
mod outcome;
mod scaleway;
mod stored;

pub use checker::{CheckRequest, Checker, CheckerError};
pub use endpoints::{EndpointError, Endpoints};
pub use outcome::{CheckOutcome, Verdict};
pub use stored::check_stored;

/// HTTP helpers every provider client needs (path joining, secret headers, rate-limit headers),
/// shared with the cloud provider clients in `sam-cloud`.
pub mod http_util {
    pub use crate::http::{header_u64, join, retry_after_secs, seconds_until, secret_header};
}

//! One error type for every provider, with variants the UI can act on. Each says whether it is
//! worth retrying: transient failures get exponential backoff, permanent ones surface at once.
//!
//! Messages are written for the user and never carry a credential: provider text passes
//! through [`provider_text`] (redacted and truncated) before it is stored here.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// The providers SAM provisions on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Hetzner Cloud.
    Hetzner,
    /// Scaleway Instances.
    Scaleway,
}

impl ProviderKind {
    /// Every provider, in a fixed order.
    pub const ALL: [ProviderKind; 2] = [ProviderKind::Hetzner, ProviderKind::Scaleway];

    /// The lower-case name used on the command line and in stored records.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Hetzner => "hetzner",
            ProviderKind::Scaleway => "scaleway",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProviderKind::Hetzner => "Hetzner",
            ProviderKind::Scaleway => "Scaleway",
        })
    }
}

/// Why a request got no usable answer at the transport level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportFailure {
    /// A connect, read or total timeout ran out.
    Timeout,
    /// No connection: DNS, refused, no route, TLS.
    Connect,
    /// The connection broke off before the whole answer arrived.
    Interrupted,
    /// The answer was larger than any this client expects.
    TooLarge,
}

impl TransportFailure {
    fn describe(self) -> &'static str {
        match self {
            TransportFailure::Timeout => "did not answer in time",
            TransportFailure::Connect => "could not be reached",
            TransportFailure::Interrupted => "dropped the connection mid-answer",
            TransportFailure::TooLarge => "sent an answer far larger than expected",
        }
    }
}

/// What went wrong talking to a cloud provider.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CloudError {
    /// The token or key is wrong, revoked or expired.
    #[error(
        "{provider} rejected the credential: it is wrong, revoked or expired. Add a new one in Settings → Credentials."
    )]
    Unauthorized {
        /// The provider.
        provider: ProviderKind,
    },
    /// The credential is valid but may not do this (a read-only Hetzner token, a Scaleway key
    /// without InstancesFullAccess).
    #[error("{provider} refused the request: {message}")]
    Forbidden {
        /// The provider.
        provider: ProviderKind,
        /// What the provider said, redacted.
        message: String,
    },
    /// Too many requests; the provider will accept more after `retry_after`.
    #[error("{provider} is rate-limiting SAM{}", retry_hint(*.retry_after))]
    RateLimited {
        /// The provider.
        provider: ProviderKind,
        /// How long until the provider accepts requests again, when it said.
        retry_after: Option<Duration>,
    },
    /// The project is at a limit (servers, cores, IPs).
    #[error(
        "Your {provider} project is at its limit: {message}. Delete unused servers or ask {provider} to raise the limit."
    )]
    QuotaExceeded {
        /// The provider.
        provider: ProviderKind,
        /// What the provider said, redacted.
        message: String,
    },
    /// No capacity for this size in any of the allowed locations.
    #[error(
        "{provider} has no capacity for this size in {locations}: {message}. Try another size or location."
    )]
    Capacity {
        /// The provider.
        provider: ProviderKind,
        /// The locations tried, comma-separated.
        locations: String,
        /// What the provider said last, redacted.
        message: String,
    },
    /// The thing asked for does not exist.
    #[error("{provider}: {what} was not found")]
    NotFound {
        /// The provider.
        provider: ProviderKind,
        /// What was looked for.
        what: String,
    },
    /// The provider refused the request's content, or SAM refused it before sending.
    #[error("{provider} refused the request: {message}")]
    InvalidRequest {
        /// The provider.
        provider: ProviderKind,
        /// The provider's message (redacted) or SAM's own.
        message: String,
    },
    /// No complete answer arrived.
    #[error("{provider} {}", .failure.describe())]
    Transport {
        /// The provider.
        provider: ProviderKind,
        /// What happened on the wire.
        failure: TransportFailure,
    },
    /// The provider failed on its side (5xx), or the resource is busy (locked, transient
    /// state, conflict).
    #[error("{provider} had a problem ({status}): {message}")]
    Unavailable {
        /// The provider.
        provider: ProviderKind,
        /// The HTTP status.
        status: u16,
        /// What the provider said, redacted.
        message: String,
    },
    /// The answer was not JSON at all (cut off, an HTML error page): usually a proxy or an
    /// incident, so worth a retry.
    #[error("{provider} sent an unreadable answer ({detail})")]
    Malformed {
        /// The provider.
        provider: ProviderKind,
        /// Where parsing stopped; never contains the body.
        detail: String,
    },
    /// Valid JSON in a shape SAM does not know: the API changed. Retrying will not help.
    #[error(
        "{provider} answered in a shape SAM does not understand ({detail}). SAM may need an update."
    )]
    UnexpectedResponse {
        /// The provider.
        provider: ProviderKind,
        /// What was missing or wrong; never contains the body.
        detail: String,
    },
    /// An asynchronous operation (an action, a boot) did not finish by its deadline.
    #[error("{provider}: {what} did not finish within {} s", .waited.as_secs())]
    Timeout {
        /// The provider.
        provider: ProviderKind,
        /// What was waited for.
        what: String,
        /// How long SAM waited.
        waited: Duration,
    },
    /// An asynchronous operation finished with an error.
    #[error("{provider}: {what} failed: {message}")]
    ActionFailed {
        /// The provider.
        provider: ProviderKind,
        /// The operation.
        what: String,
        /// The provider's reason, redacted.
        message: String,
    },
}

fn retry_hint(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(": try again in {} s", wait.as_secs().max(1)),
        None => ": try again in a minute".to_owned(),
    }
}

impl CloudError {
    /// Worth retrying the same request after a wait.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CloudError::RateLimited { .. }
                | CloudError::Transport { .. }
                | CloudError::Unavailable { .. }
                | CloudError::Malformed { .. }
        )
    }

    /// A stable machine-readable code for the UI and `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            CloudError::Unauthorized { .. } => "unauthorized",
            CloudError::Forbidden { .. } => "forbidden",
            CloudError::RateLimited { .. } => "rate_limited",
            CloudError::QuotaExceeded { .. } => "quota_exceeded",
            CloudError::Capacity { .. } => "capacity",
            CloudError::NotFound { .. } => "not_found",
            CloudError::InvalidRequest { .. } => "invalid_request",
            CloudError::Transport { .. } => "transport",
            CloudError::Unavailable { .. } => "unavailable",
            CloudError::Malformed { .. } => "malformed_response",
            CloudError::UnexpectedResponse { .. } => "unexpected_response",
            CloudError::Timeout { .. } => "timeout",
            CloudError::ActionFailed { .. } => "action_failed",
        }
    }

    /// The provider the error came from.
    pub fn provider(&self) -> ProviderKind {
        match self {
            CloudError::Unauthorized { provider }
            | CloudError::Forbidden { provider, .. }
            | CloudError::RateLimited { provider, .. }
            | CloudError::QuotaExceeded { provider, .. }
            | CloudError::Capacity { provider, .. }
            | CloudError::NotFound { provider, .. }
            | CloudError::InvalidRequest { provider, .. }
            | CloudError::Transport { provider, .. }
            | CloudError::Unavailable { provider, .. }
            | CloudError::Malformed { provider, .. }
            | CloudError::UnexpectedResponse { provider, .. }
            | CloudError::Timeout { provider, .. }
            | CloudError::ActionFailed { provider, .. } => *provider,
        }
    }

    pub(crate) fn invalid(provider: ProviderKind, message: impl Into<String>) -> Self {
        CloudError::InvalidRequest {
            provider,
            message: message.into(),
        }
    }

    pub(crate) fn unexpected(provider: ProviderKind, detail: impl Into<String>) -> Self {
        CloudError::UnexpectedResponse {
            provider,
            detail: detail.into(),
        }
    }
}

/// Longest provider message kept, in characters.
const MAX_PROVIDER_TEXT: usize = 300;

/// Provider text made safe to show: control characters become spaces, anything that looks
/// like a credential (a long run of token characters) is masked, and it is cut to a length a
/// dialog can hold. Providers do echo request values in messages; a token must not come back
/// that way.
pub(crate) fn provider_text(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let redacted: Vec<String> = cleaned
        .split(' ')
        .map(|word| {
            let token_like = word.len() >= 32
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '='));
            if token_like {
                "[redacted]".to_owned()
            } else {
                word.to_owned()
            }
        })
        .collect();
    let joined = redacted.join(" ");
    let trimmed = joined.trim();
    if trimmed.chars().count() > MAX_PROVIDER_TEXT {
        let cut: String = trimmed.chars().take(MAX_PROVIDER_TEXT).collect();
        format!("{cut}…")
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_masks_token_like_words_and_controls() {
        let token = "hcloud_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let text = provider_text(&format!("bad token {token}\nnext line"));
        assert!(!text.contains(token), "{text}");
        assert_eq!(text, "bad token [redacted] next line");
        // A UUID (Scaleway ids) is 36 characters of hex and dashes: masked too, which only
        // costs an id in a message.
        assert!(provider_text(&"x".repeat(1000)).chars().count() <= MAX_PROVIDER_TEXT + 1);
    }

    #[test]
    fn transient_classification() {
        let p = ProviderKind::Hetzner;
        assert!(
            CloudError::Unavailable {
                provider: p,
                status: 503,
                message: String::new()
            }
            .is_transient()
        );
        assert!(!CloudError::Unauthorized { provider: p }.is_transient());
        assert!(
            !CloudError::UnexpectedResponse {
                provider: p,
                detail: String::new()
            }
            .is_transient()
        );
        assert!(
            !CloudError::Capacity {
                provider: p,
                locations: String::new(),
                message: String::new()
            }
            .is_transient()
        );
    }

    #[test]
    fn provider_names_round_trip() {
        for p in ProviderKind::ALL {
            assert_eq!(ProviderKind::parse(p.as_str()), Some(p));
        }
        assert_eq!(ProviderKind::parse("aws"), None);
    }
}

//! The one HTTP client per provider: timeouts, no redirects, a secret auth header, bounded
//! bodies, rate-limit bookkeeping, and retries of transient failures with backoff.
//!
//! Retries depend on what a repeat could do. Reads, deletes and `PATCH`/`PUT` are retried on
//! every transient failure. A `POST` that creates something is retried only when the provider
//! certainly did not act on it (a 429, or no connection at all): whether a dropped `POST`
//! created a server is for the caller to find out by label before it tries again.

use std::error::Error as _;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use sam_checks::http_util::{header_u64, join, retry_after_secs, seconds_until};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{CloudError, ProviderKind, TransportFailure};
use crate::timing::Timing;

/// The largest answer read: Hetzner's biggest page (50 server types with prices for every
/// location) is well under 1 MiB.
const MAX_BODY_BYTES: usize = 8 << 20;

/// An answer with its whole body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// A reply with no headers, for parsers under test.
    pub(crate) fn bare(status: u16, body: &[u8]) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: HeaderMap::new(),
            body: body.to_vec(),
        }
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    None,
    Json(serde_json::Value),
    /// `text/plain` (Scaleway user-data).
    Text(String),
}

/// Whether a request may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Sending it twice does what sending it once does.
    Safe,
    /// Only if the provider certainly did not act on it.
    IfNotApplied,
}

/// One request: method, path below the base, query, body.
#[derive(Debug, Clone)]
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) path: &'a [&'a str],
    pub(crate) query: Vec<(&'a str, String)>,
    pub(crate) body: Body,
    pub(crate) repeat: Repeat,
}

impl<'a> Request<'a> {
    pub(crate) fn get(path: &'a [&'a str]) -> Self {
        Self {
            method: Method::GET,
            path,
            query: Vec::new(),
            body: Body::None,
            repeat: Repeat::Safe,
        }
    }

    pub(crate) fn new(method: Method, path: &'a [&'a str], body: Body, repeat: Repeat) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            body,
            repeat,
        }
    }

    pub(crate) fn query(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }
}

/// Turns a non-success answer into the provider's error.
pub(crate) type ErrorParser = fn(ProviderKind, &Reply, u64) -> CloudError;

/// The rate-limit budget a provider last reported (Hetzner's `RateLimit-Remaining` and
/// `RateLimit-Reset`).
#[derive(Debug, Clone, Copy)]
struct Budget {
    remaining: u64,
    reset_unix: u64,
}

/// One provider's API client.
#[derive(Debug)]
pub(crate) struct Api {
    provider: ProviderKind,
    client: reqwest::Client,
    base: Url,
    auth: (HeaderName, HeaderValue),
    timing: Timing,
    errors: ErrorParser,
    budget: Mutex<Option<Budget>>,
}

impl Api {
    /// A client for `base`, authenticating every request with `auth` (a header marked
    /// sensitive so that no HTTP log ever prints it).
    pub(crate) fn new(
        provider: ProviderKind,
        base: Url,
        auth: (HeaderName, HeaderValue),
        timing: Timing,
        errors: ErrorParser,
    ) -> Result<Self, CloudError> {
        let client = reqwest::Client::builder()
            .connect_timeout(timing.connect_timeout)
            .read_timeout(timing.read_timeout)
            .timeout(timing.request_timeout)
            // A redirect would carry X-Auth-Token wherever it points (reqwest strips only
            // Authorization across hosts). Neither API redirects.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("sam-desktop/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| CloudError::Transport {
                provider,
                failure: TransportFailure::Connect,
            })?;
        Ok(Self {
            provider,
            client,
            base,
            auth,
            timing,
            errors,
            budget: Mutex::new(None),
        })
    }

    pub(crate) fn timing(&self) -> &Timing {
        &self.timing
    }

    /// Sends `request` and parses a success with `parse`, retrying as [`Repeat`] allows.
    /// A parse failure of a body that is not JSON at all counts as transient (a cut-off
    /// answer); valid JSON of an unknown shape does not.
    pub(crate) async fn send<T>(
        &self,
        request: &Request<'_>,
        parse: impl Fn(&Reply) -> Result<T, CloudError>,
    ) -> Result<T, CloudError> {
        let attempts = self.timing.backoff.attempts.max(1);
        let mut retry = 0;
        loop {
            let outcome = match self.once(request).await {
                Ok(reply) if reply.status.is_success() => parse(&reply),
                Ok(reply) => Err((self.errors)(self.provider, &reply, now_unix())),
                Err(error) => Err(error),
            };
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if retry + 1 >= attempts || !self.may_repeat(request, &error) {
                return Err(error);
            }
            let wait = match &error {
                CloudError::RateLimited { retry_after, .. } => {
                    let wait = retry_after.unwrap_or(self.timing.backoff.max);
                    if wait > self.timing.max_rate_limit_wait {
                        return Err(error);
                    }
                    wait
                }
                _ => self.timing.backoff.delay(retry),
            };
            tracing::info!(
                provider = %self.provider,
                code = error.code(),
                wait_ms = wait.as_millis() as u64,
                retry = retry + 1,
                "retrying a cloud request"
            );
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// Sends `request` and parses the JSON answer as `T`.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        request: &Request<'_>,
    ) -> Result<T, CloudError> {
        self.send(request, |reply| parse_json(self.provider, &reply.body))
            .await
    }

    fn may_repeat(&self, request: &Request<'_>, error: &CloudError) -> bool {
        if !error.is_transient() {
            return false;
        }
        match request.repeat {
            Repeat::Safe => true,
            Repeat::IfNotApplied => matches!(
                error,
                CloudError::RateLimited { .. }
                    | CloudError::Transport {
                        failure: TransportFailure::Connect,
                        ..
                    }
            ),
        }
    }

    /// One try: waits out an exhausted rate-limit budget first, then sends.
    async fn once(&self, request: &Request<'_>) -> Result<Reply, CloudError> {
        self.wait_for_budget().await?;
        let url = join(&self.base, request.path).ok_or_else(|| {
            CloudError::invalid(self.provider, "the API address cannot take a path")
        })?;
        let mut builder = self
            .client
            .request(request.method.clone(), url)
            .header(self.auth.0.clone(), self.auth.1.clone());
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        builder = match &request.body {
            Body::None => builder,
            Body::Json(value) => builder.json(value),
            Body::Text(text) => builder
                .header(reqwest::header::CONTENT_TYPE, "text/plain")
                .body(text.clone()),
        };
        let mut response = builder.send().await.map_err(|e| self.transport(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        self.note_budget(&headers);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(&e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(CloudError::Transport {
                    provider: self.provider,
                    failure: TransportFailure::TooLarge,
                });
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(
            provider = %self.provider,
            method = %request.method,
            path = request.path.first().copied().unwrap_or_default(),
            status = status.as_u16(),
            "cloud request answered"
        );
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    fn transport(&self, error: &reqwest::Error) -> CloudError {
        let failure = if error.is_timeout() {
            TransportFailure::Timeout
        } else if error.is_connect() {
            TransportFailure::Connect
        } else {
            TransportFailure::Interrupted
        };
        // Logged without the URL: the query may carry a project id, and keeping URLs out of
        // logs is the habit that makes the day a secret does end up in one harmless.
        let mut chain = String::new();
        let mut source = error.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::info!(provider = %self.provider, ?failure, cause = %chain, "cloud request failed");
        CloudError::Transport {
            provider: self.provider,
            failure,
        }
    }

    fn note_budget(&self, headers: &HeaderMap) {
        let (Some(remaining), Some(reset_unix)) = (
            header_u64(headers, "ratelimit-remaining"),
            header_u64(headers, "ratelimit-reset"),
        ) else {
            return;
        };
        if let Ok(mut budget) = self.budget.lock() {
            *budget = Some(Budget {
                remaining,
                reset_unix,
            });
        }
    }

    /// With no requests left until the reset, waits for it rather than spending a request on
    /// a 429 — unless the wait is longer than the configured maximum.
    async fn wait_for_budget(&self) -> Result<(), CloudError> {
        let exhausted = self
            .budget
            .lock()
            .ok()
            .and_then(|b| *b)
            .filter(|b| b.remaining == 0);
        let Some(budget) = exhausted else {
            return Ok(());
        };
        let wait = Duration::from_secs(seconds_until(budget.reset_unix, now_unix()));
        if wait > self.timing.max_rate_limit_wait {
            return Err(CloudError::RateLimited {
                provider: self.provider,
                retry_after: Some(wait),
            });
        }
        if !wait.is_zero() {
            tracing::info!(provider = %self.provider, wait_s = wait.as_secs(), "rate-limit budget spent; waiting for the reset");
            tokio::time::sleep(wait).await;
        }
        if let Ok(mut slot) = self.budget.lock() {
            *slot = None;
        }
        Ok(())
    }
}

/// Seconds since the UNIX epoch.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// How long a 429 says to wait.
pub(crate) fn retry_after(reply: &Reply, now: u64) -> Option<Duration> {
    retry_after_secs(&reply.headers, now).map(Duration::from_secs)
}

/// Parses a JSON body: a syntax error (a cut-off or non-JSON answer) is
/// [`CloudError::Malformed`], worth a retry; JSON of an unknown shape is
/// [`CloudError::UnexpectedResponse`]. Neither message quotes the body.
pub(crate) fn parse_json<T: DeserializeOwned>(
    provider: ProviderKind,
    body: &[u8],
) -> Result<T, CloudError> {
    serde_json::from_slice(body).map_err(|e| {
        let at = format!("line {} column {}", e.line(), e.column());
        if e.is_syntax() || e.is_eof() {
            CloudError::Malformed {
                provider,
                detail: format!("not valid JSON at {at}"),
            }
        } else {
            // serde's data errors can quote a value ("invalid type: string \"x\""): keep only
            // the field path part, which names our expectations, not their data.
            let message = e.to_string();
            let detail = message
                .split_once(": ")
                .map_or("an unexpected value", |(kind, _)| kind)
                .to_owned();
            let detail = if message.starts_with("missing field") {
                message
                    .split(" at line")
                    .next()
                    .unwrap_or("missing field")
                    .to_owned()
            } else {
                detail
            };
            CloudError::UnexpectedResponse {
                provider,
                detail: format!("{detail} at {at}"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        servers: Vec<u32>,
    }

    #[test]
    fn syntax_errors_are_malformed_and_shape_errors_unexpected() {
        let p = ProviderKind::Hetzner;
        assert!(matches!(
            parse_json::<Shape>(p, br#"{"servers": [1, "#),
            Err(CloudError::Malformed { .. })
        ));
        assert!(matches!(
            parse_json::<Shape>(p, b"<html>502</html>"),
            Err(CloudError::Malformed { .. })
        ));
        let Err(CloudError::UnexpectedResponse { detail, .. }) =
            parse_json::<Shape>(p, br#"{"servers": ["secret-value"]}"#)
        else {
            panic!("expected an unexpected-shape error");
        };
        assert!(!detail.contains("secret-value"), "{detail}");
        let Err(CloudError::UnexpectedResponse { detail, .. }) =
            parse_json::<Shape>(p, br#"{"other": 1}"#)
        else {
            panic!("expected an unexpected-shape error");
        };
        assert!(detail.contains("missing field `servers`"), "{detail}");
    }
}

//! The one HTTP client behind every check, and the parts of HTTP all providers share: reading
//! a bounded body, classifying transport failures, rate-limit headers.

use std::error::Error as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{RequestBuilder, StatusCode};
use url::Url;

/// No check needs more: the largest answer (Gemini's model list) is about 100 KiB.
const MAX_BODY_BYTES: usize = 4 << 20;

/// Values of a reset header at or above this are UNIX times (Hetzner, GitHub); below, a number
/// of seconds (the IETF `RateLimit-Reset`). No provider asks for a 30-year wait.
const UNIX_TIME_THRESHOLD: u64 = 1_000_000_000;

/// An answer with its whole body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Why no answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The connect or total timeout ran out.
    Timeout,
    /// The host refused the connection: nothing listens on that port.
    Refused,
    /// No connection for another reason: DNS, no route, TLS.
    Connect,
    /// The body went past [`MAX_BODY_BYTES`].
    TooLarge,
    /// The connection broke off mid-answer.
    Interrupted,
}

impl Failure {
    fn of(error: &reqwest::Error) -> Self {
        // Logged without the URL: the URL is not secret, but keeping URLs out of logs is the
        // rule that makes the day a secret does end up in one harmless.
        tracing::debug!(error = %DisplayWithoutUrl(error), "credential check request failed");
        if error.is_timeout() {
            Failure::Timeout
        } else if error.is_connect() {
            if refused(error) {
                Failure::Refused
            } else {
                Failure::Connect
            }
        } else {
            Failure::Interrupted
        }
    }
}

struct DisplayWithoutUrl<'a>(&'a reqwest::Error);

impl std::fmt::Display for DisplayWithoutUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut source = self.0.source();
        write!(
            f,
            "{}",
            if self.0.is_timeout() {
                "timeout"
            } else {
                "request error"
            }
        )?;
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}

fn refused(error: &reqwest::Error) -> bool {
    let mut source = error.source();
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        source = error.source();
    }
    false
}

/// The shared client: connection pool, timeouts, no redirects.
#[derive(Debug)]
pub(crate) struct Http {
    client: reqwest::Client,
    total: Duration,
    clock: fn() -> SystemTime,
}

impl Http {
    pub(crate) fn new(connect: Duration, total: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect)
            .timeout(total)
            // A redirect would carry x-api-key, X-Auth-Token and x-goog-api-key to wherever it
            // points (reqwest strips only Authorization across hosts). Checks never need one.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("sam-desktop")
            .build()?;
        Ok(Self {
            client,
            total,
            clock: SystemTime::now,
        })
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub(crate) fn total_timeout(&self) -> Duration {
        self.total
    }

    pub(crate) fn now_unix(&self) -> u64 {
        (self.clock)()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    }

    /// Sends `request` and reads the whole body, up to [`MAX_BODY_BYTES`].
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Reply, Failure> {
        let mut response = request.send().await.map_err(|e| Failure::of(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| Failure::of(&e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(Failure::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(status = status.as_u16(), "credential check answered");
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// `base` with `segments` appended as path segments (percent-encoded, so a zone name cannot
/// walk up the path). `None` for a base that cannot take a path.
pub fn join(base: &Url, segments: &[&str]) -> Option<Url> {
    let mut url = base.clone();
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(segments);
    Some(url)
}

/// A header value carrying a secret, marked sensitive so that HTTP tracing never prints it.
/// `None` when the secret has bytes no header may carry (checked earlier by
/// [`crate::outcome::Subject::check_shape`]).
pub fn secret_header(value: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(value).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// A header as a whole number; a fractional value is rounded up.
pub fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    value.parse::<u64>().ok().or_else(|| {
        let secs = value.parse::<f64>().ok()?;
        // `as` saturates for floats, so an absurd value becomes u64::MAX, not garbage.
        (secs.is_finite() && secs >= 0.0).then(|| secs.ceil() as u64)
    })
}

/// Seconds until `reset`, which is either a UNIX time or already a number of seconds.
pub fn seconds_until(reset: u64, now_unix: u64) -> u64 {
    if reset >= UNIX_TIME_THRESHOLD {
        reset.saturating_sub(now_unix)
    } else {
        reset
    }
}

/// When to retry after a 429, from `Retry-After` (seconds; the HTTP-date form is ignored) or
/// `RateLimit-Reset`.
pub fn retry_after_secs(headers: &HeaderMap, now_unix: u64) -> Option<u64> {
    header_u64(headers, "retry-after").or_else(|| {
        header_u64(headers, "ratelimit-reset").map(|reset| seconds_until(reset, now_unix))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_wins() {
        let h = headers(&[("retry-after", "12"), ("ratelimit-reset", "1700000100")]);
        assert_eq!(retry_after_secs(&h, 1_700_000_000), Some(12));
    }

    #[test]
    fn ratelimit_reset_as_unix_time_or_delta() {
        let h = headers(&[("ratelimit-reset", "1700000100")]);
        assert_eq!(retry_after_secs(&h, 1_700_000_000), Some(100));
        let h = headers(&[("ratelimit-reset", "1699999000")]);
        assert_eq!(retry_after_secs(&h, 1_700_000_000), Some(0));
        let h = headers(&[("ratelimit-reset", "42")]);
        assert_eq!(retry_after_secs(&h, 1_700_000_000), Some(42));
    }

    #[test]
    fn unparsable_or_missing_retry_is_none() {
        let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after_secs(&h, 0), None);
        assert_eq!(retry_after_secs(&HeaderMap::new(), 0), None);
        let h = headers(&[("retry-after", "1.2")]);
        assert_eq!(retry_after_secs(&h, 0), Some(2));
    }

    #[test]
    fn join_appends_below_a_prefixed_base() {
        let base = Url::parse("http://127.0.0.1:1/hetzner/v1").unwrap();
        assert_eq!(
            join(&base, &["locations"]).unwrap().as_str(),
            "http://127.0.0.1:1/hetzner/v1/locations"
        );
        let base = Url::parse("https://api.scaleway.com").unwrap();
        assert_eq!(
            join(&base, &["instance", "v1", "zones", "../x", "products"])
                .unwrap()
                .as_str(),
            "https://api.scaleway.com/instance/v1/zones/..%2Fx/products"
        );
        let base = Url::parse("http://localhost:11434/v1/").unwrap();
        assert_eq!(
            join(&base, &["models"]).unwrap().as_str(),
            "http://localhost:11434/v1/models"
        );
    }

    #[test]
    fn secret_headers_are_sensitive() {
        assert!(secret_header("Bearer abc").unwrap().is_sensitive());
        assert!(secret_header("abc\n").is_none());
    }
}

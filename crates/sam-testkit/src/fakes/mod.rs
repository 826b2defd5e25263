//! The provider fakes. Each module knows one provider's wire format; this one routes a call to
//! the right fake and applies injected faults first, as a real outage would.

mod anthropic;
pub(crate) mod clock;
pub(crate) mod fingerprint;
mod gemini;
mod github;
pub(crate) mod hetzner;
mod openai;
pub(crate) mod query;
pub(crate) mod scaleway;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::{Fault, Grant, Inner, Provider};

/// One request, as the fakes see it: the path is below the provider's prefix.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

impl Call<'_> {
    pub(crate) fn query(&self) -> query::Query {
        query::Query::parse(self.query)
    }

    /// The path's segments, without the leading slash: `/v1/servers/7` → `["v1", "servers", "7"]`.
    /// A trailing slash adds no empty segment.
    pub(crate) fn segments(&self) -> Vec<&str> {
        self.path
            .trim_start_matches('/')
            .trim_end_matches('/')
            .split('/')
            .collect()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The token of `Authorization: <scheme> <token>` when the scheme is one of `schemes`
    /// (compared case-insensitively, as HTTP says).
    pub(crate) fn authorization(&self, schemes: &[&str]) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        schemes
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme))
            .then(|| token.trim())
    }

    pub(crate) fn bearer(&self) -> Option<&str> {
        self.authorization(&["Bearer"])
    }
}

/// A fake's answer, before it becomes an HTTP response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    headers: Vec<(&'static str, String)>,
    content_type: Option<&'static str>,
    body: String,
    /// Send nothing: close the connection instead (see [`Fault::DropConnection`]).
    pub(crate) connection_dropped: bool,
}

impl Reply {
    pub(crate) fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status: status_code(status),
            headers: Vec::new(),
            content_type: Some("application/json"),
            body: body.to_string(),
            connection_dropped: false,
        }
    }

    /// A status with no body, e.g. 204.
    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status: status_code(status),
            headers: Vec::new(),
            content_type: None,
            body: String::new(),
            connection_dropped: false,
        }
    }

    /// This reply is never sent: the connection is closed instead.
    fn dropped(self) -> Self {
        Self {
            connection_dropped: true,
            ..self
        }
    }

    pub(crate) fn text(status: u16, body: &str) -> Self {
        Self {
            status: status_code(status),
            headers: Vec::new(),
            content_type: Some("text/plain; charset=utf-8"),
            body: body.to_owned(),
            connection_dropped: false,
        }
    }

    /// 200 with a JSON content type and a body cut off mid-object, as a proxy that drops the
    /// connection, or a provider mid-incident, produces.
    fn malformed() -> Self {
        Self {
            status: StatusCode::OK,
            headers: Vec::new(),
            content_type: Some("application/json"),
            body: r#"{"data": [{"id": "trunc"#.to_owned(),
            connection_dropped: false,
        }
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: impl ToString) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    pub(crate) fn into_response(self) -> Response {
        if self.connection_dropped {
            // A body that fails before its first byte makes hyper abandon the connection
            // before the buffered head is flushed: the client sees the connection close
            // without any response, as after a crash or a dropped proxy connection.
            let failing = futures_util::stream::once(std::future::ready(Err::<Bytes, _>(
                std::io::Error::other("connection dropped by an injected fault"),
            )));
            return Response::new(Body::from_stream(failing));
        }
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if let Some(content_type) = self.content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.append(name, value);
            }
        }
        response
    }
}

/// An out-of-range status injected by a test becomes 500, still a server error.
fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Seconds since the UNIX epoch, for the providers' reset headers.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// What `provider` makes of `secret`, if it accepts it.
pub(crate) fn grant_of(inner: &Inner, provider: Provider, secret: Option<&str>) -> Option<Grant> {
    inner.grants.get(&provider)?.get(secret?).cloned()
}

/// A fault for the next `times` matching requests, from [`crate::FakeProviders::inject_next`].
#[derive(Debug, Clone)]
pub(crate) struct NextFault {
    pub(crate) provider: Provider,
    /// Upper-case method, or `None` for any.
    pub(crate) method: Option<String>,
    pub(crate) path_prefix: String,
    pub(crate) fault: Fault,
    pub(crate) times: u32,
}

/// The test-set knobs of a cloud fake (Hetzner, Scaleway).
#[derive(Debug)]
pub(crate) struct CloudKnobs {
    /// `(location, server type)` pairs that are out of capacity; `None` is every type.
    pub(crate) unavailable: BTreeSet<(String, Option<String>)>,
    pub(crate) server_quota: Option<usize>,
    pub(crate) boot_polls: u32,
}

impl Default for CloudKnobs {
    fn default() -> Self {
        Self {
            unavailable: BTreeSet::new(),
            server_quota: None,
            boot_polls: 1,
        }
    }
}

impl CloudKnobs {
    pub(crate) fn set_capacity(
        &mut self,
        location: &str,
        server_type: Option<&str>,
        unavailable: bool,
    ) {
        let key = (location.to_owned(), server_type.map(str::to_owned));
        if unavailable {
            self.unavailable.insert(key);
        } else if server_type.is_none() {
            // Restoring a whole location restores each type in it too.
            self.unavailable.retain(|(l, _)| l != location);
        } else {
            self.unavailable.remove(&key);
        }
    }

    pub(crate) fn is_unavailable(&self, location: &str, server_type: &str) -> bool {
        self.unavailable.iter().any(|(l, t)| {
            l == location
                && t.as_deref()
                    .is_none_or(|t| t.eq_ignore_ascii_case(server_type))
        })
    }

    /// Whether one more server would go over the quota, given `count` existing ones.
    pub(crate) fn over_quota(&self, count: usize) -> bool {
        self.server_quota.is_some_and(|max| count >= max)
    }
}

/// Takes one use of the first `inject_next` rule matching this call, if any.
fn take_next_fault(inner: &mut Inner, provider: Provider, call: &Call<'_>) -> Option<Fault> {
    let index = inner.next_faults.iter().position(|rule| {
        rule.provider == provider
            && rule.times > 0
            && rule
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(call.method.as_str()))
            && call.path.starts_with(&rule.path_prefix)
    })?;
    let rule = inner.next_faults.get_mut(index)?;
    rule.times -= 1;
    let fault = rule.fault;
    if rule.times == 0 {
        inner.next_faults.remove(index);
    }
    Some(fault)
}

/// Answers one call: an exhausted Hetzner budget first, then an injected fault (one-shot rules
/// before standing ones), else the provider's normal behaviour. Returns the delay to wait
/// before sending, for [`Fault::Delay`].
pub(crate) fn answer(
    inner: &mut Inner,
    provider: Provider,
    call: &Call<'_>,
) -> (Reply, Option<Duration>) {
    let now = unix_now();
    if provider == Provider::Hetzner
        && let Some(reply) = hetzner::over_budget(inner, now)
    {
        return (reply, None);
    }
    let fault =
        take_next_fault(inner, provider, call).or_else(|| inner.faults.get(&provider).copied());
    let (reply, delay) = match fault {
        Some(Fault::Status(status)) => (error_for(provider, status), None),
        Some(Fault::RateLimited { reset_secs }) => (rate_limited(provider, reset_secs), None),
        Some(Fault::MalformedJson) => (Reply::malformed(), None),
        Some(Fault::Delay(delay)) => (normal(inner, provider, call), Some(delay)),
        Some(Fault::DropConnection) => (Reply::empty(500).dropped(), None),
        Some(Fault::DropAfterApply) => (normal(inner, provider, call).dropped(), None),
        None => (normal(inner, provider, call), None),
    };
    // Hetzner and GitHub send their rate-limit headers on every response, errors included.
    let reply = match provider {
        Provider::Hetzner => hetzner::with_rate_limit_headers(reply, inner, fault, now),
        Provider::GitHub => github::with_rate_limit_headers(reply, fault, now),
        _ => reply,
    };
    (reply, delay)
}

fn normal(inner: &mut Inner, provider: Provider, call: &Call<'_>) -> Reply {
    match provider {
        Provider::Hetzner => hetzner::answer(inner, call),
        Provider::Scaleway => scaleway::answer(inner, call),
        Provider::Anthropic => anthropic::answer(inner, call),
        Provider::OpenAi => openai::answer(inner, call, openai::Flavour::OpenAi),
        Provider::Mistral => openai::answer(inner, call, openai::Flavour::Mistral),
        Provider::Compatible => openai::answer(inner, call, openai::Flavour::Compatible),
        Provider::Gemini => gemini::answer(inner, call),
        Provider::GitHub => github::answer(inner, call),
    }
}

fn error_for(provider: Provider, status: u16) -> Reply {
    match provider {
        Provider::Hetzner => hetzner::error_for_status(status),
        Provider::Scaleway => scaleway::error_for_status(status),
        Provider::Anthropic => anthropic::error_for_status(status),
        Provider::OpenAi => openai::error_for_status(status, openai::Flavour::OpenAi),
        Provider::Mistral => openai::error_for_status(status, openai::Flavour::Mistral),
        Provider::Compatible => openai::error_for_status(status, openai::Flavour::Compatible),
        Provider::Gemini => gemini::error_for_status(status),
        Provider::GitHub => github::error_for_status(status),
    }
}

fn rate_limited(provider: Provider, reset_secs: u64) -> Reply {
    match provider {
        Provider::Hetzner => hetzner::rate_limited(),
        Provider::Scaleway => scaleway::rate_limited(reset_secs),
        Provider::Anthropic => anthropic::rate_limited(reset_secs),
        Provider::OpenAi => openai::rate_limited(reset_secs, openai::Flavour::OpenAi),
        Provider::Mistral => openai::rate_limited(reset_secs, openai::Flavour::Mistral),
        Provider::Compatible => openai::rate_limited(reset_secs, openai::Flavour::Compatible),
        Provider::Gemini => gemini::rate_limited(reset_secs),
        Provider::GitHub => github::rate_limited(),
    }
}

//! The provider fakes. Each module knows one provider's wire format; this one routes a call to
//! the right fake and applies injected faults first, as a real outage would.

mod anthropic;
mod gemini;
mod github;
mod hetzner;
mod openai;
mod scaleway;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::{Fault, Grant, Inner, Provider};

/// One request, as the fakes see it: the path is below the provider's prefix.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

impl Call<'_> {
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
    content_type: &'static str,
    body: String,
}

impl Reply {
    pub(crate) fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status: status_code(status),
            headers: Vec::new(),
            content_type: "application/json",
            body: body.to_string(),
        }
    }

    pub(crate) fn text(status: u16, body: &str) -> Self {
        Self {
            status: status_code(status),
            headers: Vec::new(),
            content_type: "text/plain; charset=utf-8",
            body: body.to_owned(),
        }
    }

    /// 200 with a JSON content type and a body cut off mid-object, as a proxy that drops the
    /// connection, or a provider mid-incident, produces.
    fn malformed() -> Self {
        Self {
            status: StatusCode::OK,
            headers: Vec::new(),
            content_type: "application/json",
            body: r#"{"data": [{"id": "trunc"#.to_owned(),
        }
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: impl ToString) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    pub(crate) fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
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

/// Answers one call: an injected fault first, else the provider's normal behaviour. Returns the
/// delay to wait before sending, for [`Fault::Delay`].
pub(crate) fn answer(
    inner: &mut Inner,
    provider: Provider,
    call: &Call<'_>,
) -> (Reply, Option<Duration>) {
    let fault = inner.faults.get(&provider).copied();
    let now = unix_now();
    let (reply, delay) = match fault {
        Some(Fault::Status(status)) => (error_for(provider, status), None),
        Some(Fault::RateLimited { reset_secs }) => (rate_limited(provider, reset_secs), None),
        Some(Fault::MalformedJson) => (Reply::malformed(), None),
        Some(Fault::Delay(delay)) => (normal(inner, provider, call), Some(delay)),
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

fn normal(inner: &Inner, provider: Provider, call: &Call<'_>) -> Reply {
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

//! The OpenAI wire format, spoken by OpenAI itself, Mistral and self-hosted compatible servers:
//! bearer keys, `GET /v1/models` returning `{"object":"list","data":[...]}`. They differ in
//! their errors, which is what [`Flavour`] captures.

use axum::http::Method;
use serde_json::json;

use super::{Call, Reply, grant_of};
use crate::{Inner, Provider};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavour {
    /// `{"error":{"message","type","param","code"}}`; a wrong key is echoed masked.
    OpenAi,
    /// `{"message","request_id"}` for authentication errors, OpenAI-like `object: error`
    /// bodies otherwise.
    Mistral,
    /// OpenAI-shaped errors, but the wrong key is echoed in full, as some self-hosted proxies do:
    /// clients must redact it.
    Compatible,
}

impl Flavour {
    fn provider(self) -> Provider {
        match self {
            Flavour::OpenAi => Provider::OpenAi,
            Flavour::Mistral => Provider::Mistral,
            Flavour::Compatible => Provider::Compatible,
        }
    }
}

fn openai_error(status: u16, message: &str, kind: &str, code: Option<&str>) -> Reply {
    Reply::json(
        status,
        json!({ "error": { "message": message, "type": kind, "param": null, "code": code } }),
    )
}

fn mistral_error(status: u16, message: &str, kind: &str) -> Reply {
    let body = if status == 401 {
        json!({ "message": message, "request_id": "0f1c9e5d6a7b4c3d" })
    } else {
        json!({ "object": "error", "message": message, "type": kind, "param": null, "code": null })
    };
    Reply::json(status, body)
}

pub(super) fn error_for_status(status: u16, flavour: Flavour) -> Reply {
    let (message, kind, code) = match status {
        401 => (
            "Incorrect API key provided.",
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
        403 => (
            "You are not allowed to access this resource.",
            "invalid_request_error",
            None,
        ),
        404 => ("Not found.", "invalid_request_error", None),
        429 => (
            "Rate limit reached for requests.",
            "requests",
            Some("rate_limit_exceeded"),
        ),
        500..=599 => (
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        ),
        _ => ("Request failed.", "invalid_request_error", None),
    };
    match flavour {
        Flavour::Mistral => mistral_error(
            status,
            if status == 401 {
                "Unauthorized"
            } else {
                message
            },
            kind,
        ),
        Flavour::OpenAi | Flavour::Compatible => openai_error(status, message, kind, code),
    }
}

pub(super) fn rate_limited(reset_secs: u64, flavour: Flavour) -> Reply {
    let reply = error_for_status(429, flavour).with_header("retry-after", reset_secs);
    match flavour {
        Flavour::OpenAi => reply
            .with_header("x-ratelimit-limit-requests", 500)
            .with_header("x-ratelimit-remaining-requests", 0)
            .with_header("x-ratelimit-reset-requests", format!("{reset_secs}s")),
        Flavour::Mistral | Flavour::Compatible => reply,
    }
}

/// OpenAI's own masking: the first three and last four characters survive.
fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars.iter().take(3).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

pub(super) fn answer(inner: &Inner, call: &Call<'_>, flavour: Flavour) -> Reply {
    let key = call.bearer();
    if grant_of(inner, flavour.provider(), key).is_none() {
        return match (flavour, key) {
            (Flavour::OpenAi, Some(key)) => openai_error(
                401,
                &format!(
                    "Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys.",
                    masked(key)
                ),
                "invalid_request_error",
                Some("invalid_api_key"),
            ),
            (Flavour::Compatible, Some(key)) => openai_error(
                401,
                &format!("Invalid API key: {key}"),
                "invalid_request_error",
                Some("invalid_api_key"),
            ),
            (Flavour::OpenAi | Flavour::Compatible, None) => openai_error(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
                None,
            ),
            (Flavour::Mistral, _) => error_for_status(401, flavour),
        };
    }
    match (call.method, call.path) {
        (&Method::GET, "/v1/models") => models(flavour),
        _ => error_for_status(404, flavour),
    }
}

fn models(flavour: Flavour) -> Reply {
    let (ids, owner): (&[&str], &str) = match flavour {
        Flavour::OpenAi => (&["gpt-5", "gpt-5-mini", "gpt-4.1", "o3"], "openai"),
        Flavour::Mistral => (
            &[
                "mistral-large-latest",
                "codestral-latest",
                "devstral-medium-latest",
            ],
            "mistralai",
        ),
        Flavour::Compatible => (&["qwen3-coder:30b", "llama3.1:8b"], "library"),
    };
    let data: Vec<_> = ids
        .iter()
        .map(|id| json!({ "id": id, "object": "model", "created": 1_735_689_600, "owned_by": owner }))
        .collect();
    Reply::json(200, json!({ "object": "list", "data": data }))
}

//! Anthropic (`https://api.anthropic.com`): API keys in `x-api-key`, Claude subscription OAuth
//! tokens (`sk-ant-oat...`) as bearer tokens with `anthropic-beta: oauth-2025-04-20`; every
//! request needs `anthropic-version`. Errors are
//! `{"type":"error","error":{"type","message"},"request_id"}`.

use axum::http::Method;
use serde_json::json;

use super::{Call, Reply, grant_of};
use crate::{Inner, Provider};

const OAUTH_PREFIX: &str = "sk-ant-oat";
const OAUTH_BETA: &str = "oauth-2025-04-20";

fn error(status: u16, kind: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "type": "error",
            "error": { "type": kind, "message": message },
            "request_id": "req_011CTestkitFake",
        }),
    )
    .with_header("request-id", "req_011CTestkitFake")
}

pub(super) fn error_for_status(status: u16) -> Reply {
    let (kind, message) = match status {
        400 => ("invalid_request_error", "invalid request"),
        401 => ("authentication_error", "invalid x-api-key"),
        403 => (
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        404 => ("not_found_error", "Not found"),
        413 => (
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        ),
        429 => (
            "rate_limit_error",
            "Number of requests has exceeded your rate limit.",
        ),
        529 => ("overloaded_error", "Overloaded"),
        _ => ("api_error", "Internal server error"),
    };
    error(status, kind, message)
}

pub(super) fn rate_limited(reset_secs: u64) -> Reply {
    error_for_status(429)
        .with_header("retry-after", reset_secs)
        .with_header("anthropic-ratelimit-requests-limit", 50)
        .with_header("anthropic-ratelimit-requests-remaining", 0)
}

pub(super) fn answer(inner: &Inner, call: &Call<'_>) -> Reply {
    if call.header("anthropic-version").is_none() {
        return error(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
        );
    }
    let accepted = if let Some(key) = call.header("x-api-key") {
        !key.starts_with(OAUTH_PREFIX) && grant_of(inner, Provider::Anthropic, Some(key)).is_some()
    } else if let Some(token) = call.bearer() {
        let beta = call
            .header("anthropic-beta")
            .is_some_and(|value| value.split(',').any(|b| b.trim() == OAUTH_BETA));
        if !beta {
            return error(
                401,
                "authentication_error",
                "OAuth authentication is currently not supported.",
            );
        }
        if !token.starts_with(OAUTH_PREFIX)
            || grant_of(inner, Provider::Anthropic, Some(token)).is_none()
        {
            return error(401, "authentication_error", "Invalid bearer token");
        }
        true
    } else {
        return error(401, "authentication_error", "x-api-key header is required");
    };
    if !accepted {
        return error_for_status(401);
    }
    match (call.method, call.path) {
        (&Method::GET, "/v1/models") => models(),
        _ => error_for_status(404),
    }
}

fn models() -> Reply {
    let models = [
        (
            "claude-opus-4-1-20250805",
            "Claude Opus 4.1",
            "2025-08-05T00:00:00Z",
        ),
        (
            "claude-sonnet-4-5-20250929",
            "Claude Sonnet 4.5",
            "2025-09-29T00:00:00Z",
        ),
        (
            "claude-haiku-4-5-20251001",
            "Claude Haiku 4.5",
            "2025-10-01T00:00:00Z",
        ),
    ];
    let data: Vec<_> = models
        .iter()
        .map(|&(id, name, created)| {
            json!({ "type": "model", "id": id, "display_name": name, "created_at": created })
        })
        .collect();
    Reply::json(
        200,
        json!({
            "data": data,
            "has_more": false,
            "first_id": models.first().map(|m| m.0),
            "last_id": models.last().map(|m| m.0),
        }),
    )
}

//! Google Gemini (`https://generativelanguage.googleapis.com`): the key in `x-goog-api-key`;
//! errors are `{"error":{"code","message","status","details"}}` with gRPC status names. A wrong
//! key is 400 `INVALID_ARGUMENT` with reason `API_KEY_INVALID`, not 401; a rate limit says when
//! to retry in a `RetryInfo` detail rather than a header.
//!
//! Unlike Google, this fake ignores a `?key=` query parameter on purpose: a client that puts
//! the key in the URL (where it ends up in logs) fails against it.

use axum::http::Method;
use serde_json::{Value, json};

use super::{Call, Reply, grant_of};
use crate::{Inner, Provider};

fn error(status: u16, message: &str, grpc_status: &str, details: Value) -> Reply {
    let mut error = json!({ "code": status, "message": message, "status": grpc_status });
    if !details.is_null() {
        error["details"] = details;
    }
    Reply::json(status, json!({ "error": error }))
}

pub(super) fn error_for_status(status: u16) -> Reply {
    let (message, grpc_status) = crate::models::gemini::status_text(status);
    error(status, message, grpc_status, Value::Null)
}

pub(super) fn rate_limited(reset_secs: u64) -> Reply {
    error(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        "RESOURCE_EXHAUSTED",
        json!([{
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": format!("{reset_secs}s"),
        }]),
    )
}

pub(super) fn answer(inner: &Inner, call: &Call<'_>) -> Reply {
    let key = call.header("x-goog-api-key");
    if key.is_none() {
        return error(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            "PERMISSION_DENIED",
            Value::Null,
        );
    }
    if grant_of(inner, Provider::Gemini, key).is_none() {
        return error(
            400,
            "API key not valid. Please pass a valid API key.",
            "INVALID_ARGUMENT",
            json!([{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": { "service": "generativelanguage.googleapis.com" },
            }]),
        );
    }
    match (call.method, call.path) {
        (&Method::GET, "/v1beta/models") => models(),
        _ => error_for_status(404),
    }
}

fn models() -> Reply {
    let models = [
        ("gemini-2.5-pro", "Gemini 2.5 Pro"),
        ("gemini-2.5-flash", "Gemini 2.5 Flash"),
        ("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite"),
        ("text-embedding-004", "Text Embedding 004"),
    ];
    let models: Vec<_> = models
        .iter()
        .map(|&(id, name)| {
            json!({
                "name": format!("models/{id}"),
                "version": "001",
                "displayName": name,
                "inputTokenLimit": 1_048_576,
                "outputTokenLimit": 65_536,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            })
        })
        .collect();
    Reply::json(200, json!({ "models": models }))
}

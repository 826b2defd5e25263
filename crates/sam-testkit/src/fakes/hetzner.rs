//! Hetzner Cloud (`https://api.hetzner.cloud/v1`): bearer tokens, errors as
//! `{"error":{"code","message","details"}}`, and `RateLimit-Limit/Remaining/Reset` on every
//! response, the reset being a UNIX time. The limit is 3600 requests an hour per project,
//! refilled one a second.

use axum::http::Method;
use serde_json::{Value, json};

use super::{Call, Reply, grant_of};
use crate::{Fault, Grant, Inner, Provider};

const HOURLY_LIMIT: u64 = 3600;

fn error(status: u16, code: &str, message: &str, details: Value) -> Reply {
    Reply::json(
        status,
        json!({ "error": { "code": code, "message": message, "details": details } }),
    )
}

pub(super) fn error_for_status(status: u16) -> Reply {
    let (code, message) = match status {
        400 => ("invalid_input", "invalid input"),
        401 => ("unauthorized", "unable to authenticate"),
        403 => ("forbidden", "insufficient permissions for this request"),
        404 => ("not_found", "resource not found"),
        409 => ("conflict", "resource has changed"),
        423 => ("locked", "resource is locked"),
        429 => (
            "rate_limit_exceeded",
            "limit of 3600 requests per hour reached",
        ),
        503 => ("unavailable", "service temporarily unavailable"),
        504 => ("timeout", "request timed out"),
        500..=599 => ("server_error", "internal server error"),
        _ => ("error", "request failed"),
    };
    error(status, code, message, Value::Null)
}

/// Hetzner sends no `Retry-After`: clients read `RateLimit-Reset`, added by
/// [`with_rate_limit_headers`].
pub(super) fn rate_limited() -> Reply {
    error_for_status(429)
}

pub(super) fn with_rate_limit_headers(
    reply: Reply,
    inner: &mut Inner,
    fault: Option<Fault>,
    now: u64,
) -> Reply {
    let (remaining, reset) = match fault {
        Some(Fault::RateLimited { reset_secs }) => (0, now.saturating_add(reset_secs)),
        _ => {
            inner.hetzner_requests = inner.hetzner_requests.saturating_add(1);
            let remaining = HOURLY_LIMIT.saturating_sub(inner.hetzner_requests);
            // Fully refilled after one second per used request.
            (remaining, now.saturating_add(HOURLY_LIMIT - remaining))
        }
    };
    reply
        .with_header("ratelimit-limit", HOURLY_LIMIT)
        .with_header("ratelimit-remaining", remaining)
        .with_header("ratelimit-reset", reset)
}

pub(super) fn answer(inner: &Inner, call: &Call<'_>) -> Reply {
    let Some(grant) = grant_of(inner, Provider::Hetzner, call.bearer()) else {
        return error_for_status(401);
    };
    match (call.method, call.path) {
        (&Method::GET, "/v1/locations") => locations(),
        (&Method::POST, "/v1/ssh_keys") => create_ssh_key(&grant, call.body),
        _ => error_for_status(404),
    }
}

fn locations() -> Reply {
    let locations = [
        (
            1,
            "fsn1",
            "Falkenstein DC Park 1",
            "DE",
            "Falkenstein",
            50.47612,
            12.370071,
            "eu-central",
        ),
        (
            2,
            "nbg1",
            "Nuremberg DC Park 1",
            "DE",
            "Nuremberg",
            49.452102,
            11.076665,
            "eu-central",
        ),
        (
            3,
            "hel1",
            "Helsinki DC Park 1",
            "FI",
            "Helsinki",
            60.169855,
            24.938379,
            "eu-central",
        ),
        (
            4,
            "ash",
            "Ashburn, VA",
            "US",
            "Ashburn, VA",
            39.045821,
            -77.487073,
            "us-east",
        ),
        (
            5,
            "hil",
            "Hillsboro, OR",
            "US",
            "Hillsboro, OR",
            45.54222,
            -122.95133,
            "us-west",
        ),
        (
            6,
            "sin",
            "Singapore",
            "SG",
            "Singapore",
            1.283333,
            103.833333,
            "ap-southeast",
        ),
    ];
    let locations: Vec<Value> = locations
        .iter()
        .map(|&(id, name, description, country, city, latitude, longitude, zone)| {
            json!({
                "id": id, "name": name, "description": description, "country": country,
                "city": city, "latitude": latitude, "longitude": longitude, "network_zone": zone,
            })
        })
        .collect();
    let total = locations.len();
    Reply::json(
        200,
        json!({
            "locations": locations,
            "meta": { "pagination": {
                "page": 1, "per_page": 25, "previous_page": null, "next_page": null,
                "last_page": 1, "total_entries": total,
            } },
        }),
    )
}

/// Permission is checked before the body is validated, which is what lets a client tell a
/// read-only token (403 `forbidden`) from a read-write one (400 `invalid_input`) without
/// creating anything.
fn create_ssh_key(grant: &Grant, body: &[u8]) -> Reply {
    if *grant == Grant::ReadOnly {
        return error_for_status(403);
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return error(
            400,
            "json_error",
            "invalid JSON in request body",
            Value::Null,
        );
    };
    let missing: Vec<Value> = ["name", "public_key"]
        .into_iter()
        .filter(|field| !fields.get(*field).is_some_and(Value::is_string))
        .map(|field| json!({ "name": field, "messages": ["Missing data for required field."] }))
        .collect();
    if !missing.is_empty() {
        return error(
            400,
            "invalid_input",
            "invalid input in fields 'name', 'public_key'",
            json!({ "fields": missing }),
        );
    }
    Reply::json(
        201,
        json!({ "ssh_key": {
            "id": 2323, "name": fields.get("name"), "public_key": fields.get("public_key"),
            "fingerprint": "b7:2f:30:a0:2f:6c:58:6c:21:04:58:61:ba:06:3b:2f",
            "labels": {}, "created": "2016-01-30T23:55:00Z",
        } }),
    )
}

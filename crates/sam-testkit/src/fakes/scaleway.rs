//! Scaleway Instances (`https://api.scaleway.com/instance/v1`): the secret key goes in
//! `X-Auth-Token`; errors are flat objects with a `type` and a `message`
//! (`denied_authentication`, `permissions_denied`, `invalid_arguments`, ...).

use axum::http::Method;
use serde_json::{Value, json};

use super::{Call, Reply, grant_of};
use crate::{Inner, Provider};

/// The zones the Instance API lists for `{zone}`.
const ZONES: [&str; 10] = [
    "fr-par-1", "fr-par-2", "fr-par-3", "nl-ams-1", "nl-ams-2", "nl-ams-3", "pl-waw-1", "pl-waw-2",
    "pl-waw-3", "it-mil-1",
];

pub(super) fn error_for_status(status: u16) -> Reply {
    let body = match status {
        401 => json!({
            "message": "authentication is denied", "method": "api_key",
            "reason": "invalid_argument", "type": "denied_authentication",
        }),
        403 => json!({
            "message": "insufficient permissions", "type": "permissions_denied",
            "details": [{ "resource": "instance_server_type", "action": "read" }],
        }),
        404 => json!({ "message": "resource is not found", "type": "not_found" }),
        429 => json!({ "message": "too many requests", "type": "too_many_requests" }),
        500..=599 => json!({ "message": "internal error", "type": "internal_error" }),
        _ => json!({ "message": "request failed", "type": "unknown_error" }),
    };
    Reply::json(status, body)
}

pub(super) fn rate_limited(reset_secs: u64) -> Reply {
    error_for_status(429).with_header("retry-after", reset_secs)
}

pub(super) fn answer(inner: &Inner, call: &Call<'_>) -> Reply {
    if grant_of(inner, Provider::Scaleway, call.header("x-auth-token")).is_none() {
        return error_for_status(401);
    }
    let zone = call
        .path
        .strip_prefix("/instance/v1/zones/")
        .and_then(|rest| rest.strip_suffix("/products/servers"));
    match (call.method, zone) {
        (&Method::GET, Some(zone)) if ZONES.contains(&zone) => server_types(),
        (&Method::GET, Some(_)) => Reply::json(
            400,
            json!({
                "message": "invalid argument(s)", "type": "invalid_arguments",
                "details": [{
                    "argument_name": "zone", "reason": "constraint",
                    "help_message": "must be one of the zones of the Instance API",
                }],
            }),
        ),
        _ => error_for_status(404),
    }
}

fn server_types() -> Reply {
    let types = [
        ("DEV1-S", 2, 2, 0.0088),
        ("DEV1-M", 3, 4, 0.0198),
        ("PLAY2-NANO", 2, 4, 0.014),
        ("PRO2-XXS", 2, 8, 0.055),
    ];
    let servers: serde_json::Map<String, Value> = types
        .iter()
        .map(|&(name, ncpus, ram_gib, hourly_price)| {
            let ram: u64 = ram_gib * 1024 * 1024 * 1024;
            let server = json!({
                "hourly_price": hourly_price,
                "alt_names": [],
                "ncpus": ncpus,
                "ram": ram,
                "arch": "x86_64",
                "gpu": 0,
                "volumes_constraint": { "min_size": 0, "max_size": 0 },
                "network": { "interfaces": [], "ipv6_support": true },
                "capabilities": { "block_storage": true, "boot_types": ["local"] },
            });
            (name.to_owned(), server)
        })
        .collect();
    let total = servers.len();
    Reply::json(200, json!({ "servers": servers })).with_header("x-total-count", total)
}

//! Scaleway: the Instance API (`/instance/v1/zones/{zone}/...`), the Marketplace
//! (`/marketplace/v2/local-images`) and IAM SSH keys (`/iam/v1alpha1/ssh-keys`). The secret
//! key goes in `X-Auth-Token`; errors are flat objects with a `type` and a `message`
//! (`denied_authentication`, `permissions_denied`, `invalid_arguments`, ...). Lists take
//! `page`/`per_page` and report the total in `X-Total-Count`.
//!
//! The published descriptions give no error bodies; the shapes here follow what Scaleway's
//! own SDKs parse (`invalid_arguments` with `details[{argument_name, reason, help_message}]`,
//! `quotas_exceeded` with `details[{resource, quota, current}]`, `transient_state` with
//! `resource`, `resource_id` and `current_state`, `out_of_stock` with `resource`).

mod catalog;
mod iam;
mod servers;

use std::hash::{BuildHasher, RandomState};

use axum::http::Method;
use serde_json::{Value, json};

use super::query::{Page, Query};
use super::{Call, CloudKnobs, Reply, grant_of};
use crate::{FakeServer, FakeSshKey, Inner, Provider, SeedServer};

/// The zones the Instance API lists for `{zone}`.
const ZONES: [&str; 10] = [
    "fr-par-1", "fr-par-2", "fr-par-3", "nl-ams-1", "nl-ams-2", "nl-ams-3", "pl-waw-1", "pl-waw-2",
    "pl-waw-3", "it-mil-1",
];

/// The fake's one organization. As on Scaleway, its default project has the same ID.
const ORGANIZATION_ID: &str = "5e1c9a3d-2b4f-4c6e-8a0d-1f3b5c7d9e2a";

/// Everything the Scaleway fake remembers between requests.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) knobs: CloudKnobs,
    ids: Ids,
    servers: servers::Servers,
    ssh_keys: iam::SshKeys,
}

impl State {
    /// Every new server (Hetzner) or boot (Scaleway) gets this public IPv4.
    pub(crate) fn set_fixed_ipv4(&mut self, ip: Option<String>) {
        self.servers.fixed_ipv4 = ip;
    }
}

impl State {
    pub(crate) fn servers(&self) -> Vec<FakeServer> {
        self.servers.snapshot()
    }

    pub(crate) fn ssh_keys(&self) -> Vec<FakeSshKey> {
        self.ssh_keys.snapshot()
    }

    pub(crate) fn seed(&mut self, seed: SeedServer) -> String {
        self.servers.seed(seed, &mut self.ids)
    }
}

/// UUIDs for new resources: random per fake (so IDs never repeat across tests), unique within
/// one.
#[derive(Debug, Default)]
struct Ids {
    hasher: RandomState,
    issued: u64,
}

impl Ids {
    fn next(&mut self) -> String {
        self.issued += 1;
        uuid(
            self.hasher.hash_one((self.issued, 'h')),
            self.hasher.hash_one((self.issued, 'l')),
        )
    }
}

/// A version-4-shaped UUID from 128 bits.
fn uuid(high: u64, low: u64) -> String {
    let high = (high & !0xf000) | 0x4000;
    let low = (low & !(0xc << 60)) | (0x8 << 60);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}

/// A UUID fixed by `parts`, for catalogue entries that must keep their IDs between runs.
fn stable_uuid(parts: &[&str]) -> String {
    // FNV-1a, twice with different offsets.
    let fnv = |offset: u64| {
        parts
            .iter()
            .flat_map(|p| p.bytes().chain([0]))
            .fold(offset, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            })
    };
    uuid(fnv(0xcbf2_9ce4_8422_2325), fnv(0x6c62_272e_07bb_0142))
}

fn is_uuid(value: &str) -> bool {
    let lengths: Vec<usize> = value.split('-').map(str::len).collect();
    lengths == [8, 4, 4, 4, 12] && value.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

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
        409 => json!({ "message": "resource is in a transient state", "type": "transient_state" }),
        412 => {
            json!({ "message": "resource is out of stock", "type": "out_of_stock", "resource": "instance_server" })
        }
        429 => json!({ "message": "too many requests", "type": "too_many_requests" }),
        500..=599 => json!({ "message": "internal error", "type": "internal_error" }),
        _ => json!({ "message": "request failed", "type": "unknown_error" }),
    };
    Reply::json(status, body)
}

pub(super) fn rate_limited(reset_secs: u64) -> Reply {
    error_for_status(429).with_header("retry-after", reset_secs)
}

/// 400 `invalid_arguments` for one argument. `reason` is `required`, `format` or
/// `constraint`, as in Scaleway's SDKs.
fn invalid_argument(argument: &str, reason: &str, help: &str) -> Reply {
    Reply::json(
        400,
        json!({
            "message": "invalid argument(s)", "type": "invalid_arguments",
            "details": [{ "argument_name": argument, "reason": reason, "help_message": help }],
        }),
    )
}

fn invalid_zone() -> Reply {
    invalid_argument(
        "zone",
        "constraint",
        "must be one of the zones of the Instance API",
    )
}

pub(super) fn answer(inner: &mut Inner, call: &Call<'_>) -> Reply {
    let segments = call.segments();
    // The Marketplace is public: Scaleway answers it without a key.
    if let ["marketplace", "v2", "local-images"] = segments.as_slice() {
        return if *call.method == Method::GET {
            catalog::local_images(&call.query())
        } else {
            error_for_status(404)
        };
    }
    if grant_of(inner, Provider::Scaleway, call.header("x-auth-token")).is_none() {
        return error_for_status(401);
    }
    let query = call.query();
    let state = &mut inner.scaleway;
    let method = call.method.clone();
    match segments.as_slice() {
        ["instance", "v1", "zones", zone, rest @ ..] => {
            if !ZONES.contains(zone) {
                return invalid_zone();
            }
            instance(state, call, &method, zone, rest, &query)
        }
        ["iam", "v1alpha1", "ssh-keys"] => match method {
            Method::GET => state.ssh_keys.list(&query),
            Method::POST => state.ssh_keys.create(call.body, &mut state.ids),
            _ => error_for_status(404),
        },
        ["iam", "v1alpha1", "ssh-keys", id] => match method {
            Method::GET => state.ssh_keys.get(id),
            Method::DELETE => state.ssh_keys.delete(id),
            _ => error_for_status(404),
        },
        _ => error_for_status(404),
    }
}

fn instance(
    state: &mut State,
    call: &Call<'_>,
    method: &Method,
    zone: &str,
    rest: &[&str],
    query: &Query,
) -> Reply {
    let servers = &mut state.servers;
    match (method.clone(), rest) {
        (Method::GET, ["products", "servers"]) => catalog::server_types(query),
        (Method::GET, ["products", "servers", "availability"]) => {
            catalog::availability(zone, query, &state.knobs)
        }
        (Method::GET, ["servers"]) => servers.list(zone, query, &mut state.ids),
        (Method::POST, ["servers"]) => {
            servers.create(zone, call.body, &state.knobs, &mut state.ids)
        }
        (Method::GET, ["servers", id]) => servers.get(zone, id, &mut state.ids),
        (Method::DELETE, ["servers", id]) => servers.delete(zone, id),
        (Method::GET, ["servers", id, "action"]) => servers.allowed_actions(zone, id),
        (Method::POST, ["servers", id, "action"]) => {
            servers.action(zone, id, call.body, &state.knobs, &mut state.ids)
        }
        (Method::GET, ["servers", id, "user_data"]) => servers.user_data_keys(zone, id),
        (Method::GET, ["servers", id, "user_data", key]) => servers.user_data(zone, id, key),
        (Method::PATCH, ["servers", id, "user_data", key]) => {
            servers.set_user_data(zone, id, key, call.header("content-type"), call.body)
        }
        (Method::DELETE, ["servers", id, "user_data", key]) => {
            servers.delete_user_data(zone, id, key)
        }
        _ => error_for_status(404),
    }
}

/// The page a list request asks for, from `page` and `size_name` (`per_page`, or IAM's
/// `page_size`), which must lie in 1..=100 (an assumption: Scaleway documents the maximum;
/// the fake refuses larger values rather than capping them).
fn page_of(query: &Query, size_name: &str, default_size: u64) -> Result<Page, Reply> {
    let page = query
        .number("page")
        .map_err(|()| invalid_argument("page", "format", "must be a positive integer"))?
        .unwrap_or(1);
    let per_page = query
        .number(size_name)
        .map_err(|()| invalid_argument(size_name, "format", "must be a positive integer"))?
        .unwrap_or(default_size);
    if page == 0 {
        return Err(invalid_argument(
            "page",
            "constraint",
            "must be greater than 0",
        ));
    }
    if !(1..=100).contains(&per_page) {
        return Err(invalid_argument(
            size_name,
            "constraint",
            "must be between 1 and 100",
        ));
    }
    Ok(Page { page, per_page })
}

/// `value` with `key` set to `items`, the total in `X-Total-Count`.
fn list_reply(key: &str, items: Vec<Value>, page: Page, extra: Option<&str>) -> Reply {
    let total = items.len();
    let mut body = serde_json::Map::new();
    body.insert(key.to_owned(), Value::Array(page.slice(items)));
    if let Some(count_field) = extra {
        body.insert(count_field.to_owned(), json!(total));
    }
    Reply::json(200, Value::Object(body)).with_header("x-total-count", total)
}

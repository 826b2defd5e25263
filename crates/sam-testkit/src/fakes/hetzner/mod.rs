//! Hetzner Cloud (`https://api.hetzner.cloud/v1`): bearer tokens, errors as
//! `{"error":{"code","message","details"}}`, and `RateLimit-Limit/Remaining/Reset` on every
//! response, the reset being a UNIX time. The limit is 3600 requests an hour per project.
//!
//! The fake is stateful per [`crate::FakeProviders`]: SSH keys, servers and actions live in
//! [`State`]. Time never moves a server or an action along; polling does (see
//! [`servers`]), so a test decides exactly what a client sees.

mod catalog;
mod labels;
mod servers;
mod ssh_keys;

use std::time::{Duration, Instant};

use axum::http::Method;
use serde_json::{Value, json};

use super::query::{Page, Query};
use super::{Call, CloudKnobs, Reply, grant_of};
use crate::{FakeServer, FakeSshKey, Fault, Grant, Inner, Provider, SeedServer};

const HOURLY_LIMIT: u64 = 3600;

/// Hetzner's default and maximum page sizes.
const DEFAULT_PER_PAGE: u64 = 25;
const MAX_PER_PAGE: u64 = 50;

/// Everything the Hetzner fake remembers between requests.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) knobs: CloudKnobs,
    pub(crate) action_polls: ActionPolls,
    budget: Budget,
    servers: servers::Servers,
    ssh_keys: ssh_keys::SshKeys,
}

impl State {
    /// Every new server (Hetzner) or boot (Scaleway) gets this public IPv4.
    pub(crate) fn set_fixed_ipv4(&mut self, ip: Option<String>) {
        self.servers.fixed_ipv4 = ip;
    }
}

/// How many GETs an action stays `running` for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActionPolls(pub(crate) u32);

impl Default for ActionPolls {
    fn default() -> Self {
        Self(1)
    }
}

/// The project's request budget, for the rate-limit headers and 429s.
#[derive(Debug)]
struct Budget {
    remaining: u64,
    /// When a test-set budget refills to [`HOURLY_LIMIT`]: the instant, and the same moment as
    /// a UNIX time for `RateLimit-Reset`. `None`: the default budget, refilled one request a
    /// second, as Hetzner documents.
    reset: Option<(Instant, u64)>,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            remaining: HOURLY_LIMIT,
            reset: None,
        }
    }
}

impl Budget {
    fn refill_if_due(&mut self) {
        if self.reset.is_some_and(|(at, _)| Instant::now() >= at) {
            *self = Self::default();
        }
    }

    /// `RateLimit-Reset`: when the budget is full again.
    fn reset_unix(&self, now: u64) -> u64 {
        match self.reset {
            Some((_, unix)) => unix,
            None => now.saturating_add(HOURLY_LIMIT - self.remaining),
        }
    }
}

impl State {
    pub(crate) fn set_budget(&mut self, remaining: u64, reset_in_secs: u64, now: u64) {
        self.budget = Budget {
            remaining,
            reset: Some((
                Instant::now() + Duration::from_secs(reset_in_secs),
                now.saturating_add(reset_in_secs),
            )),
        };
    }

    pub(crate) fn servers(&self) -> Vec<FakeServer> {
        self.servers.snapshot()
    }

    pub(crate) fn ssh_keys(&self) -> Vec<FakeSshKey> {
        self.ssh_keys.snapshot()
    }

    pub(crate) fn seed(&mut self, seed: SeedServer) -> String {
        self.servers.seed(seed)
    }
}

fn error(status: u16, code: &str, message: &str, details: Value) -> Reply {
    Reply::json(
        status,
        json!({ "error": { "code": code, "message": message, "details": details } }),
    )
}

/// 400 `invalid_input` naming the fields at fault, as Hetzner's validation errors do.
fn invalid_input(fields: &[(&str, String)]) -> Reply {
    let names: Vec<String> = fields.iter().map(|(name, _)| format!("'{name}'")).collect();
    let details: Vec<Value> = fields
        .iter()
        .map(|(name, message)| json!({ "name": name, "messages": [message] }))
        .collect();
    error(
        400,
        "invalid_input",
        &format!("invalid input in field {}", names.join(", ")),
        json!({ "fields": details }),
    )
}

fn json_error() -> Reply {
    error(
        400,
        "json_error",
        "invalid JSON in request body",
        Value::Null,
    )
}

fn not_found(what: &str) -> Reply {
    error(404, "not_found", &format!("{what} not found"), Value::Null)
}

pub(super) fn error_for_status(status: u16) -> Reply {
    let (code, message) = match status {
        400 => ("invalid_input", "invalid input"),
        401 => ("unauthorized", "unable to authenticate"),
        403 => ("forbidden", "insufficient permissions for this request"),
        404 => ("not_found", "resource not found"),
        409 => ("conflict", "resource has changed"),
        412 => (
            "resource_unavailable",
            "requested resource is currently unavailable",
        ),
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

/// A 429 when the budget is spent; such a request costs nothing and changes nothing.
pub(super) fn over_budget(inner: &mut Inner, now: u64) -> Option<Reply> {
    let budget = &mut inner.hetzner.budget;
    budget.refill_if_due();
    (budget.remaining == 0).then(|| {
        rate_limited()
            .with_header("ratelimit-limit", HOURLY_LIMIT)
            .with_header("ratelimit-remaining", 0)
            .with_header("ratelimit-reset", budget.reset_unix(now))
    })
}

/// Every answer costs one request of the budget, errors included, except an injected rate
/// limit, which reports an empty budget resetting when the fault says.
pub(super) fn with_rate_limit_headers(
    reply: Reply,
    inner: &mut Inner,
    fault: Option<Fault>,
    now: u64,
) -> Reply {
    let budget = &mut inner.hetzner.budget;
    let (remaining, reset) = match fault {
        Some(Fault::RateLimited { reset_secs }) => (0, now.saturating_add(reset_secs)),
        _ => {
            budget.remaining = budget.remaining.saturating_sub(1);
            (budget.remaining, budget.reset_unix(now))
        }
    };
    reply
        .with_header("ratelimit-limit", HOURLY_LIMIT)
        .with_header("ratelimit-remaining", remaining)
        .with_header("ratelimit-reset", reset)
}

pub(super) fn answer(inner: &mut Inner, call: &Call<'_>) -> Reply {
    let Some(grant) = grant_of(inner, Provider::Hetzner, call.bearer()) else {
        return error_for_status(401);
    };
    // Permission comes before any validation, which is what lets a client tell a read-only
    // token (403 `forbidden`) from a read-write one (400 `invalid_input`) by posting an
    // invalid SSH key, without creating anything.
    if *call.method != Method::GET && grant == Grant::ReadOnly {
        return error_for_status(403);
    }
    let query = call.query();
    let state = &mut inner.hetzner;
    let method = call.method.clone();
    match (method, call.segments().as_slice()) {
        (Method::GET, ["v1", "locations"]) => catalog::locations(&query),
        (Method::GET, ["v1", "server_types"]) => catalog::server_types(&query),
        (Method::GET, ["v1", "server_types", id]) => catalog::server_type_reply(id),
        (Method::GET, ["v1", "pricing"]) => catalog::pricing(),
        (Method::GET, ["v1", "images"]) => catalog::images(&query),
        (Method::GET, ["v1", "ssh_keys"]) => state.ssh_keys.list(&query),
        (Method::POST, ["v1", "ssh_keys"]) => state.ssh_keys.create(call.body),
        (Method::GET, ["v1", "ssh_keys", id]) => state.ssh_keys.get(id),
        (Method::DELETE, ["v1", "ssh_keys", id]) => state.ssh_keys.delete(id),
        (Method::GET, ["v1", "servers"]) => state.servers.list(&query),
        (Method::POST, ["v1", "servers"]) => {
            state
                .servers
                .create(call.body, &state.ssh_keys, &state.knobs)
        }
        (Method::GET, ["v1", "servers", id]) => state.servers.get(id),
        (Method::DELETE, ["v1", "servers", id]) => state.servers.delete(id),
        (Method::POST, ["v1", "servers", id, "actions", action]) => {
            state.servers.action(id, action, &state.knobs)
        }
        (Method::GET, ["v1", "actions", id]) => state.servers.get_action(id, state.action_polls),
        _ => error_for_status(404),
    }
}

/// The page a list request asks for: `page` from 1, `per_page` 25 by default and at most 50
/// (a larger value is capped, an assumption: the spec only states the maximum).
fn page_of(query: &Query) -> Result<Page, Reply> {
    let bad = |name: &str| invalid_input(&[(name, "must be a positive integer".to_owned())]);
    let page = query.number("page").map_err(|()| bad("page"))?.unwrap_or(1);
    let per_page = query
        .number("per_page")
        .map_err(|()| bad("per_page"))?
        .unwrap_or(DEFAULT_PER_PAGE);
    if page == 0 {
        return Err(bad("page"));
    }
    if per_page == 0 {
        return Err(bad("per_page"));
    }
    Ok(Page {
        page,
        per_page: per_page.min(MAX_PER_PAGE),
    })
}

/// `{"<key>": [...], "meta": {"pagination": ...}}` for one page of `items`.
fn list_reply(key: &str, items: Vec<Value>, page: Page) -> Reply {
    let total = items.len();
    let last_page = page.last_page(total);
    let items = page.slice(items);
    Reply::json(
        200,
        json!({
            key: items,
            "meta": { "pagination": {
                "page": page.page,
                "per_page": page.per_page,
                "previous_page": (page.page > 1).then(|| (page.page - 1).min(last_page)),
                "next_page": (page.page < last_page).then_some(page.page + 1),
                "last_page": last_page,
                "total_entries": total,
            } },
        }),
    )
}

/// A list reply, or the error for a bad `page`/`per_page`.
fn paginated(query: &Query, key: &str, items: Vec<Value>) -> Reply {
    match page_of(query) {
        Ok(page) => list_reply(key, items, page),
        Err(reply) => reply,
    }
}

/// Hetzner IDs are integers; anything else in the path finds nothing.
fn parse_id(id: &str) -> Option<u64> {
    id.parse().ok()
}

//! GitHub REST (`https://api.github.com`): `Authorization: Bearer` (or the older `token`),
//! a `User-Agent` is mandatory, errors are `{"message","documentation_url","status"}`. Classic
//! tokens get their scopes back in `X-OAuth-Scopes`; fine-grained tokens get no such header.
//! Every response carries `x-ratelimit-*`; exhausting the primary limit is a 403 with
//! `x-ratelimit-remaining: 0` and the reset as a UNIX time.

use axum::http::Method;
use serde_json::json;

use super::{Call, Reply, grant_of};
use crate::{Fault, Grant, Inner, Provider};

const LOGIN: &str = "sam-test-user";
const HOURLY_LIMIT: u64 = 5000;
const FULL_SCOPES: &str = "read:org, repo, workflow";
const READ_ONLY_SCOPES: &str = "read:user";

fn error(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.to_string(),
        }),
    )
}

pub(super) fn error_for_status(status: u16) -> Reply {
    let message = match status {
        401 => "Bad credentials",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Validation Failed",
        _ => "Server Error",
    };
    error(status, message)
}

pub(super) fn rate_limited() -> Reply {
    error(
        403,
        "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
    )
}

pub(super) fn with_rate_limit_headers(reply: Reply, fault: Option<Fault>, now: u64) -> Reply {
    let (remaining, reset) = match fault {
        Some(Fault::RateLimited { reset_secs }) => (0, now.saturating_add(reset_secs)),
        _ => (HOURLY_LIMIT - 1, now.saturating_add(3600)),
    };
    reply
        .with_header("x-ratelimit-limit", HOURLY_LIMIT)
        .with_header("x-ratelimit-remaining", remaining)
        .with_header("x-ratelimit-reset", reset)
        .with_header("x-ratelimit-used", HOURLY_LIMIT - remaining)
        .with_header("x-ratelimit-resource", "core")
        .with_header("x-github-api-version-selected", "2022-11-28")
}

pub(super) fn answer(inner: &Inner, call: &Call<'_>) -> Reply {
    if call.header("user-agent").is_none_or(str::is_empty) {
        return Reply::text(
            403,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n",
        );
    }
    let token = call.authorization(&["Bearer", "token"]);
    let Some(grant) = grant_of(inner, Provider::GitHub, token) else {
        return error_for_status(401);
    };
    let scopes = match grant {
        Grant::Full => Some(FULL_SCOPES.to_owned()),
        Grant::ReadOnly => Some(READ_ONLY_SCOPES.to_owned()),
        Grant::GitHubScopes(scopes) => scopes,
    };
    let reply = match (call.method, call.path) {
        (&Method::GET, "/user") => Reply::json(
            200,
            json!({
                "login": LOGIN, "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User",
                "site_admin": false, "name": "SAM Test User",
                "html_url": format!("https://github.com/{LOGIN}"),
            }),
        ),
        _ => error_for_status(404),
    };
    match scopes {
        Some(scopes) => reply
            .with_header("x-oauth-scopes", scopes)
            .with_header("x-accepted-oauth-scopes", ""),
        None => reply,
    }
}

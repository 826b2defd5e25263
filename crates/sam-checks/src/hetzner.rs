//! Hetzner Cloud. `GET /locations` proves the token. Whether it may write is asked without
//! side effects: `POST /ssh_keys` with `{}` is refused with 403 `forbidden` for a read-only
//! token, and with a validation error (`invalid_input`) for a read-write one, since Hetzner
//! checks permission before the body. Nothing is ever created.
//!
//! Errors are `{"error":{"code","message","details"}}`; every answer carries
//! `RateLimit-Limit/Remaining/Reset`, the reset being a UNIX time.

use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use serde::de::IgnoredAny;
use url::Url;

use crate::http::{Http, Reply, header_u64, seconds_until};
use crate::outcome::{CheckOutcome, Subject, Verdict, count, host_of, settle};

const FIX: &str = "Check that you copied the whole token, or create a new Read & Write token in the Hetzner console → your project → Security → API tokens.";

const READ_ONLY: &str = "Hetzner says this token is read-only: SAM cannot create servers with it. Create a Read & Write token in the Hetzner console → your project → Security → API tokens.";

#[derive(Deserialize)]
struct Locations {
    locations: Vec<IgnoredAny>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

fn error_of(body: &[u8]) -> Option<ErrorDetail> {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|body| body.error)
}

pub(crate) async fn check(http: &Http, base: &Url, token: &str) -> CheckOutcome {
    settle(run(http, base, token).await)
}

async fn run(http: &Http, base: &Url, token: &str) -> Result<CheckOutcome, CheckOutcome> {
    let subject = Subject::new("Hetzner", "token", token, FIX, host_of(base));
    subject.check_shape()?;
    let auth = subject.secret_header("Bearer ")?;

    let reply = subject
        .send(
            http,
            http.client()
                .get(subject.url(base, &["locations"])?)
                .header(AUTHORIZATION, auth.clone()),
        )
        .await?;
    if !reply.status.is_success() {
        let text = error_of(&reply.body).map(|e| e.message);
        return Ok(subject.judge_failure(&reply, text.as_deref(), http.now_unix()));
    }
    let locations = serde_json::from_slice::<Locations>(&reply.body)
        .map_err(|_| subject.unreadable())?
        .locations
        .len();

    // With the hourly budget spent, the probe would only earn a 429: say so now.
    if header_u64(&reply.headers, "ratelimit-remaining") == Some(0) {
        return Ok(budget_spent(&reply, http.now_unix()));
    }

    let probe = subject
        .send(
            http,
            http.client()
                .post(subject.url(base, &["ssh_keys"])?)
                .header(AUTHORIZATION, auth)
                .json(&serde_json::json!({})),
        )
        .await?;
    Ok(judge_probe(&subject, &probe, locations, http.now_unix()))
}

fn budget_spent(reply: &Reply, now_unix: u64) -> CheckOutcome {
    let retry_after_secs =
        header_u64(&reply.headers, "ratelimit-reset").map(|reset| seconds_until(reset, now_unix));
    let when = match retry_after_secs {
        Some(secs) if secs < 120 => format!("in {} seconds", secs.max(1)),
        Some(secs) => format!("in {} minutes", secs.div_ceil(60)),
        None => "in a minute".to_owned(),
    };
    CheckOutcome {
        verdict: Verdict::RateLimited,
        message: format!(
            "Hetzner accepted the token, but this project's hourly request limit is used up, so SAM could not check whether the token may create servers. Try again {when}."
        ),
        retry_after_secs,
    }
}

fn judge_probe(
    subject: &Subject<'_>,
    probe: &Reply,
    locations: usize,
    now_unix: u64,
) -> CheckOutcome {
    let error = error_of(&probe.body);
    let code = error.as_ref().map(|e| e.code.as_str());
    let text = error.as_ref().map(|e| e.message.as_str());
    match probe.status.as_u16() {
        // Any 403 on a write means no writes, whatever the code (`forbidden` today).
        403 => subject.read_only(READ_ONLY.to_owned()),
        // Permission passed; the empty body failed validation, as intended.
        400 | 422 if matches!(code, Some("invalid_input" | "json_error") | None) => subject
            .accepted(&format!(
                "read & write; {} available",
                count(locations, "location", "locations")
            )),
        // `{}` cannot create a key; if some future API did, the token can write all the same.
        200..=299 => {
            tracing::warn!("Hetzner accepted an empty SSH key request");
            subject.accepted(&format!(
                "read & write; {} available",
                count(locations, "location", "locations")
            ))
        }
        401 => subject.rejected(401, text),
        429 => subject.judge_failure(probe, text, now_unix),
        status @ 400..=499 => subject.unexpected_status(status, text),
        _ => subject.judge_failure(probe, text, now_unix),
    }
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn subject() -> Subject<'static> {
        Subject::new(
            "Hetzner",
            "token",
            "token-1234567890",
            FIX,
            "api.hetzner.cloud".to_owned(),
        )
    }

    #[test]
    fn forbidden_probe_is_read_only() {
        let probe = reply(
            403,
            r#"{"error":{"code":"forbidden","message":"insufficient permissions for this request","details":null}}"#,
        );
        let outcome = judge_probe(&subject(), &probe, 6, 0);
        assert_eq!(outcome.verdict, Verdict::ReadOnly);
        assert_eq!(outcome.message, READ_ONLY);
    }

    #[test]
    fn validation_error_means_read_write() {
        let probe = reply(
            400,
            r#"{"error":{"code":"invalid_input","message":"invalid input in fields 'name', 'public_key'","details":{"fields":[]}}}"#,
        );
        let outcome = judge_probe(&subject(), &probe, 6, 0);
        assert_eq!(outcome.verdict, Verdict::Valid);
        assert_eq!(
            outcome.message,
            "Hetzner accepted the token (read & write; 6 locations available)."
        );
        let probe = reply(422, r#"{"error":{"code":"invalid_input","message":"x"}}"#);
        assert_eq!(
            judge_probe(&subject(), &probe, 1, 0).verdict,
            Verdict::Valid
        );
    }

    #[test]
    fn other_client_errors_are_not_taken_for_write_access() {
        let probe = reply(
            404,
            r#"{"error":{"code":"not_found","message":"not found"}}"#,
        );
        assert_eq!(
            judge_probe(&subject(), &probe, 6, 0).verdict,
            Verdict::Unreachable
        );
        let probe = reply(409, r#"{"error":{"code":"conflict","message":"conflict"}}"#);
        assert_eq!(
            judge_probe(&subject(), &probe, 6, 0).verdict,
            Verdict::Unreachable
        );
    }

    #[test]
    fn server_error_on_probe_is_unreachable() {
        let probe = reply(
            503,
            r#"{"error":{"code":"unavailable","message":"maintenance"}}"#,
        );
        let outcome = judge_probe(&subject(), &probe, 6, 0);
        assert_eq!(outcome.verdict, Verdict::Unreachable);
        assert!(
            outcome.message.contains("HTTP 503: maintenance"),
            "{}",
            outcome.message
        );
    }

    #[test]
    fn spent_budget_uses_the_unix_reset() {
        let mut spent = reply(200, "{}");
        spent.headers = HeaderMap::new();
        spent
            .headers
            .insert("ratelimit-reset", HeaderValue::from_static("1700000090"));
        let outcome = budget_spent(&spent, 1_700_000_000);
        assert_eq!(outcome.verdict, Verdict::RateLimited);
        assert_eq!(outcome.retry_after_secs, Some(90));
        assert!(
            outcome.message.ends_with("Try again in 90 seconds."),
            "{}",
            outcome.message
        );
    }
}

//! GitHub: `GET /user` with a bearer token. A classic token's scopes come back in
//! `X-OAuth-Scopes`, and SAM needs `repo` to push and open pull requests in private
//! repositories; a fine-grained token has no such header, its permissions being set per
//! repository. The primary rate limit is a 403 or 429 with `x-ratelimit-remaining: 0` and a
//! UNIX-time `x-ratelimit-reset`.

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap};
use serde::Deserialize;
use url::Url;

use crate::http::{Http, Reply, header_u64, seconds_until};
use crate::outcome::{CheckOutcome, Subject, host_of, settle};

const FIX: &str = "Create a token at GitHub → Settings → Developer settings → Personal access tokens, and paste it whole.";

const API_VERSION: &str = "2022-11-28";

#[derive(Deserialize)]
struct User {
    login: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

/// What the scopes header says about the token.
#[derive(Debug, PartialEq, Eq)]
enum Scopes {
    /// No header: a fine-grained token (or a GitHub App token).
    PerRepository,
    /// A classic token with these scopes.
    Classic(Vec<String>),
}

fn scopes_of(headers: &HeaderMap) -> Scopes {
    match headers.get("x-oauth-scopes").and_then(|v| v.to_str().ok()) {
        None => Scopes::PerRepository,
        Some(list) => Scopes::Classic(
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
    }
}

/// GitHub's primary (remaining 0) or secondary (`retry-after`) rate limit, with seconds to
/// wait if known. Other 403s are refusals.
fn rate_limit(reply: &Reply, now_unix: u64) -> Option<Option<u64>> {
    let status = reply.status.as_u16();
    if status != 403 && status != 429 {
        return None;
    }
    let retry_after = header_u64(&reply.headers, "retry-after");
    let exhausted = header_u64(&reply.headers, "x-ratelimit-remaining") == Some(0);
    if !exhausted && retry_after.is_none() && status == 403 {
        return None;
    }
    Some(retry_after.or_else(|| {
        header_u64(&reply.headers, "x-ratelimit-reset").map(|reset| seconds_until(reset, now_unix))
    }))
}

pub(crate) async fn check(http: &Http, base: &Url, token: &str) -> CheckOutcome {
    settle(run(http, base, token).await)
}

async fn run(http: &Http, base: &Url, token: &str) -> Result<CheckOutcome, CheckOutcome> {
    let subject = Subject::new("GitHub", "token", token, FIX, host_of(base));
    subject.check_shape()?;
    let request = http
        .client()
        .get(subject.url(base, &["user"])?)
        .header(AUTHORIZATION, subject.secret_header("Bearer ")?)
        .header(ACCEPT, "application/vnd.github+json")
        .header("x-github-api-version", API_VERSION);
    let reply = subject.send(http, request).await?;
    if !reply.status.is_success() {
        let text = serde_json::from_slice::<ErrorBody>(&reply.body)
            .ok()
            .map(|e| e.message);
        if let Some(retry) = rate_limit(&reply, http.now_unix()) {
            return Ok(subject.rate_limited(text.as_deref(), retry));
        }
        return Ok(subject.judge_failure(&reply, text.as_deref(), http.now_unix()));
    }
    let user = serde_json::from_slice::<User>(&reply.body).map_err(|_| subject.unreadable())?;
    let login = subject
        .clean(&user.login)
        .unwrap_or_else(|| "your account".to_owned());
    Ok(judge_scopes(&subject, &login, scopes_of(&reply.headers)))
}

fn judge_scopes(subject: &Subject<'_>, login: &str, scopes: Scopes) -> CheckOutcome {
    match scopes {
        Scopes::PerRepository => subject.valid(format!(
            "GitHub accepted the fine-grained token for {login}. Its permissions are set per repository: give it Contents and Pull requests (read and write) on each repository SAM should work in."
        )),
        Scopes::Classic(scopes) if scopes.iter().any(|s| s == "repo") => subject.valid(format!(
            "GitHub accepted the token for {login} (classic token with the repo scope)."
        )),
        Scopes::Classic(scopes) => {
            let has = if scopes.is_empty() {
                "it has no scopes".to_owned()
            } else {
                format!("it has only {}", scopes.join(", "))
            };
            subject.read_only(format!(
                "GitHub accepted the token for {login}, but it lacks the repo scope ({has}): SAM cannot push or open pull requests in private repositories with it. Edit the token at GitHub → Settings → Developer settings → Personal access tokens (classic) and tick repo, or use a fine-grained token."
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;
    use reqwest::header::HeaderValue;

    use super::*;
    use crate::outcome::Verdict;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn subject() -> Subject<'static> {
        Subject::new(
            "GitHub",
            "token",
            "ghp_secret",
            FIX,
            "api.github.com".to_owned(),
        )
    }

    #[test]
    fn scopes_header_is_parsed() {
        assert_eq!(scopes_of(&HeaderMap::new()), Scopes::PerRepository);
        assert_eq!(
            scopes_of(&headers(&[("x-oauth-scopes", "read:org, repo , workflow")])),
            Scopes::Classic(vec!["read:org".into(), "repo".into(), "workflow".into()])
        );
        assert_eq!(
            scopes_of(&headers(&[("x-oauth-scopes", "")])),
            Scopes::Classic(vec![])
        );
    }

    #[test]
    fn repo_scope_decides_between_valid_and_read_only() {
        let valid = judge_scopes(&subject(), "octocat", Scopes::Classic(vec!["repo".into()]));
        assert_eq!(valid.verdict, Verdict::Valid);
        let public_only = judge_scopes(
            &subject(),
            "octocat",
            Scopes::Classic(vec!["public_repo".into(), "read:user".into()]),
        );
        assert_eq!(public_only.verdict, Verdict::ReadOnly);
        assert!(
            public_only
                .message
                .contains("it has only public_repo, read:user")
        );
        assert!(public_only.message.contains("tick repo"));
        let none = judge_scopes(&subject(), "octocat", Scopes::Classic(vec![]));
        assert!(
            none.message.contains("it has no scopes"),
            "{}",
            none.message
        );
        let fine = judge_scopes(&subject(), "octocat", Scopes::PerRepository);
        assert_eq!(fine.verdict, Verdict::Valid);
        assert!(fine.message.contains("octocat"));
        assert!(fine.message.contains("per repository"));
    }

    #[test]
    fn primary_rate_limit_is_a_403_with_nothing_remaining() {
        let limited = Reply {
            status: StatusCode::FORBIDDEN,
            headers: headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1700000060"),
            ]),
            body: Vec::new(),
        };
        assert_eq!(rate_limit(&limited, 1_700_000_000), Some(Some(60)));
        let forbidden = Reply {
            status: StatusCode::FORBIDDEN,
            headers: headers(&[("x-ratelimit-remaining", "4999")]),
            body: Vec::new(),
        };
        assert_eq!(rate_limit(&forbidden, 1_700_000_000), None);
        let secondary = Reply {
            status: StatusCode::FORBIDDEN,
            headers: headers(&[("retry-after", "30")]),
            body: Vec::new(),
        };
        assert_eq!(rate_limit(&secondary, 0), Some(Some(30)));
    }
}

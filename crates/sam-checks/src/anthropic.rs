//! Anthropic: `GET /v1/models`, with an API key in `x-api-key`, or a Claude subscription OAuth
//! token as a bearer token plus the OAuth beta header. Errors are
//! `{"type":"error","error":{"type","message"}}`; 529 `overloaded_error` counts as a server
//! error.

use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use serde::de::IgnoredAny;
use url::Url;

use crate::http::Http;
use crate::outcome::{CheckOutcome, Subject, count, host_of, settle};

const VERSION: &str = "2023-06-01";
const OAUTH_BETA: &str = "oauth-2025-04-20";
const OAUTH_PREFIX: &str = "sk-ant-oat";

const FIX_API_KEY: &str = "Check that you copied the whole key, or create a new one in the Anthropic Console → Settings → API keys.";
const FIX_OAUTH: &str = "Run `claude setup-token` on a machine where you are signed in to your Claude subscription, and paste the token it prints (it starts with sk-ant-oat).";

/// How the credential is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// An API key, in `x-api-key`.
    ApiKey,
    /// A Claude subscription token, as a bearer token.
    OAuth,
}

#[derive(Deserialize)]
struct Models {
    data: Vec<IgnoredAny>,
    #[serde(default)]
    has_more: bool,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
}

pub(crate) async fn check(http: &Http, base: &Url, auth: Auth, secret: &str) -> CheckOutcome {
    settle(run(http, base, auth, secret).await)
}

async fn run(
    http: &Http,
    base: &Url,
    auth: Auth,
    secret: &str,
) -> Result<CheckOutcome, CheckOutcome> {
    let subject = match auth {
        Auth::ApiKey => Subject::new("Anthropic", "key", secret, FIX_API_KEY, host_of(base)),
        Auth::OAuth => Subject::new(
            "Anthropic",
            "Claude subscription token",
            secret,
            FIX_OAUTH,
            host_of(base),
        ),
    };
    subject.check_shape()?;
    if auth == Auth::ApiKey && secret.starts_with(OAUTH_PREFIX) {
        return Err(subject.invalid_setting(
            "This is a Claude subscription token (it starts with sk-ant-oat), not an Anthropic API key: add it as a Claude subscription token instead.".to_owned(),
        ));
    }
    let mut url = subject.url(base, &["v1", "models"])?;
    // The default page is 20; the maximum makes the count in the message true.
    url.query_pairs_mut().append_pair("limit", "1000");
    let request = http.client().get(url).header("anthropic-version", VERSION);
    let request = match auth {
        Auth::ApiKey => request.header("x-api-key", subject.secret_header("")?),
        Auth::OAuth => request
            .header(AUTHORIZATION, subject.secret_header("Bearer ")?)
            .header("anthropic-beta", OAUTH_BETA),
    };
    let reply = subject.send(http, request).await?;
    if !reply.status.is_success() {
        let text = serde_json::from_slice::<ErrorBody>(&reply.body)
            .ok()
            .map(|e| e.error.message);
        return Ok(subject.judge_failure(&reply, text.as_deref(), http.now_unix()));
    }
    let models = serde_json::from_slice::<Models>(&reply.body).map_err(|_| subject.unreadable())?;
    let listed = count(models.data.len(), "model", "models");
    Ok(subject.accepted(&if models.has_more {
        format!("at least {listed} available")
    } else {
        format!("{listed} available")
    }))
}

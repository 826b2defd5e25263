//! The OpenAI wire format: OpenAI, Mistral and self-hosted compatible servers. `GET /models`
//! with a bearer key. Errors vary: OpenAI's `{"error":{"message","type","code"}}`, Mistral's
//! `{"message",...}`, and whatever a compatible server does (`{"error":"..."}`,
//! FastAPI's `{"detail":...}`), so the text is looked for in each of those places.

use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use url::Url;

use crate::http::Http;
use crate::outcome::{CheckOutcome, Subject, count, host_of, settle};

const FIX_OPENAI: &str =
    "Check that you copied the whole key, or create a new one at platform.openai.com → API keys.";
const FIX_MISTRAL: &str = "Check that you copied the whole key, or create a new one in the Mistral console (console.mistral.ai) → API keys.";
const FIX_COMPATIBLE: &str = "Check the key your server expects (many local servers accept any key), and that the base URL is the one /models hangs off, such as http://localhost:11434/v1.";
const FIX_QUOTA: &str = "The key works, but the account has no credit left: add credits or a payment method in the provider's billing settings, then check again.";

/// Which provider speaks the format; decides names and advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    OpenAi,
    Mistral,
}

#[derive(Deserialize)]
struct Models {
    data: Vec<IgnoredAny>,
}

/// The explanation and machine code in an error body, wherever this server put them.
fn error_of(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return (None, None);
    };
    let string = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    match value.get("error") {
        Some(error @ Value::Object(_)) => (string(error.get("message")), string(error.get("code"))),
        Some(Value::String(text)) => (Some(text.clone()), None),
        _ => {
            let detail = value.get("detail");
            let text = string(value.get("message"))
                .or_else(|| string(detail))
                .or_else(|| string(detail.and_then(|d| d.get(0)).and_then(|d| d.get("msg"))));
            (text, string(value.get("code")))
        }
    }
}

pub(crate) async fn check(
    http: &Http,
    base: &Url,
    flavour: Flavour,
    api_key: &str,
) -> CheckOutcome {
    let (provider, fix) = match flavour {
        Flavour::OpenAi => ("OpenAI", FIX_OPENAI),
        Flavour::Mistral => ("Mistral", FIX_MISTRAL),
    };
    let subject = Subject::new(provider, "key", api_key, fix, host_of(base));
    settle(run(http, base, &subject).await)
}

/// A server at an address the user typed. The address is never repeated in full (it may
/// carry credentials); messages name its host only.
pub(crate) async fn check_compatible(http: &Http, base_url: &str, api_key: &str) -> CheckOutcome {
    const PROVIDER: &str = "the OpenAI-compatible server";
    let base = Url::parse(base_url.trim())
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"));
    let Some(base) = base else {
        let subject = Subject::new(PROVIDER, "key", api_key, FIX_COMPATIBLE, String::new());
        return subject.unusable_address();
    };
    let subject = Subject::new(PROVIDER, "key", api_key, FIX_COMPATIBLE, host_of(&base));
    settle(run(http, &base, &subject).await)
}

async fn run(http: &Http, base: &Url, subject: &Subject<'_>) -> Result<CheckOutcome, CheckOutcome> {
    subject.check_shape()?;
    let request = http
        .client()
        .get(subject.url(base, &["models"])?)
        .header(AUTHORIZATION, subject.secret_header("Bearer ")?);
    let reply = subject.send(http, request).await?;
    if !reply.status.is_success() {
        let (text, code) = error_of(&reply.body);
        // OpenAI answers an empty balance with 429 too, but waiting will not help.
        if code.as_deref() == Some("insufficient_quota") {
            return Ok(subject.rejected_with_fix(
                reply.status.as_u16(),
                text.as_deref(),
                FIX_QUOTA,
            ));
        }
        return Ok(subject.judge_failure(&reply, text.as_deref(), http.now_unix()));
    }
    let models = serde_json::from_slice::<Models>(&reply.body).map_err(|_| subject.unreadable())?;
    Ok(subject.accepted(&format!(
        "{} available",
        count(models.data.len(), "model", "models")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str) -> Option<String> {
        error_of(body.as_bytes()).0
    }

    #[test]
    fn error_text_is_found_in_every_known_shape() {
        assert_eq!(
            error_of(br#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#),
            (
                Some("Incorrect API key provided".to_owned()),
                Some("invalid_api_key".to_owned())
            )
        );
        assert_eq!(
            text(r#"{"message":"Unauthorized","request_id":"x"}"#).as_deref(),
            Some("Unauthorized")
        );
        assert_eq!(
            text(r#"{"error":"invalid key"}"#).as_deref(),
            Some("invalid key")
        );
        assert_eq!(
            text(r#"{"detail":"Not authenticated"}"#).as_deref(),
            Some("Not authenticated")
        );
        assert_eq!(
            text(r#"{"detail":[{"loc":["header"],"msg":"field required"}]}"#).as_deref(),
            Some("field required")
        );
        assert_eq!(text("<html>502</html>"), None);
    }

    #[test]
    fn quota_code_is_read() {
        let (_, code) = error_of(
            br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
        );
        assert_eq!(code.as_deref(), Some("insufficient_quota"));
    }
}

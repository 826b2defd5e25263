//! Google Gemini (Generative Language API): `GET /v1beta/models` with the key in
//! `x-goog-api-key`, never in the `?key=` query Google also accepts (URLs end up in logs).
//! Errors are `{"error":{"code","message","status","details"}}`; a wrong key is 400
//! `INVALID_ARGUMENT`, and a rate limit says when to retry in a `RetryInfo` detail.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use url::Url;

use crate::http::{Http, retry_after_secs};
use crate::outcome::{CheckOutcome, Subject, count, host_of, settle};

const FIX: &str =
    "Create a key in Google AI Studio (aistudio.google.com → Get API key) and paste it whole.";

#[derive(Deserialize)]
struct Models {
    #[serde(default)]
    models: Vec<IgnoredAny>,
    #[serde(rename = "nextPageToken")]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
    #[serde(default)]
    details: Vec<Value>,
}

/// `retryDelay` of a `google.rpc.RetryInfo` detail, `"27s"` or `"2.5s"`, in whole seconds.
fn retry_delay_secs(details: &[Value]) -> Option<u64> {
    details
        .iter()
        .filter(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
        })
        .find_map(|d| {
            d.get("retryDelay")?
                .as_str()?
                .strip_suffix('s')?
                .parse::<f64>()
                .ok()
        })
        .filter(|secs| secs.is_finite() && *secs >= 0.0)
        // `as` saturates for floats: an absurd delay becomes u64::MAX, not garbage.
        .map(|secs| secs.ceil() as u64)
}

pub(crate) async fn check(http: &Http, base: &Url, api_key: &str) -> CheckOutcome {
    settle(run(http, base, api_key).await)
}

async fn run(http: &Http, base: &Url, api_key: &str) -> Result<CheckOutcome, CheckOutcome> {
    let subject = Subject::new("Gemini", "key", api_key, FIX, host_of(base));
    subject.check_shape()?;
    let mut url = subject.url(base, &["v1beta", "models"])?;
    // The page size is not secret; the key stays in the header.
    url.query_pairs_mut().append_pair("pageSize", "1000");
    let request = http
        .client()
        .get(url)
        .header("x-goog-api-key", subject.secret_header("")?);
    let reply = subject.send(http, request).await?;
    if !reply.status.is_success() {
        let error = serde_json::from_slice::<ErrorBody>(&reply.body)
            .ok()
            .map(|e| e.error);
        let text = error.as_ref().map(|e| e.message.as_str());
        if reply.status.as_u16() == 429 {
            let retry = error
                .as_ref()
                .and_then(|e| retry_delay_secs(&e.details))
                .or_else(|| retry_after_secs(&reply.headers, http.now_unix()));
            return Ok(subject.rate_limited(text, retry));
        }
        return Ok(subject.judge_failure(&reply, text, http.now_unix()));
    }
    let models = serde_json::from_slice::<Models>(&reply.body).map_err(|_| subject.unreadable())?;
    let listed = count(models.models.len(), "model", "models");
    Ok(subject.accepted(&if models.next_page_token.is_some() {
        format!("at least {listed} available")
    } else {
        format!("{listed} available")
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn retry_info_is_read() {
        let details = vec![
            json!({ "@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [] }),
            json!({ "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "27.2s" }),
        ];
        assert_eq!(retry_delay_secs(&details), Some(28));
        assert_eq!(retry_delay_secs(&[]), None);
        let odd = vec![
            json!({ "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "soon" }),
        ];
        assert_eq!(retry_delay_secs(&odd), None);
    }
}

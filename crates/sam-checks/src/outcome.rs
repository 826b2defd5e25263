//! What a check concludes, and the sentences users read about it. Every sentence is built
//! here, so the wording stays uniform across providers and every piece of provider text passes
//! through [`clean_provider_text`] (redaction, truncation) on its way in.

use std::borrow::Cow;
use std::collections::HashSet;
use std::time::Duration;

use serde::Serialize;
use url::Url;

use reqwest::RequestBuilder;
use reqwest::header::HeaderValue;

use crate::http::{self, Failure, Http, Reply, retry_after_secs};

/// What a provider made of a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Accepted, with the permissions SAM needs.
    Valid,
    /// Accepted, but without the write permissions SAM needs (a Hetzner read-only token, a
    /// GitHub token without `repo`).
    ReadOnly,
    /// Refused, or unusable as given (wrong key, missing permission, no quota left).
    Rejected,
    /// The provider is limiting requests; the credential was not judged.
    RateLimited,
    /// No usable answer (network, timeout, server error, unreadable reply, wrong address);
    /// the credential was not judged.
    Unreachable,
}

/// A verdict and the sentence to show for it. The message never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// What the provider made of the credential.
    pub verdict: Verdict,
    /// One or two sentences for the user: what happened and what to do.
    pub message: String,
    /// For [`Verdict::RateLimited`], when the provider said to try again, in seconds.
    pub retry_after_secs: Option<u64>,
}

/// What replaces a secret in provider text.
pub(crate) const REDACTED: &str = "<redacted>";

/// Provider text is shown to users only this long: enough for an explanation, too short for a
/// page of HTML from a misconfigured proxy.
const PROVIDER_TEXT_MAX_CHARS: usize = 300;

/// Secrets shorter than this are placeholders (`ollama`, `x` for a local server that checks
/// nothing): redacting them would garble every sentence and protect nothing.
const MIN_REDACTED_CHARS: usize = 4;

/// A word of provider text sharing this many consecutive characters with the secret is
/// treated as a partial echo (a truncated or wrapped key) and redacted whole.
const ECHO_FRAGMENT_CHARS: usize = 8;

/// Replaces every occurrence of `secret` in `text`, and every word that contains a long
/// fragment of it, with `<redacted>`.
pub(crate) fn redact(text: &str, secret: &str) -> String {
    if secret.chars().count() < MIN_REDACTED_CHARS {
        return text.to_owned();
    }
    let text = redact_exact(text, secret);
    if secret.len() < 2 * ECHO_FRAGMENT_CHARS {
        return text;
    }
    let fragments: HashSet<&[u8]> = secret.as_bytes().windows(ECHO_FRAGMENT_CHARS).collect();
    let echoes = |word: &str| {
        word.as_bytes()
            .windows(ECHO_FRAGMENT_CHARS)
            .any(|w| fragments.contains(w))
    };
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars() {
        if c.is_whitespace() || "\"'`,;()[]{}<>".contains(c) {
            out.push_str(if echoes(&word) { REDACTED } else { &word });
            word.clear();
            out.push(c);
        } else {
            word.push(c);
        }
    }
    out.push_str(if echoes(&word) { REDACTED } else { &word });
    out
}

/// Replaces every occurrence of `secret` in `text` with `<redacted>`; for our own sentences,
/// where a fragment match could only be a coincidence.
pub(crate) fn redact_exact(text: &str, secret: &str) -> String {
    if secret.chars().count() < MIN_REDACTED_CHARS {
        return text.to_owned();
    }
    text.replace(secret, REDACTED)
}

/// Provider text made fit to show: secret redacted, whitespace and control characters
/// collapsed, trailing full stop dropped (our sentence adds its own), cut to about 300
/// characters. `None` when nothing is left.
pub(crate) fn clean_provider_text(text: &str, secret: &str) -> Option<String> {
    let redacted = redact(text, secret);
    let collapsed = redacted
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let trimmed = collapsed.trim_end_matches(['.', ' ', ':']);
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.chars().count() <= PROVIDER_TEXT_MAX_CHARS {
        return Some(trimmed.to_owned());
    }
    let cut: String = trimmed.chars().take(PROVIDER_TEXT_MAX_CHARS).collect();
    // Cutting may split a redacted marker or leave a fragment of an echo: redact again.
    Some(format!("{}…", redact(cut.trim_end(), secret)))
}

/// "1 model", "3 models".
pub(crate) fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// "in 30 seconds", "in 5 minutes".
fn wait_phrase(secs: u64) -> String {
    match secs {
        0 | 1 => "in a second".to_owned(),
        2..=119 => format!("in {secs} seconds"),
        120..=7199 => format!("in {} minutes", secs.div_ceil(60)),
        _ => format!("in {} hours", secs.div_ceil(3600)),
    }
}

/// "15 seconds", "300 ms".
fn duration_phrase(duration: Duration) -> String {
    if duration.subsec_millis() == 0 && duration.as_secs() > 0 {
        count(
            usize::try_from(duration.as_secs()).unwrap_or(usize::MAX),
            "second",
            "seconds",
        )
    } else {
        format!("{} ms", duration.as_millis())
    }
}

/// `host` or `host:port`, never the user info or path of `url`: safe to show and to log.
pub(crate) fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => "the configured address".to_owned(),
    }
}

/// The credential under check, as the sentences name it.
#[derive(Debug)]
pub(crate) struct Subject<'a> {
    /// "Hetzner", "the OpenAI-compatible server".
    provider: &'static str,
    /// "token", "key", "secret key".
    credential: &'static str,
    /// For redaction only; never formatted.
    secret: &'a str,
    /// What to do when the provider refuses the credential.
    fix: &'static str,
    /// Where the check goes, for connection messages.
    host: String,
}

impl<'a> Subject<'a> {
    pub(crate) fn new(
        provider: &'static str,
        credential: &'static str,
        secret: &'a str,
        fix: &'static str,
        host: String,
    ) -> Self {
        Self {
            provider,
            credential,
            secret,
            fix,
            host,
        }
    }

    /// The provider's name at the start of a sentence.
    pub(crate) fn provider(&self) -> Cow<'static, str> {
        let mut chars = self.provider.chars();
        match chars.next() {
            Some(first) if first.is_lowercase() => {
                Cow::Owned(first.to_uppercase().chain(chars).collect())
            }
            _ => Cow::Borrowed(self.provider),
        }
    }

    pub(crate) fn clean(&self, text: &str) -> Option<String> {
        clean_provider_text(text, self.secret)
    }

    fn outcome(&self, verdict: Verdict, message: String) -> CheckOutcome {
        CheckOutcome {
            verdict,
            message,
            retry_after_secs: None,
        }
    }

    /// Refuses a credential SAM can tell is wrong without asking: empty, or holding characters
    /// no credential has (a pasted line break). Nothing is sent.
    pub(crate) fn check_shape(&self) -> Result<(), CheckOutcome> {
        let problem = if self.secret.is_empty() {
            "is empty"
        } else if !self.secret.bytes().all(|b| b.is_ascii_graphic()) {
            "contains a space, a line break or another character no key has: paste it again, without them"
        } else {
            return Ok(());
        };
        Err(self.rejected_locally(&format!(
            "The {} for {} {problem}.",
            self.credential, self.provider
        )))
    }

    /// A refusal of the settings that come with the credential (a zone, a project ID), or of a
    /// credential of the wrong kind; `message` says what to do.
    pub(crate) fn invalid_setting(&self, message: String) -> CheckOutcome {
        self.outcome(Verdict::Rejected, message)
    }

    /// `prefix` + the secret as a header value marked sensitive.
    pub(crate) fn secret_header(&self, prefix: &str) -> Result<HeaderValue, CheckOutcome> {
        http::secret_header(&format!("{prefix}{}", self.secret)).ok_or_else(|| {
            self.rejected_locally(&format!(
                "The {} for {} contains characters that cannot be sent.",
                self.credential, self.provider
            ))
        })
    }

    /// `base` with `segments` appended.
    pub(crate) fn url(&self, base: &Url, segments: &[&str]) -> Result<Url, CheckOutcome> {
        http::join(base, segments).ok_or_else(|| self.unusable_address())
    }

    /// Sends `request`; no answer at all becomes an [`Verdict::Unreachable`] outcome.
    pub(crate) async fn send(
        &self,
        http: &Http,
        request: RequestBuilder,
    ) -> Result<Reply, CheckOutcome> {
        http.send(request)
            .await
            .map_err(|failure| self.transport(failure, http.total_timeout()))
    }

    /// `<Provider> accepted the key (<detail>).`
    pub(crate) fn accepted(&self, detail: &str) -> CheckOutcome {
        self.valid(format!(
            "{} accepted the {} ({detail}).",
            self.provider(),
            self.credential
        ))
    }

    pub(crate) fn valid(&self, message: String) -> CheckOutcome {
        self.outcome(Verdict::Valid, message)
    }

    pub(crate) fn read_only(&self, message: String) -> CheckOutcome {
        self.outcome(Verdict::ReadOnly, message)
    }

    /// A refusal decided before asking the provider; `why` is a full sentence.
    pub(crate) fn rejected_locally(&self, why: &str) -> CheckOutcome {
        self.outcome(Verdict::Rejected, format!("{why} {}", self.fix))
    }

    /// `<Provider> rejected the key: <their text>. <fix>`, with `fix` replacing the usual one.
    pub(crate) fn rejected_with_fix(
        &self,
        status: u16,
        text: Option<&str>,
        fix: &str,
    ) -> CheckOutcome {
        let said = match text.and_then(|t| self.clean(t)) {
            Some(text) => format!(": {text}."),
            None => format!(" (HTTP {status})."),
        };
        self.outcome(
            Verdict::Rejected,
            format!(
                "{} rejected the {}{said} {fix}",
                self.provider(),
                self.credential
            ),
        )
    }

    pub(crate) fn rejected(&self, status: u16, text: Option<&str>) -> CheckOutcome {
        self.rejected_with_fix(status, text, self.fix)
    }

    pub(crate) fn rate_limited(
        &self,
        text: Option<&str>,
        retry_after: Option<u64>,
    ) -> CheckOutcome {
        let said = text
            .and_then(|t| self.clean(t))
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        let when = retry_after.map_or_else(|| "in a minute".to_owned(), wait_phrase);
        CheckOutcome {
            verdict: Verdict::RateLimited,
            message: format!(
                "{} is limiting requests right now{said}, so the {} was not judged. Try again {when}.",
                self.provider(),
                self.credential
            ),
            retry_after_secs: retry_after,
        }
    }

    fn unreachable(&self, what_happened: String, advice: &str) -> CheckOutcome {
        self.outcome(
            Verdict::Unreachable,
            format!(
                "{what_happened}. The {} was not judged; {advice}.",
                self.credential
            ),
        )
    }

    pub(crate) fn server_error(&self, status: u16, text: Option<&str>) -> CheckOutcome {
        let said = text
            .and_then(|t| self.clean(t))
            .map(|t| format!(": {t}"))
            .unwrap_or_default();
        self.unreachable(
            format!(
                "{} had a server error (HTTP {status}{said})",
                self.provider()
            ),
            "try again in a few minutes",
        )
    }

    /// An answer no provider gives to this request: a redirect, a 404. Usually a wrong
    /// address, a captive portal or a proxy.
    pub(crate) fn unexpected_status(&self, status: u16, text: Option<&str>) -> CheckOutcome {
        let said = text
            .and_then(|t| self.clean(t))
            .map(|t| format!(": {t}"))
            .unwrap_or_default();
        let what = if (300..400).contains(&status) {
            format!(
                "{} answered with a redirect (HTTP {status})",
                self.provider()
            )
        } else {
            format!(
                "{} answered HTTP {status}{said}, which SAM did not expect",
                self.provider()
            )
        };
        self.unreachable(
            what,
            &format!(
                "check the address SAM uses for {} ({}) and any proxy in between",
                self.provider, self.host
            ),
        )
    }

    /// A success status with a body that is not the expected JSON.
    pub(crate) fn unreadable(&self) -> CheckOutcome {
        self.unreachable(
            format!(
                "{} answered with something SAM could not read (not the JSON it expected)",
                self.provider()
            ),
            &format!(
                "try again, and check the address SAM uses for {} ({}) if you changed it",
                self.provider, self.host
            ),
        )
    }

    /// The base address cannot take a path (never the case for http URLs; kept total).
    pub(crate) fn unusable_address(&self) -> CheckOutcome {
        self.unreachable(
            format!(
                "The address SAM has for {} is not a usable http(s) URL",
                self.provider
            ),
            "correct the address and try again",
        )
    }

    /// No HTTP answer at all.
    pub(crate) fn transport(&self, failure: Failure, total: Duration) -> CheckOutcome {
        let (what, advice) = match failure {
            Failure::Timeout => (
                format!(
                    "{} did not answer within {}",
                    self.provider(),
                    duration_phrase(total)
                ),
                "try again, and check your network if this keeps happening",
            ),
            Failure::Refused => (
                format!(
                    "{} could not be reached: {} refused the connection (nothing is listening there)",
                    self.provider(),
                    self.host
                ),
                "check the address, and that the server is running",
            ),
            Failure::Connect => (
                format!(
                    "{} could not be reached at {} (no network, a name that does not resolve, or a TLS failure)",
                    self.provider(),
                    self.host
                ),
                "check your network connection and try again",
            ),
            Failure::TooLarge => (
                format!(
                    "{} answered with far more data than a check needs",
                    self.provider()
                ),
                "check the address SAM uses for it",
            ),
            Failure::Interrupted => (
                format!(
                    "The connection to {} at {} broke off",
                    self.provider, self.host
                ),
                "try again",
            ),
        };
        self.unreachable(what, advice)
    }

    /// The judgement every provider shares for a non-2xx answer. `text` is the provider's own
    /// explanation, if its error body had one.
    pub(crate) fn judge_failure(
        &self,
        reply: &Reply,
        text: Option<&str>,
        now_unix: u64,
    ) -> CheckOutcome {
        let status = reply.status.as_u16();
        match status {
            429 => self.rate_limited(text, retry_after_secs(&reply.headers, now_unix)),
            // Not about the key: a wrong path, a proxy, a request timeout.
            404 | 405 | 407 | 408 => self.unexpected_status(status, text),
            400..=499 => self.rejected(status, text),
            500..=599 => self.server_error(status, text),
            _ => self.unexpected_status(status, text),
        }
    }
}

/// Either branch of a check's `Result`: checks use `?` to stop early with an outcome.
pub(crate) fn settle(result: Result<CheckOutcome, CheckOutcome>) -> CheckOutcome {
    match result {
        Ok(outcome) | Err(outcome) => outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "sk-test-0123456789abcdefghijklmnop";

    fn subject() -> Subject<'static> {
        Subject::new(
            "OpenAI",
            "key",
            SECRET,
            "Create a new key.",
            host_of(&Url::parse("https://api.openai.com/v1").unwrap()),
        )
    }

    #[test]
    fn redact_replaces_the_whole_secret() {
        let text = format!("Incorrect API key provided: {SECRET}. Try again.");
        assert_eq!(
            redact(&text, SECRET),
            "Incorrect API key provided: <redacted>. Try again."
        );
    }

    #[test]
    fn redact_catches_partial_echoes() {
        let truncated = &SECRET[..20];
        let text = format!("key \"{truncated}...\" is invalid");
        let redacted = redact(&text, SECRET);
        assert_eq!(redacted, "key \"<redacted>\" is invalid");
    }

    #[test]
    fn redact_leaves_masked_keys_and_ordinary_words() {
        let text = "Incorrect API key provided: sk-te*****************mnop. Visit the dashboard.";
        assert_eq!(redact(text, SECRET), text);
    }

    #[test]
    fn placeholder_secrets_are_not_redacted() {
        assert_eq!(redact("x marks the spot", "x"), "x marks the spot");
    }

    #[test]
    fn provider_text_is_collapsed_and_cut() {
        let long = format!("first\n\tline  {}", "word ".repeat(200));
        let cleaned = clean_provider_text(&long, SECRET).unwrap();
        assert!(cleaned.starts_with("first line word"));
        assert!(cleaned.ends_with('…'));
        assert!(cleaned.chars().count() <= PROVIDER_TEXT_MAX_CHARS + 1);
        assert_eq!(clean_provider_text("  .\n", SECRET), None);
        assert_eq!(
            clean_provider_text("Unauthorized.", SECRET).as_deref(),
            Some("Unauthorized")
        );
    }

    #[test]
    fn cutting_never_leaves_a_secret_fragment() {
        let text = format!("{}{SECRET}", "a".repeat(PROVIDER_TEXT_MAX_CHARS - 10));
        let cleaned = clean_provider_text(&text, SECRET).unwrap();
        assert!(!cleaned.contains(&SECRET[..10]), "{cleaned}");
    }

    #[test]
    fn accepted_message_shape() {
        let outcome = subject().accepted(&format!("{} available", count(3, "model", "models")));
        assert_eq!(outcome.verdict, Verdict::Valid);
        assert_eq!(
            outcome.message,
            "OpenAI accepted the key (3 models available)."
        );
        assert_eq!(count(1, "model", "models"), "1 model");
    }

    #[test]
    fn rejected_message_quotes_the_provider_and_says_what_to_do() {
        let outcome = subject().rejected(401, Some("Incorrect API key provided."));
        assert_eq!(outcome.verdict, Verdict::Rejected);
        assert_eq!(
            outcome.message,
            "OpenAI rejected the key: Incorrect API key provided. Create a new key."
        );
        let outcome = subject().rejected(401, None);
        assert_eq!(
            outcome.message,
            "OpenAI rejected the key (HTTP 401). Create a new key."
        );
    }

    #[test]
    fn rejected_message_redacts_an_echoed_key() {
        let text = format!("Invalid API key: {SECRET}");
        let outcome = subject().rejected(401, Some(&text));
        assert!(!outcome.message.contains(SECRET));
        assert!(outcome.message.contains("<redacted>"));
    }

    #[test]
    fn rate_limited_message_says_when() {
        let outcome = subject().rate_limited(Some("Rate limit reached"), Some(30));
        assert_eq!(outcome.verdict, Verdict::RateLimited);
        assert_eq!(outcome.retry_after_secs, Some(30));
        assert_eq!(
            outcome.message,
            "OpenAI is limiting requests right now (Rate limit reached), so the key was not judged. Try again in 30 seconds."
        );
        let outcome = subject().rate_limited(None, None);
        assert!(outcome.message.ends_with("Try again in a minute."));
        assert_eq!(wait_phrase(600), "in 10 minutes");
        assert_eq!(wait_phrase(1), "in a second");
    }

    #[test]
    fn unreachable_messages_say_the_key_was_not_judged() {
        let total = Duration::from_secs(15);
        for failure in [
            Failure::Timeout,
            Failure::Refused,
            Failure::Connect,
            Failure::TooLarge,
            Failure::Interrupted,
        ] {
            let outcome = subject().transport(failure, total);
            assert_eq!(outcome.verdict, Verdict::Unreachable);
            assert!(
                outcome.message.contains("The key was not judged"),
                "{}",
                outcome.message
            );
        }
        assert!(
            subject()
                .transport(Failure::Timeout, total)
                .message
                .starts_with("OpenAI did not answer within 15 seconds.")
        );
        assert!(
            subject()
                .transport(Failure::Refused, total)
                .message
                .contains("api.openai.com refused the connection")
        );
        let outcome = subject().server_error(503, Some("overloaded"));
        assert_eq!(
            outcome.message,
            "OpenAI had a server error (HTTP 503: overloaded). The key was not judged; try again in a few minutes."
        );
        assert_eq!(subject().unreadable().verdict, Verdict::Unreachable);
        assert_eq!(duration_phrase(Duration::from_millis(300)), "300 ms");
    }

    #[test]
    fn shape_check_refuses_empty_and_pasted_line_breaks() {
        let base = "api.hetzner.cloud".to_owned();
        let empty = Subject::new("Hetzner", "token", "", "Fix it.", base.clone());
        let outcome = empty.check_shape().unwrap_err();
        assert_eq!(outcome.verdict, Verdict::Rejected);
        assert_eq!(outcome.message, "The token for Hetzner is empty. Fix it.");
        let newline = Subject::new("Hetzner", "token", "abcd\n", "Fix it.", base.clone());
        assert_eq!(
            newline.check_shape().unwrap_err().verdict,
            Verdict::Rejected
        );
        let fine = Subject::new("Hetzner", "token", "abcd", "Fix it.", base);
        assert!(fine.check_shape().is_ok());
    }

    #[test]
    fn lower_case_provider_is_capitalised_at_sentence_start() {
        let base = Url::parse("http://user:pw@localhost:11434/v1").unwrap();
        let subject = Subject::new(
            "the OpenAI-compatible server",
            "key",
            "k",
            "Fix.",
            host_of(&base),
        );
        assert_eq!(
            subject.accepted("2 models available").message,
            "The OpenAI-compatible server accepted the key (2 models available)."
        );
        let refused = subject
            .transport(Failure::Refused, Duration::from_secs(5))
            .message;
        assert!(refused.contains("localhost:11434"), "{refused}");
        assert!(!refused.contains("pw"), "{refused}");
    }
}

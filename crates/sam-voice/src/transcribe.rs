//! Speech to text: the [`Transcriber`] trait, an OpenAI-compatible
//! `/v1/audio/transcriptions` client ([`OpenAiCompatible`]: OpenAI, Groq, Mistral, self-hosted
//! Whisper servers) and, with the `local-whisper` feature, whisper.cpp on the device
//! ([`crate::LocalWhisper`]).
//!
//! The text goes back to the caller and nowhere else. The API key is the caller's (the app
//! resolves it from its vault); it is sent in the `Authorization` header only, and scrubbed
//! from anything the provider says back before that becomes an error message.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::{StatusCode, Url};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::audio::{SPEECH_RATE, Utterance, decode_wav, encode_wav, is_wav, wav_size};
use crate::error::{VoiceError, scrub};

/// What to transcribe.
#[derive(Debug, Clone)]
pub enum AudioInput {
    /// Recorded speech (16 kHz mono), sent as a 16-bit WAV.
    Speech(Utterance),
    /// An audio file as it is (`file_name` gives the format by its extension: wav, mp3, m4a,
    /// flac, ogg, webm, …). WAV files over the upload limit are split; others are refused.
    File { bytes: Vec<u8>, file_name: String },
}

/// Hints for the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TranscribeOptions {
    /// ISO-639-1 language of the speech (`en`, `de`, …); `None` lets the model detect it.
    pub language: Option<String>,
    /// Words the model should expect (names, jargon): OpenAI's `prompt`.
    pub prompt: Option<String>,
}

/// The result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcript {
    pub text: String,
    /// The language the model reported, if it did.
    pub language: Option<String>,
    /// Length of the audio, when known.
    pub duration_secs: Option<f64>,
    /// How many requests it took (more than 1 when a long clip was split).
    pub chunks: usize,
    pub model: String,
}

/// A boxed future, so transcribers can live behind `dyn Transcriber`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Anything that turns audio into text.
pub trait Transcriber: Send + Sync {
    fn transcribe<'a>(
        &'a self,
        audio: AudioInput,
        options: &'a TranscribeOptions,
    ) -> BoxFuture<'a, Result<Transcript, VoiceError>>;
}

/// An API key. Prints as `<redacted>`, is wiped from memory when dropped.
#[derive(Clone)]
pub struct ApiKey(Zeroizing<String>);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(Zeroizing::new(key.into()))
    }
    fn expose(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The upload limit of OpenAI's endpoint (and Groq's free tier): 25 MB.
pub const OPENAI_MAX_UPLOAD: u64 = 25 * 1024 * 1024;

/// Where to send audio and how.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Up to and including `/v1`, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// `None` for servers that need no key (a local Whisper server).
    pub api_key: Option<ApiKey>,
    pub model: String,
    /// Clips larger than this are split (WAV) or refused.
    pub max_upload_bytes: u64,
    /// One request, upload included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after 429 and 5xx answers.
    pub max_retries: u32,
    /// A 429 that asks to wait longer than this is reported, not waited out.
    pub max_retry_wait: Duration,
}

impl OpenAiConfig {
    /// Any OpenAI-compatible server.
    pub fn custom(
        base_url: impl Into<String>,
        api_key: Option<ApiKey>,
        model: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            api_key,
            model: model.into(),
            max_upload_bytes: OPENAI_MAX_UPLOAD,
            timeout: Duration::from_secs(180),
            connect_timeout: Duration::from_secs(15),
            max_retries: 2,
            max_retry_wait: Duration::from_secs(20),
        }
    }

    /// OpenAI, `whisper-1`.
    pub fn openai(api_key: ApiKey) -> Self {
        Self::custom("https://api.openai.com/v1", Some(api_key), "whisper-1")
    }

    /// Groq, `whisper-large-v3-turbo`.
    pub fn groq(api_key: ApiKey) -> Self {
        Self::custom(
            "https://api.groq.com/openai/v1",
            Some(api_key),
            "whisper-large-v3-turbo",
        )
    }

    /// Mistral, `voxtral-mini-latest`.
    pub fn mistral(api_key: ApiKey) -> Self {
        Self::custom(
            "https://api.mistral.ai/v1",
            Some(api_key),
            "voxtral-mini-latest",
        )
    }
}

/// The `/audio/transcriptions` client.
#[derive(Debug, Clone)]
pub struct OpenAiCompatible {
    config: OpenAiConfig,
    url: Url,
    http: reqwest::Client,
}

/// Extensions OpenAI's endpoint accepts, with their MIME types.
const FORMATS: &[(&str, &str)] = &[
    ("flac", "audio/flac"),
    ("mp3", "audio/mpeg"),
    ("mp4", "audio/mp4"),
    ("mpeg", "audio/mpeg"),
    ("mpga", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("ogg", "audio/ogg"),
    ("oga", "audio/ogg"),
    ("opus", "audio/ogg"),
    ("wav", "audio/wav"),
    ("webm", "audio/webm"),
];

/// One upload.
#[derive(Debug)]
struct Upload {
    bytes: Vec<u8>,
    file_name: String,
    mime: &'static str,
}

impl OpenAiCompatible {
    pub fn new(config: OpenAiConfig) -> Result<Self, VoiceError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("sam-desktop/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| VoiceError::Internal(format!("HTTP client: {e}")))?;
        Self::with_client(config, http)
    }

    /// With a client of the caller's (proxy settings, shared connection pool).
    pub fn with_client(config: OpenAiConfig, http: reqwest::Client) -> Result<Self, VoiceError> {
        let base = config.base_url.trim().trim_end_matches('/');
        let url = Url::parse(&format!("{base}/audio/transcriptions")).map_err(|_| {
            VoiceError::InvalidInput(format!(
                "\"{}\" is not a URL. Give the service's base URL, e.g. https://api.openai.com/v1.",
                strip_userinfo(&config.base_url)
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(VoiceError::InvalidInput(
                "The transcription base URL must start with http:// or https://.".into(),
            ));
        }
        if config.model.trim().is_empty() {
            return Err(VoiceError::InvalidInput(
                "Name the transcription model.".into(),
            ));
        }
        if config.max_upload_bytes < wav_size(SPEECH_RATE as usize) {
            return Err(VoiceError::InvalidInput(
                "The upload limit must allow at least one second of audio.".into(),
            ));
        }
        Ok(Self { config, url, http })
    }

    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    async fn run(
        &self,
        audio: AudioInput,
        options: &TranscribeOptions,
    ) -> Result<Transcript, VoiceError> {
        let uploads = self.prepare(audio)?;
        let mut texts = Vec::with_capacity(uploads.len());
        let mut language = None;
        let mut duration = 0.0;
        let mut duration_known = true;
        for upload in &uploads {
            let reply = self.send(upload, options).await?;
            let text = reply.text.trim().to_owned();
            if !text.is_empty() {
                texts.push(text);
            }
            if language.is_none() {
                language = reply.language;
            }
            match reply.duration {
                Some(d) => duration += d,
                None => duration_known = false,
            }
        }
        if texts.is_empty() {
            return Err(VoiceError::NoSpeech);
        }
        Ok(Transcript {
            text: texts.join(" "),
            language,
            duration_secs: duration_known.then_some(duration),
            chunks: uploads.len(),
            model: self.config.model.clone(),
        })
    }

    /// The uploads for `audio`: one, or a long WAV split under the limit.
    fn prepare(&self, audio: AudioInput) -> Result<Vec<Upload>, VoiceError> {
        let limit = self.config.max_upload_bytes;
        match audio {
            AudioInput::Speech(utterance) => {
                if utterance.samples.is_empty() {
                    return Err(VoiceError::NoSpeech);
                }
                if utterance.sample_rate != SPEECH_RATE {
                    return Err(VoiceError::InvalidInput(format!(
                        "speech must be {SPEECH_RATE} Hz, got {} Hz",
                        utterance.sample_rate
                    )));
                }
                self.split_speech(&utterance.samples)
            }
            AudioInput::File { bytes, file_name } => {
                if bytes.is_empty() {
                    return Err(VoiceError::UnsupportedAudio("the file is empty".into()));
                }
                let wav = is_wav(&bytes);
                let extension = file_name
                    .rsplit_once('.')
                    .map(|(_, e)| e.to_ascii_lowercase())
                    .unwrap_or_default();
                let format = FORMATS.iter().find(|(e, _)| *e == extension);
                if bytes.len() as u64 <= limit {
                    let (file_name, mime) = match (format, wav) {
                        (Some((_, mime)), _) => (file_name, *mime),
                        (None, true) => ("audio.wav".to_owned(), "audio/wav"),
                        (None, false) => {
                            return Err(VoiceError::UnsupportedAudio(format!(
                                "\"{file_name}\" is not a format transcription services take; use one of {}",
                                FORMATS
                                    .iter()
                                    .map(|(e, _)| *e)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )));
                        }
                    };
                    return Ok(vec![Upload {
                        bytes,
                        file_name,
                        mime,
                    }]);
                }
                if !wav {
                    return Err(VoiceError::TooLarge {
                        bytes: bytes.len() as u64,
                        limit,
                    });
                }
                // A large WAV: 16 kHz mono 16-bit is all a speech model uses, and often small
                // enough already; split what is still too large.
                let speech = decode_wav(&bytes)?.to_speech()?;
                self.split_speech(&speech)
            }
        }
    }

    fn split_speech(&self, samples: &[f32]) -> Result<Vec<Upload>, VoiceError> {
        let max_samples = ((self.config.max_upload_bytes - 44) / 2) as usize;
        split_at_quiet(samples, max_samples)
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                Ok(Upload {
                    bytes: encode_wav(part, SPEECH_RATE)?,
                    file_name: format!("speech-{}.wav", i + 1),
                    mime: "audio/wav",
                })
            })
            .collect()
    }

    /// One upload, with retries on 429 and 5xx.
    async fn send(
        &self,
        upload: &Upload,
        options: &TranscribeOptions,
    ) -> Result<Reply, VoiceError> {
        let key = self.config.api_key.as_ref().map(ApiKey::expose);
        let mut attempt = 0;
        loop {
            let part = Part::bytes(upload.bytes.clone())
                .file_name(upload.file_name.clone())
                .mime_str(upload.mime)
                .map_err(|e| VoiceError::Internal(format!("multipart: {e}")))?;
            let mut form = Form::new()
                .part("file", part)
                .text("model", self.config.model.clone())
                .text("response_format", "json");
            if let Some(language) = options.language.as_deref().filter(|l| !l.is_empty()) {
                form = form.text("language", language.to_owned());
            }
            if let Some(prompt) = options.prompt.as_deref().filter(|p| !p.is_empty()) {
                form = form.text("prompt", prompt.to_owned());
            }
            let mut request = self
                .http
                .post(self.url.clone())
                .timeout(self.config.timeout)
                .multipart(form);
            if let Some(key) = key.filter(|k| !k.is_empty()) {
                request = request.bearer_auth(key);
            }
            tracing::debug!(url = %strip_userinfo(self.url.as_str()), bytes = upload.bytes.len(), attempt, "transcription request");
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) if e.is_timeout() => {
                    return Err(VoiceError::Timeout(self.config.timeout.as_secs().max(1)));
                }
                Err(e) => {
                    let connect = e.is_connect();
                    let reason = scrub(&error_chain(&e.without_url()), key);
                    if attempt < self.config.max_retries && connect {
                        attempt += 1;
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                    return Err(VoiceError::Network(format!(
                        "{reason} ({})",
                        strip_userinfo(self.url.as_str())
                    )));
                }
            };
            let status = response.status();
            let retry_after = retry_after(response.headers());
            let body = match response.text().await {
                Ok(body) => body,
                Err(e) if e.is_timeout() => {
                    return Err(VoiceError::Timeout(self.config.timeout.as_secs().max(1)));
                }
                Err(e) => {
                    return Err(VoiceError::Network(scrub(
                        &error_chain(&e.without_url()),
                        key,
                    )));
                }
            };
            if status.is_success() {
                return parse_reply(&body);
            }
            let (message, code) = provider_message(&body, status);
            let message = scrub(&message, key);
            tracing::warn!(status = status.as_u16(), %message, "transcription request failed");
            match status {
                StatusCode::TOO_MANY_REQUESTS => {
                    let out_of_quota = code.as_deref() == Some("insufficient_quota");
                    let wait = retry_after.unwrap_or_else(|| backoff(attempt + 1));
                    if !out_of_quota
                        && attempt < self.config.max_retries
                        && wait <= self.config.max_retry_wait
                    {
                        attempt += 1;
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(VoiceError::RateLimited {
                        retry_after_secs: retry_after.map(|d| d.as_secs_f64().ceil() as u64),
                        message,
                    });
                }
                s if s.is_server_error() && attempt < self.config.max_retries => {
                    attempt += 1;
                    let wait = retry_after
                        .filter(|w| *w <= self.config.max_retry_wait)
                        .unwrap_or_else(|| backoff(attempt));
                    tokio::time::sleep(wait).await;
                    continue;
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    return Err(VoiceError::AuthFailed(message));
                }
                StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(VoiceError::TooLarge {
                        bytes: upload.bytes.len() as u64,
                        limit: self.config.max_upload_bytes.min(upload.bytes.len() as u64),
                    });
                }
                StatusCode::NOT_FOUND => {
                    return Err(VoiceError::TranscriptionFailed {
                        status: Some(404),
                        message: format!(
                            "{message} (check the base URL and that the service has the model \"{}\")",
                            self.config.model
                        ),
                    });
                }
                s => {
                    return Err(VoiceError::TranscriptionFailed {
                        status: Some(s.as_u16()),
                        message,
                    });
                }
            }
        }
    }
}

impl Transcriber for OpenAiCompatible {
    fn transcribe<'a>(
        &'a self,
        audio: AudioInput,
        options: &'a TranscribeOptions,
    ) -> BoxFuture<'a, Result<Transcript, VoiceError>> {
        Box::pin(self.run(audio, options))
    }
}

/// A successful answer.
#[derive(Debug, serde::Deserialize)]
struct Reply {
    text: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    duration: Option<f64>,
}

fn parse_reply(body: &str) -> Result<Reply, VoiceError> {
    serde_json::from_str::<Reply>(body).map_err(|_| VoiceError::TranscriptionFailed {
        status: None,
        message: format!(
            "the service answered with something other than a transcript: {}",
            scrub(body, None).chars().take(200).collect::<String>()
        ),
    })
}

/// The provider's reason, from the error shapes in use: OpenAI/Groq
/// `{"error": {"message", "code"}}`, Mistral/FastAPI `{"message"}` / `{"detail"}`, plain text.
fn provider_message(body: &str, status: StatusCode) -> (String, Option<String>) {
    let fallback = || {
        let text = body.trim();
        if text.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("no reason given")
                .to_owned()
        } else {
            text.chars().take(300).collect()
        }
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else {
        return (fallback(), None);
    };
    let error = &json["error"];
    let code = error["code"]
        .as_str()
        .or_else(|| error["type"].as_str())
        .map(str::to_owned);
    let message = error["message"]
        .as_str()
        .or_else(|| error.as_str())
        .or_else(|| json["message"].as_str())
        .or_else(|| json["detail"].as_str())
        .map(str::to_owned)
        .or_else(|| {
            json["detail"]
                .as_array()
                .and_then(|d| d.first())
                .and_then(|d| d["msg"].as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(fallback);
    (message, code)
}

/// `Retry-After` (seconds) or `retry-after-ms`. HTTP dates are not used by these services.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0 && *v < 1e9)
        .map(Duration::from_secs_f64)
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64 << attempt.min(5))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// A URL with any `user:password@` removed, for messages.
fn strip_userinfo(url: &str) -> String {
    match Url::parse(url.trim()) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "(invalid URL)".to_owned(),
    }
}

/// Splits `samples` into parts of at most `max` samples, each cut at the quietest 100 ms in
/// the last quarter before the limit, so words are not cut in half.
pub fn split_at_quiet(samples: &[f32], max: usize) -> Vec<&[f32]> {
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut start = 0;
    while samples.len() - start > max {
        let limit = start + max;
        let search_from = limit - (max / 4).min(30 * SPEECH_RATE as usize);
        let window = (SPEECH_RATE as usize / 10).min(max / 4).max(1);
        let step = (window / 10).max(1);
        let mut best = (f32::INFINITY, limit);
        let mut at = search_from;
        while at + window <= limit {
            let energy: f32 = samples[at..at + window].iter().map(|v| v * v).sum();
            if energy < best.0 {
                best = (energy, at + window / 2);
            }
            at += step;
        }
        let cut = best.1.clamp(start + 1, limit);
        parts.push(&samples[start..cut]);
        start = cut;
    }
    parts.push(&samples[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_cuts_in_the_quiet_and_covers_everything() {
        // 10 s of "speech" with a silent gap at 3.5 s.
        let mut x: Vec<f32> = (0..160_000)
            .map(|i| ((i as f32) * 0.05).sin() * 0.3)
            .collect();
        x[56_000..57_600].iter_mut().for_each(|v| *v = 0.0);
        let parts = split_at_quiet(&x, 64_000);
        assert!(parts.iter().all(|p| p.len() <= 64_000));
        assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), x.len());
        // The first cut lands inside the gap.
        assert!(
            (56_000..57_600).contains(&parts[0].len()),
            "{}",
            parts[0].len()
        );
    }

    #[test]
    fn provider_messages_in_every_shape() {
        let s = StatusCode::BAD_REQUEST;
        assert_eq!(
            provider_message(
                r#"{"error":{"message":"Bad file","type":"invalid_request_error","code":null}}"#,
                s
            ),
            ("Bad file".into(), Some("invalid_request_error".into()))
        );
        assert_eq!(
            provider_message(r#"{"message":"Unauthorized"}"#, s).0,
            "Unauthorized"
        );
        assert_eq!(provider_message(r#"{"detail":"Nope"}"#, s).0, "Nope");
        assert_eq!(
            provider_message(r#"{"detail":[{"msg":"field required"}]}"#, s).0,
            "field required"
        );
        assert_eq!(provider_message("upstream down", s).0, "upstream down");
        assert_eq!(
            provider_message("", StatusCode::BAD_GATEWAY).0,
            "Bad Gateway"
        );
    }

    #[test]
    fn api_key_never_prints() {
        let key = ApiKey::new("sk-secret");
        assert_eq!(format!("{key:?}"), "<redacted>");
        let config = OpenAiConfig::openai(key);
        assert!(!format!("{config:?}").contains("sk-secret"));
    }

    #[test]
    fn urls_are_checked_and_credentials_kept_out_of_messages() {
        let bad = OpenAiCompatible::new(OpenAiConfig::custom("ftp://x/v1", None, "m")).unwrap_err();
        assert_eq!(bad.code(), "invalid_input");
        assert_eq!(strip_userinfo("https://u:pw@host/v1"), "https://host/v1");
    }
}

//! The OpenAI-compatible client against a local server that checks the multipart request the
//! way OpenAI's `/v1/audio/transcriptions` does and answers with its responses and errors
//! (401, 404, 413, 429 with `retry-after`, 500).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly by design"
)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sam_voice::{
    ApiKey, AudioInput, OpenAiCompatible, OpenAiConfig, SPEECH_RATE, TranscribeOptions,
    Transcriber, Utterance, VoiceError, decode_wav, encode_wav,
};
use serde_json::json;

const KEY: &str = "sk-test-0123456789abcdef";
const FORMATS: &[&str] = &[
    "flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm",
];
const MODELS: &[&str] = &["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"];

/// What the server does with the next request.
#[derive(Debug, Clone)]
enum Script {
    /// 429 with `retry-after` (seconds).
    RateLimited(u64),
    /// 429 for an account out of credit (never worth retrying).
    OutOfQuota,
    ServerError,
    /// Answer after this long.
    Slow(Duration),
    /// Answer with this text instead of the default.
    Text(String),
}

/// One request as the server saw it.
#[derive(Debug, Clone, Default)]
struct Seen {
    auth: Option<String>,
    fields: BTreeMap<String, String>,
    file_name: Option<String>,
    file_type: Option<String>,
    file_bytes: usize,
    /// When the file is a WAV: rate, channels, bits, duration.
    wav: Option<(u32, u16, u16, u64)>,
}

#[derive(Default)]
struct Fake {
    script: Mutex<VecDeque<Script>>,
    seen: Mutex<Vec<Seen>>,
    /// The upload limit OpenAI enforces (25 MB there; smaller here).
    max_body: Mutex<usize>,
}

fn openai_error(status: StatusCode, message: &str, kind: &str, code: Option<&str>) -> Response {
    (
        status,
        axum::Json(
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
        ),
    )
        .into_response()
}

async fn transcriptions(
    State(fake): State<Arc<Fake>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // 1. Authentication, before anything is read.
    match auth.as_deref().and_then(|a| a.strip_prefix("Bearer ")) {
        Some(KEY) => {}
        Some(other) => {
            return openai_error(
                StatusCode::UNAUTHORIZED,
                &format!(
                    "Incorrect API key provided: {other}. You can find your API key at https://platform.openai.com/account/api-keys."
                ),
                "invalid_request_error",
                Some("invalid_api_key"),
            );
        }
        None => {
            return openai_error(
                StatusCode::UNAUTHORIZED,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
                None,
            );
        }
    }
    // 2. Size, from Content-Length.
    let length: usize = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let max = *fake.max_body.lock().unwrap();
    if length > max {
        return openai_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("Maximum content size limit ({max}) exceeded ({length} bytes read)"),
            "server_error",
            None,
        );
    }
    // 3. The multipart body, field by field.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("multipart/form-data; boundary=") {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "Invalid Content-Type header",
            "invalid_request_error",
            None,
        );
    }
    let mut multipart = match Multipart::from_request(request, &()).await {
        Ok(m) => m,
        Err(e) => {
            return openai_error(
                StatusCode::BAD_REQUEST,
                &e.to_string(),
                "invalid_request_error",
                None,
            );
        }
    };
    let mut seen = Seen {
        auth,
        ..Seen::default()
    };
    let mut file = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                seen.file_name = field.file_name().map(str::to_owned);
                seen.file_type = field.content_type().map(str::to_owned);
                file = Some(field.bytes().await.unwrap());
            }
            "model" | "response_format" | "language" | "prompt" | "temperature" => {
                let value = field.text().await.unwrap();
                seen.fields.insert(name, value);
            }
            other => {
                return openai_error(
                    StatusCode::BAD_REQUEST,
                    &format!("Unrecognized request argument supplied: {other}"),
                    "invalid_request_error",
                    None,
                );
            }
        }
    }
    let Some(file) = file else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "1 validation error for Request\nbody -> file\n  field required (type=value_error.missing)",
            "invalid_request_error",
            None,
        );
    };
    seen.file_bytes = file.len();
    let Some(model) = seen.fields.get("model").cloned() else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "you must provide a model parameter",
            "invalid_request_error",
            None,
        );
    };
    if !MODELS.contains(&model.as_str()) {
        return openai_error(
            StatusCode::NOT_FOUND,
            &format!("The model `{model}` does not exist or you do not have access to it."),
            "invalid_request_error",
            Some("model_not_found"),
        );
    }
    if let Some(format) = seen.fields.get("response_format")
        && !["json", "text", "srt", "verbose_json", "vtt"].contains(&format.as_str())
    {
        return openai_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "'{format}' is not one of ['json', 'text', 'srt', 'verbose_json', 'vtt'] - 'response_format'"
            ),
            "invalid_request_error",
            None,
        );
    }
    let extension = seen
        .file_name
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !FORMATS.contains(&extension.as_str()) {
        return openai_error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid file format. Supported formats: {FORMATS:?}"),
            "invalid_request_error",
            None,
        );
    }
    if extension == "wav" {
        match decode_wav(&file) {
            Ok(d) => {
                let frames = d.samples.len() / usize::from(d.channels);
                let ms = frames as u64 * 1000 / u64::from(d.sample_rate);
                let bits = hound::WavReader::new(std::io::Cursor::new(&file[..]))
                    .unwrap()
                    .spec()
                    .bits_per_sample;
                seen.wav = Some((d.sample_rate, d.channels, bits, ms));
            }
            Err(_) => {
                return openai_error(
                    StatusCode::BAD_REQUEST,
                    "Audio file might be corrupted or unsupported",
                    "invalid_request_error",
                    None,
                );
            }
        }
    }
    let n = {
        let mut all = fake.seen.lock().unwrap();
        all.push(seen.clone());
        all.len()
    };
    let step = fake.script.lock().unwrap().pop_front();
    let text = match step {
        Some(Script::RateLimited(secs)) => {
            let mut r = openai_error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for whisper-1 in organization org-test on requests per min (RPM): Limit 3, Used 3, Requested 1.",
                "requests",
                Some("rate_limit_exceeded"),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, secs.to_string().parse().unwrap());
            return r;
        }
        Some(Script::OutOfQuota) => {
            return openai_error(
                StatusCode::TOO_MANY_REQUESTS,
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                Some("insufficient_quota"),
            );
        }
        Some(Script::ServerError) => {
            return openai_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
            );
        }
        Some(Script::Slow(d)) => {
            tokio::time::sleep(d).await;
            format!("part {n}")
        }
        Some(Script::Text(t)) => t,
        None => format!("part {n}"),
    };
    axum::Json(json!({"text": text, "usage": {"type": "duration", "seconds": 1}})).into_response()
}

struct Server {
    fake: Arc<Fake>,
    base: String,
}

impl Server {
    async fn start() -> Self {
        let fake = Arc::new(Fake::default());
        *fake.max_body.lock().unwrap() = 25 * 1024 * 1024;
        let app = Router::new()
            .route("/v1/audio/transcriptions", post(transcriptions))
            .layer(DefaultBodyLimit::disable())
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { fake, base }
    }

    fn script(&self, steps: impl IntoIterator<Item = Script>) {
        self.fake.script.lock().unwrap().extend(steps);
    }

    fn seen(&self) -> Vec<Seen> {
        self.fake.seen.lock().unwrap().clone()
    }

    fn config(&self, key: &str) -> OpenAiConfig {
        let mut c = OpenAiConfig::custom(&self.base, Some(ApiKey::new(key)), "whisper-1");
        c.timeout = Duration::from_secs(10);
        c
    }

    fn client(&self) -> OpenAiCompatible {
        OpenAiCompatible::new(self.config(KEY)).unwrap()
    }
}

/// Speech-like audio: a buzz with syllable-rate envelope, quiet gaps every ~2 s.
fn speechy(secs: f32) -> Vec<f32> {
    let n = (secs * SPEECH_RATE as f32) as usize;
    (0..n)
        .map(|i| {
            let t = i as f32 / SPEECH_RATE as f32;
            let gap = (t % 2.0) > 1.7;
            if gap {
                0.0
            } else {
                0.3 * (0.6 + 0.4 * (2.0 * std::f32::consts::PI * 4.0 * t).sin())
                    * (2.0 * std::f32::consts::PI * 160.0 * t).sin()
            }
        })
        .collect()
}

fn speech(secs: f32) -> AudioInput {
    AudioInput::Speech(Utterance::from_samples(speechy(secs)))
}

#[tokio::test]
async fn sends_what_openai_expects_and_returns_the_text() {
    let server = Server::start().await;
    server.script([Script::Text(" Turn on dark mode. ".into())]);
    let options = TranscribeOptions {
        language: Some("en".into()),
        prompt: Some("SAM Desktop".into()),
    };
    let t = server
        .client()
        .transcribe(speech(1.5), &options)
        .await
        .unwrap();
    assert_eq!(t.text, "Turn on dark mode.");
    assert_eq!(t.chunks, 1);
    assert_eq!(t.model, "whisper-1");
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(s.auth.as_deref(), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(s.fields["model"], "whisper-1");
    assert_eq!(s.fields["response_format"], "json");
    assert_eq!(s.fields["language"], "en");
    assert_eq!(s.fields["prompt"], "SAM Desktop");
    assert_eq!(s.file_type.as_deref(), Some("audio/wav"));
    assert!(s.file_name.as_deref().unwrap().ends_with(".wav"));
    assert_eq!(s.wav, Some((16_000, 1, 16, 1500)));
}

#[tokio::test]
async fn a_wrong_key_is_auth_failed_with_the_providers_reason_and_never_the_key() {
    let server = Server::start().await;
    let wrong = "sk-wrong-key-that-must-not-leak-42";
    let client = OpenAiCompatible::new(server.config(wrong)).unwrap();
    let e = client
        .transcribe(speech(1.0), &TranscribeOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "auth_failed");
    let text = e.to_string();
    assert!(text.contains("Incorrect API key provided"), "{text}");
    assert!(!text.contains(wrong), "{text}");
    assert!(!format!("{e:?}").contains(wrong));
    assert!(!serde_json::to_string(&e).unwrap().contains(wrong));
}

#[tokio::test]
async fn an_unknown_model_is_reported_with_a_hint() {
    let server = Server::start().await;
    let mut config = server.config(KEY);
    config.model = "whisper-9".into();
    let e = OpenAiCompatible::new(config)
        .unwrap()
        .transcribe(speech(1.0), &TranscribeOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            VoiceError::TranscriptionFailed {
                status: Some(404),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("The model `whisper-9` does not exist"),
        "{e}"
    );
}

#[tokio::test]
async fn the_servers_413_is_too_large() {
    let server = Server::start().await;
    *server.fake.max_body.lock().unwrap() = 20_000;
    let e = server
        .client()
        .transcribe(speech(2.0), &TranscribeOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "too_large", "{e}");
}

#[tokio::test]
async fn rate_limits_are_waited_out_when_retry_after_is_short() {
    let server = Server::start().await;
    server.script([Script::RateLimited(1)]);
    let started = Instant::now();
    let t = server
        .client()
        .transcribe(speech(1.0), &TranscribeOptions::default())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retried before retry-after"
    );
    assert_eq!(server.seen().len(), 2);
    assert_eq!(t.text, "part 2");
}

#[tokio::test]
async fn a_long_retry_after_or_no_quota_is_reported_not_waited() {
    let server = Server::start().await;
    server.script([Script::RateLimited(120), Script::OutOfQuota]);
    let client = server.client();
    let e = client
        .transcribe(speech(1.0), &TranscribeOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &e,
            VoiceError::RateLimited {
                retry_after_secs: Some(120),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("Rate limit reached for whisper-1"),
        "{e}"
    );
    let e = client
        .transcribe(speech(1.0), &TranscribeOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "rate_limited");
    assert!(e.to_string().contains("exceeded your current quota"), "{e}");
    assert_eq!(server.seen().len(), 2, "neither was retried");
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_with_the_reason() {
    let server = Server::start().await;
    server.script([Script::ServerError, Script::ServerError]);
    let mut config = server.config(KEY);
    config.max_retries = 1;
    let e = OpenAiCompatible::new(config)
        .unwrap()
        .transcribe(speech(1.0), &TranscribeOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            VoiceError::TranscriptionFailed {
                status: Some(500),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("The server had an error while processing your request"),
        "{e}"
    );
    assert!(e.is_retryable());
    assert_eq!(server.seen().len(), 2);

    // One 500, then fine: the retry hides it.
    server.script([Script::ServerError]);
    let t = server
        .client()
        .transcribe(speech(1.0), &TranscribeOptions::default())
        .await
        .unwrap();
    assert_eq!(t.text, "part 4");
}

#[tokio::test]
async fn long_speech_is_split_under_the_limit_in_order() {
    let server = Server::start().await;
    let mut config = server.config(KEY);
    config.max_upload_bytes = 200_000; // ~6.2 s of 16 kHz 16-bit mono
    let samples = speechy(20.0);
    let t = OpenAiCompatible::new(config)
        .unwrap()
        .transcribe(
            AudioInput::Speech(Utterance::from_samples(samples)),
            &TranscribeOptions::default(),
        )
        .await
        .unwrap();
    let seen = server.seen();
    assert!(seen.len() >= 4, "{} parts", seen.len());
    assert_eq!(t.chunks, seen.len());
    assert!(seen.iter().all(|s| s.file_bytes <= 200_000));
    let total: u64 = seen.iter().map(|s| s.wav.unwrap().3).sum();
    assert!(
        (19_990..=20_000).contains(&total),
        "{total} ms sent of 20 000"
    );
    let expected: Vec<String> = (1..=seen.len()).map(|n| format!("part {n}")).collect();
    assert_eq!(t.text, expected.join(" "));
}

#[tokio::test]
async fn files_go_as_they_are_large_wavs_are_converted_and_others_refused() {
    let server = Server::start().await;
    let mut config = server.config(KEY);
    config.max_upload_bytes = 400_000;
    let client = OpenAiCompatible::new(config).unwrap();

    // A small mp3 goes as it is, with its name and type.
    let t = client
        .transcribe(
            AudioInput::File {
                bytes: vec![0xFF; 1000],
                file_name: "memo.MP3".into(),
            },
            &TranscribeOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(t.text, "part 1");
    let s = &server.seen()[0];
    assert_eq!(
        (s.file_name.as_deref(), s.file_type.as_deref()),
        (Some("memo.MP3"), Some("audio/mpeg"))
    );

    // A 48 kHz stereo WAV over the limit becomes 16 kHz mono (and fits).
    let stereo: Vec<f32> = speechy(6.0).iter().flat_map(|s| [*s, *s]).collect();
    let resampled_up = sam_voice::resample(
        &stereo.chunks(2).map(|c| c[0]).collect::<Vec<_>>(),
        16_000,
        48_000,
    )
    .unwrap();
    let interleaved: Vec<f32> = resampled_up.iter().flat_map(|s| [*s, *s]).collect();
    let big = {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = std::io::Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
        for s in &interleaved {
            w.write_sample((s * 32767.0) as i16).unwrap();
        }
        w.finalize().unwrap();
        out.into_inner()
    };
    assert!(big.len() > 400_000);
    client
        .transcribe(
            AudioInput::File {
                bytes: big,
                file_name: "meeting.wav".into(),
            },
            &TranscribeOptions::default(),
        )
        .await
        .unwrap();
    let s = &server.seen()[1];
    let (rate, channels, bits, ms) = s.wav.unwrap();
    assert_eq!((rate, channels, bits), (16_000, 1, 16));
    assert!((5990..=6000).contains(&ms), "{ms}");

    // A large file in a format that cannot be split is refused before any upload.
    let e = client
        .transcribe(
            AudioInput::File {
                bytes: vec![0; 500_000],
                file_name: "podcast.mp3".into(),
            },
            &TranscribeOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "too_large");
    // …and so is a format no service takes.
    let e = client
        .transcribe(
            AudioInput::File {
                bytes: b"hello".to_vec(),
                file_name: "notes.txt".into(),
            },
            &TranscribeOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unsupported_audio");
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn slow_servers_time_out_and_empty_text_is_no_speech() {
    let server = Server::start().await;
    server.script([
        Script::Slow(Duration::from_secs(3)),
        Script::Text("  ".into()),
    ]);
    let mut config = server.config(KEY);
    config.timeout = Duration::from_millis(500);
    let client = OpenAiCompatible::new(config).unwrap();
    let started = Instant::now();
    let e = client
        .transcribe(speech(1.0), &TranscribeOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "timeout", "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
    let e = server
        .client()
        .transcribe(speech(1.0), &TranscribeOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e, VoiceError::NoSpeech);
}

#[tokio::test]
async fn an_unreachable_server_is_a_network_error() {
    // Bind and drop a listener: nothing listens on that port now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = OpenAiConfig::custom(
        format!("http://user:pw@127.0.0.1:{port}/v1"),
        Some(ApiKey::new(KEY)),
        "whisper-1",
    );
    config.max_retries = 0;
    let e = OpenAiCompatible::new(config)
        .unwrap()
        .transcribe(speech(1.0), &TranscribeOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "network", "{e}");
    assert!(!e.to_string().contains("pw@"), "{e}");
    assert!(e.is_retryable());
}

#[test]
fn speech_round_trips_through_wav() {
    let samples = speechy(0.5);
    let wav = encode_wav(&samples, SPEECH_RATE).unwrap();
    assert_eq!(decode_wav(&wav).unwrap().samples.len(), samples.len());
}

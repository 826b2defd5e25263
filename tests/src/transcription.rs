//! A local stand-in for OpenAI's `POST /v1/audio/transcriptions`: it checks the bearer key and
//! the multipart request the way the API does (`file` present with a supported extension and
//! decodable, `model` known, `response_format` valid), records what it saw, and answers with
//! the scripted transcript — but only for audible audio: a silent upload gets `{"text": ""}`,
//! as a speech model gives, so a transcript in the app proves captured sound reached it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use crate::sound::{WavFacts, wav_facts};

/// Audio quieter than this (RMS, full scale 1.0; about -46 dBFS) counts as silence.
pub const SILENCE_RMS: f32 = 0.005;

const FORMATS: &[&str] = &[
    "flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm",
];
const MODELS: &[&str] = &["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"];
const RESPONSE_FORMATS: &[&str] = &["json", "text", "srt", "verbose_json", "vtt"];
/// OpenAI's upload limit.
const MAX_BYTES: usize = 25 * 1024 * 1024;

/// One accepted request, as the server saw it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub model: String,
    pub response_format: Option<String>,
    pub language: Option<String>,
    pub file_name: String,
    pub file_type: Option<String>,
    pub wav: WavFacts,
    /// What it answered.
    pub text: String,
}

#[derive(Debug)]
struct Shared {
    key: String,
    transcript: String,
    seen: Mutex<Vec<SeenRequest>>,
    /// Every request that reached the route, accepted or not.
    hits: Mutex<usize>,
}

/// The running fake; stops with the test's runtime.
#[derive(Debug)]
pub struct FakeTranscriber {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeTranscriber {
    /// Listens on a free loopback port; accepts `key` and answers `transcript` for speech.
    pub async fn start(key: &str, transcript: &str) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            key: key.to_owned(),
            transcript: transcript.to_owned(),
            seen: Mutex::new(Vec::new()),
            hits: Mutex::new(0),
        });
        let app = Router::new()
            .route("/v1/audio/transcriptions", post(transcriptions))
            .layer(DefaultBodyLimit::max(MAX_BYTES + 1024 * 1024))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the transcription fake")?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// The OpenAI-style base URL (`…/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The requests it accepted, in order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared
            .seen
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Every request that reached the endpoint, including refused ones.
    pub fn hits(&self) -> usize {
        self.shared.hits.lock().map(|h| *h).unwrap_or_default()
    }
}

impl Drop for FakeTranscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn openai_error(
    status: StatusCode,
    message: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    (
        status,
        axum::Json(json!({"error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }})),
    )
        .into_response()
}

async fn transcriptions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    if let Ok(mut hits) = shared.hits.lock() {
        *hits += 1;
    }
    // 1. The key, before the body is read.
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match auth.strip_prefix("Bearer ") {
        Some(key) if key == shared.key => {}
        Some(_) => {
            return openai_error(
                StatusCode::UNAUTHORIZED,
                "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
                None,
                Some("invalid_api_key"),
            );
        }
        None => {
            return openai_error(
                StatusCode::UNAUTHORIZED,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                None,
                None,
            );
        }
    }
    // 2. A multipart form, field by field.
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data; boundary="));
    if !is_multipart {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "Invalid Content-Type header: expected multipart/form-data.",
            None,
            None,
        );
    }
    let mut form = match Multipart::from_request(request, &()).await {
        Ok(form) => form,
        Err(e) => return openai_error(StatusCode::BAD_REQUEST, &e.body_text(), None, None),
    };
    let (mut model, mut response_format, mut language) = (None, None, None);
    let mut file: Option<(String, Option<String>, Vec<u8>)> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return openai_error(StatusCode::BAD_REQUEST, &e.body_text(), None, None),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let file_type = field.content_type().map(str::to_owned);
            match field.bytes().await {
                Ok(bytes) => file = Some((file_name, file_type, bytes.to_vec())),
                Err(e) => {
                    return openai_error(
                        StatusCode::BAD_REQUEST,
                        &e.body_text(),
                        Some("file"),
                        None,
                    );
                }
            }
            continue;
        }
        let value = match field.text().await {
            Ok(value) => value,
            Err(e) => return openai_error(StatusCode::BAD_REQUEST, &e.body_text(), None, None),
        };
        match name.as_str() {
            "model" => model = Some(value),
            "response_format" => response_format = Some(value),
            "language" => language = Some(value),
            // The API accepts other documented fields (prompt, temperature, …).
            _ => {}
        }
    }
    let Some(model) = model.filter(|m| !m.is_empty()) else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "you must provide a model parameter",
            Some("model"),
            None,
        );
    };
    if !MODELS.contains(&model.as_str()) {
        return openai_error(
            StatusCode::BAD_REQUEST,
            &format!("The model `{model}` does not exist or you do not have access to it."),
            Some("model"),
            Some("model_not_found"),
        );
    }
    if let Some(format) = &response_format
        && !RESPONSE_FORMATS.contains(&format.as_str())
    {
        return openai_error(
            StatusCode::BAD_REQUEST,
            &format!("'{format}' is not one of {RESPONSE_FORMATS:?} - 'response_format'"),
            Some("response_format"),
            None,
        );
    }
    let Some((file_name, file_type, bytes)) = file else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "you must provide a file parameter",
            Some("file"),
            None,
        );
    };
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !FORMATS.contains(&extension.as_str()) {
        return openai_error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid file format. Supported formats: {FORMATS:?}"),
            Some("file"),
            None,
        );
    }
    // 3. The audio itself: this fake decodes WAV only, the format the app uploads.
    let wav = match wav_facts(&bytes) {
        Ok(wav) if extension == "wav" => wav,
        Ok(_) | Err(_) => {
            return openai_error(
                StatusCode::BAD_REQUEST,
                "The audio file could not be decoded or its format is not supported.",
                Some("file"),
                None,
            );
        }
    };
    let text = if wav.rms >= SILENCE_RMS {
        shared.transcript.clone()
    } else {
        String::new()
    };
    if let Ok(mut seen) = shared.seen.lock() {
        seen.push(SeenRequest {
            model,
            response_format: response_format.clone(),
            language,
            file_name,
            file_type,
            wav,
            text: text.clone(),
        });
    }
    match response_format.as_deref().unwrap_or("json") {
        "text" | "srt" | "vtt" => text.into_response(),
        "verbose_json" => axum::Json(json!({"task": "transcribe", "text": text})).into_response(),
        _ => axum::Json(json!({"text": text})).into_response(),
    }
}

//! Scripted model servers for real coding agents: a local HTTP server on `127.0.0.1` that
//! speaks the Anthropic Messages API (`POST /v1/messages`) and the OpenAI Responses API
//! (`POST /v1/responses`) in their published wire formats, streaming included, so an agent
//! pointed at it through its base-URL setting (`ANTHROPIC_BASE_URL`, a Codex model provider's
//! `base_url`) cannot tell it from the real API. The Gemini API (`GOOGLE_GEMINI_BASE_URL`,
//! `:streamGenerateContent`) is answered the same way, in the `gemini` module.
//!
//! What it answers is chosen from the conversation in each request, never from a call
//! counter, because agents make side calls (session titles, routing) besides the turn itself:
//!
//! - a request that offers no tools is a side call: a short text (or, when the request asks for
//!   a JSON schema, a JSON object that fits it);
//! - when the latest user message asks to create the script's file ([`Script::write_file`])
//!   and no tool result follows it yet, the answer is the tool call that writes the file:
//!   Claude Code's `Write` tool (`file_path`) or OpenCode's `write` tool (`filePath`), both
//!   absolute, in the working directory the request's system prompt names, or Codex's
//!   `apply_patch` (a freeform custom tool, or a function);
//! - once a tool result follows that message, the final reply ([`Script::final_reply`]) is
//!   streamed in several deltas.
//!
//! Every request is recorded ([`ModelServer::requests`]) with its JSON body and its headers;
//! credential headers are recorded as `[redacted]`, so a recording never holds a secret, and
//! what the server made of the credential is kept as [`Auth`]. Keys are checked as the APIs
//! check them: an unknown key is a 401 in the API's own error format. Faults can be injected
//! ([`ModelServer::fail_next`]): error statuses (529 overloaded, 429 with rate-limit headers,
//! 500) and errors in the middle of a stream.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

pub(crate) mod gemini;

/// Request bodies of real agents carry long system prompts and tool schemas (100–300 KiB);
/// anything larger than this is refused as too large, as the APIs do.
const MAX_BODY_BYTES: usize = 32 << 20;

/// Header values that are credentials; recorded as [`REDACTED`].
const SECRET_HEADERS: [&str; 5] = [
    "authorization",
    "x-api-key",
    "proxy-authorization",
    "cookie",
    "x-goog-api-key",
];

/// What a credential header's value is recorded as.
pub const REDACTED: &str = "[redacted]";

/// Which API a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelApi {
    /// Anthropic Messages, `POST /v1/messages` (and `/v1/messages/count_tokens`).
    AnthropicMessages,
    /// OpenAI Responses, `POST /v1/responses`.
    OpenAiResponses,
    /// The Gemini API, `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` (and
    /// `:generateContent`, `:countTokens`); see [`gemini`].
    GeminiGenerateContent,
}

/// What the scripted model does: write one file when asked, then say it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The file's name, as the user names it in the prompt (`hello.txt`).
    pub file_name: String,
    /// What the tool call writes into it.
    pub content: String,
    /// The final reply once the tool result is in the conversation.
    pub final_reply: String,
    /// The answer to side calls (titles, summaries).
    pub side_reply: String,
    /// The folder to write into; `None` takes the working directory the request names (Claude
    /// Code's "Primary working directory", OpenCode's "Working directory", Codex's `<cwd>`), or
    /// leaves the path relative.
    pub dir: Option<PathBuf>,
}

impl Script {
    /// A model that creates `file_name` with `content` when a user message asks to create
    /// (or write, or make) a file of that name.
    pub fn write_file(file_name: &str, content: &str) -> Self {
        Self {
            file_name: file_name.to_owned(),
            content: content.to_owned(),
            final_reply: format!("Created {file_name}."),
            side_reply: format!("Create {file_name}"),
            dir: None,
        }
    }

    /// The final reply, streamed after the tool result.
    #[must_use]
    pub fn final_reply(mut self, text: &str) -> Self {
        text.clone_into(&mut self.final_reply);
        self
    }

    /// Writes into `dir` rather than the working directory the request names.
    #[must_use]
    pub fn in_dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }

    fn asked(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        text.contains(&self.file_name.to_lowercase())
            && ["create", "write", "make"].iter().any(|w| text.contains(w))
    }
}

/// A way to make the next requests to one API fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFault {
    /// Answer with this status and the API's error body for it (529: Anthropic's
    /// `overloaded_error`; 429: rate limited; 500: `api_error` / `server_error`).
    Status(u16),
    /// Answer 429 with the API's rate-limit headers and `retry-after`.
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// Start a 200 stream, then send the API's in-stream error event (Anthropic `error` with
    /// `overloaded_error`; OpenAI `response.failed`) and end it.
    StreamError,
}

/// How a request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `x-api-key: <key>` (Anthropic).
    XApiKey,
    /// `Authorization: Bearer <key>` (OpenAI).
    Bearer,
    /// `x-goog-api-key: <key>` (Gemini).
    GoogApiKey,
    /// `?key=<key>` in the URL (Gemini).
    KeyQuery,
}

/// What the server made of a request's credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// None was sent.
    Missing,
    /// A key this server accepts for the API, in the API's scheme.
    Accepted(AuthScheme),
    /// A key it does not accept, or the wrong scheme.
    Rejected(AuthScheme),
}

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answered {
    /// The tool call that writes the script's file.
    ToolCall {
        /// The tool (`Write`, `apply_patch`).
        tool: String,
        /// The path it was told to write.
        path: String,
    },
    /// The final reply after the tool result.
    FinalReply,
    /// A side call's answer (no tools offered).
    SideReply,
    /// A text answer to anything else.
    OtherReply,
    /// `count_tokens`.
    TokenCount,
    /// An error status (an injected fault, a bad key, a bad request, an unknown path).
    Error {
        /// The status.
        status: u16,
    },
    /// A stream that ended in an error event ([`ModelFault::StreamError`]).
    StreamError,
}

/// One request the server received.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRequest {
    /// The API the path belongs to; `None` for unknown paths.
    pub api: Option<ModelApi>,
    /// `POST`, `GET`, ...
    pub method: String,
    /// The path, e.g. `/v1/messages`.
    pub path: String,
    /// The raw query (`beta=true`), if any.
    pub query: Option<String>,
    /// Every header, names in lower case, in the order received; credential values are
    /// [`REDACTED`].
    pub headers: Vec<(String, String)>,
    /// What the credential was.
    pub auth: Auth,
    /// The JSON body (`Null` when there was none or it was not JSON).
    pub body: Value,
    /// Whether the answer was a server-sent event stream.
    pub streamed: bool,
    /// What was answered.
    pub answered: Answered,
}

impl ModelRequest {
    /// A recorded header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The model the request asked for.
    pub fn model(&self) -> Option<&str> {
        self.body
            .get("model")
            .and_then(Value::as_str)
            .or_else(|| gemini::model_in_path(&self.path))
    }

    /// The names of the tools the request offered.
    pub fn tool_names(&self) -> Vec<String> {
        let mut names = tool_names(&self.body);
        names.extend(gemini::function_names(&self.body));
        names
    }

    /// One line for failure messages.
    pub fn summary(&self) -> String {
        let query = self
            .query
            .as_deref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        format!(
            "{} {}{} auth={:?} model={} stream={} tools={} → {:?}",
            self.method,
            self.path,
            query,
            self.auth,
            self.model().unwrap_or("-"),
            self.streamed,
            self.tool_names().len(),
            self.answered
        )
    }
}

#[derive(Debug)]
struct ServerState {
    script: Script,
    keys: HashMap<ModelApi, Vec<String>>,
    faults: VecDeque<(ModelApi, ModelFault)>,
    requests: Vec<ModelRequest>,
    next_id: u64,
    event_gap: Duration,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<ServerState>,
}

impl Shared {
    /// A panicking test thread poisons the lock; the state stays consistent.
    fn lock(&self) -> MutexGuard<'_, ServerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running scripted model server on `127.0.0.1` and a free port; dropping it stops it.
#[derive(Debug)]
pub struct ModelServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl ModelServer {
    /// Starts the server on the current tokio runtime. It accepts no key until
    /// [`ModelServer::accept`].
    ///
    /// # Errors
    /// When no local port can be bound.
    pub async fn start(script: Script) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding the scripted model server to 127.0.0.1")?;
        let address = listener
            .local_addr()
            .context("reading the model server's address")?;
        let shared = Arc::new(Shared {
            state: Mutex::new(ServerState {
                script,
                keys: HashMap::new(),
                faults: VecDeque::new(),
                requests: Vec::new(),
                next_id: 1,
                event_gap: Duration::from_millis(5),
            }),
        });
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::warn!(%error, "scripted model server stopped");
            }
        });
        Ok(Self {
            address,
            shared,
            server,
        })
    }

    /// The Anthropic base URL (`ANTHROPIC_BASE_URL`): `http://127.0.0.1:PORT`, below which the
    /// SDKs add `/v1/messages`.
    pub fn anthropic_base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The OpenAI base URL (a Codex provider's `base_url`, `OPENAI_BASE_URL`):
    /// `http://127.0.0.1:PORT/v1`, below which clients add `/responses`.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.address)
    }

    /// The Gemini base URL (`GOOGLE_GEMINI_BASE_URL`): `http://127.0.0.1:PORT`, below which
    /// the SDK adds `/v1beta/models/{model}:{method}`.
    pub fn gemini_base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Makes `key` valid for `api`.
    pub fn accept(&self, api: ModelApi, key: &str) {
        self.shared
            .lock()
            .keys
            .entry(api)
            .or_default()
            .push(key.to_owned());
    }

    /// Makes the next `times` requests to `api` fail this way (after the key check, as a real
    /// outage would).
    pub fn fail_next(&self, api: ModelApi, fault: ModelFault, times: usize) {
        let mut state = self.shared.lock();
        for _ in 0..times {
            state.faults.push_back((api, fault));
        }
    }

    /// The pause between two streamed events (5 ms unless changed), so that a stream really
    /// arrives in pieces.
    pub fn set_event_gap(&self, gap: Duration) {
        self.shared.lock().event_gap = gap;
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<ModelRequest> {
        self.shared.lock().requests.clone()
    }

    /// One line per request, for failure messages.
    pub fn summary(&self) -> String {
        let requests = self.requests();
        if requests.is_empty() {
            return "the model server received no request".into();
        }
        requests
            .iter()
            .enumerate()
            .map(|(i, r)| format!("  {}. {}", i + 1, r.summary()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What goes back: a JSON body or an event stream.
#[derive(Debug)]
enum Reply {
    Json {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Value,
    },
    Stream {
        headers: Vec<(&'static str, String)>,
        events: Vec<(String, Value)>,
        gap: Duration,
    },
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Self::Json {
            status,
            headers: Vec::new(),
            body,
        }
    }

    fn with_header(mut self, name: &'static str, value: impl ToString) -> Self {
        match &mut self {
            Self::Json { headers, .. } | Self::Stream { headers, .. } => {
                headers.push((name, value.to_string()));
            }
        }
        self
    }

    fn status(&self) -> u16 {
        match self {
            Self::Json { status, .. } => *status,
            Self::Stream { .. } => 200,
        }
    }

    fn into_response(self) -> Response {
        let (status, headers, content_type, body) = match self {
            Self::Json {
                status,
                headers,
                body,
            } => (
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                headers,
                "application/json",
                Body::from(body.to_string()),
            ),
            Self::Stream {
                headers,
                events,
                gap,
            } => (
                StatusCode::OK,
                headers,
                "text/event-stream; charset=utf-8",
                sse_body(events, gap),
            ),
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let map = response.headers_mut();
        map.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        map.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                map.insert(HeaderName::from_static(name), value);
            }
        }
        response
    }
}

/// `event: NAME\ndata: JSON\n\n`, one event at a time with `gap` between them.
fn sse_body(events: Vec<(String, Value)>, gap: Duration) -> Body {
    let frames: VecDeque<Bytes> = events
        .into_iter()
        .map(|(name, data)| match name.as_str() {
            // Unnamed events are the Gemini API's: `data:` lines, ended as Google ends them.
            "" => Bytes::from(format!("data: {data}\r\n\r\n")),
            _ => Bytes::from(format!("event: {name}\ndata: {data}\n\n")),
        })
        .collect();
    let stream =
        futures_util::stream::unfold((frames, true), move |(mut frames, first)| async move {
            let frame = frames.pop_front()?;
            if !first && !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
            Some((Ok::<Bytes, std::io::Error>(frame), (frames, false)))
        });
    Body::from_stream(stream)
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await;
    // A `CONNECT` (the server set as an agent's proxy) names the host it would reach.
    let path = match parts.uri.authority() {
        Some(authority) if parts.method == Method::CONNECT => authority.to_string(),
        _ => parts.uri.path().to_owned(),
    };
    let api = match path.as_str() {
        "/v1/messages" | "/v1/messages/count_tokens" => Some(ModelApi::AnthropicMessages),
        "/v1/responses" => Some(ModelApi::OpenAiResponses),
        other if gemini::serves(other) => Some(ModelApi::GeminiGenerateContent),
        _ => None,
    };
    let headers = recorded_headers(&parts.headers);
    let mut state = shared.lock();
    let id = state.next_id;
    state.next_id += 1;
    let (auth, body, reply, answered) = match (api, bytes) {
        (_, Err(_)) => {
            let reply = too_large(api);
            (
                Auth::Missing,
                Value::Null,
                reply,
                Answered::Error { status: 413 },
            )
        }
        (Some(api), Ok(bytes)) if parts.method == Method::POST => {
            let call = Call {
                id,
                path: &path,
                headers: &parts.headers,
                body: &bytes,
            };
            let answer = match api {
                ModelApi::AnthropicMessages => anthropic(&mut state, &call),
                ModelApi::OpenAiResponses => openai(&mut state, &call),
                ModelApi::GeminiGenerateContent => {
                    gemini::answer(&mut state, &call, parts.uri.query())
                }
            };
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            (answer.auth, body, answer.reply, answer.answered)
        }
        (_, Ok(bytes)) => {
            let reply = not_found(api, &parts.headers);
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            (Auth::Missing, body, reply, Answered::Error { status: 404 })
        }
    };
    state.requests.push(ModelRequest {
        api,
        method: parts.method.to_string(),
        path,
        query: parts.uri.query().map(gemini::recorded_query),
        headers,
        auth,
        body,
        streamed: matches!(reply, Reply::Stream { .. }),
        answered,
    });
    drop(state);
    reply.into_response()
}

fn recorded_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().to_owned();
            let value = if SECRET_HEADERS.contains(&name.as_str()) {
                REDACTED.to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect()
}

fn too_large(api: Option<ModelApi>) -> Reply {
    match api {
        Some(ModelApi::GeminiGenerateContent) => gemini::error_for_status(413),
        Some(ModelApi::OpenAiResponses) => openai_error(
            413,
            "invalid_request_error",
            None,
            "The request body is too large.",
        ),
        _ => anthropic_error(
            413,
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        ),
    }
}

/// An unknown path is answered in the format of the API whose credential header it carries.
fn not_found(api: Option<ModelApi>, headers: &HeaderMap) -> Reply {
    if api == Some(ModelApi::GeminiGenerateContent) || headers.contains_key("x-goog-api-key") {
        return gemini::error_for_status(404);
    }
    let openai = api == Some(ModelApi::OpenAiResponses)
        || (api.is_none() && headers.contains_key(header::AUTHORIZATION));
    if openai {
        openai_error(
            404,
            "invalid_request_error",
            None,
            "Invalid URL: this path is not served here.",
        )
    } else {
        anthropic_error(404, "not_found_error", "Not found")
    }
}

struct Call<'a> {
    id: u64,
    path: &'a str,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

impl Call<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn bearer(&self) -> Option<&str> {
        let (scheme, token) = self.header("authorization")?.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }

    fn input_tokens(&self) -> u64 {
        u64::try_from(self.body.len() / 4)
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

struct Answer {
    auth: Auth,
    reply: Reply,
    answered: Answered,
}

impl Answer {
    fn error(auth: Auth, reply: Reply) -> Self {
        let status = reply.status();
        Self {
            auth,
            reply,
            answered: Answered::Error { status },
        }
    }
}

fn accepts(state: &ServerState, api: ModelApi, key: &str) -> bool {
    state
        .keys
        .get(&api)
        .is_some_and(|keys| keys.iter().any(|k| k == key))
}

fn take_fault(state: &mut ServerState, api: ModelApi) -> Option<ModelFault> {
    let at = state.faults.iter().position(|(a, _)| *a == api)?;
    state.faults.remove(at).map(|(_, fault)| fault)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn output_tokens(text: &str) -> u64 {
    u64::try_from(text.len() / 4).unwrap_or(u64::MAX) + 1
}

/// `text` in a few pieces (words with their spaces), for streamed deltas.
fn pieces(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split_inclusive(' ') {
        out.push(word.to_owned());
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// `text` in about three pieces, cut on character boundaries.
fn thirds(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let size = chars.len().div_ceil(3).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

// --- the conversation ---------------------------------------------------------------------------

/// What the scripted model reads from a request.
#[derive(Debug, Default)]
struct Conversation {
    tools: Vec<String>,
    /// The latest user message that is not a tool result.
    ask: Option<String>,
    /// A tool result follows that message.
    tool_result_after_ask: bool,
    /// The working directory the prompt names.
    cwd: Option<String>,
    /// The JSON schema the answer must fit, if the request asks for one.
    schema: Option<Value>,
}

#[derive(Debug, PartialEq, Eq)]
enum Decision {
    WriteFile,
    Final,
    Side,
    Other,
}

impl Conversation {
    fn decide(&self, script: &Script) -> Decision {
        if self.tools.is_empty() {
            Decision::Side
        } else if self.ask.is_some() && self.tool_result_after_ask {
            Decision::Final
        } else if self.ask.as_deref().is_some_and(|ask| script.asked(ask)) {
            Decision::WriteFile
        } else {
            Decision::Other
        }
    }

    fn side_text(&self, script: &Script) -> String {
        match &self.schema {
            Some(schema) => fit_schema(schema, &script.side_reply).to_string(),
            None => script.side_reply.clone(),
        }
    }

    fn file_path(&self, script: &Script) -> String {
        match script
            .dir
            .as_deref()
            .map(Path::to_path_buf)
            .or_else(|| self.cwd.as_deref().map(PathBuf::from))
        {
            Some(dir) => dir.join(&script.file_name).display().to_string(),
            None => script.file_name.clone(),
        }
    }
}

fn other_text(script: &Script) -> String {
    format!(
        "This scripted model only knows how to create {}.",
        script.file_name
    )
}

/// A value that fits a JSON schema, with `text` in every string.
fn fit_schema(schema: &Value, text: &str) -> Value {
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    let kind = schema.get("type").and_then(|t| match t {
        Value::String(s) => Some(s.as_str()),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null"),
        _ => None,
    });
    match kind {
        Some("object") | None if schema.get("properties").is_some() => {
            let mut object = serde_json::Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    object.insert(name.clone(), fit_schema(property, text));
                }
            }
            Value::Object(object)
        }
        Some("object") => json!({}),
        Some("array") => json!([]),
        Some("integer" | "number") => json!(0),
        Some("boolean") => json!(false),
        Some("null") => Value::Null,
        _ => json!(text),
    }
}

/// Every string in `value`, depth first.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The working directory a prompt names: Claude Code's "Primary working directory: X",
/// Codex's `<cwd>X</cwd>`, or else OpenCode's "Working directory: X" (in its `<env>` block;
/// looked for last, as the words are common).
fn find_cwd(body: &Value) -> Option<String> {
    let mut all = Vec::new();
    strings(body, &mut all);
    let line_after = |text: &str, label: &str| {
        let at = text.find(label)?;
        let dir = text[at + label.len()..]
            .lines()
            .next()
            .unwrap_or_default()
            .trim();
        (!dir.is_empty()).then(|| dir.to_owned())
    };
    all.iter()
        .find_map(|text| {
            if text.contains("Primary working directory: ") {
                return line_after(text, "Primary working directory: ");
            }
            let start = text.find("<cwd>")? + "<cwd>".len();
            let end = text[start..].find("</cwd>")? + start;
            let dir = text[start..end].trim();
            (!dir.is_empty()).then(|| dir.to_owned())
        })
        // Case matters: "Primary working directory" does not match.
        .or_else(|| {
            all.iter()
                .find_map(|text| line_after(text, "Working directory: "))
        })
}

fn tool_names(body: &Value) -> Vec<String> {
    body.get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| {
                    t.get("name")
                        .or_else(|| t.pointer("/function/name"))
                        .or_else(|| t.get("type"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

// --- Anthropic Messages -------------------------------------------------------------------------

fn anthropic_error(status: u16, kind: &str, message: &str) -> Reply {
    let request_id = "req_011CScriptedModelServer";
    Reply::json(
        status,
        json!({
            "type": "error",
            "error": { "type": kind, "message": message },
            "request_id": request_id,
        }),
    )
    .with_header("request-id", request_id)
}

fn anthropic_status(status: u16) -> Reply {
    let (kind, message) = match status {
        400 => ("invalid_request_error", "invalid request"),
        401 => ("authentication_error", "invalid x-api-key"),
        403 => (
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        404 => ("not_found_error", "Not found"),
        413 => (
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        ),
        429 => (
            "rate_limit_error",
            "Number of requests has exceeded your rate limit.",
        ),
        529 => ("overloaded_error", "Overloaded"),
        _ => ("api_error", "Internal server error"),
    };
    anthropic_error(status, kind, message)
}

fn anthropic_conversation(body: &Value) -> Conversation {
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let blocks = |message: &Value| -> Vec<Value> {
        match message.get("content") {
            Some(Value::String(text)) => vec![json!({ "type": "text", "text": text })],
            Some(Value::Array(blocks)) => blocks.clone(),
            _ => Vec::new(),
        }
    };
    let is_result = |b: &Value| b.get("type").and_then(Value::as_str) == Some("tool_result");
    let mut ask = None;
    for (index, message) in messages.iter().enumerate() {
        if message.get("role").and_then(Value::as_str) != Some("user") {
            continue;
        }
        let blocks = blocks(message);
        if blocks.iter().any(is_result) {
            continue;
        }
        let text: Vec<&str> = blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect();
        if !text.is_empty() {
            ask = Some((index, text.join("\n")));
        }
    }
    let tool_result_after_ask = ask.as_ref().is_some_and(|(index, _)| {
        messages[index + 1..]
            .iter()
            .any(|m| blocks(m).iter().any(is_result))
    });
    let schema = body
        .pointer("/output_config/format")
        .filter(|f| f.get("type").and_then(Value::as_str) == Some("json_schema"))
        .and_then(|f| f.get("schema"))
        .cloned();
    Conversation {
        tools: tool_names(body),
        ask: ask.map(|(_, text)| text),
        tool_result_after_ask,
        cwd: find_cwd(body),
        schema,
    }
}

/// The Anthropic-API file-writing tools the scripted model calls, with the input field that
/// takes the (absolute) path: Claude Code's `Write` and OpenCode's `write`; `content` takes
/// the text in both.
const WRITE_TOOLS: [(&str, &str); 2] = [("Write", "file_path"), ("write", "filePath")];

fn anthropic(state: &mut ServerState, call: &Call<'_>) -> Answer {
    let auth = if let Some(key) = call.header("x-api-key") {
        if accepts(state, ModelApi::AnthropicMessages, key) {
            Auth::Accepted(AuthScheme::XApiKey)
        } else {
            return Answer::error(Auth::Rejected(AuthScheme::XApiKey), anthropic_status(401));
        }
    } else if call.header("authorization").is_some() {
        // Bearer tokens are Claude subscription OAuth tokens, which this server does not know.
        return Answer::error(
            Auth::Rejected(AuthScheme::Bearer),
            anthropic_error(
                401,
                "authentication_error",
                "OAuth authentication is currently not supported.",
            ),
        );
    } else {
        return Answer::error(
            Auth::Missing,
            anthropic_error(401, "authentication_error", "x-api-key header is required"),
        );
    };
    if call.header("anthropic-version").is_none() {
        return Answer::error(
            auth,
            anthropic_error(
                400,
                "invalid_request_error",
                "anthropic-version: header is required",
            ),
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(call.body) else {
        return Answer::error(
            auth,
            anthropic_error(
                400,
                "invalid_request_error",
                "The request body is not valid JSON.",
            ),
        );
    };
    let count_tokens = call.path.ends_with("/count_tokens");
    let required: &[&str] = if count_tokens {
        &["model", "messages"]
    } else {
        &["model", "messages", "max_tokens"]
    };
    if let Some(missing) = required.iter().find(|field| body.get(**field).is_none()) {
        return Answer::error(
            auth,
            anthropic_error(
                400,
                "invalid_request_error",
                &format!("{missing}: Field required"),
            ),
        );
    }
    if count_tokens {
        return Answer {
            auth,
            reply: Reply::json(200, json!({ "input_tokens": call.input_tokens() })),
            answered: Answered::TokenCount,
        };
    }
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    let message_id = format!("msg_01Scripted{:08}", call.id);
    let request_id = format!("req_01Scripted{:08}", call.id);
    match take_fault(state, ModelApi::AnthropicMessages) {
        Some(ModelFault::Status(status)) => {
            return Answer::error(auth, anthropic_status(status));
        }
        Some(ModelFault::RateLimited { retry_after_secs }) => {
            let reply = anthropic_status(429)
                .with_header("retry-after", retry_after_secs)
                .with_header("anthropic-ratelimit-requests-limit", 50)
                .with_header("anthropic-ratelimit-requests-remaining", 0);
            return Answer::error(auth, reply);
        }
        Some(ModelFault::StreamError) => {
            let events = vec![
                anthropic_message_start(&message_id, &model, call.input_tokens()),
                ("ping".to_owned(), json!({ "type": "ping" })),
                (
                    "error".to_owned(),
                    json!({
                        "type": "error",
                        "error": { "type": "overloaded_error", "message": "Overloaded" },
                    }),
                ),
            ];
            return Answer {
                auth,
                reply: Reply::Stream {
                    headers: vec![("request-id", request_id)],
                    events,
                    gap: state.event_gap,
                },
                answered: Answered::StreamError,
            };
        }
        None => {}
    }

    let conversation = anthropic_conversation(&body);
    let script = &state.script;
    let decision = conversation.decide(script);
    let write_tool = WRITE_TOOLS
        .iter()
        .find(|(name, _)| conversation.tools.iter().any(|t| t == name));
    let (content, answered) = match (decision, write_tool) {
        (Decision::WriteFile, Some(&(name, path_field))) => {
            let path = conversation.file_path(script);
            let mut input = serde_json::Map::new();
            input.insert(path_field.to_owned(), json!(path));
            input.insert("content".to_owned(), json!(script.content));
            let block = json!({
                "type": "tool_use",
                "id": format!("toolu_01Scripted{:08}", call.id),
                "name": name,
                "input": input,
            });
            (
                block,
                Answered::ToolCall {
                    tool: name.into(),
                    path,
                },
            )
        }
        (Decision::Final, _) => (
            json!({ "type": "text", "text": script.final_reply }),
            Answered::FinalReply,
        ),
        (Decision::Side, _) => (
            json!({ "type": "text", "text": conversation.side_text(script) }),
            Answered::SideReply,
        ),
        (Decision::WriteFile | Decision::Other, _) => (
            json!({ "type": "text", "text": other_text(script) }),
            Answered::OtherReply,
        ),
    };
    let tool = content.get("type").and_then(Value::as_str) == Some("tool_use");
    let stop_reason = if tool { "tool_use" } else { "end_turn" };
    let out_tokens = output_tokens(&content.to_string());
    if !stream {
        let message = json!({
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [content],
            "stop_reason": stop_reason,
            "stop_sequence": null,
            "usage": {
                "input_tokens": call.input_tokens(),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": out_tokens,
            },
        });
        return Answer {
            auth,
            reply: Reply::json(200, message).with_header("request-id", request_id),
            answered,
        };
    }
    let mut events = vec![
        anthropic_message_start(&message_id, &model, call.input_tokens()),
        ("ping".to_owned(), json!({ "type": "ping" })),
    ];
    if tool {
        let input = content
            .get("input")
            .cloned()
            .unwrap_or_default()
            .to_string();
        events.push(block_start(json!({
            "type": "tool_use",
            "id": content.get("id"),
            "name": content.get("name"),
            "input": {},
        })));
        for piece in thirds(&input) {
            events.push(block_delta(
                json!({ "type": "input_json_delta", "partial_json": piece }),
            ));
        }
    } else {
        let text = content
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default();
        events.push(block_start(json!({ "type": "text", "text": "" })));
        for piece in pieces(text) {
            events.push(block_delta(json!({ "type": "text_delta", "text": piece })));
        }
    }
    events.push((
        "content_block_stop".to_owned(),
        json!({ "type": "content_block_stop", "index": 0 }),
    ));
    events.push((
        "message_delta".to_owned(),
        json!({
            "type": "message_delta",
            "delta": { "stop_reason": stop_reason, "stop_sequence": null },
            "usage": { "output_tokens": out_tokens },
        }),
    ));
    events.push(("message_stop".to_owned(), json!({ "type": "message_stop" })));
    Answer {
        auth,
        reply: Reply::Stream {
            headers: vec![("request-id", request_id)],
            events,
            gap: state.event_gap,
        },
        answered,
    }
}

fn anthropic_message_start(id: &str, model: &str, input_tokens: u64) -> (String, Value) {
    (
        "message_start".to_owned(),
        json!({
            "type": "message_start",
            "message": {
                "id": id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {
                    "input_tokens": input_tokens,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": 1,
                },
            },
        }),
    )
}

fn block_start(block: Value) -> (String, Value) {
    (
        "content_block_start".to_owned(),
        json!({ "type": "content_block_start", "index": 0, "content_block": block }),
    )
}

fn block_delta(delta: Value) -> (String, Value) {
    (
        "content_block_delta".to_owned(),
        json!({ "type": "content_block_delta", "index": 0, "delta": delta }),
    )
}

// --- OpenAI Responses ---------------------------------------------------------------------------

fn openai_error(status: u16, kind: &str, code: Option<&str>, message: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "error": { "message": message, "type": kind, "param": null, "code": code },
        }),
    )
    .with_header("x-request-id", "req_scripted_model_server")
}

fn openai_status(status: u16) -> Reply {
    match status {
        400 => openai_error(400, "invalid_request_error", None, "Invalid request."),
        401 => openai_error(
            401,
            "invalid_request_error",
            Some("invalid_api_key"),
            "Incorrect API key provided.",
        ),
        404 => openai_error(
            404,
            "invalid_request_error",
            Some("model_not_found"),
            "The model does not exist or you do not have access to it.",
        ),
        429 => openai_error(
            429,
            "requests",
            Some("rate_limit_exceeded"),
            "Rate limit reached for requests. Please try again later.",
        ),
        503 => openai_error(
            503,
            "server_error",
            None,
            "The server is overloaded or not ready yet.",
        ),
        other => openai_error(
            other,
            "server_error",
            None,
            "The server had an error while processing your request.",
        ),
    }
}

fn openai_conversation(body: &Value) -> Conversation {
    let items: Vec<Value> = match body.get("input") {
        Some(Value::String(text)) => {
            vec![json!({ "type": "message", "role": "user", "content": text })]
        }
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let mut ask = None;
    for (index, item) in items.iter().enumerate() {
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("message");
        if kind != "message" || item.get("role").and_then(Value::as_str) != Some("user") {
            continue;
        }
        let text = match item.get("content") {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        };
        if !text.is_empty() {
            ask = Some((index, text));
        }
    }
    let tool_result_after_ask = ask.as_ref().is_some_and(|(index, _)| {
        items[index + 1..].iter().any(|item| {
            item.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("_call_output"))
        })
    });
    let schema = body
        .pointer("/text/format")
        .filter(|f| f.get("type").and_then(Value::as_str) == Some("json_schema"))
        .and_then(|f| f.get("schema"))
        .cloned();
    Conversation {
        tools: tool_names(body),
        ask: ask.map(|(_, text)| text),
        tool_result_after_ask,
        cwd: find_cwd(body),
        schema,
    }
}

/// How the request offers `apply_patch`: as a freeform custom tool or as a function.
fn apply_patch_kind(body: &Value) -> Option<&'static str> {
    body.get("tools")
        .and_then(Value::as_array)?
        .iter()
        .filter(|t| t.get("name").and_then(Value::as_str) == Some("apply_patch"))
        .find_map(|t| match t.get("type").and_then(Value::as_str) {
            Some("custom") => Some("custom"),
            Some("function") => Some("function"),
            _ => None,
        })
}

/// An `apply_patch` patch that adds `path` with `content`.
fn add_file_patch(path: &str, content: &str) -> String {
    let mut patch = format!("*** Begin Patch\n*** Add File: {path}\n");
    for line in content.lines() {
        patch.push('+');
        patch.push_str(line);
        patch.push('\n');
    }
    patch.push_str("*** End Patch");
    patch
}

fn openai(state: &mut ServerState, call: &Call<'_>) -> Answer {
    let auth = match call.bearer() {
        Some(key) if accepts(state, ModelApi::OpenAiResponses, key) => {
            Auth::Accepted(AuthScheme::Bearer)
        }
        Some(_) => {
            return Answer::error(Auth::Rejected(AuthScheme::Bearer), openai_status(401));
        }
        None => {
            return Answer::error(
                Auth::Missing,
                openai_error(
                    401,
                    "invalid_request_error",
                    None,
                    "You didn't provide an API key. You need to provide your API key in an \
                     Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                ),
            );
        }
    };
    if let Some(encoding) = call
        .header("content-encoding")
        .filter(|e| !e.eq_ignore_ascii_case("identity"))
    {
        return Answer::error(
            auth,
            openai_error(
                415,
                "invalid_request_error",
                None,
                &format!("This server does not decode content-encoding `{encoding}`."),
            ),
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(call.body) else {
        return Answer::error(
            auth,
            openai_error(
                400,
                "invalid_request_error",
                None,
                "We could not parse the JSON body of your request.",
            ),
        );
    };
    let Some(model) = body.get("model").and_then(Value::as_str).map(str::to_owned) else {
        return Answer::error(
            auth,
            openai_error(
                400,
                "invalid_request_error",
                Some("missing_required_parameter"),
                "Missing required parameter: 'model'.",
            ),
        );
    };
    let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    let response_id = format!("resp_scripted{:08}", call.id);
    let created_at = unix_now();
    let response = |status: &str, output: Value, usage: Value| {
        json!({
            "id": response_id,
            "object": "response",
            "created_at": created_at,
            "status": status,
            "error": null,
            "incomplete_details": null,
            "instructions": body.get("instructions").cloned().unwrap_or(Value::Null),
            "max_output_tokens": null,
            "model": model,
            "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls").cloned().unwrap_or(json!(true)),
            "previous_response_id": null,
            "reasoning": { "effort": null, "summary": null },
            "store": body.get("store").cloned().unwrap_or(json!(true)),
            "temperature": 1.0,
            "text": { "format": { "type": "text" } },
            "tool_choice": body.get("tool_choice").cloned().unwrap_or(json!("auto")),
            "tools": [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": usage,
            "user": null,
            "metadata": {},
        })
    };
    let request_id = format!("req_scripted{:08}", call.id);
    let mut events: Vec<(String, Value)> = Vec::new();
    let push = |events: &mut Vec<(String, Value)>, mut data: Value| {
        let name = data
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some(object) = data.as_object_mut() {
            object.insert("sequence_number".into(), json!(events.len()));
        }
        events.push((name, data));
    };
    match take_fault(state, ModelApi::OpenAiResponses) {
        Some(ModelFault::Status(status)) => return Answer::error(auth, openai_status(status)),
        Some(ModelFault::RateLimited { retry_after_secs }) => {
            let reply = openai_status(429)
                .with_header("retry-after", retry_after_secs)
                .with_header("x-ratelimit-limit-requests", 500)
                .with_header("x-ratelimit-remaining-requests", 0)
                .with_header("x-ratelimit-reset-requests", format!("{retry_after_secs}s"));
            return Answer::error(auth, reply);
        }
        Some(ModelFault::StreamError) => {
            let started = response("in_progress", json!([]), Value::Null);
            push(
                &mut events,
                json!({ "type": "response.created", "response": started }),
            );
            let mut failed = response("failed", json!([]), Value::Null);
            failed["error"] = json!({
                "code": "server_error",
                "message": "The server had an error while processing your request.",
            });
            push(
                &mut events,
                json!({ "type": "response.failed", "response": failed }),
            );
            return Answer {
                auth,
                reply: Reply::Stream {
                    headers: vec![("x-request-id", request_id)],
                    events,
                    gap: state.event_gap,
                },
                answered: Answered::StreamError,
            };
        }
        None => {}
    }

    let conversation = openai_conversation(&body);
    let script = &state.script;
    let decision = conversation.decide(script);
    let patch_kind = apply_patch_kind(&body);
    let call_id = format!("call_scripted{:08}", call.id);
    // The patch names the file relative to the working directory, as models do, unless the
    // script names a folder.
    let patch_path = match &script.dir {
        Some(dir) => dir.join(&script.file_name).display().to_string(),
        None => script.file_name.clone(),
    };
    let (item, answered) = match (decision, patch_kind) {
        (Decision::WriteFile, Some("custom")) => (
            json!({
                "id": format!("ctc_scripted{:08}", call.id),
                "type": "custom_tool_call",
                "status": "completed",
                "call_id": call_id,
                "name": "apply_patch",
                "input": add_file_patch(&patch_path, &script.content),
            }),
            Answered::ToolCall {
                tool: "apply_patch".into(),
                path: patch_path,
            },
        ),
        (Decision::WriteFile, Some(_)) => (
            json!({
                "id": format!("fc_scripted{:08}", call.id),
                "type": "function_call",
                "status": "completed",
                "call_id": call_id,
                "name": "apply_patch",
                "arguments": json!({ "input": add_file_patch(&patch_path, &script.content) })
                    .to_string(),
            }),
            Answered::ToolCall {
                tool: "apply_patch".into(),
                path: patch_path,
            },
        ),
        (decision, _) => {
            let (text, answered) = match decision {
                Decision::Final => (script.final_reply.clone(), Answered::FinalReply),
                Decision::Side => (conversation.side_text(script), Answered::SideReply),
                Decision::WriteFile | Decision::Other => (other_text(script), Answered::OtherReply),
            };
            (
                json!({
                    "id": format!("msg_scripted{:08}", call.id),
                    "type": "message",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{ "type": "output_text", "text": text, "annotations": [] }],
                }),
                answered,
            )
        }
    };
    let out_tokens = output_tokens(&item.to_string());
    let usage = json!({
        "input_tokens": call.input_tokens(),
        "input_tokens_details": { "cached_tokens": 0 },
        "output_tokens": out_tokens,
        "output_tokens_details": { "reasoning_tokens": 0 },
        "total_tokens": call.input_tokens() + out_tokens,
    });
    if !stream {
        let completed = response("completed", json!([item]), usage);
        return Answer {
            auth,
            reply: Reply::json(200, completed).with_header("x-request-id", request_id),
            answered,
        };
    }
    let started = response("in_progress", json!([]), Value::Null);
    push(
        &mut events,
        json!({ "type": "response.created", "response": started }),
    );
    push(
        &mut events,
        json!({ "type": "response.in_progress", "response": started }),
    );
    let item_id = item.get("id").cloned().unwrap_or_default();
    let mut added = item.clone();
    added["status"] = json!("in_progress");
    match item.get("type").and_then(Value::as_str) {
        Some("custom_tool_call") => {
            added["input"] = json!("");
            push(
                &mut events,
                json!({ "type": "response.output_item.added", "output_index": 0, "item": added }),
            );
            let input = item
                .get("input")
                .and_then(Value::as_str)
                .unwrap_or_default();
            for piece in thirds(input) {
                push(
                    &mut events,
                    json!({
                        "type": "response.custom_tool_call_input.delta",
                        "item_id": item_id, "output_index": 0, "delta": piece,
                    }),
                );
            }
            push(
                &mut events,
                json!({
                    "type": "response.custom_tool_call_input.done",
                    "item_id": item_id, "output_index": 0, "input": input,
                }),
            );
        }
        Some("function_call") => {
            added["arguments"] = json!("");
            push(
                &mut events,
                json!({ "type": "response.output_item.added", "output_index": 0, "item": added }),
            );
            let arguments = item
                .get("arguments")
                .and_then(Value::as_str)
                .unwrap_or_default();
            for piece in thirds(arguments) {
                push(
                    &mut events,
                    json!({
                        "type": "response.function_call_arguments.delta",
                        "item_id": item_id, "output_index": 0, "delta": piece,
                    }),
                );
            }
            push(
                &mut events,
                json!({
                    "type": "response.function_call_arguments.done",
                    "item_id": item_id, "output_index": 0, "arguments": arguments,
                }),
            );
        }
        _ => {
            added["content"] = json!([]);
            push(
                &mut events,
                json!({ "type": "response.output_item.added", "output_index": 0, "item": added }),
            );
            let text = item
                .pointer("/content/0/text")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let empty = json!({ "type": "output_text", "text": "", "annotations": [] });
            push(
                &mut events,
                json!({
                    "type": "response.content_part.added",
                    "item_id": item_id, "output_index": 0, "content_index": 0, "part": empty,
                }),
            );
            for piece in pieces(text) {
                push(
                    &mut events,
                    json!({
                        "type": "response.output_text.delta",
                        "item_id": item_id, "output_index": 0, "content_index": 0,
                        "delta": piece, "logprobs": [],
                    }),
                );
            }
            push(
                &mut events,
                json!({
                    "type": "response.output_text.done",
                    "item_id": item_id, "output_index": 0, "content_index": 0,
                    "text": text, "logprobs": [],
                }),
            );
            push(
                &mut events,
                json!({
                    "type": "response.content_part.done",
                    "item_id": item_id, "output_index": 0, "content_index": 0,
                    "part": { "type": "output_text", "text": text, "annotations": [] },
                }),
            );
        }
    }
    push(
        &mut events,
        json!({ "type": "response.output_item.done", "output_index": 0, "item": item }),
    );
    let completed = response("completed", json!([item]), usage);
    push(
        &mut events,
        json!({ "type": "response.completed", "response": completed }),
    );
    Answer {
        auth,
        reply: Reply::Stream {
            headers: vec![("x-request-id", request_id)],
            events,
            gap: state.event_gap,
        },
        answered,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    const ANTHROPIC_KEY: &str = "sk-ant-api03-test-only";
    const OPENAI_KEY: &str = "sk-proj-test-only";

    async fn server() -> ModelServer {
        let server = ModelServer::start(
            Script::write_file("hello.txt", "hi there\n").final_reply("Created hello.txt"),
        )
        .await
        .unwrap();
        server.accept(ModelApi::AnthropicMessages, ANTHROPIC_KEY);
        server.accept(ModelApi::OpenAiResponses, OPENAI_KEY);
        server
    }

    /// The `(event, data)` pairs of an SSE body.
    fn events(body: &str) -> Vec<(String, Value)> {
        body.split("\n\n")
            .filter(|frame| !frame.trim().is_empty())
            .map(|frame| {
                let mut name = String::new();
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(rest) = line.strip_prefix("event: ") {
                        rest.clone_into(&mut name);
                    } else if let Some(rest) = line.strip_prefix("data: ") {
                        data.push_str(rest);
                    }
                }
                (name, serde_json::from_str(&data).unwrap())
            })
            .collect()
    }

    async fn messages(server: &ModelServer, key: Option<&str>, body: Value) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .post(format!(
                "{}/v1/messages?beta=true",
                server.anthropic_base_url()
            ))
            .header("anthropic-version", "2023-06-01")
            .json(&body);
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        request.send().await.unwrap()
    }

    async fn responses(server: &ModelServer, key: &str, body: Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/responses", server.openai_base_url()))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    fn claude_turn(messages: Value) -> Value {
        json!({
            "model": "claude-test",
            "max_tokens": 1024,
            "stream": true,
            "system": [{ "type": "text", "text": "# Environment\n - Primary working directory: /work/space\n" }],
            "tools": [{ "name": "Write", "input_schema": { "type": "object" } }],
            "messages": messages,
        })
    }

    #[tokio::test]
    async fn anthropic_keys_and_version_are_checked_and_secrets_are_not_recorded() {
        let server = server().await;
        let none = messages(&server, None, claude_turn(json!([]))).await;
        assert_eq!(none.status(), 401);
        let wrong = messages(&server, Some("sk-ant-wrong"), claude_turn(json!([]))).await;
        assert_eq!(wrong.status(), 401);
        let error: Value = wrong.json().await.unwrap();
        assert_eq!(error["type"], "error");
        assert_eq!(error["error"]["type"], "authentication_error");
        let unversioned = reqwest::Client::new()
            .post(format!("{}/v1/messages", server.anthropic_base_url()))
            .header("x-api-key", ANTHROPIC_KEY)
            .json(&claude_turn(json!([])))
            .send()
            .await
            .unwrap();
        assert_eq!(unversioned.status(), 400);
        let recorded = server.requests();
        assert_eq!(recorded[0].auth, Auth::Missing);
        assert_eq!(recorded[1].auth, Auth::Rejected(AuthScheme::XApiKey));
        assert_eq!(recorded[2].auth, Auth::Accepted(AuthScheme::XApiKey));
        assert_eq!(recorded[2].header("x-api-key"), Some(REDACTED));
        assert!(!format!("{recorded:?}").contains(ANTHROPIC_KEY));
    }

    #[tokio::test]
    async fn anthropic_streams_the_write_then_the_final_reply_and_answers_side_calls() {
        let server = server().await;
        let ask = json!({ "role": "user", "content": [
            { "type": "text", "text": "<system-reminder>be nice</system-reminder>" },
            { "type": "text", "text": "Please create hello.txt" },
        ]});
        let first = messages(&server, Some(ANTHROPIC_KEY), claude_turn(json!([ask]))).await;
        assert_eq!(first.status(), 200);
        assert!(
            first.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let stream = events(&first.text().await.unwrap());
        let names: Vec<&str> = stream.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.first(), Some(&"message_start"));
        assert_eq!(names.last(), Some(&"message_stop"));
        for (name, data) in &stream {
            assert_eq!(data["type"], name.as_str(), "event name and type agree");
        }
        let start = stream
            .iter()
            .find(|(n, _)| n == "content_block_start")
            .unwrap();
        assert_eq!(start.1["content_block"]["type"], "tool_use");
        assert_eq!(start.1["content_block"]["name"], "Write");
        let json: String = stream
            .iter()
            .filter(|(n, _)| n == "content_block_delta")
            .map(|(_, d)| {
                assert_eq!(d["delta"]["type"], "input_json_delta");
                d["delta"]["partial_json"].as_str().unwrap().to_owned()
            })
            .collect();
        let input: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(input["file_path"], "/work/space/hello.txt");
        assert_eq!(input["content"], "hi there\n");
        let delta = stream.iter().find(|(n, _)| n == "message_delta").unwrap();
        assert_eq!(delta.1["delta"]["stop_reason"], "tool_use");
        let id = start.1["content_block"]["id"].clone();

        // The tool result is in: the final reply, in more than one delta.
        let conversation = json!([
            ask,
            { "role": "assistant", "content": [{ "type": "tool_use", "id": id, "name": "Write", "input": input }] },
            { "role": "user", "content": [
                { "type": "tool_result", "tool_use_id": id, "content": "ok" },
                { "type": "text", "text": "<system-reminder>file changed</system-reminder>" },
            ]},
        ]);
        let second = messages(&server, Some(ANTHROPIC_KEY), claude_turn(conversation)).await;
        let stream = events(&second.text().await.unwrap());
        let texts: Vec<&str> = stream
            .iter()
            .filter(|(n, _)| n == "content_block_delta")
            .map(|(_, d)| d["delta"]["text"].as_str().unwrap())
            .collect();
        assert!(texts.len() > 1, "{texts:?}");
        assert_eq!(texts.concat(), "Created hello.txt");
        let delta = stream.iter().find(|(n, _)| n == "message_delta").unwrap();
        assert_eq!(delta.1["delta"]["stop_reason"], "end_turn");

        // A title request: no tools, a JSON schema, not streamed.
        let title = messages(
            &server,
            Some(ANTHROPIC_KEY),
            json!({
                "model": "claude-test",
                "max_tokens": 100,
                "messages": [{ "role": "user", "content": "<session>Please create hello.txt</session>" }],
                "output_config": { "format": { "type": "json_schema", "schema": {
                    "type": "object", "properties": { "title": { "type": "string" } },
                    "required": ["title"],
                }}},
            }),
        )
        .await;
        let message: Value = title.json().await.unwrap();
        assert_eq!(message["type"], "message");
        assert_eq!(message["stop_reason"], "end_turn");
        let text: Value =
            serde_json::from_str(message["content"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(text["title"], "Create hello.txt");
        let answered: Vec<Answered> = server.requests().into_iter().map(|r| r.answered).collect();
        assert_eq!(
            answered,
            [
                Answered::ToolCall {
                    tool: "Write".into(),
                    path: "/work/space/hello.txt".into()
                },
                Answered::FinalReply,
                Answered::SideReply,
            ]
        );
    }

    #[tokio::test]
    async fn opencode_gets_its_own_write_tool_in_the_working_directory_its_prompt_names() {
        let server = server().await;
        // OpenCode 1.18 names the folder in an `<env>` block and offers a lower-case `write`.
        let body = json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "stream": true,
            "system": [{ "type": "text", "text": "<env>\n  Working directory: /work/oc\n  Workspace root folder: /work/oc\n</env>" }],
            "tools": [
                { "name": "edit", "input_schema": { "type": "object" } },
                { "name": "write", "input_schema": { "type": "object" } },
            ],
            "messages": [{ "role": "user", "content": [{ "type": "text", "text": "Create hello.txt" }] }],
        });
        let reply = messages(&server, Some(ANTHROPIC_KEY), body).await;
        let stream = events(&reply.text().await.unwrap());
        let start = stream
            .iter()
            .find(|(n, _)| n == "content_block_start")
            .unwrap();
        assert_eq!(start.1["content_block"]["name"], "write");
        let json: String = stream
            .iter()
            .filter(|(n, _)| n == "content_block_delta")
            .map(|(_, d)| d["delta"]["partial_json"].as_str().unwrap().to_owned())
            .collect();
        let input: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            input,
            json!({ "filePath": "/work/oc/hello.txt", "content": "hi there\n" })
        );
        assert_eq!(
            server.requests()[0].answered,
            Answered::ToolCall {
                tool: "write".into(),
                path: "/work/oc/hello.txt".into()
            }
        );
    }

    #[tokio::test]
    async fn faults_come_in_each_apis_format_and_then_stop() {
        let server = server().await;
        server.fail_next(ModelApi::AnthropicMessages, ModelFault::Status(529), 1);
        server.fail_next(
            ModelApi::AnthropicMessages,
            ModelFault::RateLimited {
                retry_after_secs: 7,
            },
            1,
        );
        server.fail_next(ModelApi::AnthropicMessages, ModelFault::StreamError, 1);
        let overloaded = messages(&server, Some(ANTHROPIC_KEY), claude_turn(json!([]))).await;
        assert_eq!(overloaded.status(), 529);
        let body: Value = overloaded.json().await.unwrap();
        assert_eq!(body["error"]["type"], "overloaded_error");
        let limited = messages(&server, Some(ANTHROPIC_KEY), claude_turn(json!([]))).await;
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()["retry-after"], "7");
        let broken = messages(&server, Some(ANTHROPIC_KEY), claude_turn(json!([]))).await;
        let stream = events(&broken.text().await.unwrap());
        assert_eq!(stream.last().unwrap().0, "error");
        let fine = messages(&server, Some(ANTHROPIC_KEY), claude_turn(json!([]))).await;
        assert_eq!(fine.status(), 200);

        server.fail_next(ModelApi::OpenAiResponses, ModelFault::Status(500), 1);
        server.fail_next(ModelApi::OpenAiResponses, ModelFault::StreamError, 1);
        let body = json!({ "model": "gpt-test", "input": "hi", "stream": true });
        let failed = responses(&server, OPENAI_KEY, body.clone()).await;
        assert_eq!(failed.status(), 500);
        let error: Value = failed.json().await.unwrap();
        assert_eq!(error["error"]["type"], "server_error");
        let broken = responses(&server, OPENAI_KEY, body.clone()).await;
        let stream = events(&broken.text().await.unwrap());
        assert_eq!(stream.last().unwrap().0, "response.failed");
        assert_eq!(responses(&server, OPENAI_KEY, body).await.status(), 200);
    }

    fn codex_turn(input: Value) -> Value {
        json!({
            "model": "gpt-test",
            "stream": true,
            "instructions": "You are a coding agent.",
            "tools": [
                { "type": "function", "name": "exec_command", "parameters": { "type": "object" } },
                { "type": "custom", "name": "apply_patch", "format": { "type": "grammar" } },
            ],
            "input": input,
        })
    }

    #[tokio::test]
    async fn openai_checks_the_bearer_key_and_streams_apply_patch_then_the_reply() {
        let server = server().await;
        let wrong = responses(&server, "sk-wrong", codex_turn(json!([]))).await;
        assert_eq!(wrong.status(), 401);
        let error: Value = wrong.json().await.unwrap();
        assert_eq!(error["error"]["code"], "invalid_api_key");

        let ask = json!([
            { "type": "message", "role": "user", "content": [
                { "type": "input_text", "text": "<environment_context><cwd>/w</cwd></environment_context>" }
            ]},
            { "type": "message", "role": "user", "content": [
                { "type": "input_text", "text": "Create hello.txt please" }
            ]},
        ]);
        let first = responses(&server, OPENAI_KEY, codex_turn(ask.clone())).await;
        let stream = events(&first.text().await.unwrap());
        let names: Vec<&str> = stream.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.first(), Some(&"response.created"));
        assert_eq!(names.last(), Some(&"response.completed"));
        for (index, (name, data)) in stream.iter().enumerate() {
            assert_eq!(data["type"], name.as_str());
            assert_eq!(data["sequence_number"], index);
        }
        let done = stream
            .iter()
            .find(|(n, _)| n == "response.output_item.done")
            .unwrap();
        let item = &done.1["item"];
        assert_eq!(item["type"], "custom_tool_call");
        assert_eq!(item["name"], "apply_patch");
        assert_eq!(
            item["input"],
            "*** Begin Patch\n*** Add File: hello.txt\n+hi there\n*** End Patch"
        );
        let mut conversation = ask.as_array().unwrap().clone();
        conversation.push(item.clone());
        conversation.push(json!({
            "type": "custom_tool_call_output", "call_id": item["call_id"], "output": "Success."
        }));
        let second = responses(&server, OPENAI_KEY, codex_turn(json!(conversation))).await;
        let stream = events(&second.text().await.unwrap());
        let deltas: Vec<&str> = stream
            .iter()
            .filter(|(n, _)| n == "response.output_text.delta")
            .map(|(_, d)| d["delta"].as_str().unwrap())
            .collect();
        assert!(deltas.len() > 1);
        assert_eq!(deltas.concat(), "Created hello.txt");
        let completed = &stream.last().unwrap().1["response"];
        assert_eq!(completed["status"], "completed");
        assert_eq!(
            completed["output"][0]["content"][0]["text"],
            "Created hello.txt"
        );
        let recorded = server.requests();
        assert_eq!(recorded[1].auth, Auth::Accepted(AuthScheme::Bearer));
        assert_eq!(recorded[1].header("authorization"), Some(REDACTED));
        assert_eq!(recorded[2].answered, Answered::FinalReply);
    }
}

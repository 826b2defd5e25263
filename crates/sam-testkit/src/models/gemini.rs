//! The Gemini API (`generativelanguage.googleapis.com`) as the `@google/genai` SDK calls it,
//! for Gemini CLI pointed at the server through `GOOGLE_GEMINI_BASE_URL`:
//!
//! - `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`: server-sent events, each a
//!   `data: {GenerateContentResponse}` line (no `event:` names), `\r\n\r\n` between them; the
//!   last one carries `finishReason` and the full `usageMetadata`;
//! - `POST /v1beta/models/{model}:generateContent`: one `GenerateContentResponse` (Gemini CLI's
//!   side calls: its model router and its next-speaker check, both asking for JSON through
//!   `generationConfig.responseJsonSchema` in the API's upper-case schema dialect);
//! - `POST /v1beta/models/{model}:countTokens`: `{"totalTokens": N}`.
//!
//! The key comes in `x-goog-api-key` (what the SDK sends) or as `?key=` (what `curl` examples
//! use); a recorded query shows the key as [`super::REDACTED`]. Errors are Google's
//! `{"error":{"code","message","status","details"}}`: no key is 403 `PERMISSION_DENIED`, an
//! unknown key 400 `INVALID_ARGUMENT` with reason `API_KEY_INVALID` (Google never answers 401
//! for an API key), a rate limit 429 `RESOURCE_EXHAUSTED` with a `RetryInfo` detail, and an
//! error in the middle of a stream is one more `data:` line holding such an error object.
//!
//! The file tool is Gemini CLI's `write_file` (`file_path`, `content`), answered as a
//! `functionCall` part; the path is absolute, in the first of the "Workspace Directories" the
//! CLI's session context names. A tool result is a `functionResponse` part in a `user` turn.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::{
    Answer, Answered, Auth, AuthScheme, Call, Conversation, Decision, ModelApi, ModelFault,
    REDACTED, Reply, ServerState, accepts, other_text, output_tokens, pieces, strings, take_fault,
};

/// API versions the SDK puts before `/models/`.
const VERSIONS: [&str; 3] = ["/v1beta/models/", "/v1/models/", "/v1alpha/models/"];

/// What the server calls the write tool's model; Gemini CLI's own name for it.
const WRITE_TOOL: &str = "write_file";

/// Whether `path` is a Gemini API model method (`/v1beta/models/{model}:{method}`).
pub(super) fn serves(path: &str) -> bool {
    model_and_method(path).is_some()
}

/// The model a Gemini API path names (`gemini-2.5-pro` in `/v1beta/models/gemini-2.5-pro:…`).
pub(super) fn model_in_path(path: &str) -> Option<&str> {
    model_and_method(path).map(|(model, _)| model)
}

fn model_and_method(path: &str) -> Option<(&str, &str)> {
    let rest = VERSIONS.iter().find_map(|v| path.strip_prefix(v))?;
    let (model, method) = rest.rsplit_once(':')?;
    (!model.is_empty() && !model.contains('/') && !method.is_empty()).then_some((model, method))
}

/// The names in a Gemini request's `tools[].functionDeclarations[]`.
pub(super) fn function_names(body: &Value) -> Vec<String> {
    body.get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tool| tool.get("functionDeclarations").and_then(Value::as_array))
        .flatten()
        .filter_map(|f| f.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// A query as it is recorded: the value of `key` (an API key) is [`REDACTED`].
pub(super) fn recorded_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("key", _)) => format!("key={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

// --- errors -------------------------------------------------------------------------------------

fn google_error(status: u16, message: &str, grpc_status: &str, details: Value) -> Value {
    let mut error = json!({ "code": status, "message": message, "status": grpc_status });
    if !details.is_null() {
        error["details"] = details;
    }
    json!({ "error": error })
}

fn error_reply(status: u16, message: &str, grpc_status: &str, details: Value) -> Reply {
    Reply::json(status, google_error(status, message, grpc_status, details))
}

/// Google's error for a status, with its gRPC status name.
pub(super) fn error_for_status(status: u16) -> Reply {
    let (message, grpc_status) = status_text(status);
    error_reply(status, message, grpc_status, Value::Null)
}

/// Google's message and gRPC status for an HTTP status, as its APIs answer them (also used
/// by the credential-check fake, `fakes::gemini`).
pub(crate) fn status_text(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("Request contains an invalid argument.", "INVALID_ARGUMENT"),
        401 => (
            "Request had invalid authentication credentials.",
            "UNAUTHENTICATED",
        ),
        403 => ("The caller does not have permission", "PERMISSION_DENIED"),
        404 => ("Requested entity was not found.", "NOT_FOUND"),
        413 => (
            "Request payload size exceeds the limit.",
            "INVALID_ARGUMENT",
        ),
        429 => (
            "Resource has been exhausted (e.g. check quota).",
            "RESOURCE_EXHAUSTED",
        ),
        503 => (
            "The model is overloaded. Please try again later.",
            "UNAVAILABLE",
        ),
        504 => ("Deadline exceeded.", "DEADLINE_EXCEEDED"),
        _ => ("An internal error has occurred.", "INTERNAL"),
    }
}

fn rate_limited(retry_after_secs: u64) -> Reply {
    error_reply(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        "RESOURCE_EXHAUSTED",
        json!([{
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": format!("{retry_after_secs}s"),
        }]),
    )
}

fn key_invalid() -> Reply {
    error_reply(
        400,
        "API key not valid. Please pass a valid API key.",
        "INVALID_ARGUMENT",
        json!([{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": { "service": "generativelanguage.googleapis.com" },
        }]),
    )
}

// --- the conversation ---------------------------------------------------------------------------

fn parts(content: &Value) -> &[Value] {
    content
        .get("parts")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn conversation(body: &Value) -> Conversation {
    let contents = body
        .get("contents")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let is_result = |part: &Value| part.get("functionResponse").is_some();
    let mut ask = None;
    for (index, content) in contents.iter().enumerate() {
        // A missing role is the user's, as the API reads it.
        if content
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("user")
            != "user"
        {
            continue;
        }
        let parts = parts(content);
        if parts.iter().any(is_result) {
            continue;
        }
        let text: Vec<&str> = parts
            .iter()
            .filter(|p| p.get("thought").and_then(Value::as_bool) != Some(true))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect();
        if !text.is_empty() {
            ask = Some((index, text.join("\n")));
        }
    }
    let tool_result_after_ask = ask.as_ref().is_some_and(|(index, _)| {
        contents[index + 1..]
            .iter()
            .any(|c| parts(c).iter().any(is_result))
    });
    Conversation {
        tools: function_names(body),
        ask: ask.map(|(_, text)| text),
        tool_result_after_ask,
        cwd: workspace_dir(body),
        // Gemini's schemas are filled here ([`fill_schema`]), in the API's own dialect.
        schema: None,
    }
}

/// The first of the "Workspace Directories" Gemini CLI's session context lists:
/// `- **Workspace Directories:**\n  - /path`.
fn workspace_dir(body: &Value) -> Option<String> {
    let mut all = Vec::new();
    strings(body, &mut all);
    all.iter().find_map(|text| {
        let at = text.find("Workspace Directories:")?;
        text[at..]
            .lines()
            .skip(1)
            .map(str::trim)
            .find_map(|line| line.strip_prefix("- "))
            .map(str::trim)
            .filter(|dir| dir.starts_with('/'))
            .map(str::to_owned)
    })
}

/// The JSON schema a request asks its answer to fit (`responseJsonSchema`, or the older
/// `responseSchema`), if it asks for JSON.
fn response_schema(body: &Value) -> Option<&Value> {
    let config = body.get("generationConfig")?;
    if config.get("responseMimeType").and_then(Value::as_str) != Some("application/json") {
        return None;
    }
    config
        .get("responseJsonSchema")
        .or_else(|| config.get("responseSchema"))
}

/// A value that fits a schema in either dialect (`"type": "OBJECT"` or `"object"`): the first
/// of an `enum`, `text` in strings, the lowest allowed number (at least 1: Gemini CLI's router
/// asks for a score from 1 to 100), and every property, required or not.
fn fill_schema(schema: &Value, text: &str) -> Value {
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    let kind = match schema.get("type") {
        Some(Value::String(kind)) => Some(kind.to_lowercase()),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .find(|k| k != "null"),
        _ => None,
    };
    let properties = schema.get("properties").and_then(Value::as_object);
    match (kind.as_deref(), properties) {
        (Some("object") | None, Some(properties)) => Value::Object(
            properties
                .iter()
                .map(|(name, property)| (name.clone(), fill_schema(property, text)))
                .collect::<Map<_, _>>(),
        ),
        (Some("object"), None) => json!({}),
        (Some("array"), _) => json!([]),
        (Some("integer" | "number"), _) => {
            let minimum = schema.get("minimum").and_then(Value::as_f64).unwrap_or(1.0);
            json!(minimum.max(1.0).ceil() as i64)
        }
        (Some("boolean"), _) => json!(false),
        (Some("null"), _) => Value::Null,
        _ => json!(text),
    }
}

// --- answers ------------------------------------------------------------------------------------

fn auth_of(state: &ServerState, call: &Call<'_>, query: Option<&str>) -> Result<Auth, Box<Answer>> {
    let (scheme, key) = match call.header("x-goog-api-key") {
        Some(key) => (AuthScheme::GoogApiKey, key.to_owned()),
        None => match query_value(query, "key") {
            Some(key) => (AuthScheme::KeyQuery, key),
            None => {
                return Err(Box::new(Answer::error(
                    Auth::Missing,
                    error_reply(
                        403,
                        "Method doesn't allow unregistered callers (callers without established \
                         identity). Please use API Key or other form of API consumer identity \
                         to call this API.",
                        "PERMISSION_DENIED",
                        Value::Null,
                    ),
                )));
            }
        },
    };
    if accepts(state, ModelApi::GeminiGenerateContent, &key) {
        Ok(Auth::Accepted(scheme))
    } else {
        Err(Box::new(Answer::error(
            Auth::Rejected(scheme),
            key_invalid(),
        )))
    }
}

/// One `GenerateContentResponse`: `parts` from the model, and `finishReason` when `last`.
fn response(parts: Vec<Value>, last: bool, usage: &Value, model: &str, id: &str) -> Value {
    let mut candidate = json!({ "content": { "parts": parts, "role": "model" }, "index": 0 });
    if last {
        candidate["finishReason"] = json!("STOP");
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": id,
    })
}

/// Answers a Gemini API call; `query` is the raw query (`alt=sse`, `key=`).
pub(super) fn answer(state: &mut ServerState, call: &Call<'_>, query: Option<&str>) -> Answer {
    let auth = match auth_of(state, call, query) {
        Ok(auth) => auth,
        Err(answer) => return *answer,
    };
    let Some((model, method)) = model_and_method(call.path) else {
        return Answer::error(auth, error_for_status(404));
    };
    let stream = match method {
        "streamGenerateContent" => true,
        "generateContent" | "countTokens" => false,
        _ => return Answer::error(auth, error_for_status(404)),
    };
    let Ok(body) = serde_json::from_slice::<Value>(call.body) else {
        return Answer::error(
            auth,
            error_reply(
                400,
                "Invalid JSON payload received.",
                "INVALID_ARGUMENT",
                Value::Null,
            ),
        );
    };
    let contents_given = body
        .get("contents")
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty());
    if method == "countTokens" {
        let total = u64::try_from(call.body.len() / 4).unwrap_or(u64::MAX);
        return Answer {
            auth,
            reply: Reply::json(200, json!({ "totalTokens": total })),
            answered: Answered::TokenCount,
        };
    }
    if !contents_given {
        return Answer::error(
            auth,
            error_reply(
                400,
                "* GenerateContentRequest.contents: contents is not specified\n",
                "INVALID_ARGUMENT",
                Value::Null,
            ),
        );
    }
    let response_id = format!("scripted{:08}", call.id);
    match take_fault(state, ModelApi::GeminiGenerateContent) {
        Some(ModelFault::Status(status)) => return Answer::error(auth, error_for_status(status)),
        Some(ModelFault::RateLimited { retry_after_secs }) => {
            return Answer::error(auth, rate_limited(retry_after_secs));
        }
        Some(ModelFault::StreamError) => {
            let usage = json!({ "promptTokenCount": call.input_tokens() });
            let first = response(
                vec![json!({ "text": "Let me" })],
                false,
                &usage,
                model,
                &response_id,
            );
            let (message, status) = status_text(503);
            let events = vec![
                (String::new(), first),
                (
                    String::new(),
                    google_error(503, message, status, Value::Null),
                ),
            ];
            return Answer {
                auth,
                reply: Reply::Stream {
                    headers: Vec::new(),
                    events,
                    gap: state.event_gap,
                },
                answered: Answered::StreamError,
            };
        }
        None => {}
    }

    let conversation = conversation(&body);
    let script = &state.script;
    let (parts, answered) = match conversation.decide(script) {
        Decision::WriteFile if conversation.tools.iter().any(|t| t == WRITE_TOOL) => {
            let path = conversation.file_path(script);
            // Gemini 3 models sign their function calls; the CLI sends the signature back.
            let signature = base64::engine::general_purpose::STANDARD
                .encode(format!("scripted-thought-signature-{}", call.id));
            let part = json!({
                "functionCall": {
                    "name": WRITE_TOOL,
                    "args": { "file_path": path, "content": script.content },
                },
                "thoughtSignature": signature,
            });
            (
                vec![part],
                Answered::ToolCall {
                    tool: WRITE_TOOL.into(),
                    path,
                },
            )
        }
        decision => {
            let (text, answered) = match decision {
                Decision::Final => (script.final_reply.clone(), Answered::FinalReply),
                Decision::Side => (
                    response_schema(&body).map_or_else(
                        || script.side_reply.clone(),
                        |schema| fill_schema(schema, &script.side_reply).to_string(),
                    ),
                    Answered::SideReply,
                ),
                Decision::WriteFile | Decision::Other => (other_text(script), Answered::OtherReply),
            };
            let parts = if stream {
                pieces(&text)
                    .into_iter()
                    .map(|piece| json!({ "text": piece }))
                    .collect()
            } else {
                vec![json!({ "text": text })]
            };
            (parts, answered)
        }
    };
    let prompt_tokens = call.input_tokens();
    let out_tokens = output_tokens(&Value::Array(parts.clone()).to_string());
    let usage = json!({
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": out_tokens,
        "totalTokenCount": prompt_tokens + out_tokens,
        "promptTokensDetails": [{ "modality": "TEXT", "tokenCount": prompt_tokens }],
    });
    if !stream {
        return Answer {
            auth,
            reply: Reply::json(200, response(parts, true, &usage, model, &response_id)),
            answered,
        };
    }
    let streaming_usage =
        json!({ "promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens });
    let count = parts.len();
    let chunks: Vec<Value> = parts
        .into_iter()
        .enumerate()
        .map(|(index, part)| {
            let last = index + 1 == count;
            let usage = if last { &usage } else { &streaming_usage };
            response(vec![part], last, usage, model, &response_id)
        })
        .collect();
    if query_value(query, "alt").as_deref() != Some("sse") {
        // Without `alt=sse` the API streams one JSON array of the same responses.
        return Answer {
            auth,
            reply: Reply::json(200, Value::Array(chunks)),
            answered,
        };
    }
    Answer {
        auth,
        reply: Reply::Stream {
            headers: Vec::new(),
            // No event names: the Gemini API's events are `data:` lines only.
            events: chunks.into_iter().map(|c| (String::new(), c)).collect(),
            gap: state.event_gap,
        },
        answered,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::super::{ModelServer, Script};
    use super::*;

    const KEY: &str = "AIzaSyScriptedGeminiTestKey000";
    const WORKSPACE: &str = "/work/space";

    async fn server() -> ModelServer {
        let server = ModelServer::start(
            Script::write_file("hello.txt", "hi there\n").final_reply("Created hello.txt for you"),
        )
        .await
        .unwrap();
        server.accept(ModelApi::GeminiGenerateContent, KEY);
        server
    }

    async fn post(
        server: &ModelServer,
        model_method: &str,
        key: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .post(format!(
                "{}/v1beta/models/{model_method}",
                server.gemini_base_url()
            ))
            .json(body);
        if let Some(key) = key {
            request = request.header("x-goog-api-key", key);
        }
        request.send().await.unwrap()
    }

    /// The `data:` payloads of a Gemini SSE body, checked to be `\r\n\r\n`-separated with no
    /// `event:` lines.
    fn data_lines(body: &str) -> Vec<Value> {
        assert!(!body.contains("event:"), "{body}");
        body.split("\r\n\r\n")
            .filter(|frame| !frame.trim().is_empty())
            .map(|frame| serde_json::from_str(frame.strip_prefix("data: ").unwrap()).unwrap())
            .collect()
    }

    fn context() -> Value {
        json!({ "text": format!(
            "<session_context>\n- **Workspace Directories:**\n  - {WORKSPACE}\n</session_context>"
        )})
    }

    fn cli_turn(contents: Value) -> Value {
        json!({
            "contents": contents,
            "systemInstruction": { "parts": [{ "text": "You are an interactive CLI agent." }] },
            "tools": [{ "functionDeclarations": [
                { "name": "read_file", "parametersJsonSchema": { "type": "object" } },
                { "name": "write_file", "parametersJsonSchema": { "type": "object" } },
            ]}],
            "generationConfig": { "temperature": 1 },
        })
    }

    #[tokio::test]
    async fn keys_are_checked_as_google_does_and_never_recorded() {
        let server = server().await;
        let body = cli_turn(json!([{ "role": "user", "parts": [{ "text": "hi" }] }]));
        let none = post(&server, "gemini-test:generateContent", None, &body).await;
        assert_eq!(none.status(), 403);
        let error: Value = none.json().await.unwrap();
        assert_eq!(error["error"]["status"], "PERMISSION_DENIED");
        let wrong = post(
            &server,
            "gemini-test:generateContent",
            Some("AIza-wrong"),
            &body,
        )
        .await;
        assert_eq!(wrong.status(), 400);
        let error: Value = wrong.json().await.unwrap();
        assert_eq!(error["error"]["code"], 400);
        assert_eq!(error["error"]["status"], "INVALID_ARGUMENT");
        assert_eq!(error["error"]["details"][0]["reason"], "API_KEY_INVALID");
        let in_query = reqwest::Client::new()
            .post(format!(
                "{}/v1beta/models/gemini-test:generateContent?key={KEY}",
                server.gemini_base_url()
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(in_query.status(), 200);
        let unknown = post(&server, "gemini-test:embedContent", Some(KEY), &body).await;
        assert_eq!(unknown.status(), 404);
        let error: Value = unknown.json().await.unwrap();
        assert_eq!(error["error"]["status"], "NOT_FOUND");

        let recorded = server.requests();
        let auths: Vec<Auth> = recorded.iter().map(|r| r.auth).collect();
        assert_eq!(
            auths,
            [
                Auth::Missing,
                Auth::Rejected(AuthScheme::GoogApiKey),
                Auth::Accepted(AuthScheme::KeyQuery),
                Auth::Accepted(AuthScheme::GoogApiKey),
            ]
        );
        assert!(
            recorded
                .iter()
                .all(|r| r.api == Some(ModelApi::GeminiGenerateContent))
        );
        assert_eq!(recorded[1].header("x-goog-api-key"), Some(REDACTED));
        assert_eq!(recorded[2].query.as_deref(), Some("key=[redacted]"));
        assert_eq!(recorded[2].model(), Some("gemini-test"));
        assert_eq!(recorded[2].tool_names(), ["read_file", "write_file"]);
        assert!(!format!("{recorded:?}").contains(KEY));
    }

    #[tokio::test]
    async fn streams_write_file_then_the_final_reply_in_pieces() {
        let server = server().await;
        let ask = json!({ "role": "user", "parts": [
            context(),
            { "text": "Create a file named hello.txt with a greeting." },
        ]});
        let first = post(
            &server,
            "gemini-test:streamGenerateContent?alt=sse",
            Some(KEY),
            &cli_turn(json!([ask])),
        )
        .await;
        assert_eq!(first.status(), 200);
        assert!(
            first.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let chunks = data_lines(&first.text().await.unwrap());
        assert_eq!(chunks.len(), 1);
        let candidate = &chunks[0]["candidates"][0];
        assert_eq!(candidate["finishReason"], "STOP");
        assert_eq!(candidate["content"]["role"], "model");
        let part = &candidate["content"]["parts"][0];
        assert_eq!(part["functionCall"]["name"], "write_file");
        assert_eq!(
            part["functionCall"]["args"],
            json!({ "file_path": "/work/space/hello.txt", "content": "hi there\n" })
        );
        assert!(part["thoughtSignature"].is_string());
        assert!(
            chunks[0]["usageMetadata"]["totalTokenCount"]
                .as_u64()
                .unwrap()
                > 0
        );

        let conversation = json!([
            ask,
            { "role": "model", "parts": [part] },
            { "role": "user", "parts": [{ "functionResponse": {
                "name": "write_file", "response": { "output": "Successfully created hello.txt" },
            }}]},
        ]);
        let second = post(
            &server,
            "gemini-test:streamGenerateContent?alt=sse",
            Some(KEY),
            &cli_turn(conversation),
        )
        .await;
        let chunks = data_lines(&second.text().await.unwrap());
        assert!(chunks.len() > 1, "{chunks:?}");
        let text: String = chunks
            .iter()
            .map(|c| {
                c["candidates"][0]["content"]["parts"][0]["text"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(text, "Created hello.txt for you");
        let (last, rest) = chunks.split_last().unwrap();
        assert_eq!(last["candidates"][0]["finishReason"], "STOP");
        assert!(
            last["usageMetadata"]["candidatesTokenCount"]
                .as_u64()
                .unwrap()
                > 0
        );
        assert!(
            rest.iter()
                .all(|c| c["candidates"][0].get("finishReason").is_none())
        );

        let answered: Vec<Answered> = server.requests().into_iter().map(|r| r.answered).collect();
        assert_eq!(
            answered,
            [
                Answered::ToolCall {
                    tool: "write_file".into(),
                    path: "/work/space/hello.txt".into(),
                },
                Answered::FinalReply,
            ]
        );
    }

    #[tokio::test]
    async fn side_calls_get_json_that_fits_the_upper_case_schema_and_tokens_are_counted() {
        let server = server().await;
        // Gemini CLI's model router: no tools, JSON in the API's schema dialect.
        let router = json!({
            "contents": [{ "role": "user", "parts": [{ "text": "Create hello.txt" }] }],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseJsonSchema": {
                    "type": "OBJECT",
                    "properties": {
                        "complexity_reasoning": { "type": "STRING" },
                        "complexity_score": { "type": "INTEGER" },
                        "next_speaker": { "type": "string", "enum": ["user", "model"] },
                    },
                    "required": ["complexity_reasoning", "complexity_score"],
                },
            },
        });
        let answer = post(&server, "gemini-lite:generateContent", Some(KEY), &router).await;
        assert_eq!(answer.status(), 200);
        let answer: Value = answer.json().await.unwrap();
        let text = answer["candidates"][0]["content"]["parts"][0]["text"]
            .as_str()
            .unwrap();
        let json: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            json,
            json!({
                "complexity_reasoning": "Create hello.txt",
                "complexity_score": 1,
                "next_speaker": "user",
            })
        );
        assert_eq!(answer["candidates"][0]["finishReason"], "STOP");
        assert_eq!(answer["modelVersion"], "gemini-lite");

        let count = post(&server, "gemini-test:countTokens", Some(KEY), &router).await;
        let count: Value = count.json().await.unwrap();
        assert!(count["totalTokens"].as_u64().unwrap() > 0);
        let empty = post(
            &server,
            "gemini-test:generateContent",
            Some(KEY),
            &json!({}),
        )
        .await;
        assert_eq!(empty.status(), 400);
        let answered: Vec<Answered> = server.requests().into_iter().map(|r| r.answered).collect();
        assert_eq!(
            answered,
            [
                Answered::SideReply,
                Answered::TokenCount,
                Answered::Error { status: 400 }
            ]
        );
    }

    #[tokio::test]
    async fn faults_come_in_googles_format() {
        let server = server().await;
        let api = ModelApi::GeminiGenerateContent;
        server.fail_next(api, ModelFault::Status(503), 1);
        server.fail_next(
            api,
            ModelFault::RateLimited {
                retry_after_secs: 7,
            },
            1,
        );
        server.fail_next(api, ModelFault::StreamError, 1);
        let body = cli_turn(json!([{ "role": "user", "parts": [{ "text": "hi" }] }]));
        let method = "gemini-test:streamGenerateContent?alt=sse";
        let overloaded = post(&server, method, Some(KEY), &body).await;
        assert_eq!(overloaded.status(), 503);
        let error: Value = overloaded.json().await.unwrap();
        assert_eq!(error["error"]["status"], "UNAVAILABLE");
        let limited = post(&server, method, Some(KEY), &body).await;
        assert_eq!(limited.status(), 429);
        let error: Value = limited.json().await.unwrap();
        assert_eq!(error["error"]["details"][0]["retryDelay"], "7s");
        let broken = post(&server, method, Some(KEY), &body).await;
        assert_eq!(broken.status(), 200);
        let chunks = data_lines(&broken.text().await.unwrap());
        assert_eq!(chunks.last().unwrap()["error"]["code"], 503);
        let fine = post(&server, method, Some(KEY), &body).await;
        let chunks = data_lines(&fine.text().await.unwrap());
        assert_eq!(
            chunks.last().unwrap()["candidates"][0]["finishReason"],
            "STOP"
        );
    }
    /// Set as an agent's `HTTPS_PROXY` (loopback in `NO_PROXY`), the server is a tripwire:
    /// a call that would leave the machine reaches it as a `CONNECT`, which it records and
    /// refuses.
    #[tokio::test]
    async fn a_call_through_the_server_as_proxy_is_recorded_and_refused() {
        let server = server().await;
        let client = reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(server.gemini_base_url()).unwrap())
            .build()
            .unwrap();
        let outside = client.get("https://play.googleapis.com/log").send().await;
        assert!(outside.is_err(), "{outside:?}");
        let recorded = server.requests();
        assert_eq!(recorded.len(), 1, "{recorded:?}");
        assert_eq!(recorded[0].method, "CONNECT");
        assert_eq!(recorded[0].api, None);
        assert_eq!(recorded[0].path, "play.googleapis.com:443");
        assert!(matches!(recorded[0].answered, Answered::Error { .. }));
    }
}

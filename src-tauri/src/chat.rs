//! Chat commands: wiring to `sam-chat`. The live stream is a long poll (`chat_wait_events`):
//! it returns as soon as events are stored, in bounded pages, so a fast agent never floods the
//! webview and no event channel needs opening to it.

use std::sync::Arc;
use std::time::Duration;

use sam_chat::{AgentChoice, ChatError, ChatSession, RawChatPage, SearchHit, SendRequest, Sent};
use sam_core::{ApiError, ErrorCode};
use serde::Deserialize;
use tauri::State;

use crate::state::AppState;

type Shared<'a> = State<'a, Arc<AppState>>;

/// The most events one page carries to the webview.
const PAGE_LIMIT: f64 = 2000.0;

/// The longest a `chat_wait_events` call waits for something new.
const MAX_WAIT_MS: f64 = 25_000.0;

pub fn chat_error(error: ChatError) -> ApiError {
    let code = match &error {
        ChatError::InvalidInput(_) | ChatError::Busy => ErrorCode::InvalidInput,
        ChatError::NoSession(_) | ChatError::Credential(_) => ErrorCode::NotFound,
        ChatError::Store(_) => ErrorCode::Database,
        ChatError::AgentFailed(_) | ChatError::Host(_) | ChatError::Workspace(_) => {
            ErrorCode::Unavailable
        }
    };
    ApiError::new(code, error.to_string())
}

fn limit(value: f64) -> i64 {
    if value.is_finite() {
        value.clamp(1.0, PAGE_LIMIT) as i64
    } else {
        PAGE_LIMIT as i64
    }
}

fn seq(value: f64) -> Result<i64, ApiError> {
    if (0.0..=9.0e15).contains(&value) {
        Ok(value as i64)
    } else {
        Err(ApiError::invalid_input(
            "A sequence number must be a whole number ≥ 0.",
        ))
    }
}

/// The agents the picker offers, and whether each has its credential.
#[tauri::command]
#[specta::specta]
pub async fn chat_agents(state: Shared<'_>) -> Result<Vec<AgentChoice>, ApiError> {
    Ok(state.chat()?.agents())
}

/// Chat sessions, newest first (of one workspace, or all).
#[tauri::command]
#[specta::specta]
pub async fn chat_sessions(
    state: Shared<'_>,
    workspace_id: Option<String>,
) -> Result<Vec<ChatSession>, ApiError> {
    state
        .chat()?
        .sessions(workspace_id.as_deref())
        .await
        .map_err(chat_error)
}

/// A page of a session's events after `after_seq`.
#[tauri::command]
#[specta::specta]
pub async fn chat_events(
    state: Shared<'_>,
    session_id: String,
    after_seq: f64,
    limit_events: f64,
) -> Result<RawChatPage, ApiError> {
    state
        .chat()?
        .events_raw(&session_id, seq(after_seq)?, limit(limit_events))
        .await
        .map_err(chat_error)
}

/// Events after `after_seq` as soon as there are some, or an empty page after `timeout_ms`.
#[tauri::command]
#[specta::specta]
pub async fn chat_wait_events(
    state: Shared<'_>,
    session_id: String,
    after_seq: f64,
    limit_events: f64,
    timeout_ms: f64,
) -> Result<RawChatPage, ApiError> {
    let wait = if timeout_ms.is_finite() {
        timeout_ms.clamp(0.0, MAX_WAIT_MS)
    } else {
        0.0
    };
    state
        .chat()?
        .wait_events(
            &session_id,
            seq(after_seq)?,
            limit(limit_events),
            Duration::from_millis(wait as u64),
        )
        .await
        .map_err(chat_error)
}

/// What the composer sends.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct ChatSendInput {
    pub workspace_id: String,
    pub session_id: Option<String>,
    pub agent: Option<String>,
    pub agent_command: Option<String>,
    pub text: String,
}

/// Sends a prompt (to a new session when `session_id` is null).
#[tauri::command]
#[specta::specta]
pub async fn chat_send(state: Shared<'_>, input: ChatSendInput) -> Result<Sent, ApiError> {
    state
        .chat()?
        .send(SendRequest {
            workspace: Some(input.workspace_id),
            session: input.session_id,
            agent: input.agent,
            agent_command: input.agent_command,
            text: input.text,
        })
        .await
        .map_err(chat_error)
}

/// Cancels the running turn.
#[tauri::command]
#[specta::specta]
pub async fn chat_cancel(state: Shared<'_>, session_id: String) -> Result<(), ApiError> {
    state.chat()?.cancel(&session_id).await.map_err(chat_error)
}

/// Answers an open permission request with one of the agent's options.
#[tauri::command]
#[specta::specta]
pub async fn chat_answer(
    state: Shared<'_>,
    session_id: String,
    request: u32,
    option_id: String,
) -> Result<(), ApiError> {
    state
        .chat()?
        .answer(&session_id, request, &option_id, "desktop")
        .await
        .map_err(chat_error)
}

/// A new session from `session_id`'s events up to `seq`, in the same workspace or in
/// `workspace_id` (to continue a chat whose workspace was deleted); returns its id.
#[tauri::command]
#[specta::specta]
pub async fn chat_fork(
    state: Shared<'_>,
    session_id: String,
    at_seq: f64,
    workspace_id: Option<String>,
) -> Result<String, ApiError> {
    state
        .chat()?
        .fork_to(&session_id, seq(at_seq)?, workspace_id.as_deref())
        .await
        .map_err(chat_error)
}

/// A new session continuing one whose agent stopped; returns its id.
#[tauri::command]
#[specta::specta]
pub async fn chat_restart(state: Shared<'_>, session_id: String) -> Result<String, ApiError> {
    state.chat()?.restart(&session_id).await.map_err(chat_error)
}

/// Full-text search across sessions.
#[tauri::command]
#[specta::specta]
pub async fn chat_search(state: Shared<'_>, query: String) -> Result<Vec<SearchHit>, ApiError> {
    state.chat()?.search(&query).await.map_err(chat_error)
}

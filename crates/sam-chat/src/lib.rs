//! Agent chat, desktop side, for the app and the CLI alike.
//!
//! A session's agent runs under the workspace's `sam-host`, which journals everything. The
//! desktop keeps a copy in its database: each attached workspace has a sync task that
//! subscribes to the host journal after the stored cursor and stores what arrives (gap-free,
//! duplicate-free: the store skips a host event it already has), then tells listeners. The
//! history therefore outlives the workspace, and a restarted app (or a second process, such as
//! the CLI) catches up from the journal.

pub mod manifest;
mod ship;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sam_protocol::client::ClientError;
use sam_protocol::{
    AgentInstall, AgentLaunch, EnvVar, ErrorCode, Event, EventBody, RequestBody, ResponseBody,
    Secret, SessionEvent, StartSession,
};
use sam_secrets::{Vault, VaultError};
use sam_store::{ChatEventRow, ChatSessionRow, IngestItem, NewChatSession, Store};
use sam_workspace::{HostLink, Lifecycle, WorkspaceError, Workspaces};
use serde::Serialize;
use tokio::sync::{Mutex, broadcast};

use crate::manifest::{AgentSpec, CUSTOM, Distribution};

/// Environment variables named `SAM_AGENT_ENV_<NAME>` on the desktop are handed to every
/// agent as `<NAME>` (for example `SAM_AGENT_ENV_ANTHROPIC_BASE_URL` for a local model
/// server or a proxy).
pub const AGENT_ENV_PREFIX: &str = "SAM_AGENT_ENV_";

/// The ACP command of the `custom` agent when a send names none (the app's composer has no
/// field for it yet; the CLI takes `--agent-command`).
pub const CUSTOM_AGENT_COMMAND_ENV: &str = "SAM_CUSTOM_AGENT_COMMAND";

/// The most events one page of [`Chat::events`] returns.
pub const MAX_PAGE: i64 = 5000;

/// Why a chat operation failed, for the user.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("No chat session \"{0}\". `sam chat sessions` lists them.")]
    NoSession(String),
    #[error("{0}")]
    Credential(String),
    #[error("The agent is still working on the last prompt. Wait for it or cancel it.")]
    Busy,
    #[error("The agent could not be started: {0}")]
    AgentFailed(String),
    #[error("{0}")]
    Host(String),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error("The local database failed: {0}")]
    Store(#[from] sam_store::StoreError),
}

impl ChatError {
    /// A stable code for the UI and `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
            Self::NoSession(_) => "not_found",
            Self::Credential(_) => "credential_missing",
            Self::Busy => "busy",
            Self::AgentFailed(_) => "agent_failed",
            Self::Host(_) => "host",
            Self::Workspace(_) => "workspace",
            Self::Store(_) => "store",
        }
    }
}

fn host_error(error: ClientError) -> ChatError {
    match error {
        ClientError::Host(error) => match error.code {
            ErrorCode::Busy => ChatError::Busy,
            ErrorCode::AgentFailed => ChatError::AgentFailed(error.message),
            ErrorCode::InvalidRequest => ChatError::InvalidInput(error.message),
            _ => ChatError::Host(error.message),
        },
        other => ChatError::Host(other.to_string()),
    }
}

/// A session as the UI and `sam chat sessions` see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ChatSession {
    pub id: String,
    pub workspace_id: String,
    pub workspace_name: String,
    /// The workspace was deleted; the history stays.
    pub workspace_gone: bool,
    pub agent: String,
    pub title: String,
    #[specta(type = f64)]
    pub created_at_ms: i64,
    #[specta(type = f64)]
    pub last_seq: i64,
    /// `starting`, `idle`, `working`, `waiting` (a permission request is open), `resumable`
    /// (its agent stopped with the workspace host but can load the session again: the next
    /// prompt resumes it), `ended` or `failed`.
    pub state: String,
    pub forked_from: Option<ForkOrigin>,
}

/// Where a fork came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ForkOrigin {
    pub session_id: String,
    #[specta(type = f64)]
    pub seq: i64,
}

/// One stored event of a session, numbered from 1 without gaps.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ChatEvent {
    #[specta(type = f64)]
    pub seq: i64,
    #[specta(type = f64)]
    pub at_ms: i64,
    pub body: SessionEvent,
}

/// A page of events.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ChatPage {
    pub events: Vec<ChatEvent>,
    /// The session's last event number.
    #[specta(type = f64)]
    pub last_seq: i64,
}

/// One stored event as the webview receives it: the body is the stored JSON as it is (a
/// [`SessionEvent`]), never parsed and written again on the way.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct RawChatEvent {
    #[specta(type = f64)]
    pub seq: i64,
    #[specta(type = f64)]
    pub at_ms: i64,
    #[specta(type = SessionEvent)]
    pub body: Box<serde_json::value::RawValue>,
}

/// A page of events for the webview.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct RawChatPage {
    pub events: Vec<RawChatEvent>,
    /// The session's last event number.
    #[specta(type = f64)]
    pub last_seq: i64,
}

/// An agent the picker offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct AgentChoice {
    pub id: String,
    pub name: String,
    pub available: bool,
    /// Why it is not available (a missing credential), or what it needs.
    pub reason: Option<String>,
}

/// A search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct SearchHit {
    pub session_id: String,
    pub session_title: String,
    #[specta(type = f64)]
    pub seq: i64,
    pub snippet: String,
}

/// New events stored for one session, for listeners.
#[derive(Debug, Clone)]
pub struct ChatBatch {
    pub session_id: String,
    pub events: Vec<ChatEvent>,
}

/// What to send.
#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    /// The workspace (id or name); needed for a new session.
    pub workspace: Option<String>,
    /// An existing session; `None` starts a new one.
    pub session: Option<String>,
    /// The agent for a new session (a manifest id or `custom`); `claude` when `None`.
    pub agent: Option<String>,
    /// The command of a `custom` agent, as one string split like a shell would (no shell
    /// runs it).
    pub agent_command: Option<String>,
    /// The prompt.
    pub text: String,
}

/// The answer to a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Sent {
    pub session_id: String,
    /// The turn number.
    pub prompt: u32,
}

/// A permission request that waits for an answer (see [`Chat::open_requests`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPermission {
    pub session_id: String,
    pub workspace_id: String,
    /// The request's number in its session.
    pub request: u32,
    /// The stored event's number.
    pub seq: i64,
    /// When it was asked (ms since the Unix epoch).
    pub at_ms: i64,
    /// What is asked, in a few words ([`permission_title`]).
    pub title: String,
    pub options: Vec<sam_protocol::PermissionOption>,
}

/// What a permission request is about, in a few words: the tool call's title, else its kind,
/// else "A tool call" (the agent's own words; callers clean them for display).
pub fn permission_title(tool_call: &serde_json::Value) -> String {
    [&tool_call["title"], &tool_call["kind"]]
        .into_iter()
        .filter_map(serde_json::Value::as_str)
        .map(str::trim)
        .find(|text| !text.is_empty())
        .map_or_else(|| "A tool call".to_owned(), title_of)
}

/// An attached workspace host with its sync task.
#[derive(Debug)]
struct Attached {
    link: HostLink,
}

/// Chat operations over the store, the workspaces and the vault.
#[derive(Debug, Clone)]
pub struct Chat {
    store: Arc<Store>,
    workspaces: Workspaces,
    vault: Option<Arc<Vault>>,
    attached: Arc<Mutex<HashMap<String, Arc<Attached>>>>,
    batches: broadcast::Sender<ChatBatch>,
}

impl Chat {
    /// Chat over `store` and `workspaces`, taking agent credentials from `vault` (without one,
    /// only agents that need no credential can start).
    pub fn new(store: Arc<Store>, workspaces: Workspaces, vault: Option<Arc<Vault>>) -> Self {
        let (batches, _) = broadcast::channel(1024);
        Self {
            store,
            workspaces,
            vault,
            attached: Arc::new(Mutex::new(HashMap::new())),
            batches,
        }
    }

    /// Every batch of events stored from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ChatBatch> {
        self.batches.subscribe()
    }

    /// The agents, and whether each can start (a credential is there).
    pub fn agents(&self) -> Vec<AgentChoice> {
        let mut choices: Vec<AgentChoice> = manifest::AGENTS
            .iter()
            .map(|spec| {
                let missing = self.credential_env(spec).err();
                let hint = match spec.distribution {
                    Distribution::OnPath { hint } => Some(hint.to_owned()),
                    Distribution::Npm { .. } => None,
                };
                AgentChoice {
                    id: spec.id.to_owned(),
                    name: spec.name.to_owned(),
                    available: missing.is_none(),
                    reason: missing.map(|e| e.to_string()).or(hint),
                }
            })
            .collect();
        let custom = std::env::var(CUSTOM_AGENT_COMMAND_ENV)
            .ok()
            .filter(|c| !c.trim().is_empty());
        choices.push(AgentChoice {
            id: CUSTOM.to_owned(),
            name: "Custom ACP command".to_owned(),
            available: custom.is_some(),
            reason: Some(match custom {
                Some(command) => format!("runs {command}"),
                None => format!(
                    "set {CUSTOM_AGENT_COMMAND_ENV} to a command that speaks ACP on stdio (or use \
                     `sam chat send --agent custom --agent-command`)"
                ),
            }),
        });
        choices
    }

    /// Sessions, newest first (of one workspace, or all).
    pub async fn sessions(&self, workspace: Option<&str>) -> Result<Vec<ChatSession>, ChatError> {
        // A name is looked up; an id of a workspace that is gone is used as it is.
        let workspace_id = workspace.map(|w| {
            self.workspaces
                .get(w)
                .map(|w| w.id)
                .unwrap_or_else(|_| w.to_owned())
        });
        let store = Arc::clone(&self.store);
        let rows = blocking(move || store.chat_sessions(workspace_id.as_deref())).await?;
        Ok(rows.into_iter().map(|row| self.session_view(row)).collect())
    }

    /// One session.
    pub async fn session(&self, id: &str) -> Result<ChatSession, ChatError> {
        let row = self.session_row(id).await?;
        Ok(self.session_view(row))
    }

    fn session_view(&self, row: ChatSessionRow) -> ChatSession {
        let workspace_gone = match self.workspaces.get(&row.workspace_id) {
            Ok(w) => w.state == Lifecycle::Deleted,
            Err(_) => true,
        };
        ChatSession {
            workspace_gone,
            forked_from: row.forked_from.map(|session_id| ForkOrigin {
                session_id,
                seq: row.forked_at_seq.unwrap_or(0),
            }),
            id: row.id,
            workspace_id: row.workspace_id,
            workspace_name: row.workspace_name,
            agent: row.agent,
            title: row.title,
            created_at_ms: row.created_at_ms,
            last_seq: row.last_seq,
            state: row.state,
        }
    }

    async fn session_row(&self, id: &str) -> Result<ChatSessionRow, ChatError> {
        let store = Arc::clone(&self.store);
        let key = id.to_owned();
        blocking(move || store.chat_session(&key))
            .await?
            .ok_or_else(|| ChatError::NoSession(id.to_owned()))
    }

    /// Up to `limit` (at most [`MAX_PAGE`]) events of `session` after `after`.
    pub async fn events(
        &self,
        session: &str,
        after: i64,
        limit: i64,
    ) -> Result<ChatPage, ChatError> {
        let row = self.session_row(session).await?;
        let store = Arc::clone(&self.store);
        let id = row.id.clone();
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = blocking(move || store.chat_events(&id, after, limit)).await?;
        Ok(ChatPage {
            events: rows.into_iter().filter_map(to_event).collect(),
            last_seq: row.last_seq,
        })
    }

    /// As [`Chat::events`], with each body as stored (for the webview: no parse and no second
    /// serialisation of 10,000 events).
    pub async fn events_raw(
        &self,
        session: &str,
        after: i64,
        limit: i64,
    ) -> Result<RawChatPage, ChatError> {
        let row = self.session_row(session).await?;
        let store = Arc::clone(&self.store);
        let id = row.id.clone();
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = blocking(move || store.chat_events(&id, after, limit)).await?;
        Ok(RawChatPage {
            events: rows
                .into_iter()
                .filter_map(|row| {
                    let body = serde_json::value::RawValue::from_string(row.body).ok()?;
                    Some(RawChatEvent {
                        seq: row.seq,
                        at_ms: row.at_ms,
                        body,
                    })
                })
                .collect(),
            last_seq: row.last_seq,
        })
    }

    /// Events of `session` after `after`: at once when there are some, else as soon as some
    /// are stored, or an empty page after `timeout` (a long poll: the UI's live stream).
    pub async fn wait_events(
        &self,
        session: &str,
        after: i64,
        limit: i64,
        timeout: Duration,
    ) -> Result<RawChatPage, ChatError> {
        let mut batches = self.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let page = self.events_raw(session, after, limit).await?;
            if !page.events.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(page);
            }
            // Woken by a batch of this session, or a poll: another process (the CLI) may have
            // stored events.
            let wait = async {
                loop {
                    match batches.recv().await {
                        Ok(batch) if batch.session_id == session => return,
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => return,
                        Err(broadcast::error::RecvError::Closed) => {
                            std::future::pending::<()>().await;
                        }
                    }
                }
            };
            let _ = tokio::time::timeout(
                Duration::from_millis(500).min(deadline - tokio::time::Instant::now()),
                wait,
            )
            .await;
        }
    }

    /// Full-text search over prompts and replies.
    pub async fn search(&self, query: &str) -> Result<Vec<SearchHit>, ChatError> {
        let store = Arc::clone(&self.store);
        let query = query.to_owned();
        let hits = blocking(move || store.search_chat(&query, 50)).await?;
        Ok(hits
            .into_iter()
            .map(|h| SearchHit {
                session_id: h.session_id,
                session_title: h.session_title,
                seq: h.seq,
                snippet: h.snippet,
            })
            .collect())
    }

    /// Sends a prompt: to an existing session, or to a new one on `workspace`.
    pub async fn send(&self, request: SendRequest) -> Result<Sent, ChatError> {
        let text = request.text.trim_end().to_owned();
        if text.trim().is_empty() {
            return Err(ChatError::InvalidInput("The prompt is empty.".into()));
        }
        let row = match &request.session {
            Some(id) => self.session_row(id).await?,
            None => self.new_session(&request).await?,
        };
        if self
            .workspaces
            .get(&row.workspace_id)
            .is_ok_and(|w| w.state == Lifecycle::Deleted)
        {
            return Err(ChatError::InvalidInput(format!(
                "The workspace \"{}\" was deleted; the history stays. Continue the chat in \
                 another workspace (fork it there).",
                row.workspace_name
            )));
        }
        let attached = self.attach(&row.workspace_id).await?;
        self.ensure_agent(&attached, &row).await?;
        let prompt = RequestBody::Prompt {
            session: row.id.clone(),
            text,
        };
        let answer = match attached.link.request(prompt.clone()).await {
            // The stored state may be behind the host: its sam-host restarted and suspended
            // the session (or ended it) in events not stored yet. Catch up and look again.
            Err(ClientError::Host(error))
                if matches!(error.code, ErrorCode::AgentFailed | ErrorCode::NotFound)
                    && request.session.is_some() =>
            {
                self.catch_up(&row.id).await?;
                let row = self.session_row(&row.id).await?;
                if !matches!(row.state.as_str(), "resumable" | "ended" | "failed") {
                    return Err(host_error(ClientError::Host(error)));
                }
                // Resumes it, or says to restart it.
                self.ensure_agent(&attached, &row).await?;
                attached.link.request(prompt).await
            }
            other => other,
        }
        .map_err(host_error)?;
        match answer {
            ResponseBody::PromptAccepted { prompt } => Ok(Sent {
                session_id: row.id,
                prompt,
            }),
            other => Err(ChatError::Host(format!("unexpected answer {other:?}"))),
        }
    }

    /// Makes sure the agent of `row` runs on its host: started for a new session, resumed
    /// for a resumable one; an ended or failed one asks for a restart.
    async fn ensure_agent(
        &self,
        attached: &Attached,
        row: &ChatSessionRow,
    ) -> Result<(), ChatError> {
        if row.live {
            return Ok(());
        }
        match row.state.as_str() {
            "ended" | "failed" => Err(ChatError::AgentFailed(
                "the agent of this session has stopped. Restart the session: a new one \
                 starts with this history as context."
                    .into(),
            )),
            "resumable" => self.resume_on_host(attached, row).await,
            _ => self.start_on_host(attached, row).await,
        }
    }

    /// Resumes a session whose agent stopped with its host (it can load sessions): the host
    /// starts the same agent and loads the session; this hands it the environment again
    /// (credentials are resolved here, never kept on the host). When the agent cannot load
    /// it, the session ends (the host journals why) and the error says to restart it.
    async fn resume_on_host(
        &self,
        attached: &Attached,
        row: &ChatSessionRow,
    ) -> Result<(), ChatError> {
        let launch = self.launch_for(&row.agent, row.agent_command.as_deref())?;
        let answer = attached
            .link
            .request(RequestBody::ResumeSession {
                session: row.id.clone(),
                env: launch.env,
            })
            .await;
        match answer {
            Ok(ResponseBody::SessionOpened { .. }) => {
                let store = Arc::clone(&self.store);
                let id = row.id.clone();
                blocking(move || store.set_chat_session_state(&id, "idle", true)).await?;
                Ok(())
            }
            Ok(other) => Err(ChatError::Host(format!("unexpected answer {other:?}"))),
            Err(error) => Err(host_error(error)),
        }
    }

    async fn new_session(&self, request: &SendRequest) -> Result<ChatSessionRow, ChatError> {
        let Some(workspace) = &request.workspace else {
            return Err(ChatError::InvalidInput(
                "Name the workspace for a new session.".into(),
            ));
        };
        let workspace = self.workspaces.get(workspace)?;
        let agent = request.agent.clone().unwrap_or_else(|| "claude".to_owned());
        let agent_command = if agent == CUSTOM {
            let fallback = std::env::var(CUSTOM_AGENT_COMMAND_ENV).ok();
            let Some(command) = request.agent_command.as_ref().or(fallback.as_ref()) else {
                return Err(ChatError::InvalidInput(
                    "A custom agent needs its command (--agent-command \"...\").".into(),
                ));
            };
            let argv = shell_words::split(command).map_err(|e| {
                ChatError::InvalidInput(format!("The agent command does not parse: {e}"))
            })?;
            if argv.is_empty() {
                return Err(ChatError::InvalidInput(
                    "The agent command is empty.".into(),
                ));
            }
            Some(serde_json::to_string(&argv).map_err(|e| ChatError::Host(e.to_string()))?)
        } else {
            if manifest::agent(&agent).is_none() {
                let known: Vec<&str> = manifest::AGENTS.iter().map(|a| a.id).collect();
                return Err(ChatError::InvalidInput(format!(
                    "No agent \"{agent}\". Known: {}, or custom with --agent-command.",
                    known.join(", ")
                )));
            }
            None
        };
        let new = NewChatSession {
            id: new_id(),
            workspace_id: workspace.id.clone(),
            workspace_name: workspace.spec.name.clone(),
            agent,
            agent_command,
            title: String::new(),
            created_at_ms: now_ms(),
        };
        // Resolve the launch first: a missing credential fails before anything is recorded.
        self.launch_for(&new.agent, new.agent_command.as_deref())?;
        let store = Arc::clone(&self.store);
        let id = new.id.clone();
        blocking(move || store.create_chat_session(&new)).await?;
        self.session_row(&id).await
    }

    /// Starts the agent of `row` on the host, with the stored history as context when the
    /// session has any (a fork or a restart).
    async fn start_on_host(
        &self,
        attached: &Attached,
        row: &ChatSessionRow,
    ) -> Result<(), ChatError> {
        let launch = self.launch_for(&row.agent, row.agent_command.as_deref())?;
        let (context, prompts) = if row.last_seq > 0 {
            let (text, prompts) = self.history(&row.id).await?;
            (Some(text).filter(|t| !t.is_empty()), prompts)
        } else {
            (None, 0)
        };
        let answer = attached
            .link
            .request(RequestBody::StartSession(StartSession {
                session: row.id.clone(),
                agent: launch,
                context,
                first_prompt: Some(prompts + 1),
            }))
            .await;
        match answer {
            Ok(ResponseBody::SessionOpened { .. }) => {
                let store = Arc::clone(&self.store);
                let id = row.id.clone();
                blocking(move || store.set_chat_session_state(&id, "idle", true)).await?;
                Ok(())
            }
            Ok(other) => Err(ChatError::Host(format!("unexpected answer {other:?}"))),
            Err(error) => Err(host_error(error)),
        }
    }

    /// The conversation of a session as plain text, for an agent's context.
    pub async fn transcript(&self, session: &str) -> Result<String, ChatError> {
        Ok(self.history(session).await?.0)
    }

    /// The conversation as plain text, and the highest prompt number in it.
    async fn history(&self, session: &str) -> Result<(String, u32), ChatError> {
        let mut prompts = 0;
        let mut text = String::new();
        let mut after = 0;
        loop {
            let page = self.events(session, after, MAX_PAGE).await?;
            let Some(last) = page.events.last() else {
                break;
            };
            after = last.seq;
            for event in &page.events {
                match &event.body {
                    SessionEvent::PromptSent {
                        text: prompt,
                        prompt: number,
                    } => {
                        prompts = prompts.max(*number);
                        text.push_str("\n\nUser: ");
                        text.push_str(prompt);
                        text.push_str("\n\nAgent: ");
                    }
                    SessionEvent::Update { update }
                        if update["sessionUpdate"] == "agent_message_chunk" =>
                    {
                        if let Some(chunk) = update["content"]["text"].as_str() {
                            text.push_str(chunk);
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok((text.trim().to_owned(), prompts))
    }

    /// The launch of agent `id` (with `command` for `custom`), credentials resolved.
    fn launch_for(&self, id: &str, command: Option<&str>) -> Result<AgentLaunch, ChatError> {
        let mut env: Vec<EnvVar> = std::env::vars()
            .filter_map(|(name, value)| {
                name.strip_prefix(AGENT_ENV_PREFIX)
                    .filter(|n| !n.is_empty())
                    .map(|n| EnvVar {
                        name: n.to_owned(),
                        value: Secret::new(value),
                    })
            })
            .collect();
        if id == CUSTOM {
            let argv: Vec<String> = command
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| ChatError::InvalidInput(format!("stored agent command: {e}")))?
                .unwrap_or_default();
            return Ok(AgentLaunch {
                agent: CUSTOM.to_owned(),
                argv,
                install: None,
                env,
                in_container: false,
                mode: None,
            });
        }
        let spec = manifest::agent(id)
            .ok_or_else(|| ChatError::InvalidInput(format!("No agent \"{id}\".")))?;
        for (name, value) in spec.env {
            if !env.iter().any(|v| v.name == *name) {
                env.push(EnvVar {
                    name: (*name).to_owned(),
                    value: Secret::new(*value),
                });
            }
        }
        if let Some(credential) = self.credential_env(spec)? {
            env.push(credential);
        }
        Ok(AgentLaunch {
            agent: spec.id.to_owned(),
            argv: spec.argv.iter().map(|a| (*a).to_owned()).collect(),
            install: match spec.distribution {
                Distribution::Npm { package, version } => Some(AgentInstall::Npm {
                    package: package.to_owned(),
                    version: version.to_owned(),
                }),
                Distribution::OnPath { .. } => None,
            },
            env,
            in_container: true,
            mode: spec.mode.map(str::to_owned),
        })
    }

    /// The credential variable for `spec`: the first kind it takes that the vault has; `None`
    /// when the environment already provides one (`SAM_AGENT_ENV_…`).
    fn credential_env(&self, spec: &AgentSpec) -> Result<Option<EnvVar>, ChatError> {
        if spec.credentials.is_empty()
            || spec
                .credentials
                .iter()
                .any(|c| std::env::var_os(format!("{AGENT_ENV_PREFIX}{}", c.env)).is_some())
        {
            return Ok(None);
        }
        let names: Vec<&str> = spec.credentials.iter().map(|c| c.kind.label()).collect();
        let missing = || {
            ChatError::Credential(format!(
                "{} needs a credential: add {} in Settings → Credentials (or `sam credentials add`).",
                spec.name,
                names.join(" or ")
            ))
        };
        let Some(vault) = &self.vault else {
            return Err(missing());
        };
        for credential in spec.credentials {
            match vault.resolve(credential.kind, None, None) {
                Ok(material) => {
                    return Ok(Some(EnvVar {
                        name: credential.env.to_owned(),
                        value: Secret::new(material.secret.expose().clone()),
                    }));
                }
                Err(VaultError::NotConfigured(_)) => {}
                Err(other) => return Err(ChatError::Credential(other.to_string())),
            }
        }
        Err(missing())
    }

    /// Every permission request that still waits for an answer, across all sessions, oldest
    /// first per session (requests outlive the app: the "needs you" queue is rebuilt from
    /// these at start-up).
    pub async fn open_requests(&self) -> Result<Vec<OpenPermission>, ChatError> {
        let store = Arc::clone(&self.store);
        let rows = blocking(move || store.chat_permission_events()).await?;
        let mut open: Vec<OpenPermission> = Vec::new();
        let mut workspaces: HashMap<String, String> = HashMap::new();
        for (session_id, row) in rows {
            let Some(event) = to_event(row) else { continue };
            match event.body {
                SessionEvent::PermissionRequested {
                    request,
                    tool_call,
                    options,
                } => {
                    let workspace_id = match workspaces.get(&session_id) {
                        Some(id) => id.clone(),
                        None => {
                            let id = self.session_row(&session_id).await?.workspace_id;
                            workspaces.insert(session_id.clone(), id.clone());
                            id
                        }
                    };
                    open.retain(|o| !(o.session_id == session_id && o.request == request));
                    open.push(OpenPermission {
                        session_id: session_id.clone(),
                        workspace_id,
                        request,
                        seq: event.seq,
                        at_ms: event.at_ms,
                        title: permission_title(&tool_call),
                        options,
                    });
                }
                SessionEvent::PermissionResolved { request, .. } => {
                    open.retain(|o| !(o.session_id == session_id && o.request == request));
                }
                _ => {}
            }
        }
        Ok(open)
    }

    /// Cancels the running turn.
    pub async fn cancel(&self, session: &str) -> Result<(), ChatError> {
        let row = self.session_row(session).await?;
        let attached = self.attach(&row.workspace_id).await?;
        attached
            .link
            .request(RequestBody::Cancel { session: row.id })
            .await
            .map_err(host_error)?;
        Ok(())
    }

    /// Answers permission request `request` of `session` with `option_id`.
    pub async fn answer(
        &self,
        session: &str,
        request: u32,
        option_id: &str,
        by: &str,
    ) -> Result<(), ChatError> {
        let row = self.session_row(session).await?;
        let attached = self.attach(&row.workspace_id).await?;
        attached
            .link
            .request(RequestBody::AnswerPermission {
                session: row.id,
                request,
                option_id: option_id.to_owned(),
                by: by.to_owned(),
            })
            .await
            .map_err(host_error)?;
        Ok(())
    }

    /// The option ids of open request `request` of `session` whose kind starts with `prefix`
    /// (`allow` or `reject`), best first (`…_once` before `…_always`).
    pub async fn option_for(
        &self,
        session: &str,
        request: u32,
        prefix: &str,
    ) -> Result<String, ChatError> {
        self.catch_up(session).await?;
        let mut after = 0;
        let mut found = None;
        loop {
            let page = self.events(session, after, MAX_PAGE).await?;
            let Some(last) = page.events.last() else {
                break;
            };
            after = last.seq;
            for event in page.events {
                if let SessionEvent::PermissionRequested {
                    request: n,
                    options,
                    ..
                } = event.body
                    && n == request
                {
                    found = Some(options);
                }
            }
        }
        let options = found.ok_or_else(|| {
            ChatError::InvalidInput(format!("No permission request {request} in this session."))
        })?;
        let mut matching: Vec<_> = options
            .into_iter()
            .filter(|o| o.kind.starts_with(prefix))
            .collect();
        matching.sort_by_key(|o| !o.kind.ends_with("_once"));
        matching
            .first()
            .map(|o| o.option_id.clone())
            .ok_or_else(|| {
                ChatError::InvalidInput(format!(
                    "The agent offered no `{prefix}` option for request {request}."
                ))
            })
    }

    /// A new session holding `session`'s events up to `seq`, whose agent starts on its first
    /// prompt with that history as context.
    pub async fn fork(&self, session: &str, seq: i64) -> Result<String, ChatError> {
        self.fork_to(session, seq, None).await
    }

    /// As [`Chat::fork`], in another workspace (a new one, say, after the first was deleted):
    /// the conversation goes on there with the history as context.
    pub async fn fork_to(
        &self,
        session: &str,
        seq: i64,
        workspace: Option<&str>,
    ) -> Result<String, ChatError> {
        let row = self.session_row(session).await?;
        let (workspace_id, workspace_name) = match workspace {
            Some(name) => {
                let target = self.workspaces.get(name)?;
                (target.id, target.spec.name)
            }
            None => (row.workspace_id.clone(), row.workspace_name.clone()),
        };
        let seq = seq.clamp(0, row.last_seq);
        let new = NewChatSession {
            id: new_id(),
            workspace_id,
            workspace_name,
            agent: row.agent.clone(),
            agent_command: row.agent_command.clone(),
            title: if row.title.is_empty() {
                "Fork".to_owned()
            } else {
                format!("{} (fork)", row.title)
            },
            created_at_ms: now_ms(),
        };
        let store = Arc::clone(&self.store);
        let from = row.id.clone();
        let id = new.id.clone();
        blocking(move || store.fork_chat_session(&from, seq, &new)).await?;
        Ok(id)
    }

    /// A new session that continues `session` (whose agent stopped) with its whole history.
    pub async fn restart(&self, session: &str) -> Result<String, ChatError> {
        let row = self.session_row(session).await?;
        self.fork(session, row.last_seq).await
    }

    /// Waits until turn `prompt` of `session` has ended, and returns its reply text and stop
    /// reason.
    pub async fn wait_for_turn(
        &self,
        session: &str,
        prompt: u32,
        timeout: Duration,
    ) -> Result<(String, String), ChatError> {
        let mut batches = self.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(done) = self.turn_outcome(session, prompt).await? {
                return Ok(done);
            }
            // Woken by a stored batch (of this process) or a poll (another process may have
            // stored it: the app and the CLI share the database).
            let wait = tokio::time::timeout(Duration::from_millis(250), batches.recv());
            if tokio::time::Instant::now() >= deadline {
                return Err(ChatError::Host(format!(
                    "the turn did not end within {} s",
                    timeout.as_secs()
                )));
            }
            let _ = wait.await;
        }
    }

    async fn turn_outcome(
        &self,
        session: &str,
        prompt: u32,
    ) -> Result<Option<(String, String)>, ChatError> {
        let mut after = 0;
        let mut reply = String::new();
        let mut in_turn = false;
        loop {
            let page = self.events(session, after, MAX_PAGE).await?;
            let Some(last) = page.events.last() else {
                break;
            };
            after = last.seq;
            for event in page.events {
                match event.body {
                    SessionEvent::PromptSent { prompt: n, .. } => in_turn = n == prompt,
                    SessionEvent::Update { update }
                        if in_turn && update["sessionUpdate"] == "agent_message_chunk" =>
                    {
                        reply.push_str(update["content"]["text"].as_str().unwrap_or_default());
                    }
                    SessionEvent::TurnEnded {
                        prompt: n,
                        stop_reason,
                        error,
                    } if n == prompt => {
                        let reason = match error {
                            Some(error) => format!("{stop_reason}: {error}"),
                            None => stop_reason,
                        };
                        return Ok(Some((reply, reason)));
                    }
                    _ => {}
                }
            }
        }
        Ok(None)
    }

    /// Attaches every workspace that has a live session, so its history catches up (at app
    /// start).
    pub async fn resume(&self) -> Vec<(String, ChatError)> {
        let store = Arc::clone(&self.store);
        let rows = blocking(move || store.chat_sessions(None))
            .await
            .unwrap_or_default();
        let mut workspaces: Vec<String> = rows
            .into_iter()
            .filter(|r| r.live || r.state == "starting")
            .map(|r| r.workspace_id)
            .collect();
        workspaces.sort();
        workspaces.dedup();
        let mut failures = Vec::new();
        for workspace in workspaces {
            if let Err(error) = self.attach(&workspace).await {
                failures.push((workspace, error));
            }
        }
        failures
    }

    /// Brings the stored history of `session` up to its host's journal as it is now (when
    /// the workspace can still be reached; a deleted one has only its stored history).
    pub async fn catch_up(&self, session: &str) -> Result<(), ChatError> {
        let row = self.session_row(session).await?;
        let Ok(attached) = self.attach(&row.workspace_id).await else {
            return Ok(());
        };
        let head = match attached.link.request(RequestBody::Status).await {
            Ok(ResponseBody::Status(status)) => i64::try_from(status.last_seq).unwrap_or(i64::MAX),
            Ok(other) => return Err(ChatError::Host(format!("unexpected answer {other:?}"))),
            Err(error) => return Err(host_error(error)),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let store = Arc::clone(&self.store);
            let id = row.workspace_id.clone();
            if blocking(move || store.chat_cursor(&id)).await? >= head {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ChatError::Host(
                    "the workspace host's history did not arrive within 30 s".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Drops every host connection (the next operation attaches again and catches up from
    /// the stored cursor). What a lost network or a sleeping laptop does to the app.
    pub async fn detach_all(&self) {
        self.attached.lock().await.clear();
    }

    /// The attached host of `workspace_id`, attaching (and starting its sync) when needed.
    async fn attach(&self, workspace_id: &str) -> Result<Arc<Attached>, ChatError> {
        let mut attached = self.attached.lock().await;
        if let Some(existing) = attached.get(workspace_id)
            && existing.link.client().is_connected()
        {
            return Ok(Arc::clone(existing));
        }
        let link = self.workspaces.attach(workspace_id).await?;
        let Some(mut events) = link.client().events() else {
            return Err(ChatError::Host("the host's event stream was taken".into()));
        };
        let store = Arc::clone(&self.store);
        let id = workspace_id.to_owned();
        let mut cursor = blocking(move || store.chat_cursor(&id)).await?;
        let head = match link
            .request(RequestBody::Subscribe {
                after: Some(u64::try_from(cursor).unwrap_or(0)),
            })
            .await
            .map_err(host_error)?
        {
            ResponseBody::Subscribed { head_seq } => head_seq,
            other => return Err(ChatError::Host(format!("unexpected answer {other:?}"))),
        };
        if i64::try_from(head).unwrap_or(i64::MAX) < cursor {
            // The host's journal is newer than our cursor: it was replaced (its state was
            // wiped). Start over; what is stored stays.
            tracing::warn!(
                workspace = workspace_id,
                "the host journal restarted; reading it again"
            );
            let store = Arc::clone(&self.store);
            let id = workspace_id.to_owned();
            blocking(move || store.reset_chat_cursor(&id)).await?;
            cursor = 0;
            link.request(RequestBody::Subscribe { after: Some(0) })
                .await
                .map_err(host_error)?;
        }
        let _ = cursor;
        let store = Arc::clone(&self.store);
        let batches = self.batches.clone();
        let workspace = workspace_id.to_owned();
        tokio::spawn(async move {
            let mut buffer = Vec::new();
            while let Some(first) = events.recv().await {
                buffer.push(first);
                while buffer.len() < 1024 {
                    match events.try_recv() {
                        Ok(next) => buffer.push(next),
                        Err(_) => break,
                    }
                }
                let taken = std::mem::take(&mut buffer);
                if let Err(error) = store_batch(&store, &batches, &workspace, taken).await {
                    tracing::error!(%error, "storing chat events failed; they are read again on the next attach");
                    break;
                }
            }
        });
        let entry = Arc::new(Attached { link });
        attached.insert(workspace_id.to_owned(), Arc::clone(&entry));
        Ok(entry)
    }
}

/// Stores host events and tells listeners.
async fn store_batch(
    store: &Arc<Store>,
    batches: &broadcast::Sender<ChatBatch>,
    workspace: &str,
    events: Vec<Event>,
) -> Result<(), ChatError> {
    let Some(cursor) = events
        .last()
        .map(|e| i64::try_from(e.seq).unwrap_or(i64::MAX))
    else {
        return Ok(());
    };
    let items: Vec<IngestItem> = events.iter().filter_map(ingest_item).collect();
    let store = Arc::clone(store);
    let id = workspace.to_owned();
    let stored = blocking(move || {
        let stored = store.ingest_chat_events(&id, &items, cursor)?;
        if !stored.is_empty() {
            // Agent activity is a sign of life for the idle policy.
            store.touch_workspace(&id, now_ms() / 1000)?;
        }
        Ok(stored)
    })
    .await?;
    let mut by_session: Vec<ChatBatch> = Vec::new();
    for (session, row) in stored {
        let Some(event) = to_event(row) else { continue };
        match by_session.iter_mut().find(|b| b.session_id == session) {
            Some(batch) => batch.events.push(event),
            None => by_session.push(ChatBatch {
                session_id: session,
                events: vec![event],
            }),
        }
    }
    for batch in by_session {
        let _ = batches.send(batch);
    }
    Ok(())
}

/// The store items for host `events` (the chat sync's conversion; public for the benchmark).
#[doc(hidden)]
pub fn ingest_items(events: &[Event]) -> Vec<IngestItem> {
    events.iter().filter_map(ingest_item).collect()
}

/// What storing one host event means for its session.
fn ingest_item(event: &Event) -> Option<IngestItem> {
    let EventBody::Session {
        session,
        event: body,
    } = &event.event
    else {
        return None;
    };
    let mut item = IngestItem {
        session_id: session.clone(),
        host_seq: i64::try_from(event.seq).unwrap_or(i64::MAX),
        at_ms: i64::try_from(event.at_ms).unwrap_or(i64::MAX),
        body: serde_json::to_string(body).ok()?,
        state: None,
        title: None,
        title_overrides: false,
        search_text: None,
        ends_turn: false,
        ends_live: false,
    };
    match body {
        SessionEvent::SessionStarted { .. } | SessionEvent::TurnEnded { .. } => {
            item.state = Some("idle".into());
            item.ends_turn = matches!(body, SessionEvent::TurnEnded { .. });
        }
        SessionEvent::PromptSent { text, .. } => {
            item.state = Some("working".into());
            item.title = Some(title_of(text));
            item.search_text = Some(text.clone());
        }
        SessionEvent::PermissionRequested { .. } => item.state = Some("waiting".into()),
        SessionEvent::PermissionResolved { .. } => item.state = Some("working".into()),
        SessionEvent::AgentExited { .. } => {
            item.state = Some("ended".into());
            item.ends_live = true;
        }
        SessionEvent::AgentFailed { .. } => {
            item.state = Some("failed".into());
            item.ends_live = true;
        }
        SessionEvent::AgentSuspended { .. } => {
            item.state = Some("resumable".into());
            item.ends_live = true;
        }
        SessionEvent::SessionResumed { .. } => item.state = Some("idle".into()),
        SessionEvent::Update { update } if update["sessionUpdate"] == "session_info_update" => {
            if let Some(title) = update["title"].as_str().filter(|t| !t.trim().is_empty()) {
                item.title = Some(title_of(title));
                item.title_overrides = true;
            }
        }
        _ => {}
    }
    Some(item)
}

/// The first line of `text`, at most 80 characters.
fn title_of(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut title: String = line.chars().take(80).collect();
    if line.chars().count() > 80 {
        title.push('…');
    }
    title
}

fn to_event(row: ChatEventRow) -> Option<ChatEvent> {
    match serde_json::from_str(&row.body) {
        Ok(body) => Some(ChatEvent {
            seq: row.seq,
            at_ms: row.at_ms,
            body,
        }),
        Err(error) => {
            tracing::warn!(%error, seq = row.seq, "a stored chat event does not parse");
            None
        }
    }
}

async fn blocking<T, F>(work: F) -> Result<T, ChatError>
where
    F: FnOnce() -> Result<T, sam_store::StoreError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ChatError::Host(format!("a database task failed: {e}")))?
        .map_err(ChatError::Store)
}

fn new_id() -> String {
    format!("{:016x}{:08x}", fastrand::u64(..), fastrand::u32(..))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_the_first_line_clipped() {
        assert_eq!(title_of("\n  Fix the bug  \nmore"), "Fix the bug");
        let long = "x".repeat(100);
        assert_eq!(title_of(&long).chars().count(), 81);
    }
}

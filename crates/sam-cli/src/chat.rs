//! `sam chat …`: send prompts to agents, read sessions, answer permission requests — the same
//! calls as the app, on the same database.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use sam_chat::{Chat, ChatError, ChatEvent, SendRequest};
use sam_core::{ApiError, ErrorCode};
use sam_protocol::{PermissionOutcome, SessionEvent};
use sam_workspace::{VaultRemote, Workspaces};
use serde::Serialize;

use crate::credentials::open_vault;
use crate::output::{CliError, print_json};

#[derive(Debug, Subcommand)]
pub enum ChatCommand {
    /// Send a prompt to an agent in a workspace (a new session unless --session is given).
    Send {
        /// The workspace (name or id).
        workspace: String,
        /// The prompt.
        text: String,
        /// Continue this session.
        #[arg(long)]
        session: Option<String>,
        /// The agent of a new session: claude (default), codex, gemini, vibe, opencode, custom.
        #[arg(long)]
        agent: Option<String>,
        /// With --agent custom: the command that speaks ACP on stdio (split like a shell
        /// would, never run through one).
        #[arg(long)]
        agent_command: Option<String>,
        /// Wait for the turn to end and print the reply.
        #[arg(long)]
        wait: bool,
        /// With --wait: give up after this many seconds.
        #[arg(long, default_value_t = 1800)]
        timeout_secs: u64,
        #[arg(long)]
        json: bool,
    },
    /// Print a session's events (after --since N).
    Log {
        session: String,
        #[arg(long, default_value_t = 0)]
        since: i64,
        #[arg(long)]
        json: bool,
    },
    /// List chat sessions (of one workspace, or all).
    Sessions {
        workspace: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Allow an open permission request (the agent's "allow once" option).
    Approve {
        session: String,
        request: u32,
        #[arg(long)]
        json: bool,
    },
    /// Reject an open permission request (the agent's "reject once" option).
    Reject {
        session: String,
        request: u32,
        #[arg(long)]
        json: bool,
    },
    /// Cancel the running turn of a session.
    Cancel {
        session: String,
        #[arg(long)]
        json: bool,
    },
    /// A new session from a session's history (up to --at, default all of it), in the same
    /// workspace or in another (--workspace): its agent starts with that history as context.
    Fork {
        session: String,
        #[arg(long)]
        at: Option<i64>,
        #[arg(long)]
        workspace: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Search prompts and replies of every session.
    Search {
        query: String,
        #[arg(long)]
        json: bool,
    },
}

impl ChatCommand {
    pub fn json(&self) -> bool {
        match self {
            Self::Send { json, .. }
            | Self::Log { json, .. }
            | Self::Sessions { json, .. }
            | Self::Approve { json, .. }
            | Self::Reject { json, .. }
            | Self::Cancel { json, .. }
            | Self::Fork { json, .. }
            | Self::Search { json, .. } => *json,
        }
    }
}

pub(crate) fn chat_error(error: ChatError) -> CliError {
    let code = match &error {
        ChatError::InvalidInput(_) => ErrorCode::InvalidInput,
        ChatError::NoSession(_) => ErrorCode::NotFound,
        ChatError::Credential(_) => ErrorCode::NotFound,
        ChatError::Busy => ErrorCode::InvalidInput,
        ChatError::Store(_) => ErrorCode::Database,
        ChatError::AgentFailed(_) | ChatError::Host(_) | ChatError::Workspace(_) => {
            ErrorCode::Unavailable
        }
    };
    CliError(ApiError::new(code, error.to_string()))
}

#[derive(Serialize)]
struct SentJson {
    session_id: String,
    prompt: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_reason: Option<String>,
}

pub fn run(command: ChatCommand) -> Result<(), CliError> {
    let json = command.json();
    let vault = open_vault()?;
    let paths = sam_core::AppPaths::from_env().map_err(|e| CliError::invalid(e.to_string()))?;
    let store = Arc::new(
        sam_store::Store::open(&paths.database_file())
            .map_err(|e| CliError::database(e.to_string()))?
            .0,
    );
    let remote = VaultRemote::new(vault.clone())
        .map_err(|e| CliError(ApiError::new(ErrorCode::Unavailable, e.to_string())))?;
    let workspaces = Workspaces::new(
        Arc::clone(&store),
        &paths.data_dir,
        Workspaces::locate_host_binary(),
    )
    .with_remote(Arc::new(remote));
    let chat = Chat::new(store, workspaces, Some(vault));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::internal(e.to_string()))?;
    runtime.block_on(async {
        match command {
            ChatCommand::Send {
                workspace,
                text,
                session,
                agent,
                agent_command,
                wait,
                timeout_secs,
                ..
            } => {
                let sent = chat
                    .send(SendRequest {
                        workspace: Some(workspace),
                        session,
                        agent,
                        agent_command,
                        text,
                    })
                    .await
                    .map_err(chat_error)?;
                let mut out = SentJson {
                    session_id: sent.session_id.clone(),
                    prompt: sent.prompt,
                    reply: None,
                    stop_reason: None,
                };
                if wait {
                    let (reply, stop) = chat
                        .wait_for_turn(
                            &sent.session_id,
                            sent.prompt,
                            Duration::from_secs(timeout_secs),
                        )
                        .await
                        .map_err(chat_error)?;
                    out.reply = Some(reply);
                    out.stop_reason = Some(stop);
                }
                if json {
                    return print_json(&out);
                }
                let mut lines = vec![format!("session {} prompt {}", out.session_id, out.prompt)];
                if let Some(reply) = out.reply {
                    lines.push(reply);
                }
                print_lines(lines)
            }
            ChatCommand::Log { session, since, .. } => {
                chat.catch_up(&session).await.map_err(chat_error)?;
                let mut events: Vec<ChatEvent> = Vec::new();
                let mut after = since;
                loop {
                    let page = chat
                        .events(&session, after, sam_chat::MAX_PAGE)
                        .await
                        .map_err(chat_error)?;
                    let Some(last) = page.events.last() else {
                        break;
                    };
                    after = last.seq;
                    events.extend(page.events);
                }
                if json {
                    return print_json(&events);
                }
                print_lines(render(&events))
            }
            ChatCommand::Sessions { workspace, .. } => {
                let sessions = chat
                    .sessions(workspace.as_deref())
                    .await
                    .map_err(chat_error)?;
                if json {
                    return print_json(&sessions);
                }
                if sessions.is_empty() {
                    return print_lines(vec![
                        "No chat sessions yet: `sam chat send <workspace> \"…\"`.".to_owned(),
                    ]);
                }
                print_lines(
                    sessions
                        .iter()
                        .map(|s| {
                            format!(
                                "{}  {:<8} {:<9} {:<16} {}{}",
                                s.id,
                                s.agent,
                                s.state,
                                s.workspace_name,
                                s.title,
                                if s.workspace_gone {
                                    "  (workspace deleted)"
                                } else {
                                    ""
                                }
                            )
                        })
                        .collect(),
                )
            }
            ChatCommand::Approve {
                session, request, ..
            } => answer(&chat, &session, request, "allow", json).await,
            ChatCommand::Reject {
                session, request, ..
            } => answer(&chat, &session, request, "reject", json).await,
            ChatCommand::Cancel { session, .. } => {
                chat.cancel(&session).await.map_err(chat_error)?;
                if json {
                    return print_json(&serde_json::json!({ "cancelled": session }));
                }
                print_lines(vec![format!("Cancelled the running turn of {session}.")])
            }
            ChatCommand::Fork {
                session,
                at,
                workspace,
                ..
            } => {
                let at = match at {
                    Some(at) => at,
                    None => chat.session(&session).await.map_err(chat_error)?.last_seq,
                };
                let id = chat
                    .fork_to(&session, at, workspace.as_deref())
                    .await
                    .map_err(chat_error)?;
                if json {
                    return print_json(&serde_json::json!({ "session_id": id, "forked_from": session, "at": at }));
                }
                print_lines(vec![format!(
                    "Session {id}: {session}'s history up to event {at}; its agent starts with your next prompt."
                )])
            }
            ChatCommand::Search { query, .. } => {
                let hits = chat.search(&query).await.map_err(chat_error)?;
                if json {
                    return print_json(&hits);
                }
                print_lines(
                    hits.iter()
                        .map(|h| {
                            format!(
                                "{} #{}  {}: {}",
                                h.session_id, h.seq, h.session_title, h.snippet
                            )
                        })
                        .collect(),
                )
            }
        }
    })
}

/// Answers request `request` with the agent's first option of kind `allow…`/`reject…`.
async fn answer(
    chat: &Chat,
    session: &str,
    request: u32,
    kind: &str,
    json: bool,
) -> Result<(), CliError> {
    let option = chat
        .option_for(session, request, kind)
        .await
        .map_err(chat_error)?;
    chat.answer(session, request, &option, "cli")
        .await
        .map_err(chat_error)?;
    if json {
        return print_json(&serde_json::json!({
            "session_id": session, "request": request, "option_id": option
        }));
    }
    print_lines(vec![format!("Answered request {request} with {option}.")])
}

fn print_lines(lines: Vec<String>) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}").map_err(|e| CliError::internal(e.to_string()))?;
    }
    Ok(())
}

/// A readable transcript: agent text merged, one line per other event.
fn render(events: &[ChatEvent]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut text = String::new();
    let flush = |text: &mut String, lines: &mut Vec<String>| {
        if !text.is_empty() {
            lines.push(format!("agent: {}", std::mem::take(text)));
        }
    };
    for event in events {
        match &event.body {
            SessionEvent::Update { update } if update["sessionUpdate"] == "agent_message_chunk" => {
                text.push_str(update["content"]["text"].as_str().unwrap_or_default());
                continue;
            }
            _ => flush(&mut text, &mut lines),
        }
        let line = match &event.body {
            SessionEvent::SessionStarted {
                agent, agent_name, ..
            } => format!(
                "#{} started {agent} ({})",
                event.seq,
                agent_name.as_deref().unwrap_or("?")
            ),
            SessionEvent::PromptSent { prompt, text } => {
                format!("#{} you ({prompt}): {text}", event.seq)
            }
            SessionEvent::Update { update } => match update["sessionUpdate"].as_str() {
                Some("tool_call") => format!(
                    "#{} tool: {} [{}]",
                    event.seq,
                    update["title"].as_str().unwrap_or("?"),
                    update["status"].as_str().unwrap_or("pending")
                ),
                Some("tool_call_update") => match update["status"].as_str() {
                    Some(status) => format!("#{} tool {}", event.seq, status),
                    None => continue,
                },
                Some("plan") => format!("#{} plan updated", event.seq),
                _ => continue,
            },
            SessionEvent::PermissionRequested {
                request,
                tool_call,
                options,
            } => format!(
                "#{} permission request {request}: {} — options: {} (`sam chat approve|reject <session> {request}`)",
                event.seq,
                tool_call["title"].as_str().unwrap_or("?"),
                options
                    .iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SessionEvent::PermissionResolved { request, outcome } => match outcome {
                PermissionOutcome::Selected { option_id, by } => {
                    format!("#{} request {request}: {option_id} (by {by})", event.seq)
                }
                PermissionOutcome::Cancelled => {
                    format!("#{} request {request}: cancelled", event.seq)
                }
                PermissionOutcome::Expired => format!("#{} request {request}: expired", event.seq),
            },
            SessionEvent::TurnEnded {
                prompt,
                stop_reason,
                error,
            } => format!(
                "#{} turn {prompt} ended: {stop_reason}{}",
                event.seq,
                error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
            SessionEvent::AgentExited { code, stderr_tail } => format!(
                "#{} the agent exited ({}): {}",
                event.seq,
                code.map_or("signal".to_owned(), |c| c.to_string()),
                stderr_tail.lines().last().unwrap_or("")
            ),
            SessionEvent::AgentSilent { silent_ms } => {
                format!(
                    "#{} the agent has been silent for {} s",
                    event.seq,
                    silent_ms / 1000
                )
            }
            SessionEvent::AgentFailed { reason } => {
                format!("#{} the agent failed: {reason}", event.seq)
            }
            SessionEvent::ProtocolNoise { detail } => format!("#{} (noise) {detail}", event.seq),
            SessionEvent::AgentSuspended { reason } => {
                format!("#{} the agent is suspended: {reason}", event.seq)
            }
            SessionEvent::SessionResumed { agent_name, .. } => format!(
                "#{} the session resumed ({})",
                event.seq,
                agent_name.as_deref().unwrap_or("agent")
            ),
            SessionEvent::Shipped {
                branch,
                commit,
                pushed,
                push_error,
                pull_request,
            } => {
                let mut line = format!(
                    "#{} shipped {} on {branch}",
                    event.seq,
                    commit.get(..12).unwrap_or(commit)
                );
                if *pushed {
                    line.push_str(", pushed");
                } else if let Some(reason) = push_error {
                    line.push_str(&format!(", push failed: {reason}"));
                }
                if let Some(pull) = pull_request {
                    line.push_str(&format!(
                        ", pull request #{} ({}): {}",
                        pull.number, pull.state, pull.url
                    ));
                }
                line
            }
        };
        lines.push(line);
    }
    flush(&mut text, &mut lines);
    lines
}

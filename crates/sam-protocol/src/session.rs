//! Agent sessions: what the desktop asks of a host's agents, and what the host journals about
//! them.
//!
//! The host speaks the Agent Client Protocol (ACP) with the agent process and journals every
//! `session/update` verbatim ([`SessionEvent::Update`]): kinds this build does not know are
//! kept, not dropped, so a newer agent never loses history. Permission requests become
//! numbered [`SessionEvent::PermissionRequested`] events that any attached client may answer.

use serde::{Deserialize, Serialize};

use crate::Secret;

/// A session's id: chosen by the desktop (a UUID), the same in the desktop's database, the
/// host's journal and the UI.
pub type SessionId = String;

/// How the host should start an agent for a new session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartSession {
    /// The new session's id.
    pub session: SessionId,
    /// What to run.
    pub agent: AgentLaunch,
    /// Earlier conversation to hand the agent as context with the first prompt (a restarted
    /// or continued session). Never journaled as a prompt of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The number of the session's first prompt (a session continuing a history numbers its
    /// turns on from it); 1 when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_prompt: Option<u32>,
}

/// An agent process to launch, resolved on the desktop from the agent manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentLaunch {
    /// The manifest id (`claude`, `codex`, `gemini`, `vibe`, `opencode`) or `custom`.
    pub agent: String,
    /// The program and its arguments, run without a shell. With [`AgentLaunch::install`],
    /// `argv[0]` is the package's binary name, looked up in the installed package first.
    pub argv: Vec<String>,
    /// How to install the agent when it is not there yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<AgentInstall>,
    /// Environment for this agent process only (credentials, base URLs). The host hands it to
    /// the process and writes it nowhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Run inside the workspace's dev container when it has one.
    #[serde(default)]
    pub in_container: bool,
    /// A session mode to switch to right after `session/new` (`session/set_mode`), when the
    /// agent offers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// A package the host installs (once per version) before launching the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentInstall {
    /// `npm install` of an exact version into a private prefix.
    Npm {
        /// The npm package name.
        package: String,
        /// The exact version.
        version: String,
    },
}

/// One environment variable for an agent process; the value may be a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    /// The variable's name.
    pub name: String,
    /// Its value.
    pub value: Secret,
}

/// What happened in one session. Tagged by `kind`, `snake_case`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionEvent {
    /// The agent answered `initialize` and `session/new`.
    SessionStarted {
        /// The manifest id that was asked for.
        agent: String,
        /// The agent's own name, from its `initialize` answer.
        agent_name: Option<String>,
        /// The agent's own version, from its `initialize` answer.
        agent_version: Option<String>,
    },
    /// A user turn began.
    PromptSent {
        /// The turn number in this session, from 1.
        prompt: u32,
        /// What the user wrote.
        text: String,
    },
    /// A `session/update` from the agent: the ACP `update` object, verbatim (kinds unknown
    /// to this build included).
    Update {
        /// The update.
        #[cfg_attr(feature = "specta", specta(type = specta_typescript::Unknown))]
        update: serde_json::Value,
    },
    /// The agent asked for permission; it waits until a client answers.
    PermissionRequested {
        /// The request's number in this session, from 1.
        request: u32,
        /// The ACP tool call the request is about, verbatim.
        #[cfg_attr(feature = "specta", specta(type = specta_typescript::Unknown))]
        tool_call: serde_json::Value,
        /// The choices the agent offers.
        options: Vec<PermissionOption>,
    },
    /// A permission request was answered (or can no longer be).
    PermissionResolved {
        /// The request's number.
        request: u32,
        /// How.
        outcome: PermissionOutcome,
    },
    /// A turn ended.
    TurnEnded {
        /// The turn number.
        prompt: u32,
        /// The ACP stop reason (`end_turn`, `cancelled`, `max_tokens`, `max_turn_requests`,
        /// `refusal`), or `error` when the prompt request failed.
        stop_reason: String,
        /// Why it failed, when `stop_reason` is `error`.
        error: Option<String>,
    },
    /// The agent process ended.
    AgentExited {
        /// Its exit code; `None` when a signal ended it.
        code: Option<i32>,
        /// The end of what it wrote to stderr.
        stderr_tail: String,
    },
    /// The agent has said nothing for a while in the middle of a turn.
    AgentSilent {
        /// How long, in milliseconds.
        #[cfg_attr(feature = "specta", specta(type = f64))]
        silent_ms: u64,
    },
    /// The agent could not be started (install failed, no answer to `initialize`, …).
    AgentFailed {
        /// Why, for the user.
        reason: String,
    },
    /// The agent wrote something on stdout that is not ACP (kept, shown discreetly).
    ProtocolNoise {
        /// What it was (clipped).
        detail: String,
    },
    /// The agent stopped with an earlier `sam-host` (an upgrade, a crash, a reboot), but it
    /// can load the session again (it advertised ACP `loadSession`): the session is
    /// resumable. A [`crate::RequestBody::ResumeSession`] (which hands the agent's environment
    /// again; the host keeps none of it) starts the same agent and loads the session;
    /// numbering goes on. Until then no agent runs for it.
    AgentSuspended {
        /// Why, for the user.
        reason: String,
    },
    /// A resumable session's agent was started again and loaded the session
    /// (`session/load`). What it replayed of the history while loading is not journaled
    /// again: the journal already holds it.
    SessionResumed {
        /// The agent's own name, from its `initialize` answer.
        agent_name: Option<String>,
        /// The agent's own version, from its `initialize` answer.
        agent_version: Option<String>,
        /// How many `session/update` notifications the agent replayed while loading (and
        /// the host dropped).
        replayed: u32,
    },
    /// The session's work was shipped: committed on a branch, maybe pushed, maybe with a
    /// pull request. Recorded by the desktop in its own copy of the session (never sent by a
    /// host), so the transcript shows where the work went, also after the workspace is gone.
    Shipped {
        /// The branch the commit is on.
        branch: String,
        /// The commit (full hex id).
        commit: String,
        /// Whether the branch was pushed.
        pushed: bool,
        /// Why the push failed, when it was asked for and failed.
        push_error: Option<String>,
        /// The pull request, when one was opened (or found already open).
        pull_request: Option<ShippedPullRequest>,
    },
}

/// The pull request of a [`SessionEvent::Shipped`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ShippedPullRequest {
    /// Its number in the repository.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub number: u64,
    /// Its page on the forge.
    pub url: String,
    /// `open`, `closed` or `merged`, when it was shipped.
    pub state: String,
    /// Whether shipping opened it (`false`: it was already open for the branch).
    pub created: bool,
}

impl SessionEvent {
    /// The event's kind as on the wire, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SessionStarted { .. } => "session_started",
            Self::PromptSent { .. } => "prompt_sent",
            Self::Update { .. } => "update",
            Self::PermissionRequested { .. } => "permission_requested",
            Self::PermissionResolved { .. } => "permission_resolved",
            Self::TurnEnded { .. } => "turn_ended",
            Self::AgentExited { .. } => "agent_exited",
            Self::AgentSilent { .. } => "agent_silent",
            Self::AgentFailed { .. } => "agent_failed",
            Self::ProtocolNoise { .. } => "protocol_noise",
            Self::AgentSuspended { .. } => "agent_suspended",
            Self::SessionResumed { .. } => "session_resumed",
            Self::Shipped { .. } => "shipped",
        }
    }
}

/// One of the choices an agent offers in a permission request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PermissionOption {
    /// The agent's id for the option, sent back when chosen.
    pub option_id: String,
    /// The label the agent gave it.
    pub name: String,
    /// `allow_once`, `allow_always`, `reject_once` or `reject_always` (or a kind newer than
    /// this build, kept as it is).
    pub kind: String,
}

/// How a permission request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PermissionOutcome {
    /// A client chose an option.
    Selected {
        /// The option chosen.
        option_id: String,
        /// Who answered (`desktop`, `cli`, `notification`, …), for the record.
        by: String,
    },
    /// The turn was cancelled or the agent went away before an answer.
    Cancelled,
    /// Nobody answered in time.
    Expired,
}

/// Where one session stands on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStatus {
    /// The session.
    pub session: SessionId,
    /// The manifest id of its agent.
    pub agent: String,
    /// Whether its agent process runs.
    pub alive: bool,
    /// The running turn, if any.
    pub working_prompt: Option<u32>,
    /// Permission requests waiting for an answer.
    pub open_requests: Vec<u32>,
    /// No agent runs, but the session can resume ([`SessionEvent::AgentSuspended`]). Absent
    /// (false) from older hosts.
    #[serde(default, skip_serializing_if = "is_false")]
    pub resumable: bool,
}

/// serde's `skip_serializing_if` passes a reference.
fn is_false(value: &bool) -> bool {
    !*value
}

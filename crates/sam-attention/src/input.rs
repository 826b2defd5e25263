//! What the attention core is told: events, the directory of names, and its settings.
//!
//! These are our own small types, not `sam-chat`'s or `sam-workspace`'s, so the crate stays
//! light; the shell maps to them.

use serde::{Deserialize, Serialize};

/// Something that happened, as far as attention is concerned.
///
/// Every text field here is a title or a name: error messages, stderr tails and agent output
/// are deliberately absent, so they cannot reach a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// An agent asked for permission (or asked the user a question, which ACP expresses as
    /// a permission request with options); the turn waits for an answer.
    PermissionRequested(OpenRequest),
    /// A permission request was answered anywhere (app, notification, tray, CLI), cancelled or
    /// expired.
    PermissionResolved {
        /// The session.
        session_id: String,
        /// The request's number in that session.
        request: u32,
    },
    /// A user turn began (`prompt_sent`).
    TurnStarted {
        /// The session.
        session_id: String,
        /// Its workspace.
        workspace_id: String,
    },
    /// A turn ended (`turn_ended`).
    TurnFinished {
        /// The session.
        session_id: String,
        /// Its workspace.
        workspace_id: String,
        /// How it ended.
        stop_reason: StopReason,
        /// The event to scroll to when the notification is clicked.
        seq: Option<i64>,
    },
    /// The session's agent is gone: it exited, or could not be started (`agent_exited`,
    /// `agent_failed`).
    SessionFailed {
        /// The session.
        session_id: String,
        /// Its workspace.
        workspace_id: String,
        /// The event to scroll to when the notification is clicked.
        seq: Option<i64>,
    },
    /// The agent has said nothing for a while in the middle of a turn (`agent_silent`).
    AgentSilent {
        /// The session.
        session_id: String,
        /// Its workspace.
        workspace_id: String,
        /// For how long, in milliseconds.
        silent_ms: u64,
    },
    /// Setting a workspace up failed.
    ProvisioningFailed {
        /// The workspace.
        workspace_id: String,
        /// The name of the step that failed, when known (a name, never the error text).
        step: Option<String>,
    },
    /// The idle policy will delete a workspace soon (`PolicyEvent::IdleWarning`; the policy
    /// repeats it every minute of the warning window).
    IdleDeletionWarning {
        /// The workspace.
        workspace_id: String,
        /// Minutes left before deletion.
        minutes_left: u64,
    },
    /// The idle or lifetime policy deleted a workspace (`PolicyEvent::Deleted`).
    DeletedByPolicy {
        /// The workspace.
        workspace_id: String,
    },
    /// Deleting a workspace failed, so it keeps costing money (`PolicyEvent::DeleteFailed`,
    /// or a failed Delete).
    DeleteFailed {
        /// The workspace.
        workspace_id: String,
    },
    /// A reconcile found servers this install made that no workspace owns (billed, and
    /// nobody sees them). `server_ids` are all of them now; only new ones notify.
    OrphanedServers {
        /// The providers' ids of the orphaned servers.
        server_ids: Vec<String>,
    },
    /// This month's cloud spending crossed a threshold of the monthly budget (50, 80, 100 %).
    MonthlyBudgetCrossed {
        /// The threshold crossed, in percent of the budget.
        percent: u32,
        /// What it has cost so far, formatted by the shell (`"€4.20"`).
        amount: String,
        /// The budget, formatted by the shell.
        limit: String,
        /// The month, as `YYYY-MM` (each threshold notifies once a month).
        month: String,
    },
    /// A workspace's spending crossed a budget threshold.
    BudgetThresholdCrossed {
        /// The workspace.
        workspace_id: String,
        /// The threshold crossed, in percent of the budget.
        percent: u32,
        /// What it has cost so far, formatted by the shell (`"€4.20"`).
        amount: String,
    },
}

/// A permission request that waits for an answer: what the queue holds, and what
/// [`crate::NeedsYouQueue::from_open`] is rebuilt from at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct OpenRequest {
    /// The session that asks.
    pub session_id: String,
    /// The session's workspace.
    pub workspace_id: String,
    /// The request's number in the session, from 1.
    pub request: u32,
    /// The stored event's sequence number, to scroll to.
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub seq: Option<i64>,
    /// What is asked: the tool call's title, or the tool's name.
    pub title: String,
    /// The choices the agent offers.
    pub options: Vec<PermissionChoice>,
    /// When it was asked, in the clock's milliseconds (the event's time, so ages survive
    /// restarts).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub requested_at_ms: u64,
}

/// One choice an agent offers in a permission request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PermissionChoice {
    /// The agent's id for it, sent back when chosen.
    pub option_id: String,
    /// The agent's label for it.
    pub name: String,
    /// What it means.
    pub kind: OptionKind,
}

/// What a permission choice means (ACP's `PermissionOptionKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum OptionKind {
    /// Allow this call.
    AllowOnce,
    /// Allow this and similar calls from now on.
    AllowAlways,
    /// Refuse this call.
    RejectOnce,
    /// Refuse this and similar calls from now on.
    RejectAlways,
    /// A kind newer than this build; never offered as a notification action.
    Unknown,
}

impl OptionKind {
    /// The kind for its wire word (`allow_once`, …); anything else is [`OptionKind::Unknown`].
    pub fn from_wire(kind: &str) -> Self {
        match kind {
            "allow_once" => Self::AllowOnce,
            "allow_always" => Self::AllowAlways,
            "reject_once" => Self::RejectOnce,
            "reject_always" => Self::RejectAlways,
            _ => Self::Unknown,
        }
    }
}

/// How a turn ended (ACP's stop reasons, plus `error` when the prompt request failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// The agent is done and waits for the next message.
    EndTurn,
    /// Someone cancelled the turn.
    Cancelled,
    /// The reply hit the model's token limit.
    MaxTokens,
    /// The turn took too many model requests.
    MaxTurnRequests,
    /// The agent refused.
    Refusal,
    /// The prompt request failed.
    Error,
    /// A stop reason newer than this build.
    Other,
}

impl StopReason {
    /// The stop reason for its wire word (`end_turn`, …); anything else is
    /// [`StopReason::Other`].
    pub fn from_wire(reason: &str) -> Self {
        match reason {
            "end_turn" => Self::EndTurn,
            "cancelled" => Self::Cancelled,
            "max_tokens" => Self::MaxTokens,
            "max_turn_requests" => Self::MaxTurnRequests,
            "refusal" => Self::Refusal,
            "error" => Self::Error,
            _ => Self::Other,
        }
    }
}

/// A workspace's name and cost, for notification texts and the tray.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceInfo {
    /// Its id.
    pub workspace_id: String,
    /// Its name.
    pub name: String,
    /// What it has cost so far, formatted by the shell (`"€0.42"`); `None` for a local one.
    pub cost: Option<String>,
}

/// A session's title, for notification texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// Its id.
    pub session_id: String,
    /// Its workspace.
    pub workspace_id: String,
    /// Its title (what the chat list shows).
    pub title: String,
}

/// What the user looks at right now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// The chat on screen in the main window, if any.
    pub session_id: Option<String>,
    /// Whether the main window has the keyboard focus.
    pub focused: bool,
}

impl View {
    /// Whether the user is looking at `session_id` right now: its chat is on screen and the
    /// window is focused. An unfocused window does not count; the user may be elsewhere.
    pub fn is_looking_at(&self, session_id: &str) -> bool {
        self.focused && self.session_id.as_deref() == Some(session_id)
    }
}

/// The rules' numbers. [`Default`] holds the product's choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttentionConfig {
    /// A second "finished" notification for one session within this long of the last one
    /// shown is dropped (60 s).
    pub finished_dedupe_ms: u64,
    /// Likewise for failures of one session (a failed turn followed by the agent exiting is
    /// one failure to the user) (60 s).
    pub failure_dedupe_ms: u64,
    /// Updates are held this long after the first one arrives, then shown as one (10 s).
    pub batch_window_ms: u64,
    /// The most update lines a summary lists before "and N more" (5).
    pub batch_max_lines: usize,
    /// The first reminder for an open permission request comes this long after it was asked
    /// (10 min).
    pub reminder_first_after_ms: u64,
    /// Later reminders come this often (30 min).
    pub reminder_every_ms: u64,
    /// The most reminders for one request (3; 0 turns reminders off).
    pub reminder_max: u32,
    /// A failure keeps the tray in the error state this long unless the user looks at the
    /// failed chat or it starts a new turn first (30 min).
    pub error_hold_ms: u64,
    /// One idle-deletion warning per workspace in this long, unless the countdown restarts
    /// (10 min).
    pub idle_warning_quiet_ms: u64,
}

impl Default for AttentionConfig {
    fn default() -> Self {
        Self {
            finished_dedupe_ms: 60_000,
            failure_dedupe_ms: 60_000,
            batch_window_ms: 10_000,
            batch_max_lines: 5,
            reminder_first_after_ms: 10 * 60_000,
            reminder_every_ms: 30 * 60_000,
            reminder_max: 3,
            error_hold_ms: 30 * 60_000,
            idle_warning_quiet_ms: 10 * 60_000,
        }
    }
}

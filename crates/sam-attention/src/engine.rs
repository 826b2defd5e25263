//! The rules: which event becomes which notification, when, and what the tray shows.

use std::collections::{BTreeMap, BTreeSet};

use crate::input::{
    AttentionConfig, Input, OpenRequest, SessionInfo, StopReason, View, WorkspaceInfo,
};
use crate::notification::{
    Effect, Notification, NotificationKind, NotificationTag, Target, Urgency, actions_for,
};
use crate::queue::{NeedsYouQueue, QueueItem};
use crate::text::{MAX_TEXT_CHARS, clean, format_age};
use crate::tray::{Activity, TrayModel, TrayNeed, TrayWorkspace};

/// How many characters of a session title go into a body before what it is about, so a long
/// title cannot push the request itself out of the clipped body.
const SUBJECT_CHARS: usize = 60;

/// The attention core: fed events, the directory of names and what the user looks at, it
/// says which notifications to show or take back, and what the tray and badge show.
///
/// Deterministic: time comes in as `now_ms` (any monotonic or wall clock in milliseconds,
/// the same one for every call and for [`OpenRequest::requested_at_ms`]), and nothing
/// happens between calls. The shell calls [`Attention::tick`] at [`Attention::next_deadline`].
#[derive(Debug, Clone)]
pub struct Attention {
    config: AttentionConfig,
    queue: NeedsYouQueue,
    /// When each open request's next reminder is due; absent once all are used up (shown,
    /// or skipped because the user was looking or did not want to be disturbed).
    reminders: BTreeMap<(String, u32), u64>,
    workspaces: BTreeMap<String, WorkspaceState>,
    sessions: BTreeMap<String, SessionState>,
    view: View,
    do_not_disturb: bool,
    /// Notifications shown and not taken back, with what they are about, so a withdrawal
    /// only names notifications that exist.
    shown: BTreeMap<NotificationTag, About>,
    /// Updates held for the batch, in arrival order (one per tag).
    pending: Vec<Pending>,
    batch_due_ms: Option<u64>,
    /// The orphaned servers the last reconcile reported.
    orphans: BTreeSet<String>,
    /// The monthly-budget thresholds shown, by month.
    budget_shown: BTreeSet<(String, u32)>,
}

#[derive(Debug, Clone, Default)]
struct WorkspaceState {
    /// In the directory (given by the shell), so listed in the tray even when idle.
    listed: bool,
    name: Option<String>,
    cost: Option<String>,
    failed_at_ms: Option<u64>,
    /// When the last idle warning was shown, and the minutes left in the latest warning
    /// (shown or not), to tell a restarted countdown from a repeat.
    idle_warning: Option<(u64, u64)>,
    budget_thresholds_shown: BTreeSet<u32>,
}

#[derive(Debug, Clone, Default)]
struct SessionState {
    workspace_id: String,
    title: Option<String>,
    working: bool,
    failed_at_ms: Option<u64>,
    finished_shown_at_ms: Option<u64>,
    failure_shown_at_ms: Option<u64>,
}

/// The session a notification is about, if any: looking at that chat takes it back.
type About = Option<String>;

#[derive(Debug, Clone)]
struct Pending {
    notification: Notification,
    about: About,
}

impl Attention {
    /// An attention core with nothing open.
    pub fn new(config: AttentionConfig) -> Self {
        Self {
            config,
            queue: NeedsYouQueue::new(),
            reminders: BTreeMap::new(),
            workspaces: BTreeMap::new(),
            sessions: BTreeMap::new(),
            view: View::default(),
            do_not_disturb: false,
            shown: BTreeMap::new(),
            pending: Vec::new(),
            batch_due_ms: None,
            orphans: BTreeSet::new(),
            budget_shown: BTreeSet::new(),
        }
    }

    /// An attention core rebuilt at start-up from the requests the store holds as open.
    ///
    /// No notification is shown for them now (the badge and the queue show them); their
    /// reminders go on from when each was asked: reminders whose time has passed count as
    /// used, so a restart neither repeats nor resets them.
    pub fn from_open(
        config: AttentionConfig,
        open: impl IntoIterator<Item = OpenRequest>,
        now_ms: u64,
    ) -> Self {
        let mut attention = Self::new(config);
        attention.queue = NeedsYouQueue::from_open(open);
        let scheduled: Vec<_> = attention
            .queue
            .iter()
            .map(|request| {
                (
                    (request.session_id.clone(), request.request),
                    attention.schedule(request.requested_at_ms, now_ms),
                    request.session_id.clone(),
                    request.workspace_id.clone(),
                )
            })
            .collect();
        for (key, next_reminder, session_id, workspace_id) in scheduled {
            if let Some(at) = next_reminder {
                attention.reminders.insert(key, at);
            }
            attention.session_mut(&session_id, &workspace_id);
        }
        attention
    }

    /// The settings.
    pub fn config(&self) -> &AttentionConfig {
        &self.config
    }

    /// The "needs you" queue.
    pub fn queue(&self) -> &NeedsYouQueue {
        &self.queue
    }

    /// The queue with ages at `now_ms`, oldest first, for the app's queue view.
    pub fn queue_items(&self, now_ms: u64) -> Vec<QueueItem> {
        self.queue.items(now_ms)
    }

    /// The badge count: open requests. Do-not-disturb does not change it.
    pub fn badge_count(&self) -> u32 {
        u32::try_from(self.queue.len()).unwrap_or(u32::MAX)
    }

    /// What the user looks at, as last set.
    pub fn view(&self) -> &View {
        &self.view
    }

    /// Whether do-not-disturb is on.
    pub fn do_not_disturb(&self) -> bool {
        self.do_not_disturb
    }

    /// Names a workspace and its cost so far, and lists it in the tray. Call it for every
    /// workspace at start-up and whenever one is created, renamed or its cost changes.
    pub fn upsert_workspace(&mut self, info: WorkspaceInfo) {
        let workspace = self.workspaces.entry(info.workspace_id).or_default();
        workspace.listed = true;
        workspace.name = Some(info.name);
        workspace.cost = info.cost;
    }

    /// Forgets a workspace (deleted, or gone from the list): its open requests leave the queue
    /// (their notifications are taken back, since nobody can answer them any more) and its
    /// sessions stop counting. Notifications about the workspace itself stay, so a "deleted"
    /// notification is not taken back by the deletion it reports.
    pub fn remove_workspace(&mut self, workspace_id: &str) -> Vec<Effect> {
        let effects = self.drop_requests(|request| request.workspace_id == workspace_id);
        self.workspaces.remove(workspace_id);
        self.sessions
            .retain(|_, session| session.workspace_id != workspace_id);
        effects
    }

    /// Names a session (its title shows in notification bodies).
    pub fn upsert_session(&mut self, info: SessionInfo) {
        let session = self.session_mut(&info.session_id, &info.workspace_id);
        session.title = Some(info.title);
    }

    /// Says what the user looks at now. Looking at a chat (focused window, that chat on
    /// screen) takes back its notifications and clears its failure from the tray, since the
    /// user now sees it.
    pub fn set_view(&mut self, view: View) -> Vec<Effect> {
        self.view = view;
        let Some(session_id) = self.view.session_id.clone().filter(|_| self.view.focused) else {
            return Vec::new();
        };
        if let Some(session) = self.sessions.get_mut(&session_id) {
            session.failed_at_ms = None;
        }
        self.withdraw_about_session(&session_id)
    }

    /// Turns do-not-disturb on or off.
    ///
    /// While it is on, no notification is shown: not priority ones, not updates, not
    /// reminders (each skipped reminder counts as used). The queue, the badge and the tray
    /// keep updating, and withdrawals still happen. Turning it off shows no backlog of missed
    /// banners; if requests still wait, one notification says so (the request itself, with
    /// its buttons, when only one waits).
    pub fn set_do_not_disturb(&mut self, on: bool, now_ms: u64) -> Vec<Effect> {
        let was_on = self.do_not_disturb;
        self.do_not_disturb = on;
        if on || !was_on {
            return Vec::new();
        }
        let waiting: Vec<OpenRequest> = self
            .queue
            .iter()
            .filter(|request| !self.view.is_looking_at(&request.session_id))
            .cloned()
            .collect();
        let notification = match waiting.as_slice() {
            [] => return Vec::new(),
            [only] => self.request_notification(only, true, now_ms),
            several => self.still_waiting_notification(several),
        };
        let about = match &notification.target {
            Target::Session { session_id, .. } => Some(session_id.clone()),
            _ => None,
        };
        vec![self.show(notification, about)]
    }

    /// Takes one event in; returns what to show or take back now. Updates are held for the
    /// batch and come out of a later [`Attention::tick`].
    pub fn handle(&mut self, input: Input, now_ms: u64) -> Vec<Effect> {
        match input {
            Input::PermissionRequested(request) => self.permission_requested(request, now_ms),
            Input::PermissionResolved {
                session_id,
                request,
            } => self.permission_resolved(&session_id, request),
            Input::TurnStarted {
                session_id,
                workspace_id,
            } => self.turn_started(&session_id, &workspace_id),
            Input::TurnFinished {
                session_id,
                workspace_id,
                stop_reason,
                seq,
            } => self.turn_finished(&session_id, &workspace_id, stop_reason, seq, now_ms),
            Input::SessionFailed {
                session_id,
                workspace_id,
                seq,
            } => self.session_failed(&session_id, &workspace_id, seq, now_ms),
            Input::AgentSilent {
                session_id,
                workspace_id,
                silent_ms,
            } => self.agent_silent(&session_id, &workspace_id, silent_ms, now_ms),
            Input::ProvisioningFailed { workspace_id, step } => {
                self.provisioning_failed(&workspace_id, step.as_deref(), now_ms)
            }
            Input::IdleDeletionWarning {
                workspace_id,
                minutes_left,
            } => self.idle_warning(&workspace_id, minutes_left, now_ms),
            Input::DeletedByPolicy { workspace_id } => {
                self.deleted_by_policy(&workspace_id, now_ms)
            }
            Input::DeleteFailed { workspace_id } => self.delete_failed(&workspace_id, now_ms),
            Input::BudgetThresholdCrossed {
                workspace_id,
                percent,
                amount,
            } => self.budget_crossed(&workspace_id, percent, &amount, now_ms),
            Input::OrphanedServers { server_ids } => self.orphaned_servers(server_ids),
            Input::MonthlyBudgetCrossed {
                percent,
                amount,
                limit,
                month,
            } => self.monthly_budget_crossed(percent, &amount, &limit, &month, now_ms),
        }
    }

    /// The monthly budget: each threshold once a month; reaching it is a priority (new
    /// cloud workspaces are refused from then on), the earlier ones are updates.
    fn monthly_budget_crossed(
        &mut self,
        percent: u32,
        amount: &str,
        limit: &str,
        month: &str,
        now_ms: u64,
    ) -> Vec<Effect> {
        if !self.budget_shown.insert((month.to_owned(), percent)) {
            return Vec::new();
        }
        let reached = percent >= 100;
        let notification = Notification {
            tag: NotificationTag::workspace("monthly-budget", &percent.to_string()),
            kind: NotificationKind::BudgetThreshold,
            urgency: if reached {
                Urgency::Priority
            } else {
                Urgency::Update
            },
            title: if reached {
                "This month's cloud budget is used up".to_owned()
            } else {
                format!("Cloud spending reached {percent}% of this month's budget")
            },
            body: clean(
                &if reached {
                    format!(
                        "{amount} of {limit}. New cloud workspaces are refused until you raise it; running ones keep going."
                    )
                } else {
                    format!("{amount} of {limit} so far.")
                },
                MAX_TEXT_CHARS,
            ),
            actions: Vec::new(),
            target: Target::App,
        };
        if reached {
            if self.do_not_disturb {
                return Vec::new();
            }
            return vec![self.show(notification, None)];
        }
        self.hold_update(notification, None, now_ms);
        Vec::new()
    }

    /// Orphaned servers: a priority notification when one appears that was not known before
    /// (the reconcile repeats the whole list every time), taken back when none are left.
    fn orphaned_servers(&mut self, server_ids: Vec<String>) -> Vec<Effect> {
        let known = std::mem::take(&mut self.orphans);
        self.orphans = server_ids.into_iter().collect();
        let tag = NotificationTag::orphans();
        if self.orphans.is_empty() {
            return self.withdraw(&tag).into_iter().collect();
        }
        if self.orphans.is_subset(&known) || self.do_not_disturb {
            return Vec::new();
        }
        let count = self.orphans.len();
        let notification = Notification {
            tag,
            kind: NotificationKind::OrphanedServers,
            urgency: Urgency::Priority,
            title: if count == 1 {
                "A cloud server has no workspace".to_owned()
            } else {
                format!("{count} cloud servers have no workspace")
            },
            body: "SAM made them, nothing uses them, and they cost money. Open to delete them."
                .to_owned(),
            actions: Vec::new(),
            target: Target::Orphans,
        };
        vec![self.show(notification, None)]
    }

    /// Does what is due at `now_ms`: reminders for requests still open, and the held updates
    /// once their batch window has passed (one update alone, several as one summary). Also
    /// forgets failures older than [`AttentionConfig::error_hold_ms`].
    pub fn tick(&mut self, now_ms: u64) -> Vec<Effect> {
        let mut effects = self.due_reminders(now_ms);
        if self.batch_due_ms.is_some_and(|due| due <= now_ms) {
            effects.extend(self.flush_updates());
        }
        let hold = self.config.error_hold_ms;
        let expired = |at: &mut Option<u64>| {
            if at.is_some_and(|at| at.saturating_add(hold) <= now_ms) {
                *at = None;
            }
        };
        self.sessions
            .values_mut()
            .for_each(|session| expired(&mut session.failed_at_ms));
        self.workspaces
            .values_mut()
            .for_each(|workspace| expired(&mut workspace.failed_at_ms));
        effects
    }

    /// When [`Attention::tick`] next has something to do (a reminder, a batch, a failure
    /// leaving the tray), in the clock's milliseconds; `None` when nothing is scheduled. The
    /// tray should be recomputed then too.
    pub fn next_deadline(&self) -> Option<u64> {
        let hold = self.config.error_hold_ms;
        let reminders = self.reminders.values().copied();
        let failures = self
            .sessions
            .values()
            .filter_map(|s| s.failed_at_ms)
            .chain(self.workspaces.values().filter_map(|w| w.failed_at_ms))
            .map(|at| at.saturating_add(hold));
        reminders.chain(failures).chain(self.batch_due_ms).min()
    }

    /// What the tray shows at `now_ms`.
    ///
    /// The overall state is the greatest of the workspaces' states: needs-you (a request
    /// waits) over error (a failure within [`AttentionConfig::error_hold_ms`] the user has not
    /// looked at) over working (a turn started and not finished) over idle. Listed are the
    /// workspaces the shell named, plus any other with something going on.
    pub fn tray(&self, now_ms: u64) -> TrayModel {
        let mut lines: BTreeMap<String, TrayWorkspace> = BTreeMap::new();
        for (id, workspace) in &self.workspaces {
            if workspace.listed {
                self.tray_line(&mut lines, id);
            }
            if self.failure_active(workspace.failed_at_ms, now_ms) {
                let line = self.tray_line(&mut lines, id);
                line.state = line.state.max(Activity::Error);
            }
        }
        for session in self.sessions.values() {
            if session.working {
                let line = self.tray_line(&mut lines, &session.workspace_id);
                line.working_sessions = line.working_sessions.saturating_add(1);
                line.state = line.state.max(Activity::Working);
            }
            if self.failure_active(session.failed_at_ms, now_ms) {
                let line = self.tray_line(&mut lines, &session.workspace_id);
                line.state = line.state.max(Activity::Error);
            }
        }
        for request in self.queue.iter() {
            self.tray_line(&mut lines, &request.workspace_id).state = Activity::NeedsYou;
        }
        let mut workspaces: Vec<TrayWorkspace> = lines.into_values().collect();
        workspaces.sort_by(|a, b| {
            (a.name.to_lowercase(), &a.workspace_id).cmp(&(b.name.to_lowercase(), &b.workspace_id))
        });
        let state = workspaces
            .iter()
            .map(|w| w.state)
            .max()
            .unwrap_or(Activity::Idle);
        let needs_you: Vec<TrayNeed> = self
            .queue
            .iter()
            .map(|request| TrayNeed {
                label: request_label(request),
                workspace_name: self.workspace_name(&request.workspace_id),
                age_ms: now_ms.saturating_sub(request.requested_at_ms),
                target: request_target(request),
            })
            .collect();
        let badge = self.badge_count();
        let working: u32 = workspaces.iter().map(|w| w.working_sessions).sum();
        let tooltip = match state {
            Activity::NeedsYou if badge == 1 => "SAM Desktop: 1 request needs you".to_owned(),
            Activity::NeedsYou => format!("SAM Desktop: {badge} requests need you"),
            Activity::Error => "SAM Desktop: something failed".to_owned(),
            Activity::Working if working == 1 => "SAM Desktop: 1 agent working".to_owned(),
            Activity::Working => format!("SAM Desktop: {working} agents working"),
            Activity::Idle => "SAM Desktop".to_owned(),
        };
        TrayModel {
            state,
            badge,
            tooltip,
            needs_you,
            workspaces,
        }
    }

    fn tray_line<'a>(
        &self,
        lines: &'a mut BTreeMap<String, TrayWorkspace>,
        workspace_id: &str,
    ) -> &'a mut TrayWorkspace {
        lines
            .entry(workspace_id.to_owned())
            .or_insert_with(|| TrayWorkspace {
                workspace_id: workspace_id.to_owned(),
                name: self.workspace_name(workspace_id),
                state: Activity::Idle,
                working_sessions: 0,
                cost: self
                    .workspaces
                    .get(workspace_id)
                    .and_then(|w| w.cost.as_deref())
                    .map(|cost| clean(cost, SUBJECT_CHARS))
                    .filter(|cost| !cost.is_empty()),
            })
    }

    // ----- events -----

    fn permission_requested(&mut self, request: OpenRequest, now_ms: u64) -> Vec<Effect> {
        let key = (request.session_id.clone(), request.request);
        self.session_mut(&request.session_id, &request.workspace_id)
            .working = true;
        if !self.queue.insert(request.clone()) {
            return Vec::new();
        }
        if let Some(at) = self.schedule(request.requested_at_ms, now_ms) {
            self.reminders.insert(key, at);
        }
        if self.do_not_disturb || self.view.is_looking_at(&request.session_id) {
            return Vec::new();
        }
        let notification = self.request_notification(&request, false, now_ms);
        vec![self.show(notification, about_session(&request.session_id))]
    }

    fn permission_resolved(&mut self, session_id: &str, request: u32) -> Vec<Effect> {
        self.drop_requests(|open| open.session_id == session_id && open.request == request)
    }

    fn turn_started(&mut self, session_id: &str, workspace_id: &str) -> Vec<Effect> {
        let session = self.session_mut(session_id, workspace_id);
        session.working = true;
        session.failed_at_ms = None;
        // The user moved on with this chat: its "finished" or "failed" banners are stale.
        [
            NotificationTag::finished(session_id),
            NotificationTag::failed(session_id),
            NotificationTag::silent(session_id),
        ]
        .into_iter()
        .filter_map(|tag| self.withdraw(&tag))
        .collect()
    }

    fn turn_finished(
        &mut self,
        session_id: &str,
        workspace_id: &str,
        stop_reason: StopReason,
        seq: Option<i64>,
        now_ms: u64,
    ) -> Vec<Effect> {
        self.session_mut(session_id, workspace_id).working = false;
        // A request belongs to its turn: once the turn is over nobody can answer it.
        let mut effects = self.drop_requests(|open| open.session_id == session_id);
        effects.extend(match stop_reason {
            // Someone chose to stop it; telling them is noise.
            StopReason::Cancelled => None,
            StopReason::Error => self.failure(
                session_id,
                workspace_id,
                NotificationKind::TurnFailed,
                seq,
                now_ms,
            ),
            reason => self.finished(session_id, workspace_id, reason, seq, now_ms),
        });
        effects
    }

    fn session_failed(
        &mut self,
        session_id: &str,
        workspace_id: &str,
        seq: Option<i64>,
        now_ms: u64,
    ) -> Vec<Effect> {
        self.session_mut(session_id, workspace_id).working = false;
        let mut effects = self.drop_requests(|open| open.session_id == session_id);
        effects.extend(self.failure(
            session_id,
            workspace_id,
            NotificationKind::SessionFailed,
            seq,
            now_ms,
        ));
        effects
    }

    /// A priority notification about a session without buttons: "<title> · <workspace>" over
    /// "<session>: <outcome>", opening the session at `seq`.
    fn session_notification(
        &self,
        tag: NotificationTag,
        kind: NotificationKind,
        (title, outcome): (&str, &str),
        (session_id, workspace_id, seq): (&str, &str, Option<i64>),
    ) -> Notification {
        Notification {
            tag,
            kind,
            urgency: Urgency::Priority,
            title: clean(
                &format!("{title} · {}", self.workspace_name(workspace_id)),
                MAX_TEXT_CHARS,
            ),
            body: clean(
                &format!("{}: {outcome}", self.subject(session_id)),
                MAX_TEXT_CHARS,
            ),
            actions: Vec::new(),
            target: Target::Session {
                session_id: session_id.to_owned(),
                seq,
                request: None,
            },
        }
    }

    fn finished(
        &mut self,
        session_id: &str,
        workspace_id: &str,
        reason: StopReason,
        seq: Option<i64>,
        now_ms: u64,
    ) -> Option<Effect> {
        let dedupe = self.config.finished_dedupe_ms;
        let last = self
            .session_mut(session_id, workspace_id)
            .finished_shown_at_ms;
        if last.is_some_and(|at| now_ms.saturating_sub(at) < dedupe)
            || self.do_not_disturb
            || self.view.is_looking_at(session_id)
        {
            return None;
        }
        let outcome = match reason {
            StopReason::MaxTokens => "stopped: the reply reached the token limit",
            StopReason::MaxTurnRequests => "stopped: the turn took too many steps",
            StopReason::Refusal => "the agent declined",
            StopReason::Other => "stopped",
            _ => "done, waiting for your next message",
        };
        let notification = self.session_notification(
            NotificationTag::finished(session_id),
            NotificationKind::TurnFinished,
            ("Agent finished", outcome),
            (session_id, workspace_id, seq),
        );
        self.session_mut(session_id, workspace_id)
            .finished_shown_at_ms = Some(now_ms);
        Some(self.show(notification, about_session(session_id)))
    }

    fn failure(
        &mut self,
        session_id: &str,
        workspace_id: &str,
        kind: NotificationKind,
        seq: Option<i64>,
        now_ms: u64,
    ) -> Option<Effect> {
        let looking = self.view.is_looking_at(session_id);
        let quiet = self.do_not_disturb || looking;
        let dedupe = self.config.failure_dedupe_ms;
        let session = self.session_mut(session_id, workspace_id);
        if !looking {
            // The user sees a failure in the chat they look at; anywhere else it holds the
            // tray in the error state until they do.
            session.failed_at_ms = Some(now_ms);
        }
        if quiet
            || session
                .failure_shown_at_ms
                .is_some_and(|at| now_ms.saturating_sub(at) < dedupe)
        {
            return None;
        }
        let (title, outcome) = match kind {
            NotificationKind::TurnFailed => (
                "Turn failed",
                "the agent reported an error. Open the chat for details.",
            ),
            _ => (
                "Agent stopped",
                "the agent is no longer running. Open the chat to see why.",
            ),
        };
        let notification = self.session_notification(
            NotificationTag::failed(session_id),
            kind,
            (title, outcome),
            (session_id, workspace_id, seq),
        );
        self.session_mut(session_id, workspace_id)
            .failure_shown_at_ms = Some(now_ms);
        Some(self.show(notification, about_session(session_id)))
    }

    fn agent_silent(
        &mut self,
        session_id: &str,
        workspace_id: &str,
        silent_ms: u64,
        now_ms: u64,
    ) -> Vec<Effect> {
        self.session_mut(session_id, workspace_id);
        if self.view.is_looking_at(session_id) {
            return Vec::new();
        }
        let minutes = (silent_ms / 60_000).max(1);
        let notification = Notification {
            tag: NotificationTag::silent(session_id),
            kind: NotificationKind::AgentSilent,
            urgency: Urgency::Update,
            title: clean(
                &format!("Agent quiet · {}", self.workspace_name(workspace_id)),
                MAX_TEXT_CHARS,
            ),
            body: clean(
                &format!(
                    "{}: no word for {minutes} min. It may be stuck.",
                    self.subject(session_id)
                ),
                MAX_TEXT_CHARS,
            ),
            actions: Vec::new(),
            target: Target::Session {
                session_id: session_id.to_owned(),
                seq: None,
                request: None,
            },
        };
        self.hold_update(notification, about_session(session_id), now_ms);
        Vec::new()
    }

    fn provisioning_failed(
        &mut self,
        workspace_id: &str,
        step: Option<&str>,
        now_ms: u64,
    ) -> Vec<Effect> {
        self.workspaces
            .entry(workspace_id.to_owned())
            .or_default()
            .failed_at_ms = Some(now_ms);
        if self.do_not_disturb {
            return Vec::new();
        }
        let name = self.workspace_name(workspace_id);
        let body = match step.map(|step| clean(step, SUBJECT_CHARS)) {
            Some(step) if !step.is_empty() => {
                format!("Setting up {name} failed at \"{step}\". Open it to see why.")
            }
            _ => format!("Setting up {name} failed. Open it to see why."),
        };
        let notification = Notification {
            tag: NotificationTag::workspace("provisioning", workspace_id),
            kind: NotificationKind::ProvisioningFailed,
            urgency: Urgency::Priority,
            title: clean(&format!("Workspace failed · {name}"), MAX_TEXT_CHARS),
            body: clean(&body, MAX_TEXT_CHARS),
            actions: Vec::new(),
            target: workspace_target(workspace_id),
        };
        vec![self.show(notification, None)]
    }

    fn delete_failed(&mut self, workspace_id: &str, now_ms: u64) -> Vec<Effect> {
        self.workspaces
            .entry(workspace_id.to_owned())
            .or_default()
            .failed_at_ms = Some(now_ms);
        if self.do_not_disturb {
            return Vec::new();
        }
        let name = self.workspace_name(workspace_id);
        let notification = Notification {
            tag: NotificationTag::workspace("delete-failed", workspace_id),
            kind: NotificationKind::DeleteFailed,
            urgency: Urgency::Priority,
            title: clean(&format!("Could not delete {name}"), MAX_TEXT_CHARS),
            body: "It keeps costing money until it is deleted. Open it to try again.".to_owned(),
            actions: Vec::new(),
            target: workspace_target(workspace_id),
        };
        vec![self.show(notification, None)]
    }

    fn idle_warning(&mut self, workspace_id: &str, minutes_left: u64, now_ms: u64) -> Vec<Effect> {
        let quiet = self.config.idle_warning_quiet_ms;
        let workspace = self.workspaces.entry(workspace_id.to_owned()).or_default();
        // The policy repeats the warning every minute of the countdown: one per countdown,
        // and a new one when the countdown restarted (more minutes left than last time).
        if let Some((shown_at, last_minutes)) = workspace.idle_warning
            && now_ms.saturating_sub(shown_at) < quiet
            && minutes_left <= last_minutes
        {
            workspace.idle_warning = Some((shown_at, minutes_left));
            return Vec::new();
        }
        workspace.idle_warning = Some((now_ms, minutes_left));
        let name = self.workspace_name(workspace_id);
        let when = if minutes_left == 1 {
            "1 minute".to_owned()
        } else {
            format!("{minutes_left} minutes")
        };
        let notification = Notification {
            tag: NotificationTag::workspace("idle", workspace_id),
            kind: NotificationKind::IdleDeletionWarning,
            urgency: Urgency::Update,
            title: clean(&format!("{name} will be deleted in {when}"), MAX_TEXT_CHARS),
            body: "Nobody used it for a while. Open it or send a message to keep it.".to_owned(),
            actions: Vec::new(),
            target: workspace_target(workspace_id),
        };
        self.hold_update(notification, None, now_ms);
        Vec::new()
    }

    fn deleted_by_policy(&mut self, workspace_id: &str, now_ms: u64) -> Vec<Effect> {
        let name = self.workspace_name(workspace_id);
        let idle_tag = NotificationTag::workspace("idle", workspace_id);
        self.pending
            .retain(|pending| pending.notification.tag != idle_tag);
        let mut effects: Vec<Effect> = self.withdraw(&idle_tag).into_iter().collect();
        effects.extend(self.remove_workspace(workspace_id));
        let notification = Notification {
            tag: NotificationTag::workspace("deleted", workspace_id),
            kind: NotificationKind::DeletedByPolicy,
            urgency: Urgency::Update,
            title: clean(&format!("{name} was deleted"), MAX_TEXT_CHARS),
            body:
                "The cost policy deleted it (idle, or past its lifetime). Its chat history stays."
                    .to_owned(),
            actions: Vec::new(),
            target: Target::App,
        };
        self.hold_update(notification, None, now_ms);
        effects
    }

    fn budget_crossed(
        &mut self,
        workspace_id: &str,
        percent: u32,
        amount: &str,
        now_ms: u64,
    ) -> Vec<Effect> {
        let workspace = self.workspaces.entry(workspace_id.to_owned()).or_default();
        if !workspace.budget_thresholds_shown.insert(percent) {
            return Vec::new();
        }
        let name = self.workspace_name(workspace_id);
        let amount = clean(amount, SUBJECT_CHARS);
        let notification = Notification {
            tag: NotificationTag::workspace(&format!("budget-{percent}"), workspace_id),
            kind: NotificationKind::BudgetThreshold,
            urgency: Urgency::Update,
            title: clean(
                &format!("{name} reached {percent}% of its budget"),
                MAX_TEXT_CHARS,
            ),
            body: clean(&format!("{amount} so far."), MAX_TEXT_CHARS),
            actions: Vec::new(),
            target: workspace_target(workspace_id),
        };
        self.hold_update(notification, None, now_ms);
        Vec::new()
    }

    // ----- reminders and batches -----

    /// When the next reminder of a request asked at `requested_at_ms` is due, seen at
    /// `now_ms`: reminder `k` (from 0) is due at `requested_at + first + k × every`, those
    /// due by `now_ms` are used up, and there are at most [`AttentionConfig::reminder_max`].
    fn schedule(&self, requested_at_ms: u64, now_ms: u64) -> Option<u64> {
        let max = self.config.reminder_max;
        let first = requested_at_ms.saturating_add(self.config.reminder_first_after_ms);
        let passed = if now_ms < first {
            0
        } else {
            // With no interval every reminder is due at the first time.
            match (now_ms - first).checked_div(self.config.reminder_every_ms) {
                Some(later) => u32::try_from(later).unwrap_or(u32::MAX).saturating_add(1),
                None => max,
            }
        };
        (passed < max).then(|| {
            first.saturating_add(u64::from(passed).saturating_mul(self.config.reminder_every_ms))
        })
    }

    fn due_reminders(&mut self, now_ms: u64) -> Vec<Effect> {
        let due: Vec<OpenRequest> = self
            .queue
            .iter()
            .filter(|request| {
                self.reminders
                    .get(&(request.session_id.clone(), request.request))
                    .is_some_and(|&at| at <= now_ms)
            })
            .cloned()
            .collect();
        let mut effects = Vec::new();
        for request in due {
            // After a sleep several reminders may be due: one is shown, the rest count as used.
            let key = (request.session_id.clone(), request.request);
            match self.schedule(request.requested_at_ms, now_ms) {
                Some(at) => self.reminders.insert(key, at),
                None => self.reminders.remove(&key),
            };
            if self.do_not_disturb || self.view.is_looking_at(&request.session_id) {
                continue;
            }
            let notification = self.request_notification(&request, true, now_ms);
            effects.push(self.show(notification, about_session(&request.session_id)));
        }
        effects
    }

    fn hold_update(&mut self, notification: Notification, about: About, now_ms: u64) {
        // A newer update with the same tag replaces the held one in place.
        match self
            .pending
            .iter_mut()
            .find(|pending| pending.notification.tag == notification.tag)
        {
            Some(pending) => {
                pending.notification = notification;
                pending.about = about;
            }
            None => self.pending.push(Pending {
                notification,
                about,
            }),
        }
        if self.batch_due_ms.is_none() {
            self.batch_due_ms = Some(now_ms.saturating_add(self.config.batch_window_ms));
        }
    }

    fn flush_updates(&mut self) -> Vec<Effect> {
        self.batch_due_ms = None;
        let pending = std::mem::take(&mut self.pending);
        if self.do_not_disturb {
            return Vec::new();
        }
        // The user may have opened the chat an update is about while it was held.
        let mut pending: Vec<Pending> = pending
            .into_iter()
            .filter(|p| {
                p.about
                    .as_deref()
                    .is_none_or(|session| !self.view.is_looking_at(session))
            })
            .collect();
        let notification = match pending.len() {
            0 => return Vec::new(),
            1 => {
                let Some(only) = pending.pop() else {
                    return Vec::new();
                };
                return vec![self.show(only.notification, only.about)];
            }
            count => {
                let max_lines = self.config.batch_max_lines.max(1);
                let mut lines: Vec<String> = pending
                    .iter()
                    .take(max_lines)
                    .map(|p| p.notification.title.clone())
                    .collect();
                if count > max_lines {
                    lines.push(format!("and {} more", count - max_lines));
                }
                let first = &pending[0].notification.target;
                let target = if pending.iter().all(|p| &p.notification.target == first) {
                    first.clone()
                } else {
                    Target::App
                };
                Notification {
                    tag: NotificationTag::updates(),
                    kind: NotificationKind::UpdateSummary,
                    urgency: Urgency::Update,
                    title: format!("{count} updates"),
                    body: lines.join("\n"),
                    actions: Vec::new(),
                    target,
                }
            }
        };
        vec![self.show(notification, None)]
    }

    // ----- notifications -----

    fn request_notification(
        &self,
        request: &OpenRequest,
        reminder: bool,
        now_ms: u64,
    ) -> Notification {
        let workspace = self.workspace_name(&request.workspace_id);
        let what = request_label(request);
        let subject = self
            .sessions
            .get(&request.session_id)
            .and_then(|s| s.title.as_deref())
            .map(|title| clean(title, SUBJECT_CHARS))
            .filter(|title| !title.is_empty());
        let body = match subject {
            Some(subject) => format!("{subject}: {what}"),
            None => what,
        };
        let (kind, title, body) = if reminder {
            let age = format_age(now_ms.saturating_sub(request.requested_at_ms));
            (
                NotificationKind::PermissionReminder,
                format!("Still waiting for you · {workspace}"),
                format!("{body} (asked {age} ago)"),
            )
        } else {
            (
                NotificationKind::PermissionRequest,
                format!("Permission needed · {workspace}"),
                body,
            )
        };
        Notification {
            tag: NotificationTag::for_request(&request.session_id, request.request),
            kind,
            urgency: Urgency::Priority,
            title: clean(&title, MAX_TEXT_CHARS),
            body: clean(&body, MAX_TEXT_CHARS),
            actions: actions_for(&request.options),
            target: request_target(request),
        }
    }

    fn still_waiting_notification(&self, waiting: &[OpenRequest]) -> Notification {
        let max_lines = self.config.batch_max_lines.max(1);
        let mut lines: Vec<String> = waiting
            .iter()
            .take(max_lines)
            .map(|request| {
                clean(
                    &format!(
                        "{}: {}",
                        self.workspace_name(&request.workspace_id),
                        request_label(request)
                    ),
                    MAX_TEXT_CHARS,
                )
            })
            .collect();
        if waiting.len() > max_lines {
            lines.push(format!("and {} more", waiting.len() - max_lines));
        }
        Notification {
            tag: NotificationTag::waiting(),
            kind: NotificationKind::StillWaiting,
            urgency: Urgency::Priority,
            title: format!("{} requests wait for you", waiting.len()),
            body: lines.join("\n"),
            actions: Vec::new(),
            target: Target::Queue,
        }
    }

    fn show(&mut self, notification: Notification, about: About) -> Effect {
        self.shown.insert(notification.tag.clone(), about);
        Effect::Notify(notification)
    }

    fn withdraw(&mut self, tag: &NotificationTag) -> Option<Effect> {
        self.shown
            .remove(tag)
            .map(|_| Effect::Withdraw(tag.clone()))
    }

    fn withdraw_about_session(&mut self, session_id: &str) -> Vec<Effect> {
        let tags: Vec<NotificationTag> = self
            .shown
            .iter()
            .filter(|(_, about)| about.as_deref() == Some(session_id))
            .map(|(tag, _)| tag.clone())
            .collect();
        tags.iter().filter_map(|tag| self.withdraw(tag)).collect()
    }

    /// Removes the requests `drop` selects from the queue, with their reminders, and takes
    /// back their notifications.
    fn drop_requests(&mut self, drop: impl FnMut(&OpenRequest) -> bool) -> Vec<Effect> {
        let dropped = self.queue.remove_where(drop);
        let mut effects = Vec::new();
        for request in dropped {
            self.reminders
                .remove(&(request.session_id.clone(), request.request));
            effects.extend(self.withdraw(&NotificationTag::for_request(
                &request.session_id,
                request.request,
            )));
        }
        effects
    }

    // ----- names and state -----

    fn session_mut(&mut self, session_id: &str, workspace_id: &str) -> &mut SessionState {
        let session = self.sessions.entry(session_id.to_owned()).or_default();
        if !workspace_id.is_empty() {
            workspace_id.clone_into(&mut session.workspace_id);
        }
        session
    }

    fn workspace_name(&self, workspace_id: &str) -> String {
        let name = self
            .workspaces
            .get(workspace_id)
            .and_then(|w| w.name.as_deref())
            .map(|name| clean(name, SUBJECT_CHARS))
            .filter(|name| !name.is_empty());
        name.unwrap_or_else(|| clean(workspace_id, SUBJECT_CHARS))
    }

    /// The session's title, or "The agent" when none is known.
    fn subject(&self, session_id: &str) -> String {
        self.sessions
            .get(session_id)
            .and_then(|s| s.title.as_deref())
            .map(|title| clean(title, SUBJECT_CHARS))
            .filter(|title| !title.is_empty())
            .unwrap_or_else(|| "The agent".to_owned())
    }

    fn failure_active(&self, failed_at_ms: Option<u64>, now_ms: u64) -> bool {
        failed_at_ms.is_some_and(|at| now_ms < at.saturating_add(self.config.error_hold_ms))
    }
}

fn request_label(request: &OpenRequest) -> String {
    let label = clean(&request.title, MAX_TEXT_CHARS);
    if label.is_empty() {
        "The agent asks for permission".to_owned()
    } else {
        label
    }
}

fn request_target(request: &OpenRequest) -> Target {
    Target::Session {
        session_id: request.session_id.clone(),
        seq: request.seq,
        request: Some(request.request),
    }
}

fn workspace_target(workspace_id: &str) -> Target {
    Target::Workspace {
        workspace_id: workspace_id.to_owned(),
    }
}

fn about_session(session_id: &str) -> About {
    Some(session_id.to_owned())
}

#[cfg(test)]
mod orphan_tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn orphaned_servers_notify_once_per_new_server_and_are_taken_back_when_gone() {
        let mut a = Attention::new(AttentionConfig::default());
        let first = a.handle(
            Input::OrphanedServers {
                server_ids: ids(&["1"]),
            },
            0,
        );
        let [Effect::Notify(n)] = first.as_slice() else {
            panic!("{first:?}");
        };
        assert_eq!(n.kind, NotificationKind::OrphanedServers);
        assert_eq!(n.urgency, Urgency::Priority);
        assert_eq!(n.target, Target::Orphans);
        assert_eq!(n.title, "A cloud server has no workspace");
        // The same list again (the next reconcile): nothing new, nothing shown.
        assert!(
            a.handle(
                Input::OrphanedServers {
                    server_ids: ids(&["1"])
                },
                1
            )
            .is_empty()
        );
        // A new one: shown again, counting all.
        let more = a.handle(
            Input::OrphanedServers {
                server_ids: ids(&["1", "2"]),
            },
            2,
        );
        assert!(
            matches!(more.as_slice(), [Effect::Notify(n)] if n.title == "2 cloud servers have no workspace")
        );
        // One of them deleted: no news.
        assert!(
            a.handle(
                Input::OrphanedServers {
                    server_ids: ids(&["2"])
                },
                3
            )
            .is_empty()
        );
        // None left: the notification is taken back.
        let gone = a.handle(
            Input::OrphanedServers {
                server_ids: Vec::new(),
            },
            4,
        );
        assert!(matches!(gone.as_slice(), [Effect::Withdraw(_)]), "{gone:?}");
        assert!(
            a.handle(
                Input::OrphanedServers {
                    server_ids: Vec::new()
                },
                5
            )
            .is_empty()
        );
    }

    #[test]
    fn do_not_disturb_keeps_orphans_quiet_but_known() {
        let mut a = Attention::new(AttentionConfig::default());
        let _ = a.set_do_not_disturb(true, 0);
        assert!(
            a.handle(
                Input::OrphanedServers {
                    server_ids: ids(&["1"])
                },
                1
            )
            .is_empty()
        );
        let _ = a.set_do_not_disturb(false, 2);
        // Still the same server: not announced late.
        assert!(
            a.handle(
                Input::OrphanedServers {
                    server_ids: ids(&["1"])
                },
                3
            )
            .is_empty()
        );
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    fn crossed(percent: u32, month: &str) -> Input {
        Input::MonthlyBudgetCrossed {
            percent,
            amount: "€40.00".into(),
            limit: "€50.00".into(),
            month: month.into(),
        }
    }

    #[test]
    fn each_threshold_notifies_once_a_month_and_reaching_it_is_a_priority() {
        let mut a = Attention::new(AttentionConfig::default());
        // 80 %: an update, held for the batch window, then shown.
        assert!(a.handle(crossed(80, "2026-11"), 0).is_empty());
        let later = a.tick(60_000);
        assert!(
            matches!(later.as_slice(), [Effect::Notify(n)] if n.urgency == Urgency::Update && n.title.contains("80%")),
            "{later:?}"
        );
        // The same threshold again this month: nothing.
        assert!(a.handle(crossed(80, "2026-11"), 70_000).is_empty());
        assert!(a.tick(200_000).is_empty());
        // 100 %: at once, a priority, saying what it means.
        let reached = a.handle(crossed(100, "2026-11"), 210_000);
        let [Effect::Notify(n)] = reached.as_slice() else {
            panic!("{reached:?}");
        };
        assert_eq!(n.urgency, Urgency::Priority);
        assert!(n.body.contains("refused"), "{}", n.body);
        // Next month it may notify again.
        assert!(!a.handle(crossed(100, "2026-12"), 300_000).is_empty());
    }
}

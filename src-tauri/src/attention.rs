//! The "needs you" wiring: chat events and the cost policy go into `sam-attention`, and what
//! it decides comes out as desktop notifications (with answer buttons where the platform has
//! them), the tray's icon and menu, the taskbar badge, and the app's queue view.
//!
//! Everything that decides lives in `sam-attention`; this module maps events in and carries
//! effects out. One task owns the loop: chat batches, a timer at the core's next deadline, and
//! wake-ups from commands (view changes, do-not-disturb, notification clicks).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sam_attention::{
    Attention, AttentionConfig, Effect, Input, Notification, NotificationTag, OpenRequest,
    OptionKind, PermissionChoice, QueueItem, SessionInfo, StopReason, Target, TrayModel,
    WorkspaceInfo,
};
use sam_chat::{Chat, ChatBatch, ChatEvent, OpenPermission};
use sam_core::ApiError;
use sam_protocol::SessionEvent;
use sam_workspace::{Lifecycle, Provider, Workspace, Workspaces};
use serde::Serialize;
use tauri::{AppHandle, Manager, State};
use tokio::sync::{Notify, broadcast, mpsc, watch};

use crate::state::AppState;

/// The settings key that keeps do-not-disturb across restarts.
const DND_SETTING: &str = "do_not_disturb";

/// How often workspace names and costs are read again for the tray.
const DIRECTORY_REFRESH: Duration = Duration::from_secs(30);

/// The longest an `attention_wait` call waits for a change.
const MAX_WAIT_MS: f64 = 25_000.0;

/// What the app's queue view shows, and where a notification click asked to go.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AttentionSnapshot {
    /// Grows with every change; pass it back to `attention_wait`.
    #[specta(type = f64)]
    pub revision: u64,
    /// Open permission requests across all workspaces, oldest first, with their ages.
    pub items: Vec<QueueItem>,
    /// Whether do-not-disturb is on.
    pub do_not_disturb: bool,
    /// The last "open this" asked for from outside the webview (a notification or tray
    /// click): the UI goes there once per `token`.
    pub open: Option<OpenRequestUi>,
}

/// A request to show something in the app.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct OpenRequestUi {
    /// New for every request.
    #[specta(type = f64)]
    pub token: u64,
    /// What to show.
    pub target: Target,
    /// What to do there.
    pub action: UiAction,
}

/// What the UI is asked to do with an [`OpenRequestUi`]'s target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum UiAction {
    /// Show it.
    Open,
    /// Open the New workspace dialog (the tray's "New workspace…").
    NewWorkspace,
    /// Ask to confirm deleting the target workspace (the tray's "Delete…").
    DeleteWorkspace,
    /// Quit was asked for while cloud workspaces run: say what keeps running and what it
    /// costs, and offer to delete them first.
    ConfirmQuit,
}

/// Cloud workspaces that may keep a server (and its bill) running after the app quits.
pub fn cloud_workspaces_left(workspaces: &Workspaces) -> Vec<Workspace> {
    workspaces
        .list()
        .unwrap_or_default()
        .into_iter()
        .filter(|w| w.spec.provider != Provider::Local && w.state != Lifecycle::Deleted)
        .collect()
}

/// What a tray menu item does (its position in the menu the core's model was rendered to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayAction {
    /// Show this in the app.
    Open(Target),
    /// Ask to confirm deleting this workspace, in the app.
    DeleteWorkspace(String),
}

/// The attention loop's shared state.
pub struct Hub {
    app: AppHandle,
    chat: Arc<Chat>,
    workspaces: Arc<Workspaces>,
    core: Mutex<Attention>,
    revision: watch::Sender<u64>,
    wake: Notify,
    open: Mutex<Option<OpenRequestUi>>,
    tray_actions: Mutex<Vec<TrayAction>>,
    notifier: notifier::Notifier,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts the attention loop (after the chat core exists). Without a chat core there is
/// nothing to watch: the tray keeps its plain menu.
pub fn start(app: &AppHandle, state: &Arc<AppState>) {
    let (Ok(chat), Ok(workspaces)) = (state.chat(), state.workspaces()) else {
        return;
    };
    let do_not_disturb = state
        .store()
        .ok()
        .and_then(|store| store.setting(DND_SETTING).ok().flatten())
        .is_some_and(|value| value == "on");
    let (actions_tx, actions_rx) = mpsc::unbounded_channel();
    let mut core = Attention::new(AttentionConfig::default());
    let _ = core.set_do_not_disturb(do_not_disturb, now_ms());
    let hub = Arc::new(Hub {
        app: app.clone(),
        chat: Arc::clone(&chat),
        workspaces,
        core: Mutex::new(core),
        revision: watch::channel(0).0,
        wake: Notify::new(),
        open: Mutex::new(None),
        tray_actions: Mutex::new(Vec::new()),
        notifier: notifier::Notifier::new(app.clone(), actions_tx),
    });
    app.manage(Arc::clone(&hub));
    // Subscribed before the open requests are read, so nothing falls between the two.
    let batches = chat.subscribe();
    tauri::async_runtime::spawn(Arc::clone(&hub).run(batches));
    tauri::async_runtime::spawn(hub.answer_actions(actions_rx));
}

impl Hub {
    async fn run(self: Arc<Self>, mut batches: broadcast::Receiver<ChatBatch>) {
        self.rebuild_queue().await;
        self.refresh_directory().await;
        self.publish(Vec::new()).await;
        let mut refresh = tokio::time::interval(DIRECTORY_REFRESH);
        refresh.tick().await;
        loop {
            let deadline = lock(&self.core).next_deadline();
            let sleep = async {
                match deadline {
                    Some(at) => {
                        tokio::time::sleep(Duration::from_millis(at.saturating_sub(now_ms())))
                            .await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let effects = tokio::select! {
                batch = batches.recv() => match batch {
                    Ok(batch) => self.on_batch(batch).await,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "attention fell behind the chat; reading open requests again");
                        self.rebuild_queue().await;
                        Vec::new()
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                () = sleep => lock(&self.core).tick(now_ms()),
                _ = refresh.tick() => {
                    self.refresh_directory().await;
                    Vec::new()
                }
                () = self.wake.notified() => Vec::new(),
            };
            self.publish(effects).await;
        }
    }

    /// The queue as the store holds it (at start, and after falling behind).
    async fn rebuild_queue(&self) {
        let open = match self.chat.open_requests().await {
            Ok(open) => open,
            Err(error) => {
                tracing::warn!(%error, "open permission requests could not be read");
                return;
            }
        };
        let now = now_ms();
        let mut core = lock(&self.core);
        let view = core.view().clone();
        let do_not_disturb = core.do_not_disturb();
        let mut rebuilt = Attention::from_open(
            AttentionConfig::default(),
            open.into_iter().map(open_request),
            now,
        );
        let _ = rebuilt.set_view(view);
        let _ = rebuilt.set_do_not_disturb(do_not_disturb, now);
        *core = rebuilt;
    }

    /// Workspace names and costs, and session titles, for texts and the tray.
    async fn refresh_directory(&self) {
        let workspaces = self.workspaces.list().unwrap_or_default();
        let sessions = self.chat.sessions(None).await.unwrap_or_default();
        let mut core = lock(&self.core);
        for workspace in &workspaces {
            if workspace.state == Lifecycle::Deleted {
                let _ = core.remove_workspace(&workspace.id);
            } else {
                core.upsert_workspace(workspace_info(workspace));
            }
        }
        for session in sessions.into_iter().filter(|s| !s.workspace_gone) {
            core.upsert_session(SessionInfo {
                session_id: session.id,
                workspace_id: session.workspace_id,
                title: session.title,
            });
        }
    }

    async fn on_batch(&self, batch: ChatBatch) -> Vec<Effect> {
        let Ok(session) = self.chat.session(&batch.session_id).await else {
            return Vec::new();
        };
        let now = now_ms();
        let mut core = lock(&self.core);
        core.upsert_session(SessionInfo {
            session_id: session.id.clone(),
            workspace_id: session.workspace_id.clone(),
            title: session.title.clone(),
        });
        let mut effects = Vec::new();
        for event in &batch.events {
            if let Some(input) = input_for(&session.id, &session.workspace_id, event) {
                effects.extend(core.handle(input, now));
            }
        }
        effects
    }

    /// Carries out `effects`, redraws the tray and the badge, and tells waiting views.
    async fn publish(&self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Notify(notification) => self.notifier.show(notification).await,
                Effect::Withdraw(tag) => self.notifier.withdraw(&tag).await,
            }
        }
        let model = lock(&self.core).tray(now_ms());
        let dnd = lock(&self.core).do_not_disturb();
        self.render_tray(&model, dnd);
        if let Some(window) = self.app.get_webview_window(crate::MAIN_WINDOW) {
            // Unsupported on some platforms (Windows); the tray and the queue still count.
            let _ = window.set_badge_count((model.badge > 0).then_some(i64::from(model.badge)));
        }
        self.revision.send_modify(|revision| *revision += 1);
    }

    fn render_tray(&self, model: &TrayModel, dnd: bool) {
        if let Some(actions) = crate::tray::render(&self.app, model, dnd) {
            *lock(&self.tray_actions) = actions;
        }
    }

    /// What the queue view shows now.
    pub fn snapshot(&self) -> AttentionSnapshot {
        let core = lock(&self.core);
        AttentionSnapshot {
            revision: *self.revision.borrow(),
            items: core.queue_items(now_ms()),
            do_not_disturb: core.do_not_disturb(),
            open: lock(&self.open).clone(),
        }
    }

    /// Shows the main window and asks the UI to open `target`.
    pub fn open(&self, target: Target) {
        self.ask_ui(target, UiAction::Open);
    }

    /// Shows the main window with the New workspace dialog.
    pub fn open_new_workspace(&self) {
        self.ask_ui(Target::App, UiAction::NewWorkspace);
    }

    /// Quits at once when no cloud workspace is left running; otherwise shows the window and
    /// asks the user first (what keeps running, what it costs, delete them?).
    pub fn request_quit(&self) {
        if cloud_workspaces_left(&self.workspaces).is_empty() {
            tracing::info!("quit from the tray");
            self.app.exit(0);
        } else {
            self.ask_ui(Target::App, UiAction::ConfirmQuit);
        }
    }

    fn ask_ui(&self, target: Target, action: UiAction) {
        crate::show_main_window(&self.app);
        {
            let mut open = lock(&self.open);
            let token = open.as_ref().map_or(1, |o| o.token + 1);
            *open = Some(OpenRequestUi {
                token,
                target,
                action,
            });
        }
        self.revision.send_modify(|revision| *revision += 1);
    }

    /// The main window gained or lost the keyboard focus.
    pub fn set_focused(&self, focused: bool) {
        let mut core = lock(&self.core);
        let mut view = core.view().clone();
        if view.focused == focused {
            return;
        }
        view.focused = focused;
        let effects = core.set_view(view);
        drop(core);
        self.apply_later(effects);
    }

    fn set_session_on_screen(&self, session_id: Option<String>) {
        let mut core = lock(&self.core);
        let mut view = core.view().clone();
        view.session_id = session_id;
        let effects = core.set_view(view);
        drop(core);
        self.apply_later(effects);
    }

    fn set_do_not_disturb(&self, on: bool) {
        let effects = lock(&self.core).set_do_not_disturb(on, now_ms());
        self.apply_later(effects);
    }

    /// Effects decided outside the loop run on a task (the callers are sync), then the loop
    /// redraws.
    fn apply_later(&self, effects: Vec<Effect>) {
        let Some(hub) = self.app.try_state::<Arc<Hub>>().map(|s| Arc::clone(&s)) else {
            return;
        };
        tauri::async_runtime::spawn(async move {
            hub.publish(effects).await;
        });
    }

    /// A tray menu item was clicked.
    pub fn tray_clicked(&self, index: usize) {
        let action = lock(&self.tray_actions).get(index).cloned();
        match action {
            Some(TrayAction::Open(target)) => self.open(target),
            Some(TrayAction::DeleteWorkspace(workspace_id)) => {
                self.ask_ui(
                    Target::Workspace { workspace_id },
                    UiAction::DeleteWorkspace,
                );
            }
            None => {}
        }
    }

    /// Toggles do-not-disturb (from the tray), remembering it.
    pub fn toggle_do_not_disturb(&self) {
        let on = !lock(&self.core).do_not_disturb();
        self.remember_dnd(on);
        self.set_do_not_disturb(on);
    }

    fn remember_dnd(&self, on: bool) {
        if let Some(state) = self.app.try_state::<Arc<AppState>>()
            && let Ok(store) = state.store()
            && let Err(error) = store.set_setting(DND_SETTING, if on { "on" } else { "off" })
        {
            tracing::warn!(%error, "do-not-disturb could not be saved");
        }
    }

    /// Answers requests from notification buttons, and opens what a click on one points at.
    async fn answer_actions(
        self: Arc<Self>,
        mut actions: mpsc::UnboundedReceiver<notifier::Clicked>,
    ) {
        while let Some(clicked) = actions.recv().await {
            match clicked {
                notifier::Clicked::Open(target) => self.open(target),
                notifier::Clicked::Answer {
                    session_id,
                    request,
                    option_id,
                } => {
                    tracing::info!(session = %session_id, request, "answered from a notification");
                    if let Err(error) = self
                        .chat
                        .answer(&session_id, request, &option_id, "notification")
                        .await
                    {
                        // Answered elsewhere meanwhile, or the host is gone: open the request.
                        tracing::warn!(%error, "a notification's answer could not be delivered");
                        self.open(Target::Session {
                            session_id,
                            seq: None,
                            request: Some(request),
                        });
                    }
                }
            }
        }
    }

    /// Feeds a cost-policy event (the policy timer in `workspaces.rs`).
    pub fn policy_event(&self, event: &sam_workspace::PolicyEvent) {
        use sam_workspace::PolicyEvent;
        let input = match event {
            PolicyEvent::IdleWarning {
                workspace_id,
                minutes,
                ..
            } => Input::IdleDeletionWarning {
                workspace_id: workspace_id.clone(),
                minutes_left: *minutes,
            },
            PolicyEvent::Deleted { workspace_id, .. } => Input::DeletedByPolicy {
                workspace_id: workspace_id.clone(),
            },
            PolicyEvent::DeleteFailed { workspace_id, .. } => Input::DeleteFailed {
                workspace_id: workspace_id.clone(),
            },
        };
        self.feed(input);
    }

    /// Feeds an input from outside the chat stream (policy, provisioning).
    pub fn feed(&self, input: Input) {
        if let Ok(workspaces) = self.workspaces.list() {
            let mut core = lock(&self.core);
            for workspace in workspaces.iter().filter(|w| w.state != Lifecycle::Deleted) {
                core.upsert_workspace(workspace_info(workspace));
            }
        }
        let effects = lock(&self.core).handle(input, now_ms());
        self.apply_later(effects);
        self.wake.notify_one();
    }
}

/// The core's view of a stored open request.
fn open_request(open: OpenPermission) -> OpenRequest {
    OpenRequest {
        session_id: open.session_id,
        workspace_id: open.workspace_id,
        request: open.request,
        seq: Some(open.seq),
        title: open.title,
        options: open.options.iter().map(choice).collect(),
        requested_at_ms: u64::try_from(open.at_ms).unwrap_or(0),
    }
}

fn choice(option: &sam_protocol::PermissionOption) -> PermissionChoice {
    PermissionChoice {
        option_id: option.option_id.clone(),
        name: option.name.clone(),
        kind: OptionKind::from_wire(&option.kind),
    }
}

fn workspace_info(workspace: &Workspace) -> WorkspaceInfo {
    WorkspaceInfo {
        workspace_id: workspace.id.clone(),
        name: workspace.spec.name.clone(),
        cost: match (&workspace.spec.provider, &workspace.cost) {
            (Provider::Local, _) | (_, None) => None,
            (_, Some(cost)) => Some(format_money(cost.spent, &cost.currency)),
        },
    }
}

fn format_money(amount: f64, currency: &str) -> String {
    match currency {
        "EUR" => format!("€{amount:.2}"),
        "USD" => format!("${amount:.2}"),
        other => format!("{amount:.2} {other}"),
    }
}

/// What one stored chat event means for attention, if anything.
pub fn input_for(session_id: &str, workspace_id: &str, event: &ChatEvent) -> Option<Input> {
    let session_id = session_id.to_owned();
    let workspace_id = workspace_id.to_owned();
    Some(match &event.body {
        SessionEvent::PermissionRequested {
            request,
            tool_call,
            options,
        } => Input::PermissionRequested(OpenRequest {
            session_id,
            workspace_id,
            request: *request,
            seq: Some(event.seq),
            title: sam_chat::permission_title(tool_call),
            options: options.iter().map(choice).collect(),
            requested_at_ms: u64::try_from(event.at_ms).unwrap_or(0),
        }),
        SessionEvent::PermissionResolved { request, .. } => Input::PermissionResolved {
            session_id,
            request: *request,
        },
        SessionEvent::PromptSent { .. } => Input::TurnStarted {
            session_id,
            workspace_id,
        },
        SessionEvent::TurnEnded { stop_reason, .. } => Input::TurnFinished {
            session_id,
            workspace_id,
            stop_reason: StopReason::from_wire(stop_reason),
            seq: Some(event.seq),
        },
        // An agent that exits cleanly was stopped on purpose (the workspace went away).
        SessionEvent::AgentExited { code: Some(0), .. } => return None,
        SessionEvent::AgentExited { .. } | SessionEvent::AgentFailed { .. } => {
            Input::SessionFailed {
                session_id,
                workspace_id,
                seq: Some(event.seq),
            }
        }
        SessionEvent::AgentSilent { silent_ms } => Input::AgentSilent {
            session_id,
            workspace_id,
            silent_ms: *silent_ms,
        },
        SessionEvent::SessionStarted { .. }
        | SessionEvent::Update { .. }
        | SessionEvent::ProtocolNoise { .. }
        | SessionEvent::AgentSuspended { .. }
        | SessionEvent::SessionResumed { .. }
        | SessionEvent::Shipped { .. } => return None,
    })
}

/// The tag's notification, for the notifier's bookkeeping.
type Shown = HashMap<NotificationTag, notifier::Handle>;

mod notifier {
    //! Desktop notifications. On Linux (and the BSDs) through the freedesktop notification
    //! service with `notify-rust`, so permission requests carry answer buttons and clicks
    //! come back; elsewhere through the notification plugin (no buttons there: a click on
    //! the app opens the queue).

    use super::{Notification, NotificationTag, Shown, Target, lock};
    use sam_attention::{NotificationKind, Urgency, escape_body_markup};
    use std::sync::{Arc, Mutex};
    use tauri::AppHandle;
    use tokio::sync::mpsc;

    /// What the user did with a notification.
    #[derive(Debug, Clone)]
    pub enum Clicked {
        Open(Target),
        Answer {
            session_id: String,
            request: u32,
            option_id: String,
        },
    }

    /// The action key of a click on the notification itself (the freedesktop convention).
    const DEFAULT_ACTION: &str = "default";

    #[cfg(all(unix, not(target_os = "macos")))]
    pub struct Handle {
        notification: Arc<notify_rust::NotificationHandle>,
        listener: tokio::task::JoinHandle<()>,
    }

    #[cfg(not(all(unix, not(target_os = "macos"))))]
    pub struct Handle;

    pub struct Notifier {
        #[cfg_attr(all(unix, not(target_os = "macos")), allow(dead_code))]
        app: AppHandle,
        #[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
        clicks: mpsc::UnboundedSender<Clicked>,
        #[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
        shown: Mutex<Shown>,
    }

    impl Notifier {
        pub fn new(app: AppHandle, clicks: mpsc::UnboundedSender<Clicked>) -> Self {
            Self {
                app,
                clicks,
                shown: Mutex::new(Shown::new()),
            }
        }

        #[cfg(all(unix, not(target_os = "macos")))]
        pub async fn show(&self, n: Notification) {
            let mut note = notify_rust::Notification::new();
            note.appname(sam_core::APP_NAME)
                .summary(&n.title)
                // The body is ours (names, titles), escaped: servers may read markup.
                .body(&escape_body_markup(&n.body))
                .urgency(match n.urgency {
                    Urgency::Priority => notify_rust::Urgency::Critical,
                    Urgency::Update => notify_rust::Urgency::Low,
                })
                .timeout(match n.kind {
                    // A question stays until it is answered (or withdrawn).
                    NotificationKind::PermissionRequest | NotificationKind::PermissionReminder => {
                        notify_rust::Timeout::Never
                    }
                    _ => notify_rust::Timeout::Default,
                });
            for action in &n.actions {
                note.action(&action.option_id, &action.label);
            }
            note.action(DEFAULT_ACTION, "Open");
            let previous = lock(&self.shown).remove(&n.tag);
            if let Some(previous) = &previous {
                // Replaces the shown one in place (a reminder, a batch summary).
                note.id(previous.notification.id());
                previous.listener.abort();
            }
            let handle = match note.show_async().await {
                Ok(handle) => Arc::new(handle),
                Err(error) => {
                    tracing::warn!(%error, kind = ?n.kind, "a notification could not be shown");
                    return;
                }
            };
            let listener = {
                let handle = Arc::clone(&handle);
                let clicks = self.clicks.clone();
                let target = n.target.clone();
                let answers: Vec<String> = n.actions.iter().map(|a| a.option_id.clone()).collect();
                tokio::spawn(async move {
                    handle
                        .wait_for_action_async(|response| {
                            let clicked = match response {
                                notify_rust::NotificationResponse::Default => {
                                    Some(Clicked::Open(target.clone()))
                                }
                                notify_rust::NotificationResponse::Action(key)
                                    if key == DEFAULT_ACTION =>
                                {
                                    Some(Clicked::Open(target.clone()))
                                }
                                notify_rust::NotificationResponse::Action(key) => {
                                    answer_for(&target, &answers, key)
                                }
                                _ => None,
                            };
                            if let Some(clicked) = clicked {
                                let _ = clicks.send(clicked);
                            }
                        })
                        .await;
                })
            };
            lock(&self.shown).insert(
                n.tag,
                Handle {
                    notification: handle,
                    listener,
                },
            );
        }

        #[cfg(all(unix, not(target_os = "macos")))]
        pub async fn withdraw(&self, tag: &NotificationTag) {
            let Some(shown) = lock(&self.shown).remove(tag) else {
                return;
            };
            shown.listener.abort();
            shown.notification.close_async().await;
        }

        #[cfg(not(all(unix, not(target_os = "macos"))))]
        pub async fn show(&self, n: Notification) {
            use tauri_plugin_notification::NotificationExt as _;
            if let Err(error) = self
                .app
                .notification()
                .builder()
                .id(n.tag.platform_id())
                .title(&n.title)
                .body(&n.body)
                .show()
            {
                tracing::warn!(%error, kind = ?n.kind, "a notification could not be shown");
            }
        }

        #[cfg(not(all(unix, not(target_os = "macos"))))]
        pub async fn withdraw(&self, tag: &NotificationTag) {
            use tauri_plugin_notification::NotificationExt as _;
            let _ = self.app.notification().cancel(vec![tag.platform_id()]);
        }
    }

    /// The answer a button means: only the buttons the core put on this notification, for
    /// its own request.
    #[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
    pub(super) fn answer_for(target: &Target, answers: &[String], key: &str) -> Option<Clicked> {
        let Target::Session {
            session_id,
            request: Some(request),
            ..
        } = target
        else {
            return None;
        };
        answers.iter().any(|a| a == key).then(|| Clicked::Answer {
            session_id: session_id.clone(),
            request: *request,
            option_id: key.to_owned(),
        })
    }
}

type Shared<'a> = State<'a, Arc<AppState>>;

fn hub(app: &AppHandle) -> Result<Arc<Hub>, ApiError> {
    app.try_state::<Arc<Hub>>()
        .map(|hub| Arc::clone(&hub))
        .ok_or_else(|| {
            ApiError::unavailable(
                "Notifications and the queue are not running (the database could not be opened).",
            )
        })
}

/// The "needs you" queue now, or as soon as it changes after `after_revision` (at most
/// `timeout_ms`, capped at 25 s).
#[tauri::command]
#[specta::specta]
pub async fn attention_wait(
    app: AppHandle,
    _state: Shared<'_>,
    after_revision: f64,
    timeout_ms: f64,
) -> Result<AttentionSnapshot, ApiError> {
    let hub = hub(&app)?;
    let mut changes = hub.revision.subscribe();
    let wait = if timeout_ms.is_finite() {
        timeout_ms.clamp(0.0, MAX_WAIT_MS)
    } else {
        0.0
    };
    let after = if after_revision.is_finite() && after_revision >= 0.0 {
        after_revision as u64
    } else {
        0
    };
    if *changes.borrow_and_update() <= after {
        let _ = tokio::time::timeout(Duration::from_millis(wait as u64), changes.changed()).await;
    }
    Ok(hub.snapshot())
}

/// Tells notifications which chat is on screen (null: none), so none is shown for it.
#[tauri::command]
#[specta::specta]
pub async fn attention_set_view(
    app: AppHandle,
    session_id: Option<String>,
) -> Result<(), ApiError> {
    hub(&app)?.set_session_on_screen(session_id);
    Ok(())
}

/// Turns do-not-disturb on or off (kept across restarts).
#[tauri::command]
#[specta::specta]
pub async fn attention_set_dnd(app: AppHandle, on: bool) -> Result<(), ApiError> {
    let hub = hub(&app)?;
    hub.remember_dnd(on);
    hub.set_do_not_disturb(on);
    Ok(())
}

/// Quits the app, first deleting every cloud workspace when `delete_cloud` is true. When a
/// deletion fails the app stays open and says which, so nothing is left billing unseen.
#[tauri::command]
#[specta::specta]
pub async fn app_quit(
    app: AppHandle,
    state: Shared<'_>,
    delete_cloud: bool,
) -> Result<(), ApiError> {
    if delete_cloud {
        let workspaces = state.workspaces()?;
        let left = cloud_workspaces_left(&workspaces);
        let mut failures = Vec::new();
        for workspace in left {
            if let Err(error) = crate::workspaces::delete_now(&state, &workspace.id).await {
                failures.push(format!("{}: {}", workspace.spec.name, error.message));
            }
        }
        if !failures.is_empty() {
            return Err(ApiError::unavailable(format!(
                "SAM kept running because some cloud workspaces could not be deleted ({}). Try again, or delete them from your provider's console.",
                failures.join("; ")
            )));
        }
    }
    tracing::info!(delete_cloud, "quit after confirmation");
    app.exit(0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, body: SessionEvent) -> ChatEvent {
        ChatEvent {
            seq,
            at_ms: 1_000,
            body,
        }
    }

    #[test]
    fn a_permission_request_becomes_a_queued_request_with_its_title_and_choices() {
        let input = input_for(
            "s1",
            "w1",
            &event(
                7,
                SessionEvent::PermissionRequested {
                    request: 2,
                    tool_call: serde_json::json!({"title": "Write e2e.txt", "kind": "edit"}),
                    options: vec![sam_protocol::PermissionOption {
                        option_id: "allow".into(),
                        name: "Allow".into(),
                        kind: "allow_once".into(),
                    }],
                },
            ),
        );
        let Some(Input::PermissionRequested(request)) = input else {
            panic!("not a request: {input:?}");
        };
        assert_eq!(request.title, "Write e2e.txt");
        assert_eq!((request.request, request.seq), (2, Some(7)));
        assert_eq!(request.requested_at_ms, 1_000);
        assert_eq!(request.options[0].kind, OptionKind::AllowOnce);
    }

    #[test]
    fn turn_ends_and_failures_map_and_a_clean_exit_is_no_failure() {
        let ended = input_for(
            "s",
            "w",
            &event(
                3,
                SessionEvent::TurnEnded {
                    prompt: 1,
                    stop_reason: "end_turn".into(),
                    error: None,
                },
            ),
        );
        assert!(matches!(
            ended,
            Some(Input::TurnFinished {
                stop_reason: StopReason::EndTurn,
                seq: Some(3),
                ..
            })
        ));
        let crashed = SessionEvent::AgentExited {
            code: Some(3),
            stderr_tail: "secret stack".into(),
        };
        assert!(matches!(
            input_for("s", "w", &event(4, crashed)),
            Some(Input::SessionFailed { .. })
        ));
        let clean = SessionEvent::AgentExited {
            code: Some(0),
            stderr_tail: String::new(),
        };
        assert_eq!(input_for("s", "w", &event(5, clean)), None);
        let text = SessionEvent::Update {
            update: serde_json::json!({"sessionUpdate": "agent_message_chunk"}),
        };
        assert_eq!(input_for("s", "w", &event(6, text)), None);
    }

    #[test]
    fn a_button_answers_only_its_own_request_with_its_own_options() {
        let target = Target::Session {
            session_id: "s".into(),
            seq: Some(3),
            request: Some(4),
        };
        let answers = vec!["allow-1".to_owned(), "reject-1".to_owned()];
        assert!(matches!(
            notifier::answer_for(&target, &answers, "allow-1"),
            Some(notifier::Clicked::Answer { request: 4, ref option_id, .. }) if option_id == "allow-1"
        ));
        // A key the notification did not offer (e.g. a forged "allow_always") does nothing.
        assert!(notifier::answer_for(&target, &answers, "allow-always").is_none());
        // A notification about a workspace answers nothing.
        let workspace = Target::Workspace {
            workspace_id: "w".into(),
        };
        assert!(notifier::answer_for(&workspace, &answers, "allow-1").is_none());
    }

    #[test]
    fn money_is_shown_in_its_currency() {
        assert_eq!(format_money(0.4249, "EUR"), "€0.42");
        assert_eq!(format_money(3.0, "USD"), "$3.00");
        assert_eq!(format_money(1.5, "CHF"), "1.50 CHF");
    }
}

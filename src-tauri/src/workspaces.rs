//! Workspace commands. Creating and retrying return at once and provision in the background;
//! the UI follows progress by polling `get_workspace`, whose steps and timings live in SQLite
//! (so progress survives a reload of the webview). Cloud catalogue commands feed the
//! create dialog's location and size pickers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sam_cloud::{
    Arch, CloudError, CloudProvider, ConnectError, ProviderKind, Size, SizePreset, Timing,
};
use sam_core::{ApiError, AppPaths, ErrorCode};
use sam_secrets::{CredentialKind, Vault};
use sam_store::Store;
use sam_workspace::{
    BudgetStatus, IdlePolicy, Lifecycle, Provider, ReconcileReport, Repo, VaultRemote, Workspace,
    WorkspaceError, WorkspaceLaunch, WorkspaceSpec, Workspaces,
};
use serde::Serialize;
use tauri::State;
use tauri::async_runtime::JoinHandle;

use crate::commands::blocking;
use crate::credentials::vault_error;
use crate::state::AppState;

type Shared<'a> = State<'a, Arc<AppState>>;

/// Every workspace, newest first (deleted ones too: their chat history stays).
#[tauri::command]
#[specta::specta]
pub async fn list_workspaces(state: Shared<'_>) -> Result<Vec<Workspace>, ApiError> {
    let workspaces = state.workspaces()?;
    blocking(move || workspaces.list().map_err(workspace_error)).await
}

/// One workspace with its provisioning steps and their timings.
#[tauri::command]
#[specta::specta]
pub async fn get_workspace(state: Shared<'_>, id: String) -> Result<Workspace, ApiError> {
    let workspaces = state.workspaces()?;
    blocking(move || {
        let workspace = workspaces.get(&id).map_err(workspace_error)?;
        // Looking at a ready workspace is desktop contact: it restarts the idle clock.
        if workspace.state == Lifecycle::Ready {
            workspaces.touch(&workspace.id).map_err(workspace_error)?;
        }
        Ok(workspace)
    })
    .await
}

/// Records the workspace (`Requested`) and returns it at once; provisioning runs in the
/// background.
#[tauri::command]
#[specta::specta]
pub async fn create_workspace(
    app: tauri::AppHandle,
    state: Shared<'_>,
    spec: WorkspaceSpec,
) -> Result<Workspace, ApiError> {
    let workspaces = state.workspaces()?;
    let vault = state.vault()?;
    let repo = spec.repo.clone();
    let claimed = {
        let workspaces = Arc::clone(&workspaces);
        blocking(move || workspaces.claim(spec).map_err(workspace_error)).await?
    };
    let id = claimed.id.clone();
    state.workspace_tasks.start(&claimed.id, async move {
        let token = git_token(vault, repo).await;
        // The outcome, a failure included, is on the record the UI polls (and a failure is
        // a notification).
        if workspaces.provision_claimed(&id, token).await.is_err() {
            provisioning_failed(&app, &id);
        }
    })?;
    Ok(claimed)
}

/// Provisions a failed (or interrupted) workspace again, in the background. Returns once
/// provisioning has started, so the UI's next poll sees it running.
#[tauri::command]
#[specta::specta]
pub async fn retry_workspace(
    app: tauri::AppHandle,
    state: Shared<'_>,
    id: String,
) -> Result<Workspace, ApiError> {
    let workspaces = state.workspaces()?;
    let vault = state.vault()?;
    let current = {
        let workspaces = Arc::clone(&workspaces);
        let id = id.clone();
        blocking(move || workspaces.get(&id).map_err(workspace_error)).await?
    };
    if current.state == Lifecycle::Deleted {
        return Err(ApiError::invalid_input(format!(
            "\"{}\" was deleted; create a new workspace instead.",
            current.spec.name
        )));
    }
    let task = Arc::clone(&workspaces);
    let task_id = current.id.clone();
    let repo = current.spec.repo.clone();
    state.workspace_tasks.start(&current.id, async move {
        let token = git_token(vault, repo).await;
        if task.retry(&task_id, token).await.is_err() {
            provisioning_failed(&app, &task_id);
        }
    })?;
    wait_until_started(&state, &workspaces, &current.id).await
}

/// Deletes a workspace, cancelling its provisioning first if it is still running. A cloud
/// workspace's server is deleted; the chat history stays either way.
#[tauri::command]
#[specta::specta]
pub async fn delete_workspace(state: Shared<'_>, id: String) -> Result<Workspace, ApiError> {
    delete_now(&state, &id).await
}

/// Deletes a workspace (see [`delete_workspace`]); also what "delete them and quit" does.
pub async fn delete_now(state: &AppState, id: &str) -> Result<Workspace, ApiError> {
    let workspaces = state.workspaces()?;
    if let Some(running) = state.workspace_tasks.cancel(id) {
        // Cancelled at its next await; every step is safe to interrupt and delete finds
        // whatever the step had made (servers by their labels).
        let _ = running.await;
    }
    workspaces.delete(id).await.map_err(workspace_error)
}

/// A place cloud servers can be created, for the location picker.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CloudLocation {
    /// The provider's id (`fsn1`, `fr-par-1`).
    pub id: String,
    /// A human name ("Falkenstein DC Park 1").
    pub description: String,
    /// ISO 3166 country code.
    pub country: String,
    pub city: String,
}

/// A server size sold in one location, with its price there, for the size picker.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CloudSize {
    /// The provider's name (`cx33`, `DEV1-M`): what `WorkspaceSpec::size` takes.
    pub id: String,
    pub vcpus: u32,
    pub memory_mib: u32,
    pub disk_gb: u32,
    /// `x86_64` or `arm64`.
    pub arch: String,
    /// ISO 4217 currency of the prices.
    pub currency: String,
    /// Per hour in this location, before VAT.
    pub hourly: f64,
    /// Per month (the provider's cap) in this location, before VAT.
    pub monthly: f64,
    /// In stock there, as far as the provider says.
    pub available: bool,
    /// `small`, `medium` or `large` when this is the size SAM picks for that preset here.
    pub preset: Option<String>,
}

/// The provider's locations (Hetzner) or zones (Scaleway).
#[tauri::command]
#[specta::specta]
pub async fn cloud_locations(
    state: Shared<'_>,
    provider: Provider,
) -> Result<Vec<CloudLocation>, ApiError> {
    let cloud = connect_cloud(&state, provider).await?;
    let locations = cloud.locations().await.map_err(cloud_error)?;
    Ok(locations
        .into_iter()
        .map(|l| CloudLocation {
            id: l.id,
            description: l.description,
            country: l.country,
            city: l.city,
        })
        .collect())
}

/// The current sizes sold in `location`, cheapest first, with live prices.
#[tauri::command]
#[specta::specta]
pub async fn cloud_sizes(
    state: Shared<'_>,
    provider: Provider,
    location: String,
) -> Result<Vec<CloudSize>, ApiError> {
    let cloud = connect_cloud(&state, provider).await?;
    let sizes = cloud.sizes(Some(&location)).await.map_err(cloud_error)?;
    Ok(sizes_in(cloud.kind(), &location, &sizes))
}

/// The current sizes sold in `location` with their price there, cheapest first, each marked
/// with the preset it is SAM's choice for (presets resolve for x86-64, as provisioning does).
fn sizes_in(kind: ProviderKind, location: &str, sizes: &[Size]) -> Vec<CloudSize> {
    let presets: Vec<(&str, &'static str)> = SizePreset::ALL
        .into_iter()
        .filter_map(|preset| {
            preset
                .resolve(kind, Arch::X86_64, location, sizes)
                .map(|size| (size.id.as_str(), preset.as_str()))
        })
        .collect();
    let mut view: Vec<CloudSize> = sizes
        .iter()
        .filter(|size| !size.deprecated)
        .filter_map(|size| {
            let price = size.price_in(location)?;
            Some(CloudSize {
                id: size.id.clone(),
                vcpus: size.vcpus,
                memory_mib: u32::try_from(size.memory_mib).unwrap_or(u32::MAX),
                disk_gb: u32::try_from(size.disk_gb).unwrap_or(u32::MAX),
                arch: size.arch.as_str().to_owned(),
                currency: size.currency.clone(),
                hourly: price.hourly,
                monthly: price.monthly,
                available: price.available,
                preset: presets
                    .iter()
                    .find(|(id, _)| *id == size.id)
                    .map(|(_, preset)| (*preset).to_owned()),
            })
        })
        .collect();
    view.sort_by(|a, b| a.hourly.total_cmp(&b.hourly).then_with(|| a.id.cmp(&b.id)));
    view
}

/// Workspace provisioning and deletion running in this process, by workspace id. Only one
/// task per workspace runs at a time, and a delete cancels a running provisioning first so
/// that it cannot write its outcome over the deletion.
#[derive(Default)]
pub struct WorkspaceTasks {
    running: Mutex<HashMap<String, JoinHandle<()>>>,
}

impl std::fmt::Debug for WorkspaceTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkspaceTasks").finish_non_exhaustive()
    }
}

impl WorkspaceTasks {
    fn start(
        &self,
        id: &str,
        work: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ApiError> {
        let mut running = self.lock();
        running.retain(|_, task| !task.inner().is_finished());
        if running.contains_key(id) {
            return Err(ApiError::invalid_input(
                "This workspace is being set up already; wait until it is ready or has failed.",
            ));
        }
        running.insert(id.to_owned(), tauri::async_runtime::spawn(work));
        Ok(())
    }

    fn is_running(&self, id: &str) -> bool {
        self.lock()
            .get(id)
            .is_some_and(|task| !task.inner().is_finished())
    }

    /// Aborts the workspace's task, if one runs; the caller awaits the handle to be sure it
    /// stopped.
    fn cancel(&self, id: &str) -> Option<JoinHandle<()>> {
        let task = self.lock().remove(id)?;
        task.abort();
        Some(task)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, JoinHandle<()>>> {
        // A panic while holding this lock cannot leave the map inconsistent (each operation
        // is one insert or remove), so a poisoned lock is still usable.
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Waits (briefly) until a retried workspace has left `Failed`, then returns it as it is.
async fn wait_until_started(
    state: &AppState,
    workspaces: &Arc<Workspaces>,
    id: &str,
) -> Result<Workspace, ApiError> {
    const POLL: Duration = Duration::from_millis(10);
    const PATIENCE: Duration = Duration::from_secs(2);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let current = {
            let workspaces = Arc::clone(workspaces);
            let id = id.to_owned();
            blocking(move || workspaces.get(&id).map_err(workspace_error)).await?
        };
        let started = current.state != Lifecycle::Failed;
        if started
            || !state.workspace_tasks.is_running(id)
            || tokio::time::Instant::now() >= deadline
        {
            return Ok(current);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The GitHub token from the vault for `https://github.com/` repositories, as the CLI does: it
/// reaches git through the host's askpass only. None when there is no token (public clones).
async fn git_token(vault: Arc<Vault>, repo: Repo) -> Option<sam_protocol::Secret> {
    let Repo::Url { url } = repo else {
        return None;
    };
    if !url.trim().starts_with("https://github.com/") {
        return None;
    }
    blocking(move || {
        Ok(vault
            .resolve(CredentialKind::GithubToken, None, None)
            .ok()
            .map(|m| sam_protocol::Secret::new(m.secret.expose().clone())))
    })
    .await
    .ok()
    .flatten()
}

/// A client for `provider` with the vault's active credential for it.
async fn connect_cloud(
    state: &AppState,
    provider: Provider,
) -> Result<Box<dyn CloudProvider>, ApiError> {
    let (kind, credential) = match provider {
        Provider::Hetzner => (ProviderKind::Hetzner, CredentialKind::HetznerToken),
        Provider::Scaleway => (ProviderKind::Scaleway, CredentialKind::ScalewayKeys),
        Provider::Local => {
            return Err(ApiError::invalid_input(
                "This computer has no cloud locations or sizes; pick Hetzner or Scaleway.",
            ));
        }
    };
    let vault = state.vault()?;
    // Reading the keyring and building the HTTP client (TLS roots) both block.
    blocking(move || {
        let material = vault.resolve(credential, None, None).map_err(vault_error)?;
        let endpoints = sam_checks::Endpoints::from_env()
            .map_err(|e| ApiError::invalid_input(e.to_string()))?;
        sam_cloud::connect(&material, &endpoints, Timing::default()).map_err(|e| match e {
            ConnectError::Cloud(error) => cloud_error(error),
            other => ApiError::invalid_input(format!("{kind}: {other}")),
        })
    })
    .await
}

/// Builds the app's workspaces over the database and the vault. Cloud workspaces are off (and
/// say so when used) only when a provider endpoint override is not a usable URL.
///
/// Workspaces a previous run left half-way (it quit while setting one up or deleting it) have
/// no task behind them any more: they are marked failed first, before any command can run, so
/// the UI offers Retry and Delete instead of a progress bar that never moves.
pub fn open(store: &Arc<Store>, vault: &Arc<Vault>, paths: &AppPaths) -> Workspaces {
    let workspaces = Workspaces::new(
        Arc::clone(store),
        &paths.data_dir,
        Workspaces::locate_host_binary(),
    );
    if let Err(error) = workspaces.recover_interrupted() {
        tracing::warn!(%error, "could not look for interrupted workspaces");
    }
    match VaultRemote::new(Arc::clone(vault)) {
        Ok(remote) => workspaces.with_remote(Arc::new(remote)),
        Err(error) => {
            tracing::error!(%error, "cloud workspaces are off");
            workspaces
        }
    }
}

/// Maps workspace errors to the IPC error shape.
pub fn workspace_error(error: WorkspaceError) -> ApiError {
    let code = match &error {
        WorkspaceError::InvalidInput(_) => ErrorCode::InvalidInput,
        WorkspaceError::NotFound(_) => ErrorCode::NotFound,
        WorkspaceError::Store(_) => ErrorCode::Database,
        WorkspaceError::Io { .. } => ErrorCode::Io,
        WorkspaceError::HostBinaryMissing(_)
        | WorkspaceError::Host(_)
        | WorkspaceError::SetupFailed(_)
        | WorkspaceError::Cloud(_)
        | WorkspaceError::Ssh(_) => ErrorCode::Unavailable,
    };
    let error = ApiError::new(code, error.to_string());
    if matches!(
        error.code,
        ErrorCode::Database | ErrorCode::Io | ErrorCode::Internal
    ) {
        tracing::warn!(message = %error.message, "workspace operation failed");
    }
    error
}

fn cloud_error(error: CloudError) -> ApiError {
    tracing::warn!(%error, "cloud catalogue request failed");
    ApiError::unavailable(error.to_string())
}

/// How often the cost policy runs.
const POLICY_INTERVAL: Duration = Duration::from_secs(60);

/// Every how many policy runs the clouds are reconciled (every 15 min, and at start).
const RECONCILE_EVERY: u32 = 15;

/// The settings key: "on" deletes orphaned servers as soon as a reconcile finds them.
const RECONCILE_DELETE_SETTING: &str = "reconcile_delete";

/// What the last reconcile found, for the app's "servers without a workspace" view.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Orphans {
    /// The report; `None` before the first reconcile finished.
    pub report: Option<ReconcileReport>,
    /// When it ran (UNIX seconds).
    #[specta(type = Option<f64>)]
    pub checked_at: Option<i64>,
    /// Whether orphaned servers are deleted without asking.
    pub delete_automatically: bool,
}

/// The last reconcile's report, kept for the UI.
#[derive(Debug, Default)]
pub struct OrphanWatch(Mutex<Option<(ReconcileReport, i64)>>);

impl OrphanWatch {
    fn snapshot(&self, delete_automatically: bool) -> Orphans {
        let last = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        Orphans {
            checked_at: last.as_ref().map(|(_, at)| *at),
            report: last.map(|(report, _)| report),
            delete_automatically,
        }
    }

    fn set(&self, report: ReconcileReport) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((report, sam_core::clock::unix_now()));
    }
}

fn delete_automatically(state: &AppState) -> bool {
    state
        .store()
        .ok()
        .and_then(|store| store.setting(RECONCILE_DELETE_SETTING).ok().flatten())
        .is_some_and(|value| value == "on")
}

/// Reconciles now (deleting when the setting says so), keeps the report, and tells the
/// attention hub which orphans remain.
async fn reconcile_now(
    app: &tauri::AppHandle,
    state: &AppState,
    delete: bool,
) -> Result<ReconcileReport, ApiError> {
    use tauri::Manager as _;
    let workspaces = state.workspaces()?;
    let report = workspaces
        .reconcile(delete)
        .await
        .map_err(workspace_error)?;
    let remaining: Vec<String> = report
        .orphans
        .iter()
        .filter(|orphan| !orphan.deleted)
        .map(|orphan| orphan.server_id.clone())
        .collect();
    if let Some(watch) = app.try_state::<OrphanWatch>() {
        watch.set(report.clone());
    }
    if let Some(hub) = app.try_state::<Arc<crate::attention::Hub>>() {
        hub.feed(sam_attention::Input::OrphanedServers {
            server_ids: remaining,
        });
    }
    Ok(report)
}

/// This month's cloud spending against the optional monthly budget.
#[tauri::command]
#[specta::specta]
pub async fn budget_get(state: Shared<'_>) -> Result<BudgetStatus, ApiError> {
    let workspaces = state.workspaces()?;
    blocking(move || {
        workspaces
            .budget_status(sam_core::clock::unix_now())
            .map_err(workspace_error)
    })
    .await
}

/// Sets the monthly budget for cloud workspaces (null removes it). Once it is used up, new
/// cloud workspaces are refused; running ones keep going.
#[tauri::command]
#[specta::specta]
pub async fn budget_set(state: Shared<'_>, limit: Option<f64>) -> Result<BudgetStatus, ApiError> {
    let workspaces = state.workspaces()?;
    blocking(move || workspaces.set_budget_limit(limit).map_err(workspace_error)).await
}

/// The idle policy's thresholds for cloud workspaces (the defaults until changed).
#[tauri::command]
#[specta::specta]
pub async fn idle_policy_get(state: Shared<'_>) -> Result<IdlePolicy, ApiError> {
    let workspaces = state.workspaces()?;
    blocking(move || workspaces.idle_policy().map_err(workspace_error)).await
}

/// Saves the idle policy's thresholds; the policy applies them from its next run (within a
/// minute). Refused, with the reason, when a value is out of range or the warning would not
/// come before the deletion.
#[tauri::command]
#[specta::specta]
pub async fn idle_policy_set(
    state: Shared<'_>,
    thresholds: IdlePolicy,
) -> Result<IdlePolicy, ApiError> {
    let workspaces = state.workspaces()?;
    blocking(move || {
        workspaces
            .set_idle_policy(thresholds)
            .map_err(workspace_error)
    })
    .await
}

/// Opens the user's terminal for a ready workspace: a shell in a local checkout, or `ssh` to
/// a cloud workspace.
#[tauri::command]
#[specta::specta]
pub async fn workspace_open_terminal(
    state: Shared<'_>,
    id: String,
) -> Result<WorkspaceLaunch, ApiError> {
    state
        .workspaces()?
        .open_terminal(&id, sam_editor::Environment::from_process())
        .await
        .map_err(workspace_error)
}

/// Opens a ready workspace's folder in VS Code (a cloud one through Remote-SSH, once remote
/// editing is on; until then the answer says so and nothing starts).
#[tauri::command]
#[specta::specta]
pub async fn workspace_open_vscode(
    state: Shared<'_>,
    id: String,
) -> Result<WorkspaceLaunch, ApiError> {
    state
        .workspaces()?
        .open_in_vscode(&id, sam_editor::Environment::from_process())
        .await
        .map_err(workspace_error)
}

/// The thresholds of the monthly budget that notify (each once a month).
const BUDGET_THRESHOLDS: [u32; 3] = [50, 80, 100];

/// Tells the attention hub about the highest budget threshold this month's spending crossed.
fn check_budget(app: &tauri::AppHandle, workspaces: &Workspaces) {
    use tauri::Manager as _;
    let now = sam_core::clock::unix_now();
    let Ok(status) = workspaces.budget_status(now) else {
        return;
    };
    let (Some(limit), Some(percent)) = (status.limit, status.percent) else {
        return;
    };
    let Some(&crossed) = BUDGET_THRESHOLDS.iter().rev().find(|&&t| percent >= t) else {
        return;
    };
    let money = |amount: f64| match status.currency.as_str() {
        "EUR" => format!("€{amount:.2}"),
        "USD" => format!("${amount:.2}"),
        other => format!("{amount:.2} {other}"),
    };
    let month = time_month(now);
    if let Some(hub) = app.try_state::<Arc<crate::attention::Hub>>() {
        hub.feed(sam_attention::Input::MonthlyBudgetCrossed {
            percent: crossed,
            amount: money(status.spent),
            limit: money(limit),
            month,
        });
    }
}

/// `YYYY-MM` of a UNIX time (UTC), computed from days since the epoch (civil-from-days,
/// H. Hinnant's algorithm): one small function rather than a date crate in the shell.
fn time_month(now: i64) -> String {
    let days = now.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}")
}

/// What the last reconcile found (servers SAM made that no workspace owns).
#[tauri::command]
#[specta::specta]
pub async fn orphans_get(app: tauri::AppHandle, state: Shared<'_>) -> Result<Orphans, ApiError> {
    use tauri::Manager as _;
    let auto = delete_automatically(&state);
    Ok(app
        .try_state::<OrphanWatch>()
        .map(|watch| watch.snapshot(auto))
        .unwrap_or(Orphans {
            report: None,
            checked_at: None,
            delete_automatically: auto,
        }))
}

/// Looks again now (`delete_them`: and deletes every orphaned server), and optionally changes
/// whether later reconciles delete without asking.
#[tauri::command]
#[specta::specta]
pub async fn orphans_reconcile(
    app: tauri::AppHandle,
    state: Shared<'_>,
    delete_them: bool,
    delete_automatically: Option<bool>,
) -> Result<Orphans, ApiError> {
    if let Some(auto) = delete_automatically {
        state
            .store()?
            .set_setting(RECONCILE_DELETE_SETTING, if auto { "on" } else { "off" })
            .map_err(|e| ApiError::new(ErrorCode::Database, e.to_string()))?;
    }
    reconcile_now(&app, &state, delete_them).await?;
    orphans_get(app, state).await
}

/// Runs the cost policy every minute for the life of the app, with the thresholds from the
/// settings: forgotten cloud workspaces are warned about, then deleted, and each event becomes
/// a notification.
pub fn start_policy_timer(app: &tauri::AppHandle, state: &Arc<AppState>) {
    let Ok(workspaces) = state.workspaces() else {
        return;
    };
    let app = app.clone();
    let state = Arc::clone(state);
    {
        use tauri::Manager as _;
        app.manage(OrphanWatch::default());
    }
    tauri::async_runtime::spawn(async move {
        let mut ticks = tokio::time::interval(POLICY_INTERVAL);
        let mut runs: u32 = 0;
        loop {
            ticks.tick().await;
            // The clouds are asked about this install's servers now and then: a server whose
            // record is gone keeps billing unseen otherwise.
            if runs.is_multiple_of(RECONCILE_EVERY) {
                let delete = delete_automatically(&state);
                if let Err(error) = reconcile_now(&app, &state, delete).await {
                    tracing::warn!(%error, "the cloud reconcile could not run");
                }
            }
            runs = runs.wrapping_add(1);
            if let Ok(workspaces) = state.workspaces() {
                check_budget(&app, &workspaces);
            }
            // Read every run, so a change in Settings applies from the next minute.
            let policy = match workspaces.policy() {
                Ok(policy) => policy,
                Err(error) => {
                    tracing::warn!(%error, "the idle policy could not be read; using the defaults");
                    sam_workspace::Policy::default()
                }
            };
            let now = sam_core::clock::unix_now();
            match workspaces.enforce(&policy, now).await {
                Ok(events) => {
                    for event in events {
                        notify_policy_event(&app, &event);
                    }
                }
                Err(error) => tracing::warn!(%error, "the workspace cost policy could not run"),
            }
        }
    });
}

fn notify_policy_event(app: &tauri::AppHandle, event: &sam_workspace::PolicyEvent) {
    use tauri::Manager as _;
    if let Some(hub) = app.try_state::<Arc<crate::attention::Hub>>() {
        hub.policy_event(event);
    }
}

/// Tells the attention hub that setting a workspace up failed (a priority notification).
fn provisioning_failed(app: &tauri::AppHandle, workspace_id: &str) {
    use tauri::Manager as _;
    if let Some(hub) = app.try_state::<Arc<crate::attention::Hub>>() {
        hub.feed(sam_attention::Input::ProvisioningFailed {
            workspace_id: workspace_id.to_owned(),
            step: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use sam_cloud::Price;

    use super::*;

    fn size(id: &str, hourly: f64, prices_in: &[(&str, bool)], deprecated: bool) -> Size {
        Size {
            id: id.to_owned(),
            vcpus: 4,
            memory_mib: 8192,
            disk_gb: 80,
            arch: Arch::X86_64,
            currency: "EUR".to_owned(),
            prices: prices_in
                .iter()
                .map(|(location, available)| Price {
                    location: (*location).to_owned(),
                    hourly,
                    monthly: hourly * 600.0,
                    available: *available,
                })
                .collect(),
            deprecated,
        }
    }

    #[test]
    fn sizes_are_those_sold_here_cheapest_first_with_their_presets() {
        let sizes = [
            size("cx43", 0.02, &[("fsn1", true)], false),
            size("cx33", 0.01, &[("fsn1", true), ("hel1", true)], false),
            size("cx23", 0.006, &[("fsn1", true)], false),
            size("cx32", 0.009, &[("fsn1", true)], true),
            size("cpx62", 0.1, &[("hel1", true)], false),
        ];
        let view = sizes_in(ProviderKind::Hetzner, "fsn1", &sizes);
        let summary: Vec<(&str, Option<&str>)> = view
            .iter()
            .map(|s| (s.id.as_str(), s.preset.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("cx23", Some("small")),
                ("cx33", Some("medium")),
                ("cx43", Some("large")),
            ]
        );
        let medium = &view[1];
        assert_eq!(
            (medium.vcpus, medium.memory_mib, medium.disk_gb),
            (4, 8192, 80)
        );
        assert_eq!((medium.hourly, medium.monthly), (0.01, 6.0));
        assert_eq!(medium.currency, "EUR");
        assert_eq!(medium.arch, "x86_64");
    }

    #[test]
    fn a_size_out_of_stock_is_listed_but_is_no_preset() {
        let sizes = [
            size("cx33", 0.01, &[("fsn1", false)], false),
            size("cpx32", 0.012, &[("fsn1", true)], false),
        ];
        let view = sizes_in(ProviderKind::Hetzner, "fsn1", &sizes);
        assert_eq!(view[0].id, "cx33");
        assert!(!view[0].available);
        assert_eq!(view[0].preset, None);
        assert_eq!(view[1].preset.as_deref(), Some("medium"));
    }

    #[test]
    fn months_are_named_in_utc() {
        assert_eq!(time_month(0), "1970-01");
        assert_eq!(time_month(1_795_788_000), "2026-11"); // 2026-11-27 14:00 UTC
        assert_eq!(time_month(1_793_491_199), "2026-10"); // a second before November
        assert_eq!(time_month(951_782_400), "2000-02"); // 2000-02-29 (leap day)
    }

    #[test]
    fn one_task_runs_per_workspace_and_cancelling_stops_it() {
        tauri::async_runtime::block_on(async {
            let tasks = WorkspaceTasks::default();
            let (_keep, waiting) = tokio::sync::oneshot::channel::<()>();
            tasks
                .start("w1", async move {
                    let _ = waiting.await;
                })
                .unwrap();
            assert!(tasks.is_running("w1"));
            let refused = tasks.start("w1", async {}).unwrap_err();
            assert_eq!(refused.code, ErrorCode::InvalidInput);
            tasks.start("w2", async {}).unwrap();

            let running = tasks.cancel("w1").unwrap();
            assert!(running.await.is_err(), "the task was aborted");
            assert!(!tasks.is_running("w1"));
            assert!(tasks.cancel("w1").is_none());
            // Once stopped, the workspace can be started again.
            tasks.start("w1", async {}).unwrap();
        });
    }
}

//! Workspaces: where an agent works. This crate owns the workspace records (claimed in SQLite
//! before anything else happens), their lifecycle, the per-step timings of provisioning, and
//! the local default: a folder on this computer with its own `sam-host` daemon, started
//! detached so it survives an app restart. Remote workspaces (a cloud VM reached over SSH)
//! build on the same records and the same host protocol.
//!
//! This crate never imports `tauri`; the app and the CLI call the same [`Workspaces`].

mod budget;
mod changes;
mod error;
mod files;
mod host_link;
mod model;
mod open_workspace;
mod policy;
mod reconcile;
mod remote;
mod remote_editing;
mod vault_remote;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use sam_protocol::{RepoSource, RequestBody, ResponseBody, Secret, SetupPlan};
use sam_store::{Store, WorkspaceKind, WorkspaceRow};
use serde::{Deserialize, Serialize};

pub use budget::BudgetStatus;
pub use changes::{RevertError, ShipError, ShipFlowError, ShipOptions, ShipReport};
pub use error::WorkspaceError;
pub use files::{OpenHow, OpenedFile, QUICK_VIEW_BYTES, QuickViewFile, parse_location};
pub use host_link::HostLink;
pub use model::{Cost, Lifecycle, Provider, Repo, StepTiming, Workspace, WorkspaceSpec};
pub use open_workspace::WorkspaceLaunch;
pub use policy::{IdlePolicy, Policy, PolicyEvent};
pub use reconcile::{Orphan, ReconcileReport};
pub use remote::{RemoteFactory, RemoteSetup, SshSettings};
pub use remote_editing::RemoteEditing;
pub use vault_remote::{DEFAULT_WATCHDOG_MINUTES, VaultRemote};

/// Environment variable naming the `sam-host` binary, for installs that keep it elsewhere.
pub const HOST_BINARY_VAR: &str = "SAM_HOST_BINARY";

/// Step names, as stored and shown.
pub mod steps {
    /// Starting (or finding) the workspace's `sam-host` and shaking hands with it.
    pub const START_HOST: &str = "start_host";
    /// Cloning the repository, or checking the folder used in place.
    pub const CHECKOUT: &str = "checkout";
    /// Registering this install's SSH key with the cloud provider.
    pub const ENSURE_SSH_KEY: &str = "ensure_ssh_key";
    /// Creating the server (or finding the one an interrupted attempt made).
    pub const CREATE_SERVER: &str = "create_server";
    /// Waiting until the server runs with a public IPv4.
    pub const WAIT_FOR_IP: &str = "wait_for_ip";
    /// Waiting until SSH answers with the pinned host key.
    pub const WAIT_FOR_SSH: &str = "wait_for_ssh";
    /// Uploading `sam-host` (skipped when the same build is there).
    pub const UPLOAD_HOST: &str = "upload_host";
}

/// Where a workspace lives once placed: stored as JSON in the record's `server` column. A
/// remote workspace's server id is written the moment it is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
struct Placement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    server: Option<sam_cloud::ServerId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ipv4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    home: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checkout_dir: Option<PathBuf>,
    /// The server's price when it was created (live, from the provider's price list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    price: Option<Price>,
}

/// A server's price, in the provider's currency, before VAT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Price {
    currency: String,
    hourly: f64,
    monthly: f64,
}

/// What a command run in a workspace did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunOutput {
    /// Exit status (`128 + n` for a signal).
    pub status: i32,
    /// Standard output (at most 1 MiB).
    pub stdout: String,
    /// Whether `stdout` was cut.
    pub stdout_truncated: bool,
    /// The end of standard error.
    pub stderr_tail: String,
}

/// Every workspace operation, for the app and the CLI alike.
#[derive(Debug, Clone)]
pub struct Workspaces {
    store: Arc<Store>,
    root: PathBuf,
    host_binary: PathBuf,
    remote: Option<Arc<dyn RemoteFactory>>,
    /// Connections kept for the file requests (links, go to file), which come in bursts.
    links: files::Links,
    /// The user's ssh config and ssh-agent socket when not `~/.ssh/config` and
    /// `$SSH_AUTH_SOCK`'s (tests).
    user_ssh: Option<(PathBuf, Option<PathBuf>)>,
}

impl Workspaces {
    /// Workspaces recorded in `store`, with local workspaces' files under
    /// `<data_dir>/workspaces/<id>/`, using the `sam-host` program at `host_binary`.
    pub fn new(store: Arc<Store>, data_dir: &Path, host_binary: PathBuf) -> Self {
        Self {
            store,
            root: data_dir.join("workspaces"),
            host_binary,
            remote: None,
            links: files::Links::default(),
            user_ssh: None,
        }
    }

    /// Enables cloud workspaces, with credentials and keys from `factory`.
    #[must_use]
    pub fn with_remote(mut self, factory: Arc<dyn RemoteFactory>) -> Self {
        self.remote = Some(factory);
        self
    }

    fn remote_setup(&self, provider: Provider) -> Result<Option<RemoteSetup>, WorkspaceError> {
        let Some(kind) = remote::provider_kind(provider) else {
            return Ok(None);
        };
        let factory = self.remote.as_ref().ok_or_else(|| {
            WorkspaceError::InvalidInput(format!(
                "{kind} workspaces need a {kind} credential: add one in Settings → Credentials"
            ))
        })?;
        factory.remote(kind).map(Some)
    }

    /// The `sam-host` program: `$SAM_HOST_BINARY`, else the `sam-host` next to the running
    /// executable (where the app bundle and `cargo build` put it).
    pub fn locate_host_binary() -> PathBuf {
        if let Some(path) = std::env::var_os(HOST_BINARY_VAR).filter(|p| !p.is_empty()) {
            return PathBuf::from(path);
        }
        let name = format!("sam-host{}", std::env::consts::EXE_SUFFIX);
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(&name)))
            .unwrap_or_else(|| PathBuf::from(name))
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    fn state_dir(&self, id: &str) -> PathBuf {
        self.dir(id).join("host")
    }

    /// Creates a workspace and provisions it to `Ready`: [`Self::claim`], then
    /// [`Self::provision_claimed`]. A failure leaves a `Failed` workspace with its reason (and
    /// a retry), never nothing. `git_token` (a GitHub token from the vault) reaches git through
    /// the host only.
    ///
    /// # Errors
    /// Invalid input before anything is recorded; afterwards the failure is also on the record.
    pub async fn create(
        &self,
        spec: WorkspaceSpec,
        git_token: Option<Secret>,
    ) -> Result<Workspace, WorkspaceError> {
        let claimed = self.claim(spec)?;
        self.provision_claimed(&claimed.id, git_token).await
    }

    /// Checks `spec` and records the workspace as `Requested`, before anything else happens:
    /// the UI shows it at once and runs [`Self::provision_claimed`] in the background.
    ///
    /// # Errors
    /// Invalid input (nothing is recorded then), or the database.
    pub fn claim(&self, spec: WorkspaceSpec) -> Result<Workspace, WorkspaceError> {
        let spec = self.check_spec(spec)?;
        self.check_budget(spec.provider)?;
        let id = new_id();
        let now = unix_now();
        let spec_json = serde_json::to_string(&spec)
            .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))?;
        self.store.insert_workspace(&WorkspaceRow {
            id: id.clone(),
            name: spec.name.clone(),
            kind: match spec.provider {
                Provider::Local => WorkspaceKind::Local,
                Provider::Hetzner | Provider::Scaleway => WorkspaceKind::Remote,
            },
            provider: spec.provider.as_str().to_owned(),
            state: Lifecycle::Requested.as_str().to_owned(),
            spec: spec_json,
            server: None,
            host_key: None,
            failure: None,
            created_at: now,
            updated_at: now,
        })?;
        tracing::info!(workspace = %id, provider = spec.provider.as_str(), "workspace claimed");
        self.get(&id)
    }

    /// Provisions a claimed workspace to `Ready`.
    ///
    /// # Errors
    /// When the workspace does not exist, or a step fails (the reason is also recorded).
    pub async fn provision_claimed(
        &self,
        id: &str,
        git_token: Option<Secret>,
    ) -> Result<Workspace, WorkspaceError> {
        let row = self.row(id)?;
        let spec = spec_of(&row)?;
        self.provision(&row.id, &spec, git_token).await
    }

    /// Runs provisioning again for a workspace that failed or was interrupted (an app that quit
    /// mid-way). Every step is safe to repeat.
    ///
    /// # Errors
    /// When the workspace does not exist or is deleted, or provisioning fails again.
    pub async fn retry(
        &self,
        id_or_name: &str,
        git_token: Option<Secret>,
    ) -> Result<Workspace, WorkspaceError> {
        let row = self.row(id_or_name)?;
        if Lifecycle::parse(&row.state) == Lifecycle::Deleted {
            return Err(WorkspaceError::InvalidInput(format!(
                "\"{}\" was deleted; create a new workspace instead",
                row.name
            )));
        }
        let spec = spec_of(&row)?;
        self.provision(&row.id, &spec, git_token).await
    }

    async fn provision(
        &self,
        id: &str,
        spec: &WorkspaceSpec,
        git_token: Option<Secret>,
    ) -> Result<Workspace, WorkspaceError> {
        self.store
            .set_workspace_state(id, Lifecycle::Provisioning.as_str(), None, unix_now())?;
        let outcome = match self.remote_setup(spec.provider) {
            Ok(None) => self
                .provision_local(id, spec, git_token)
                .await
                .and_then(|placement| {
                    let json = serde_json::to_string(&placement)
                        .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))?;
                    self.store
                        .set_workspace_server(id, Some(&json), unix_now())?;
                    Ok(())
                }),
            Ok(Some(setup)) => self
                .provision_remote(id, spec, git_token, &setup)
                .await
                .map(|_| ()),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(()) => {
                self.store
                    .set_workspace_state(id, Lifecycle::Ready.as_str(), None, unix_now())?;
                tracing::info!(workspace = %id, "workspace ready");
                self.get(id)
            }
            Err(error) => {
                let reason = error.to_string();
                self.store.set_workspace_state(
                    id,
                    Lifecycle::Failed.as_str(),
                    Some(&reason),
                    unix_now(),
                )?;
                tracing::warn!(workspace = %id, %reason, "workspace provisioning failed");
                Err(error)
            }
        }
    }

    async fn provision_local(
        &self,
        id: &str,
        spec: &WorkspaceSpec,
        git_token: Option<Secret>,
    ) -> Result<Placement, WorkspaceError> {
        let link = self
            .step(
                id,
                steps::START_HOST,
                HostLink::local(&self.host_binary, &self.state_dir(id)),
            )
            .await?;
        let repository = match &spec.repo {
            Repo::Url { url } => RepoSource::GitUrl {
                url: url.clone(),
                branch: spec.branch.clone(),
            },
            Repo::Folder { path } => RepoSource::LocalPath {
                path: path.to_string_lossy().into_owned(),
            },
        };
        let plan = SetupPlan {
            workspace_id: id.to_owned(),
            repository,
            checkout_dir: self.dir(id).join("checkout").to_string_lossy().into_owned(),
            git_token,
        };
        let setup = async {
            match link.request(RequestBody::Setup(plan)).await {
                Ok(ResponseBody::SetupReady { checkout_dir }) => Ok(PathBuf::from(checkout_dir)),
                Ok(other) => Err(WorkspaceError::Host(format!(
                    "unexpected answer to setup: {other:?}"
                ))),
                Err(sam_protocol::client::ClientError::Host(error)) => {
                    Err(WorkspaceError::SetupFailed(error.message))
                }
                Err(other) => Err(WorkspaceError::Host(other.to_string())),
            }
        };
        let checkout_dir = self.step(id, steps::CHECKOUT, setup).await?;
        Ok(Placement {
            checkout_dir: Some(checkout_dir),
            ..Placement::default()
        })
    }

    /// Runs one step, recording its start, end and outcome.
    async fn step<T>(
        &self,
        id: &str,
        step: &str,
        work: impl Future<Output = Result<T, WorkspaceError>>,
    ) -> Result<T, WorkspaceError> {
        let started = Instant::now();
        self.store.step_started(id, step, unix_now_ms())?;
        let outcome = work.await;
        let finished = unix_now_ms();
        let detail = outcome.as_ref().err().map(ToString::to_string);
        self.store
            .step_finished(id, step, outcome.is_ok(), finished, detail.as_deref())?;
        tracing::info!(workspace = %id, step, millis = started.elapsed().as_millis() as u64, ok = outcome.is_ok(), "provisioning step");
        outcome
    }

    /// Connects to a ready workspace's host: a local one's daemon (started again if it
    /// stopped, e.g. after a reboot), or a cloud one's over SSH with its pinned host key.
    ///
    /// # Errors
    /// When the workspace does not exist or is not ready, or its host does not answer.
    pub async fn attach(&self, id_or_name: &str) -> Result<HostLink, WorkspaceError> {
        let row = self.row(id_or_name)?;
        let spec = spec_of(&row)?;
        if Lifecycle::parse(&row.state) != Lifecycle::Ready {
            return Err(WorkspaceError::InvalidInput(format!(
                "\"{}\" is {}, not ready",
                row.name, row.state
            )));
        }
        match self.remote_setup(spec.provider)? {
            None => HostLink::local(&self.host_binary, &self.state_dir(&row.id)).await,
            Some(setup) => self.attach_remote(&row, &setup).await,
        }
    }

    /// Runs `argv` (no shell) in a ready workspace's checkout, or inside its dev container,
    /// and returns the exit status and output.
    ///
    /// # Errors
    /// When the workspace cannot be attached or its host refuses the command.
    pub async fn run(
        &self,
        id_or_name: &str,
        argv: Vec<String>,
        in_container: bool,
        timeout: std::time::Duration,
    ) -> Result<RunOutput, WorkspaceError> {
        let link = self.attach(id_or_name).await?;
        let request = RequestBody::Run {
            argv,
            in_container,
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        };
        match link.request(request).await {
            Ok(ResponseBody::Ran {
                status,
                stdout,
                stdout_truncated,
                stderr_tail,
            }) => Ok(RunOutput {
                status,
                stdout,
                stdout_truncated,
                stderr_tail,
            }),
            Ok(other) => Err(WorkspaceError::Host(format!(
                "unexpected answer to run: {other:?}"
            ))),
            Err(sam_protocol::client::ClientError::Host(error)) => {
                Err(WorkspaceError::InvalidInput(error.message))
            }
            Err(other) => Err(WorkspaceError::Host(other.to_string())),
        }
    }

    /// Every workspace, newest first (deleted ones included, for their chat history).
    ///
    /// # Errors
    /// When the database cannot be read or a record is unreadable.
    pub fn list(&self) -> Result<Vec<Workspace>, WorkspaceError> {
        self.store
            .workspace_rows()?
            .iter()
            .map(|row| self.workspace_of(row))
            .collect()
    }

    /// One workspace by id or name.
    ///
    /// # Errors
    /// When there is none.
    pub fn get(&self, id_or_name: &str) -> Result<Workspace, WorkspaceError> {
        self.workspace_of(&self.row(id_or_name)?)
    }

    /// Deletes a workspace: stops its host, removes what SAM made for it (a clone; never a
    /// folder used in place), and keeps the record as `Deleted` so its chat history stays.
    /// Deleting a deleted workspace is success.
    ///
    /// # Errors
    /// When there is no such workspace or its files cannot be removed.
    pub async fn delete(&self, id_or_name: &str) -> Result<Workspace, WorkspaceError> {
        let row = self.row(id_or_name)?;
        self.links.forget(&row.id);
        if Lifecycle::parse(&row.state) == Lifecycle::Deleted {
            return self.workspace_of(&row);
        }
        let spec = spec_of(&row)?;
        let setup = match self.remote_setup(spec.provider) {
            Ok(setup) => setup,
            // Without a credential nothing at the provider can be deleted; when no server was
            // ever recorded (a create that failed early) the record alone goes. A server an
            // interrupted create made anyway is then an orphan the reconcile finds.
            Err(error) if row.server.is_none() => {
                tracing::info!(workspace = %row.id, %error, "no usable credential and no server recorded: deleting the record only");
                None
            }
            Err(error) => return Err(error),
        };
        self.store
            .set_workspace_state(&row.id, Lifecycle::Stopping.as_str(), None, unix_now())?;
        match &setup {
            // The server goes first: it is what costs money.
            Some(setup) => {
                if let Err(error) = self.delete_remote(&row.id, setup).await {
                    let reason = format!("deleting the server failed: {error}");
                    self.store.set_workspace_state(
                        &row.id,
                        Lifecycle::Failed.as_str(),
                        Some(&reason),
                        unix_now(),
                    )?;
                    return Err(error);
                }
            }
            None => {
                if let Err(error) = self.stop_host(&row.id).await {
                    self.store.set_workspace_state(
                        &row.id,
                        Lifecycle::Failed.as_str(),
                        Some(&error.to_string()),
                        unix_now(),
                    )?;
                    return Err(error);
                }
            }
        }
        let dir = self.dir(&row.id);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(WorkspaceError::io(format!(
                "Could not remove {}",
                dir.display()
            )))?;
        }
        self.store
            .set_workspace_state(&row.id, Lifecycle::Deleted.as_str(), None, unix_now())?;
        tracing::info!(workspace = %row.id, "workspace deleted");
        self.get(&row.id)
    }

    /// Has a local workspace's daemon remove the dev container it brought up (only that one),
    /// then asks it for its pid and sends it SIGTERM. A daemon that is not running needs
    /// nothing; one that does not answer stops by itself once its socket is removed with the
    /// workspace's folder.
    ///
    /// # Errors
    /// When the container engine failed to remove the container (the workspace then stays,
    /// failed, and Delete can be asked again).
    async fn stop_host(&self, id: &str) -> Result<(), WorkspaceError> {
        let state_dir = self.state_dir(id);
        if !state_dir.join("host.sock").exists() {
            return Ok(());
        }
        let Ok(link) = HostLink::local(&self.host_binary, &state_dir).await else {
            return Ok(());
        };
        match link.request(RequestBody::RemoveContainer).await {
            Ok(ResponseBody::ContainerRemoved {
                container_id: Some(container),
            }) => {
                tracing::info!(workspace = %id, %container, "the workspace's dev container was removed");
            }
            Ok(_) => {}
            // A daemon from before this request (it survives app updates) answers that it does
            // not know it: the deletion goes on, and the warning below names the workspace.
            Err(sam_protocol::client::ClientError::Host(error))
                if error.code != sam_protocol::ErrorCode::InvalidRequest =>
            {
                return Err(WorkspaceError::Host(format!(
                    "its dev container could not be removed, so the workspace was kept: {}",
                    error.message
                )));
            }
            // An older daemon that does not know the request, or one that went away.
            Err(error) => {
                tracing::warn!(workspace = %id, %error, "could not ask the host to remove its container")
            }
        }
        // Only a real daemon's pid: never 0 or 1, which would signal a process group or init.
        if let Ok(ResponseBody::Status(status)) = link.request(RequestBody::Status).await
            && status.pid > 1
            && let Some(pid) = i32::try_from(status.pid)
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            && let Err(error) = rustix::process::kill_process(pid, rustix::process::Signal::TERM)
        {
            tracing::warn!(%error, "could not stop the workspace host");
        }
        Ok(())
    }

    fn row(&self, id_or_name: &str) -> Result<WorkspaceRow, WorkspaceError> {
        self.store
            .workspace(id_or_name)?
            .ok_or_else(|| WorkspaceError::NotFound(id_or_name.chars().take(80).collect()))
    }

    fn workspace_of(&self, row: &WorkspaceRow) -> Result<Workspace, WorkspaceError> {
        let spec = spec_of(row)?;
        let placement: Placement = row
            .server
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        let steps = self
            .store
            .steps(&row.id)?
            .into_iter()
            .map(|s| StepTiming {
                millis: s
                    .finished_at_ms
                    .and_then(|end| u64::try_from(end - s.started_at_ms).ok()),
                step: s.step,
                state: s.state,
                detail: s.detail,
            })
            .collect();
        Ok(Workspace {
            id: row.id.clone(),
            spec,
            state: Lifecycle::parse(&row.state),
            failure: row.failure.clone(),
            checkout_dir: placement.checkout_dir,
            address: placement.ipv4,
            cost: placement.price.map(|price| {
                // Both providers bill every started hour, up to the monthly cap, until the
                // server is deleted.
                let end = if Lifecycle::parse(&row.state) == Lifecycle::Deleted {
                    row.updated_at
                } else {
                    unix_now()
                };
                let hours = ((end - row.created_at).max(0) as f64 / 3600.0)
                    .ceil()
                    .max(1.0);
                Cost {
                    spent: (price.hourly * hours).min(price.monthly.max(price.hourly)),
                    currency: price.currency,
                    hourly: price.hourly,
                    monthly: price.monthly,
                }
            }),
            steps,
            created_at: row.created_at,
        })
    }

    fn check_spec(&self, mut spec: WorkspaceSpec) -> Result<WorkspaceSpec, WorkspaceError> {
        let name = spec.name.trim().to_owned();
        let valid = !name.is_empty()
            && name.len() <= 40
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        if !valid {
            return Err(WorkspaceError::InvalidInput(
                "A workspace name is 1 to 40 lower-case letters, digits or dashes, not starting or ending with a dash.".into(),
            ));
        }
        let taken = self
            .store
            .workspace_rows()?
            .into_iter()
            .any(|row| row.name == name && Lifecycle::parse(&row.state) != Lifecycle::Deleted);
        if taken {
            return Err(WorkspaceError::InvalidInput(format!(
                "A workspace named \"{name}\" already exists. Pick another name."
            )));
        }
        spec.name = name;
        if spec.provider == Provider::Local && (spec.size.is_some() || !spec.locations.is_empty()) {
            return Err(WorkspaceError::InvalidInput(
                "Size and location are for cloud workspaces; a local workspace runs on this computer.".into(),
            ));
        }
        match &mut spec.repo {
            Repo::Folder { path } => {
                if spec.provider != Provider::Local {
                    return Err(WorkspaceError::InvalidInput(
                        "A cloud workspace clones a repository URL; a folder on this computer can only be a local workspace.".into(),
                    ));
                }
                if !path.is_absolute() {
                    return Err(WorkspaceError::InvalidInput(
                        "The folder must be an absolute path.".into(),
                    ));
                }
                if !path.is_dir() {
                    return Err(WorkspaceError::InvalidInput(format!(
                        "There is no folder at {}.",
                        path.display()
                    )));
                }
                if spec.branch.is_some() {
                    return Err(WorkspaceError::InvalidInput(
                        "A folder is used as it is: switch its branch with git, not with --branch."
                            .into(),
                    ));
                }
            }
            Repo::Url { url } => {
                let trimmed = url.trim();
                let known_scheme = ["https://", "http://", "ssh://", "git://", "file://"]
                    .iter()
                    .any(|s| trimmed.starts_with(s))
                    || (trimmed.contains('@') && trimmed.contains(':'));
                if !known_scheme
                    || trimmed.starts_with('-')
                    || trimmed.chars().any(char::is_whitespace)
                {
                    return Err(WorkspaceError::InvalidInput(format!(
                        "\"{}\" is not a repository URL: use https://…, ssh://…, git@host:path or file://…, or a folder path.",
                        trimmed.chars().take(200).collect::<String>()
                    )));
                }
                *url = trimmed.to_owned();
            }
        }
        if let Some(branch) = &spec.branch
            && (branch.is_empty()
                || branch.starts_with('-')
                || branch.len() > 200
                || branch.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(WorkspaceError::InvalidInput(format!(
                "\"{}\" is not a branch name.",
                branch.chars().take(80).collect::<String>()
            )));
        }
        Ok(spec)
    }
}

fn spec_of(row: &WorkspaceRow) -> Result<WorkspaceSpec, WorkspaceError> {
    serde_json::from_str(&row.spec).map_err(|e| {
        WorkspaceError::InvalidInput(format!(
            "the record of workspace {} is unreadable ({e}); it was written by a newer SAM",
            row.id
        ))
    })
}

/// 16 hex characters: valid in cloud labels, file names and host journals.
fn new_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}

fn unix_now() -> i64 {
    unix_now_ms() / 1000
}

fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

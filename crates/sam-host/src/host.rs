//! The host's state machine: Unconfigured → SettingUp → Ready | Failed, the bounded queue of
//! requests waiting for Ready, and the request handlers (all but `Subscribe`, which belongs to
//! a connection).
//!
//! A setup is the checkout step (`clone` or `local_folder`), then, when the checkout has a dev
//! container configuration, the `devcontainer` step.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sam_protocol::{
    DevContainer, ErrorCode, EventBody, HostState, HostStatus, MAX_WAIT_CHANGES_MS, ProtocolError,
    RequestBody, ResponseBody, SetupPlan, TurnChanges, TurnReverted, step,
};
use tokio::sync::{oneshot, watch};

use crate::agents::{AgentSettings, Sessions, Workplace};
use crate::checkout::{self, GitRunner};
use crate::devcontainer::{self, ContainerSettings, UpOutcome};
use crate::file_index::WorkspaceFiles;
use crate::journal::{EventLog, JournalError, SetupPhase, SetupRecord, now_ms};
use crate::run::{self, Place};
use crate::watch::CheckoutWatch;

/// How many requests may wait for setup to end; one more fails at once with `queue_full`.
pub const MAX_QUEUED_REQUESTS: usize = 64;

/// What a ready workspace serves.
#[derive(Debug, Clone)]
struct Ready {
    /// The canonical checkout root.
    root: PathBuf,
    /// The dev container, when one was brought up.
    container: Option<DevContainer>,
    /// The commit the checkout was on when the setup finished.
    base_commit: Option<String>,
}

type ReadyResult = Result<Ready, ProtocolError>;

/// What the host needs besides its journal.
#[derive(Debug, Clone)]
pub(crate) struct HostConfig {
    /// This build's version, reported in the handshake, status and `HostStarted`.
    pub version: String,
    /// How git runs.
    pub git: GitRunner,
    /// The activity stamp `Touch` refreshes.
    pub activity_path: PathBuf,
    /// The daemon's state directory (the base container's generated configuration goes there).
    pub state_dir: PathBuf,
    /// How dev containers are brought up and entered.
    pub containers: ContainerSettings,
    /// How agents are installed, started and watched.
    pub agents: AgentSettings,
}

#[derive(Debug)]
struct Core {
    state: HostState,
    /// The current or last setup plan, without its token.
    plan: Option<SetupPlan>,
    /// The canonical checkout root while ready.
    root: Option<PathBuf>,
    /// The dev container while ready with one.
    container: Option<DevContainer>,
    /// The commit the checkout was on when the setup finished, while ready.
    base_commit: Option<String>,
    /// Requests waiting for the setup to end.
    waiters: Vec<oneshot::Sender<ReadyResult>>,
    /// The outcome of the running setup, for repeated `Setup` requests that join it.
    run: Option<watch::Receiver<Option<ReadyResult>>>,
}

/// The daemon's shared state.
#[derive(Debug)]
pub(crate) struct Host {
    log: EventLog,
    sessions: Sessions,
    files: WorkspaceFiles,
    /// The checkout's watcher, started by the first `WaitChanges`.
    watch: tokio::sync::OnceCell<Arc<CheckoutWatch>>,
    config: HostConfig,
    core: Mutex<Core>,
    stamp_counter: AtomicU64,
}

impl Host {
    /// Journals `HostStarted`, settles the agent sessions the last daemon was running (their
    /// agents stopped with it: closed, or suspended to resume when the agent can load
    /// sessions), restores the last setup's outcome from the journal and returns
    /// the host. A setup that was running when the last daemon stopped, or a ready checkout
    /// that has disappeared, becomes `Failed` (journaled as `SetupFailed`).
    pub(crate) async fn start(
        log: EventLog,
        config: HostConfig,
    ) -> Result<Arc<Self>, JournalError> {
        log.append(
            EventBody::HostStarted {
                version: config.version.clone(),
            },
            None,
        )
        .await?;
        let orphans = crate::agents::close_orphaned_sessions(&log).await?;
        if orphans.closed > 0 || !orphans.suspended.is_empty() {
            tracing::info!(
                closed = orphans.closed,
                suspended = orphans.suspended.len(),
                "settled the sessions the last daemon was running"
            );
        }
        let mut core = Core {
            state: HostState::Unconfigured,
            plan: None,
            root: None,
            container: None,
            base_commit: None,
            waiters: Vec::new(),
            run: None,
        };
        if let Some(record) = log.setup().await? {
            core.plan = Some(SetupPlan {
                workspace_id: record.workspace_id.clone(),
                repository: record.repository.clone(),
                checkout_dir: record.checkout_dir.clone(),
                git_token: None,
            });
            let lost = match (record.phase, &record.root) {
                (SetupPhase::Ready, Some(root)) if Path::new(root).is_dir() => {
                    // The container is not checked here: an `exec` into one that is gone
                    // reports the engine's error.
                    core.state = HostState::Ready;
                    core.root = Some(PathBuf::from(root));
                    core.container = record.container.clone();
                    core.base_commit = record.base_commit.clone();
                    None
                }
                (SetupPhase::Ready, root) => Some(format!(
                    "the checkout {} is gone. Run the setup again.",
                    root.as_deref().unwrap_or("(unknown)")
                )),
                (SetupPhase::Failed, _) => {
                    core.state = HostState::Failed {
                        reason: record.reason.clone().unwrap_or_default(),
                    };
                    None
                }
                (SetupPhase::SettingUp, _) => Some(
                    "the setup was interrupted because sam-host stopped. Run the setup again."
                        .to_owned(),
                ),
            };
            if let Some(reason) = lost {
                let failed = SetupRecord {
                    phase: SetupPhase::Failed,
                    root: None,
                    reason: Some(reason.clone()),
                    container: None,
                    base_commit: None,
                    ..record
                };
                log.append(
                    EventBody::SetupFailed {
                        reason: reason.clone(),
                    },
                    Some(failed),
                )
                .await?;
                core.state = HostState::Failed { reason };
            }
        }
        Ok(Arc::new(Self {
            sessions: Sessions::new(log.clone(), config.agents.clone(), orphans.suspended),
            files: WorkspaceFiles::from_env(),
            watch: tokio::sync::OnceCell::new(),
            log,
            config,
            core: Mutex::new(core),
            stamp_counter: AtomicU64::new(0),
        }))
    }

    /// The journal.
    pub(crate) fn log(&self) -> &EventLog {
        &self.log
    }

    /// This build's version.
    pub(crate) fn version(&self) -> &str {
        &self.config.version
    }

    /// The current state.
    pub(crate) fn state(&self) -> HostState {
        self.lock().state.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Core> {
        // Every critical section leaves `Core` consistent before anything can panic.
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers one request (`Subscribe` is the connection's business).
    pub(crate) async fn handle(
        self: &Arc<Self>,
        body: RequestBody,
    ) -> Result<ResponseBody, ProtocolError> {
        match body {
            RequestBody::Ping => Ok(ResponseBody::Pong),
            RequestBody::Status => self.status().await.map(ResponseBody::Status),
            RequestBody::Setup(plan) => self.setup(plan).await,
            RequestBody::ReadFile { path, max_bytes } => {
                let Ready { root, .. } = self.ready().await?;
                tokio::task::spawn_blocking(move || {
                    crate::files::read_file(&root, &path, max_bytes)
                })
                .await
                .map_err(|e| internal(format!("the file read failed: {e}")))?
                .map(ResponseBody::File)
            }
            RequestBody::Touch => self.touch().await,
            RequestBody::Run {
                argv,
                in_container,
                timeout_ms,
            } => self.run(argv, in_container, timeout_ms).await,
            RequestBody::StartSession(request) => {
                let ready = self.ready().await?;
                let place = Workplace {
                    root: ready.root,
                    container: ready.container,
                };
                self.sessions.start(request, place).await
            }
            RequestBody::Prompt { session, text } => {
                self.ready().await?;
                self.sessions.prompt(&session, text).await
            }
            RequestBody::ResumeSession { session, env } => {
                let ready = self.ready().await?;
                let place = Workplace {
                    root: ready.root,
                    container: ready.container,
                };
                self.sessions.resume(&session, env, place).await
            }
            RequestBody::Cancel { session } => self.sessions.cancel(&session).await,
            RequestBody::AnswerPermission {
                session,
                request,
                option_id,
                by,
            } => {
                self.sessions
                    .answer(&session, request, &option_id, &by)
                    .await
            }
            RequestBody::StopSession { session } => self.sessions.stop(&session).await,
            RequestBody::Sessions => Ok(self.sessions.list()),
            RequestBody::ResolvePaths { paths } => {
                crate::files::check_candidates(&paths)?;
                let Ready { root, .. } = self.ready().await?;
                tokio::task::spawn_blocking(move || crate::files::resolve_paths(&root, &paths))
                    .await
                    .map_err(|e| internal(format!("resolving the paths failed: {e}")))
                    .map(|paths| ResponseBody::ResolvedPaths { paths })
            }
            RequestBody::FindFiles { query, limit } => {
                let Ready { root, .. } = self.ready().await?;
                self.files
                    .find(&root, query, limit)
                    .await
                    .map(ResponseBody::FoundFiles)
            }
            RequestBody::Changes { base } => {
                let ready = self.ready().await?;
                crate::changes::changes(&ready.root, base.as_deref(), ready.base_commit.as_deref())
                    .await
                    .map(ResponseBody::Changes)
            }
            RequestBody::FileDiff {
                path,
                old_path,
                base: _,
                turn: Some(turn),
            } => {
                let ready = self.ready().await?;
                let (start, end) = self
                    .turn_trees(&ready.root, &turn.session, turn.prompt)
                    .await?;
                crate::changes::turn_file_diff(
                    &ready.root,
                    &path,
                    old_path.as_deref(),
                    &start,
                    &end,
                )
                .await
                .map(ResponseBody::FileDiff)
            }
            RequestBody::FileDiff {
                path,
                old_path,
                base,
                turn: None,
            } => {
                let ready = self.ready().await?;
                crate::changes::file_diff(
                    &ready.root,
                    &path,
                    old_path.as_deref(),
                    base.as_deref(),
                    ready.base_commit.as_deref(),
                )
                .await
                .map(ResponseBody::FileDiff)
            }
            RequestBody::Ship {
                message,
                branch,
                push,
                token,
            } => {
                let ready = self.ready().await?;
                let request = crate::changes::ShipRequest {
                    message,
                    branch,
                    push,
                    token,
                };
                crate::changes::ship(
                    &ready.root,
                    ready.base_commit.as_deref(),
                    request,
                    &self.config.git,
                )
                .await
                .map(ResponseBody::Shipped)
            }
            RequestBody::TurnChanges { session, prompt } => {
                let ready = self.ready().await?;
                let (start, end) = self.turn_trees(&ready.root, &session, prompt).await?;
                let changes = crate::changes::tree_changes(&ready.root, &start, &end).await?;
                Ok(ResponseBody::TurnChanges(TurnChanges {
                    session,
                    prompt,
                    start_tree: start,
                    end_tree: end,
                    files: changes.files,
                    total_files: changes.total_files,
                    insertions: changes.insertions,
                    deletions: changes.deletions,
                    truncated: changes.truncated,
                }))
            }
            RequestBody::RevertTurn { session, prompt } => {
                let ready = self.ready().await?;
                if let Some(running) = self.sessions.working_prompt(&session)
                    && running != prompt
                {
                    // The agent may be editing the very files the revert would write.
                    return Err(ProtocolError::new(
                        ErrorCode::Busy,
                        format!(
                            "the agent is working on turn {running}; revert turn {prompt} once \
                             it ends (or cancel it)"
                        ),
                    ));
                }
                let (start, end) = self.turn_trees(&ready.root, &session, prompt).await?;
                let restored = crate::changes::revert_trees(&ready.root, &start, &end).await?;
                Ok(ResponseBody::TurnReverted(TurnReverted {
                    session,
                    prompt,
                    restored,
                }))
            }
            RequestBody::WaitChanges { after, timeout_ms } => {
                let Ready { root, .. } = self.ready().await?;
                let watch = self
                    .watch
                    .get_or_try_init(|| async move {
                        tokio::task::spawn_blocking(move || Arc::new(CheckoutWatch::start(&root)))
                            .await
                    })
                    .await
                    .map_err(|e| internal(format!("starting the checkout watcher failed: {e}")))?;
                let timeout = Duration::from_millis(timeout_ms.min(MAX_WAIT_CHANGES_MS));
                Ok(ResponseBody::ChangesVersion(
                    watch.wait(after, timeout).await,
                ))
            }
            RequestBody::RemoveContainer => self.remove_container().await,
            RequestBody::Subscribe { .. } => Err(internal(
                "subscribe is handled by the connection".to_owned(),
            )),
        }
    }

    /// The start and end snapshots of a finished turn taken of `root`.
    async fn turn_trees(
        &self,
        root: &Path,
        session: &str,
        prompt: u32,
    ) -> Result<(String, String), ProtocolError> {
        if session.is_empty() || session.len() > 256 {
            return Err(ProtocolError::new(
                ErrorCode::InvalidRequest,
                "the session id is empty or too long",
            ));
        }
        if self.sessions.working_prompt(session) == Some(prompt) {
            return Err(ProtocolError::new(
                ErrorCode::Busy,
                format!(
                    "turn {prompt} is still running; its changes are known once it ends \
                     (wait for it or cancel it)"
                ),
            ));
        }
        let not_found = |why: &str| {
            ProtocolError::new(
                ErrorCode::NotFound,
                format!("turn {prompt} of this session has no snapshots: {why}"),
            )
        };
        let record = self
            .log
            .turn(session.to_owned(), prompt)
            .await
            .map_err(journal_error)?
            .ok_or_else(|| not_found("no such turn on this host"))?;
        if Path::new(&record.root) != root {
            return Err(not_found("it ran in another checkout"));
        }
        let start = record.start_tree.ok_or_else(|| {
            not_found("the snapshot when it started failed (is the folder a git repository?)")
        })?;
        let end = record.end_tree.ok_or_else(|| {
            not_found("the snapshot when it ended failed, or it never ended (sam-host stopped)")
        })?;
        Ok((start, end))
    }

    async fn status(&self) -> Result<HostStatus, ProtocolError> {
        let last_seq = self.log.last_seq().await.map_err(journal_error)?;
        let mut core = self.lock();
        core.waiters.retain(|w| !w.is_closed());
        Ok(HostStatus {
            state: core.state.clone(),
            host_version: self.config.version.clone(),
            pid: std::process::id(),
            workspace_id: core.plan.as_ref().map(|p| p.workspace_id.clone()),
            checkout_dir: core.root.as_ref().map(|r| r.display().to_string()),
            last_seq,
            queued_requests: u32::try_from(core.waiters.len()).unwrap_or(u32::MAX),
            container: core.container.clone(),
        })
    }

    /// Runs a program in the checkout, on the host or in the dev container.
    async fn run(
        &self,
        argv: Vec<String>,
        in_container: bool,
        timeout_ms: u64,
    ) -> Result<ResponseBody, ProtocolError> {
        let limit = run::validate(&argv, timeout_ms)?;
        let ready = self.ready().await?;
        let program = argv.first().cloned().unwrap_or_default();
        if !in_container {
            let command = run::host_command(&ready.root, &argv);
            return run::run(command, &program, Place::Host, limit).await;
        }
        let Some(container) = &ready.container else {
            return Err(ProtocolError::new(
                ErrorCode::NotFound,
                "this workspace has no dev container: its repository has no \
                 .devcontainer/devcontainer.json or .devcontainer.json, or no container engine \
                 worked when it was set up (the devcontainer step says which). Run the command \
                 on the host instead (in_container: false).",
            ));
        };
        let command = devcontainer::exec_command(&self.config.containers, container, &argv);
        run::run(
            command,
            &program,
            Place::Container(container.engine.as_str()),
            limit,
        )
        .await
    }

    /// Removes the dev container the setup brought up (see [`RequestBody::RemoveContainer`]).
    /// The record stays in memory only until the removal succeeded, so a failed removal can
    /// be asked for again.
    async fn remove_container(&self) -> Result<ResponseBody, ProtocolError> {
        let container = {
            let core = self.lock();
            if core.state == HostState::SettingUp {
                return Err(ProtocolError::new(
                    ErrorCode::Busy,
                    "the workspace is being set up; its container can be removed once the setup \
                     ended",
                ));
            }
            core.container.clone()
        };
        let Some(container) = container else {
            return Ok(ResponseBody::ContainerRemoved { container_id: None });
        };
        devcontainer::remove(&self.config.containers, &container)
            .await
            .map_err(|message| ProtocolError::new(ErrorCode::Io, message))?;
        tracing::info!(container = %container.container_id, engine = %container.engine, "dev container removed");
        let mut core = self.lock();
        if core.container.as_ref() == Some(&container) {
            core.container = None;
        }
        Ok(ResponseBody::ContainerRemoved {
            container_id: Some(container.container_id),
        })
    }

    /// The ready workspace: at once when ready, after the setup when one is pending (queued,
    /// bounded), an error when the last setup failed or the queue is full.
    async fn ready(&self) -> Result<Ready, ProtocolError> {
        let receiver = {
            let mut core = self.lock();
            match &core.state {
                HostState::Ready => {
                    let root = core
                        .root
                        .clone()
                        .ok_or_else(|| internal("ready without a checkout root".to_owned()))?;
                    return Ok(Ready {
                        root,
                        container: core.container.clone(),
                        base_commit: core.base_commit.clone(),
                    });
                }
                HostState::Failed { reason } => return Err(setup_failed(reason)),
                HostState::SettingUp | HostState::Unconfigured => {
                    // Requests whose connection went away no longer count.
                    core.waiters.retain(|w| !w.is_closed());
                    if core.waiters.len() >= MAX_QUEUED_REQUESTS {
                        return Err(ProtocolError::new(
                            ErrorCode::QueueFull,
                            format!(
                                "{MAX_QUEUED_REQUESTS} requests are already waiting for the \
                                 workspace setup to finish. Retry once it is ready."
                            ),
                        ));
                    }
                    let (sender, receiver) = oneshot::channel();
                    core.waiters.push(sender);
                    receiver
                }
            }
        };
        receiver
            .await
            .unwrap_or_else(|_| Err(internal("sam-host is shutting down".to_owned())))
    }

    async fn setup(self: &Arc<Self>, plan: SetupPlan) -> Result<ResponseBody, ProtocolError> {
        checkout::validate(&plan).map_err(|m| ProtocolError::new(ErrorCode::InvalidRequest, m))?;
        let mut outcome = {
            let mut core = self.lock();
            let same = core.plan.as_ref().is_some_and(|p| p.same_target(&plan));
            match &core.state {
                HostState::Ready if same => {
                    let root = core.root.clone().unwrap_or_default();
                    return Ok(ResponseBody::SetupReady {
                        checkout_dir: root.display().to_string(),
                    });
                }
                HostState::Ready => {
                    return Err(ProtocolError::new(
                        ErrorCode::InvalidRequest,
                        format!(
                            "this host is already set up for workspace {}; it cannot switch to \
                             another plan. Use a new host (or state directory) for another \
                             workspace.",
                            current_workspace(&core)
                        ),
                    ));
                }
                HostState::SettingUp if same => core.run.clone().ok_or_else(|| {
                    internal("a setup runs without an outcome channel".to_owned())
                })?,
                HostState::SettingUp => {
                    return Err(ProtocolError::new(
                        ErrorCode::InvalidRequest,
                        format!(
                            "a setup for workspace {} is running; wait for it to end before \
                             asking for another.",
                            current_workspace(&core)
                        ),
                    ));
                }
                HostState::Unconfigured | HostState::Failed { .. } => {
                    let (sender, receiver) = watch::channel(None);
                    core.state = HostState::SettingUp;
                    core.plan = Some(SetupPlan {
                        git_token: None,
                        ..plan.clone()
                    });
                    core.root = None;
                    core.container = None;
                    core.base_commit = None;
                    core.run = Some(receiver.clone());
                    tokio::spawn(Arc::clone(self).run_setup(plan, sender));
                    receiver
                }
            }
        };
        let result = outcome
            .wait_for(Option::is_some)
            .await
            .map_err(|_| internal("the setup task ended without an outcome".to_owned()))?
            .clone();
        match result {
            Some(Ok(ready)) => Ok(ResponseBody::SetupReady {
                checkout_dir: ready.root.display().to_string(),
            }),
            Some(Err(error)) => Err(error),
            None => Err(internal("the setup ended without an outcome".to_owned())),
        }
    }

    /// Runs a setup to its end, journaling every step, then wakes everyone waiting on it.
    /// Runs in its own task: a client that disconnects does not stop it.
    async fn run_setup(
        self: Arc<Self>,
        plan: SetupPlan,
        outcome: watch::Sender<Option<ReadyResult>>,
    ) {
        let result = self.run_steps(&plan).await;
        let ready = {
            let mut core = self.lock();
            let waiters = std::mem::take(&mut core.waiters);
            core.run = None;
            match &result {
                Ok(ready) => {
                    core.state = HostState::Ready;
                    core.root = Some(ready.root.clone());
                    core.container = ready.container.clone();
                    core.base_commit = ready.base_commit.clone();
                }
                Err(reason) => {
                    core.state = HostState::Failed {
                        reason: reason.clone(),
                    };
                    core.root = None;
                    core.container = None;
                    core.base_commit = None;
                }
            }
            waiters
        };
        let answer = result.map_err(|reason| setup_failed(&reason));
        for waiter in ready {
            let _ = waiter.send(answer.clone());
        }
        let _ = outcome.send(Some(answer));
    }

    /// The steps of a setup; returns what is ready or the failure reason. Every step is
    /// journaled with its timing; a failed step ends the setup.
    async fn run_steps(&self, plan: &SetupPlan) -> Result<Ready, String> {
        let started = Instant::now();
        tracing::info!(workspace = %plan.workspace_id, "setup started");
        self.log
            .append(
                EventBody::SetupStarted,
                Some(setup_record(plan, SetupPhase::SettingUp, None, None)),
            )
            .await
            .map_err(journal_failed)?;

        let checkout_step = checkout::step_name(&plan.repository);
        let root = self
            .step(plan, checkout_step, async {
                checkout::prepare(plan, &self.config.git)
                    .await
                    .map(|root| (root, None))
                    .map_err(|failure| failure.reason)
            })
            .await?;

        let mut container = None;
        let configured = devcontainer::config_file(&root).await.is_some();
        let cloned = !matches!(plan.repository, sam_protocol::RepoSource::LocalPath { .. });
        if !configured
            && cloned
            && devcontainer::base_container_possible(&self.config.containers).await
        {
            // A clone without a configuration gets the Node 22 base container when an engine
            // runs here; a folder used in place is the user's own setup and stays on the host.
            let token = plan.git_token.as_ref().map(|t| t.expose());
            container = self
                .step(plan, step::DEVCONTAINER, async {
                    Ok(
                        match devcontainer::bring_up_base(
                            &self.config.containers,
                            &root,
                            &self.config.state_dir,
                            token,
                        )
                        .await
                        {
                            UpOutcome::Up(container) => (
                                Some(container),
                                Some(
                                    "no dev container configuration: the base container runs \
                                     the agent"
                                        .to_owned(),
                                ),
                            ),
                            UpOutcome::Skipped(why) => (None, Some(why)),
                        },
                    )
                })
                .await?;
        } else if configured {
            let token = plan.git_token.as_ref().map(|t| t.expose());
            container = self
                .step(plan, step::DEVCONTAINER, async {
                    match devcontainer::bring_up(&self.config.containers, &root, token).await? {
                        UpOutcome::Up(container) => Ok((Some(container), None)),
                        UpOutcome::Skipped(why) => {
                            tracing::info!(workspace = %plan.workspace_id, "no container engine; commands run on the host");
                            Ok((None, Some(why)))
                        }
                    }
                })
                .await?;
        }

        // The default base of `Changes`: where the agent's work starts from.
        let base_commit = crate::changes::head_commit(&root).await;
        let ready = Ready {
            root,
            container,
            base_commit,
        };
        self.log
            .append(
                EventBody::SetupComplete {
                    millis: millis_since(started),
                },
                Some(SetupRecord {
                    container: ready.container.clone(),
                    base_commit: ready.base_commit.clone(),
                    ..setup_record(plan, SetupPhase::Ready, Some(&ready.root), None)
                }),
            )
            .await
            .map_err(journal_failed)?;
        tracing::info!(workspace = %plan.workspace_id, millis = millis_since(started), "setup complete");
        Ok(ready)
    }

    /// Journals one step: started, then finished with its timing and `detail`, or failed (and
    /// the whole setup with it).
    async fn step<T>(
        &self,
        plan: &SetupPlan,
        name: &str,
        work: impl Future<Output = Result<(T, Option<String>), String>>,
    ) -> Result<T, String> {
        self.log
            .append(
                EventBody::StepStarted {
                    step: name.to_owned(),
                },
                None,
            )
            .await
            .map_err(journal_failed)?;
        let started = Instant::now();
        match work.await {
            Ok((value, detail)) => {
                self.log
                    .append(
                        EventBody::StepFinished {
                            step: name.to_owned(),
                            millis: millis_since(started),
                            detail,
                        },
                        None,
                    )
                    .await
                    .map_err(journal_failed)?;
                Ok(value)
            }
            Err(reason) => {
                tracing::warn!(workspace = %plan.workspace_id, step = name, "setup failed");
                self.log
                    .append(
                        EventBody::StepFailed {
                            step: name.to_owned(),
                            reason: reason.clone(),
                        },
                        None,
                    )
                    .await
                    .map_err(journal_failed)?;
                self.log
                    .append(
                        EventBody::SetupFailed {
                            reason: reason.clone(),
                        },
                        Some(setup_record(plan, SetupPhase::Failed, None, Some(&reason))),
                    )
                    .await
                    .map_err(journal_failed)?;
                Err(reason)
            }
        }
    }

    /// Writes the activity stamp (milliseconds since the epoch) atomically: a watchdog reading
    /// it never sees a half-written file.
    async fn touch(&self) -> Result<ResponseBody, ProtocolError> {
        let at_ms = now_ms();
        let path = self.config.activity_path.clone();
        let unique = self.stamp_counter.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || write_stamp(&path, at_ms, unique))
            .await
            .map_err(|e| internal(format!("the activity stamp task failed: {e}")))?
            .map_err(|e| {
                ProtocolError::new(
                    ErrorCode::Io,
                    format!("the activity stamp could not be written: {e}"),
                )
            })?;
        Ok(ResponseBody::Touched { at_ms })
    }
}

fn write_stamp(path: &Path, at_ms: u64, unique: u64) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "activity".to_owned());
    let temp = path.with_file_name(format!(".{name}.{}.{unique}.tmp", std::process::id()));
    std::fs::write(&temp, format!("{at_ms}\n"))?;
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

/// The persisted record of `plan` (never its token) in `phase`.
fn setup_record(
    plan: &SetupPlan,
    phase: SetupPhase,
    root: Option<&Path>,
    reason: Option<&str>,
) -> SetupRecord {
    SetupRecord {
        phase,
        workspace_id: plan.workspace_id.clone(),
        repository: plan.repository.clone(),
        checkout_dir: plan.checkout_dir.clone(),
        root: root.map(|r| r.display().to_string()),
        reason: reason.map(str::to_owned),
        container: None,
        base_commit: None,
    }
}

fn journal_failed(error: JournalError) -> String {
    format!("the journal failed, so the setup stopped: {error}")
}

fn current_workspace(core: &Core) -> String {
    core.plan
        .as_ref()
        .map(|p| p.workspace_id.clone())
        .unwrap_or_else(|| "(unknown)".to_owned())
}

fn millis_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn setup_failed(reason: &str) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::SetupFailed,
        format!("the workspace setup failed: {reason}"),
    )
}

fn internal(message: String) -> ProtocolError {
    ProtocolError::new(ErrorCode::Internal, message)
}

fn journal_error(error: JournalError) -> ProtocolError {
    ProtocolError::new(ErrorCode::Io, error.to_string())
}

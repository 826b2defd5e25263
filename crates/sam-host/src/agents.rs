//! Agent sessions: `sam-host` starts coding agents and speaks the Agent Client Protocol (ACP,
//! JSON-RPC 2.0 over the agent's stdio) with them, journaling everything before any client
//! sees it.
//!
//! Sessions belong to the daemon, not to a connection: a turn keeps running and a permission
//! request keeps waiting while no desktop is attached; any attached client may answer it.
//!
//! The typed messages the host *sends* and the answers it *reads* come from
//! `agent-client-protocol-schema` (pinned exactly). The JSON-RPC framing is written here rather
//! than taken from the `agent-client-protocol` SDK because the host must journal every
//! `session/update` verbatim, kinds newer than the SDK's included, and must survive garbage and
//! oversized lines on the agent's stdout; the SDK's connection parses into its own enums and
//! drops what it cannot read, and its futures are not `Send`.
//!
//! Sessions outlive a daemon restart when their agent can load sessions (it advertised ACP
//! `loadSession`): the launch (never the environment's values) is recorded next to the
//! journal, the next daemon marks the session suspended ([`SessionEvent::AgentSuspended`])
//! instead of ending it, and a `ResumeSession` — which carries the environment again, since
//! credentials never touch the disk — starts the same agent and calls `session/load`. The
//! history the agent replays while loading is dropped, not journaled twice.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use agent_client_protocol_schema::ProtocolVersion;
use agent_client_protocol_schema::v1 as acp;
use sam_protocol::{
    AgentInstall, AgentLaunch, DevContainer, EnvVar, ErrorCode, EventBody, PermissionOption,
    PermissionOutcome, ProtocolError, ResponseBody, SessionEvent, SessionId, SessionStatus,
    StartSession,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

use crate::askpass::{ASKPASS_MODE_ENV, TOKEN_ENV};
use crate::checkout::tail_chars;
use crate::devcontainer::{self, ContainerSettings};
use crate::journal::{EventLog, JournalError};

/// The longest line read from an agent's stdout; a longer one is dropped (and reported).
const MAX_AGENT_LINE_BYTES: usize = 64 * 1024 * 1024;

/// An update whose JSON is larger than this is journaled clipped; the whole of it is kept in a
/// file next to the journal. Keeps every event well inside the protocol's frame limit.
const MAX_UPDATE_JSON_BYTES: usize = 4 * 1024 * 1024;

/// How much of a clipped update's text is kept in the journal.
const CLIPPED_TEXT_BYTES: usize = 64 * 1024;

/// How much of an agent's stderr is kept for the exit report.
const STDERR_TAIL_BYTES: usize = 16 * 1024;

/// How many noise events (non-ACP stdout lines) one session journals before it only counts.
const MAX_NOISE_EVENTS: u32 = 20;

/// The most an `npm install` of an agent may take.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Environment variables that override the defaults below (for tests and odd set-ups).
pub const AGENT_INIT_TIMEOUT_ENV: &str = "SAM_AGENT_INIT_TIMEOUT_MS";
/// How long a turn may be silent before it is flagged, in milliseconds.
pub const AGENT_SILENT_ENV: &str = "SAM_AGENT_SILENT_MS";
/// How long a permission request waits for an answer, in milliseconds.
pub const PERMISSION_EXPIRY_ENV: &str = "SAM_PERMISSION_EXPIRY_MS";
/// The npm program used to install agents.
pub const NPM_ENV: &str = "SAM_NPM";

/// How agents are started and watched.
#[derive(Debug, Clone)]
pub(crate) struct AgentSettings {
    /// Where npm-installed agents live, one folder per package and version.
    pub install_dir: PathBuf,
    /// Where clipped updates are kept whole.
    pub payload_dir: PathBuf,
    /// How long `initialize` and `session/new` may take each.
    pub init_timeout: Duration,
    /// A turn silent this long is flagged.
    pub silent_after: Duration,
    /// A permission request unanswered this long expires.
    pub permission_expiry: Duration,
    /// The npm program.
    pub npm: PathBuf,
    /// How dev containers are entered.
    pub containers: ContainerSettings,
}

impl AgentSettings {
    /// The defaults under `state_dir`, with the environment's overrides.
    pub(crate) fn from_env(state_dir: &Path, containers: ContainerSettings) -> Self {
        let millis = |name: &str, default: u64| {
            Duration::from_millis(
                std::env::var(name)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default),
            )
        };
        Self {
            install_dir: state_dir.join("agents"),
            payload_dir: state_dir.join("payloads"),
            init_timeout: millis(AGENT_INIT_TIMEOUT_ENV, 120_000),
            silent_after: millis(AGENT_SILENT_ENV, 5 * 60_000),
            permission_expiry: millis(PERMISSION_EXPIRY_ENV, 24 * 60 * 60_000),
            npm: std::env::var_os(NPM_ENV).map_or_else(|| PathBuf::from("npm"), PathBuf::from),
            containers,
        }
    }
}

/// Where an agent runs: the checkout root on the host, or the dev container.
#[derive(Debug, Clone)]
pub(crate) struct Workplace {
    /// The canonical checkout root.
    pub root: PathBuf,
    /// The dev container, when the workspace has one.
    pub container: Option<DevContainer>,
}

/// How to start a session's agent again after a daemon restart: its launch without the
/// environment's values (credentials are handed over the channel and never written), and
/// the agent's own session id. Kept next to the journal (`agent_resume`) for agents that
/// advertised `loadSession`, from `session/new` until the agent ends for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ResumeRecord {
    /// The manifest id.
    pub agent: String,
    /// As [`AgentLaunch::argv`] was asked (before an install resolved the program).
    pub argv: Vec<String>,
    pub install: Option<AgentInstall>,
    pub in_container: bool,
    pub mode: Option<String>,
    /// The names (only) of the environment the agent had, to tell what a resume lacks.
    pub env_names: Vec<String>,
    /// The agent's session id, for `session/load`.
    pub acp_session: String,
    /// The number the session's first prompt got ([`StartSession::first_prompt`]): where
    /// numbering goes on when no prompt was sent yet.
    #[serde(default = "one")]
    pub first_prompt: u32,
}

fn one() -> u32 {
    1
}

/// A session whose agent stopped with an earlier daemon and can be loaded again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Suspended {
    pub record: ResumeRecord,
    /// The number the next prompt gets (numbering goes on).
    pub next_prompt: u32,
    /// The number the next permission request gets.
    pub next_request: u32,
}

/// What the next daemon found of the sessions the last one was running.
#[derive(Debug, Default)]
pub(crate) struct Orphans {
    /// Sessions closed for good (their agent cannot load sessions).
    pub closed: usize,
    /// Sessions that can resume.
    pub suspended: Vec<(SessionId, Suspended)>,
}

/// Every session of this daemon.
#[derive(Debug)]
pub(crate) struct Sessions {
    log: EventLog,
    settings: AgentSettings,
    map: Mutex<HashMap<SessionId, Arc<Session>>>,
    /// Sessions of an earlier daemon that wait for a `ResumeSession`.
    suspended: Mutex<HashMap<SessionId, Suspended>>,
    /// Installs run one at a time: two sessions asking for the same agent share one install.
    install_lock: tokio::sync::Mutex<()>,
    /// Resumes run one at a time: two clients resuming the same session start one agent.
    resume_lock: tokio::sync::Mutex<()>,
}

impl Sessions {
    /// The sessions of a new daemon; `suspended` are those of the last one that can resume.
    pub(crate) fn new(
        log: EventLog,
        settings: AgentSettings,
        suspended: Vec<(SessionId, Suspended)>,
    ) -> Self {
        Self {
            log,
            settings,
            map: Mutex::new(HashMap::new()),
            suspended: Mutex::new(suspended.into_iter().collect()),
            install_lock: tokio::sync::Mutex::new(()),
            resume_lock: tokio::sync::Mutex::new(()),
        }
    }

    fn suspended(&self) -> MutexGuard<'_, HashMap<SessionId, Suspended>> {
        self.suspended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn map(&self) -> MutexGuard<'_, HashMap<SessionId, Arc<Session>>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, id: &str) -> Result<Arc<Session>, ProtocolError> {
        if self.suspended().contains_key(id) {
            return Err(ProtocolError::new(
                ErrorCode::AgentFailed,
                format!(
                    "the agent of session {id} stopped with an earlier sam-host; it can load the \
                     session again: resume it (ResumeSession, with the agent's environment), \
                     then send the prompt"
                ),
            ));
        }
        self.map().get(id).cloned().ok_or_else(|| {
            ProtocolError::new(
                ErrorCode::NotFound,
                format!(
                    "no session {id} on this host (its agent may have stopped with an earlier \
                     sam-host; start a new session, with the history as context)"
                ),
            )
        })
    }

    /// Starts the agent of `request` and opens its ACP session.
    pub(crate) async fn start(
        &self,
        request: StartSession,
        place: Workplace,
    ) -> Result<ResponseBody, ProtocolError> {
        validate_start(&request)?;
        let id = request.session.clone();
        if self.map().contains_key(&id) || self.suspended().contains_key(&id) {
            return Err(ProtocolError::new(
                ErrorCode::InvalidRequest,
                format!("a session {id} already exists"),
            ));
        }
        match self.launch(&request, &place, None).await {
            Ok((session, seq)) => {
                self.map().insert(id.clone(), session);
                Ok(ResponseBody::SessionOpened { session: id, seq })
            }
            Err(reason) => {
                let event = SessionEvent::AgentFailed {
                    reason: reason.clone(),
                };
                self.journal(&id, event).await;
                Err(ProtocolError::new(ErrorCode::AgentFailed, reason))
            }
        }
    }

    async fn journal(&self, session: &str, event: SessionEvent) -> Option<u64> {
        let body = EventBody::Session {
            session: session.to_owned(),
            event,
        };
        match self.log.append(body, None).await {
            Ok(event) => Some(event.seq),
            Err(error) => {
                tracing::error!(%error, "a session event could not be journaled");
                None
            }
        }
    }

    /// Starts a suspended session's agent again with `env` and loads the session. A failure
    /// ends the session for good (journaled as [`SessionEvent::AgentFailed`]): the desktop
    /// then restarts it with its history, as for an agent that cannot load sessions.
    pub(crate) async fn resume(
        &self,
        session: &str,
        env: Vec<EnvVar>,
        place: Workplace,
    ) -> Result<ResponseBody, ProtocolError> {
        let _one_at_a_time = self.resume_lock.lock().await;
        let running = self.map().get(session).cloned();
        if let Some(running) = running {
            let state = running.state();
            return if state.alive {
                Ok(ResponseBody::SessionOpened {
                    session: running.id.clone(),
                    seq: state.opened_seq,
                })
            } else {
                Err(ProtocolError::new(
                    ErrorCode::AgentFailed,
                    "the agent of this session has stopped; restart the session (the history \
                     goes with it as context)",
                ))
            };
        }
        let Some(suspended) = self.suspended().get(session).cloned() else {
            return Err(ProtocolError::new(
                ErrorCode::NotFound,
                format!(
                    "no session {} that can resume on this host (only the sessions of an \
                     earlier sam-host whose agent can load sessions can)",
                    tail_chars(session, 128)
                ),
            ));
        };
        let record = &suspended.record;
        let missing: Vec<&str> = record
            .env_names
            .iter()
            .filter(|name| !env.iter().any(|v| &v.name == *name))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            // Names only: the values were never kept. The agent may still manage without.
            tracing::warn!(
                session,
                missing = %missing.join(", "),
                "the resumed agent lacks environment variables it started with"
            );
        }
        let request = StartSession {
            session: session.to_owned(),
            agent: AgentLaunch {
                agent: record.agent.clone(),
                argv: record.argv.clone(),
                install: record.install.clone(),
                env,
                in_container: record.in_container,
                mode: record.mode.clone(),
            },
            context: None,
            first_prompt: Some(suspended.next_prompt),
        };
        validate_start(&request)?;
        let outcome = self.launch(&request, &place, Some(&suspended)).await;
        self.suspended().remove(session);
        match outcome {
            Ok((resumed, seq)) => {
                self.map().insert(session.to_owned(), resumed);
                Ok(ResponseBody::SessionOpened {
                    session: session.to_owned(),
                    seq,
                })
            }
            Err(reason) => {
                let reason = format!(
                    "the agent could not load the session again: {reason}\nRestart the session \
                     (the history goes with it as context)."
                );
                if let Err(error) = self.log.drop_resume(session.to_owned()).await {
                    tracing::warn!(%error, "a resume record could not be removed");
                }
                self.journal(
                    session,
                    SessionEvent::AgentFailed {
                        reason: reason.clone(),
                    },
                )
                .await;
                Err(ProtocolError::new(ErrorCode::AgentFailed, reason))
            }
        }
    }

    /// Installs (when asked), spawns and initialises the agent; with `resume`, loads that
    /// session instead of opening a new one.
    async fn launch(
        &self,
        request: &StartSession,
        place: &Workplace,
        resume: Option<&Suspended>,
    ) -> Result<(Arc<Session>, u64), String> {
        let launch = &request.agent;
        let container = if launch.in_container {
            place.container.as_ref()
        } else {
            None
        };
        let mut argv = launch.argv.clone();
        if let Some(AgentInstall::Npm { package, version }) = &launch.install {
            let _guard = self.install_lock.lock().await;
            let program = self
                .install_npm(package, version, &argv[0], container)
                .await?;
            argv[0] = program;
        }
        // The session's environment goes into a container over the agent's stdin, ahead of
        // ACP, never through the engine (see `exec_interactive`).
        let env_on_stdin = (container.is_some() && !launch.env.is_empty())
            .then(|| devcontainer::env_preamble(&launch.env));
        let mut command = match container {
            Some(container) => devcontainer::exec_interactive(
                &self.settings.containers,
                container,
                &argv,
                env_on_stdin.is_some(),
            ),
            None => {
                let mut command = Command::new(&argv[0]);
                command.args(&argv[1..]).current_dir(&place.root);
                command
            }
        };
        command
            .env_remove(TOKEN_ENV)
            .env_remove(ASKPASS_MODE_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if container.is_none() {
            for var in &launch.env {
                // The one place a session's secrets are handed on: the agent's environment.
                command.env(&var.name, var.value.expose());
            }
        }
        let shown = tail_chars(&argv[0], 200);
        let mut child = command.spawn().map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                format!("the agent program `{shown}` was not found (is it installed?)")
            } else {
                format!("the agent program `{shown}` could not be started: {error}")
            }
        })?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err("the agent's pipes were not set up".into());
        };
        if let Some(env) = env_on_stdin {
            let handed = tokio::time::timeout(self.settings.init_timeout, async {
                stdin.write_all(&env).await?;
                stdin.flush().await
            })
            .await;
            if !matches!(handed, Ok(Ok(()))) {
                // The engine exited already (its container is gone, say) or hangs: the
                // handshake below fails and reports the engine's stderr.
                tracing::warn!("the agent's environment could not be handed to the container");
            }
        }

        let session = Arc::new(Session {
            id: request.session.clone(),
            agent: launch.agent.clone(),
            log: self.log.clone(),
            settings: self.settings.clone(),
            rpc: Rpc::new(stdin),
            acp_session: Mutex::new(String::new()),
            context: Mutex::new(request.context.clone()),
            state: Mutex::new(SessionState::new(
                request.first_prompt.unwrap_or(1).max(1),
                resume.map_or(1, |r| r.next_request.max(1)),
            )),
            stderr: Arc::new(Mutex::new(Vec::new())),
            kill: Mutex::new(None),
            root: place.root.clone(),
        });
        let reader = tokio::spawn(Arc::clone(&session).read_stdout(stdout));
        tokio::spawn(collect_stderr(stderr, Arc::clone(&session.stderr)));
        let (kill, killed) = oneshot::channel();
        *lock(&session.kill) = Some(kill);
        tokio::spawn(Arc::clone(&session).watch_exit(child, killed, reader));
        tokio::spawn(Arc::clone(&session).watch_timers());

        let handshake = match resume {
            Some(resume) => session.load(place, container, launch, resume).await,
            None => session.handshake(place, container, launch).await,
        };
        match handshake {
            Ok(seq) => {
                lock(&session.state).opened_seq = seq;
                Ok((session, seq))
            }
            Err(reason) => {
                session.stop();
                let tail = session.stderr_tail();
                let reason = match container {
                    // The engine's own words when the container is gone (podman, docker).
                    Some(container) if container_gone(&tail) => format!(
                        "the workspace's dev container {} no longer exists (it was removed \
                         outside SAM): set the workspace up again. {reason}",
                        container.container_id
                    ),
                    _ => reason,
                };
                Err(if tail.trim().is_empty() {
                    reason
                } else {
                    format!("{reason}\nThe agent's stderr ended with:\n{tail}")
                })
            }
        }
    }

    /// Installs `package@version` with npm (once: a finished install is reused) and returns
    /// the path of its `bin` program.
    async fn install_npm(
        &self,
        package: &str,
        version: &str,
        bin: &str,
        container: Option<&DevContainer>,
    ) -> Result<String, String> {
        if !valid_npm_name(package) || !valid_npm_version(version) || !valid_bin(bin) {
            return Err(format!(
                "the agent package `{}@{}` (program `{}`) is not a valid npm package, exact \
                 version and program name",
                tail_chars(package, 100),
                tail_chars(version, 40),
                tail_chars(bin, 100)
            ));
        }
        let folder = format!("{}@{version}", package.replace('/', "+"));
        if let Some(container) = container {
            let prefix = format!("/tmp/sam-agents/{folder}");
            let program = format!("{prefix}/node_modules/.bin/{bin}");
            let probe = devcontainer::exec_interactive(
                &self.settings.containers,
                container,
                &["test".into(), "-x".into(), program.clone()],
                false,
            )
            .stdin(Stdio::null())
            .status()
            .await;
            if probe.is_ok_and(|s| s.success()) {
                return Ok(program);
            }
            let argv = npm_install_argv("npm", &prefix, package, version);
            let command =
                devcontainer::exec_interactive(&self.settings.containers, container, &argv, false);
            run_install(command, package, version).await?;
            return Ok(program);
        }
        let prefix = self.settings.install_dir.join(&folder);
        let program = prefix.join("node_modules").join(".bin").join(bin);
        if program.is_file() {
            return Ok(program.display().to_string());
        }
        tokio::fs::create_dir_all(&prefix)
            .await
            .map_err(|e| format!("could not create {}: {e}", prefix.display()))?;
        let npm = self.settings.npm.display().to_string();
        let argv = npm_install_argv(&npm, &prefix.display().to_string(), package, version);
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]).current_dir(&prefix);
        run_install(command, package, version).await?;
        if program.is_file() {
            Ok(program.display().to_string())
        } else {
            Err(format!(
                "npm installed {package}@{version} but it has no program `{bin}`"
            ))
        }
    }

    /// Sends a prompt.
    pub(crate) async fn prompt(
        &self,
        session: &str,
        text: String,
    ) -> Result<ResponseBody, ProtocolError> {
        let session = self.get(session)?;
        let prompt = session.begin_turn(text).await?;
        Ok(ResponseBody::PromptAccepted { prompt })
    }

    /// The prompt the session is working on, when it is on this daemon and busy.
    pub(crate) fn working_prompt(&self, session: &str) -> Option<u32> {
        self.map().get(session).and_then(|s| lock(&s.state).working)
    }

    /// Cancels the running turn.
    pub(crate) async fn cancel(&self, session: &str) -> Result<ResponseBody, ProtocolError> {
        self.get(session)?.cancel().await;
        Ok(ResponseBody::Done)
    }

    /// Answers a permission request.
    pub(crate) async fn answer(
        &self,
        session: &str,
        request: u32,
        option_id: &str,
        by: &str,
    ) -> Result<ResponseBody, ProtocolError> {
        self.get(session)?
            .answer(request, option_id, by)
            .await
            .map(|()| ResponseBody::Done)
    }

    /// Stops the agent; a suspended session ends (it will not resume).
    pub(crate) async fn stop(&self, session: &str) -> Result<ResponseBody, ProtocolError> {
        let _one_at_a_time = self.resume_lock.lock().await;
        if self.suspended().remove(session).is_some() {
            if let Err(error) = self.log.drop_resume(session.to_owned()).await {
                tracing::warn!(%error, "a resume record could not be removed");
            }
            self.journal(
                session,
                SessionEvent::AgentExited {
                    code: None,
                    stderr_tail: "the session was stopped while its agent was suspended".into(),
                },
            )
            .await;
            return Ok(ResponseBody::Done);
        }
        self.get(session)?.stop();
        Ok(ResponseBody::Done)
    }

    /// Every session, oldest first.
    pub(crate) fn list(&self) -> ResponseBody {
        let mut sessions: Vec<(Instant, SessionStatus)> = self
            .map()
            .values()
            .map(|s| {
                let state = s.state();
                (
                    state.created,
                    SessionStatus {
                        session: s.id.clone(),
                        agent: s.agent.clone(),
                        alive: state.alive,
                        working_prompt: state.working,
                        open_requests: state.open.keys().copied().collect(),
                        resumable: false,
                    },
                )
            })
            .collect();
        // Suspended sessions are older than any of this daemon's.
        let mut suspended: Vec<SessionStatus> = self
            .suspended()
            .iter()
            .map(|(id, s)| SessionStatus {
                session: id.clone(),
                agent: s.record.agent.clone(),
                alive: false,
                working_prompt: None,
                open_requests: Vec::new(),
                resumable: true,
            })
            .collect();
        suspended.sort_by(|a, b| a.session.cmp(&b.session));
        sessions.sort_by_key(|(created, _)| *created);
        let sessions = suspended
            .into_iter()
            .chain(sessions.into_iter().map(|(_, s)| s))
            .collect();
        ResponseBody::Sessions { sessions }
    }
}

/// Settles the sessions a previous daemon was running when it stopped: their agents stopped
/// with it. Each open permission request resolves as cancelled and a running turn ends with
/// an error. A session whose agent can load sessions (a resume record) is then suspended
/// ([`SessionEvent::AgentSuspended`], once) and returned, to resume on request; any other is
/// reported exited, so every client sees a final state and can restart it with its history.
pub(crate) async fn close_orphaned_sessions(log: &EventLog) -> Result<Orphans, JournalError> {
    #[derive(Default)]
    struct Open {
        requests: BTreeMap<u32, ()>,
        turn: Option<u32>,
        last_prompt: u32,
        last_request: u32,
        /// The last event is `AgentSuspended`: an earlier daemon suspended it already.
        suspended: bool,
    }
    let mut sessions: BTreeMap<String, Open> = BTreeMap::new();
    for event in log.unfinished_sessions().await? {
        let EventBody::Session { session, event } = event.event else {
            continue;
        };
        let open = sessions.entry(session).or_default();
        open.suspended = matches!(event, SessionEvent::AgentSuspended { .. });
        match event {
            SessionEvent::PromptSent { prompt, .. } => {
                open.turn = Some(prompt);
                open.last_prompt = open.last_prompt.max(prompt);
            }
            SessionEvent::TurnEnded { .. } => open.turn = None,
            SessionEvent::PermissionRequested { request, .. } => {
                open.requests.insert(request, ());
                open.last_request = open.last_request.max(request);
            }
            SessionEvent::PermissionResolved { request, .. } => {
                open.requests.remove(&request);
            }
            _ => {}
        }
    }
    let mut records: HashMap<String, ResumeRecord> = HashMap::new();
    for (session, record) in log.resume_records().await? {
        match serde_json::from_str(&record) {
            Ok(record) if sessions.contains_key(&session) => {
                records.insert(session, record);
            }
            // An ended session's record (the daemon stopped before it was removed), or one
            // this build cannot read: that session cannot resume.
            parsed => {
                if let Err(error) = parsed {
                    tracing::warn!(%error, session, "an unreadable resume record was dropped");
                }
                log.drop_resume(session).await?;
            }
        }
    }
    let mut orphans = Orphans::default();
    for (session, open) in sessions {
        let body = |event| EventBody::Session {
            session: session.clone(),
            event,
        };
        for request in open.requests.into_keys() {
            log.append(
                body(SessionEvent::PermissionResolved {
                    request,
                    outcome: PermissionOutcome::Cancelled,
                }),
                None,
            )
            .await?;
        }
        let turn_ended = open.turn.is_some();
        if let Some(prompt) = open.turn {
            log.append(
                body(SessionEvent::TurnEnded {
                    prompt,
                    stop_reason: "error".into(),
                    error: Some(
                        "sam-host stopped during the turn; the agent stopped with it".into(),
                    ),
                }),
                None,
            )
            .await?;
        }
        if let Some(record) = records.remove(&session) {
            if !open.suspended || turn_ended {
                log.append(
                    body(SessionEvent::AgentSuspended {
                        reason: "sam-host stopped while this agent ran; the agent can load the \
                                 session again, so the next prompt resumes it"
                            .into(),
                    }),
                    None,
                )
                .await?;
            }
            let next_prompt = open.last_prompt.saturating_add(1).max(record.first_prompt);
            orphans.suspended.push((
                session,
                Suspended {
                    record,
                    next_prompt,
                    next_request: open.last_request.saturating_add(1),
                },
            ));
            continue;
        }
        log.append(
            body(SessionEvent::AgentExited {
                code: None,
                stderr_tail: "sam-host stopped while this agent ran; restart the session to go on \
                              with its history"
                    .into(),
            }),
            None,
        )
        .await?;
        orphans.closed += 1;
    }
    Ok(orphans)
}

/// Checks a start request before anything runs.
fn validate_start(request: &StartSession) -> Result<(), ProtocolError> {
    let invalid = |message: String| Err(ProtocolError::new(ErrorCode::InvalidRequest, message));
    let id = &request.session;
    if id.is_empty()
        || id.len() > 128
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return invalid("a session id is 1 to 128 letters, digits, - or _".into());
    }
    let argv = &request.agent.argv;
    let Some(program) = argv.first() else {
        return invalid("the agent command is empty".into());
    };
    if program.is_empty() || program.starts_with('-') {
        return invalid("the agent command must start with a program".into());
    }
    if argv.iter().any(|a| a.contains('\0')) {
        return invalid("the agent command contains a NUL byte".into());
    }
    for var in &request.agent.env {
        let name = &var.name;
        if name.is_empty()
            || name.contains('=')
            || name.contains('\n')
            || name.contains('\0')
            || var.value.expose().contains('\0')
        {
            return invalid(format!(
                "the environment variable `{}` is not valid",
                tail_chars(name, 60)
            ));
        }
    }
    Ok(())
}

fn valid_npm_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 214
        && !name.starts_with('.')
        && !name.starts_with('-')
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "@/._-".contains(c))
}

fn valid_npm_version(version: &str) -> bool {
    version.chars().next().is_some_and(|c| c.is_ascii_digit())
        && version.len() <= 64
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c))
}

fn valid_bin(bin: &str) -> bool {
    !bin.is_empty()
        && !bin.starts_with('-')
        && !bin.starts_with('.')
        && bin
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn npm_install_argv(npm: &str, prefix: &str, package: &str, version: &str) -> Vec<String> {
    [
        npm,
        "install",
        "--prefix",
        prefix,
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--loglevel=error",
        &format!("{package}@{version}"),
    ]
    .map(str::to_owned)
    .to_vec()
}

async fn run_install(mut command: Command, package: &str, version: &str) -> Result<(), String> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = tokio::time::timeout(INSTALL_TIMEOUT, command.output())
        .await
        .map_err(|_| {
            format!(
                "installing {package}@{version} took longer than {} minutes and was stopped",
                INSTALL_TIMEOUT.as_secs() / 60
            )
        })?
        .map_err(|e| format!("npm could not be started to install {package}@{version}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(format!(
        "installing {package}@{version} failed ({}): {}",
        output.status,
        tail_chars(stderr.trim(), 2000)
    ))
}

/// One agent process and its ACP session.
#[derive(Debug)]
struct Session {
    id: SessionId,
    agent: String,
    log: EventLog,
    settings: AgentSettings,
    rpc: Rpc,
    /// The agent's own session id, from `session/new`.
    acp_session: Mutex<String>,
    /// History to hand over with the first prompt.
    context: Mutex<Option<String>>,
    state: Mutex<SessionState>,
    stderr: Arc<Mutex<Vec<u8>>>,
    kill: Mutex<Option<oneshot::Sender<()>>>,
    /// The checkout root, snapshotted at each turn's start and end.
    root: PathBuf,
}

#[derive(Debug, Clone)]
struct SessionState {
    created: Instant,
    /// The journal sequence number of the session's start (or resume).
    opened_seq: u64,
    /// While the agent loads the session: the id of the `session/load` call. The updates
    /// that arrive meanwhile are the history it replays, which the journal already holds.
    loading: Option<u64>,
    /// How many replayed updates were dropped.
    replayed: u32,
    /// While loading: the agent's name and version for `SessionResumed`, which the stdout
    /// reader journals as soon as the load's answer arrives, before any update that follows
    /// it (an agent may send updates right after answering).
    resuming: Option<(Option<String>, Option<String>)>,
    /// The journaled `SessionResumed`: its sequence number, or why it could not be written.
    resumed: Option<Result<u64, String>>,
    alive: bool,
    next_prompt: u32,
    working: Option<u32>,
    next_request: u32,
    open: BTreeMap<u32, OpenRequest>,
    last_output: Instant,
    silent_flagged: bool,
    noise: u32,
}

impl SessionState {
    fn new(first_prompt: u32, next_request: u32) -> Self {
        let now = Instant::now();
        Self {
            created: now,
            opened_seq: 0,
            loading: None,
            replayed: 0,
            resuming: None,
            resumed: None,
            alive: true,
            next_prompt: first_prompt,
            working: None,
            next_request,
            open: BTreeMap::new(),
            last_output: now,
            silent_flagged: false,
            noise: 0,
        }
    }
}

/// A permission request waiting for an answer.
#[derive(Debug, Clone)]
struct OpenRequest {
    /// The JSON-RPC id to answer.
    rpc_id: Value,
    options: Vec<PermissionOption>,
    expires: Instant,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Session {
    fn state(&self) -> SessionState {
        lock(&self.state).clone()
    }

    /// Journals an event of this session without waiting for the commit (order is kept).
    async fn enqueue(&self, event: SessionEvent) {
        let body = EventBody::Session {
            session: self.id.clone(),
            event,
        };
        if let Err(error) = self.log.enqueue(body).await {
            tracing::error!(%error, "a session event could not be journaled");
        }
    }

    /// Journals an event and waits for the commit; returns its sequence number.
    async fn append(&self, event: SessionEvent) -> Result<u64, ProtocolError> {
        let body = EventBody::Session {
            session: self.id.clone(),
            event,
        };
        self.log
            .append(body, None)
            .await
            .map(|e| e.seq)
            .map_err(|e| ProtocolError::new(ErrorCode::Io, e.to_string()))
    }

    fn acp_session(&self) -> String {
        lock(&self.acp_session).clone()
    }

    /// `initialize`, then `SessionStarted`, `session/new` and the mode, if asked.
    async fn handshake(
        &self,
        place: &Workplace,
        container: Option<&DevContainer>,
        launch: &AgentLaunch,
    ) -> Result<u64, String> {
        let timeout = self.settings.init_timeout;
        let info = self.initialize().await?;
        let load_session = info.agent_capabilities.load_session;
        let (agent_name, agent_version) = match info.agent_info {
            Some(implementation) => (Some(implementation.name), Some(implementation.version)),
            None => (None, None),
        };
        let seq = self
            .append(SessionEvent::SessionStarted {
                agent: launch.agent.clone(),
                agent_name,
                agent_version,
            })
            .await
            .map_err(|e| e.message)?;

        let cwd = match container {
            Some(container) => PathBuf::from(&container.remote_workspace_folder),
            None => place.root.clone(),
        };
        let new_session = acp::NewSessionRequest::new(cwd);
        let answer = self
            .rpc
            .call("session/new", &new_session, Some(timeout))
            .await
            .map_err(|e| format!("the agent did not open a session: {e}"))?;
        let opened: acp::NewSessionResponse = serde_json::from_value(answer)
            .map_err(|e| format!("the agent's answer to session/new is not ACP: {e}"))?;
        *lock(&self.acp_session) = opened.session_id.0.to_string();
        if load_session {
            // Only now, with the agent's session id: a daemon that stops before this ends
            // the session as for any agent.
            let record = ResumeRecord {
                agent: launch.agent.clone(),
                argv: launch.argv.clone(),
                install: launch.install.clone(),
                in_container: launch.in_container,
                mode: launch.mode.clone(),
                env_names: launch.env.iter().map(|v| v.name.clone()).collect(),
                acp_session: opened.session_id.0.to_string(),
                first_prompt: lock(&self.state).next_prompt,
            };
            match serde_json::to_string(&record) {
                Ok(json) => {
                    if let Err(error) = self.log.put_resume(self.id.clone(), json).await {
                        tracing::warn!(%error, "the session will not resume after a restart");
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "the session will not resume after a restart");
                }
            }
        }
        self.switch_mode(
            &opened.session_id,
            opened.modes.as_ref(),
            launch.mode.as_ref(),
        )
        .await?;
        Ok(seq)
    }

    /// `session/set_mode` to `mode` when the agent offers it and is not in it already.
    async fn switch_mode(
        &self,
        session: &acp::SessionId,
        modes: Option<&acp::SessionModeState>,
        mode: Option<&String>,
    ) -> Result<(), String> {
        let (Some(mode), Some(modes)) = (mode, modes) else {
            return Ok(());
        };
        let offered = modes
            .available_modes
            .iter()
            .any(|m| m.id.0.as_ref() == mode.as_str());
        if offered && modes.current_mode_id.0.as_ref() != mode.as_str() {
            let request = acp::SetSessionModeRequest::new(session.clone(), mode.clone());
            self.rpc
                .call(
                    "session/set_mode",
                    &request,
                    Some(self.settings.init_timeout),
                )
                .await
                .map_err(|e| format!("the agent did not switch to mode {mode}: {e}"))?;
        }
        Ok(())
    }

    /// `initialize` and `session/load` of a suspended session, then `SessionResumed`. The
    /// updates the agent replays while loading are dropped (see [`SessionState::loading`]).
    async fn load(
        &self,
        place: &Workplace,
        container: Option<&DevContainer>,
        launch: &AgentLaunch,
        resume: &Suspended,
    ) -> Result<u64, String> {
        let timeout = self.settings.init_timeout;
        let info = self.initialize().await?;
        if !info.agent_capabilities.load_session {
            return Err("the agent no longer offers session/load".into());
        }
        let acp_session = resume.record.acp_session.clone();
        *lock(&self.acp_session) = acp_session.clone();
        let cwd = match container {
            Some(container) => PathBuf::from(&container.remote_workspace_folder),
            None => place.root.clone(),
        };
        let request = acp::LoadSessionRequest::new(acp_session.clone(), cwd);
        let id = self.rpc.next_id();
        {
            let mut state = lock(&self.state);
            state.loading = Some(id);
            state.resuming = Some(match info.agent_info {
                Some(implementation) => (Some(implementation.name), Some(implementation.version)),
                None => (None, None),
            });
        }
        let answer = self
            .rpc
            .call_numbered(id, "session/load", &request, Some(timeout))
            .await;
        let resumed = {
            let mut state = lock(&self.state);
            state.loading = None;
            state.resuming = None;
            state.resumed.take()
        };
        let answer = answer.map_err(|e| format!("session/load failed: {e}"))?;
        let loaded: acp::LoadSessionResponse = serde_json::from_value(answer)
            .map_err(|e| format!("the agent's answer to session/load is not ACP: {e}"))?;
        // Journaled by the stdout reader on the answer (see `SessionState::resuming`), so
        // before the mode switch and any update that follows the load.
        let seq = resumed.unwrap_or_else(|| Err("the load's answer was not journaled".into()))?;
        self.switch_mode(
            &acp::SessionId::new(acp_session),
            loaded.modes.as_ref(),
            launch.mode.as_ref(),
        )
        .await?;
        Ok(seq)
    }

    /// `initialize`, with no client file system or terminal.
    async fn initialize(&self) -> Result<acp::InitializeResponse, String> {
        // No client file system or terminal: the agent owns the workspace's files (the
        // direction of ACP v2), and some agents misbehave when the client claims `fs`.
        let initialize = acp::InitializeRequest::new(ProtocolVersion::V1)
            .client_capabilities(
                acp::ClientCapabilities::new()
                    .fs(acp::FileSystemCapabilities::new()
                        .read_text_file(false)
                        .write_text_file(false))
                    .terminal(false),
            )
            .client_info(acp::Implementation::new("sam-host", crate::VERSION));
        let answer = self
            .rpc
            .call("initialize", &initialize, Some(self.settings.init_timeout))
            .await
            .map_err(|e| format!("the agent did not initialize: {e}"))?;
        serde_json::from_value(answer)
            .map_err(|e| format!("the agent's answer to initialize is not ACP: {e}"))
    }

    /// Starts a turn: journals the prompt, sends `session/prompt`, and journals the end of
    /// the turn when the agent answers.
    async fn begin_turn(self: &Arc<Self>, text: String) -> Result<u32, ProtocolError> {
        let prompt = {
            let mut state = lock(&self.state);
            if !state.alive {
                return Err(ProtocolError::new(
                    ErrorCode::AgentFailed,
                    "the agent of this session has stopped; restart the session (the history \
                     goes with it as context)",
                ));
            }
            if let Some(running) = state.working {
                return Err(ProtocolError::new(
                    ErrorCode::Busy,
                    format!(
                        "the agent is still working on prompt {running}; wait for it or cancel it"
                    ),
                ));
            }
            let prompt = state.next_prompt;
            state.next_prompt += 1;
            state.working = Some(prompt);
            state.last_output = Instant::now();
            state.silent_flagged = false;
            prompt
        };
        if let Err(error) = self
            .append(SessionEvent::PromptSent {
                prompt,
                text: text.clone(),
            })
            .await
        {
            lock(&self.state).working = None;
            return Err(error);
        }
        // Before the agent sees the prompt, so that the snapshot holds none of its edits.
        self.snapshot_turn(prompt, false).await;
        let context = lock(&self.context).take();
        let full = match context {
            Some(context) => format!(
                "Earlier conversation in this workspace, for context:\n\n{context}\n\n---\n\n{text}"
            ),
            None => text,
        };
        let request =
            acp::PromptRequest::new(self.acp_session(), vec![acp::ContentBlock::from(full)]);
        let session = Arc::clone(self);
        tokio::spawn(async move {
            let answer = session.rpc.call("session/prompt", &request, None).await;
            let (stop_reason, error) = match answer {
                Ok(answer) => match answer.get("stopReason").and_then(Value::as_str) {
                    Some(reason) => (reason.to_owned(), None),
                    None => (
                        "error".to_owned(),
                        Some("the agent ended the turn without a stop reason".to_owned()),
                    ),
                },
                Err(error) => ("error".to_owned(), Some(error)),
            };
            session.cancel_open_requests().await;
            // While the turn still counts as running, so that no revert races it.
            session.snapshot_turn(prompt, true).await;
            lock(&session.state).working = None;
            session
                .enqueue(SessionEvent::TurnEnded {
                    prompt,
                    stop_reason,
                    error,
                })
                .await;
        });
        Ok(prompt)
    }

    /// Snapshots the working tree at a turn's start or end and records the tree. A failure
    /// is logged and recorded as no snapshot; it never fails the turn.
    async fn snapshot_turn(&self, prompt: u32, end: bool) {
        let tree = match crate::changes::snapshot(&self.root).await {
            Ok(tree) => Some(tree),
            // A folder that is not a git repository has no snapshots, turn after turn.
            Err(error) if error.code == ErrorCode::NotFound => None,
            Err(error) => {
                tracing::warn!(
                    session = %self.id,
                    prompt,
                    end,
                    error = %error.message,
                    "no working-tree snapshot for this turn"
                );
                None
            }
        };
        let recorded = self
            .log
            .record_turn(
                self.id.clone(),
                prompt,
                self.root.display().to_string(),
                tree,
                end,
            )
            .await;
        if let Err(error) = recorded {
            tracing::warn!(session = %self.id, prompt, %error, "a turn snapshot could not be recorded");
        }
    }

    /// `session/cancel`; open permission requests resolve as cancelled.
    async fn cancel(&self) {
        if lock(&self.state).working.is_none() {
            return;
        }
        let notification = acp::CancelNotification::new(self.acp_session());
        self.rpc.notify("session/cancel", &notification).await;
        self.cancel_open_requests().await;
    }

    async fn cancel_open_requests(&self) {
        let open: Vec<(u32, OpenRequest)> = std::mem::take(&mut lock(&self.state).open)
            .into_iter()
            .collect();
        for (request, open) in open {
            self.rpc
                .respond(
                    open.rpc_id,
                    Ok(json!({ "outcome": { "outcome": "cancelled" } })),
                )
                .await;
            self.enqueue(SessionEvent::PermissionResolved {
                request,
                outcome: PermissionOutcome::Cancelled,
            })
            .await;
        }
    }

    async fn answer(&self, request: u32, option_id: &str, by: &str) -> Result<(), ProtocolError> {
        let open = {
            let mut state = lock(&self.state);
            let Some(open) = state.open.get(&request) else {
                return Err(ProtocolError::new(
                    ErrorCode::NotFound,
                    format!(
                        "permission request {request} is not open (answered elsewhere, \
                         expired, or cancelled)"
                    ),
                ));
            };
            if !open.options.iter().any(|o| o.option_id == option_id) {
                let offered: Vec<&str> =
                    open.options.iter().map(|o| o.option_id.as_str()).collect();
                return Err(ProtocolError::new(
                    ErrorCode::NotFound,
                    format!(
                        "the agent did not offer `{}` for request {request}; it offered: {}",
                        tail_chars(option_id, 80),
                        offered.join(", ")
                    ),
                ));
            }
            state.open.remove(&request).ok_or_else(|| {
                ProtocolError::new(ErrorCode::Internal, "the request vanished".to_owned())
            })?
        };
        let response =
            acp::RequestPermissionResponse::new(acp::RequestPermissionOutcome::Selected(
                acp::SelectedPermissionOutcome::new(option_id.to_owned()),
            ));
        let response = serde_json::to_value(&response)
            .map_err(|e| ProtocolError::new(ErrorCode::Internal, e.to_string()))?;
        self.rpc.respond(open.rpc_id, Ok(response)).await;
        self.append(SessionEvent::PermissionResolved {
            request,
            outcome: PermissionOutcome::Selected {
                option_id: option_id.to_owned(),
                by: by.to_owned(),
            },
        })
        .await?;
        Ok(())
    }

    fn stop(&self) {
        if let Some(kill) = lock(&self.kill).take() {
            let _ = kill.send(());
        }
    }

    fn stderr_tail(&self) -> String {
        let bytes = lock(&self.stderr).clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Reads the agent's stdout to its end, one JSON-RPC message per line.
    async fn read_stdout(self: Arc<Self>, stdout: tokio::process::ChildStdout) {
        let mut reader = BufReader::with_capacity(64 * 1024, stdout);
        let mut line = Vec::new();
        loop {
            line.clear();
            match read_line_capped(&mut reader, &mut line, MAX_AGENT_LINE_BYTES).await {
                Ok(LineRead::End) => break,
                Ok(LineRead::TooLong(bytes)) => {
                    self.noise(format!(
                        "the agent sent a message of more than {} MiB ({bytes} bytes); it was \
                         dropped",
                        MAX_AGENT_LINE_BYTES / (1024 * 1024)
                    ))
                    .await;
                }
                Ok(LineRead::Line) => self.handle_line(&line).await,
                Err(error) => {
                    tracing::warn!(%error, "reading the agent's stdout failed");
                    break;
                }
            }
        }
    }

    async fn handle_line(&self, line: &[u8]) {
        {
            let mut state = lock(&self.state);
            state.last_output = Instant::now();
            state.silent_flagged = false;
        }
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        let message: Value = match serde_json::from_slice(trimmed) {
            Ok(Value::Object(map)) => Value::Object(map),
            _ => {
                let text = String::from_utf8_lossy(trimmed);
                self.noise(format!(
                    "not ACP on stdout: {}",
                    text.chars().take(300).collect::<String>()
                ))
                .await;
                return;
            }
        };
        let method = message.get("method").and_then(Value::as_str);
        let id = message.get("id").filter(|id| !id.is_null()).cloned();
        match (method, id) {
            (Some("session/update"), None) => {
                {
                    let mut state = lock(&self.state);
                    if state.loading.is_some() {
                        state.replayed = state.replayed.saturating_add(1);
                        return;
                    }
                }
                let update = message
                    .get("params")
                    .and_then(|p| p.get("update"))
                    .cloned()
                    .unwrap_or(Value::Null);
                let update = self.clip(update).await;
                self.enqueue(SessionEvent::Update { update }).await;
            }
            (Some(_), None) => {}
            (Some("session/request_permission"), Some(id)) => {
                self.permission_requested(id, message.get("params")).await;
            }
            (Some(method), Some(id)) => {
                tracing::debug!(
                    method,
                    "the agent called a method this client does not offer"
                );
                self.rpc
                    .respond(id, Err((-32601, format!("method not found: {method}"))))
                    .await;
            }
            (None, Some(id)) => {
                let resumed = {
                    // The load's answer ends the replay: what follows is new.
                    let mut state = lock(&self.state);
                    if state.loading.is_some() && state.loading == id.as_u64() {
                        state.loading = None;
                        let agent = state.resuming.take();
                        agent
                            .filter(|_| message.get("result").is_some())
                            .map(|agent| (agent, state.replayed))
                    } else {
                        None
                    }
                };
                if let Some(((agent_name, agent_version), replayed)) = resumed {
                    // Journaled here, before the next line is read: whatever the agent sends
                    // after its answer comes after `SessionResumed` in the journal.
                    let seq = self
                        .append(SessionEvent::SessionResumed {
                            agent_name,
                            agent_version,
                            replayed,
                        })
                        .await
                        .map_err(|e| e.message);
                    lock(&self.state).resumed = Some(seq);
                }
                self.rpc.complete(&id, &message);
            }
            (None, None) => {
                self.noise(
                    "a JSON message that is neither a request, a response nor a notification"
                        .into(),
                )
                .await;
            }
        }
    }

    async fn permission_requested(&self, rpc_id: Value, params: Option<&Value>) {
        let tool_call = params
            .and_then(|p| p.get("toolCall"))
            .cloned()
            .unwrap_or(Value::Null);
        let options: Vec<PermissionOption> = params
            .and_then(|p| p.get("options"))
            .and_then(Value::as_array)
            .map(|options| {
                options
                    .iter()
                    .filter_map(|o| {
                        Some(PermissionOption {
                            option_id: o.get("optionId")?.as_str()?.to_owned(),
                            name: o
                                .get("name")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            kind: o
                                .get("kind")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        if options.is_empty() {
            self.rpc
                .respond(
                    rpc_id,
                    Err((-32602, "a permission request needs options".into())),
                )
                .await;
            return;
        }
        let request = {
            let mut state = lock(&self.state);
            let request = state.next_request;
            state.next_request += 1;
            state.open.insert(
                request,
                OpenRequest {
                    rpc_id,
                    options: options.clone(),
                    expires: Instant::now() + self.settings.permission_expiry,
                },
            );
            request
        };
        self.enqueue(SessionEvent::PermissionRequested {
            request,
            tool_call,
            options,
        })
        .await;
    }

    /// An update too large for one event is journaled clipped, and kept whole in a file.
    async fn clip(&self, update: Value) -> Value {
        let Ok(json) = serde_json::to_vec(&update) else {
            return update;
        };
        if json.len() <= MAX_UPDATE_JSON_BYTES {
            return update;
        }
        let name = format!(
            "{}-{}.json",
            self.id,
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let path = self.settings.payload_dir.join(name);
        let saved = write_private(&path, &json).await;
        let text: String = update
            .get("content")
            .and_then(|c| c.get("text").or_else(|| c.pointer("/0/content/text")))
            .and_then(Value::as_str)
            .map(|t| clip_str(t, CLIPPED_TEXT_BYTES).to_owned())
            .unwrap_or_default();
        let mut clipped = serde_json::Map::new();
        for key in ["sessionUpdate", "toolCallId", "title", "kind", "status"] {
            if let Some(value) = update.get(key) {
                clipped.insert(key.to_owned(), value.clone());
            }
        }
        clipped.insert(
            "content".into(),
            json!({ "type": "text", "text": format!("{text}…") }),
        );
        clipped.insert(
            "_sam".into(),
            json!({
                "clipped_bytes": json.len(),
                "saved_as": saved.ok().map(|()| path.display().to_string()),
            }),
        );
        Value::Object(clipped)
    }

    async fn noise(&self, detail: String) {
        let count = {
            let mut state = lock(&self.state);
            state.noise += 1;
            state.noise
        };
        if count <= MAX_NOISE_EVENTS {
            self.enqueue(SessionEvent::ProtocolNoise { detail }).await;
        } else if count == MAX_NOISE_EVENTS + 1 {
            self.enqueue(SessionEvent::ProtocolNoise {
                detail: "more non-ACP output followed; it is no longer recorded".into(),
            })
            .await;
        }
    }

    /// Waits for the agent to exit (or to be stopped), then reports it once everything it
    /// wrote is journaled.
    async fn watch_exit(
        self: Arc<Self>,
        mut child: Child,
        killed: oneshot::Receiver<()>,
        reader: tokio::task::JoinHandle<()>,
    ) {
        let status = tokio::select! {
            status = child.wait() => status,
            _ = killed => {
                let _ = child.start_kill();
                child.wait().await
            }
        };
        let _ = reader.await;
        // Give the stderr collector a moment to read the last of it.
        tokio::time::sleep(Duration::from_millis(50)).await;
        lock(&self.state).alive = false;
        self.rpc.fail_all("the agent exited");
        // The agent ended under this daemon: the session is over, it will not resume.
        if let Err(error) = self.log.drop_resume(self.id.clone()).await {
            tracing::warn!(%error, "a resume record could not be removed");
        }
        let code = status.ok().and_then(|s| s.code());
        let tail = tail_chars(self.stderr_tail().trim(), 4000);
        self.cancel_open_requests().await;
        self.enqueue(SessionEvent::AgentExited {
            code,
            stderr_tail: tail,
        })
        .await;
    }

    /// Flags silent turns and expires unanswered permission requests.
    async fn watch_timers(self: Arc<Self>) {
        let tick = (self.settings.silent_after / 4)
            .min(self.settings.permission_expiry / 4)
            .clamp(Duration::from_millis(20), Duration::from_secs(5));
        loop {
            tokio::time::sleep(tick).await;
            let (alive, silent, expired) = {
                let mut state = lock(&self.state);
                let now = Instant::now();
                let quiet = now.saturating_duration_since(state.last_output);
                let silent = if state.working.is_some()
                    && state.open.is_empty()
                    && !state.silent_flagged
                    && quiet >= self.settings.silent_after
                {
                    state.silent_flagged = true;
                    Some(quiet)
                } else {
                    None
                };
                let expired: Vec<u32> = state
                    .open
                    .iter()
                    .filter(|(_, o)| o.expires <= now)
                    .map(|(n, _)| *n)
                    .collect();
                let expired: Vec<(u32, OpenRequest)> = expired
                    .into_iter()
                    .filter_map(|n| state.open.remove(&n).map(|o| (n, o)))
                    .collect();
                (state.alive, silent, expired)
            };
            if let Some(quiet) = silent {
                self.enqueue(SessionEvent::AgentSilent {
                    silent_ms: u64::try_from(quiet.as_millis()).unwrap_or(u64::MAX),
                })
                .await;
            }
            for (request, open) in expired {
                self.rpc
                    .respond(
                        open.rpc_id,
                        Ok(json!({ "outcome": { "outcome": "cancelled" } })),
                    )
                    .await;
                self.enqueue(SessionEvent::PermissionResolved {
                    request,
                    outcome: PermissionOutcome::Expired,
                })
                .await;
            }
            if !alive {
                break;
            }
        }
    }
}

/// The JSON-RPC side of the agent's stdin: numbered calls, notifications, responses.
#[derive(Debug)]
struct Rpc {
    lines: mpsc::Sender<Vec<u8>>,
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>,
}

impl Rpc {
    fn new(stdin: tokio::process::ChildStdin) -> Self {
        let (lines, mut queue) = mpsc::channel::<Vec<u8>>(256);
        tokio::spawn(async move {
            let mut stdin = stdin;
            while let Some(line) = queue.recv().await {
                if stdin.write_all(&line).await.is_err() || stdin.flush().await.is_err() {
                    break;
                }
            }
        });
        Self {
            lines,
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
        }
    }

    async fn send(&self, message: &Value) -> bool {
        let Ok(mut line) = serde_json::to_vec(message) else {
            return false;
        };
        line.push(b'\n');
        self.lines.send(line).await.is_ok()
    }

    /// Calls `method` and waits for the answer (up to `timeout`, when given).
    async fn call(
        &self,
        method: &str,
        params: &impl Serialize,
        timeout: Option<Duration>,
    ) -> Result<Value, String> {
        self.call_numbered(self.next_id(), method, params, timeout)
            .await
    }

    /// A fresh call id, for [`Rpc::call_numbered`].
    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// As [`Rpc::call`], with an id from [`Rpc::next_id`] (known before the call goes out).
    async fn call_numbered(
        &self,
        id: u64,
        method: &str,
        params: &impl Serialize,
        timeout: Option<Duration>,
    ) -> Result<Value, String> {
        let (done, answer) = oneshot::channel();
        lock(&self.pending).insert(id, done);
        let params = serde_json::to_value(params).map_err(|e| e.to_string())?;
        let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        if !self.send(&message).await {
            lock(&self.pending).remove(&id);
            return Err("the agent's stdin is closed".into());
        }
        let answer = match timeout {
            Some(limit) => match tokio::time::timeout(limit, answer).await {
                Ok(answer) => answer,
                Err(_) => {
                    lock(&self.pending).remove(&id);
                    return Err(format!("no answer within {} s", limit.as_secs()));
                }
            },
            None => answer.await,
        };
        answer.map_err(|_| "the agent exited".to_owned())?
    }

    async fn notify(&self, method: &str, params: &impl Serialize) {
        if let Ok(params) = serde_json::to_value(params) {
            self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }))
                .await;
        }
    }

    async fn respond(&self, id: Value, result: Result<Value, (i64, String)>) {
        let message = match result {
            Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
            Err((code, message)) => json!({
                "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message }
            }),
        };
        self.send(&message).await;
    }

    /// Hands an answer to the call waiting for it.
    fn complete(&self, id: &Value, message: &Value) {
        let Some(id) = id.as_u64() else { return };
        let Some(done) = lock(&self.pending).remove(&id) else {
            return;
        };
        let result = match (message.get("result"), message.get("error")) {
            (_, Some(error)) => Err(format!(
                "the agent answered with an error: {}",
                error
                    .get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| error.to_string(), readable_error)
            )),
            (Some(result), None) => Ok(result.clone()),
            (None, None) => Ok(Value::Null),
        };
        let _ = done.send(result);
    }

    fn fail_all(&self, reason: &str) {
        for (_, done) in lock(&self.pending).drain() {
            let _ = done.send(Err(reason.to_owned()));
        }
    }
}

/// Whether a container engine's stderr says the container does not exist.
fn container_gone(stderr: &str) -> bool {
    let stderr = stderr.to_ascii_lowercase();
    stderr.contains("no container with name or id") || stderr.contains("no such container")
}

/// An agent's error message as people read it. Some agents pass a provider's error on as its
/// raw JSON body (Gemini CLI: `{"error":{"code":400,"message":"API key not valid…",
/// "status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID",…}]}}`); then the
/// provider's own message is taken out, with its code, status and reasons. Anything else is
/// kept as it is.
fn readable_error(message: &str) -> String {
    let Some(start) = message.find(['{', '[']) else {
        return message.to_owned();
    };
    let Ok(body) = serde_json::from_str::<Value>(message[start..].trim_end()) else {
        return message.to_owned();
    };
    // `[{"error":…}]` (a streamed error) or `{"error":…}`, or the error object itself.
    let body = body.get(0).unwrap_or(&body);
    let error = body.get("error").unwrap_or(body);
    let Some(text) = error.get("message").and_then(Value::as_str) else {
        return message.to_owned();
    };
    let mut about: Vec<String> = Vec::new();
    let code = error.get("code").map(|c| match c {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let status = error
        .get("status")
        .or_else(|| error.get("type"))
        .and_then(Value::as_str);
    match (code, status) {
        (Some(code), Some(status)) => about.push(format!("{code} {status}")),
        (Some(code), None) => about.push(code),
        (None, Some(status)) => about.push(status.to_owned()),
        (None, None) => {}
    }
    if let Some(details) = error.get("details").and_then(Value::as_array) {
        about.extend(
            details
                .iter()
                .filter_map(|d| d.get("reason").and_then(Value::as_str))
                .map(str::to_owned),
        );
    }
    let prefix = message[..start].trim_end_matches([' ', ':']).trim();
    let mut readable = String::new();
    if !prefix.is_empty() {
        readable.push_str(prefix);
        readable.push_str(": ");
    }
    readable.push_str(text.trim());
    if !about.is_empty() {
        readable.push_str(&format!(" ({})", about.join(", ")));
    }
    readable
}

enum LineRead {
    Line,
    TooLong(usize),
    End,
}

/// Reads one line into `line` (without limit on the number of lines, but at most `cap` bytes
/// each: a longer line is skipped to its end and reported).
async fn read_line_capped<R>(
    reader: &mut BufReader<R>,
    line: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<LineRead>
where
    R: AsyncRead + Unpin,
{
    let mut skipped = 0usize;
    loop {
        let buffer = reader.fill_buf().await?;
        if buffer.is_empty() {
            return Ok(if skipped > 0 {
                LineRead::TooLong(skipped)
            } else if line.is_empty() {
                LineRead::End
            } else {
                LineRead::Line
            });
        }
        let (chunk, found) = match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => (&buffer[..at], true),
            None => (buffer, false),
        };
        let used = chunk.len() + usize::from(found);
        if skipped > 0 || line.len() + chunk.len() > cap {
            skipped += line.len() + chunk.len();
            line.clear();
        } else {
            line.extend_from_slice(chunk);
        }
        reader.consume(used);
        if found {
            return Ok(if skipped > 0 {
                LineRead::TooLong(skipped)
            } else {
                LineRead::Line
            });
        }
    }
}

/// Keeps the last [`STDERR_TAIL_BYTES`] of the agent's stderr.
async fn collect_stderr(mut stderr: tokio::process::ChildStderr, tail: Arc<Mutex<Vec<u8>>>) {
    let mut chunk = vec![0u8; 8192];
    loop {
        match stderr.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let mut tail = lock(&tail);
                tail.extend_from_slice(&chunk[..n]);
                if tail.len() > STDERR_TAIL_BYTES {
                    let excess = tail.len() - STDERR_TAIL_BYTES;
                    tail.drain(..excess);
                }
            }
        }
    }
}

fn clip_str(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

async fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let path = path.to_owned();
    let bytes = bytes.to_vec();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut file = std::fs::File::options()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(&bytes)
    })
    .await
    .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn a_providers_raw_error_body_is_read_out_and_anything_else_kept() {
        let google = r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#;
        assert_eq!(
            readable_error(google),
            "API key not valid. Please pass a valid API key. (400 INVALID_ARGUMENT, API_KEY_INVALID)"
        );
        let streamed = format!("[{google}]");
        assert_eq!(readable_error(&streamed), readable_error(google));
        let anthropic = r#"Request failed: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            readable_error(anthropic),
            "Request failed: Overloaded (overloaded_error)"
        );
        for kept in [
            "Internal error",
            "bad {json",
            r#"{"no":"message"}"#,
            "[1, 2, 3]",
            "",
        ] {
            assert_eq!(readable_error(kept), kept);
        }
    }

    #[tokio::test]
    async fn long_lines_are_skipped_whole_and_reading_goes_on() {
        let input: &[u8] = b"short\n0123456789abcdef\nend";
        let mut reader = BufReader::with_capacity(4, input);
        let mut line = Vec::new();
        assert!(matches!(
            read_line_capped(&mut reader, &mut line, 10).await.unwrap(),
            LineRead::Line
        ));
        assert_eq!(line, b"short");
        line.clear();
        assert!(matches!(
            read_line_capped(&mut reader, &mut line, 10).await.unwrap(),
            LineRead::TooLong(16)
        ));
        line.clear();
        assert!(matches!(
            read_line_capped(&mut reader, &mut line, 10).await.unwrap(),
            LineRead::Line
        ));
        assert_eq!(line, b"end");
        line.clear();
        assert!(matches!(
            read_line_capped(&mut reader, &mut line, 10).await.unwrap(),
            LineRead::End
        ));
    }

    #[test]
    fn package_names_versions_and_programs_are_checked() {
        assert!(valid_npm_name("@agentclientprotocol/claude-agent-acp"));
        assert!(!valid_npm_name("../evil"));
        assert!(!valid_npm_name("-rf"));
        assert!(!valid_npm_name("a b"));
        assert!(valid_npm_version("0.101.0"));
        assert!(!valid_npm_version("latest"));
        assert!(!valid_npm_version("1.0.0 && rm"));
        assert!(valid_bin("claude-agent-acp"));
        assert!(!valid_bin("../../bin/sh"));
    }
}

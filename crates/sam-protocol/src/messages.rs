//! The messages of protocol version [`crate::PROTOCOL_VERSION`].
//!
//! Every top-level message is a JSON object tagged by `"type"`; request, response and event
//! bodies are tagged by `"kind"`. Field and tag names are `snake_case`. The golden tests in
//! `tests/protocol.rs` pin the exact JSON: a change that breaks them needs a version bump.

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::Secret;
use crate::changes::{
    Changes, ChangesVersion, FileDiff, Shipped, TurnChanges, TurnRef, TurnReverted,
};
use crate::files::{FoundFiles, ResolvedPath};
use crate::session::{EnvVar, SessionEvent, SessionId, SessionStatus, StartSession};

/// Everything a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first frame of every connection, and only the first.
    Hello(Hello),
    /// A request; the host answers it with a [`Response`] carrying the same id.
    Request(Request),
}

/// Everything the host sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostMessage {
    /// The handshake succeeded.
    Welcome(Welcome),
    /// The handshake failed; the host closes the connection after this frame.
    Incompatible(Incompatible),
    /// The answer to one [`Request`].
    Response(Response),
    /// A journaled event, sent to subscribed connections.
    Event(Event),
    /// The client broke the protocol (oversized or unreadable frame); the host closes the
    /// connection after this frame. Pending requests on it get no response.
    Fatal(ProtocolError),
}

/// The client's opening frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The protocol version the client speaks.
    pub protocol: u32,
    /// Who is connecting, for the host's log (for example `sam-desktop 0.1.0`).
    pub client: String,
}

/// The host's answer to a compatible [`Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// The protocol version both sides now speak.
    pub protocol: u32,
    /// The `sam-host` build version.
    pub host_version: String,
    /// Where the host stands right now.
    pub state: HostState,
}

/// The host's answer to an incompatible [`Hello`], after which it closes the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incompatible {
    /// The protocol version the host speaks.
    pub host_protocol: u32,
    /// What to do about it, for the user.
    pub message: String,
}

/// Where the host stands. Only `Ready` serves workspace requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HostState {
    /// No setup has been asked for yet.
    Unconfigured,
    /// A setup is running; workspace requests queue until it ends.
    SettingUp,
    /// The workspace is checked out and requests are served.
    Ready,
    /// The last setup failed; workspace requests fail until a new setup succeeds.
    Failed {
        /// Why, for the user (git's error output, redacted).
        reason: String,
    },
}

/// One request from the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Chosen by the client, unique among its requests in flight on this connection.
    pub id: u64,
    /// What is asked.
    pub body: RequestBody,
}

/// What a [`Request`] asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RequestBody {
    /// Answered with [`ResponseBody::Pong`]; never queued.
    Ping,
    /// Answered with [`ResponseBody::Status`]; never queued.
    Status,
    /// Start receiving events on this connection: first every journaled event with a sequence
    /// number above `after` (all of them when `None`), then live events, with no gap and no
    /// duplicate. Answered with [`ResponseBody::Subscribed`] before the first event. A second
    /// subscribe on the same connection replaces the first.
    Subscribe {
        /// The last sequence number the client already has.
        after: Option<u64>,
    },
    /// Set the workspace up (see [`SetupPlan`]). Answered with [`ResponseBody::SetupReady`]
    /// when the setup ends, or at once when the host is already ready with the same plan; a
    /// failed setup answers [`ErrorCode::SetupFailed`]. Never queued.
    Setup(SetupPlan),
    /// Read a file of the checkout. Needs `Ready`: queued while the host is unconfigured or
    /// setting up.
    ReadFile {
        /// Relative to the checkout root (an absolute path must lie inside it). `..` may not
        /// leave the root and symlinks may not point out of it.
        path: String,
        /// The most bytes to return; clamped to [`crate::MAX_READ_BYTES`].
        max_bytes: u64,
    },
    /// Record that the desktop is in contact: refreshes the activity stamp the machine's idle
    /// watchdog reads. Answered with [`ResponseBody::Touched`]; never queued.
    Touch,
    /// Run a program in the checkout, without a shell, and wait for it to exit. Answered with
    /// [`ResponseBody::Ran`] whatever the exit status; [`ErrorCode::TimedOut`] when it runs
    /// past `timeout_ms` (it is then stopped), [`ErrorCode::NotFound`] when `in_container` is
    /// asked of a workspace without a dev container or the program is not on the host,
    /// [`ErrorCode::InvalidRequest`] for an empty argv, an argv[0] starting with `-`, or a
    /// zero timeout. Needs `Ready`: queued like `ReadFile` (the timeout starts when the
    /// program does). Inside the container, the engine runs it (`exec`) with the container's
    /// environment; `remoteEnv` of `devcontainer.json` is not applied.
    Run {
        /// The program and its arguments, passed as they are (no shell, no expansion). The
        /// program is looked up on the `PATH` of the host or of the container.
        argv: Vec<String>,
        /// Run inside the workspace's dev container (as its remote user, in its remote
        /// workspace folder) rather than on the host (in the checkout root).
        in_container: bool,
        /// The most the program may run, in milliseconds: at least 1, clamped to
        /// [`crate::MAX_RUN_TIMEOUT_MS`].
        timeout_ms: u64,
    },
    /// Start an agent and open an ACP session with it (installing the agent first when
    /// asked). Answered with [`ResponseBody::SessionOpened`] once the agent answered
    /// `session/new`; [`ErrorCode::AgentFailed`] when it could not be started (the reason is
    /// journaled too), [`ErrorCode::InvalidRequest`] for an id already in use. Needs `Ready`.
    StartSession(StartSession),
    /// Send a prompt to a session's agent. Answered with [`ResponseBody::PromptAccepted`] as
    /// soon as the turn started (its end is the [`SessionEvent::TurnEnded`] event);
    /// [`ErrorCode::Busy`] while another turn of the session runs, [`ErrorCode::NotFound`] for
    /// an unknown session, [`ErrorCode::AgentFailed`] when its agent is gone (or suspended:
    /// [`RequestBody::ResumeSession`] first).
    Prompt {
        /// The session.
        session: SessionId,
        /// What the user wrote.
        text: String,
    },
    /// Cancel the session's running turn (`session/cancel`); the session stays open and open
    /// permission requests resolve as cancelled. Answered with [`ResponseBody::Done`], also when
    /// no turn runs.
    Cancel {
        /// The session.
        session: SessionId,
    },
    /// Answer an open permission request. Answered with [`ResponseBody::Done`];
    /// [`ErrorCode::NotFound`] when the request is not open (already answered elsewhere,
    /// expired, or unknown) or the option is not one the agent offered.
    AnswerPermission {
        /// The session.
        session: SessionId,
        /// The request's number.
        request: u32,
        /// The option chosen.
        option_id: String,
        /// Who answers (`desktop`, `cli`, `notification`), for the record.
        by: String,
    },
    /// Start the agent of a resumable session again ([`SessionEvent::AgentSuspended`]: its
    /// agent stopped with an earlier `sam-host` and can load sessions) and load the session
    /// (`session/load`): the same program, arguments, install, container and mode as when
    /// it started, with `env` as its environment (the host never keeps an agent's
    /// environment, so the desktop hands it again). Answered with
    /// [`ResponseBody::SessionOpened`] once the agent loaded it (also when it already runs
    /// again); [`ErrorCode::AgentFailed`] when the agent could not load it (the session then
    /// ends, journaled as [`SessionEvent::AgentFailed`]: restart it with its history),
    /// [`ErrorCode::NotFound`] for a session that cannot resume. Needs `Ready`.
    ResumeSession {
        /// The session.
        session: SessionId,
        /// Environment for the agent process only (credentials, base URLs), as in
        /// [`crate::AgentLaunch::env`]. Last: it may hold secrets.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        env: Vec<EnvVar>,
    },
    /// Stop a session's agent process. Answered with [`ResponseBody::Done`].
    StopSession {
        /// The session.
        session: SessionId,
    },
    /// The host's sessions. Answered with [`ResponseBody::Sessions`]; never queued.
    Sessions,
    /// Which of these paths (mentioned by an agent, say) exist in the workspace. Answered with
    /// [`ResponseBody::ResolvedPaths`], one entry per candidate in order; a missing or hostile
    /// candidate is an entry saying so, not an error. Checked on disk at the time of the
    /// request, so a file created a moment ago is found and one deleted is not.
    /// [`ErrorCode::InvalidRequest`] for more than [`crate::MAX_RESOLVE_PATHS`] candidates.
    /// Needs `Ready`: queued like `ReadFile`.
    ResolvePaths {
        /// The candidates, each as `ReadFile`'s `path`: relative to the checkout root (an
        /// absolute path must lie inside it), `..` may not leave the root and symlinks may
        /// not point out of it. Unlike the file index, `.gitignore` does not matter here.
        paths: Vec<String>,
    },
    /// Fuzzy "go to file" over the workspace's file index. Answered with
    /// [`ResponseBody::FoundFiles`]. The index holds the checkout's files (not directories,
    /// not symlinks) that `.gitignore` and `.ignore` files do not exclude, dot-files
    /// included, `.git` never; it is built on first use and refreshed in the background once
    /// it is a few seconds old. Needs `Ready`: queued like `ReadFile`.
    FindFiles {
        /// What the user typed: space-separated words that must all match (fzf syntax:
        /// `'exact`, `^prefix`, `suffix$`, `!not`); case-sensitive only when it has an
        /// upper-case letter. Empty lists the first files of the index.
        query: String,
        /// The most matches to return; clamped to [`crate::MAX_FIND_FILES`].
        limit: u32,
    },
    /// What changed in the checkout against its base: the working tree as it is on disk
    /// (staged or not, untracked files included unless ignored) against a commit. Answered
    /// with [`ResponseBody::Changes`]; [`ErrorCode::InvalidRequest`] for a base that is not a
    /// commit, [`ErrorCode::NotFound`] when the checkout is not a git repository. Needs
    /// `Ready`: queued like `ReadFile`.
    Changes {
        /// A commit-ish (`HEAD~2`, a branch, a hex id). `None`: the commit the checkout was on
        /// when the setup finished, else `HEAD`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base: Option<String>,
    },
    /// The unified diff of one changed file against the base, as [`RequestBody::Changes`]
    /// sees it. Answered with [`ResponseBody::FileDiff`]; [`ErrorCode::NotFound`] when the
    /// file has no changes, [`ErrorCode::InvalidRequest`] for a path `ReadFile` would refuse
    /// (outside the checkout, inside `.git`, ...). Needs `Ready`.
    FileDiff {
        /// The file (where it is now; where it was, for a deleted file), confined like
        /// `ReadFile`'s `path`.
        path: String,
        /// For a renamed or copied file: where it came from (from [`Changes`]), so that the
        /// diff shows the rename rather than a new file. Confined like `path`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        old_path: Option<String>,
        /// As for [`RequestBody::Changes`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base: Option<String>,
        /// The file's diff in one agent turn instead (between the snapshots of
        /// [`RequestBody::TurnChanges`]; `base` is then ignored): errors as for that request,
        /// and [`ErrorCode::NotFound`] when the turn did not change the file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        turn: Option<TurnRef>,
    },
    /// Commit every change of the checkout (as [`RequestBody::Changes`] sees them) on a
    /// branch of its own, switch the checkout to it, and push it to `origin` when asked.
    /// Git hooks do not run. Answered with [`ResponseBody::Shipped`], also when the push
    /// failed (it says why). [`ErrorCode::NothingToCommit`] when there is nothing to ship,
    /// [`ErrorCode::ProtectedBranch`] for the remote's default branch (`origin/HEAD`, else
    /// `main` and `master`), [`ErrorCode::InvalidRequest`] for an empty message or a branch
    /// that is not a valid new branch name. Needs `Ready`.
    Ship {
        /// The commit message (its first line is the subject).
        message: String,
        /// The branch to commit on: the current one or a new one. `None`: `sam/<slug>` with
        /// the slug from the message's subject (a number appended when taken), or the
        /// current branch when it already is a `sam/` branch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        branch: Option<String>,
        /// Push the branch to `origin` (and set it as the branch's upstream).
        push: bool,
        /// A token for pushing over HTTPS. It reaches git only through the git process's
        /// environment (as for the clone); the host never writes it anywhere.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<Secret>,
    },
    /// What one agent turn changed: the working tree when the turn ended against the working
    /// tree when its prompt was sent (snapshots `sam-host` takes at those moments, without
    /// touching the index, HEAD or any branch). Answered with [`ResponseBody::TurnChanges`];
    /// [`ErrorCode::NotFound`] for a turn without snapshots (unknown session or prompt, a
    /// folder that is not a git repository, a snapshot that failed), [`ErrorCode::Busy`]
    /// while the turn is still running. Needs `Ready`.
    TurnChanges {
        /// The session.
        session: SessionId,
        /// The turn (its prompt number).
        prompt: u32,
    },
    /// Puts the files one turn changed back as they were when its prompt was sent (files it
    /// created are removed), only if none of them has changed since the turn ended.
    /// Answered with [`ResponseBody::TurnReverted`]; [`ErrorCode::ChangedSince`] (nothing
    /// restored) when some did, the message listing them; otherwise as
    /// [`RequestBody::TurnChanges`]. The index, HEAD and branches are not touched.
    RevertTurn {
        /// The session.
        session: SessionId,
        /// The turn (its prompt number).
        prompt: u32,
    },
    /// Waits until the checkout changes: answered with [`ResponseBody::ChangesVersion`] as
    /// soon as the checkout's change counter differs from `after` (at once when it already
    /// does; a burst of writes is answered once, shortly after it starts), or when
    /// `timeout_ms` has passed with the counter unchanged. The counter counts writes the
    /// host's file watcher saw in the working tree, outside `.git` and outside what the
    /// root `.gitignore` excludes; it starts at 1, so `after: 0` answers at once. When the
    /// checkout cannot be watched (too many directories for the system's watch limit, say)
    /// the answer comes at once with `live: false`, and the client polls. Needs `Ready`.
    WaitChanges {
        /// The counter the client last saw (0: none yet).
        after: u64,
        /// How long to wait for a change, clamped to [`crate::MAX_WAIT_CHANGES_MS`].
        timeout_ms: u64,
    },
    /// Removes the workspace's dev container, before the workspace is deleted: exactly the
    /// container `devcontainer up` reported for this host's setup, by its id, with the engine
    /// (docker or podman) that made it, stopped and removed with its anonymous volumes; no
    /// other container, image or volume. Answered with [`ResponseBody::ContainerRemoved`]
    /// (also when there is none, or it is gone already); [`ErrorCode::Busy`] while a setup
    /// runs, [`ErrorCode::Io`] when the engine fails (the message says how). Never queued.
    RemoveContainer,
}

impl RequestBody {
    /// The request's kind as it appears on the wire, for logs (which never carry bodies).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Ping => "ping",
            Self::Status => "status",
            Self::Subscribe { .. } => "subscribe",
            Self::Setup(_) => "setup",
            Self::ReadFile { .. } => "read_file",
            Self::Touch => "touch",
            Self::Run { .. } => "run",
            Self::StartSession(_) => "start_session",
            Self::Prompt { .. } => "prompt",
            Self::Cancel { .. } => "cancel",
            Self::AnswerPermission { .. } => "answer_permission",
            Self::ResumeSession { .. } => "resume_session",
            Self::StopSession { .. } => "stop_session",
            Self::Sessions => "sessions",
            Self::ResolvePaths { .. } => "resolve_paths",
            Self::FindFiles { .. } => "find_files",
            Self::Changes { .. } => "changes",
            Self::FileDiff { .. } => "file_diff",
            Self::Ship { .. } => "ship",
            Self::TurnChanges { .. } => "turn_changes",
            Self::RevertTurn { .. } => "revert_turn",
            Self::WaitChanges { .. } => "wait_changes",
            Self::RemoveContainer => "remove_container",
        }
    }
}

/// What to set up on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupPlan {
    /// The workspace's id, the same everywhere (desktop DB, host journal, UI).
    pub workspace_id: String,
    /// Where the code comes from.
    pub repository: RepoSource,
    /// An absolute path on the host to clone into. Ignored for [`RepoSource::LocalPath`], which
    /// is used in place.
    pub checkout_dir: String,
    /// A token for cloning over HTTPS. It reaches git only through the git process's
    /// environment; the host never writes it anywhere. Not part of the plan's identity: a
    /// repeated setup with another token is still the same plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_token: Option<Secret>,
}

impl SetupPlan {
    /// Whether `other` sets up the same workspace the same way (the token aside).
    pub fn same_target(&self, other: &SetupPlan) -> bool {
        self.workspace_id == other.workspace_id
            && self.repository == other.repository
            && self.checkout_dir == other.checkout_dir
    }
}

/// Where a workspace's code comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RepoSource {
    /// A git repository to clone.
    GitUrl {
        /// Anything `git clone` accepts: `https://`, `ssh://`, `file://`, `git@host:path`.
        url: String,
        /// The branch to check out; the remote's default branch when `None`.
        branch: Option<String>,
    },
    /// A folder that already exists on the host, used in place.
    LocalPath {
        /// An absolute path on the host.
        path: String,
    },
}

/// The host's answer to one [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The id of the request answered.
    pub id: u64,
    /// The answer; on the wire `{"ok": body}` or `{"err": error}`.
    #[serde(with = "wire_result")]
    pub result: Result<ResponseBody, ProtocolError>,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResponseBody {
    /// The answer to [`RequestBody::Ping`].
    Pong,
    /// The answer to [`RequestBody::Status`].
    Status(HostStatus),
    /// The answer to [`RequestBody::Subscribe`]; events follow.
    Subscribed {
        /// The journal's last sequence number when the subscription started: once the client
        /// has seen this one it has caught up.
        head_seq: u64,
    },
    /// The answer to a successful [`RequestBody::Setup`].
    SetupReady {
        /// The checkout root the host serves (canonical).
        checkout_dir: String,
    },
    /// The answer to [`RequestBody::ReadFile`].
    File(FileContents),
    /// The answer to [`RequestBody::Touch`].
    Touched {
        /// The stamp written, in milliseconds since the Unix epoch.
        at_ms: u64,
    },
    /// The answer to [`RequestBody::Run`]: the program exited (successfully or not).
    Ran {
        /// The exit code; `128 + n` when a signal `n` ended the program (as shells report
        /// it). Inside a container, the engine's own failures (for example 126 or 127 for a
        /// program it cannot start) come through here too.
        status: i32,
        /// The program's standard output, UTF-8 with invalid bytes replaced, at most
        /// [`crate::MAX_RUN_STDOUT_BYTES`] bytes of it.
        stdout: String,
        /// Whether `stdout` stops before the end of what the program wrote.
        #[serde(default)]
        stdout_truncated: bool,
        /// The end of the program's standard error (at most
        /// [`crate::MAX_RUN_STDERR_TAIL_BYTES`] bytes), UTF-8 with invalid bytes replaced.
        stderr_tail: String,
    },
    /// The answer to [`RequestBody::StartSession`].
    SessionOpened {
        /// The session.
        session: SessionId,
        /// The journal sequence number of its [`SessionEvent::SessionStarted`] event.
        seq: u64,
    },
    /// The answer to [`RequestBody::Prompt`]: the turn started.
    PromptAccepted {
        /// The turn number.
        prompt: u32,
    },
    /// The answer to requests that have nothing else to say.
    Done,
    /// The answer to [`RequestBody::Sessions`].
    Sessions {
        /// Every session the host knows, oldest first.
        sessions: Vec<SessionStatus>,
    },
    /// The answer to [`RequestBody::ResolvePaths`].
    ResolvedPaths {
        /// One entry per candidate, in the order asked.
        paths: Vec<ResolvedPath>,
    },
    /// The answer to [`RequestBody::FindFiles`].
    FoundFiles(FoundFiles),
    /// The answer to [`RequestBody::Changes`].
    Changes(Changes),
    /// The answer to [`RequestBody::FileDiff`].
    FileDiff(FileDiff),
    /// The answer to [`RequestBody::Ship`].
    Shipped(Shipped),
    /// The answer to [`RequestBody::TurnChanges`].
    TurnChanges(TurnChanges),
    /// The answer to [`RequestBody::RevertTurn`].
    TurnReverted(TurnReverted),
    /// The answer to [`RequestBody::WaitChanges`].
    ChangesVersion(ChangesVersion),
    /// The answer to [`RequestBody::RemoveContainer`].
    ContainerRemoved {
        /// The container removed; `None` when the workspace had none (or it was gone).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        container_id: Option<String>,
    },
}

/// The host's state and vital numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStatus {
    /// Where the host stands.
    pub state: HostState,
    /// The `sam-host` build version.
    pub host_version: String,
    /// The daemon's process id.
    pub pid: u32,
    /// The workspace of the current or last setup.
    pub workspace_id: Option<String>,
    /// The checkout root, once ready.
    pub checkout_dir: Option<String>,
    /// The journal's last sequence number (0 when empty).
    pub last_seq: u64,
    /// Requests waiting for setup to end.
    pub queued_requests: u32,
    /// The workspace's dev container, once ready with one; `None` when commands run on the
    /// host (no dev container configuration, or no container engine). Absent in the JSON of
    /// hosts that predate dev containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<DevContainer>,
}

/// A running dev container the host brought up for the workspace (`devcontainer up`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevContainer {
    /// The engine that runs it.
    pub engine: ContainerEngine,
    /// The engine's id for the container.
    pub container_id: String,
    /// The user commands run as inside the container.
    pub remote_user: String,
    /// Where the checkout is mounted inside the container; commands start there.
    pub remote_workspace_folder: String,
}

/// A container engine the host can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerEngine {
    /// Docker (`docker info` succeeded).
    Docker,
    /// Podman (`docker info` failed, `podman info` succeeded).
    Podman,
}

impl ContainerEngine {
    /// The engine's name, which is also its usual command name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Podman => "podman",
        }
    }
}

impl fmt::Display for ContainerEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Part of a file of the checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileContents {
    /// The path read, relative to the checkout root, `/`-separated.
    pub path: String,
    /// The file's whole size in bytes.
    pub size_bytes: u64,
    /// Whether `content` stops before the end of the file.
    pub truncated: bool,
    /// The bytes read.
    pub content: FileContent,
}

/// File bytes on the wire: text when they are UTF-8, base64 otherwise.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "encoding", rename_all = "snake_case")]
pub enum FileContent {
    /// The bytes were valid UTF-8.
    Utf8 {
        /// The text.
        text: String,
    },
    /// The bytes were not UTF-8.
    Base64 {
        /// The bytes, standard base64 with padding.
        data: String,
    },
}

impl FileContent {
    /// Picks the encoding for `bytes`.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => Self::Utf8 { text },
            Err(error) => Self::Base64 {
                data: base64::engine::general_purpose::STANDARD.encode(error.as_bytes()),
            },
        }
    }

    /// The bytes back.
    ///
    /// # Errors
    /// When a `Base64` payload is not valid base64 (a broken peer).
    pub fn to_bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        match self {
            Self::Utf8 { text } => Ok(text.as_bytes().to_vec()),
            Self::Base64 { data } => base64::engine::general_purpose::STANDARD.decode(data),
        }
    }
}

impl fmt::Debug for FileContent {
    // File contents can be large and may hold anything: Debug shows their size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Utf8 { text } => write!(f, "Utf8({} bytes)", text.len()),
            Self::Base64 { data } => write!(f, "Base64({} chars)", data.len()),
        }
    }
}

/// A journaled event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The journal sequence number: assigned at append, starting at 1, never reused, strictly
    /// increasing, gap-free within one journal.
    pub seq: u64,
    /// When it was journaled, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// What happened.
    pub event: EventBody,
}

/// Names of setup steps, as they appear in [`EventBody`] step fields. The set grows with new
/// host versions; clients should show unknown names as they are.
pub mod step {
    /// `git clone` of a [`crate::RepoSource::GitUrl`] (skipped when the checkout exists).
    pub const CLONE: &str = "clone";
    /// Checking that a [`crate::RepoSource::LocalPath`] folder exists.
    pub const LOCAL_FOLDER: &str = "local_folder";
    /// `devcontainer up` for a checkout with `.devcontainer/devcontainer.json` or
    /// `.devcontainer.json`, after the checkout step. A checkout without either has no such
    /// step at all. With a configuration but no working container engine the step finishes
    /// with a `detail` saying so and commands run on the host.
    pub const DEVCONTAINER: &str = "devcontainer";
}

/// What happened on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    /// The daemon started (journaled at every start).
    HostStarted {
        /// The `sam-host` build version.
        version: String,
    },
    /// A setup began.
    SetupStarted,
    /// A setup step began (see [`step`]).
    StepStarted {
        /// The step's name.
        step: String,
    },
    /// A setup step succeeded.
    StepFinished {
        /// The step's name.
        step: String,
        /// How long it took.
        millis: u64,
        /// What the step did when that is not the obvious (for example why it was skipped),
        /// for the user. Absent in the JSON when `None`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A setup step failed; a [`EventBody::SetupFailed`] follows.
    StepFailed {
        /// The step's name.
        step: String,
        /// Why, for the user.
        reason: String,
    },
    /// The setup ended and the host is ready.
    SetupComplete {
        /// How long the whole setup took.
        millis: u64,
    },
    /// The setup ended in failure.
    SetupFailed {
        /// Why, for the user.
        reason: String,
    },
    /// Something happened in an agent session.
    Session {
        /// The session.
        session: SessionId,
        /// What.
        event: SessionEvent,
    },
}

/// A failed request, with a code to switch on and a message for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} ({code})")]
pub struct ProtocolError {
    /// What kind of failure; clients switch on this, never on the message.
    pub code: ErrorCode,
    /// What went wrong and what to do about it.
    pub message: String,
}

impl ProtocolError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// The closed set of failure kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or not allowed (bad path, conflicting setup, broken frame).
    InvalidRequest,
    /// The host cannot serve this request in its current state.
    NotReady,
    /// The setup failed; the message carries the reason.
    SetupFailed,
    /// Too many requests are already waiting for setup to end.
    QueueFull,
    /// The thing asked for does not exist.
    NotFound,
    /// The host hit an I/O error.
    Io,
    /// A bug or an unexpected failure in the host.
    Internal,
    /// The peers speak different protocol versions.
    Incompatible,
    /// The work ran past its time limit and was stopped.
    TimedOut,
    /// The session is busy with another turn.
    Busy,
    /// The agent could not be started or has gone away.
    AgentFailed,
    /// A [`RequestBody::Ship`] found nothing to ship: no change against the base.
    NothingToCommit,
    /// A [`RequestBody::Ship`] named the remote's default branch, which SAM never pushes to.
    ProtectedBranch,
    /// A [`RequestBody::RevertTurn`] found files the turn changed that have changed again
    /// since it ended; nothing was reverted.
    ChangedSince,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::NotReady => "not_ready",
            Self::SetupFailed => "setup_failed",
            Self::QueueFull => "queue_full",
            Self::NotFound => "not_found",
            Self::Io => "io",
            Self::Internal => "internal",
            Self::Incompatible => "incompatible",
            Self::TimedOut => "timed_out",
            Self::Busy => "busy",
            Self::AgentFailed => "agent_failed",
            Self::NothingToCommit => "nothing_to_commit",
            Self::ProtectedBranch => "protected_branch",
            Self::ChangedSince => "changed_since",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Result` as `{"ok": …}` / `{"err": …}` rather than serde's default `{"Ok": …}`.
mod wire_result {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum WireRef<'a, T, E> {
        Ok(&'a T),
        Err(&'a E),
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum WireOwned<T, E> {
        Ok(T),
        Err(E),
    }

    pub(super) fn serialize<S, T, E>(value: &Result<T, E>, serializer: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        T: Serialize,
        E: Serialize,
    {
        match value {
            Ok(body) => WireRef::<T, E>::Ok(body),
            Err(error) => WireRef::<T, E>::Err(error),
        }
        .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D, T, E>(deserializer: D) -> Result<Result<T, E>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
        E: Deserialize<'de>,
    {
        Ok(match WireOwned::<T, E>::deserialize(deserializer)? {
            WireOwned::Ok(body) => Ok(body),
            WireOwned::Err(error) => Err(error),
        })
    }
}

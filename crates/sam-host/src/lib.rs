//! `sam-host`, the workspace daemon: one per machine and user (per state directory), reached
//! only through a Unix socket in its private state directory, usually via `sam-host connect`
//! (a local child process of the desktop, or an SSH exec channel).
//!
//! It journals every event in SQLite (WAL) before anyone sees it, so a client that attaches
//! with a cursor gets a gap-free, duplicate-free replay and then live events. It sets the
//! workspace up (clone or local folder, then the repository's dev container when it has one
//! and a container engine works) as journaled, timed steps; requests that need the checkout
//! wait for setup in a bounded queue and fail together if it fails. It runs programs in the
//! checkout, on the host or in the dev container, by argv and never through a shell.
//!
//! It never listens on TCP, never puts a secret in an argv, a file, a log, the journal or a
//! container's environment, and never logs request bodies.

mod agents;
mod askpass;
mod bridge;
mod changes;
mod checkout;
mod connection;
mod daemon;
mod devcontainer;
mod file_index;
mod files;
mod host;
mod journal;
mod run;
mod state_dir;
mod watch;

pub use agents::{AGENT_INIT_TIMEOUT_ENV, AGENT_SILENT_ENV, NPM_ENV, PERMISSION_EXPIRY_ENV};
pub use askpass::{ASKPASS_MODE_ENV, TOKEN_ENV, TOKEN_USERNAME, askpass_answer};
pub use bridge::connect;
pub use daemon::{ACTIVITY_FILE_ENV, DaemonLock, ServeOptions, recorded_pid, serve};
pub use devcontainer::{
    CONTAINER_ENGINE_ENV, DEVCONTAINER_CLI_ENV, PODMAN_RUNTIME_ENV, PODMAN_SHIM_ENV,
    podman_shim_command,
};
pub use file_index::FILE_INDEX_STALE_ENV;
pub use host::MAX_QUEUED_REQUESTS;
pub use journal::JournalError;
pub use state_dir::{STATE_DIR_ENV, StateDir};

/// Measuring the journal and the file index, for the benchmarks (not an API).
#[doc(hidden)]
pub mod bench {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use sam_protocol::{EventBody, FoundFiles, ResolvedPath, SessionEvent};

    use crate::file_index::Snapshot;
    use crate::journal::{EventLog, Journal, JournalError};

    /// A workspace file index, built and searched as `FindFiles` does, without a daemon.
    #[derive(Debug)]
    pub struct FileIndex(Snapshot);

    impl FileIndex {
        /// Walks `root` (canonical) as the host's first `FindFiles` does; returns the index and
        /// how long the walk and sort took.
        pub fn build(root: &Path) -> (Self, Duration) {
            let started = Instant::now();
            let snapshot = Snapshot::build(root);
            (Self(snapshot), started.elapsed())
        }

        /// How many files it holds.
        pub fn len(&self) -> usize {
            self.0.len()
        }

        /// Whether it holds none.
        pub fn is_empty(&self) -> bool {
            self.0.len() == 0
        }

        /// One `FindFiles` query; returns the answer and how long it took.
        pub fn query(&self, query: &str, limit: u32) -> (FoundFiles, Duration) {
            let started = Instant::now();
            let found = self.0.find(query, limit);
            (found, started.elapsed())
        }
    }

    /// One `ResolvePaths` request under `root` (canonical); returns the answer and how long it
    /// took.
    pub fn resolve_paths(root: &Path, paths: &[String]) -> (Vec<ResolvedPath>, Duration) {
        let started = Instant::now();
        let resolved = crate::files::resolve_paths(root, paths);
        (resolved, started.elapsed())
    }

    /// A typical streamed agent update (a text chunk of about 60 characters).
    pub fn sample_update(i: usize) -> EventBody {
        EventBody::Session {
            session: "bench-session".into(),
            event: SessionEvent::Update {
                update: serde_json::json!({
                    "sessionUpdate": "agent_message_chunk",
                    "content": {"type": "text", "text": format!("token {i} of a streamed reply, about sixty chars ")}
                }),
            },
        }
    }

    /// Appends `n` sample updates to the journal at `path` as an agent's stream does (queued
    /// in order, each committed before it is broadcast) and returns the time until the last
    /// is committed.
    ///
    /// # Errors
    /// When the journal fails.
    pub async fn append_stream(path: &Path, n: usize) -> Result<Duration, JournalError> {
        let log = EventLog::new(Journal::open(path)?);
        let started = Instant::now();
        for i in 0..n.saturating_sub(1) {
            log.enqueue(sample_update(i)).await?;
        }
        log.append(sample_update(n), None).await?;
        Ok(started.elapsed())
    }
}

/// This build's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why the daemon or the bridge could not run.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// A file-system or socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The journal could not be opened or written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// No usable state directory.
    #[error("{0}")]
    StateDir(String),
    /// The daemon could not be started or reached.
    #[error("{0}")]
    Daemon(String),
}

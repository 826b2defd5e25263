//! `sam-host serve`: the daemon's lock, socket and accept loop.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::UnixListener;
use tokio::signal::unix::{SignalKind, signal};

use crate::HostError;
use crate::agents::AgentSettings;
use crate::checkout::GitRunner;
use crate::devcontainer::ContainerSettings;
use crate::host::{Host, HostConfig};
use crate::journal::{EventLog, Journal};
use crate::state_dir::StateDir;

/// Overrides where `Touch` writes the activity stamp.
pub const ACTIVITY_FILE_ENV: &str = "SAM_HOST_ACTIVITY_FILE";

/// The VM watchdog's activity stamp, used when its directory exists.
const MACHINE_ACTIVITY_PATH: &str = "/var/lib/sam/activity";

/// The longest a `git clone` may run.
const CLONE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The longest one `devcontainer up` may run (it may build an image).
const DEVCONTAINER_UP_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How often the daemon checks that its socket is still the one it bound.
const SOCKET_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// The exclusive lock that makes a daemon the only one for its state directory. Held (by the
/// open file) until dropped or the process ends, even if it crashes.
#[derive(Debug)]
pub struct DaemonLock {
    _file: File,
    state_dir: StateDir,
}

impl DaemonLock {
    /// Takes the lock on `state_dir/host.lock` (creating the directory), or returns `None`
    /// when another daemon holds it. Writes this process's id into the lock file.
    ///
    /// # Errors
    /// [`HostError::Io`] when the directory or the lock file cannot be created.
    pub fn acquire(state_dir: &StateDir) -> Result<Option<Self>, HostError> {
        state_dir.ensure()?;
        let path = state_dir.lock_path();
        let io_error = |source: io::Error| HostError::Io {
            context: format!("locking {}", path.display()),
            source,
        };
        let mut file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(source)) => return Err(io_error(source)),
        }
        file.set_len(0).map_err(io_error)?;
        writeln!(file, "{}", std::process::id()).map_err(io_error)?;
        Ok(Some(Self {
            _file: file,
            state_dir: state_dir.clone(),
        }))
    }

    /// The state directory this lock guards.
    pub fn state_dir(&self) -> &StateDir {
        &self.state_dir
    }
}

/// The pid recorded by the daemon holding (or last holding) the lock in `state_dir`.
pub fn recorded_pid(state_dir: &StateDir) -> Option<u32> {
    std::fs::read_to_string(state_dir.lock_path())
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// How the daemon is configured beyond its state directory.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Where `Touch` writes; default: `$SAM_HOST_ACTIVITY_FILE`, else `/var/lib/sam/activity`
    /// when `/var/lib/sam` exists, else `<state dir>/activity`.
    pub activity_file: Option<PathBuf>,
}

/// Runs the daemon until SIGTERM or SIGINT, or until its socket is removed or replaced
/// (the state directory was deleted: another daemon may own it now).
///
/// # Errors
/// [`HostError`] when the journal cannot be opened or the socket cannot be bound.
pub async fn serve(lock: DaemonLock, options: ServeOptions) -> Result<(), HostError> {
    let state_dir = lock.state_dir().clone();
    let askpass_exe = std::env::current_exe().map_err(|source| HostError::Io {
        context: "finding the sam-host executable (for git's askpass)".to_owned(),
        source,
    })?;
    let containers = ContainerSettings::from_env(askpass_exe.clone(), DEVCONTAINER_UP_TIMEOUT)
        .map_err(HostError::Daemon)?;
    let config = HostConfig {
        version: crate::VERSION.to_owned(),
        git: GitRunner {
            askpass_exe,
            clone_timeout: CLONE_TIMEOUT,
        },
        activity_path: activity_path(&state_dir, options.activity_file),
        state_dir: state_dir.path().to_path_buf(),
        agents: AgentSettings::from_env(state_dir.path(), containers.clone()),
        containers,
    };
    let journal_path = state_dir.journal_path();
    let journal = tokio::task::spawn_blocking(move || Journal::open(&journal_path))
        .await
        .map_err(|e| HostError::Daemon(format!("opening the journal failed: {e}")))??;
    let host = Host::start(EventLog::new(journal), config).await?;

    let socket = state_dir.socket_path();
    let listener = bind(&socket)?;
    let socket_inode = std::fs::metadata(&socket).map(|m| m.ino()).ok();
    tracing::info!(
        version = crate::VERSION,
        pid = std::process::id(),
        socket = %socket.display(),
        "sam-host listening"
    );

    let signal_error = |source| HostError::Io {
        context: "installing signal handlers".to_owned(),
        source,
    };
    let mut terminate = signal(SignalKind::terminate()).map_err(signal_error)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(signal_error)?;
    let mut socket_check = tokio::time::interval(SOCKET_CHECK_INTERVAL);
    let own_socket = loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(crate::connection::serve_connection(std::sync::Arc::clone(&host), stream));
                }
                Err(error) => {
                    // Usually out of file descriptors: wait rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = terminate.recv() => break true,
            _ = interrupt.recv() => break true,
            _ = socket_check.tick() => {
                let current = std::fs::metadata(&socket).map(|m| m.ino()).ok();
                if current.is_none() || current != socket_inode {
                    tracing::warn!("the socket was removed or replaced; stopping");
                    break false;
                }
            }
        }
    };
    if own_socket {
        let _ = std::fs::remove_file(&socket);
    }
    tracing::info!("sam-host stopped");
    Ok(())
}

/// Binds the socket, replacing a stale one (the caller holds the lock, so any socket file left
/// is stale), readable and writable by this user only.
fn bind(socket: &Path) -> Result<UnixListener, HostError> {
    let io_error = |source: io::Error| HostError::Io {
        context: format!("listening on {}", socket.display()),
        source,
    };
    match std::fs::remove_file(socket) {
        Ok(()) => tracing::info!("replaced a stale socket"),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(io_error(error)),
    }
    let listener = UnixListener::bind(socket).map_err(io_error)?;
    // The directory is already 0700; this keeps the socket private if it is ever moved.
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600)).map_err(io_error)?;
    Ok(listener)
}

fn activity_path(state_dir: &StateDir, explicit: Option<PathBuf>) -> PathBuf {
    if let Some(path) = explicit {
        return path;
    }
    if let Some(path) = std::env::var_os(ACTIVITY_FILE_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(path);
    }
    let machine = Path::new(MACHINE_ACTIVITY_PATH);
    if machine.parent().is_some_and(Path::is_dir) {
        return machine.to_path_buf();
    }
    state_dir.default_activity_path()
}

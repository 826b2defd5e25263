//! The daemon's state directory and the files in it.

use std::ffi::OsString;
use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::HostError;

/// Overrides the state directory (checked before the XDG default).
pub const STATE_DIR_ENV: &str = "SAM_HOST_STATE_DIR";

/// Longest Unix socket path Linux accepts (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH_BYTES: usize = 107;

/// Where one daemon keeps its lock, socket, journal and logs. One daemon per directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// `explicit` when given, else `$SAM_HOST_STATE_DIR`, else `$XDG_STATE_HOME/sam-host`, else
    /// `~/.local/state/sam-host`. Relative paths are made absolute against the current
    /// directory, so a daemon started from elsewhere finds the same files.
    ///
    /// # Errors
    /// [`HostError::StateDir`] when no candidate is set and there is no home directory.
    pub fn resolve(explicit: Option<PathBuf>) -> Result<Self, HostError> {
        let non_empty = |value: Option<OsString>| value.filter(|v| !v.is_empty());
        let root = if let Some(dir) = explicit {
            dir
        } else if let Some(dir) = non_empty(std::env::var_os(STATE_DIR_ENV)) {
            PathBuf::from(dir)
        } else if let Some(dir) = non_empty(std::env::var_os("XDG_STATE_HOME"))
            .map(PathBuf::from)
            // The XDG spec says relative values are invalid and must be ignored.
            .filter(|dir| dir.is_absolute())
        {
            dir.join("sam-host")
        } else if let Some(home) = non_empty(std::env::var_os("HOME")) {
            PathBuf::from(home).join(".local/state/sam-host")
        } else {
            return Err(HostError::StateDir(format!(
                "no state directory: HOME is not set. Pass --state-dir or set {STATE_DIR_ENV}."
            )));
        };
        let root = std::path::absolute(&root).map_err(|source| HostError::Io {
            context: format!("resolving the state directory {}", root.display()),
            source,
        })?;
        Ok(Self { root })
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Creates the directory (and missing parents) private to this user, or makes an existing
    /// one private (0700). A sticky directory such as `/tmp` is shared by design and refused
    /// rather than chmod-ed: `--state-dir /tmp` must not lock everyone else out of it.
    ///
    /// # Errors
    /// [`HostError::Io`] when it cannot be created or its mode set, [`HostError::StateDir`]
    /// when it is a shared directory or the socket path would be too long.
    pub fn ensure(&self) -> Result<(), HostError> {
        let io_error = |source: io::Error| HostError::Io {
            context: format!("preparing the state directory {}", self.root.display()),
            source,
        };
        match fs::metadata(&self.root) {
            Ok(metadata) => {
                let mode = metadata.permissions().mode();
                if !metadata.is_dir() {
                    return Err(HostError::StateDir(format!(
                        "the state directory {} is not a directory",
                        self.root.display()
                    )));
                }
                if mode & 0o1000 != 0 {
                    return Err(HostError::StateDir(format!(
                        "{} is a shared directory (sticky bit set); choose a private state \
                         directory, for example a new folder inside it",
                        self.root.display()
                    )));
                }
                if mode & 0o077 != 0 {
                    fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))
                        .map_err(io_error)?;
                }
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&self.root)
                    .map_err(io_error)?;
            }
            Err(error) => return Err(io_error(error)),
        }
        let socket = self.socket_path();
        if socket.as_os_str().len() > MAX_SOCKET_PATH_BYTES {
            return Err(HostError::StateDir(format!(
                "the socket path {} is longer than the {MAX_SOCKET_PATH_BYTES} bytes Unix sockets \
                 allow. Choose a shorter --state-dir.",
                socket.display()
            )));
        }
        Ok(())
    }

    /// The lock file a running daemon holds (it also holds the daemon's pid).
    pub fn lock_path(&self) -> PathBuf {
        self.root.join("host.lock")
    }

    /// The Unix socket clients connect to.
    pub fn socket_path(&self) -> PathBuf {
        self.root.join("host.sock")
    }

    /// The SQLite journal.
    pub fn journal_path(&self) -> PathBuf {
        self.root.join("journal.sqlite")
    }

    /// The daemon's tracing log.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("host.log")
    }

    /// Where a daemon started by `connect` writes its stderr (start-up failures).
    pub fn daemon_output_path(&self) -> PathBuf {
        self.root.join("daemon.out")
    }

    /// The activity stamp's fallback location, when the machine has no `/var/lib/sam`.
    pub fn default_activity_path(&self) -> PathBuf {
        self.root.join("activity")
    }
}

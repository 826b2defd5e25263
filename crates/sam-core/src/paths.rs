//! Where SAM Desktop keeps its database and logs.
//!
//! One resolution for the app and the `sam` CLI, so both see the same data. `SAM_DATA_DIR`
//! overrides everything (tests, portable installs); otherwise the OS conventions apply.

use std::path::{Path, PathBuf};

/// The environment variable that moves all of SAM's local data (database and logs).
pub const DATA_DIR_ENV: &str = "SAM_DATA_DIR";

/// The database file name inside the data directory.
pub const DATABASE_FILE: &str = "sam.sqlite3";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathsError {
    #[error(
        "SAM_DATA_DIR must be an absolute path, but it is {0:?}. Set it to a full path such as /home/you/sam-data, or unset it."
    )]
    RelativeOverride(String),
    #[error(
        "SAM_DATA_DIR is set but empty. Set it to a full path, or unset it to use the default location."
    )]
    EmptyOverride,
    #[error(
        "Could not find a home directory to keep SAM's data in. Set SAM_DATA_DIR to a writable folder."
    )]
    NoHome,
}

/// The directories SAM Desktop uses on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    /// Holds the database and anything else SAM owns.
    pub data_dir: PathBuf,
    /// Holds the rotating log files.
    pub log_dir: PathBuf,
}

impl AppPaths {
    /// Resolves the paths from the process environment.
    pub fn from_env() -> Result<Self, PathsError> {
        Self::resolve(std::env::var_os(DATA_DIR_ENV).map(PathBuf::from))
    }

    /// Resolves the paths given the value of `SAM_DATA_DIR` (if set). Split out so the rules
    /// are testable without touching the process environment.
    pub fn resolve(data_dir_override: Option<PathBuf>) -> Result<Self, PathsError> {
        if let Some(dir) = data_dir_override {
            if dir.as_os_str().is_empty() {
                return Err(PathsError::EmptyOverride);
            }
            if !dir.is_absolute() {
                return Err(PathsError::RelativeOverride(dir.display().to_string()));
            }
            return Ok(Self::portable(&dir));
        }
        let dirs = directories::ProjectDirs::from("dev", "sam", "sam-desktop")
            .ok_or(PathsError::NoHome)?;
        let log_dir = dirs
            .state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .join("logs");
        Ok(Self {
            data_dir: dirs.data_dir().to_path_buf(),
            log_dir,
        })
    }

    /// Everything under one folder: the layout `SAM_DATA_DIR` gets.
    pub fn portable(dir: &Path) -> Self {
        Self {
            data_dir: dir.to_path_buf(),
            log_dir: dir.join("logs"),
        }
    }

    /// The SQLite database file.
    pub fn database_file(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_puts_everything_under_one_folder() {
        let paths = AppPaths::resolve(Some(PathBuf::from("/srv/sam"))).unwrap();
        assert_eq!(paths.data_dir, PathBuf::from("/srv/sam"));
        assert_eq!(paths.log_dir, PathBuf::from("/srv/sam/logs"));
        assert_eq!(paths.database_file(), PathBuf::from("/srv/sam/sam.sqlite3"));
    }

    #[test]
    fn relative_and_empty_overrides_are_refused_with_a_fix() {
        let err = AppPaths::resolve(Some(PathBuf::from("data"))).unwrap_err();
        assert_eq!(err, PathsError::RelativeOverride("data".into()));
        assert!(err.to_string().contains("absolute path"));
        assert_eq!(
            AppPaths::resolve(Some(PathBuf::new())).unwrap_err(),
            PathsError::EmptyOverride
        );
    }

    #[test]
    fn default_is_per_user_and_keeps_logs_apart() {
        // HOME is set on every machine that runs these tests.
        let paths = AppPaths::resolve(None).unwrap();
        assert!(paths.data_dir.is_absolute());
        assert!(paths.data_dir.ends_with("sam-desktop"), "{paths:?}");
        assert!(paths.log_dir.ends_with("logs"));
        assert_ne!(paths.log_dir, paths.data_dir);
    }
}

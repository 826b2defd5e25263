//! The one managed state: services the commands call, each with its own synchronisation.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use sam_chat::Chat;
use sam_checks::{Checker, Endpoints};
use sam_core::{ApiError, AppPaths, ErrorCode};
use sam_secrets::{KeyringStore, Vault};
use sam_store::{OpenOutcome, Store, StoreError};
use sam_workspace::Workspaces;
use serde::Serialize;

use crate::workspaces::WorkspaceTasks;

/// Environment variable naming a file that `ui_ready` creates once the shell has rendered;
/// the start-up benchmark waits for it.
pub const READY_FILE_ENV: &str = "SAM_BENCH_READY_FILE";

/// The state of the local database, for the banner in the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum DatabaseStatus {
    Ok,
    /// The old file was unreadable; it was kept at `backup_path` and a new one started.
    #[serde(rename_all = "camelCase")]
    Recovered {
        message: String,
        backup_path: String,
    },
    /// The app runs without a database (a newer schema, or an unwritable folder).
    #[serde(rename_all = "camelCase")]
    Unavailable {
        message: String,
        backup_path: Option<String>,
    },
}

/// What the about view and the diagnostics show.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    pub data_dir: String,
    pub log_dir: String,
    pub tray_available: bool,
    pub platform: String,
    pub database: DatabaseStatus,
}

#[derive(Debug)]
pub struct AppState {
    pub paths: AppPaths,
    store: Option<Arc<Store>>,
    database: DatabaseStatus,
    vault: Option<Arc<Vault>>,
    /// Workspaces (they need the database and the vault).
    workspaces: Option<Arc<Workspaces>>,
    /// Agent chat (it needs the workspaces).
    chat: Option<Arc<Chat>>,
    /// Provisioning and deletion running in the background, by workspace id.
    pub(crate) workspace_tasks: WorkspaceTasks,
    /// The provider checker, or why there is none (a bad `SAM_*_URL` override). Built on
    /// first use: its HTTP client loads the system's TLS roots, which start-up need not wait for.
    checker: OnceLock<Result<Arc<Checker>, String>>,
    tray_available: AtomicBool,
    started_at: Instant,
    ready_reported: AtomicBool,
}

impl AppState {
    /// Opens the database; the app starts even when that fails, and says why.
    pub fn open(paths: AppPaths, started_at: Instant) -> Self {
        let (store, database) = match Store::open(&paths.database_file()) {
            Ok((store, outcome)) => (Some(Arc::new(store)), database_status(outcome)),
            Err(error) => {
                tracing::error!(%error, "running without a database");
                let backup_path = match &error {
                    StoreError::NewerSchema { backup, .. } => Some(backup.display().to_string()),
                    _ => None,
                };
                (
                    None,
                    DatabaseStatus::Unavailable {
                        message: error.to_string(),
                        backup_path,
                    },
                )
            }
        };
        let vault = store.as_ref().map(|store| {
            Arc::new(Vault::new(
                Arc::clone(store),
                Arc::new(KeyringStore::for_this_build()),
            ))
        });
        let workspaces = match (&store, &vault) {
            (Some(store), Some(vault)) => {
                Some(Arc::new(crate::workspaces::open(store, vault, &paths)))
            }
            _ => None,
        };
        let chat = match (&store, &workspaces) {
            (Some(store), Some(workspaces)) => Some(Arc::new(Chat::new(
                Arc::clone(store),
                Workspaces::clone(workspaces),
                vault.clone(),
            ))),
            _ => None,
        };
        Self {
            paths,
            store,
            database,
            vault,
            workspaces,
            chat,
            workspace_tasks: WorkspaceTasks::default(),
            checker: OnceLock::new(),
            tray_available: AtomicBool::new(false),
            started_at,
            ready_reported: AtomicBool::new(false),
        }
    }

    /// The database, or the error that explains why there is none.
    pub fn store(&self) -> Result<Arc<Store>, ApiError> {
        match (&self.store, &self.database) {
            (Some(store), _) => Ok(Arc::clone(store)),
            (None, DatabaseStatus::Unavailable { message, .. }) => {
                Err(ApiError::new(ErrorCode::Database, message.clone()))
            }
            (None, _) => Err(ApiError::new(
                ErrorCode::Database,
                "The database is not open.",
            )),
        }
    }

    /// The credential vault (it needs the database).
    pub fn vault(&self) -> Result<Arc<Vault>, ApiError> {
        match &self.vault {
            Some(vault) => Ok(Arc::clone(vault)),
            None => Err(self
                .store()
                .err()
                .unwrap_or_else(|| ApiError::internal("The vault is not open."))),
        }
    }

    /// Workspaces (they need the database).
    pub fn workspaces(&self) -> Result<Arc<Workspaces>, ApiError> {
        match &self.workspaces {
            Some(workspaces) => Ok(Arc::clone(workspaces)),
            None => {
                let reason = self
                    .store()
                    .err()
                    .map_or_else(|| "it is not open".to_owned(), |e| e.message);
                Err(ApiError::new(
                    ErrorCode::Database,
                    format!(
                        "Workspaces are recorded in SAM's database, which is unavailable: {reason}"
                    ),
                ))
            }
        }
    }

    /// Agent chat (it needs the database).
    pub fn chat(&self) -> Result<Arc<Chat>, ApiError> {
        match &self.chat {
            Some(chat) => Ok(Arc::clone(chat)),
            None => Err(self
                .workspaces()
                .err()
                .unwrap_or_else(|| ApiError::internal("Chat is not available."))),
        }
    }

    pub fn checker(&self) -> Result<Arc<Checker>, ApiError> {
        self.checker
            .get_or_init(|| {
                let checker = Endpoints::from_env()
                    .map_err(|e| e.to_string())
                    .and_then(|endpoints| Checker::new(endpoints).map_err(|e| e.to_string()))
                    .map(Arc::new);
                if let Err(error) = &checker {
                    tracing::error!(%error, "credential checks are off");
                }
                checker
            })
            .clone()
            .map_err(|message| ApiError::new(ErrorCode::InvalidInput, message))
    }

    pub fn info(&self) -> AppInfo {
        AppInfo {
            name: sam_core::APP_NAME.to_owned(),
            version: sam_core::VERSION.to_owned(),
            data_dir: self.paths.data_dir.display().to_string(),
            log_dir: self.paths.log_dir.display().to_string(),
            tray_available: self.tray_available(),
            platform: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            database: self.database.clone(),
        }
    }

    /// Milliseconds since the process started (start-up logging).
    pub fn elapsed_ms(&self) -> u128 {
        self.started_at.elapsed().as_millis()
    }

    pub fn tray_available(&self) -> bool {
        self.tray_available.load(Ordering::Relaxed)
    }

    pub fn set_tray_available(&self, available: bool) {
        self.tray_available.store(available, Ordering::Relaxed);
    }

    /// Records that the UI rendered its shell. Only the first call counts.
    pub fn mark_ui_ready(&self) -> std::io::Result<()> {
        if self.ready_reported.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        let elapsed_ms = self.started_at.elapsed().as_millis();
        tracing::info!(elapsed_ms, "shell rendered");
        if let Some(file) = std::env::var_os(READY_FILE_ENV).map(PathBuf::from) {
            std::fs::write(file, elapsed_ms.to_string())?;
        }
        Ok(())
    }
}

fn database_status(outcome: OpenOutcome) -> DatabaseStatus {
    match outcome {
        OpenOutcome::Created | OpenOutcome::UpToDate | OpenOutcome::Migrated { .. } => {
            DatabaseStatus::Ok
        }
        OpenOutcome::RecoveredFromCorruption { backup, reason } => DatabaseStatus::Recovered {
            message: format!(
                "SAM's database could not be read ({reason}). It was kept aside and a new one was started; \
                 settings and workspace records start empty. Credentials live in the OS keyring and are not affected."
            ),
            backup_path: backup.display().to_string(),
        },
    }
}

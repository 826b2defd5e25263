//! SAM Desktop's local database: one SQLite file in the data directory.
//!
//! Opening the store applies forward-only, additive migrations. Before migrating it copies the
//! file aside and afterwards checks that no table lost rows (the SAM web platform once lost its
//! production database to a single `DROP TABLE`). A corrupt file is moved aside and replaced;
//! a file from a newer SAM is never touched. This crate never holds secrets: those live in the
//! OS keyring only.

mod chat;
mod credentials;
mod migrations;
mod open;
mod preferences;
mod workspaces;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

pub use chat::{ChatEventRow, ChatSearchHit, ChatSessionRow, IngestItem, NewChatSession};
pub use credentials::CredentialRow;
pub use migrations::LATEST_SCHEMA_VERSION;
pub use open::{OpenOutcome, StoreError};
pub use workspaces::{StepRow, WorkspaceKind, WorkspaceRow, WorkspaceSummary};

/// The open database. Calls are blocking: async callers run them on a blocking thread.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<rusqlite::Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating or migrating) the database at `path`. See [`OpenOutcome`] for what may
    /// have happened to an existing file on the way.
    pub fn open(path: &Path) -> Result<(Self, OpenOutcome), StoreError> {
        let (conn, outcome) = open::open(path)?;
        Ok((
            Self {
                conn: Mutex::new(conn),
                path: path.to_path_buf(),
            },
            outcome,
        ))
    }

    /// The database file this store writes to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<MutexGuard<'_, rusqlite::Connection>, StoreError> {
        // A poisoned lock means a panic mid-query on another thread; the connection itself is
        // still consistent (SQLite rolled back), so carry on with it.
        Ok(self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

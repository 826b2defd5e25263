//! Why a workspace operation failed, in words a user can act on.

use std::path::PathBuf;

/// A workspace operation that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// The request itself is wrong: a bad name, a missing folder, an unsupported provider.
    #[error("{0}")]
    InvalidInput(String),
    /// No workspace by that id or name.
    #[error("No workspace named \"{0}\". `sam workspace list` shows what there is.")]
    NotFound(String),
    /// The `sam-host` program is not where SAM looks for it.
    #[error(
        "SAM's workspace host program is missing ({}). Reinstall SAM Desktop, or set SAM_HOST_BINARY to its path.",
        .0.display()
    )]
    HostBinaryMissing(PathBuf),
    /// The workspace host could not be started or reached.
    #[error("The workspace host did not answer: {0}")]
    Host(String),
    /// Setting the workspace up failed (a clone that failed, a missing branch).
    #[error("Setting up the workspace failed: {0}")]
    SetupFailed(String),
    /// The cloud provider refused or failed.
    #[error(transparent)]
    Cloud(#[from] sam_cloud::CloudError),
    /// SSH to the workspace's server failed.
    #[error("SSH to the workspace failed: {0}")]
    Ssh(#[from] sam_ssh::SshError),
    /// The local database failed.
    #[error("The local database failed: {0}")]
    Store(#[from] sam_store::StoreError),
    /// A local file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl WorkspaceError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| WorkspaceError::Io { what, source }
    }
}

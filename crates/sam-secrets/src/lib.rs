//! The credential vault: bring-your-own cloud, agent and GitHub credentials.
//!
//! Secrets live in the OS keyring and nowhere else (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows). The SQLite database holds only metadata: kind, label, scope,
//! active flag, a masked form (`••••1a2b`) and the last check. In Rust a secret is a
//! [`Sensitive`] value that prints `<redacted>` and cannot be serialised.
//!
//! This crate never logs, serialises or writes a secret to a file, and never talks to the
//! network (validation lives in `sam-checks`). Keyring calls are blocking: async callers run
//! them on a blocking thread.

mod codex;
mod keyring_store;
mod kind;
mod sensitive;
mod ssh;
mod vault;

pub use codex::codex_auth_file;
pub use keyring_store::{KeyringStore, SecretStore, SecretStoreError};
pub use kind::{CredentialGroup, CredentialKind, KindField, KindInfo};
pub use sensitive::{Sensitive, mask};
pub use ssh::SshPublicKey;
pub use vault::{
    CheckState, CredentialMaterial, CredentialScope, CredentialSummary, NewCredential,
    ROTATION_GRACE_SECS, Vault, VaultError,
};

/// The most a single secret may hold (a Codex `auth.json` is a few KiB).
pub const MAX_SECRET_BYTES: usize = 16 * 1024;

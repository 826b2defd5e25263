//! Where secrets are kept: the OS keyring, behind a small trait (the seam an opt-in encrypted
//! file store would use).

use crate::Sensitive;

/// Why the secret store refused.
#[derive(Debug, thiserror::Error)]
pub enum SecretStoreError {
    #[error("the keyring has no entry for this credential")]
    NotFound,
    #[error(
        "The OS keyring is locked or refused access ({0}). Unlock your login keyring (GNOME: Passwords and Keys → Login → Unlock) and try again."
    )]
    Locked(String),
    #[error(
        "No OS keyring is reachable ({0}). SAM keeps secrets only in the keyring: on Linux install and start a Secret Service provider (sudo apt install gnome-keyring, then log in again); run `sam doctor` to check."
    )]
    Unavailable(String),
    #[error("The OS keyring failed: {0}")]
    Failed(String),
}

/// A place that keeps one secret string per credential id. Calls block.
pub trait SecretStore: Send + Sync {
    fn put(&self, id: &str, secret: &Sensitive<String>) -> Result<(), SecretStoreError>;
    fn get(&self, id: &str) -> Result<Sensitive<String>, SecretStoreError>;
    /// Deleting a missing entry is success.
    fn delete(&self, id: &str) -> Result<(), SecretStoreError>;
}

/// The OS keyring through the `keyring` crate, with entries namespaced per build channel
/// (service `dev.sam.desktop.<channel>`, user = credential id), so a development build never
/// reads or overwrites what the installed app keeps.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// The channel of this build: `SAM_CHANNEL` when set (tests use a private one), else
    /// `dev` for debug builds and `stable` for release builds.
    pub fn for_this_build() -> Self {
        let channel = std::env::var("SAM_CHANNEL")
            .ok()
            .filter(|c| {
                !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
            })
            .unwrap_or_else(|| {
                if cfg!(debug_assertions) {
                    "dev"
                } else {
                    "stable"
                }
                .to_owned()
            });
        Self::with_channel(&channel)
    }

    pub fn with_channel(channel: &str) -> Self {
        Self {
            service: format!("dev.sam.desktop.{channel}"),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, id: &str) -> Result<keyring::Entry, SecretStoreError> {
        keyring::Entry::new(&self.service, id).map_err(map_error)
    }
}

fn map_error(error: keyring::Error) -> SecretStoreError {
    match error {
        keyring::Error::NoEntry => SecretStoreError::NotFound,
        keyring::Error::NoStorageAccess(e) => SecretStoreError::Locked(e.to_string()),
        keyring::Error::PlatformFailure(e) => SecretStoreError::Unavailable(e.to_string()),
        // The keyring crate's messages never include the secret itself.
        other => SecretStoreError::Failed(other.to_string()),
    }
}

impl SecretStore for KeyringStore {
    fn put(&self, id: &str, secret: &Sensitive<String>) -> Result<(), SecretStoreError> {
        self.entry(id)?
            .set_password(secret.expose())
            .map_err(map_error)
    }

    fn get(&self, id: &str) -> Result<Sensitive<String>, SecretStoreError> {
        self.entry(id)?
            .get_password()
            .map(Sensitive::new)
            .map_err(map_error)
    }

    fn delete(&self, id: &str) -> Result<(), SecretStoreError> {
        match self.entry(id)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }
}

//! The production [`RemoteFactory`]: cloud credentials, the install's SSH key and the keyring
//! from the vault; provider endpoints from the environment (`SAM_HETZNER_API_URL`, …).

use std::sync::Arc;

use sam_checks::Endpoints;
use sam_cloud::{ProviderKind, Timing};
use sam_secrets::{CredentialKind, KeyringStore, Vault};
use sam_ssh::ClientKey;

use crate::error::WorkspaceError;
use crate::remote::{RemoteFactory, RemoteSetup, SshSettings};

/// Minutes without desktop contact or agent activity before a VM powers itself off.
pub const DEFAULT_WATCHDOG_MINUTES: u32 = 60;

/// Builds remote setups from the vault.
#[derive(Debug)]
pub struct VaultRemote {
    vault: Arc<Vault>,
    endpoints: Endpoints,
    timing: Timing,
}

impl VaultRemote {
    /// From the vault and the endpoints in the environment.
    ///
    /// # Errors
    /// When an endpoint variable is not a usable URL.
    pub fn new(vault: Arc<Vault>) -> Result<Self, WorkspaceError> {
        let endpoints =
            Endpoints::from_env().map_err(|e| WorkspaceError::InvalidInput(e.to_string()))?;
        let timing = Timing::default();
        timing
            .validate()
            .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))?;
        Ok(Self {
            vault,
            endpoints,
            timing,
        })
    }
}

fn vault_error(error: sam_secrets::VaultError) -> WorkspaceError {
    WorkspaceError::InvalidInput(error.to_string())
}

impl RemoteFactory for VaultRemote {
    fn remote(&self, provider: ProviderKind) -> Result<RemoteSetup, WorkspaceError> {
        let kind = match provider {
            ProviderKind::Hetzner => CredentialKind::HetznerToken,
            ProviderKind::Scaleway => CredentialKind::ScalewayKeys,
        };
        let material = self.vault.resolve(kind, None, None).map_err(vault_error)?;
        let cloud = sam_cloud::connect(&material, &self.endpoints, self.timing)
            .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))?;
        let private = self.vault.ssh_private_key().map_err(vault_error)?;
        let client_key = ClientKey::from_openssh(private.expose())?;
        let install_id = self.vault.store().install_id()?;
        Ok(RemoteSetup {
            cloud: Arc::from(cloud),
            install_id,
            client_key: Arc::new(client_key),
            secrets: Arc::new(KeyringStore::for_this_build()),
            ssh: SshSettings::default(),
            watchdog_minutes: DEFAULT_WATCHDOG_MINUTES,
        })
    }
}

//! The per-install SSH key pair SAM uses to reach its workspaces: ed25519, generated here,
//! never typed by the user. The private key lives in the keyring; the public key and its
//! fingerprint are metadata.

use serde::Serialize;
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey};

use crate::{Sensitive, Vault, VaultError};

/// The keyring entry of the private key (one per install and build channel).
const PRIVATE_KEY_ENTRY: &str = "install-ssh-key";
const PUBLIC_KEY_SETTING: &str = "ssh.public_key";
const FINGERPRINT_SETTING: &str = "ssh.fingerprint";

/// The public half, safe to show and to register with a cloud provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SshPublicKey {
    /// OpenSSH format: `ssh-ed25519 AAAA… sam-desktop`.
    pub openssh: String,
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
}

impl Vault {
    /// The install's SSH public key, generating the pair on first use.
    pub fn ensure_ssh_key(&self) -> Result<SshPublicKey, VaultError> {
        let store = self.store();
        if let (Some(openssh), Some(fingerprint)) = (
            store.setting(PUBLIC_KEY_SETTING)?,
            store.setting(FINGERPRINT_SETTING)?,
        ) {
            // The private half must still be there; a pair whose private key vanished is
            // useless, so say so rather than hand out a public key nobody can use.
            self.secrets().get(PRIVATE_KEY_ENTRY).map_err(|e| match e {
                crate::SecretStoreError::NotFound => {
                    VaultError::SecretMissing("SAM's SSH key".into())
                }
                other => other.into(),
            })?;
            return Ok(SshPublicKey {
                openssh,
                fingerprint,
            });
        }
        let mut rng = ssh_key::rand_core::OsRng;
        let mut private = PrivateKey::random(&mut rng, Algorithm::Ed25519)
            .map_err(|e| VaultError::InvalidInput(format!("Could not generate an SSH key: {e}")))?;
        private.set_comment("sam-desktop");
        let encoded = private
            .to_openssh(LineEnding::LF)
            .map_err(|e| VaultError::InvalidInput(format!("Could not encode the SSH key: {e}")))?;
        let public = private.public_key();
        let openssh = public
            .to_openssh()
            .map_err(|e| VaultError::InvalidInput(format!("Could not encode the SSH key: {e}")))?;
        let fingerprint = public.fingerprint(HashAlg::Sha256).to_string();
        self.secrets().put(
            PRIVATE_KEY_ENTRY,
            &Sensitive::new(encoded.as_str().to_owned()),
        )?;
        store.set_setting(PUBLIC_KEY_SETTING, &openssh)?;
        store.set_setting(FINGERPRINT_SETTING, &fingerprint)?;
        tracing::info!(%fingerprint, "generated the install's SSH key");
        Ok(SshPublicKey {
            openssh,
            fingerprint,
        })
    }

    /// The private key in OpenSSH format, for the SSH transport.
    pub fn ssh_private_key(&self) -> Result<Sensitive<String>, VaultError> {
        self.ensure_ssh_key()?;
        Ok(self.secrets().get(PRIVATE_KEY_ENTRY)?)
    }
}

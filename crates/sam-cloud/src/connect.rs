//! From a credential in the vault to a provider client.

use sam_checks::Endpoints;
use sam_secrets::{CredentialKind, CredentialMaterial};

use crate::error::{CloudError, ProviderKind};
use crate::hetzner::Hetzner;
use crate::provider::CloudProvider;
use crate::scaleway::Scaleway;
use crate::timing::Timing;

/// The stored field of a Scaleway credential holding its default project.
const SCALEWAY_PROJECT_FIELD: &str = "project_id";

/// Why no client could be made from a credential.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The credential is not a cloud token.
    #[error("\"{label}\" is a {kind} credential, not a cloud provider token")]
    NotACloudCredential {
        /// The credential's label.
        label: String,
        /// Its kind's display name.
        kind: String,
    },
    /// The client refused the credential's shape.
    #[error(transparent)]
    Cloud(#[from] CloudError),
}

/// The provider a credential kind is for, if it is a cloud token.
pub fn provider_of(kind: CredentialKind) -> Option<ProviderKind> {
    match kind {
        CredentialKind::HetznerToken => Some(ProviderKind::Hetzner),
        CredentialKind::ScalewayKeys => Some(ProviderKind::Scaleway),
        _ => None,
    }
}

/// A client for the provider `material` is a credential of, at `endpoints`.
///
/// # Errors
/// When the credential is not a cloud token, lacks the Scaleway project id, or has characters
/// no header may carry.
pub fn connect(
    material: &CredentialMaterial,
    endpoints: &Endpoints,
    timing: Timing,
) -> Result<Box<dyn CloudProvider>, ConnectError> {
    let secret = material.secret.expose();
    match provider_of(material.kind) {
        Some(ProviderKind::Hetzner) => Ok(Box::new(Hetzner::new(
            endpoints.hetzner.clone(),
            secret,
            timing,
        )?)),
        Some(ProviderKind::Scaleway) => {
            let project = material
                .public_fields
                .get(SCALEWAY_PROJECT_FIELD)
                .map(String::as_str)
                .unwrap_or_default();
            Ok(Box::new(Scaleway::new(
                endpoints.scaleway.clone(),
                secret,
                project,
                timing,
            )?))
        }
        None => Err(ConnectError::NotACloudCredential {
            label: material.label.clone(),
            kind: material.kind.info().label,
        }),
    }
}

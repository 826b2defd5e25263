//! Keeping the records and the clouds truthful: at start-up, workspaces whose provisioning or
//! deletion was cut short (SAM quit or crashed) are marked failed with a retry; and a reconcile
//! finds servers labelled with this install's id that no live workspace owns — a billed VM
//! nobody knows about — and deletes them (after showing them, or at once, per setting).

use sam_cloud::{ProviderKind, Selector, ServerId, WORKSPACE_LABEL};
use serde::Serialize;

use crate::error::WorkspaceError;
use crate::model::Lifecycle;
use crate::{Workspaces, unix_now};

/// A server labelled with this install's id that no live workspace owns.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Orphan {
    /// The provider.
    pub provider: String,
    /// Where it is.
    pub location: String,
    /// Its id.
    pub server_id: String,
    /// Its name.
    pub name: String,
    /// The workspace id on its label.
    pub workspace_id: Option<String>,
    /// Whether this reconcile deleted it.
    pub deleted: bool,
}

/// What a reconcile found and did.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileReport {
    /// Orphaned servers, per provider that has a credential.
    pub orphans: Vec<Orphan>,
    /// Providers that could not be checked, with the reason (no credential, API down).
    pub unchecked: Vec<String>,
}

impl Workspaces {
    /// Marks workspaces left `requested`, `provisioning` or `stopping` by a process that is
    /// gone as failed ("interrupted"), so they show the truth and offer retry or delete. Call
    /// once at start-up, before anything provisions. Returns their ids.
    ///
    /// # Errors
    /// When the database fails.
    pub fn recover_interrupted(&self) -> Result<Vec<String>, WorkspaceError> {
        let mut recovered = Vec::new();
        for row in self.store.workspace_rows()? {
            let state = Lifecycle::parse(&row.state);
            let reason = match state {
                Lifecycle::Requested | Lifecycle::Provisioning => {
                    "SAM stopped while this workspace was being set up: retry to resume, or delete it."
                }
                Lifecycle::Stopping => {
                    "SAM stopped while this workspace was being deleted: delete it again."
                }
                _ => continue,
            };
            self.store.set_workspace_state(
                &row.id,
                Lifecycle::Failed.as_str(),
                Some(reason),
                unix_now(),
            )?;
            tracing::info!(workspace = %row.id, from = state.as_str(), "interrupted workspace marked failed");
            recovered.push(row.id);
        }
        Ok(recovered)
    }

    /// Finds this install's servers that no live workspace owns (no record, or a deleted
    /// one), on every provider SAM has a credential for, and deletes them when `delete` is
    /// set. A server of a failed workspace is not an orphan: deleting the workspace removes it.
    ///
    /// # Errors
    /// When the database fails. Provider problems are reported in `unchecked`.
    pub async fn reconcile(&self, delete: bool) -> Result<ReconcileReport, WorkspaceError> {
        let mut report = ReconcileReport {
            orphans: Vec::new(),
            unchecked: Vec::new(),
        };
        let Some(factory) = self.remote.clone() else {
            return Ok(report);
        };
        for kind in ProviderKind::ALL {
            let setup = match factory.remote(kind) {
                Ok(setup) => setup,
                Err(error) => {
                    report.unchecked.push(format!("{kind}: {error}"));
                    continue;
                }
            };
            let selector = Selector::install(&setup.install_id)
                .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))?;
            let servers = match setup.cloud.servers(&selector).await {
                Ok(servers) => servers,
                Err(error) => {
                    report.unchecked.push(format!("{kind}: {error}"));
                    continue;
                }
            };
            for server in servers {
                let workspace_id = server.labels.get(WORKSPACE_LABEL).cloned();
                let live = match &workspace_id {
                    Some(id) => self
                        .store
                        .workspace(id)?
                        .is_some_and(|row| Lifecycle::parse(&row.state) != Lifecycle::Deleted),
                    None => false,
                };
                if live {
                    continue;
                }
                let deleted = delete && self.delete_orphan(&setup, &server.id).await;
                report.orphans.push(Orphan {
                    provider: kind.as_str().to_owned(),
                    location: server.id.location.clone(),
                    server_id: server.id.id.clone(),
                    name: server.name.clone(),
                    workspace_id,
                    deleted,
                });
            }
        }
        Ok(report)
    }

    async fn delete_orphan(&self, setup: &crate::RemoteSetup, id: &ServerId) -> bool {
        match setup.cloud.delete_server(id).await {
            Ok(()) => {
                tracing::info!(server = %id, "orphaned server deleted");
                true
            }
            Err(error) => {
                tracing::warn!(server = %id, code = error.code(), "could not delete an orphaned server");
                false
            }
        }
    }
}

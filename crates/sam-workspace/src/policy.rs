//! Cost safety in the app: a cloud workspace nobody uses is deleted. Idle means no sign of
//! life — desktop contact or agent activity ([`Workspaces::touch`]) — since it became ready;
//! a warning comes first. A maximum lifetime deletes it regardless. (The VM's own watchdog,
//! from cloud-init, powers it off when the laptop is closed; only deletion stops the billing.)

use std::time::Duration;

use serde::Serialize;

use crate::error::WorkspaceError;
use crate::model::{Lifecycle, Provider};
use crate::{Workspaces, unix_now};

/// When forgotten cloud workspaces go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Deleted this long after the last sign of life (default 30 min).
    pub idle: Duration,
    /// Warned this long before the idle deletion (default 5 min).
    pub warn_before: Duration,
    /// Deleted this long after creation whatever happens (default 24 h; `None`: no limit).
    pub max_lifetime: Option<Duration>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30 * 60),
            warn_before: Duration::from_secs(5 * 60),
            max_lifetime: Some(Duration::from_secs(24 * 3600)),
        }
    }
}

/// What the policy did to one workspace.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum PolicyEvent {
    /// It will be deleted in `minutes` unless something happens.
    #[serde(rename_all = "camelCase")]
    IdleWarning {
        /// The workspace's id.
        workspace_id: String,
        /// Its name.
        name: String,
        /// Minutes left.
        #[specta(type = f64)]
        minutes: u64,
    },
    /// It was deleted.
    #[serde(rename_all = "camelCase")]
    Deleted {
        /// The workspace's id.
        workspace_id: String,
        /// Its name.
        name: String,
        /// Why, in words.
        reason: String,
    },
    /// Deleting it failed; it keeps costing money.
    #[serde(rename_all = "camelCase")]
    DeleteFailed {
        /// The workspace's id.
        workspace_id: String,
        /// Its name.
        name: String,
        /// The error.
        reason: String,
    },
}

impl Workspaces {
    /// Records a sign of life (desktop contact, agent activity) for a workspace.
    ///
    /// # Errors
    /// When the database fails.
    pub fn touch(&self, id: &str) -> Result<(), WorkspaceError> {
        Ok(self.store.touch_workspace(id, unix_now())?)
    }

    /// Applies `policy` at `now` (UNIX seconds) to every ready cloud workspace: warns, or
    /// deletes. The app calls it every minute; deleting goes through the same path as the
    /// Delete button.
    ///
    /// # Errors
    /// When the database fails; a failed deletion is reported as an event.
    pub async fn enforce(
        &self,
        policy: &Policy,
        now: i64,
    ) -> Result<Vec<PolicyEvent>, WorkspaceError> {
        let mut events = Vec::new();
        for row in self.store.workspace_rows()? {
            if row.provider == Provider::Local.as_str()
                || Lifecycle::parse(&row.state) != Lifecycle::Ready
            {
                continue;
            }
            let idle_since = self
                .store
                .workspace_activity(&row.id)?
                .unwrap_or(row.updated_at)
                .max(row.updated_at.min(now));
            let idle = Duration::from_secs(u64::try_from(now - idle_since).unwrap_or(0));
            let age = Duration::from_secs(u64::try_from(now - row.created_at).unwrap_or(0));
            let reason = if policy.max_lifetime.is_some_and(|max| age >= max) {
                Some(format!(
                    "it reached its maximum lifetime of {} h",
                    policy.max_lifetime.map_or(0, |m| m.as_secs() / 3600)
                ))
            } else if idle >= policy.idle {
                Some(format!(
                    "nobody used it for {} minutes",
                    policy.idle.as_secs() / 60
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                tracing::info!(workspace = %row.id, %reason, "deleting a cloud workspace by policy");
                events.push(match self.delete(&row.id).await {
                    Ok(_) => PolicyEvent::Deleted {
                        workspace_id: row.id.clone(),
                        name: row.name.clone(),
                        reason,
                    },
                    Err(error) => PolicyEvent::DeleteFailed {
                        workspace_id: row.id.clone(),
                        name: row.name.clone(),
                        reason: error.to_string(),
                    },
                });
            } else if idle + policy.warn_before >= policy.idle {
                let left = policy.idle.saturating_sub(idle);
                events.push(PolicyEvent::IdleWarning {
                    workspace_id: row.id.clone(),
                    name: row.name.clone(),
                    minutes: left.as_secs().div_ceil(60),
                });
            }
        }
        Ok(events)
    }
}

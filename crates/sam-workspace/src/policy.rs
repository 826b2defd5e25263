//! Cost safety in the app: a cloud workspace nobody uses is deleted. Idle means no sign of
//! life — desktop contact or agent activity ([`Workspaces::touch`]) — since it became ready;
//! a warning comes first. A maximum lifetime deletes it regardless. (The VM's own watchdog,
//! from cloud-init, powers it off when the laptop is closed; only deletion stops the billing.)
//!
//! The thresholds are a setting ([`IdlePolicy`]), checked when saved and read again on every
//! run of the policy, so a change applies from the next minute on.

use std::time::Duration;

use serde::{Deserialize, Serialize};

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

/// The settings key holding the thresholds (JSON of [`IdlePolicy`]).
const IDLE_POLICY_SETTING: &str = "idle_policy";

/// The bounds a threshold must lie in: (least, most).
const IDLE_MINUTES: (u32, u32) = (2, 24 * 60);
const WARN_MINUTES: (u32, u32) = (1, 24 * 60 - 1);
const MAX_LIFETIME_HOURS: (u32, u32) = (1, 30 * 24);

/// The idle policy's thresholds as the user sets them in Settings. Numbers rather than
/// integers on the wire, so that a fractional or negative value from the UI reaches
/// [`IdlePolicy::to_policy`] and is refused with a sentence, not a deserialisation error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct IdlePolicy {
    /// Minutes without a sign of life after which a cloud workspace is deleted (2 to 1440).
    pub idle_minutes: f64,
    /// Minutes before that deletion that the warning comes (at least 1, less than
    /// `idle_minutes`).
    pub warn_minutes: f64,
    /// Hours after its creation that a cloud workspace is deleted whatever happens (1 to 720).
    pub max_lifetime_hours: f64,
}

impl Default for IdlePolicy {
    fn default() -> Self {
        Self::from(Policy::default())
    }
}

impl From<Policy> for IdlePolicy {
    fn from(policy: Policy) -> Self {
        Self {
            idle_minutes: (policy.idle.as_secs() / 60) as f64,
            warn_minutes: (policy.warn_before.as_secs() / 60) as f64,
            max_lifetime_hours: policy
                .max_lifetime
                .map_or(f64::from(MAX_LIFETIME_HOURS.1), |max| {
                    (max.as_secs() / 3600) as f64
                }),
        }
    }
}

impl IdlePolicy {
    /// The policy these thresholds make.
    ///
    /// # Errors
    /// [`WorkspaceError::InvalidInput`] naming the first threshold that is not a whole number
    /// in its range, or a warning that would not come before the deletion.
    pub fn to_policy(&self) -> Result<Policy, WorkspaceError> {
        let idle = whole(
            self.idle_minutes,
            IDLE_MINUTES,
            "Delete after (minutes idle)",
            "minutes",
        )?;
        let warn = whole(
            self.warn_minutes,
            WARN_MINUTES,
            "Warn before (minutes)",
            "minutes",
        )?;
        let hours = whole(
            self.max_lifetime_hours,
            MAX_LIFETIME_HOURS,
            "Maximum lifetime (hours)",
            "hours",
        )?;
        if warn >= idle {
            return Err(WorkspaceError::InvalidInput(format!(
                "The warning must come before the deletion: warn fewer than {idle} minutes before \
                 (you asked for {warn}), or delete later."
            )));
        }
        if u64::from(idle) > u64::from(hours) * 60 {
            return Err(WorkspaceError::InvalidInput(format!(
                "An idle deletion after {idle} minutes could never happen within a maximum \
                 lifetime of {hours} h. Delete sooner, or allow a longer lifetime."
            )));
        }
        Ok(Policy {
            idle: Duration::from_secs(u64::from(idle) * 60),
            warn_before: Duration::from_secs(u64::from(warn) * 60),
            max_lifetime: Some(Duration::from_secs(u64::from(hours) * 3600)),
        })
    }
}

/// `value` as a whole number within `(least, most)`, or a sentence saying what is wrong.
fn whole(
    value: f64,
    (least, most): (u32, u32),
    what: &str,
    unit: &str,
) -> Result<u32, WorkspaceError> {
    let in_range = value.is_finite()
        && value.fract() == 0.0
        && value >= f64::from(least)
        && value <= f64::from(most);
    if !in_range {
        let shown = if value.is_finite() {
            format!("{value}")
        } else {
            "not a number".to_owned()
        };
        return Err(WorkspaceError::InvalidInput(format!(
            "{what} must be a whole number of {unit} from {least} to {most} (got {shown})."
        )));
    }
    Ok(value as u32)
}

impl Workspaces {
    /// The idle policy's thresholds as set (the defaults when never set). A stored value this
    /// version cannot use (a newer SAM's, or edited by hand) gives the defaults, logged.
    ///
    /// # Errors
    /// When the database fails.
    pub fn idle_policy(&self) -> Result<IdlePolicy, WorkspaceError> {
        let Some(text) = self
            .store
            .setting(IDLE_POLICY_SETTING)?
            .filter(|text| !text.is_empty())
        else {
            return Ok(IdlePolicy::default());
        };
        match serde_json::from_str::<IdlePolicy>(&text)
            .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))
            .and_then(|stored| stored.to_policy().map(|_| stored))
        {
            Ok(stored) => Ok(stored),
            Err(error) => {
                tracing::warn!(%error, "the stored idle policy is unusable; using the defaults");
                Ok(IdlePolicy::default())
            }
        }
    }

    /// The policy [`Self::enforce`] applies now, from the settings.
    ///
    /// # Errors
    /// When the database fails.
    pub fn policy(&self) -> Result<Policy, WorkspaceError> {
        Ok(self.idle_policy()?.to_policy().unwrap_or_default())
    }

    /// Stores new thresholds (applied from the policy's next run) and returns them.
    ///
    /// # Errors
    /// As [`IdlePolicy::to_policy`] (nothing is stored then); a database failure.
    pub fn set_idle_policy(&self, thresholds: IdlePolicy) -> Result<IdlePolicy, WorkspaceError> {
        thresholds.to_policy()?;
        let json = serde_json::to_string(&thresholds)
            .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))?;
        self.store.set_setting(IDLE_POLICY_SETTING, &json)?;
        self.idle_policy()
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use std::path::PathBuf;
    use std::sync::Arc;

    use super::*;

    fn thresholds(idle: f64, warn: f64, hours: f64) -> IdlePolicy {
        IdlePolicy {
            idle_minutes: idle,
            warn_minutes: warn,
            max_lifetime_hours: hours,
        }
    }

    fn workspaces(dir: &std::path::Path) -> Workspaces {
        let (store, _) = sam_store::Store::open(&dir.join("sam.sqlite3")).unwrap();
        Workspaces::new(Arc::new(store), dir, PathBuf::from("/nonexistent/sam-host"))
    }

    #[test]
    fn the_defaults_are_30_minutes_idle_a_5_minute_warning_and_24_hours() {
        let defaults = IdlePolicy::default();
        assert_eq!(defaults, thresholds(30.0, 5.0, 24.0));
        assert_eq!(defaults.to_policy().unwrap(), Policy::default());
    }

    #[test]
    fn hostile_thresholds_are_refused_with_the_reason() {
        let refused = |t: IdlePolicy| t.to_policy().unwrap_err().to_string();
        assert!(refused(thresholds(0.0, 5.0, 24.0)).contains("from 2 to 1440"));
        assert!(refused(thresholds(-30.0, 5.0, 24.0)).contains("got -30"));
        assert!(refused(thresholds(30.0, 0.0, 24.0)).contains("Warn before"));
        assert!(refused(thresholds(30.0, -1.0, 24.0)).contains("Warn before"));
        assert!(refused(thresholds(30.0, 5.0, 0.0)).contains("Maximum lifetime"));
        assert!(refused(thresholds(30.0, 5.0, -24.0)).contains("Maximum lifetime"));
        assert!(refused(thresholds(1e12, 5.0, 24.0)).contains("Delete after"));
        assert!(refused(thresholds(30.0, 5.0, 1e9)).contains("from 1 to 720"));
        assert!(refused(thresholds(f64::NAN, 5.0, 24.0)).contains("not a number"));
        assert!(refused(thresholds(30.0, f64::INFINITY, 24.0)).contains("not a number"));
        assert!(refused(thresholds(30.5, 5.0, 24.0)).contains("whole number"));
        assert!(refused(thresholds(30.0, 30.0, 24.0)).contains("before the deletion"));
        assert!(refused(thresholds(30.0, 45.0, 24.0)).contains("before the deletion"));
        assert!(refused(thresholds(180.0, 5.0, 2.0)).contains("maximum lifetime of 2 h"));
        // The edges of the ranges are fine.
        assert!(thresholds(2.0, 1.0, 1.0).to_policy().is_ok());
        assert!(thresholds(1440.0, 1439.0, 720.0).to_policy().is_ok());
    }

    #[test]
    fn thresholds_are_stored_and_a_refused_change_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let w = workspaces(dir.path());
        assert_eq!(w.idle_policy().unwrap(), IdlePolicy::default());
        assert_eq!(w.policy().unwrap(), Policy::default());

        let saved = w.set_idle_policy(thresholds(10.0, 3.0, 2.0)).unwrap();
        assert_eq!(saved, thresholds(10.0, 3.0, 2.0));
        assert_eq!(
            w.policy().unwrap(),
            Policy {
                idle: Duration::from_secs(600),
                warn_before: Duration::from_secs(180),
                max_lifetime: Some(Duration::from_secs(7200)),
            }
        );
        assert!(w.set_idle_policy(thresholds(10.0, 10.0, 2.0)).is_err());
        assert!(w.set_idle_policy(thresholds(0.0, 0.0, 0.0)).is_err());
        // A second handle on the same database (the CLI, a restarted app) reads the same.
        assert_eq!(
            workspaces(dir.path()).idle_policy().unwrap(),
            thresholds(10.0, 3.0, 2.0)
        );
    }

    #[test]
    fn an_unusable_stored_value_falls_back_to_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let w = workspaces(dir.path());
        for stored in [
            "not json",
            r#"{"idleMinutes":0,"warnMinutes":5,"maxLifetimeHours":24}"#,
            r#"{"idleMinutes":30,"warnMinutes":30,"maxLifetimeHours":24}"#,
        ] {
            w.store.set_setting(IDLE_POLICY_SETTING, stored).unwrap();
            assert_eq!(w.idle_policy().unwrap(), IdlePolicy::default(), "{stored}");
            assert_eq!(w.policy().unwrap(), Policy::default(), "{stored}");
        }
    }
}

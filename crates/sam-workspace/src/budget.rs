//! The optional monthly budget for cloud workspaces: what they cost this calendar month (UTC),
//! the cap the user set, and the refusal to create another cloud workspace once it is used up.
//! (Running ones are not deleted for it: the idle policy does that; a cap that killed an agent
//! mid-turn would lose work.)

use serde::Serialize;

use crate::model::{Lifecycle, Provider};
use crate::{Placement, WorkspaceError, Workspaces, unix_now};

/// The settings key holding the monthly cap (a number, in the providers' currency).
const BUDGET_SETTING: &str = "monthly_budget";

/// This month's cloud spending against the cap.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct BudgetStatus {
    /// The cap; `None` when none is set.
    pub limit: Option<f64>,
    /// What cloud workspaces cost this calendar month so far (estimated from their prices:
    /// every started hour, up to each server's monthly cap).
    pub spent: f64,
    /// ISO 4217 (EUR for both providers).
    pub currency: String,
    /// `spent` as a whole percentage of `limit`.
    pub percent: Option<u32>,
}

impl BudgetStatus {
    /// Whether the cap is used up.
    pub fn exhausted(&self) -> bool {
        self.limit.is_some_and(|limit| self.spent >= limit)
    }
}

/// The start of the UTC calendar month containing `now` (UNIX seconds).
fn month_start(now: i64) -> i64 {
    time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| t.replace_day(1).ok())
        .map(|t| t.replace_time(time::Time::MIDNIGHT).unix_timestamp())
        .unwrap_or(now)
}

/// What a server priced `hourly` (capped at `monthly`) cost between `from` and `to`: every
/// started hour, as both providers bill.
fn cost_between(hourly: f64, monthly: f64, from: i64, to: i64) -> f64 {
    if to <= from {
        return 0.0;
    }
    let hours = ((to - from) as f64 / 3600.0).ceil();
    (hourly * hours).min(monthly.max(hourly))
}

impl Workspaces {
    /// The monthly cap, if set.
    ///
    /// # Errors
    /// When the database fails.
    pub fn budget_limit(&self) -> Result<Option<f64>, WorkspaceError> {
        Ok(self
            .store
            .setting(BUDGET_SETTING)?
            .and_then(|text| text.parse::<f64>().ok())
            .filter(|limit| limit.is_finite() && *limit > 0.0))
    }

    /// Sets the monthly cap (`None` removes it).
    ///
    /// # Errors
    /// A cap that is not a positive amount; a database failure.
    pub fn set_budget_limit(&self, limit: Option<f64>) -> Result<BudgetStatus, WorkspaceError> {
        match limit {
            Some(limit) if !(limit.is_finite() && limit > 0.0 && limit <= 1_000_000.0) => {
                return Err(WorkspaceError::InvalidInput(
                    "A monthly budget must be an amount above 0 (and at most 1,000,000).".into(),
                ));
            }
            Some(limit) => self.store.set_setting(BUDGET_SETTING, &limit.to_string())?,
            None => self.store.set_setting(BUDGET_SETTING, "")?,
        }
        self.budget_status(unix_now())
    }

    /// This month's spending at `now` (UNIX seconds) against the cap.
    ///
    /// # Errors
    /// When the database fails.
    pub fn budget_status(&self, now: i64) -> Result<BudgetStatus, WorkspaceError> {
        let start = month_start(now);
        let mut spent = 0.0;
        let mut currency = None;
        for row in self.store.workspace_rows()? {
            if row.provider == Provider::Local.as_str() {
                continue;
            }
            let placement: Placement = row
                .server
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok())
                .unwrap_or_default();
            let Some(price) = placement.price else {
                continue;
            };
            let end = if Lifecycle::parse(&row.state) == Lifecycle::Deleted {
                row.updated_at
            } else {
                now
            };
            spent += cost_between(
                price.hourly,
                price.monthly,
                row.created_at.max(start),
                end.min(now),
            );
            currency.get_or_insert(price.currency);
        }
        let limit = self.budget_limit()?;
        Ok(BudgetStatus {
            percent: limit
                .map(|limit| ((spent / limit) * 100.0).floor().clamp(0.0, 10_000.0) as u32),
            limit,
            spent,
            currency: currency.unwrap_or_else(|| "EUR".to_owned()),
        })
    }

    /// Refuses a new cloud workspace once this month's budget is used up.
    pub(crate) fn check_budget(&self, provider: Provider) -> Result<(), WorkspaceError> {
        if provider == Provider::Local {
            return Ok(());
        }
        let status = self.budget_status(unix_now())?;
        if status.exhausted() {
            return Err(WorkspaceError::InvalidInput(format!(
                "This month's cloud budget of {limit:.2} {currency} is used up ({spent:.2} {currency} so far). \
                 Raise it in Settings → Workspaces, or use a workspace on this computer.",
                limit = status.limit.unwrap_or(0.0),
                spent = status.spent,
                currency = status.currency,
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_starts_at_midnight_utc_on_the_first() {
        // 2026-11-27 14:00:00 UTC → 2026-11-01 00:00:00 UTC.
        assert_eq!(month_start(1_795_788_000), 1_793_491_200);
        // Exactly the start stays.
        assert_eq!(month_start(1_793_491_200), 1_793_491_200);
    }

    #[test]
    fn every_started_hour_counts_up_to_the_monthly_cap() {
        assert_eq!(cost_between(0.01, 5.0, 0, 0), 0.0);
        assert!((cost_between(0.01, 5.0, 0, 1) - 0.01).abs() < 1e-9);
        assert!((cost_between(0.01, 5.0, 0, 3601) - 0.02).abs() < 1e-9);
        assert!((cost_between(0.01, 5.0, 0, 3600 * 10_000) - 5.0).abs() < 1e-9);
        assert_eq!(cost_between(0.01, 5.0, 100, 50), 0.0);
    }
}

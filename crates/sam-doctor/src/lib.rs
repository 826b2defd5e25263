//! `sam doctor`: checks that this machine has what SAM Desktop needs and says how to fix what
//! is missing. The app's diagnostics view and the CLI print the same report.
//!
//! Checks only look: they never install, write a keyring entry, or start a service. Each one
//! reads the OS through [`System`], so the rules are testable with a scripted machine.

mod checks;
mod system;

use serde::Serialize;

pub use checks::{TRAY_LIBRARIES, run_checks};
pub use system::{KeyringState, LiveSystem, System};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Present and working.
    Ok,
    /// Missing, but SAM runs without it (with less).
    Warning,
    /// SAM cannot do its job without it.
    Error,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DoctorCheck {
    /// Stable identifier for scripts (`webkitgtk`, `keyring`, ...).
    pub id: String,
    /// What was checked, for people.
    pub label: String,
    pub status: CheckStatus,
    /// What was found.
    pub detail: String,
    /// What to do about it; `None` when nothing needs doing.
    pub fix: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DoctorReport {
    pub checks: Vec<DoctorCheck>,
}

impl DoctorReport {
    /// True when nothing is at [`CheckStatus::Error`].
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(|c| c.status != CheckStatus::Error)
    }

    /// The check with this id, if it ran.
    pub fn check(&self, id: &str) -> Option<&DoctorCheck> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// Whether this process can load the tray library (Linux); creating a tray without it aborts.
pub fn tray_runtime_available() -> bool {
    TRAY_LIBRARIES
        .iter()
        .any(|soname| LiveSystem.library_loads(soname))
}

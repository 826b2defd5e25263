//! The tray icon's state and menu contents, as plain data the shell turns into a menu.

use serde::Serialize;

use crate::notification::Target;

/// How things stand, overall or for one workspace; the tray icon's look.
///
/// Ordered by precedence: when several hold, the greatest wins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Activity {
    /// Nothing runs, nothing waits.
    #[default]
    Idle,
    /// At least one agent is in a turn.
    Working,
    /// Something failed recently (a session, a provisioning, a deletion) and the user has not
    /// looked at it yet.
    Error,
    /// At least one request waits for the user.
    NeedsYou,
}

/// What the tray shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TrayModel {
    /// The icon's state.
    pub state: Activity,
    /// The badge count: open requests.
    pub badge: u32,
    /// The icon's tooltip, one line.
    pub tooltip: String,
    /// The open requests, oldest first: the menu's first section.
    pub needs_you: Vec<TrayNeed>,
    /// One line per workspace, by name.
    pub workspaces: Vec<TrayWorkspace>,
}

/// One open request in the tray menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TrayNeed {
    /// What is asked (cleaned, clipped).
    pub label: String,
    /// The workspace's name (cleaned, clipped).
    pub workspace_name: String,
    /// How long it has waited, in milliseconds ([`crate::format_age`] words it).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub age_ms: u64,
    /// What clicking it opens.
    pub target: Target,
}

/// One workspace in the tray menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TrayWorkspace {
    /// Its id, for the quick actions (open chat, stop, delete).
    pub workspace_id: String,
    /// Its name (cleaned, clipped; the id when no name is known).
    pub name: String,
    /// How it stands.
    pub state: Activity,
    /// How many of its agents are in a turn.
    pub working_sessions: u32,
    /// What it has cost so far, as the shell formatted it; `None` for a local one.
    pub cost: Option<String>,
}

//! What the attention core asks the shell to show or take back.

use serde::Serialize;

use crate::input::{OptionKind, PermissionChoice};
use crate::text::{MAX_LABEL_CHARS, clean};

/// What the shell must do with the notification plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", content = "value", rename_all = "camelCase")]
pub enum Effect {
    /// Show this notification, replacing any shown one with the same tag.
    Notify(Notification),
    /// Take back the notification with this tag (its request was answered elsewhere, or the
    /// user is now looking at its chat).
    Withdraw(NotificationTag),
}

/// A stable name for one notification: a reminder replaces its request's notification, and a
/// withdrawal names what it takes back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(transparent)]
pub struct NotificationTag(String);

impl NotificationTag {
    /// The tag of a permission request's notification (and its reminders).
    pub fn for_request(session_id: &str, request: u32) -> Self {
        Self(format!("permission:{session_id}:{request}"))
    }

    pub(crate) fn finished(session_id: &str) -> Self {
        Self(format!("finished:{session_id}"))
    }

    pub(crate) fn failed(session_id: &str) -> Self {
        Self(format!("failed:{session_id}"))
    }

    pub(crate) fn silent(session_id: &str) -> Self {
        Self(format!("silent:{session_id}"))
    }

    pub(crate) fn workspace(what: &str, workspace_id: &str) -> Self {
        Self(format!("{what}:{workspace_id}"))
    }

    pub(crate) fn orphans() -> Self {
        Self("orphans".to_owned())
    }

    pub(crate) fn updates() -> Self {
        Self("updates".to_owned())
    }

    pub(crate) fn waiting() -> Self {
        Self("waiting".to_owned())
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stable positive 32-bit number for the tag (FNV-1a), for notification APIs that name
    /// notifications by an integer (`tauri-plugin-notification`'s `id`, `cancel`). The same
    /// tag gives the same number in every run.
    pub fn platform_id(&self) -> i32 {
        let mut hash: u32 = 0x811c_9dc5;
        for byte in self.0.bytes() {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        // Masking the sign bit keeps the number positive, which every platform accepts.
        i32::try_from(hash & 0x7fff_ffff).unwrap_or(i32::MAX)
    }
}

/// One notification, with plain, already cleaned and clipped texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Its stable name.
    pub tag: NotificationTag,
    /// What it is about.
    pub kind: NotificationKind,
    /// How loud it should be.
    pub urgency: Urgency,
    /// The title (at most [`crate::MAX_TEXT_CHARS`] characters).
    pub title: String,
    /// The body: names and titles only, never agent output or error text. A batch summary
    /// has one cleaned line per update, separated by `\n`.
    pub body: String,
    /// Buttons, for a permission request: the agent's "allow once" and "reject" choices.
    /// Empty when the platform must fall back to "click opens the request".
    pub actions: Vec<NotificationAction>,
    /// What a click opens.
    pub target: Target,
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum NotificationKind {
    /// An agent asks for permission.
    PermissionRequest,
    /// A permission request is still open.
    PermissionReminder,
    /// A turn ended normally (or stopped at a limit).
    TurnFinished,
    /// A turn ended with an error.
    TurnFailed,
    /// A session's agent is gone.
    SessionFailed,
    /// A workspace could not be set up.
    ProvisioningFailed,
    /// A workspace could not be deleted and keeps costing money.
    DeleteFailed,
    /// A workspace will be deleted soon for being idle.
    IdleDeletionWarning,
    /// A workspace's spending crossed a budget threshold.
    BudgetThreshold,
    /// A workspace was deleted by the idle or lifetime policy.
    DeletedByPolicy,
    /// Servers this install made have no workspace (and keep costing money).
    OrphanedServers,
    /// An agent has been silent for a while.
    AgentSilent,
    /// Several updates in one notification.
    UpdateSummary,
    /// Requests still wait after do-not-disturb was turned off.
    StillWaiting,
}

/// How loud a notification should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Urgency {
    /// Someone must act, or something broke: shown at once, with sound where the platform
    /// has it.
    Priority,
    /// Good to know: batched, quiet.
    Update,
}

/// A notification button that answers a permission request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct NotificationAction {
    /// The agent's option id: answering the notification's [`Target`] request with it is
    /// what the button does.
    pub option_id: String,
    /// The button's label (the agent's, cleaned, at most [`MAX_LABEL_CHARS`] characters).
    pub label: String,
    /// What it means.
    pub kind: OptionKind,
}

/// What a click on a notification or a tray item opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Target {
    /// A chat, scrolled to an event or a permission request.
    #[serde(rename_all = "camelCase")]
    Session {
        /// The session.
        session_id: String,
        /// The event to scroll to, when known.
        #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
        seq: Option<i64>,
        /// The permission request to show, for a request's notification.
        request: Option<u32>,
    },
    /// A workspace's page.
    #[serde(rename_all = "camelCase")]
    Workspace {
        /// The workspace.
        workspace_id: String,
    },
    /// The "needs you" queue.
    Queue,
    /// The servers SAM made that no workspace owns, to review and delete.
    Orphans,
    /// The app's main window, nothing in particular.
    App,
}

/// The buttons for a permission request's notification.
///
/// A notification shows too little to judge a standing grant, so it offers the agent's first
/// "allow once" choice and one "reject" (its first "reject once", else its first "reject
/// always") — never "allow always", even when the agent offers nothing else: then only the
/// reject button shows and the user opens the request to allow. Without any reject choice
/// there are no buttons at all, so a notification never offers allowing without refusing.
/// At most two buttons, allow first.
pub(crate) fn actions_for(options: &[PermissionChoice]) -> Vec<NotificationAction> {
    let first = |kind: OptionKind| options.iter().find(|option| option.kind == kind);
    let Some(reject) = first(OptionKind::RejectOnce).or_else(|| first(OptionKind::RejectAlways))
    else {
        return Vec::new();
    };
    let button = |option: &PermissionChoice, fallback: &str| {
        let label = clean(&option.name, MAX_LABEL_CHARS);
        NotificationAction {
            option_id: option.option_id.clone(),
            label: if label.is_empty() {
                fallback.to_owned()
            } else {
                label
            },
            kind: option.kind,
        }
    };
    let mut actions = Vec::with_capacity(2);
    if let Some(allow) = first(OptionKind::AllowOnce) {
        actions.push(button(allow, "Allow"));
    }
    actions.push(button(reject, "Reject"));
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(id: &str, name: &str, kind: OptionKind) -> PermissionChoice {
        PermissionChoice {
            option_id: id.to_owned(),
            name: name.to_owned(),
            kind,
        }
    }

    use OptionKind::{AllowAlways, AllowOnce, RejectAlways, RejectOnce, Unknown};

    #[test]
    fn actions_mapping() {
        // (offered, expected option ids in order)
        let cases: Vec<(Vec<PermissionChoice>, Vec<&str>)> = vec![
            // Claude Code's usual set: always-allow is left out.
            (
                vec![
                    choice("always", "Always Allow", AllowAlways),
                    choice("allow", "Allow", AllowOnce),
                    choice("reject", "Reject", RejectOnce),
                ],
                vec!["allow", "reject"],
            ),
            // All four kinds: one allow, one reject (reject once preferred).
            (
                vec![
                    choice("ra", "Never", RejectAlways),
                    choice("ro", "No", RejectOnce),
                    choice("ao", "Yes", AllowOnce),
                    choice("aa", "Always", AllowAlways),
                ],
                vec!["ao", "ro"],
            ),
            // Only reject always to refuse with.
            (
                vec![
                    choice("ao", "Yes", AllowOnce),
                    choice("ra", "Never", RejectAlways),
                ],
                vec!["ao", "ra"],
            ),
            // Allowing is only possible for good: no allow button.
            (
                vec![
                    choice("aa", "Always", AllowAlways),
                    choice("ro", "No", RejectOnce),
                ],
                vec!["ro"],
            ),
            // Nothing to refuse with: no buttons at all.
            (vec![choice("ao", "Yes", AllowOnce)], vec![]),
            (vec![choice("aa", "Always", AllowAlways)], vec![]),
            (vec![], vec![]),
            // Kinds newer than this build never become buttons.
            (
                vec![
                    choice("new", "Maybe", Unknown),
                    choice("ao", "Yes", AllowOnce),
                    choice("ro", "No", RejectOnce),
                ],
                vec!["ao", "ro"],
            ),
            // Several allow-once choices: the agent's first.
            (
                vec![
                    choice("ao1", "Allow", AllowOnce),
                    choice("ao2", "Allow with edits", AllowOnce),
                    choice("ro", "No", RejectOnce),
                ],
                vec!["ao1", "ro"],
            ),
        ];
        for (offered, expected) in cases {
            let actions = actions_for(&offered);
            let ids: Vec<&str> = actions.iter().map(|a| a.option_id.as_str()).collect();
            assert_eq!(ids, expected, "for {offered:?}");
            assert!(actions.len() <= 3);
            assert!(actions.iter().all(|a| a.kind != AllowAlways));
            if !actions.is_empty() {
                assert!(
                    actions
                        .iter()
                        .any(|a| matches!(a.kind, RejectOnce | RejectAlways))
                );
            }
        }
    }

    #[test]
    fn action_labels_are_cleaned_and_have_fallbacks() {
        let actions = actions_for(&[
            choice(
                "ao",
                "\u{202E}Allow\nthis one time, and a label far too long to fit",
                AllowOnce,
            ),
            choice("ro", " \n ", RejectOnce),
        ]);
        assert_eq!(actions[0].label, "Allow this one time, and a label far to…");
        assert_eq!(actions[0].label.chars().count(), MAX_LABEL_CHARS);
        assert_eq!(actions[1].label, "Reject");
    }

    #[test]
    fn platform_ids_are_stable_and_positive() {
        let tag = NotificationTag::for_request("s1", 3);
        assert_eq!(tag.as_str(), "permission:s1:3");
        assert_eq!(tag.platform_id(), tag.clone().platform_id());
        assert_ne!(
            tag.platform_id(),
            NotificationTag::for_request("s1", 4).platform_id()
        );
        for text in ["", "updates", "waiting", "permission:abc:1", "finished:abc"] {
            assert!(NotificationTag(text.to_owned()).platform_id() >= 0);
        }
        // FNV-1a of the empty string, sign bit cleared: pins the algorithm across releases.
        assert_eq!(NotificationTag(String::new()).platform_id(), 0x011c_9dc5);
    }
}

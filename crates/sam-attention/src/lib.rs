//! The decision core behind the tray icon, the dock badge and desktop notifications: which
//! event deserves a notification, when, how loud, with which buttons, and what the "needs you"
//! queue and the tray show.
//!
//! The shell feeds [`Attention`] our own small [`Input`] events (mapped from the chat event
//! stream and the workspace policy), the names of workspaces and sessions, what the user looks
//! at and whether do-not-disturb is on, and carries out the [`Effect`]s it returns with the
//! notification plugin; it renders [`Attention::tray`] into the tray menu. Time is passed in
//! as milliseconds on every call, so every rule is deterministic and tested without sleeping.
//!
//! This crate must never import `tauri`, talk to D-Bus or any notification server, or read
//! the clock; and it must never put agent output, error text or anything but titles and names
//! into a notification: every outgoing string is cleaned of control and bidirectional
//! characters and clipped ([`clean`]).

mod engine;
mod input;
mod notification;
mod queue;
mod text;
mod tray;

pub use engine::Attention;
pub use input::{
    AttentionConfig, Input, OpenRequest, OptionKind, PermissionChoice, SessionInfo, StopReason,
    View, WorkspaceInfo,
};
pub use notification::{
    Effect, Notification, NotificationAction, NotificationKind, NotificationTag, Target, Urgency,
};
pub use queue::{NeedsYouQueue, QueueItem};
pub use text::{MAX_LABEL_CHARS, MAX_TEXT_CHARS, clean, escape_body_markup, format_age};
pub use tray::{Activity, TrayModel, TrayNeed, TrayWorkspace};

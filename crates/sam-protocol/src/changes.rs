//! Review and ship: what changed in the checkout against its base
//! ([`crate::RequestBody::Changes`]), the unified diff of one file
//! ([`crate::RequestBody::FileDiff`]), and committing and pushing it on a branch of its own
//! ([`crate::RequestBody::Ship`]).
//!
//! Paths on the wire are `/`-separated and relative to the checkout root, as git names them.

use serde::{Deserialize, Serialize};

/// How a file changed against the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// New since the base (untracked files included, unless `.gitignore` excludes them).
    Added,
    /// Changed content, mode, or kind (a file that became a symlink).
    Modified,
    /// Gone since the base.
    Deleted,
    /// Moved from [`ChangedFile::old_path`] (possibly changed too; git's rename detection).
    Renamed,
    /// Copied from [`ChangedFile::old_path`].
    Copied,
}

/// The answer to a [`crate::RequestBody::Changes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Changes {
    /// The commit compared against (full hex id); the empty tree's id for a repository
    /// without commits.
    pub base: String,
    /// The changed files, in git's order (by path), at most [`crate::MAX_CHANGED_FILES`] of
    /// them and at most [`crate::MAX_CHANGES_BYTES`] bytes of paths.
    pub files: Vec<ChangedFile>,
    /// How many files changed in all, also those left out of `files`.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub total_files: u64,
    /// Lines added over every changed text file (also those left out of `files`).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub insertions: u64,
    /// Lines removed over every changed text file (also those left out of `files`).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub deletions: u64,
    /// Whether `files` stops before the last changed file.
    pub truncated: bool,
}

/// One changed file of a [`Changes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChangedFile {
    /// The file now (for a deleted file: where it was).
    pub path: String,
    /// How it changed.
    pub status: ChangeStatus,
    /// Where a renamed or copied file came from; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// Whether git sees it as binary (no line counts then).
    pub binary: bool,
    /// Lines added (0 for a binary file).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub insertions: u64,
    /// Lines removed (0 for a binary file).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub deletions: u64,
}

/// The answer to a [`crate::RequestBody::FileDiff`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FileDiff {
    /// The file, as asked (normalised).
    pub path: String,
    /// Where a renamed or copied file came from; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// How it changed.
    pub status: ChangeStatus,
    /// The base compared against (full hex id).
    pub base: String,
    /// Whether git sees it as binary: `diff` then holds only git's header and its
    /// "Binary files … differ" line.
    pub binary: bool,
    /// Lines added (in the whole diff, also past a cut).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub insertions: u64,
    /// Lines removed (in the whole diff, also past a cut).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub deletions: u64,
    /// The unified diff as `git diff` prints it (`diff --git a/… b/…`, 3 lines of context),
    /// UTF-8 with invalid bytes replaced, at most [`crate::MAX_DIFF_BYTES`] bytes of it, cut
    /// at a line end.
    pub diff: String,
    /// Whether `diff` stops before the end.
    pub truncated: bool,
}

/// The answer to a [`crate::RequestBody::Ship`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Shipped {
    /// The branch the work is on now (the checkout is switched to it).
    pub branch: String,
    /// The commit at the branch's tip (full hex id): the new commit, or the existing tip
    /// when everything was already committed.
    pub commit: String,
    /// Whether a new commit was made.
    pub committed: bool,
    /// The `origin` remote's URL with any user name and password taken out; absent when
    /// the checkout has no `origin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_url: Option<String>,
    /// Whether the branch was pushed to `origin`.
    pub pushed: bool,
    /// Why a push that was asked for failed (git's message, credentials redacted); the
    /// commit stays on the branch, so pushing can be tried again. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_error: Option<String>,
}

/// The answer to a [`crate::RequestBody::TurnChanges`]: what one agent turn changed, from
/// the snapshots `sam-host` took of the working tree when the prompt was sent and when the
/// turn ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TurnChanges {
    /// The session.
    pub session: String,
    /// The turn (its prompt number).
    pub prompt: u32,
    /// The snapshot of the working tree when the prompt was sent (a git tree id).
    pub start_tree: String,
    /// The snapshot of the working tree when the turn ended (a git tree id).
    pub end_tree: String,
    /// The files the turn changed, in git's order (by path), limited like [`Changes::files`].
    pub files: Vec<ChangedFile>,
    /// How many files the turn changed in all, also those left out of `files`.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub total_files: u64,
    /// Lines added over every changed text file.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub insertions: u64,
    /// Lines removed over every changed text file.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub deletions: u64,
    /// Whether `files` stops before the last changed file.
    pub truncated: bool,
}

/// The answer to a [`crate::RequestBody::RevertTurn`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TurnReverted {
    /// The session.
    pub session: String,
    /// The turn.
    pub prompt: u32,
    /// The files put back as they were when the turn started (files the turn created are
    /// removed), by path.
    pub restored: Vec<String>,
}

/// The answer to a [`crate::RequestBody::WaitChanges`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChangesVersion {
    /// The checkout's change counter now (equal to `after` when the wait timed out).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub version: u64,
    /// Whether the host watches the checkout; `false`: it cannot, and the client should poll.
    pub live: bool,
}

/// One agent turn: a session and its prompt number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TurnRef {
    /// The session.
    pub session: String,
    /// The turn (its prompt number).
    pub prompt: u32,
}

//! Workspace paths for the desktop: which paths an agent mentioned exist
//! ([`crate::RequestBody::ResolvePaths`]), and fuzzy "go to file" over the checkout
//! ([`crate::RequestBody::FindFiles`]).
//!
//! Paths on the wire are UTF-8 and `/`-separated, relative to the checkout root unless a field
//! says it is absolute.

use serde::{Deserialize, Serialize};

/// What became of one candidate of a [`crate::RequestBody::ResolvePaths`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ResolvedPath {
    /// The candidate as it was sent; a candidate longer than [`crate::MAX_PATH_BYTES`] (always
    /// refused) is clipped to that many bytes, so the answer stays small.
    pub requested: String,
    /// Whether it exists, and where.
    pub resolution: PathResolution,
}

/// Whether a candidate path names something in the workspace. On the wire an object tagged by
/// `"status"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PathResolution {
    /// It exists inside the workspace.
    Found(FoundPath),
    /// Nothing is there (also when a parent is a file). Not an error: agents mention paths
    /// that do not exist (yet).
    Missing,
    /// The host will not resolve it: it leaves the workspace (`..`, an absolute path outside,
    /// a symlink pointing out), is not a plain path (`~`, a URL, a NUL byte, a backslash), is
    /// too long, lies inside `.git`, is neither a file nor a directory, or could not be
    /// examined.
    Refused {
        /// Why, for the user and the logs.
        reason: String,
    },
}

/// A path that exists in the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FoundPath {
    /// The candidate normalised: relative to the checkout root, `/`-separated, without `.` or
    /// `..`. Symlinks inside the workspace are kept as written.
    pub relative: String,
    /// The canonical path on the host (symlinks resolved), for an editor to open. Always
    /// inside the canonical checkout root.
    pub absolute: String,
    /// What it is.
    pub kind: PathKind,
}

/// What a found path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
}

/// The answer to a [`crate::RequestBody::FindFiles`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FoundFiles {
    /// The best matches, best first; for an empty query the first files of the index
    /// (shortest path, in bytes, first, then in byte order).
    pub matches: Vec<FileMatch>,
    /// How many files the index searched holds.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub indexed_files: u64,
    /// How old the index searched is, in milliseconds. The host refreshes an index older than
    /// a few seconds in the background and answers from the old one meanwhile.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub index_age_ms: u64,
    /// Whether the workspace holds more than [`crate::MAX_INDEXED_FILES`] files, so that some
    /// were left out of the index.
    pub truncated_index: bool,
}

/// One file matching a [`crate::RequestBody::FindFiles`] query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FileMatch {
    /// The file, relative to the checkout root, `/`-separated.
    pub path: String,
    /// How well it matches; higher is better. Only comparable within one answer.
    pub score: u32,
    /// The indices of the matched characters in `path`, counted in Unicode scalar values
    /// (not bytes, not UTF-16 units), ascending, for highlighting. Empty for an empty query.
    pub positions: Vec<u32>,
}

//! The wire protocol between SAM Desktop and `sam-host`, the daemon on a workspace machine.
//!
//! One connection is a bidirectional byte stream (a local child process's stdio, or an SSH exec
//! channel, both ending in `sam-host connect`). On it travel newline-delimited JSON frames
//! ([`frame`]), at most [`MAX_FRAME_BYTES`] each. The client opens with [`Hello`]; the host
//! answers [`Welcome`] or [`Incompatible`] (and closes). After that the client sends
//! [`Request`]s and the host sends [`Response`]s (correlated by id, in any order) and, once the
//! client subscribed, [`Event`]s numbered by a gap-free journal sequence. [`client::HostClient`]
//! is the async client the desktop uses.
//!
//! This crate is types and framing only: it never touches the file system, never spawns
//! processes and never logs. A [`Secret`] serialises as its plain text only because the wire
//! has to carry it; nothing else in this crate prints or stores one.

mod changes;
pub mod client;
mod files;
pub mod frame;
mod messages;
mod secret;
pub mod session;

pub use changes::{
    ChangeStatus, ChangedFile, Changes, ChangesVersion, FileDiff, Shipped, TurnChanges, TurnRef,
    TurnReverted,
};
pub use files::{FileMatch, FoundFiles, FoundPath, PathKind, PathResolution, ResolvedPath};
pub use messages::{
    ClientMessage, ContainerEngine, DevContainer, ErrorCode, Event, EventBody, FileContent,
    FileContents, Hello, HostMessage, HostState, HostStatus, Incompatible, ProtocolError,
    RepoSource, Request, RequestBody, Response, ResponseBody, SetupPlan, Welcome, step,
};
pub use secret::Secret;
pub use session::{
    AgentInstall, AgentLaunch, EnvVar, PermissionOption, PermissionOutcome, SessionEvent,
    SessionId, SessionStatus, ShippedPullRequest, StartSession,
};

/// The protocol version this build speaks. Both sides must speak the same version; the host
/// answers any other with [`Incompatible`]. Bump it on any change an older peer cannot read.
pub const PROTOCOL_VERSION: u32 = 2;

/// The largest frame (one JSON message, excluding its newline) either side accepts, in bytes.
/// A longer line is a protocol error that closes the connection; the reader never buffers more
/// than this.
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// The most bytes one [`RequestBody::ReadFile`] returns; a larger `max_bytes` is clamped to this.
/// Chosen so the response frame stays under [`MAX_FRAME_BYTES`] even when every byte needs a
/// six-character JSON escape.
pub const MAX_READ_BYTES: u64 = 2 * 1024 * 1024;

/// The most stdout bytes one [`RequestBody::Run`] returns; the rest is read and dropped.
pub const MAX_RUN_STDOUT_BYTES: usize = 1024 * 1024;

/// The most stderr bytes (the end of it) one [`RequestBody::Run`] returns.
pub const MAX_RUN_STDERR_TAIL_BYTES: usize = 64 * 1024;

/// The longest a [`RequestBody::Run`] may run; a larger `timeout_ms` is clamped to this.
pub const MAX_RUN_TIMEOUT_MS: u64 = 60 * 60 * 1000;

/// The longest path a request may name, in bytes (Linux `PATH_MAX`); a longer one is refused.
pub const MAX_PATH_BYTES: usize = 4096;

/// The most candidates one [`RequestBody::ResolvePaths`] may carry; more is
/// [`ErrorCode::InvalidRequest`].
pub const MAX_RESOLVE_PATHS: usize = 256;

/// The most matches one [`RequestBody::FindFiles`] returns; a larger `limit` is clamped to this.
pub const MAX_FIND_FILES: u32 = 200;

/// The most files the host's file index holds; beyond it the index is marked truncated
/// ([`FoundFiles::truncated_index`]) and which files are left out is unspecified.
pub const MAX_INDEXED_FILES: usize = 500_000;

/// The most files one [`RequestBody::Changes`] lists; the totals still count every file.
pub const MAX_CHANGED_FILES: usize = 10_000;

/// The most bytes of paths one [`RequestBody::Changes`] lists (about a megabyte), so that the
/// answer stays far below [`MAX_FRAME_BYTES`] however long the paths are.
pub const MAX_CHANGES_BYTES: usize = 1024 * 1024;

/// The most bytes of diff one [`RequestBody::FileDiff`] returns. Chosen like
/// [`MAX_READ_BYTES`]: the frame stays under [`MAX_FRAME_BYTES`] even when every byte needs an
/// escape.
pub const MAX_DIFF_BYTES: usize = 2 * 1024 * 1024;

/// The longest a [`RequestBody::WaitChanges`] waits, in milliseconds: well inside the
/// clients' request timeouts, so a long wait never looks like a dead host.
pub const MAX_WAIT_CHANGES_MS: u64 = 25_000;

/// The longest commit message a [`RequestBody::Ship`] accepts, in bytes.
pub const MAX_COMMIT_MESSAGE_BYTES: usize = 64 * 1024;

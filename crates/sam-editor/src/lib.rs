//! Opens a file at a line in the user's own editor: VS Code and its forks, Zed, JetBrains IDEs,
//! Sublime Text, Emacs, Kate, gedit, Vim/Neovim/Helix and other terminal editors (inside the
//! user's terminal emulator), `$VISUAL`/`$EDITOR`, the system opener, or a custom command; and
//! a file on a remote workspace in the editors with a remote mode, through the workspace's SSH
//! alias (`sam-<name>`).
//!
//! The flow: an [`EditorChoice`] from the settings and an [`Environment`] (search path and the
//! user's variables, injected so tests run against fake programs) resolve to one editor;
//! [`plan_local`] / [`plan_remote`] turn it and a validated target ([`Position`],
//! [`HostAlias`], [`RemotePath`]) into a [`LaunchPlan`]; [`LaunchPlan::launch`] starts it and
//! reports an immediate failure. [`open_local`] / [`open_remote`] do both. [`detect`] lists
//! what is installed for the settings screen, and [`supports_remote`] tells the caller
//! whether to fall back to a read-only local copy for remote files. [`plan_terminal_in`],
//! [`plan_terminal_running`] and the `plan_vscode_*` functions open a whole workspace (a
//! terminal there, VS Code on its folder).
//!
//! This crate must never run a shell or build a command line as one string: every path,
//! line and user argument is its own argv element, and `$EDITOR`/`$TERMINAL` are only split
//! into words. It never opens a relative local path (so no path can pass for an option), never
//! puts an unvalidated alias or remote path into an argument, and never depends on `tauri`.
//! Its functions block on the file system and on process start-up: async callers use
//! `spawn_blocking`.

mod catalogue;
mod choice;
mod environment;
mod error;
mod launch;
mod target;
mod terminal;
mod workspace_tools;

pub use catalogue::{EditorKind, EditorSpec, catalogue, find_editor};
pub use choice::{DetectedEditor, EditorChoice, detect, supports_remote};
pub use environment::{Environment, Platform};
pub use error::EditorError;
pub use launch::{
    DEFAULT_EARLY_EXIT_WINDOW, LaunchOptions, LaunchPlan, OpenMode, Opened, open_local,
    open_remote, plan_local, plan_remote,
};
pub use target::{HostAlias, MAX_POSITION, Position, RemotePath};
pub use workspace_tools::{
    plan_terminal_in, plan_terminal_running, plan_vscode_folder, plan_vscode_remote_folder,
};

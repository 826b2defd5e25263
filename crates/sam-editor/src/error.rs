//! The one error type of this crate. Every message is written for the user and says what to do
//! next; the desktop maps variants to its closed IPC error codes.

use std::path::PathBuf;

/// Why a file could not be opened in an editor.
#[derive(Debug, thiserror::Error)]
pub enum EditorError {
    /// A line or column outside `1..=MAX_POSITION`.
    #[error(
        "{what} {value} is out of range: lines and columns start at 1 and go up to {max}. \
         Check the position in the link."
    )]
    InvalidPosition {
        what: &'static str,
        value: u64,
        max: u32,
    },

    /// A column was given without a line.
    #[error("a column was given without a line. Give the line too, or neither.")]
    ColumnWithoutLine,

    /// The local path is relative; only absolute paths are opened, so that no path can be
    /// mistaken for an option.
    #[error("the path {path:?} is not absolute. SAM only opens absolute paths; resolve it first.")]
    PathNotAbsolute { path: PathBuf },

    /// The local path cannot be passed to a program at all.
    #[error("the path {path:?} cannot be opened: {reason}.")]
    InvalidPath { path: PathBuf, reason: &'static str },

    /// The SSH host alias is not one SAM writes (`sam-<name>`).
    #[error(
        "the SSH host {alias:?} is not a SAM workspace alias (sam- followed by 1 to 64 letters, \
         digits, '.', '_' or '-'). Reconnect the workspace so SAM rewrites its SSH entry."
    )]
    InvalidHostAlias { alias: String },

    /// The remote path is not absolute or holds characters no editor URI can carry.
    #[error("the remote path {path:?} cannot be opened: {reason}.")]
    InvalidRemotePath { path: String, reason: &'static str },

    /// The settings name an editor id this version does not know.
    #[error(
        "the editor {id:?} in your settings is not one SAM knows. Pick an editor again in \
         Settings → Editor."
    )]
    UnknownEditor { id: String },

    /// The chosen editor's command-line launcher is not installed (not on the search path).
    #[error(
        "{name} was not found: {}. {hint} Or pick another editor in Settings → Editor.",
        not_on_path(.searched)
    )]
    EditorNotFound {
        name: String,
        /// The command names looked for.
        searched: Vec<String>,
        hint: String,
    },

    /// `$VISUAL` / `$EDITOR` was chosen but neither is set.
    #[error(
        "neither $VISUAL nor $EDITOR is set. Set one of them in your shell profile, or pick an \
         editor in Settings → Editor."
    )]
    EnvironmentEditorUnset,

    /// `$VISUAL`, `$EDITOR` or `$TERMINAL` could not be split into words.
    #[error("${variable} could not be read as a command ({reason}). Fix it in your shell profile.")]
    InvalidEnvironmentCommand {
        variable: &'static str,
        reason: String,
    },

    /// A custom command in the settings is unusable.
    #[error("the custom editor command in Settings → Editor is unusable: {reason}.")]
    InvalidCustomCommand { reason: String },

    /// No editor at all was found for "auto".
    #[error(
        "no editor was found. Install the command-line launcher of your editor (for VS Code: \
         Command Palette → \"Shell Command: Install 'code' command in PATH\"), or set a custom \
         command in Settings → Editor."
    )]
    NoEditor,

    /// A terminal editor was chosen but no terminal emulator is available to run it in.
    #[error(
        "{editor} runs in a terminal, but no terminal emulator was found. Set $TERMINAL to your \
         terminal (for example kitty), install one such as gnome-terminal, konsole or xterm, or \
         pick a graphical editor in Settings → Editor."
    )]
    NoTerminal { editor: String },

    /// "Open terminal" found no terminal emulator.
    #[error(
        "no terminal emulator was found. Set $TERMINAL to your terminal (for example kitty), or \
         install one such as gnome-terminal, konsole or xterm."
    )]
    NoTerminalEmulator,

    /// A program SAM starts for a workspace (VS Code, ssh, ...) is not installed.
    #[error("{program} was not found on your PATH. {hint}")]
    ProgramNotFound { program: String, hint: String },

    /// The editor has no way to open files on a remote machine; the caller falls back to a
    /// read-only local copy.
    #[error(
        "{editor} cannot open files on a remote workspace. VS Code, Cursor and Zed can; pick one \
         of them in Settings → Editor to edit remote files."
    )]
    RemoteUnsupported { editor: String },

    /// The operating system refused to start the program.
    #[error("{program} could not be started: {source}. Check that it is installed and executable.")]
    SpawnFailed {
        program: String,
        #[source]
        source: std::io::Error,
    },

    /// The program started but exited with a failure at once.
    #[error("{program} exited at once with {status}{}", stderr_suffix(.stderr_tail))]
    ExitedAtOnce {
        program: String,
        status: String,
        stderr_tail: String,
    },
}

fn not_on_path(searched: &[String]) -> String {
    match searched {
        [one] => format!("{one} is not on your PATH"),
        many => format!("none of {} is on your PATH", many.join(", ")),
    }
}

fn stderr_suffix(tail: &str) -> String {
    if tail.is_empty() {
        ". It printed nothing; try running it from a terminal to see why.".to_owned()
    } else {
        format!(": {tail}")
    }
}

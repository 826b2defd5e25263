//! Turning a resolved editor into an argv, and starting it: no shell, detached from the app,
//! reaped in the background, with an immediate failure reported instead of lost.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use serde::Serialize;

use crate::catalogue::{EditorArgs, EditorKind};
use crate::choice::{Candidate, Invocation, resolve, resolve_remote};
use crate::target::{HostAlias, Position, RemotePath, check_local_path};
use crate::terminal::find_terminal;
use crate::{EditorChoice, EditorError, Environment};

/// How long [`open_local`] and [`open_remote`] watch a started editor for an immediate
/// failure. Launchers that hand the file to a running instance (`code`, `zed`, `subl`) exit
/// with 0 well within it; a broken install exits with an error within it.
pub const DEFAULT_EARLY_EXIT_WINDOW: Duration = Duration::from_millis(300);

/// Bytes read from the end of a failed program's stderr; the message shows the end of those.
const STDERR_READ_BYTES: u64 = 4096;
const STDERR_SHOW_CHARS: usize = 300;

/// How the file was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum OpenMode {
    /// A graphical editor on this machine.
    Local,
    /// An editor's remote mode, over the workspace's SSH alias.
    Remote,
    /// A terminal editor in a terminal emulator.
    Terminal,
    /// The desktop's default application.
    SystemDefault,
}

/// A started editor, for the UI and the logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Opened {
    pub editor_id: String,
    pub editor_name: String,
    pub how: OpenMode,
    /// The program and its arguments, lossily as text (it holds the file path).
    pub argv_preview: Vec<String>,
    /// True when a line was asked for and the editor was given it; false when it was asked
    /// for but this editor (or this path) cannot take one, so the UI can say so.
    pub at_position: bool,
}

/// Options for [`LaunchPlan::launch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchOptions {
    /// How long to watch for an immediate failure. The call returns as soon as the program
    /// exits, or when this has passed with it still running.
    pub early_exit_window: Duration,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        Self {
            early_exit_window: DEFAULT_EARLY_EXIT_WINDOW,
        }
    }
}

/// Exactly what would be started: a program and its argv, each element one argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchPlan {
    editor_id: String,
    editor_name: String,
    how: OpenMode,
    program: PathBuf,
    args: Vec<OsString>,
    at_position: bool,
    child_path: Option<OsString>,
    exit_status_meaningful: bool,
    /// The folder the program starts in; `None`: the app's.
    current_dir: Option<PathBuf>,
}

/// Plans opening a local file at an optional position with the editor `choice` selects.
///
/// Looks up programs on the file system: call it off the async runtime.
///
/// # Errors
/// [`EditorError::PathNotAbsolute`] / [`EditorError::InvalidPath`] for a path that cannot be
/// passed safely; the resolution errors of the choice (editor not found, unknown id, `$EDITOR`
/// unset or unparsable, unusable custom command, no editor at all); [`EditorError::NoTerminal`]
/// for a terminal editor with no terminal emulator.
pub fn plan_local(
    env: &Environment,
    choice: &EditorChoice,
    path: &Path,
    position: Option<Position>,
) -> Result<LaunchPlan, EditorError> {
    check_local_path(path)?;
    let candidate = resolve(env, choice)?;
    let editor_args = candidate.local_args(path, position);
    let how = match (&candidate.invocation, candidate.kind) {
        (Invocation::SystemDefault, _) => OpenMode::SystemDefault,
        (_, EditorKind::Terminal) => OpenMode::Terminal,
        (_, EditorKind::Gui) => OpenMode::Local,
    };
    finish(env, candidate, editor_args, how)
}

/// Plans opening a file on a remote workspace through its SSH alias, in an editor with a
/// remote mode (VS Code, VS Code Insiders, Cursor, Zed).
///
/// # Errors
/// [`EditorError::RemoteUnsupported`] when the chosen editor (for "auto": every installed
/// editor) has no remote mode, so the caller shows a read-only local copy; otherwise as
/// [`plan_local`].
pub fn plan_remote(
    env: &Environment,
    choice: &EditorChoice,
    alias: &HostAlias,
    path: &RemotePath,
    position: Option<Position>,
) -> Result<LaunchPlan, EditorError> {
    let candidate = resolve_remote(env, choice)?;
    let editor_args = candidate
        .remote_args(alias, path, position)
        .ok_or_else(|| EditorError::RemoteUnsupported {
            editor: candidate.name.clone(),
        })?;
    finish(env, candidate, editor_args, OpenMode::Remote)
}

/// [`plan_local`], then [`LaunchPlan::launch`] with the default options. Blocks for up to
/// [`DEFAULT_EARLY_EXIT_WINDOW`].
///
/// # Errors
/// As [`plan_local`] and [`LaunchPlan::launch`].
pub fn open_local(
    env: &Environment,
    choice: &EditorChoice,
    path: &Path,
    position: Option<Position>,
) -> Result<Opened, EditorError> {
    plan_local(env, choice, path, position)?.launch(&LaunchOptions::default())
}

/// [`plan_remote`], then [`LaunchPlan::launch`] with the default options.
///
/// # Errors
/// As [`plan_remote`] and [`LaunchPlan::launch`].
pub fn open_remote(
    env: &Environment,
    choice: &EditorChoice,
    alias: &HostAlias,
    path: &RemotePath,
    position: Option<Position>,
) -> Result<Opened, EditorError> {
    plan_remote(env, choice, alias, path, position)?.launch(&LaunchOptions::default())
}

fn finish(
    env: &Environment,
    candidate: Candidate,
    editor_args: EditorArgs,
    how: OpenMode,
) -> Result<LaunchPlan, EditorError> {
    let (program, args) = if how == OpenMode::Terminal {
        let terminal = find_terminal(env)?.ok_or_else(|| EditorError::NoTerminal {
            editor: candidate.name.clone(),
        })?;
        let args = terminal.wrap(&candidate.program, editor_args.args);
        (terminal.program, args)
    } else {
        (candidate.program, editor_args.args)
    };
    Ok(LaunchPlan {
        editor_id: candidate.id,
        editor_name: candidate.name,
        how,
        program,
        args,
        at_position: editor_args.at_position,
        child_path: env.joined_search_path(),
        exit_status_meaningful: candidate.exit_status_meaningful,
        current_dir: None,
    })
}

/// What [`LaunchPlan::for_program`] starts, for the plans of [`crate::workspace_tools`].
pub(crate) struct ProgramPlan {
    pub id: &'static str,
    pub name: String,
    pub how: OpenMode,
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub current_dir: Option<PathBuf>,
}

impl LaunchPlan {
    /// A plan that starts `plan.program` as it is (no editor resolution), with `env`'s search
    /// path as its `PATH`.
    pub(crate) fn for_program(env: &Environment, plan: ProgramPlan) -> Self {
        Self {
            editor_id: plan.id.to_owned(),
            editor_name: plan.name,
            how: plan.how,
            program: plan.program,
            args: plan.args,
            at_position: false,
            child_path: env.joined_search_path(),
            exit_status_meaningful: true,
            current_dir: plan.current_dir,
        }
    }
}

impl LaunchPlan {
    /// The absolute path of the program started (the terminal emulator for terminal editors).
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The arguments, each passed as one argv element.
    pub fn args(&self) -> &[OsString] {
        &self.args
    }

    pub fn how(&self) -> OpenMode {
        self.how
    }

    /// The folder the program starts in, when not the app's.
    pub fn current_dir(&self) -> Option<&Path> {
        self.current_dir.as_deref()
    }

    pub fn editor_id(&self) -> &str {
        &self.editor_id
    }

    /// See [`Opened::at_position`].
    pub fn at_position(&self) -> bool {
        self.at_position
    }

    /// Program and arguments as text, for logs and the UI.
    pub fn argv_preview(&self) -> Vec<String> {
        std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect()
    }

    /// Starts the program directly (never through a shell), with stdin and stdout on the null
    /// device and stderr in an unlinked temporary file (read only if it fails at once), in its
    /// own process group so that it outlives the app and ignores the app's terminal signals. A
    /// background thread reaps it, so no zombie stays behind.
    ///
    /// Blocks until the program exits or `early_exit_window` passes, whichever is first: call
    /// it off the async runtime.
    ///
    /// # Errors
    /// [`EditorError::SpawnFailed`] with the OS reason when it cannot start;
    /// [`EditorError::ExitedAtOnce`] with its status and the end of its stderr when it fails
    /// within the window.
    pub fn launch(&self, options: &LaunchOptions) -> Result<Opened, EditorError> {
        // stderr goes to an unlinked temporary file, not a pipe: a pipe would break when SAM
        // quits before the editor, and the editor's next warning would kill it with SIGPIPE.
        let stderr_file = tempfile::tempfile().ok();
        let stderr = stderr_file
            .as_ref()
            .and_then(|file| file.try_clone().ok())
            .map_or_else(Stdio::null, Stdio::from);
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        if let Some(path) = &self.child_path {
            command.env("PATH", path);
        }
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        detach(&mut command);
        let child = command.spawn().map_err(|source| EditorError::SpawnFailed {
            program: self.program_label(),
            source,
        })?;
        // The command holds the parent's copy of the stderr file; the child has its own.
        drop(command);
        let exited = reap_in_background(child);

        match exited.recv_timeout(options.early_exit_window) {
            Ok(status) if !status.success() && self.exit_status_meaningful => {
                Err(EditorError::ExitedAtOnce {
                    program: self.program_label(),
                    status: status.to_string(),
                    stderr_tail: stderr_file
                        .map(|file| summarise_stderr(&read_tail(file)))
                        .unwrap_or_default(),
                })
            }
            // Exited cleanly (a launcher handing off to a running instance), still running,
            // or not observable because the reaper could not start: all count as opened.
            Ok(_) | Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => Ok(Opened {
                editor_id: self.editor_id.clone(),
                editor_name: self.editor_name.clone(),
                how: self.how,
                argv_preview: self.argv_preview(),
                at_position: self.at_position,
            }),
        }
    }

    fn program_label(&self) -> String {
        format!("{} ({})", self.editor_name, self.program.display())
    }
}

#[cfg(unix)]
fn detach(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // Its own process group: Ctrl-C in the terminal that started SAM, or SAM's own group being
    // signalled, does not reach the editor.
    command.process_group(0);
}

#[cfg(windows)]
fn detach(command: &mut Command) {
    use std::os::windows::process::CommandExt;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    // `code.cmd` and friends run through cmd.exe: no console window flashing up.
    command.creation_flags(CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW);
}

#[cfg(not(any(unix, windows)))]
fn detach(_command: &mut Command) {}

/// Waits for the child on its own thread (so it never lingers as a zombie) and reports its
/// exit status on the returned channel.
fn reap_in_background(mut child: Child) -> mpsc::Receiver<ExitStatus> {
    let (tx, rx) = mpsc::sync_channel(1);
    let _ = thread::Builder::new()
        .name("sam-editor-reaper".to_owned())
        .spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send(status);
            }
        });
    rx
}

/// The last [`STDERR_READ_BYTES`] written to the stderr file; empty if it cannot be read.
fn read_tail(mut file: File) -> Vec<u8> {
    let mut tail = Vec::new();
    let start = file
        .metadata()
        .map_or(0, |meta| meta.len().saturating_sub(STDERR_READ_BYTES));
    if file.seek(SeekFrom::Start(start)).is_ok() {
        let _ = file.take(STDERR_READ_BYTES).read_to_end(&mut tail);
    }
    tail
}

/// The end of stderr as one line: lines joined with " / ", control characters dropped, at
/// most [`STDERR_SHOW_CHARS`] characters.
fn summarise_stderr(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let joined = text
        .lines()
        .map(|line| {
            line.chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    let count = joined.chars().count();
    if count <= STDERR_SHOW_CHARS {
        joined
    } else {
        let tail: String = joined.chars().skip(count - STDERR_SHOW_CHARS).collect();
        format!("…{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_is_summarised_to_its_end() {
        assert_eq!(
            summarise_stderr(b"\n  error: bad\x1b[0m \n\nhint\n"),
            "error: bad[0m / hint"
        );
        let long = "x".repeat(1000);
        let summary = summarise_stderr(long.as_bytes());
        assert_eq!(summary.chars().count(), STDERR_SHOW_CHARS + 1);
        assert!(summary.starts_with('…'));
        assert_eq!(summarise_stderr(&[0xff, b'a']), "\u{fffd}a");
    }
}

//! Opening a whole workspace rather than one of its files: the user's terminal emulator in a
//! local checkout, or running `ssh` to a cloud workspace; VS Code on a local folder, or on the
//! workspace's folder through Remote-SSH.
//!
//! As everywhere in this crate, each path and argument is its own argv element and no shell
//! runs: the `ssh` command line of a cloud workspace is handed to the terminal as a program
//! and its arguments (`x-terminal-emulator -e /usr/bin/ssh -F <config> sam-<name>`).

use std::ffi::OsString;
use std::path::Path;

use crate::launch::{LaunchPlan, ProgramPlan};
use crate::target::check_local_path;
use crate::terminal::{Terminal, find_terminal};
use crate::{EditorError, Environment, HostAlias, OpenMode, RemotePath, find_editor};

/// The catalogue id of the editor "Open in VS Code" starts.
const VSCODE: &str = "vscode";

/// Plans the user's terminal emulator with a shell in `folder` (a local workspace's checkout).
/// The folder is the emulator's working directory, which every emulator SAM knows starts its
/// shell in; no emulator-specific option is needed.
///
/// Looks up programs on the file system: call it off the async runtime.
///
/// # Errors
/// [`EditorError::PathNotAbsolute`] / [`EditorError::InvalidPath`] for a folder that is
/// relative, holds a NUL or is not a folder; [`EditorError::NoTerminalEmulator`] when there is
/// no terminal emulator; an unusable `$TERMINAL`.
pub fn plan_terminal_in(env: &Environment, folder: &Path) -> Result<LaunchPlan, EditorError> {
    check_folder(folder)?;
    let terminal = terminal(env)?;
    Ok(LaunchPlan::for_program(
        env,
        ProgramPlan {
            id: "terminal",
            name: terminal.name(),
            how: OpenMode::Terminal,
            args: terminal.user_args.clone(),
            program: terminal.program,
            current_dir: Some(folder.to_path_buf()),
        },
    ))
}

/// Plans the user's terminal emulator running `argv` (for a cloud workspace: the `ssh`
/// command line that reaches it). `argv[0]` is looked up on the search path.
///
/// # Errors
/// [`EditorError::ProgramNotFound`] when `argv` is empty or its program is not installed;
/// [`EditorError::NoTerminalEmulator`]; an unusable `$TERMINAL`.
pub fn plan_terminal_running(
    env: &Environment,
    argv: &[String],
) -> Result<LaunchPlan, EditorError> {
    let Some((first, rest)) = argv.split_first() else {
        return Err(EditorError::ProgramNotFound {
            program: "(nothing)".to_owned(),
            hint: "SAM was asked to run an empty command; this is a bug.".to_owned(),
        });
    };
    let program = env
        .find_program(first.as_ref())
        .ok_or_else(|| EditorError::ProgramNotFound {
            program: first.clone(),
            hint: if first == "ssh" {
                "Install the OpenSSH client (on Debian and Ubuntu: openssh-client).".to_owned()
            } else {
                "Install it, or put it on your PATH.".to_owned()
            },
        })?;
    let terminal = terminal(env)?;
    let args = terminal.wrap(&program, rest.iter().map(OsString::from).collect());
    Ok(LaunchPlan::for_program(
        env,
        ProgramPlan {
            id: "terminal",
            name: terminal.name(),
            how: OpenMode::Terminal,
            program: terminal.program,
            args,
            current_dir: None,
        },
    ))
}

/// Plans `code <folder>`.
///
/// # Errors
/// As [`plan_terminal_in`] for the folder; [`EditorError::ProgramNotFound`] without `code`.
pub fn plan_vscode_folder(env: &Environment, folder: &Path) -> Result<LaunchPlan, EditorError> {
    check_folder(folder)?;
    let program = vscode(env)?;
    Ok(LaunchPlan::for_program(
        env,
        ProgramPlan {
            id: VSCODE,
            name: vscode_name(),
            how: OpenMode::Local,
            program,
            args: vec![folder.as_os_str().to_os_string()],
            current_dir: None,
        },
    ))
}

/// Plans VS Code on `folder` of the machine `alias` names, through Remote-SSH:
/// `code --remote ssh-remote+<alias> <folder>`. VS Code guesses from a path whether it is a
/// file or a folder (a last component with a `.` looks like a file, a `:` can be read as a
/// line), so such a folder is given as `--folder-uri vscode-remote://ssh-remote+<alias><folder>`
/// instead, which cannot be misread.
///
/// # Errors
/// [`EditorError::ProgramNotFound`] without `code`.
pub fn plan_vscode_remote_folder(
    env: &Environment,
    alias: &HostAlias,
    folder: &RemotePath,
) -> Result<LaunchPlan, EditorError> {
    let program = vscode(env)?;
    let path = folder.as_str();
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let args: Vec<OsString> = if last.contains('.') || path.contains(':') {
        vec![
            "--folder-uri".into(),
            format!(
                "vscode-remote://ssh-remote+{}{}",
                alias.as_str(),
                crate::catalogue::percent_encode_path(path)
            )
            .into(),
        ]
    } else {
        vec![
            "--remote".into(),
            format!("ssh-remote+{}", alias.as_str()).into(),
            path.into(),
        ]
    };
    Ok(LaunchPlan::for_program(
        env,
        ProgramPlan {
            id: VSCODE,
            name: vscode_name(),
            how: OpenMode::Remote,
            program,
            args,
            current_dir: None,
        },
    ))
}

fn check_folder(folder: &Path) -> Result<(), EditorError> {
    check_local_path(folder)?;
    if !folder.is_dir() {
        return Err(EditorError::InvalidPath {
            path: folder.to_path_buf(),
            reason: "it is not a folder on this computer (was it moved or deleted?)",
        });
    }
    Ok(())
}

fn terminal(env: &Environment) -> Result<Terminal, EditorError> {
    find_terminal(env)?.ok_or(EditorError::NoTerminalEmulator)
}

fn vscode_name() -> String {
    find_editor(VSCODE).map_or_else(|| "Visual Studio Code".to_owned(), |s| s.name().to_owned())
}

fn vscode(env: &Environment) -> Result<std::path::PathBuf, EditorError> {
    let spec = find_editor(VSCODE);
    let executables = spec.map_or(&["code"][..], |s| s.executables());
    executables
        .iter()
        .find_map(|exe| env.find_program(exe.as_ref()))
        .ok_or_else(|| EditorError::ProgramNotFound {
            program: format!("{} ({})", vscode_name(), executables.join(", ")),
            hint: spec.map_or("", |s| s.install_hint()).to_owned(),
        })
}

//! Terminal emulators that can run a terminal editor, and the argv each one needs to run a
//! program with arguments (not a command string, which some emulators would hand to a shell).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::{EditorError, Environment};

/// A terminal emulator and the arguments that precede the program it should run.
struct TerminalSpec {
    executable: &'static str,
    /// Each of these takes every argument after it as the program and its arguments.
    run_args: &'static [&'static str],
}

/// Tried in order after `$TERMINAL`. `x-terminal-emulator` (Debian's alternative) first: it is
/// the system's choice, and Debian policy fixes its `-e <program> <args>...` form.
const TERMINALS: &[TerminalSpec] = &[
    TerminalSpec {
        executable: "x-terminal-emulator",
        run_args: &["-e"],
    },
    TerminalSpec {
        executable: "gnome-terminal",
        run_args: &["--"],
    },
    TerminalSpec {
        executable: "konsole",
        run_args: &["-e"],
    },
    TerminalSpec {
        executable: "kitty",
        // kitty runs its first positional argument with the rest as that program's argv.
        run_args: &[],
    },
    TerminalSpec {
        executable: "alacritty",
        run_args: &["-e"],
    },
    TerminalSpec {
        executable: "wezterm",
        run_args: &["start", "--"],
    },
    TerminalSpec {
        executable: "foot",
        run_args: &["--"],
    },
    TerminalSpec {
        executable: "xfce4-terminal",
        run_args: &["-x"],
    },
    TerminalSpec {
        executable: "xterm",
        run_args: &["-e"],
    },
];

/// A terminal emulator found on this machine, ready to wrap a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Terminal {
    pub program: PathBuf,
    /// The user's own arguments (from `$TERMINAL`).
    pub user_args: Vec<OsString>,
    /// The arguments that make it run a program rather than the user's shell.
    pub run_args: Vec<OsString>,
}

impl Terminal {
    /// The argv (after the terminal program) that runs `program` with `args` in it.
    pub fn wrap(&self, program: &Path, args: Vec<OsString>) -> Vec<OsString> {
        let mut wrapped = self.user_args.clone();
        wrapped.extend(self.run_args.iter().cloned());
        wrapped.push(program.as_os_str().to_os_string());
        wrapped.extend(args);
        wrapped
    }

    /// A name for messages: the program's file name.
    pub fn name(&self) -> String {
        self.program.file_name().map_or_else(
            || self.program.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        )
    }
}

/// The terminal to run terminal editors in: `$TERMINAL` if it names an installed program
/// (with the known run arguments for a known emulator, else the common `-e`), then the first
/// of [`TERMINALS`] on the search path. `Ok(None)` when there is none.
pub(crate) fn find_terminal(env: &Environment) -> Result<Option<Terminal>, EditorError> {
    if let Some(words) = env.terminal_command()?
        && let Some((first, user_args)) = words.split_first()
        && let Some(program) = env.find_program(first.as_ref())
    {
        let name = Path::new(first)
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        let run_args = TERMINALS
            .iter()
            .find(|spec| spec.executable == name)
            .map_or(&["-e"][..], |spec| spec.run_args);
        return Ok(Some(Terminal {
            program,
            user_args: user_args.iter().map(OsString::from).collect(),
            run_args: run_args.iter().map(OsString::from).collect(),
        }));
    }
    Ok(TERMINALS.iter().find_map(|spec| {
        env.find_program(spec.executable.as_ref())
            .map(|program| Terminal {
                program,
                user_args: Vec::new(),
                run_args: spec.run_args.iter().map(OsString::from).collect(),
            })
    }))
}

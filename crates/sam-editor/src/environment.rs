//! The slice of the process environment that decides which editor opens: where programs are
//! looked up, `$VISUAL`/`$EDITOR`/`$TERMINAL`, and the platform. Injected, so tests run against
//! a directory of fake programs and never against whatever the machine has installed.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::EditorError;

/// Which desktop conventions apply (how the system default opener is called).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Linux and the other freedesktop Unixes: `xdg-open`.
    Linux,
    /// macOS: `open`.
    MacOs,
    /// Windows: `explorer.exe`.
    Windows,
}

impl Platform {
    /// The platform this binary was built for.
    pub fn current() -> Self {
        if cfg!(target_os = "macos") {
            Self::MacOs
        } else if cfg!(windows) {
            Self::Windows
        } else {
            Self::Linux
        }
    }
}

/// Where to look for editors and what the user configured outside SAM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Directories searched for executables, in order. Also becomes the launched program's
    /// `PATH`, so that launcher scripts find their own helpers.
    pub search_path: Vec<PathBuf>,
    /// `$VISUAL`, preferred over `$EDITOR` as the shell tools do.
    pub visual: Option<OsString>,
    /// `$EDITOR`.
    pub editor: Option<OsString>,
    /// `$TERMINAL`, the user's terminal emulator.
    pub terminal: Option<OsString>,
    pub platform: Platform,
}

impl Environment {
    /// An environment with only a search path (nothing configured), for the current platform.
    pub fn with_search_path(search_path: Vec<PathBuf>) -> Self {
        Self {
            search_path,
            visual: None,
            editor: None,
            terminal: None,
            platform: Platform::current(),
        }
    }

    /// Reads the environment of this process. The search path is `$PATH` followed by the
    /// places editor launchers are installed to but that a desktop session's `PATH` often
    /// lacks (`~/.local/bin`, JetBrains Toolbox's scripts, Homebrew, snap).
    pub fn from_process() -> Self {
        let mut search_path: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        let platform = Platform::current();
        for dir in well_known_dirs(platform, std::env::var_os("HOME").map(PathBuf::from)) {
            if !search_path.contains(&dir) {
                search_path.push(dir);
            }
        }
        Self {
            search_path,
            visual: non_empty(std::env::var_os("VISUAL")),
            editor: non_empty(std::env::var_os("EDITOR")),
            terminal: non_empty(std::env::var_os("TERMINAL")),
            platform,
        }
    }

    /// The search path joined as a `PATH` value; `None` when it is empty or holds a directory
    /// that cannot be part of one (a `:` on Unix), in which case the child inherits our `PATH`.
    pub(crate) fn joined_search_path(&self) -> Option<OsString> {
        if self.search_path.is_empty() {
            return None;
        }
        std::env::join_paths(&self.search_path).ok()
    }

    /// The absolute path of the program `name`: a bare command name is looked up on the search
    /// path; an absolute path must itself be executable. Relative paths with a directory part
    /// are refused: they would depend on the app's working directory.
    pub(crate) fn find_program(&self, name: &OsStr) -> Option<PathBuf> {
        let as_path = Path::new(name);
        if as_path.is_absolute() {
            return which::which_in_global(name, None::<&OsStr>).ok()?.next();
        }
        if as_path.components().count() != 1 {
            return None;
        }
        let paths = std::env::join_paths(
            self.search_path
                .iter()
                .filter(|dir| std::env::join_paths([dir]).is_ok()),
        )
        .ok()?;
        which::which_in_global(name, Some(paths)).ok()?.next()
    }

    /// `$VISUAL` if set, else `$EDITOR`, split into words: the variable's name and its argv.
    pub(crate) fn editor_command(
        &self,
    ) -> Result<Option<(&'static str, Vec<String>)>, EditorError> {
        for (variable, value) in [("VISUAL", &self.visual), ("EDITOR", &self.editor)] {
            if let Some(words) = split_command(variable, value.as_deref())? {
                return Ok(Some((variable, words)));
            }
        }
        Ok(None)
    }

    /// `$TERMINAL` split into words.
    pub(crate) fn terminal_command(&self) -> Result<Option<Vec<String>>, EditorError> {
        split_command("TERMINAL", self.terminal.as_deref())
    }
}

/// Splits a command variable into words with POSIX shell quoting rules, without running a
/// shell: no variable expansion, no command substitution, no globbing.
fn split_command(
    variable: &'static str,
    value: Option<&OsStr>,
) -> Result<Option<Vec<String>>, EditorError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .ok_or_else(|| EditorError::InvalidEnvironmentCommand {
            variable,
            reason: "it is not valid UTF-8".to_owned(),
        })?;
    let words =
        shell_words::split(value).map_err(|error| EditorError::InvalidEnvironmentCommand {
            variable,
            reason: error.to_string(),
        })?;
    Ok((!words.is_empty()).then_some(words))
}

fn non_empty(value: Option<OsString>) -> Option<OsString> {
    value.filter(|value| !value.is_empty())
}

fn well_known_dirs(platform: Platform, home: Option<PathBuf>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(home) = home.filter(|home| home.is_absolute()) {
        dirs.push(home.join(".local/bin"));
        dirs.push(home.join("bin"));
        match platform {
            Platform::Linux => dirs.push(home.join(".local/share/JetBrains/Toolbox/scripts")),
            Platform::MacOs => {
                dirs.push(home.join("Library/Application Support/JetBrains/Toolbox/scripts"));
            }
            Platform::Windows => {}
        }
    }
    match platform {
        Platform::Linux => {
            dirs.extend(["/usr/local/bin", "/snap/bin"].map(PathBuf::from));
        }
        Platform::MacOs => {
            dirs.extend(["/usr/local/bin", "/opt/homebrew/bin"].map(PathBuf::from));
        }
        Platform::Windows => {}
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_split_without_a_shell() {
        let env = Environment {
            visual: None,
            editor: Some("nvim -u NONE '$(touch x)' \"a b\"".into()),
            ..Environment::with_search_path(Vec::new())
        };
        let (variable, words) = env.editor_command().unwrap().unwrap();
        assert_eq!(variable, "EDITOR");
        assert_eq!(words, ["nvim", "-u", "NONE", "$(touch x)", "a b"]);

        let env = Environment {
            visual: Some("code --wait".into()),
            editor: Some("vim".into()),
            ..Environment::with_search_path(Vec::new())
        };
        assert_eq!(env.editor_command().unwrap().unwrap().0, "VISUAL");

        let env = Environment {
            editor: Some("vim 'unterminated".into()),
            ..Environment::with_search_path(Vec::new())
        };
        assert!(matches!(
            env.editor_command(),
            Err(EditorError::InvalidEnvironmentCommand {
                variable: "EDITOR",
                ..
            })
        ));
        let env = Environment {
            editor: Some("   ".into()),
            ..Environment::with_search_path(Vec::new())
        };
        assert_eq!(env.editor_command().unwrap(), None);
    }

    #[test]
    fn well_known_dirs_follow_home_and_platform() {
        let dirs = well_known_dirs(Platform::Linux, Some("/home/u".into()));
        assert!(dirs.contains(&PathBuf::from("/home/u/.local/bin")));
        assert!(dirs.contains(&PathBuf::from(
            "/home/u/.local/share/JetBrains/Toolbox/scripts"
        )));
        // A relative HOME is ignored rather than resolved against the working directory.
        assert!(
            well_known_dirs(Platform::Linux, Some("rel".into()))
                .iter()
                .all(|d| d.is_absolute())
        );
    }

    #[test]
    fn the_process_environment_keeps_path_first() {
        let env = Environment::from_process();
        let path: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        assert!(env.search_path.len() >= path.len());
        assert_eq!(env.search_path[..path.len()], path[..]);
        assert_eq!(env.platform, Platform::current());
    }

    #[test]
    fn relative_program_paths_are_refused() {
        let env = Environment::with_search_path(vec!["/usr/bin".into(), "/bin".into()]);
        assert_eq!(env.find_program(OsStr::new("./sh")), None);
        assert_eq!(env.find_program(OsStr::new("bin/sh")), None);
        assert_eq!(env.find_program(OsStr::new("")), None);
    }
}

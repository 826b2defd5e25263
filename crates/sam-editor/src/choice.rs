//! The user's editor setting and how it becomes one concrete program: detection of what is
//! installed, the "auto" preference order, `$VISUAL`/`$EDITOR`, the system opener and custom
//! commands.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalogue::{EditorArgs, EditorKind, EditorSpec, editor_for_executable, find_editor};
use crate::environment::{Environment, Platform};
use crate::target::{HostAlias, Position, RemotePath};
use crate::terminal::find_terminal;
use crate::{EditorError, catalogue};

/// Which editor opens files, as stored in the settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EditorChoice {
    /// The first installed editor in [`detect`] order.
    #[default]
    Auto,
    /// A catalogue editor by its stable id (`vscode`, `zed`, `neovim`, ...).
    Editor { id: String },
    /// `$VISUAL`, else `$EDITOR`.
    Environment,
    /// The desktop's default application for the file (`xdg-open`, `open`); never at a line.
    SystemDefault,
    /// A command of the user's: `argv[0]` is the program (a name on the search path or an
    /// absolute path), and in every later element `{file}`, `{line}` and `{column}` are
    /// replaced (line and column default to 1). Without a `{file}` element the file is
    /// appended. Each element stays one argument; nothing is ever joined into a shell line.
    Custom { argv: Vec<String> },
}

/// An editor found on this machine, as the settings screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DetectedEditor {
    /// A catalogue id, or `environment`, `system_default`, `custom`.
    pub id: String,
    pub name: String,
    /// The setting that selects exactly this entry.
    pub choice: EditorChoice,
    pub kind: EditorKind,
    /// The program that would be started, for display.
    pub program: String,
    /// Whether it can be told the line to open at.
    pub opens_at_line: bool,
    /// Whether it can open files on a remote workspace.
    pub supports_remote: bool,
}

/// How a resolved editor's arguments are built.
#[derive(Debug, Clone)]
pub(crate) enum Invocation {
    /// A catalogue editor, with any arguments the user gave it in `$EDITOR`.
    Catalogue {
        spec: &'static EditorSpec,
        user_args: Vec<OsString>,
    },
    /// An `$EDITOR` command SAM does not know: the file is appended, no position.
    Plain { user_args: Vec<OsString> },
    /// A custom command's elements after the program.
    Custom { template: Vec<String> },
    /// The system opener.
    SystemDefault,
}

/// One concrete editor: a program and how to call it.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub id: String,
    pub name: String,
    pub choice: EditorChoice,
    pub program: PathBuf,
    pub kind: EditorKind,
    pub invocation: Invocation,
    /// Whether a non-zero exit status means failure (`explorer.exe` exits 1 on success).
    pub exit_status_meaningful: bool,
}

impl Candidate {
    fn spec(&self) -> Option<&'static EditorSpec> {
        match &self.invocation {
            Invocation::Catalogue { spec, .. } => Some(spec),
            _ => None,
        }
    }

    fn opens_at_line(&self) -> bool {
        match &self.invocation {
            Invocation::Catalogue { spec, .. } => spec.opens_at_line(),
            Invocation::Custom { template } => template.iter().any(|arg| arg.contains("{line}")),
            Invocation::Plain { .. } | Invocation::SystemDefault => false,
        }
    }

    pub fn supports_remote(&self) -> bool {
        self.kind == EditorKind::Gui && self.spec().is_some_and(EditorSpec::supports_remote)
    }

    pub fn summary(&self) -> DetectedEditor {
        DetectedEditor {
            id: self.id.clone(),
            name: self.name.clone(),
            choice: self.choice.clone(),
            kind: self.kind,
            program: self.program.to_string_lossy().into_owned(),
            opens_at_line: self.opens_at_line(),
            supports_remote: self.supports_remote(),
        }
    }

    /// The arguments after the program that open a local file.
    pub fn local_args(&self, path: &Path, position: Option<Position>) -> EditorArgs {
        match &self.invocation {
            Invocation::Catalogue { spec, user_args } => {
                let editor = spec.local_args(path, position);
                EditorArgs {
                    args: user_args.iter().cloned().chain(editor.args).collect(),
                    at_position: editor.at_position,
                }
            }
            Invocation::Plain { user_args } => EditorArgs {
                args: user_args
                    .iter()
                    .cloned()
                    .chain([path.as_os_str().to_os_string()])
                    .collect(),
                at_position: false,
            },
            Invocation::Custom { template } => substitute(template, path.as_os_str(), position),
            Invocation::SystemDefault => EditorArgs {
                args: vec![path.as_os_str().to_os_string()],
                at_position: false,
            },
        }
    }

    /// The arguments after the program that open a remote file, if this editor can.
    pub fn remote_args(
        &self,
        alias: &HostAlias,
        path: &RemotePath,
        position: Option<Position>,
    ) -> Option<EditorArgs> {
        if !self.supports_remote() {
            return None;
        }
        let Invocation::Catalogue { spec, user_args } = &self.invocation else {
            return None;
        };
        let editor = spec.remote_args(alias, path, position)?;
        Some(EditorArgs {
            args: user_args.iter().cloned().chain(editor.args).collect(),
            at_position: editor.at_position,
        })
    }
}

/// The installed editors, best first: the configured `choice` (when it resolves), then
/// `$VISUAL`/`$EDITOR` when it is a graphical editor, graphical catalogue editors, a terminal
/// `$VISUAL`/`$EDITOR`, the system opener, and terminal catalogue editors last. Each entry's
/// `choice` is distinct.
///
/// Looks up programs on the file system: call it off the async runtime.
pub fn detect(env: &Environment, choice: &EditorChoice) -> Vec<DetectedEditor> {
    let mut found: Vec<DetectedEditor> = Vec::new();
    let configured = match choice {
        EditorChoice::Auto => None,
        other => resolve(env, other).ok(),
    };
    for candidate in configured.into_iter().chain(auto_candidates(env)) {
        if !found.iter().any(|seen| seen.choice == candidate.choice) {
            found.push(candidate.summary());
        }
    }
    found
}

/// Whether `choice` would open remote files (for "auto": whether any installed editor can).
/// When it cannot, the caller shows a read-only local copy instead.
pub fn supports_remote(env: &Environment, choice: &EditorChoice) -> bool {
    resolve_remote(env, choice).is_ok()
}

/// The editor that opens local files for `choice`.
pub(crate) fn resolve(env: &Environment, choice: &EditorChoice) -> Result<Candidate, EditorError> {
    match choice {
        EditorChoice::Auto => {
            let terminal_available = find_terminal(env).ok().flatten().is_some();
            auto_candidates(env)
                .into_iter()
                .find(|c| c.kind == EditorKind::Gui || terminal_available)
                .ok_or(EditorError::NoEditor)
        }
        EditorChoice::Editor { id } => {
            let spec =
                find_editor(id).ok_or_else(|| EditorError::UnknownEditor { id: id.clone() })?;
            catalogue_candidate(env, spec).ok_or_else(|| EditorError::EditorNotFound {
                name: spec.name().to_owned(),
                searched: spec
                    .executables()
                    .iter()
                    .map(|exe| (*exe).to_owned())
                    .collect(),
                hint: spec.install_hint().to_owned(),
            })
        }
        EditorChoice::Environment => {
            environment_candidate(env)?.ok_or(EditorError::EnvironmentEditorUnset)
        }
        EditorChoice::SystemDefault => system_candidate(env).ok_or_else(|| {
            let opener = system_opener(env.platform);
            EditorError::EditorNotFound {
                name: format!("The system opener ({opener})"),
                searched: vec![opener.to_owned()],
                hint: "Install your desktop's xdg-utils package.".to_owned(),
            }
        }),
        EditorChoice::Custom { argv } => custom_candidate(env, argv),
    }
}

/// The editor that opens remote files for `choice`; for "auto" the first installed editor
/// that can.
pub(crate) fn resolve_remote(
    env: &Environment,
    choice: &EditorChoice,
) -> Result<Candidate, EditorError> {
    let candidate = match choice {
        EditorChoice::Auto => {
            let candidates = auto_candidates(env);
            let Some(first) = candidates.first() else {
                return Err(EditorError::NoEditor);
            };
            let first_name = first.name.clone();
            return candidates
                .into_iter()
                .find(Candidate::supports_remote)
                .ok_or(EditorError::RemoteUnsupported { editor: first_name });
        }
        other => resolve(env, other)?,
    };
    if candidate.supports_remote() {
        Ok(candidate)
    } else {
        Err(EditorError::RemoteUnsupported {
            editor: candidate.name,
        })
    }
}

fn auto_candidates(env: &Environment) -> Vec<Candidate> {
    // An unusable $VISUAL/$EDITOR only matters when it was chosen explicitly.
    let from_env = environment_candidate(env).ok().flatten();
    let (env_gui, env_terminal) = match from_env {
        Some(c) if c.kind == EditorKind::Gui => (Some(c), None),
        other => (None, other),
    };
    let installed: Vec<Candidate> = catalogue()
        .iter()
        .filter_map(|spec| catalogue_candidate(env, spec))
        .collect();
    let (gui, terminal): (Vec<_>, Vec<_>) = installed
        .into_iter()
        .partition(|c| c.kind == EditorKind::Gui);
    env_gui
        .into_iter()
        .chain(gui)
        .chain(env_terminal)
        .chain(system_candidate(env))
        .chain(terminal)
        .collect()
}

fn catalogue_candidate(env: &Environment, spec: &'static EditorSpec) -> Option<Candidate> {
    let program = spec
        .executables()
        .iter()
        .find_map(|exe| env.find_program(OsStr::new(exe)))?;
    Some(Candidate {
        id: spec.id().to_owned(),
        name: spec.name().to_owned(),
        choice: EditorChoice::Editor {
            id: spec.id().to_owned(),
        },
        program,
        kind: spec.kind(),
        invocation: Invocation::Catalogue {
            spec,
            user_args: Vec::new(),
        },
        exit_status_meaningful: true,
    })
}

/// `$VISUAL`/`$EDITOR` as a candidate. A command whose program matches a catalogue executable
/// gets that editor's line syntax; anything else is assumed to be a terminal program (what the
/// variables are for) and gets the file appended.
fn environment_candidate(env: &Environment) -> Result<Option<Candidate>, EditorError> {
    let Some((variable, words)) = env.editor_command()? else {
        return Ok(None);
    };
    let Some((first, rest)) = words.split_first() else {
        return Ok(None);
    };
    let program =
        env.find_program(OsStr::new(first))
            .ok_or_else(|| EditorError::EditorNotFound {
                name: format!("${variable} ({first})"),
                searched: vec![first.clone()],
                hint: format!("Install it, or fix ${variable} in your shell profile."),
            })?;
    let user_args: Vec<OsString> = rest.iter().map(OsString::from).collect();
    let candidate = match executable_spec(first) {
        Some(spec) => {
            let terminal = spec.kind() == EditorKind::Terminal
                || rest
                    .iter()
                    .any(|arg| spec.terminal_flags().contains(&arg.as_str()));
            Candidate {
                id: spec.id().to_owned(),
                name: format!("{} (${variable})", spec.name()),
                choice: EditorChoice::Environment,
                program,
                kind: if terminal {
                    EditorKind::Terminal
                } else {
                    EditorKind::Gui
                },
                invocation: Invocation::Catalogue { spec, user_args },
                exit_status_meaningful: true,
            }
        }
        None => Candidate {
            id: "environment".to_owned(),
            name: format!("${variable} ({first})"),
            choice: EditorChoice::Environment,
            program,
            kind: EditorKind::Terminal,
            invocation: Invocation::Plain { user_args },
            exit_status_meaningful: true,
        },
    };
    Ok(Some(candidate))
}

fn custom_candidate(env: &Environment, argv: &[String]) -> Result<Candidate, EditorError> {
    let invalid = |reason: &str| EditorError::InvalidCustomCommand {
        reason: reason.to_owned(),
    };
    let (first, template) = argv.split_first().ok_or_else(|| invalid("it is empty"))?;
    if PLACEHOLDERS.iter().any(|p| first.contains(p)) {
        return Err(invalid(
            "its first element is the program to run and cannot contain {file}, {line} or {column}",
        ));
    }
    if argv.iter().any(|arg| arg.contains('\0')) {
        return Err(invalid("it contains a NUL character"));
    }
    let program =
        env.find_program(OsStr::new(first))
            .ok_or_else(|| EditorError::EditorNotFound {
                name: format!("The custom command ({first})"),
                searched: vec![first.clone()],
                hint: "Give the program's name or absolute path in Settings → Editor.".to_owned(),
            })?;
    // A known terminal editor (`nvim`) still needs a terminal; anything else is run as given.
    let kind = executable_spec(first).map_or(EditorKind::Gui, EditorSpec::kind);
    Ok(Candidate {
        id: "custom".to_owned(),
        name: format!("Custom command ({first})"),
        choice: EditorChoice::Custom {
            argv: argv.to_vec(),
        },
        program,
        kind,
        invocation: Invocation::Custom {
            template: template.to_vec(),
        },
        exit_status_meaningful: true,
    })
}

fn system_opener(platform: Platform) -> &'static str {
    match platform {
        Platform::Linux => "xdg-open",
        Platform::MacOs => "open",
        Platform::Windows => "explorer.exe",
    }
}

fn system_candidate(env: &Environment) -> Option<Candidate> {
    let opener = system_opener(env.platform);
    let program = env.find_program(OsStr::new(opener))?;
    Some(Candidate {
        id: "system_default".to_owned(),
        name: format!("System default ({opener})"),
        choice: EditorChoice::SystemDefault,
        program,
        kind: EditorKind::Gui,
        invocation: Invocation::SystemDefault,
        // explorer.exe exits with 1 even when it opened the file.
        exit_status_meaningful: env.platform != Platform::Windows,
    })
}

/// The catalogue editor for a program as the user wrote it (`nvim`, `/usr/bin/code`,
/// `code.cmd`).
fn executable_spec(program: &str) -> Option<&'static EditorSpec> {
    let path = Path::new(program);
    let name = path.file_name()?.to_str()?;
    editor_for_executable(name).or_else(|| {
        let is_windows_launcher = path
            .extension()
            .and_then(OsStr::to_str)
            .is_some_and(|ext| ["exe", "cmd", "bat"].contains(&ext.to_ascii_lowercase().as_str()));
        if is_windows_launcher {
            editor_for_executable(path.file_stem()?.to_str()?)
        } else {
            None
        }
    })
}

const PLACEHOLDERS: [&str; 3] = ["{file}", "{line}", "{column}"];

/// Replaces the placeholders in each template element, keeping every element one argument.
fn substitute(template: &[String], path: &OsStr, position: Option<Position>) -> EditorArgs {
    let line = position.map_or(1, Position::line).to_string();
    let column = position.and_then(Position::column).unwrap_or(1).to_string();
    let mut has_file = false;
    let mut args: Vec<OsString> = template
        .iter()
        .map(|element| {
            let mut out = OsString::new();
            let mut rest = element.as_str();
            while let Some(start) = rest.find('{') {
                let (before, tail) = rest.split_at(start);
                out.push(before);
                if let Some(after) = tail.strip_prefix("{file}") {
                    out.push(path);
                    has_file = true;
                    rest = after;
                } else if let Some(after) = tail.strip_prefix("{line}") {
                    out.push(&line);
                    rest = after;
                } else if let Some(after) = tail.strip_prefix("{column}") {
                    out.push(&column);
                    rest = after;
                } else {
                    out.push("{");
                    rest = tail.strip_prefix('{').unwrap_or_default();
                }
            }
            out.push(rest);
            out
        })
        .collect();
    if !has_file {
        args.push(path.to_os_string());
    }
    let at_position = position.is_some() && template.iter().any(|arg| arg.contains("{line}"));
    EditorArgs { args, at_position }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_serialise_as_tagged_objects() {
        let cases = [
            (EditorChoice::Auto, r#"{"kind":"auto"}"#),
            (
                EditorChoice::Editor { id: "zed".into() },
                r#"{"kind":"editor","id":"zed"}"#,
            ),
            (EditorChoice::Environment, r#"{"kind":"environment"}"#),
            (EditorChoice::SystemDefault, r#"{"kind":"system_default"}"#),
            (
                EditorChoice::Custom {
                    argv: vec!["subl".into(), "{file}:{line}".into()],
                },
                r#"{"kind":"custom","argv":["subl","{file}:{line}"]}"#,
            ),
        ];
        for (choice, json) in cases {
            assert_eq!(serde_json::to_string(&choice).unwrap(), json);
            assert_eq!(serde_json::from_str::<EditorChoice>(json).unwrap(), choice);
        }
    }

    #[test]
    fn placeholders_are_replaced_per_element() {
        let template: Vec<String> = ["--goto", "{file}:{line}:{column}", "{x}", "{", "{line"]
            .map(String::from)
            .to_vec();
        let got = substitute(
            &template,
            OsStr::new("/a b/$(x)"),
            Some(Position::new(4, Some(2)).unwrap()),
        );
        assert_eq!(
            got.args,
            ["--goto", "/a b/$(x):4:2", "{x}", "{", "{line"].map(OsString::from)
        );
        assert!(got.at_position);

        // No position: line and column fall back to 1; no {file}: the file is appended.
        let got = substitute(&["+{line}".to_owned()], OsStr::new("/f"), None);
        assert_eq!(got.args, ["+1", "/f"].map(OsString::from));
        assert!(!got.at_position);

        // A multi-byte character next to a brace does not split a character.
        let got = substitute(&["é{ü}{file}".to_owned()], OsStr::new("/f"), None);
        assert_eq!(got.args, ["é{ü}/f"].map(OsString::from));
    }

    #[test]
    fn executables_are_matched_by_name() {
        assert_eq!(executable_spec("nvim").unwrap().id(), "neovim");
        assert_eq!(executable_spec("/usr/bin/code").unwrap().id(), "vscode");
        assert_eq!(executable_spec("code.CMD").unwrap().id(), "vscode");
        assert_eq!(executable_spec("idea.sh").unwrap().id(), "idea");
        assert!(executable_spec("my-editor").is_none());
        assert!(executable_spec("code.txt").is_none());
    }
}

//! The editors SAM knows, as one table, and how each one is told "this file, this line".
//!
//! Adding an editor is adding a row: its executables, whether it runs in a terminal, and which
//! of the few command-line conventions ([`PositionSyntax`], [`RemoteSyntax`]) it follows. The
//! conventions below were checked against each editor's documentation or source:
//!
//! - VS Code family: `code -g <file>:<line>:<col>`, both 1-based. No `--reuse-window`, so the
//!   user's `window.openFilesInNewWindow` setting decides where the file opens. VS Code's `-g`
//!   parser takes *any* all-digit `:`-segment as the line, so a path that contains `:` is
//!   opened without `-g` (position dropped) rather than risk opening the wrong file.
//! - Zed, Sublime Text, Helix: `<file>:<line>:<col>`, parsed from the end (at most two numeric
//!   suffixes). These parse the suffix even when we pass none, so a path containing `:` always
//!   gets an explicit `:<line>:<col>` (1:1 by default) and keeps its own colons.
//! - JetBrains: `--line <l> --column <c> <file>`. The line is 1-based but the column is passed
//!   straight to `OpenFileDescriptor`, which is 0-based (IntelliJ's `CommandLineProcessor`:
//!   `OpenFileDescriptor(project, file, line - 1, column)`), so we pass `column - 1`. Without a
//!   position we still pass `--line 1`: with no line the IDE may open a build file such as
//!   `pom.xml` as a *project* instead of a file.
//! - Vim/Neovim: `+<line>`, or `+call cursor(<line>, <col>)` with a column (byte column), then
//!   `--` (end of options, documented for both) and the file.
//! - Emacs, gedit, Kakoune, micro: `+<line>:<col> <file>`, 1-based.
//! - nano: `+<line>,<col> <file>`. Kate: `-l <line> -c <col> <file>`, both 1-based.
//! - GNOME Text Editor: the file only. Recent versions read a `+<line>:<col>` argument after
//!   the file, but older ones open it as a second, empty document named `+12:1`.
//!
//! Every path handed over is absolute, so no file argument can start with `-`.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::target::{HostAlias, Position, RemotePath};

/// Whether an editor opens its own window or needs a terminal emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum EditorKind {
    Gui,
    Terminal,
}

/// How an editor's command line takes a file and a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PositionSyntax {
    /// `-g <file>:<line>[:<col>]` (VS Code and its forks).
    VsCodeGoto,
    /// `<file>:<line>[:<col>]` parsed from the end (Zed, Sublime Text, Helix).
    ColonSuffix,
    /// `--line <line> [--column <col - 1>] <file>` (JetBrains IDEs).
    JetBrains,
    /// `+<line>` or `+call cursor(<line>, <col>)`, `--`, `<file>` (Vim, Neovim).
    Vim,
    /// `+<line>[:<col>] <file>` (Emacs, gedit, Kakoune, micro).
    PlusColon,
    /// `+<line>[,<col>] <file>` (nano).
    PlusComma,
    /// `-l <line> [-c <col>] <file>` (Kate).
    Kate,
    /// The file only.
    FileOnly,
}

/// How an editor opens a file on a machine reachable by SSH, if it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RemoteSyntax {
    /// No remote mode; the caller shows a read-only local copy instead.
    Unsupported,
    /// `--remote ssh-remote+<alias> -g <path>:<line>:<col>` (VS Code's Remote - SSH; Cursor
    /// ships its own extension with the same authority).
    VsCodeSsh,
    /// `ssh://<alias><path>` (Zed's remote development). Zed opens the paths of an `ssh://`
    /// URL as plain paths, without reading a `:line:col` suffix, so no position is passed.
    ZedSsh,
}

/// One editor SAM knows how to launch.
#[derive(Debug)]
pub struct EditorSpec {
    id: &'static str,
    name: &'static str,
    executables: &'static [&'static str],
    kind: EditorKind,
    position: PositionSyntax,
    remote: RemoteSyntax,
    /// Arguments in a user's `$EDITOR` that turn this GUI editor into a terminal one.
    terminal_flags: &'static [&'static str],
    install_hint: &'static str,
}

impl EditorSpec {
    /// The stable id stored in settings (`vscode`, `zed`, `neovim`, ...).
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// The name shown to the user.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The command names looked up on the search path, most common first.
    pub fn executables(&self) -> &'static [&'static str] {
        self.executables
    }

    pub fn kind(&self) -> EditorKind {
        self.kind
    }

    /// Whether this editor can be told a line to open at.
    pub fn opens_at_line(&self) -> bool {
        self.position != PositionSyntax::FileOnly
    }

    /// Whether this editor can open files on a remote workspace over SSH.
    pub fn supports_remote(&self) -> bool {
        self.remote != RemoteSyntax::Unsupported
    }

    pub(crate) fn install_hint(&self) -> &'static str {
        self.install_hint
    }

    pub(crate) fn terminal_flags(&self) -> &'static [&'static str] {
        self.terminal_flags
    }

    /// The arguments (after the program and any user arguments) that open a local file.
    pub(crate) fn local_args(&self, path: &Path, position: Option<Position>) -> EditorArgs {
        local_args(self.position, path.as_os_str(), position)
    }

    /// The arguments that open a remote file, or `None` without a remote mode.
    pub(crate) fn remote_args(
        &self,
        alias: &HostAlias,
        path: &RemotePath,
        position: Option<Position>,
    ) -> Option<EditorArgs> {
        remote_args(self.remote, alias, path, position)
    }
}

const VSCODE_HINT: &str = "In VS Code, run \"Shell Command: Install 'code' command in PATH\" \
                           from the Command Palette.";
const JETBRAINS_HINT: &str = "In JetBrains Toolbox, turn on Settings → Tools → \"Generate shell \
                              scripts\", or add the IDE's bin directory to your PATH.";
const PACKAGE_HINT: &str = "Install it with your package manager.";

const fn gui(
    id: &'static str,
    name: &'static str,
    executables: &'static [&'static str],
    position: PositionSyntax,
    remote: RemoteSyntax,
    install_hint: &'static str,
) -> EditorSpec {
    EditorSpec {
        id,
        name,
        executables,
        kind: EditorKind::Gui,
        position,
        remote,
        terminal_flags: &[],
        install_hint,
    }
}

const fn terminal(
    id: &'static str,
    name: &'static str,
    executables: &'static [&'static str],
    position: PositionSyntax,
) -> EditorSpec {
    EditorSpec {
        id,
        name,
        executables,
        kind: EditorKind::Terminal,
        position,
        remote: RemoteSyntax::Unsupported,
        terminal_flags: &[],
        install_hint: PACKAGE_HINT,
    }
}

const fn jetbrains(
    id: &'static str,
    name: &'static str,
    executables: &'static [&'static str],
) -> EditorSpec {
    gui(
        id,
        name,
        executables,
        PositionSyntax::JetBrains,
        RemoteSyntax::Unsupported,
        JETBRAINS_HINT,
    )
}

use PositionSyntax as P;
use RemoteSyntax as R;

/// Every editor SAM knows. The order is the "auto" preference among installed editors:
/// editors people pick on purpose before the ones a desktop installs by default, graphical
/// before terminal.
static CATALOGUE: &[EditorSpec] = &[
    gui(
        "vscode",
        "Visual Studio Code",
        &["code"],
        P::VsCodeGoto,
        R::VsCodeSsh,
        VSCODE_HINT,
    ),
    gui(
        "cursor",
        "Cursor",
        &["cursor"],
        P::VsCodeGoto,
        R::VsCodeSsh,
        "In Cursor, run \"Shell Command: Install 'cursor' command\" from the Command Palette.",
    ),
    gui(
        "zed",
        "Zed",
        &["zed", "zeditor", "zedit"],
        P::ColonSuffix,
        R::ZedSsh,
        "Install Zed's zed command (on Linux the installer puts it in ~/.local/bin; on macOS \
         run \"cli: install\" from Zed's command palette).",
    ),
    gui(
        "windsurf",
        "Windsurf",
        &["windsurf"],
        P::VsCodeGoto,
        R::Unsupported,
        "In Windsurf, run \"Shell Command: Install 'windsurf' command in PATH\" from the \
         Command Palette.",
    ),
    gui(
        "vscode-insiders",
        "Visual Studio Code Insiders",
        &["code-insiders"],
        P::VsCodeGoto,
        R::VsCodeSsh,
        "In VS Code Insiders, run \"Shell Command: Install 'code-insiders' command in PATH\" \
         from the Command Palette.",
    ),
    gui(
        "vscodium",
        "VSCodium",
        &["codium", "vscodium"],
        P::VsCodeGoto,
        R::Unsupported,
        "Install VSCodium's codium command.",
    ),
    gui(
        "code-oss",
        "Code - OSS",
        &["code-oss"],
        P::VsCodeGoto,
        R::Unsupported,
        PACKAGE_HINT,
    ),
    jetbrains(
        "idea",
        "IntelliJ IDEA",
        &[
            "idea",
            "intellij-idea-ultimate",
            "intellij-idea-community",
            "idea.sh",
        ],
    ),
    jetbrains(
        "pycharm",
        "PyCharm",
        &[
            "pycharm",
            "charm",
            "pycharm-professional",
            "pycharm-community",
            "pycharm.sh",
        ],
    ),
    jetbrains(
        "webstorm",
        "WebStorm",
        &["webstorm", "wstorm", "webstorm.sh"],
    ),
    jetbrains("goland", "GoLand", &["goland", "goland.sh"]),
    jetbrains("clion", "CLion", &["clion", "clion.sh"]),
    jetbrains("rustrover", "RustRover", &["rustrover", "rustrover.sh"]),
    jetbrains(
        "phpstorm",
        "PhpStorm",
        &["phpstorm", "pstorm", "phpstorm.sh"],
    ),
    jetbrains("rider", "Rider", &["rider", "rider.sh"]),
    jetbrains(
        "android-studio",
        "Android Studio",
        &["studio", "android-studio", "studio.sh"],
    ),
    gui(
        "sublime",
        "Sublime Text",
        &["subl", "sublime_text"],
        P::ColonSuffix,
        R::Unsupported,
        "Put Sublime Text's subl command on your PATH.",
    ),
    EditorSpec {
        terminal_flags: &["-nw", "--no-window-system"],
        ..gui(
            "emacs",
            "Emacs",
            &["emacs"],
            P::PlusColon,
            R::Unsupported,
            PACKAGE_HINT,
        )
    },
    gui(
        "gvim",
        "GVim",
        &["gvim"],
        P::Vim,
        R::Unsupported,
        PACKAGE_HINT,
    ),
    gui(
        "kate",
        "Kate",
        &["kate"],
        P::Kate,
        R::Unsupported,
        PACKAGE_HINT,
    ),
    gui(
        "gedit",
        "gedit",
        &["gedit"],
        P::PlusColon,
        R::Unsupported,
        PACKAGE_HINT,
    ),
    gui(
        "gnome-text-editor",
        "GNOME Text Editor",
        &["gnome-text-editor"],
        P::FileOnly,
        R::Unsupported,
        PACKAGE_HINT,
    ),
    terminal("neovim", "Neovim", &["nvim"], P::Vim),
    terminal("vim", "Vim", &["vim"], P::Vim),
    terminal("helix", "Helix", &["hx", "helix"], P::ColonSuffix),
    terminal("kakoune", "Kakoune", &["kak"], P::PlusColon),
    terminal("micro", "micro", &["micro"], P::PlusColon),
    terminal("nano", "GNU nano", &["nano"], P::PlusComma),
];

/// Every editor SAM knows, in "auto" preference order.
pub fn catalogue() -> &'static [EditorSpec] {
    CATALOGUE
}

/// The editor with this stable id.
pub fn find_editor(id: &str) -> Option<&'static EditorSpec> {
    CATALOGUE.iter().find(|spec| spec.id == id)
}

/// The editor one of whose executables is called `name` (a command name, not a path).
pub(crate) fn editor_for_executable(name: &str) -> Option<&'static EditorSpec> {
    CATALOGUE
        .iter()
        .find(|spec| spec.executables.contains(&name))
}

/// Editor arguments and whether they carry the requested position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EditorArgs {
    pub args: Vec<OsString>,
    /// True when a position was asked for and the editor was given it.
    pub at_position: bool,
}

fn local_args(syntax: PositionSyntax, path: &OsStr, position: Option<Position>) -> EditorArgs {
    let file = path.to_os_string();
    let colon = has_colon(path);
    let (args, at_position) = match (syntax, position) {
        (P::FileOnly, _) | (P::VsCodeGoto | P::PlusColon | P::PlusComma | P::Kate, None) => {
            (vec![file], false)
        }
        (P::VsCodeGoto, Some(_)) if colon => (vec![file], false),
        (P::VsCodeGoto, Some(p)) => (
            vec!["-g".into(), with_suffix(path, &colon_suffix(p, false))],
            true,
        ),
        (P::ColonSuffix, None) if colon => (vec![with_suffix(path, ":1:1")], false),
        (P::ColonSuffix, None) => (vec![file], false),
        (P::ColonSuffix, Some(p)) => (vec![with_suffix(path, &colon_suffix(p, colon))], true),
        (P::JetBrains, p) => {
            let mut args: Vec<OsString> = vec![
                "--line".into(),
                p.map_or(1, Position::line).to_string().into(),
            ];
            if let Some(column) = p.and_then(Position::column) {
                args.extend([
                    "--column".into(),
                    column.saturating_sub(1).to_string().into(),
                ]);
            }
            args.push(file);
            (args, p.is_some())
        }
        (P::Vim, p) => {
            let mut args: Vec<OsString> = Vec::new();
            match p.map(|p| (p.line(), p.column())) {
                Some((line, Some(column))) => {
                    args.push(format!("+call cursor({line}, {column})").into());
                }
                Some((line, None)) => args.push(format!("+{line}").into()),
                None => {}
            }
            args.extend(["--".into(), file]);
            (args, p.is_some())
        }
        (P::PlusColon, Some(p)) => (vec![plus(p, ':').into(), file], true),
        (P::PlusComma, Some(p)) => (vec![plus(p, ',').into(), file], true),
        (P::Kate, Some(p)) => {
            let mut args: Vec<OsString> = vec!["-l".into(), p.line().to_string().into()];
            if let Some(column) = p.column() {
                args.extend(["-c".into(), column.to_string().into()]);
            }
            args.push(file);
            (args, true)
        }
    };
    EditorArgs { args, at_position }
}

fn remote_args(
    syntax: RemoteSyntax,
    alias: &HostAlias,
    path: &RemotePath,
    position: Option<Position>,
) -> Option<EditorArgs> {
    let alias = alias.as_str();
    let remote_path = path.as_str();
    let (args, at_position) = match syntax {
        R::Unsupported => return None,
        // `--file-uri` carries no position but cannot misread a colon in the path; plain
        // `--remote` without `-g` would open an extension-less file (`Makefile`) as a folder.
        R::VsCodeSsh if remote_path.contains(':') => (
            vec![
                "--file-uri".into(),
                format!(
                    "vscode-remote://ssh-remote+{alias}{}",
                    percent_encode_path(remote_path)
                )
                .into(),
            ],
            false,
        ),
        R::VsCodeSsh => {
            let target = match position {
                Some(p) => format!("{remote_path}{}", colon_suffix(p, false)),
                None => remote_path.to_owned(),
            };
            (
                vec![
                    "--remote".into(),
                    format!("ssh-remote+{alias}").into(),
                    "-g".into(),
                    target.into(),
                ],
                position.is_some(),
            )
        }
        R::ZedSsh => (
            vec![format!("ssh://{alias}{}", percent_encode_path(remote_path)).into()],
            false,
        ),
    };
    Some(EditorArgs { args, at_position })
}

/// `:<line>[:<col>]`; with `both`, the column defaults to 1 so that an end-anchored parser
/// consumes exactly our two numbers and none of the path's own `:<digits>`.
fn colon_suffix(position: Position, both: bool) -> String {
    match (position.column(), both) {
        (Some(column), _) => format!(":{}:{column}", position.line()),
        (None, true) => format!(":{}:1", position.line()),
        (None, false) => format!(":{}", position.line()),
    }
}

fn plus(position: Position, separator: char) -> String {
    match position.column() {
        Some(column) => format!("+{}{separator}{column}", position.line()),
        None => format!("+{}", position.line()),
    }
}

fn with_suffix(path: &OsStr, suffix: &str) -> OsString {
    let mut joined = path.to_os_string();
    joined.push(suffix);
    joined
}

/// Whether the path holds a `:` after an optional Windows drive prefix (`C:`).
fn has_colon(path: &OsStr) -> bool {
    let bytes = path.as_encoded_bytes();
    let rest = match bytes {
        [drive, b':', rest @ ..] if drive.is_ascii_alphabetic() => rest,
        _ => bytes,
    };
    rest.contains(&b':')
}

/// Percent-encodes everything but unreserved characters and `/`, so that `#`, `?`, `%` and
/// spaces in a path survive a URL parser that decodes the path again.
pub(crate) fn percent_encode_path(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u64, column: Option<u64>) -> Option<Position> {
        Some(Position::new(line, column).unwrap())
    }

    fn strings(args: &EditorArgs) -> Vec<String> {
        args.args
            .iter()
            .map(|a| a.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn ids_and_executables_are_unique() {
        let mut ids: Vec<_> = CATALOGUE.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CATALOGUE.len());
        let mut exes: Vec<_> = CATALOGUE.iter().flat_map(|s| s.executables).collect();
        let total = exes.len();
        exes.sort_unstable();
        exes.dedup();
        assert_eq!(exes.len(), total);
        // Terminal editors come after every GUI editor, so "auto" prefers a window.
        let first_terminal = CATALOGUE
            .iter()
            .position(|s| s.kind == EditorKind::Terminal)
            .unwrap();
        assert!(
            CATALOGUE[first_terminal..]
                .iter()
                .all(|s| s.kind == EditorKind::Terminal)
        );
    }

    /// Expected editor arguments with a line and column, a line only, and no position.
    fn row(
        full: &[&'static str],
        line: &[&'static str],
        none: &[&'static str],
    ) -> [Vec<&'static str>; 3] {
        [full.to_vec(), line.to_vec(), none.to_vec()]
    }

    /// Every catalogue entry, with a line and column, a line only, and neither.
    #[test]
    fn local_argv_for_every_editor() {
        let path = Path::new("/w/src/main.rs");
        let f = "/w/src/main.rs";
        let table: Vec<(&str, [Vec<&str>; 3])> = vec![
            (
                "vscode",
                row(
                    &["-g", "/w/src/main.rs:12:5"],
                    &["-g", "/w/src/main.rs:12"],
                    &[f],
                ),
            ),
            (
                "cursor",
                row(
                    &["-g", "/w/src/main.rs:12:5"],
                    &["-g", "/w/src/main.rs:12"],
                    &[f],
                ),
            ),
            (
                "windsurf",
                row(
                    &["-g", "/w/src/main.rs:12:5"],
                    &["-g", "/w/src/main.rs:12"],
                    &[f],
                ),
            ),
            (
                "vscode-insiders",
                row(
                    &["-g", "/w/src/main.rs:12:5"],
                    &["-g", "/w/src/main.rs:12"],
                    &[f],
                ),
            ),
            (
                "vscodium",
                row(
                    &["-g", "/w/src/main.rs:12:5"],
                    &["-g", "/w/src/main.rs:12"],
                    &[f],
                ),
            ),
            (
                "code-oss",
                row(
                    &["-g", "/w/src/main.rs:12:5"],
                    &["-g", "/w/src/main.rs:12"],
                    &[f],
                ),
            ),
            (
                "zed",
                row(&["/w/src/main.rs:12:5"], &["/w/src/main.rs:12"], &[f]),
            ),
            (
                "sublime",
                row(&["/w/src/main.rs:12:5"], &["/w/src/main.rs:12"], &[f]),
            ),
            (
                "helix",
                row(&["/w/src/main.rs:12:5"], &["/w/src/main.rs:12"], &[f]),
            ),
            ("emacs", row(&["+12:5", f], &["+12", f], &[f])),
            ("gedit", row(&["+12:5", f], &["+12", f], &[f])),
            ("kakoune", row(&["+12:5", f], &["+12", f], &[f])),
            ("micro", row(&["+12:5", f], &["+12", f], &[f])),
            ("nano", row(&["+12,5", f], &["+12", f], &[f])),
            (
                "kate",
                row(&["-l", "12", "-c", "5", f], &["-l", "12", f], &[f]),
            ),
            ("gnome-text-editor", row(&[f], &[f], &[f])),
            (
                "neovim",
                row(
                    &["+call cursor(12, 5)", "--", f],
                    &["+12", "--", f],
                    &["--", f],
                ),
            ),
            (
                "vim",
                row(
                    &["+call cursor(12, 5)", "--", f],
                    &["+12", "--", f],
                    &["--", f],
                ),
            ),
            (
                "gvim",
                row(
                    &["+call cursor(12, 5)", "--", f],
                    &["+12", "--", f],
                    &["--", f],
                ),
            ),
        ];
        let jetbrains = [
            "idea",
            "pycharm",
            "webstorm",
            "goland",
            "clion",
            "rustrover",
            "phpstorm",
            "rider",
            "android-studio",
        ];
        let jetbrains_rows = jetbrains.iter().map(|id| {
            (
                *id,
                row(
                    // Column 5 (1-based) is 4 for the IDE's 0-based column.
                    &["--line", "12", "--column", "4", f],
                    &["--line", "12", f],
                    &["--line", "1", f],
                ),
            )
        });
        let table: Vec<_> = table.into_iter().chain(jetbrains_rows).collect();

        let mut covered: Vec<&str> = table.iter().map(|(id, _)| *id).collect();
        covered.sort_unstable();
        let mut all: Vec<&str> = CATALOGUE.iter().map(|s| s.id).collect();
        all.sort_unstable();
        assert_eq!(covered, all, "every catalogue entry has a row");

        for (id, [full, line_only, none]) in &table {
            let spec = find_editor(id).unwrap();
            let got = spec.local_args(path, pos(12, Some(5)));
            assert_eq!(strings(&got), *full, "{id} line+column");
            assert_eq!(got.at_position, spec.opens_at_line(), "{id}");
            let got = spec.local_args(path, pos(12, None));
            assert_eq!(strings(&got), *line_only, "{id} line");
            let got = spec.local_args(path, None);
            assert_eq!(strings(&got), *none, "{id} no position");
            assert!(!got.at_position, "{id}");
        }
    }

    #[test]
    fn colons_in_paths_never_shift_the_position() {
        let path = Path::new("/w/a:12/b:3");
        let vscode = find_editor("vscode").unwrap();
        let got = vscode.local_args(path, pos(7, Some(2)));
        assert_eq!(strings(&got), ["/w/a:12/b:3"]);
        assert!(!got.at_position);

        let zed = find_editor("zed").unwrap();
        assert_eq!(
            strings(&zed.local_args(path, pos(7, None))),
            ["/w/a:12/b:3:7:1"]
        );
        assert_eq!(strings(&zed.local_args(path, None)), ["/w/a:12/b:3:1:1"]);
        // Colon-free paths get no invented position.
        assert_eq!(strings(&zed.local_args(Path::new("/w/x"), None)), ["/w/x"]);
        // A Windows drive colon alone is not ambiguous.
        assert!(!has_colon(OsStr::new(r"C:\w\x.rs")));
        assert!(has_colon(OsStr::new(r"C:\w\x:1.rs")));
    }

    #[test]
    fn remote_argv() {
        let alias = HostAlias::parse("sam-dev").unwrap();
        let path = RemotePath::parse("/home/sam/my app/main.rs").unwrap();
        for id in ["vscode", "cursor", "vscode-insiders"] {
            let spec = find_editor(id).unwrap();
            let got = spec.remote_args(&alias, &path, pos(3, Some(9))).unwrap();
            assert_eq!(
                strings(&got),
                [
                    "--remote",
                    "ssh-remote+sam-dev",
                    "-g",
                    "/home/sam/my app/main.rs:3:9"
                ]
            );
            assert!(got.at_position);
            let got = spec.remote_args(&alias, &path, None).unwrap();
            assert_eq!(
                strings(&got),
                [
                    "--remote",
                    "ssh-remote+sam-dev",
                    "-g",
                    "/home/sam/my app/main.rs"
                ]
            );
        }
        let zed = find_editor("zed").unwrap();
        let got = zed.remote_args(&alias, &path, pos(3, Some(9))).unwrap();
        assert_eq!(strings(&got), ["ssh://sam-dev/home/sam/my%20app/main.rs"]);
        assert!(!got.at_position);

        let odd = RemotePath::parse("/srv/a:1/#x?%.rs").unwrap();
        let got = find_editor("vscode")
            .unwrap()
            .remote_args(&alias, &odd, pos(3, None))
            .unwrap();
        assert_eq!(
            strings(&got),
            [
                "--file-uri",
                "vscode-remote://ssh-remote+sam-dev/srv/a%3A1/%23x%3F%25.rs"
            ]
        );
        assert!(!got.at_position);

        for spec in CATALOGUE {
            assert_eq!(
                spec.remote_args(&alias, &path, None).is_some(),
                spec.supports_remote(),
                "{}",
                spec.id
            );
        }
        let remote: Vec<_> = CATALOGUE
            .iter()
            .filter(|s| s.supports_remote())
            .map(|s| s.id)
            .collect();
        assert_eq!(remote, ["vscode", "cursor", "zed", "vscode-insiders"]);
    }

    #[test]
    fn percent_encoding_keeps_slashes_and_encodes_utf8() {
        assert_eq!(percent_encode_path("/a b/ü"), "/a%20b/%C3%BC");
    }
}

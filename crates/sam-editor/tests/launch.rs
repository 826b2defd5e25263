//! Launches real processes: fake editors, terminals and openers (small `/bin/sh` scripts that
//! record their argv, NUL-separated, then exit) on an injected search path. The scripts use
//! shell builtins only, since the search path holds nothing but them.

#![cfg(unix)]

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sam_editor::{
    EditorChoice, EditorError, EditorKind, Environment, HostAlias, LaunchOptions, OpenMode,
    Platform, Position, RemotePath, detect, open_local, open_remote, plan_local, plan_remote,
    plan_terminal_in, plan_terminal_running, plan_vscode_folder, plan_vscode_remote_folder,
    supports_remote,
};

/// Long enough that a loaded machine still sees a fake exit inside it; the calls return as
/// soon as the fake exits, so passing tests do not wait for it.
const WINDOW: LaunchOptions = LaunchOptions {
    early_exit_window: Duration::from_secs(10),
};

struct Fakes {
    dir: tempfile::TempDir,
}

#[expect(clippy::unwrap_used, reason = "test helpers fail loudly")]
impl Fakes {
    fn new() -> Self {
        let fakes = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(fakes.bin()).unwrap();
        std::fs::create_dir(fakes.records()).unwrap();
        fakes
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    fn records(&self) -> PathBuf {
        self.dir.path().join("records")
    }

    /// A file path under the temp dir (it need not exist: editors are fakes).
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join("work").join(name)
    }

    fn env(&self) -> Environment {
        Environment {
            platform: Platform::Linux,
            ..Environment::with_search_path(vec![self.bin()])
        }
    }

    fn script(&self, name: &str, body: &str) {
        let records = self.records();
        let records = records.to_str().unwrap();
        assert!(!records.contains('\''));
        let text = format!(
            "#!/bin/sh\n\
             rec='{records}/{name}'\n\
             : > \"$rec\"\n\
             for arg in \"$0\" \"$@\"; do printf '%s\\0' \"$arg\" >> \"$rec\"; done\n\
             read -r stat < /proc/$$/stat && printf '%s' \"$stat\" > \"$rec.stat\"\n\
             pwd > \"$rec.cwd\"\n\
             : > \"$rec.done\"\n\
             {body}\n"
        );
        let path = self.bin().join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Records its argv and exits 0.
    fn editor(&self, name: &str) {
        self.script(name, "exit 0");
    }

    /// Records its argv, then runs the rest of its argv after dropping `skip` arguments.
    fn terminal(&self, name: &str, skip: usize) {
        self.script(name, &format!("shift {skip}\nexec \"$@\""));
    }

    /// The argv a fake recorded, program first; waits for it to finish recording.
    fn recorded(&self, name: &str) -> Vec<OsString> {
        let rec = self.records().join(name);
        let done = self.records().join(format!("{name}.done"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done.exists() {
            assert!(Instant::now() < deadline, "{name} was never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        let bytes = std::fs::read(rec).unwrap();
        let mut elements: Vec<OsString> = bytes
            .split(|b| *b == 0)
            .map(|element| OsString::from_vec(element.to_vec()))
            .collect();
        assert_eq!(elements.pop(), Some(OsString::new()), "ends with a NUL");
        elements
    }

    fn was_started(&self, name: &str) -> bool {
        self.records().join(format!("{name}.done")).exists()
    }

    /// The `/proc/<pid>/stat` line the fake recorded.
    fn stat(&self, name: &str) -> String {
        std::fs::read_to_string(self.records().join(format!("{name}.stat"))).unwrap()
    }

    /// The working directory the fake started in.
    fn cwd(&self, name: &str) -> PathBuf {
        PathBuf::from(
            std::fs::read_to_string(self.records().join(format!("{name}.cwd")))
                .unwrap()
                .trim_end_matches('\n'),
        )
    }

    fn program(&self, name: &str) -> OsString {
        self.bin().join(name).into_os_string()
    }
}

fn os(items: &[&str]) -> Vec<OsString> {
    items.iter().map(OsString::from).collect()
}

fn with_suffix(path: &Path, suffix: &str) -> OsString {
    let mut joined = path.as_os_str().to_os_string();
    joined.push(suffix);
    joined
}

#[expect(clippy::unwrap_used, reason = "test helpers fail loudly")]
fn at(line: u64, column: Option<u64>) -> Option<Position> {
    Some(Position::new(line, column).unwrap())
}

fn editor(id: &str) -> EditorChoice {
    EditorChoice::Editor { id: id.to_owned() }
}

#[test]
fn vscode_gets_goto_with_line_and_column() {
    let fakes = Fakes::new();
    fakes.editor("code");
    let file = fakes.file("src/main.rs");

    let plan = plan_local(&fakes.env(), &editor("vscode"), &file, at(12, Some(5))).unwrap();
    let opened = plan.launch(&WINDOW).unwrap();

    let mut expected = vec![fakes.program("code"), "-g".into()];
    expected.push(with_suffix(&file, ":12:5"));
    assert_eq!(fakes.recorded("code"), expected);
    assert_eq!(opened.editor_id, "vscode");
    assert_eq!(opened.how, OpenMode::Local);
    assert!(opened.at_position);
    assert_eq!(
        opened.argv_preview,
        expected
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
    );
}

#[test]
fn hostile_paths_reach_every_editor_byte_for_byte_and_no_shell_runs() {
    let fakes = Fakes::new();
    for name in [
        "code",
        "zed",
        "idea",
        "subl",
        "nvim",
        "x-terminal-emulator",
        "my-editor",
    ] {
        if name == "x-terminal-emulator" {
            fakes.terminal(name, 1);
        } else {
            fakes.editor(name);
        }
    }
    let marker = |n: u32| fakes.dir.path().join(format!("pwned{n}"));
    let name = format!(
        "it's \"quoted\" $(touch {}) `touch {}` ; touch {} | cat & > out * ? [a] {{b}} ~ \\ ü 日本 🙂.rs",
        marker(1).display(),
        marker(2).display(),
        marker(3).display(),
    );
    let file = fakes.file(&name);
    let env = fakes.env();
    let position = at(7, Some(3));

    open_with(&env, &editor("vscode"), &file, position);
    assert_eq!(
        fakes.recorded("code")[1..],
        ["-g".into(), with_suffix(&file, ":7:3")]
    );

    open_with(&env, &editor("zed"), &file, position);
    assert_eq!(fakes.recorded("zed")[1..], [with_suffix(&file, ":7:3")]);

    open_with(&env, &editor("idea"), &file, position);
    assert_eq!(
        fakes.recorded("idea")[1..],
        [
            "--line".into(),
            "7".into(),
            "--column".into(),
            "2".into(),
            file.clone().into_os_string()
        ]
    );

    open_with(&env, &editor("sublime"), &file, position);
    assert_eq!(fakes.recorded("subl")[1..], [with_suffix(&file, ":7:3")]);

    open_with(&env, &editor("neovim"), &file, position);
    assert_eq!(
        fakes.recorded("nvim")[1..],
        [
            "+call cursor(7, 3)".into(),
            "--".into(),
            file.clone().into_os_string()
        ]
    );

    let custom = EditorChoice::Custom {
        argv: vec!["my-editor".into(), "--at={line}".into(), "{file}".into()],
    };
    open_with(&env, &custom, &file, position);
    assert_eq!(
        fakes.recorded("my-editor")[1..],
        ["--at=7".into(), file.clone().into_os_string()]
    );

    // The element a fake received is the path's exact bytes.
    let recorded = fakes.recorded("my-editor");
    assert_eq!(recorded[2].as_bytes(), file.as_os_str().as_bytes());
    for n in 1..=3 {
        assert!(
            !marker(n).exists(),
            "a shell ran: {} exists",
            marker(n).display()
        );
    }
}

#[expect(clippy::unwrap_used, reason = "test helpers fail loudly")]
fn open_with(env: &Environment, choice: &EditorChoice, file: &Path, position: Option<Position>) {
    plan_local(env, choice, file, position)
        .unwrap()
        .launch(&WINDOW)
        .unwrap();
}

#[test]
fn terminal_editors_run_inside_x_terminal_emulator() {
    let fakes = Fakes::new();
    fakes.editor("nvim");
    fakes.terminal("x-terminal-emulator", 1);
    fakes.terminal("xterm", 1);
    let file = fakes.file("notes.md");

    let opened = plan_local(&fakes.env(), &editor("neovim"), &file, at(3, Some(4)))
        .unwrap()
        .launch(&WINDOW)
        .unwrap();

    let nvim_args = vec![
        "+call cursor(3, 4)".into(),
        "--".into(),
        file.clone().into_os_string(),
    ];
    let mut terminal_argv = vec![
        fakes.program("x-terminal-emulator"),
        "-e".into(),
        fakes.program("nvim"),
    ];
    terminal_argv.extend(nvim_args.clone());
    assert_eq!(fakes.recorded("x-terminal-emulator"), terminal_argv);
    // The terminal really ran the editor with exactly those arguments.
    let mut nvim_argv = vec![fakes.program("nvim")];
    nvim_argv.extend(nvim_args);
    assert_eq!(fakes.recorded("nvim"), nvim_argv);
    assert_eq!(opened.how, OpenMode::Terminal);
    assert_eq!(opened.editor_id, "neovim");
    assert!(opened.at_position);
    assert!(!fakes.was_started("xterm"));
}

#[test]
fn terminal_variable_wins_and_unknown_terminals_get_dash_e() {
    let fakes = Fakes::new();
    fakes.editor("hx");
    fakes.terminal("kitty", 1);
    fakes.terminal("myterm", 2);
    fakes.terminal("x-terminal-emulator", 1);
    let file = fakes.file("a.rs");

    let env = Environment {
        terminal: Some("kitty --single-instance".into()),
        ..fakes.env()
    };
    open_with(&env, &editor("helix"), &file, at(2, None));
    assert_eq!(
        fakes.recorded("kitty")[1..],
        [
            "--single-instance".into(),
            fakes.program("hx"),
            with_suffix(&file, ":2")
        ]
    );

    let env = Environment {
        terminal: Some("myterm --hold".into()),
        ..fakes.env()
    };
    open_with(&env, &editor("helix"), &file, None);
    assert_eq!(
        fakes.recorded("myterm")[1..],
        [
            "--hold".into(),
            "-e".into(),
            fakes.program("hx"),
            file.clone().into_os_string()
        ]
    );
    assert!(!fakes.was_started("x-terminal-emulator"));
}

#[test]
fn no_terminal_emulator_is_a_clear_error() {
    let fakes = Fakes::new();
    fakes.editor("nvim");
    let error = plan_local(&fakes.env(), &editor("neovim"), &fakes.file("a"), None).unwrap_err();
    assert!(matches!(error, EditorError::NoTerminal { .. }), "{error:?}");
    assert!(error.to_string().contains("$TERMINAL"), "{error}");
}

#[test]
fn editor_variable_is_split_into_words_not_run_by_a_shell() {
    let fakes = Fakes::new();
    fakes.editor("nvim");
    fakes.terminal("x-terminal-emulator", 1);
    let file = fakes.file("b.py");
    let env = Environment {
        editor: Some("nvim -u NONE".into()),
        ..fakes.env()
    };

    let opened = plan_local(&env, &EditorChoice::Environment, &file, at(9, None))
        .unwrap()
        .launch(&WINDOW)
        .unwrap();
    assert_eq!(
        fakes.recorded("nvim"),
        [
            fakes.program("nvim"),
            "-u".into(),
            "NONE".into(),
            "+9".into(),
            "--".into(),
            file.clone().into_os_string()
        ]
    );
    assert_eq!(opened.how, OpenMode::Terminal);
    assert!(opened.at_position);
}

#[test]
fn unknown_editor_variable_opens_the_file_without_a_line() {
    let fakes = Fakes::new();
    fakes.editor("my-ed");
    fakes.terminal("x-terminal-emulator", 1);
    let marker = fakes.dir.path().join("pwned");
    let file = fakes.file("c.txt");
    let env = Environment {
        visual: Some(format!("my-ed --flag '$(touch {})'", marker.display()).into()),
        editor: Some("ignored-because-visual-is-set".into()),
        ..fakes.env()
    };

    let opened = plan_local(&env, &EditorChoice::Environment, &file, at(4, Some(2)))
        .unwrap()
        .launch(&WINDOW)
        .unwrap();
    assert_eq!(
        fakes.recorded("my-ed")[1..],
        [
            "--flag".into(),
            OsString::from(format!("$(touch {})", marker.display())),
            file.clone().into_os_string()
        ]
    );
    assert!(!opened.at_position, "the line could not be passed");
    assert_eq!(opened.how, OpenMode::Terminal);
    assert!(!marker.exists());
}

#[test]
fn gui_editor_variable_opens_directly() {
    let fakes = Fakes::new();
    fakes.editor("code");
    let file = fakes.file("d.ts");
    let env = Environment {
        visual: Some("code --wait".into()),
        ..fakes.env()
    };
    let opened = plan_local(&env, &EditorChoice::Environment, &file, at(1, None))
        .unwrap()
        .launch(&WINDOW)
        .unwrap();
    assert_eq!(
        fakes.recorded("code")[1..],
        ["--wait".into(), "-g".into(), with_suffix(&file, ":1")]
    );
    assert_eq!(opened.how, OpenMode::Local);
}

#[test]
fn custom_command_substitutes_placeholders_per_element() {
    let fakes = Fakes::new();
    fakes.editor("my-editor");
    let file = fakes.file("e f.rs");
    let choice = EditorChoice::Custom {
        argv: vec![
            "my-editor".into(),
            "--goto".into(),
            "{file}:{line}:{column}".into(),
            "--col={column}".into(),
        ],
    };
    let opened = plan_local(&fakes.env(), &choice, &file, at(20, Some(8)))
        .unwrap()
        .launch(&WINDOW)
        .unwrap();
    assert_eq!(
        fakes.recorded("my-editor")[1..],
        [
            "--goto".into(),
            with_suffix(&file, ":20:8"),
            "--col=8".into()
        ]
    );
    assert!(opened.at_position);
    assert_eq!(opened.editor_id, "custom");

    // The program may also be given as an absolute path.
    let choice = EditorChoice::Custom {
        argv: vec![fakes.program("my-editor").into_string().unwrap()],
    };
    open_with(&fakes.env(), &choice, &file, None);
    assert_eq!(
        fakes.recorded("my-editor")[1..],
        [file.clone().into_os_string()]
    );

    for (argv, reason) in [(vec![], "empty"), (vec!["{file}".to_owned()], "program")] {
        let error =
            plan_local(&fakes.env(), &EditorChoice::Custom { argv }, &file, None).unwrap_err();
        assert!(
            matches!(error, EditorError::InvalidCustomCommand { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains(reason), "{error}");
    }
}

#[test]
fn missing_editor_says_what_to_install() {
    let fakes = Fakes::new();
    let error = plan_local(&fakes.env(), &editor("zed"), &fakes.file("a"), None).unwrap_err();
    assert!(
        matches!(error, EditorError::EditorNotFound { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("Zed was not found"), "{message}");
    assert!(message.contains("none of zed, zeditor"), "{message}");
    let error = plan_local(&fakes.env(), &editor("vscode"), &fakes.file("a"), None).unwrap_err();
    assert!(
        error.to_string().contains("code is not on your PATH"),
        "{error}"
    );

    let error = plan_local(&fakes.env(), &editor("notepad++"), &fakes.file("a"), None).unwrap_err();
    assert!(
        matches!(error, EditorError::UnknownEditor { .. }),
        "{error:?}"
    );

    let error = plan_local(&fakes.env(), &EditorChoice::Auto, &fakes.file("a"), None).unwrap_err();
    assert!(matches!(error, EditorError::NoEditor), "{error:?}");

    let error = plan_local(
        &fakes.env(),
        &EditorChoice::Environment,
        &fakes.file("a"),
        None,
    )
    .unwrap_err();
    assert!(
        matches!(error, EditorError::EnvironmentEditorUnset),
        "{error:?}"
    );
}

#[test]
fn an_editor_that_fails_at_once_is_reported_with_its_stderr() {
    let fakes = Fakes::new();
    fakes.script(
        "code",
        "printf 'warming up\\n' >&2\nprintf 'boom: cannot open display\\n' >&2\nexit 3",
    );
    let error = plan_local(&fakes.env(), &editor("vscode"), &fakes.file("a"), None)
        .unwrap()
        .launch(&WINDOW)
        .unwrap_err();
    let EditorError::ExitedAtOnce {
        status,
        stderr_tail,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert!(status.contains('3'), "{status}");
    assert_eq!(stderr_tail, "warming up / boom: cannot open display");
    let message = error.to_string();
    assert!(message.contains("Visual Studio Code"), "{message}");
    assert!(message.contains("boom: cannot open display"), "{message}");
}

#[test]
fn an_editor_still_running_after_the_window_counts_as_opened() {
    let fakes = Fakes::new();
    fakes.script("zed", "exec /bin/sleep 5");
    let started = Instant::now();
    let opened = plan_local(&fakes.env(), &editor("zed"), &fakes.file("a"), None)
        .unwrap()
        .launch(&LaunchOptions {
            early_exit_window: Duration::from_millis(200),
        })
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(opened.editor_id, "zed");
}

#[cfg(target_os = "linux")]
#[test]
fn the_editor_gets_its_own_process_group_and_is_reaped() {
    let fakes = Fakes::new();
    fakes.editor("code");
    open_with(&fakes.env(), &editor("vscode"), &fakes.file("a"), None);
    fakes.recorded("code");

    // `pid (comm) state ppid pgrp ...`
    let stat = fakes.stat("code");
    let pid: u32 = stat.split_whitespace().next().unwrap().parse().unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 1..];
    let pgrp: u32 = after_comm
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(pgrp, pid, "leads its own process group");

    // Once it exited, the background reaper collects it: no zombie stays.
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while proc.exists() {
        assert!(Instant::now() < deadline, "{pid} was never reaped");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn invalid_positions_and_relative_paths_start_nothing() {
    let fakes = Fakes::new();
    fakes.editor("code");
    assert!(matches!(
        Position::new(0, None),
        Err(EditorError::InvalidPosition { what: "line", .. })
    ));
    assert!(matches!(
        Position::new(3, Some(0)),
        Err(EditorError::InvalidPosition { what: "column", .. })
    ));
    assert!(matches!(
        Position::new(10_000_001, None),
        Err(EditorError::InvalidPosition { .. })
    ));
    for relative in ["src/main.rs", "-rf", "./x"] {
        let error =
            open_local(&fakes.env(), &editor("vscode"), Path::new(relative), None).unwrap_err();
        assert!(
            matches!(error, EditorError::PathNotAbsolute { .. }),
            "{error:?}"
        );
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(!fakes.was_started("code"));
}

#[test]
fn system_default_opens_the_file_without_a_line() {
    let fakes = Fakes::new();
    fakes.editor("xdg-open");
    let file = fakes.file("report.pdf");
    let opened = plan_local(
        &fakes.env(),
        &EditorChoice::SystemDefault,
        &file,
        at(2, None),
    )
    .unwrap()
    .launch(&WINDOW)
    .unwrap();
    assert_eq!(
        fakes.recorded("xdg-open"),
        [fakes.program("xdg-open"), file.into_os_string()]
    );
    assert_eq!(opened.how, OpenMode::SystemDefault);
    assert!(!opened.at_position);
}

#[test]
fn remote_files_open_through_the_ssh_alias() {
    let fakes = Fakes::new();
    for name in ["code", "cursor", "zed", "subl"] {
        fakes.editor(name);
    }
    let env = fakes.env();
    let alias = HostAlias::parse("sam-dev-1").unwrap();
    let path = RemotePath::parse("/home/sam/app/src/lib.rs").unwrap();

    for (id, program) in [("vscode", "code"), ("cursor", "cursor")] {
        let opened = plan_remote(&env, &editor(id), &alias, &path, at(40, Some(2)))
            .unwrap()
            .launch(&WINDOW)
            .unwrap();
        assert_eq!(
            fakes.recorded(program)[1..],
            os(&[
                "--remote",
                "ssh-remote+sam-dev-1",
                "-g",
                "/home/sam/app/src/lib.rs:40:2"
            ])
        );
        assert_eq!(opened.how, OpenMode::Remote);
        assert!(opened.at_position);
    }

    let opened = open_remote(&env, &editor("zed"), &alias, &path, at(40, Some(2))).unwrap();
    assert_eq!(
        fakes.recorded("zed")[1..],
        os(&["ssh://sam-dev-1/home/sam/app/src/lib.rs"])
    );
    assert!(!opened.at_position, "Zed takes no position in ssh:// URLs");

    // Sublime has no remote mode: the caller falls back to a local copy.
    assert!(!supports_remote(&env, &editor("sublime")));
    let error = plan_remote(&env, &editor("sublime"), &alias, &path, None).unwrap_err();
    assert!(
        matches!(error, EditorError::RemoteUnsupported { .. }),
        "{error:?}"
    );
    // "auto" picks the first installed editor that can.
    assert!(supports_remote(&env, &EditorChoice::Auto));
    let plan = plan_remote(&env, &EditorChoice::Auto, &alias, &path, None).unwrap();
    assert_eq!(plan.editor_id(), "vscode");

    for bad in [
        "sam-x;rm",
        "sam-x rm -rf ~",
        "other-host",
        "sam-$(id)",
        "sam-x\nProxyCommand",
    ] {
        assert!(
            matches!(
                HostAlias::parse(bad),
                Err(EditorError::InvalidHostAlias { .. })
            ),
            "{bad:?}"
        );
    }
    for bad in ["relative/x", "/a\nb", "/a\0b"] {
        assert!(RemotePath::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn detection_orders_configured_then_gui_then_terminal() {
    let fakes = Fakes::new();
    for name in ["code", "subl", "nvim", "hx", "xdg-open", "zeditor"] {
        fakes.editor(name);
    }
    let env = Environment {
        editor: Some("nvim".into()),
        ..fakes.env()
    };
    let ids = |choice: &EditorChoice| -> Vec<(String, EditorKind)> {
        detect(&env, choice)
            .into_iter()
            .map(|d| (d.id, d.kind))
            .collect()
    };
    let gui = EditorKind::Gui;
    let term = EditorKind::Terminal;
    assert_eq!(
        ids(&EditorChoice::Auto),
        [
            ("vscode".to_owned(), gui),
            ("zed".to_owned(), gui),
            ("sublime".to_owned(), gui),
            // $EDITOR, a terminal editor, then the system opener, then terminal editors.
            ("neovim".to_owned(), term),
            ("system_default".to_owned(), gui),
            ("neovim".to_owned(), term),
            ("helix".to_owned(), term),
        ]
    );
    let detected = detect(&env, &EditorChoice::Auto);
    assert_eq!(detected[3].choice, EditorChoice::Environment);
    assert_eq!(detected[5].choice, editor("neovim"));
    assert!(detected[0].supports_remote && detected[0].opens_at_line);
    assert!(!detected[2].supports_remote);
    assert_eq!(
        detected[1].program,
        fakes.bin().join("zeditor").to_str().unwrap()
    );

    // The configured editor comes first, once.
    let configured = ids(&editor("helix"));
    assert_eq!(configured[0].0, "helix");
    assert_eq!(configured.iter().filter(|(id, _)| id == "helix").count(), 1);
}

#[test]
fn auto_skips_terminal_editors_without_a_terminal() {
    let fakes = Fakes::new();
    fakes.editor("nvim");
    fakes.editor("xdg-open");
    let env = Environment {
        editor: Some("nvim".into()),
        ..fakes.env()
    };
    let plan = plan_local(&env, &EditorChoice::Auto, &fakes.file("a"), None).unwrap();
    assert_eq!(plan.how(), OpenMode::SystemDefault);

    fakes.terminal("x-terminal-emulator", 1);
    let plan = plan_local(&env, &EditorChoice::Auto, &fakes.file("a"), None).unwrap();
    assert_eq!(plan.how(), OpenMode::Terminal);
    assert_eq!(plan.editor_id(), "neovim");
}

#[test]
fn a_program_that_cannot_start_reports_the_os_reason() {
    let fakes = Fakes::new();
    // Executable, so it is found, but its interpreter does not exist.
    let path = fakes.bin().join("code");
    std::fs::write(&path, "#!/nonexistent/interpreter\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();

    let error = open_local(&fakes.env(), &editor("vscode"), &fakes.file("a"), None).unwrap_err();
    let EditorError::SpawnFailed { source, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    assert!(
        error.to_string().contains("could not be started"),
        "{error}"
    );
}

/// A folder with characters a shell would act on, created under the temp dir.
#[expect(clippy::unwrap_used, reason = "test helpers fail loudly")]
fn hostile_folder(fakes: &Fakes) -> PathBuf {
    let folder = fakes.dir.path().join("work; touch PWNED $(id) 'q'");
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

#[test]
fn open_terminal_starts_the_users_terminal_with_a_shell_in_the_checkout() {
    let fakes = Fakes::new();
    fakes.editor("x-terminal-emulator");
    fakes.editor("xterm");
    let folder = hostile_folder(&fakes);

    let opened = plan_terminal_in(&fakes.env(), &folder)
        .unwrap()
        .launch(&WINDOW)
        .unwrap();
    // No `-e`: the emulator starts the user's shell, in the checkout.
    assert_eq!(
        fakes.recorded("x-terminal-emulator"),
        [fakes.program("x-terminal-emulator")]
    );
    assert_eq!(fakes.cwd("x-terminal-emulator"), folder);
    assert_eq!(opened.how, OpenMode::Terminal);
    assert!(!fakes.was_started("xterm"));
    assert!(!fakes.dir.path().join("PWNED").exists());

    // $TERMINAL with its own arguments wins, still without a program to run.
    fakes.editor("kitty");
    let env = Environment {
        terminal: Some("kitty --single-instance".into()),
        ..fakes.env()
    };
    plan_terminal_in(&env, &folder)
        .unwrap()
        .launch(&WINDOW)
        .unwrap();
    assert_eq!(fakes.recorded("kitty")[1..], os(&["--single-instance"]));
    assert_eq!(fakes.cwd("kitty"), folder);
}

#[test]
fn open_terminal_on_a_cloud_workspace_runs_ssh_inside_the_terminal() {
    let fakes = Fakes::new();
    fakes.terminal("x-terminal-emulator", 1);
    fakes.editor("ssh");
    let config = hostile_folder(&fakes).join("ssh config");
    let argv: Vec<String> = vec![
        "ssh".into(),
        "-F".into(),
        config.display().to_string(),
        "sam-dev-1".into(),
    ];

    plan_terminal_running(&fakes.env(), &argv)
        .unwrap()
        .launch(&WINDOW)
        .unwrap();
    let ssh_args = vec![
        OsString::from("-F"),
        config.clone().into_os_string(),
        "sam-dev-1".into(),
    ];
    let mut terminal_argv = vec![
        fakes.program("x-terminal-emulator"),
        "-e".into(),
        fakes.program("ssh"),
    ];
    terminal_argv.extend(ssh_args.clone());
    assert_eq!(fakes.recorded("x-terminal-emulator"), terminal_argv);
    // The terminal really ran ssh with exactly those arguments, the path with spaces whole.
    let mut ssh_argv = vec![fakes.program("ssh")];
    ssh_argv.extend(ssh_args);
    assert_eq!(fakes.recorded("ssh"), ssh_argv);
    assert!(!fakes.dir.path().join("PWNED").exists());
}

#[test]
fn open_terminal_without_a_terminal_or_ssh_says_what_to_install() {
    let fakes = Fakes::new();
    let folder = hostile_folder(&fakes);
    let error = plan_terminal_in(&fakes.env(), &folder).unwrap_err();
    assert!(
        matches!(error, EditorError::NoTerminalEmulator),
        "{error:?}"
    );
    assert!(error.to_string().contains("$TERMINAL"), "{error}");

    fakes.editor("xterm");
    let argv = vec!["ssh".to_owned(), "sam-x".to_owned()];
    let error = plan_terminal_running(&fakes.env(), &argv).unwrap_err();
    assert!(error.to_string().contains("openssh-client"), "{error}");
    assert!(plan_terminal_running(&fakes.env(), &[]).is_err());

    // A checkout that is gone, or a relative one, starts nothing.
    let error = plan_terminal_in(&fakes.env(), &fakes.dir.path().join("gone")).unwrap_err();
    assert!(error.to_string().contains("not a folder"), "{error}");
    let error = plan_terminal_in(&fakes.env(), Path::new("-e")).unwrap_err();
    assert!(
        matches!(error, EditorError::PathNotAbsolute { .. }),
        "{error:?}"
    );
    assert!(!fakes.was_started("xterm"));
}

#[test]
fn open_in_vscode_opens_the_folder_locally_or_over_remote_ssh() {
    let fakes = Fakes::new();
    fakes.editor("code");
    let folder = hostile_folder(&fakes);

    let opened = plan_vscode_folder(&fakes.env(), &folder)
        .unwrap()
        .launch(&WINDOW)
        .unwrap();
    assert_eq!(
        fakes.recorded("code"),
        [fakes.program("code"), folder.clone().into_os_string()]
    );
    assert_eq!(opened.how, OpenMode::Local);
    assert_eq!(opened.editor_id, "vscode");
    assert!(!fakes.dir.path().join("PWNED").exists());

    let alias = HostAlias::parse("sam-dev-1").unwrap();
    let remote = RemotePath::parse("/root/.sam/0123456789abcdef/checkout").unwrap();
    let opened = plan_vscode_remote_folder(&fakes.env(), &alias, &remote)
        .unwrap()
        .launch(&WINDOW)
        .unwrap();
    assert_eq!(
        fakes.recorded("code")[1..],
        os(&[
            "--remote",
            "ssh-remote+sam-dev-1",
            "/root/.sam/0123456789abcdef/checkout"
        ])
    );
    assert_eq!(opened.how, OpenMode::Remote);

    // A folder VS Code would take for a file goes as an unambiguous folder URI.
    let dotted = RemotePath::parse("/home/sam/next.js #1").unwrap();
    plan_vscode_remote_folder(&fakes.env(), &alias, &dotted)
        .unwrap()
        .launch(&WINDOW)
        .unwrap();
    assert_eq!(
        fakes.recorded("code")[1..],
        os(&[
            "--folder-uri",
            "vscode-remote://ssh-remote+sam-dev-1/home/sam/next.js%20%231"
        ])
    );
}

#[test]
fn open_in_vscode_without_code_says_how_to_install_the_command() {
    let fakes = Fakes::new();
    fakes.editor("cursor");
    let folder = hostile_folder(&fakes);
    let error = plan_vscode_folder(&fakes.env(), &folder).unwrap_err();
    assert!(
        matches!(error, EditorError::ProgramNotFound { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("Shell Command"), "{error}");
    let alias = HostAlias::parse("sam-dev-1").unwrap();
    let remote = RemotePath::parse("/root/x").unwrap();
    assert!(plan_vscode_remote_folder(&fakes.env(), &alias, &remote).is_err());
    assert!(!fakes.was_started("cursor"));
}

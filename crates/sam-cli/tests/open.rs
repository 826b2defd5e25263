//! `sam open` with the real binary, a real `sam-host` daemon and a fake editor on `PATH` that
//! records the argv it was started with.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Cli, error_message};
use sam_testkit::FakeProviders;

/// A `code` that writes its arguments, one per line, to `$SAM_TEST_RECORD`.
fn fake_editor(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let code = bin.join("code");
    std::fs::write(
        &code,
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$SAM_TEST_RECORD.tmp\"\nmv \"$SAM_TEST_RECORD.tmp\" \"$SAM_TEST_RECORD\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&code, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn recorded(record: &Path) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !record.exists() {
        assert!(Instant::now() < deadline, "the editor was not started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let argv: Vec<String> = std::fs::read_to_string(record)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    std::fs::remove_file(record).unwrap();
    argv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_starts_the_editor_at_the_line_by_argv_and_refuses_escapes() {
    let fake = FakeProviders::start().await.unwrap();
    let mut cli = Cli::new(&fake);
    let scratch = tempfile::tempdir().unwrap();
    let bin = fake_editor(scratch.path());
    let record = scratch.path().join("argv");
    let marker = scratch.path().join("pwned");
    let odd = format!("we ird $(touch {}); `x`.py", marker.display());
    let odd_name = odd.replace('/', "_");
    cli.env.extend([
        (
            "PATH".to_owned(),
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        ),
        ("SAM_TEST_RECORD".to_owned(), record.display().to_string()),
        ("VISUAL".to_owned(), String::new()),
        ("EDITOR".to_owned(), String::new()),
    ]);
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("src")).unwrap();
    std::fs::write(repo.path().join("src/app.py"), "a\nb\nc\n").unwrap();
    std::fs::write(repo.path().join(&odd_name), "x\n").unwrap();
    std::fs::write(scratch.path().join("outside.txt"), "secret\n").unwrap();
    std::os::unix::fs::symlink(
        scratch.path().join("outside.txt"),
        repo.path().join("link.txt"),
    )
    .unwrap();
    let (ok, created) = cli.json(
        &[
            "workspace",
            "create",
            "--repo",
            repo.path().to_str().unwrap(),
            "--name",
            "demo",
            "--json",
        ],
        b"",
    );
    assert!(ok, "{created}");
    let root = std::fs::canonicalize(repo.path()).unwrap();

    // Line and column, in VS Code's `-g file:line:col` form, the path absolute and whole.
    let (ok, opened) = cli.json(&["open", "demo", "src/app.py:2:3", "--json"], b"");
    assert!(ok, "{opened}");
    assert_eq!(opened["how"], "editor");
    assert_eq!(opened["path"], "src/app.py");
    assert_eq!(opened["line"], 2);
    assert_eq!(
        recorded(&record),
        ["-g", &format!("{}/src/app.py:2:3", root.display())]
    );

    // GitHub's anchor form, and a file name full of shell syntax: one argv element, no shell.
    let (ok, opened) = cli.json(&["open", "demo", &format!("{odd_name}#L1"), "--json"], b"");
    assert!(ok, "{opened}");
    assert_eq!(
        recorded(&record),
        ["-g", &format!("{}/{odd_name}:1", root.display())]
    );
    assert!(!marker.exists(), "a shell ran the file name");

    // Refused before any editor starts: escapes, a symlink out, a missing file, a folder, line 0.
    for (location, expected) in [
        ("../outside.txt", "cannot be opened"),
        ("/etc/passwd", "cannot be opened"),
        ("link.txt", "cannot be opened"),
        ("~/.bashrc", "cannot be opened"),
        ("file:///etc/passwd", "cannot be opened"),
        ("src/missing.py:3", "not in the workspace"),
        ("src", "folder"),
        ("src/app.py:0", "line"),
    ] {
        let (ok, answer) = cli.json(&["open", "demo", location, "--json"], b"");
        assert!(!ok, "{location}: {answer}");
        let message = error_message(&answer);
        assert!(
            message.to_lowercase().contains(expected),
            "{location}: {message}"
        );
        assert!(!record.exists(), "{location} started the editor");
    }

    // An editor that is not installed is named.
    let (ok, answer) = cli.json(
        &["open", "demo", "src/app.py", "--editor", "zed", "--json"],
        b"",
    );
    assert!(!ok);
    assert!(error_message(&answer).contains("Zed"), "{answer}");
}

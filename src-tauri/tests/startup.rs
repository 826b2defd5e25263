//! Start-up in bad environments: clear messages and exit codes, never a GTK panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::process::Command;

fn app() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sam-desktop"));
    command.env_remove("SAM_DATA_DIR");
    command
}

#[test]
fn without_a_display_it_explains_and_exits_2() {
    let data = tempfile::tempdir().unwrap();
    let out = app()
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("SAM_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no display found"), "{stderr}");
    assert!(stderr.contains("xvfb-run"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Nothing was created before the check.
    assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0);
}

#[test]
fn a_relative_data_dir_is_refused_before_anything_starts() {
    let out = app()
        .env("DISPLAY", ":2147")
        .env("SAM_DATA_DIR", "relative/data")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SAM_DATA_DIR must be an absolute path"),
        "{stderr}"
    );
}

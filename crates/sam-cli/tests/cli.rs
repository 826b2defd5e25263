//! The `sam` binary as a user runs it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::process::Command;

fn sam() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sam"))
}

#[test]
fn prints_its_version() {
    let out = sam().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("sam {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn doctor_json_is_one_document_with_every_check() {
    let out = sam().args(["doctor", "--json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    let checks = report["checks"].as_array().unwrap();
    let ids: Vec<&str> = checks.iter().map(|c| c["id"].as_str().unwrap()).collect();
    for id in [
        "keyring",
        "ssh",
        "git",
        "docker",
        "devcontainer",
        "editors",
        "gpu",
    ] {
        assert!(ids.contains(&id), "missing {id} in {ids:?}");
    }
    #[cfg(target_os = "linux")]
    for id in ["display", "webkitgtk", "appindicator"] {
        assert!(ids.contains(&id), "missing {id} in {ids:?}");
    }
    // git is installed wherever these tests run, so its check must have found it.
    let git = checks.iter().find(|c| c["id"] == "git").unwrap();
    assert_eq!(git["status"], "ok", "{git}");
    assert!(git["detail"].as_str().unwrap().contains("git version"));
    // The exit status follows the report.
    let any_error = checks.iter().any(|c| c["status"] == "error");
    assert_eq!(out.status.success(), !any_error);
}

#[test]
fn doctor_without_a_session_bus_reports_the_keyring_with_a_fix() {
    let out = sam()
        .args(["doctor", "--json"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/sam-test-bus",
        )
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keyring = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "keyring")
        .unwrap()
        .clone();
    assert_eq!(keyring["status"], "error", "{keyring}");
    assert!(keyring["fix"].as_str().unwrap().len() > 20);
    assert!(!out.status.success());
}

#[test]
fn doctor_prints_a_readable_report() {
    let out = sam()
        .arg("doctor")
        .env("DISPLAY", "")
        .env("WAYLAND_DISPLAY", "")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Git: git version"), "{text}");
    #[cfg(target_os = "linux")]
    assert!(
        text.contains("Fix: Run SAM Desktop inside a desktop session"),
        "{text}"
    );
}

#[test]
fn an_unknown_subcommand_is_a_usage_error() {
    let out = sam().arg("fly").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized subcommand 'fly'"));
}

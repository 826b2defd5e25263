//! `sam chat …` with the real binary, a real `sam-host` daemon and the scripted ACP agent.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Cli, error_message};
use sam_testkit::FakeProviders;

fn agent_command() -> String {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../sam-testkit/support/scripted-acp-agent.mjs");
    format!("node '{}'", script.display())
}

/// Polls `sam chat log` until an event matches.
fn wait_log(
    cli: &Cli,
    session: &str,
    matches: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (ok, log) = cli.json(&["chat", "log", session, "--json"], b"");
        assert!(ok, "{log}");
        if let Some(hit) = log.as_array().unwrap().iter().find(|e| matches(e)) {
            return hit.clone();
        }
        assert!(Instant::now() < deadline, "no matching event in {log}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_wait_log_approve_search_and_history_after_delete() {
    let fake = FakeProviders::start().await.unwrap();
    let cli = Cli::new(&fake);
    let repo = tempfile::tempdir().unwrap();
    sam_testkit::git::commit_into(repo.path(), &[("README.md", "hi\n")]).unwrap();
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

    let command = agent_command();
    let (ok, sent) = cli.json(
        &[
            "chat",
            "send",
            "demo",
            "echo hello from the command line",
            "--agent",
            "custom",
            "--agent-command",
            &command,
            "--wait",
            "--json",
        ],
        b"",
    );
    assert!(ok, "{sent}");
    assert_eq!(sent["reply"], "hello from the command line");
    assert_eq!(sent["stop_reason"], "end_turn");
    let session = sent["session_id"].as_str().unwrap().to_owned();

    // A turn that needs permission: sent without waiting, answered by a later command.
    let (ok, sent) = cli.json(
        &[
            "chat",
            "send",
            "demo",
            "write out.txt written via the cli",
            "--session",
            &session,
            "--json",
        ],
        b"",
    );
    assert!(ok, "{sent}");
    assert_eq!(sent["prompt"], 2);
    let request = wait_log(&cli, &session, |e| {
        e["body"]["kind"] == "permission_requested"
    });
    assert_eq!(request["body"]["request"], 1);
    let (ok, answered) = cli.json(&["chat", "approve", &session, "1", "--json"], b"");
    assert!(ok, "{answered}");
    assert_eq!(answered["option_id"], "allow");
    wait_log(&cli, &session, |e| {
        e["body"]["kind"] == "turn_ended" && e["body"]["prompt"] == 2
    });
    assert_eq!(
        std::fs::read_to_string(repo.path().join("out.txt")).unwrap(),
        "written via the cli\n"
    );
    let (ok, again) = cli.json(&["chat", "reject", &session, "1", "--json"], b"");
    assert!(!ok, "an answered request is closed: {again}");

    let out = cli.run(&["chat", "log", &session], b"");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("agent: hello from the command line"),
        "{text}"
    );
    assert!(text.contains("request 1: allow (by cli)"), "{text}");

    let (ok, hits) = cli.json(&["chat", "search", "written", "--json"], b"");
    assert!(ok, "{hits}");
    assert!(!hits.as_array().unwrap().is_empty());

    // Bad input.
    let (ok, error) = cli.json(
        &["chat", "send", "demo", "hi", "--agent", "nope", "--json"],
        b"",
    );
    assert!(!ok);
    assert!(
        error_message(&error).contains("No agent \"nope\""),
        "{error}"
    );
    let (ok, error) = cli.json(&["chat", "log", "no-such-session", "--json"], b"");
    assert!(!ok);
    assert_eq!(error["error"]["code"], "not_found", "{error}");
    let (ok, error) = cli.json(
        &["chat", "send", "demo", "hi", "--agent", "claude", "--json"],
        b"",
    );
    assert!(!ok, "{error}");

    // The workspace goes, the history stays, and continues in another workspace.
    let (ok, _) = cli.json(&["workspace", "delete", "demo", "--json"], b"");
    assert!(ok);
    let (ok, error) = cli.json(
        &[
            "chat",
            "send",
            "demo",
            "echo more",
            "--session",
            &session,
            "--json",
        ],
        b"",
    );
    assert!(!ok);
    assert!(error_message(&error).contains("was deleted"), "{error}");
    let other = tempfile::tempdir().unwrap();
    sam_testkit::git::commit_into(other.path(), &[("README.md", "two\n")]).unwrap();
    let (ok, created) = cli.json(
        &[
            "workspace",
            "create",
            "--repo",
            other.path().to_str().unwrap(),
            "--name",
            "second",
            "--json",
        ],
        b"",
    );
    assert!(ok, "{created}");
    let (ok, forked) = cli.json(
        &["chat", "fork", &session, "--workspace", "second", "--json"],
        b"",
    );
    assert!(ok, "{forked}");
    let moved = forked["session_id"].as_str().unwrap().to_owned();
    let (ok, sent) = cli.json(
        &[
            "chat",
            "send",
            "second",
            "echo continued",
            "--session",
            &moved,
            "--wait",
            "--json",
        ],
        b"",
    );
    assert!(ok, "{sent}");
    assert_eq!(sent["reply"], "continued");
    assert_eq!(sent["prompt"], 3, "the turns number on from the history");
    let (ok, _) = cli.json(&["workspace", "delete", "second", "--json"], b"");
    assert!(ok);
    let (ok, sessions) = cli.json(&["chat", "sessions", "--json"], b"");
    assert!(ok, "{sessions}");
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s["workspace_gone"] == true));
    let original = sessions
        .iter()
        .find(|s| s["id"] == session.as_str())
        .unwrap();
    assert_eq!(original["title"], "echo hello from the command line");
}

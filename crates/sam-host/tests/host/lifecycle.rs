//! The daemon's life: started by `connect`, outliving it; one per state directory; the journal
//! and setup state across restarts; a private socket.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use sam_protocol::client::HostClient;
use sam_protocol::{EventBody, HostState, RequestBody};
use tokio::process::{Child, Command};

use crate::support::{
    BIN, Daemon, DetachedDaemonGuard, alive, assert_contiguous, events_until, local_plan,
    make_repo, ok, read_text, refused, status, subscribe, within,
};

/// Runs `sam-host connect` as the desktop does and handshakes through it.
async fn connect_process(state_dir: &std::path::Path) -> (Child, HostClient) {
    let mut child = Command::new(BIN)
        .arg("connect")
        .arg("--state-dir")
        .arg(state_dir)
        .env("SAM_HOST_ACTIVITY_FILE", state_dir.join("activity"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (client, _) = within(HostClient::connect(stdout, stdin, "connect test"))
        .await
        .unwrap();
    (child, client)
}

#[tokio::test]
async fn the_daemon_started_by_connect_outlives_it() {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let _guard = DetachedDaemonGuard(state.path().to_path_buf());

    let (mut first, client) = connect_process(state.path()).await;
    let daemon_pid = status(&client).await.pid;
    assert_ne!(
        Some(daemon_pid),
        first.id(),
        "the daemon is its own process"
    );
    ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;
    ok(&client, RequestBody::Touch).await;
    let head = status(&client).await.last_seq;

    // The app dies: its connect process is killed outright.
    first.kill().await.unwrap();
    drop(client);
    assert!(alive(daemon_pid), "the daemon survived its connect process");

    let (mut second, client) = connect_process(state.path()).await;
    let now = status(&client).await;
    assert_eq!(now.pid, daemon_pid, "the same daemon answers");
    assert_eq!(now.state, HostState::Ready);
    assert_eq!(now.last_seq, head);
    let (_, mut events) = subscribe(&client, None).await;
    let replay = events_until(&mut events, head).await;
    assert_contiguous(&replay, 1, head);
    assert_eq!(
        replay
            .iter()
            .filter(|e| matches!(e.event, EventBody::HostStarted { .. }))
            .count(),
        1,
        "one daemon start, one HostStarted"
    );
    assert_eq!(read_text(&client, "README.md").await, "hello sam\n");

    // Closing the client's side ends the connect process cleanly.
    drop(events);
    drop(client);
    let exit = within(second.wait()).await.unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(alive(daemon_pid));

    // The socket and the state directory are private.
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(state.path()), 0o700);
    assert_eq!(mode(&state.path().join("host.sock")), 0o600);
}

#[tokio::test]
async fn a_second_daemon_for_the_same_state_dir_exits_cleanly() {
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let output = within(
        Command::new(BIN)
            .arg("serve")
            .arg("--state-dir")
            .arg(state.path())
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("already running"), "{stderr}");
    assert!(stderr.contains(&daemon.pid().to_string()), "{stderr}");
    assert!(output.stdout.is_empty());
    // The first daemon is untouched.
    let client = daemon.client().await;
    assert_eq!(status(&client).await.pid, daemon.pid());
}

#[tokio::test]
async fn the_journal_and_the_setup_survive_a_restart() {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();

    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    refused(
        &client,
        RequestBody::Setup(local_plan("ws", &work.path().join("missing"))),
    )
    .await;
    assert_eq!(status(&client).await.last_seq, 5);
    drop(client);
    daemon.stop();
    assert!(
        !state.path().join("host.sock").exists(),
        "a clean stop removes its socket"
    );

    // The failed state is remembered; the sequence continues.
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let now = status(&client).await;
    assert!(
        matches!(now.state, HostState::Failed { .. }),
        "{:?}",
        now.state
    );
    assert_eq!(now.last_seq, 6);
    ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;
    drop(client);
    // An abrupt end this time (SIGKILL): a committed journal survives that too.
    drop(daemon);

    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let now = status(&client).await;
    assert_eq!(now.state, HostState::Ready);
    assert_eq!(now.last_seq, 11);
    assert_eq!(read_text(&client, "README.md").await, "hello sam\n");
    let (_, mut events) = subscribe(&client, None).await;
    let all = events_until(&mut events, 11).await;
    assert_contiguous(&all, 1, 11);
    let starts: Vec<u64> = all
        .iter()
        .filter(|e| matches!(e.event, EventBody::HostStarted { .. }))
        .map(|e| e.seq)
        .collect();
    assert_eq!(starts, vec![1, 6, 11]);
    assert!(all.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
}

#[tokio::test]
async fn a_ready_checkout_that_vanished_becomes_a_failure_at_start() {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    {
        let daemon = Daemon::start(state.path());
        let client = daemon.client().await;
        ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;
    }
    std::fs::remove_dir_all(&folder).unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let HostState::Failed { reason } = status(&client).await.state else {
        panic!("expected failed");
    };
    assert!(reason.contains("gone"), "{reason}");
}

#[tokio::test]
async fn the_state_dir_defaults_follow_the_environment() {
    let base = tempfile::tempdir().unwrap();
    let explicit = base.path().join("explicit");
    let xdg = base.path().join("xdg");
    let home = base.path().join("home");
    let cases = [
        (Some(&explicit), Some(&xdg), explicit.clone()),
        (None, Some(&xdg), xdg.join("sam-host")),
        (None, None, home.join(".local/state/sam-host")),
    ];
    for (state_env, xdg_env, expected) in cases {
        let mut command = std::process::Command::new(BIN);
        command
            .arg("serve")
            .env_remove("SAM_HOST_STATE_DIR")
            .env_remove("XDG_STATE_HOME")
            .env("HOME", &home)
            .env("SAM_HOST_ACTIVITY_FILE", base.path().join("activity"))
            .stdin(Stdio::null());
        if let Some(dir) = state_env {
            command.env("SAM_HOST_STATE_DIR", dir);
        }
        if let Some(dir) = xdg_env {
            command.env("XDG_STATE_HOME", dir);
        }
        let mut child = command.spawn().unwrap();
        crate::support::wait_for_socket(&expected.join("host.sock"));
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

#[tokio::test]
async fn a_shared_state_dir_is_refused_and_an_open_one_made_private() {
    let base = tempfile::tempdir().unwrap();
    let shared = base.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let output = within(
        Command::new(BIN)
            .arg("serve")
            .arg("--state-dir")
            .arg(&shared)
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("shared directory"), "{stderr}");
    let mode = std::fs::metadata(&shared).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o1777, "left as it was");
    assert!(!shared.join("host.sock").exists());

    let open = base.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let daemon = Daemon::start(&open);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&open), 0o700);
    let client = daemon.client().await;
    ok(&client, RequestBody::Touch).await;
    // Everything the daemon writes is for this user only.
    for file in [
        "host.lock",
        "host.log",
        "journal.sqlite",
        "journal.sqlite-wal",
    ] {
        assert_eq!(mode(&open.join(file)), 0o600, "{file}");
    }
}

//! `Run` on the host: argv without a shell, exit status and output, deadlines, the setup
//! queue, and a workspace without a dev container.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use sam_protocol::{ErrorCode, RequestBody, ResponseBody};

use crate::support::{
    Daemon, local_plan, make_repo, ok, refused, run, status, wait_status, within,
};

fn run_request(argv: &[&str], in_container: bool, timeout_ms: u64) -> RequestBody {
    RequestBody::Run {
        argv: argv.iter().map(|a| (*a).to_owned()).collect(),
        in_container,
        timeout_ms,
    }
}

#[tokio::test]
async fn programs_run_in_the_checkout_by_argv_without_a_shell() {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = Arc::new(daemon.client().await);

    // A run asked for before the setup waits for it, like a file read.
    let queued = {
        let client = Arc::clone(&client);
        tokio::spawn(async move { run(&client, &["cat", "README.md"], false).await })
    };
    wait_status(&client, |s| s.queued_requests == 1).await;
    ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;
    assert_eq!(
        within(queued).await.unwrap(),
        (0, "hello sam\n".to_owned(), String::new())
    );

    let canonical = std::fs::canonicalize(&folder).unwrap();
    assert_eq!(
        run(&client, &["pwd"], false).await.1,
        format!("{}\n", canonical.display())
    );
    // No shell: nothing is expanded, split or chained.
    assert_eq!(
        run(&client, &["echo", "$HOME", "*", "a;b", "|", "`id`"], false)
            .await
            .1,
        "$HOME * a;b | `id`\n"
    );
    assert_eq!(
        run(
            &client,
            &["sh", "-c", "echo out; echo oops >&2; exit 7"],
            false
        )
        .await,
        (7, "out\n".to_owned(), "oops\n".to_owned())
    );
    // A signal is reported as shells do: 128 + its number.
    assert_eq!(
        run(&client, &["sh", "-c", "kill -s TERM $$"], false)
            .await
            .0,
        128 + 15
    );
    // A relative program path is the checkout's.
    let tool = folder.join("tool.sh");
    std::fs::write(&tool, "#!/bin/sh\necho \"tool $1\"\n").unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(run(&client, &["./tool.sh", "x"], false).await.1, "tool x\n");

    let missing = refused(&client, run_request(&["no-such-program-sam"], false, 5000)).await;
    assert_eq!(missing.code, ErrorCode::NotFound);
    assert!(
        missing.message.contains("no-such-program-sam"),
        "{}",
        missing.message
    );

    let slow = refused(
        &client,
        run_request(&["sh", "-c", "echo waiting >&2; exec sleep 30"], false, 300),
    )
    .await;
    assert_eq!(slow.code, ErrorCode::TimedOut);
    assert!(slow.message.contains("waiting"), "{}", slow.message);

    for bad in [
        run_request(&[], false, 1000),
        run_request(&["--version"], false, 1000),
        run_request(&["true"], false, 0),
    ] {
        assert_eq!(refused(&client, bad).await.code, ErrorCode::InvalidRequest);
    }
}

#[tokio::test]
async fn a_workspace_without_a_dev_container_refuses_to_run_in_one() {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;

    // No devcontainer step at all: the journal is what it was before dev containers.
    let status = status(&client).await;
    assert_eq!(status.container, None);
    assert_eq!(status.last_seq, 5);

    let error = refused(&client, run_request(&["cat", "README.md"], true, 5000)).await;
    assert_eq!(error.code, ErrorCode::NotFound);
    assert!(
        error.message.contains("no dev container"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("in_container: false"),
        "{}",
        error.message
    );
    // The same command on the host works.
    assert!(matches!(
        ok(&client, run_request(&["cat", "README.md"], false, 5000)).await,
        ResponseBody::Ran { status: 0, .. }
    ));
}

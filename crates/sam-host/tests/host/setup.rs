//! Setup: clone or local folder → Ready with timed, journaled steps; failures; the queue.

use std::sync::Arc;

use sam_protocol::{ErrorCode, EventBody, HostState, RequestBody, ResponseBody, step};

use crate::support::{
    Daemon, events_until, file_url, git_plan, local_plan, make_repo, ok, read_text, refused,
    status, subscribe, wait_status, within,
};

fn kinds(events: &[sam_protocol::Event]) -> Vec<EventBody> {
    events.iter().map(|e| e.event.clone()).collect()
}

#[tokio::test]
async fn setup_from_a_file_url_clones_and_becomes_ready_once() {
    let work = tempfile::tempdir().unwrap();
    let repo = make_repo(&work.path().join("origin"));
    let checkout = work.path().join("checkouts/ws-1");
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = Arc::new(daemon.client().await);
    let (head, mut events) = subscribe(&client, None).await;
    assert_eq!(head, 1);

    // Two clients asking for the same setup at once share one run.
    let plan = git_plan("ws-1", &file_url(&repo), None, &checkout);
    let second = daemon.client().await;
    let (first_answer, second_answer) = tokio::join!(
        client.request(RequestBody::Setup(plan.clone())),
        second.request(RequestBody::Setup(plan.clone())),
    );
    let canonical = std::fs::canonicalize(&checkout).unwrap();
    let ready = ResponseBody::SetupReady {
        checkout_dir: canonical.display().to_string(),
    };
    assert_eq!(first_answer.unwrap(), ready);
    assert_eq!(second_answer.unwrap(), ready);

    let received = events_until(&mut events, 5).await;
    let bodies = kinds(&received);
    assert!(matches!(bodies[0], EventBody::HostStarted { .. }));
    assert_eq!(bodies[1], EventBody::SetupStarted);
    assert_eq!(
        bodies[2],
        EventBody::StepStarted {
            step: step::CLONE.into()
        }
    );
    assert!(matches!(&bodies[3], EventBody::StepFinished { step, .. } if step == step::CLONE));
    assert!(matches!(bodies[4], EventBody::SetupComplete { .. }));
    assert!(received.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));

    let status = status(&client).await;
    assert_eq!(status.state, HostState::Ready);
    assert_eq!(status.workspace_id.as_deref(), Some("ws-1"));
    assert_eq!(status.checkout_dir, Some(canonical.display().to_string()));
    assert_eq!(read_text(&client, "README.md").await, "hello sam\n");

    // Idempotent: the same plan again answers at once and journals nothing.
    assert_eq!(ok(&client, RequestBody::Setup(plan.clone())).await, ready);
    assert_eq!(crate::support::status(&client).await.last_seq, 5);

    // Another plan on a ready host is refused, with a reason.
    let other = git_plan(
        "ws-2",
        &file_url(&repo),
        None,
        &work.path().join("elsewhere"),
    );
    let error = refused(&client, RequestBody::Setup(other)).await;
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert!(error.message.contains("ws-1"), "{}", error.message);
}

#[tokio::test]
async fn an_existing_checkout_of_the_repository_is_not_cloned_again() {
    let work = tempfile::tempdir().unwrap();
    let repo = make_repo(&work.path().join("origin"));
    let checkout = work.path().join("checkout");
    let plan = git_plan("ws", &file_url(&repo), Some("feature"), &checkout);
    {
        let state = tempfile::tempdir().unwrap();
        let daemon = Daemon::start(state.path());
        let client = daemon.client().await;
        ok(&client, RequestBody::Setup(plan.clone())).await;
        assert_eq!(read_text(&client, "feature.txt").await, "only on feature\n");
    }
    // A marker a re-clone would not have.
    std::fs::write(checkout.join("marker.txt"), "still here\n").unwrap();

    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(plan)).await;
    assert_eq!(read_text(&client, "marker.txt").await, "still here\n");

    // A folder holding something else is not clobbered.
    let occupied = work.path().join("occupied");
    std::fs::create_dir_all(&occupied).unwrap();
    std::fs::write(occupied.join("mine.txt"), "mine").unwrap();
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let error = refused(
        &client,
        RequestBody::Setup(git_plan("ws", &file_url(&repo), None, &occupied)),
    )
    .await;
    assert_eq!(error.code, ErrorCode::SetupFailed);
    assert!(
        error.message.contains("not a checkout"),
        "{}",
        error.message
    );
    assert_eq!(
        std::fs::read_to_string(occupied.join("mine.txt")).unwrap(),
        "mine"
    );
}

#[tokio::test]
async fn setup_from_a_local_path_uses_the_folder_in_place() {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let (_, mut events) = subscribe(&client, Some(1)).await;
    let answer = ok(&client, RequestBody::Setup(local_plan("local", &folder))).await;
    assert_eq!(
        answer,
        ResponseBody::SetupReady {
            checkout_dir: std::fs::canonicalize(&folder)
                .unwrap()
                .display()
                .to_string()
        }
    );
    let bodies = kinds(&events_until(&mut events, 5).await);
    assert_eq!(bodies[0], EventBody::SetupStarted);
    assert_eq!(
        bodies[1],
        EventBody::StepStarted {
            step: step::LOCAL_FOLDER.into()
        }
    );
    assert!(
        matches!(&bodies[2], EventBody::StepFinished { step, .. } if step == step::LOCAL_FOLDER)
    );
    assert!(matches!(bodies[3], EventBody::SetupComplete { .. }));
    std::fs::write(folder.join("new.txt"), "live edit\n").unwrap();
    assert_eq!(read_text(&client, "new.txt").await, "live edit\n");
}

#[tokio::test]
async fn a_clone_of_a_missing_repository_fails_every_queued_request() {
    let work = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = Arc::new(daemon.client().await);
    let (_, mut events) = subscribe(&client, Some(1)).await;

    // Requests that need the checkout wait while the host is unconfigured.
    let queued: Vec<_> = (0..3)
        .map(|_| {
            let client = Arc::clone(&client);
            tokio::spawn(async move {
                client
                    .request(RequestBody::ReadFile {
                        path: "README.md".into(),
                        max_bytes: 100,
                    })
                    .await
            })
        })
        .collect();
    wait_status(&client, |s| s.queued_requests == 3).await;

    let missing = work.path().join("no-such-repo");
    let plan = git_plan(
        "ws",
        &file_url(&missing),
        None,
        &work.path().join("checkout"),
    );
    let error = refused(&client, RequestBody::Setup(plan)).await;
    assert_eq!(error.code, ErrorCode::SetupFailed);
    assert!(
        error.message.contains("git clone failed"),
        "{}",
        error.message
    );

    for request in queued {
        match within(request).await.unwrap() {
            Err(sam_protocol::client::ClientError::Host(error)) => {
                assert_eq!(error.code, ErrorCode::SetupFailed);
            }
            other => panic!("expected setup_failed, got {other:?}"),
        }
    }
    let status = status(&client).await;
    let HostState::Failed { reason } = status.state else {
        panic!("expected failed, got {:?}", status.state);
    };
    assert!(reason.contains("no-such-repo"), "{reason}");
    assert_eq!(status.queued_requests, 0);

    // On a failed host such requests fail at once.
    let error = refused(
        &client,
        RequestBody::ReadFile {
            path: "README.md".into(),
            max_bytes: 10,
        },
    )
    .await;
    assert_eq!(error.code, ErrorCode::SetupFailed);

    let bodies = kinds(&events_until(&mut events, 5).await);
    assert_eq!(bodies[0], EventBody::SetupStarted);
    assert_eq!(
        bodies[1],
        EventBody::StepStarted {
            step: step::CLONE.into()
        }
    );
    assert!(
        matches!(&bodies[2], EventBody::StepFailed { step, reason } if step == step::CLONE && !reason.is_empty())
    );
    assert!(matches!(&bodies[3], EventBody::SetupFailed { reason: r } if *r == reason));
}

#[tokio::test]
async fn a_missing_branch_fails_the_setup_and_a_retry_can_succeed() {
    let work = tempfile::tempdir().unwrap();
    let repo = make_repo(&work.path().join("origin"));
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let checkout = work.path().join("checkout");
    let plan = git_plan("ws", &file_url(&repo), Some("no-such-branch"), &checkout);
    let error = refused(&client, RequestBody::Setup(plan)).await;
    assert_eq!(error.code, ErrorCode::SetupFailed);
    assert!(
        error.message.contains("no-such-branch"),
        "{}",
        error.message
    );
    assert!(
        !checkout.join("README.md").exists(),
        "a failed clone leaves no checkout"
    );

    // A failed host accepts a new setup.
    ok(
        &client,
        RequestBody::Setup(git_plan("ws", &file_url(&repo), None, &checkout)),
    )
    .await;
    assert_eq!(read_text(&client, "sub/file.txt").await, "nested\n");
}

#[tokio::test]
async fn the_65th_waiting_request_is_refused_at_once() {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = Arc::new(daemon.client().await);
    let queued: Vec<_> = (0..sam_host::MAX_QUEUED_REQUESTS)
        .map(|_| {
            let client = Arc::clone(&client);
            tokio::spawn(async move {
                client
                    .request(RequestBody::ReadFile {
                        path: "README.md".into(),
                        max_bytes: 100,
                    })
                    .await
            })
        })
        .collect();
    wait_status(&client, |s| s.queued_requests == 64).await;
    let error = refused(
        &client,
        RequestBody::ReadFile {
            path: "README.md".into(),
            max_bytes: 100,
        },
    )
    .await;
    assert_eq!(error.code, ErrorCode::QueueFull);
    // Requests that never queue still pass.
    assert_eq!(ok(&client, RequestBody::Ping).await, ResponseBody::Pong);
    ok(&client, RequestBody::Touch).await;

    ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;
    for request in queued {
        match within(request).await.unwrap().unwrap() {
            ResponseBody::File(file) => {
                assert_eq!(file.content.to_bytes().unwrap(), b"hello sam\n")
            }
            other => panic!("expected a file, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn invalid_plans_are_refused_before_anything_runs() {
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let relative = git_plan(
        "ws",
        "file:///x",
        None,
        std::path::Path::new("relative/dir"),
    );
    let option_branch = git_plan(
        "ws",
        "file:///x",
        Some("--upload-pack=evil"),
        std::path::Path::new("/tmp/x"),
    );
    let option_url = git_plan(
        "ws",
        "--upload-pack=evil",
        None,
        std::path::Path::new("/tmp/x"),
    );
    let empty_id = git_plan(" ", "file:///x", None, std::path::Path::new("/tmp/x"));
    for plan in [relative, option_branch, option_url, empty_id] {
        let error = refused(&client, RequestBody::Setup(plan)).await;
        assert_eq!(error.code, ErrorCode::InvalidRequest, "{}", error.message);
    }
    assert_eq!(status(&client).await.state, HostState::Unconfigured);
    assert_eq!(status(&client).await.last_seq, 1);
}

//! Subscribe: replay after a cursor, then live events; no gap, no duplicate, also while
//! events are being appended during the replay; every subscribed client gets every event.

use std::sync::Arc;

use sam_protocol::{EventBody, RequestBody};
use tokio::sync::watch;

use crate::support::{
    Daemon, assert_contiguous, events_until, local_plan, make_repo, ok, refused, status, subscribe,
    within,
};

/// A setup that fails fast, journaling four events.
fn failing_plan(work: &std::path::Path) -> RequestBody {
    RequestBody::Setup(local_plan("ws", &work.join("missing-folder")))
}

#[tokio::test]
async fn attaching_after_n_replays_exactly_the_rest_then_follows_live() {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let writer = daemon.client().await;
    for _ in 0..2 {
        refused(&writer, failing_plan(work.path())).await;
    }
    assert_eq!(status(&writer).await.last_seq, 9);

    let reader = daemon.client().await;
    let (head, mut events) = subscribe(&reader, Some(4)).await;
    assert_eq!(head, 9);
    let replay = events_until(&mut events, 9).await;
    assert_contiguous(&replay, 5, 9);
    assert!(matches!(replay[0].event, EventBody::SetupFailed { .. }));
    assert!(matches!(replay[1].event, EventBody::SetupStarted));

    // Live events continue the sequence.
    ok(&writer, RequestBody::Setup(local_plan("ws", &folder))).await;
    let live = events_until(&mut events, 13).await;
    assert_contiguous(&live, 10, 13);
    assert!(matches!(live[3].event, EventBody::SetupComplete { .. }));

    // A cursor at the head replays nothing; one from the start replays everything.
    let caught_up = daemon.client().await;
    let (head, mut nothing) = subscribe(&caught_up, Some(13)).await;
    assert_eq!(head, 13);
    let all = daemon.client().await;
    let (_, mut everything) = subscribe(&all, None).await;
    assert_contiguous(&events_until(&mut everything, 13).await, 1, 13);
    ok(&writer, RequestBody::Touch).await;
    assert!(
        nothing.try_recv().is_err(),
        "touch journals nothing and nothing was replayed"
    );
}

#[tokio::test]
async fn replay_racing_with_appends_has_no_gap_and_no_duplicate() {
    const ROUNDS: u64 = 15;
    let work = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let socket = daemon.socket();
    let last = 1 + ROUNDS * 4;

    // A second client appends events (and touches) while subscribers attach.
    let (progress_tx, progress) = watch::channel(0_u64);
    let writer = Arc::new(daemon.client().await);
    let appender = tokio::spawn({
        let writer = Arc::clone(&writer);
        let work = work.path().to_path_buf();
        async move {
            for round in 1..=ROUNDS {
                refused(&writer, failing_plan(&work)).await;
                ok(&writer, RequestBody::Touch).await;
                progress_tx.send_replace(round);
            }
        }
    });

    let subscribers: Vec<_> = (0..ROUNDS)
        .step_by(2)
        .map(|round| {
            let socket = socket.clone();
            let mut progress = progress.clone();
            tokio::spawn(async move {
                within(progress.wait_for(|done| *done >= round))
                    .await
                    .unwrap();
                let (client, _) = crate::support::connect_socket(&socket).await;
                // Cursors at, behind and (for round 0) before the start of the journal.
                let after = round * 2;
                let (_, mut events) = subscribe(&client, Some(after)).await;
                let received = events_until(&mut events, last).await;
                assert_contiguous(&received, after + 1, last);
            })
        })
        .collect();

    within(appender).await.unwrap();
    for subscriber in subscribers {
        within(subscriber).await.unwrap();
    }
    assert_eq!(status(&writer).await.last_seq, last);
}

//! Agent sessions on a real daemon with a scripted ACP agent (a Node program speaking ACP on
//! stdio): turns, streaming, permission requests answered from any client, cancel, crashes,
//! hostile agents, silence, expiry, and replay after a disconnect.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sam_protocol::client::HostClient;
use sam_protocol::{
    AgentLaunch, EnvVar, ErrorCode, Event, EventBody, PermissionOutcome, RequestBody, ResponseBody,
    Secret, SessionEvent, StartSession,
};
use tokio::sync::mpsc;

use crate::support::{Daemon, local_plan, make_repo, ok, refused, subscribe, within};

/// The scripted agent (test support in sam-testkit).
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sam-testkit/support/scripted-acp-agent.mjs")
}

fn launch(mode: &str) -> AgentLaunch {
    AgentLaunch {
        agent: "custom".into(),
        argv: vec!["node".into(), script().display().to_string()],
        install: None,
        env: vec![EnvVar {
            name: "SCRIPTED_AGENT_MODE".into(),
            value: Secret::new(mode),
        }],
        in_container: false,
        mode: None,
    }
}

fn start(session: &str, agent: AgentLaunch) -> RequestBody {
    RequestBody::StartSession(StartSession {
        session: session.into(),
        agent,
        context: None,
        first_prompt: None,
    })
}

fn prompt(session: &str, text: &str) -> RequestBody {
    RequestBody::Prompt {
        session: session.into(),
        text: text.into(),
    }
}

/// A ready daemon on a fresh repository, with extra environment for the daemon.
struct Fixture {
    _work: tempfile::TempDir,
    state: tempfile::TempDir,
    folder: PathBuf,
    daemon: Daemon,
}

async fn fixture(env: &[(&str, &str)]) -> (Fixture, HostClient) {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(state.path(), |command| {
        for (name, value) in env {
            command.env(name, value);
        }
    });
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;
    (
        Fixture {
            _work: work,
            state,
            folder,
            daemon,
        },
        client,
    )
}

/// The session events of `session` in `events`.
fn of(events: &[Event], session: &str) -> Vec<SessionEvent> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            EventBody::Session { session: s, event } if s == session => Some(event.clone()),
            _ => None,
        })
        .collect()
}

/// Receives events until `done` holds for one of `session`'s events; returns all received.
async fn until(
    events: &mut mpsc::Receiver<Event>,
    session: &str,
    done: impl Fn(&SessionEvent) -> bool,
) -> Vec<Event> {
    let mut received = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .expect("timed out waiting for a session event")
            .expect("the event stream ended");
        let hit = matches!(&event.event, EventBody::Session { session: s, event } if s == session && done(event));
        received.push(event);
        if hit {
            return received;
        }
    }
}

fn turn_ended(event: &SessionEvent) -> bool {
    matches!(event, SessionEvent::TurnEnded { .. })
}

fn agent_text(events: &[SessionEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Update { update } if update["sessionUpdate"] == "agent_message_chunk" => {
                update["content"]["text"].as_str().map(str::to_owned)
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_turn_streams_journaled_updates_and_ends_with_the_agents_stop_reason() {
    let (_fx, client) = fixture(&[]).await;
    let (_, mut events) = subscribe(&client, None).await;
    let mut agent = launch("normal");
    agent.mode = Some("default".into());
    let opened = ok(&client, start("s1", agent)).await;
    assert!(matches!(opened, ResponseBody::SessionOpened { ref session, .. } if session == "s1"));
    assert!(matches!(
        ok(&client, prompt("s1", "echo hello streaming world")).await,
        ResponseBody::PromptAccepted { prompt: 1 }
    ));
    let received = until(&mut events, "s1", turn_ended).await;
    let session = of(&received, "s1");
    assert_eq!(
        session[0],
        SessionEvent::SessionStarted {
            agent: "custom".into(),
            agent_name: Some("scripted-acp-agent".into()),
            agent_version: Some("1.0.0".into()),
        },
        "the spawned agent is the one asked for"
    );
    // The mode switch reached the agent.
    assert!(session.iter().any(|e| matches!(e,
        SessionEvent::Update { update } if update["sessionUpdate"] == "current_mode_update"
            && update["currentModeId"] == "default")));
    assert!(session.contains(&SessionEvent::PromptSent {
        prompt: 1,
        text: "echo hello streaming world".into()
    }));
    assert_eq!(agent_text(&session), "hello streaming world");
    assert_eq!(
        session.last(),
        Some(&SessionEvent::TurnEnded {
            prompt: 1,
            stop_reason: "end_turn".into(),
            error: None
        })
    );
    // Sequence numbers are strictly increasing, and the turn's end follows every update.
    assert!(received.windows(2).all(|w| w[1].seq == w[0].seq + 1));

    // Tool calls come through verbatim, locations included.
    ok(&client, prompt("s1", "tool src/lib.rs")).await;
    let session = of(&until(&mut events, "s1", turn_ended).await, "s1");
    let tool = session
        .iter()
        .find_map(|e| match e {
            SessionEvent::Update { update } if update["sessionUpdate"] == "tool_call" => {
                Some(update.clone())
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(tool["locations"][0]["path"], "src/lib.rs");
    assert_eq!(tool["locations"][0]["line"], 42);
    assert!(session.iter().any(|e| matches!(e,
        SessionEvent::Update { update } if update["content"][0]["type"] == "diff")));

    match ok(&client, RequestBody::Sessions).await {
        ResponseBody::Sessions { sessions } => {
            assert_eq!(sessions.len(), 1);
            assert!(sessions[0].alive);
            assert_eq!(sessions[0].working_prompt, None);
        }
        other => panic!("expected sessions, got {other:?}"),
    }
}

#[tokio::test]
async fn a_permission_request_waits_and_is_answered_from_another_connection() {
    let (fx, client) = fixture(&[]).await;
    ok(&client, start("s1", launch("normal"))).await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, prompt("s1", "write out.txt hello from the agent")).await;
    let received = until(&mut events, "s1", |e| {
        matches!(e, SessionEvent::PermissionRequested { .. })
    })
    .await;
    let Some(SessionEvent::PermissionRequested {
        request,
        options,
        tool_call,
    }) = of(&received, "s1").pop()
    else {
        panic!("no permission request")
    };
    assert_eq!(tool_call["title"], "Write out.txt");
    let kinds: Vec<&str> = options.iter().map(|o| o.kind.as_str()).collect();
    assert_eq!(kinds, ["allow_once", "allow_always", "reject_once"]);
    // The first client goes away; the request keeps waiting.
    drop(events);
    drop(client);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!fx.folder.join("out.txt").exists());

    let other = fx.daemon.client().await;
    let wrong = refused(
        &other,
        RequestBody::AnswerPermission {
            session: "s1".into(),
            request,
            option_id: "not-offered".into(),
            by: "cli".into(),
        },
    )
    .await;
    assert_eq!(wrong.code, ErrorCode::NotFound);
    assert!(
        wrong.message.contains("allow, allow-always, reject"),
        "{}",
        wrong.message
    );
    let (_, mut events) = subscribe(&other, None).await;
    ok(
        &other,
        RequestBody::AnswerPermission {
            session: "s1".into(),
            request,
            option_id: "allow".into(),
            by: "cli".into(),
        },
    )
    .await;
    let session = of(&until(&mut events, "s1", turn_ended).await, "s1");
    assert!(session.contains(&SessionEvent::PermissionResolved {
        request,
        outcome: PermissionOutcome::Selected {
            option_id: "allow".into(),
            by: "cli".into()
        }
    }));
    assert_eq!(
        std::fs::read_to_string(fx.folder.join("out.txt")).unwrap(),
        "hello from the agent\n"
    );
    // Answered once; a second answer finds nothing open.
    let again = refused(
        &other,
        RequestBody::AnswerPermission {
            session: "s1".into(),
            request,
            option_id: "allow".into(),
            by: "desktop".into(),
        },
    )
    .await;
    assert_eq!(again.code, ErrorCode::NotFound);
}

#[tokio::test]
async fn a_second_prompt_is_refused_while_working_and_cancel_keeps_the_session() {
    let (_fx, client) = fixture(&[]).await;
    ok(&client, start("s1", launch("normal"))).await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, prompt("s1", "slow")).await;
    until(&mut events, "s1", |e| {
        matches!(e, SessionEvent::Update { .. })
    })
    .await;
    let busy = refused(&client, prompt("s1", "echo hi")).await;
    assert_eq!(busy.code, ErrorCode::Busy);
    ok(
        &client,
        RequestBody::Cancel {
            session: "s1".into(),
        },
    )
    .await;
    let session = of(&until(&mut events, "s1", turn_ended).await, "s1");
    assert_eq!(
        session.last(),
        Some(&SessionEvent::TurnEnded {
            prompt: 1,
            stop_reason: "cancelled".into(),
            error: None
        })
    );
    ok(&client, prompt("s1", "echo still here")).await;
    let session = of(&until(&mut events, "s1", turn_ended).await, "s1");
    assert_eq!(agent_text(&session), "still here");
}

#[tokio::test]
async fn cancel_resolves_an_open_permission_request_as_cancelled() {
    let (_fx, client) = fixture(&[]).await;
    ok(&client, start("s1", launch("normal"))).await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, prompt("s1", "permission")).await;
    until(&mut events, "s1", |e| {
        matches!(e, SessionEvent::PermissionRequested { .. })
    })
    .await;
    ok(
        &client,
        RequestBody::Cancel {
            session: "s1".into(),
        },
    )
    .await;
    let session = of(&until(&mut events, "s1", turn_ended).await, "s1");
    assert!(session.contains(&SessionEvent::PermissionResolved {
        request: 1,
        outcome: PermissionOutcome::Cancelled
    }));
    assert!(
        matches!(session.last(), Some(SessionEvent::TurnEnded { stop_reason, .. }) if stop_reason == "cancelled")
    );
}

#[tokio::test]
async fn an_agent_that_crashes_mid_turn_is_reported_with_its_stderr() {
    let (_fx, client) = fixture(&[]).await;
    ok(&client, start("s1", launch("normal"))).await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, prompt("s1", "crash")).await;
    let received = until(&mut events, "s1", |e| {
        matches!(e, SessionEvent::AgentExited { .. })
    })
    .await;
    let mut session = of(&received, "s1");
    if !session.iter().any(turn_ended) {
        session.extend(of(&until(&mut events, "s1", turn_ended).await, "s1"));
    }
    let exited = session
        .iter()
        .find_map(|e| match e {
            SessionEvent::AgentExited { code, stderr_tail } => Some((*code, stderr_tail.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(exited.0, Some(3));
    assert!(exited.1.contains("simulated crash"), "{}", exited.1);
    assert!(session.iter().any(|e| matches!(e,
        SessionEvent::TurnEnded { stop_reason, error: Some(error), .. }
            if stop_reason == "error" && error.contains("exited"))));
    assert_eq!(agent_text(&session), "about to crash");
    let gone = refused(&client, prompt("s1", "echo anyone?")).await;
    assert_eq!(gone.code, ErrorCode::AgentFailed);
}

#[tokio::test]
async fn agents_that_never_initialize_exit_at_once_or_are_missing_fail_clearly() {
    let (_fx, client) = fixture(&[("SAM_AGENT_INIT_TIMEOUT_MS", "700")]).await;
    let (_, mut events) = subscribe(&client, None).await;

    let silent = refused(&client, start("s1", launch("no_initialize"))).await;
    assert_eq!(silent.code, ErrorCode::AgentFailed);
    assert!(
        silent.message.contains("did not initialize"),
        "{}",
        silent.message
    );
    let journaled = of(
        &until(&mut events, "s1", |e| {
            matches!(e, SessionEvent::AgentFailed { .. })
        })
        .await,
        "s1",
    );
    assert!(
        matches!(journaled.last(), Some(SessionEvent::AgentFailed { reason }) if reason.contains("did not initialize"))
    );

    let quitter = refused(&client, start("s2", launch("exit_at_once"))).await;
    assert_eq!(quitter.code, ErrorCode::AgentFailed);
    assert!(
        quitter.message.contains("exiting at once"),
        "stderr is quoted: {}",
        quitter.message
    );

    let mut missing = launch("normal");
    missing.argv = vec!["no-such-agent-program-here".into()];
    let missing = refused(&client, start("s3", missing)).await;
    assert_eq!(missing.code, ErrorCode::AgentFailed);
    assert!(
        missing.message.contains("was not found"),
        "{}",
        missing.message
    );

    let mut bad = launch("normal");
    bad.argv = vec!["--version".into()];
    assert_eq!(
        refused(&client, start("s4", bad)).await.code,
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        refused(&client, start("../../etc", launch("normal")))
            .await
            .code,
        ErrorCode::InvalidRequest
    );
    let mut evil = launch("normal");
    evil.install = Some(sam_protocol::AgentInstall::Npm {
        package: "../../evil".into(),
        version: "1.0.0".into(),
    });
    let evil = refused(&client, start("s5", evil)).await;
    assert_eq!(evil.code, ErrorCode::AgentFailed);
    assert!(
        evil.message.contains("not a valid npm package"),
        "{}",
        evil.message
    );
}

#[tokio::test]
async fn garbage_unknown_kinds_and_huge_messages_are_kept_without_harm() {
    let (fx, client) = fixture(&[]).await;
    ok(&client, start("s1", launch("stdout_garbage"))).await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, prompt("s1", "garbage")).await;
    let mut session = of(&until(&mut events, "s1", turn_ended).await, "s1");
    ok(&client, prompt("s1", "unknown")).await;
    session.extend(of(&until(&mut events, "s1", turn_ended).await, "s1"));
    ok(&client, prompt("s1", "huge 11")).await;
    session.extend(of(&until(&mut events, "s1", turn_ended).await, "s1"));

    let noise: Vec<&String> = session
        .iter()
        .filter_map(|e| match e {
            SessionEvent::ProtocolNoise { detail } => Some(detail),
            _ => None,
        })
        .collect();
    assert!(
        noise
            .iter()
            .any(|d| d.contains("this line is not JSON-RPC")),
        "{noise:?}"
    );
    assert!(
        session.iter().any(|e| matches!(e,
        SessionEvent::Update { update } if update["sessionUpdate"] == "brand_new_kind"
            && update["payload"]["x"] == 1)),
        "an unknown kind is kept verbatim"
    );
    let clipped = session
        .iter()
        .find_map(|e| match e {
            SessionEvent::Update { update } if update.get("_sam").is_some() => Some(update.clone()),
            _ => None,
        })
        .expect("the 11 MiB message is journaled clipped");
    assert!(clipped["_sam"]["clipped_bytes"].as_u64().unwrap() > 11 * 1024 * 1024);
    let saved = PathBuf::from(clipped["_sam"]["saved_as"].as_str().unwrap());
    assert!(saved.starts_with(fx.state.path()));
    assert!(
        std::fs::metadata(&saved).unwrap().len() > 11 * 1024 * 1024,
        "kept whole"
    );
    assert!(
        matches!(session.last(), Some(SessionEvent::TurnEnded { stop_reason, .. }) if stop_reason == "end_turn")
    );
}

#[tokio::test]
async fn a_silent_turn_is_flagged_and_an_unanswered_request_expires() {
    let (_fx, client) = fixture(&[
        ("SAM_AGENT_SILENT_MS", "300"),
        ("SAM_PERMISSION_EXPIRY_MS", "400"),
    ])
    .await;
    ok(&client, start("s1", launch("normal"))).await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, prompt("s1", "silent 1200")).await;
    let session = of(&until(&mut events, "s1", turn_ended).await, "s1");
    let flagged: Vec<&SessionEvent> = session
        .iter()
        .filter(|e| matches!(e, SessionEvent::AgentSilent { .. }))
        .collect();
    assert_eq!(flagged.len(), 1, "flagged once per silence: {session:?}");

    ok(&client, prompt("s1", "permission")).await;
    let session = of(&until(&mut events, "s1", turn_ended).await, "s1");
    assert!(session.contains(&SessionEvent::PermissionResolved {
        request: 1,
        outcome: PermissionOutcome::Expired
    }));
}

#[tokio::test]
async fn a_session_runs_on_without_a_client_and_replays_after_a_cursor() {
    let (fx, client) = fixture(&[]).await;
    ok(&client, start("s1", launch("normal"))).await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, prompt("s1", "stream 3000")).await;
    // Take a few events, then vanish mid-stream.
    let mut seen = Vec::new();
    while seen.len() < 50 {
        seen.push(within(events.recv()).await.unwrap());
    }
    let cursor = seen.last().unwrap().seq;
    drop(events);
    drop(client);

    let again = fx.daemon.client().await;
    let (_, mut events) = subscribe(&again, Some(cursor)).await;
    let rest = until(&mut events, "s1", turn_ended).await;
    assert_eq!(rest[0].seq, cursor + 1, "no gap");
    assert!(
        rest.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "no gap, no duplicate"
    );
    let mut all = seen;
    all.extend(rest);
    let text = agent_text(&of(&all, "s1"));
    let expected: String = (0..3000).map(|i| format!("chunk {i}\n")).collect();
    assert_eq!(text, expected);
}

#[tokio::test]
async fn ten_thousand_updates_are_all_journaled_in_order() {
    let (_fx, client) = fixture(&[]).await;
    ok(&client, start("s1", launch("normal"))).await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, prompt("s1", "flood 10000")).await;
    let session = of(&until(&mut events, "s1", turn_ended).await, "s1");
    let updates = session
        .iter()
        .filter(|e| {
            matches!(e, SessionEvent::Update { update }
            if update["sessionUpdate"] == "agent_message_chunk"
                || update["sessionUpdate"] == "agent_thought_chunk")
        })
        .count();
    assert_eq!(updates, 10_000);
}

#[tokio::test]
async fn credentials_reach_the_agent_process_and_nothing_on_disk() {
    let (fx, client) = fixture(&[]).await;
    let secret = "sk-ant-session-only-4f1c9d";
    let mut agent = launch("normal");
    agent.env.push(EnvVar {
        name: "ANTHROPIC_API_KEY".into(),
        value: Secret::new(secret),
    });
    ok(&client, start("s1", agent)).await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, prompt("s1", "envlen ANTHROPIC_API_KEY")).await;
    let session = of(&until(&mut events, "s1", turn_ended).await, "s1");
    assert_eq!(agent_text(&session), format!("length {}", secret.len()));
    ok(
        &client,
        RequestBody::StopSession {
            session: "s1".into(),
        },
    )
    .await;
    until(&mut events, "s1", |e| {
        matches!(e, SessionEvent::AgentExited { .. })
    })
    .await;
    for entry in walk(fx.state.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the secret is in {}",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.is_file() {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn sessions_a_stopped_daemon_was_running_are_closed_by_the_next_one() {
    let (fx, client) = fixture(&[]).await;
    ok(&client, start("s1", launch("normal"))).await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, prompt("s1", "permission")).await;
    let seen = until(&mut events, "s1", |e| {
        matches!(e, SessionEvent::PermissionRequested { .. })
    })
    .await;
    let cursor = seen.last().unwrap().seq;
    drop(events);
    drop(client);
    let Fixture {
        _work,
        state,
        daemon,
        ..
    } = fx;
    daemon.stop();

    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let (_, mut events) = subscribe(&client, Some(cursor)).await;
    let closing = of(
        &until(&mut events, "s1", |e| {
            matches!(e, SessionEvent::AgentExited { .. })
        })
        .await,
        "s1",
    );
    assert_eq!(
        closing[..2],
        [
            SessionEvent::PermissionResolved {
                request: 1,
                outcome: PermissionOutcome::Cancelled
            },
            SessionEvent::TurnEnded {
                prompt: 1,
                stop_reason: "error".into(),
                error: Some("sam-host stopped during the turn; the agent stopped with it".into()),
            },
        ]
    );
    assert!(
        matches!(&closing[2], SessionEvent::AgentExited { code: None, stderr_tail } if stderr_tail.contains("restart the session"))
    );
    assert_eq!(
        refused(&client, prompt("s1", "echo hi")).await.code,
        ErrorCode::NotFound
    );
    drop(events);
    drop(client);
    daemon.stop();

    // Closed once: a third daemon finds nothing left to close.
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let (head, mut all) = subscribe(&client, Some(0)).await;
    let every = crate::support::events_until(&mut all, head).await;
    let exits = of(&every, "s1")
        .iter()
        .filter(|e| matches!(e, SessionEvent::AgentExited { .. }))
        .count();
    assert_eq!(exits, 1);
}

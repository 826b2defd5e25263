//! The wire format pinned as JSON, the frame limit, and the client against a scripted host
//! over in-memory pipes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::time::Duration;

use sam_protocol::client::{ClientError, HostClient};
use sam_protocol::frame::{self, FrameError, FrameReader};
use sam_protocol::{
    ClientMessage, ContainerEngine, DevContainer, ErrorCode, Event, EventBody, FileContent, Hello,
    HostMessage, HostState, HostStatus, Incompatible, MAX_FRAME_BYTES, PROTOCOL_VERSION,
    ProtocolError, RepoSource, Request, RequestBody, Response, ResponseBody, Secret, SetupPlan,
    Welcome, step,
};
use serde_json::json;
use tokio::io::{AsyncWriteExt, DuplexStream};

const DEADLINE: Duration = Duration::from_secs(10);

fn assert_wire<T>(message: &T, expected: serde_json::Value)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let line = frame::encode(message).unwrap();
    assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'));
    let actual: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(actual, expected);
    let back: T = serde_json::from_value(expected).unwrap();
    assert_eq!(&back, message);
}

#[test]
fn client_messages_have_a_pinned_wire_form() {
    assert_wire(
        &ClientMessage::Hello(Hello {
            protocol: 1,
            client: "sam-desktop 0.1.0".into(),
        }),
        json!({"type": "hello", "protocol": 1, "client": "sam-desktop 0.1.0"}),
    );
    assert_wire(
        &ClientMessage::Request(Request {
            id: 7,
            body: RequestBody::ReadFile {
                path: "src/main.rs".into(),
                max_bytes: 4096,
            },
        }),
        json!({"type": "request", "id": 7,
               "body": {"kind": "read_file", "path": "src/main.rs", "max_bytes": 4096}}),
    );
    assert_wire(
        &ClientMessage::Request(Request {
            id: 8,
            body: RequestBody::Subscribe { after: Some(41) },
        }),
        json!({"type": "request", "id": 8, "body": {"kind": "subscribe", "after": 41}}),
    );
    assert_wire(
        &ClientMessage::Request(Request {
            id: 9,
            body: RequestBody::Setup(SetupPlan {
                workspace_id: "ws-1".into(),
                repository: RepoSource::GitUrl {
                    url: "https://example.com/r.git".into(),
                    branch: Some("main".into()),
                },
                checkout_dir: "/home/sam/ws-1".into(),
                git_token: Some(Secret::new("ghp_wire")),
            }),
        }),
        json!({"type": "request", "id": 9, "body": {
            "kind": "setup", "workspace_id": "ws-1",
            "repository": {"kind": "git_url", "url": "https://example.com/r.git", "branch": "main"},
            "checkout_dir": "/home/sam/ws-1", "git_token": "ghp_wire"}}),
    );
    assert_wire(
        &ClientMessage::Request(Request {
            id: 10,
            body: RequestBody::Setup(SetupPlan {
                workspace_id: "ws-2".into(),
                repository: RepoSource::LocalPath {
                    path: "/srv/code".into(),
                },
                checkout_dir: "/srv/code".into(),
                git_token: None,
            }),
        }),
        json!({"type": "request", "id": 10, "body": {
            "kind": "setup", "workspace_id": "ws-2",
            "repository": {"kind": "local_path", "path": "/srv/code"},
            "checkout_dir": "/srv/code"}}),
    );
    for (body, kind) in [
        (RequestBody::Ping, "ping"),
        (RequestBody::Status, "status"),
        (RequestBody::Touch, "touch"),
    ] {
        assert_wire(
            &ClientMessage::Request(Request { id: 1, body }),
            json!({"type": "request", "id": 1, "body": {"kind": kind}}),
        );
    }
}

#[test]
fn host_messages_have_a_pinned_wire_form() {
    assert_wire(
        &HostMessage::Welcome(Welcome {
            protocol: 1,
            host_version: "0.1.0".into(),
            state: HostState::Failed {
                reason: "no git".into(),
            },
        }),
        json!({"type": "welcome", "protocol": 1, "host_version": "0.1.0",
               "state": {"state": "failed", "reason": "no git"}}),
    );
    assert_wire(
        &HostMessage::Incompatible(Incompatible {
            host_protocol: 1,
            message: "update".into(),
        }),
        json!({"type": "incompatible", "host_protocol": 1, "message": "update"}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 3,
            result: Ok(ResponseBody::Subscribed { head_seq: 12 }),
        }),
        json!({"type": "response", "id": 3, "result": {"ok": {"kind": "subscribed", "head_seq": 12}}}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 4,
            result: Err(ProtocolError::new(ErrorCode::QueueFull, "too many")),
        }),
        json!({"type": "response", "id": 4, "result": {"err": {"code": "queue_full", "message": "too many"}}}),
    );
    assert_wire(
        &HostMessage::Event(Event {
            seq: 5,
            at_ms: 1_700_000_000_000,
            event: EventBody::StepFinished {
                step: "clone".into(),
                millis: 250,
                detail: None,
            },
        }),
        json!({"type": "event", "seq": 5, "at_ms": 1_700_000_000_000_u64,
               "event": {"kind": "step_finished", "step": "clone", "millis": 250}}),
    );
    assert_wire(
        &HostMessage::Event(Event {
            seq: 6,
            at_ms: 1_700_000_000_001,
            event: EventBody::StepFinished {
                step: step::DEVCONTAINER.into(),
                millis: 40,
                detail: Some("skipped: no container engine".into()),
            },
        }),
        json!({"type": "event", "seq": 6, "at_ms": 1_700_000_000_001_u64,
               "event": {"kind": "step_finished", "step": "devcontainer", "millis": 40,
                         "detail": "skipped: no container engine"}}),
    );
    assert_wire(
        &HostMessage::Fatal(ProtocolError::new(
            ErrorCode::InvalidRequest,
            "frame too long",
        )),
        json!({"type": "fatal", "code": "invalid_request", "message": "frame too long"}),
    );
    let codes = [
        (ErrorCode::InvalidRequest, "invalid_request"),
        (ErrorCode::NotReady, "not_ready"),
        (ErrorCode::SetupFailed, "setup_failed"),
        (ErrorCode::QueueFull, "queue_full"),
        (ErrorCode::NotFound, "not_found"),
        (ErrorCode::Io, "io"),
        (ErrorCode::Internal, "internal"),
        (ErrorCode::Incompatible, "incompatible"),
        (ErrorCode::TimedOut, "timed_out"),
    ];
    for (code, text) in codes {
        assert_eq!(serde_json::to_value(code).unwrap(), json!(text));
        assert_eq!(code.as_str(), text);
    }
}

#[test]
fn run_has_a_pinned_wire_form() {
    assert_wire(
        &ClientMessage::Request(Request {
            id: 11,
            body: RequestBody::Run {
                argv: vec!["cat".into(), "/etc/debian_version".into()],
                in_container: true,
                timeout_ms: 30_000,
            },
        }),
        json!({"type": "request", "id": 11, "body": {
            "kind": "run", "argv": ["cat", "/etc/debian_version"], "in_container": true,
            "timeout_ms": 30000}}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 11,
            result: Ok(ResponseBody::Ran {
                status: 0,
                stdout: "12.11\n".into(),
                stdout_truncated: false,
                stderr_tail: String::new(),
            }),
        }),
        json!({"type": "response", "id": 11, "result": {"ok": {
            "kind": "ran", "status": 0, "stdout": "12.11\n", "stdout_truncated": false,
            "stderr_tail": ""}}}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 12,
            result: Err(ProtocolError::new(ErrorCode::TimedOut, "too slow")),
        }),
        json!({"type": "response", "id": 12, "result": {"err": {"code": "timed_out", "message": "too slow"}}}),
    );
}

#[test]
fn host_status_carries_the_dev_container_and_reads_older_hosts() {
    let mut status = HostStatus {
        state: HostState::Ready,
        host_version: "0.1.0".into(),
        pid: 42,
        workspace_id: Some("ws-1".into()),
        checkout_dir: Some("/home/sam/ws-1".into()),
        last_seq: 7,
        queued_requests: 0,
        container: None,
    };
    // A host without a dev container sends what hosts before dev containers sent.
    let older = json!({"state": {"state": "ready"}, "host_version": "0.1.0", "pid": 42,
                       "workspace_id": "ws-1", "checkout_dir": "/home/sam/ws-1",
                       "last_seq": 7, "queued_requests": 0});
    assert_wire(&ResponseBody::Status(status.clone()), {
        let mut body = older.clone();
        body["kind"] = json!("status");
        body
    });
    status.container = Some(DevContainer {
        engine: ContainerEngine::Podman,
        container_id: "3477bb438c62".into(),
        remote_user: "root".into(),
        remote_workspace_folder: "/workspaces/ws-1".into(),
    });
    let mut with_container = older;
    with_container["kind"] = json!("status");
    with_container["container"] = json!({"engine": "podman", "container_id": "3477bb438c62",
                                         "remote_user": "root",
                                         "remote_workspace_folder": "/workspaces/ws-1"});
    assert_wire(&ResponseBody::Status(status), with_container);
}

#[test]
fn secrets_never_print() {
    let plan = SetupPlan {
        workspace_id: "ws".into(),
        repository: RepoSource::GitUrl {
            url: "https://example.com/r.git".into(),
            branch: None,
        },
        checkout_dir: "/w".into(),
        git_token: Some(Secret::new("ghp_dont_print_me")),
    };
    let debug = format!("{plan:?} {:?}", RequestBody::Setup(plan.clone()));
    assert!(!debug.contains("ghp_dont_print_me"), "{debug}");
    assert!(debug.contains("<redacted>"));
    assert_eq!(format!("{}", Secret::new("x")), "<redacted>");
    let other_token = SetupPlan {
        git_token: Some(Secret::new("another")),
        ..plan.clone()
    };
    assert!(plan.same_target(&other_token));
}

#[test]
fn file_content_round_trips_text_and_binary() {
    let text = FileContent::from_bytes(b"hello\n".to_vec());
    assert!(matches!(text, FileContent::Utf8 { .. }));
    assert_eq!(text.to_bytes().unwrap(), b"hello\n");
    let binary = FileContent::from_bytes(vec![0xff, 0, 1, 2]);
    assert!(matches!(binary, FileContent::Base64 { .. }));
    assert_eq!(binary.to_bytes().unwrap(), vec![0xff, 0, 1, 2]);
}

#[tokio::test]
async fn a_frame_over_the_limit_is_an_error_not_an_allocation() {
    let (mut writer, reader) = tokio::io::duplex(64 * 1024);
    let feeder = tokio::spawn(async move {
        let chunk = vec![b'x'; 1024 * 1024];
        // 17 MiB and never a newline: the reader must give up at 16 MiB.
        for _ in 0..17 {
            if writer.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = writer.write_all(b"\n").await;
    });
    let mut frames = FrameReader::new(reader);
    let result = tokio::time::timeout(DEADLINE, frames.next_line())
        .await
        .unwrap();
    assert!(matches!(result, Err(FrameError::TooLong)), "{result:?}");
    feeder.abort();

    let oversized = "y".repeat(MAX_FRAME_BYTES);
    assert!(matches!(
        frame::encode(&oversized),
        Err(FrameError::TooLong)
    ));
}

#[tokio::test]
async fn a_frame_at_the_limit_is_accepted() {
    let (mut writer, reader) = tokio::io::duplex(1024 * 1024);
    let feeder = tokio::spawn(async move {
        let line = vec![b'z'; MAX_FRAME_BYTES];
        writer.write_all(&line).await.unwrap();
        writer.write_all(b"\n{\"a\":1}\n").await.unwrap();
    });
    let mut frames = FrameReader::new(reader);
    let line = frames.next_line().await.unwrap().unwrap();
    assert_eq!(line.len(), MAX_FRAME_BYTES);
    let next: serde_json::Value = frames.next().await.unwrap().unwrap();
    assert_eq!(next, json!({"a": 1}));
    feeder.await.unwrap();
}

/// The far side of an in-memory connection, speaking as the host.
struct ScriptedHost {
    frames: FrameReader<tokio::io::ReadHalf<DuplexStream>>,
    writer: tokio::io::WriteHalf<DuplexStream>,
}

impl ScriptedHost {
    async fn next(&mut self) -> ClientMessage {
        tokio::time::timeout(DEADLINE, self.frames.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    }

    async fn next_request(&mut self) -> Request {
        match self.next().await {
            ClientMessage::Request(request) => request,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    async fn send(&mut self, message: HostMessage) {
        frame::write_frame(&mut self.writer, &message)
            .await
            .unwrap();
    }
}

/// A client connected to a scripted host that has answered the hello with `answer`.
async fn pair(answer: HostMessage) -> (Result<HostClient, ClientError>, ScriptedHost) {
    let (client_side, host_side) = tokio::io::duplex(1024 * 1024);
    let (client_read, client_write) = tokio::io::split(client_side);
    let (host_read, host_write) = tokio::io::split(host_side);
    let mut host = ScriptedHost {
        frames: FrameReader::new(host_read),
        writer: host_write,
    };
    let connecting = tokio::spawn(async move {
        HostClient::connect(client_read, client_write, "test-client")
            .await
            .map(|(client, welcome)| {
                assert_eq!(welcome.protocol, PROTOCOL_VERSION);
                client
            })
    });
    match host.next().await {
        ClientMessage::Hello(hello) => {
            assert_eq!(hello.protocol, PROTOCOL_VERSION);
            assert_eq!(hello.client, "test-client");
        }
        other => panic!("expected hello, got {other:?}"),
    }
    host.send(answer).await;
    (connecting.await.unwrap(), host)
}

fn welcome() -> HostMessage {
    HostMessage::Welcome(Welcome {
        protocol: PROTOCOL_VERSION,
        host_version: "test".into(),
        state: HostState::Ready,
    })
}

#[tokio::test]
async fn concurrent_requests_are_matched_by_id_whatever_the_answer_order() {
    let (client, mut host) = pair(welcome()).await;
    let client = std::sync::Arc::new(client.unwrap());
    let ping = tokio::spawn({
        let client = client.clone();
        async move { client.request(RequestBody::Ping).await }
    });
    let touch = tokio::spawn({
        let client = client.clone();
        async move { client.request(RequestBody::Touch).await }
    });
    let first = host.next_request().await;
    let second = host.next_request().await;
    assert_ne!(first.id, second.id);
    // Answer in reverse order; each caller must still get its own answer.
    for request in [&second, &first] {
        let body = match request.body {
            RequestBody::Ping => ResponseBody::Pong,
            RequestBody::Touch => ResponseBody::Touched { at_ms: 1 },
            ref other => panic!("unexpected {other:?}"),
        };
        host.send(HostMessage::Response(Response {
            id: request.id,
            result: Ok(body),
        }))
        .await;
    }
    assert_eq!(ping.await.unwrap().unwrap(), ResponseBody::Pong);
    assert_eq!(
        touch.await.unwrap().unwrap(),
        ResponseBody::Touched { at_ms: 1 }
    );

    let failing = tokio::spawn({
        let client = client.clone();
        async move { client.request(RequestBody::Status).await }
    });
    let request = host.next_request().await;
    host.send(HostMessage::Response(Response {
        id: request.id,
        result: Err(ProtocolError::new(ErrorCode::NotReady, "later")),
    }))
    .await;
    match failing.await.unwrap() {
        Err(ClientError::Host(error)) => assert_eq!(error.code, ErrorCode::NotReady),
        other => panic!("expected a host error, got {other:?}"),
    }
}

#[tokio::test]
async fn events_reach_the_receiver_in_order() {
    let (client, mut host) = pair(welcome()).await;
    let client = client.unwrap();
    let mut events = client.events().unwrap();
    assert!(client.events().is_none(), "the receiver is handed out once");
    for seq in 1..=3 {
        host.send(HostMessage::Event(Event {
            seq,
            at_ms: 0,
            event: EventBody::SetupStarted,
        }))
        .await;
    }
    for seq in 1..=3 {
        let event = tokio::time::timeout(DEADLINE, events.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(event.seq, seq);
    }
}

#[tokio::test]
async fn a_dropped_connection_fails_every_pending_request() {
    let (client, mut host) = pair(welcome()).await;
    let client = std::sync::Arc::new(client.unwrap());
    let pending: Vec<_> = (0..5)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.request(RequestBody::Status).await })
        })
        .collect();
    for _ in 0..5 {
        host.next_request().await;
    }
    drop(host);
    for request in pending {
        let result = tokio::time::timeout(DEADLINE, request)
            .await
            .unwrap()
            .unwrap();
        match result {
            Err(ClientError::Disconnected(reason)) => {
                assert!(reason.contains("closed"), "{reason}");
            }
            other => panic!("expected a disconnect, got {other:?}"),
        }
    }
    assert!(!client.is_connected());
    let later = client.request(RequestBody::Ping).await;
    assert!(
        matches!(later, Err(ClientError::Disconnected(_))),
        "{later:?}"
    );
    let mut events = client.events().unwrap();
    assert!(events.recv().await.is_none(), "the event stream ends too");
}

#[tokio::test]
async fn a_fatal_frame_names_the_reason() {
    let (client, mut host) = pair(welcome()).await;
    let client = std::sync::Arc::new(client.unwrap());
    let pending = tokio::spawn({
        let client = client.clone();
        async move { client.request(RequestBody::Ping).await }
    });
    host.next_request().await;
    host.send(HostMessage::Fatal(ProtocolError::new(
        ErrorCode::InvalidRequest,
        "frame too long",
    )))
    .await;
    match pending.await.unwrap() {
        Err(ClientError::Disconnected(reason)) => assert!(reason.contains("frame too long")),
        other => panic!("expected a disconnect, got {other:?}"),
    }
}

#[tokio::test]
async fn an_incompatible_host_is_reported() {
    let (client, _host) = pair(HostMessage::Incompatible(Incompatible {
        host_protocol: 99,
        message: "update the app".into(),
    }))
    .await;
    match client {
        Err(ClientError::Incompatible {
            host_protocol,
            message,
        }) => {
            assert_eq!(host_protocol, 99);
            assert_eq!(message, "update the app");
        }
        other => panic!("expected incompatible, got {other:?}"),
    }
}

#[test]
fn session_messages_have_a_pinned_wire_form() {
    use sam_protocol::{
        AgentInstall, AgentLaunch, EnvVar, PermissionOption, PermissionOutcome, SessionEvent,
        SessionStatus, StartSession,
    };
    assert_wire(
        &ClientMessage::Request(Request {
            id: 3,
            body: RequestBody::StartSession(StartSession {
                session: "s-1".into(),
                agent: AgentLaunch {
                    agent: "claude".into(),
                    argv: vec!["claude-agent-acp".into()],
                    install: Some(AgentInstall::Npm {
                        package: "@agentclientprotocol/claude-agent-acp".into(),
                        version: "0.101.0".into(),
                    }),
                    env: vec![EnvVar {
                        name: "ANTHROPIC_API_KEY".into(),
                        value: Secret::new("sk-wire"),
                    }],
                    in_container: true,
                    mode: Some("default".into()),
                },
                context: None,
                first_prompt: None,
            }),
        }),
        json!({"type": "request", "id": 3, "body": {"kind": "start_session", "session": "s-1",
            "agent": {"agent": "claude", "argv": ["claude-agent-acp"],
                "install": {"kind": "npm", "package": "@agentclientprotocol/claude-agent-acp",
                            "version": "0.101.0"},
                "env": [{"name": "ANTHROPIC_API_KEY", "value": "sk-wire"}],
                "in_container": true, "mode": "default"}}}),
    );
    assert_wire(
        &ClientMessage::Request(Request {
            id: 4,
            body: RequestBody::AnswerPermission {
                session: "s-1".into(),
                request: 2,
                option_id: "allow".into(),
                by: "cli".into(),
            },
        }),
        json!({"type": "request", "id": 4, "body": {"kind": "answer_permission",
            "session": "s-1", "request": 2, "option_id": "allow", "by": "cli"}}),
    );
    assert_wire(
        &HostMessage::Event(Event {
            seq: 9,
            at_ms: 1,
            event: EventBody::Session {
                session: "s-1".into(),
                event: SessionEvent::PermissionRequested {
                    request: 2,
                    tool_call: json!({"toolCallId": "t"}),
                    options: vec![PermissionOption {
                        option_id: "allow".into(),
                        name: "Allow once".into(),
                        kind: "allow_once".into(),
                    }],
                },
            },
        }),
        json!({"type": "event", "seq": 9, "at_ms": 1, "event": {"kind": "session",
            "session": "s-1", "event": {"kind": "permission_requested", "request": 2,
            "tool_call": {"toolCallId": "t"},
            "options": [{"option_id": "allow", "name": "Allow once", "kind": "allow_once"}]}}}),
    );
    assert_wire(
        &HostMessage::Event(Event {
            seq: 10,
            at_ms: 2,
            event: EventBody::Session {
                session: "s-1".into(),
                event: SessionEvent::PermissionResolved {
                    request: 2,
                    outcome: PermissionOutcome::Selected {
                        option_id: "allow".into(),
                        by: "desktop".into(),
                    },
                },
            },
        }),
        json!({"type": "event", "seq": 10, "at_ms": 2, "event": {"kind": "session",
            "session": "s-1", "event": {"kind": "permission_resolved", "request": 2,
            "outcome": {"outcome": "selected", "option_id": "allow", "by": "desktop"}}}}),
    );
    // Resuming a session after a host restart (additive: new kinds, same protocol version).
    assert_wire(
        &ClientMessage::Request(Request {
            id: 5,
            body: RequestBody::ResumeSession {
                session: "s-1".into(),
                env: vec![EnvVar {
                    name: "ANTHROPIC_API_KEY".into(),
                    value: Secret::new("sk-wire"),
                }],
            },
        }),
        json!({"type": "request", "id": 5, "body": {"kind": "resume_session", "session": "s-1",
            "env": [{"name": "ANTHROPIC_API_KEY", "value": "sk-wire"}]}}),
    );
    assert!(
        !format!(
            "{:?}",
            RequestBody::ResumeSession {
                session: "s-1".into(),
                env: vec![EnvVar {
                    name: "K".into(),
                    value: Secret::new("sk-wire"),
                }],
            }
        )
        .contains("sk-wire")
    );
    assert_wire(
        &HostMessage::Event(Event {
            seq: 11,
            at_ms: 3,
            event: EventBody::Session {
                session: "s-1".into(),
                event: SessionEvent::AgentSuspended {
                    reason: "sam-host stopped".into(),
                },
            },
        }),
        json!({"type": "event", "seq": 11, "at_ms": 3, "event": {"kind": "session",
            "session": "s-1", "event": {"kind": "agent_suspended", "reason": "sam-host stopped"}}}),
    );
    assert_wire(
        &HostMessage::Event(Event {
            seq: 12,
            at_ms: 4,
            event: EventBody::Session {
                session: "s-1".into(),
                event: SessionEvent::SessionResumed {
                    agent_name: Some("claude-agent-acp".into()),
                    agent_version: None,
                    replayed: 7,
                },
            },
        }),
        json!({"type": "event", "seq": 12, "at_ms": 4, "event": {"kind": "session",
            "session": "s-1", "event": {"kind": "session_resumed",
            "agent_name": "claude-agent-acp", "agent_version": null, "replayed": 7}}}),
    );
    // A session list from an older host (no `resumable`) still reads; `false` is not written.
    let running = SessionStatus {
        session: "s-1".into(),
        agent: "claude".into(),
        alive: true,
        working_prompt: Some(2),
        open_requests: vec![1],
        resumable: false,
    };
    assert_wire(
        &running,
        json!({"session": "s-1", "agent": "claude", "alive": true, "working_prompt": 2,
            "open_requests": [1]}),
    );
    assert_wire(
        &SessionStatus {
            alive: false,
            working_prompt: None,
            open_requests: vec![],
            resumable: true,
            ..running
        },
        json!({"session": "s-1", "agent": "claude", "alive": false, "working_prompt": null,
            "open_requests": [], "resumable": true}),
    );
    // The secret in a launch never prints.
    let launch = format!(
        "{:?}",
        EnvVar {
            name: "K".into(),
            value: Secret::new("sk-wire")
        }
    );
    assert!(!launch.contains("sk-wire"));
}

#[test]
fn workspace_path_messages_have_a_pinned_wire_form() {
    use sam_protocol::{
        FileMatch, FoundFiles, FoundPath, MAX_FIND_FILES, MAX_RESOLVE_PATHS, PathKind,
        PathResolution, ResolvedPath,
    };
    assert_wire(
        &ClientMessage::Request(Request {
            id: 21,
            body: RequestBody::ResolvePaths {
                paths: vec!["src/api/upload.rs".into(), "../etc/passwd".into()],
            },
        }),
        json!({"type": "request", "id": 21, "body": {"kind": "resolve_paths",
            "paths": ["src/api/upload.rs", "../etc/passwd"]}}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 21,
            result: Ok(ResponseBody::ResolvedPaths {
                paths: vec![
                    ResolvedPath {
                        requested: "./src/api/upload.rs".into(),
                        resolution: PathResolution::Found(FoundPath {
                            relative: "src/api/upload.rs".into(),
                            absolute: "/home/sam/ws-1/src/api/upload.rs".into(),
                            kind: PathKind::File,
                        }),
                    },
                    ResolvedPath {
                        requested: "src".into(),
                        resolution: PathResolution::Found(FoundPath {
                            relative: "src".into(),
                            absolute: "/home/sam/ws-1/src".into(),
                            kind: PathKind::Directory,
                        }),
                    },
                    ResolvedPath {
                        requested: "src/gone.rs".into(),
                        resolution: PathResolution::Missing,
                    },
                    ResolvedPath {
                        requested: "../etc/passwd".into(),
                        resolution: PathResolution::Refused {
                            reason: "climbs out of the workspace".into(),
                        },
                    },
                ],
            }),
        }),
        json!({"type": "response", "id": 21, "result": {"ok": {"kind": "resolved_paths",
            "paths": [
                {"requested": "./src/api/upload.rs", "resolution": {"status": "found",
                    "relative": "src/api/upload.rs",
                    "absolute": "/home/sam/ws-1/src/api/upload.rs", "kind": "file"}},
                {"requested": "src", "resolution": {"status": "found", "relative": "src",
                    "absolute": "/home/sam/ws-1/src", "kind": "directory"}},
                {"requested": "src/gone.rs", "resolution": {"status": "missing"}},
                {"requested": "../etc/passwd", "resolution": {"status": "refused",
                    "reason": "climbs out of the workspace"}}]}}}),
    );
    assert_wire(
        &ClientMessage::Request(Request {
            id: 22,
            body: RequestBody::FindFiles {
                query: "uplrs".into(),
                limit: 50,
            },
        }),
        json!({"type": "request", "id": 22, "body": {"kind": "find_files", "query": "uplrs",
            "limit": 50}}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 22,
            result: Ok(ResponseBody::FoundFiles(FoundFiles {
                matches: vec![FileMatch {
                    path: "src/api/upload.rs".into(),
                    score: 112,
                    positions: vec![8, 9, 10, 15, 16],
                }],
                indexed_files: 100_000,
                index_age_ms: 1_250,
                truncated_index: false,
            })),
        }),
        json!({"type": "response", "id": 22, "result": {"ok": {"kind": "found_files",
            "matches": [{"path": "src/api/upload.rs", "score": 112,
                         "positions": [8, 9, 10, 15, 16]}],
            "indexed_files": 100000, "index_age_ms": 1250, "truncated_index": false}}}),
    );
    assert_eq!(
        RequestBody::ResolvePaths { paths: vec![] }.kind(),
        "resolve_paths"
    );
    assert_eq!(
        RequestBody::FindFiles {
            query: String::new(),
            limit: 0
        }
        .kind(),
        "find_files"
    );
    assert_eq!((MAX_RESOLVE_PATHS, MAX_FIND_FILES), (256, 200));
}

#[test]
fn review_and_ship_messages_have_a_pinned_wire_form() {
    use sam_protocol::{ChangeStatus, ChangedFile, Changes, FileDiff, Shipped};
    assert_wire(
        &ClientMessage::Request(Request {
            id: 31,
            body: RequestBody::Changes { base: None },
        }),
        json!({"type": "request", "id": 31, "body": {"kind": "changes"}}),
    );
    assert_wire(
        &ClientMessage::Request(Request {
            id: 32,
            body: RequestBody::Changes {
                base: Some("HEAD~2".into()),
            },
        }),
        json!({"type": "request", "id": 32, "body": {"kind": "changes", "base": "HEAD~2"}}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 31,
            result: Ok(ResponseBody::Changes(Changes {
                base: "0123456789abcdef0123456789abcdef01234567".into(),
                files: vec![
                    ChangedFile {
                        path: "src/new.rs".into(),
                        status: ChangeStatus::Renamed,
                        old_path: Some("src/old.rs".into()),
                        binary: false,
                        insertions: 2,
                        deletions: 1,
                    },
                    ChangedFile {
                        path: "logo.png".into(),
                        status: ChangeStatus::Added,
                        old_path: None,
                        binary: true,
                        insertions: 0,
                        deletions: 0,
                    },
                ],
                total_files: 3,
                insertions: 12,
                deletions: 1,
                truncated: true,
            })),
        }),
        json!({"type": "response", "id": 31, "result": {"ok": {"kind": "changes",
            "base": "0123456789abcdef0123456789abcdef01234567",
            "files": [
                {"path": "src/new.rs", "status": "renamed", "old_path": "src/old.rs",
                 "binary": false, "insertions": 2, "deletions": 1},
                {"path": "logo.png", "status": "added", "binary": true, "insertions": 0,
                 "deletions": 0}],
            "total_files": 3, "insertions": 12, "deletions": 1, "truncated": true}}}),
    );
    for (status, wire) in [
        (ChangeStatus::Added, "added"),
        (ChangeStatus::Modified, "modified"),
        (ChangeStatus::Deleted, "deleted"),
        (ChangeStatus::Renamed, "renamed"),
        (ChangeStatus::Copied, "copied"),
    ] {
        assert_eq!(serde_json::to_value(status).unwrap(), json!(wire));
    }
    assert_wire(
        &ClientMessage::Request(Request {
            id: 33,
            body: RequestBody::FileDiff {
                path: "src/new.rs".into(),
                old_path: Some("src/old.rs".into()),
                base: None,
                turn: None,
            },
        }),
        json!({"type": "request", "id": 33, "body": {"kind": "file_diff",
            "path": "src/new.rs", "old_path": "src/old.rs"}}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 33,
            result: Ok(ResponseBody::FileDiff(FileDiff {
                path: "src/new.rs".into(),
                old_path: Some("src/old.rs".into()),
                status: ChangeStatus::Renamed,
                base: "0123456789abcdef0123456789abcdef01234567".into(),
                binary: false,
                insertions: 1,
                deletions: 1,
                diff: "diff --git a/src/old.rs b/src/new.rs\n@@ -1 +1 @@\n-a\n+b\n".into(),
                truncated: false,
            })),
        }),
        json!({"type": "response", "id": 33, "result": {"ok": {"kind": "file_diff",
            "path": "src/new.rs", "old_path": "src/old.rs", "status": "renamed",
            "base": "0123456789abcdef0123456789abcdef01234567", "binary": false,
            "insertions": 1, "deletions": 1,
            "diff": "diff --git a/src/old.rs b/src/new.rs\n@@ -1 +1 @@\n-a\n+b\n",
            "truncated": false}}}),
    );
    assert_wire(
        &ClientMessage::Request(Request {
            id: 34,
            body: RequestBody::Ship {
                message: "Fix the upload retry".into(),
                branch: None,
                push: true,
                token: Some(Secret::new("ghp_wire")),
            },
        }),
        json!({"type": "request", "id": 34, "body": {"kind": "ship",
            "message": "Fix the upload retry", "push": true, "token": "ghp_wire"}}),
    );
    assert_wire(
        &ClientMessage::Request(Request {
            id: 35,
            body: RequestBody::Ship {
                message: "m".into(),
                branch: Some("sam/x".into()),
                push: false,
                token: None,
            },
        }),
        json!({"type": "request", "id": 35, "body": {"kind": "ship", "message": "m",
            "branch": "sam/x", "push": false}}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 34,
            result: Ok(ResponseBody::Shipped(Shipped {
                branch: "sam/fix-the-upload-retry".into(),
                commit: "89abcdef0123456789abcdef0123456789abcdef".into(),
                committed: true,
                remote_url: Some("https://github.com/o/r.git".into()),
                pushed: false,
                push_error: Some("remote: Permission denied".into()),
            })),
        }),
        json!({"type": "response", "id": 34, "result": {"ok": {"kind": "shipped",
            "branch": "sam/fix-the-upload-retry",
            "commit": "89abcdef0123456789abcdef0123456789abcdef", "committed": true,
            "remote_url": "https://github.com/o/r.git", "pushed": false,
            "push_error": "remote: Permission denied"}}}),
    );
    for (code, wire) in [
        (ErrorCode::NothingToCommit, "nothing_to_commit"),
        (ErrorCode::ProtectedBranch, "protected_branch"),
    ] {
        assert_wire(
            &HostMessage::Response(Response {
                id: 36,
                result: Err(ProtocolError::new(code, "no")),
            }),
            json!({"type": "response", "id": 36, "result": {"err": {"code": wire,
                "message": "no"}}}),
        );
        assert_eq!(code.as_str(), wire);
    }
    let ship = RequestBody::Ship {
        message: "m".into(),
        branch: None,
        push: true,
        token: Some(Secret::new("ghp_never_printed")),
    };
    assert!(!format!("{ship:?}").contains("ghp_never_printed"));
    assert_eq!(ship.kind(), "ship");
    assert_eq!(RequestBody::Changes { base: None }.kind(), "changes");
    assert_eq!(
        RequestBody::FileDiff {
            path: "a".into(),
            old_path: None,
            base: None,
            turn: None,
        }
        .kind(),
        "file_diff"
    );
}

#[test]
fn turn_messages_have_a_pinned_wire_form() {
    use sam_protocol::{ChangeStatus, ChangedFile, TurnChanges, TurnReverted};
    assert_wire(
        &ClientMessage::Request(Request {
            id: 41,
            body: RequestBody::TurnChanges {
                session: "s-1".into(),
                prompt: 2,
            },
        }),
        json!({"type": "request", "id": 41, "body": {"kind": "turn_changes",
            "session": "s-1", "prompt": 2}}),
    );
    assert_wire(
        &ClientMessage::Request(Request {
            id: 42,
            body: RequestBody::RevertTurn {
                session: "s-1".into(),
                prompt: 2,
            },
        }),
        json!({"type": "request", "id": 42, "body": {"kind": "revert_turn",
            "session": "s-1", "prompt": 2}}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 41,
            result: Ok(ResponseBody::TurnChanges(TurnChanges {
                session: "s-1".into(),
                prompt: 2,
                start_tree: "4b825dc642cb6eb9a060e54bf8d69288fbee4904".into(),
                end_tree: "0123456789abcdef0123456789abcdef01234567".into(),
                files: vec![ChangedFile {
                    path: "b.txt".into(),
                    status: ChangeStatus::Added,
                    old_path: None,
                    binary: false,
                    insertions: 1,
                    deletions: 0,
                }],
                total_files: 1,
                insertions: 1,
                deletions: 0,
                truncated: false,
            })),
        }),
        json!({"type": "response", "id": 41, "result": {"ok": {"kind": "turn_changes",
            "session": "s-1", "prompt": 2,
            "start_tree": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
            "end_tree": "0123456789abcdef0123456789abcdef01234567",
            "files": [{"path": "b.txt", "status": "added", "binary": false,
                "insertions": 1, "deletions": 0}],
            "total_files": 1, "insertions": 1, "deletions": 0, "truncated": false}}}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 42,
            result: Ok(ResponseBody::TurnReverted(TurnReverted {
                session: "s-1".into(),
                prompt: 2,
                restored: vec!["b.txt".into()],
            })),
        }),
        json!({"type": "response", "id": 42, "result": {"ok": {"kind": "turn_reverted",
            "session": "s-1", "prompt": 2, "restored": ["b.txt"]}}}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 43,
            result: Err(ProtocolError::new(ErrorCode::ChangedSince, "a.txt")),
        }),
        json!({"type": "response", "id": 43, "result": {"err": {"code": "changed_since",
            "message": "a.txt"}}}),
    );
    assert_eq!(ErrorCode::ChangedSince.as_str(), "changed_since");
    let revert = RequestBody::RevertTurn {
        session: "s".into(),
        prompt: 1,
    };
    assert_eq!(revert.kind(), "revert_turn");
    // Hostile input: a prompt number that is not a u32 is refused at the frame.
    assert!(
        serde_json::from_value::<ClientMessage>(json!({"type": "request", "id": 1,
            "body": {"kind": "turn_changes", "session": "s", "prompt": -1}}))
        .is_err()
    );
}

#[test]
fn waiting_for_changes_has_a_pinned_wire_form() {
    use sam_protocol::ChangesVersion;
    assert_wire(
        &ClientMessage::Request(Request {
            id: 51,
            body: RequestBody::WaitChanges {
                after: 7,
                timeout_ms: 20_000,
            },
        }),
        json!({"type": "request", "id": 51, "body": {"kind": "wait_changes",
            "after": 7, "timeout_ms": 20000}}),
    );
    assert_wire(
        &HostMessage::Response(Response {
            id: 51,
            result: Ok(ResponseBody::ChangesVersion(ChangesVersion {
                version: 8,
                live: true,
            })),
        }),
        json!({"type": "response", "id": 51, "result": {"ok": {"kind": "changes_version",
            "version": 8, "live": true}}}),
    );
    assert_eq!(
        RequestBody::WaitChanges {
            after: 0,
            timeout_ms: 0
        }
        .kind(),
        "wait_changes"
    );
    // Hostile input: a negative counter or timeout is refused at the frame.
    for body in [
        json!({"kind": "wait_changes", "after": -1, "timeout_ms": 1}),
        json!({"kind": "wait_changes", "after": 1, "timeout_ms": -5}),
        json!({"kind": "wait_changes", "after": 1}),
    ] {
        assert!(
            serde_json::from_value::<ClientMessage>(
                json!({"type": "request", "id": 1, "body": body})
            )
            .is_err()
        );
    }
}

#[test]
fn a_turns_file_diff_has_a_pinned_wire_form() {
    use sam_protocol::TurnRef;
    assert_wire(
        &ClientMessage::Request(Request {
            id: 61,
            body: RequestBody::FileDiff {
                path: "src/a.rs".into(),
                old_path: None,
                base: None,
                turn: Some(TurnRef {
                    session: "s-1".into(),
                    prompt: 3,
                }),
            },
        }),
        json!({"type": "request", "id": 61, "body": {"kind": "file_diff",
            "path": "src/a.rs", "turn": {"session": "s-1", "prompt": 3}}}),
    );
    // An older client's request (no turn) still reads.
    let old: ClientMessage = serde_json::from_value(json!({"type": "request", "id": 1,
        "body": {"kind": "file_diff", "path": "a"}}))
    .unwrap();
    assert!(matches!(
        old,
        ClientMessage::Request(Request {
            body: RequestBody::FileDiff { turn: None, .. },
            ..
        })
    ));
}

//! Handshake, version mismatch, oversized frames.

use sam_protocol::frame::{FrameError, FrameReader};
use sam_protocol::{
    ClientMessage, ErrorCode, Hello, HostMessage, HostState, PROTOCOL_VERSION, RequestBody,
    ResponseBody,
};
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;

use crate::support::{Daemon, connect_socket, ok, status, within};

#[tokio::test]
async fn handshake_welcomes_a_client_of_the_same_version() {
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let (client, welcome) = connect_socket(&daemon.socket()).await;
    assert_eq!(welcome.protocol, PROTOCOL_VERSION);
    assert_eq!(welcome.host_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(welcome.state, HostState::Unconfigured);
    assert_eq!(ok(&client, RequestBody::Ping).await, ResponseBody::Pong);
    let status = status(&client).await;
    assert_eq!(status.pid, daemon.pid());
    assert_eq!(status.last_seq, 1, "HostStarted is the first event");
    assert_eq!(status.queued_requests, 0);

    // Touch stamps the activity file with the time in milliseconds.
    let ResponseBody::Touched { at_ms } = ok(&client, RequestBody::Touch).await else {
        panic!("expected touched");
    };
    let stamp = std::fs::read_to_string(state.path().join("activity")).unwrap();
    assert_eq!(stamp.trim(), at_ms.to_string());
}

#[tokio::test]
async fn an_incompatible_client_is_answered_and_disconnected() {
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let stream = UnixStream::connect(daemon.socket()).await.unwrap();
    let (read, mut write) = stream.into_split();
    let hello = ClientMessage::Hello(Hello {
        protocol: PROTOCOL_VERSION + 1,
        client: "from the future".into(),
    });
    sam_protocol::frame::write_frame(&mut write, &hello)
        .await
        .unwrap();
    let mut frames = FrameReader::new(read);
    match within(frames.next::<HostMessage>()).await.unwrap() {
        Some(HostMessage::Incompatible(answer)) => {
            assert_eq!(answer.host_protocol, PROTOCOL_VERSION);
            assert!(answer.message.contains("Update"), "{}", answer.message);
        }
        other => panic!("expected incompatible, got {other:?}"),
    }
    assert!(
        within(frames.next_line()).await.unwrap().is_none(),
        "closed after the answer"
    );
    // The daemon still serves others.
    let (client, _) = connect_socket(&daemon.socket()).await;
    assert_eq!(ok(&client, RequestBody::Ping).await, ResponseBody::Pong);
}

#[tokio::test]
async fn an_unreadable_request_is_answered_with_its_id() {
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let stream = UnixStream::connect(daemon.socket()).await.unwrap();
    let (read, mut write) = stream.into_split();
    let hello = ClientMessage::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        client: "raw".into(),
    });
    sam_protocol::frame::write_frame(&mut write, &hello)
        .await
        .unwrap();
    let mut frames = FrameReader::new(read);
    assert!(matches!(
        within(frames.next::<HostMessage>()).await.unwrap(),
        Some(HostMessage::Welcome(_))
    ));
    write
        .write_all(b"{\"type\":\"request\",\"id\":42,\"body\":{\"kind\":\"teleport\"}}\n")
        .await
        .unwrap();
    match within(frames.next::<HostMessage>()).await.unwrap() {
        Some(HostMessage::Response(response)) => {
            assert_eq!(response.id, 42);
            assert_eq!(response.result.unwrap_err().code, ErrorCode::InvalidRequest);
        }
        other => panic!("expected a response, got {other:?}"),
    }
}

#[tokio::test]
async fn a_frame_over_16_mib_closes_that_connection_only() {
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let stream = UnixStream::connect(daemon.socket()).await.unwrap();
    let (read, mut write) = stream.into_split();
    let hello = ClientMessage::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        client: "flood".into(),
    });
    sam_protocol::frame::write_frame(&mut write, &hello)
        .await
        .unwrap();
    let mut frames = FrameReader::new(read);
    assert!(matches!(
        within(frames.next::<HostMessage>()).await.unwrap(),
        Some(HostMessage::Welcome(_))
    ));
    let flood = tokio::spawn(async move {
        let chunk = vec![b'x'; 1024 * 1024];
        for _ in 0..20 {
            // The daemon stops reading at 16 MiB and closes: a write error ends the flood.
            if write.write_all(&chunk).await.is_err() {
                return;
            }
        }
    });
    match within(frames.next::<HostMessage>()).await.unwrap() {
        Some(HostMessage::Fatal(error)) => {
            assert_eq!(error.code, ErrorCode::InvalidRequest);
            assert!(error.message.contains("exceeded"), "{}", error.message);
        }
        other => panic!("expected a fatal frame, got {other:?}"),
    }
    // Closed after the fatal frame: an end of stream, or a reset because the daemon closed
    // with our unread flood still in its buffer.
    match within(frames.next_line()).await {
        Ok(None) => {}
        Err(FrameError::Io(error)) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the connection to be closed, got {other:?}"),
    }
    within(flood).await.unwrap();

    let (client, _) = connect_socket(&daemon.socket()).await;
    assert_eq!(ok(&client, RequestBody::Ping).await, ResponseBody::Pong);
    assert!(crate::support::alive(daemon.pid()));
    // Nothing else about the daemon changed.
    assert_eq!(status(&client).await.last_seq, 1);
}

//! One client connection: handshake, request dispatch, the event subscription, and the writer
//! that serialises everything the host sends.
//!
//! Requests run concurrently (at most [`MAX_IN_FLIGHT`] per connection; beyond that the reader
//! stops reading, which pushes back on the client). Everything for the client goes through one
//! bounded channel to one writer task, so frames never interleave.

use std::sync::Arc;
use std::time::Duration;

use sam_protocol::frame::{self, FrameError, FrameReader};
use sam_protocol::{
    ClientMessage, ErrorCode, Event, HostMessage, Incompatible, PROTOCOL_VERSION, ProtocolError,
    Request, RequestBody, Response, ResponseBody, Welcome,
};
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::UnixStream;
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio::task::{JoinHandle, JoinSet};

use crate::host::{Host, MAX_QUEUED_REQUESTS};
use crate::journal::EventLog;

/// How long a new connection may take to say hello.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests one connection may have in flight. Above the setup queue's bound, so one client
/// can fill that queue and see `queue_full` for the next request.
const MAX_IN_FLIGHT: usize = 2 * MAX_QUEUED_REQUESTS;
/// Frames waiting for the writer.
const OUTBOUND_BUFFER: usize = 256;
/// Events read from the journal per query while replaying.
const REPLAY_PAGE: usize = 512;
/// How long a closing connection waits for its last frames (a `Fatal`, say) to be written.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Serves one accepted connection to its end.
pub(crate) async fn serve_connection(host: Arc<Host>, stream: UnixStream) {
    let (read_half, write_half) = stream.into_split();
    let mut frames = FrameReader::new(read_half);
    let (out, out_rx) = mpsc::channel(OUTBOUND_BUFFER);
    let mut writer = tokio::spawn(write_loop(BufWriter::new(write_half), out_rx));
    let mut connection = Connection {
        host,
        out,
        requests: JoinSet::new(),
        permits: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        subscription: None,
    };

    let end = if connection.handshake(&mut frames).await {
        connection.serve(&mut frames, &mut writer).await
    } else {
        End::Close
    };

    if let Some(subscription) = connection.subscription.take() {
        subscription.abort();
    }
    if end == End::Gone {
        connection.requests.abort_all();
        return;
    }
    if end == End::Drain {
        // The client finished sending: answer what it asked (unless it is gone altogether).
        let Connection { requests, .. } = &mut connection;
        tokio::select! {
            () = async { while requests.join_next().await.is_some() {} } => {}
            _ = &mut writer => {
                connection.requests.abort_all();
                return;
            }
        }
    }
    connection.requests.abort_all();
    drop(connection);
    let _ = tokio::time::timeout(CLOSE_GRACE, writer).await;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Answer the requests in flight, then close.
    Drain,
    /// Close now.
    Close,
    /// The writer has ended (the client is gone): nothing more can be sent.
    Gone,
}

struct Connection {
    host: Arc<Host>,
    out: mpsc::Sender<HostMessage>,
    requests: JoinSet<()>,
    permits: Arc<Semaphore>,
    subscription: Option<JoinHandle<()>>,
}

impl Connection {
    /// Reads the client's hello and answers it; `false` when the connection must close.
    async fn handshake<R>(&self, frames: &mut FrameReader<R>) -> bool
    where
        R: tokio::io::AsyncRead + Unpin,
    {
        let hello =
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, frames.next::<ClientMessage>()).await {
                Ok(Ok(Some(ClientMessage::Hello(hello)))) => hello,
                Ok(Ok(None) | Err(FrameError::Io(_))) => return false,
                Ok(Ok(Some(ClientMessage::Request(_))) | Err(FrameError::Json(_))) => {
                    self.fatal("the first frame must be a hello").await;
                    return false;
                }
                Ok(Err(FrameError::TooLong)) => {
                    self.fatal(&too_long()).await;
                    return false;
                }
                Err(_) => {
                    self.fatal("no hello within 30 seconds").await;
                    return false;
                }
            };
        if hello.protocol != PROTOCOL_VERSION {
            tracing::warn!(client = %hello.client, protocol = hello.protocol, "incompatible client");
            let _ = self
                .out
                .send(HostMessage::Incompatible(Incompatible {
                    host_protocol: PROTOCOL_VERSION,
                    message: format!(
                        "sam-host {} speaks protocol {PROTOCOL_VERSION}, the client speaks {}. \
                         Update SAM Desktop and sam-host to the same release.",
                        self.host.version(),
                        hello.protocol
                    ),
                }))
                .await;
            return false;
        }
        tracing::info!(client = %hello.client, "client connected");
        self.out
            .send(HostMessage::Welcome(Welcome {
                protocol: PROTOCOL_VERSION,
                host_version: self.host.version().to_owned(),
                state: self.host.state(),
            }))
            .await
            .is_ok()
    }

    /// Reads requests until the client stops, breaks the protocol, or goes away.
    async fn serve<R>(&mut self, frames: &mut FrameReader<R>, writer: &mut JoinHandle<()>) -> End
    where
        R: tokio::io::AsyncRead + Unpin,
    {
        loop {
            let line = tokio::select! {
                line = frames.next_line() => line,
                _ = &mut *writer => return End::Gone,
                Some(_) = self.requests.join_next(), if !self.requests.is_empty() => continue,
            };
            let line = match line {
                Ok(Some(line)) => line,
                Ok(None) => return End::Drain,
                Err(FrameError::TooLong) => {
                    tracing::warn!("client sent an oversized frame; closing");
                    self.fatal(&too_long()).await;
                    return End::Close;
                }
                Err(FrameError::Json(_)) => return End::Close,
                Err(FrameError::Io(error)) => {
                    tracing::info!(%error, "connection failed");
                    return End::Close;
                }
            };
            match serde_json::from_str::<ClientMessage>(&line) {
                Ok(ClientMessage::Request(request)) => self.dispatch(request).await,
                Ok(ClientMessage::Hello(_)) => {
                    self.fatal("hello may only be the first frame").await;
                    return End::Close;
                }
                Err(error) => match request_id(&line) {
                    // A request this host cannot read (a newer kind, a bad field): answer it.
                    Some(id) => {
                        let error = ProtocolError::new(
                            ErrorCode::InvalidRequest,
                            format!("sam-host cannot read this request: {error}"),
                        );
                        self.respond(id, Err(error)).await;
                    }
                    None => {
                        self.fatal("a frame is not a readable message").await;
                        return End::Close;
                    }
                },
            }
        }
    }

    async fn dispatch(&mut self, request: Request) {
        let Request { id, body } = request;
        tracing::debug!(id, kind = body.kind(), "request");
        if let RequestBody::Subscribe { after } = body {
            self.subscribe(id, after.unwrap_or(0)).await;
            return;
        }
        let Ok(permit) = Arc::clone(&self.permits).acquire_owned().await else {
            return;
        };
        let host = Arc::clone(&self.host);
        let out = self.out.clone();
        self.requests.spawn(async move {
            let kind = body.kind();
            let result = host.handle(body).await;
            if let Err(error) = &result {
                tracing::debug!(id, kind, code = %error.code, "request failed");
            }
            let _ = out
                .send(HostMessage::Response(Response { id, result }))
                .await;
            drop(permit);
        });
    }

    /// Answers the subscribe, then replays and follows the journal on this connection.
    async fn subscribe(&mut self, id: u64, after: u64) {
        if let Some(previous) = self.subscription.take() {
            previous.abort();
        }
        // Listen before reading the head: anything appended from here on is either in the
        // replay or in `live`, and the forwarder drops what it has already sent.
        let live = self.host.log().live();
        let head_seq = match self.host.log().last_seq().await {
            Ok(head_seq) => head_seq,
            Err(error) => {
                let error = ProtocolError::new(ErrorCode::Io, error.to_string());
                self.respond(id, Err(error)).await;
                return;
            }
        };
        self.respond(id, Ok(ResponseBody::Subscribed { head_seq }))
            .await;
        let log = self.host.log().clone();
        self.subscription = Some(tokio::spawn(forward(log, live, after, self.out.clone())));
    }

    async fn respond(&self, id: u64, result: Result<ResponseBody, ProtocolError>) {
        let _ = self
            .out
            .send(HostMessage::Response(Response { id, result }))
            .await;
    }

    async fn fatal(&self, message: &str) {
        let error = ProtocolError::new(ErrorCode::InvalidRequest, message);
        let _ = self.out.send(HostMessage::Fatal(error)).await;
    }
}

/// Sends every event after `after` to `out`: the journal first, then live events, with no gap
/// and no duplicate. A live stream that lagged is caught up from the journal again.
async fn forward(
    log: EventLog,
    mut live: broadcast::Receiver<Event>,
    after: u64,
    out: mpsc::Sender<HostMessage>,
) {
    let mut last = after;
    if catch_up(&log, &mut last, &out).await.is_err() {
        return;
    }
    loop {
        match live.recv().await {
            Ok(event) if event.seq <= last => {}
            Ok(event) if event.seq == last + 1 => {
                last = event.seq;
                if out.send(HostMessage::Event(event)).await.is_err() {
                    return;
                }
            }
            // A gap (cannot happen while appends broadcast in order) or a lag: the journal
            // has everything.
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                if catch_up(&log, &mut last, &out).await.is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Sends journaled events after `last` until the journal has no more; `Err` when the client is
/// gone or the journal fails.
async fn catch_up(
    log: &EventLog,
    last: &mut u64,
    out: &mpsc::Sender<HostMessage>,
) -> Result<(), ()> {
    loop {
        let page = log.after(*last, REPLAY_PAGE).await.map_err(|error| {
            tracing::error!(%error, "replaying the journal failed");
        })?;
        let full = page.len() == REPLAY_PAGE;
        for event in page {
            *last = event.seq;
            out.send(HostMessage::Event(event)).await.map_err(|_| ())?;
        }
        if !full {
            return Ok(());
        }
    }
}

/// Writes frames in order, flushing whenever the queue runs dry.
async fn write_loop<W>(mut writer: BufWriter<W>, mut messages: mpsc::Receiver<HostMessage>)
where
    W: AsyncWrite + Unpin,
{
    while let Some(message) = messages.recv().await {
        if write_one(&mut writer, &message).await.is_err() {
            return;
        }
        while let Ok(message) = messages.try_recv() {
            if write_one(&mut writer, &message).await.is_err() {
                return;
            }
        }
        if writer.flush().await.is_err() {
            return;
        }
    }
    let _ = writer.shutdown().await;
}

async fn write_one<W>(writer: &mut BufWriter<W>, message: &HostMessage) -> std::io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    let line = match frame::encode(message) {
        Ok(line) => line,
        Err(error) => {
            tracing::error!(%error, "a message could not be encoded");
            let HostMessage::Response(Response { id, .. }) = message else {
                return Ok(());
            };
            let replacement = HostMessage::Response(Response {
                id: *id,
                result: Err(ProtocolError::new(
                    ErrorCode::Internal,
                    format!("the answer could not be sent: {error}"),
                )),
            });
            frame::encode(&replacement).map_err(std::io::Error::other)?
        }
    };
    writer.write_all(line.as_bytes()).await
}

fn request_id(line: &str) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value.get("type")?.as_str()? != "request" {
        return None;
    }
    value.get("id")?.as_u64()
}

fn too_long() -> String {
    format!(
        "a frame exceeded {} bytes; closing the connection",
        sam_protocol::MAX_FRAME_BYTES
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use sam_protocol::EventBody;

    use super::*;
    use crate::journal::Journal;

    #[tokio::test]
    async fn a_subscriber_that_lags_behind_the_live_stream_catches_up_from_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("journal.sqlite")).unwrap();
        // Two live slots and one outbound slot: a subscriber that does not read falls behind.
        let log = EventLog::with_live_buffer(journal, 2);
        log.append(EventBody::SetupStarted, None).await.unwrap();
        let (out, mut received) = mpsc::channel(1);
        let forwarder = tokio::spawn(forward(log.clone(), log.live(), 0, out));
        for _ in 0..40 {
            log.append(EventBody::SetupStarted, None).await.unwrap();
        }
        let mut seqs = Vec::new();
        while seqs.last() != Some(&41) {
            match tokio::time::timeout(Duration::from_secs(10), received.recv())
                .await
                .unwrap()
            {
                Some(HostMessage::Event(event)) => seqs.push(event.seq),
                other => panic!("expected an event, got {other:?}"),
            }
        }
        assert_eq!(seqs, (1..=41).collect::<Vec<_>>());
        log.append(EventBody::SetupStarted, None).await.unwrap();
        let Some(HostMessage::Event(event)) = received.recv().await else {
            panic!("expected the live event");
        };
        assert_eq!(event.seq, 42);
        forwarder.abort();
    }
}

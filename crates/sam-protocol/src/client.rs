//! The async client for one connection to `sam-host`.
//!
//! [`HostClient::connect`] performs the handshake over any tokio byte stream, then runs two
//! tasks: a writer that sends request frames and a reader that routes responses to their
//! callers by id and events to the [`HostClient::events`] receiver. Requests may be issued
//! concurrently from `&self`. When the connection drops, every pending and later request fails
//! with [`ClientError::Disconnected`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::frame::{self, FrameError, FrameReader};
use crate::{
    ClientMessage, Event, Hello, HostMessage, PROTOCOL_VERSION, ProtocolError, Request,
    RequestBody, ResponseBody, Welcome,
};

/// How many events the client buffers for [`HostClient::events`]. When the buffer is full the
/// reader waits, and responses wait behind it: consume events, or drop the receiver.
pub const EVENT_BUFFER: usize = 1024;

/// How many request frames may wait for the writer.
const OUTBOUND_BUFFER: usize = 64;

/// Why a request or the connection failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The host speaks another protocol version (answered at the handshake).
    #[error(
        "sam-host speaks protocol {host_protocol}, this app speaks {PROTOCOL_VERSION}: {message}"
    )]
    Incompatible {
        /// The host's protocol version.
        host_protocol: u32,
        /// The host's explanation.
        message: String,
    },
    /// The host answered the request with an error.
    #[error("sam-host refused the request: {0}")]
    Host(ProtocolError),
    /// The connection is gone; the request may or may not have been carried out.
    #[error("the connection to sam-host was lost: {0}")]
    Disconnected(String),
    /// The host sent something this client cannot read.
    #[error("sam-host sent an unexpected message: {0}")]
    Protocol(String),
}

type Reply = Result<ResponseBody, ClientError>;

/// The requests in flight; `None` once the connection is closed, so no request can slip in
/// after the reader failed the others.
#[derive(Debug, Default)]
struct Pending {
    waiting: Option<HashMap<u64, oneshot::Sender<Reply>>>,
    closed_because: Option<String>,
}

#[derive(Debug)]
struct Shared {
    pending: Mutex<Pending>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fails every pending request and every later one with `reason`.
    fn close(&self, reason: String) {
        let waiting = {
            let mut pending = self.lock();
            if pending.closed_because.is_none() {
                pending.closed_because = Some(reason.clone());
            }
            pending.waiting.take()
        };
        for (_, sender) in waiting.into_iter().flatten() {
            let _ = sender.send(Err(ClientError::Disconnected(reason.clone())));
        }
    }

    fn complete(&self, id: u64, reply: Reply) {
        let sender = self.lock().waiting.as_mut().and_then(|w| w.remove(&id));
        if let Some(sender) = sender {
            let _ = sender.send(reply);
        }
    }
}

/// Removes a request from the pending map if its caller gives up before the answer.
struct PendingGuard<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if let Some(waiting) = self.shared.lock().waiting.as_mut() {
            waiting.remove(&self.id);
        }
    }
}

/// One handshaken connection to `sam-host`.
#[derive(Debug)]
pub struct HostClient {
    next_id: AtomicU64,
    shared: Arc<Shared>,
    outbound: mpsc::Sender<String>,
    events: Mutex<Option<mpsc::Receiver<Event>>>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl HostClient {
    /// Says hello on `writer`, reads the host's answer from `reader` and, when welcomed,
    /// starts the connection's reader and writer tasks (so it must run inside a tokio runtime).
    /// Bound the wait with `tokio::time::timeout` where the stream may hang.
    ///
    /// # Errors
    /// [`ClientError::Incompatible`] when the host speaks another version,
    /// [`ClientError::Disconnected`] when the stream fails or ends first,
    /// [`ClientError::Protocol`] when the host answers with anything else.
    pub async fn connect<R, W>(
        reader: R,
        mut writer: W,
        client_name: &str,
    ) -> Result<(Self, Welcome), ClientError>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let hello = ClientMessage::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            client: client_name.to_owned(),
        });
        frame::write_frame(&mut writer, &hello)
            .await
            .map_err(|e| ClientError::Disconnected(e.to_string()))?;
        let mut frames = FrameReader::new(reader);
        let welcome = match frames.next::<HostMessage>().await {
            Ok(Some(HostMessage::Welcome(welcome))) => welcome,
            Ok(Some(HostMessage::Incompatible(incompatible))) => {
                return Err(ClientError::Incompatible {
                    host_protocol: incompatible.host_protocol,
                    message: incompatible.message,
                });
            }
            Ok(Some(HostMessage::Fatal(error))) => return Err(ClientError::Host(error)),
            Ok(Some(other)) => {
                return Err(ClientError::Protocol(format!(
                    "expected a welcome, got {}",
                    message_kind(&other)
                )));
            }
            Ok(None) => {
                return Err(ClientError::Disconnected(
                    "sam-host closed the connection during the handshake".to_owned(),
                ));
            }
            Err(FrameError::Json(error)) => return Err(ClientError::Protocol(error.to_string())),
            Err(error) => return Err(ClientError::Disconnected(error.to_string())),
        };

        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending {
                waiting: Some(HashMap::new()),
                closed_because: None,
            }),
        });
        let (outbound, outbound_rx) = mpsc::channel(OUTBOUND_BUFFER);
        let (events_tx, events_rx) = mpsc::channel(EVENT_BUFFER);
        let reader = tokio::spawn(read_loop(frames, Arc::clone(&shared), events_tx));
        let writer = tokio::spawn(write_loop(writer, outbound_rx, Arc::clone(&shared)));
        let client = Self {
            next_id: AtomicU64::new(1),
            shared,
            outbound,
            events: Mutex::new(Some(events_rx)),
            reader,
            writer,
        };
        Ok((client, welcome))
    }

    /// Sends `body` and waits for its answer. Concurrent calls are fine; each gets its own id.
    ///
    /// # Errors
    /// [`ClientError::Host`] when the host answers with an error, [`ClientError::Disconnected`]
    /// when the connection is or goes down before the answer.
    pub async fn request(&self, body: RequestBody) -> Result<ResponseBody, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        {
            let mut pending = self.shared.lock();
            let closed_because = pending.closed_because.clone();
            match pending.waiting.as_mut() {
                Some(waiting) => {
                    waiting.insert(id, sender);
                }
                None => {
                    return Err(ClientError::Disconnected(
                        closed_because.unwrap_or_else(|| "connection closed".to_owned()),
                    ));
                }
            }
        }
        let _guard = PendingGuard {
            shared: &self.shared,
            id,
        };
        let line = frame::encode(&ClientMessage::Request(Request { id, body })).map_err(|e| {
            ClientError::Host(ProtocolError::new(
                crate::ErrorCode::InvalidRequest,
                format!("the request cannot be sent: {e}"),
            ))
        })?;
        if self.outbound.send(line).await.is_err() {
            return Err(self.disconnected());
        }
        match receiver.await {
            Ok(reply) => reply,
            Err(_) => Err(self.disconnected()),
        }
    }

    /// The events of this connection (after a [`RequestBody::Subscribe`]). The first call hands
    /// the receiver over; later calls return `None`. The receiver ends when the connection does.
    pub fn events(&self) -> Option<mpsc::Receiver<Event>> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Whether the connection is still up.
    pub fn is_connected(&self) -> bool {
        self.shared.lock().waiting.is_some()
    }

    fn disconnected(&self) -> ClientError {
        let reason = self.shared.lock().closed_because.clone();
        ClientError::Disconnected(reason.unwrap_or_else(|| "connection closed".to_owned()))
    }
}

impl Drop for HostClient {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}

async fn read_loop<R>(mut frames: FrameReader<R>, shared: Arc<Shared>, events: mpsc::Sender<Event>)
where
    R: AsyncRead + Unpin,
{
    let reason = loop {
        match frames.next::<HostMessage>().await {
            Ok(Some(HostMessage::Response(response))) => {
                shared.complete(response.id, response.result.map_err(ClientError::Host));
            }
            Ok(Some(HostMessage::Event(event))) => {
                // A dropped receiver means nobody wants events: keep serving responses.
                let _ = events.send(event).await;
            }
            Ok(Some(HostMessage::Fatal(error))) => {
                break format!("sam-host closed the connection: {error}");
            }
            Ok(Some(other)) => {
                break format!("sam-host sent an unexpected {}", message_kind(&other));
            }
            Ok(None) => break "sam-host closed the connection".to_owned(),
            Err(error) => break error.to_string(),
        }
    };
    shared.close(reason);
}

async fn write_loop<W>(mut writer: W, mut lines: mpsc::Receiver<String>, shared: Arc<Shared>)
where
    W: AsyncWrite + Unpin,
{
    while let Some(line) = lines.recv().await {
        let written = async {
            writer.write_all(line.as_bytes()).await?;
            writer.flush().await
        }
        .await;
        if let Err(error) = written {
            shared.close(format!("writing to sam-host failed: {error}"));
            return;
        }
    }
    // The client was dropped: tell the host we are done.
    let _ = writer.shutdown().await;
}

fn message_kind(message: &HostMessage) -> &'static str {
    match message {
        HostMessage::Welcome(_) => "welcome",
        HostMessage::Incompatible(_) => "incompatible",
        HostMessage::Response(_) => "response",
        HostMessage::Event(_) => "event",
        HostMessage::Fatal(_) => "fatal",
    }
}

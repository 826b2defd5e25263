//! [`SshStream`]: a remote command's stdin and stdout as one byte stream.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use russh::client::Msg;
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf, Sig};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::SshError;
use crate::session::Connection;

/// How much of a stream's stderr is kept for error messages.
pub(crate) const STREAM_STDERR_TAIL_BYTES: usize = 16 * 1024;

type NextMessage = Pin<Box<dyn Future<Output = (ChannelReadHalf, Option<ChannelMsg>)> + Send>>;

enum Reader {
    /// Not waiting for anything; the next read asks the channel.
    Idle(ChannelReadHalf),
    /// A `wait()` on the channel in flight. It owns the read half and hands it back, which
    /// keeps the stream free of self-references and of a helper task.
    Waiting(NextMessage),
    /// The channel is gone (closed by the server, or the connection dropped).
    Done,
}

/// Whether the channel is still delivering messages, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Messages may still come.
    Open,
    /// The server closed the channel (normal end).
    Closed,
    /// The channel vanished without a close: the SSH connection is gone.
    ConnectionLost,
    /// The server refused to run the command (it answered the exec request with a failure).
    Refused,
}

/// How a remote command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Exit {
    Status(u32),
    Signal(String),
}

/// A remote command's stdin (write) and stdout (read) as a byte stream, from
/// [`SshSession::open_stream`](crate::SshSession::open_stream). This is how the desktop speaks
/// to `sam-host connect` on a workspace VM.
///
/// Reading returns end-of-file when the command closes its stdout. Reading fails with
/// [`io::ErrorKind::ConnectionAborted`] when the SSH connection drops first. Shutting down the
/// write side sends EOF to the command's stdin. Stderr is not part of the stream: the last
/// 16 KiB are kept for [`SshStream::stderr_tail`]. Once stdout has ended,
/// [`SshStream::wait_exit`] gives the exit status.
///
/// Keep reading while the stream is open: russh hands each channel's messages over through a
/// bounded queue (100 messages), and a stream nobody reads stalls the whole connection — its
/// other channels and keepalives included — once that queue is full.
///
/// Dropping the stream closes the channel: the remote command sees the end of its input and
/// its output pipe closes. The stream keeps the SSH connection alive on its own, even after
/// the [`SshSession`](crate::SshSession) it came from is dropped.
pub struct SshStream {
    reader: Reader,
    /// Data received but not yet read: a packet and how far into it the reader is.
    pending: Option<(bytes::Bytes, usize)>,
    stdout_ended: bool,
    ending: Ending,
    exit: Option<Exit>,
    stderr_tail: VecDeque<u8>,
    stderr_limit: usize,
    writer: Pin<Box<dyn AsyncWrite + Send>>,
    /// Kept to close the channel on drop.
    write_half: Option<ChannelWriteHalf<Msg>>,
    connection: Arc<Connection>,
}

impl SshStream {
    pub(crate) fn new(
        read_half: ChannelReadHalf,
        write_half: ChannelWriteHalf<Msg>,
        connection: Arc<Connection>,
        stderr_limit: usize,
    ) -> Self {
        let writer = Box::pin(write_half.make_writer());
        Self {
            reader: Reader::Idle(read_half),
            pending: None,
            stdout_ended: false,
            ending: Ending::Open,
            exit: None,
            stderr_tail: VecDeque::new(),
            stderr_limit,
            writer,
            write_half: Some(write_half),
            connection,
        }
    }

    /// The exit status, once the server has reported it (usually just after stdout ends).
    /// A command killed by a signal reports 128 + the signal number, as a shell would.
    pub fn exit_status(&self) -> Option<u32> {
        self.exit.as_ref().map(exit_code)
    }

    /// The last part of what the command wrote to stderr so far, lossily decoded.
    pub fn stderr_tail(&self) -> String {
        String::from_utf8_lossy(&self.stderr_tail_bytes()).into_owned()
    }

    pub(crate) fn stderr_tail_bytes(&self) -> Vec<u8> {
        self.stderr_tail.iter().copied().collect()
    }

    /// Waits until the server closes the channel and returns the command's exit status (128 +
    /// signal number when a signal killed it). Call it after reading stdout to its end: stdout
    /// not read yet is discarded.
    ///
    /// # Errors
    /// [`SshError::Disconnected`] when the connection dropped before the command ended;
    /// [`SshError::Protocol`] when the server refused to run the command or closed the channel
    /// without an exit status.
    pub async fn wait_exit(&mut self) -> Result<u32, SshError> {
        std::future::poll_fn(|cx| {
            while self.ending == Ending::Open {
                ready!(self.poll_message(cx));
                // Unread stdout is dropped here, as documented.
                self.pending = None;
            }
            Poll::Ready(())
        })
        .await;
        match (&self.exit, self.ending) {
            (Some(exit), _) => Ok(exit_code(exit)),
            (None, Ending::Refused) => Err(SshError::Protocol(
                "the server refused to run the command".into(),
            )),
            (None, Ending::ConnectionLost) => Err(self.connection.disconnected_error()),
            (None, _) if self.connection.is_closed() => Err(self.connection.disconnected_error()),
            (None, _) => Err(SshError::Protocol(
                "the server closed the command's channel without reporting an exit status".into(),
            )),
        }
    }

    /// Receives one channel message and files it: data into `pending`, stderr into the tail,
    /// EOF, exit status, close.
    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let message = loop {
            match &mut self.reader {
                Reader::Waiting(future) => {
                    let (read_half, message) = ready!(future.as_mut().poll(cx));
                    self.reader = Reader::Idle(read_half);
                    break message;
                }
                Reader::Done => {
                    self.end(Ending::Closed);
                    return Poll::Ready(());
                }
                Reader::Idle(_) => {
                    if let Reader::Idle(mut read_half) =
                        std::mem::replace(&mut self.reader, Reader::Done)
                    {
                        self.reader = Reader::Waiting(Box::pin(async move {
                            let message = read_half.wait().await;
                            (read_half, message)
                        }));
                    }
                }
            }
        };
        match message {
            Some(ChannelMsg::Data { data }) => {
                if !data.is_empty() {
                    self.pending = Some((data, 0));
                }
            }
            Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                self.stderr_tail.extend(data.iter());
                let excess = self.stderr_tail.len().saturating_sub(self.stderr_limit);
                self.stderr_tail.drain(..excess);
            }
            Some(ChannelMsg::Eof) => self.stdout_ended = true,
            Some(ChannelMsg::ExitStatus { exit_status }) => {
                self.exit = Some(Exit::Status(exit_status));
            }
            Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                self.exit = Some(Exit::Signal(signal_label(&signal_name)));
            }
            Some(ChannelMsg::Close) => self.end(Ending::Closed),
            // The only request on this channel that wants a reply is the exec itself.
            Some(ChannelMsg::Failure) => self.end(Ending::Refused),
            // The session dropped the channel without a Close: the connection is gone.
            None => self.end(Ending::ConnectionLost),
            Some(_) => {}
        }
        Poll::Ready(())
    }

    /// Stops receiving: after a refusal the channel is still open on the server (closed on
    /// drop), otherwise it is gone.
    fn end(&mut self, ending: Ending) {
        if self.ending == Ending::Open {
            self.ending = ending;
        }
        if ending != Ending::Refused {
            self.reader = Reader::Done;
        }
        self.stdout_ended = true;
    }
}

fn exit_code(exit: &Exit) -> u32 {
    match exit {
        Exit::Status(status) => *status,
        Exit::Signal(name) => 128 + signal_number(name),
    }
}

fn signal_label(signal: &Sig) -> String {
    let name = match signal {
        Sig::ABRT => "ABRT",
        Sig::ALRM => "ALRM",
        Sig::FPE => "FPE",
        Sig::HUP => "HUP",
        Sig::ILL => "ILL",
        Sig::INT => "INT",
        Sig::KILL => "KILL",
        Sig::PIPE => "PIPE",
        Sig::QUIT => "QUIT",
        Sig::SEGV => "SEGV",
        Sig::TERM => "TERM",
        Sig::USR1 => "USR1",
        Sig::Custom(name) => name.as_str(),
    };
    name.to_owned()
}

/// Linux signal numbers (the workspace VMs run Linux); 127 (so 255 in total, what `ssh`
/// itself exits with on trouble) for a name we do not know.
fn signal_number(name: &str) -> u32 {
    match name {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "ILL" => 4,
        "ABRT" => 6,
        "FPE" => 8,
        "KILL" => 9,
        "USR1" => 10,
        "SEGV" => 11,
        "USR2" => 12,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" => 15,
        _ => 127,
    }
}

impl AsyncRead for SshStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if let Some((data, offset)) = this.pending.take() {
                let available = data.get(offset..).unwrap_or_default();
                let n = available.len().min(buf.remaining());
                buf.put_slice(available.get(..n).unwrap_or_default());
                if offset + n < data.len() {
                    this.pending = Some((data, offset + n));
                }
                return Poll::Ready(Ok(()));
            }
            if this.stdout_ended {
                return Poll::Ready(match (this.ending, &this.exit) {
                    (Ending::ConnectionLost, None) => Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the SSH connection to the workspace was lost",
                    )),
                    (Ending::Refused, _) => {
                        Err(io::Error::other("the server refused to run the command"))
                    }
                    _ => Ok(()),
                });
            }
            ready!(this.poll_message(cx));
        }
    }
}

impl AsyncWrite for SshStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // russh's writer rejects empty writes; AsyncWrite says they succeed with 0.
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.get_mut().writer.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().writer.as_mut().poll_flush(cx)
    }

    /// Sends EOF on the command's stdin; reading goes on.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().writer.as_mut().poll_shutdown(cx)
    }
}

impl Drop for SshStream {
    fn drop(&mut self) {
        if matches!(self.ending, Ending::Closed | Ending::ConnectionLost) {
            return;
        }
        // Closing needs an async send; without a runtime (process exit) the connection's end
        // closes the channel anyway.
        if let (Some(write_half), Ok(runtime)) = (
            self.write_half.take(),
            tokio::runtime::Handle::try_current(),
        ) {
            runtime.spawn(async move {
                let _ = write_half.close().await;
            });
        }
    }
}

impl fmt::Debug for SshStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshStream")
            .field("stdout_ended", &self.stdout_ended)
            .field("ending", &self.ending)
            .field("exit", &self.exit)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_map_like_a_shell() {
        assert_eq!(exit_code(&Exit::Status(3)), 3);
        assert_eq!(exit_code(&Exit::Signal("KILL".into())), 137);
        assert_eq!(exit_code(&Exit::Signal("TERM".into())), 143);
        assert_eq!(exit_code(&Exit::Signal("WINCH".into())), 255);
        assert_eq!(signal_label(&Sig::Custom("USR2".into())), "USR2");
    }
}

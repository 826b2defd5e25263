//! Newline-delimited JSON framing: one message per line, each line at most
//! [`crate::MAX_FRAME_BYTES`] bytes.
//!
//! JSON escapes newlines inside strings, so a message never contains a raw `\n`. The reader
//! stops buffering at the limit: an endless line costs at most the limit in memory and ends the
//! stream with [`FrameError::TooLong`].

use std::future::poll_fn;
use std::pin::Pin;

use futures_core::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};

use crate::MAX_FRAME_BYTES;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A line longer than the limit; the connection must be closed.
    #[error("a frame exceeded {MAX_FRAME_BYTES} bytes")]
    TooLong,
    /// The byte stream failed (including a line that is not UTF-8).
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    /// A line that is not the expected JSON message.
    #[error("unreadable message: {0}")]
    Json(#[from] serde_json::Error),
}

/// Reads frames from a byte stream.
#[derive(Debug)]
pub struct FrameReader<R> {
    lines: FramedRead<R, LinesCodec>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Reads frames from `reader`, buffering at most one frame.
    pub fn new(reader: R) -> Self {
        Self {
            lines: FramedRead::new(reader, LinesCodec::new_with_max_length(MAX_FRAME_BYTES)),
        }
    }

    /// The next line, without its newline; `None` at a clean end of stream.
    ///
    /// # Errors
    /// [`FrameError::TooLong`] for an oversized line, [`FrameError::Io`] when the stream fails.
    /// After an error the stream is no longer usable.
    pub async fn next_line(&mut self) -> Result<Option<String>, FrameError> {
        let next = poll_fn(|cx| Pin::new(&mut self.lines).poll_next(cx)).await;
        match next {
            None => Ok(None),
            Some(Ok(line)) => Ok(Some(line)),
            Some(Err(LinesCodecError::MaxLineLengthExceeded)) => Err(FrameError::TooLong),
            Some(Err(LinesCodecError::Io(error))) => Err(FrameError::Io(error)),
        }
    }

    /// The next frame decoded as `T`; `None` at a clean end of stream.
    ///
    /// # Errors
    /// As [`FrameReader::next_line`], plus [`FrameError::Json`] for a line that is not a `T`.
    pub async fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, FrameError> {
        match self.next_line().await? {
            None => Ok(None),
            Some(line) => Ok(Some(serde_json::from_str(&line)?)),
        }
    }
}

/// Encodes `message` as one frame, newline included.
///
/// # Errors
/// [`FrameError::Json`] when it does not serialise, [`FrameError::TooLong`] when the frame would
/// exceed the limit (the peer would reject it).
pub fn encode<T: Serialize>(message: &T) -> Result<String, FrameError> {
    let mut line = serde_json::to_string(message)?;
    if line.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooLong);
    }
    line.push('\n');
    Ok(line)
}

/// Writes one frame and flushes.
///
/// # Errors
/// As [`encode`], plus [`FrameError::Io`] when the stream fails.
pub async fn write_frame<W, T>(writer: &mut W, message: &T) -> Result<(), FrameError>
where
    W: AsyncWrite + Unpin,
    T: Serialize,
{
    let line = encode(message)?;
    writer.write_all(line.as_bytes()).await?;
    writer.flush().await?;
    Ok(())
}

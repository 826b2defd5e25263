//! Connecting ([`connect`], [`wait_for_ssh`]) and the connected [`SshSession`].

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use russh::client::{self, DisconnectReason, Handle};
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::stream::{STREAM_STDERR_TAIL_BYTES, SshStream};
use crate::{ClientKey, SshError, SshTarget};

/// How much of an [`SshSession::exec`]'s stderr is kept.
const EXEC_STDERR_TAIL_BYTES: usize = 64 * 1024;

/// Timeouts and limits of one SSH connection. All come from the app's one timeout
/// configuration; [`SshOptions::default`] holds the values we ship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshOptions {
    /// How long the TCP connect may take (DNS included). Default 10 s.
    pub connect_timeout: Duration,
    /// How long the SSH handshake may take once TCP is up: version exchange, key exchange,
    /// host-key check and authentication. Default 20 s.
    pub handshake_timeout: Duration,
    /// When nothing has been received from the server for this long, send an
    /// OpenSSH keepalive request (`keepalive@openssh.com`). Default 15 s.
    pub keepalive_interval: Duration,
    /// After this many keepalives in a row go unanswered the connection is declared dead and
    /// everything on it fails with [`SshError::Disconnected`]. Default 3, so a silently dead
    /// server is noticed within about `keepalive_interval × (keepalive_max + 1)`.
    pub keepalive_max: usize,
    /// Drop the connection after this long without any traffic at all. Keepalive replies
    /// count as traffic, so with keepalives on this only fires for a server that stops
    /// answering while keepalives cannot be sent. Default `None`.
    pub inactivity_timeout: Option<Duration>,
    /// The most stdout [`SshSession::exec`] captures before stopping the command with
    /// [`SshError::OutputTooLarge`]. Default 16 MiB. (Stderr keeps only its last 64 KiB.)
    pub max_exec_output_bytes: usize,
}

impl Default for SshOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(20),
            keepalive_interval: Duration::from_secs(15),
            keepalive_max: 3,
            inactivity_timeout: None,
            max_exec_output_bytes: 16 * 1024 * 1024,
        }
    }
}

impl SshOptions {
    /// Checks the options make sense: every duration non-zero, `keepalive_max` at least 1.
    ///
    /// # Errors
    /// [`SshError::InvalidInput`] naming the offending option.
    pub fn validate(&self) -> Result<(), SshError> {
        let zero = |name: &str| Err(SshError::InvalidInput(format!("SSH option {name} is zero")));
        if self.connect_timeout.is_zero() {
            return zero("connect_timeout");
        }
        if self.handshake_timeout.is_zero() {
            return zero("handshake_timeout");
        }
        if self.keepalive_interval.is_zero() {
            return zero("keepalive_interval");
        }
        if self.keepalive_max == 0 {
            return zero("keepalive_max");
        }
        if self.inactivity_timeout.is_some_and(|t| t.is_zero()) {
            return zero("inactivity_timeout");
        }
        if self.max_exec_output_bytes == 0 {
            return zero("max_exec_output_bytes");
        }
        Ok(())
    }
}

/// What a finished [`SshSession::exec`] produced.
#[derive(Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// The exit status; 128 + the signal number when a signal killed the command.
    pub status: u32,
    /// Everything the command wrote to stdout (at most
    /// [`SshOptions::max_exec_output_bytes`]).
    pub stdout: Vec<u8>,
    /// The last 64 KiB the command wrote to stderr.
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    /// Whether the command exited with status 0.
    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// The output itself when the command succeeded.
    ///
    /// # Errors
    /// [`SshError::CommandFailed`] with the status and stderr tail otherwise.
    pub fn check(self) -> Result<Self, SshError> {
        if self.success() {
            Ok(self)
        } else {
            Err(SshError::CommandFailed {
                status: self.status,
                stderr_tail: tail_text(&self.stderr, 2048),
            })
        }
    }
}

impl fmt::Debug for ExecOutput {
    /// Lengths only: output can be large, and it is the remote machine's to disclose.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecOutput")
            .field("status", &self.status)
            .field("stdout_len", &self.stdout.len())
            .field("stderr_len", &self.stderr.len())
            .finish()
    }
}

/// The last `max_bytes` of `bytes` as trimmed, lossily decoded text.
pub(crate) fn tail_text(bytes: &[u8], max_bytes: usize) -> String {
    let start = bytes.len().saturating_sub(max_bytes);
    String::from_utf8_lossy(bytes.get(start..).unwrap_or_default())
        .trim()
        .to_owned()
}

/// What the handler learns on russh's session task and the rest of the crate reads.
#[derive(Default)]
struct Observed {
    /// Fingerprint of a presented host key that did not match the pin.
    rejected_host_key: Mutex<Option<String>>,
    /// Why the connection ended, once it has.
    disconnect_reason: Mutex<Option<String>>,
    /// The negotiated algorithms, for diagnostics.
    algorithms: Mutex<Option<String>>,
}

fn set(slot: &Mutex<Option<String>>, value: String) {
    *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
}

fn get(slot: &Mutex<Option<String>>) -> Option<String> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// russh's callbacks: the host-key check and bookkeeping.
struct ClientHandler {
    expected_host_key: Vec<u8>,
    observed: Arc<Observed>,
}

impl client::Handler for ClientHandler {
    type Error = russh::Error;

    /// The pin is the only trust anchor: exactly the pinned key is accepted, never a key seen
    /// for the first time, a known_hosts entry or a certificate.
    async fn check_server_key(
        &mut self,
        presented: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        match presented {
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                let bytes = key.to_bytes().unwrap_or_default();
                if !bytes.is_empty() && bytes == self.expected_host_key {
                    return Ok(true);
                }
                set(
                    &self.observed.rejected_host_key,
                    key.fingerprint(HashAlg::Sha256).to_string(),
                );
            }
            PublicKeyOrCertificate::Certificate(_) => set(
                &self.observed.rejected_host_key,
                "an OpenSSH host certificate (SAM only accepts the pinned key)".into(),
            ),
        }
        Ok(false)
    }

    async fn kex_done(
        &mut self,
        _shared_secret: Option<&[u8]>,
        names: &russh::Names,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        let algorithms = format!(
            "kex={} host_key={} cipher={} mac={}",
            names.kex.as_ref(),
            names.key,
            names.cipher.as_ref(),
            names.client_mac.as_ref(),
        );
        tracing::debug!(%algorithms, "SSH key exchange done");
        set(&self.observed.algorithms, algorithms);
        Ok(())
    }

    async fn disconnected(
        &mut self,
        reason: DisconnectReason<Self::Error>,
    ) -> Result<(), Self::Error> {
        let (description, result) = match reason {
            DisconnectReason::ReceivedDisconnect(info) => (
                format!("the server closed the connection ({})", info.message.trim()),
                Ok(()),
            ),
            DisconnectReason::Error(russh::Error::KeepaliveTimeout) => (
                "the server stopped answering keepalives".to_owned(),
                Err(russh::Error::KeepaliveTimeout),
            ),
            DisconnectReason::Error(russh::Error::InactivityTimeout) => (
                "no traffic from the server for too long".to_owned(),
                Err(russh::Error::InactivityTimeout),
            ),
            DisconnectReason::Error(error) => (format!("{error}"), Err(error)),
        };
        tracing::debug!(reason = %description, "SSH connection ended");
        set(&self.observed.disconnect_reason, description);
        result
    }
}

/// One authenticated SSH connection, shared by the session and its streams.
pub(crate) struct Connection {
    handle: Handle<ClientHandler>,
    observed: Arc<Observed>,
}

impl Connection {
    pub(crate) fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    pub(crate) fn disconnected_error(&self) -> SshError {
        SshError::Disconnected {
            reason: get(&self.observed.disconnect_reason)
                .unwrap_or_else(|| "the connection closed".to_owned()),
        }
    }

    /// Maps an error from an operation on an established connection.
    fn error(&self, error: russh::Error) -> SshError {
        match error {
            russh::Error::ChannelOpenFailure(reason) if !self.is_closed() => SshError::Protocol(
                format!("the server refused to open a session channel ({reason:?})"),
            ),
            _ if self.is_closed() => self.disconnected_error(),
            russh::Error::SendError
            | russh::Error::Disconnect
            | russh::Error::HUP
            | russh::Error::IO(_)
            | russh::Error::KeepaliveTimeout
            | russh::Error::InactivityTimeout => SshError::Disconnected {
                reason: error.to_string(),
            },
            other => SshError::Protocol(other.to_string()),
        }
    }
}

/// An authenticated SSH connection to a workspace VM.
///
/// Commands run on their own channels, so one session serves any number of concurrent
/// [`exec`](SshSession::exec)s and [`SshStream`]s. Dropping the session ends the connection
/// once no stream from it is left. Keepalives (see [`SshOptions`]) notice a dead server;
/// everything then fails with [`SshError::Disconnected`] and the caller reconnects.
pub struct SshSession {
    connection: Arc<Connection>,
    target: SshTarget,
    options: SshOptions,
}

impl fmt::Debug for SshSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshSession")
            .field("target", &self.target)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// Connects to `target`, verifies that it presents exactly the pinned host key, and logs in
/// with `key` (public-key authentication only; no password, agent or keyboard-interactive).
///
/// Only `ssh-ed25519` is offered for the host key, so a server cannot substitute another key
/// type. Nothing at all is sent after a host-key mismatch.
///
/// # Errors
/// [`SshError::Unreachable`] when TCP or the handshake fails or times out (transient);
/// [`SshError::HostKeyMismatch`] and [`SshError::AuthRejected`] (permanent; see their
/// messages); [`SshError::Protocol`] when no common algorithm exists;
/// [`SshError::InvalidInput`] for invalid options.
pub async fn connect(
    target: &SshTarget,
    key: &ClientKey,
    options: &SshOptions,
) -> Result<SshSession, SshError> {
    options.validate()?;
    let address = target.address();
    let unreachable = |reason: String| SshError::Unreachable {
        address: address.clone(),
        port: target.port(),
        reason,
    };

    let socket = match tokio::time::timeout(
        options.connect_timeout,
        TcpStream::connect((target.host(), target.port())),
    )
    .await
    {
        Ok(Ok(socket)) => socket,
        Ok(Err(error)) => return Err(unreachable(error.to_string())),
        Err(_) => {
            return Err(unreachable(format!(
                "no answer within {} s",
                options.connect_timeout.as_secs_f32()
            )));
        }
    };
    // Interactive traffic (a chat's byte stream) must not wait for Nagle.
    let _ = socket.set_nodelay(true);

    let observed = Arc::new(Observed::default());
    let handler = ClientHandler {
        expected_host_key: target.host_key().wire_bytes(),
        observed: Arc::clone(&observed),
    };
    let config = Arc::new(client::Config {
        keepalive_interval: Some(options.keepalive_interval),
        keepalive_max: options.keepalive_max,
        inactivity_timeout: options.inactivity_timeout,
        nodelay: true,
        preferred: russh::Preferred {
            key: Cow::Borrowed(&[russh::keys::Algorithm::Ed25519]),
            ..russh::Preferred::default()
        },
        ..client::Config::default()
    });

    let handshake = async {
        let mut handle = client::connect_stream(config, socket, handler)
            .await
            .map_err(|error| handshake_error(error, target, &observed, &unreachable))?;
        let auth = handle
            .authenticate_publickey(
                target.user(),
                PrivateKeyWithHashAlg::new(key.russh_key(), None),
            )
            .await
            .map_err(|error| handshake_error(error, target, &observed, &unreachable))?;
        if !auth.success() {
            return Err(SshError::AuthRejected {
                user: target.user().to_owned(),
            });
        }
        Ok(handle)
    };
    let handle = match tokio::time::timeout(options.handshake_timeout, handshake).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(unreachable(format!(
                "the server accepted the connection but did not complete the SSH handshake within \
                 {} s",
                options.handshake_timeout.as_secs_f32()
            )));
        }
    };
    tracing::debug!(%address, user = target.user(), "SSH connected");
    Ok(SshSession {
        connection: Arc::new(Connection { handle, observed }),
        target: target.clone(),
        options: options.clone(),
    })
}

fn handshake_error(
    error: russh::Error,
    target: &SshTarget,
    observed: &Observed,
    unreachable: &dyn Fn(String) -> SshError,
) -> SshError {
    if let Some(presented_fingerprint) = get(&observed.rejected_host_key) {
        return SshError::HostKeyMismatch {
            expected_fingerprint: target.host_key().fingerprint(),
            presented_fingerprint,
        };
    }
    match error {
        russh::Error::NoCommonAlgo { kind, ours, theirs } => SshError::Protocol(format!(
            "the server and SAM share no {kind:?} algorithm (SAM offers {ours:?}, the server \
             {theirs:?}); the workspace needs an ssh-ed25519 host key and a current OpenSSH"
        )),
        russh::Error::Version => SshError::Protocol(format!(
            "the service at {} does not speak SSH",
            target.address()
        )),
        // The server went away mid-handshake: typical of a booting VM or sshd restarting.
        russh::Error::IO(_)
        | russh::Error::HUP
        | russh::Error::Disconnect
        | russh::Error::SendError
        | russh::Error::ConnectionTimeout
        | russh::Error::KeepaliveTimeout
        | russh::Error::InactivityTimeout => unreachable(format!(
            "the connection closed during the SSH handshake ({})",
            get(&observed.disconnect_reason).unwrap_or_else(|| error.to_string())
        )),
        other => SshError::Protocol(other.to_string()),
    }
}

/// Connects like [`connect`], retrying at a fixed `interval` (the pause after each failed
/// attempt; no backoff, since "not up yet" is not a failure to back off from) until it
/// succeeds or `timeout` has passed — the "is the new VM up yet" wait. Each attempt is cut
/// short at the deadline. Only transient errors ([`SshError::is_transient`]) are retried; a
/// host-key mismatch or an auth rejection returns at once.
///
/// # Errors
/// The first permanent error, or the last transient one once the deadline has passed.
pub async fn wait_for_ssh(
    target: &SshTarget,
    key: &ClientKey,
    options: &SshOptions,
    interval: Duration,
    timeout: Duration,
) -> Result<SshSession, SshError> {
    options.validate()?;
    let deadline = Instant::now() + timeout;
    let mut attempt = 0_u32;
    loop {
        attempt = attempt.saturating_add(1);
        let remaining = deadline.saturating_duration_since(Instant::now());
        let error = match tokio::time::timeout(remaining, connect(target, key, options)).await {
            Ok(Ok(session)) => return Ok(session),
            Ok(Err(error)) if !error.is_transient() => return Err(error),
            Ok(Err(error)) => error,
            Err(_) => SshError::Unreachable {
                address: target.address(),
                port: target.port(),
                reason: format!("no SSH answer within {} s", timeout.as_secs_f32()),
            },
        };
        tracing::debug!(attempt, %error, "SSH not ready yet");
        let next = (Instant::now() + interval).min(deadline);
        tokio::time::sleep_until(next).await;
        if Instant::now() >= deadline {
            return Err(error);
        }
    }
}

impl SshSession {
    /// Runs `command` through the login user's shell with stdin closed and collects its output.
    /// A non-zero exit status is not an error here; see [`ExecOutput::check`].
    ///
    /// `command` is handed to the remote shell as is: build it only from constants and
    /// values quoted for the shell.
    ///
    /// # Errors
    /// [`SshError::Disconnected`] when the connection drops, [`SshError::OutputTooLarge`] past
    /// [`SshOptions::max_exec_output_bytes`] of stdout (the command's channel is closed),
    /// [`SshError::Protocol`] when the server refuses the command.
    pub async fn exec(&self, command: &str) -> Result<ExecOutput, SshError> {
        let mut stream = self.open(command, EXEC_STDERR_TAIL_BYTES).await?;
        stream
            .shutdown()
            .await
            .map_err(|error| self.stream_error(&error))?;
        let limit = self.options.max_exec_output_bytes;
        let mut stdout = Vec::new();
        (&mut stream)
            .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
            .read_to_end(&mut stdout)
            .await
            .map_err(|error| self.stream_error(&error))?;
        if stdout.len() > limit {
            // Dropping the stream closes the channel, which stops the command.
            return Err(SshError::OutputTooLarge { limit_bytes: limit });
        }
        let status = stream.wait_exit().await?;
        Ok(ExecOutput {
            status,
            stdout,
            stderr: stream.stderr_tail_bytes(),
        })
    }

    /// Starts `command` and returns its stdin/stdout as a byte stream (see [`SshStream`]);
    /// how the desktop runs `sam-host connect` on the VM. `command` is handed to the remote
    /// shell as is, like [`SshSession::exec`].
    ///
    /// # Errors
    /// [`SshError::Disconnected`] when the connection is gone; [`SshError::Protocol`] when the
    /// server refuses a new channel (e.g. its `MaxSessions`).
    pub async fn open_stream(&self, command: &str) -> Result<SshStream, SshError> {
        self.open(command, STREAM_STDERR_TAIL_BYTES).await
    }

    async fn open(&self, command: &str, stderr_limit: usize) -> Result<SshStream, SshError> {
        let handle = &self.connection.handle;
        let channel = handle
            .channel_open_session()
            .await
            .map_err(|error| self.connection.error(error))?;
        channel
            .exec(true, command.as_bytes())
            .await
            .map_err(|error| self.connection.error(error))?;
        let (read_half, write_half) = channel.split();
        Ok(SshStream::new(
            read_half,
            write_half,
            Arc::clone(&self.connection),
            stderr_limit,
        ))
    }

    fn stream_error(&self, error: &std::io::Error) -> SshError {
        if self.connection.is_closed() || error.kind() == std::io::ErrorKind::ConnectionAborted {
            self.connection.disconnected_error()
        } else {
            SshError::Protocol(error.to_string())
        }
    }

    /// Whether the connection has ended (the server went away, keepalives failed, or
    /// [`SshSession::close`] was called). A closed session only returns errors; reconnect.
    pub fn is_closed(&self) -> bool {
        self.connection.is_closed()
    }

    /// The target this session is connected to.
    pub fn target(&self) -> &SshTarget {
        &self.target
    }

    /// The algorithms negotiated with the server (`kex=… host_key=… cipher=… mac=…`), for
    /// diagnostics.
    pub fn negotiated_algorithms(&self) -> Option<String> {
        get(&self.connection.observed.algorithms)
    }

    /// Says goodbye to the server and ends the connection, streams included.
    ///
    /// # Errors
    /// [`SshError::Disconnected`] when it had already ended.
    pub async fn close(self) -> Result<(), SshError> {
        self.connection
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await
            .map_err(|error| self.connection.error(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_options_are_valid_and_zero_is_not() {
        assert_eq!(SshOptions::default().validate().ok(), Some(()));
        let zeroed = [
            SshOptions {
                connect_timeout: Duration::ZERO,
                ..SshOptions::default()
            },
            SshOptions {
                keepalive_interval: Duration::ZERO,
                ..SshOptions::default()
            },
            SshOptions {
                keepalive_max: 0,
                ..SshOptions::default()
            },
            SshOptions {
                inactivity_timeout: Some(Duration::ZERO),
                ..SshOptions::default()
            },
        ];
        for options in zeroed {
            assert!(matches!(options.validate(), Err(SshError::InvalidInput(_))));
        }
    }

    #[test]
    fn check_turns_a_failure_into_an_error_with_the_stderr_tail() {
        let output = ExecOutput {
            status: 2,
            stdout: b"out".to_vec(),
            stderr: b"early noise\nthe real reason\n".to_vec(),
        };
        assert_eq!(
            format!("{output:?}"),
            "ExecOutput { status: 2, stdout_len: 3, stderr_len: 28 }"
        );
        match output.check() {
            Err(SshError::CommandFailed {
                status,
                stderr_tail,
            }) => {
                assert_eq!(status, 2);
                assert_eq!(stderr_tail, "early noise\nthe real reason");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(tail_text(b"abcdef", 3), "def");
    }
}

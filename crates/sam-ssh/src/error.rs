//! [`SshError`]: what went wrong, in terms the desktop can act on.

use std::path::PathBuf;

/// Everything that can go wrong talking SSH to a workspace VM.
///
/// Messages are written for the person using the app: they say what happened and what to do.
/// They never contain key material. [`SshError::is_transient`] tells a retry loop whether
/// trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// Nothing answered SSH at the address: connection refused, timed out, no route, the name
    /// does not resolve, or the server hung up before the handshake finished. Normal while a
    /// VM boots; retry at a fixed interval up to a deadline.
    #[error(
        "could not reach the SSH server at {address}: {reason}. If the machine was just created \
         it may still be booting; otherwise check that it is running and that port {port} is \
         open in its cloud firewall"
    )]
    Unreachable {
        /// `host:port` as dialled.
        address: String,
        /// The port, for the advice in the message.
        port: u16,
        /// What the network said (refused, timed out, …).
        reason: String,
    },

    /// The server proved ownership of a different host key than the one pinned for this
    /// workspace. The connection was dropped before authenticating: nothing was sent to it.
    #[error(
        "the SSH server presented host key {presented_fingerprint}, but this workspace expects \
         {expected_fingerprint}. This can mean someone is intercepting the connection (an attack), \
         or that the machine was rebuilt or replaced outside SAM. Nothing was sent to the server. \
         If you did not rebuild it, do not connect; otherwise recreate the workspace from SAM so a \
         new host key is pinned"
    )]
    HostKeyMismatch {
        /// SHA-256 fingerprint of the pinned key (`SHA256:…`).
        expected_fingerprint: String,
        /// SHA-256 fingerprint of the key the server presented, or a description when it
        /// presented something that is not a plain key (a certificate).
        presented_fingerprint: String,
    },

    /// The server refused our key for this user. Permanent: retrying will not help.
    #[error(
        "the SSH server refused the workspace key for user {user}. The key in your keyring may not \
         be the one installed on the machine (was it recreated?), or the user does not exist"
    )]
    AuthRejected {
        /// The login user that was refused.
        user: String,
    },

    /// The connection dropped (the server went away, the network changed, keepalives went
    /// unanswered, or the laptop slept). Reconnect.
    #[error("the SSH connection to the workspace was lost: {reason}. SAM will reconnect")]
    Disconnected {
        /// What is known about why.
        reason: String,
    },

    /// A remote command exited with a non-zero status.
    #[error("the remote command failed with exit status {status}: {stderr_tail}")]
    CommandFailed {
        /// The exit status (128 + signal number when a signal killed it).
        status: u32,
        /// The last part of what the command wrote to stderr, lossily decoded.
        stderr_tail: String,
    },

    /// A command's output exceeded the bound set in
    /// [`SshOptions::max_exec_output_bytes`](crate::SshOptions::max_exec_output_bytes).
    #[error("the remote command wrote more than {limit_bytes} bytes of output; it was stopped")]
    OutputTooLarge {
        /// The bound that was exceeded.
        limit_bytes: usize,
    },

    /// The server spoke SSH in a way we cannot work with (no common algorithm, a refused
    /// channel request, a malformed reply). Permanent.
    #[error("SSH protocol problem: {0}")]
    Protocol(String),

    /// An argument was rejected before anything was sent: a host name with spaces, a relative
    /// or hostile remote path, a malformed key. A bug in the caller or bad user input.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A local file (SAM's managed ssh config or known_hosts) could not be written.
    #[error("could not write {}: {source}", path.display())]
    LocalFile {
        /// The file SAM tried to write.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl SshError {
    /// Whether trying again later can succeed: the server was unreachable or the connection
    /// dropped. A host-key mismatch, an auth rejection, bad input or a protocol problem is
    /// permanent and must reach the user instead of a retry loop.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::Disconnected { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_network_failures_are_transient() {
        let unreachable = SshError::Unreachable {
            address: "10.0.0.1:22".into(),
            port: 22,
            reason: "connection refused".into(),
        };
        assert!(unreachable.is_transient());
        assert!(
            SshError::Disconnected {
                reason: "reset".into()
            }
            .is_transient()
        );
        let permanent = [
            SshError::HostKeyMismatch {
                expected_fingerprint: "SHA256:a".into(),
                presented_fingerprint: "SHA256:b".into(),
            },
            SshError::AuthRejected { user: "sam".into() },
            SshError::Protocol("x".into()),
            SshError::InvalidInput("x".into()),
            SshError::CommandFailed {
                status: 1,
                stderr_tail: String::new(),
            },
            SshError::OutputTooLarge { limit_bytes: 1 },
        ];
        for error in permanent {
            assert!(!error.is_transient(), "{error:?}");
        }
    }

    #[test]
    fn a_mismatch_says_what_to_do() {
        let message = SshError::HostKeyMismatch {
            expected_fingerprint: "SHA256:expected".into(),
            presented_fingerprint: "SHA256:presented".into(),
        }
        .to_string();
        assert!(message.contains("SHA256:expected"));
        assert!(message.contains("SHA256:presented"));
        assert!(message.contains("attack"));
        assert!(message.contains("rebuilt"));
        assert!(message.contains("do not connect"));
    }
}

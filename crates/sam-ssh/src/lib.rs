//! The SSH transport from the desktop to SAM workspace VMs, built on `russh` (no `ssh`
//! binary involved).
//!
//! [`connect`] (or [`wait_for_ssh`] while a VM boots) opens an [`SshSession`] to an
//! [`SshTarget`] after checking that the server presents exactly the [`HostKeyPin`] SAM
//! generated for it — never trust-on-first-use — and logs in with the workspace's ed25519
//! [`ClientKey`]. On a session, [`SshSession::exec`] runs a command, [`SshSession::open_stream`]
//! turns a command's stdin/stdout into a byte stream (how the desktop reaches
//! `sam-host connect`), and [`SshSession::upload`] installs a file atomically, skipping it when
//! the checksum already matches. [`ssh_config_entry`] and friends let the user's own `ssh`
//! reach the same VM with the same pinned key, and [`lend_to_agent`] lends it the key through the
//! user's ssh-agent (never a key file).
//!
//! This crate must never accept a host key other than the pinned one, never write or log key
//! material (anything holding the private key prints `<redacted>`), never put an unvalidated
//! value into a shell command or an ssh config file, and never edit `~/.ssh/config`.

mod agent;
mod config;
mod error;
mod session;
mod stream;
mod target;
mod upload;

#[cfg(unix)]
pub use agent::lend_to_agent;
pub use agent::{Lent, agent_socket_from_env};
pub use config::{
    MANAGED_CONFIG_FILE, MANAGED_KNOWN_HOSTS_FILE, include_directive, known_hosts_line,
    ssh_config_entry, write_managed_config, write_managed_known_hosts,
};
pub use error::SshError;
pub use session::{ExecOutput, SshOptions, SshSession, connect, wait_for_ssh};
pub use stream::SshStream;
pub use target::{ClientKey, HostKeyPin, SshTarget};
pub use upload::UploadOutcome;

#[cfg(test)]
mod tests {
    use super::*;

    /// The desktop shares a session between tasks and awaits these futures on a
    /// multi-threaded runtime: they must be `Send`, the shared types `Sync`.
    #[test]
    fn sessions_streams_and_their_futures_cross_threads() {
        fn send<T: Send>(_: &T) {}
        fn sync<T: Send + Sync>() {}
        sync::<SshSession>();
        sync::<SshError>();
        sync::<ClientKey>();
        sync::<SshTarget>();
        sync::<SshOptions>();
        let _never_called = |session: &SshSession,
                             stream: &mut SshStream,
                             target: &SshTarget,
                             key: &ClientKey,
                             options: &SshOptions| {
            send(stream);
            send(&stream.wait_exit());
            send(&session.exec("true"));
            send(&session.open_stream("cat"));
            send(&session.upload(b"", "/tmp/x", 0o644));
            send(&connect(target, key, options));
            let interval = std::time::Duration::from_secs(1);
            send(&wait_for_ssh(target, key, options, interval, interval));
        };
    }
}

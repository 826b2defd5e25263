//! Lending the workspace key to the user's running ssh-agent, so the user's own `ssh` and
//! editors' remote modes (VS Code and Cursor Remote-SSH, Zed) authenticate with it while the
//! private key stays in the OS keyring and is never written to disk.
//!
//! The key is added with a lifetime, so the agent forgets it again on its own. The agent
//! protocol is russh's client (the same crate as the rest of this one).

#[cfg(unix)]
use std::path::Path;
use std::path::PathBuf;
#[cfg(unix)]
use std::time::Duration;

#[cfg(unix)]
use russh::keys::agent::Constraint;
#[cfg(unix)]
use russh::keys::agent::client::AgentClient;

#[cfg(unix)]
use crate::{ClientKey, SshError};

/// What [`lend_to_agent`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lent {
    /// The agent did not hold the key; it does now, until the lifetime ends.
    Added,
    /// The agent already held the key (lent earlier, or added by the user).
    AlreadyThere,
}

/// The user's ssh-agent socket, from `SSH_AUTH_SOCK`.
pub fn agent_socket_from_env() -> Option<PathBuf> {
    std::env::var_os("SSH_AUTH_SOCK")
        .filter(|socket| !socket.is_empty())
        .map(PathBuf::from)
}

#[cfg(unix)]
/// Adds `key` to the ssh-agent listening on `socket` for `lifetime` (at least a minute),
/// unless the agent already holds it.
///
/// # Errors
/// [`SshError::InvalidInput`] when no agent answers there or it refuses the key; the message
/// says what to do and never holds key material.
pub async fn lend_to_agent(
    socket: &Path,
    key: &ClientKey,
    lifetime: Duration,
) -> Result<Lent, SshError> {
    let no_agent = |why: String| {
        SshError::InvalidInput(format!(
            "the ssh-agent at {} did not answer ({why}). Start SAM Desktop from a desktop \
             session that runs one (most do; `eval $(ssh-agent)` otherwise)",
            socket.display()
        ))
    };
    let mut agent = AgentClient::connect_uds(socket)
        .await
        .map_err(|e| no_agent(e.to_string()))?;
    let ours = key.russh_key();
    let public = ours.public_key();
    let held = agent
        .request_identities()
        .await
        .map_err(|e| no_agent(e.to_string()))?;
    if held
        .iter()
        .any(|identity| identity.public_key().key_data() == public.key_data())
    {
        return Ok(Lent::AlreadyThere);
    }
    let seconds = u32::try_from(lifetime.as_secs().max(60)).unwrap_or(u32::MAX);
    agent
        .add_identity(&ours, &[Constraint::KeyLifetime { seconds }])
        .await
        .map_err(|e| {
            SshError::InvalidInput(format!(
                "the ssh-agent did not accept the workspace key: {e}"
            ))
        })?;
    Ok(Lent::Added)
}

//! A connection to a workspace's `sam-host`: for a local workspace, a `sam-host connect`
//! child process whose stdin/stdout carry the protocol (the daemon behind it outlives both
//! the child and the app).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use sam_protocol::client::HostClient;
use sam_protocol::{RequestBody, ResponseBody, Welcome};
use tokio::process::{Child, Command};

use crate::error::WorkspaceError;

/// How long `connect` may take to start a daemon and answer the handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);

/// An open connection to a workspace host.
#[derive(Debug)]
pub struct HostLink {
    client: HostClient,
    welcome: Welcome,
    /// The local `sam-host connect` bridge; killing it closes the connection, never the
    /// daemon. Remote links need none: the SSH stream lives in the client's tasks.
    _bridge: Option<Child>,
}

impl HostLink {
    /// Connects to the daemon of `state_dir`, starting it when none runs.
    ///
    /// # Errors
    /// When the binary is missing, or the host does not answer the handshake in time.
    pub async fn local(binary: &Path, state_dir: &Path) -> Result<Self, WorkspaceError> {
        if !binary.is_file() {
            return Err(WorkspaceError::HostBinaryMissing(binary.to_owned()));
        }
        let log_dir = state_dir.parent().unwrap_or(state_dir);
        std::fs::create_dir_all(log_dir).map_err(WorkspaceError::io(format!(
            "Could not create {}",
            log_dir.display()
        )))?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_dir.join("connect.log"))
            .map_err(WorkspaceError::io("Could not open the host connection log"))?;
        let mut bridge = Command::new(binary)
            .arg("connect")
            .arg("--state-dir")
            .arg(state_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                WorkspaceError::Host(format!("could not start {}: {e}", binary.display()))
            })?;
        let (Some(stdin), Some(stdout)) = (bridge.stdin.take(), bridge.stdout.take()) else {
            return Err(WorkspaceError::Host(
                "the host's pipes were not set up".into(),
            ));
        };
        let handshake = HostClient::connect(stdout, stdin, "sam-desktop");
        let (client, welcome) = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
            .await
            .map_err(|_| {
                WorkspaceError::Host(format!(
                    "no handshake within {} s (see {})",
                    HANDSHAKE_TIMEOUT.as_secs(),
                    log_dir.join("connect.log").display()
                ))
            })?
            .map_err(|e| WorkspaceError::Host(e.to_string()))?;
        Ok(Self {
            client,
            welcome,
            _bridge: Some(bridge),
        })
    }

    /// A link over an already shaken-hands client (a remote host over SSH).
    pub(crate) fn from_parts(client: HostClient, welcome: Welcome) -> Self {
        Self {
            client,
            welcome,
            _bridge: None,
        }
    }

    /// The host's greeting: its version and state at connect time.
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// The protocol client, for requests and events.
    pub fn client(&self) -> &HostClient {
        &self.client
    }

    /// Sends `body` and waits for the answer.
    ///
    /// # Errors
    /// When the host refuses the request or the connection breaks.
    pub async fn request(
        &self,
        body: RequestBody,
    ) -> Result<ResponseBody, sam_protocol::client::ClientError> {
        self.client.request(body).await
    }
}

//! `sam-host connect`: joins this process's stdin/stdout to the daemon's socket, starting the
//! daemon first when none runs.
//!
//! This is what the desktop runs, as a local child process or over an SSH exec channel. The
//! daemon it starts is detached (its own process group, stdio away from ours), so it outlives
//! this process, the SSH session and the app. Nothing but protocol bytes goes to stdout.

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::HostError;
use crate::state_dir::StateDir;

/// How long `connect` waits for a daemon it started to open its socket.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How often it looks.
const START_POLL: Duration = Duration::from_millis(20);
/// How much of a failed daemon's output goes into the error.
const OUTPUT_TAIL_BYTES: usize = 2000;

/// Connects to the daemon of `state_dir` (starting `exe serve` when none answers) and copies
/// bytes both ways until the daemon closes the connection. When stdin ends, the socket's write
/// side is shut so the daemon can answer what is in flight and close.
///
/// # Errors
/// [`HostError::Daemon`] when no daemon could be reached or started, [`HostError::Io`] when the
/// state directory cannot be created.
pub async fn connect(state_dir: &StateDir, exe: &Path) -> Result<(), HostError> {
    state_dir.ensure()?;
    let stream = match UnixStream::connect(state_dir.socket_path()).await {
        Ok(stream) => stream,
        Err(_) => start_daemon(state_dir, exe).await?,
    };
    let (mut from_daemon, mut to_daemon) = stream.into_split();
    let upstream = tokio::spawn(async move {
        let mut stdin = tokio::io::stdin();
        let _ = pump(&mut stdin, &mut to_daemon).await;
        let _ = to_daemon.shutdown().await;
    });
    let mut stdout = tokio::io::stdout();
    let result = pump(&mut from_daemon, &mut stdout).await;
    upstream.abort();
    match result {
        Ok(()) => Ok(()),
        // The desktop closed our stdout: nothing left to deliver.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(source) => Err(HostError::Io {
            context: "relaying the daemon's connection".to_owned(),
            source,
        }),
    }
}

/// Copies until end of input, flushing after every read (frames must not sit in a buffer).
async fn pump<R, W>(reader: &mut R, writer: &mut W) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buffer = vec![0_u8; 64 * 1024];
    loop {
        let read = reader.read(&mut buffer).await?;
        if read == 0 {
            return Ok(());
        }
        writer.write_all(&buffer[..read]).await?;
        writer.flush().await?;
    }
}

/// Starts `exe serve --state-dir DIR` detached and waits for its socket.
async fn start_daemon(state_dir: &StateDir, exe: &Path) -> Result<UnixStream, HostError> {
    let output_path = state_dir.daemon_output_path();
    let output = File::options()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&output_path)
        .map_err(|source| HostError::Io {
            context: format!("opening {}", output_path.display()),
            source,
        })?;
    let mut child = Command::new(exe)
        .arg("serve")
        .arg("--state-dir")
        .arg(state_dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(output)
        // Its own process group: a signal to ours (Ctrl-C, a closing SSH session) spares it.
        .process_group(0)
        .spawn()
        .map_err(|e| {
            HostError::Daemon(format!(
                "sam-host serve could not be started from {}: {e}",
                exe.display()
            ))
        })?;
    let deadline = Instant::now() + START_TIMEOUT;
    let mut exited_cleanly = false;
    loop {
        if let Ok(stream) = UnixStream::connect(state_dir.socket_path()).await {
            reap_later(child);
            return Ok(stream);
        }
        if !exited_cleanly {
            match child.try_wait() {
                // Another daemon won the lock: its socket will appear.
                Ok(Some(status)) if status.success() => exited_cleanly = true,
                Ok(Some(status)) => {
                    return Err(HostError::Daemon(format!(
                        "sam-host serve exited ({status}): {}",
                        output_tail(&output_path)
                    )));
                }
                Ok(None) | Err(_) => {}
            }
        }
        if Instant::now() >= deadline {
            return Err(HostError::Daemon(format!(
                "sam-host serve did not open {} within {} s: {}",
                state_dir.socket_path().display(),
                START_TIMEOUT.as_secs(),
                output_tail(&output_path)
            )));
        }
        tokio::time::sleep(START_POLL).await;
    }
}

/// The daemon runs on after we exit (then init reaps it); if it exits first while we still
/// run, a thread reaps it so it does not linger as a zombie.
fn reap_later(mut child: Child) {
    std::thread::spawn(move || {
        let _ = child.wait();
    });
}

fn output_tail(path: &Path) -> String {
    let Ok(text) = std::fs::read(path) else {
        return "(no output)".to_owned();
    };
    let start = text.len().saturating_sub(OUTPUT_TAIL_BYTES);
    let tail = String::from_utf8_lossy(&text[start..]).trim().to_owned();
    if tail.is_empty() {
        "(no output)".to_owned()
    } else {
        tail
    }
}

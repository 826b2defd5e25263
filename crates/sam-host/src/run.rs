//! Running a program for `Run`: argv only (never a shell), stdout capped, the end of stderr
//! kept, and a deadline after which the program is stopped.
//!
//! On the deadline only the process `sam-host` started is killed (the program on the host, or
//! the engine's `exec` client for a container); children it left behind are not hunted down.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sam_protocol::{
    ErrorCode, MAX_RUN_STDERR_TAIL_BYTES, MAX_RUN_STDOUT_BYTES, MAX_RUN_TIMEOUT_MS, ProtocolError,
    ResponseBody,
};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::askpass::{ASKPASS_MODE_ENV, TOKEN_ENV};
use crate::checkout::tail_chars;

/// How long a stopped program may take to be reaped.
const REAP_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes read from a pipe at a time.
const CHUNK_BYTES: usize = 16 * 1024;

/// How much of stderr a timeout message quotes, in characters.
const TIMEOUT_TAIL_CHARS: usize = 2000;

/// Checks a `Run` request and returns its time limit.
pub(crate) fn validate(argv: &[String], timeout_ms: u64) -> Result<Duration, ProtocolError> {
    let invalid = |message: &str| ProtocolError::new(ErrorCode::InvalidRequest, message);
    let Some(program) = argv.first() else {
        return Err(invalid("run needs a program: argv is empty"));
    };
    if program.is_empty() {
        return Err(invalid("run needs a program: argv[0] is empty"));
    }
    if program.starts_with('-') {
        return Err(invalid(
            "argv[0] must be a program, not an option (it starts with -)",
        ));
    }
    if argv.iter().any(|arg| arg.contains('\0')) {
        return Err(invalid("an argument contains a NUL byte"));
    }
    if timeout_ms == 0 {
        return Err(invalid("timeout_ms must be at least 1"));
    }
    Ok(Duration::from_millis(timeout_ms.min(MAX_RUN_TIMEOUT_MS)))
}

/// The command that runs `argv` on the host in the checkout `root`. A relative program path
/// with a `/` (such as `./build.sh`) is taken relative to the checkout.
pub(crate) fn host_command(root: &Path, argv: &[String]) -> Command {
    let (program, args) = argv
        .split_first()
        .map_or(("", &[][..]), |(p, a)| (p.as_str(), a));
    let program = if program.contains('/') && Path::new(program).is_relative() {
        root.join(program)
    } else {
        PathBuf::from(program)
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(root)
        // The daemon never holds these, but a program must not inherit them if it ever did.
        .env_remove(TOKEN_ENV)
        .env_remove(ASKPASS_MODE_ENV);
    command
}

/// Where a program runs, for messages.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Place<'a> {
    /// On the host.
    Host,
    /// Through this engine's `exec`.
    Container(&'a str),
}

/// Runs `command` to its end or to `limit`, and answers with [`ResponseBody::Ran`].
///
/// # Errors
/// [`ErrorCode::NotFound`] when the program (or the engine) does not exist,
/// [`ErrorCode::TimedOut`] when it ran past `limit` (it is killed),
/// [`ErrorCode::Io`] when it cannot be started or waited for.
pub(crate) async fn run(
    mut command: Command,
    program: &str,
    place: Place<'_>,
    limit: Duration,
) -> Result<ResponseBody, ProtocolError> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let shown = tail_chars(program, 200);
    let mut child = command.spawn().map_err(|error| match place {
        Place::Host if error.kind() == std::io::ErrorKind::NotFound => ProtocolError::new(
            ErrorCode::NotFound,
            format!("no program `{shown}` on the host (looked up on PATH, or in the checkout)"),
        ),
        Place::Host => ProtocolError::new(
            ErrorCode::Io,
            format!("`{shown}` could not be started on the host: {error}"),
        ),
        Place::Container(engine) => ProtocolError::new(
            if error.kind() == std::io::ErrorKind::NotFound {
                ErrorCode::NotFound
            } else {
                ErrorCode::Io
            },
            format!(
                "the container engine `{engine}` could not be started to run `{shown}`: {error}"
            ),
        ),
    })?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(ProtocolError::new(
            ErrorCode::Internal,
            "the program's output pipes are missing",
        ));
    };

    let mut out = Capped::default();
    let mut err_tail = Vec::new();
    let finished = tokio::time::timeout(limit, async {
        let (read_out, read_err, status) = tokio::join!(
            read_capped(stdout, &mut out),
            read_tail(stderr, &mut err_tail),
            child.wait()
        );
        read_out.and(read_err).and(status)
    })
    .await;
    let status = match finished {
        Ok(Ok(status)) => status,
        Ok(Err(error)) => {
            return Err(ProtocolError::new(
                ErrorCode::Io,
                format!("running `{shown}` failed: {error}"),
            ));
        }
        Err(_) => {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(REAP_TIMEOUT, child.wait()).await;
            let tail = String::from_utf8_lossy(&err_tail);
            return Err(ProtocolError::new(
                ErrorCode::TimedOut,
                format!(
                    "`{shown}` ran longer than {} ms and was stopped. Its error output ended \
                     with: {}",
                    limit.as_millis(),
                    tail_chars(tail.trim(), TIMEOUT_TAIL_CHARS)
                ),
            ));
        }
    };
    Ok(ResponseBody::Ran {
        status: exit_code(status),
        stdout_truncated: out.truncated,
        stdout: lossy(out.bytes, out.truncated),
        stderr_tail: lossy(err_tail, false),
    })
}

/// Stdout up to [`MAX_RUN_STDOUT_BYTES`].
#[derive(Debug, Default)]
struct Capped {
    bytes: Vec<u8>,
    truncated: bool,
}

/// Reads everything (so the program never blocks on a full pipe), keeping the first bytes.
async fn read_capped(mut reader: impl AsyncRead + Unpin, out: &mut Capped) -> std::io::Result<()> {
    let mut chunk = vec![0; CHUNK_BYTES];
    loop {
        let read = reader.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        let room = MAX_RUN_STDOUT_BYTES.saturating_sub(out.bytes.len());
        if read > room {
            out.truncated = true;
        }
        out.bytes.extend_from_slice(&chunk[..read.min(room)]);
    }
}

/// Reads everything, keeping the last [`MAX_RUN_STDERR_TAIL_BYTES`].
async fn read_tail(mut reader: impl AsyncRead + Unpin, tail: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = vec![0; CHUNK_BYTES];
    let keep_last = |tail: &mut Vec<u8>| {
        if tail.len() > MAX_RUN_STDERR_TAIL_BYTES {
            tail.drain(..tail.len() - MAX_RUN_STDERR_TAIL_BYTES);
        }
    };
    loop {
        let read = reader.read(&mut chunk).await?;
        if read == 0 {
            keep_last(tail);
            return Ok(());
        }
        tail.extend_from_slice(&chunk[..read]);
        // Trim in batches, not on every read.
        if tail.len() > 2 * MAX_RUN_STDERR_TAIL_BYTES {
            keep_last(tail);
        }
    }
}

/// The bytes as text; a character cut at the end of a truncated capture is dropped rather
/// than shown as a replacement character.
fn lossy(mut bytes: Vec<u8>, truncated: bool) -> String {
    if truncated
        && let Err(error) = std::str::from_utf8(&bytes)
        && error.error_len().is_none()
    {
        bytes.truncate(error.valid_up_to());
    }
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    }
}

/// The exit code, or `128 + signal` as shells report a program a signal ended.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn argv(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn odd_requests_are_refused() {
        assert!(validate(&[], 10).is_err());
        assert!(validate(&argv(&[""]), 10).is_err());
        assert!(validate(&argv(&["--help"]), 10).is_err());
        assert!(validate(&argv(&["ls", "a\0b"]), 10).is_err());
        assert!(validate(&argv(&["ls"]), 0).is_err());
        assert_eq!(
            validate(&argv(&["ls"]), u64::MAX).unwrap(),
            Duration::from_millis(MAX_RUN_TIMEOUT_MS)
        );
    }

    #[tokio::test]
    async fn output_is_capped_and_the_stderr_tail_kept() {
        let dir = tempfile::tempdir().unwrap();
        // Two MiB of stdout, 200 KiB of stderr ending in a marker, exit 3.
        let script = "head -c 2097152 /dev/zero | tr '\\0' x; \
                      head -c 204800 /dev/zero | tr '\\0' e >&2; echo END >&2; exit 3";
        let command = host_command(dir.path(), &argv(&["sh", "-c", script]));
        let answer = run(command, "sh", Place::Host, Duration::from_secs(30))
            .await
            .unwrap();
        let ResponseBody::Ran {
            status,
            stdout,
            stdout_truncated,
            stderr_tail,
        } = answer
        else {
            panic!("expected ran, got {answer:?}");
        };
        assert_eq!(status, 3);
        assert!(stdout_truncated);
        assert_eq!(stdout.len(), MAX_RUN_STDOUT_BYTES);
        assert_eq!(stderr_tail.len(), MAX_RUN_STDERR_TAIL_BYTES);
        assert!(
            stderr_tail.ends_with("eeeEND\n"),
            "{}",
            &stderr_tail[stderr_tail.len() - 20..]
        );
    }

    #[tokio::test]
    async fn a_program_past_its_deadline_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let command = host_command(
            dir.path(),
            &argv(&["sh", "-c", "echo started >&2; exec sleep 30"]),
        );
        let started = std::time::Instant::now();
        let error = run(command, "sh", Place::Host, Duration::from_millis(300))
            .await
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::TimedOut);
        assert!(error.message.contains("started"), "{}", error.message);
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_character_cut_by_the_cap_is_dropped() {
        let mut bytes = b"ab".to_vec();
        bytes.extend_from_slice(&"é".as_bytes()[..1]);
        assert_eq!(lossy(bytes.clone(), true), "ab");
        assert_eq!(lossy(bytes, false), "ab\u{fffd}");
    }
}

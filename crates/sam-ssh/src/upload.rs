//! [`SshSession::upload`]: put a file on the VM, checksummed, atomically, only when needed.

use std::borrow::Cow;

use sha2::{Digest, Sha256};
use ssh_key::rand_core::{OsRng, RngCore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{SshError, SshSession};

/// The longest remote path accepted (Linux's `PATH_MAX`).
const MAX_REMOTE_PATH_BYTES: usize = 4096;

/// What [`SshSession::upload`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadOutcome {
    /// The file was written (it was missing, or its content or mode differed).
    Uploaded,
    /// The remote file already had exactly these bytes and this mode; nothing was sent.
    AlreadyPresent,
}

/// A remote path that is safe to quote into a shell command and means what it says:
/// absolute, normalised (no `.`, `..` or empty components, no trailing `/`), and free of
/// control characters, quotes and backslashes.
///
/// `..` is refused even though the path would stay absolute: callers name fixed install
/// locations, and a path that walks back up is a bug or an attack, never intended.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RemotePath<'a> {
    path: &'a str,
}

impl<'a> RemotePath<'a> {
    fn parse(path: &'a str) -> Result<Self, SshError> {
        let invalid = |why: &str| {
            Err(SshError::InvalidInput(format!(
                "remote path {path:?} {why}"
            )))
        };
        if !path.starts_with('/') {
            return invalid("must be absolute");
        }
        if path.len() > MAX_REMOTE_PATH_BYTES {
            return invalid("is too long");
        }
        if path
            .chars()
            .any(|c| c.is_control() || matches!(c, '\'' | '"' | '`' | '\\'))
        {
            return invalid("must not contain control characters, quotes or backslashes");
        }
        let components: Vec<&str> = path.split('/').skip(1).collect();
        if components
            .iter()
            .any(|c| c.is_empty() || *c == "." || *c == "..")
        {
            return invalid("must name a file with no empty, '.' or '..' components");
        }
        Ok(Self { path })
    }

    /// The directory holding the file, where the temporary copy goes (same filesystem, so
    /// the final `mv` is an atomic rename).
    fn parent(&self) -> &str {
        match self.path.rfind('/') {
            Some(0) | None => "/",
            Some(index) => self.path.get(..index).unwrap_or("/"),
        }
    }

    fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or_default()
    }
}

/// Quotes a word for the remote POSIX shell. Done by `shlex` rather than by hand: quoting
/// rules have sharp corners (embedded quotes, NUL), and every word we quote was validated
/// first anyway, so this is a second line of defence, not the only one.
fn quote(word: &str) -> Result<Cow<'_, str>, SshError> {
    shlex::try_quote(word).map_err(|error| {
        SshError::InvalidInput(format!("cannot quote {word:?} for a shell: {error}"))
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl SshSession {
    /// Makes `remote_path` hold exactly `local_bytes` with permission bits `mode` (e.g.
    /// `0o755`) — how the `sam-host` binary reaches a VM.
    ///
    /// The remote SHA-256 and mode are checked first and nothing is sent when both match.
    /// Otherwise the bytes stream into a private temporary file next to the target, the
    /// temporary file's checksum is verified on the VM, its mode set, and it is renamed over
    /// the target with `mv -f` — atomic, so a reader sees the old file or the new one, and a
    /// running binary can be replaced. The parent directory must exist. An interrupted upload
    /// can leave a `.<name>.sam-upload-*` file behind; the next upload does not reuse it.
    ///
    /// # Errors
    /// [`SshError::InvalidInput`] for a path that is relative, has `.`/`..`/empty components,
    /// or contains control characters, quotes or backslashes, and for a mode above `0o7777`;
    /// [`SshError::CommandFailed`] when a remote step fails (missing directory, permissions,
    /// checksum mismatch); [`SshError::Disconnected`] when the connection drops.
    pub async fn upload(
        &self,
        local_bytes: &[u8],
        remote_path: &str,
        mode: u32,
    ) -> Result<UploadOutcome, SshError> {
        let path = RemotePath::parse(remote_path)?;
        if mode > 0o7777 {
            return Err(SshError::InvalidInput(format!(
                "file mode {mode:o} is not a permission mode (at most 7777)"
            )));
        }
        let expected = sha256_hex(local_bytes);
        let target = quote(path.path)?;

        // `sha256sum < file` rather than `sha256sum file`: the output then never contains the
        // file name, which sha256sum would escape in its own way.
        let probe = self
            .exec(&format!(
                "if [ -f {target} ]; then sha256sum < {target} && stat -c %a {target}; fi"
            ))
            .await?
            .check()?;
        let probe = String::from_utf8_lossy(&probe.stdout).into_owned();
        let mut words = probe.split_whitespace();
        let remote_hash = words.next();
        let remote_mode = words.last().and_then(|m| u32::from_str_radix(m, 8).ok());
        if remote_hash == Some(expected.as_str()) && remote_mode == Some(mode) {
            tracing::debug!(remote_path, "upload skipped: already present");
            return Ok(UploadOutcome::AlreadyPresent);
        }

        let temporary = format!(
            "{}/.{}.sam-upload-{:016x}",
            path.parent().trim_end_matches('/'),
            path.file_name(),
            OsRng.next_u64()
        );
        let temporary = quote(&temporary)?.into_owned();

        // umask 077: the partial file is private until its mode is set on purpose.
        let mut stream = self
            .open_stream(&format!(
                "umask 077 && cat > {temporary} || {{ rm -f {temporary}; exit 1; }}"
            ))
            .await?;
        let sent = async {
            stream.write_all(local_bytes).await?;
            stream.shutdown().await?;
            // Drain stdout (empty) so the exit status can arrive.
            let mut sink = Vec::new();
            stream.read_to_end(&mut sink).await.map(|_| ())
        }
        .await;
        if let Err(error) = sent {
            return Err(if self.is_closed() {
                SshError::Disconnected {
                    reason: error.to_string(),
                }
            } else {
                SshError::Protocol(format!("streaming the upload failed: {error}"))
            });
        }
        let status = stream.wait_exit().await?;
        if status != 0 {
            return Err(SshError::CommandFailed {
                status,
                stderr_tail: stream.stderr_tail(),
            });
        }

        // Verify what landed, then publish it. `expected` is hex, safe to interpolate.
        self.exec(&format!(
            "actual=$(sha256sum < {temporary}) && case \"$actual\" in \
             {expected}*) ;; \
             *) rm -f {temporary}; echo 'checksum mismatch after upload' >&2; exit 3 ;; \
             esac && chmod {mode:o} {temporary} && \
             if [ -d {target} ]; then rm -f {temporary}; \
             echo 'the upload target is a directory' >&2; exit 4; fi && \
             mv -f {temporary} {target}"
        ))
        .await?
        .check()?;
        tracing::debug!(remote_path, bytes = local_bytes.len(), "uploaded");
        Ok(UploadOutcome::Uploaded)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn remote_paths_must_be_plain_and_absolute() {
        for bad in [
            "",
            "relative/file",
            "./file",
            "/",
            "/opt/sam/",
            "/opt//sam",
            "/opt/./sam",
            "/opt/../etc/passwd",
            "/opt/sam/..",
            "/tmp/x'; rm -rf /",
            "/tmp/x\"y",
            "/tmp/x`id`",
            "/tmp/x\\y",
            "/tmp/x\ny",
            "/tmp/x\ry",
            "/tmp/x\0y",
            "/tmp/x\ty",
        ] {
            assert!(
                matches!(RemotePath::parse(bad), Err(SshError::InvalidInput(_))),
                "{bad:?}"
            );
        }
        let long = format!("/{}", "a".repeat(MAX_REMOTE_PATH_BYTES));
        assert!(RemotePath::parse(&long).is_err());

        let path = RemotePath::parse("/opt/sam/bin/sam-host").unwrap();
        assert_eq!(path.parent(), "/opt/sam/bin");
        assert_eq!(path.file_name(), "sam-host");
        let root_file = RemotePath::parse("/sam-host").unwrap();
        assert_eq!(root_file.parent(), "/");
        assert_eq!(root_file.file_name(), "sam-host");
        assert!(RemotePath::parse("/tmp/with space/$HOME; x").is_ok());
    }

    #[test]
    fn quoting_neutralises_shell_syntax() {
        assert_eq!(quote("/tmp/a b").unwrap(), "'/tmp/a b'");
        assert_eq!(quote("/tmp/$HOME;x").unwrap(), "'/tmp/$HOME;x'");
        assert_eq!(quote("/opt/sam-host").unwrap(), "/opt/sam-host");
        assert!(quote("/tmp/a\0b").is_err());
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

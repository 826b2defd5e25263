//! OpenSSH client configuration for the user's own tools (`ssh`, `scp`, editors' remote modes).
//!
//! SAM never edits `~/.ssh/config`. It writes its own include file and known_hosts file in a
//! folder of its own ([`write_managed_config`], [`write_managed_known_hosts`]); the user adds
//! one [`include_directive`] line at the top of `~/.ssh/config` (or lets the app offer to),
//! after which `ssh sam-<name>` reaches the workspace with the same pinned host key SAM uses.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{SshError, SshTarget};

/// The file name of SAM's managed ssh config inside its folder.
pub const MANAGED_CONFIG_FILE: &str = "config";
/// The file name of SAM's managed known_hosts inside its folder.
pub const MANAGED_KNOWN_HOSTS_FILE: &str = "known_hosts";

const HEADER: &str =
    "# Written by SAM Desktop. Regenerated whenever workspaces change: edits are lost.\n";

/// The `Host sam-<alias>` block that lets the user's `ssh` reach `target`:
///
/// ```text
/// Host sam-<alias>
///     HostName <host>
///     Port <port>
///     User <user>
///     IdentityFile "<identity_file>"
///     IdentitiesOnly yes
///     UserKnownHostsFile "<known_hosts_file>"
///     StrictHostKeyChecking yes
///     HostKeyAlgorithms ssh-ed25519
///     UpdateHostKeys no
///     ServerAliveInterval 15
///     ServerAliveCountMax 3
/// ```
///
/// `StrictHostKeyChecking yes` with SAM's own known_hosts file (see [`known_hosts_line`])
/// means `ssh` trusts exactly the pinned key and never adds one on first use.
///
/// # Errors
/// [`SshError::InvalidInput`] when `alias` is not 1–64 letters, digits, `.`, `_` or `-`
/// (not starting with `-`), or a path is relative, not UTF-8, or contains control characters,
/// `"` or `%` (ssh would expand `%` tokens). Host and user are already validated by
/// [`SshTarget`].
pub fn ssh_config_entry(
    alias: &str,
    target: &SshTarget,
    identity_file: &Path,
    known_hosts_file: &Path,
) -> Result<String, SshError> {
    validate_alias(alias)?;
    let identity_file = config_path(identity_file)?;
    let known_hosts_file = config_path(known_hosts_file)?;
    Ok(format!(
        "Host sam-{alias}\n\
         \x20   HostName {host}\n\
         \x20   Port {port}\n\
         \x20   User {user}\n\
         \x20   IdentityFile {identity_file}\n\
         \x20   IdentitiesOnly yes\n\
         \x20   UserKnownHostsFile {known_hosts_file}\n\
         \x20   StrictHostKeyChecking yes\n\
         \x20   HostKeyAlgorithms ssh-ed25519\n\
         \x20   UpdateHostKeys no\n\
         \x20   ServerAliveInterval 15\n\
         \x20   ServerAliveCountMax 3\n",
        host = target.host(),
        port = target.port(),
        user = target.user(),
    ))
}

/// The known_hosts line pinning `target`'s host key: `host ssh-ed25519 AAAA…` on port 22,
/// `[host]:port ssh-ed25519 AAAA…` otherwise (OpenSSH's form for other ports).
pub fn known_hosts_line(target: &SshTarget) -> String {
    let key = target.host_key().to_openssh();
    if target.port() == 22 {
        format!("{} {key}", target.host())
    } else {
        format!("[{}]:{} {key}", target.host(), target.port())
    }
}

/// The line the user puts at the top of `~/.ssh/config` (before any `Host` block, or it only
/// applies inside that block) to pick up SAM's entries: `Include "<config_file>"`.
///
/// # Errors
/// [`SshError::InvalidInput`] for a path [`ssh_config_entry`] would refuse.
pub fn include_directive(config_file: &Path) -> Result<String, SshError> {
    Ok(format!("Include {}", config_path(config_file)?))
}

/// Writes SAM's managed ssh config, `<dir>/config`, holding `entries` (from
/// [`ssh_config_entry`]). Atomic: written to a temporary file in `dir` with mode 0600, synced,
/// then renamed over the old file, so `ssh` never reads half a file. Creates `dir` (mode 0700)
/// when missing. Blocking: call it from `spawn_blocking` on an async runtime.
///
/// # Errors
/// [`SshError::LocalFile`] when the folder or file cannot be written.
pub fn write_managed_config(dir: &Path, entries: &[String]) -> Result<PathBuf, SshError> {
    let mut contents = String::from(HEADER);
    for entry in entries {
        contents.push('\n');
        contents.push_str(entry.trim_end());
        contents.push('\n');
    }
    let path = dir.join(MANAGED_CONFIG_FILE);
    write_private_file(dir, &path, contents.as_bytes())?;
    Ok(path)
}

/// Writes SAM's managed known_hosts, `<dir>/known_hosts`, holding `lines` (from
/// [`known_hosts_line`]), the same atomic way as [`write_managed_config`].
///
/// # Errors
/// [`SshError::LocalFile`] when the folder or file cannot be written.
pub fn write_managed_known_hosts(dir: &Path, lines: &[String]) -> Result<PathBuf, SshError> {
    let mut contents = String::from(HEADER);
    for line in lines {
        contents.push_str(line.trim());
        contents.push('\n');
    }
    let path = dir.join(MANAGED_KNOWN_HOSTS_FILE);
    write_private_file(dir, &path, contents.as_bytes())?;
    Ok(path)
}

fn write_private_file(dir: &Path, path: &Path, contents: &[u8]) -> Result<(), SshError> {
    let local = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SshError::LocalFile { path, source }
    };
    create_private_dir(dir).map_err(local(dir))?;
    // A temporary file in the same folder (same filesystem) makes the rename atomic;
    // tempfile creates it with mode 0600 on Unix.
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(local(dir))?;
    file.write_all(contents).map_err(local(path))?;
    set_private_mode(file.as_file()).map_err(local(path))?;
    file.as_file().sync_all().map_err(local(path))?;
    file.persist(path).map_err(|e| local(path)(e.error))?;
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn set_private_mode(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private_mode(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

fn validate_alias(alias: &str) -> Result<(), SshError> {
    let valid = !alias.is_empty()
        && alias.len() <= 64
        && !alias.starts_with('-')
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(())
    } else {
        Err(SshError::InvalidInput(format!(
            "ssh alias {alias:?} must be 1 to 64 letters, digits, '.', '_' or '-', not starting \
             with '-'"
        )))
    }
}

/// A local path as one double-quoted ssh_config word.
fn config_path(path: &Path) -> Result<String, SshError> {
    let invalid = |why: &str| {
        Err(SshError::InvalidInput(format!(
            "path {} {why}",
            path.display()
        )))
    };
    let Some(text) = path.to_str() else {
        return invalid("is not valid UTF-8");
    };
    if !path.is_absolute() {
        return invalid("must be absolute");
    }
    // `"` would end the quoted word; `%` starts an ssh token (%h, %d, …).
    if text
        .chars()
        .any(|c| c.is_control() || matches!(c, '"' | '%'))
    {
        return invalid("must not contain control characters, '\"' or '%'");
    }
    // OpenSSH treats `\` as an escape inside quotes; Windows' OpenSSH accepts `/` instead.
    let text = if cfg!(windows) {
        text.replace('\\', "/")
    } else if text.contains('\\') {
        return invalid("must not contain '\\'");
    } else {
        text.to_owned()
    };
    Ok(format!("\"{text}\""))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use super::*;
    use crate::HostKeyPin;
    use ssh_key::{Algorithm, PrivateKey, rand_core::OsRng};

    fn target(host: &str, port: u16) -> SshTarget {
        let key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
        let pin = HostKeyPin::from_openssh(&key.public_key().to_openssh().unwrap()).unwrap();
        SshTarget::new(host, port, "sam", pin).unwrap()
    }

    #[test]
    fn an_entry_pins_the_key_and_quotes_paths() {
        let target = target("203.0.113.7", 2222);
        let entry = ssh_config_entry(
            "my-ws.1",
            &target,
            Path::new("/home/me/App Support/sam/id_ed25519"),
            Path::new("/home/me/App Support/sam/known_hosts"),
        )
        .unwrap();
        let lines: Vec<&str> = entry.lines().collect();
        assert_eq!(lines[0], "Host sam-my-ws.1");
        assert!(lines.contains(&"    HostName 203.0.113.7"));
        assert!(lines.contains(&"    Port 2222"));
        assert!(lines.contains(&"    User sam"));
        assert!(lines.contains(&"    IdentityFile \"/home/me/App Support/sam/id_ed25519\""));
        assert!(lines.contains(&"    UserKnownHostsFile \"/home/me/App Support/sam/known_hosts\""));
        assert!(lines.contains(&"    StrictHostKeyChecking yes"));
        assert!(lines.contains(&"    IdentitiesOnly yes"));
        assert!(lines.contains(&"    ServerAliveInterval 15"));
    }

    #[test]
    fn hostile_aliases_and_paths_are_refused() {
        let target = target("10.0.0.1", 22);
        let ok = Path::new("/k");
        for alias in [
            "",
            "a b",
            "a\nHost *",
            "-x",
            "a\"b",
            "a*",
            "a%h",
            &"a".repeat(65),
        ] {
            assert!(
                matches!(
                    ssh_config_entry(alias, &target, ok, ok),
                    Err(SshError::InvalidInput(_))
                ),
                "{alias:?}"
            );
        }
        for path in [
            "relative/key",
            "/a\"b",
            "/a\nProxyCommand evil",
            "/a%h",
            "/a\\b",
        ] {
            assert!(
                ssh_config_entry("x", &target, Path::new(path), ok).is_err(),
                "{path:?}"
            );
            assert!(
                ssh_config_entry("x", &target, ok, Path::new(path)).is_err(),
                "{path:?}"
            );
        }
    }

    #[test]
    fn known_hosts_lines_use_brackets_off_port_22() {
        let on_22 = target("10.0.0.1", 22);
        assert_eq!(
            known_hosts_line(&on_22),
            format!("10.0.0.1 {}", on_22.host_key().to_openssh())
        );
        let other = target("2a01:4f8::1", 2222);
        assert_eq!(
            known_hosts_line(&other),
            format!("[2a01:4f8::1]:2222 {}", other.host_key().to_openssh())
        );
    }

    #[test]
    fn managed_files_are_private_and_replaced_whole() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("ssh");
        let first = write_managed_config(&dir, &["Host sam-a\n    Port 1\n".into()]).unwrap();
        assert_eq!(first, dir.join("config"));
        let second = write_managed_config(&dir, &["Host sam-b\n    Port 2\n".into()]).unwrap();
        let text = std::fs::read_to_string(&second).unwrap();
        assert!(text.starts_with("# Written by SAM Desktop"));
        assert!(text.contains("Host sam-b") && !text.contains("Host sam-a"));
        let known = write_managed_known_hosts(&dir, &["h ssh-ed25519 AAAA".into()]).unwrap();
        assert!(
            std::fs::read_to_string(known)
                .unwrap()
                .ends_with("h ssh-ed25519 AAAA\n")
        );
        // Only the two files: no temporary left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&second), 0o600);
            assert_eq!(mode(&dir), 0o700);
        }
        assert_eq!(
            include_directive(&second).unwrap(),
            format!("Include \"{}\"", second.display())
        );
    }
}

//! Remote editing: the user's own editor opens a cloud workspace's files on the workspace
//! itself (VS Code and Cursor through Remote-SSH, Zed through `ssh://`), reaching it as
//! `sam-<name>`.
//!
//! SAM writes its own ssh config and known_hosts (the pinned host keys) in `<data>/ssh`, with
//! the *public* half of the install key as each entry's `IdentityFile`. The private half stays
//! in the OS keyring and is lent to the user's running ssh-agent for a few hours when a file
//! is opened ([`sam_ssh::lend_to_agent`]), so no private key is ever written to disk.
//! `~/.ssh/config` gets one `Include` line, and only when the user turns remote editing on.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sam_ssh::{HostKeyPin, SshTarget};
use serde::Serialize;

use crate::{Lifecycle, Placement, Provider, WorkspaceError, Workspaces, remote};

/// How long the agent keeps the lent key (it is lent again on the next open).
const AGENT_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// The comment above SAM's line in `~/.ssh/config`, so the user knows what it is.
const INCLUDE_COMMENT: &str =
    "# Added by SAM Desktop (remote editing); remove both lines to turn it off.";

/// Whether remote editing is on, and what turning it on changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RemoteEditing {
    /// `~/.ssh/config` includes SAM's managed config.
    pub enabled: bool,
    /// The user's ssh config file.
    pub user_config: String,
    /// The line turning it on adds at the top of that file.
    pub include_line: String,
    /// Whether an ssh-agent is reachable (`SSH_AUTH_SOCK`): the workspace key is lent to it.
    pub agent_available: bool,
}

impl Workspaces {
    /// Uses `config` instead of `~/.ssh/config` as the user's ssh config, and the ssh-agent at
    /// `agent` instead of `$SSH_AUTH_SOCK`'s (tests; a sandbox).
    #[must_use]
    pub fn with_user_ssh(mut self, config: PathBuf, agent: Option<PathBuf>) -> Self {
        self.user_ssh = Some((config, agent));
        self
    }

    fn agent_socket(&self) -> Option<PathBuf> {
        match &self.user_ssh {
            Some((_, agent)) => agent.clone(),
            None => sam_ssh::agent_socket_from_env(),
        }
    }

    /// SAM's own ssh folder: the managed config, known_hosts and public key.
    pub fn ssh_dir(&self) -> PathBuf {
        self.root
            .parent()
            .map_or_else(|| self.root.join("ssh"), |data| data.join("ssh"))
    }

    fn user_ssh_config(&self) -> Result<PathBuf, WorkspaceError> {
        if let Some((config, _)) = &self.user_ssh {
            return Ok(config.clone());
        }
        std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(".ssh").join("config"))
            .ok_or_else(|| {
                WorkspaceError::InvalidInput(
                    "HOME is not set, so SAM cannot find your ssh config".into(),
                )
            })
    }

    fn include_line(&self) -> Result<String, WorkspaceError> {
        Ok(sam_ssh::include_directive(
            &self.ssh_dir().join(sam_ssh::MANAGED_CONFIG_FILE),
        )?)
    }

    /// Whether remote editing is on.
    ///
    /// # Errors
    /// When HOME is unset or the user's ssh config cannot be read.
    pub fn remote_editing(&self) -> Result<RemoteEditing, WorkspaceError> {
        let user_config = self.user_ssh_config()?;
        let include_line = self.include_line()?;
        let text = read_or_empty(&user_config)?;
        Ok(RemoteEditing {
            enabled: text.lines().any(|line| line.trim() == include_line),
            user_config: user_config.display().to_string(),
            include_line,
            agent_available: self.agent_socket().is_some(),
        })
    }

    /// Turns remote editing on or off: adds SAM's `Include` line (with a comment) at the top of
    /// the user's ssh config, creating it (and `~/.ssh`, mode 0700) when missing, or removes
    /// exactly those lines. Everything else in the file stays as it was; the file keeps its
    /// permissions (0600 when new). Only on the user's explicit request.
    ///
    /// # Errors
    /// When the file cannot be read or written.
    pub fn set_remote_editing(&self, on: bool) -> Result<RemoteEditing, WorkspaceError> {
        let user_config = self.user_ssh_config()?;
        let include_line = self.include_line()?;
        let text = read_or_empty(&user_config)?;
        let ours = |line: &str| line.trim() == include_line || line.trim() == INCLUDE_COMMENT;
        let had_ours = text.lines().any(ours);
        if !on && !had_ours {
            return self.remote_editing();
        }
        let kept: Vec<&str> = text.lines().filter(|line| !ours(line)).collect();
        // Our lines went at the top with one blank line after them: that blank goes too.
        let body = kept.join("\n");
        let body = if had_ours {
            body.trim_start_matches('\n')
        } else {
            body.as_str()
        };
        let mut out = String::new();
        if on {
            // At the top: an Include after a `Host` block would only apply inside it.
            out.push_str(INCLUDE_COMMENT);
            out.push('\n');
            out.push_str(&include_line);
            out.push('\n');
            if !body.is_empty() {
                out.push('\n');
            }
        }
        if !body.is_empty() {
            out.push_str(body);
            out.push('\n');
        }
        write_user_config(&user_config, &out)?;
        if on {
            // The managed file must exist, or `ssh` refuses the Include.
            self.write_ssh_entries()?;
        }
        self.remote_editing()
    }

    /// Rewrites SAM's managed ssh config and known_hosts with an entry for every ready cloud
    /// workspace whose provider has a usable setup (a workspace of a provider without a
    /// credential is left out). Returns each written alias's workspace id.
    fn write_ssh_entries(&self) -> Result<Vec<String>, WorkspaceError> {
        let dir = self.ssh_dir();
        let known_hosts = dir.join(sam_ssh::MANAGED_KNOWN_HOSTS_FILE);
        let mut entries = Vec::new();
        let mut lines = Vec::new();
        let mut written = Vec::new();
        let mut setups: Vec<(Provider, Option<remote::RemoteSetup>)> = Vec::new();
        for row in self.store.workspace_rows()? {
            let workspace = self.workspace_of(&row)?;
            if workspace.spec.provider == Provider::Local || workspace.state != Lifecycle::Ready {
                continue;
            }
            let provider = workspace.spec.provider;
            let setup = match setups.iter().find(|(p, _)| *p == provider) {
                Some((_, setup)) => setup,
                None => {
                    let setup = self.remote_setup(provider).ok().flatten();
                    setups.push((provider, setup));
                    match setups.last() {
                        Some((_, setup)) => setup,
                        None => continue,
                    }
                }
            };
            let Some(setup) = setup else { continue };
            let placement: Placement = row
                .server
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok())
                .unwrap_or_default();
            let (Some(ipv4), Some(host_key)) = (placement.ipv4, row.host_key.as_deref()) else {
                continue;
            };
            let target = SshTarget::new(
                ipv4,
                setup.ssh.port,
                setup.ssh.user.clone(),
                HostKeyPin::from_openssh(host_key)?,
            )?;
            let public = dir.join(format!("{}.pub", provider_file_name(provider)));
            write_public_key(&dir, &public, &setup.client_key.public_key_openssh())?;
            entries.push(sam_ssh::ssh_config_entry(
                &workspace.spec.name,
                &target,
                &public,
                &known_hosts,
            )?);
            lines.push(sam_ssh::known_hosts_line(&target));
            written.push(row.id.clone());
        }
        sam_ssh::write_managed_known_hosts(&dir, &lines)?;
        sam_ssh::write_managed_config(&dir, &entries)?;
        Ok(written)
    }

    /// Gets a cloud workspace ready for the user's editor: its `sam-<name>` entry written and
    /// the workspace key lent to the ssh-agent. `Ok(None)` when remote editing is off.
    ///
    /// # Errors
    /// Why it cannot be reached that way (no agent, no credential, …), in words for the user.
    pub(crate) async fn prepare_remote_editing(
        &self,
        row: &sam_store::WorkspaceRow,
        provider: Provider,
    ) -> Result<Option<sam_editor::HostAlias>, WorkspaceError> {
        if !self.remote_editing()?.enabled {
            return Ok(None);
        }
        self.prepare_ssh(row, provider).await.map(Some)
    }

    /// The `ssh` command line that opens a shell on a cloud workspace as the user (`sam
    /// workspace ssh`, "open terminal"): SAM's managed config selected with `-F`, so it works
    /// whether or not remote editing added the Include line, the pinned host key, and the
    /// workspace key lent to the user's ssh-agent. Append a command to run one instead.
    ///
    /// # Errors
    /// A local or not-ready workspace, no ssh-agent, no credential for its provider.
    pub async fn ssh_argv(&self, id_or_name: &str) -> Result<Vec<String>, WorkspaceError> {
        let row = self.row(id_or_name)?;
        let workspace = self.workspace_of(&row)?;
        if workspace.spec.provider == Provider::Local {
            let folder = workspace.checkout_dir.map_or_else(String::new, |dir| {
                format!(": its folder is {}", dir.display())
            });
            return Err(WorkspaceError::InvalidInput(format!(
                "\"{}\" is on this computer, so there is nothing to ssh into{folder}",
                row.name
            )));
        }
        if workspace.state != Lifecycle::Ready {
            return Err(WorkspaceError::InvalidInput(format!(
                "\"{}\" is {}, so it cannot be reached yet",
                row.name,
                workspace.state.as_str()
            )));
        }
        let alias = self.prepare_ssh(&row, workspace.spec.provider).await?;
        let config = self.ssh_dir().join(sam_ssh::MANAGED_CONFIG_FILE);
        Ok(vec![
            "ssh".to_owned(),
            "-F".to_owned(),
            config.display().to_string(),
            alias.as_str().to_owned(),
        ])
    }

    /// Writes the `sam-<name>` entries and lends the workspace key to the ssh-agent.
    async fn prepare_ssh(
        &self,
        row: &sam_store::WorkspaceRow,
        provider: Provider,
    ) -> Result<sam_editor::HostAlias, WorkspaceError> {
        let this = self.clone();
        let written = tokio::task::spawn_blocking(move || this.write_ssh_entries())
            .await
            .map_err(|e| WorkspaceError::Host(format!("writing the ssh config stopped: {e}")))??;
        if !written.contains(&row.id) {
            return Err(WorkspaceError::InvalidInput(format!(
                "\"{}\" has no address or pinned host key on record",
                row.name
            )));
        }
        let setup = self.remote_setup(provider)?.ok_or_else(|| {
            WorkspaceError::InvalidInput("a local workspace needs no remote editing".into())
        })?;
        let agent = self.agent_socket().ok_or_else(|| {
            WorkspaceError::InvalidInput(
                "no ssh-agent runs in this session (SSH_AUTH_SOCK is not set), and SAM lends the \
                 workspace key only to an agent, never to a file"
                    .into(),
            )
        })?;
        #[cfg(unix)]
        sam_ssh::lend_to_agent(&agent, &setup.client_key, AGENT_LIFETIME).await?;
        #[cfg(not(unix))]
        {
            let _ = (&setup, &agent, AGENT_LIFETIME);
            return Err(WorkspaceError::InvalidInput(
                "lending the workspace key to an ssh-agent is not supported on this system yet"
                    .into(),
            ));
        }
        sam_editor::HostAlias::parse(&format!("sam-{}", row.name))
            .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))
    }
}

impl Workspaces {
    /// Opens a cloud workspace's file on the workspace itself, in the editor's remote mode.
    /// `Ok(None)` when that is not for this open (the editor has no remote mode, or remote
    /// editing is off): the caller opens a read-only copy. `Err` says why it failed when it
    /// should have worked (then a copy opens too, with the reason).
    pub(crate) async fn open_remote(
        &self,
        row: &sam_store::WorkspaceRow,
        workspace: &crate::Workspace,
        found: &sam_protocol::FoundPath,
        position: Option<sam_editor::Position>,
        env: &sam_editor::Environment,
        choice: &sam_editor::EditorChoice,
    ) -> Result<Option<crate::OpenedFile>, String> {
        let Ok(remote_path) = sam_editor::RemotePath::parse(&found.absolute) else {
            return Ok(None);
        };
        // Planning with a stand-in alias only asks whether the chosen editor has a remote mode.
        let probe = sam_editor::HostAlias::parse("sam-probe").map_err(|e| e.to_string())?;
        if sam_editor::plan_remote(env, choice, &probe, &remote_path, position).is_err() {
            return Ok(None);
        }
        let alias = match self
            .prepare_remote_editing(row, workspace.spec.provider)
            .await
        {
            Ok(Some(alias)) => alias,
            Ok(None) => return Ok(None),
            Err(error) => return Err(error.to_string()),
        };
        let (env, choice) = (env.clone(), choice.clone());
        let launched = tokio::task::spawn_blocking(move || {
            sam_editor::open_remote(&env, &choice, &alias, &remote_path, position)
        })
        .await
        .map_err(|e| format!("the editor launcher stopped: {e}"))?
        .map_err(|e| e.to_string())?;
        let line = position
            .filter(|_| launched.at_position)
            .map(|p| u64::from(p.line()));
        let at = line.map_or_else(String::new, |line| format!(" at line {line}"));
        Ok(Some(crate::OpenedFile {
            how: crate::OpenHow::Remote,
            message: format!(
                "Opened {}{at} on the workspace in {} (remote editing)",
                found.relative, launched.editor_name
            ),
            editor: Some(launched.editor_name),
            path: found.relative.clone(),
            line,
        }))
    }
}

fn provider_file_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Local => "local",
        Provider::Hetzner => "hetzner_ed25519",
        Provider::Scaleway => "scaleway_ed25519",
    }
}

fn read_or_empty(path: &Path) -> Result<String, WorkspaceError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(error) => Err(WorkspaceError::InvalidInput(format!(
            "could not read {}: {error}",
            path.display()
        ))),
    }
}

fn io_error(path: &Path, error: &std::io::Error) -> WorkspaceError {
    WorkspaceError::InvalidInput(format!("could not write {}: {error}", path.display()))
}

/// Writes the user's ssh config atomically, keeping its mode (0600 for a new file), and
/// creates its folder with mode 0700 when missing.
fn write_user_config(path: &Path, text: &str) -> Result<(), WorkspaceError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| io_error(dir, &e))?;
        }
    }
    let permissions = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io_error(path, &e))?;
    temp.write_all(text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| io_error(path, &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = permissions.unwrap_or_else(|| std::fs::Permissions::from_mode(0o600));
        std::fs::set_permissions(temp.path(), mode).map_err(|e| io_error(path, &e))?;
    }
    #[cfg(not(unix))]
    let _ = permissions;
    temp.persist(path).map_err(|e| io_error(path, &e.error))?;
    Ok(())
}

fn write_public_key(dir: &Path, path: &Path, key: &str) -> Result<(), WorkspaceError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io_error(path, &e))?;
    temp.write_all(format!("{key} sam-desktop\n").as_bytes())
        .map_err(|e| io_error(path, &e))?;
    temp.persist(path).map_err(|e| io_error(path, &e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn workspaces(dir: &Path) -> Workspaces {
        let (store, _) = sam_store::Store::open(&dir.join("sam.sqlite3")).unwrap();
        Workspaces::new(Arc::new(store), dir, PathBuf::from("/nonexistent/sam-host"))
            .with_user_ssh(dir.join("home/.ssh/config"), None)
    }

    #[test]
    fn turning_it_on_adds_one_include_at_the_top_and_off_takes_only_that_away() {
        let dir = tempfile::tempdir().unwrap();
        let w = workspaces(dir.path());
        let status = w.remote_editing().unwrap();
        assert!(!status.enabled);
        assert!(status.include_line.starts_with("Include "), "{status:?}");

        // No ~/.ssh yet: made with 0700, the file with 0600.
        let on = w.set_remote_editing(true).unwrap();
        assert!(on.enabled);
        let config = dir.path().join("home/.ssh/config");
        let text = std::fs::read_to_string(&config).unwrap();
        assert_eq!(text, format!("{INCLUDE_COMMENT}\n{}\n", on.include_line));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&config), 0o600);
            assert_eq!(mode(config.parent().unwrap()), 0o700);
        }
        // The managed config exists (ssh refuses a missing Include target).
        assert!(w.ssh_dir().join(sam_ssh::MANAGED_CONFIG_FILE).is_file());

        // The user's own entries stay, in order, below; on twice is still one line.
        std::fs::write(&config, format!("{text}\nHost work\n    User ada\n")).unwrap();
        w.set_remote_editing(true).unwrap();
        let text = std::fs::read_to_string(&config).unwrap();
        assert_eq!(text.matches("Include ").count(), 1, "{text}");
        assert!(text.starts_with(INCLUDE_COMMENT), "{text}");
        assert!(text.ends_with("Host work\n    User ada\n"), "{text}");

        let off = w.set_remote_editing(false).unwrap();
        assert!(!off.enabled);
        assert_eq!(
            std::fs::read_to_string(&config).unwrap(),
            "Host work\n    User ada\n"
        );
    }

    #[test]
    fn a_config_without_sams_line_is_left_alone_when_turning_it_off() {
        let dir = tempfile::tempdir().unwrap();
        let w = workspaces(dir.path());
        let config = dir.path().join("home/.ssh/config");
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        let mine = "Include ~/.ssh/other\n\nHost *\n    ServerAliveInterval 30\n";
        std::fs::write(&config, mine).unwrap();
        w.set_remote_editing(false).unwrap();
        assert_eq!(std::fs::read_to_string(&config).unwrap(), mine);
    }
}

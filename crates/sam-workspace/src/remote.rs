//! Remote workspaces: a VM on the user's cloud, provisioned by a step machine whose every step
//! is recorded and safe to repeat — ensure SSH key → create server (labels, cloud-init with
//! host keys we generated) → wait for IP → wait for SSH (host key pinned) → upload `sam-host`
//! (skipped when the same build is there) → start it (as a systemd service where systemd runs
//! the VM and we may install one, else detached) and reach it over an SSH exec channel → check
//! out the repository → ready. A retry after a crash or quit resumes; the server is found by its
//! labels, so it is never created twice.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sam_cloud::{
    Arch, CloudProvider, CreateServer, Labels, ProviderKind, Server, ServerId, SizePreset,
};
use sam_cloudinit::{CloudInitSpec, DockerSource, HostKeys, Watchdog};
use sam_protocol::client::HostClient;
use sam_protocol::{RepoSource, RequestBody, ResponseBody, Secret, SetupPlan};
use sam_secrets::{SecretStore, Sensitive};
use sam_ssh::{ClientKey, HostKeyPin, SshOptions, SshSession, SshTarget};

use crate::error::WorkspaceError;
use crate::model::{Provider, Repo, WorkspaceSpec};
use crate::{HostLink, Placement, Workspaces, steps, unix_now};

/// How SAM reaches a workspace's server over SSH.
#[derive(Debug, Clone)]
pub struct SshSettings {
    /// The user cloud-init creates on the VM (`sam`).
    pub vm_user: String,
    /// The user SAM logs in as: the VM user (tests stand in for cloud-init and log in as
    /// whoever runs them).
    pub user: String,
    /// The SSH port (22).
    pub port: u16,
    /// Timeouts and keepalives.
    pub options: SshOptions,
    /// How often a booting server is tried.
    pub interval: Duration,
    /// How long a new server may take to accept SSH.
    pub deadline: Duration,
}

impl Default for SshSettings {
    fn default() -> Self {
        Self {
            vm_user: "sam".into(),
            user: "sam".into(),
            port: 22,
            options: SshOptions::default(),
            interval: Duration::from_secs(5),
            deadline: Duration::from_secs(300),
        }
    }
}

/// Everything remote provisioning needs from the rest of the app, for one provider.
pub struct RemoteSetup {
    /// The provider client (from the vault's active credential).
    pub cloud: Arc<dyn CloudProvider>,
    /// This install's id, for server labels.
    pub install_id: String,
    /// This install's SSH key (private half from the keyring).
    pub client_key: Arc<ClientKey>,
    /// Where each workspace's SSH host private key is kept (the OS keyring), so a resumed
    /// creation renders the very same cloud-init.
    pub secrets: Arc<dyn SecretStore>,
    /// SSH settings.
    pub ssh: SshSettings,
    /// Minutes without contact or agent activity before the VM powers itself off.
    pub watchdog_minutes: u32,
}

impl fmt::Debug for RemoteSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteSetup")
            .field("provider", &self.cloud.kind())
            .field("install_id", &self.install_id)
            .field("ssh", &self.ssh)
            .finish_non_exhaustive()
    }
}

/// Makes a [`RemoteSetup`] for a provider: the app and the CLI build it from the vault; tests
/// from fakes.
pub trait RemoteFactory: Send + Sync + fmt::Debug {
    /// The setup for `provider`.
    ///
    /// # Errors
    /// When there is no usable credential for it, or the keyring is unavailable.
    fn remote(&self, provider: ProviderKind) -> Result<RemoteSetup, WorkspaceError>;
}

pub(crate) fn provider_kind(provider: Provider) -> Option<ProviderKind> {
    match provider {
        Provider::Local => None,
        Provider::Hetzner => Some(ProviderKind::Hetzner),
        Provider::Scaleway => Some(ProviderKind::Scaleway),
    }
}

/// The locations tried when the user allowed none: the provider's EU ones.
fn default_locations(kind: ProviderKind) -> Vec<String> {
    let locations: &[&str] = match kind {
        ProviderKind::Hetzner => &["fsn1", "nbg1", "hel1"],
        ProviderKind::Scaleway => &["fr-par-1", "fr-par-2", "nl-ams-1"],
    };
    locations.iter().map(|l| (*l).to_owned()).collect()
}

fn host_key_entry(id: &str) -> String {
    format!("workspace-{id}-host-key")
}

/// A remote home directory safe to put in a command line unquoted.
fn checked_home(home: &str) -> Result<String, WorkspaceError> {
    let home = home.trim();
    let safe = home.starts_with('/')
        && home.len() < 256
        && home
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'.'))
        && !home.split('/').any(|part| part == "..");
    if safe {
        Ok(home.trim_end_matches('/').to_owned())
    } else {
        Err(WorkspaceError::Host(
            "the server reported a home folder SAM cannot use".into(),
        ))
    }
}

impl Workspaces {
    fn remote_placement(&self, id: &str) -> Result<Placement, WorkspaceError> {
        Ok(self
            .store
            .workspace(id)?
            .and_then(|row| row.server)
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default())
    }

    fn save_remote_placement(&self, id: &str, placement: &Placement) -> Result<(), WorkspaceError> {
        let json = serde_json::to_string(placement)
            .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))?;
        self.store
            .set_workspace_server(id, Some(&json), unix_now())?;
        Ok(())
    }

    /// The workspace's SSH host keys: made once, the private half in the keyring and the
    /// public half on the record, so every render of its cloud-init is identical.
    fn host_keys(&self, id: &str, secrets: &dyn SecretStore) -> Result<HostKeys, WorkspaceError> {
        let entry = host_key_entry(id);
        if let Ok(private) = secrets.get(&entry) {
            let keys = HostKeys::from_openssh(private.expose()).map_err(|e| {
                WorkspaceError::Host(format!("the stored host key is unusable: {e}"))
            })?;
            // A crash between the keyring write and the record's can leave the record without
            // the public half: the keyring is the source, the record follows it.
            let public = keys.public_key_openssh();
            let recorded = self.store.workspace(id)?.and_then(|row| row.host_key);
            if recorded.as_deref() != Some(public.as_str()) {
                self.store.set_workspace_host_key(id, &public, unix_now())?;
            }
            return Ok(keys);
        }
        let keys = HostKeys::generate()
            .map_err(|e| WorkspaceError::Host(format!("could not make host keys: {e}")))?;
        secrets
            .put(
                &entry,
                &Sensitive::new(keys.private_key_openssh().to_owned()),
            )
            .map_err(|e| WorkspaceError::Host(format!("could not keep the host key: {e}")))?;
        self.store
            .set_workspace_host_key(id, &keys.public_key_openssh(), unix_now())?;
        Ok(keys)
    }

    pub(crate) async fn provision_remote(
        &self,
        id: &str,
        spec: &WorkspaceSpec,
        git_token: Option<Secret>,
        setup: &RemoteSetup,
    ) -> Result<String, WorkspaceError> {
        let cloud = setup.cloud.as_ref();
        let kind = cloud.kind();
        let Repo::Url { url } = &spec.repo else {
            return Err(WorkspaceError::InvalidInput(
                "A cloud workspace clones a repository URL; a folder on this computer can only be a local workspace.".into(),
            ));
        };
        let labels = Labels::new(&setup.install_id, id)
            .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))?;
        let public_key = setup.client_key.public_key_openssh();
        let mut placement = self.remote_placement(id)?;

        let key_ref = self
            .step(id, steps::ENSURE_SSH_KEY, async {
                Ok(cloud
                    .ensure_ssh_key(&format!("sam-{}", setup.install_id), &public_key)
                    .await?)
            })
            .await?;

        let server = self
            .step(id, steps::CREATE_SERVER, async {
                let host_keys = self.host_keys(id, setup.secrets.as_ref())?;
                let locations = if spec.locations.is_empty() {
                    default_locations(kind)
                } else {
                    spec.locations.clone()
                };
                let first = locations.first().map(String::as_str).unwrap_or_default();
                let size = resolve_size(cloud, spec.size.as_deref(), first).await?;
                let images = cloud.images(first, size.1).await?;
                let docker = if images.first().is_some_and(|i| i.docker_ready) {
                    DockerSource::Preinstalled
                } else {
                    DockerSource::Install
                };
                let hostname = format!("sam-{}", spec.name);
                let user_data = sam_cloudinit::render(&CloudInitSpec {
                    hostname: &hostname,
                    user: &setup.ssh.vm_user,
                    authorized_key: &public_key,
                    host_keys: &host_keys,
                    docker,
                    watchdog: Watchdog {
                        idle_minutes: setup.watchdog_minutes,
                        enabled: true,
                    },
                    workspace_id: id,
                })
                .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))?;
                let request = CreateServer {
                    // Unique per project: two installs may both have an "api" workspace.
                    name: format!("sam-{}-{}", spec.name, &id[..6.min(id.len())]),
                    size: size.0,
                    locations,
                    image: None,
                    ssh_key: Some(key_ref.clone()),
                    user_data: Sensitive::new(user_data.as_str().to_owned()),
                    labels: labels.clone(),
                };
                Ok(cloud.create_server(&request).await?)
            })
            .await?;
        placement.server = Some(server.id.clone());
        self.save_remote_placement(id, &placement)?;
        // The live price where it landed (a capacity fallback may have moved it).
        if let Ok(sizes) = cloud.sizes(Some(&server.id.location)).await
            && let Some(size) = sizes.iter().find(|s| s.id == server.size)
            && let Some(price) = size.price_in(&server.id.location)
        {
            placement.price = Some(crate::Price {
                currency: size.currency.clone(),
                hourly: price.hourly,
                monthly: price.monthly,
            });
            self.save_remote_placement(id, &placement)?;
        }

        let server: Server = self
            .step(id, steps::WAIT_FOR_IP, async {
                Ok(cloud.wait_until_reachable(&server.id).await?)
            })
            .await?;
        let ipv4 = server
            .ipv4
            .map(|ip| ip.to_string())
            .ok_or_else(|| WorkspaceError::Host("the server has no public IPv4".into()))?;
        placement.ipv4 = Some(ipv4.clone());
        self.save_remote_placement(id, &placement)?;

        let host_key = self
            .store
            .workspace(id)?
            .and_then(|row| row.host_key)
            .ok_or_else(|| WorkspaceError::Host("the workspace's host key is missing".into()))?;
        let target = SshTarget::new(
            ipv4,
            setup.ssh.port,
            setup.ssh.user.clone(),
            HostKeyPin::from_openssh(&host_key)?,
        )?;
        let session = self
            .step(id, steps::WAIT_FOR_SSH, async {
                Ok(sam_ssh::wait_for_ssh(
                    &target,
                    &setup.client_key,
                    &setup.ssh.options,
                    setup.ssh.interval,
                    setup.ssh.deadline,
                )
                .await?)
            })
            .await?;

        let home = self
            .step(id, steps::UPLOAD_HOST, async {
                let home = session.exec("printf %s \"$HOME\"").await?.check()?;
                let home = checked_home(&String::from_utf8_lossy(&home.stdout))?;
                session
                    .exec(&format!("mkdir -p {home}/.sam/bin"))
                    .await?
                    .check()?;
                let binary = tokio::fs::read(&self.host_binary)
                    .await
                    .map_err(|_| WorkspaceError::HostBinaryMissing(self.host_binary.clone()))?;
                session
                    .upload(&binary, &format!("{home}/.sam/bin/sam-host"), 0o755)
                    .await?;
                Ok(home)
            })
            .await?;
        placement.home = Some(home.clone());
        self.save_remote_placement(id, &placement)?;

        let link = self
            .step(id, steps::START_HOST, async {
                let started = start_service(&session, &home, id, &setup.ssh.user).await?;
                tracing::info!(workspace = %id, how = %started, "sam-host started on the server");
                connect_remote(&session, &home, id).await
            })
            .await?;
        let checkout_dir = format!("{home}/.sam/{id}/checkout");
        let plan = SetupPlan {
            workspace_id: id.to_owned(),
            repository: RepoSource::GitUrl {
                url: url.clone(),
                branch: spec.branch.clone(),
            },
            checkout_dir,
            git_token,
        };
        let ready = self
            .step(id, steps::CHECKOUT, async {
                match link.request(RequestBody::Setup(plan)).await {
                    Ok(ResponseBody::SetupReady { checkout_dir }) => Ok(checkout_dir),
                    Ok(other) => Err(WorkspaceError::Host(format!(
                        "unexpected answer to setup: {other:?}"
                    ))),
                    Err(sam_protocol::client::ClientError::Host(error)) => {
                        Err(WorkspaceError::SetupFailed(error.message))
                    }
                    Err(other) => Err(WorkspaceError::Host(other.to_string())),
                }
            })
            .await?;
        placement.checkout_dir = Some(ready.clone().into());
        self.save_remote_placement(id, &placement)?;
        Ok(ready)
    }

    /// Reconnects to a ready cloud workspace's host: SSH to its recorded address with its
    /// pinned host key, then `sam-host connect` over an exec channel.
    pub(crate) async fn attach_remote(
        &self,
        row: &sam_store::WorkspaceRow,
        setup: &RemoteSetup,
    ) -> Result<HostLink, WorkspaceError> {
        let placement = self.remote_placement(&row.id)?;
        let (Some(ipv4), Some(home), Some(host_key)) =
            (placement.ipv4, placement.home, row.host_key.as_deref())
        else {
            return Err(WorkspaceError::Host(format!(
                "the record of \"{}\" lacks its address or host key; retry or delete it",
                row.name
            )));
        };
        let target = SshTarget::new(
            ipv4,
            setup.ssh.port,
            setup.ssh.user.clone(),
            HostKeyPin::from_openssh(host_key)?,
        )?;
        let session = sam_ssh::connect(&target, &setup.client_key, &setup.ssh.options).await?;
        connect_remote(&session, &checked_home(&home)?, &row.id).await
    }

    /// Deletes every server labelled for this workspace (the recorded one and any an
    /// interrupted attempt made) and forgets its host key.
    pub(crate) async fn delete_remote(
        &self,
        id: &str,
        setup: &RemoteSetup,
    ) -> Result<(), WorkspaceError> {
        let cloud = setup.cloud.as_ref();
        let labels = Labels::new(&setup.install_id, id)
            .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))?;
        let mut targets: Vec<ServerId> = cloud
            .servers(&labels.selector())
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect();
        if let Some(recorded) = self.remote_placement(id)?.server
            && !targets.contains(&recorded)
        {
            targets.push(recorded);
        }
        for server in &targets {
            cloud.delete_server(server).await?;
        }
        let _ = setup.secrets.delete(&host_key_entry(id));
        Ok(())
    }
}

/// The architecture of the `sam-host` build this desktop uploads: its own.
fn host_arch() -> Arch {
    if std::env::consts::ARCH == "aarch64" {
        Arch::Arm64
    } else {
        Arch::X86_64
    }
}

/// Resolves a preset or a type name to (type name, architecture) against the live catalogue.
/// The server must run the `sam-host` this desktop uploads, so its architecture must match.
async fn resolve_size(
    cloud: &dyn CloudProvider,
    wanted: Option<&str>,
    location: &str,
) -> Result<(String, Arch), WorkspaceError> {
    let sizes = cloud.sizes(Some(location)).await?;
    let wanted = wanted.unwrap_or("medium");
    let arch = host_arch();
    if let Some(preset) = SizePreset::parse(wanted) {
        return preset
            .resolve(cloud.kind(), arch, location, &sizes)
            .map(|s| (s.id.clone(), s.arch))
            .ok_or_else(|| {
                WorkspaceError::InvalidInput(format!(
                    "no current {} size for \"{wanted}\" is sold in {location}",
                    cloud.kind()
                ))
            });
    }
    let size = sizes.iter().find(|s| s.id == wanted).ok_or_else(|| {
        WorkspaceError::InvalidInput(format!(
            "{} sells no size \"{wanted}\" in {location}",
            cloud.kind()
        ))
    })?;
    if size.arch != arch {
        return Err(WorkspaceError::InvalidInput(format!(
            "{wanted} is an {} server, and this build of SAM runs its workspace host on {arch} only: pick an {arch} size",
            size.arch
        )));
    }
    Ok((size.id.clone(), size.arch))
}

/// How `sam-host` runs on a workspace's server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostService {
    /// As the systemd service `sam-host-<id>.service`, restarted when it fails and started
    /// at boot.
    Systemd,
    /// Detached, started by `sam-host connect` (as for local workspaces); why not systemd.
    Detached(String),
}

impl fmt::Display for HostService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Systemd => f.write_str("as a systemd service"),
            Self::Detached(why) => write!(f, "detached ({why})"),
        }
    }
}

/// The systemd unit that runs a workspace's `sam-host` as the workspace user: restarted when
/// it fails, started at boot (a VM the watchdog powered off and the user started again comes
/// back with its host). `home` and `user` must be checked first ([`checked_home`],
/// [`checked_user`]): they go into the unit as they are.
pub(crate) fn systemd_unit(home: &str, id: &str, user: &str) -> String {
    format!(
        "# Written by SAM Desktop for workspace {id}; removed with the server.\n\
         [Unit]\n\
         Description=SAM workspace host ({id})\n\
         After=network-online.target\n\
         Wants=network-online.target\n\
         \n\
         [Service]\n\
         Type=simple\n\
         User={user}\n\
         ExecStart={home}/.sam/bin/sam-host serve --state-dir {home}/.sam/{id}/host\n\
         Restart=on-failure\n\
         RestartSec=2\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n"
    )
}

/// A user name safe in a unit file and a command line (`[a-z_][a-z0-9_-]{0,31}`).
fn checked_user(user: &str) -> Result<&str, WorkspaceError> {
    let mut bytes = user.bytes();
    let valid = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && user.len() <= 32;
    if valid {
        Ok(user)
    } else {
        Err(WorkspaceError::InvalidInput(
            "the SSH user is not a plain user name SAM can run its host as".into(),
        ))
    }
}

/// The script that installs and starts the unit when systemd runs the machine (`sd_booted`:
/// `/run/systemd/system` exists) and we are root or have passwordless sudo; otherwise it
/// changes nothing and says why. It prints `systemd` or `detached: <why>` as its last line.
fn service_script(home: &str, id: &str, user: &str) -> String {
    let unit = systemd_unit(home, id, user);
    let name = format!("sam-host-{id}.service");
    let socket = format!("{home}/.sam/{id}/host/host.sock");
    format!(
        "if [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null 2>&1; then \
           echo 'detached: systemd does not run this machine'; exit 0; fi\n\
         if [ \"$(id -u)\" = 0 ]; then SUDO=''; \
         elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO='sudo -n'; \
         else echo 'detached: not root and no passwordless sudo'; exit 0; fi\n\
         mkdir -p {home}/.sam/{id}/host\n\
         printf '%s' '{unit}' | $SUDO tee /etc/systemd/system/{name} >/dev/null \
           || {{ echo 'detached: the unit could not be written'; exit 0; }}\n\
         $SUDO systemctl daemon-reload && $SUDO systemctl enable --now {name} >/dev/null 2>&1 \
           || {{ echo 'detached: systemctl could not start the unit'; exit 0; }}\n\
         i=0; while [ ! -S {socket} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n\
         echo systemd\n"
    )
}

/// Runs `sam-host` on the server as a systemd service when it can ([`service_script`]);
/// otherwise leaves it to `sam-host connect`, which starts it detached.
async fn start_service(
    session: &SshSession,
    home: &str,
    id: &str,
    user: &str,
) -> Result<HostService, WorkspaceError> {
    let user = checked_user(user)?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(WorkspaceError::InvalidInput(format!(
            "the workspace id {id:?} cannot name a service"
        )));
    }
    let output = session
        .exec(&service_script(home, id, user))
        .await?
        .check()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let last = text.lines().last().unwrap_or("").trim();
    Ok(if last == "systemd" {
        HostService::Systemd
    } else {
        HostService::Detached(
            last.strip_prefix("detached: ")
                .unwrap_or("the service script said nothing")
                .to_owned(),
        )
    })
}

/// Starts `sam-host connect` on the server over an SSH exec channel and shakes hands.
async fn connect_remote(
    session: &SshSession,
    home: &str,
    id: &str,
) -> Result<HostLink, WorkspaceError> {
    let command = format!("{home}/.sam/bin/sam-host connect --state-dir {home}/.sam/{id}/host");
    let stream = session.open_stream(&command).await?;
    let (reader, writer) = tokio::io::split(stream);
    let handshake = HostClient::connect(reader, writer, "sam-desktop");
    let (client, welcome) = tokio::time::timeout(Duration::from_secs(30), handshake)
        .await
        .map_err(|_| WorkspaceError::Host("no handshake from the remote host within 30 s".into()))?
        .map_err(|e| WorkspaceError::Host(e.to_string()))?;
    Ok(HostLink::from_parts(client, welcome))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn the_unit_runs_the_uploaded_host_as_the_workspace_user_and_restarts_it() {
        let unit = systemd_unit("/home/sam", "0123456789abcdef", "sam");
        for line in [
            "[Service]",
            "User=sam",
            "ExecStart=/home/sam/.sam/bin/sam-host serve --state-dir /home/sam/.sam/0123456789abcdef/host",
            "Restart=on-failure",
            "WantedBy=multi-user.target",
        ] {
            assert!(unit.lines().any(|l| l == line), "{line} missing:\n{unit}");
        }
        // It travels inside single quotes in the script.
        assert!(!unit.contains('\''));
        let script = service_script("/home/sam", "0123456789abcdef", "sam");
        assert!(script.contains("/etc/systemd/system/sam-host-0123456789abcdef.service"));
        assert!(script.contains("systemctl enable --now sam-host-0123456789abcdef.service"));
    }

    #[test]
    fn only_plain_user_names_go_into_a_unit() {
        assert!(checked_user("sam").is_ok());
        assert!(checked_user("_svc-1").is_ok());
        for bad in [
            "",
            "-x",
            "Sam",
            "a b",
            "root; rm -rf /",
            "sam\nUser=root",
            &"a".repeat(33),
        ] {
            assert!(checked_user(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn without_systemd_the_script_changes_nothing_and_says_why() {
        // This machine (like the test sshd host) is not run by systemd: the fallback path,
        // run for real by /bin/sh.
        if std::path::Path::new("/run/systemd/system").is_dir() {
            eprintln!("systemd runs this machine; the fallback is covered by the sshd tests");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().display().to_string();
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(service_script(&home, "0123456789abcdef", "sam"))
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "detached: systemd does not run this machine"
        );
        assert!(!dir.path().join(".sam").exists(), "nothing was written");
    }
}

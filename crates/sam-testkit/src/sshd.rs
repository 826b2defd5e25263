//! A private OpenSSH server for tests: the real `/usr/sbin/sshd` (Debian: `openssh-server`) on
//! 127.0.0.1 and a port of the test's choosing, with the host key and authorized key the test
//! hands it — e.g. the ones a workspace's cloud-init carries, to stand in for the VM that
//! cloud-init would set up. Killed (by its own pid) when dropped. Needs root for sshd's
//! privilege separation.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

const SSHD: &str = "/usr/sbin/sshd";

/// A port nothing listens on (bound once, then released).
///
/// # Errors
/// When no local port can be bound.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// The user the tests run as (sshd lets only that user in).
///
/// # Errors
/// When `id` cannot be run.
pub fn login_user() -> anyhow::Result<String> {
    let output = Command::new("id")
        .arg("-un")
        .output()
        .context("running id")?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Writes `<root>/sshd_config` for a private sshd on 127.0.0.1:`port` that uses
/// `<root>/host_ed25519` and `<root>/authorized_keys`, lets only `user` in (key auth only),
/// logs at `log_level` and sets `extra_env` (`NAME=value …`) in sessions besides `SHLVL=5`
/// (which keeps Debian's bash from sourcing a slow `~/.bashrc` for every command).
///
/// # Errors
/// When the file cannot be written.
pub fn write_config(
    root: &Path,
    port: u16,
    user: &str,
    log_level: &str,
    extra_env: &str,
) -> anyhow::Result<()> {
    let config = format!(
        "Port {port}\n\
         ListenAddress 127.0.0.1\n\
         HostKey {root}/host_ed25519\n\
         AuthorizedKeysFile {root}/authorized_keys\n\
         PidFile {root}/sshd.pid\n\
         StrictModes no\n\
         UsePAM no\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         PermitRootLogin prohibit-password\n\
         AllowUsers {user}\n\
         UseDNS no\n\
         PrintMotd no\n\
         LogLevel {log_level}\n\
         SetEnv SHLVL=5 {extra_env}\n",
        root = root.display(),
    );
    fs::write(root.join("sshd_config"), config).context("writing sshd_config")
}

/// A running private sshd.
#[derive(Debug)]
pub struct TestSshd {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl TestSshd {
    /// Starts sshd on `port` with this host key (OpenSSH PEM) and one authorized key, and
    /// waits (up to 10 s) until it accepts connections. Sessions get `HOME` set to a private
    /// folder ([`Self::home`]), so nothing a test uploads lands in the real home directory.
    ///
    /// # Errors
    /// When sshd is missing, refuses the configuration, or never listens.
    pub fn start(host_private_pem: &str, authorized_key: &str, port: u16) -> anyhow::Result<Self> {
        if !Path::new(SSHD).exists() {
            bail!("{SSHD} is missing: install openssh-server (scripts/setup.sh --test)");
        }
        // sshd's privilege separation directory; absent in containers that never ran sshd.
        fs::create_dir_all("/run/sshd").context("creating /run/sshd")?;
        let dir = tempfile::tempdir().context("creating the sshd folder")?;
        let root = dir.path();
        let write_private = |name: &str, contents: &str| -> anyhow::Result<()> {
            let path = root.join(name);
            fs::write(&path, contents)?;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600))?;
            Ok(())
        };
        write_private("host_ed25519", host_private_pem)?;
        write_private("authorized_keys", &format!("{}\n", authorized_key.trim()))?;
        fs::create_dir(root.join("home"))?;
        let extra_env = format!("HOME={}/home", root.display());
        write_config(root, port, &login_user()?, "VERBOSE", &extra_env)?;
        let child = Command::new(SSHD)
            .arg("-D")
            .arg("-E")
            .arg(root.join("sshd.log"))
            .arg("-f")
            .arg(root.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting sshd")?;
        let mut sshd = Self { dir, port, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if let Some(status) = sshd.child.try_wait()? {
                bail!("sshd exited with {status}:\n{}", sshd.log());
            }
            if Instant::now() > deadline {
                bail!("sshd did not listen on {port}:\n{}", sshd.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(sshd)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `HOME` of its sessions.
    pub fn home(&self) -> std::path::PathBuf {
        self.dir.path().join("home")
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for TestSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What [`play_vm`] waits for and how it answers.
#[derive(Debug, Default, Clone)]
pub struct VmOptions {
    /// Only a server whose name starts with this (any server when `None`).
    pub name_prefix: Option<String>,
    /// Answer with this host key instead of the one in the cloud-init: an impostor.
    pub impostor_host_key: Option<String>,
    /// Give up (returning `None`) once this is set.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// Plays the VM that cloud-init would set up: once `fake` holds a matching server with
/// user-data, starts a [`TestSshd`] on `port` with the host key and the authorized key from
/// that cloud-init (SAM renders it as `#cloud-config` + JSON). Pair it with
/// `FakeProviders::set_fixed_ipv4(provider, Some("127.0.0.1"))`.
pub fn play_vm(
    fake: std::sync::Arc<crate::FakeProviders>,
    provider: crate::Provider,
    port: u16,
    options: VmOptions,
) -> tokio::task::JoinHandle<anyhow::Result<Option<TestSshd>>> {
    tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if options
                .stop
                .as_ref()
                .is_some_and(|stop| stop.load(std::sync::atomic::Ordering::Relaxed))
            {
                return Ok(None);
            }
            let user_data = fake
                .cloud_servers(provider)
                .into_iter()
                .filter(|s| {
                    options
                        .name_prefix
                        .as_ref()
                        .is_none_or(|prefix| s.name.starts_with(prefix))
                })
                .find_map(|s| s.user_data);
            if let Some(user_data) = user_data {
                let body = user_data
                    .strip_prefix("#cloud-config\n")
                    .context("the user-data is not a #cloud-config")?;
                let config: serde_json::Value = serde_json::from_str(body)?;
                let host_key = config["ssh_keys"]["ed25519_private"]
                    .as_str()
                    .context("no host key in the cloud-init")?;
                let authorized = config["users"][0]["ssh_authorized_keys"][0]
                    .as_str()
                    .context("no authorized key in the cloud-init")?;
                let host_key = options.impostor_host_key.as_deref().unwrap_or(host_key);
                return TestSshd::start(host_key, authorized, port).map(Some);
            }
            if Instant::now() > deadline {
                bail!("no server with user-data appeared within 60 s");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    })
}

//! A private OpenSSH server per test: its own host key, authorized key, port and log, killed
//! when dropped. Needs `/usr/sbin/sshd` (Debian: `openssh-server`) and root (sshd's
//! privilege separation).

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sam_ssh::{ClientKey, HostKeyPin, SshTarget};
use ssh_key::rand_core::OsRng;
use ssh_key::{Algorithm, LineEnding, PrivateKey};
use tempfile::TempDir;
use zeroize::Zeroizing;

const SSHD: &str = "/usr/sbin/sshd";

/// A fresh ed25519 key pair: (private OpenSSH PEM, public OpenSSH line).
pub fn key_pair() -> (Zeroizing<String>, String) {
    let private = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
    let pem = private.to_openssh(LineEnding::LF).unwrap();
    let public = private.public_key().to_openssh().unwrap();
    (pem, public)
}

/// A port nothing listens on (bound once by us, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

fn write_private(path: &Path, contents: &str) {
    fs::write(path, contents).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

fn login_user() -> String {
    let output = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

pub struct TestSshd {
    dir: TempDir,
    port: u16,
    user: String,
    host_public: String,
    client_private: Zeroizing<String>,
    child: Option<Child>,
}

impl TestSshd {
    /// Everything ready (keys, config, a free port) but the server not started yet.
    pub fn prepare() -> Self {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install openssh-server to run these tests"
        );
        // sshd's privilege separation directory; absent in containers that never ran sshd.
        fs::create_dir_all("/run/sshd").unwrap();

        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let (host_private, host_public) = key_pair();
        let (client_private, client_public) = key_pair();
        write_private(&root.join("host_ed25519"), &host_private);
        write_private(&root.join("authorized_keys"), &format!("{client_public}\n"));
        let port = free_port();
        let user = login_user();
        sam_testkit::sshd::write_config(root, port, &user, "DEBUG1", "").unwrap();
        Self {
            dir,
            port,
            user,
            host_public,
            client_private,
            child: None,
        }
    }

    /// Prepared and started, accepting connections.
    pub fn start() -> Self {
        let mut sshd = Self::prepare();
        sshd.launch();
        sshd
    }

    /// Starts sshd and waits (up to 10 s) until its port accepts connections.
    pub fn launch(&mut self) {
        let root = self.dir.path();
        // `-E file`, not `-e`: with `-e` a session's debug lines reach the client's stderr.
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
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("sshd exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not listen:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn client_private_pem(&self) -> &str {
        &self.client_private
    }

    pub fn pin(&self) -> HostKeyPin {
        HostKeyPin::from_openssh(&self.host_public).unwrap()
    }

    pub fn target(&self) -> SshTarget {
        SshTarget::new("127.0.0.1", self.port, self.user.clone(), self.pin()).unwrap()
    }

    pub fn target_with_pin(&self, pin: HostKeyPin) -> SshTarget {
        SshTarget::new("127.0.0.1", self.port, self.user.clone(), pin).unwrap()
    }

    pub fn client_key(&self) -> ClientKey {
        ClientKey::from_openssh(&self.client_private).unwrap()
    }

    /// sshd's log so far (LogLevel DEBUG1, all connections).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Kills the listener and every per-connection process under it, as a crash or power
    /// loss of the VM would: the client sees its TCP connection reset. Each process is
    /// killed by its own pid; never a process group.
    pub fn kill_all(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let root = child.id();
        let below = descendants(root);
        let _ = child.kill();
        for pid in below {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = child.wait();
    }
}

impl Drop for TestSshd {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// Every process below `root`, parents before their children (so a session process dies
/// before it can report its command's death to the client), from /proc.
fn descendants(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …; comm may contain spaces, so split after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            continue;
        };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parents.push((pid, ppid));
        }
    }
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
                frontier.push(pid);
            }
        }
    }
    found
}

/// A TCP relay in front of sshd that can be frozen: it then stops moving bytes but keeps
/// both connections open, like a server that lost power or a network that silently drops
/// packets. Only keepalives can notice that.
pub struct FreezableRelay {
    pub port: u16,
    frozen: Arc<AtomicBool>,
}

impl FreezableRelay {
    pub async fn start(upstream_port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let frozen = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&frozen);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, upstream_port))
                    .await
                    .unwrap();
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(client_read, server_write, Arc::clone(&flag)));
                tokio::spawn(pump(server_read, client_write, Arc::clone(&flag)));
            }
        });
        Self { port, frozen }
    }

    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0_u8; 64 * 1024];
    loop {
        let Ok(n) = from.read(&mut buffer).await else {
            return;
        };
        if n == 0 {
            return;
        }
        if frozen.load(Ordering::SeqCst) {
            // Swallow everything from now on, holding both sockets open.
            std::future::pending::<()>().await;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

/// Writes `contents` to `path` with mode 0600 (ssh refuses group/world-readable keys).
pub fn write_secret_file(path: &Path, contents: &str) -> PathBuf {
    write_private(path, contents);
    path.to_path_buf()
}

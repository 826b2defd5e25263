//! Real daemons in temporary state directories, real git repositories, and waiting helpers
//! (polling to a deadline, never sleeping as synchronisation).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sam_protocol::client::{ClientError, HostClient};
use sam_protocol::{
    Event, HostStatus, RepoSource, RequestBody, ResponseBody, Secret, SetupPlan, Welcome,
};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

/// Every wait in these tests ends by this deadline.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_sam-host");

/// A `sam-host serve` child process; killed when dropped.
pub struct Daemon {
    state_dir: PathBuf,
    child: Child,
}

impl Daemon {
    /// Starts a daemon on `state_dir` and waits for its socket.
    pub fn start(state_dir: &Path) -> Self {
        Self::start_with(state_dir, |_| {})
    }

    /// As [`Daemon::start`], with `configure` adjusting the command (its environment, say).
    pub fn start_with(state_dir: &Path, configure: impl FnOnce(&mut Command)) -> Self {
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .arg("--state-dir")
            .arg(state_dir)
            .arg("--activity-file")
            .arg(state_dir.join("activity"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1")
            // No base container unless a test asks for one: a machine with the Dev Containers
            // CLI on PATH would otherwise try to pull it for every clone.
            .env("SAM_BASE_IMAGE", "none");
        configure(&mut command);
        let child = command.spawn().unwrap();
        let daemon = Self {
            state_dir: state_dir.to_path_buf(),
            child,
        };
        wait_for_socket(&daemon.socket());
        daemon
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.state_dir.join("host.sock")
    }

    /// The daemon's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A handshaken client.
    pub async fn client(&self) -> HostClient {
        connect_socket(&self.socket()).await.0
    }

    /// Stops the daemon with SIGTERM and waits for it to exit.
    pub fn stop(mut self) {
        signal(self.child.id(), "TERM");
        let deadline = Instant::now() + DEADLINE;
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the daemon ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Kills, when dropped, the daemon recorded in a state directory's lock file: for daemons
/// that `connect` started detached, which are no child of the test.
pub struct DetachedDaemonGuard(pub PathBuf);

impl Drop for DetachedDaemonGuard {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.0.join("host.lock")) {
            // Only a real process id: `kill -KILL 0` or `-1` would take the test's own
            // process group, or everything, with it.
            if let Ok(pid) = pid.trim().parse::<u32>()
                && pid > 1
            {
                let _ = Command::new("kill")
                    .args(["-s", "KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

/// Sends `signal` (a name such as `TERM`) to `pid`.
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Whether a process is alive (and not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            // The state follows the parenthesised command name.
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        })
        .unwrap_or(false)
}

/// Waits until something accepts connections at `socket`.
pub fn wait_for_socket(socket: &Path) {
    let deadline = Instant::now() + DEADLINE;
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        assert!(
            Instant::now() < deadline,
            "no daemon at {}",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A handshaken client on a socket.
pub async fn connect_socket(socket: &Path) -> (HostClient, Welcome) {
    let stream = UnixStream::connect(socket).await.unwrap();
    let (read, write) = stream.into_split();
    within(HostClient::connect(read, write, "sam-host tests"))
        .await
        .unwrap()
}

/// Awaits `future` to the deadline.
pub async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(DEADLINE, future)
        .await
        .expect("timed out")
}

/// Sends a request that must succeed.
pub async fn ok(client: &HostClient, body: RequestBody) -> ResponseBody {
    within(client.request(body)).await.unwrap()
}

/// Runs `argv` (on the host or in the container) and returns (status, stdout, stderr tail).
pub async fn run(client: &HostClient, argv: &[&str], in_container: bool) -> (i32, String, String) {
    let body = RequestBody::Run {
        argv: argv.iter().map(|a| (*a).to_owned()).collect(),
        in_container,
        timeout_ms: 60_000,
    };
    match tokio::time::timeout(Duration::from_secs(90), client.request(body))
        .await
        .expect("timed out")
    {
        Ok(ResponseBody::Ran {
            status,
            stdout,
            stderr_tail,
            ..
        }) => (status, stdout, stderr_tail),
        other => panic!("expected ran for {argv:?}, got {other:?}"),
    }
}

/// Sends a request that must fail with a host error; returns it.
pub async fn refused(client: &HostClient, body: RequestBody) -> sam_protocol::ProtocolError {
    match within(client.request(body)).await {
        Err(ClientError::Host(error)) => error,
        other => panic!("expected a host error, got {other:?}"),
    }
}

/// The host's status.
pub async fn status(client: &HostClient) -> HostStatus {
    match ok(client, RequestBody::Status).await {
        ResponseBody::Status(status) => status,
        other => panic!("expected a status, got {other:?}"),
    }
}

/// Polls the status until `done` holds.
pub async fn wait_status(client: &HostClient, done: impl Fn(&HostStatus) -> bool) -> HostStatus {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let status = status(client).await;
        if done(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "status never matched: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Subscribes after `after` and returns the journal head and the event receiver.
pub async fn subscribe(client: &HostClient, after: Option<u64>) -> (u64, mpsc::Receiver<Event>) {
    let events = client.events().unwrap();
    match ok(client, RequestBody::Subscribe { after }).await {
        ResponseBody::Subscribed { head_seq } => (head_seq, events),
        other => panic!("expected subscribed, got {other:?}"),
    }
}

/// Receives events until one with sequence number `last` arrived.
pub async fn events_until(events: &mut mpsc::Receiver<Event>, last: u64) -> Vec<Event> {
    let mut received = Vec::new();
    while received.last().is_none_or(|e: &Event| e.seq < last) {
        received.push(within(events.recv()).await.expect("the event stream ended"));
    }
    received
}

/// Asserts sequence numbers run `first..=last` with no gap and no duplicate.
pub fn assert_contiguous(events: &[Event], first: u64, last: u64) {
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    let expected: Vec<u64> = (first..=last).collect();
    assert_eq!(seqs, expected);
}

/// Runs git with a fixed identity; panics on failure.
pub fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=SAM Test",
            "-c",
            "user.email=test@sam.invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A git repository at `dir` with `README.md` ("hello sam\n") and `sub/file.txt` on `main`,
/// and a branch `feature` that adds `feature.txt`.
pub fn make_repo(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    std::fs::write(dir.join("README.md"), "hello sam\n").unwrap();
    std::fs::write(dir.join("sub/file.txt"), "nested\n").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "--quiet", "-m", "first"]);
    git(dir, &["checkout", "--quiet", "-b", "feature"]);
    std::fs::write(dir.join("feature.txt"), "only on feature\n").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "--quiet", "-m", "feature"]);
    git(dir, &["checkout", "--quiet", "main"]);
    dir.to_path_buf()
}

/// `file://` URL of a local repository.
pub fn file_url(repo: &Path) -> String {
    format!("file://{}", repo.display())
}

/// A plan cloning `url` into `checkout_dir`.
pub fn git_plan(
    workspace: &str,
    url: &str,
    branch: Option<&str>,
    checkout_dir: &Path,
) -> SetupPlan {
    SetupPlan {
        workspace_id: workspace.to_owned(),
        repository: RepoSource::GitUrl {
            url: url.to_owned(),
            branch: branch.map(str::to_owned),
        },
        checkout_dir: checkout_dir.display().to_string(),
        git_token: None,
    }
}

/// A plan using a local folder in place.
pub fn local_plan(workspace: &str, folder: &Path) -> SetupPlan {
    SetupPlan {
        workspace_id: workspace.to_owned(),
        repository: RepoSource::LocalPath {
            path: folder.display().to_string(),
        },
        checkout_dir: folder.display().to_string(),
        git_token: None,
    }
}

/// `plan` with a token.
pub fn with_token(plan: SetupPlan, token: &str) -> SetupPlan {
    SetupPlan {
        git_token: Some(Secret::new(token)),
        ..plan
    }
}

/// Reads a file that must exist; returns its text.
pub async fn read_text(client: &HostClient, path: &str) -> String {
    match ok(
        client,
        RequestBody::ReadFile {
            path: path.to_owned(),
            max_bytes: 1024 * 1024,
        },
    )
    .await
    {
        ResponseBody::File(file) => String::from_utf8(file.content.to_bytes().unwrap()).unwrap(),
        other => panic!("expected a file, got {other:?}"),
    }
}

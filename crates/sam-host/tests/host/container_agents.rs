//! Agents inside the dev container, with real parts: podman, the Dev Containers CLI, the local
//! base image and the scripted ACP agent. The base image has no Node.js, so the test
//! repository's `devcontainer.json` binds the host's `node` and the scripted agent's folder
//! into the container, read-only (host and image are both Debian 12: the same glibc).
//!
//! Proves where the agent runs (podman's marker file, the remote workspace folder, the
//! container's hostname), that its files land in the checkout, that its credentials reach it
//! and no disk (neither the container's nor podman's own state on the host), that it loads
//! its session again in the same container after the daemon is killed, and what happens when
//! the container is removed behind SAM's back.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sam_protocol::client::HostClient;
use sam_protocol::{
    AgentLaunch, DevContainer, EnvVar, ErrorCode, Event, RequestBody, ResponseBody, Secret,
    SessionEvent, StartSession,
};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::containers::{BASE_IMAGE, ContainerCleanup, ContainerTools};
use crate::devcontainer::{repo_with_devcontainer, setup};
use crate::resume::{agent_text, kill, of, prompt, resume, sessions, turn, turn_ended, until};
use crate::support::{
    Daemon, alive, assert_contiguous, events_until, file_url, git_plan, ok, refused, run, status,
    subscribe,
};

/// Where the scripted agent's folder is mounted in the container.
const AGENT_DIR: &str = "/opt/sam-scripted";

/// Where the scripted agent keeps its sessions: in the container, which outlives the agent.
const AGENT_STATE_DIR: &str = "/tmp/sam-scripted-state";

/// A value with what a hand-over through lines, a shell or an argv could get wrong.
const AWKWARD: &str =
    "two\nlines, a back\\slash, a \\n, \"double\" and 'single' quotes, $HOME, %s, `x`, a tab\t ";

/// Only the daemon's environment holds this; an agent in the container must not see it.
const DAEMON_ONLY: &str = "SAM_DAEMON_ONLY_VALUE";

/// A credential of this run only. Fresh each run because podman's own database keeps what it
/// was once handed: a fixed value leaked by an earlier build would be found there forever.
fn fresh_secret() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("sk-container-agent-{}-{nanos}", std::process::id())
}

/// The scripted agent on the host (for the host-side session of the hostile test).
fn host_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sam-testkit/support/scripted-acp-agent.mjs")
}

/// The host's `node`, resolved, to bind into the container.
fn host_node() -> PathBuf {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("node"))
        .find(|candidate| candidate.is_file())
        .map(|node| std::fs::canonicalize(node).unwrap())
        .unwrap_or_else(|| {
            panic!("Node.js is not on PATH: the scripted agent needs it (scripts/setup.sh)")
        })
}

/// The agent's environment: session loading, its state folder, a credential and an awkward
/// value.
fn agent_env(load_session: &str, secret: &str) -> Vec<EnvVar> {
    [
        ("SCRIPTED_AGENT_LOAD_SESSION", load_session),
        ("SCRIPTED_AGENT_STATE_DIR", AGENT_STATE_DIR),
        ("SAM_TEST_SECRET", secret),
        ("SAM_TEST_AWKWARD", AWKWARD),
    ]
    .into_iter()
    .map(|(name, value)| EnvVar {
        name: name.into(),
        value: Secret::new(value),
    })
    .collect()
}

/// Starts the scripted agent in the dev container.
fn start_in_container(session: &str, env: Vec<EnvVar>) -> RequestBody {
    RequestBody::StartSession(StartSession {
        session: session.into(),
        agent: AgentLaunch {
            agent: "custom".into(),
            argv: vec!["node".into(), format!("{AGENT_DIR}/scripted-acp-agent.mjs")],
            install: None,
            env,
            in_container: true,
            mode: Some("default".into()),
        },
        context: None,
        first_prompt: None,
    })
}

/// A daemon that brings containers up with podman, with a value of its own in its environment.
fn start_daemon(tools: &ContainerTools, state: &Path) -> Daemon {
    Daemon::start_with(state, |command| {
        tools.configure_daemon(command);
        command.env("SAM_DAEMON_ONLY", DAEMON_ONLY);
    })
}

/// A cloned workspace whose repository has a dev container able to run the scripted agent.
/// Removes the container when dropped.
struct Workspace {
    tools: &'static ContainerTools,
    state: tempfile::TempDir,
    checkout: PathBuf,
    container: DevContainer,
    _cleanup: ContainerCleanup,
    _work: tempfile::TempDir,
}

impl Workspace {
    /// Clones the repository, brings its dev container up, and checks that the host's Node.js
    /// runs in it. Returns the daemon that did it.
    async fn up(workspace: &str) -> (Self, Daemon) {
        let tools = ContainerTools::get();
        let node = host_node();
        let support = std::fs::canonicalize(host_script().parent().unwrap()).unwrap();
        let config = serde_json::json!({
            "image": BASE_IMAGE,
            // The default bridge network is not needed and not tested on these machines.
            "runArgs": ["--network=none"],
            "mounts": [
                format!("type=bind,source={},target=/usr/local/bin/node,readonly", node.display()),
                format!("type=bind,source={},target={AGENT_DIR},readonly", support.display()),
            ],
        });
        let work = tempfile::tempdir().unwrap();
        let repo = repo_with_devcontainer(&work.path().join("origin"), &format!("{config:#}"));
        let checkout = std::fs::canonicalize(work.path()).unwrap().join("checkout");
        let cleanup = ContainerCleanup::new(tools, &checkout);
        let state = tempfile::tempdir().unwrap();
        let daemon = start_daemon(tools, state.path());
        let client = daemon.client().await;
        setup(
            &client,
            git_plan(workspace, &file_url(&repo), None, &checkout),
        )
        .await
        .unwrap();
        let container = status(&client).await.container.expect("a dev container");
        let (code, version, stderr) = run(&client, &["node", "--version"], true).await;
        assert!(
            code == 0 && version.starts_with('v'),
            "the host's Node.js ({}) does not run in {BASE_IMAGE} (exit status {code}: \
             {stderr}); the scripted agent needs a node built for Debian 12's glibc",
            node.display()
        );
        let workspace = Self {
            tools,
            state,
            checkout,
            container,
            _cleanup: cleanup,
            _work: work,
        };
        (workspace, daemon)
    }

    /// Another daemon on this workspace's state directory.
    fn daemon(&self) -> Daemon {
        start_daemon(self.tools, self.state.path())
    }

    /// Where a credential handed to the agent could be written: the daemon's state, the
    /// checkout, the container's own disk (its overlay upper layer), and podman's state for
    /// the container on the host (its database, the container's userdata, exec sessions).
    /// Each with whether it must hold files: a scan of nothing proves nothing.
    fn disk_places(&self) -> Vec<(&'static str, PathBuf, bool)> {
        let podman = |args: &[&str]| {
            let output = self.tools.podman().args(args).output().unwrap();
            assert!(
                output.status.success(),
                "podman {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
        };
        let id = self.container.container_id.as_str();
        let upper = podman(&["inspect", "--format", "{{.GraphDriver.Data.UpperDir}}", id]);
        let graph_root = podman(&["info", "--format", "{{.Store.GraphRoot}}"]);
        let run_root = podman(&["info", "--format", "{{.Store.RunRoot}}"]);
        vec![
            ("the daemon's state", self.state.path().to_path_buf(), true),
            ("the checkout", self.checkout.clone(), true),
            ("the container's disk", upper, true),
            ("podman's database", graph_root.join("libpod"), true),
            (
                "podman's container data",
                graph_root.join("overlay-containers").join(id),
                true,
            ),
            (
                "podman's runtime data",
                run_root.join("overlay-containers").join(id),
                false,
            ),
        ]
    }

    /// Asserts `secret` is in no file of [`Workspace::disk_places`].
    fn assert_not_on_disk(&self, secret: &str) {
        for (what, place, holds_files) in self.disk_places() {
            let files = regular_files(&place);
            if holds_files {
                assert!(
                    !files.is_empty(),
                    "{what} ({}) has no files",
                    place.display()
                );
            }
            for file in files {
                let Ok(bytes) = std::fs::read(&file) else {
                    continue; // gone since it was listed
                };
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "the agent's credential is on disk in {what}: {}",
                    file.display()
                );
            }
        }
    }

    /// Waits until process `pid` of the container has ended.
    fn wait_until_gone(&self, pid: u64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let present = self
                .tools
                .podman()
                .args(["exec", &self.container.container_id, "test", "-d"])
                .arg(format!("/proc/{pid}"))
                .status()
                .unwrap()
                .success();
            if !present {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the agent (pid {pid} in the container) outlived its daemon"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Every regular file under `dir` (no symbolic links, sockets or pipes), if it exists.
fn regular_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                found.push(entry.path());
            }
        }
    }
    found
}

/// Asks the agent where it runs.
async fn whereami(client: &HostClient, events: &mut mpsc::Receiver<Event>, session: &str) -> Value {
    let reply = agent_text(&turn(client, events, session, "whereami").await);
    serde_json::from_str(&reply).unwrap_or_else(|e| panic!("whereami said {reply:?}: {e}"))
}

/// Asserts the agent's answer to `whereami` places it in `container`, in its remote workspace
/// folder.
fn assert_in_container(here: &Value, container: &DevContainer) {
    assert_eq!(here["containerenv"], true, "not in a container: {here}");
    let folder = container.remote_workspace_folder.as_str();
    assert_eq!(here["processCwd"], folder, "{here}");
    assert_eq!(here["sessionCwd"], folder, "{here}");
    // Podman names the container's host after the start of its id.
    let hostname = here["hostname"].as_str().unwrap_or_default();
    assert!(
        hostname.len() >= 12 && container.container_id.starts_with(hostname),
        "not in container {}: {here}",
        container.container_id
    );
}

fn pid(here: &Value) -> u64 {
    here["pid"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_in_the_dev_container_runs_there_and_its_credentials_touch_no_disk() {
    let secret = fresh_secret();
    let (ws, daemon) = Workspace::up("ws-agent").await;
    let client = daemon.client().await;
    let (_, mut events) = subscribe(&client, None).await;
    // Loading sessions on: the agent then also writes its own state to the container's disk.
    ok(&client, start_in_container("s1", agent_env("1", &secret))).await;

    let here = whereami(&client, &mut events, "s1").await;
    assert_in_container(&here, &ws.container);
    // The session's environment reaches the agent whole; the daemon's own does not.
    let length = |name: &str| format!("envlen {name}");
    let reply = turn(&client, &mut events, "s1", &length("SAM_TEST_SECRET")).await;
    assert_eq!(agent_text(&reply), format!("length {}", secret.len()));
    let reply = turn(&client, &mut events, "s1", &length("SAM_TEST_AWKWARD")).await;
    assert_eq!(agent_text(&reply), format!("length {}", AWKWARD.len()));
    let reply = turn(&client, &mut events, "s1", &length("SAM_DAEMON_ONLY")).await;
    assert_eq!(
        agent_text(&reply),
        "length 0",
        "the daemon's environment leaked"
    );

    // A file the agent writes in the container lands in the checkout on the host.
    ok(
        &client,
        prompt("s1", "write from-the-container.txt written inside"),
    )
    .await;
    let asked = until(&mut events, "s1", |e| {
        matches!(e, SessionEvent::PermissionRequested { .. })
    })
    .await;
    let Some(SessionEvent::PermissionRequested { request, .. }) = asked.last() else {
        unreachable!()
    };
    ok(
        &client,
        RequestBody::AnswerPermission {
            session: "s1".into(),
            request: *request,
            option_id: "allow".into(),
            by: "test".into(),
        },
    )
    .await;
    let wrote = until(&mut events, "s1", turn_ended).await;
    assert_eq!(agent_text(&wrote), "Wrote from-the-container.txt.");
    assert_eq!(
        std::fs::read_to_string(ws.checkout.join("from-the-container.txt")).unwrap(),
        "written inside\n"
    );

    // No disk holds the credential: while the agent runs, and once everything stopped.
    ws.assert_not_on_disk(&secret);
    drop(events);
    drop(client);
    daemon.stop();
    ws.assert_not_on_disk(&secret);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_in_the_dev_container_loads_its_session_there_after_the_daemon_is_killed() {
    let secret = fresh_secret();
    let (ws, daemon) = Workspace::up("ws-resume").await;
    let client = daemon.client().await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, start_in_container("s1", agent_env("1", &secret))).await;
    let reply = turn(&client, &mut events, "s1", "echo hello container").await;
    assert_eq!(agent_text(&reply), "hello container");
    let before = whereami(&client, &mut events, "s1").await;
    assert_in_container(&before, &ws.container);
    drop(events);
    drop(client);
    kill(daemon, None);
    // The agent goes with its daemon (its stdin closes), though SIGKILL cleaned nothing up.
    ws.wait_until_gone(pid(&before));

    let daemon = ws.daemon();
    let client = daemon.client().await;
    let listed = sessions(&client).await;
    assert!(
        listed.len() == 1 && listed[0].resumable && !listed[0].alive,
        "{listed:?}"
    );
    let head = status(&client).await.last_seq;
    let (_, mut events) = subscribe(&client, Some(head)).await;
    assert!(matches!(
        ok(&client, resume("s1", agent_env("1", &secret))).await,
        ResponseBody::SessionOpened { ref session, .. } if session == "s1"
    ));
    let recalled = turn(&client, &mut events, "s1", "recall").await;
    assert_eq!(
        agent_text(&recalled),
        "remembered: echo hello container | whereami",
        "the agent loaded its history from the container"
    );
    let after = whereami(&client, &mut events, "s1").await;
    assert_in_container(&after, &ws.container);
    assert_ne!(pid(&after), pid(&before), "a new agent process");
    let reply = turn(&client, &mut events, "s1", "envlen SAM_TEST_SECRET").await;
    assert_eq!(agent_text(&reply), format!("length {}", secret.len()));

    // The whole journal: gap-free, every reply once, the replay nowhere.
    let reader = daemon.client().await;
    let (head, mut all) = subscribe(&reader, Some(0)).await;
    let every = events_until(&mut all, head).await;
    assert_contiguous(&every, 1, head);
    let session = of(&every, "s1");
    assert!(
        !session
            .iter()
            .any(|e| matches!(e, SessionEvent::Update { update }
            if update["sessionUpdate"] == "user_message_chunk")),
        "replayed history was journaled"
    );
    assert_eq!(
        agent_text(&session),
        format!(
            "hello container{before}remembered: echo hello container | whereami{after}length {}",
            secret.len()
        ),
        "every reply once, in order"
    );
    let prompts: Vec<u32> = session
        .iter()
        .filter_map(|e| match e {
            SessionEvent::PromptSent { prompt, .. } => Some(*prompt),
            _ => None,
        })
        .collect();
    assert_eq!(prompts, [1, 2, 3, 4, 5]);
    let resumed: Vec<&SessionEvent> = session
        .iter()
        .filter(|e| matches!(e, SessionEvent::SessionResumed { .. }))
        .collect();
    assert!(
        matches!(
            resumed.as_slice(),
            // Two prompts and their two replies were replayed, and dropped.
            [SessionEvent::SessionResumed { replayed: 4, .. }]
        ),
        "{resumed:?}"
    );
    drop((events, all, client, reader));
    daemon.stop();
    ws.assert_not_on_disk(&secret);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dev_container_removed_behind_sams_back_fails_its_agents_clearly() {
    let secret = fresh_secret();
    let (ws, daemon) = Workspace::up("ws-gone").await;
    let id = ws.container.container_id.clone();
    let client = daemon.client().await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(
        &client,
        start_in_container("suspended", agent_env("1", &secret)),
    )
    .await;
    turn(&client, &mut events, "suspended", "echo before").await;
    drop(events);
    drop(client);
    kill(daemon, None);

    let daemon = ws.daemon();
    let client = daemon.client().await;
    let head = status(&client).await.last_seq;
    let (_, mut events) = subscribe(&client, Some(head)).await;
    ok(
        &client,
        start_in_container("running", agent_env("0", &secret)),
    )
    .await;
    let reply = turn(&client, &mut events, "running", "echo still here").await;
    assert_eq!(agent_text(&reply), "still here");

    // Removed while an agent runs in it: the agent ends, and says so.
    let removed = ws
        .tools
        .podman()
        .args(["rm", "--force", &id])
        .output()
        .unwrap();
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    let ended = until(&mut events, "running", |e| {
        matches!(e, SessionEvent::AgentExited { .. })
    })
    .await;
    assert!(
        matches!(ended.last(), Some(SessionEvent::AgentExited { .. })),
        "{ended:?}"
    );
    assert_eq!(
        refused(&client, prompt("running", "echo anyone"))
            .await
            .code,
        ErrorCode::AgentFailed
    );

    // Resuming into it, and starting in it, fail at once and name the container.
    let started = Instant::now();
    let error = refused(&client, resume("suspended", agent_env("1", &secret))).await;
    assert_eq!(error.code, ErrorCode::AgentFailed);
    assert!(error.message.contains(&id), "{}", error.message);
    assert!(
        error
            .message
            .contains("no longer exists (it was removed outside SAM): set the workspace up again"),
        "{}",
        error.message
    );
    let failed = until(&mut events, "suspended", |e| {
        matches!(e, SessionEvent::AgentFailed { .. })
    })
    .await;
    assert!(
        matches!(failed.last(), Some(SessionEvent::AgentFailed { reason }) if reason.contains(&id)),
        "{failed:?}"
    );
    let error = refused(
        &client,
        start_in_container("fresh", agent_env("1", &secret)),
    )
    .await;
    assert_eq!(error.code, ErrorCode::AgentFailed);
    assert!(error.message.contains(&id), "{}", error.message);
    assert!(
        error
            .message
            .contains("no longer exists (it was removed outside SAM): set the workspace up again"),
        "{}",
        error.message
    );
    let failed = until(&mut events, "fresh", |e| {
        matches!(e, SessionEvent::AgentFailed { .. })
    })
    .await;
    assert!(
        matches!(failed.last(), Some(SessionEvent::AgentFailed { reason }) if reason.contains(&id)),
        "{failed:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the failures took {:?}",
        started.elapsed()
    );
    assert!(!error.message.contains(&secret), "{}", error.message);

    // The daemon lives on, and an agent on the host still works.
    assert!(alive(daemon.pid()));
    assert!(sessions(&client).await.iter().all(|s| !s.alive));
    ok(
        &client,
        RequestBody::StartSession(StartSession {
            session: "on-host".into(),
            agent: AgentLaunch {
                agent: "custom".into(),
                argv: vec!["node".into(), host_script().display().to_string()],
                install: None,
                env: Vec::new(),
                in_container: false,
                mode: None,
            },
            context: None,
            first_prompt: None,
        }),
    )
    .await;
    let reply = turn(&client, &mut events, "on-host", "echo host still works").await;
    assert_eq!(agent_text(&reply), "host still works");
}

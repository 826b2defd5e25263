//! Chat end to end on a real local workspace (a real `sam-host` daemon, real SQLite) with the
//! scripted ACP agent: send and stream, permission answers, forks, search, restart after a
//! crash, history that outlives the workspace, and the stored transcript equal to the host
//! journal after connections dropped at random points.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sam_chat::{Chat, ChatError, SendRequest};
use sam_protocol::{EventBody, RequestBody, ResponseBody, SessionEvent};
use sam_store::Store;
use sam_workspace::{Provider, Repo, WorkspaceSpec, Workspaces};

const TURN: Duration = Duration::from_secs(30);

fn host_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("SAM_HOST_BINARY") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("sam-host");
    assert!(
        path.is_file(),
        "{} is missing: build it first (`cargo build -p sam-host`)",
        path.display()
    );
    path
}

fn agent_command() -> String {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../sam-testkit/support/scripted-acp-agent.mjs");
    format!("node '{}'", script.display())
}

struct Fixture {
    data: tempfile::TempDir,
    repo: tempfile::TempDir,
    workspaces: Workspaces,
    chat: Chat,
}

impl Fixture {
    async fn new() -> Self {
        let data = tempfile::tempdir().unwrap();
        let repo = sam_testkit::git::repository(&[("README.md", "hello\n")]).unwrap();
        let (workspaces, chat) = Self::open(data.path());
        workspaces
            .create(
                WorkspaceSpec {
                    name: "demo".into(),
                    provider: Provider::Local,
                    repo: Repo::Folder {
                        path: repo.path().to_owned(),
                    },
                    branch: None,
                    size: None,
                    locations: Vec::new(),
                },
                None,
            )
            .await
            .unwrap();
        Self {
            data,
            repo,
            workspaces,
            chat,
        }
    }

    /// The app (or the CLI) over the same data folder.
    fn open(data: &Path) -> (Workspaces, Chat) {
        let (store, _) = Store::open(&data.join("sam.sqlite3")).unwrap();
        let store = Arc::new(store);
        let workspaces = Workspaces::new(Arc::clone(&store), data, host_binary());
        let chat = Chat::new(store, workspaces.clone(), None);
        (workspaces, chat)
    }

    async fn send_new(&self, text: &str) -> sam_chat::Sent {
        self.chat
            .send(SendRequest {
                workspace: Some("demo".into()),
                agent: Some("custom".into()),
                agent_command: Some(agent_command()),
                text: text.into(),
                ..SendRequest::default()
            })
            .await
            .unwrap()
    }

    async fn send(&self, session: &str, text: &str) -> Result<sam_chat::Sent, ChatError> {
        self.chat
            .send(SendRequest {
                session: Some(session.into()),
                text: text.into(),
                ..SendRequest::default()
            })
            .await
    }

    async fn stored(&self, session: &str) -> Vec<SessionEvent> {
        let mut all = Vec::new();
        loop {
            let page = self
                .chat
                .events(session, all.len() as i64, 5000)
                .await
                .unwrap();
            if page.events.is_empty() {
                break;
            }
            for event in page.events {
                assert_eq!(event.seq, all.len() as i64 + 1, "gap-free from 1");
                all.push(event.body);
            }
        }
        all
    }

    /// The session's events as the host journal has them.
    async fn journal(&self, session: &str) -> Vec<SessionEvent> {
        let link = self.workspaces.attach("demo").await.unwrap();
        let mut events = link.client().events().unwrap();
        let head = match link
            .request(RequestBody::Subscribe { after: None })
            .await
            .unwrap()
        {
            ResponseBody::Subscribed { head_seq } => head_seq,
            other => panic!("{other:?}"),
        };
        let mut out = Vec::new();
        let mut last = 0;
        while last < head {
            let event = tokio::time::timeout(TURN, events.recv())
                .await
                .unwrap()
                .unwrap();
            last = event.seq;
            if let EventBody::Session { session: s, event } = event.event
                && s == session
            {
                out.push(event);
            }
        }
        out
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Stop the detached daemon of the workspace.
        let workspaces = self.workspaces.clone();
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async { workspaces.delete("demo").await.map(|_| ()) })
        })
        .join();
        let _ = (&self.data, &self.repo);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_reaches_the_agent_and_the_reply_is_stored_and_searchable() {
    let f = Fixture::new().await;
    let sent = f.send_new("echo The upload handler now streams").await;
    assert_eq!(sent.prompt, 1);
    let (reply, stop) = f
        .chat
        .wait_for_turn(&sent.session_id, 1, TURN)
        .await
        .unwrap();
    assert_eq!(reply, "The upload handler now streams");
    assert_eq!(stop, "end_turn");

    let session = f.chat.session(&sent.session_id).await.unwrap();
    assert_eq!(session.title, "echo The upload handler now streams");
    assert_eq!(session.state, "idle");
    assert_eq!(session.agent, "custom");
    let stored = f.stored(&sent.session_id).await;
    assert!(
        matches!(&stored[0], SessionEvent::SessionStarted { agent_name: Some(n), .. } if n == "scripted-acp-agent")
    );

    // A second turn; a prompt while one runs is refused.
    let second = f.send(&sent.session_id, "slow").await.unwrap();
    assert!(matches!(
        f.send(&sent.session_id, "echo x").await,
        Err(ChatError::Busy)
    ));
    f.chat.cancel(&sent.session_id).await.unwrap();
    let (_, stop) = f
        .chat
        .wait_for_turn(&sent.session_id, second.prompt, TURN)
        .await
        .unwrap();
    assert_eq!(stop, "cancelled");

    // The prompt and the reply both match.
    let hits = f.chat.search("streams").await.unwrap();
    assert_eq!(hits.len(), 2);
    assert!(hits.iter().all(|h| h.session_id == sent.session_id));
    assert!(
        hits.iter()
            .any(|h| h.snippet.contains("handler now [streams]"))
    );
    assert!(f.chat.search("nothing-like-this").await.unwrap().is_empty());
    assert!(matches!(
        f.send(&sent.session_id, "   ").await,
        Err(ChatError::InvalidInput(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_answers_forks_restarts_and_history_after_the_workspace_is_gone() {
    let f = Fixture::new().await;
    let sent = f.send_new("write notes.txt from the agent").await;
    // Wait for the request to be stored, then answer it by kind.
    let mut request = None;
    for _ in 0..200 {
        let events = f.stored(&sent.session_id).await;
        request = events.iter().find_map(|e| match e {
            SessionEvent::PermissionRequested { request, .. } => Some(*request),
            _ => None,
        });
        if request.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let request = request.expect("a permission request was stored");
    assert_eq!(
        f.chat.session(&sent.session_id).await.unwrap().state,
        "waiting"
    );
    // The open request is what the "needs you" queue is rebuilt from, also by a fresh
    // `Chat` over the same database (an app restart).
    let (_, reopened) = Fixture::open(f.data.path());
    for chat in [&f.chat, &reopened] {
        let open = chat.open_requests().await.unwrap();
        assert_eq!(open.len(), 1, "{open:?}");
        assert_eq!(
            (open[0].session_id.as_str(), open[0].request),
            (sent.session_id.as_str(), request)
        );
        assert_eq!(open[0].title, "Write notes.txt");
        let kinds: Vec<&str> = open[0].options.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(kinds, ["allow_once", "allow_always", "reject_once"]);
    }
    let option = f
        .chat
        .option_for(&sent.session_id, request, "allow")
        .await
        .unwrap();
    assert_eq!(option, "allow", "allow_once before allow_always");
    f.chat
        .answer(&sent.session_id, request, &option, "desktop")
        .await
        .unwrap();
    let (reply, _) = f
        .chat
        .wait_for_turn(&sent.session_id, 1, TURN)
        .await
        .unwrap();
    assert_eq!(reply, "Wrote notes.txt.");
    assert!(f.chat.open_requests().await.unwrap().is_empty());
    assert_eq!(
        std::fs::read_to_string(f.repo.path().join("notes.txt")).unwrap(),
        "from the agent\n"
    );

    // Fork after the first turn: the fork's agent starts with the history as context.
    let first_turn_end = f.chat.session(&sent.session_id).await.unwrap().last_seq;
    let fork = f.chat.fork(&sent.session_id, first_turn_end).await.unwrap();
    let forked = f.chat.session(&fork).await.unwrap();
    assert_eq!(
        forked.forked_from.as_ref().unwrap().session_id,
        sent.session_id
    );
    let turn = f.send(&fork, "context").await.unwrap();
    let (reply, _) = f
        .chat
        .wait_for_turn(&fork, turn.prompt, TURN)
        .await
        .unwrap();
    assert!(reply.starts_with("Earlier conversation"), "{reply}");
    assert!(reply.contains("write notes.txt from the agent"), "{reply}");

    // A crash ends the session; sending again says to restart; a restart continues it.
    let crash = f.send(&sent.session_id, "crash").await.unwrap();
    let (_, stop) = f
        .chat
        .wait_for_turn(&sent.session_id, crash.prompt, TURN)
        .await
        .unwrap();
    assert!(stop.starts_with("error"), "{stop}");
    for _ in 0..100 {
        if f.chat.session(&sent.session_id).await.unwrap().state == "ended" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(matches!(
        f.send(&sent.session_id, "echo hi").await,
        Err(ChatError::AgentFailed(_))
    ));
    let restarted = f.chat.restart(&sent.session_id).await.unwrap();
    let turn = f.send(&restarted, "echo back again").await.unwrap();
    let (reply, _) = f
        .chat
        .wait_for_turn(&restarted, turn.prompt, TURN)
        .await
        .unwrap();
    assert_eq!(reply, "back again");

    // The workspace goes; the history stays.
    f.workspaces.delete("demo").await.unwrap();
    let sessions = f.chat.sessions(None).await.unwrap();
    assert_eq!(sessions.len(), 3);
    assert!(sessions.iter().all(|s| s.workspace_gone));
    assert!(!f.stored(&sent.session_id).await.is_empty());
    assert!(matches!(
        f.send(&restarted, "echo anyone?").await,
        Err(ChatError::InvalidInput(message)) if message.contains("was deleted")
    ));

    // …and continues in a new workspace, with the history as context.
    let other = sam_testkit::git::repository(&[("README.md", "second\n")]).unwrap();
    f.workspaces
        .create(
            WorkspaceSpec {
                name: "second".into(),
                provider: Provider::Local,
                repo: Repo::Folder {
                    path: other.path().to_owned(),
                },
                branch: None,
                size: None,
                locations: Vec::new(),
            },
            None,
        )
        .await
        .unwrap();
    let last = f.chat.session(&restarted).await.unwrap().last_seq;
    let moved = f
        .chat
        .fork_to(&restarted, last, Some("second"))
        .await
        .unwrap();
    let session = f.chat.session(&moved).await.unwrap();
    assert_eq!(session.workspace_name, "second");
    assert!(!session.workspace_gone);
    let turn = f.send(&moved, "context").await.unwrap();
    let (reply, _) = f
        .chat
        .wait_for_turn(&moved, turn.prompt, TURN)
        .await
        .unwrap();
    assert!(reply.contains("write notes.txt from the agent"), "{reply}");
    f.workspaces.delete("second").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stored_transcript_equals_the_journal_after_connections_drop_at_random_points() {
    let f = Fixture::new().await;
    let first = f.send_new("echo warm up").await;
    f.chat
        .wait_for_turn(&first.session_id, 1, TURN)
        .await
        .unwrap();
    let session = first.session_id;
    let mut rng = fastrand::Rng::with_seed(0x5a11);
    for run in 0..50 {
        let turn = f.send(&session, "stream 200").await.unwrap();
        // Drop every connection somewhere in the middle of the stream (or before it).
        tokio::time::sleep(Duration::from_millis(rng.u64(0..40))).await;
        f.chat.detach_all().await;
        if run % 10 == 9 {
            // Also an app restart: a fresh Chat over the same database catches up.
            let (_, chat) = Fixture::open(f.data.path());
            chat.resume().await;
            chat.wait_for_turn(&session, turn.prompt, TURN)
                .await
                .unwrap();
        }
        // Any call attaches again.
        f.chat.resume().await;
        let (reply, _) = f
            .chat
            .wait_for_turn(&session, turn.prompt, TURN)
            .await
            .unwrap();
        assert_eq!(reply.lines().count(), 200, "run {run}");
    }
    let stored = f.stored(&session).await;
    let journal = f.journal(&session).await;
    assert_eq!(stored.len(), journal.len(), "as many stored as journaled");
    assert!(
        stored == journal,
        "the stored transcript equals the host journal"
    );
}

/// The files named `name` under `dir`.
fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(find(&path, name));
        } else if path.file_name().is_some_and(|n| n == name) {
            found.push(path);
        }
    }
    found
}

fn kill(pid: &str) {
    let status = std::process::Command::new("kill")
        .args(["-s", "KILL", pid])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_goes_on_after_its_host_is_killed_when_the_agent_loads_sessions() {
    let f = Fixture::new().await;
    let agent_state = tempfile::tempdir().unwrap();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../sam-testkit/support/scripted-acp-agent.mjs");
    let command = format!(
        "env SCRIPTED_AGENT_LOAD_SESSION=1 SCRIPTED_AGENT_STATE_DIR='{}' node '{}'",
        agent_state.path().display(),
        script.display()
    );
    let sent = f
        .chat
        .send(SendRequest {
            workspace: Some("demo".into()),
            agent: Some("custom".into()),
            agent_command: Some(command),
            text: "echo before the restart".into(),
            ..SendRequest::default()
        })
        .await
        .unwrap();
    let session = sent.session_id;
    f.chat
        .wait_for_turn(&session, sent.prompt, TURN)
        .await
        .unwrap();
    let pid = f.send(&session, "pid").await.unwrap();
    let (reply, _) = f
        .chat
        .wait_for_turn(&session, pid.prompt, TURN)
        .await
        .unwrap();
    let agent_pid = reply.strip_prefix("pid ").unwrap().to_owned();

    // The host dies abruptly, its agent with it.
    let locks = find(f.data.path(), "host.lock");
    assert_eq!(locks.len(), 1, "{locks:?}");
    let host_pid = std::fs::read_to_string(&locks[0]).unwrap();
    kill(host_pid.trim());
    kill(&agent_pid);

    // `sam chat send --session S` from another process (a fresh Chat over the same
    // database, which has not seen the restart yet): a new host starts, the session resumes.
    let (_cli_workspaces, cli) = Fixture::open(f.data.path());
    let turn = cli
        .send(SendRequest {
            session: Some(session.clone()),
            text: "recall".into(),
            ..SendRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(turn.session_id, session);
    assert_eq!(turn.prompt, 3, "numbering goes on");
    let (reply, stop) = cli.wait_for_turn(&session, 3, TURN).await.unwrap();
    assert_eq!(stop, "end_turn");
    assert_eq!(reply, "remembered: echo before the restart | pid");

    // The app catches up too; the stored transcript is the journal, the replay in neither.
    f.chat.catch_up(&session).await.unwrap();
    let stored = f.stored(&session).await;
    assert_eq!(stored, f.journal(&session).await);
    assert!(
        stored
            .iter()
            .any(|e| matches!(e, SessionEvent::AgentSuspended { .. }))
    );
    assert!(
        stored
            .iter()
            .any(|e| matches!(e, SessionEvent::SessionResumed { replayed: 4, .. }))
    );
    assert!(
        !stored
            .iter()
            .any(|e| matches!(e, SessionEvent::Update { update }
        if update["sessionUpdate"] == "user_message_chunk"))
    );
    assert_eq!(f.chat.session(&session).await.unwrap().state, "idle");
}

/// This process's `sam-host connect` children: the byte streams to local workspace hosts.
fn bridges() -> Vec<String> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …: the comm may hold spaces, so split after its ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1).map(str::to_owned));
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let is_bridge = args.first().is_some_and(|a| a.ends_with(b"sam-host"))
            && args.iter().any(|a| *a == b"connect");
        if ppid.as_deref() == Some(me.as_str()) && is_bridge {
            found.push(pid);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_is_made_again_and_the_turn_catches_up() {
    let f = Fixture::new().await;
    let first = f.send_new("echo warm up").await;
    f.chat
        .wait_for_turn(&first.session_id, 1, TURN)
        .await
        .unwrap();
    let session = first.session_id;

    // The connection dies under the chat (a slept laptop, a network change) while the agent
    // works on: the host and the agent go on without a desktop.
    let turn = f
        .send(&session, "after 1500 echo said while nobody listened")
        .await
        .unwrap();
    let lost = bridges();
    assert!(!lost.is_empty(), "no sam-host connect child to cut");
    for pid in &lost {
        kill(pid);
    }
    // Nothing arrives without a new connection.
    let silent = f
        .chat
        .wait_for_turn(&session, turn.prompt, Duration::from_secs(3))
        .await;
    assert!(silent.is_err(), "the turn arrived over a dead connection");

    // What the app's timer does: attach again what has live sessions.
    let failures = f.chat.resume().await;
    assert!(failures.is_empty(), "{failures:?}");
    let fresh = bridges();
    assert!(
        fresh.iter().all(|pid| !lost.contains(pid)),
        "a new connection: {fresh:?}"
    );
    let (reply, stop) = f
        .chat
        .wait_for_turn(&session, turn.prompt, TURN)
        .await
        .unwrap();
    assert_eq!(reply, "said while nobody listened");
    assert_eq!(stop, "end_turn");
    assert!(f.stored(&session).await == f.journal(&session).await);
}

//! Agent sessions that outlive their daemon: a real daemon killed (SIGKILL) with its agent,
//! a new daemon on the same state directory, and the scripted ACP agent loading its session
//! again (`session/load`, history replayed from its own state file). Also the agents that
//! cannot: no `loadSession`, a load that fails, a session the agent does not know.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sam_protocol::client::HostClient;
use sam_protocol::{
    AgentLaunch, EnvVar, ErrorCode, Event, EventBody, PermissionOutcome, RequestBody, ResponseBody,
    Secret, SessionEvent, SessionStatus, StartSession,
};
use tokio::sync::mpsc;

use crate::support::{
    Daemon, alive, assert_contiguous, events_until, local_plan, make_repo, ok, refused, signal,
    status, subscribe,
};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sam-testkit/support/scripted-acp-agent.mjs")
}

/// The environment a desktop hands the scripted agent: whether it loads sessions, where it
/// keeps them, and a secret.
fn env(load_session: &str, agent_state: &Path, secret: &str) -> Vec<EnvVar> {
    [
        ("SCRIPTED_AGENT_LOAD_SESSION", load_session.to_owned()),
        (
            "SCRIPTED_AGENT_STATE_DIR",
            agent_state.display().to_string(),
        ),
        ("SAM_TEST_SECRET", secret.to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| EnvVar {
        name: name.into(),
        value: Secret::new(value),
    })
    .collect()
}

fn start(session: &str, env: Vec<EnvVar>) -> RequestBody {
    RequestBody::StartSession(StartSession {
        session: session.into(),
        agent: AgentLaunch {
            agent: "custom".into(),
            argv: vec!["node".into(), script().display().to_string()],
            install: None,
            env,
            in_container: false,
            mode: Some("default".into()),
        },
        context: None,
        first_prompt: None,
    })
}

pub(crate) fn prompt(session: &str, text: &str) -> RequestBody {
    RequestBody::Prompt {
        session: session.into(),
        text: text.into(),
    }
}

pub(crate) fn resume(session: &str, env: Vec<EnvVar>) -> RequestBody {
    RequestBody::ResumeSession {
        session: session.into(),
        env,
    }
}

pub(crate) fn of(events: &[Event], session: &str) -> Vec<SessionEvent> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            EventBody::Session { session: s, event } if s == session => Some(event.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) async fn until(
    events: &mut mpsc::Receiver<Event>,
    session: &str,
    done: impl Fn(&SessionEvent) -> bool,
) -> Vec<SessionEvent> {
    let mut received = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .expect("timed out waiting for a session event")
            .expect("the event stream ended");
        if let EventBody::Session { session: s, event } = event.event
            && s == session
        {
            let hit = done(&event);
            received.push(event);
            if hit {
                return received;
            }
        }
    }
}

pub(crate) fn turn_ended(event: &SessionEvent) -> bool {
    matches!(event, SessionEvent::TurnEnded { .. })
}

pub(crate) fn agent_text(events: &[SessionEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Update { update } if update["sessionUpdate"] == "agent_message_chunk" => {
                update["content"]["text"].as_str().map(str::to_owned)
            }
            _ => None,
        })
        .collect()
}

/// Sends `text` and returns the turn's events once it ended.
pub(crate) async fn turn(
    client: &HostClient,
    events: &mut mpsc::Receiver<Event>,
    session: &str,
    text: &str,
) -> Vec<SessionEvent> {
    ok(client, prompt(session, text)).await;
    until(events, session, turn_ended).await
}

pub(crate) async fn sessions(client: &HostClient) -> Vec<SessionStatus> {
    match ok(client, RequestBody::Sessions).await {
        ResponseBody::Sessions { sessions } => sessions,
        other => panic!("expected sessions, got {other:?}"),
    }
}

/// Kills the daemon (SIGKILL: no clean-up of any kind) and waits until it is gone.
pub(crate) fn kill(daemon: Daemon, also: Option<u32>) {
    let pid = daemon.pid();
    signal(pid, "KILL");
    if let Some(agent) = also {
        signal(agent, "KILL");
    }
    drop(daemon); // reaps it
    let deadline = Instant::now() + Duration::from_secs(10);
    while also.is_some_and(alive) {
        assert!(Instant::now() < deadline, "the agent outlived SIGKILL");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.is_file() {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn a_session_whose_agent_loads_sessions_goes_on_after_the_daemon_is_killed() {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let agent_state = tempfile::tempdir().unwrap();
    let secret = "sk-resume-only-in-memory-81c2";
    let env = || env("1", agent_state.path(), secret);

    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, start("s1", env())).await;
    let first = turn(&client, &mut events, "s1", "echo hello world").await;
    assert_eq!(agent_text(&first), "hello world");
    let second = turn(&client, &mut events, "s1", "pid").await;
    let agent_pid: u32 = agent_text(&second)
        .strip_prefix("pid ")
        .unwrap()
        .parse()
        .unwrap();
    // A third turn is waiting for a permission answer when everything dies.
    ok(&client, prompt("s1", "permission")).await;
    until(&mut events, "s1", |e| {
        matches!(e, SessionEvent::PermissionRequested { request: 1, .. })
    })
    .await;
    drop(events);
    drop(client);
    kill(daemon, Some(agent_pid));

    // The next daemon suspends the session; one after it does not suspend it again.
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let listed = sessions(&client).await;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].resumable && !listed[0].alive, "{listed:?}");
    // A prompt before the resume says what to do.
    let early = refused(&client, prompt("s1", "echo too early")).await;
    assert_eq!(early.code, ErrorCode::AgentFailed);
    assert!(early.message.contains("resume"), "{}", early.message);
    drop(client);
    daemon.stop();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;

    // The desktop hands the environment again, and the same session goes on.
    let head = status(&client).await.last_seq;
    let (_, mut events) = subscribe(&client, Some(head)).await;
    assert!(matches!(
        ok(&client, resume("s1", env())).await,
        ResponseBody::SessionOpened { ref session, .. } if session == "s1"
    ));
    // Resuming twice starts no second agent.
    assert!(matches!(
        ok(&client, resume("s1", env())).await,
        ResponseBody::SessionOpened { .. }
    ));
    assert!(matches!(
        ok(&client, prompt("s1", "recall")).await,
        ResponseBody::PromptAccepted { prompt: 4 }
    ));
    let recalled = until(&mut events, "s1", turn_ended).await;
    assert_eq!(
        agent_text(&recalled),
        "remembered: echo hello world | pid | permission",
        "the agent loaded its own history"
    );
    ok(&client, prompt("s1", "permission")).await;
    let asked = until(&mut events, "s1", |e| {
        matches!(e, SessionEvent::PermissionRequested { .. })
    })
    .await;
    assert!(
        matches!(
            asked.last(),
            Some(SessionEvent::PermissionRequested { request: 2, .. })
        ),
        "request numbers go on: {asked:?}"
    );
    ok(
        &client,
        RequestBody::AnswerPermission {
            session: "s1".into(),
            request: 2,
            option_id: "allow".into(),
            by: "test".into(),
        },
    )
    .await;
    until(&mut events, "s1", turn_ended).await;
    let envlen = turn(&client, &mut events, "s1", "envlen SAM_TEST_SECRET").await;
    assert_eq!(agent_text(&envlen), format!("length {}", secret.len()));

    // The whole journal: gap-free, and the replay is in it nowhere.
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
            "hello worldpid {agent_pid}remembered: echo hello world | pid | permission\
             chosen: allowlength {}",
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
    assert_eq!(prompts, [1, 2, 3, 4, 5, 6]);
    // The agent sends an update right after answering session/load: it comes after
    // `SessionResumed`, never before.
    let suspended = session
        .iter()
        .position(|e| matches!(e, SessionEvent::AgentSuspended { .. }))
        .expect("AgentSuspended");
    assert!(
        matches!(
            &session[suspended + 1..],
            [SessionEvent::SessionResumed { .. }, SessionEvent::Update { update }, ..]
                if update["sessionUpdate"] == "available_commands_update"
        ),
        "{:#?}",
        &session[suspended..]
    );
    let lifecycle: Vec<&SessionEvent> = session
        .iter()
        .filter(|e| {
            !matches!(
                e,
                SessionEvent::Update { .. }
                    | SessionEvent::PromptSent { .. }
                    | SessionEvent::PermissionRequested { .. }
            )
        })
        .collect();
    assert!(
        matches!(
            lifecycle.as_slice(),
            [
                SessionEvent::SessionStarted { .. },
                SessionEvent::TurnEnded { prompt: 1, .. },
                SessionEvent::TurnEnded { prompt: 2, .. },
                SessionEvent::PermissionResolved {
                    request: 1,
                    outcome: PermissionOutcome::Cancelled
                },
                SessionEvent::TurnEnded {
                    prompt: 3,
                    error: Some(_),
                    ..
                },
                SessionEvent::AgentSuspended { .. },
                // Three prompts and the two replies with text were replayed, and dropped.
                SessionEvent::SessionResumed {
                    replayed: 5,
                    agent_name: Some(_),
                    ..
                },
                SessionEvent::TurnEnded { prompt: 4, .. },
                SessionEvent::PermissionResolved { request: 2, .. },
                SessionEvent::TurnEnded { prompt: 5, .. },
                SessionEvent::TurnEnded { prompt: 6, .. },
            ]
        ),
        "{lifecycle:#?}"
    );

    // The credentials reached the agent twice and the disk never.
    for entry in walk(state.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the secret is in {}",
            entry.display()
        );
    }
}

#[tokio::test]
async fn agents_that_cannot_load_their_session_end_it_clearly() {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let agents: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    // plain: no loadSession. broken: claims it, fails every load. lost: its state file is
    // gone (an id it does not know). changed: no longer claims it when started again.
    let names = ["plain", "broken", "lost", "changed"];
    let modes = ["0", "fail", "1", "1"];

    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;
    let (_, mut events) = subscribe(&client, None).await;
    for ((name, mode), dir) in names.iter().zip(modes).zip(&agents) {
        ok(&client, start(name, env(mode, dir.path(), "s"))).await;
        let reply = turn(&client, &mut events, name, &format!("echo {name}")).await;
        assert_eq!(agent_text(&reply), *name);
    }
    drop(events);
    drop(client);
    kill(daemon, None);

    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let head = status(&client).await.last_seq;
    let (_, mut events) = subscribe(&client, Some(head)).await;
    let mut resumable: Vec<String> = sessions(&client)
        .await
        .into_iter()
        .filter(|s| s.resumable)
        .map(|s| s.session)
        .collect();
    resumable.sort();
    assert_eq!(resumable, ["broken", "changed", "lost"]);

    // Without loadSession: today's behaviour, ended with a hint to restart it.
    let reader = daemon.client().await;
    let (head, mut all) = subscribe(&reader, Some(0)).await;
    let plain = of(&events_until(&mut all, head).await, "plain");
    assert!(
        matches!(plain.last(), Some(SessionEvent::AgentExited { stderr_tail, .. })
            if stderr_tail.contains("restart the session")),
        "{plain:?}"
    );
    assert_eq!(
        refused(&client, resume("plain", env("0", agents[0].path(), "s")))
            .await
            .code,
        ErrorCode::NotFound
    );
    assert_eq!(
        refused(&client, resume("never-was", Vec::new())).await.code,
        ErrorCode::NotFound
    );

    for entry in walk(agents[2].path()) {
        std::fs::remove_file(entry).unwrap();
    }
    let cases = [
        (
            "broken",
            env("fail", agents[1].path(), "s"),
            "loading sessions is broken",
        ),
        ("lost", env("1", agents[2].path(), "s"), "unknown session"),
        (
            "changed",
            env("0", agents[3].path(), "s"),
            "no longer offers session/load",
        ),
    ];
    for (name, env, why) in cases {
        let error = refused(&client, resume(name, env)).await;
        assert_eq!(error.code, ErrorCode::AgentFailed, "{name}");
        assert!(error.message.contains(why), "{name}: {}", error.message);
        assert!(
            error.message.contains("Restart the session"),
            "{}",
            error.message
        );
        let ended = until(&mut events, name, |e| {
            matches!(e, SessionEvent::AgentFailed { .. })
        })
        .await;
        assert!(
            matches!(ended.last(), Some(SessionEvent::AgentFailed { reason }) if reason.contains(why)),
            "{ended:?}"
        );
        // Then as any ended session: not resumable again, no prompts.
        assert_eq!(
            refused(&client, resume(name, Vec::new())).await.code,
            ErrorCode::NotFound
        );
        assert_eq!(
            refused(&client, prompt(name, "echo hi")).await.code,
            ErrorCode::NotFound
        );
    }
    assert!(sessions(&client).await.iter().all(|s| !s.resumable));
    drop(events);
    drop(client);
    daemon.stop();

    // A later daemon finds nothing left to settle.
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    assert!(sessions(&client).await.is_empty());
}

#[tokio::test]
async fn a_daemon_stopped_for_an_upgrade_leaves_its_sessions_resumable() {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let agent_state = tempfile::tempdir().unwrap();
    let env = || env("1", agent_state.path(), "s");

    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;
    let (_, mut events) = subscribe(&client, None).await;
    ok(&client, start("s1", env())).await;
    turn(&client, &mut events, "s1", "echo one").await;
    drop(events);
    drop(client);
    // SIGTERM, as an upgrade or a reboot stops it: the agent goes with the daemon, but the
    // session is not over.
    daemon.stop();

    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    assert!(sessions(&client).await[0].resumable);
    let head = status(&client).await.last_seq;
    let (_, mut events) = subscribe(&client, Some(head)).await;
    ok(&client, resume("s1", env())).await;
    let reply = turn(&client, &mut events, "s1", "recall").await;
    assert_eq!(agent_text(&reply), "remembered: echo one");
    assert!(matches!(
        reply.first(),
        Some(SessionEvent::SessionResumed { replayed: 2, .. })
    ));
}

/// A real agent from npm (pinned in `tools/agents`, run as `real_agents.rs` runs it: offline,
/// against a scripted model server).
struct RealAgent {
    agent: &'static str,
    package: &'static str,
    version: &'static str,
    bin: &'static str,
    api: sam_testkit::models::ModelApi,
    key: &'static str,
    /// The model API's path, and the field of its body holding the conversation.
    path: &'static str,
    history: &'static str,
    mode: &'static str,
}

/// The agent's environment: everything aimed at `models`, homes in `private`.
fn real_env(
    agent: &RealAgent,
    models: &sam_testkit::models::ModelServer,
    private: &Path,
) -> Vec<EnvVar> {
    let home = private.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let var = |name: &str, value: String| EnvVar {
        name: name.into(),
        value: Secret::new(value),
    };
    let mut env = vec![var("HOME", home.display().to_string())];
    if agent.agent == "claude" {
        env.extend([
            var("ANTHROPIC_BASE_URL", models.anthropic_base_url()),
            var("ANTHROPIC_API_KEY", agent.key.into()),
            var("IS_SANDBOX", "1".into()),
            var("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            var("DISABLE_TELEMETRY", "1".into()),
            var("DISABLE_AUTOUPDATER", "1".into()),
            var("DISABLE_ERROR_REPORTING", "1".into()),
        ]);
    } else {
        let codex_home = private.join("codex-home");
        std::fs::create_dir_all(&codex_home).unwrap();
        std::fs::write(
            codex_home.join("config.toml"),
            format!(
                "model = \"gpt-5.5\"\nmodel_provider = \"sam_scripted\"\n\
                 check_for_update_on_startup = false\n\n[model_providers.sam_scripted]\n\
                 name = \"SAM scripted model server\"\nbase_url = \"{}\"\n\
                 env_key = \"OPENAI_API_KEY\"\nwire_api = \"responses\"\n\n[features]\n\
                 plugins = false\n\n[analytics]\nenabled = false\n",
                models.openai_base_url()
            ),
        )
        .unwrap();
        env.extend([
            var("CODEX_HOME", codex_home.display().to_string()),
            var("OPENAI_API_KEY", agent.key.into()),
        ]);
    }
    env
}

/// Killed with its daemon, the agent loads its session again from its own store, the replay
/// is not journaled, and the next turn's model call carries the earlier conversation.
async fn real_agent_resumes(agent: RealAgent) {
    use sam_protocol::AgentInstall;
    use sam_testkit::models::{Answered, ModelServer, Script};

    const FIRST: &str = "Create a file named hello.txt in the workspace with a greeting.";
    const SECOND: &str = "Thanks. Is everything in order?";
    let session = agent.agent;

    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/agents");
    assert!(
        tools.join("node_modules/.bin").join(agent.bin).is_file(),
        "{}@{} is not installed: run `npm install --no-save --prefix tools/agents`",
        agent.package,
        agent.version
    );
    // Not under /tmp: Codex's sandbox helper fails when CODEX_HOME is there.
    let private = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let models = ModelServer::start(Script::write_file("hello.txt", "hi\n"))
        .await
        .unwrap();
    models.accept(agent.api, agent.key);
    let env = || real_env(&agent, &models, private.path());

    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    // The host finds the agent installed (its install folder links to tools/agents) and may
    // not run npm.
    let prefix = state.path().join("agents").join(format!(
        "{}@{}",
        agent.package.replace('/', "+"),
        agent.version
    ));
    std::fs::create_dir_all(prefix.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(tools.canonicalize().unwrap(), &prefix).unwrap();
    let configure = |command: &mut std::process::Command| {
        command.env("SAM_NPM", "/nonexistent/sam-npm-must-not-run");
        for name in [
            "ANTHROPIC_AUTH_TOKEN",
            "ANTHROPIC_MODEL",
            "CLAUDE_CODE_OAUTH_TOKEN",
            "CLAUDE_CONFIG_DIR",
            "OPENAI_BASE_URL",
            "CODEX_HOME",
        ] {
            command.env_remove(name);
        }
    };

    let daemon = Daemon::start_with(state.path(), configure);
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;
    let (_, mut events) = subscribe(&client, None).await;
    let request = RequestBody::StartSession(StartSession {
        session: session.into(),
        agent: AgentLaunch {
            agent: agent.agent.into(),
            argv: vec![agent.bin.into()],
            install: Some(AgentInstall::Npm {
                package: agent.package.into(),
                version: agent.version.into(),
            }),
            env: env(),
            in_container: false,
            mode: Some(agent.mode.into()),
        },
        context: None,
        first_prompt: None,
    });
    match tokio::time::timeout(Duration::from_secs(120), client.request(request)).await {
        Ok(Ok(ResponseBody::SessionOpened { .. })) => {}
        other => panic!("{} did not start: {other:?}", agent.package),
    }
    let first = approve_until_turn_ends(&client, &mut events, session, FIRST).await;
    assert!(
        matches!(first.last(), Some(SessionEvent::TurnEnded { stop_reason, .. }) if stop_reason == "end_turn"),
        "{first:?}\n{}",
        models.summary()
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("hello.txt")).unwrap(),
        "hi\n"
    );
    drop(events);
    drop(client);
    kill(daemon, None);

    let daemon = Daemon::start_with(state.path(), configure);
    let client = daemon.client().await;
    let head = status(&client).await.last_seq;
    let (_, mut events) = subscribe(&client, Some(head)).await;
    match tokio::time::timeout(
        Duration::from_secs(120),
        client.request(resume(session, env())),
    )
    .await
    {
        Ok(Ok(ResponseBody::SessionOpened { .. })) => {}
        other => panic!("{} did not load its session: {other:?}", agent.package),
    }
    let calls_before = models.requests().len();
    let second = approve_until_turn_ends(&client, &mut events, session, SECOND).await;
    assert!(
        matches!(second.first(), Some(SessionEvent::SessionResumed { replayed, .. }) if *replayed > 0),
        "the agent replayed its history while loading: {:?}",
        second.first()
    );
    assert!(
        matches!(second.last(), Some(SessionEvent::TurnEnded { prompt: 2, stop_reason, .. }) if stop_reason == "end_turn"),
        "{second:?}\n{}",
        models.summary()
    );
    assert!(
        !second
            .iter()
            .any(|e| matches!(e, SessionEvent::Update { update }
            if update["sessionUpdate"] == "user_message_chunk")),
        "the replay was not journaled: {second:?}"
    );
    // The resumed turn's model call holds the first turn: the agent has its history.
    let turn_calls: Vec<_> = models.requests()[calls_before..]
        .iter()
        .filter(|r| r.path == agent.path && r.answered != Answered::SideReply)
        .cloned()
        .collect();
    assert!(!turn_calls.is_empty(), "{}", models.summary());
    let history = turn_calls[0].body[agent.history].to_string();
    assert!(
        history.contains("hello.txt") && history.contains("Is everything in order"),
        "{history}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_loads_its_session_after_the_daemon_is_killed() {
    real_agent_resumes(RealAgent {
        agent: "claude",
        package: "@agentclientprotocol/claude-agent-acp",
        version: "0.101.0",
        bin: "claude-agent-acp",
        api: sam_testkit::models::ModelApi::AnthropicMessages,
        key: "sk-ant-api03-sam-resume-test-5e02aa",
        path: "/v1/messages",
        history: "messages",
        mode: "default",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_loads_its_session_after_the_daemon_is_killed() {
    real_agent_resumes(RealAgent {
        agent: "codex",
        package: "@agentclientprotocol/codex-acp",
        version: "2.6.0",
        bin: "codex-acp",
        api: sam_testkit::models::ModelApi::OpenAiResponses,
        key: "sk-proj-sam-resume-test-1b7c40",
        path: "/v1/responses",
        history: "input",
        mode: "read-only",
    })
    .await;
}

/// Sends `text` to `session`, allows every permission request, returns the session's events
/// up to the turn's end.
async fn approve_until_turn_ends(
    client: &HostClient,
    events: &mut mpsc::Receiver<Event>,
    session: &str,
    text: &str,
) -> Vec<SessionEvent> {
    ok(client, prompt(session, text)).await;
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(120), events.recv())
            .await
            .expect("the turn did not end within 120 s")
            .expect("the event stream ended");
        let EventBody::Session { session: s, event } = event.event else {
            continue;
        };
        if s != session {
            continue;
        }
        if let SessionEvent::PermissionRequested {
            request, options, ..
        } = &event
        {
            let allow = options.iter().find(|o| o.kind == "allow_once").unwrap();
            ok(
                client,
                RequestBody::AnswerPermission {
                    session: session.into(),
                    request: *request,
                    option_id: allow.option_id.clone(),
                    by: "test".into(),
                },
            )
            .await;
        }
        let ended = matches!(event, SessionEvent::TurnEnded { .. });
        seen.push(event);
        if ended {
            return seen;
        }
    }
}

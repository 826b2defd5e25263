//! Real coding agents from npm, offline: a real daemon starts Claude Code
//! (`@agentclientprotocol/claude-agent-acp`) and Codex (`@agentclientprotocol/codex-acp`) over
//! ACP, each pointed through its base-URL setting at a scripted model server on loopback that
//! speaks its provider's wire format (Anthropic Messages and OpenAI Responses, streamed;
//! `sam_testkit::models`). A prompt from the desktop side makes the real agent call its own
//! file tool, the client approves the permission request, the file appears in the workspace and
//! the final reply streams back.
//!
//! The agents are installed once per machine, by the test set-up, into `tools/agents`
//! (`npm install --no-save --prefix tools/agents`, exact pins in its `package-lock.json`). The
//! turn tests link that folder where the host keeps its npm installs
//! (`<state>/agents/<package>@<version>`), so
//! the host takes its own `AgentInstall::Npm` path and finds the agent installed; `SAM_NPM`
//! points at a program that does not exist, so an attempt to install would fail the test
//! rather than reach the network. One more test lets the host run `npm install` itself,
//! offline, from the npm cache the set-up filled.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sam_protocol::client::HostClient;
use sam_protocol::{
    AgentInstall, AgentLaunch, EnvVar, Event, EventBody, PermissionOutcome, RequestBody,
    ResponseBody, Secret, SessionEvent, StartSession,
};
use sam_testkit::models::{Answered, Auth, AuthScheme, ModelApi, ModelServer, Script};
use tokio::sync::mpsc;

use crate::support::{Daemon, local_plan, make_repo, ok, subscribe};

/// What installs the agents these tests run (scripts/setup.sh --test runs it).
const SETUP_COMMAND: &str = "npm install --no-save --prefix tools/agents";

/// An agent package pinned in `tools/agents/package.json`.
pub(crate) struct Pinned {
    /// The manifest id the desktop asks for.
    pub(crate) agent: &'static str,
    pub(crate) package: &'static str,
    pub(crate) version: &'static str,
    pub(crate) bin: &'static str,
}

const CLAUDE: Pinned = Pinned {
    agent: "claude",
    package: "@agentclientprotocol/claude-agent-acp",
    version: "0.101.0",
    bin: "claude-agent-acp",
};

const CODEX: Pinned = Pinned {
    agent: "codex",
    package: "@agentclientprotocol/codex-acp",
    version: "2.6.0",
    bin: "codex-acp",
};

/// A model Codex 0.166 knows (from its bundled catalog): with it Codex offers its freeform
/// `apply_patch` tool. An unknown model name gets no `apply_patch`.
const CODEX_MODEL: &str = "gpt-5.5";

/// Starting an agent (and, for the install test, installing it first) may take this long.
pub(crate) const START_LIMIT: Duration = Duration::from_secs(120);
const INSTALL_START_LIMIT: Duration = Duration::from_secs(300);
/// A turn on a busy 2-core machine takes a few seconds; this is the limit.
const TURN_LIMIT: Duration = Duration::from_secs(120);

// Fake keys: the scripted model server accepts these and nothing else.
pub(crate) const ANTHROPIC_KEY: &str = "sk-ant-api03-sam-real-agent-test-7d41c0";
const OPENAI_KEY: &str = "sk-proj-sam-real-agent-test-93b2e5";

pub(crate) const FILE_NAME: &str = "hello.txt";
pub(crate) const PROMPT: &str = "Create a file named hello.txt in the workspace with a greeting.";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `tools/agents`, checked to hold `agent` at its pinned version; fails the test (with the
/// set-up command) when it does not: CI runs the set-up, so a missing agent is a broken set-up.
pub(crate) fn installed(agent: &Pinned) -> PathBuf {
    let root = repo_root().join("tools/agents");
    let bin = root.join("node_modules/.bin").join(agent.bin);
    let manifest = root
        .join("node_modules")
        .join(agent.package)
        .join("package.json");
    let version = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json["version"].as_str().map(str::to_owned));
    assert!(
        bin.is_file() && version.as_deref() == Some(agent.version),
        "{}@{} is not installed in {} (found version {version:?}): run `{SETUP_COMMAND}` in the \
         repository root (scripts/setup.sh --test does it) to install the pinned agents once",
        agent.package,
        agent.version,
        root.display(),
    );
    root
}

/// The host's install folder for `agent` (`<state>/agents/<package, / as +>@<version>`).
fn install_prefix(state: &Path, agent: &Pinned) -> PathBuf {
    state.join("agents").join(format!(
        "{}@{}",
        agent.package.replace('/', "+"),
        agent.version
    ))
}

/// Makes the host find `agent` installed: its install folder is a link to `tools/agents`.
pub(crate) fn link_installed(state: &Path, agent: &Pinned) {
    let tools = installed(agent);
    let prefix = install_prefix(state, agent);
    std::fs::create_dir_all(prefix.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&tools, &prefix).unwrap();
}

pub(crate) fn var(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Secret::new(value.into()),
    }
}

/// Folders that are not under `/tmp`: Codex's sandbox helper fails when `CODEX_HOME` is there.
pub(crate) fn private_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// Claude Code, launched the way the desktop launches it, with its model traffic on `models`.
fn claude_launch(models: &ModelServer, home: &Path) -> AgentLaunch {
    std::fs::create_dir_all(home).unwrap();
    AgentLaunch {
        agent: CLAUDE.agent.into(),
        argv: vec![CLAUDE.bin.into()],
        install: Some(AgentInstall::Npm {
            package: CLAUDE.package.into(),
            version: CLAUDE.version.into(),
        }),
        env: vec![
            var("ANTHROPIC_BASE_URL", models.anthropic_base_url()),
            var("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
            var("HOME", home.display().to_string()),
            // The tests run as root; Claude Code refuses root outside a sandbox.
            var("IS_SANDBOX", "1"),
            var("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
            var("DISABLE_TELEMETRY", "1"),
            var("DISABLE_AUTOUPDATER", "1"),
            var("DISABLE_ERROR_REPORTING", "1"),
        ],
        in_container: false,
        // "Manual": every edit asks; also keeps the auto mode's classifier calls away.
        mode: Some("default".into()),
    }
}

/// Codex, with a `CODEX_HOME` whose config sends every model call to `models`.
fn codex_launch(models: &ModelServer, private: &Path) -> AgentLaunch {
    let home = private.join("home");
    let codex_home = private.join("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&codex_home).unwrap();
    let config = format!(
        r#"# Written by sam-host's real-agent test: every model call goes to a scripted server.
model = "{CODEX_MODEL}"
model_provider = "sam_scripted"
check_for_update_on_startup = false

[model_providers.sam_scripted]
name = "SAM scripted model server"
base_url = "{base_url}"
env_key = "OPENAI_API_KEY"
wire_api = "responses"

# Plugins make Codex reach for its plugin repository (git ls-remote) when it starts.
[features]
plugins = false

[analytics]
enabled = false
"#,
        base_url = models.openai_base_url(),
    );
    std::fs::write(codex_home.join("config.toml"), config).unwrap();
    AgentLaunch {
        agent: CODEX.agent.into(),
        argv: vec![CODEX.bin.into()],
        install: Some(AgentInstall::Npm {
            package: CODEX.package.into(),
            version: CODEX.version.into(),
        }),
        env: vec![
            var("CODEX_HOME", codex_home.display().to_string()),
            var("HOME", home.display().to_string()),
            var("OPENAI_API_KEY", OPENAI_KEY),
        ],
        in_container: false,
        // "Read-only": every edit asks for approval (the default mode has a model review it).
        mode: Some("read-only".into()),
    }
}

/// A daemon on a fresh state directory and a fresh repository.
pub(crate) struct Fixture {
    _work: tempfile::TempDir,
    pub(crate) state: tempfile::TempDir,
    pub(crate) folder: PathBuf,
    _daemon: Daemon,
    pub(crate) client: HostClient,
}

pub(crate) async fn fixture(env: &[(&str, String)]) -> Fixture {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(state.path(), |command| {
        // Nothing from the machine's own agent set-up may steer the agents.
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
        for (name, value) in env {
            command.env(name, value);
        }
    });
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;
    Fixture {
        _work: work,
        state,
        folder,
        _daemon: daemon,
        client,
    }
}

/// `SAM_NPM` for tests that must never install: a program that does not exist, so a missed
/// install folder fails the test ("npm could not be started") instead of reaching the network.
pub(crate) fn no_npm() -> (&'static str, String) {
    ("SAM_NPM", "/nonexistent/sam-npm-must-not-run".into())
}

pub(crate) async fn start(client: &HostClient, session: &str, agent: AgentLaunch, limit: Duration) {
    let request = RequestBody::StartSession(StartSession {
        session: session.into(),
        agent,
        context: None,
        first_prompt: None,
    });
    match tokio::time::timeout(limit, client.request(request)).await {
        Ok(Ok(ResponseBody::SessionOpened { .. })) => {}
        Ok(other) => panic!("the agent did not start: {other:?}"),
        Err(_) => panic!("the agent did not start within {} s", limit.as_secs()),
    }
}

/// Sends `text` and follows the session to the end of the turn, approving every permission
/// request with its `allow_once` option, as the desktop does when the user clicks "Allow".
pub(crate) async fn turn(
    client: &HostClient,
    events: &mut mpsc::Receiver<Event>,
    session: &str,
    text: &str,
    models: &ModelServer,
) -> Vec<SessionEvent> {
    let accepted = ok(
        client,
        RequestBody::Prompt {
            session: session.into(),
            text: text.into(),
        },
    )
    .await;
    assert!(matches!(accepted, ResponseBody::PromptAccepted { .. }));
    let deadline = Instant::now() + TURN_LIMIT;
    let mut seen: Vec<SessionEvent> = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(next) = tokio::time::timeout(left, events.recv()).await else {
            panic!(
                "the turn did not end within {} s.\nSession events: {}\nModel server:\n{}",
                TURN_LIMIT.as_secs(),
                kinds(&seen),
                models.summary()
            );
        };
        let event = next.expect("the event stream ended");
        let EventBody::Session { session: s, event } = event.event else {
            continue;
        };
        if s != session {
            continue;
        }
        match &event {
            SessionEvent::PermissionRequested {
                request, options, ..
            } => {
                let allow = options
                    .iter()
                    .find(|o| o.kind == "allow_once")
                    .unwrap_or_else(|| panic!("no allow_once option offered: {options:?}"));
                ok(
                    client,
                    RequestBody::AnswerPermission {
                        session: session.into(),
                        request: *request,
                        option_id: allow.option_id.clone(),
                        by: "desktop".into(),
                    },
                )
                .await;
            }
            SessionEvent::AgentExited { code, stderr_tail } => panic!(
                "the agent exited mid-turn ({code:?}): {stderr_tail}\nModel server:\n{}",
                models.summary()
            ),
            _ => {}
        }
        let ended = matches!(event, SessionEvent::TurnEnded { .. });
        seen.push(event);
        if ended {
            return seen;
        }
    }
}

/// Stops the agent and waits until its exit is journaled.
pub(crate) async fn stop(client: &HostClient, events: &mut mpsc::Receiver<Event>, session: &str) {
    ok(
        client,
        RequestBody::StopSession {
            session: session.into(),
        },
    )
    .await;
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .expect("the agent did not exit after stop")
            .expect("the event stream ended");
        if matches!(&event.event, EventBody::Session { session: s, event: SessionEvent::AgentExited { .. } } if s == session)
        {
            return;
        }
    }
}

pub(crate) fn kinds(events: &[SessionEvent]) -> String {
    events
        .iter()
        .map(|e| match e {
            SessionEvent::Update { update } => {
                format!("update:{}", update["sessionUpdate"].as_str().unwrap_or("?"))
            }
            other => other.kind().to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn updates<'a>(
    events: &'a [SessionEvent],
    kind: &'a str,
) -> impl Iterator<Item = &'a serde_json::Value> {
    events.iter().filter_map(move |e| match e {
        SessionEvent::Update { update } if update["sessionUpdate"] == kind => Some(update),
        _ => None,
    })
}

/// Files under the state directory (its npm installs aside) that hold `secret`.
pub(crate) fn secret_files(state: &Path, secret: &str) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(state).unwrap().flatten() {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() && entry.file_name() != "agents" {
            hits.extend(sam_testkit::files_containing(&path, secret.as_bytes()).unwrap());
        } else if kind.is_file()
            && std::fs::read(&path)
                .unwrap_or_default()
                .windows(secret.len())
                .any(|w| w == secret.as_bytes())
        {
            hits.push(path);
        }
    }
    hits
}

/// What one real agent must have done in one turn.
struct Expect<'a> {
    agent: &'a Pinned,
    content: &'a str,
    reply: &'a str,
    api: ModelApi,
    scheme: AuthScheme,
    tool: &'a str,
}

/// (a) the agent that started is the one asked for, (b) it made a file-editing tool call that
/// needed and got permission, (c) the file is in the workspace, (d) the reply streamed back in
/// pieces, (e) every model call carried the right key in the API's own header.
fn check_turn(expect: &Expect<'_>, session: &[SessionEvent], folder: &Path, models: &ModelServer) {
    let context = || {
        format!(
            "\nSession events: {}\nModel server:\n{}",
            kinds(session),
            models.summary()
        )
    };
    let started = session
        .iter()
        .find(|e| matches!(e, SessionEvent::SessionStarted { .. }));
    assert_eq!(
        started,
        Some(&SessionEvent::SessionStarted {
            agent: expect.agent.agent.into(),
            agent_name: Some(expect.agent.package.into()),
            agent_version: Some(expect.agent.version.into()),
        }),
        "the spawned agent is the one picked{}",
        context()
    );
    assert!(
        matches!(session.last(), Some(SessionEvent::TurnEnded { stop_reason, error: None, .. }) if stop_reason == "end_turn"),
        "the turn ends normally{}",
        context()
    );

    let tool_calls: Vec<&serde_json::Value> = updates(session, "tool_call").collect();
    assert!(
        tool_calls.iter().any(|t| t["kind"] == "edit"),
        "a tool_call update of kind edit arrived: {tool_calls:?}{}",
        context()
    );
    let requested = session.iter().find_map(|e| match e {
        SessionEvent::PermissionRequested {
            request, tool_call, ..
        } => Some((*request, tool_call.clone())),
        _ => None,
    });
    let (request, tool_call) =
        requested.unwrap_or_else(|| panic!("the edit asked for permission{}", context()));
    assert_eq!(tool_call["kind"], "edit", "{tool_call}");
    assert_approved_write_and_reply(
        session,
        request,
        folder,
        (expect.content, expect.reply),
        &context,
    );

    let requests: Vec<_> = models
        .requests()
        .into_iter()
        .filter(|r| r.api == Some(expect.api))
        .collect();
    assert!(!requests.is_empty(), "{}", context());
    for request in &requests {
        assert_eq!(
            request.auth,
            Auth::Accepted(expect.scheme),
            "every model call carries the key in the API's header: {}",
            request.summary()
        );
        assert!(request.streamed || request.answered == Answered::SideReply);
    }
    let answered: Vec<&Answered> = requests.iter().map(|r| &r.answered).collect();
    assert!(
        answered.contains(&&Answered::ToolCall {
            tool: expect.tool.into(),
            path: match expect.tool {
                "Write" => folder.join(FILE_NAME).display().to_string(),
                _ => FILE_NAME.into(),
            },
        }),
        "the model asked for {} once{}",
        expect.tool,
        context()
    );
    assert!(answered.contains(&&Answered::FinalReply), "{}", context());
    // Shown with --nocapture: what the real agent asked of its model.
    eprintln!(
        "{} made these model calls:\n{}",
        expect.agent.package,
        models.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_from_npm_writes_a_file_through_a_local_anthropic_server() {
    let private = private_dir();
    let content = "hello from Claude Code\n";
    let reply = "Created hello.txt with a greeting.";
    let models = ModelServer::start(Script::write_file(FILE_NAME, content).final_reply(reply))
        .await
        .unwrap();
    models.accept(ModelApi::AnthropicMessages, ANTHROPIC_KEY);
    let fx = fixture(&[no_npm()]).await;
    link_installed(fx.state.path(), &CLAUDE);
    let (_, mut events) = subscribe(&fx.client, None).await;
    let launch = claude_launch(&models, &private.path().join("home"));
    start(&fx.client, "claude-1", launch, START_LIMIT).await;
    let session = turn(&fx.client, &mut events, "claude-1", PROMPT, &models).await;
    check_turn(
        &Expect {
            agent: &CLAUDE,
            content,
            reply,
            api: ModelApi::AnthropicMessages,
            scheme: AuthScheme::XApiKey,
            tool: "Write",
        },
        &session,
        &fx.folder,
        &models,
    );
    let requests = models.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.header("anthropic-version").is_some()),
        "every call names the API version"
    );
    stop(&fx.client, &mut events, "claude-1").await;
    assert_eq!(
        secret_files(fx.state.path(), ANTHROPIC_KEY),
        Vec::<PathBuf>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_from_npm_patches_a_file_through_a_local_openai_responses_server() {
    let private = private_dir();
    let content = "hello from Codex\n";
    let reply = "Created hello.txt with a greeting.";
    let models = ModelServer::start(Script::write_file(FILE_NAME, content).final_reply(reply))
        .await
        .unwrap();
    models.accept(ModelApi::OpenAiResponses, OPENAI_KEY);
    let fx = fixture(&[no_npm()]).await;
    link_installed(fx.state.path(), &CODEX);
    let (_, mut events) = subscribe(&fx.client, None).await;
    let launch = codex_launch(&models, private.path());
    start(&fx.client, "codex-1", launch, START_LIMIT).await;
    let session = turn(&fx.client, &mut events, "codex-1", PROMPT, &models).await;
    check_turn(
        &Expect {
            agent: &CODEX,
            content,
            reply,
            api: ModelApi::OpenAiResponses,
            scheme: AuthScheme::Bearer,
            tool: "apply_patch",
        },
        &session,
        &fx.folder,
        &models,
    );
    let first = &models.requests()[0];
    assert_eq!(first.model(), Some(CODEX_MODEL));
    assert!(
        first.body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["type"] == "custom" && t["name"] == "apply_patch"),
        "Codex offers its freeform apply_patch for a model it knows"
    );
    stop(&fx.client, &mut events, "codex-1").await;
    assert_eq!(
        secret_files(fx.state.path(), OPENAI_KEY),
        Vec::<PathBuf>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_npm_agent_is_installed_by_the_host_once_offline_and_then_runs() {
    installed(&CLAUDE);
    let private = private_dir();
    // The host's own npm command line, run offline: every package comes from the npm cache the
    // set-up filled, never from the network. The wrapper notes each call.
    let calls = private.path().join("npm-calls");
    let npm = private.path().join("npm-offline");
    std::fs::write(
        &npm,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec npm --offline \"$@\"\n",
            calls.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&npm, std::fs::Permissions::from_mode(0o755)).unwrap();
    let content = "installed and running\n";
    let reply = "Created hello.txt after a fresh install.";
    let models = ModelServer::start(Script::write_file(FILE_NAME, content).final_reply(reply))
        .await
        .unwrap();
    models.accept(ModelApi::AnthropicMessages, ANTHROPIC_KEY);
    let fx = fixture(&[("SAM_NPM", npm.display().to_string())]).await;
    let (_, mut events) = subscribe(&fx.client, None).await;
    let home = private.path().join("home");

    let request = RequestBody::StartSession(StartSession {
        session: "fresh".into(),
        agent: claude_launch(&models, &home),
        context: None,
        first_prompt: None,
    });
    match tokio::time::timeout(INSTALL_START_LIMIT, fx.client.request(request)).await {
        Ok(Ok(ResponseBody::SessionOpened { .. })) => {}
        Ok(other) => panic!(
            "the host could not install and start {}@{}: {other:?}\n(an ENOTCACHED error means \
             the npm cache lacks a package: run `{SETUP_COMMAND}`, which fills it)",
            CLAUDE.package, CLAUDE.version
        ),
        Err(_) => panic!(
            "installing and starting took over {} s",
            INSTALL_START_LIMIT.as_secs()
        ),
    }
    let prefix = install_prefix(fx.state.path(), &CLAUDE);
    assert!(
        !prefix.is_symlink() && prefix.join("node_modules/.bin").join(CLAUDE.bin).is_file(),
        "installed into the host's own folder"
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            prefix
                .join("node_modules")
                .join(CLAUDE.package)
                .join("package.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["version"], CLAUDE.version);
    let session = turn(&fx.client, &mut events, "fresh", PROMPT, &models).await;
    check_turn(
        &Expect {
            agent: &CLAUDE,
            content,
            reply,
            api: ModelApi::AnthropicMessages,
            scheme: AuthScheme::XApiKey,
            tool: "Write",
        },
        &session,
        &fx.folder,
        &models,
    );
    stop(&fx.client, &mut events, "fresh").await;

    // A second session of the same version reuses the install: npm ran once.
    start(
        &fx.client,
        "again",
        claude_launch(&models, &home),
        START_LIMIT,
    )
    .await;
    stop(&fx.client, &mut events, "again").await;
    let calls = std::fs::read_to_string(&calls).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        calls[0].starts_with(&format!("install --prefix {}", prefix.display()))
            && calls[0].ends_with(&format!("{}@{}", CLAUDE.package, CLAUDE.version)),
        "{}",
        calls[0]
    );
    assert_eq!(
        secret_files(fx.state.path(), ANTHROPIC_KEY),
        Vec::<PathBuf>::new()
    );
}

/// The desktop's answer to permission `request` is journaled, [`FILE_NAME`] in `folder` holds
/// `content`, and the final `reply` streamed back in more than one chunk. `context` describes
/// the run for a failure.
pub(crate) fn assert_approved_write_and_reply(
    session: &[SessionEvent],
    request: u32,
    folder: &Path,
    (content, reply): (&str, &str),
    context: &dyn Fn() -> String,
) {
    assert!(
        session.iter().any(|e| matches!(e,
            SessionEvent::PermissionResolved { request: r, outcome: PermissionOutcome::Selected { by, .. } }
                if *r == request && by == "desktop")),
        "the desktop's answer is journaled{}",
        context()
    );
    let written = std::fs::read_to_string(folder.join(FILE_NAME))
        .unwrap_or_else(|e| panic!("{FILE_NAME} is not in the workspace ({e}){}", context()));
    assert_eq!(written, content);
    let chunks: Vec<&str> = updates(session, "agent_message_chunk")
        .filter_map(|u| u["content"]["text"].as_str())
        .collect();
    assert!(
        chunks.concat().contains(reply),
        "the final reply streamed back: {chunks:?}{}",
        context()
    );
    assert!(
        chunks.len() >= 2,
        "the reply came in more than one chunk: {chunks:?}"
    );
}

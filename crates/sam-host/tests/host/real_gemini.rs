//! Gemini CLI (`@google/gemini-cli`, `gemini --acp`) from npm, offline: a real daemon starts it
//! over ACP with its model traffic on a scripted server on loopback that speaks the Gemini API
//! (`sam_testkit::models`, `GOOGLE_GEMINI_BASE_URL`); a prompt from the desktop side makes it
//! call its own `write_file` tool, the client approves the permission request, the file appears
//! in the workspace and the final reply streams back. Linking, `SAM_NPM` and the turn itself
//! work as for Claude Code and Codex (`real_agents.rs`).
//!
//! What Gemini CLI 0.61.0 needed to run offline (found by running it by hand under `strace`):
//!
//! - `GOOGLE_GEMINI_BASE_URL` moves every model call; the key (`GEMINI_API_KEY`) goes in
//!   `x-goog-api-key`.
//! - Auth needs no ACP `authenticate`: `initialize` offers `oauth-personal`, `gemini-api-key`,
//!   `vertex-ai` and `gateway`, but `session/new` picks the type from the user settings'
//!   `security.auth.selectedType` or else from the environment (`GOOGLE_GEMINI_BASE_URL` set:
//!   `gateway`; else `GEMINI_API_KEY` set: `gemini-api-key`). A desktop user has no base URL,
//!   so gets `gemini-api-key`; the settings file below picks that type here too, so the test
//!   takes the user's path (the models differ: as `gateway` the CLI uses the Gemini 2.5
//!   family, with an API key the Gemini 3 one).
//! - Usage statistics are on by default and go to `play.googleapis.com` (Clearcut) from the
//!   first prompt; only the settings file turns them off (`privacy.usageStatisticsEnabled`),
//!   no variable does. The test catches any such call: see the proxy in [`gemini_launch`].
//! - `bundle/gemini.js` relaunches itself as a child `node` (to raise its heap limit) and
//!   ignores SIGTERM in the parent; killing the parent, as the host does on stop, leaves the
//!   child running with the agent's stdout open. `GEMINI_CLI_NO_RELAUNCH` keeps it in one
//!   process (the manifest sets it for every session).
//! - Per turn it makes one side call first: its model router, `:generateContent` on
//!   `gemini-3.5-flash-lite` asking for `{complexity_reasoning, complexity_score}` JSON in the
//!   upper-case schema dialect; then `:streamGenerateContent?alt=sse` for the turn itself.
//! - The host claims no client `fs`, so the CLI writes files itself. (Per the shared ACP notes,
//!   with `fs.readTextFile` claimed, creating a new file fails: the CLI does not recognise the
//!   client's not-found error.)

use std::path::{Path, PathBuf};

use sam_protocol::client::HostClient;
use sam_protocol::{AgentInstall, AgentLaunch, RequestBody, SessionEvent};
use sam_testkit::models::{Answered, Auth, AuthScheme, ModelApi, ModelServer, Script};

use crate::real_agents::{
    FILE_NAME, PROMPT, Pinned, START_LIMIT, assert_approved_write_and_reply, kinds, link_installed,
    no_npm, private_dir, secret_files, start, stop, turn, updates, var,
};
use crate::support::{Daemon, local_plan, make_repo, ok, subscribe};

const GEMINI: Pinned = Pinned {
    agent: "gemini",
    package: "@google/gemini-cli",
    version: "0.61.0",
    bin: "gemini",
};

/// What Gemini CLI calls itself in `initialize`'s `agentInfo`.
const AGENT_NAME: &str = "gemini-cli";

/// A fake key shaped like Google's (`AIza…`); the model server accepts it and nothing else.
const GEMINI_KEY: &str = "AIzaSySamRealAgentTestKey0000000000000";

/// The model Gemini CLI's router picks for the turn (with API-key auth) when its side call
/// rates the task simple, as the scripted model does (`complexity_score` 1). When the router's
/// answer does not parse, the CLI falls back to `gemini-3.1-pro-preview`: this tells the two
/// apart.
const TURN_MODEL: &str = "gemini-3.8-flash";

/// The model of the router's side call.
const ROUTER_MODEL: &str = "gemini-3.5-flash-lite";

/// The user settings: API-key auth, as a desktop user gets it, and nothing that leaves the
/// machine (usage statistics, telemetry, update checks, the IDE companion).
const SETTINGS: &str = r#"{
  "security": { "auth": { "selectedType": "gemini-api-key" } },
  "privacy": { "usageStatisticsEnabled": false },
  "telemetry": { "enabled": false },
  "general": { "enableAutoUpdate": false, "enableAutoUpdateNotification": false },
  "ide": { "enabled": false }
}
"#;

/// Gemini CLI, launched as the desktop launches it (`gemini --acp`, the key in
/// `GEMINI_API_KEY`, the manifest's fixed env), with its model traffic on `models` and a
/// private `HOME` holding [`SETTINGS`].
fn gemini_launch(models: &ModelServer, home: &Path, key: &str) -> AgentLaunch {
    let settings = home.join(".gemini");
    std::fs::create_dir_all(&settings).unwrap();
    std::fs::write(settings.join("settings.json"), SETTINGS).unwrap();
    AgentLaunch {
        agent: GEMINI.agent.into(),
        argv: vec![GEMINI.bin.into(), "--acp".into()],
        install: Some(AgentInstall::Npm {
            package: GEMINI.package.into(),
            version: GEMINI.version.into(),
        }),
        env: vec![
            var("GOOGLE_GEMINI_BASE_URL", models.gemini_base_url()),
            var("GEMINI_API_KEY", key),
            var("HOME", home.display().to_string()),
            // The manifest's fixed env for Gemini CLI.
            var("GEMINI_CLI_NO_RELAUNCH", "true"),
            // A tripwire: Gemini CLI sends everything but loopback through this proxy, the
            // model server, which records any such call as a `CONNECT` and refuses it.
            var("HTTPS_PROXY", models.gemini_base_url()),
            var("HTTP_PROXY", models.gemini_base_url()),
            var("NO_PROXY", "127.0.0.1,localhost"),
        ],
        in_container: false,
        mode: None,
    }
}

/// A daemon on a fresh state directory and repository, with none of the machine's own Google
/// settings in the agent's environment (each of them changes how Gemini CLI authenticates).
struct Fixture {
    _work: tempfile::TempDir,
    state: tempfile::TempDir,
    folder: PathBuf,
    _daemon: Daemon,
    client: HostClient,
}

async fn fixture() -> Fixture {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let (npm_name, npm_value) = no_npm();
    let daemon = Daemon::start_with(state.path(), |command| {
        for name in [
            "GEMINI_API_KEY",
            "GOOGLE_API_KEY",
            "GOOGLE_GEMINI_BASE_URL",
            "GOOGLE_GENAI_USE_VERTEXAI",
            "GOOGLE_GENAI_USE_GCA",
            "GOOGLE_CLOUD_PROJECT",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "GEMINI_CLI_HOME",
            "GEMINI_MODEL",
            "GEMINI_CLI_SYSTEM_SETTINGS_PATH",
        ] {
            command.env_remove(name);
        }
        command.env(npm_name, npm_value);
    });
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", &folder))).await;
    link_installed(state.path(), &GEMINI);
    Fixture {
        _work: work,
        state,
        folder,
        _daemon: daemon,
        client,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_cli_from_npm_writes_a_file_through_a_local_gemini_api_server() {
    let private = private_dir();
    let content = "hello from Gemini CLI\n";
    let reply = "Created hello.txt with a greeting.";
    let models = ModelServer::start(Script::write_file(FILE_NAME, content).final_reply(reply))
        .await
        .unwrap();
    models.accept(ModelApi::GeminiGenerateContent, GEMINI_KEY);
    let fx = fixture().await;
    let (_, mut events) = subscribe(&fx.client, None).await;
    let home = private.path().join("home");
    let launch = gemini_launch(&models, &home, GEMINI_KEY);
    start(&fx.client, "gemini-1", launch, START_LIMIT).await;
    let session = turn(&fx.client, &mut events, "gemini-1", PROMPT, &models).await;
    let context = || {
        format!(
            "\nSession events: {}\nModel server:\n{}",
            kinds(&session),
            models.summary()
        )
    };

    // The agent that started is Gemini CLI at the pinned version, in ACP mode.
    assert_eq!(
        session
            .iter()
            .find(|e| matches!(e, SessionEvent::SessionStarted { .. })),
        Some(&SessionEvent::SessionStarted {
            agent: GEMINI.agent.into(),
            agent_name: Some(AGENT_NAME.into()),
            agent_version: Some(GEMINI.version.into()),
        }),
        "the spawned agent is Gemini CLI{}",
        context()
    );
    assert!(
        matches!(session.last(), Some(SessionEvent::TurnEnded { stop_reason, error: None, .. }) if stop_reason == "end_turn"),
        "the turn ends normally{}",
        context()
    );

    // Its own write_file tool asked for permission (Gemini CLI announces the call in the
    // request itself, with no `tool_call` update first), the desktop's answer went through,
    // and the call completed.
    let (request, tool_call) = session
        .iter()
        .find_map(|e| match e {
            SessionEvent::PermissionRequested {
                request, tool_call, ..
            } => Some((*request, tool_call.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the write asked for permission{}", context()));
    assert_eq!(tool_call["kind"], "edit", "{tool_call}");
    assert_eq!(tool_call["content"][0]["type"], "diff", "{tool_call}");
    assert_eq!(tool_call["content"][0]["newText"], content, "{tool_call}");
    let id = &tool_call["toolCallId"];
    assert!(
        updates(&session, "tool_call_update")
            .any(|u| &u["toolCallId"] == id && u["status"] == "completed" && u["kind"] == "edit"),
        "the write completed{}",
        context()
    );
    // The file is in the workspace, and the final reply streamed back in pieces.
    assert_approved_write_and_reply(&session, request, &fx.folder, (content, reply), &context);

    // Every model call was a Gemini API call with the key in `x-goog-api-key`, from Gemini
    // CLI's ACP mode; the turn's calls streamed, the router's did not.
    let requests = models.requests();
    assert!(!requests.is_empty(), "{}", context());
    let outside: Vec<String> = requests
        .iter()
        .filter(|r| r.method == "CONNECT")
        .map(|r| r.path.clone())
        .collect();
    assert!(
        outside.is_empty(),
        "Gemini CLI reached for hosts outside loopback: {outside:?}"
    );
    for request in &requests {
        assert_eq!(
            request.api,
            Some(ModelApi::GeminiGenerateContent),
            "{}",
            request.summary()
        );
        assert_eq!(
            request.auth,
            Auth::Accepted(AuthScheme::GoogApiKey),
            "every model call carries the key in x-goog-api-key: {}",
            request.summary()
        );
        let agent = request.header("user-agent").unwrap_or_default();
        assert!(
            agent.starts_with(&format!("GeminiCLI-acp/{}/", GEMINI.version)),
            "{agent}"
        );
        assert!(
            request.streamed || request.answered == Answered::SideReply,
            "{}",
            request.summary()
        );
    }
    let answered: Vec<&Answered> = requests.iter().map(|r| &r.answered).collect();
    let path = fx.folder.canonicalize().unwrap().join(FILE_NAME);
    assert!(
        answered.iter().any(|a| matches!(a,
            Answered::ToolCall { tool, path: p } if tool == "write_file" && Path::new(p).canonicalize().ok() == Some(path.clone()))),
        "the model asked for write_file on {}{}",
        path.display(),
        context()
    );
    assert!(answered.contains(&&Answered::FinalReply), "{}", context());
    let router = &requests[0];
    assert_eq!(router.model(), Some(ROUTER_MODEL), "{}", context());
    assert!(router.path.ends_with(":generateContent") && router.tool_names().is_empty());
    let turn_calls: Vec<_> = requests.iter().filter(|r| r.streamed).collect();
    assert!(!turn_calls.is_empty(), "{}", context());
    for call in turn_calls {
        assert_eq!(call.model(), Some(TURN_MODEL), "{}", context());
        assert!(call.path.ends_with(":streamGenerateContent"));
        assert_eq!(call.query.as_deref(), Some("alt=sse"));
        assert!(call.tool_names().iter().any(|t| t == "write_file"));
    }
    // Shown with --nocapture: what the real agent asked of its model.
    eprintln!(
        "{} made these model calls:\n{}",
        GEMINI.package,
        models.summary()
    );

    stop(&fx.client, &mut events, "gemini-1").await;
    // The key is in no file the host or the agent wrote: not the state directory, not the
    // workspace, not the agent's own home (settings, chats, history).
    assert_eq!(
        secret_files(fx.state.path(), GEMINI_KEY),
        Vec::<PathBuf>::new()
    );
    for dir in [&fx.folder, &home] {
        assert_eq!(
            sam_testkit::files_containing(dir, GEMINI_KEY.as_bytes()).unwrap(),
            Vec::<PathBuf>::new()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_cli_with_an_unknown_key_gets_googles_refusal_and_the_turn_fails() {
    let private = private_dir();
    let models = ModelServer::start(Script::write_file(FILE_NAME, "never written\n"))
        .await
        .unwrap();
    models.accept(ModelApi::GeminiGenerateContent, GEMINI_KEY);
    let fx = fixture().await;
    let (_, mut events) = subscribe(&fx.client, None).await;
    let home = private.path().join("home");
    let unknown = "AIzaSySamUnknownKeyThatGoogleRefuses000";
    let launch = gemini_launch(&models, &home, unknown);
    start(&fx.client, "gemini-2", launch, START_LIMIT).await;
    let session = turn(&fx.client, &mut events, "gemini-2", PROMPT, &models).await;
    let context = || {
        format!(
            "\nSession events: {}\nModel server:\n{}",
            kinds(&session),
            models.summary()
        )
    };

    // Every call reached the server with the key in its header and got Google's answer to an
    // unknown key, which ends the turn with that message; nothing was written.
    let requests = models.requests();
    assert!(!requests.is_empty(), "{}", context());
    for request in &requests {
        assert_eq!(
            (request.auth, &request.answered),
            (
                Auth::Rejected(AuthScheme::GoogApiKey),
                &Answered::Error { status: 400 }
            ),
            "{}",
            request.summary()
        );
    }
    let Some(SessionEvent::TurnEnded {
        stop_reason,
        error: Some(error),
        ..
    }) = session.last()
    else {
        panic!("the turn ends with an error{}", context());
    };
    assert_eq!(stop_reason, "error");
    // Google's message, read out of the raw JSON body the agent passes on.
    assert!(
        error.contains("API key not valid. Please pass a valid API key. (400 INVALID_ARGUMENT, API_KEY_INVALID)")
            && !error.contains('{'),
        "{error}"
    );
    assert!(
        !session
            .iter()
            .any(|e| matches!(e, SessionEvent::PermissionRequested { .. })),
        "{}",
        context()
    );
    assert!(!fx.folder.join(FILE_NAME).exists());
    stop(&fx.client, &mut events, "gemini-2").await;
    assert_eq!(
        secret_files(fx.state.path(), unknown),
        Vec::<PathBuf>::new()
    );
    for dir in [&fx.folder, &home] {
        assert_eq!(
            sam_testkit::files_containing(dir, unknown.as_bytes()).unwrap(),
            Vec::<PathBuf>::new()
        );
    }
}

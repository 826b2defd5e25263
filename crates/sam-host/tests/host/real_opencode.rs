//! OpenCode from npm (`opencode-ai`, `opencode acp`), offline: a real daemon starts the real
//! agent over ACP, its Anthropic provider pointed at the scripted model server on loopback
//! (`sam_testkit::models`, Anthropic Messages, streamed). The desktop's prompt makes OpenCode
//! call its own `write` tool, the client approves the permission request, the file appears in
//! the workspace and the final reply streams back. Set-up and helpers as in `real_agents.rs`.
//!
//! What OpenCode 1.18.33 needed to run here with no network but loopback (each found by
//! running it in a loopback-only network namespace with a logging DNS resolver):
//!
//! - The model traffic: `provider.anthropic.options.baseURL` in its config (`…/v1`, below
//!   which the AI SDK adds `/messages`); the key comes from `ANTHROPIC_API_KEY` as an
//!   `x-api-key` header. The config goes in `OPENCODE_CONFIG_CONTENT`, which outranks every
//!   config file (global, `OPENCODE_CONFIG`, the project's own `opencode.json`; checked).
//! - `OPENCODE_DISABLE_MODELS_FETCH=1`: otherwise it fetches `https://models.opencode.ai/api.json`
//!   at start and every hour. Without the fetch it uses the catalogue built into the binary,
//!   which knows the models named below.
//! - `npm_config_offline=true`: for every config folder (its global one included) it installs
//!   `@opencode-ai/plugin` with npm in the background (`registry.npmjs.org`), whatever the
//!   `OPENCODE_DISABLE_*` variables say. Offline, npm fails at once from the empty cache
//!   ("background dependency install failed" in its log) and the session does not wait for it.
//! - Its state lives in the XDG folders (`opencode/` under data: log, SQLite database, git
//!   snapshots; config, cache, state), so `HOME` and every `XDG_*_HOME` point into a private
//!   folder. Nothing from the machine's own OpenCode set-up steers it: `OPENCODE_CONFIG` and
//!   `OPENCODE_CONFIG_DIR` are set empty, which it ignores.
//! - Model calls: one side call that asks the small model for a session title (no tools; its
//!   first message is "Generate a title for this conversation:" followed by the prompt), then
//!   the turn on the main model, which offers `bash`, `edit`, `glob`, `grep`, `read`, `skill`,
//!   `task`, `todowrite`, `webfetch` and `write` (`{filePath, content}`, absolute) and names the
//!   folder as "Working directory: X" in its system prompt; then the turn again with the tool
//!   result. All streamed.
//! - By default OpenCode allows edits without asking. `permission.edit = "ask"` makes it send
//!   `session/request_permission` (options `once`/`always`/`reject`). After the approval it
//!   writes the file itself and then also calls `fs/write_text_file` on the client although the
//!   client does not offer it; sam-host answers "method not found", OpenCode prints the error to
//!   stderr and carries on.
//! - `opencode acp` serves its own HTTP API on 127.0.0.1:4096, or on a free port when 4096 is
//!   taken (checked): two sessions on one host do not share a server.
//! - To see any attempt to go out, `HTTPS_PROXY`/`HTTP_PROXY` name the model server (which
//!   records a `CONNECT` and refuses it) and `NO_PROXY` exempts loopback: without either of the
//!   two switches above the test fails, listing `CONNECT models.opencode.ai:443` or
//!   `CONNECT registry.npmjs.org:443` (checked). Anything that blocks fails on the time limits.
//! - No auto-update check ran in ACP mode; `OPENCODE_DISABLE_AUTOUPDATE=1` is in the manifest
//!   anyway (SAM pins the version), and the launch here sets the manifest's fixed environment.

use std::path::{Path, PathBuf};

use sam_protocol::{AgentInstall, AgentLaunch, SessionEvent};
use sam_testkit::models::{Answered, Auth, AuthScheme, ModelApi, ModelServer, Script};

use crate::real_agents::{
    ANTHROPIC_KEY, FILE_NAME, PROMPT, Pinned, START_LIMIT, assert_approved_write_and_reply,
    fixture, kinds, link_installed, no_npm, private_dir, secret_files, start, stop, turn, updates,
    var,
};
use crate::support::subscribe;

const OPENCODE: Pinned = Pinned {
    agent: "opencode",
    package: "opencode-ai",
    version: "1.18.33",
    bin: "opencode",
};

/// What OpenCode reports as `agentInfo` in its `initialize` answer.
const AGENT_NAME: &str = "OpenCode";

/// Models from the catalogue built into OpenCode 1.18.33: the turn's and the title's.
const MODEL: &str = "claude-sonnet-4-5";
const SMALL_MODEL: &str = "claude-haiku-4-5";

/// OpenCode's config: every model call to `models`, and edits ask first.
fn opencode_config(models: &ModelServer) -> String {
    serde_json::json!({
        "model": format!("anthropic/{MODEL}"),
        "small_model": format!("anthropic/{SMALL_MODEL}"),
        "autoupdate": false,
        "share": "disabled",
        "permission": { "edit": "ask" },
        "provider": {
            "anthropic": {
                "options": { "baseURL": format!("{}/v1", models.anthropic_base_url()) },
            },
        },
    })
    .to_string()
}

/// OpenCode, launched as the desktop launches it (argv and fixed environment as in the
/// manifest, the key as `ANTHROPIC_API_KEY`), with its state in `home`.
fn opencode_launch(models: &ModelServer, home: &Path) -> AgentLaunch {
    std::fs::create_dir_all(home).unwrap();
    let xdg = |name: &str| home.join(name).display().to_string();
    // Any HTTP(S) request for somewhere other than loopback goes to the model server as a
    // proxy request, which it records and refuses: the test sees every attempt to go out.
    let proxy = models.anthropic_base_url();
    let proxies = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
        .map(|name| var(name, proxy.clone()))
        .into_iter()
        .chain(["NO_PROXY", "no_proxy"].map(|name| var(name, "127.0.0.1,localhost")));
    AgentLaunch {
        agent: OPENCODE.agent.into(),
        argv: vec![OPENCODE.bin.into(), "acp".into()],
        install: Some(AgentInstall::Npm {
            package: OPENCODE.package.into(),
            version: OPENCODE.version.into(),
        }),
        env: vec![
            // The manifest's fixed environment for OpenCode.
            var("OPENCODE_DISABLE_AUTOUPDATE", "1"),
            // This test's isolation and its model server.
            var("HOME", home.display().to_string()),
            var("XDG_CONFIG_HOME", xdg(".config")),
            var("XDG_DATA_HOME", xdg(".local/share")),
            var("XDG_CACHE_HOME", xdg(".cache")),
            var("XDG_STATE_HOME", xdg(".local/state")),
            var("OPENCODE_CONFIG", ""),
            var("OPENCODE_CONFIG_DIR", ""),
            var("OPENCODE_CONFIG_CONTENT", opencode_config(models)),
            var("OPENCODE_DISABLE_MODELS_FETCH", "1"),
            var("npm_config_offline", "true"),
        ]
        .into_iter()
        .chain(proxies)
        .chain([var("ANTHROPIC_API_KEY", ANTHROPIC_KEY)])
        .collect(),
        in_container: false,
        // Its modes are `build` (the default, edits per the permission config) and `plan`.
        mode: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencode_from_npm_writes_a_file_through_a_local_anthropic_server() {
    let private = private_dir();
    let home = private.path().join("home");
    let content = "hello from OpenCode\n";
    let reply = "Created hello.txt with a greeting.";
    let models = ModelServer::start(Script::write_file(FILE_NAME, content).final_reply(reply))
        .await
        .unwrap();
    models.accept(ModelApi::AnthropicMessages, ANTHROPIC_KEY);
    let fx = fixture(&[no_npm()]).await;
    link_installed(fx.state.path(), &OPENCODE);
    let (_, mut events) = subscribe(&fx.client, None).await;
    start(
        &fx.client,
        "opencode-1",
        opencode_launch(&models, &home),
        START_LIMIT,
    )
    .await;
    let session = turn(&fx.client, &mut events, "opencode-1", PROMPT, &models).await;
    let context = || {
        format!(
            "\nSession events: {}\nModel server:\n{}",
            kinds(&session),
            models.summary()
        )
    };

    // The agent that started is OpenCode at the pinned version (its ACP `agentInfo`).
    let started = session
        .iter()
        .find(|e| matches!(e, SessionEvent::SessionStarted { .. }));
    assert_eq!(
        started,
        Some(&SessionEvent::SessionStarted {
            agent: OPENCODE.agent.into(),
            agent_name: Some(AGENT_NAME.into()),
            agent_version: Some(OPENCODE.version.into()),
        }),
        "the spawned agent is the one picked{}",
        context()
    );
    assert!(
        matches!(session.last(), Some(SessionEvent::TurnEnded { stop_reason, error: None, .. }) if stop_reason == "end_turn"),
        "the turn ends normally{}",
        context()
    );

    // Its `write` tool asked for permission, and the desktop's answer went back.
    let tool_calls: Vec<&serde_json::Value> = updates(&session, "tool_call").collect();
    assert!(
        tool_calls
            .iter()
            .any(|t| t["kind"] == "edit" && t["title"] == "write"),
        "a write tool_call of kind edit arrived: {tool_calls:?}{}",
        context()
    );
    let (request, tool_call) = session
        .iter()
        .find_map(|e| match e {
            SessionEvent::PermissionRequested {
                request, tool_call, ..
            } => Some((*request, tool_call.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the write asked for permission{}", context()));
    let target = fx.folder.join(FILE_NAME).display().to_string();
    assert_eq!(tool_call["kind"], "edit", "{tool_call}");
    assert_eq!(tool_call["locations"][0]["path"], target, "{tool_call}");
    // The file is in the workspace, and the reply streamed back in pieces.
    assert_approved_write_and_reply(&session, request, &fx.folder, (content, reply), &context);

    // Every call reached the model server with the key in Anthropic's header: a title side
    // call, the `write` the model asked for, the final reply; nothing else was asked of it.
    let requests = models.requests();
    assert!(!requests.is_empty(), "{}", context());
    for request in &requests {
        assert_eq!(
            request.api,
            Some(ModelApi::AnthropicMessages),
            "only model calls reach the server; a CONNECT is OpenCode trying to go out{}",
            context()
        );
        assert_eq!(
            request.auth,
            Auth::Accepted(AuthScheme::XApiKey),
            "every model call carries the key in x-api-key: {}",
            request.summary()
        );
        assert!(request.header("anthropic-version").is_some());
        assert!(request.streamed, "{}", request.summary());
    }
    let answered: Vec<&Answered> = requests.iter().map(|r| &r.answered).collect();
    assert!(
        answered.contains(&&Answered::ToolCall {
            tool: "write".into(),
            path: target.clone(),
        }),
        "the model asked for OpenCode's write once{}",
        context()
    );
    assert!(answered.contains(&&Answered::FinalReply), "{}", context());
    let turn_models: Vec<Option<&str>> = requests
        .iter()
        .filter(|r| r.answered != Answered::SideReply)
        .map(|r| r.model())
        .collect();
    assert!(
        turn_models.iter().all(|m| *m == Some(MODEL)),
        "the turn ran on the configured model: {turn_models:?}"
    );
    // Shown with --nocapture: what the real agent asked of its model.
    eprintln!("opencode-ai made these model calls:\n{}", models.summary());

    stop(&fx.client, &mut events, "opencode-1").await;
    // The key is nowhere on disk: not in the host's state, not in the workspace, not in
    // OpenCode's own state (its database holds the whole conversation).
    assert_eq!(
        secret_files(fx.state.path(), ANTHROPIC_KEY),
        Vec::<PathBuf>::new()
    );
    for dir in [&fx.folder, &home] {
        assert_eq!(
            sam_testkit::files_containing(dir, ANTHROPIC_KEY.as_bytes()).unwrap(),
            Vec::<PathBuf>::new(),
            "{}",
            dir.display()
        );
    }
}

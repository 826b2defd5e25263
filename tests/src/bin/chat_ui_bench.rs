//! Chat UI figures, in the real app (WebKit over WebDriver, under Xvfb):
//!
//! - **open**: a stored 10,000-event session, from the click in the session list to its last
//!   screen rendered (the newest event in the DOM, one frame painted). Target ≤ 150 ms.
//! - **stream**: a live agent streams 2,500 updates at 500/s into the open chat; the webview's
//!   frame times (requestAnimationFrame intervals) during the stream, and how long after the
//!   agent's last update the turn's end is on screen. Target: no falling behind.
//!
//! `cargo build -p sam-desktop -p sam-host -p sam-e2e --bin chat-ui-bench && xvfb-run -a
//!  dbus-run-session target/debug/chat-ui-bench [--runs 11] [--trace] [--no-fluid]` (the app binary next to it, or
//!  `SAM_APP_BINARY`). Needs node (the scripted ACP agent) and tauri-driver.

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::Locator;
use sam_e2e::bus::DesktopServices;
use sam_e2e::driver::{Launch, Session};
use sam_store::{IngestItem, NewChatSession, Store};
use sam_workspace::{Provider, Repo, WorkspaceSpec, Workspaces};

/// The 10,000-event sessions: `{BIG}-{k}`, each with text of its own (nothing one open
/// leaves behind, such as a kept rendering, helps another).
const BIG: &str = "bench-big-session";
const SMALL: &str = "bench-small-session";

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let index = ((values.len() as f64 - 1.0) * p).round() as usize;
    values[index.min(values.len() - 1)]
}

/// A stored session of `n` events: prompts, streamed replies, tool calls; `variant` goes into
/// every text.
fn seed(
    store: &Store,
    workspace_id: &str,
    id: &str,
    n: usize,
    variant: usize,
) -> anyhow::Result<()> {
    store.create_chat_session(&NewChatSession {
        id: id.into(),
        workspace_id: workspace_id.into(),
        workspace_name: "bench".into(),
        agent: "custom".into(),
        agent_command: None,
        title: format!("{n} events"),
        created_at_ms: 1,
    })?;
    let mut items = Vec::with_capacity(n);
    let mut turn = 0;
    for i in 0..n {
        let body = match i % 100 {
            0 => {
                turn += 1;
                serde_json::json!({"kind": "prompt_sent", "prompt": turn,
                    "text": format!("Prompt {turn}: change the handler and explain ({variant})")})
            }
            50 => serde_json::json!({"kind": "update", "update": {"sessionUpdate": "tool_call",
                "toolCallId": format!("t{i}"), "title": "Edit src/lib.rs", "kind": "edit",
                "status": "completed", "locations": [{"path": "src/lib.rs", "line": i}]}}),
            99 => serde_json::json!({"kind": "turn_ended", "prompt": turn,
                "stop_reason": "end_turn", "error": null}),
            _ => serde_json::json!({"kind": "update", "update": {
                "sessionUpdate": "agent_message_chunk",
                "content": {"type": "text", "text": format!("word{i}v{variant} and some **markdown** text ")}}}),
        };
        items.push(IngestItem {
            session_id: id.into(),
            host_seq: i64::try_from(i + 1)?,
            at_ms: 1_700_000_000_000 + i64::try_from(i)?,
            body: body.to_string(),
            state: Some("idle".into()),
            title: None,
            title_overrides: false,
            search_text: None,
            ends_turn: false,
            ends_live: false,
        });
    }
    // A cursor of its own: these events came from no host.
    store.ingest_chat_events(&format!("seed-{id}"), &items, 0)?;
    Ok(())
}

async fn click(session: &Session, css: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(element) = session.client.find(Locator::Css(css)).await
            && element.click().await.is_ok()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("could not click {css}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks the session `id` in the list and returns the milliseconds until an element with
/// `data-seq >= min_seq` is in the transcript (seen in an animation frame callback), and until
/// the next frame began (so the one holding it was painted).
async fn open_ms(session: &Session, id: &str, min_seq: u64) -> anyhow::Result<(f64, f64)> {
    let script = r#"
        const [id, minSeq, done] = arguments;
        const button = document.querySelector(`[data-testid=chat-session][data-id="${id}"]`);
        if (!button) { done(-1); return; }
        // Where the time goes (--trace): the app's performance marks (useChatSession,
        // Transcript) and every frame from the click on.
        performance.clearMarks();
        window.__samFrames = [];
        const t0 = performance.now();
        window.__samT0 = t0;
        button.click();
        const check = () => {
            window.__samFrames.push(performance.now() - t0);
            const items = document.querySelectorAll('[data-testid=chat-item]');
            let newest = 0;
            for (const item of items) newest = Math.max(newest, Number(item.dataset.seq || 0));
            if (newest >= minSeq) {
                const seen = performance.now() - t0;
                window.__samOpenSeen = seen;
                requestAnimationFrame(() => done(performance.now() - t0));
            } else if (performance.now() - t0 > 20000) {
                done(-2);
            } else {
                requestAnimationFrame(check);
            }
        };
        requestAnimationFrame(check);
    "#;
    let value = session
        .client
        .execute_async(script, vec![id.into(), min_seq.into()])
        .await?;
    let ms = value.as_f64().context("no number")?;
    if ms < 0.0 {
        bail!("opening {id} failed ({ms})");
    }
    let seen = session
        .client
        .execute("return window.__samOpenSeen;", vec![])
        .await?
        .as_f64()
        .context("no time in the DOM")?;
    if std::env::args().any(|a| a == "--trace") {
        let trace = session
            .client
            .execute(
                "const t0 = window.__samT0; return { marks: performance.getEntriesByType('mark').map((e) => `${e.name} ${(e.startTime - t0).toFixed(1)}`), frames: window.__samFrames.map((f) => f.toFixed(1)) };",
                vec![],
            )
            .await?;
        println!("    {id}: {seen:.1} / {ms:.1} ms; {trace}");
    }
    Ok((seen, ms))
}

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(11);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(bench(runs))
}

async fn bench(runs: usize) -> anyhow::Result<()> {
    let _services = DesktopServices::start().await?;
    let app = sam_e2e::app_binary()?;
    let host = app.with_file_name("sam-host");
    let data = tempfile::tempdir()?;
    let code = tempfile::tempdir()?;
    let folder = code.path().join("bench");
    std::fs::create_dir_all(&folder)?;
    let (store, _) = Store::open(&data.path().join("sam.sqlite3"))?;
    let store = Arc::new(store);
    let workspaces = Workspaces::new(Arc::clone(&store), data.path(), host);
    let workspace = workspaces
        .create(
            WorkspaceSpec {
                name: "bench".into(),
                provider: Provider::Local,
                repo: Repo::Folder { path: folder },
                branch: None,
                size: None,
                locations: Vec::new(),
            },
            None,
        )
        .await?;
    for k in 0..=runs {
        seed(&store, &workspace.id, &format!("{BIG}-{k}"), 10_000, k)?;
    }
    seed(&store, &workspace.id, SMALL, 10, 0)?;

    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/sam-testkit/support/scripted-acp-agent.mjs");
    let mut launch = Launch::new(app, data.path());
    launch.env.push((
        "SAM_CUSTOM_AGENT_COMMAND".into(),
        format!("node '{}'", script.display()),
    ));
    let session = Session::start(&launch).await?;
    let fluid = !std::env::args().any(|a| a == "--no-fluid");
    if !fluid {
        // The user's setting (Settings → Appearance): the static gradient only.
        session
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                window.__TAURI_INTERNALS__.invoke("set_preferences", { preferences: { theme: "system", fluidBackground: false } })
                    .then(() => { location.reload(); done(true); }, (e) => done(String(e)));"#,
                vec![],
            )
            .await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    println!(
        "fluid background: {}",
        if fluid { "on (the default)" } else { "off" }
    );
    click(&session, "[data-testid=workspace-item]").await?;
    session.wait_testid("workspace-chat").await?.click().await?;
    session.wait_testid("chat-composer").await?;
    click(
        &session,
        &format!("[data-testid=chat-session][data-id=\"{SMALL}\"]"),
    )
    .await?;

    // Where the time goes: the IPC for the whole session alone (5 pages of 2000).
    let mut ipc = Vec::new();
    for _ in 0..runs {
        let value = session
            .client
            .execute_async(
                r#"
                const [id, done] = arguments;
                const invoke = window.__TAURI_INTERNALS__.invoke;
                const t0 = performance.now();
                let after = 0;
                (async () => {
                    for (;;) {
                        const page = await invoke("chat_events", { sessionId: id, afterSeq: after, limitEvents: 2000 });
                        if (page.events.length === 0) break;
                        after = page.events[page.events.length - 1].seq;
                    }
                    done(performance.now() - t0);
                })();
                "#,
                vec![format!("{BIG}-0").into()],
            )
            .await?;
        ipc.push(value.as_f64().context("no number")?);
    }
    println!(
        "  of which: the 10000 events over IPC alone (5 pages): median {:.1} ms",
        median(&mut ipc)
    );

    // Open: alternate the small session and a big one. First each big session once (cold:
    // never opened in this app), then the first one again and again (warm: reopened).
    open_ms(&session, &format!("{BIG}-0"), 9_990).await?; // warm-up (code paths, WebKit caches)
    let mut small = Vec::new();
    let mut cold = Vec::new();
    let mut cold_in_dom = Vec::new();
    for k in 1..=runs {
        small.push(open_ms(&session, SMALL, 2).await?.1);
        let (seen, painted) = open_ms(&session, &format!("{BIG}-{k}"), 9_990).await?;
        cold_in_dom.push(seen);
        cold.push(painted);
    }
    let mut warm = Vec::new();
    for _ in 0..runs {
        small.push(open_ms(&session, SMALL, 2).await?.1);
        warm.push(open_ms(&session, &format!("{BIG}-0"), 9_990).await?.1);
    }
    println!(
        "  the newest event in the DOM (before that frame's layout and paint): median {:.1} ms",
        median(&mut cold_in_dom)
    );
    // The same click on a 2-event session: what an open costs whatever the session's size.
    println!(
        "  a 2-event session, the same way: median {:.1} ms",
        median(&mut small)
    );
    println!(
        "  the same session opened again (its messages' renderings kept): median {:.1} ms, p95 {:.1} ms",
        median(&mut warm),
        percentile(&mut warm, 0.95)
    );
    println!(
        "open a stored 10000-event session to its last screen, first time: median {:.1} ms, p95 {:.1} ms over {runs} sessions; target <= 150 ms",
        median(&mut cold),
        percentile(&mut cold, 0.95)
    );

    // Stream: a new live session with the scripted agent at 500 updates/s.
    click(
        &session,
        ".chat-composer__agent-select option[value=custom]",
    )
    .await
    .ok();
    let new_chat = session
        .client
        .find(Locator::Css("button[aria-label='New chat']"))
        .await;
    if let Ok(button) = new_chat {
        button.click().await?;
    }
    click(
        &session,
        ".chat-composer__agent-select option[value=custom]",
    )
    .await?;
    let input = session
        .client
        .find(Locator::Css(".composer__input"))
        .await?;
    input.send_keys("rate 2500 500").await?;
    let frames_script = r#"
        const done = arguments[arguments.length - 1];
        const deltas = [];
        let last = performance.now();
        const t0 = last;
        let endedAt = null;
        const tick = (now) => {
            deltas.push(now - last);
            last = now;
            if (endedAt === null && document.querySelector('[data-testid=chat-turn-end]')) endedAt = now - t0;
            if (endedAt !== null || now - t0 > 20000) { done({deltas, endedAt}); return; }
            requestAnimationFrame(tick);
        };
        document.querySelector('.composer__send').click();
        requestAnimationFrame(tick);
    "#;
    let started = Instant::now();
    let result = session.client.execute_async(frames_script, vec![]).await?;
    let wall = started.elapsed();
    let mut deltas: Vec<f64> = result["deltas"]
        .as_array()
        .context("no frames")?
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    let ended_at = result["endedAt"].as_f64();
    let frames = deltas.len();
    println!(
        "stream 2500 updates at 500/s into the open chat: {frames} frames, frame time median {:.1} ms, p95 {:.1} ms, max {:.1} ms; the turn end was on screen {} after the send (the agent needs 5.0 s); wall {:.1} s",
        median(&mut deltas),
        percentile(&mut deltas, 0.95),
        deltas.iter().copied().fold(0.0, f64::max),
        ended_at.map_or("never (20 s limit)".to_owned(), |ms| format!(
            "{:.2} s",
            ms / 1000.0
        )),
        wall.as_secs_f64()
    );
    session.close().await?;
    workspaces.delete("bench").await?;
    Ok(())
}

//! Chat journal figures.
//!
//! - **append**: a host journal takes a stream of agent updates (each committed, fsync'd with
//!   `synchronous=FULL`, before it is broadcast). Target ≥ 50,000 events/s.
//! - **replay**: a desktop attaches to a real `sam-host` daemon (through `sam-host connect`,
//!   as the app does) whose journal holds a 10,000-update session, receives the whole replay,
//!   and stores it in the desktop database as the chat sync does. Target ≤ 200 ms.
//!
//! `cargo build --release -p sam-host && cargo build --release -p sam-e2e --bin chat-bench &&
//!  target/release/chat-bench [--runs N]`

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sam_protocol::{RequestBody, ResponseBody};
use sam_store::{NewChatSession, Store};
use sam_workspace::HostLink;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn host_binary() -> anyhow::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.parent().context("no parent")?.join("sam-host");
    if !path.is_file() {
        bail!(
            "{} is missing: cargo build --release -p sam-host",
            path.display()
        );
    }
    Ok(path)
}

async fn replay_once(
    binary: &Path,
    state_dir: &Path,
    db: &Path,
) -> anyhow::Result<(Duration, Duration, usize)> {
    let (store, _) = Store::open(db)?;
    store.create_chat_session(&NewChatSession {
        id: "bench-session".into(),
        workspace_id: "bench".into(),
        workspace_name: "bench".into(),
        agent: "custom".into(),
        agent_command: None,
        title: String::new(),
        created_at_ms: 0,
    })?;
    let started = Instant::now();
    let link = HostLink::local(binary, state_dir).await?;
    let mut events = link.client().events().context("no event stream")?;
    let head = match link
        .request(RequestBody::Subscribe { after: Some(0) })
        .await?
    {
        ResponseBody::Subscribed { head_seq } => head_seq,
        other => bail!("unexpected {other:?}"),
    };
    let mut received = Vec::new();
    while received
        .last()
        .is_none_or(|e: &sam_protocol::Event| e.seq < head)
    {
        received.push(events.recv().await.context("stream ended")?);
    }
    let received_at = started.elapsed();
    let items = sam_chat::ingest_items(&received);
    let stored = store.ingest_chat_events("bench", &items, i64::try_from(head)?)?;
    let total = started.elapsed();
    Ok((received_at, total, stored.len()))
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
    runtime.block_on(async {
        // Append.
        let n = 50_000;
        let mut rates = Vec::new();
        for _ in 0..runs {
            let dir = tempfile::tempdir()?;
            let took = sam_host::bench::append_stream(&dir.path().join("journal.sqlite"), n).await?;
            rates.push(n as f64 / took.as_secs_f64());
        }
        let append = median(&mut rates);
        println!(
            "journal append: median {append:.0} events/s over {runs} runs of {n} (min {:.0}, max {:.0}); target >= 50000",
            rates[0],
            rates[rates.len() - 1]
        );

        // Replay.
        let binary = host_binary()?;
        let state = tempfile::tempdir()?;
        let state_dir = state.path().join("host");
        std::fs::create_dir_all(&state_dir)?;
        std::fs::set_permissions(&state_dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        sam_host::bench::append_stream(&state_dir.join("journal.sqlite"), 10_000).await?;
        let mut received = Vec::new();
        let mut stored = Vec::new();
        for _ in 0..runs {
            let db = tempfile::tempdir()?;
            let (r, s, count) = replay_once(&binary, &state_dir, &db.path().join("sam.sqlite")).await?;
            if count != 10_000 {
                bail!("stored {count} events, not 10000");
            }
            received.push(r.as_secs_f64() * 1000.0);
            stored.push(s.as_secs_f64() * 1000.0);
        }
        println!(
            "replay of 10000 events: received by the desktop median {:.1} ms, received and stored median {:.1} ms over {runs} runs (connect and handshake included); target <= 200 ms",
            median(&mut received),
            median(&mut stored)
        );
        // Stop the daemon `connect` started.
        if let Ok(pid) = std::fs::read_to_string(state_dir.join("host.lock"))
            && let Ok(pid) = pid.trim().parse::<u32>()
            && pid > 1
        {
            let _ = std::process::Command::new("kill").args(["-s", "TERM", &pid.to_string()]).status();
        }
        Ok(())
    })
}

//! Local workspace create-to-ready: a small git repository cloned by a fresh `sam-host`
//! daemon, from the claim to `Ready`. Prints each run and the median; the target is
//! ≤ 2 s median.
//!
//! `cargo build --release -p sam-host && cargo build --release -p sam-e2e --bin workspace-bench &&
//!  target/release/workspace-bench [--runs N]`

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use sam_workspace::{Provider, Repo, WorkspaceSpec, Workspaces};

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .status()
        .context("running git")?;
    if !status.success() {
        bail!("git {args:?} failed");
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut runs = 11usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().context("--runs needs a number")?.parse()?,
            other => bail!("unknown argument {other}"),
        }
    }
    // A small repository: 50 files, 3 commits.
    let repo = tempfile::tempdir()?;
    git(repo.path(), &["init", "-q", "-b", "main"])?;
    for commit in 0..3 {
        for file in 0..50 {
            std::fs::write(
                repo.path().join(format!("file{file}.txt")),
                format!("commit {commit} file {file}\n").repeat(20),
            )?;
        }
        git(repo.path(), &["add", "."])?;
        git(repo.path(), &["commit", "-q", "-m", &format!("c{commit}")])?;
    }
    let url = format!("file://{}", repo.path().display());

    let data = tempfile::tempdir()?;
    let (store, _) = sam_store::Store::open(&data.path().join("sam.sqlite3"))?;
    let workspaces = Workspaces::new(
        Arc::new(store),
        data.path(),
        Workspaces::locate_host_binary(),
    );
    let mut millis = Vec::new();
    for run in 0..runs {
        let spec = WorkspaceSpec {
            name: format!("bench-{run}"),
            provider: Provider::Local,
            repo: Repo::Url { url: url.clone() },
            branch: None,
            size: None,
            locations: Vec::new(),
        };
        let started = Instant::now();
        let created = workspaces.create(spec, None).await?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let steps: Vec<String> = created
            .steps
            .iter()
            .map(|s| format!("{} {} ms", s.step, s.millis.unwrap_or_default()))
            .collect();
        println!("run {run:>2}: {elapsed:7.1} ms  ({})", steps.join(", "));
        millis.push(elapsed);
        workspaces.delete(&created.id).await?;
    }
    millis.sort_by(f64::total_cmp);
    println!(
        "local create-to-ready over {runs} runs: median {:.1} ms, min {:.1} ms, max {:.1} ms (target <= 2000 ms)",
        millis[millis.len() / 2],
        millis[0],
        millis[millis.len() - 1]
    );
    Ok(())
}

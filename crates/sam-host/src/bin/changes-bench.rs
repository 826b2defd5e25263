//! Review figures through a real daemon: a repository with `--files` (default 1,000) changed
//! files (each 40 lines, one line edited), then `Changes` and the first file's `FileDiff`
//! over the protocol, as the desktop asks when the changes panel opens. Target: both within
//! 500 ms, median of `--runs`.
//!
//! `cargo build --release -p sam-host --bins &&
//!  target/release/changes-bench [--files N] [--runs N]`
//!
//! Runs the `sam-host` next to this executable. Prints a table, then one JSON line.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sam_protocol::client::HostClient;
use sam_protocol::{RepoSource, RequestBody, ResponseBody, SetupPlan};

struct Options {
    files: usize,
    runs: usize,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        files: 1000,
        runs: 7,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = || -> anyhow::Result<usize> {
            args.next()
                .context("a number must follow")?
                .parse()
                .context("not a number")
        };
        match arg.as_str() {
            "--files" => options.files = number()?,
            "--runs" => options.runs = number()?.max(1),
            other => bail!("unknown argument {other}; use --files N --runs N"),
        }
    }
    Ok(options)
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@sam.invalid",
        ])
        .args(args)
        .stdout(Stdio::null())
        .status()
        .context("running git")?;
    if !status.success() {
        bail!("git {args:?} failed");
    }
    Ok(())
}

fn make_repo(root: &Path, files: usize) -> anyhow::Result<String> {
    std::fs::create_dir_all(root)?;
    git(root, &["init", "-q", "-b", "main"])?;
    let path = |i: usize| format!("src/module_{:02}/file_{i:04}.rs", i % 50);
    let body = |i: usize, edited: bool| -> String {
        (0..40)
            .map(|line| {
                if edited && line == 20 {
                    format!("    let value_{line} = compute({i}, {line}) + 1; // edited\n")
                } else {
                    format!("    let value_{line} = compute({i}, {line});\n")
                }
            })
            .collect()
    };
    for i in 0..files {
        let file = root.join(path(i));
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(file, body(i, false))?;
    }
    git(root, &["add", "."])?;
    git(root, &["commit", "-q", "-m", "base"])?;
    for i in 0..files {
        std::fs::write(root.join(path(i)), body(i, true))?;
    }
    Ok(path(0))
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
async fn measure(base: &Path, options: &Options) -> anyhow::Result<()> {
    let repo = base.join("repo");
    let state = base.join("state");
    let started = Instant::now();
    let first = make_repo(&repo, options.files)?;
    eprintln!(
        "made {} changed files in {:.1} s",
        options.files,
        started.elapsed().as_secs_f64()
    );

    let exe = std::env::current_exe()?;
    let host: PathBuf = exe.with_file_name("sam-host");
    let mut daemon = Command::new(&host)
        .arg("serve")
        .arg("--state-dir")
        .arg(&state)
        .arg("--activity-file")
        .arg(state.join("activity"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", host.display()))?;
    let result = async {
        let socket = state.join("host.sock");
        let deadline = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            match tokio::net::UnixStream::connect(&socket).await {
                Ok(stream) => break stream,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(error) => return Err(error).context("the daemon did not start"),
            }
        };
        let (read, write) = stream.into_split();
        let (client, _) = HostClient::connect(read, write, "changes-bench").await?;
        let plan = SetupPlan {
            workspace_id: "bench".into(),
            repository: RepoSource::LocalPath {
                path: repo.display().to_string(),
            },
            checkout_dir: repo.display().to_string(),
            git_token: None,
        };
        client.request(RequestBody::Setup(plan)).await?;
        let (mut changes_t, mut diff_t, mut total_t) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..options.runs {
            let t0 = Instant::now();
            let ResponseBody::Changes(changes) =
                client.request(RequestBody::Changes { base: None }).await?
            else {
                bail!("unexpected answer to changes");
            };
            let t1 = Instant::now();
            if changes.total_files != options.files as u64 {
                bail!("{} files changed, expected {}", changes.total_files, options.files);
            }
            let path = changes.files.first().map_or(first.clone(), |f| f.path.clone());
            let ResponseBody::FileDiff(diff) = client
                .request(RequestBody::FileDiff {
                    path,
                    old_path: None,
                    base: None,
                    turn: None,
                })
                .await?
            else {
                bail!("unexpected answer to file_diff");
            };
            let t2 = Instant::now();
            if diff.insertions != 1 {
                bail!("the first diff has {} insertions", diff.insertions);
            }
            changes_t.push(t1 - t0);
            diff_t.push(t2 - t1);
            total_t.push(t2 - t0);
        }
        let (c, d, t) = (median(&mut changes_t), median(&mut diff_t), median(&mut total_t));
        println!("files changed         {}", options.files);
        println!("changes (median)      {:8.1} ms", ms(c));
        println!("first file diff       {:8.1} ms", ms(d));
        println!("changes + first diff  {:8.1} ms   (target <= 500 ms)", ms(t));
        println!(
            "{{\"files\": {}, \"runs\": {}, \"changes_ms\": {:.1}, \"first_diff_ms\": {:.1}, \"total_ms\": {:.1}}}",
            options.files,
            options.runs,
            ms(c),
            ms(d),
            ms(t)
        );
        Ok(())
    }
    .await;
    let _ = daemon.kill();
    let _ = daemon.wait();
    result
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    let base = std::env::temp_dir().join(format!("sam-changes-bench-{}", std::process::id()));
    if base.exists() {
        bail!("{} exists", base.display());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = runtime.block_on(measure(&base, &options));
    let _ = std::fs::remove_dir_all(&base);
    result
}

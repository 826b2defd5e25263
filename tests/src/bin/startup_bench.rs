//! Start-up and idle-memory benchmark: SAM Desktop against a bare Tauri 2 window built the
//! same way (the floor), alternating runs in one process so both see the same machine load.
//!
//! Cold start: from spawning the process to the UI reporting its first render (the file named
//! by `SAM_BENCH_READY_FILE` appears). Each app keeps its data folder across runs, as it does
//! for a user, after one discarded warm-up launch that creates it (the first launch ever also
//! creates the database and WebKit's storage). Idle memory: after `--idle-secs` of idling, the summed
//! RSS of the app and every process it started (WebKit's web and network processes).
//!
//!   startup-bench --sam target/release/sam-desktop --floor target/release/bare-window [--runs 7] [--idle-secs 10]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

const READY_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Debug)]
struct Options {
    sam: PathBuf,
    floor: PathBuf,
    runs: usize,
    idle_secs: u64,
}

fn parse_args() -> anyhow::Result<Options> {
    let mut sam = None;
    let mut floor = None;
    let mut runs = 7;
    let mut idle_secs = 10;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--sam" => sam = Some(PathBuf::from(value()?)),
            "--floor" => floor = Some(PathBuf::from(value()?)),
            "--runs" => runs = value()?.parse()?,
            "--idle-secs" => idle_secs = value()?.parse()?,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    Ok(Options {
        sam: sam.context("--sam <path to sam-desktop> is required")?,
        floor: floor.context("--floor <path to bare-window> is required")?,
        runs,
        idle_secs,
    })
}

#[derive(Debug, Default)]
struct Samples {
    startup_ms: Vec<f64>,
    idle_rss_mib: Vec<f64>,
}

fn main() -> anyhow::Result<()> {
    let options = parse_args()?;
    anyhow::ensure!(
        std::env::var_os("DISPLAY").is_some(),
        "run under xvfb-run (scripts/bench.sh does)"
    );
    let mut sam = Samples::default();
    let mut floor = Samples::default();
    let mut out = std::io::stderr();
    let sam_data = tempfile::tempdir()?;
    let floor_data = tempfile::tempdir()?;
    for (binary, data) in [(&options.sam, &sam_data), (&options.floor, &floor_data)] {
        let (startup, _) = measure(binary, data.path(), 0)?;
        writeln!(
            out,
            "warm-up {}: start {startup:.0} ms (not counted)",
            binary.display()
        )?;
    }
    for run in 0..options.runs {
        // Alternate which app goes first, so drift in machine load hits both alike.
        let order: [(&Path, &Path, &mut Samples, &str); 2] = if run % 2 == 0 {
            [
                (&options.floor, floor_data.path(), &mut floor, "floor"),
                (&options.sam, sam_data.path(), &mut sam, "sam"),
            ]
        } else {
            [
                (&options.sam, sam_data.path(), &mut sam, "sam"),
                (&options.floor, floor_data.path(), &mut floor, "floor"),
            ]
        };
        for (binary, data, samples, name) in order {
            let (startup, rss) = measure(binary, data, options.idle_secs)?;
            writeln!(
                out,
                "run {run} {name}: start {startup:.0} ms, idle RSS {rss:.1} MiB"
            )?;
            samples.startup_ms.push(startup);
            samples.idle_rss_mib.push(rss);
        }
    }
    let report = [
        (
            "cold start to rendered shell (ms)",
            median(&sam.startup_ms),
            median(&floor.startup_ms),
        ),
        (
            "idle memory, app + WebKit processes (MiB)",
            median(&sam.idle_rss_mib),
            median(&floor.idle_rss_mib),
        ),
    ];
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "\nmedians over {} runs each (target: ratio <= 1.30)",
        options.runs
    )?;
    writeln!(
        stdout,
        "| measure | SAM Desktop | bare Tauri window | ratio |"
    )?;
    writeln!(stdout, "|---|---|---|---|")?;
    for (label, sam, floor) in report {
        writeln!(
            stdout,
            "| {label} | {sam:.1} | {floor:.1} | {:.2} |",
            sam / floor
        )?;
    }
    Ok(())
}

fn measure(binary: &Path, data_dir: &Path, idle_secs: u64) -> anyhow::Result<(f64, f64)> {
    let scratch = tempfile::tempdir()?;
    let ready = scratch.path().join("ready");
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env("SAM_DATA_DIR", data_dir)
        .env("SAM_BENCH_READY_FILE", &ready)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let result = (|| {
        while !ready.exists() {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("{} exited ({status}) before rendering", binary.display());
            }
            anyhow::ensure!(
                started.elapsed() < READY_TIMEOUT,
                "{} never rendered",
                binary.display()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        let startup_ms = started.elapsed().as_secs_f64() * 1000.0;
        std::thread::sleep(Duration::from_secs(idle_secs));
        let rss = tree_rss_kib(child.id())? as f64 / 1024.0;
        Ok((startup_ms, rss))
    })();
    stop(&mut child);
    result
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
    // Let WebKit's helper processes notice and exit before the next run starts.
    std::thread::sleep(Duration::from_millis(500));
}

/// The summed VmRSS (KiB) of `root` and all its descendants, from /proc.
fn tree_rss_kib(root: u32) -> anyhow::Result<u64> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The fields after the parenthesised command name: state, ppid, ...
        let Some(after) = stat.rsplit_once(") ").map(|(_, rest)| rest) else {
            continue;
        };
        if let Some(ppid) = after.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok()) {
            parents.push((pid, ppid));
        }
    }
    let mut tree = vec![root];
    let mut grew = true;
    while grew {
        grew = false;
        for (pid, ppid) in &parents {
            if tree.contains(ppid) && !tree.contains(pid) {
                tree.push(*pid);
                grew = true;
            }
        }
    }
    let mut total = 0;
    for pid in tree {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if let Some(line) = status.lines().find(|l| l.starts_with("VmRSS:")) {
            total += line
                .split_whitespace()
                .nth(1)
                .and_then(|kib| kib.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Ok(total)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

//! File index figures, on a synthetic monorepo (100,000 files in 2,000 directories, plus a
//! `.gitignore`d `node_modules`, ignored logs and a `.git` folder the index must skip).
//!
//! - **build**: a cold index build (a new walk and sort, the OS's cache warm), median of
//!   `--runs`. Target ≤ 2 s.
//! - **query**: 200 `FindFiles` queries of five kinds (a file name, a directory, an
//!   abbreviation, a single letter, a full path), limit 50. Target ≤ 20 ms median.
//! - **resolve**: one `ResolvePaths` of 256 candidates, half of them missing.
//!
//! `cargo build --release -p sam-host --bin file-index-bench &&
//!  target/release/file-index-bench [--files N] [--runs N] [--dir PATH]`
//!
//! Prints a table, then one JSON line.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use sam_host::bench::{FileIndex, resolve_paths};
use sam_protocol::PathResolution;

const AREAS: [&str; 5] = ["services", "packages", "libs", "apps", "tools"];
const PROJECTS: [&str; 40] = [
    "billing",
    "accounts",
    "search",
    "gateway",
    "notifications",
    "storage",
    "analytics",
    "checkout",
    "auth",
    "media",
    "inventory",
    "payments",
    "messaging",
    "profile",
    "reports",
    "scheduler",
    "catalog",
    "orders",
    "shipping",
    "identity",
    "ledger",
    "pricing",
    "reviews",
    "support",
    "telemetry",
    "uploads",
    "webhooks",
    "workflow",
    "admin",
    "audit",
    "cache",
    "config",
    "core",
    "crypto",
    "editor",
    "events",
    "export",
    "feeds",
    "geo",
    "i18n",
];
/// The folders of every project (50, the project folder itself included).
const PROJECT_DIRS: [&str; 50] = [
    "",
    "src",
    "src/api",
    "src/api/v1",
    "src/api/v2",
    "src/models",
    "src/handlers",
    "src/services",
    "src/db",
    "src/db/migrations",
    "src/utils",
    "src/config",
    "src/middleware",
    "src/jobs",
    "src/events",
    "src/components",
    "src/components/forms",
    "src/components/layout",
    "src/hooks",
    "src/pages",
    "src/pages/settings",
    "src/styles",
    "src/types",
    "src/i18n",
    "src/assets",
    "tests",
    "tests/api",
    "tests/fixtures",
    "tests/integration",
    "benches",
    "docs",
    "docs/adr",
    "scripts",
    "proto",
    "proto/v1",
    "migrations",
    "config",
    "deploy",
    "deploy/k8s",
    "deploy/terraform",
    "src/clients",
    "src/clients/http",
    "src/domain",
    "src/domain/entities",
    "src/domain/events",
    "src/infra",
    "src/infra/queue",
    "src/infra/storage",
    "src/workers",
    "src/graphql",
];
const STEMS: [&str; 41] = [
    "upload",
    "download",
    "user",
    "session",
    "auth",
    "config",
    "router",
    "handler",
    "client",
    "server",
    "schema",
    "index",
    "mod",
    "utils",
    "errors",
    "cache",
    "queue",
    "worker",
    "invoice",
    "payment",
    "account",
    "profile",
    "search",
    "notification",
    "storage",
    "metrics",
    "logger",
    "middleware",
    "validator",
    "serializer",
    "controller",
    "service",
    "repository",
    "model",
    "types",
    "constants",
    "helpers",
    "fixtures",
    "migration",
    "webhook",
    "settings",
];
const EXTENSIONS: [&str; 10] = [
    "rs", "ts", "tsx", "go", "py", "json", "md", "yaml", "sql", "proto",
];
const ROOT_FILES: [&str; 6] = [
    "README.md",
    "Cargo.toml",
    "package.json",
    ".gitignore",
    ".github/workflows/ci.yml",
    ".github/CODEOWNERS",
];
const IGNORED_NODE_MODULES: usize = 20_000;
const QUERY_LIMIT: u32 = 50;
const QUERIES_PER_KIND: usize = 40;

/// A small deterministic generator (xorshift64*), so every run sees the same repository.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
    }
}

fn touch(path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, b"").with_context(|| format!("writing {}", path.display()))
}

/// Writes the repository; returns the files the index should hold.
fn synthetic_repo(root: &Path, files: usize) -> anyhow::Result<Vec<String>> {
    let mut kept = Vec::with_capacity(files);
    for name in ROOT_FILES {
        let path = root.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        touch(&path)?;
        kept.push(name.to_owned());
    }
    std::fs::write(root.join(".gitignore"), "node_modules/\ntarget/\n*.log\n")?;
    let dirs: Vec<String> = AREAS
        .iter()
        .flat_map(|area| {
            PROJECTS
                .iter()
                .skip(area.len() % 3)
                .step_by(5)
                .map(move |p| (area, p))
        })
        .flat_map(|(area, project)| {
            PROJECT_DIRS.iter().map(move |d| {
                if d.is_empty() {
                    format!("{area}/{project}")
                } else {
                    format!("{area}/{project}/{d}")
                }
            })
        })
        .collect();
    let per_dir = (files - ROOT_FILES.len()).div_ceil(dirs.len());
    let mut rng = Rng(0x5A11_DE5C_70B0_0001);
    for (d, dir) in dirs.iter().enumerate() {
        std::fs::create_dir_all(root.join(dir))?;
        let mut names = HashSet::new();
        for j in 0..per_dir {
            if kept.len() == files {
                break;
            }
            let stem = STEMS[rng.below(STEMS.len())];
            let ext = EXTENSIONS[(j + d * 3) % EXTENSIONS.len()];
            let mut name = format!("{stem}.{ext}");
            if !names.insert(name.clone()) {
                name = format!("{stem}_{j}.{ext}");
                names.insert(name.clone());
            }
            touch(&root.join(dir).join(&name))?;
            kept.push(format!("{dir}/{name}"));
        }
        // Noise the index must skip.
        touch(&root.join(dir).join("debug.log"))?;
    }
    for i in 0..IGNORED_NODE_MODULES {
        let dir = root.join(format!("node_modules/pkg-{}/lib", i / 20));
        if i % 20 == 0 {
            std::fs::create_dir_all(&dir)?;
        }
        touch(&dir.join(format!("module{i}.js")))?;
    }
    for i in 0..500 {
        let dir = root.join(format!(".git/objects/{:02x}", i % 256));
        std::fs::create_dir_all(&dir)?;
        touch(&dir.join(format!("{i:038x}")))?;
    }
    if kept.len() != files {
        bail!("generated {} files instead of {files}", kept.len());
    }
    Ok(kept)
}

/// The 200 queries, by kind, from files that exist.
fn queries(files: &[String]) -> Vec<(&'static str, String)> {
    let mut rng = Rng(0xC0FF_EE00_1234_5678);
    let mut queries = Vec::new();
    for _ in 0..QUERIES_PER_KIND {
        let path = &files[rng.below(files.len())];
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        queries.push(("file name", name.to_owned()));
        let dir_query: Vec<&str> = dir.rsplit('/').take(2).collect();
        queries.push((
            "directory",
            dir_query.into_iter().rev().collect::<Vec<_>>().join("/"),
        ));
        let (stem, ext) = name.split_once('.').unwrap_or((name, ""));
        queries.push((
            "abbreviation",
            format!("{}{ext}", stem.chars().take(3).collect::<String>()),
        ));
        let letter = char::from(b'a' + u8::try_from(rng.below(26)).unwrap_or(0));
        queries.push(("single letter", letter.to_string()));
        queries.push(("full path", path.clone()));
    }
    queries
}

/// The process's CPU time so far (all threads, user and system), from `/proc/self/stat`:
/// wall times on a busy machine say little, CPU time says what a query costs.
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(ticks * 10.0)
}

/// The 1-minute load average, to read the wall times by.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The `p`-th percentile (nearest rank) of sorted `values`.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

struct Options {
    files: usize,
    runs: usize,
    dir: Option<PathBuf>,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        files: 100_000,
        runs: 5,
        dir: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--files" => options.files = value()?.parse()?,
            "--runs" => options.runs = value()?.parse()?,
            "--dir" => options.dir = Some(PathBuf::from(value()?)),
            "--help" | "-h" => {
                bail!("usage: file-index-bench [--files N] [--runs N] [--dir PATH]")
            }
            other => bail!("unknown argument {other}; see --help"),
        }
    }
    if options.files < ROOT_FILES.len() || options.runs == 0 {
        bail!(
            "--files must be at least {} and --runs at least 1",
            ROOT_FILES.len()
        );
    }
    Ok(options)
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    let base = options.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("sam-file-index-bench-{}", std::process::id()))
    });
    if base.exists() {
        bail!("{} exists; give a new --dir", base.display());
    }
    std::fs::create_dir_all(&base)?;
    let result = measure(&base, &options);
    if options.dir.is_none() {
        let _ = std::fs::remove_dir_all(&base);
    }
    result
}

fn measure(base: &Path, options: &Options) -> anyhow::Result<()> {
    let root = base.canonicalize()?;
    let files = synthetic_repo(&root, options.files)?;

    let mut builds = Vec::new();
    let mut index = None;
    for _ in 0..options.runs {
        let (built, took) = FileIndex::build(&root);
        builds.push(millis(took));
        index = Some(built);
    }
    let index = index.context("no build ran")?;
    if index.len() != files.len() {
        bail!(
            "the index holds {} files, the repository {} (ignore rules broken?)",
            index.len(),
            files.len()
        );
    }

    let queries = queries(&files);
    let mut by_kind: Vec<(&str, Vec<f64>)> = Vec::new();
    let mut all = Vec::new();
    let cpu_before = cpu_ms();
    for (kind, query) in &queries {
        let (found, took) = index.query(query, QUERY_LIMIT);
        if found.matches.is_empty() {
            bail!("{kind} query {query:?} found nothing");
        }
        all.push(millis(took));
        match by_kind.iter_mut().find(|(k, _)| k == kind) {
            Some((_, times)) => times.push(millis(took)),
            None => by_kind.push((kind, vec![millis(took)])),
        }
    }

    let query_cpu_ms = cpu_ms()
        .zip(cpu_before)
        .map(|(after, before)| (after - before) / queries.len() as f64);

    let candidates: Vec<String> = (0..256)
        .map(|i| {
            let path = &files[(i * 7919) % files.len()];
            if i % 2 == 0 {
                path.clone()
            } else {
                format!("{path}.missing")
            }
        })
        .collect();
    let (resolved, resolve_took) = resolve_paths(&root, &candidates);
    let found = resolved
        .iter()
        .filter(|r| matches!(r.resolution, PathResolution::Found(_)))
        .count();
    if found != 128 {
        bail!("ResolvePaths found {found} of 128 existing candidates");
    }

    report(&Figures {
        files: files.len(),
        builds: sorted(builds),
        all: sorted(all),
        by_kind: by_kind.into_iter().map(|(k, t)| (k, sorted(t))).collect(),
        resolve_ms: millis(resolve_took),
        query_cpu_ms,
        load: load_average(),
    });
    Ok(())
}

struct Figures<'a> {
    files: usize,
    builds: Vec<f64>,
    all: Vec<f64>,
    by_kind: Vec<(&'a str, Vec<f64>)>,
    resolve_ms: f64,
    /// Mean CPU time per query, all threads.
    query_cpu_ms: Option<f64>,
    load: Option<f64>,
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
fn report(figures: &Figures<'_>) {
    let build_median = percentile(&figures.builds, 50.0);
    let query_median = percentile(&figures.all, 50.0);
    let query_p95 = percentile(&figures.all, 95.0);
    println!(
        "file index: {} files indexed ({} ignored in node_modules, 500 in .git skipped)",
        figures.files, IGNORED_NODE_MODULES
    );
    println!(
        "{:<28} {:>10} {:>10} {:>10}",
        "", "median ms", "p95 ms", "max ms"
    );
    println!(
        "{:<28} {:>10.1} {:>10} {:>10.1}   (target ≤ 2000, {} runs)",
        "cold build",
        build_median,
        "",
        figures.builds.last().copied().unwrap_or(f64::NAN),
        figures.builds.len()
    );
    println!(
        "{:<28} {:>10.2} {:>10.2} {:>10.2}   (target median ≤ 20)",
        format!("query, all {}", figures.all.len()),
        query_median,
        query_p95,
        figures.all.last().copied().unwrap_or(f64::NAN)
    );
    for (kind, times) in &figures.by_kind {
        println!(
            "{:<28} {:>10.2} {:>10.2} {:>10.2}",
            format!("  {kind} ({})", times.len()),
            percentile(times, 50.0),
            percentile(times, 95.0),
            times.last().copied().unwrap_or(f64::NAN)
        );
    }
    println!("{:<28} {:>10.2}", "resolve 256 paths", figures.resolve_ms);
    println!(
        "query CPU time (mean, all threads): {} ms; load average {} on {} CPUs",
        figures
            .query_cpu_ms
            .map_or_else(|| "?".to_owned(), |ms| format!("{ms:.2}")),
        figures
            .load
            .map_or_else(|| "?".to_owned(), |load| format!("{load:.2}")),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let json = serde_json::json!({
        "bench": "file_index",
        "files": figures.files,
        "build_median_ms": build_median,
        "build_runs_ms": figures.builds,
        "query_median_ms": query_median,
        "query_p95_ms": query_p95,
        "query_limit": QUERY_LIMIT,
        "by_kind": figures.by_kind.iter().map(|(kind, times)| serde_json::json!({
            "kind": kind,
            "median_ms": percentile(times, 50.0),
            "p95_ms": percentile(times, 95.0),
        })).collect::<Vec<_>>(),
        "resolve_256_ms": figures.resolve_ms,
        "query_cpu_mean_ms": figures.query_cpu_ms,
        "load_average": figures.load,
        "cpus": std::thread::available_parallelism().map_or(0, usize::from),
        "build_ok": build_median <= 2000.0,
        "query_ok": query_median <= 20.0,
    });
    println!("{json}");
}

//! The `sam-host` command: `serve` (the daemon), `connect` (the desktop's way in), git's
//! askpass helper, and the podman wrapper the Dev Containers CLI runs. Only `connect` (and
//! podman, as the wrapper) writes to stdout, and only protocol bytes.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sam_host::{ASKPASS_MODE_ENV, DaemonLock, PODMAN_SHIM_ENV, ServeOptions, StateDir, TOKEN_ENV};

/// The SAM workspace daemon.
#[derive(Debug, Parser)]
#[command(name = "sam-host", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon (exits at once, successfully, when one already runs for the state dir).
    Serve {
        /// Default: $SAM_HOST_STATE_DIR, else $XDG_STATE_HOME/sam-host, else
        /// ~/.local/state/sam-host.
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// Where a desktop `touch` stamps activity for the VM watchdog. Default:
        /// $SAM_HOST_ACTIVITY_FILE, else /var/lib/sam/activity when /var/lib/sam exists, else
        /// <state dir>/activity.
        #[arg(long)]
        activity_file: Option<PathBuf>,
    },
    /// Bridge stdin/stdout to the daemon, starting it when none runs.
    Connect {
        /// As for `serve`.
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Answer a git credential prompt from the environment (git's GIT_ASKPASS).
    #[command(hide = true)]
    Askpass {
        /// The prompt git shows.
        prompt: String,
    },
}

fn main() -> ExitCode {
    // Git runs GIT_ASKPASS as `<program> <prompt>`: no room for a subcommand.
    if std::env::var_os(ASKPASS_MODE_ENV).is_some() {
        let prompt = std::env::args().nth(1).unwrap_or_default();
        return askpass(&prompt);
    }
    // The Dev Containers CLI runs its "docker" as `<program> <args>`: no room for a subcommand.
    if let Some((podman, args)) =
        sam_host::podman_shim_command(std::env::args_os().skip(1).collect())
    {
        let error = std::process::Command::new(&podman)
            .args(args)
            .env_remove(PODMAN_SHIM_ENV)
            .exec();
        eprintln!(
            "sam-host: could not run {}: {error}",
            podman.to_string_lossy()
        );
        return ExitCode::from(127);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            state_dir,
            activity_file,
        } => run_serve(state_dir, activity_file),
        Command::Connect { state_dir } => run_connect(state_dir),
        Command::Askpass { prompt } => return askpass(&prompt),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sam-host: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn askpass(prompt: &str) -> ExitCode {
    let token = std::env::var(TOKEN_ENV).ok();
    match sam_host::askpass_answer(prompt, token.as_deref()) {
        Some(answer) => {
            let mut stdout = std::io::stdout().lock();
            if writeln!(stdout, "{answer}")
                .and_then(|()| stdout.flush())
                .is_ok()
            {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        None => ExitCode::FAILURE,
    }
}

fn run_serve(state_dir: Option<PathBuf>, activity_file: Option<PathBuf>) -> anyhow::Result<()> {
    let state_dir = StateDir::resolve(state_dir)?;
    let Some(lock) = DaemonLock::acquire(&state_dir)? else {
        let pid = sam_host::recorded_pid(&state_dir)
            .map(|pid| format!(" (pid {pid})"))
            .unwrap_or_default();
        eprintln!(
            "sam-host is already running for {}{pid}; nothing to do.",
            state_dir.path().display()
        );
        return Ok(());
    };
    init_logging(&state_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(sam_host::serve(lock, ServeOptions { activity_file }));
    if let Err(error) = &result {
        tracing::error!(%error, "sam-host stopped with an error");
    }
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(result?)
}

fn run_connect(state_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let state_dir = StateDir::resolve(state_dir)?;
    let exe = std::env::current_exe().context("finding the sam-host executable")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(sam_host::connect(&state_dir, &exe));
    // A read of stdin may still block on a runtime thread; do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(result?)
}

/// Logs to `host.log` in the state directory (never to stdout). `SAM_HOST_LOG` sets the filter.
fn init_logging(state_dir: &StateDir) -> anyhow::Result<()> {
    let path = state_dir.log_path();
    let file = std::fs::File::options()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("opening the log {}", path.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("SAM_HOST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init()
        .map_err(|e| anyhow::anyhow!("setting up logging: {e}"))?;
    Ok(())
}

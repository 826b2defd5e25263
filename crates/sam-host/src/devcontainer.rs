//! The dev container of a workspace: the `devcontainer` setup step (`devcontainer up` through
//! the Dev Containers CLI), the base container (Node 22) for a cloned repository without a
//! configuration, the command line that runs a program inside the container, and its removal
//! when the workspace is deleted.
//!
//! This is the one module that knows the CLI's arguments and JSON result and the docker and
//! podman command lines; the rest of the host sees [`DevContainer`].
//!
//! Nothing secret reaches the CLI or the engine: both run with a cleared environment plus an
//! allowlist ([`PASSED_ENV`]) of what they need to find the engine, registries and proxies, so
//! a `${localEnv:…}` in a repository's `devcontainer.json` cannot pick up anything else.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sam_protocol::{ContainerEngine, DevContainer, EnvVar};
use serde::Deserialize;
use tokio::process::Command;

use crate::checkout::{redact, tail_chars};

/// Where the Dev Containers CLI is; default: `devcontainer` on `PATH`.
pub const DEVCONTAINER_CLI_ENV: &str = "SAM_DEVCONTAINER_CLI";
/// `docker` or `podman` to use only that engine, `none` to never bring a container up;
/// default: docker when `docker info` succeeds, else podman when `podman info` succeeds.
pub const CONTAINER_ENGINE_ENV: &str = "SAM_CONTAINER_ENGINE";
/// An OCI runtime podman must use (`podman --runtime <this>`), for machines where podman's
/// default runtime fails; default: podman's own choice.
pub const PODMAN_RUNTIME_ENV: &str = "SAM_PODMAN_RUNTIME";
/// Set (to the podman program) when `sam-host` runs as the podman wrapper the Dev Containers
/// CLI calls, which adds `--runtime` (the CLI takes a program, not a command line).
pub const PODMAN_SHIM_ENV: &str = "SAM_HOST_PODMAN_SHIM";
/// The image of the base container for a cloned repository without a dev container
/// configuration; `none` turns the base container off. Default: [`DEFAULT_BASE_IMAGE`]. Tests
/// and offline machines name a local image.
pub const BASE_IMAGE_ENV: &str = "SAM_BASE_IMAGE";
/// Node 22 on Debian, with git, as Microsoft publishes it for dev containers: what npm-based
/// agents need.
pub const DEFAULT_BASE_IMAGE: &str = "mcr.microsoft.com/devcontainers/javascript-node:22";
/// The folder (under the host's state directory) holding the generated configuration.
const BASE_CONFIG_DIR: &str = "base-devcontainer";

/// The environment the CLI and the engines get; everything else is cleared.
const PASSED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    // Docker's connection and configuration.
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS_VERIFY",
    "DOCKER_BUILDKIT",
    // Podman's connection and configuration.
    "CONTAINER_HOST",
    "CONTAINER_CONNECTION",
    "CONTAINERS_CONF",
    "CONTAINERS_STORAGE_CONF",
    "CONTAINERS_REGISTRIES_CONF",
    "REGISTRY_AUTH_FILE",
    // Reaching registries.
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
];

/// The configuration files `devcontainer up` looks for by default, in its order.
const CONFIG_FILES: [&str; 2] = [".devcontainer/devcontainer.json", ".devcontainer.json"];

/// How much of the CLI's stderr a failure reason keeps (its end, where the error is).
const STDERR_TAIL_CHARS: usize = 2000;

/// How long `docker info` / `podman info` may take to say whether the engine works.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// How many times `devcontainer up` runs when it fails in a way that looks transient.
const UP_ATTEMPTS: u32 = 2;

/// How long to wait before retrying a transient failure.
const UP_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Which engines the host may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EngineChoice {
    /// Docker when it works, else podman when it works.
    Detect,
    /// Only this one.
    Only(ContainerEngine),
    /// Never bring a container up.
    Never,
}

/// How containers are driven; read once at start-up.
#[derive(Debug, Clone)]
pub(crate) struct ContainerSettings {
    /// The Dev Containers CLI program.
    pub cli: PathBuf,
    /// Whether `cli` came from [`DEVCONTAINER_CLI_ENV`] (for the error message).
    pub cli_from_env: bool,
    /// Which engines to try.
    pub engines: EngineChoice,
    /// `podman --runtime` when set.
    pub podman_runtime: Option<String>,
    /// This executable, the podman wrapper when a runtime is set.
    pub shim_exe: PathBuf,
    /// The most one `devcontainer up` may take before it is stopped.
    pub up_timeout: Duration,
    /// The image of the base container for repositories without a configuration; `None`:
    /// none, they run on the host.
    pub base_image: Option<String>,
}

impl ContainerSettings {
    /// Reads [`DEVCONTAINER_CLI_ENV`], [`CONTAINER_ENGINE_ENV`] and [`PODMAN_RUNTIME_ENV`].
    ///
    /// # Errors
    /// A message naming the variable when one holds a value that cannot work.
    pub(crate) fn from_env(shim_exe: PathBuf, up_timeout: Duration) -> Result<Self, String> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let (cli, cli_from_env) = match var(DEVCONTAINER_CLI_ENV) {
            Some(path) => (PathBuf::from(path), true),
            None => (PathBuf::from("devcontainer"), false),
        };
        let engines = match var(CONTAINER_ENGINE_ENV)
            .as_deref()
            .and_then(|v| v.to_str())
        {
            None => EngineChoice::Detect,
            Some("docker") => EngineChoice::Only(ContainerEngine::Docker),
            Some("podman") => EngineChoice::Only(ContainerEngine::Podman),
            Some("none") => EngineChoice::Never,
            Some(_) => {
                return Err(format!(
                    "{CONTAINER_ENGINE_ENV} must be docker, podman or none (or unset to detect)"
                ));
            }
        };
        let podman_runtime = match var(PODMAN_RUNTIME_ENV) {
            None => None,
            Some(runtime) => {
                let runtime = runtime
                    .into_string()
                    .map_err(|_| format!("{PODMAN_RUNTIME_ENV} is not UTF-8"))?;
                if runtime.starts_with('-') || runtime.contains('\0') {
                    return Err(format!(
                        "{PODMAN_RUNTIME_ENV} must name an OCI runtime (such as runc or crun)"
                    ));
                }
                Some(runtime)
            }
        };
        let base_image = match var(BASE_IMAGE_ENV).as_deref().map(|v| v.to_str()) {
            None => Some(DEFAULT_BASE_IMAGE.to_owned()),
            Some(Some("none")) => None,
            Some(Some(image)) if plain_image_reference(image) => Some(image.to_owned()),
            Some(_) => {
                return Err(format!(
                    "{BASE_IMAGE_ENV} must name an image (such as {DEFAULT_BASE_IMAGE}), or be \
                     none to run repositories without a dev container on the host"
                ));
            }
        };
        Ok(Self {
            cli,
            cli_from_env,
            engines,
            podman_runtime,
            shim_exe,
            up_timeout,
            base_image,
        })
    }

    /// The engine's command, with the options every call needs.
    fn engine_command(&self, engine: ContainerEngine) -> Command {
        let mut command = Command::new(engine.as_str());
        if engine == ContainerEngine::Podman
            && let Some(runtime) = &self.podman_runtime
        {
            command.arg("--runtime").arg(runtime);
        }
        allowlisted_env(&mut command);
        command
    }
}

/// An image reference as registries write them (`host/path:tag`, `@sha256:…`): it goes into a
/// generated JSON file and then to the engine, so nothing else passes.
fn plain_image_reference(image: &str) -> bool {
    !image.is_empty()
        && image.len() <= 255
        && !image.starts_with('-')
        && image
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@'))
}

/// Whether a checkout without a dev container configuration gets the base container: an
/// image is set, containers are not turned off, and the Dev Containers CLI is installed. (The
/// engines are asked only then: `docker info` is not free.)
pub(crate) async fn base_container_possible(settings: &ContainerSettings) -> bool {
    settings.base_image.is_some()
        && settings.engines != EngineChoice::Never
        && cli_installed(&settings.cli).await
}

/// Whether `cli` names an existing file, directly or on `PATH`.
async fn cli_installed(cli: &Path) -> bool {
    let is_file =
        |path: PathBuf| async move { tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_file()) };
    if cli.components().count() > 1 {
        return is_file(cli.to_path_buf()).await;
    }
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    for dir in std::env::split_paths(&path) {
        if is_file(dir.join(cli)).await {
            return true;
        }
    }
    false
}

/// Brings up the base container (see [`BASE_IMAGE_ENV`]) for the checkout at `root`, from a
/// configuration generated under `state_dir` (the repository is not touched). Never fails
/// the setup: without an engine, or when the container cannot start (an image that cannot be
/// pulled offline, say), commands run on the host and the outcome says why.
pub(crate) async fn bring_up_base(
    settings: &ContainerSettings,
    root: &Path,
    state_dir: &Path,
    token: Option<&str>,
) -> UpOutcome {
    let Some(image) = &settings.base_image else {
        return UpOutcome::Skipped("skipped: no base image is set".to_owned());
    };
    let engine = match find_engine(settings).await {
        Ok(engine) => engine,
        Err(why) => {
            return UpOutcome::Skipped(format!(
                "skipped: the repository has no dev container configuration and {why}; commands \
                 run on the host"
            ));
        }
    };
    let config = match write_base_config(image, state_dir).await {
        Ok(config) => config,
        Err(why) => {
            return UpOutcome::Skipped(format!(
                "skipped: the base container's configuration could not be written ({why}); \
                 commands run on the host"
            ));
        }
    };
    // One attempt: the host is a fine place to work, and a retry would only delay it.
    match up_once(settings, engine, root, Some(&config)).await {
        Ok(container) => UpOutcome::Up(container),
        Err(failure) => UpOutcome::Skipped(redact(
            &format!(
                "skipped: the repository has no dev container configuration and the base \
                 container ({image}) did not start, so commands run on the host: {}",
                failure.reason
            ),
            token,
        )),
    }
}

/// The configuration of the base container, as `devcontainer.json`: the image only, so the
/// image's own metadata (its remote user, for one) applies. Returns its path.
async fn write_base_config(image: &str, state_dir: &Path) -> Result<PathBuf, String> {
    let dir = state_dir.join(BASE_CONFIG_DIR);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("devcontainer.json");
    let json = serde_json::json!({
        "name": "SAM base container",
        "image": image,
    });
    tokio::fs::write(&path, format!("{json:#}\n"))
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The dev container configuration of the checkout at `root`, if it has one.
pub(crate) async fn config_file(root: &Path) -> Option<PathBuf> {
    for name in CONFIG_FILES {
        let path = root.join(name);
        if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_file()) {
            return Some(path);
        }
    }
    None
}

/// What the `devcontainer` step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UpOutcome {
    /// The container runs.
    Up(DevContainer),
    /// No container: commands run on the host. The text says why, for the user.
    Skipped(String),
}

/// Brings up the dev container of the checkout at `root`. `token` is redacted from anything
/// reported (it never reaches the CLI).
///
/// # Errors
/// The failure reason, for the user: the CLI is missing, or `devcontainer up` failed (with
/// the end of its error output, redacted).
pub(crate) async fn bring_up(
    settings: &ContainerSettings,
    root: &Path,
    token: Option<&str>,
) -> Result<UpOutcome, String> {
    let engine = match find_engine(settings).await {
        Ok(engine) => engine,
        Err(why) => {
            return Ok(UpOutcome::Skipped(format!(
                "skipped: the repository has a dev container configuration, but {why}; \
                 commands run on the host"
            )));
        }
    };
    let mut attempt = 1;
    loop {
        match up_once(settings, engine, root, None).await {
            Ok(container) => return Ok(UpOutcome::Up(container)),
            Err(failure) if failure.transient && attempt < UP_ATTEMPTS => {
                tracing::warn!(attempt, "devcontainer up failed transiently; retrying");
                attempt += 1;
                tokio::time::sleep(UP_RETRY_DELAY).await;
            }
            Err(failure) => return Err(redact(&failure.reason, token)),
        }
    }
}

/// The engine to use, or why there is none.
async fn find_engine(settings: &ContainerSettings) -> Result<ContainerEngine, String> {
    let candidates: &[ContainerEngine] = match &settings.engines {
        EngineChoice::Never => {
            return Err(format!("{CONTAINER_ENGINE_ENV}=none turns containers off"));
        }
        EngineChoice::Only(engine) => std::slice::from_ref(engine),
        EngineChoice::Detect => &[ContainerEngine::Docker, ContainerEngine::Podman],
    };
    let mut failures = Vec::new();
    for &engine in candidates {
        match probe(settings, engine).await {
            Ok(()) => return Ok(engine),
            Err(why) => failures.push(format!("`{engine} info` {why}")),
        }
    }
    Err(format!(
        "no container engine works here ({})",
        failures.join("; ")
    ))
}

/// Whether `<engine> info` succeeds; the error says how it failed.
async fn probe(settings: &ContainerSettings, engine: ContainerEngine) -> Result<(), String> {
    let mut command = settings.engine_command(engine);
    command
        .arg("info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = match command.spawn() {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err("failed: it is not installed".to_owned());
        }
        Err(error) => return Err(format!("could not start: {error}")),
    };
    match tokio::time::timeout(PROBE_TIMEOUT, child.wait_with_output()).await {
        Err(_) => Err(format!(
            "did not answer within {} s",
            PROBE_TIMEOUT.as_secs()
        )),
        Ok(Err(error)) => Err(format!("failed: {error}")),
        Ok(Ok(output)) if output.status.success() => Ok(()),
        Ok(Ok(output)) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr.trim().lines().last().unwrap_or("").trim();
            Err(format!(
                "failed ({}): {}",
                output.status,
                tail_chars(last, 300)
            ))
        }
    }
}

/// A failed `devcontainer up`.
#[derive(Debug)]
struct UpFailure {
    reason: String,
    transient: bool,
}

impl UpFailure {
    fn permanent(reason: String) -> Self {
        Self {
            reason,
            transient: false,
        }
    }
}

/// One `devcontainer up` of `root`, with the configuration at `config` instead of the
/// repository's own when given.
async fn up_once(
    settings: &ContainerSettings,
    engine: ContainerEngine,
    root: &Path,
    config: Option<&Path>,
) -> Result<DevContainer, UpFailure> {
    let mut command = Command::new(&settings.cli);
    command
        .arg("up")
        .arg("--workspace-folder")
        .arg(root)
        .args(["--log-format", "text"]);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    allowlisted_env(&mut command);
    match (engine, &settings.podman_runtime) {
        (ContainerEngine::Docker, _) => {}
        (ContainerEngine::Podman, None) => {
            command.args(["--docker-path", "podman"]);
        }
        (ContainerEngine::Podman, Some(runtime)) => {
            // The CLI runs one program as "docker": this executable, which adds the runtime.
            command
                .arg("--docker-path")
                .arg(&settings.shim_exe)
                .env(PODMAN_SHIM_ENV, "podman")
                .env(PODMAN_RUNTIME_ENV, runtime);
        }
    }
    command
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().map_err(|error| {
        UpFailure::permanent(if error.kind() == std::io::ErrorKind::NotFound {
            cli_missing(settings)
        } else {
            format!(
                "the Dev Containers CLI ({}) could not be started: {error}",
                settings.cli.display()
            )
        })
    })?;
    let output = match tokio::time::timeout(settings.up_timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(error)) => {
            return Err(UpFailure::permanent(format!(
                "devcontainer up failed: {error}"
            )));
        }
        Err(_) => {
            return Err(UpFailure::permanent(format!(
                "devcontainer up took longer than {} s and was stopped",
                settings.up_timeout.as_secs()
            )));
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let result = parse_result(&stdout);
    if output.status.success()
        && let Some(result) = &result
        && result.outcome == "success"
    {
        return result.container(engine).map_err(UpFailure::permanent);
    }
    let message = result
        .as_ref()
        .and_then(|r| r.message.clone().or_else(|| r.description.clone()))
        .unwrap_or_else(|| "no result".to_owned());
    let tail = stderr_tail(&stderr);
    let hint = if output.status.code() == Some(127) {
        " (exit status 127: is Node.js installed for the Dev Containers CLI?)"
    } else {
        ""
    };
    Err(UpFailure {
        transient: looks_transient(&tail),
        reason: format!(
            "devcontainer up failed ({}){hint}: {message}. Its output ended with: {tail}",
            output.status
        ),
    })
}

fn cli_missing(settings: &ContainerSettings) -> String {
    if settings.cli_from_env {
        format!(
            "the repository has a dev container configuration, but the Dev Containers CLI \
             {DEVCONTAINER_CLI_ENV} names ({}) does not exist. Point {DEVCONTAINER_CLI_ENV} at \
             the `devcontainer` program, or unset it to use the one on PATH.",
            settings.cli.display()
        )
    } else {
        "the repository has a dev container configuration, but the Dev Containers CLI is not \
         installed on this machine. Install it with `npm install -g @devcontainers/cli` \
         (Node.js 20 or newer), or set SAM_DEVCONTAINER_CLI to its path, then run the setup \
         again."
            .to_owned()
    }
}

/// The CLI's result line (`{"outcome": …}`), the last JSON object on stdout.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpResult {
    outcome: String,
    container_id: Option<String>,
    remote_user: Option<String>,
    remote_workspace_folder: Option<String>,
    message: Option<String>,
    description: Option<String>,
}

impl UpResult {
    fn container(&self, engine: ContainerEngine) -> Result<DevContainer, String> {
        let missing = |what: &str| format!("devcontainer up succeeded but reported no {what}");
        let container_id = self
            .container_id
            .clone()
            .ok_or_else(|| missing("container id"))?;
        let plain_id = !container_id.is_empty()
            && !container_id.starts_with('-')
            && container_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !plain_id {
            return Err(format!(
                "devcontainer up reported an unusable container id \"{}\"",
                tail_chars(&container_id, 80)
            ));
        }
        let remote_user = self
            .remote_user
            .clone()
            .filter(|u| !u.is_empty() && !u.contains('\0'))
            .ok_or_else(|| missing("remote user"))?;
        let remote_workspace_folder = self
            .remote_workspace_folder
            .clone()
            .filter(|f| f.starts_with('/') && !f.contains('\0'))
            .ok_or_else(|| missing("absolute remote workspace folder"))?;
        Ok(DevContainer {
            engine,
            container_id,
            remote_user,
            remote_workspace_folder,
        })
    }
}

fn parse_result(stdout: &str) -> Option<UpResult> {
    stdout
        .lines()
        .rev()
        .map(str::trim)
        .filter(|line| line.starts_with('{'))
        .find_map(|line| serde_json::from_str(line).ok())
}

/// The end of the CLI's log, without JavaScript stack frames.
fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim_start().starts_with("at ") && !line.trim().is_empty())
        .collect();
    tail_chars(lines.join("\n").trim(), STDERR_TAIL_CHARS)
}

/// Whether a failure looks like the network or a registry hiccuping (worth one retry) rather
/// than a broken configuration. The CLI's own fetch of its control manifest fails on every
/// offline run and says nothing about the failure.
fn looks_transient(tail: &str) -> bool {
    const SIGNS: [&str; 10] = [
        "TLS handshake timeout",
        "i/o timeout",
        "connection reset by peer",
        "Temporary failure in name resolution",
        "Too Many Requests",
        "Service Unavailable",
        "Bad Gateway",
        "Gateway Timeout",
        "ECONNRESET",
        "ETIMEDOUT",
    ];
    tail.lines()
        .filter(|line| !line.contains("control manifest"))
        .any(|line| SIGNS.iter().any(|sign| line.contains(sign)))
}

/// The command that runs `argv` inside `container`, in its remote workspace folder as its
/// remote user. `argv` must be non-empty (checked by the caller).
pub(crate) fn exec_command(
    settings: &ContainerSettings,
    container: &DevContainer,
    argv: &[String],
) -> Command {
    let mut command = settings.engine_command(container.engine);
    command
        .arg("exec")
        .arg(format!("--workdir={}", container.remote_workspace_folder))
        .arg(format!("--user={}", container.remote_user))
        .arg(&container.container_id)
        .args(argv);
    command
}

/// The command that runs `argv` in `container` with its stdin attached (`exec -i`). With
/// `env_on_stdin`, a shell in the container first reads environment variables from stdin
/// (the caller writes [`env_preamble`] there before anything else), exports them and execs
/// `argv`, which then reads the rest of stdin.
///
/// Not `exec -e NAME`: the engine keeps what it is handed there — podman writes an exec
/// session's environment into its database and into an exec spec file on disk — and the
/// engine process itself would run with the session's variables (a session's `HOME` or
/// `PATH` changes which podman runs and which storage it looks in). Nor `exec -e NAME=value`:
/// values never appear in an argv.
pub(crate) fn exec_interactive(
    settings: &ContainerSettings,
    container: &DevContainer,
    argv: &[String],
    env_on_stdin: bool,
) -> Command {
    let mut command = settings.engine_command(container.engine);
    command
        .arg("exec")
        .arg("-i")
        .arg(format!("--workdir={}", container.remote_workspace_folder))
        .arg(format!("--user={}", container.remote_user))
        .arg(&container.container_id);
    if env_on_stdin {
        command.args(["/bin/sh", "-c", ENV_READER, "sam-env"]);
    }
    command.args(argv);
    command
}

/// Reads `NAME=value` lines from stdin up to an empty line, values escaped for `printf %b` as
/// [`env_preamble`] writes them, exports them and execs its arguments. The shell's `read`
/// takes a pipe a byte at a time, so what follows the empty line is left for the program; the
/// values go through shell builtins only, never an argv. The `x` keeps trailing newlines,
/// which a command substitution drops. The reader's own variables are not exported.
const ENV_READER: &str = concat!(
    r#"while IFS= read -r _sam_env_line && [ -n "$_sam_env_line" ]; do "#,
    r#"_sam_env_value=$(printf '%bx' "${_sam_env_line#*=}") && "#,
    r#"export "${_sam_env_line%%=*}=${_sam_env_value%x}" || exit 125; "#,
    r#"done; exec "$@""#,
);

/// What [`exec_interactive`] with `env_on_stdin` reads first from stdin: one `NAME=value` line
/// a variable, `\` and newlines in values escaped (`\\`, `\n`), then an empty line. Names
/// and values hold no NUL, names no `=` or newline (checked before any launch).
pub(crate) fn env_preamble(env: &[EnvVar]) -> Vec<u8> {
    let mut preamble = String::new();
    for var in env {
        preamble.push_str(&var.name);
        preamble.push('=');
        for c in var.value.expose().chars() {
            match c {
                '\\' => preamble.push_str("\\\\"),
                '\n' => preamble.push_str("\\n"),
                c => preamble.push(c),
            }
        }
        preamble.push('\n');
    }
    preamble.push('\n');
    preamble.into_bytes()
}

/// How long removing a container may take (stopping it included).
const REMOVE_TIMEOUT: Duration = Duration::from_secs(60);

/// Removes `container`: `<engine> rm --force --volumes <id>` with the engine that made it,
/// so the container is stopped and removed with its anonymous volumes. Only that id is
/// named: no label or name filter that could match a container the user made from the same
/// folder. A container that is gone already counts as removed.
///
/// # Errors
/// The engine's failure, for the user (its command line and the end of its error output).
pub(crate) async fn remove(
    settings: &ContainerSettings,
    container: &DevContainer,
) -> Result<(), String> {
    let mut command = settings.engine_command(container.engine);
    command
        .args(["rm", "--force", "--volumes"])
        .arg(&container.container_id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let engine = container.engine;
    let child = match command.spawn() {
        Ok(child) => child,
        // The engine was uninstalled since: nothing of it runs any more, and refusing would
        // leave the workspace undeletable.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(%engine, "the container engine is gone; nothing to remove");
            return Ok(());
        }
        Err(error) => return Err(format!("`{engine} rm` could not be started: {error}")),
    };
    let output = match tokio::time::timeout(REMOVE_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(error)) => return Err(format!("`{engine} rm` failed: {error}")),
        Err(_) => {
            return Err(format!(
                "`{engine} rm` did not finish within {} s",
                REMOVE_TIMEOUT.as_secs()
            ));
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() || stderr.to_ascii_lowercase().contains("no such container") {
        return Ok(());
    }
    Err(format!(
        "`{engine} rm --force --volumes {}` failed ({}): {}. Remove the container by hand with \
         that command.",
        container.container_id,
        output.status,
        tail_chars(stderr.trim(), 300)
    ))
}

/// Clears `command`'s environment but for [`PASSED_ENV`].
fn allowlisted_env(command: &mut Command) {
    command.env_clear();
    for name in PASSED_ENV {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
}

/// What `sam-host` does as the podman wrapper ([`PODMAN_SHIM_ENV`]): the podman program and the
/// arguments to run it with (`--runtime <runtime>` first), or `None` when the environment does
/// not ask for the wrapper.
pub fn podman_shim_command(args: Vec<OsString>) -> Option<(OsString, Vec<OsString>)> {
    let podman = std::env::var_os(PODMAN_SHIM_ENV).filter(|v| !v.is_empty())?;
    let mut full = Vec::with_capacity(args.len() + 2);
    if let Some(runtime) = std::env::var_os(PODMAN_RUNTIME_ENV).filter(|v| !v.is_empty()) {
        full.push(OsString::from("--runtime"));
        full.push(runtime);
    }
    full.extend(args);
    Some((podman, full))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn the_result_line_is_the_last_json_object_on_stdout() {
        let stdout = "noise\n{\"outcome\":\"success\",\"containerId\":\"abc123\",\"remoteUser\":\"vscode\",\
                      \"remoteWorkspaceFolder\":\"/workspaces/x\",\"extra\":{}}\n";
        let result = parse_result(stdout).unwrap();
        assert_eq!(result.outcome, "success");
        assert_eq!(
            result.container(ContainerEngine::Podman).unwrap(),
            DevContainer {
                engine: ContainerEngine::Podman,
                container_id: "abc123".into(),
                remote_user: "vscode".into(),
                remote_workspace_folder: "/workspaces/x".into(),
            }
        );
        let error =
            parse_result(r#"{"outcome":"error","message":"broken","description":"d"}"#).unwrap();
        assert_eq!(error.message.as_deref(), Some("broken"));
        assert!(parse_result("not json").is_none());
    }

    #[test]
    fn odd_container_ids_and_relative_folders_are_refused() {
        let result = |id: &str, folder: &str| UpResult {
            outcome: "success".into(),
            container_id: Some(id.into()),
            remote_user: Some("root".into()),
            remote_workspace_folder: Some(folder.into()),
            message: None,
            description: None,
        };
        let engine = ContainerEngine::Docker;
        assert!(result("--privileged", "/w").container(engine).is_err());
        assert!(result("a b", "/w").container(engine).is_err());
        assert!(result("", "/w").container(engine).is_err());
        assert!(result("abc", "w").container(engine).is_err());
        assert!(result("abc_1.x-2", "/w").container(engine).is_ok());
    }

    #[test]
    fn only_network_trouble_is_retried() {
        let offline = "Failed to fetch control manifest: getaddrinfo ETIMEDOUT containers.dev\n\
                       Error: Dev container config is missing one of \"image\"";
        assert!(!looks_transient(offline));
        assert!(looks_transient(
            "Error: pulling image: net/http: TLS handshake timeout"
        ));
    }

    #[test]
    fn the_environment_goes_through_the_container_shell_whole() {
        use std::io::Write;
        let awkward = "two\nlines, back\\slash \\n \\0101 \\c $HOME %s `x` 'q' \"d\"\t \n\n";
        let env: Vec<EnvVar> = [("AWKWARD", awkward), ("EMPTY", ""), ("PLAIN", "p=q")]
            .into_iter()
            .map(|(name, value)| EnvVar {
                name: name.into(),
                value: sam_protocol::Secret::new(value),
            })
            .collect();
        // The host's sh stands in for the container's: the reader is POSIX sh.
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", ENV_READER, "sam-env", "/bin/sh", "-c"])
            .arg(r#"printf '%s|%s|%s|%s|' "$AWKWARD" "${EMPTY-unset}" "$PLAIN" "${_sam_env_line-none}"; cat"#)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&env_preamble(&env)).unwrap();
        stdin.write_all(b"{\"jsonrpc\":\"2.0\"}\n").unwrap();
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            format!("{awkward}||p=q|none|{{\"jsonrpc\":\"2.0\"}}\n")
        );
    }

    #[test]
    fn stack_frames_are_dropped_from_the_tail() {
        let stderr = "[t] start\nError: Command failed: podman pull x\n    at sW (/cli.js:1:2)\n    at async kW (/cli.js:3:4)\n";
        assert_eq!(
            stderr_tail(stderr),
            "[t] start\nError: Command failed: podman pull x"
        );
    }
}

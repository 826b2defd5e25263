//! Real containers for the dev container tests: podman, a local base image and the pinned Dev
//! Containers CLI. Images cannot be pulled on the test machines, so the base image is built
//! once from a `debootstrap` root and cached (the image in podman's store, the root as a
//! tarball under `~/.cache/sam-desktop/`). A missing tool fails the test with what to install:
//! these tests are never skipped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

/// The image the test repositories' `devcontainer.json` names.
pub const BASE_IMAGE: &str = "localhost/sam-test-base:bookworm";

/// Where `debootstrap` fetches Debian from.
const DEBIAN_MIRROR: &str = "http://deb.debian.org/debian";

/// What the setup script installs for these tests.
const INSTALL_HINT: &str = "run `scripts/setup.sh --test` (it installs podman, runc and \
                            debootstrap, and the Dev Containers CLI in tools/devcontainer)";

/// Podman, configured for this machine, the CLI, and the base image.
#[derive(Debug)]
pub struct ContainerTools {
    /// The Dev Containers CLI.
    pub cli: PathBuf,
    /// The `CONTAINERS_CONF` podman runs with.
    pub containers_conf: PathBuf,
    /// The OCI runtime podman runs with.
    pub runtime: String,
}

impl ContainerTools {
    /// The tools, prepared once per test process (building the base image if needed).
    /// Panics, saying what to install, when something is missing.
    pub fn get() -> &'static ContainerTools {
        static TOOLS: OnceLock<Result<ContainerTools, String>> = OnceLock::new();
        match TOOLS.get_or_init(prepare) {
            Ok(tools) => tools,
            Err(message) => panic!("the dev container tests cannot run: {message}"),
        }
    }

    /// Sets what a daemon needs to bring containers up with podman here.
    pub fn configure_daemon(&self, command: &mut Command) {
        command
            .env("SAM_DEVCONTAINER_CLI", &self.cli)
            .env("SAM_CONTAINER_ENGINE", "podman")
            .env("SAM_PODMAN_RUNTIME", &self.runtime)
            .env("CONTAINERS_CONF", &self.containers_conf);
    }

    /// `podman` with this machine's settings.
    pub fn podman(&self) -> Command {
        let mut command = Command::new("podman");
        command
            .arg("--runtime")
            .arg(&self.runtime)
            .env("CONTAINERS_CONF", &self.containers_conf);
        command
    }

    /// The ids of the dev containers `devcontainer up` made for `folder`.
    pub fn containers_of(&self, folder: &Path) -> Vec<String> {
        let output = self
            .podman()
            .args(["ps", "--all", "--quiet", "--no-trunc", "--filter"])
            .arg(format!(
                "label=devcontainer.local_folder={}",
                folder.display()
            ))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "podman ps failed: {}",
            stderr(&output)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Removes the dev containers of `folder`.
    pub fn remove_containers_of(&self, folder: &Path) {
        for id in self.containers_of(folder) {
            let _ = self.podman().args(["rm", "--force", &id]).output();
        }
    }
}

/// Removes a checkout's dev containers when dropped, also when the test fails.
pub struct ContainerCleanup {
    tools: &'static ContainerTools,
    folder: PathBuf,
}

impl ContainerCleanup {
    /// Cleans up after the containers of `folder` (as `devcontainer up` saw it: canonical).
    pub fn new(tools: &'static ContainerTools, folder: &Path) -> Self {
        Self {
            tools,
            folder: folder.to_path_buf(),
        }
    }
}

impl Drop for ContainerCleanup {
    fn drop(&mut self) {
        self.tools.remove_containers_of(&self.folder);
    }
}

fn prepare() -> Result<ContainerTools, String> {
    let version = Command::new("podman").arg("--version").output();
    if !version.is_ok_and(|o| o.status.success()) {
        return Err(format!("podman is not installed: {INSTALL_HINT}"));
    }
    let cli = match std::env::var_os("SAM_DEVCONTAINER_CLI").filter(|v| !v.is_empty()) {
        Some(cli) => PathBuf::from(cli),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tools/devcontainer/node_modules/.bin/devcontainer"),
    };
    let cli_works = Command::new(&cli)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !cli_works {
        return Err(format!(
            "the Dev Containers CLI does not run at {}: {INSTALL_HINT}",
            cli.display()
        ));
    }
    let cache = cache_dir()?;
    let containers_conf = match std::env::var_os("CONTAINERS_CONF").filter(|v| !v.is_empty()) {
        Some(conf) => PathBuf::from(conf),
        None => {
            // Podman's default rlimits fail inside these VMs.
            let conf = cache.join("containers.conf");
            write_atomically(&conf, b"[containers]\ndefault_ulimits = []\n")?;
            conf
        }
    };
    let runtime = std::env::var("SAM_PODMAN_RUNTIME").unwrap_or_else(|_| "runc".to_owned());
    let tools = ContainerTools {
        cli,
        containers_conf,
        runtime,
    };
    let info = tools
        .podman()
        .arg("info")
        .output()
        .map_err(|e| format!("podman info could not run: {e}"))?;
    if !info.status.success() {
        return Err(format!(
            "`podman --runtime {} info` fails ({}); is {} installed? {INSTALL_HINT}",
            tools.runtime,
            stderr(&info),
            tools.runtime
        ));
    }
    ensure_base_image(&tools, &cache)?;
    Ok(tools)
}

/// Builds [`BASE_IMAGE`] unless podman has it: from the cached root tarball, or from a fresh
/// `debootstrap` (which is then cached). Locked, so parallel test processes build it once.
fn ensure_base_image(tools: &ContainerTools, cache: &Path) -> Result<(), String> {
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(cache.join("sam-test-base.lock"))
        .map_err(|e| format!("cannot create the image lock in {}: {e}", cache.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot take the image lock: {e}"))?;
    let exists = tools
        .podman()
        .args(["image", "exists", BASE_IMAGE])
        .status()
        .map_err(|e| format!("podman image exists failed: {e}"))?;
    if exists.success() {
        return Ok(());
    }
    let tarball = cache.join("sam-test-base-bookworm.tar.gz");
    if !tarball.is_file() {
        debootstrap_tarball(cache, &tarball)?;
    }
    let started = Instant::now();
    let import = tools
        .podman()
        .arg("import")
        .arg(&tarball)
        .arg(BASE_IMAGE)
        .output()
        .map_err(|e| format!("podman import could not run: {e}"))?;
    if !import.status.success() {
        return Err(format!(
            "podman import of {} failed: {}",
            tarball.display(),
            stderr(&import)
        ));
    }
    eprintln!(
        "built {BASE_IMAGE} from {} in {:.1} s",
        tarball.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A minimal Debian bookworm root, as a gzipped tarball at `tarball`.
fn debootstrap_tarball(cache: &Path, tarball: &Path) -> Result<(), String> {
    let available = Command::new("debootstrap")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        return Err(format!(
            "the base image {BASE_IMAGE} is missing and debootstrap is not installed to build \
             it: {INSTALL_HINT}"
        ));
    }
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("debootstrap-")
        .tempdir_in(cache)
        .map_err(|e| format!("cannot create a work folder in {}: {e}", cache.display()))?;
    let root = work.path().join("root");
    let debootstrap = Command::new("debootstrap")
        .args(["--variant=minbase", "bookworm"])
        .arg(&root)
        .arg(DEBIAN_MIRROR)
        .output()
        .map_err(|e| format!("debootstrap could not run: {e}"))?;
    if !debootstrap.status.success() {
        return Err(format!(
            "debootstrap of bookworm from {DEBIAN_MIRROR} failed (it needs root and the \
             mirror): {}",
            tail(&String::from_utf8_lossy(&debootstrap.stdout), 1500)
        ));
    }
    let partial = work.path().join("root.tar.gz");
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-czf")
        .arg(&partial)
        .arg(".")
        .output()
        .map_err(|e| format!("tar could not run: {e}"))?;
    if !tar.status.success() {
        return Err(format!("packing the root failed: {}", stderr(&tar)));
    }
    std::fs::rename(&partial, tarball)
        .map_err(|e| format!("cannot keep {}: {e}", tarball.display()))?;
    eprintln!(
        "debootstrapped bookworm into {} in {:.1} s",
        tarball.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `$XDG_CACHE_HOME/sam-desktop`, else `~/.cache/sam-desktop`.
fn cache_dir() -> Result<PathBuf, String> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .ok_or("neither XDG_CACHE_HOME nor HOME is set")?;
    let dir = base.join("sam-desktop");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), String> {
    if std::fs::read(path).is_ok_and(|c| c == contents) {
        return Ok(());
    }
    let partial = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&partial, contents)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn stderr(output: &Output) -> String {
    tail(String::from_utf8_lossy(&output.stderr).trim(), 1500)
}

fn tail(text: &str, max: usize) -> String {
    let count = text.chars().count();
    text.chars().skip(count.saturating_sub(max)).collect()
}

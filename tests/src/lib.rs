//! The end-to-end harness: the real `sam-desktop` binary, driven over WebDriver
//! (`tauri-driver` in front of WebKitWebDriver) under Xvfb, with real D-Bus services standing
//! in for the desktop: a freedesktop notification server and a StatusNotifierWatcher (the
//! tray host), both recording what the app sends them.
//!
//! The suite expects to run inside `xvfb-run` and `dbus-run-session` (the README's test
//! command and `scripts/test.sh e2e` set that up) and fails with a clear message otherwise.

pub mod bus;
pub mod driver;
pub mod sound;
pub mod transcription;

use std::future::Future;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Where screenshots and logs of the run go (`artifacts/e2e`, ignored by git).
pub fn artifacts_dir() -> PathBuf {
    std::env::var_os("SAM_ARTIFACTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("artifacts").join("e2e"))
}

/// The cargo profile directory of the running test or bench binary (`target/<profile>`).
pub fn profile_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test-binary> or target/<profile>/<bin>
    let mut dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    Ok(dir)
}

/// The app binary under test: `SAM_APP_BINARY`, else `sam-desktop` in this build's profile.
pub fn app_binary() -> anyhow::Result<PathBuf> {
    let path = match std::env::var_os("SAM_APP_BINARY") {
        Some(path) => PathBuf::from(path),
        None => profile_dir()?.join("sam-desktop"),
    };
    anyhow::ensure!(
        path.is_file(),
        "the app binary {} does not exist: build it first (cargo build -p sam-desktop) or set SAM_APP_BINARY",
        path.display()
    );
    Ok(path)
}

/// Polls `probe` every 50 ms until it breaks with a value, or fails after `timeout` with
/// `what` and the last thing the probe reported (its `Continue` value).
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<ControlFlow<T, String>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let last_seen = match probe().await? {
            ControlFlow::Break(value) => return Ok(value),
            ControlFlow::Continue(seen) => seen,
        };
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}; last seen: {last_seen}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

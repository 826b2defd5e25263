//! Launching the app under `tauri-driver` and talking WebDriver to it.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use fantoccini::{Client, ClientBuilder, Locator};
use tokio::process::{Child, Command};

/// How long any single UI wait may take before the test fails.
pub const UI_TIMEOUT: Duration = Duration::from_secs(30);

/// `tauri-driver` on PATH or in cargo's bin folder.
pub fn tauri_driver() -> anyhow::Result<PathBuf> {
    if let Ok(path) = which_in_path("tauri-driver") {
        return Ok(path);
    }
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|d| d.join("bin").join("tauri-driver"));
    match cargo_bin {
        Some(path) if path.is_file() => Ok(path),
        _ => anyhow::bail!(
            "tauri-driver is not installed: cargo install tauri-driver --locked (scripts/setup.sh does)"
        ),
    }
}

fn which_in_path(name: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").context("no PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("{name} not on PATH"))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// How to start the app for one session.
#[derive(Debug, Clone)]
pub struct Launch {
    pub app: PathBuf,
    pub data_dir: PathBuf,
    /// Extra environment for the app (and the driver, which passes it on).
    pub env: Vec<(String, String)>,
    /// Wraps the driver command, e.g. `["unshare", "-m", "--", "sh", "-c", "..."]`; the
    /// driver's own argv is appended as positional arguments.
    pub wrapper: Vec<String>,
}

impl Launch {
    pub fn new(app: PathBuf, data_dir: &Path) -> Self {
        Self {
            app,
            data_dir: data_dir.to_path_buf(),
            env: Vec::new(),
            wrapper: Vec::new(),
        }
    }
}

/// A running app with a WebDriver session on it.
pub struct Session {
    pub client: Client,
    driver: Child,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session {
    /// Starts `tauri-driver`, which starts WebKitWebDriver, which starts the app.
    pub async fn start(launch: &Launch) -> anyhow::Result<Self> {
        anyhow::ensure!(
            std::env::var_os("DISPLAY").is_some(),
            "no DISPLAY: run the end-to-end suite under xvfb-run (scripts/test.sh e2e does)"
        );
        let driver_bin = tauri_driver()?;
        let port = free_port()?;
        let native_port = free_port()?;
        let driver_argv = [
            driver_bin.display().to_string(),
            "--port".into(),
            port.to_string(),
            "--native-port".into(),
            native_port.to_string(),
        ];
        let mut command = match launch.wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).args(&driver_argv);
                c
            }
            None => {
                let mut c = Command::new(&driver_argv[0]);
                c.args(&driver_argv[1..]);
                c
            }
        };
        let log_path = crate::artifacts_dir().join(format!("tauri-driver-{port}.log"));
        std::fs::create_dir_all(crate::artifacts_dir())?;
        let log = std::fs::File::create(&log_path)?;
        command
            .env("SAM_DATA_DIR", &launch.data_dir)
            .env("SAM_LOG", "info,sam_desktop=debug")
            .envs(launch.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group, so the app and WebKit's processes can be stopped together
            // even when a failing test never closes the session.
            .process_group(0)
            .kill_on_drop(true);
        let driver = command.spawn().context("starting tauri-driver")?;
        let url = format!("http://127.0.0.1:{port}");
        wait_for_driver(&url).await?;

        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), serde_json::json!("wry"));
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": launch.app }),
        );
        let client = tokio::time::timeout(
            UI_TIMEOUT,
            ClientBuilder::native().capabilities(caps).connect(&url),
        )
        .await
        .context("the WebDriver session did not start in time")?
        .with_context(|| {
            format!(
                "starting a WebDriver session (driver log: {})",
                log_path.display()
            )
        })?;
        Ok(Self { client, driver })
    }

    /// Waits for an element by `data-testid`.
    pub async fn wait_testid(&self, testid: &str) -> anyhow::Result<fantoccini::elements::Element> {
        let selector = format!("[data-testid=\"{testid}\"]");
        self.client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(&selector))
            .await
            .with_context(|| format!("waiting for [data-testid={testid}]"))
    }

    /// Waits until the element's text satisfies `wanted`, returning the text.
    pub async fn wait_text(
        &self,
        testid: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> anyhow::Result<String> {
        let what = format!("the expected text in [data-testid={testid}]");
        crate::eventually(UI_TIMEOUT, &what, || async {
            let text = self.wait_testid(testid).await?.text().await?;
            Ok(if wanted(&text) {
                ControlFlow::Break(text)
            } else {
                ControlFlow::Continue(text)
            })
        })
        .await
    }

    /// Saves a PNG of the webview to the artifacts folder and returns its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        // WebKit snapshots the last composited frame, which under software GL can trail the
        // DOM by a moment: wait for two animation frames (a paint after the latest change).
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await?;
        tokio::time::sleep(Duration::from_millis(250)).await;
        let png = self.client.screenshot().await?;
        anyhow::ensure!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        let path = crate::artifacts_dir().join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Ends the session (the driver closes the app) and stops the driver.
    pub async fn close(self) -> anyhow::Result<()> {
        let closed = self.client.clone().close().await;
        drop(self);
        closed?;
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // The app is a grandchild of the driver; a leftover instance would take the next
        // test's launch over (the app is single-instance), so stop the whole group.
        if let Some(pid) = self.driver.id().filter(|pid| *pid > 1) {
            // `--` matters: procps' kill reads `-KILL -1234` as options and, as root, may
            // signal every process (seen here: it took the whole machine down).
            let _ = std::process::Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

async fn wait_for_driver(url: &str) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = url.trim_start_matches("http://").to_owned();
    let what = format!("tauri-driver to answer {url}/status");
    crate::eventually(Duration::from_secs(20), &what, || async {
        // A plain HTTP/1.0 GET: the driver answers /status as soon as it listens.
        let Ok(mut stream) = tokio::net::TcpStream::connect(&authority).await else {
            return Ok(ControlFlow::Continue("connection refused".into()));
        };
        let request = format!("GET /status HTTP/1.0\r\nHost: {authority}\r\n\r\n");
        let mut reply = Vec::new();
        if stream.write_all(request.as_bytes()).await.is_ok() {
            let _ = stream.read_to_end(&mut reply).await;
        }
        Ok(
            if reply.starts_with(b"HTTP/1.1 200") || reply.starts_with(b"HTTP/1.0 200") {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(
                    String::from_utf8_lossy(&reply)
                        .lines()
                        .next()
                        .unwrap_or("no reply")
                        .to_owned(),
                )
            },
        )
    })
    .await
}

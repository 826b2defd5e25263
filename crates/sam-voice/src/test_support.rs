//! Real parts for the capture tests and `voice-bench` (feature `test-support`; the app never
//! enables it): a private PulseAudio server with a virtual microphone, and speech from
//! espeak-ng.
//!
//! The server has its own runtime dir and socket, no autospawn and no D-Bus, and is killed when
//! dropped. Clients reach it through [`PulseServer::env`]; libpulse and ALSA's `pulse` plugin
//! read that environment, which a running process cannot change for itself without `unsafe`,
//! so tests and the bench run their capture side in a child process started with it.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The null sink the [`Microphone::SinkMonitor`] layout plays into.
pub const SINK: &str = "voice_out";
/// The virtual source (the "microphone") fed by [`SINK`]'s monitor.
pub const SOURCE: &str = "voice_mic";
/// The pipe source of the [`Microphone::Pipe`] layout.
pub const PIPE_SOURCE: &str = "voice_pipe";

/// Why the private sound server or the speech could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TestServerError {
    /// A tool the real-parts tests need is not installed.
    #[error(
        "`{tool}` is not installed, and the voice tests and bench need it (real sound server, real speech). Install: apt-get install -y {packages}"
    )]
    Missing {
        tool: &'static str,
        packages: &'static str,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The daemon exited or did not answer in time; its log says why.
    #[error("pulseaudio did not come up: {reason}\n{log}")]
    NotReady { reason: String, log: String },
    #[error("{0}")]
    Failed(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TestServerError {
    let what = what.into();
    move |source| TestServerError::Io { what, source }
}

/// The path of `tool` on `PATH`, or why the tests cannot run.
pub fn require(tool: &'static str, packages: &'static str) -> Result<PathBuf, TestServerError> {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(tool))
                .find(|p| p.is_file())
        })
        .ok_or(TestServerError::Missing { tool, packages })
}

/// What the server's default source (the microphone the app opens) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Microphone {
    /// [`SOURCE`], a virtual source hearing the monitor of the null sink [`SINK`]: play files
    /// into the sink (`paplay --device=voice_out`). The null sink runs on a timer, so the
    /// microphone hears silence when nothing plays.
    SinkMonitor,
    /// [`PIPE_SOURCE`], reading signed 16-bit little-endian mono at `rate` Hz from the FIFO at
    /// [`PulseServer::pipe_path`]: whoever writes it is the microphone's clock, and a sample is
    /// in the sound server as soon as `write` returns. Write continuously (silence included).
    Pipe { rate: u32 },
}

/// A PulseAudio daemon of the caller's own, gone when dropped.
#[derive(Debug)]
pub struct PulseServer {
    dir: tempfile::TempDir,
    child: Option<Child>,
    socket: PathBuf,
    microphone: Microphone,
}

impl PulseServer {
    /// Starts the daemon with `microphone` as its default source and waits until it answers.
    pub fn start(microphone: Microphone) -> Result<Self, TestServerError> {
        let pulseaudio = require(
            "pulseaudio",
            "pulseaudio pulseaudio-utils libasound2-plugins",
        )?;
        require("pactl", "pulseaudio-utils")?;
        require("paplay", "pulseaudio-utils")?;
        let dir = tempfile::tempdir().map_err(io("a folder for pulseaudio"))?;
        for sub in ["runtime", "home", "state"] {
            let path = dir.path().join(sub);
            std::fs::create_dir_all(&path).map_err(io(format!("creating {}", path.display())))?;
        }
        let socket = dir.path().join("runtime/native");
        let mut script = format!(
            "load-module module-native-protocol-unix auth-anonymous=1 socket={socket}\n\
             load-module module-null-sink sink_name={SINK} rate=48000 channels=2\n\
             set-default-sink {SINK}\n",
            socket = socket.display()
        );
        match microphone {
            Microphone::SinkMonitor => script.push_str(&format!(
                "load-module module-virtual-source source_name={SOURCE} master={SINK}.monitor\n\
                 set-default-source {SOURCE}\n"
            )),
            Microphone::Pipe { rate } => script.push_str(&format!(
                "load-module module-pipe-source source_name={PIPE_SOURCE} file={fifo} \
                 format=s16le rate={rate} channels=1\n\
                 set-default-source {PIPE_SOURCE}\n",
                fifo = dir.path().join("mic.fifo").display()
            )),
        }
        let script_path = dir.path().join("server.pa");
        std::fs::write(&script_path, script).map_err(io("writing server.pa"))?;
        let log = File::create(dir.path().join("pulseaudio.log"))
            .map_err(io("creating pulseaudio.log"))?;
        let child = Command::new(pulseaudio)
            .args([
                "--daemonize=no",
                "--system=false",
                "--exit-idle-time=-1",
                "--disallow-exit",
                "--no-cpu-limit",
                "--use-pid-file=no",
                "--log-target=stderr",
                "--log-level=warning",
                "-n",
                "-F",
            ])
            .arg(&script_path)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path().join("home"))
            .env("XDG_RUNTIME_DIR", dir.path().join("runtime"))
            .env("PULSE_RUNTIME_PATH", dir.path().join("runtime"))
            .env("PULSE_STATE_PATH", dir.path().join("state"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(io("starting pulseaudio"))?;
        let mut server = Self {
            dir,
            child: Some(child),
            socket,
            microphone,
        };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<(), TestServerError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answered = Command::new("pactl")
                .arg("info")
                .envs(self.env())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if answered && self.pipe_path().is_none_or(|p| p.exists()) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(TestServerError::NotReady {
                    reason: format!("it exited ({status})"),
                    log: self.log(),
                });
            }
            if Instant::now() >= deadline {
                return Err(TestServerError::NotReady {
                    reason: "no answer in 10 s".into(),
                    log: self.log(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The daemon's own log (warnings and errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pulseaudio.log")).unwrap_or_default()
    }

    /// The daemon's process id (0 once it was reaped).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// The daemon's private folder (runtime dir, socket, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The FIFO of a [`Microphone::Pipe`] (created by the daemon).
    pub fn pipe_path(&self) -> Option<PathBuf> {
        match self.microphone {
            Microphone::Pipe { .. } => Some(self.dir.path().join("mic.fifo")),
            Microphone::SinkMonitor => None,
        }
    }

    /// What a client needs to reach this server (and only this server).
    pub fn env(&self) -> Vec<(String, String)> {
        let d = self.dir.path();
        let runtime = d.join("runtime").display().to_string();
        vec![
            (
                "PULSE_SERVER".into(),
                format!("unix:{}", self.socket.display()),
            ),
            ("XDG_RUNTIME_DIR".into(), runtime.clone()),
            ("PULSE_RUNTIME_PATH".into(), runtime),
            ("HOME".into(), d.join("home").display().to_string()),
        ]
    }
}

impl Drop for PulseServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The writing end of a [`Microphone::Pipe`]: mono `f32` samples in, s16le out.
#[derive(Debug)]
pub struct PipeWriter {
    fifo: File,
    bytes: Vec<u8>,
}

impl PipeWriter {
    /// Opens the FIFO (the daemon holds it open, so this does not wait for a reader).
    pub fn open(path: &Path) -> Result<Self, TestServerError> {
        let fifo = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io(format!("opening {}", path.display())))?;
        Ok(Self {
            fifo,
            bytes: Vec::new(),
        })
    }

    /// Writes `samples` (clamped to -1.0..=1.0) in one `write` when they fit the pipe's
    /// atomic size (4 KiB: 2048 samples).
    pub fn write(&mut self, samples: &[f32]) -> Result<(), TestServerError> {
        self.bytes.clear();
        for &s in samples {
            let v = (s.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16;
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }
        self.fifo
            .write_all(&self.bytes)
            .map_err(io("writing the microphone FIFO"))
    }
}

/// Mono speech and its rate.
#[derive(Debug, Clone)]
pub struct Speech {
    pub samples: Vec<f32>,
    pub rate: u32,
}

/// `text` spoken by espeak-ng (US English, 150 wpm) into `dir`, trimmed of its leading and
/// trailing silence so a phrase's length is its speech.
pub fn speak(text: &str, dir: &Path) -> Result<Speech, TestServerError> {
    let espeak = require("espeak-ng", "espeak-ng")?;
    let path = dir.join(format!("espeak-{}.wav", text.len()));
    let status = Command::new(espeak)
        .args(["-v", "en-us", "-s", "150", "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .map_err(io("running espeak-ng"))?;
    if !status.success() {
        return Err(TestServerError::Failed(format!(
            "espeak-ng failed ({status}) on {text:?}"
        )));
    }
    let bytes = std::fs::read(&path).map_err(io(format!("reading {}", path.display())))?;
    let decoded = crate::decode_wav(&bytes).map_err(|e| TestServerError::Failed(e.to_string()))?;
    let mono = crate::downmix(&decoded.samples, usize::from(decoded.channels));
    let first = mono.iter().position(|v| v.abs() > 0.01).unwrap_or(0);
    let last = mono
        .iter()
        .rposition(|v| v.abs() > 0.01)
        .unwrap_or(mono.len().saturating_sub(1));
    Ok(Speech {
        samples: mono.get(first..=last).unwrap_or_default().to_vec(),
        rate: decoded.sample_rate,
    })
}

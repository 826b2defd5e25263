//! A real sound server for the voice flow: a PulseAudio daemon private to the test (its own
//! socket and runtime folder, no autospawn, no D-Bus) with a null sink whose monitor feeds a
//! virtual source, the "microphone". Speech made with espeak-ng is played into the sink, and
//! the app hears it through its normal capture path (cpal → ALSA's `default` → the `pulse`
//! plugin from libasound2-plugins → this server).
//!
//! Only `PULSE_SERVER` has to reach the app: Debian's `/etc/alsa/conf.d/99-pulse.conf` makes
//! ALSA's default device PulseAudio whenever a server answers, and `PULSE_SERVER` says which.
//! (Adapted from `crates/sam-voice/tests/common`; the e2e crate does not share test code.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// The sink clips are played into; its monitor feeds the virtual source [`SOURCE`].
pub const SINK: &str = "e2e_voice_out";
/// The virtual microphone, the server's default source.
pub const SOURCE: &str = "e2e_voice_mic";

fn require(tool: &str, packages: &str) -> anyhow::Result<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(tool))
                .find(|p| p.is_file())
        })
        .with_context(|| {
            format!(
                "`{tool}` is not installed; the voice flow needs a real sound server and real speech \
                 (apt-get install -y {packages}; scripts/setup.sh does)"
            )
        })
}

/// A PulseAudio daemon of the test's own, stopped when dropped.
#[derive(Debug)]
pub struct PulseServer {
    dir: tempfile::TempDir,
    child: Option<Child>,
    socket: PathBuf,
}

impl PulseServer {
    pub fn start() -> anyhow::Result<Self> {
        let pulseaudio = require(
            "pulseaudio",
            "pulseaudio pulseaudio-utils libasound2-plugins",
        )?;
        require("pactl", "pulseaudio-utils")?;
        require("paplay", "pulseaudio-utils")?;
        let dir = tempfile::tempdir()?;
        for sub in ["runtime", "home", "state"] {
            std::fs::create_dir_all(dir.path().join(sub))?;
        }
        let socket = dir.path().join("runtime/native");
        let script = dir.path().join("server.pa");
        std::fs::write(
            &script,
            format!(
                "load-module module-native-protocol-unix auth-anonymous=1 socket={socket}\n\
                 load-module module-null-sink sink_name={SINK} rate=48000 channels=2\n\
                 load-module module-virtual-source source_name={SOURCE} master={SINK}.monitor\n\
                 set-default-sink {SINK}\n\
                 set-default-source {SOURCE}\n",
                socket = socket.display()
            ),
        )?;
        let log = std::fs::File::create(dir.path().join("pulseaudio.log"))?;
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
            .arg(&script)
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
            .context("starting pulseaudio")?;
        let mut server = Self {
            dir,
            child: Some(child),
            socket,
        };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.pactl(&["info"]).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                anyhow::bail!(
                    "pulseaudio exited ({status}) before it was ready:\n{}",
                    self.log()
                );
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "pulseaudio did not come up in 10 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The daemon's log (warnings and errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pulseaudio.log")).unwrap_or_default()
    }

    /// What a client (the app, `paplay`, `pactl`) needs to reach this server and only it.
    pub fn client_env(&self) -> Vec<(String, String)> {
        vec![(
            "PULSE_SERVER".into(),
            format!("unix:{}", self.socket.display()),
        )]
    }

    /// Runs `pactl` against this server; its output.
    pub fn pactl(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new("pactl")
            .args(args)
            .envs(self.client_env())
            .stdin(Stdio::null())
            .output()
            .context("running pactl")?;
        anyhow::ensure!(
            out.status.success(),
            "pactl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Recording streams on the virtual microphone (`pactl list short source-outputs`, minus
    /// the virtual source's own stream on the sink's monitor): who captures from it right now.
    pub fn capture_streams(&self) -> anyhow::Result<Vec<String>> {
        let sources = self.pactl(&["list", "short", "sources"])?;
        let mic = sources
            .lines()
            .find_map(|l| {
                let mut columns = l.split('\t');
                let index = columns.next()?;
                (columns.next()? == SOURCE).then(|| index.to_owned())
            })
            .with_context(|| format!("no source {SOURCE} in:\n{sources}"))?;
        Ok(self
            .pactl(&["list", "short", "source-outputs"])?
            .lines()
            .filter(|l| l.split('\t').nth(1) == Some(mic.as_str()))
            .map(str::to_owned)
            .collect())
    }

    /// Starts playing a WAV file into the sink (what the virtual microphone hears).
    pub fn play(&self, wav: &Path) -> anyhow::Result<tokio::process::Child> {
        tokio::process::Command::new("paplay")
            .arg(format!("--device={SINK}"))
            .arg(wav)
            .envs(self.client_env())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting paplay")
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

/// `text` spoken by espeak-ng (US English, 150 words a minute) into a WAV file in `dir`.
pub fn speak(text: &str, dir: &Path) -> anyhow::Result<PathBuf> {
    let espeak = require("espeak-ng", "espeak-ng")?;
    let path = dir.join("speech.wav");
    let out = Command::new(espeak)
        .args(["-v", "en-us", "-s", "150", "-w"])
        .arg(&path)
        .arg(text)
        .stdin(Stdio::null())
        .output()
        .context("running espeak-ng")?;
    anyhow::ensure!(
        out.status.success(),
        "espeak-ng failed on {text:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(path)
}

/// A decoded 16-bit PCM WAV: the facts the transcription fake checks.
#[derive(Debug, Clone, PartialEq)]
pub struct WavFacts {
    pub sample_rate: u32,
    pub channels: u16,
    pub duration_ms: u64,
    /// Root mean square of all samples, 0..1 (full scale).
    pub rms: f32,
    /// The largest absolute sample, 0..1.
    pub peak: f32,
}

/// Reads a RIFF/WAVE file of 16-bit PCM (what speech uploads are); `Err` with why it is not one.
pub fn wav_facts(bytes: &[u8]) -> Result<WavFacts, String> {
    let u16_at = |at: usize| -> Result<u16, String> {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated".to_owned())
    };
    let u32_at = |at: usize| -> Result<u32, String> {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| "truncated".to_owned())
    };
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err("not a RIFF/WAVE file".into());
    }
    let mut at = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32_at(at + 4)? as usize;
        let body = at + 8;
        match id {
            b"fmt " => {
                format = Some((
                    u16_at(body)?,
                    u16_at(body + 2)?,
                    u32_at(body + 4)?,
                    u16_at(body + 14)?,
                ));
            }
            b"data" => {
                let (tag, channels, sample_rate, bits) =
                    format.ok_or_else(|| "a data chunk before the fmt chunk".to_owned())?;
                if tag != 1 || bits != 16 || channels == 0 || sample_rate == 0 {
                    return Err(format!(
                        "not 16-bit PCM (format {tag}, {bits} bits, {channels} channels, {sample_rate} Hz)"
                    ));
                }
                let end = body.saturating_add(size).min(bytes.len());
                let samples: Vec<f32> = bytes[body..end]
                    .chunks_exact(2)
                    .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
                    .collect();
                if samples.is_empty() {
                    return Err("no samples".into());
                }
                let rms =
                    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt();
                let peak = samples.iter().fold(0.0_f32, |m, s| m.max(s.abs()));
                let frames = samples.len() as u64 / u64::from(channels);
                return Ok(WavFacts {
                    sample_rate,
                    channels,
                    duration_ms: frames * 1000 / u64::from(sample_rate),
                    rms,
                    peak,
                });
            }
            _ => {}
        }
        at = body + size + (size & 1);
    }
    Err("no data chunk".into())
}

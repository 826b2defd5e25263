//! Real parts for the capture tests: a private PulseAudio server (null sink + virtual source
//! as the "microphone"), speech from espeak-ng, and a way to run a test inside that server's
//! environment (a child run of this test binary: the environment of a running test cannot be
//! changed without `unsafe`, and libpulse/ALSA read it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    dead_code,
    reason = "test helpers fail loudly by design; each test file uses some of them"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The sink tests play into; its monitor feeds the virtual source `voice_mic`.
pub const SINK: &str = "voice_out";
pub const SOURCE: &str = "voice_mic";
/// Set in the child runs, so a child test knows it runs inside a parent's server.
pub const CHILD_ENV: &str = "SAM_VOICE_TEST_CHILD";
pub const PID_ENV: &str = "SAM_VOICE_TEST_PULSE_PID";
pub const DIR_ENV: &str = "SAM_VOICE_TEST_DIR";

fn require(tool: &str, packages: &str) -> PathBuf {
    which(tool).unwrap_or_else(|| {
        panic!(
            "`{tool}` is not installed, and the voice tests need it (real sound server, real speech). \
             Install: apt-get install -y {packages}"
        )
    })
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

/// A PulseAudio daemon of this test's own: its own runtime dir and socket, no autospawn, no
/// D-Bus, gone when dropped.
pub struct PulseServer {
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    pub socket: PathBuf,
}

impl PulseServer {
    pub fn start() -> Self {
        let pulseaudio = require(
            "pulseaudio",
            "pulseaudio pulseaudio-utils libasound2-plugins",
        );
        require("pactl", "pulseaudio-utils");
        require("paplay", "pulseaudio-utils");
        let dir = tempfile::tempdir().unwrap();
        for sub in ["runtime", "home", "state"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
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
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("pulseaudio.log")).unwrap();
        let mut command = Command::new(pulseaudio);
        command
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
            .stderr(log);
        let child = command.spawn().unwrap();
        let mut server = Self {
            dir,
            child: Some(child),
            socket,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ok = Command::new("pactl")
                .arg("info")
                .envs(self.env())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "pulseaudio exited ({status}) before it was ready:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "pulseaudio did not come up in 10 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pulseaudio.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// What a client needs to reach this server (and only this server).
    pub fn env(&self) -> Vec<(String, String)> {
        let d = self.dir.path();
        vec![
            (
                "PULSE_SERVER".into(),
                format!("unix:{}", self.socket.display()),
            ),
            (
                "XDG_RUNTIME_DIR".into(),
                d.join("runtime").display().to_string(),
            ),
            (
                "PULSE_RUNTIME_PATH".into(),
                d.join("runtime").display().to_string(),
            ),
            ("HOME".into(), d.join("home").display().to_string()),
        ]
    }

    /// Runs `test` (an ignored test of this binary) in a child process inside this server's
    /// environment; panics with its output if it fails.
    pub fn run_child(&self, test: &str, assets: &Path) -> String {
        let mut env = self.env();
        env.push((PID_ENV.into(), self.pid().to_string()));
        run_child_with(test, assets, &env)
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

/// Runs the ignored test `test` of this binary in a child process with `env`.
pub fn run_child_with(test: &str, assets: &Path, env: &[(String, String)]) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env(DIR_ENV, assets)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("PULSE_SINK")
        .env_remove("PULSE_SOURCE")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "child test {test} failed:\n{text}"
    );
    println!("{text}");
    text
}

/// In a child test: the assets folder, or a clear failure if run on its own.
pub fn child_assets() -> PathBuf {
    assert!(
        std::env::var_os(CHILD_ENV).is_some(),
        "this test runs inside a private PulseAudio started by its parent test; run the parent"
    );
    PathBuf::from(std::env::var_os(DIR_ENV).unwrap())
}

/// Plays a WAV file into the null sink (what the virtual microphone hears). Uses the
/// environment of the current process, i.e. call it from a child test.
pub fn play(path: &Path) -> Child {
    Command::new("paplay")
        .arg(format!("--device={SINK}"))
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// A mono 16-bit clip: samples and rate.
#[derive(Debug, Clone)]
pub struct Clip {
    pub samples: Vec<f32>,
    pub rate: u32,
}

impl Clip {
    pub fn ms(&self) -> u64 {
        self.samples.len() as u64 * 1000 / u64::from(self.rate)
    }

    pub fn write(&self, path: &Path) {
        std::fs::write(
            path,
            sam_voice::encode_wav(&self.samples, self.rate).unwrap(),
        )
        .unwrap();
    }
}

/// `text` spoken by espeak-ng (US English, 150 wpm), trimmed of its leading and trailing
/// silence so a phrase's length is its speech.
pub fn speak(text: &str, dir: &Path) -> Clip {
    let espeak = require("espeak-ng", "espeak-ng");
    let path = dir.join(format!("espeak-{}.wav", text.len()));
    let status = Command::new(espeak)
        .args(["-v", "en-us", "-s", "150", "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .unwrap();
    assert!(status.success(), "espeak-ng failed on {text:?}");
    let decoded = sam_voice::decode_wav(&std::fs::read(&path).unwrap()).unwrap();
    let mono = sam_voice::downmix(&decoded.samples, usize::from(decoded.channels));
    let first = mono.iter().position(|v| v.abs() > 0.01).unwrap_or(0);
    let last = mono
        .iter()
        .rposition(|v| v.abs() > 0.01)
        .unwrap_or(mono.len());
    Clip {
        samples: mono[first..=last].to_vec(),
        rate: decoded.sample_rate,
    }
}

/// Silence and clips in a row: `Err(ms)` is silence, `Ok(clip)` speech.
pub fn compose(parts: &[Result<&Clip, u64>]) -> Clip {
    let rate = parts
        .iter()
        .find_map(|p| p.as_ref().ok().map(|c| c.rate))
        .unwrap_or(22_050);
    let mut samples = Vec::new();
    for p in parts {
        match p {
            Ok(clip) => samples.extend_from_slice(&clip.samples),
            Err(ms) => samples.extend(std::iter::repeat_n(
                0.0,
                (*ms * u64::from(rate) / 1000) as usize,
            )),
        }
    }
    Clip { samples, rate }
}

/// RMS per 10 ms.
pub fn envelope(samples: &[f32], rate: u32) -> Vec<f32> {
    samples
        .chunks(rate as usize / 100)
        .map(|c| (c.iter().map(|v| v * v).sum::<f32>() / c.len() as f32).sqrt())
        .collect()
}

/// The best Pearson correlation of envelope `b` against a window of `a`, over all shifts
/// where at least 80% of `b` overlaps `a`: (correlation, shift in envelope steps).
pub fn best_correlation(a: &[f32], b: &[f32]) -> (f32, isize) {
    fn pearson(x: &[f32], y: &[f32]) -> f32 {
        let n = x.len() as f32;
        let (mx, my) = (x.iter().sum::<f32>() / n, y.iter().sum::<f32>() / n);
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (a, b) in x.iter().zip(y) {
            sxy += (a - mx) * (b - my);
            sxx += (a - mx) * (a - mx);
            syy += (b - my) * (b - my);
        }
        sxy / (sxx.sqrt() * syy.sqrt()).max(1e-12)
    }
    let mut best = (f32::MIN, 0isize);
    let min_overlap = b.len() * 8 / 10;
    for lag in -(b.len() as isize)..(a.len() as isize) {
        let from_b = (-lag).max(0) as usize;
        let from_a = lag.max(0) as usize;
        let len = (b.len() - from_b.min(b.len())).min(a.len() - from_a.min(a.len()));
        if len < min_overlap || len == 0 {
            continue;
        }
        let c = pearson(&a[from_a..from_a + len], &b[from_b..from_b + len]);
        if c > best.0 {
            best = (c, lag);
        }
    }
    best
}

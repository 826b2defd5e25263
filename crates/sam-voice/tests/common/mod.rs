//! Real parts for the capture tests: a private PulseAudio server (null sink + virtual source
//! as the "microphone") and speech from espeak-ng, both from `sam_voice::test_support`, and a
//! way to run a test inside that server's environment (a child run of this test binary: the
//! environment of a running test cannot be changed without `unsafe`, and libpulse/ALSA read
//! it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    dead_code,
    reason = "test helpers fail loudly by design; each test file uses some of them"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub use sam_voice::test_support::{Microphone, PulseServer, SINK};

/// Set in the child runs, so a child test knows it runs inside a parent's server.
pub const CHILD_ENV: &str = "SAM_VOICE_TEST_CHILD";
pub const PID_ENV: &str = "SAM_VOICE_TEST_PULSE_PID";
pub const DIR_ENV: &str = "SAM_VOICE_TEST_DIR";

/// The tests' server: the virtual microphone hears what is played into [`SINK`].
pub fn start_pulse() -> PulseServer {
    PulseServer::start(Microphone::SinkMonitor).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `test` (an ignored test of this binary) in a child process inside `server`'s
/// environment; panics with its output if it fails.
pub fn run_child(server: &PulseServer, test: &str, assets: &Path) -> String {
    let mut env = server.env();
    env.push((PID_ENV.into(), server.pid().to_string()));
    run_child_with(test, assets, &env)
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
    let speech = sam_voice::test_support::speak(text, dir).unwrap_or_else(|e| panic!("{e}"));
    Clip {
        samples: speech.samples,
        rate: speech.rate,
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

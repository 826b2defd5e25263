//! `voice-bench`: capture-to-level latency and CPU while listening, through the real capture
//! path ([`Recorder::start`], what the app's `voice_record` calls) and a private PulseAudio.
//!
//! The microphone is PulseAudio's `module-pipe-source` reading a FIFO this bench writes in
//! real time (5 ms blocks, s16le mono): a sample is in the sound server the moment `write`
//! returns, so "capture" has a precise time. From there: the pipe source → PulseAudio's record
//! stream → ALSA's `pulse` plugin → cpal's callback → the ring → the recorder's thread
//! (downmix, 16 kHz resampler, level analyser) → the level channel → the receiving thread.
//!
//! * Latency: silence with sharp tone bursts at random intervals; for each burst, the time
//!   from writing its first sample to the first level frame that shows it (RMS above -34 dBFS)
//!   and to the first frame flagged as an onset. With a log of the audio callbacks, that time
//!   is split into the sound server's part (write → the callback bringing the burst) and ours
//!   (that callback → the level frame received).
//! * CPU: user + system time of the capturing process (a child of this one, so that writing
//!   the FIFO is not counted) over a window of continuous capture, with espeak-ng speech and
//!   with silence, as a share of one core; PulseAudio's own time beside it.
//!
//! `voice-bench [--bursts 40] [--cpu-secs 10] [--runs 3] [--block-ms 5] [--json]`

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use sam_voice::test_support::{Microphone, PipeWriter, PulseServer, speak};
use sam_voice::{CallbackStamp, HandsFree, LevelFrame, Mode, Recorder, UtteranceEvent};
use serde::{Deserialize, Serialize};

/// The pipe source's rate: what a USB microphone or a laptop's codec typically runs at.
const RATE: u32 = 48_000;
/// The feeder writes this much per `write` by default (5 ms): a device handing over small
/// periods. `--block-ms` changes it (a sound server's source posts what its device gives it).
const BLOCK_MS: u32 = 5;
/// A level frame "shows" the burst from this RMS on (-34 dBFS; the silence is -70 dBFS).
const SHOWS_RMS: f32 = 0.02;
/// A callback "brings" the burst from this peak on (the burst's peak is 0.5).
const BRINGS_PEAK: f32 = 0.25;
const BURST_MS: u32 = 150;
const BURST_AMPLITUDE: f32 = 0.5;
const NOISE_AMPLITUDE: f32 = 0.0003;
/// Silence before the first burst: the stream starts, the onset detector's history settles.
const WARMUP_MS: u32 = 3_000;

const CHILD_ARG: &str = "--child";

#[derive(Debug, Clone)]
struct Args {
    bursts: usize,
    cpu_secs: u64,
    runs: usize,
    block_ms: u32,
    json: bool,
    child: Option<String>,
    fifo: Option<PathBuf>,
    pulse_pid: Option<u32>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        bursts: 40,
        cpu_secs: 10,
        runs: 3,
        block_ms: BLOCK_MS,
        json: false,
        child: None,
        fifo: None,
        pulse_pid: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow!("{arg} needs a value"));
        match arg.as_str() {
            "--bursts" => args.bursts = value()?.parse().context("--bursts")?,
            "--cpu-secs" => args.cpu_secs = value()?.parse().context("--cpu-secs")?,
            "--runs" => args.runs = value()?.parse().context("--runs")?,
            "--block-ms" => args.block_ms = value()?.parse().context("--block-ms")?,
            "--json" => args.json = true,
            CHILD_ARG => args.child = Some(value()?),
            "--fifo" => args.fifo = Some(PathBuf::from(value()?)),
            "--pulse-pid" => args.pulse_pid = Some(value()?.parse().context("--pulse-pid")?),
            "-h" | "--help" => {
                eprintln!(
                    "voice-bench [--bursts 40] [--cpu-secs 10] [--runs 3] [--block-ms 5] [--json]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other} (see --help)"),
        }
    }
    if args.bursts < 2 || args.cpu_secs == 0 || args.runs == 0 {
        bail!("--bursts must be at least 2, --cpu-secs and --runs at least 1");
    }
    // Up to 40 ms (3,840 bytes): one `write` of a FIFO stays atomic up to 4 KiB.
    if !(1..=40).contains(&args.block_ms) || !BURST_MS.is_multiple_of(args.block_ms) {
        bail!("--block-ms must be 1 to 40 and divide {BURST_MS}");
    }
    Ok(args)
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| match args.child.as_deref() {
        Some("latency") => child_latency(&args),
        Some("cpu") => child_cpu(&args),
        Some(other) => Err(anyhow!("unknown child role {other}")),
        None => parent(&args),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("voice-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

// ---- what a child reports ---------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Burst {
    /// FIFO write → first level frame above `SHOWS_RMS`, received.
    level_ms: f64,
    /// FIFO write → first level frame flagged as an onset, received (if any within 300 ms).
    onset_ms: Option<f64>,
    /// FIFO write → the cpal callback whose buffer holds the burst's start.
    server_ms: Option<f64>,
    /// That callback → the level frame received.
    in_process_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LatencyReport {
    device_rate: u32,
    device_channels: u16,
    /// Mean frames per callback, and callbacks per second.
    callback_frames: f64,
    callbacks_per_s: f64,
    bursts: Vec<Burst>,
    missed: usize,
    dropped_samples: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CpuReport {
    wall_s: f64,
    user_s: f64,
    sys_s: f64,
    cpu_pct: f64,
    pulseaudio_pct: Option<f64>,
    /// The same time per thread of the process (name, % of one core), busiest first.
    threads: Vec<(String, f64)>,
    level_frames: usize,
    dropped_samples: u64,
}

// ---- the parent: sound server, feeder, children, table ----------------------------------------

#[derive(Debug, Clone, Serialize)]
struct Summary {
    median: f64,
    p95: f64,
    max: f64,
    n: usize,
}

fn summary(mut v: Vec<f64>) -> Option<Summary> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    Some(Summary {
        median: if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
        },
        p95: rank(0.95),
        max: v[v.len() - 1],
        n: v.len(),
    })
}

#[derive(Debug, Serialize)]
struct Output {
    machine: String,
    load_before: String,
    block_ms: u32,
    device_rate: u32,
    device_channels: u16,
    callback_frames: f64,
    callbacks_per_s: f64,
    bursts: usize,
    missed: usize,
    latency_level_ms: Option<Summary>,
    latency_onset_ms: Option<Summary>,
    sound_server_ms: Option<Summary>,
    in_process_ms: Option<Summary>,
    cpu_speech: Vec<CpuReport>,
    cpu_silence: Vec<CpuReport>,
    load_after: String,
}

fn parent(args: &Args) -> anyhow::Result<()> {
    let load_before = loadavg();
    let server = PulseServer::start(Microphone::Pipe { rate: RATE })?;
    let fifo = server
        .pipe_path()
        .ok_or_else(|| anyhow!("the server has no pipe microphone"))?;
    let assets = tempfile::tempdir()?;
    let speech = speech_loop(assets.path())?;

    if !args.json {
        eprintln!(
            "latency: {} bursts through {} …",
            args.bursts,
            fifo.display()
        );
    }
    let latency: LatencyReport = run_child(&server, "latency", &fifo, args)?;

    let mut cpu_speech = Vec::new();
    let mut cpu_silence = Vec::new();
    for run in 1..=args.runs {
        for speaking in [true, false] {
            if !args.json {
                eprintln!(
                    "cpu run {run}/{}: {} for {} s …",
                    args.runs,
                    if speaking { "speech" } else { "silence" },
                    args.cpu_secs
                );
            }
            let stop = Arc::new(AtomicBool::new(false));
            let feeder = {
                let stop = stop.clone();
                let fifo = fifo.clone();
                let speech = speaking.then(|| speech.clone());
                let block_ms = args.block_ms;
                std::thread::spawn(move || {
                    feed_continuous(&fifo, speech.as_deref(), block_ms, &stop)
                })
            };
            let report = run_child::<CpuReport>(&server, "cpu", &fifo, args);
            stop.store(true, Ordering::SeqCst);
            feeder
                .join()
                .map_err(|_| anyhow!("the feeder panicked"))??;
            let report = report?;
            if speaking {
                cpu_speech.push(report);
            } else {
                cpu_silence.push(report);
            }
        }
    }

    let pick =
        |f: fn(&Burst) -> Option<f64>| summary(latency.bursts.iter().filter_map(f).collect());
    let out = Output {
        machine: machine(),
        load_before,
        block_ms: args.block_ms,
        device_rate: latency.device_rate,
        device_channels: latency.device_channels,
        callback_frames: latency.callback_frames,
        callbacks_per_s: latency.callbacks_per_s,
        bursts: latency.bursts.len(),
        missed: latency.missed,
        latency_level_ms: pick(|b| Some(b.level_ms)),
        latency_onset_ms: pick(|b| b.onset_ms),
        sound_server_ms: pick(|b| b.server_ms),
        in_process_ms: pick(|b| b.in_process_ms),
        cpu_speech,
        cpu_silence,
        load_after: loadavg(),
    };
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &out)?;
        writeln!(stdout)?;
    } else {
        print_table(&mut stdout, &out)?;
    }
    drop(server);
    Ok(())
}

fn print_table(w: &mut impl std::io::Write, o: &Output) -> std::io::Result<()> {
    writeln!(w, "voice-bench — {}", o.machine)?;
    writeln!(
        w,
        "load average before: {}; after: {}",
        o.load_before, o.load_after
    )?;
    writeln!(
        w,
        "microphone: private PulseAudio, pipe source {RATE} Hz mono (written in {} ms blocks) → ALSA pulse plugin → cpal {} Hz × {} ch, {:.0} callbacks/s of {:.0} frames (mean)",
        o.block_ms, o.device_rate, o.device_channels, o.callbacks_per_s, o.callback_frames
    )?;
    writeln!(w)?;
    writeln!(
        w,
        "capture → level latency ({} bursts, {} missed)     median     p95     max   target",
        o.bursts, o.missed
    )?;
    let row = |w: &mut dyn std::io::Write, name: &str, s: &Option<Summary>, target: &str| match s {
        Some(s) => writeln!(
            w,
            "  {name:<44} {:>6.1} ms {:>5.1} ms {:>5.1} ms  {target}",
            s.median, s.p95, s.max
        ),
        None => writeln!(w, "  {name:<44}      –"),
    };
    row(
        w,
        "FIFO write → level frame shows it",
        &o.latency_level_ms,
        "≤ 30 ms",
    )?;
    row(
        w,
        "FIFO write → level frame flags the onset",
        &o.latency_onset_ms,
        "",
    )?;
    row(
        w,
        "  sound server: write → cpal callback",
        &o.sound_server_ms,
        "",
    )?;
    row(
        w,
        "  in-process: cpal callback → level frame",
        &o.in_process_ms,
        "",
    )?;
    writeln!(w)?;
    writeln!(
        w,
        "CPU of the capturing process (user+sys, % of one core)   speech   silence   pulseaudio (speech/silence)"
    )?;
    for (i, (s, q)) in o.cpu_speech.iter().zip(&o.cpu_silence).enumerate() {
        writeln!(
            w,
            "  run {} ({:.1} s windows){:<24} {:>6.2}%  {:>6.2}%    {}/{}",
            i + 1,
            s.wall_s,
            "",
            s.cpu_pct,
            q.cpu_pct,
            pct(s.pulseaudio_pct),
            pct(q.pulseaudio_pct),
        )?;
    }
    for (label, runs) in [("speech", &o.cpu_speech), ("silence", &o.cpu_silence)] {
        if let Some(last) = runs.last() {
            let threads: Vec<String> = last
                .threads
                .iter()
                .map(|(name, pct)| format!("{name} {pct:.1}%"))
                .collect();
            writeln!(w, "  threads, last {label} run: {}", threads.join(", "))?;
        }
    }
    let med = |v: &[CpuReport]| summary(v.iter().map(|r| r.cpu_pct).collect());
    if let (Some(s), Some(q)) = (med(&o.cpu_speech), med(&o.cpu_silence)) {
        writeln!(
            w,
            "  median{:<41} {:>6.2}%  {:>6.2}%    target ≤ 3%",
            "", s.median, q.median
        )?;
    }
    Ok(())
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.2}%"))
}

/// Runs this binary as `role` inside the server's environment and reads its JSON answer.
fn run_child<T: serde::de::DeserializeOwned>(
    server: &PulseServer,
    role: &str,
    fifo: &Path,
    args: &Args,
) -> anyhow::Result<T> {
    let out = Command::new(std::env::current_exe()?)
        .args([CHILD_ARG, role, "--fifo"])
        .arg(fifo)
        .args(["--bursts", &args.bursts.to_string()])
        .args(["--cpu-secs", &args.cpu_secs.to_string()])
        .args(["--block-ms", &args.block_ms.to_string()])
        .args(["--pulse-pid", &server.pid().to_string()])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("PULSE_SINK")
        .env_remove("PULSE_SOURCE")
        .envs(server.env())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        bail!(
            "the {role} run failed ({}); pulseaudio's log:\n{}",
            out.status,
            server.log()
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| format!("reading the {role} run's answer"))
}

/// espeak-ng phrases at the pipe's rate with short pauses: a person dictating.
fn speech_loop(dir: &Path) -> anyhow::Result<Vec<f32>> {
    let mut out = Vec::new();
    for text in [
        "Open the settings and turn on dark mode.",
        "Then run the tests again, and tell me which ones failed.",
        "Rename the function to parse config and update its callers.",
    ] {
        let s = speak(text, dir)?;
        out.extend(sam_voice::resample(&s.samples, s.rate, RATE)?);
        out.extend(std::iter::repeat_n(0.0, RATE as usize * 3 / 10));
    }
    Ok(out)
}

/// Writes `speech` in a loop (or quiet noise) into the FIFO in real time until `stop`.
fn feed_continuous(
    fifo: &Path,
    speech: Option<&[f32]>,
    block_ms: u32,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let mut writer = PipeWriter::open(fifo)?;
    let block = (RATE * block_ms / 1000) as usize;
    let mut noise = Noise::new(7);
    let mut buf = vec![0.0f32; block];
    let mut pos = 0usize;
    let pace = Pacer::new(block_ms);
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        match speech {
            Some(s) if !s.is_empty() => {
                for v in &mut buf {
                    *v = s[pos] + noise.next();
                    pos = (pos + 1) % s.len();
                }
            }
            _ => buf.iter_mut().for_each(|v| *v = noise.next()),
        }
        pace.wait(n);
        writer.write(&buf)?;
        n += 1;
    }
    Ok(())
}

/// Sleeps until block `n`'s due time (absolute, so small delays do not add up).
struct Pacer {
    start: Instant,
    block: Duration,
}

impl Pacer {
    fn new(block_ms: u32) -> Self {
        Self {
            start: Instant::now(),
            block: Duration::from_millis(block_ms.into()),
        }
    }

    fn wait(&self, n: u64) {
        let due = self.start + self.block * u32::try_from(n).unwrap_or(u32::MAX);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
    }
}

/// A quiet room (-70 dBFS of white noise), from a fixed seed.
struct Noise(u64);

impl Noise {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    fn next(&mut self) -> f32 {
        (self.next_u32() as f32 / u32::MAX as f32 * 2.0 - 1.0) * NOISE_AMPLITUDE
    }
}

// ---- the children: the capture path itself ----------------------------------------------------

/// What the app's listening mode is, minus the timeout that would end a silent run.
fn listening() -> Mode {
    Mode::HandsFree(HandsFree {
        continuous: true,
        no_speech_timeout_ms: None,
        ..HandsFree::default()
    })
}

fn wait_started(events: &Receiver<UtteranceEvent>) -> anyhow::Result<(u32, u16)> {
    let deadline = Instant::now() + Duration::from_secs(8);
    while Instant::now() < deadline {
        match events.recv_timeout(Duration::from_millis(100)) {
            Ok(UtteranceEvent::Started {
                sample_rate,
                channels,
                ..
            }) => return Ok((sample_rate, channels)),
            Ok(UtteranceEvent::Error(e)) => bail!("capture failed: {e}"),
            Ok(_) | Err(_) => {}
        }
    }
    bail!("no audio from the pipe microphone in 8 s")
}

fn child_latency(args: &Args) -> anyhow::Result<()> {
    let fifo = args.fifo.clone().ok_or_else(|| anyhow!("--fifo"))?;
    let writer = PipeWriter::open(&fifo)?;
    let bursts = args.bursts;
    let block_ms = args.block_ms;
    // The feeder starts first: the pipe source only delivers what is written.
    let feeder = std::thread::Builder::new()
        .name("bench-feeder".into())
        .spawn(move || feed_bursts(writer, bursts, block_ms))?;
    let (handle, levels, events, mut log) =
        Recorder::start_with_callback_log(None, listening(), 1 << 16)?;
    let (device_rate, device_channels) = wait_started(&events)?;
    let receiver = std::thread::Builder::new()
        .name("bench-levels".into())
        .spawn(move || {
            levels
                .into_iter()
                .map(|f| (Instant::now(), f))
                .collect::<Vec<(Instant, LevelFrame)>>()
        })?;
    let written = feeder
        .join()
        .map_err(|_| anyhow!("the feeder panicked"))??;
    let dropped_samples = handle.dropped_samples();
    handle.cancel();
    let frames = receiver
        .join()
        .map_err(|_| anyhow!("the level receiver panicked"))?;
    let stamps = log.drain();

    let mut out = Vec::new();
    let mut missed = 0;
    for &at in &written {
        let limit = at + Duration::from_millis(500);
        let Some((shown, _)) = frames
            .iter()
            .find(|(t, f)| *t >= at && *t <= limit && f.rms >= SHOWS_RMS)
        else {
            missed += 1;
            continue;
        };
        let onset = frames
            .iter()
            .find(|(t, f)| *t >= at && *t <= at + Duration::from_millis(300) && f.onset)
            .map(|(t, _)| ms(*t - at));
        let brought = stamps
            .iter()
            .find(|s| s.at >= at && s.at <= *shown && s.peak >= BRINGS_PEAK);
        out.push(Burst {
            level_ms: ms(*shown - at),
            onset_ms: onset,
            server_ms: brought.map(|s| ms(s.at - at)),
            in_process_ms: brought.map(|s| ms(*shown - s.at)),
        });
    }
    let report = LatencyReport {
        device_rate,
        device_channels,
        callback_frames: stamps.iter().map(|s| s.frames as f64).sum::<f64>()
            / stamps.len().max(1) as f64,
        callbacks_per_s: callback_rate(&stamps),
        bursts: out,
        missed,
        dropped_samples,
    };
    serde_json::to_writer(std::io::stdout().lock(), &report)?;
    Ok(())
}

/// Silence, then `bursts` tone bursts after random pauses; returns when each burst's first
/// block was written (just before its `write`).
fn feed_bursts(
    mut writer: PipeWriter,
    bursts: usize,
    block_ms: u32,
) -> anyhow::Result<Vec<Instant>> {
    let block = (RATE * block_ms / 1000) as usize;
    let mut noise = Noise::new(42);
    let mut gaps = Noise::new(4242);
    let mut buf = vec![0.0f32; block];
    let pace = Pacer::new(block_ms);
    let mut n = 0u64;
    let mut written = Vec::with_capacity(bursts);
    let mut silence = |blocks: u32, n: &mut u64, w: &mut PipeWriter| -> anyhow::Result<()> {
        for _ in 0..blocks {
            buf.iter_mut().for_each(|v| *v = noise.next());
            pace.wait(*n);
            w.write(&buf)?;
            *n += 1;
        }
        Ok(())
    };
    silence(WARMUP_MS / block_ms, &mut n, &mut writer)?;
    let burst_blocks = BURST_MS / block_ms;
    let tone: Vec<f32> = (0..block * burst_blocks as usize)
        .map(|i| {
            // A cosine starts at its peak: the very first sample is loud.
            BURST_AMPLITUDE * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / RATE as f32).cos()
        })
        .collect();
    for _ in 0..bursts {
        // 600–1000 ms of silence: the bursts land anywhere in the analyser's 16 ms hop.
        let pause_ms = 600 + gaps.next_u32() % 400;
        silence(pause_ms / block_ms, &mut n, &mut writer)?;
        for (i, chunk) in tone.chunks(block).enumerate() {
            pace.wait(n);
            if i == 0 {
                written.push(Instant::now());
            }
            writer.write(chunk)?;
            n += 1;
        }
    }
    silence(1_000 / block_ms, &mut n, &mut writer)?;
    Ok(written)
}

fn child_cpu(args: &Args) -> anyhow::Result<()> {
    let (handle, levels, events) = Recorder::start(None, listening())?;
    wait_started(&events)?;
    // Like the app's forwarding thread: a plain thread blocked on the level channel.
    let receiver = std::thread::Builder::new()
        .name("bench-levels".into())
        .spawn(move || levels.into_iter().count())?;
    std::thread::sleep(Duration::from_secs(1));
    let pulse = args.pulse_pid;
    let threads0 = thread_ticks();
    let (t0, cpu0, pulse0) = (Instant::now(), cpu_ticks("self")?, pulse_ticks(pulse));
    std::thread::sleep(Duration::from_secs(args.cpu_secs));
    let (t1, cpu1, pulse1) = (Instant::now(), cpu_ticks("self")?, pulse_ticks(pulse));
    let threads1 = thread_ticks();
    let dropped_samples = handle.dropped_samples();
    handle.cancel();
    let level_frames = receiver
        .join()
        .map_err(|_| anyhow!("the level receiver panicked"))?;
    let hz = clock_ticks_per_sec();
    let wall_s = (t1 - t0).as_secs_f64();
    let user_s = (cpu1.0 - cpu0.0) as f64 / hz;
    let sys_s = (cpu1.1 - cpu0.1) as f64 / hz;
    let pulseaudio_pct = match (pulse0, pulse1) {
        (Some(a), Some(b)) => Some(((b.0 + b.1) - (a.0 + a.1)) as f64 / hz / wall_s * 100.0),
        _ => None,
    };
    let mut threads: Vec<(String, f64)> = threads1
        .iter()
        .map(|(tid, name, ticks)| {
            let before = threads0
                .iter()
                .find(|(t, _, _)| t == tid)
                .map_or(0, |(_, _, b)| *b);
            let pct = (ticks - before.min(*ticks)) as f64 / hz / wall_s * 100.0;
            (format!("{name} ({tid})"), pct)
        })
        .filter(|(_, pct)| *pct > 0.0)
        .collect();
    threads.sort_by(|a, b| b.1.total_cmp(&a.1));
    let report = CpuReport {
        wall_s,
        user_s,
        sys_s,
        cpu_pct: (user_s + sys_s) / wall_s * 100.0,
        pulseaudio_pct,
        threads,
        level_frames,
        dropped_samples,
    };
    serde_json::to_writer(std::io::stdout().lock(), &report)?;
    Ok(())
}

// ---- measuring helpers ------------------------------------------------------------------------

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn callback_rate(stamps: &[CallbackStamp]) -> f64 {
    match (stamps.first(), stamps.last()) {
        (Some(a), Some(b)) if b.at > a.at => {
            (stamps.len() - 1) as f64 / (b.at - a.at).as_secs_f64()
        }
        _ => 0.0,
    }
}

/// User and system time of a process in clock ticks, from `/proc/<pid>/stat`.
fn cpu_ticks(pid: &str) -> anyhow::Result<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("odd /proc/{pid}/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of proc(5); `rest` starts at field 3.
    let field = |i: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(i - 3)
            .ok_or_else(|| anyhow!("short /proc/{pid}/stat"))?
            .parse()?)
    };
    Ok((field(14)?, field(15)?))
}

/// Each thread of this process: id, name and user + system ticks.
fn thread_ticks() -> Vec<(String, String, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|entry| {
            let tid = entry.file_name().to_string_lossy().into_owned();
            let (user, sys) = cpu_ticks(&format!("self/task/{tid}")).ok()?;
            let name = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            Some((tid, name.trim().to_owned(), user + sys))
        })
        .collect()
}

fn pulse_ticks(pid: Option<u32>) -> Option<(u64, u64)> {
    cpu_ticks(&pid?.to_string()).ok()
}

/// `CLK_TCK` (100 on every Linux this runs on; asked, not assumed, where `getconf` exists).
fn clock_ticks_per_sec() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|v| *v > 0.0)
        .unwrap_or(100.0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let pulse = Command::new("pulseaudio")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    format!("{cpus} CPUs ({model}), {pulse}")
}

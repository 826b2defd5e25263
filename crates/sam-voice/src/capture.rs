//! Native capture with cpal: device listing, and a [`Recorder`] that runs on its own thread
//! (never on the async runtime, never in a render loop).
//!
//! The audio callback only converts samples to `f32`, pushes them into a lock-free ring (rtrb)
//! and wakes the recorder's thread, which drains it, downmixes, resamples to 16 kHz and runs
//! the level analyser, the voice-activity detector and the segmenter ([`Processor`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{ErrorKind, FromSample, SizedSample};
use serde::Serialize;

use crate::audio::{SPEECH_RATE, StreamResampler, Utterance, downmix_into, samples_to_ms};
use crate::error::VoiceError;
use crate::levels::{HOP, LevelAnalyzer, LevelFrame};
use crate::vad::{FRAME_MS, HandsFree, Segment, Segmenter, Vad};

/// An input device as the app lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// Stable id to pass back to [`Recorder::start`] (e.g. `alsa:pulse`, a CoreAudio UID).
    pub id: String,
    /// A name for people.
    pub name: String,
    /// The audio system it belongs to (ALSA, CoreAudio, WASAPI, …).
    pub host: String,
    /// The system's default input.
    pub is_default: bool,
    /// The device's preferred channel count and rate, when it tells.
    pub channels: Option<u16>,
    pub sample_rate: Option<u32>,
}

/// How a recording ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Records until [`RecorderHandle::stop`]; the result is the whole take, trimmed to speech.
    PushToTalk,
    /// Listens; each utterance ends after a silence and arrives as
    /// [`UtteranceEvent::Utterance`].
    HandsFree(HandsFree),
}

/// What happens during a recording, on the events channel.
#[derive(Debug, Clone, PartialEq)]
pub enum UtteranceEvent {
    /// Audio is flowing (the first samples arrived; some sound servers take a second or two
    /// after the device opened). Show "listening" from here.
    Started {
        device: DeviceInfo,
        sample_rate: u32,
        channels: u16,
    },
    /// The voice-activity detector heard speech begin (hands-free and push-to-talk).
    SpeechStarted { t_ms: u64 },
    /// A complete utterance (hands-free; push-to-talk's comes from `stop`).
    Utterance(Utterance),
    /// Three seconds of exact digital silence: on macOS this is what a microphone blocked in
    /// Privacy & Security looks like; elsewhere, a muted or disconnected input.
    InputSilent,
    /// Recording ended with this error (the device went away, nobody spoke, …).
    Error(VoiceError),
    /// Recording ended normally.
    Stopped,
    /// Recording was cancelled; its audio was discarded.
    Cancelled,
}

/// The input devices of the default audio host, the default one marked.
pub fn devices() -> Result<Vec<DeviceInfo>, VoiceError> {
    let host = cpal::default_host();
    let default_id = host
        .default_input_device()
        .and_then(|d| d.id().ok())
        .map(|id| id.to_string());
    let list = host.input_devices().map_err(|e| start_error(&e))?;
    let mut out: Vec<DeviceInfo> = list
        .map(|d| describe(&host, &d, default_id.as_deref()))
        // ALSA lists every plugin that could capture (rate converters, JACK, OSS, "null"):
        // keep what can actually be opened, and no sample generators.
        .filter(|d| d.is_default || (d.sample_rate.is_some() && !is_pseudo_device(&d.id)))
        .collect();
    out.sort_by_key(|d| !d.is_default);
    Ok(out)
}

/// ALSA's `null` PCM "captures" endless zeros: not a microphone.
fn is_pseudo_device(id: &str) -> bool {
    id == "alsa:null"
}

fn describe(host: &cpal::Host, device: &cpal::Device, default_id: Option<&str>) -> DeviceInfo {
    let id = device
        .id()
        .map(|id| id.to_string())
        .unwrap_or_else(|_| device.to_string());
    let name = device
        .description()
        .map(|d| d.name().to_owned())
        .unwrap_or_else(|_| device.to_string());
    let config = device.default_input_config().ok();
    DeviceInfo {
        is_default: default_id == Some(id.as_str()),
        id,
        name,
        host: host.id().name().to_owned(),
        channels: config.as_ref().map(|c| c.channels()),
        sample_rate: config.as_ref().map(|c| c.sample_rate()),
    }
}

/// Picks the device: the default, or one named by id (`sam voice devices` prints them) or by
/// its name.
fn find_device(host: &cpal::Host, wanted: Option<&str>) -> Result<cpal::Device, VoiceError> {
    let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
        return host.default_input_device().ok_or(VoiceError::NoMicrophone);
    };
    if let Ok(id) = wanted.parse::<cpal::DeviceId>()
        && let Some(device) = host.device_by_id(&id)
    {
        return Ok(device);
    }
    let list = host.input_devices().map_err(|e| start_error(&e))?;
    let mut by_name = None;
    for device in list {
        let id = device.id().map(|i| i.to_string()).unwrap_or_default();
        if id == wanted || device.to_string() == wanted {
            return Ok(device);
        }
        if by_name.is_none()
            && device
                .description()
                .is_ok_and(|d| d.name().eq_ignore_ascii_case(wanted))
        {
            by_name = Some(device);
        }
    }
    by_name.ok_or_else(|| VoiceError::DeviceNotFound(wanted.to_owned()))
}

/// A cpal error while opening a device, in user terms.
fn start_error(e: &cpal::Error) -> VoiceError {
    match e.kind() {
        ErrorKind::DeviceNotAvailable | ErrorKind::HostUnavailable => VoiceError::NoMicrophone,
        ErrorKind::PermissionDenied => VoiceError::PermissionDenied,
        ErrorKind::DeviceBusy => VoiceError::DeviceBusy,
        _ => VoiceError::Audio(e.to_string()),
    }
}

/// One run of the audio callback: when it ran, how many frames the device handed over, and
/// the loudest of their samples. Only `voice-bench` asks for these (see [`CallbackLog`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallbackStamp {
    /// When the callback started (before it touched the samples).
    pub at: Instant,
    /// Frames (samples per channel) in the buffer.
    pub frames: usize,
    /// Largest absolute sample, 0.0..=1.0.
    pub peak: f32,
}

/// The audio callbacks of a recording, in order ([`Recorder::start_with_callback_log`]).
/// The callback drops stamps when the log is full; read it often enough.
#[cfg(feature = "test-support")]
#[derive(Debug)]
pub struct CallbackLog(rtrb::Consumer<CallbackStamp>);

#[cfg(feature = "test-support")]
impl CallbackLog {
    /// The stamps logged since the last call.
    pub fn drain(&mut self) -> Vec<CallbackStamp> {
        let mut out = Vec::with_capacity(self.0.slots());
        while let Ok(stamp) = self.0.pop() {
            out.push(stamp);
        }
        out
    }
}

/// Starts recordings.
#[derive(Debug)]
pub struct Recorder;

#[derive(Debug, Clone, Copy)]
enum Control {
    Stop,
    Cancel,
}

/// A running recording. Dropping it cancels the recording.
#[derive(Debug)]
pub struct RecorderHandle {
    control: Sender<Control>,
    done: Receiver<Result<Utterance, VoiceError>>,
    thread: Option<JoinHandle<()>>,
    device: DeviceInfo,
    running: Arc<AtomicBool>,
    dropped_samples: Arc<AtomicU64>,
}

/// Level frames are dropped, not queued, when the consumer falls this far behind (~2 s).
const LEVEL_QUEUE: usize = 128;
/// Audio kept between the callback and the recorder's thread.
const RING_SECONDS: usize = 4;
/// No audio for this long while the stream runs means the device is gone.
const STALL: Duration = Duration::from_secs(2);
/// …and no audio this long after opening it, too.
const STARTUP_STALL: Duration = Duration::from_secs(6);
/// The recorder's thread wakes at least this often without audio (to notice a stalled or
/// failed device); with audio, each callback wakes it at once.
const IDLE_WAKE: Duration = Duration::from_millis(20);
/// Push-to-talk keeps at most this much audio (then it stops by itself).
const MAX_PUSH_TO_TALK_MS: u64 = 15 * 60 * 1000;

impl Recorder {
    /// Opens `device` (an id or name from [`devices`]; `None` for the default) and starts
    /// recording on a new thread. Returns once audio flows, or with why it cannot.
    ///
    /// The receivers: [`LevelFrame`]s at ~60 Hz (dropped, not queued, if nobody reads them)
    /// and [`UtteranceEvent`]s.
    pub fn start(
        device: Option<String>,
        mode: Mode,
    ) -> Result<
        (
            RecorderHandle,
            Receiver<LevelFrame>,
            Receiver<UtteranceEvent>,
        ),
        VoiceError,
    > {
        Self::start_inner(device, mode, None)
            .map(|(handle, levels, events, _)| (handle, levels, events))
    }

    /// [`Recorder::start`], and a [`CallbackLog`] of the audio callbacks (at most
    /// `log_capacity` kept until read): for `voice-bench`, which times the path from the
    /// callback to the level frame.
    #[cfg(feature = "test-support")]
    pub fn start_with_callback_log(
        device: Option<String>,
        mode: Mode,
        log_capacity: usize,
    ) -> Result<
        (
            RecorderHandle,
            Receiver<LevelFrame>,
            Receiver<UtteranceEvent>,
            CallbackLog,
        ),
        VoiceError,
    > {
        let (handle, levels, events, log) =
            Self::start_inner(device, mode, Some(log_capacity.max(1)))?;
        let log = log.ok_or_else(|| VoiceError::Internal("no callback log".into()))?;
        Ok((handle, levels, events, CallbackLog(log)))
    }

    #[expect(
        clippy::type_complexity,
        reason = "the public constructors' tuple, plus the optional callback log"
    )]
    fn start_inner(
        device: Option<String>,
        mode: Mode,
        log_capacity: Option<usize>,
    ) -> Result<
        (
            RecorderHandle,
            Receiver<LevelFrame>,
            Receiver<UtteranceEvent>,
            Option<rtrb::Consumer<CallbackStamp>>,
        ),
        VoiceError,
    > {
        let (control_tx, control_rx) = mpsc::channel::<Control>();
        let (level_tx, level_rx) = mpsc::sync_channel(LEVEL_QUEUE);
        let (event_tx, event_rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        let running = Arc::new(AtomicBool::new(true));
        let dropped = Arc::new(AtomicU64::new(0));
        let thread = {
            let running = running.clone();
            let dropped = dropped.clone();
            std::thread::Builder::new()
                .name("sam-voice-capture".into())
                .spawn(move || {
                    let mut input = match open(device.as_deref(), &dropped, log_capacity) {
                        Ok(input) => input,
                        Err(e) => {
                            running.store(false, Ordering::SeqCst);
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok((input.info.clone(), input.log.take())));
                    let result = record(&mut input, mode, &control_rx, &level_tx, &event_tx);
                    running.store(false, Ordering::SeqCst);
                    let _ = event_tx.send(match &result {
                        Ok(_) => UtteranceEvent::Stopped,
                        Err(VoiceError::Cancelled) => UtteranceEvent::Cancelled,
                        Err(e) => UtteranceEvent::Error(e.clone()),
                    });
                    let _ = done_tx.send(result);
                    // Closing the stream can block for good when the sound server died under
                    // it (seen with ALSA's pulse plugin); the result is already delivered, so
                    // at worst this thread lingers, never the caller.
                    drop(input);
                })
                .map_err(|e| VoiceError::Internal(format!("could not start a thread: {e}")))?
        };
        match ready_rx.recv() {
            Ok(Ok((info, log))) => Ok((
                RecorderHandle {
                    control: control_tx,
                    done: done_rx,
                    thread: Some(thread),
                    device: info,
                    running,
                    dropped_samples: dropped,
                },
                level_rx,
                event_rx,
                log,
            )),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(VoiceError::Internal(
                    "the capture thread ended early".into(),
                ))
            }
        }
    }
}

impl RecorderHandle {
    /// The device being recorded.
    pub fn device(&self) -> &DeviceInfo {
        &self.device
    }

    /// Whether audio is still being captured (false once hands-free finished by itself, or
    /// the device went away).
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Samples lost because the recorder's thread fell behind the device (should stay 0).
    pub fn dropped_samples(&self) -> u64 {
        self.dropped_samples.load(Ordering::Relaxed)
    }

    /// Ends the recording and returns the speech: push-to-talk, the whole take trimmed to
    /// speech; hands-free, the utterance in progress (or, if listening already ended by
    /// itself, the one it ended with). `no_speech` when there is none.
    pub fn stop(mut self) -> Result<Utterance, VoiceError> {
        self.finish(Control::Stop)
    }

    /// Ends the recording and discards it.
    pub fn cancel(mut self) {
        let _ = self.finish(Control::Cancel);
    }

    fn finish(&mut self, how: Control) -> Result<Utterance, VoiceError> {
        let _ = self.control.send(how);
        if let Some(thread) = &self.thread {
            thread.thread().unpark();
        }
        // The thread answers at once (it was just woken); the bound only guards against a
        // wedged driver.
        let result = self
            .done
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| {
                Err(VoiceError::Internal(
                    "the capture thread did not answer".into(),
                ))
            });
        self.reap();
        result
    }

    /// Joins the thread if it ends soon; otherwise lets it go (see the note in `start`).
    fn reap(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        let deadline = Instant::now() + Duration::from_millis(500);
        while !thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if thread.is_finished() {
            let _ = thread.join();
        } else {
            tracing::warn!("the audio driver did not close the input stream; leaving it behind");
        }
    }
}

impl Drop for RecorderHandle {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.finish(Control::Cancel);
        }
    }
}

/// The recorder's loop, on its own thread (which owns the cpal stream: it is not `Send` on
/// every platform).
fn record(
    input: &mut OpenInput,
    mode: Mode,
    control: &Receiver<Control>,
    levels: &SyncSender<LevelFrame>,
    events: &Sender<UtteranceEvent>,
) -> Result<Utterance, VoiceError> {
    let mut resampler = StreamResampler::new(input.rate, SPEECH_RATE)?;
    let mut processor = Processor::new(mode);
    let mut raw = Vec::new();
    let mut speech = Vec::new();
    let mut last_data = Instant::now();
    let mut mono = Vec::new();
    let mut stop = false;
    let opened_at = Instant::now();
    let mut flowing = false;
    loop {
        // The callback wakes this thread when it has pushed audio, and the handle does when it
        // sends a control message; the timeout only paces the stall checks below.
        std::thread::park_timeout(IDLE_WAKE);
        match control.try_recv() {
            Ok(Control::Cancel) | Err(TryRecvError::Disconnected) => {
                return Err(VoiceError::Cancelled);
            }
            Ok(Control::Stop) => stop = true,
            Err(TryRecvError::Empty) => {}
        }

        raw.clear();
        input.drain(&mut raw);
        if !raw.is_empty() {
            if !flowing {
                flowing = true;
                tracing::debug!(after = ?opened_at.elapsed(), "first audio from the input");
                let _ = events.send(UtteranceEvent::Started {
                    device: input.info.clone(),
                    sample_rate: input.rate,
                    channels: input.channels,
                });
            }
            last_data = Instant::now();
        }
        downmix_into(&raw, usize::from(input.channels), &mut mono);
        speech.clear();
        resampler.push(&mono, &mut speech)?;
        if stop {
            resampler.flush(&mut speech)?;
        }
        let outcome = processor.push(&speech, |frame| {
            let _ = levels.try_send(frame);
        });
        for event in processor.take_events() {
            let _ = events.send(event);
        }
        if let Some(result) = outcome {
            return result;
        }
        if stop {
            return processor.finish();
        }

        if let Some(kind) = input.failure() {
            tracing::warn!(?kind, "audio input failed while recording");
            return Err(VoiceError::DeviceLost);
        }
        // A device may take a moment to start (PulseAudio can take ~2 s); once audio flows,
        // a gap of STALL means it is gone.
        let limit = if flowing { STALL } else { STARTUP_STALL };
        if last_data.elapsed() > limit {
            tracing::warn!("no audio from the input for {limit:?}");
            return Err(VoiceError::DeviceLost);
        }
    }
}

/// An open, playing input stream and the consumer end of its ring.
struct OpenInput {
    _stream: cpal::Stream,
    ring: rtrb::Consumer<f32>,
    failure: Arc<Mutex<Option<ErrorKind>>>,
    info: DeviceInfo,
    rate: u32,
    channels: u16,
    /// The reading end of the callback log, until `start` hands it to the caller.
    log: Option<rtrb::Consumer<CallbackStamp>>,
}

impl OpenInput {
    fn drain(&mut self, out: &mut Vec<f32>) {
        let channels = usize::from(self.channels.max(1));
        let available = self.ring.slots() / channels * channels;
        if available == 0 {
            return;
        }
        if let Ok(chunk) = self.ring.read_chunk(available) {
            let (a, b) = chunk.as_slices();
            out.extend_from_slice(a);
            out.extend_from_slice(b);
            chunk.commit_all();
        }
    }

    /// A stream error that means the device is gone.
    fn failure(&self) -> Option<ErrorKind> {
        let guard = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        *guard
    }
}

fn open(
    wanted: Option<&str>,
    dropped: &Arc<AtomicU64>,
    log_capacity: Option<usize>,
) -> Result<OpenInput, VoiceError> {
    let host = cpal::default_host();
    let device = find_device(&host, wanted)?;
    let default_id = host
        .default_input_device()
        .and_then(|d| d.id().ok())
        .map(|id| id.to_string());
    let info = describe(&host, &device, default_id.as_deref());
    let supported = device.default_input_config().map_err(|e| start_error(&e))?;
    let supported = prefer_few_channels(&device, supported);
    let rate = supported.sample_rate();
    let channels = supported.channels();
    let config = supported.config();
    let ring_len = rate as usize * usize::from(channels.max(1)) * RING_SECONDS;
    let (producer, mut consumer) = rtrb::RingBuffer::new(ring_len);
    let failure: Arc<Mutex<Option<ErrorKind>>> = Arc::new(Mutex::new(None));
    let on_error = {
        let failure = failure.clone();
        move |e: cpal::Error| match e.kind() {
            // Glitches and reroutes are not the end of a recording.
            ErrorKind::Xrun | ErrorKind::DeviceChanged | ErrorKind::RealtimeDenied => {}
            kind => {
                let mut guard = failure.lock().unwrap_or_else(|p| p.into_inner());
                guard.get_or_insert(kind);
            }
        }
    };
    // Small periods (15 ms asked; through ALSA's `pulse` plugin the callbacks then bring 10 ms
    // each, two thirds of what is asked): the level stream stays smooth, little audio waits in the device
    // when the user stops, and the meter follows the voice closely. Measured with
    // `voice-bench` through the `pulse` plugin: with 20 ms or 12 ms asked, cpal's thread
    // polled in a loop while a period filled (12–30% of a core); with 15 ms it took ~1%, and
    // 10 ms cost more wake-ups for no gain in latency. Some devices refuse a fixed size: then
    // take their default.
    let wanted = rate * 3 / 200;
    let period = match supported.buffer_size() {
        cpal::SupportedBufferSize::Range { min, max } => Some(wanted.clamp(*min, *max)),
        cpal::SupportedBufferSize::Unknown => Some(wanted),
    };
    let mut stream = None;
    let mut log = None;
    let mut producer = Some(producer);
    for buffer_size in [
        period.map(cpal::BufferSize::Fixed),
        Some(cpal::BufferSize::Default),
    ]
    .into_iter()
    .flatten()
    {
        let config = cpal::StreamConfig {
            buffer_size,
            ..config
        };
        // The ring goes into the callback; on failure, make a fresh one for the next try.
        let (p, c) = match producer.take() {
            Some(p) => (p, None),
            None => {
                let (p, c) = rtrb::RingBuffer::new(ring_len);
                (p, Some(c))
            }
        };
        let (log_tx, log_rx) = match log_capacity {
            Some(n) => {
                let (tx, rx) = rtrb::RingBuffer::new(n);
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        let side = CallbackSide {
            ring: p,
            dropped: dropped.clone(),
            log: log_tx,
            // `open` runs on the recorder's thread.
            recorder: std::thread::current(),
        };
        let built = build_any(
            &device,
            supported.sample_format(),
            config,
            side,
            on_error.clone(),
        );
        match built {
            Ok(s) => {
                if let Some(c) = c {
                    consumer = c;
                }
                stream = Some(s);
                log = log_rx;
                break;
            }
            Err(e)
                if buffer_size != cpal::BufferSize::Default
                    && matches!(
                        e.kind(),
                        ErrorKind::UnsupportedConfig | ErrorKind::InvalidInput
                    ) =>
            {
                tracing::debug!(%e, "fixed buffer size refused; using the device's default");
            }
            Err(e) => return Err(start_error(&e)),
        }
    }
    let stream =
        stream.ok_or_else(|| VoiceError::Audio("could not open the input stream".into()))?;
    stream.play().map_err(|e| start_error(&e))?;
    tracing::debug!(rate, channels, period = ?stream.buffer_size(), "input stream playing");
    Ok(OpenInput {
        _stream: stream,
        ring: consumer,
        failure,
        info,
        rate,
        channels,
        log,
    })
}

fn build_any<F>(
    device: &cpal::Device,
    format: cpal::SampleFormat,
    config: cpal::StreamConfig,
    side: CallbackSide,
    on_error: F,
) -> Result<cpal::Stream, cpal::Error>
where
    F: FnMut(cpal::Error) + Send + 'static,
{
    let timeout = Some(Duration::from_secs(5));
    match format {
        cpal::SampleFormat::F32 => build::<f32>(device, config, side, on_error, timeout),
        cpal::SampleFormat::I16 => build::<i16>(device, config, side, on_error, timeout),
        cpal::SampleFormat::I32 => build::<i32>(device, config, side, on_error, timeout),
        cpal::SampleFormat::U16 => build::<u16>(device, config, side, on_error, timeout),
        cpal::SampleFormat::U8 => build::<u8>(device, config, side, on_error, timeout),
        cpal::SampleFormat::I8 => build::<i8>(device, config, side, on_error, timeout),
        cpal::SampleFormat::F64 => build::<f64>(device, config, side, on_error, timeout),
        cpal::SampleFormat::I24 => build::<cpal::I24>(device, config, side, on_error, timeout),
        other => Err(cpal::Error::with_message(
            ErrorKind::UnsupportedConfig,
            format!("the microphone delivers {other} samples, which are not supported"),
        )),
    }
}

/// Speech needs one channel: when the default config has many (a virtual device, an
/// interface), use a mono or stereo one at the same rate if the device offers it.
fn prefer_few_channels(
    device: &cpal::Device,
    default: cpal::SupportedStreamConfig,
) -> cpal::SupportedStreamConfig {
    if default.channels() <= 2 {
        return default;
    }
    let rate = default.sample_rate();
    device
        .supported_input_configs()
        .ok()
        .and_then(|ranges| {
            ranges
                .filter(|r| r.channels() <= 2 && r.contains_rate(rate))
                .min_by_key(|r| (r.sample_format() != default.sample_format(), r.channels()))
                .map(|r| r.with_sample_rate(rate))
        })
        .unwrap_or(default)
}

/// What the audio callback owns: the ring to the recorder's thread, the count of samples it
/// had to drop, and (for the bench) the callback log.
struct CallbackSide {
    ring: rtrb::Producer<f32>,
    dropped: Arc<AtomicU64>,
    log: Option<rtrb::Producer<CallbackStamp>>,
    /// The recorder's thread, woken when audio is in the ring.
    recorder: std::thread::Thread,
}

fn build<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    side: CallbackSide,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
    timeout: Option<Duration>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels.max(1));
    let CallbackSide {
        ring: mut producer,
        dropped,
        mut log,
        recorder,
    } = side;
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], _info| {
            if let Some(log) = log.as_mut() {
                let peak = data.iter().fold(0.0f32, |m, s| {
                    m.max(<f32 as FromSample<T>>::from_sample_(*s).abs())
                });
                // A full log drops stamps: the reader sees the gap in `at`.
                let _ = log.push(CallbackStamp {
                    at: Instant::now(),
                    frames: data.len() / channels,
                    peak,
                });
            }
            // Real-time thread: no locks, no allocation. Whole frames only, so a full ring
            // drops frames rather than shifting channels.
            let room = producer.slots() / channels * channels;
            let n = data.len().min(room);
            if n < data.len() {
                dropped.fetch_add((data.len() - n) as u64, Ordering::Relaxed);
            }
            if let Ok(chunk) = producer.write_chunk_uninit(n) {
                chunk.fill_from_iter(
                    data[..n]
                        .iter()
                        .map(|s| <f32 as FromSample<T>>::from_sample_(*s)),
                );
            }
            // No lock and no allocation: an atomic swap, and a futex wake only when the
            // recorder's thread is parked. Waking it here rather than letting it poll saves
            // up to a poll interval of latency on every level frame.
            recorder.unpark();
        },
        on_error,
        timeout,
    )
}

/// The recording logic on 16 kHz mono samples, free of any device: levels, VAD, segments,
/// the kept audio. The capture thread feeds it; tests feed it directly.
#[derive(Debug)]
pub struct Processor {
    mode: Mode,
    analyzer: LevelAnalyzer,
    vad: Vad,
    segmenter: Segmenter,
    frame: Vec<f32>,
    /// Kept audio; `audio[0]` is sample `base` of the recording.
    audio: Vec<f32>,
    base: u64,
    total: u64,
    events: Vec<UtteranceEvent>,
    /// Push-to-talk: first and last voiced sample, voiced time.
    voiced: Option<(u64, u64)>,
    voiced_ms: u64,
    speaking: bool,
    /// Hands-free, not continuous: the utterance it ended with.
    finished: Option<Utterance>,
    nonzero_seen: bool,
    silent_reported: bool,
}

/// Audio kept around push-to-talk speech when trimming, and after a hands-free utterance.
const PAD_MS: u64 = 300;
const TAIL_MS: u64 = 200;
/// Push-to-talk with less voiced time than this has no speech.
const MIN_PTT_SPEECH_MS: u64 = 100;

impl Processor {
    pub fn new(mode: Mode) -> Self {
        let config = match mode {
            Mode::HandsFree(c) => c,
            // Push-to-talk uses the segmenter only to report speech starts.
            Mode::PushToTalk => HandsFree {
                silence_ms: 500,
                no_speech_timeout_ms: None,
                max_utterance_ms: u32::MAX,
                ..HandsFree::default()
            },
        };
        Self {
            mode,
            analyzer: LevelAnalyzer::new(),
            vad: Vad::new(),
            segmenter: Segmenter::new(config),
            frame: Vec::with_capacity(HOP),
            audio: Vec::new(),
            base: 0,
            total: 0,
            events: Vec::new(),
            voiced: None,
            voiced_ms: 0,
            speaking: false,
            finished: None,
            nonzero_seen: false,
            silent_reported: false,
        }
    }

    /// Events produced since the last call.
    pub fn take_events(&mut self) -> Vec<UtteranceEvent> {
        std::mem::take(&mut self.events)
    }

    /// Feeds 16 kHz mono samples. `Some(result)` when the recording ended by itself.
    pub fn push(
        &mut self,
        samples: &[f32],
        mut level: impl FnMut(LevelFrame),
    ) -> Option<Result<Utterance, VoiceError>> {
        self.audio.extend_from_slice(samples);
        for &s in samples {
            self.frame.push(s);
            if self.frame.len() < HOP {
                continue;
            }
            // Taken out and put back: `on_frame` borrows `self`, and the buffer is reused.
            let frame = std::mem::take(&mut self.frame);
            self.total += HOP as u64;
            let done = self.on_frame(&frame, &mut level);
            self.frame = frame;
            self.frame.clear();
            if done.is_some() {
                return done;
            }
        }
        None
    }

    fn on_frame(
        &mut self,
        frame: &[f32],
        level: &mut impl FnMut(LevelFrame),
    ) -> Option<Result<Utterance, VoiceError>> {
        self.analyzer.push(frame, &mut *level);
        if !self.nonzero_seen {
            self.nonzero_seen = frame.iter().any(|&s| s != 0.0);
            if !self.nonzero_seen
                && !self.silent_reported
                && self.total >= 3 * u64::from(SPEECH_RATE)
            {
                self.silent_reported = true;
                self.events.push(UtteranceEvent::InputSilent);
            }
        }
        let voiced = self.vad.is_speech(frame);
        let end = self.total;
        if voiced {
            let start = end - HOP as u64;
            self.voiced = Some(self.voiced.map_or((start, end), |(first, _)| (first, end)));
            self.voiced_ms += FRAME_MS;
        }
        let segment = self.segmenter.push(voiced, end);
        match (self.mode, segment) {
            (_, Some(Segment::Started { start })) => {
                if !self.speaking {
                    self.events.push(UtteranceEvent::SpeechStarted {
                        t_ms: samples_to_ms(start as usize, SPEECH_RATE),
                    });
                }
                self.speaking = true;
            }
            (Mode::PushToTalk, _) => {
                if matches!(
                    segment,
                    Some(Segment::Ended { .. } | Segment::Discarded { .. })
                ) {
                    self.speaking = false;
                }
                if samples_to_ms(self.audio.len(), SPEECH_RATE) >= MAX_PUSH_TO_TALK_MS {
                    let result = self.finish();
                    if let Ok(u) = &result {
                        self.events.push(UtteranceEvent::Utterance(u.clone()));
                    }
                    return Some(result);
                }
            }
            (
                Mode::HandsFree(config),
                Some(Segment::Ended {
                    start,
                    end,
                    speech_ms,
                }),
            ) => {
                self.speaking = false;
                let utterance = self.cut(start, end, config.pre_roll_ms, speech_ms);
                self.events
                    .push(UtteranceEvent::Utterance(utterance.clone()));
                if !config.continuous {
                    self.finished = Some(utterance.clone());
                    return Some(Ok(utterance));
                }
            }
            (Mode::HandsFree(_), Some(Segment::Discarded { .. })) => self.speaking = false,
            (Mode::HandsFree(_), Some(Segment::NoSpeechTimeout)) => {
                return Some(Err(VoiceError::NoSpeech));
            }
            (Mode::HandsFree(config), None) => {
                if !self.segmenter.in_speech() {
                    self.forget_before(
                        end.saturating_sub(ms_to_samples(config.pre_roll_ms.into()) + HOP as u64),
                    );
                }
            }
        }
        None
    }

    /// Drops kept audio before sample `keep_from` (hands-free, between utterances).
    fn forget_before(&mut self, keep_from: u64) {
        // Only now and then: draining the front of a Vec is a copy.
        if keep_from > self.base + u64::from(SPEECH_RATE) {
            let n = (keep_from - self.base) as usize;
            let n = n.min(self.audio.len());
            self.audio.drain(..n);
            self.base += n as u64;
        }
    }

    /// The kept audio from `start - pre_roll` to `end + tail`.
    fn cut(&self, start: u64, end: u64, pre_roll_ms: u32, speech_ms: u64) -> Utterance {
        let from = start
            .saturating_sub(ms_to_samples(pre_roll_ms.into()))
            .max(self.base);
        let to = (end + ms_to_samples(TAIL_MS)).min(self.base + self.audio.len() as u64);
        let samples = if to > from {
            self.audio[(from - self.base) as usize..(to - self.base) as usize].to_vec()
        } else {
            Vec::new()
        };
        Utterance {
            samples,
            sample_rate: SPEECH_RATE,
            start_ms: samples_to_ms(from as usize, SPEECH_RATE),
            speech_ms,
        }
    }

    /// The user pressed stop: the result of the recording.
    pub fn finish(&mut self) -> Result<Utterance, VoiceError> {
        match self.mode {
            Mode::PushToTalk => {
                let Some((first, last)) =
                    self.voiced.filter(|_| self.voiced_ms >= MIN_PTT_SPEECH_MS)
                else {
                    return Err(VoiceError::NoSpeech);
                };
                let from = first.saturating_sub(ms_to_samples(PAD_MS));
                let to = (last + ms_to_samples(PAD_MS)).min(self.base + self.audio.len() as u64);
                // `cut` adds TAIL_MS after `end`: take it off so the take ends at `to`.
                let end = to.saturating_sub(ms_to_samples(TAIL_MS));
                Ok(self.cut(from, end, 0, self.voiced_ms))
            }
            Mode::HandsFree(config) => {
                if let Some(done) = &self.finished {
                    return Ok(done.clone());
                }
                match self.segmenter.finish() {
                    Some(Segment::Ended {
                        start,
                        end,
                        speech_ms,
                    }) => Ok(self.cut(start, end, config.pre_roll_ms, speech_ms)),
                    _ => Err(VoiceError::NoSpeech),
                }
            }
        }
    }
}

fn ms_to_samples(ms: u64) -> u64 {
    ms * u64::from(SPEECH_RATE) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(ms: usize, amp: f32) -> Vec<f32> {
        (0..ms * 16)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                let env = 0.6 + 0.4 * (2.0 * std::f32::consts::PI * 3.0 * t).sin();
                amp * env
                    * (1..6)
                        .map(|h| {
                            (2.0 * std::f32::consts::PI * 150.0 * h as f32 * t).sin() / h as f32
                        })
                        .sum::<f32>()
            })
            .collect()
    }

    fn run(
        mode: Mode,
        x: &[f32],
        chunk: usize,
    ) -> (
        Vec<UtteranceEvent>,
        usize,
        Option<Result<Utterance, VoiceError>>,
    ) {
        let mut p = Processor::new(mode);
        let mut frames = 0;
        let mut events = Vec::new();
        for c in x.chunks(chunk) {
            if let Some(done) = p.push(c, |_| frames += 1) {
                events.extend(p.take_events());
                return (events, frames, Some(done));
            }
            events.extend(p.take_events());
        }
        let result = p.finish();
        (events, frames, Some(result))
    }

    #[test]
    fn push_to_talk_trims_to_speech_with_padding() {
        let mut x = vec![0.0; 16 * 2000];
        x.extend(voice(1500, 0.3));
        x.extend(vec![0.0; 16 * 2000]);
        let (events, frames, result) = run(Mode::PushToTalk, &x, 441);
        assert_eq!(frames, x.len() / HOP);
        let u = result.unwrap().unwrap();
        assert!((1650..=1750).contains(&u.start_ms), "{u:?}");
        assert!((2000..=2200).contains(&u.duration_ms()), "{u:?}");
        assert!(u.speech_ms >= 1200, "{u:?}");
        assert!(
            matches!(events[0], UtteranceEvent::SpeechStarted { t_ms } if (1990..=2050).contains(&t_ms)),
            "{events:?}"
        );
    }

    #[test]
    fn push_to_talk_without_speech_is_no_speech() {
        let x = vec![0.0; 16 * 4000];
        let (events, _, result) = run(Mode::PushToTalk, &x, 1000);
        assert_eq!(result.unwrap().unwrap_err(), VoiceError::NoSpeech);
        assert!(events.contains(&UtteranceEvent::InputSilent), "{events:?}");
    }

    #[test]
    fn hands_free_ends_on_silence_and_keeps_pre_roll() {
        let mut x = vec![0.0; 16 * 3000];
        x.extend(voice(1200, 0.3));
        x.extend(vec![0.0; 16 * 3000]);
        let (events, _, result) = run(Mode::HandsFree(HandsFree::default()), &x, 512);
        let u = result.unwrap().unwrap();
        assert!((2650..=2750).contains(&u.start_ms), "{u:?}");
        assert!((1600..=1800).contains(&u.duration_ms()), "{u:?}");
        assert!(
            events
                .iter()
                .any(|e| matches!(e, UtteranceEvent::Utterance(_)))
        );
    }

    #[test]
    fn continuous_hands_free_emits_each_utterance() {
        let mut x = vec![0.0; 16 * 1000];
        for _ in 0..3 {
            x.extend(voice(700, 0.3));
            x.extend(vec![0.0; 16 * 1500]);
        }
        let config = HandsFree {
            continuous: true,
            ..HandsFree::default()
        };
        let (events, _, result) = run(Mode::HandsFree(config), &x, 300);
        let n = events
            .iter()
            .filter(|e| matches!(e, UtteranceEvent::Utterance(_)))
            .count();
        assert_eq!(n, 3, "{events:?}");
        assert_eq!(result.unwrap().unwrap_err(), VoiceError::NoSpeech);
    }
}

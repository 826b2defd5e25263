//! Voice input for SAM Desktop: native capture (cpal: ALSA/PulseAudio/PipeWire, CoreAudio,
//! WASAPI), a ~60 Hz level/spectrum stream, push-to-talk and hands-free recording with
//! voice-activity detection, and transcription (an OpenAI-compatible service, or whisper.cpp on
//! the device with the `local-whisper` feature).
//!
//! ```no_run
//! # async fn demo() -> Result<(), sam_voice::VoiceError> {
//! use sam_voice::*;
//! let (handle, levels, events) = Recorder::start(None, Mode::PushToTalk)?;
//! std::thread::spawn(move || for frame in levels { let _ = frame.rms; });
//! // … the user releases the key …
//! let speech = handle.stop()?;
//! let client = OpenAiCompatible::new(OpenAiConfig::openai(ApiKey::new("sk-…")))?;
//! let text = client.transcribe(AudioInput::Speech(speech), &TranscribeOptions::default()).await?;
//! # drop(events); let _ = text; Ok(()) }
//! ```

mod audio;
mod capture;
mod error;
mod levels;
#[cfg(feature = "local-whisper")]
mod local;
pub mod models;
#[cfg(feature = "test-support")]
pub mod test_support;
mod transcribe;
mod vad;

pub use audio::{
    DecodedAudio, SPEECH_RATE, Utterance, decode_wav, downmix, encode_wav, is_wav, resample,
    wav_size,
};
#[cfg(feature = "test-support")]
pub use capture::CallbackLog;
pub use capture::{
    CallbackStamp, DeviceInfo, Mode, Processor, Recorder, RecorderHandle, UtteranceEvent, devices,
};
pub use error::VoiceError;
pub use levels::{BAND_EDGES_HZ, FLOOR_DB, HOP, LevelAnalyzer, LevelFrame};
#[cfg(feature = "local-whisper")]
pub use local::LocalWhisper;
pub use transcribe::{
    ApiKey, AudioInput, BoxFuture, OPENAI_MAX_UPLOAD, OpenAiCompatible, OpenAiConfig,
    TranscribeOptions, Transcriber, Transcript, split_at_quiet,
};
pub use vad::{FRAME_MS, HandsFree, Segment, Segmenter, Vad};

/// Whether this build can transcribe on the device (the `local-whisper` feature).
pub const HAS_LOCAL_WHISPER: bool = cfg!(feature = "local-whisper");

//! On-device transcription with whisper.cpp (through `whisper-rs`), behind the
//! `local-whisper` feature. The model file comes from [`crate::models::download_model`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

use crate::audio::{SPEECH_RATE, decode_wav, is_wav};
use crate::error::VoiceError;
use crate::transcribe::{AudioInput, BoxFuture, TranscribeOptions, Transcriber, Transcript};

/// A loaded whisper.cpp model. Cheap to clone; each transcription gets its own state and
/// runs on tokio's blocking pool (it is CPU-bound for seconds).
#[derive(Clone)]
pub struct LocalWhisper {
    context: Arc<WhisperContext>,
    path: PathBuf,
    threads: i32,
}

impl std::fmt::Debug for LocalWhisper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalWhisper")
            .field("path", &self.path)
            .field("threads", &self.threads)
            .finish()
    }
}

impl LocalWhisper {
    /// Loads a ggml model file (slow: hundreds of MB are read). Call it off the async runtime.
    pub fn load(path: &Path) -> Result<Self, VoiceError> {
        if !path.is_file() {
            return Err(VoiceError::ModelMissing(path.display().to_string()));
        }
        check_header(path)?;
        let context = WhisperContext::new_with_params(path, WhisperContextParameters::default())
            .map_err(|e| {
                tracing::warn!(path = %path.display(), error = %e, "whisper.cpp refused the model");
                VoiceError::ModelUnreadable(path.display().to_string())
            })?;
        let threads = std::thread::available_parallelism()
            .map(|n| n.get().min(8) as i32)
            .unwrap_or(2);
        Ok(Self {
            context: Arc::new(context),
            path: path.to_owned(),
            threads,
        })
    }

    fn run(&self, samples: &[f32], options: &TranscribeOptions) -> Result<Transcript, VoiceError> {
        let mut state = self
            .context
            .create_state()
            .map_err(|e| VoiceError::LocalModel(e.to_string()))?;
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(self.threads);
        params.set_translate(false);
        params.set_language(Some(options.language.as_deref().unwrap_or("auto")));
        if let Some(prompt) = options.prompt.as_deref() {
            params.set_initial_prompt(prompt);
        }
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        params.set_suppress_blank(true);
        params.set_no_context(true);
        // whisper.cpp wants at least a second; pad short clips with silence.
        let min_len = SPEECH_RATE as usize + SPEECH_RATE as usize / 10;
        let padded: Vec<f32>;
        let data = if samples.len() < min_len {
            let mut v = samples.to_vec();
            v.resize(min_len, 0.0);
            padded = v;
            &padded[..]
        } else {
            samples
        };
        state
            .full(params, data)
            .map_err(|e| VoiceError::LocalModel(e.to_string()))?;
        let mut text = String::new();
        for segment in state.as_iter() {
            let piece = segment
                .to_str_lossy()
                .map_err(|e| VoiceError::LocalModel(e.to_string()))?;
            text.push_str(&piece);
        }
        let text = text.trim().to_owned();
        if text.is_empty() || text == "[BLANK_AUDIO]" {
            return Err(VoiceError::NoSpeech);
        }
        let language = whisper_rs::get_lang_str(state.full_lang_id_from_state()).map(str::to_owned);
        Ok(Transcript {
            text,
            language,
            duration_secs: Some(samples.len() as f64 / f64::from(SPEECH_RATE)),
            chunks: 1,
            model: self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        })
    }
}

/// whisper.cpp's ggml file magic ("ggml", little-endian).
const GGML_MAGIC: u32 = 0x6767_6d6c;

/// Refuses a file whose header is not a plausible whisper.cpp model before whisper.cpp sees
/// it: whisper.cpp sizes its allocations from these numbers, so a damaged header could ask
/// for terabytes instead of failing cleanly.
fn check_header(path: &Path) -> Result<(), VoiceError> {
    use std::io::Read;
    let unreadable = || VoiceError::ModelUnreadable(path.display().to_string());
    let mut header = [0u8; 48];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .map_err(|_| unreadable())?;
    let word = |i: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&header[i * 4..i * 4 + 4]);
        i32::from_le_bytes(b)
    };
    if word(0) as u32 != GGML_MAGIC {
        return Err(unreadable());
    }
    // n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer, n_text_ctx,
    // n_text_state, n_text_head, n_text_layer, n_mels (whisper.cpp's hparams, in order).
    let limits = [
        200_000, 10_000, 10_000, 1_000, 1_000, 10_000, 10_000, 1_000, 1_000, 1_000,
    ];
    for (i, max) in limits.into_iter().enumerate() {
        let value = word(i + 1);
        if !(1..=max).contains(&value) {
            return Err(unreadable());
        }
    }
    Ok(())
}

fn speech_of(audio: AudioInput) -> Result<Vec<f32>, VoiceError> {
    match audio {
        AudioInput::Speech(u) if u.sample_rate == SPEECH_RATE => Ok(u.samples),
        AudioInput::Speech(u) => Err(VoiceError::InvalidInput(format!(
            "speech must be {SPEECH_RATE} Hz, got {} Hz",
            u.sample_rate
        ))),
        AudioInput::File { bytes, .. } if is_wav(&bytes) => decode_wav(&bytes)?.to_speech(),
        AudioInput::File { file_name, .. } => Err(VoiceError::UnsupportedAudio(format!(
            "on-device transcription reads WAV files; convert \"{file_name}\" first"
        ))),
    }
}

impl Transcriber for LocalWhisper {
    fn transcribe<'a>(
        &'a self,
        audio: AudioInput,
        options: &'a TranscribeOptions,
    ) -> BoxFuture<'a, Result<Transcript, VoiceError>> {
        let this = self.clone();
        let options = options.clone();
        Box::pin(async move {
            let samples = speech_of(audio)?;
            if samples.is_empty() {
                return Err(VoiceError::NoSpeech);
            }
            tokio::task::spawn_blocking(move || this.run(&samples, &options))
                .await
                .map_err(|e| VoiceError::Internal(format!("transcription task: {e}")))?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_broken_models_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("ggml-base.en.bin");
        assert_eq!(
            LocalWhisper::load(&missing).unwrap_err().code(),
            "model_missing"
        );
        std::fs::write(&missing, b"not a ggml model").unwrap();
        let e = LocalWhisper::load(&missing).unwrap_err();
        assert_eq!(e.code(), "model_unreadable");
        assert!(e.to_string().contains("could not be loaded"), "{e}");
        // The right magic number and then nothing: whisper.cpp must refuse it, not crash.
        std::fs::write(&missing, 0x6767_6d6c_u32.to_le_bytes()).unwrap();
        assert_eq!(
            LocalWhisper::load(&missing).unwrap_err().code(),
            "model_unreadable"
        );
        // The right magic and a header of random bytes.
        let mut bytes = GGML_MAGIC.to_le_bytes().to_vec();
        bytes.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        std::fs::write(&missing, bytes).unwrap();
        assert_eq!(
            LocalWhisper::load(&missing).unwrap_err().code(),
            "model_unreadable"
        );
        // tiny.en's real header, then zeros where the mel filters, vocabulary and tensors
        // belong: whisper.cpp itself must refuse it.
        let mut bytes = GGML_MAGIC.to_le_bytes().to_vec();
        for v in [51864i32, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1] {
            bytes.extend(v.to_le_bytes());
        }
        bytes.resize(64 * 1024, 0);
        std::fs::write(&missing, bytes).unwrap();
        let e = LocalWhisper::load(&missing).unwrap_err();
        assert_eq!(e.code(), "model_unreadable", "{e}");
    }

    #[test]
    fn only_wav_files_are_read_on_the_device() {
        let e = speech_of(AudioInput::File {
            bytes: vec![1, 2, 3],
            file_name: "memo.mp3".into(),
        })
        .unwrap_err();
        assert_eq!(e.code(), "unsupported_audio");
    }
}

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
        let context = WhisperContext::new_with_params(path, WhisperContextParameters::default())
            .map_err(|e| {
                VoiceError::LocalModel(format!("could not load {}: {e}", path.display()))
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
        assert_eq!(
            LocalWhisper::load(&missing).unwrap_err().code(),
            "local_model_failed"
        );
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

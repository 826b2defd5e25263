//! PCM in the shape speech models want (16 kHz mono `f32`), WAV in and out, and resampling.
//!
//! Resampling uses rubato's FFT resampler: a fixed-ratio, band-limited converter (its
//! anti-aliasing filter removes what lies above the new Nyquist frequency) — not the sample
//! dropping or linear interpolation that aliases sibilants into the speech band.

use std::io::Cursor;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::error::VoiceError;

/// The rate every model and service here gets: Whisper and its kin are trained on 16 kHz.
pub const SPEECH_RATE: u32 = 16_000;

/// Recorded speech: 16 kHz mono samples in `-1.0..=1.0`, with where it lay in the recording.
#[derive(Clone, PartialEq)]
pub struct Utterance {
    /// 16 kHz mono PCM.
    pub samples: Vec<f32>,
    /// Always [`SPEECH_RATE`]; kept so a consumer never has to assume.
    pub sample_rate: u32,
    /// Where the utterance starts, in ms since the recording started.
    pub start_ms: u64,
    /// How much of it the voice-activity detector judged to be speech, in ms.
    pub speech_ms: u64,
}

impl std::fmt::Debug for Utterance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Utterance")
            .field("samples", &self.samples.len())
            .field("sample_rate", &self.sample_rate)
            .field("start_ms", &self.start_ms)
            .field("duration_ms", &self.duration_ms())
            .field("speech_ms", &self.speech_ms)
            .finish()
    }
}

impl Utterance {
    /// 16 kHz mono samples, starting at the beginning of a recording.
    pub fn from_samples(samples: Vec<f32>) -> Self {
        Self {
            samples,
            sample_rate: SPEECH_RATE,
            start_ms: 0,
            speech_ms: 0,
        }
    }

    pub fn duration_ms(&self) -> u64 {
        samples_to_ms(self.samples.len(), self.sample_rate)
    }

    /// The utterance as a 16-bit PCM WAV file.
    pub fn to_wav(&self) -> Result<Vec<u8>, VoiceError> {
        encode_wav(&self.samples, self.sample_rate)
    }
}

pub(crate) fn samples_to_ms(samples: usize, rate: u32) -> u64 {
    if rate == 0 {
        return 0;
    }
    (samples as u64).saturating_mul(1000) / u64::from(rate)
}

/// Mono `f32` samples as a 16-bit PCM WAV file (what every transcription service accepts).
pub fn encode_wav(samples: &[f32], sample_rate: u32) -> Result<Vec<u8>, VoiceError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let mut writer = hound::WavWriter::new(&mut out, spec)
        .map_err(|e| VoiceError::Internal(format!("WAV writer: {e}")))?;
    for &s in samples {
        let v = (s.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16;
        writer
            .write_sample(v)
            .map_err(|e| VoiceError::Internal(format!("WAV writer: {e}")))?;
    }
    writer
        .finalize()
        .map_err(|e| VoiceError::Internal(format!("WAV writer: {e}")))?;
    Ok(out.into_inner())
}

/// Size of the 16-bit mono WAV that [`encode_wav`] makes from `samples` samples.
pub fn wav_size(samples: usize) -> u64 {
    44 + 2 * samples as u64
}

/// A decoded WAV file: interleaved samples as `f32`.
#[derive(Debug, Clone)]
pub struct DecodedAudio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    pub channels: u16,
}

impl DecodedAudio {
    /// Downmixed to mono and resampled to 16 kHz.
    pub fn to_speech(&self) -> Result<Vec<f32>, VoiceError> {
        let mono = downmix(&self.samples, usize::from(self.channels));
        resample(&mono, self.sample_rate, SPEECH_RATE)
    }
}

/// Whether `bytes` start like a RIFF/WAVE file.
pub fn is_wav(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE"
}

/// Reads a PCM (8/16/24/32-bit integer) or 32-bit float WAV file.
pub fn decode_wav(bytes: &[u8]) -> Result<DecodedAudio, VoiceError> {
    let reader = hound::WavReader::new(Cursor::new(bytes))
        .map_err(|e| VoiceError::UnsupportedAudio(format!("not a readable WAV file ({e})")))?;
    let spec = reader.spec();
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(VoiceError::UnsupportedAudio(
            "the WAV file has no channels or no sample rate".into(),
        ));
    }
    let bad = |e: hound::Error| VoiceError::UnsupportedAudio(format!("damaged WAV data ({e})"));
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        hound::SampleFormat::Int => {
            let bits = spec.bits_per_sample;
            if bits == 0 || bits > 32 {
                return Err(VoiceError::UnsupportedAudio(format!(
                    "{bits}-bit samples are not supported"
                )));
            }
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(bad)?
        }
    };
    Ok(DecodedAudio {
        samples,
        sample_rate: spec.sample_rate,
        channels: spec.channels,
    })
}

/// Interleaved frames of `channels` channels, averaged to one.
pub fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(interleaved.len() / channels.max(1));
    downmix_into(interleaved, channels, &mut out);
    out
}

/// [`downmix`] into a buffer the caller reuses (the capture loop: no allocation per wake-up).
pub(crate) fn downmix_into(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    out.clear();
    if channels <= 1 {
        out.extend_from_slice(interleaved);
        return;
    }
    let scale = 1.0 / channels as f32;
    out.extend(
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() * scale),
    );
}

/// A whole mono clip from `from` Hz to `to` Hz, band-limited, aligned with the input (the
/// resampler's delay is trimmed off).
pub fn resample(mono: &[f32], from: u32, to: u32) -> Result<Vec<f32>, VoiceError> {
    if from == to || mono.is_empty() {
        return Ok(mono.to_vec());
    }
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Both)
        .map_err(|e| VoiceError::Internal(format!("resampler: {e}")))?;
    let input = InterleavedSlice::new(mono, 1, mono.len())
        .map_err(|e| VoiceError::Internal(format!("resampler input: {e}")))?;
    let out = resampler
        .process_all(&input, mono.len(), None)
        .map_err(|e| VoiceError::Internal(format!("resampler: {e}")))?;
    Ok(out.take_data())
}

/// Resamples a live mono stream chunk by chunk (rubato FFT, fixed input chunks), trimming the
/// resampler's delay so output sample `n` lines up with input time `n / to`.
pub(crate) struct StreamResampler {
    inner: Option<Fft<f32>>,
    pending: Vec<f32>,
    out_buf: Vec<f32>,
    to_skip: usize,
    from: u32,
    to: u32,
    consumed: u64,
    produced: u64,
}

impl StreamResampler {
    pub(crate) fn new(from: u32, to: u32) -> Result<Self, VoiceError> {
        let inner = if from == to {
            None
        } else {
            // ~5 ms chunks: the resampler holds back at most one chunk plus half its FFT block
            // (~2.5 ms at 48 kHz), so the level meter lags the voice little; 20 ms chunks
            // added ~10 ms on average (measured with `voice-bench`). A 240-frame FFT per 5 ms
            // costs next to nothing.
            let chunk = (from as usize / 200).max(64);
            Some(
                Fft::<f32>::new(from as usize, to as usize, chunk, 1, FixedSync::Input)
                    .map_err(|e| VoiceError::Internal(format!("resampler: {e}")))?,
            )
        };
        let (to_skip, out_len) = inner
            .as_ref()
            .map(|r| (r.output_delay(), r.output_frames_max()))
            .unwrap_or((0, 0));
        Ok(Self {
            inner,
            pending: Vec::new(),
            out_buf: vec![0.0; out_len],
            to_skip,
            from,
            to,
            consumed: 0,
            produced: 0,
        })
    }

    /// Feeds mono input; appends whatever output is ready to `out`.
    pub(crate) fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), VoiceError> {
        self.consumed += input.len() as u64;
        let Some(inner) = self.inner.as_mut() else {
            out.extend_from_slice(input);
            self.produced += input.len() as u64;
            return Ok(());
        };
        self.pending.extend_from_slice(input);
        let mut start = 0;
        loop {
            let need = inner.input_frames_next();
            if self.pending.len() - start < need {
                break;
            }
            let chunk = &self.pending[start..start + need];
            let produced = run_chunk(inner, chunk, &mut self.out_buf, None)?;
            start += need;
            emit(
                &self.out_buf[..produced],
                &mut self.to_skip,
                &mut self.produced,
                out,
            );
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// Pushes out what is still inside the resampler (at the end of a recording), so the
    /// output is as long as the input.
    pub(crate) fn flush(&mut self, out: &mut Vec<f32>) -> Result<(), VoiceError> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(());
        };
        let expected = self.consumed * u64::from(self.to) / u64::from(self.from);
        let mut guard = 0;
        while self.produced < expected && guard < 8 {
            guard += 1;
            let need = inner.input_frames_next();
            let mut chunk = std::mem::take(&mut self.pending);
            let valid = chunk.len().min(need);
            chunk.resize(need, 0.0);
            let indexing = Indexing::new().partial_len(valid);
            let produced = run_chunk(inner, &chunk, &mut self.out_buf, Some(&indexing))?;
            let room = (expected - self.produced) as usize;
            let mut skip = self.to_skip;
            let usable = produced.saturating_sub(skip.min(produced)).min(room);
            let from = skip.min(produced);
            skip -= from;
            self.to_skip = skip;
            out.extend_from_slice(&self.out_buf[from..from + usable]);
            self.produced += usable as u64;
        }
        Ok(())
    }
}

fn run_chunk(
    inner: &mut Fft<f32>,
    chunk: &[f32],
    out_buf: &mut [f32],
    indexing: Option<&Indexing>,
) -> Result<usize, VoiceError> {
    let input = InterleavedSlice::new(chunk, 1, chunk.len())
        .map_err(|e| VoiceError::Internal(format!("resampler input: {e}")))?;
    let frames = out_buf.len();
    let mut output = InterleavedSlice::new_mut(out_buf, 1, frames)
        .map_err(|e| VoiceError::Internal(format!("resampler output: {e}")))?;
    let (_, produced) = inner
        .process_into_buffer(&input, &mut output, indexing)
        .map_err(|e| VoiceError::Internal(format!("resampler: {e}")))?;
    Ok(produced)
}

fn emit(block: &[f32], to_skip: &mut usize, produced: &mut u64, out: &mut Vec<f32>) {
    let skip = (*to_skip).min(block.len());
    *to_skip -= skip;
    out.extend_from_slice(&block[skip..]);
    *produced += (block.len() - skip) as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, secs: f32, amp: f32) -> Vec<f32> {
        let n = (rate as f32 * secs) as usize;
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
    }

    /// Frequency from zero crossings (good enough for a clean sine).
    fn freq_of(x: &[f32], rate: u32) -> f32 {
        let crossings = x.windows(2).filter(|w| w[0] <= 0.0 && w[1] > 0.0).count();
        crossings as f32 * rate as f32 / x.len() as f32
    }

    #[test]
    fn wav_round_trip_keeps_samples() {
        let x = sine(440.0, 16_000, 0.5, 0.5);
        let wav = encode_wav(&x, 16_000).unwrap();
        assert!(is_wav(&wav));
        assert_eq!(wav.len() as u64, wav_size(x.len()));
        let back = decode_wav(&wav).unwrap();
        assert_eq!(back.sample_rate, 16_000);
        assert_eq!(back.channels, 1);
        assert_eq!(back.samples.len(), x.len());
        let err: f32 = x
            .iter()
            .zip(&back.samples)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-4, "{err}");
    }

    #[test]
    fn garbage_is_not_a_wav() {
        let e = decode_wav(b"ID3 this is an mp3").unwrap_err();
        assert_eq!(e.code(), "unsupported_audio");
    }

    #[test]
    fn offline_resample_keeps_pitch_level_and_length() {
        for from in [48_000, 44_100, 22_050, 8_000] {
            let x = sine(440.0, from, 1.0, 0.5);
            let y = resample(&x, from, SPEECH_RATE).unwrap();
            let expected = 16_000usize;
            assert!(
                (y.len() as i64 - expected as i64).abs() <= 2,
                "{from}: {} samples",
                y.len()
            );
            let mid = &y[2000..14000];
            assert!((freq_of(mid, SPEECH_RATE) - 440.0).abs() < 3.0, "{from}");
            assert!((rms(mid) - 0.5 / 2f32.sqrt()).abs() < 0.01, "{from}");
        }
    }

    #[test]
    fn resampling_filters_what_lies_above_the_new_nyquist() {
        // A 10 kHz tone at 48 kHz cannot exist at 16 kHz: a proper resampler removes it; a
        // naive one folds it down to 6 kHz at full level.
        let x = sine(10_000.0, 48_000, 1.0, 0.5);
        let y = resample(&x, 48_000, SPEECH_RATE).unwrap();
        let level = rms(&y[2000..14000]);
        assert!(level < 0.005, "aliased energy {level}");
    }

    #[test]
    fn stream_resampler_matches_offline_and_is_aligned() {
        let from = 48_000;
        let x = sine(300.0, from, 1.0, 0.4);
        let mut stream = StreamResampler::new(from, SPEECH_RATE).unwrap();
        let mut out = Vec::new();
        // Uneven callback sizes, like a real device.
        for chunk in x.chunks(479) {
            stream.push(chunk, &mut out).unwrap();
        }
        stream.flush(&mut out).unwrap();
        assert_eq!(out.len(), 16_000);
        // Aligned: the sine's phase at the start matches the input's (no delay left in).
        let reference = sine(300.0, SPEECH_RATE, 1.0, 0.4);
        let err: f32 = out[1000..15000]
            .iter()
            .zip(&reference[1000..15000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.02, "{err}");
    }

    #[test]
    fn downmix_averages_channels() {
        assert_eq!(downmix(&[1.0, 0.0, 0.5, 0.5], 2), vec![0.5, 0.5]);
    }
}

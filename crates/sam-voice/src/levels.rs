//! The level/spectrum stream: one [`LevelFrame`] every 256 samples of 16 kHz audio (62.5 per
//! second), computed on the capture thread and sent on a channel — never in a render loop.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use serde::Serialize;

use crate::audio::SPEECH_RATE;

/// Samples between two frames: 16 ms at 16 kHz, i.e. 62.5 frames per second.
pub const HOP: usize = 256;
/// The FFT window: 32 ms, 31.25 Hz per bin.
pub const WINDOW: usize = 512;
/// Edges of the 8 bands in Hz: roughly octaves over the speech range, 80 Hz to 8 kHz.
pub const BAND_EDGES_HZ: [f32; 9] = [
    80.0, 160.0, 320.0, 640.0, 1280.0, 2560.0, 4000.0, 5600.0, 8000.0,
];
/// The floor of the dB scale the bands are mapped from (0.0 = this or quieter, 1.0 = 0 dBFS).
pub const FLOOR_DB: f32 = -80.0;

/// One snapshot of the input for a level meter or a visualiser.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelFrame {
    /// RMS of the last 16 ms, linear, 0.0..=1.0 (full-scale sine ≈ 0.707).
    pub rms: f32,
    /// Largest absolute sample of the last 16 ms, 0.0..=1.0.
    pub peak: f32,
    /// Energy in each of the 8 bands of [`BAND_EDGES_HZ`], mapped from
    /// [`FLOOR_DB`]..=0 dBFS to 0.0..=1.0.
    pub bands: [f32; 8],
    /// The spectral centroid ("brightness") in Hz; 0.0 for silence.
    pub centroid_hz: f32,
    /// A sudden rise in energy (a syllable, a plosive, a clap) started in this frame.
    pub onset: bool,
    /// Time of the frame's end since the recording started, in ms.
    pub t_ms: u64,
}

impl LevelFrame {
    /// The RMS in dBFS (`FLOOR_DB` for silence).
    pub fn rms_db(&self) -> f32 {
        to_db(self.rms * self.rms)
    }
}

pub(crate) fn to_db(power: f32) -> f32 {
    if power <= 1e-10 {
        FLOOR_DB.min(-100.0)
    } else {
        10.0 * power.log10()
    }
}

/// Turns 16 kHz mono samples into [`LevelFrame`]s.
pub struct LevelAnalyzer {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    history: Vec<f32>,
    pending: usize,
    scratch_in: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    band_bins: [(usize, usize); 8],
    previous_log_mag: Vec<f32>,
    flux_history: Vec<f32>,
    flux_pos: usize,
    since_onset: u32,
    samples_seen: u64,
    /// Normalisation so that a full-scale sine gives 0 dB in its band.
    power_scale: f32,
}

impl std::fmt::Debug for LevelAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LevelAnalyzer")
            .field("samples_seen", &self.samples_seen)
            .finish_non_exhaustive()
    }
}

impl Default for LevelAnalyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl LevelAnalyzer {
    pub fn new() -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(WINDOW);
        let window: Vec<f32> = (0..WINDOW)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / WINDOW as f32).cos())
            .collect();
        let window_sum: f32 = window.iter().sum();
        let bin_hz = SPEECH_RATE as f32 / WINDOW as f32;
        let mut band_bins = [(0usize, 0usize); 8];
        for (i, pair) in BAND_EDGES_HZ.windows(2).enumerate() {
            let lo = (pair[0] / bin_hz).round() as usize;
            let hi = ((pair[1] / bin_hz).round() as usize).max(lo + 1);
            band_bins[i] = (lo.max(1), hi.min(WINDOW / 2 + 1));
        }
        let spectrum = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        Self {
            scratch_in: vec![0.0; WINDOW],
            spectrum,
            scratch,
            fft,
            // A full-scale sine of amplitude 1 has a peak bin magnitude of window_sum / 2
            // (power spread over ~2 bins by the Hann window: sum over bins = window_sum²·3/8·…);
            // normalising the band *sum* of |X|² by (window_sum/2)² · 1.5 maps it to ~0 dB.
            power_scale: 1.0 / ((window_sum / 2.0).powi(2) * 1.5),
            window,
            history: vec![0.0; WINDOW],
            pending: 0,
            band_bins,
            previous_log_mag: vec![0.0; WINDOW / 2 + 1],
            flux_history: vec![0.0; 32],
            flux_pos: 0,
            since_onset: u32::MAX,
            samples_seen: 0,
        }
    }

    /// Feeds samples; calls `emit` for every completed frame.
    pub fn push(&mut self, samples: &[f32], mut emit: impl FnMut(LevelFrame)) {
        let mut rest = samples;
        while !rest.is_empty() {
            // The newest HOP samples fill the tail of `history`; once full, a frame is due.
            let take = (HOP - self.pending).min(rest.len());
            let at = WINDOW - HOP + self.pending;
            self.history[at..at + take].copy_from_slice(&rest[..take]);
            rest = &rest[take..];
            self.pending += take;
            self.samples_seen += take as u64;
            if self.pending == HOP {
                emit(self.frame());
                self.history.copy_within(HOP.., 0);
                self.pending = 0;
            }
        }
    }

    fn frame(&mut self) -> LevelFrame {
        let hop = &self.history[WINDOW - HOP..];
        let rms = (hop.iter().map(|v| v * v).sum::<f32>() / HOP as f32).sqrt();
        let peak = hop.iter().fold(0.0f32, |m, v| m.max(v.abs()));

        for ((dst, x), w) in self
            .scratch_in
            .iter_mut()
            .zip(&self.history)
            .zip(&self.window)
        {
            *dst = x * w;
        }
        // The sizes are fixed at construction, so processing cannot fail; stay silent if it did.
        if self
            .fft
            .process_with_scratch(&mut self.scratch_in, &mut self.spectrum, &mut self.scratch)
            .is_err()
        {
            self.spectrum
                .iter_mut()
                .for_each(|c| *c = Complex::new(0.0, 0.0));
        }

        let bin_hz = SPEECH_RATE as f32 / WINDOW as f32;
        let mut bands = [0.0f32; 8];
        for (band, &(lo, hi)) in bands.iter_mut().zip(&self.band_bins) {
            let power: f32 = self.spectrum[lo..hi].iter().map(|c| c.norm_sqr()).sum();
            let db = to_db(power * self.power_scale);
            *band = ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0);
        }

        let mut weighted = 0.0f32;
        let mut total = 0.0f32;
        let mut flux = 0.0f32;
        for (k, c) in self.spectrum.iter().enumerate().skip(1) {
            let mag = c.norm();
            weighted += k as f32 * bin_hz * mag;
            total += mag;
            // Spectral flux on log magnitudes: rises count, falls do not.
            let log_mag = (1.0 + 1000.0 * mag * (2.0 / WINDOW as f32)).ln();
            let rise = log_mag - self.previous_log_mag[k];
            if rise > 0.0 {
                flux += rise;
            }
            self.previous_log_mag[k] = log_mag;
        }
        let centroid_hz = if total > 1e-6 && rms > 1e-5 {
            weighted / total
        } else {
            0.0
        };

        // An onset: flux well above its recent average, the frame not too quiet, and at
        // least 80 ms since the last one.
        let mean_flux = self.flux_history.iter().sum::<f32>() / self.flux_history.len() as f32;
        self.flux_history[self.flux_pos] = flux;
        self.flux_pos = (self.flux_pos + 1) % self.flux_history.len();
        self.since_onset = self.since_onset.saturating_add(1);
        let loud_enough = to_db(rms * rms) > -55.0;
        let onset = loud_enough && flux > 1.8 * mean_flux + 4.0 && self.since_onset >= 5;
        if onset {
            self.since_onset = 0;
        }

        LevelFrame {
            rms,
            peak,
            bands,
            centroid_hz,
            onset,
            t_ms: crate::audio::samples_to_ms(self.samples_seen as usize, SPEECH_RATE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f32, n: usize, amp: f32) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * freq * i as f32 / 16_000.0).sin())
            .collect()
    }

    fn frames(x: &[f32]) -> Vec<LevelFrame> {
        let mut a = LevelAnalyzer::new();
        let mut out = Vec::new();
        a.push(x, |f| out.push(f));
        out
    }

    #[test]
    fn frame_rate_is_62_5_per_second_with_times() {
        let f = frames(&vec![0.0; 16_000]);
        assert_eq!(f.len(), 62);
        assert_eq!(f[0].t_ms, 16);
        assert_eq!(f[61].t_ms, 992);
        assert!(
            f.iter()
                .all(|f| f.rms == 0.0 && f.centroid_hz == 0.0 && !f.onset)
        );
    }

    #[test]
    fn a_tone_lands_in_its_band_with_its_level_and_centroid() {
        for (freq, band) in [(220.0, 1), (1000.0, 3), (3000.0, 5)] {
            let f = frames(&tone(freq, 16_000, 0.5));
            let last = f[40];
            assert!((last.rms - 0.5 / 2f32.sqrt()).abs() < 0.01, "{last:?}");
            assert!((last.peak - 0.5).abs() < 0.01);
            let loudest = last
                .bands
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i);
            assert_eq!(loudest, Some(band), "{freq} Hz: {:?}", last.bands);
            // -6 dBFS tone: (80-6)/80 ≈ 0.92
            assert!((last.bands[band] - 0.925).abs() < 0.05, "{:?}", last.bands);
            assert!(
                (last.centroid_hz - freq).abs() < freq * 0.1 + 40.0,
                "{freq}: {}",
                last.centroid_hz
            );
        }
    }

    #[test]
    fn onsets_mark_bursts_after_silence_only() {
        let mut x = vec![0.0; 8000];
        x.extend(tone(700.0, 4000, 0.3));
        x.extend(vec![0.0; 8000]);
        x.extend(tone(1500.0, 4000, 0.3));
        let f = frames(&x);
        let onsets: Vec<u64> = f.iter().filter(|f| f.onset).map(|f| f.t_ms).collect();
        assert_eq!(onsets.len(), 2, "{onsets:?}");
        assert!((500..=540).contains(&onsets[0]), "{onsets:?}");
        assert!((1250..=1290).contains(&onsets[1]), "{onsets:?}");
    }
}

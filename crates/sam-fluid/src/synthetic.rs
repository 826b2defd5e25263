//! A synthetic, speech-like signal: for tests, the benchmark, and users without a microphone.
//! Utterances of syllables (~4.5 per second) separated by pauses, with onsets at syllable
//! starts and a wandering spectral centroid. Deterministic for a given seed.

use crate::reactivity::{BANDS, SignalFrame};

#[derive(Debug, Clone)]
pub struct SyntheticSignal {
    rng: u32,
    time: f32,
    /// Seconds left in the current utterance (> 0) or pause (<= 0 counts up to 0).
    segment_left: f32,
    speaking: bool,
    syllable_phase: f32,
    syllable_rate: f32,
    syllable_gain: f32,
    centroid: f32,
    centroid_target: f32,
    prev_env: f32,
}

impl SyntheticSignal {
    pub fn new(seed: u32) -> Self {
        Self {
            rng: seed.wrapping_mul(0x9e37_79b9) | 1,
            time: 0.0,
            segment_left: 0.3,
            speaking: false,
            syllable_phase: 0.0,
            syllable_rate: 4.5,
            syllable_gain: 0.7,
            centroid: 0.45,
            centroid_target: 0.45,
            prev_env: 0.0,
        }
    }

    fn rand(&mut self) -> f32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        (x >> 8) as f32 / (1u32 << 24) as f32
    }

    /// Seconds of signal produced so far.
    pub fn time(&self) -> f32 {
        self.time
    }

    /// The next analysis frame, `dt` seconds after the previous one.
    pub fn next_frame(&mut self, dt: f32) -> SignalFrame {
        let dt = if dt.is_finite() {
            dt.clamp(0.0, 0.25)
        } else {
            0.0
        };
        self.time += dt;
        self.segment_left -= dt;
        if self.segment_left <= 0.0 {
            self.speaking = !self.speaking;
            self.segment_left = if self.speaking {
                1.5 + 2.5 * self.rand()
            } else {
                0.5 + 1.5 * self.rand()
            };
            self.syllable_phase = 0.0;
        }
        if !self.speaking {
            self.prev_env = 0.0;
            return SignalFrame::SILENT;
        }

        let before = self.syllable_phase;
        self.syllable_phase += dt * self.syllable_rate;
        if self.syllable_phase.floor() > before.floor() || before == 0.0 {
            // A new syllable: new loudness, rate and pitch/brightness target.
            self.syllable_gain = 0.35 + 0.65 * self.rand();
            self.syllable_rate = 3.5 + 2.5 * self.rand();
            self.centroid_target = 0.25 + 0.5 * self.rand();
        }
        let x = self.syllable_phase.fract();
        // Syllable envelope: quick rise, slower fall.
        let env = if x < 0.2 {
            x / 0.2
        } else {
            (1.0 - (x - 0.2) / 0.8).powf(1.5)
        };
        let rms = (self.syllable_gain * env).clamp(0.0, 1.0);
        let onset = if env > self.prev_env && x < 0.2 && self.prev_env < 0.3 && env >= 0.3 {
            self.syllable_gain
        } else {
            0.0
        };
        self.prev_env = env;
        self.centroid += (self.centroid_target - self.centroid) * (1.0 - (-dt * 8.0).exp());

        let mut bands = [0.0; BANDS];
        for (i, b) in bands.iter_mut().enumerate() {
            let centre = (i as f32 + 0.5) / BANDS as f32;
            let d = (centre - self.centroid) / 0.25;
            *b = (rms * (-d * d).exp()).clamp(0.0, 1.0);
        }
        SignalFrame {
            rms,
            bands,
            onset,
            centroid: self.centroid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_like() {
        let mut s = SyntheticSignal::new(1);
        let (mut loud, mut silent, mut onsets) = (0, 0, 0);
        for _ in 0..(60 * 20) {
            let f = s.next_frame(1.0 / 60.0);
            assert!((0.0..=1.0).contains(&f.rms) && (0.0..=1.0).contains(&f.centroid));
            if f.rms > 0.05 {
                loud += 1;
            } else {
                silent += 1;
            }
            if f.onset > 0.0 {
                onsets += 1;
            }
        }
        assert!(loud > 200 && silent > 200, "loud {loud} silent {silent}");
        // Roughly 3-6 syllables per second of speech.
        assert!((20..=120).contains(&onsets), "{onsets} onsets in 20 s");
    }

    #[test]
    fn deterministic_per_seed() {
        let frames = |seed| {
            let mut s = SyntheticSignal::new(seed);
            (0..200).map(|_| s.next_frame(0.02)).collect::<Vec<_>>()
        };
        assert_eq!(frames(3), frames(3));
        assert_ne!(frames(3), frames(4));
    }
}

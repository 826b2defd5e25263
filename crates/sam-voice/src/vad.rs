//! Voice-activity detection and utterance segmentation.
//!
//! Written by hand rather than taken from `webrtc-vad`: that crate (0.4.0) has seen no release
//! since 2019, wraps C code through its own `cc` build and takes only fixed 10/20/30 ms `i16`
//! frames at 8/16/32/48 kHz; what voice input needs here — "is someone talking, and have they
//! stopped" — is met by a frame-energy detector with an adaptive noise floor, hysteresis and a
//! zero-crossing rule for quiet fricatives, which is fully deterministic and testable.

use serde::{Deserialize, Serialize};

use crate::levels::{HOP, to_db};

/// Frame length of the detector: [`HOP`] samples at 16 kHz = 16 ms.
pub const FRAME_MS: u64 = 16;

/// Per-frame speech/non-speech decisions with an adaptive noise floor.
#[derive(Debug, Clone)]
pub struct Vad {
    floor_db: f32,
    frames: u64,
    in_speech: bool,
}

impl Default for Vad {
    fn default() -> Self {
        Self::new()
    }
}

/// Speech must be this far above the noise floor to start…
const ON_MARGIN_DB: f32 = 12.0;
/// …and stays speech while this far above it (hysteresis).
const OFF_MARGIN_DB: f32 = 7.0;
/// Never call anything quieter than this speech, however quiet the room.
const ABSOLUTE_ON_DB: f32 = -50.0;
const ABSOLUTE_OFF_DB: f32 = -56.0;
/// The floor follows a quieter room at once and a louder one slowly (≈ 2.5 dB/s), so speech
/// itself does not lift it.
const FLOOR_RISE_DB_PER_FRAME: f32 = 0.04;

impl Vad {
    pub fn new() -> Self {
        Self {
            floor_db: -70.0,
            frames: 0,
            in_speech: false,
        }
    }

    /// The current noise floor estimate in dBFS.
    pub fn noise_floor_db(&self) -> f32 {
        self.floor_db
    }

    /// Classifies one frame of [`HOP`] samples (16 kHz mono).
    pub fn is_speech(&mut self, frame: &[f32]) -> bool {
        let n = frame.len().max(1) as f32;
        let energy_db = to_db(frame.iter().map(|v| v * v).sum::<f32>() / n).max(-100.0);
        let crossings = frame
            .windows(2)
            .filter(|w| (w[0] >= 0.0) != (w[1] >= 0.0))
            .count() as f32
            / n;

        // The first 100 ms seed the floor (a room is rarely silent when recording starts,
        // but a person rarely talks in its first tenth of a second).
        if self.frames < 6 {
            self.floor_db = if self.frames == 0 {
                energy_db
            } else {
                self.floor_db.min(energy_db)
            };
        }
        self.frames += 1;

        let on = (self.floor_db + ON_MARGIN_DB).max(ABSOLUTE_ON_DB);
        let off = (self.floor_db + OFF_MARGIN_DB).max(ABSOLUTE_OFF_DB);
        let speech = if self.in_speech {
            // Within speech, quiet fricatives ("s", "f") are high in zero crossings and low in
            // energy: keep them when they are clearly above the floor.
            energy_db > off || (crossings > 0.3 && energy_db > self.floor_db + 5.0)
        } else {
            energy_db > on
        };
        self.in_speech = speech;

        if energy_db < self.floor_db {
            self.floor_db = energy_db.max(-100.0);
        } else if !speech {
            self.floor_db = (self.floor_db + FLOOR_RISE_DB_PER_FRAME).min(energy_db);
        }
        speech
    }
}

/// Hands-free settings: when an utterance starts, when it ends, and when to give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HandsFree {
    /// Silence that ends an utterance.
    pub silence_ms: u32,
    /// Speech shorter than this (a cough, a click) is not an utterance.
    pub min_speech_ms: u32,
    /// An utterance is cut here even if the speaker goes on.
    pub max_utterance_ms: u32,
    /// Give up with `no_speech` if nobody speaks this long after the start (or after the
    /// last utterance, in continuous mode). `None`: wait forever.
    pub no_speech_timeout_ms: Option<u32>,
    /// Audio kept from before the detected start (the first consonant is often quiet).
    pub pre_roll_ms: u32,
    /// Keep listening after an utterance (dictation); otherwise stop after the first.
    pub continuous: bool,
}

impl Default for HandsFree {
    fn default() -> Self {
        Self {
            silence_ms: 800,
            min_speech_ms: 200,
            max_utterance_ms: 60_000,
            no_speech_timeout_ms: Some(10_000),
            pre_roll_ms: 300,
            continuous: false,
        }
    }
}

/// What the segmenter saw in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// Speech started; it began at this sample (16 kHz, since the recording started).
    Started { start: u64 },
    /// The utterance ended: speech from `start` to `end` (exclusive), `speech_ms` of it voiced.
    Ended {
        start: u64,
        end: u64,
        speech_ms: u64,
    },
    /// Speech too short to count ended; whatever was started is dropped.
    Discarded { start: u64 },
    /// Nobody spoke before the timeout.
    NoSpeechTimeout,
}

/// Turns per-frame VAD decisions into utterances: a start after a few voiced frames, an end
/// after `silence_ms` without, a cut at `max_utterance_ms`.
#[derive(Debug, Clone)]
pub struct Segmenter {
    config: HandsFree,
    /// Recent decisions, newest last (for the start rule).
    recent: u8,
    state: State,
    /// Sample index where the idle wait began (for the no-speech timeout).
    idle_since: u64,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Idle,
    Speech {
        start: u64,
        last_voiced_end: u64,
        voiced_frames: u64,
    },
}

/// Frames (of the last 6) that must be voiced to start an utterance: ~64 ms of speech.
const START_FRAMES: u32 = 4;

impl Segmenter {
    pub fn new(config: HandsFree) -> Self {
        Self {
            config,
            recent: 0,
            state: State::Idle,
            idle_since: 0,
        }
    }

    pub fn in_speech(&self) -> bool {
        matches!(self.state, State::Speech { .. })
    }

    /// One frame's decision; `frame_end` is the sample index just past the frame.
    pub fn push(&mut self, voiced: bool, frame_end: u64) -> Option<Segment> {
        let hop = HOP as u64;
        let rate_per_ms = 16u64;
        self.recent = ((self.recent << 1) | u8::from(voiced)) & 0b11_1111;
        match self.state {
            State::Idle => {
                if self.recent.count_ones() >= START_FRAMES && voiced {
                    // Speech began with the oldest voiced frame of the window.
                    let first = 6 - self.recent.leading_zeros().saturating_sub(2) as u64;
                    let start = frame_end.saturating_sub(first * hop);
                    self.state = State::Speech {
                        start,
                        last_voiced_end: frame_end,
                        voiced_frames: u64::from(self.recent.count_ones()),
                    };
                    return Some(Segment::Started { start });
                }
                if let Some(timeout) = self.config.no_speech_timeout_ms
                    && frame_end.saturating_sub(self.idle_since) >= u64::from(timeout) * rate_per_ms
                {
                    self.idle_since = frame_end;
                    return Some(Segment::NoSpeechTimeout);
                }
                None
            }
            State::Speech {
                start,
                mut last_voiced_end,
                mut voiced_frames,
            } => {
                if voiced {
                    last_voiced_end = frame_end;
                    voiced_frames += 1;
                }
                let silence = frame_end - last_voiced_end;
                let length = frame_end - start;
                let ended = silence >= u64::from(self.config.silence_ms) * rate_per_ms
                    || length >= u64::from(self.config.max_utterance_ms) * rate_per_ms;
                if !ended {
                    self.state = State::Speech {
                        start,
                        last_voiced_end,
                        voiced_frames,
                    };
                    return None;
                }
                self.state = State::Idle;
                self.recent = 0;
                let speech_ms = voiced_frames * FRAME_MS;
                if speech_ms < u64::from(self.config.min_speech_ms) {
                    // A cough is not speech: the no-speech clock keeps running.
                    return Some(Segment::Discarded { start });
                }
                self.idle_since = frame_end;
                Some(Segment::Ended {
                    start,
                    end: last_voiced_end,
                    speech_ms,
                })
            }
        }
    }

    /// Ends the current utterance now (the user pressed stop).
    pub fn finish(&mut self) -> Option<Segment> {
        let State::Speech {
            start,
            last_voiced_end,
            voiced_frames,
        } = self.state
        else {
            return None;
        };
        self.state = State::Idle;
        let speech_ms = voiced_frames * FRAME_MS;
        if speech_ms < u64::from(self.config.min_speech_ms) {
            return Some(Segment::Discarded { start });
        }
        Some(Segment::Ended {
            start,
            end: last_voiced_end,
            speech_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A crude voice: a 140 Hz buzz with harmonics, syllable-shaped (4 Hz envelope).
    fn voice(ms: usize, amp: f32, seed: u32) -> Vec<f32> {
        let n = ms * 16;
        (0..n)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                let env = 0.6 + 0.4 * (2.0 * std::f32::consts::PI * 4.0 * t + seed as f32).sin();
                let f0 = 140.0;
                let s: f32 = (1..8)
                    .map(|h| (2.0 * std::f32::consts::PI * f0 * h as f32 * t).sin() / h as f32)
                    .sum();
                amp * env * s * 0.5
            })
            .collect()
    }

    /// Deterministic low-level noise (an LCG; no rand dependency for a test).
    fn noise(ms: usize, amp: f32, seed: &mut u32) -> Vec<f32> {
        (0..ms * 16)
            .map(|_| {
                *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                amp * ((*seed >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0)
            })
            .collect()
    }

    fn segments(x: &[f32], config: HandsFree) -> Vec<Segment> {
        let mut vad = Vad::new();
        let mut seg = Segmenter::new(config);
        let mut out = Vec::new();
        for (i, frame) in x.chunks_exact(HOP).enumerate() {
            let voiced = vad.is_speech(frame);
            if let Some(s) = seg.push(voiced, ((i + 1) * HOP) as u64) {
                out.push(s);
            }
        }
        out.extend(seg.finish());
        out
    }

    fn ended(s: &[Segment]) -> Vec<(u64, u64)> {
        s.iter()
            .filter_map(|s| match s {
                Segment::Ended { start, end, .. } => Some((start / 16, end / 16)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn two_phrases_in_room_noise_are_two_utterances() {
        let mut seed = 7;
        let mut x = noise(1000, 0.003, &mut seed);
        x.extend(
            voice(1500, 0.3, 1)
                .iter()
                .zip(noise(1500, 0.003, &mut seed))
                .map(|(a, b)| a + b),
        );
        x.extend(noise(1500, 0.003, &mut seed));
        x.extend(
            voice(1000, 0.2, 2)
                .iter()
                .zip(noise(1000, 0.003, &mut seed))
                .map(|(a, b)| a + b),
        );
        x.extend(noise(1500, 0.003, &mut seed));
        let s = segments(&x, HandsFree::default());
        let e = ended(&s);
        assert_eq!(e.len(), 2, "{s:?}");
        assert!(
            (980..=1070).contains(&e[0].0) && (2450..=2520).contains(&e[0].1),
            "{e:?}"
        );
        assert!(
            (3980..=4070).contains(&e[1].0) && (4950..=5020).contains(&e[1].1),
            "{e:?}"
        );
    }

    #[test]
    fn a_short_pause_does_not_split_an_utterance() {
        let mut x = vec![0.0; 16 * 500];
        x.extend(voice(800, 0.3, 0));
        x.extend(vec![0.0; 16 * 400]);
        x.extend(voice(800, 0.3, 0));
        x.extend(vec![0.0; 16 * 1000]);
        let e = ended(&segments(&x, HandsFree::default()));
        assert_eq!(e.len(), 1, "{e:?}");
    }

    #[test]
    fn a_click_is_discarded_and_silence_times_out() {
        let mut x = vec![0.0; 16 * 500];
        x.extend(voice(100, 0.5, 0));
        x.extend(vec![0.0; 16 * 3000]);
        let config = HandsFree {
            no_speech_timeout_ms: Some(2500),
            ..HandsFree::default()
        };
        let s = segments(&x, config);
        assert!(matches!(s[0], Segment::Started { .. }), "{s:?}");
        assert!(matches!(s[1], Segment::Discarded { .. }), "{s:?}");
        assert!(s.contains(&Segment::NoSpeechTimeout), "{s:?}");
        assert!(ended(&s).is_empty());
    }

    #[test]
    fn steady_hum_is_learned_as_floor_not_speech() {
        // A constant 50 Hz hum at -30 dBFS from the start: it is the room, not a voice.
        let x: Vec<f32> = (0..16 * 3000)
            .map(|i| 0.044 * (2.0 * std::f32::consts::PI * 50.0 * i as f32 / 16_000.0).sin())
            .collect();
        let s = segments(&x, HandsFree::default());
        assert!(ended(&s).is_empty(), "{s:?}");
    }

    #[test]
    fn long_speech_is_cut_at_the_maximum() {
        let x = voice(5000, 0.3, 0);
        let config = HandsFree {
            max_utterance_ms: 2000,
            ..HandsFree::default()
        };
        let e = ended(&segments(&x, config));
        assert!(e.len() >= 2, "{e:?}");
        assert!(e[0].1 - e[0].0 <= 2000, "{e:?}");
    }
}

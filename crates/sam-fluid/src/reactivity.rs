//! Voice reactivity: maps a level/spectrum frame (and the agent's activity) to splats.
//! Pure Rust, no GPU: unit-tested on its own.
//!
//! * loudness → splat force and dye amount (smoothed: fast attack, slow decay)
//! * onsets → bursts of radial splats (with a short refractory time)
//! * spectral centroid → hue along the app palette
//! * sustained speech → livelier curl (`Drive::liveliness`)
//! * agent working → a gentle stir now and then; idle + silence → calm (no splats)

use crate::config::Palette;
use crate::fluid::{MAX_SPLATS, Splat};

/// Number of spectrum bands in a [`SignalFrame`].
pub const BANDS: usize = 8;

/// One analysis frame of the microphone (or synthetic) signal. All values 0..1.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SignalFrame {
    /// Loudness (RMS, already normalised to 0..1).
    pub rms: f32,
    /// Energy per band, low to high.
    pub bands: [f32; BANDS],
    /// Onset strength this frame (0 = none).
    pub onset: f32,
    /// Spectral centroid, normalised (0 = low, 1 = high).
    pub centroid: f32,
}

impl SignalFrame {
    /// Silence.
    pub const SILENT: Self = Self {
        rms: 0.0,
        bands: [0.0; BANDS],
        onset: 0.0,
        centroid: 0.5,
    };

    /// Replaces non-finite values with silence and clamps everything to 0..1.
    pub fn sanitized(&self) -> Self {
        let f = |x: f32, d: f32| if x.is_finite() { x.clamp(0.0, 1.0) } else { d };
        Self {
            rms: f(self.rms, 0.0),
            bands: self.bands.map(|b| f(b, 0.0)),
            onset: f(self.onset, 0.0),
            centroid: f(self.centroid, 0.5),
        }
    }
}

/// What the agent is doing: working stirs the fluid gently, idle leaves it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activity {
    #[default]
    Idle,
    Working,
}

/// Tuning of the mapping. Coefficients are per frame at 60 fps and are rescaled for other
/// frame rates, so the response is the same at 30 or 144 fps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriveTuning {
    /// Smoothing coefficient when the level rises.
    pub attack: f32,
    /// Smoothing coefficient when the level falls.
    pub decay: f32,
    /// Smoothed level under which the voice makes no splats.
    pub gate: f32,
    /// Force (screen heights per second) of an emitter at full level.
    pub force: f32,
    /// Dye of an emitter at full level.
    pub dye: f32,
    /// Emitter radius (screen heights).
    pub radius: f32,
    /// Onset strength that triggers a burst.
    pub onset_threshold: f32,
    /// Seconds between two bursts at least.
    pub refractory: f32,
    /// Splats per burst.
    pub burst_splats: usize,
    /// Seconds of continuous speech for the full curl boost.
    pub sustain_full: f32,
    /// Extra curl at full sustain (liveliness = 1 + this).
    pub curl_boost: f32,
    /// Seconds between two stirs while the agent works.
    pub stir_every: f32,
}

impl Default for DriveTuning {
    fn default() -> Self {
        Self {
            attack: 0.3,
            decay: 0.05,
            gate: 0.02,
            force: 1.6,
            dye: 0.9,
            radius: 0.06,
            onset_threshold: 0.5,
            refractory: 0.12,
            burst_splats: 5,
            sustain_full: 3.0,
            curl_boost: 0.5,
            stir_every: 0.6,
        }
    }
}

/// What one update produced besides the splats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drive {
    /// Smoothed loudness (0..1).
    pub level: f32,
    /// Smoothed centroid mapped to the palette (0..1).
    pub hue: f32,
    /// Vorticity scale for [`crate::Fluid::set_liveliness`] (1 = calm).
    pub liveliness: f32,
    /// Whether this frame fired an onset burst.
    pub burst: bool,
}

/// Exponential smoothing with a coefficient defined per 60 fps frame.
pub fn smooth(prev: f32, target: f32, coeff_per_frame: f32, dt: f32) -> f32 {
    let frames = (dt * 60.0).max(0.0);
    let keep = (1.0 - coeff_per_frame.clamp(0.0, 1.0)).powf(frames);
    target + (prev - target) * keep
}

/// Stateful voice → fluid mapping. Deterministic for a given input sequence.
#[derive(Debug, Clone)]
pub struct VoiceDrive {
    pub tuning: DriveTuning,
    level: f32,
    centroid: f32,
    sustain: f32,
    since_burst: f32,
    since_stir: f32,
    phase: f32,
    rng: u32,
}

impl Default for VoiceDrive {
    fn default() -> Self {
        Self::new(DriveTuning::default())
    }
}

impl VoiceDrive {
    pub fn new(tuning: DriveTuning) -> Self {
        Self {
            tuning,
            level: 0.0,
            centroid: 0.5,
            sustain: 0.0,
            since_burst: f32::INFINITY,
            since_stir: 0.0,
            phase: 0.0,
            rng: 0x9e37_79b9,
        }
    }

    /// Smoothed loudness.
    pub fn level(&self) -> f32 {
        self.level
    }

    fn rand(&mut self) -> f32 {
        // xorshift32: deterministic, no dependency.
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        (x >> 8) as f32 / (1u32 << 24) as f32
    }

    /// Advances by `dt` seconds with the latest signal frame and activity, appending this
    /// frame's splats to `out` (cleared first; never more than [`MAX_SPLATS`]).
    pub fn update(
        &mut self,
        frame: &SignalFrame,
        activity: Activity,
        dt: f32,
        palette: &Palette,
        out: &mut Vec<Splat>,
    ) -> Drive {
        out.clear();
        let f = frame.sanitized();
        let dt = if dt.is_finite() {
            dt.clamp(0.0, 0.25)
        } else {
            0.0
        };
        let t = self.tuning;

        let coeff = if f.rms > self.level {
            t.attack
        } else {
            t.decay
        };
        self.level = smooth(self.level, f.rms, coeff, dt);
        // The hue follows the centroid only while there is voice, slowly.
        if f.rms > t.gate {
            self.centroid = smooth(self.centroid, f.centroid, t.decay, dt);
        }
        let speaking = self.level > t.gate * 2.0;
        self.sustain = if speaking {
            (self.sustain + dt).min(t.sustain_full)
        } else {
            (self.sustain - 2.0 * dt).max(0.0)
        };
        let liveliness = 1.0 + t.curl_boost * (self.sustain / t.sustain_full.max(1e-3));
        let hue = self.centroid;
        let color = palette.sample(hue);

        // Emitters: two points drifting on a slow Lissajous path, pushing tangentially.
        self.phase = (self.phase + dt * (0.25 + 0.5 * self.level)) % std::f32::consts::TAU;
        if self.level > t.gate {
            let amount = (self.level - t.gate) / (1.0 - t.gate);
            for k in 0..2 {
                let a = self.phase + k as f32 * std::f32::consts::PI;
                let pos = [0.5 + 0.28 * a.cos(), 0.5 + 0.22 * (1.3 * a).sin()];
                let dir = [-a.sin(), (1.3 * a).cos()];
                let len = (dir[0] * dir[0] + dir[1] * dir[1]).sqrt().max(1e-3);
                out.push(Splat {
                    pos,
                    force: [
                        dir[0] / len * t.force * amount,
                        dir[1] / len * t.force * amount,
                    ],
                    color: color.map(|c| c * t.dye * amount * dt * 60.0 * 0.1),
                    radius: t.radius * (0.7 + 0.6 * amount),
                });
            }
        }

        // Onsets: a radial burst from a random point near the middle.
        self.since_burst += dt;
        let burst = f.onset >= t.onset_threshold && self.since_burst >= t.refractory;
        if burst {
            self.since_burst = 0.0;
            let cx = 0.3 + 0.4 * self.rand();
            let cy = 0.3 + 0.4 * self.rand();
            let spin = self.rand() * std::f32::consts::TAU;
            let n = t.burst_splats.min(MAX_SPLATS.saturating_sub(out.len()));
            for i in 0..n {
                let a = spin + i as f32 * std::f32::consts::TAU / n.max(1) as f32;
                let strength = t.force * (0.8 + 1.2 * f.onset);
                out.push(Splat {
                    pos: [cx, cy],
                    force: [a.cos() * strength, a.sin() * strength],
                    color: color.map(|c| c * t.dye * 0.35 * f.onset),
                    radius: t.radius * 0.8,
                });
            }
        }

        // Agent working: a gentle stir now and then, independent of the voice.
        self.since_stir += dt;
        if activity == Activity::Working
            && self.since_stir >= t.stir_every
            && out.len() < MAX_SPLATS
        {
            self.since_stir = 0.0;
            let a = self.rand() * std::f32::consts::TAU;
            out.push(Splat {
                pos: [0.2 + 0.6 * self.rand(), 0.2 + 0.6 * self.rand()],
                force: [a.cos() * t.force * 0.15, a.sin() * t.force * 0.15],
                color: palette.sample(self.rand() * 0.5).map(|c| c * t.dye * 0.08),
                radius: t.radius * 1.5,
            });
        }
        out.truncate(MAX_SPLATS);
        Drive {
            level: self.level,
            hue,
            liveliness,
            burst,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Theme;

    const DT: f32 = 1.0 / 60.0;

    fn voice(rms: f32, centroid: f32, onset: f32) -> SignalFrame {
        SignalFrame {
            rms,
            bands: [rms; BANDS],
            onset,
            centroid,
        }
    }

    fn pal() -> Palette {
        Palette::for_theme(Theme::Dark)
    }

    #[test]
    fn attack_is_fast_and_decay_is_slow() {
        let mut d = VoiceDrive::default();
        let mut out = Vec::new();
        let r = d.update(&voice(1.0, 0.5, 0.0), Activity::Idle, DT, &pal(), &mut out);
        assert!(
            (r.level - 0.3).abs() < 1e-5,
            "one frame of attack: {}",
            r.level
        );
        for _ in 0..20 {
            d.update(&voice(1.0, 0.5, 0.0), Activity::Idle, DT, &pal(), &mut out);
        }
        assert!(d.level() > 0.99);
        let before = d.level();
        let r = d.update(&SignalFrame::SILENT, Activity::Idle, DT, &pal(), &mut out);
        assert!(
            (r.level - before * 0.95).abs() < 1e-5,
            "one frame of decay keeps 95%: {}",
            r.level
        );
    }

    #[test]
    fn smoothing_is_frame_rate_independent() {
        let (mut a, mut b) = (VoiceDrive::default(), VoiceDrive::default());
        let mut out = Vec::new();
        for _ in 0..60 {
            a.update(
                &voice(0.8, 0.5, 0.0),
                Activity::Idle,
                1.0 / 60.0,
                &pal(),
                &mut out,
            );
        }
        for _ in 0..30 {
            b.update(
                &voice(0.8, 0.5, 0.0),
                Activity::Idle,
                1.0 / 30.0,
                &pal(),
                &mut out,
            );
        }
        assert!((a.level() - b.level()).abs() < 1e-4);
    }

    #[test]
    fn silence_is_calm() {
        let mut d = VoiceDrive::default();
        let mut out = Vec::new();
        for _ in 0..120 {
            let r = d.update(&SignalFrame::SILENT, Activity::Idle, DT, &pal(), &mut out);
            assert!(out.is_empty());
            assert_eq!(r.liveliness, 1.0);
            assert!(!r.burst);
        }
    }

    #[test]
    fn loudness_scales_force() {
        let force_at = |rms: f32| {
            let mut d = VoiceDrive::default();
            let mut out = Vec::new();
            for _ in 0..60 {
                d.update(&voice(rms, 0.5, 0.0), Activity::Idle, DT, &pal(), &mut out);
            }
            out.iter()
                .map(|s| (s.force[0].powi(2) + s.force[1].powi(2)).sqrt())
                .sum::<f32>()
        };
        let (quiet, loud) = (force_at(0.2), force_at(0.8));
        assert!(quiet > 0.0);
        assert!(loud > 3.0 * quiet, "quiet {quiet} loud {loud}");
    }

    #[test]
    fn onsets_burst_once_per_refractory_time() {
        let mut d = VoiceDrive::default();
        let mut out = Vec::new();
        let r = d.update(&voice(0.0, 0.5, 0.9), Activity::Idle, DT, &pal(), &mut out);
        assert!(r.burst);
        assert_eq!(out.len(), d.tuning.burst_splats);
        // Radial: the burst's forces cancel out.
        let sx: f32 = out.iter().map(|s| s.force[0]).sum();
        let sy: f32 = out.iter().map(|s| s.force[1]).sum();
        assert!(sx.abs() < 1e-3 && sy.abs() < 1e-3);
        let r = d.update(&voice(0.0, 0.5, 0.9), Activity::Idle, DT, &pal(), &mut out);
        assert!(!r.burst, "inside the refractory time");
        for _ in 0..10 {
            d.update(&voice(0.0, 0.5, 0.0), Activity::Idle, DT, &pal(), &mut out);
        }
        let r = d.update(&voice(0.0, 0.5, 0.9), Activity::Idle, DT, &pal(), &mut out);
        assert!(r.burst);
        let r = d.update(&voice(0.0, 0.5, 0.3), Activity::Idle, DT, &pal(), &mut out);
        assert!(!r.burst, "weak onsets do not burst");
    }

    #[test]
    fn centroid_moves_the_hue() {
        let hue_after = |c: f32| {
            let mut d = VoiceDrive::default();
            let mut out = Vec::new();
            let mut r = None;
            for _ in 0..300 {
                r = Some(d.update(&voice(0.5, c, 0.0), Activity::Idle, DT, &pal(), &mut out));
            }
            let color = out.first().map(|s| s.color).unwrap_or_default();
            (r.map(|r| r.hue).unwrap_or_default(), color)
        };
        let (low, low_color) = hue_after(0.1);
        let (high, high_color) = hue_after(0.9);
        assert!((low - 0.1).abs() < 0.02, "low {low}");
        assert!((high - 0.9).abs() < 0.02, "high {high}");
        assert_ne!(low_color, high_color);
        // Low centroid is the teal end (green > red); high is the pink end (red > green).
        assert!(low_color[1] > low_color[0]);
        assert!(high_color[0] > high_color[1]);
    }

    #[test]
    fn sustained_speech_livens_the_curl() {
        let mut d = VoiceDrive::default();
        let mut out = Vec::new();
        let first = d.update(&voice(0.6, 0.5, 0.0), Activity::Idle, DT, &pal(), &mut out);
        let mut last = first;
        for _ in 0..240 {
            last = d.update(&voice(0.6, 0.5, 0.0), Activity::Idle, DT, &pal(), &mut out);
        }
        assert!(first.liveliness < 1.05);
        assert!((last.liveliness - 1.5).abs() < 1e-3, "{}", last.liveliness);
        for _ in 0..600 {
            last = d.update(&SignalFrame::SILENT, Activity::Idle, DT, &pal(), &mut out);
        }
        assert_eq!(last.liveliness, 1.0);
    }

    #[test]
    fn working_agent_stirs_gently() {
        let mut d = VoiceDrive::default();
        let mut out = Vec::new();
        let mut stirs = 0;
        for _ in 0..120 {
            d.update(
                &SignalFrame::SILENT,
                Activity::Working,
                DT,
                &pal(),
                &mut out,
            );
            stirs += out.len();
            for s in &out {
                let f = (s.force[0].powi(2) + s.force[1].powi(2)).sqrt();
                assert!(f < 0.5 * d.tuning.force);
            }
        }
        assert!((2..=4).contains(&stirs), "{stirs} stirs in 2 s");
    }

    #[test]
    fn garbage_input_is_ignored() {
        let mut d = VoiceDrive::default();
        let mut out = Vec::new();
        let bad = SignalFrame {
            rms: f32::NAN,
            bands: [f32::INFINITY; BANDS],
            onset: f32::NAN,
            centroid: f32::NEG_INFINITY,
        };
        let r = d.update(&bad, Activity::Idle, f32::NAN, &pal(), &mut out);
        assert!(r.level.is_finite() && r.hue.is_finite());
        assert!(out.is_empty());
    }

    #[test]
    fn deterministic() {
        let run = || {
            let mut d = VoiceDrive::default();
            let mut sig = crate::SyntheticSignal::new(7);
            let mut out = Vec::new();
            let mut all = Vec::new();
            for _ in 0..300 {
                let f = sig.next_frame(DT);
                d.update(&f, Activity::Working, DT, &pal(), &mut out);
                all.extend_from_slice(&out);
            }
            all
        };
        let (a, b) = (run(), run());
        assert!(!a.is_empty());
        assert_eq!(a, b);
    }
}

//! When to simulate, and at which quality. Pure Rust, shared by the web driver and the
//! native harness so the pause rules are tested once.
//!
//! * reduced motion / the setting: `Motion::Still` draws one calm frame and stops,
//!   `Motion::Off` draws nothing (the page shows its static gradient).
//! * hidden or minimised: nothing runs at all.
//! * the app idle for a while: the fluid settles and then stops.
//! * adaptive quality: a frame-time EMA above budget steps the quality down; well below
//!   budget for a long time steps it back up.

use crate::config::FluidConfig;

/// What the user allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Motion {
    /// Animated, voice-reactive.
    #[default]
    Full,
    /// One still frame (prefers-reduced-motion).
    Still,
    /// No fluid: the static fallback gradient.
    Off,
}

/// Quality presets, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Quality {
    Low,
    Medium,
    High,
}

impl Quality {
    pub const ALL: [Quality; 3] = [Quality::Low, Quality::Medium, Quality::High];

    /// The default on a hardware GPU.
    pub const DEFAULT: Quality = Quality::Medium;

    /// The quality to start at, and the highest the adaptive loop may climb to, for an
    /// adapter: a software renderer (llvmpipe, SwiftShader, WARP) gets `Low` and stays there,
    /// because there every pass costs CPU the user pays for even when frames arrive in time.
    pub fn for_adapter(software: bool) -> (Quality, Quality) {
        if software {
            (Quality::Low, Quality::Low)
        } else {
            (Quality::DEFAULT, Quality::High)
        }
    }

    /// Whether an adapter description looks like a software renderer.
    pub fn is_software_adapter(cpu_device_type: bool, name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        cpu_device_type
            || [
                "llvmpipe",
                "lavapipe",
                "softpipe",
                "swiftshader",
                "software",
                "warp",
            ]
            .iter()
            .any(|s| n.contains(s))
    }

    /// (sim short side, dye short side, Jacobi iterations, canvas pixels per CSS pixel).
    /// Low is sized for software renderers, where every pixel shaded is the user's CPU: 6
    /// passes, the largest (the display) about 15,000 pixels for a 1280×800 window. Measured
    /// with `fluid-bench cpu` on lavapipe: 14–15 % of one core at 30 fps, against 19–21 % for
    /// the earlier (32, 128, 4, 0.2); the picture is softer, which a background tolerates.
    pub fn settings(self) -> (u32, u32, u32, f32) {
        match self {
            Quality::Low => (24, 64, 2, 0.12),
            Quality::Medium => (64, 256, 10, 0.35),
            Quality::High => (128, 512, 20, 0.5),
        }
    }

    /// `base` with this preset's resolutions and iterations.
    pub fn apply(self, base: &FluidConfig) -> FluidConfig {
        let (sim_res, dye_res, pressure_iters, _) = self.settings();
        FluidConfig {
            sim_res,
            dye_res,
            pressure_iters,
            ..base.clone()
        }
    }

    /// Canvas backing-store scale (the fluid is soft: a low-resolution canvas scaled up by
    /// the compositor looks the same and costs a fraction).
    pub fn render_scale(self) -> f32 {
        self.settings().3
    }

    pub fn lower(self) -> Option<Quality> {
        match self {
            Quality::Low => None,
            Quality::Medium => Some(Quality::Low),
            Quality::High => Some(Quality::Medium),
        }
    }

    pub fn higher(self) -> Option<Quality> {
        match self {
            Quality::Low => Some(Quality::Medium),
            Quality::Medium => Some(Quality::High),
            Quality::High => None,
        }
    }
}

/// The adaptive quality loop.
#[derive(Debug, Clone)]
pub struct QualityGovernor {
    pub quality: Quality,
    /// Frame budget in milliseconds for the fluid's own work.
    pub budget_ms: f32,
    /// The highest quality it may climb back to.
    pub ceiling: Quality,
    ema: Option<f32>,
    over: u32,
    under: u32,
}

impl QualityGovernor {
    /// Frames over budget (smoothed) before stepping down.
    pub const DOWN_AFTER: u32 = 20;
    /// Frames well under budget before stepping up.
    pub const UP_AFTER: u32 = 600;

    /// Starts at `quality`; may climb back up to `ceiling` (at least `quality`).
    pub fn new(quality: Quality, ceiling: Quality, budget_ms: f32) -> Self {
        Self {
            quality,
            budget_ms,
            ceiling: ceiling.max(quality),
            ema: None,
            over: 0,
            under: 0,
        }
    }

    /// Smoothed frame time, if any frame was recorded.
    pub fn average_ms(&self) -> Option<f32> {
        self.ema
    }

    /// Records one frame's cost; returns the new quality if it changed.
    pub fn record(&mut self, frame_ms: f32) -> Option<Quality> {
        if !frame_ms.is_finite() || frame_ms < 0.0 {
            return None;
        }
        let ema = match self.ema {
            Some(e) => e + 0.1 * (frame_ms - e),
            None => frame_ms,
        };
        self.ema = Some(ema);
        if ema > self.budget_ms {
            self.over += 1;
            self.under = 0;
        } else if ema < 0.5 * self.budget_ms {
            self.under += 1;
            self.over = 0;
        } else {
            self.over = 0;
            self.under = 0;
        }
        let next = if self.over >= Self::DOWN_AFTER {
            self.quality.lower()
        } else if self.under >= Self::UP_AFTER && self.quality < self.ceiling {
            self.quality.higher()
        } else {
            None
        };
        if let Some(q) = next {
            self.quality = q;
            self.over = 0;
            self.under = 0;
            // The new level costs differently: measure afresh.
            self.ema = None;
        }
        next
    }
}

/// What to do on this animation frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FrameAction {
    /// Do nothing (no GPU work at all).
    Skip,
    /// Draw once without stepping (a still frame), then skip.
    DrawStill,
    /// Step by `dt` seconds and draw.
    Step { dt: f32 },
}

/// Pause rules. Times are in milliseconds (e.g. `performance.now()`).
#[derive(Debug, Clone)]
pub struct Scheduler {
    pub motion: Motion,
    hidden: bool,
    /// Explicit pause (e.g. from the app).
    paused: bool,
    idle_after_ms: f64,
    last_activity_ms: f64,
    last_frame_ms: Option<f64>,
    still_drawn: bool,
    /// Frames drawn after going idle, to let the fluid settle before stopping.
    settle_frames: u32,
}

impl Scheduler {
    /// Frames the fluid keeps moving once the app is idle, before it stops.
    pub const SETTLE_FRAMES: u32 = 90;

    pub fn new(motion: Motion, idle_after_ms: f64, now_ms: f64) -> Self {
        Self {
            motion,
            hidden: false,
            paused: false,
            idle_after_ms,
            last_activity_ms: now_ms,
            last_frame_ms: None,
            still_drawn: false,
            settle_frames: 0,
        }
    }

    pub fn set_motion(&mut self, motion: Motion) {
        if motion != self.motion {
            self.motion = motion;
            self.still_drawn = false;
            self.last_frame_ms = None;
        }
    }

    /// The page/window became hidden (or minimised) or visible again.
    pub fn set_hidden(&mut self, hidden: bool) {
        self.hidden = hidden;
        self.last_frame_ms = None;
        self.still_drawn = false;
    }

    /// Something visible changed (theme, size): a still frame is drawn again.
    pub fn invalidate(&mut self) {
        self.still_drawn = false;
    }

    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        self.last_frame_ms = None;
    }

    /// User input, voice or agent activity: the app is not idle.
    pub fn touch(&mut self, now_ms: f64) {
        self.last_activity_ms = now_ms;
        self.settle_frames = 0;
    }

    /// Whether the app counts as idle at `now_ms`.
    pub fn is_idle(&self, now_ms: f64) -> bool {
        now_ms - self.last_activity_ms >= self.idle_after_ms
    }

    /// Whether anything would run at all (a caller can stop requesting animation frames).
    pub fn is_running(&self, now_ms: f64) -> bool {
        !(self.hidden
            || self.paused
            || self.motion == Motion::Off
            || (self.motion == Motion::Still && self.still_drawn)
            || (self.is_idle(now_ms) && self.settle_frames >= Self::SETTLE_FRAMES))
    }

    pub fn frame(&mut self, now_ms: f64) -> FrameAction {
        if self.hidden || self.paused || self.motion == Motion::Off {
            self.last_frame_ms = None;
            return FrameAction::Skip;
        }
        if self.motion == Motion::Still {
            self.last_frame_ms = None;
            if self.still_drawn {
                return FrameAction::Skip;
            }
            self.still_drawn = true;
            return FrameAction::DrawStill;
        }
        if self.is_idle(now_ms) {
            if self.settle_frames >= Self::SETTLE_FRAMES {
                self.last_frame_ms = None;
                return FrameAction::Skip;
            }
            self.settle_frames += 1;
        }
        let dt = match self.last_frame_ms {
            Some(prev) => ((now_ms - prev) / 1000.0).clamp(0.0, 1.0 / 15.0) as f32,
            None => 1.0 / 60.0,
        };
        self.last_frame_ms = Some(now_ms);
        FrameAction::Step { dt }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_and_off_do_nothing() {
        let mut s = Scheduler::new(Motion::Full, 60_000.0, 0.0);
        assert!(matches!(s.frame(16.0), FrameAction::Step { .. }));
        s.set_hidden(true);
        for i in 0..100 {
            assert_eq!(s.frame(32.0 + i as f64 * 16.0), FrameAction::Skip);
        }
        assert!(!s.is_running(2000.0));
        s.set_hidden(false);
        assert_eq!(
            s.frame(3000.0),
            FrameAction::Step { dt: 1.0 / 60.0 },
            "no jump after a pause"
        );
        s.set_motion(Motion::Off);
        assert_eq!(s.frame(3016.0), FrameAction::Skip);
    }

    #[test]
    fn reduced_motion_draws_one_still_frame() {
        let mut s = Scheduler::new(Motion::Still, 60_000.0, 0.0);
        assert_eq!(s.frame(0.0), FrameAction::DrawStill);
        assert_eq!(s.frame(16.0), FrameAction::Skip);
        assert!(!s.is_running(16.0));
        s.set_hidden(true);
        s.set_hidden(false);
        assert_eq!(
            s.frame(48.0),
            FrameAction::DrawStill,
            "redrawn after being shown again"
        );
    }

    #[test]
    fn idle_settles_then_stops_and_activity_resumes() {
        let mut s = Scheduler::new(Motion::Full, 1000.0, 0.0);
        let mut t = 0.0;
        let mut steps = 0u32;
        while t < 5000.0 {
            if matches!(s.frame(t), FrameAction::Step { .. }) {
                steps += 1;
            }
            t += 16.0;
        }
        let expected = (1000.0_f64 / 16.0).ceil() as u32 + Scheduler::SETTLE_FRAMES;
        assert!(steps.abs_diff(expected) <= 1, "{steps} vs {expected}");
        assert!(!s.is_running(t));
        s.touch(t);
        assert!(matches!(s.frame(t), FrameAction::Step { .. }));
    }

    #[test]
    fn dt_is_clamped() {
        let mut s = Scheduler::new(Motion::Full, 1e9, 0.0);
        s.frame(0.0);
        assert_eq!(s.frame(5000.0), FrameAction::Step { dt: 1.0 / 15.0 });
    }

    #[test]
    fn governor_steps_down_when_slow_and_up_when_fast() {
        let mut g = QualityGovernor::new(Quality::High, Quality::High, 4.0);
        let mut changed = None;
        for _ in 0..QualityGovernor::DOWN_AFTER * 2 {
            if let Some(q) = g.record(9.0) {
                changed = Some(q);
                break;
            }
        }
        assert_eq!(changed, Some(Quality::Medium));
        // Noise around the budget does not flap.
        for i in 0..1000 {
            assert_eq!(g.record(if i % 2 == 0 { 3.0 } else { 4.5 }), None);
        }
        let mut up = None;
        for _ in 0..QualityGovernor::UP_AFTER + 50 {
            if let Some(q) = g.record(0.5) {
                up = Some(q);
            }
        }
        assert_eq!(up, Some(Quality::High));
        for _ in 0..QualityGovernor::UP_AFTER * 2 {
            assert_eq!(g.record(0.5), None, "never above the ceiling");
        }
        assert_eq!(g.record(f32::NAN), None);
    }

    #[test]
    fn software_adapters_start_low_and_stay_low() {
        assert!(Quality::is_software_adapter(
            false,
            "llvmpipe (LLVM 15.0.6, 256 bits)"
        ));
        assert!(Quality::is_software_adapter(false, "Google SwiftShader"));
        assert!(Quality::is_software_adapter(true, "whatever"));
        assert!(!Quality::is_software_adapter(
            false,
            "NVIDIA H100 80GB HBM3"
        ));
        assert_eq!(Quality::for_adapter(true), (Quality::Low, Quality::Low));
        assert_eq!(
            Quality::for_adapter(false),
            (Quality::Medium, Quality::High)
        );
    }

    #[test]
    fn quality_presets_are_ordered() {
        let cost = |q: Quality| {
            let (s, d, i, r) = q.settings();
            (s * s * i + d * d) as f32 * r
        };
        assert!(cost(Quality::Low) < cost(Quality::Medium));
        assert!(cost(Quality::Medium) < cost(Quality::High));
        assert_eq!(Quality::Low.lower(), None);
        assert_eq!(Quality::High.higher(), None);
    }
}

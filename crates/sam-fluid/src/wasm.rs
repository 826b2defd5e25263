//! The in-app build: wasm32 + wgpu's WebGL2 backend, drawing into a `<canvas>` behind the UI.
//!
//! JavaScript owns the animation loop (`requestAnimationFrame`) and the page signals
//! (visibility, reduced motion, idle, theme); this side decides what each frame does. Every
//! failure (no WebGL2, no adapter, a GPU error later) comes back as a rejected promise or an
//! `Err` from `frame`, which the JS side turns into the static gradient. Nothing panics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use wasm_bindgen::prelude::*;
use web_sys::HtmlCanvasElement;

use crate::reactivity::BANDS;
use crate::{
    Activity, Fluid, FluidConfig, FrameAction, Motion, Palette, Quality, QualityGovernor,
    Scheduler, SignalFrame, Splat, SyntheticSignal, Theme, VoiceDrive,
};

/// Frame-interval budget for the adaptive quality loop (ms): below ~50 fps the quality drops.
const INTERVAL_BUDGET_MS: f32 = 20.0;
/// The app counts as idle after this long without input, voice or agent activity (then the
/// fluid settles and stops until the next input).
const IDLE_AFTER_MS: f64 = 60_000.0;

fn log(msg: &str) {
    web_sys::console::warn_1(&JsValue::from_str(msg));
}

#[wasm_bindgen]
pub struct FluidCanvas {
    canvas: HtmlCanvasElement,
    surface: wgpu::Surface<'static>,
    device: wgpu::Device,
    queue: wgpu::Queue,
    surface_config: wgpu::SurfaceConfiguration,
    fluid: Fluid,
    base: FluidConfig,
    drive: VoiceDrive,
    synthetic: Option<SyntheticSignal>,
    signal: SignalFrame,
    activity: Activity,
    theme: Theme,
    scheduler: Scheduler,
    governor: QualityGovernor,
    splats: Vec<Splat>,
    failed: Arc<AtomicBool>,
    css: (f64, f64),
    last_now: Option<f64>,
}

impl std::fmt::Debug for FluidCanvas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FluidCanvas")
            .field("fluid", &self.fluid)
            .field("quality", &self.governor.quality)
            .finish_non_exhaustive()
    }
}

#[wasm_bindgen]
impl FluidCanvas {
    /// Creates the fluid on `canvas` with WebGL2. Rejects (with a message) when WebGL2, an
    /// adapter or a device is unavailable: show the static gradient then.
    pub async fn create(
        canvas: HtmlCanvasElement,
        dark: bool,
        now_ms: f64,
    ) -> Result<FluidCanvas, JsValue> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::GL,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let surface = instance
            .create_surface(wgpu::SurfaceTarget::Canvas(canvas.clone()))
            .map_err(|e| JsValue::from_str(&format!("WebGL2 unavailable: {e}")))?;
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::LowPower,
                force_fallback_adapter: false,
                compatible_surface: Some(&surface),
                apply_limit_buckets: false,
            })
            .await
            .map_err(|e| JsValue::from_str(&format!("no WebGL2 adapter: {e}")))?;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("sam-fluid"),
                required_features: wgpu::Features::empty(),
                required_limits: wgpu::Limits::downlevel_webgl2_defaults()
                    .using_resolution(adapter.limits()),
                ..Default::default()
            })
            .await
            .map_err(|e| JsValue::from_str(&format!("no WebGL2 device: {e}")))?;
        let failed = Arc::new(AtomicBool::new(false));
        let flag = failed.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            // Log once; `frame` reports the failure to JS, which falls back.
            if !flag.swap(true, Ordering::SeqCst) {
                log(&format!("sam-fluid: GPU error, falling back: {e}"));
            }
        }));

        let caps = surface.get_capabilities(&adapter);
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .or_else(|| caps.formats.first().copied())
            .ok_or_else(|| JsValue::from_str("the canvas offers no surface format"))?;
        let info = adapter.get_info();
        let software =
            Quality::is_software_adapter(info.device_type == wgpu::DeviceType::Cpu, &info.name);
        let (quality, ceiling) = Quality::for_adapter(software);
        let (w, h) = (canvas.width().max(1), canvas.height().max(1));
        let surface_config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            width: w,
            height: h,
            present_mode: wgpu::PresentMode::Fifo,
            desired_maximum_frame_latency: 2,
            alpha_mode: caps
                .alpha_modes
                .first()
                .copied()
                .unwrap_or(wgpu::CompositeAlphaMode::Auto),
            view_formats: vec![],
            color_space: wgpu::SurfaceColorSpace::Auto,
        };
        surface.configure(&device, &surface_config);
        let theme = if dark { Theme::Dark } else { Theme::Light };
        let base = FluidConfig {
            theme,
            ..FluidConfig::default()
        };
        let fluid = Fluid::new(&device, &queue, quality.apply(&base), w, h);
        let this = FluidCanvas {
            canvas,
            surface,
            device,
            queue,
            surface_config,
            fluid,
            base,
            drive: VoiceDrive::default(),
            synthetic: None,
            signal: SignalFrame::SILENT,
            activity: Activity::Idle,
            theme,
            scheduler: Scheduler::new(Motion::Full, IDLE_AFTER_MS, now_ms),
            governor: QualityGovernor::new(quality, ceiling, INTERVAL_BUDGET_MS),
            splats: Vec::with_capacity(crate::MAX_SPLATS),
            failed,
            css: (f64::from(w), f64::from(h)),
            last_now: None,
        };
        if this.failed.load(Ordering::SeqCst) {
            return Err(JsValue::from_str("GPU error during set-up"));
        }
        Ok(this)
    }

    /// The latest analysis frame of the microphone. `bands` may be shorter or longer than 8.
    pub fn set_signal(&mut self, rms: f32, bands: &[f32], onset: f32, centroid: f32, now_ms: f64) {
        let mut b = [0.0; BANDS];
        for (dst, src) in b.iter_mut().zip(bands) {
            *dst = *src;
        }
        self.signal = SignalFrame {
            rms,
            bands: b,
            onset,
            centroid,
        }
        .sanitized();
        if self.signal.rms > self.drive.tuning.gate {
            self.scheduler.touch(now_ms);
        }
    }

    /// Drive the fluid from the built-in synthetic voice (no microphone) or stop doing so.
    pub fn use_synthetic(&mut self, on: bool) {
        self.synthetic = if on {
            Some(SyntheticSignal::new(1))
        } else {
            None
        };
    }

    /// The agent is working (gentle stirring) or idle.
    pub fn set_activity(&mut self, working: bool, now_ms: f64) {
        self.activity = if working {
            Activity::Working
        } else {
            Activity::Idle
        };
        if working {
            self.scheduler.touch(now_ms);
        }
    }

    pub fn set_theme(&mut self, dark: bool) {
        self.theme = if dark { Theme::Dark } else { Theme::Light };
        self.base.theme = self.theme;
        self.fluid.set_theme(self.theme);
        self.scheduler.invalidate();
    }

    /// "full", "still" (prefers-reduced-motion) or "off" (the setting).
    pub fn set_motion(&mut self, motion: &str) {
        self.scheduler.set_motion(match motion {
            "still" => Motion::Still,
            "off" => Motion::Off,
            _ => Motion::Full,
        });
    }

    /// Page hidden / window minimised (true) or visible again (false).
    pub fn set_hidden(&mut self, hidden: bool) {
        self.scheduler.set_hidden(hidden);
        self.last_now = None;
    }

    pub fn pause(&mut self) {
        self.scheduler.set_paused(true);
        self.last_now = None;
    }

    pub fn resume(&mut self) {
        self.scheduler.set_paused(false);
    }

    /// User input happened: not idle.
    pub fn touch(&mut self, now_ms: f64) {
        self.scheduler.touch(now_ms);
    }

    /// Canvas pixels per CSS pixel at the current quality.
    pub fn render_scale(&self) -> f32 {
        self.governor.quality.render_scale()
    }

    /// The canvas's CSS size changed: sizes the backing store at the quality's scale.
    pub fn resize(&mut self, css_width: f64, css_height: f64) {
        self.css = (css_width.max(1.0), css_height.max(1.0));
        let scale = f64::from(self.render_scale());
        let w = ((self.css.0 * scale).round() as u32).clamp(1, 4096);
        let h = ((self.css.1 * scale).round() as u32).clamp(1, 4096);
        if (w, h) != (self.surface_config.width, self.surface_config.height) {
            self.canvas.set_width(w);
            self.canvas.set_height(h);
            self.surface_config.width = w;
            self.surface_config.height = h;
            self.surface.configure(&self.device, &self.surface_config);
            self.fluid.resize(w, h);
            self.scheduler.invalidate();
        }
    }

    /// Whether frames are still wanted (false: stop requesting animation frames until a
    /// `touch`, `set_hidden(false)`, `resume` or `set_motion`).
    pub fn is_running(&self, now_ms: f64) -> bool {
        self.scheduler.is_running(now_ms)
    }

    /// One animation frame. `Ok(true)`: keep going; `Ok(false)`: nothing to do until the
    /// state changes; `Err`: the GPU failed, switch to the static gradient.
    pub fn frame(&mut self, now_ms: f64) -> Result<bool, JsValue> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(JsValue::from_str("sam-fluid: GPU error"));
        }
        // A working agent (or the synthetic voice) keeps the app awake: the idle pause is
        // for a quiet app, not for a long turn nobody types into.
        if self.activity == Activity::Working || self.synthetic.is_some() {
            self.scheduler.touch(now_ms);
        }
        let action = self.scheduler.frame(now_ms);
        let (dt, step) = match action {
            FrameAction::Skip => {
                self.last_now = None;
                return Ok(self.scheduler.is_running(now_ms));
            }
            FrameAction::DrawStill => (0.0, false),
            FrameAction::Step { dt } => (dt, true),
        };
        // Adaptive quality from the frame interval (rAF slows down when the GPU cannot keep up).
        if step {
            if let Some(prev) = self.last_now
                && let Some(q) = self.governor.record((now_ms - prev) as f32)
            {
                self.fluid.reconfigure(q.apply(&self.base));
                self.resize(self.css.0, self.css.1);
            }
            self.last_now = Some(now_ms);
        }

        let frame = match &mut self.synthetic {
            Some(s) => s.next_frame(dt),
            None => self.signal,
        };
        let palette = Palette::for_theme(self.theme);
        let drive = self
            .drive
            .update(&frame, self.activity, dt, &palette, &mut self.splats);
        self.fluid.set_liveliness(drive.liveliness);
        if !step {
            // A still frame: a calm composition, no motion.
            self.splats.clear();
            for (i, x) in [0.3f32, 0.55, 0.75].iter().enumerate() {
                self.splats.push(Splat {
                    pos: [*x, 0.4 + 0.15 * i as f32],
                    force: [0.0, 0.0],
                    color: palette.sample(i as f32 / 2.0).map(|c| c * 0.4),
                    radius: 0.18,
                });
            }
        }

        let texture = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t)
            | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                self.surface.configure(&self.device, &self.surface_config);
                return Ok(true);
            }
            _ => return Ok(true),
        };
        let view = texture
            .texture
            .create_view(&wgpu::TextureViewDescriptor::default());
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("sam-fluid frame"),
            });
        self.fluid.step(&mut enc, dt, &self.splats);
        self.fluid
            .render(&mut enc, &view, self.surface_config.format);
        self.queue.submit([enc.finish()]);
        self.queue.present(texture);
        if self.failed.load(Ordering::SeqCst) {
            return Err(JsValue::from_str("sam-fluid: GPU error"));
        }
        Ok(true)
    }
}

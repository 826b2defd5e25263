//! Benchmark runner shared by `fluid-bench` (sam-fluid alone) and the peer comparison
//! binary (`peer-bench/`, which adds the `fluid_core` contender). Headless, GPU-synchronised
//! per frame (one submit, then wait), deterministic splat input.

use std::time::{Duration, Instant};

use crate::harness::{AdapterChoice, Headless, Offscreen, describe};
use crate::{
    Activity, Fluid, FluidConfig, Palette, Quality, Scheduler, Splat, SyntheticSignal, Theme,
    VoiceDrive,
};

/// One comparison point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub sim_res: u32,
    pub dye_res: u32,
    pub pressure_iters: u32,
}

impl Setting {
    pub const STANDARD: [Setting; 2] = [
        Setting {
            sim_res: 128,
            dye_res: 1024,
            pressure_iters: 20,
        },
        Setting {
            sim_res: 256,
            dye_res: 2048,
            pressure_iters: 20,
        },
    ];
}

/// Something that can run frames of a fluid simulation at a setting.
pub trait Contender {
    fn name(&self) -> String;
    /// Adapter name and backend as the contender's own wgpu reports it.
    fn adapter(&self) -> String;
    /// One frame: apply `splats`, step by `dt`, render to its target, submit, wait for the GPU.
    fn frame(&mut self, dt: f32, splats: &[Splat]) -> Result<(), String>;
    /// Whether [`Contender::submit`] really skips the wait (pipelined measurement).
    fn pipelined(&self) -> bool {
        false
    }
    /// Like [`Contender::frame`] without waiting for the GPU (when [`Contender::pipelined`]).
    fn submit(&mut self, dt: f32, splats: &[Splat]) -> Result<(), String> {
        self.frame(dt, splats)
    }
    /// Waits until all submitted work is done.
    fn wait(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// Builds a contender for a setting and a target size.
pub type Factory<'a> = &'a dyn Fn(Setting, u32, u32) -> Result<Box<dyn Contender>, String>;

/// sam-fluid on its own headless device.
pub struct SamContender {
    gpu: Headless,
    fluid: Fluid,
    target: Offscreen,
}

impl std::fmt::Debug for SamContender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamContender")
            .field("fluid", &self.fluid)
            .finish_non_exhaustive()
    }
}

impl SamContender {
    pub fn new(
        choice: AdapterChoice,
        setting: Setting,
        width: u32,
        height: u32,
    ) -> Result<Self, String> {
        let gpu = Headless::with_choice(choice).map_err(|e| e.to_string())?;
        let config = FluidConfig {
            sim_res: setting.sim_res,
            dye_res: setting.dye_res,
            pressure_iters: setting.pressure_iters,
            ..FluidConfig::default()
        };
        let fluid = Fluid::new(&gpu.device, &gpu.queue, config, width, height);
        let target = gpu.offscreen(width, height, wgpu::TextureFormat::Rgba8Unorm);
        Ok(Self { gpu, fluid, target })
    }

    /// Texture bytes per frame (see [`Fluid::traffic_bytes_per_frame`]).
    pub fn traffic_bytes(&self) -> u64 {
        self.fluid
            .traffic_bytes_per_frame(self.target.width, self.target.height, 4)
    }

    pub fn grids(&self) -> ((u32, u32), (u32, u32)) {
        (self.fluid.sim_size(), self.fluid.dye_size())
    }
}

impl SamContender {
    /// GPU time of `frames` frames (from the start of the first pass to the end of the
    /// display pass, by timestamp queries), or `None` when the device has no timestamps.
    /// Measured separately from the wall-clock frames: reading the queries back costs time.
    pub fn gpu_times(&mut self, first_frame: u32, frames: u32) -> Result<Option<Stats>, String> {
        let device = &self.gpu.device;
        if !device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return Ok(None);
        }
        let queries = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("frame time"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let buffer = |usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: None,
                size: 16,
                usage,
                mapped_at_creation: false,
            })
        };
        let resolve = buffer(wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC);
        let read = buffer(wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ);
        let period_ns = f64::from(self.gpu.queue.get_timestamp_period());
        let marker = |enc: &mut wgpu::CommandEncoder, view: &wgpu::TextureView, begin: bool| {
            // An empty pass on the target: only there to carry a timestamp.
            let _pass = enc.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("timestamp"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Load,
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: Some(wgpu::RenderPassTimestampWrites {
                    query_set: &queries,
                    beginning_of_pass_write_index: begin.then_some(0),
                    end_of_pass_write_index: (!begin).then_some(1),
                }),
                occlusion_query_set: None,
                multiview_mask: None,
            });
        };
        let mut splats = Vec::with_capacity(8);
        let mut times = Vec::with_capacity(frames as usize);
        for i in 0..frames {
            input_splats(first_frame + i, &mut splats);
            let mut enc =
                device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            marker(&mut enc, &self.target.view, true);
            self.fluid.step(&mut enc, 1.0 / 60.0, &splats);
            self.fluid
                .render(&mut enc, &self.target.view, self.target.format);
            marker(&mut enc, &self.target.view, false);
            enc.resolve_query_set(&queries, 0..2, &resolve, 0);
            enc.copy_buffer_to_buffer(&resolve, 0, &read, 0, 16);
            self.gpu.queue.submit([enc.finish()]);
            let slice = read.slice(..);
            slice.map_async(wgpu::MapMode::Read, |_| {});
            self.gpu.wait().map_err(|e| e.to_string())?;
            let ticks: [u64; 2] = {
                let view = slice.get_mapped_range().map_err(|e| e.to_string())?;
                let t: &[u64] = bytemuck::cast_slice(&view);
                [t[0], t[1]]
            };
            read.unmap();
            times.push(ticks[1].saturating_sub(ticks[0]) as f64 * period_ns / 1e6);
        }
        Ok(Some(stats(times)))
    }
}

impl SamContender {
    /// Per-pass GPU times (timestamps at both ends of every render pass) over `frames`
    /// frames, submitted one by one with a wait after each (`pipelined == false`) or all
    /// back to back with one wait at the end. `None` when the device has no timestamps.
    pub fn pass_profile(
        &mut self,
        first_frame: u32,
        frames: u32,
        pipelined: bool,
    ) -> Result<Option<PassProfile>, String> {
        if !self.fluid.start_pass_timing(frames) {
            return Ok(None);
        }
        let mut splats = Vec::with_capacity(8);
        let run = |c: &mut Self, splats: &mut Vec<Splat>| -> Result<(), String> {
            for i in 0..frames {
                input_splats(first_frame + i, splats);
                if pipelined {
                    c.submit(1.0 / 60.0, splats)?;
                } else {
                    c.frame(1.0 / 60.0, splats)?;
                }
            }
            c.wait()
        };
        let ran = run(self, &mut splats);
        // Always take the profiler back out, even after an error.
        let timings = self.fluid.finish_pass_timing()?;
        ran?;
        Ok(Some(PassProfile::from_frames(&timings, pipelined)))
    }
}

impl Contender for SamContender {
    fn name(&self) -> String {
        "sam-fluid".into()
    }

    fn adapter(&self) -> String {
        describe(&self.gpu.info())
    }

    fn frame(&mut self, dt: f32, splats: &[Splat]) -> Result<(), String> {
        self.gpu
            .frame(&mut self.fluid, dt, splats, Some(&self.target))
            .map_err(|e| e.to_string())
    }

    fn pipelined(&self) -> bool {
        true
    }

    fn submit(&mut self, dt: f32, splats: &[Splat]) -> Result<(), String> {
        let mut enc = self
            .gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("sam-fluid frame"),
            });
        self.fluid.step(&mut enc, dt, splats);
        self.fluid
            .render(&mut enc, &self.target.view, self.target.format);
        self.gpu.queue.submit([enc.finish()]);
        Ok(())
    }

    fn wait(&mut self) -> Result<(), String> {
        self.gpu.wait().map_err(|e| e.to_string())
    }
}

/// Per-pass GPU timing summary of a run of frames (medians over frames).
#[derive(Debug, Clone, PartialEq)]
pub struct PassProfile {
    /// Frames submitted back to back (one wait at the end) rather than one by one.
    pub pipelined: bool,
    pub frames: usize,
    /// Per label (in pass order, each label once): that label's total time per frame.
    pub by_label: Vec<(&'static str, Stats)>,
    /// Per pass position: its label (jacobi passes numbered) and time.
    pub by_pass: Vec<(String, Stats)>,
    /// Sum of the pass times of a frame.
    pub sum: Stats,
    /// First pass begin to last pass end of a frame.
    pub span: Stats,
    /// `span - sum`: time between the passes of a frame (barriers, pass changes).
    pub gaps: Stats,
    /// Begin of one frame's first pass to the next frame's (GPU time per frame including
    /// the gap between frames; meaningful when pipelined).
    pub frame_period: Stats,
}

impl PassProfile {
    pub fn from_frames(frames: &[Vec<crate::PassTime>], pipelined: bool) -> Self {
        let ms = |ns: f64| ns / 1e6;
        let mut labels: Vec<&'static str> = Vec::new();
        let mut positions: Vec<String> = Vec::new();
        // Frames whose pass list differs from the first are left out (none in practice).
        let shape: Vec<&str> = frames
            .first()
            .map(|f| f.iter().map(|p| p.label).collect())
            .unwrap_or_default();
        let frames: Vec<&Vec<crate::PassTime>> = frames
            .iter()
            .filter(|f| f.iter().map(|p| p.label).eq(shape.iter().copied()))
            .collect();
        if let Some(f) = frames.first() {
            let mut jacobi = 0;
            for p in f.iter() {
                if !labels.contains(&p.label) {
                    labels.push(p.label);
                }
                positions.push(if p.label == "jacobi" {
                    jacobi += 1;
                    format!("jacobi {jacobi}")
                } else {
                    p.label.to_string()
                });
            }
        }
        let by_label = labels
            .iter()
            .map(|&l| {
                let v = frames
                    .iter()
                    .map(|f| {
                        ms(f.iter()
                            .filter(|p| p.label == l)
                            .map(crate::PassTime::duration_ns)
                            .sum())
                    })
                    .collect();
                (l, stats(v))
            })
            .collect();
        let by_pass = positions
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                let v = frames
                    .iter()
                    .filter_map(|f| f.get(i).map(|p| ms(p.duration_ns())))
                    .collect();
                (name, stats(v))
            })
            .collect();
        let sums: Vec<f64> = frames
            .iter()
            .map(|f| ms(f.iter().map(crate::PassTime::duration_ns).sum()))
            .collect();
        let spans: Vec<f64> = frames
            .iter()
            .map(|f| match (f.first(), f.last()) {
                (Some(a), Some(b)) => ms(b.end_ns - a.begin_ns),
                _ => f64::NAN,
            })
            .collect();
        let gaps = spans.iter().zip(&sums).map(|(s, t)| s - t).collect();
        let period = frames
            .windows(2)
            .filter_map(|w| Some(ms(w[1].first()?.begin_ns - w[0].first()?.begin_ns)))
            .collect();
        Self {
            pipelined,
            frames: frames.len(),
            by_label,
            by_pass,
            sum: stats(sums),
            span: stats(spans),
            gaps: stats(gaps),
            frame_period: stats(period),
        }
    }

    fn json(&self) -> String {
        let labels = self
            .by_label
            .iter()
            .map(|(l, st)| format!("{}: {}", json_str(l), stats_json(st)))
            .collect::<Vec<_>>()
            .join(", ");
        let passes = self
            .by_pass
            .iter()
            .map(|(l, st)| {
                format!(
                    "{{\"pass\": {}, \"median_ms\": {}}}",
                    json_str(l),
                    json_num(st.median_ms)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{{\"pipelined\": {}, \"frames\": {}, \"by_label\": {{{labels}}}, \"by_pass\": [{passes}], \"sum\": {}, \"span\": {}, \"gaps\": {}, \"frame_period\": {}}}",
            self.pipelined,
            self.frames,
            stats_json(&self.sum),
            stats_json(&self.span),
            stats_json(&self.gaps),
            stats_json(&self.frame_period),
        )
    }
}

/// Human-readable table of one or more profiles side by side (median ms per frame).
fn profile_table(profiles: &[&PassProfile]) -> String {
    let Some(first) = profiles.first() else {
        return String::new();
    };
    let mut out = format!(
        "  per-pass GPU time (timestamps at both ends of every pass; median ms over frames):\n    {:<28}",
        "pass"
    );
    for p in profiles {
        out.push_str(&format!(
            "{:>14}",
            if p.pipelined {
                "pipelined"
            } else {
                "submit+wait"
            }
        ));
    }
    let row = |out: &mut String, name: &str, f: &dyn Fn(&PassProfile) -> f64| {
        out.push_str(&format!("\n    {name:<28}"));
        for p in profiles {
            out.push_str(&format!("{:>14.4}", f(p)));
        }
    };
    let median_of = |p: &PassProfile, l: &str| {
        p.by_label
            .iter()
            .find(|(k, _)| *k == l)
            .map_or(f64::NAN, |(_, st)| st.median_ms)
    };
    let jacobi_passes = first
        .by_pass
        .iter()
        .filter(|(n, _)| n.starts_with("jacobi"))
        .count();
    for (l, _) in &first.by_label {
        let name = if *l == "jacobi" {
            format!("jacobi (sum of {jacobi_passes})")
        } else {
            (*l).to_string()
        };
        row(&mut out, &name, &|p| median_of(p, l));
    }
    row(&mut out, "  jacobi per pass (min)", &|p| {
        p.by_pass
            .iter()
            .filter(|(n, _)| n.starts_with("jacobi"))
            .map(|(_, st)| st.median_ms)
            .fold(f64::INFINITY, f64::min)
    });
    row(&mut out, "  jacobi per pass (max)", &|p| {
        p.by_pass
            .iter()
            .filter(|(n, _)| n.starts_with("jacobi"))
            .map(|(_, st)| st.median_ms)
            .fold(f64::NEG_INFINITY, f64::max)
    });
    row(&mut out, "sum of passes", &|p| p.sum.median_ms);
    row(&mut out, "frame span (first→last)", &|p| p.span.median_ms);
    row(&mut out, "gaps (span − sum)", &|p| p.gaps.median_ms);
    row(&mut out, "frame period (begin→begin)", &|p| {
        p.frame_period.median_ms
    });
    out.push_str("\n    frames:                     ");
    for p in profiles {
        out.push_str(&format!("{:>14}", p.frames));
    }
    out
}

/// The deterministic input both contenders get: three splats per frame moving on circles.
pub fn input_splats(frame: u32, out: &mut Vec<Splat>) {
    out.clear();
    let palette = Palette::for_theme(Theme::Dark);
    for k in 0..3 {
        let a = frame as f32 * 0.05 + k as f32 * std::f32::consts::TAU / 3.0;
        out.push(Splat {
            pos: [0.5 + 0.3 * a.cos(), 0.5 + 0.3 * a.sin()],
            force: [-a.sin() * 0.8, a.cos() * 0.8],
            color: palette.sample(k as f32 / 2.0).map(|c| c * 0.3),
            radius: 0.05,
        });
    }
}

/// Median and 95th percentile of frame times, in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub median_ms: f64,
    pub p95_ms: f64,
    pub mean_ms: f64,
    pub frames: usize,
}

pub fn stats(mut ms: Vec<f64>) -> Stats {
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    if n == 0 {
        return Stats {
            median_ms: f64::NAN,
            p95_ms: f64::NAN,
            mean_ms: f64::NAN,
            frames: 0,
        };
    }
    let pick = |q: f64| ms[((q * (n - 1) as f64).round() as usize).min(n - 1)];
    Stats {
        median_ms: pick(0.5),
        p95_ms: pick(0.95),
        mean_ms: ms.iter().sum::<f64>() / n as f64,
        frames: n,
    }
}

/// Runs `warmup` + `frames` frames and times each (submit + wait included).
pub fn measure(c: &mut dyn Contender, warmup: u32, frames: u32) -> Result<Stats, String> {
    let mut splats = Vec::with_capacity(8);
    let dt = 1.0 / 60.0;
    for i in 0..warmup {
        input_splats(i, &mut splats);
        c.frame(dt, &splats)?;
    }
    let mut times = Vec::with_capacity(frames as usize);
    for i in 0..frames {
        input_splats(warmup + i, &mut splats);
        let t = Instant::now();
        c.frame(dt, &splats)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(stats(times))
}

/// Runs two contenders frame by frame in alternation (A, B, A, B, ...), so that anything
/// else loading the machine (other processes, clock changes) hits both alike.
pub fn measure_pair(
    a: &mut dyn Contender,
    b: &mut dyn Contender,
    warmup: u32,
    frames: u32,
) -> Result<(Stats, Stats), String> {
    let mut splats = Vec::with_capacity(8);
    let dt = 1.0 / 60.0;
    for i in 0..warmup {
        input_splats(i, &mut splats);
        a.frame(dt, &splats)?;
        b.frame(dt, &splats)?;
    }
    let (mut ta, mut tb) = (
        Vec::with_capacity(frames as usize),
        Vec::with_capacity(frames as usize),
    );
    for i in 0..frames {
        input_splats(warmup + i, &mut splats);
        let t = Instant::now();
        a.frame(dt, &splats)?;
        ta.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        b.frame(dt, &splats)?;
        tb.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((stats(ta), stats(tb)))
}

/// Keeps the contenders' frames going back to back (batches of 8 submits, then a wait, in
/// turn) for `ms` milliseconds, so the GPU clocks are up before measuring. Frame inputs
/// continue from `first_frame`; returns the frames each ran.
pub fn warm_for(cs: &mut [&mut dyn Contender], ms: f64, first_frame: u32) -> Result<u32, String> {
    let mut splats = Vec::with_capacity(8);
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed().as_secs_f64() * 1000.0 < ms {
        for c in cs.iter_mut() {
            for k in 0..8 {
                input_splats(first_frame + n + k, &mut splats);
                c.submit(1.0 / 60.0, &splats)?;
            }
            c.wait()?;
        }
        n += 8;
    }
    Ok(n)
}

/// Throughput with frames submitted back to back: `batches` runs of `frames` submits and
/// one wait; the median over runs of (run time / frames), and of the CPU time spent
/// submitting per frame. A contender that cannot skip the wait gives `None`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pipelined {
    pub ms_per_frame: f64,
    pub submit_ms_per_frame: f64,
    pub frames: u32,
    pub batches: u32,
}

pub fn measure_pipelined(
    c: &mut dyn Contender,
    first_frame: u32,
    frames: u32,
    batches: u32,
) -> Result<Option<Pipelined>, String> {
    if !c.pipelined() {
        return Ok(None);
    }
    let mut splats = Vec::with_capacity(8);
    let (mut total, mut submit) = (Vec::new(), Vec::new());
    c.wait()?;
    for b in 0..batches {
        let t = Instant::now();
        for i in 0..frames {
            input_splats(first_frame + b * frames + i, &mut splats);
            c.submit(1.0 / 60.0, &splats)?;
        }
        let s = t.elapsed().as_secs_f64() * 1000.0;
        c.wait()?;
        total.push(t.elapsed().as_secs_f64() * 1000.0 / f64::from(frames));
        submit.push(s / f64::from(frames));
    }
    Ok(Some(Pipelined {
        ms_per_frame: stats(total).median_ms,
        submit_ms_per_frame: stats(submit).median_ms,
        frames,
        batches,
    }))
}

fn pipelined_json(p: &Option<Pipelined>) -> String {
    match p {
        Some(p) => format!(
            "{{\"ms_per_frame\": {}, \"submit_ms_per_frame\": {}, \"frames\": {}, \"batches\": {}}}",
            json_num(p.ms_per_frame),
            json_num(p.submit_ms_per_frame),
            p.frames,
            p.batches
        ),
        None => "null".into(),
    }
}

/// Process CPU time (user + system, all threads) from /proc/self/stat.
pub fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the full line: 11 and 12 after the name.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every mainstream Linux.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Result of a CPU-cost run.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuReport {
    pub hidden: bool,
    pub quality: Quality,
    pub fps: f64,
    pub wall_s: f64,
    pub cpu_s: f64,
    pub steps: u64,
    pub canvas: (u32, u32),
    pub grids: ((u32, u32), (u32, u32)),
}

impl CpuReport {
    /// Percent of one core.
    pub fn percent(&self) -> f64 {
        100.0 * self.cpu_s / self.wall_s
    }
}

/// The app's loop at `fps` for `seconds`: scheduler, voice drive on the synthetic signal,
/// step + render of the default quality into a canvas-sized target. With `hidden`, the
/// scheduler sees a hidden page and nothing runs.
pub fn run_cpu(
    choice: AdapterChoice,
    quality: Quality,
    window: (u32, u32),
    fps: f64,
    seconds: f64,
    hidden: bool,
) -> Result<CpuReport, String> {
    let gpu = Headless::with_choice(choice).map_err(|e| e.to_string())?;
    let scale = quality.render_scale();
    let canvas = (
        ((window.0 as f32 * scale).round() as u32).max(1),
        ((window.1 as f32 * scale).round() as u32).max(1),
    );
    let config = quality.apply(&FluidConfig::default());
    let mut fluid = Fluid::new(&gpu.device, &gpu.queue, config, canvas.0, canvas.1);
    let target = gpu.offscreen(canvas.0, canvas.1, wgpu::TextureFormat::Rgba8Unorm);
    let mut drive = VoiceDrive::default();
    let mut signal = SyntheticSignal::new(1);
    let palette = Palette::for_theme(Theme::Dark);
    let mut splats = Vec::with_capacity(crate::MAX_SPLATS);
    // One warm frame so pipeline compilation is not counted.
    gpu.frame(&mut fluid, 1.0 / 60.0, &[], Some(&target))
        .map_err(|e| e.to_string())?;

    let start = Instant::now();
    let now_ms = |t: Instant| t.duration_since(start).as_secs_f64() * 1000.0;
    let mut scheduler = Scheduler::new(crate::Motion::Full, f64::INFINITY, 0.0);
    scheduler.set_hidden(hidden);
    let cpu0 = process_cpu_time().ok_or("no /proc/self/stat")?;
    let period = Duration::from_secs_f64(1.0 / fps);
    let mut steps = 0u64;
    let mut tick = 0u32;
    while start.elapsed().as_secs_f64() < seconds {
        tick += 1;
        let deadline = start + period * tick;
        if let crate::FrameAction::Step { dt } = scheduler.frame(now_ms(Instant::now())) {
            let sig = signal.next_frame(dt);
            let d = drive.update(&sig, Activity::Working, dt, &palette, &mut splats);
            fluid.set_liveliness(d.liveliness);
            gpu.frame(&mut fluid, dt, &splats, Some(&target))
                .map_err(|e| e.to_string())?;
            steps += 1;
        }
        let now = Instant::now();
        if deadline > now {
            std::thread::sleep(deadline - now);
        }
    }
    let wall_s = start.elapsed().as_secs_f64();
    let cpu1 = process_cpu_time().ok_or("no /proc/self/stat")?;
    Ok(CpuReport {
        hidden,
        quality,
        fps,
        wall_s,
        cpu_s: (cpu1 - cpu0).as_secs_f64(),
        steps,
        canvas,
        grids: (fluid.sim_size(), fluid.dye_size()),
    })
}

/// Renders a few seconds of the synthetic voice and returns the final image (8-bit RGBA).
pub fn render_preview(
    choice: AdapterChoice,
    theme: Theme,
    size: (u32, u32),
    seconds: f32,
) -> Result<Vec<u8>, String> {
    let gpu = Headless::with_choice(choice).map_err(|e| e.to_string())?;
    let config = FluidConfig {
        theme,
        ..Quality::High.apply(&FluidConfig::default())
    };
    let mut fluid = Fluid::new(&gpu.device, &gpu.queue, config, size.0, size.1);
    let target = gpu.offscreen(size.0, size.1, wgpu::TextureFormat::Rgba8Unorm);
    let mut drive = VoiceDrive::default();
    let mut signal = SyntheticSignal::new(5);
    let palette = Palette::for_theme(theme);
    let mut splats = Vec::new();
    let dt = 1.0 / 30.0;
    for _ in 0..(seconds / dt) as u32 {
        let sig = signal.next_frame(dt);
        let d = drive.update(&sig, Activity::Working, dt, &palette, &mut splats);
        fluid.set_liveliness(d.liveliness);
        gpu.frame(&mut fluid, dt, &splats, Some(&target))
            .map_err(|e| e.to_string())?;
    }
    Ok(gpu
        .read_texture(&target.texture)
        .map_err(|e| e.to_string())?
        .to_rgba8())
}

/// Command-line options of the benchmark binaries.
#[derive(Debug, Clone)]
pub struct Options {
    pub mode: String,
    pub json: bool,
    pub json_out: Option<std::path::PathBuf>,
    pub warmup: u32,
    pub frames: u32,
    pub width: u32,
    pub height: u32,
    pub bandwidth_gbs: Option<f64>,
    pub choice: AdapterChoice,
    pub seconds: f64,
    pub fps: f64,
    pub png: Option<std::path::PathBuf>,
    pub settings: Vec<Setting>,
    /// `None`: what the app would pick for the adapter ([`Quality::for_adapter`]).
    pub quality: Option<Quality>,
    /// (gpu) Frames back to back for this long before measuring (GPU clock ramp-up).
    pub warmup_ms: f64,
    /// (gpu) Also measure throughput with frames submitted back to back.
    pub pipelined: bool,
    /// (gpu) Per-pass GPU timestamps (sam-fluid; needs TIMESTAMP_QUERY).
    pub profile: bool,
}

pub const USAGE: &str = "\
fluid-bench [gpu|cpu|preview] [options]
  gpu      (default) sam-fluid (and the peer, when built in) at 128/1024/20 and 256/2048/20
  cpu      default quality at 30 fps for --seconds, visible then hidden: % of one core
  preview  writes a PNG of the synthetic voice after a few seconds (--png PATH)
options:
  --json               machine-readable output on stdout
  --json-out PATH      also write the JSON to PATH
  --warmup N --frames M  (gpu; default 30 / 200)
  --warmup-ms MS       (gpu) then frames back to back for MS ms before measuring (clock ramp)
  --pipelined          (gpu) also frames submitted back to back, one wait per batch: ms/frame
  --profile            (gpu) per-pass GPU time breakdown of sam-fluid (timestamp queries)
  --size WxH           viewport / render target (default 1920x1080; cpu: the window, 1280x800)
  --bandwidth-gbs X    memory bandwidth for the floor comparison (e.g. 3350 H100 SXM, 4800 H200)
  --backend NAME       vulkan | gl | metal | dx12 (default: wgpu's choice, or WGPU_BACKEND)
  --low-power          ask for the low-power adapter instead of the high-performance one
  --setting S/D/I      only this setting (repeatable), e.g. 128/1024/20
  --seconds S --fps F  (cpu; default 10 / 30)
  --quality Q          (cpu) low | medium | high (default: what the app picks for the
                       adapter: low on a software renderer, medium on a GPU)
  --png PATH           (preview)";

pub fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        mode: "gpu".into(),
        json: false,
        json_out: None,
        warmup: 30,
        frames: 200,
        width: 0,
        height: 0,
        bandwidth_gbs: None,
        choice: AdapterChoice::default(),
        seconds: 10.0,
        fps: 30.0,
        png: None,
        settings: Vec::new(),
        quality: None,
        warmup_ms: 0.0,
        pipelined: false,
        profile: false,
    };
    let mut it = args.iter();
    let num = |v: Option<&String>, name: &str| -> Result<f64, String> {
        v.ok_or(format!("{name} needs a value"))?
            .parse::<f64>()
            .map_err(|e| format!("{name}: {e}"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "gpu" | "cpu" | "preview" => o.mode = a.clone(),
            "--json" => o.json = true,
            "--json-out" => o.json_out = Some(it.next().ok_or("--json-out needs a path")?.into()),
            "--warmup" => o.warmup = num(it.next(), a)? as u32,
            "--frames" => o.frames = (num(it.next(), a)? as u32).max(1),
            "--warmup-ms" => o.warmup_ms = num(it.next(), a)?.max(0.0),
            "--pipelined" => o.pipelined = true,
            "--profile" => o.profile = true,
            "--bandwidth-gbs" => o.bandwidth_gbs = Some(num(it.next(), a)?),
            "--seconds" => o.seconds = num(it.next(), a)?,
            "--fps" => o.fps = num(it.next(), a)?.max(1.0),
            "--png" => o.png = Some(it.next().ok_or("--png needs a path")?.into()),
            "--low-power" => o.choice.power = wgpu::PowerPreference::LowPower,
            "--quality" => {
                o.quality = match it.next().map(String::as_str) {
                    Some("low") => Some(Quality::Low),
                    Some("medium") => Some(Quality::Medium),
                    Some("high") => Some(Quality::High),
                    _ => return Err("--quality needs low, medium or high".into()),
                }
            }
            "--size" => {
                let v = it.next().ok_or("--size needs WxH")?;
                let (w, h) = v.split_once('x').ok_or("--size needs WxH")?;
                o.width = w.parse().map_err(|e| format!("--size: {e}"))?;
                o.height = h.parse().map_err(|e| format!("--size: {e}"))?;
            }
            "--backend" => {
                let v = it.next().ok_or("--backend needs a name")?;
                o.choice.backends = Some(match v.as_str() {
                    "vulkan" => wgpu::Backends::VULKAN,
                    "gl" | "gles" => wgpu::Backends::GL,
                    "metal" => wgpu::Backends::METAL,
                    "dx12" => wgpu::Backends::DX12,
                    other => return Err(format!("unknown backend {other}")),
                });
            }
            "--setting" => {
                let v = it.next().ok_or("--setting needs S/D/I")?;
                let p: Vec<u32> = v
                    .split('/')
                    .map(|x| x.parse::<u32>().map_err(|e| format!("--setting: {e}")))
                    .collect::<Result<_, _>>()?;
                let [s, d, i] = p[..] else {
                    return Err("--setting needs S/D/I".into());
                };
                o.settings.push(Setting {
                    sim_res: s,
                    dye_res: d,
                    pressure_iters: i,
                });
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if o.settings.is_empty() {
        o.settings = Setting::STANDARD.to_vec();
    }
    if o.width == 0 {
        (o.width, o.height) = if o.mode == "cpu" {
            (1280, 800)
        } else {
            (1920, 1080)
        };
    }
    Ok(o)
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "null".into()
    }
}

fn stats_json(s: &Stats) -> String {
    format!(
        "{{\"median_ms\": {}, \"p95_ms\": {}, \"mean_ms\": {}, \"frames\": {}}}",
        json_num(s.median_ms),
        json_num(s.p95_ms),
        json_num(s.mean_ms),
        s.frames
    )
}

/// Runs the benchmark described by `args`; `peer` adds the comparison contender.
/// Returns the process exit code.
#[allow(clippy::print_stdout)]
pub fn cli_main(args: &[String], peer: Option<(&str, Factory<'_>)>) -> i32 {
    let o = match parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let result = match o.mode.as_str() {
        "cpu" => run_cpu_mode(&o),
        "preview" => run_preview_mode(&o),
        _ => run_gpu_mode(&o, peer),
    };
    match result {
        Ok((human, json)) => {
            if o.json {
                println!("{json}");
            } else {
                println!("{human}");
            }
            if let Some(p) = &o.json_out
                && let Err(e) = std::fs::write(p, format!("{json}\n"))
            {
                eprintln!("writing {}: {e}", p.display());
                return 1;
            }
            0
        }
        Err(e) => {
            eprintln!("fluid-bench: {e}");
            1
        }
    }
}

fn run_preview_mode(o: &Options) -> Result<(String, String), String> {
    let path = o.png.clone().unwrap_or_else(|| "fluid-preview.png".into());
    let mut files = Vec::new();
    for theme in [Theme::Dark, Theme::Light] {
        let img = render_preview(o.choice, theme, (o.width, o.height), 4.0)?;
        let p = path.with_file_name(format!(
            "{}-{}.png",
            path.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("fluid-preview"),
            if theme == Theme::Dark {
                "dark"
            } else {
                "light"
            }
        ));
        crate::harness::write_png(&p, o.width, o.height, &img).map_err(|e| e.to_string())?;
        files.push(p.display().to_string());
    }
    Ok((
        format!("wrote {}", files.join(", ")),
        format!(
            "{{\"files\": [{}]}}",
            files
                .iter()
                .map(|f| json_str(f))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

fn run_cpu_mode(o: &Options) -> Result<(String, String), String> {
    let info = Headless::with_choice(o.choice)
        .map_err(|e| e.to_string())?
        .info();
    let adapter = describe(&info);
    let software =
        Quality::is_software_adapter(info.device_type == wgpu::DeviceType::Cpu, &info.name);
    let q = o.quality.unwrap_or(Quality::for_adapter(software).0);
    let visible = run_cpu(o.choice, q, (o.width, o.height), o.fps, o.seconds, false)?;
    let hidden = run_cpu(o.choice, q, (o.width, o.height), o.fps, o.seconds, true)?;
    let line = |r: &CpuReport| {
        format!(
            "{:<8} {:>6.1}% of one core  ({:.2} s CPU over {:.1} s wall, {} steps at {} fps, canvas {}x{}, sim {}x{}, dye {}x{})",
            if r.hidden { "hidden" } else { "visible" },
            r.percent(),
            r.cpu_s,
            r.wall_s,
            r.steps,
            r.fps,
            r.canvas.0,
            r.canvas.1,
            r.grids.0.0,
            r.grids.0.1,
            r.grids.1.0,
            r.grids.1.1
        )
    };
    let human = format!(
        "CPU cost of quality {:?} for a {}x{} window\nadapter: {adapter}\n{}\n{}",
        q,
        o.width,
        o.height,
        line(&visible),
        line(&hidden)
    );
    let j = |r: &CpuReport| {
        format!(
            "{{\"hidden\": {}, \"percent_of_one_core\": {}, \"cpu_s\": {}, \"wall_s\": {}, \"steps\": {}, \"fps\": {}, \"canvas\": [{}, {}], \"sim\": [{}, {}], \"dye\": [{}, {}]}}",
            r.hidden,
            json_num(r.percent()),
            json_num(r.cpu_s),
            json_num(r.wall_s),
            r.steps,
            json_num(r.fps),
            r.canvas.0,
            r.canvas.1,
            r.grids.0.0,
            r.grids.0.1,
            r.grids.1.0,
            r.grids.1.1
        )
    };
    let json = format!(
        "{{\"mode\": \"cpu\", \"quality\": {}, \"window\": [{}, {}], \"adapter\": {}, \"runs\": [{}, {}]}}",
        json_str(&format!("{q:?}")),
        o.width,
        o.height,
        json_str(&adapter),
        j(&visible),
        j(&hidden)
    );
    Ok((human, json))
}

fn run_gpu_mode(
    o: &Options,
    peer: Option<(&str, Factory<'_>)>,
) -> Result<(String, String), String> {
    let mut human = Vec::new();
    let mut rows = Vec::new();
    human.push(format!(
        "frame = splats + step + render {}x{} (Rgba8Unorm), one submit, GPU wait; {}{} warm-up + {} measured frames (contenders alternate frame by frame)",
        o.width,
        o.height,
        if o.warmup_ms > 0.0 {
            format!("{} ms of back-to-back frames, then ", o.warmup_ms)
        } else {
            String::new()
        },
        o.warmup,
        o.frames
    ));
    if peer.is_none() {
        human.push(
            "peer: not built in (build crates/sam-fluid/peer-bench for the fluid_core comparison)"
                .into(),
        );
    }
    for s in &o.settings {
        let choice = AdapterChoice {
            timestamps: true,
            ..o.choice
        };
        let mut sam = SamContender::new(choice, *s, o.width, o.height)?;
        let adapter = sam.adapter();
        let (sim, dye) = sam.grids();
        let bytes = sam.traffic_bytes();
        let mut peer_c = match peer {
            Some((_, make)) => Some(make(*s, o.width, o.height)?),
            None => None,
        };
        let mut warm_frames = 0;
        if o.warmup_ms > 0.0 {
            let mut cs: Vec<&mut dyn Contender> = vec![&mut sam];
            if let Some(p) = peer_c.as_mut() {
                cs.push(p.as_mut());
            }
            warm_frames = warm_for(&mut cs, o.warmup_ms, 0)?;
        }
        let (ours, theirs) = match peer_c.as_mut() {
            Some(p) => {
                let a = p.adapter();
                let (ours, st) = measure_pair(&mut sam, p.as_mut(), o.warmup, o.frames)?;
                (ours, Some((a, st)))
            }
            None => (measure(&mut sam, o.warmup, o.frames)?, None),
        };
        let mut next_frame = o.warmup + o.frames;
        let gpu_time = sam.gpu_times(next_frame, o.frames.min(100))?;
        next_frame += o.frames.min(100);
        let (mut pipe_ours, mut pipe_peer) = (None, None);
        if o.pipelined {
            pipe_ours = measure_pipelined(&mut sam, next_frame, o.frames, 3)?;
            if let Some(p) = peer_c.as_mut() {
                pipe_peer = measure_pipelined(p.as_mut(), next_frame, o.frames, 3)?;
            }
            next_frame += 3 * o.frames;
        }
        let mut profiles = Vec::new();
        if o.profile {
            let n = o.frames.min(100);
            for pipelined in [false, true] {
                if let Some(p) = sam.pass_profile(next_frame, n, pipelined)? {
                    profiles.push(p);
                }
                next_frame += n;
            }
        }
        drop(peer_c);
        drop(sam);
        let floor_ms = o
            .bandwidth_gbs
            .map(|gbs| bytes as f64 / (gbs * 1e9) * 1000.0);
        // The floor compares with GPU time when timestamps exist, else with the wall time.
        let (vs_floor_ms, vs_floor_what) = match &gpu_time {
            Some(g) => (g.median_ms, "GPU time"),
            None => (ours.median_ms, "wall time"),
        };
        human.push(format!(
            "\nsetting sim {}/dye {}/{} iters: sim grid {}x{}, dye grid {}x{}\n  adapter: {adapter}\n  sam-fluid: median {:.3} ms, p95 {:.3} ms (wall, submit + wait){}",
            s.sim_res,
            s.dye_res,
            s.pressure_iters,
            sim.0,
            sim.1,
            dye.0,
            dye.1,
            ours.median_ms,
            ours.p95_ms,
            match &gpu_time {
                Some(g) => format!("; GPU time median {:.4} ms, p95 {:.4} ms", g.median_ms, g.p95_ms),
                None => "; no GPU timestamps on this device".into(),
            }
        ));
        let mut ratio = None;
        if let (Some((name, _)), Some((pa, st))) = (peer, &theirs) {
            let r = st.median_ms / ours.median_ms;
            ratio = Some(r);
            human.push(format!(
                "  {name}: median {:.3} ms, p95 {:.3} ms  (adapter: {pa})\n  speed-up (peer median / ours): {r:.2}x {}",
                st.median_ms,
                st.p95_ms,
                if r >= 2.0 { "(target ≥ 2x: met)" } else { "(target ≥ 2x: NOT met)" }
            ));
        }
        if o.warmup_ms > 0.0 {
            human.push(format!(
                "  clock warm-up: {warm_frames} frames per contender back to back over {} ms",
                o.warmup_ms
            ));
        }
        let mut ratio_pipelined = None;
        if o.pipelined {
            let mut line = match &pipe_ours {
                Some(p) => format!(
                    "  pipelined ({} frames back to back, one wait; median of {} batches): sam-fluid {:.4} ms/frame (CPU submit {:.4} ms/frame)",
                    p.frames, p.batches, p.ms_per_frame, p.submit_ms_per_frame
                ),
                None => "  pipelined: not measured".into(),
            };
            if let Some((name, _)) = peer {
                match (&pipe_peer, &pipe_ours) {
                    (Some(pp), Some(po)) => {
                        let r = pp.ms_per_frame / po.ms_per_frame;
                        ratio_pipelined = Some(r);
                        line.push_str(&format!(
                            "; {name} {:.4} ms/frame (CPU submit {:.4}); speed-up {r:.2}x",
                            pp.ms_per_frame, pp.submit_ms_per_frame
                        ));
                    }
                    _ => line.push_str(&format!(
                        "; {name}: pipelined not supported by its contender (ours only)"
                    )),
                }
            }
            human.push(line);
        }
        if o.profile {
            if profiles.is_empty() {
                human.push(
                    "  per-pass GPU time: not available (no TIMESTAMP_QUERY on this device)".into(),
                );
            } else {
                human.push(profile_table(&profiles.iter().collect::<Vec<_>>()));
            }
        }
        human.push(format!(
            "  texture traffic: {:.1} MB/frame{}",
            bytes as f64 / 1e6,
            match floor_ms {
                Some(f) => format!(
                    " → bandwidth floor {:.4} ms at {} GB/s; our {vs_floor_what} is {:.1}x the floor {}",
                    f,
                    o.bandwidth_gbs.unwrap_or_default(),
                    vs_floor_ms / f,
                    if vs_floor_ms / f <= 3.0 {
                        "(target ≤ 3x: met)"
                    } else {
                        "(target ≤ 3x: NOT met)"
                    }
                ),
                None => " (pass --bandwidth-gbs for the floor comparison)".into(),
            }
        ));
        // Under steady load (pipelined, clocks up): GPU frame period against the floor.
        let pipelined_period = profiles
            .iter()
            .find(|p| p.pipelined)
            .map(|p| p.frame_period.median_ms)
            .filter(|x| x.is_finite());
        let floor_pipelined = floor_ms.zip(pipelined_period).map(|(f, t)| t / f);
        if let (Some(t), Some(m)) = (pipelined_period, floor_pipelined) {
            human.push(format!(
                "  pipelined GPU frame period {t:.4} ms is {m:.1}x the floor {}",
                if m <= 3.0 {
                    "(target ≤ 3x: met)"
                } else {
                    "(target ≤ 3x: NOT met)"
                }
            ));
        }
        rows.push(format!(
            "{{\"sim_res\": {}, \"dye_res\": {}, \"pressure_iters\": {}, \"sim_grid\": [{}, {}], \"dye_grid\": [{}, {}], \"adapter\": {}, \"sam_fluid\": {}, \"sam_fluid_gpu_time\": {}, \"peer\": {}, \"peer_adapter\": {}, \"ratio_peer_over_ours\": {}, \"bytes_per_frame\": {}, \"bandwidth_gbs\": {}, \"floor_ms\": {}, \"multiple_of_floor\": {}, \"floor_compared_with\": {}, \"warmup_frames_back_to_back\": {}, \"sam_fluid_pipelined\": {}, \"peer_pipelined\": {}, \"ratio_pipelined\": {}, \"pipelined_gpu_frame_period_ms\": {}, \"multiple_of_floor_pipelined_gpu\": {}, \"pass_profile\": {}}}",
            s.sim_res,
            s.dye_res,
            s.pressure_iters,
            sim.0,
            sim.1,
            dye.0,
            dye.1,
            json_str(&adapter),
            stats_json(&ours),
            gpu_time.as_ref().map_or("null".into(), stats_json),
            theirs.as_ref().map_or("null".into(), |(_, st)| stats_json(st)),
            theirs.as_ref().map_or("null".into(), |(a, _)| json_str(a)),
            ratio.map_or("null".into(), json_num),
            bytes,
            o.bandwidth_gbs.map_or("null".into(), json_num),
            floor_ms.map_or("null".into(), json_num),
            floor_ms.map_or("null".into(), |f| json_num(vs_floor_ms / f)),
            json_str(vs_floor_what),
            warm_frames,
            pipelined_json(&pipe_ours),
            pipelined_json(&pipe_peer),
            ratio_pipelined.map_or("null".into(), json_num),
            pipelined_period.map_or("null".into(), json_num),
            floor_pipelined.map_or("null".into(), json_num),
            if o.profile {
                let part = |pl: bool| {
                    profiles
                        .iter()
                        .find(|p| p.pipelined == pl)
                        .map_or("null".into(), PassProfile::json)
                };
                format!(
                    "{{\"submit_wait\": {}, \"pipelined\": {}}}",
                    part(false),
                    part(true)
                )
            } else {
                "null".into()
            },
        ));
    }
    let json = format!(
        "{{\"mode\": \"gpu\", \"target\": [{}, {}], \"warmup\": {}, \"warmup_ms\": {}, \"frames\": {}, \"pipelined\": {}, \"profile\": {}, \"peer\": {}, \"results\": [{}]}}",
        o.width,
        o.height,
        o.warmup,
        json_num(o.warmup_ms),
        o.frames,
        o.pipelined,
        o.profile,
        peer.map_or("null".into(), |(n, _)| json_str(n)),
        rows.join(", ")
    );
    Ok((human.join("\n"), json))
}

#[cfg(test)]
mod tests {
    use super::{PassProfile, parse_args, stats};
    use crate::PassTime;

    fn pass(label: &'static str, begin_ns: f64, end_ns: f64) -> PassTime {
        PassTime {
            label,
            begin_ns,
            end_ns,
        }
    }

    #[test]
    fn pass_profile_sums_labels_and_measures_gaps() {
        // Two frames 10 µs apart: force 1 µs, two jacobi passes of 2 µs, 1 µs gaps.
        let frame = |t0: f64| {
            vec![
                pass("force", t0, t0 + 1000.0),
                pass("jacobi", t0 + 2000.0, t0 + 4000.0),
                pass("jacobi", t0 + 5000.0, t0 + 7000.0),
            ]
        };
        let p = PassProfile::from_frames(&[frame(0.0), frame(10_000.0)], true);
        assert_eq!(p.frames, 2);
        let names: Vec<&str> = p.by_pass.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["force", "jacobi 1", "jacobi 2"]);
        let label = |l: &str| {
            p.by_label
                .iter()
                .find(|(k, _)| *k == l)
                .map(|(_, s)| s.median_ms)
        };
        assert_eq!(label("force"), Some(0.001));
        assert_eq!(label("jacobi"), Some(0.004));
        assert!((p.sum.median_ms - 0.005).abs() < 1e-12);
        assert!((p.span.median_ms - 0.007).abs() < 1e-12);
        assert!((p.gaps.median_ms - 0.002).abs() < 1e-12);
        assert!((p.frame_period.median_ms - 0.010).abs() < 1e-12);
        assert!(p.json().contains("\"jacobi 2\""));
    }

    #[test]
    fn stats_and_new_options() {
        let s = stats(vec![3.0, 1.0, 2.0]);
        assert_eq!((s.median_ms, s.frames), (2.0, 3));
        let args: Vec<String> = ["gpu", "--warmup-ms", "1500", "--pipelined", "--profile"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = parse_args(&args).unwrap();
        assert_eq!(o.warmup_ms, 1500.0);
        assert!(o.pipelined && o.profile);
        let o = parse_args(&["gpu".to_string()]).unwrap();
        assert!(!o.pipelined && !o.profile && o.warmup_ms == 0.0);
    }
}

//! The GPU solver: textures, pipelines, bind groups and the per-frame pass sequence.
//!
//! # Why fragment passes everywhere (and no compute path)
//!
//! The shipped build runs on WebGL2 through wgpu's GL backend, which has neither compute
//! shaders nor storage textures. Rather than keeping a compute path for native and a
//! fragment path for the web, every pass is a full-screen fragment pass, so the tests and the
//! benchmark exercise exactly the shaders the app ships. The speed comes from doing less:
//!
//! * 5 + ceil(N/2) passes per frame (N = Jacobi iterations, two per pass), one command
//!   encoder, one submit;
//!   curl is recomputed inside the vorticity pass, the pressure "clear" is folded into the
//!   first Jacobi iteration, gradient subtraction is fused with velocity advection, and all
//!   splats of a frame are applied inside the force pass and the dye advection pass (the dye
//!   grid is touched exactly twice per frame: advection and display).
//! * Packed formats: `Rg16Float` velocity, `R16Float` pressure and divergence, `Rgba16Float`
//!   dye (there is no renderable 3-channel half format).
//! * Every texture, pipeline and bind group is created up front (ping-pong bind groups for
//!   both parities); per frame only two small uniform buffers are rewritten.
//!
//! A compute path (e.g. several Jacobi iterations per dispatch in workgroup memory) would
//! cut the pass count further on native GPUs; it is left out on purpose until measurements
//! on a discrete GPU show the pass overhead matters.

use crate::config::{FluidConfig, Palette, Theme, grid_size};
use crate::shaders;

/// Most splats one frame can carry; extra ones are dropped.
pub const MAX_SPLATS: usize = 32;

const VELOCITY_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rg16Float;
const SCALAR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::R16Float;
const DYE_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba16Float;

/// One impulse of force and dye.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Splat {
    /// Centre in uv (0..1, x right, y down).
    pub pos: [f32; 2],
    /// Velocity impulse at the centre, in screen heights per second (x right, y down).
    pub force: [f32; 2],
    /// Dye added at the centre (linear-ish rgb, unbounded).
    pub color: [f32; 3],
    /// Gaussian radius in screen heights.
    pub radius: f32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct FrameUniform {
    sim: [f32; 4],
    dye: [f32; 4],
    step: [f32; 4],
    misc: [f32; 4],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SplatGpu {
    pos: [f32; 4],
    force: [f32; 4],
    color: [f32; 4],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct DisplayUniform {
    bg_top: [f32; 4],
    bg_bottom: [f32; 4],
    look: [f32; 4],
    misc: [f32; 4],
}

/// Internal fields the harness can read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Velocity after the last complete step (projected and advected), `Rg16Float`.
    Velocity,
    /// Velocity after forces, before projection, `Rg16Float`.
    VelocityForced,
    /// Divergence of [`Field::VelocityForced`], `R16Float`.
    Divergence,
    /// Pressure from the last solve, `R16Float`.
    Pressure,
    /// Current dye, `Rgba16Float`.
    Dye,
}

struct Target {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
}

struct Grids {
    sim: (u32, u32),
    dye: (u32, u32),
    /// `velocity[0]` holds the state between frames, `velocity[1]` the forced field.
    velocity: [Target; 2],
    pressure: [Target; 2],
    divergence: Target,
    dye_tex: [Target; 2],
    force_bg: wgpu::BindGroup,
    divergence_bg: wgpu::BindGroup,
    /// Indexed by the pressure texture read.
    jacobi_bg: [wgpu::BindGroup; 2],
    project_bg: [wgpu::BindGroup; 2],
    /// Indexed by the dye texture read.
    dye_bg: [wgpu::BindGroup; 2],
    display_bg: [wgpu::BindGroup; 2],
}

/// The display shader's override constants (see display.wgsl) plus the target format.
#[derive(Clone, Copy, PartialEq, Eq)]
struct DisplayKey {
    format: wgpu::TextureFormat,
    shading: bool,
    bloom: bool,
    light: bool,
}

struct Layouts {
    force: wgpu::BindGroupLayout,
    divergence: wgpu::BindGroupLayout,
    jacobi: wgpu::BindGroupLayout,
    project: wgpu::BindGroupLayout,
    dye: wgpu::BindGroupLayout,
    display: wgpu::BindGroupLayout,
}

struct Pipelines {
    force: wgpu::RenderPipeline,
    divergence: wgpu::RenderPipeline,
    jacobi_first: wgpu::RenderPipeline,
    jacobi: wgpu::RenderPipeline,
    jacobi2_first: wgpu::RenderPipeline,
    jacobi2: wgpu::RenderPipeline,
    project: wgpu::RenderPipeline,
    dye: wgpu::RenderPipeline,
    display_module: wgpu::ShaderModule,
    display_layout: wgpu::PipelineLayout,
    /// Display pipelines by target format and switches, built on first use.
    display: Vec<(DisplayKey, wgpu::RenderPipeline)>,
}

/// A 2D stable-fluids simulation. Owns its textures, pipelines and buffers; renders into a
/// texture view it is handed and never creates windows or surfaces.
pub struct Fluid {
    device: wgpu::Device,
    queue: wgpu::Queue,
    config: FluidConfig,
    viewport: (u32, u32),
    liveliness: f32,
    frame_buf: wgpu::Buffer,
    splat_buf: wgpu::Buffer,
    display_buf: wgpu::Buffer,
    splat_data: [SplatGpu; MAX_SPLATS],
    sampler: wgpu::Sampler,
    layouts: Layouts,
    pipelines: Pipelines,
    grids: Grids,
    pressure_cur: usize,
    dye_cur: usize,
    frames: u64,
    profiler: Option<PassProfiler>,
}

impl std::fmt::Debug for Fluid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fluid")
            .field("config", &self.config)
            .field("viewport", &self.viewport)
            .field("sim", &self.grids.sim)
            .field("dye", &self.grids.dye)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy)]
enum Slot {
    Uniform,
    Texture,
    Sampler,
}

fn layout(device: &wgpu::Device, label: &str, slots: &[(u32, Slot)]) -> wgpu::BindGroupLayout {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = slots
        .iter()
        .map(|&(binding, slot)| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: match slot {
                Slot::Uniform => wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                Slot::Texture => wgpu::BindingType::Texture {
                    sample_type: wgpu::TextureSampleType::Float { filterable: true },
                    view_dimension: wgpu::TextureViewDimension::D2,
                    multisampled: false,
                },
                Slot::Sampler => wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
            },
            count: None,
        })
        .collect();
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(label),
        entries: &entries,
    })
}

enum Res<'a> {
    Buf(&'a wgpu::Buffer),
    Tex(&'a wgpu::TextureView),
    Samp(&'a wgpu::Sampler),
}

fn bind(
    device: &wgpu::Device,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    res: &[(u32, Res<'_>)],
) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry<'_>> = res
        .iter()
        .map(|(binding, r)| wgpu::BindGroupEntry {
            binding: *binding,
            resource: match r {
                Res::Buf(b) => b.as_entire_binding(),
                Res::Tex(v) => wgpu::BindingResource::TextureView(v),
                Res::Samp(s) => wgpu::BindingResource::Sampler(s),
            },
        })
        .collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout,
        entries: &entries,
    })
}

fn pipeline(
    device: &wgpu::Device,
    label: &str,
    module: &wgpu::ShaderModule,
    layout: &wgpu::PipelineLayout,
    fs_entry: &str,
    format: wgpu::TextureFormat,
    constants: &[(&str, f64)],
) -> wgpu::RenderPipeline {
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(label),
        layout: Some(layout),
        vertex: wgpu::VertexState {
            module,
            entry_point: Some("vs_main"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            buffers: &[],
        },
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        fragment: Some(wgpu::FragmentState {
            module,
            entry_point: Some(fs_entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants,
                ..Default::default()
            },
            targets: &[Some(wgpu::ColorTargetState {
                format,
                blend: None,
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: None,
        cache: None,
    })
}

fn target(
    device: &wgpu::Device,
    label: &str,
    size: (u32, u32),
    format: wgpu::TextureFormat,
) -> Target {
    let texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: size.0,
            height: size.1,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::RENDER_ATTACHMENT
            | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
    Target { texture, view }
}

fn draw(
    encoder: &mut wgpu::CommandEncoder,
    label: &str,
    target: &wgpu::TextureView,
    pipeline: &wgpu::RenderPipeline,
    bind_group: &wgpu::BindGroup,
    load: wgpu::LoadOp<wgpu::Color>,
    timestamp_writes: Option<wgpu::RenderPassTimestampWrites<'_>>,
) {
    let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some(label),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view: target,
            depth_slice: None,
            resolve_target: None,
            // Every texel is overwritten: `Load` costs nothing on immediate-mode GPUs and
            // software rasterisers, where a `Clear` would be an extra full write.
            ops: wgpu::Operations {
                load,
                store: wgpu::StoreOp::Store,
            },
        })],
        depth_stencil_attachment: None,
        timestamp_writes,
        occlusion_query_set: None,
        multiview_mask: None,
    });
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, bind_group, &[]);
    pass.draw(0..3, 0..1);
}

/// Most timestamp queries one profiling run records (wgpu's limit per query set).
const PROFILE_MAX_QUERIES: u32 = wgpu::QUERY_SET_MAX_QUERIES;

/// GPU time of one render pass, from its beginning-of-pass to its end-of-pass timestamp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PassTime {
    /// The pass label: `force`, `divergence`, `jacobi`, `project+advect`, `advect dye`,
    /// `display`.
    pub label: &'static str,
    /// Nanoseconds since the first timestamp of the profiling run.
    pub begin_ns: f64,
    pub end_ns: f64,
}

impl PassTime {
    pub fn duration_ns(&self) -> f64 {
        self.end_ns - self.begin_ns
    }
}

/// Optional per-pass timestamps (benchmark only; see [`Fluid::start_pass_timing`]).
struct PassProfiler {
    query_set: wgpu::QuerySet,
    capacity: u32,
    next: u32,
    /// Per frame (a `step` starts one), the labels and first query index of its passes.
    frames: Vec<(u32, Vec<&'static str>)>,
}

impl PassProfiler {
    /// Two query indices for the next pass, recorded under `label`.
    fn writes(&mut self, label: &'static str) -> Option<wgpu::RenderPassTimestampWrites<'_>> {
        // Passes beyond the capacity are not timed.
        if self.next + 2 > self.capacity {
            return None;
        }
        if self.frames.is_empty() {
            self.frames.push((self.next, Vec::new()));
        }
        let i = self.next;
        self.next += 2;
        self.frames.last_mut()?.1.push(label);
        Some(wgpu::RenderPassTimestampWrites {
            query_set: &self.query_set,
            beginning_of_pass_write_index: Some(i),
            end_of_pass_write_index: Some(i + 1),
        })
    }
}

/// Timestamp writes for the next pass when profiling, else `None` (no cost beyond the check).
fn pass_timestamps<'a>(
    profiler: &'a mut Option<PassProfiler>,
    label: &'static str,
) -> Option<wgpu::RenderPassTimestampWrites<'a>> {
    profiler.as_mut()?.writes(label)
}

impl Fluid {
    /// Builds every pipeline, texture and buffer for a `width × height` viewport (only its
    /// aspect matters: the grids' short sides are `sim_res` and `dye_res`).
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        config: FluidConfig,
        width: u32,
        height: u32,
    ) -> Self {
        let uniform = |label: &str, size: usize| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let frame_buf = uniform("sam-fluid frame", size_of::<FrameUniform>());
        let splat_buf = uniform("sam-fluid splats", size_of::<[SplatGpu; MAX_SPLATS]>());
        let display_buf = uniform("sam-fluid display", size_of::<DisplayUniform>());
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("sam-fluid linear clamp"),
            address_mode_u: wgpu::AddressMode::ClampToEdge,
            address_mode_v: wgpu::AddressMode::ClampToEdge,
            address_mode_w: wgpu::AddressMode::ClampToEdge,
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });

        use Slot::{Sampler as S, Texture as T, Uniform as U};
        let layouts = Layouts {
            force: layout(device, "force", &[(0, U), (1, U), (2, T)]),
            divergence: layout(device, "divergence", &[(0, U), (2, T)]),
            jacobi: layout(device, "jacobi", &[(0, U), (2, T), (3, T)]),
            project: layout(device, "project", &[(0, U), (2, T), (3, T)]),
            dye: layout(device, "dye", &[(0, U), (1, U), (2, T), (3, T), (4, S)]),
            display: layout(device, "display", &[(0, U), (2, T), (4, S)]),
        };
        let module = |label: &str, src: &str| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(src.into()),
            })
        };
        let playout = |bgl: &wgpu::BindGroupLayout| {
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: None,
                bind_group_layouts: &[Some(bgl)],
                immediate_size: 0,
            })
        };
        let jacobi_module = module("jacobi", shaders::JACOBI);
        let jacobi_layout = playout(&layouts.jacobi);
        let pipelines = Pipelines {
            force: pipeline(
                device,
                "force",
                &module("force", shaders::FORCE),
                &playout(&layouts.force),
                "fs_main",
                VELOCITY_FORMAT,
                &[],
            ),
            divergence: pipeline(
                device,
                "divergence",
                &module("divergence", shaders::DIVERGENCE),
                &playout(&layouts.divergence),
                "fs_main",
                SCALAR_FORMAT,
                &[],
            ),
            jacobi_first: pipeline(
                device,
                "jacobi first",
                &jacobi_module,
                &jacobi_layout,
                "fs_first",
                SCALAR_FORMAT,
                &[],
            ),
            jacobi: pipeline(
                device,
                "jacobi",
                &jacobi_module,
                &jacobi_layout,
                "fs_main",
                SCALAR_FORMAT,
                &[],
            ),
            jacobi2_first: pipeline(
                device,
                "jacobi x2 first",
                &jacobi_module,
                &jacobi_layout,
                "fs_double_first",
                SCALAR_FORMAT,
                &[],
            ),
            jacobi2: pipeline(
                device,
                "jacobi x2",
                &jacobi_module,
                &jacobi_layout,
                "fs_double",
                SCALAR_FORMAT,
                &[],
            ),
            project: pipeline(
                device,
                "project+advect",
                &module("project_advect", shaders::PROJECT_ADVECT),
                &playout(&layouts.project),
                "fs_main",
                VELOCITY_FORMAT,
                &[],
            ),
            dye: pipeline(
                device,
                "advect dye",
                &module("advect_dye", shaders::ADVECT_DYE),
                &playout(&layouts.dye),
                "fs_main",
                DYE_FORMAT,
                &[],
            ),
            display_module: module("display", shaders::DISPLAY),
            display_layout: playout(&layouts.display),
            display: Vec::new(),
        };
        let grids = Self::make_grids(
            device,
            &layouts,
            &frame_buf,
            &splat_buf,
            &display_buf,
            &sampler,
            &config,
            width,
            height,
        );
        let fluid = Self {
            device: device.clone(),
            queue: queue.clone(),
            config,
            viewport: (width.max(1), height.max(1)),
            liveliness: 1.0,
            frame_buf,
            splat_buf,
            display_buf,
            splat_data: [SplatGpu::zeroed(); MAX_SPLATS],
            sampler,
            layouts,
            pipelines,
            grids,
            pressure_cur: 0,
            dye_cur: 0,
            frames: 0,
            profiler: None,
        };
        fluid.write_display(wgpu::TextureFormat::Rgba8Unorm);
        fluid
    }

    #[allow(clippy::too_many_arguments)]
    fn make_grids(
        device: &wgpu::Device,
        layouts: &Layouts,
        frame_buf: &wgpu::Buffer,
        splat_buf: &wgpu::Buffer,
        display_buf: &wgpu::Buffer,
        sampler: &wgpu::Sampler,
        config: &FluidConfig,
        width: u32,
        height: u32,
    ) -> Grids {
        let sim = grid_size(config.sim_res, width, height);
        let dye = grid_size(config.dye_res, width, height);
        let velocity = [
            target(device, "velocity 0", sim, VELOCITY_FORMAT),
            target(device, "velocity 1", sim, VELOCITY_FORMAT),
        ];
        let pressure = [
            target(device, "pressure 0", sim, SCALAR_FORMAT),
            target(device, "pressure 1", sim, SCALAR_FORMAT),
        ];
        let divergence = target(device, "divergence", sim, SCALAR_FORMAT);
        let dye_tex = [
            target(device, "dye 0", dye, DYE_FORMAT),
            target(device, "dye 1", dye, DYE_FORMAT),
        ];
        use Res::{Buf, Samp, Tex};
        let force_bg = bind(
            device,
            "force",
            &layouts.force,
            &[
                (0, Buf(frame_buf)),
                (1, Buf(splat_buf)),
                (2, Tex(&velocity[0].view)),
            ],
        );
        let divergence_bg = bind(
            device,
            "divergence",
            &layouts.divergence,
            &[(0, Buf(frame_buf)), (2, Tex(&velocity[1].view))],
        );
        let jacobi_bg = [0, 1].map(|i| {
            bind(
                device,
                "jacobi",
                &layouts.jacobi,
                &[
                    (0, Buf(frame_buf)),
                    (2, Tex(&pressure[i].view)),
                    (3, Tex(&divergence.view)),
                ],
            )
        });
        let project_bg = [0, 1].map(|i| {
            bind(
                device,
                "project",
                &layouts.project,
                &[
                    (0, Buf(frame_buf)),
                    (2, Tex(&velocity[1].view)),
                    (3, Tex(&pressure[i].view)),
                ],
            )
        });
        let dye_bg = [0, 1].map(|i| {
            bind(
                device,
                "dye",
                &layouts.dye,
                &[
                    (0, Buf(frame_buf)),
                    (1, Buf(splat_buf)),
                    (2, Tex(&velocity[0].view)),
                    (3, Tex(&dye_tex[i].view)),
                    (4, Samp(sampler)),
                ],
            )
        });
        let display_bg = [0, 1].map(|i| {
            bind(
                device,
                "display",
                &layouts.display,
                &[
                    (0, Buf(display_buf)),
                    (2, Tex(&dye_tex[i].view)),
                    (4, Samp(sampler)),
                ],
            )
        });
        Grids {
            sim,
            dye,
            velocity,
            pressure,
            divergence,
            dye_tex,
            force_bg,
            divergence_bg,
            jacobi_bg,
            project_bg,
            dye_bg,
            display_bg,
        }
    }

    /// Current configuration.
    pub fn config(&self) -> &FluidConfig {
        &self.config
    }

    /// Velocity grid size (width, height).
    pub fn sim_size(&self) -> (u32, u32) {
        self.grids.sim
    }

    /// Dye grid size (width, height).
    pub fn dye_size(&self) -> (u32, u32) {
        self.grids.dye
    }

    /// Steps taken so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Scales the vorticity confinement (1 = as configured): sustained speech makes it livelier.
    pub fn set_liveliness(&mut self, scale: f32) {
        self.liveliness = if scale.is_finite() {
            scale.clamp(0.0, 4.0)
        } else {
            1.0
        };
    }

    /// Switches the palette; takes effect on the next `render`.
    pub fn set_theme(&mut self, theme: Theme) {
        self.config.theme = theme;
    }

    /// New viewport size: rebuilds the grids (and clears the fluid) only if their sizes change.
    pub fn resize(&mut self, width: u32, height: u32) {
        let (width, height) = (width.max(1), height.max(1));
        self.viewport = (width, height);
        let sim = grid_size(self.config.sim_res, width, height);
        let dye = grid_size(self.config.dye_res, width, height);
        if sim != self.grids.sim || dye != self.grids.dye {
            self.rebuild();
        }
    }

    /// Applies a new configuration (e.g. from the adaptive quality loop). Resolution changes
    /// rebuild the grids and start from a still fluid; everything else applies next frame.
    pub fn reconfigure(&mut self, config: FluidConfig) {
        let rebuild =
            config.sim_res != self.config.sim_res || config.dye_res != self.config.dye_res;
        self.config = config;
        if rebuild {
            self.rebuild();
        }
    }

    fn rebuild(&mut self) {
        self.grids = Self::make_grids(
            &self.device,
            &self.layouts,
            &self.frame_buf,
            &self.splat_buf,
            &self.display_buf,
            &self.sampler,
            &self.config,
            self.viewport.0,
            self.viewport.1,
        );
        self.pressure_cur = 0;
        self.dye_cur = 0;
    }

    /// Records one simulation step into `encoder`: splats, vorticity, projection, advection.
    ///
    /// The per-step uniforms are written with `Queue::write_buffer`, which lands at the next
    /// submit: submit the encoder once per step (one step per frame).
    pub fn step(&mut self, encoder: &mut wgpu::CommandEncoder, dt: f32, splats: &[Splat]) {
        let dt = if dt.is_finite() {
            dt.clamp(0.0, 1.0 / 15.0)
        } else {
            0.0
        };
        let (sw, sh) = self.grids.sim;
        let (dw, dh) = self.grids.dye;
        let aspect = self.viewport.0 as f32 / self.viewport.1 as f32;
        let n = splats.len().min(MAX_SPLATS);
        for (gpu, s) in self.splat_data.iter_mut().zip(&splats[..n]) {
            let r = s.radius.max(1e-4);
            // Screen heights per second → sim texels per second.
            *gpu = SplatGpu {
                pos: [s.pos[0], s.pos[1], 1.0 / (r * r), 0.0],
                force: [s.force[0] * sh as f32, s.force[1] * sh as f32, 0.0, 0.0],
                color: [s.color[0], s.color[1], s.color[2], 0.0],
            };
        }
        let c = &self.config;
        let uniform = FrameUniform {
            sim: [sw as f32, sh as f32, 1.0 / sw as f32, 1.0 / sh as f32],
            dye: [dw as f32, dh as f32, 1.0 / dw as f32, 1.0 / dh as f32],
            step: [
                dt,
                (-c.velocity_dissipation.max(0.0) * dt).exp(),
                (-c.dye_dissipation.max(0.0) * dt).exp(),
                c.curl * self.liveliness,
            ],
            misc: [c.pressure_warm_start.clamp(0.0, 1.0), aspect, n as f32, 0.0],
        };
        self.queue
            .write_buffer(&self.frame_buf, 0, bytemuck::bytes_of(&uniform));
        if n > 0 {
            self.queue.write_buffer(
                &self.splat_buf,
                0,
                bytemuck::cast_slice(&self.splat_data[..n]),
            );
        }

        let load = wgpu::LoadOp::Load;
        let g = &self.grids;
        let p = &self.pipelines;
        let prof = &mut self.profiler;
        if let Some(pr) = prof.as_mut() {
            pr.frames.push((pr.next, Vec::new()));
        }
        draw(
            encoder,
            "force",
            &g.velocity[1].view,
            &p.force,
            &g.force_bg,
            load,
            pass_timestamps(prof, "force"),
        );
        draw(
            encoder,
            "divergence",
            &g.divergence.view,
            &p.divergence,
            &g.divergence_bg,
            load,
            pass_timestamps(prof, "divergence"),
        );
        // Two iterations per pass while at least two remain, then a single one.
        let mut cur = self.pressure_cur;
        let mut left = self.config.pressure_iters;
        let mut first = true;
        while left > 0 {
            let pipe = match (left >= 2, first) {
                (true, true) => &p.jacobi2_first,
                (true, false) => &p.jacobi2,
                (false, true) => &p.jacobi_first,
                (false, false) => &p.jacobi,
            };
            draw(
                encoder,
                "jacobi",
                &g.pressure[cur ^ 1].view,
                pipe,
                &g.jacobi_bg[cur],
                load,
                pass_timestamps(prof, "jacobi"),
            );
            cur ^= 1;
            left -= left.min(2);
            first = false;
        }
        self.pressure_cur = cur;
        draw(
            encoder,
            "project+advect",
            &g.velocity[0].view,
            &p.project,
            &g.project_bg[cur],
            load,
            pass_timestamps(prof, "project+advect"),
        );
        draw(
            encoder,
            "advect dye",
            &g.dye_tex[self.dye_cur ^ 1].view,
            &p.dye,
            &g.dye_bg[self.dye_cur],
            load,
            pass_timestamps(prof, "advect dye"),
        );
        self.dye_cur ^= 1;
        self.frames += 1;
    }

    fn write_display(&self, format: wgpu::TextureFormat) {
        let c = &self.config;
        let pal = Palette::for_theme(c.theme);
        let (dw, dh) = self.grids.dye;
        let u = DisplayUniform {
            bg_top: [pal.bg_top[0], pal.bg_top[1], pal.bg_top[2], 1.0],
            bg_bottom: [pal.bg_bottom[0], pal.bg_bottom[1], pal.bg_bottom[2], 1.0],
            look: [
                c.intensity,
                if c.theme == Theme::Light { 1.0 } else { 0.0 },
                pal.max_opacity,
                c.shading.clamp(0.0, 1.0),
            ],
            misc: [
                c.bloom.max(0.0),
                if format.is_srgb() { 1.0 } else { 0.0 },
                1.0 / dw as f32,
                1.0 / dh as f32,
            ],
        };
        self.queue
            .write_buffer(&self.display_buf, 0, bytemuck::bytes_of(&u));
    }

    /// Records the display pass into `encoder`, drawing the whole of `target`.
    /// `format` must be the format of `target`'s texture; `*Srgb` formats are handled.
    pub fn render(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        target: &wgpu::TextureView,
        format: wgpu::TextureFormat,
    ) {
        self.write_display(format);
        let key = DisplayKey {
            format,
            shading: self.config.shading > 0.0,
            bloom: self.config.bloom > 0.0,
            light: self.config.theme == Theme::Light,
        };
        let idx = match self.pipelines.display.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                let flag = |b: bool| if b { 1.0 } else { 0.0 };
                let pipe = pipeline(
                    &self.device,
                    "display",
                    &self.pipelines.display_module,
                    &self.pipelines.display_layout,
                    "fs_main",
                    format,
                    &[
                        ("SHADING", flag(key.shading)),
                        ("BLOOM", flag(key.bloom)),
                        ("LIGHT", flag(key.light)),
                        ("SRGB_TARGET", flag(format.is_srgb())),
                    ],
                );
                self.pipelines.display.push((key, pipe));
                self.pipelines.display.len() - 1
            }
        };
        let pipe = &self.pipelines.display[idx].1;
        draw(
            encoder,
            "display",
            target,
            pipe,
            &self.grids.display_bg[self.dye_cur],
            wgpu::LoadOp::Clear(wgpu::Color::BLACK),
            pass_timestamps(&mut self.profiler, "display"),
        );
    }

    /// Starts timing every render pass of the following frames with GPU timestamps (for the
    /// benchmark's per-pass breakdown; adds a timestamp write at both ends of every pass).
    /// `max_frames` bounds the queries (at most 4096 in all; passes beyond are not timed).
    /// Returns `false`, and changes nothing, when the device lacks `TIMESTAMP_QUERY`.
    /// Submit the frames as usual, then call [`Fluid::finish_pass_timing`].
    pub fn start_pass_timing(&mut self, max_frames: u32) -> bool {
        if !self
            .device
            .features()
            .contains(wgpu::Features::TIMESTAMP_QUERY)
        {
            return false;
        }
        // force, divergence, project+advect, advect dye, display, and the Jacobi passes.
        let per_frame = 2 * (5 + self.config.pressure_iters.div_ceil(2));
        let capacity = (per_frame * max_frames.max(1)).clamp(2, PROFILE_MAX_QUERIES);
        let query_set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("sam-fluid pass timing"),
            ty: wgpu::QueryType::Timestamp,
            count: capacity,
        });
        self.profiler = Some(PassProfiler {
            query_set,
            capacity,
            next: 0,
            frames: Vec::new(),
        });
        true
    }

    /// Stops pass timing, waits for the GPU and reads the timestamps back: for each frame
    /// (from one `step` to the next), its passes in order. Every frame recorded since
    /// [`Fluid::start_pass_timing`] must have been submitted. Empty when timing was off.
    pub fn finish_pass_timing(&mut self) -> Result<Vec<Vec<PassTime>>, String> {
        let Some(prof) = self.profiler.take() else {
            return Ok(Vec::new());
        };
        if prof.next == 0 {
            return Ok(Vec::new());
        }
        let bytes = u64::from(prof.next) * wgpu::QUERY_SIZE as u64;
        let buffer = |usage| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("sam-fluid pass timing"),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        let resolve = buffer(wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC);
        let read = buffer(wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ);
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("sam-fluid pass timing"),
            });
        enc.resolve_query_set(&prof.query_set, 0..prof.next, &resolve, 0);
        enc.copy_buffer_to_buffer(&resolve, 0, &read, 0, bytes);
        self.queue.submit([enc.finish()]);
        let slice = read.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| e.to_string())?;
        rx.recv()
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let ticks: Vec<u64> = {
            let view = slice.get_mapped_range().map_err(|e| e.to_string())?;
            bytemuck::cast_slice(&view).to_vec()
        };
        read.unmap();
        let period = f64::from(self.queue.get_timestamp_period());
        let t0 = ticks.first().copied().unwrap_or(0);
        let ns = |t: u64| t.wrapping_sub(t0) as i64 as f64 * period;
        let mut out = Vec::with_capacity(prof.frames.len());
        for (first, labels) in &prof.frames {
            let mut frame = Vec::with_capacity(labels.len());
            for (k, label) in labels.iter().enumerate() {
                let i = *first as usize + 2 * k;
                if let (Some(&b), Some(&e)) = (ticks.get(i), ticks.get(i + 1)) {
                    frame.push(PassTime {
                        label,
                        begin_ns: ns(b),
                        end_ns: ns(e),
                    });
                }
            }
            if !frame.is_empty() {
                out.push(frame);
            }
        }
        Ok(out)
    }

    /// The texture holding `field` right now (for read-back in tests and tools).
    pub fn field_texture(&self, field: Field) -> &wgpu::Texture {
        let g = &self.grids;
        match field {
            Field::Velocity => &g.velocity[0].texture,
            Field::VelocityForced => &g.velocity[1].texture,
            Field::Divergence => &g.divergence.texture,
            Field::Pressure => &g.pressure[self.pressure_cur].texture,
            Field::Dye => &g.dye_tex[self.dye_cur].texture,
        }
    }

    /// Bytes of texture memory one step + one render of a `target_w × target_h` target moves
    /// (every texel read once per pass that samples it, plus every texel written), assuming
    /// perfect caching of neighbour reads. The floor that the benchmark compares against.
    pub fn traffic_bytes_per_frame(
        &self,
        target_w: u32,
        target_h: u32,
        target_bytes_per_px: u32,
    ) -> u64 {
        let (sw, sh) = self.grids.sim;
        let (dw, dh) = self.grids.dye;
        let sim = u64::from(sw) * u64::from(sh);
        let dye = u64::from(dw) * u64::from(dh);
        let (v, s, d) = (4u64, 2u64, 8u64); // bytes per texel: rg16f, r16f, rgba16f
        let iters = u64::from(self.config.pressure_iters);
        let force = sim * (v + v);
        let divergence = sim * (v + s);
        let jacobi = iters.div_ceil(2) * sim * (s + s + s);
        let project = sim * (v + s + v);
        let dye_adv = sim * v + dye * (d + d);
        let display =
            dye * d + u64::from(target_w) * u64::from(target_h) * u64::from(target_bytes_per_px);
        force + divergence + jacobi + project + dye_adv + display
    }
}

use bytemuck::Zeroable as _;

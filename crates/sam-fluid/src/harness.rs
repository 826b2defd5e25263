//! Native headless harness: a device with no surface, an offscreen target, and read-back of
//! pixels and internal fields. Used by the tests and the benchmark.

use std::fmt;

use crate::fluid::{Field, Fluid};

/// Why the harness could not run.
#[derive(Debug)]
pub enum HarnessError {
    NoAdapter(String),
    Device(String),
    Readback(String),
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::NoAdapter(e) => write!(
                f,
                "no wgpu adapter found ({e}). The headless tests need a Vulkan or GL driver: \
                 on Debian install mesa-vulkan-drivers (lavapipe) and libvulkan1, or libegl-mesa0 (llvmpipe)"
            ),
            HarnessError::Device(e) => write!(f, "could not open the wgpu device: {e}"),
            HarnessError::Readback(e) => write!(f, "read-back failed: {e}"),
        }
    }
}

impl std::error::Error for HarnessError {}

/// Which adapter to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdapterChoice {
    /// `None`: wgpu's defaults, overridable with `WGPU_BACKEND` (e.g. `vulkan`, `gl`).
    pub backends: Option<wgpu::Backends>,
    pub power: wgpu::PowerPreference,
    /// Ask for GPU timestamp queries when the adapter has them (benchmark only).
    pub timestamps: bool,
}

impl Default for AdapterChoice {
    fn default() -> Self {
        Self {
            backends: None,
            power: wgpu::PowerPreference::HighPerformance,
            timestamps: false,
        }
    }
}

/// A device without any surface.
#[derive(Debug)]
pub struct Headless {
    pub instance: wgpu::Instance,
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
}

/// One line describing an adapter: name, backend, type, driver.
pub fn describe(info: &wgpu::AdapterInfo) -> String {
    format!(
        "{} ({:?}, {:?}, driver {} {})",
        info.name, info.backend, info.device_type, info.driver, info.driver_info
    )
}

impl Headless {
    /// The high-performance adapter with wgpu's default backends (or `WGPU_BACKEND`).
    pub fn new() -> Result<Self, HarnessError> {
        Self::with_choice(AdapterChoice::default())
    }

    pub fn with_choice(choice: AdapterChoice) -> Result<Self, HarnessError> {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        if let Some(b) = choice.backends {
            desc.backends = b;
        }
        let instance = wgpu::Instance::new(desc);
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: choice.power,
            force_fallback_adapter: false,
            compatible_surface: None,
            apply_limit_buckets: false,
        }))
        .map_err(|e| HarnessError::NoAdapter(e.to_string()))?;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("sam-fluid headless"),
            required_features: if choice.timestamps {
                adapter.features() & wgpu::Features::TIMESTAMP_QUERY
            } else {
                wgpu::Features::empty()
            },
            // What WebGL2 guarantees: the native build asks for no more than the app gets.
            required_limits:
                wgpu::Limits::downlevel_webgl2_defaults().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|e| HarnessError::Device(e.to_string()))?;
        Ok(Self {
            instance,
            adapter,
            device,
            queue,
        })
    }

    pub fn info(&self) -> wgpu::AdapterInfo {
        self.adapter.get_info()
    }

    /// Blocks until all submitted work is done.
    pub fn wait(&self) -> Result<(), HarnessError> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| HarnessError::Device(e.to_string()))
    }

    /// An offscreen colour target.
    pub fn offscreen(&self, width: u32, height: u32, format: wgpu::TextureFormat) -> Offscreen {
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("sam-fluid offscreen"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        Offscreen {
            texture,
            view,
            format,
            width,
            height,
        }
    }

    /// Steps (and renders into `target`, if any) in one encoder and one submit, then waits.
    pub fn frame(
        &self,
        fluid: &mut Fluid,
        dt: f32,
        splats: &[crate::Splat],
        target: Option<&Offscreen>,
    ) -> Result<(), HarnessError> {
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("sam-fluid frame"),
            });
        fluid.step(&mut enc, dt, splats);
        if let Some(t) = target {
            fluid.render(&mut enc, &t.view, t.format);
        }
        self.queue.submit([enc.finish()]);
        self.wait()
    }

    /// Reads a texture back as f32 channels, row-major, `channels` per texel. Supports the
    /// formats the crate uses: R16Float, Rg16Float, Rgba16Float, Rgba8Unorm(Srgb), Bgra8Unorm.
    pub fn read_texture(&self, texture: &wgpu::Texture) -> Result<Readback, HarnessError> {
        let format = texture.format();
        let (channels, bytes_per_channel) = match format {
            wgpu::TextureFormat::R16Float => (1, 2),
            wgpu::TextureFormat::Rg16Float => (2, 2),
            wgpu::TextureFormat::Rgba16Float => (4, 2),
            wgpu::TextureFormat::Rgba8Unorm
            | wgpu::TextureFormat::Rgba8UnormSrgb
            | wgpu::TextureFormat::Bgra8Unorm
            | wgpu::TextureFormat::Bgra8UnormSrgb => (4, 1),
            other => {
                return Err(HarnessError::Readback(format!(
                    "unsupported format {other:?}"
                )));
            }
        };
        let (w, h) = (texture.width(), texture.height());
        let row = w * channels * bytes_per_channel;
        let padded =
            row.div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("sam-fluid readback"),
            size: u64::from(padded) * u64::from(h),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        enc.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded),
                    rows_per_image: Some(h),
                },
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
        self.queue.submit([enc.finish()]);
        let slice = buffer.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv()
            .map_err(|e| HarnessError::Readback(e.to_string()))?
            .map_err(|e| HarnessError::Readback(e.to_string()))?;
        let mapped = slice
            .get_mapped_range()
            .map_err(|e| HarnessError::Readback(e.to_string()))?;
        let mut data = Vec::with_capacity((w * h * channels) as usize);
        let bgra = matches!(
            format,
            wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Bgra8UnormSrgb
        );
        for y in 0..h as usize {
            let line = &mapped[y * padded as usize..y * padded as usize + row as usize];
            if bytes_per_channel == 2 {
                data.extend(
                    line.chunks_exact(2)
                        .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))),
                );
            } else {
                for px in line.chunks_exact(4) {
                    let px = if bgra {
                        [px[2], px[1], px[0], px[3]]
                    } else {
                        [px[0], px[1], px[2], px[3]]
                    };
                    data.extend(px.iter().map(|&b| f32::from(b) / 255.0));
                }
            }
        }
        drop(mapped);
        buffer.unmap();
        Ok(Readback {
            width: w,
            height: h,
            channels,
            data,
        })
    }

    /// Reads one of the fluid's internal fields.
    pub fn read_field(&self, fluid: &Fluid, field: Field) -> Result<Readback, HarnessError> {
        self.read_texture(fluid.field_texture(field))
    }
}

/// An offscreen render target.
#[derive(Debug)]
pub struct Offscreen {
    pub texture: wgpu::Texture,
    pub view: wgpu::TextureView,
    pub format: wgpu::TextureFormat,
    pub width: u32,
    pub height: u32,
}

/// Texels read back from the GPU.
#[derive(Debug, Clone, PartialEq)]
pub struct Readback {
    pub width: u32,
    pub height: u32,
    pub channels: u32,
    /// Row-major, `channels` values per texel.
    pub data: Vec<f32>,
}

impl Readback {
    /// Channel `c` of texel (x, y).
    pub fn at(&self, x: u32, y: u32, c: u32) -> f32 {
        self.data[((y * self.width + x) * self.channels + c) as usize]
    }

    /// 8-bit RGBA (for images read back from an 8-bit target).
    pub fn to_rgba8(&self) -> Vec<u8> {
        self.data
            .iter()
            .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect()
    }
}

/// Writes 8-bit RGBA pixels as an uncompressed PNG (no image dependency; for looking at
/// test and benchmark output).
pub fn write_png(
    path: &std::path::Path,
    width: u32,
    height: u32,
    rgba: &[u8],
) -> std::io::Result<()> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let stride = width as usize * 4;
    let mut raw = Vec::with_capacity((stride + 1) * height as usize);
    for row in rgba.chunks_exact(stride).take(height as usize) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    // zlib stream of stored (uncompressed) deflate blocks.
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &z);
    chunk(&mut png, b"IEND", &[]);
    std::fs::write(path, png)
}

/// IEEE 754 half → single precision.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f32::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f32.powi(-24),
        31 if frac == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f32.powi(exp - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::f16_to_f32;

    #[test]
    fn half_floats() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7c00).is_infinite());
    }
}

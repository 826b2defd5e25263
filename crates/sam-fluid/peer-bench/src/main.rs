//! `fluid-bench-peer`: the sam-fluid benchmark with the `fluid_core` peer built in.
//! Same options as `fluid-bench` (`--help`).

use fluid_core::{FluidConfig, FluidEngine};
use sam_fluid::Splat;
use sam_fluid::bench::{Contender, Setting, cli_main};

struct Peer {
    engine: FluidEngine<'static>,
    width: u32,
    height: u32,
}

impl Contender for Peer {
    fn name(&self) -> String {
        "fluid_core 0.1.1".into()
    }

    fn adapter(&self) -> String {
        match self.engine.adapter_info() {
            Some(i) => format!(
                "{} ({:?}, {:?}, driver {} {})",
                i.name, i.backend, i.device_type, i.driver, i.driver_info
            ),
            None => "unknown".into(),
        }
    }

    fn frame(&mut self, dt: f32, splats: &[Splat]) -> Result<(), String> {
        self.submit(dt, splats)?;
        self.wait()
    }

    fn pipelined(&self) -> bool {
        true
    }

    fn submit(&mut self, dt: f32, splats: &[Splat]) -> Result<(), String> {
        // The same splats as sam-fluid gets, in fluid_core's units: its splat velocity is in
        // sim texels per second like ours once scaled by the grid height (short side).
        let sim_h = self.engine.config().sim_resolution as f32;
        for s in splats {
            self.engine.input.inject(
                s.pos[0],
                1.0 - s.pos[1],
                s.force[0] * sim_h,
                -s.force[1] * sim_h,
                s.color,
            );
        }
        self.engine.update(dt);
        self.engine
            .render()
            .map_err(|e| format!("fluid_core render: {e:?}"))?;
        let _ = (self.width, self.height);
        Ok(())
    }

    fn wait(&mut self) -> Result<(), String> {
        self.engine.device().poll(wgpu20::Maintain::Wait);
        Ok(())
    }
}

fn make_peer(setting: Setting, width: u32, height: u32) -> Result<Box<dyn Contender>, String> {
    // Equal settings: resolutions and iterations as given; the extra post effects sam-fluid
    // does not have (sunrays, multi-pass bloom) are off, shading is on in both.
    let config = FluidConfig {
        sim_resolution: setting.sim_res,
        dye_resolution: setting.dye_res,
        pressure_iterations: setting.pressure_iters,
        bloom: false,
        sunrays: false,
        shading: true,
        ..FluidConfig::default()
    };
    let backends = match std::env::var("WGPU_BACKEND").ok().as_deref() {
        Some("vulkan") => wgpu20::Backends::VULKAN,
        Some("gl") | Some("gles") => wgpu20::Backends::GL,
        _ => wgpu20::Backends::PRIMARY,
    };
    let engine = pollster::block_on(FluidEngine::new_headless(
        width,
        height,
        wgpu20::TextureFormat::Rgba8Unorm,
        backends,
        &config,
    ));
    Ok(Box::new(Peer {
        engine,
        width,
        height,
    }))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(cli_main(&args, Some(("fluid_core 0.1.1", &make_peer))));
}

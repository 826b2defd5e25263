//! Simulation settings, themes and the app palette.

/// Light or dark app theme: picks the background and the dye palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    Light,
    #[default]
    Dark,
}

/// Colours the display pass and the voice drive use (sRGB, 0..1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Palette {
    /// Background gradient, top and bottom rows.
    pub bg_top: [f32; 3],
    pub bg_bottom: [f32; 3],
    /// Hue stops the spectral centroid walks along (low → high).
    pub stops: [[f32; 3]; 4],
    /// How much of the effect shows at most over the background (0..1): keeps text readable.
    pub max_opacity: f32,
}

const fn hex(rgb: u32) -> [f32; 3] {
    [
        ((rgb >> 16) & 0xff) as f32 / 255.0,
        ((rgb >> 8) & 0xff) as f32 / 255.0,
        (rgb & 0xff) as f32 / 255.0,
    ]
}

impl Palette {
    /// The app's palette (ui/src/styles.css: --bg, --sidebar-bg, --accent, ...).
    pub const fn for_theme(theme: Theme) -> Self {
        match theme {
            Theme::Dark => Self {
                bg_top: hex(0x16181c),
                bg_bottom: hex(0x121417),
                // teal accent, sky, indigo, pink
                stops: [hex(0x2dd4bf), hex(0x38bdf8), hex(0x818cf8), hex(0xf472b6)],
                max_opacity: 0.55,
            },
            Theme::Light => Self {
                bg_top: hex(0xf7f7f8),
                bg_bottom: hex(0xeff1f3),
                // the light theme's deeper accents
                stops: [hex(0x0f766e), hex(0x0369a1), hex(0x4f46e5), hex(0xbe185d)],
                max_opacity: 0.28,
            },
        }
    }

    /// Colour at `t` (0..1) along the hue stops, linearly interpolated.
    pub fn sample(&self, t: f32) -> [f32; 3] {
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let x = t * (self.stops.len() - 1) as f32;
        let i = (x.floor() as usize).min(self.stops.len() - 2);
        let f = x - i as f32;
        let (a, b) = (self.stops[i], self.stops[i + 1]);
        [
            a[0] + (b[0] - a[0]) * f,
            a[1] + (b[1] - a[1]) * f,
            a[2] + (b[2] - a[2]) * f,
        ]
    }
}

/// Everything that shapes the simulation and its look.
#[derive(Debug, Clone, PartialEq)]
pub struct FluidConfig {
    /// Short side of the velocity/pressure grid, in cells.
    pub sim_res: u32,
    /// Short side of the dye grid, in texels.
    pub dye_res: u32,
    /// Jacobi iterations per frame (warm-started from the previous frame).
    pub pressure_iters: u32,
    /// Fraction of last frame's pressure the solve starts from (0..1).
    pub pressure_warm_start: f32,
    /// Velocity dissipation rate, 1/s: velocity decays as exp(-rate * dt) per step.
    pub velocity_dissipation: f32,
    /// Dye dissipation rate, 1/s: dye decays as exp(-rate * dt) per step.
    pub dye_dissipation: f32,
    /// Vorticity confinement strength (scaled at run time by the liveliness).
    pub curl: f32,
    pub theme: Theme,
    /// Display: brightness gain on the dye before the soft saturation.
    pub intensity: f32,
    /// Display: relief shading from the dye gradient (0 = off, 1 = full).
    pub shading: f32,
    /// Display: soft bloom strength (0 = off).
    pub bloom: f32,
}

impl Default for FluidConfig {
    fn default() -> Self {
        Self {
            sim_res: 128,
            dye_res: 1024,
            pressure_iters: 20,
            pressure_warm_start: 0.8,
            velocity_dissipation: 0.2,
            dye_dissipation: 1.0,
            curl: 30.0,
            theme: Theme::Dark,
            intensity: 2.5,
            shading: 1.0,
            bloom: 0.0,
        }
    }
}

/// Grid size whose short side is `res` and whose aspect matches `width × height`.
pub fn grid_size(res: u32, width: u32, height: u32) -> (u32, u32) {
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    let res = res.max(2);
    let long = ((res as f32) * (w.max(h) / w.min(h))).round() as u32;
    if w >= h { (long, res) } else { (res, long) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_follows_aspect() {
        assert_eq!(grid_size(128, 1920, 1080), (228, 128));
        assert_eq!(grid_size(128, 1080, 1920), (128, 228));
        assert_eq!(grid_size(64, 100, 100), (64, 64));
    }

    #[test]
    fn palette_endpoints() {
        let p = Palette::for_theme(Theme::Dark);
        assert_eq!(p.sample(0.0), p.stops[0]);
        assert_eq!(p.sample(1.0), p.stops[3]);
        assert_eq!(p.sample(f32::NAN), p.stops[0]);
    }
}

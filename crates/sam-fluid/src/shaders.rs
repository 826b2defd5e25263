//! WGSL sources. Every simulation pass is `common.wgsl` followed by the pass itself, joined
//! at compile time, so the tests validate exactly the strings the pipelines are built from.

/// Shared declarations (uniform layouts, full-screen vertex shader, splat weight).
pub const COMMON: &str = include_str!("shaders/common.wgsl");

macro_rules! pass {
    ($file:literal) => {
        concat!(
            include_str!("shaders/common.wgsl"),
            "\n",
            include_str!($file)
        )
    };
}

/// Splat impulses + vorticity confinement (curl computed on the fly).
pub const FORCE: &str = pass!("shaders/force.wgsl");
/// Divergence of the forced velocity.
pub const DIVERGENCE: &str = pass!("shaders/divergence.wgsl");
/// Jacobi pressure iteration (`fs_first` warm-starts from last frame's pressure).
pub const JACOBI: &str = pass!("shaders/jacobi.wgsl");
/// Gradient subtraction fused with velocity self-advection.
pub const PROJECT_ADVECT: &str = pass!("shaders/project_advect.wgsl");
/// Dye advection + dissipation + splat dye.
pub const ADVECT_DYE: &str = pass!("shaders/advect_dye.wgsl");
/// Final composite into the caller's target.
pub const DISPLAY: &str = include_str!("shaders/display.wgsl");

/// Every shader module the crate builds, by name (used by the naga validation test).
pub const ALL: &[(&str, &str)] = &[
    ("force", FORCE),
    ("divergence", DIVERGENCE),
    ("jacobi", JACOBI),
    ("project_advect", PROJECT_ADVECT),
    ("advect_dye", ADVECT_DYE),
    ("display", DISPLAY),
];

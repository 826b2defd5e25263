//! # sam-fluid
//!
//! A voice-reactive 2D stable-fluids background for SAM Desktop: WGSL on wgpu.
//!
//! * [`Fluid`]: the GPU solver (splats, vorticity confinement, divergence, warm-started
//!   Jacobi pressure, gradient subtraction, semi-Lagrangian advection with dissipation,
//!   display in the app palette). It renders into a texture view it is handed.
//! * [`VoiceDrive`]: level/spectrum frames + agent activity → splats, with fast-attack /
//!   slow-decay smoothing. [`SyntheticSignal`]: a speech-like source for tests and for users
//!   without a microphone.
//! * [`runtime`]: pause rules (reduced motion, hidden, idle) and the adaptive quality loop.
//! * `harness` (native, feature `harness`): headless device, offscreen target, read-back.
//! * `wasm` (wasm32): the in-app build on WebGL2, driven from JavaScript.

pub mod config;
pub mod fluid;
pub mod reactivity;
pub mod runtime;
pub mod shaders;
pub mod synthetic;

#[cfg(all(feature = "harness", not(target_arch = "wasm32")))]
pub mod harness;

#[cfg(all(feature = "harness", not(target_arch = "wasm32")))]
pub mod bench;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use config::{FluidConfig, Palette, Theme};
pub use fluid::{Field, Fluid, MAX_SPLATS, PassTime, Splat};
pub use reactivity::{Activity, Drive, DriveTuning, SignalFrame, VoiceDrive};
pub use runtime::{FrameAction, Motion, Quality, QualityGovernor, Scheduler};
pub use synthetic::SyntheticSignal;

/// The wgpu this crate is built against (callers must use the same version).
pub use wgpu;

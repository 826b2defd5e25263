// sam-fluid: declarations shared by every simulation pass. This file is prepended to each
// pass source at compile time (see `shaders.rs`), so every pass sees the same layout.
//
// Conventions: texel (0,0) is the top-left of every texture; uv and splat positions use the
// same orientation (x right, y down, 0..1). Velocity is stored in sim texels per second.

struct Frame {
    // width, height, 1/width, 1/height of the velocity / pressure grid
    sim: vec4f,
    // width, height, 1/width, 1/height of the dye grid
    dye: vec4f,
    // dt (s), velocity decay factor, dye decay factor, vorticity confinement strength
    step: vec4f,
    // pressure warm-start factor, aspect (width / height), splat count, unused
    misc: vec4f,
};

struct Splat {
    // x, y (uv), 1 / radius^2 (radius in screen heights), unused
    pos: vec4f,
    // velocity impulse at the centre in sim texels per second (x, y), unused, unused
    force: vec4f,
    // dye added at the centre (rgb), unused
    color: vec4f,
};

const MAX_SPLATS: u32 = 32u;

struct Splats {
    s: array<Splat, 32>,
};

struct VsOut {
    @builtin(position) pos: vec4f,
    @location(0) uv: vec2f,
};

// One triangle that covers the whole target: no vertex buffer.
@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> VsOut {
    let x = f32((i << 1u) & 2u);
    let y = f32(i & 2u);
    var o: VsOut;
    o.pos = vec4f(x * 2.0 - 1.0, 1.0 - y * 2.0, 0.0, 1.0);
    o.uv = vec2f(x, y);
    return o;
}

fn sim_size() -> vec2i {
    return vec2i(frame.sim.xy);
}

// Gaussian weight of splat `s` at `uv`; distances are measured in screen heights.
fn splat_weight(s: Splat, uv: vec2f) -> f32 {
    let d = (uv - s.pos.xy) * vec2f(frame.misc.y, 1.0);
    let e = dot(d, d) * s.pos.z;
    // Past 16 the weight is below 1e-7: skip the exp.
    if e > 16.0 {
        return 0.0;
    }
    return exp(-e);
}

fn splat_count() -> u32 {
    return min(u32(frame.misc.z), MAX_SPLATS);
}

// Pass 1: all of this frame's splat impulses plus vorticity confinement, in one pass.
// The curl is recomputed from the velocity on the fly (5 curls x 4 loads) instead of being
// written to its own texture: one render pass and one texture fewer per frame.

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<uniform> splats: Splats;
@group(0) @binding(2) var velocity: texture_2d<f32>;

fn vel(p: vec2i) -> vec2f {
    let q = clamp(p, vec2i(0), sim_size() - vec2i(1));
    return textureLoad(velocity, q, 0).xy;
}

// z-component of the curl (dv/dx - du/dy), central differences, grid spacing 1.
fn curl(p: vec2i) -> f32 {
    let dvdx = vel(p + vec2i(1, 0)).y - vel(p - vec2i(1, 0)).y;
    let dudy = vel(p + vec2i(0, 1)).x - vel(p - vec2i(0, 1)).x;
    return 0.5 * (dvdx - dudy);
}

@fragment
fn fs_main(@builtin(position) fc: vec4f) -> @location(0) vec4f {
    let p = vec2i(fc.xy);
    var v = vel(p);
    let dt = frame.step.x;

    // Vorticity confinement: f = eps * (N x w), N = grad|w| / |grad|w||.
    let strength = frame.step.w;
    if strength > 0.0 {
        let w = curl(p);
        let g = 0.5 * vec2f(
            abs(curl(p + vec2i(1, 0))) - abs(curl(p - vec2i(1, 0))),
            abs(curl(p + vec2i(0, 1))) - abs(curl(p - vec2i(0, 1))),
        );
        let n = g / (length(g) + 1e-5);
        v += dt * strength * vec2f(n.y * w, -n.x * w);
    }

    // Every splat of the frame in one loop.
    let uv = fc.xy * frame.sim.zw;
    let count = splat_count();
    for (var i = 0u; i < count; i++) {
        let s = splats.s[i];
        v += s.force.xy * splat_weight(s, uv);
    }

    // Keep the field finite and within half-float range whatever the input.
    v = clamp(v, vec2f(-4096.0), vec2f(4096.0));
    return vec4f(v, 0.0, 1.0);
}

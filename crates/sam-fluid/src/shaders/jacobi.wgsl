// Pressure: Jacobi iterations of lap(p) = div with Neumann walls (clamped reads).
// The Laplacian is the one the other passes imply: divergence and gradient are central
// differences, so div(grad p) = (p[x-2] + p[x+2] + p[y-2] + p[y+2] - 4p) / 4. Solving that
// (rather than the compact 5-point Laplacian) makes the projection exact at convergence (the
// compact one leaves ~20% of the divergence however long it iterates) and converges faster:
// each parity sub-lattice is a grid of half the size. Constant offsets between the
// sub-lattices cancel in the central gradient, so they never reach the velocity.
// `fs_first` is the first iteration of a frame: it scales last frame's pressure by the
// warm-start factor as it reads it, which saves the separate "clear" pass.

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(2) var pressure: texture_2d<f32>;
@group(0) @binding(3) var divergence: texture_2d<f32>;

fn p_at(q: vec2i) -> f32 {
    let c = clamp(q, vec2i(0), sim_size() - vec2i(1));
    return textureLoad(pressure, c, 0).x;
}

fn neighbours(p: vec2i) -> f32 {
    return p_at(p - vec2i(2, 0)) + p_at(p + vec2i(2, 0)) + p_at(p - vec2i(0, 2)) + p_at(p + vec2i(0, 2));
}

@fragment
fn fs_main(@builtin(position) fc: vec4f) -> @location(0) vec4f {
    let p = vec2i(fc.xy);
    let div = textureLoad(divergence, p, 0).x;
    return vec4f((neighbours(p) - 4.0 * div) * 0.25, 0.0, 0.0, 1.0);
}

@fragment
fn fs_first(@builtin(position) fc: vec4f) -> @location(0) vec4f {
    let p = vec2i(fc.xy);
    let div = textureLoad(divergence, p, 0).x;
    return vec4f((neighbours(p) * frame.misc.x - 4.0 * div) * 0.25, 0.0, 0.0, 1.0);
}

// Two Jacobi iterations in one pass: the first iteration is evaluated at the four wide
// neighbours (clamped into the domain exactly as a stored field would be read) and the
// second at this cell. Bit-for-bit the same maths as two single passes, except that the
// intermediate stays in f32 instead of being rounded to f16; half the passes per frame.
fn once(q: vec2i, warm: f32) -> f32 {
    let c = clamp(q, vec2i(0), sim_size() - vec2i(1));
    return (neighbours(c) * warm - 4.0 * textureLoad(divergence, c, 0).x) * 0.25;
}

fn twice(p: vec2i, warm: f32) -> f32 {
    let s = once(p - vec2i(2, 0), warm) + once(p + vec2i(2, 0), warm) + once(p - vec2i(0, 2), warm) + once(p + vec2i(0, 2), warm);
    return (s - 4.0 * textureLoad(divergence, p, 0).x) * 0.25;
}

@fragment
fn fs_double(@builtin(position) fc: vec4f) -> @location(0) vec4f {
    return vec4f(twice(vec2i(fc.xy), 1.0), 0.0, 0.0, 1.0);
}

@fragment
fn fs_double_first(@builtin(position) fc: vec4f) -> @location(0) vec4f {
    return vec4f(twice(vec2i(fc.xy), frame.misc.x), 0.0, 0.0, 1.0);
}

// Pass 2: divergence of the forced velocity. Walls are no-through-flow: a neighbour outside
// the domain mirrors the normal component of the cell's own velocity.

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(2) var velocity: texture_2d<f32>;

@fragment
fn fs_main(@builtin(position) fc: vec4f) -> @location(0) vec4f {
    let p = vec2i(fc.xy);
    let size = sim_size();
    let c = textureLoad(velocity, p, 0).xy;
    var l = textureLoad(velocity, max(p - vec2i(1, 0), vec2i(0)), 0).x;
    var r = textureLoad(velocity, min(p + vec2i(1, 0), size - vec2i(1)), 0).x;
    var u = textureLoad(velocity, max(p - vec2i(0, 1), vec2i(0)), 0).y;
    var d = textureLoad(velocity, min(p + vec2i(0, 1), size - vec2i(1)), 0).y;
    if p.x == 0 {
        l = -c.x;
    }
    if p.x == size.x - 1 {
        r = -c.x;
    }
    if p.y == 0 {
        u = -c.y;
    }
    if p.y == size.y - 1 {
        d = -c.y;
    }
    let div = 0.5 * ((r - l) + (d - u));
    return vec4f(div, 0.0, 0.0, 1.0);
}

// Display: the dye over the app's background, in the app's palette (light or dark).
// Standalone (not prefixed with common.wgsl): it only needs its own uniform.

// Pipeline-overridable switches: every combination is its own pipeline, so a disabled
// feature costs nothing even where branches are not skipped (software rasterisers such as
// llvmpipe run both sides of a branch under a mask).
override SHADING: bool = true;
override BLOOM: bool = false;
override LIGHT: bool = false;
override SRGB_TARGET: bool = false;

struct Display {
    // background gradient, sRGB-encoded (top row, bottom row)
    bg_top: vec4f,
    bg_bottom: vec4f,
    // intensity, unused, maximum opacity of the effect, shading strength
    look: vec4f,
    // bloom strength, unused, 1/dye width, 1/dye height
    misc: vec4f,
};

@group(0) @binding(0) var<uniform> display: Display;
@group(0) @binding(2) var dye: texture_2d<f32>;
@group(0) @binding(4) var samp: sampler;

struct VsOut {
    @builtin(position) pos: vec4f,
    @location(0) uv: vec2f,
};

@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> VsOut {
    let x = f32((i << 1u) & 2u);
    let y = f32(i & 2u);
    var o: VsOut;
    o.pos = vec4f(x * 2.0 - 1.0, 1.0 - y * 2.0, 0.0, 1.0);
    o.uv = vec2f(x, y);
    return o;
}

fn luma(c: vec3f) -> f32 {
    return dot(c, vec3f(0.2126, 0.7152, 0.0722));
}

fn srgb_to_linear(c: vec3f) -> vec3f {
    let lo = c / 12.92;
    let hi = pow((c + 0.055) / 1.055, vec3f(2.4));
    return select(hi, lo, c <= vec3f(0.04045));
}

// Noise from the pixel position (integer hash: cheap on software rasterisers, exact on
// every backend): breaks 8-bit banding, deterministic.
fn dither(p: vec2f) -> f32 {
    var h = u32(p.x) * 0x27d4eb2du ^ u32(p.y) * 0x165667b1u;
    h = (h ^ (h >> 15u)) * 0x85ebca6bu;
    h = h ^ (h >> 13u);
    return (f32(h & 0xffu) / 255.0 - 0.5) / 255.0;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4f {
    let uv = in.uv;
    let t = display.misc.zw;
    var c = textureSampleLevel(dye, samp, uv, 0.0).rgb;

    // Soft relief from the dye's brightness gradient, taken from screen-space derivatives
    // (free in a fragment shader) instead of four more filtered samples; rescaled to the
    // change over two dye texels so the look does not depend on the target's size.
    if SHADING {
        let l = luma(c);
        let px = vec2f(abs(dpdx(uv.x)), abs(dpdy(uv.y)));
        let per_texel = t / max(px, vec2f(1e-7));
        let g = 2.0 * vec2f(dpdx(l) * per_texel.x, dpdy(l) * per_texel.y);
        let n = normalize(vec3f(-g.x, -g.y, 0.35));
        let lit = clamp(dot(n, normalize(vec3f(-0.3, -0.5, 1.0))) + 0.25, 0.6, 1.0);
        c *= mix(1.0, lit, display.look.w);
    }

    // Optional soft bloom: 8 wide taps on the dye itself (no extra targets or passes).
    let bloom = display.misc.x;
    if BLOOM {
        var acc = vec3f(0.0);
        let r = 24.0 * t;
        acc += textureSampleLevel(dye, samp, uv + vec2f(r.x, 0.0), 0.0).rgb;
        acc += textureSampleLevel(dye, samp, uv - vec2f(r.x, 0.0), 0.0).rgb;
        acc += textureSampleLevel(dye, samp, uv + vec2f(0.0, r.y), 0.0).rgb;
        acc += textureSampleLevel(dye, samp, uv - vec2f(0.0, r.y), 0.0).rgb;
        acc += textureSampleLevel(dye, samp, uv + 0.7 * r, 0.0).rgb;
        acc += textureSampleLevel(dye, samp, uv - 0.7 * r, 0.0).rgb;
        acc += textureSampleLevel(dye, samp, uv + 0.7 * vec2f(r.x, -r.y), 0.0).rgb;
        acc += textureSampleLevel(dye, samp, uv - 0.7 * vec2f(r.x, -r.y), 0.0).rgb;
        c += bloom * acc * 0.125;
    }

    let bg = mix(display.bg_top.rgb, display.bg_bottom.rgb, uv.y);
    // Soft saturation to 0..1, capped so text over the canvas stays readable.
    let e = vec3f(1.0) - exp(-max(c, vec3f(0.0)) * display.look.x);
    let cap = display.look.z;
    var out: vec3f;
    if LIGHT {
        // Light theme: tint the background towards the dye's hue, darker where denser.
        let m = max(max(e.r, e.g), e.b);
        let tint = e / max(m, 1e-4) * 0.8;
        out = mix(bg, tint, m * cap);
    } else {
        // Dark theme: the dye glows on the background.
        out = bg + e * cap;
    }
    out = clamp(out + vec3f(dither(in.pos.xy)), vec3f(0.0), vec3f(1.0));
    if SRGB_TARGET {
        out = srgb_to_linear(out);
    }
    return vec4f(out, 1.0);
}

// Dye: semi-Lagrangian advection with dissipation, and every splat's dye added in the same
// pass. The dye grid is the big one (up to 2048 rows), so the splats never cost a full-grid
// pass of their own.

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<uniform> splats: Splats;
@group(0) @binding(2) var velocity: texture_2d<f32>;
@group(0) @binding(3) var dye: texture_2d<f32>;
@group(0) @binding(4) var samp: sampler;

@fragment
fn fs_main(@builtin(position) fc: vec4f) -> @location(0) vec4f {
    let uv = fc.xy * frame.dye.zw;
    let v = textureSampleLevel(velocity, samp, uv, 0.0).xy;
    let back = uv - frame.step.x * v * frame.sim.zw;
    var c = textureSampleLevel(dye, samp, back, 0.0).rgb * frame.step.z;
    let count = splat_count();
    for (var i = 0u; i < count; i++) {
        let s = splats.s[i];
        c += s.color.rgb * splat_weight(s, uv);
    }
    return vec4f(min(c, vec3f(64.0)), 1.0);
}

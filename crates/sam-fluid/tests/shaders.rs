//! Every WGSL shader parses and validates with naga (CPU only), and translates to GLSL ES
//! 3.00 for WebGL2, the backend the app ships on.

use naga::back::glsl;
use naga::valid::{Capabilities, ValidationFlags, Validator};

fn module(name: &str, src: &str) -> (naga::Module, naga::valid::ModuleInfo) {
    let module = naga::front::wgsl::parse_str(src)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
    // No optional capabilities: what WebGL2 offers.
    let info = Validator::new(ValidationFlags::all(), Capabilities::empty())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
    (module, info)
}

#[test]
fn every_shader_validates() {
    assert_eq!(sam_fluid::shaders::ALL.len(), 6);
    for (name, src) in sam_fluid::shaders::ALL {
        let (m, _) = module(name, src);
        let entries: Vec<_> = m.entry_points.iter().map(|e| e.name.as_str()).collect();
        assert!(entries.contains(&"vs_main"), "{name}: {entries:?}");
        assert!(entries.contains(&"fs_main"), "{name}: {entries:?}");
        assert!(
            m.entry_points
                .iter()
                .all(|e| e.stage != naga::ShaderStage::Compute),
            "{name}: no compute on WebGL2"
        );
    }
}

fn constant_sets(m: &naga::Module) -> Vec<naga::back::PipelineConstants> {
    // Every combination of the boolean overrides (the display switches); one empty set for
    // modules without overrides.
    let names: Vec<String> = m
        .overrides
        .iter()
        .filter_map(|(_, o)| o.name.clone())
        .collect();
    (0..1u32 << names.len())
        .map(|bits| {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), if bits & (1 << i) != 0 { 1.0 } else { 0.0 }))
                .collect()
        })
        .collect()
}

#[test]
fn every_entry_point_translates_to_webgl2_glsl() {
    let mut translated = 0;
    for (name, src) in sam_fluid::shaders::ALL {
        let (m0, info0) = module(name, src);
        for constants in constant_sets(&m0) {
            let (m, info) =
                naga::back::pipeline_constants::process_overrides(&m0, &info0, None, &constants)
                    .unwrap_or_else(|e| panic!("{name} {constants:?}: {e}"));
            for ep in &m.entry_points {
                let options = glsl::Options {
                    version: glsl::Version::Embedded {
                        version: 300,
                        is_webgl: true,
                    },
                    ..Default::default()
                };
                let pipeline_options = glsl::PipelineOptions {
                    shader_stage: ep.stage,
                    entry_point: ep.name.clone(),
                    multiview: None,
                };
                let mut out = String::new();
                let mut writer = glsl::Writer::new(
                    &mut out,
                    &m,
                    &info,
                    &options,
                    &pipeline_options,
                    naga::proc::BoundsCheckPolicies::default(),
                )
                .unwrap_or_else(|e| panic!("{name}/{}: {e}", ep.name));
                writer
                    .write()
                    .unwrap_or_else(|e| panic!("{name}/{}: {e}", ep.name));
                assert!(out.starts_with("#version 300 es"), "{name}/{}", ep.name);
                translated += 1;
            }
        }
    }
    // 5 sim modules with a vertex and a fragment stage each, plus jacobi's three extra
    // fragment entry points; display in 16 override variants, 2 stages each.
    assert_eq!(translated, 2 * 5 + 3 + 2 * 16);
}

#[test]
fn common_prefix_is_shared() {
    for (name, src) in sam_fluid::shaders::ALL {
        if *name != "display" {
            assert!(src.starts_with(sam_fluid::shaders::COMMON), "{name}");
        }
    }
}

//! The IPC contract: the committed TypeScript bindings match the Rust types, and the main
//! window's capability grants exactly the commands the UI can call — no plugin commands.
//!
//! After changing a command or an IPC type: `SAM_UPDATE_BINDINGS=1 cargo test -p sam-desktop --test ipc_contract`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::collections::BTreeSet;
use std::path::PathBuf;

const HEADER: &str = "// Generated from the Rust types by tauri-specta (src-tauri/tests/ipc_contract.rs). Do not edit.\n// Regenerate: SAM_UPDATE_BINDINGS=1 cargo test -p sam-desktop --test ipc_contract\n";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn generated_bindings() -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bindings.ts");
    sam_desktop::ipc_builder()
        .export(
            specta_typescript::Typescript::default().header(HEADER),
            &out,
        )
        .unwrap();
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn committed_bindings_match_the_rust_types() {
    let generated = generated_bindings();
    let committed_path = repo().join("ui/src/bindings.ts");
    if std::env::var_os("SAM_UPDATE_BINDINGS").is_some() {
        std::fs::write(&committed_path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/bindings.ts is out of date with the Rust IPC types. Regenerate it: \
         SAM_UPDATE_BINDINGS=1 cargo test -p sam-desktop --test ipc_contract"
    );
}

fn invoked_commands(bindings: &str) -> BTreeSet<String> {
    bindings
        .split("TAURI_INVOKE(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_capability_grants_exactly_the_commands_the_ui_calls() {
    let commands = invoked_commands(&generated_bindings());
    assert!(commands.contains("app_info"), "{commands:?}");

    let capability: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("src-tauri/capabilities/main-window.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(capability["windows"], serde_json::json!(["main"]));
    let granted: BTreeSet<String> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p.as_str()
                .expect("permissions are plain identifiers")
                .to_owned()
        })
        .collect();
    let expected: BTreeSet<String> = commands
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    assert_eq!(
        granted, expected,
        "grant exactly the commands in the bindings"
    );
    assert!(
        granted.iter().all(|p| !p.contains(':')),
        "no plugin or core permission may be granted to the webview: {granted:?}"
    );
}

#[test]
fn the_csp_is_strict() {
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("src-tauri/tauri.conf.json")).unwrap(),
    )
    .unwrap();
    let csp = &config["app"]["security"]["csp"];
    assert_eq!(csp["default-src"], "'self'");
    // 'wasm-unsafe-eval' lets the page compile WebAssembly (the fluid background) and nothing
    // else: no eval, no Function, no inline script.
    assert_eq!(csp["script-src"], "'self' 'wasm-unsafe-eval'");
    assert_eq!(csp["object-src"], "'none'");
    let sources: Vec<&str> = csp
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_str().unwrap().split_whitespace())
        .collect();
    for loose in [
        "'unsafe-inline'",
        "'unsafe-eval'",
        "*",
        "http:",
        "https:",
        "data:",
    ] {
        let allowed_here = loose == "data:"; // data: only for images, checked below
        assert!(
            allowed_here || !sources.contains(&loose),
            "the CSP must not allow {loose}: {sources:?}"
        );
    }
    assert!(!csp["script-src"].as_str().unwrap().contains("data:"));
    // WebAssembly may be compiled only under script-src (not default-src or anything else),
    // and the wasm itself is never fetched: connect-src stays IPC only.
    for (directive, value) in csp.as_object().unwrap() {
        if directive != "script-src" {
            assert!(
                !value.as_str().unwrap().contains("wasm-unsafe-eval"),
                "{directive} must not allow wasm-unsafe-eval"
            );
        }
    }
    assert_eq!(csp["connect-src"], "ipc: http://ipc.localhost");
    assert_eq!(config["app"]["withGlobalTauri"], false);
}

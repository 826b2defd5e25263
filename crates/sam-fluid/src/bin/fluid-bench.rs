//! sam-fluid benchmark: GPU frame times (and the peer, in the `peer-bench` build), CPU cost
//! on a software renderer, and preview images. `fluid-bench --help` lists the options.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(sam_fluid::bench::cli_main(&args, None));
}

// Native only: on wasm32 the binary is an empty shell so that a plain
// `cargo build --target wasm32-unknown-unknown` of the crate still succeeds.
#[cfg(target_arch = "wasm32")]
fn main() {}

//! The start-up and memory floor for SAM Desktop's benchmarks: one window, one command, no
//! plugins. It writes the file named by `SAM_BENCH_READY_FILE` when its page has rendered,
//! exactly as SAM's `ui_ready` does.

use std::time::Instant;

#[tauri::command]
fn ready(started: tauri::State<'_, Instant>) {
    if let Some(file) = std::env::var_os("SAM_BENCH_READY_FILE") {
        let _ = std::fs::write(file, started.elapsed().as_millis().to_string());
    }
}

fn main() {
    let started = Instant::now();
    let result = tauri::Builder::default()
        .manage(started)
        .invoke_handler(tauri::generate_handler![ready])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("bare-window: {error}");
        std::process::exit(1);
    }
}

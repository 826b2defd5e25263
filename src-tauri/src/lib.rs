//! The SAM Desktop shell: window, tray, notifications and the typed IPC surface.
//!
//! This is the only crate that imports `tauri`. Commands here are wiring — convert the input,
//! call one domain function, map the error — and everything they call lives in `crates/`.
//! The shell never runs programs on the webview's behalf and never hands it a secret.

mod attention;
mod changes;
mod chat;
mod commands;
mod credentials;
mod files;
mod state;
mod tray;
mod voice;
mod workspaces;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use sam_core::AppPaths;
use tauri::Manager;

pub use commands::ipc_builder;
pub use state::{AppInfo, AppState, DatabaseStatus};

/// The label of the one main window (capabilities refer to it).
pub const MAIN_WINDOW: &str = "main";

/// Exit status when the app cannot start for a reason the user can fix.
const EXIT_ENVIRONMENT: u8 = 2;

/// Starts the app and runs until it quits.
pub fn run() -> ExitCode {
    let started_at = std::time::Instant::now();
    if let Some(problem) = missing_display() {
        let _ = writeln!(std::io::stderr(), "sam-desktop: {problem}");
        return ExitCode::from(EXIT_ENVIRONMENT);
    }
    let paths = match AppPaths::from_env() {
        Ok(paths) => paths,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "sam-desktop: {error}");
            return ExitCode::from(EXIT_ENVIRONMENT);
        }
    };
    let _log_guard = match sam_core::logging::init(&paths.log_dir, "sam-desktop", true) {
        Ok(guard) => Some(guard),
        Err(error) => {
            // The app still works without a log file; say so once.
            let _ = writeln!(
                std::io::stderr(),
                "sam-desktop: logging to a file is off: {error}"
            );
            None
        }
    };
    tracing::info!(version = sam_core::VERSION, data_dir = %paths.data_dir.display(), "starting");

    let state = Arc::new(AppState::open(paths, started_at));
    tracing::debug!(elapsed_ms = started_at.elapsed().as_millis(), "state open");
    match launch(state) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the app stopped with an error");
            let _ = writeln!(std::io::stderr(), "sam-desktop: {error}");
            ExitCode::FAILURE
        }
    }
}

/// GTK aborts the process without a display; find out first and say what to do.
fn missing_display() -> Option<&'static str> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("DISPLAY") || set("WAYLAND_DISPLAY") {
        None
    } else {
        Some(
            "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). Start SAM Desktop from a desktop session, \
             or under a virtual display: xvfb-run -a sam-desktop. The `sam` command works without a display.",
        )
    }
}

fn launch(state: Arc<AppState>) -> tauri::Result<()> {
    let ipc = ipc_builder();
    let window_state_file = state.paths.data_dir.join("window-state.json");
    tauri::Builder::default()
        // Must be first: a second launch hands over to this process and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tracing::info!("second launch; focusing the first instance");
            show_main_window(app);
        }))
        .plugin(
            tauri_plugin_window_state::Builder::new()
                .with_filename(window_state_file.to_string_lossy())
                .build(),
        )
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_shell::init())
        // The voice push-to-talk shortcut; registered from Rust (`voice::install_shortcut`),
        // the webview is granted none of the plugin's commands.
        .plugin(tauri_plugin_global_shortcut::Builder::new().build())
        .invoke_handler(ipc.invoke_handler())
        .setup(move |app| {
            ipc.mount_events(app);
            // Managed before the window exists, so no command can run without it.
            app.manage(Arc::clone(&state));
            app.manage(Arc::new(voice::VoiceInput::default()));
            voice::install_shortcut(app.handle(), &state);
            // The window next: its web content process loads the UI while the tray is built.
            create_main_window(app.handle(), &state)?;
            tracing::debug!(elapsed_ms = state.elapsed_ms(), "window created");
            workspaces::start_policy_timer(app.handle(), &state);
            // Sessions that were live when the app last stopped catch up from their hosts, and
            // a connection lost since (the laptop slept, the network changed) is made again.
            if let Ok(chat) = state.chat() {
                tauri::async_runtime::spawn(keep_chats_attached(chat));
            }
            let tray_available = tray::install(app.handle());
            state.set_tray_available(tray_available);
            // After the tray, so its first redraw has a tray to draw into.
            attention::start(app.handle(), &state);
            tracing::debug!(elapsed_ms = state.elapsed_ms(), "tray done");
            Ok(())
        })
        .on_window_event(|window, event| {
            // Notifications are not shown for the chat the user is looking at: the hub must
            // know whether the window has the focus.
            if let tauri::WindowEvent::Focused(focused) = event
                && window.label() == MAIN_WINDOW
                && let Some(hub) = window.app_handle().try_state::<Arc<attention::Hub>>()
            {
                hub.set_focused(*focused);
            }
            // With a tray, closing the window keeps SAM running there (agents keep working);
            // without one, closing quits, so the app is never unreachable.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let has_tray = window
                    .app_handle()
                    .try_state::<Arc<AppState>>()
                    .is_some_and(|state| state.tray_available());
                if has_tray && window.label() == MAIN_WINDOW {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .run(tauri::generate_context!())
}

fn create_main_window(app: &tauri::AppHandle, state: &AppState) -> tauri::Result<()> {
    tauri::WebviewWindowBuilder::new(
        app,
        MAIN_WINDOW,
        tauri::WebviewUrl::App("index.html".into()),
    )
    .title(sam_core::APP_NAME)
    .inner_size(1200.0, 780.0)
    .min_inner_size(760.0, 520.0)
    .data_directory(state.paths.data_dir.join("webview"))
    .build()?;
    Ok(())
}

/// Shows, unminimises and focuses the main window.
pub(crate) fn show_main_window(app: &tauri::AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// How often the workspaces with live chat sessions are checked for a lost connection.
const CHAT_RECONNECT_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Attaches every workspace with a live chat session at start and again whenever its
/// connection was lost (a slept laptop, a network change, a restarted host): `resume` keeps a
/// connected link as it is and only dials the lost ones, which then catch up from their
/// journals. Each failure is logged once until it changes.
async fn keep_chats_attached(chat: Arc<sam_chat::Chat>) {
    let mut reported: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    loop {
        let failures = chat.resume().await;
        let now: std::collections::HashMap<String, String> = failures
            .into_iter()
            .map(|(workspace, error)| (workspace, error.to_string()))
            .collect();
        for (workspace, error) in &now {
            if reported.get(workspace) != Some(error) {
                tracing::warn!(workspace, %error, "a workspace's chat could not be reached; trying again");
            }
        }
        reported = now;
        tokio::time::sleep(CHAT_RECONNECT_EVERY).await;
    }
}

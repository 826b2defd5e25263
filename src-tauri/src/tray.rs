//! The tray icon: show/hide the window, quit.
//!
//! On Linux the tray needs libayatana-appindicator (or the older libappindicator) at run time,
//! and creating a tray without it aborts the process. So probe for the library first and run
//! without a tray when it is missing; `sam doctor` and the about view say so.

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

use crate::MAIN_WINDOW;

const TRAY_ID: &str = "sam-tray";
const MENU_TOGGLE: &str = "toggle-window";
const MENU_QUIT: &str = "quit";

/// Creates the tray icon. Returns whether there is one.
pub fn install(app: &AppHandle) -> bool {
    if !indicator_library_present() {
        tracing::warn!(
            "no tray: libayatana-appindicator3-1 is not installed (sudo apt install libayatana-appindicator3-1)"
        );
        return false;
    }
    match build(app) {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "no tray: creating the tray icon failed");
            false
        }
    }
}

fn build(app: &AppHandle) -> tauri::Result<()> {
    let toggle = MenuItem::with_id(
        app,
        MENU_TOGGLE,
        "Show/Hide SAM Desktop",
        true,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, MENU_QUIT, "Quit SAM Desktop", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&toggle, &separator, &quit])?;
    let icon = tauri::image::Image::from_bytes(include_bytes!("../../icons/tray.png"))?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip(sam_core::APP_NAME)
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            MENU_TOGGLE => toggle_window(app),
            MENU_QUIT => {
                tracing::info!("quit from the tray");
                app.exit(0);
            }
            _ => {}
        })
        .build(app)?;
    Ok(())
}

fn toggle_window(app: &AppHandle) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else {
        return;
    };
    if window.is_visible().unwrap_or(false) {
        let _ = window.hide();
    } else {
        crate::show_main_window(app);
    }
}

fn indicator_library_present() -> bool {
    !cfg!(target_os = "linux") || sam_doctor::tray_runtime_available()
}

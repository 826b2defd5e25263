//! The tray icon: its look follows the "needs you" state (idle, working, needs you, error);
//! its menu lists the open requests first, then each workspace with its state and cost, then
//! new workspace, do-not-disturb, show/hide and quit. The menu is rebuilt from
//! `sam-attention`'s [`TrayModel`] whenever it changes.
//!
//! On Linux the tray needs libayatana-appindicator (or the older libappindicator) at run time,
//! and creating a tray without it aborts the process. So probe for the library first and run
//! without a tray when it is missing; `sam doctor` and the about view say so.

use std::sync::Arc;

use sam_attention::{Activity, TrayModel, format_age};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

use crate::MAIN_WINDOW;
use crate::attention::{Hub, TrayAction};

const TRAY_ID: &str = "sam-tray";
const MENU_TOGGLE: &str = "toggle-window";
const MENU_QUIT: &str = "quit";
const MENU_DND: &str = "do-not-disturb";
const MENU_NEW_WORKSPACE: &str = "new-workspace";
/// Items that carry out a [`TrayAction`] are `action:<index>`.
const ACTION_PREFIX: &str = "action:";

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
    let (menu, _) = menu(app, &TrayModel::default(), false)?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(base_icon()?)
        .tooltip(sam_core::APP_NAME)
        .menu(&menu)
        .on_menu_event(|app, event| {
            let id = event.id().as_ref();
            let hub = || app.try_state::<Arc<Hub>>().map(|hub| Arc::clone(&hub));
            match id {
                MENU_TOGGLE => toggle_window(app),
                MENU_QUIT => match hub() {
                    // Asks first when cloud workspaces would keep running.
                    Some(hub) => hub.request_quit(),
                    None => {
                        tracing::info!("quit from the tray");
                        app.exit(0);
                    }
                },
                MENU_DND => {
                    if let Some(hub) = hub() {
                        hub.toggle_do_not_disturb();
                    }
                }
                MENU_NEW_WORKSPACE => {
                    if let Some(hub) = hub() {
                        hub.open_new_workspace();
                    }
                }
                _ => {
                    if let (Some(index), Some(hub)) = (
                        id.strip_prefix(ACTION_PREFIX)
                            .and_then(|i| i.parse::<usize>().ok()),
                        hub(),
                    ) {
                        hub.tray_clicked(index);
                    }
                }
            }
        })
        .build(app)?;
    Ok(())
}

/// Redraws the tray from `model`; returns what each `action:<i>` item does, or `None` when
/// there is no tray (or it could not be redrawn).
pub fn render(app: &AppHandle, model: &TrayModel, dnd: bool) -> Option<Vec<TrayAction>> {
    let tray = app.tray_by_id(TRAY_ID)?;
    let (menu, actions) = match menu(app, model, dnd) {
        Ok(built) => built,
        Err(error) => {
            tracing::warn!(%error, "the tray menu could not be built");
            return None;
        }
    };
    if let Err(error) = tray.set_menu(Some(menu)) {
        tracing::warn!(%error, "the tray menu could not be set");
        return None;
    }
    let _ = tray.set_tooltip(Some(&model.tooltip));
    if let Ok(icon) = state_icon(model.state) {
        let _ = tray.set_icon(Some(icon));
    }
    Some(actions)
}

fn menu(
    app: &AppHandle,
    model: &TrayModel,
    dnd: bool,
) -> tauri::Result<(Menu<Wry>, Vec<TrayAction>)> {
    let mut items: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::new();
    let mut actions = Vec::new();
    let mut action_item = |text: String, action: TrayAction| -> tauri::Result<MenuItem<Wry>> {
        let id = format!("{ACTION_PREFIX}{}", actions.len());
        actions.push(action);
        MenuItem::with_id(app, id, text, true, None::<&str>)
    };
    if !model.needs_you.is_empty() {
        items.push(Box::new(MenuItem::new(
            app,
            format!("Needs you ({})", model.needs_you.len()),
            false,
            None::<&str>,
        )?));
        for need in &model.needs_you {
            let text = format!(
                "{} — {} · {}",
                need.label,
                need.workspace_name,
                format_age(need.age_ms)
            );
            items.push(Box::new(action_item(
                text,
                TrayAction::Open(need.target.clone()),
            )?));
        }
        items.push(Box::new(PredefinedMenuItem::separator(app)?));
    }
    for workspace in &model.workspaces {
        let state = match workspace.state {
            Activity::Idle => "idle".to_owned(),
            Activity::Working => format!("{} working", workspace.working_sessions),
            Activity::Error => "failed".to_owned(),
            Activity::NeedsYou => "needs you".to_owned(),
        };
        let text = match &workspace.cost {
            Some(cost) => format!("{} — {state} · {cost} so far", workspace.name),
            None => format!("{} — {state}", workspace.name),
        };
        // Each workspace is a submenu with its quick actions.
        let open = action_item(
            "Open".to_owned(),
            TrayAction::Open(sam_attention::Target::Workspace {
                workspace_id: workspace.workspace_id.clone(),
            }),
        )?;
        let delete = action_item(
            "Delete workspace…".to_owned(),
            TrayAction::DeleteWorkspace(workspace.workspace_id.clone()),
        )?;
        items.push(Box::new(Submenu::with_items(
            app,
            text,
            true,
            &[&open, &delete],
        )?));
    }
    if !model.workspaces.is_empty() {
        items.push(Box::new(PredefinedMenuItem::separator(app)?));
    }
    items.push(Box::new(MenuItem::with_id(
        app,
        MENU_NEW_WORKSPACE,
        "New workspace…",
        true,
        None::<&str>,
    )?));
    items.push(Box::new(CheckMenuItem::with_id(
        app,
        MENU_DND,
        "Do not disturb",
        true,
        dnd,
        None::<&str>,
    )?));
    items.push(Box::new(MenuItem::with_id(
        app,
        MENU_TOGGLE,
        "Show/Hide SAM Desktop",
        true,
        None::<&str>,
    )?));
    items.push(Box::new(PredefinedMenuItem::separator(app)?));
    items.push(Box::new(MenuItem::with_id(
        app,
        MENU_QUIT,
        "Quit SAM Desktop",
        true,
        None::<&str>,
    )?));
    let refs: Vec<&dyn IsMenuItem<Wry>> = items.iter().map(|item| item.as_ref()).collect();
    Ok((Menu::with_items(app, &refs)?, actions))
}

fn base_icon() -> tauri::Result<Image<'static>> {
    Image::from_bytes(include_bytes!("../../icons/tray.png"))
}

/// The tray icon for `state`: the app's mark with a coloured dot in the lower right corner
/// (blue working, amber needs you, red error; none when idle). Drawn here rather than shipped
/// as more image files so every state stays in step with the one mark.
fn state_icon(state: Activity) -> tauri::Result<Image<'static>> {
    let base = base_icon()?;
    let colour: [u8; 3] = match state {
        Activity::Idle => return Ok(base),
        Activity::Working => [0x3b, 0x82, 0xf6],
        Activity::NeedsYou => [0xf5, 0x9e, 0x0b],
        Activity::Error => [0xef, 0x44, 0x44],
    };
    let (width, height) = (base.width(), base.height());
    let mut rgba = base.rgba().to_vec();
    paint_dot(&mut rgba, width, height, colour);
    Ok(Image::new_owned(rgba, width, height))
}

/// A filled circle with a white ring, 40% of the icon wide, in the lower right corner.
fn paint_dot(rgba: &mut [u8], width: u32, height: u32, colour: [u8; 3]) {
    let size = f64::from(width.min(height));
    let radius = size * 0.2;
    let (cx, cy) = (
        f64::from(width) - radius - 1.0,
        f64::from(height) - radius - 1.0,
    );
    for y in 0..height {
        for x in 0..width {
            let d = ((f64::from(x) + 0.5 - cx).powi(2) + (f64::from(y) + 0.5 - cy).powi(2)).sqrt();
            let pixel = match d {
                d if d <= radius - 2.0 => [colour[0], colour[1], colour[2], 255],
                d if d <= radius => [255, 255, 255, 255],
                _ => continue,
            };
            let at = ((y * width + x) * 4) as usize;
            if let Some(slot) = rgba.get_mut(at..at + 4) {
                slot.copy_from_slice(&pixel);
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_but_idle_gets_its_own_dot_on_the_same_mark() {
        let base = base_icon().expect("the tray icon decodes");
        assert_eq!(
            state_icon(Activity::Idle).expect("idle").rgba(),
            base.rgba()
        );
        let icons: Vec<Vec<u8>> = [Activity::Working, Activity::NeedsYou, Activity::Error]
            .into_iter()
            .map(|state| state_icon(state).expect("icon").rgba().to_vec())
            .collect();
        for icon in &icons {
            assert_ne!(icon.as_slice(), base.rgba());
            assert_eq!(icon.len(), base.rgba().len());
        }
        assert_ne!(icons[0], icons[1]);
        assert_ne!(icons[1], icons[2]);
        // The dot's centre has the state's colour; the top-left corner is untouched.
        let w = base.width() as usize;
        let h = base.height() as usize;
        let centre = ((h - 1 - h / 5) * w + (w - 1 - w / 5)) * 4;
        assert_eq!(&icons[1][centre..centre + 3], &[0xf5, 0x9e, 0x0b]);
        assert_eq!(&icons[1][..4], &base.rgba()[..4]);
    }
}

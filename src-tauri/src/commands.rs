//! The IPC surface. Each command converts its input, calls one domain function and maps the
//! error to an [`ApiError`]. TypeScript bindings are generated from these signatures
//! (`ui/src/bindings.ts`, checked for drift by a test).

use std::sync::Arc;

use sam_core::{ApiError, ErrorCode, Preferences};
use sam_doctor::DoctorReport;
use sam_store::StoreError;
use tauri::State;
use tauri_plugin_notification::NotificationExt;

use crate::state::{AppInfo, AppState};
use crate::{attention, changes, chat, credentials, files, workspaces};

type Shared<'a> = State<'a, Arc<AppState>>;

/// Every command the UI may call, for the invoke handler and the bindings generator. The
/// capability file grants exactly these; `build.rs` declares them to Tauri's ACL.
pub fn ipc_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new().commands(tauri_specta::collect_commands![
        app_info,
        doctor,
        get_preferences,
        set_preferences,
        send_test_notification,
        ui_ready,
        credentials::credential_kinds,
        credentials::list_credentials,
        credentials::add_credential,
        credentials::check_credential,
        credentials::rename_credential,
        credentials::set_credential_active,
        credentials::remove_credential,
        credentials::open_console,
        workspaces::list_workspaces,
        workspaces::get_workspace,
        workspaces::create_workspace,
        workspaces::retry_workspace,
        workspaces::delete_workspace,
        workspaces::cloud_locations,
        workspaces::cloud_sizes,
        workspaces::orphans_get,
        workspaces::orphans_reconcile,
        workspaces::budget_get,
        workspaces::budget_set,
        workspaces::idle_policy_get,
        workspaces::idle_policy_set,
        workspaces::workspace_open_terminal,
        workspaces::workspace_open_vscode,
        changes::changes_get,
        changes::changes_file_diff,
        changes::changes_wait,
        changes::changes_draft_message,
        changes::changes_pull_request_state,
        changes::changes_ship,
        changes::changes_turn,
        changes::changes_revert_turn,
        chat::chat_agents,
        chat::chat_sessions,
        chat::chat_events,
        chat::chat_wait_events,
        chat::chat_send,
        chat::chat_cancel,
        chat::chat_answer,
        chat::chat_fork,
        chat::chat_restart,
        chat::chat_search,
        files::files_resolve,
        files::files_open,
        files::files_find,
        files::files_quick_view,
        files::editor_get,
        files::editor_set,
        files::remote_editing_get,
        files::remote_editing_set,
        attention::attention_wait,
        attention::attention_set_view,
        attention::attention_set_dnd,
        attention::app_quit,
        crate::voice::voice_devices,
        crate::voice::voice_start,
        crate::voice::voice_stop,
        crate::voice::voice_cancel,
        crate::voice::voice_settings_get,
        crate::voice::voice_settings_set,
        crate::voice::voice_shortcut_listen,
        crate::voice::voice_models,
        crate::voice::voice_model_download,
        crate::voice::voice_model_cancel,
        crate::voice::voice_model_delete,
    ])
}

/// Version, directories, tray and database state.
#[tauri::command]
#[specta::specta]
pub async fn app_info(state: Shared<'_>) -> Result<AppInfo, ApiError> {
    Ok(state.info())
}

/// Runs `sam doctor`'s checks.
#[tauri::command]
#[specta::specta]
pub async fn doctor() -> Result<DoctorReport, ApiError> {
    blocking(|| Ok(sam_doctor::run_checks(&sam_doctor::LiveSystem))).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_preferences(state: Shared<'_>) -> Result<Preferences, ApiError> {
    let store = state.store()?;
    blocking(move || store.preferences().map_err(store_error)).await
}

/// Saves and returns the preferences.
#[tauri::command]
#[specta::specta]
pub async fn set_preferences(
    state: Shared<'_>,
    preferences: Preferences,
) -> Result<Preferences, ApiError> {
    let store = state.store()?;
    blocking(move || {
        store.set_preferences(&preferences).map_err(store_error)?;
        Ok(preferences)
    })
    .await
}

/// Sends a notification so the user can see that notifications reach them.
#[tauri::command]
#[specta::specta]
pub async fn send_test_notification(app: tauri::AppHandle) -> Result<(), ApiError> {
    blocking(move || {
        app.notification()
            .builder()
            .title("SAM Desktop notifications work")
            .body("You will hear from SAM here when an agent finishes or needs an answer.")
            .show()
            .map_err(|error| {
                tracing::warn!(%error, "test notification failed");
                ApiError::unavailable(format!(
                    "No notification service accepted the notification ({error}). On Linux, make sure a notification daemon runs in your desktop session."
                ))
            })
    })
    .await
}

/// Called once by the UI after its first render (start-up benchmark and log).
#[tauri::command]
#[specta::specta]
pub async fn ui_ready(state: Shared<'_>) -> Result<(), ApiError> {
    state.mark_ui_ready().map_err(|e| {
        ApiError::new(
            ErrorCode::Io,
            format!("Could not record start-up time: {e}"),
        )
    })
}

/// Runs blocking work (SQLite, D-Bus, keyring, process probes) off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("A background task failed: {e}")))?
}

fn store_error(error: StoreError) -> ApiError {
    tracing::warn!(%error, "database error");
    ApiError::new(ErrorCode::Database, error.to_string())
}

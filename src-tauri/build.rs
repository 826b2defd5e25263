//! Declares our IPC commands to Tauri's ACL, so the webview may call exactly the ones the
//! capability files grant (and nothing by default).

fn main() {
    let commands = &[
        "app_info",
        "doctor",
        "get_preferences",
        "set_preferences",
        "send_test_notification",
        "ui_ready",
        "credential_kinds",
        "list_credentials",
        "add_credential",
        "check_credential",
        "rename_credential",
        "set_credential_active",
        "remove_credential",
        "open_console",
        "list_workspaces",
        "get_workspace",
        "create_workspace",
        "retry_workspace",
        "delete_workspace",
        "cloud_locations",
        "cloud_sizes",
        "orphans_get",
        "orphans_reconcile",
        "budget_get",
        "budget_set",
        "changes_get",
        "changes_file_diff",
        "changes_ship",
        "chat_agents",
        "chat_sessions",
        "chat_events",
        "chat_wait_events",
        "chat_send",
        "chat_cancel",
        "chat_answer",
        "chat_fork",
        "chat_restart",
        "chat_search",
        "files_resolve",
        "files_open",
        "files_find",
        "files_quick_view",
        "editor_get",
        "editor_set",
        "remote_editing_get",
        "remote_editing_set",
        "attention_wait",
        "attention_set_view",
        "attention_set_dnd",
        "app_quit",
        "voice_devices",
        "voice_start",
        "voice_stop",
        "voice_cancel",
        "voice_settings_get",
        "voice_settings_set",
    ];
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(commands));
    if let Err(error) = tauri_build::try_build(attributes) {
        // Build scripts report failure by panicking; there is no caller to return to.
        panic!("tauri-build failed: {error:#}");
    }
}

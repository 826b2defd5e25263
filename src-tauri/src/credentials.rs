//! Credential commands. The webview sends a secret once, inside `add_credential`, and never
//! receives one: every answer carries the masked form only.

use std::sync::Arc;

use sam_core::{ApiError, ErrorCode};
use sam_secrets::{CredentialKind, CredentialSummary, KindInfo, NewCredential, Vault, VaultError};
use tauri::State;
use tauri_plugin_opener::OpenerExt;

use crate::commands::blocking;
use crate::state::AppState;

type Shared<'a> = State<'a, Arc<AppState>>;

/// The kinds SAM can store, with their forms and hints.
#[tauri::command]
#[specta::specta]
pub async fn credential_kinds() -> Result<Vec<KindInfo>, ApiError> {
    Ok(CredentialKind::ALL
        .into_iter()
        .map(CredentialKind::info)
        .collect())
}

#[tauri::command]
#[specta::specta]
pub async fn list_credentials(state: Shared<'_>) -> Result<Vec<CredentialSummary>, ApiError> {
    let vault = state.vault()?;
    blocking(move || vault.list().map_err(vault_error)).await
}

/// Stores a new credential, then checks it with the provider.
#[tauri::command]
#[specta::specta]
pub async fn add_credential(
    state: Shared<'_>,
    input: NewCredential,
) -> Result<CredentialSummary, ApiError> {
    let vault = state.vault()?;
    let added = blocking(move || {
        vault
            .add(input, sam_core::clock::unix_now())
            .map_err(vault_error)
    })
    .await?;
    check(&state, &added.id).await
}

#[tauri::command]
#[specta::specta]
pub async fn check_credential(
    state: Shared<'_>,
    id: String,
) -> Result<CredentialSummary, ApiError> {
    check(&state, &id).await
}

async fn check(state: &Arc<AppState>, id: &str) -> Result<CredentialSummary, ApiError> {
    let vault = state.vault()?;
    // The first call builds the HTTP client (it reads the system's TLS roots): off the runtime.
    let shared = Arc::clone(state);
    let checker = blocking(move || shared.checker()).await?;
    sam_checks::check_stored(&vault, &checker, id, sam_core::clock::unix_now)
        .await
        .map_err(vault_error)
}

#[tauri::command]
#[specta::specta]
pub async fn rename_credential(
    state: Shared<'_>,
    id: String,
    label: String,
) -> Result<CredentialSummary, ApiError> {
    let vault = state.vault()?;
    blocking(move || vault.rename(&id, &label).map_err(vault_error)).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_credential_active(
    state: Shared<'_>,
    id: String,
    active: bool,
) -> Result<CredentialSummary, ApiError> {
    let vault = state.vault()?;
    blocking(move || vault.set_active(&id, active).map_err(vault_error)).await
}

#[tauri::command]
#[specta::specta]
pub async fn remove_credential(state: Shared<'_>, id: String) -> Result<(), ApiError> {
    let vault: Arc<Vault> = state.vault()?;
    blocking(move || vault.remove(&id).map_err(vault_error)).await
}

/// Opens the provider's console page for this kind in the browser. Only these fixed addresses
/// can be opened: the webview never hands the shell a URL.
#[tauri::command]
#[specta::specta]
pub async fn open_console(app: tauri::AppHandle, kind: CredentialKind) -> Result<(), ApiError> {
    app.opener()
        .open_url(kind.console_url(), None::<&str>)
        .map_err(|e| {
            ApiError::unavailable(format!(
                "Could not open the browser: {e}. The page is {}",
                kind.console_url()
            ))
        })
}

/// Maps vault errors to the IPC error shape (the codes are decided in `sam-secrets`).
pub fn vault_error(error: VaultError) -> ApiError {
    let error = ApiError::from(error);
    if matches!(
        error.code,
        ErrorCode::Database | ErrorCode::Unavailable | ErrorCode::Internal
    ) {
        tracing::warn!(message = %error.message, "credential operation failed");
    }
    error
}

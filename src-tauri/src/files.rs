//! Files of a workspace in the chat: which paths an agent mentioned exist (they become links),
//! opening one in the user's editor at a line, "go to file", the quick view, and the editor
//! setting. The webview only ever names a (workspace, path, line, column); `sam-host` confines
//! the path to the checkout and this side validates the numbers and launches by argv.

use std::sync::Arc;

use sam_core::ApiError;
use sam_editor::{DetectedEditor, EditorChoice, Environment};
use sam_protocol::{PathKind, PathResolution};
use sam_workspace::{OpenedFile, QuickViewFile, RemoteEditing};
use serde::Serialize;
use tauri::State;

use crate::state::AppState;
use crate::workspaces::workspace_error;

type Shared<'a> = State<'a, Arc<AppState>>;

/// The most matches "go to file" shows.
const MAX_MATCHES: f64 = 200.0;

/// A mentioned path that exists in the workspace.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ResolvedLink {
    /// As the webview asked.
    pub requested: String,
    /// Relative to the checkout root.
    pub path: String,
}

/// A "go to file" match.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct FileHit {
    pub path: String,
    /// Matched character indices in `path`, for highlighting.
    pub positions: Vec<u32>,
}

/// "Go to file" results.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct FileHits {
    pub matches: Vec<FileHit>,
    #[specta(type = f64)]
    pub indexed_files: u64,
}

/// The editor setting and what this computer has.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct EditorSettings {
    pub choice: EditorChoice,
    pub detected: Vec<DetectedEditor>,
}

/// A line or column from the webview: a whole number from 1, or nothing.
fn position(value: Option<f64>, what: &str) -> Result<Option<u64>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v >= 1.0 && v.fract() == 0.0 && v <= 1e7 => Ok(Some(v as u64)),
        Some(_) => Err(ApiError::invalid_input(format!(
            "The {what} must be a whole number from 1."
        ))),
    }
}

/// Which of `paths` are files in the workspace (folders, missing and refused ones are left out).
#[tauri::command]
#[specta::specta]
pub async fn files_resolve(
    state: Shared<'_>,
    workspace_id: String,
    paths: Vec<String>,
) -> Result<Vec<ResolvedLink>, ApiError> {
    let answers = state
        .workspaces()?
        .resolve_paths(&workspace_id, paths)
        .await
        .map_err(workspace_error)?;
    Ok(answers
        .into_iter()
        .filter_map(|answer| match answer.resolution {
            // Files only: a folder cannot be opened at a line, so it does not become a link.
            PathResolution::Found(found) if found.kind == PathKind::File => Some(ResolvedLink {
                requested: answer.requested,
                path: found.relative,
            }),
            PathResolution::Found(_) | PathResolution::Missing | PathResolution::Refused { .. } => {
                None
            }
        })
        .collect())
}

/// Opens a workspace's file in the chosen editor at `line`/`column`.
#[tauri::command]
#[specta::specta]
pub async fn files_open(
    state: Shared<'_>,
    workspace_id: String,
    path: String,
    line: Option<f64>,
    column: Option<f64>,
) -> Result<OpenedFile, ApiError> {
    let line = position(line, "line")?;
    let column = position(column, "column")?;
    let workspaces = state.workspaces()?;
    let choice = workspaces.editor_choice().map_err(workspace_error)?;
    workspaces
        .open_file(
            &workspace_id,
            &path,
            line,
            column,
            Environment::from_process(),
            choice,
        )
        .await
        .map_err(workspace_error)
}

/// Fuzzy "go to file" over the workspace's file index.
#[tauri::command]
#[specta::specta]
pub async fn files_find(
    state: Shared<'_>,
    workspace_id: String,
    query: String,
    limit: f64,
) -> Result<FileHits, ApiError> {
    let limit = if limit.is_finite() {
        limit.clamp(1.0, MAX_MATCHES) as u32
    } else {
        MAX_MATCHES as u32
    };
    let found = state
        .workspaces()?
        .find_files(&workspace_id, &query, limit)
        .await
        .map_err(workspace_error)?;
    Ok(FileHits {
        matches: found
            .matches
            .into_iter()
            .map(|hit| FileHit {
                path: hit.path,
                positions: hit.positions,
            })
            .collect(),
        indexed_files: found.indexed_files,
    })
}

/// The start of a file, for the in-app read-only view.
#[tauri::command]
#[specta::specta]
pub async fn files_quick_view(
    state: Shared<'_>,
    workspace_id: String,
    path: String,
) -> Result<QuickViewFile, ApiError> {
    state
        .workspaces()?
        .quick_view(&workspace_id, &path)
        .await
        .map_err(workspace_error)
}

fn editor_settings(choice: EditorChoice) -> EditorSettings {
    let detected = sam_editor::detect(&Environment::from_process(), &choice);
    EditorSettings { choice, detected }
}

/// The editor setting and the editors found on this computer.
#[tauri::command]
#[specta::specta]
pub async fn editor_get(state: Shared<'_>) -> Result<EditorSettings, ApiError> {
    let choice = state
        .workspaces()?
        .editor_choice()
        .map_err(workspace_error)?;
    tauri::async_runtime::spawn_blocking(move || editor_settings(choice))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Saves the editor setting.
#[tauri::command]
#[specta::specta]
pub async fn editor_set(
    state: Shared<'_>,
    choice: EditorChoice,
) -> Result<EditorSettings, ApiError> {
    state
        .workspaces()?
        .set_editor_choice(&choice)
        .map_err(workspace_error)?;
    tauri::async_runtime::spawn_blocking(move || editor_settings(choice))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Whether remote editing is on: a cloud workspace's files open on the workspace itself in
/// the editor's remote mode, through SAM's `sam-<name>` ssh entries.
#[tauri::command]
#[specta::specta]
pub async fn remote_editing_get(state: Shared<'_>) -> Result<RemoteEditing, ApiError> {
    let workspaces = state.workspaces()?;
    tauri::async_runtime::spawn_blocking(move || workspaces.remote_editing())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(workspace_error)
}

/// Turns remote editing on (adds one `Include` line at the top of `~/.ssh/config`, which the
/// user agreed to in the UI) or off (removes exactly that line).
#[tauri::command]
#[specta::specta]
pub async fn remote_editing_set(state: Shared<'_>, on: bool) -> Result<RemoteEditing, ApiError> {
    let workspaces = state.workspaces()?;
    tauri::async_runtime::spawn_blocking(move || workspaces.set_remote_editing(on))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(workspace_error)
}

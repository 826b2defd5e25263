//! Review and ship: the workspace's changes, one file's diff, and shipping (commit on a `sam/`
//! branch, push, pull request). Wiring to `sam-workspace`; `sam-host` runs git in the checkout.

use std::sync::Arc;

use sam_core::{ApiError, ErrorCode};
use sam_protocol::{Changes, ChangesVersion, FileDiff, TurnChanges, TurnReverted};
use sam_secrets::CredentialKind;
use sam_workspace::{RevertError, ShipError, ShipFlowError, ShipOptions};
use serde::Serialize;
use tauri::State;

use crate::state::AppState;
use crate::workspaces::workspace_error;

type Shared<'a> = State<'a, Arc<AppState>>;

/// What the working tree changed against the commit the checkout started from.
#[tauri::command]
#[specta::specta]
pub async fn changes_get(state: Shared<'_>, workspace_id: String) -> Result<Changes, ApiError> {
    state
        .workspaces()?
        .changes(&workspace_id, None)
        .await
        .map_err(workspace_error)
}

/// Waits (up to 20 s) until the workspace's checkout changes, for the changes panel to
/// refresh while the agent works: the change counter once it differs from `after` (0: answered
/// at once). `live: false`: the workspace cannot be watched; poll instead.
#[tauri::command]
#[specta::specta]
pub async fn changes_wait(
    state: Shared<'_>,
    workspace_id: String,
    after: f64,
) -> Result<ChangesVersion, ApiError> {
    if !(after.is_finite() && after >= 0.0 && after <= 2f64.powi(53)) {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            "The change counter must be a whole number of zero or more.",
        ));
    }
    // Whole numbers up to 2^53 convert exactly.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let after = after as u64;
    state
        .workspaces()?
        .wait_changes(&workspace_id, after, CHANGES_WAIT_MS)
        .await
        .map_err(workspace_error)
}

/// How long one `changes_wait` waits for a change before it answers anyway.
const CHANGES_WAIT_MS: u64 = 20_000;

/// One changed file's unified diff (`old_path`: where a renamed file came from): against the
/// base, or, with `session_id` and `prompt`, in that agent turn only.
#[tauri::command]
#[specta::specta]
pub async fn changes_file_diff(
    state: Shared<'_>,
    workspace_id: String,
    path: String,
    old_path: Option<String>,
    session_id: Option<String>,
    prompt: Option<u32>,
) -> Result<FileDiff, ApiError> {
    let workspaces = state.workspaces()?;
    match (session_id, prompt) {
        (Some(session), Some(prompt)) => {
            workspaces
                .turn_file_diff(&workspace_id, &path, old_path.as_deref(), &session, prompt)
                .await
        }
        (None, None) => {
            workspaces
                .file_diff(&workspace_id, &path, old_path.as_deref(), None)
                .await
        }
        _ => {
            return Err(ApiError::invalid_input(
                "A turn's diff needs both the session and the turn.",
            ));
        }
    }
    .map_err(workspace_error)
}

/// The files one agent turn (`prompt` of the chat session `session_id`) changed.
#[tauri::command]
#[specta::specta]
pub async fn changes_turn(
    state: Shared<'_>,
    workspace_id: String,
    session_id: String,
    prompt: u32,
) -> Result<TurnChanges, ApiError> {
    state
        .workspaces()?
        .turn_changes(&workspace_id, &session_id, prompt)
        .await
        .map_err(workspace_error)
}

/// Puts the files one turn changed back as they were before it, only when none of them has
/// changed since the turn ended (the refusal lists them).
#[tauri::command]
#[specta::specta]
pub async fn changes_revert_turn(
    state: Shared<'_>,
    workspace_id: String,
    session_id: String,
    prompt: u32,
) -> Result<TurnReverted, ApiError> {
    state
        .workspaces()?
        .revert_turn(&workspace_id, &session_id, prompt)
        .await
        .map_err(|error| match error {
            RevertError::Workspace(error) => workspace_error(error),
            other => ApiError::invalid_input(other.to_string()),
        })
}

/// A commit message for shipping, drafted from the chat `session_id` (or the workspace's
/// newest): the first prompt as the subject, the prompts and the agent's last reply as the
/// body, with anything that looks like a key blanked out.
#[tauri::command]
#[specta::specta]
pub async fn changes_draft_message(
    state: Shared<'_>,
    workspace_id: String,
    session_id: Option<String>,
) -> Result<String, ApiError> {
    state
        .chat()?
        .ship_draft(&workspace_id, session_id.as_deref())
        .await
        .map_err(crate::chat::chat_error)
}

/// Where a pull request shipped from the app stands now (`open`, `closed` or `merged`), read
/// from GitHub with the vault's token; `url` is the pull request's page.
#[tauri::command]
#[specta::specta]
pub async fn changes_pull_request_state(
    state: Shared<'_>,
    url: String,
) -> Result<String, ApiError> {
    let (repo, number) = sam_forge::GitHubRepo::from_pull_url(&url, &[])
        .map_err(|e| ApiError::invalid_input(e.to_string()))?;
    let vault = state.vault()?;
    let token = crate::commands::blocking(move || {
        Ok(vault
            .resolve(CredentialKind::GithubToken, None, None)
            .ok()
            .map(|material| material.secret.expose().clone()))
    })
    .await?
    .ok_or_else(|| {
        ApiError::invalid_input(
            "Reading the pull request needs a GitHub token: add one in Settings → Credentials.",
        )
    })?;
    let github = sam_forge::GitHub::from_env()
        .map_err(|e| ApiError::new(ErrorCode::Unavailable, e.to_string()))?;
    github
        .pull_request_state(&token, &repo, number)
        .await
        .map_err(|e| ApiError::new(ErrorCode::Unavailable, e.to_string()))
}

/// What shipping did.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ShipOutcome {
    pub branch: String,
    pub commit: String,
    /// Whether a new commit was made.
    pub committed: bool,
    pub pushed: bool,
    /// Why the push failed (credentials removed), when it did.
    pub push_error: Option<String>,
    pub pull_request: Option<PullRequestLink>,
}

/// A pull request, opened now or found open.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PullRequestLink {
    pub url: String,
    #[specta(type = f64)]
    pub number: u64,
    /// It was already open for the branch.
    pub existing: bool,
}

/// Commits every change on a `sam/` branch (or `branch`), pushes it, and opens a pull request
/// on GitHub when `pull_request` is set, with the vault's GitHub token.
#[tauri::command]
#[specta::specta]
pub async fn changes_ship(
    state: Shared<'_>,
    workspace_id: String,
    message: String,
    branch: Option<String>,
    pull_request: bool,
    session_id: Option<String>,
) -> Result<ShipOutcome, ApiError> {
    if message.trim().is_empty() {
        return Err(ApiError::invalid_input(
            "Say what the change does: the commit message is empty.",
        ));
    }
    let vault = state.vault()?;
    let token = crate::commands::blocking(move || {
        Ok(vault
            .resolve(CredentialKind::GithubToken, None, None)
            .ok()
            .map(|material| material.secret.expose().clone()))
    })
    .await?;
    let github = sam_forge::GitHub::from_env()
        .map_err(|e| ApiError::new(ErrorCode::Unavailable, e.to_string()))?;
    let report = state
        .workspaces()?
        .ship_with_pull_request(
            &workspace_id,
            ShipOptions {
                message,
                branch: branch.filter(|b| !b.trim().is_empty()),
                push: true,
            },
            pull_request,
            token.as_deref(),
            &github,
        )
        .await
        .map_err(|error| match error {
            ShipFlowError::Ship(ShipError::Workspace(error)) => workspace_error(error),
            other => ApiError::invalid_input(other.to_string()),
        })?;
    // The chat the work came from records where it went (shown in its transcript).
    if let Some(session) = session_id
        && let Err(error) = state.chat()?.record_shipped(&session, &report).await
    {
        tracing::warn!(%error, "the chat could not record the shipping");
    }
    Ok(ShipOutcome {
        branch: report.shipped.branch,
        commit: report.shipped.commit,
        committed: report.shipped.committed,
        pushed: report.shipped.pushed,
        push_error: report.shipped.push_error,
        pull_request: report.pull_request.map(|pr| PullRequestLink {
            url: pr.html_url,
            number: pr.number,
            existing: !pr.created,
        }),
    })
}

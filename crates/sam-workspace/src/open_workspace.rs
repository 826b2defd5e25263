//! The workspace view's "Open terminal" and "Open in VS Code": a local workspace opens in its
//! checkout folder; a cloud workspace through its `sam-<name>` SSH entry (SAM's managed ssh
//! config, the pinned host key, the install key lent to the user's ssh-agent). Programs are
//! found and started by `sam-editor`, by argv, never through a shell.

use serde::Serialize;

use crate::{Lifecycle, Provider, WorkspaceError, Workspaces};

/// What "Open terminal" or "Open in VS Code" did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum WorkspaceLaunch {
    /// The program started.
    #[serde(rename_all = "camelCase")]
    Opened {
        /// What started, in words ("xterm running ssh sam-web").
        message: String,
        /// The program and its arguments, for the curious.
        argv: Vec<String>,
    },
    /// VS Code reaches a cloud workspace by its `sam-<name>` entry in the user's ssh config,
    /// which does not include SAM's entries yet. Nothing started: turning remote editing on
    /// (one `Include` line in the user's ssh config) and asking again opens it.
    #[serde(rename_all = "camelCase")]
    NeedsRemoteEditing {
        /// Why, and what turning it on changes.
        message: String,
        /// The user's ssh config that would get the line.
        user_config: String,
        /// The line.
        include_line: String,
    },
}

impl Workspaces {
    /// Opens the user's terminal emulator for a ready workspace: a shell in a local
    /// workspace's checkout, or `ssh -F <SAM's ssh config> sam-<name>` for a cloud one (SAM's
    /// config is named explicitly, so this works whether or not remote editing added its
    /// `Include` line to the user's config).
    ///
    /// # Errors
    /// A workspace that is not ready, a checkout that is gone, no terminal emulator, no ssh
    /// client, no ssh-agent for a cloud workspace; each says what to do.
    pub async fn open_terminal(
        &self,
        id_or_name: &str,
        env: sam_editor::Environment,
    ) -> Result<WorkspaceLaunch, WorkspaceError> {
        let row = self.row(id_or_name)?;
        let workspace = self.workspace_of(&row)?;
        ready(&workspace)?;
        if workspace.spec.provider == Provider::Local {
            let folder = local_folder(&workspace)?;
            let plan = move || sam_editor::plan_terminal_in(&env, &folder);
            let opened = launch(plan).await?;
            let folder = workspace.checkout_dir.unwrap_or_default();
            return Ok(WorkspaceLaunch::Opened {
                message: format!("Opened {} in {}", opened.editor_name, folder.display()),
                argv: opened.argv_preview,
            });
        }
        let argv = self.ssh_argv(&row.id).await?;
        let shown = format!("ssh {}", argv.last().map_or("", String::as_str));
        let plan = move || sam_editor::plan_terminal_running(&env, &argv);
        let opened = launch(plan).await?;
        Ok(WorkspaceLaunch::Opened {
            message: format!("Opened {} running {shown}", opened.editor_name),
            argv: opened.argv_preview,
        })
    }

    /// Opens a ready workspace's folder in VS Code: `code <checkout>` for a local workspace;
    /// for a cloud one `code --remote ssh-remote+sam-<name> <checkout on the server>` once
    /// remote editing is on (VS Code's Remote-SSH reads the user's ssh config), else
    /// [`WorkspaceLaunch::NeedsRemoteEditing`] and nothing starts.
    ///
    /// # Errors
    /// A workspace that is not ready, a checkout that is gone or unknown, VS Code's `code`
    /// command not installed, no ssh-agent for a cloud workspace; each says what to do.
    pub async fn open_in_vscode(
        &self,
        id_or_name: &str,
        env: sam_editor::Environment,
    ) -> Result<WorkspaceLaunch, WorkspaceError> {
        let row = self.row(id_or_name)?;
        let workspace = self.workspace_of(&row)?;
        ready(&workspace)?;
        if workspace.spec.provider == Provider::Local {
            let folder = local_folder(&workspace)?;
            let plan = move || sam_editor::plan_vscode_folder(&env, &folder);
            let opened = launch(plan).await?;
            return Ok(WorkspaceLaunch::Opened {
                message: format!("Opened {} in {}", row.name, opened.editor_name),
                argv: opened.argv_preview,
            });
        }
        let remote_folder = workspace
            .checkout_dir
            .as_ref()
            .and_then(|dir| dir.to_str())
            .ok_or_else(|| {
                WorkspaceError::InvalidInput(format!(
                    "\"{}\" has no checkout folder on record; retry its setup",
                    row.name
                ))
            })
            .and_then(|dir| sam_editor::RemotePath::parse(dir).map_err(editor_error))?;
        let Some(alias) = self
            .prepare_remote_editing(&row, workspace.spec.provider)
            .await?
        else {
            let status = self.remote_editing()?;
            return Ok(WorkspaceLaunch::NeedsRemoteEditing {
                message: format!(
                    "VS Code reaches \"{name}\" as the SSH host sam-{name} from your ssh config, \
                     which does not include SAM's entries yet. Turn on remote editing to add one \
                     line to {config}; SAM keeps its entries in a file of its own.",
                    name = row.name,
                    config = status.user_config,
                ),
                user_config: status.user_config,
                include_line: status.include_line,
            });
        };
        let shown = alias.as_str().to_owned();
        let plan = move || sam_editor::plan_vscode_remote_folder(&env, &alias, &remote_folder);
        let opened = launch(plan).await?;
        Ok(WorkspaceLaunch::Opened {
            message: format!(
                "Opened {} on {shown} in {} (Remote-SSH)",
                row.name, opened.editor_name
            ),
            argv: opened.argv_preview,
        })
    }
}

fn ready(workspace: &crate::Workspace) -> Result<(), WorkspaceError> {
    if workspace.state == Lifecycle::Ready {
        return Ok(());
    }
    Err(WorkspaceError::InvalidInput(format!(
        "\"{}\" is {}; it can be opened once it is ready",
        workspace.spec.name,
        workspace.state.as_str()
    )))
}

fn local_folder(workspace: &crate::Workspace) -> Result<std::path::PathBuf, WorkspaceError> {
    workspace.checkout_dir.clone().ok_or_else(|| {
        WorkspaceError::InvalidInput(format!(
            "\"{}\" has no checkout folder on record; retry its setup",
            workspace.spec.name
        ))
    })
}

/// Plans and starts a program off the async runtime (finding programs and watching the start
/// block).
async fn launch(
    plan: impl FnOnce() -> Result<sam_editor::LaunchPlan, sam_editor::EditorError> + Send + 'static,
) -> Result<sam_editor::Opened, WorkspaceError> {
    tokio::task::spawn_blocking(move || plan()?.launch(&sam_editor::LaunchOptions::default()))
        .await
        .map_err(|e| WorkspaceError::Host(format!("starting the program stopped: {e}")))?
        .map_err(editor_error)
}

fn editor_error(error: sam_editor::EditorError) -> WorkspaceError {
    WorkspaceError::InvalidInput(capitalised(&error.to_string()))
}

/// Editor errors start in lower case (they are also embedded in longer sentences); alone, a
/// message starts with a capital.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

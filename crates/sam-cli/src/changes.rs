//! `sam changes` and `sam ship`: review what the agent changed in a workspace, then commit it
//! on a `sam/` branch, push it, and open a GitHub pull request.

use std::io::Write;

use clap::Args;
use sam_core::{ApiError, ErrorCode};
use sam_forge::GitHub;
use sam_protocol::{ChangeStatus, Changes};
use sam_secrets::CredentialKind;
use sam_workspace::{ShipError, ShipFlowError, ShipOptions, ShipReport};

use sam_chat::Chat;

use crate::chat::chat_error;
use crate::output::{CliError, print_json};
use crate::workspace::{open_workspaces, open_workspaces_and_store, workspace_error};

/// `sam changes <workspace>`.
#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// The workspace (name or id).
    pub workspace: String,
    /// Compare with this commit (a branch, `HEAD~1`, an id) instead of the one the workspace
    /// started from.
    #[arg(long)]
    pub base: Option<String>,
    /// Print the whole structure as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `sam ship <workspace>`.
#[derive(Debug, Args)]
pub struct ShipArgs {
    /// The workspace (name or id).
    pub workspace: String,
    /// The commit message (its first line is the subject, the branch name and the pull
    /// request's title). Default: drafted from the chat (the first prompt as the subject,
    /// the prompts and the agent's last reply as the body).
    #[arg(long, short)]
    pub message: Option<String>,
    /// The chat session whose work this is: its conversation drafts the message, and its
    /// transcript records where the work went. Default: the workspace's newest session.
    #[arg(long)]
    pub session: Option<String>,
    /// The branch to commit on (default: sam/<slug of the subject>). Never the default branch.
    #[arg(long)]
    pub branch: Option<String>,
    /// Commit only; do not push.
    #[arg(long, conflicts_with = "pr")]
    pub no_push: bool,
    /// Open a GitHub pull request for the pushed branch, with the GitHub token from the vault.
    #[arg(long)]
    pub pr: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::internal(e.to_string()))
}

/// Runs `sam changes`.
pub fn run_changes(args: ChangesArgs) -> Result<(), CliError> {
    let (workspaces, _vault) = open_workspaces()?;
    let changes = runtime()?
        .block_on(workspaces.changes(&args.workspace, args.base.as_deref()))
        .map_err(workspace_error)?;
    if args.json {
        return print_json(&changes);
    }
    print_changes(&changes).map_err(|e| CliError::internal(e.to_string()))
}

fn print_changes(changes: &Changes) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let short = changes.base.get(..12).unwrap_or(&changes.base);
    if changes.files.is_empty() {
        return writeln!(out, "No changes against {short}.");
    }
    let width = changes
        .files
        .iter()
        .map(|f| shown_path(f).chars().count())
        .max()
        .unwrap_or(0)
        .min(80);
    for file in &changes.files {
        let mark = match file.status {
            ChangeStatus::Added => "A",
            ChangeStatus::Modified => "M",
            ChangeStatus::Deleted => "D",
            ChangeStatus::Renamed => "R",
            ChangeStatus::Copied => "C",
        };
        let counts = if file.binary {
            "binary".to_owned()
        } else {
            format!("+{} -{}", file.insertions, file.deletions)
        };
        writeln!(out, "{mark}  {:<width$}  {counts}", shown_path(file))?;
    }
    if changes.truncated {
        writeln!(
            out,
            "… {} more not listed",
            changes.total_files - changes.files.len() as u64
        )?;
    }
    writeln!(
        out,
        "{} file(s) changed, {} insertion(s)(+), {} deletion(s)(-) against {short}",
        changes.total_files, changes.insertions, changes.deletions
    )
}

fn shown_path(file: &sam_protocol::ChangedFile) -> String {
    match &file.old_path {
        Some(old) => format!("{old} → {}", file.path),
        None => file.path.clone(),
    }
}

/// Runs `sam ship`.
pub fn run_ship(args: ShipArgs) -> Result<(), CliError> {
    if args.message.as_deref().is_some_and(|m| m.trim().is_empty()) {
        return Err(CliError::invalid(
            "the commit message is empty: say what the change does, or leave --message out to draft it from the chat",
        ));
    }
    let (workspaces, vault, store) = open_workspaces_and_store()?;
    let token = vault
        .resolve(CredentialKind::GithubToken, None, None)
        .ok()
        .map(|m| m.secret.expose().clone());
    if args.pr && token.is_none() {
        return Err(CliError::invalid(
            "opening a pull request needs a GitHub token: save one with `sam credentials set github_token`",
        ));
    }
    let chat = Chat::new(store, workspaces.clone(), Some(vault));
    let runtime = runtime()?;
    // The chat the work came from: the one named, else the workspace's newest.
    let session = match &args.session {
        Some(id) => Some(runtime.block_on(chat.session(id)).map_err(chat_error)?.id),
        None => runtime
            .block_on(chat.sessions(Some(&args.workspace)))
            .map_err(chat_error)?
            .into_iter()
            .next()
            .map(|s| s.id),
    };
    let message = match args.message.clone() {
        Some(message) => message,
        None => runtime
            .block_on(chat.ship_draft(&args.workspace, session.as_deref()))
            .map_err(chat_error)?,
    };
    let github = GitHub::from_env().map_err(forge_error)?;
    let report = runtime
        .block_on(workspaces.ship_with_pull_request(
            &args.workspace,
            ShipOptions {
                message,
                branch: args.branch.clone(),
                push: !args.no_push,
            },
            args.pr,
            token.as_deref(),
            &github,
        ))
        .map_err(|error| match error {
            ShipFlowError::Ship(error) => ship_error(error),
            ShipFlowError::Forge(error) => forge_error(error),
            ShipFlowError::NoPullRequest(reason) => CliError::invalid(reason),
        })?;
    if let Some(session) = &session
        && let Err(error) = runtime.block_on(chat.record_shipped(session, &report))
    {
        // The work is shipped either way; only the chat's note of it is missing.
        eprintln!("warning: the chat could not record where the work went: {error}");
    }
    if args.json {
        print_json(&report)?;
    } else {
        print_ship(&report).map_err(|e| CliError::internal(e.to_string()))?;
    }
    match &report.shipped.push_error {
        Some(reason) => Err(CliError(ApiError::new(
            ErrorCode::Unavailable,
            format!(
                "committed {} on {}, but the push failed: {reason}",
                report.shipped.commit.get(..12).unwrap_or_default(),
                report.shipped.branch
            ),
        ))),
        None => Ok(()),
    }
}

fn print_ship(report: &ShipReport) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let shipped = &report.shipped;
    let commit = shipped.commit.get(..12).unwrap_or(&shipped.commit);
    if shipped.committed {
        writeln!(out, "Committed {commit} on {}.", shipped.branch)?;
    } else {
        writeln!(
            out,
            "Nothing new to commit; {} is at {commit}.",
            shipped.branch
        )?;
    }
    if shipped.pushed {
        writeln!(
            out,
            "Pushed {} to {}.",
            shipped.branch,
            shipped.remote_url.as_deref().unwrap_or("origin")
        )?;
    }
    if let Some(pull) = &report.pull_request {
        let verb = if pull.created {
            "Opened"
        } else {
            "Already open:"
        };
        writeln!(
            out,
            "{verb} pull request #{}: {}",
            pull.number, pull.html_url
        )?;
    }
    Ok(())
}

fn ship_error(error: ShipError) -> CliError {
    match error {
        ShipError::Workspace(error) => workspace_error(error),
        other => CliError::invalid(other.to_string()),
    }
}

fn forge_error(error: sam_forge::ForgeError) -> CliError {
    let code = match &error {
        sam_forge::ForgeError::NotGitHub(_) | sam_forge::ForgeError::Rejected(_) => {
            ErrorCode::InvalidInput
        }
        sam_forge::ForgeError::NotFound(_) => ErrorCode::NotFound,
        _ => ErrorCode::Unavailable,
    };
    CliError(ApiError::new(code, error.to_string()))
}

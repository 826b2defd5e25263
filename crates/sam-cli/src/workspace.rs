//! `sam workspace …`: create, list, show and delete workspaces — the same calls as the app.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Subcommand, ValueEnum};
use sam_core::{ApiError, ErrorCode};
use sam_secrets::CredentialKind;
use sam_workspace::{
    Provider, Repo, VaultRemote, Workspace, WorkspaceError, WorkspaceSpec, Workspaces,
};

use crate::credentials::open_vault;
use crate::output::{CliError, print_json};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProviderArg {
    Local,
    Hetzner,
    Scaleway,
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace and wait until it is ready.
    Create {
        /// Where it runs (default: this computer).
        #[arg(long, value_enum, default_value = "local")]
        provider: ProviderArg,
        /// A git URL to clone, or a folder on this computer to work in place.
        #[arg(long)]
        repo: String,
        /// The branch to check out (clones only).
        #[arg(long)]
        branch: Option<String>,
        /// A short name (default: from the repository).
        #[arg(long)]
        name: Option<String>,
        /// Cloud only: small, medium (default), large, or the provider's size name.
        #[arg(long)]
        size: Option<String>,
        /// Cloud only: an allowed location or zone, best first (repeat for fallbacks).
        #[arg(long = "location")]
        locations: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List workspaces.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one workspace with its provisioning steps and their timings.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Provision a failed workspace again.
    Retry {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a workspace (its chat history stays on this computer).
    Delete {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Run a command (no shell) in a ready workspace's checkout, or in its dev container;
    /// exits with the command's status.
    Run {
        name: String,
        /// Inside the workspace's dev container.
        #[arg(long)]
        container: bool,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
        #[arg(long)]
        json: bool,
        /// The program and its arguments, after `--`.
        #[arg(last = true, required = true)]
        argv: Vec<String>,
    },
    /// Open a shell on a cloud workspace with your own `ssh` (or run COMMAND there). The
    /// workspace key is lent to your ssh-agent; the host key is the pinned one.
    Ssh {
        name: String,
        /// A command to run instead of a shell.
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Find servers labelled with this install's id that no live workspace owns.
    Reconcile {
        /// Delete them (default: only list them).
        #[arg(long)]
        delete: bool,
        #[arg(long)]
        json: bool,
    },
}

impl WorkspaceCommand {
    pub fn json(&self) -> bool {
        match self {
            Self::Create { json, .. }
            | Self::List { json }
            | Self::Show { json, .. }
            | Self::Retry { json, .. }
            | Self::Delete { json, .. }
            | Self::Reconcile { json, .. }
            | Self::Run { json, .. } => *json,
            Self::Ssh { .. } => false,
        }
    }
}

pub(crate) fn workspace_error(error: WorkspaceError) -> CliError {
    let code = match &error {
        WorkspaceError::InvalidInput(_) => ErrorCode::InvalidInput,
        WorkspaceError::NotFound(_) => ErrorCode::NotFound,
        WorkspaceError::Store(_) => ErrorCode::Database,
        WorkspaceError::Io { .. } => ErrorCode::Io,
        WorkspaceError::HostBinaryMissing(_)
        | WorkspaceError::Host(_)
        | WorkspaceError::SetupFailed(_)
        | WorkspaceError::Cloud(_)
        | WorkspaceError::Ssh(_) => ErrorCode::Unavailable,
    };
    CliError(ApiError::new(code, error.to_string()))
}

/// The default name: the repository's last path segment, made a valid name.
fn default_name(repo: &str) -> String {
    let last = repo
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit(['/', ':'])
        .next()
        .unwrap_or_default();
    let name: String = last
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-').chars().take(40).collect::<String>();
    if name.is_empty() {
        "workspace".to_owned()
    } else {
        name
    }
}

/// The workspaces as the app sees them (its database, data folder and keyring), and the
/// vault they take credentials from.
pub(crate) fn open_workspaces() -> Result<(Workspaces, Arc<sam_secrets::Vault>), CliError> {
    open_workspaces_and_store().map(|(workspaces, vault, _)| (workspaces, vault))
}

/// As [`open_workspaces`], with the database they use (for the chat, say).
pub(crate) fn open_workspaces_and_store()
-> Result<(Workspaces, Arc<sam_secrets::Vault>, Arc<sam_store::Store>), CliError> {
    let vault = open_vault()?;
    let paths = sam_core::AppPaths::from_env().map_err(|e| CliError::invalid(e.to_string()))?;
    let store = Arc::new(
        sam_store::Store::open(&paths.database_file())
            .map_err(|e| CliError::database(e.to_string()))?
            .0,
    );
    let remote = VaultRemote::new(vault.clone()).map_err(workspace_error)?;
    let workspaces = Workspaces::new(
        Arc::clone(&store),
        &paths.data_dir,
        Workspaces::locate_host_binary(),
    )
    .with_remote(Arc::new(remote));
    Ok((workspaces, vault, store))
}

pub fn run(command: WorkspaceCommand) -> Result<(), CliError> {
    let json = command.json();
    let (workspaces, vault) = open_workspaces()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::internal(e.to_string()))?;
    runtime.block_on(async {
        match command {
            WorkspaceCommand::Create {
                provider,
                repo,
                branch,
                name,
                size,
                locations,
                ..
            } => {
                let looks_like_url =
                    repo.contains("://") || (repo.contains('@') && repo.contains(':'));
                let repo_spec = if looks_like_url {
                    Repo::Url { url: repo.clone() }
                } else {
                    let path = PathBuf::from(&repo);
                    let path = if path.is_absolute() {
                        path
                    } else {
                        std::env::current_dir()
                            .map_err(|e| CliError::internal(e.to_string()))?
                            .join(path)
                    };
                    Repo::Folder { path }
                };
                // A GitHub token from the vault, for private repositories over HTTPS; it
                // reaches git through the host's askpass only.
                let token = if repo.starts_with("https://github.com/") {
                    vault
                        .resolve(CredentialKind::GithubToken, None, None)
                        .ok()
                        .map(|m| sam_protocol::Secret::new(m.secret.expose().clone()))
                } else {
                    None
                };
                let spec = WorkspaceSpec {
                    name: name.unwrap_or_else(|| default_name(&repo)),
                    provider: match provider {
                        ProviderArg::Local => Provider::Local,
                        ProviderArg::Hetzner => Provider::Hetzner,
                        ProviderArg::Scaleway => Provider::Scaleway,
                    },
                    repo: repo_spec,
                    branch,
                    size,
                    locations,
                };
                let created = workspaces
                    .create(spec, token)
                    .await
                    .map_err(workspace_error)?;
                report(&created, json)
            }
            WorkspaceCommand::List { .. } => {
                let all = workspaces.list().map_err(workspace_error)?;
                if json {
                    return print_json(&all);
                }
                if all.is_empty() {
                    return lines([
                        "No workspaces yet: `sam workspace create --repo <folder or git URL>`."
                            .to_owned(),
                    ]);
                }
                lines(all.iter().map(|w| {
                    format!(
                        "{:<24} {:<9} {:<13} {:<16} {}",
                        w.spec.name,
                        w.spec.provider.as_str(),
                        w.state.as_str(),
                        w.address.as_deref().unwrap_or("-"),
                        w.checkout_dir
                            .as_ref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default()
                    )
                }))
            }
            WorkspaceCommand::Show { name, .. } => {
                report(&workspaces.get(&name).map_err(workspace_error)?, json)
            }
            WorkspaceCommand::Retry { name, .. } => {
                let retried = workspaces
                    .retry(&name, None)
                    .await
                    .map_err(workspace_error)?;
                report(&retried, json)
            }
            WorkspaceCommand::Run {
                name,
                container,
                timeout_secs,
                argv,
                ..
            } => {
                let ran = workspaces
                    .run(
                        &name,
                        argv,
                        container,
                        std::time::Duration::from_secs(timeout_secs),
                    )
                    .await
                    .map_err(workspace_error)?;
                if json {
                    print_json(&ran)?;
                } else {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(ran.stdout.as_bytes());
                    let _ = std::io::stderr().write_all(ran.stderr_tail.as_bytes());
                }
                if ran.status == 0 {
                    Ok(())
                } else {
                    Err(CliError(ApiError::new(
                        ErrorCode::Internal,
                        format!("the command exited with status {}", ran.status),
                    )))
                }
            }
            WorkspaceCommand::Ssh { name, command } => {
                let mut argv = workspaces.ssh_argv(&name).await.map_err(workspace_error)?;
                argv.extend(command);
                // The user's own ssh, on this terminal: no shell in between.
                let status = std::process::Command::new(&argv[0])
                    .args(&argv[1..])
                    .status()
                    .map_err(|e| CliError::internal(format!("could not start ssh: {e}")))?;
                match status.code() {
                    Some(0) => Ok(()),
                    code => Err(CliError(ApiError::new(
                        ErrorCode::Unavailable,
                        format!(
                            "ssh ended with {}",
                            code.map_or_else(|| "a signal".to_owned(), |c| format!("status {c}"))
                        ),
                    ))),
                }
            }
            WorkspaceCommand::Reconcile { delete, .. } => {
                let report = workspaces
                    .reconcile(delete)
                    .await
                    .map_err(workspace_error)?;
                if json {
                    return print_json(&report);
                }
                let mut out: Vec<String> = report
                    .orphans
                    .iter()
                    .map(|o| {
                        format!(
                            "{} {}/{} {} (workspace {}){}",
                            o.provider,
                            o.location,
                            o.server_id,
                            o.name,
                            o.workspace_id.as_deref().unwrap_or("unknown"),
                            if o.deleted { ": deleted" } else { "" }
                        )
                    })
                    .collect();
                if out.is_empty() {
                    out.push("No orphaned servers.".to_owned());
                } else if !delete {
                    out.push("Run `sam workspace reconcile --delete` to delete them.".to_owned());
                }
                out.extend(report.unchecked.iter().map(|u| format!("not checked: {u}")));
                lines(out)
            }
            WorkspaceCommand::Delete { name, .. } => {
                let deleted = workspaces.delete(&name).await.map_err(workspace_error)?;
                if json {
                    return print_json(&deleted);
                }
                lines([format!(
                    "Deleted \"{}\". Its chat history stays on this computer.",
                    deleted.spec.name
                )])
            }
        }
    })
}

fn report(workspace: &Workspace, json: bool) -> Result<(), CliError> {
    if json {
        return print_json(workspace);
    }
    let mut out = vec![format!(
        "{} ({}, {}): {}",
        workspace.spec.name,
        workspace.spec.provider.as_str(),
        workspace.id,
        workspace.state.as_str()
    )];
    if let Some(address) = &workspace.address {
        out.push(format!("  address: {address}"));
    }
    if let Some(dir) = &workspace.checkout_dir {
        out.push(format!("  checkout: {}", dir.display()));
    }
    if let Some(failure) = &workspace.failure {
        out.push(format!("  failed: {failure}"));
    }
    for step in &workspace.steps {
        out.push(format!(
            "  {:<12} {:<8} {}",
            step.step,
            step.state,
            step.millis.map(|ms| format!("{ms} ms")).unwrap_or_default()
        ));
    }
    lines(out)
}

fn lines(lines: impl IntoIterator<Item = String>) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}").map_err(|e| CliError::internal(e.to_string()))?;
    }
    Ok(())
}

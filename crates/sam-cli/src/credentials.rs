//! `sam credentials …`: the vault from the command line. Secrets come from stdin or a hidden
//! prompt, never from argv (argv is visible to every process on the machine).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use sam_core::AppPaths;
use sam_secrets::{
    CredentialKind, CredentialScope, KeyringStore, MAX_SECRET_BYTES, NewCredential, Vault,
};
use sam_store::Store;

use crate::output::{CliError, print_json};

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// Store a credential: the secret is read from stdin, or asked for without echo.
    Set {
        /// One of: hetzner_token, scaleway_keys, anthropic_api_key, claude_oauth_token,
        /// openai_api_key, codex_auth_json, gemini_api_key, mistral_api_key, openai_compatible, github_token.
        kind: String,
        /// A name for it (defaults to the kind's name).
        #[arg(long)]
        name: Option<String>,
        /// Make it belong to one project (a repository) instead of every project.
        #[arg(long)]
        project: Option<String>,
        /// A non-secret field, e.g. --field project_id=… or --field base_url=http://localhost:11434/v1.
        #[arg(long = "field", value_name = "KEY=VALUE")]
        fields: Vec<String>,
        /// Skip the check against the provider.
        #[arg(long)]
        no_check: bool,
        /// codex_auth_json only: read the login Codex wrote ($CODEX_HOME/auth.json, else ~/.codex/auth.json).
        #[arg(long)]
        from_codex_home: bool,
        #[arg(long)]
        json: bool,
    },
    /// List credentials (masked).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Check a credential against its provider.
    Check {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Print this install's SSH public key (generated on first use; the private key stays in the keyring).
    SshKey {
        #[arg(long)]
        json: bool,
    },
    /// Remove a credential from the keyring and from SAM.
    Remove {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

impl CredentialsCommand {
    pub fn json(&self) -> bool {
        match self {
            Self::Set { json, .. }
            | Self::List { json }
            | Self::Check { json, .. }
            | Self::SshKey { json }
            | Self::Remove { json, .. } => *json,
        }
    }
}

pub fn open_vault() -> Result<Arc<Vault>, CliError> {
    let paths = AppPaths::from_env().map_err(|e| CliError::invalid(e.to_string()))?;
    let (store, _) =
        Store::open(&paths.database_file()).map_err(|e| CliError::database(e.to_string()))?;
    Ok(Arc::new(Vault::new(
        Arc::new(store),
        Arc::new(KeyringStore::for_this_build()),
    )))
}

pub fn run(command: CredentialsCommand) -> Result<(), CliError> {
    let json = command.json();
    let vault = open_vault()?;
    match command {
        CredentialsCommand::Set {
            kind,
            name,
            project,
            fields,
            no_check,
            from_codex_home,
            ..
        } => {
            let kind = CredentialKind::parse(&kind).ok_or_else(|| {
                let names: Vec<&str> = CredentialKind::ALL.iter().map(|k| k.as_str()).collect();
                CliError::invalid(format!(
                    "Unknown kind \"{kind}\". Pick one of: {}.",
                    names.join(", ")
                ))
            })?;
            let mut map = BTreeMap::new();
            for field in fields {
                let (key, value) = field.split_once('=').ok_or_else(|| {
                    CliError::invalid(format!("--field takes KEY=VALUE, got \"{field}\"."))
                })?;
                if kind.info().fields.iter().any(|f| f.secret && f.id == key) {
                    return Err(CliError::invalid(
                        "Secrets are never taken from the command line: pipe them on stdin or type them at the prompt.",
                    ));
                }
                map.insert(key.to_owned(), value.to_owned());
            }
            let secret = if from_codex_home {
                read_codex_login(kind)?
            } else {
                read_secret(kind)?
            };
            map.insert("secret".to_owned(), secret);
            let input = NewCredential {
                kind,
                label: name.unwrap_or_else(|| kind.label().to_owned()),
                scope: match project {
                    Some(project) => CredentialScope::Project { project },
                    None => CredentialScope::Global,
                },
                fields: map,
            };
            let mut summary = vault
                .add(input, sam_core::clock::unix_now())
                .map_err(CliError::vault)?;
            if !no_check {
                summary = check(&vault, &summary.id)?;
            }
            if json {
                print_json(&summary)
            } else {
                say(&format!(
                    "Stored \"{}\" ({}) in the OS keyring: {}{}",
                    summary.label,
                    summary.masked,
                    summary.last_check.as_str(),
                    summary
                        .last_message
                        .map(|m| format!(" — {m}"))
                        .unwrap_or_default()
                ))
            }
        }
        CredentialsCommand::List { .. } => {
            let all = vault.list().map_err(CliError::vault)?;
            if json {
                return print_json(&all);
            }
            if all.is_empty() {
                return say("No credentials yet. Add one with: sam credentials set <kind>");
            }
            for c in all {
                let scope = match &c.scope {
                    CredentialScope::Global => "global".to_owned(),
                    CredentialScope::Project { project } => format!("project {project}"),
                };
                say(&format!(
                    "{:<24} {:<32} {:<10} {:<16} {}{}",
                    c.label,
                    c.kind.label(),
                    c.masked,
                    scope,
                    c.last_check.as_str(),
                    if c.active { "" } else { " (deactivated)" }
                ))?;
            }
            Ok(())
        }
        CredentialsCommand::Check { name, .. } => {
            let summary = check(&vault, &name)?;
            if json {
                print_json(&summary)
            } else {
                say(&format!(
                    "{}: {} — {}",
                    summary.label,
                    summary.last_check.as_str(),
                    summary.last_message.unwrap_or_default()
                ))
            }
        }
        CredentialsCommand::SshKey { .. } => {
            let key = vault.ensure_ssh_key().map_err(CliError::vault)?;
            if json {
                print_json(&key)
            } else {
                say(&format!("{}\n{}", key.openssh, key.fingerprint))
            }
        }
        CredentialsCommand::Remove { name, .. } => {
            let summary = vault.summary(&name).map_err(CliError::vault)?;
            vault.remove(&summary.id).map_err(CliError::vault)?;
            if json {
                print_json(&serde_json::json!({ "removed": summary.label }))
            } else {
                say(&format!(
                    "Removed \"{}\" from the OS keyring and from SAM.",
                    summary.label
                ))
            }
        }
    }
}

fn check(
    vault: &Arc<Vault>,
    id_or_label: &str,
) -> Result<sam_secrets::CredentialSummary, CliError> {
    let checker = sam_checks::Endpoints::from_env()
        .map_err(|e| CliError::invalid(e.to_string()))
        .and_then(|e| sam_checks::Checker::new(e).map_err(|e| CliError::invalid(e.to_string())))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::internal(e.to_string()))?;
    let id = vault.summary(id_or_label).map_err(CliError::vault)?.id;
    runtime
        .block_on(sam_checks::check_stored(
            vault,
            &checker,
            &id,
            sam_core::clock::unix_now,
        ))
        .map_err(CliError::vault)
}

/// The Codex login from `$CODEX_HOME/auth.json` (or `~/.codex/auth.json`).
fn read_codex_login(kind: CredentialKind) -> Result<String, CliError> {
    if kind != CredentialKind::CodexAuthJson {
        return Err(CliError::invalid(
            "--from-codex-home only applies to codex_auth_json.",
        ));
    }
    let path = sam_secrets::codex_auth_file().ok_or_else(|| {
        CliError::invalid("Neither CODEX_HOME nor HOME is set: pipe auth.json on stdin instead.")
    })?;
    let bytes = std::fs::read(&path).map_err(|e| {
        CliError::invalid(format!(
            "Could not read {} ({e}). Run `codex login` first, or set CODEX_HOME to the folder that holds auth.json.",
            path.display()
        ))
    })?;
    if bytes.len() > MAX_SECRET_BYTES {
        return Err(CliError::invalid(format!(
            "{} is over 16 KiB; it is not a Codex login.",
            path.display()
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| CliError::invalid(format!("{} is not UTF-8 text.", path.display())))
}

/// The secret, from a pipe or a hidden prompt; at most 16 KiB of UTF-8.
fn read_secret(kind: CredentialKind) -> Result<String, CliError> {
    let stdin = std::io::stdin();
    let bytes = if stdin.is_terminal() {
        rpassword::prompt_password(format!("{} (input hidden): ", kind.label()))
            .context("reading the secret from the terminal")
            .map_err(|e| CliError::invalid(e.to_string()))?
            .into_bytes()
    } else {
        let mut buffer = Vec::new();
        stdin
            .lock()
            .take(MAX_SECRET_BYTES as u64 + 1)
            .read_to_end(&mut buffer)
            .map_err(|e| CliError::invalid(format!("Could not read the secret from stdin: {e}")))?;
        buffer
    };
    if bytes.len() > MAX_SECRET_BYTES {
        return Err(CliError::invalid(format!(
            "The secret on stdin is over 16 KiB; a {} is far shorter. Check what was piped in.",
            kind.label()
        )));
    }
    String::from_utf8(bytes).map_err(|_| {
        CliError::invalid(
            "The secret on stdin is not UTF-8 text. Pipe the key itself, not a binary file.",
        )
    })
}

fn say(line: &str) -> Result<(), CliError> {
    writeln!(std::io::stdout().lock(), "{line}").map_err(|e| CliError::internal(e.to_string()))
}

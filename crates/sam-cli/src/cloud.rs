//! `sam cloud …`: what the create-workspace dialog shows, from the command line — locations,
//! sizes with live prices, and the servers this install owns — through the same provider
//! clients as the app, with the credential from the vault.

use std::io::Write;

use clap::{Subcommand, ValueEnum};
use sam_cloud::{CloudError, CloudProvider, ProviderKind, Selector, Timing};
use sam_secrets::CredentialKind;
use serde::Serialize;

use crate::credentials::open_vault;
use crate::output::{CliError, print_json};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProviderArg {
    Hetzner,
    Scaleway,
}

impl ProviderArg {
    fn credential_kind(self) -> CredentialKind {
        match self {
            ProviderArg::Hetzner => CredentialKind::HetznerToken,
            ProviderArg::Scaleway => CredentialKind::ScalewayKeys,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum CloudCommand {
    /// The locations (Hetzner) or zones (Scaleway) servers can be created in.
    Locations {
        #[arg(long, value_enum)]
        provider: ProviderArg,
        /// Which stored credential to use (default: the active one for the provider).
        #[arg(long)]
        credential: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Server sizes with vCPUs, memory, disk, architecture and live prices.
    Sizes {
        #[arg(long, value_enum)]
        provider: ProviderArg,
        /// Only sizes sold in this location or zone, with its prices.
        #[arg(long)]
        location: Option<String>,
        #[arg(long)]
        credential: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The servers this install of SAM created (found by their labels), and only those.
    Servers {
        #[arg(long, value_enum)]
        provider: ProviderArg,
        #[arg(long)]
        credential: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

impl CloudCommand {
    pub fn json(&self) -> bool {
        match self {
            Self::Locations { json, .. }
            | Self::Sizes { json, .. }
            | Self::Servers { json, .. } => *json,
        }
    }

    fn target(&self) -> (ProviderArg, Option<&str>) {
        match self {
            Self::Locations {
                provider,
                credential,
                ..
            }
            | Self::Sizes {
                provider,
                credential,
                ..
            }
            | Self::Servers {
                provider,
                credential,
                ..
            } => (*provider, credential.as_deref()),
        }
    }
}

/// A failure of a cloud command: a local one, or the provider's, reported with its own code
/// (`rate_limited`, `capacity`, …) so scripts can act on it.
#[derive(Debug)]
pub enum Failure {
    Local(CliError),
    Cloud(CloudError),
}

impl From<CliError> for Failure {
    fn from(error: CliError) -> Self {
        Failure::Local(error)
    }
}

impl Failure {
    pub fn report(&self, json: bool) {
        match self {
            Failure::Local(error) => error.report(json),
            Failure::Cloud(error) => {
                if json {
                    #[derive(Serialize)]
                    #[serde(rename_all = "camelCase")]
                    struct Body {
                        code: &'static str,
                        message: String,
                        provider: ProviderKind,
                        transient: bool,
                    }
                    #[derive(Serialize)]
                    struct Envelope {
                        error: Body,
                    }
                    let _ = print_json(&Envelope {
                        error: Body {
                            code: error.code(),
                            message: error.to_string(),
                            provider: error.provider(),
                            transient: error.is_transient(),
                        },
                    });
                } else {
                    let _ = writeln!(std::io::stderr(), "sam: {error}");
                }
            }
        }
    }
}

pub fn run(command: CloudCommand) -> Result<(), Failure> {
    let json = command.json();
    let vault = open_vault()?;
    let (provider, credential) = command.target();
    let material = vault
        .resolve(provider.credential_kind(), credential, None)
        .map_err(CliError::vault)?;
    let endpoints =
        sam_checks::Endpoints::from_env().map_err(|e| CliError::invalid(e.to_string()))?;
    let timing = Timing::default();
    timing
        .validate()
        .map_err(|e| CliError::internal(e.to_string()))?;
    let cloud = sam_cloud::connect(&material, &endpoints, timing).map_err(|e| match e {
        sam_cloud::ConnectError::Cloud(error) => Failure::Cloud(error),
        other => Failure::Local(CliError::invalid(other.to_string())),
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::internal(e.to_string()))?;
    runtime.block_on(async {
        match command {
            CloudCommand::Locations { .. } => {
                let locations = cloud.locations().await.map_err(Failure::Cloud)?;
                if json {
                    return Ok(print_json(&locations)?);
                }
                let rows = locations
                    .iter()
                    .map(|l| format!("{:<10} {} ({})", l.id, l.description, l.country));
                Ok(print_lines(rows)?)
            }
            CloudCommand::Sizes { location, .. } => {
                let sizes = cloud
                    .sizes(location.as_deref())
                    .await
                    .map_err(Failure::Cloud)?;
                if json {
                    return Ok(print_json(&sizes)?);
                }
                let rows = sizes.iter().filter(|s| !s.deprecated).flat_map(|s| {
                    s.prices.iter().map(move |p| {
                        format!(
                            "{:<16} {:>2} vCPU {:>6} MiB {:>4} GB {:<7} {:<10} {:.4} {cur}/h  {:.2} {cur}/month{}",
                            s.id,
                            s.vcpus,
                            s.memory_mib,
                            s.disk_gb,
                            s.arch,
                            p.location,
                            p.hourly,
                            p.monthly,
                            if p.available { "" } else { "  (out of stock)" },
                            cur = s.currency,
                        )
                    })
                });
                Ok(print_lines(rows)?)
            }
            CloudCommand::Servers { .. } => {
                let install = vault
                    .store()
                    .install_id()
                    .map_err(|e| CliError::database(e.to_string()))?;
                let selector =
                    Selector::install(&install).map_err(|e| CliError::internal(e.to_string()))?;
                let servers = list(cloud.as_ref(), &selector).await?;
                if json {
                    return Ok(print_json(&servers)?);
                }
                if servers.is_empty() {
                    return Ok(print_lines(std::iter::once(
                        "No servers of this install.".to_owned(),
                    ))?);
                }
                let rows = servers.iter().map(|s| {
                    format!(
                        "{:<28} {:<24} {:<10} {:<16} {}",
                        s.id.to_string(),
                        s.name,
                        format!("{:?}", s.status).to_lowercase(),
                        s.ipv4.map(|ip| ip.to_string()).unwrap_or_else(|| "-".into()),
                        s.labels.get(sam_cloud::WORKSPACE_LABEL).map_or("", String::as_str),
                    )
                });
                Ok(print_lines(rows)?)
            }
        }
    })
}

async fn list(
    cloud: &dyn CloudProvider,
    selector: &Selector,
) -> Result<Vec<sam_cloud::Server>, Failure> {
    cloud.servers(selector).await.map_err(Failure::Cloud)
}

fn print_lines(lines: impl Iterator<Item = String>) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}").map_err(|e| CliError::internal(e.to_string()))?;
    }
    Ok(())
}

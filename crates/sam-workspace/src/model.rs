//! What a workspace is to the layers above: what was asked for, where it stands, and how each
//! provisioning step went.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where a workspace runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// A folder on this computer: no account, no cloud (the default).
    Local,
    /// A Hetzner Cloud server.
    Hetzner,
    /// A Scaleway instance.
    Scaleway,
}

impl Provider {
    /// `local`, `hetzner`, `scaleway`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Local => "local",
            Provider::Hetzner => "hetzner",
            Provider::Scaleway => "scaleway",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        [Provider::Local, Provider::Hetzner, Provider::Scaleway]
            .into_iter()
            .find(|p| p.as_str() == name)
    }
}

/// Where the code comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Repo {
    /// A git repository to clone (`https://`, `ssh://`, `file://`, `git@host:path`).
    Url {
        /// The URL.
        url: String,
    },
    /// A folder on this computer, used in place (never moved, never deleted by SAM).
    Folder {
        /// An absolute path.
        path: PathBuf,
    },
}

/// What the user asked for. Stored as JSON on the workspace record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct WorkspaceSpec {
    /// A short name: lower-case letters, digits and dashes.
    pub name: String,
    /// Where it runs.
    pub provider: Provider,
    /// The code.
    pub repo: Repo,
    /// The branch to check out; the repository's default when `None`.
    #[serde(default)]
    pub branch: Option<String>,
    /// Cloud only: a size preset (`small`, `medium`, `large`) or the provider's type name;
    /// `medium` when `None`.
    #[serde(default)]
    pub size: Option<String>,
    /// Cloud only: the locations (zones) allowed, best first; the provider's defaults when
    /// empty.
    #[serde(default)]
    pub locations: Vec<String>,
}

/// A workspace's life stage: one state machine for the UI, the CLI and timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// Claimed; nothing done yet.
    Requested,
    /// Steps are running.
    Provisioning,
    /// Agents can work here.
    Ready,
    /// Being deleted.
    Stopping,
    /// Gone (its chat history stays).
    Deleted,
    /// A step failed; the reason is on the record.
    Failed,
}

impl Lifecycle {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Requested => "requested",
            Lifecycle::Provisioning => "provisioning",
            Lifecycle::Ready => "ready",
            Lifecycle::Stopping => "stopping",
            Lifecycle::Deleted => "deleted",
            Lifecycle::Failed => "failed",
        }
    }

    /// Parses [`Self::as_str`]; an unknown word (from a newer build) reads as `Failed`, the
    /// state that offers a retry or a delete.
    pub fn parse(word: &str) -> Self {
        [
            Lifecycle::Requested,
            Lifecycle::Provisioning,
            Lifecycle::Ready,
            Lifecycle::Stopping,
            Lifecycle::Deleted,
            Lifecycle::Failed,
        ]
        .into_iter()
        .find(|l| l.as_str() == word)
        .unwrap_or(Lifecycle::Failed)
    }
}

/// How one provisioning step went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StepTiming {
    /// The step's name (`start_host`, `checkout`, …).
    pub step: String,
    /// `running`, `done` or `failed`.
    pub state: String,
    /// How long it took, once finished.
    #[specta(type = Option<f64>)]
    pub millis: Option<u64>,
    /// Why it failed, when it did.
    pub detail: Option<String>,
}

/// The money side of a cloud workspace, in the provider's currency, before VAT.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    /// ISO 4217 currency.
    pub currency: String,
    /// Per hour.
    pub hourly: f64,
    /// The monthly cap.
    pub monthly: f64,
    /// Spent so far: every started hour since creation, up to the monthly cap (an estimate
    /// from the live price at creation; the provider's invoice is the truth).
    pub spent: f64,
}

/// A workspace as the UI and the CLI show it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// Its id (16 hex characters), the same in the host journal and cloud labels.
    pub id: String,
    /// What was asked for.
    pub spec: WorkspaceSpec,
    /// Where it stands.
    pub state: Lifecycle,
    /// Why it failed, when it did.
    pub failure: Option<String>,
    /// The checkout the agents work in, once known (on the server, for a cloud workspace).
    pub checkout_dir: Option<PathBuf>,
    /// A cloud workspace's public IPv4, once it has one.
    pub address: Option<String>,
    /// What a cloud workspace costs and has cost so far; `None` for a local one.
    pub cost: Option<Cost>,
    /// Each step with its timing, in order.
    pub steps: Vec<StepTiming>,
    /// Creation time, UNIX seconds.
    #[specta(type = f64)]
    pub created_at: i64,
}

//! What the layers above see of a cloud: the same shapes for every provider.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

/// A CPU architecture a size runs and an image is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// x86-64 (Intel, AMD).
    X86_64,
    /// 64-bit ARM (Ampere on both providers).
    Arm64,
}

impl Arch {
    /// `x86_64` or `arm64`.
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a credential may do, as far as can be told without creating anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Reads and writes (proven by a write request that failed validation, not permission).
    ReadWrite,
    /// Reads only: SAM cannot create servers with it.
    ReadOnly,
    /// Reads work; write access cannot be probed without creating something.
    ReadVerified,
}

/// A place servers can be created: a Hetzner location (`fsn1`) or a Scaleway zone
/// (`fr-par-1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The provider's id for it, used in every other call.
    pub id: String,
    /// A human name: "Falkenstein DC Park 1", "Paris 1".
    pub description: String,
    /// ISO 3166 country code.
    pub country: String,
    /// City, where the provider says.
    pub city: String,
}

/// The price of a size in one location, in the provider's currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    /// The location this price applies to.
    pub location: String,
    /// Per hour, before VAT.
    pub hourly: f64,
    /// Per month (the provider's monthly cap), before VAT.
    pub monthly: f64,
    /// Whether the provider currently has the size in stock there, where it says.
    pub available: bool,
}

/// A server type with its resources and live prices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Size {
    /// The provider's name: `cx33`, `DEV1-M`.
    pub id: String,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub memory_mib: u64,
    /// Local or included boot disk in GB (0 when the size has none and a volume is added).
    pub disk_gb: u64,
    /// CPU architecture.
    pub arch: Arch,
    /// ISO 4217 currency of `prices`.
    pub currency: String,
    /// One entry per location the size can be created in.
    pub prices: Vec<Price>,
    /// The provider announced its end; not offered for new workspaces.
    pub deprecated: bool,
}

impl Size {
    /// The price in `location`, if the size is sold there.
    pub fn price_in(&self, location: &str) -> Option<&Price> {
        self.prices.iter().find(|p| p.location == location)
    }
}

/// A bootable image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Image {
    /// The id to create a server with: a Hetzner image name or id, a Scaleway local image id.
    pub id: String,
    /// A human name: "docker-ce", "Ubuntu 24.04".
    pub name: String,
    /// Architecture.
    pub arch: Arch,
    /// Docker is installed (Hetzner's `docker-ce` app, Scaleway's Docker image), so cloud-init
    /// need not install it.
    pub docker_ready: bool,
}

/// A registered SSH key, as the provider knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SshKeyRef {
    /// The provider's id.
    pub id: String,
    /// The name it is registered under.
    pub name: String,
}

/// Where to find a server: its id and the location (zone) it lives in. Scaleway needs both
/// for every call; Hetzner ids are global but the location is kept for display and listing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct ServerId {
    /// The location or zone.
    pub location: String,
    /// The provider's id.
    pub id: String,
}

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.location, self.id)
    }
}

/// A server's life stage, mapped from each provider's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "raw")]
pub enum ServerStatus {
    /// Booting.
    Starting,
    /// Up.
    Running,
    /// Shutting down.
    Stopping,
    /// Off (also: created and not yet started, as Scaleway creates servers). Hetzner still
    /// bills a stopped server; only deletion stops the cost.
    Stopped,
    /// Being deleted.
    Deleting,
    /// A state this version of SAM does not know, with the provider's word for it.
    Unknown(String),
}

/// A server as SAM sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Server {
    /// Where it is.
    pub id: ServerId,
    /// Its name.
    pub name: String,
    /// Its life stage.
    pub status: ServerStatus,
    /// Its size.
    pub size: String,
    /// The public IPv4 address, once it has one. Scaleway assigns it after boot.
    pub ipv4: Option<Ipv4Addr>,
    /// The public IPv6 address, when there is one.
    pub ipv6: Option<Ipv6Addr>,
    /// SAM's labels on it (and any others the server carries).
    pub labels: BTreeMap<String, String>,
    /// When it was created, as the provider wrote it (RFC 3339).
    pub created: String,
}

impl Server {
    /// Running with a public IPv4: something SSH can be tried against.
    pub fn is_reachable(&self) -> bool {
        self.status == ServerStatus::Running && self.ipv4.is_some()
    }
}

/// Everything needed to create one workspace server.
#[derive(Debug)]
pub struct CreateServer {
    /// The server's name (also its hostname): lower-case letters, digits and dashes.
    pub name: String,
    /// The size id (`cx33`, `DEV1-M`); see [`crate::SizePreset`] for the defaults.
    pub size: String,
    /// The locations the user allowed, best first. A capacity error moves on to the next.
    pub locations: Vec<String>,
    /// An image id; `None` picks the provider's Docker-ready image for the size's
    /// architecture, or its newest Ubuntu.
    pub image: Option<String>,
    /// Our SSH key as registered with [`crate::CloudProvider::ensure_ssh_key`], where the
    /// provider wants it referenced at creation (Hetzner).
    pub ssh_key: Option<SshKeyRef>,
    /// The cloud-init user-data (see `sam-cloudinit`). It holds no long-lived secret, but it
    /// does carry the server's SSH host private key, so it prints as `<redacted>`.
    pub user_data: sam_secrets::Sensitive<String>,
    /// The install and workspace this server belongs to.
    pub labels: crate::Labels,
}

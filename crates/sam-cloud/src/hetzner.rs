//! Hetzner Cloud (`https://api.hetzner.cloud/v1`, bearer token).
//!
//! Endpoints used: `GET /locations`, `GET /server_types`, `GET /pricing`, `GET /images`,
//! `GET /ssh_keys`, `POST /ssh_keys`, `POST /servers`, `GET /servers`, `GET /servers/{id}`,
//! `DELETE /servers/{id}`, `POST /servers/{id}/actions/{poweron,poweroff}`,
//! `GET /actions/{id}`. Errors are `{"error":{"code","message","details"}}`; every answer
//! carries `RateLimit-Remaining`/`RateLimit-Reset`, which [`crate::http::Api`] respects.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use async_trait::async_trait;
use reqwest::header::AUTHORIZATION;
use reqwest::{Method, StatusCode};
use sam_checks::http_util::secret_header;
use serde::Deserialize;
use serde_json::json;
use url::Url;

use crate::error::{CloudError, ProviderKind, provider_text};
use crate::http::{Api, Body, Repeat, Reply, Request, parse_json, retry_after};
use crate::labels::Selector;
use crate::model::{
    Access, Arch, CreateServer, Image, Location, Price, Server, ServerId, ServerStatus, Size,
    SshKeyRef,
};
use crate::provider::{CloudProvider, PowerAction, key_blob, poll_until};
use crate::timing::Timing;

const KIND: ProviderKind = ProviderKind::Hetzner;
/// Hetzner's largest page.
const PER_PAGE: &str = "50";
/// Pages read at most for one listing (2,500 entries): a bound on a provider that keeps
/// saying there is a next page.
const MAX_PAGES: u32 = 50;

/// A Hetzner Cloud client for one project (one API token).
#[derive(Debug)]
pub struct Hetzner {
    api: Api,
}

impl Hetzner {
    /// A client for the API at `base` (`https://api.hetzner.cloud/v1`, or a test server).
    ///
    /// # Errors
    /// When the token cannot be sent in a header, or the HTTP client cannot be built.
    pub fn new(base: Url, token: &str, timing: Timing) -> Result<Self, CloudError> {
        let value = secret_header(&format!("Bearer {}", token.trim())).ok_or_else(|| {
            CloudError::invalid(KIND, "the API token contains characters no token has")
        })?;
        Ok(Self {
            api: Api::new(KIND, base, (AUTHORIZATION, value), timing, parse_error)?,
        })
    }

    /// Every page of a listing, following `meta.pagination.next_page`.
    async fn all_pages<T: for<'de> Deserialize<'de>>(
        &self,
        path: &[&str],
        query: &[(&'static str, String)],
        pick: impl Fn(Page<T>) -> (Vec<T>, Option<u32>),
    ) -> Result<Vec<T>, CloudError>
    where
        Page<T>: for<'de> Deserialize<'de>,
    {
        let mut items = Vec::new();
        let mut page = 1u32;
        loop {
            let mut request = Request::get(path)
                .query("page", page.to_string())
                .query("per_page", PER_PAGE);
            for (name, value) in query {
                request = request.query(name, value.clone());
            }
            let (mut batch, next) = pick(self.api.json::<Page<T>>(&request).await?);
            items.append(&mut batch);
            match next {
                Some(next) if next > page && next <= MAX_PAGES => page = next,
                _ => return Ok(items),
            }
        }
    }

    async fn wait_for_action(&self, action: &WireAction, what: &str) -> Result<(), CloudError> {
        let id = action.id.to_string();
        let path = ["actions", id.as_str()];
        let finished = poll_until(KIND, self.api.timing(), what, || async {
            let reply: ActionReply = self.api.json(&Request::get(&path)).await?;
            Ok(match reply.action.status.as_str() {
                "running" => None,
                _ => Some(reply.action),
            })
        })
        .await?;
        match finished.status.as_str() {
            "success" => Ok(()),
            _ => Err(CloudError::ActionFailed {
                provider: KIND,
                what: what.to_owned(),
                message: finished
                    .error
                    .map(|e| provider_text(&format!("{} ({})", e.message, e.code)))
                    .unwrap_or_else(|| format!("status {}", finished.status)),
            }),
        }
    }
}

#[async_trait]
impl CloudProvider for Hetzner {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn timing(&self) -> &Timing {
        self.api.timing()
    }

    async fn validate(&self) -> Result<Access, CloudError> {
        self.api
            .json::<serde_json::Value>(&Request::get(&["locations"]).query("per_page", "1"))
            .await?;
        // A create request that fails validation: 403 means read-only, the validation error
        // means the token may write. Nothing is created either way.
        let probe = Request::new(
            Method::POST,
            &["ssh_keys"],
            Body::Json(json!({})),
            Repeat::IfNotApplied,
        );
        match self.api.send(&probe, |_| Ok(())).await {
            Err(CloudError::Forbidden { .. }) => Ok(Access::ReadOnly),
            Err(CloudError::InvalidRequest { .. }) | Ok(()) => Ok(Access::ReadWrite),
            Err(other) => Err(other),
        }
    }

    async fn locations(&self) -> Result<Vec<Location>, CloudError> {
        let locations: Vec<WireLocation> = self
            .all_pages(&["locations"], &[], |p: Page<WireLocation>| {
                (p.locations, p.meta.next())
            })
            .await?;
        Ok(locations
            .into_iter()
            .map(|l| Location {
                id: l.name,
                description: l.description,
                country: l.country,
                city: l.city,
            })
            .collect())
    }

    async fn sizes(&self, location: Option<&str>) -> Result<Vec<Size>, CloudError> {
        let types: Vec<WireServerType> = self
            .all_pages(&["server_types"], &[], |p: Page<WireServerType>| {
                (p.server_types, p.meta.next())
            })
            .await?;
        let pricing: PricingReply = self.api.json(&Request::get(&["pricing"])).await?;
        let sizes = sizes_from(types, pricing.pricing, location)?;
        if let Some(location) = location
            && sizes.is_empty()
            && !self.locations().await?.iter().any(|l| l.id == location)
        {
            return Err(CloudError::invalid(
                KIND,
                format!("unknown location \"{location}\""),
            ));
        }
        Ok(sizes)
    }

    async fn images(&self, _location: &str, arch: Arch) -> Result<Vec<Image>, CloudError> {
        let wire_arch = match arch {
            Arch::X86_64 => "x86",
            Arch::Arm64 => "arm",
        };
        let mut images = Vec::new();
        for kind in ["app", "system"] {
            let query = [
                ("type", kind.to_owned()),
                ("architecture", wire_arch.to_owned()),
                ("status", "available".to_owned()),
            ];
            let found: Vec<WireImage> = self
                .all_pages(&["images"], &query, |p: Page<WireImage>| {
                    (p.images, p.meta.next())
                })
                .await?;
            for image in found {
                let Some(name) = image.name else { continue };
                let suitable = match kind {
                    "app" => name == "docker-ce",
                    _ => matches!(image.os_flavor.as_deref(), Some("ubuntu" | "debian")),
                };
                if !suitable || image.deprecated.is_some() {
                    continue;
                }
                images.push(Image {
                    docker_ready: kind == "app",
                    id: name,
                    name: image.description.unwrap_or_default(),
                    arch,
                });
            }
        }
        // Docker-ready first, then newest system image first (names sort by version).
        images.sort_by(|a, b| b.docker_ready.cmp(&a.docker_ready).then(b.id.cmp(&a.id)));
        Ok(images)
    }

    async fn ensure_ssh_key(&self, name: &str, public_key: &str) -> Result<SshKeyRef, CloudError> {
        let wanted = key_blob(public_key)
            .ok_or_else(|| CloudError::invalid(KIND, "the SSH public key is not valid"))?;
        let keys: Vec<WireSshKey> = self
            .all_pages(&["ssh_keys"], &[], |p: Page<WireSshKey>| {
                (p.ssh_keys, p.meta.next())
            })
            .await?;
        if let Some(key) = keys
            .iter()
            .find(|k| key_blob(&k.public_key).as_deref() == Some(wanted.as_str()))
        {
            return Ok(SshKeyRef {
                id: key.id.to_string(),
                name: key.name.clone(),
            });
        }
        // The name may be taken by another key (another install): add a suffix.
        let taken = |n: &str| keys.iter().any(|k| k.name == n);
        let mut chosen = name.to_owned();
        let mut n = 2;
        while taken(&chosen) {
            chosen = format!("{name}-{n}");
            n += 1;
        }
        let request = Request::new(
            Method::POST,
            &["ssh_keys"],
            Body::Json(json!({ "name": chosen, "public_key": public_key.trim() })),
            Repeat::IfNotApplied,
        );
        let created: SshKeyReply = self.api.json(&request).await?;
        Ok(SshKeyRef {
            id: created.ssh_key.id.to_string(),
            name: created.ssh_key.name,
        })
    }

    async fn create_in(
        &self,
        request: &CreateServer,
        location: &str,
        image: &str,
    ) -> Result<Server, CloudError> {
        let ssh_keys: Vec<serde_json::Value> = request
            .ssh_key
            .iter()
            .map(|k| {
                k.id.parse::<u64>()
                    .map_or_else(|_| json!(k.name), |id| json!(id))
            })
            .collect();
        let body = json!({
            "name": request.name,
            "server_type": request.size,
            "location": location,
            "image": image,
            "ssh_keys": ssh_keys,
            "user_data": request.user_data.expose(),
            "labels": request.labels.to_map(),
            "start_after_create": true,
            "public_net": { "enable_ipv4": true, "enable_ipv6": true },
        });
        let create = Request::new(
            Method::POST,
            &["servers"],
            Body::Json(body),
            Repeat::IfNotApplied,
        );
        let created: CreateReply = self
            .api
            .json(&create)
            .await
            .map_err(|e| capacity_with_location(e, location))?;
        let server = created.server.into_server()?;
        if let Err(error) = self
            .wait_for_action(&created.action, "creating the server")
            .await
        {
            // A server whose creation failed must not stay behind, billed.
            if !error.is_transient() {
                let _ = self.delete_server(&server.id).await;
            }
            return Err(error);
        }
        Ok(self.server(&server.id).await?.unwrap_or(server))
    }

    async fn resume_create(
        &self,
        server: Server,
        _request: &CreateServer,
    ) -> Result<Server, CloudError> {
        // Hetzner creates and starts in one request: a server that exists needs nothing more.
        Ok(server)
    }

    async fn server(&self, id: &ServerId) -> Result<Option<Server>, CloudError> {
        let path = ["servers", id.id.as_str()];
        match self.api.json::<ServerReply>(&Request::get(&path)).await {
            Ok(reply) => reply.server.into_server().map(Some),
            Err(CloudError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn servers(&self, selector: &Selector) -> Result<Vec<Server>, CloudError> {
        let label_selector = selector
            .terms()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let found: Vec<WireServer> = self
            .all_pages(
                &["servers"],
                &[("label_selector", label_selector)],
                |p: Page<WireServer>| (p.servers, p.meta.next()),
            )
            .await?;
        let mut servers = Vec::new();
        for server in found {
            let server = server.into_server()?;
            if selector.matches(&server.labels) {
                servers.push(server);
            }
        }
        Ok(servers)
    }

    async fn delete_server(&self, id: &ServerId) -> Result<(), CloudError> {
        let path = ["servers", id.id.as_str()];
        let request = Request::new(Method::DELETE, &path, Body::None, Repeat::Safe);
        match self.api.json::<ActionReply>(&request).await {
            Ok(reply) => {
                self.wait_for_action(&reply.action, "deleting the server")
                    .await
            }
            Err(CloudError::NotFound { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn power(&self, id: &ServerId, action: PowerAction) -> Result<(), CloudError> {
        let verb = match action {
            PowerAction::On => "poweron",
            PowerAction::Off => "poweroff",
        };
        let path = ["servers", id.id.as_str(), "actions", verb];
        // Powering on twice leaves a server on: safe to repeat.
        let request = Request::new(Method::POST, &path, Body::Json(json!({})), Repeat::Safe);
        let reply: ActionReply = self.api.json(&request).await?;
        self.wait_for_action(&reply.action, &format!("{verb} of server {id}"))
            .await
    }
}

/// Sizes from the server types and the live price list; only those sold in `location` when
/// given. Pure, so the fuzz tests can feed it anything.
fn sizes_from(
    types: Vec<WireServerType>,
    pricing: WirePricing,
    location: Option<&str>,
) -> Result<Vec<Size>, CloudError> {
    let prices: BTreeMap<String, Vec<WirePrice>> = pricing
        .server_types
        .into_iter()
        .map(|t| (t.name, t.prices))
        .collect();
    let mut sizes = Vec::new();
    for server_type in types {
        // The pricing API is the live price list; a type it does not mention falls back
        // to the prices embedded in the server type.
        let wire_prices = prices
            .get(&server_type.name)
            .cloned()
            .unwrap_or(server_type.prices);
        let mut prices = Vec::new();
        for price in wire_prices {
            if location.is_some_and(|l| l != price.location) {
                continue;
            }
            prices.push(Price {
                hourly: amount(&price.price_hourly.net)?,
                monthly: amount(&price.price_monthly.net)?,
                location: price.location,
                available: true,
            });
        }
        if location.is_some() && prices.is_empty() {
            continue;
        }
        sizes.push(Size {
            id: server_type.name,
            vcpus: server_type.cores,
            memory_mib: gib_to_mib(server_type.memory),
            disk_gb: server_type.disk.max(0.0).round() as u64,
            arch: arch(&server_type.architecture)?,
            currency: pricing.currency.clone(),
            prices,
            deprecated: server_type.deprecated.unwrap_or(false)
                || server_type.deprecation.is_some(),
        });
    }
    Ok(sizes)
}

/// A capacity error names the location it happened in.
fn capacity_with_location(error: CloudError, location: &str) -> CloudError {
    match error {
        CloudError::Capacity {
            provider, message, ..
        } => CloudError::Capacity {
            provider,
            locations: location.to_owned(),
            message,
        },
        other => other,
    }
}

/// Hetzner's error body to a [`CloudError`].
fn parse_error(provider: ProviderKind, reply: &Reply, now: u64) -> CloudError {
    let parsed: Option<ErrorReply> = serde_json::from_slice(&reply.body).ok();
    let (code, message) = parsed
        .map(|e| (e.error.code, provider_text(&e.error.message)))
        .unwrap_or_else(|| (String::new(), format!("HTTP {}", reply.status.as_u16())));
    let status = reply.status;
    match (status, code.as_str()) {
        (_, "unauthorized") | (StatusCode::UNAUTHORIZED, _) => {
            CloudError::Unauthorized { provider }
        }
        (_, "rate_limit_exceeded") | (StatusCode::TOO_MANY_REQUESTS, _) => {
            CloudError::RateLimited {
                provider,
                retry_after: retry_after(reply, now),
            }
        }
        (_, "resource_limit_exceeded") => CloudError::QuotaExceeded { provider, message },
        (_, "resource_unavailable" | "placement_error") => CloudError::Capacity {
            provider,
            locations: String::new(),
            message,
        },
        (_, "forbidden" | "token_readonly" | "protected") | (StatusCode::FORBIDDEN, _) => {
            CloudError::Forbidden { provider, message }
        }
        (_, "not_found") | (StatusCode::NOT_FOUND, _) => CloudError::NotFound {
            provider,
            what: message,
        },
        (_, "locked" | "conflict" | "maintenance" | "unavailable" | "timeout" | "server_error")
        | (StatusCode::CONFLICT | StatusCode::LOCKED, _) => CloudError::Unavailable {
            provider,
            status: status.as_u16(),
            message,
        },
        _ if status.is_server_error() => CloudError::Unavailable {
            provider,
            status: status.as_u16(),
            message,
        },
        _ => CloudError::InvalidRequest { provider, message },
    }
}

fn amount(text: &str) -> Result<f64, CloudError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| CloudError::unexpected(KIND, "a price that is not a number"))
}

fn gib_to_mib(gib: f64) -> u64 {
    (gib.max(0.0) * 1024.0).round() as u64
}

fn arch(wire: &str) -> Result<Arch, CloudError> {
    match wire {
        "x86" => Ok(Arch::X86_64),
        "arm" => Ok(Arch::Arm64),
        other => Err(CloudError::unexpected(
            KIND,
            format!("unknown architecture \"{}\"", provider_text(other)),
        )),
    }
}

// ---- wire shapes (only the fields SAM reads; unknown fields are ignored) ----

#[derive(Debug, Deserialize)]
struct Meta {
    pagination: Pagination,
}

impl Meta {
    fn next(&self) -> Option<u32> {
        self.pagination.next_page
    }
}

#[derive(Debug, Deserialize)]
struct Pagination {
    next_page: Option<u32>,
}

/// A page of any listing: the one field present is the listing asked for.
#[derive(Debug, Deserialize)]
pub(crate) struct Page<T> {
    #[serde(default = "Vec::new")]
    locations: Vec<T>,
    #[serde(default = "Vec::new")]
    server_types: Vec<T>,
    #[serde(default = "Vec::new")]
    images: Vec<T>,
    #[serde(default = "Vec::new")]
    ssh_keys: Vec<T>,
    #[serde(default = "Vec::new")]
    servers: Vec<T>,
    meta: Meta,
}

#[derive(Debug, Deserialize)]
struct ErrorReply {
    error: WireError,
}

#[derive(Debug, Deserialize)]
struct WireError {
    code: String,
    message: String,
}

#[derive(Debug, Deserialize)]
struct WireLocation {
    name: String,
    description: String,
    country: String,
    city: String,
}

#[derive(Debug, Clone, Deserialize)]
struct WireAmount {
    net: String,
}

#[derive(Debug, Clone, Deserialize)]
struct WirePrice {
    location: String,
    price_hourly: WireAmount,
    price_monthly: WireAmount,
}

#[derive(Debug, Deserialize)]
struct WireServerType {
    name: String,
    cores: u32,
    memory: f64,
    disk: f64,
    architecture: String,
    deprecated: Option<bool>,
    #[serde(default)]
    deprecation: Option<serde_json::Value>,
    #[serde(default)]
    prices: Vec<WirePrice>,
}

#[derive(Debug, Deserialize)]
struct PricingReply {
    pricing: WirePricing,
}

#[derive(Debug, Deserialize)]
struct WirePricing {
    currency: String,
    server_types: Vec<WirePricedType>,
}

#[derive(Debug, Deserialize)]
struct WirePricedType {
    name: String,
    prices: Vec<WirePrice>,
}

#[derive(Debug, Deserialize)]
struct WireImage {
    name: Option<String>,
    description: Option<String>,
    os_flavor: Option<String>,
    deprecated: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireSshKey {
    id: u64,
    name: String,
    public_key: String,
}

#[derive(Debug, Deserialize)]
struct SshKeyReply {
    ssh_key: WireSshKey,
}

#[derive(Debug, Deserialize)]
struct WireAction {
    id: u64,
    status: String,
    error: Option<WireError>,
}

#[derive(Debug, Deserialize)]
struct ActionReply {
    action: WireAction,
}

#[derive(Debug, Deserialize)]
struct CreateReply {
    server: WireServer,
    action: WireAction,
}

#[derive(Debug, Deserialize)]
struct ServerReply {
    server: WireServer,
}

#[derive(Debug, Deserialize)]
struct NamedRef {
    name: String,
}

#[derive(Debug, Deserialize)]
struct Datacenter {
    location: NamedRef,
}

#[derive(Debug, Deserialize)]
struct WireIp {
    ip: String,
}

#[derive(Debug, Deserialize)]
struct PublicNet {
    ipv4: Option<WireIp>,
    ipv6: Option<WireIp>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireServer {
    id: u64,
    name: String,
    status: String,
    created: String,
    public_net: PublicNet,
    server_type: NamedRef,
    /// Newer answers carry the location at the top level; older ones only in the datacenter.
    #[serde(default)]
    location: Option<NamedRef>,
    #[serde(default)]
    datacenter: Option<Datacenter>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

impl WireServer {
    fn into_server(self) -> Result<Server, CloudError> {
        let location = self
            .location
            .map(|l| l.name)
            .or_else(|| self.datacenter.map(|d| d.location.name))
            .ok_or_else(|| CloudError::unexpected(KIND, "a server without a location"))?;
        let ipv4 = match self.public_net.ipv4 {
            Some(ip) => Some(ip.ip.parse::<Ipv4Addr>().map_err(|_| {
                CloudError::unexpected(KIND, "a server IPv4 address that is not one")
            })?),
            None => None,
        };
        // Hetzner gives the server a /64; SAM uses its first address (`::1`).
        let ipv6 = self.public_net.ipv6.and_then(|net| {
            let prefix = net.ip.split('/').next()?.parse::<Ipv6Addr>().ok()?;
            let mut segments = prefix.segments();
            segments[7] = 1;
            Some(Ipv6Addr::from(segments))
        });
        Ok(Server {
            id: ServerId {
                location,
                id: self.id.to_string(),
            },
            name: self.name,
            status: status(&self.status),
            size: self.server_type.name,
            ipv4,
            ipv6,
            labels: self.labels,
            created: self.created,
        })
    }
}

fn status(wire: &str) -> ServerStatus {
    match wire {
        "initializing" | "starting" => ServerStatus::Starting,
        "running" => ServerStatus::Running,
        "stopping" => ServerStatus::Stopping,
        "off" => ServerStatus::Stopped,
        "deleting" => ServerStatus::Deleting,
        other => ServerStatus::Unknown(provider_text(other)),
    }
}

/// Parses a server answer: for the fuzz tests, which feed it arbitrary bytes.
#[doc(hidden)]
pub fn parse_server_for_fuzzing(body: &[u8]) -> Result<Server, CloudError> {
    parse_json::<ServerReply>(KIND, body)?.server.into_server()
}

/// Parses a server-type page and a price list into sizes: for the fuzz tests.
#[doc(hidden)]
pub fn parse_sizes_for_fuzzing(
    types: &[u8],
    pricing: &[u8],
    location: Option<&str>,
) -> Result<Vec<Size>, CloudError> {
    let types = parse_json::<Page<WireServerType>>(KIND, types)?.server_types;
    let pricing = parse_json::<PricingReply>(KIND, pricing)?.pricing;
    sizes_from(types, pricing, location)
}

/// Parses an error answer: for the fuzz tests.
#[doc(hidden)]
pub fn parse_error_for_fuzzing(status: u16, body: &[u8]) -> CloudError {
    parse_error(KIND, &Reply::bare(status, body), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_blobs_ignore_comments() {
        assert_eq!(
            key_blob("ssh-ed25519 AAAAC3 sam-desktop").as_deref(),
            Some("ssh-ed25519 AAAAC3")
        );
        assert_eq!(key_blob("ssh-ed25519"), None);
    }

    #[test]
    fn unknown_status_is_kept() {
        assert_eq!(
            status("migrating"),
            ServerStatus::Unknown("migrating".into())
        );
        assert_eq!(status("off"), ServerStatus::Stopped);
    }

    #[test]
    fn header_value_of_token_is_sensitive() {
        let value = secret_header("Bearer x").unwrap();
        assert!(value.is_sensitive());
    }
}

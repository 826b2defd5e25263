//! Scaleway Instances (`https://api.scaleway.com/instance/v1/zones/{zone}`, `X-Auth-Token`).
//!
//! A server is created stopped with its tags, gets its cloud-init with
//! `PATCH …/servers/{id}/user_data/cloud-init` (text/plain), is powered on with the `poweron`
//! action, and receives its public IP only after boot. It is deleted with the `terminate`
//! action (running) or `DELETE` (stopped).
//!
//! Endpoints used: `GET …/products/servers`, `GET …/products/servers/availability`,
//! `GET|POST …/servers`, `GET|DELETE …/servers/{id}`, `PATCH …/servers/{id}/user_data/cloud-init`,
//! `POST …/servers/{id}/action`, `GET /marketplace/v2/local-images`, and the IAM API's
//! `GET|POST /iam/v1alpha1/ssh-keys`. Errors are flat objects with a `type` and a `message`.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use async_trait::async_trait;
use futures_util::future::join_all;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use sam_checks::http_util::{header_u64, secret_header};
use serde::Deserialize;
use serde_json::json;
use url::Url;

use crate::error::{CloudError, ProviderKind, provider_text};
use crate::http::{Api, Body, Repeat, Reply, Request, parse_json, retry_after};
use crate::labels::{Selector, from_tags, to_tags};
use crate::model::{
    Access, Arch, CreateServer, Image, Location, Price, Server, ServerId, ServerStatus, Size,
    SshKeyRef,
};
use crate::provider::{CloudProvider, PowerAction, key_blob, poll_until};
use crate::timing::Timing;

const KIND: ProviderKind = ProviderKind::Scaleway;
const PER_PAGE: u64 = 100;
const MAX_PAGES: u64 = 50;
/// Scaleway bills a month as 730 hours when its catalogue has no monthly price (the field is
/// deprecated in the API).
const HOURS_PER_MONTH: f64 = 730.0;

/// The Instance API's zones (the published enumeration), with their cities.
const ZONES: [(&str, &str, &str); 10] = [
    ("fr-par-1", "Paris 1", "FR"),
    ("fr-par-2", "Paris 2", "FR"),
    ("fr-par-3", "Paris 3", "FR"),
    ("nl-ams-1", "Amsterdam 1", "NL"),
    ("nl-ams-2", "Amsterdam 2", "NL"),
    ("nl-ams-3", "Amsterdam 3", "NL"),
    ("pl-waw-1", "Warsaw 1", "PL"),
    ("pl-waw-2", "Warsaw 2", "PL"),
    ("pl-waw-3", "Warsaw 3", "PL"),
    ("it-mil-1", "Milan 1", "IT"),
];

/// Marketplace labels SAM boots from, best first: Docker preinstalled, then plain systems.
const IMAGE_LABELS: [(&str, &str, bool); 3] = [
    ("docker", "Docker", true),
    ("ubuntu_noble", "Ubuntu 24.04", false),
    ("debian_bookworm", "Debian 12", false),
];

/// A Scaleway client for one project.
#[derive(Debug)]
pub struct Scaleway {
    api: Api,
    project: String,
}

impl Scaleway {
    /// A client for the API root at `base` (`https://api.scaleway.com`, or a test server),
    /// with the secret key and the project servers are created in.
    ///
    /// # Errors
    /// When the key cannot be sent in a header, the project id is not a UUID, or the HTTP
    /// client cannot be built.
    pub fn new(
        base: Url,
        secret_key: &str,
        project: &str,
        timing: Timing,
    ) -> Result<Self, CloudError> {
        let value: HeaderValue = secret_header(secret_key.trim()).ok_or_else(|| {
            CloudError::invalid(KIND, "the secret key contains characters no key has")
        })?;
        let project = project.trim();
        if !is_uuid(project) {
            return Err(CloudError::invalid(
                KIND,
                "the project id must be a UUID (Scaleway console → Project settings)",
            ));
        }
        Ok(Self {
            api: Api::new(
                KIND,
                base,
                (HeaderName::from_static("x-auth-token"), value),
                timing,
                parse_error,
            )?,
            project: project.to_owned(),
        })
    }

    fn check_zone(zone: &str) -> Result<(), CloudError> {
        if ZONES.iter().any(|(z, ..)| *z == zone) {
            Ok(())
        } else {
            let known: Vec<&str> = ZONES.iter().map(|(z, ..)| *z).collect();
            Err(CloudError::invalid(
                KIND,
                format!("unknown zone \"{zone}\"; Scaleway has {}", known.join(", ")),
            ))
        }
    }

    /// Every page of a listing, following `X-Total-Count`.
    async fn all_pages<R, I>(
        &self,
        path: &[&str],
        query: &[(&'static str, String)],
        items: impl Fn(R) -> Vec<I>,
    ) -> Result<Vec<I>, CloudError>
    where
        R: serde::de::DeserializeOwned,
    {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            let mut request = Request::get(path)
                .query("page", page.to_string())
                .query("per_page", PER_PAGE.to_string());
            for (name, value) in query {
                request = request.query(name, value.clone());
            }
            let (reply, total): (R, Option<u64>) = self
                .api
                .send(&request, |reply| {
                    Ok((
                        parse_json(KIND, &reply.body)?,
                        header_u64(&reply.headers, "x-total-count"),
                    ))
                })
                .await?;
            let batch = items(reply);
            let got = batch.len();
            all.extend(batch);
            if got == 0 || total.is_none_or(|t| all.len() as u64 >= t) || page >= MAX_PAGES {
                return Ok(all);
            }
            page += 1;
        }
    }

    async fn zone_sizes(&self, zone: &str) -> Result<Vec<Size>, CloudError> {
        let path = ["instance", "v1", "zones", zone, "products", "servers"];
        let catalogue: Vec<(String, WireServerType)> = self
            .all_pages(&path, &[], |reply: ServerTypesReply| {
                reply.servers.into_iter().collect()
            })
            .await?;
        let path = [
            "instance",
            "v1",
            "zones",
            zone,
            "products",
            "servers",
            "availability",
        ];
        // Availability is advisory: a failure to read it must not hide the catalogue.
        let availability: HashMap<String, String> = match self
            .api
            .json::<AvailabilityReply>(&Request::get(&path))
            .await
        {
            Ok(reply) => reply
                .servers
                .into_iter()
                .map(|(name, a)| (name, a.availability))
                .collect(),
            Err(error) if error.is_transient() => HashMap::new(),
            Err(error) => return Err(error),
        };
        sizes_from(zone, catalogue, &availability)
    }

    /// This install's servers in one zone, in every project the key can see: a server created
    /// before the user changed the default project is still ours to find and delete.
    async fn zone_servers(
        &self,
        zone: &str,
        selector: &Selector,
    ) -> Result<Vec<Server>, CloudError> {
        let tags = selector
            .terms()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let path = ["instance", "v1", "zones", zone, "servers"];
        let wire: Vec<WireServer> = self
            .all_pages(&path, &[("tags", tags)], |reply: ServersReply| {
                reply.servers
            })
            .await?;
        let mut servers = wire
            .into_iter()
            .map(WireServer::into_server)
            .collect::<Result<Vec<_>, _>>()?;
        servers.retain(|s| selector.matches(&s.labels));
        Ok(servers)
    }

    async fn action(&self, id: &ServerId, action: &str) -> Result<(), CloudError> {
        let path = server_path(id, &["action"]);
        let request = Request::new(
            Method::POST,
            &path,
            Body::Json(json!({ "action": action })),
            Repeat::IfNotApplied,
        );
        self.api.send(&request, |_| Ok(())).await
    }

    async fn set_user_data(&self, id: &ServerId, user_data: &str) -> Result<(), CloudError> {
        let path = server_path(id, &["user_data", "cloud-init"]);
        let request = Request::new(
            Method::PATCH,
            &path,
            Body::Text(user_data.to_owned()),
            Repeat::Safe,
        );
        self.api.send(&request, |_| Ok(())).await
    }

    /// Waits until the server's state satisfies `done` (or it is gone, when `gone_ok`).
    async fn wait_for_state(
        &self,
        id: &ServerId,
        what: &str,
        gone_ok: bool,
        done: impl Fn(&ServerStatus) -> bool + Send + Sync,
    ) -> Result<(), CloudError> {
        poll_until(KIND, self.api.timing(), what, || async {
            match self.server(id).await? {
                None if gone_ok => Ok(Some(())),
                None => Err(CloudError::NotFound {
                    provider: KIND,
                    what: format!("server {id}"),
                }),
                Some(server) if done(&server.status) => Ok(Some(())),
                Some(_) => Ok(None),
            }
        })
        .await
    }
}

#[async_trait]
impl CloudProvider for Scaleway {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn timing(&self) -> &Timing {
        self.api.timing()
    }

    async fn validate(&self) -> Result<Access, CloudError> {
        let (zone, ..) = ZONES[0];
        let path = ["instance", "v1", "zones", zone, "servers"];
        let request = Request::get(&path)
            .query("project", self.project.clone())
            .query("per_page", "1");
        self.api.json::<serde_json::Value>(&request).await?;
        // Scaleway has no request that proves write access without creating something.
        Ok(Access::ReadVerified)
    }

    async fn locations(&self) -> Result<Vec<Location>, CloudError> {
        // The Instance API has no zone listing; its zones are a published enumeration.
        Ok(ZONES
            .iter()
            .map(|(id, city, country)| Location {
                id: (*id).to_owned(),
                description: format!("{city} ({id})"),
                country: (*country).to_owned(),
                city: city
                    .trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ')
                    .to_owned(),
            })
            .collect())
    }

    async fn sizes(&self, location: Option<&str>) -> Result<Vec<Size>, CloudError> {
        if let Some(zone) = location {
            Self::check_zone(zone)?;
            return self.zone_sizes(zone).await;
        }
        let per_zone = join_all(ZONES.iter().map(|(zone, ..)| self.zone_sizes(zone))).await;
        let mut merged: BTreeMap<String, Size> = BTreeMap::new();
        for sizes in per_zone {
            for size in sizes? {
                match merged.get_mut(&size.id) {
                    Some(known) => known.prices.extend(size.prices),
                    None => {
                        merged.insert(size.id.clone(), size);
                    }
                }
            }
        }
        Ok(merged.into_values().collect())
    }

    async fn images(&self, location: &str, arch: Arch) -> Result<Vec<Image>, CloudError> {
        Self::check_zone(location)?;
        let wire_arch = arch.as_str();
        let path = ["marketplace", "v2", "local-images"];
        let mut images = Vec::new();
        for (label, name, docker_ready) in IMAGE_LABELS {
            let request = Request::get(&path)
                .query("image_label", label)
                .query("zone", location)
                .query("type", "instance_sbs");
            let reply: LocalImagesReply = self.api.json(&request).await?;
            if let Some(image) = reply
                .local_images
                .into_iter()
                .find(|i| i.arch == wire_arch && i.zone == location)
            {
                images.push(Image {
                    id: image.id,
                    name: name.to_owned(),
                    arch,
                    docker_ready,
                });
            }
        }
        Ok(images)
    }

    async fn ensure_ssh_key(&self, name: &str, public_key: &str) -> Result<SshKeyRef, CloudError> {
        let wanted = key_blob(public_key)
            .ok_or_else(|| CloudError::invalid(KIND, "the SSH public key is not valid"))?;
        let path = ["iam", "v1alpha1", "ssh-keys"];
        let mut keys = Vec::new();
        let mut page = 1;
        loop {
            let request = Request::get(&path)
                .query("project_id", self.project.clone())
                .query("page", page.to_string())
                .query("page_size", PER_PAGE.to_string());
            let reply: SshKeysReply = self.api.json(&request).await?;
            let got = reply.ssh_keys.len() as u64;
            keys.extend(reply.ssh_keys);
            if got == 0 || keys.len() as u64 >= reply.total_count || page >= MAX_PAGES {
                break;
            }
            page += 1;
        }
        if let Some(key) = keys
            .iter()
            .find(|k| key_blob(&k.public_key).as_deref() == Some(wanted.as_str()))
        {
            return Ok(SshKeyRef {
                id: key.id.clone(),
                name: key.name.clone(),
            });
        }
        let request = Request::new(
            Method::POST,
            &path,
            Body::Json(json!({
                "name": name, "public_key": public_key.trim(), "project_id": self.project,
            })),
            Repeat::IfNotApplied,
        );
        let key: WireSshKey = self.api.json(&request).await?;
        Ok(SshKeyRef {
            id: key.id,
            name: key.name,
        })
    }

    async fn create_in(
        &self,
        request: &CreateServer,
        location: &str,
        image: &str,
    ) -> Result<Server, CloudError> {
        Self::check_zone(location)?;
        let path = ["instance", "v1", "zones", location, "servers"];
        let body = json!({
            "name": request.name,
            "commercial_type": request.size,
            "image": image,
            "project": self.project,
            "tags": to_tags(&request.labels.to_map()),
            "dynamic_ip_required": true,
            "boot_type": "local",
        });
        let create = Request::new(Method::POST, &path, Body::Json(body), Repeat::IfNotApplied);
        let created: ServerReply = self.api.json(&create).await.map_err(|e| match e {
            CloudError::Capacity {
                provider, message, ..
            } => CloudError::Capacity {
                provider,
                locations: location.to_owned(),
                message,
            },
            other => other,
        })?;
        let server = created.server.into_server()?;
        let id = server.id.clone();
        match self.resume_create(server, request).await {
            Ok(server) => Ok(server),
            Err(error) if !error.is_transient() => {
                // It will never boot as asked: do not leave it behind.
                if let Err(cleanup) = self.delete_server(&id).await {
                    tracing::warn!(server = %id, code = cleanup.code(), "could not delete a server whose set-up failed");
                }
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    async fn resume_create(
        &self,
        server: Server,
        request: &CreateServer,
    ) -> Result<Server, CloudError> {
        if server.status != ServerStatus::Stopped {
            return Ok(server);
        }
        // Setting the same user-data again is harmless, so a resumed creation simply redoes it.
        self.set_user_data(&server.id, request.user_data.expose())
            .await?;
        if let Err(error) = self.action(&server.id, "poweron").await {
            // A poweron that was applied before the connection dropped leaves the server
            // starting; only a server still stopped means it did not happen.
            match self.server(&server.id).await? {
                Some(now) if now.status != ServerStatus::Stopped => return Ok(now),
                _ => return Err(error),
            }
        }
        Ok(self.server(&server.id).await?.unwrap_or(server))
    }

    async fn server(&self, id: &ServerId) -> Result<Option<Server>, CloudError> {
        Self::check_zone(&id.location)?;
        let path = server_path(id, &[]);
        match self.api.json::<ServerReply>(&Request::get(&path)).await {
            Ok(reply) => reply.server.into_server().map(Some),
            Err(CloudError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn servers(&self, selector: &Selector) -> Result<Vec<Server>, CloudError> {
        let per_zone = join_all(
            ZONES
                .iter()
                .map(|(zone, ..)| self.zone_servers(zone, selector)),
        )
        .await;
        let mut servers = Vec::new();
        for zone in per_zone {
            servers.extend(zone?);
        }
        Ok(servers)
    }

    async fn delete_server(&self, id: &ServerId) -> Result<(), CloudError> {
        let Some(server) = self.server(id).await? else {
            return Ok(());
        };
        match server.status {
            ServerStatus::Stopped => {
                let path = server_path(id, &[]);
                let request = Request::new(Method::DELETE, &path, Body::None, Repeat::Safe);
                match self.api.send(&request, |_| Ok(())).await {
                    Ok(()) | Err(CloudError::NotFound { .. }) => {}
                    Err(error) => return Err(error),
                }
            }
            // Terminate deletes the server with its volumes and dynamic IP.
            _ => match self.action(id, "terminate").await {
                Ok(()) | Err(CloudError::NotFound { .. }) => {}
                Err(error) if error.is_transient() => {
                    tracing::info!(server = %id, code = error.code(), "terminate interrupted; checking whether it was applied");
                }
                Err(error) => return Err(error),
            },
        }
        self.wait_for_state(id, "deleting the server", true, |_| false)
            .await
    }

    async fn power(&self, id: &ServerId, action: PowerAction) -> Result<(), CloudError> {
        let (verb, target) = match action {
            PowerAction::On => ("poweron", ServerStatus::Running),
            PowerAction::Off => ("poweroff", ServerStatus::Stopped),
        };
        let current = self.server(id).await?.ok_or_else(|| CloudError::NotFound {
            provider: KIND,
            what: format!("server {id}"),
        })?;
        if current.status != target {
            self.action(id, verb).await?;
        }
        self.wait_for_state(id, &format!("{verb} of server {id}"), false, |s| {
            *s == target
        })
        .await
    }
}

/// Sizes of one zone from its catalogue and availability. Pure, so the fuzz tests can feed it
/// anything.
fn sizes_from(
    zone: &str,
    catalogue: Vec<(String, WireServerType)>,
    availability: &HashMap<String, String>,
) -> Result<Vec<Size>, CloudError> {
    let mut sizes = Vec::new();
    for (name, wire) in catalogue {
        let Some(arch) = arch(&wire.arch) else {
            continue;
        };
        if wire.gpu.unwrap_or(0) > 0 {
            continue;
        }
        let hourly = f64::from(wire.hourly_price);
        let monthly = wire
            .monthly_price
            .map_or(hourly * HOURS_PER_MONTH, f64::from);
        if !(hourly.is_finite() && monthly.is_finite() && hourly >= 0.0 && monthly >= 0.0) {
            return Err(CloudError::unexpected(KIND, "a price that is not a number"));
        }
        let available = availability.get(&name).is_none_or(|a| a != "shortage");
        sizes.push(Size {
            vcpus: wire.ncpus,
            memory_mib: wire.ram / (1024 * 1024),
            disk_gb: wire
                .volumes_constraint
                .map_or(0, |c| c.min_size / 1_000_000_000),
            arch,
            currency: "EUR".to_owned(),
            prices: vec![Price {
                location: zone.to_owned(),
                hourly,
                monthly,
                available,
            }],
            deprecated: wire.end_of_service,
            id: name,
        });
    }
    Ok(sizes)
}

/// Scaleway's error body to a [`CloudError`].
fn parse_error(provider: ProviderKind, reply: &Reply, now: u64) -> CloudError {
    let parsed: Option<WireError> = serde_json::from_slice(&reply.body).ok();
    let (kind, message) = parsed
        .map(|e| {
            let mut message = e.message;
            // `invalid_arguments` says which argument and why in its details.
            for detail in e.details.iter().flatten() {
                if let (Some(argument), Some(help)) = (&detail.argument_name, &detail.help_message)
                {
                    message.push_str(&format!("; {argument}: {help}"));
                }
            }
            (e.kind, provider_text(&message))
        })
        .unwrap_or_else(|| (String::new(), format!("HTTP {}", reply.status.as_u16())));
    let status = reply.status;
    match (status, kind.as_str()) {
        (_, "denied_authentication" | "authentication_denied") | (StatusCode::UNAUTHORIZED, _) => {
            CloudError::Unauthorized { provider }
        }
        (_, "too_many_requests") | (StatusCode::TOO_MANY_REQUESTS, _) => CloudError::RateLimited {
            provider,
            retry_after: retry_after(reply, now),
        },
        (_, "quotas_exceeded") => CloudError::QuotaExceeded { provider, message },
        (_, "out_of_stock") => CloudError::Capacity {
            provider,
            locations: String::new(),
            message,
        },
        (_, "permissions_denied") | (StatusCode::FORBIDDEN, _) => {
            CloudError::Forbidden { provider, message }
        }
        (_, "not_found" | "unknown_resource") | (StatusCode::NOT_FOUND, _) => {
            CloudError::NotFound {
                provider,
                what: message,
            }
        }
        (_, "transient_state" | "conflict") | (StatusCode::CONFLICT, _) => {
            CloudError::Unavailable {
                provider,
                status: status.as_u16(),
                message,
            }
        }
        _ if status.is_server_error() => CloudError::Unavailable {
            provider,
            status: status.as_u16(),
            message,
        },
        _ => CloudError::InvalidRequest { provider, message },
    }
}

/// `instance/v1/zones/{zone}/servers/{id}` followed by `tail`.
fn server_path<'a>(id: &'a ServerId, tail: &[&'a str]) -> Vec<&'a str> {
    let mut path = vec![
        "instance",
        "v1",
        "zones",
        id.location.as_str(),
        "servers",
        id.id.as_str(),
    ];
    path.extend_from_slice(tail);
    path
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn arch(wire: &str) -> Option<Arch> {
    match wire {
        "x86_64" => Some(Arch::X86_64),
        "arm64" | "arm" => Some(Arch::Arm64),
        _ => None,
    }
}

fn status(wire: &str) -> ServerStatus {
    match wire {
        "starting" => ServerStatus::Starting,
        "running" => ServerStatus::Running,
        "stopping" => ServerStatus::Stopping,
        "stopped" | "stopped in place" => ServerStatus::Stopped,
        other => ServerStatus::Unknown(provider_text(other)),
    }
}

// ---- wire shapes (only the fields SAM reads; unknown fields are ignored) ----

#[derive(Debug, Deserialize)]
struct WireErrorDetail {
    argument_name: Option<String>,
    help_message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireError {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Option<Vec<WireErrorDetail>>,
}

#[derive(Debug, Deserialize)]
struct VolumesConstraint {
    min_size: u64,
}

#[derive(Debug, Deserialize)]
struct WireServerType {
    hourly_price: f32,
    #[serde(default)]
    monthly_price: Option<f32>,
    ncpus: u32,
    ram: u64,
    #[serde(default)]
    arch: String,
    #[serde(default)]
    gpu: Option<u64>,
    #[serde(default)]
    volumes_constraint: Option<VolumesConstraint>,
    #[serde(default)]
    end_of_service: bool,
}

#[derive(Debug, Deserialize)]
struct ServerTypesReply {
    servers: BTreeMap<String, WireServerType>,
}

#[derive(Debug, Deserialize)]
struct Availability {
    availability: String,
}

#[derive(Debug, Deserialize)]
struct AvailabilityReply {
    servers: BTreeMap<String, Availability>,
}

#[derive(Debug, Deserialize)]
struct WireLocalImage {
    id: String,
    arch: String,
    zone: String,
}

#[derive(Debug, Deserialize)]
struct LocalImagesReply {
    local_images: Vec<WireLocalImage>,
}

#[derive(Debug, Deserialize)]
struct WireSshKey {
    id: String,
    name: String,
    public_key: String,
}

#[derive(Debug, Deserialize)]
struct SshKeysReply {
    ssh_keys: Vec<WireSshKey>,
    #[serde(default)]
    total_count: u64,
}

#[derive(Debug, Deserialize)]
struct WireIp {
    address: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireServer {
    id: String,
    name: String,
    state: String,
    commercial_type: String,
    zone: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    creation_date: Option<String>,
    #[serde(default)]
    public_ip: Option<WireIp>,
    #[serde(default)]
    public_ips: Vec<WireIp>,
}

impl WireServer {
    fn into_server(self) -> Result<Server, CloudError> {
        let mut ipv4 = None;
        let mut ipv6 = None;
        for ip in self.public_ip.iter().chain(&self.public_ips) {
            // Routed IPv6 comes as a /64 or a plain address depending on the mode.
            let address = ip.address.split('/').next().unwrap_or_default();
            match address.parse::<IpAddr>() {
                Ok(IpAddr::V4(v4)) if ipv4.is_none() => ipv4 = Some(v4),
                Ok(IpAddr::V6(v6)) if ipv6.is_none() => ipv6 = Some(v6),
                Ok(_) => {}
                Err(_) => {
                    return Err(CloudError::unexpected(
                        KIND,
                        "a server IP address that is not one",
                    ));
                }
            }
        }
        let ipv4: Option<Ipv4Addr> = ipv4;
        let ipv6: Option<Ipv6Addr> = ipv6;
        Ok(Server {
            id: ServerId {
                location: self.zone,
                id: self.id,
            },
            name: self.name,
            status: status(&self.state),
            size: self.commercial_type,
            ipv4,
            ipv6,
            labels: from_tags(&self.tags),
            created: self.creation_date.unwrap_or_default(),
        })
    }
}

#[derive(Debug, Deserialize)]
struct ServerReply {
    server: WireServer,
}

#[derive(Debug, Deserialize)]
struct ServersReply {
    servers: Vec<WireServer>,
}

/// Parses a server answer: for the fuzz tests, which feed it arbitrary bytes.
#[doc(hidden)]
pub fn parse_server_for_fuzzing(body: &[u8]) -> Result<Server, CloudError> {
    parse_json::<ServerReply>(KIND, body)?.server.into_server()
}

/// Parses a zone's catalogue and availability answers into sizes: for the fuzz tests.
#[doc(hidden)]
pub fn parse_sizes_for_fuzzing(
    catalogue: &[u8],
    availability: &[u8],
) -> Result<Vec<Size>, CloudError> {
    let catalogue = parse_json::<ServerTypesReply>(KIND, catalogue)?.servers;
    let availability = parse_json::<AvailabilityReply>(KIND, availability)?
        .servers
        .into_iter()
        .map(|(name, a)| (name, a.availability))
        .collect();
    sizes_from("fr-par-1", catalogue.into_iter().collect(), &availability)
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
    fn uuids() {
        assert!(is_uuid("6170692e-7363-616c-6577-61792e636f6d"));
        assert!(!is_uuid("6170692e-7363-616c-6577-61792e636f6"));
        assert!(!is_uuid("x170692e-7363-616c-6577-61792e636f6d"));
        assert!(!is_uuid(""));
    }

    #[test]
    fn states() {
        assert_eq!(status("stopped in place"), ServerStatus::Stopped);
        assert_eq!(status("locked"), ServerStatus::Unknown("locked".into()));
    }
}

//! `/instance/v1/zones/{zone}/servers`: Instances, their actions and user data.
//!
//! As on Scaleway, a server is created `stopped` without a public IP; cloud-init goes in with
//! `PATCH .../user_data/cloud-init` (text/plain); action `poweron` makes it `starting`, and the
//! boot-polls knob's number of polls (a `GET` of it, or a list of its zone) later it is
//! `running` with a dynamic public IPv4. `poweroff` and `terminate` show `stopping` for one
//! poll; then the server is `stopped` (its dynamic IP released) or gone. Server names need not
//! be unique, as on Scaleway: tags are what tell servers apart.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::catalog::{self, LocalImage, ServerType};
use super::{
    Ids, ORGANIZATION_ID, Reply, error_for_status, invalid_argument, is_uuid, list_reply, page_of,
};
use crate::fakes::CloudKnobs;
use crate::fakes::clock::now_rfc3339;
use crate::fakes::query::Query;
use crate::{FakeServer, SeedServer};

/// The largest user-data value the fake accepts (an assumption: Scaleway does not publish
/// one).
const MAX_USER_DATA_BYTES: usize = 1 << 20;

/// The size of a block-storage boot volume when the request names none.
const DEFAULT_BOOT_VOLUME_BYTES: u64 = 10_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterStop {
    Stopped,
    Removed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Stopped,
    Starting {
        polls_left: u32,
    },
    Running,
    /// Shows `stopping` on the first poll; the poll after that finds it `then`.
    Stopping {
        shown: bool,
        then: AfterStop,
    },
}

impl Phase {
    fn state(self) -> &'static str {
        match self {
            Phase::Stopped => "stopped",
            Phase::Starting { .. } => "starting",
            Phase::Running => "running",
            Phase::Stopping { .. } => "stopping",
        }
    }

    fn state_detail(self) -> &'static str {
        match self {
            Phase::Stopped => "",
            Phase::Starting { .. } => "provisioning node",
            Phase::Running => "booted",
            Phase::Stopping { .. } => "stopping",
        }
    }

    fn allowed_actions(self) -> Vec<&'static str> {
        match self {
            Phase::Stopped => vec!["poweron", "backup"],
            Phase::Running => vec!["poweroff", "terminate", "reboot", "stop_in_place", "backup"],
            Phase::Starting { .. } | Phase::Stopping { .. } => Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
struct PublicIp {
    id: String,
    address: String,
}

#[derive(Debug, Clone)]
struct Server {
    id: String,
    name: String,
    zone: String,
    commercial_type: &'static ServerType,
    image: LocalImage,
    project: String,
    tags: Vec<String>,
    user_data: BTreeMap<String, String>,
    phase: Phase,
    dynamic_ip_required: bool,
    public_ip: Option<PublicIp>,
    volume: (String, &'static str, u64),
    creation_date: String,
    modification_date: String,
    security_group: String,
}

/// What one poll did to a server.
enum Polled {
    Present,
    Removed,
}

impl Server {
    fn to_json(&self) -> Value {
        let ip = self.public_ip.as_ref().map(|ip| {
            json!({
                "id": ip.id, "address": ip.address, "gateway": "62.210.0.1", "netmask": "32",
                "family": "inet", "dynamic": true, "provisioning_mode": "dhcp", "tags": [],
                "ipam_id": ip.id, "state": "attached",
            })
        });
        let (volume_id, volume_type, size) = &self.volume;
        json!({
            "id": self.id,
            "name": self.name,
            "organization": ORGANIZATION_ID,
            "project": self.project,
            "allowed_actions": self.phase.allowed_actions(),
            "tags": self.tags,
            "commercial_type": self.commercial_type.name,
            "creation_date": self.creation_date,
            "dynamic_ip_required": self.dynamic_ip_required,
            "routed_ip_enabled": true,
            "enable_ipv6": false,
            "hostname": self.name,
            "image": {
                "id": self.image.id,
                "name": self.image.name,
                "arch": self.image.arch,
                "creation_date": "2024-05-02T09:15:00.000000+00:00",
                "modification_date": "2024-05-02T09:15:00.000000+00:00",
                "default_bootscript": null,
                "extra_volumes": {},
                "from_server": "",
                "organization": "51b656e3-4865-41e8-adbc-0c45bdd780db",
                "public": true,
                "state": "available",
                "project": "51b656e3-4865-41e8-adbc-0c45bdd780db",
                "tags": [],
                "zone": self.zone,
            },
            "protected": false,
            "private_ip": null,
            "public_ip": ip,
            "public_ips": ip.iter().collect::<Vec<_>>(),
            "mac_address": "de:00:00:00:00:01",
            "modification_date": self.modification_date,
            "state": self.phase.state(),
            "state_detail": self.phase.state_detail(),
            "location": null,
            "ipv6": null,
            "boot_type": "local",
            "volumes": { "0": {
                "id": volume_id,
                "name": format!("{}-vol-0", self.name),
                "volume_type": volume_type,
                "size": size,
                "state": "available",
                "boot": false,
                "zone": self.zone,
                "server": { "id": self.id, "name": self.name },
                "organization": ORGANIZATION_ID,
                "project": self.project,
            } },
            "security_group": { "id": self.security_group, "name": "Default security group" },
            "maintenances": [],
            "arch": self.commercial_type.arch,
            "placement_group": null,
            "private_nics": [],
            "zone": self.zone,
            "admin_password_encryption_ssh_key_id": null,
            "admin_password_encrypted_value": null,
            "filesystems": [],
            "end_of_service": false,
        })
    }

    fn snapshot(&self) -> FakeServer {
        let labels = self
            .tags
            .iter()
            .map(|tag| match tag.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (tag.clone(), String::new()),
            })
            .collect();
        FakeServer {
            id: self.id.clone(),
            name: self.name.clone(),
            location: self.zone.clone(),
            server_type: self.commercial_type.name.to_owned(),
            image: self.image.id.clone(),
            labels,
            user_data: self.user_data.get("cloud-init").cloned(),
            status: self.phase.state().to_owned(),
            public_ipv4: self.public_ip.as_ref().map(|ip| ip.address.clone()),
            ssh_keys: Vec::new(),
        }
    }

    fn touch(&mut self) {
        self.modification_date = now_rfc3339();
    }
}

#[derive(Debug, Default)]
pub(super) struct Servers {
    /// Oldest first.
    servers: Vec<Server>,
    /// Dynamic IPs come from TEST-NET-2 (198.51.100.0/24), one per boot.
    addresses_issued: u64,
    /// Every boot gets this IPv4 instead (a test's real SSH host on loopback).
    pub(super) fixed_ipv4: Option<String>,
}

fn unknown_server(id: &str) -> Reply {
    Reply::json(
        404,
        json!({ "type": "unknown_resource", "message": format!("\"{id}\" not found") }),
    )
}

fn transient(server: &Server) -> Reply {
    Reply::json(
        409,
        json!({
            "type": "transient_state",
            "message": "resource is in a transient state",
            "resource": "instance_server",
            "resource_id": server.id,
            "current_state": server.phase.state(),
        }),
    )
}

/// An action or deletion the server's state does not allow (an assumption: the type and
/// status are not published; Scaleway refuses such requests with a 400).
fn not_usable(server: &Server, message: &str) -> Reply {
    Reply::json(
        400,
        json!({
            "type": "resource_not_usable",
            "message": message,
            "resource": "instance_server",
            "resource_id": server.id,
            "current_state": server.phase.state(),
        }),
    )
}

/// The image a create request names: a local image ID in this zone, or a Marketplace label,
/// resolved to the block-storage image for the type's architecture.
fn resolve_image(
    zone: &str,
    reference: &str,
    server_type: &ServerType,
) -> Result<LocalImage, Reply> {
    let image = if is_uuid(reference) {
        catalog::image_by_id(reference).filter(|i| i.zone == zone)
    } else {
        catalog::images_in(zone).into_iter().find(|i| {
            i.label == reference && i.arch == server_type.arch && i.kind == "instance_sbs"
        })
    };
    let Some(image) = image else {
        return Err(invalid_argument(
            "image",
            "constraint",
            &format!("image {reference} does not exist in zone {zone}"),
        ));
    };
    if !image.compatible_types().contains(&server_type.name) {
        return Err(invalid_argument(
            "image",
            "constraint",
            &format!(
                "image {} ({}, {}) is not compatible with commercial type {}",
                image.id, image.arch, image.kind, server_type.name
            ),
        ));
    }
    Ok(image)
}

fn tags_of(fields: &Map<String, Value>) -> Result<Vec<String>, Reply> {
    match fields.get("tags") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(tags)) => tags
            .iter()
            .map(|t| t.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid_argument("tags", "format", "tags must be strings")),
        Some(_) => Err(invalid_argument("tags", "format", "tags must be a list")),
    }
}

/// The boot volume: the one the request describes as `volumes["0"]`, else the default for
/// the image's type.
fn boot_volume(
    fields: &Map<String, Value>,
    image: &LocalImage,
    server_type: &ServerType,
    ids: &mut Ids,
) -> (String, &'static str, u64) {
    let requested = fields
        .get("volumes")
        .and_then(|v| v.get("0"))
        .and_then(Value::as_object);
    let volume_type = match requested
        .and_then(|v| v.get("volume_type"))
        .and_then(Value::as_str)
    {
        Some("l_ssd") => "l_ssd",
        Some(_) => "sbs_volume",
        None if image.kind == "instance_local" => "l_ssd",
        None => "sbs_volume",
    };
    let default_size = if volume_type == "l_ssd" {
        server_type.local_bytes()
    } else {
        DEFAULT_BOOT_VOLUME_BYTES
    };
    let size = requested
        .and_then(|v| v.get("size"))
        .and_then(Value::as_u64)
        .unwrap_or(default_size);
    (ids.next(), volume_type, size)
}

impl Servers {
    pub(super) fn snapshot(&self) -> Vec<FakeServer> {
        self.servers.iter().map(Server::snapshot).collect()
    }

    fn index_of(&self, zone: &str, id: &str) -> Option<usize> {
        self.servers
            .iter()
            .position(|s| s.zone == zone && s.id == id)
    }

    fn next_address(&mut self) -> String {
        self.addresses_issued += 1;
        self.fixed_ipv4
            .clone()
            .unwrap_or_else(|| format!("198.51.100.{}", self.addresses_issued % 254 + 1))
    }

    /// The server is running now: it gets its dynamic IP, if it wants one.
    fn boot(&mut self, index: usize, ids: &mut Ids) {
        let address = self.next_address();
        if let Some(server) = self.servers.get_mut(index) {
            server.phase = Phase::Running;
            if server.dynamic_ip_required && server.public_ip.is_none() {
                server.public_ip = Some(PublicIp {
                    id: ids.next(),
                    address,
                });
            }
            server.touch();
        }
    }

    /// One poll of the server at `index`.
    fn poll(&mut self, index: usize, ids: &mut Ids) -> Polled {
        let Some(phase) = self.servers.get(index).map(|s| s.phase) else {
            return Polled::Removed;
        };
        match phase {
            Phase::Starting { polls_left } if polls_left <= 1 => self.boot(index, ids),
            Phase::Starting { polls_left } => {
                if let Some(server) = self.servers.get_mut(index) {
                    server.phase = Phase::Starting {
                        polls_left: polls_left - 1,
                    };
                }
            }
            Phase::Stopping { shown: false, then } => {
                if let Some(server) = self.servers.get_mut(index) {
                    server.phase = Phase::Stopping { shown: true, then };
                }
            }
            Phase::Stopping {
                shown: true,
                then: AfterStop::Stopped,
            } => {
                if let Some(server) = self.servers.get_mut(index) {
                    server.phase = Phase::Stopped;
                    server.public_ip = None;
                    server.touch();
                }
            }
            Phase::Stopping {
                shown: true,
                then: AfterStop::Removed,
            } => {
                self.servers.remove(index);
                return Polled::Removed;
            }
            Phase::Stopped | Phase::Running => {}
        }
        Polled::Present
    }

    fn insert(&mut self, server: Server) -> Server {
        self.servers.push(server.clone());
        server
    }

    /// # Panics
    /// When the seed names a zone or commercial type Scaleway does not have: a test bug.
    pub(super) fn seed(&mut self, seed: SeedServer, ids: &mut Ids) -> String {
        let zone = seed.location;
        let server_type = catalog::server_type(&seed.server_type)
            .unwrap_or_else(|| panic!("Scaleway has no commercial type {:?}", seed.server_type));
        let image = catalog::images_in(&zone)
            .into_iter()
            .find(|i| {
                i.label == "ubuntu_noble" && i.arch == server_type.arch && i.kind == "instance_sbs"
            })
            .unwrap_or_else(|| panic!("Scaleway has no zone {zone:?}"));
        let tags = seed
            .labels
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        let now = now_rfc3339();
        let server = Server {
            id: ids.next(),
            name: seed.name,
            zone,
            commercial_type: server_type,
            image,
            project: ORGANIZATION_ID.to_owned(),
            tags,
            user_data: BTreeMap::new(),
            phase: Phase::Stopped,
            dynamic_ip_required: true,
            public_ip: None,
            volume: (ids.next(), "sbs_volume", DEFAULT_BOOT_VOLUME_BYTES),
            creation_date: now.clone(),
            modification_date: now,
            security_group: ids.next(),
        };
        let id = server.id.clone();
        self.servers.push(server);
        if seed.running {
            self.boot(self.servers.len() - 1, ids);
        }
        id
    }

    /// `POST /servers`: validation (400), then the quota (403 `quotas_exceeded`) and capacity
    /// (412 `out_of_stock`).
    pub(super) fn create(
        &mut self,
        zone: &str,
        body: &[u8],
        knobs: &CloudKnobs,
        ids: &mut Ids,
    ) -> Reply {
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
            return invalid_argument("body", "format", "the request body must be a JSON object");
        };
        let Some(name) = fields.get("name").and_then(Value::as_str) else {
            return invalid_argument("name", "required", "name is required");
        };
        let Some(type_name) = fields.get("commercial_type").and_then(Value::as_str) else {
            return invalid_argument("commercial_type", "required", "commercial_type is required");
        };
        let Some(server_type) = catalog::server_type(type_name) else {
            return invalid_argument(
                "commercial_type",
                "constraint",
                &format!("{type_name} is not an Instance type of {zone}"),
            );
        };
        let Some(image_ref) = fields.get("image").and_then(Value::as_str) else {
            return invalid_argument("image", "required", "image is required");
        };
        let image = match resolve_image(zone, image_ref, server_type) {
            Ok(image) => image,
            Err(reply) => return reply,
        };
        let tags = match tags_of(&fields) {
            Ok(tags) => tags,
            Err(reply) => return reply,
        };
        if knobs.over_quota(self.servers.len()) {
            let quota = knobs.server_quota.unwrap_or_default();
            return Reply::json(
                403,
                json!({
                    "type": "quotas_exceeded",
                    "message": "quota(s) exceeded for this resource",
                    "details": [{
                        "resource": format!("instances_{}", type_name.to_lowercase().replace('-', "_")),
                        "quota": quota,
                        "current": self.servers.len(),
                    }],
                }),
            );
        }
        // 412 `out_of_stock` is an assumption: the spec has no error bodies; Scaleway's SDKs
        // know the type.
        if knobs.is_unavailable(zone, type_name) {
            return Reply::json(
                412,
                json!({
                    "type": "out_of_stock",
                    "message": format!("{type_name} is out of stock in {zone}"),
                    "resource": "instance_server",
                }),
            );
        }
        let project = fields
            .get("project")
            .or_else(|| fields.get("organization"))
            .and_then(Value::as_str)
            .unwrap_or(ORGANIZATION_ID)
            .to_owned();
        let now = now_rfc3339();
        let volume = boot_volume(&fields, &image, server_type, ids);
        let server = self.insert(Server {
            id: ids.next(),
            name: name.to_owned(),
            zone: zone.to_owned(),
            commercial_type: server_type,
            image,
            project,
            tags,
            user_data: BTreeMap::new(),
            phase: Phase::Stopped,
            dynamic_ip_required: fields
                .get("dynamic_ip_required")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            public_ip: None,
            volume,
            creation_date: now.clone(),
            modification_date: now,
            security_group: ids.next(),
        });
        Reply::json(201, json!({ "server": server.to_json() }))
    }

    /// `GET /servers`: every server of the zone is polled, then filtered by `project`,
    /// `name` (a substring, as Scaleway documents), `tags` (all of them), `state` and
    /// `commercial_type`, newest first unless `order=creation_date_asc`, and paginated.
    pub(super) fn list(&mut self, zone: &str, query: &Query, ids: &mut Ids) -> Reply {
        let page = match page_of(query, "per_page", 50) {
            Ok(page) => page,
            Err(reply) => return reply,
        };
        let mut index = 0;
        while index < self.servers.len() {
            let in_zone = self.servers.get(index).is_some_and(|s| s.zone == zone);
            if !in_zone || matches!(self.poll(index, ids), Polled::Present) {
                index += 1;
            }
        }
        let tags = query.list("tags");
        let mut servers: Vec<Value> = self
            .servers
            .iter()
            .filter(|s| s.zone == zone)
            .filter(|s| query.get("project").is_none_or(|p| p == s.project))
            .filter(|s| query.get("name").is_none_or(|n| s.name.contains(n)))
            .filter(|s| tags.iter().all(|t| s.tags.iter().any(|own| own == t)))
            .filter(|s| query.get("state").is_none_or(|st| st == s.phase.state()))
            .filter(|s| {
                query
                    .get("commercial_type")
                    .is_none_or(|t| t == s.commercial_type.name)
            })
            .map(Server::to_json)
            .collect();
        if query.get("order") != Some("creation_date_asc") {
            servers.reverse();
        }
        list_reply("servers", servers, page, None)
    }

    pub(super) fn get(&mut self, zone: &str, id: &str, ids: &mut Ids) -> Reply {
        let Some(index) = self.index_of(zone, id) else {
            return unknown_server(id);
        };
        match self.poll(index, ids) {
            Polled::Removed => unknown_server(id),
            Polled::Present => match self.servers.get(index) {
                Some(server) => Reply::json(200, json!({ "server": server.to_json() })),
                None => unknown_server(id),
            },
        }
    }

    /// `DELETE /servers/{id}`: only a stopped server can be deleted; a running one must be
    /// powered off first (or terminated).
    pub(super) fn delete(&mut self, zone: &str, id: &str) -> Reply {
        let Some(index) = self.index_of(zone, id) else {
            return unknown_server(id);
        };
        let Some(server) = self.servers.get(index) else {
            return unknown_server(id);
        };
        match server.phase {
            Phase::Stopped => {
                self.servers.remove(index);
                Reply::empty(204)
            }
            Phase::Running => not_usable(
                server,
                "Instance must be stopped before it can be deleted: power it off first, or use the terminate action",
            ),
            Phase::Starting { .. } | Phase::Stopping { .. } => transient(server),
        }
    }

    /// `GET /servers/{id}/action`: the actions the server's state allows.
    pub(super) fn allowed_actions(&self, zone: &str, id: &str) -> Reply {
        match self.index_of(zone, id).and_then(|i| self.servers.get(i)) {
            Some(server) => Reply::json(200, json!({ "actions": server.phase.allowed_actions() })),
            None => unknown_server(id),
        }
    }

    /// `POST /servers/{id}/action`, answered 202 with a `pending` task.
    pub(super) fn action(
        &mut self,
        zone: &str,
        id: &str,
        body: &[u8],
        knobs: &CloudKnobs,
        ids: &mut Ids,
    ) -> Reply {
        let Some(index) = self.index_of(zone, id) else {
            return unknown_server(id);
        };
        let action = if body.iter().all(u8::is_ascii_whitespace) {
            // The spec's default action.
            "poweron".to_owned()
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(fields)) => fields
                    .get("action")
                    .and_then(Value::as_str)
                    .unwrap_or("poweron")
                    .to_owned(),
                _ => {
                    return invalid_argument(
                        "body",
                        "format",
                        "the request body must be a JSON object",
                    );
                }
            }
        };
        let Some(server) = self.servers.get_mut(index) else {
            return unknown_server(id);
        };
        let phase = server.phase;
        if matches!(phase, Phase::Starting { .. } | Phase::Stopping { .. })
            && matches!(
                action.as_str(),
                "poweron" | "poweroff" | "terminate" | "reboot"
            )
        {
            return transient(server);
        }
        let description = match (action.as_str(), phase) {
            ("poweron", Phase::Stopped) => {
                server.phase = Phase::Starting {
                    polls_left: knobs.boot_polls,
                };
                server.touch();
                "server_poweron"
            }
            ("poweroff", Phase::Running) => {
                server.phase = Phase::Stopping {
                    shown: false,
                    then: AfterStop::Stopped,
                };
                server.touch();
                "server_batch_poweroff"
            }
            ("terminate", Phase::Running) => {
                server.phase = Phase::Stopping {
                    shown: false,
                    then: AfterStop::Removed,
                };
                server.touch();
                "server_terminate"
            }
            ("reboot", Phase::Running) => "server_reboot",
            ("poweron", _) => return not_usable(server, "Instance is already running"),
            ("poweroff" | "reboot", _) => return not_usable(server, "Instance is not running"),
            ("terminate", _) => {
                return not_usable(
                    server,
                    "Only a running Instance can be terminated: delete a stopped one with DELETE",
                );
            }
            (other, _) => {
                return invalid_argument(
                    "action",
                    "constraint",
                    &format!("{other} is not an action the fake supports"),
                );
            }
        };
        let server_id = server.id.clone();
        if knobs.boot_polls == 0 && description == "server_poweron" {
            self.boot(index, ids);
        }
        Reply::json(
            202,
            json!({ "task": {
                "id": ids.next(),
                "description": description,
                "status": "pending",
                "progress": 0,
                "href_from": format!("/servers/{server_id}/action"),
                "href_result": format!("/servers/{server_id}"),
                "started_at": now_rfc3339(),
                "terminated_at": null,
                "zone": zone,
            } }),
        )
    }

    fn server_mut(&mut self, zone: &str, id: &str) -> Option<&mut Server> {
        let index = self.index_of(zone, id)?;
        self.servers.get_mut(index)
    }

    /// `GET /servers/{id}/user_data`: the keys set.
    pub(super) fn user_data_keys(&mut self, zone: &str, id: &str) -> Reply {
        match self.server_mut(zone, id) {
            Some(server) => Reply::json(
                200,
                json!({ "user_data": server.user_data.keys().collect::<Vec<_>>() }),
            ),
            None => unknown_server(id),
        }
    }

    /// `GET /servers/{id}/user_data/{key}`: the value as `text/plain` (what Scaleway
    /// answers, though the spec describes a JSON wrapper).
    pub(super) fn user_data(&mut self, zone: &str, id: &str, key: &str) -> Reply {
        let Some(server) = self.server_mut(zone, id) else {
            return unknown_server(id);
        };
        match server.user_data.get(key) {
            Some(value) => Reply::text(200, value),
            None => error_for_status(404),
        }
    }

    /// `PATCH /servers/{id}/user_data/{key}`: a `text/plain` body of at most 1 MiB, on a
    /// server in any state.
    pub(super) fn set_user_data(
        &mut self,
        zone: &str,
        id: &str,
        key: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let Some(server) = self.server_mut(zone, id) else {
            return unknown_server(id);
        };
        let plain = content_type.is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|media| media.trim().eq_ignore_ascii_case("text/plain"))
        });
        if !plain {
            return invalid_argument(
                "content-type",
                "constraint",
                "user data must be sent as text/plain",
            );
        }
        if body.len() > MAX_USER_DATA_BYTES {
            return invalid_argument(
                "user_data",
                "constraint",
                &format!("user data must not be larger than {MAX_USER_DATA_BYTES} bytes"),
            );
        }
        let Ok(text) = std::str::from_utf8(body) else {
            return invalid_argument("user_data", "format", "user data must be UTF-8 text");
        };
        server.user_data.insert(key.to_owned(), text.to_owned());
        server.touch();
        Reply::empty(204)
    }

    pub(super) fn delete_user_data(&mut self, zone: &str, id: &str, key: &str) -> Reply {
        let Some(server) = self.server_mut(zone, id) else {
            return unknown_server(id);
        };
        match server.user_data.remove(key) {
            Some(_) => Reply::empty(204),
            None => error_for_status(404),
        }
    }
}

//! `/servers`, their power actions, and `/actions/{id}`.
//!
//! A server has its public IPv4 from creation. Its status moves on only when it is polled (a
//! `GET /servers/{id}`, or a list that includes it): `initializing` in the create reply, then
//! `starting` until the boot-polls knob's number of polls, the last of which shows `running`.
//! An action is `running` for the action-polls knob's number of `GET /actions/{id}`, then
//! `success`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::catalog::{self, Image, Location, ServerType};
use super::labels::Selector;
use super::ssh_keys::{SshKeys, labels_from};
use super::{ActionPolls, Reply, error, invalid_input, json_error, not_found, paginated, parse_id};
use crate::fakes::CloudKnobs;
use crate::fakes::clock::now_rfc3339;
use crate::fakes::query::Query;
use crate::{FakeServer, SeedServer};

/// Hetzner's limit on `user_data`.
const MAX_USER_DATA_BYTES: usize = 32 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Just created; becomes `starting`/`running` (or `off`) when polled.
    Initializing {
        start: bool,
        polls_left: u32,
    },
    Starting {
        polls_left: u32,
    },
    Running,
    Off,
}

impl Phase {
    fn status(self) -> &'static str {
        match self {
            Phase::Initializing { .. } => "initializing",
            Phase::Starting { .. } => "starting",
            Phase::Running => "running",
            Phase::Off => "off",
        }
    }

    /// Booting that needs `polls` more polls; none at all is running already.
    fn booting(polls: u32) -> Self {
        if polls == 0 {
            Phase::Running
        } else {
            Phase::Starting { polls_left: polls }
        }
    }

    /// One poll's worth of progress.
    fn polled(self) -> Self {
        match self {
            Phase::Initializing { start: false, .. } => Phase::Off,
            Phase::Initializing {
                start: true,
                polls_left,
            }
            | Phase::Starting { polls_left } => match polls_left.saturating_sub(1) {
                0 => Phase::Running,
                polls_left => Phase::Starting { polls_left },
            },
            settled => settled,
        }
    }
}

/// A primary IP: Hetzner's ID for it, and the address (`/64` network for IPv6).
#[derive(Debug, Clone)]
struct Address {
    id: u64,
    ip: String,
}

#[derive(Debug, Clone)]
struct Server {
    id: u64,
    name: String,
    location: &'static Location,
    server_type: &'static ServerType,
    image: &'static Image,
    labels: BTreeMap<String, String>,
    user_data: Option<String>,
    ipv4: Option<Address>,
    ipv6: Option<Address>,
    ssh_keys: Vec<String>,
    phase: Phase,
    created: String,
}

#[derive(Debug, Clone)]
struct Action {
    id: u64,
    command: &'static str,
    server_id: u64,
    started: String,
    /// `GET /actions/{id}` calls so far.
    polls: u32,
    finished: Option<String>,
}

impl Action {
    fn to_json(&self) -> Value {
        let (status, progress) = match self.finished {
            Some(_) => ("success", 100),
            None => ("running", (self.polls * 25).min(95)),
        };
        json!({
            "id": self.id,
            "command": self.command,
            "status": status,
            "progress": progress,
            "started": self.started,
            "finished": self.finished,
            "resources": [{ "id": self.server_id, "type": "server" }],
            "error": null,
        })
    }
}

#[derive(Debug)]
pub(super) struct Servers {
    servers: Vec<Server>,
    actions: Vec<Action>,
    next_server_id: u64,
    next_action_id: u64,
    /// Addresses come from TEST-NET-3 (203.0.113.0/24) and 2001:db8::/32, one per server.
    next_address: u64,
    /// Every new server gets this IPv4 instead (a test's real SSH host on loopback).
    pub(super) fixed_ipv4: Option<String>,
}

impl Default for Servers {
    fn default() -> Self {
        Self {
            servers: Vec::new(),
            actions: Vec::new(),
            next_server_id: 42_000_001,
            next_action_id: 310_000_001,
            next_address: 0,
            fixed_ipv4: None,
        }
    }
}

impl Server {
    fn to_json(&self) -> Value {
        let ipv4 = self.ipv4.as_ref().map(|Address { id, ip }| {
            json!({
                "id": id, "ip": ip, "blocked": false,
                "dns_ptr": format!("static.{}.clients.your-server.de", ip.split('.').rev().collect::<Vec<_>>().join(".")),
            })
        });
        let ipv6 = self.ipv6.as_ref().map(
            |Address { id, ip }| json!({ "id": id, "ip": ip, "blocked": false, "dns_ptr": [] }),
        );
        json!({
            "id": self.id,
            "name": self.name,
            "status": self.phase.status(),
            "created": self.created,
            "public_net": {
                "ipv4": ipv4,
                "ipv6": ipv6,
                "floating_ips": [],
                "firewalls": [],
            },
            "private_net": [],
            "server_type": self.server_type.to_json(),
            "datacenter": self.location.datacenter_json(),
            "location": self.location.to_json(),
            "image": self.image.to_json(),
            "iso": null,
            "rescue_enabled": false,
            "locked": false,
            "backup_window": null,
            "outgoing_traffic": 0,
            "ingoing_traffic": 0,
            "included_traffic": self.server_type.included_traffic(self.location),
            "protection": { "delete": false, "rebuild": false },
            "labels": self.labels,
            "volumes": [],
            "load_balancers": [],
            "primary_disk_size": self.server_type.disk_gb,
            "placement_group": null,
        })
    }

    fn snapshot(&self) -> FakeServer {
        FakeServer {
            id: self.id.to_string(),
            name: self.name.clone(),
            location: self.location.name.to_owned(),
            server_type: self.server_type.name.to_owned(),
            image: self.image.name.to_owned(),
            labels: self.labels.clone(),
            user_data: self.user_data.clone(),
            status: self.phase.status().to_owned(),
            public_ipv4: self.ipv4.as_ref().map(|a| a.ip.clone()),
            ssh_keys: self.ssh_keys.clone(),
        }
    }
}

/// What `POST /servers` asked for, once validated.
struct Order {
    name: String,
    location: &'static Location,
    server_type: &'static ServerType,
    image: &'static Image,
    labels: BTreeMap<String, String>,
    user_data: Option<String>,
    ssh_keys: Vec<String>,
    start: bool,
    ipv4: bool,
    ipv6: bool,
}

fn string_field<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    fields.get(name).and_then(Value::as_str)
}

fn bool_field(fields: &Map<String, Value>, name: &str, default: bool) -> bool {
    fields.get(name).and_then(Value::as_bool).unwrap_or(default)
}

/// RFC 1123 host names, which Hetzner requires server names to be.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .split('.')
            .all(|part| !part.is_empty() && !part.starts_with('-') && !part.ends_with('-'))
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn parse_order(body: &[u8], keys: &SshKeys) -> Result<Order, Reply> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Err(json_error());
    };
    let image_given = fields
        .get("image")
        .is_some_and(|i| i.is_string() || i.is_u64());
    let missing: Vec<(&str, String)> = [
        ("name", fields.get("name").is_some_and(Value::is_string)),
        (
            "server_type",
            fields.get("server_type").is_some_and(Value::is_string),
        ),
        ("image", image_given),
    ]
    .into_iter()
    .filter(|(_, present)| !present)
    .map(|(field, _)| (field, "Missing data for required field.".to_owned()))
    .collect();
    if !missing.is_empty() {
        return Err(invalid_input(&missing));
    }
    let name = string_field(&fields, "name").unwrap_or_default();
    if !valid_name(name) {
        return Err(invalid_input(&[(
            "name",
            "name must be a valid hostname".to_owned(),
        )]));
    }
    let type_name = string_field(&fields, "server_type").unwrap_or_default();
    let Some(server_type) = catalog::server_type(type_name) else {
        return Err(invalid_input(&[(
            "server_type",
            format!("server type {type_name} not found"),
        )]));
    };
    let location = match (
        string_field(&fields, "location"),
        string_field(&fields, "datacenter"),
    ) {
        (Some(name), _) => catalog::location(name)
            .ok_or_else(|| invalid_input(&[("location", format!("location {name} not found"))]))?,
        (None, Some(name)) => catalog::location_of_datacenter(name).ok_or_else(|| {
            invalid_input(&[("datacenter", format!("datacenter {name} not found"))])
        })?,
        // Hetzner picks a location itself; the fake picks the first that offers the type.
        (None, None) => catalog::LOCATIONS
            .iter()
            .find(|l| server_type.offered_in(l))
            .unwrap_or(&catalog::LOCATIONS[0]),
    };
    if !server_type.offered_in(location) {
        return Err(invalid_input(&[(
            "server_type",
            format!(
                "server type {} is not offered in location {}",
                server_type.name, location.name
            ),
        )]));
    }
    let image_ref = match fields.get("image") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let Some(image) = catalog::image_for(&image_ref, server_type.architecture) else {
        return Err(invalid_input(&[(
            "image",
            format!("image {image_ref} not found"),
        )]));
    };
    if image.architecture != server_type.architecture {
        return Err(invalid_input(&[(
            "image",
            format!(
                "image {} is built for {}, server type {} is {}",
                image.id, image.architecture, server_type.name, server_type.architecture
            ),
        )]));
    }
    let user_data = match fields.get("user_data") {
        None | Some(Value::Null) => None,
        Some(Value::String(data)) if data.len() > MAX_USER_DATA_BYTES => {
            return Err(invalid_input(&[(
                "user_data",
                format!("user_data must not be longer than {MAX_USER_DATA_BYTES} bytes"),
            )]));
        }
        Some(Value::String(data)) => Some(data.clone()),
        Some(_) => {
            return Err(invalid_input(&[(
                "user_data",
                "user_data must be a string".to_owned(),
            )]));
        }
    };
    let mut ssh_keys = Vec::new();
    match fields.get("ssh_keys") {
        None | Some(Value::Null) => {}
        Some(Value::Array(references)) => {
            for reference in references {
                let Some(key) = keys.find(reference) else {
                    return Err(invalid_input(&[(
                        "ssh_keys",
                        format!("SSH key {reference} not found"),
                    )]));
                };
                ssh_keys.push(key.name.clone());
            }
        }
        Some(_) => {
            return Err(invalid_input(&[(
                "ssh_keys",
                "ssh_keys must be a list".to_owned(),
            )]));
        }
    }
    let labels = labels_from(&fields)?;
    let public_net = fields
        .get("public_net")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok(Order {
        name: name.to_owned(),
        location,
        server_type,
        image,
        labels,
        user_data,
        ssh_keys,
        start: bool_field(&fields, "start_after_create", true),
        ipv4: bool_field(&public_net, "enable_ipv4", true),
        ipv6: bool_field(&public_net, "enable_ipv6", true),
    })
}

impl Servers {
    pub(super) fn snapshot(&self) -> Vec<FakeServer> {
        self.servers.iter().map(Server::snapshot).collect()
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        let id = parse_id(id)?;
        self.servers.iter().position(|s| s.id == id)
    }

    fn new_action(&mut self, command: &'static str, server_id: u64) -> Value {
        let action = Action {
            id: self.next_action_id,
            command,
            server_id,
            started: now_rfc3339(),
            polls: 0,
            finished: None,
        };
        self.next_action_id += 1;
        let json = action.to_json();
        self.actions.push(action);
        json
    }

    fn addresses(&mut self, ipv4: bool, ipv6: bool) -> (Option<Address>, Option<Address>) {
        self.next_address += 1;
        let n = self.next_address;
        let v4 = ipv4.then(|| Address {
            id: 70_000_000 + n,
            ip: self
                .fixed_ipv4
                .clone()
                .unwrap_or_else(|| format!("203.0.113.{}", n % 254 + 1)),
        });
        let v6 = ipv6.then(|| Address {
            id: 80_000_000 + n,
            ip: format!("2001:db8:{n:x}::/64"),
        });
        (v4, v6)
    }

    fn insert(&mut self, order: Order, phase: Phase) -> usize {
        let (ipv4, ipv6) = self.addresses(order.ipv4, order.ipv6);
        let server = Server {
            id: self.next_server_id,
            name: order.name,
            location: order.location,
            server_type: order.server_type,
            image: order.image,
            labels: order.labels,
            user_data: order.user_data,
            ipv4,
            ipv6,
            ssh_keys: order.ssh_keys,
            phase,
            created: now_rfc3339(),
        };
        self.next_server_id += 1;
        self.servers.push(server);
        self.servers.len() - 1
    }

    /// # Panics
    /// When the seed names a location or server type Hetzner does not have: a test bug.
    pub(super) fn seed(&mut self, seed: SeedServer) -> String {
        let location = catalog::location(&seed.location)
            .unwrap_or_else(|| panic!("Hetzner has no location {:?}", seed.location));
        let server_type = catalog::server_type(&seed.server_type)
            .unwrap_or_else(|| panic!("Hetzner has no server type {:?}", seed.server_type));
        let image = catalog::image_for("ubuntu-24.04", server_type.architecture)
            .unwrap_or(&catalog::IMAGES[0]);
        let order = Order {
            name: seed.name,
            location,
            server_type,
            image,
            labels: seed.labels,
            user_data: None,
            ssh_keys: Vec::new(),
            start: seed.running,
            ipv4: true,
            ipv6: true,
        };
        let phase = if seed.running {
            Phase::Running
        } else {
            Phase::Off
        };
        let index = self.insert(order, phase);
        self.servers
            .get(index)
            .map(|s| s.id.to_string())
            .unwrap_or_default()
    }

    /// `POST /servers`: validation (400), then name uniqueness (409), the quota (403) and
    /// capacity (412), in that order.
    pub(super) fn create(&mut self, body: &[u8], keys: &SshKeys, knobs: &CloudKnobs) -> Reply {
        let order = match parse_order(body, keys) {
            Ok(order) => order,
            Err(reply) => return reply,
        };
        if self.servers.iter().any(|s| s.name == order.name) {
            return error(
                409,
                "uniqueness_error",
                "server name is already used",
                json!({ "fields": [{ "name": "name" }] }),
            );
        }
        if knobs.over_quota(self.servers.len()) {
            return error(
                403,
                "resource_limit_exceeded",
                "server limit exceeded: the project may hold no more servers",
                json!({ "limits": [{ "name": "server_limit" }] }),
            );
        }
        if knobs.is_unavailable(order.location.name, order.server_type.name) {
            return error(
                412,
                "resource_unavailable",
                &format!(
                    "server type {} unavailable in location {}",
                    order.server_type.name, order.location.name
                ),
                Value::Null,
            );
        }
        let start = order.start;
        let phase = if start && knobs.boot_polls == 0 {
            Phase::Running
        } else {
            Phase::Initializing {
                start,
                polls_left: knobs.boot_polls,
            }
        };
        let index = self.insert(order, phase);
        let Some(server) = self.servers.get(index).cloned() else {
            return error_for_missing();
        };
        let action = self.new_action("create_server", server.id);
        let next_actions: Vec<Value> = if start {
            vec![self.new_action("start_server", server.id)]
        } else {
            Vec::new()
        };
        Reply::json(
            201,
            json!({
                "server": server.to_json(),
                "action": action,
                "next_actions": next_actions,
                "root_password": null,
            }),
        )
    }

    /// `GET /servers`: every server is polled (time passes for all of them), then filtered by
    /// `name`, `status` and `label_selector`, oldest first, and paginated.
    pub(super) fn list(&mut self, query: &Query) -> Reply {
        let selector = match query.get("label_selector").map(Selector::parse).transpose() {
            Ok(selector) => selector,
            Err(message) => return invalid_input(&[("label_selector", message)]),
        };
        let statuses = query.list("status");
        for server in &mut self.servers {
            server.phase = server.phase.polled();
        }
        let servers = self
            .servers
            .iter()
            .filter(|s| query.get("name").is_none_or(|n| n == s.name))
            .filter(|s| statuses.is_empty() || statuses.contains(&s.phase.status()))
            .filter(|s| selector.as_ref().is_none_or(|sel| sel.matches(&s.labels)))
            .map(Server::to_json)
            .collect();
        paginated(query, "servers", servers)
    }

    pub(super) fn get(&mut self, id: &str) -> Reply {
        let Some(server) = self.index_of(id).and_then(|i| self.servers.get_mut(i)) else {
            return not_found("server");
        };
        server.phase = server.phase.polled();
        Reply::json(200, json!({ "server": server.to_json() }))
    }

    /// `DELETE /servers/{id}`: the server is gone at once; the returned action still runs.
    pub(super) fn delete(&mut self, id: &str) -> Reply {
        let Some(index) = self.index_of(id) else {
            return not_found("server");
        };
        let server = self.servers.remove(index);
        let action = self.new_action("delete_server", server.id);
        Reply::json(200, json!({ "action": action }))
    }

    /// `POST /servers/{id}/actions/{poweron,poweroff,shutdown,reboot}`.
    pub(super) fn action(&mut self, id: &str, action: &str, knobs: &CloudKnobs) -> Reply {
        let Some(index) = self.index_of(id) else {
            return not_found("server");
        };
        let Some(server) = self.servers.get_mut(index) else {
            return not_found("server");
        };
        let command = match action {
            "poweron" => {
                if matches!(server.phase, Phase::Off) {
                    server.phase = Phase::booting(knobs.boot_polls);
                }
                "start_server"
            }
            "poweroff" => {
                server.phase = Phase::Off;
                "stop_server"
            }
            "shutdown" => {
                server.phase = Phase::Off;
                "shutdown_server"
            }
            "reboot" => "reboot_server",
            _ => return not_found("action"),
        };
        let server_id = server.id;
        let action = self.new_action(command, server_id);
        Reply::json(201, json!({ "action": action }))
    }

    /// `GET /actions/{id}`: `running` for the first `polls` reads, `success` from then on.
    pub(super) fn get_action(&mut self, id: &str, polls: ActionPolls) -> Reply {
        let Some(action) = parse_id(id).and_then(|id| self.actions.iter_mut().find(|a| a.id == id))
        else {
            return not_found("action");
        };
        action.polls = action.polls.saturating_add(1);
        if action.finished.is_none() && action.polls > polls.0 {
            action.finished = Some(now_rfc3339());
        }
        Reply::json(200, json!({ "action": action.to_json() }))
    }
}

/// Unreachable in practice: a server just inserted is always there.
fn error_for_missing() -> Reply {
    error(500, "server_error", "internal server error", Value::Null)
}

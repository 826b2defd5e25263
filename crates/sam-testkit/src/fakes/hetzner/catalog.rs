//! What Hetzner sells: locations, server types with their prices, and the public images.
//! Fixed data, modelled on the real catalogue (names, sizes, EUR prices) so that code choosing
//! a type or estimating a cost meets realistic values.

use serde_json::{Value, json};

use super::labels::Selector;
use super::{Reply, invalid_input, not_found, paginated, parse_id};
use crate::fakes::query::Query;

/// German VAT, which Hetzner's gross prices include.
const VAT_PERCENT: u64 = 19;

/// Traffic included per month: 20 TB in the EU, 1 TB in the US (bytes).
const EU_TRAFFIC_BYTES: u64 = 20 * (1 << 40);
const US_TRAFFIC_BYTES: u64 = 1 << 40;

#[derive(Debug)]
pub(super) struct Location {
    pub(super) id: u64,
    pub(super) name: &'static str,
    description: &'static str,
    country: &'static str,
    city: &'static str,
    latitude: f64,
    longitude: f64,
    network_zone: &'static str,
    /// The location's one datacenter, e.g. `fsn1-dc14`, and its ID.
    datacenter: (u64, &'static str),
    us: bool,
}

pub(super) const LOCATIONS: [Location; 6] = [
    Location {
        id: 1,
        name: "fsn1",
        description: "Falkenstein DC Park 1",
        country: "DE",
        city: "Falkenstein",
        latitude: 50.47612,
        longitude: 12.370071,
        network_zone: "eu-central",
        datacenter: (4, "fsn1-dc14"),
        us: false,
    },
    Location {
        id: 2,
        name: "nbg1",
        description: "Nuremberg DC Park 1",
        country: "DE",
        city: "Nuremberg",
        latitude: 49.452102,
        longitude: 11.076665,
        network_zone: "eu-central",
        datacenter: (2, "nbg1-dc3"),
        us: false,
    },
    Location {
        id: 3,
        name: "hel1",
        description: "Helsinki DC Park 1",
        country: "FI",
        city: "Helsinki",
        latitude: 60.169855,
        longitude: 24.938379,
        network_zone: "eu-central",
        datacenter: (3, "hel1-dc2"),
        us: false,
    },
    Location {
        id: 4,
        name: "ash",
        description: "Ashburn, VA",
        country: "US",
        city: "Ashburn, VA",
        latitude: 39.045821,
        longitude: -77.487073,
        network_zone: "us-east",
        datacenter: (5, "ash-dc1"),
        us: true,
    },
    Location {
        id: 5,
        name: "hil",
        description: "Hillsboro, OR",
        country: "US",
        city: "Hillsboro, OR",
        latitude: 45.54222,
        longitude: -122.95133,
        network_zone: "us-west",
        datacenter: (6, "hil-dc1"),
        us: true,
    },
    Location {
        id: 6,
        name: "sin",
        description: "Singapore",
        country: "SG",
        city: "Singapore",
        latitude: 1.283333,
        longitude: 103.833333,
        network_zone: "ap-southeast",
        datacenter: (7, "sin-dc1"),
        us: false,
    },
];

pub(super) fn location(name: &str) -> Option<&'static Location> {
    LOCATIONS.iter().find(|l| l.name == name)
}

/// The location of a datacenter name such as `fsn1-dc14`.
pub(super) fn location_of_datacenter(name: &str) -> Option<&'static Location> {
    LOCATIONS.iter().find(|l| l.datacenter.1 == name)
}

impl Location {
    pub(super) fn to_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "description": self.description,
            "country": self.country, "city": self.city, "latitude": self.latitude,
            "longitude": self.longitude, "network_zone": self.network_zone,
        })
    }

    /// The datacenter object servers carry.
    pub(super) fn datacenter_json(&self) -> Value {
        let ids: Vec<u64> = SERVER_TYPES
            .iter()
            .filter(|t| t.offered_in(self))
            .map(|t| t.id)
            .collect();
        json!({
            "id": self.datacenter.0,
            "name": self.datacenter.1,
            "description": format!("{} DC {}", self.city, self.datacenter.0),
            "location": self.to_json(),
            "server_types": { "available": ids, "available_for_migration": ids, "supported": ids },
        })
    }
}

#[derive(Debug)]
pub(super) struct ServerType {
    pub(super) id: u64,
    pub(super) name: &'static str,
    description: &'static str,
    cores: u32,
    memory_gb: f64,
    pub(super) disk_gb: u64,
    cpu_type: &'static str,
    pub(super) architecture: &'static str,
    /// Net monthly price in EU locations, in cents.
    eu_monthly_cents: u64,
    /// Net monthly price in the US locations, in cents; `None` where the type is EU-only.
    us_monthly_cents: Option<u64>,
    deprecated: bool,
}

const fn shared(
    id: u64,
    name: &'static str,
    description: &'static str,
    (cores, memory_gb, disk_gb): (u32, f64, u64),
    architecture: &'static str,
    (eu_monthly_cents, us_monthly_cents): (u64, Option<u64>),
) -> ServerType {
    ServerType {
        id,
        name,
        description,
        cores,
        memory_gb,
        disk_gb,
        cpu_type: "shared",
        architecture,
        eu_monthly_cents,
        us_monthly_cents,
        deprecated: false,
    }
}

pub(super) const SERVER_TYPES: [ServerType; 12] = [
    ServerType {
        deprecated: true,
        ..shared(104, "cx22", "CX22", (2, 4.0, 40), "x86", (379, None))
    },
    shared(114, "cx23", "CX23", (2, 4.0, 40), "x86", (299, None)),
    shared(115, "cx33", "CX33", (4, 8.0, 80), "x86", (499, None)),
    shared(116, "cx43", "CX43", (8, 16.0, 160), "x86", (899, None)),
    shared(117, "cx53", "CX53", (16, 32.0, 320), "x86", (1699, None)),
    shared(118, "cpx22", "CPX22", (2, 4.0, 80), "x86", (649, Some(799))),
    shared(
        119,
        "cpx32",
        "CPX32",
        (4, 8.0, 160),
        "x86",
        (1199, Some(1399)),
    ),
    shared(
        120,
        "cpx42",
        "CPX42",
        (8, 16.0, 320),
        "x86",
        (2199, Some(2549)),
    ),
    shared(45, "cax11", "CAX11", (2, 4.0, 40), "arm", (379, None)),
    shared(93, "cax21", "CAX21", (4, 8.0, 80), "arm", (649, None)),
    shared(94, "cax31", "CAX31", (8, 16.0, 160), "arm", (1249, None)),
    shared(95, "cax41", "CAX41", (16, 32.0, 320), "arm", (2449, None)),
];

/// A type by name (`cx23`) or by ID (`"114"`).
pub(super) fn server_type(name_or_id: &str) -> Option<&'static ServerType> {
    SERVER_TYPES
        .iter()
        .find(|t| t.name == name_or_id || parse_id(name_or_id) == Some(t.id))
}

/// `"3.7900000000"`: Hetzner's decimal strings, from an amount in 1/10000 EUR.
fn decimal(ten_thousandths: u64) -> String {
    format!(
        "{}.{:04}000000",
        ten_thousandths / 10_000,
        ten_thousandths % 10_000
    )
}

/// `{"net", "gross"}` for a net amount in 1/10000 EUR.
fn price(net: u64) -> Value {
    let gross = (net * (100 + VAT_PERCENT) + 50) / 100;
    json!({ "net": decimal(net), "gross": decimal(gross) })
}

impl ServerType {
    fn monthly_cents(&self, location: &Location) -> Option<u64> {
        if location.name == "sin" {
            None
        } else if location.us {
            self.us_monthly_cents
        } else {
            Some(self.eu_monthly_cents)
        }
    }

    pub(super) fn offered_in(&self, location: &Location) -> bool {
        self.monthly_cents(location).is_some()
    }

    /// One entry of `prices`. The hourly price is the monthly one over 632 hours, rounded up
    /// to the next 1/10000 EUR, which is how Hetzner's hourly prices relate to its caps.
    fn price_json(&self, location: &Location) -> Option<Value> {
        let monthly = self.monthly_cents(location)? * 100;
        let hourly = monthly.div_ceil(632);
        let traffic = if location.us {
            US_TRAFFIC_BYTES
        } else {
            EU_TRAFFIC_BYTES
        };
        Some(json!({
            "location": location.name,
            "price_hourly": price(hourly),
            "price_monthly": price(monthly),
            "included_traffic": traffic,
            "price_per_tb_traffic": price(10_000),
        }))
    }

    fn prices(&self) -> Vec<Value> {
        LOCATIONS
            .iter()
            .filter_map(|l| self.price_json(l))
            .collect()
    }

    pub(super) fn included_traffic(&self, location: &Location) -> u64 {
        if location.us {
            US_TRAFFIC_BYTES
        } else {
            EU_TRAFFIC_BYTES
        }
    }

    fn deprecation(&self) -> Value {
        if self.deprecated {
            json!({
                "announced": "2026-09-01T09:00:00+00:00",
                "unavailable_after": "2027-03-01T09:00:00+00:00",
            })
        } else {
            Value::Null
        }
    }

    pub(super) fn to_json(&self) -> Value {
        let locations: Vec<Value> = LOCATIONS
            .iter()
            .filter(|l| self.offered_in(l))
            .map(|l| json!({ "id": l.id, "name": l.name, "deprecation": self.deprecation() }))
            .collect();
        json!({
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "cores": self.cores,
            "memory": self.memory_gb,
            "disk": self.disk_gb,
            "deprecated": self.deprecated,
            "deprecation": self.deprecation(),
            "prices": self.prices(),
            "storage_type": "local",
            "cpu_type": self.cpu_type,
            "architecture": self.architecture,
            "locations": locations,
        })
    }
}

#[derive(Debug)]
pub(super) struct Image {
    pub(super) id: u64,
    pub(super) name: &'static str,
    description: &'static str,
    kind: &'static str,
    pub(super) architecture: &'static str,
    os_flavor: &'static str,
    os_version: &'static str,
    created: &'static str,
}

const fn image(
    id: u64,
    (name, description, kind): (&'static str, &'static str, &'static str),
    architecture: &'static str,
    (os_flavor, os_version): (&'static str, &'static str),
    created: &'static str,
) -> Image {
    Image {
        id,
        name,
        description,
        kind,
        architecture,
        os_flavor,
        os_version,
        created,
    }
}

pub(super) const IMAGES: [Image; 6] = [
    image(
        114_690_387,
        ("debian-12", "Debian 12", "system"),
        "x86",
        ("debian", "12"),
        "2023-06-13T06:00:02+00:00",
    ),
    image(
        114_690_389,
        ("debian-12", "Debian 12", "system"),
        "arm",
        ("debian", "12"),
        "2023-06-13T06:00:02+00:00",
    ),
    image(
        161_547_269,
        ("ubuntu-24.04", "Ubuntu 24.04", "system"),
        "x86",
        ("ubuntu", "24.04"),
        "2024-04-25T06:00:04+00:00",
    ),
    image(
        161_547_270,
        ("ubuntu-24.04", "Ubuntu 24.04", "system"),
        "arm",
        ("ubuntu", "24.04"),
        "2024-04-25T06:00:04+00:00",
    ),
    image(
        167_298_801,
        ("docker-ce", "Docker CE", "app"),
        "x86",
        ("ubuntu", "24.04"),
        "2024-05-16T11:53:48+00:00",
    ),
    image(
        167_298_802,
        ("docker-ce", "Docker CE", "app"),
        "arm",
        ("ubuntu", "24.04"),
        "2024-05-16T11:53:48+00:00",
    ),
];

/// An image by ID, or by name for the given architecture (names are shared between the x86
/// and arm builds of one image; Hetzner picks the one matching the server type).
pub(super) fn image_for(name_or_id: &str, architecture: &str) -> Option<&'static Image> {
    match parse_id(name_or_id) {
        Some(id) => IMAGES.iter().find(|i| i.id == id),
        None => IMAGES
            .iter()
            .find(|i| i.name == name_or_id && i.architecture == architecture),
    }
}

impl Image {
    pub(super) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind,
            "status": "available",
            "name": self.name,
            "description": self.description,
            "image_size": null,
            "disk_size": 5,
            "created": self.created,
            "created_from": null,
            "bound_to": null,
            "os_flavor": self.os_flavor,
            "os_version": self.os_version,
            "rapid_deploy": true,
            "protection": { "delete": false },
            "deprecated": null,
            "deleted": null,
            "labels": {},
            "architecture": self.architecture,
        })
    }
}

pub(super) fn locations(query: &Query) -> Reply {
    let locations = LOCATIONS
        .iter()
        .filter(|l| query.get("name").is_none_or(|name| name == l.name))
        .map(Location::to_json)
        .collect();
    paginated(query, "locations", locations)
}

pub(super) fn server_types(query: &Query) -> Reply {
    let types = SERVER_TYPES
        .iter()
        .filter(|t| query.get("name").is_none_or(|name| name == t.name))
        .map(ServerType::to_json)
        .collect();
    paginated(query, "server_types", types)
}

pub(super) fn server_type_reply(id: &str) -> Reply {
    match parse_id(id).and_then(|id| SERVER_TYPES.iter().find(|t| t.id == id)) {
        Some(server_type) => Reply::json(200, json!({ "server_type": server_type.to_json() })),
        None => not_found("server type"),
    }
}

/// `GET /pricing`: every field the spec requires, with the server types and primary IPs
/// priced and the products the fake does not model (load balancers, floating IPs) empty.
pub(super) fn pricing() -> Reply {
    let server_types: Vec<Value> = SERVER_TYPES
        .iter()
        .map(|t| json!({ "id": t.id, "name": t.name, "prices": t.prices() }))
        .collect();
    let ip_prices = |monthly: u64| -> Vec<Value> {
        LOCATIONS
            .iter()
            .map(|l| {
                json!({
                    "location": l.name,
                    "price_hourly": price(monthly.div_ceil(632)),
                    "price_monthly": price(monthly),
                })
            })
            .collect()
    };
    Reply::json(
        200,
        json!({ "pricing": {
            "currency": "EUR",
            "vat_rate": format!("{VAT_PERCENT}.00"),
            "image": { "price_per_gb_month": price(110) },
            "floating_ip": { "price_monthly": price(30_000) },
            "floating_ips": [],
            "primary_ips": [
                { "type": "ipv4", "prices": ip_prices(5_000) },
                { "type": "ipv6", "prices": ip_prices(0) },
            ],
            "load_balancer_types": [],
            "server_backup": { "percentage": "20.00" },
            "volume": { "price_per_gb_month": price(440) },
            "server_types": server_types,
        } }),
    )
}

/// `GET /images`: filters `type`, `status`, `architecture`, `name` and `label_selector`.
pub(super) fn images(query: &Query) -> Reply {
    let selector = match query.get("label_selector").map(Selector::parse).transpose() {
        Ok(selector) => selector,
        Err(message) => return invalid_input(&[("label_selector", message)]),
    };
    let kinds = query.list("type");
    let statuses = query.list("status");
    let no_labels = Default::default();
    let images = IMAGES
        .iter()
        .filter(|i| kinds.is_empty() || kinds.contains(&i.kind))
        .filter(|_| statuses.is_empty() || statuses.contains(&"available"))
        .filter(|i| {
            query
                .get("architecture")
                .is_none_or(|a| a == i.architecture)
        })
        .filter(|i| query.get("name").is_none_or(|n| n == i.name))
        .filter(|_| selector.as_ref().is_none_or(|s| s.matches(&no_labels)))
        .map(Image::to_json)
        .collect();
    paginated(query, "images", images)
}

//! What Scaleway sells: Instance types with their prices and availability, and the
//! Marketplace's local images. Fixed data modelled on the real catalogue; the local images
//! have IDs that are stable across runs.

use serde_json::{Map, Value, json};

use super::{ZONES, invalid_argument, list_reply, page_of, stable_uuid};
use crate::fakes::CloudKnobs;
use crate::fakes::query::Query;

const GB: u64 = 1_000_000_000;
const GIB: u64 = 1 << 30;

#[derive(Debug)]
pub(super) struct ServerType {
    pub(super) name: &'static str,
    ncpus: u32,
    ram_gib: u64,
    /// `x86_64` or `arm64`.
    pub(super) arch: &'static str,
    hourly_price: f64,
    /// Local SSD storage in GB; 0 for types that boot from block storage only.
    local_gb: u64,
    /// Internet bandwidth, bits per second.
    internet_bps: u64,
}

const fn kind(
    name: &'static str,
    (ncpus, ram_gib): (u32, u64),
    arch: &'static str,
    hourly_price: f64,
    local_gb: u64,
    internet_mbps: u64,
) -> ServerType {
    ServerType {
        name,
        ncpus,
        ram_gib,
        arch,
        hourly_price,
        local_gb,
        internet_bps: internet_mbps * 1_000_000,
    }
}

/// DEV1-S, DEV1-M, PLAY2-NANO and PRO2-XXS keep the numbers the credential check's tests were
/// written against.
pub(super) const SERVER_TYPES: [ServerType; 10] = [
    kind("DEV1-S", (2, 2), "x86_64", 0.0088, 20, 200),
    kind("DEV1-M", (3, 4), "x86_64", 0.0198, 40, 300),
    kind("DEV1-L", (4, 8), "x86_64", 0.042, 80, 400),
    kind("PLAY2-NANO", (2, 4), "x86_64", 0.014, 0, 100),
    kind("PLAY2-MICRO", (4, 8), "x86_64", 0.028, 0, 200),
    kind("PLAY2-SMALL", (8, 16), "x86_64", 0.056, 0, 400),
    kind("PRO2-XXS", (2, 8), "x86_64", 0.055, 0, 350),
    kind("PRO2-XS", (4, 16), "x86_64", 0.11, 0, 700),
    kind("PRO2-S", (8, 32), "x86_64", 0.219, 0, 1500),
    kind("COPARM1-2C-8G", (2, 8), "arm64", 0.0426, 0, 200),
];

pub(super) fn server_type(name: &str) -> Option<&'static ServerType> {
    SERVER_TYPES.iter().find(|t| t.name == name)
}

impl ServerType {
    pub(super) fn local_storage(&self) -> bool {
        self.local_gb > 0
    }

    pub(super) fn local_bytes(&self) -> u64 {
        self.local_gb * GB
    }

    fn to_json(&self) -> Value {
        // Scaleway bills at most 730 hours a month.
        let monthly_price = (self.hourly_price * 730.0 * 100.0).round() / 100.0;
        let local = self.local_gb * GB;
        json!({
            "hourly_price": self.hourly_price,
            "monthly_price": monthly_price,
            "alt_names": [],
            "ncpus": self.ncpus,
            "ram": self.ram_gib * GIB,
            "arch": self.arch,
            "gpu": 0,
            "volumes_constraint": { "min_size": 0, "max_size": local },
            "per_volume_constraint": {
                "l_ssd": { "min_size": if local > 0 { GB } else { 0 }, "max_size": local },
            },
            "network": {
                "interfaces": [{ "internal_bandwidth": self.internet_bps, "internet_bandwidth": self.internet_bps }],
                "sum_internal_bandwidth": self.internet_bps,
                "sum_internet_bandwidth": self.internet_bps,
                "ipv6_support": true,
            },
            "capabilities": {
                "block_storage": true,
                "boot_types": ["local", "rescue"],
                "max_file_systems": 0,
            },
            "scratch_storage_max_size": null,
            "block_bandwidth": 524_288_000,
            "end_of_service": false,
        })
    }
}

/// The types as a name-keyed object, one page of them.
fn types_reply(query: &Query, entry: impl Fn(&ServerType) -> Value) -> super::Reply {
    let page = match page_of(query, "per_page", 50) {
        Ok(page) => page,
        Err(reply) => return reply,
    };
    let total = SERVER_TYPES.len();
    let servers: Map<String, Value> = page
        .slice(SERVER_TYPES.iter().collect())
        .into_iter()
        .map(|t| (t.name.to_owned(), entry(t)))
        .collect();
    super::Reply::json(200, json!({ "servers": servers })).with_header("x-total-count", total)
}

/// `GET /products/servers`.
pub(super) fn server_types(query: &Query) -> super::Reply {
    types_reply(query, ServerType::to_json)
}

/// `GET /products/servers/availability`: `shortage` where the capacity knob says so.
pub(super) fn availability(zone: &str, query: &Query, knobs: &CloudKnobs) -> super::Reply {
    types_reply(query, |t| {
        let availability = if knobs.is_unavailable(zone, t.name) {
            "shortage"
        } else {
            "available"
        };
        json!({ "availability": availability })
    })
}

/// The images the fake's Marketplace offers, by label, with their display names.
const LABELS: [(&str, &str); 4] = [
    ("ubuntu_noble", "Ubuntu 24.04 Noble Numbat"),
    ("ubuntu_jammy", "Ubuntu 22.04 Jammy Jellyfish"),
    ("debian_bookworm", "Debian 12 (Bookworm)"),
    ("docker", "Docker"),
];

/// One image in one zone, for one architecture and boot volume type.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LocalImage {
    pub(super) id: String,
    pub(super) label: &'static str,
    pub(super) name: &'static str,
    pub(super) arch: &'static str,
    pub(super) zone: &'static str,
    /// `instance_sbs` (boots from block storage, every type) or `instance_local` (local
    /// SSD, only types that have one).
    pub(super) kind: &'static str,
}

impl LocalImage {
    pub(super) fn compatible_types(&self) -> Vec<&'static str> {
        SERVER_TYPES
            .iter()
            .filter(|t| t.arch == self.arch && (self.kind == "instance_sbs" || t.local_storage()))
            .map(|t| t.name)
            .collect()
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "compatible_commercial_types": self.compatible_types(),
            "arch": self.arch,
            "zone": self.zone,
            "label": self.label,
            "type": self.kind,
        })
    }
}

/// Every local image in `zone`. Local-SSD images exist for x86 only, as no arm type has a
/// local SSD.
pub(super) fn images_in(zone: &str) -> Vec<LocalImage> {
    let Some(zone) = ZONES.iter().copied().find(|z| *z == zone) else {
        return Vec::new();
    };
    let mut images = Vec::new();
    for (label, name) in LABELS {
        for (arch, kind) in [
            ("x86_64", "instance_sbs"),
            ("x86_64", "instance_local"),
            ("arm64", "instance_sbs"),
        ] {
            images.push(LocalImage {
                id: stable_uuid(&[label, zone, arch, kind]),
                label,
                name,
                arch,
                zone,
                kind,
            });
        }
    }
    images
}

/// `GET /marketplace/v2/local-images?image_label=…&zone=…`, with the `arch`, `type` and
/// `commercial_type` filters. Only `image_label` is modelled: a query by `image_id` or
/// `version_id` finds nothing.
pub(super) fn local_images(query: &Query) -> super::Reply {
    let Some(zone) = query.get("zone") else {
        return invalid_argument("zone", "required", "zone is required");
    };
    if query.get("image_label").is_none()
        && query.get("image_id").is_none()
        && query.get("version_id").is_none()
    {
        return invalid_argument(
            "image_label",
            "required",
            "one of image_id, version_id or image_label must be set",
        );
    }
    let page = match page_of(query, "page_size", 50) {
        Ok(page) => page,
        Err(reply) => return reply,
    };
    let images: Vec<Value> = images_in(zone)
        .into_iter()
        .filter(|i| query.get("image_label") == Some(i.label))
        .filter(|i| query.get("arch").is_none_or(|a| a == i.arch))
        .filter(|i| {
            query
                .get("type")
                .is_none_or(|t| t == "unknown_type" || t == i.kind)
        })
        .filter(|i| {
            query
                .get("commercial_type")
                .is_none_or(|t| i.compatible_types().contains(&t))
        })
        .map(|i| i.to_json())
        .collect();
    list_reply("local_images", images, page, Some("total_count"))
}

/// A local image by ID, in any zone.
pub(super) fn image_by_id(id: &str) -> Option<LocalImage> {
    ZONES
        .iter()
        .flat_map(|zone| images_in(zone))
        .find(|i| i.id == id)
}

//! The response parsers never panic, whatever a provider (or something pretending to be one)
//! sends: arbitrary bytes, arbitrary JSON, and near-misses of the real shapes.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly by design")]

use proptest::prelude::*;
use sam_cloud::fuzzing;
use serde_json::{Value, json};

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        // Strings that look like the fields the parsers read.
        prop::sample::select(vec![
            "running",
            "off",
            "stopped",
            "stopped in place",
            "1.2.3.4",
            "::1",
            "2001:db8::/64",
            "999.1.1.1",
            "fsn1",
            "fr-par-1",
            "",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "server",
                    "id",
                    "name",
                    "status",
                    "state",
                    "created",
                    "public_net",
                    "ipv4",
                    "ipv6",
                    "ip",
                    "server_type",
                    "location",
                    "datacenter",
                    "labels",
                    "zone",
                    "commercial_type",
                    "tags",
                    "public_ip",
                    "public_ips",
                    "address",
                    "error",
                    "code",
                    "message",
                    "type",
                    "details",
                    "argument_name",
                    "help_message",
                ])
                .prop_map(str::to_owned),
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn parse_all(body: &[u8], status: u16) {
    let _ = fuzzing::hetzner_sizes(body, body, Some("fsn1"));
    let _ = fuzzing::hetzner_sizes(body, body, None);
    let _ = fuzzing::scaleway_sizes(body, body);
    let _ = fuzzing::hetzner_server(body);
    let _ = fuzzing::scaleway_server(body);
    let error = fuzzing::hetzner_error(status, body);
    assert!(!error.to_string().is_empty());
    let error = fuzzing::scaleway_error(status, body);
    assert!(!error.to_string().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512), status in 100u16..600) {
        parse_all(&body, status);
    }

    #[test]
    fn arbitrary_json_never_panics(value in any_json(), status in 100u16..600) {
        parse_all(value.to_string().as_bytes(), status);
    }

    #[test]
    fn near_miss_servers_never_panic(value in any_json(), ip in ".{0,30}", id in any::<u64>()) {
        let hetzner = json!({ "server": {
            "id": id, "name": "x", "status": "running", "created": "2026-01-01T00:00:00Z",
            "public_net": { "ipv4": { "ip": ip }, "ipv6": value },
            "server_type": { "name": "cx23" }, "location": { "name": "fsn1" }, "labels": {},
        }});
        let _ = fuzzing::hetzner_server(hetzner.to_string().as_bytes());
        let scaleway = json!({ "server": {
            "id": "x", "name": "x", "state": "running", "commercial_type": "DEV1-S",
            "zone": "fr-par-1", "tags": ["a=b", "c"], "public_ip": { "address": ip },
            "public_ips": [value],
        }});
        let _ = fuzzing::scaleway_server(scaleway.to_string().as_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Real catalogue shapes with hostile numbers and strings in the fields SAM converts.
    #[test]
    fn near_miss_catalogues_never_panic(
        memory in any::<f64>(), disk in any::<f64>(), cores in any::<i64>(),
        price in ".{0,12}", arch in ".{0,8}", ram in any::<u64>(), hourly in any::<f32>(),
        monthly in proptest::option::of(any::<f32>()), min_size in any::<u64>(),
    ) {
        let types = json!({
            "server_types": [{
                "name": "cx23", "cores": cores, "memory": memory, "disk": disk,
                "architecture": arch, "deprecated": null,
                "prices": [{ "location": "fsn1", "price_hourly": { "net": price, "gross": "1" },
                             "price_monthly": { "net": "3.0", "gross": "4" } }],
            }],
            "meta": { "pagination": { "next_page": null } },
        });
        let pricing = json!({ "pricing": { "currency": "EUR", "server_types": [] } });
        let _ = fuzzing::hetzner_sizes(types.to_string().as_bytes(), pricing.to_string().as_bytes(), Some("fsn1"));
        let catalogue = json!({ "servers": { "DEV1-S": {
            "hourly_price": hourly, "monthly_price": monthly, "ncpus": 2, "ram": ram,
            "arch": arch, "volumes_constraint": { "min_size": min_size, "max_size": 0 },
        }}});
        let availability = json!({ "servers": { "DEV1-S": { "availability": price } } });
        let _ = fuzzing::scaleway_sizes(catalogue.to_string().as_bytes(), availability.to_string().as_bytes());
    }
}

#[test]
fn a_price_that_is_not_a_number_is_a_clear_error() {
    let types = json!({
        "server_types": [{
            "name": "cx23", "cores": 2, "memory": 4.0, "disk": 40.0, "architecture": "x86",
            "deprecated": false,
            "prices": [{ "location": "fsn1", "price_hourly": { "net": "free", "gross": "1" },
                         "price_monthly": { "net": "3.0", "gross": "4" } }],
        }],
        "meta": { "pagination": { "next_page": null } },
    });
    let pricing = json!({ "pricing": { "currency": "EUR", "server_types": [] } });
    let error = fuzzing::hetzner_sizes(
        types.to_string().as_bytes(),
        pricing.to_string().as_bytes(),
        None,
    )
    .unwrap_err();
    assert_eq!(error.code(), "unexpected_response");
    assert!(error.to_string().contains("price"), "{error}");
}

#[test]
fn a_valid_server_parses_and_an_invalid_ip_is_a_clear_error() {
    let body = json!({ "server": {
        "id": 42, "name": "sam-ws", "status": "running", "created": "2026-01-01T00:00:00Z",
        "public_net": { "ipv4": { "ip": "203.0.113.7" }, "ipv6": { "ip": "2001:db8::/64" } },
        "server_type": { "name": "cx23" }, "datacenter": { "location": { "name": "nbg1" } },
        "labels": { "sam-install": "a" },
    }});
    let server = fuzzing::hetzner_server(body.to_string().as_bytes()).unwrap();
    assert_eq!(server.id.location, "nbg1");
    assert_eq!(server.ipv4.unwrap().to_string(), "203.0.113.7");
    assert_eq!(server.ipv6.unwrap().to_string(), "2001:db8::1");
    let mut bad = body.clone();
    bad["server"]["public_net"]["ipv4"]["ip"] = json!("999.1.1.1");
    let error = fuzzing::hetzner_server(bad.to_string().as_bytes()).unwrap_err();
    assert_eq!(error.code(), "unexpected_response");
}

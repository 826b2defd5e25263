//! `sam cloud …` against the fake Hetzner and Scaleway APIs (via `SAM_HETZNER_API_URL` and
//! `SAM_SCALEWAY_API_URL`), with the credential in the real keyring.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

mod common;

use std::collections::BTreeMap;

use common::{Cli, error_message, leaks};
use sam_testkit::{FakeProviders, Fault, Provider, SeedServer};

const TOKEN: &str = "cliCloudHetznerA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2W3x4Y";
const SCW_ACCESS: &str = "SCWABCDEFGHIJKLMNOPQ";
const SCW_SECRET: &str = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
const SCW_PROJECT: &str = "6d9b4d62-1c3e-4f5a-9b8c-7d6e5f4a3b2c";

fn store_hetzner(cli: &Cli) {
    let (ok, out) = cli.json(
        &[
            "credentials",
            "set",
            "hetzner_token",
            "--no-check",
            "--json",
        ],
        format!("{TOKEN}\n").as_bytes(),
    );
    assert!(ok, "{out}");
}

fn store_scaleway(cli: &Cli) {
    let (ok, out) = cli.json(
        &[
            "credentials",
            "set",
            "scaleway_keys",
            "--field",
            &format!("access_key={SCW_ACCESS}"),
            "--field",
            &format!("project_id={SCW_PROJECT}"),
            "--no-check",
            "--json",
        ],
        format!("{SCW_SECRET}\n").as_bytes(),
    );
    assert!(ok, "{out}");
}

fn install_id(cli: &Cli) -> String {
    let db = cli.data.path().join("sam.sqlite3");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.query_row(
        "SELECT value FROM settings WHERE key = 'install.id'",
        [],
        |row| row.get(0),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locations_and_sizes_with_prices_for_both_providers() {
    let fake = FakeProviders::start().await.unwrap();
    fake.accept(Provider::Hetzner, TOKEN);
    fake.accept(Provider::Scaleway, SCW_SECRET);
    let cli = Cli::new(&fake);
    store_hetzner(&cli);
    store_scaleway(&cli);

    let (ok, locations) = cli.json(
        &["cloud", "locations", "--provider", "hetzner", "--json"],
        b"",
    );
    assert!(ok, "{locations}");
    let ids: Vec<&str> = locations
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"fsn1") && ids.contains(&"nbg1"), "{ids:?}");

    let (ok, sizes) = cli.json(
        &[
            "cloud",
            "sizes",
            "--provider",
            "hetzner",
            "--location",
            "fsn1",
            "--json",
        ],
        b"",
    );
    assert!(ok, "{sizes}");
    let cx23 = sizes
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "cx23")
        .unwrap();
    assert_eq!(cx23["arch"], "x86_64");
    assert!(cx23["vcpus"].as_u64().unwrap() >= 2);
    let price = &cx23["prices"][0];
    assert_eq!(price["location"], "fsn1");
    assert!(price["hourly"].as_f64().unwrap() > 0.0);
    assert!(price["monthly"].as_f64().unwrap() > price["hourly"].as_f64().unwrap());

    let (ok, sizes) = cli.json(
        &[
            "cloud",
            "sizes",
            "--provider",
            "scaleway",
            "--location",
            "fr-par-1",
            "--json",
        ],
        b"",
    );
    assert!(ok, "{sizes}");
    assert!(
        sizes
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == "DEV1-S")
    );

    // People get a table.
    let out = cli.run(
        &[
            "cloud",
            "sizes",
            "--provider",
            "scaleway",
            "--location",
            "fr-par-1",
        ],
        b"",
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("DEV1-S") && text.contains("EUR/h"), "{text}");

    // The token went in the Authorization header only: not in the data folder, not in a URL.
    assert!(leaks(cli.data.path(), TOKEN).is_empty());
    assert!(
        fake.requests()
            .iter()
            .all(|r| !r.query.as_deref().unwrap_or("").contains(TOKEN))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_lists_only_this_installs_servers() {
    let fake = FakeProviders::start().await.unwrap();
    fake.accept(Provider::Hetzner, TOKEN);
    let cli = Cli::new(&fake);
    store_hetzner(&cli);
    let (ok, empty) = cli.json(
        &["cloud", "servers", "--provider", "hetzner", "--json"],
        b"",
    );
    assert!(ok, "{empty}");
    assert_eq!(empty, serde_json::json!([]));

    let install = install_id(&cli);
    let labels = |install: &str, workspace: &str| -> BTreeMap<String, String> {
        [
            ("sam-install", install),
            ("sam-workspace", workspace),
            ("sam-created-by", "sam-desktop"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    };
    for (name, install) in [("mine", install.as_str()), ("theirs", "0123456789abcdef")] {
        fake.seed_server(
            Provider::Hetzner,
            SeedServer {
                name: name.into(),
                location: "fsn1".into(),
                server_type: "cx23".into(),
                labels: labels(install, "ws1"),
                running: true,
            },
        );
    }
    let (ok, servers) = cli.json(
        &["cloud", "servers", "--provider", "hetzner", "--json"],
        b"",
    );
    assert!(ok, "{servers}");
    let names: Vec<&str> = servers
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mine"]);
    assert_eq!(servers[0]["labels"]["sam-install"], install.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_errors_keep_their_code_and_never_the_token() {
    let fake = FakeProviders::start().await.unwrap();
    let cli = Cli::new(&fake);
    store_hetzner(&cli);
    // Not accepted by the fake: unauthorized.
    let (ok, out) = cli.json(
        &["cloud", "locations", "--provider", "hetzner", "--json"],
        b"",
    );
    assert!(!ok);
    assert_eq!(out["error"]["code"], "unauthorized", "{out}");
    assert!(error_message(&out).contains("Settings"), "{out}");
    assert!(!out.to_string().contains(TOKEN));

    fake.accept(Provider::Hetzner, TOKEN);
    fake.inject(Provider::Hetzner, Fault::RateLimited { reset_secs: 7200 });
    let (ok, out) = cli.json(&["cloud", "sizes", "--provider", "hetzner", "--json"], b"");
    assert!(!ok);
    assert_eq!(out["error"]["code"], "rate_limited", "{out}");
    assert_eq!(out["error"]["transient"], true);

    // No credential for the provider at all.
    let (ok, out) = cli.json(
        &["cloud", "locations", "--provider", "scaleway", "--json"],
        b"",
    );
    assert!(!ok);
    assert!(
        error_message(&out).to_lowercase().contains("scaleway"),
        "{out}"
    );

    // An unknown zone is refused by SAM before any request.
    fake.clear_faults();
    store_scaleway(&cli);
    let before = fake.requests().len();
    let (ok, out) = cli.json(
        &[
            "cloud",
            "sizes",
            "--provider",
            "scaleway",
            "--location",
            "mars-1",
            "--json",
        ],
        b"",
    );
    assert!(!ok);
    assert_eq!(out["error"]["code"], "invalid_request");
    assert!(error_message(&out).contains("unknown zone"), "{out}");
    assert_eq!(fake.requests().len(), before);
}

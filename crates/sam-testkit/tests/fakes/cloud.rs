//! The stateful cloud fakes (Hetzner Cloud, Scaleway Instances), driven with a plain HTTP
//! client: shapes, state machines, knobs and the connection-level faults.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Client, Method, RequestBuilder, Response};
use sam_testkit::{FakeProviders, Fault, Provider, SeedServer};
use serde_json::{Value, json};

const HETZNER_TOKEN: &str = "hetzner-rw-token";
const SCW_KEY: &str = "0e5b1c2d-3f4a-4b5c-8d9e-0f1a2b3c4d5e";
const ZONE: &str = "fr-par-1";
/// base64("abc"): a key blob whose MD5 is RFC 1321's test vector.
const KEY_ABC: &str = "ssh-ed25519 YWJj alice@laptop";
const KEY_ABC_MD5: &str = "90:01:50:98:3c:d2:4f:b0:d6:96:3f:7d:28:e1:7f:72";
const KEY_OTHER: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOb0 bob@desk";

// ---- helpers ----------------------------------------------------------------------------

struct Fixture {
    fake: FakeProviders,
    client: Client,
}

impl Fixture {
    async fn start() -> Self {
        let fake = FakeProviders::start().await.unwrap();
        fake.accept(Provider::Hetzner, HETZNER_TOKEN);
        fake.accept(Provider::Scaleway, SCW_KEY);
        Self {
            fake,
            client: Client::new(),
        }
    }

    /// A Hetzner request; `path` is below `/v1`, e.g. `servers?page=2`.
    fn hetzner(&self, method: Method, path: &str) -> RequestBuilder {
        let url = format!("{}/{path}", self.fake.hetzner_url());
        self.client.request(method, url).bearer_auth(HETZNER_TOKEN)
    }

    /// A Scaleway request; `path` is below the Scaleway root, e.g. `instance/v1/...`.
    fn scaleway(&self, method: Method, path: &str) -> RequestBuilder {
        let url = format!("{}/{path}", self.fake.scaleway_url());
        self.client
            .request(method, url)
            .header("x-auth-token", SCW_KEY)
    }

    /// A Scaleway Instance request in [`ZONE`]; `path` is below the zone.
    fn instance(&self, method: Method, path: &str) -> RequestBuilder {
        self.scaleway(method, &format!("instance/v1/zones/{ZONE}/{path}"))
    }

    async fn hetzner_create(&self, body: Value) -> (u16, Value) {
        send(self.hetzner(Method::POST, "servers").json(&body)).await
    }

    async fn scaleway_create(&self, body: Value) -> (u16, Value) {
        send(self.instance(Method::POST, "servers").json(&body)).await
    }
}

async fn send(request: RequestBuilder) -> (u16, Value) {
    json(request.send().await.unwrap()).await
}

async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn seed(name: &str, location: &str, server_type: &str, pairs: &[(&str, &str)]) -> SeedServer {
    SeedServer {
        name: name.to_owned(),
        location: location.to_owned(),
        server_type: server_type.to_owned(),
        labels: labels(pairs),
        running: true,
    }
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

fn hetzner_order(name: &str) -> Value {
    json!({ "name": name, "server_type": "cx23", "location": "fsn1", "image": "ubuntu-24.04" })
}

fn scaleway_order(name: &str) -> Value {
    json!({ "name": name, "commercial_type": "DEV1-S", "image": "ubuntu_noble", "tags": ["sam"] })
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

// ---- Hetzner ----------------------------------------------------------------------------

#[tokio::test]
async fn hetzner_catalogue_has_types_prices_and_images() {
    let f = Fixture::start().await;

    let (status, body) = send(f.hetzner(Method::GET, "server_types")).await;
    assert_eq!(status, 200);
    let types = body["server_types"].as_array().unwrap();
    let by_name = |name: &str| types.iter().find(|t| t["name"] == name).unwrap().clone();
    for name in [
        "cx23", "cx33", "cx43", "cx53", "cpx22", "cpx32", "cpx42", "cax11", "cax41",
    ] {
        let t = by_name(name);
        assert!(
            t["cores"].is_u64() && t["memory"].is_f64() && t["disk"].is_u64(),
            "{t}"
        );
        assert_eq!(t["deprecated"], false);
    }
    assert_eq!(by_name("cax21")["architecture"], "arm");
    assert_eq!(by_name("cx23")["architecture"], "x86");
    assert_eq!(by_name("cx23")["cpu_type"], "shared");
    let cx22 = by_name("cx22");
    assert_eq!(cx22["deprecated"], true);
    assert!(cx22["deprecation"]["unavailable_after"].is_string());
    let fsn1 = by_name("cx23")["prices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["location"] == "fsn1")
        .unwrap()
        .clone();
    assert_eq!(fsn1["price_monthly"]["net"], "2.9900000000");
    assert_eq!(fsn1["price_monthly"]["gross"], "3.5581000000");
    assert!(
        fsn1["price_hourly"]["net"]
            .as_str()
            .unwrap()
            .starts_with("0.00")
    );
    assert!(fsn1["included_traffic"].as_u64().unwrap() > 0);
    assert!(fsn1["price_per_tb_traffic"]["gross"].is_string());
    let cpx22 = by_name("cpx22");
    let cpx_locations: Vec<&str> = cpx22["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["location"].as_str().unwrap())
        .collect();
    assert_eq!(cpx_locations, ["fsn1", "nbg1", "hel1", "ash", "hil"]);
    assert_eq!(by_name("cax11")["prices"].as_array().unwrap().len(), 3);
    assert_eq!(body["meta"]["pagination"]["total_entries"], types.len());

    let (status, body) = send(f.hetzner(Method::GET, "pricing")).await;
    assert_eq!(status, 200);
    let pricing = &body["pricing"];
    assert_eq!(pricing["currency"], "EUR");
    assert_eq!(pricing["vat_rate"], "19.00");
    for field in [
        "floating_ips",
        "primary_ips",
        "load_balancer_types",
        "server_types",
    ] {
        assert!(pricing[field].is_array(), "{field}");
    }
    let cax11 = pricing["server_types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "cax11")
        .unwrap();
    assert!(cax11["id"].is_u64());
    assert_eq!(cax11["prices"][0]["location"], "fsn1");

    let (_, body) = send(f.hetzner(Method::GET, "images?type=app&architecture=arm")).await;
    let images = body["images"].as_array().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["name"], "docker-ce");
    assert_eq!(images[0]["architecture"], "arm");
    let (_, body) = send(f.hetzner(Method::GET, "images?name=ubuntu-24.04")).await;
    let arches: Vec<&str> = body["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(arches, ["x86", "arm"]);
    let (_, body) =
        send(f.hetzner(Method::GET, "images?type=system&type=app&status=available")).await;
    assert_eq!(body["images"].as_array().unwrap().len(), 6);
    let (_, body) = send(f.hetzner(Method::GET, "images?type=snapshot")).await;
    assert_eq!(body["images"], json!([]));
}

#[tokio::test]
async fn hetzner_ssh_keys_are_unique_by_name_and_fingerprint() {
    let f = Fixture::start().await;
    let post = |body: Value| send(f.hetzner(Method::POST, "ssh_keys").json(&body));

    let (status, body) =
        post(json!({ "name": "alice", "public_key": KEY_ABC, "labels": { "app": "sam" } })).await;
    assert_eq!(status, 201);
    let key = &body["ssh_key"];
    assert_eq!(key["fingerprint"], KEY_ABC_MD5);
    assert!(key["id"].is_u64());
    assert_eq!(key["labels"]["app"], "sam");
    let id = key["id"].as_u64().unwrap();

    let (status, body) = post(json!({ "name": "again", "public_key": KEY_ABC })).await;
    assert_eq!((status, error_code(&body)), (409, "uniqueness_error"));
    let (status, body) = post(json!({ "name": "alice", "public_key": KEY_OTHER })).await;
    assert_eq!((status, error_code(&body)), (409, "uniqueness_error"));
    let (status, body) = post(json!({ "name": "bad", "public_key": "not a key!" })).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_input"));
    let (status, body) = send(f.hetzner(Method::POST, "ssh_keys").body("{nope")).await;
    assert_eq!((status, error_code(&body)), (400, "json_error"));
    let (status, _) = post(json!({ "name": "bob", "public_key": KEY_OTHER })).await;
    assert_eq!(status, 201);

    let (_, body) =
        send(f.hetzner(Method::GET, &format!("ssh_keys?fingerprint={KEY_ABC_MD5}"))).await;
    assert_eq!(names(&body, "ssh_keys"), ["alice"]);
    let (_, body) = send(f.hetzner(Method::GET, "ssh_keys?name=bob")).await;
    assert_eq!(names(&body, "ssh_keys"), ["bob"]);
    let (_, body) = send(f.hetzner(Method::GET, "ssh_keys?label_selector=app%3Dsam")).await;
    assert_eq!(names(&body, "ssh_keys"), ["alice"]);
    let (_, body) = send(f.hetzner(Method::GET, "ssh_keys?label_selector=!app")).await;
    assert_eq!(names(&body, "ssh_keys"), ["bob"]);

    let (status, body) = send(f.hetzner(Method::GET, &format!("ssh_keys/{id}"))).await;
    assert_eq!(
        (status, body["ssh_key"]["name"].as_str()),
        (200, Some("alice"))
    );
    let keys = f.fake.cloud_ssh_keys(Provider::Hetzner);
    assert_eq!(keys.len(), 2);
    assert_eq!(
        (keys[0].name.as_str(), keys[0].public_key.as_str()),
        ("alice", KEY_ABC)
    );

    let response = f
        .hetzner(Method::DELETE, &format!("ssh_keys/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    let (status, body) = send(f.hetzner(Method::GET, &format!("ssh_keys/{id}"))).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    assert_eq!(f.fake.cloud_ssh_keys(Provider::Hetzner).len(), 1);
}

#[tokio::test]
async fn hetzner_server_boots_over_polls_and_actions_finish_over_polls() {
    let f = Fixture::start().await;
    send(
        f.hetzner(Method::POST, "ssh_keys")
            .json(&json!({ "name": "sam", "public_key": KEY_ABC })),
    )
    .await;
    f.fake.set_boot_polls(Provider::Hetzner, 2);
    f.fake.set_action_polls(2);

    let (status, body) = f
        .hetzner_create(json!({
            "name": "sam-1", "server_type": "cax11", "location": "nbg1", "image": "docker-ce",
            "ssh_keys": ["sam"], "user_data": "#cloud-config\n", "labels": { "managed-by": "sam" },
            "start_after_create": true, "public_net": { "enable_ipv4": true, "enable_ipv6": false },
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    let server = &body["server"];
    let id = server["id"].as_u64().unwrap();
    assert_eq!(server["status"], "initializing");
    assert!(
        server["public_net"]["ipv4"]["ip"].is_string(),
        "the IPv4 exists from creation"
    );
    assert!(server["public_net"]["ipv6"].is_null());
    assert_eq!(server["server_type"]["name"], "cax11");
    assert_eq!(server["image"]["architecture"], "arm");
    assert_eq!(server["location"]["name"], "nbg1");
    assert_eq!(server["datacenter"]["location"]["name"], "nbg1");
    assert_eq!(server["labels"]["managed-by"], "sam");
    assert!(body["root_password"].is_null());
    assert_eq!(body["action"]["command"], "create_server");
    assert_eq!(body["action"]["status"], "running");
    assert_eq!(
        body["action"]["resources"][0],
        json!({ "id": id, "type": "server" })
    );
    assert_eq!(body["next_actions"][0]["command"], "start_server");

    let held = &f.fake.cloud_servers(Provider::Hetzner)[0];
    assert_eq!(held.image, "docker-ce");
    assert_eq!(held.ssh_keys, ["sam"]);
    assert_eq!(held.user_data.as_deref(), Some("#cloud-config\n"));
    assert_eq!(held.labels, labels(&[("managed-by", "sam")]));

    let status_of = |body: &Value| body["server"]["status"].as_str().unwrap().to_owned();
    let (_, body) = send(f.hetzner(Method::GET, &format!("servers/{id}"))).await;
    assert_eq!(status_of(&body), "starting");
    let (_, body) = send(f.hetzner(Method::GET, &format!("servers/{id}"))).await;
    assert_eq!(status_of(&body), "running");

    let action = body_action(&f, id, "poweroff").await;
    assert_eq!(action["command"], "stop_server");
    let poll = || send(f.hetzner(Method::GET, &format!("actions/{}", action["id"])));
    let (status, body) = poll().await;
    assert_eq!(
        (status, body["action"]["status"].as_str()),
        (200, Some("running"))
    );
    assert!(body["action"]["finished"].is_null());
    let (_, body) = poll().await;
    assert_eq!(body["action"]["status"], "running");
    let (_, body) = poll().await;
    assert_eq!(body["action"]["status"], "success");
    assert_eq!(body["action"]["progress"], 100);
    assert!(body["action"]["finished"].is_string());
    assert!(body["action"]["error"].is_null());
    assert_eq!(f.fake.cloud_servers(Provider::Hetzner)[0].status, "off");

    body_action(&f, id, "poweron").await;
    let (_, body) = send(f.hetzner(Method::GET, &format!("servers/{id}"))).await;
    assert_eq!(status_of(&body), "starting");
    let (_, body) = send(f.hetzner(Method::GET, "servers")).await;
    assert_eq!(body["servers"][0]["status"], "running", "a list polls too");
    for action in ["reboot", "shutdown"] {
        body_action(&f, id, action).await;
    }
    let (status, body) =
        send(f.hetzner(Method::POST, &format!("servers/{id}/actions/explode"))).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));

    let (status, body) = send(f.hetzner(Method::DELETE, &format!("servers/{id}"))).await;
    assert_eq!(
        (status, body["action"]["command"].as_str()),
        (200, Some("delete_server"))
    );
    let (status, body) = send(f.hetzner(Method::GET, &format!("servers/{id}"))).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, _) = send(f.hetzner(Method::DELETE, &format!("servers/{id}"))).await;
    assert_eq!(status, 404);
    assert!(f.fake.cloud_servers(Provider::Hetzner).is_empty());
}

async fn body_action(f: &Fixture, id: u64, action: &str) -> Value {
    let (status, body) =
        send(f.hetzner(Method::POST, &format!("servers/{id}/actions/{action}"))).await;
    assert_eq!(status, 201, "{action}: {body}");
    body["action"].clone()
}

#[tokio::test]
async fn hetzner_refuses_bad_orders_duplicates_quota_and_capacity() {
    let f = Fixture::start().await;
    f.fake.accept_read_only(Provider::Hetzner, "ro-token");

    let mut refusals = vec![
        (
            json!({ "name": "a", "server_type": "cx99", "image": "ubuntu-24.04" }),
            "server_type",
        ),
        (
            json!({ "name": "a", "server_type": "cx23", "location": "mars1", "image": "debian-12" }),
            "location",
        ),
        (
            json!({ "name": "a", "server_type": "cx23", "image": "windows-11" }),
            "image",
        ),
        // An x86 image by ID for an arm type.
        (
            json!({ "name": "a", "server_type": "cax11", "image": 161_547_269 }),
            "image",
        ),
        (
            json!({ "name": "a", "server_type": "cax11", "location": "ash", "image": "debian-12" }),
            "server_type",
        ),
        (
            json!({ "name": "a", "server_type": "cx23", "image": "debian-12", "ssh_keys": ["nobody"] }),
            "ssh_keys",
        ),
        (
            json!({ "name": "not a hostname", "server_type": "cx23", "image": "debian-12" }),
            "name",
        ),
        (
            json!({ "server_type": "cx23", "image": "debian-12" }),
            "name",
        ),
    ];
    refusals.push((
        json!({ "name": "a", "server_type": "cx23", "image": "debian-12", "user_data": "x".repeat(32 * 1024 + 1) }),
        "user_data",
    ));
    for (order, field) in refusals {
        let (status, body) = f.hetzner_create(order.clone()).await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "invalid_input"),
            "{order}"
        );
        assert_eq!(
            body["error"]["details"]["fields"][0]["name"], field,
            "{order}"
        );
    }
    let exactly_limit = json!({
        "name": "limit", "server_type": "cx23", "image": "debian-12", "user_data": "x".repeat(32 * 1024),
    });
    assert_eq!(f.hetzner_create(exactly_limit).await.0, 201);
    assert!(
        f.fake.cloud_servers(Provider::Hetzner).len() == 1,
        "refused orders create nothing"
    );

    let (status, body) = send(
        f.client
            .post(format!("{}/servers", f.fake.hetzner_url()))
            .bearer_auth("ro-token")
            .json(&hetzner_order("ro")),
    )
    .await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"));

    assert_eq!(f.hetzner_create(hetzner_order("web-1")).await.0, 201);
    let (status, body) = f.hetzner_create(hetzner_order("web-1")).await;
    assert_eq!((status, error_code(&body)), (409, "uniqueness_error"));
    assert_eq!(body["error"]["details"]["fields"][0]["name"], "name");

    f.fake
        .set_capacity(Provider::Hetzner, "fsn1", Some("cx23"), true);
    let (status, body) = f.hetzner_create(hetzner_order("web-2")).await;
    assert_eq!((status, error_code(&body)), (412, "resource_unavailable"));
    assert_eq!(
        body["error"]["message"],
        "server type cx23 unavailable in location fsn1"
    );
    let other_type =
        json!({ "name": "web-2", "server_type": "cx33", "location": "fsn1", "image": "debian-12" });
    assert_eq!(
        f.hetzner_create(other_type).await.0,
        201,
        "only cx23 is short"
    );
    f.fake.set_capacity(Provider::Hetzner, "fsn1", None, true);
    let (status, _) = f
        .hetzner_create(json!({ "name": "web-3", "server_type": "cx43", "location": "fsn1", "image": "debian-12" }))
        .await;
    assert_eq!(status, 412);
    f.fake.set_capacity(Provider::Hetzner, "fsn1", None, false);
    assert_eq!(
        f.hetzner_create(hetzner_order("web-3")).await.0,
        201,
        "capacity is back"
    );

    f.fake.set_server_quota(Provider::Hetzner, 4);
    let (status, body) = f.hetzner_create(hetzner_order("web-4")).await;
    assert_eq!(
        (status, error_code(&body)),
        (403, "resource_limit_exceeded")
    );
    assert_eq!(f.fake.cloud_servers(Provider::Hetzner).len(), 4);
}

#[tokio::test]
async fn hetzner_lists_paginate_and_filter_by_label_selector() {
    let f = Fixture::start().await;
    for n in 0..30 {
        let env = if n % 3 == 0 { "prod" } else { "dev" };
        let mut pairs = vec![("env", env)];
        if n % 2 == 0 {
            pairs.push(("managed-by", "sam"));
        }
        let mut server = seed(&format!("s{n:02}"), "fsn1", "cx23", &pairs);
        server.running = n != 29;
        f.fake.seed_server(Provider::Hetzner, server);
    }

    let (_, body) = send(f.hetzner(Method::GET, "servers")).await;
    let pagination = &body["meta"]["pagination"];
    assert_eq!(body["servers"].as_array().unwrap().len(), 25);
    assert_eq!(
        *pagination,
        json!({ "page": 1, "per_page": 25, "previous_page": null, "next_page": 2, "last_page": 2, "total_entries": 30 })
    );
    let (_, body) = send(f.hetzner(Method::GET, "servers?page=2&per_page=10")).await;
    assert_eq!(names(&body, "servers")[0], "s10");
    assert_eq!(body["meta"]["pagination"]["previous_page"], 1);
    assert_eq!(body["meta"]["pagination"]["next_page"], 3);
    let (_, body) = send(f.hetzner(Method::GET, "servers?page=3&per_page=10")).await;
    assert!(body["meta"]["pagination"]["next_page"].is_null());
    let (_, body) = send(f.hetzner(Method::GET, "servers?per_page=100")).await;
    assert_eq!(
        body["meta"]["pagination"]["per_page"], 50,
        "per_page is capped at 50"
    );
    assert_eq!(body["servers"].as_array().unwrap().len(), 30);
    let (status, body) = send(f.hetzner(Method::GET, "servers?page=zero")).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_input"));

    let count = |selector: &'static str| {
        let request = f
            .hetzner(Method::GET, "servers")
            .query(&[("label_selector", selector), ("per_page", "50")]);
        async move {
            send(request).await.1["meta"]["pagination"]["total_entries"]
                .as_u64()
                .unwrap()
        }
    };
    assert_eq!(count("env=prod").await, 10);
    assert_eq!(count("env!=prod").await, 20);
    assert_eq!(count("managed-by").await, 15);
    assert_eq!(count("!managed-by").await, 15);
    assert_eq!(count("env=prod,managed-by=sam").await, 5);
    assert_eq!(count("env in (prod,dev),!managed-by").await, 15);
    assert_eq!(count("env=staging").await, 0);
    let (status, body) = send(f.hetzner(Method::GET, "servers?label_selector=%3Dbad")).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_input"));

    let (_, body) = send(f.hetzner(Method::GET, "servers?name=s07")).await;
    assert_eq!(names(&body, "servers"), ["s07"]);
    let (_, body) = send(f.hetzner(Method::GET, "servers?status=off")).await;
    assert_eq!(names(&body, "servers"), ["s29"]);
    let seeded = &f.fake.cloud_servers(Provider::Hetzner)[0];
    assert_eq!(
        (seeded.status.as_str(), seeded.image.as_str()),
        ("running", "ubuntu-24.04")
    );
    assert!(seeded.public_ipv4.is_some());
}

#[tokio::test]
async fn hetzner_budget_counts_down_then_429s_until_the_reset() {
    let f = Fixture::start().await;
    f.fake.set_hetzner_budget(2, 1);
    let get = || f.hetzner(Method::GET, "locations").send();

    let first = get().await.unwrap();
    assert_eq!(first.status().as_u16(), 200);
    assert_eq!(header(&first, "ratelimit-remaining").as_deref(), Some("1"));
    let second = get().await.unwrap();
    assert_eq!(second.status().as_u16(), 200);
    assert_eq!(header(&second, "ratelimit-remaining").as_deref(), Some("0"));

    let limited = f.hetzner_create(hetzner_order("blocked"));
    let (status, body) = limited.await;
    assert_eq!((status, error_code(&body)), (429, "rate_limit_exceeded"));
    assert!(
        f.fake.cloud_servers(Provider::Hetzner).is_empty(),
        "a 429 changes nothing"
    );
    let limited = get().await.unwrap();
    assert_eq!(limited.status().as_u16(), 429);
    assert_eq!(header(&limited, "ratelimit-limit").as_deref(), Some("3600"));
    assert_eq!(
        header(&limited, "ratelimit-remaining").as_deref(),
        Some("0")
    );
    let reset: u64 = header(&limited, "ratelimit-reset")
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > 1_700_000_000, "the reset is a UNIX time");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let refilled = get().await.unwrap();
    assert_eq!(refilled.status().as_u16(), 200);
    assert_eq!(
        header(&refilled, "ratelimit-remaining").as_deref(),
        Some("3599")
    );
}

// ---- Scaleway ---------------------------------------------------------------------------

#[tokio::test]
async fn scaleway_catalogue_lists_types_availability_and_local_images() {
    let f = Fixture::start().await;

    let response = f
        .instance(Method::GET, "products/servers")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("10"));
    let (_, body) = json(response).await;
    let servers = &body["servers"];
    for name in [
        "DEV1-S",
        "DEV1-M",
        "DEV1-L",
        "PLAY2-NANO",
        "PLAY2-MICRO",
        "PLAY2-SMALL",
        "PRO2-XXS",
        "PRO2-XS",
        "PRO2-S",
        "COPARM1-2C-8G",
    ] {
        let t = &servers[name];
        assert!(
            t["hourly_price"].is_f64() && t["monthly_price"].is_f64(),
            "{name}"
        );
        assert!(
            t["ncpus"].is_u64() && t["volumes_constraint"]["max_size"].is_u64(),
            "{name}"
        );
        assert!(t["per_volume_constraint"]["l_ssd"].is_object(), "{name}");
        assert_eq!(t["end_of_service"], false, "{name}");
    }
    assert_eq!(servers["DEV1-S"]["hourly_price"], 0.0088);
    assert_eq!(servers["DEV1-S"]["ram"], 2u64 << 30);
    assert_eq!(servers["DEV1-S"]["arch"], "x86_64");
    assert_eq!(servers["COPARM1-2C-8G"]["arch"], "arm64");

    f.fake
        .set_capacity(Provider::Scaleway, ZONE, Some("PLAY2-NANO"), true);
    let (_, body) = send(f.instance(Method::GET, "products/servers/availability")).await;
    assert_eq!(body["servers"]["PLAY2-NANO"]["availability"], "shortage");
    assert_eq!(body["servers"]["DEV1-S"]["availability"], "available");

    // The Marketplace answers without a key.
    let local_images = |query: &str| {
        let url = format!(
            "{}/marketplace/v2/local-images?{query}",
            f.fake.scaleway_url()
        );
        send(f.client.get(url))
    };
    let (status, body) =
        local_images("image_label=ubuntu_noble&zone=fr-par-1&type=instance_sbs").await;
    assert_eq!(status, 200);
    assert_eq!(body["total_count"], 2);
    let images = body["local_images"].as_array().unwrap();
    let arches: Vec<&str> = images.iter().map(|i| i["arch"].as_str().unwrap()).collect();
    assert_eq!(arches, ["x86_64", "arm64"]);
    assert!(
        images
            .iter()
            .all(|i| i["zone"] == ZONE && i["label"] == "ubuntu_noble")
    );
    let arm = &images[1];
    assert_eq!(arm["compatible_commercial_types"], json!(["COPARM1-2C-8G"]));
    let (_, again) = local_images("image_label=ubuntu_noble&zone=fr-par-1&type=instance_sbs").await;
    assert_eq!(
        again["local_images"][1]["id"], arm["id"],
        "local image IDs are stable"
    );
    for label in ["ubuntu_jammy", "debian_bookworm", "docker"] {
        let (_, body) =
            local_images(&format!("image_label={label}&zone=nl-ams-1&arch=arm64")).await;
        assert_eq!(body["total_count"], 1, "{label}");
    }
    let (_, body) = local_images("image_label=docker&zone=fr-par-1&commercial_type=PRO2-XS").await;
    assert_eq!(body["local_images"][0]["type"], "instance_sbs");
    assert_eq!(body["total_count"], 1, "PRO2 has no local SSD");
    let (status, body) = local_images("image_label=docker").await;
    assert_eq!(
        (status, body["type"].as_str()),
        (400, Some("invalid_arguments"))
    );
}

#[tokio::test]
async fn scaleway_server_starts_stopped_boots_over_polls_and_terminates() {
    let f = Fixture::start().await;
    f.fake.set_boot_polls(Provider::Scaleway, 3);

    let (status, body) = f
        .scaleway_create(json!({
            "name": "sam-1", "commercial_type": "PLAY2-NANO", "image": "docker",
            "project": SCW_KEY, "tags": ["managed-by=sam", "sam"], "dynamic_ip_required": true,
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    let server = &body["server"];
    let id = server["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(server["state"], "stopped");
    assert!(server["public_ip"].is_null());
    assert_eq!(server["public_ips"], json!([]));
    assert_eq!(server["project"], SCW_KEY);
    assert_eq!(server["zone"], ZONE);
    assert_eq!(server["arch"], "x86_64");
    assert_eq!(server["image"]["arch"], "x86_64");
    assert_eq!(server["allowed_actions"], json!(["poweron", "backup"]));
    assert_eq!(server["volumes"]["0"]["volume_type"], "sbs_volume");
    for field in [
        "organization",
        "creation_date",
        "modification_date",
        "hostname",
        "state_detail",
    ] {
        assert!(server[field].is_string(), "{field}");
    }
    let held = &f.fake.cloud_servers(Provider::Scaleway)[0];
    assert_eq!(held.labels, labels(&[("managed-by", "sam"), ("sam", "")]));
    assert_eq!(held.image, server["image"]["id"].as_str().unwrap());
    assert!(held.ssh_keys.is_empty());

    let user_data = |content_type: &'static str, body: Vec<u8>| {
        f.instance(Method::PATCH, &format!("servers/{id}/user_data/cloud-init"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let refused = user_data("application/json", b"{}".to_vec()).await.unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    assert_eq!(json(refused).await.1["type"], "invalid_arguments");
    let too_big = user_data("text/plain", vec![b'x'; (1 << 20) + 1])
        .await
        .unwrap();
    assert_eq!(too_big.status().as_u16(), 400);
    let accepted = user_data(
        "text/plain; charset=utf-8",
        b"#cloud-config\nruncmd: []\n".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(accepted.status().as_u16(), 204);
    let response = f
        .instance(Method::GET, &format!("servers/{id}/user_data/cloud-init"))
        .send()
        .await
        .unwrap();
    assert!(
        header(&response, "content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(
        response.text().await.unwrap(),
        "#cloud-config\nruncmd: []\n"
    );
    let (_, keys) = send(f.instance(Method::GET, &format!("servers/{id}/user_data"))).await;
    assert_eq!(keys["user_data"], json!(["cloud-init"]));
    assert_eq!(
        f.fake.cloud_servers(Provider::Scaleway)[0]
            .user_data
            .as_deref(),
        Some("#cloud-config\nruncmd: []\n")
    );

    let action = |name: &str| {
        f.instance(Method::POST, &format!("servers/{id}/action"))
            .json(&json!({ "action": name }))
            .send()
    };
    let response = action("terminate").await.unwrap();
    assert_eq!(
        response.status().as_u16(),
        400,
        "a stopped server is deleted, not terminated"
    );
    let response = action("poweron").await.unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let task = json(response).await.1["task"].clone();
    assert_eq!(task["description"], "server_poweron");
    assert_eq!(task["status"], "pending");
    assert_eq!(task["href_result"], format!("/servers/{id}"));
    assert!(task["started_at"].is_string() && task["terminated_at"].is_null());
    let (status, body) = send(
        f.instance(Method::POST, &format!("servers/{id}/action"))
            .json(&json!({ "action": "poweron" })),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (409, Some("transient_state"))
    );

    let get = || send(f.instance(Method::GET, &format!("servers/{id}")));
    for _ in 0..2 {
        let (_, body) = get().await;
        assert_eq!(body["server"]["state"], "starting");
        assert!(
            body["server"]["public_ip"].is_null(),
            "no IP before the boot completes"
        );
    }
    let (_, body) = get().await;
    let server = &body["server"];
    assert_eq!(server["state"], "running");
    let address = server["public_ip"]["address"].as_str().unwrap().to_owned();
    assert_eq!(server["public_ip"]["dynamic"], true);
    assert_eq!(server["public_ips"][0]["address"], address.as_str());
    assert_eq!(
        f.fake.cloud_servers(Provider::Scaleway)[0]
            .public_ipv4
            .as_deref(),
        Some(address.as_str())
    );
    let late = user_data("text/plain", b"#cloud-config\n".to_vec())
        .await
        .unwrap();
    assert_eq!(
        late.status().as_u16(),
        204,
        "user data can change on a running server"
    );

    let (status, body) = send(f.instance(Method::DELETE, &format!("servers/{id}"))).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (400, Some("resource_not_usable"))
    );
    assert_eq!(action("terminate").await.unwrap().status().as_u16(), 202);
    let (_, body) = get().await;
    assert_eq!(body["server"]["state"], "stopping");
    let (status, body) = get().await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({ "type": "unknown_resource", "message": format!("\"{id}\" not found") })
    );
    assert!(f.fake.cloud_servers(Provider::Scaleway).is_empty());
}

#[tokio::test]
async fn scaleway_stopped_servers_are_deleted_and_poweroff_releases_the_ip() {
    let f = Fixture::start().await;
    let (_, body) = f.scaleway_create(scaleway_order("a")).await;
    let id = body["server"]["id"].as_str().unwrap().to_owned();
    let response = f
        .instance(Method::DELETE, &format!("servers/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert!(f.fake.cloud_servers(Provider::Scaleway).is_empty());

    let running = f
        .fake
        .seed_server(Provider::Scaleway, seed("b", ZONE, "DEV1-S", &[("k", "v")]));
    let (_, body) = send(f.instance(Method::GET, &format!("servers/{running}"))).await;
    assert_eq!(body["server"]["state"], "running");
    assert_eq!(body["server"]["tags"], json!(["k=v"]));
    assert!(body["server"]["public_ip"]["address"].is_string());
    let response = f
        .instance(Method::POST, &format!("servers/{running}/action"))
        .json(&json!({ "action": "poweroff" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let (_, body) = send(f.instance(Method::GET, &format!("servers/{running}"))).await;
    assert_eq!(body["server"]["state"], "stopping");
    let (_, body) = send(f.instance(Method::GET, &format!("servers/{running}"))).await;
    assert_eq!(body["server"]["state"], "stopped");
    assert!(
        body["server"]["public_ip"].is_null(),
        "a dynamic IP goes with the stop"
    );
}

#[tokio::test]
async fn scaleway_lists_filter_by_tags_and_name_and_paginate() {
    let f = Fixture::start().await;
    for n in 0..7 {
        let mut order = scaleway_order(&format!("web{n}"));
        if n % 2 == 0 {
            order["tags"] = json!(["sam", "role=web"]);
        }
        assert_eq!(f.scaleway_create(order).await.0, 201);
    }
    f.fake.seed_server(
        Provider::Scaleway,
        seed("elsewhere", "nl-ams-1", "DEV1-S", &[("sam", "")]),
    );

    let list = |query: &str| f.instance(Method::GET, &format!("servers?{query}")).send();
    let response = list("").await.unwrap();
    assert_eq!(
        header(&response, "x-total-count").as_deref(),
        Some("7"),
        "one zone only"
    );
    let (_, body) = json(response).await;
    assert_eq!(names(&body, "servers")[0], "web6", "newest first");
    let (_, body) = json(list("order=creation_date_asc").await.unwrap()).await;
    assert_eq!(names(&body, "servers")[0], "web0");
    let (_, body) = json(list("tags=sam,role%3Dweb").await.unwrap()).await;
    assert_eq!(names(&body, "servers"), ["web6", "web4", "web2", "web0"]);
    let (_, body) = json(list("tags=role%3Dweb,absent").await.unwrap()).await;
    assert_eq!(body["servers"], json!([]));
    let (_, body) = json(list("name=web1").await.unwrap()).await;
    assert_eq!(names(&body, "servers"), ["web1"]);
    let (_, body) = json(list("name=eb").await.unwrap()).await;
    assert_eq!(
        body["servers"].as_array().unwrap().len(),
        7,
        "name matches substrings"
    );
    let (_, body) = json(list(&format!("project={SCW_KEY}")).await.unwrap()).await;
    assert_eq!(body["servers"], json!([]));
    let response = list("per_page=3&page=3").await.unwrap();
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("7"));
    assert_eq!(names(&json(response).await.1, "servers"), ["web0"]);
    let (status, body) = json(list("per_page=101").await.unwrap()).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (400, Some("invalid_arguments"))
    );
}

#[tokio::test]
async fn scaleway_refuses_bad_orders_quota_and_capacity() {
    let f = Fixture::start().await;
    let invalid = |body: &Value, argument: &str| {
        assert_eq!(body["type"], "invalid_arguments", "{body}");
        assert_eq!(body["details"][0]["argument_name"], argument, "{body}");
    };
    let (status, body) = f
        .scaleway_create(
            json!({ "name": "a", "commercial_type": "GP9-XXL", "image": "ubuntu_noble" }),
        )
        .await;
    assert_eq!(status, 400);
    invalid(&body, "commercial_type");
    let (_, body) = f
        .scaleway_create(json!({ "name": "a", "commercial_type": "DEV1-S", "image": "windows" }))
        .await;
    invalid(&body, "image");
    let (_, body) = f
        .scaleway_create(json!({ "name": "a", "commercial_type": "DEV1-S" }))
        .await;
    invalid(&body, "image");
    // An arm image ID for an x86 type.
    let url = format!(
        "{}/marketplace/v2/local-images?image_label=ubuntu_noble&zone={ZONE}&arch=arm64",
        f.fake.scaleway_url()
    );
    let (_, images) = send(f.client.get(url)).await;
    let arm_image = images["local_images"][0]["id"].as_str().unwrap();
    let (status, body) = f
        .scaleway_create(json!({ "name": "a", "commercial_type": "DEV1-S", "image": arm_image }))
        .await;
    assert_eq!(status, 400);
    invalid(&body, "image");
    let (status, body) = f
        .scaleway_create(
            json!({ "name": "a", "commercial_type": "COPARM1-2C-8G", "image": arm_image }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["server"]["arch"], "arm64");
    let (status, body) = send(f.scaleway(Method::GET, "instance/v1/zones/xx-yyy-9/servers")).await;
    assert_eq!(status, 400);
    invalid(&body, "zone");

    f.fake
        .set_capacity(Provider::Scaleway, ZONE, Some("DEV1-S"), true);
    let (status, body) = f.scaleway_create(scaleway_order("b")).await;
    assert_eq!((status, body["type"].as_str()), (412, Some("out_of_stock")));
    f.fake
        .set_capacity(Provider::Scaleway, ZONE, Some("DEV1-S"), false);
    assert_eq!(f.scaleway_create(scaleway_order("b")).await.0, 201);
    let (status, _) = f.scaleway_create(scaleway_order("b")).await;
    assert_eq!(status, 201, "Scaleway allows duplicate names");

    f.fake.set_server_quota(Provider::Scaleway, 3);
    let (status, body) = f.scaleway_create(scaleway_order("c")).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (403, Some("quotas_exceeded"))
    );
    assert_eq!(body["details"][0]["quota"], 3);
    assert_eq!(body["details"][0]["current"], 3);
    assert!(
        body["details"][0]["resource"]
            .as_str()
            .unwrap()
            .starts_with("instances_")
    );

    let wrong_key = f
        .client
        .get(format!(
            "{}/instance/v1/zones/{ZONE}/servers",
            f.fake.scaleway_url()
        ))
        .header("x-auth-token", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_key.status().as_u16(), 401);
}

#[tokio::test]
async fn scaleway_iam_ssh_keys_are_unique_by_public_key() {
    let f = Fixture::start().await;
    let post = |body: Value| {
        send(
            f.scaleway(Method::POST, "iam/v1alpha1/ssh-keys")
                .json(&body),
        )
    };
    let (status, key) =
        post(json!({ "name": "alice", "public_key": KEY_ABC, "project_id": SCW_KEY })).await;
    assert_eq!(status, 200);
    for field in [
        "id",
        "name",
        "public_key",
        "fingerprint",
        "organization_id",
        "project_id",
        "created_at",
        "updated_at",
    ] {
        assert!(key[field].is_string(), "{field}");
    }
    assert_eq!(key["disabled"], false);
    assert!(key["fingerprint"].as_str().unwrap().contains(KEY_ABC_MD5));
    let (status, body) =
        post(json!({ "name": "copy", "public_key": KEY_ABC, "project_id": SCW_KEY })).await;
    assert_eq!((status, body["type"].as_str()), (409, Some("conflict")));
    let (status, body) = post(json!({ "name": "bad", "public_key": "nope" })).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (400, Some("invalid_arguments"))
    );
    assert_eq!(
        post(json!({ "name": "bob", "public_key": KEY_OTHER }))
            .await
            .0,
        200
    );

    let (_, body) = send(f.scaleway(
        Method::GET,
        &format!("iam/v1alpha1/ssh-keys?project_id={SCW_KEY}"),
    ))
    .await;
    assert_eq!(body["total_count"], 1);
    assert_eq!(names(&body, "ssh_keys"), ["alice"]);
    let (_, body) = send(f.scaleway(Method::GET, "iam/v1alpha1/ssh-keys")).await;
    assert_eq!(names(&body, "ssh_keys"), ["alice", "bob"]);
    let keys = f.fake.cloud_ssh_keys(Provider::Scaleway);
    assert_eq!(keys[0].id, key["id"].as_str().unwrap());
    let id = &keys[0].id;
    let response = f
        .scaleway(Method::DELETE, &format!("iam/v1alpha1/ssh-keys/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(f.fake.cloud_ssh_keys(Provider::Scaleway).len(), 1);
}

// ---- connection faults and one-shot rules ---------------------------------------------

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_and_applies_nothing() {
    let f = Fixture::start().await;
    f.fake.inject_next(
        Provider::Hetzner,
        Some("post"),
        "/v1/servers",
        Fault::DropConnection,
        1,
    );

    let error = f
        .hetzner(Method::POST, "servers")
        .json(&hetzner_order("web-1"))
        .send()
        .await
        .unwrap_err();
    assert!(!error.is_status(), "{error:?}");
    assert!(f.fake.cloud_servers(Provider::Hetzner).is_empty());
    let recorded = f.fake.requests();
    assert_eq!(
        (recorded[0].method.as_str(), recorded[0].status),
        ("POST", 0)
    );

    assert_eq!(
        f.hetzner_create(hetzner_order("web-1")).await.0,
        201,
        "the rule is used up"
    );
    assert_eq!(f.fake.cloud_servers(Provider::Hetzner).len(), 1);
}

#[tokio::test]
async fn a_drop_after_apply_creates_the_server_the_client_never_heard_of() {
    let f = Fixture::start().await;
    let servers = format!("/instance/v1/zones/{ZONE}/servers");
    f.fake.inject_next(
        Provider::Scaleway,
        Some("POST"),
        &servers,
        Fault::DropAfterApply,
        1,
    );

    let error = f
        .instance(Method::POST, "servers")
        .json(&scaleway_order("sam-1"))
        .send()
        .await
        .unwrap_err();
    assert!(!error.is_status(), "{error:?}");
    let held = f.fake.cloud_servers(Provider::Scaleway);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].name, "sam-1");
    assert_eq!(f.fake.requests()[0].status, 0);

    // A careful client looks before it retries, and finds it.
    let (_, body) = send(f.instance(Method::GET, "servers?tags=sam")).await;
    assert_eq!(names(&body, "servers"), ["sam-1"]);

    f.fake.inject_next(
        Provider::Hetzner,
        None,
        "/v1/servers",
        Fault::DropAfterApply,
        1,
    );
    assert!(
        f.hetzner(Method::POST, "servers")
            .json(&hetzner_order("h-1"))
            .send()
            .await
            .is_err()
    );
    let held = f.fake.cloud_servers(Provider::Hetzner);
    assert_eq!(held.len(), 1, "the client must not have retried on its own");
    assert_eq!(held[0].name, "h-1");
}

#[tokio::test]
async fn one_shot_faults_match_method_and_path_and_come_before_standing_ones() {
    let f = Fixture::start().await;
    f.fake.inject_next(
        Provider::Hetzner,
        Some("POST"),
        "/v1/servers",
        Fault::Status(503),
        2,
    );
    f.fake.inject_next(
        Provider::Hetzner,
        None,
        "/v1/servers",
        Fault::Status(502),
        1,
    );

    let (status, body) = send(f.hetzner(Method::GET, "servers")).await;
    assert_eq!(status, 502, "GET skips the POST-only rule: {body}");
    let (status, _) = send(f.hetzner(Method::GET, "locations")).await;
    assert_eq!(status, 200, "other paths are untouched");
    for _ in 0..2 {
        let (status, body) = f.hetzner_create(hetzner_order("web-1")).await;
        assert_eq!((status, error_code(&body)), (503, "unavailable"));
    }
    assert_eq!(f.hetzner_create(hetzner_order("web-1")).await.0, 201);

    f.fake.inject(Provider::Scaleway, Fault::Status(500));
    f.fake.inject_next(
        Provider::Scaleway,
        None,
        "/instance/",
        Fault::Delay(Duration::from_millis(50)),
        1,
    );
    let (status, _) = send(f.instance(Method::GET, "servers")).await;
    assert_eq!(
        status, 200,
        "the one-shot rule wins over the standing fault"
    );
    let (status, body) = send(f.instance(Method::GET, "servers")).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (500, Some("internal_error"))
    );

    f.fake
        .inject_next(Provider::Scaleway, None, "/", Fault::DropConnection, 5);
    f.fake.clear_faults();
    let (status, _) = send(f.instance(Method::GET, "servers")).await;
    assert_eq!(status, 200, "clear_faults removes one-shot rules too");
}

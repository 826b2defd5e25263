//! One conformance suite, run against every provider implementation on its faithful fake
//! (`sam-testkit`): both must behave the same to the layers above. Then the fault suite:
//! each transient fault recovers, each permanent one surfaces the right error, and no retry
//! ever leaves two servers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::time::Duration;

use sam_cloud::{
    Access, Arch, CloudError, CloudProvider, CreateServer, Hetzner, Labels, Scaleway, Selector,
    ServerStatus, SizePreset, Timing, TransportFailure,
};
use sam_secrets::Sensitive;
use sam_testkit::{FakeProviders, Fault, Provider, SeedServer};

const HETZNER_TOKEN: &str = "hcloudTOKENconformanceabcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const SCALEWAY_KEY: &str = "5a0b3c1d-2e4f-4a6b-8c7d-9e0f1a2b3c4d";
const SCALEWAY_PROJECT: &str = "6d9b4d62-1c3e-4f5a-9b8c-7d6e5f4a3b2c";
const INSTALL: &str = "install-a";
const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGr2D6rNQb7yDq4jzKxQkqfOBoJvhkA4cBGGLcVuF6e8 sam-desktop";

/// One provider under test, with its fake and the names that exist there.
struct Subject {
    fake: FakeProviders,
    cloud: Box<dyn CloudProvider>,
    provider: Provider,
    /// Two locations where the test size is sold, best first.
    locations: [&'static str; 2],
    /// A small x86 size sold in both.
    size: &'static str,
}

impl Subject {
    async fn hetzner() -> Self {
        Self::hetzner_with(Timing::fast()).await
    }

    async fn hetzner_with(timing: Timing) -> Self {
        let fake = FakeProviders::start().await.unwrap();
        fake.accept(Provider::Hetzner, HETZNER_TOKEN);
        let cloud = Hetzner::new(fake.hetzner_url(), HETZNER_TOKEN, timing).unwrap();
        Self {
            fake,
            cloud: Box::new(cloud),
            provider: Provider::Hetzner,
            locations: ["fsn1", "nbg1"],
            size: "cx23",
        }
    }

    async fn scaleway() -> Self {
        Self::scaleway_with(Timing::fast()).await
    }

    async fn scaleway_with(timing: Timing) -> Self {
        let fake = FakeProviders::start().await.unwrap();
        fake.accept(Provider::Scaleway, SCALEWAY_KEY);
        let cloud =
            Scaleway::new(fake.scaleway_url(), SCALEWAY_KEY, SCALEWAY_PROJECT, timing).unwrap();
        Self {
            fake,
            cloud: Box::new(cloud),
            provider: Provider::Scaleway,
            locations: ["fr-par-1", "nl-ams-1"],
            size: "DEV1-S",
        }
    }

    fn request(&self, workspace: &str) -> CreateServer {
        CreateServer {
            name: format!("sam-{workspace}"),
            size: self.size.to_owned(),
            locations: self.locations.iter().map(|l| (*l).to_owned()).collect(),
            image: None,
            ssh_key: None,
            user_data: Sensitive::new(format!(
                "#cloud-config\n{{\"hostname\": \"sam-{workspace}\"}}\n"
            )),
            labels: Labels::new(INSTALL, workspace).unwrap(),
        }
    }

    fn servers(&self) -> Vec<sam_testkit::FakeServer> {
        self.fake.cloud_servers(self.provider)
    }

    /// Requests to the provider that would create a server.
    fn create_requests(&self) -> usize {
        self.fake
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/servers"))
            .count()
    }

    /// Every error message must be free of the credential.
    fn assert_no_secret(&self, error: &CloudError) {
        let text = format!("{error} {error:?}");
        for secret in [HETZNER_TOKEN, SCALEWAY_KEY] {
            assert!(!text.contains(secret), "secret in error: {text}");
        }
    }
}

/// Runs each scenario against both providers as separate tests.
macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        mod hetzner {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Subject::hetzner().await).await;
                }
            )*
        }
        mod scaleway {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Subject::scaleway().await).await;
                }
            )*
        }
    };
}

conformance!(
    validates_credentials,
    lists_locations,
    lists_sizes_with_live_prices_and_resolves_presets,
    prefers_docker_ready_images,
    registers_the_ssh_key_once,
    creates_waits_lists_and_deletes,
    never_creates_two_servers_for_one_workspace,
    lists_only_this_installs_servers,
    moves_to_the_next_location_on_capacity_errors,
    reports_capacity_when_every_location_is_full,
    reports_quota_without_creating,
    refuses_unknown_sizes_and_locations_before_creating,
    waits_for_a_late_ip,
    power_off_and_on,
    recovers_from_each_transient_fault_on_reads,
    recovers_from_transient_faults_on_create_without_duplicates,
    adopts_a_server_created_by_a_dropped_request,
    surfaces_permanent_faults,
    gives_up_on_a_rate_limit_longer_than_allowed,
    reports_an_unknown_answer_shape_without_retrying,
    carries_the_rendered_cloud_init_verbatim,
);

async fn validates_credentials(s: Subject) {
    let access = s.cloud.validate().await.unwrap();
    match s.provider {
        Provider::Hetzner => assert_eq!(access, Access::ReadWrite),
        _ => assert_eq!(access, Access::ReadVerified),
    }
    let wrong = match s.provider {
        Provider::Hetzner => {
            Box::new(Hetzner::new(s.fake.hetzner_url(), "wrong-token", Timing::fast()).unwrap())
                as Box<dyn CloudProvider>
        }
        _ => Box::new(
            Scaleway::new(
                s.fake.scaleway_url(),
                "00000000-0000-4000-8000-000000000000",
                SCALEWAY_PROJECT,
                Timing::fast(),
            )
            .unwrap(),
        ),
    };
    let error = wrong.validate().await.unwrap_err();
    assert!(
        matches!(error, CloudError::Unauthorized { .. }),
        "{error:?}"
    );
    assert!(!error.is_transient());
}

async fn lists_locations(s: Subject) {
    let locations = s.cloud.locations().await.unwrap();
    for wanted in s.locations {
        let location = locations.iter().find(|l| l.id == wanted).unwrap();
        assert!(!location.description.is_empty());
        assert_eq!(location.country.len(), 2, "{location:?}");
    }
}

async fn lists_sizes_with_live_prices_and_resolves_presets(s: Subject) {
    let all = s.cloud.sizes(None).await.unwrap();
    assert!(all.len() >= 4, "{all:?}");
    for size in &all {
        assert!(size.vcpus > 0 && size.memory_mib >= 1024, "{size:?}");
        assert_eq!(size.currency, "EUR");
        assert!(!size.prices.is_empty(), "{size:?}");
        for price in &size.prices {
            assert!(price.hourly > 0.0, "{size:?}");
            assert!(price.monthly > price.hourly * 100.0, "{size:?}");
        }
    }
    let here = s.cloud.sizes(Some(s.locations[0])).await.unwrap();
    assert!(here.iter().any(|z| z.id == s.size));
    assert!(
        here.iter()
            .all(|z| z.prices.iter().all(|p| p.location == s.locations[0]))
    );
    for preset in SizePreset::ALL {
        let size = preset
            .resolve(s.cloud.kind(), Arch::X86_64, s.locations[0], &here)
            .unwrap_or_else(|| panic!("{preset:?} resolves in {}", s.locations[0]));
        assert!(!size.deprecated);
    }
    let arm = SizePreset::Small
        .resolve(s.cloud.kind(), Arch::Arm64, s.locations[0], &here)
        .expect("an ARM size");
    assert_eq!(arm.arch, Arch::Arm64);
    let error = s.cloud.sizes(Some("mars-1")).await.unwrap_err();
    assert!(
        matches!(error, CloudError::InvalidRequest { .. }),
        "{error:?}"
    );
}

async fn prefers_docker_ready_images(s: Subject) {
    for arch in [Arch::X86_64, Arch::Arm64] {
        let images = s.cloud.images(s.locations[0], arch).await.unwrap();
        assert!(images.len() >= 2, "{images:?}");
        assert!(images[0].docker_ready, "{images:?}");
        assert!(images.iter().all(|i| i.arch == arch));
        assert!(images.iter().any(|i| !i.docker_ready));
    }
}

async fn registers_the_ssh_key_once(s: Subject) {
    let first = s
        .cloud
        .ensure_ssh_key("sam-install-a", PUBLIC_KEY)
        .await
        .unwrap();
    // The same key with another comment is the same key.
    let other_comment = PUBLIC_KEY.replace("sam-desktop", "laptop");
    let second = s
        .cloud
        .ensure_ssh_key("sam-install-a", &other_comment)
        .await
        .unwrap();
    assert_eq!(first, second);
    let keys = s.fake.cloud_ssh_keys(s.provider);
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].public_key.starts_with("ssh-ed25519 AAAAC3"));
    let error = s.cloud.ensure_ssh_key("x", "not a key").await.unwrap_err();
    assert!(matches!(error, CloudError::InvalidRequest { .. }));
}

async fn creates_waits_lists_and_deletes(s: Subject) {
    let key = s
        .cloud
        .ensure_ssh_key("sam-install-a", PUBLIC_KEY)
        .await
        .unwrap();
    let mut request = s.request("ws1");
    request.ssh_key = Some(key);
    // The user-data carries the host private key: it never shows in a debug print or log.
    assert!(
        !format!("{request:?}").contains("cloud-config"),
        "{request:?}"
    );
    let server = s.cloud.create_server(&request).await.unwrap();
    assert_eq!(server.id.location, s.locations[0]);
    assert_eq!(server.size, s.size);
    assert_eq!(server.labels.get("sam-install").unwrap(), INSTALL);
    assert_eq!(server.labels.get("sam-workspace").unwrap(), "ws1");
    assert_eq!(server.labels.get("sam-created-by").unwrap(), "sam-desktop");

    let held = s.servers();
    assert_eq!(held.len(), 1);
    assert_eq!(
        held[0].user_data.as_deref(),
        Some(request.user_data.expose().as_str())
    );
    assert_eq!(held[0].location, s.locations[0]);
    if s.provider == Provider::Hetzner {
        assert_eq!(held[0].ssh_keys.len(), 1, "the key is attached at creation");
    }

    let ready = s.cloud.wait_until_reachable(&server.id).await.unwrap();
    assert_eq!(ready.status, ServerStatus::Running);
    assert!(ready.ipv4.is_some());

    let listed = s
        .cloud
        .servers(&Selector::install(INSTALL).unwrap())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, server.id);

    s.cloud.delete_server(&server.id).await.unwrap();
    assert!(s.servers().is_empty());
    assert_eq!(s.cloud.server(&server.id).await.unwrap(), None);
    // Deleting what is gone is success.
    s.cloud.delete_server(&server.id).await.unwrap();
}

async fn never_creates_two_servers_for_one_workspace(s: Subject) {
    let first = s.cloud.create_server(&s.request("ws1")).await.unwrap();
    let again = s.cloud.create_server(&s.request("ws1")).await.unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(s.servers().len(), 1);
    let other = s.cloud.create_server(&s.request("ws2")).await.unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(s.servers().len(), 2);
}

async fn lists_only_this_installs_servers(s: Subject) {
    let mine = s.cloud.create_server(&s.request("ws1")).await.unwrap();
    let foreign = Labels::new("install-b", "ws1").unwrap().to_map();
    s.fake.seed_server(
        s.provider,
        SeedServer {
            name: "other-install".into(),
            location: s.locations[0].into(),
            server_type: s.size.into(),
            labels: foreign,
            running: true,
        },
    );
    let mut forged = Labels::new(INSTALL, "ws9").unwrap().to_map();
    forged.remove("sam-created-by");
    s.fake.seed_server(
        s.provider,
        SeedServer {
            name: "hand-made".into(),
            location: s.locations[1].into(),
            server_type: s.size.into(),
            labels: forged,
            running: true,
        },
    );
    let listed = s
        .cloud
        .servers(&Selector::install(INSTALL).unwrap())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].id, mine.id);
    let other = s
        .cloud
        .servers(&Selector::install("install-b").unwrap())
        .await
        .unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].name, "other-install");
}

async fn moves_to_the_next_location_on_capacity_errors(s: Subject) {
    s.fake
        .set_capacity(s.provider, s.locations[0], Some(s.size), true);
    let server = s.cloud.create_server(&s.request("ws1")).await.unwrap();
    assert_eq!(server.id.location, s.locations[1]);
    let held = s.servers();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].location, s.locations[1]);
}

async fn reports_capacity_when_every_location_is_full(s: Subject) {
    for location in s.locations {
        s.fake.set_capacity(s.provider, location, None, true);
    }
    let error = s.cloud.create_server(&s.request("ws1")).await.unwrap_err();
    let CloudError::Capacity { locations, .. } = &error else {
        panic!("expected a capacity error, got {error:?}");
    };
    assert_eq!(locations, &s.locations.join(", "));
    assert!(s.servers().is_empty());
    s.assert_no_secret(&error);
}

async fn reports_quota_without_creating(s: Subject) {
    s.fake.set_server_quota(s.provider, 0);
    let error = s.cloud.create_server(&s.request("ws1")).await.unwrap_err();
    assert!(
        matches!(error, CloudError::QuotaExceeded { .. }),
        "{error:?}"
    );
    assert!(!error.is_transient());
    assert!(s.servers().is_empty());
    // Permanent: asked once, not retried.
    assert_eq!(s.create_requests(), 1);
}

async fn refuses_unknown_sizes_and_locations_before_creating(s: Subject) {
    let mut request = s.request("ws1");
    request.size = "XXL-9000".into();
    let error = s.cloud.create_server(&request).await.unwrap_err();
    assert!(
        matches!(&error, CloudError::InvalidRequest { message, .. } if message.contains("unknown size")),
        "{error:?}"
    );
    let mut request = s.request("ws1");
    request.locations = vec!["atlantis-1".into()];
    let error = s.cloud.create_server(&request).await.unwrap_err();
    assert!(
        matches!(&error, CloudError::InvalidRequest { message, .. } if message.contains("unknown location")),
        "{error:?}"
    );
    let mut request = s.request("ws1");
    request.name = "Bad Name".into();
    assert!(matches!(
        s.cloud.create_server(&request).await,
        Err(CloudError::InvalidRequest { .. })
    ));
    let mut request = s.request("ws1");
    request.user_data = Sensitive::new("#".repeat(sam_cloud::MAX_USER_DATA_BYTES + 1));
    assert!(matches!(
        s.cloud.create_server(&request).await,
        Err(CloudError::InvalidRequest { .. })
    ));
    assert_eq!(s.create_requests(), 0);
    assert!(s.servers().is_empty());
}

async fn waits_for_a_late_ip(s: Subject) {
    s.fake.set_boot_polls(s.provider, 6);
    let server = s.cloud.create_server(&s.request("ws1")).await.unwrap();
    assert!(!server.is_reachable(), "{server:?}");
    if s.provider == Provider::Scaleway {
        assert_eq!(server.ipv4, None, "Scaleway assigns the IP after boot");
    }
    let ready = s.cloud.wait_until_reachable(&server.id).await.unwrap();
    assert!(ready.ipv4.is_some());
}

async fn power_off_and_on(s: Subject) {
    let server = s.cloud.create_server(&s.request("ws1")).await.unwrap();
    s.cloud.wait_until_reachable(&server.id).await.unwrap();
    s.cloud
        .power(&server.id, sam_cloud::PowerAction::Off)
        .await
        .unwrap();
    let off = s.cloud.server(&server.id).await.unwrap().unwrap();
    assert_eq!(off.status, ServerStatus::Stopped);
    s.cloud
        .power(&server.id, sam_cloud::PowerAction::On)
        .await
        .unwrap();
    let on = s.cloud.wait_until_reachable(&server.id).await.unwrap();
    assert_eq!(on.status, ServerStatus::Running);
}

fn servers_path(s: &Subject, zone: &str) -> String {
    match s.provider {
        Provider::Hetzner => "/v1/servers".into(),
        _ => format!("/instance/v1/zones/{zone}/servers"),
    }
}

async fn recovers_from_each_transient_fault_on_reads(s: Subject) {
    let server = s.cloud.create_server(&s.request("ws1")).await.unwrap();
    let path = servers_path(&s, s.locations[0]);
    let faults = [
        Fault::Status(503),
        Fault::Status(502),
        Fault::RateLimited { reset_secs: 1 },
        Fault::MalformedJson,
        Fault::DropConnection,
        Fault::Delay(Duration::from_secs(4)),
    ];
    for fault in faults {
        s.fake.inject_next(s.provider, Some("GET"), &path, fault, 1);
        let found = s.cloud.server(&server.id).await;
        assert_eq!(
            found
                .unwrap_or_else(|e| panic!("{fault:?} did not recover: {e:?}"))
                .map(|f| f.id),
            Some(server.id.clone()),
            "{fault:?}"
        );
    }
}

async fn recovers_from_transient_faults_on_create_without_duplicates(s: Subject) {
    let path = servers_path(&s, s.locations[0]);
    let faults = [
        Fault::Status(503),
        Fault::Status(500),
        Fault::RateLimited { reset_secs: 1 },
        Fault::DropConnection,
        Fault::DropAfterApply,
        Fault::MalformedJson,
    ];
    for (n, fault) in faults.into_iter().enumerate() {
        let workspace = format!("ws{n}");
        s.fake
            .inject_next(s.provider, Some("POST"), &path, fault, 1);
        let server = s
            .cloud
            .create_server(&s.request(&workspace))
            .await
            .unwrap_or_else(|e| panic!("{fault:?} did not recover: {e:?}"));
        let held: Vec<_> = s
            .servers()
            .into_iter()
            .filter(|f| f.labels.get("sam-workspace") == Some(&workspace))
            .collect();
        assert_eq!(held.len(), 1, "{fault:?} left {held:?}");
        assert_eq!(held[0].id, server.id.id, "{fault:?}");
        let ready = s.cloud.wait_until_reachable(&server.id).await.unwrap();
        assert!(ready.ipv4.is_some(), "{fault:?}");
    }
}

async fn adopts_a_server_created_by_a_dropped_request(s: Subject) {
    // The create request is applied, then the connection drops on every try of it: the
    // server exists, and SAM must find and finish it rather than fail or make another.
    let path = servers_path(&s, s.locations[0]);
    s.fake
        .inject_next(s.provider, Some("POST"), &path, Fault::DropAfterApply, 1);
    let request = s.request("ws1");
    let server = s.cloud.create_server(&request).await.unwrap();
    let held = s.servers();
    assert_eq!(held.len(), 1);
    // The adopted server was fully set up: user-data in place, powered on.
    assert_eq!(
        held[0].user_data.as_deref(),
        Some(request.user_data.expose().as_str())
    );
    s.cloud.wait_until_reachable(&server.id).await.unwrap();

    if s.provider == Provider::Scaleway {
        // Scaleway's set-up steps can be interrupted too: the user-data PATCH and poweron.
        let request = s.request("ws2");
        s.fake.inject_next(
            s.provider,
            Some("PATCH"),
            "/instance/v1/zones/",
            Fault::DropConnection,
            1,
        );
        let server = s.cloud.create_server(&request).await.unwrap();
        let ready = s.cloud.wait_until_reachable(&server.id).await.unwrap();
        assert!(ready.ipv4.is_some());
        let held: Vec<_> = s
            .servers()
            .into_iter()
            .filter(|f| f.labels.get("sam-workspace").map(String::as_str) == Some("ws2"))
            .collect();
        assert_eq!(held.len(), 1);
        assert_eq!(
            held[0].user_data.as_deref(),
            Some(request.user_data.expose().as_str())
        );
    }
}

async fn surfaces_permanent_faults(s: Subject) {
    let path = servers_path(&s, s.locations[0]);
    type Expect = fn(&CloudError) -> bool;
    let cases: [(u16, Expect); 3] = [
        (401, |e| matches!(e, CloudError::Unauthorized { .. })),
        (403, |e| matches!(e, CloudError::Forbidden { .. })),
        (400, |e| matches!(e, CloudError::InvalidRequest { .. })),
    ];
    for (status, expected) in cases {
        s.fake
            .inject_next(s.provider, Some("POST"), &path, Fault::Status(status), 1);
        let before = s.create_requests();
        let error = s.cloud.create_server(&s.request("ws1")).await.unwrap_err();
        assert!(expected(&error), "{status}: {error:?}");
        assert!(!error.is_transient());
        assert_eq!(
            s.create_requests(),
            before + 1,
            "{status} must not be retried"
        );
        s.assert_no_secret(&error);
    }
    assert!(s.servers().is_empty());
}

async fn gives_up_on_a_rate_limit_longer_than_allowed(s: Subject) {
    s.fake
        .inject(s.provider, Fault::RateLimited { reset_secs: 3600 });
    let started = std::time::Instant::now();
    let error = s.cloud.sizes(Some(s.locations[0])).await.unwrap_err();
    let CloudError::RateLimited { retry_after, .. } = error else {
        panic!("expected a rate limit, got {error:?}");
    };
    let wait = retry_after.unwrap();
    assert!(wait > Duration::from_secs(3500), "{wait:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "it gave up at once"
    );
    assert!(error.to_string().contains("try again in"));
}

async fn reports_an_unknown_answer_shape_without_retrying(s: Subject) {
    s.cloud.create_server(&s.request("ws1")).await.unwrap();
    let path = servers_path(&s, s.locations[0]);
    // A 200 whose body is the provider's error object: valid JSON, not a server list.
    s.fake
        .inject_next(s.provider, Some("GET"), &path, Fault::Status(200), 1);
    let before = s.fake.requests().len();
    let error = s
        .cloud
        .servers(&Selector::install(INSTALL).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(error, CloudError::UnexpectedResponse { .. }),
        "{error:?}"
    );
    assert!(!error.is_transient());
    assert!(
        error.to_string().contains("SAM may need an update"),
        "{error}"
    );
    let repeated = s.fake.requests()[before..]
        .iter()
        .filter(|r| r.path.ends_with(&path) && r.method == "GET")
        .count();
    assert_eq!(repeated, 1, "an unknown shape is not retried");
}

async fn carries_the_rendered_cloud_init_verbatim(s: Subject) {
    // What the workspace layer will do: pick the image, render cloud-init for it, create.
    let images = s.cloud.images(s.locations[0], Arch::X86_64).await.unwrap();
    let docker = if images[0].docker_ready {
        sam_cloudinit::DockerSource::Preinstalled
    } else {
        sam_cloudinit::DockerSource::Install
    };
    let host_keys = sam_cloudinit::HostKeys::generate().unwrap();
    let rendered = sam_cloudinit::render(&sam_cloudinit::CloudInitSpec {
        hostname: "sam-ws1",
        user: "sam",
        authorized_key: PUBLIC_KEY,
        host_keys: &host_keys,
        docker,
        watchdog: sam_cloudinit::Watchdog {
            idle_minutes: 45,
            enabled: true,
        },
        workspace_id: "ws1",
    })
    .unwrap();
    let mut request = s.request("ws1");
    request.image = Some(images[0].id.clone());
    request.user_data = Sensitive::new(rendered.as_str().to_owned());
    s.cloud.create_server(&request).await.unwrap();
    let held = s.servers();
    assert_eq!(held[0].user_data.as_deref(), Some(rendered.as_str()));
    assert_eq!(held[0].image, images[0].id);
    // The only secret in it is the host key; no credential reached the provider's user-data.
    for secret in [HETZNER_TOKEN, SCALEWAY_KEY] {
        assert!(!rendered.as_str().contains(secret));
    }
}

// ---- provider-specific behaviour ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaleway_deletes_a_server_whose_set_up_fails_for_good() {
    let s = Subject::scaleway().await;
    s.fake.inject_next(
        s.provider,
        Some("PATCH"),
        "/instance/v1/zones/",
        Fault::Status(400),
        1,
    );
    let error = s.cloud.create_server(&s.request("ws1")).await.unwrap_err();
    assert!(
        matches!(error, CloudError::InvalidRequest { .. }),
        "{error:?}"
    );
    assert!(
        s.servers().is_empty(),
        "the stopped server was deleted: {:?}",
        s.servers()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hetzner_read_only_token_cannot_create() {
    let fake = FakeProviders::start().await.unwrap();
    fake.accept_read_only(Provider::Hetzner, HETZNER_TOKEN);
    let cloud = Hetzner::new(fake.hetzner_url(), HETZNER_TOKEN, Timing::fast()).unwrap();
    assert_eq!(cloud.validate().await.unwrap(), Access::ReadOnly);
    let subject = Subject {
        fake,
        cloud: Box::new(cloud),
        provider: Provider::Hetzner,
        locations: ["fsn1", "nbg1"],
        size: "cx23",
    };
    let error = subject
        .cloud
        .create_server(&subject.request("ws1"))
        .await
        .unwrap_err();
    assert!(matches!(error, CloudError::Forbidden { .. }), "{error:?}");
    assert!(subject.servers().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hetzner_waits_for_the_rate_limit_reset_instead_of_spending_a_429() {
    let s = Subject::hetzner().await;
    s.fake.set_hetzner_budget(1, 2);
    // The first answer says 0 remaining until the reset: the next request waits for it.
    s.cloud.locations().await.unwrap();
    let started = std::time::Instant::now();
    s.cloud.locations().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    let statuses: Vec<u16> = s.fake.requests().iter().map(|r| r.status).collect();
    assert!(!statuses.contains(&429), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out_with_a_transport_error() {
    let mut timing = Timing::fast();
    timing.request_timeout = Duration::from_millis(300);
    timing.connect_timeout = Duration::from_millis(300);
    timing.read_timeout = Duration::from_millis(300);
    timing.backoff.attempts = 2;
    for s in [
        Subject::hetzner_with(timing).await,
        Subject::scaleway_with(timing).await,
    ] {
        s.fake
            .inject(s.provider, Fault::Delay(Duration::from_secs(2)));
        let error = s.cloud.sizes(Some(s.locations[0])).await.unwrap_err();
        assert!(
            matches!(
                error,
                CloudError::Transport {
                    failure: TransportFailure::Timeout,
                    ..
                }
            ),
            "{error:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaleway_creates_stopped_then_sets_user_data_then_powers_on() {
    let s = Subject::scaleway().await;
    s.cloud.create_server(&s.request("ws1")).await.unwrap();
    let calls: Vec<(String, String)> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| (r.method, r.path))
        .collect();
    let kinds: Vec<&str> = calls
        .iter()
        .map(|(method, path)| match (method.as_str(), path.as_str()) {
            ("POST", p) if p.ends_with("/servers") => "create",
            ("PATCH", p) if p.ends_with("/user_data/cloud-init") => "user-data",
            ("POST", p) if p.ends_with("/action") => "action",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["create", "user-data", "action"], "{calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaleway_refuses_a_project_that_is_not_a_uuid() {
    let fake = FakeProviders::start().await.unwrap();
    let error = Scaleway::new(
        fake.scaleway_url(),
        SCALEWAY_KEY,
        "my-project",
        Timing::fast(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("project id"), "{error}");
}

//! A cloud workspace end to end: the fake Hetzner API hands out 127.0.0.1, and a real OpenSSH
//! server stands in for the VM — started with the host key and authorized key taken from the
//! cloud-init the workspace sent, as cloud-init would. Then SSH with the pinned host key, the
//! real `sam-host` uploaded and started over an exec channel, a real git clone, ready, delete.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sam_cloud::{Hetzner, ProviderKind, Timing};
use sam_secrets::{SecretStore, SecretStoreError, Sensitive};
use sam_ssh::{ClientKey, SshOptions};
use sam_store::Store;
use sam_testkit::sshd::{TestSshd, VmOptions, free_port, login_user, play_vm};
use sam_testkit::{FakeProviders, Provider};
use sam_workspace::{
    Lifecycle, Provider as WorkspaceProvider, RemoteFactory, RemoteSetup, Repo, SshSettings,
    WorkspaceError, WorkspaceSpec, Workspaces, steps,
};
use ssh_key::rand_core::OsRng;
use ssh_key::{Algorithm, LineEnding, PrivateKey};

const TOKEN: &str = "hcloudREMOTEworkspaceTESTabcdefghijklmnopqrstuvwxyz0123456789ABCD";
const INSTALL: &str = "0123456789abcdef";

fn host_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("sam-host");
    assert!(
        path.is_file(),
        "{} is missing: `cargo build -p sam-host` first",
        path.display()
    );
    path
}

/// Fast polling, but deadlines a loaded 2-core CI machine meets.
fn patient() -> Timing {
    Timing {
        request_timeout: Duration::from_secs(10),
        read_timeout: Duration::from_secs(10),
        action_deadline: Duration::from_secs(30),
        ready_deadline: Duration::from_secs(30),
        ..Timing::fast()
    }
}

/// The OS keyring stand-in for host keys (the keyring itself is tested in sam-secrets): a
/// JSON file, so a killed process and the one that resumes after it share it, as they share
/// the real keyring.
#[derive(Debug)]
struct FileSecrets(PathBuf, Mutex<()>);

impl FileSecrets {
    fn entries(&self) -> HashMap<String, String> {
        std::fs::read(&self.0)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn write(&self, entries: &HashMap<String, String>) {
        let temp = self.0.with_extension("tmp");
        std::fs::write(&temp, serde_json::to_vec(entries).unwrap()).unwrap();
        std::fs::rename(temp, &self.0).unwrap();
    }

    fn len(&self) -> usize {
        self.entries().len()
    }
}

impl SecretStore for FileSecrets {
    fn put(&self, id: &str, secret: &Sensitive<String>) -> Result<(), SecretStoreError> {
        let _guard = self.1.lock().unwrap();
        let mut entries = self.entries();
        entries.insert(id.into(), secret.expose().clone());
        self.write(&entries);
        Ok(())
    }
    fn get(&self, id: &str) -> Result<Sensitive<String>, SecretStoreError> {
        self.entries()
            .get(id)
            .cloned()
            .map(Sensitive::new)
            .ok_or(SecretStoreError::NotFound)
    }
    fn delete(&self, id: &str) -> Result<(), SecretStoreError> {
        let _guard = self.1.lock().unwrap();
        let mut entries = self.entries();
        entries.remove(id);
        self.write(&entries);
        Ok(())
    }
}

#[derive(Debug)]
struct Factory {
    hetzner: url::Url,
    client_pem: String,
    secrets: Arc<FileSecrets>,
    port: u16,
}

impl RemoteFactory for Factory {
    fn remote(&self, provider: ProviderKind) -> Result<RemoteSetup, WorkspaceError> {
        if provider != ProviderKind::Hetzner {
            return Err(WorkspaceError::InvalidInput(format!(
                "no {provider} credential in this test"
            )));
        }
        Ok(RemoteSetup {
            cloud: Arc::new(Hetzner::new(self.hetzner.clone(), TOKEN, patient())?),
            install_id: INSTALL.into(),
            client_key: Arc::new(ClientKey::from_openssh(&self.client_pem)?),
            secrets: self.secrets.clone(),
            ssh: SshSettings {
                vm_user: "sam".into(),
                user: login_user().unwrap(),
                port: self.port,
                options: SshOptions::default(),
                interval: Duration::from_millis(100),
                deadline: Duration::from_secs(20),
            },
            watchdog_minutes: 30,
        })
    }
}

struct World {
    fake: Arc<FakeProviders>,
    workspaces: Workspaces,
    secrets: Arc<FileSecrets>,
    port: u16,
    client_pem: String,
    data: tempfile::TempDir,
    repo: tempfile::TempDir,
}

impl World {
    /// What a restarted app sees: the same database, keyring and cloud.
    fn reopen(&self) -> Workspaces {
        let (store, _) = Store::open(&self.data.path().join("sam.sqlite3")).unwrap();
        Workspaces::new(Arc::new(store), self.data.path(), host_binary()).with_remote(Arc::new(
            Factory {
                hetzner: self.fake.hetzner_url(),
                client_pem: self.client_pem.clone(),
                secrets: self.secrets.clone(),
                port: self.port,
            },
        ))
    }
}

async fn world() -> World {
    let fake = Arc::new(FakeProviders::start().await.unwrap());
    fake.accept(Provider::Hetzner, TOKEN);
    fake.set_fixed_ipv4(Provider::Hetzner, Some("127.0.0.1"));
    let client = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
    let client_pem = client.to_openssh(LineEnding::LF).unwrap().to_string();
    let port = free_port().unwrap();
    let data = tempfile::tempdir().unwrap();
    let secrets = Arc::new(FileSecrets(
        data.path().join("keyring.json"),
        Mutex::new(()),
    ));
    let (store, _) = Store::open(&data.path().join("sam.sqlite3")).unwrap();
    let workspaces = Workspaces::new(Arc::new(store), data.path(), host_binary()).with_remote(
        Arc::new(Factory {
            hetzner: fake.hetzner_url(),
            client_pem: client_pem.clone(),
            secrets: secrets.clone(),
            port,
        }),
    );
    let repo = sam_testkit::git::repository(&[("app.py", "print('hi')\n")]).unwrap();
    World {
        fake,
        workspaces,
        secrets,
        port,
        client_pem,
        data,
        repo,
    }
}

impl World {
    /// Creates a workspace while a [`play_vm`] VM answers for it; returns both.
    async fn create_with_vm(&self, name: &str) -> (sam_workspace::Workspace, TestSshd) {
        let vm = play_vm(
            self.fake.clone(),
            Provider::Hetzner,
            self.port,
            VmOptions::default(),
        );
        let created = self
            .workspaces
            .create(spec(self, name), None)
            .await
            .unwrap();
        (created, vm.await.unwrap().unwrap().unwrap())
    }
}

fn spec(world: &World, name: &str) -> WorkspaceSpec {
    WorkspaceSpec {
        name: name.into(),
        provider: WorkspaceProvider::Hetzner,
        repo: Repo::Url {
            url: format!("file://{}", world.repo.path().display()),
        },
        branch: None,
        size: Some("small".into()),
        locations: vec!["nbg1".into(), "fsn1".into()],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloud_workspace_is_provisioned_end_to_end_and_deleted() {
    let w = world().await;
    let (created, sshd) = w.create_with_vm("api").await;
    assert_eq!(created.state, Lifecycle::Ready, "{created:?}");
    assert_eq!(created.address.as_deref(), Some("127.0.0.1"));
    let steps: Vec<&str> = created.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            steps::ENSURE_SSH_KEY,
            steps::CREATE_SERVER,
            steps::WAIT_FOR_IP,
            steps::WAIT_FOR_SSH,
            steps::UPLOAD_HOST,
            steps::START_HOST,
            steps::CHECKOUT
        ]
    );
    assert!(
        created
            .steps
            .iter()
            .all(|s| s.state == "done" && s.millis.is_some())
    );

    // The server: labelled, in the first allowed location, with the preset's size; the host
    // binary uploaded; the repository cloned where the host said.
    let servers = w.fake.cloud_servers(Provider::Hetzner);
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0].location, "nbg1");
    assert_eq!(servers[0].server_type, "cx23");
    assert_eq!(servers[0].labels["sam-install"], INSTALL);
    assert_eq!(servers[0].labels["sam-workspace"], created.id);
    let user_data = servers[0].user_data.clone().unwrap();
    assert!(!user_data.contains(TOKEN), "no credential in cloud-init");
    let home = sshd.home();
    assert!(home.join(".sam/bin/sam-host").is_file());
    let checkout = created.checkout_dir.clone().unwrap();
    assert!(checkout.starts_with(&home), "{checkout:?}");
    assert!(checkout.join("app.py").is_file());
    // A new connection later (as the chat will make): SSH with the pinned key, the host, a
    // command in the checkout.
    let ran = w
        .workspaces
        .run(
            "api",
            vec!["cat".into(), "app.py".into()],
            false,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!((ran.status, ran.stdout.as_str()), (0, "print('hi')\n"));

    // What it costs: the live price of cx23 in nbg1, one started hour so far.
    let cost = created.cost.clone().unwrap();
    assert_eq!(cost.currency, "EUR");
    assert!(cost.hourly > 0.0 && cost.monthly > cost.hourly);
    assert!((cost.spent - cost.hourly).abs() < 1e-9, "{cost:?}");
    // The host key that the record pins is the one in the cloud-init, kept in the keyring.
    assert_eq!(w.secrets.len(), 1);

    let deleted = w.workspaces.delete("api").await.unwrap();
    assert_eq!(deleted.state, Lifecycle::Deleted);
    assert!(
        w.fake.cloud_servers(Provider::Hetzner).is_empty(),
        "nothing billed is left"
    );
    assert_eq!(w.secrets.len(), 0, "the host key is forgotten");
    drop(sshd);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_another_host_key_is_refused() {
    let w = world().await;
    // An impostor answers on the workspace's address with a host key of its own.
    let impostor_key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
    let impostor_pem = impostor_key.to_openssh(LineEnding::LF).unwrap().to_string();
    let impostor = play_vm(
        w.fake.clone(),
        Provider::Hetzner,
        w.port,
        VmOptions {
            impostor_host_key: Some(impostor_pem),
            ..VmOptions::default()
        },
    );
    let error = w
        .workspaces
        .create(spec(&w, "api"), None)
        .await
        .unwrap_err();
    let _impostor = impostor.await.unwrap().unwrap();
    assert!(
        matches!(
            error,
            WorkspaceError::Ssh(sam_ssh::SshError::HostKeyMismatch { .. })
        ),
        "{error:?}"
    );
    let failed = w.workspaces.get("api").unwrap();
    assert_eq!(failed.state, Lifecycle::Failed);
    assert_eq!(failed.steps.last().unwrap().step, steps::WAIT_FOR_SSH);
    // Deleting the failed workspace removes its server.
    w.workspaces.delete("api").await.unwrap();
    assert!(w.fake.cloud_servers(Provider::Hetzner).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_an_interruption_resumes_without_a_second_server() {
    let w = world().await;
    // No VM comes up: SSH times out (deadline 20 s is too long for a test; the create is
    // interrupted instead, as a quit would).
    let attempt = w.workspaces.create(spec(&w, "api"), None);
    let _ = tokio::time::timeout(Duration::from_millis(1500), attempt).await;
    let interrupted = w.workspaces.get("api").unwrap();
    assert_eq!(
        interrupted.state,
        Lifecycle::Provisioning,
        "{interrupted:?}"
    );
    assert_eq!(w.fake.cloud_servers(Provider::Hetzner).len(), 1);

    let vm = play_vm(
        w.fake.clone(),
        Provider::Hetzner,
        w.port,
        VmOptions::default(),
    );
    let resumed = w.workspaces.retry("api", None).await.unwrap();
    let _sshd = vm.await.unwrap().unwrap().unwrap();
    assert_eq!(resumed.state, Lifecycle::Ready);
    assert_eq!(
        w.fake.cloud_servers(Provider::Hetzner).len(),
        1,
        "the retry found the server by its labels"
    );
    w.workspaces.delete("api").await.unwrap();
    assert!(w.fake.cloud_servers(Provider::Hetzner).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_workspaces_refuse_folders_and_need_a_credential() {
    let w = world().await;
    let mut folder = spec(&w, "api");
    folder.repo = Repo::Folder {
        path: w.repo.path().to_owned(),
    };
    let error = w.workspaces.create(folder, None).await.unwrap_err();
    assert!(error.to_string().contains("repository URL"), "{error}");

    // An ARM server could not run the x86-64 sam-host this desktop uploads.
    let mut arm = spec(&w, "arm");
    arm.size = Some("cax11".into());
    let error = w.workspaces.create(arm, None).await.unwrap_err();
    assert!(error.to_string().contains("arm64"), "{error}");
    assert_eq!(w.workspaces.get("arm").unwrap().state, Lifecycle::Failed);

    let data = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(&data.path().join("sam.sqlite3")).unwrap();
    let without = Workspaces::new(Arc::new(store), data.path(), host_binary());
    let error = without.create(spec(&w, "api"), None).await.unwrap_err();
    assert!(error.to_string().contains("credential"), "{error}");
    // It failed before any server existed: it can be deleted without the credential.
    assert_eq!(without.get("api").unwrap().state, Lifecycle::Failed);
    assert_eq!(
        without.delete("api").await.unwrap().state,
        Lifecycle::Deleted
    );
    assert!(w.fake.cloud_servers(Provider::Hetzner).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_finds_this_installs_orphans_and_nothing_else() {
    let w = world().await;
    let labels = |install: &str, workspace: &str| {
        sam_cloud::Labels::new(install, workspace).unwrap().to_map()
    };
    let seed = |name: &str, labels| {
        w.fake.seed_server(
            Provider::Hetzner,
            sam_testkit::SeedServer {
                name: name.into(),
                location: "fsn1".into(),
                server_type: "cx23".into(),
                labels,
                running: true,
            },
        )
    };
    // A workspace SAM knows (claimed, with its server), an orphan of this install, and a
    // server of another install sharing the project.
    let known = w.workspaces.claim(spec(&w, "known")).unwrap();
    seed("known", labels(INSTALL, &known.id));
    seed("orphan", labels(INSTALL, "feedfacefeedface"));
    seed("theirs", labels("ffffffffffffffff", "feedfacefeedface"));

    let report = w.workspaces.reconcile(false).await.unwrap();
    let names: Vec<(&str, bool)> = report
        .orphans
        .iter()
        .map(|o| (o.name.as_str(), o.deleted))
        .collect();
    assert_eq!(names, [("orphan", false)], "{report:?}");
    assert_eq!(
        w.fake.cloud_servers(Provider::Hetzner).len(),
        3,
        "only shown"
    );
    // Scaleway has no credential in this world: said, not hidden.
    assert_eq!(report.unchecked.len(), 1, "{report:?}");
    assert!(report.unchecked[0].contains("Scaleway"), "{report:?}");

    let report = w.workspaces.reconcile(true).await.unwrap();
    assert_eq!(report.orphans.len(), 1);
    assert!(report.orphans[0].deleted);
    let left: Vec<String> = w
        .fake
        .cloud_servers(Provider::Hetzner)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(left, ["known", "theirs"]);
}

// ---- crash safety: the provisioning process killed at every step boundary and at random ----

/// Where the parent kills the child.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// As soon as this step has started.
    Started(&'static str),
    /// As soon as this step has finished.
    Finished(&'static str),
    /// After this many milliseconds.
    After(u64),
}

const REMOTE_STEPS: [&str; 7] = [
    steps::ENSURE_SSH_KEY,
    steps::CREATE_SERVER,
    steps::WAIT_FOR_IP,
    steps::WAIT_FOR_SSH,
    steps::UPLOAD_HOST,
    steps::START_HOST,
    steps::CHECKOUT,
];

/// The child: provisions one workspace in its own process, until the parent kills it. Run
/// only by `killing_provisioning_anywhere_leaves_no_orphan_and_no_duplicate`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of the crash-safety test; it needs that test's environment"]
async fn crash_child() {
    let var = |name: &str| std::env::var(name).unwrap();
    let data = PathBuf::from(var("SAM_CRASH_DATA"));
    let (store, _) = Store::open(&data.join("sam.sqlite3")).unwrap();
    let workspaces =
        Workspaces::new(Arc::new(store), &data, host_binary()).with_remote(Arc::new(Factory {
            hetzner: var("SAM_CRASH_HETZNER").parse().unwrap(),
            client_pem: std::fs::read_to_string(data.join("client.pem")).unwrap(),
            secrets: Arc::new(FileSecrets(data.join("keyring.json"), Mutex::new(()))),
            port: var("SAM_CRASH_PORT").parse().unwrap(),
        }));
    let spec = WorkspaceSpec {
        name: var("SAM_CRASH_NAME"),
        provider: WorkspaceProvider::Hetzner,
        repo: Repo::Url {
            url: var("SAM_CRASH_REPO"),
        },
        branch: None,
        size: Some("small".into()),
        locations: vec!["nbg1".into()],
    };
    // Killed somewhere in here; if it finishes first, that is a kill point too.
    let _ = workspaces.create(spec, None).await;
}

/// The step's state in the child's database, read without the store (the child writes it).
fn step_state(data: &Path, name: &str, step: &str) -> Option<String> {
    let conn = rusqlite::Connection::open(data.join("sam.sqlite3")).ok()?;
    conn.query_row(
        "SELECT s.state FROM workspace_steps s JOIN workspaces w ON w.id = s.workspace_id
         WHERE w.name = ?1 AND s.step = ?2",
        [name, step],
        |row| row.get(0),
    )
    .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_provisioning_anywhere_leaves_no_orphan_and_no_duplicate() {
    let w = world().await;
    std::fs::write(w.data.path().join("client.pem"), &w.client_pem).unwrap();
    let mut points: Vec<KillAt> = REMOTE_STEPS
        .iter()
        .flat_map(|step| [KillAt::Started(step), KillAt::Finished(step)])
        .collect();
    let mut rng = fastrand::Rng::with_seed(7);
    while points.len() < 50 {
        points.push(KillAt::After(rng.u64(0..900)));
    }
    let mut outcomes = Vec::new();
    for (run, point) in points.into_iter().enumerate() {
        let name = format!("crash{run}");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let vm = play_vm(
            w.fake.clone(),
            Provider::Hetzner,
            w.port,
            VmOptions {
                name_prefix: Some(format!("sam-{name}-")),
                stop: Some(stop.clone()),
                ..VmOptions::default()
            },
        );
        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("SAM_CRASH_DATA", w.data.path())
            .env("SAM_CRASH_HETZNER", w.fake.hetzner_url().to_string())
            .env("SAM_CRASH_PORT", w.port.to_string())
            .env("SAM_CRASH_NAME", &name)
            .env(
                "SAM_CRASH_REPO",
                format!("file://{}", w.repo.path().display()),
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        let reached = loop {
            let hit = match point {
                KillAt::Started(step) => step_state(w.data.path(), &name, step).is_some(),
                KillAt::Finished(step) => {
                    step_state(w.data.path(), &name, step).as_deref() == Some("done")
                }
                KillAt::After(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    true
                }
            };
            if hit || child.try_wait().unwrap().is_some() {
                break hit;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "run {run}: {point:?} never came"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let _ = child.start_kill();
        let _ = child.wait().await;

        // The app starts again.
        let app = w.reopen();
        app.recover_interrupted().unwrap();
        let held = |id: &str| {
            w.fake
                .cloud_servers(Provider::Hetzner)
                .into_iter()
                .filter(|s| s.labels.get("sam-workspace").map(String::as_str) == Some(id))
                .count()
        };
        match app.get(&name) {
            Err(WorkspaceError::NotFound(_)) => {
                // Killed before the claim: nothing may exist for it.
                assert!(
                    !w.fake
                        .cloud_servers(Provider::Hetzner)
                        .iter()
                        .any(|s| s.name.starts_with(&format!("sam-{name}-"))),
                    "run {run} {point:?}: a server without a record"
                );
                outcomes.push("before claim");
            }
            Ok(found) => {
                assert!(
                    matches!(found.state, Lifecycle::Failed | Lifecycle::Ready),
                    "run {run} {point:?}: {:?} is not truthful after a restart",
                    found.state
                );
                outcomes.push(if found.state == Lifecycle::Ready {
                    "ready"
                } else {
                    "resumed"
                });
                assert!(
                    held(&found.id) <= 1,
                    "run {run} {point:?}: a duplicate server"
                );
                let ready = if found.state == Lifecycle::Ready {
                    found
                } else {
                    app.retry(&name, None)
                        .await
                        .unwrap_or_else(|e| panic!("run {run} {point:?}: retry failed: {e}"))
                };
                assert_eq!(ready.state, Lifecycle::Ready, "run {run} {point:?}");
                assert_eq!(
                    held(&ready.id),
                    1,
                    "run {run} {point:?}: exactly one server"
                );
                app.delete(&name).await.unwrap();
                assert_eq!(held(&ready.id), 0, "run {run} {point:?}: deleted");
            }
            Err(other) => panic!("run {run}: {other}"),
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        drop(vm.await.unwrap().unwrap());
        let _ = reached;
    }
    // Nothing this install owns is left anywhere.
    let report = w.reopen().reconcile(false).await.unwrap();
    assert!(report.orphans.is_empty(), "{report:?}");
    assert!(w.fake.cloud_servers(Provider::Hetzner).is_empty());
    assert!(outcomes.contains(&"resumed"), "{outcomes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgotten_cloud_workspaces_are_warned_about_then_deleted() {
    use sam_workspace::{Policy, PolicyEvent};
    let w = world().await;
    let policy = Policy::default();
    let minutes = |m: i64| m * 60;

    let (created, sshd) = w.create_with_vm("idle").await;
    let now = created.created_at + 1;
    assert!(w.workspaces.enforce(&policy, now).await.unwrap().is_empty());
    let events = w
        .workspaces
        .enforce(&policy, now + minutes(26))
        .await
        .unwrap();
    assert!(
        matches!(&events[..], [PolicyEvent::IdleWarning { name, minutes: 4 | 5, .. }] if name == "idle"),
        "{events:?}"
    );
    assert_eq!(w.fake.cloud_servers(Provider::Hetzner).len(), 1);
    let events = w
        .workspaces
        .enforce(&policy, now + minutes(31))
        .await
        .unwrap();
    assert!(
        matches!(&events[..], [PolicyEvent::Deleted { reason, .. }] if reason.contains("30 minutes")),
        "{events:?}"
    );
    assert_eq!(w.workspaces.get("idle").unwrap().state, Lifecycle::Deleted);
    assert!(
        w.fake.cloud_servers(Provider::Hetzner).is_empty(),
        "the server is gone"
    );
    drop(sshd);

    // A sign of life restarts the idle clock; the maximum lifetime still ends it.
    let (created, _sshd) = w.create_with_vm("busy").await;
    w.workspaces.touch(&created.id).unwrap();
    let strict = Policy {
        idle: Duration::from_secs(10 * 3600),
        max_lifetime: Some(Duration::from_secs(3600)),
        ..Policy::default()
    };
    let now = created.created_at + 1;
    assert!(
        w.workspaces
            .enforce(&strict, now + minutes(30))
            .await
            .unwrap()
            .is_empty()
    );
    let events = w
        .workspaces
        .enforce(&strict, now + minutes(61))
        .await
        .unwrap();
    assert!(
        matches!(&events[..], [PolicyEvent::Deleted { reason, .. }] if reason.contains("lifetime")),
        "{events:?}"
    );
    assert!(w.fake.cloud_servers(Provider::Hetzner).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_key_kept_in_the_keyring_but_not_yet_recorded_is_recovered() {
    // The window the crash-safety run found: killed after the host key reached the keyring,
    // before the record had its public half.
    let w = world().await;
    let claimed = w.workspaces.claim(spec(&w, "api")).unwrap();
    let keys = sam_cloudinit::HostKeys::generate().unwrap();
    w.secrets
        .put(
            &format!("workspace-{}-host-key", claimed.id),
            &Sensitive::new(keys.private_key_openssh().to_owned()),
        )
        .unwrap();
    let vm = play_vm(
        w.fake.clone(),
        Provider::Hetzner,
        w.port,
        VmOptions::default(),
    );
    let ready = w
        .workspaces
        .provision_claimed(&claimed.id, None)
        .await
        .unwrap();
    let _sshd = vm.await.unwrap().unwrap().unwrap();
    assert_eq!(ready.state, Lifecycle::Ready);
    let user_data = w.fake.cloud_servers(Provider::Hetzner)[0]
        .user_data
        .clone()
        .unwrap();
    assert!(
        user_data.contains(&keys.public_key_openssh()),
        "the kept key was used"
    );
    w.workspaces.delete("api").await.unwrap();
}

/// A fake `code` on its own search path that writes its argv, one per line, to `record`.
fn fake_code(dir: &Path, record: &Path) -> sam_editor::Environment {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let code = bin.join("code");
    std::fs::write(
        &code,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{0}.tmp'\n/bin/mv '{0}.tmp' '{0}'\n",
            record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&code, std::fs::Permissions::from_mode(0o755)).unwrap();
    sam_editor::Environment::with_search_path(vec![bin])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloud_workspaces_file_opens_as_a_read_only_local_copy_at_the_line() {
    use std::os::unix::fs::PermissionsExt as _;
    let w = world().await;
    let (created, _sshd) = w.create_with_vm("web").await;
    assert_eq!(created.state, Lifecycle::Ready, "{created:?}");
    let scratch = tempfile::tempdir().unwrap();
    let record = scratch.path().join("argv");
    let env = fake_code(scratch.path(), &record);
    let choice = sam_editor::EditorChoice::Editor {
        id: "vscode".into(),
    };

    // The mention resolves on the VM, the file comes over SSH into the mirror, read-only, and
    // the local editor opens the copy at the line.
    let found = w
        .workspaces
        .resolve_paths("web", vec!["app.py".into(), "../../etc/passwd".into()])
        .await
        .unwrap();
    assert!(matches!(
        found[0].resolution,
        sam_protocol::PathResolution::Found(_)
    ));
    assert!(matches!(
        found[1].resolution,
        sam_protocol::PathResolution::Refused { .. }
    ));
    let opened = w
        .workspaces
        .open_file(
            "web",
            "app.py",
            Some(1),
            Some(3),
            env.clone(),
            choice.clone(),
        )
        .await
        .unwrap();
    assert_eq!(opened.how, sam_workspace::OpenHow::Mirror);
    assert!(
        opened.message.contains("read-only copy"),
        "{}",
        opened.message
    );
    let copy = w.workspaces.mirror_dir(&created.id).join("app.py");
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "print('hi')\n");
    assert_eq!(
        std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o444
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !record.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the editor did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let argv = std::fs::read_to_string(&record).unwrap();
    assert_eq!(
        argv.lines().collect::<Vec<_>>(),
        ["-g", &format!("{}:1:3", copy.display())]
    );

    // Opening again refreshes the copy from the VM (it was read-only; it is replaced).
    let checkout = created.checkout_dir.clone().unwrap();
    std::fs::write(checkout.join("app.py"), "print('changed')\n").unwrap();
    w.workspaces
        .open_file("web", "app.py", None, None, env.clone(), choice.clone())
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        "print('changed')\n"
    );

    // Escapes are refused on the VM before anything is copied.
    let refused = w
        .workspaces
        .open_file("web", "../.ssh/authorized_keys", None, None, env, choice)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("cannot be opened"),
        "{refused}"
    );
    assert!(
        !w.workspaces
            .mirror_dir(&created.id)
            .join("authorized_keys")
            .exists()
    );
}

/// A real `ssh-agent` on a socket of its own; killed when dropped.
struct SshAgent {
    child: std::process::Child,
    socket: PathBuf,
}

impl SshAgent {
    fn start(dir: &Path) -> Self {
        let socket = dir.join("agent.sock");
        let child = std::process::Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("ssh-agent runs (openssh-client)");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "ssh-agent never listened"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, socket }
    }

    /// The keys it holds, as `ssh-add -L` lists them.
    fn keys(&self) -> String {
        let out = std::process::Command::new("ssh-add")
            .arg("-L")
            .env("SSH_AUTH_SOCK", &self.socket)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_remote_editing_on_a_cloud_file_opens_on_the_workspace_through_the_users_ssh() {
    let w = world().await;
    let (created, _sshd) = w.create_with_vm("web").await;
    assert_eq!(created.state, Lifecycle::Ready, "{created:?}");
    let scratch = tempfile::tempdir().unwrap();
    let record = scratch.path().join("argv");
    let env = fake_code(scratch.path(), &record);
    let choice = sam_editor::EditorChoice::Editor {
        id: "vscode".into(),
    };
    let agent = SshAgent::start(scratch.path());
    let user_config = scratch.path().join("home/.ssh/config");
    let workspaces = w
        .workspaces
        .clone()
        .with_user_ssh(user_config.clone(), Some(agent.socket.clone()));

    // Off (the default): a read-only copy, and the message says how to edit on the workspace.
    let opened = workspaces
        .open_file("web", "app.py", Some(1), None, env.clone(), choice.clone())
        .await
        .unwrap();
    assert_eq!(opened.how, sam_workspace::OpenHow::Mirror);
    assert!(
        opened.message.contains("remote editing"),
        "{}",
        opened.message
    );
    assert!(agent.keys().trim().is_empty() || agent.keys().contains("no identities"));
    std::fs::remove_file(&record).unwrap();

    // On: one Include line in the user's config; VS Code opens the file on the workspace.
    let status = workspaces.set_remote_editing(true).unwrap();
    assert!(status.enabled && status.agent_available, "{status:?}");
    let opened = workspaces
        .open_file(
            "web",
            "app.py",
            Some(1),
            Some(3),
            env.clone(),
            choice.clone(),
        )
        .await
        .unwrap();
    assert_eq!(
        opened.how,
        sam_workspace::OpenHow::Remote,
        "{}",
        opened.message
    );
    let checkout = created.checkout_dir.clone().unwrap();
    let remote_file = format!("{}/app.py", checkout.display());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !record.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the editor did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        std::fs::read_to_string(&record)
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        [
            "--remote",
            "ssh-remote+sam-web",
            "-g",
            &format!("{remote_file}:1:3")
        ]
    );

    // The key went to the agent, never to a file: SAM's ssh folder holds only public parts.
    let lent = agent.keys();
    assert!(lent.starts_with("ssh-ed25519 "), "{lent}");
    for entry in std::fs::read_dir(workspaces.ssh_dir()).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains("PRIVATE KEY"), "{text}");
    }
    // What the editor's Remote-SSH does: the user's own ssh reaches `sam-web` through the
    // Include, the pinned host key and the agent, and reads the file on the workspace.
    let out = std::process::Command::new("ssh")
        .args(["-F"])
        .arg(&user_config)
        .args(["-o", "BatchMode=yes", "sam-web", "cat"])
        .arg(&remote_file)
        .env("SSH_AUTH_SOCK", &agent.socket)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ssh sam-web failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "print('hi')\n");

    // `sam workspace ssh`'s command line works without the Include line too (it names SAM's
    // config itself), and runs a command on the workspace.
    let mut argv = workspaces.ssh_argv("web").await.unwrap();
    assert_eq!(argv[0], "ssh");
    assert_eq!(argv.last().map(String::as_str), Some("sam-web"));
    argv.extend([
        "-o".into(),
        "BatchMode=yes".into(),
        "cat".into(),
        remote_file.clone(),
    ]);
    let out = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .env("SSH_AUTH_SOCK", &agent.socket)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "print('hi')\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Without an agent it cannot lend the key: a copy opens, saying why.
    let no_agent = w
        .workspaces
        .clone()
        .with_user_ssh(user_config.clone(), None);
    let opened = no_agent
        .open_file("web", "app.py", None, None, env, choice)
        .await
        .unwrap();
    assert_eq!(opened.how, sam_workspace::OpenHow::Mirror);
    assert!(opened.message.contains("ssh-agent"), "{}", opened.message);

    let refused = no_agent.ssh_argv("web").await.unwrap_err();
    assert!(refused.to_string().contains("ssh-agent"), "{refused}");

    // Off again: exactly SAM's lines leave the user's config.
    workspaces.set_remote_editing(false).unwrap();
    assert_eq!(std::fs::read_to_string(&user_config).unwrap(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_up_monthly_budget_refuses_new_cloud_workspaces_but_not_local_ones() {
    let w = world().await;
    let (created, _sshd) = w.create_with_vm("paid").await;
    assert_eq!(created.state, Lifecycle::Ready, "{created:?}");
    let hourly = created.cost.as_ref().unwrap().hourly;
    let status = w.workspaces.budget_status(sam_core_now()).unwrap();
    // One started hour of the one server, no cap yet.
    assert!((status.spent - hourly).abs() < 1e-9, "{status:?}");
    assert_eq!((status.limit, status.percent), (None, None));

    // Hostile caps are refused.
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e6] {
        assert!(w.workspaces.set_budget_limit(Some(bad)).is_err(), "{bad}");
    }
    // A cap below what was spent: used up; another cloud workspace is refused before any call.
    let status = w.workspaces.set_budget_limit(Some(hourly / 2.0)).unwrap();
    assert!(
        status.exhausted() && status.percent == Some(200),
        "{status:?}"
    );
    let servers_before = w.fake.cloud_servers(Provider::Hetzner).len();
    let refused = w
        .workspaces
        .create(spec(&w, "more"), None)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("budget"), "{refused}");
    assert_eq!(
        w.fake.cloud_servers(Provider::Hetzner).len(),
        servers_before
    );
    assert!(w.workspaces.get("more").is_err(), "nothing was recorded");
    // A local workspace costs nothing and is not refused.
    let local = WorkspaceSpec {
        name: "here".into(),
        provider: WorkspaceProvider::Local,
        repo: Repo::Folder {
            path: w.repo.path().to_owned(),
        },
        branch: None,
        size: None,
        locations: Vec::new(),
    };
    assert!(w.workspaces.claim(local).is_ok());
    // No cap: allowed again.
    assert_eq!(w.workspaces.set_budget_limit(None).unwrap().limit, None);
    assert!(w.workspaces.claim(spec(&w, "more")).is_ok());
}

fn sam_core_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_terminal_reaches_a_cloud_workspace_by_ssh_and_vscode_needs_remote_editing() {
    use sam_workspace::WorkspaceLaunch;
    use std::os::unix::fs::PermissionsExt as _;
    let w = world().await;
    let (created, _sshd) = w.create_with_vm("term").await;
    assert_eq!(created.state, Lifecycle::Ready, "{created:?}");
    let checkout = created.checkout_dir.clone().unwrap().display().to_string();
    let scratch = tempfile::tempdir().unwrap();
    let agent = SshAgent::start(scratch.path());
    let user_config = scratch.path().join("home/.ssh/config");
    let workspaces = w
        .workspaces
        .clone()
        .with_user_ssh(user_config.clone(), Some(agent.socket.clone()));

    // A terminal that records its argv, then runs what it was given (the real ssh) with a
    // command appended, as a user would type it at the prompt, and keeps the output.
    let record = scratch.path().join("terminal");
    let output = scratch.path().join("terminal.out");
    let bin = scratch.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let terminal = bin.join("x-terminal-emulator");
    std::fs::write(
        &terminal,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{record}'\nshift 1\n\
             SSH_AUTH_SOCK='{agent}' \"$@\" -- cat '{checkout}/app.py' > '{output}.tmp' 2>&1; /bin/mv '{output}.tmp' '{output}'\n",
            record = record.display(),
            agent = agent.socket.display(),
            output = output.display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&terminal, std::fs::Permissions::from_mode(0o755)).unwrap();
    let env = sam_editor::Environment::with_search_path(vec![bin.clone(), "/usr/bin".into()]);

    // Remote editing is off: the terminal's ssh names SAM's config itself.
    assert!(!workspaces.remote_editing().unwrap().enabled);
    let launched = workspaces.open_terminal("term", env.clone()).await.unwrap();
    assert!(
        matches!(&launched, WorkspaceLaunch::Opened { message, .. } if message.contains("ssh sam-term")),
        "{launched:?}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !output.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the terminal's ssh did not finish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let argv: Vec<String> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(argv[0], "-e");
    assert!(argv[1].ends_with("/ssh"), "{argv:?}");
    assert_eq!(argv[2], "-F");
    assert_eq!(argv.last().map(String::as_str), Some("sam-term"));
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "print('hi')\n");

    // VS Code reads the user's ssh config: with remote editing off it asks for it and starts
    // nothing; once it is on, it opens the checkout on the workspace.
    let code_record = scratch.path().join("code");
    let env = fake_code(&scratch.path().join("vscode"), &code_record);
    let launched = workspaces
        .open_in_vscode("term", env.clone())
        .await
        .unwrap();
    assert!(
        matches!(&launched, WorkspaceLaunch::NeedsRemoteEditing { include_line, .. } if include_line.starts_with("Include ")),
        "{launched:?}"
    );
    assert!(!code_record.exists());
    workspaces.set_remote_editing(true).unwrap();
    workspaces.open_in_vscode("term", env).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !code_record.exists() {
        assert!(std::time::Instant::now() < deadline, "code did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        std::fs::read_to_string(&code_record)
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        ["--remote", "ssh-remote+sam-term", checkout.as_str()]
    );
    workspaces.set_remote_editing(false).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_idle_policy_from_the_settings_decides_when_a_cloud_workspace_goes() {
    use sam_workspace::{IdlePolicy, PolicyEvent};
    let w = world().await;
    let minutes = |m: i64| m * 60;
    w.workspaces
        .set_idle_policy(IdlePolicy {
            idle_minutes: 10.0,
            warn_minutes: 3.0,
            max_lifetime_hours: 2.0,
        })
        .unwrap();
    // Read back as the app's timer does every minute, through a fresh handle.
    let policy = w.reopen().policy().unwrap();
    assert_eq!(policy.idle, Duration::from_secs(600));

    let (created, _sshd) = w.create_with_vm("short").await;
    let now = created.created_at + 1;
    assert!(
        w.workspaces
            .enforce(&policy, now + minutes(6))
            .await
            .unwrap()
            .is_empty(),
        "not yet warned 4 minutes before"
    );
    let events = w
        .workspaces
        .enforce(&policy, now + minutes(8))
        .await
        .unwrap();
    assert!(
        matches!(
            &events[..],
            [PolicyEvent::IdleWarning { minutes: 2 | 3, .. }]
        ),
        "{events:?}"
    );
    let events = w
        .workspaces
        .enforce(&policy, now + minutes(11))
        .await
        .unwrap();
    assert!(
        matches!(&events[..], [PolicyEvent::Deleted { reason, .. }] if reason.contains("10 minutes")),
        "{events:?}"
    );
    assert!(w.fake.cloud_servers(Provider::Hetzner).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloud_workspaces_changes_are_watched_reviewed_and_shipped_over_ssh() {
    use sam_workspace::{ShipError, ShipOptions};
    let w = world().await;
    let (created, _sshd) = w.create_with_vm("review").await;
    assert_eq!(created.state, Lifecycle::Ready, "{created:?}");
    // The checkout lives on the "VM" (the sshd's home); the agent edits it there.
    let checkout = created.checkout_dir.clone().unwrap();

    // The host on the VM watches its checkout: a waiting desktop wakes on an edit.
    let first = w.workspaces.wait_changes("review", 0, 5_000).await.unwrap();
    assert!(first.live);
    let waiting = tokio::spawn({
        let workspaces = w.workspaces.clone();
        async move {
            workspaces
                .wait_changes("review", first.version, 20_000)
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(checkout.join("app.py"), "print('hello')\n").unwrap();
    std::fs::write(checkout.join("notes.md"), "# Notes\n").unwrap();
    let woke = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the wait over SSH should end at the edit")
        .unwrap()
        .unwrap();
    assert!(woke.version > first.version);

    // The changes and one diff, read over SSH from the host on the VM.
    let changes = w.workspaces.changes("review", None).await.unwrap();
    let paths: Vec<(&str, sam_protocol::ChangeStatus)> = changes
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.status))
        .collect();
    assert_eq!(
        paths,
        [
            ("app.py", sam_protocol::ChangeStatus::Modified),
            ("notes.md", sam_protocol::ChangeStatus::Added)
        ]
    );
    let diff = w
        .workspaces
        .file_diff("review", "app.py", None, None)
        .await
        .unwrap();
    assert!(
        diff.diff.contains("-print('hi')\n+print('hello')\n"),
        "{}",
        diff.diff
    );

    // The default branch is refused; a sam/ branch is committed and pushed to the origin.
    let refused = w
        .workspaces
        .ship(
            "review",
            ShipOptions {
                message: "Say hello".into(),
                branch: Some("main".into()),
                push: true,
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ShipError::ProtectedBranch(_)),
        "{refused:?}"
    );
    let shipped = w
        .workspaces
        .ship(
            "review",
            ShipOptions {
                message: "Say hello\n\nFrom the VM.".into(),
                branch: None,
                push: true,
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(shipped.branch, "sam/say-hello");
    assert!(shipped.pushed, "{shipped:?}");
    let origin = w.repo.path();
    assert_eq!(
        sam_testkit::git::output(origin, &["rev-parse", "refs/heads/sam/say-hello"]).unwrap(),
        shipped.commit
    );
    assert_eq!(
        sam_testkit::git::output(origin, &["show", "sam/say-hello:notes.md"]).unwrap(),
        "# Notes"
    );
    // The origin's default branch did not move.
    assert_eq!(
        sam_testkit::git::output(origin, &["log", "--oneline", "main"])
            .unwrap()
            .lines()
            .count(),
        1
    );
    w.workspaces.delete("review").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_systemd_on_the_server_sam_host_runs_detached_and_no_unit_is_written() {
    // The test sshd host is not run by systemd (no /run/systemd/system), so this is the
    // fallback path; the systemd path itself is only checked by the unit's rendering.
    assert!(
        !Path::new("/run/systemd/system").is_dir(),
        "this test expects a machine without systemd as PID 1"
    );
    let w = world().await;
    let (created, _sshd) = w.create_with_vm("plain").await;
    assert_eq!(created.state, Lifecycle::Ready, "{created:?}");
    let unit = format!("/etc/systemd/system/sam-host-{}.service", created.id);
    assert!(!Path::new(&unit).exists(), "{unit} was written");
    // The detached daemon answers (a reconnect shakes hands with it).
    let link = w.workspaces.attach("plain").await.unwrap();
    match link
        .request(sam_protocol::RequestBody::Status)
        .await
        .unwrap()
    {
        sam_protocol::ResponseBody::Status(status) => {
            assert_eq!(status.state, sam_protocol::HostState::Ready);
        }
        other => panic!("unexpected {other:?}"),
    }
}

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
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sam_cloud::{Hetzner, ProviderKind, Timing};
use sam_secrets::{SecretStore, SecretStoreError, Sensitive};
use sam_ssh::{ClientKey, SshOptions};
use sam_store::Store;
use sam_testkit::sshd::{TestSshd, free_port, login_user};
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

/// The OS keyring stand-in for host keys (the keyring itself is tested in sam-secrets).
#[derive(Debug, Default)]
struct MemorySecrets(Mutex<HashMap<String, String>>);

impl SecretStore for MemorySecrets {
    fn put(&self, id: &str, secret: &Sensitive<String>) -> Result<(), SecretStoreError> {
        self.0
            .lock()
            .unwrap()
            .insert(id.into(), secret.expose().clone());
        Ok(())
    }
    fn get(&self, id: &str) -> Result<Sensitive<String>, SecretStoreError> {
        self.0
            .lock()
            .unwrap()
            .get(id)
            .cloned()
            .map(Sensitive::new)
            .ok_or(SecretStoreError::NotFound)
    }
    fn delete(&self, id: &str) -> Result<(), SecretStoreError> {
        self.0.lock().unwrap().remove(id);
        Ok(())
    }
}

#[derive(Debug)]
struct Factory {
    hetzner: url::Url,
    client_pem: String,
    secrets: Arc<MemorySecrets>,
    port: u16,
}

impl RemoteFactory for Factory {
    fn remote(&self, provider: ProviderKind) -> Result<RemoteSetup, WorkspaceError> {
        assert_eq!(provider, ProviderKind::Hetzner);
        Ok(RemoteSetup {
            cloud: Arc::new(Hetzner::new(self.hetzner.clone(), TOKEN, Timing::fast())?),
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

/// Plays the VM: when the fake holds a server with user-data, starts sshd with the host key
/// and authorized key from that cloud-init, on the port the workspace will dial.
fn boot_vm_when_created(fake: Arc<FakeProviders>, port: u16) -> tokio::task::JoinHandle<TestSshd> {
    tokio::task::spawn_blocking(move || {
        loop {
            if let Some(user_data) = fake
                .cloud_servers(Provider::Hetzner)
                .into_iter()
                .find_map(|s| s.user_data)
            {
                let body = user_data.strip_prefix("#cloud-config\n").unwrap();
                let config: serde_json::Value = serde_json::from_str(body).unwrap();
                let host_key = config["ssh_keys"]["ed25519_private"].as_str().unwrap();
                let authorized = config["users"][0]["ssh_authorized_keys"][0]
                    .as_str()
                    .unwrap();
                assert_eq!(config["users"][0]["name"], "sam");
                return TestSshd::start(host_key, authorized, port).unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .status()
        .unwrap();
    assert!(status.success());
}

struct World {
    fake: Arc<FakeProviders>,
    workspaces: Workspaces,
    secrets: Arc<MemorySecrets>,
    port: u16,
    _data: tempfile::TempDir,
    repo: tempfile::TempDir,
}

async fn world() -> World {
    let fake = Arc::new(FakeProviders::start().await.unwrap());
    fake.accept(Provider::Hetzner, TOKEN);
    fake.set_fixed_ipv4(Provider::Hetzner, Some("127.0.0.1"));
    let client = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
    let client_pem = client.to_openssh(LineEnding::LF).unwrap().to_string();
    let secrets = Arc::new(MemorySecrets::default());
    let port = free_port().unwrap();
    let data = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(&data.path().join("sam.sqlite3")).unwrap();
    let workspaces = Workspaces::new(Arc::new(store), data.path(), host_binary()).with_remote(
        Arc::new(Factory {
            hetzner: fake.hetzner_url(),
            client_pem,
            secrets: secrets.clone(),
            port,
        }),
    );
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(repo.path().join("app.py"), "print('hi')\n").unwrap();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "one"]);
    World {
        fake,
        workspaces,
        secrets,
        port,
        _data: data,
        repo,
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
    let vm = boot_vm_when_created(w.fake.clone(), w.port);
    let created = w.workspaces.create(spec(&w, "api"), None).await.unwrap();
    let sshd = vm.await.unwrap();
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
    // The host key that the record pins is the one in the cloud-init, kept in the keyring.
    assert_eq!(w.secrets.0.lock().unwrap().len(), 1);

    let deleted = w.workspaces.delete("api").await.unwrap();
    assert_eq!(deleted.state, Lifecycle::Deleted);
    assert!(
        w.fake.cloud_servers(Provider::Hetzner).is_empty(),
        "nothing billed is left"
    );
    assert!(
        w.secrets.0.lock().unwrap().is_empty(),
        "the host key is forgotten"
    );
    drop(sshd);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_another_host_key_is_refused() {
    let w = world().await;
    // An impostor answers on the workspace's address with a host key of its own.
    let impostor_key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
    let impostor_pem = impostor_key.to_openssh(LineEnding::LF).unwrap().to_string();
    let fake = w.fake.clone();
    let port = w.port;
    let impostor = tokio::task::spawn_blocking(move || {
        loop {
            if let Some(user_data) = fake
                .cloud_servers(Provider::Hetzner)
                .into_iter()
                .find_map(|s| s.user_data)
            {
                let config: serde_json::Value =
                    serde_json::from_str(user_data.strip_prefix("#cloud-config\n").unwrap())
                        .unwrap();
                let authorized = config["users"][0]["ssh_authorized_keys"][0]
                    .as_str()
                    .unwrap();
                return TestSshd::start(&impostor_pem, authorized, port).unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let error = w
        .workspaces
        .create(spec(&w, "api"), None)
        .await
        .unwrap_err();
    let _impostor = impostor.await.unwrap();
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

    let vm = boot_vm_when_created(w.fake.clone(), w.port);
    let resumed = w.workspaces.retry("api", None).await.unwrap();
    let _sshd = vm.await.unwrap();
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

    let data = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(&data.path().join("sam.sqlite3")).unwrap();
    let without = Workspaces::new(Arc::new(store), data.path(), host_binary());
    let error = without.create(spec(&w, "api"), None).await.unwrap_err();
    assert!(error.to_string().contains("credential"), "{error}");
    assert!(w.fake.cloud_servers(Provider::Hetzner).is_empty());
}

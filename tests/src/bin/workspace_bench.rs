//! Workspace create-to-ready, as the orchestration costs it.
//!
//! - `--local` (default): a small git repository cloned by a fresh `sam-host` daemon, from the
//!   claim to `Ready`. Target ≤ 2 s median.
//! - `--remote`: a Hetzner workspace against the fake cloud API (no artificial delays:
//!   actions and boots finish on the first poll) and a real sshd on loopback playing the VM
//!   with the host key from the workspace's cloud-init: SSH, upload of `sam-host` (the same
//!   build), start over SSH, clone. Target ≤ 3 s median.
//!
//! `cargo build --release -p sam-host && cargo build --release -p sam-e2e --bin
//!  workspace-bench && target/release/workspace-bench [--remote] [--runs N]`

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sam_cloud::{Hetzner, ProviderKind, Timing};
use sam_secrets::{SecretStore, SecretStoreError, Sensitive};
use sam_ssh::{ClientKey, SshOptions};
use sam_testkit::git::git;
use sam_testkit::sshd::{VmOptions, free_port, login_user, play_vm};
use sam_testkit::{FakeProviders, Provider};
use sam_workspace::{
    Provider as WorkspaceProvider, RemoteFactory, RemoteSetup, Repo, SshSettings, WorkspaceError,
    WorkspaceSpec, Workspaces,
};

const TOKEN: &str = "hcloudBENCHabcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS";

/// Host keys in memory: the bench is one process.
#[derive(Debug, Default)]
struct MemorySecrets(Mutex<std::collections::HashMap<String, String>>);

impl SecretStore for MemorySecrets {
    fn put(&self, id: &str, secret: &Sensitive<String>) -> Result<(), SecretStoreError> {
        if let Ok(mut map) = self.0.lock() {
            map.insert(id.into(), secret.expose().clone());
        }
        Ok(())
    }
    fn get(&self, id: &str) -> Result<Sensitive<String>, SecretStoreError> {
        self.0
            .lock()
            .ok()
            .and_then(|map| map.get(id).cloned())
            .map(Sensitive::new)
            .ok_or(SecretStoreError::NotFound)
    }
    fn delete(&self, id: &str) -> Result<(), SecretStoreError> {
        if let Ok(mut map) = self.0.lock() {
            map.remove(id);
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Factory {
    hetzner: url::Url,
    client_pem: String,
    secrets: Arc<MemorySecrets>,
    port: u16,
    user: String,
}

impl RemoteFactory for Factory {
    fn remote(&self, provider: ProviderKind) -> Result<RemoteSetup, WorkspaceError> {
        if provider != ProviderKind::Hetzner {
            return Err(WorkspaceError::InvalidInput("Hetzner only".into()));
        }
        Ok(RemoteSetup {
            cloud: Arc::new(Hetzner::new(self.hetzner.clone(), TOKEN, Timing::fast())?),
            install_id: "0123456789abcdef".into(),
            client_key: Arc::new(ClientKey::from_openssh(&self.client_pem)?),
            secrets: self.secrets.clone(),
            ssh: SshSettings {
                vm_user: "sam".into(),
                user: self.user.clone(),
                port: self.port,
                options: SshOptions::default(),
                interval: Duration::from_millis(50),
                deadline: Duration::from_secs(30),
            },
            watchdog_minutes: 60,
        })
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut runs = 11usize;
    let mut remote = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().context("--runs needs a number")?.parse()?,
            "--remote" => remote = true,
            "--local" => remote = false,
            other => bail!("unknown argument {other}"),
        }
    }
    // A small repository: 50 files, 3 commits.
    let repo = tempfile::tempdir()?;
    git(repo.path(), &["init", "-q", "-b", "main"])?;
    for commit in 0..3 {
        for file in 0..50 {
            std::fs::write(
                repo.path().join(format!("file{file}.txt")),
                format!("commit {commit} file {file}\n").repeat(20),
            )?;
        }
        git(repo.path(), &["add", "."])?;
        git(repo.path(), &["commit", "-q", "-m", &format!("c{commit}")])?;
    }
    let url = format!("file://{}", repo.path().display());

    let data = tempfile::tempdir()?;
    let (store, _) = sam_store::Store::open(&data.path().join("sam.sqlite3"))?;
    let mut workspaces = Workspaces::new(
        Arc::new(store),
        data.path(),
        Workspaces::locate_host_binary(),
    );
    let fake = Arc::new(FakeProviders::start().await?);
    let port = free_port()?;
    if remote {
        fake.accept(Provider::Hetzner, TOKEN);
        fake.set_fixed_ipv4(Provider::Hetzner, Some("127.0.0.1"));
        fake.set_boot_polls(Provider::Hetzner, 0);
        let client = ssh_key::PrivateKey::random(
            &mut ssh_key::rand_core::OsRng,
            ssh_key::Algorithm::Ed25519,
        )?;
        workspaces = workspaces.with_remote(Arc::new(Factory {
            hetzner: fake.hetzner_url(),
            client_pem: client.to_openssh(ssh_key::LineEnding::LF)?.to_string(),
            secrets: Arc::new(MemorySecrets::default()),
            port,
            user: login_user()?,
        }));
    }
    let mut millis = Vec::new();
    for run in 0..runs {
        let spec = WorkspaceSpec {
            name: format!("bench-{run}"),
            provider: if remote {
                WorkspaceProvider::Hetzner
            } else {
                WorkspaceProvider::Local
            },
            repo: Repo::Url { url: url.clone() },
            branch: None,
            size: remote.then(|| "small".to_owned()),
            locations: if remote {
                vec!["fsn1".into()]
            } else {
                Vec::new()
            },
        };
        let vm =
            remote.then(|| play_vm(fake.clone(), Provider::Hetzner, port, VmOptions::default()));
        let started = Instant::now();
        let created = workspaces.create(spec, None).await?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let steps: Vec<String> = created
            .steps
            .iter()
            .map(|s| format!("{} {} ms", s.step, s.millis.unwrap_or_default()))
            .collect();
        println!("run {run:>2}: {elapsed:7.1} ms  ({})", steps.join(", "));
        millis.push(elapsed);
        workspaces.delete(&created.id).await?;
        if let Some(vm) = vm {
            drop(vm.await??);
        }
    }
    millis.sort_by(f64::total_cmp);
    let (what, target) = if remote {
        ("remote (fake cloud + local sshd)", 3000)
    } else {
        ("local", 2000)
    };
    println!(
        "{what} create-to-ready over {runs} runs: median {:.1} ms, min {:.1} ms, max {:.1} ms (target <= {target} ms)",
        millis[millis.len() / 2],
        millis[0],
        millis[millis.len() - 1]
    );
    Ok(())
}

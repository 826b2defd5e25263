//! Local workspaces for real: the real `sam-host` binary as a detached daemon, real git
//! repositories, a real SQLite file.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sam_store::Store;
use sam_workspace::{Lifecycle, Provider, Repo, WorkspaceError, WorkspaceSpec, Workspaces, steps};

/// The `sam-host` that cargo built next to this test's directory (`target/<profile>/`).
fn host_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("SAM_HOST_BINARY") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("sam-host");
    assert!(
        path.is_file(),
        "{} is missing: build it first (`cargo build -p sam-host`; the workspace-wide test run does)",
        path.display()
    );
    path
}

struct Fixture {
    data: tempfile::TempDir,
    workspaces: Workspaces,
}

impl Fixture {
    fn new() -> Self {
        let data = tempfile::tempdir().unwrap();
        let workspaces = Self::open(data.path());
        Self { data, workspaces }
    }

    /// A fresh `Workspaces` over the same data folder: what an app restart sees.
    fn open(data: &Path) -> Workspaces {
        let (store, _) = Store::open(&data.join("sam.sqlite3")).unwrap();
        Workspaces::new(Arc::new(store), data, host_binary())
    }
}

/// A repository with one commit on `main` and a `feature` branch.
fn repository() -> tempfile::TempDir {
    let dir = sam_testkit::git::repository(&[("README.md", "hello\n")]).unwrap();
    sam_testkit::git::git(dir.path(), &["branch", "feature"]).unwrap();
    dir
}

fn spec(name: &str, repo: Repo, branch: Option<&str>) -> WorkspaceSpec {
    WorkspaceSpec {
        name: name.into(),
        provider: Provider::Local,
        repo,
        branch: branch.map(str::to_owned),
        size: None,
        locations: Vec::new(),
    }
}

fn file_url(dir: &Path) -> Repo {
    Repo::Url {
        url: format!("file://{}", dir.display()),
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

async fn host_pid(workspaces: &Workspaces, name: &str) -> u32 {
    let link = workspaces.attach(name).await.unwrap();
    match link
        .request(sam_protocol::RequestBody::Status)
        .await
        .unwrap()
    {
        sam_protocol::ResponseBody::Status(status) => {
            assert_eq!(status.state, sam_protocol::HostState::Ready);
            status.pid
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloned_workspace_is_ready_survives_a_restart_and_is_deleted_cleanly() {
    let repo = repository();
    let f = Fixture::new();
    let created = f
        .workspaces
        .create(spec("api", file_url(repo.path()), Some("feature")), None)
        .await
        .unwrap();
    assert_eq!(created.state, Lifecycle::Ready);
    let checkout = created.checkout_dir.clone().unwrap();
    assert!(checkout.starts_with(f.data.path()), "{checkout:?}");
    assert_eq!(
        std::fs::read_to_string(checkout.join("README.md")).unwrap(),
        "hello\n"
    );
    let names: Vec<(&str, &str)> = created
        .steps
        .iter()
        .map(|s| (s.step.as_str(), s.state.as_str()))
        .collect();
    assert_eq!(
        names,
        [(steps::START_HOST, "done"), (steps::CHECKOUT, "done")]
    );
    assert!(created.steps.iter().all(|s| s.millis.is_some()));

    // Commands run in the checkout through the host, without a shell.
    let ten = Duration::from_secs(10);
    let ran = f
        .workspaces
        .run("api", vec!["cat".into(), "README.md".into()], false, ten)
        .await
        .unwrap();
    assert_eq!((ran.status, ran.stdout.as_str()), (0, "hello\n"));
    let ran = f
        .workspaces
        .run(
            "api",
            vec!["sh".into(), "-c".into(), "exit 3".into()],
            false,
            ten,
        )
        .await
        .unwrap();
    assert_eq!(ran.status, 3);
    let error = f
        .workspaces
        .run("api", vec!["true".into()], true, ten)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("container"), "{error}");

    // The app restarts: a new process finds the same daemon, still ready.
    let pid = host_pid(&f.workspaces, "api").await;
    let restarted = Fixture::open(f.data.path());
    assert_eq!(restarted.get("api").unwrap().state, Lifecycle::Ready);
    assert_eq!(host_pid(&restarted, "api").await, pid, "the same daemon");
    assert!(alive(pid));

    let deleted = restarted.delete("api").await.unwrap();
    assert_eq!(deleted.state, Lifecycle::Deleted);
    assert!(!checkout.exists(), "the clone SAM made is gone");
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        assert!(Instant::now() < deadline, "the host daemon stopped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let error = restarted
        .run("api", vec!["true".into()], false, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("not ready"), "{error}");
    // Deleting again is success; the record stays for the chat history.
    assert_eq!(
        restarted.delete("api").await.unwrap().state,
        Lifecycle::Deleted
    );
    assert_eq!(restarted.list().unwrap().len(), 1);
    // The name is free again.
    let again = restarted
        .create(spec("api", file_url(repo.path()), None), None)
        .await
        .unwrap();
    assert_eq!(again.state, Lifecycle::Ready);
    restarted.delete("api").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_is_used_in_place_and_never_deleted() {
    let repo = repository();
    let f = Fixture::new();
    let created = f
        .workspaces
        .create(
            spec(
                "here",
                Repo::Folder {
                    path: repo.path().to_owned(),
                },
                None,
            ),
            None,
        )
        .await
        .unwrap();
    assert_eq!(created.state, Lifecycle::Ready);
    assert_eq!(
        created
            .checkout_dir
            .as_deref()
            .map(Path::canonicalize)
            .unwrap()
            .unwrap(),
        repo.path().canonicalize().unwrap()
    );
    f.workspaces.delete("here").await.unwrap();
    assert!(
        repo.path().join("README.md").is_file(),
        "the user's folder is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_that_fails_leaves_a_failed_workspace_with_the_reason() {
    let repo = repository();
    let f = Fixture::new();
    let missing = tempfile::tempdir().unwrap();
    let error = f
        .workspaces
        .create(
            spec("gone", file_url(&missing.path().join("nothing")), None),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, WorkspaceError::SetupFailed(_)), "{error:?}");
    let failed = f.workspaces.get("gone").unwrap();
    assert_eq!(failed.state, Lifecycle::Failed);
    assert!(
        failed.failure.as_deref().unwrap().contains("clone"),
        "{failed:?}"
    );
    assert_eq!(failed.steps.last().unwrap().state, "failed");

    let error = f
        .workspaces
        .create(
            spec("branchless", file_url(repo.path()), Some("no-such-branch")),
            None,
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("no-such-branch"), "{error}");
    assert_eq!(
        f.workspaces.get("branchless").unwrap().state,
        Lifecycle::Failed
    );
    // Both can be deleted, leaving nothing behind.
    for name in ["gone", "branchless"] {
        f.workspaces.delete(name).await.unwrap();
    }
    let leftovers: Vec<_> = std::fs::read_dir(f.data.path().join("workspaces"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_before_anything_is_recorded() {
    let repo = repository();
    let f = Fixture::new();
    let url = file_url(repo.path());
    let folder = |p: &str| Repo::Folder { path: p.into() };
    let cases: Vec<(WorkspaceSpec, &str)> = vec![
        (spec("", url.clone(), None), "name"),
        (spec("Has Caps", url.clone(), None), "name"),
        (spec("-dash", url.clone(), None), "name"),
        (spec(&"x".repeat(41), url.clone(), None), "name"),
        (spec("a", folder("relative/path"), None), "absolute"),
        (spec("a", folder("/no/such/folder"), None), "no folder"),
        (
            spec(
                "a",
                Repo::Folder {
                    path: repo.path().to_owned(),
                },
                Some("main"),
            ),
            "branch",
        ),
        (
            spec(
                "a",
                Repo::Url {
                    url: "not a url".into(),
                },
                None,
            ),
            "not a repository URL",
        ),
        (
            spec(
                "a",
                Repo::Url {
                    url: "--upload-pack=touch /tmp/x".into(),
                },
                None,
            ),
            "not a repository URL",
        ),
        (
            spec(
                "a",
                Repo::Url {
                    url: "ftp://x/y".into(),
                },
                None,
            ),
            "not a repository URL",
        ),
        (spec("a", url.clone(), Some("-x")), "branch"),
        (spec("a", url.clone(), Some("a b")), "branch"),
        (spec("a", url.clone(), Some("a\nb")), "branch"),
    ];
    for (case, expected) in cases {
        let error = f.workspaces.create(case.clone(), None).await.unwrap_err();
        assert!(
            matches!(error, WorkspaceError::InvalidInput(_)),
            "{case:?}: {error:?}"
        );
        assert!(error.to_string().contains(expected), "{case:?}: {error}");
    }
    assert!(f.workspaces.list().unwrap().is_empty(), "nothing recorded");

    f.workspaces
        .create(spec("taken", url.clone(), None), None)
        .await
        .unwrap();
    let error = f
        .workspaces
        .create(spec("taken", url.clone(), None), None)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("already exists"), "{error}");
    assert!(matches!(
        f.workspaces.get("nope"),
        Err(WorkspaceError::NotFound(_))
    ));
    f.workspaces.delete("taken").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_requests_keep_one_connection_and_get_a_new_one_when_the_daemon_died() {
    let f = Fixture::new();
    let repo = repository();
    f.workspaces
        .create(spec("files", file_url(repo.path()), None), None)
        .await
        .unwrap();
    let exists = |answers: Vec<sam_protocol::ResolvedPath>| {
        matches!(
            answers[0].resolution,
            sam_protocol::PathResolution::Found(_)
        )
    };
    assert!(exists(
        f.workspaces
            .resolve_paths("files", vec!["README.md".into()])
            .await
            .unwrap()
    ));
    let pid = host_pid(&f.workspaces, "files").await;
    // The daemon dies (a crash, a reboot): the kept connection is gone with it.
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(i32::try_from(pid).unwrap()).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        assert!(Instant::now() < deadline, "the daemon did not die");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The next request notices, reconnects (starting the daemon again) and answers.
    assert!(exists(
        f.workspaces
            .resolve_paths("files", vec!["README.md".into()])
            .await
            .unwrap()
    ));
    assert_ne!(host_pid(&f.workspaces, "files").await, pid);
    let found = f.workspaces.find_files("files", "read", 10).await.unwrap();
    assert_eq!(found.matches[0].path, "README.md");
    f.workspaces.delete("files").await.unwrap();
}

/// A directory of fake programs that record their argv (one per line) and working directory,
/// as the user's terminal and VS Code would be started.
fn fake_programs(dir: &Path, names: &[&str]) -> sam_editor::Environment {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in names {
        let record = dir.join(name);
        let script = format!(
            "#!/bin/sh\npwd > '{0}.cwd'\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{0}.tmp'\n/bin/mv '{0}.tmp' '{0}'\n",
            record.display()
        );
        let path = bin.join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    sam_editor::Environment::with_search_path(vec![bin])
}

/// What a fake program recorded: its arguments and working directory.
fn recorded(dir: &Path, name: &str) -> (Vec<String>, PathBuf) {
    let record = dir.join(name);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !record.exists() {
        assert!(Instant::now() < deadline, "{name} was not started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let args = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let cwd = std::fs::read_to_string(dir.join(format!("{name}.cwd"))).unwrap();
    std::fs::remove_file(&record).unwrap();
    (args, PathBuf::from(cwd.trim_end()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_terminal_and_vscode_start_in_a_local_workspaces_checkout() {
    use sam_workspace::WorkspaceLaunch;
    let repo = repository();
    let f = Fixture::new();
    let created = f
        .workspaces
        .create(spec("tools", file_url(repo.path()), None), None)
        .await
        .unwrap();
    assert_eq!(created.state, Lifecycle::Ready);
    let checkout = created.checkout_dir.clone().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let env = fake_programs(scratch.path(), &["x-terminal-emulator", "code"]);

    let launched = f
        .workspaces
        .open_terminal("tools", env.clone())
        .await
        .unwrap();
    let (args, cwd) = recorded(scratch.path(), "x-terminal-emulator");
    assert!(args.is_empty(), "a plain shell, no program: {args:?}");
    assert_eq!(
        cwd.canonicalize().unwrap(),
        checkout.canonicalize().unwrap()
    );
    assert!(
        matches!(&launched, WorkspaceLaunch::Opened { message, .. } if message.contains("x-terminal-emulator")),
        "{launched:?}"
    );

    f.workspaces
        .open_in_vscode(&created.id, env.clone())
        .await
        .unwrap();
    let (args, _) = recorded(scratch.path(), "code");
    assert_eq!(args, [checkout.display().to_string()]);

    // Nothing installed: each says what to install, and nothing starts.
    let empty = sam_editor::Environment::with_search_path(vec![scratch.path().join("none")]);
    let error = f
        .workspaces
        .open_terminal("tools", empty.clone())
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with("No terminal emulator"),
        "{error}"
    );
    let error = f
        .workspaces
        .open_in_vscode("tools", empty)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("code"), "{error}");

    // A deleted workspace opens nothing.
    f.workspaces.delete("tools").await.unwrap();
    let error = f
        .workspaces
        .open_terminal("tools", env.clone())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("deleted"), "{error}");
    assert!(!scratch.path().join("x-terminal-emulator").exists());
}

/// Podman as the dev container tests of sam-host run it (they build the base image).
fn podman(conf: &Path) -> std::process::Command {
    let mut command = std::process::Command::new("podman");
    command
        .args(["--runtime", "runc"])
        .env("CONTAINERS_CONF", conf);
    command
}

/// Removes the named containers when dropped, also when the test fails.
struct RemoveContainers(PathBuf, Vec<String>);

impl Drop for RemoveContainers {
    fn drop(&mut self) {
        for id in &self.1 {
            let _ = podman(&self.0).args(["rm", "--force", id]).output();
        }
    }
}

/// The ids of the containers labelled as `devcontainer up` labels those of `folder`.
fn dev_containers_of(conf: &Path, folder: &Path) -> Vec<String> {
    let out = podman(conf)
        .args(["ps", "--all", "--quiet", "--no-trunc", "--filter"])
        .arg(format!(
            "label=devcontainer.local_folder={}",
            folder.display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_local_workspace_removes_its_dev_container_and_nothing_else() {
    use std::os::unix::fs::PermissionsExt as _;
    const IMAGE: &str = "localhost/sam-test-base:bookworm";
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cli = root.join("tools/devcontainer/node_modules/.bin/devcontainer");
    let conf =
        PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/sam-desktop/containers.conf");
    let image_there = conf.is_file()
        && podman(&conf)
            .args(["image", "exists", IMAGE])
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        cli.is_file() && image_there,
        "needs the Dev Containers CLI in tools/devcontainer and the {IMAGE} image: run \
         `scripts/setup.sh --test`, then `cargo nextest run -p sam-host devcontainer` once (it \
         builds the image)"
    );

    // The app's sam-host, started with the settings podman needs on this machine.
    let scratch = tempfile::tempdir().unwrap();
    let wrapper = scratch.path().join("sam-host");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexport SAM_DEVCONTAINER_CLI='{}' SAM_CONTAINER_ENGINE=podman \
             SAM_PODMAN_RUNTIME=runc CONTAINERS_CONF='{}'\nexec '{}' \"$@\"\n",
            cli.display(),
            conf.display(),
            host_binary().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();

    let repo = repository();
    std::fs::write(
        repo.path().join(".devcontainer.json"),
        format!(r#"{{"image": "{IMAGE}", "runArgs": ["--network=none"]}}"#),
    )
    .unwrap();
    let folder = repo.path().canonicalize().unwrap();
    // Another project's dev container from the same image stays.
    let other = folder.with_file_name(format!("other-{}", std::process::id()));
    let started = podman(&conf)
        .args(["run", "--detach", "--network=none", "--label"])
        .arg(format!("devcontainer.local_folder={}", other.display()))
        .args([IMAGE, "sleep", "600"])
        .output()
        .unwrap();
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let bystander = String::from_utf8_lossy(&started.stdout).trim().to_owned();
    let mut cleanup = RemoveContainers(conf.clone(), vec![bystander.clone()]);

    let data = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(&data.path().join("sam.sqlite3")).unwrap();
    let workspaces = Workspaces::new(Arc::new(store), data.path(), wrapper);
    let created = workspaces
        .create(
            spec(
                "boxed",
                Repo::Folder {
                    path: folder.clone(),
                },
                None,
            ),
            None,
        )
        .await
        .unwrap();
    assert_eq!(created.state, Lifecycle::Ready, "{created:?}");
    assert!(
        created.steps.iter().any(|s| s.step == "checkout"),
        "{created:?}"
    );
    let containers = dev_containers_of(&conf, &folder);
    assert_eq!(
        containers.len(),
        1,
        "devcontainer up made one: {containers:?}"
    );
    cleanup.1.extend(containers.clone());
    let ran = workspaces
        .run(
            "boxed",
            vec!["test".into(), "-e".into(), "/run/.containerenv".into()],
            true,
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(ran.status, 0, "the command ran inside the container");

    let deleted = workspaces.delete("boxed").await.unwrap();
    assert_eq!(deleted.state, Lifecycle::Deleted);
    assert!(
        dev_containers_of(&conf, &folder).is_empty(),
        "the workspace's container is gone"
    );
    let exists = podman(&conf)
        .args(["container", "exists", &bystander])
        .status()
        .unwrap();
    assert!(exists.success(), "the other project's container stays");
    assert!(folder.join("README.md").is_file(), "the folder stays");
}

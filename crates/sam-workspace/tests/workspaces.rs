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

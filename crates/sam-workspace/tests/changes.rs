//! Review and ship through `Workspaces`: a real local workspace (the real `sam-host` daemon,
//! real git), its changes and diffs, and shipping to a local bare repository standing in for
//! `origin`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use sam_protocol::ChangeStatus;
use sam_store::Store;
use sam_workspace::{
    Provider, Repo, ShipError, ShipOptions, WorkspaceError, WorkspaceSpec, Workspaces,
};

/// The `sam-host` that cargo built next to this test's directory (`target/<profile>/`).
fn host_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("SAM_HOST_BINARY") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("sam-host");
    assert!(
        path.is_file(),
        "{} is missing: build it first (`cargo build -p sam-host`)",
        path.display()
    );
    path
}

fn git_out(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_workspace_reviews_and_ships_to_its_origin() {
    let source = sam_testkit::git::repository(&[
        ("README.md", "hello\n"),
        ("src/old.rs", "fn main() {\n    println!(\"one\");\n    println!(\"two\");\n    println!(\"three\");\n}\n"),
        ("logo.png", "\u{0}PNG"),
    ])
    .unwrap();
    let origin = tempfile::tempdir().unwrap();
    let bare = origin.path().join("origin.git");
    let status = Command::new("git")
        .args(["clone", "--quiet", "--bare"])
        .arg(source.path())
        .arg(&bare)
        .status()
        .unwrap();
    assert!(status.success());

    let data = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(&data.path().join("sam.sqlite3")).unwrap();
    let workspaces = Workspaces::new(Arc::new(store), data.path(), host_binary());
    let spec = WorkspaceSpec {
        name: "api".into(),
        provider: Provider::Local,
        repo: Repo::Url {
            url: format!("file://{}", bare.display()),
        },
        branch: None,
        size: None,
        locations: Vec::new(),
    };
    let created = workspaces.create(spec, None).await.unwrap();
    let checkout = created.checkout_dir.unwrap();

    assert!(
        workspaces
            .changes("api", None)
            .await
            .unwrap()
            .files
            .is_empty()
    );
    let error = workspaces
        .ship(
            "api",
            ShipOptions {
                message: "Nothing".into(),
                branch: None,
                push: true,
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ShipError::NothingToCommit(_)), "{error:?}");
    assert_eq!(error.code(), "nothing_to_commit");

    std::fs::write(checkout.join("README.md"), "hello\nworld\n").unwrap();
    std::fs::create_dir_all(checkout.join("src/bin")).unwrap();
    std::fs::rename(checkout.join("src/old.rs"), checkout.join("src/bin/new.rs")).unwrap();
    std::fs::write(checkout.join("logo.png"), "\u{0}PNG2").unwrap();

    let changes = workspaces.changes("api", None).await.unwrap();
    assert_eq!(changes.total_files, 3, "{changes:?}");
    let renamed = changes
        .files
        .iter()
        .find(|f| f.path == "src/bin/new.rs")
        .unwrap();
    assert_eq!(renamed.status, ChangeStatus::Renamed);
    let diff = workspaces
        .file_diff("api", &renamed.path, renamed.old_path.as_deref(), None)
        .await
        .unwrap();
    assert_eq!(diff.status, ChangeStatus::Renamed);
    assert!(diff.diff.contains("rename to src/bin/new.rs"));
    assert!(
        changes
            .files
            .iter()
            .any(|f| f.path == "logo.png" && f.binary)
    );
    let escape = workspaces
        .file_diff("api", "../../sam.sqlite3", None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(escape, WorkspaceError::InvalidInput(_)),
        "{escape:?}"
    );

    let error = workspaces
        .ship(
            "api",
            ShipOptions {
                message: "Go".into(),
                branch: Some("main".into()),
                push: true,
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ShipError::ProtectedBranch(_)), "{error:?}");
    let error = workspaces
        .ship(
            "api",
            ShipOptions {
                message: "Go".into(),
                branch: Some("--delete".into()),
                push: true,
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_input", "{error:?}");

    let shipped = workspaces
        .ship(
            "api",
            ShipOptions {
                message: "Rename the entry point".into(),
                branch: None,
                push: true,
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(shipped.branch, "sam/rename-the-entry-point");
    assert!(shipped.pushed && shipped.committed, "{shipped:?}");
    assert_eq!(
        git_out(
            &bare,
            &["rev-parse", "refs/heads/sam/rename-the-entry-point"]
        ),
        shipped.commit
    );
    assert_eq!(
        git_out(&bare, &["rev-parse", "refs/heads/main"]),
        git_out(source.path(), &["rev-parse", "HEAD"])
    );

    workspaces.delete("api").await.unwrap();
}

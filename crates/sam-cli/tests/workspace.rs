//! `sam workspace …` with the real binary, the real `sam-host` daemon and real git.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

mod common;

use std::path::Path;

use common::{Cli, error_message};
use sam_testkit::FakeProviders;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_list_show_delete_a_local_workspace() {
    let fake = FakeProviders::start().await.unwrap();
    let cli = Cli::new(&fake);
    let repo = tempfile::tempdir().unwrap();
    let project = repo.path().join("my-project");
    std::fs::create_dir(&project).unwrap();
    sam_testkit::git::commit_into(&project, &[("main.rs", "fn main() {}\n")]).unwrap();

    let url = format!("file://{}", project.display());
    let (ok, created) = cli.json(&["workspace", "create", "--repo", &url, "--json"], b"");
    assert!(ok, "{created}");
    assert_eq!(
        created["spec"]["name"], "my-project",
        "named after the repository"
    );
    assert_eq!(created["state"], "ready");
    let checkout = created["checkoutDir"].as_str().unwrap();
    assert!(Path::new(checkout).join("main.rs").is_file());
    let steps: Vec<&str> = created["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["start_host", "checkout"]);

    let (ok, in_place) = cli.json(
        &[
            "workspace",
            "create",
            "--repo",
            project.to_str().unwrap(),
            "--name",
            "in-place",
            "--json",
        ],
        b"",
    );
    assert!(ok, "{in_place}");
    assert_eq!(in_place["spec"]["repo"]["kind"], "folder");

    let (ok, list) = cli.json(&["workspace", "list", "--json"], b"");
    assert!(ok, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 2);
    let out = cli.run(&["workspace", "show", "my-project"], b"");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("checkout") && text.contains(" ms"), "{text}");

    // A command in the workspace, through its host; the exit status comes back.
    let out = cli.run(
        &["workspace", "run", "my-project", "--", "cat", "main.rs"],
        b"",
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "fn main() {}\n");
    let out = cli.run(
        &["workspace", "run", "my-project", "--", "sh", "-c", "exit 4"],
        b"",
    );
    assert!(!out.status.success());

    for name in ["my-project", "in-place"] {
        let (ok, deleted) = cli.json(&["workspace", "delete", name, "--json"], b"");
        assert!(ok, "{deleted}");
        assert_eq!(deleted["state"], "deleted");
    }
    assert!(!Path::new(checkout).exists());
    assert!(
        project.join("main.rs").is_file(),
        "the folder used in place stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_failures_are_clear() {
    let fake = FakeProviders::start().await.unwrap();
    let cli = Cli::new(&fake);
    let (ok, out) = cli.json(
        &["workspace", "create", "--repo", "/no/such/folder", "--json"],
        b"",
    );
    assert!(!ok);
    assert_eq!(out["error"]["code"], "invalid_input");
    assert!(error_message(&out).contains("no folder"), "{out}");

    let missing = tempfile::tempdir().unwrap();
    let url = format!("file://{}/absent", missing.path().display());
    let (ok, out) = cli.json(
        &[
            "workspace",
            "create",
            "--repo",
            &url,
            "--name",
            "absent",
            "--json",
        ],
        b"",
    );
    assert!(!ok);
    assert!(
        error_message(&out).contains("Setting up the workspace failed"),
        "{out}"
    );
    let (ok, shown) = cli.json(&["workspace", "show", "absent", "--json"], b"");
    assert!(ok);
    assert_eq!(shown["state"], "failed");
    assert!(
        shown["failure"].as_str().unwrap().contains("clone"),
        "{shown}"
    );

    let (ok, out) = cli.json(&["workspace", "show", "nothing", "--json"], b"");
    assert!(!ok);
    assert_eq!(out["error"]["code"], "not_found");
    let (ok, _) = cli.json(&["workspace", "delete", "absent", "--json"], b"");
    assert!(ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_lists_then_deletes_this_installs_orphans() {
    use sam_testkit::{Provider, SeedServer};
    const TOKEN: &str = "cliReconcileToken0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJK";
    let fake = FakeProviders::start().await.unwrap();
    fake.accept(Provider::Hetzner, TOKEN);
    let cli = Cli::new(&fake);
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
    // The install id exists once the CLI has opened the database; read it back.
    let (ok, _) = cli.json(
        &["cloud", "servers", "--provider", "hetzner", "--json"],
        b"",
    );
    assert!(ok);
    let install: String = rusqlite::Connection::open(cli.data.path().join("sam.sqlite3"))
        .unwrap()
        .query_row(
            "SELECT value FROM settings WHERE key = 'install.id'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let labels = |install: &str| {
        [
            ("sam-install", install),
            ("sam-workspace", "0000000000000001"),
            ("sam-created-by", "sam-desktop"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    };
    for (name, owner) in [("orphan", install.as_str()), ("theirs", "ffffffffffffffff")] {
        fake.seed_server(
            Provider::Hetzner,
            SeedServer {
                name: name.into(),
                location: "fsn1".into(),
                server_type: "cx23".into(),
                labels: labels(owner),
                running: true,
            },
        );
    }
    let (ok, report) = cli.json(&["workspace", "reconcile", "--json"], b"");
    assert!(ok, "{report}");
    assert_eq!(report["orphans"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["orphans"][0]["name"], "orphan");
    assert_eq!(report["orphans"][0]["deleted"], false);
    assert_eq!(fake.cloud_servers(Provider::Hetzner).len(), 2);

    let (ok, report) = cli.json(&["workspace", "reconcile", "--delete", "--json"], b"");
    assert!(ok, "{report}");
    assert_eq!(report["orphans"][0]["deleted"], true);
    let left: Vec<String> = fake
        .cloud_servers(Provider::Hetzner)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(left, ["theirs"]);
}

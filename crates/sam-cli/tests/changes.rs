//! `sam changes` and `sam ship` with the real binary, the real `sam-host` daemon, real git, a
//! local bare repository standing in for GitHub's, and the fake GitHub REST API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Cli, error_message, leaks};
use sam_testkit::{FakeGitHub, FakeProviders};

const TOKEN: &str = "ghp_cliShipToken0123456789abcdefABCDEF";

fn git(dir: &Path, args: &[&str]) -> String {
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
async fn changes_are_listed_and_shipped_to_a_branch_with_a_pull_request() {
    let fake = FakeProviders::start().await.unwrap();
    let github = FakeGitHub::start().await.unwrap();
    let mut cli = Cli::new(&fake);
    cli.env
        .push(("SAM_GITHUB_API_URL".into(), github.api_url().to_string()));

    let source =
        sam_testkit::git::repository(&[("README.md", "hello\n"), ("old.txt", "old\n")]).unwrap();
    let remote = tempfile::tempdir().unwrap();
    let bare = remote.path().join("demo.git");
    assert!(
        Command::new("git")
            .args(["clone", "-q", "--bare"])
            .arg(source.path())
            .arg(&bare)
            .status()
            .unwrap()
            .success()
    );
    github.accept(TOKEN);
    github.add_repo("sam-test/demo", "main", Some(bare.clone()));
    let bare_url = format!("file://{}", bare.display());

    let (ok, created) = cli.json(
        &[
            "workspace",
            "create",
            "--repo",
            &bare_url,
            "--name",
            "demo",
            "--json",
        ],
        b"",
    );
    assert!(ok, "{created}");
    let checkout = Path::new(created["checkoutDir"].as_str().unwrap()).to_path_buf();
    // The checkout's origin is the GitHub repository; pushes land in the bare stand-in.
    git(
        &checkout,
        &[
            "remote",
            "set-url",
            "origin",
            "https://github.com/sam-test/demo.git",
        ],
    );
    git(
        &checkout,
        &[
            "config",
            &format!("url.{bare_url}.pushInsteadOf"),
            "https://github.com/sam-test/demo.git",
        ],
    );

    std::fs::write(checkout.join("README.md"), "hello\nworld\n").unwrap();
    std::fs::remove_file(checkout.join("old.txt")).unwrap();
    std::fs::write(checkout.join("new.txt"), "new\n").unwrap();

    let (ok, changes) = cli.json(&["changes", "demo", "--json"], b"");
    assert!(ok, "{changes}");
    assert_eq!(changes["total_files"], 3);
    assert_eq!(changes["insertions"], 2);
    let out = cli.run(&["changes", "demo"], b"");
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(
        table.contains("M  README.md")
            && table.contains("D  old.txt")
            && table.contains("A  new.txt"),
        "{table}"
    );
    assert!(
        table.contains("3 file(s) changed, 2 insertion(s)(+), 1 deletion(s)(-)"),
        "{table}"
    );

    // A pull request needs the GitHub credential; the default branch is never shipped to.
    let (ok, refused) = cli.json(&["ship", "demo", "-m", "Fix it", "--pr", "--json"], b"");
    assert!(!ok);
    assert!(
        error_message(&refused).contains("GitHub token"),
        "{refused}"
    );
    let (ok, refused) = cli.json(
        &["ship", "demo", "-m", "Fix it", "--branch", "main", "--json"],
        b"",
    );
    assert!(!ok);
    assert!(
        error_message(&refused).contains("default branch"),
        "{refused}"
    );
    let (ok, stored) = cli.json(
        &["credentials", "set", "github_token", "--no-check", "--json"],
        format!("{TOKEN}\n").as_bytes(),
    );
    assert!(ok, "{stored}");

    let (ok, shipped) = cli.json(
        &[
            "ship",
            "demo",
            "-m",
            "Fix it\n\nThe details.",
            "--pr",
            "--json",
        ],
        b"",
    );
    assert!(ok, "{shipped}");
    assert_eq!(shipped["branch"], "sam/fix-it");
    assert_eq!(shipped["pushed"], true);
    assert_eq!(shipped["committed"], true);
    assert_eq!(
        shipped["remote_url"],
        "https://github.com/sam-test/demo.git"
    );
    assert_eq!(shipped["pull_request"]["number"], 1);
    assert_eq!(shipped["pull_request"]["created"], true);
    assert_eq!(
        shipped["pull_request"]["html_url"],
        "https://github.com/sam-test/demo/pull/1"
    );
    assert_eq!(
        git(&bare, &["rev-parse", "refs/heads/sam/fix-it"]),
        shipped["commit"].as_str().unwrap()
    );
    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1);
    assert_eq!(
        (
            pulls[0].head.as_str(),
            pulls[0].base.as_str(),
            pulls[0].title.as_str()
        ),
        ("sam/fix-it", "main", "Fix it")
    );
    assert!(
        pulls[0].body.starts_with("The details."),
        "{}",
        pulls[0].body
    );

    // Shipping again finds the pull request that is already open (GitHub's 422).
    let (ok, again) = cli.json(&["ship", "demo", "-m", "Fix it", "--pr", "--json"], b"");
    assert!(ok, "{again}");
    assert_eq!(
        (
            again["committed"].as_bool(),
            again["pull_request"]["created"].as_bool()
        ),
        (Some(false), Some(false))
    );
    assert_eq!(again["pull_request"]["number"], 1);
    assert!(
        github
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.status == 422)
    );
    assert_eq!(github.pulls().len(), 1);

    let out = cli.run(&["ship", "demo", "-m", "Fix it"], b"");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Pushed sam/fix-it"));

    assert!(
        leaks(cli.data.path(), TOKEN).is_empty(),
        "the token was written to disk"
    );
    assert!(
        leaks(&checkout.join(".git"), TOKEN).is_empty(),
        "the token reached the checkout"
    );
    let (ok, _) = cli.json(&["workspace", "delete", "demo", "--json"], b"");
    assert!(ok);
}

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
    sam_testkit::git::output(dir, args).unwrap()
}

/// A workspace `demo` whose origin is `https://github.com/sam-test/demo.git` on the fake GitHub,
/// with pushes landing in a local bare repository. Returns the checkout and the bare one.
fn github_workspace(
    cli: &Cli,
    github: &FakeGitHub,
) -> (std::path::PathBuf, std::path::PathBuf, tempfile::TempDir) {
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
    (checkout, bare, remote)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_listed_and_shipped_to_a_branch_with_a_pull_request() {
    let fake = FakeProviders::start().await.unwrap();
    let github = FakeGitHub::start().await.unwrap();
    let mut cli = Cli::new(&fake);
    cli.env
        .push(("SAM_GITHUB_API_URL".into(), github.api_url().to_string()));
    let (checkout, bare, _remote) = github_workspace(&cli, &github);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ship_drafts_its_message_from_the_chat_and_the_chat_records_the_pull_request() {
    let fake = FakeProviders::start().await.unwrap();
    let github = FakeGitHub::start().await.unwrap();
    let mut cli = Cli::new(&fake);
    cli.env
        .push(("SAM_GITHUB_API_URL".into(), github.api_url().to_string()));
    let (checkout, bare, _remote) = github_workspace(&cli, &github);
    let (ok, stored) = cli.json(
        &["credentials", "set", "github_token", "--no-check", "--json"],
        format!("{TOKEN}\n").as_bytes(),
    );
    assert!(ok, "{stored}");

    // A conversation with the scripted agent; the edit it talks about is made here.
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../sam-testkit/support/scripted-acp-agent.mjs");
    let command = format!("node '{}'", script.display());
    let (ok, sent) = cli.json(
        &[
            "chat",
            "send",
            "demo",
            "echo Greeted the world in README.md",
            "--agent",
            "custom",
            "--agent-command",
            &command,
            "--wait",
            "--json",
        ],
        b"",
    );
    assert!(ok, "{sent}");
    let session = sent["session_id"].as_str().unwrap().to_owned();
    std::fs::write(checkout.join("README.md"), "hello\nworld\n").unwrap();

    // An empty message is refused; no message at all is drafted from the chat.
    let (ok, refused) = cli.json(&["ship", "demo", "-m", "  ", "--json"], b"");
    assert!(!ok);
    assert!(error_message(&refused).contains("empty"), "{refused}");
    let (ok, shipped) = cli.json(&["ship", "demo", "--pr", "--json"], b"");
    assert!(ok, "{shipped}");
    let branch = shipped["branch"].as_str().unwrap();
    assert_eq!(branch, "sam/echo-greeted-the-world-in-readme-md");
    let message = git(&bare, &["log", "-1", "--format=%B", branch]);
    assert_eq!(
        message,
        "Echo Greeted the world in README.md\n\n\
         Asked of the agent (custom):\n\
         - echo Greeted the world in README.md\n\n\
         The agent's last reply:\n\
         Greeted the world in README.md"
    );
    let pulls = github.pulls();
    assert_eq!(pulls[0].title, "Echo Greeted the world in README.md");
    assert!(
        pulls[0].body.contains("Asked of the agent (custom):"),
        "{}",
        pulls[0].body
    );

    // The chat's transcript says where the work went.
    let (ok, log) = cli.json(&["chat", "log", &session, "--json"], b"");
    assert!(ok, "{log}");
    let events = log.as_array().unwrap();
    let last = events.last().unwrap();
    assert_eq!(last["body"]["kind"], "shipped", "{log}");
    assert_eq!(last["body"]["branch"], branch);
    assert_eq!(last["body"]["pushed"], true);
    assert_eq!(last["body"]["pull_request"]["number"], 1);
    assert_eq!(last["body"]["pull_request"]["state"], "open");
    assert_eq!(
        last["body"]["pull_request"]["url"],
        "https://github.com/sam-test/demo/pull/1"
    );
    let out = cli.run(&["chat", "log", &session], b"");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("pushed, pull request #1 (open): https://github.com/sam-test/demo/pull/1"),
        "{text}"
    );
    let (ok, _) = cli.json(&["workspace", "delete", "demo", "--json"], b"");
    assert!(ok);
}

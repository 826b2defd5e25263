//! The pull-request client against the fake GitHub REST API, which checks requests as GitHub
//! does (auth, required fields, 422 for an existing pull request).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use sam_forge::{ForgeError, GitHub, GitHubRepo, NewPullRequest};
use sam_testkit::FakeGitHub;

const TOKEN: &str = "ghp_forge_test_token_1234";

fn repo() -> GitHubRepo {
    GitHubRepo::from_remote_url("https://github.com/sam-test/demo.git", &[]).unwrap()
}

fn pull(head: &str) -> NewPullRequest {
    NewPullRequest {
        title: "Fix the upload retry".into(),
        head: head.into(),
        base: None,
        body: "Shipped from SAM.".into(),
    }
}

#[tokio::test]
async fn a_pull_request_is_opened_once_and_found_again() {
    let fake = FakeGitHub::start().await.unwrap();
    fake.accept(TOKEN);
    fake.add_repo("sam-test/demo", "trunk", None);
    let github = GitHub::new(fake.api_url()).unwrap();

    let opened = github
        .open_pull_request(TOKEN, &repo(), &pull("sam/fix"))
        .await
        .unwrap();
    assert!(opened.created);
    assert_eq!(
        (opened.number, opened.head.as_str(), opened.base.as_str()),
        (1, "sam/fix", "trunk")
    );
    assert_eq!(opened.html_url, "https://github.com/sam-test/demo/pull/1");
    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 1);
    assert_eq!(
        (pulls[0].title.as_str(), pulls[0].body.as_str()),
        ("Fix the upload retry", "Shipped from SAM.")
    );

    // GitHub answers 422 "A pull request already exists"; the client finds that one.
    let again = github
        .open_pull_request(TOKEN, &repo(), &pull("sam/fix"))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.number, 1);
    assert_eq!(fake.pulls().len(), 1);
    let statuses: Vec<(String, u16)> = fake
        .requests()
        .iter()
        .map(|r| (format!("{} {}", r.method, r.path), r.status))
        .collect();
    assert!(
        statuses.contains(&("POST /repos/sam-test/demo/pulls".into(), 422)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("GET /repos/sam-test/demo/pulls".into(), 200)),
        "{statuses:?}"
    );
    let listed = fake
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "GET" && r.path.ends_with("/pulls"))
        .unwrap();
    assert_eq!(
        listed.query.as_deref(),
        Some("head=sam-test%3Asam%2Ffix&state=open")
    );
    // The token never travels in a URL.
    assert!(
        fake.requests()
            .iter()
            .all(|r| !r.query.clone().unwrap_or_default().contains(TOKEN))
    );
}

#[tokio::test]
async fn refusals_are_typed_and_never_echo_the_token() {
    let fake = FakeGitHub::start().await.unwrap();
    fake.accept(TOKEN);
    fake.accept_read_only("ghp_read_only");
    let bare_dir = tempfile::tempdir().unwrap();
    let source = sam_testkit::git::repository(&[("a.txt", "a\n")]).unwrap();
    let bare = bare_dir.path().join("demo.git");
    assert!(
        std::process::Command::new("git")
            .args(["clone", "-q", "--bare"])
            .arg(source.path())
            .arg(&bare)
            .status()
            .unwrap()
            .success()
    );
    fake.add_repo("sam-test/demo", "main", Some(bare.clone()));
    let github = GitHub::new(fake.api_url()).unwrap();

    let error = github
        .open_pull_request("ghp_wrong", &repo(), &pull("main2"))
        .await
        .unwrap_err();
    assert!(matches!(error, ForgeError::Unauthorized), "{error:?}");
    let error = github
        .open_pull_request("ghp_read_only", &repo(), &pull("x"))
        .await
        .unwrap_err();
    assert!(matches!(error, ForgeError::Forbidden(_)), "{error:?}");
    assert!(error.to_string().contains("Pull requests: Read and write"));
    let other = GitHubRepo::from_remote_url("git@github.com:sam-test/private.git", &[]).unwrap();
    let error = github
        .open_pull_request(TOKEN, &other, &pull("x"))
        .await
        .unwrap_err();
    assert!(matches!(error, ForgeError::NotFound(_)), "{error:?}");
    // A branch that was never pushed is not a head GitHub knows.
    let error = github
        .open_pull_request(TOKEN, &repo(), &pull("sam/unpushed"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ForgeError::Rejected(ref m) if m.contains("head is invalid")),
        "{error:?}"
    );
    // Required fields.
    let mut untitled = pull("main");
    untitled.title = "  ".into();
    let error = github
        .open_pull_request(TOKEN, &repo(), &untitled)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ForgeError::Rejected(ref m) if m.contains("title is missing field")),
        "{error:?}"
    );
    for error in [
        github
            .open_pull_request("ghp_wrong", &repo(), &pull("x"))
            .await
            .unwrap_err(),
        github
            .open_pull_request(TOKEN, &other, &pull("x"))
            .await
            .unwrap_err(),
    ] {
        assert!(!error.to_string().contains("ghp_"), "{error}");
        assert!(!format!("{error:?}").contains(TOKEN));
    }
    assert!(fake.pulls().is_empty());

    // Nothing listens: unreachable, in words.
    let closed = GitHub::new(url::Url::parse("http://127.0.0.1:9/").unwrap()).unwrap();
    let error = closed
        .open_pull_request(TOKEN, &repo(), &pull("x"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "unreachable");
}

#[tokio::test]
async fn a_pull_requests_state_is_read_from_its_page_url() {
    let fake = FakeGitHub::start().await.unwrap();
    fake.accept(TOKEN);
    fake.add_repo("sam-test/demo", "main", None);
    let github = GitHub::new(fake.api_url()).unwrap();
    let opened = github
        .open_pull_request(TOKEN, &repo(), &pull("sam/fix"))
        .await
        .unwrap();

    let (parsed, number) = GitHubRepo::from_pull_url(&opened.html_url, &[]).unwrap();
    assert_eq!((parsed.full_name().as_str(), number), ("sam-test/demo", 1));
    let state = github.pull_request_state(TOKEN, &parsed, number).await;
    assert_eq!(state.unwrap(), "open");
    fake.merge(1);
    let state = github.pull_request_state(TOKEN, &parsed, number).await;
    assert_eq!(state.unwrap(), "merged");

    // A number that is not there, and a token GitHub does not know.
    let missing = github.pull_request_state(TOKEN, &parsed, 99).await;
    assert!(
        matches!(missing, Err(ForgeError::NotFound(_))),
        "{missing:?}"
    );
    let refused = github
        .pull_request_state("ghp_unknown0000", &parsed, 1)
        .await;
    assert!(matches!(refused, Err(ForgeError::Unauthorized)));

    // Hostile page URLs are refused before any request.
    for url in [
        "http://github.com/sam-test/demo/pull/1",
        "https://evil.example/sam-test/demo/pull/1",
        "https://github.com/sam-test/demo/pull/0",
        "https://github.com/sam-test/demo/pull/-1",
        "https://github.com/sam-test/demo/pull/1/files",
        "https://github.com/sam-test/demo/issues/1",
        "https://github.com/../demo/pull/1",
        "https://github.com/sam-test/demo/pull/99999999999999999999999",
        "",
    ] {
        assert!(GitHubRepo::from_pull_url(url, &[]).is_err(), "{url}");
    }
}

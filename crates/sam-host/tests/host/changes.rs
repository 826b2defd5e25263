//! Review and ship against real git: Changes, FileDiff and Ship on real repositories, pushing
//! to a local bare repository that stands in for `origin`.

use std::path::Path;
use std::process::Command;

use sam_protocol::client::HostClient;
use sam_protocol::{
    AgentLaunch, ChangeStatus, Changes, ChangesVersion, ErrorCode, Event, EventBody, FileDiff,
    MAX_DIFF_BYTES, RequestBody, ResponseBody, Secret, SessionEvent, Shipped, StartSession,
    TurnChanges,
};
use tokio::sync::mpsc;

use crate::support::{
    Daemon, file_url, git, git_plan, local_plan, make_repo, ok, refused, subscribe,
};

fn git_out(dir: &Path, args: &[&str]) -> String {
    sam_testkit::git::output(dir, args).unwrap()
}

async fn changes(client: &HostClient, base: Option<&str>) -> Changes {
    match ok(
        client,
        RequestBody::Changes {
            base: base.map(str::to_owned),
        },
    )
    .await
    {
        ResponseBody::Changes(changes) => changes,
        other => panic!("expected changes, got {other:?}"),
    }
}

async fn file_diff(client: &HostClient, path: &str, old_path: Option<&str>) -> FileDiff {
    let body = RequestBody::FileDiff {
        path: path.to_owned(),
        old_path: old_path.map(str::to_owned),
        base: None,
        turn: None,
    };
    match ok(client, body).await {
        ResponseBody::FileDiff(diff) => diff,
        other => panic!("expected a diff, got {other:?}"),
    }
}

fn ship_request(
    message: &str,
    branch: Option<&str>,
    push: bool,
    token: Option<&str>,
) -> RequestBody {
    RequestBody::Ship {
        message: message.to_owned(),
        branch: branch.map(str::to_owned),
        push,
        token: token.map(Secret::new),
    }
}

async fn ship(client: &HostClient, body: RequestBody) -> Shipped {
    match ok(client, body).await {
        ResponseBody::Shipped(shipped) => shipped,
        other => panic!("expected shipped, got {other:?}"),
    }
}

#[tokio::test]
async fn changes_and_diffs_cover_edits_renames_deletions_binaries_and_large_files() {
    let work = tempfile::tempdir().unwrap();
    let root = make_repo(&work.path().join("repo"));
    std::fs::write(root.join("gone.txt"), "bye\n").unwrap();
    std::fs::write(root.join("logo.bin"), [0_u8, 1, 2, 0, 255, 254]).unwrap();
    std::fs::write(root.join(".gitignore"), "*.log\n").unwrap();
    let moved_text: String = (0..40)
        .map(|i| format!("line {i} of the moved file\n"))
        .collect();
    std::fs::write(root.join("sub/file.txt"), &moved_text).unwrap();
    git(&root, &["add", "."]);
    git(&root, &["commit", "--quiet", "-m", "more"]);
    let start = git_out(&root, &["rev-parse", "HEAD"]);

    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", &root))).await;

    let clean = changes(&client, None).await;
    assert_eq!(clean.base, start);
    assert!(clean.files.is_empty() && clean.total_files == 0 && !clean.truncated);

    // What an agent does: edit, move (no git mv), delete, change a binary, add files.
    std::fs::write(root.join("README.md"), "hello sam\nand more\n").unwrap();
    std::fs::rename(root.join("sub/file.txt"), root.join("sub/moved.txt")).unwrap();
    let mut moved = moved_text.replace("line 3 of", "LINE 3 of");
    moved.push_str("one more\n");
    std::fs::write(root.join("sub/moved.txt"), moved).unwrap();
    std::fs::remove_file(root.join("gone.txt")).unwrap();
    std::fs::write(root.join("logo.bin"), [0_u8, 9, 9, 0, 255]).unwrap();
    std::fs::write(root.join("new file.txt"), "a\nb\n").unwrap();
    std::fs::write(root.join("debug.log"), "ignored\n").unwrap();
    let large: String = (0..100_000)
        .map(|i| format!("generated line {i:06}\n"))
        .collect();
    assert!(large.len() > MAX_DIFF_BYTES);
    std::fs::write(root.join("large.txt"), &large).unwrap();

    let found = changes(&client, None).await;
    assert_eq!(found.base, start);
    let by_path = |path: &str| {
        found
            .files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{path} missing from {:?}", found.files))
    };
    let readme = by_path("README.md");
    assert_eq!(
        (readme.status, readme.insertions, readme.deletions),
        (ChangeStatus::Modified, 1, 0)
    );
    let renamed = by_path("sub/moved.txt");
    assert_eq!(renamed.status, ChangeStatus::Renamed);
    assert_eq!(renamed.old_path.as_deref(), Some("sub/file.txt"));
    assert_eq!((renamed.insertions, renamed.deletions), (2, 1));
    assert_eq!(by_path("gone.txt").status, ChangeStatus::Deleted);
    assert_eq!(by_path("gone.txt").deletions, 1);
    let logo = by_path("logo.bin");
    assert!(logo.binary && logo.status == ChangeStatus::Modified);
    let added = by_path("new file.txt");
    assert_eq!((added.status, added.insertions), (ChangeStatus::Added, 2));
    assert_eq!(by_path("large.txt").insertions, 100_000);
    assert!(
        found
            .files
            .iter()
            .all(|f| f.path != "debug.log" && f.path != "sub/file.txt")
    );
    assert_eq!(found.total_files, 6);
    assert_eq!(found.insertions, 1 + 2 + 2 + 100_000);
    assert_eq!(found.deletions, 1 + 1);
    // The user's own index is untouched: nothing was staged.
    assert_eq!(git_out(&root, &["diff", "--cached", "--name-only"]), "");

    let diff = file_diff(&client, "README.md", None).await;
    assert_eq!(diff.status, ChangeStatus::Modified);
    assert!(
        diff.diff
            .starts_with("diff --git a/README.md b/README.md\n"),
        "{}",
        diff.diff
    );
    assert!(diff.diff.contains("\n+and more\n"));
    assert_eq!(
        (diff.insertions, diff.deletions, diff.binary, diff.truncated),
        (1, 0, false, false)
    );

    let diff = file_diff(&client, "sub/moved.txt", Some("sub/file.txt")).await;
    assert_eq!(diff.status, ChangeStatus::Renamed);
    assert_eq!(diff.old_path.as_deref(), Some("sub/file.txt"));
    assert!(
        diff.diff
            .contains("rename from sub/file.txt\nrename to sub/moved.txt\n")
    );
    assert!(
        diff.diff
            .contains("-line 3 of the moved file\n+LINE 3 of the moved file\n")
    );
    // Without the old path the same file is new.
    assert_eq!(
        file_diff(&client, "sub/moved.txt", None).await.status,
        ChangeStatus::Added
    );

    let diff = file_diff(&client, "gone.txt", None).await;
    assert_eq!((diff.status, diff.deletions), (ChangeStatus::Deleted, 1));
    let diff = file_diff(&client, "logo.bin", None).await;
    assert!(
        diff.binary && diff.diff.contains("Binary files"),
        "{}",
        diff.diff
    );
    let diff = file_diff(&client, "./new file.txt", None).await;
    assert_eq!(
        (diff.path.as_str(), diff.status),
        ("new file.txt", ChangeStatus::Added)
    );

    let diff = file_diff(&client, "large.txt", None).await;
    assert!(diff.truncated);
    assert!(diff.diff.len() <= MAX_DIFF_BYTES && diff.diff.ends_with('\n'));
    assert_eq!(diff.insertions, 100_000, "counts cover the whole diff");

    // Unchanged and ignored files have no diff; hostile paths are refused.
    for path in ["sub/nothing.txt", "debug.log"] {
        let error = refused(
            &client,
            RequestBody::FileDiff {
                path: path.into(),
                old_path: None,
                base: None,
                turn: None,
            },
        )
        .await;
        assert_eq!(error.code, ErrorCode::NotFound, "{path}: {error:?}");
    }
    let secret = work.path().join("secret.txt");
    std::fs::write(&secret, "TOP SECRET\n").unwrap();
    for path in [
        "../secret.txt",
        "/etc/passwd",
        secret.to_str().unwrap(),
        ".git/config",
        "sub/../../secret.txt",
        "~/.bashrc",
        "",
        "a\0b",
        ":(glob)*",
    ] {
        let body = RequestBody::FileDiff {
            path: path.into(),
            old_path: None,
            base: None,
            turn: None,
        };
        let error = within_refusal(&client, body).await;
        assert!(
            matches!(error.code, ErrorCode::InvalidRequest | ErrorCode::NotFound),
            "{path:?}: {error:?}"
        );
        assert!(!error.message.contains("TOP SECRET"));
    }
    let error = refused(
        &client,
        RequestBody::FileDiff {
            path: "README.md".into(),
            old_path: Some("../secret.txt".into()),
            base: None,
            turn: None,
        },
    )
    .await;
    assert_eq!(error.code, ErrorCode::InvalidRequest);

    // Bases: hostile ones refused, an explicit one honoured.
    for base in [
        "--output=/tmp/sam-pwned",
        "nope-not-a-ref",
        "HEAD; rm -rf /",
        "",
    ] {
        let error = refused(
            &client,
            RequestBody::Changes {
                base: Some(base.into()),
            },
        )
        .await;
        assert_eq!(error.code, ErrorCode::InvalidRequest, "{base:?}: {error:?}");
    }
    assert!(!Path::new("/tmp/sam-pwned").exists());
    // The agent commits its work: the default base is still where the checkout started.
    git(&root, &["add", "."]);
    git(&root, &["commit", "--quiet", "-m", "agent"]);
    assert_eq!(changes(&client, None).await.total_files, 6);
    assert_eq!(changes(&client, Some("HEAD")).await.total_files, 0);
    let head = changes(&client, Some("HEAD~1")).await;
    assert_eq!(head.base, start);
    assert_eq!(head.total_files, 6);
}

/// Runs a request that must fail; returns the error.
async fn within_refusal(client: &HostClient, body: RequestBody) -> sam_protocol::ProtocolError {
    refused(client, body).await
}

#[tokio::test]
async fn a_folder_without_git_has_no_changes_to_review() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("a.txt"), "a\n").unwrap();
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", work.path()))).await;
    let error = refused(&client, RequestBody::Changes { base: None }).await;
    assert_eq!(error.code, ErrorCode::NotFound, "{error:?}");
    let error = refused(&client, ship_request("x", None, false, None)).await;
    assert_eq!(error.code, ErrorCode::NotFound, "{error:?}");
}

#[tokio::test]
async fn ship_commits_on_a_sam_branch_pushes_it_and_never_touches_the_default_branch() {
    let work = tempfile::tempdir().unwrap();
    let source = make_repo(&work.path().join("source"));
    let bare = work.path().join("origin.git");
    let status = Command::new("git")
        .args(["clone", "--quiet", "--bare"])
        .arg(&source)
        .arg(&bare)
        .status()
        .unwrap();
    assert!(status.success());
    let main_before = git_out(&bare, &["rev-parse", "refs/heads/main"]);

    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let checkout = work.path().join("checkout");
    ok(
        &client,
        RequestBody::Setup(git_plan("ws", &file_url(&bare), None, &checkout)),
    )
    .await;

    // Nothing to ship yet.
    let error = refused(&client, ship_request("Nothing", None, true, None)).await;
    assert_eq!(error.code, ErrorCode::NothingToCommit, "{error:?}");

    std::fs::write(checkout.join("README.md"), "hello sam\nfixed\n").unwrap();
    std::fs::write(checkout.join("added.txt"), "new\n").unwrap();

    // The default branch is refused, whatever the spelling of the request.
    let error = refused(&client, ship_request("Fix", Some("main"), true, None)).await;
    assert_eq!(error.code, ErrorCode::ProtectedBranch, "{error:?}");
    assert!(error.message.contains("main"));
    // Names that are no branch names, or options in disguise.
    for branch in [
        "-f",
        "--force",
        "a..b",
        "has space",
        "x@{-1}",
        "refs/heads/x",
        "HEAD",
        "ends.lock",
        "",
        "a~1",
    ] {
        let error = refused(&client, ship_request("Fix", Some(branch), true, None)).await;
        assert_eq!(
            error.code,
            ErrorCode::InvalidRequest,
            "{branch:?}: {error:?}"
        );
    }
    let error = refused(&client, ship_request("   ", None, true, None)).await;
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    // Nothing was committed or staged by the refusals.
    assert_eq!(
        git_out(&checkout, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "main"
    );
    assert_eq!(git_out(&checkout, &["rev-parse", "HEAD"]), main_before);

    let shipped = ship(
        &client,
        ship_request("Fix the upload retry\n\nDetails.", None, true, None),
    )
    .await;
    assert_eq!(shipped.branch, "sam/fix-the-upload-retry");
    assert!(shipped.committed && shipped.pushed, "{shipped:?}");
    assert_eq!(shipped.push_error, None);
    assert_eq!(
        shipped.remote_url.as_deref(),
        Some(file_url(&bare).as_str())
    );
    assert_eq!(
        git_out(&bare, &["rev-parse", "refs/heads/sam/fix-the-upload-retry"]),
        shipped.commit
    );
    assert_eq!(
        git_out(&bare, &["rev-parse", "refs/heads/main"]),
        main_before,
        "main untouched"
    );
    assert_eq!(
        git_out(&checkout, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "sam/fix-the-upload-retry"
    );
    assert_eq!(
        git_out(&checkout, &["log", "-1", "--format=%s%n%b"]),
        "Fix the upload retry\nDetails."
    );
    assert_eq!(git_out(&checkout, &["rev-parse", "HEAD~1"]), main_before);
    assert_eq!(
        git_out(&checkout, &["status", "--porcelain"]),
        "",
        "everything committed"
    );
    assert_eq!(
        git_out(&bare, &["show", "sam/fix-the-upload-retry:added.txt"]),
        "new"
    );

    // Shipping again with nothing new pushes the same commit (already there); more work
    // goes on the same sam/ branch.
    let again = ship(&client, ship_request("Whatever", None, true, None)).await;
    assert_eq!(
        (
            again.branch.as_str(),
            again.commit.as_str(),
            again.committed,
            again.pushed
        ),
        (
            "sam/fix-the-upload-retry",
            shipped.commit.as_str(),
            false,
            true
        )
    );
    std::fs::write(checkout.join("added.txt"), "newer\n").unwrap();
    let more = ship(&client, ship_request("More", None, true, None)).await;
    assert_eq!(more.branch, "sam/fix-the-upload-retry");
    assert!(more.committed && more.pushed);
    assert_eq!(
        git_out(&bare, &["rev-parse", "refs/heads/sam/fix-the-upload-retry"]),
        more.commit
    );

    // A named branch that exists elsewhere is refused; a new one is made.
    std::fs::write(checkout.join("third.txt"), "3\n").unwrap();
    let error = refused(&client, ship_request("Third", Some("main"), false, None)).await;
    assert_eq!(error.code, ErrorCode::ProtectedBranch);
    let third = ship(
        &client,
        ship_request("Third", Some("feature/third"), false, None),
    )
    .await;
    assert_eq!(
        (third.branch.as_str(), third.pushed),
        ("feature/third", false)
    );
    assert!(
        git_out(&bare, &["branch", "--list", "feature/third"]).is_empty(),
        "not pushed"
    );

    // A token never shows, and credentials are stripped from the remote URL.
    std::fs::write(checkout.join("fourth.txt"), "4\n").unwrap();
    git(
        &checkout,
        &[
            "remote",
            "set-url",
            "origin",
            "https://x-access-token:ghp_leak_me@127.0.0.1:9/o/r.git",
        ],
    );
    let failed = ship(
        &client,
        ship_request("Fourth", Some("sam/fourth"), true, Some("ghp_leak_me")),
    )
    .await;
    assert!(failed.committed && !failed.pushed);
    assert_eq!(
        failed.remote_url.as_deref(),
        Some("https://127.0.0.1:9/o/r.git")
    );
    let reason = failed.push_error.unwrap();
    assert!(reason.contains("git push failed"), "{reason}");
    assert!(!reason.contains("ghp_leak_me"), "{reason}");
    assert!(
        sam_testkit::files_containing(state.path(), b"ghp_leak_me")
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn without_origin_head_main_and_master_are_both_protected() {
    let work = tempfile::tempdir().unwrap();
    let root = make_repo(&work.path().join("repo"));
    git(&root, &["checkout", "--quiet", "-b", "master"]);
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", &root))).await;
    std::fs::write(root.join("x.txt"), "x\n").unwrap();
    for branch in ["main", "master"] {
        let error = refused(&client, ship_request("X", Some(branch), false, None)).await;
        assert_eq!(error.code, ErrorCode::ProtectedBranch, "{branch}");
    }
    // No origin: committing works, pushing says why it did not.
    let shipped = ship(&client, ship_request("X", None, true, None)).await;
    assert_eq!(shipped.branch, "sam/x");
    assert!(shipped.committed && !shipped.pushed && shipped.remote_url.is_none());
    assert!(shipped.push_error.unwrap().contains("no origin"));
    // A second sam/x is numbered.
    git(&root, &["checkout", "--quiet", "master"]);
    std::fs::write(root.join("y.txt"), "y\n").unwrap();
    assert_eq!(
        ship(&client, ship_request("X", None, false, None))
            .await
            .branch,
        "sam/x-2"
    );
}

/// The scripted ACP agent (test support in sam-testkit), which writes files when allowed.
fn scripted_agent() -> AgentLaunch {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../sam-testkit/support/scripted-acp-agent.mjs");
    AgentLaunch {
        agent: "custom".into(),
        argv: vec!["node".into(), script.display().to_string()],
        install: None,
        env: Vec::new(),
        in_container: false,
        mode: None,
    }
}

/// The next event of `session` that `pick` maps to something.
async fn next_of<T>(
    events: &mut mpsc::Receiver<Event>,
    session: &str,
    pick: impl Fn(&SessionEvent) -> Option<T>,
) -> T {
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(30), events.recv())
            .await
            .expect("timed out waiting for a session event")
            .expect("the event stream ended");
        if let EventBody::Session { session: s, event } = &event.event
            && s == session
            && let Some(found) = pick(event)
        {
            return found;
        }
    }
}

/// Sends `write <file> <text>` as a prompt, waits for the permission request and returns it
/// unanswered with the prompt number.
async fn start_write(
    client: &HostClient,
    events: &mut mpsc::Receiver<Event>,
    file: &str,
    text: &str,
) -> (u32, u32) {
    let body = RequestBody::Prompt {
        session: "s1".into(),
        text: format!("write {file} {text}"),
    };
    let ResponseBody::PromptAccepted { prompt } = ok(client, body).await else {
        panic!("the prompt was not accepted");
    };
    let request = next_of(events, "s1", |e| match e {
        SessionEvent::PermissionRequested { request, .. } => Some(*request),
        _ => None,
    })
    .await;
    (prompt, request)
}

/// Allows the write of a started turn and waits for the turn to end.
async fn finish_write(
    client: &HostClient,
    events: &mut mpsc::Receiver<Event>,
    prompt: u32,
    request: u32,
) {
    let body = RequestBody::AnswerPermission {
        session: "s1".into(),
        request,
        option_id: "allow".into(),
        by: "test".into(),
    };
    ok(client, body).await;
    let ended = next_of(events, "s1", |e| match e {
        SessionEvent::TurnEnded { prompt, .. } => Some(*prompt),
        _ => None,
    })
    .await;
    assert_eq!(ended, prompt);
}

async fn turn_changes(client: &HostClient, prompt: u32) -> TurnChanges {
    let body = RequestBody::TurnChanges {
        session: "s1".into(),
        prompt,
    };
    match ok(client, body).await {
        ResponseBody::TurnChanges(changes) => changes,
        other => panic!("expected turn changes, got {other:?}"),
    }
}

fn revert(prompt: u32) -> RequestBody {
    RequestBody::RevertTurn {
        session: "s1".into(),
        prompt,
    }
}

fn paths(changes: &TurnChanges) -> Vec<(&str, ChangeStatus)> {
    changes
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.status))
        .collect()
}

#[tokio::test]
async fn each_turn_knows_its_files_and_reverts_them_unless_they_changed_since() {
    let work = tempfile::tempdir().unwrap();
    let root = make_repo(&work.path().join("repo"));
    // Not committed: the snapshots see the working tree, not HEAD.
    std::fs::write(root.join("two.txt"), "two before\n").unwrap();
    let head = git_out(&root, &["rev-parse", "HEAD"]);
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", &root))).await;
    let (_, mut events) = subscribe(&client, None).await;
    let start = RequestBody::StartSession(StartSession {
        session: "s1".into(),
        agent: scripted_agent(),
        context: None,
        first_prompt: None,
    });
    ok(&client, start).await;

    // Turn 1 creates one.txt; while it waits for permission it is still running.
    let (first, request) = start_write(&client, &mut events, "one.txt", "turn one").await;
    for body in [
        RequestBody::TurnChanges {
            session: "s1".into(),
            prompt: first,
        },
        revert(first),
    ] {
        let busy = refused(&client, body).await;
        assert_eq!(busy.code, ErrorCode::Busy, "{busy:?}");
    }
    finish_write(&client, &mut events, first, request).await;
    // Turn 2 changes two.txt, turn 3 creates three.txt.
    let (second, request) = start_write(&client, &mut events, "two.txt", "turn two").await;
    finish_write(&client, &mut events, second, request).await;
    let (third, request) = start_write(&client, &mut events, "three.txt", "turn three").await;
    finish_write(&client, &mut events, third, request).await;

    let one = turn_changes(&client, first).await;
    assert_eq!(paths(&one), [("one.txt", ChangeStatus::Added)]);
    assert_eq!((one.total_files, one.insertions, one.deletions), (1, 1, 0));
    let two = turn_changes(&client, second).await;
    assert_eq!(paths(&two), [("two.txt", ChangeStatus::Modified)]);
    assert_eq!((two.insertions, two.deletions), (1, 1));
    assert_eq!(one.end_tree, two.start_tree);
    let three = turn_changes(&client, third).await;
    assert_eq!(paths(&three), [("three.txt", ChangeStatus::Added)]);

    // One file's diff in one turn: only what that turn did to it.
    let turn_diff = |path: &str, prompt: u32| RequestBody::FileDiff {
        path: path.to_owned(),
        old_path: None,
        base: None,
        turn: Some(sam_protocol::TurnRef {
            session: "s1".into(),
            prompt,
        }),
    };
    match ok(&client, turn_diff("two.txt", second)).await {
        ResponseBody::FileDiff(diff) => {
            assert!(
                diff.diff.contains("-two before\n+turn two\n"),
                "{}",
                diff.diff
            );
            assert_eq!((diff.insertions, diff.deletions), (1, 1));
            assert_eq!(diff.base, two.start_tree);
        }
        other => panic!("expected a diff, got {other:?}"),
    }
    // A file the turn did not touch, a path out of the checkout, an unknown turn.
    let untouched = refused(&client, turn_diff("one.txt", second)).await;
    assert_eq!(untouched.code, ErrorCode::NotFound, "{untouched:?}");
    assert!(untouched.message.contains("did not change in this turn"));
    let escape = refused(&client, turn_diff("../outside.txt", second)).await;
    assert_eq!(escape.code, ErrorCode::InvalidRequest, "{escape:?}");
    let unknown = refused(&client, turn_diff("two.txt", 99)).await;
    assert_eq!(unknown.code, ErrorCode::NotFound, "{unknown:?}");

    // Hostile: unknown session, unknown turn.
    for body in [
        RequestBody::TurnChanges {
            session: "nope".into(),
            prompt: first,
        },
        RequestBody::TurnChanges {
            session: "s1".into(),
            prompt: 99,
        },
        RequestBody::RevertTurn {
            session: "nope".into(),
            prompt: 1,
        },
    ] {
        let missing = refused(&client, body).await;
        assert_eq!(missing.code, ErrorCode::NotFound, "{missing:?}");
    }

    // Revert turn 3 (a created file goes) and turn 2 (back to its start); turn 1 stays.
    match ok(&client, revert(third)).await {
        ResponseBody::TurnReverted(reverted) => assert_eq!(reverted.restored, ["three.txt"]),
        other => panic!("expected turn_reverted, got {other:?}"),
    }
    assert!(!root.join("three.txt").exists());
    match ok(&client, revert(second)).await {
        ResponseBody::TurnReverted(reverted) => assert_eq!(reverted.restored, ["two.txt"]),
        other => panic!("expected turn_reverted, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(root.join("two.txt")).unwrap(),
        "two before\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("one.txt")).unwrap(),
        "turn one\n"
    );

    // Edited after turn 1 ended: its revert is refused and nothing changes.
    std::fs::write(root.join("one.txt"), "edited by hand\n").unwrap();
    let conflict = refused(&client, revert(first)).await;
    assert_eq!(conflict.code, ErrorCode::ChangedSince, "{conflict:?}");
    assert!(conflict.message.contains("one.txt"), "{}", conflict.message);
    assert_eq!(
        std::fs::read_to_string(root.join("one.txt")).unwrap(),
        "edited by hand\n"
    );

    // The user's HEAD and index were never touched.
    assert_eq!(git_out(&root, &["rev-parse", "HEAD"]), head);
    assert_eq!(git_out(&root, &["diff", "--cached", "--name-only"]), "");
    assert_eq!(git_out(&root, &["stash", "list"]), "");
}

async fn wait_changes(client: &HostClient, after: u64, timeout_ms: u64) -> ChangesVersion {
    match ok(client, RequestBody::WaitChanges { after, timeout_ms }).await {
        ResponseBody::ChangesVersion(version) => version,
        other => panic!("expected a changes version, got {other:?}"),
    }
}

#[tokio::test]
async fn a_waiting_client_wakes_on_working_tree_writes_but_not_on_git_or_ignored_ones() {
    let work = tempfile::tempdir().unwrap();
    let root = make_repo(&work.path().join("repo"));
    std::fs::write(root.join(".gitignore"), "target/\n").unwrap();
    std::fs::create_dir_all(root.join("target")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    ok(&client, RequestBody::Setup(local_plan("ws", &root))).await;

    // A client that has seen nothing yet is answered at once.
    let first = wait_changes(&client, 0, 10_000).await;
    assert!(first.live, "the checkout should be watched");
    assert!(first.version >= 1);

    // Nothing happens: the wait runs to its timeout and says the same counter.
    let started = std::time::Instant::now();
    let idle = wait_changes(&client, first.version, 400).await;
    assert_eq!(idle.version, first.version);
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));

    // Git's own writes and ignored build output do not wake it.
    let (version, noise) = (first.version, root.clone());
    let waiting = tokio::spawn({
        let client = daemon.client().await;
        async move { wait_changes(&client, version, 1_500).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    git(
        &noise,
        &["commit", "--quiet", "--allow-empty", "-m", "noise"],
    );
    std::fs::write(noise.join("target/out.bin"), b"build output").unwrap();
    assert_eq!(waiting.await.unwrap().version, first.version);

    // An edit in the working tree does, well before the timeout.
    let waiting = tokio::spawn({
        let client = daemon.client().await;
        async move { wait_changes(&client, version, 20_000).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let wrote = std::time::Instant::now();
    std::fs::write(root.join("README.md"), "edited by the agent\n").unwrap();
    let woke = waiting.await.unwrap();
    assert!(woke.version > first.version);
    assert!(
        wrote.elapsed() < std::time::Duration::from_secs(5),
        "woke after {:?}",
        wrote.elapsed()
    );
    // The counter is what the client passes next time; a stale one is answered at once.
    let again = wait_changes(&client, first.version, 20_000).await;
    assert!(again.version >= woke.version);
    // And the change is there to be read.
    let found = changes(&client, None).await;
    assert!(
        found.files.iter().any(|f| f.path == "README.md"),
        "{found:?}"
    );
}

//! ResolvePaths and FindFiles: the paths agents mention, and "go to file", over the real
//! transport.
//!
//! Decisions pinned here:
//! - ResolvePaths checks the disk, not the index: a file created a moment ago is found, a
//!   deleted one is not, and a `.gitignore`d file that exists is found (agents talk about
//!   build outputs). FindFiles lists only what `.gitignore` keeps.
//! - Nothing inside `.git` is resolved (refused with a reason) or listed: no editor link into
//!   git's own data, whose `config` may hold credentials.
//! - Percent-encoding is never decoded: `%2e%2e/x` is a (missing) folder named `%2e%2e`.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sam_protocol::client::HostClient;
use sam_protocol::{
    ErrorCode, FoundFiles, FoundPath, MAX_FIND_FILES, MAX_RESOLVE_PATHS, PathKind, PathResolution,
    RequestBody, ResolvedPath, ResponseBody,
};

use crate::support::{DEADLINE, Daemon, local_plan, make_repo, ok, refused, wait_status, within};

/// The staleness window the daemons here run with.
const STALE_MS: u64 = 300;

struct Workspace {
    _work: tempfile::TempDir,
    _state: tempfile::TempDir,
    _daemon: Daemon,
    client: Arc<HostClient>,
    /// The canonical checkout root, as the host reports it.
    root: String,
    /// A file outside the checkout.
    secret: String,
}

/// A checkout with source files, ignored build output, dot-folders and symlinks of every
/// kind, served by a ready daemon with a short staleness window.
async fn workspace() -> Workspace {
    let work = tempfile::tempdir().unwrap();
    let root = make_repo(&work.path().join("repo"));
    let secret = work.path().join("secret.txt");
    std::fs::write(&secret, "TOP SECRET\n").unwrap();
    for file in [
        "src/api/upload.rs",
        "src/api/download.rs",
        "src/util/parse/load.rs",
        ".github/workflows/ci.yml",
        "build/out.txt",
        "debug.log",
        "node_modules/left-pad/index.js",
    ] {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "x\n").unwrap();
    }
    std::fs::write(root.join(".gitignore"), "build/\n*.log\nnode_modules/\n").unwrap();
    symlink("/etc", root.join("link_to_etc")).unwrap();
    symlink(&secret, root.join("link_out")).unwrap();
    symlink("loop_b", root.join("loop_a")).unwrap();
    symlink("loop_a", root.join("loop_b")).unwrap();
    symlink("README.md", root.join("link_in")).unwrap();
    symlink(".git/config", root.join("link_git")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(root.join("pipe"))
        .status()
        .unwrap();
    assert!(fifo.success());

    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(state.path(), |command| {
        command.env(sam_host::FILE_INDEX_STALE_ENV, STALE_MS.to_string());
    });
    let client = Arc::new(daemon.client().await);
    let ResponseBody::SetupReady { checkout_dir } =
        ok(&client, RequestBody::Setup(local_plan("ws", &root))).await
    else {
        panic!("expected ready");
    };
    Workspace {
        _work: work,
        _state: state,
        _daemon: daemon,
        client,
        root: checkout_dir,
        secret: secret.display().to_string(),
    }
}

async fn resolve(client: &HostClient, paths: &[String]) -> Vec<ResolvedPath> {
    match ok(
        client,
        RequestBody::ResolvePaths {
            paths: paths.to_vec(),
        },
    )
    .await
    {
        ResponseBody::ResolvedPaths { paths: resolved } => {
            assert_eq!(resolved.len(), paths.len(), "one answer per candidate");
            resolved
        }
        other => panic!("expected resolved paths, got {other:?}"),
    }
}

async fn resolve_one(client: &HostClient, path: &str) -> PathResolution {
    let mut resolved = resolve(client, &[path.to_owned()]).await;
    let entry = resolved.pop().unwrap();
    assert_eq!(entry.requested, path);
    entry.resolution
}

fn found(resolution: PathResolution) -> FoundPath {
    match resolution {
        PathResolution::Found(found) => found,
        other => panic!("expected found, got {other:?}"),
    }
}

async fn find(client: &HostClient, query: &str, limit: u32) -> FoundFiles {
    match ok(
        client,
        RequestBody::FindFiles {
            query: query.to_owned(),
            limit,
        },
    )
    .await
    {
        ResponseBody::FoundFiles(found) => found,
        other => panic!("expected found files, got {other:?}"),
    }
}

fn paths(found: &FoundFiles) -> Vec<&str> {
    found.matches.iter().map(|m| m.path.as_str()).collect()
}

#[tokio::test]
async fn resolve_paths_checks_the_disk_now() {
    let ws = workspace().await;
    let client = &ws.client;
    let root = Path::new(&ws.root);

    let readme = found(resolve_one(client, "README.md").await);
    assert_eq!(readme.relative, "README.md");
    assert_eq!(readme.absolute, format!("{}/README.md", ws.root));
    assert_eq!(readme.kind, PathKind::File);

    let sub = found(resolve_one(client, "sub").await);
    assert_eq!(
        (sub.relative.as_str(), sub.kind),
        ("sub", PathKind::Directory)
    );
    assert_eq!(sub.absolute, format!("{}/sub", ws.root));

    // Normalised, and absolute paths inside the root are fine.
    let normalised = found(resolve_one(client, "./sub/../src//api/upload.rs").await);
    assert_eq!(normalised.relative, "src/api/upload.rs");
    let absolute = found(resolve_one(client, &format!("{}/sub/file.txt", ws.root)).await);
    assert_eq!(absolute.relative, "sub/file.txt");
    assert_eq!(absolute.absolute, format!("{}/sub/file.txt", ws.root));

    // A symlink inside the workspace keeps its name; the editor gets the real file.
    let link = found(resolve_one(client, "link_in").await);
    assert_eq!(link.relative, "link_in");
    assert_eq!(link.absolute, format!("{}/README.md", ws.root));

    // Ignored files exist on disk, so they are found; dot-folders too.
    assert_eq!(
        found(resolve_one(client, "build/out.txt").await).kind,
        PathKind::File
    );
    assert_eq!(
        found(resolve_one(client, "debug.log").await).kind,
        PathKind::File
    );
    assert_eq!(
        found(resolve_one(client, ".github/workflows").await).kind,
        PathKind::Directory
    );

    assert_eq!(
        resolve_one(client, "nope.txt").await,
        PathResolution::Missing
    );
    assert_eq!(
        resolve_one(client, "src/api/nope.rs").await,
        PathResolution::Missing
    );
    // A file's "child" is just missing.
    assert_eq!(
        resolve_one(client, "README.md/x").await,
        PathResolution::Missing
    );

    // The index exists now; what changes afterwards is seen at once all the same.
    assert!(find(client, "upload", 10).await.indexed_files > 0);
    std::fs::write(root.join("src/api/fresh.rs"), "new\n").unwrap();
    assert_eq!(
        found(resolve_one(client, "src/api/fresh.rs").await).kind,
        PathKind::File
    );
    std::fs::remove_file(root.join("src/api/download.rs")).unwrap();
    assert_eq!(
        resolve_one(client, "src/api/download.rs").await,
        PathResolution::Missing
    );

    // Answers keep the request's order, duplicates included.
    let batch: Vec<String> = ["sub", "nope", "../x", "sub"].map(str::to_owned).to_vec();
    let answers = resolve(client, &batch).await;
    assert_eq!(
        answers
            .iter()
            .map(|a| a.requested.as_str())
            .collect::<Vec<_>>(),
        ["sub", "nope", "../x", "sub"]
    );
    assert!(matches!(answers[0].resolution, PathResolution::Found(_)));
    assert_eq!(answers[1].resolution, PathResolution::Missing);
    assert!(matches!(
        answers[2].resolution,
        PathResolution::Refused { .. }
    ));
    assert_eq!(answers[3].resolution, answers[0].resolution);
}

#[tokio::test]
async fn hostile_paths_are_refused_with_a_reason() {
    let ws = workspace().await;
    let root = &ws.root;
    let hostile = [
        "..".to_owned(),
        "../".to_owned(),
        "../secret.txt".to_owned(),
        "../../etc/passwd".to_owned(),
        "../../../../../../../../etc/passwd".to_owned(),
        "a/../../x".to_owned(),
        "sub/../../secret.txt".to_owned(),
        "/etc/passwd".to_owned(),
        "//etc/passwd".to_owned(),
        "/".to_owned(),
        "/proc/self/environ".to_owned(),
        ws.secret.clone(),
        format!("{root}/../secret.txt"),
        format!("{root}x/README.md"),
        "~/x".to_owned(),
        "~root".to_owned(),
        "~".to_owned(),
        "file:///etc/passwd".to_owned(),
        "https://example.com/README.md".to_owned(),
        "README.md\0.txt".to_owned(),
        "\0".to_owned(),
        "a".repeat(5000),
        format!("{}/x", "b".repeat(300)),
        "link_to_etc".to_owned(),
        "link_to_etc/passwd".to_owned(),
        "link_out".to_owned(),
        "loop_a".to_owned(),
        "loop_b/x".to_owned(),
        "..\\secret.txt".to_owned(),
        "sub\\file.txt".to_owned(),
        ".git/config".to_owned(),
        ".git".to_owned(),
        "sub/../.git/HEAD".to_owned(),
        "link_git".to_owned(),
        "C:/Windows/System32/drivers/etc/hosts".to_owned(),
        "C:\\Windows".to_owned(),
        "c:".to_owned(),
        String::new(),
        ".".to_owned(),
        root.clone(),
        "pipe".to_owned(),
    ];
    assert!(hostile.len() >= 30);
    let answers = resolve(&ws.client, &hostile).await;
    for (path, answer) in hostile.iter().zip(&answers) {
        let shown: String = path.chars().take(60).collect();
        let PathResolution::Refused { reason } = &answer.resolution else {
            panic!("{shown:?} was not refused: {answer:?}");
        };
        assert!(!reason.is_empty(), "{shown:?}");
        assert!(
            reason.len() < 400,
            "reasons stay short: {shown:?}: {reason}"
        );
        assert!(!reason.contains("TOP SECRET"), "{shown:?}");
        assert!(answer.requested.len() <= sam_protocol::MAX_PATH_BYTES);
    }
    // Reasons say what is wrong.
    let reason = |i: usize| match &answers[i].resolution {
        PathResolution::Refused { reason } => reason.clone(),
        other => panic!("{other:?}"),
    };
    assert!(reason(2).contains("climbs out"), "{}", reason(2));
    assert!(reason(25).contains("symlink"), "{}", reason(25));
    assert!(reason(30).contains(".git"), "{}", reason(30));
    // The 5,000-byte candidate comes back clipped.
    assert_eq!(answers[21].requested.len(), sam_protocol::MAX_PATH_BYTES);

    // Odd but harmless: nothing is decoded or expanded, so these are plain missing names.
    for path in [
        "%2e%2e/secret.txt",
        "%2e%2e%2fsecret.txt",
        "file:/etc/passwd",
        "a~b",
    ] {
        assert_eq!(
            resolve_one(&ws.client, path).await,
            PathResolution::Missing,
            "{path}"
        );
    }
}

#[tokio::test]
async fn too_many_candidates_are_an_invalid_request() {
    let ws = workspace().await;
    let at_limit: Vec<String> = (0..MAX_RESOLVE_PATHS).map(|i| format!("f{i}.rs")).collect();
    assert_eq!(
        resolve(&ws.client, &at_limit).await.len(),
        MAX_RESOLVE_PATHS
    );
    let over: Vec<String> = (0..=MAX_RESOLVE_PATHS)
        .map(|i| format!("f{i}.rs"))
        .collect();
    let error = refused(&ws.client, RequestBody::ResolvePaths { paths: over }).await;
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert!(error.message.contains("257"), "{}", error.message);
}

#[tokio::test]
async fn find_files_ranks_limits_and_highlights() {
    let ws = workspace().await;
    let client = &ws.client;
    let root = Path::new(&ws.root);
    for i in 0..250 {
        std::fs::create_dir_all(root.join("many")).unwrap();
        std::fs::write(root.join(format!("many/item{i:03}.txt")), "").unwrap();
    }

    // The exact file name beats a scattered match of the same letters.
    let upload = find(client, "upload.rs", 20).await;
    let ranked = paths(&upload);
    assert_eq!(ranked[0], "src/api/upload.rs", "{ranked:?}");
    if let Some(scattered) = ranked.iter().position(|p| *p == "src/util/parse/load.rs") {
        assert!(upload.matches[scattered].score < upload.matches[0].score);
    }
    // Positions index characters of the path and spell the query.
    let best = &upload.matches[0];
    assert_eq!(best.positions, (8..17).collect::<Vec<u32>>());
    for found in &upload.matches {
        let chars: Vec<char> = found.path.chars().collect();
        assert!(found.positions.windows(2).all(|w| w[0] < w[1]));
        let spelled: String = found.positions.iter().map(|&i| chars[i as usize]).collect();
        assert_eq!(spelled.to_lowercase(), "upload.rs", "{}", found.path);
    }
    assert!(upload.matches.windows(2).all(|w| w[0].score >= w[1].score));
    // Abbreviations and directories match too.
    assert_eq!(
        paths(&find(client, "uplrs", 5).await)[0],
        "src/api/upload.rs"
    );
    assert!(paths(&find(client, "src/api", 50).await).contains(&"src/api/upload.rs"));

    // Limits: as asked, and never more than the protocol's.
    assert_eq!(find(client, "item", 3).await.matches.len(), 3);
    assert_eq!(
        find(client, "many/item", 10_000).await.matches.len(),
        MAX_FIND_FILES as usize
    );
    assert!(find(client, "item", 0).await.matches.is_empty());
    assert!(find(client, "zzzqqq", 10).await.matches.is_empty());

    // An empty query lists the index: shortest first, then alphabetical, stably.
    let listed = find(client, "", 200).await;
    assert_eq!(listed.matches.len(), 200);
    let listed_paths = paths(&listed);
    let mut expected = listed_paths.clone();
    expected.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
    assert_eq!(listed_paths, expected);
    assert!(listed.matches.iter().all(|m| m.positions.is_empty()));
    assert_eq!(paths(&find(client, "  ", 5).await), listed_paths[..5]);
    assert!(!listed.truncated_index);

    // What the index holds: dot-folders yes; ignored files, .git, symlinks and pipes no.
    let all = find(client, "", MAX_FIND_FILES).await;
    assert!(
        all.indexed_files < 400,
        "node_modules was skipped: {}",
        all.indexed_files
    );
    assert_eq!(
        paths(&find(client, "ci.yml", 5).await)[0],
        ".github/workflows/ci.yml"
    );
    for query in ["out.txt", "debug.log", "left-pad", ".git/config", "HEAD"] {
        let found = find(client, query, 50).await;
        assert!(
            found.matches.iter().all(|m| !m.path.starts_with("build/")
                && !m.path.ends_with(".log")
                && !m.path.starts_with("node_modules/")
                && !m.path.starts_with(".git/")),
            "{query}: {:?}",
            paths(&found)
        );
    }
    for link in ["link_in", "link_out", "link_to_etc", "loop_a", "pipe"] {
        assert!(
            !paths(&find(client, link, 50).await).contains(&link),
            "{link}"
        );
    }
    // The .gitignore itself is a dot-file like any other.
    assert!(paths(&find(client, ".gitignore", 5).await).contains(&".gitignore"));
}

#[tokio::test]
async fn a_file_added_later_is_listed_after_the_staleness_window() {
    let ws = workspace().await;
    let client = &ws.client;
    let before = find(client, "added_afterwards", 10).await;
    assert!(before.matches.is_empty());
    let indexed = before.indexed_files;

    std::fs::create_dir_all(Path::new(&ws.root).join("later")).unwrap();
    std::fs::write(Path::new(&ws.root).join("later/added_afterwards.md"), "").unwrap();
    // Once the index is older than the window, a query starts a rebuild and a later one
    // sees the file.
    let started = Instant::now();
    let after = loop {
        let found = find(client, "added_afterwards", 10).await;
        if !found.matches.is_empty() {
            break found;
        }
        assert!(started.elapsed() < DEADLINE, "the new file never showed up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(paths(&after), ["later/added_afterwards.md"]);
    assert_eq!(after.indexed_files, indexed + 1);
    assert!(after.index_age_ms < 5_000);
}

#[tokio::test]
async fn file_requests_wait_for_the_setup() {
    let work = tempfile::tempdir().unwrap();
    let root = make_repo(&work.path().join("repo"));
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = Arc::new(daemon.client().await);

    let queued_find = {
        let client = Arc::clone(&client);
        tokio::spawn(async move { find(&client, "readme", 5).await })
    };
    let queued_resolve = {
        let client = Arc::clone(&client);
        tokio::spawn(async move { resolve(&client, &["sub/file.txt".to_owned()]).await })
    };
    wait_status(&client, |s| s.queued_requests == 2).await;
    ok(&client, RequestBody::Setup(local_plan("ws", &root))).await;
    let found = within(queued_find).await.unwrap();
    assert_eq!(paths(&found), ["README.md"]);
    let resolved = within(queued_resolve).await.unwrap();
    assert_eq!(found_kind(&resolved[0]), PathKind::File);
}

fn found_kind(resolved: &ResolvedPath) -> PathKind {
    match &resolved.resolution {
        PathResolution::Found(found) => found.kind,
        other => panic!("expected found, got {other:?}"),
    }
}

//! ReadFile stays inside the checkout, whatever the path says.

use std::os::unix::fs::symlink;

use sam_protocol::{ErrorCode, FileContent, RequestBody, ResponseBody};

use crate::support::{Daemon, local_plan, make_repo, ok, read_text, refused};

#[tokio::test]
async fn hostile_paths_are_refused_and_workspace_files_are_read() {
    let work = tempfile::tempdir().unwrap();
    let root = make_repo(&work.path().join("repo"));
    let secret = work.path().join("secret.txt");
    std::fs::write(&secret, "TOP SECRET\n").unwrap();
    symlink("../secret.txt", root.join("link_out")).unwrap();
    symlink(&secret, root.join("abs_link")).unwrap();
    symlink("/etc", root.join("dir_out")).unwrap();
    symlink("README.md", root.join("link_in")).unwrap();
    std::fs::write(root.join("binary.bin"), [0xff_u8, 0x00, 0xfe, 0x01]).unwrap();
    std::fs::write(root.join("accent.txt"), "aé").unwrap();

    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;
    let ResponseBody::SetupReady { checkout_dir } =
        ok(&client, RequestBody::Setup(local_plan("ws", &root))).await
    else {
        panic!("expected ready");
    };

    let hostile = [
        "../secret.txt".to_owned(),
        "../../../../../../../../etc/passwd".to_owned(),
        "sub/../../secret.txt".to_owned(),
        "/etc/passwd".to_owned(),
        secret.display().to_string(),
        format!("{checkout_dir}/../secret.txt"),
        "link_out".to_owned(),
        "abs_link".to_owned(),
        "dir_out/passwd".to_owned(),
        "README.md\0.txt".to_owned(),
        "~/.bashrc".to_owned(),
        "~".to_owned(),
        "a".repeat(5000),
        format!("{}/x", "b".repeat(300)),
        "file:///etc/passwd".to_owned(),
        String::new(),
        ".".to_owned(),
        "..".to_owned(),
        "/".to_owned(),
        "..\\secret.txt".to_owned(),
        "sub".to_owned(),
        "/proc/self/environ".to_owned(),
        "%2e%2e/secret.txt".to_owned(),
        checkout_dir.clone(),
    ];
    assert!(hostile.len() >= 15);
    for path in &hostile {
        let error = refused(
            &client,
            RequestBody::ReadFile {
                path: path.clone(),
                max_bytes: 1 << 20,
            },
        )
        .await;
        let shown: String = path.chars().take(60).collect();
        assert!(
            matches!(error.code, ErrorCode::InvalidRequest | ErrorCode::NotFound),
            "{shown:?}: {error:?}"
        );
        assert!(!error.message.contains("TOP SECRET"), "{shown:?}");
        assert!(error.message.len() < 400, "messages stay short: {shown:?}");
    }

    // Inside the workspace, paths of every shape work.
    assert_eq!(read_text(&client, "README.md").await, "hello sam\n");
    assert_eq!(
        read_text(&client, "./sub/../README.md").await,
        "hello sam\n"
    );
    assert_eq!(
        read_text(&client, &format!("{checkout_dir}/sub/file.txt")).await,
        "nested\n"
    );
    assert_eq!(read_text(&client, "link_in").await, "hello sam\n");

    let ResponseBody::File(part) = ok(
        &client,
        RequestBody::ReadFile {
            path: "README.md".into(),
            max_bytes: 5,
        },
    )
    .await
    else {
        panic!("expected a file");
    };
    assert_eq!(part.path, "README.md");
    assert_eq!(part.size_bytes, 10);
    assert!(part.truncated);
    assert_eq!(
        part.content,
        FileContent::Utf8 {
            text: "hello".into()
        }
    );

    // A cut through a multi-byte character stays text.
    let ResponseBody::File(cut) = ok(
        &client,
        RequestBody::ReadFile {
            path: "accent.txt".into(),
            max_bytes: 2,
        },
    )
    .await
    else {
        panic!("expected a file");
    };
    assert_eq!(cut.content, FileContent::Utf8 { text: "a".into() });

    let ResponseBody::File(binary) = ok(
        &client,
        RequestBody::ReadFile {
            path: "binary.bin".into(),
            max_bytes: 100,
        },
    )
    .await
    else {
        panic!("expected a file");
    };
    assert!(matches!(binary.content, FileContent::Base64 { .. }));
    assert_eq!(
        binary.content.to_bytes().unwrap(),
        vec![0xff, 0x00, 0xfe, 0x01]
    );

    let missing = refused(
        &client,
        RequestBody::ReadFile {
            path: "nope.txt".into(),
            max_bytes: 10,
        },
    )
    .await;
    assert_eq!(missing.code, ErrorCode::NotFound);
}

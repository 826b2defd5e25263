//! `sam credentials …` as a user runs it: the real binary, the real keyring (gnome-keyring in
//! the test session), a real SQLite file, and faithful fakes of the provider APIs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

mod common;

use common::{Cli, error_message, leaks};
use sam_testkit::{FakeProviders, Provider};

const TOKEN: &str = "cliHetznerTokenA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2W3x4Y";
const REJECTED: &str = "cliRejectedTokenZ9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2H1g0F9e8D7c6";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_list_check_remove_with_the_secret_on_stdin_only() {
    let fake = FakeProviders::start().await.unwrap();
    fake.accept(Provider::Hetzner, TOKEN);
    let cli = Cli::new(&fake);

    let (ok, added) = cli.json(
        &[
            "credentials",
            "set",
            "hetzner_token",
            "--name",
            "Hetzner CLI",
            "--json",
        ],
        format!("{TOKEN}\n").as_bytes(),
    );
    assert!(ok, "{added}");
    assert_eq!(added["label"], "Hetzner CLI");
    assert_eq!(added["lastCheck"], "valid", "{added}");
    assert_eq!(
        added["masked"],
        format!("••••{}", &TOKEN[TOKEN.len() - 4..])
    );

    // A key the provider refuses is stored but marked rejected, with the provider's reason.
    let (ok, rejected) = cli.json(
        &[
            "credentials",
            "set",
            "hetzner_token",
            "--name",
            "old token",
            "--json",
        ],
        REJECTED.as_bytes(),
    );
    assert!(ok, "{rejected}");
    assert_eq!(rejected["lastCheck"], "rejected", "{rejected}");
    assert!(!rejected["lastMessage"].as_str().unwrap().contains(REJECTED));

    let out = cli.run(&["credentials", "list", "--json"], b"");
    assert!(out.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains(TOKEN) && !text.contains(REJECTED));

    let (ok, checked) = cli.json(&["credentials", "check", "hetzner cli", "--json"], b"");
    assert!(ok);
    assert_eq!(checked["lastCheck"], "valid");
    assert!(checked["lastCheckedAt"].as_i64().unwrap() > 0);

    let human = cli.run(&["credentials", "list"], b"");
    let human = String::from_utf8(human.stdout).unwrap();
    assert!(
        human.contains("Hetzner CLI") && human.contains("valid"),
        "{human}"
    );

    for name in ["Hetzner CLI", "old token"] {
        let out = cli.run(&["credentials", "remove", name], b"");
        assert!(out.status.success(), "{out:?}");
    }
    let (_, listed) = cli.json(&["credentials", "list", "--json"], b"");
    assert_eq!(listed, serde_json::json!([]));

    assert!(
        leaks(cli.data.path(), TOKEN).is_empty(),
        "the secret leaked to disk"
    );
    assert!(
        leaks(cli.data.path(), REJECTED).is_empty(),
        "the secret leaked to disk"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_refused_with_a_clear_error_and_nothing_stored() {
    let fake = FakeProviders::start().await.unwrap();
    fake.accept(Provider::Hetzner, TOKEN);
    let cli = Cli::new(&fake);
    let set = [
        "credentials",
        "set",
        "hetzner_token",
        "--name",
        "h",
        "--no-check",
        "--json",
    ];
    let secret_in_argv = format!("secret={TOKEN}");

    let cases: Vec<(Vec<&str>, Vec<u8>, &str)> = vec![
        (set.to_vec(), b"".to_vec(), "it is empty"),
        (set.to_vec(), b"   \n ".to_vec(), "it is empty"),
        (set.to_vec(), vec![0xff, 0xfe, 0x00, 0x41], "not UTF-8"),
        (set.to_vec(), vec![b'a'; 17 * 1024], "over 16 KiB"),
        (
            set.to_vec(),
            b"0f6a0bd4-3c5e-4b6f-9d9a-1c2b3d4e5f60".to_vec(),
            "looks like a Scaleway API key",
        ),
        (
            vec![
                "credentials",
                "set",
                "hetzner_token",
                "--field",
                &secret_in_argv,
                "--json",
            ],
            b"".to_vec(),
            "never taken from the command line",
        ),
        (
            vec!["credentials", "set", "aws_key", "--json"],
            TOKEN.as_bytes().to_vec(),
            "Unknown kind",
        ),
        (
            vec!["credentials", "check", "nothing-here", "--json"],
            Vec::new(),
            "No credential named",
        ),
    ];
    for (args, stdin, expected) in cases {
        let (ok, value) = cli.json(&args, &stdin);
        assert!(!ok, "{args:?} must fail");
        assert!(
            error_message(&value).contains(expected),
            "{args:?}: {value} should say {expected:?}"
        );
        assert!(!value.to_string().contains(TOKEN));
    }

    let (ok, _) = cli.json(&set, TOKEN.as_bytes());
    assert!(ok);
    let (ok, dup) = cli.json(
        &[
            "credentials",
            "set",
            "hetzner_token",
            "--name",
            "H",
            "--no-check",
            "--json",
        ],
        TOKEN.as_bytes(),
    );
    assert!(!ok);
    assert!(error_message(&dup).contains("already exists"), "{dup}");
    let (_, listed) = cli.json(&["credentials", "list", "--json"], b"");
    assert_eq!(listed.as_array().unwrap().len(), 1);
    cli.run(&["credentials", "remove", "h"], b"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keyring_it_says_how_to_get_one_and_stores_nothing() {
    let fake = FakeProviders::start().await.unwrap();
    let mut cli = Cli::new(&fake);
    cli.env.push((
        "DBUS_SESSION_BUS_ADDRESS".into(),
        "unix:path=/nonexistent/sam-no-bus".into(),
    ));
    let (ok, value) = cli.json(
        &[
            "credentials",
            "set",
            "hetzner_token",
            "--no-check",
            "--json",
        ],
        TOKEN.as_bytes(),
    );
    assert!(!ok);
    assert_eq!(value["error"]["code"], "unavailable", "{value}");
    assert!(error_message(&value).contains("gnome-keyring"), "{value}");
    let (_, listed) = cli.json(&["credentials", "list", "--json"], b"");
    assert_eq!(listed, serde_json::json!([]), "nothing half-stored");
    assert!(leaks(cli.data.path(), TOKEN).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_codex_login_is_read_from_codex_home() {
    let fake = FakeProviders::start().await.unwrap();
    let mut cli = Cli::new(&fake);
    let codex_home = tempfile::tempdir().unwrap();
    let refresh = "rt-codex-refresh-token-0123456789";
    std::fs::write(
        codex_home.path().join("auth.json"),
        format!(r#"{{"OPENAI_API_KEY":null,"tokens":{{"id_token":"eyJ0","access_token":"eyJ1","refresh_token":"{refresh}","account_id":"acc"}},"last_refresh":"2026-11-01T00:00:00Z"}}"#),
    )
    .unwrap();
    cli.env
        .push(("CODEX_HOME".into(), codex_home.path().display().to_string()));
    let (ok, added) = cli.json(
        &[
            "credentials",
            "set",
            "codex_auth_json",
            "--from-codex-home",
            "--json",
        ],
        b"",
    );
    assert!(ok, "{added}");
    assert_eq!(added["kind"], "codex_auth_json");
    assert_eq!(
        added["lastCheck"], "unchecked",
        "a ChatGPT login is not checked by a call"
    );
    assert!(!added.to_string().contains(refresh));
    assert!(leaks(cli.data.path(), refresh).is_empty());
    cli.run(
        &["credentials", "remove", added["id"].as_str().unwrap()],
        b"",
    );

    cli.env.retain(|(k, _)| k != "CODEX_HOME");
    cli.env
        .push(("CODEX_HOME".into(), "/nonexistent/codex-home".into()));
    let (ok, missing) = cli.json(
        &[
            "credentials",
            "set",
            "codex_auth_json",
            "--from-codex-home",
            "--json",
        ],
        b"",
    );
    assert!(!ok);
    assert!(error_message(&missing).contains("codex login"), "{missing}");
}

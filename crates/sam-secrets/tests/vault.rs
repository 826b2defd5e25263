//! The vault against the real OS keyring (gnome-keyring's Secret Service in the test session,
//! started by scripts/test.sh) and a real SQLite file. No in-memory secret store here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use sam_secrets::{
    CheckState, CredentialKind, CredentialScope, KeyringStore, NewCredential, SecretStore, Vault,
    VaultError,
};
use sam_store::Store;

const HETZNER: &str = "k3Jd8sLq0Zx7Vb2Nw5Yt9Rp4Hm6Gf1Dc3Sa8Qe0Wr2Ty4Ui6Op8As1Df3Gh5Jk7W";
const ANTHROPIC: &str = "sk-ant-api03-Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0GfEdCbA-1a2b";

struct Fixture {
    _dir: tempfile::TempDir,
    data_dir: std::path::PathBuf,
    keyring: KeyringStore,
    vault: Vault,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    let (store, _) = Store::open(&data_dir.join("sam.sqlite3")).unwrap();
    // A private channel per test: entries never collide with another test or a real install.
    let keyring = KeyringStore::with_channel(&format!("test-{}", uuid_like()));
    let vault = Vault::new(Arc::new(store), Arc::new(keyring.clone()));
    Fixture {
        _dir: dir,
        data_dir,
        keyring,
        vault,
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{nanos}", std::process::id())
}

fn new(kind: CredentialKind, label: &str, secret: &str) -> NewCredential {
    NewCredential {
        kind,
        label: label.into(),
        scope: CredentialScope::Global,
        fields: BTreeMap::from([("secret".to_owned(), secret.to_owned())]),
    }
}

fn in_project(mut credential: NewCredential, project: &str) -> NewCredential {
    credential.scope = CredentialScope::Project {
        project: project.into(),
    };
    credential
}

fn files_contain(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    sam_testkit::files_containing(dir, needle.as_bytes()).unwrap()
}

#[test]
fn add_use_and_remove_keep_the_secret_in_the_keyring_only() {
    let f = fixture();
    let added = f
        .vault
        .add(
            new(CredentialKind::HetznerToken, "Hetzner prod", HETZNER),
            100,
        )
        .unwrap();
    assert_eq!(added.masked, "••••Jk7W");
    assert_eq!(added.last_check, CheckState::Unchecked);
    assert!(!format!("{added:?}").contains(HETZNER));
    assert!(!serde_json::to_string(&added).unwrap().contains(HETZNER));

    // The secret is in the OS keyring, under this build channel's service.
    let entry = keyring::Entry::new(f.keyring.service(), &added.id).unwrap();
    assert_eq!(entry.get_password().unwrap(), HETZNER);

    let material = f.vault.material("hetzner PROD").unwrap();
    assert_eq!(material.secret.expose(), HETZNER);
    assert!(!format!("{material:?}").contains(HETZNER));

    let checked = f
        .vault
        .record_check(
            &added.id,
            CheckState::Valid,
            "Hetzner accepted the token.",
            200,
        )
        .unwrap();
    assert_eq!(checked.last_checked_at, Some(200));
    assert_eq!(f.vault.list().unwrap().len(), 1);

    // Nowhere on disk: not in the database, its WAL, or anything else in the data dir.
    assert_eq!(
        files_contain(&f.data_dir, HETZNER),
        Vec::<std::path::PathBuf>::new()
    );

    f.vault.remove("Hetzner prod").unwrap();
    assert!(matches!(entry.get_password(), Err(keyring::Error::NoEntry)));
    assert!(f.vault.list().unwrap().is_empty());
    assert!(files_contain(&f.data_dir, HETZNER).is_empty());
}

#[test]
fn bad_input_gets_a_clear_error_and_stores_nothing() {
    let f = fixture();
    let cases: Vec<(NewCredential, &str)> = vec![
        (new(CredentialKind::HetznerToken, "h", ""), "it is empty"),
        (
            new(CredentialKind::HetznerToken, "h", "   \n\t "),
            "it is empty",
        ),
        (
            new(
                CredentialKind::HetznerToken,
                "h",
                "0f6a0bd4-3c5e-4b6f-9d9a-1c2b3d4e5f60",
            ),
            "looks like a Scaleway API key, not a Hetzner Cloud API token",
        ),
        (
            new(
                CredentialKind::AnthropicApiKey,
                "a",
                "sk-ant-oat01-abcdefghijklmnopqrstuvwxyz",
            ),
            "looks like a Claude subscription token",
        ),
        (
            new(CredentialKind::HetznerToken, "h", &"x".repeat(17 * 1024)),
            "up to 16 KiB",
        ),
        (
            new(CredentialKind::OpenaiApiKey, "o", "sk-abc def"),
            "spaces, line breaks",
        ),
        (
            new(CredentialKind::HetznerToken, "  ", HETZNER),
            "Give the credential a name",
        ),
        (
            new(CredentialKind::CodexAuthJson, "c", "{not json"),
            "not valid JSON",
        ),
        (
            new(CredentialKind::CodexAuthJson, "c", "{\"x\":1}"),
            "no \"tokens\"",
        ),
        (
            in_project(new(CredentialKind::HetznerToken, "h", HETZNER), "  "),
            "Name the project",
        ),
    ];
    for (input, expected) in cases {
        let err = f.vault.add(input, 1).unwrap_err();
        assert!(matches!(err, VaultError::InvalidInput(_)), "{err:?}");
        assert!(
            err.to_string().contains(expected),
            "{err} should mention {expected:?}"
        );
    }
    let mut unknown = new(CredentialKind::HetznerToken, "h", HETZNER);
    unknown.fields.insert("region".into(), "x".into());
    assert!(
        f.vault
            .add(unknown, 1)
            .unwrap_err()
            .to_string()
            .contains("no field \"region\"")
    );
    let mut scaleway = new(
        CredentialKind::ScalewayKeys,
        "s",
        "0f6a0bd4-3c5e-4b6f-9d9a-1c2b3d4e5f60",
    );
    scaleway.fields.insert(
        "access_key".into(),
        "0f6a0bd4-3c5e-4b6f-9d9a-1c2b3d4e5f60".into(),
    );
    scaleway.fields.insert(
        "project_id".into(),
        "11111111-2222-3333-4444-555555555555".into(),
    );
    assert!(
        f.vault
            .add(scaleway, 1)
            .unwrap_err()
            .to_string()
            .contains("starting with SCW")
    );
    assert!(f.vault.list().unwrap().is_empty());
}

#[test]
fn duplicate_labels_are_refused_without_touching_the_first() {
    let f = fixture();
    let first = f
        .vault
        .add(new(CredentialKind::HetznerToken, "Cloud", HETZNER), 1)
        .unwrap();
    let err = f
        .vault
        .add(new(CredentialKind::AnthropicApiKey, "cloud", ANTHROPIC), 2)
        .unwrap_err();
    assert!(matches!(err, VaultError::DuplicateLabel(_)), "{err:?}");
    assert_eq!(f.vault.list().unwrap().len(), 1);
    assert_eq!(
        f.vault.material(&first.id).unwrap().secret.expose(),
        HETZNER
    );
    f.vault
        .add(new(CredentialKind::AnthropicApiKey, "Claude", ANTHROPIC), 3)
        .unwrap();
    assert!(matches!(
        f.vault.rename("Claude", "CLOUD"),
        Err(VaultError::DuplicateLabel(_))
    ));
    assert_eq!(
        f.vault.rename("Claude", "Claude work").unwrap().label,
        "Claude work"
    );
}

#[test]
fn a_secret_that_vanished_from_the_keyring_is_reported_and_removable() {
    let f = fixture();
    let added = f
        .vault
        .add(new(CredentialKind::HetznerToken, "gone", HETZNER), 1)
        .unwrap();
    f.keyring.delete(&added.id).unwrap();
    let err = f.vault.material("gone").unwrap_err();
    assert!(matches!(err, VaultError::SecretMissing(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("Remove the credential and add it again")
    );
    f.vault.remove("gone").unwrap();
    assert!(f.vault.list().unwrap().is_empty());
}

#[test]
fn resolution_is_explicit_then_project_then_global_and_deactivation_blocks_fallback() {
    let f = fixture();
    let global = f
        .vault
        .add(new(CredentialKind::AnthropicApiKey, "global", ANTHROPIC), 1)
        .unwrap();
    let project_key = "sk-ant-api03-ProjectKeyProjectKeyProjectKey-9z9z";
    let project = f
        .vault
        .add(
            in_project(
                new(CredentialKind::AnthropicApiKey, "api project", project_key),
                "acme/api",
            ),
            2,
        )
        .unwrap();
    let other = "sk-ant-api03-ExplicitChoiceExplicitChoiceXX-7y7y";
    let explicit = f
        .vault
        .add(new(CredentialKind::AnthropicApiKey, "explicit", other), 3)
        .unwrap();

    // 1. An explicit choice wins over everything.
    let chosen = f
        .vault
        .resolve(
            CredentialKind::AnthropicApiKey,
            Some("explicit"),
            Some("acme/api"),
        )
        .unwrap();
    assert_eq!(chosen.id, explicit.id);
    // 2. Then the project's own credential.
    let chosen = f
        .vault
        .resolve(CredentialKind::AnthropicApiKey, None, Some("acme/api"))
        .unwrap();
    assert_eq!(chosen.id, project.id);
    assert_eq!(chosen.secret.expose(), project_key);
    // 3. Then a global one (another project, or none); the newest active global wins.
    let chosen = f
        .vault
        .resolve(CredentialKind::AnthropicApiKey, None, Some("acme/web"))
        .unwrap();
    assert_eq!(chosen.id, explicit.id);
    f.vault.set_active("explicit", false).unwrap();
    let chosen = f
        .vault
        .resolve(CredentialKind::AnthropicApiKey, None, None)
        .unwrap();
    assert_eq!(chosen.id, global.id);

    // A deactivated project credential is a decision, not an absence: no fallback.
    f.vault.set_active("api project", false).unwrap();
    let err = f
        .vault
        .resolve(CredentialKind::AnthropicApiKey, None, Some("acme/api"))
        .unwrap_err();
    assert!(matches!(err, VaultError::Deactivated { .. }), "{err:?}");
    // An explicit choice of an inactive or wrong-kind credential is refused.
    assert!(matches!(
        f.vault
            .resolve(CredentialKind::AnthropicApiKey, Some("explicit"), None),
        Err(VaultError::Inactive(_))
    ));
    assert!(matches!(
        f.vault
            .resolve(CredentialKind::HetznerToken, Some("global"), None),
        Err(VaultError::WrongKind { .. })
    ));
    assert!(matches!(
        f.vault.resolve(CredentialKind::GithubToken, None, None),
        Err(VaultError::NotConfigured(CredentialKind::GithubToken))
    ));
}

#[test]
fn scaleway_and_compatible_keep_public_fields_as_metadata() {
    let f = fixture();
    let secret = "0f6a0bd4-3c5e-4b6f-9d9a-1c2b3d4e5f60";
    let mut scaleway = new(CredentialKind::ScalewayKeys, "scw", secret);
    scaleway
        .fields
        .insert("access_key".into(), "SCWABCDEFGHIJKLMNOPQ".into());
    scaleway.fields.insert(
        "project_id".into(),
        "11111111-2222-3333-4444-555555555555".into(),
    );
    scaleway.fields.insert("zone".into(), "nl-ams-1".into());
    f.vault.add(scaleway, 1).unwrap();
    let material = f.vault.material("scw").unwrap();
    assert_eq!(material.public_fields["access_key"], "SCWABCDEFGHIJKLMNOPQ");
    assert_eq!(material.public_fields["zone"], "nl-ams-1");
    assert!(!material.public_fields.values().any(|v| v == secret));
    assert!(files_contain(&f.data_dir, secret).is_empty());

    let mut local = new(CredentialKind::OpenaiCompatible, "ollama", "");
    local
        .fields
        .insert("base_url".into(), "http://localhost:11434/v1".into());
    let added = f.vault.add(local, 2).unwrap();
    assert_eq!(added.masked, "no key");
    let mut bad = new(CredentialKind::OpenaiCompatible, "bad", "key");
    bad.fields
        .insert("base_url".into(), "file:///etc/passwd".into());
    assert!(
        f.vault
            .add(bad, 3)
            .unwrap_err()
            .to_string()
            .contains("http or https")
    );
}

const CLAUDE_OLD: &str = "sk-ant-oat01-OldSubscriptionTokenOldSubscriptionToken-aaaa";
const CLAUDE_NEW: &str = "sk-ant-oat01-NewSubscriptionTokenNewSubscriptionToken-bbbb";

#[test]
fn a_rotated_token_replaces_the_same_entry_and_the_old_one_has_five_minutes_of_grace() {
    let f = fixture();
    let added = f
        .vault
        .add(
            new(CredentialKind::ClaudeOauthToken, "Claude Max", CLAUDE_OLD),
            1_000,
        )
        .unwrap();
    let rotated = f
        .vault
        .rotate(
            "Claude Max",
            &sam_secrets::Sensitive::new(CLAUDE_NEW.to_owned()),
            2_000,
        )
        .unwrap();
    assert_eq!(
        rotated.id, added.id,
        "written back to the entry it came from"
    );
    assert_eq!(rotated.masked, "••••bbbb");
    assert_eq!(
        f.vault.material(&added.id).unwrap().secret.expose(),
        CLAUDE_NEW
    );
    assert_eq!(f.vault.list().unwrap().len(), 1);

    let during = f.vault.valid_secrets(&added.id, 2_000 + 299).unwrap();
    let during: Vec<&str> = during.iter().map(|s| s.expose().as_str()).collect();
    assert_eq!(during, [CLAUDE_NEW, CLAUDE_OLD]);
    let after = f.vault.valid_secrets(&added.id, 2_000 + 300).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].expose(), CLAUDE_NEW);

    // Keys that do not rotate refuse; a rotated token must still look like one.
    let hetzner = f
        .vault
        .add(new(CredentialKind::HetznerToken, "h", HETZNER), 1)
        .unwrap();
    let err = f
        .vault
        .rotate(
            &hetzner.id,
            &sam_secrets::Sensitive::new(HETZNER.to_owned()),
            3,
        )
        .unwrap_err();
    assert!(err.to_string().contains("does not rotate"), "{err}");
    let err = f
        .vault
        .rotate(
            &added.id,
            &sam_secrets::Sensitive::new("sk-ant-api03-not-a-subscription".to_owned()),
            3,
        )
        .unwrap_err();
    assert!(matches!(err, VaultError::InvalidInput(_)), "{err:?}");

    // Removing takes the previous token out of the keyring too.
    f.vault.remove(&added.id).unwrap();
    let previous =
        keyring::Entry::new(f.keyring.service(), &format!("{}.previous", added.id)).unwrap();
    assert!(matches!(
        previous.get_password(),
        Err(keyring::Error::NoEntry)
    ));
    assert!(files_contain(&f.data_dir, CLAUDE_OLD).is_empty());
    assert!(files_contain(&f.data_dir, CLAUDE_NEW).is_empty());
}

#[test]
fn concurrent_refreshes_of_one_token_refresh_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let f = fixture();
    let added = f
        .vault
        .add(
            new(CredentialKind::ClaudeOauthToken, "Claude", CLAUDE_OLD),
            1,
        )
        .unwrap();
    let vault = Arc::new(f.vault);
    let calls = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(std::sync::Barrier::new(3));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (vault, calls, start, id) = (
                vault.clone(),
                calls.clone(),
                start.clone(),
                added.id.clone(),
            );
            std::thread::spawn(move || {
                let stale = sam_secrets::Sensitive::new(CLAUDE_OLD.to_owned());
                start.wait();
                vault
                    .refresh(&id, &stale, 50, |current| {
                        assert_eq!(current.secret.expose(), CLAUDE_OLD);
                        calls.fetch_add(1, Ordering::SeqCst);
                        // Slow enough that the other callers arrive while this one runs.
                        std::thread::sleep(std::time::Duration::from_millis(300));
                        Ok::<_, String>(sam_secrets::Sensitive::new(CLAUDE_NEW.to_owned()))
                    })
                    .unwrap()
                    .secret
                    .expose()
                    .clone()
            })
        })
        .collect();
    for worker in workers {
        assert_eq!(worker.join().unwrap(), CLAUDE_NEW);
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "exactly one refresh for three callers"
    );

    // A failed refresh says why and keeps the current token.
    let err = vault
        .refresh(
            &added.id,
            &sam_secrets::Sensitive::new(CLAUDE_NEW.to_owned()),
            60,
            |_| Err::<sam_secrets::Sensitive<String>, _>("the provider said invalid_grant"),
        )
        .unwrap_err();
    assert!(err.to_string().contains("invalid_grant"), "{err}");
    assert_eq!(
        vault.material(&added.id).unwrap().secret.expose(),
        CLAUDE_NEW
    );
    vault.remove(&added.id).unwrap();
}

#[test]
fn the_install_ssh_key_is_generated_once_and_its_private_half_stays_in_the_keyring() {
    let f = fixture();
    let public = f.vault.ensure_ssh_key().unwrap();
    assert!(
        public.openssh.starts_with("ssh-ed25519 AAAA"),
        "{}",
        public.openssh
    );
    assert!(public.openssh.ends_with(" sam-desktop"));
    assert!(public.fingerprint.starts_with("SHA256:"));
    assert_eq!(
        f.vault.ensure_ssh_key().unwrap(),
        public,
        "one key per install"
    );

    let private = f.vault.ssh_private_key().unwrap();
    let parsed = ssh_key::PrivateKey::from_openssh(private.expose()).unwrap();
    assert_eq!(parsed.public_key().to_openssh().unwrap(), public.openssh);
    let body: String = private
        .expose()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(
        files_contain(&f.data_dir, &body[..40]).is_empty(),
        "the private key leaked to disk"
    );

    // A private key that vanished from the keyring is reported, not papered over.
    f.keyring.delete("install-ssh-key").unwrap();
    assert!(matches!(
        f.vault.ensure_ssh_key(),
        Err(VaultError::SecretMissing(_))
    ));
}

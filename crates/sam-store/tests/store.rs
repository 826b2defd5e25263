//! The store against real SQLite files: create, reopen, migrate, corruption, newer schemas.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::path::Path;

use rusqlite::Connection;
use sam_core::{Preferences, ThemePreference};
use sam_store::{LATEST_SCHEMA_VERSION, OpenOutcome, Store, StoreError, WorkspaceKind};

fn db_path(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("nested").join("sam.sqlite3")
}

fn backups(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bak"))
        .collect();
    found.sort();
    found
}

#[test]
fn creates_a_fresh_database_then_reopens_it_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let (store, outcome) = Store::open(&path).unwrap();
    assert_eq!(outcome, OpenOutcome::Created);
    assert_eq!(store.preferences().unwrap(), Preferences::default());
    drop(store);

    let (_store, outcome) = Store::open(&path).unwrap();
    assert_eq!(outcome, OpenOutcome::UpToDate);
    assert!(
        backups(path.parent().unwrap()).is_empty(),
        "no backup without a change"
    );
}

#[test]
fn preferences_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let (store, _) = Store::open(&path).unwrap();
    store
        .set_preferences(&Preferences {
            theme: ThemePreference::Dark,
            ..Preferences::default()
        })
        .unwrap();
    store
        .set_preferences(&Preferences {
            theme: ThemePreference::Light,
            ..Preferences::default()
        })
        .unwrap();
    assert!(
        store.preferences().unwrap().fluid_background,
        "on by default"
    );
    store
        .set_preferences(&Preferences {
            theme: ThemePreference::Light,
            fluid_background: false,
        })
        .unwrap();
    drop(store);
    let (store, _) = Store::open(&path).unwrap();
    let preferences = store.preferences().unwrap();
    assert_eq!(preferences.theme, ThemePreference::Light);
    assert!(!preferences.fluid_background);
}

#[test]
fn the_install_id_is_made_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let (store, _) = Store::open(&path).unwrap();
    let id = store.install_id().unwrap();
    assert_eq!(id.len(), 16);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(store.install_id().unwrap(), id);
    drop(store);
    let (store, _) = Store::open(&path).unwrap();
    assert_eq!(store.install_id().unwrap(), id);
    let other = tempfile::tempdir().unwrap();
    let (fresh, _) = Store::open(&db_path(&other)).unwrap();
    assert_ne!(
        fresh.install_id().unwrap(),
        id,
        "each install has its own id"
    );
}

#[test]
fn an_unknown_stored_theme_falls_back_to_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let (store, _) = Store::open(&path).unwrap();
    Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO settings (key, value, updated_at) VALUES ('theme', 'neon', 0)",
            [],
        )
        .unwrap();
    assert_eq!(store.preferences().unwrap().theme, ThemePreference::System);
}

#[test]
fn lists_workspaces_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let (store, _) = Store::open(&path).unwrap();
    assert!(store.workspaces().unwrap().is_empty());
    let raw = Connection::open(&path).unwrap();
    raw.execute_batch(
        "INSERT INTO workspaces (id, name, kind, state, created_at) VALUES ('w1', 'api', 'local', 'ready', 1);
         INSERT INTO workspaces (id, name, kind, state, created_at) VALUES ('w2', 'web', 'remote', 'provisioning', 2);",
    )
    .unwrap();
    let listed = store.workspaces().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].id, "w2");
    assert_eq!(listed[0].kind, WorkspaceKind::Remote);
    assert_eq!(listed[1].name, "api");
    assert_eq!(listed[1].kind, WorkspaceKind::Local);
}

#[test]
fn a_corrupt_file_is_kept_aside_byte_for_byte_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let garbage = b"this is not a database, it is a shopping list\n".repeat(200);
    std::fs::write(&path, &garbage).unwrap();

    let (store, outcome) = Store::open(&path).unwrap();
    let OpenOutcome::RecoveredFromCorruption { backup, reason } = outcome else {
        panic!("expected a recovery, got {outcome:?}");
    };
    assert!(
        std::fs::read(&backup).unwrap() == garbage,
        "the backup keeps the original bytes"
    );
    assert!(!reason.is_empty());
    assert!(
        backup
            .file_name()
            .unwrap()
            .to_string_lossy()
            .contains(".corrupt-")
    );
    // The new database works.
    store
        .set_preferences(&Preferences {
            theme: ThemePreference::Dark,
            ..Preferences::default()
        })
        .unwrap();
    assert_eq!(store.preferences().unwrap().theme, ThemePreference::Dark);
}

#[test]
fn a_damaged_page_is_detected_as_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    {
        let (store, _) = Store::open(&path).unwrap();
        drop(store);
        let raw = Connection::open(&path).unwrap();
        raw.pragma_update(None, "journal_mode", "DELETE").unwrap();
        raw.execute_batch("CREATE TABLE filler (x TEXT); INSERT INTO filler SELECT hex(randomblob(500)) FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 200) SELECT n FROM c);")
            .unwrap();
    }
    // Scribble over the middle of the file, past the header.
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 4096] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();

    let (_store, outcome) = Store::open(&path).unwrap();
    assert!(
        matches!(outcome, OpenOutcome::RecoveredFromCorruption { .. }),
        "{outcome:?}"
    );
}

#[test]
fn a_newer_schema_is_left_untouched_and_backed_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    {
        let (store, _) = Store::open(&path).unwrap();
        store
            .set_preferences(&Preferences {
                theme: ThemePreference::Dark,
                ..Preferences::default()
            })
            .unwrap();
    }
    let raw = Connection::open(&path).unwrap();
    raw.pragma_update(None, "journal_mode", "DELETE").unwrap();
    raw.pragma_update(None, "user_version", LATEST_SCHEMA_VERSION + 3)
        .unwrap();
    drop(raw);
    let before = std::fs::read(&path).unwrap();

    let err = Store::open(&path).unwrap_err();
    let StoreError::NewerSchema {
        found,
        supported,
        backup,
        ..
    } = &err
    else {
        panic!("expected NewerSchema, got {err:?}");
    };
    assert_eq!(*found, LATEST_SCHEMA_VERSION + 3);
    assert_eq!(*supported, LATEST_SCHEMA_VERSION);
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the file must not change"
    );
    assert!(
        std::fs::read(backup).unwrap() == before,
        "the backup is a true copy"
    );
    assert!(err.to_string().contains("Update SAM Desktop"));
}

#[test]
fn migrating_an_older_database_keeps_every_row_and_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // A "version 0" database that some earlier tool left: a table of its own with rows.
    {
        let raw = Connection::open(&path).unwrap();
        raw.execute_batch(
            "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('a'), ('b'), ('c');",
        )
        .unwrap();
    }
    let (_store, outcome) = Store::open(&path).unwrap();
    let OpenOutcome::Migrated { from, to, backup } = outcome else {
        panic!("expected a migration, got {outcome:?}");
    };
    assert_eq!((from, to), (0, LATEST_SCHEMA_VERSION));
    let count = |p: &Path| -> i64 {
        Connection::open(p)
            .unwrap()
            .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(&path), 3);
    assert_eq!(count(&backup), 3, "the backup holds the data as it was");
    let backup_version: u32 = Connection::open(&backup)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(backup_version, 0);
}

#[test]
fn an_unwritable_data_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file-not-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let err = Store::open(&blocker.join("sam.sqlite3")).unwrap_err();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
    assert!(err.to_string().contains("SAM_DATA_DIR"));
}

#[test]
fn a_version_1_database_gains_credentials_and_keeps_its_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    {
        // The schema as version 1 shipped it.
        let raw = Connection::open(&path).unwrap();
        raw.execute_batch(
            "CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
             CREATE TABLE workspaces (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('local', 'remote')), state TEXT NOT NULL, created_at INTEGER NOT NULL) STRICT;
             INSERT INTO settings VALUES ('theme', 'dark', 1);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let (store, outcome) = Store::open(&path).unwrap();
    assert!(
        matches!(outcome, OpenOutcome::Migrated { from: 1, .. }),
        "{outcome:?}"
    );
    assert_eq!(store.preferences().unwrap().theme, ThemePreference::Dark);
    assert!(store.credentials().unwrap().is_empty());
}

fn credential(id: &str, label: &str) -> sam_store::CredentialRow {
    sam_store::CredentialRow {
        id: id.into(),
        kind: "hetzner_token".into(),
        label: label.into(),
        project: None,
        active: true,
        public_fields: "{}".into(),
        masked: "••••abcd".into(),
        created_at: 10,
        last_checked_at: None,
        last_check: "unchecked".into(),
        last_message: None,
        rotated_at: None,
    }
}

#[test]
fn credential_labels_are_unique_regardless_of_case() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(&db_path(&dir)).unwrap();
    assert!(
        store
            .insert_credential(&credential("c1", "Hetzner prod"))
            .unwrap()
    );
    assert!(
        !store
            .insert_credential(&credential("c2", "hetzner PROD"))
            .unwrap()
    );
    assert!(
        store
            .insert_credential(&credential("c2", "Hetzner staging"))
            .unwrap()
    );
    assert!(!store.rename_credential("c2", "HETZNER prod").unwrap());
    assert_eq!(store.credential("hetzner prod").unwrap().unwrap().id, "c1");
    assert_eq!(
        store.credential("c2").unwrap().unwrap().label,
        "Hetzner staging"
    );
    store
        .record_credential_check("c1", 99, "valid", "Hetzner accepted the token.")
        .unwrap();
    store.set_credential_active("c1", false).unwrap();
    let c1 = store.credential("c1").unwrap().unwrap();
    assert_eq!(
        (c1.last_checked_at, c1.last_check.as_str(), c1.active),
        (Some(99), "valid", false)
    );
    store.delete_credential("c1").unwrap();
    assert!(store.credential("c1").unwrap().is_none());
    assert_eq!(store.credentials().unwrap().len(), 1);
}

#[test]
fn a_workspace_record_keeps_its_server_host_key_failure_and_step_timings() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let (store, _) = Store::open(&path).unwrap();
    let row = sam_store::WorkspaceRow {
        id: "w1".into(),
        name: "api".into(),
        kind: WorkspaceKind::Remote,
        provider: "hetzner".into(),
        state: "requested".into(),
        spec: r#"{"repo":"x"}"#.into(),
        server: None,
        host_key: None,
        failure: None,
        created_at: 10,
        updated_at: 10,
    };
    store.insert_workspace(&row).unwrap();
    assert!(store.insert_workspace(&row).is_err(), "one claim per id");
    store
        .set_workspace_host_key("w1", "ssh-ed25519 AAAA", 11)
        .unwrap();
    store
        .set_workspace_server("w1", Some(r#"{"id":"42"}"#), 12)
        .unwrap();
    store.step_started("w1", "create_server", 1_000).unwrap();
    store
        .step_finished("w1", "create_server", true, 1_250, None)
        .unwrap();
    store.step_started("w1", "wait_ssh", 1_300).unwrap();
    store
        .step_finished("w1", "wait_ssh", false, 1_400, Some("refused"))
        .unwrap();
    // A resumed step runs again from a clean slate.
    store.step_started("w1", "wait_ssh", 2_000).unwrap();
    store
        .set_workspace_state("w1", "failed", Some("SSH refused"), 13)
        .unwrap();
    drop(store);

    let (store, _) = Store::open(&path).unwrap();
    let found = store.workspace("api").unwrap().unwrap();
    assert_eq!(found.id, "w1");
    assert_eq!(found.server.as_deref(), Some(r#"{"id":"42"}"#));
    assert_eq!(found.host_key.as_deref(), Some("ssh-ed25519 AAAA"));
    assert_eq!(
        (found.state.as_str(), found.failure.as_deref()),
        ("failed", Some("SSH refused"))
    );
    assert_eq!(found.updated_at, 13);
    let steps = store.steps("w1").unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(
        (steps[0].step.as_str(), steps[0].state.as_str()),
        ("create_server", "done")
    );
    assert_eq!(steps[0].finished_at_ms, Some(1_250));
    assert_eq!(
        (steps[1].state.as_str(), steps[1].detail.as_deref()),
        ("running", None)
    );
    assert!(store.workspace("nope").unwrap().is_none());
    assert_eq!(store.workspace_rows().unwrap().len(), 1);
}

//! Opening the database file safely: create, migrate (with a backup and a row-count check),
//! recover from corruption, or refuse a newer schema without touching it.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::migrations::{LATEST_SCHEMA_VERSION, MIGRATIONS};

/// What opening the database did to the file, for the UI to tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOutcome {
    /// There was no database; a new one was created.
    Created,
    /// The database was already at this build's schema.
    UpToDate,
    /// The schema was migrated; the file as it was before is at `backup`.
    Migrated { from: u32, to: u32, backup: PathBuf },
    /// The file was not a readable database. It was moved to `backup` untouched and a new,
    /// empty database took its place.
    RecoveredFromCorruption { backup: PathBuf, reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "Could not create the data folder {path}: {source}. Check its permissions or set SAM_DATA_DIR to a writable folder."
    )]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "The database {path} was written by a newer SAM Desktop (schema {found}; this version knows up to {supported}). It was left untouched and copied to {backup}. Update SAM Desktop to use it."
    )]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
        backup: PathBuf,
    },
    #[error(
        "Could not copy the database to {path} before changing it: {source}. Nothing was changed."
    )]
    Backup {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "Migrating the database would have lost rows in table {table} ({before} before, {after} after). Nothing was changed."
    )]
    RowsLost {
        table: String,
        before: i64,
        after: i64,
    },
    #[error("The database reported an error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

pub(crate) fn open(path: &Path) -> Result<(Connection, OpenOutcome), StoreError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let existed = std::fs::metadata(path)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if !existed {
        let conn = connect(path)?;
        migrate(&conn, 0)?;
        return Ok((conn, OpenOutcome::Created));
    }

    let conn = match probe(path) {
        Ok(conn) => conn,
        Err(reason) => {
            let backup = move_aside(path, "corrupt")?;
            tracing::warn!(backup = %backup.display(), %reason, "database was unreadable; moved aside and recreated");
            let conn = connect(path)?;
            migrate(&conn, 0)?;
            return Ok((
                conn,
                OpenOutcome::RecoveredFromCorruption { backup, reason },
            ));
        }
    };

    let found: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > LATEST_SCHEMA_VERSION {
        let backup = unique_sibling(path, &format!("newer-schema-v{found}"));
        std::fs::copy(path, &backup).map_err(|source| StoreError::Backup {
            path: backup.clone(),
            source,
        })?;
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: LATEST_SCHEMA_VERSION,
            backup,
        });
    }
    // Only now, with a schema we understand, may the file change (WAL mode rewrites its header).
    configure(&conn)?;
    if found == LATEST_SCHEMA_VERSION {
        return Ok((conn, OpenOutcome::UpToDate));
    }

    let backup = unique_sibling(path, &format!("pre-v{LATEST_SCHEMA_VERSION}"));
    conn.backup(
        rusqlite::MAIN_DB,
        &backup,
        None::<fn(rusqlite::backup::Progress)>,
    )
    .map_err(|e| StoreError::Backup {
        path: backup.clone(),
        source: std::io::Error::other(e),
    })?;
    migrate(&conn, found)?;
    tracing::info!(from = found, to = LATEST_SCHEMA_VERSION, backup = %backup.display(), "database migrated");
    Ok((
        conn,
        OpenOutcome::Migrated {
            from: found,
            to: LATEST_SCHEMA_VERSION,
            backup,
        },
    ))
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    configure(&conn)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Opens an existing file and proves it is a healthy SQLite database, without changing it;
/// `Err` carries why not.
fn probe(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| e.to_string())?;
    let verdict: String = conn
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(|e| e.to_string())?;
    if verdict != "ok" {
        return Err(format!("integrity check failed: {verdict}"));
    }
    Ok(conn)
}

/// Applies the migrations after `from` in one transaction, and refuses to commit if any table
/// that existed before has fewer rows after.
fn migrate(conn: &Connection, from: u32) -> Result<(), StoreError> {
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let before = row_counts(&tx)?;
    for sql in MIGRATIONS.iter().skip(from as usize) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", LATEST_SCHEMA_VERSION)?;
    let after = row_counts(&tx)?;
    for (table, count_before) in &before {
        let count_after = after
            .iter()
            .find(|(name, _)| name == table)
            .map_or(0, |(_, count)| *count);
        if count_after < *count_before {
            return Err(StoreError::RowsLost {
                table: table.clone(),
                before: *count_before,
                after: count_after,
            });
        }
    }
    tx.commit()?;
    Ok(())
}

fn row_counts(conn: &Connection) -> Result<Vec<(String, i64)>, rusqlite::Error> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let tables = stmt
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    tables
        .into_iter()
        .map(|table| {
            // Table names come from sqlite_schema, not from input; quoting guards odd names.
            let quoted = table.replace('"', "\"\"");
            let count =
                conn.query_row(&format!("SELECT count(*) FROM \"{quoted}\""), [], |row| {
                    row.get(0)
                })?;
            Ok((table, count))
        })
        .collect()
}

/// Moves the file (and its WAL/SHM companions) aside, returning the new path of the main file.
fn move_aside(path: &Path, tag: &str) -> Result<PathBuf, StoreError> {
    let target = unique_sibling(path, tag);
    std::fs::rename(path, &target).map_err(|source| StoreError::Backup {
        path: target.clone(),
        source,
    })?;
    for suffix in ["-wal", "-shm"] {
        let companion = with_suffix(path, suffix);
        if companion.exists() {
            let _ = std::fs::rename(&companion, with_suffix(&target, suffix));
        }
    }
    Ok(target)
}

/// `<file>.<tag>-<unix seconds>[.<n>].bak`, next to `path`, not yet taken.
fn unique_sibling(path: &Path, tag: &str) -> PathBuf {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = with_suffix(path, &format!(".{tag}-{secs}"));
    let mut candidate = with_suffix(&base, ".bak");
    let mut n = 1;
    while candidate.exists() {
        candidate = with_suffix(&base, &format!(".{n}.bak"));
        n += 1;
    }
    candidate
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

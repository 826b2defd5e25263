//! The schema, as an ordered list of forward-only migrations. `PRAGMA user_version` records
//! how many have been applied.
//!
//! Rules (checked by a test): migrations only add — tables, columns, indexes — and never drop,
//! rename or delete. Append new migrations; never edit a released one.

/// Each entry takes the schema from version `index` to `index + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // v1: preferences and the workspace registry (filled by the workspaces feature).
    r#"
    CREATE TABLE settings (
        key         TEXT PRIMARY KEY NOT NULL,
        value       TEXT NOT NULL,
        updated_at  INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE workspaces (
        id          TEXT PRIMARY KEY NOT NULL,
        name        TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('local', 'remote')),
        state       TEXT NOT NULL,
        created_at  INTEGER NOT NULL
    ) STRICT;
    "#,
    // v2: credential metadata. The secrets themselves live in the OS keyring only, keyed by id.
    r#"
    CREATE TABLE credentials (
        id               TEXT PRIMARY KEY NOT NULL,
        kind             TEXT NOT NULL,
        label            TEXT NOT NULL UNIQUE COLLATE NOCASE,
        project          TEXT,
        active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        public_fields    TEXT NOT NULL DEFAULT '{}',
        masked           TEXT NOT NULL,
        created_at       INTEGER NOT NULL,
        last_checked_at  INTEGER,
        last_check       TEXT NOT NULL DEFAULT 'unchecked',
        last_message     TEXT
    ) STRICT;
    CREATE INDEX credentials_by_kind ON credentials (kind, project);
    "#,
    // v3: subscription tokens rotate; the previous one stays valid for a grace window after
    // this time (the secret itself is a second keyring entry).
    r#"
    ALTER TABLE credentials ADD COLUMN rotated_at INTEGER;
    "#,
    // v4: workspace provisioning. A row is claimed before any cloud call; what was asked for
    // (`spec`, JSON), the server the moment its id is known (`server`, JSON), the pinned SSH
    // host key and a failure reason live on it; each provisioning step records its timing.
    r#"
    ALTER TABLE workspaces ADD COLUMN provider TEXT NOT NULL DEFAULT 'local';
    ALTER TABLE workspaces ADD COLUMN spec TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE workspaces ADD COLUMN server TEXT;
    ALTER TABLE workspaces ADD COLUMN host_key TEXT;
    ALTER TABLE workspaces ADD COLUMN failure TEXT;
    ALTER TABLE workspaces ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE workspace_steps (
        workspace_id    TEXT NOT NULL REFERENCES workspaces (id),
        step            TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
        started_at_ms   INTEGER NOT NULL,
        finished_at_ms  INTEGER,
        detail          TEXT,
        PRIMARY KEY (workspace_id, step)
    ) STRICT;
    "#,
    // v5: the last sign of life of a workspace (desktop contact, agent activity), for the idle
    // policy that deletes forgotten cloud servers.
    r#"
    ALTER TABLE workspaces ADD COLUMN last_activity_at INTEGER;
    "#,
    // v6: agent chat. Sessions outlive their workspace (the name is copied, no foreign key);
    // events are the host journal's session events, numbered per session, with the host's
    // sequence number to make ingesting idempotent; a cursor per workspace says how far its
    // host journal has been read; full-text search over prompts and agent replies.
    r#"
    CREATE TABLE chat_sessions (
        id              TEXT PRIMARY KEY NOT NULL,
        workspace_id    TEXT NOT NULL,
        workspace_name  TEXT NOT NULL,
        agent           TEXT NOT NULL,
        agent_command   TEXT,
        title           TEXT NOT NULL,
        state           TEXT NOT NULL,
        created_at_ms   INTEGER NOT NULL,
        forked_from     TEXT,
        forked_at_seq   INTEGER,
        live            INTEGER NOT NULL DEFAULT 0 CHECK (live IN (0, 1))
    ) STRICT;
    CREATE INDEX chat_sessions_by_workspace ON chat_sessions (workspace_id, created_at_ms);
    CREATE TABLE chat_events (
        session_id  TEXT NOT NULL REFERENCES chat_sessions (id),
        seq         INTEGER NOT NULL,
        host_seq    INTEGER,
        at_ms       INTEGER NOT NULL,
        body        TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
    ) STRICT;
    CREATE UNIQUE INDEX chat_events_by_host_seq ON chat_events (session_id, host_seq)
        WHERE host_seq IS NOT NULL;
    CREATE TABLE chat_cursors (
        workspace_id  TEXT PRIMARY KEY NOT NULL,
        host_seq      INTEGER NOT NULL
    ) STRICT;
    CREATE VIRTUAL TABLE chat_search USING fts5 (text, session_id UNINDEXED, seq UNINDEXED);
    "#,
];

/// The schema version this build writes.
pub const LATEST_SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_only_add() {
        let forbidden = ["DROP ", "DELETE ", "RENAME ", "UPDATE ", "REPLACE "];
        for (index, sql) in MIGRATIONS.iter().enumerate() {
            let upper = sql.to_uppercase();
            for word in forbidden {
                assert!(
                    !upper.contains(word),
                    "migration {} contains `{word}`: migrations must be additive",
                    index + 1
                );
            }
        }
    }

    #[test]
    fn every_migration_applies_on_top_of_the_previous_ones() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for sql in MIGRATIONS {
            conn.execute_batch(sql).unwrap();
        }
    }
}

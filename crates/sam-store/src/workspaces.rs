//! The workspace registry. The workspaces feature creates rows; the shell lists them.

use serde::Serialize;

use crate::{Store, StoreError};

/// Where a workspace runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceKind {
    /// A folder on this computer (the default).
    Local,
    /// A VM on the user's cloud.
    Remote,
}

/// One row of the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSummary {
    pub id: String,
    pub name: String,
    pub kind: WorkspaceKind,
    pub state: String,
}

impl Store {
    /// All workspaces, newest first.
    pub fn workspaces(&self) -> Result<Vec<WorkspaceSummary>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare("SELECT id, name, kind, state FROM workspaces ORDER BY created_at DESC, id")?;
        let rows = stmt.query_map([], |row| {
            let kind: String = row.get(2)?;
            Ok(WorkspaceSummary {
                id: row.get(0)?,
                name: row.get(1)?,
                // The CHECK constraint admits only these two values.
                kind: if kind == "remote" {
                    WorkspaceKind::Remote
                } else {
                    WorkspaceKind::Local
                },
                state: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

/// A workspace record with everything provisioning needs. `spec` and `server` are JSON owned
/// by `sam-workspace`; the store keeps them opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRow {
    pub id: String,
    pub name: String,
    pub kind: WorkspaceKind,
    /// `local`, `hetzner` or `scaleway`.
    pub provider: String,
    pub state: String,
    pub spec: String,
    pub server: Option<String>,
    pub host_key: Option<String>,
    pub failure: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One provisioning step's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    pub step: String,
    /// `running`, `done` or `failed`.
    pub state: String,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub detail: Option<String>,
}

const ROW_COLUMNS: &str =
    "id, name, kind, provider, state, spec, server, host_key, failure, created_at, updated_at";

fn workspace_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<WorkspaceRow> {
    let kind: String = row.get(2)?;
    Ok(WorkspaceRow {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: if kind == "remote" {
            WorkspaceKind::Remote
        } else {
            WorkspaceKind::Local
        },
        provider: row.get(3)?,
        state: row.get(4)?,
        spec: row.get(5)?,
        server: row.get(6)?,
        host_key: row.get(7)?,
        failure: row.get(8)?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
    })
}

impl Store {
    /// Claims a new workspace record. Fails if the id is taken.
    pub fn insert_workspace(&self, row: &WorkspaceRow) -> Result<(), StoreError> {
        let kind = match row.kind {
            WorkspaceKind::Local => "local",
            WorkspaceKind::Remote => "remote",
        };
        self.conn()?.execute(
            "INSERT INTO workspaces (id, name, kind, provider, state, spec, server, host_key, failure, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            rusqlite::params![
                row.id,
                row.name,
                kind,
                row.provider,
                row.state,
                row.spec,
                row.server,
                row.host_key,
                row.failure,
                row.created_at,
                row.updated_at
            ],
        )?;
        Ok(())
    }

    /// One workspace by id or name.
    pub fn workspace(&self, id_or_name: &str) -> Result<Option<WorkspaceRow>, StoreError> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM workspaces WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 DESC LIMIT 1"
        );
        match conn.query_row(&sql, [id_or_name], workspace_row) {
            Ok(row) => Ok(Some(row)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    /// Every workspace record, newest first.
    pub fn workspace_rows(&self) -> Result<Vec<WorkspaceRow>, StoreError> {
        let conn = self.conn()?;
        let sql = format!("SELECT {ROW_COLUMNS} FROM workspaces ORDER BY created_at DESC, id");
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([], workspace_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Moves a workspace to `state`, with a failure reason or none.
    pub fn set_workspace_state(
        &self,
        id: &str,
        state: &str,
        failure: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE workspaces SET state = ?2, failure = ?3, updated_at = ?4 WHERE id = ?1",
            rusqlite::params![id, state, failure, now],
        )?;
        Ok(())
    }

    /// Records the server (JSON) the moment its id is known, or clears it once deleted.
    pub fn set_workspace_server(
        &self,
        id: &str,
        server: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE workspaces SET server = ?2, updated_at = ?3 WHERE id = ?1",
            rusqlite::params![id, server, now],
        )?;
        Ok(())
    }

    /// Records the SSH host public key the workspace's server must present.
    pub fn set_workspace_host_key(&self, id: &str, key: &str, now: i64) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE workspaces SET host_key = ?2, updated_at = ?3 WHERE id = ?1",
            rusqlite::params![id, key, now],
        )?;
        Ok(())
    }

    /// Records a sign of life: desktop contact or agent activity.
    pub fn touch_workspace(&self, id: &str, at: i64) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE workspaces SET last_activity_at = max(coalesce(last_activity_at, 0), ?2) WHERE id = ?1",
            rusqlite::params![id, at],
        )?;
        Ok(())
    }

    /// The last sign of life, if any was recorded.
    pub fn workspace_activity(&self, id: &str) -> Result<Option<i64>, StoreError> {
        let conn = self.conn()?;
        match conn.query_row(
            "SELECT last_activity_at FROM workspaces WHERE id = ?1",
            [id],
            |row| row.get::<_, Option<i64>>(0),
        ) {
            Ok(at) => Ok(at),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    /// Marks a step as running (again, after a resume).
    pub fn step_started(&self, id: &str, step: &str, at_ms: i64) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO workspace_steps (workspace_id, step, state, started_at_ms)
             VALUES (?1, ?2, 'running', ?3)
             ON CONFLICT (workspace_id, step) DO UPDATE
               SET state = 'running', started_at_ms = excluded.started_at_ms,
                   finished_at_ms = NULL, detail = NULL",
            rusqlite::params![id, step, at_ms],
        )?;
        Ok(())
    }

    /// Marks a step as finished, well or not.
    pub fn step_finished(
        &self,
        id: &str,
        step: &str,
        ok: bool,
        at_ms: i64,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE workspace_steps SET state = ?3, finished_at_ms = ?4, detail = ?5
             WHERE workspace_id = ?1 AND step = ?2",
            rusqlite::params![id, step, if ok { "done" } else { "failed" }, at_ms, detail],
        )?;
        Ok(())
    }

    /// A workspace's steps, in the order they started.
    pub fn steps(&self, id: &str) -> Result<Vec<StepRow>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT step, state, started_at_ms, finished_at_ms, detail FROM workspace_steps
             WHERE workspace_id = ?1 ORDER BY started_at_ms, rowid",
        )?;
        let rows = stmt.query_map([id], |row| {
            Ok(StepRow {
                step: row.get(0)?,
                state: row.get(1)?,
                started_at_ms: row.get(2)?,
                finished_at_ms: row.get(3)?,
                detail: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

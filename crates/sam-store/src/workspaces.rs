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

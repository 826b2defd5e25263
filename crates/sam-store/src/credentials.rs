//! Credential metadata rows. Never a secret: the vault keeps those in the OS keyring and stores
//! only a masked form (`••••1a2b`) here.

use crate::{Store, StoreError};

/// One row of the `credentials` table, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    pub id: String,
    /// The kind's stable snake_case name.
    pub kind: String,
    pub label: String,
    /// `None` for a global credential.
    pub project: Option<String>,
    pub active: bool,
    /// Non-secret fields (a JSON object), e.g. a Scaleway project id or an endpoint URL.
    pub public_fields: String,
    pub masked: String,
    pub created_at: i64,
    pub last_checked_at: Option<i64>,
    pub last_check: String,
    pub last_message: Option<String>,
    /// When the secret was last rotated (unix seconds), if ever.
    pub rotated_at: Option<i64>,
}

const COLUMNS: &str = "id, kind, label, project, active, public_fields, masked, created_at, last_checked_at, last_check, last_message, rotated_at";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CredentialRow> {
    Ok(CredentialRow {
        id: row.get(0)?,
        kind: row.get(1)?,
        label: row.get(2)?,
        project: row.get(3)?,
        active: row.get::<_, i64>(4)? != 0,
        public_fields: row.get(5)?,
        masked: row.get(6)?,
        created_at: row.get(7)?,
        last_checked_at: row.get(8)?,
        last_check: row.get(9)?,
        last_message: row.get(10)?,
        rotated_at: row.get(11)?,
    })
}

/// Whether a write hit the unique label constraint.
fn is_duplicate_label(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, Some(msg))
        if e.code == rusqlite::ErrorCode::ConstraintViolation && msg.contains("credentials.label"))
}

impl Store {
    /// Inserts a new credential row. `Ok(false)` when the label is taken.
    pub fn insert_credential(&self, row: &CredentialRow) -> Result<bool, StoreError> {
        let conn = self.conn()?;
        let inserted = conn.execute(
            &format!("INSERT INTO credentials ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
            rusqlite::params![
                row.id,
                row.kind,
                row.label,
                row.project,
                i64::from(row.active),
                row.public_fields,
                row.masked,
                row.created_at,
                row.last_checked_at,
                row.last_check,
                row.last_message,
                row.rotated_at,
            ],
        );
        match inserted {
            Ok(_) => Ok(true),
            Err(e) if is_duplicate_label(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// All credentials, grouped by kind, oldest first within a kind.
    pub fn credentials(&self) -> Result<Vec<CredentialRow>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM credentials ORDER BY kind, created_at, label"
        ))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The credential with this id, or with this label (case-insensitive).
    pub fn credential(&self, id_or_label: &str) -> Result<Option<CredentialRow>, StoreError> {
        let conn = self.conn()?;
        let found = conn.query_row(
            &format!("SELECT {COLUMNS} FROM credentials WHERE id = ?1 OR label = ?1 ORDER BY id = ?1 DESC LIMIT 1"),
            [id_or_label],
            from_row,
        );
        match found {
            Ok(row) => Ok(Some(row)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Renames; `Ok(false)` when the new label is taken.
    pub fn rename_credential(&self, id: &str, label: &str) -> Result<bool, StoreError> {
        let conn = self.conn()?;
        match conn.execute(
            "UPDATE credentials SET label = ?2 WHERE id = ?1",
            [id, label],
        ) {
            Ok(_) => Ok(true),
            Err(e) if is_duplicate_label(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub fn set_credential_active(&self, id: &str, active: bool) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.execute(
            "UPDATE credentials SET active = ?2 WHERE id = ?1",
            rusqlite::params![id, i64::from(active)],
        )?;
        Ok(())
    }

    /// Records the outcome of a validation call.
    pub fn record_credential_check(
        &self,
        id: &str,
        checked_at: i64,
        state: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.execute(
            "UPDATE credentials SET last_checked_at = ?2, last_check = ?3, last_message = ?4 WHERE id = ?1",
            rusqlite::params![id, checked_at, state, message],
        )?;
        Ok(())
    }

    /// Records that the secret was rotated now, with the new secret's mask.
    pub fn record_credential_rotation(
        &self,
        id: &str,
        rotated_at: i64,
        masked: &str,
    ) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.execute(
            "UPDATE credentials SET rotated_at = ?2, masked = ?3 WHERE id = ?1",
            rusqlite::params![id, rotated_at, masked],
        )?;
        Ok(())
    }

    pub fn delete_credential(&self, id: &str) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.execute("DELETE FROM credentials WHERE id = ?1", [id])?;
        Ok(())
    }
}

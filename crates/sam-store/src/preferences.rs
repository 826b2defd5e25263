//! Preferences, stored as rows of the `settings` table.

use sam_core::{Preferences, ThemePreference};

use crate::{Store, StoreError};

const THEME_KEY: &str = "theme";
const FLUID_KEY: &str = "fluid_background";

/// One row of `settings`, on a connection the caller holds.
fn read_setting(conn: &rusqlite::Connection, key: &str) -> Result<Option<String>, rusqlite::Error> {
    conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
        row.get(0)
    })
    .map(Some)
    .or_else(|e| match e {
        rusqlite::Error::QueryReturnedNoRows => Ok(None),
        other => Err(other),
    })
}

impl Store {
    /// The saved preferences; defaults for anything not saved or not understood.
    pub fn preferences(&self) -> Result<Preferences, StoreError> {
        let conn = self.conn()?;
        let stored = read_setting(&conn, THEME_KEY)?;
        let theme = match stored.as_deref() {
            None => ThemePreference::default(),
            Some(value) => ThemePreference::parse(value).unwrap_or_else(|| {
                tracing::warn!(value, "unknown theme in the database; using the default");
                ThemePreference::default()
            }),
        };
        let fluid_background = read_setting(&conn, FLUID_KEY)?.as_deref() != Some("off");
        Ok(Preferences {
            theme,
            fluid_background,
        })
    }

    /// Saves all preferences at once.
    pub fn set_preferences(&self, preferences: &Preferences) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, unixepoch())
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            [THEME_KEY, preferences.theme.as_str()],
        )?;
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, unixepoch())
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            [
                FLUID_KEY,
                if preferences.fluid_background {
                    "on"
                } else {
                    "off"
                },
            ],
        )?;
        Ok(())
    }
}

impl Store {
    /// A raw setting (non-secret), or `None` when unset.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let conn = self.conn()?;
        conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other.into()),
        })
    }

    /// Sets a raw setting (non-secret).
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, unixepoch())
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            [key, value],
        )?;
        Ok(())
    }

    /// This install's id: 16 random hex characters, made on first use and kept for good. Every
    /// cloud server SAM creates is labelled with it, so two installs sharing one cloud project
    /// never touch each other's servers. SQLite's `randomblob` is a CSPRNG, and the insert is
    /// atomic, so two processes starting together agree on one id.
    pub fn install_id(&self) -> Result<String, StoreError> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT OR IGNORE INTO settings (key, value, updated_at)
             VALUES ('install.id', lower(hex(randomblob(8))), unixepoch())",
            [],
        )?;
        Ok(conn.query_row(
            "SELECT value FROM settings WHERE key = 'install.id'",
            [],
            |row| row.get(0),
        )?)
    }
}

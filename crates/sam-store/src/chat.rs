//! Agent chat history: sessions, their events (as the workspace host journaled them), how far
//! each workspace's host journal has been read, and full-text search.
//!
//! Event bodies are JSON owned by `sam-chat`; the store keeps them opaque, apart from the
//! few fields its queries read with `json_extract`.

use rusqlite::{OptionalExtension, params};

use crate::{Store, StoreError};

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSessionRow {
    pub id: String,
    pub workspace_id: String,
    pub workspace_name: String,
    pub agent: String,
    /// The command of a custom agent (JSON argv).
    pub agent_command: Option<String>,
    pub title: String,
    /// `starting`, `idle`, `working`, `waiting`, `ended` or `failed`.
    pub state: String,
    pub created_at_ms: i64,
    pub forked_from: Option<String>,
    pub forked_at_seq: Option<i64>,
    /// Whether an agent session for it was started on the host (and not known to be gone).
    pub live: bool,
    /// The last event's number (0 when none).
    pub last_seq: i64,
}

/// A new session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChatSession {
    pub id: String,
    pub workspace_id: String,
    pub workspace_name: String,
    pub agent: String,
    /// The command of a custom agent (JSON argv).
    pub agent_command: Option<String>,
    pub title: String,
    pub created_at_ms: i64,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEventRow {
    /// Numbered per session from 1, gap-free.
    pub seq: i64,
    pub at_ms: i64,
    /// The event, JSON.
    pub body: String,
}

/// One host journal event to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestItem {
    pub session_id: String,
    pub host_seq: i64,
    pub at_ms: i64,
    pub body: String,
    /// The session's state after this event, when it changes it (`ended` and `failed` are
    /// final).
    pub state: Option<String>,
    /// A title for the session, when it has none yet (its first prompt) or the agent set one.
    pub title: Option<String>,
    /// Whether the title replaces one already set.
    pub title_overrides: bool,
    /// Text to index for search (a prompt).
    pub search_text: Option<String>,
    /// This event ends a turn: index the agent's reply of that turn.
    pub ends_turn: bool,
    /// The session's agent is gone on the host (exited or failed to start).
    pub ends_live: bool,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSearchHit {
    pub session_id: String,
    pub session_title: String,
    pub seq: i64,
    pub snippet: String,
}

const SESSION_COLUMNS: &str = "s.id, s.workspace_id, s.workspace_name, s.agent, s.agent_command,
    s.title, s.state,
    s.created_at_ms, s.forked_from, s.forked_at_seq, s.live,
    COALESCE((SELECT MAX(seq) FROM chat_events e WHERE e.session_id = s.id), 0)";

fn session_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ChatSessionRow> {
    Ok(ChatSessionRow {
        id: row.get(0)?,
        workspace_id: row.get(1)?,
        workspace_name: row.get(2)?,
        agent: row.get(3)?,
        agent_command: row.get(4)?,
        title: row.get(5)?,
        state: row.get(6)?,
        created_at_ms: row.get(7)?,
        forked_from: row.get(8)?,
        forked_at_seq: row.get(9)?,
        live: row.get(10)?,
        last_seq: row.get(11)?,
    })
}

impl Store {
    /// Records a new session (state `starting`).
    pub fn create_chat_session(&self, new: &NewChatSession) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO chat_sessions (id, workspace_id, workspace_name, agent, agent_command,
                 title, state, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'starting', ?7)",
            params![
                new.id,
                new.workspace_id,
                new.workspace_name,
                new.agent,
                new.agent_command,
                new.title,
                new.created_at_ms
            ],
        )?;
        Ok(())
    }

    /// One session.
    pub fn chat_session(&self, id: &str) -> Result<Option<ChatSessionRow>, StoreError> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM chat_sessions s WHERE s.id = ?1"),
                [id],
                session_row,
            )
            .optional()?)
    }

    /// Sessions, newest first: of one workspace, or all.
    pub fn chat_sessions(
        &self,
        workspace_id: Option<&str>,
    ) -> Result<Vec<ChatSessionRow>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {SESSION_COLUMNS} FROM chat_sessions s
             WHERE ?1 IS NULL OR s.workspace_id = ?1
             ORDER BY s.created_at_ms DESC, s.id"
        ))?;
        let rows = stmt.query_map([workspace_id], session_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Sets a session's state (and whether its agent lives on the host).
    pub fn set_chat_session_state(
        &self,
        id: &str,
        state: &str,
        live: bool,
    ) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE chat_sessions SET state = ?2, live = ?3 WHERE id = ?1",
            params![id, state, live],
        )?;
        Ok(())
    }

    /// The permission events (`permission_requested`, `permission_resolved`) of every session
    /// that may still have a request open (live, or waiting), as `(session, event)` in
    /// session and event order: what the "needs you" queue is rebuilt from at start-up.
    pub fn chat_permission_events(&self) -> Result<Vec<(String, ChatEventRow)>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT e.session_id, e.seq, e.at_ms, e.body
             FROM chat_sessions s JOIN chat_events e ON e.session_id = s.id
             WHERE (s.live = 1 OR s.state = 'waiting')
               AND json_extract(e.body, '$.kind') IN ('permission_requested', 'permission_resolved')
             ORDER BY e.session_id, e.seq",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get(0)?,
                ChatEventRow {
                    seq: row.get(1)?,
                    at_ms: row.get(2)?,
                    body: row.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Up to `limit` events of `session` after `after`, in order.
    pub fn chat_events(
        &self,
        session: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ChatEventRow>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT seq, at_ms, body FROM chat_events
             WHERE session_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![session, after, limit], |row| {
            Ok(ChatEventRow {
                seq: row.get(0)?,
                at_ms: row.get(1)?,
                body: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// How far the host journal of `workspace_id` has been stored (0: nothing yet).
    pub fn chat_cursor(&self, workspace_id: &str) -> Result<i64, StoreError> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT host_seq FROM chat_cursors WHERE workspace_id = ?1",
                [workspace_id],
                |row| row.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Stores host events of `workspace_id` in order and moves its cursor to `cursor`, in one
    /// transaction. An event already stored (same session and host sequence number) is
    /// skipped, and so is one of a session this database does not know. Returns the stored
    /// events with their session and per-session numbers.
    pub fn ingest_chat_events(
        &self,
        workspace_id: &str,
        items: &[IngestItem],
        cursor: i64,
    ) -> Result<Vec<(String, ChatEventRow)>, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut stored = Vec::with_capacity(items.len());
        {
            let mut known = tx.prepare_cached("SELECT 1 FROM chat_sessions WHERE id = ?1")?;
            let mut next = tx.prepare_cached(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM chat_events WHERE session_id = ?1",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO chat_events (session_id, seq, host_seq, at_ms, body)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO NOTHING",
            )?;
            for item in items {
                if known
                    .query_row([&item.session_id], |_| Ok(()))
                    .optional()?
                    .is_none()
                {
                    continue;
                }
                let seq: i64 = next.query_row([&item.session_id], |row| row.get(0))?;
                let added = insert.execute(params![
                    item.session_id,
                    seq,
                    item.host_seq,
                    item.at_ms,
                    item.body
                ])?;
                if added == 0 {
                    continue;
                }
                if let Some(state) = &item.state {
                    tx.execute(
                        // An ended or failed session stays so: a turn that ends after its
                        // agent exited does not make it idle again.
                        "UPDATE chat_sessions SET
                             state = CASE WHEN state IN ('ended', 'failed') THEN state ELSE ?2 END,
                             live = CASE WHEN ?3 THEN 0 ELSE live END
                         WHERE id = ?1",
                        params![item.session_id, state, item.ends_live],
                    )?;
                }
                if let Some(title) = &item.title {
                    tx.execute(
                        "UPDATE chat_sessions SET title = ?2 WHERE id = ?1 AND (?3 OR title = '')",
                        params![item.session_id, title, item.title_overrides],
                    )?;
                }
                if let Some(text) = &item.search_text {
                    tx.execute(
                        "INSERT INTO chat_search (text, session_id, seq) VALUES (?1, ?2, ?3)",
                        params![text, item.session_id, seq],
                    )?;
                }
                if item.ends_turn {
                    index_turn_reply(&tx, &item.session_id, seq)?;
                }
                stored.push((
                    item.session_id.clone(),
                    ChatEventRow {
                        seq,
                        at_ms: item.at_ms,
                        body: item.body.clone(),
                    },
                ));
            }
        }
        tx.execute(
            "INSERT INTO chat_cursors (workspace_id, host_seq) VALUES (?1, ?2)
             ON CONFLICT (workspace_id) DO UPDATE SET host_seq = MAX(host_seq, excluded.host_seq)",
            params![workspace_id, cursor],
        )?;
        tx.commit()?;
        Ok(stored)
    }

    /// Appends an event the desktop itself records (no host sequence number) to `session_id`,
    /// numbered after its last event; `None` when the session is unknown.
    pub fn append_chat_event(
        &self,
        session_id: &str,
        at_ms: i64,
        body: &str,
    ) -> Result<Option<ChatEventRow>, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let known = tx
            .query_row(
                "SELECT 1 FROM chat_sessions WHERE id = ?1",
                [session_id],
                |_| Ok(()),
            )
            .optional()?;
        if known.is_none() {
            return Ok(None);
        }
        let seq: i64 = tx.query_row(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM chat_events WHERE session_id = ?1",
            [session_id],
            |row| row.get(0),
        )?;
        tx.execute(
            "INSERT INTO chat_events (session_id, seq, host_seq, at_ms, body)
             VALUES (?1, ?2, NULL, ?3, ?4)",
            params![session_id, seq, at_ms, body],
        )?;
        tx.commit()?;
        Ok(Some(ChatEventRow {
            seq,
            at_ms,
            body: body.to_owned(),
        }))
    }

    /// Starts the cursor of `workspace_id` again from 0 (its host journal was replaced).
    pub fn reset_chat_cursor(&self, workspace_id: &str) -> Result<(), StoreError> {
        self.conn()?.execute(
            "UPDATE chat_cursors SET host_seq = 0 WHERE workspace_id = ?1",
            [workspace_id],
        )?;
        Ok(())
    }

    /// Creates `new` as a fork of `from` holding a copy of its events up to `at_seq`; the
    /// fork has no agent yet (state `idle`, not live).
    pub fn fork_chat_session(
        &self,
        from: &str,
        at_seq: i64,
        new: &NewChatSession,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO chat_sessions (id, workspace_id, workspace_name, agent, agent_command,
                 title, state, created_at_ms, forked_from, forked_at_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'idle', ?7, ?8, ?9)",
            params![
                new.id,
                new.workspace_id,
                new.workspace_name,
                new.agent,
                new.agent_command,
                new.title,
                new.created_at_ms,
                from,
                at_seq
            ],
        )?;
        tx.execute(
            "INSERT INTO chat_events (session_id, seq, host_seq, at_ms, body)
             SELECT ?1, seq, NULL, at_ms, body FROM chat_events
             WHERE session_id = ?2 AND seq <= ?3",
            params![new.id, from, at_seq],
        )?;
        tx.execute(
            "INSERT INTO chat_search (text, session_id, seq)
             SELECT text, ?1, seq FROM chat_search WHERE session_id = ?2 AND seq <= ?3",
            params![new.id, from, at_seq],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Sessions whose prompts or replies match every word of `query`, best first.
    pub fn search_chat(&self, query: &str, limit: i64) -> Result<Vec<ChatSearchHit>, StoreError> {
        // Each word becomes a quoted FTS5 string, so user input is never FTS5 syntax.
        let terms: Vec<String> = query
            .split_whitespace()
            .take(16)
            .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
            .collect();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT f.session_id, COALESCE(s.title, ''), f.seq,
                    snippet(chat_search, 0, '[', ']', '…', 12)
             FROM chat_search f LEFT JOIN chat_sessions s ON s.id = f.session_id
             WHERE chat_search MATCH ?1 ORDER BY rank LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![terms.join(" "), limit], |row| {
            Ok(ChatSearchHit {
                session_id: row.get(0)?,
                session_title: row.get(1)?,
                seq: row.get(2)?,
                snippet: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

/// Indexes the agent's reply of the turn that `end_seq` ends: every `agent_message_chunk`
/// since the turn's prompt, joined.
fn index_turn_reply(
    tx: &rusqlite::Transaction<'_>,
    session: &str,
    end_seq: i64,
) -> Result<(), StoreError> {
    let start: i64 = tx.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM chat_events
         WHERE session_id = ?1 AND seq < ?2 AND json_extract(body, '$.kind') = 'prompt_sent'",
        params![session, end_seq],
        |row| row.get(0),
    )?;
    let reply: Option<(String, i64)> = tx
        .query_row(
            "SELECT group_concat(text, ''), MIN(seq) FROM (
                 SELECT json_extract(body, '$.update.content.text') AS text, seq
                 FROM chat_events
                 WHERE session_id = ?1 AND seq > ?2 AND seq < ?3
                   AND json_extract(body, '$.kind') = 'update'
                   AND json_extract(body, '$.update.sessionUpdate') = 'agent_message_chunk'
                 ORDER BY seq)",
            params![session, start, end_seq],
            |row| {
                Ok((
                    row.get::<_, Option<String>>(0)?,
                    row.get::<_, Option<i64>>(1)?,
                ))
            },
        )
        .map(|(text, seq)| text.zip(seq))?;
    if let Some((text, seq)) = reply {
        tx.execute(
            "INSERT INTO chat_search (text, session_id, seq) VALUES (?1, ?2, ?3)",
            params![text, session, seq],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("sam.sqlite")).unwrap();
        (dir, store)
    }

    fn new(id: &str) -> NewChatSession {
        NewChatSession {
            id: id.into(),
            workspace_id: "ws".into(),
            workspace_name: "demo".into(),
            agent: "claude".into(),
            agent_command: None,
            title: String::new(),
            created_at_ms: 1,
        }
    }

    fn item(session: &str, host_seq: i64, body: &str) -> IngestItem {
        IngestItem {
            session_id: session.into(),
            host_seq,
            at_ms: host_seq,
            body: body.into(),
            state: None,
            title: None,
            title_overrides: false,
            search_text: None,
            ends_turn: false,
            ends_live: false,
        }
    }

    fn chunk(text: &str) -> String {
        serde_json::json!({"kind": "update", "update": {"sessionUpdate": "agent_message_chunk",
            "content": {"type": "text", "text": text}}})
        .to_string()
    }

    #[test]
    fn ingesting_is_idempotent_numbers_per_session_and_moves_the_cursor() {
        let (_dir, store) = store();
        store.create_chat_session(&new("a")).unwrap();
        store.create_chat_session(&new("b")).unwrap();
        let batch = vec![
            item("a", 10, &chunk("one")),
            item("b", 11, &chunk("uno")),
            item("unknown", 12, &chunk("dropped")),
            item("a", 13, &chunk("two")),
        ];
        let stored = store.ingest_chat_events("ws", &batch, 13).unwrap();
        let numbered: Vec<(String, i64)> = stored.iter().map(|(s, e)| (s.clone(), e.seq)).collect();
        assert_eq!(
            numbered,
            [("a".into(), 1), ("b".into(), 1), ("a".into(), 2)]
        );
        // The same host events again (a replay after a reconnect): nothing new.
        assert!(
            store
                .ingest_chat_events("ws", &batch, 13)
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.chat_cursor("ws").unwrap(), 13);
        // The cursor never goes back.
        store.ingest_chat_events("ws", &[], 5).unwrap();
        assert_eq!(store.chat_cursor("ws").unwrap(), 13);
        let events = store.chat_events("a", 0, 10).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(store.chat_session("a").unwrap().unwrap().last_seq, 2);
    }

    #[test]
    fn desktop_events_are_numbered_between_host_events_and_never_clash_with_them() {
        let (_dir, store) = store();
        store.create_chat_session(&new("s1")).unwrap();
        store
            .ingest_chat_events("ws", &[item("s1", 1, &chunk("a"))], 1)
            .unwrap();
        let local = store
            .append_chat_event("s1", 5, r#"{"kind":"shipped"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(local.seq, 2);
        // The next host event comes after it; the cursor did not move for the local one.
        assert_eq!(store.chat_cursor("ws").unwrap(), 1);
        let stored = store
            .ingest_chat_events("ws", &[item("s1", 2, &chunk("b"))], 2)
            .unwrap();
        assert_eq!(stored[0].1.seq, 3);
        let bodies: Vec<String> = store
            .chat_events("s1", 0, 10)
            .unwrap()
            .into_iter()
            .map(|e| e.body)
            .collect();
        assert_eq!(bodies[1], r#"{"kind":"shipped"}"#);
        assert_eq!(bodies.len(), 3);
        // An unknown session gets nothing.
        assert!(store.append_chat_event("nope", 1, "{}").unwrap().is_none());
    }

    #[test]
    fn titles_states_search_and_forks() {
        let (_dir, store) = store();
        store.create_chat_session(&new("a")).unwrap();
        let prompt = serde_json::json!({"kind": "prompt_sent", "prompt": 1,
            "text": "Fix the upload handler"})
        .to_string();
        let mut first = item("a", 1, &prompt);
        first.state = Some("working".into());
        first.title = Some("Fix the upload handler".into());
        first.search_text = Some("Fix the upload handler".into());
        let mut end = item(
            "a",
            4,
            r#"{"kind":"turn_ended","prompt":1,"stop_reason":"end_turn","error":null}"#,
        );
        end.state = Some("idle".into());
        end.ends_turn = true;
        let batch = vec![
            first,
            item("a", 2, &chunk("I changed the multipart ")),
            item("a", 3, &chunk("parser in upload.rs")),
            end,
        ];
        store.ingest_chat_events("ws", &batch, 4).unwrap();
        let session = store.chat_session("a").unwrap().unwrap();
        assert_eq!(session.title, "Fix the upload handler");
        assert_eq!(session.state, "idle");

        let hits = store.search_chat("multipart parser", 10).unwrap();
        assert_eq!(hits.len(), 1, "the reply is indexed whole, across chunks");
        assert_eq!(hits[0].seq, 2);
        assert!(
            hits[0].snippet.contains("[multipart]"),
            "{}",
            hits[0].snippet
        );
        assert_eq!(store.search_chat("upload", 10).unwrap().len(), 2);
        // FTS5 syntax in user input is just text.
        assert!(store.search_chat("\"NEAR( OR * ^", 10).unwrap().is_empty());
        assert!(store.search_chat("   ", 10).unwrap().is_empty());

        let mut fork = new("f");
        fork.title = "Fix the upload handler (fork)".into();
        store.fork_chat_session("a", 2, &fork).unwrap();
        let forked = store.chat_session("f").unwrap().unwrap();
        assert_eq!(forked.forked_from.as_deref(), Some("a"));
        assert_eq!(forked.forked_at_seq, Some(2));
        assert_eq!(forked.last_seq, 2);
        assert!(!forked.live);
        assert_eq!(store.search_chat("handler", 10).unwrap().len(), 2);
    }
}

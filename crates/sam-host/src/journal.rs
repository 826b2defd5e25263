//! The journal: every event the host emits, seq-numbered, in SQLite (WAL), plus the last setup
//! record. Events are appended (committed) before anyone sees them, so a subscriber can always
//! replay what it missed.

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use sam_protocol::{DevContainer, Event, EventBody, RepoSource};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, oneshot};

/// The schema this build writes. Additive migrations only.
const SCHEMA_VERSION: i64 = 1;

/// How many live events a slow subscriber may fall behind before it catches up from the
/// journal instead (it never loses one either way).
const LIVE_BUFFER: usize = 1024;

/// Why the journal failed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// SQLite failed.
    #[error("the journal database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The journal file could not be created.
    #[error("the journal file could not be created: {0}")]
    File(#[from] std::io::Error),
    /// A stored record does not parse.
    #[error("the journal holds an unreadable record: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The file was written by a newer sam-host.
    #[error(
        "the journal was written by a newer sam-host (schema {0}, this one knows {SCHEMA_VERSION}); \
         run the newer sam-host or move the state directory aside"
    )]
    Newer(i64),
    /// The blocking task running the query died.
    #[error("the journal task failed: {0}")]
    Task(String),
}

/// Where the last setup stands, as persisted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SetupPhase {
    /// A setup started and has not ended (if found at start-up, it was interrupted).
    SettingUp,
    /// The setup succeeded; `root` is served.
    Ready,
    /// The setup failed with `reason`.
    Failed,
}

/// The persisted setup: the plan without its token, and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SetupRecord {
    pub phase: SetupPhase,
    pub workspace_id: String,
    pub repository: RepoSource,
    pub checkout_dir: String,
    /// The canonical checkout root, when ready.
    pub root: Option<String>,
    /// Why the setup failed, when failed.
    pub reason: Option<String>,
    /// The dev container, when ready with one. Absent in records written before dev
    /// containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<DevContainer>,
    /// The commit the checkout was on when the setup finished: the default base of
    /// `Changes`. Absent for a folder without commits, and in records written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_commit: Option<String>,
}

/// The working-tree snapshots of one agent turn (git tree ids), as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TurnSnapshots {
    /// The checkout root the snapshots were taken of.
    pub root: String,
    /// When the prompt was sent; `None` when that snapshot failed.
    pub start_tree: Option<String>,
    /// When the turn ended; `None` while it runs or when that snapshot failed.
    pub end_tree: Option<String>,
}

/// The SQLite file. Blocking: async code goes through [`EventLog`].
#[derive(Debug)]
pub(crate) struct Journal {
    conn: Connection,
}

impl Journal {
    /// Opens (creating or migrating) the journal at `path`.
    pub(crate) fn open(path: &Path) -> Result<Self, JournalError> {
        // Create the file private first: SQLite gives its -wal and -shm files the same mode.
        std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // `journal_mode` answers with a row, so it is a query, not an execute.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        // FULL: a committed event survives a power cut too, not only a crash of this process.
        conn.pragma_update(None, "synchronous", "FULL")?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(JournalError::Newer(version));
        }
        if version < 1 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS events (
                     -- AUTOINCREMENT: a sequence number is never handed out twice, even if
                     -- rows were ever deleted.
                     seq INTEGER PRIMARY KEY AUTOINCREMENT,
                     at_ms INTEGER NOT NULL,
                     body TEXT NOT NULL
                 );
                 CREATE TABLE IF NOT EXISTS setup (
                     id INTEGER PRIMARY KEY CHECK (id = 1),
                     record TEXT NOT NULL
                 );
                 PRAGMA user_version = 1;
                 COMMIT;",
            )?;
        }
        // Additive, and older builds ignore it: no schema version of its own.
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS turn_snapshots (
                 session TEXT NOT NULL,
                 prompt INTEGER NOT NULL,
                 root TEXT NOT NULL,
                 start_tree TEXT,
                 end_tree TEXT,
                 PRIMARY KEY (session, prompt)
             );
             -- How to start the agent of a session that can resume after a restart (its
             -- launch without the environment's values; see agents.rs). Additive like the
             -- snapshots.
             CREATE TABLE IF NOT EXISTS agent_resume (
                 session TEXT PRIMARY KEY,
                 record TEXT NOT NULL
             );",
        )?;
        Ok(Self { conn })
    }

    /// Appends `body` (and replaces the setup record, when given) in one transaction, and
    /// returns the event with its new sequence number.
    #[cfg(test)]
    pub(crate) fn append(
        &mut self,
        body: &EventBody,
        setup: Option<&SetupRecord>,
    ) -> Result<Event, JournalError> {
        let mut events = self.append_batch(&[(body, setup)])?;
        events
            .pop()
            .ok_or_else(|| JournalError::Task("an append returned no event".into()))
    }

    /// Appends every `(body, setup)` in one transaction (one fsync for the lot: group
    /// commit), and returns the events with their sequence numbers, in order.
    pub(crate) fn append_batch(
        &mut self,
        items: &[(&EventBody, Option<&SetupRecord>)],
    ) -> Result<Vec<Event>, JournalError> {
        let at_ms = now_ms();
        let tx = self.conn.transaction()?;
        let mut events = Vec::with_capacity(items.len());
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO events (at_ms, body) VALUES (?1, ?2)")?;
            for (body, setup) in items {
                let json = serde_json::to_string(body)?;
                insert.execute(params![i64::try_from(at_ms).unwrap_or(i64::MAX), json])?;
                let seq = tx.last_insert_rowid();
                if let Some(record) = setup {
                    tx.execute(
                        "INSERT INTO setup (id, record) VALUES (1, ?1)
                         ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                        params![serde_json::to_string(record)?],
                    )?;
                }
                events.push(Event {
                    seq: u64::try_from(seq).unwrap_or_default(),
                    at_ms,
                    event: (*body).clone(),
                });
            }
        }
        tx.commit()?;
        Ok(events)
    }

    /// Up to `limit` events with a sequence number above `after`, in order.
    pub(crate) fn after(&self, after: u64, limit: usize) -> Result<Vec<Event>, JournalError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT seq, at_ms, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = statement.query_map(
            params![
                i64::try_from(after).unwrap_or(i64::MAX),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                ))
            },
        )?;
        let mut events = Vec::new();
        for row in rows {
            let (seq, at_ms, body) = row?;
            events.push(Event {
                seq: u64::try_from(seq).unwrap_or_default(),
                at_ms: u64::try_from(at_ms).unwrap_or_default(),
                event: serde_json::from_str(&body)?,
            });
        }
        Ok(events)
    }

    /// The last sequence number handed out (0 when none).
    pub(crate) fn last_seq(&self) -> Result<u64, JournalError> {
        // `sqlite_sequence` remembers the high-water mark even if the last rows were deleted.
        let seq: Option<i64> = self
            .conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
                [],
                |row| row.get(0),
            )
            .optional()?;
        Ok(seq.and_then(|s| u64::try_from(s).ok()).unwrap_or(0))
    }

    /// The events of sessions whose agent never reported an end (started, neither exited nor
    /// failed): those a previous daemon was running when it stopped. In journal order.
    pub(crate) fn unfinished_sessions(&self) -> Result<Vec<Event>, JournalError> {
        let mut statement = self.conn.prepare(
            "WITH session_events AS (
                 SELECT seq, at_ms, body, json_extract(body, '$.session') AS session,
                        json_extract(body, '$.event.kind') AS kind
                 FROM events WHERE json_extract(body, '$.kind') = 'session'
             ),
             unfinished AS (
                 SELECT session FROM session_events WHERE kind = 'session_started'
                 EXCEPT
                 SELECT session FROM session_events WHERE kind IN ('agent_exited', 'agent_failed')
             )
             SELECT seq, at_ms, body FROM session_events
             WHERE session IN (SELECT session FROM unfinished) ORDER BY seq",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut events = Vec::new();
        for row in rows {
            let (seq, at_ms, body) = row?;
            events.push(Event {
                seq: u64::try_from(seq).unwrap_or_default(),
                at_ms: u64::try_from(at_ms).unwrap_or_default(),
                event: serde_json::from_str(&body)?,
            });
        }
        Ok(events)
    }

    /// Records the snapshot taken when a turn started (`start_tree`) or ended (`end_tree`);
    /// `None` where it failed.
    pub(crate) fn record_turn(
        &self,
        session: &str,
        prompt: u32,
        root: &str,
        tree: Option<&str>,
        end: bool,
    ) -> Result<(), JournalError> {
        if end {
            self.conn.execute(
                "INSERT INTO turn_snapshots (session, prompt, root, end_tree) \
                 VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (session, prompt) DO UPDATE SET end_tree = ?4, root = ?3",
                params![session, prompt, root, tree],
            )?;
        } else {
            self.conn.execute(
                "INSERT OR REPLACE INTO turn_snapshots (session, prompt, root, start_tree) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![session, prompt, root, tree],
            )?;
        }
        Ok(())
    }

    /// The snapshots of one turn, when any was recorded.
    pub(crate) fn turn(
        &self,
        session: &str,
        prompt: u32,
    ) -> Result<Option<TurnSnapshots>, JournalError> {
        Ok(self
            .conn
            .query_row(
                "SELECT root, start_tree, end_tree FROM turn_snapshots \
                 WHERE session = ?1 AND prompt = ?2",
                params![session, prompt],
                |row| {
                    Ok(TurnSnapshots {
                        root: row.get(0)?,
                        start_tree: row.get(1)?,
                        end_tree: row.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records (or replaces) how session `session`'s agent resumes after a restart.
    pub(crate) fn put_resume(&self, session: &str, record: &str) -> Result<(), JournalError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO agent_resume (session, record) VALUES (?1, ?2)",
            params![session, record],
        )?;
        Ok(())
    }

    /// Forgets how session `session` resumes (its agent ended for good).
    pub(crate) fn drop_resume(&self, session: &str) -> Result<(), JournalError> {
        self.conn.execute(
            "DELETE FROM agent_resume WHERE session = ?1",
            params![session],
        )?;
        Ok(())
    }

    /// Every resume record, as `(session, record)`.
    pub(crate) fn resume_records(&self) -> Result<Vec<(String, String)>, JournalError> {
        let mut statement = self
            .conn
            .prepare("SELECT session, record FROM agent_resume ORDER BY session")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The persisted setup, if any setup was ever started.
    pub(crate) fn setup(&self) -> Result<Option<SetupRecord>, JournalError> {
        let record: Option<String> = self
            .conn
            .query_row("SELECT record FROM setup WHERE id = 1", [], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(record.map(|r| serde_json::from_str(&r)).transpose()?)
    }
}

/// The most events one transaction of the writer commits.
const MAX_BATCH: usize = 4096;

/// How many appends may wait for the writer before `append` waits for room.
const WRITE_QUEUE: usize = 16 * 1024;

/// One append waiting for the writer.
struct PendingAppend {
    body: EventBody,
    setup: Option<SetupRecord>,
    done: Option<oneshot::Sender<Result<Event, String>>>,
}

/// The journal shared by the daemon's tasks, with live fan-out of appended events.
///
/// Appends go through one writer thread that commits whatever has queued up in one
/// transaction (group commit): a burst of agent updates costs one fsync, not one each, while
/// every event is still committed before anyone sees it. Appends from one task are journaled
/// in the order it made them.
#[derive(Debug, Clone)]
pub(crate) struct EventLog {
    journal: Arc<Mutex<Journal>>,
    live: broadcast::Sender<Event>,
    writes: mpsc::Sender<PendingAppend>,
}

impl std::fmt::Debug for PendingAppend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAppend")
            .field("kind", &self.body_kind())
            .finish_non_exhaustive()
    }
}

impl PendingAppend {
    fn body_kind(&self) -> &'static str {
        match &self.body {
            EventBody::Session { event, .. } => event.kind(),
            _ => "host",
        }
    }
}

impl EventLog {
    pub(crate) fn new(journal: Journal) -> Self {
        Self::with_live_buffer(journal, LIVE_BUFFER)
    }

    /// As [`EventLog::new`], with `capacity` live events buffered per subscriber.
    pub(crate) fn with_live_buffer(journal: Journal, capacity: usize) -> Self {
        let (live, _) = broadcast::channel(capacity);
        let journal = Arc::new(Mutex::new(journal));
        let (writes, queue) = mpsc::channel(WRITE_QUEUE);
        let writer_journal = Arc::clone(&journal);
        let writer_live = live.clone();
        // A plain thread: the writer blocks on SQLite and fsync, and ends when every
        // `EventLog` clone (every sender) is gone.
        let spawned = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || write_loop(&writer_journal, &writer_live, queue));
        if let Err(error) = spawned {
            // Appends then fail with "the journal writer stopped"; the daemon reports it.
            tracing::error!(%error, "the journal writer thread could not be started");
        }
        Self {
            journal,
            live,
            writes,
        }
    }

    /// Journals `body` (with `setup`, atomically), then broadcasts it, and returns it with its
    /// sequence number once committed.
    pub(crate) async fn append(
        &self,
        body: EventBody,
        setup: Option<SetupRecord>,
    ) -> Result<Event, JournalError> {
        let (done, answer) = oneshot::channel();
        self.writes
            .send(PendingAppend {
                body,
                setup,
                done: Some(done),
            })
            .await
            .map_err(|_| JournalError::Task("the journal writer stopped".into()))?;
        answer
            .await
            .map_err(|_| JournalError::Task("the journal writer stopped".into()))?
            .map_err(JournalError::Task)
    }

    /// Queues `body` for the journal without waiting for the commit (it is broadcast once
    /// committed, like every event). Later appends from the same task are journaled after it.
    /// Waits only when the writer is far behind.
    pub(crate) async fn enqueue(&self, body: EventBody) -> Result<(), JournalError> {
        self.writes
            .send(PendingAppend {
                body,
                setup: None,
                done: None,
            })
            .await
            .map_err(|_| JournalError::Task("the journal writer stopped".into()))
    }

    /// Up to `limit` events after `after`.
    pub(crate) async fn after(&self, after: u64, limit: usize) -> Result<Vec<Event>, JournalError> {
        let journal = Arc::clone(&self.journal);
        run_blocking(move || lock(&journal).after(after, limit)).await
    }

    /// The last sequence number.
    pub(crate) async fn last_seq(&self) -> Result<u64, JournalError> {
        let journal = Arc::clone(&self.journal);
        run_blocking(move || lock(&journal).last_seq()).await
    }

    /// See [`Journal::unfinished_sessions`].
    pub(crate) async fn unfinished_sessions(&self) -> Result<Vec<Event>, JournalError> {
        let journal = Arc::clone(&self.journal);
        run_blocking(move || lock(&journal).unfinished_sessions()).await
    }

    /// See [`Journal::record_turn`].
    pub(crate) async fn record_turn(
        &self,
        session: String,
        prompt: u32,
        root: String,
        tree: Option<String>,
        end: bool,
    ) -> Result<(), JournalError> {
        let journal = Arc::clone(&self.journal);
        run_blocking(move || {
            lock(&journal).record_turn(&session, prompt, &root, tree.as_deref(), end)
        })
        .await
    }

    /// See [`Journal::turn`].
    pub(crate) async fn turn(
        &self,
        session: String,
        prompt: u32,
    ) -> Result<Option<TurnSnapshots>, JournalError> {
        let journal = Arc::clone(&self.journal);
        run_blocking(move || lock(&journal).turn(&session, prompt)).await
    }

    /// See [`Journal::put_resume`].
    pub(crate) async fn put_resume(
        &self,
        session: String,
        record: String,
    ) -> Result<(), JournalError> {
        let journal = Arc::clone(&self.journal);
        run_blocking(move || lock(&journal).put_resume(&session, &record)).await
    }

    /// See [`Journal::drop_resume`].
    pub(crate) async fn drop_resume(&self, session: String) -> Result<(), JournalError> {
        let journal = Arc::clone(&self.journal);
        run_blocking(move || lock(&journal).drop_resume(&session)).await
    }

    /// See [`Journal::resume_records`].
    pub(crate) async fn resume_records(&self) -> Result<Vec<(String, String)>, JournalError> {
        let journal = Arc::clone(&self.journal);
        run_blocking(move || lock(&journal).resume_records()).await
    }

    /// The persisted setup record.
    pub(crate) async fn setup(&self) -> Result<Option<SetupRecord>, JournalError> {
        let journal = Arc::clone(&self.journal);
        run_blocking(move || lock(&journal).setup()).await
    }

    /// A receiver of every event appended from now on.
    pub(crate) fn live(&self) -> broadcast::Receiver<Event> {
        self.live.subscribe()
    }
}

/// The writer thread: takes what has queued up (up to [`MAX_BATCH`]), commits it in one
/// transaction, broadcasts the events in order and answers the waiting appends.
fn write_loop(
    journal: &Mutex<Journal>,
    live: &broadcast::Sender<Event>,
    mut queue: mpsc::Receiver<PendingAppend>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let items: Vec<(&EventBody, Option<&SetupRecord>)> = batch
            .iter()
            .map(|pending| (&pending.body, pending.setup.as_ref()))
            .collect();
        // The broadcast happens under the same lock as the insert, so live events go out in
        // sequence order.
        let mut guard = lock(journal);
        match guard.append_batch(&items) {
            Ok(events) => {
                for (pending, event) in batch.drain(..).zip(events) {
                    // No receivers is fine: subscribers replay from the journal.
                    let _ = live.send(event.clone());
                    if let Some(done) = pending.done {
                        let _ = done.send(Ok(event));
                    }
                }
            }
            Err(error) => {
                let message = error.to_string();
                tracing::error!(error = %message, events = batch.len(), "journal append failed");
                for pending in batch.drain(..) {
                    if let Some(done) = pending.done {
                        let _ = done.send(Err(message.clone()));
                    }
                }
            }
        }
        drop(guard);
    }
}

fn lock(journal: &Mutex<Journal>) -> MutexGuard<'_, Journal> {
    // A panic mid-append rolls the transaction back; the connection stays usable.
    journal.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn run_blocking<T, F>(work: F) -> Result<T, JournalError>
where
    F: FnOnce() -> Result<T, JournalError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| JournalError::Task(e.to_string()))?
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn sequence_numbers_are_never_reused_and_setup_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let mut journal = Journal::open(&path).unwrap();
        assert_eq!(journal.last_seq().unwrap(), 0);
        assert!(journal.setup().unwrap().is_none());
        for _ in 0..3 {
            journal.append(&EventBody::SetupStarted, None).unwrap();
        }
        // Even if rows were ever removed, AUTOINCREMENT keeps counting.
        journal
            .conn
            .execute("DELETE FROM events WHERE seq = 3", [])
            .unwrap();
        let record = SetupRecord {
            phase: SetupPhase::Ready,
            workspace_id: "ws".into(),
            repository: RepoSource::LocalPath { path: "/w".into() },
            checkout_dir: "/w".into(),
            root: Some("/w".into()),
            reason: None,
            container: Some(DevContainer {
                engine: sam_protocol::ContainerEngine::Podman,
                container_id: "abc".into(),
                remote_user: "root".into(),
                remote_workspace_folder: "/workspaces/w".into(),
            }),
            base_commit: Some("0123abcd".into()),
        };
        let event = journal
            .append(&EventBody::SetupComplete { millis: 1 }, Some(&record))
            .unwrap();
        assert_eq!(event.seq, 4);
        drop(journal);

        let journal = Journal::open(&path).unwrap();
        assert_eq!(journal.last_seq().unwrap(), 4);
        assert_eq!(journal.setup().unwrap(), Some(record));
        let seqs: Vec<u64> = journal
            .after(1, 10)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, vec![2, 4]);
        let mode: String = journal
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_setup_record_from_before_dev_containers_still_reads() {
        let older = r#"{"phase":"ready","workspace_id":"ws",
            "repository":{"kind":"local_path","path":"/w"},"checkout_dir":"/w","root":"/w",
            "reason":null}"#;
        let record: SetupRecord = serde_json::from_str(older).unwrap();
        assert_eq!(record.phase, SetupPhase::Ready);
        assert_eq!(record.container, None);
    }

    #[test]
    fn resume_records_round_trip_and_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let journal = Journal::open(&path).unwrap();
        journal.put_resume("b", r#"{"v":1}"#).unwrap();
        journal.put_resume("a", r#"{"v":2}"#).unwrap();
        journal.put_resume("b", r#"{"v":3}"#).unwrap();
        drop(journal);
        let journal = Journal::open(&path).unwrap();
        assert_eq!(
            journal.resume_records().unwrap(),
            [
                ("a".to_owned(), r#"{"v":2}"#.to_owned()),
                ("b".to_owned(), r#"{"v":3}"#.to_owned())
            ]
        );
        journal.drop_resume("a").unwrap();
        journal.drop_resume("never").unwrap();
        assert_eq!(journal.resume_records().unwrap().len(), 1);
    }

    #[test]
    fn a_journal_from_a_newer_host_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(Journal::open(&path), Err(JournalError::Newer(99))));
    }
}

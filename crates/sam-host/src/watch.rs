//! The checkout watcher behind [`sam_protocol::RequestBody::WaitChanges`]: a counter that
//! goes up whenever the file system reports a write in the working tree, so that a changes
//! panel refreshes while the agent works instead of polling git.
//!
//! Writes inside `.git` (every commit, fetch and index refresh) and paths the root
//! `.gitignore` or `.git/info/exclude` excludes (build output, `node_modules`) do not count:
//! they do not change what [`crate::changes::changes`] reports. Nested `.gitignore` files are
//! not read, so an ignored path below one of them may wake a waiter for nothing; the client
//! then asks for the changes once more and sees the same answer.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use sam_protocol::ChangesVersion;
use tokio::sync::watch;

/// How long after the first write of a burst the waiter is answered: an agent writing a
/// file and then formatting it wakes the client once.
const COALESCE: Duration = Duration::from_millis(150);

/// A watched checkout.
pub(crate) struct CheckoutWatch {
    version: watch::Sender<u64>,
    /// Whether the watcher runs; `false` when the checkout could not be watched.
    live: bool,
    /// Kept for its drop: the watch ends with it.
    _watcher: Option<RecommendedWatcher>,
}

impl CheckoutWatch {
    /// Starts watching `root` (recursively; blocking while the watches are added, one per
    /// directory on Linux). A checkout that cannot be watched gives a watch that is not live,
    /// with the reason logged.
    pub(crate) fn start(root: &Path) -> Self {
        let (version, _) = watch::channel(1u64);
        let filter = Relevance::new(root);
        let sender = version.clone();
        let created = notify::recommended_watcher(move |event: notify::Result<Event>| {
            match event {
                Ok(event) if filter.counts(&event) => {
                    sender.send_modify(|v| *v += 1);
                }
                Ok(_) => {}
                // A queue overflow loses events: count it as a change so the client looks.
                Err(error) => {
                    tracing::debug!(%error, "checkout watcher error");
                    sender.send_modify(|v| *v += 1);
                }
            }
        });
        let watcher = created.and_then(|mut watcher| {
            watcher
                .watch(root, RecursiveMode::Recursive)
                .map(|()| watcher)
        });
        match watcher {
            Ok(watcher) => Self {
                version,
                live: true,
                _watcher: Some(watcher),
            },
            Err(error) => {
                tracing::warn!(%error, root = %root.display(), "the checkout cannot be watched; clients poll");
                Self {
                    version,
                    live: false,
                    _watcher: None,
                }
            }
        }
    }

    /// Answers a `WaitChanges`: at once when the counter is not `after` (or nothing is
    /// watched), else at the first change (plus [`COALESCE`]) or after `timeout`.
    pub(crate) async fn wait(self: &Arc<Self>, after: u64, timeout: Duration) -> ChangesVersion {
        let mut receiver = self.version.subscribe();
        let now = *receiver.borrow_and_update();
        if !self.live || now != after {
            return self.answer(now);
        }
        if tokio::time::timeout(timeout, receiver.changed())
            .await
            .is_ok()
        {
            tokio::time::sleep(COALESCE).await;
        }
        let now = *self.version.borrow();
        self.answer(now)
    }

    fn answer(&self, version: u64) -> ChangesVersion {
        ChangesVersion {
            version,
            live: self.live,
        }
    }
}

impl std::fmt::Debug for CheckoutWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckoutWatch")
            .field("version", &*self.version.borrow())
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

/// Which events count as changes of the working tree.
struct Relevance {
    git_dir: PathBuf,
    ignored: Gitignore,
}

impl Relevance {
    fn new(root: &Path) -> Self {
        let mut builder = GitignoreBuilder::new(root);
        // Missing files are fine (no error worth reporting: nothing is ignored then).
        let _ = builder.add(root.join(".gitignore"));
        let _ = builder.add(root.join(".git/info/exclude"));
        let ignored = builder.build().unwrap_or_else(|_| Gitignore::empty());
        Self {
            git_dir: root.join(".git"),
            ignored,
        }
    }

    fn counts(&self, event: &Event) -> bool {
        if matches!(event.kind, EventKind::Access(_)) {
            return false;
        }
        event.paths.iter().any(|path| {
            !path.starts_with(&self.git_dir)
                && !self
                    .ignored
                    .matched_path_or_any_parents(path, path.is_dir())
                    .is_ignore()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, path: PathBuf) -> Event {
        Event::new(kind).add_path(path)
    }

    #[test]
    fn git_internals_ignored_paths_and_reads_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join(".gitignore"), "target/\n*.log\n").unwrap();
        std::fs::create_dir_all(root.join(".git/info")).unwrap();
        std::fs::write(root.join(".git/info/exclude"), "scratch.txt\n").unwrap();
        let relevance = Relevance::new(root);
        let modify = EventKind::Modify(notify::event::ModifyKind::Any);
        let counts = |p: &str| relevance.counts(&event(modify, root.join(p)));
        assert!(counts("src/main.rs"));
        assert!(counts("README.md"));
        assert!(counts(".gitignore"));
        assert!(!counts(".git/index"));
        assert!(!counts(".git/objects/ab/cdef"));
        assert!(!counts("target/debug/app"));
        assert!(!counts("build.log"));
        assert!(!counts("scratch.txt"));
        let read = EventKind::Access(notify::event::AccessKind::Any);
        assert!(!relevance.counts(&event(read, root.join("src/main.rs"))));
    }
}

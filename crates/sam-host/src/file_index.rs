//! The workspace file index behind `FindFiles`: every file of the checkout that `.gitignore`
//! and `.ignore` files do not exclude, matched fuzzily for the desktop's "go to file".
//!
//! The walk is ripgrep's (`ignore`): dot-files are included, `.git` never is, symlinks are
//! neither followed nor listed, ignore files above the checkout root do not count, and at most
//! [`MAX_INDEXED_FILES`] files are kept. Matching is helix's (`nucleo-matcher`) with its
//! path-aware bonuses, over paths the index stores back to back as nucleo reads them, so a
//! query allocates no haystacks.
//!
//! Freshness: an index is built on first use (that query waits for it). A query on an index
//! older than the staleness window starts one rebuild in the background and is answered from
//! the current index meanwhile; the window widens for a workspace whose walk is slow, so
//! repeated queries never keep a core walking. `ResolvePaths` does not use the index at all: it
//! checks its candidates on disk (`files::resolve_paths`), which is always current.
//!
//! All walking and matching runs on the blocking pool, never on the runtime's threads.

use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use sam_protocol::{
    ErrorCode, FileMatch, FoundFiles, MAX_FIND_FILES, MAX_INDEXED_FILES, ProtocolError,
};
use tokio::sync::watch;

/// Overrides the staleness window of the file index, in milliseconds (tests shorten it).
pub const FILE_INDEX_STALE_ENV: &str = "SAM_FILE_INDEX_STALE_MS";

/// How old an index may be before a query refreshes it: short enough that a file an agent
/// just wrote shows up by the next keystroke or two, long enough that typing a query does not
/// walk the checkout on every key.
const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(3);

/// An index is also kept for at least this many times as long as its walk took, so a huge
/// checkout is not walked back to back while someone types.
const REBUILD_SPACING: u32 = 4;

/// The file indexes of the host: one for the current checkout root.
#[derive(Debug)]
pub(crate) struct WorkspaceFiles {
    stale_after: Duration,
    current: Mutex<Option<Arc<FileIndex>>>,
}

impl WorkspaceFiles {
    /// With the staleness window from [`FILE_INDEX_STALE_ENV`], or the default.
    pub(crate) fn from_env() -> Self {
        let stale_after = std::env::var(FILE_INDEX_STALE_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map_or(DEFAULT_STALE_AFTER, Duration::from_millis);
        Self::new(stale_after)
    }

    /// Indexes that count as stale after `stale_after`.
    pub(crate) fn new(stale_after: Duration) -> Self {
        Self {
            stale_after,
            current: Mutex::new(None),
        }
    }

    /// The best `limit` matches of `query` among the files under `root` (canonical).
    ///
    /// # Errors
    /// [`ErrorCode::Internal`] when the walk or the match task died.
    pub(crate) async fn find(
        &self,
        root: &Path,
        query: String,
        limit: u32,
    ) -> Result<FoundFiles, ProtocolError> {
        let snapshot = self.index_for(root).current().await?;
        tokio::task::spawn_blocking(move || snapshot.find(&query, limit))
            .await
            .map_err(|e| internal(format!("the file search failed: {e}")))
    }

    /// The index of `root`, a new (empty) one when the root changed since the last query.
    fn index_for(&self, root: &Path) -> Arc<FileIndex> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        match current.as_ref() {
            Some(index) if index.root == root => Arc::clone(index),
            _ => {
                let index = Arc::new(FileIndex {
                    root: root.to_path_buf(),
                    stale_after: self.stale_after,
                    state: watch::Sender::new(IndexState::default()),
                });
                *current = Some(Arc::clone(&index));
                index
            }
        }
    }
}

/// The index of one checkout root, rebuilt as a whole.
#[derive(Debug)]
struct FileIndex {
    root: PathBuf,
    stale_after: Duration,
    state: watch::Sender<IndexState>,
}

#[derive(Debug, Default)]
struct IndexState {
    /// The latest complete index; `None` until the first build ends.
    snapshot: Option<Arc<Snapshot>>,
    /// Whether a build runs (there is never more than one).
    building: bool,
}

impl FileIndex {
    /// The index to answer from: the current one (refreshed in the background when stale), or
    /// the first one once built.
    async fn current(self: &Arc<Self>) -> Result<Arc<Snapshot>, ProtocolError> {
        let snapshot = self.state.borrow().snapshot.clone();
        if let Some(snapshot) = snapshot {
            if snapshot.is_stale(self.stale_after) {
                self.rebuild();
            }
            return Ok(snapshot);
        }
        self.rebuild();
        let mut state = self.state.subscribe();
        let state = state
            .wait_for(|s| s.snapshot.is_some() || !s.building)
            .await
            .map_err(|_| internal("the file index went away".to_owned()))?;
        state
            .snapshot
            .clone()
            .ok_or_else(|| internal("the file index could not be built".to_owned()))
    }

    /// Starts a build on the blocking pool unless one runs already.
    fn rebuild(self: &Arc<Self>) {
        let start = self.state.send_if_modified(|s| {
            let start = !s.building;
            s.building = true;
            start
        });
        if !start {
            return;
        }
        let index = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let build = BuildRunning(&index.state);
            let snapshot = Arc::new(Snapshot::build(&index.root));
            tracing::debug!(
                files = snapshot.len(),
                millis = snapshot.build_time.as_millis(),
                "file index built"
            );
            index.state.send_modify(|s| s.snapshot = Some(snapshot));
            drop(build);
        });
    }
}

/// Clears `building` when a build ends, also when it panics, so waiters wake and the next
/// query can try again.
struct BuildRunning<'a>(&'a watch::Sender<IndexState>);

impl Drop for BuildRunning<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|s| s.building = false);
    }
}

/// One complete walk of a checkout.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// The files relative to the root, `/`-separated, shortest (in bytes) first, then in
    /// byte order.
    paths: Paths,
    /// Whether files were left out at [`MAX_INDEXED_FILES`].
    truncated: bool,
    built_at: Instant,
    build_time: Duration,
}

impl Snapshot {
    /// Walks `root` (canonical). Blocking. Unreadable directories and names that are not UTF-8
    /// (which no request could name) are skipped.
    pub(crate) fn build(root: &Path) -> Self {
        Self::build_capped(root, MAX_INDEXED_FILES)
    }

    fn build_capped(root: &Path, max_files: usize) -> Self {
        let started = Instant::now();
        let mut walk = WalkBuilder::new(root);
        walk.hidden(false)
            .parents(false)
            .require_git(false)
            .follow_links(false)
            .current_dir(root)
            .filter_entry(|entry| entry.file_name() != ".git");
        let sink = Sink {
            root,
            max_files,
            kept: AtomicUsize::new(0),
            truncated: AtomicBool::new(false),
            found: Mutex::new(Vec::new()),
        };
        walk.build_parallel().visit(&mut Collectors(&sink));
        let truncated = sink.truncated.into_inner();
        let mut files: Vec<Box<str>> = sink
            .found
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .into_iter()
            .flatten()
            .collect();
        files.sort_unstable_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        Self {
            paths: Paths::from_sorted(files),
            truncated,
            built_at: Instant::now(),
            build_time: started.elapsed(),
        }
    }

    /// How many files it holds.
    pub(crate) fn len(&self) -> usize {
        self.paths.len()
    }

    fn is_stale(&self, stale_after: Duration) -> bool {
        self.built_at.elapsed() > stale_after.max(self.build_time * REBUILD_SPACING)
    }

    /// The best `limit` (clamped to [`MAX_FIND_FILES`]) matches of `query`, best first; ties
    /// in index order. Blocking (CPU).
    pub(crate) fn find(&self, query: &str, limit: u32) -> FoundFiles {
        let limit = usize::try_from(limit.min(MAX_FIND_FILES)).unwrap_or(0);
        let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
        let matches = if pattern.atoms.is_empty() {
            (0..limit.min(self.paths.len()))
                .filter_map(|i| {
                    Some(FileMatch {
                        path: self.paths.path(i)?,
                        score: 0,
                        positions: Vec::new(),
                    })
                })
                .collect()
        } else {
            self.best(&pattern, limit)
        };
        FoundFiles {
            matches,
            indexed_files: u64::try_from(self.paths.len()).unwrap_or(u64::MAX),
            index_age_ms: u64::try_from(self.built_at.elapsed().as_millis()).unwrap_or(u64::MAX),
            truncated_index: self.truncated,
        }
    }

    fn best(&self, pattern: &Pattern, limit: usize) -> Vec<FileMatch> {
        let mut scored = top(self.score_in_parallel(pattern, limit), limit);
        scored.sort_unstable_by(best_first);
        let mut matcher = Matcher::new(Config::DEFAULT.match_paths());
        let mut positions = Vec::new();
        scored
            .into_iter()
            .filter_map(|(score, i)| {
                positions.clear();
                pattern.indices(self.paths.haystack(i), &mut matcher, &mut positions);
                positions.sort_unstable();
                positions.dedup();
                Some(FileMatch {
                    path: self.paths.path(i)?,
                    score,
                    positions: positions.clone(),
                })
            })
            .collect()
    }

    /// Scores every file in slices, one thread (and one [`Matcher`]) per slice, the calling
    /// thread taking the first; returns each slice's best `limit` as (score, index).
    fn score_in_parallel(&self, pattern: &Pattern, limit: usize) -> Vec<(u32, usize)> {
        let threads = std::thread::available_parallelism()
            .map_or(1, NonZeroUsize::get)
            .min(MAX_SEARCH_THREADS)
            .min(self.paths.len() / MIN_FILES_PER_THREAD)
            .max(1);
        let total = self.paths.len();
        let chunk = total.div_ceil(threads).max(1);
        let paths = &self.paths;
        std::thread::scope(|scope| {
            let mut slices = (0..total)
                .step_by(chunk)
                .map(|start| start..(start + chunk).min(total));
            let first = slices.next();
            let mut scored = Vec::new();
            let mut workers = Vec::new();
            for slice in slices {
                let work = {
                    let slice = slice.clone();
                    move || top(score_slice(pattern, paths, slice), limit)
                };
                match std::thread::Builder::new().spawn_scoped(scope, work) {
                    Ok(worker) => workers.push(worker),
                    // No thread to be had: score the slice here.
                    Err(_) => scored.extend(top(score_slice(pattern, paths, slice), limit)),
                }
            }
            if let Some(slice) = first {
                scored.extend(top(score_slice(pattern, paths, slice), limit));
            }
            for worker in workers {
                match worker.join() {
                    Ok(part) => scored.extend(part),
                    Err(_) => {
                        tracing::error!("a file search thread panicked; its files are left out")
                    }
                }
            }
            scored
        })
    }
}

/// The most threads one search uses.
const MAX_SEARCH_THREADS: usize = 8;

/// Below this many files per thread, threads cost more than they save.
const MIN_FILES_PER_THREAD: usize = 16_384;

/// Scores the paths numbered `slice`.
fn score_slice(pattern: &Pattern, paths: &Paths, slice: Range<usize>) -> Vec<(u32, usize)> {
    let mut matcher = Matcher::new(Config::DEFAULT.match_paths());
    slice
        .filter_map(|i| Some((pattern.score(paths.haystack(i), &mut matcher)?, i)))
        .collect()
}

/// The index's paths, back to back in index order, so that a search reads memory in sequence
/// rather than chasing one allocation per path.
#[derive(Debug, Default)]
struct Paths {
    /// The bytes of the ASCII paths (nearly all of them).
    ascii: Vec<u8>,
    /// The characters of the others, as nucleo matches them.
    unicode: Vec<char>,
    /// Where each path lies, in index order.
    spans: Vec<Span>,
}

#[derive(Debug, Clone, Copy)]
enum Span {
    Ascii(usize, usize),
    Unicode(usize, usize),
}

impl Paths {
    /// Stores `paths` in their order.
    fn from_sorted(paths: Vec<Box<str>>) -> Self {
        let mut stored = Self {
            spans: Vec::with_capacity(paths.len()),
            ..Self::default()
        };
        stored.ascii.reserve(paths.iter().map(|p| p.len()).sum());
        for path in paths {
            let span = if path.is_ascii() {
                let start = stored.ascii.len();
                stored.ascii.extend_from_slice(path.as_bytes());
                Span::Ascii(start, stored.ascii.len())
            } else {
                let start = stored.unicode.len();
                stored.unicode.extend(path.chars());
                Span::Unicode(start, stored.unicode.len())
            };
            stored.spans.push(span);
        }
        stored
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    /// Path `i` as nucleo matches it (empty, matching nothing, past the end).
    fn haystack(&self, i: usize) -> Utf32Str<'_> {
        match self.spans.get(i) {
            Some(&Span::Ascii(start, end)) => {
                Utf32Str::Ascii(self.ascii.get(start..end).unwrap_or_default())
            }
            Some(&Span::Unicode(start, end)) => {
                Utf32Str::Unicode(self.unicode.get(start..end).unwrap_or_default())
            }
            None => Utf32Str::Ascii(&[]),
        }
    }

    /// Path `i` as text.
    fn path(&self, i: usize) -> Option<String> {
        match *self.spans.get(i)? {
            Span::Ascii(start, end) => String::from_utf8(self.ascii.get(start..end)?.to_vec()).ok(),
            Span::Unicode(start, end) => Some(self.unicode.get(start..end)?.iter().collect()),
        }
    }
}

/// The best `limit` of `scored`, in no particular order.
fn top(mut scored: Vec<(u32, usize)>, limit: usize) -> Vec<(u32, usize)> {
    if scored.len() > limit {
        scored.select_nth_unstable_by(limit, best_first);
        scored.truncate(limit);
    }
    scored
}

/// Best score first, then the index's order (shorter paths first).
fn best_first(a: &(u32, usize), b: &(u32, usize)) -> std::cmp::Ordering {
    b.0.cmp(&a.0).then(a.1.cmp(&b.1))
}

/// What the walker threads share: each collects on its own and hands its files over here
/// when it ends.
struct Sink<'a> {
    root: &'a Path,
    max_files: usize,
    kept: AtomicUsize,
    truncated: AtomicBool,
    found: Mutex<Vec<Vec<Box<str>>>>,
}

/// Makes one [`Collector`] per walker thread.
struct Collectors<'a>(&'a Sink<'a>);

impl<'s> ParallelVisitorBuilder<'s> for Collectors<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Collector {
            sink: self.0,
            files: Vec::new(),
        })
    }
}

/// One walker thread's files.
struct Collector<'a> {
    sink: &'a Sink<'a>,
    files: Vec<Box<str>>,
}

impl Collector<'_> {
    fn keep(&mut self, entry: &DirEntry) -> WalkState {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            return WalkState::Continue;
        }
        let relative = entry.path().strip_prefix(self.sink.root).ok();
        let Some(relative) = relative.and_then(Path::to_str) else {
            return WalkState::Continue;
        };
        if self.sink.kept.fetch_add(1, Ordering::Relaxed) >= self.sink.max_files {
            self.sink.truncated.store(true, Ordering::Relaxed);
            return WalkState::Quit;
        }
        self.files.push(relative.into());
        WalkState::Continue
    }
}

impl ParallelVisitor for Collector<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        match entry {
            Ok(entry) => self.keep(&entry),
            // An unreadable directory or ignore file: index what can be read.
            Err(_) => WalkState::Continue,
        }
    }
}

impl Drop for Collector<'_> {
    fn drop(&mut self) {
        let files = std::mem::take(&mut self.files);
        self.sink
            .found
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(files);
    }
}

fn internal(message: String) -> ProtocolError {
    ProtocolError::new(ErrorCode::Internal, message)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn write(root: &Path, files: &[&str]) {
        for file in files {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
    }

    fn listed(snapshot: &Snapshot) -> Vec<String> {
        (0..snapshot.len())
            .map(|i| snapshot.paths.path(i).unwrap())
            .collect()
    }

    #[test]
    fn the_walk_keeps_what_git_keeps_plus_dot_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(
            &root,
            &[
                "b.rs",
                "a.rs",
                "src/lib.rs",
                ".github/ci.yml",
                ".env.example",
                ".git/config",
                ".git/objects/ab/cdef",
                "target/debug/out",
                "notes.log",
                "sub/.ignore",
                "sub/secret.key",
                "sub/kept.rs",
            ],
        );
        std::fs::write(root.join(".gitignore"), "target/\n*.log\n").unwrap();
        std::fs::write(root.join("sub/.ignore"), "*.key\n").unwrap();
        std::os::unix::fs::symlink("a.rs", root.join("link.rs")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc")).unwrap();

        let snapshot = Snapshot::build(&root);
        assert_eq!(
            listed(&snapshot),
            [
                "a.rs",
                "b.rs",
                ".gitignore",
                "src/lib.rs",
                "sub/.ignore",
                "sub/kept.rs",
                ".env.example",
                ".github/ci.yml",
            ]
        );
        assert!(!snapshot.truncated);
    }

    #[test]
    fn ignore_files_above_the_root_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let outer = dir.path().canonicalize().unwrap();
        std::fs::write(outer.join(".gitignore"), "*\n").unwrap();
        write(&outer, &["checkout/main.rs"]);
        let snapshot = Snapshot::build(&outer.join("checkout"));
        assert_eq!(listed(&snapshot), ["main.rs"]);
    }

    #[test]
    fn the_index_stops_at_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root, &["a", "b", "c", "d", "e"]);
        let snapshot = Snapshot::build_capped(&root, 3);
        assert_eq!(snapshot.len(), 3);
        assert!(snapshot.truncated);
        assert!(snapshot.find("", 10).truncated_index);
    }

    #[test]
    fn matches_rank_whole_names_first_and_break_ties_by_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(
            &root,
            &[
                "src/api/upload.rs",
                "src/util/parse/load.rs",
                "unrelated.txt",
                "x/upload.rs",
                "Émile/upload.rs",
            ],
        );
        let snapshot = Snapshot::build(&root);
        let found = snapshot.find("upload.rs", 10);
        let paths: Vec<&str> = found.matches.iter().map(|m| m.path.as_str()).collect();
        // Equal scores keep the index's order: shorter (in bytes) first.
        assert_eq!(
            &paths[..3],
            ["x/upload.rs", "Émile/upload.rs", "src/api/upload.rs"]
        );
        assert!(!paths.contains(&"unrelated.txt"));
        assert_eq!(found.matches[0].positions, (2..11).collect::<Vec<u32>>());
        // Positions count characters, not bytes.
        let accented = found
            .matches
            .iter()
            .find(|m| m.path.starts_with('É'))
            .unwrap();
        assert_eq!(accented.positions, (6..15).collect::<Vec<u32>>());
        assert_eq!(found.indexed_files, 5);
        // Smart case: an upper-case letter makes the query case-sensitive.
        assert!(snapshot.find("UPLOAD", 10).matches.is_empty());
        assert_eq!(snapshot.find("émile", 10).matches.len(), 1);
    }

    #[test]
    fn a_search_split_across_threads_finds_what_one_thread_finds() {
        let files: Vec<Box<str>> = (0..3 * MIN_FILES_PER_THREAD)
            .map(|i| format!("area{}/module{}/file{i}.rs", i % 7, i % 13).into())
            .collect();
        let snapshot = Snapshot {
            paths: Paths::from_sorted(files),
            truncated: false,
            built_at: Instant::now(),
            build_time: Duration::ZERO,
        };
        for query in ["file1", "a3m5", "e", "area6/module12/file4"] {
            let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
            let all = 0..snapshot.len();
            let mut alone = top(score_slice(&pattern, &snapshot.paths, all), 100);
            let mut split = top(snapshot.score_in_parallel(&pattern, 100), 100);
            alone.sort_unstable_by(best_first);
            split.sort_unstable_by(best_first);
            assert_eq!(alone.len(), 100, "{query}");
            assert_eq!(split, alone, "{query}");
        }
    }

    #[tokio::test]
    async fn a_stale_index_is_served_while_one_rebuild_runs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root, &["first.rs"]);
        let files = WorkspaceFiles::new(Duration::from_millis(300));
        assert_eq!(
            files
                .find(&root, "rs".into(), 10)
                .await
                .unwrap()
                .matches
                .len(),
            1
        );

        write(&root, &["second.rs"]);
        // Within the window the index is not refreshed.
        let fresh = files.find(&root, "rs".into(), 10).await.unwrap();
        assert_eq!(fresh.indexed_files, 1);

        tokio::time::sleep(Duration::from_millis(350)).await;
        let index = files.index_for(&root);
        // The stale answer comes at once and starts exactly one rebuild.
        let stale = files.find(&root, "rs".into(), 10).await.unwrap();
        assert_eq!(stale.indexed_files, 1);
        assert!(stale.index_age_ms >= 300);
        let mut state = index.state.subscribe();
        state
            .wait_for(|s| !s.building && s.snapshot.as_ref().is_some_and(|s| s.len() == 2))
            .await
            .unwrap();
        assert_eq!(
            files
                .find(&root, "rs".into(), 10)
                .await
                .unwrap()
                .indexed_files,
            2
        );
    }

    #[tokio::test]
    async fn a_new_root_gets_a_new_index() {
        let one = tempfile::tempdir().unwrap();
        let two = tempfile::tempdir().unwrap();
        write(one.path(), &["one.rs"]);
        write(two.path(), &["two.rs"]);
        let files = WorkspaceFiles::new(DEFAULT_STALE_AFTER);
        let first = files.find(one.path(), String::new(), 10).await.unwrap();
        assert_eq!(first.matches[0].path, "one.rs");
        let second = files.find(two.path(), String::new(), 10).await.unwrap();
        assert_eq!(second.matches[0].path, "two.rs");
    }
}

//! Review and ship: `Changes`, `FileDiff` and `Ship`, all through the `git` program (argv
//! only, never a shell; `--no-ext-diff --no-textconv --no-color`, `-z` output parsed).
//!
//! The working tree is compared with a base commit as it is on disk, untracked files
//! included: the real index is copied to a private temporary index, `git add -A` fills that
//! one, and `git diff --cached -M` compares it with the base, so renames of files never
//! staged are found too and the user's (or the agent's) own index is never touched.
//!
//! `Ship` commits with plumbing (`write-tree`, `commit-tree`, `update-ref`), so no hook runs
//! and no editor opens, and never onto the remote's default branch. A push token reaches git
//! only through the git process's environment and `sam-host`'s askpass mode, as for the
//! clone ([`crate::askpass`]); git's output is redacted before it becomes a message.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use sam_protocol::{
    ChangeStatus, ChangedFile, Changes, ErrorCode, FileDiff, MAX_CHANGED_FILES, MAX_CHANGES_BYTES,
    MAX_COMMIT_MESSAGE_BYTES, MAX_DIFF_BYTES, ProtocolError, Secret, Shipped,
};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::askpass::{ASKPASS_MODE_ENV, TOKEN_ENV};
use crate::checkout::{GitRunner, redact, tail_chars};

/// The most a local git command (diff, add, commit) may run.
const GIT_TIMEOUT: Duration = Duration::from_secs(120);

/// The most output of one `git diff` that is read; past it the answer says it was cut.
const MAX_GIT_OUTPUT_BYTES: usize = 64 * 1024 * 1024;

/// How much of git's stderr is kept (its end, where the error is), in bytes.
const MAX_STDERR_BYTES: usize = 64 * 1024;

/// How much of git's stderr a message quotes, in characters.
const STDERR_TAIL_CHARS: usize = 2000;

/// The longest base (commit-ish) or branch name accepted, in bytes.
const MAX_REF_BYTES: usize = 255;

/// The longest slug of a derived `sam/<slug>` branch, in characters.
const MAX_SLUG_CHARS: usize = 48;

/// Who commits when the repository configures no identity.
const DEFAULT_AUTHOR_NAME: &str = "SAM";
const DEFAULT_AUTHOR_EMAIL: &str = "sam@users.noreply.localhost";

/// What a `Ship` asks for.
#[derive(Debug)]
pub(crate) struct ShipRequest {
    pub message: String,
    pub branch: Option<String>,
    pub push: bool,
    pub token: Option<Secret>,
}

/// What a git run left.
struct GitOutput {
    status: ExitStatus,
    stdout: Vec<u8>,
    /// Whether stdout was longer than the limit it was read to.
    stdout_truncated: bool,
    stderr: String,
}

impl GitOutput {
    fn stdout_line(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim().to_owned()
    }

    fn stderr_tail(&self) -> String {
        tail_chars(self.stderr.trim(), STDERR_TAIL_CHARS)
    }
}

/// One git invocation in the checkout.
struct Git<'a> {
    root: &'a Path,
    args: Vec<String>,
    index: Option<&'a Path>,
    env: Vec<(&'static str, String)>,
    limit: usize,
    timeout: Duration,
}

impl<'a> Git<'a> {
    fn new(root: &'a Path, args: &[&str]) -> Self {
        Self {
            root,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            index: None,
            env: Vec::new(),
            limit: 1024 * 1024,
            timeout: GIT_TIMEOUT,
        }
    }

    fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    fn index(mut self, index: &'a Path) -> Self {
        self.index = Some(index);
        self
    }

    fn env(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.env.push((name, value.into()));
        self
    }

    fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs git; an error only when it could not run or ran out of time. `what` names the
    /// work in messages; `token` is redacted from them.
    async fn run(self, what: &str, token: Option<&str>) -> Result<GitOutput, ProtocolError> {
        let mut command = Command::new("git");
        command
            .arg("-C")
            .arg(self.root)
            .args(["-c", "core.quotepath=false", "-c", "color.ui=false"])
            .args(&self.args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("LC_ALL", "C")
            .env_remove(TOKEN_ENV)
            .env_remove(ASKPASS_MODE_ENV)
            .env_remove("GIT_INDEX_FILE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(index) = self.index {
            command.env("GIT_INDEX_FILE", index);
        }
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let mut child = command.spawn().map_err(|e| {
            ProtocolError::new(
                ErrorCode::Io,
                format!("git could not be started for {what} (is it installed?): {e}"),
            )
        })?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let limit = self.limit;
        let work = async {
            let (out, err) = tokio::join!(read_capped(stdout, limit), read_tail(stderr));
            // Output past the limit is not wanted: stop git rather than drain it.
            if out.1 {
                let _ = child.start_kill();
            }
            let status = child.wait().await;
            (out, err, status)
        };
        let ((stdout, stdout_truncated), stderr, status) =
            match tokio::time::timeout(self.timeout, work).await {
                Ok(done) => done,
                Err(_) => {
                    return Err(ProtocolError::new(
                        ErrorCode::TimedOut,
                        format!(
                            "git took longer than {} s for {what} and was stopped",
                            self.timeout.as_secs()
                        ),
                    ));
                }
            };
        let status = status.map_err(|e| {
            ProtocolError::new(ErrorCode::Io, format!("git failed for {what}: {e}"))
        })?;
        Ok(GitOutput {
            status,
            stdout,
            stdout_truncated,
            stderr: redact(&String::from_utf8_lossy(&stderr), token),
        })
    }

    /// Runs git and requires success.
    async fn ok(self, what: &str) -> Result<GitOutput, ProtocolError> {
        let output = self.run(what, None).await?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(git_failed(what, &output))
        }
    }
}

fn git_failed(what: &str, output: &GitOutput) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::Io,
        format!(
            "git failed {what} ({}): {}",
            output.status,
            output.stderr_tail()
        ),
    )
}

async fn read_capped(pipe: Option<impl AsyncRead + Unpin>, limit: usize) -> (Vec<u8>, bool) {
    let mut bytes = Vec::new();
    let Some(pipe) = pipe else {
        return (bytes, false);
    };
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let _ = pipe.take(cap).read_to_end(&mut bytes).await;
    let truncated = bytes.len() > limit;
    bytes.truncate(limit);
    (bytes, truncated)
}

async fn read_tail(pipe: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let mut tail = Vec::new();
    let Some(mut pipe) = pipe else {
        return tail;
    };
    let mut chunk = vec![0_u8; 16 * 1024];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tail.extend_from_slice(&chunk[..n]);
                if tail.len() > MAX_STDERR_BYTES {
                    let excess = tail.len() - MAX_STDERR_BYTES;
                    tail.drain(..excess);
                }
            }
        }
    }
    tail
}

/// A private copy of the checkout's index, deleted when dropped.
struct TempIndex {
    path: PathBuf,
}

impl TempIndex {
    /// Copies the checkout's index (when it has one) to a new private file.
    async fn create(root: &Path) -> Result<Self, ProtocolError> {
        let index = Git::new(
            root,
            &["rev-parse", "--path-format=absolute", "--git-path", "index"],
        )
        .ok("finding the index")
        .await?
        .stdout_line();
        let contents = tokio::fs::read(&index).await.unwrap_or_default();
        tokio::task::spawn_blocking(move || Self::write(&contents))
            .await
            .map_err(|e| internal(format!("the temporary index task failed: {e}")))?
    }

    fn write(contents: &[u8]) -> Result<Self, ProtocolError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let dir = std::env::temp_dir();
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let mut last_error = None;
        for attempt in 0..16_u32 {
            let path = dir.join(format!(
                "sam-host-index-{}-{stamp}-{attempt}",
                std::process::id()
            ));
            match std::fs::File::options()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(mut file) => {
                    let index = Self { path };
                    file.write_all(contents).map_err(|e| {
                        ProtocolError::new(
                            ErrorCode::Io,
                            format!("the temporary index could not be written: {e}"),
                        )
                    })?;
                    return Ok(index);
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(ProtocolError::new(
            ErrorCode::Io,
            format!(
                "no temporary index could be created in {}: {}",
                dir.display(),
                last_error.map(|e| e.to_string()).unwrap_or_default()
            ),
        ))
    }
}

impl Drop for TempIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let mut lock = self.path.clone().into_os_string();
        lock.push(".lock");
        let _ = std::fs::remove_file(lock);
    }
}

/// Fails with `NotFound` when the checkout is not (inside) a git repository.
async fn require_repository(root: &Path) -> Result<(), ProtocolError> {
    let output = Git::new(root, &["rev-parse", "--git-dir"])
        .run("checking for a repository", None)
        .await?;
    if output.status.success() {
        Ok(())
    } else {
        Err(ProtocolError::new(
            ErrorCode::NotFound,
            "the workspace folder is not a git repository, so there are no changes to review. \
             Run `git init` there (and commit) to track them.",
        ))
    }
}

/// The commit `requested` names, or the recorded start of the checkout (when it still
/// exists), or `HEAD`, or the empty tree for a repository without commits.
pub(crate) async fn resolve_base(
    root: &Path,
    requested: Option<&str>,
    recorded: Option<&str>,
) -> Result<String, ProtocolError> {
    if let Some(requested) = requested {
        check_ref_text("base", requested)?;
        return commit_of(root, requested).await?.ok_or_else(|| {
            ProtocolError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "the base \"{}\" is not a commit of this repository",
                    shown(requested)
                ),
            )
        });
    }
    if let Some(recorded) = recorded
        && let Some(commit) = commit_of(root, recorded).await?
    {
        return Ok(commit);
    }
    if let Some(head) = commit_of(root, "HEAD").await? {
        return Ok(head);
    }
    empty_tree(root).await
}

/// The full id of the commit `rev` names, `None` when it names none.
async fn commit_of(root: &Path, rev: &str) -> Result<Option<String>, ProtocolError> {
    let output = Git::new(
        root,
        &["rev-parse", "--verify", "--quiet", "--end-of-options"],
    )
    .arg(format!("{rev}^{{commit}}"))
    .run("resolving a commit", None)
    .await?;
    Ok(output.status.success().then(|| output.stdout_line()))
}

async fn empty_tree(root: &Path) -> Result<String, ProtocolError> {
    Ok(Git::new(root, &["hash-object", "-t", "tree", "/dev/null"])
        .ok("hashing the empty tree")
        .await?
        .stdout_line())
}

/// The commit the checkout is on, recorded when a setup finishes; `None` for a folder that is
/// not a repository or has no commit yet.
pub(crate) async fn head_commit(root: &Path) -> Option<String> {
    commit_of(root, "HEAD").await.ok().flatten()
}

/// Fills a temporary index with the working tree under `pathspecs` (`.` for all).
async fn stage_into(
    root: &Path,
    index: &TempIndex,
    pathspecs: &[String],
) -> Result<(), ProtocolError> {
    let mut git = Git::new(root, &["add", "--all", "--ignore-errors", "--"]).index(&index.path);
    for spec in pathspecs {
        git = git.arg(spec.clone());
    }
    let output = git.run("reading the working tree", None).await?;
    if output.status.success() {
        return Ok(());
    }
    if output.stderr.contains("did not match any files") {
        return Err(ProtocolError::new(
            ErrorCode::NotFound,
            "the file has no changes against the base",
        ));
    }
    if output
        .stderr
        .contains("ignored by one of your .gitignore files")
    {
        return Err(ProtocolError::new(
            ErrorCode::NotFound,
            "the file is ignored (.gitignore), so it is not part of the changes",
        ));
    }
    Err(git_failed("reading the working tree", &output))
}

/// `Changes`: every file of the working tree that differs from the base.
pub(crate) async fn changes(
    root: &Path,
    requested_base: Option<&str>,
    recorded_base: Option<&str>,
) -> Result<Changes, ProtocolError> {
    require_repository(root).await?;
    let base = resolve_base(root, requested_base, recorded_base).await?;
    let index = TempIndex::create(root).await?;
    stage_into(root, &index, &[".".to_owned()]).await?;
    let output = Git::new(root, DIFF_ARGS)
        .args_extend(&["--raw", "--numstat", "-z"])
        .arg(base.clone())
        .arg("--")
        .index(&index.path)
        .limit(MAX_GIT_OUTPUT_BYTES)
        .ok("comparing with the base")
        .await?;
    drop(index);
    let mut changes = parse_changes(&output.stdout, output.stdout_truncated);
    changes.base = base;
    Ok(changes)
}

/// The options every diff runs with: the working tree as staged into a temporary index,
/// against a commit; renames found; paths relative to the checkout root, which may be a
/// folder inside the repository.
const DIFF_ARGS: &[&str] = &[
    "diff",
    "--cached",
    "--no-ext-diff",
    "--no-textconv",
    "--no-color",
    "--relative",
    "--find-renames",
    "--ignore-submodules=none",
];

impl<'a> Git<'a> {
    fn args_extend(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }
}

/// Parses `git diff --raw --numstat -z`: raw records (`:modes ids status\0path\0[path\0]`)
/// then numstat records (`ins\tdel\tpath\0`, or `ins\tdel\t\0old\0new\0` for a rename).
fn parse_changes(output: &[u8], cut: bool) -> Changes {
    let mut tokens: Vec<&[u8]> = output.split(|b| *b == 0).collect();
    // The last token is empty after a final NUL, or cut off mid-way.
    tokens.pop();
    let mut raw: Vec<(ChangeStatus, Option<String>, String)> = Vec::new();
    let mut stats: HashMap<String, (Option<u64>, Option<u64>)> = HashMap::new();
    let mut i = 0;
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    while i < tokens.len() {
        let token = tokens[i];
        i += 1;
        if token.first() == Some(&b':') {
            let letter = token
                .rsplit(|b| *b == b' ')
                .next()
                .and_then(|s| s.first())
                .copied()
                .unwrap_or(b'M');
            let status = match letter {
                b'A' => ChangeStatus::Added,
                b'D' => ChangeStatus::Deleted,
                b'R' => ChangeStatus::Renamed,
                b'C' => ChangeStatus::Copied,
                _ => ChangeStatus::Modified,
            };
            let Some(first) = tokens.get(i) else { break };
            i += 1;
            if matches!(status, ChangeStatus::Renamed | ChangeStatus::Copied) {
                let Some(second) = tokens.get(i) else { break };
                i += 1;
                raw.push((status, Some(text(first)), text(second)));
            } else {
                raw.push((status, None, text(first)));
            }
        } else {
            let mut fields = token.splitn(3, |b| *b == b'\t');
            let insertions = fields.next().and_then(number);
            let deletions = fields.next().and_then(number);
            let path = fields.next().unwrap_or_default();
            let path = if path.is_empty() {
                // A rename: the old and the new path follow.
                let new = tokens.get(i + 1).copied().unwrap_or_default();
                i += 2;
                text(new)
            } else {
                text(path)
            };
            stats.insert(path, (insertions, deletions));
        }
    }
    let mut changes = Changes {
        base: String::new(),
        files: Vec::new(),
        total_files: u64::try_from(raw.len()).unwrap_or(u64::MAX),
        insertions: 0,
        deletions: 0,
        truncated: cut,
    };
    let mut listed_bytes = 0_usize;
    for (status, old_path, path) in raw {
        let (insertions, deletions) = stats.get(&path).copied().unwrap_or((Some(0), Some(0)));
        let binary = insertions.is_none() || deletions.is_none();
        let insertions = insertions.unwrap_or(0);
        let deletions = deletions.unwrap_or(0);
        changes.insertions += insertions;
        changes.deletions += deletions;
        listed_bytes += path.len() + old_path.as_ref().map_or(0, String::len);
        if changes.files.len() >= MAX_CHANGED_FILES || listed_bytes > MAX_CHANGES_BYTES {
            changes.truncated = true;
            continue;
        }
        changes.files.push(ChangedFile {
            path,
            status,
            old_path,
            binary,
            insertions,
            deletions,
        });
    }
    changes
}

/// A numstat count; `-` (binary) is `None`.
fn number(field: &[u8]) -> Option<u64> {
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// `FileDiff`: the unified diff of one file against the base.
pub(crate) async fn file_diff(
    root: &Path,
    path: &str,
    old_path: Option<&str>,
    requested_base: Option<&str>,
    recorded_base: Option<&str>,
) -> Result<FileDiff, ProtocolError> {
    let relative = confined(root, path)?;
    let old_relative = old_path.map(|old| confined(root, old)).transpose()?;
    require_repository(root).await?;
    let base = resolve_base(root, requested_base, recorded_base).await?;
    let mut pathspecs = vec![format!(":(literal){relative}")];
    if let Some(old) = &old_relative {
        pathspecs.push(format!(":(literal){old}"));
    }
    let index = TempIndex::create(root).await?;
    stage_into(root, &index, &pathspecs).await?;
    let mut git = Git::new(root, DIFF_ARGS)
        .args_extend(&["--src-prefix=a/", "--dst-prefix=b/", "--unified=3"])
        .arg(base.clone())
        .arg("--")
        .index(&index.path)
        .limit(MAX_GIT_OUTPUT_BYTES);
    for spec in &pathspecs {
        git = git.arg(spec.clone());
    }
    let output = git.ok("comparing the file with the base").await?;
    drop(index);
    if output.stdout.is_empty() {
        return Err(ProtocolError::new(
            ErrorCode::NotFound,
            format!("\"{}\" has no changes against the base", shown(path)),
        ));
    }
    Ok(diff_answer(relative, old_relative, base, &output))
}

/// `FileDiff` of a turn: the unified diff of one file between the snapshots taken when the
/// turn started (`start`) and ended (`end`); `base` in the answer is `start`.
pub(crate) async fn turn_file_diff(
    root: &Path,
    path: &str,
    old_path: Option<&str>,
    start: &str,
    end: &str,
) -> Result<FileDiff, ProtocolError> {
    check_tree(start)?;
    check_tree(end)?;
    let relative = confined(root, path)?;
    let old_relative = old_path.map(|old| confined(root, old)).transpose()?;
    let mut git = Git::new(root, &DIFF_ARGS[..1])
        .args_extend(&DIFF_ARGS[2..])
        .args_extend(&["--src-prefix=a/", "--dst-prefix=b/", "--unified=3"])
        .arg(start)
        .arg(end)
        .arg("--")
        .arg(format!(":(literal){relative}"))
        .limit(MAX_GIT_OUTPUT_BYTES);
    if let Some(old) = &old_relative {
        git = git.arg(format!(":(literal){old}"));
    }
    let output = git
        .ok("comparing the file between the turn's snapshots")
        .await?;
    if output.stdout.is_empty() {
        return Err(ProtocolError::new(
            ErrorCode::NotFound,
            format!("\"{}\" did not change in this turn", shown(path)),
        ));
    }
    Ok(diff_answer(
        relative,
        old_relative,
        start.to_owned(),
        &output,
    ))
}

/// The [`FileDiff`] for git's patch of one file.
fn diff_answer(
    relative: String,
    old_relative: Option<String>,
    base: String,
    output: &GitOutput,
) -> FileDiff {
    let summary = summarise_patch(&output.stdout);
    let text = String::from_utf8_lossy(&output.stdout);
    let (diff, cut) = clip_at_line(&text, MAX_DIFF_BYTES);
    FileDiff {
        path: relative,
        old_path: old_relative
            .filter(|_| matches!(summary.status, ChangeStatus::Renamed | ChangeStatus::Copied)),
        status: summary.status,
        base,
        binary: summary.binary,
        insertions: summary.insertions,
        deletions: summary.deletions,
        diff: diff.to_owned(),
        truncated: cut || output.stdout_truncated,
    }
}

/// `path` checked like `ReadFile`'s (no escape, no NUL, no `~`, no URL...) and outside `.git`,
/// as a `/`-separated path relative to the root. Only the text is checked: a deleted file is
/// not on disk, and git itself refuses paths beyond a symlink.
fn confined(root: &Path, path: &str) -> Result<String, ProtocolError> {
    let relative = crate::files::confine(root, path)?;
    if crate::files::in_git_dir(&relative) {
        return Err(ProtocolError::new(
            ErrorCode::InvalidRequest,
            format!(
                "the path \"{}\" lies inside git's own .git folder",
                shown(path)
            ),
        ));
    }
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect();
    parts.map(|p| p.join("/")).ok_or_else(|| {
        ProtocolError::new(
            ErrorCode::InvalidRequest,
            format!("the path \"{}\" is not UTF-8", shown(path)),
        )
    })
}

struct PatchSummary {
    status: ChangeStatus,
    binary: bool,
    insertions: u64,
    deletions: u64,
}

/// Status, binary flag and line counts of a `git diff` patch for one file (two file sections
/// when a rename was not found: the old path deleted, the new one added).
fn summarise_patch(patch: &[u8]) -> PatchSummary {
    let (mut added, mut deleted, mut renamed, mut copied) = (false, false, false, false);
    let mut summary = PatchSummary {
        status: ChangeStatus::Modified,
        binary: false,
        insertions: 0,
        deletions: 0,
    };
    let mut in_hunk = false;
    for line in patch.split(|b| *b == b'\n') {
        if line.starts_with(b"diff --git ") {
            in_hunk = false;
            continue;
        }
        if in_hunk {
            match line.first() {
                Some(b'+') => summary.insertions += 1,
                Some(b'-') => summary.deletions += 1,
                _ => {}
            }
            continue;
        }
        if line.starts_with(b"@@") {
            in_hunk = true;
        } else if line.starts_with(b"new file mode") {
            added = true;
        } else if line.starts_with(b"deleted file mode") {
            deleted = true;
        } else if line.starts_with(b"rename from") {
            renamed = true;
        } else if line.starts_with(b"copy from") {
            copied = true;
        } else if line.starts_with(b"Binary files ") || line.starts_with(b"GIT binary patch") {
            summary.binary = true;
        }
    }
    summary.status = if renamed {
        ChangeStatus::Renamed
    } else if copied {
        ChangeStatus::Copied
    } else if added {
        ChangeStatus::Added
    } else if deleted {
        ChangeStatus::Deleted
    } else {
        ChangeStatus::Modified
    };
    summary
}

/// The longest prefix of `text` of at most `max` bytes that ends after a newline (or at a
/// character boundary when the first line alone is longer); and whether it was cut.
fn clip_at_line(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let head = &text[..text.floor_char_boundary(max)];
    match head.rfind('\n') {
        Some(end) => (&text[..=end], true),
        None => (head, true),
    }
}

/// `Ship`: commit everything on a branch of its own, switch to it, and push it when asked.
pub(crate) async fn ship(
    root: &Path,
    recorded_base: Option<&str>,
    request: ShipRequest,
    runner: &GitRunner,
) -> Result<Shipped, ProtocolError> {
    let message = check_message(&request.message)?;
    require_repository(root).await?;
    let current = current_branch(root).await?;
    let head = commit_of(root, "HEAD").await?;
    let protected = protected_branches(root).await?;
    let branch = match &request.branch {
        Some(branch) => {
            let branch = check_branch_name(root, branch).await?;
            refuse_protected(&branch, &protected)?;
            if current.as_deref() != Some(branch.as_str())
                && commit_of(root, &format!("refs/heads/{branch}"))
                    .await?
                    .is_some()
            {
                return Err(ProtocolError::new(
                    ErrorCode::InvalidRequest,
                    format!(
                        "the branch \"{branch}\" already exists and is not the one checked out; \
                         choose a new branch name, or leave it out for a sam/ branch"
                    ),
                ));
            }
            branch
        }
        None => match &current {
            Some(current) if current.starts_with("sam/") && !protected.contains(current) => {
                current.clone()
            }
            _ => free_branch(root, &format!("sam/{}", slug(&message))).await?,
        },
    };

    // Stage everything into the real index: a commit of exactly what the user reviewed.
    Git::new(root, &["add", "--all", "--", "."])
        .ok("staging the changes")
        .await?;
    let tree = Git::new(root, &["write-tree"])
        .ok("writing the tree")
        .await?
        .stdout_line();
    let head_tree = match &head {
        Some(head) => Some(
            Git::new(root, &["rev-parse", "--verify", "--end-of-options"])
                .arg(format!("{head}^{{tree}}"))
                .ok("reading the current tree")
                .await?
                .stdout_line(),
        ),
        None => None,
    };
    let unchanged = match &head_tree {
        Some(head_tree) => *head_tree == tree,
        None => tree == empty_tree(root).await?,
    };
    let (commit, committed) = if unchanged {
        let base = resolve_base(root, None, recorded_base).await?;
        match &head {
            Some(head) if *head != base => (head.clone(), false),
            _ => {
                return Err(ProtocolError::new(
                    ErrorCode::NothingToCommit,
                    "there is nothing to ship: the workspace has no changes against its base \
                     commit",
                ));
            }
        }
    } else {
        let mut git = Git::new(root, &["commit-tree", &tree]);
        if let Some(head) = &head {
            git = git.arg("-p").arg(head.clone());
        }
        git = git.arg("-m").arg(message.clone());
        for (name, value) in default_identity(root).await? {
            git = git.env(name, value);
        }
        let commit = git.ok("committing").await?.stdout_line();
        (commit, true)
    };

    // Point the branch at the commit (creating it only if it does not exist, or moving it only
    // from the commit it was on), then put HEAD on it: index and working tree already match.
    let old = if current.as_deref() == Some(branch.as_str()) {
        head.clone().unwrap_or_default()
    } else {
        String::new()
    };
    Git::new(root, &["update-ref", "-m", "sam: ship"])
        .arg(format!("refs/heads/{branch}"))
        .arg(commit.clone())
        .arg(old)
        .ok("creating the branch")
        .await?;
    if current.as_deref() != Some(branch.as_str()) {
        Git::new(root, &["symbolic-ref", "-m", "sam: ship", "HEAD"])
            .arg(format!("refs/heads/{branch}"))
            .ok("switching to the branch")
            .await?;
    }

    let origin = Git::new(root, &["remote", "get-url", "--", "origin"])
        .run("reading the origin remote", None)
        .await?;
    let remote_url = origin
        .status
        .success()
        .then(|| strip_url_credentials(&origin.stdout_line()));
    let mut shipped = Shipped {
        branch: branch.clone(),
        commit,
        committed,
        remote_url,
        pushed: false,
        push_error: None,
    };
    if request.push {
        if shipped.remote_url.is_none() {
            shipped.push_error = Some(
                "the checkout has no origin remote to push to; add one with `git remote add \
                 origin <url>`"
                    .to_owned(),
            );
        } else {
            match push(root, &branch, request.token.as_ref(), runner).await? {
                Ok(()) => shipped.pushed = true,
                Err(reason) => shipped.push_error = Some(reason),
            }
        }
    }
    tracing::info!(
        branch = %shipped.branch,
        committed = shipped.committed,
        pushed = shipped.pushed,
        "shipped"
    );
    Ok(shipped)
}

/// Pushes `branch` to the same name on `origin` and makes that its upstream. The outer error
/// is a host failure; the inner one git's (redacted) reason.
async fn push(
    root: &Path,
    branch: &str,
    token: Option<&Secret>,
    runner: &GitRunner,
) -> Result<Result<(), String>, ProtocolError> {
    let token = token.map(Secret::expose).filter(|t| !t.is_empty());
    let mut git = Git::new(root, &[]);
    if token.is_some() {
        // An empty helper list: git must not hand the token to a credential store.
        git = git.args_extend(&["-c", "credential.helper="]);
    }
    git = git
        .args_extend(&["push", "--porcelain", "--set-upstream", "--", "origin"])
        .arg(format!("refs/heads/{branch}:refs/heads/{branch}"))
        .timeout(runner.clone_timeout);
    if let Some(token) = token {
        git = git
            .env("GIT_ASKPASS", runner.askpass_exe.display().to_string())
            .env(ASKPASS_MODE_ENV, "1")
            .env(TOKEN_ENV, token);
    }
    let output = git.run("pushing", token).await?;
    if output.status.success() {
        Ok(Ok(()))
    } else {
        let stdout = redact(&String::from_utf8_lossy(&output.stdout), token);
        let detail = [output.stderr.trim(), stdout.trim()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        Ok(Err(format!(
            "git push failed ({}): {}",
            output.status,
            tail_chars(&detail, STDERR_TAIL_CHARS)
        )))
    }
}

fn check_message(message: &str) -> Result<String, ProtocolError> {
    let invalid = |m: String| ProtocolError::new(ErrorCode::InvalidRequest, m);
    let trimmed = message.trim();
    if trimmed.is_empty() {
        return Err(invalid(
            "the commit message is empty; say what the change does".to_owned(),
        ));
    }
    if trimmed.len() > MAX_COMMIT_MESSAGE_BYTES {
        return Err(invalid(format!(
            "the commit message is longer than {MAX_COMMIT_MESSAGE_BYTES} bytes"
        )));
    }
    if trimmed.contains('\0') {
        return Err(invalid("the commit message contains a NUL byte".to_owned()));
    }
    Ok(trimmed.to_owned())
}

/// Text checks for a commit-ish or branch name, before git sees it.
fn check_ref_text(what: &str, name: &str) -> Result<(), ProtocolError> {
    let problem = if name.is_empty() {
        Some("is empty")
    } else if name.len() > MAX_REF_BYTES {
        Some("is too long")
    } else if name.starts_with('-') {
        Some("starts with -, like an option")
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("contains a space or a control character")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(ProtocolError::new(
            ErrorCode::InvalidRequest,
            format!("the {what} \"{}\" {problem}", shown(name)),
        )),
        None => Ok(()),
    }
}

/// A branch name git accepts for a new local branch (`git check-ref-format --branch`),
/// without the `@{-N}` shorthands that command would expand.
async fn check_branch_name(root: &Path, branch: &str) -> Result<String, ProtocolError> {
    check_ref_text("branch", branch)?;
    let invalid = || {
        ProtocolError::new(
            ErrorCode::InvalidRequest,
            format!(
                "\"{}\" is not a valid branch name (see `git check-ref-format`)",
                shown(branch)
            ),
        )
    };
    if branch.contains("@{") || branch.starts_with("refs/") || branch == "HEAD" {
        return Err(invalid());
    }
    let output = Git::new(root, &["check-ref-format", "--branch"])
        .arg(branch)
        .run("checking the branch name", None)
        .await?;
    if output.status.success() && output.stdout_line() == branch {
        Ok(branch.to_owned())
    } else {
        Err(invalid())
    }
}

/// The checked-out branch, `None` for a detached HEAD.
async fn current_branch(root: &Path) -> Result<Option<String>, ProtocolError> {
    let output = Git::new(root, &["symbolic-ref", "--quiet", "--short", "HEAD"])
        .run("reading the current branch", None)
        .await?;
    Ok(output
        .status
        .success()
        .then(|| output.stdout_line())
        .filter(|b| !b.is_empty()))
}

/// The branches SAM never ships to: `origin`'s default branch (from `origin/HEAD`), or
/// `main` and `master` when it is unknown.
async fn protected_branches(root: &Path) -> Result<Vec<String>, ProtocolError> {
    let output = Git::new(
        root,
        &["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"],
    )
    .run("reading the default branch", None)
    .await?;
    let default = output
        .status
        .success()
        .then(|| output.stdout_line())
        .and_then(|r| r.strip_prefix("refs/remotes/origin/").map(str::to_owned))
        .filter(|b| !b.is_empty());
    Ok(match default {
        Some(default) => vec![default],
        None => vec!["main".to_owned(), "master".to_owned()],
    })
}

fn refuse_protected(branch: &str, protected: &[String]) -> Result<(), ProtocolError> {
    if protected.iter().any(|p| p == branch) {
        Err(ProtocolError::new(
            ErrorCode::ProtectedBranch,
            format!(
                "SAM does not ship to \"{branch}\", the repository's default branch: the work \
                 goes on a branch of its own for review. Choose another branch name, or leave \
                 it out for a sam/ branch."
            ),
        ))
    } else {
        Ok(())
    }
}

/// `wanted`, or `wanted-2`, `wanted-3`... whichever local branch does not exist yet.
async fn free_branch(root: &Path, wanted: &str) -> Result<String, ProtocolError> {
    for n in 1..100_u32 {
        let name = if n == 1 {
            wanted.to_owned()
        } else {
            format!("{wanted}-{n}")
        };
        if commit_of(root, &format!("refs/heads/{name}"))
            .await?
            .is_none()
        {
            return Ok(name);
        }
    }
    Err(ProtocolError::new(
        ErrorCode::InvalidRequest,
        format!("the branches {wanted} to {wanted}-99 all exist; name the branch yourself"),
    ))
}

/// A branch slug from a commit message's subject: lower-case ASCII letters and digits, words
/// joined by `-`, at most [`MAX_SLUG_CHARS`] characters; `changes` when nothing is left.
pub(crate) fn slug(message: &str) -> String {
    let subject = message.lines().next().unwrap_or_default();
    let mut slug = String::new();
    for c in subject.chars() {
        if c.is_ascii_alphanumeric() {
            if slug.len() >= MAX_SLUG_CHARS {
                break;
            }
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "changes".to_owned()
    } else {
        slug.to_owned()
    }
}

/// Author and committer variables for what the repository's config and the environment do
/// not set: SAM's own identity, so that a commit never fails for want of one.
async fn default_identity(root: &Path) -> Result<Vec<(&'static str, String)>, ProtocolError> {
    let mut env = Vec::new();
    for (key, vars, fallback) in [
        (
            "user.name",
            ["GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"],
            DEFAULT_AUTHOR_NAME,
        ),
        (
            "user.email",
            ["GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"],
            DEFAULT_AUTHOR_EMAIL,
        ),
    ] {
        let configured = Git::new(root, &["config", "--get", key])
            .run("reading the identity", None)
            .await?;
        if configured.status.success() && !configured.stdout_line().is_empty() {
            continue;
        }
        for var in vars {
            if std::env::var_os(var).is_none_or(|v| v.is_empty()) {
                env.push((var, fallback.to_owned()));
            }
        }
    }
    Ok(env)
}

/// `url` without the `user:password@` of a `scheme://` URL. An scp-like `git@host:path`
/// keeps its user name: it is not a credential.
pub(crate) fn strip_url_credentials(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let (scheme, rest) = url.split_at(scheme_end + 3);
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// At most 80 printable characters of a name, for messages.
fn shown(text: &str) -> String {
    text.chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn internal(message: String) -> ProtocolError {
    ProtocolError::new(ErrorCode::Internal, message)
}

/// The most a turn-boundary snapshot may take; past it the turn goes on without one.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(60);

/// How many paths one `git checkout-index` is given.
const PATHS_PER_CALL: usize = 256;

/// A snapshot of the checkout's working tree as git sees it (untracked files included,
/// ignored ones not) as a tree object: the real index copied to a private one, `git add -A`
/// into that, `git write-tree`. The user's index, HEAD, branches and stash are not touched.
/// Bounded by [`SNAPSHOT_TIMEOUT`].
pub(crate) async fn snapshot(root: &Path) -> Result<String, ProtocolError> {
    let work = async {
        require_repository(root).await?;
        let index = TempIndex::create(root).await?;
        stage_into(root, &index, &[".".to_owned()]).await?;
        let tree = Git::new(root, &["write-tree"])
            .index(&index.path)
            .ok("writing the snapshot tree")
            .await?
            .stdout_line();
        drop(index);
        Ok(tree)
    };
    tokio::time::timeout(SNAPSHOT_TIMEOUT, work)
        .await
        .map_err(|_| {
            ProtocolError::new(
                ErrorCode::TimedOut,
                format!(
                    "the snapshot of the working tree took longer than {} s",
                    SNAPSHOT_TIMEOUT.as_secs()
                ),
            )
        })?
}

/// Checks that `tree` is a tree id as the snapshots write them (hex, no option).
fn check_tree(tree: &str) -> Result<(), ProtocolError> {
    if !tree.is_empty() && tree.len() <= 64 && tree.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(internal(format!(
            "the recorded snapshot \"{}\" is not a tree id",
            shown(tree)
        )))
    }
}

/// What changed between two snapshots (paths relative to the root), as a [`Changes`] whose
/// `base` is `start`.
pub(crate) async fn tree_changes(
    root: &Path,
    start: &str,
    end: &str,
) -> Result<Changes, ProtocolError> {
    check_tree(start)?;
    check_tree(end)?;
    let output = Git::new(root, &DIFF_ARGS[..1])
        .args_extend(&DIFF_ARGS[2..])
        .args_extend(&["--raw", "--numstat", "-z"])
        .arg(start)
        .arg(end)
        .arg("--")
        .limit(MAX_GIT_OUTPUT_BYTES)
        .ok("comparing the turn's snapshots")
        .await?;
    let mut changes = parse_changes(&output.stdout, output.stdout_truncated);
    changes.base = start.to_owned();
    Ok(changes)
}

/// Every path that differs between `from` (a tree id) and `to` (a tree id, or the working
/// tree when `None`), renames split into a deletion and an addition: `(path, existed in
/// from)`.
async fn changed_paths(
    root: &Path,
    from: &str,
    to: Option<&str>,
) -> Result<Vec<(String, bool)>, ProtocolError> {
    let index = match to {
        Some(_) => None,
        None => {
            let index = TempIndex::create(root).await?;
            stage_into(root, &index, &[".".to_owned()]).await?;
            Some(index)
        }
    };
    let mut git = Git::new(root, &["diff"]);
    if index.is_some() {
        git = git.arg("--cached");
    }
    git = git
        .args_extend(&[
            "--no-ext-diff",
            "--no-textconv",
            "--relative",
            "--no-renames",
            "--ignore-submodules=none",
            "--name-status",
            "-z",
        ])
        .arg(from);
    if let Some(to) = to {
        git = git.arg(to);
    }
    git = git.arg("--").limit(MAX_GIT_OUTPUT_BYTES);
    if let Some(index) = &index {
        git = git.index(&index.path);
    }
    let output = git.ok("listing changed files").await?;
    drop(index);
    if output.stdout_truncated {
        return Err(internal(
            "the list of changed files is too long to revert safely".to_owned(),
        ));
    }
    let mut tokens = output.stdout.split(|b| *b == 0);
    let mut paths = Vec::new();
    while let (Some(status), Some(path)) = (tokens.next(), tokens.next()) {
        if status.is_empty() {
            break;
        }
        let path = std::str::from_utf8(path)
            .map_err(|_| internal("git named a path that is not UTF-8".to_owned()))?;
        paths.push((path.to_owned(), status.first() != Some(&b'A')));
    }
    Ok(paths)
}

/// Puts the files that changed between `start` and `end` back as they were in `start`, when
/// none of them differs now from `end`; returns them. Refuses with `ChangedSince`, listing
/// the files, otherwise. Only the working tree is written: the files come from a private
/// index filled from `start`, files `start` lacks are removed.
pub(crate) async fn revert_trees(
    root: &Path,
    start: &str,
    end: &str,
) -> Result<Vec<String>, ProtocolError> {
    check_tree(start)?;
    check_tree(end)?;
    require_repository(root).await?;
    let turn = changed_paths(root, start, Some(end)).await?;
    if turn.is_empty() {
        return Ok(Vec::new());
    }
    let since: std::collections::HashSet<String> = changed_paths(root, end, None)
        .await?
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    let mut conflicts: Vec<&str> = turn
        .iter()
        .map(|(path, _)| path.as_str())
        .filter(|path| since.contains(*path))
        .collect();
    if !conflicts.is_empty() {
        conflicts.sort_unstable();
        conflicts.dedup();
        let shown_list: Vec<String> = conflicts.iter().take(20).map(|p| shown(p)).collect();
        let more = conflicts.len().saturating_sub(shown_list.len());
        let mut message = format!(
            "nothing was reverted: {} of the files this turn changed {} changed again since it \
             ended: {}",
            conflicts.len(),
            if conflicts.len() == 1 { "has" } else { "have" },
            shown_list.join(", ")
        );
        if more > 0 {
            message.push_str(&format!(" and {more} more"));
        }
        return Err(ProtocolError::new(ErrorCode::ChangedSince, message));
    }
    let (restore, remove): (Vec<_>, Vec<_>) = turn.iter().partition(|(_, existed)| *existed);
    if !restore.is_empty() {
        let index = TempIndex::create(root).await?;
        Git::new(root, &["read-tree"])
            .arg(start)
            .index(&index.path)
            .ok("reading the turn's start")
            .await?;
        for chunk in restore.chunks(PATHS_PER_CALL) {
            let mut git = Git::new(root, &["checkout-index", "--force", "--"]).index(&index.path);
            for (path, _) in chunk {
                git = git.arg(path.clone());
            }
            git.ok("restoring the files").await?;
        }
        drop(index);
    }
    if !remove.is_empty() {
        let root = root.to_path_buf();
        let paths: Vec<String> = remove.iter().map(|(path, _)| path.clone()).collect();
        tokio::task::spawn_blocking(move || remove_created(&root, &paths))
            .await
            .map_err(|e| internal(format!("the removal task failed: {e}")))??;
    }
    let mut restored: Vec<String> = turn.into_iter().map(|(path, _)| path).collect();
    restored.sort_unstable();
    restored.dedup();
    tracing::info!(files = restored.len(), "reverted a turn");
    Ok(restored)
}

/// Removes the files a turn created (relative to `root`), never through a symlinked folder,
/// and the folders that become empty.
fn remove_created(root: &Path, paths: &[String]) -> Result<(), ProtocolError> {
    for path in paths {
        let relative = Path::new(path);
        let mut through_link = false;
        let mut at = root.to_path_buf();
        if let Some(parent) = relative.parent() {
            for part in parent.components() {
                at.push(part);
                if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
                    through_link = true;
                    break;
                }
            }
        }
        if through_link || relative.is_absolute() {
            tracing::warn!(path = %shown(path), "not removed: it lies beyond a symlink");
            continue;
        }
        let full = root.join(relative);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.is_dir() => continue,
            Ok(_) => std::fs::remove_file(&full).map_err(|e| {
                ProtocolError::new(
                    ErrorCode::Io,
                    format!("\"{}\" could not be removed: {e}", shown(path)),
                )
            })?,
            Err(_) => continue,
        }
        let mut parent = full.parent();
        while let Some(dir) = parent {
            if dir == root || std::fs::remove_dir(dir).is_err() {
                break;
            }
            parent = dir.parent();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_short_lower_case_words() {
        assert_eq!(
            slug("Fix the upload retry (#12)\n\nbody"),
            "fix-the-upload-retry-12"
        );
        assert_eq!(slug("  ---  "), "changes");
        assert_eq!(slug("Ünïcode only"), "n-code-only");
        assert!(slug(&"word ".repeat(40)).len() <= MAX_SLUG_CHARS);
        assert!(!slug(&"word ".repeat(40)).ends_with('-'));
    }

    #[test]
    fn credentials_are_stripped_from_remote_urls() {
        assert_eq!(
            strip_url_credentials("https://x-access-token:ghp_1@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            strip_url_credentials("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
        assert_eq!(
            strip_url_credentials("file:///srv/r.git"),
            "file:///srv/r.git"
        );
    }

    #[test]
    fn raw_and_numstat_output_is_parsed() {
        let output = b":100644 100644 aaa bbb M\0a.txt\0:000000 100644 000 ccc A\0img.png\0\
:100644 100644 ddd eee R090\0old.rs\0new.rs\0\
3\t1\ta.txt\0-\t-\timg.png\0\
1\t1\t\0old.rs\0new.rs\0";
        let changes = parse_changes(output, false);
        assert_eq!(changes.total_files, 3);
        assert_eq!(changes.insertions, 4);
        assert_eq!(changes.deletions, 2);
        assert_eq!(changes.files[1].path, "img.png");
        assert!(changes.files[1].binary);
        assert_eq!(changes.files[2].status, ChangeStatus::Renamed);
        assert_eq!(changes.files[2].old_path.as_deref(), Some("old.rs"));
        assert_eq!(changes.files[2].insertions, 1);
    }

    #[test]
    fn diffs_are_cut_at_a_line_end() {
        assert_eq!(clip_at_line("ab\ncd\nef", 7), ("ab\ncd\n", true));
        assert_eq!(clip_at_line("ab", 7), ("ab", false));
        assert_eq!(clip_at_line("abcdef", 3), ("abc", true));
    }
}

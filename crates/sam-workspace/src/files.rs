//! A workspace's files as the desktop uses them: which paths an agent mentioned exist, fuzzy
//! "go to file", a read-only quick view, and opening a file at a line in the user's editor.
//!
//! Every path is checked by the workspace's `sam-host` (confined to the checkout: no `..`
//! escape, no symlink out, no `~`, no URL, no NUL, bounded length), which answers with the
//! file's real absolute path there. A local workspace's file is then opened in place; a cloud
//! workspace's file is copied into a read-only local mirror first, and the answer says so.
//! What comes back from a host is checked again here before it touches the local disk: a
//! compromised VM must not be able to make the desktop write outside the mirror.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use sam_editor::{EditorChoice, EditorError, Environment, OpenMode, Position};
use sam_protocol::{
    FileContent, FileContents, FoundFiles, MAX_READ_BYTES, PathKind, PathResolution, RequestBody,
    ResolvedPath, ResponseBody,
};
use serde::{Deserialize, Serialize};

use sam_protocol::client::ClientError;

use crate::{HostLink, Lifecycle, Provider, WorkspaceError, Workspaces};

/// How a file was opened, for the user ("Opened in VS Code at line 42", "Opened a read-only
/// copy…").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum OpenHow {
    /// In the user's editor, in place (a local workspace).
    Editor,
    /// A read-only local copy of a cloud workspace's file, in the user's editor.
    Mirror,
    /// On the cloud workspace itself, in the editor's remote mode (VS Code or Cursor
    /// Remote-SSH, Zed over `ssh://`) through SAM's `sam-<name>` ssh entry.
    Remote,
    /// The system's default application for the file.
    System,
    /// No editor is set up: the app shows the file itself.
    QuickView,
}

/// What [`Workspaces::open_file`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct OpenedFile {
    pub how: OpenHow,
    /// The editor's name, when one was started.
    pub editor: Option<String>,
    /// The file, relative to the checkout root.
    pub path: String,
    /// The line it was opened at, when the editor could be told.
    #[specta(type = Option<f64>)]
    pub line: Option<u64>,
    /// One sentence for the user.
    pub message: String,
}

/// A file's text for the in-app quick view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct QuickViewFile {
    /// Relative to the checkout root.
    pub path: String,
    /// `None` for a file that is not UTF-8 text.
    pub text: Option<String>,
    /// Only the first [`QUICK_VIEW_BYTES`] were read.
    pub truncated: bool,
    #[specta(type = f64)]
    pub size_bytes: u64,
}

/// The most of a file the quick view reads.
pub const QUICK_VIEW_BYTES: u64 = 2 * 1024 * 1024;

/// The settings key of the editor choice (JSON of [`EditorChoice`]).
const EDITOR_SETTING: &str = "editor";

/// A location as people write it — `src/a.rs`, `src/a.rs:42`, `src/a.rs:42:7`, `src/a.rs#L42`,
/// `src/a.rs#L42C7`, `src/a.rs#L42-L50` — as (path, line, column). A suffix that is not a
/// line number stays part of the path.
pub fn parse_location(spec: &str) -> (String, Option<u64>, Option<u64>) {
    let number = |text: &str| -> Option<u64> {
        (!text.is_empty() && text.len() <= 9 && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    };
    if let Some((path, anchor)) = spec.rsplit_once("#L") {
        let first = anchor.split('-').next().unwrap_or_default();
        let (line, column) = match first.split_once('C') {
            Some((line, column)) => (number(line), number(column)),
            None => (number(first), None),
        };
        if line.is_some() && !path.is_empty() {
            return (path.to_owned(), line, column);
        }
    }
    let mut parts = spec.rsplitn(3, ':');
    let last = parts.next().unwrap_or_default();
    let middle = parts.next();
    let rest = parts.next();
    match (middle, rest) {
        (Some(line), Some(path))
            if !path.is_empty() && number(line).is_some() && number(last).is_some() =>
        {
            (path.to_owned(), number(line), number(last))
        }
        (Some(_), _) if number(last).is_some() => {
            let (path, _) = spec.rsplit_once(':').unwrap_or((spec, ""));
            if path.is_empty() {
                (spec.to_owned(), None, None)
            } else {
                (path.to_owned(), number(last), None)
            }
        }
        _ => (spec.to_owned(), None, None),
    }
}

impl Workspaces {
    /// The editor files open in (Settings → Editor); `Auto` until one is chosen, and when the
    /// stored choice is unreadable.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub fn editor_choice(&self) -> Result<EditorChoice, WorkspaceError> {
        Ok(self
            .store
            .setting(EDITOR_SETTING)?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or(EditorChoice::Auto))
    }

    /// Saves the editor choice.
    ///
    /// # Errors
    /// An editor id that is not in the catalogue, a custom command without a program, or a
    /// database failure.
    pub fn set_editor_choice(&self, choice: &EditorChoice) -> Result<(), WorkspaceError> {
        match choice {
            EditorChoice::Editor { id } if sam_editor::find_editor(id).is_none() => {
                return Err(WorkspaceError::InvalidInput(format!(
                    "{:?} is not an editor SAM knows",
                    id.chars().take(60).collect::<String>()
                )));
            }
            EditorChoice::Custom { argv } if argv.first().is_none_or(|p| p.trim().is_empty()) => {
                return Err(WorkspaceError::InvalidInput(
                    "a custom editor command needs a program".into(),
                ));
            }
            _ => {}
        }
        let json = serde_json::to_string(choice)
            .map_err(|e| WorkspaceError::InvalidInput(e.to_string()))?;
        self.store.set_setting(EDITOR_SETTING, &json)?;
        Ok(())
    }

    /// Which of `candidates` exist in the workspace (see [`RequestBody::ResolvePaths`]), one
    /// answer per candidate, in order.
    ///
    /// # Errors
    /// When the workspace is not ready or its host cannot be reached, or for too many
    /// candidates.
    pub async fn resolve_paths(
        &self,
        id_or_name: &str,
        candidates: Vec<String>,
    ) -> Result<Vec<ResolvedPath>, WorkspaceError> {
        match self
            .host_request(id_or_name, RequestBody::ResolvePaths { paths: candidates })
            .await?
        {
            ResponseBody::ResolvedPaths { paths } => Ok(paths),
            other => Err(unexpected("resolve_paths", &other)),
        }
    }

    /// Fuzzy "go to file" over the workspace's file index.
    ///
    /// # Errors
    /// When the workspace is not ready or its host cannot be reached.
    pub async fn find_files(
        &self,
        id_or_name: &str,
        query: &str,
        limit: u32,
    ) -> Result<FoundFiles, WorkspaceError> {
        let request = RequestBody::FindFiles {
            query: query.chars().take(1000).collect(),
            limit,
        };
        match self.host_request(id_or_name, request).await? {
            ResponseBody::FoundFiles(found) => Ok(found),
            other => Err(unexpected("find_files", &other)),
        }
    }

    /// The start of a file, for the quick view.
    ///
    /// # Errors
    /// When the path is refused or missing, or the host cannot be reached.
    pub async fn quick_view(
        &self,
        id_or_name: &str,
        path: &str,
    ) -> Result<QuickViewFile, WorkspaceError> {
        let contents = self.read_file(id_or_name, path, QUICK_VIEW_BYTES).await?;
        let text = match contents.content {
            FileContent::Utf8 { text } if !text.contains('\0') => Some(text),
            _ => None,
        };
        Ok(QuickViewFile {
            path: contents.path,
            text,
            truncated: contents.truncated,
            size_bytes: contents.size_bytes,
        })
    }

    async fn read_file(
        &self,
        id_or_name: &str,
        path: &str,
        max_bytes: u64,
    ) -> Result<FileContents, WorkspaceError> {
        let request = RequestBody::ReadFile {
            path: path.into(),
            max_bytes,
        };
        match self.host_request(id_or_name, request).await? {
            ResponseBody::File(contents) => Ok(contents),
            other => Err(unexpected("read_file", &other)),
        }
    }

    /// Opens `path` (as an agent wrote it: relative to the checkout, or absolute inside it)
    /// at `line`/`column` (1-based) in the editor `choice` picks from `env`. A local
    /// workspace's file opens in place; a cloud workspace's is copied to a read-only mirror
    /// (see [`Self::mirror_dir`]) and that copy opens. With no editor available the answer
    /// is [`OpenHow::QuickView`] and nothing is started. Blocking work (finding and starting
    /// the editor) runs off the async runtime.
    ///
    /// # Errors
    /// An invalid line or column, a path the host refuses or cannot find, a folder, a file too
    /// large to mirror, an editor that cannot be started (with its reason).
    pub async fn open_file(
        &self,
        id_or_name: &str,
        path: &str,
        line: Option<u64>,
        column: Option<u64>,
        env: Environment,
        choice: EditorChoice,
    ) -> Result<OpenedFile, WorkspaceError> {
        let position = Position::from_parts(line, column).map_err(editor_error)?;
        let row = self.row(id_or_name)?;
        let workspace = self.workspace_of(&row)?;
        if workspace.state != Lifecycle::Ready {
            return Err(WorkspaceError::InvalidInput(format!(
                "\"{}\" is {}, so its files cannot be opened",
                workspace.spec.name,
                workspace.state.as_str()
            )));
        }
        let found = self.resolve_one(&row.id, path).await?;
        // Why a cloud workspace's file opened as a copy rather than on the workspace.
        let mut remote_note = None;
        if workspace.spec.provider != Provider::Local {
            match self
                .open_remote(&row, &workspace, &found, position, &env, &choice)
                .await
            {
                Ok(Some(opened)) => return Ok(opened),
                Ok(None) => {}
                Err(why) => remote_note = Some(why),
            }
        }
        let (local, how) = if workspace.spec.provider == Provider::Local {
            (PathBuf::from(&found.absolute), OpenHow::Editor)
        } else {
            let copy = self.mirror(&row.id, &found.relative).await?;
            (copy, OpenHow::Mirror)
        };
        let relative = found.relative.clone();
        let launched = tokio::task::spawn_blocking(move || {
            sam_editor::open_local(&env, &choice, &local, position)
        })
        .await
        .map_err(|e| WorkspaceError::Host(format!("the editor launcher stopped: {e}")))?;
        let opened = match launched {
            Ok(opened) => opened,
            Err(EditorError::NoEditor) => {
                return Ok(OpenedFile {
                    how: OpenHow::QuickView,
                    editor: None,
                    line: position.map(|p| u64::from(p.line())),
                    message: format!(
                        "No editor is set up, so {relative} is shown here (choose one in Settings → Editor)"
                    ),
                    path: relative,
                });
            }
            Err(error) => return Err(editor_error(error)),
        };
        let line = position
            .filter(|_| opened.at_position)
            .map(|p| u64::from(p.line()));
        let how = match (how, opened.how) {
            (OpenHow::Editor, OpenMode::SystemDefault) => OpenHow::System,
            (how, _) => how,
        };
        let at = line.map_or_else(String::new, |line| format!(" at line {line}"));
        let message = match how {
            OpenHow::Mirror => match &remote_note {
                Some(why) => format!(
                    "Opened a read-only copy of {relative}{at} in {}: it could not open on the workspace ({why})",
                    opened.editor_name
                ),
                None => format!(
                    "Opened a read-only copy of {relative}{at} in {} (to edit on the workspace itself, use an editor with a remote mode and turn on remote editing in Settings → Editor)",
                    opened.editor_name
                ),
            },
            // Returned by `open_remote` above; a local launch never gets here with it.
            OpenHow::Remote => format!(
                "Opened {relative}{at} on the workspace in {}",
                opened.editor_name
            ),
            OpenHow::System => format!("Opened {relative} with the system's default app"),
            _ => format!("Opened {relative}{at} in {}", opened.editor_name),
        };
        tracing::info!(workspace = %row.id, ?how, editor = %opened.editor_id, "opened a file");
        Ok(OpenedFile {
            how,
            editor: Some(opened.editor_name),
            path: relative,
            line,
            message,
        })
    }

    /// Where a cloud workspace's files are mirrored for opening: `<data>/workspaces/<id>/mirror`.
    pub fn mirror_dir(&self, workspace_id: &str) -> PathBuf {
        self.dir(workspace_id).join("mirror")
    }

    async fn resolve_one(
        &self,
        workspace_id: &str,
        path: &str,
    ) -> Result<sam_protocol::FoundPath, WorkspaceError> {
        let mut answers = self
            .resolve_paths(workspace_id, vec![path.to_owned()])
            .await?;
        let answer = answers
            .pop()
            .ok_or_else(|| WorkspaceError::Host("the host answered no path resolution".into()))?;
        let shown: String = path.chars().take(200).collect();
        match answer.resolution {
            PathResolution::Found(found) if found.kind == PathKind::File => Ok(found),
            PathResolution::Found(_) => Err(WorkspaceError::InvalidInput(format!(
                "{shown:?} is a folder, not a file"
            ))),
            PathResolution::Missing => Err(WorkspaceError::InvalidInput(format!(
                "{shown:?} is not in the workspace (the agent may have moved or deleted it)"
            ))),
            PathResolution::Refused { reason } => Err(WorkspaceError::InvalidInput(format!(
                "{shown:?} cannot be opened: {reason}"
            ))),
        }
    }

    /// Copies a cloud workspace's file into its mirror, read-only, and returns the copy.
    async fn mirror(&self, workspace_id: &str, relative: &str) -> Result<PathBuf, WorkspaceError> {
        let inside = mirror_relative(relative)?;
        let contents = self
            .read_file(workspace_id, relative, MAX_READ_BYTES)
            .await?;
        if contents.truncated {
            return Err(WorkspaceError::InvalidInput(format!(
                "{relative} is {} MB, too large to copy from the workspace (the limit is {} MB)",
                contents.size_bytes / 1_000_000,
                MAX_READ_BYTES / 1_000_000
            )));
        }
        let bytes = match contents.content {
            FileContent::Utf8 { text } => text.into_bytes(),
            FileContent::Base64 { data } => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|e| WorkspaceError::Host(format!("the host sent bad base64: {e}")))?
            }
        };
        let target = self.mirror_dir(workspace_id).join(inside);
        tokio::task::spawn_blocking(move || write_read_only(&target, &bytes).map(|()| target))
            .await
            .map_err(|e| WorkspaceError::Host(format!("writing the copy stopped: {e}")))?
    }

    /// One request to a ready workspace's host over a kept connection (a new one when there
    /// is none, or when the kept one turns out to be gone); a refusal is the host's message as
    /// invalid input (it names the path and the reason).
    pub(crate) async fn host_request(
        &self,
        id_or_name: &str,
        body: RequestBody,
    ) -> Result<ResponseBody, WorkspaceError> {
        let id = self.row(id_or_name)?.id;
        let mut fresh = false;
        loop {
            let link = match self.links.get(&id) {
                Some(link) => link,
                None => {
                    fresh = true;
                    let link = Arc::new(self.attach(&id).await?);
                    self.links.put(&id, Arc::clone(&link));
                    link
                }
            };
            match link.request(body.clone()).await {
                Ok(answer) => return Ok(answer),
                Err(ClientError::Host(error)) => {
                    return Err(WorkspaceError::InvalidInput(error.message));
                }
                // A kept connection can have died with its daemon (a reboot, an update): once
                // more on a new one. File requests only read, so asking twice is harmless.
                Err(ClientError::Disconnected(_)) if !fresh => self.links.forget(&id),
                Err(other) => {
                    self.links.forget(&id);
                    return Err(WorkspaceError::Host(other.to_string()));
                }
            }
        }
    }
}

/// The kept connections, by workspace id.
#[derive(Debug, Clone, Default)]
pub(crate) struct Links(Arc<Mutex<HashMap<String, Arc<HostLink>>>>);

impl Links {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<HostLink>>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, id: &str) -> Option<Arc<HostLink>> {
        self.lock().get(id).cloned()
    }

    fn put(&self, id: &str, link: Arc<HostLink>) {
        self.lock().insert(id.to_owned(), link);
    }

    pub(crate) fn forget(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// `relative` (as a host named it) as a path that stays inside a mirror folder: plain names
/// only — no root, no `.`/`..`, no empty part, no NUL or backslash.
fn mirror_relative(relative: &str) -> Result<PathBuf, WorkspaceError> {
    let refuse = || {
        WorkspaceError::Host(format!(
            "the host named a file {:?} that cannot be copied safely",
            relative.chars().take(200).collect::<String>()
        ))
    };
    if relative.is_empty() || relative.contains(['\0', '\\']) || relative.len() > 4096 {
        return Err(refuse());
    }
    let path = Path::new(relative);
    if !path
        .components()
        .all(|component| matches!(component, Component::Normal(_)))
        || relative
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(refuse());
    }
    Ok(path.to_owned())
}

/// Replaces `target` with `bytes`, mode 0444 (the folders 0700). Refuses to write through a
/// symlink anywhere in the mirror.
fn write_read_only(target: &Path, bytes: &[u8]) -> Result<(), WorkspaceError> {
    let io = |what: &str| WorkspaceError::io(format!("Could not {what} {}", target.display()));
    let folder = target
        .parent()
        .ok_or_else(|| WorkspaceError::Host("a mirror file has no folder".into()))?;
    std::fs::create_dir_all(folder).map_err(io("create the folder of"))?;
    let temp = folder.join(format!(
        ".{}.sam-tmp",
        target.file_name().unwrap_or_default().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&temp);
    {
        use std::io::Write as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o444);
        }
        let mut file = options.open(&temp).map_err(io("write a copy of"))?;
        file.write_all(bytes).map_err(io("write a copy of"))?;
    }
    if std::fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink()) {
        let _ = std::fs::remove_file(&temp);
        return Err(WorkspaceError::InvalidInput(format!(
            "{} is a symlink; refusing to replace it",
            target.display()
        )));
    }
    std::fs::rename(&temp, target).map_err(io("replace"))
}

fn editor_error(error: EditorError) -> WorkspaceError {
    WorkspaceError::InvalidInput(error.to_string())
}

fn unexpected(what: &str, answer: &ResponseBody) -> WorkspaceError {
    // The variant's name only: the body may hold a whole file.
    let shown = format!("{answer:?}");
    let name = shown.split(['(', ' ', '{']).next().unwrap_or_default();
    WorkspaceError::Host(format!("unexpected answer to {what}: {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_parsed_as_people_write_them() {
        type Parsed<'a> = (&'a str, Option<u64>, Option<u64>);
        let cases: &[(&str, Parsed)] = &[
            ("src/a.rs", ("src/a.rs", None, None)),
            ("src/a.rs:42", ("src/a.rs", Some(42), None)),
            ("src/a.rs:42:7", ("src/a.rs", Some(42), Some(7))),
            ("src/a.rs#L42", ("src/a.rs", Some(42), None)),
            ("src/a.rs#L42C7", ("src/a.rs", Some(42), Some(7))),
            ("src/a.rs#L10-L20", ("src/a.rs", Some(10), None)),
            ("/abs/x.py:3", ("/abs/x.py", Some(3), None)),
            ("odd:name.rs", ("odd:name.rs", None, None)),
            ("odd:name.rs:5", ("odd:name.rs", Some(5), None)),
            ("a.rs:", ("a.rs:", None, None)),
            (":42", (":42", None, None)),
            ("a.rs:x:3", ("a.rs:x", Some(3), None)),
            ("a.rs#Lx", ("a.rs#Lx", None, None)),
            ("a.rs:99999999999", ("a.rs:99999999999", None, None)),
        ];
        for (spec, (path, line, column)) in cases {
            assert_eq!(
                parse_location(spec),
                ((*path).to_owned(), *line, *column),
                "{spec}"
            );
        }
    }

    #[test]
    fn a_hosts_path_names_must_stay_inside_the_mirror() {
        for good in ["a.rs", "src/a.rs", "dir with space/ü.txt", ".github/ci.yml"] {
            assert!(mirror_relative(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a/./b",
            "a\\b",
            "a\0b",
            "a/",
            "..",
        ] {
            assert!(mirror_relative(bad).is_err(), "{bad:?}");
        }
    }
}

//! Review and ship for a workspace: what the agent changed (against the commit the checkout
//! started from), one file's diff, and shipping it all as a commit on a `sam/` branch pushed
//! to `origin`. The workspace's `sam-host` runs git where the checkout is; this module only
//! asks it and maps its answers.
//!
//! Reads reuse the kept host connection of the file requests; shipping attaches afresh: it is
//! not a request to send twice over a reused connection that might have died half-way.

use sam_protocol::client::ClientError;
use sam_protocol::{
    Changes, ChangesVersion, ErrorCode, FileDiff, RequestBody, ResponseBody, Secret, Shipped,
    TurnChanges, TurnRef, TurnReverted,
};

use crate::{WorkspaceError, Workspaces};

/// What shipping did, with the pull request when one was asked for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShipReport {
    /// The commit, branch and push.
    #[serde(flatten)]
    pub shipped: Shipped,
    /// The pull request, opened or found already open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<sam_forge::PullRequest>,
}

/// Why shipping with a pull request failed.
#[derive(Debug, thiserror::Error)]
pub enum ShipFlowError {
    /// The commit or push (see [`ShipError`]).
    #[error(transparent)]
    Ship(#[from] ShipError),
    /// The branch is pushed but the pull request could not be opened.
    #[error("{0}")]
    Forge(#[from] sam_forge::ForgeError),
    /// A pull request was asked for but the push failed or the remote is not on GitHub.
    #[error("{0}")]
    NoPullRequest(String),
}

/// What to ship.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShipOptions {
    /// The commit message; its first line is the subject and names the branch.
    pub message: String,
    /// The branch to commit on; `None`: `sam/<slug of the subject>`.
    pub branch: Option<String>,
    /// Push the branch to `origin`.
    pub push: bool,
}

/// Why shipping failed.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    /// There is nothing to ship: no change against the base.
    #[error("{0}")]
    NothingToCommit(String),
    /// The branch asked for is the repository's default branch, which SAM never ships to.
    #[error("{0}")]
    ProtectedBranch(String),
    /// Anything else: the workspace, its host, a bad message or branch name.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
}

impl ShipError {
    /// A stable code for the UI and `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NothingToCommit(_) => "nothing_to_commit",
            Self::ProtectedBranch(_) => "protected_branch",
            Self::Workspace(WorkspaceError::InvalidInput(_) | WorkspaceError::NotFound(_)) => {
                "invalid_input"
            }
            Self::Workspace(_) => "workspace",
        }
    }
}

/// Why reverting a turn failed.
#[derive(Debug, thiserror::Error)]
pub enum RevertError {
    /// Files the turn changed have changed again since it ended; nothing was reverted. The
    /// message lists them.
    #[error("{0}")]
    ChangedSince(String),
    /// The turn is still running.
    #[error("{0}")]
    Busy(String),
    /// Anything else: the workspace, its host, an unknown session or turn.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
}

impl RevertError {
    /// A stable code for the UI and `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ChangedSince(_) => "changed_since",
            Self::Busy(_) => "busy",
            Self::Workspace(WorkspaceError::InvalidInput(_) | WorkspaceError::NotFound(_)) => {
                "invalid_input"
            }
            Self::Workspace(_) => "workspace",
        }
    }
}

impl Workspaces {
    /// The files one agent turn (`prompt` of `session`) changed, from the snapshots the host
    /// took when the prompt was sent and when the turn ended, see
    /// [`RequestBody::TurnChanges`].
    ///
    /// # Errors
    /// As [`Self::changes`]; also for an unknown session or turn, one without snapshots, or
    /// a turn still running.
    pub async fn turn_changes(
        &self,
        id_or_name: &str,
        session: &str,
        prompt: u32,
    ) -> Result<TurnChanges, WorkspaceError> {
        let body = RequestBody::TurnChanges {
            session: session.to_owned(),
            prompt,
        };
        match self.changes_request(id_or_name, body).await? {
            ResponseBody::TurnChanges(changes) => Ok(changes),
            _ => Err(WorkspaceError::Host(
                "unexpected answer to turn_changes".into(),
            )),
        }
    }

    /// Puts the files one turn changed back as they were when it started, only if none has
    /// changed since it ended, see [`RequestBody::RevertTurn`].
    ///
    /// # Errors
    /// [`RevertError::ChangedSince`] (nothing reverted), [`RevertError::Busy`], or the
    /// workspace's.
    pub async fn revert_turn(
        &self,
        id_or_name: &str,
        session: &str,
        prompt: u32,
    ) -> Result<TurnReverted, RevertError> {
        let body = RequestBody::RevertTurn {
            session: session.to_owned(),
            prompt,
        };
        let link = self.attach(id_or_name).await?;
        match link.request(body).await {
            Ok(ResponseBody::TurnReverted(reverted)) => Ok(reverted),
            Ok(_) => Err(WorkspaceError::Host("unexpected answer to revert_turn".into()).into()),
            Err(ClientError::Host(error)) => Err(match error.code {
                ErrorCode::ChangedSince => RevertError::ChangedSince(error.message),
                ErrorCode::Busy => RevertError::Busy(error.message),
                _ => host_refusal(error).into(),
            }),
            Err(other) => Err(WorkspaceError::Host(other.to_string()).into()),
        }
    }

    /// The workspace's changes against `base` (a commit-ish; `None`: the commit the checkout
    /// started from), see [`RequestBody::Changes`].
    ///
    /// # Errors
    /// When the workspace is not ready, its host cannot be reached, the checkout is no git
    /// repository, or `base` names no commit.
    pub async fn changes(
        &self,
        id_or_name: &str,
        base: Option<&str>,
    ) -> Result<Changes, WorkspaceError> {
        let body = RequestBody::Changes {
            base: base.map(str::to_owned),
        };
        match self.changes_request(id_or_name, body).await? {
            ResponseBody::Changes(changes) => Ok(changes),
            _ => Err(WorkspaceError::Host("unexpected answer to changes".into())),
        }
    }

    /// Waits until the workspace's checkout changes (see [`RequestBody::WaitChanges`]): the
    /// host's change counter once it differs from `after`, or the same counter after
    /// `timeout_ms` (at most [`sam_protocol::MAX_WAIT_CHANGES_MS`]). `live: false` means the
    /// host cannot watch the checkout and the caller should poll.
    ///
    /// # Errors
    /// As [`Self::changes`]; a host older than the request refuses it as invalid input.
    pub async fn wait_changes(
        &self,
        id_or_name: &str,
        after: u64,
        timeout_ms: u64,
    ) -> Result<ChangesVersion, WorkspaceError> {
        let body = RequestBody::WaitChanges { after, timeout_ms };
        match self.changes_request(id_or_name, body).await? {
            ResponseBody::ChangesVersion(version) => Ok(version),
            _ => Err(WorkspaceError::Host(
                "unexpected answer to wait_changes".into(),
            )),
        }
    }

    /// The unified diff of one changed file (`old_path`: where a renamed file came from, as
    /// [`Changes`] lists it).
    ///
    /// # Errors
    /// As [`Self::changes`]; also for a path outside the checkout, or one without changes.
    pub async fn file_diff(
        &self,
        id_or_name: &str,
        path: &str,
        old_path: Option<&str>,
        base: Option<&str>,
    ) -> Result<FileDiff, WorkspaceError> {
        let body = RequestBody::FileDiff {
            path: path.to_owned(),
            old_path: old_path.map(str::to_owned),
            base: base.map(str::to_owned),
            turn: None,
        };
        match self.changes_request(id_or_name, body).await? {
            ResponseBody::FileDiff(diff) => Ok(diff),
            _ => Err(WorkspaceError::Host(
                "unexpected answer to file_diff".into(),
            )),
        }
    }

    /// The unified diff of one file in one agent turn (`prompt` of `session`): between the
    /// snapshots the host took when the turn started and ended.
    ///
    /// # Errors
    /// As [`Self::turn_changes`]; also for a file the turn did not change.
    pub async fn turn_file_diff(
        &self,
        id_or_name: &str,
        path: &str,
        old_path: Option<&str>,
        session: &str,
        prompt: u32,
    ) -> Result<FileDiff, WorkspaceError> {
        let body = RequestBody::FileDiff {
            path: path.to_owned(),
            old_path: old_path.map(str::to_owned),
            base: None,
            turn: Some(TurnRef {
                session: session.to_owned(),
                prompt,
            }),
        };
        match self.changes_request(id_or_name, body).await? {
            ResponseBody::FileDiff(diff) => Ok(diff),
            _ => Err(WorkspaceError::Host(
                "unexpected answer to file_diff".into(),
            )),
        }
    }

    /// Commits every change on a branch of its own and pushes it when asked; `token` (a
    /// GitHub token from the vault) reaches git through the host's askpass only. A failed
    /// push is not an error: [`Shipped::push_error`] says why.
    ///
    /// # Errors
    /// [`ShipError::NothingToCommit`], [`ShipError::ProtectedBranch`], or the workspace's.
    pub async fn ship(
        &self,
        id_or_name: &str,
        options: ShipOptions,
        token: Option<Secret>,
    ) -> Result<Shipped, ShipError> {
        let body = RequestBody::Ship {
            message: options.message,
            branch: options.branch,
            push: options.push,
            token,
        };
        let link = self.attach(id_or_name).await?;
        match link.request(body).await {
            Ok(ResponseBody::Shipped(shipped)) => Ok(shipped),
            Ok(_) => Err(WorkspaceError::Host("unexpected answer to ship".into()).into()),
            Err(ClientError::Host(error)) => Err(match error.code {
                ErrorCode::NothingToCommit => ShipError::NothingToCommit(error.message),
                ErrorCode::ProtectedBranch => ShipError::ProtectedBranch(error.message),
                _ => host_refusal(error).into(),
            }),
            Err(other) => Err(WorkspaceError::Host(other.to_string()).into()),
        }
    }

    /// The whole "ship" flow the app and `sam ship` share: commit on a `sam/` branch, push it
    /// (the GitHub `token` goes to git only for an https GitHub remote: the host's askpass
    /// would hand it to any host that asked), then open a pull request on GitHub when
    /// `pull_request` is set (or find the one already open).
    ///
    /// # Errors
    /// [`ShipFlowError`]: the commit or push refused, the PR not possible or refused. A
    /// failed push without a PR asked for is not an error ([`Shipped::push_error`]).
    pub async fn ship_with_pull_request(
        &self,
        id_or_name: &str,
        options: ShipOptions,
        pull_request: bool,
        token: Option<&str>,
        github: &sam_forge::GitHub,
    ) -> Result<ShipReport, ShipFlowError> {
        let message = options.message.clone();
        // Commit first, without pushing: where the remote is decides whether the token goes.
        let mut shipped = self
            .ship(
                id_or_name,
                ShipOptions {
                    push: false,
                    ..options.clone()
                },
                None,
            )
            .await?;
        let repo = shipped
            .remote_url
            .as_deref()
            .and_then(|url| sam_forge::GitHubRepo::from_remote_url(url, &[]).ok());
        if options.push {
            let https = shipped
                .remote_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"));
            let push_token = token
                .filter(|_| repo.is_some() && https)
                .map(|t| Secret::new(t.to_owned()));
            let pushed = self
                .ship(
                    id_or_name,
                    ShipOptions {
                        branch: Some(shipped.branch.clone()),
                        push: true,
                        ..options
                    },
                    push_token,
                )
                .await?;
            shipped.pushed = pushed.pushed;
            shipped.push_error = pushed.push_error;
        }
        if !pull_request {
            return Ok(ShipReport {
                shipped,
                pull_request: None,
            });
        }
        let Some(token) = token else {
            return Err(ShipFlowError::NoPullRequest(
                "opening a pull request needs a GitHub token: add one in Settings → Credentials"
                    .into(),
            ));
        };
        if !shipped.pushed {
            return Err(ShipFlowError::NoPullRequest(format!(
                "committed on {}, but the push failed ({}), so no pull request was opened",
                shipped.branch,
                shipped.push_error.as_deref().unwrap_or("not pushed")
            )));
        }
        let Some(repo) = repo else {
            return Err(ShipFlowError::NoPullRequest(format!(
                "the branch {} is pushed, but its remote is not on GitHub: open the pull request on your forge",
                shipped.branch
            )));
        };
        let (title, body) = match message.trim().split_once('\n') {
            Some((title, body)) => (title.trim().to_owned(), body.trim().to_owned()),
            None => (message.trim().to_owned(), String::new()),
        };
        let body = if body.is_empty() {
            "Shipped with SAM Desktop.".to_owned()
        } else {
            format!("{body}\n\nShipped with SAM Desktop.")
        };
        let opened = github
            .open_pull_request(
                token,
                &repo,
                &sam_forge::NewPullRequest {
                    title,
                    head: shipped.branch.clone(),
                    base: None,
                    body,
                },
            )
            .await?;
        Ok(ShipReport {
            shipped,
            pull_request: Some(opened),
        })
    }

    /// Reads (changes, diffs) go over the kept connection of the file requests: the panel
    /// asks every few seconds, and reading twice after a dropped connection is harmless.
    async fn changes_request(
        &self,
        id_or_name: &str,
        body: RequestBody,
    ) -> Result<ResponseBody, WorkspaceError> {
        self.host_request(id_or_name, body).await
    }
}

fn host_refusal(error: sam_protocol::ProtocolError) -> WorkspaceError {
    match error.code {
        ErrorCode::InvalidRequest | ErrorCode::NotFound => {
            WorkspaceError::InvalidInput(error.message)
        }
        _ => WorkspaceError::Host(error.message),
    }
}

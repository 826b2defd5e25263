//! The checkout step of a setup: `git clone` (or reuse of an existing checkout, or a local
//! folder used in place).
//!
//! A git token travels to git only through the git process's environment and `sam-host`'s own
//! askpass mode ([`crate::askpass`]); credential helpers are switched off for that clone so git
//! cannot store it. Git's error output is redacted before it becomes a failure reason.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sam_protocol::{RepoSource, SetupPlan, step};
use tokio::process::Command;

use crate::askpass::{ASKPASS_MODE_ENV, TOKEN_ENV};

/// How much of git's stderr a failure reason keeps (its end, where the error is).
const STDERR_TAIL_CHARS: usize = 2000;

/// How git is run.
#[derive(Debug, Clone)]
pub(crate) struct GitRunner {
    /// This executable, run by git as `GIT_ASKPASS`.
    pub askpass_exe: PathBuf,
    /// The most a clone may take before it is killed.
    pub clone_timeout: Duration,
}

/// A failed step: which one and why (already redacted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StepFailure {
    pub step: &'static str,
    pub reason: String,
}

/// The name of the step that prepares `repository`.
pub(crate) fn step_name(repository: &RepoSource) -> &'static str {
    match repository {
        RepoSource::GitUrl { .. } => step::CLONE,
        RepoSource::LocalPath { .. } => step::LOCAL_FOLDER,
    }
}

/// Checks a plan before anything runs; the message says what to fix.
pub(crate) fn validate(plan: &SetupPlan) -> Result<(), String> {
    if plan.workspace_id.trim().is_empty() {
        return Err("the setup plan has an empty workspace_id".to_owned());
    }
    let no_nul = |what: &str, value: &str| {
        if value.contains('\0') {
            Err(format!("the setup plan's {what} contains a NUL byte"))
        } else {
            Ok(())
        }
    };
    no_nul("workspace_id", &plan.workspace_id)?;
    match &plan.repository {
        RepoSource::GitUrl { url, branch } => {
            no_nul("url", url)?;
            if url.trim().is_empty() || url.starts_with('-') {
                return Err(format!(
                    "\"{}\" is not a git URL",
                    redact_url_credentials(url)
                ));
            }
            if let Some(branch) = branch {
                no_nul("branch", branch)?;
                if branch.is_empty() || branch.starts_with('-') {
                    return Err(format!("\"{branch}\" is not a branch name"));
                }
            }
            no_nul("checkout_dir", &plan.checkout_dir)?;
            if !Path::new(&plan.checkout_dir).is_absolute() {
                return Err(format!(
                    "the checkout_dir \"{}\" must be an absolute path on the host",
                    plan.checkout_dir
                ));
            }
        }
        RepoSource::LocalPath { path } => {
            no_nul("path", path)?;
            if !Path::new(path).is_absolute() {
                return Err(format!(
                    "the local folder \"{path}\" must be an absolute path on the host"
                ));
            }
        }
    }
    Ok(())
}

/// Runs the checkout step of `plan` and returns the canonical checkout root.
pub(crate) async fn prepare(plan: &SetupPlan, git: &GitRunner) -> Result<PathBuf, StepFailure> {
    let step = step_name(&plan.repository);
    let fail = |reason: String| StepFailure { step, reason };
    match &plan.repository {
        RepoSource::LocalPath { path } => {
            let path = PathBuf::from(path);
            match tokio::fs::metadata(&path).await {
                Ok(meta) if meta.is_dir() => canonical(&path).await.map_err(fail),
                Ok(_) => Err(fail(format!("{} is not a folder", path.display()))),
                Err(error) => Err(fail(format!(
                    "the folder {} cannot be used: {error}",
                    path.display()
                ))),
            }
        }
        RepoSource::GitUrl { url, branch } => {
            let dir = PathBuf::from(&plan.checkout_dir);
            if is_checkout_of(&dir, url).await {
                tracing::info!(dir = %dir.display(), "checkout exists; clone skipped");
                return canonical(&dir).await.map_err(fail);
            }
            if has_entries(&dir).await {
                return Err(fail(format!(
                    "{} already exists and is not a checkout of {}. Remove it or choose another \
                     checkout folder.",
                    dir.display(),
                    redact_url_credentials(url)
                )));
            }
            if let Some(parent) = dir.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|e| fail(format!("cannot create {}: {e}", parent.display())))?;
            }
            let token = plan.git_token.as_ref().map(|t| t.expose());
            clone(git, url, branch.as_deref(), &dir, token)
                .await
                .map_err(|reason| fail(redact(&reason, token)))?;
            canonical(&dir).await.map_err(fail)
        }
    }
}

async fn clone(
    git: &GitRunner,
    url: &str,
    branch: Option<&str>,
    dir: &Path,
    token: Option<&str>,
) -> Result<(), String> {
    let mut command = Command::new("git");
    if token.is_some() {
        // An empty helper list: git must not hand the token to a credential store.
        command.args(["-c", "credential.helper="]);
    }
    command.args(["clone", "--quiet"]);
    if let Some(branch) = branch {
        command.arg("--branch").arg(branch);
    }
    command.arg("--").arg(url).arg(dir);
    command
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove(TOKEN_ENV)
        .env_remove(ASKPASS_MODE_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(token) = token {
        command
            .env("GIT_ASKPASS", &git.askpass_exe)
            .env(ASKPASS_MODE_ENV, "1")
            .env(TOKEN_ENV, token);
    }
    let child = command
        .spawn()
        .map_err(|e| format!("git could not be started (is it installed?): {e}"))?;
    let output = match tokio::time::timeout(git.clone_timeout, child.wait_with_output()).await {
        Ok(output) => output.map_err(|e| format!("git clone failed: {e}"))?,
        Err(_) => {
            return Err(format!(
                "git clone took longer than {} s and was stopped",
                git.clone_timeout.as_secs()
            ));
        }
    };
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail = tail_chars(stderr.trim(), STDERR_TAIL_CHARS);
    Err(format!("git clone failed ({}): {tail}", output.status))
}

/// Whether `dir` is the top of a git checkout whose `origin` is `url`.
async fn is_checkout_of(dir: &Path, url: &str) -> bool {
    let Ok(canonical_dir) = tokio::fs::canonicalize(dir).await else {
        return false;
    };
    let top = git_output(dir, &["rev-parse", "--show-toplevel"]).await;
    let top_matches = match top {
        Some(top) => tokio::fs::canonicalize(top.trim())
            .await
            .is_ok_and(|top| top == canonical_dir),
        None => false,
    };
    top_matches
        && git_output(dir, &["config", "--get", "remote.origin.url"])
            .await
            .is_some_and(|origin| origin.trim() == url)
}

async fn git_output(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), output)
        .await
        .ok()?
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

async fn has_entries(dir: &Path) -> bool {
    match tokio::fs::read_dir(dir).await {
        Ok(mut entries) => matches!(entries.next_entry().await, Ok(Some(_))),
        // Missing (the normal case) or a file: a file makes git fail with a clear message.
        Err(_) => tokio::fs::metadata(dir).await.is_ok_and(|m| !m.is_dir()),
    }
}

async fn canonical(path: &Path) -> Result<PathBuf, String> {
    tokio::fs::canonicalize(path)
        .await
        .map_err(|e| format!("{} cannot be resolved: {e}", path.display()))
}

pub(crate) fn tail_chars(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        text.to_owned()
    } else {
        let tail: String = text.chars().skip(count - max).collect();
        format!("…{tail}")
    }
}

/// Removes `token` and any URL credentials from `text`.
pub(crate) fn redact(text: &str, token: Option<&str>) -> String {
    let mut text = redact_url_credentials(text);
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        text = text.replace(token, "<redacted>");
    }
    text
}

/// Replaces the `user:password@` part of every `scheme://user:password@host` in `text`.
pub(crate) fn redact_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                out.push_str("<redacted>");
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_are_redacted() {
        assert_eq!(
            redact_url_credentials("fatal: https://bob:hunter2@example.com/x.git not found"),
            "fatal: https://<redacted>@example.com/x.git not found"
        );
        assert_eq!(
            redact_url_credentials("file:///tmp/x and https://example.com/y"),
            "file:///tmp/x and https://example.com/y"
        );
        assert_eq!(
            redact("token tok123 here", Some("tok123")),
            "token <redacted> here"
        );
    }
}

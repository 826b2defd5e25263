//! Real git repositories for tests: `git` run with a fixed identity, and a repository with
//! commits made in a temporary folder.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// Runs `git args…` in `dir` with a fixed author and committer.
///
/// # Errors
/// When git cannot be run or exits with an error.
pub fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    output(dir, args).map(drop)
}

/// As [`git`], returning what git printed on stdout, trimmed.
///
/// # Errors
/// When git cannot be run, exits with an error, or prints something that is not UTF-8.
pub fn output(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "SAM test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "SAM test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .context("running git")?;
    if !output.status.success() {
        bail!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)
        .context("git printed something that is not UTF-8")?
        .trim()
        .to_owned())
}

/// A repository on branch `main` with one commit of `files` (path, content) in a new
/// temporary folder.
///
/// # Errors
/// When the folder or git fails.
pub fn repository(files: &[(&str, &str)]) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir().context("creating the repository folder")?;
    commit_into(dir.path(), files)?;
    Ok(dir)
}

/// `git init -b main` in `dir` (an existing folder), then one commit of `files`.
///
/// # Errors
/// When writing or git fails.
pub fn commit_into(dir: &Path, files: &[(&str, &str)]) -> anyhow::Result<()> {
    git(dir, &["init", "-q", "-b", "main"])?;
    for (path, content) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, content)?;
    }
    git(dir, &["add", "."])?;
    git(dir, &["commit", "-q", "-m", "first"])
}

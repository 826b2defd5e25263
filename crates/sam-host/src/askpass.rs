//! `sam-host` as git's `GIT_ASKPASS` program: how a git token reaches git without ever being
//! in an argv, a file or a log.
//!
//! The daemon runs `git clone` with `GIT_ASKPASS` pointing at its own executable,
//! [`ASKPASS_MODE_ENV`] set and the token in [`TOKEN_ENV`], all in the git process's
//! environment only. Git runs the askpass program as `<program> <prompt>` (no shell, no room
//! for a subcommand), so `main` checks [`ASKPASS_MODE_ENV`] before parsing arguments.

/// Set (to `1`) in the environment of git processes: makes `sam-host <prompt>` answer as askpass.
pub const ASKPASS_MODE_ENV: &str = "SAM_HOST_ASKPASS";

/// The git token, in the environment of git processes only.
pub const TOKEN_ENV: &str = "SAM_HOST_GIT_TOKEN";

/// The user name sent with a token: accepted by GitHub, GitLab (any name works with a token)
/// and Gitea/Forgejo.
pub const TOKEN_USERNAME: &str = "x-access-token";

/// The answer to git's `prompt` (`Username for '…': ` or `Password for '…': `), or `None` for
/// prompts this helper does not answer (git then fails: terminal prompts are disabled).
/// `token` is the value of [`TOKEN_ENV`].
pub fn askpass_answer(prompt: &str, token: Option<&str>) -> Option<String> {
    let prompt = prompt.trim_start().to_ascii_lowercase();
    if prompt.starts_with("username") {
        Some(TOKEN_USERNAME.to_owned())
    } else if prompt.starts_with("password") {
        token.filter(|t| !t.is_empty()).map(str::to_owned)
    } else {
        None
    }
}

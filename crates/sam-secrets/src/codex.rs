//! Where Codex keeps its ChatGPT login: `$CODEX_HOME/auth.json`, else `~/.codex/auth.json`.

use std::path::PathBuf;

/// The `auth.json` Codex reads and rewrites when it refreshes its tokens, honouring
/// `CODEX_HOME`. `None` when neither `CODEX_HOME` nor a home directory is known.
pub fn codex_auth_file() -> Option<PathBuf> {
    let home = std::env::var_os("CODEX_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".codex")))?;
    Some(home.join("auth.json"))
}

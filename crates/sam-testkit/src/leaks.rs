//! The secret-leak scan: every file under a folder, searched byte for byte.

use std::path::{Path, PathBuf};

/// Every regular file under `dir` (recursively) whose bytes contain `needle`: the database,
/// its WAL, logs, backups, WebKit's storage. An empty result is what every test wants.
pub fn files_containing(dir: &Path, needle: &[u8]) -> std::io::Result<Vec<PathBuf>> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder)?.flatten() {
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && std::fs::read(&path)?
                    .windows(needle.len())
                    .any(|w| w == needle)
            {
                hits.push(path);
            }
        }
    }
    Ok(hits)
}

//! Reading and resolving paths of the checkout, confined to its root.
//!
//! A requested path is checked as text first (no NUL, no `~`, no URL, no backslash, bounded
//! length), then normalised lexically (a `..` may not climb above the root), then resolved by
//! the OS (symlinks followed) and the result must still lie under the canonical root. On Linux
//! the opened file's real path is checked once more, so swapping a symlink in between does not
//! help.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use sam_protocol::{
    ErrorCode, FileContent, FileContents, FoundPath, MAX_PATH_BYTES, MAX_READ_BYTES,
    MAX_RESOLVE_PATHS, PathKind, PathResolution, ProtocolError, ResolvedPath,
};

/// The longest path component accepted, in bytes (Linux `NAME_MAX`).
const MAX_COMPONENT_BYTES: usize = 255;

/// Reads up to `max_bytes` of the file at `requested` under `root` (canonical). Blocking.
pub(crate) fn read_file(
    root: &Path,
    requested: &str,
    max_bytes: u64,
) -> Result<FileContents, ProtocolError> {
    let relative = confine(root, requested)?;
    let full = root.join(&relative);
    let canonical = std::fs::canonicalize(&full).map_err(|e| io_error(requested, &e))?;
    if !canonical.starts_with(root) {
        return Err(invalid(
            requested,
            "resolves outside the workspace (through a symlink)",
        ));
    }
    let metadata = std::fs::metadata(&canonical).map_err(|e| io_error(requested, &e))?;
    if !metadata.is_file() {
        return Err(invalid(requested, "is not a regular file"));
    }
    let file = File::open(&canonical).map_err(|e| io_error(requested, &e))?;
    check_opened(&file, root, requested)?;
    let size_bytes = file.metadata().map_err(|e| io_error(requested, &e))?.len();
    let limit = max_bytes.min(MAX_READ_BYTES);
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(requested, &e))?;
    let truncated = size_bytes > u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if truncated {
        trim_split_char(&mut bytes);
    }
    Ok(FileContents {
        path: relative_display(&relative),
        size_bytes,
        truncated,
        content: FileContent::from_bytes(bytes),
    })
}

/// Refuses a `ResolvePaths` request with more than [`MAX_RESOLVE_PATHS`] candidates, before
/// it waits for the workspace.
pub(crate) fn check_candidates(paths: &[String]) -> Result<(), ProtocolError> {
    if paths.len() > MAX_RESOLVE_PATHS {
        return Err(ProtocolError::new(
            ErrorCode::InvalidRequest,
            format!(
                "{} paths were asked for at once; send at most {MAX_RESOLVE_PATHS} per request",
                paths.len()
            ),
        ));
    }
    Ok(())
}

/// Resolves each candidate under `root` (canonical) on disk, in order. Blocking: a stat or two
/// per path component.
pub(crate) fn resolve_paths(root: &Path, paths: &[String]) -> Vec<ResolvedPath> {
    paths
        .iter()
        .map(|requested| ResolvedPath {
            requested: clip(requested, MAX_PATH_BYTES).to_owned(),
            resolution: resolve(root, requested),
        })
        .collect()
}

/// Whether `requested` names a file or directory inside `root` (canonical), through the same
/// confinement as [`read_file`]. Paths inside `.git` are refused: the file index never lists
/// them, they are no place to send an editor, and `.git/config` may carry credentials.
pub(crate) fn resolve(root: &Path, requested: &str) -> PathResolution {
    let relative = match confine(root, requested) {
        Ok(relative) => relative,
        Err(error) => return refused(error.message),
    };
    if in_git_dir(&relative) {
        return refused(in_git_dir_reason(requested));
    }
    let canonical = match std::fs::canonicalize(root.join(&relative)) {
        Ok(canonical) => canonical,
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return PathResolution::Missing;
        }
        Err(error) => {
            return refused(format!(
                "the path \"{}\" could not be resolved: {error}",
                shown(requested)
            ));
        }
    };
    let Ok(inside) = canonical.strip_prefix(root) else {
        return refused(
            invalid(
                requested,
                "resolves outside the workspace (through a symlink)",
            )
            .message,
        );
    };
    if in_git_dir(inside) {
        return refused(in_git_dir_reason(requested));
    }
    let kind = match std::fs::metadata(&canonical) {
        Ok(metadata) if metadata.is_file() => PathKind::File,
        Ok(metadata) if metadata.is_dir() => PathKind::Directory,
        Ok(_) => {
            return refused(
                invalid(requested, "is neither a regular file nor a directory").message,
            );
        }
        // Deleted between the two calls.
        Err(error) if error.kind() == io::ErrorKind::NotFound => return PathResolution::Missing,
        Err(error) => return refused(io_error(requested, &error).message),
    };
    let Some(absolute) = canonical.to_str() else {
        return refused(invalid(requested, "resolves to a path that is not UTF-8").message);
    };
    PathResolution::Found(FoundPath {
        relative: relative_display(&relative),
        absolute: absolute.to_owned(),
        kind,
    })
}

fn refused(reason: String) -> PathResolution {
    PathResolution::Refused { reason }
}

pub(crate) fn in_git_dir(relative: &Path) -> bool {
    relative.components().any(|c| c.as_os_str() == ".git")
}

fn in_git_dir_reason(requested: &str) -> String {
    invalid(requested, "lies inside git's own .git folder").message
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character boundary.
fn clip(text: &str, max_bytes: usize) -> &str {
    &text[..text.floor_char_boundary(max_bytes)]
}

/// Checks `requested` as text and returns it as a normalised path relative to `root`.
pub(crate) fn confine(root: &Path, requested: &str) -> Result<PathBuf, ProtocolError> {
    if requested.is_empty() {
        return Err(invalid(requested, "is empty"));
    }
    if requested.len() > MAX_PATH_BYTES {
        return Err(invalid(
            requested,
            &format!("is longer than {MAX_PATH_BYTES} bytes"),
        ));
    }
    if requested.contains('\0') {
        return Err(invalid(requested, "contains a NUL byte"));
    }
    if requested.contains('\\') {
        return Err(invalid(requested, "contains a backslash; separate with /"));
    }
    if requested.starts_with('~') {
        return Err(invalid(
            requested,
            "is relative to a home directory; give a path inside the workspace",
        ));
    }
    if requested.contains("://") {
        return Err(invalid(
            requested,
            "is a URL; give a path inside the workspace",
        ));
    }
    if is_windows_drive(requested) {
        return Err(invalid(
            requested,
            "is a Windows drive path; give a path inside the workspace",
        ));
    }
    let path = Path::new(requested);
    let inside = if path.is_absolute() {
        path.strip_prefix(root)
            .map_err(|_| invalid(requested, "is outside the workspace"))?
    } else {
        path
    };
    let mut relative = PathBuf::new();
    for component in inside.components() {
        match component {
            Component::Normal(name) => {
                if name.len() > MAX_COMPONENT_BYTES {
                    return Err(invalid(
                        requested,
                        &format!("has a name longer than {MAX_COMPONENT_BYTES} bytes"),
                    ));
                }
                relative.push(name);
            }
            Component::CurDir => {}
            Component::ParentDir => {
                if !relative.pop() {
                    return Err(invalid(requested, "climbs out of the workspace with .."));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(invalid(requested, "is outside the workspace"));
            }
        }
    }
    if relative.as_os_str().is_empty() {
        return Err(invalid(requested, "names the workspace root, not a file"));
    }
    Ok(relative)
}

/// Whether `requested` starts with a drive letter (`C:` or `C:/…`), which no workspace path
/// does.
fn is_windows_drive(requested: &str) -> bool {
    match requested.as_bytes() {
        [drive, b':'] | [drive, b':', b'/', ..] => drive.is_ascii_alphabetic(),
        _ => false,
    }
}

/// On Linux, checks where the opened descriptor really points.
#[cfg(target_os = "linux")]
fn check_opened(file: &File, root: &Path, requested: &str) -> Result<(), ProtocolError> {
    use std::os::fd::AsRawFd;
    let real = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .map_err(|e| io_error(requested, &e))?;
    if real.starts_with(root) {
        Ok(())
    } else {
        Err(invalid(
            requested,
            "resolves outside the workspace (it changed while being opened)",
        ))
    }
}

#[cfg(not(target_os = "linux"))]
fn check_opened(_file: &File, _root: &Path, _requested: &str) -> Result<(), ProtocolError> {
    Ok(())
}

/// Drops an incomplete UTF-8 sequence cut at the end, so truncated text stays text.
fn trim_split_char(bytes: &mut Vec<u8>) {
    if let Err(error) = std::str::from_utf8(bytes) {
        // `error_len() == None` means the input ended inside a character.
        if error.error_len().is_none() {
            bytes.truncate(error.valid_up_to());
        }
    }
}

fn relative_display(relative: &Path) -> String {
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Shows at most a short, printable prefix of a requested path in messages.
fn shown(requested: &str) -> String {
    let printable: String = requested
        .chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if requested.chars().count() > 80 {
        format!("{printable}…")
    } else {
        printable
    }
}

fn invalid(requested: &str, why: &str) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::InvalidRequest,
        format!("the path \"{}\" {why}", shown(requested)),
    )
}

fn io_error(requested: &str, error: &io::Error) -> ProtocolError {
    if error.kind() == io::ErrorKind::NotFound {
        ProtocolError::new(
            ErrorCode::NotFound,
            format!("no file \"{}\" in the workspace", shown(requested)),
        )
    } else {
        ProtocolError::new(
            ErrorCode::Io,
            format!("reading \"{}\" failed: {error}", shown(requested)),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn confine_normalises_inside_paths() {
        let root = Path::new("/srv/ws");
        assert_eq!(confine(root, "a/./b/../c").unwrap(), PathBuf::from("a/c"));
        assert_eq!(confine(root, "/srv/ws/a").unwrap(), PathBuf::from("a"));
        assert!(confine(root, "a/../../b").is_err());
        assert!(confine(root, "/srv/wsx/a").is_err());
    }

    #[test]
    fn split_char_is_trimmed() {
        let mut bytes = "hé".as_bytes()[..2].to_vec();
        trim_split_char(&mut bytes);
        assert_eq!(bytes, b"h");
        let mut binary = vec![0xff, 0x00, 0xc3];
        trim_split_char(&mut binary);
        assert_eq!(binary, vec![0xff, 0x00, 0xc3]);
    }
}

//! What to open: a validated position, a validated local path, and a validated remote target.
//! Every value an argv element is built from passes through here first.

use std::path::Path;

use crate::EditorError;

/// The largest line or column accepted. Far beyond any real file; small enough that every
/// editor parses it as a plain integer.
pub const MAX_POSITION: u32 = 10_000_000;

/// A 1-based line and optional 1-based column, both in `1..=MAX_POSITION`.
///
/// Columns count characters as the link gave them; each editor interprets them in its own unit
/// (VS Code UTF-16 code units, Vim bytes, ...), which only matters on lines with non-ASCII text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    line: u32,
    column: Option<u32>,
}

impl Position {
    /// Validates a position.
    ///
    /// # Errors
    /// [`EditorError::InvalidPosition`] when the line or column is 0 or above [`MAX_POSITION`].
    pub fn new(line: u64, column: Option<u64>) -> Result<Self, EditorError> {
        Ok(Self {
            line: checked("line", line)?,
            column: column.map(|column| checked("column", column)).transpose()?,
        })
    }

    /// Validates an optional line and column as they come from a link: neither, a line, or
    /// both.
    ///
    /// # Errors
    /// [`EditorError::ColumnWithoutLine`] for a column alone, else as [`Position::new`].
    pub fn from_parts(line: Option<u64>, column: Option<u64>) -> Result<Option<Self>, EditorError> {
        match (line, column) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(EditorError::ColumnWithoutLine),
            (Some(line), column) => Self::new(line, column).map(Some),
        }
    }

    /// The 1-based line.
    pub fn line(self) -> u32 {
        self.line
    }

    /// The 1-based column, if one was given.
    pub fn column(self) -> Option<u32> {
        self.column
    }
}

fn checked(what: &'static str, value: u64) -> Result<u32, EditorError> {
    match u32::try_from(value) {
        Ok(value) if (1..=MAX_POSITION).contains(&value) => Ok(value),
        _ => Err(EditorError::InvalidPosition {
            what,
            value,
            max: MAX_POSITION,
        }),
    }
}

/// Checks that a local path may be handed to an editor: absolute (so it can never start with
/// `-` and be taken for an option) and free of NUL, which no argv element can hold.
pub(crate) fn check_local_path(path: &Path) -> Result<(), EditorError> {
    if path.as_os_str().as_encoded_bytes().contains(&0) {
        return Err(EditorError::InvalidPath {
            path: path.to_path_buf(),
            reason: "it contains a NUL byte",
        });
    }
    if !path.is_absolute() {
        return Err(EditorError::PathNotAbsolute {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// An SSH host alias SAM writes into the user's ssh config: `sam-` followed by the alias
/// `sam-ssh` accepts (1 to 64 ASCII letters, digits, `.`, `_`, `-`, not starting with `-`).
/// Nothing else passes, so the alias can go into a `ssh-remote+` authority or an `ssh://` URL
/// as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAlias(String);

impl HostAlias {
    /// Validates an alias such as `sam-my-workspace`.
    ///
    /// # Errors
    /// [`EditorError::InvalidHostAlias`] for anything else.
    pub fn parse(alias: &str) -> Result<Self, EditorError> {
        let valid = alias.strip_prefix("sam-").is_some_and(|name| {
            !name.is_empty()
                && name.len() <= 64
                && !name.starts_with('-')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
        if valid {
            Ok(Self(alias.to_owned()))
        } else {
            Err(EditorError::InvalidHostAlias {
                alias: alias.to_owned(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest remote path accepted, in bytes (Linux's `PATH_MAX`).
const MAX_REMOTE_PATH_BYTES: usize = 4096;

/// An absolute POSIX path on a remote workspace, free of control characters (no NUL, no
/// newline), at most 4096 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotePath(String);

impl RemotePath {
    /// Validates a remote path such as `/home/sam/project/src/main.rs`.
    ///
    /// # Errors
    /// [`EditorError::InvalidRemotePath`] when it is relative, too long, or holds a control
    /// character.
    pub fn parse(path: &str) -> Result<Self, EditorError> {
        let reason = if !path.starts_with('/') {
            Some("it is not absolute")
        } else if path.len() > MAX_REMOTE_PATH_BYTES {
            Some("it is longer than 4096 bytes")
        } else if path.chars().any(char::is_control) {
            Some("it contains a control character")
        } else {
            None
        };
        match reason {
            None => Ok(Self(path.to_owned())),
            Some(reason) => Err(EditorError::InvalidRemotePath {
                path: path.to_owned(),
                reason,
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_bounded() {
        assert!(Position::new(1, Some(1)).is_ok());
        assert!(Position::new(u64::from(MAX_POSITION), None).is_ok());
        for (line, column) in [
            (0, None),
            (1, Some(0)),
            (u64::from(MAX_POSITION) + 1, None),
            (u64::MAX, None),
        ] {
            assert!(
                matches!(
                    Position::new(line, column),
                    Err(EditorError::InvalidPosition { .. })
                ),
                "{line} {column:?}"
            );
        }
        assert!(matches!(
            Position::from_parts(None, Some(3)),
            Err(EditorError::ColumnWithoutLine)
        ));
        assert_eq!(Position::from_parts(None, None).unwrap(), None);
    }

    #[test]
    fn local_paths_must_be_absolute_and_nul_free() {
        assert!(check_local_path(Path::new("/tmp/a b")).is_ok());
        assert!(matches!(
            check_local_path(Path::new("-rf")),
            Err(EditorError::PathNotAbsolute { .. })
        ));
        assert!(matches!(
            check_local_path(Path::new("src/main.rs")),
            Err(EditorError::PathNotAbsolute { .. })
        ));
        assert!(matches!(
            check_local_path(Path::new("/tmp/a\0b")),
            Err(EditorError::InvalidPath { .. })
        ));
    }

    #[test]
    fn only_sam_aliases_pass() {
        for ok in [
            "sam-x",
            "sam-my-ws.1",
            "sam-A_b",
            &format!("sam-{}", "a".repeat(64)),
        ] {
            assert_eq!(HostAlias::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "sam-",
            "sam--x",
            "x",
            "prod",
            "sam-x;rm",
            "sam-x rm",
            "sam-x/y",
            "sam-x@y",
            "sam-x:22",
            "sam-x\n",
            "sam-é",
            &format!("sam-{}", "a".repeat(65)),
        ] {
            assert!(HostAlias::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn remote_paths_are_absolute_and_printable() {
        assert!(RemotePath::parse("/home/sam/a b/ü.rs").is_ok());
        for bad in [
            "",
            "relative",
            "~/x",
            "/a\nb",
            "/a\0b",
            "/a\u{1b}[2J",
            "/a\u{7f}",
        ] {
            assert!(RemotePath::parse(bad).is_err(), "{bad:?}");
        }
        assert!(RemotePath::parse(&format!("/{}", "a".repeat(5000))).is_err());
    }
}

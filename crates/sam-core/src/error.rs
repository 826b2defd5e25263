//! The error shape that crosses the IPC boundary and the CLI's `--json` output.
//!
//! Libraries keep their own `thiserror` types; at the boundary they are mapped to an [`ApiError`]
//! with a closed [`ErrorCode`], so the UI switches on `code` and never parses message text.

use serde::Serialize;

/// The closed set of error codes the UI and scripts may switch on. Adding a variant is a
/// protocol change: the generated TypeScript bindings change with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A bug or an unexpected state on our side.
    Internal,
    /// The request itself was malformed or out of range.
    InvalidInput,
    /// The thing asked for does not exist.
    NotFound,
    /// The local database could not be read or written.
    Database,
    /// A system service the request needs is missing (keyring, notification server, ...).
    Unavailable,
    /// Reading or writing a local file failed.
    Io,
}

/// An error as the UI sees it: a code to switch on and a message written for the user, which
/// says what to do next. Messages never contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_code_and_message() {
        let error = ApiError::new(
            ErrorCode::InvalidInput,
            "Pick a theme: system, light or dark.",
        );
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "invalid_input", "message": "Pick a theme: system, light or dark."})
        );
    }
}

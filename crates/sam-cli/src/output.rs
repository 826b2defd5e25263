//! How the CLI reports: plain lines for people, one JSON document with `--json`.

use std::io::Write;

use sam_core::{ApiError, ErrorCode};
use serde::Serialize;

/// An error on its way to the user: the same `{ code, message }` the app's UI receives.
#[derive(Debug)]
pub struct CliError(pub ApiError);

impl CliError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self(ApiError::invalid_input(message))
    }
    pub fn database(message: impl Into<String>) -> Self {
        Self(ApiError::new(ErrorCode::Database, message))
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self(ApiError::internal(message))
    }
    pub fn vault(error: sam_secrets::VaultError) -> Self {
        Self(ApiError::from(error))
    }

    /// Prints the error (as JSON on stdout with `--json`, else on stderr).
    pub fn report(&self, json: bool) {
        if json {
            #[derive(Serialize)]
            struct Envelope<'a> {
                error: &'a ApiError,
            }
            let _ = print_json(&Envelope { error: &self.0 });
        } else {
            let _ = writeln!(std::io::stderr(), "sam: {}", self.0.message);
        }
    }
}

pub fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| CliError::internal(e.to_string()))?;
    writeln!(out).map_err(|e| CliError::internal(e.to_string()))
}

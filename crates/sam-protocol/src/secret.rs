//! A secret string that never prints.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret (for example a git token) on its way to `sam-host`.
///
/// `Debug` and `Display` print `<redacted>`. It serialises as the plain string because the wire
/// must carry it; serialise it only into a protocol frame, never into a log, a file or an error.
/// Read it with [`Secret::expose`] at the one place that hands it on.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Call it only where the value is handed to its consumer.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

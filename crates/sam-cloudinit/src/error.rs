//! The one error type of this crate.

/// Why the user-data could not be rendered, or a host key not made or read.
///
/// Messages say what to change. They never contain the host private key, and never echo a
/// rejected value (it may hold control characters or be long): they describe what is allowed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CloudInitError {
    /// A value that would be written into the user-data is not acceptable.
    #[error("The workspace's {field} is not usable: {reason}")]
    Invalid {
        /// The [`crate::CloudInitSpec`] field (or argument) at fault, e.g. `hostname`.
        field: &'static str,
        /// What is wrong and what is allowed.
        reason: String,
    },

    /// The rendered user-data exceeds what the cloud provider accepts.
    #[error(
        "The cloud-init user-data is {bytes} bytes, over the provider's limit of {limit} bytes. \
         This is a bug in SAM Desktop: please report it."
    )]
    TooLarge {
        /// Size of the rendered user-data.
        bytes: usize,
        /// The limit it exceeds ([`crate::MAX_USER_DATA_BYTES`]).
        limit: usize,
    },

    /// A host key could not be generated, read or encoded.
    #[error("SSH host key: {0}")]
    Key(String),

    /// The user-data could not be serialised (not expected to happen with validated input).
    #[error(
        "Could not encode the cloud-init user-data ({0}). This is a bug in SAM Desktop: please report it."
    )]
    Encode(String),
}

impl CloudInitError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

//! The shared model of SAM Desktop: the error shape that crosses IPC, where the app keeps its
//! data and logs, and the user's preferences.
//!
//! Every other crate may depend on this one, so it stays small and never imports `tauri`, never
//! touches the network and never holds a secret.

pub mod clock;
pub mod error;
pub mod logging;
pub mod paths;
pub mod preferences;

pub use error::{ApiError, ErrorCode};
pub use paths::AppPaths;
pub use preferences::{Preferences, ThemePreference};

/// The product name, as shown to users.
pub const APP_NAME: &str = "SAM Desktop";

/// This build's version (the workspace version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

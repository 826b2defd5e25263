//! Structured logs (`tracing`) to a daily-rotating file in the log directory.
//!
//! Only the binaries call [`init`]; libraries just emit `tracing` events. Secrets never reach
//! a log line: they are `Sensitive<T>` values that print `<redacted>`.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

/// The environment variable that sets the log filter (`tracing` `EnvFilter` syntax).
pub const LOG_FILTER_ENV: &str = "SAM_LOG";

/// How many daily log files are kept before the oldest is deleted.
pub const KEPT_LOG_FILES: usize = 7;

#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error(
        "Could not create the log folder {path}: {source}. Check its permissions or set SAM_DATA_DIR."
    )]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("Could not open a log file in {path}: {source}")]
    Appender {
        path: String,
        source: tracing_appender::rolling::InitError,
    },
    #[error("SAM_LOG is not a valid log filter: {0}")]
    Filter(String),
    #[error("Logging was already set up in this process")]
    AlreadySet,
}

/// Keeps the background log writer alive; drop it last (it flushes on drop).
#[must_use = "dropping the guard stops file logging"]
#[derive(Debug)]
pub struct LogGuard {
    _worker: WorkerGuard,
}

/// Installs the global subscriber: everything to a rotating file named `<file_prefix>.<date>.log`
/// in `log_dir`, and warnings and errors also to stderr when `echo_to_stderr` is set.
pub fn init(
    log_dir: &Path,
    file_prefix: &str,
    echo_to_stderr: bool,
) -> Result<LogGuard, LoggingError> {
    std::fs::create_dir_all(log_dir).map_err(|source| LoggingError::CreateDir {
        path: log_dir.display().to_string(),
        source,
    })?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(file_prefix)
        .filename_suffix("log")
        .max_log_files(KEPT_LOG_FILES)
        .build(log_dir)
        .map_err(|source| LoggingError::Appender {
            path: log_dir.display().to_string(),
            source,
        })?;
    let (file_writer, worker) = tracing_appender::non_blocking(appender);
    let filter = match std::env::var(LOG_FILTER_ENV) {
        Ok(spec) => EnvFilter::try_new(&spec).map_err(|e| LoggingError::Filter(e.to_string()))?,
        Err(_) => EnvFilter::new("info"),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false);
    let result = if echo_to_stderr {
        builder
            .with_writer(file_writer.and(std::io::stderr.with_max_level(tracing::Level::WARN)))
            .try_init()
    } else {
        builder.with_writer(file_writer).try_init()
    };
    result.map_err(|_| LoggingError::AlreadySet)?;
    Ok(LogGuard { _worker: worker })
}

//! `sam-host` as a real process: real sockets, real git, real SQLite.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

mod handshake;
mod lifecycle;
mod read_file;
mod secrets;
mod setup;
mod subscribe;
mod support;

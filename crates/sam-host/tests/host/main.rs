//! `sam-host` as a real process: real sockets, real git, real SQLite, real containers
//! (podman and the Dev Containers CLI; see `containers.rs` for what they need).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

mod changes;
mod container_agents;
mod containers;
mod devcontainer;
mod file_index;
mod handshake;
mod lifecycle;
mod read_file;
mod real_agents;
mod real_gemini;
mod real_opencode;
mod resume;
mod run;
mod secrets;
mod sessions;
mod setup;
mod subscribe;
mod support;

//! The cloud-init user-data of a SAM workspace VM (Hetzner, Scaleway), as one pure function.
//!
//! [`render`] turns a [`CloudInitSpec`] into the `#cloud-config` document a provider boots the
//! VM with: one non-root sudo user with the desktop's SSH key, our own ed25519 SSH host key
//! (pinned by the desktop in `known_hosts`, so the first connection is verified — no
//! trust-on-first-use), apt timers stopped before they can hold the dpkg lock, Docker (already
//! in the image, or installed from the distribution), and an idle watchdog that powers the VM
//! off when sam-host has seen no activity for a while.
//!
//! This crate never does I/O, never talks to a provider, and never puts a long-lived secret in
//! the user-data: the only secret there is the VM's own host private key. Every interpolated
//! value is validated, and escaping is done by a serializer, never by string formatting.

mod error;
mod host_keys;
mod render;
mod validate;

pub use error::CloudInitError;
pub use host_keys::HostKeys;
pub use render::{UserData, render};

/// The most user-data a provider accepts, in bytes (Hetzner's limit; Scaleway's is larger).
/// [`render`] fails with [`CloudInitError::TooLarge`] rather than produce more.
pub const MAX_USER_DATA_BYTES: usize = 32 * 1024;

/// Where the workspace's Docker comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DockerSource {
    /// The provider's image already has Docker and its `docker` group (Hetzner `docker-ce`).
    /// Fastest: nothing is installed at boot.
    Preinstalled,
    /// A plain Debian/Ubuntu image: `apt-get install docker.io` at first boot, with retries.
    Install,
}

/// The idle watchdog: powers the VM off when the activity stamp `/var/lib/sam/activity`
/// (touched by sam-host) is older than `idle_minutes`, so a forgotten VM stops costing money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watchdog {
    /// Minutes without activity before power-off; 5 to 1440. Validated even when disabled,
    /// because the script is installed either way (enabling it later needs no re-render).
    pub idle_minutes: u32,
    /// Whether the watchdog timer is enabled at first boot.
    pub enabled: bool,
}

/// Everything that varies between workspace VMs. All fields are validated by [`render`].
#[derive(Debug, Clone, Copy)]
pub struct CloudInitSpec<'a> {
    /// The VM's host name: an RFC 1123 label, lower case, 1 to 63 of `a-z0-9-`.
    pub hostname: &'a str,
    /// The workspace user's Linux name: `^[a-z_][a-z0-9_-]{0,31}$`, not `root` nor another
    /// account or group that exists on stock images (`docker`, `sudo`, `users`, …).
    pub user: &'a str,
    /// The user's OpenSSH public key line (`ssh-ed25519 AAAA… comment`): ed25519, ECDSA, their
    /// security-key variants, or RSA of at least 3072 bits. It is parsed and re-encoded; a
    /// printable comment is kept (trimmed), options such as `command=` are refused.
    pub authorized_key: &'a str,
    /// The VM's SSH host key; the desktop pins [`HostKeys::known_hosts_line`].
    pub host_keys: &'a HostKeys,
    /// Where Docker comes from.
    pub docker: DockerSource,
    /// The idle watchdog.
    pub watchdog: Watchdog,
    /// The workspace's id, `[a-z0-9-]{1,64}`, written to `/etc/sam/workspace` for sam-host.
    pub workspace_id: &'a str,
}

//! Hetzner Cloud and Scaleway behind one [`CloudProvider`] trait.
//!
//! Each provider module speaks its API exactly as published and is the only place that knows
//! its JSON; the layers above see [`Server`], [`Size`], [`CloudError`] and friends. Every
//! server SAM creates carries its install and workspace [`Labels`], and SAM only ever lists and
//! deletes servers carrying its own. Transient failures are retried with backoff, a create is
//! never repeated without first looking for the server it may have made, and "not ready yet"
//! is a fixed-interval wait to a deadline ([`Timing`]).
//!
//! This crate never stores credentials and never imports `tauri`.

mod connect;
mod error;
mod hetzner;
mod http;
mod labels;
mod model;
mod presets;
mod provider;
mod scaleway;
mod timing;

pub use connect::{ConnectError, connect, provider_of};
pub use error::{CloudError, ProviderKind, TransportFailure};
pub use hetzner::Hetzner;
pub use labels::{
    CREATED_BY, CREATED_BY_LABEL, INSTALL_LABEL, LabelError, Labels, Selector, WORKSPACE_LABEL,
};
pub use model::{
    Access, Arch, CreateServer, Image, Location, Price, Server, ServerId, ServerStatus, Size,
    SshKeyRef,
};
pub use presets::SizePreset;
pub use provider::{CloudProvider, MAX_USER_DATA_BYTES, PowerAction};
pub use scaleway::Scaleway;
pub use timing::{Backoff, Timing, TimingError};

/// Response parsers exposed for the fuzz tests; not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::hetzner::{
        parse_error_for_fuzzing as hetzner_error, parse_server_for_fuzzing as hetzner_server,
        parse_sizes_for_fuzzing as hetzner_sizes,
    };
    pub use crate::scaleway::{
        parse_error_for_fuzzing as scaleway_error, parse_server_for_fuzzing as scaleway_server,
        parse_sizes_for_fuzzing as scaleway_sizes,
    };
}

//! The test-facing side of the stateful cloud fakes (Hetzner Cloud, Scaleway Instances):
//! knobs, one-shot faults, and views of the servers and SSH keys the fakes hold.

use std::collections::BTreeMap;

use crate::fakes::{self, CloudKnobs, NextFault};
use crate::{FakeProviders, Fault, Inner, Provider};

/// A server as a cloud fake holds it, in words common to both providers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeServer {
    /// Hetzner's integer ID as a string, or Scaleway's UUID.
    pub id: String,
    /// The server's name (unique on Hetzner, not on Scaleway).
    pub name: String,
    /// The Hetzner location (`fsn1`) or Scaleway zone (`fr-par-1`).
    pub location: String,
    /// `cx23`, `DEV1-S`, ...
    pub server_type: String,
    /// The image name on Hetzner (`ubuntu-24.04`), the local image ID on Scaleway.
    pub image: String,
    /// Hetzner labels; Scaleway tags, a `k=v` tag as `(k, v)` and a tag without `=` as
    /// `(tag, "")`.
    pub labels: BTreeMap<String, String>,
    /// Hetzner's `user_data`, or Scaleway's `cloud-init` user-data key.
    pub user_data: Option<String>,
    /// The provider's own word for the server's state now: `initializing`, `starting`,
    /// `running`, `off` (Hetzner); `stopped`, `starting`, `running`, `stopping` (Scaleway).
    /// Reading it is not a poll: it never moves the server along.
    pub status: String,
    /// The public IPv4 address, once the server has one.
    pub public_ipv4: Option<String>,
    /// The names of the Hetzner SSH keys the server was created with; empty on Scaleway,
    /// which installs its project's IAM keys instead.
    pub ssh_keys: Vec<String>,
}

/// An SSH key registered with a cloud fake (Hetzner `ssh_keys`, Scaleway IAM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeSshKey {
    /// Hetzner's integer ID as a string, or Scaleway's UUID.
    pub id: String,
    /// The key's name.
    pub name: String,
    /// The public key line as registered.
    pub public_key: String,
}

/// A server to put into a cloud fake directly, e.g. one another install created, or a
/// leftover. It gets the provider's Ubuntu 24.04 image and, when running, a public IPv4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedServer {
    /// The server's name.
    pub name: String,
    /// A Hetzner location or Scaleway zone the fake knows.
    pub location: String,
    /// A server type the fake knows (`cx23`, `DEV1-S`).
    pub server_type: String,
    /// Hetzner labels, or Scaleway tags (`(k, v)` becomes `k=v`; `(k, "")` becomes `k`).
    pub labels: BTreeMap<String, String>,
    /// Running (`true`) or powered off / stopped.
    pub running: bool,
}

/// The cloud fakes' knobs, for the two providers that have servers.
///
/// # Panics
/// For any other provider: a test asking for servers from OpenAI is wrong.
fn knobs(inner: &mut Inner, provider: Provider) -> &mut CloudKnobs {
    match provider {
        Provider::Hetzner => &mut inner.hetzner.knobs,
        Provider::Scaleway => &mut inner.scaleway.knobs,
        other => panic!("{other:?} has no servers; only Hetzner and Scaleway do"),
    }
}

impl FakeProviders {
    /// A fault for the next `times` requests matching `method` (None = any) and a path (below
    /// the provider's prefix, e.g. "/v1/servers" or "/instance/v1/zones/fr-par-1/servers")
    /// starting with `path_prefix`.
    ///
    /// Rules are tried in the order injected, each used up after `times` matches, and take
    /// precedence over a standing fault from [`Self::inject`]. [`Self::clear_faults`] removes
    /// them too.
    pub fn inject_next(
        &self,
        provider: Provider,
        method: Option<&str>,
        path_prefix: &str,
        fault: Fault,
        times: u32,
    ) {
        if times == 0 {
            return;
        }
        self.shared.lock().next_faults.push(NextFault {
            provider,
            method: method.map(str::to_ascii_uppercase),
            path_prefix: path_prefix.to_owned(),
            fault,
            times,
        });
    }

    /// Creating a server of `server_type` (None = any type) in `location` (Hetzner location
    /// name / Scaleway zone) fails with the provider's capacity error while `unavailable`:
    /// Hetzner 412 `resource_unavailable`, Scaleway 412 `out_of_stock` (and `shortage` in its
    /// availability list). Making a whole location available again (`None`, `false`) also
    /// clears the rules for single types there.
    ///
    /// # Panics
    /// For providers other than Hetzner and Scaleway.
    pub fn set_capacity(
        &self,
        provider: Provider,
        location: &str,
        server_type: Option<&str>,
        unavailable: bool,
    ) {
        knobs(&mut self.shared.lock(), provider).set_capacity(location, server_type, unavailable);
    }

    /// The project may hold at most `max` servers; creating more fails with the provider's
    /// quota error (Hetzner 403 `resource_limit_exceeded`, Scaleway 403 `quotas_exceeded`).
    /// Seeded servers count.
    ///
    /// # Panics
    /// For providers other than Hetzner and Scaleway.
    pub fn set_server_quota(&self, provider: Provider, max: usize) {
        knobs(&mut self.shared.lock(), provider).server_quota = Some(max);
    }

    /// A server that is booting needs this many GETs of it before it is running (and, on
    /// Scaleway, before its public IP appears). Default 1. A list that includes the server
    /// counts as a GET of it; 0 makes it running at once.
    ///
    /// # Panics
    /// For providers other than Hetzner and Scaleway.
    pub fn set_boot_polls(&self, provider: Provider, polls: u32) {
        knobs(&mut self.shared.lock(), provider).boot_polls = polls;
    }

    /// Servers get this public IPv4 from now on (`None`: the documentation ranges again), e.g.
    /// `127.0.0.1` to send a workspace to a real SSH server a test runs on loopback.
    ///
    /// # Panics
    /// For providers other than Hetzner and Scaleway.
    pub fn set_fixed_ipv4(&self, provider: Provider, ip: Option<&str>) {
        let mut inner = self.shared.lock();
        let ip = ip.map(str::to_owned);
        match provider {
            Provider::Hetzner => inner.hetzner.set_fixed_ipv4(ip),
            Provider::Scaleway => inner.scaleway.set_fixed_ipv4(ip),
            other => panic!("{other:?} has no servers"),
        }
    }

    /// Hetzner actions stay `running` for this many GETs before `success`. Default 1.
    pub fn set_action_polls(&self, polls: u32) {
        self.shared.lock().hetzner.action_polls = fakes::hetzner::ActionPolls(polls);
    }

    /// Hetzner's rate-limit budget: the next responses report `RateLimit-Remaining` counting
    /// down from `remaining`; at 0 every request is 429 `rate_limit_exceeded` until
    /// `reset_in_secs` seconds have passed, then the budget refills to 3600.
    ///
    /// Each answered request uses one unit and reports what is left, so a budget of 2 lets
    /// two requests through (reporting 1, then 0) before the 429s, which report 0 and the
    /// reset time and change nothing.
    pub fn set_hetzner_budget(&self, remaining: u64, reset_in_secs: u64) {
        self.shared
            .lock()
            .hetzner
            .set_budget(remaining, reset_in_secs, fakes::unix_now());
    }

    /// The servers the fake holds for `provider`, oldest first.
    ///
    /// # Panics
    /// For providers other than Hetzner and Scaleway.
    pub fn cloud_servers(&self, provider: Provider) -> Vec<FakeServer> {
        let inner = self.shared.lock();
        match provider {
            Provider::Hetzner => inner.hetzner.servers(),
            Provider::Scaleway => inner.scaleway.servers(),
            other => panic!("{other:?} has no servers; only Hetzner and Scaleway do"),
        }
    }

    /// The SSH keys registered with `provider` (Hetzner ssh_keys / Scaleway IAM), oldest
    /// first.
    ///
    /// # Panics
    /// For providers other than Hetzner and Scaleway.
    pub fn cloud_ssh_keys(&self, provider: Provider) -> Vec<FakeSshKey> {
        let inner = self.shared.lock();
        match provider {
            Provider::Hetzner => inner.hetzner.ssh_keys(),
            Provider::Scaleway => inner.scaleway.ssh_keys(),
            other => panic!("{other:?} has no SSH keys; only Hetzner and Scaleway do"),
        }
    }

    /// Puts a server into the fake directly (e.g. one created by another install, or a
    /// leftover), returning its id. Neither the quota nor capacity applies.
    ///
    /// # Panics
    /// For providers other than Hetzner and Scaleway, and for a location or server type the
    /// provider's fake does not know.
    pub fn seed_server(&self, provider: Provider, server: SeedServer) -> String {
        let mut inner = self.shared.lock();
        match provider {
            Provider::Hetzner => inner.hetzner.seed(server),
            Provider::Scaleway => inner.scaleway.seed(server),
            other => panic!("{other:?} has no servers; only Hetzner and Scaleway do"),
        }
    }
}

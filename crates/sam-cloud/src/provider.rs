//! The provider trait every cloud implements, and the parts of provisioning that are the same
//! for all of them: checking a request before anything is created, looking for an existing
//! server before creating one (so a retry never makes two), moving on to the next allowed
//! location when one has no capacity, and waiting for a server to become reachable.

use std::fmt;

use async_trait::async_trait;

use crate::error::{CloudError, ProviderKind};
use crate::labels::Selector;
use crate::model::{
    Access, Arch, CreateServer, Image, Location, Server, ServerId, ServerStatus, Size, SshKeyRef,
};
use crate::timing::Timing;

/// The largest user-data both providers accept (Hetzner's limit; Scaleway's is larger).
pub const MAX_USER_DATA_BYTES: usize = 32 * 1024;

/// Power actions a workspace needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    /// Start a stopped server.
    On,
    /// Cut power (a stopped Hetzner server is still billed: delete to stop paying).
    Off,
}

/// One cloud provider. Implementations speak one API exactly as documented; everything the
/// layers above need goes through here, so both providers behave the same to them (the
/// conformance suite in `tests/conformance.rs` holds them to it).
#[async_trait]
pub trait CloudProvider: Send + Sync + fmt::Debug {
    /// Which provider this is.
    fn kind(&self) -> ProviderKind;

    /// The timing this client runs with.
    fn timing(&self) -> &Timing;

    /// Checks the credential and says what it may do.
    async fn validate(&self) -> Result<Access, CloudError>;

    /// The locations (zones) servers can be created in.
    async fn locations(&self) -> Result<Vec<Location>, CloudError>;

    /// Server sizes with resources and live prices; only those sold in `location` when given.
    async fn sizes(&self, location: Option<&str>) -> Result<Vec<Size>, CloudError>;

    /// Images suitable for a workspace in `location` for `arch`, Docker-ready ones first.
    async fn images(&self, location: &str, arch: Arch) -> Result<Vec<Image>, CloudError>;

    /// Registers `public_key` (OpenSSH) under `name` unless the same key is already there.
    async fn ensure_ssh_key(&self, name: &str, public_key: &str) -> Result<SshKeyRef, CloudError>;

    /// One attempt to create the server in `location` from `image`, including whatever the
    /// provider needs before the server boots (Scaleway: user-data, then power on). No
    /// fallback and no duplicate check: use [`CloudProvider::create_server`].
    async fn create_in(
        &self,
        request: &CreateServer,
        location: &str,
        image: &str,
    ) -> Result<Server, CloudError>;

    /// Finishes the creation of a server found by its labels after an interrupted attempt
    /// (Scaleway: a server still stopped gets its user-data and is powered on).
    async fn resume_create(
        &self,
        server: Server,
        request: &CreateServer,
    ) -> Result<Server, CloudError>;

    /// The server, or `None` when it does not exist (any more).
    async fn server(&self, id: &ServerId) -> Result<Option<Server>, CloudError>;

    /// SAM's servers matching `selector`, and only those.
    async fn servers(&self, selector: &Selector) -> Result<Vec<Server>, CloudError>;

    /// Deletes the server and waits until the provider has; a missing server is success.
    async fn delete_server(&self, id: &ServerId) -> Result<(), CloudError>;

    /// Powers the server on or off and waits for the provider to finish.
    async fn power(&self, id: &ServerId, action: PowerAction) -> Result<(), CloudError>;

    /// Creates the workspace's server, never two: an existing server with the same labels is
    /// taken over (and its creation finished); a capacity error moves on to the next allowed
    /// location; a transient failure is retried only after checking by label that the
    /// interrupted attempt did not create it. The request is checked (name, size, locations,
    /// user-data size) before anything is created.
    async fn create_server(&self, request: &CreateServer) -> Result<Server, CloudError> {
        create_server(self, request).await
    }

    /// Waits, polling at a fixed interval up to the ready deadline, until the server runs and
    /// has a public IPv4.
    async fn wait_until_reachable(&self, id: &ServerId) -> Result<Server, CloudError> {
        wait_until_reachable(self, id).await
    }
}

async fn create_server<P: CloudProvider + ?Sized>(
    provider: &P,
    request: &CreateServer,
) -> Result<Server, CloudError> {
    let kind = provider.kind();
    check_request(kind, request)?;

    let selector = request.labels.selector();
    if let Some(existing) = find_existing(provider, &selector).await? {
        tracing::info!(provider = %kind, server = %existing.id, "a server with this workspace's labels exists; taking it over");
        return provider.resume_create(existing, request).await;
    }

    let known = provider.locations().await?;
    if let Some(unknown) = request
        .locations
        .iter()
        .find(|l| !known.iter().any(|k| &k.id == *l))
    {
        let names: Vec<&str> = known.iter().map(|l| l.id.as_str()).collect();
        return Err(CloudError::invalid(
            kind,
            format!(
                "unknown location \"{unknown}\"; {kind} has {}",
                names.join(", ")
            ),
        ));
    }

    let mut tried = Vec::new();
    let mut last_capacity = String::new();
    for location in &request.locations {
        let sizes = provider.sizes(Some(location)).await?;
        let Some(size) = sizes.iter().find(|s| s.id == request.size) else {
            if tried.is_empty() && !size_exists_anywhere(provider, &request.size).await? {
                return Err(CloudError::invalid(
                    kind,
                    format!("unknown size \"{}\"", request.size),
                ));
            }
            tracing::info!(provider = %kind, %location, size = %request.size, "size not sold in this location; trying the next");
            tried.push(location.clone());
            last_capacity = format!("{} is not offered in {location}", request.size);
            continue;
        };
        let image = match &request.image {
            Some(image) => image.clone(),
            None => default_image(provider, location, size.arch).await?,
        };
        tried.push(location.clone());
        match create_with_retries(provider, request, location, &image).await {
            Ok(server) => return Ok(server),
            Err(CloudError::Capacity { message, .. }) => {
                tracing::info!(provider = %kind, %location, "no capacity; trying the next allowed location");
                last_capacity = message;
            }
            Err(error) => return Err(error),
        }
    }
    Err(CloudError::Capacity {
        provider: kind,
        locations: tried.join(", "),
        message: last_capacity,
    })
}

fn check_request(kind: ProviderKind, request: &CreateServer) -> Result<(), CloudError> {
    let name = &request.name;
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !name_ok {
        return Err(CloudError::invalid(
            kind,
            "the server name must be 1 to 63 lower-case letters, digits or dashes, not starting or ending with a dash",
        ));
    }
    if request.locations.is_empty() {
        return Err(CloudError::invalid(kind, "no location was allowed"));
    }
    if request.size.is_empty() {
        return Err(CloudError::invalid(kind, "no size was chosen"));
    }
    if request.user_data.expose().len() > MAX_USER_DATA_BYTES {
        return Err(CloudError::invalid(
            kind,
            format!(
                "the cloud-init user-data is {} bytes; the limit is {MAX_USER_DATA_BYTES}",
                request.user_data.expose().len()
            ),
        ));
    }
    Ok(())
}

async fn size_exists_anywhere<P: CloudProvider + ?Sized>(
    provider: &P,
    size: &str,
) -> Result<bool, CloudError> {
    Ok(provider.sizes(None).await?.iter().any(|s| s.id == size))
}

async fn find_existing<P: CloudProvider + ?Sized>(
    provider: &P,
    selector: &Selector,
) -> Result<Option<Server>, CloudError> {
    let mut servers = provider.servers(selector).await?;
    servers.retain(|s| s.status != ServerStatus::Deleting);
    Ok(servers.into_iter().next())
}

/// The provider's Docker-ready image for `arch` in `location`, else its first suitable one.
async fn default_image<P: CloudProvider + ?Sized>(
    provider: &P,
    location: &str,
    arch: Arch,
) -> Result<String, CloudError> {
    let images = provider.images(location, arch).await?;
    images
        .iter()
        .find(|i| i.docker_ready)
        .or_else(|| images.first())
        .map(|i| i.id.clone())
        .ok_or_else(|| CloudError::NotFound {
            provider: provider.kind(),
            what: format!("a suitable {arch} image in {location}"),
        })
}

/// Tries one location until it succeeds, fails for good, or runs out of attempts. Before each
/// repeat it looks the server up by label: the failed attempt may have created it.
async fn create_with_retries<P: CloudProvider + ?Sized>(
    provider: &P,
    request: &CreateServer,
    location: &str,
    image: &str,
) -> Result<Server, CloudError> {
    let backoff = provider.timing().backoff;
    let selector = request.labels.selector();
    let mut retry = 0;
    loop {
        let error = match provider.create_in(request, location, image).await {
            Ok(server) => return Ok(server),
            Err(error) if error.is_transient() && retry + 1 < backoff.attempts => error,
            Err(error) => {
                // Even a final failure may have left a server behind: hand it over rather
                // than report an error for a server that exists.
                if error.is_transient()
                    && let Ok(Some(existing)) = find_existing(provider, &selector).await
                {
                    return provider.resume_create(existing, request).await;
                }
                return Err(error);
            }
        };
        tracing::info!(provider = %provider.kind(), code = error.code(), "creating the server failed; checking whether it exists before retrying");
        tokio::time::sleep(backoff.delay(retry)).await;
        retry += 1;
        if let Some(existing) = find_existing(provider, &selector).await? {
            return provider.resume_create(existing, request).await;
        }
    }
}

async fn wait_until_reachable<P: CloudProvider + ?Sized>(
    provider: &P,
    id: &ServerId,
) -> Result<Server, CloudError> {
    let timing = *provider.timing();
    let started = tokio::time::Instant::now();
    loop {
        match provider.server(id).await? {
            Some(server) if server.is_reachable() => return Ok(server),
            Some(server) if matches!(server.status, ServerStatus::Deleting) => {
                return Err(CloudError::ActionFailed {
                    provider: provider.kind(),
                    what: format!("starting server {id}"),
                    message: "the server is being deleted".into(),
                });
            }
            Some(_) => {}
            None => {
                return Err(CloudError::NotFound {
                    provider: provider.kind(),
                    what: format!("server {id}"),
                });
            }
        }
        if started.elapsed() + timing.poll_interval > timing.ready_deadline {
            return Err(CloudError::Timeout {
                provider: provider.kind(),
                what: format!("server {id} becoming reachable"),
                waited: started.elapsed(),
            });
        }
        tokio::time::sleep(timing.poll_interval).await;
    }
}

/// Polls `probe` at the poll interval until it yields a value or the action deadline passes.
pub(crate) async fn poll_until<T, F, Fut>(
    kind: ProviderKind,
    timing: &Timing,
    what: &str,
    mut probe: F,
) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, CloudError>>,
{
    let started = tokio::time::Instant::now();
    loop {
        if let Some(value) = probe().await? {
            return Ok(value);
        }
        if started.elapsed() + timing.poll_interval > timing.action_deadline {
            return Err(CloudError::Timeout {
                provider: kind,
                what: what.to_owned(),
                waited: started.elapsed(),
            });
        }
        tokio::time::sleep(timing.poll_interval).await;
    }
}

/// The key type and base64 blob of an OpenSSH public key line, without its comment: two
/// registrations of one key differ only in the comment.
pub(crate) fn key_blob(line: &str) -> Option<String> {
    let mut parts = line.split_whitespace();
    Some(format!("{} {}", parts.next()?, parts.next()?))
}

//! Scaleway. Listing the Instance types of the chosen zone
//! (`GET /instance/v1/zones/{zone}/products/servers`, key in `X-Auth-Token`) proves the secret
//! key and its Instances permission. Errors are flat: `{"type","message",...}`, e.g.
//! `denied_authentication` (401) and `permissions_denied` (403).

use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::HashMap;
use url::Url;

use crate::http::{Http, header_u64};
use crate::outcome::{CheckOutcome, Subject, count, host_of, settle};

const FIX: &str = "Create an API key in the Scaleway console → IAM → API keys, for an application or user with the InstancesFullAccess permission, and paste its secret key.";

const FIX_PERMISSION: &str = "Give the key's application or user the InstancesFullAccess permission set in the Scaleway console → IAM → Policies, then check again.";

#[derive(Deserialize)]
struct ServerTypes {
    servers: HashMap<String, IgnoredAny>,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

pub(crate) async fn check(
    http: &Http,
    base: &Url,
    secret_key: &str,
    project_id: &str,
    zone: &str,
) -> CheckOutcome {
    settle(run(http, base, secret_key, project_id, zone).await)
}

/// `fr-par-1`: two letters, three letters, a digit.
fn is_zone(zone: &str) -> bool {
    let parts: Vec<&str> = zone.split('-').collect();
    matches!(parts.as_slice(), [region, city, number]
        if region.len() == 2 && city.len() == 3 && number.len() == 1
            && region.bytes().chain(city.bytes()).all(|b| b.is_ascii_lowercase())
            && number.bytes().all(|b| b.is_ascii_digit()))
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hexadecimal.
fn is_uuid(value: &str) -> bool {
    let lengths: Vec<usize> = value.split('-').map(str::len).collect();
    lengths == [8, 4, 4, 4, 12] && value.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

/// An access key (`SCW` + 17 characters) pasted where the secret key belongs.
fn is_access_key(value: &str) -> bool {
    value.len() == 20 && value.starts_with("SCW")
}

async fn run(
    http: &Http,
    base: &Url,
    secret_key: &str,
    project_id: &str,
    zone: &str,
) -> Result<CheckOutcome, CheckOutcome> {
    let subject = Subject::new("Scaleway", "secret key", secret_key, FIX, host_of(base));
    subject.check_shape()?;
    if is_access_key(secret_key) {
        return Err(subject.invalid_setting(
            "This is a Scaleway access key (it starts with SCW): SAM needs the secret key, shown once next to it when the API key is created. Create a new API key in the Scaleway console → IAM → API keys if you no longer have it.".to_owned(),
        ));
    }
    // The zone goes into the URL and the message: only a well-formed one does either.
    if !is_zone(zone) {
        return Err(subject.invalid_setting(
            "The Scaleway zone is not a zone name such as fr-par-1: choose one of the zones Scaleway lists for Instances.".to_owned(),
        ));
    }
    if !is_uuid(project_id) {
        return Err(subject.invalid_setting(
            "The Scaleway project ID is not a project ID (a UUID such as 0e5b1c2d-3f4a-4b5c-8d9e-0f1a2b3c4d5e): copy it from the Scaleway console → Project settings.".to_owned(),
        ));
    }
    let url = subject.url(
        base,
        &["instance", "v1", "zones", zone, "products", "servers"],
    )?;
    let auth = subject.secret_header("")?;
    let reply = subject
        .send(http, http.client().get(url).header("x-auth-token", auth))
        .await?;
    if !reply.status.is_success() {
        let text = serde_json::from_slice::<ErrorBody>(&reply.body)
            .ok()
            .map(|e| e.message);
        if reply.status.as_u16() == 403 {
            return Ok(subject.rejected_with_fix(403, text.as_deref(), FIX_PERMISSION));
        }
        return Ok(subject.judge_failure(&reply, text.as_deref(), http.now_unix()));
    }
    let listed = serde_json::from_slice::<ServerTypes>(&reply.body)
        .map_err(|_| subject.unreadable())?
        .servers
        .len();
    let total = header_u64(&reply.headers, "x-total-count")
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(listed);
    Ok(subject.accepted(&format!(
        "{} available in {zone}",
        count(total, "Instance type", "Instance types")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones() {
        assert!(is_zone("fr-par-1"));
        assert!(is_zone("pl-waw-3"));
        assert!(!is_zone("fr-par"));
        assert!(!is_zone("../../x"));
        assert!(!is_zone("FR-PAR-1"));
        assert!(!is_zone("fr-par-1/servers"));
    }

    #[test]
    fn uuids_and_access_keys() {
        assert!(is_uuid("0e5b1c2d-3f4a-4b5c-8d9e-0f1a2b3c4d5e"));
        assert!(!is_uuid("0e5b1c2d3f4a4b5c8d9e0f1a2b3c4d5e"));
        assert!(!is_uuid("0e5b1c2d-3f4a-4b5c-8d9e-0f1a2b3c4d5g"));
        assert!(is_access_key("SCWABCDEFGHIJKLMNOPQ"));
        assert!(!is_access_key("0e5b1c2d-3f4a-4b5c-8d9e-0f1a2b3c4d5e"));
    }
}

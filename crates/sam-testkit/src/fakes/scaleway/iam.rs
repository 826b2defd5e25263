//! IAM SSH keys (`/iam/v1alpha1/ssh-keys`), which Scaleway installs on new Instances of the
//! key's project. Not in the shared API descriptions: the shapes follow Scaleway's IAM
//! v1alpha1 (`{ssh_keys, total_count}`; a key is `{id, name, public_key, fingerprint,
//! organization_id, project_id, created_at, updated_at, disabled}`, returned bare by
//! `POST`). Assumptions: the fingerprint reads `MD5:<colon hex> (<key type>)`, and a second
//! key with the same public key is refused with 409 `{"type": "conflict", ...}`.

use serde_json::{Value, json};

use super::{Ids, ORGANIZATION_ID, Reply, invalid_argument, list_reply, page_of};
use crate::FakeSshKey;
use crate::fakes::clock::now_rfc3339;
use crate::fakes::fingerprint;
use crate::fakes::query::Query;

#[derive(Debug, Clone)]
struct SshKey {
    id: String,
    name: String,
    public_key: String,
    fingerprint: String,
    project_id: String,
    created_at: String,
}

impl SshKey {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "public_key": self.public_key,
            "fingerprint": self.fingerprint,
            "organization_id": ORGANIZATION_ID,
            "project_id": self.project_id,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "disabled": false,
        })
    }
}

#[derive(Debug, Default)]
pub(super) struct SshKeys {
    /// Oldest first.
    keys: Vec<SshKey>,
}

fn not_found(id: &str) -> Reply {
    Reply::json(
        404,
        json!({
            "type": "not_found", "message": "resource is not found",
            "resource": "iam_ssh_key", "resource_id": id,
        }),
    )
}

impl SshKeys {
    pub(super) fn snapshot(&self) -> Vec<FakeSshKey> {
        self.keys
            .iter()
            .map(|k| FakeSshKey {
                id: k.id.clone(),
                name: k.name.clone(),
                public_key: k.public_key.clone(),
            })
            .collect()
    }

    /// `GET /ssh-keys`: filters `project_id`, `organization_id` and `name`; `page` and
    /// `page_size` (20 by default), oldest first.
    pub(super) fn list(&self, query: &Query) -> Reply {
        let page = match page_of(query, "page_size", 20) {
            Ok(page) => page,
            Err(reply) => return reply,
        };
        let keys = self
            .keys
            .iter()
            .filter(|k| query.get("project_id").is_none_or(|p| p == k.project_id))
            .filter(|_| {
                query
                    .get("organization_id")
                    .is_none_or(|o| o == ORGANIZATION_ID)
            })
            .filter(|k| query.get("name").is_none_or(|n| n == k.name))
            .map(SshKey::to_json)
            .collect();
        list_reply("ssh_keys", keys, page, Some("total_count"))
    }

    pub(super) fn get(&self, id: &str) -> Reply {
        match self.keys.iter().find(|k| k.id == id) {
            Some(key) => Reply::json(200, key.to_json()),
            None => not_found(id),
        }
    }

    pub(super) fn delete(&mut self, id: &str) -> Reply {
        match self.keys.iter().position(|k| k.id == id) {
            Some(index) => {
                self.keys.remove(index);
                Reply::empty(204)
            }
            None => not_found(id),
        }
    }

    /// `POST /ssh-keys` `{name, public_key, project_id}`: 200 with the key.
    pub(super) fn create(&mut self, body: &[u8], ids: &mut Ids) -> Reply {
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
            return invalid_argument("body", "format", "the request body must be a JSON object");
        };
        let Some(public_key) = fields.get("public_key").and_then(Value::as_str) else {
            return invalid_argument("public_key", "required", "public_key is required");
        };
        let public_key = public_key.trim();
        let Some(parsed) = fingerprint::parse(public_key) else {
            return invalid_argument(
                "public_key",
                "format",
                "must be an OpenSSH public key: <type> <base64> [comment]",
            );
        };
        let fingerprint = format!("MD5:{} ({})", parsed.md5, parsed.kind);
        if self.keys.iter().any(|k| k.fingerprint == fingerprint) {
            return Reply::json(
                409,
                json!({
                    "type": "conflict",
                    "message": "an SSH key with the same public key already exists",
                    "resource": "iam_ssh_key",
                }),
            );
        }
        let id = ids.next();
        let name = fields
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("key-{}", id.get(..8).unwrap_or(&id)));
        let key = SshKey {
            id,
            name,
            public_key: public_key.to_owned(),
            fingerprint,
            project_id: fields
                .get("project_id")
                .and_then(Value::as_str)
                .unwrap_or(ORGANIZATION_ID)
                .to_owned(),
            created_at: now_rfc3339(),
        };
        let reply = Reply::json(200, key.to_json());
        self.keys.push(key);
        reply
    }
}

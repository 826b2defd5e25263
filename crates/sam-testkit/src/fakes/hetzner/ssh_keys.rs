//! `/ssh_keys`: a project's SSH keys, unique by name and by fingerprint (the MD5 of the key
//! blob, see [`crate::fakes::fingerprint`]).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::labels::Selector;
use super::{Reply, error, invalid_input, json_error, not_found, paginated, parse_id};
use crate::FakeSshKey;
use crate::fakes::clock::now_rfc3339;
use crate::fakes::fingerprint;
use crate::fakes::query::Query;

#[derive(Debug, Clone)]
pub(super) struct SshKey {
    pub(super) id: u64,
    pub(super) name: String,
    public_key: String,
    fingerprint: String,
    labels: BTreeMap<String, String>,
    created: String,
}

impl SshKey {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "fingerprint": self.fingerprint,
            "public_key": self.public_key, "labels": self.labels, "created": self.created,
        })
    }
}

#[derive(Debug)]
pub(super) struct SshKeys {
    keys: Vec<SshKey>,
    next_id: u64,
}

impl Default for SshKeys {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            next_id: 9_100_001,
        }
    }
}

/// Labels from a request body: an object of strings, or absent.
pub(super) fn labels_from(fields: &Map<String, Value>) -> Result<BTreeMap<String, String>, Reply> {
    match fields.get("labels") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(labels)) => labels
            .iter()
            .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid_input(&[("labels", "label values must be strings".to_owned())])),
        Some(_) => Err(invalid_input(&[(
            "labels",
            "labels must be an object".to_owned(),
        )])),
    }
}

impl SshKeys {
    pub(super) fn snapshot(&self) -> Vec<FakeSshKey> {
        self.keys
            .iter()
            .map(|k| FakeSshKey {
                id: k.id.to_string(),
                name: k.name.clone(),
                public_key: k.public_key.clone(),
            })
            .collect()
    }

    /// A key by ID (a number, or digits in a string) or by name, for `POST /servers`.
    pub(super) fn find(&self, reference: &Value) -> Option<&SshKey> {
        match reference {
            Value::Number(n) => n
                .as_u64()
                .and_then(|id| self.keys.iter().find(|k| k.id == id)),
            Value::String(s) => self
                .keys
                .iter()
                .find(|k| k.name == *s || parse_id(s) == Some(k.id)),
            _ => None,
        }
    }

    pub(super) fn list(&self, query: &Query) -> Reply {
        let selector = match query.get("label_selector").map(Selector::parse).transpose() {
            Ok(selector) => selector,
            Err(message) => return invalid_input(&[("label_selector", message)]),
        };
        let keys = self
            .keys
            .iter()
            .filter(|k| query.get("name").is_none_or(|n| n == k.name))
            .filter(|k| query.get("fingerprint").is_none_or(|f| f == k.fingerprint))
            .filter(|k| selector.as_ref().is_none_or(|s| s.matches(&k.labels)))
            .map(SshKey::to_json)
            .collect();
        paginated(query, "ssh_keys", keys)
    }

    pub(super) fn get(&self, id: &str) -> Reply {
        match parse_id(id).and_then(|id| self.keys.iter().find(|k| k.id == id)) {
            Some(key) => Reply::json(200, json!({ "ssh_key": key.to_json() })),
            None => not_found("SSH key"),
        }
    }

    pub(super) fn delete(&mut self, id: &str) -> Reply {
        match parse_id(id).and_then(|id| self.keys.iter().position(|k| k.id == id)) {
            Some(index) => {
                self.keys.remove(index);
                Reply::empty(204)
            }
            None => not_found("SSH key"),
        }
    }

    /// `POST /ssh_keys`. An empty body is refused as `invalid_input` naming `name` first,
    /// which the write-permission probe relies on.
    pub(super) fn create(&mut self, body: &[u8]) -> Reply {
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
            return json_error();
        };
        let missing: Vec<(&str, String)> = ["name", "public_key"]
            .into_iter()
            .filter(|field| !fields.get(*field).is_some_and(Value::is_string))
            .map(|field| (field, "Missing data for required field.".to_owned()))
            .collect();
        if !missing.is_empty() {
            return invalid_input(&missing);
        }
        let name = fields
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let public_key = fields
            .get("public_key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim();
        let labels = match labels_from(&fields) {
            Ok(labels) => labels,
            Err(reply) => return reply,
        };
        if name.trim().is_empty() {
            return invalid_input(&[("name", "name must not be empty".to_owned())]);
        }
        let Some(parsed) = fingerprint::parse(public_key) else {
            return invalid_input(&[("public_key", "invalid public key".to_owned())]);
        };
        if self.keys.iter().any(|k| k.fingerprint == parsed.md5) {
            return error(
                409,
                "uniqueness_error",
                "SSH key with the same fingerprint already exists",
                json!({ "fields": [{ "name": "public_key" }] }),
            );
        }
        if self.keys.iter().any(|k| k.name == name) {
            return error(
                409,
                "uniqueness_error",
                "SSH key with the same name already exists",
                json!({ "fields": [{ "name": "name" }] }),
            );
        }
        let key = SshKey {
            id: self.next_id,
            name: name.to_owned(),
            public_key: public_key.to_owned(),
            fingerprint: parsed.md5,
            labels,
            created: now_rfc3339(),
        };
        self.next_id += 1;
        let reply = Reply::json(201, json!({ "ssh_key": key.to_json() }));
        self.keys.push(key);
        reply
    }
}

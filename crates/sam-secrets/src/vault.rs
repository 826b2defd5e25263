//! The vault: credential metadata in SQLite, the secret in the keyring, kept consistent.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use sam_store::{CredentialRow, Store, StoreError};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::kind::is_uuid;
use crate::{CredentialKind, MAX_SECRET_BYTES, SecretStore, SecretStoreError, Sensitive, mask};

const MAX_LABEL_CHARS: usize = 80;

/// How long the previous subscription token stays valid after a rotation: an agent that read
/// it just before keeps working while it picks up the new one.
pub const ROTATION_GRACE_SECS: i64 = 5 * 60;

/// The keyring entry that keeps the previous secret of a rotated credential.
fn previous_entry(id: &str) -> String {
    format!("{id}.previous")
}

/// Who a credential is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum CredentialScope {
    /// Any project may use it.
    Global,
    /// Only this project (a repository) uses it, and it shadows global ones there.
    Project { project: String },
}

/// The outcome of the last check against the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    Unchecked,
    Valid,
    /// Works, but cannot do everything SAM needs (a read-only Hetzner token, a GitHub token
    /// without the repo scope).
    ReadOnly,
    Rejected,
    RateLimited,
    Unreachable,
}

impl CheckState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unchecked => "unchecked",
            Self::Valid => "valid",
            Self::ReadOnly => "read_only",
            Self::Rejected => "rejected",
            Self::RateLimited => "rate_limited",
            Self::Unreachable => "unreachable",
        }
    }

    fn parse(value: &str) -> Self {
        match value {
            "valid" => Self::Valid,
            "read_only" => Self::ReadOnly,
            "rejected" => Self::Rejected,
            "rate_limited" => Self::RateLimited,
            "unreachable" => Self::Unreachable,
            _ => Self::Unchecked,
        }
    }
}

/// A credential as the UI and `sam credentials list` see it: never the secret, only its mask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CredentialSummary {
    pub id: String,
    pub kind: CredentialKind,
    pub label: String,
    pub scope: CredentialScope,
    pub active: bool,
    pub masked: String,
    /// Unix seconds (a JavaScript number holds them exactly).
    #[specta(type = f64)]
    pub created_at: i64,
    #[specta(type = Option<f64>)]
    pub last_checked_at: Option<i64>,
    pub last_check: CheckState,
    pub last_message: Option<String>,
    /// Names of the workspaces that use this credential (filled once workspaces record
    /// which credentials they use; empty until then).
    pub used_by: Vec<String>,
}

/// What the user entered. The secret field travels in `fields` once, at entry; this type
/// redacts itself in `Debug` and wipes its values when dropped.
#[derive(Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NewCredential {
    pub kind: CredentialKind,
    pub label: String,
    pub scope: CredentialScope,
    pub fields: BTreeMap<String, String>,
}

impl std::fmt::Debug for NewCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCredential")
            .field("kind", &self.kind)
            .field("label", &self.label)
            .field("scope", &self.scope)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Drop for NewCredential {
    fn drop(&mut self) {
        for value in self.fields.values_mut() {
            value.zeroize();
        }
    }
}

/// A credential ready for use: its kind, public fields and secret.
#[derive(Debug)]
pub struct CredentialMaterial {
    pub id: String,
    pub label: String,
    pub kind: CredentialKind,
    pub public_fields: BTreeMap<String, String>,
    pub secret: Sensitive<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("A credential named \"{0}\" already exists. Pick another name.")]
    DuplicateLabel(String),
    #[error("No credential named \"{0}\". `sam credentials list` shows what there is.")]
    NotFound(String),
    #[error(
        "The keyring no longer holds the secret of \"{0}\" (it was removed outside SAM). Remove the credential and add it again."
    )]
    SecretMissing(String),
    #[error(
        "The credential \"{label}\" for project {project} is deactivated, so SAM does not fall back to a global one. Activate it, or pick a credential explicitly."
    )]
    Deactivated { label: String, project: String },
    #[error("\"{0}\" is deactivated. Activate it to use it.")]
    Inactive(String),
    #[error("No active {} is set up. Add one under Credentials (or `sam credentials set {}`).", .0.label(), .0.as_str())]
    NotConfigured(CredentialKind),
    #[error("\"{label}\" is a {}, not a {}.", .found.label(), .wanted.label())]
    WrongKind {
        label: String,
        found: CredentialKind,
        wanted: CredentialKind,
    },
    #[error(transparent)]
    Keyring(#[from] SecretStoreError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("The stored metadata of a credential is unreadable: {0}")]
    Corrupt(String),
    #[error("A background task stopped before it finished: {0}")]
    Interrupted(String),
    #[error("Refreshing the token of \"{label}\" failed: {reason}")]
    RefreshFailed { label: String, reason: String },
}

impl From<VaultError> for sam_core::ApiError {
    fn from(error: VaultError) -> Self {
        use sam_core::ErrorCode;
        let code = match &error {
            VaultError::InvalidInput(_)
            | VaultError::DuplicateLabel(_)
            | VaultError::WrongKind { .. }
            | VaultError::Deactivated { .. }
            | VaultError::Inactive(_) => ErrorCode::InvalidInput,
            VaultError::NotFound(_)
            | VaultError::SecretMissing(_)
            | VaultError::NotConfigured(_) => ErrorCode::NotFound,
            VaultError::Keyring(_) | VaultError::RefreshFailed { .. } => ErrorCode::Unavailable,
            VaultError::Store(_) | VaultError::Corrupt(_) => ErrorCode::Database,
            VaultError::Interrupted(_) => ErrorCode::Internal,
        };
        Self::new(code, error.to_string())
    }
}

/// The vault. Calls block (SQLite and the keyring).
pub struct Vault {
    store: Arc<Store>,
    secrets: Arc<dyn SecretStore>,
    /// One lock per credential id, so concurrent refreshes of a token run once.
    refresh_locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").finish_non_exhaustive()
    }
}

impl Vault {
    pub fn new(store: Arc<Store>, secrets: Arc<dyn SecretStore>) -> Self {
        Self {
            store,
            secrets,
            refresh_locks: Mutex::new(HashMap::new()),
        }
    }

    /// The database the vault keeps its metadata in (settings such as the install id live there too).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn secrets(&self) -> &dyn SecretStore {
        self.secrets.as_ref()
    }

    /// Validates and stores a new credential: the secret in the keyring, the rest in SQLite.
    /// Nothing is half-stored: if the metadata cannot be written the keyring entry is removed.
    pub fn add(&self, input: NewCredential, now: i64) -> Result<CredentialSummary, VaultError> {
        let label = clean_label(&input.label)?;
        let project = match &input.scope {
            CredentialScope::Global => None,
            CredentialScope::Project { project } => {
                let project = project.trim();
                if project.is_empty() {
                    return Err(VaultError::InvalidInput(
                        "Name the project this credential belongs to, or make it global.".into(),
                    ));
                }
                Some(project.to_owned())
            }
        };
        let (secret, public_fields) = validate_fields(input.kind, &input.fields)?;
        if self.store.credential(&label)?.is_some() {
            return Err(VaultError::DuplicateLabel(label));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let row = CredentialRow {
            id: id.clone(),
            kind: input.kind.as_str().to_owned(),
            label: label.clone(),
            project,
            active: true,
            public_fields: serde_json::to_string(&public_fields)
                .map_err(|e| VaultError::Corrupt(e.to_string()))?,
            masked: if secret.expose().is_empty() {
                "no key".to_owned()
            } else {
                mask(secret.expose())
            },
            created_at: now,
            last_checked_at: None,
            last_check: CheckState::Unchecked.as_str().to_owned(),
            last_message: None,
            rotated_at: None,
        };
        self.secrets.put(&id, &secret)?;
        let inserted = self.store.insert_credential(&row);
        match inserted {
            Ok(true) => {}
            Ok(false) => {
                self.forget_secret(&id);
                return Err(VaultError::DuplicateLabel(label));
            }
            Err(error) => {
                self.forget_secret(&id);
                return Err(error.into());
            }
        }
        tracing::info!(id, kind = input.kind.as_str(), "credential added");
        summary(row)
    }

    fn forget_secret(&self, id: &str) {
        if let Err(error) = self.secrets.delete(id) {
            tracing::error!(id, %error, "could not remove a keyring entry after a failed add");
        }
    }

    pub fn list(&self) -> Result<Vec<CredentialSummary>, VaultError> {
        self.store.credentials()?.into_iter().map(summary).collect()
    }

    pub fn summary(&self, id_or_label: &str) -> Result<CredentialSummary, VaultError> {
        summary(self.row(id_or_label)?)
    }

    fn row(&self, id_or_label: &str) -> Result<CredentialRow, VaultError> {
        self.store
            .credential(id_or_label.trim())?
            .ok_or_else(|| VaultError::NotFound(id_or_label.trim().to_owned()))
    }

    /// The credential with its secret, read from the keyring.
    pub fn material(&self, id_or_label: &str) -> Result<CredentialMaterial, VaultError> {
        material(self.row(id_or_label)?, self.secrets.as_ref())
    }

    pub fn rename(&self, id_or_label: &str, label: &str) -> Result<CredentialSummary, VaultError> {
        let row = self.row(id_or_label)?;
        let label = clean_label(label)?;
        if !self.store.rename_credential(&row.id, &label)? {
            return Err(VaultError::DuplicateLabel(label));
        }
        self.summary(&row.id)
    }

    pub fn set_active(
        &self,
        id_or_label: &str,
        active: bool,
    ) -> Result<CredentialSummary, VaultError> {
        let row = self.row(id_or_label)?;
        self.store.set_credential_active(&row.id, active)?;
        self.summary(&row.id)
    }

    /// Removes the keyring entry (a missing one is fine), then the metadata.
    pub fn remove(&self, id_or_label: &str) -> Result<(), VaultError> {
        let row = self.row(id_or_label)?;
        self.secrets.delete(&previous_entry(&row.id))?;
        self.secrets.delete(&row.id)?;
        self.store.delete_credential(&row.id)?;
        tracing::info!(id = row.id, "credential removed");
        Ok(())
    }

    /// Replaces a subscription token with the one its provider rotated to, in the same entry
    /// it came from; the previous one stays usable for [`ROTATION_GRACE_SECS`].
    pub fn rotate(
        &self,
        id_or_label: &str,
        new_secret: &Sensitive<String>,
        now: i64,
    ) -> Result<CredentialSummary, VaultError> {
        let row = self.row(id_or_label)?;
        let kind = parse_kind(&row)?;
        if !kind.rotates() {
            return Err(VaultError::InvalidInput(format!(
                "A {} does not rotate: to replace it, remove it and add the new one.",
                kind.label()
            )));
        }
        let new_secret = Sensitive::new(new_secret.expose().trim().to_owned());
        if new_secret.expose().is_empty() {
            return Err(VaultError::InvalidInput(
                "The rotated token is empty.".into(),
            ));
        }
        validate_secret(kind, new_secret.expose())?;
        let current = material(row.clone(), self.secrets.as_ref())?;
        self.secrets
            .put(&previous_entry(&row.id), &current.secret)?;
        self.secrets.put(&row.id, &new_secret)?;
        self.store
            .record_credential_rotation(&row.id, now, &mask(new_secret.expose()))?;
        tracing::info!(id = row.id, "credential rotated");
        self.summary(&row.id)
    }

    /// The secrets a provider may still accept for this credential: the current one first,
    /// then the previous one while its grace window lasts.
    pub fn valid_secrets(
        &self,
        id_or_label: &str,
        now: i64,
    ) -> Result<Vec<Sensitive<String>>, VaultError> {
        let row = self.row(id_or_label)?;
        let in_grace = row
            .rotated_at
            .is_some_and(|at| now - at < ROTATION_GRACE_SECS);
        let id = row.id.clone();
        let mut secrets = vec![material(row, self.secrets.as_ref())?.secret];
        if in_grace {
            match self.secrets.get(&previous_entry(&id)) {
                Ok(previous) => secrets.push(previous),
                Err(SecretStoreError::NotFound) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Ok(secrets)
    }

    /// Refreshes a token that `stale` was found to be expired, once: concurrent callers with
    /// the same stale token wait for the first refresh and get its result instead of
    /// refreshing again (a second refresh would invalidate the first one's token).
    pub fn refresh<E: std::fmt::Display>(
        &self,
        id_or_label: &str,
        stale: &Sensitive<String>,
        now: i64,
        refresher: impl FnOnce(&CredentialMaterial) -> Result<Sensitive<String>, E>,
    ) -> Result<CredentialMaterial, VaultError> {
        let id = self.row(id_or_label)?.id;
        let lock = {
            let mut locks = self
                .refresh_locks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(locks.entry(id.clone()).or_default())
        };
        let _single_flight = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.material(&id)?;
        if current.secret.expose() != stale.expose() {
            return Ok(current);
        }
        let fresh = refresher(&current).map_err(|e| VaultError::RefreshFailed {
            label: current.label.clone(),
            reason: e.to_string(),
        })?;
        self.rotate(&id, &fresh, now)?;
        self.material(&id)
    }

    pub fn record_check(
        &self,
        id: &str,
        state: CheckState,
        message: &str,
        now: i64,
    ) -> Result<CredentialSummary, VaultError> {
        self.store
            .record_credential_check(id, now, state.as_str(), message)?;
        self.summary(id)
    }

    /// Which credential of `kind` to use: an explicit choice, else the project's, else a
    /// global one. A deactivated project credential blocks the fallback: deactivating is a
    /// decision, not an absence.
    pub fn resolve(
        &self,
        kind: CredentialKind,
        explicit: Option<&str>,
        project: Option<&str>,
    ) -> Result<CredentialMaterial, VaultError> {
        if let Some(choice) = explicit {
            let row = self.row(choice)?;
            let found = parse_kind(&row)?;
            if found != kind {
                return Err(VaultError::WrongKind {
                    label: row.label,
                    found,
                    wanted: kind,
                });
            }
            if !row.active {
                return Err(VaultError::Inactive(row.label));
            }
            return material(row, self.secrets.as_ref());
        }
        let rows: Vec<CredentialRow> = self
            .store
            .credentials()?
            .into_iter()
            .filter(|r| r.kind == kind.as_str())
            .collect();
        if let Some(project) = project {
            let for_project: Vec<&CredentialRow> = rows
                .iter()
                .filter(|r| r.project.as_deref() == Some(project))
                .collect();
            if let Some(active) = for_project
                .iter()
                .filter(|r| r.active)
                .max_by_key(|r| r.created_at)
            {
                return material((*active).clone(), self.secrets.as_ref());
            }
            if let Some(blocked) = for_project.first() {
                return Err(VaultError::Deactivated {
                    label: blocked.label.clone(),
                    project: project.to_owned(),
                });
            }
        }
        let global = rows
            .into_iter()
            .filter(|r| r.project.is_none() && r.active)
            .max_by_key(|r| r.created_at)
            .ok_or(VaultError::NotConfigured(kind))?;
        material(global, self.secrets.as_ref())
    }
}

fn parse_kind(row: &CredentialRow) -> Result<CredentialKind, VaultError> {
    CredentialKind::parse(&row.kind)
        .ok_or_else(|| VaultError::Corrupt(format!("unknown kind {:?}", row.kind)))
}

fn public_fields(row: &CredentialRow) -> Result<BTreeMap<String, String>, VaultError> {
    serde_json::from_str(&row.public_fields).map_err(|e| VaultError::Corrupt(e.to_string()))
}

fn material(
    row: CredentialRow,
    secrets: &dyn SecretStore,
) -> Result<CredentialMaterial, VaultError> {
    let secret = match secrets.get(&row.id) {
        Ok(secret) => secret,
        Err(SecretStoreError::NotFound) => return Err(VaultError::SecretMissing(row.label)),
        Err(other) => return Err(other.into()),
    };
    Ok(CredentialMaterial {
        kind: parse_kind(&row)?,
        public_fields: public_fields(&row)?,
        id: row.id,
        label: row.label,
        secret,
    })
}

fn summary(row: CredentialRow) -> Result<CredentialSummary, VaultError> {
    Ok(CredentialSummary {
        kind: parse_kind(&row)?,
        scope: match row.project {
            None => CredentialScope::Global,
            Some(project) => CredentialScope::Project { project },
        },
        id: row.id,
        label: row.label,
        active: row.active,
        masked: row.masked,
        created_at: row.created_at,
        last_checked_at: row.last_checked_at,
        last_check: CheckState::parse(&row.last_check),
        last_message: row.last_message,
        used_by: Vec::new(),
    })
}

fn clean_label(label: &str) -> Result<String, VaultError> {
    let label = label.trim();
    if label.is_empty() {
        return Err(VaultError::InvalidInput(
            "Give the credential a name.".into(),
        ));
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(VaultError::InvalidInput(format!(
            "Keep the name under {MAX_LABEL_CHARS} characters."
        )));
    }
    if label.chars().any(char::is_control) {
        return Err(VaultError::InvalidInput(
            "The name cannot contain control characters.".into(),
        ));
    }
    Ok(label.to_owned())
}

/// Checks every field against the kind's form and the secret against the kind's shape.
/// Returns the secret and the public fields.
fn validate_fields(
    kind: CredentialKind,
    fields: &BTreeMap<String, String>,
) -> Result<(Sensitive<String>, BTreeMap<String, String>), VaultError> {
    let info = kind.info();
    if let Some(unknown) = fields
        .keys()
        .find(|id| !info.fields.iter().any(|f| &f.id == *id))
    {
        return Err(VaultError::InvalidInput(format!(
            "A {} has no field \"{unknown}\".",
            kind.label()
        )));
    }
    let mut public = BTreeMap::new();
    let mut secret = None;
    for field in &info.fields {
        let value = fields.get(&field.id).map(|v| v.trim()).unwrap_or_default();
        if value.is_empty() {
            if field.optional {
                if field.secret {
                    secret = Some(String::new());
                }
                continue;
            }
            return Err(VaultError::InvalidInput(if field.secret {
                format!("Paste the {}; it is empty.", field.label.to_lowercase())
            } else {
                format!("Fill in the {}.", field.label.to_lowercase())
            }));
        }
        if field.secret {
            secret = Some(value.to_owned());
        } else {
            validate_public_field(kind, &field.id, value)?;
            public.insert(field.id.clone(), value.to_owned());
        }
    }
    let secret = Sensitive::new(secret.unwrap_or_default());
    validate_secret(kind, secret.expose())?;
    Ok((secret, public))
}

fn validate_public_field(kind: CredentialKind, id: &str, value: &str) -> Result<(), VaultError> {
    let bad = |message: &str| Err(VaultError::InvalidInput(message.to_owned()));
    match (kind, id) {
        (CredentialKind::ScalewayKeys, "access_key")
            if !(value.starts_with("SCW")
                && value.len() == 20
                && value.chars().all(|c| c.is_ascii_alphanumeric())) =>
        {
            bad(
                "A Scaleway access key is 20 characters starting with SCW (the secret key is the other, longer value).",
            )
        }
        (CredentialKind::ScalewayKeys, "project_id" | "organization_id") if !is_uuid(value) => bad(
            "Scaleway project and organization ids look like xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.",
        ),
        (CredentialKind::ScalewayKeys, "zone")
            if !(value.len() == 8
                && value.as_bytes()[2] == b'-'
                && value.as_bytes()[6] == b'-') =>
        {
            bad("A Scaleway zone looks like fr-par-1, nl-ams-1 or pl-waw-2.")
        }
        (CredentialKind::OpenaiCompatible, "base_url") => match url::Url::parse(value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
            _ => bad(
                "The base URL must be an http or https address, for example http://localhost:11434/v1.",
            ),
        },
        _ => Ok(()),
    }
}

fn validate_secret(kind: CredentialKind, secret: &str) -> Result<(), VaultError> {
    let bad = |message: String| Err(VaultError::InvalidInput(message));
    if secret.len() > MAX_SECRET_BYTES {
        return bad(format!(
            "That is {} KiB; a {} is far shorter (SAM accepts up to 16 KiB). Check what was pasted.",
            secret.len() / 1024,
            kind.label()
        ));
    }
    if kind == CredentialKind::CodexAuthJson {
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(secret);
        return match parsed {
            Ok(json) if json.get("tokens").is_some_and(serde_json::Value::is_object) || json.get("OPENAI_API_KEY").is_some_and(serde_json::Value::is_string) => Ok(()),
            Ok(_) => bad("That JSON has no \"tokens\" (or OPENAI_API_KEY): paste the whole auth.json that `codex login` wrote.".into()),
            Err(e) => bad(format!("That is not valid JSON ({}): paste the whole auth.json file.", e.classify_name())),
        };
    }
    if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad(format!(
            "The {} contains spaces, line breaks or control characters; copy it again without them.",
            kind.label()
        ));
    }
    if secret.is_empty() || kind.recognises(secret) {
        return Ok(());
    }
    if let Some(other) = kind.likely_other_kind(secret) {
        return bad(format!(
            "That looks like a {}, not a {}.",
            other.label(),
            kind.label()
        ));
    }
    bad(match kind {
        CredentialKind::HetznerToken => {
            "A Hetzner Cloud API token is 64 letters and digits.".into()
        }
        CredentialKind::ScalewayKeys => {
            "A Scaleway secret key looks like xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.".into()
        }
        CredentialKind::AnthropicApiKey => "An Anthropic API key starts with sk-ant-api.".into(),
        CredentialKind::ClaudeOauthToken => {
            "A Claude subscription token starts with sk-ant-oat (run `claude setup-token`).".into()
        }
        CredentialKind::OpenaiApiKey => "An OpenAI API key starts with sk-.".into(),
        CredentialKind::GeminiApiKey => {
            "A Gemini API key is 39 characters starting with AIza.".into()
        }
        CredentialKind::MistralApiKey => "A Mistral API key is 32 letters and digits.".into(),
        CredentialKind::GithubToken => {
            "A GitHub token starts with github_pat_, ghp_ or gho_.".into()
        }
        CredentialKind::CodexAuthJson | CredentialKind::OpenaiCompatible => {
            "That value is not valid here.".into()
        }
    })
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "it ends too early",
        }
    }
}

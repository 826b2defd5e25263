//! Checking a stored credential: read it from the vault, ask its provider, record the answer.
//! The one path the app and `sam credentials check` share.

use std::sync::Arc;

use sam_secrets::{
    CheckState, CredentialKind, CredentialMaterial, CredentialSummary, Vault, VaultError,
};

use crate::{CheckRequest, Checker, Verdict};

/// Checks the credential `id` with its provider and records the outcome in the vault.
/// Keyring and database work runs on blocking threads.
pub async fn check_stored(
    vault: &Arc<Vault>,
    checker: &Checker,
    id: &str,
    now: fn() -> i64,
) -> Result<CredentialSummary, VaultError> {
    let material = {
        let vault = Arc::clone(vault);
        let id = id.to_owned();
        tokio::task::spawn_blocking(move || vault.material(&id))
            .await
            .map_err(|e| VaultError::Interrupted(e.to_string()))??
    };
    let (state, message) = match request_for(&material) {
        Some(request) => {
            let outcome = checker.check(request).await;
            (state_of(outcome.verdict), outcome.message)
        }
        None => (
            CheckState::Unchecked,
            "SAM cannot check a ChatGPT login without using it: Codex checks it when it starts."
                .to_owned(),
        ),
    };
    let vault = Arc::clone(vault);
    let id = material.id.clone();
    drop(material);
    tokio::task::spawn_blocking(move || vault.record_check(&id, state, &message, now()))
        .await
        .map_err(|e| VaultError::Interrupted(e.to_string()))?
}

fn state_of(verdict: Verdict) -> CheckState {
    match verdict {
        Verdict::Valid => CheckState::Valid,
        Verdict::ReadOnly => CheckState::ReadOnly,
        Verdict::Rejected => CheckState::Rejected,
        Verdict::RateLimited => CheckState::RateLimited,
        Verdict::Unreachable => CheckState::Unreachable,
    }
}

/// The provider call for this credential; `None` for kinds no call can check.
fn request_for(material: &CredentialMaterial) -> Option<CheckRequest<'_>> {
    let secret = material.secret.expose().as_str();
    let field = |name: &str| material.public_fields.get(name).map(String::as_str);
    Some(match material.kind {
        CredentialKind::HetznerToken => CheckRequest::Hetzner { token: secret },
        CredentialKind::ScalewayKeys => CheckRequest::Scaleway {
            secret_key: secret,
            project_id: field("project_id")?,
            zone: field("zone").unwrap_or("fr-par-1"),
        },
        CredentialKind::AnthropicApiKey => CheckRequest::Anthropic { api_key: secret },
        CredentialKind::ClaudeOauthToken => CheckRequest::ClaudeOauth { token: secret },
        CredentialKind::OpenaiApiKey => CheckRequest::OpenAi { api_key: secret },
        CredentialKind::GeminiApiKey => CheckRequest::Gemini { api_key: secret },
        CredentialKind::MistralApiKey => CheckRequest::Mistral { api_key: secret },
        CredentialKind::OpenaiCompatible => CheckRequest::OpenAiCompatible {
            base_url: field("base_url")?,
            api_key: secret,
        },
        CredentialKind::GithubToken => CheckRequest::GitHub { token: secret },
        CredentialKind::CodexAuthJson => return None,
    })
}

//! The kinds of credential SAM keeps, what each asks for, and how each is recognised.

use serde::{Deserialize, Serialize};

/// Every kind of credential SAM stores. The snake_case names are stored in the database and
/// cross IPC; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    HetznerToken,
    ScalewayKeys,
    AnthropicApiKey,
    /// A Claude Pro/Max subscription token (`CLAUDE_CODE_OAUTH_TOKEN`), not an API key.
    ClaudeOauthToken,
    OpenaiApiKey,
    /// A Codex ChatGPT login: the contents of `auth.json`.
    CodexAuthJson,
    GeminiApiKey,
    MistralApiKey,
    /// Any OpenAI-compatible endpoint (base URL + key), e.g. a local model server.
    OpenaiCompatible,
    GithubToken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CredentialGroup {
    Cloud,
    Agent,
    SourceControl,
}

/// One input of a kind's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct KindField {
    pub id: String,
    pub label: String,
    /// Secret fields go to the keyring; the others are stored as metadata.
    pub secret: bool,
    pub multiline: bool,
    pub placeholder: String,
    pub optional: bool,
}

/// What the UI needs to offer a kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct KindInfo {
    pub kind: CredentialKind,
    pub group: CredentialGroup,
    pub label: String,
    /// Where to get one, in a sentence.
    pub hint: String,
    /// The provider's console page for getting one (opened by the shell, not the webview).
    pub console_url: String,
    pub fields: Vec<KindField>,
}

/// The field that holds the secret, for every kind (each kind has exactly one).
pub(crate) const SECRET_FIELD: &str = "secret";

fn secret(label: &str, placeholder: &str) -> KindField {
    KindField {
        id: SECRET_FIELD.into(),
        label: label.into(),
        secret: true,
        multiline: false,
        placeholder: placeholder.into(),
        optional: false,
    }
}

fn public(id: &str, label: &str, placeholder: &str, optional: bool) -> KindField {
    KindField {
        id: id.into(),
        label: label.into(),
        secret: false,
        multiline: false,
        placeholder: placeholder.into(),
        optional,
    }
}

impl CredentialKind {
    pub const ALL: [Self; 10] = [
        Self::HetznerToken,
        Self::ScalewayKeys,
        Self::AnthropicApiKey,
        Self::ClaudeOauthToken,
        Self::OpenaiApiKey,
        Self::CodexAuthJson,
        Self::GeminiApiKey,
        Self::MistralApiKey,
        Self::OpenaiCompatible,
        Self::GithubToken,
    ];

    /// The stored name (same as the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HetznerToken => "hetzner_token",
            Self::ScalewayKeys => "scaleway_keys",
            Self::AnthropicApiKey => "anthropic_api_key",
            Self::ClaudeOauthToken => "claude_oauth_token",
            Self::OpenaiApiKey => "openai_api_key",
            Self::CodexAuthJson => "codex_auth_json",
            Self::GeminiApiKey => "gemini_api_key",
            Self::MistralApiKey => "mistral_api_key",
            Self::OpenaiCompatible => "openai_compatible",
            Self::GithubToken => "github_token",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::HetznerToken => "Hetzner Cloud API token",
            Self::ScalewayKeys => "Scaleway API key",
            Self::AnthropicApiKey => "Anthropic API key",
            Self::ClaudeOauthToken => "Claude subscription token",
            Self::OpenaiApiKey => "OpenAI API key",
            Self::CodexAuthJson => "Codex ChatGPT login (auth.json)",
            Self::GeminiApiKey => "Gemini API key",
            Self::MistralApiKey => "Mistral API key",
            Self::OpenaiCompatible => "OpenAI-compatible endpoint",
            Self::GithubToken => "GitHub token",
        }
    }

    pub fn group(self) -> CredentialGroup {
        match self {
            Self::HetznerToken | Self::ScalewayKeys => CredentialGroup::Cloud,
            Self::GithubToken => CredentialGroup::SourceControl,
            _ => CredentialGroup::Agent,
        }
    }

    /// The provider's page for creating one. Fixed addresses: the shell opens only these.
    pub fn console_url(self) -> &'static str {
        match self {
            Self::HetznerToken => "https://console.hetzner.cloud/projects",
            Self::ScalewayKeys => "https://console.scaleway.com/iam/api-keys",
            Self::AnthropicApiKey => "https://console.anthropic.com/settings/keys",
            Self::ClaudeOauthToken => "https://docs.anthropic.com/en/docs/claude-code/setup",
            Self::OpenaiApiKey => "https://platform.openai.com/api-keys",
            Self::CodexAuthJson => {
                "https://github.com/openai/codex#using-codex-with-your-chatgpt-plan"
            }
            Self::GeminiApiKey => "https://aistudio.google.com/apikey",
            Self::MistralApiKey => "https://console.mistral.ai/api-keys",
            Self::OpenaiCompatible => "https://platform.openai.com/docs/api-reference/models/list",
            Self::GithubToken => "https://github.com/settings/tokens",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Self::HetznerToken => {
                "In the Hetzner Cloud console, open your project → Security → API tokens and create a Read & Write token."
            }
            Self::ScalewayKeys => {
                "In the Scaleway console, open IAM → API keys and create a key for an application with InstancesFullAccess; copy the access key, the secret key and your default project id."
            }
            Self::AnthropicApiKey => {
                "In the Anthropic console, open Settings → API keys and create a key (it starts with sk-ant-api)."
            }
            Self::ClaudeOauthToken => {
                "Run `claude setup-token` with Claude Code on any machine where you are logged in to your Pro or Max plan; paste the token it prints (it starts with sk-ant-oat). It is not an API key."
            }
            Self::OpenaiApiKey => {
                "In the OpenAI platform, open API keys and create a secret key (it starts with sk-)."
            }
            Self::CodexAuthJson => {
                "Log in once with `codex login` using your ChatGPT plan, then paste the contents of ~/.codex/auth.json (or $CODEX_HOME/auth.json)."
            }
            Self::GeminiApiKey => {
                "In Google AI Studio, open Get API key and create one (it starts with AIza)."
            }
            Self::MistralApiKey => "In the Mistral console, open API keys and create a key.",
            Self::OpenaiCompatible => {
                "The base URL of a server that speaks the OpenAI API (for example http://localhost:11434/v1 for Ollama) and its key, if it needs one."
            }
            Self::GithubToken => {
                "On GitHub, open Settings → Developer settings → Personal access tokens; a fine-grained token with Contents and Pull requests read & write on your repositories, or a classic token with the repo scope."
            }
        }
    }

    fn fields(self) -> Vec<KindField> {
        match self {
            Self::HetznerToken => vec![secret("API token", "64 characters")],
            Self::ScalewayKeys => vec![
                public("access_key", "Access key", "SCW…", false),
                secret("Secret key", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"),
                public(
                    "project_id",
                    "Default project id",
                    "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
                    false,
                ),
                public(
                    "organization_id",
                    "Organization id",
                    "only if your key spans organizations",
                    true,
                ),
                public("zone", "Default zone", "fr-par-1", true),
            ],
            Self::AnthropicApiKey => vec![secret("API key", "sk-ant-api03-…")],
            Self::ClaudeOauthToken => vec![secret("Subscription token", "sk-ant-oat01-…")],
            Self::OpenaiApiKey => vec![secret("API key", "sk-…")],
            Self::CodexAuthJson => vec![KindField {
                multiline: true,
                ..secret("auth.json contents", "{ \"tokens\": { … } }")
            }],
            Self::GeminiApiKey => vec![secret("API key", "AIza…")],
            Self::MistralApiKey => vec![secret("API key", "32 characters")],
            Self::OpenaiCompatible => vec![
                public("base_url", "Base URL", "http://localhost:11434/v1", false),
                KindField {
                    optional: true,
                    ..secret("API key", "leave empty if the server needs none")
                },
            ],
            Self::GithubToken => vec![secret("Token", "github_pat_… or ghp_…")],
        }
    }

    pub fn info(self) -> KindInfo {
        KindInfo {
            kind: self,
            group: self.group(),
            label: self.label().into(),
            hint: self.hint().into(),
            console_url: self.console_url().into(),
            fields: self.fields(),
        }
    }

    /// Subscription logins whose provider rotates the token while it is in use.
    pub fn rotates(self) -> bool {
        matches!(self, Self::ClaudeOauthToken | Self::CodexAuthJson)
    }

    /// Whether `secret` has this kind's shape. Loose where providers publish no format.
    pub(crate) fn recognises(self, secret: &str) -> bool {
        let alnum = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric());
        match self {
            Self::HetznerToken => secret.len() == 64 && alnum(secret),
            Self::ScalewayKeys => is_uuid(secret),
            Self::AnthropicApiKey => secret.starts_with("sk-ant-api"),
            Self::ClaudeOauthToken => secret.starts_with("sk-ant-oat"),
            Self::OpenaiApiKey => secret.starts_with("sk-") && !secret.starts_with("sk-ant-"),
            Self::CodexAuthJson => secret.starts_with('{'),
            Self::GeminiApiKey => secret.starts_with("AIza") && secret.len() == 39,
            Self::MistralApiKey => secret.len() == 32 && alnum(secret),
            Self::OpenaiCompatible => true,
            Self::GithubToken => ["ghp_", "github_pat_", "gho_", "ghu_", "ghs_"]
                .iter()
                .any(|p| secret.starts_with(p)),
        }
    }

    /// The kind a pasted secret most likely is, when it is not `self` — for "that looks like a
    /// Scaleway secret key, not a Hetzner token" messages.
    pub(crate) fn likely_other_kind(self, secret: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .filter(|k| *k != self && *k != Self::OpenaiCompatible && *k != Self::MistralApiKey)
            .find(|k| k.recognises(secret))
    }
}

pub(crate) fn is_uuid(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_every_kind_has_one_secret_field() {
        for kind in CredentialKind::ALL {
            assert_eq!(CredentialKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            let info = kind.info();
            assert_eq!(
                info.fields.iter().filter(|f| f.secret).count(),
                1,
                "{kind:?}"
            );
            assert!(info.console_url.starts_with("https://"));
            assert!(!info.hint.is_empty());
        }
    }

    #[test]
    fn recognises_shapes_and_names_the_likely_mix_up() {
        let scaleway_secret = "0f6a0bd4-3c5e-4b6f-9d9a-1c2b3d4e5f60";
        assert!(CredentialKind::ScalewayKeys.recognises(scaleway_secret));
        assert!(!CredentialKind::HetznerToken.recognises(scaleway_secret));
        assert_eq!(
            CredentialKind::HetznerToken.likely_other_kind(scaleway_secret),
            Some(CredentialKind::ScalewayKeys)
        );
        assert_eq!(
            CredentialKind::AnthropicApiKey.likely_other_kind("sk-ant-oat01-abc"),
            Some(CredentialKind::ClaudeOauthToken)
        );
        assert!(CredentialKind::GithubToken.recognises("github_pat_11ABCDEF"));
        assert!(!CredentialKind::OpenaiApiKey.recognises("sk-ant-api03-x"));
    }
}

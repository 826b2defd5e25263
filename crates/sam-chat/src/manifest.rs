//! The agents SAM can start, with the exact versions it installs: one manifest, shaped like
//! the ACP registry's `agent.json` (id, name, version, an npm distribution or a command).
//!
//! Credentials come from the vault and reach the agent only through its process environment
//! for that session (see [`crate::launch`]).

use sam_secrets::CredentialKind;

/// How an agent gets onto the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// `npm install` of an exact version, on demand, into the host's private prefix.
    Npm {
        /// The npm package.
        package: &'static str,
        /// The exact version.
        version: &'static str,
    },
    /// A program that must already be on the workspace's `PATH` (how to get it is in `hint`).
    OnPath {
        /// How the user installs it.
        hint: &'static str,
    },
}

/// A credential an agent accepts, and the environment variable it reads it from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialEnv {
    /// The vault kind.
    pub kind: CredentialKind,
    /// The variable the agent reads.
    pub env: &'static str,
}

/// One agent of the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentSpec {
    /// The id used everywhere (`--agent`, the database).
    pub id: &'static str,
    /// The name users see.
    pub name: &'static str,
    /// Where it comes from.
    pub distribution: Distribution,
    /// The command (its program is the package's binary for npm agents).
    pub argv: &'static [&'static str],
    /// The credentials it takes, in order of preference; empty when it needs none from SAM.
    pub credentials: &'static [CredentialEnv],
    /// Fixed environment for every session (telemetry and updates off).
    pub env: &'static [(&'static str, &'static str)],
    /// The ACP session mode to switch to after `session/new`, when offered.
    pub mode: Option<&'static str>,
}

/// Every agent SAM knows, in the order the picker shows them. Versions are pinned exactly and
/// move only with a release of SAM that was tested with them.
pub const AGENTS: &[AgentSpec] = &[
    AgentSpec {
        id: "claude",
        name: "Claude Code",
        distribution: Distribution::Npm {
            package: "@agentclientprotocol/claude-agent-acp",
            version: "0.101.0",
        },
        argv: &["claude-agent-acp"],
        credentials: &[
            CredentialEnv {
                kind: CredentialKind::AnthropicApiKey,
                env: "ANTHROPIC_API_KEY",
            },
            CredentialEnv {
                kind: CredentialKind::ClaudeOauthToken,
                env: "CLAUDE_CODE_OAUTH_TOKEN",
            },
        ],
        env: &[
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
            ("DISABLE_TELEMETRY", "1"),
            ("DISABLE_AUTOUPDATER", "1"),
        ],
        // Its default mode sends every tool call through a model-based classifier first.
        mode: Some("default"),
    },
    AgentSpec {
        id: "codex",
        name: "Codex",
        distribution: Distribution::Npm {
            package: "@agentclientprotocol/codex-acp",
            version: "2.6.0",
        },
        argv: &["codex-acp"],
        credentials: &[CredentialEnv {
            kind: CredentialKind::OpenaiApiKey,
            env: "OPENAI_API_KEY",
        }],
        env: &[],
        mode: None,
    },
    AgentSpec {
        id: "gemini",
        name: "Gemini CLI",
        distribution: Distribution::Npm {
            package: "@google/gemini-cli",
            version: "0.61.0",
        },
        argv: &["gemini", "--acp"],
        credentials: &[CredentialEnv {
            kind: CredentialKind::GeminiApiKey,
            env: "GEMINI_API_KEY",
        }],
        // Its launcher relaunches it as a child process and ignores SIGTERM; stopping the
        // launcher would leave the agent running. Usage statistics (on by default, sent to
        // play.googleapis.com) can only be turned off in its settings file.
        env: &[("GEMINI_CLI_NO_RELAUNCH", "true")],
        mode: None,
    },
    AgentSpec {
        id: "vibe",
        name: "Mistral Vibe",
        distribution: Distribution::OnPath {
            hint: "install it in the workspace with `pip install mistral-vibe`",
        },
        argv: &["vibe-acp"],
        credentials: &[CredentialEnv {
            kind: CredentialKind::MistralApiKey,
            env: "MISTRAL_API_KEY",
        }],
        env: &[],
        mode: None,
    },
    AgentSpec {
        id: "opencode",
        name: "OpenCode",
        distribution: Distribution::Npm {
            package: "opencode-ai",
            version: "1.18.33",
        },
        argv: &["opencode", "acp"],
        credentials: &[
            CredentialEnv {
                kind: CredentialKind::AnthropicApiKey,
                env: "ANTHROPIC_API_KEY",
            },
            CredentialEnv {
                kind: CredentialKind::OpenaiApiKey,
                env: "OPENAI_API_KEY",
            },
        ],
        // SAM pins the version: no self-upgrade. (It has no telemetry switch; its models.dev
        // catalogue fetch and background plugin install stay on for users.)
        env: &[("OPENCODE_DISABLE_AUTOUPDATE", "1")],
        // Its modes are `build` (edits as its permission config says: allowed by default)
        // and `plan` (no edits).
        mode: None,
    },
];

/// The id of a user-given ACP command.
pub const CUSTOM: &str = "custom";

/// The manifest entry of `id`.
pub fn agent(id: &str) -> Option<&'static AgentSpec> {
    AGENTS.iter().find(|a| a.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_versions_exact() {
        for (i, a) in AGENTS.iter().enumerate() {
            assert!(AGENTS[i + 1..].iter().all(|b| b.id != a.id), "{}", a.id);
            assert_ne!(a.id, CUSTOM);
            assert!(!a.argv.is_empty());
            if let Distribution::Npm { version, .. } = a.distribution {
                assert!(
                    version.chars().all(|c| c.is_ascii_digit() || c == '.'),
                    "{} is pinned exactly",
                    a.id
                );
            }
        }
        assert_eq!(agent("claude").map(|a| a.name), Some("Claude Code"));
        assert!(agent("nope").is_none());
    }
}

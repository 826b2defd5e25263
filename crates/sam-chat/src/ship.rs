//! The chat's side of shipping: a commit message drafted from the conversation, and the
//! record of where the work went ([`SessionEvent::Shipped`]) in the session's transcript.

use std::sync::Arc;

use sam_protocol::{SessionEvent, ShippedPullRequest};
use sam_workspace::ShipReport;

use crate::{ChatBatch, ChatError, MAX_PAGE, blocking, now_ms, to_event};

/// The longest subject line a draft has (git's convention).
const SUBJECT_MAX: usize = 72;
/// The most prompts a draft lists.
const PROMPTS_MAX: usize = 10;
/// The longest a listed prompt is.
const PROMPT_LINE_MAX: usize = 100;
/// The longest the agent's closing summary is.
const SUMMARY_MAX: usize = 600;
/// The subject when the conversation says nothing usable.
const FALLBACK_SUBJECT: &str = "Changes made with an agent in SAM Desktop";

impl crate::Chat {
    /// A commit message for shipping the work of `session` (or, without one, of the
    /// workspace's newest session that has a prompt): the first prompt as the subject, the
    /// prompts asked and the agent's last reply as the body. Anything that looks like an API
    /// key or token is blanked out: the message goes to a shared forge.
    ///
    /// # Errors
    /// An unknown session, or one of another workspace; the database.
    pub async fn ship_draft(
        &self,
        workspace: &str,
        session: Option<&str>,
    ) -> Result<String, ChatError> {
        let workspace_id = self
            .workspaces
            .get(workspace)
            .map(|w| w.id)
            .unwrap_or_else(|_| workspace.to_owned());
        let sessions = match session {
            Some(id) => {
                let row = self.session(id).await?;
                if row.workspace_id != workspace_id {
                    return Err(ChatError::InvalidInput(format!(
                        "the chat session {id} belongs to another workspace"
                    )));
                }
                vec![row]
            }
            None => self.sessions(Some(&workspace_id)).await?,
        };
        for candidate in sessions {
            let events = self.all_events(&candidate.id).await?;
            if let Some(message) = draft_message(&candidate.agent, &events) {
                return Ok(message);
            }
        }
        Ok(FALLBACK_SUBJECT.to_owned())
    }

    /// Records in `session`'s transcript that its work was shipped (and tells listeners, so
    /// an open chat shows it at once).
    ///
    /// # Errors
    /// An unknown session; the database.
    pub async fn record_shipped(
        &self,
        session: &str,
        report: &ShipReport,
    ) -> Result<(), ChatError> {
        let event = SessionEvent::Shipped {
            branch: report.shipped.branch.clone(),
            commit: report.shipped.commit.clone(),
            pushed: report.shipped.pushed,
            push_error: report.shipped.push_error.clone(),
            pull_request: report.pull_request.as_ref().map(|pull| ShippedPullRequest {
                number: pull.number,
                url: pull.html_url.clone(),
                state: pull.state.clone(),
                created: pull.created,
            }),
        };
        let body = serde_json::to_string(&event)
            .map_err(|e| ChatError::Host(format!("the shipped event does not encode: {e}")))?;
        let store = Arc::clone(&self.store);
        let id = session.to_owned();
        let row = blocking(move || store.append_chat_event(&id, now_ms(), &body))
            .await?
            .ok_or_else(|| ChatError::NoSession(session.to_owned()))?;
        if let Some(event) = to_event(row) {
            let _ = self.batches.send(ChatBatch {
                session_id: session.to_owned(),
                events: vec![event],
            });
        }
        Ok(())
    }

    async fn all_events(&self, session: &str) -> Result<Vec<SessionEvent>, ChatError> {
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page = self.events(session, after, MAX_PAGE).await?;
            let Some(last) = page.events.last() else {
                break;
            };
            after = last.seq;
            events.extend(page.events.into_iter().map(|e| e.body));
        }
        Ok(events)
    }
}

/// The draft for one session's events; `None` when it has no prompt.
fn draft_message(agent: &str, events: &[SessionEvent]) -> Option<String> {
    let mut prompts: Vec<&str> = Vec::new();
    let mut replies: Vec<String> = Vec::new();
    for event in events {
        match event {
            SessionEvent::PromptSent { text, .. } => {
                prompts.push(text);
                replies.push(String::new());
            }
            SessionEvent::Update { update } if update["sessionUpdate"] == "agent_message_chunk" => {
                if let (Some(reply), Some(chunk)) =
                    (replies.last_mut(), update["content"]["text"].as_str())
                {
                    reply.push_str(chunk);
                }
            }
            _ => {}
        }
    }
    let first = prompts.iter().find_map(|p| first_line(&blank_secrets(p)))?;
    let subject = subject_of(&first);
    let mut body = format!("Asked of the agent ({agent}):\n");
    for prompt in prompts.iter().take(PROMPTS_MAX) {
        if let Some(line) = first_line(&blank_secrets(prompt)) {
            body.push_str("- ");
            body.push_str(&clip(&line, PROMPT_LINE_MAX));
            body.push('\n');
        }
    }
    if prompts.len() > PROMPTS_MAX {
        body.push_str(&format!("- and {} more\n", prompts.len() - PROMPTS_MAX));
    }
    if let Some(summary) = replies
        .iter()
        .rev()
        .map(|reply| first_paragraph(&blank_secrets(reply)))
        .find(|p| !p.is_empty())
    {
        body.push_str("\nThe agent's last reply:\n");
        body.push_str(&clip(&summary, SUMMARY_MAX));
        body.push('\n');
    }
    Some(format!("{subject}\n\n{}", body.trim_end()))
}

/// The first line with text, trimmed.
fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
}

/// The first paragraph, its lines joined (Markdown's soft breaks).
fn first_paragraph(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A subject line: capitalised, no trailing full stop, at most [`SUBJECT_MAX`] characters
/// (cut at a word).
fn subject_of(line: &str) -> String {
    let line = line.trim_end_matches(['.', ':', ' ']);
    let mut chars = line.chars();
    let capitalised = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    clip(&capitalised, SUBJECT_MAX)
}

/// `text` cut to at most `max` characters, at a word when one ends late enough, with "…".
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    let at_word = match cut.rfind(' ') {
        Some(space) if space > max / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", at_word.trim_end())
}

/// Prefixes of API keys and tokens people paste into prompts by mistake (OpenAI, Anthropic,
/// GitHub, Google, Slack, AWS, Mistral-style `sk-`, Hugging Face, GitLab).
const SECRET_PREFIXES: &[&str] = &[
    "sk-",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "AIza",
    "xoxb-",
    "xoxp-",
    "AKIA",
    "hf_",
    "glpat-",
];

/// `text` with every word that starts like a key and is long enough to be one replaced by
/// `[redacted]`. Not a secret scanner: the draft is shown for editing; this catches the
/// common accident.
fn blank_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let word_end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ',' | ';'))
            .unwrap_or(rest.len());
        if word_end == 0 {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let word = &rest[..word_end];
        let looks_secret = word.len() >= 16
            && SECRET_PREFIXES.iter().any(|p| word.starts_with(p))
            && word.chars().any(|c| c.is_ascii_digit());
        out.push_str(if looks_secret { "[redacted]" } else { word });
        rest = &rest[word_end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prompt(n: u32, text: &str) -> SessionEvent {
        SessionEvent::PromptSent {
            prompt: n,
            text: text.to_owned(),
        }
    }

    fn said(text: &str) -> SessionEvent {
        SessionEvent::Update {
            update: json!({"sessionUpdate": "agent_message_chunk",
                "content": {"type": "text", "text": text}}),
        }
    }

    #[test]
    fn the_first_prompt_is_the_subject_and_the_last_reply_closes_the_body() {
        let events = [
            prompt(
                1,
                "add retry to the upload client.\nIt fails on flaky networks.",
            ),
            said("I added a retry "),
            said("with backoff.\n\nDetails follow."),
            SessionEvent::Update {
                update: json!({"sessionUpdate": "agent_thought_chunk",
                    "content": {"type": "text", "text": "thinking"}}),
            },
            prompt(2, "  \n  Also cover the timeout case  "),
            said("Done: timeouts retry too.\nTwo tests added.\n\nAnything else?"),
        ];
        assert_eq!(
            draft_message("claude", &events).unwrap(),
            "Add retry to the upload client\n\n\
             Asked of the agent (claude):\n\
             - add retry to the upload client.\n\
             - Also cover the timeout case\n\n\
             The agent's last reply:\n\
             Done: timeouts retry too. Two tests added."
        );
    }

    #[test]
    fn long_subjects_are_cut_at_a_word_and_many_prompts_are_counted() {
        let long = "refactor the whole storage layer so that every table has its own module and every query is checked at compile time";
        let mut events = vec![prompt(1, long)];
        for n in 2..=13 {
            events.push(prompt(n, &format!("step {n}")));
        }
        let draft = draft_message("codex", &events).unwrap();
        let subject = draft.lines().next().unwrap();
        assert!(subject.chars().count() <= SUBJECT_MAX, "{subject}");
        assert!(subject.starts_with("Refactor the whole storage layer"));
        assert!(subject.ends_with('…') && !subject.ends_with(" …"));
        assert!(draft.contains("- step 10\n- and 3 more"), "{draft}");
        assert!(!draft.contains("step 11"));
        // No reply: no summary section.
        assert!(!draft.contains("last reply"));
    }

    #[test]
    fn keys_pasted_into_prompts_or_replies_never_reach_the_message() {
        let events = [
            prompt(
                1,
                "use the key sk-ant-api03-abcdef0123456789xyz to call the API",
            ),
            said(
                "Configured ghp_0123456789abcdefghijABCDEFGHIJ0123 as \"github_pat_11ABC0123456789_x\".",
            ),
        ];
        let draft = draft_message("claude", &events).unwrap();
        assert!(!draft.contains("sk-ant"), "{draft}");
        assert!(!draft.contains("ghp_"), "{draft}");
        assert!(!draft.contains("github_pat_"), "{draft}");
        assert!(draft.starts_with("Use the key [redacted] to call the API\n"));
        // Ordinary words with those starts stay.
        assert_eq!(
            blank_secrets("a sketch of AKIA docs"),
            "a sketch of AKIA docs"
        );
    }

    #[test]
    fn a_session_without_prompts_has_no_draft() {
        assert!(draft_message("claude", &[]).is_none());
        assert!(draft_message("claude", &[prompt(1, "   \n  ")]).is_none());
        assert!(draft_message("claude", &[said("hello")]).is_none());
    }
}

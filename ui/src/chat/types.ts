// The chat event contract: the JSON the Rust core journals for a chat session and hands the UI
// as an ordered, gap-free list. Keep in sync with the Rust `chat` event types.

export type PermissionOptionKind = "allow_once" | "allow_always" | "reject_once" | "reject_always";
export type PermissionOption = { option_id: string; name: string; kind: PermissionOptionKind | string };
export type PermissionOutcome =
  | { outcome: "selected"; option_id: string; by: string } // by: "desktop" | "cli" | "notification" …
  | { outcome: "cancelled" } // the turn was cancelled
  | { outcome: "expired" };
export type ChatEventBody =
  | { kind: "session_started"; agent: string; agent_name: string | null; agent_version: string | null }
  | { kind: "prompt_sent"; prompt: number; text: string } // a user turn begins (prompt = turn number, 1-based)
  | { kind: "update"; update: unknown } // a raw ACP `session/update` `update` object
  | { kind: "permission_requested"; request: number; tool_call: unknown; options: PermissionOption[] }
  | { kind: "permission_resolved"; request: number; outcome: PermissionOutcome }
  | { kind: "turn_ended"; prompt: number; stop_reason: string; error: string | null } // end_turn | cancelled | max_tokens | max_turn_requests | refusal | error
  | { kind: "agent_exited"; code: number | null; stderr_tail: string }
  | { kind: "agent_silent"; silent_ms: number } // the agent said nothing for 5 min mid-turn
  | { kind: "agent_failed"; reason: string } // could not start (install failed, no initialize answer…)
  | { kind: "protocol_noise"; detail: string } // the agent printed something that is not ACP (shown discreetly)
  | { kind: "agent_suspended"; reason: string } // the host restarted; the agent can load the session again (resumes on the next send)
  | { kind: "session_resumed"; agent_name: string | null; agent_version: string | null; replayed: number } // the agent loaded the session again
  | { kind: "shipped"; branch: string; commit: string; pushed: boolean; push_error: string | null; pull_request: ShippedPullRequest | null }; // recorded by the desktop when the work was shipped
/** The pull request of a "shipped" event; `state` as it was when shipped (open, closed, merged). */
export type ShippedPullRequest = { number: number; url: string; state: string; created: boolean };
export type ChatEvent = { seq: number; at_ms: number; body: ChatEventBody };
export type SessionState = "starting" | "idle" | "working" | "waiting" | "ended" | "failed" | "resumable"; // waiting = a permission request is open; resumable = no agent runs, the next send resumes it
export type ChatSession = {
  id: string;
  workspace_id: string;
  workspace_name: string;
  workspace_gone: boolean;
  agent: string;
  title: string;
  created_at_ms: number;
  last_seq: number;
  state: SessionState;
  forked_from: { session_id: string; seq: number } | null;
};
export type AgentChoice = { id: string; name: string; available: boolean; reason: string | null }; // reason: why unavailable (e.g. "add an Anthropic key")
export type SearchHit = { session_id: string; session_title: string; seq: number; snippet: string };

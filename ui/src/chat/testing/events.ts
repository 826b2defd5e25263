// Builders for chat events, for tests and the fake api.
import type { ChatEvent, ChatEventBody, PermissionOption, PermissionOutcome } from "../types";

export const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/** Numbers bodies as events from `firstSeq` on, `stepMs` apart. */
export function makeEvents(bodies: readonly ChatEventBody[], firstSeq = 1, startMs = T0, stepMs = 100): ChatEvent[] {
  return bodies.map((body, i) => ({ seq: firstSeq + i, at_ms: startMs + i * stepMs, body }));
}

const update = (value: unknown): ChatEventBody => ({ kind: "update", update: value });

export const PERMISSION_OPTIONS: PermissionOption[] = [
  { option_id: "allow", name: "Allow once", kind: "allow_once" },
  { option_id: "always", name: "Always allow", kind: "allow_always" },
  { option_id: "reject", name: "Reject", kind: "reject_once" },
];

export const ev = {
  started: (agent = "claude-code", name: string | null = "Claude Code", version: string | null = "1.0.0"): ChatEventBody => ({
    kind: "session_started",
    agent,
    agent_name: name,
    agent_version: version,
  }),
  prompt: (prompt: number, text: string): ChatEventBody => ({ kind: "prompt_sent", prompt, text }),
  text: (text: string) => update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text } }),
  thought: (text: string) => update({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text } }),
  userText: (text: string) => update({ sessionUpdate: "user_message_chunk", content: { type: "text", text } }),
  block: (content: unknown) => update({ sessionUpdate: "agent_message_chunk", content }),
  tool: (fields: Record<string, unknown>) => update({ sessionUpdate: "tool_call", ...fields }),
  toolUpdate: (fields: Record<string, unknown>) => update({ sessionUpdate: "tool_call_update", ...fields }),
  plan: (entries: { content: string; priority?: string; status: string }[]) =>
    update({ sessionUpdate: "plan", entries: entries.map((entry) => ({ priority: "medium", ...entry })) }),
  usage: (used: number, size: number, cost?: { amount: number; currency: string }) =>
    update({ sessionUpdate: "usage_update", used, size, ...(cost ? { cost } : {}) }),
  info: (fields: Record<string, unknown>) => update({ sessionUpdate: "session_info_update", ...fields }),
  raw: update,
  permission: (request: number, toolCall: unknown, options: PermissionOption[] = PERMISSION_OPTIONS): ChatEventBody => ({
    kind: "permission_requested",
    request,
    tool_call: toolCall,
    options,
  }),
  resolved: (request: number, outcome: PermissionOutcome): ChatEventBody => ({ kind: "permission_resolved", request, outcome }),
  turnEnded: (prompt: number, stopReason = "end_turn", error: string | null = null): ChatEventBody => ({
    kind: "turn_ended",
    prompt,
    stop_reason: stopReason,
    error,
  }),
  exited: (code: number | null, stderrTail = ""): ChatEventBody => ({ kind: "agent_exited", code, stderr_tail: stderrTail }),
  silent: (silentMs = 300_000): ChatEventBody => ({ kind: "agent_silent", silent_ms: silentMs }),
  failed: (reason: string): ChatEventBody => ({ kind: "agent_failed", reason }),
  noise: (detail: string): ChatEventBody => ({ kind: "protocol_noise", detail }),
  suspended: (reason = "sam-host restarted"): ChatEventBody => ({ kind: "agent_suspended", reason }),
  resumed: (replayed = 3): ChatEventBody => ({ kind: "session_resumed", agent_name: "Claude Code", agent_version: "0.101.0", replayed }),
  shipped: (pullRequest: { number: number; url: string; state: string; created: boolean } | null = null, pushError: string | null = null): ChatEventBody => ({
    kind: "shipped",
    branch: "sam/greet-louder",
    commit: "0123456789abcdef0123",
    pushed: pushError === null,
    push_error: pushError,
    pull_request: pullRequest,
  }),
};

/** A long, realistic session: prompts, streamed text and thoughts, tool calls with updates, plans, permissions. */
export function longSession(count: number): ChatEvent[] {
  const bodies: ChatEventBody[] = [ev.started()];
  let prompt = 0;
  let tool = 0;
  let request = 0;
  while (bodies.length < count) {
    prompt += 1;
    bodies.push(ev.prompt(prompt, `Step ${prompt}`));
    for (let i = 0; i < 5; i++) bodies.push(ev.thought(`thinking ${i} `));
    for (let i = 0; i < 20; i++) bodies.push(ev.text(`word${i} `));
    tool += 1;
    const id = `tool-${tool}`;
    bodies.push(ev.tool({ toolCallId: id, title: `Edit file ${tool}`, kind: "edit", locations: [{ path: `src/f${tool}.ts`, line: 1 }] }));
    request += 1;
    bodies.push(ev.permission(request, { toolCallId: id }));
    bodies.push(ev.resolved(request, { outcome: "selected", option_id: "allow", by: "desktop" }));
    bodies.push(ev.toolUpdate({ toolCallId: id, status: "in_progress" }));
    bodies.push(ev.toolUpdate({ toolCallId: id, status: "completed", content: [{ type: "diff", path: `src/f${tool}.ts`, oldText: "a", newText: "b" }] }));
    bodies.push(ev.plan([{ content: "one", status: "completed" }, { content: "two", status: "in_progress" }]));
    bodies.push(ev.usage(prompt * 1000, 200_000));
    for (let i = 0; i < 10; i++) bodies.push(ev.text(`more${i} `));
    bodies.push(ev.turnEnded(prompt));
  }
  return makeEvents(bodies.slice(0, count));
}

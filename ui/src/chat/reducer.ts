// Turns a session's journal (ChatEvent[]) into what the transcript shows. Pure and incremental:
// `applyEvents(state, batch)` never mutates `state`, copies its containers once per batch (not
// per event), and replaces only the items an event touched, so React can skip the rest.
import type { ChatEvent, ChatEventBody, PermissionOption, PermissionOutcome, SessionState, ShippedPullRequest } from "./types";

export type ToolLocation = { path: string; line: number | null };

export type ToolContent =
  | { type: "text"; text: string }
  | { type: "block"; blockType: string; uri: string | null }
  | { type: "diff"; path: string; oldText: string | null; newText: string }
  | { type: "terminal"; terminalId: string }
  | { type: "unknown"; label: string };

export type ToolCallInfo = {
  toolCallId: string;
  title: string;
  /** ACP tool kind: read, edit, delete, move, search, execute, think, fetch, switch_mode, other. */
  kind: string;
  /** pending, in_progress, completed, failed. */
  status: string;
  locations: ToolLocation[];
  content: ToolContent[];
  rawInput: unknown;
  rawOutput: unknown;
};

export type PlanEntry = { content: string; priority: string; status: string };

export type Usage = { used: number; size: number; cost: { amount: number; currency: string } | null };

type ItemBase = {
  /** Stable, unique: the seq of the event that created the item. */
  key: string;
  /** The event that created the item. */
  seq: number;
  /** The last event merged into the item (a fork "from here" keeps everything up to it). */
  endSeq: number;
  atMs: number;
  /** The turn the item belongs to; null before the first prompt. */
  prompt: number | null;
};

export type UserItem = ItemBase & { type: "user"; text: string; /** replayed by the agent, not sent from here */ replay: boolean };
export type AgentItem = ItemBase & { type: "agent"; text: string };
export type ThoughtItem = ItemBase & { type: "thought"; text: string };
export type BlockItem = ItemBase & { type: "block"; role: "agent" | "user" | "thought"; blockType: string; uri: string | null };
export type ToolItem = ItemBase & { type: "tool"; call: ToolCallInfo };
export type PlanItem = ItemBase & { type: "plan"; entries: PlanEntry[] };
export type PermissionItem = ItemBase & {
  type: "permission";
  request: number;
  call: ToolCallInfo;
  options: PermissionOption[];
  outcome: PermissionOutcome | null;
  /** Still waiting for an answer. False once resolved, or when its turn or agent ended without one. */
  open: boolean;
};
export type TurnEndItem = ItemBase & { type: "turn_end"; stopReason: string; error: string | null; durationMs: number | null };
export type StartedItem = ItemBase & { type: "started"; agent: string; agentName: string | null; agentVersion: string | null };
export type ExitItem = ItemBase & { type: "exit"; code: number | null; stderrTail: string };
export type SilentItem = ItemBase & { type: "silent"; silentMs: number };
export type FailedItem = ItemBase & { type: "failed"; reason: string };
export type NoiseItem = ItemBase & { type: "noise"; lines: string[] };
export type UnsupportedItem = ItemBase & { type: "unsupported"; label: string };
export type SuspendedItem = ItemBase & { type: "suspended"; reason: string };
export type ResumedItem = ItemBase & { type: "resumed"; agentName: string | null; agentVersion: string | null };
export type ShippedItem = ItemBase & {
  type: "shipped";
  branch: string;
  commit: string;
  pushed: boolean;
  pushError: string | null;
  pullRequest: ShippedPullRequest | null;
};

export type ChatItem =
  | UserItem
  | AgentItem
  | ThoughtItem
  | BlockItem
  | ToolItem
  | PlanItem
  | PermissionItem
  | TurnEndItem
  | StartedItem
  | ExitItem
  | SilentItem
  | FailedItem
  | NoiseItem
  | SuspendedItem
  | ResumedItem
  | ShippedItem
  | UnsupportedItem;

export type ChatState = {
  /** The last event applied; events at or below it are duplicates. Seqs start at 1. */
  lastSeq: number;
  /** Set to lastSeq when a batch skipped ahead (seq > lastSeq + 1): refetch after it. */
  gapAfter: number | null;
  /** Events up to this seq are not in this state (a session opened at its newest events first); 0 when all are. */
  loadedAfter: number;
  items: readonly ChatItem[];
  /** toolCallId → index in items. */
  toolIndex: ReadonlyMap<string, number>;
  /** permission request number → index in items. */
  permissionIndex: ReadonlyMap<number, number>;
  /** Request numbers still waiting for an answer, oldest first. */
  openPermissions: readonly number[];
  /** A prompt_sent with no turn_ended (nor agent exit) after it. */
  working: boolean;
  /** at_ms of the prompt that started the running turn. */
  workingSince: number | null;
  /** The latest turn number. */
  currentPrompt: number | null;
  /** How long the agent had been silent, when agent_silent arrived in the running turn and it has said nothing since. */
  silentMs: number | null;
  usage: Usage | null;
  /** From session_info_update. */
  title: string | null;
  agent: { id: string; name: string | null; version: string | null } | null;
  /** The latest plan. */
  plan: readonly PlanEntry[] | null;
  /** Index of the running turn's plan item, which later plan updates replace. */
  planIndex: number | null;
  /** The agent exited and has not started again: the key of its exit item. */
  exitedKey: string | null;
  /** The agent stopped with its host and can load the session again (on the next send). */
  suspended: boolean;
  /** The agent could not start (and has not started since). */
  failure: string | null;
  /** The key of that failure's item. */
  failedKey: string | null;
};

/** An empty state; `after` > 0 starts it past older events, which are then not in it (see loadedAfter). */
export function createChatState(after = 0): ChatState {
  return {
    lastSeq: after,
    gapAfter: null,
    loadedAfter: after,
    items: [],
    toolIndex: new Map(),
    permissionIndex: new Map(),
    openPermissions: [],
    working: false,
    workingSince: null,
    currentPrompt: null,
    silentMs: null,
    usage: null,
    title: null,
    agent: null,
    plan: null,
    planIndex: null,
    exitedKey: null,
    suspended: false,
    failure: null,
    failedKey: null,
  };
}

type Draft = Omit<ChatState, "items" | "toolIndex" | "permissionIndex" | "openPermissions"> & {
  items: ChatItem[];
  toolIndex: Map<string, number>;
  permissionIndex: Map<number, number>;
  openPermissions: number[];
};

function isSorted(events: readonly ChatEvent[]): boolean {
  for (let i = 1; i < events.length; i++) if (events[i]!.seq < events[i - 1]!.seq) return false;
  return true;
}

/**
 * Applies a batch of events. Duplicates (seq ≤ lastSeq) are skipped; at a gap it stops and sets
 * `gapAfter` so the caller can fetch the missing events (applying them later clears it).
 * Returns `state` itself when nothing changed.
 */
export function applyEvents(state: ChatState, events: readonly ChatEvent[]): ChatState {
  if (events.length === 0) return state;
  const ordered = isSorted(events) ? events : [...events].sort((a, b) => a.seq - b.seq);
  let draft: Draft | null = null;
  let gapAfter = state.gapAfter;
  owned = new WeakSet();
  for (const event of ordered) {
    const lastSeq: number = draft ? draft.lastSeq : state.lastSeq;
    if (event.seq <= lastSeq) continue;
    if (event.seq > lastSeq + 1) {
      gapAfter = lastSeq;
      break;
    }
    draft ??= {
      ...state,
      items: state.items.slice(),
      toolIndex: new Map(state.toolIndex),
      permissionIndex: new Map(state.permissionIndex),
      openPermissions: state.openPermissions.slice(),
    };
    applyOne(draft, event);
    draft.lastSeq = event.seq;
    gapAfter = null;
  }
  if (!draft) return gapAfter === state.gapAfter ? state : { ...state, gapAfter };
  draft.gapAfter = gapAfter;
  return draft;
}

/** What the session is doing, as far as its events tell. */
export function sessionStateOf(state: ChatState): SessionState {
  if (state.failure !== null) return "failed";
  if (state.exitedKey !== null) return "ended";
  if (state.suspended) return "resumable";
  if (state.openPermissions.length > 0) return "waiting";
  if (state.working) return "working";
  if (state.agent === null && state.lastSeq === 0) return "starting";
  return "idle";
}

/** Index of the item that shows event `seq`: the last item created at or before it. -1 if none. */
export function indexOfSeq(items: readonly ChatItem[], seq: number): number {
  let lo = 0;
  let hi = items.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid]!.seq <= seq) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function base(event: ChatEvent, prompt: number | null): ItemBase {
  return { key: String(event.seq), seq: event.seq, endSeq: event.seq, atMs: event.at_ms, prompt };
}

// Items created or copied during the running batch. Nothing outside has seen them yet, so
// they may change in place: a message streamed in 500 chunks is one object per batch, not 500.
let owned = new WeakSet<ChatItem>();

function push(draft: Draft, item: ChatItem): number {
  owned.add(item);
  draft.items.push(item);
  return draft.items.length - 1;
}

/** The item at `index`, safe to change: copied once per batch, so earlier states keep theirs. */
function writable<T extends ChatItem>(draft: Draft, index: number): T {
  const item = draft.items[index]!;
  if (owned.has(item)) return item as T;
  const copy = { ...item } as T;
  owned.add(copy);
  draft.items[index] = copy;
  return copy;
}

function closeOpenPermissions(draft: Draft) {
  for (const request of draft.openPermissions) {
    const index = draft.permissionIndex.get(request);
    const item = index === undefined ? undefined : draft.items[index];
    if (item?.type === "permission") writable<PermissionItem>(draft, index!).open = false;
  }
  draft.openPermissions = [];
}

function endTurn(draft: Draft) {
  draft.working = false;
  draft.workingSince = null;
  draft.silentMs = null;
  closeOpenPermissions(draft);
}

function applyOne(draft: Draft, event: ChatEvent) {
  const body = event.body as ChatEventBody | null;
  const prompt = draft.currentPrompt;
  switch (body?.kind) {
    case "session_started":
      draft.agent = { id: body.agent, name: body.agent_name, version: body.agent_version };
      draft.exitedKey = null;
      draft.failure = null;
      draft.failedKey = null;
      push(draft, { ...base(event, prompt), type: "started", agent: body.agent, agentName: body.agent_name, agentVersion: body.agent_version });
      return;
    case "prompt_sent":
      if (draft.working) endTurn(draft);
      draft.suspended = false;
      draft.currentPrompt = body.prompt;
      draft.working = true;
      draft.workingSince = event.at_ms;
      draft.silentMs = null;
      draft.planIndex = null;
      draft.exitedKey = null;
      push(draft, { ...base(event, body.prompt), type: "user", text: body.text, replay: false });
      return;
    case "update":
      applyUpdate(draft, event, body.update);
      return;
    case "permission_requested": {
      const raw = isRecord(body.tool_call) ? body.tool_call : {};
      const id = typeof raw.toolCallId === "string" ? raw.toolCallId : "";
      const toolIndex = draft.toolIndex.get(id);
      const card = toolIndex === undefined ? undefined : draft.items[toolIndex];
      const call = mergeToolCall(card?.type === "tool" ? card.call : emptyToolCall(id), raw);
      const options = Array.isArray(body.options) ? body.options.filter(isPermissionOption) : [];
      const existing = draft.permissionIndex.get(body.request);
      const item: PermissionItem = { ...base(event, prompt), type: "permission", request: body.request, call, options, outcome: null, open: true };
      if (existing !== undefined) draft.items[existing] = { ...item, key: draft.items[existing]!.key };
      else draft.permissionIndex.set(body.request, push(draft, item));
      if (!draft.openPermissions.includes(body.request)) draft.openPermissions.push(body.request);
      draft.silentMs = null;
      return;
    }
    case "permission_resolved": {
      draft.openPermissions = draft.openPermissions.filter((request) => request !== body.request);
      const index = draft.permissionIndex.get(body.request);
      const item = index === undefined ? undefined : draft.items[index];
      if (item?.type === "permission") {
        const writableItem = writable<PermissionItem>(draft, index!);
        writableItem.outcome = body.outcome;
        writableItem.open = false;
        writableItem.endSeq = event.seq;
      }
      return;
    }
    case "turn_ended": {
      const durationMs = draft.workingSince === null ? null : Math.max(0, event.at_ms - draft.workingSince);
      endTurn(draft);
      push(draft, { ...base(event, body.prompt), type: "turn_end", stopReason: body.stop_reason, error: body.error, durationMs });
      return;
    }
    case "agent_exited": {
      endTurn(draft);
      const index = push(draft, { ...base(event, prompt), type: "exit", code: body.code, stderrTail: body.stderr_tail ?? "" });
      draft.exitedKey = draft.items[index]!.key;
      return;
    }
    case "agent_silent":
      if (draft.working) draft.silentMs = body.silent_ms;
      push(draft, { ...base(event, prompt), type: "silent", silentMs: body.silent_ms });
      return;
    case "agent_failed":
      endTurn(draft);
      draft.failure = body.reason;
      draft.failedKey = draft.items[push(draft, { ...base(event, prompt), type: "failed", reason: body.reason })]!.key;
      return;
    case "protocol_noise": {
      const lastIndex = draft.items.length - 1;
      const last = draft.items[lastIndex];
      if (last?.type === "noise") {
        const fresh = owned.has(last);
        const item = writable<NoiseItem>(draft, lastIndex);
        if (!fresh) item.lines = item.lines.slice();
        item.lines.push(body.detail);
        item.endSeq = event.seq;
      } else push(draft, { ...base(event, prompt), type: "noise", lines: [body.detail] });
      return;
    }
    case "agent_suspended":
      endTurn(draft);
      draft.suspended = true;
      push(draft, { ...base(event, prompt), type: "suspended", reason: body.reason });
      return;
    case "session_resumed":
      draft.suspended = false;
      draft.exitedKey = null;
      draft.failure = null;
      draft.failedKey = null;
      push(draft, { ...base(event, prompt), type: "resumed", agentName: body.agent_name, agentVersion: body.agent_version });
      return;
    case "shipped":
      push(draft, {
        ...base(event, prompt),
        type: "shipped",
        branch: body.branch,
        commit: body.commit,
        pushed: body.pushed,
        pushError: body.push_error,
        pullRequest: body.pull_request,
      });
      return;
    default: {
      const unknownBody: unknown = body;
      const kind = isRecord(unknownBody) && typeof unknownBody.kind === "string" ? unknownBody.kind : typeof unknownBody;
      push(draft, { ...base(event, prompt), type: "unsupported", label: `event ${kind}` });
    }
  }
}

// ---------- ACP session/update ----------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPermissionOption(value: unknown): value is PermissionOption {
  return isRecord(value) && typeof value.option_id === "string" && typeof value.name === "string" && typeof value.kind === "string";
}

function applyUpdate(draft: Draft, event: ChatEvent, update: unknown) {
  const prompt = draft.currentPrompt;
  if (!isRecord(update)) {
    push(draft, { ...base(event, prompt), type: "unsupported", label: update === null ? "null" : typeof update });
    return;
  }
  const kind = update.sessionUpdate;
  // Anything the agent says means it is no longer silent.
  if (kind !== "usage_update") draft.silentMs = null;
  switch (kind) {
    case "agent_message_chunk":
      appendChunk(draft, event, "agent", update.content);
      return;
    case "agent_thought_chunk":
      appendChunk(draft, event, "thought", update.content);
      return;
    case "user_message_chunk":
      // Inside a turn we sent, the agent is echoing our own prompt.
      if (!draft.working) appendChunk(draft, event, "user", update.content);
      return;
    case "tool_call":
    case "tool_call_update": {
      const id = typeof update.toolCallId === "string" ? update.toolCallId : "";
      const index = draft.toolIndex.get(id);
      const item = index === undefined ? undefined : draft.items[index];
      if (item?.type === "tool") {
        const card = writable<ToolItem>(draft, index!);
        card.call = mergeToolCall(item.call, update);
        card.endSeq = event.seq;
      } else {
        draft.toolIndex.set(id, push(draft, { ...base(event, prompt), type: "tool", call: mergeToolCall(emptyToolCall(id), update) }));
      }
      return;
    }
    case "plan": {
      const entries = Array.isArray(update.entries) ? update.entries.filter(isRecord).map(parsePlanEntry) : [];
      draft.plan = entries;
      const current = draft.planIndex === null ? undefined : draft.items[draft.planIndex];
      if (current?.type === "plan") {
        const plan = writable<PlanItem>(draft, draft.planIndex!);
        plan.entries = entries;
        plan.endSeq = event.seq;
      }
      else draft.planIndex = push(draft, { ...base(event, prompt), type: "plan", entries });
      return;
    }
    case "usage_update": {
      const cost = isRecord(update.cost) && typeof update.cost.amount === "number" && typeof update.cost.currency === "string"
        ? { amount: update.cost.amount, currency: update.cost.currency }
        : null;
      draft.usage = { used: numberOr(update.used, 0), size: numberOr(update.size, 0), cost };
      return;
    }
    case "session_info_update":
      if (typeof update.title === "string") draft.title = update.title;
      return;
    case "available_commands_update":
    case "current_mode_update":
    case "config_option_update":
      return;
    default:
      push(draft, { ...base(event, prompt), type: "unsupported", label: typeof kind === "string" ? kind : "update without a kind" });
  }
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function appendChunk(draft: Draft, event: ChatEvent, role: "agent" | "thought" | "user", content: unknown) {
  const prompt = draft.currentPrompt;
  const block = parseBlock(content);
  if (block.type !== "text") {
    push(draft, { ...base(event, prompt), type: "block", role, blockType: block.blockType, uri: block.uri });
    return;
  }
  const lastIndex = draft.items.length - 1;
  const last = draft.items[lastIndex];
  if (role === "user") {
    if (last?.type === "user" && last.replay && last.prompt === prompt) {
      const item = writable<UserItem>(draft, lastIndex);
      item.text += block.text;
      item.endSeq = event.seq;
    } else push(draft, { ...base(event, prompt), type: "user", text: block.text, replay: true });
    return;
  }
  if (last?.type === role && last.prompt === prompt) {
    const item = writable<AgentItem | ThoughtItem>(draft, lastIndex);
    item.text += block.text;
    item.endSeq = event.seq;
  } else push(draft, { ...base(event, prompt), type: role, text: block.text });
}

type Block = { type: "text"; text: string } | { type: "block"; blockType: string; uri: string | null };

function parseBlock(content: unknown): Block {
  if (!isRecord(content)) return { type: "block", blockType: content === undefined ? "missing content" : typeof content, uri: null };
  if (content.type === "text" && typeof content.text === "string") return { type: "text", text: content.text };
  const blockType = typeof content.type === "string" ? content.type : "unknown";
  let uri: string | null = typeof content.uri === "string" ? content.uri : null;
  // An embedded resource carries its uri one level down.
  if (uri === null && isRecord(content.resource) && typeof content.resource.uri === "string") uri = content.resource.uri;
  return { type: "block", blockType, uri };
}

function emptyToolCall(toolCallId: string): ToolCallInfo {
  return { toolCallId, title: "", kind: "other", status: "pending", locations: [], content: [], rawInput: undefined, rawOutput: undefined };
}

/** Fields present in `raw` replace those of `call` (content included: ACP sends it whole). */
export function mergeToolCall(call: ToolCallInfo, raw: Record<string, unknown>): ToolCallInfo {
  const next = { ...call };
  if (typeof raw.title === "string") next.title = raw.title;
  if (typeof raw.kind === "string") next.kind = raw.kind;
  if (typeof raw.status === "string") next.status = raw.status;
  if (Array.isArray(raw.locations)) {
    next.locations = raw.locations
      .filter(isRecord)
      .filter((location) => typeof location.path === "string")
      .map((location) => ({ path: location.path as string, line: typeof location.line === "number" ? location.line : null }));
  }
  if (Array.isArray(raw.content)) next.content = raw.content.map(parseToolContent);
  if ("rawInput" in raw) next.rawInput = raw.rawInput;
  if ("rawOutput" in raw) next.rawOutput = raw.rawOutput;
  return next;
}

function parseToolContent(raw: unknown): ToolContent {
  if (!isRecord(raw)) return { type: "unknown", label: typeof raw };
  switch (raw.type) {
    case "content":
      return parseBlock(raw.content);
    case "diff":
      if (typeof raw.path === "string" && typeof raw.newText === "string") {
        return { type: "diff", path: raw.path, oldText: typeof raw.oldText === "string" ? raw.oldText : null, newText: raw.newText };
      }
      return { type: "unknown", label: "diff" };
    case "terminal":
      return { type: "terminal", terminalId: typeof raw.terminalId === "string" ? raw.terminalId : "" };
    default:
      return { type: "unknown", label: typeof raw.type === "string" ? raw.type : "unknown" };
  }
}

function parsePlanEntry(raw: Record<string, unknown>): PlanEntry {
  return {
    content: typeof raw.content === "string" ? raw.content : "",
    priority: typeof raw.priority === "string" ? raw.priority : "medium",
    status: typeof raw.status === "string" ? raw.status : "pending",
  };
}

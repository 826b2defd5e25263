// An in-memory ChatApi: sessions with journals, live subscribers, and just enough agent
// behaviour (an optional scripted reply) for tests and for working on the UI without the core.
import type { ChatApi, FileMatches, OpenOutcome } from "../api";
import type { AgentChoice, ChatEvent, ChatEventBody, ChatSession, SearchHit, SessionState } from "../types";
import { ev, T0 } from "./events";

export type FakeSessionSeed = Partial<Omit<ChatSession, "last_seq">> & { id: string; events?: ChatEventBody[] };

export type FakeChatApiOptions = {
  agents?: AgentChoice[];
  workspaces?: { id: string; name: string; gone?: boolean }[];
  sessions?: FakeSessionSeed[];
  /** When set, each prompt gets this reply, streamed a chunk every `replyDelayMs`. */
  autoReply?: (text: string) => ChatEventBody[];
  replyDelayMs?: number;
  /** The clock for at_ms; a fixed step by default, so tests are deterministic. */
  now?: () => number;
  /**
   * The workspaces' files (workspace-relative path → text; null for a binary file). When set, the
   * fake also has resolvePaths, findFiles and readFile; without it, like a core that cannot look
   * at files, it has none of them.
   */
  files?: Record<string, string | null>;
  /** Where the workspace lives, so absolute paths under it resolve ("/home/ada/api" by default). */
  workspaceRoot?: string;
  /** What openLocation answers (or throws); "Opened in VS Code…" by default. */
  openOutcome?: (path: string, line: number | null, column: number | null) => OpenOutcome | Promise<OpenOutcome>;
  /** readFile reports files longer than this many characters as truncated (and cuts them). */
  readLimitChars?: number;
};

export type FakeCall = { method: keyof ChatApi; args: unknown[] };

export const FAKE_AGENTS: AgentChoice[] = [
  { id: "claude-code", name: "Claude Code", available: true, reason: null },
  { id: "codex", name: "Codex", available: true, reason: null },
  { id: "gemini", name: "Gemini CLI", available: false, reason: "add a Google AI key" },
];

type FakeSession = ChatSession & { journal: ChatEvent[]; timers: ReturnType<typeof setTimeout>[] };

export type FakeChatApi = ChatApi & {
  /** Every call, in order. */
  calls: FakeCall[];
  /** Appends events to a session's journal and delivers them to its subscribers at once. */
  emit(sessionId: string, bodies: ChatEventBody | ChatEventBody[]): ChatEvent[];
  /** Adds events to the journal without telling subscribers (to make a gap). */
  appendSilently(sessionId: string, bodies: ChatEventBody[]): ChatEvent[];
  session(sessionId: string): ChatSession;
  journal(sessionId: string): ChatEvent[];
  subscriberCount(sessionId: string): number;
};

function stateAfter(state: SessionState, body: ChatEventBody, openRequests: number): SessionState {
  switch (body.kind) {
    case "session_started":
      return "idle";
    case "prompt_sent":
      return "working";
    case "permission_requested":
      return "waiting";
    case "permission_resolved":
      return openRequests > 0 ? "waiting" : "working";
    case "turn_ended":
      return "idle";
    case "agent_exited":
      return "ended";
    case "agent_failed":
      return "failed";
    default:
      return state;
  }
}

export function createFakeChatApi(options: FakeChatApiOptions = {}): FakeChatApi {
  const agents = options.agents ?? FAKE_AGENTS;
  const workspaces = options.workspaces ?? [{ id: "w-api", name: "api" }];
  const sessions = new Map<string, FakeSession>();
  const listeners = new Map<string, Set<(events: ChatEvent[]) => void>>();
  const calls: FakeCall[] = [];
  let tick = 0;
  const now = options.now ?? (() => T0 + 1000 * tick++);
  let nextId = 1;

  const find = (id: string): FakeSession => {
    const session = sessions.get(id);
    if (!session) throw new Error(`No chat session ${id}`);
    return session;
  };

  const workspaceName = (id: string) => workspaces.find((workspace) => workspace.id === id)?.name ?? id;

  function append(id: string, bodies: ChatEventBody[]): ChatEvent[] {
    const session = find(id);
    const events = bodies.map((body) => {
      const event: ChatEvent = { seq: session.journal.length + 1, at_ms: now(), body };
      session.journal.push(event);
      const open = openRequests(session);
      session.state = stateAfter(session.state, body, open);
      if (body.kind === "update" && typeof body.update === "object" && body.update !== null) {
        const update = body.update as { sessionUpdate?: unknown; title?: unknown };
        if (update.sessionUpdate === "session_info_update" && typeof update.title === "string") session.title = update.title;
      }
      return event;
    });
    session.last_seq = session.journal.length;
    return events;
  }

  function openRequests(session: FakeSession): number {
    const open = new Set<number>();
    for (const { body } of session.journal) {
      if (body.kind === "permission_requested") open.add(body.request);
      if (body.kind === "permission_resolved") open.delete(body.request);
      if (body.kind === "turn_ended") open.clear();
    }
    return open.size;
  }

  function emit(id: string, bodies: ChatEventBody | ChatEventBody[]): ChatEvent[] {
    const events = append(id, Array.isArray(bodies) ? bodies : [bodies]);
    for (const listener of listeners.get(id) ?? []) listener(events.slice());
    return events;
  }

  function create(seed: FakeSessionSeed): FakeSession {
    const workspaceId = seed.workspace_id ?? workspaces[0]?.id ?? "w-api";
    const session: FakeSession = {
      workspace_id: workspaceId,
      workspace_name: workspaceName(workspaceId),
      workspace_gone: workspaces.find((workspace) => workspace.id === workspaceId)?.gone ?? false,
      agent: agents[0]?.id ?? "claude-code",
      title: "New chat",
      created_at_ms: now(),
      state: "starting",
      forked_from: null,
      ...seed,
      last_seq: 0,
      journal: [],
      timers: [],
    };
    sessions.set(session.id, session);
    if (seed.events) append(session.id, seed.events);
    if (seed.state) session.state = seed.state;
    return session;
  }

  for (const seed of options.sessions ?? []) create(seed);

  function record(method: keyof ChatApi, args: unknown[]) {
    calls.push({ method, args });
  }

  function stopReply(session: FakeSession) {
    session.timers.forEach(clearTimeout);
    session.timers = [];
  }

  const api: FakeChatApi = {
    calls,
    async workspaces() {
      record("workspaces", []);
      return workspaces.filter((workspace) => !workspace.gone).map(({ id, name }) => ({ id, name }));
    },
    emit,
    appendSilently: (id, bodies) => append(id, bodies),
    session: (id) => {
      const { journal: _journal, timers: _timers, ...session } = find(id);
      return session;
    },
    journal: (id) => find(id).journal.slice(),
    subscriberCount: (id) => listeners.get(id)?.size ?? 0,

    async agents(workspaceId) {
      record("agents", [workspaceId]);
      return agents.map((agent) => ({ ...agent }));
    },
    async sessions(workspaceId) {
      record("sessions", [workspaceId]);
      return [...sessions.values()]
        .filter((session) => workspaceId === null || session.workspace_id === workspaceId)
        .sort((a, b) => b.created_at_ms - a.created_at_ms)
        .map(({ journal: _journal, timers: _timers, ...session }) => ({ ...session }));
    },
    async events(sessionId, afterSeq, limit) {
      record("events", [sessionId, afterSeq, limit]);
      const session = find(sessionId);
      return { events: session.journal.filter((event) => event.seq > afterSeq).slice(0, limit), last_seq: session.journal.length };
    },
    subscribe(sessionId, onEvents) {
      record("subscribe", [sessionId]);
      let set = listeners.get(sessionId);
      if (!set) listeners.set(sessionId, (set = new Set()));
      set.add(onEvents);
      return () => {
        set.delete(onEvents);
      };
    },
    async send(req) {
      record("send", [req]);
      let session: FakeSession;
      if (req.sessionId === null) {
        const agent = agents.find((choice) => choice.id === req.agent) ?? agents.find((choice) => choice.available);
        if (!agent?.available) throw new Error(agent?.reason ?? "No agent is available.");
        session = create({ id: `s-new-${nextId++}`, workspace_id: req.workspaceId, agent: agent.id, title: req.text.slice(0, 60) });
        emit(session.id, ev.started(agent.id, agent.name, "1.0.0"));
      } else {
        session = find(req.sessionId);
        if (session.state === "working" || session.state === "waiting") throw new Error("The agent is working on another prompt.");
      }
      const prompt = session.journal.filter((event) => event.body.kind === "prompt_sent").length + 1;
      emit(session.id, ev.prompt(prompt, req.text));
      if (options.autoReply) {
        const reply = [...options.autoReply(req.text), ev.turnEnded(prompt)];
        const delay = options.replyDelayMs ?? 50;
        reply.forEach((body, i) => {
          session.timers.push(setTimeout(() => emit(session.id, body), delay * (i + 1)));
        });
      }
      return { session_id: session.id };
    },
    async cancel(sessionId) {
      record("cancel", [sessionId]);
      const session = find(sessionId);
      stopReply(session);
      if (session.state !== "working" && session.state !== "waiting") return;
      const open = new Set<number>();
      let prompt = 0;
      for (const { body } of session.journal) {
        if (body.kind === "prompt_sent") prompt = body.prompt;
        if (body.kind === "permission_requested") open.add(body.request);
        if (body.kind === "permission_resolved" || body.kind === "turn_ended") {
          if (body.kind === "turn_ended") open.clear();
          else open.delete(body.request);
        }
      }
      emit(sessionId, [...[...open].map((request) => ev.resolved(request, { outcome: "cancelled" })), ev.turnEnded(prompt, "cancelled")]);
    },
    async answerPermission(sessionId, request, optionId) {
      record("answerPermission", [sessionId, request, optionId]);
      emit(sessionId, ev.resolved(request, { outcome: "selected", option_id: optionId, by: "desktop" }));
    },
    async fork(sessionId, seq, workspaceId = null) {
      record("fork", workspaceId === null ? [sessionId, seq] : [sessionId, seq, workspaceId]);
      const source = find(sessionId);
      const fork = create({
        id: `s-fork-${nextId++}`,
        workspace_id: workspaceId ?? source.workspace_id,
        agent: source.agent,
        title: `${source.title} (fork)`,
        forked_from: { session_id: sessionId, seq },
        events: source.journal.filter((event) => event.seq <= seq).map((event) => event.body),
        state: "idle",
      });
      return { session_id: fork.id };
    },
    async restart(sessionId) {
      record("restart", [sessionId]);
      const session = find(sessionId);
      const agent = agents.find((choice) => choice.id === session.agent);
      emit(sessionId, ev.started(session.agent, agent?.name ?? null, "1.0.0"));
      return { session_id: sessionId };
    },
    async search(query) {
      record("search", [query]);
      const needle = query.trim().toLowerCase();
      if (!needle) return [];
      const hits: SearchHit[] = [];
      for (const session of sessions.values()) {
        for (const event of session.journal) {
          const text = textOf(event.body);
          const at = text.toLowerCase().indexOf(needle);
          if (at >= 0) {
            hits.push({ session_id: session.id, session_title: session.title, seq: event.seq, snippet: text.slice(Math.max(0, at - 30), at + needle.length + 30) });
          }
        }
      }
      return hits;
    },
    // Recorded as called: an omitted column is not recorded.
    async openLocation(...args) {
      record("openLocation", args);
      const [, path, line, column] = args;
      if (options.openOutcome) return options.openOutcome(path, line, column ?? null);
      return { how: "editor", editor: "VS Code", message: line === null ? `Opened ${path} in VS Code` : `Opened in VS Code at line ${line}` };
    },
    async openUrl(url) {
      record("openUrl", [url]);
    },
  };
  if (options.files) {
    const files = options.files;
    const root = (options.workspaceRoot ?? "/home/ada/api").replace(/\/+$/, "");
    const limit = options.readLimitChars ?? 1_000_000;
    api.resolvePaths = async (workspaceId, candidates) => {
      record("resolvePaths", [workspaceId, candidates]);
      return candidates.flatMap((requested) => {
        const path = normalise(requested, root);
        return path !== null && Object.hasOwn(files, path) ? [{ requested, path }] : [];
      });
    };
    api.findFiles = async (workspaceId, query, limit) => {
      record("findFiles", [workspaceId, query, limit]);
      return fuzzyFind(Object.keys(files), query, limit);
    };
    api.readFile = async (workspaceId, path) => {
      record("readFile", [workspaceId, path]);
      if (!Object.hasOwn(files, path)) throw new Error(`${path} does not exist in the workspace.`);
      const text = files[path]!;
      const sizeBytes = text === null ? 4096 : new TextEncoder().encode(text).length;
      const truncated = text !== null && text.length > limit;
      return { path, text: text === null ? null : text.slice(0, limit), truncated, sizeBytes };
    };
  }
  return api;
}

/** A candidate as a workspace-relative path (`./`, `..` and the workspace root taken out), or null outside it. */
function normalise(candidate: string, root: string): string | null {
  let path = candidate.replace(/\\/g, "/");
  if (path.startsWith("/")) {
    if (!path.startsWith(`${root}/`)) return null;
    path = path.slice(root.length + 1);
  }
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.pop() === undefined) return null;
    } else parts.push(part);
  }
  return parts.join("/");
}

/** Subsequence matching, case-insensitive; shorter paths and earlier matches first. */
function fuzzyFind(paths: string[], query: string, limit: number): FileMatches {
  const needle = [...query.toLowerCase()].filter((char) => char !== " ");
  const matches: { path: string; positions: number[]; score: number }[] = [];
  for (const path of paths) {
    const chars = [...path.toLowerCase()];
    const positions: number[] = [];
    let at = 0;
    for (const char of needle) {
      while (at < chars.length && chars[at] !== char) at += 1;
      if (at === chars.length) break;
      positions.push(at);
      at += 1;
    }
    if (positions.length === needle.length) matches.push({ path, positions, score: (positions[positions.length - 1] ?? 0) - (positions[0] ?? 0) + path.length / 100 });
  }
  matches.sort((a, b) => a.score - b.score || a.path.localeCompare(b.path));
  return { matches: matches.slice(0, limit).map(({ path, positions }) => ({ path, positions })), indexedFiles: paths.length };
}

function textOf(body: ChatEventBody): string {
  if (body.kind === "prompt_sent") return body.text;
  if (body.kind === "update" && typeof body.update === "object" && body.update !== null) {
    const content = (body.update as { content?: { type?: unknown; text?: unknown } }).content;
    if (content?.type === "text" && typeof content.text === "string") return content.text;
  }
  return "";
}

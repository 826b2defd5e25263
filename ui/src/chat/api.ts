// What the chat components need from the core. The desktop implements it with Tauri IPC; tests
// and manual development use testing/fakeChatApi.ts.
import { useEffect, useState } from "react";
import { applyEvents, createChatState, type ChatState } from "./reducer";
import type { AgentChoice, ChatEvent, ChatSession, SearchHit } from "./types";

export interface ChatApi {
  agents(workspaceId: string): Promise<AgentChoice[]>;
  sessions(workspaceId: string | null): Promise<ChatSession[]>;
  /** Events with seq > afterSeq (seqs start at 1), at most `limit`; last_seq is the journal's newest. */
  events(sessionId: string, afterSeq: number, limit: number): Promise<{ events: ChatEvent[]; last_seq: number }>;
  /** Live batches; returns unsubscribe. */
  subscribe(sessionId: string, onEvents: (events: ChatEvent[]) => void): () => void;
  send(req: { workspaceId: string; sessionId: string | null; agent: string | null; text: string }): Promise<{ session_id: string }>;
  cancel(sessionId: string): Promise<void>;
  answerPermission(sessionId: string, request: number, optionId: string): Promise<void>;
  fork(sessionId: string, seq: number): Promise<{ session_id: string }>;
  restart(sessionId: string): Promise<{ session_id: string }>;
  search(query: string): Promise<SearchHit[]>;
  openLocation(workspaceId: string, path: string, line: number | null): Promise<void>;
  /** Opens an http(s) or mailto link from agent text in the user's browser. Optional: without it links do nothing. */
  openUrl?(url: string): Promise<void>;
}

export const EVENTS_PAGE = 2000;

export type ChatSessionView = {
  state: ChatState;
  /** Still fetching the journal: `state` is not caught up yet. */
  loading: boolean;
  error: Error | null;
  /** Starts over: refetches everything. */
  reload: () => void;
};

const EMPTY = createChatState();

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(typeof value === "string" ? value : "Could not load the chat.");
}

type Frame = { cancel: () => void };

function requestFrame(callback: () => void): Frame {
  if (typeof requestAnimationFrame === "function") {
    const id = requestAnimationFrame(callback);
    return { cancel: () => cancelAnimationFrame(id) };
  }
  const id = setTimeout(callback, 16);
  return { cancel: () => clearTimeout(id) };
}

type Snapshot = { key: string | null; state: ChatState; loading: boolean; error: Error | null };

/**
 * A session's events as a ChatState, kept live. Subscribes first (buffering), fetches the
 * journal in pages until caught up, then applies live batches once per animation frame, so a
 * chatty agent costs one render a frame. Duplicates are dropped; a gap triggers a refetch.
 */
export function useChatSession(api: ChatApi | null | undefined, sessionId: string | null): ChatSessionView {
  const [reloads, setReloads] = useState(0);
  const key = api && sessionId ? `${sessionId}#${reloads}` : null;
  const [snapshot, setSnapshot] = useState<Snapshot>({ key: null, state: EMPTY, loading: false, error: null });

  useEffect(() => {
    if (!api || !sessionId || key === null) return;
    let alive = true;
    let state = createChatState();
    let caughtUp = false;
    let fetching = false;
    let error: Error | null = null;
    let queue: ChatEvent[] = [];
    let frame: Frame | null = null;

    const publish = () => {
      if (alive) setSnapshot({ key, state, loading: !caughtUp, error });
    };

    const flush = () => {
      frame = null;
      if (!alive || fetching || queue.length === 0) return;
      const batch = queue;
      queue = [];
      const next = applyEvents(state, batch);
      if (next !== state) {
        state = next;
        publish();
      }
      if (state.gapAfter !== null) void catchUp();
    };

    const schedule = () => {
      if (frame === null && caughtUp && !fetching) frame = requestFrame(flush);
    };

    async function catchUp() {
      if (fetching) return;
      fetching = true;
      try {
        for (;;) {
          const after = state.lastSeq;
          const page = await api!.events(sessionId!, after, EVENTS_PAGE);
          if (!alive) return;
          state = applyEvents(state, page.events);
          // Stop when caught up, and when a page brought nothing usable (no endless loop on a bad journal).
          if (page.events.length === 0 || state.lastSeq >= page.last_seq || state.lastSeq === after) break;
        }
        caughtUp = true;
        error = null;
      } catch (caught) {
        if (!alive) return;
        error = toError(caught);
      } finally {
        fetching = false;
      }
      publish();
      if (queue.length > 0) schedule();
    }

    const unsubscribe = api.subscribe(sessionId, (events) => {
      if (!alive) return;
      for (const event of events) queue.push(event);
      schedule();
    });
    setSnapshot({ key, state, loading: true, error: null });
    void catchUp();

    return () => {
      alive = false;
      unsubscribe();
      frame?.cancel();
    };
  }, [api, sessionId, key]);

  const current = snapshot.key === key && key !== null;
  return {
    state: current ? snapshot.state : EMPTY,
    loading: key !== null && (!current || snapshot.loading),
    error: current ? snapshot.error : null,
    reload: () => setReloads((count) => count + 1),
  };
}

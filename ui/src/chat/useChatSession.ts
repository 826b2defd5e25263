// A session's events as a ChatState, kept live.
import { useEffect, useRef, useState } from "react";
import type { ChatApi } from "./api";
import { applyEvents, createChatState, type ChatState } from "./reducer";
import type { ChatEvent } from "./types";

export const EVENTS_PAGE = 2000;
/** How many of its newest events a session opens with; the older ones load right after the first screen. */
export const TAIL_EVENTS = 300;

export type ChatSessionView = {
  state: ChatState;
  /** Still fetching the journal: `state` is not caught up yet. */
  loading: boolean;
  /** The newest events are in `state`; older ones are still loading (state.loadedAfter > 0). */
  loadingHistory: boolean;
  error: Error | null;
  /** Starts over: refetches everything. */
  reload: () => void;
};

const EMPTY = createChatState();

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(typeof value === "string" ? value : "Could not load the chat.");
}

const MARKS = ["sam:chat-open", "sam:chat-tail", "sam:chat-history", "sam:chat-history-done"] as const;

/** Marks on the page's performance timeline where opening a session spends its time (read by
 * chat-ui-bench --trace); each open clears the previous one's, so they never pile up. */
function mark(name: (typeof MARKS)[number]) {
  if (typeof performance === "undefined" || typeof performance.mark !== "function") return;
  if (name === "sam:chat-open") for (const old of MARKS) performance.clearMarks(old);
  performance.mark(name);
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

/** How long after the first screen the older events are asked for: their pages and the
 * rebuild would otherwise run in the frames that show the first screen. */
export const HISTORY_DELAY_MS = 250;

/** Resolves `delayMs` after the next frame was painted (a timer where there are no frames, as in tests). */
function afterPaint(delayMs = 0): Promise<void> {
  return new Promise((resolve) => {
    requestFrame(() => setTimeout(resolve, delayMs));
  });
}

type Snapshot = { key: string | null; state: ChatState; loading: boolean; loadingHistory: boolean; error: Error | null };

/**
 * A session's events as a ChatState, kept live. Subscribes first (buffering), then opens at the
 * newest events: the last TAIL_EVENTS (from `lastSeqHint`, or a one-event probe for the journal's
 * newest seq), fetched forward in pages until caught up, so the first screen costs the same for a
 * session of 100 events or 100,000. The older events load next and the whole session is rebuilt
 * from them plus everything applied since. Live batches are applied once per animation frame, so a
 * chatty agent costs one render a frame. Duplicates are dropped; a gap triggers a refetch.
 */
export function useChatSession(api: ChatApi | null | undefined, sessionId: string | null, lastSeqHint: number | null = null): ChatSessionView {
  const [reloads, setReloads] = useState(0);
  const key = api && sessionId ? `${sessionId}#${reloads}` : null;
  const [snapshot, setSnapshot] = useState<Snapshot>({ key: null, state: EMPTY, loading: false, loadingHistory: false, error: null });
  // Read once when the session opens; a later hint must not restart the load.
  const hint = useRef(lastSeqHint);
  hint.current = lastSeqHint;

  useEffect(() => {
    if (!api || !sessionId || key === null) return;
    let alive = true;
    let state = createChatState();
    let caughtUp = false;
    let fetching = false;
    let loadingHistory = false;
    let error: Error | null = null;
    let queue: ChatEvent[] = [];
    let frame: Frame | null = null;
    // While the state starts past older events: every event applied to it, to replay over the
    // older ones once they are here.
    let applied: ChatEvent[] = [];

    const publish = () => {
      if (alive) setSnapshot({ key, state, loading: !caughtUp, loadingHistory, error });
    };

    const apply = (events: readonly ChatEvent[]) => {
      const before = state.lastSeq;
      state = applyEvents(state, events);
      if (state.loadedAfter > 0) {
        for (const event of events) if (event.seq > before && event.seq <= state.lastSeq) applied.push(event);
      }
    };

    const flush = () => {
      frame = null;
      if (!alive || fetching || queue.length === 0) return;
      const batch = queue;
      queue = [];
      const previous = state;
      apply(batch);
      if (state !== previous) publish();
      if (state.gapAfter !== null) void catchUp(EVENTS_PAGE);
    };

    const schedule = () => {
      if (frame === null && caughtUp && !fetching) frame = requestFrame(flush);
    };

    async function catchUp(firstLimit: number) {
      if (fetching) return;
      fetching = true;
      try {
        let limit = firstLimit;
        for (;;) {
          const after = state.lastSeq;
          const page = await api!.events(sessionId!, after, limit);
          if (!alive) return;
          apply(page.events);
          limit = EVENTS_PAGE;
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

    /**
     * Fetches the events before the tail and rebuilds the state from the first event: each page
     * is reduced as it arrives (the work spread over the pages, never one long task), and the
     * result replaces the tail state once it reaches it.
     */
    async function loadHistory() {
      const until = state.loadedAfter;
      let older = createChatState();
      try {
        while (older.lastSeq < until) {
          const after = older.lastSeq;
          const page = await api!.events(sessionId!, after, Math.min(EVENTS_PAGE, until - after));
          if (!alive) return;
          older = applyEvents(
            older,
            page.events.filter((event) => event.seq <= until),
          );
          if (older.lastSeq === after) break; // nothing usable: keep the tail
        }
        if (older.lastSeq >= until) {
          state = applyEvents(older, applied);
          applied = [];
        }
      } catch {
        // The newest events stay on screen; reopening the chat tries again.
      }
      if (!alive) return;
      loadingHistory = false;
      publish();
    }

    async function open() {
      mark("sam:chat-open");
      let last = hint.current;
      if (last === null) {
        try {
          last = (await api!.events(sessionId!, 0, 1)).last_seq;
        } catch {
          last = 0; // the page loop below reports the error
        }
        if (!alive) return;
      }
      state = createChatState(Math.max(0, last - TAIL_EVENTS));
      // Older events exist: they load once the first screen is up.
      loadingHistory = state.loadedAfter > 0;
      await catchUp(TAIL_EVENTS);
      mark("sam:chat-tail");
      if (!alive) return;
      if (error !== null || state.loadedAfter === 0) {
        if (loadingHistory) {
          loadingHistory = false;
          publish();
        }
        return;
      }
      // The first screen is painted before the history is asked for.
      await afterPaint(HISTORY_DELAY_MS);
      if (!alive) return;
      mark("sam:chat-history");
      await loadHistory();
      if (alive) mark("sam:chat-history-done");
    }

    const unsubscribe = api.subscribe(sessionId, (events) => {
      if (!alive) return;
      for (const event of events) queue.push(event);
      schedule();
    });
    setSnapshot({ key, state, loading: true, loadingHistory: false, error: null });
    void open();

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
    loadingHistory: current && snapshot.loadingHistory,
    error: current ? snapshot.error : null,
    reload: () => setReloads((count) => count + 1),
  };
}

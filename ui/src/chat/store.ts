// Chat UI state that is not the core's: which session is open, drafts and prompt history (in
// memory). Anything else (sessions, events) comes from the ChatApi.
import { create } from "zustand";

/** Where the composer's draft is kept: per session, or per workspace for a chat not started yet. */
export function draftKey(sessionId: string | null, workspaceId: string | null): string {
  return sessionId ?? `new:${workspaceId ?? ""}`;
}

type ChatUiState = {
  openSessionId: string | null;
  /** An event to scroll to (from a search result); the token makes a repeat click count. */
  focus: { sessionId: string; seq: number; token: number } | null;
  openSession: (sessionId: string | null, seq?: number) => void;
  clearFocus: () => void;

  drafts: Record<string, string>;
  /** The key of the composer on screen: what `setActiveDraft` writes to. */
  activeDraftKey: string | null;
  setActiveDraftKey: (key: string | null) => void;
  setDraft: (key: string, text: string) => void;
  /** Fills the visible composer, e.g. from voice input. */
  setActiveDraft: (text: string) => void;

  /** Prompts sent, per draft key, oldest first. */
  history: Record<string, string[]>;
  pushHistory: (key: string, text: string) => void;
};

let focusToken = 0;

export const useChatStore = create<ChatUiState>()((set) => ({
  openSessionId: null,
  focus: null,
  openSession: (sessionId, seq) =>
    set({
      openSessionId: sessionId,
      focus: sessionId !== null && seq !== undefined ? { sessionId, seq, token: ++focusToken } : null,
    }),
  clearFocus: () => set({ focus: null }),

  drafts: {},
  activeDraftKey: null,
  setActiveDraftKey: (key) => set({ activeDraftKey: key }),
  setDraft: (key, text) => set((state) => ({ drafts: { ...state.drafts, [key]: text } })),
  setActiveDraft: (text) =>
    set((state) => (state.activeDraftKey === null ? {} : { drafts: { ...state.drafts, [state.activeDraftKey]: text } })),

  history: {},
  pushHistory: (key, text) =>
    set((state) => {
      const list = state.history[key] ?? [];
      if (list[list.length - 1] === text) return {};
      return { history: { ...state.history, [key]: [...list, text].slice(-100) } };
    }),
}));

/** Resets the store between tests. */
export function resetChatStore() {
  useChatStore.setState({ openSessionId: null, focus: null, drafts: {}, activeDraftKey: null, history: {} });
}

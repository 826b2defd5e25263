// What the chat components need from the core. The desktop implements it with Tauri IPC; tests
// and manual development use testing/fakeChatApi.ts.
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

// The hook that keeps a session live lives in useChatSession.ts; re-exported for callers.
export { EVENTS_PAGE, useChatSession, type ChatSessionView } from "./useChatSession";

// What the chat components need from the core. The desktop implements it with Tauri IPC; tests
// and manual development use testing/fakeChatApi.ts.
import type { AgentChoice, ChatEvent, ChatSession, SearchHit } from "./types";

import type { ChangesApi } from "../features/changes/types";

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
  /** Ready workspaces a chat can go on in (after its own was deleted). Optional: without it the choice is not offered. */
  workspaces?(): Promise<Array<{ id: string; name: string }>>;
  /** A new session from `sessionId`'s events up to `seq`, in the same workspace or in `workspaceId` (to go on after the first was deleted). */
  fork(sessionId: string, seq: number, workspaceId?: string | null): Promise<{ session_id: string }>;
  restart(sessionId: string): Promise<{ session_id: string }>;
  search(query: string): Promise<SearchHit[]>;
  /**
   * Opens a workspace file at a line (and column) in the user's editor, or wherever the core
   * decides (see OpenOutcome). Rejects with an error whose `code` is "no_editor" when nothing can
   * open it; the chat then shows a read-only quick view.
   */
  openLocation(workspaceId: string, path: string, line: number | null, column?: number | null): Promise<OpenOutcome | void>;
  /** Opens an http(s) or mailto link from agent text in the user's browser. Optional: without it links do nothing. */
  openUrl?(url: string): Promise<void>;
  /**
   * Which of `candidates` (paths as the agent wrote them: relative, absolute, `./`…) exist in the
   * workspace; one entry per candidate that exists, with its workspace-relative normalised path.
   * Optional: without it no path in agent text becomes a link.
   */
  resolvePaths?(workspaceId: string, candidates: string[]): Promise<ResolvedPath[]>;
  /** Fuzzy-finds workspace files; `positions` are the matched characters' indices in `path` (in characters, not bytes). */
  findFiles?(workspaceId: string, query: string, limit: number): Promise<FileMatches>;
  /** A workspace file's text for the read-only quick view; `text` is null for a binary file. */
  readFile?(workspaceId: string, path: string): Promise<FileContent>;
  /** The workspace's changes, their diffs, and shipping them. Optional: without it the chat has no changes panel. */
  changes?: ChangesApi;
}

/** Where openLocation opened a file: the editor on this machine, the editor attached to the remote workspace, a local read-only mirror, the system's default app, or the in-app quick view. */
export type OpenOutcome = { how: "editor" | "remote" | "mirror" | "system" | "quick_view"; editor: string | null; message: string };

export type ResolvedPath = { requested: string; path: string };

export type FileMatches = { matches: Array<{ path: string; positions: number[] }>; indexedFiles: number };

export type FileContent = { path: string; text: string | null; truncated: boolean; sizeBytes: number };

// The hook that keeps a session live lives in useChatSession.ts; re-exported for callers.
export { EVENTS_PAGE, useChatSession, type ChatSessionView } from "./useChatSession";

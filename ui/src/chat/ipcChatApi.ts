// The ChatApi the app uses: the core's chat commands (through shared/ipc, the one module
// that talks to Rust).
import {
  chatAgents,
  chatAnswer,
  chatCancel,
  chatEvents,
  chatFork,
  chatRestart,
  chatSearch,
  chatSend,
  chatSessions,
  chatWaitEvents,
  filesFind,
  filesOpen,
  filesQuickView,
  filesResolve,
  listWorkspaces,
} from "../shared/ipc";
import { ipcChangesApi } from "../features/changes/ipcChangesApi";
import type { ChatApi } from "./api";
import type { ChatEvent, ChatSession } from "./types";

/** How long one live poll waits for new events before asking again. */
const POLL_WAIT_MS = 20_000;
/** The most events one live poll brings. */
const POLL_LIMIT = 2000;
/** Pause after a failed poll (the core is busy or the workspace unreachable). */
const RETRY_MS = 1000;

export const ipcChatApi: ChatApi = {
  agents: () => chatAgents(),
  sessions: async (workspaceId) => (await chatSessions(workspaceId)) as ChatSession[],
  events: async (sessionId, afterSeq, limit) => {
    const page = await chatEvents(sessionId, afterSeq, limit);
    return { events: page.events as ChatEvent[], last_seq: page.last_seq ?? 0 };
  },
  subscribe(sessionId, onEvents) {
    let stopped = false;
    // Start from the newest stored event: the hook loads history in pages itself and
    // de-duplicates by seq.
    void (async () => {
      let after = (await chatEvents(sessionId, 0, 1).catch(() => null))?.last_seq ?? 0;
      while (!stopped) {
        try {
          const page = await chatWaitEvents(sessionId, after, POLL_LIMIT, POLL_WAIT_MS);
          if (stopped) break;
          if (page.events.length > 0) {
            after = page.events[page.events.length - 1]?.seq ?? after;
            onEvents(page.events as ChatEvent[]);
          }
        } catch {
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
    })();
    return () => {
      stopped = true;
    };
  },
  send: async ({ workspaceId, sessionId, agent, text }) => {
    const sent = await chatSend({
      workspace_id: workspaceId,
      session_id: sessionId,
      agent,
      agent_command: null,
      text,
    });
    return { session_id: sent.session_id };
  },
  cancel: (sessionId) => chatCancel(sessionId),
  answerPermission: (sessionId, request, optionId) => chatAnswer(sessionId, request, optionId),
  fork: async (sessionId, seq, workspaceId = null) => ({ session_id: await chatFork(sessionId, seq, workspaceId) }),
  workspaces: async () => (await listWorkspaces()).filter((w) => w.state === "ready").map((w) => ({ id: w.id, name: w.spec.name })),
  restart: async (sessionId) => ({ session_id: await chatRestart(sessionId) }),
  search: async (query) => (await chatSearch(query)).map((hit) => ({ ...hit, seq: hit.seq ?? 0 })),
  // The Rust side confines every path to the workspace and launches the editor by argv.
  openLocation: async (workspaceId, path, line, column = null) => {
    const opened = await filesOpen(workspaceId, path, line, column);
    return { how: opened.how, editor: opened.editor, message: opened.message };
  },
  resolvePaths: (workspaceId, candidates) => filesResolve(workspaceId, candidates),
  findFiles: async (workspaceId, query, limit) => {
    const found = await filesFind(workspaceId, query, limit);
    return { matches: found.matches, indexedFiles: found.indexed_files ?? 0 };
  },
  readFile: async (workspaceId, path) => {
    const file = await filesQuickView(workspaceId, path);
    return { path: file.path, text: file.text, truncated: file.truncated, sizeBytes: file.size_bytes ?? 0 };
  },
  changes: ipcChangesApi,
};

// The "needs you" queue as the core keeps it: one long poll for the whole app (started once by
// useAttentionPoll in App), a shared store every consumer reads, and the navigation a
// notification or tray click asks for.
import { useEffect } from "react";
import { create } from "zustand";
import type { AttentionSnapshot_Serialize, QueueItem_Serialize, Target_Serialize, UiAction } from "../../bindings";
import { useChatStore } from "../../chat/store";
import { attentionWait } from "../../shared/ipc";
import { useUiStore } from "../../shared/store";

export type AttentionSnapshot = AttentionSnapshot_Serialize;
export type QueueItem = QueueItem_Serialize;
export type Target = Target_Serialize;

type AttentionState = {
  snapshot: AttentionSnapshot | null;
  /** When the snapshot arrived (ages count on from it). */
  receivedAt: number;
  setSnapshot: (snapshot: AttentionSnapshot) => void;
};

export const useAttentionStore = create<AttentionState>()((set) => ({
  snapshot: null,
  receivedAt: 0,
  setSnapshot: (snapshot) => set({ snapshot, receivedAt: Date.now() }),
}));

/** How long one poll waits for a change before asking again. */
const POLL_MS = 20_000;
/** After a failed poll (the core not there yet), the next one waits this long. */
const RETRY_MS = 2_000;

/**
 * Shows what `target` points at: a chat (at its event), a workspace, or the queue; or does what
 * `action` asks there (the tray's New workspace…, Delete workspace…, and Quit with cloud
 * workspaces running).
 */
export function openTarget(target: Target, action: UiAction = "open") {
  const ui = useUiStore.getState();
  if (action === "newWorkspace") {
    ui.setNewWorkspaceOpen(true);
    return;
  }
  if (action === "confirmQuit") {
    ui.setQuitOpen(true);
    return;
  }
  if (action === "deleteWorkspace" && target.kind === "workspace") ui.setConfirmDeleteId(target.workspaceId);
  switch (target.kind) {
    case "session":
      useChatStore.getState().openSession(target.sessionId, target.seq ?? undefined);
      ui.setView("chat");
      break;
    case "workspace":
      ui.openWorkspace(target.workspaceId);
      break;
    case "queue":
      ui.setView("needs-you");
      break;
    case "orphans":
      ui.setOrphansOpen(true);
      break;
    case "app":
      break;
  }
}

/**
 * Keeps the attention store current for as long as the component that calls it is mounted,
 * and follows every "open this" the core asks for after the first snapshot (one asked before
 * the page loaded belongs to an earlier page).
 */
export function useAttentionPoll(wait: typeof attentionWait = attentionWait) {
  useEffect(() => {
    let stopped = false;
    let revision = 0;
    let lastToken: number | null = null;
    let first = true;
    async function loop() {
      while (!stopped) {
        try {
          const snapshot = await wait(revision, first ? 0 : POLL_MS);
          if (stopped) return;
          revision = snapshot.revision ?? revision;
          useAttentionStore.getState().setSnapshot(snapshot);
          const open = snapshot.open;
          if (open && open.token !== lastToken && !first) openTarget(open.target, open.action);
          lastToken = open?.token ?? lastToken;
          first = false;
        } catch {
          if (stopped) return;
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
    }
    void loop();
    return () => {
      stopped = true;
    };
  }, [wait]);
}

/** The number of open requests (the badge on the navigation). */
export function useNeedsYouCount(): number {
  return useAttentionStore((state) => state.snapshot?.items.length ?? 0);
}

/** "just now", "4 min", "2 h 5 min", "3 days". */
export function formatAge(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return days === 1 ? "1 day" : `${days} days`;
}

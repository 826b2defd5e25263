// UI-only state. Anything that comes from the core lives in react-query.
import { create } from "zustand";
import type { CredentialKind } from "./ipc";

export type View = "chat" | "needs-you" | "credentials" | "settings" | "about" | "workspace";

type UiState = {
  view: View;
  setView: (view: View) => void;
  /**
   * A request, from anywhere in the UI, to open the credentials view with the add form showing
   * this kind. The credentials view takes it (and clears it) when it renders.
   */
  addCredentialKind: CredentialKind | null;
  requestAddCredential: (kind: CredentialKind) => void;
  clearAddCredentialRequest: () => void;
  /** The workspace the "workspace" view shows. */
  workspaceId: string | null;
  openWorkspace: (id: string) => void;
  /** Whether the New workspace dialog is open (it can be asked for from anywhere). */
  newWorkspaceOpen: boolean;
  setNewWorkspaceOpen: (open: boolean) => void;
  /** A workspace whose Delete confirmation should open when its view shows (from the tray). */
  confirmDeleteId: string | null;
  setConfirmDeleteId: (id: string | null) => void;
  /** Whether the list of servers without a workspace shows (from a notification, or the banner). */
  orphansOpen: boolean;
  setOrphansOpen: (open: boolean) => void;
  /** Whether the "cloud workspaces keep running" question before quitting shows. */
  quitOpen: boolean;
  setQuitOpen: (open: boolean) => void;
};

export const useUiStore = create<UiState>()((set) => ({
  view: "chat",
  setView: (view) => set({ view }),
  addCredentialKind: null,
  requestAddCredential: (kind) => set({ view: "credentials", addCredentialKind: kind }),
  clearAddCredentialRequest: () => set({ addCredentialKind: null }),
  workspaceId: null,
  openWorkspace: (id) => set({ view: "workspace", workspaceId: id }),
  newWorkspaceOpen: false,
  setNewWorkspaceOpen: (open) => set({ newWorkspaceOpen: open }),
  confirmDeleteId: null,
  setConfirmDeleteId: (id) => set({ confirmDeleteId: id }),
  orphansOpen: false,
  setOrphansOpen: (open) => set({ orphansOpen: open }),
  quitOpen: false,
  setQuitOpen: (open) => set({ quitOpen: open }),
}));

// UI-only state. Anything that comes from the core lives in react-query.
import { create } from "zustand";
import type { CredentialKind } from "./ipc";

export type View = "chat" | "credentials" | "settings" | "about";

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
};

export const useUiStore = create<UiState>()((set) => ({
  view: "chat",
  setView: (view) => set({ view }),
  addCredentialKind: null,
  requestAddCredential: (kind) => set({ view: "credentials", addCredentialKind: kind }),
  clearAddCredentialRequest: () => set({ addCredentialKind: null }),
}));

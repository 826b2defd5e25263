// UI-only state. Anything that comes from the core lives in react-query.
import { create } from "zustand";

export type View = "chat" | "settings" | "about";

type UiState = {
  view: View;
  setView: (view: View) => void;
};

export const useUiStore = create<UiState>()((set) => ({
  view: "chat",
  setView: (view) => set({ view }),
}));

import { useEffect } from "react";
import { useUiStore } from "../shared/store";

/**
 * Global shortcuts: Ctrl/Cmd+1 → chat, Ctrl/Cmd+2 → credentials, Ctrl/Cmd+, → settings,
 * Ctrl/Cmd+N → the New workspace dialog,
 * Escape in any other view → back to chat (unless something in the view, such as an open
 * form or dialog, handled the Escape first).
 */
export function useShortcuts(): void {
  useEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      if (event.defaultPrevented || event.isComposing) return;
      const { view, setView, setNewWorkspaceOpen } = useUiStore.getState();
      const mod = event.ctrlKey || event.metaKey;
      if (mod && !event.altKey && !event.shiftKey) {
        if (event.key === "1") {
          event.preventDefault();
          setView("chat");
        } else if (event.key === "2") {
          event.preventDefault();
          setView("credentials");
        } else if (event.key === ",") {
          event.preventDefault();
          setView("settings");
        } else if (event.key === "n" || event.key === "N") {
          event.preventDefault();
          setNewWorkspaceOpen(true);
        }
        return;
      }
      if (event.key === "Escape" && !mod && !event.altKey && view !== "chat") {
        event.preventDefault();
        setView("chat");
      }
    }
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, []);
}

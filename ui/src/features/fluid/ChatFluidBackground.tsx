// The fluid as the app shows it: behind the chat, in the current theme, stirred by the
// synthetic voice while an agent is working (there is no microphone input yet).
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useSyncExternalStore } from "react";
import { FluidBackground } from "./FluidBackground";
import { loadFluid } from "./loadFluid";

/** Whether the effective theme is dark: data-theme on <html>, else the OS preference. */
export function useDarkTheme(): boolean {
  const subscribe = useCallback((onChange: () => void) => {
    const observer = new MutationObserver(onChange);
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    const query = typeof window.matchMedia === "function" ? window.matchMedia("(prefers-color-scheme: dark)") : null;
    query?.addEventListener?.("change", onChange);
    return () => {
      observer.disconnect();
      query?.removeEventListener?.("change", onChange);
    };
  }, []);
  return useSyncExternalStore(subscribe, isDark);
}

function isDark(): boolean {
  const pinned = document.documentElement.dataset.theme;
  if (pinned === "dark") return true;
  if (pinned === "light") return false;
  return typeof window.matchMedia === "function" && window.matchMedia("(prefers-color-scheme: dark)").matches;
}

/** Whether any chat session the UI has loaded is in the "working" state (from the query cache
 * the chat's session lists fill; no extra requests). */
export function useAgentWorking(): boolean {
  const client = useQueryClient();
  const subscribe = useCallback((onChange: () => void) => client.getQueryCache().subscribe(onChange), [client]);
  const snapshot = useCallback(
    () =>
      client
        .getQueryCache()
        .getAll()
        .some((query) => {
          const [scope] = query.queryKey;
          if (scope !== "chat" && scope !== "chat-sessions-any") return false;
          const data: unknown = query.state.data;
          return Array.isArray(data) && data.some((item: unknown) => isWorkingSession(item));
        }),
    [client],
  );
  return useSyncExternalStore(subscribe, snapshot);
}

function isWorkingSession(item: unknown): boolean {
  return typeof item === "object" && item !== null && "state" in item && "last_seq" in item && item.state === "working";
}

/** The end-to-end suite drives the app over WebDriver; dev builds have the hook too. */
function wantTestHooks(): boolean {
  return import.meta.env.DEV || (typeof navigator !== "undefined" && navigator.webdriver === true);
}

/** `enabled`: the user's setting (Settings → Appearance); off shows the static gradient. */
export function ChatFluidBackground({ active, enabled = true }: { active: boolean; enabled?: boolean }) {
  const dark = useDarkTheme();
  const working = useAgentWorking();
  return <FluidBackground load={loadFluid} dark={dark} enabled={enabled} active={active} working={working} synthetic={working} testHooks={wantTestHooks()} />;
}

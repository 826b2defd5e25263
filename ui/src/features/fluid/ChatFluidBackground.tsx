// The fluid as the app shows it: behind the chat, in the current theme, driven by the live
// microphone while the user dictates, and by the synthetic voice while an agent is working.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useSyncExternalStore } from "react";
import { subscribeVoiceLevel, useVoiceRecording } from "../../shared/voiceLevel";
import { FluidBackground, type VoiceFrame } from "./FluidBackground";
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

/** The microphone's levels as fluid frames (one stable function, so the fluid subscribes once).
 * Loudness, bands and brightness are already 0..1; an onset is a full-strength burst. */
export function subscribeMicrophone(onFrame: (frame: VoiceFrame) => void): () => void {
  const bands = new Float32Array(8);
  return subscribeVoiceLevel((level) => {
    bands.fill(0);
    level.bands.forEach((value, i) => {
      if (i < bands.length) bands[i] = value ?? 0;
    });
    // Floats cross IPC as `number | null` (a NaN would be null); the core sends finite ones.
    onFrame({ rms: level.level ?? 0, bands, onset: level.onset ? 1 : 0, centroid: level.centroid ?? 0.5 });
  });
}

/** `enabled`: the user's setting (Settings → Appearance); off shows the static gradient. */
export function ChatFluidBackground({ active, enabled = true }: { active: boolean; enabled?: boolean }) {
  const dark = useDarkTheme();
  const working = useAgentWorking();
  // While the user dictates, the real voice drives the fluid, not the synthetic one.
  const recording = useVoiceRecording();
  return (
    <FluidBackground
      load={loadFluid}
      dark={dark}
      enabled={enabled}
      active={active}
      working={working}
      subscribeVoice={subscribeMicrophone}
      synthetic={working && !recording}
      testHooks={wantTestHooks()}
    />
  );
}

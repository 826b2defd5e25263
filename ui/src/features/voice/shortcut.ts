// The global push-to-talk shortcut, as the composer sees it. The core registers the shortcut
// and sends its presses and releases on one channel per page; here they go to the composer
// that subscribed last (the one on screen), so only one composer ever records.
import { voiceShortcutListen, type VoiceShortcutSignal } from "../../shared/ipc";

type Handler = (signal: VoiceShortcutSignal) => void;

const handlers: Handler[] = [];
let listening: Promise<void> | null = null;

function dispatch(signal: VoiceShortcutSignal) {
  handlers[handlers.length - 1]?.(signal);
}

/** Hands shortcut signals to `handler` while it is the latest subscriber. Returns the
 * unsubscribe function. */
export function subscribeVoiceShortcut(handler: Handler): () => void {
  handlers.push(handler);
  if (!listening) {
    listening = voiceShortcutListen(dispatch).catch(() => {
      // Outside the app (tests, a browser) there is no shortcut; try again next time.
      listening = null;
    });
  }
  return () => {
    const index = handlers.lastIndexOf(handler);
    if (index >= 0) handlers.splice(index, 1);
  };
}

/** Forgets the subscription (tests). */
export function resetVoiceShortcutForTests() {
  handlers.length = 0;
  listening = null;
}

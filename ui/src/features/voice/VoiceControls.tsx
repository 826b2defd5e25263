// The composer's voice controls: the mic button (hold to talk, or click to start and click
// again to stop; hands-free stops by itself at a pause) and, below the prompt, the recording
// state with a live level meter, or what went wrong and what to do.
import { useEffect, useRef, type PointerEvent } from "react";
import { useUiStore } from "../../shared/store";
import type { VoiceErrorCode } from "../../shared/ipc";
import { HOLD_MS, type VoiceInput } from "./useVoiceInput";
import { subscribeVoiceLevel } from "../../shared/voiceLevel";
import "./voice.css";

export { HOLD_MS };

function MicIcon() {
  return (
    <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <rect x="9" y="3" width="6" height="11" rx="3" />
      <path d="M5 11a7 7 0 0 0 14 0" />
      <path d="M12 18v3" />
    </svg>
  );
}

function StopIcon() {
  return (
    <svg width="16" height="16" viewBox="0 0 24 24" fill="currentColor" aria-hidden="true" focusable="false">
      <rect x="7" y="7" width="10" height="10" rx="2" />
    </svg>
  );
}

function label(voice: VoiceInput): string {
  switch (voice.phase) {
    case "idle":
      return "Dictate";
    case "starting":
      return "Starting the microphone";
    case "recording":
      return "Stop dictating";
    case "transcribing":
      return "Transcribing";
  }
}

export function MicButton({ voice, disabled = false, describedBy }: { voice: VoiceInput; disabled?: boolean; describedBy?: string }) {
  // The press that started a recording: its click must not stop it again.
  const press = useRef<{ at: number; started: boolean } | null>(null);
  const busy = voice.phase === "transcribing";
  const active = voice.phase === "starting" || voice.phase === "recording";

  function onPointerDown(event: PointerEvent<HTMLButtonElement>) {
    if (event.button !== 0 || disabled || busy) return;
    const startsNow = voice.phase === "idle";
    press.current = { at: performance.now(), started: startsNow };
    if (startsNow) voice.start();
  }

  function onPointerUp() {
    const held = press.current;
    if (!held?.started) return;
    // Hold-to-talk: a long press ends when released (hands-free ends by itself).
    if (performance.now() - held.at >= HOLD_MS && voice.mode !== "hands_free") {
      press.current = null;
      voice.stop();
    }
  }

  function onClick() {
    const held = press.current;
    press.current = null;
    if (disabled || busy) return;
    if (held?.started) return; // the press already started it: a click leaves it running
    if (active) voice.stop();
    else if (!held) voice.start(); // keyboard (Enter/Space) or assistive technology
  }

  return (
    <button
      type="button"
      className={`button button--ghost voice-mic${active ? " voice-mic--active" : ""}`}
      data-testid="voice-mic"
      data-phase={voice.phase}
      aria-label={label(voice)}
      aria-pressed={active}
      aria-describedby={describedBy}
      aria-disabled={busy || undefined}
      disabled={disabled}
      title={voice.phase === "idle" ? "Dictate: hold to talk, or click to start and again to stop" : label(voice)}
      onPointerDown={onPointerDown}
      onPointerUp={onPointerUp}
      onPointerCancel={() => (press.current = null)}
      onClick={onClick}
    >
      {active ? <StopIcon /> : <MicIcon />}
    </button>
  );
}

/** A level meter fed outside React: each level sets the bar's scale directly. */
function LevelMeter() {
  const bar = useRef<HTMLSpanElement>(null);
  useEffect(
    () =>
      subscribeVoiceLevel((level) => {
        const element = bar.current;
        if (!element) return;
        const value = level.level ?? 0;
        element.style.transform = `scaleX(${value.toFixed(3)})`;
        element.dataset.level = value.toFixed(2);
      }),
    [],
  );
  return (
    <span className="voice-meter" aria-hidden="true" data-testid="voice-meter">
      <span ref={bar} className="voice-meter__bar" data-level="0" />
    </span>
  );
}

/** Which view helps with an error, if one does. */
function remedy(code: VoiceErrorCode): { label: string; view: "settings" | "credentials" } | null {
  switch (code) {
    case "no_credential":
    case "auth_failed":
    case "credential_unavailable":
      return { label: "Open Credentials", view: "credentials" };
    case "no_microphone":
    case "device_not_found":
    case "device_lost":
    case "device_busy":
    case "model_missing":
    case "model_unreadable":
    case "local_model_failed":
    case "local_unavailable":
      return { label: "Voice settings", view: "settings" };
    default:
      return null;
  }
}

export function VoiceStatus({ voice, id }: { voice: VoiceInput; id?: string }) {
  const setView = useUiStore((state) => state.setView);
  if (voice.error) {
    const fix = remedy(voice.error.code);
    return (
      <div className="voice-status voice-status--error" data-testid="voice-status" data-code={voice.error.code}>
        <p className="field__error" role="alert" data-testid="voice-error">
          {voice.error.message}
        </p>
        {fix ? (
          <button type="button" className="button button--small button--ghost" onClick={() => setView(fix.view)}>
            {fix.label}
          </button>
        ) : null}
        <button type="button" className="button button--small button--ghost" onClick={voice.dismissError}>
          Dismiss
        </button>
      </div>
    );
  }
  if (voice.phase === "idle") return null;
  let text: string;
  if (voice.phase === "transcribing") text = "Transcribing… Esc cancels.";
  else if (voice.phase === "starting" || !voice.listening) text = "Starting the microphone… Esc cancels.";
  else if (voice.inputSilent) text = "No sound from the microphone: is it muted, or blocked by the system? Esc cancels.";
  else if (voice.mode === "hands_free") text = "Listening — pause to finish, Esc cancels.";
  else text = "Recording — release or click the mic to finish, Esc cancels.";
  return (
    <div className="voice-status" id={id} data-testid="voice-status" data-phase={voice.phase}>
      {voice.phase === "recording" || voice.phase === "starting" ? <span className="voice-status__dot" aria-hidden="true" /> : null}
      {voice.phase !== "transcribing" ? <LevelMeter /> : null}
      <span className="voice-status__text" role="status">
        {text}
        {voice.deviceName && voice.phase === "recording" && !voice.missingDevice ? <span className="sr-only"> ({voice.deviceName})</span> : null}
      </span>
      {voice.missingDevice && voice.phase !== "transcribing" ? (
        <span className="voice-status__note small" data-testid="voice-fallback">
          The chosen microphone ({voice.missingDevice}) is not connected; recording from {voice.deviceName ?? "the system default"} instead.
        </span>
      ) : null}
    </div>
  );
}

// Voice input for the composer: start, stop (→ transcript), cancel, with the live signals of the
// recording. The transcript goes to `onTranscript` (the composer inserts it); nothing is sent.
// The global push-to-talk shortcut drives the same recording as the mic button: press to start,
// release to stop after a hold, a short tap starts and a second one stops.
import { useCallback, useEffect, useRef, useState } from "react";
import { voiceCancel, voiceStart, voiceStop, VoiceIpcError, type VoiceMode, type VoiceShortcutSignal, type VoiceSignal } from "../../shared/ipc";
import { publishVoiceLevel, setVoiceRecording } from "../../shared/voiceLevel";
import { subscribeVoiceShortcut } from "./shortcut";

/** Held at least this long, releasing the mic button or the shortcut stops push-to-talk;
 * shorter is a click (recording goes on until the next one). */
export const HOLD_MS = 350;

export type VoicePhase = "idle" | "starting" | "recording" | "transcribing";

export type VoiceInput = {
  phase: VoicePhase;
  /** The mode the running recording uses (from the settings). */
  mode: VoiceMode | null;
  /** Sound arrives from the microphone. */
  listening: boolean;
  /** The microphone has sent only digital silence for a few seconds (muted or blocked). */
  inputSilent: boolean;
  deviceName: string | null;
  /** The chosen microphone that is not connected, when the system default stands in for it
   * (the core says so once per microphone). */
  missingDevice: string | null;
  error: VoiceIpcError | null;
  start: () => void;
  stop: () => void;
  cancel: () => void;
  dismissError: () => void;
};

export function useVoiceInput(onTranscript: (text: string) => void): VoiceInput {
  const [phase, setPhaseState] = useState<VoicePhase>("idle");
  const [mode, setMode] = useState<VoiceMode | null>(null);
  const [listening, setListening] = useState(false);
  const [inputSilent, setInputSilent] = useState(false);
  const [deviceName, setDeviceName] = useState<string | null>(null);
  const [missingDevice, setMissingDevice] = useState<string | null>(null);
  const [error, setError] = useState<VoiceIpcError | null>(null);
  const phaseRef = useRef<VoicePhase>("idle");
  const modeRef = useRef<VoiceMode | null>(null);
  // The shortcut press that started the recording (null: it did not start one).
  const shortcutPress = useRef<number | null>(null);
  // Each recording has a token; answers for an older (cancelled) one are ignored.
  const session = useRef(0);
  const transcriptRef = useRef(onTranscript);
  transcriptRef.current = onTranscript;

  const setPhase = useCallback((next: VoicePhase) => {
    phaseRef.current = next;
    setPhaseState(next);
    setVoiceRecording(next === "starting" || next === "recording");
  }, []);

  const fail = useCallback(
    (token: number, reason: unknown) => {
      if (token !== session.current) return;
      setPhase("idle");
      const voiceError = reason instanceof VoiceIpcError ? reason : new VoiceIpcError("internal", String(reason));
      if (voiceError.code !== "cancelled") setError(voiceError);
    },
    [setPhase],
  );

  const stop = useCallback(() => {
    const current = phaseRef.current;
    if (current !== "recording" && current !== "starting") return;
    const token = session.current;
    setPhase("transcribing");
    voiceStop().then(
      (transcript) => {
        if (token !== session.current) return;
        setPhase("idle");
        transcriptRef.current(transcript.text);
      },
      (reason: unknown) => fail(token, reason),
    );
  }, [fail, setPhase]);

  const onSignal = useCallback(
    (token: number, signal: VoiceSignal) => {
      if (token !== session.current) return;
      switch (signal.kind) {
        case "level":
          publishVoiceLevel(signal);
          break;
        case "listening":
          setListening(true);
          break;
        case "speech_started":
          setInputSilent(false);
          break;
        case "input_silent":
          setInputSilent(true);
          break;
        case "ended":
          // Hands-free heard a pause (or the recording failed): fetch the result.
          stop();
          break;
      }
    },
    [stop],
  );

  const start = useCallback(() => {
    if (phaseRef.current !== "idle") return;
    const token = ++session.current;
    setError(null);
    setListening(false);
    setInputSilent(false);
    setMode(null);
    modeRef.current = null;
    setMissingDevice(null);
    setPhase("starting");
    voiceStart(null, null, (signal) => onSignal(token, signal)).then(
      (started) => {
        if (token !== session.current) return;
        setMode(started.mode);
        modeRef.current = started.mode;
        setDeviceName(started.deviceName);
        setMissingDevice(started.missingDevice ?? null);
        if (phaseRef.current === "starting") setPhase("recording");
      },
      (reason: unknown) => fail(token, reason),
    );
  }, [fail, onSignal, setPhase]);

  const cancel = useCallback(() => {
    if (phaseRef.current === "idle") return;
    session.current += 1;
    setPhase("idle");
    voiceCancel().catch(() => {
      // Nothing to tell: the recording is dropped either way.
    });
  }, [setPhase]);

  // Escape cancels from anywhere while recording or transcribing (before the composer's own
  // Escape, which would clear the draft).
  useEffect(() => {
    if (phase === "idle") return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape" || event.isComposing) return;
      event.preventDefault();
      event.stopPropagation();
      cancel();
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [phase, cancel]);

  // The global shortcut, with the mic button's semantics.
  useEffect(
    () =>
      subscribeVoiceShortcut((signal: VoiceShortcutSignal) => {
        const current = phaseRef.current;
        if (signal.kind === "pressed") {
          if (current === "idle") {
            shortcutPress.current = performance.now();
            start();
          } else if (current === "starting" || current === "recording") {
            shortcutPress.current = null;
            stop();
          }
          return;
        }
        const pressedAt = shortcutPress.current;
        shortcutPress.current = null;
        if (pressedAt === null || modeRef.current === "hands_free") return;
        if (performance.now() - pressedAt >= HOLD_MS) stop();
      }),
    [start, stop],
  );

  // Leaving the chat drops a recording in progress.
  useEffect(
    () => () => {
      if (phaseRef.current !== "idle") {
        session.current += 1;
        setVoiceRecording(false);
        voiceCancel().catch(() => {});
      }
    },
    [],
  );

  return {
    phase,
    mode,
    listening,
    inputSilent,
    deviceName,
    missingDevice,
    error,
    start,
    stop,
    cancel,
    dismissError: useCallback(() => setError(null), []),
  };
}

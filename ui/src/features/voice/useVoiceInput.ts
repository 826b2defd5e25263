// Voice input for the composer: start, stop (→ transcript), cancel, with the live signals of the
// recording. The transcript goes to `onTranscript` (the composer inserts it); nothing is sent.
import { useCallback, useEffect, useRef, useState } from "react";
import { voiceCancel, voiceStart, voiceStop, VoiceIpcError, type VoiceMode, type VoiceSignal } from "../../shared/ipc";
import { publishVoiceLevel, setVoiceRecording } from "../../shared/voiceLevel";

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
  const [error, setError] = useState<VoiceIpcError | null>(null);
  const phaseRef = useRef<VoicePhase>("idle");
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
    setPhase("starting");
    voiceStart(null, null, (signal) => onSignal(token, signal)).then(
      (started) => {
        if (token !== session.current) return;
        setMode(started.mode);
        setDeviceName(started.deviceName);
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
    error,
    start,
    stop,
    cancel,
    dismissError: useCallback(() => setError(null), []),
  };
}

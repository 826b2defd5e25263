// The live microphone level while recording, for whoever draws it (the composer's meter, the
// fluid background). A plain publish/subscribe outside React: the ~60 Hz stream never causes a
// render. Only whether a recording runs is React state (useVoiceRecording).
import { useSyncExternalStore } from "react";
import type { VoiceLevel } from "./ipc";

type LevelListener = (level: VoiceLevel) => void;

const levelListeners = new Set<LevelListener>();
const recordingListeners = new Set<() => void>();
let recording = false;

/** Sends a level to every subscriber (called by the recorder hook for each message). */
export function publishVoiceLevel(level: VoiceLevel): void {
  for (const listener of levelListeners) listener(level);
}

/** Calls `listener` with each level until the returned function is called. */
export function subscribeVoiceLevel(listener: LevelListener): () => void {
  levelListeners.add(listener);
  return () => {
    levelListeners.delete(listener);
  };
}

/** Marks a recording as running (the microphone drives the fluid) or not. */
export function setVoiceRecording(on: boolean): void {
  if (recording === on) return;
  recording = on;
  for (const listener of recordingListeners) listener();
}

function subscribeRecording(listener: () => void): () => void {
  recordingListeners.add(listener);
  return () => {
    recordingListeners.delete(listener);
  };
}

/** Whether a recording runs (React state; changes twice per recording). */
export function useVoiceRecording(): boolean {
  return useSyncExternalStore(subscribeRecording, () => recording);
}

/** For tests. */
export function resetVoiceLevel(): void {
  levelListeners.clear();
  recording = false;
  for (const listener of recordingListeners) listener();
}

import { act, render, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../../shared/ipc";
import type { VoiceShortcutSignal } from "../../shared/ipc";
import { resetVoiceShortcutForTests } from "./shortcut";
import { HOLD_MS, useVoiceInput } from "./useVoiceInput";
import { VoiceStatus } from "./VoiceControls";

vi.mock("../../shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../shared/ipc")>();
  return { ...actual, voiceStart: vi.fn(), voiceStop: vi.fn(), voiceCancel: vi.fn(), voiceShortcutListen: vi.fn() };
});

const mocked = vi.mocked(ipc);

/** What the core would send on the shortcut channel. */
let shortcut: (signal: VoiceShortcutSignal) => void = () => {};

function Dictation({ name }: { name: string }) {
  const [text, setText] = useState("");
  const voice = useVoiceInput((t) => setText((before) => before + t));
  return (
    <div data-testid={name} data-phase={voice.phase}>
      <output data-testid={`${name}-text`}>{text}</output>
      <VoiceStatus voice={voice} />
    </div>
  );
}

function press(at: number) {
  now.mockReturnValue(at);
  act(() => shortcut({ kind: "pressed" }));
}

function release(at: number) {
  now.mockReturnValue(at);
  act(() => shortcut({ kind: "released" }));
}

const now = vi.spyOn(performance, "now");

describe("the global push-to-talk shortcut", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    resetVoiceShortcutForTests();
    mocked.voiceShortcutListen.mockImplementation(async (onSignal) => {
      shortcut = onSignal;
    });
    mocked.voiceStart.mockResolvedValue({ deviceName: "PulseAudio Sound Server", mode: "push_to_talk" });
    mocked.voiceStop.mockResolvedValue({ text: "fix the login bug", durationMs: 1200 });
    mocked.voiceCancel.mockResolvedValue(undefined);
  });

  afterEach(() => now.mockReset());

  it("records while held and transcribes on release, into the composer", async () => {
    render(<Dictation name="chat" />);
    await waitFor(() => expect(mocked.voiceShortcutListen).toHaveBeenCalledTimes(1));
    press(1000);
    expect(mocked.voiceStart).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(screen.getByTestId("chat")).toHaveAttribute("data-phase", "recording"));
    release(1000 + HOLD_MS + 400);
    expect(mocked.voiceStop).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(screen.getByTestId("chat-text")).toHaveTextContent("fix the login bug"));
    expect(screen.getByTestId("chat")).toHaveAttribute("data-phase", "idle");
  });

  it("a tap starts, and the next press stops, like a click on the mic", async () => {
    render(<Dictation name="chat" />);
    await waitFor(() => expect(mocked.voiceShortcutListen).toHaveBeenCalled());
    press(1000);
    release(1000 + HOLD_MS - 100);
    await waitFor(() => expect(screen.getByTestId("chat")).toHaveAttribute("data-phase", "recording"));
    expect(mocked.voiceStop).not.toHaveBeenCalled();
    press(5000);
    expect(mocked.voiceStop).toHaveBeenCalledTimes(1);
    release(5000 + HOLD_MS + 100); // the release of the stopping press does nothing more
    expect(mocked.voiceStop).toHaveBeenCalledTimes(1);
    expect(mocked.voiceStart).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(screen.getByTestId("chat-text")).toHaveTextContent("fix the login bug"));
  });

  it("hands-free ends by itself, not on release", async () => {
    mocked.voiceStart.mockResolvedValue({ deviceName: "PulseAudio Sound Server", mode: "hands_free" });
    render(<Dictation name="chat" />);
    await waitFor(() => expect(mocked.voiceShortcutListen).toHaveBeenCalled());
    press(1000);
    await waitFor(() => expect(screen.getByTestId("chat")).toHaveAttribute("data-phase", "recording"));
    release(1000 + HOLD_MS * 4);
    expect(mocked.voiceStop).not.toHaveBeenCalled();
  });

  it("only the composer on screen (the last one mounted) records", async () => {
    const { rerender } = render(
      <>
        <Dictation name="first" />
      </>,
    );
    rerender(
      <>
        <Dictation name="first" />
        <Dictation name="second" />
      </>,
    );
    await waitFor(() => expect(mocked.voiceShortcutListen).toHaveBeenCalledTimes(1));
    press(1000);
    await waitFor(() => expect(screen.getByTestId("second")).toHaveAttribute("data-phase", "recording"));
    expect(screen.getByTestId("first")).toHaveAttribute("data-phase", "idle");
    release(1000 + HOLD_MS + 1);
    await waitFor(() => expect(screen.getByTestId("second-text")).toHaveTextContent("fix the login bug"));
    // The second one goes away: the first hears the shortcut again.
    rerender(
      <>
        <Dictation name="first" />
      </>,
    );
    press(9000);
    await waitFor(() => expect(screen.getByTestId("first")).toHaveAttribute("data-phase", "recording"));
  });

  it("says once that the chosen microphone is missing and which one records", async () => {
    mocked.voiceStart.mockResolvedValueOnce({ deviceName: "PulseAudio Sound Server", mode: "push_to_talk", missingDevice: "alsa:hw:9,0" });
    render(<Dictation name="chat" />);
    await waitFor(() => expect(mocked.voiceShortcutListen).toHaveBeenCalled());
    press(1000);
    expect(await screen.findByTestId("voice-fallback")).toHaveTextContent(
      "The chosen microphone (alsa:hw:9,0) is not connected; recording from PulseAudio Sound Server instead.",
    );
    release(1000 + HOLD_MS + 1);
    await waitFor(() => expect(screen.getByTestId("chat")).toHaveAttribute("data-phase", "idle"));
    // The core tells it once: the next recording has no note.
    press(5000);
    await waitFor(() => expect(screen.getByTestId("chat")).toHaveAttribute("data-phase", "recording"));
    expect(screen.queryByTestId("voice-fallback")).not.toBeInTheDocument();
  });

  it("outside the app (no shortcut channel) the composer still works", async () => {
    mocked.voiceShortcutListen.mockRejectedValue(new Error("not in Tauri"));
    render(<Dictation name="chat" />);
    await waitFor(() => expect(mocked.voiceShortcutListen).toHaveBeenCalled());
    expect(screen.getByTestId("chat")).toHaveAttribute("data-phase", "idle");
  });
});

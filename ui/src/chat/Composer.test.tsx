import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState, type ComponentProps } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HOLD_MS } from "../features/voice/VoiceControls";
import { resetVoiceLevel, subscribeVoiceLevel, useVoiceRecording } from "../shared/voiceLevel";
import * as ipc from "../shared/ipc";
import type { VoiceSignal, VoiceStarted, VoiceTranscript } from "../shared/ipc";
import { useUiStore } from "../shared/store";
import { Composer } from "./Composer";
import { FAKE_AGENTS } from "./testing/fakeChatApi";

vi.mock("../shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../shared/ipc")>();
  return { ...actual, voiceStart: vi.fn(), voiceStop: vi.fn(), voiceCancel: vi.fn() };
});

const mocked = vi.mocked(ipc);
const { VoiceIpcError } = ipc;

type Props = Partial<ComponentProps<typeof Composer>>;

function Harness({ initial = "", ...props }: Props & { initial?: string }) {
  const [value, setValue] = useState(initial);
  return <Composer value={value} onChange={setValue} onSend={vi.fn()} blockedReason={null} {...props} />;
}

function setup(props: Props & { initial?: string } = {}) {
  const onSend = props.onSend ?? vi.fn();
  const user = userEvent.setup();
  render(<Harness {...props} onSend={onSend} />);
  const input = screen.getByRole("textbox", { name: "Message" }) as HTMLTextAreaElement;
  return { user, onSend, input };
}

describe("Composer", () => {
  it("sends on Enter, and Shift+Enter starts a new line", async () => {
    const { user, onSend, input } = setup();
    await user.type(input, "first line{Shift>}{Enter}{/Shift}second line");
    expect(input.value).toBe("first line\nsecond line");
    expect(onSend).not.toHaveBeenCalled();
    await user.keyboard("{Enter}");
    expect(onSend).toHaveBeenCalledExactlyOnceWith("first line\nsecond line");
  });

  it("sends with the Send button too, but never blank text", async () => {
    const { user, onSend, input } = setup();
    const send = screen.getByRole("button", { name: "Send" });
    expect(send).toBeDisabled();
    await user.type(input, "   {Enter}");
    expect(onSend).not.toHaveBeenCalled();
    await user.type(input, "go");
    await user.click(send);
    expect(onSend).toHaveBeenCalledWith("   go");
  });

  it("walks the history with ArrowUp at the start and ArrowDown at the end, then gives the draft back", async () => {
    const { user, input } = setup({ history: ["oldest", "middle", "newest"], initial: "my draft" });
    input.focus();
    input.setSelectionRange(3, 3);
    await user.keyboard("{ArrowUp}");
    expect(input.value).toBe("my draft"); // the caret was not at the start
    input.setSelectionRange(0, 0);
    await user.keyboard("{ArrowUp}");
    expect(input.value).toBe("newest");
    expect(input.selectionStart).toBe(0);
    await user.keyboard("{ArrowUp}{ArrowUp}");
    expect(input.value).toBe("oldest");
    await user.keyboard("{ArrowUp}");
    expect(input.value).toBe("oldest"); // nothing older
    input.setSelectionRange(input.value.length, input.value.length);
    await user.keyboard("{ArrowDown}");
    expect(input.value).toBe("middle");
    expect(input.selectionStart).toBe("middle".length);
    await user.keyboard("{ArrowDown}{ArrowDown}");
    expect(input.value).toBe("my draft");
  });

  it("ArrowDown does nothing when not walking the history", async () => {
    const { user, input } = setup({ history: ["a"], initial: "text" });
    input.focus();
    input.setSelectionRange(4, 4);
    await user.keyboard("{ArrowDown}");
    expect(input.value).toBe("text");
  });

  it("blocks sending while the agent works, says why, and still lets you type", async () => {
    const { user, onSend, input } = setup({ blockedReason: "The agent is working — cancel or wait" });
    await user.type(input, "next question{Enter}");
    expect(input.value).toBe("next question");
    expect(onSend).not.toHaveBeenCalled();
    const send = screen.getByRole("button", { name: "Send" });
    expect(send).toBeDisabled();
    expect(send).toHaveAccessibleDescription("The agent is working — cancel or wait");
    expect(screen.getByTestId("chat-composer-note")).toBeVisible();
  });

  it("clears on Escape, and lets Escape through when there is nothing to clear", async () => {
    const outer = vi.fn();
    const user = userEvent.setup();
    render(
      <div onKeyDown={(event) => event.key === "Escape" && outer()}>
        <Harness initial="half a thought" />
      </div>,
    );
    const input = screen.getByRole("textbox", { name: "Message" }) as HTMLTextAreaElement;
    await user.click(input);
    await user.keyboard("{Escape}");
    expect(input.value).toBe("");
    expect(outer).not.toHaveBeenCalled();
    await user.keyboard("{Escape}");
    expect(outer).toHaveBeenCalledOnce();
  });

  it("does not send while an input method is composing", () => {
    const { onSend, input } = setup({ initial: "日本" });
    fireEvent.keyDown(input, { key: "Enter", isComposing: true });
    expect(onSend).not.toHaveBeenCalled();
  });

  it("offers the agents for a new chat, unavailable ones disabled with their reason", async () => {
    const onAgent = vi.fn();
    const { user, onSend, input } = setup({ agentPicker: { agents: FAKE_AGENTS, value: "claude-code", onChange: onAgent } });
    const picker = screen.getByRole("combobox", { name: "Agent" });
    const options = screen.getAllByRole("option") as HTMLOptionElement[];
    expect(options.map((option) => [option.textContent, option.disabled])).toEqual([
      ["Claude Code", false],
      ["Codex", false],
      ["Gemini CLI — add a Google AI key", true],
    ]);
    await user.selectOptions(picker, "codex");
    expect(onAgent).toHaveBeenCalledWith("codex");
    await user.type(input, "hello{Enter}");
    expect(onSend).toHaveBeenCalledWith("hello");
  });

  it("will not send a new chat without an available agent", async () => {
    const agents = FAKE_AGENTS.map((agent) => ({ ...agent, available: false, reason: "add a key" }));
    const { user, onSend, input } = setup({ agentPicker: { agents, value: null, onChange: vi.fn() } });
    await user.type(input, "hello{Enter}");
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByTestId("chat-composer-note")).toHaveTextContent("Pick an available agent first");
  });

  it("is fully disabled without a workspace", () => {
    setup({ disabled: true });
    expect(screen.getByRole("textbox", { name: "Message" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
  });
});

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("Composer voice input", () => {
  let signal: (s: VoiceSignal) => void = () => {};
  let started: ReturnType<typeof deferred<VoiceStarted>>;
  let stopped: ReturnType<typeof deferred<VoiceTranscript>>;

  beforeEach(() => {
    resetVoiceLevel();
    useUiStore.setState({ view: "chat" });
    started = deferred<VoiceStarted>();
    stopped = deferred<VoiceTranscript>();
    mocked.voiceStart.mockReset().mockImplementation((_mode, _device, onSignal) => {
      signal = onSignal;
      return started.promise;
    });
    mocked.voiceStop.mockReset().mockImplementation(() => stopped.promise);
    mocked.voiceCancel.mockReset().mockResolvedValue(undefined);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  const mic = () => screen.getByTestId("voice-mic");

  async function startRecording(user: ReturnType<typeof userEvent.setup>, mode: "push_to_talk" | "hands_free" = "push_to_talk") {
    await user.click(mic());
    expect(mocked.voiceStart).toHaveBeenCalledOnce();
    expect(mic()).toHaveAttribute("data-phase", "starting");
    expect(screen.getByTestId("voice-status")).toHaveTextContent("Starting the microphone");
    await act(async () => started.resolve({ deviceName: "Built-in Microphone", mode }));
    act(() => signal({ kind: "listening" }));
  }

  it("records on click, shows the live level, and inserts the transcript at the caret without sending", async () => {
    const { user, onSend, input } = setup({ initial: "fix the bug" });
    input.focus();
    input.setSelectionRange(8, 8); // "fix the |bug"
    expect(mic()).toHaveAccessibleName("Dictate");
    expect(mic()).toHaveAttribute("aria-pressed", "false");
    await startRecording(user);
    expect(mocked.voiceStart).toHaveBeenCalledWith(null, null, expect.any(Function));
    expect(mic()).toHaveAttribute("aria-pressed", "true");
    expect(mic()).toHaveAccessibleName("Stop dictating");
    expect(screen.getByTestId("voice-status")).toHaveTextContent("Recording");

    const bar = screen.getByTestId("voice-meter").firstElementChild as HTMLElement;
    expect(bar.dataset.level).toBe("0");
    act(() => signal({ kind: "level", level: 0.75, bands: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], centroid: 0.4, onset: true }));
    expect(bar.dataset.level).toBe("0.75");
    expect(bar.style.transform).toBe("scaleX(0.750)");

    await user.click(mic());
    expect(mocked.voiceStop).toHaveBeenCalledOnce();
    expect(screen.getByTestId("voice-status")).toHaveTextContent("Transcribing");
    expect(mic()).toHaveAttribute("aria-disabled", "true");
    await act(async () => stopped.resolve({ text: "login", durationMs: 1200 }));

    expect(input.value).toBe("fix the login bug");
    expect(input.selectionStart).toBe("fix the login".length);
    expect(document.activeElement).toBe(input);
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.queryByTestId("voice-status")).not.toBeInTheDocument();
    expect(mic()).toHaveAttribute("data-phase", "idle");
  });

  it("replaces a selection and appends to the end with a space", async () => {
    const { user, input } = setup({ initial: "Hello" });
    input.setSelectionRange(5, 5);
    await startRecording(user);
    await user.click(mic());
    await act(async () => stopped.resolve({ text: "world.", durationMs: 900 }));
    expect(input.value).toBe("Hello world.");
  });

  it("holding the button is push-to-talk: releasing it stops and transcribes", async () => {
    const { input } = setup();
    const now = vi.spyOn(performance, "now").mockReturnValue(1000);
    fireEvent.pointerDown(mic(), { button: 0 });
    expect(mocked.voiceStart).toHaveBeenCalledOnce();
    await act(async () => started.resolve({ deviceName: "Mic", mode: "push_to_talk" }));
    now.mockReturnValue(1000 + HOLD_MS + 500);
    fireEvent.pointerUp(mic(), { button: 0 });
    fireEvent.click(mic());
    expect(mocked.voiceStop).toHaveBeenCalledOnce();
    await act(async () => stopped.resolve({ text: "held it down", durationMs: 2000 }));
    expect(input.value).toBe("held it down");
    expect(mocked.voiceStart).toHaveBeenCalledOnce(); // the click after the release did not restart
  });

  it("a short click keeps recording until the next click", async () => {
    setup();
    const now = vi.spyOn(performance, "now").mockReturnValue(1000);
    fireEvent.pointerDown(mic(), { button: 0 });
    await act(async () => started.resolve({ deviceName: "Mic", mode: "push_to_talk" }));
    now.mockReturnValue(1100);
    fireEvent.pointerUp(mic(), { button: 0 });
    fireEvent.click(mic());
    expect(mocked.voiceStop).not.toHaveBeenCalled();
    expect(mic()).toHaveAttribute("data-phase", "recording");
  });

  it("Escape cancels the recording and keeps the draft", async () => {
    const { user, input } = setup({ initial: "keep me" });
    await startRecording(user);
    await user.keyboard("{Escape}");
    expect(mocked.voiceCancel).toHaveBeenCalledOnce();
    expect(mocked.voiceStop).not.toHaveBeenCalled();
    expect(input.value).toBe("keep me");
    expect(mic()).toHaveAttribute("data-phase", "idle");
    expect(screen.queryByTestId("voice-status")).not.toBeInTheDocument();
    // The next Escape is the composer's again.
    await user.click(input);
    await user.keyboard("{Escape}");
    expect(input.value).toBe("");
  });

  it("Escape while transcribing drops the transcript that arrives later", async () => {
    const { user, input } = setup({ initial: "draft" });
    await startRecording(user);
    await user.click(mic());
    await user.keyboard("{Escape}");
    expect(mocked.voiceCancel).toHaveBeenCalledOnce();
    await act(async () => stopped.resolve({ text: "too late", durationMs: 800 }));
    expect(input.value).toBe("draft");
  });

  it("hands-free fetches the transcript when the recording ends by itself", async () => {
    const { user, input, onSend } = setup();
    await startRecording(user, "hands_free");
    expect(screen.getByTestId("voice-status")).toHaveTextContent("pause to finish");
    act(() => signal({ kind: "ended" }));
    expect(mocked.voiceStop).toHaveBeenCalledOnce();
    await act(async () => stopped.resolve({ text: "spoken freely", durationMs: 1500 }));
    expect(input.value).toBe("spoken freely");
    expect(onSend).not.toHaveBeenCalled();
  });

  it("says when the microphone sends only silence", async () => {
    const { user } = setup();
    await startRecording(user);
    act(() => signal({ kind: "input_silent" }));
    expect(screen.getByRole("status")).toHaveTextContent("No sound from the microphone");
  });

  it("shows why recording could not start, with a way to fix it", async () => {
    const { user } = setup();
    await user.click(mic());
    await act(async () => started.reject(new VoiceIpcError("no_microphone", "No microphone was found. Plug one in.")));
    expect(screen.getByRole("alert")).toHaveTextContent("No microphone was found. Plug one in.");
    expect(screen.getByTestId("voice-status")).toHaveAttribute("data-code", "no_microphone");
    expect(mic()).toHaveAttribute("data-phase", "idle");
    await user.click(screen.getByRole("button", { name: "Voice settings" }));
    expect(useUiStore.getState().view).toBe("settings");
  });

  it("shows a transcription failure and which credential to add, and keeps the draft", async () => {
    const { user, input } = setup({ initial: "draft" });
    await startRecording(user);
    await user.click(mic());
    await act(async () =>
      stopped.reject(new VoiceIpcError("no_credential", "No transcription credential is set up. Add an OpenAI API key in Settings → Credentials.")),
    );
    expect(screen.getByRole("alert")).toHaveTextContent("Add an OpenAI API key");
    expect(input.value).toBe("draft");
    await user.click(screen.getByRole("button", { name: "Open Credentials" }));
    expect(useUiStore.getState().view).toBe("credentials");
  });

  it("shows the provider's reason and can be dismissed; a cancellation is not an error", async () => {
    const { user } = setup();
    await startRecording(user);
    await user.click(mic());
    await act(async () => stopped.reject(new VoiceIpcError("transcription_failed", "Transcription failed (HTTP 400): Invalid file format")));
    expect(screen.getByRole("alert")).toHaveTextContent("Invalid file format");
    await user.click(screen.getByRole("button", { name: "Dismiss" }));
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();

    started = deferred<VoiceStarted>();
    await user.click(mic());
    await act(async () => started.reject(new VoiceIpcError("cancelled", "Recording cancelled.")));
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("starts from the keyboard and is disabled without a workspace", async () => {
    const { user } = setup();
    mic().focus();
    await user.keyboard("{Enter}");
    expect(mocked.voiceStart).toHaveBeenCalledOnce();
    await waitFor(() => expect(mic()).toHaveAttribute("data-phase", "starting"));
  });

  it("is disabled with the rest of the composer", () => {
    setup({ disabled: true });
    expect(mic()).toBeDisabled();
  });

  it("tells the fluid background a recording runs and feeds it the levels", async () => {
    const seen: (number | null)[] = [];
    const unsubscribe = subscribeVoiceLevel((level) => seen.push(level.level));
    function Probe() {
      return <span data-testid="probe">{useVoiceRecording() ? "on" : "off"}</span>;
    }
    const user = userEvent.setup();
    render(
      <>
        <Probe />
        <Harness />
      </>,
    );
    expect(screen.getByTestId("probe")).toHaveTextContent("off");
    await startRecording(user);
    expect(screen.getByTestId("probe")).toHaveTextContent("on");
    act(() => signal({ kind: "level", level: 0.5, bands: [], centroid: 0.5, onset: false }));
    expect(seen).toEqual([0.5]);
    await user.keyboard("{Escape}");
    expect(screen.getByTestId("probe")).toHaveTextContent("off");
    unsubscribe();
  });
});

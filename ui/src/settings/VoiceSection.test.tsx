import { QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../shared/ipc";
import type { VoiceDownloadProgress, VoiceModels, VoiceSettings, VoiceSetup } from "../shared/ipc";
import { createQueryClient } from "../shared/queries";
import { useUiStore } from "../shared/store";
import { VoiceSection } from "./VoiceSection";

vi.mock("../shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../shared/ipc")>();
  return {
    ...actual,
    voiceDevices: vi.fn(),
    voiceSettingsGet: vi.fn(),
    voiceSettingsSet: vi.fn(),
    voiceModels: vi.fn(),
    voiceModelDownload: vi.fn(),
    voiceModelCancel: vi.fn(),
    voiceModelDelete: vi.fn(),
  };
});

const mocked = vi.mocked(ipc);
const { VoiceIpcError } = ipc;

const DEFAULTS: VoiceSettings = {
  device: null,
  mode: "push_to_talk",
  silenceMs: 800,
  credential: null,
  model: null,
  language: null,
  engine: "cloud",
  localModel: null,
  shortcut: "CommandOrControl+Alt+Space",
};

const MODELS: VoiceModels = {
  onDeviceAvailable: true,
  models: [
    { id: "tiny.en", description: "English, fastest, least accurate (75 MB)", sizeBytes: 77_704_715, installed: false, downloading: false },
    { id: "base.en", description: "English, fast, good for dictation (142 MB)", sizeBytes: 147_964_211, installed: true, downloading: false },
  ],
};

const CREDENTIALS: VoiceSetup["credentials"] = [
  { id: "c-openai", label: "Work OpenAI", kind: "openai_api_key", active: true },
  { id: "c-local", label: "Local whisper", kind: "openai_compatible", active: true },
];

function setup(settings: Partial<VoiceSettings> = {}, credentials = CREDENTIALS, shortcutProblem: string | null = null) {
  let current: VoiceSetup = { settings: { ...DEFAULTS, ...settings }, credentials, shortcutProblem };
  mocked.voiceSettingsGet.mockImplementation(async () => current);
  mocked.voiceSettingsSet.mockImplementation(async (next) => {
    current = { settings: next, credentials, shortcutProblem: null };
    return current;
  });
  mocked.voiceModels.mockResolvedValue(MODELS);
  mocked.voiceDevices.mockResolvedValue([
    { id: "alsa:pulse", name: "PulseAudio Sound Server", isDefault: true },
    { id: "alsa:hw:1,0", name: "USB Microphone", isDefault: false },
  ]);
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={createQueryClient()}>
      <VoiceSection />
    </QueryClientProvider>,
  );
  return { user };
}

describe("Settings → Voice", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    useUiStore.setState({ view: "settings", addCredentialKind: null });
  });

  it("lists the microphones, the system default first, and saves the choice", async () => {
    const { user } = setup();
    const picker = await screen.findByRole("combobox", { name: "Microphone" });
    await waitFor(() => expect(within(picker).getAllByRole("option")).toHaveLength(2));
    expect(within(picker).getAllByRole("option").map((o) => o.textContent)).toEqual(["System default (PulseAudio Sound Server)", "USB Microphone"]);
    await waitFor(() => expect(picker).toBeEnabled());
    await user.selectOptions(picker, "alsa:hw:1,0");
    expect(mocked.voiceSettingsSet).toHaveBeenCalledWith({ ...DEFAULTS, device: "alsa:hw:1,0" });
    await waitFor(() => expect(picker).toHaveValue("alsa:hw:1,0"));
    await user.selectOptions(picker, "");
    expect(mocked.voiceSettingsSet).toHaveBeenLastCalledWith({ ...DEFAULTS, device: null });
  });

  it("says when the saved microphone is not connected", async () => {
    setup({ device: "alsa:hw:9,0" });
    const picker = await screen.findByRole("combobox", { name: "Microphone" });
    await waitFor(() => expect(picker).toHaveValue("alsa:hw:9,0"));
    expect(within(picker).getByRole("option", { name: "alsa:hw:9,0 (not connected)" })).toBeInTheDocument();
    expect(screen.getByText(/not connected; recording will fail/)).toBeInTheDocument();
  });

  it("switches to hands-free and offers the pause length only then", async () => {
    const { user } = setup();
    const handsFree = await screen.findByRole("radio", { name: /Hands-free/ });
    await waitFor(() => expect(handsFree).toBeEnabled());
    expect(screen.getByRole("radio", { name: /Push to talk/ })).toBeChecked();
    expect(screen.queryByRole("combobox", { name: "Pause that ends the recording" })).not.toBeInTheDocument();
    await user.click(handsFree);
    expect(mocked.voiceSettingsSet).toHaveBeenCalledWith({ ...DEFAULTS, mode: "hands_free" });
    const pause = await screen.findByRole("combobox", { name: "Pause that ends the recording" });
    await waitFor(() => expect(pause).toBeEnabled());
    await user.selectOptions(pause, "1200");
    expect(mocked.voiceSettingsSet).toHaveBeenLastCalledWith({ ...DEFAULTS, mode: "hands_free", silenceMs: 1200 });
  });

  it("picks the transcription credential, and the model and language when a field is left", async () => {
    const { user } = setup();
    const service = await screen.findByRole("combobox", { name: "Transcription service" });
    await waitFor(() => expect(service).toBeEnabled());
    expect(within(service).getAllByRole("option").map((o) => o.textContent)).toEqual([
      "Automatic: the first OpenAI, OpenAI-compatible or Mistral credential",
      "Work OpenAI — OpenAI",
      "Local whisper — OpenAI-compatible",
    ]);
    await user.selectOptions(service, "c-local");
    expect(mocked.voiceSettingsSet).toHaveBeenLastCalledWith({ ...DEFAULTS, credential: "c-local" });

    const model = screen.getByRole("textbox", { name: "Model" });
    await waitFor(() => expect(model).toBeEnabled());
    await user.type(model, "whisper-large-v3");
    const saves = mocked.voiceSettingsSet.mock.calls.length;
    expect(mocked.voiceSettingsSet).toHaveBeenCalledTimes(saves); // not per keystroke
    await user.tab();
    expect(mocked.voiceSettingsSet).toHaveBeenLastCalledWith({ ...DEFAULTS, credential: "c-local", model: "whisper-large-v3" });
    const language = screen.getByRole("textbox", { name: "Language" });
    await waitFor(() => expect(language).toBeEnabled());
    await user.type(language, "de{Enter}");
    expect(mocked.voiceSettingsSet).toHaveBeenLastCalledWith({ ...DEFAULTS, credential: "c-local", model: "whisper-large-v3", language: "de" });
  });

  it("without a usable credential, says what to add and opens the form", async () => {
    const { user } = setup({}, []);
    const note = await screen.findByTestId("voice-no-credential");
    expect(note).toHaveTextContent("Add an OpenAI API key, an OpenAI-compatible endpoint or a Mistral API key");
    await user.click(within(note).getByRole("button", { name: "Add a credential" }));
    expect(useUiStore.getState()).toMatchObject({ view: "credentials", addCredentialKind: "openai_api_key" });
  });

  it("shows why devices cannot be listed, and a rejected setting", async () => {
    const { user } = setup();
    mocked.voiceDevices.mockRejectedValue(new VoiceIpcError("no_microphone", "No microphone was found. Plug one in."));
    await user.click(await screen.findByRole("button", { name: "Refresh" }));
    expect(await screen.findByTestId("voice-devices-error")).toHaveTextContent("No microphone was found");

    mocked.voiceSettingsSet.mockRejectedValueOnce(new VoiceIpcError("invalid_input", "Give the language as a two-letter code such as en or de."));
    const language = screen.getByRole("textbox", { name: "Language" });
    await waitFor(() => expect(language).toBeEnabled());
    await user.type(language, "english{Enter}");
    expect(await screen.findByTestId("voice-save-error")).toHaveTextContent("two-letter code");
  });
});

describe("Settings → Voice: the push-to-talk shortcut", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    useUiStore.setState({ view: "settings", addCredentialKind: null });
  });

  it("shows the default as this keyboard labels it, and turns it off and on", async () => {
    const { user } = setup();
    const keys = await screen.findByRole("textbox", { name: "Keys" });
    expect(keys).toHaveValue("Ctrl+Alt+Space");
    const toggle = screen.getByRole("checkbox", { name: /Dictate from anywhere/ });
    await waitFor(() => expect(toggle).toBeEnabled());
    expect(toggle).toBeChecked();
    await user.click(toggle);
    expect(mocked.voiceSettingsSet).toHaveBeenLastCalledWith({ ...DEFAULTS, shortcut: null });
    await waitFor(() => expect(screen.queryByRole("textbox", { name: "Keys" })).not.toBeInTheDocument());
    await waitFor(() => expect(toggle).toBeEnabled());
    await user.click(toggle);
    expect(mocked.voiceSettingsSet).toHaveBeenLastCalledWith({ ...DEFAULTS, shortcut: "CommandOrControl+Alt+Space" });
  });

  it("saves a typed shortcut, and keeps the old one with the reason when it is refused", async () => {
    const { user } = setup();
    const keys = await screen.findByRole("textbox", { name: "Keys" });
    await waitFor(() => expect(keys).toBeEnabled());
    await user.clear(keys);
    await user.type(keys, "Shift+F9{Enter}");
    expect(mocked.voiceSettingsSet).toHaveBeenLastCalledWith({ ...DEFAULTS, shortcut: "Shift+F9" });
    await waitFor(() => expect(keys).toHaveValue("Shift+F9"));
    expect(screen.getByRole("button", { name: "Reset to Ctrl+Alt+Space" })).toBeInTheDocument();

    mocked.voiceSettingsSet.mockRejectedValueOnce(
      new VoiceIpcError("shortcut_taken", "Ctrl+Alt+T could not be set up as the push-to-talk shortcut: another program (or the desktop itself) already uses it. Pick another one. The previous shortcut still works."),
    );
    await waitFor(() => expect(keys).toBeEnabled());
    await user.clear(keys);
    await user.type(keys, "Ctrl+Alt+T{Enter}");
    const error = await screen.findByTestId("voice-shortcut-error");
    expect(error).toHaveTextContent("another program");
    expect(error).toHaveTextContent("The previous shortcut still works");
    expect(keys).toHaveValue("Shift+F9");
    expect(keys).toHaveAttribute("aria-invalid", "true");
    expect(screen.queryByTestId("voice-save-error")).not.toBeInTheDocument();
  });

  it("records the keys pressed, and Escape leaves the shortcut alone", async () => {
    const { user } = setup();
    const keys = await screen.findByRole("textbox", { name: "Keys" });
    await waitFor(() => expect(keys).toBeEnabled());
    await user.click(screen.getByRole("button", { name: "Record keys" }));
    expect(keys).toHaveValue("Press the keys…");
    expect(keys).toHaveFocus();
    fireEvent.keyDown(keys, { key: "Control", code: "ControlLeft", ctrlKey: true });
    expect(keys).toHaveValue("Press the keys…"); // a lone modifier is not a shortcut: still listening
    fireEvent.keyDown(keys, { key: "Escape", code: "Escape" });
    expect(keys).toHaveValue("Ctrl+Alt+Space");
    expect(mocked.voiceSettingsSet).not.toHaveBeenCalled();

    await user.click(screen.getByRole("button", { name: "Record keys" }));
    expect(keys).toHaveValue("Press the keys…");
    fireEvent.keyDown(keys, { key: "d", code: "KeyD", ctrlKey: true, altKey: true });
    await waitFor(() => expect(mocked.voiceSettingsSet).toHaveBeenCalledTimes(1));
    expect(mocked.voiceSettingsSet).toHaveBeenLastCalledWith({ ...DEFAULTS, shortcut: "Ctrl+Alt+D" });
    await waitFor(() => expect(keys).toHaveValue("Ctrl+Alt+D"));
  });

  it("says why the saved shortcut is not active", async () => {
    setup({}, CREDENTIALS, "Ctrl+Alt+Space could not be set up as the push-to-talk shortcut: another program (or the desktop itself) already uses it. Pick another one.");
    expect(await screen.findByTestId("voice-shortcut-problem")).toHaveTextContent("already uses it");
  });
});

describe("Settings → Voice: transcription on this computer", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    useUiStore.setState({ view: "settings", addCredentialKind: null });
  });

  it("switches the engine, hides the cloud fields and lists the models", async () => {
    const { user } = setup();
    const local = await screen.findByRole("radio", { name: /On this computer/ });
    await waitFor(() => expect(local).toBeEnabled());
    expect(screen.getByRole("radio", { name: /Cloud \(OpenAI-compatible\)/ })).toBeChecked();
    expect(screen.getByRole("combobox", { name: "Transcription service" })).toBeInTheDocument();
    await user.click(local);
    expect(mocked.voiceSettingsSet).toHaveBeenLastCalledWith({ ...DEFAULTS, engine: "local" });
    const list = await screen.findByTestId("voice-models");
    expect(screen.queryByRole("combobox", { name: "Transcription service" })).not.toBeInTheDocument();
    expect(screen.queryByRole("textbox", { name: "Model" })).not.toBeInTheDocument();
    expect(within(list).getByRole("button", { name: "Download tiny.en (78 MB)" })).toBeInTheDocument();
    expect(within(list).getByRole("button", { name: "Delete base.en" })).toBeInTheDocument();
    const base = within(list).getByRole("radio", { name: /base\.en/ });
    await waitFor(() => expect(base).toBeEnabled());
    await user.click(base);
    expect(mocked.voiceSettingsSet).toHaveBeenLastCalledWith({ ...DEFAULTS, engine: "local", localModel: "base.en" });
  });

  it("downloads with a progress bar, then uses the model", async () => {
    let report: (p: VoiceDownloadProgress) => void = () => {};
    let finish: (m: VoiceModels) => void = () => {};
    mocked.voiceModelDownload.mockImplementation((_id, onProgress) => {
      report = onProgress;
      return new Promise((resolve) => (finish = resolve));
    });
    const { user } = setup({ engine: "local" });
    const list = await screen.findByTestId("voice-models");
    await user.click(within(list).getByRole("button", { name: /Download tiny\.en/ }));
    expect(mocked.voiceModelDownload).toHaveBeenCalledWith("tiny.en", expect.any(Function));
    const bar = await screen.findByRole("progressbar", { name: "Downloading tiny.en" });
    report({ downloadedBytes: 38_852_357, totalBytes: 77_704_715 });
    await waitFor(() => expect(bar).toHaveAttribute("value", "38852357"));
    expect(bar).toHaveAttribute("max", "77704715");
    expect(within(list).getByRole("button", { name: "Cancel download" })).toBeInTheDocument();
    finish({ ...MODELS, models: MODELS.models.map((m) => (m.id === "tiny.en" ? { ...m, installed: true } : m)) });
    await waitFor(() => expect(screen.queryByRole("progressbar")).not.toBeInTheDocument());
    expect(within(list).getByRole("button", { name: "Delete tiny.en" })).toBeInTheDocument();
    // No model was chosen: the downloaded one is.
    expect(mocked.voiceSettingsSet).toHaveBeenLastCalledWith({ ...DEFAULTS, engine: "local", localModel: "tiny.en" });
  });

  it("cancels a download quietly, and shows why a download failed", async () => {
    mocked.voiceModelDownload.mockImplementation(
      () =>
        new Promise((_resolve, reject) => {
          mocked.voiceModelCancel.mockImplementation(async () => reject(new VoiceIpcError("cancelled", "Download cancelled.")));
        }),
    );
    const { user } = setup({ engine: "local" });
    const list = await screen.findByTestId("voice-models");
    await user.click(within(list).getByRole("button", { name: /Download tiny\.en/ }));
    await user.click(await within(list).findByRole("button", { name: "Cancel download" }));
    expect(mocked.voiceModelCancel).toHaveBeenCalledWith("tiny.en");
    await waitFor(() => expect(screen.queryByRole("progressbar")).not.toBeInTheDocument());
    expect(within(list).queryByRole("alert")).not.toBeInTheDocument();

    mocked.voiceModelDownload.mockRejectedValueOnce(
      new VoiceIpcError("checksum_mismatch", "The downloaded speech model is damaged (its SHA-256 is 00, expected 92); it was deleted. Try the download again."),
    );
    await user.click(within(list).getByRole("button", { name: /Download tiny\.en/ }));
    expect(await within(list).findByRole("alert")).toHaveTextContent("it was deleted. Try the download again.");
  });

  it("deletes a downloaded model", async () => {
    mocked.voiceModelDelete.mockResolvedValue({ ...MODELS, models: MODELS.models.map((m) => ({ ...m, installed: false })) });
    const { user } = setup({ engine: "local", localModel: "base.en" });
    const list = await screen.findByTestId("voice-models");
    await user.click(within(list).getByRole("button", { name: "Delete base.en" }));
    expect(mocked.voiceModelDelete).toHaveBeenCalledWith("base.en");
    expect(await within(list).findByRole("button", { name: /Download base\.en/ })).toBeInTheDocument();
    expect(screen.getByTestId("voice-model-not-downloaded")).toHaveTextContent("base.en is not downloaded yet");
  });
});

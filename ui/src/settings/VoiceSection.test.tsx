import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../shared/ipc";
import type { VoiceSettings, VoiceSetup } from "../shared/ipc";
import { createQueryClient } from "../shared/queries";
import { useUiStore } from "../shared/store";
import { VoiceSection } from "./VoiceSection";

vi.mock("../shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../shared/ipc")>();
  return { ...actual, voiceDevices: vi.fn(), voiceSettingsGet: vi.fn(), voiceSettingsSet: vi.fn() };
});

const mocked = vi.mocked(ipc);
const { VoiceIpcError } = ipc;

const DEFAULTS: VoiceSettings = { device: null, mode: "push_to_talk", silenceMs: 800, credential: null, model: null, language: null };

const CREDENTIALS: VoiceSetup["credentials"] = [
  { id: "c-openai", label: "Work OpenAI", kind: "openai_api_key", active: true },
  { id: "c-local", label: "Local whisper", kind: "openai_compatible", active: true },
];

function setup(settings: Partial<VoiceSettings> = {}, credentials = CREDENTIALS) {
  let current: VoiceSetup = { settings: { ...DEFAULTS, ...settings }, credentials };
  mocked.voiceSettingsGet.mockImplementation(async () => current);
  mocked.voiceSettingsSet.mockImplementation(async (next) => {
    current = { settings: next, credentials };
    return current;
  });
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

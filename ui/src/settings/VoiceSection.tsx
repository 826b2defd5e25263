// Settings → Voice: which microphone, how recording ends, and which service transcribes.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { voiceDevices, voiceSettingsGet, voiceSettingsSet, type CredentialKind, type VoiceSettings, type VoiceSetup } from "../shared/ipc";
import { useUiStore } from "../shared/store";
import { Button } from "../shared/ui";
import { SettingsSection } from "./SettingsSection";

const SETTINGS_KEY = ["voice", "settings"] as const;
const DEVICES_KEY = ["voice", "devices"] as const;

const PAUSES_MS = [500, 800, 1200, 2000, 3000];

const KIND_LABELS: Partial<Record<CredentialKind, string>> = {
  openai_api_key: "OpenAI",
  openai_compatible: "OpenAI-compatible",
  mistral_api_key: "Mistral",
};

export function VoiceSection() {
  const client = useQueryClient();
  const requestAddCredential = useUiStore((state) => state.requestAddCredential);
  const setup = useQuery({ queryKey: SETTINGS_KEY, queryFn: () => voiceSettingsGet() });
  const devices = useQuery({ queryKey: DEVICES_KEY, queryFn: () => voiceDevices() });
  const save = useMutation({
    mutationFn: (settings: VoiceSettings) => voiceSettingsSet(settings),
    onSuccess: (saved: VoiceSetup) => client.setQueryData(SETTINGS_KEY, saved),
  });
  // Typed text is saved when the field is left (or Enter is pressed), not per keystroke.
  const [model, setModel] = useState<string | null>(null);
  const [language, setLanguage] = useState<string | null>(null);

  const settings = setup.data?.settings;
  const credentials = setup.data?.credentials ?? [];
  const busy = !settings || save.isPending;

  function update(change: Partial<VoiceSettings>) {
    if (settings) save.mutate({ ...settings, ...change });
  }

  function commitText(field: "model" | "language", text: string | null, reset: () => void) {
    if (text === null || !settings) return;
    const value = text.trim() === "" ? null : text.trim();
    if (value !== settings[field]) update({ [field]: value });
    reset();
  }

  const deviceList = devices.data ?? [];
  const systemDefault = deviceList.find((device) => device.isDefault);
  const savedDevice = settings?.device ?? null;
  const savedMissing = savedDevice !== null && devices.isSuccess && !deviceList.some((device) => device.id === savedDevice);
  const chosenCredential = settings?.credential ?? null;
  const credentialMissing = chosenCredential !== null && !credentials.some((credential) => credential.id === chosenCredential);

  return (
    <SettingsSection id="voice" title="Voice" description="Dictate prompts with the mic button in the chat. The text lands in the prompt box; nothing is sent until you send it.">
      <div className="field field--wide">
        <label htmlFor="voice-device" className="field__label">
          Microphone
        </label>
        <div className="inline-row">
          <select
            id="voice-device"
            className="select"
            data-testid="voice-device"
            value={savedDevice ?? ""}
            disabled={busy}
            onChange={(event) => update({ device: event.target.value === "" ? null : event.target.value })}
          >
            <option value="">System default{systemDefault ? ` (${systemDefault.name})` : ""}</option>
            {deviceList
              .filter((device) => !device.isDefault)
              .map((device) => (
                <option key={device.id} value={device.id}>
                  {device.name}
                </option>
              ))}
            {savedMissing ? <option value={savedDevice}>{savedDevice} (not connected)</option> : null}
          </select>
          <Button className="button--small" onClick={() => void devices.refetch()} disabled={devices.isFetching}>
            {devices.isFetching ? "Looking…" : "Refresh"}
          </Button>
        </div>
        {/* Load-time problems are a status, not an alert: nothing the user just did failed. */}
        {devices.isError ? (
          <p className="field__error" role="status" data-testid="voice-devices-error">
            {devices.error.message}
          </p>
        ) : null}
        {savedMissing ? <p className="field__hint muted small">The chosen microphone is not connected; recording will fail until it is back or you pick another one.</p> : null}
      </div>

      <fieldset className="field field--wide fieldset">
        <legend className="field__label">Recording</legend>
        <label className="radio">
          <input type="radio" name="voice-mode" value="push_to_talk" checked={settings?.mode === "push_to_talk"} disabled={busy} onChange={() => update({ mode: "push_to_talk" })} />
          Push to talk: hold the mic button while you speak, or click it to start and again to stop
        </label>
        <label className="radio">
          <input type="radio" name="voice-mode" value="hands_free" checked={settings?.mode === "hands_free"} disabled={busy} onChange={() => update({ mode: "hands_free" })} />
          Hands-free: click the mic once; recording ends when you pause
        </label>
        {settings?.mode === "hands_free" ? (
          <div className="field field--nested">
            <label htmlFor="voice-pause" className="field__label">
              Pause that ends the recording
            </label>
            <select id="voice-pause" className="select" value={settings.silenceMs} disabled={busy} onChange={(event) => update({ silenceMs: Number(event.target.value) })}>
              {(PAUSES_MS.includes(settings.silenceMs) ? PAUSES_MS : [...PAUSES_MS, settings.silenceMs].sort((a, b) => a - b)).map((ms) => (
                <option key={ms} value={ms}>
                  {(ms / 1000).toLocaleString(undefined, { maximumFractionDigits: 1 })} s
                </option>
              ))}
            </select>
          </div>
        ) : null}
      </fieldset>

      <div className="field field--wide">
        <label htmlFor="voice-credential" className="field__label">
          Transcription service
        </label>
        <select
          id="voice-credential"
          className="select"
          data-testid="voice-credential"
          value={chosenCredential ?? ""}
          disabled={busy}
          aria-describedby="voice-credential-hint"
          onChange={(event) => update({ credential: event.target.value === "" ? null : event.target.value })}
        >
          <option value="">Automatic: the first OpenAI, OpenAI-compatible or Mistral credential</option>
          {credentials.map((credential) => (
            <option key={credential.id} value={credential.id}>
              {credential.label} — {KIND_LABELS[credential.kind] ?? credential.kind}
              {credential.active ? "" : " (deactivated)"}
            </option>
          ))}
          {credentialMissing ? <option value={chosenCredential}>A removed credential</option> : null}
        </select>
        <p id="voice-credential-hint" className="field__hint muted small">
          The recording is sent to this service when you stop, and only then. An OpenAI-compatible endpoint can be a Whisper server on your own machine.
        </p>
        {setup.isSuccess && credentials.length === 0 ? (
          <div className="inline-row" data-testid="voice-no-credential">
            <p className="small">No credential can transcribe yet. Add an OpenAI API key, an OpenAI-compatible endpoint or a Mistral API key.</p>
            <Button className="button--small" onClick={() => requestAddCredential("openai_api_key")}>
              Add a credential
            </Button>
          </div>
        ) : null}
      </div>

      <div className="inline-row">
        <div className="field">
          <label htmlFor="voice-model" className="field__label">
            Model
          </label>
          <input
            id="voice-model"
            className="input"
            value={model ?? settings?.model ?? ""}
            placeholder="The service's default"
            disabled={busy}
            onChange={(event) => setModel(event.target.value)}
            onBlur={() => commitText("model", model, () => setModel(null))}
            onKeyDown={(event) => event.key === "Enter" && commitText("model", model, () => setModel(null))}
          />
        </div>
        <div className="field">
          <label htmlFor="voice-language" className="field__label">
            Language
          </label>
          <input
            id="voice-language"
            className="input"
            value={language ?? settings?.language ?? ""}
            placeholder="Detected (or en, de, …)"
            disabled={busy}
            onChange={(event) => setLanguage(event.target.value)}
            onBlur={() => commitText("language", language, () => setLanguage(null))}
            onKeyDown={(event) => event.key === "Enter" && commitText("language", language, () => setLanguage(null))}
          />
        </div>
      </div>

      {setup.isError ? (
        <p className="field__error" role="status" data-testid="voice-load-error">
          Could not load the voice settings: {setup.error.message}
        </p>
      ) : null}
      {save.isError ? (
        <p className="field__error" role="alert" data-testid="voice-save-error">
          Could not save: {save.error.message}
        </p>
      ) : null}
    </SettingsSection>
  );
}

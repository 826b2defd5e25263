// Settings → Voice: which microphone, how recording ends, the push-to-talk shortcut, and what
// transcribes: a cloud service, or a speech model downloaded to this computer.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type KeyboardEvent } from "react";
import {
  voiceDevices,
  voiceModelCancel,
  voiceModelDelete,
  voiceModelDownload,
  voiceModels,
  voiceSettingsGet,
  voiceSettingsSet,
  VoiceIpcError,
  type CredentialKind,
  type VoiceModel,
  type VoiceModels,
  type VoiceSettings,
  type VoiceSetup,
} from "../shared/ipc";
import { isMac } from "../shared/platform";
import { useUiStore } from "../shared/store";
import { Button } from "../shared/ui";
import { SettingsSection } from "./SettingsSection";

const SETTINGS_KEY = ["voice", "settings"] as const;
const DEVICES_KEY = ["voice", "devices"] as const;
const MODELS_KEY = ["voice", "models"] as const;

/** Keep in sync with `DEFAULT_SHORTCUT` in src-tauri/src/voice.rs. */
export const DEFAULT_SHORTCUT = "CommandOrControl+Alt+Space";

/** The shortcut as this platform's keyboard labels it. */
export function formatShortcut(shortcut: string): string {
  const mac = isMac();
  return shortcut
    .split("+")
    .map((part) => {
      const token = part.trim();
      switch (token.toLowerCase()) {
        case "commandorcontrol":
        case "commandorctrl":
        case "cmdorctrl":
        case "cmdorcontrol":
          return mac ? "Cmd" : "Ctrl";
        case "control":
          return "Ctrl";
        case "option":
          return mac ? "Option" : "Alt";
        default:
          return token;
      }
    })
    .join("+");
}

/** The shortcut a key press makes (modifiers, then the key), or null for a lone modifier. */
export function shortcutFromKey(event: Pick<KeyboardEvent, "code" | "ctrlKey" | "altKey" | "shiftKey" | "metaKey">): string | null {
  const code = event.code;
  if (!code || /^(Control|Alt|Shift|Meta|OS)(Left|Right)?$/.test(code)) return null;
  const key = code.replace(/^Key(?=[A-Z]$)/, "").replace(/^Digit(?=\d$)/, "");
  const parts: string[] = [];
  if (event.ctrlKey) parts.push("Ctrl");
  if (event.altKey) parts.push("Alt");
  if (event.shiftKey) parts.push("Shift");
  if (event.metaKey) parts.push(isMac() ? "Cmd" : "Super");
  parts.push(key);
  return parts.join("+");
}

function megabytes(bytes: number): string {
  return `${Math.round(bytes / 1_000_000).toLocaleString()} MB`;
}

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
  const [shortcut, setShortcut] = useState<string | null>(null);
  const [capturing, setCapturing] = useState(false);

  const settings = setup.data?.settings;
  const credentials = setup.data?.credentials ?? [];
  const busy = !settings || save.isPending;

  function update(change: Partial<VoiceSettings>) {
    if (settings) save.mutate({ ...settings, ...change });
  }

  function commitText(field: "model" | "language" | "shortcut", text: string | null, reset: () => void) {
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
  const saveError = save.error instanceof VoiceIpcError ? save.error : null;
  const shortcutError = saveError && (saveError.code === "shortcut_invalid" || saveError.code === "shortcut_taken") ? saveError : null;
  const shortcutOn = settings ? settings.shortcut !== null : false;

  function onShortcutKey(event: KeyboardEvent<HTMLInputElement>) {
    if (capturing) {
      event.preventDefault();
      if (event.key === "Escape") {
        setCapturing(false);
        setShortcut(null);
        return;
      }
      const pressed = shortcutFromKey(event);
      if (pressed === null) return;
      setCapturing(false);
      commitText("shortcut", pressed, () => setShortcut(null));
      return;
    }
    if (event.key === "Enter") commitText("shortcut", shortcut, () => setShortcut(null));
  }

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

      <fieldset className="field field--wide fieldset" data-testid="voice-shortcut">
        <legend className="field__label">Push-to-talk shortcut</legend>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={shortcutOn}
            disabled={busy}
            onChange={(event) => update({ shortcut: event.target.checked ? DEFAULT_SHORTCUT : null })}
          />
          Dictate from anywhere: hold the shortcut to talk into the open chat, release to transcribe
        </label>
        {settings && settings.shortcut !== null ? (
          <div className="field field--nested">
            <label htmlFor="voice-shortcut-keys" className="field__label">
              Keys
            </label>
            <div className="inline-row">
              <input
                id="voice-shortcut-keys"
                className="input"
                value={capturing ? "Press the keys…" : (shortcut ?? formatShortcut(settings.shortcut))}
                readOnly={capturing}
                disabled={busy}
                aria-describedby="voice-shortcut-hint"
                aria-invalid={shortcutError ? true : undefined}
                onChange={(event) => setShortcut(event.target.value)}
                onBlur={() => {
                  setCapturing(false);
                  commitText("shortcut", shortcut, () => setShortcut(null));
                }}
                onKeyDown={onShortcutKey}
              />
              <Button
                className="button--small"
                disabled={busy}
                onMouseDown={(event) => event.preventDefault()}
                onClick={() => {
                  setCapturing(true);
                  document.getElementById("voice-shortcut-keys")?.focus();
                }}
              >
                Record keys
              </Button>
              {settings.shortcut !== DEFAULT_SHORTCUT ? (
                <Button className="button--small" disabled={busy} onClick={() => update({ shortcut: DEFAULT_SHORTCUT })}>
                  Reset to {formatShortcut(DEFAULT_SHORTCUT)}
                </Button>
              ) : null}
            </div>
            <p id="voice-shortcut-hint" className="field__hint muted small">
              Type it (for example Ctrl+Alt+Space or Shift+F9) or press Record keys and then the keys. A tap starts dictation and a second tap ends it. On Wayland desktops the shortcut may only work while an X11 window has the focus.
            </p>
            {shortcutError ? (
              <p className="field__error" role="alert" data-testid="voice-shortcut-error">
                {shortcutError.message}
              </p>
            ) : setup.data?.shortcutProblem ? (
              <p className="field__error" role="status" data-testid="voice-shortcut-problem">
                {setup.data.shortcutProblem}
              </p>
            ) : null}
          </div>
        ) : null}
      </fieldset>

      <fieldset className="field field--wide fieldset">
        <legend className="field__label">Transcription</legend>
        <label className="radio">
          <input type="radio" name="voice-engine" value="cloud" checked={settings?.engine === "cloud"} disabled={busy} onChange={() => update({ engine: "cloud" })} />
          Cloud (OpenAI-compatible): the recording is sent to a transcription service
        </label>
        <label className="radio">
          <input type="radio" name="voice-engine" value="local" checked={settings?.engine === "local"} disabled={busy} onChange={() => update({ engine: "local" })} />
          On this computer: a speech model you download once; no audio leaves the computer
        </label>
      </fieldset>

      {settings?.engine === "local" ? <LocalModels settings={settings} onChoose={(id) => update({ localModel: id })} disabled={busy} /> : null}

      {settings?.engine !== "local" ? (
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

      ) : null}

      <div className="inline-row">
        {settings?.engine !== "local" ? (
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
        ) : null}
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
      {save.isError && !shortcutError ? (
        <p className="field__error" role="alert" data-testid="voice-save-error">
          Could not save: {save.error.message}
        </p>
      ) : null}
    </SettingsSection>
  );
}

type Download = { downloaded: number; total: number };

/** The catalogue of speech models: choose one, download it (with progress, cancellable) or
 * delete it. */
function LocalModels({ settings, onChoose, disabled }: { settings: VoiceSettings; onChoose: (id: string) => void; disabled: boolean }) {
  const client = useQueryClient();
  const models = useQuery({ queryKey: MODELS_KEY, queryFn: () => voiceModels() });
  const [progress, setProgress] = useState<Record<string, Download>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});

  function setModels(next: VoiceModels) {
    client.setQueryData(MODELS_KEY, next);
  }

  function download(model: VoiceModel) {
    setErrors(({ [model.id]: _dropped, ...rest }) => rest);
    setProgress((all) => ({ ...all, [model.id]: { downloaded: 0, total: model.sizeBytes } }));
    voiceModelDownload(model.id, (p) => setProgress((all) => ({ ...all, [model.id]: { downloaded: p.downloadedBytes, total: p.totalBytes } }))).then(
      (next) => {
        setModels(next);
        if (settings.localModel === null) onChoose(model.id);
      },
      (reason: unknown) => {
        if (!(reason instanceof VoiceIpcError && reason.code === "cancelled")) {
          setErrors((all) => ({ ...all, [model.id]: reason instanceof Error ? reason.message : String(reason) }));
        }
        void models.refetch();
      },
    ).finally(() => setProgress(({ [model.id]: _done, ...rest }) => rest));
  }

  function remove(model: VoiceModel) {
    voiceModelDelete(model.id).then(setModels, (reason: unknown) =>
      setErrors((all) => ({ ...all, [model.id]: reason instanceof Error ? reason.message : String(reason) })),
    );
  }

  if (models.isError) {
    return (
      <p className="field__error" role="status" data-testid="voice-models-error">
        Could not list the speech models: {models.error.message}
      </p>
    );
  }
  if (!models.data) return null;
  if (!models.data.onDeviceAvailable) {
    return <p className="small">This build cannot transcribe on this computer. Choose the cloud instead.</p>;
  }
  const chosen = settings.localModel;
  const chosenModel = models.data.models.find((m) => m.id === chosen);
  return (
    <fieldset className="field field--wide fieldset" data-testid="voice-models">
      <legend className="field__label">Speech model</legend>
      {models.data.models.map((model) => {
        const running = progress[model.id] ?? (model.downloading ? { downloaded: 0, total: model.sizeBytes } : undefined);
        const error = errors[model.id];
        return (
          <div key={model.id} className="voice-model" data-testid={`voice-model-${model.id}`}>
            <div className="inline-row">
              <label className="radio">
                <input type="radio" name="voice-local-model" value={model.id} checked={chosen === model.id} disabled={disabled} onChange={() => onChoose(model.id)} />
                {model.id} — {model.description}
                {model.installed ? <span className="muted small"> (downloaded)</span> : null}
              </label>
              {running ? (
                <Button className="button--small" onClick={() => void voiceModelCancel(model.id)}>
                  Cancel download
                </Button>
              ) : model.installed ? (
                <Button className="button--small" onClick={() => remove(model)} aria-label={`Delete ${model.id}`}>
                  Delete
                </Button>
              ) : (
                <Button className="button--small" onClick={() => download(model)} aria-label={`Download ${model.id} (${megabytes(model.sizeBytes)})`}>
                  Download ({megabytes(model.sizeBytes)})
                </Button>
              )}
            </div>
            {running ? (
              <progress
                className="progress"
                max={running.total || 1}
                value={running.downloaded}
                aria-label={`Downloading ${model.id}`}
                data-testid={`voice-model-progress-${model.id}`}
              />
            ) : null}
            {error ? (
              <p className="field__error" role="alert">
                {error}
              </p>
            ) : null}
          </div>
        );
      })}
      {chosen !== null && chosenModel && !chosenModel.installed && !progress[chosen] ? (
        <p className="field__hint small" data-testid="voice-model-not-downloaded">
          {chosen} is not downloaded yet: download it before dictating.
        </p>
      ) : null}
      <p className="field__hint muted small">Models are checked against their published checksum and kept in SAM&apos;s data folder.</p>
    </fieldset>
  );
}

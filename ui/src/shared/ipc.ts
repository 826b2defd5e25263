// The only module that talks to the Rust core. Everything else in the UI
// calls these plain async functions: they resolve with the data or throw an
// IpcError. No other module imports bindings.ts or @tauri-apps/api.
import { isTauri } from "@tauri-apps/api/core";
import { commands, type ApiError, type ErrorCode } from "../bindings";
import type {
  AppInfo_Serialize,
  IdlePolicy,
  CloudLocation,
  CloudSize_Serialize,
  CredentialKind,
  EditorChoice,
  CredentialSummary_Serialize,
  DatabaseStatus_Serialize,
  DoctorCheck_Serialize,
  DoctorReport_Serialize,
  KindInfo,
  NewCredential,
  Preferences,
  Provider,
  StepTiming_Serialize,
  Workspace_Serialize,
  WorkspaceSpec_Deserialize,
  WorkspaceSpec_Serialize,
} from "../bindings";

// tauri-specta emits a `_Serialize` and a `_Deserialize` shape for types that could travel
// both ways; the UI only ever receives these, so it sees what Rust serialises.
export type AppInfo = AppInfo_Serialize;
export type DatabaseStatus = DatabaseStatus_Serialize;
export type DoctorCheck = DoctorCheck_Serialize;
export type DoctorReport = DoctorReport_Serialize;
export type CredentialSummary = CredentialSummary_Serialize;
export type Workspace = Workspace_Serialize;
export type WorkspaceSpec = WorkspaceSpec_Serialize;
export type StepTiming = StepTiming_Serialize;
export type CloudSize = CloudSize_Serialize;
/** What createWorkspace sends: a WorkspaceSpec whose optional parts may be left out. */
export type NewWorkspace = WorkspaceSpec_Deserialize;
export type {
  ApiError,
  CheckState,
  IdlePolicy,
  WorkspaceLaunch,
  CloudLocation,
  Cost,
  CheckStatus,
  CredentialGroup,
  CredentialKind,
  CredentialScope,
  ErrorCode,
  KindField,
  KindInfo,
  Lifecycle,
  NewCredential,
  Preferences,
  Provider,
  Repo,
  ThemePreference,
} from "../bindings";

type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

// A Record (not an array) so that a code added on the Rust side fails the
// type check here until the UI knows about it.
const ERROR_CODES: Record<ErrorCode, true> = {
  internal: true,
  invalid_input: true,
  not_found: true,
  database: true,
  unavailable: true,
  io: true,
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}

export class IpcError extends Error {
  override name = "IpcError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

function isApiError(value: unknown): value is ApiError {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as { code?: unknown; message?: unknown };
  return isErrorCode(candidate.code) && typeof candidate.message === "string";
}

/** Turns anything a command can reject with into an IpcError. */
export function toIpcError(value: unknown): IpcError {
  if (value instanceof IpcError) return value;
  if (isApiError(value)) return new IpcError(value.code, value.message);
  if (value instanceof Error) {
    // invoke() itself throws (rather than rejecting with an ApiError) when the
    // page is not running inside the desktop app, e.g. `vite dev` in a browser.
    if (!isTauri()) {
      return new IpcError("unavailable", "SAM's core is not reachable: this page is not running inside SAM Desktop.");
    }
    return new IpcError("internal", value.message);
  }
  // Tauri rejects with a bare string for unknown commands or bad arguments.
  if (typeof value === "string" && value.length > 0) return new IpcError("internal", value);
  return new IpcError("internal", "Unexpected response from SAM's core.");
}

async function call<T>(command: () => Promise<Result<T, ApiError>>): Promise<T> {
  let result: Result<T, ApiError>;
  try {
    result = await command();
  } catch (error) {
    throw toIpcError(error);
  }
  if (result.status === "error") throw toIpcError(result.error);
  return result.data;
}

export function getAppInfo(): Promise<AppInfo> {
  return call(() => commands.appInfo());
}

export function runDoctor(): Promise<DoctorReport> {
  return call(() => commands.doctor());
}

export function getPreferences(): Promise<Preferences> {
  return call(() => commands.getPreferences());
}

export function setPreferences(preferences: Preferences): Promise<Preferences> {
  return call(() => commands.setPreferences(preferences));
}

export async function sendTestNotification(): Promise<void> {
  await call(() => commands.sendTestNotification());
}

// Credentials. A secret crosses IPC once, inside addCredential's input; everything that comes
// back carries only a masked form.

export function getCredentialKinds(): Promise<KindInfo[]> {
  return call(() => commands.credentialKinds());
}

export function listCredentials(): Promise<CredentialSummary[]> {
  return call(() => commands.listCredentials());
}

/** Rust validates the format, stores the secret in the keyring and checks it with the provider. */
export function addCredential(input: NewCredential): Promise<CredentialSummary> {
  return call(() => commands.addCredential(input));
}

export function checkCredential(id: string): Promise<CredentialSummary> {
  return call(() => commands.checkCredential(id));
}

export function renameCredential(id: string, label: string): Promise<CredentialSummary> {
  return call(() => commands.renameCredential(id, label));
}

export function setCredentialActive(id: string, active: boolean): Promise<CredentialSummary> {
  return call(() => commands.setCredentialActive(id, active));
}

export async function removeCredential(id: string): Promise<void> {
  await call(() => commands.removeCredential(id));
}

/** The shell opens the provider's page in the browser; the webview never opens URLs itself. */
export async function openConsole(kind: CredentialKind): Promise<void> {
  await call(() => commands.openConsole(kind));
}

// Workspaces. Creating and retrying return at once and provision in the background: follow
// progress with getWorkspace (its steps and timings are in SAM's database).

export function listWorkspaces(): Promise<Workspace[]> {
  return call(() => commands.listWorkspaces());
}

export function getWorkspace(id: string): Promise<Workspace> {
  return call(() => commands.getWorkspace(id));
}

/** Rust validates the spec and records the workspace (Requested), then provisions it. */
export function createWorkspace(spec: NewWorkspace): Promise<Workspace> {
  return call(() => commands.createWorkspace(spec));
}

export function retryWorkspace(id: string): Promise<Workspace> {
  return call(() => commands.retryWorkspace(id));
}

/** Deletes the workspace (and a cloud workspace's server); its chat history stays. */
export function deleteWorkspace(id: string): Promise<Workspace> {
  return call(() => commands.deleteWorkspace(id));
}

export function getCloudLocations(provider: Provider): Promise<CloudLocation[]> {
  return call(() => commands.cloudLocations(provider));
}

/** The sizes sold in `location`, cheapest first, with that location's live prices. */
export function getCloudSizes(provider: Provider, location: string): Promise<CloudSize[]> {
  return call(() => commands.cloudSizes(provider, location));
}

/** Tells the core the shell has rendered (start-up benchmarks). Never throws. */
export async function notifyUiReady(): Promise<void> {
  try {
    await commands.uiReady();
  } catch {
    // Deliberately ignored: only used for timing.
  }
}

// Agent chat. Events travel in bounded pages; the live stream is a long poll that returns as
// soon as the core stored new events (see chat_wait_events), so a fast agent never floods the
// webview.
export function chatAgents() {
  return call(() => commands.chatAgents());
}

export function chatSessions(workspaceId: string | null) {
  return call(() => commands.chatSessions(workspaceId));
}

export function chatEvents(sessionId: string, afterSeq: number, limit: number) {
  return call(() => commands.chatEvents(sessionId, afterSeq, limit));
}

export function chatWaitEvents(sessionId: string, afterSeq: number, limit: number, timeoutMs: number) {
  return call(() => commands.chatWaitEvents(sessionId, afterSeq, limit, timeoutMs));
}

export function chatSend(input: {
  workspace_id: string;
  session_id: string | null;
  agent: string | null;
  agent_command: string | null;
  text: string;
}) {
  return call(() => commands.chatSend(input));
}

export async function chatCancel(sessionId: string): Promise<void> {
  await call(() => commands.chatCancel(sessionId));
}

export async function chatAnswer(sessionId: string, request: number, optionId: string): Promise<void> {
  await call(() => commands.chatAnswer(sessionId, request, optionId));
}

export function chatFork(sessionId: string, atSeq: number, workspaceId: string | null = null) {
  return call(() => commands.chatFork(sessionId, atSeq, workspaceId));
}

export function chatRestart(sessionId: string) {
  return call(() => commands.chatRestart(sessionId));
}

export function chatSearch(query: string) {
  return call(() => commands.chatSearch(query));
}

// A workspace's files: which mentioned paths exist, opening one in the user's editor (the Rust
// side confines the path to the workspace and launches by argv), go to file, the quick view.
export function filesResolve(workspaceId: string, paths: string[]) {
  return call(() => commands.filesResolve(workspaceId, paths));
}

export function filesOpen(workspaceId: string, path: string, line: number | null, column: number | null) {
  return call(() => commands.filesOpen(workspaceId, path, line, column));
}

export function filesFind(workspaceId: string, query: string, limit: number) {
  return call(() => commands.filesFind(workspaceId, query, limit));
}

export function filesQuickView(workspaceId: string, path: string) {
  return call(() => commands.filesQuickView(workspaceId, path));
}

export function editorGet() {
  return call(() => commands.editorGet());
}

export function editorSet(choice: EditorChoice) {
  return call(() => commands.editorSet(choice));
}

// The "needs you" queue across workspaces (a long poll like the chat stream), which chat is on
// screen (no notification for it), and do-not-disturb.
export function attentionWait(afterRevision: number, timeoutMs: number) {
  return call(() => commands.attentionWait(afterRevision, timeoutMs));
}

export async function attentionSetView(sessionId: string | null): Promise<void> {
  await call(() => commands.attentionSetView(sessionId));
}

export async function attentionSetDnd(on: boolean): Promise<void> {
  await call(() => commands.attentionSetDnd(on));
}

/** Quits the app; with `deleteCloud`, every cloud workspace is deleted first (the app stays open if one cannot be). */
export async function appQuit(deleteCloud: boolean): Promise<void> {
  await call(() => commands.appQuit(deleteCloud));
}

// Voice input. Recording runs in the core; its live level (~60 messages a second at most) and
// events come back on a Channel, not as app events. Voice commands fail with their own closed
// set of codes (VoiceErrorCode: no_microphone, no_credential, …), as a VoiceIpcError.
import { Channel } from "@tauri-apps/api/core";
import type {
  VoiceApiError,
  VoiceDevice,
  VoiceDownloadProgress,
  VoiceEngine,
  VoiceErrorCode,
  VoiceLevel,
  VoiceMode,
  VoiceModel,
  VoiceModels,
  VoiceSettings_Serialize,
  VoiceSetup_Serialize,
  VoiceShortcutSignal,
  VoiceSignal,
  VoiceStarted_Serialize,
  VoiceTranscript,
} from "../bindings";

export type { VoiceDevice, VoiceDownloadProgress, VoiceEngine, VoiceErrorCode, VoiceLevel, VoiceMode, VoiceModel, VoiceModels, VoiceShortcutSignal, VoiceSignal, VoiceTranscript };
export type VoiceSettings = VoiceSettings_Serialize;
export type VoiceSetup = VoiceSetup_Serialize;
export type VoiceStarted = VoiceStarted_Serialize;

const VOICE_ERROR_CODES: Record<VoiceErrorCode, true> = {
  no_microphone: true,
  device_not_found: true,
  permission_denied: true,
  device_busy: true,
  device_lost: true,
  audio_error: true,
  no_speech: true,
  no_credential: true,
  credential_unavailable: true,
  auth_failed: true,
  rate_limited: true,
  transcription_failed: true,
  too_large: true,
  timeout: true,
  network: true,
  busy: true,
  not_recording: true,
  cancelled: true,
  invalid_input: true,
  database: true,
  internal: true,
  model_missing: true,
  model_unreadable: true,
  local_model_failed: true,
  local_unavailable: true,
  download_failed: true,
  checksum_mismatch: true,
  shortcut_invalid: true,
  shortcut_taken: true,
  io: true,
};

export class VoiceIpcError extends Error {
  override name = "VoiceIpcError";
  readonly code: VoiceErrorCode;

  constructor(code: VoiceErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

function toVoiceError(value: unknown): VoiceIpcError {
  if (value instanceof VoiceIpcError) return value;
  if (typeof value === "object" && value !== null) {
    const candidate = value as { code?: unknown; message?: unknown };
    if (typeof candidate.code === "string" && Object.hasOwn(VOICE_ERROR_CODES, candidate.code) && typeof candidate.message === "string") {
      return new VoiceIpcError(candidate.code as VoiceErrorCode, candidate.message);
    }
  }
  const general = toIpcError(value);
  return new VoiceIpcError(general.code === "database" ? "database" : "internal", general.message);
}

async function callVoice<T>(command: () => Promise<Result<T, VoiceApiError>>): Promise<T> {
  let result: Result<T, VoiceApiError>;
  try {
    result = await command();
  } catch (error) {
    throw toVoiceError(error);
  }
  if (result.status === "error") throw toVoiceError(result.error);
  return result.data;
}

export function voiceDevices(): Promise<VoiceDevice[]> {
  return callVoice(() => commands.voiceDevices());
}

/** Starts recording (`null`: the mode and microphone from the settings); `onSignal` gets the
 * live level and events until the recording ends. Resolves once sound flows. */
export function voiceStart(mode: VoiceMode | null, device: string | null, onSignal: (signal: VoiceSignal) => void): Promise<VoiceStarted> {
  const signals = new Channel<VoiceSignal>();
  signals.onmessage = onSignal;
  return callVoice(() => commands.voiceStart(mode, device, signals));
}

/** Stops recording and transcribes. The text is for the composer; nothing is sent. */
export function voiceStop(): Promise<VoiceTranscript> {
  return callVoice(() => commands.voiceStop());
}

export async function voiceCancel(): Promise<void> {
  await callVoice(() => commands.voiceCancel());
}

export function voiceSettingsGet(): Promise<VoiceSetup> {
  return callVoice(() => commands.voiceSettingsGet());
}

export function voiceSettingsSet(settings: VoiceSettings): Promise<VoiceSetup> {
  return callVoice(() => commands.voiceSettingsSet(settings));
}

/** Subscribes to the global push-to-talk shortcut (registered by the core): `onSignal` gets
 * its presses and releases until the page subscribes again. */
export async function voiceShortcutListen(onSignal: (signal: VoiceShortcutSignal) => void): Promise<void> {
  const signals = new Channel<VoiceShortcutSignal>();
  signals.onmessage = onSignal;
  await callVoice(() => commands.voiceShortcutListen(signals));
}

export function voiceModels(): Promise<VoiceModels> {
  return callVoice(() => commands.voiceModels());
}

/** Downloads a speech model (checksum checked); resolves with the updated list. */
export function voiceModelDownload(id: string, onProgress: (progress: VoiceDownloadProgress) => void): Promise<VoiceModels> {
  const progress = new Channel<VoiceDownloadProgress>();
  progress.onmessage = onProgress;
  return callVoice(() => commands.voiceModelDownload(id, progress));
}

export async function voiceModelCancel(id: string): Promise<void> {
  await callVoice(() => commands.voiceModelCancel(id));
}

export function voiceModelDelete(id: string): Promise<VoiceModels> {
  return callVoice(() => commands.voiceModelDelete(id));
}

// Remote editing: a cloud workspace's files open on the workspace in the editor's remote mode.
export function remoteEditingGet() {
  return call(() => commands.remoteEditingGet());
}

export function remoteEditingSet(on: boolean) {
  return call(() => commands.remoteEditingSet(on));
}

// Servers SAM made that no workspace owns (found by the periodic reconcile).
export function orphansGet() {
  return call(() => commands.orphansGet());
}

export function orphansReconcile(deleteThem: boolean, deleteAutomatically: boolean | null) {
  return call(() => commands.orphansReconcile(deleteThem, deleteAutomatically));
}

// Review and ship: the workspace's changes, one file's diff, and shipping them.
export function changesGet(workspaceId: string) {
  return call(() => commands.changesGet(workspaceId));
}

export function changesFileDiff(workspaceId: string, path: string, oldPath: string | null, turn: { sessionId: string; prompt: number } | null = null) {
  return call(() => commands.changesFileDiff(workspaceId, path, oldPath, turn?.sessionId ?? null, turn?.prompt ?? null));
}

// Waits (up to 20 s) until the workspace's checkout changes; the counter to pass next time.
export function changesWait(workspaceId: string, after: number) {
  return call(() => commands.changesWait(workspaceId, after));
}

export function changesShip(workspaceId: string, message: string, branch: string | null, pullRequest: boolean, sessionId: string | null) {
  return call(() => commands.changesShip(workspaceId, message, branch, pullRequest, sessionId));
}

// A commit message drafted from the chat (the workspace's newest session without one).
export function changesDraftMessage(workspaceId: string, sessionId: string | null) {
  return call(() => commands.changesDraftMessage(workspaceId, sessionId));
}

// Where a shipped pull request stands now: open, closed or merged.
export function changesPullRequestState(url: string) {
  return call(() => commands.changesPullRequestState(url));
}

// Per-turn attribution: the files one agent turn changed, and putting them back.
export function changesTurn(workspaceId: string, sessionId: string, prompt: number) {
  return call(() => commands.changesTurn(workspaceId, sessionId, prompt));
}

export function changesRevertTurn(workspaceId: string, sessionId: string, prompt: number) {
  return call(() => commands.changesRevertTurn(workspaceId, sessionId, prompt));
}

// The optional monthly budget for cloud workspaces.
export function budgetGet() {
  return call(() => commands.budgetGet());
}

export function budgetSet(limit: number | null) {
  return call(() => commands.budgetSet(limit));
}

// The idle policy's thresholds for cloud workspaces (delete after, warn before, max lifetime).
export function idlePolicyGet() {
  return call(() => commands.idlePolicyGet());
}

export function idlePolicySet(thresholds: IdlePolicy) {
  return call(() => commands.idlePolicySet(thresholds));
}

// A workspace in the user's own tools: a terminal there, VS Code on its folder.
export function workspaceOpenTerminal(id: string) {
  return call(() => commands.workspaceOpenTerminal(id));
}

export function workspaceOpenVscode(id: string) {
  return call(() => commands.workspaceOpenVscode(id));
}

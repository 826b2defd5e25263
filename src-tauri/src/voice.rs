//! Voice input commands: microphones, recording (push-to-talk or hands-free) with a live level
//! stream, transcription into the composer, and the voice settings.
//!
//! Capture runs on `sam-voice`'s own thread; a second plain thread forwards its level frames
//! to the webview through a [`Channel`], coalesced to at most ~60 messages a second, so neither
//! the async runtime nor the webview ever waits on audio. The transcript is returned to the
//! caller (the composer) and is never sent to an agent from here. The transcription key comes
//! from the vault (or `SAM_TRANSCRIBE_API_KEY`, like `sam voice`, sent to OpenAI or to
//! `SAM_TRANSCRIBE_BASE_URL`), is used for one request and never appears in an answer, an error
//! or a log line.
//!
//! Transcription runs in the cloud or on this computer (whisper.cpp, with a model from
//! `sam-voice`'s catalogue that is downloaded into the app-data folder only when the user asks).
//! The global push-to-talk shortcut is registered here, from Rust; its presses and releases go
//! to the composer on a channel it subscribes with, so the composer records exactly as if its
//! mic button had been held.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sam_core::ApiError;
use sam_secrets::{CredentialKind, CredentialMaterial, CredentialScope, Vault, VaultError};
use sam_store::Store;
use sam_voice::models::{DownloadProgress, ModelDownloader, ModelSpec};
use sam_voice::{
    ApiKey, AudioInput, HandsFree, LevelFrame, LocalWhisper, Mode, OpenAiCompatible, OpenAiConfig,
    Recorder, RecorderHandle, TranscribeOptions, Transcriber, Utterance, UtteranceEvent,
    VoiceError,
};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_global_shortcut::{Code, GlobalShortcutExt, Shortcut, ShortcutState};

use crate::state::AppState;

type Shared<'a> = State<'a, Arc<AppState>>;
type Voice<'a> = State<'a, Arc<VoiceInput>>;

/// The settings key of [`VoiceSettings`] (JSON).
const VOICE_SETTING: &str = "voice";

/// The environment variable with a transcription API key (scripts and tests; the vault is the
/// normal place). The same one `sam voice` reads.
pub const API_KEY_ENV: &str = "SAM_TRANSCRIBE_API_KEY";
/// The environment variable with the endpoint `SAM_TRANSCRIBE_API_KEY` is sent to (tests, a
/// self-hosted server): an OpenAI-compatible base URL such as `http://127.0.0.1:9000/v1`.
/// Set without the key, it names a server that needs none; no vault key is ever sent to it.
pub const BASE_URL_ENV: &str = "SAM_TRANSCRIBE_BASE_URL";

/// OpenAI's endpoint: the default service.
const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
const MISTRAL_BASE_URL: &str = "https://api.mistral.ai/v1";
const OPENAI_MODEL: &str = "whisper-1";
const MISTRAL_MODEL: &str = "voxtral-mini-latest";

/// Credential kinds that can transcribe, in the order "automatic" tries them.
const TRANSCRIPTION_KINDS: [CredentialKind; 3] = [
    CredentialKind::OpenaiApiKey,
    CredentialKind::OpenaiCompatible,
    CredentialKind::MistralApiKey,
];

/// At most one level message per this interval (≈60 a second); frames in between are merged.
const LEVEL_INTERVAL: Duration = Duration::from_millis(15);
/// Hands-free gives up when nobody speaks this long.
const NO_SPEECH_TIMEOUT_MS: u32 = 10_000;
/// The range of the hands-free pause setting.
const SILENCE_MS_RANGE: std::ops::RangeInclusive<u32> = 300..=5_000;
/// The push-to-talk shortcut until the user picks another: Ctrl+Alt+Space (⌘⌥Space on macOS),
/// which no common desktop or editor binds.
pub const DEFAULT_SHORTCUT: &str = "CommandOrControl+Alt+Space";

// --- IPC types ------------------------------------------------------------------------------

/// How recording ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum VoiceMode {
    /// Recording lasts while the mic button is held (or until it is clicked again).
    #[default]
    PushToTalk,
    /// Recording ends by itself when the speaker pauses.
    HandsFree,
}

/// Where speech becomes text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum VoiceEngine {
    /// An OpenAI-compatible service (the credential setting picks which).
    #[default]
    Cloud,
    /// whisper.cpp on this computer, with the downloaded `local_model`.
    Local,
}

/// Settings → Voice. Empty strings mean "not set".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct VoiceSettings {
    /// A microphone id from `voice_devices`; `None` for the system's default.
    pub device: Option<String>,
    pub mode: VoiceMode,
    /// Hands-free: the pause that ends an utterance, 300 to 5000 ms.
    pub silence_ms: u32,
    /// The credential (id) transcription uses; `None`: the first OpenAI, OpenAI-compatible or
    /// Mistral credential.
    pub credential: Option<String>,
    /// The transcription model; `None`: the service's default (whisper-1; Mistral: voxtral).
    pub model: Option<String>,
    /// The spoken language (ISO-639-1, e.g. `en`); `None`: detected.
    pub language: Option<String>,
    pub engine: VoiceEngine,
    /// On this computer: a model id from `voice_models` (`base.en`, …); `None`: none chosen.
    pub local_model: Option<String>,
    /// The global push-to-talk shortcut (`CommandOrControl+Alt+Space`, `Shift+F9`); `None`:
    /// off. Unset in stored settings means [`DEFAULT_SHORTCUT`].
    pub shortcut: Option<String>,
}

impl Default for VoiceSettings {
    fn default() -> Self {
        Self {
            device: None,
            mode: VoiceMode::PushToTalk,
            silence_ms: HandsFree::default().silence_ms,
            credential: None,
            model: None,
            language: None,
            engine: VoiceEngine::Cloud,
            local_model: None,
            shortcut: Some(DEFAULT_SHORTCUT.to_owned()),
        }
    }
}

/// A credential that can transcribe (no secret, not even masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptionCredential {
    pub id: String,
    pub label: String,
    pub kind: CredentialKind,
    pub active: bool,
}

/// The voice settings and the credentials they can pick from.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct VoiceSetup {
    pub settings: VoiceSettings,
    pub credentials: Vec<TranscriptionCredential>,
    /// Why the saved shortcut is not active (the desktop refused it at start-up), if it is not.
    pub shortcut_problem: Option<String>,
}

/// A speech model from the catalogue, for Settings → Voice.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct VoiceModel {
    /// Pass back as `id`; also the `localModel` setting.
    pub id: String,
    pub description: String,
    /// The catalogue's largest model is under 500 MB, far below `u32::MAX`.
    pub size_bytes: u32,
    /// Downloaded and checked.
    pub installed: bool,
    /// A download of it runs.
    pub downloading: bool,
}

/// The catalogue, and whether this build can use it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct VoiceModels {
    /// This build transcribes on the device (whisper.cpp is compiled in).
    pub on_device_available: bool,
    pub models: Vec<VoiceModel>,
}

/// How far a model download is, on the channel passed to `voice_model_download`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct VoiceDownloadProgress {
    pub downloaded_bytes: u32,
    pub total_bytes: u32,
}

/// The global shortcut went down or up (on the channel passed to `voice_shortcut_listen`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VoiceShortcutSignal {
    Pressed,
    Released,
}

/// A microphone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct VoiceDevice {
    /// Pass back as `device`.
    pub id: String,
    pub name: String,
    pub is_default: bool,
}

/// A recording that started.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct VoiceStarted {
    /// The microphone that records.
    pub device_name: String,
    pub mode: VoiceMode,
    /// The chosen microphone that is not connected, so the system default records instead.
    /// Set the first time this happens for that microphone while the app runs (tell the user
    /// once), absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_device: Option<String>,
}

/// What `voice_stop` hands the composer.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct VoiceTranscript {
    pub text: String,
    /// Length of the recording that was sent.
    pub duration_ms: u32,
}

/// One level snapshot for a meter or the fluid, all values 0..1.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct VoiceLevel {
    /// Loudness: -60 dBFS → 0, -10 dBFS → 1.
    pub level: f32,
    /// Energy in 8 bands, 80 Hz to 8 kHz, low to high.
    pub bands: Vec<f32>,
    /// Brightness: the spectral centroid, 100 Hz → 0 to 4 kHz → 1 (0.5 in silence).
    pub centroid: f32,
    /// A syllable or plosive started since the last message.
    pub onset: bool,
}

/// What a recording reports while it runs, on the channel passed to `voice_start`.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VoiceSignal {
    /// Sound arrives from the microphone (some sound servers take a second after opening).
    Listening,
    Level(VoiceLevel),
    /// The voice-activity detector heard speech begin.
    SpeechStarted,
    /// Three seconds of exact digital silence: muted, or blocked by the system.
    InputSilent,
    /// The recording ended by itself (hands-free pause, nobody spoke, the device went away):
    /// call `voice_stop` for the transcript or the reason.
    Ended,
}

/// Why a voice command failed: `code` to switch on, `message` for the user (what to do next).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct VoiceApiError {
    pub code: VoiceErrorCode,
    pub message: String,
}

/// The closed set of voice error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum VoiceErrorCode {
    NoMicrophone,
    DeviceNotFound,
    PermissionDenied,
    DeviceBusy,
    /// Unplugged (or the sound system stopped) mid-recording.
    DeviceLost,
    AudioError,
    NoSpeech,
    /// No transcription credential is configured (or the chosen one is gone).
    NoCredential,
    /// The vault could not give the credential (keyring locked, secret missing, …).
    CredentialUnavailable,
    AuthFailed,
    RateLimited,
    TranscriptionFailed,
    TooLarge,
    Timeout,
    Network,
    /// Another recording is running.
    Busy,
    /// `voice_stop` without a recording.
    NotRecording,
    Cancelled,
    InvalidInput,
    Database,
    Internal,
    /// On this computer: no model chosen, or the chosen one is not downloaded.
    ModelMissing,
    /// The model file is there but cannot be loaded (damaged, not a whisper.cpp model).
    ModelUnreadable,
    /// whisper.cpp failed while transcribing.
    LocalModelFailed,
    /// This build cannot transcribe on the device.
    LocalUnavailable,
    /// The model download failed (network, HTTP status, truncated).
    DownloadFailed,
    /// The downloaded model was not the expected file; it was deleted.
    ChecksumMismatch,
    /// The shortcut text is not a shortcut (or one that would take a plain key).
    ShortcutInvalid,
    /// The desktop refused the shortcut: another program has it.
    ShortcutTaken,
    /// A file could not be read, written or deleted.
    Io,
}

impl VoiceApiError {
    fn new(code: VoiceErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    fn no_credential() -> Self {
        Self::new(
            VoiceErrorCode::NoCredential,
            "No transcription credential is set up. Add an OpenAI API key, an OpenAI-compatible endpoint (for example a local Whisper server) or a Mistral API key in Settings → Credentials.",
        )
    }
}

impl From<VoiceError> for VoiceApiError {
    fn from(error: VoiceError) -> Self {
        use VoiceErrorCode as C;
        let code = match &error {
            VoiceError::NoMicrophone => C::NoMicrophone,
            VoiceError::DeviceNotFound(name) => {
                return Self::new(
                    C::DeviceNotFound,
                    format!(
                        "The microphone \"{name}\" is not connected. Plug it in, or pick another one in Settings → Voice."
                    ),
                );
            }
            VoiceError::PermissionDenied => C::PermissionDenied,
            VoiceError::DeviceBusy => C::DeviceBusy,
            VoiceError::DeviceLost => C::DeviceLost,
            VoiceError::Audio(_) => C::AudioError,
            VoiceError::NoSpeech => C::NoSpeech,
            VoiceError::TooLarge { .. } => C::TooLarge,
            VoiceError::AuthFailed(_) => C::AuthFailed,
            VoiceError::RateLimited { .. } => C::RateLimited,
            VoiceError::TranscriptionFailed { .. } | VoiceError::UnsupportedAudio(_) => {
                C::TranscriptionFailed
            }
            VoiceError::Timeout(_) => C::Timeout,
            VoiceError::Network(_) => C::Network,
            VoiceError::Cancelled => C::Cancelled,
            VoiceError::InvalidInput(_) => C::InvalidInput,
            VoiceError::ModelMissing(_) => C::ModelMissing,
            VoiceError::ModelUnreadable(_) => C::ModelUnreadable,
            VoiceError::LocalModel(_) => C::LocalModelFailed,
            VoiceError::LocalUnavailable => C::LocalUnavailable,
            VoiceError::DownloadFailed(_) => C::DownloadFailed,
            VoiceError::ChecksumMismatch { .. } => C::ChecksumMismatch,
            VoiceError::Io(_) => C::Io,
            VoiceError::Internal(_) => C::Internal,
        };
        // sam-voice scrubs the key from provider messages before they reach a VoiceError.
        Self::new(code, error.to_string())
    }
}

impl From<ApiError> for VoiceApiError {
    fn from(error: ApiError) -> Self {
        let code = match error.code {
            sam_core::ErrorCode::Database => VoiceErrorCode::Database,
            sam_core::ErrorCode::InvalidInput => VoiceErrorCode::InvalidInput,
            _ => VoiceErrorCode::Internal,
        };
        Self::new(code, error.message)
    }
}

fn vault_error(error: VaultError) -> VoiceApiError {
    tracing::warn!(%error, "voice: the vault could not give the transcription credential");
    let code = match &error {
        VaultError::NotFound(_) | VaultError::NotConfigured(_) => VoiceErrorCode::NoCredential,
        VaultError::Store(_) => VoiceErrorCode::Database,
        _ => VoiceErrorCode::CredentialUnavailable,
    };
    VoiceApiError::new(code, error.to_string())
}

fn internal(error: impl std::fmt::Display) -> VoiceApiError {
    VoiceApiError::new(
        VoiceErrorCode::Internal,
        format!("A background task failed: {error}"),
    )
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, VoiceApiError> + Send + 'static,
) -> Result<T, VoiceApiError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(internal)?
}

// --- Settings -------------------------------------------------------------------------------

/// The stored settings; defaults when unset or unreadable (an older or damaged value must not
/// keep voice input from working).
fn parse_settings(stored: Option<&str>) -> VoiceSettings {
    stored
        .and_then(|json| serde_json::from_str::<VoiceSettings>(json).ok())
        .and_then(|settings| normalize_settings(settings).ok())
        .unwrap_or_default()
}

/// Trims the text fields (empty → not set) and checks the ranges.
fn normalize_settings(settings: VoiceSettings) -> Result<VoiceSettings, VoiceApiError> {
    fn text(
        value: Option<String>,
        max: usize,
        what: &str,
    ) -> Result<Option<String>, VoiceApiError> {
        let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        if value.chars().count() > max || value.chars().any(char::is_control) {
            return Err(VoiceApiError::new(
                VoiceErrorCode::InvalidInput,
                format!("The {what} is not valid."),
            ));
        }
        Ok(Some(value))
    }
    if !SILENCE_MS_RANGE.contains(&settings.silence_ms) {
        return Err(VoiceApiError::new(
            VoiceErrorCode::InvalidInput,
            "The pause that ends hands-free recording must be between 0.3 and 5 seconds.",
        ));
    }
    let language = text(settings.language, 40, "language")?.map(|l| l.to_ascii_lowercase());
    if let Some(language) = &language
        && (!(2..=3).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return Err(VoiceApiError::new(
            VoiceErrorCode::InvalidInput,
            "Give the language as a two-letter code such as en or de, or leave it empty to detect it.",
        ));
    }
    let local_model = text(settings.local_model, 100, "speech model")?;
    if let Some(id) = &local_model {
        catalog_model(id)?;
    }
    let shortcut = text(settings.shortcut, 100, "shortcut")?;
    if let Some(shortcut) = &shortcut {
        parse_shortcut(shortcut)?;
    }
    Ok(VoiceSettings {
        device: text(settings.device, 500, "microphone")?,
        mode: settings.mode,
        silence_ms: settings.silence_ms,
        credential: text(settings.credential, 200, "credential")?,
        model: text(settings.model, 100, "model name")?,
        language,
        engine: settings.engine,
        local_model,
        shortcut,
    })
}

/// The catalogue's model `id`.
fn catalog_model(id: &str) -> Result<ModelSpec, VoiceApiError> {
    sam_voice::models::find_model(id).ok_or_else(|| {
        VoiceApiError::new(
            VoiceErrorCode::InvalidInput,
            format!("There is no speech model \"{id}\". Pick one of the list in Settings → Voice."),
        )
    })
}

// --- The push-to-talk shortcut --------------------------------------------------------------

/// Parses a shortcut as the desktop will register it. One without a modifier must be a
/// function key: a global "A" or "Space" would take that key from every program.
fn parse_shortcut(text: &str) -> Result<Shortcut, VoiceApiError> {
    let shortcut = Shortcut::from_str(text.trim()).map_err(|error| {
        VoiceApiError::new(
            VoiceErrorCode::ShortcutInvalid,
            format!(
                "\"{text}\" is not a shortcut ({error}). Write modifiers, then one key, joined by +: for example Ctrl+Alt+Space, Shift+Super+D or F9."
            ),
        )
    })?;
    if shortcut.mods.is_empty() && !is_function_key(shortcut.key) {
        return Err(VoiceApiError::new(
            VoiceErrorCode::ShortcutInvalid,
            format!(
                "\"{text}\" has no modifier, so it would take that key from every program. Add Ctrl, Alt, Shift or Super (for example Ctrl+Alt+Space), or use a function key such as F9."
            ),
        ));
    }
    Ok(shortcut)
}

fn is_function_key(key: Code) -> bool {
    use Code::*;
    matches!(
        key,
        F1 | F2
            | F3
            | F4
            | F5
            | F6
            | F7
            | F8
            | F9
            | F10
            | F11
            | F12
            | F13
            | F14
            | F15
            | F16
            | F17
            | F18
            | F19
            | F20
            | F21
            | F22
            | F23
            | F24
    )
}

/// Where global shortcuts are registered: the desktop (through the plugin), or a fake in
/// tests. The seam exists because the desktop is an OS service the unit tests cannot own.
trait ShortcutRegistry {
    /// Registers `shortcut`; `Err` with the desktop's reason when it refuses.
    fn register(&self, shortcut: Shortcut) -> Result<(), String>;
    fn unregister(&self, shortcut: Shortcut) -> Result<(), String>;
}

/// The desktop's registry; presses and releases go to [`VoiceInput::shortcut_signal`].
struct DesktopShortcuts<'a>(&'a AppHandle);

impl ShortcutRegistry for DesktopShortcuts<'_> {
    fn register(&self, shortcut: Shortcut) -> Result<(), String> {
        self.0
            .global_shortcut()
            .on_shortcut(shortcut, |app, _shortcut, event| {
                let pressed = event.state == ShortcutState::Pressed;
                tracing::debug!(pressed, "voice: push-to-talk shortcut");
                if pressed {
                    // Bring the window (and so the composer) forward before recording starts.
                    crate::show_main_window(app);
                }
                if let Some(voice) = app.try_state::<Arc<VoiceInput>>() {
                    voice.shortcut_signal(if pressed {
                        VoiceShortcutSignal::Pressed
                    } else {
                        VoiceShortcutSignal::Released
                    });
                }
            })
            .map_err(|e| e.to_string())
    }

    fn unregister(&self, shortcut: Shortcut) -> Result<(), String> {
        self.0
            .global_shortcut()
            .unregister(shortcut)
            .map_err(|e| e.to_string())
    }
}

/// Makes `wanted` (its text, already checked) the registered shortcut. The new one is
/// registered before the old one is released, so when the desktop refuses it the old one
/// stays. Blocks (the registration runs on the main thread).
fn swap_shortcut(
    registry: &dyn ShortcutRegistry,
    current: &Mutex<Option<Shortcut>>,
    wanted: Option<&str>,
) -> Result<(), VoiceApiError> {
    let wanted_shortcut = wanted.map(parse_shortcut).transpose()?;
    let mut current = current.lock().unwrap_or_else(|e| e.into_inner());
    if *current == wanted_shortcut {
        return Ok(());
    }
    if let (Some(shortcut), Some(text)) = (wanted_shortcut, wanted) {
        registry.register(shortcut).map_err(|reason| {
            tracing::warn!(shortcut = text, %reason, "voice: the desktop refused the shortcut");
            VoiceApiError::new(
                VoiceErrorCode::ShortcutTaken,
                format!(
                    "{text} could not be set up as the push-to-talk shortcut: another program (or the desktop itself) already uses it. Pick another one.{}",
                    if current.is_some() {
                        " The previous shortcut still works."
                    } else {
                        ""
                    }
                ),
            )
        })?;
    }
    if let Some(old) = current.take()
        && let Err(reason) = registry.unregister(old)
    {
        tracing::warn!(%reason, "voice: could not release the previous shortcut");
    }
    *current = wanted_shortcut;
    Ok(())
}

/// The shortcut part of saving the settings: a changed shortcut the desktop refuses fails
/// the save (the old one stays); the saved one still refused is only reported (`Ok(Some)`),
/// so the other settings can be saved.
fn apply_shortcut(
    registry: &dyn ShortcutRegistry,
    voice: &VoiceInput,
    saved: Option<&str>,
    wanted: Option<&str>,
) -> Result<Option<String>, VoiceApiError> {
    let problem = match swap_shortcut(registry, &voice.shortcut, wanted) {
        Ok(()) => None,
        Err(error) if wanted != saved || error.code == VoiceErrorCode::ShortcutInvalid => {
            return Err(error);
        }
        Err(error) => Some(error.message),
    };
    voice
        .shortcut_problem
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone_from(&problem);
    Ok(problem)
}

/// Registers the saved push-to-talk shortcut when the app starts (off the main thread: the
/// registration waits for it). A refusal is kept for Settings → Voice to show.
pub fn install_shortcut(app: &AppHandle, state: &Arc<AppState>) {
    let app = app.clone();
    let state = Arc::clone(state);
    tauri::async_runtime::spawn_blocking(move || {
        let Some(voice) = app.try_state::<Arc<VoiceInput>>() else {
            return;
        };
        let settings = settings_of(&state).unwrap_or_default();
        let result = swap_shortcut(
            &DesktopShortcuts(&app),
            &voice.shortcut,
            settings.shortcut.as_deref(),
        );
        if let Some(shortcut) = &settings.shortcut
            && result.is_ok()
        {
            tracing::info!(shortcut = %shortcut, "voice: push-to-talk shortcut registered");
        }
        let problem = result.err().map(|e| e.message);
        *voice
            .shortcut_problem
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = problem;
    });
}

// --- On-device models -----------------------------------------------------------------------

fn models_of(data_dir: &Path, voice: &VoiceInput) -> VoiceModels {
    let downloading = voice.downloads();
    VoiceModels {
        on_device_available: sam_voice::HAS_LOCAL_WHISPER,
        models: sam_voice::models::catalog()
            .into_iter()
            .map(|spec| VoiceModel {
                installed: sam_voice::models::is_installed(data_dir, &spec),
                downloading: downloading.contains(&spec.id),
                size_bytes: saturating_u32(spec.size_bytes),
                description: spec.description,
                id: spec.id,
            })
            .collect(),
    }
}

fn saturating_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Downloads `spec` into the app-data folder (one download of a model at a time; cancelled by
/// [`VoiceInput::cancel_download`]).
async fn download_into(
    voice: &VoiceInput,
    spec: &ModelSpec,
    data_dir: &Path,
    progress: impl FnMut(DownloadProgress) + Send,
) -> Result<(), VoiceApiError> {
    let cancel = voice.claim_download(&spec.id)?;
    let result = voice
        .downloader
        .download(spec, data_dir, &cancel, progress)
        .await;
    voice.release_download(&spec.id);
    // A model replaced on disk must be loaded again.
    voice.forget_local_model();
    match result {
        Ok(path) => {
            tracing::info!(model = %spec.id, path = %path.display(), "voice: model downloaded");
            Ok(())
        }
        Err(VoiceError::Cancelled) => Err(VoiceApiError::new(
            VoiceErrorCode::Cancelled,
            "Download cancelled.",
        )),
        Err(error) => {
            tracing::warn!(model = %spec.id, %error, "voice: model download failed");
            Err(error.into())
        }
    }
}

/// The loaded whisper.cpp model chosen in the settings (loaded once, then kept). Blocks: a
/// model is hundreds of MB.
fn local_transcriber(
    voice: &VoiceInput,
    data_dir: &Path,
    model: Option<&str>,
) -> Result<LocalWhisper, VoiceApiError> {
    let Some(id) = model else {
        return Err(VoiceApiError::new(
            VoiceErrorCode::ModelMissing,
            "No speech model is chosen for transcription on this computer. Pick and download one in Settings → Voice.",
        ));
    };
    let spec = catalog_model(id)?;
    if !sam_voice::models::is_installed(data_dir, &spec) {
        return Err(VoiceError::ModelMissing(spec.id).into());
    }
    let path = sam_voice::models::model_path(data_dir, &spec);
    let mut cache = voice.local.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((loaded_path, model)) = &*cache
        && *loaded_path == path
    {
        return Ok(model.clone());
    }
    *cache = None;
    let model = LocalWhisper::load(&path)?;
    *cache = Some((path, model.clone()));
    Ok(model)
}

// --- Microphone fallback --------------------------------------------------------------------

/// Opens `device`, or the system default when `device` is not connected. Returns what `open`
/// gave and the missing device, if the default stands in for it.
fn open_with_fallback<T>(
    device: Option<String>,
    mut open: impl FnMut(Option<String>) -> Result<T, VoiceError>,
) -> Result<(T, Option<String>), VoiceError> {
    match open(device.clone()) {
        Err(VoiceError::DeviceNotFound(_)) if device.is_some() => {
            let opened = open(None)?;
            Ok((opened, device))
        }
        other => other.map(|opened| (opened, None)),
    }
}

fn load_settings(store: &Store) -> Result<VoiceSettings, VoiceApiError> {
    let stored = store.setting(VOICE_SETTING).map_err(|e| {
        tracing::warn!(error = %e, "voice: could not read the settings");
        VoiceApiError::new(VoiceErrorCode::Database, e.to_string())
    })?;
    Ok(parse_settings(stored.as_deref()))
}

fn transcription_credentials(vault: &Vault) -> Result<Vec<TranscriptionCredential>, VoiceApiError> {
    Ok(vault
        .list()
        .map_err(vault_error)?
        .into_iter()
        // "Automatic" only ever picks global credentials; a project's one can still be chosen.
        .filter(|c| TRANSCRIPTION_KINDS.contains(&c.kind))
        .map(|c| TranscriptionCredential {
            label: match &c.scope {
                CredentialScope::Global => c.label,
                CredentialScope::Project { project } => format!("{} ({project})", c.label),
            },
            id: c.id,
            kind: c.kind,
            active: c.active,
        })
        .collect())
}

// --- Transcription service ------------------------------------------------------------------

/// Where to send audio, before the model setting is applied.
#[derive(Debug)]
struct Service {
    base_url: String,
    key: Option<ApiKey>,
    default_model: &'static str,
}

/// The service a credential stands for: OpenAI, the endpoint of an OpenAI-compatible one,
/// or Mistral.
fn service_for(material: &CredentialMaterial) -> Result<Service, VoiceApiError> {
    let secret = material.secret.expose();
    let key = (!secret.is_empty()).then(|| ApiKey::new(secret.clone()));
    Ok(match material.kind {
        CredentialKind::MistralApiKey => Service {
            base_url: MISTRAL_BASE_URL.into(),
            key,
            default_model: MISTRAL_MODEL,
        },
        CredentialKind::OpenaiCompatible => Service {
            base_url: material
                .public_fields
                .get("base_url")
                .filter(|u| !u.trim().is_empty())
                .cloned()
                .ok_or_else(|| {
                    VoiceApiError::new(
                        VoiceErrorCode::InvalidInput,
                        format!(
                            "\"{}\" has no base URL. Add the credential again with the server's address.",
                            material.label
                        ),
                    )
                })?,
            key,
            default_model: OPENAI_MODEL,
        },
        CredentialKind::OpenaiApiKey => Service {
            base_url: OPENAI_BASE_URL.into(),
            key,
            default_model: OPENAI_MODEL,
        },
        other => {
            return Err(VoiceApiError::new(
                VoiceErrorCode::InvalidInput,
                format!(
                    "\"{}\" is a {}; transcription needs an OpenAI, OpenAI-compatible or Mistral credential. Pick another one in Settings → Voice.",
                    material.label,
                    other.label()
                ),
            ));
        }
    })
}

/// The service the environment names: `SAM_TRANSCRIBE_API_KEY` and/or `SAM_TRANSCRIBE_BASE_URL`
/// (blank counts as unset). The key goes to OpenAI unless the base URL says otherwise; a base
/// URL alone is a keyless server. `None` when neither is set: the vault decides.
fn env_service(env_key: Option<String>, env_base_url: Option<String>) -> Option<Service> {
    let set = |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let (key, base_url) = (set(env_key), set(env_base_url));
    if key.is_none() && base_url.is_none() {
        return None;
    }
    Some(Service {
        base_url: base_url.unwrap_or_else(|| OPENAI_BASE_URL.into()),
        key: key.map(ApiKey::new),
        default_model: OPENAI_MODEL,
    })
}

/// The transcription service: `SAM_TRANSCRIBE_API_KEY` (OpenAI) when set, else the credential
/// chosen in the settings, else the first OpenAI, OpenAI-compatible, then Mistral one. Blocks
/// (the keyring).
fn resolve_service(
    env_key: Option<String>,
    vault: Option<&Vault>,
    chosen: Option<&str>,
) -> Result<Service, VoiceApiError> {
    if let Some(service) = env_service(env_key, None) {
        return Ok(service);
    }
    let Some(vault) = vault else {
        return Err(VoiceApiError::new(
            VoiceErrorCode::Database,
            "Transcription credentials are kept in SAM's database, which is unavailable.",
        ));
    };
    if let Some(chosen) = chosen {
        let summary = vault.summary(chosen).map_err(|error| match error {
            VaultError::NotFound(_) => VoiceApiError::new(
                VoiceErrorCode::NoCredential,
                "The transcription credential chosen in Settings → Voice was removed. Pick another one there, or add one in Settings → Credentials.",
            ),
            other => vault_error(other),
        })?;
        if !TRANSCRIPTION_KINDS.contains(&summary.kind) {
            return Err(VoiceApiError::new(
                VoiceErrorCode::InvalidInput,
                format!(
                    "\"{}\" is a {}; transcription needs an OpenAI, OpenAI-compatible or Mistral credential. Pick another one in Settings → Voice.",
                    summary.label,
                    summary.kind.label()
                ),
            ));
        }
        let material = vault
            .resolve(summary.kind, Some(&summary.id), None)
            .map_err(vault_error)?;
        return service_for(&material);
    }
    for kind in TRANSCRIPTION_KINDS {
        match vault.resolve(kind, None, None) {
            Ok(material) => return service_for(&material),
            Err(VaultError::NotConfigured(_)) => {}
            Err(error) => return Err(vault_error(error)),
        }
    }
    Err(VoiceApiError::no_credential())
}

fn service_config(service: Service, settings: &VoiceSettings) -> OpenAiConfig {
    OpenAiConfig::custom(
        service.base_url,
        service.key,
        settings
            .model
            .clone()
            .unwrap_or_else(|| service.default_model.to_owned()),
    )
}

// --- Levels ---------------------------------------------------------------------------------

/// A level frame in the 0..1 terms the meter and the fluid use.
fn to_level(frame: &LevelFrame) -> VoiceLevel {
    let level = ((frame.rms_db() + 60.0) / 50.0).clamp(0.0, 1.0);
    let centroid = if frame.centroid_hz > 0.0 && frame.centroid_hz.is_finite() {
        ((frame.centroid_hz / 100.0).log2() / (4000.0_f32 / 100.0).log2()).clamp(0.0, 1.0)
    } else {
        0.5
    };
    VoiceLevel {
        level: if level.is_finite() { level } else { 0.0 },
        bands: frame
            .bands
            .iter()
            .map(|b| {
                if b.is_finite() {
                    b.clamp(0.0, 1.0)
                } else {
                    0.0
                }
            })
            .collect(),
        centroid,
        onset: frame.onset,
    }
}

/// Merges level frames so the webview gets at most one message per `interval`: the loudest
/// level and bands, any onset, the latest brightness. Time is passed in (testable).
#[derive(Debug)]
struct LevelCoalescer {
    interval: Duration,
    last_sent: Option<Instant>,
    pending: Option<VoiceLevel>,
}

impl LevelCoalescer {
    fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_sent: None,
            pending: None,
        }
    }

    /// Adds a frame; returns a message when one is due.
    fn push(&mut self, level: VoiceLevel, now: Instant) -> Option<VoiceLevel> {
        self.pending = Some(match self.pending.take() {
            None => level,
            Some(mut merged) => {
                merged.level = merged.level.max(level.level);
                for (m, b) in merged.bands.iter_mut().zip(&level.bands) {
                    *m = m.max(*b);
                }
                merged.onset |= level.onset;
                merged.centroid = level.centroid;
                merged
            }
        });
        self.flush(now)
    }

    /// The merged frame, if one waits and the interval has passed.
    fn flush(&mut self, now: Instant) -> Option<VoiceLevel> {
        let due = self
            .last_sent
            .is_none_or(|last| now.saturating_duration_since(last) >= self.interval);
        if !due {
            return None;
        }
        let out = self.pending.take()?;
        self.last_sent = Some(now);
        Some(out)
    }
}

/// Forwards a recording's levels and events to the webview until the recording ends or
/// `stopped` is set. Runs on its own thread: it blocks on the recorder's channels.
fn forward(
    levels: Receiver<LevelFrame>,
    events: Receiver<UtteranceEvent>,
    hands_free: bool,
    stopped: Arc<AtomicBool>,
    channel: Channel<VoiceSignal>,
) {
    let mut coalescer = LevelCoalescer::new(LEVEL_INTERVAL);
    let mut ended = false;
    let mut webview_gone = false;
    let mut send = |signal: VoiceSignal| {
        if !webview_gone && channel.send(signal).is_err() {
            // The page went away (reload): keep draining so the recorder never blocks.
            webview_gone = true;
        }
    };
    loop {
        if stopped.load(Ordering::SeqCst) {
            return;
        }
        let disconnected = match levels.recv_timeout(Duration::from_millis(20)) {
            Ok(frame) => {
                if let Some(level) = coalescer.push(to_level(&frame), Instant::now()) {
                    send(VoiceSignal::Level(level));
                }
                false
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Some(level) = coalescer.flush(Instant::now()) {
                    send(VoiceSignal::Level(level));
                }
                false
            }
            Err(RecvTimeoutError::Disconnected) => true,
        };
        while let Ok(event) = events.try_recv() {
            match event {
                UtteranceEvent::Started { .. } => send(VoiceSignal::Listening),
                UtteranceEvent::SpeechStarted { .. } => send(VoiceSignal::SpeechStarted),
                UtteranceEvent::InputSilent => send(VoiceSignal::InputSilent),
                UtteranceEvent::Utterance(_) if hands_free => ended = true,
                UtteranceEvent::Error(_) => ended = true,
                UtteranceEvent::Utterance(_)
                | UtteranceEvent::Stopped
                | UtteranceEvent::Cancelled => {}
            }
        }
        if (ended || disconnected) && !stopped.load(Ordering::SeqCst) {
            send(VoiceSignal::Ended);
            return;
        }
        if disconnected {
            return;
        }
    }
}

// --- The recording state --------------------------------------------------------------------

/// The one recording at a time, and the transcription that follows it; the push-to-talk
/// shortcut; model downloads and the loaded on-device model. Managed by the shell next to
/// `AppState`.
#[derive(Debug, Default)]
pub struct VoiceInput {
    phase: Mutex<Phase>,
    next_id: AtomicU64,
    /// The registered push-to-talk shortcut.
    shortcut: Mutex<Option<Shortcut>>,
    /// Why the saved shortcut could not be registered at start-up.
    shortcut_problem: Mutex<Option<String>>,
    /// The composer that hears the shortcut (the last one that subscribed).
    shortcut_listener: Mutex<Option<ShortcutListener>>,
    /// Missing microphones the user was already told about.
    missing_devices_told: Mutex<Vec<String>>,
    /// Model downloads that run, by model id, with their cancel flags.
    downloads: Mutex<HashMap<String, Arc<AtomicBool>>>,
    downloader: ModelDownloader,
    /// The whisper.cpp model last loaded, by path.
    local: Mutex<Option<(PathBuf, LocalWhisper)>>,
}

/// The composer's channel for shortcut signals.
struct ShortcutListener(Channel<VoiceShortcutSignal>);

impl std::fmt::Debug for ShortcutListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShortcutListener")
    }
}

#[derive(Debug, Default)]
enum Phase {
    #[default]
    Idle,
    /// The device is opening (it can take seconds); `cancelled` by Escape meanwhile.
    Starting {
        id: u64,
        cancelled: Arc<AtomicBool>,
    },
    Recording(Box<Active>),
    /// Stopped; the speech is being transcribed.
    Finishing {
        id: u64,
        cancelled: Arc<AtomicBool>,
        abort: Option<tokio::task::AbortHandle>,
    },
}

#[derive(Debug)]
struct Active {
    id: u64,
    handle: RecorderHandle,
    forwarding_stopped: Arc<AtomicBool>,
}

impl VoiceInput {
    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands a shortcut press or release to the listening composer, if any.
    fn shortcut_signal(&self, signal: VoiceShortcutSignal) {
        let mut listener = self
            .shortcut_listener
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(ShortcutListener(channel)) = listener.as_ref()
            && channel.send(signal).is_err()
        {
            // The page went away; the next one subscribes again.
            *listener = None;
        }
    }

    /// Whether to tell the user that `device` is missing: only the first time it is.
    fn first_time_missing(&self, device: &str) -> bool {
        let mut told = self
            .missing_devices_told
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if told.iter().any(|d| d == device) {
            return false;
        }
        told.push(device.to_owned());
        true
    }

    fn downloads(&self) -> Vec<String> {
        self.downloads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Claims the download of model `id`, or says one runs.
    fn claim_download(&self, id: &str) -> Result<Arc<AtomicBool>, VoiceApiError> {
        let mut downloads = self.downloads.lock().unwrap_or_else(|e| e.into_inner());
        if downloads.contains_key(id) {
            return Err(VoiceApiError::new(
                VoiceErrorCode::Busy,
                format!("The speech model {id} is already being downloaded."),
            ));
        }
        let cancel = Arc::new(AtomicBool::new(false));
        downloads.insert(id.to_owned(), Arc::clone(&cancel));
        Ok(cancel)
    }

    fn release_download(&self, id: &str) {
        self.downloads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// Stops the download of model `id`, if one runs.
    fn cancel_download(&self, id: &str) {
        if let Some(cancel) = self
            .downloads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
        {
            cancel.store(true, Ordering::SeqCst);
        }
    }

    fn shortcut_problem(&self) -> Option<String> {
        self.shortcut_problem
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn forget_local_model(&self) {
        *self.local.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Claims the recorder, or says what already runs.
    fn begin(&self) -> Result<(u64, Arc<AtomicBool>), VoiceApiError> {
        let mut phase = self.phase();
        match &*phase {
            Phase::Idle => {
                let id = self.next_id.fetch_add(1, Ordering::SeqCst);
                let cancelled = Arc::new(AtomicBool::new(false));
                *phase = Phase::Starting {
                    id,
                    cancelled: Arc::clone(&cancelled),
                };
                Ok((id, cancelled))
            }
            Phase::Finishing { .. } => Err(VoiceApiError::new(
                VoiceErrorCode::Busy,
                "The last recording is still being transcribed. Wait for it, or press Escape to drop it.",
            )),
            Phase::Starting { .. } | Phase::Recording(_) => Err(VoiceApiError::new(
                VoiceErrorCode::Busy,
                "A recording is already running.",
            )),
        }
    }

    /// Back to idle, if the phase still belongs to recording `id`.
    fn end(&self, id: u64) {
        let mut phase = self.phase();
        let current = match &*phase {
            Phase::Starting { id, .. } | Phase::Finishing { id, .. } => Some(*id),
            Phase::Recording(active) => Some(active.id),
            Phase::Idle => None,
        };
        if current == Some(id) {
            *phase = Phase::Idle;
        }
    }

    /// Stops whatever runs and drops its audio or transcript.
    fn cancel(&self) -> Option<RecorderHandle> {
        let mut phase = self.phase();
        match std::mem::take(&mut *phase) {
            Phase::Idle => None,
            Phase::Starting { cancelled, .. } => {
                cancelled.store(true, Ordering::SeqCst);
                None
            }
            Phase::Recording(active) => {
                active.forwarding_stopped.store(true, Ordering::SeqCst);
                Some(active.handle)
            }
            Phase::Finishing {
                cancelled, abort, ..
            } => {
                cancelled.store(true, Ordering::SeqCst);
                if let Some(abort) = abort {
                    abort.abort();
                }
                None
            }
        }
    }
}

fn cancelled() -> VoiceApiError {
    VoiceApiError::new(VoiceErrorCode::Cancelled, "Recording cancelled.")
}

fn recorder_mode(mode: VoiceMode, settings: &VoiceSettings) -> Mode {
    match mode {
        VoiceMode::PushToTalk => Mode::PushToTalk,
        VoiceMode::HandsFree => Mode::HandsFree(HandsFree {
            silence_ms: settings.silence_ms,
            no_speech_timeout_ms: Some(NO_SPEECH_TIMEOUT_MS),
            ..HandsFree::default()
        }),
    }
}

fn settings_of(state: &AppState) -> Result<VoiceSettings, VoiceApiError> {
    match state.store() {
        Ok(store) => load_settings(&store),
        // Recording works without a database; the defaults apply.
        Err(_) => Ok(VoiceSettings::default()),
    }
}

// --- Commands -------------------------------------------------------------------------------

/// The microphones, the system's default first.
#[tauri::command]
#[specta::specta]
pub async fn voice_devices() -> Result<Vec<VoiceDevice>, VoiceApiError> {
    blocking(|| {
        let devices = sam_voice::devices()?;
        Ok(devices
            .into_iter()
            .map(|d| VoiceDevice {
                id: d.id,
                name: d.name,
                is_default: d.is_default,
            })
            .collect())
    })
    .await
}

/// Starts recording: `mode` and `device` default to the settings. Returns once sound flows
/// or with why it cannot; levels and events arrive on `signals` until the recording ends.
#[tauri::command]
#[specta::specta]
pub async fn voice_start(
    state: Shared<'_>,
    voice: Voice<'_>,
    mode: Option<VoiceMode>,
    device: Option<String>,
    signals: Channel<VoiceSignal>,
) -> Result<VoiceStarted, VoiceApiError> {
    let voice = Arc::clone(&voice);
    let (id, cancelled_flag) = voice.begin()?;
    let shared = Arc::clone(&state);
    let started = blocking(move || {
        let settings = settings_of(&shared)?;
        let mode = mode.unwrap_or(settings.mode);
        let device = device
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .or(settings.device.clone());
        let recorder_mode = recorder_mode(mode, &settings);
        let ((handle, levels, events), missing) =
            open_with_fallback(device, |device| Recorder::start(device, recorder_mode))?;
        Ok((handle, levels, events, mode, missing))
    })
    .await;
    let (handle, levels, events, mode, missing) = match started {
        Ok(started) => started,
        Err(error) => {
            voice.end(id);
            if error.code != VoiceErrorCode::Cancelled {
                tracing::warn!(code = ?error.code, message = %error.message, "voice: could not start recording");
            }
            return Err(error);
        }
    };
    let device_name = handle.device().name.clone();
    if let Some(missing) = &missing {
        tracing::warn!(missing = %missing, device = %device_name, "voice: the chosen microphone is not connected; recording from the default");
    }
    let missing_device = missing.filter(|m| voice.first_time_missing(m));
    let forwarding_stopped = Arc::new(AtomicBool::new(false));
    {
        let mut phase = voice.phase();
        let still_ours = matches!(&*phase, Phase::Starting { id: current, .. } if *current == id);
        if !still_ours || cancelled_flag.load(Ordering::SeqCst) {
            drop(phase);
            tauri::async_runtime::spawn_blocking(move || handle.cancel());
            return Err(cancelled());
        }
        *phase = Phase::Recording(Box::new(Active {
            id,
            handle,
            forwarding_stopped: Arc::clone(&forwarding_stopped),
        }));
    }
    let hands_free = mode == VoiceMode::HandsFree;
    let spawned = std::thread::Builder::new()
        .name("sam-voice-levels".into())
        .spawn(move || forward(levels, events, hands_free, forwarding_stopped, signals));
    if let Err(error) = spawned {
        if let Some(handle) = voice.cancel() {
            tauri::async_runtime::spawn_blocking(move || handle.cancel());
        }
        return Err(internal(error));
    }
    tracing::info!(device = %device_name, ?mode, "voice: recording");
    Ok(VoiceStarted {
        device_name,
        mode,
        missing_device,
    })
}

/// Ends the recording and transcribes it. The text is for the composer: nothing is sent.
#[tauri::command]
#[specta::specta]
pub async fn voice_stop(
    state: Shared<'_>,
    voice: Voice<'_>,
) -> Result<VoiceTranscript, VoiceApiError> {
    let voice = Arc::clone(&voice);
    let cancelled_flag = Arc::new(AtomicBool::new(false));
    let active = {
        let mut phase = voice.phase();
        match std::mem::take(&mut *phase) {
            Phase::Recording(active) => {
                *phase = Phase::Finishing {
                    id: active.id,
                    cancelled: Arc::clone(&cancelled_flag),
                    abort: None,
                };
                active
            }
            Phase::Starting { cancelled, .. } => {
                // Released before the microphone delivered anything.
                cancelled.store(true, Ordering::SeqCst);
                return Err(VoiceError::NoSpeech.into());
            }
            other => {
                *phase = other;
                return Err(VoiceApiError::new(
                    VoiceErrorCode::NotRecording,
                    "Nothing is being recorded.",
                ));
            }
        }
    };
    let id = active.id;
    let result = finish(&state, &voice, *active, &cancelled_flag).await;
    voice.end(id);
    match &result {
        Ok(t) => tracing::info!(
            duration_ms = t.duration_ms,
            chars = t.text.chars().count(),
            "voice: transcribed"
        ),
        Err(e) if e.code == VoiceErrorCode::Cancelled => {}
        Err(e) => {
            tracing::warn!(code = ?e.code, message = %e.message, "voice: recording failed");
        }
    }
    result
}

async fn finish(
    state: &Arc<AppState>,
    voice: &Arc<VoiceInput>,
    active: Active,
    cancelled_flag: &Arc<AtomicBool>,
) -> Result<VoiceTranscript, VoiceApiError> {
    active.forwarding_stopped.store(true, Ordering::SeqCst);
    let id = active.id;
    let handle = active.handle;
    let utterance: Utterance = blocking(move || Ok(handle.stop()?)).await?;
    let duration_ms = u32::try_from(utterance.duration_ms()).unwrap_or(u32::MAX);
    let shared = Arc::clone(state);
    let voice_for_model = Arc::clone(voice);
    let (client, language) = blocking(move || {
        let settings = settings_of(&shared)?;
        let client: Arc<dyn Transcriber> = match settings.engine {
            VoiceEngine::Local => Arc::new(local_transcriber(
                &voice_for_model,
                &shared.paths.data_dir,
                settings.local_model.as_deref(),
            )?),
            VoiceEngine::Cloud => {
                let env_key = std::env::var(API_KEY_ENV).ok();
                let env_base_url = std::env::var(BASE_URL_ENV).ok();
                let service = match env_service(env_key, env_base_url) {
                    Some(service) => service,
                    None => {
                        let vault = shared.vault().ok();
                        resolve_service(None, vault.as_deref(), settings.credential.as_deref())?
                    }
                };
                Arc::new(OpenAiCompatible::new(service_config(service, &settings))?)
            }
        };
        Ok((client, settings.language))
    })
    .await?;
    if cancelled_flag.load(Ordering::SeqCst) {
        return Err(cancelled());
    }
    let options = TranscribeOptions {
        language,
        prompt: None,
    };
    let task = tauri::async_runtime::spawn(async move {
        client
            .transcribe(AudioInput::Speech(utterance), &options)
            .await
    });
    {
        let mut phase = voice.phase();
        match &mut *phase {
            Phase::Finishing {
                id: current, abort, ..
            } if *current == id => *abort = Some(task.inner().abort_handle()),
            _ => task.abort(),
        }
    }
    let transcript = match task.await {
        Ok(result) => result?,
        Err(_) if cancelled_flag.load(Ordering::SeqCst) => return Err(cancelled()),
        Err(error) => return Err(internal(error)),
    };
    if cancelled_flag.load(Ordering::SeqCst) {
        return Err(cancelled());
    }
    let text = transcript.text.trim().to_owned();
    if text.is_empty() {
        return Err(VoiceError::NoSpeech.into());
    }
    Ok(VoiceTranscript { text, duration_ms })
}

/// Stops the recording (or its transcription) and drops it.
#[tauri::command]
#[specta::specta]
pub async fn voice_cancel(voice: Voice<'_>) -> Result<(), VoiceApiError> {
    if let Some(handle) = voice.cancel() {
        blocking(move || {
            handle.cancel();
            Ok(())
        })
        .await?;
        tracing::info!("voice: recording cancelled");
    }
    Ok(())
}

/// The voice settings and the credentials transcription can use.
#[tauri::command]
#[specta::specta]
pub async fn voice_settings_get(
    state: Shared<'_>,
    voice: Voice<'_>,
) -> Result<VoiceSetup, VoiceApiError> {
    let store = state.store()?;
    let vault = state.vault()?;
    let voice = Arc::clone(&voice);
    blocking(move || {
        Ok(VoiceSetup {
            settings: load_settings(&store)?,
            credentials: transcription_credentials(&vault)?,
            shortcut_problem: voice.shortcut_problem(),
        })
    })
    .await
}

/// Saves the voice settings. A new shortcut is registered first: when the desktop refuses
/// it nothing is saved and the old shortcut stays.
#[tauri::command]
#[specta::specta]
pub async fn voice_settings_set(
    app: AppHandle,
    state: Shared<'_>,
    voice: Voice<'_>,
    settings: VoiceSettings,
) -> Result<VoiceSetup, VoiceApiError> {
    let settings = normalize_settings(settings)?;
    let store = state.store()?;
    let vault = state.vault()?;
    let voice = Arc::clone(&voice);
    blocking(move || {
        let saved = load_settings(&store)?.shortcut;
        let shortcut_problem = apply_shortcut(
            &DesktopShortcuts(&app),
            &voice,
            saved.as_deref(),
            settings.shortcut.as_deref(),
        )?;
        let json = serde_json::to_string(&settings).map_err(internal)?;
        store.set_setting(VOICE_SETTING, &json).map_err(|e| {
            tracing::warn!(error = %e, "voice: could not save the settings");
            VoiceApiError::new(VoiceErrorCode::Database, e.to_string())
        })?;
        Ok(VoiceSetup {
            settings,
            credentials: transcription_credentials(&vault)?,
            shortcut_problem,
        })
    })
    .await
}

/// Subscribes the composer to the push-to-talk shortcut: `signals` gets its presses and
/// releases until another composer subscribes.
#[tauri::command]
#[specta::specta]
pub async fn voice_shortcut_listen(
    voice: Voice<'_>,
    signals: Channel<VoiceShortcutSignal>,
) -> Result<(), VoiceApiError> {
    *voice
        .shortcut_listener
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(ShortcutListener(signals));
    Ok(())
}

/// The speech models for transcription on this computer, and which are downloaded.
#[tauri::command]
#[specta::specta]
pub async fn voice_models(
    state: Shared<'_>,
    voice: Voice<'_>,
) -> Result<VoiceModels, VoiceApiError> {
    let data_dir = state.paths.data_dir.clone();
    let voice = Arc::clone(&voice);
    blocking(move || Ok(models_of(&data_dir, &voice))).await
}

/// Downloads model `id` into the app-data folder, reporting on `progress`; the checksum is
/// checked before the file is put in place.
#[tauri::command]
#[specta::specta]
pub async fn voice_model_download(
    state: Shared<'_>,
    voice: Voice<'_>,
    id: String,
    progress: Channel<VoiceDownloadProgress>,
) -> Result<VoiceModels, VoiceApiError> {
    let spec = catalog_model(&id)?;
    let data_dir = state.paths.data_dir.clone();
    download_into(&voice, &spec, &data_dir, |p| {
        let _ = progress.send(VoiceDownloadProgress {
            downloaded_bytes: saturating_u32(p.downloaded),
            total_bytes: saturating_u32(p.total),
        });
    })
    .await?;
    let voice = Arc::clone(&voice);
    blocking(move || Ok(models_of(&data_dir, &voice))).await
}

/// Stops the download of model `id` (its `voice_model_download` fails with `cancelled`).
#[tauri::command]
#[specta::specta]
pub async fn voice_model_cancel(voice: Voice<'_>, id: String) -> Result<(), VoiceApiError> {
    voice.cancel_download(&id);
    Ok(())
}

/// Deletes the downloaded model `id`.
#[tauri::command]
#[specta::specta]
pub async fn voice_model_delete(
    state: Shared<'_>,
    voice: Voice<'_>,
    id: String,
) -> Result<VoiceModels, VoiceApiError> {
    let spec = catalog_model(&id)?;
    if voice.downloads().contains(&spec.id) {
        return Err(VoiceApiError::new(
            VoiceErrorCode::Busy,
            "The model is being downloaded. Cancel the download first.",
        ));
    }
    let data_dir = state.paths.data_dir.clone();
    let voice = Arc::clone(&voice);
    blocking(move || {
        voice.forget_local_model();
        sam_voice::models::delete_model(&data_dir, &spec)?;
        Ok(models_of(&data_dir, &voice))
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use sam_secrets::{NewCredential, SecretStore, SecretStoreError, Sensitive};

    use super::*;

    /// Secrets in memory, so the vault works without a keyring.
    #[derive(Default)]
    struct MemorySecrets(Mutex<HashMap<String, String>>);

    impl SecretStore for MemorySecrets {
        fn put(&self, id: &str, secret: &Sensitive<String>) -> Result<(), SecretStoreError> {
            self.0
                .lock()
                .unwrap()
                .insert(id.to_owned(), secret.expose().clone());
            Ok(())
        }
        fn get(&self, id: &str) -> Result<Sensitive<String>, SecretStoreError> {
            self.0
                .lock()
                .unwrap()
                .get(id)
                .cloned()
                .map(Sensitive::new)
                .ok_or(SecretStoreError::NotFound)
        }
        fn delete(&self, id: &str) -> Result<(), SecretStoreError> {
            self.0.lock().unwrap().remove(id);
            Ok(())
        }
    }

    fn vault() -> (tempfile::TempDir, Vault) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("sam.db")).unwrap();
        (
            dir,
            Vault::new(Arc::new(store), Arc::new(MemorySecrets::default())),
        )
    }

    fn add(
        vault: &Vault,
        kind: CredentialKind,
        label: &str,
        fields: &[(&str, &str)],
        now: i64,
    ) -> String {
        let fields: BTreeMap<String, String> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        vault
            .add(
                NewCredential {
                    kind,
                    label: label.into(),
                    scope: CredentialScope::Global,
                    fields,
                },
                now,
            )
            .unwrap()
            .id
    }

    fn secret_field(kind: CredentialKind) -> String {
        kind.info()
            .fields
            .into_iter()
            .find(|f| f.secret)
            .map(|f| f.id)
            .unwrap()
    }

    const MISTRAL_KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";

    #[test]
    fn settings_default_when_unset_or_unreadable_and_keep_what_is_stored() {
        assert_eq!(parse_settings(None), VoiceSettings::default());
        assert_eq!(parse_settings(Some("{not json")), VoiceSettings::default());
        // Out of range when stored (an older build): the defaults, not an error.
        assert_eq!(
            parse_settings(Some(r#"{"silenceMs": 10}"#)),
            VoiceSettings::default()
        );
        let stored = parse_settings(Some(
            r#"{"device":" alsa:pulse ","mode":"hands_free","silenceMs":1200,"credential":"","model":"whisper-large-v3","language":"DE","future":1}"#,
        ));
        assert_eq!(
            stored,
            VoiceSettings {
                device: Some("alsa:pulse".into()),
                mode: VoiceMode::HandsFree,
                silence_ms: 1200,
                credential: None,
                model: Some("whisper-large-v3".into()),
                language: Some("de".into()),
                ..VoiceSettings::default()
            }
        );
        // Missing fields take their defaults.
        assert_eq!(
            parse_settings(Some(r#"{"mode":"hands_free"}"#)).silence_ms,
            800
        );
    }

    #[test]
    fn settings_are_validated_before_saving() {
        let bad_pause = VoiceSettings {
            silence_ms: 100,
            ..VoiceSettings::default()
        };
        assert_eq!(
            normalize_settings(bad_pause).unwrap_err().code,
            VoiceErrorCode::InvalidInput
        );
        let bad_language = VoiceSettings {
            language: Some("english".into()),
            ..VoiceSettings::default()
        };
        let error = normalize_settings(bad_language).unwrap_err();
        assert!(error.message.contains("two-letter"), "{error:?}");
        let control = VoiceSettings {
            model: Some("whisper\n1".into()),
            ..VoiceSettings::default()
        };
        assert!(normalize_settings(control).is_err());
    }

    #[test]
    fn automatic_prefers_openai_then_compatible_then_mistral() {
        let (_dir, vault) = vault();
        assert_eq!(
            resolve_service(None, Some(&vault), None).unwrap_err().code,
            VoiceErrorCode::NoCredential
        );
        let mistral = CredentialKind::MistralApiKey;
        add(
            &vault,
            mistral,
            "Mistral",
            &[(&secret_field(mistral), MISTRAL_KEY)],
            1,
        );
        let service = resolve_service(None, Some(&vault), None).unwrap();
        assert_eq!(service.base_url, MISTRAL_BASE_URL);
        assert_eq!(service.default_model, MISTRAL_MODEL);
        assert!(service.key.is_some());

        let compatible = CredentialKind::OpenaiCompatible;
        add(
            &vault,
            compatible,
            "Local whisper",
            &[("base_url", "http://127.0.0.1:9000/v1")],
            2,
        );
        let service = resolve_service(None, Some(&vault), None).unwrap();
        assert_eq!(service.base_url, "http://127.0.0.1:9000/v1");
        assert!(service.key.is_none(), "an empty key is no key");

        let openai = CredentialKind::OpenaiApiKey;
        add(
            &vault,
            openai,
            "OpenAI",
            &[(&secret_field(openai), "sk-test-123456789")],
            3,
        );
        let service = resolve_service(None, Some(&vault), None).unwrap();
        assert_eq!(service.base_url, OPENAI_BASE_URL);
        assert_eq!(service.default_model, OPENAI_MODEL);

        // The environment key wins over the vault, like `sam voice`.
        let service = resolve_service(Some(" sk-env ".into()), Some(&vault), None).unwrap();
        assert_eq!(service.base_url, OPENAI_BASE_URL);
        assert!(service.key.is_some());
        // A blank one does not.
        assert!(resolve_service(Some("  ".into()), None, None).is_err());
    }

    #[test]
    fn the_environment_can_point_transcription_at_another_server() {
        let set = |v: &str| Some(v.to_owned());
        assert!(
            env_service(None, None).is_none(),
            "unset: the vault decides"
        );
        assert!(env_service(set("  "), set("")).is_none(), "blank is unset");
        // The key alone goes to OpenAI.
        let service = env_service(set(" sk-env "), None).unwrap();
        assert_eq!(service.base_url, OPENAI_BASE_URL);
        assert!(service.key.is_some());
        // With a base URL, to that server, with the same key and OpenAI's default model.
        let service = env_service(set("sk-env"), set(" http://127.0.0.1:9000/v1 ")).unwrap();
        assert_eq!(service.base_url, "http://127.0.0.1:9000/v1");
        assert!(service.key.is_some());
        assert_eq!(service.default_model, OPENAI_MODEL);
        let config = service_config(service, &VoiceSettings::default());
        assert_eq!(config.base_url, "http://127.0.0.1:9000/v1");
        assert!(OpenAiCompatible::new(config).is_ok());
        // A base URL alone: a keyless server (never a vault key).
        let service = env_service(None, set("http://localhost:8080/v1")).unwrap();
        assert_eq!(service.base_url, "http://localhost:8080/v1");
        assert!(service.key.is_none());
        // A bad one is refused with the client's explanation when used.
        let service = env_service(set("sk-env"), set("ftp://example.com")).unwrap();
        let error = OpenAiCompatible::new(service_config(service, &VoiceSettings::default()))
            .map(|_| ())
            .map_err(VoiceApiError::from)
            .unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::InvalidInput);
        assert!(!error.message.contains("sk-env"), "{error:?}");
    }

    #[test]
    fn a_chosen_credential_is_used_and_a_wrong_or_missing_one_is_explained() {
        let (_dir, vault) = vault();
        let openai = CredentialKind::OpenaiApiKey;
        add(
            &vault,
            openai,
            "OpenAI",
            &[(&secret_field(openai), "sk-test-123456789")],
            1,
        );
        let mistral = CredentialKind::MistralApiKey;
        let mistral_id = add(
            &vault,
            mistral,
            "Mistral",
            &[(&secret_field(mistral), MISTRAL_KEY)],
            2,
        );
        let service = resolve_service(None, Some(&vault), Some(&mistral_id)).unwrap();
        assert_eq!(service.base_url, MISTRAL_BASE_URL);

        let github = CredentialKind::GithubToken;
        let github_id = add(
            &vault,
            github,
            "GitHub",
            &[(
                &secret_field(github),
                "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            )],
            3,
        );
        let error = resolve_service(None, Some(&vault), Some(&github_id)).unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::InvalidInput);
        assert!(error.message.contains("\"GitHub\" is a"), "{error:?}");
        assert!(
            !error.message.contains("ghp_"),
            "no secret in errors: {error:?}"
        );

        let error = resolve_service(None, Some(&vault), Some("gone-id")).unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::NoCredential);
        assert!(error.message.contains("Settings → Voice"), "{error:?}");

        let listed = transcription_credentials(&vault).unwrap();
        let labels: Vec<&str> = listed.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels.len(), 2, "only transcription kinds: {labels:?}");
        assert!(labels.contains(&"OpenAI") && labels.contains(&"Mistral"));
    }

    #[test]
    fn no_credential_says_which_to_add() {
        let error = resolve_service(None, Some(&vault().1), None).unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::NoCredential);
        for needed in [
            "OpenAI API key",
            "OpenAI-compatible",
            "Mistral API key",
            "Settings → Credentials",
        ] {
            assert!(
                error.message.contains(needed),
                "{needed}: {}",
                error.message
            );
        }
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "no_credential");
    }

    #[test]
    fn the_model_setting_overrides_the_service_default() {
        let service = || Service {
            base_url: OPENAI_BASE_URL.into(),
            key: Some(ApiKey::new("sk-secret-value")),
            default_model: OPENAI_MODEL,
        };
        let config = service_config(service(), &VoiceSettings::default());
        assert_eq!(config.model, "whisper-1");
        let settings = VoiceSettings {
            model: Some("gpt-4o-transcribe".into()),
            ..VoiceSettings::default()
        };
        let config = service_config(service(), &settings);
        assert_eq!(config.model, "gpt-4o-transcribe");
        assert!(!format!("{config:?}").contains("sk-secret-value"));
    }

    #[test]
    fn voice_errors_keep_their_meaning_across_ipc() {
        let cases = [
            (
                VoiceError::NoMicrophone,
                VoiceErrorCode::NoMicrophone,
                "microphone",
            ),
            (
                VoiceError::PermissionDenied,
                VoiceErrorCode::PermissionDenied,
                "may not use the microphone",
            ),
            (
                VoiceError::DeviceLost,
                VoiceErrorCode::DeviceLost,
                "unplugged",
            ),
            (VoiceError::NoSpeech, VoiceErrorCode::NoSpeech, "No speech"),
            (
                VoiceError::TranscriptionFailed {
                    status: Some(400),
                    message: "Invalid file format".into(),
                },
                VoiceErrorCode::TranscriptionFailed,
                "Invalid file format",
            ),
            (
                VoiceError::AuthFailed("Incorrect API key provided.".into()),
                VoiceErrorCode::AuthFailed,
                "Incorrect API key provided.",
            ),
            (
                VoiceError::DeviceNotFound("USB Mic".into()),
                VoiceErrorCode::DeviceNotFound,
                "Settings → Voice",
            ),
        ];
        for (error, code, text) in cases {
            let mapped = VoiceApiError::from(error);
            assert_eq!(mapped.code, code);
            assert!(mapped.message.contains(text), "{mapped:?}");
        }
        let json = serde_json::to_value(VoiceApiError::from(VoiceError::DeviceLost)).unwrap();
        assert_eq!(json["code"], "device_lost");
    }

    fn frame(rms: f32, centroid_hz: f32, onset: bool) -> LevelFrame {
        LevelFrame {
            rms,
            peak: rms,
            bands: [rms; 8],
            centroid_hz,
            onset,
            t_ms: 0,
        }
    }

    #[test]
    fn levels_map_to_zero_to_one() {
        let silent = to_level(&frame(0.0, 0.0, false));
        assert_eq!(silent.level, 0.0);
        assert_eq!(silent.centroid, 0.5);
        assert_eq!(silent.bands.len(), 8);
        // -20 dBFS speech is well up the meter; full scale is the top.
        let speech = to_level(&frame(0.1, 1000.0, true));
        assert!((speech.level - 0.8).abs() < 0.01, "{speech:?}");
        assert!(speech.centroid > 0.5 && speech.centroid < 0.8, "{speech:?}");
        assert!(speech.onset);
        assert_eq!(to_level(&frame(1.0, 8000.0, false)).level, 1.0);
        assert_eq!(to_level(&frame(1.0, 8000.0, false)).centroid, 1.0);
        assert_eq!(to_level(&frame(f32::NAN, f32::NAN, false)).level, 0.0);
    }

    #[test]
    fn the_coalescer_sends_at_most_one_message_per_interval_and_loses_no_onset() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let level = |l: f32, onset: bool| VoiceLevel {
            level: l,
            bands: vec![l; 8],
            centroid: l,
            onset,
        };
        let mut c = LevelCoalescer::new(Duration::from_millis(15));
        assert!(
            c.push(level(0.1, false), at(0)).is_some(),
            "the first goes at once"
        );
        // A burst: three frames within the interval are merged.
        assert!(c.push(level(0.2, true), at(2)).is_none());
        assert!(c.push(level(0.9, false), at(4)).is_none());
        assert!(c.push(level(0.3, false), at(6)).is_none());
        assert!(c.flush(at(10)).is_none(), "not due yet");
        let merged = c.flush(at(16)).unwrap();
        assert_eq!(merged.level, 0.9, "the loudest");
        assert!(merged.onset, "an onset in the burst survives");
        assert_eq!(merged.centroid, 0.3, "the latest brightness");
        assert!(c.flush(at(40)).is_none(), "nothing pending");
        // A steady 62.5 Hz stream passes frame by frame.
        let mut sent = 0;
        for i in 0..63u64 {
            if c.push(level(0.5, false), at(100 + i * 16)).is_some() {
                sent += 1;
            }
        }
        assert_eq!(sent, 63);
        // A flood (1 kHz) is held to ≈ 1000 / 15 messages a second.
        let mut sent = 0;
        for i in 0..1000u64 {
            if c.push(level(0.5, false), at(2000 + i)).is_some() {
                sent += 1;
            }
        }
        assert!((60..=70).contains(&sent), "{sent}");
    }

    #[test]
    fn one_recording_at_a_time_and_cancel_frees_it() {
        let voice = VoiceInput::default();
        let (id, cancelled_flag) = voice.begin().unwrap();
        assert_eq!(voice.begin().unwrap_err().code, VoiceErrorCode::Busy);
        assert!(voice.cancel().is_none());
        assert!(
            cancelled_flag.load(Ordering::SeqCst),
            "a start in progress is told"
        );
        let (second, _) = voice.begin().unwrap();
        assert_ne!(id, second);
        // A stale end (of the cancelled start) leaves the new one alone.
        voice.end(id);
        assert_eq!(voice.begin().unwrap_err().code, VoiceErrorCode::Busy);
        voice.end(second);
        assert!(voice.begin().is_ok());
    }

    // --- On this computer, the shortcut, the microphone fallback ------------------------------

    #[test]
    fn the_shortcut_defaults_on_can_be_turned_off_and_the_engine_is_kept() {
        assert_eq!(
            parse_settings(None).shortcut.as_deref(),
            Some(DEFAULT_SHORTCUT)
        );
        // Settings saved before the shortcut existed get the default.
        assert_eq!(
            parse_settings(Some(r#"{"mode":"hands_free"}"#))
                .shortcut
                .as_deref(),
            Some(DEFAULT_SHORTCUT)
        );
        // Off is stored as null and stays off.
        let off = parse_settings(Some(r#"{"shortcut":null}"#));
        assert_eq!(off.shortcut, None);
        let json = serde_json::to_string(&off).unwrap();
        assert_eq!(parse_settings(Some(&json)).shortcut, None);
        let local = parse_settings(Some(
            r#"{"engine":"local","localModel":"base.en","shortcut":" Shift+F9 "}"#,
        ));
        assert_eq!(local.engine, VoiceEngine::Local);
        assert_eq!(local.local_model.as_deref(), Some("base.en"));
        assert_eq!(local.shortcut.as_deref(), Some("Shift+F9"));
        // A model the catalogue does not have is refused when saving.
        let unknown = VoiceSettings {
            local_model: Some("large-v9".into()),
            ..VoiceSettings::default()
        };
        let error = normalize_settings(unknown).unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::InvalidInput);
        assert!(error.message.contains("large-v9"), "{error:?}");
    }

    #[test]
    fn bad_shortcuts_are_refused_with_what_to_write() {
        for good in [
            DEFAULT_SHORTCUT,
            "Ctrl+Alt+Space",
            "shift+super+d",
            "F9",
            "Alt+F24",
            "CmdOrCtrl+Shift+KeyK",
        ] {
            assert!(parse_shortcut(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Ctrl+",
            "Ctrl+Alt",
            "Ctrl++Space",
            "Hyper+K",
            "Ctrl+K+L",
            "Ctrl+Alt+Spacebar",
            "🎤",
        ] {
            let error = parse_shortcut(bad).unwrap_err();
            assert_eq!(error.code, VoiceErrorCode::ShortcutInvalid, "{bad}");
            assert!(error.message.contains("Ctrl+Alt+Space"), "{bad}: {error:?}");
        }
        // A plain key would be taken from every program.
        for plain in ["A", "Space", "Enter", "1"] {
            let error = parse_shortcut(plain).unwrap_err();
            assert_eq!(error.code, VoiceErrorCode::ShortcutInvalid);
            assert!(error.message.contains("no modifier"), "{error:?}");
        }
        // normalize_settings checks it too, so nothing invalid is saved.
        let settings = VoiceSettings {
            shortcut: Some("Ctrl+Nope".into()),
            ..VoiceSettings::default()
        };
        assert_eq!(
            normalize_settings(settings).unwrap_err().code,
            VoiceErrorCode::ShortcutInvalid
        );
    }

    /// A desktop that refuses the shortcuts in `taken`.
    #[derive(Default)]
    struct FakeDesktop {
        taken: Vec<Shortcut>,
        registered: Mutex<Vec<Shortcut>>,
    }

    impl ShortcutRegistry for FakeDesktop {
        fn register(&self, shortcut: Shortcut) -> Result<(), String> {
            if self.taken.contains(&shortcut) {
                return Err("HotKey already registered".into());
            }
            self.registered.lock().unwrap().push(shortcut);
            Ok(())
        }
        fn unregister(&self, shortcut: Shortcut) -> Result<(), String> {
            self.registered.lock().unwrap().retain(|s| *s != shortcut);
            Ok(())
        }
    }

    #[test]
    fn a_refused_shortcut_leaves_the_old_one_working() {
        let shortcut = |s: &str| parse_shortcut(s).unwrap();
        let desktop = FakeDesktop {
            taken: vec![shortcut("Ctrl+Alt+T")],
            ..FakeDesktop::default()
        };
        let current = Mutex::new(None);
        swap_shortcut(&desktop, &current, Some(DEFAULT_SHORTCUT)).unwrap();
        assert_eq!(*current.lock().unwrap(), Some(shortcut(DEFAULT_SHORTCUT)));
        assert_eq!(
            *desktop.registered.lock().unwrap(),
            vec![shortcut(DEFAULT_SHORTCUT)]
        );

        let error = swap_shortcut(&desktop, &current, Some("Ctrl+Alt+T")).unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::ShortcutTaken);
        assert!(error.message.contains("Ctrl+Alt+T"), "{error:?}");
        assert!(
            error.message.contains("previous shortcut still works"),
            "{error:?}"
        );
        assert_eq!(*current.lock().unwrap(), Some(shortcut(DEFAULT_SHORTCUT)));
        assert_eq!(
            *desktop.registered.lock().unwrap(),
            vec![shortcut(DEFAULT_SHORTCUT)]
        );

        // An invalid one never reaches the desktop.
        let error = swap_shortcut(&desktop, &current, Some("Ctrl+")).unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::ShortcutInvalid);
        assert_eq!(desktop.registered.lock().unwrap().len(), 1);

        // The same keys spelled differently change nothing; another one replaces it.
        swap_shortcut(&desktop, &current, Some("ctrl+alt+space")).unwrap();
        swap_shortcut(&desktop, &current, Some("Shift+F9")).unwrap();
        assert_eq!(
            *desktop.registered.lock().unwrap(),
            vec![shortcut("Shift+F9")]
        );
        // Off releases it.
        swap_shortcut(&desktop, &current, None).unwrap();
        assert!(desktop.registered.lock().unwrap().is_empty());
        assert_eq!(*current.lock().unwrap(), None);
    }

    #[test]
    fn a_saved_shortcut_the_desktop_refuses_does_not_block_other_settings() {
        let taken = parse_shortcut(DEFAULT_SHORTCUT).unwrap();
        let desktop = FakeDesktop {
            taken: vec![taken],
            ..FakeDesktop::default()
        };
        let voice = VoiceInput::default();
        // Saving again with the same (refused) shortcut: reported, not an error.
        let problem = apply_shortcut(
            &desktop,
            &voice,
            Some(DEFAULT_SHORTCUT),
            Some(DEFAULT_SHORTCUT),
        )
        .unwrap()
        .unwrap();
        assert!(problem.contains("already uses it"), "{problem}");
        assert_eq!(voice.shortcut_problem(), Some(problem));
        // Changing to another refused one: an error, nothing saved.
        let error =
            apply_shortcut(&desktop, &voice, Some("Shift+F9"), Some(DEFAULT_SHORTCUT)).unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::ShortcutTaken);
        // A free one clears the problem.
        assert_eq!(
            apply_shortcut(&desktop, &voice, Some(DEFAULT_SHORTCUT), Some("Shift+F9")).unwrap(),
            None
        );
        assert_eq!(voice.shortcut_problem(), None);
        assert_eq!(
            *voice.shortcut.lock().unwrap(),
            Some(parse_shortcut("Shift+F9").unwrap())
        );
        // Off always works.
        assert_eq!(
            apply_shortcut(&desktop, &voice, Some("Shift+F9"), None).unwrap(),
            None
        );
        assert!(desktop.registered.lock().unwrap().is_empty());
    }

    #[test]
    fn shortcut_presses_reach_the_composer_that_listens_last() {
        let voice = VoiceInput::default();
        // Nobody listens: nothing happens.
        voice.shortcut_signal(VoiceShortcutSignal::Pressed);
        let heard = Arc::new(Mutex::new(Vec::<String>::new()));
        let listen = |heard: Arc<Mutex<Vec<String>>>| {
            ShortcutListener(Channel::new(move |body| {
                if let tauri::ipc::InvokeResponseBody::Json(json) = body {
                    heard.lock().unwrap().push(json);
                }
                Ok(())
            }))
        };
        *voice.shortcut_listener.lock().unwrap() = Some(listen(Arc::clone(&heard)));
        voice.shortcut_signal(VoiceShortcutSignal::Pressed);
        voice.shortcut_signal(VoiceShortcutSignal::Released);
        assert_eq!(
            *heard.lock().unwrap(),
            vec![r#"{"kind":"pressed"}"#, r#"{"kind":"released"}"#]
        );
        // A page that went away is dropped.
        *voice.shortcut_listener.lock().unwrap() = Some(ShortcutListener(Channel::new(|_| {
            Err(tauri::Error::AssetNotFound("gone".into()))
        })));
        voice.shortcut_signal(VoiceShortcutSignal::Pressed);
        assert!(voice.shortcut_listener.lock().unwrap().is_none());
    }

    #[test]
    fn a_missing_microphone_falls_back_to_the_default_and_is_told_once() {
        let mut tried = Vec::new();
        let opened = open_with_fallback(Some("usb-mic".into()), |device| {
            tried.push(device.clone());
            match device.as_deref() {
                Some(name) => Err(VoiceError::DeviceNotFound(name.into())),
                None => Ok("default"),
            }
        })
        .unwrap();
        assert_eq!(opened, ("default", Some("usb-mic".into())));
        assert_eq!(tried, vec![Some("usb-mic".into()), None]);
        // A connected device is used as it is.
        let opened = open_with_fallback(Some("usb-mic".into()), Ok).unwrap();
        assert_eq!(opened, (Some("usb-mic".into()), None));
        // Other failures are not papered over, and without a choice there is nothing to fall
        // back from.
        let error = open_with_fallback(Some("usb-mic".into()), |_| {
            Err::<(), _>(VoiceError::PermissionDenied)
        })
        .unwrap_err();
        assert_eq!(error, VoiceError::PermissionDenied);
        let error = open_with_fallback(None, |_| {
            Err::<(), _>(VoiceError::DeviceNotFound("default".into()))
        })
        .unwrap_err();
        assert_eq!(error.code(), "device_not_found");
        // No microphone at all: the default fails too, with its own reason.
        let error = open_with_fallback(Some("usb-mic".into()), |device| match device {
            Some(name) => Err::<(), _>(VoiceError::DeviceNotFound(name)),
            None => Err(VoiceError::NoMicrophone),
        })
        .unwrap_err();
        assert_eq!(error, VoiceError::NoMicrophone);

        let voice = VoiceInput::default();
        assert!(voice.first_time_missing("usb-mic"));
        assert!(!voice.first_time_missing("usb-mic"));
        assert!(voice.first_time_missing("other-mic"));
    }

    /// Answers every request with `response` (status line, headers and body, as bytes) and
    /// hangs up; the base URL.
    fn http_server(response: Vec<u8>) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(&response);
            }
        });
        base
    }

    fn ok_response(announced: usize, body: &[u8]) -> Vec<u8> {
        let mut out =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {announced}\r\nconnection: close\r\n\r\n")
                .into_bytes();
        out.extend_from_slice(body);
        out
    }

    fn test_spec(base: &str, bytes: &[u8]) -> ModelSpec {
        use sha2::Digest;
        ModelSpec {
            id: "tiny.en".into(),
            file_name: "ggml-tiny.en.bin".into(),
            url: format!("{base}/ggml-tiny.en.bin"),
            sha256: format!("{:x}", sha2::Sha256::digest(bytes)),
            size_bytes: bytes.len() as u64,
            description: "test".into(),
        }
    }

    #[test]
    fn downloads_check_the_file_and_explain_failures() {
        let data = tempfile::tempdir().unwrap();
        let voice = VoiceInput::default();
        let bytes: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
        let run = |spec: &ModelSpec| {
            let mut seen = Vec::new();
            let result =
                tauri::async_runtime::block_on(download_into(&voice, spec, data.path(), |p| {
                    seen.push(p.downloaded)
                }));
            (result, seen)
        };

        // The right bytes: installed, with progress up to the end.
        let good = test_spec(&http_server(ok_response(bytes.len(), &bytes)), &bytes);
        let (result, seen) = run(&good);
        result.unwrap();
        assert!(sam_voice::models::is_installed(data.path(), &good));
        assert_eq!(seen.first(), Some(&0));
        assert_eq!(seen.last(), Some(&(bytes.len() as u64)));
        assert!(voice.downloads().is_empty(), "the claim is released");
        sam_voice::models::delete_model(data.path(), &good).unwrap();

        // Other bytes under the same name: refused, nothing kept.
        let mut wrong = bytes.clone();
        wrong[1234] ^= 0xff;
        let spec = ModelSpec {
            url: format!(
                "{}/ggml-tiny.en.bin",
                http_server(ok_response(wrong.len(), &wrong))
            ),
            ..good.clone()
        };
        let error = run(&spec).0.unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::ChecksumMismatch);
        assert!(
            error.message.contains("Try the download again"),
            "{error:?}"
        );
        assert!(!sam_voice::models::is_installed(data.path(), &spec));

        // Cut off half way.
        let spec = ModelSpec {
            url: format!(
                "{}/ggml-tiny.en.bin",
                http_server(ok_response(bytes.len(), &bytes[..bytes.len() / 2]))
            ),
            ..good.clone()
        };
        let error = run(&spec).0.unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::DownloadFailed, "{error:?}");

        // The server fails.
        let spec = ModelSpec {
            url: format!(
                "{}/ggml-tiny.en.bin",
                http_server(
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\nconnection: close\r\n\r\noops"
                        .to_vec()
                )
            ),
            ..good.clone()
        };
        let error = run(&spec).0.unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::DownloadFailed);
        assert!(error.message.contains("HTTP 500"), "{error:?}");
        assert!(!sam_voice::models::is_installed(data.path(), &good));
        let leftovers = std::fs::read_dir(sam_voice::models::models_dir(data.path()))
            .unwrap()
            .count();
        assert_eq!(leftovers, 0, "no partial files");

        // One download of a model at a time; a cancelled one says so.
        let cancel = voice.claim_download("tiny.en").unwrap();
        assert_eq!(
            voice.claim_download("tiny.en").unwrap_err().code,
            VoiceErrorCode::Busy
        );
        assert!(voice.claim_download("base.en").is_ok());
        voice.cancel_download("tiny.en");
        assert!(cancel.load(Ordering::SeqCst));
        voice.release_download("tiny.en");
        voice.release_download("base.en");
        let voice_for_cancel = &voice;
        let error = tauri::async_runtime::block_on(download_into(
            voice_for_cancel,
            &good,
            data.path(),
            |p| {
                if p.downloaded == 0 {
                    voice_for_cancel.cancel_download("tiny.en");
                }
            },
        ))
        .unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::Cancelled);
        assert!(!sam_voice::models::is_installed(data.path(), &good));
    }

    #[test]
    fn on_device_transcription_explains_a_missing_or_bogus_model() {
        let data = tempfile::tempdir().unwrap();
        let voice = VoiceInput::default();
        let error = local_transcriber(&voice, data.path(), None).unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::ModelMissing);
        assert!(error.message.contains("Settings → Voice"), "{error:?}");
        let error = local_transcriber(&voice, data.path(), Some("base.en")).unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::ModelMissing);
        assert!(error.message.contains("base.en"), "{error:?}");
        assert!(error.message.contains("Download it"), "{error:?}");
        assert_eq!(
            local_transcriber(&voice, data.path(), Some("nope"))
                .unwrap_err()
                .code,
            VoiceErrorCode::InvalidInput
        );

        // A file of the right size that is not a model (sparse: no 75 MB written).
        let spec = sam_voice::models::find_model("tiny.en").unwrap();
        let path = sam_voice::models::model_path(data.path(), &spec);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(spec.size_bytes).unwrap();
        drop(file);
        let error = local_transcriber(&voice, data.path(), Some("tiny.en")).unwrap_err();
        assert_eq!(error.code, VoiceErrorCode::ModelUnreadable);
        assert!(error.message.contains("could not be loaded"), "{error:?}");
        assert!(error.message.contains("download it again"), "{error:?}");
        assert!(voice.local.lock().unwrap().is_none(), "nothing cached");
    }
}

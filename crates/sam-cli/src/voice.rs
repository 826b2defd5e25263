//! `sam voice …`: microphones, recording and transcription — the same crate as the app.
//!
//! The transcription key comes from the vault (an OpenAI, OpenAI-compatible or Mistral
//! credential), or from `SAM_TRANSCRIBE_API_KEY` (scripts and tests); never from argv.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use sam_core::AppPaths;
use sam_secrets::{CredentialKind, VaultError};
use sam_voice::{
    ApiKey, AudioInput, HandsFree, Mode, OpenAiCompatible, OpenAiConfig, Recorder,
    TranscribeOptions, Transcriber, Transcript, Utterance, UtteranceEvent, VoiceError,
};
use serde::Serialize;

use crate::credentials::open_vault;
use crate::output::{CliError, print_json};

/// The environment variable with a transcription API key (for scripts and tests; the vault
/// is the normal place).
pub const API_KEY_ENV: &str = "SAM_TRANSCRIBE_API_KEY";

#[derive(Debug, Subcommand)]
pub enum VoiceCommand {
    /// List microphones (the default first).
    Devices {
        #[arg(long)]
        json: bool,
    },
    /// Transcribe an audio file (wav, mp3, m4a, flac, ogg, webm, …).
    Transcribe {
        /// The audio file.
        file: PathBuf,
        #[command(flatten)]
        options: TranscribeArgs,
        #[arg(long)]
        json: bool,
    },
    /// Record from a microphone: for --seconds (or until Enter), or hands-free until a pause.
    Record {
        /// A device id or name from `sam voice devices` (default: the system's).
        #[arg(long)]
        device: Option<String>,
        /// End when the speaker pauses instead of after --seconds.
        #[arg(long)]
        hands_free: bool,
        /// Hands-free: the pause that ends the utterance.
        #[arg(long, default_value_t = 800)]
        silence_ms: u32,
        /// Record this long (push-to-talk); hands-free: give up after this long.
        #[arg(long)]
        seconds: Option<f64>,
        /// Write the speech (16 kHz mono WAV) here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Transcribe the recording too.
        #[arg(long)]
        transcribe: bool,
        #[command(flatten)]
        options: TranscribeArgs,
        #[arg(long)]
        json: bool,
    },
    /// On-device speech models: which there are and which are downloaded.
    Models {
        #[arg(long)]
        json: bool,
    },
    /// Download an on-device speech model (checked against its SHA-256).
    Download {
        /// A model id from `sam voice models`, e.g. base.en.
        model: String,
        #[arg(long)]
        json: bool,
    },
}

/// Where and how to transcribe.
#[derive(Debug, Clone, Args)]
pub struct TranscribeArgs {
    /// An OpenAI-compatible service's base URL (default: the credential's, else OpenAI's).
    #[arg(long)]
    base_url: Option<String>,
    /// The model (default: whisper-1; Mistral: voxtral-mini-latest).
    #[arg(long)]
    model: Option<String>,
    /// Which stored credential to use (name or id; default: an OpenAI, OpenAI-compatible or
    /// Mistral one).
    #[arg(long)]
    credential: Option<String>,
    /// The spoken language (ISO-639-1, e.g. en); default: detected.
    #[arg(long)]
    language: Option<String>,
    /// Words to expect (names, jargon).
    #[arg(long)]
    prompt: Option<String>,
    /// Transcribe on this computer with a whisper.cpp model: a file, or a model id from
    /// `sam voice models` that was downloaded.
    #[arg(long, value_name = "MODEL")]
    local: Option<String>,
    /// The service's upload limit in MB (longer WAV audio is split under it).
    #[arg(long, default_value_t = 25.0)]
    max_upload_mb: f64,
    /// Give up on one request after this long.
    #[arg(long, default_value_t = 180)]
    timeout_secs: u64,
}

impl VoiceCommand {
    pub fn json(&self) -> bool {
        match self {
            Self::Devices { json }
            | Self::Transcribe { json, .. }
            | Self::Record { json, .. }
            | Self::Models { json }
            | Self::Download { json, .. } => *json,
        }
    }
}

/// A voice error keeps its own code (`no_microphone`, `rate_limited`, …) on its way out.
#[derive(Debug)]
pub enum VoiceCliError {
    Voice(VoiceError),
    Cli(CliError),
}

impl From<VoiceError> for VoiceCliError {
    fn from(e: VoiceError) -> Self {
        Self::Voice(e)
    }
}

impl From<CliError> for VoiceCliError {
    fn from(e: CliError) -> Self {
        Self::Cli(e)
    }
}

impl VoiceCliError {
    pub fn report(&self, json: bool) {
        match self {
            Self::Cli(e) => e.report(json),
            Self::Voice(e) if json => {
                #[derive(Serialize)]
                struct Envelope<'a> {
                    error: &'a VoiceError,
                }
                let _ = print_json(&Envelope { error: e });
            }
            Self::Voice(e) => {
                let _ = writeln!(std::io::stderr(), "sam: {e}");
            }
        }
    }
}

pub fn run(command: VoiceCommand) -> Result<(), VoiceCliError> {
    match command {
        VoiceCommand::Devices { json } => {
            let devices = sam_voice::devices()?;
            if devices.is_empty() {
                return Err(VoiceError::NoMicrophone.into());
            }
            if json {
                return Ok(print_json(&devices)?);
            }
            for d in devices {
                let format = match (d.sample_rate, d.channels) {
                    (Some(rate), Some(ch)) => format!("{rate} Hz, {ch} ch"),
                    _ => String::new(),
                };
                say(&format!(
                    "{} {:<40} {:<32} {format}",
                    if d.is_default { "*" } else { " " },
                    d.name,
                    d.id
                ))?;
            }
            Ok(())
        }
        VoiceCommand::Transcribe {
            file,
            options,
            json,
        } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| VoiceError::Io(format!("Could not read {}: {e}", file.display())))?;
            let file_name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "audio".into());
            let transcript = transcribe(AudioInput::File { bytes, file_name }, &options)?;
            print_transcript(&transcript, json)
        }
        VoiceCommand::Record {
            device,
            hands_free,
            silence_ms,
            seconds,
            out,
            transcribe: then_transcribe,
            options,
            json,
        } => {
            let utterance = record(device, hands_free, silence_ms, seconds, json)?;
            if let Some(out) = &out {
                let wav = utterance.to_wav()?;
                std::fs::write(out, wav).map_err(|e| {
                    VoiceError::Io(format!("Could not write {}: {e}", out.display()))
                })?;
            }
            let transcript = if then_transcribe {
                Some(transcribe(AudioInput::Speech(utterance.clone()), &options)?)
            } else {
                None
            };
            if json {
                return Ok(print_json(&serde_json::json!({
                    "file": out,
                    "start_ms": utterance.start_ms,
                    "duration_ms": utterance.duration_ms(),
                    "speech_ms": utterance.speech_ms,
                    "sample_rate": utterance.sample_rate,
                    "transcript": transcript,
                }))?);
            }
            say(&format!(
                "Recorded {:.1} s ({:.1} s of speech){}",
                utterance.duration_ms() as f64 / 1000.0,
                utterance.speech_ms as f64 / 1000.0,
                out.map(|o| format!(" to {}", o.display()))
                    .unwrap_or_default()
            ))?;
            if let Some(t) = transcript {
                say(&t.text)?;
            }
            Ok(())
        }
        VoiceCommand::Models { json } => {
            let data = data_dir()?;
            #[derive(Serialize)]
            struct Row {
                #[serde(flatten)]
                spec: sam_voice::models::ModelSpec,
                installed: bool,
                path: PathBuf,
            }
            let rows: Vec<Row> = sam_voice::models::catalog()
                .into_iter()
                .map(|spec| Row {
                    installed: sam_voice::models::is_installed(&data, &spec),
                    path: sam_voice::models::model_path(&data, &spec),
                    spec,
                })
                .collect();
            if json {
                return Ok(print_json(&serde_json::json!({
                    "on_device_transcription": cfg!(feature = "local-whisper"),
                    "models": rows,
                }))?);
            }
            for r in rows {
                say(&format!(
                    "{:<10} {:<12} {}",
                    r.spec.id,
                    if r.installed { "downloaded" } else { "" },
                    r.spec.description
                ))?;
            }
            if !cfg!(feature = "local-whisper") {
                say(
                    "(This build cannot transcribe on the device; models can still be downloaded.)",
                )?;
            }
            Ok(())
        }
        VoiceCommand::Download { model, json } => {
            let spec = sam_voice::models::find_model(&model).ok_or_else(|| {
                let ids: Vec<String> = sam_voice::models::catalog()
                    .into_iter()
                    .map(|m| m.id)
                    .collect();
                VoiceError::InvalidInput(format!(
                    "No model \"{model}\". Pick one of: {}.",
                    ids.join(", ")
                ))
            })?;
            let data = data_dir()?;
            let runtime = runtime()?;
            let http = reqwest_client()?;
            let cancel = AtomicBool::new(false);
            let interactive = !json && std::io::stderr().is_terminal();
            let path = runtime.block_on(sam_voice::models::download_model(
                &http,
                &spec,
                &data,
                &cancel,
                |p| {
                    if interactive {
                        let _ = write!(
                            std::io::stderr(),
                            "\r{:>5.1}% of {} MB",
                            p.downloaded as f64 * 100.0 / p.total.max(1) as f64,
                            p.total / 1_000_000
                        );
                    }
                },
            ))?;
            if interactive {
                let _ = writeln!(std::io::stderr());
            }
            if json {
                return Ok(print_json(&serde_json::json!({
                    "model": spec.id,
                    "path": path,
                    "sha256": spec.sha256,
                    "size_bytes": spec.size_bytes,
                }))?);
            }
            say(&format!("Downloaded {} to {}", spec.id, path.display()))?;
            Ok(())
        }
    }
}

fn record(
    device: Option<String>,
    hands_free: bool,
    silence_ms: u32,
    seconds: Option<f64>,
    json: bool,
) -> Result<Utterance, VoiceCliError> {
    let limit = seconds
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64);
    let interactive = std::io::stdin().is_terminal();
    if !hands_free && limit.is_none() && !interactive {
        return Err(CliError::invalid(
            "Without a terminal to press Enter in, give --seconds (or use --hands-free).",
        )
        .into());
    }
    let mode = if hands_free {
        Mode::HandsFree(HandsFree {
            silence_ms,
            no_speech_timeout_ms: Some(10_000),
            ..HandsFree::default()
        })
    } else {
        Mode::PushToTalk
    };
    let (handle, levels, events) = Recorder::start(device, mode)?;
    let meter = !json && std::io::stderr().is_terminal();
    std::thread::spawn(move || {
        for frame in levels {
            if meter {
                let bars = ((frame.rms_db() + 60.0).clamp(0.0, 60.0) / 2.0) as usize;
                let _ = write!(std::io::stderr(), "\r[{:<30}]", "#".repeat(bars));
            }
        }
    });
    if !json {
        let _ = writeln!(
            std::io::stderr(),
            "Recording from {}{}",
            handle.device().name,
            if hands_free {
                "; speak, then pause."
            } else if limit.is_none() {
                "; press Enter to stop."
            } else {
                "."
            }
        );
    }
    if !hands_free && limit.is_none() {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        return Ok(handle.stop()?);
    }
    let started = Instant::now();
    loop {
        if limit.is_some_and(|l| started.elapsed() >= l) {
            break;
        }
        match events.recv_timeout(Duration::from_millis(50)) {
            Ok(UtteranceEvent::Utterance(u)) if hands_free => {
                let _ = handle.stop();
                return Ok(u);
            }
            Ok(UtteranceEvent::Error(e)) => {
                let _ = handle.stop();
                return Err(e.into());
            }
            _ => {}
        }
    }
    if meter {
        let _ = writeln!(std::io::stderr());
    }
    Ok(handle.stop()?)
}

fn transcribe(audio: AudioInput, args: &TranscribeArgs) -> Result<Transcript, VoiceCliError> {
    let runtime = runtime()?;
    let options = TranscribeOptions {
        language: args.language.clone(),
        prompt: args.prompt.clone(),
    };
    if let Some(model) = &args.local {
        let path = local_model_path(model)?;
        return Ok(runtime.block_on(transcribe_locally(&path, audio, &options))?);
    }
    let config = service_config(args)?;
    let client = OpenAiCompatible::new(config)?;
    Ok(runtime.block_on(client.transcribe(audio, &options))?)
}

#[cfg(feature = "local-whisper")]
async fn transcribe_locally(
    path: &Path,
    audio: AudioInput,
    options: &TranscribeOptions,
) -> Result<Transcript, VoiceError> {
    let path = path.to_owned();
    let model = tokio::task::spawn_blocking(move || sam_voice::LocalWhisper::load(&path))
        .await
        .map_err(|e| VoiceError::Internal(e.to_string()))??;
    model.transcribe(audio, options).await
}

#[cfg(not(feature = "local-whisper"))]
async fn transcribe_locally(
    _path: &Path,
    _audio: AudioInput,
    _options: &TranscribeOptions,
) -> Result<Transcript, VoiceError> {
    Err(VoiceError::LocalUnavailable)
}

/// `--local`: a file, or the id of a downloaded catalog model.
fn local_model_path(model: &str) -> Result<PathBuf, VoiceCliError> {
    let as_path = PathBuf::from(model);
    if as_path.is_file() {
        return Ok(as_path);
    }
    if let Some(spec) = sam_voice::models::find_model(model) {
        let path = sam_voice::models::model_path(&data_dir()?, &spec);
        if path.is_file() {
            return Ok(path);
        }
        return Err(VoiceError::ModelMissing(format!(
            "{model} (run `sam voice download {model}`)"
        ))
        .into());
    }
    Err(VoiceError::ModelMissing(model.to_owned()).into())
}

/// Where to send audio, with which key: `SAM_TRANSCRIBE_API_KEY`, else the vault.
fn service_config(args: &TranscribeArgs) -> Result<OpenAiConfig, VoiceCliError> {
    let (base_url, key, default_model) = match std::env::var(API_KEY_ENV)
        .ok()
        .filter(|k| !k.trim().is_empty())
    {
        Some(key) => (None, Some(ApiKey::new(key.trim())), "whisper-1"),
        None => from_vault(args)?,
    };
    let base_url = args
        .base_url
        .clone()
        .or(base_url)
        .unwrap_or_else(|| "https://api.openai.com/v1".to_owned());
    let mut config = OpenAiConfig::custom(
        base_url,
        key,
        args.model
            .clone()
            .unwrap_or_else(|| default_model.to_owned()),
    );
    if !(args.max_upload_mb.is_finite() && args.max_upload_mb >= 0.1) {
        return Err(CliError::invalid("--max-upload-mb must be at least 0.1.").into());
    }
    config.max_upload_bytes = (args.max_upload_mb * 1024.0 * 1024.0) as u64;
    config.timeout = Duration::from_secs(args.timeout_secs.max(1));
    Ok(config)
}

/// The vault's transcription credential: the one named by --credential, else an OpenAI, an
/// OpenAI-compatible, then a Mistral one. With --base-url and none stored, no key (a local
/// server that needs none).
fn from_vault(
    args: &TranscribeArgs,
) -> Result<(Option<String>, Option<ApiKey>, &'static str), VoiceCliError> {
    let vault = open_vault()?;
    let usable = [
        CredentialKind::OpenaiApiKey,
        CredentialKind::OpenaiCompatible,
        CredentialKind::MistralApiKey,
    ];
    let material = if let Some(name) = &args.credential {
        let summary = vault.summary(name).map_err(CliError::vault)?;
        if !usable.contains(&summary.kind) {
            return Err(CliError::invalid(format!(
                "\"{}\" is a {}; transcription needs an OpenAI, OpenAI-compatible or Mistral credential.",
                summary.label,
                summary.kind.label()
            ))
            .into());
        }
        Some(
            vault
                .resolve(summary.kind, Some(name), None)
                .map_err(CliError::vault)?,
        )
    } else {
        let mut found = None;
        for kind in usable {
            match vault.resolve(kind, None, None) {
                Ok(m) => {
                    found = Some(m);
                    break;
                }
                Err(VaultError::NotConfigured(_)) => {}
                Err(e) => return Err(CliError::vault(e).into()),
            }
        }
        found
    };
    let Some(material) = material else {
        if args.base_url.is_some() {
            return Ok((None, None, "whisper-1"));
        }
        return Err(CliError::invalid(format!(
            "No transcription credential. Add one with `sam credentials set openai_api_key` (or openai_compatible, mistral_api_key), or set {API_KEY_ENV}."
        ))
        .into());
    };
    let secret = material.secret.expose();
    let key = (!secret.is_empty()).then(|| ApiKey::new(secret.clone()));
    Ok(match material.kind {
        CredentialKind::MistralApiKey => (
            Some("https://api.mistral.ai/v1".into()),
            key,
            "voxtral-mini-latest",
        ),
        CredentialKind::OpenaiCompatible => (
            material.public_fields.get("base_url").cloned(),
            key,
            "whisper-1",
        ),
        _ => (None, key, "whisper-1"),
    })
}

fn print_transcript(t: &Transcript, json: bool) -> Result<(), VoiceCliError> {
    if json {
        return Ok(print_json(t)?);
    }
    Ok(say(&t.text)?)
}

fn data_dir() -> Result<PathBuf, CliError> {
    AppPaths::from_env()
        .map(|p| p.data_dir)
        .map_err(|e| CliError::invalid(e.to_string()))
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::internal(e.to_string()))
}

fn reqwest_client() -> Result<reqwest::Client, CliError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| CliError::internal(e.to_string()))
}

fn say(line: &str) -> Result<(), CliError> {
    writeln!(std::io::stdout().lock(), "{line}").map_err(|e| CliError::internal(e.to_string()))
}

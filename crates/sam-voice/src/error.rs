//! What can go wrong with voice input, in words a user can act on, each with a stable code the
//! UI can switch on. Messages never contain an API key: provider messages are scrubbed of the
//! key before they are kept (see [`scrub`]).

use serde::ser::SerializeStruct;

/// A voice-input error: [`VoiceError::code`] is stable (it crosses IPC and `--json`), the
/// `Display` text is written for the user and says what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoiceError {
    /// No input device at all, or the sound system has none to offer.
    #[error("No microphone was found. {}", no_microphone_hint())]
    NoMicrophone,
    /// The device asked for by name or id is not there (unplugged, renamed).
    #[error(
        "The microphone \"{0}\" is not connected. Pick another one, or plug it in and try again (`sam voice devices` lists them)."
    )]
    DeviceNotFound(String),
    /// The OS refused access to the microphone.
    #[error("SAM Desktop may not use the microphone. {}", permission_hint())]
    PermissionDenied,
    /// Another program holds the device exclusively.
    #[error(
        "The microphone is busy: another program is using it exclusively. Close that program, or pick another microphone."
    )]
    DeviceBusy,
    /// The device went away (unplugged, the sound server stopped) while recording.
    #[error(
        "The microphone stopped sending sound (it was unplugged, or the sound system stopped). Plug it back in or pick another one, then record again."
    )]
    DeviceLost,
    /// The audio system failed in a way not covered above.
    #[error("The sound system reported a problem: {0}")]
    Audio(String),
    /// Nothing that sounded like speech was heard (or the transcript came back empty).
    #[error(
        "No speech was detected. Speak closer to the microphone, or check that the right one is selected."
    )]
    NoSpeech,
    /// A clip over the provider's upload limit that could not be split.
    #[error(
        "The audio is too large for the transcription service ({bytes} bytes, its limit is {limit} bytes). Use a shorter clip, or a WAV file (those are split automatically)."
    )]
    TooLarge { bytes: u64, limit: u64 },
    /// The service rejected the credential (401/403).
    #[error(
        "The transcription service rejected the API key: {0} Check the credential in Settings → Credentials."
    )]
    AuthFailed(String),
    /// The service is rate limiting us (429) and asked to wait longer than we will.
    #[error("The transcription service is rate limiting requests{}: {message}", retry_after_text(*.retry_after_secs))]
    RateLimited {
        retry_after_secs: Option<u64>,
        message: String,
    },
    /// The service answered with an error; `message` is the provider's own reason.
    #[error("Transcription failed{}: {message}", status_text(*.status))]
    TranscriptionFailed {
        status: Option<u16>,
        message: String,
    },
    /// The service did not answer in time.
    #[error(
        "The transcription service did not answer within {0} seconds. Try again, or use a shorter clip."
    )]
    Timeout(u64),
    /// The service could not be reached at all.
    #[error("Could not reach the transcription service: {0}")]
    Network(String),
    /// An audio file this code cannot read or send.
    #[error("This audio cannot be used: {0}")]
    UnsupportedAudio(String),
    /// The on-device model file is not there (not downloaded yet).
    #[error("The speech model {0} is not downloaded yet. Download it in Settings → Voice first.")]
    ModelMissing(String),
    /// The model file is there but whisper.cpp cannot load it (damaged, or not a ggml model).
    #[error(
        "The speech model could not be loaded: {0} is damaged or is not a whisper.cpp model. Delete it in Settings → Voice and download it again."
    )]
    ModelUnreadable(String),
    /// Loading or running the on-device model failed.
    #[error("The on-device speech model failed: {0}")]
    LocalModel(String),
    /// This build has no on-device transcription.
    #[error(
        "This build has no on-device transcription. Use a transcription service, or a build with the `local-whisper` feature."
    )]
    LocalUnavailable,
    /// The model download failed (network, HTTP status, disk).
    #[error("Downloading the speech model failed: {0}")]
    DownloadFailed(String),
    /// The downloaded model is not the file we expected; it was deleted.
    #[error(
        "The downloaded speech model is damaged (its SHA-256 is {actual}, expected {expected}); it was deleted. Try the download again."
    )]
    ChecksumMismatch { expected: String, actual: String },
    /// The user cancelled.
    #[error("Cancelled.")]
    Cancelled,
    /// A local file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// The caller passed something out of range.
    #[error("{0}")]
    InvalidInput(String),
    /// A bug on our side.
    #[error("Internal error in voice input: {0}")]
    Internal(String),
}

impl VoiceError {
    /// The stable code: the UI switches on it, `--json` prints it. Never rename one.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoMicrophone => "no_microphone",
            Self::DeviceNotFound(_) => "device_not_found",
            Self::PermissionDenied => "permission_denied",
            Self::DeviceBusy => "device_busy",
            Self::DeviceLost => "device_lost",
            Self::Audio(_) => "audio_error",
            Self::NoSpeech => "no_speech",
            Self::TooLarge { .. } => "too_large",
            Self::AuthFailed(_) => "auth_failed",
            Self::RateLimited { .. } => "rate_limited",
            Self::TranscriptionFailed { .. } => "transcription_failed",
            Self::Timeout(_) => "timeout",
            Self::Network(_) => "network",
            Self::UnsupportedAudio(_) => "unsupported_audio",
            Self::ModelMissing(_) => "model_missing",
            Self::ModelUnreadable(_) => "model_unreadable",
            Self::LocalModel(_) => "local_model_failed",
            Self::LocalUnavailable => "local_unavailable",
            Self::DownloadFailed(_) => "download_failed",
            Self::ChecksumMismatch { .. } => "checksum_mismatch",
            Self::Cancelled => "cancelled",
            Self::Io(_) => "io",
            Self::InvalidInput(_) => "invalid_input",
            Self::Internal(_) => "internal",
        }
    }

    /// Whether trying the same thing again later may work.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::DeviceBusy
                | Self::DeviceLost
                | Self::RateLimited { .. }
                | Self::Timeout(_)
                | Self::Network(_)
                | Self::DownloadFailed(_)
        ) || matches!(self, Self::TranscriptionFailed { status: Some(s), .. } if *s >= 500)
    }

    pub(crate) fn io(context: &str, error: &std::io::Error) -> Self {
        Self::Io(format!("{context}: {error}"))
    }
}

/// `{ "code": "...", "message": "..." }`, the shape the app's other errors have.
impl serde::Serialize for VoiceError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("VoiceError", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

fn status_text(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

fn retry_after_text(secs: Option<u64>) -> String {
    secs.map(|s| format!(" (try again in {s} s)"))
        .unwrap_or_default()
}

fn no_microphone_hint() -> &'static str {
    if cfg!(target_os = "macos") {
        "Plug one in, or check System Settings → Sound → Input."
    } else if cfg!(target_os = "windows") {
        "Plug one in, or check Settings → System → Sound → Input."
    } else {
        "Plug one in, and check that the sound server (PipeWire or PulseAudio) is running and the input is not disabled."
    }
}

fn permission_hint() -> &'static str {
    if cfg!(target_os = "macos") {
        "Allow it in System Settings → Privacy & Security → Microphone, then try again."
    } else if cfg!(target_os = "windows") {
        "Allow it in Settings → Privacy & security → Microphone (\"Let desktop apps access your microphone\"), then try again."
    } else {
        "Check that your user may use audio devices (the `audio` group, or a running PipeWire/PulseAudio session) and that no sandbox blocks the microphone."
    }
}

/// Removes every occurrence of `secret` from a provider's message and caps its length, so a
/// message that echoes the key (OpenAI's 401 echoes a masked one) can be shown and logged.
pub(crate) fn scrub(message: &str, secret: Option<&str>) -> String {
    let mut out = message.trim().to_owned();
    if let Some(secret) = secret.filter(|s| s.len() >= 4) {
        out = out.replace(secret, "<redacted>");
    }
    const MAX: usize = 500;
    if out.len() > MAX {
        let mut end = MAX;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_serialized_with_the_message() {
        let e = VoiceError::RateLimited {
            retry_after_secs: Some(20),
            message: "Slow down".into(),
        };
        let json = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(json["code"], "rate_limited");
        assert_eq!(
            json["message"],
            "The transcription service is rate limiting requests (try again in 20 s): Slow down"
        );
        assert_eq!(VoiceError::NoSpeech.code(), "no_speech");
        assert_eq!(VoiceError::DeviceLost.code(), "device_lost");
        assert!(VoiceError::DeviceLost.is_retryable());
        assert!(!VoiceError::NoSpeech.is_retryable());
    }

    #[test]
    fn scrub_removes_the_key_and_caps_length() {
        let s = scrub("bad key sk-abcdef123 given", Some("sk-abcdef123"));
        assert_eq!(s, "bad key <redacted> given");
        let long = "x".repeat(2000);
        assert!(scrub(&long, None).chars().count() <= 501);
    }
}

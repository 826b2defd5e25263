//! `sam voice …` with the real binary: microphones and recording through a private
//! PulseAudio server (the same helpers as sam-voice's capture tests), transcription against a
//! local OpenAI-shaped server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly by design"
)]

#[path = "../../sam-voice/tests/common/mod.rs"]
mod pulse;

use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

const KEY: &str = "sk-cli-test-key-9f8e7d6c";

fn sam(data: &std::path::Path, env: &[(String, String)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sam"))
        .args(args)
        .env("SAM_DATA_DIR", data)
        .env("SAM_CHANNEL", format!("voice-test-{}", std::process::id()))
        .env_remove(sam_voice_key_env())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn sam_voice_key_env() -> &'static str {
    "SAM_TRANSCRIBE_API_KEY"
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

// ---- microphones and recording through a real sound server --------------------------------

#[test]
fn devices_and_hands_free_recording_through_pulseaudio() {
    let server = pulse::start_pulse();
    let data = tempfile::tempdir().unwrap();
    let env = server.env();

    let out = sam(data.path(), &env, &["voice", "devices", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let devices = json_of(&out);
    let list = devices.as_array().unwrap();
    assert!(list[0]["is_default"].as_bool().unwrap(), "{devices}");
    assert!(
        list.iter()
            .any(|d| d["id"].as_str().unwrap().ends_with(":pulse")),
        "{devices}"
    );

    // Hands-free: speak once, pause; `sam` stops by itself and writes the speech.
    let phrase = pulse::speak("Please summarise the last commit.", data.path());
    let take = pulse::compose(&[Err(300), Ok(&phrase), Err(2000)]);
    let file = data.path().join("take.wav");
    take.write(&file);
    let out_wav = data.path().join("speech.wav");
    let recorder = Command::new(env!("CARGO_BIN_EXE_sam"))
        .args([
            "voice",
            "record",
            "--hands-free",
            "--silence-ms",
            "700",
            "--seconds",
            "20",
            "--json",
            "--out",
        ])
        .arg(&out_wav)
        .env("SAM_DATA_DIR", data.path())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The sound server takes a moment to start a new capture stream.
    std::thread::sleep(Duration::from_millis(2500));
    let played = Command::new("paplay")
        .arg(format!("--device={}", pulse::SINK))
        .arg(&file)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .status()
        .unwrap();
    assert!(played.success());
    let out = recorder.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let result = json_of(&out);
    let duration = result["duration_ms"].as_u64().unwrap();
    assert!(
        duration + 200 >= phrase.ms() && duration <= phrase.ms() + 700,
        "{duration} ms recorded for a {} ms phrase: {result}",
        phrase.ms()
    );
    let wav = sam_voice::decode_wav(&std::fs::read(&out_wav).unwrap()).unwrap();
    assert_eq!((wav.sample_rate, wav.channels), (16_000, 1));
    assert_eq!(wav.samples.len() as u64 * 1000 / 16_000, duration);
}

#[test]
fn an_unknown_microphone_is_a_coded_error() {
    let server = pulse::start_pulse();
    let data = tempfile::tempdir().unwrap();
    let out = sam(
        data.path(),
        &server.env(),
        &[
            "voice",
            "record",
            "--device",
            "Nope Mic",
            "--seconds",
            "1",
            "--json",
        ],
    );
    assert!(!out.status.success());
    let e = json_of(&out);
    assert_eq!(e["error"]["code"], "device_not_found", "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("Nope Mic"));
}

// ---- transcription against a local OpenAI-shaped service -----------------------------------

#[derive(Default)]
struct Fake {
    seen: Mutex<Vec<(String, String, String)>>,
}

async fn transcriptions(
    State(fake): State<Arc<Fake>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let error = |status: StatusCode, message: &str, code: &str| {
        (status, axum::Json(json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}}))).into_response()
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth == "Bearer sk-rate-limited" {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit reached for requests",
            "rate_limit_exceeded",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, "120".parse().unwrap());
        return r;
    }
    if auth != format!("Bearer {KEY}") {
        let given = auth.trim_start_matches("Bearer ");
        return error(
            StatusCode::UNAUTHORIZED,
            &format!("Incorrect API key provided: {given}."),
            "invalid_api_key",
        );
    }
    let (mut model, mut format, mut file_name) = (String::new(), String::new(), String::new());
    let mut wav_ok = false;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name().unwrap_or_default() {
            "model" => model = field.text().await.unwrap(),
            "response_format" => format = field.text().await.unwrap(),
            "file" => {
                file_name = field.file_name().unwrap_or_default().to_owned();
                wav_ok = sam_voice::decode_wav(&field.bytes().await.unwrap()).is_ok();
            }
            "language" | "prompt" => {}
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("Unrecognized request argument supplied: {other}"),
                    "unknown",
                );
            }
        }
    }
    if model != "whisper-1" || format != "json" || !file_name.ends_with(".wav") || !wav_ok {
        return error(StatusCode::BAD_REQUEST, "bad request", "invalid");
    }
    fake.seen.lock().unwrap().push((model, format, file_name));
    axum::Json(json!({"text": "Please summarise the last commit."})).into_response()
}

fn fake_service() -> (Arc<Fake>, String, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let fake = Arc::new(Fake::default());
    let app = Router::new()
        .route("/v1/audio/transcriptions", post(transcriptions))
        .with_state(fake.clone());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (fake, base, runtime)
}

fn speech_file(dir: &std::path::Path) -> std::path::PathBuf {
    let samples: Vec<f32> = (0..24_000)
        .map(|i| 0.3 * (i as f32 * 2.0 * std::f32::consts::PI * 180.0 / 16_000.0).sin())
        .collect();
    let path = dir.join("memo.wav");
    std::fs::write(&path, sam_voice::encode_wav(&samples, 16_000).unwrap()).unwrap();
    path
}

#[test]
fn transcribe_a_file_with_the_key_from_the_environment() {
    let (fake, base, _rt) = fake_service();
    let data = tempfile::tempdir().unwrap();
    let file = speech_file(data.path());
    let env = vec![(sam_voice_key_env().to_owned(), KEY.to_owned())];
    let file = file.to_str().unwrap();

    let out = sam(
        data.path(),
        &env,
        &["voice", "transcribe", file, "--base-url", &base, "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = json_of(&out);
    assert_eq!(t["text"], "Please summarise the last commit.");
    assert_eq!(t["model"], "whisper-1");
    assert_eq!(t["chunks"], 1);
    assert_eq!(fake.seen.lock().unwrap().len(), 1);

    // Plain output is the text alone.
    let out = sam(
        data.path(),
        &env,
        &["voice", "transcribe", file, "--base-url", &base],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Please summarise the last commit."
    );

    // A rejected key: the provider's reason, the stable code, and never the key.
    let wrong = vec![(
        sam_voice_key_env().to_owned(),
        "sk-wrong-secret-123456".to_owned(),
    )];
    let out = sam(
        data.path(),
        &wrong,
        &["voice", "transcribe", file, "--base-url", &base, "--json"],
    );
    assert!(!out.status.success());
    let e = json_of(&out);
    assert_eq!(e["error"]["code"], "auth_failed", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Incorrect API key provided")
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("sk-wrong-secret-123456"), "{all}");

    // Rate limited for two minutes: reported at once, with when to retry.
    let limited = vec![(sam_voice_key_env().to_owned(), "sk-rate-limited".to_owned())];
    let out = sam(
        data.path(),
        &limited,
        &["voice", "transcribe", file, "--base-url", &base, "--json"],
    );
    let e = json_of(&out);
    assert_eq!(e["error"]["code"], "rate_limited", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("try again in 120 s"),
        "{e}"
    );
}

#[test]
fn transcribe_errors_users_can_act_on() {
    let data = tempfile::tempdir().unwrap();
    let file = speech_file(data.path());
    let file = file.to_str().unwrap();

    // No key anywhere: how to add one.
    let out = sam(data.path(), &[], &["voice", "transcribe", file, "--json"]);
    assert!(!out.status.success());
    let e = json_of(&out);
    assert_eq!(e["error"]["code"], "invalid_input", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sam credentials set openai_api_key"),
        "{e}"
    );

    // A file that is not there.
    let out = sam(
        data.path(),
        &[],
        &["voice", "transcribe", "/no/such/file.wav", "--json"],
    );
    assert_eq!(json_of(&out)["error"]["code"], "io");

    // On-device: a model that was never downloaded; and, in a build without whisper.cpp, a
    // clear word that this build cannot.
    let out = sam(
        data.path(),
        &[],
        &["voice", "transcribe", file, "--local", "base.en", "--json"],
    );
    let e = json_of(&out);
    assert_eq!(e["error"]["code"], "model_missing", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sam voice download base.en"),
        "{e}"
    );
    if !cfg!(feature = "local-whisper") {
        let out = sam(
            data.path(),
            &[],
            &["voice", "transcribe", file, "--local", file, "--json"],
        );
        assert_eq!(json_of(&out)["error"]["code"], "local_unavailable");
    }

    // The model catalog, none downloaded.
    let out = sam(data.path(), &[], &["voice", "models", "--json"]);
    let m = json_of(&out);
    let models = m["models"].as_array().unwrap();
    assert!(
        models
            .iter()
            .any(|x| x["id"] == "base.en" && x["installed"] == false),
        "{m}"
    );
    assert!(
        models
            .iter()
            .all(|x| x["sha256"].as_str().unwrap().len() == 64)
    );
}

/// `SAM_VOICE_MODEL_BASE_URL` points `sam voice download` at another server; the catalogue's
/// checksum still decides, and a failed download leaves nothing in the data folder.
#[test]
fn model_downloads_from_a_mirror_are_checked() {
    use axum::routing::get;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let tiny = 77_704_715usize;
    let app = Router::new()
        .route(
            "/broken/ggml-tiny.en.bin",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "no disk") }),
        )
        .route(
            "/wrong/ggml-tiny.en.bin",
            get(move || async move { vec![0x5au8; tiny] }),
        );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let data = tempfile::tempdir().unwrap();
    let models = data.path().join("models").join("whisper");
    let leftovers = || {
        std::fs::read_dir(&models)
            .map(|d| d.count())
            .unwrap_or_default()
    };
    let mirror = |path: &str| {
        vec![(
            "SAM_VOICE_MODEL_BASE_URL".to_owned(),
            format!("{base}{path}"),
        )]
    };

    let out = sam(
        data.path(),
        &mirror("/broken"),
        &["voice", "download", "tiny.en", "--json"],
    );
    assert!(!out.status.success());
    let e = json_of(&out);
    assert_eq!(e["error"]["code"], "download_failed", "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("HTTP 500"),
        "{e}"
    );
    assert_eq!(leftovers(), 0);

    let out = sam(
        data.path(),
        &mirror("/wrong/"),
        &["voice", "download", "tiny.en", "--json"],
    );
    assert!(!out.status.success());
    let e = json_of(&out);
    assert_eq!(e["error"]["code"], "checksum_mismatch", "{e}");
    assert_eq!(leftovers(), 0, "the damaged download is deleted");

    let out = sam(
        data.path(),
        &mirror("/wrong"),
        &["voice", "models", "--json"],
    );
    let m = json_of(&out);
    let tiny_row = m["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "tiny.en")
        .unwrap()
        .clone();
    assert_eq!(tiny_row["installed"], false, "{m}");
    assert_eq!(
        tiny_row["url"],
        format!("{base}/wrong/ggml-tiny.en.bin"),
        "{m}"
    );
}

//! On-device speech models: a catalog of whisper.cpp models, and a download that runs only
//! when the user asks, reports progress, checks the SHA-256 and moves the file into the app's
//! data folder in one atomic rename (a half-downloaded model is never at the final path).
//!
//! Needs no whisper.cpp: the app can offer the download in any build.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::VoiceError;

/// A model file that can be downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelSpec {
    /// Short name: `base.en`, `small`, …
    pub id: String,
    pub file_name: String,
    pub url: String,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
    pub size_bytes: u64,
    pub description: String,
}

/// Where the catalog's files are published.
pub const DEFAULT_MODEL_BASE_URL: &str =
    "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

/// The environment variable that points the catalog at another server (a mirror, or a local
/// server in tests): the model files are fetched from `{base}/ggml-{id}.bin`. The checksums
/// stay the catalog's, so a mirror can only serve the same files.
pub const MODEL_BASE_URL_ENV: &str = "SAM_VOICE_MODEL_BASE_URL";

/// whisper.cpp's ggml models (checksums: the files' SHA-256 on huggingface.co, as published
/// in the repository's Git LFS pointers), from [`MODEL_BASE_URL_ENV`] when it is set, else
/// from [`DEFAULT_MODEL_BASE_URL`].
pub fn catalog() -> Vec<ModelSpec> {
    let base = std::env::var(MODEL_BASE_URL_ENV)
        .ok()
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty());
    catalog_at(base.as_deref().unwrap_or(DEFAULT_MODEL_BASE_URL))
}

/// The catalog with its files at `base_url` (no trailing slash needed).
pub fn catalog_at(base_url: &str) -> Vec<ModelSpec> {
    let base = base_url.trim_end_matches('/');
    let m = |id: &str, size: u64, sha256: &str, description: &str| {
        let file_name = format!("ggml-{id}.bin");
        ModelSpec {
            id: id.to_owned(),
            url: format!("{base}/{file_name}"),
            file_name,
            sha256: sha256.to_owned(),
            size_bytes: size,
            description: description.to_owned(),
        }
    };
    vec![
        m(
            "tiny.en",
            77_704_715,
            "921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f",
            "English, fastest, least accurate (75 MB)",
        ),
        m(
            "tiny",
            77_691_713,
            "be07e048e1e599ad46341c8d2a135645097a538221678b7acdd1b1919c6e1b21",
            "99 languages, fastest, least accurate (75 MB)",
        ),
        m(
            "base.en",
            147_964_211,
            "a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002",
            "English, fast, good for dictation (142 MB)",
        ),
        m(
            "base",
            147_951_465,
            "60ed5bc3dd14eea856493d334349b405782ddcaf0028d4b5df4088345fba2efe",
            "99 languages, fast (142 MB)",
        ),
        m(
            "small.en",
            487_614_201,
            "c6138d6d58ecc8322097e0f987c32f1be8bb0a18532a3f88f734d1bbf9c41e5d",
            "English, accurate, slower (466 MB)",
        ),
        m(
            "small",
            487_601_967,
            "1be3a9b2063867b937e64e2ec7483364a79917e157fa98c5d94b5c1fffea987b",
            "99 languages, accurate, slower (466 MB)",
        ),
    ]
}

/// The catalog entry `id`.
pub fn find_model(id: &str) -> Option<ModelSpec> {
    catalog().into_iter().find(|m| m.id == id)
}

/// Where models live under the app's data folder.
pub fn models_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join("whisper")
}

/// Where `spec` is (or will be) stored.
pub fn model_path(data_dir: &Path, spec: &ModelSpec) -> PathBuf {
    models_dir(data_dir).join(&spec.file_name)
}

/// Whether `spec` is downloaded (present with the right size; the checksum was checked when
/// it was put there).
pub fn is_installed(data_dir: &Path, spec: &ModelSpec) -> bool {
    std::fs::metadata(model_path(data_dir, spec)).is_ok_and(|m| m.len() == spec.size_bytes)
}

/// Deletes the downloaded `spec` (and any download of it left behind by a crash). Deleting a
/// model that is not there is not an error.
pub fn delete_model(data_dir: &Path, spec: &ModelSpec) -> Result<(), VoiceError> {
    let path = model_path(data_dir, spec);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(VoiceError::io(
                &format!("Could not delete {}", path.display()),
                &e,
            ));
        }
    }
    // `.ggml-base.en.bin.<pid>.part` files of downloads that never finished.
    let prefix = format!(".{}.", spec.file_name);
    if let Ok(entries) = std::fs::read_dir(models_dir(data_dir)) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(".part") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

/// Downloads models with one HTTP client (connection reuse, timeouts that suit files of
/// hundreds of MB: no limit on the whole transfer, but a stalled one fails).
#[derive(Debug, Clone)]
pub struct ModelDownloader {
    http: reqwest::Client,
}

impl Default for ModelDownloader {
    fn default() -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(30))
            .read_timeout(std::time::Duration::from_secs(60))
            .build()
            // Only a broken TLS backend fails here; a plain client still downloads.
            .unwrap_or_default();
        Self { http }
    }
}

impl ModelDownloader {
    /// [`download_model`] with this downloader's client.
    pub async fn download(
        &self,
        spec: &ModelSpec,
        data_dir: &Path,
        cancel: &AtomicBool,
        progress: impl FnMut(DownloadProgress) + Send,
    ) -> Result<PathBuf, VoiceError> {
        download_model(&self.http, spec, data_dir, cancel, progress).await
    }
}

/// How far a download is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DownloadProgress {
    pub downloaded: u64,
    pub total: u64,
}

/// Downloads `spec` into [`models_dir`]: streams to a temporary file beside the target,
/// hashing as it goes, calls `progress` every 256 KiB (and at the end), stops with
/// `cancelled` when `cancel` is set, checks size and SHA-256, then renames into place.
/// A failed or cancelled download leaves nothing behind.
pub async fn download_model(
    http: &reqwest::Client,
    spec: &ModelSpec,
    data_dir: &Path,
    cancel: &AtomicBool,
    mut progress: impl FnMut(DownloadProgress) + Send,
) -> Result<PathBuf, VoiceError> {
    let dir = models_dir(data_dir);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| VoiceError::io(&format!("Could not create {}", dir.display()), &e))?;
    let target = model_path(data_dir, spec);
    let partial = dir.join(format!(".{}.{}.part", spec.file_name, std::process::id()));
    let result = fetch(http, spec, &partial, cancel, &mut progress).await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(e);
    }
    if let Err(e) = tokio::fs::rename(&partial, &target).await {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(VoiceError::io(
            &format!("Could not move the model to {}", target.display()),
            &e,
        ));
    }
    sync_dir(&dir);
    Ok(target)
}

async fn fetch(
    http: &reqwest::Client,
    spec: &ModelSpec,
    partial: &Path,
    cancel: &AtomicBool,
    progress: &mut (impl FnMut(DownloadProgress) + Send),
) -> Result<(), VoiceError> {
    let mut response = http
        .get(&spec.url)
        .send()
        .await
        .map_err(|e| VoiceError::DownloadFailed(e.without_url().to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(VoiceError::DownloadFailed(format!(
            "the server answered HTTP {}",
            status.as_u16()
        )));
    }
    if let Some(length) = response.content_length()
        && length != spec.size_bytes
    {
        return Err(VoiceError::DownloadFailed(format!(
            "the server offers {length} bytes, the model has {}",
            spec.size_bytes
        )));
    }
    let mut file = tokio::fs::File::create(partial)
        .await
        .map_err(|e| VoiceError::io(&format!("Could not write {}", partial.display()), &e))?;
    let mut hasher = Sha256::new();
    let mut downloaded = 0u64;
    let mut reported = 0u64;
    let total = spec.size_bytes;
    progress(DownloadProgress { downloaded, total });
    loop {
        if cancel.load(Ordering::SeqCst) {
            return Err(VoiceError::Cancelled);
        }
        let chunk = response
            .chunk()
            .await
            .map_err(|e| VoiceError::DownloadFailed(e.without_url().to_string()))?;
        let Some(chunk) = chunk else { break };
        downloaded += chunk.len() as u64;
        if downloaded > total {
            return Err(VoiceError::DownloadFailed(format!(
                "the server sent more than the model's {total} bytes"
            )));
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| VoiceError::io(&format!("Could not write {}", partial.display()), &e))?;
        if downloaded - reported >= 256 * 1024 {
            reported = downloaded;
            progress(DownloadProgress { downloaded, total });
        }
    }
    file.flush()
        .await
        .and(file.sync_all().await)
        .map_err(|e| VoiceError::io(&format!("Could not write {}", partial.display()), &e))?;
    drop(file);
    if downloaded != total {
        return Err(VoiceError::DownloadFailed(format!(
            "the download stopped at {downloaded} of {total} bytes"
        )));
    }
    let actual = format!("{:x}", hasher.finalize());
    if !actual.eq_ignore_ascii_case(spec.sha256.trim()) {
        return Err(VoiceError::ChecksumMismatch {
            expected: spec.sha256.clone(),
            actual,
        });
    }
    if reported != downloaded {
        progress(DownloadProgress { downloaded, total });
    }
    Ok(())
}

/// Makes the rename durable where the OS allows syncing a directory.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_well_formed() {
        let all = catalog();
        assert!(all.len() >= 6);
        for m in &all {
            assert_eq!(m.sha256.len(), 64, "{}", m.id);
            assert!(
                m.sha256
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
            assert!(m.url.ends_with(&m.file_name));
        }
        assert_eq!(
            find_model("base.en").map(|m| m.size_bytes),
            Some(147_964_211)
        );
        let mirror = catalog_at("http://127.0.0.1:8080/models/");
        assert_eq!(
            mirror[0].url,
            "http://127.0.0.1:8080/models/ggml-tiny.en.bin"
        );
        assert_eq!(
            mirror[0].sha256, all[0].sha256,
            "a mirror serves the same files"
        );
        let dir = Path::new("/data");
        assert_eq!(
            model_path(dir, &all[0]),
            PathBuf::from("/data/models/whisper/ggml-tiny.en.bin")
        );
    }
}

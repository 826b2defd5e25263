//! The model download against a local server: progress, SHA-256, atomic rename, and nothing
//! left behind when it fails or is cancelled.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly by design"
)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use sam_voice::models::{
    DownloadProgress, ModelDownloader, ModelSpec, catalog_at, delete_model, download_model,
    is_installed, model_path, models_dir,
};
use sha2::{Digest, Sha256};

/// 3 MiB of deterministic bytes.
fn model_bytes() -> Vec<u8> {
    let mut x = 0x1234_5678u32;
    (0..3 * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

async fn serve() -> String {
    let bytes = model_bytes();
    let app = Router::new()
        .route("/ggml-test.bin", get(move || async move { bytes.clone() }))
        .route("/missing.bin", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/broken.bin",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "disk on fire") }),
        )
        // A mirror of the catalogue that serves the wrong bytes under a real model's name.
        .route(
            "/mirror/ggml-tiny.en.bin",
            get(|| async { vec![7u8; 77_704_715] }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

fn spec(base: &str, path: &str, sha256: String, size: u64) -> ModelSpec {
    ModelSpec {
        id: "test".into(),
        file_name: "ggml-test.bin".into(),
        url: format!("{base}{path}"),
        sha256,
        size_bytes: size,
        description: "a test model".into(),
    }
}

fn right() -> (String, u64) {
    let bytes = model_bytes();
    (format!("{:x}", Sha256::digest(&bytes)), bytes.len() as u64)
}

fn leftovers(data: &Path) -> Vec<String> {
    std::fs::read_dir(models_dir(data))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn downloads_with_progress_checks_the_sha256_and_renames_into_place() {
    let base = serve().await;
    let data = tempfile::tempdir().unwrap();
    let (sha, size) = right();
    let spec = spec(&base, "/ggml-test.bin", sha, size);
    let mut seen: Vec<DownloadProgress> = Vec::new();
    let cancel = AtomicBool::new(false);
    let path = download_model(&reqwest::Client::new(), &spec, data.path(), &cancel, |p| {
        seen.push(p)
    })
    .await
    .unwrap();
    assert_eq!(path, model_path(data.path(), &spec));
    assert_eq!(std::fs::read(&path).unwrap(), model_bytes());
    assert!(is_installed(data.path(), &spec));
    assert_eq!(seen.first().map(|p| p.downloaded), Some(0));
    assert_eq!(
        seen.last(),
        Some(&DownloadProgress {
            downloaded: size,
            total: size
        })
    );
    assert!(seen.len() >= 5, "{} progress reports for 3 MiB", seen.len());
    assert!(seen.windows(2).all(|w| w[0].downloaded <= w[1].downloaded));
    assert_eq!(leftovers(data.path()), vec!["ggml-test.bin".to_owned()]);
}

#[tokio::test]
async fn a_wrong_checksum_deletes_the_download() {
    let base = serve().await;
    let data = tempfile::tempdir().unwrap();
    let (_, size) = right();
    let spec = spec(&base, "/ggml-test.bin", "0".repeat(64), size);
    let e = download_model(
        &reqwest::Client::new(),
        &spec,
        data.path(),
        &AtomicBool::new(false),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "checksum_mismatch", "{e}");
    assert!(e.to_string().contains(&right().0), "{e}");
    assert!(!is_installed(data.path(), &spec));
    assert!(
        leftovers(data.path()).is_empty(),
        "{:?}",
        leftovers(data.path())
    );
}

#[tokio::test]
async fn http_errors_and_a_wrong_size_leave_nothing() {
    let base = serve().await;
    let data = tempfile::tempdir().unwrap();
    let (sha, size) = right();
    let client = reqwest::Client::new();
    let missing = spec(&base, "/missing.bin", sha.clone(), size);
    let e = download_model(
        &client,
        &missing,
        data.path(),
        &AtomicBool::new(false),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "download_failed");
    assert!(e.to_string().contains("404"), "{e}");
    let wrong_size = spec(&base, "/ggml-test.bin", sha, size + 1);
    let e = download_model(
        &client,
        &wrong_size,
        data.path(),
        &AtomicBool::new(false),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "download_failed", "{e}");
    assert!(leftovers(data.path()).is_empty());
}

#[tokio::test]
async fn cancelling_stops_the_download_and_cleans_up() {
    let base = serve().await;
    let data = tempfile::tempdir().unwrap();
    let (sha, size) = right();
    let spec = spec(&base, "/ggml-test.bin", sha, size);
    let cancel = AtomicBool::new(false);
    let e = download_model(&reqwest::Client::new(), &spec, data.path(), &cancel, |p| {
        if p.downloaded > 0 {
            cancel.store(true, Ordering::SeqCst);
        }
    })
    .await
    .unwrap_err();
    assert_eq!(e.code(), "cancelled");
    assert!(
        leftovers(data.path()).is_empty(),
        "{:?}",
        leftovers(data.path())
    );
}

/// A server that announces `announced` bytes, sends `body` and hangs up.
async fn serve_truncated(announced: u64, body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {announced}\r\nconnection: close\r\n\r\n"
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&body).await;
            let _ = socket.shutdown().await;
        }
    });
    base
}

#[tokio::test]
async fn a_truncated_download_and_a_server_error_leave_nothing() {
    let bytes = model_bytes();
    let (sha, size) = right();
    let base = serve_truncated(size, bytes[..bytes.len() / 3].to_vec()).await;
    let data = tempfile::tempdir().unwrap();
    let downloader = ModelDownloader::default();
    let truncated = spec(&base, "/ggml-test.bin", sha.clone(), size);
    let e = downloader
        .download(&truncated, data.path(), &AtomicBool::new(false), |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), "download_failed", "{e}");
    assert!(!is_installed(data.path(), &truncated));
    assert!(
        leftovers(data.path()).is_empty(),
        "{:?}",
        leftovers(data.path())
    );

    let base = serve().await;
    let broken = spec(&base, "/broken.bin", sha, size);
    let e = downloader
        .download(&broken, data.path(), &AtomicBool::new(false), |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), "download_failed");
    assert!(e.to_string().contains("HTTP 500"), "{e}");
    assert!(e.is_retryable());
    assert!(leftovers(data.path()).is_empty());
}

#[tokio::test]
async fn a_mirror_of_the_catalogue_cannot_serve_other_bytes() {
    let base = serve().await;
    let data = tempfile::tempdir().unwrap();
    let tiny = catalog_at(&format!("{base}/mirror/"))
        .into_iter()
        .find(|m| m.id == "tiny.en")
        .unwrap();
    assert_eq!(tiny.url, format!("{base}/mirror/ggml-tiny.en.bin"));
    let e = ModelDownloader::default()
        .download(&tiny, data.path(), &AtomicBool::new(false), |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), "checksum_mismatch", "{e}");
    assert!(e.to_string().contains("it was deleted"), "{e}");
    assert!(!is_installed(data.path(), &tiny));
    assert!(leftovers(data.path()).is_empty());
}

#[tokio::test]
async fn delete_removes_the_model_and_stale_partial_downloads() {
    let base = serve().await;
    let data = tempfile::tempdir().unwrap();
    let (sha, size) = right();
    let spec = spec(&base, "/ggml-test.bin", sha, size);
    // Deleting what is not there is fine.
    delete_model(data.path(), &spec).unwrap();
    ModelDownloader::default()
        .download(&spec, data.path(), &AtomicBool::new(false), |_| {})
        .await
        .unwrap();
    assert!(is_installed(data.path(), &spec));
    let stale = models_dir(data.path()).join(".ggml-test.bin.999999.part");
    std::fs::write(&stale, b"half a model").unwrap();
    let other = models_dir(data.path()).join("ggml-other.bin");
    std::fs::write(&other, b"another model").unwrap();
    delete_model(data.path(), &spec).unwrap();
    assert!(!is_installed(data.path(), &spec));
    assert!(!model_path(data.path(), &spec).exists());
    assert!(!stale.exists());
    assert!(other.exists(), "other models stay");
}

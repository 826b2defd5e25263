//! The `sam` binary run as a user runs it, in its own data folder and keyring collection.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    reason = "test helpers fail loudly by design; each test file uses some of them"
)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use sam_testkit::FakeProviders;

pub struct Cli {
    pub data: tempfile::TempDir,
    pub channel: String,
    pub env: Vec<(String, String)>,
}

impl Cli {
    pub fn new(fake: &FakeProviders) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        Self {
            data: tempfile::tempdir().unwrap(),
            channel: format!(
                "cli-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ),
            env: fake.endpoints_env(),
        }
    }

    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sam"))
            .args(args)
            .env("SAM_DATA_DIR", self.data.path())
            .env("SAM_CHANNEL", &self.channel)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn json(&self, args: &[&str], stdin: &[u8]) -> (bool, serde_json::Value) {
        let out = self.run(args, stdin);
        let value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
        (out.status.success(), value)
    }
}

pub fn error_message(value: &serde_json::Value) -> String {
    value["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub fn leaks(dir: &std::path::Path, secret: &str) -> Vec<std::path::PathBuf> {
    sam_testkit::files_containing(dir, secret.as_bytes()).unwrap()
}

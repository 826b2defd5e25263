//! The OS seam of the doctor: everything a check may ask of the machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long any one probe (a `--version` run, a keyring look-up) may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the OS keyring answered to a harmless look-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringState {
    /// The keyring answered (the probe entry does not exist, as expected).
    Reachable,
    /// A keyring service is there but locked or refusing access.
    Locked(String),
    /// No keyring service could be reached.
    Unreachable(String),
}

/// Questions the checks ask of the machine.
pub trait System {
    fn env(&self, name: &str) -> Option<String>;
    fn find_program(&self, name: &str) -> Option<PathBuf>;
    /// The first line a program prints for `args` (stdout, else stderr), if it ran in time.
    fn program_version(&self, program: &Path, args: &[&str]) -> Option<String>;
    /// Whether the dynamic library can be loaded by this process.
    fn library_loads(&self, name: &str) -> bool;
    fn keyring(&self) -> KeyringState;
    /// GPU device nodes and Vulkan drivers visible to this process.
    fn gpu_devices(&self) -> Vec<String>;
}

/// The real machine.
#[derive(Debug, Default, Clone, Copy)]
pub struct LiveSystem;

impl System for LiveSystem {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn find_program(&self, name: &str) -> Option<PathBuf> {
        which::which(name).ok()
    }

    fn program_version(&self, program: &Path, args: &[&str]) -> Option<String> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + PROBE_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
            }
        }
        let output = child.wait_with_output().ok()?;
        let text = if output.stdout.iter().any(|b| !b.is_ascii_whitespace()) {
            output.stdout
        } else {
            output.stderr
        };
        String::from_utf8_lossy(&text)
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_owned)
    }

    fn library_loads(&self, name: &str) -> bool {
        load_library(name)
    }

    fn keyring(&self) -> KeyringState {
        // A look-up of an entry that never exists: it proves the service answers without
        // writing anything or prompting. It runs on its own thread because a stuck D-Bus
        // activation must not hang the doctor.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let state = match keyring::Entry::new("dev.sam.desktop.doctor", "probe")
                .and_then(|entry| entry.get_password())
            {
                Ok(_) | Err(keyring::Error::NoEntry) => KeyringState::Reachable,
                Err(keyring::Error::NoStorageAccess(e)) => KeyringState::Locked(e.to_string()),
                Err(e) => KeyringState::Unreachable(e.to_string()),
            };
            let _ = tx.send(state);
        });
        rx.recv_timeout(PROBE_TIMEOUT).unwrap_or_else(|_| {
            KeyringState::Unreachable("the keyring service did not answer within 5 seconds".into())
        })
    }

    fn gpu_devices(&self) -> Vec<String> {
        let mut found = Vec::new();
        for (dir, keep) in [
            ("/dev/dri", "renderD"),
            ("/usr/share/vulkan/icd.d", ".json"),
            ("/etc/vulkan/icd.d", ".json"),
        ] {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.contains(keep) {
                        found.push(format!("{dir}/{name}"));
                    }
                }
            }
        }
        found.sort();
        found
    }
}

/// dlopen with `RTLD_NODELETE`: libraries such as WebKitGTK start threads from their
/// initialisers, and unloading them afterwards would pull the code out from under those
/// threads (a crash seen here). Loading is the honest check: it resolves as the app will.
#[cfg(unix)]
fn load_library(name: &str) -> bool {
    use libloading::os::unix::{Library, RTLD_LAZY, RTLD_LOCAL};
    const RTLD_NODELETE: std::os::raw::c_int = 0x1000;
    #[expect(
        unsafe_code,
        reason = "dlopen runs the library's initialisers; only fixed sonames of system GUI libraries are loaded"
    )]
    // SAFETY: fixed sonames of system libraries whose initialisers have no preconditions;
    // RTLD_NODELETE keeps their code mapped for any thread they start.
    let loaded = unsafe { Library::open(Some(name), RTLD_LAZY | RTLD_LOCAL | RTLD_NODELETE) };
    loaded.is_ok()
}

#[cfg(not(unix))]
fn load_library(name: &str) -> bool {
    #[expect(
        unsafe_code,
        reason = "LoadLibrary runs the library's initialisers; only fixed system library names are loaded"
    )]
    // SAFETY: as above.
    let loaded = unsafe { libloading::Library::new(name) };
    loaded.is_ok()
}

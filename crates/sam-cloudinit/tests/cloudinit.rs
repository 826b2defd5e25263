//! The rendered user-data against the real tools: cloud-init's own schema validator, the
//! PyYAML that cloud-init parses user-data with, cloud-init's command shellifier, and `sh`
//! running the watchdog script that the user-data installs.
//!
//! These tests need Debian's `cloud-init` package. Without it they fail (never skip): install
//! it with `scripts/setup.sh --test`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use sam_cloudinit::{
    CloudInitSpec, DockerSource, HostKeys, MAX_USER_DATA_BYTES, UserData, Watchdog, render,
};
use serde_json::Value;

const USER_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti";

/// Printable key comments that would break naive YAML or shell templating; the one field where
/// such text is allowed, so it must come back verbatim.
const HOSTILE_COMMENTS: &[&str] = &[
    "\"double\" 'single' $(reboot) `reboot` ; rm -rf /",
    "key: value - item # not a comment",
    "&anchor *alias !!python/object/apply:os.system ['reboot']",
    "{} [] {\"a\": 1} @at %percent",
    "José ✓ 🔑 \\n \\u2028",
];

fn spec<'a>(
    keys: &'a HostKeys,
    authorized_key: &'a str,
    docker: DockerSource,
    enabled: bool,
) -> CloudInitSpec<'a> {
    CloudInitSpec {
        hostname: "sam-ws-7",
        user: "dev",
        authorized_key,
        host_keys: keys,
        docker,
        watchdog: Watchdog {
            idle_minutes: 37,
            enabled,
        },
        workspace_id: "ws-0042",
    }
}

/// Every docker × watchdog combination, plus one per hostile comment.
fn variants(keys: &HostKeys) -> Vec<(String, UserData)> {
    let mut out = Vec::new();
    for docker in [DockerSource::Preinstalled, DockerSource::Install] {
        for enabled in [true, false] {
            let user_data = render(&spec(keys, USER_KEY, docker, enabled)).unwrap();
            out.push((
                format!("{docker:?}, watchdog enabled: {enabled}"),
                user_data,
            ));
        }
    }
    for comment in HOSTILE_COMMENTS {
        let key = format!("{USER_KEY} {comment}");
        let user_data = render(&spec(keys, &key, DockerSource::Install, true)).unwrap();
        out.push((format!("comment {comment:?}"), user_data));
    }
    out
}

fn cloud_init() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("cloud-init"))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "The `cloud-init` command is not installed, so the user-data cannot be checked \
             against the real validator. install cloud-init: scripts/setup.sh --test"
        )
    })
}

/// The Python that cloud-init itself runs on (its shebang): it has PyYAML and the
/// `cloudinit` package, whatever `python3` is first on PATH.
fn cloud_init_python() -> PathBuf {
    let binary = cloud_init();
    let text = std::fs::read_to_string(&binary).unwrap();
    let interpreter = text
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("#!"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{} has no #! line", binary.display()));
    PathBuf::from(interpreter)
}

fn run_python(script: &str, stdin: &[u8]) -> Vec<u8> {
    let mut child = Command::new(cloud_init_python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The document as cloud-init reads it: PyYAML's `safe_load`, handed back as JSON.
fn yaml_load(user_data: &UserData) -> Value {
    let out = run_python(
        "import json, sys, yaml\n\
         json.dump(yaml.safe_load(sys.stdin.buffer), sys.stdout, ensure_ascii=False)",
        user_data.as_str().as_bytes(),
    );
    serde_json::from_slice(&out).unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn cloud_init_schema_accepts_every_variant() {
    let cloud_init = cloud_init();
    let keys = HostKeys::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, user_data) in variants(&keys) {
        let path = dir.path().join("user-data");
        std::fs::write(&path, user_data.as_str()).unwrap();
        let output = Command::new(&cloud_init)
            .args(["schema", "--config-file"])
            .arg(&path)
            .output()
            .unwrap();
        let said = text(&output);
        assert!(
            output.status.success() && said.contains("Valid cloud-config"),
            "cloud-init schema rejected {name}:\n{said}"
        );
        assert!(
            !said.to_lowercase().contains("deprecat") && !said.contains("Error"),
            "cloud-init schema warned about {name}:\n{said}"
        );
    }
}

#[test]
fn the_validator_does_catch_a_broken_document() {
    // Guards the test above against a validator that accepts anything.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("user-data");
    std::fs::write(
        &path,
        "#cloud-config\n{\"hostname\": 5, \"users\": \"x\"}\n",
    )
    .unwrap();
    let output = Command::new(cloud_init())
        .args(["schema", "--config-file"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!output.status.success(), "{}", text(&output));
}

#[test]
fn pyyaml_reads_exactly_what_json_reads() {
    let keys = HostKeys::generate().unwrap();
    for (name, user_data) in variants(&keys) {
        let body = user_data
            .as_str()
            .strip_prefix("#cloud-config\n")
            .unwrap_or_else(|| panic!("{name}: no #cloud-config line"));
        let as_json: Value = serde_json::from_str(body).unwrap();
        assert_eq!(yaml_load(&user_data), as_json, "{name}");
        assert!(user_data.as_str().len() <= MAX_USER_DATA_BYTES, "{name}");
    }
}

#[test]
fn parsed_structure_carries_the_spec() {
    let keys = HostKeys::generate().unwrap();
    let user_data = render(&spec(&keys, USER_KEY, DockerSource::Preinstalled, true)).unwrap();
    let config = yaml_load(&user_data);
    assert_eq!(config["hostname"], "sam-ws-7");
    assert_eq!(config["preserve_hostname"], false);
    assert_eq!(config["disable_root"], true);
    assert_eq!(config["ssh_pwauth"], false);
    assert_eq!(config["ssh_deletekeys"], true);
    let users = config["users"].as_array().unwrap();
    assert_eq!(users.len(), 1, "only our user, no distro default user");
    assert_eq!(users[0]["name"], "dev");
    assert_eq!(
        users[0]["ssh_authorized_keys"],
        serde_json::json!([USER_KEY])
    );
    assert_eq!(users[0]["groups"], serde_json::json!(["docker"]));
    assert_eq!(
        config["ssh_keys"]["ed25519_public"],
        keys.public_key_openssh()
    );
    assert_eq!(
        config["ssh_keys"]["ed25519_private"],
        keys.private_key_openssh()
    );
    let files = config["write_files"].as_array().unwrap();
    let content = |path: &str| {
        files
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("no {path}"))["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(content("/etc/sam/workspace"), "ws-0042\n");
    assert!(content("/usr/local/lib/sam/watchdog").contains("\nidle_minutes=37\n"));
    // The pinned line the desktop writes matches the key the VM will present.
    assert_eq!(
        keys.known_hosts_line("203.0.113.7").unwrap(),
        format!(
            "203.0.113.7 {}",
            config["ssh_keys"]["ed25519_public"].as_str().unwrap()
        )
    );
}

#[test]
fn hostile_key_comments_round_trip_verbatim_through_pyyaml() {
    let keys = HostKeys::generate().unwrap();
    for comment in HOSTILE_COMMENTS {
        let key = format!("{USER_KEY} {comment}");
        let user_data = render(&spec(&keys, &key, DockerSource::Install, true)).unwrap();
        let config = yaml_load(&user_data);
        assert_eq!(
            config["users"][0]["ssh_authorized_keys"][0].as_str(),
            Some(key.as_str()),
            "{comment:?}"
        );
    }
}

#[test]
fn cloud_init_turns_the_commands_into_valid_shell() {
    // bootcmd and runcmd argv lists become shell scripts via cloud-init's `shellify`; check
    // that what it makes of ours parses as shell (`sh -n`).
    let keys = HostKeys::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, user_data) in variants(&keys) {
        let scripts = run_python(
            "import json, sys, yaml\n\
             from cloudinit import util\n\
             cfg = yaml.safe_load(sys.stdin.buffer)\n\
             json.dump([util.shellify(cfg['bootcmd']), util.shellify(cfg['runcmd'])], sys.stdout)",
            user_data.as_str().as_bytes(),
        );
        let scripts: Vec<String> = serde_json::from_slice(&scripts).unwrap();
        for script in scripts {
            let path = dir.path().join("script.sh");
            std::fs::write(&path, &script).unwrap();
            let output = Command::new("sh").arg("-n").arg(&path).output().unwrap();
            assert!(
                output.status.success(),
                "{name}: {}\n{script}",
                text(&output)
            );
            assert!(script.starts_with("#!/bin/sh\n"), "{name}");
        }
    }
}

/// A sandbox for the watchdog script taken from the rendered user-data.
struct WatchdogRun {
    dir: tempfile::TempDir,
    script: PathBuf,
}

impl WatchdogRun {
    fn new(idle_minutes: u32) -> Self {
        let keys = HostKeys::generate().unwrap();
        let mut spec = spec(&keys, USER_KEY, DockerSource::Preinstalled, true);
        spec.watchdog.idle_minutes = idle_minutes;
        let config = yaml_load(&render(&spec).unwrap());
        let script = config["write_files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "/usr/local/lib/sam/watchdog")
            .unwrap()["content"]
            .as_str()
            .unwrap()
            .to_owned();
        let dir = tempfile::tempdir().unwrap();
        assert!(
            !dir.path().to_string_lossy().contains(char::is_whitespace),
            "the poweroff override is split on whitespace"
        );
        let path = dir.path().join("watchdog");
        std::fs::write(&path, script).unwrap();
        Self { dir, script: path }
    }

    fn stamp(&self) -> PathBuf {
        self.dir.path().join("state/activity")
    }

    fn marker(&self) -> PathBuf {
        self.dir.path().join("powered-off")
    }

    fn touch_stamp(&self, age: Duration) {
        let stamp = self.stamp();
        std::fs::create_dir_all(stamp.parent().unwrap()).unwrap();
        let file = std::fs::File::create(&stamp).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
    }

    /// Runs the script with `uptime_secs` as the machine's uptime.
    fn run(&self, uptime_secs: u64) -> Output {
        let uptime = self.dir.path().join("uptime");
        std::fs::write(&uptime, format!("{uptime_secs}.42 1234.56\n")).unwrap();
        let output = Command::new("sh")
            .arg(&self.script)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SAM_ACTIVITY_FILE", self.stamp())
            .env("SAM_UPTIME_FILE", &uptime)
            .env(
                "SAM_POWEROFF_CMD",
                format!("touch {}", self.marker().display()),
            )
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "watchdog failed: {}",
            text(&output)
        );
        output
    }

    fn powered_off(&self) -> bool {
        self.marker().exists()
    }
}

const MINUTE: Duration = Duration::from_secs(60);
const LONG_UPTIME_SECS: u64 = 86_400;

#[test]
fn watchdog_powers_off_only_after_the_idle_limit() {
    let run = WatchdogRun::new(10);
    run.touch_stamp(11 * MINUTE);
    let output = run.run(LONG_UPTIME_SECS);
    assert!(
        run.powered_off(),
        "stale stamp must power off: {}",
        text(&output)
    );
    assert!(text(&output).contains("powering off"), "{}", text(&output));
}

#[test]
fn watchdog_leaves_an_active_machine_alone() {
    let run = WatchdogRun::new(10);
    for age in [Duration::ZERO, 5 * MINUTE, 9 * MINUTE] {
        run.touch_stamp(age);
        run.run(LONG_UPTIME_SECS);
        assert!(!run.powered_off(), "stamp {age:?} old must not power off");
    }
    // A stamp from the future (clock adjusted) is not idleness either.
    let stamp = std::fs::File::options()
        .write(true)
        .open(run.stamp())
        .unwrap();
    stamp.set_modified(SystemTime::now() + 30 * MINUTE).unwrap();
    run.run(LONG_UPTIME_SECS);
    assert!(!run.powered_off());
}

#[test]
fn watchdog_creates_a_missing_stamp_without_powering_off() {
    let run = WatchdogRun::new(10);
    assert!(!run.stamp().exists());
    run.run(LONG_UPTIME_SECS);
    assert!(run.stamp().exists(), "the stamp is created");
    assert!(!run.powered_off());
    let age = SystemTime::now()
        .duration_since(std::fs::metadata(run.stamp()).unwrap().modified().unwrap())
        .unwrap_or_default();
    assert!(age < MINUTE, "the new stamp counts from now");
    // The next run sees a fresh stamp: still no power-off.
    run.run(LONG_UPTIME_SECS);
    assert!(!run.powered_off());
}

#[test]
fn watchdog_ignores_idle_time_from_before_boot() {
    let run = WatchdogRun::new(10);
    // The stamp is days old (the VM was powered off and started again) but the machine has
    // been up for less than the limit: sam-host gets its chance to touch the stamp.
    run.touch_stamp(3 * 24 * 60 * MINUTE);
    run.run(9 * 60);
    assert!(!run.powered_off());
    run.run(11 * 60);
    assert!(run.powered_off());
}

#[test]
fn watchdog_default_paths_are_the_real_ones() {
    let run = WatchdogRun::new(10);
    let script = std::fs::read_to_string(&run.script).unwrap();
    for default in [
        "${SAM_ACTIVITY_FILE:-/var/lib/sam/activity}",
        "${SAM_UPTIME_FILE:-/proc/uptime}",
        "${SAM_POWEROFF_CMD:-systemctl poweroff}",
    ] {
        assert!(script.contains(default), "{default}");
    }
    // POSIX sh: dash (Debian's /bin/sh) must at least parse it, as must bash in sh mode.
    for shell in ["sh", "dash", "bash"] {
        let Ok(output) = Command::new(shell).arg("-n").arg(&run.script).output() else {
            assert_ne!(shell, "sh", "sh must exist");
            continue;
        };
        assert!(output.status.success(), "{shell}: {}", text(&output));
    }
}

#[test]
fn watchdog_script_file_is_executable_sh() {
    // Cheap sanity: the rendered script starts with a POSIX shebang and only the minutes vary.
    let a = std::fs::read_to_string(&WatchdogRun::new(10).script).unwrap();
    let b = std::fs::read_to_string(&WatchdogRun::new(1440).script).unwrap();
    assert!(a.starts_with("#!/bin/sh\n"));
    let differing: Vec<(&str, &str)> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).collect();
    assert_eq!(differing, [("idle_minutes=10", "idle_minutes=1440")]);
}

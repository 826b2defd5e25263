//! The checks, in the order the report shows them.

use crate::system::{KeyringState, System};
use crate::{CheckStatus, DoctorCheck, DoctorReport};

/// Editor command-line launchers SAM can open files with, as (command, product name).
const EDITORS: &[(&str, &str)] = &[
    ("code", "VS Code"),
    ("cursor", "Cursor"),
    ("codium", "VSCodium"),
    ("zed", "Zed"),
    ("subl", "Sublime Text"),
    ("idea", "IntelliJ IDEA"),
    ("nvim", "Neovim"),
    ("vim", "Vim"),
    ("emacs", "Emacs"),
];

/// The tray libraries SAM can use on Linux, by soname, preferred first.
pub const TRAY_LIBRARIES: &[&str] = &["libayatana-appindicator3.so.1", "libappindicator3.so.1"];

/// Runs every check against `system`.
pub fn run_checks(system: &dyn System) -> DoctorReport {
    let mut checks = Vec::new();
    if cfg!(target_os = "linux") {
        checks.push(display(system));
        checks.push(library(
            system,
            "webkitgtk",
            "WebKitGTK runtime",
            &["libwebkit2gtk-4.1.so.0"],
            CheckStatus::Error,
            "The app window needs it. Install it: sudo apt install libwebkit2gtk-4.1-0 (Fedora: sudo dnf install webkit2gtk4.1).",
        ));
        checks.push(library(
            system,
            "appindicator",
            "Tray icon runtime (appindicator)",
            TRAY_LIBRARIES,
            CheckStatus::Warning,
            "SAM runs without a tray icon until it is installed: sudo apt install libayatana-appindicator3-1 (Fedora: sudo dnf install libayatana-appindicator-gtk3).",
        ));
    }
    checks.push(keyring(system));
    checks.push(tool(
        system,
        "ssh",
        "OpenSSH client",
        &["-V"],
        CheckStatus::Warning,
        "Needed to reach cloud workspaces from a terminal or editor: sudo apt install openssh-client.",
    ));
    checks.push(tool(
        system,
        "git",
        "Git",
        &["--version"],
        CheckStatus::Error,
        "Needed to check out repositories: sudo apt install git.",
    ));
    checks.push(tool(
        system,
        "docker",
        "Docker",
        &["--version"],
        CheckStatus::Warning,
        "Optional: local workspaces run without it. Install Docker Engine to use devcontainers on this computer.",
    ));
    checks.push(tool(
        system,
        "devcontainer",
        "Dev Containers CLI",
        &["--version"],
        CheckStatus::Warning,
        "Optional: needed for devcontainers on this computer: npm install -g @devcontainers/cli.",
    ));
    checks.push(editors(system));
    checks.push(gpu(system));
    DoctorReport { checks }
}

fn check(
    id: &str,
    label: &str,
    status: CheckStatus,
    detail: String,
    fix: Option<&str>,
) -> DoctorCheck {
    DoctorCheck {
        id: id.to_owned(),
        label: label.to_owned(),
        status,
        detail,
        fix: fix.map(str::to_owned),
    }
}

fn display(system: &dyn System) -> DoctorCheck {
    let found = ["WAYLAND_DISPLAY", "DISPLAY"]
        .iter()
        .find_map(|name| system.env(name).map(|value| format!("{name}={value}")));
    match found {
        Some(detail) => check("display", "Graphical session", CheckStatus::Ok, detail, None),
        None => check(
            "display",
            "Graphical session",
            CheckStatus::Warning,
            "Neither DISPLAY nor WAYLAND_DISPLAY is set: the app window cannot open here (the sam command works).".into(),
            Some("Run SAM Desktop inside a desktop session, or under Xvfb: xvfb-run -a sam-desktop."),
        ),
    }
}

fn library(
    system: &dyn System,
    id: &str,
    label: &str,
    sonames: &[&str],
    missing: CheckStatus,
    fix: &str,
) -> DoctorCheck {
    match sonames.iter().find(|soname| system.library_loads(soname)) {
        Some(soname) => check(id, label, CheckStatus::Ok, format!("{soname} loads"), None),
        None => check(
            id,
            label,
            missing,
            format!("{} not found", sonames.join(" or ")),
            Some(fix),
        ),
    }
}

fn keyring(system: &dyn System) -> DoctorCheck {
    let label = "OS keyring";
    match system.keyring() {
        KeyringState::Reachable => {
            check("keyring", label, CheckStatus::Ok, "reachable".into(), None)
        }
        KeyringState::Locked(reason) => check(
            "keyring",
            label,
            CheckStatus::Warning,
            format!("the keyring is locked or refused access: {reason}"),
            Some(
                "Unlock your login keyring (on GNOME: Passwords and Keys → Login → Unlock). SAM stores credentials nowhere else.",
            ),
        ),
        KeyringState::Unreachable(reason) => check(
            "keyring",
            label,
            CheckStatus::Error,
            format!("no keyring service answered: {reason}"),
            Some(if cfg!(target_os = "linux") {
                "Install and start a Secret Service provider: sudo apt install gnome-keyring, then log in again (or run gnome-keyring-daemon --start --components=secrets inside your session)."
            } else {
                "Make sure the system keychain is available to your user account."
            }),
        ),
    }
}

fn tool(
    system: &dyn System,
    program: &str,
    label: &str,
    version_args: &[&str],
    missing: CheckStatus,
    fix: &str,
) -> DoctorCheck {
    match system.find_program(program) {
        Some(path) => {
            let version = system
                .program_version(&path, version_args)
                .unwrap_or_else(|| "version unknown".into());
            check(
                program,
                label,
                CheckStatus::Ok,
                format!("{version} ({})", path.display()),
                None,
            )
        }
        None => check(
            program,
            label,
            missing,
            format!("`{program}` is not on PATH"),
            Some(fix),
        ),
    }
}

fn editors(system: &dyn System) -> DoctorCheck {
    let found: Vec<String> = EDITORS
        .iter()
        .filter(|(cmd, _)| system.find_program(cmd).is_some())
        .map(|(cmd, name)| format!("{name} ({cmd})"))
        .collect();
    let from_env: Vec<String> = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|name| system.env(name).map(|value| format!("${name}={value}")))
        .collect();
    if found.is_empty() && from_env.is_empty() {
        check(
            "editors",
            "Editors",
            CheckStatus::Warning,
            "no editor command-line launcher found".into(),
            Some(
                "File paths in chat open with the system's default app until an editor CLI is on PATH (VS Code: \"Shell Command: Install 'code' command in PATH\").",
            ),
        )
    } else {
        let detail = found
            .into_iter()
            .chain(from_env)
            .collect::<Vec<_>>()
            .join(", ");
        check("editors", "Editors", CheckStatus::Ok, detail, None)
    }
}

fn gpu(system: &dyn System) -> DoctorCheck {
    // This looks for device nodes and Vulkan drivers only; asking wgpu for an adapter arrives
    // with the fluid background crate.
    let devices = system.gpu_devices();
    let hardware = devices.iter().any(|d| d.contains("/dev/dri/renderD"));
    if hardware {
        check("gpu", "GPU", CheckStatus::Ok, devices.join(", "), None)
    } else {
        let detail = if devices.is_empty() {
            "no GPU render node or Vulkan driver found".into()
        } else {
            format!("no GPU render node; drivers: {}", devices.join(", "))
        };
        check(
            "gpu",
            "GPU",
            CheckStatus::Warning,
            detail,
            Some(
                "The fluid background falls back to a still gradient without a GPU. Install your GPU's Mesa or vendor driver to get it moving.",
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    use super::*;

    /// A scripted machine.
    #[derive(Default)]
    struct Scripted {
        env: HashMap<&'static str, &'static str>,
        programs: Vec<&'static str>,
        libraries: Vec<&'static str>,
        keyring: Option<KeyringState>,
        gpu: Vec<String>,
    }

    impl System for Scripted {
        fn env(&self, name: &str) -> Option<String> {
            self.env.get(name).map(|v| (*v).to_owned())
        }
        fn find_program(&self, name: &str) -> Option<PathBuf> {
            self.programs
                .contains(&name)
                .then(|| PathBuf::from(format!("/usr/bin/{name}")))
        }
        fn program_version(&self, program: &Path, _args: &[&str]) -> Option<String> {
            Some(format!("{} 1.0", program.file_name()?.to_string_lossy()))
        }
        fn library_loads(&self, name: &str) -> bool {
            self.libraries.contains(&name)
        }
        fn keyring(&self) -> KeyringState {
            self.keyring.clone().unwrap_or(KeyringState::Reachable)
        }
        fn gpu_devices(&self) -> Vec<String> {
            self.gpu.clone()
        }
    }

    fn healthy_machine() -> Scripted {
        Scripted {
            env: HashMap::from([("DISPLAY", ":0")]),
            programs: vec!["ssh", "git", "docker", "devcontainer", "code"],
            libraries: vec!["libwebkit2gtk-4.1.so.0", "libayatana-appindicator3.so.1"],
            keyring: Some(KeyringState::Reachable),
            gpu: vec!["/dev/dri/renderD128".into()],
        }
    }

    #[test]
    fn a_complete_machine_has_no_fixes_to_give() {
        let report = run_checks(&healthy_machine());
        assert!(report.healthy());
        for c in &report.checks {
            assert_eq!(c.status, CheckStatus::Ok, "{c:?}");
            assert_eq!(c.fix, None);
        }
        assert_eq!(report.check("editors").unwrap().detail, "VS Code (code)");
        assert!(report.check("git").unwrap().detail.starts_with("git 1.0"));
    }

    #[test]
    fn every_problem_comes_with_a_fix() {
        let report = run_checks(&Scripted {
            keyring: Some(KeyringState::Unreachable("no session bus".into())),
            ..Scripted::default()
        });
        assert!(!report.healthy());
        for c in &report.checks {
            if c.status != CheckStatus::Ok {
                assert!(c.fix.as_deref().is_some_and(|f| !f.is_empty()), "{c:?}");
            }
        }
        assert_eq!(report.check("git").unwrap().status, CheckStatus::Error);
        assert_eq!(report.check("keyring").unwrap().status, CheckStatus::Error);
        assert!(
            report
                .check("keyring")
                .unwrap()
                .detail
                .contains("no session bus")
        );
        assert_eq!(report.check("docker").unwrap().status, CheckStatus::Warning);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_missing_tray_runtime_is_a_warning_with_the_package_name() {
        let mut machine = healthy_machine();
        machine.libraries.retain(|l| !l.contains("appindicator"));
        let report = run_checks(&machine);
        let tray = report.check("appindicator").unwrap();
        assert_eq!(tray.status, CheckStatus::Warning);
        assert!(
            tray.fix
                .as_deref()
                .unwrap()
                .contains("libayatana-appindicator3-1")
        );
        assert!(report.healthy(), "the app runs without a tray");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn legacy_appindicator_counts() {
        let mut machine = healthy_machine();
        machine.libraries = vec!["libwebkit2gtk-4.1.so.0", "libappindicator3.so.1"];
        assert_eq!(
            run_checks(&machine).check("appindicator").unwrap().status,
            CheckStatus::Ok
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn no_display_is_explained() {
        let mut machine = healthy_machine();
        machine.env.clear();
        let display = run_checks(&machine).check("display").unwrap().clone();
        assert_eq!(display.status, CheckStatus::Warning);
        assert!(display.fix.unwrap().contains("xvfb-run"));
    }

    #[test]
    fn a_locked_keyring_is_a_warning_and_editor_variables_count() {
        let mut machine = healthy_machine();
        machine.keyring = Some(KeyringState::Locked("locked collection".into()));
        machine.programs.retain(|p| *p != "code");
        machine.env.insert("EDITOR", "nvim");
        let report = run_checks(&machine);
        assert_eq!(
            report.check("keyring").unwrap().status,
            CheckStatus::Warning
        );
        assert_eq!(report.check("editors").unwrap().detail, "$EDITOR=nvim");
    }

    #[test]
    fn software_only_rendering_is_a_warning() {
        let mut machine = healthy_machine();
        machine.gpu = vec!["/usr/share/vulkan/icd.d/lvp_icd.x86_64.json".into()];
        let gpu = run_checks(&machine).check("gpu").unwrap().clone();
        assert_eq!(gpu.status, CheckStatus::Warning);
        assert!(gpu.detail.contains("lvp_icd"));
    }

    #[test]
    fn report_serialises_with_camel_case_and_snake_case_status() {
        let report = run_checks(&healthy_machine());
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["checks"][0]["status"], "ok");
        assert!(json["checks"][0].get("fix").is_some());
    }
}

//! The cloud-config document, modelled as typed structs and serialised as JSON.
//!
//! Why JSON: cloud-init reads `#cloud-config` with PyYAML (YAML 1.1), and a JSON document is
//! valid YAML 1.1 as long as its strings hold no characters YAML treats differently — control
//! characters, NEL and the Unicode line/paragraph separators, which validation refuses. So a
//! real serializer (serde_json) does all quoting and escaping, nothing is spliced into a
//! template, and no YAML library is needed. Commands are argv lists, which cloud-init
//! single-quotes itself; the few shell scripts are constants (the watchdog's only variable is
//! an integer).

use serde::Serialize;
use zeroize::{Zeroize, Zeroizing};

use crate::{CloudInitError, CloudInitSpec, DockerSource, MAX_USER_DATA_BYTES, validate};

/// The first line cloud-init needs to treat user-data as cloud-config.
const HEADER: &str = "#cloud-config\n";

const WATCHDOG_SCRIPT: &str = include_str!("watchdog.sh");
const WATCHDOG_MINUTES_PLACEHOLDER: &str = "@IDLE_MINUTES@";
const WATCHDOG_SERVICE: &str = include_str!("watchdog.service");
const WATCHDOG_TIMER: &str = include_str!("watchdog.timer");
const INSTALL_DOCKER_SCRIPT: &str = include_str!("install-docker.sh");

const WATCHDOG_PATH: &str = "/usr/local/lib/sam/watchdog";
const ACTIVITY_DIR: &str = "/var/lib/sam";
const ACTIVITY_STAMP: &str = "/var/lib/sam/activity";

/// Timers and services that would take the dpkg lock (or reboot the VM) while we provision.
const APT_UNITS: [&str; 3] = [
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "unattended-upgrades.service",
];

/// Rendered user-data: `#cloud-config` and a JSON body. It holds the VM's host private key,
/// so it is wiped from memory on drop and `Debug` prints only its size.
pub struct UserData(Zeroizing<String>);

impl UserData {
    /// The document, to hand to the provider's create-server call — and nowhere else (not to
    /// logs, files or the webview).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for UserData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UserData(<redacted>, {} bytes)", self.0.len())
    }
}

#[derive(Serialize)]
struct CloudConfig<'a> {
    hostname: &'a str,
    preserve_hostname: bool,
    disable_root: bool,
    ssh_pwauth: bool,
    users: [UserEntry<'a>; 1],
    bootcmd: Vec<Vec<&'a str>>,
    write_files: Vec<WriteFile<'a>>,
    runcmd: Vec<Vec<&'a str>>,
    ssh_deletekeys: bool,
    /// Ignored by cloud-init whenever `ssh_keys` is given (nothing is generated); `[]` would
    /// say so more plainly but cloud-init 22.4's schema requires at least one entry, and an
    /// existing `ed25519` key file is never regenerated.
    ssh_genkeytypes: [&'static str; 1],
    /// Last, so the readable part of the document comes first.
    ssh_keys: SshKeys<'a>,
}

#[derive(Serialize)]
struct UserEntry<'a> {
    name: &'a str,
    gecos: &'static str,
    shell: &'static str,
    sudo: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<[&'static str; 1]>,
    lock_passwd: bool,
    ssh_authorized_keys: [&'a str; 1],
}

#[derive(Serialize)]
struct WriteFile<'a> {
    path: &'static str,
    content: &'a str,
    owner: &'static str,
    permissions: &'static str,
}

#[derive(Serialize)]
struct SshKeys<'a> {
    ed25519_private: &'a str,
    ed25519_public: &'a str,
}

/// Renders the cloud-init user-data for one workspace VM.
///
/// The result starts with `#cloud-config\n` followed by a JSON object (see the module docs for
/// why JSON), and is at most [`MAX_USER_DATA_BYTES`].
///
/// # Errors
/// - [`CloudInitError::Invalid`] naming the first field that fails validation (see the field
///   docs of [`CloudInitSpec`]).
/// - [`CloudInitError::TooLarge`] if the document exceeds [`MAX_USER_DATA_BYTES`].
/// - [`CloudInitError::Encode`] if serialisation fails (not expected).
pub fn render(spec: &CloudInitSpec<'_>) -> Result<UserData, CloudInitError> {
    validate::hostname(spec.hostname)?;
    validate::user(spec.user)?;
    let authorized_key = validate::authorized_key(spec.authorized_key)?;
    validate::workspace_id(spec.workspace_id)?;
    validate::idle_minutes(spec.watchdog.idle_minutes)?;

    let workspace_file = format!("{}\n", spec.workspace_id);
    let watchdog_script = watchdog_script(spec.watchdog.idle_minutes);
    let public_key = spec.host_keys.public_key_openssh();
    let chown_owner = format!("{}:", spec.user);

    // Stop (and keep off) apt's timers before they wake: an unattended upgrade would hold the
    // dpkg lock while we provision. Each unit gets its own line because a unit
    // missing on some image must not stop the others; bootcmd's status is its last
    // command's, so it ends with `true` and a missing unit does not mark cloud-init failed.
    let mut bootcmd: Vec<Vec<&str>> = APT_UNITS
        .iter()
        .map(|unit| vec!["systemctl", "disable", "--now", "--no-block", unit])
        .collect();
    bootcmd.push(vec!["true"]);

    // The watchdog comes first so that a slow or failing Docker install never delays the
    // cost safety. /var/lib/sam belongs to the workspace user: sam-host runs as that user and
    // must be able to touch the stamp; root (the watchdog) can always read it.
    let mut runcmd: Vec<Vec<&str>> = vec![
        vec!["mkdir", "-p", ACTIVITY_DIR],
        vec!["touch", ACTIVITY_STAMP],
        vec!["chown", &chown_owner, ACTIVITY_DIR, ACTIVITY_STAMP],
    ];
    if spec.watchdog.enabled {
        runcmd.push(vec!["systemctl", "daemon-reload"]);
        runcmd.push(vec!["systemctl", "enable", "--now", "sam-watchdog.timer"]);
    }
    let groups = match spec.docker {
        // The image has the `docker` group, so cloud-init adds the user to it at creation.
        DockerSource::Preinstalled => Some(["docker"]),
        // The package creates `docker` as a system group; joining it has to wait until then.
        DockerSource::Install => {
            runcmd.push(vec!["sh", "-c", INSTALL_DOCKER_SCRIPT]);
            runcmd.push(vec!["usermod", "-aG", "docker", spec.user]);
            None
        }
    };

    let config = CloudConfig {
        hostname: spec.hostname,
        preserve_hostname: false,
        disable_root: true,
        ssh_pwauth: false,
        users: [UserEntry {
            name: spec.user,
            gecos: "SAM workspace user",
            shell: "/bin/bash",
            sudo: "ALL=(ALL) NOPASSWD:ALL",
            groups,
            lock_passwd: true,
            ssh_authorized_keys: [&authorized_key],
        }],
        bootcmd,
        write_files: vec![
            WriteFile {
                path: "/etc/sam/workspace",
                content: &workspace_file,
                owner: "root:root",
                permissions: "0644",
            },
            WriteFile {
                path: WATCHDOG_PATH,
                content: &watchdog_script,
                owner: "root:root",
                permissions: "0755",
            },
            WriteFile {
                path: "/etc/systemd/system/sam-watchdog.service",
                content: WATCHDOG_SERVICE,
                owner: "root:root",
                permissions: "0644",
            },
            WriteFile {
                path: "/etc/systemd/system/sam-watchdog.timer",
                content: WATCHDOG_TIMER,
                owner: "root:root",
                permissions: "0644",
            },
        ],
        runcmd,
        ssh_deletekeys: true,
        ssh_genkeytypes: ["ed25519"],
        ssh_keys: SshKeys {
            ed25519_private: spec.host_keys.private_key_openssh(),
            ed25519_public: &public_key,
        },
    };

    // One buffer, sized up front so it is not reallocated (which would leave copies of the
    // private key behind), and wiped if anything below fails.
    let mut buffer = Zeroizing::new(Vec::with_capacity(MAX_USER_DATA_BYTES + 1));
    buffer.extend_from_slice(HEADER.as_bytes());
    serde_json::to_writer_pretty(&mut *buffer, &config)
        .map_err(|e| CloudInitError::Encode(e.to_string()))?;
    buffer.push(b'\n');
    check_size(buffer.len())?;
    let text = String::from_utf8(std::mem::take(&mut *buffer)).map_err(|e| {
        e.into_bytes().zeroize();
        CloudInitError::Encode("the serializer produced invalid UTF-8".to_owned())
    })?;
    Ok(UserData(Zeroizing::new(text)))
}

fn watchdog_script(idle_minutes: u32) -> String {
    WATCHDOG_SCRIPT.replace(WATCHDOG_MINUTES_PLACEHOLDER, &idle_minutes.to_string())
}

fn check_size(bytes: usize) -> Result<(), CloudInitError> {
    if bytes > MAX_USER_DATA_BYTES {
        return Err(CloudInitError::TooLarge {
            bytes,
            limit: MAX_USER_DATA_BYTES,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::tests::{ED25519, HOSTILE, HOSTILE_COMMENTS};
    use crate::{HostKeys, Watchdog};
    use serde_json::Value;

    fn spec<'a>(keys: &'a HostKeys) -> CloudInitSpec<'a> {
        CloudInitSpec {
            hostname: "sam-ws-1",
            user: "dev",
            authorized_key: ED25519,
            host_keys: keys,
            docker: DockerSource::Preinstalled,
            watchdog: Watchdog {
                idle_minutes: 45,
                enabled: true,
            },
            workspace_id: "ws-0123",
        }
    }

    fn body(user_data: &UserData) -> Value {
        let text = user_data.as_str().strip_prefix(HEADER).unwrap();
        serde_json::from_str(text).unwrap()
    }

    fn argv(value: &Value) -> Vec<Vec<String>> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|cmd| {
                cmd.as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect()
            })
            .collect()
    }

    fn file<'a>(config: &'a Value, path: &str) -> &'a Value {
        config["write_files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("no {path}"))
    }

    #[test]
    fn starts_with_the_header_and_parses_as_json() {
        let keys = HostKeys::generate().unwrap();
        let user_data = render(&spec(&keys)).unwrap();
        assert!(user_data.as_str().starts_with("#cloud-config\n{"));
        assert!(user_data.as_str().len() < MAX_USER_DATA_BYTES);
        let config = body(&user_data);
        assert_eq!(config["hostname"], "sam-ws-1");
        assert_eq!(config["preserve_hostname"], false);
        assert_eq!(config["disable_root"], true);
        assert_eq!(config["ssh_pwauth"], false);
        assert_eq!(config["ssh_deletekeys"], true);
        let user = &config["users"][0];
        assert_eq!(config["users"].as_array().unwrap().len(), 1);
        assert_eq!(user["name"], "dev");
        assert_eq!(user["sudo"], "ALL=(ALL) NOPASSWD:ALL");
        assert_eq!(user["shell"], "/bin/bash");
        assert_eq!(user["lock_passwd"], true);
        assert_eq!(user["ssh_authorized_keys"][0], ED25519);
        assert_eq!(file(&config, "/etc/sam/workspace")["content"], "ws-0123\n");
    }

    #[test]
    fn the_private_key_appears_only_in_ssh_keys() {
        let keys = HostKeys::generate().unwrap();
        let user_data = render(&spec(&keys)).unwrap();
        assert_eq!(user_data.as_str().matches("PRIVATE KEY").count(), 2);
        let mut config = body(&user_data);
        assert_eq!(
            config["ssh_keys"]["ed25519_private"],
            keys.private_key_openssh()
        );
        assert_eq!(
            config["ssh_keys"]["ed25519_public"],
            keys.public_key_openssh()
        );
        config["ssh_keys"]
            .as_object_mut()
            .unwrap()
            .remove("ed25519_private");
        let rest = config.to_string();
        assert!(!rest.contains("PRIVATE KEY"));
        let body_line = keys.private_key_openssh().lines().nth(1).unwrap();
        assert!(!rest.contains(body_line));
        // And the debug form gives nothing away.
        let debug = format!("{user_data:?}");
        assert!(debug.starts_with("UserData(<redacted>, ") && !debug.contains("PRIVATE"));
    }

    #[test]
    fn docker_source_decides_install_and_group() {
        let keys = HostKeys::generate().unwrap();
        let preinstalled = body(&render(&spec(&keys)).unwrap());
        assert_eq!(
            preinstalled["users"][0]["groups"],
            serde_json::json!(["docker"])
        );
        assert!(!preinstalled.to_string().contains("docker.io"));

        let install = body(
            &render(&CloudInitSpec {
                docker: DockerSource::Install,
                ..spec(&keys)
            })
            .unwrap(),
        );
        assert!(install["users"][0].get("groups").is_none());
        let runcmd = argv(&install["runcmd"]);
        let script = runcmd
            .iter()
            .position(|c| c[0] == "sh" && c[2].contains("install -y docker.io"))
            .unwrap();
        assert!(runcmd[script][2].contains("Acquire::Retries=3"));
        assert!(
            runcmd[script][2]
                .contains("apt-get -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300 update")
        );
        assert_eq!(runcmd[script + 1], ["usermod", "-aG", "docker", "dev"]);
        // The watchdog is running before the (slow, fallible) install starts.
        let watchdog = runcmd
            .iter()
            .position(|c| c.contains(&"sam-watchdog.timer".to_owned()))
            .unwrap();
        assert!(watchdog < script);
    }

    #[test]
    fn watchdog_is_installed_always_and_enabled_on_request() {
        let keys = HostKeys::generate().unwrap();
        for enabled in [true, false] {
            let config = body(
                &render(&CloudInitSpec {
                    watchdog: Watchdog {
                        idle_minutes: 45,
                        enabled,
                    },
                    ..spec(&keys)
                })
                .unwrap(),
            );
            let script = file(&config, WATCHDOG_PATH);
            assert_eq!(script["permissions"], "0755");
            let text = script["content"].as_str().unwrap();
            assert!(text.starts_with("#!/bin/sh\n"));
            assert!(text.contains("\nidle_minutes=45\n"));
            assert!(!text.contains(WATCHDOG_MINUTES_PLACEHOLDER));
            assert!(text.contains("cost safety"));
            file(&config, "/etc/systemd/system/sam-watchdog.service");
            let timer = file(&config, "/etc/systemd/system/sam-watchdog.timer");
            assert!(
                timer["content"]
                    .as_str()
                    .unwrap()
                    .contains("OnCalendar=minutely")
            );
            let runcmd = argv(&config["runcmd"]);
            assert_eq!(runcmd[0], ["mkdir", "-p", "/var/lib/sam"]);
            assert_eq!(runcmd[1], ["touch", "/var/lib/sam/activity"]);
            assert_eq!(
                runcmd[2],
                ["chown", "dev:", "/var/lib/sam", "/var/lib/sam/activity"]
            );
            let enable = vec!["systemctl", "enable", "--now", "sam-watchdog.timer"];
            assert_eq!(runcmd.iter().any(|c| *c == enable), enabled);
        }
    }

    #[test]
    fn the_placeholder_occurs_once_and_only_as_the_minutes() {
        assert_eq!(
            WATCHDOG_SCRIPT
                .matches(WATCHDOG_MINUTES_PLACEHOLDER)
                .count(),
            1
        );
        assert!(WATCHDOG_SCRIPT.contains("\nidle_minutes=@IDLE_MINUTES@\n"));
        for constant in [WATCHDOG_SERVICE, WATCHDOG_TIMER, INSTALL_DOCKER_SCRIPT] {
            assert!(
                !constant.contains('@'),
                "constant text must not look templated"
            );
        }
    }

    #[test]
    fn apt_timers_are_disabled_at_boot_and_bootcmd_ends_successfully() {
        let keys = HostKeys::generate().unwrap();
        let config = body(&render(&spec(&keys)).unwrap());
        let bootcmd = argv(&config["bootcmd"]);
        for unit in APT_UNITS {
            assert!(
                bootcmd.contains(&vec![
                    "systemctl".to_owned(),
                    "disable".to_owned(),
                    "--now".to_owned(),
                    "--no-block".to_owned(),
                    unit.to_owned()
                ]),
                "{unit}"
            );
        }
        assert_eq!(bootcmd.last().unwrap(), &["true"]);
    }

    #[test]
    fn every_field_rejects_hostile_values() {
        let keys = HostKeys::generate().unwrap();
        let base = spec(&keys);
        for &bad in HOSTILE {
            let attempts: [(&str, CloudInitSpec<'_>); 3] = [
                (
                    "hostname",
                    CloudInitSpec {
                        hostname: bad,
                        ..base
                    },
                ),
                ("user", CloudInitSpec { user: bad, ..base }),
                (
                    "authorized_key",
                    CloudInitSpec {
                        authorized_key: bad,
                        ..base
                    },
                ),
            ];
            for (field, attempt) in attempts {
                match render(&attempt) {
                    Err(CloudInitError::Invalid { field: got, .. }) => {
                        assert_eq!(got, field, "{bad:?}")
                    }
                    other => panic!("{field} = {bad:?} gave {other:?}"),
                }
            }
            match render(&CloudInitSpec {
                workspace_id: bad,
                ..base
            }) {
                Err(CloudInitError::Invalid { field, .. }) => {
                    assert_eq!(field, "workspace_id", "{bad:?}")
                }
                other => panic!("workspace_id = {bad:?} gave {other:?}"),
            }
        }
        for minutes in [0, 4, 1441] {
            let attempt = CloudInitSpec {
                watchdog: Watchdog {
                    idle_minutes: minutes,
                    enabled: false,
                },
                ..base
            };
            assert!(matches!(
                render(&attempt),
                Err(CloudInitError::Invalid {
                    field: "watchdog.idle_minutes",
                    ..
                })
            ));
        }
    }

    #[test]
    fn hostile_key_comments_round_trip_verbatim() {
        let keys = HostKeys::generate().unwrap();
        for comment in HOSTILE_COMMENTS {
            let key = format!("{ED25519} {comment}");
            let user_data = render(&CloudInitSpec {
                authorized_key: &key,
                ..spec(&keys)
            })
            .unwrap();
            let config = body(&user_data);
            assert_eq!(config["users"][0]["ssh_authorized_keys"][0], key.as_str());
        }
    }

    #[test]
    fn error_messages_name_the_field_and_never_echo_values() {
        let keys = HostKeys::generate().unwrap();
        let err = render(&CloudInitSpec {
            hostname: "$(reboot)",
            ..spec(&keys)
        })
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("hostname"), "{message}");
        assert!(!message.contains("$(reboot)"), "{message}");
    }

    #[test]
    fn oversized_documents_are_refused() {
        check_size(MAX_USER_DATA_BYTES).unwrap();
        let err = check_size(MAX_USER_DATA_BYTES + 1).unwrap_err();
        assert!(matches!(
            err,
            CloudInitError::TooLarge { bytes, limit } if bytes == MAX_USER_DATA_BYTES + 1 && limit == MAX_USER_DATA_BYTES
        ));
        assert!(err.to_string().contains("32768"));
    }

    #[test]
    fn the_largest_valid_spec_fits() {
        // A 3072-bit RSA key with the longest comment is the biggest input validation allows
        // apart from larger RSA keys; an 8 KiB key line still leaves ample room.
        let keys = HostKeys::generate().unwrap();
        let user = "u".repeat(32);
        let host = "h".repeat(63);
        let id = "i".repeat(64);
        let user_data = render(&CloudInitSpec {
            hostname: &host,
            user: &user,
            workspace_id: &id,
            docker: DockerSource::Install,
            ..spec(&keys)
        })
        .unwrap();
        assert!(
            user_data.as_str().len() + validate::MAX_AUTHORIZED_KEY_BYTES < MAX_USER_DATA_BYTES,
            "{} bytes",
            user_data.as_str().len()
        );
    }
}

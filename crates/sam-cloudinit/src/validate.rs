//! Validation of every value that is interpolated into the user-data.
//!
//! The serializer already escapes for YAML/JSON; these checks are about what the values become
//! on the VM: a host name, a Linux account, a line in `authorized_keys`, a path component.
//! Allow-lists, not deny-lists, wherever the grammar is small. Error reasons describe what is
//! allowed and never echo the rejected value.

use ssh_key::PublicKey;
use ssh_key::public::KeyData;

use crate::CloudInitError;

/// The longest authorized-key line accepted (a 16384-bit RSA key is about 2.8 KB).
pub(crate) const MAX_AUTHORIZED_KEY_BYTES: usize = 8 * 1024;
/// The longest comment kept on the authorized key.
pub(crate) const MAX_KEY_COMMENT_BYTES: usize = 256;
/// The smallest RSA modulus accepted for the user's key.
pub(crate) const MIN_RSA_BITS: usize = 3072;
/// The watchdog's idle limit bounds, in minutes.
pub(crate) const IDLE_MINUTES_RANGE: std::ops::RangeInclusive<u32> = 5..=1440;

/// Accounts and groups that exist on stock Debian 12 / Ubuntu 24.04 images (and `docker`).
/// `useradd` refuses a name that is already a group, and an existing system account would be
/// reused with its own shell and home, so these are not usable as the workspace user.
const RESERVED_USER_NAMES: &[&str] = &[
    "root",
    "daemon",
    "bin",
    "sys",
    "sync",
    "games",
    "man",
    "lp",
    "mail",
    "news",
    "uucp",
    "proxy",
    "www-data",
    "backup",
    "list",
    "irc",
    "gnats",
    "_gnats",
    "nobody",
    "nogroup",
    "adm",
    "tty",
    "disk",
    "kmem",
    "dialout",
    "fax",
    "voice",
    "cdrom",
    "floppy",
    "tape",
    "sudo",
    "audio",
    "dip",
    "operator",
    "src",
    "shadow",
    "utmp",
    "video",
    "sasl",
    "plugdev",
    "staff",
    "users",
    "input",
    "kvm",
    "render",
    "sgx",
    "netdev",
    "crontab",
    "messagebus",
    "_apt",
    "sshd",
    "ssh",
    "_ssh",
    "syslog",
    "tss",
    "uuidd",
    "tcpdump",
    "polkitd",
    "_chrony",
    "chrony",
    "landscape",
    "lxd",
    "pollinate",
    "fwupd-refresh",
    "dnsmasq",
    "usbmux",
    "admin",
    "docker",
];

/// An RFC 1123 host name label, lower case: what `hostname` and `/etc/hosts` will carry.
pub(crate) fn hostname(value: &str) -> Result<(), CloudInitError> {
    const FIELD: &str = "hostname";
    const RULE: &str = "use 1 to 63 characters of a-z, 0-9 and '-', not starting or ending with \
                        '-' (for example `sam-ws-1`)";
    if value.is_empty() || value.len() > 63 {
        return Err(CloudInitError::invalid(
            FIELD,
            format!("it has {} bytes; {RULE}", value.len()),
        ));
    }
    let allowed = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !allowed || value.starts_with('-') || value.ends_with('-') {
        return Err(CloudInitError::invalid(FIELD, RULE));
    }
    Ok(())
}

/// A Linux user name: `^[a-z_][a-z0-9_-]{0,31}$`, not `root` nor another stock account/group.
pub(crate) fn user(value: &str) -> Result<(), CloudInitError> {
    const FIELD: &str = "user";
    const RULE: &str = "use 1 to 32 characters of a-z, 0-9, '_' and '-', starting with a letter \
                        or '_' (for example `dev`)";
    if value.is_empty() || value.len() > 32 {
        return Err(CloudInitError::invalid(
            FIELD,
            format!("it has {} bytes; {RULE}", value.len()),
        ));
    }
    let mut bytes = value.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
    let rest_ok =
        bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !first_ok || !rest_ok {
        return Err(CloudInitError::invalid(FIELD, RULE));
    }
    if RESERVED_USER_NAMES.contains(&value) || value.starts_with("systemd-") {
        return Err(CloudInitError::invalid(
            FIELD,
            "that name already belongs to a system account or group on the VM image; choose \
             another (for example `dev`)",
        ));
    }
    Ok(())
}

/// The workspace id written to `/etc/sam/workspace`: `[a-z0-9-]{1,64}`.
pub(crate) fn workspace_id(value: &str) -> Result<(), CloudInitError> {
    const FIELD: &str = "workspace_id";
    const RULE: &str = "use 1 to 64 characters of a-z, 0-9 and '-'";
    if value.is_empty() || value.len() > 64 {
        return Err(CloudInitError::invalid(
            FIELD,
            format!("it has {} bytes; {RULE}", value.len()),
        ));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(CloudInitError::invalid(FIELD, RULE));
    }
    Ok(())
}

/// The watchdog's idle limit.
pub(crate) fn idle_minutes(value: u32) -> Result<(), CloudInitError> {
    if !IDLE_MINUTES_RANGE.contains(&value) {
        return Err(CloudInitError::invalid(
            "watchdog.idle_minutes",
            format!(
                "it is {value} minutes; choose between {} minutes and {} minutes (one day)",
                IDLE_MINUTES_RANGE.start(),
                IDLE_MINUTES_RANGE.end()
            ),
        ));
    }
    Ok(())
}

/// Parses the user's OpenSSH public key line and re-encodes it: algorithm, key, and the comment
/// if it passed [`free_text`] (surrounding whitespace trimmed). Options (`command=…`) and
/// certificates are refused, as are DSA and RSA below [`MIN_RSA_BITS`] bits.
pub(crate) fn authorized_key(value: &str) -> Result<String, CloudInitError> {
    const FIELD: &str = "authorized_key";
    if value.len() > MAX_AUTHORIZED_KEY_BYTES {
        return Err(CloudInitError::invalid(
            FIELD,
            format!(
                "the SSH public key is {} bytes, more than the {MAX_AUTHORIZED_KEY_BYTES} \
                 accepted; use an ed25519 key (`ssh-keygen -t ed25519`)",
                value.len()
            ),
        ));
    }
    if value.chars().any(forbidden_char) {
        return Err(CloudInitError::invalid(
            FIELD,
            "the SSH public key must be a single line like `ssh-ed25519 AAAA… comment`; remove \
             line breaks and other control characters",
        ));
    }
    let parsed = PublicKey::from_openssh(value).map_err(|_| {
        CloudInitError::invalid(
            FIELD,
            "this is not an OpenSSH public key; paste the one line from your `.pub` file \
             (like `ssh-ed25519 AAAA… comment`), without options such as `command=`",
        )
    })?;
    match parsed.key_data() {
        KeyData::Ed25519(_)
        | KeyData::SkEd25519(_)
        | KeyData::Ecdsa(_)
        | KeyData::SkEcdsaSha2NistP256(_) => {}
        KeyData::Rsa(rsa) => {
            let bits = rsa.n.as_positive_bytes().map_or(0, |n| match n.first() {
                Some(top) => n.len() * 8 - top.leading_zeros() as usize,
                None => 0,
            });
            if bits < MIN_RSA_BITS {
                return Err(CloudInitError::invalid(
                    FIELD,
                    format!(
                        "this is a {bits}-bit RSA key; use ed25519 (`ssh-keygen -t ed25519`) \
                         or RSA of at least {MIN_RSA_BITS} bits"
                    ),
                ));
            }
        }
        _ => {
            return Err(CloudInitError::invalid(
                FIELD,
                format!(
                    "{} keys are not accepted; use ed25519 (`ssh-keygen -t ed25519`), ECDSA or \
                     RSA of at least {MIN_RSA_BITS} bits",
                    parsed.algorithm()
                ),
            ));
        }
    }
    let comment = parsed.comment().trim();
    if comment.len() > MAX_KEY_COMMENT_BYTES {
        return Err(CloudInitError::invalid(
            FIELD,
            format!(
                "the key's comment is {} bytes; shorten it to at most {MAX_KEY_COMMENT_BYTES} \
                 or remove it",
                comment.len()
            ),
        ));
    }
    // The whole line was checked above; this also covers characters the parser let through.
    free_text(FIELD, comment)?;
    PublicKey::new(parsed.key_data().clone(), comment)
        .to_openssh()
        .map_err(|_| CloudInitError::invalid(FIELD, "the SSH public key could not be re-encoded"))
}

/// A host in a `known_hosts` line: a name, an IPv4/IPv6 address, or `[host]:port`.
pub(crate) fn known_host(value: &str) -> Result<(), CloudInitError> {
    const FIELD: &str = "host";
    const RULE: &str = "use a host name, an IP address or `[address]:port`, without spaces, \
                        commas or wildcards";
    if value.is_empty() || value.len() > 255 {
        return Err(CloudInitError::invalid(
            FIELD,
            format!("it has {} bytes; {RULE}", value.len()),
        ));
    }
    let charset_ok = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'-' | b'_' | b'[' | b']'));
    let inner = match value.strip_prefix('[') {
        Some(rest) => match rest.split_once("]:") {
            Some((host, port))
                if !host.is_empty()
                    && !port.is_empty()
                    && port.len() <= 5
                    && port.bytes().all(|b| b.is_ascii_digit()) =>
            {
                host
            }
            _ => return Err(CloudInitError::invalid(FIELD, RULE)),
        },
        None => value,
    };
    if !charset_ok || inner.contains(['[', ']']) || inner.starts_with('-') {
        return Err(CloudInitError::invalid(FIELD, RULE));
    }
    Ok(())
}

/// Free text that is kept verbatim (the key comment): anything printable. Refused: control
/// characters (C0, DEL, C1 — NEL U+0085 among them), the Unicode line and paragraph separators
/// (YAML folds them as line breaks), the BOM and non-characters (not printable in YAML), and
/// bidirectional/zero-width formatting characters (they make text display as something else).
pub(crate) fn free_text(field: &'static str, value: &str) -> Result<(), CloudInitError> {
    if value.chars().any(forbidden_char) {
        return Err(CloudInitError::invalid(
            field,
            "it contains a line break, control character or invisible formatting character; \
             remove it",
        ));
    }
    Ok(())
}

fn forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{feff}'
                | '\u{fffe}'
                | '\u{ffff}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti";
    const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBG8yrQ0zsQlWu68G9TSf9DiBmcWjCRcoVxpwt8+bRxSHtvqTiDjbViWujD7Gz+QY3nz9yHLcGzvi1uWI3AFcFw4=";
    const RSA_2048: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCw0/f/doprMhDCcalZXaExg723bvq9ewWvTtHv39j4YoB9mXmYhlQPaIXz5TXmbRjpAmvgDKajSOhvrkrMAHtfdH5y03dhX6vRfe/DeZQA1+/VGPlzROinFrb+TnGpEnrgsVnnyipXaks51sJl4YAU6Sq4Gu17wIzSMTlnL3lY1UMxkcxjUS2eCKhzX+x2BUVn2msFMmNwt+CpPH/fEPpKJh6Dq7hTMf906t3ewLkCAZ+8erg8HcSvFXRXpUMuRUHQV88t3ucz2dueFWM2lwrqlDrVK9xtNO80zqd+AqOlKIDN5PZd812HG3kXll9w5OdZKMcWhatcbVOdOjZPIxI/ small";
    const RSA_3072: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDB6z7fmwGrXyCc4WTCuNDziV0EaTpFz0rkAZcr1yUZjhzTkjO0WGFawDGhw5x4uhPKfA7752eoluW8hcwfKSMVwxpPmx7wizxCGzjP9j/cQODf1YqxGPhBZlXpZZsE0dw7kU6nB76a+h6esTGanSphGQs9M+wcQNklVSaM/0+deN6d6rF10x5lf2E0bFfKot6Ej+DZ3MirWX5Dhkzs3TM6cvZZ4+8WS6tOYdcHmMq8GnyM0mhF0XnW4rPZKhy5ZHRisFwj4Hu5TYI7SI7Rd3WuZioN/EmnlDv5nw1hhv9GgQ0pCC8EyA9rj/d2f/WQ5VRmZOfivvhz3MEhBPe9T2ZWXmCTdNP0wvHDO9/c4gv4LxQxy9929QaIdv9rhLliEbqTyF5Cv6/76OoGXHWLhI9YmS+46MtcjiNdIxVmxNDmSgmLRuDC6rsP51GpYTI9GhN6FiHyHVS5GzbjOP1QcDL1mwfy8TQYE3zxuxk1m82yGK3JGy1sHo/tsw3AFZOgdnE= big";
    const DSA: &str = "ssh-dss AAAAB3NzaC1kc3MAAACBALix7z4WmggWwsJdbXzgacEVIF/avMRDJwhlIXuZGYG4CoDiobsfsKTpyi+Mr8ae+em7+EE/9Ecrls68V2TL2HTi3zZQe3dCNujZG73X2NFSOM5blqH04ofYW3jeb9kpZXfUEwXYFO/Ad7WWzgaA56V6SZg4KVD49D0Ko41KrxYBAAAAFQCZMWaDkDsr/IJFDRoxYMPkluKDBQAAAIBiKs0Cnn7F5JJOegENc9VRy48+GBYyBlFHKOko3x2N59G5pfj1gTUTojePHoIaBBUSC8UNOySXX479tokxwxXVVi0z3G0oQ59FU3JvEtDpB5qcXer0Vf4lw1zdy8wtGkrh5Hb2avLFe2zvsD4Zk1kIKk+S7inSctSU2DxMXLVnvQAAAIA8IU9gMaKpP1LDzUsJjS9ge/1/eCzshOLyS/ltO9iROkO5WhUdRclASMR/zsM/JG5DzP0JnX5dXh2zyN7d6CFD+vUF4O3qyuSa+RiIyjPixiBNumhQBL1zP4fnt2Cwl6BB/wPMSQ/AudjdmveWUeBZOEe7DrUxV+ZdayyKgP97uw==";

    /// Values that must never reach a host name, user name or id.
    pub(crate) const HOSTILE: &[&str] = &[
        "\"",
        "'",
        "a\"b",
        "a'b",
        "a\nb",
        "a\rb",
        "a\tb",
        "$(reboot)",
        "`reboot`",
        "a; rm -rf /",
        "a: b",
        "- a",
        "&anchor",
        "*alias",
        "!!python/object",
        "a#b",
        "# c",
        "{}",
        "[]",
        "@a",
        "%a",
        "a\0b",
        "a\u{2028}b",
        "a\u{2029}b",
        "a\u{85}b",
        "a b",
        "",
        "A",
        "é",
        "a/b",
        "../a",
    ];

    fn field_of(err: CloudInitError) -> &'static str {
        match err {
            CloudInitError::Invalid { field, .. } => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn hostnames_are_rfc1123_labels() {
        for good in ["a", "sam-ws-1", "0abc", &"a".repeat(63)] {
            hostname(good).unwrap();
        }
        for bad in HOSTILE
            .iter()
            .copied()
            .chain([&*"a".repeat(64), "a.b", "a_b", "-a", "a-"])
        {
            let err = hostname(bad).expect_err(bad);
            assert_eq!(field_of(err), "hostname", "{bad:?}");
        }
    }

    #[test]
    fn users_are_plain_non_system_names() {
        for good in ["dev", "_x", "a", "dev-1_2", &"a".repeat(32)] {
            user(good).unwrap();
        }
        for bad in HOSTILE.iter().copied().chain([
            &*"a".repeat(33),
            "root",
            "docker",
            "sudo",
            "users",
            "nobody",
            "systemd-network",
            "1dev",
            "_a.b",
            "-a",
        ]) {
            let err = user(bad).expect_err(bad);
            assert_eq!(field_of(err), "user", "{bad:?}");
        }
    }

    #[test]
    fn workspace_ids_are_lowercase_slugs() {
        for good in ["a", "ws-0123", "0", &"a".repeat(64)] {
            workspace_id(good).unwrap();
        }
        for bad in HOSTILE
            .iter()
            .copied()
            .chain([&*"a".repeat(65), "a_b", "a.b"])
        {
            let err = workspace_id(bad).expect_err(bad);
            assert_eq!(field_of(err), "workspace_id", "{bad:?}");
        }
    }

    #[test]
    fn idle_minutes_are_bounded() {
        for good in [5, 30, 1440] {
            idle_minutes(good).unwrap();
        }
        for bad in [0, 4, 1441, u32::MAX] {
            let err = idle_minutes(bad).unwrap_err();
            assert_eq!(field_of(err), "watchdog.idle_minutes");
        }
    }

    #[test]
    fn accepted_key_types_are_re_encoded() {
        assert_eq!(authorized_key(ED25519).unwrap(), ED25519);
        assert_eq!(authorized_key(ECDSA).unwrap(), ECDSA);
        assert_eq!(authorized_key(RSA_3072).unwrap(), RSA_3072);
        // Whitespace around the comment is dropped; the comment itself is kept.
        assert_eq!(
            authorized_key(&format!("{ED25519}   me@laptop  ")).unwrap(),
            format!("{ED25519} me@laptop")
        );
    }

    #[test]
    fn weak_and_unknown_keys_are_refused() {
        for (key, says) in [
            (RSA_2048, "2048-bit RSA"),
            (DSA, "ssh-dss keys are not accepted"),
            ("ssh-ed25519 AAAA", "not an OpenSSH public key"),
            ("", "not an OpenSSH public key"),
            (
                "AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti",
                "not an",
            ),
            // Algorithm name and key data disagree.
            (
                "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti",
                "not an",
            ),
        ] {
            let err = authorized_key(key).unwrap_err();
            let message = err.to_string();
            assert!(message.contains(says), "{message}");
            assert_eq!(field_of(err), "authorized_key");
        }
    }

    #[test]
    fn key_options_and_smuggled_lines_are_refused() {
        let smuggled = [
            format!("command=\"reboot\" {ED25519}"),
            format!("no-pty {ED25519}"),
            format!("{ED25519}\n{ED25519} second"),
            format!("{ED25519} a\nssh-rsa AAAA"),
            format!("{ED25519}\r\n"),
            format!("{ED25519}\n"),
            format!("{ED25519} a\0b"),
            format!("{ED25519} a\u{2028}b"),
            format!("{ED25519} a\u{85}b"),
            format!("{ED25519} a\u{202e}b"),
            format!("{ED25519} {}", "c".repeat(MAX_KEY_COMMENT_BYTES + 1)),
            format!("{ED25519} {}", "c".repeat(MAX_AUTHORIZED_KEY_BYTES)),
        ];
        for bad in &smuggled {
            let err = authorized_key(bad).expect_err(bad);
            assert_eq!(field_of(err), "authorized_key", "{bad:?}");
        }
    }

    #[test]
    fn hostile_but_printable_comments_are_kept_verbatim() {
        for comment in HOSTILE_COMMENTS {
            let line = format!("{ED25519} {comment}");
            assert_eq!(authorized_key(&line).unwrap(), line, "{comment:?}");
        }
    }

    /// Printable comments that would break naive YAML or shell templating.
    pub(crate) const HOSTILE_COMMENTS: &[&str] = &[
        "\"quoted\" and 'single'",
        "$(reboot) `reboot` ; rm -rf /",
        "key: value - item #not-a-comment",
        "&anchor *alias !!python/object:os.system",
        "{} [] {\"a\": 1}",
        "@at %percent",
        "José ✓ 🔑",
        "\\n \\u0000 \\\"",
    ];

    #[test]
    fn known_hosts_hosts_are_names_addresses_or_bracketed_ports() {
        for good in [
            "203.0.113.7",
            "2a01:4f8::1",
            "[203.0.113.7]:2222",
            "[2a01:4f8::1]:22",
            "ws.example",
        ] {
            known_host(good).unwrap();
        }
        for bad in [
            "",
            "a b",
            "a,b",
            "*.example",
            "a?",
            "@cert-authority",
            "!a",
            "|1|abc",
            "a\nb",
            "[a]",
            "[a]:",
            "[a]:x",
            "[]:22",
            "a]:22",
            "-oProxyCommand",
        ] {
            let err = known_host(bad).expect_err(bad);
            assert_eq!(field_of(err), "host", "{bad:?}");
        }
    }
}

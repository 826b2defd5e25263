//! Who we talk to and as whom: [`SshTarget`], its pinned [`HostKeyPin`], and our [`ClientKey`].

use std::fmt;
use std::net::Ipv6Addr;
use std::sync::Arc;

use ssh_key::{Algorithm, HashAlg, PublicKey};

use crate::SshError;

/// The host public key a workspace VM must present, pinned when SAM generated it (it travels
/// to the VM in cloud-init, so even the first connection is verified — never
/// trust-on-first-use).
///
/// Only `ssh-ed25519` keys can be pinned: SAM generates ed25519 host keys, and accepting one
/// algorithm lets the client refuse to negotiate any other.
#[derive(Clone, PartialEq, Eq)]
pub struct HostKeyPin {
    key: PublicKey,
}

impl HostKeyPin {
    /// Parses an OpenSSH public key line, `ssh-ed25519 AAAA… [comment]`. The comment is
    /// dropped.
    ///
    /// # Errors
    /// [`SshError::InvalidInput`] when the line is not an OpenSSH public key or not ed25519.
    pub fn from_openssh(line: &str) -> Result<Self, SshError> {
        let mut key = PublicKey::from_openssh(line.trim()).map_err(|e| {
            SshError::InvalidInput(format!(
                "the pinned host key is not an OpenSSH public key: {e}"
            ))
        })?;
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(SshError::InvalidInput(format!(
                "the pinned host key is {}, but only ssh-ed25519 host keys can be pinned",
                key.algorithm()
            )));
        }
        key.set_comment("");
        Ok(Self { key })
    }

    /// The key as one OpenSSH line without comment: `ssh-ed25519 AAAA…`.
    pub fn to_openssh(&self) -> String {
        // Encoding an ed25519 key we parsed cannot fail; fall back to the fingerprint rather
        // than panic should a future ssh-key version disagree.
        self.key.to_openssh().unwrap_or_else(|_| self.fingerprint())
    }

    /// The SHA-256 fingerprint as OpenSSH prints it: `SHA256:…` (what `ssh-keygen -lf` shows).
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// The SSH wire encoding of the key, compared byte for byte with what a server presents.
    pub(crate) fn wire_bytes(&self) -> Vec<u8> {
        self.key.to_bytes().unwrap_or_default()
    }
}

impl fmt::Debug for HostKeyPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HostKeyPin")
            .field(&self.fingerprint())
            .finish()
    }
}

/// A workspace VM to connect to: address, login user and the host key it must present.
///
/// Every field is validated by [`SshTarget::new`], so a target is always safe to put into an
/// ssh config file or a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct SshTarget {
    host: String,
    port: u16,
    user: String,
    host_key: HostKeyPin,
}

impl SshTarget {
    /// A target after validation: `host` is an IPv4/IPv6 literal or a DNS name (letters,
    /// digits, `.`, `-`, `_`; IPv6 without brackets), `port` is non-zero, `user` is a plain
    /// login name (letters, digits, `.`, `_`, `-`). Neither may start with `-`, so they can
    /// never be mistaken for options by the `ssh` the user runs.
    ///
    /// # Errors
    /// [`SshError::InvalidInput`] naming the offending field.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        host_key: HostKeyPin,
    ) -> Result<Self, SshError> {
        let host = host.into();
        let user = user.into();
        validate_host(&host)?;
        validate_user(&user)?;
        if port == 0 {
            return Err(SshError::InvalidInput("the SSH port must not be 0".into()));
        }
        Ok(Self {
            host,
            port,
            user,
            host_key,
        })
    }

    /// The host name or IP address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port (22 unless the VM says otherwise).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The login user.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The pinned host key.
    pub fn host_key(&self) -> &HostKeyPin {
        &self.host_key
    }

    /// `host:port`, with brackets around an IPv6 literal, for messages and dialling.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Debug for SshTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("host_key", &self.host_key)
            .finish()
    }
}

fn validate_host(host: &str) -> Result<(), SshError> {
    let invalid = |why: &str| Err(SshError::InvalidInput(format!("host {host:?} {why}")));
    if host.is_empty() || host.len() > 253 {
        return invalid("must be 1 to 253 characters long");
    }
    if host.starts_with('-') {
        return invalid("must not start with '-'");
    }
    if host.contains(':') {
        return match host.parse::<Ipv6Addr>() {
            Ok(_) => Ok(()),
            Err(_) => {
                invalid("contains ':' but is not an IPv6 address (write it without brackets)")
            }
        };
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return invalid("may only contain letters, digits, '.', '-' and '_'");
    }
    Ok(())
}

fn validate_user(user: &str) -> Result<(), SshError> {
    let valid = !user.is_empty()
        && user.len() <= 32
        && !user.starts_with('-')
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(())
    } else {
        Err(SshError::InvalidInput(format!(
            "user {user:?} must be 1 to 32 letters, digits, '.', '_' or '-', not starting with '-'"
        )))
    }
}

/// The desktop's SSH private key for a workspace (ed25519, OpenSSH format, as kept in the OS
/// keyring), parsed once. The key material is wiped when the last clone is dropped, and
/// `Debug` prints `<redacted>`.
#[derive(Clone)]
pub struct ClientKey {
    key: Arc<russh::keys::PrivateKey>,
}

impl ClientKey {
    /// Parses an unencrypted ed25519 private key in OpenSSH format
    /// (`-----BEGIN OPENSSH PRIVATE KEY-----`). Pass the keyring's secret straight in and drop
    /// it; this value holds its own copy.
    ///
    /// # Errors
    /// [`SshError::InvalidInput`] when the text is not such a key (passphrase-protected keys
    /// are refused: the keyring is the protection). The message never echoes the key.
    pub fn from_openssh(private_key_openssh: &str) -> Result<Self, SshError> {
        let key =
            russh::keys::PrivateKey::from_openssh(private_key_openssh.trim()).map_err(|_| {
                SshError::InvalidInput(
                "the workspace SSH key is not a valid OpenSSH private key; recreate the workspace \
                 key in SAM"
                    .into(),
            )
            })?;
        if key.is_encrypted() {
            return Err(SshError::InvalidInput(
                "the workspace SSH key is passphrase-protected; SAM needs an unencrypted key (it \
                 is protected by the OS keyring)"
                    .into(),
            ));
        }
        if key.algorithm() != russh::keys::Algorithm::Ed25519 {
            return Err(SshError::InvalidInput(format!(
                "the workspace SSH key is {}, but only ssh-ed25519 keys are supported",
                key.algorithm()
            )));
        }
        Ok(Self { key: Arc::new(key) })
    }

    /// The matching public key as one OpenSSH line without comment, for `authorized_keys`.
    pub fn public_key_openssh(&self) -> String {
        let mut public = self.key.public_key().clone();
        public.set_comment("");
        public.to_openssh().unwrap_or_default()
    }

    pub(crate) fn russh_key(&self) -> Arc<russh::keys::PrivateKey> {
        Arc::clone(&self.key)
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use super::*;
    use ssh_key::{LineEnding, PrivateKey, rand_core::OsRng};

    fn ed25519_line() -> String {
        PrivateKey::random(&mut OsRng, Algorithm::Ed25519)
            .unwrap()
            .public_key()
            .to_openssh()
            .unwrap()
    }

    #[test]
    fn a_pin_parses_an_openssh_line_and_drops_the_comment() {
        let line = ed25519_line();
        let pin = HostKeyPin::from_openssh(&format!("{line} root@host\n")).unwrap();
        assert_eq!(pin.to_openssh(), line);
        assert!(pin.fingerprint().starts_with("SHA256:"));
        assert_eq!(
            format!("{pin:?}"),
            format!("HostKeyPin({:?})", pin.fingerprint())
        );
    }

    #[test]
    fn a_pin_rejects_garbage() {
        for bad in ["", "ssh-ed25519", "ssh-ed25519 !!!!", "hello world"] {
            assert!(
                matches!(
                    HostKeyPin::from_openssh(bad),
                    Err(SshError::InvalidInput(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn targets_reject_hostile_fields() {
        let pin = HostKeyPin::from_openssh(&ed25519_line()).unwrap();
        for host in [
            "",
            "a b",
            "a\nb",
            "-oProxyCommand=x",
            "a\"b",
            "a'b",
            "%h",
            "[::1]",
            "1:2",
            "host;rm",
        ] {
            assert!(
                SshTarget::new(host, 22, "sam", pin.clone()).is_err(),
                "{host:?}"
            );
        }
        for user in [
            "",
            "a b",
            "-l",
            "r\"oot",
            "root\n",
            "ro'ot",
            &"u".repeat(33),
        ] {
            assert!(
                SshTarget::new("10.0.0.1", 22, user, pin.clone()).is_err(),
                "{user:?}"
            );
        }
        assert!(SshTarget::new("10.0.0.1", 0, "sam", pin.clone()).is_err());
        for host in [
            "10.0.0.1",
            "::1",
            "2a01:4f8::1",
            "vm-1.example.com",
            "sam_host",
        ] {
            let target = SshTarget::new(host, 2222, "sam", pin.clone()).unwrap();
            assert_eq!(target.host(), host);
        }
        let v6 = SshTarget::new("::1", 2222, "sam", pin).unwrap();
        assert_eq!(v6.address(), "[::1]:2222");
    }

    #[test]
    fn client_keys_are_redacted_and_ed25519_only() {
        let private = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
        let pem = private.to_openssh(LineEnding::LF).unwrap();
        let key = ClientKey::from_openssh(&pem).unwrap();
        assert_eq!(format!("{key:?}"), "<redacted>");
        assert_eq!(
            key.public_key_openssh(),
            private.public_key().to_openssh().unwrap()
        );

        let error = ClientKey::from_openssh("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("AAAA"));

        // The workspace's ssh-key lacks the `encryption` feature; russh's copy has it.
        let encrypted = russh::keys::PrivateKey::from_openssh(pem.as_bytes())
            .unwrap()
            .encrypt(&mut russh::keys::key::safe_rng(), "passphrase")
            .unwrap()
            .to_openssh(LineEnding::LF)
            .unwrap();
        let error = ClientKey::from_openssh(&encrypted).unwrap_err().to_string();
        assert!(error.contains("passphrase"), "{error}");
    }
}

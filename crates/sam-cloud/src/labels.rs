//! The labels that make a server SAM's: every server carries the install id, the workspace id
//! and a created-by marker, so SAM only ever lists and deletes its own servers and two installs
//! sharing one cloud project never touch each other's. Hetzner stores them as labels, Scaleway
//! as `key=value` tags.

use std::collections::BTreeMap;

/// Label key of the install id.
pub const INSTALL_LABEL: &str = "sam-install";
/// Label key of the workspace id.
pub const WORKSPACE_LABEL: &str = "sam-workspace";
/// Label key of the created-by marker.
pub const CREATED_BY_LABEL: &str = "sam-created-by";
/// The created-by marker's value.
pub const CREATED_BY: &str = "sam-desktop";

/// Hetzner label values: at most 63 characters, alphanumerics with `-`, `_` and `.` inside.
/// Scaleway tags accept more; the stricter rule holds for both.
const MAX_VALUE_LEN: usize = 63;

/// The install and workspace a server belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Labels {
    install: String,
    workspace: String,
}

/// A label value that neither provider would store as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} \"{value}\" cannot be a cloud label: use 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
)]
pub struct LabelError {
    /// Which id was wrong.
    pub what: &'static str,
    /// The value, shown (ids are not secret).
    pub value: String,
}

fn valid_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    !value.is_empty()
        && value.len() <= MAX_VALUE_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

fn checked(what: &'static str, value: &str) -> Result<String, LabelError> {
    if valid_value(value) {
        Ok(value.to_owned())
    } else {
        Err(LabelError {
            what,
            value: value.chars().take(80).collect(),
        })
    }
}

impl Labels {
    /// Labels for a workspace's server.
    ///
    /// # Errors
    /// When either id is not a valid label value.
    pub fn new(install: &str, workspace: &str) -> Result<Self, LabelError> {
        Ok(Self {
            install: checked("The install id", install)?,
            workspace: checked("The workspace id", workspace)?,
        })
    }

    /// The install id.
    pub fn install(&self) -> &str {
        &self.install
    }

    /// The workspace id.
    pub fn workspace(&self) -> &str {
        &self.workspace
    }

    /// The three labels, as a map.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        [
            (INSTALL_LABEL, self.install.as_str()),
            (WORKSPACE_LABEL, self.workspace.as_str()),
            (CREATED_BY_LABEL, CREATED_BY),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The selector for exactly this workspace's servers.
    pub fn selector(&self) -> Selector {
        Selector {
            install: self.install.clone(),
            workspace: Some(self.workspace.clone()),
        }
    }
}

/// Which of SAM's servers to list: all of one install, or one workspace's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selector {
    install: String,
    workspace: Option<String>,
}

impl Selector {
    /// Every server of this install.
    ///
    /// # Errors
    /// When the id is not a valid label value.
    pub fn install(install: &str) -> Result<Self, LabelError> {
        Ok(Self {
            install: checked("The install id", install)?,
            workspace: None,
        })
    }

    /// `(key, value)` terms that must all match.
    pub fn terms(&self) -> Vec<(&'static str, &str)> {
        let mut terms = vec![
            (INSTALL_LABEL, self.install.as_str()),
            (CREATED_BY_LABEL, CREATED_BY),
        ];
        if let Some(workspace) = &self.workspace {
            terms.push((WORKSPACE_LABEL, workspace.as_str()));
        }
        terms
    }

    /// Whether a server with these labels is selected. Applied to every listing even though
    /// the provider filters too: a provider that ignored the filter must not make SAM touch a
    /// stranger's server.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.terms()
            .iter()
            .all(|(key, value)| labels.get(*key).is_some_and(|v| v == value))
    }
}

/// Scaleway tags for `labels`: `key=value` strings.
pub(crate) fn to_tags(labels: &BTreeMap<String, String>) -> Vec<String> {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// Labels from Scaleway tags; a tag without `=` becomes a key with an empty value.
pub(crate) fn from_tags(tags: &[String]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|tag| match tag.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (tag.clone(), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_follow_the_strictest_provider() {
        assert!(Labels::new("a1b2", "ws-1.x_y").is_ok());
        for bad in [
            "",
            "-a",
            "a-",
            "a b",
            "a=b",
            "a,b",
            "ä",
            &"a".repeat(64),
            "a\nb",
        ] {
            let error = Labels::new("ok", bad).unwrap_err();
            assert_eq!(error.what, "The workspace id", "{bad:?}");
        }
        assert!(Selector::install("x!").is_err());
    }

    #[test]
    fn selectors_match_only_their_own() {
        let labels = Labels::new("inst", "ws").unwrap();
        let map = labels.to_map();
        assert!(labels.selector().matches(&map));
        assert!(Selector::install("inst").unwrap().matches(&map));
        assert!(!Selector::install("other").unwrap().matches(&map));
        let mut foreign = map.clone();
        foreign.remove(CREATED_BY_LABEL);
        assert!(!labels.selector().matches(&foreign));
        let other_ws = Labels::new("inst", "ws2").unwrap();
        assert!(!other_ws.selector().matches(&map));
    }

    #[test]
    fn tags_round_trip() {
        let map = Labels::new("i", "w").unwrap().to_map();
        assert_eq!(from_tags(&to_tags(&map)), map);
        assert_eq!(
            from_tags(&["plain".to_owned()])
                .get("plain")
                .map(String::as_str),
            Some("")
        );
    }
}

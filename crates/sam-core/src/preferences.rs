//! User preferences that are not secrets and not per-workspace.

use serde::{Deserialize, Serialize};

/// Which colour scheme the app uses. `System` follows the OS (the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ThemePreference {
    #[default]
    System,
    Light,
    Dark,
}

impl ThemePreference {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    /// Parses the stored form; `None` for anything else, so a hand-edited database cannot
    /// smuggle an unknown value into the UI.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "system" => Some(Self::System),
            "light" => Some(Self::Light),
            "dark" => Some(Self::Dark),
            _ => None,
        }
    }
}

/// All preferences, as one value the UI reads and writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    pub theme: ThemePreference,
    /// The fluid simulation behind the chat; off shows the static gradient (it is also still
    /// whenever the OS asks for reduced motion).
    #[serde(default = "on")]
    pub fluid_background: bool,
}

fn on() -> bool {
    true
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            theme: ThemePreference::default(),
            fluid_background: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_round_trips_through_its_stored_form() {
        for theme in [
            ThemePreference::System,
            ThemePreference::Light,
            ThemePreference::Dark,
        ] {
            assert_eq!(ThemePreference::parse(theme.as_str()), Some(theme));
        }
        assert_eq!(ThemePreference::parse("Dark"), None);
        assert_eq!(ThemePreference::parse(""), None);
    }

    #[test]
    fn the_fluid_background_is_on_unless_turned_off() {
        assert!(Preferences::default().fluid_background);
        let parsed: Preferences = serde_json::from_str(r#"{"theme":"dark"}"#).unwrap();
        assert!(parsed.fluid_background);
        let parsed: Preferences =
            serde_json::from_str(r#"{"theme":"dark","fluidBackground":false}"#).unwrap();
        assert!(!parsed.fluid_background);
    }

    #[test]
    fn rejects_unknown_theme_in_json() {
        let parsed: Result<Preferences, _> = serde_json::from_str(r#"{"theme":"neon"}"#);
        assert!(parsed.is_err());
    }
}

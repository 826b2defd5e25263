//! Where each provider's API lives. Production values are fixed; tests and staging point the
//! app elsewhere with `SAM_*` environment variables.

use std::env::VarError;

use url::Url;

/// The base URL of each provider's API. Paths are appended below these, so a base may carry a
/// path prefix (`http://127.0.0.1:8080/hetzner/v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Hetzner Cloud API, `https://api.hetzner.cloud/v1`.
    pub hetzner: Url,
    /// Scaleway API root, `https://api.scaleway.com`.
    pub scaleway: Url,
    /// Anthropic API root, `https://api.anthropic.com`.
    pub anthropic: Url,
    /// OpenAI API, `https://api.openai.com/v1`.
    pub openai: Url,
    /// Google Generative Language API root, `https://generativelanguage.googleapis.com`.
    pub gemini: Url,
    /// Mistral API, `https://api.mistral.ai/v1`.
    pub mistral: Url,
    /// GitHub REST API root, `https://api.github.com`.
    pub github: Url,
}

/// An endpoint override that cannot be used. It names the variable but never repeats its
/// value, which may carry credentials (`https://user:password@host`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// The value is not a URL at all.
    #[error(
        "{variable} is not a valid URL ({reason}): set it to an address such as https://api.example.com, or unset it"
    )]
    Unparsable {
        /// The environment variable.
        variable: &'static str,
        /// Why the URL parser refused it.
        reason: url::ParseError,
    },
    /// A URL, but not an http(s) one.
    #[error("{variable} must be an http:// or https:// URL, not a {scheme}: one")]
    NotHttp {
        /// The environment variable.
        variable: &'static str,
        /// The scheme it had.
        scheme: String,
    },
    /// The value is not valid Unicode, so it cannot be a URL.
    #[error("{variable} is not valid text: set it to an http(s) address, or unset it")]
    NotUnicode {
        /// The environment variable.
        variable: &'static str,
    },
}

/// (variable, production value) per field, in field order.
const HETZNER: (&str, &str) = ("SAM_HETZNER_API_URL", "https://api.hetzner.cloud/v1");
const SCALEWAY: (&str, &str) = ("SAM_SCALEWAY_API_URL", "https://api.scaleway.com");
const ANTHROPIC: (&str, &str) = ("SAM_ANTHROPIC_BASE_URL", "https://api.anthropic.com");
const OPENAI: (&str, &str) = ("SAM_OPENAI_BASE_URL", "https://api.openai.com/v1");
const GEMINI: (&str, &str) = (
    "SAM_GEMINI_BASE_URL",
    "https://generativelanguage.googleapis.com",
);
const MISTRAL: (&str, &str) = ("SAM_MISTRAL_BASE_URL", "https://api.mistral.ai/v1");
const GITHUB: (&str, &str) = ("SAM_GITHUB_API_URL", "https://api.github.com");

/// Parses a compiled-in production URL.
#[expect(
    clippy::expect_used,
    reason = "constant URLs, all parsed by the `production_urls_parse` unit test"
)]
fn fixed(url: &str) -> Url {
    Url::parse(url).expect("production endpoint URLs are valid")
}

impl Endpoints {
    /// The real providers.
    pub fn production() -> Self {
        Self {
            hetzner: fixed(HETZNER.1),
            scaleway: fixed(SCALEWAY.1),
            anthropic: fixed(ANTHROPIC.1),
            openai: fixed(OPENAI.1),
            gemini: fixed(GEMINI.1),
            mistral: fixed(MISTRAL.1),
            github: fixed(GITHUB.1),
        }
    }

    /// The production endpoints, each overridden by its variable when set: `SAM_HETZNER_API_URL`,
    /// `SAM_SCALEWAY_API_URL`, `SAM_ANTHROPIC_BASE_URL`, `SAM_OPENAI_BASE_URL`,
    /// `SAM_GEMINI_BASE_URL`, `SAM_MISTRAL_BASE_URL`, `SAM_GITHUB_API_URL`. An empty variable
    /// counts as unset.
    ///
    /// # Errors
    /// A set variable that is not an http(s) URL, naming the variable.
    pub fn from_env() -> Result<Self, EndpointError> {
        Self::from_lookup(|variable| match std::env::var(variable) {
            Ok(value) => Ok(Some(value)),
            Err(VarError::NotPresent) => Ok(None),
            Err(VarError::NotUnicode(_)) => Err(EndpointError::NotUnicode { variable }),
        })
    }

    /// As [`Self::from_env`], reading the variables through `lookup` instead of the process
    /// environment: for tests, and for a child-process environment built by hand.
    ///
    /// # Errors
    /// A set variable that is not an http(s) URL, naming the variable.
    pub fn from_vars(
        mut lookup: impl FnMut(&str) -> Option<String>,
    ) -> Result<Self, EndpointError> {
        Self::from_lookup(|variable| Ok(lookup(variable)))
    }

    fn from_lookup(
        mut lookup: impl FnMut(&'static str) -> Result<Option<String>, EndpointError>,
    ) -> Result<Self, EndpointError> {
        let mut endpoint = |(variable, default): (&'static str, &str)| match lookup(variable)? {
            Some(value) if !value.trim().is_empty() => parse_override(variable, value.trim()),
            _ => Ok(fixed(default)),
        };
        Ok(Self {
            hetzner: endpoint(HETZNER)?,
            scaleway: endpoint(SCALEWAY)?,
            anthropic: endpoint(ANTHROPIC)?,
            openai: endpoint(OPENAI)?,
            gemini: endpoint(GEMINI)?,
            mistral: endpoint(MISTRAL)?,
            github: endpoint(GITHUB)?,
        })
    }
}

fn parse_override(variable: &'static str, value: &str) -> Result<Url, EndpointError> {
    let url = Url::parse(value).map_err(|reason| EndpointError::Unparsable { variable, reason })?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        scheme => Err(EndpointError::NotHttp {
            variable,
            scheme: scheme.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl FnMut(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn production_urls_parse() {
        let endpoints = Endpoints::production();
        assert_eq!(endpoints.hetzner.as_str(), "https://api.hetzner.cloud/v1");
        assert_eq!(endpoints.scaleway.as_str(), "https://api.scaleway.com/");
        assert_eq!(endpoints.anthropic.as_str(), "https://api.anthropic.com/");
        assert_eq!(endpoints.openai.as_str(), "https://api.openai.com/v1");
        assert_eq!(
            endpoints.gemini.as_str(),
            "https://generativelanguage.googleapis.com/"
        );
        assert_eq!(endpoints.mistral.as_str(), "https://api.mistral.ai/v1");
        assert_eq!(endpoints.github.as_str(), "https://api.github.com/");
    }

    #[test]
    fn no_variables_means_production() {
        assert_eq!(Endpoints::from_vars(vars(&[])), Ok(Endpoints::production()));
    }

    #[test]
    fn empty_variable_counts_as_unset() {
        let endpoints = Endpoints::from_vars(vars(&[("SAM_GITHUB_API_URL", "  ")]));
        assert_eq!(endpoints, Ok(Endpoints::production()));
    }

    #[test]
    fn each_variable_overrides_its_endpoint() {
        let endpoints = Endpoints::from_vars(vars(&[
            ("SAM_HETZNER_API_URL", "http://127.0.0.1:1/hetzner/v1"),
            ("SAM_SCALEWAY_API_URL", "http://127.0.0.1:1/scaleway"),
            ("SAM_ANTHROPIC_BASE_URL", "http://127.0.0.1:1/anthropic"),
            ("SAM_OPENAI_BASE_URL", "http://127.0.0.1:1/openai/v1"),
            ("SAM_GEMINI_BASE_URL", "http://127.0.0.1:1/gemini"),
            ("SAM_MISTRAL_BASE_URL", "http://127.0.0.1:1/mistral/v1"),
            ("SAM_GITHUB_API_URL", "https://github.example.com/api/v3"),
        ]))
        .unwrap();
        assert_eq!(endpoints.hetzner.path(), "/hetzner/v1");
        assert_eq!(endpoints.scaleway.path(), "/scaleway");
        assert_eq!(endpoints.anthropic.path(), "/anthropic");
        assert_eq!(endpoints.openai.path(), "/openai/v1");
        assert_eq!(endpoints.gemini.path(), "/gemini");
        assert_eq!(endpoints.mistral.path(), "/mistral/v1");
        assert_eq!(
            endpoints.github.as_str(),
            "https://github.example.com/api/v3"
        );
    }

    #[test]
    fn unparsable_value_names_the_variable_but_not_the_value() {
        let error =
            Endpoints::from_vars(vars(&[("SAM_OPENAI_BASE_URL", "not a url s3cr3t")])).unwrap_err();
        assert!(matches!(
            error,
            EndpointError::Unparsable {
                variable: "SAM_OPENAI_BASE_URL",
                ..
            }
        ));
        let text = error.to_string();
        assert!(text.contains("SAM_OPENAI_BASE_URL"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[test]
    fn non_http_scheme_is_an_error() {
        let error = Endpoints::from_vars(vars(&[("SAM_MISTRAL_BASE_URL", "ftp://example.com/v1")]))
            .unwrap_err();
        assert_eq!(
            error,
            EndpointError::NotHttp {
                variable: "SAM_MISTRAL_BASE_URL",
                scheme: "ftp".to_owned()
            }
        );
        assert!(error.to_string().contains("SAM_MISTRAL_BASE_URL"));
    }
}

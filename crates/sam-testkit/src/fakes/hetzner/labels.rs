//! Hetzner label selectors (`label_selector=env=prod,!legacy,tier in (web,api)`): terms
//! separated by commas outside parentheses, all of which must match.
//!
//! `k!=v` also matches resources without `k`, as in Kubernetes, whose selector syntax
//! Hetzner's follows (an assumption: Hetzner's documentation does not say).

use std::collections::BTreeMap;

#[derive(Debug)]
enum Term {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A parsed selector.
#[derive(Debug)]
pub(super) struct Selector {
    terms: Vec<Term>,
}

impl Selector {
    /// # Errors
    /// A message for `details.fields` when a term is malformed.
    pub(super) fn parse(selector: &str) -> Result<Self, String> {
        let terms = split_terms(selector)
            .into_iter()
            .map(|term| parse_term(term.trim()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("invalid label selector: {selector}"))?;
        Ok(Self { terms })
    }

    pub(super) fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.terms.iter().all(|term| match term {
            Term::Equals(k, v) => labels.get(k) == Some(v),
            Term::NotEquals(k, v) => labels.get(k) != Some(v),
            Term::Exists(k) => labels.contains_key(k),
            Term::Absent(k) => !labels.contains_key(k),
            Term::In(k, values) => labels.get(k).is_some_and(|v| values.contains(v)),
            Term::NotIn(k, values) => labels.get(k).is_none_or(|v| !values.contains(v)),
        })
    }
}

fn split_terms(selector: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                terms.push(&selector[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms
}

fn valid_key(key: &str) -> Option<String> {
    let key = key.trim();
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    ok.then(|| key.to_owned())
}

fn set_of(values: &str) -> Option<Vec<String>> {
    let inner = values.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|v| v.trim().to_owned()).collect())
}

fn parse_term(term: &str) -> Option<Term> {
    if let Some(key) = term.strip_prefix('!') {
        return valid_key(key).map(Term::Absent);
    }
    if let Some((key, values)) = term.split_once(" notin ") {
        return Some(Term::NotIn(valid_key(key)?, set_of(values)?));
    }
    if let Some((key, values)) = term.split_once(" in ") {
        return Some(Term::In(valid_key(key)?, set_of(values)?));
    }
    if let Some((key, value)) = term.split_once("!=") {
        return Some(Term::NotEquals(valid_key(key)?, value.trim().to_owned()));
    }
    if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return Some(Term::Equals(valid_key(key)?, value.trim().to_owned()));
    }
    valid_key(term).map(Term::Exists)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_term_must_match() {
        let web = labels(&[("env", "prod"), ("tier", "web")]);
        let bare = labels(&[]);
        let matches =
            |s: &str, l: &BTreeMap<String, String>| Selector::parse(s).unwrap().matches(l);
        assert!(matches("env=prod", &web));
        assert!(matches("env==prod,tier", &web));
        assert!(!matches("env=prod,tier=api", &web));
        assert!(matches("env!=dev", &web));
        assert!(matches("env!=dev", &bare));
        assert!(matches("!legacy", &web));
        assert!(!matches("!tier", &web));
        assert!(matches("tier in (web,api),env", &web));
        assert!(!matches("tier notin (web, api)", &web));
        assert!(matches("tier notin (web)", &bare));
        assert!(Selector::parse("=x").is_err());
        assert!(Selector::parse("a,,b").is_err());
    }
}

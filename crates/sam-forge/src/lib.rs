//! Forges SAM ships work to. For now GitHub: which repository a remote URL names
//! ([`GitHubRepo::from_remote_url`]), and opening a pull request for a pushed branch
//! ([`GitHub::open_pull_request`]), or finding the one already open for it.
//!
//! This crate is the only one that knows GitHub's pull-request JSON. It never logs, stores or
//! echoes a token: the token is a plain `&str` handed in for one call, sent only in the
//! `Authorization` header, and no error message quotes a request.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, USER_AGENT};
use serde::{Deserialize, Serialize};
use url::Url;

/// GitHub's REST API root.
pub const GITHUB_API: &str = "https://api.github.com";

/// The environment variable that points the client at another API root (GitHub Enterprise
/// Server's `https://host/api/v3`, or a fake in tests), as the credential checks read it.
pub const GITHUB_API_ENV: &str = "SAM_GITHUB_API_URL";

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one request may take in all.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The most of a GitHub answer that is read.
const MAX_BODY_BYTES: usize = 4 << 20;

/// The API version this client speaks.
const API_VERSION: &str = "2022-11-28";

/// Why a forge call failed. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// The remote URL names no GitHub repository.
    #[error(
        "\"{0}\" is not a GitHub repository URL (https://github.com/OWNER/REPO or \
         git@github.com:OWNER/REPO); open the pull request on your forge yourself"
    )]
    NotGitHub(String),
    /// 401: the token is wrong, expired or revoked.
    #[error(
        "GitHub rejected the token (401 Bad credentials): it is wrong, expired or revoked. \
         Create a new one at GitHub → Settings → Developer settings → Personal access tokens \
         and save it in Settings → Credentials."
    )]
    Unauthorized,
    /// 403: the token may not do this, or the rate limit is used up.
    #[error("GitHub refused (403): {0}")]
    Forbidden(String),
    /// 404: no such repository, or the token cannot see it.
    #[error(
        "GitHub found no repository {0} that this token can see (404). Check the remote URL, \
         and that the token has access to the repository (a fine-grained token must list it)."
    )]
    NotFound(String),
    /// 422 other than an existing pull request: GitHub's own words.
    #[error("GitHub did not accept the pull request (422): {0}")]
    Rejected(String),
    /// No answer: DNS, connection, TLS, timeout.
    #[error("GitHub could not be reached: {0}. Check the network and try again.")]
    Unreachable(String),
    /// Any other answer.
    #[error("GitHub answered {status}: {message}")]
    Unexpected {
        /// The HTTP status.
        status: u16,
        /// GitHub's message, when it sent one.
        message: String,
    },
}

impl ForgeError {
    /// A stable code for the UI and `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotGitHub(_) => "not_github",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Rejected(_) => "rejected",
            Self::Unreachable(_) => "unreachable",
            Self::Unexpected { .. } => "unexpected",
        }
    }
}

/// A GitHub repository, as named by a remote URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitHubRepo {
    /// The host (`github.com`, or a GitHub Enterprise Server's).
    pub host: String,
    /// The owner (user or organisation).
    pub owner: String,
    /// The repository's name, without `.git`.
    pub repo: String,
}

impl GitHubRepo {
    /// Parses `https://[user@]github.com/OWNER/REPO[.git][/]`, `ssh://git@github.com[:22]/OWNER/REPO[.git]`
    /// and `git@github.com:OWNER/REPO[.git]`. Only `github.com` is accepted unless `hosts`
    /// names other GitHub hosts.
    ///
    /// # Errors
    /// [`ForgeError::NotGitHub`] for anything else (another host, a local path, a URL without
    /// owner and repository).
    pub fn from_remote_url(url: &str, hosts: &[&str]) -> Result<Self, ForgeError> {
        let not_github = || ForgeError::NotGitHub(shown(url));
        let url = url.trim();
        let (host, path) = if let Some((scheme, rest)) = url.split_once("://") {
            if !matches!(scheme, "https" | "http" | "ssh" | "git") {
                return Err(not_github());
            }
            let (authority, path) = rest.split_once('/').ok_or_else(not_github)?;
            let host_port = authority.rsplit('@').next().unwrap_or(authority);
            let host = host_port.split(':').next().unwrap_or(host_port);
            (host, path)
        } else {
            // scp-like: [user@]host:path
            let (before, path) = url.split_once(':').ok_or_else(not_github)?;
            if before.contains('/') {
                return Err(not_github());
            }
            (before.rsplit('@').next().unwrap_or(before), path)
        };
        let host = host.to_ascii_lowercase();
        let known = host == "github.com"
            || host == "www.github.com"
            || hosts.iter().any(|h| h.eq_ignore_ascii_case(&host));
        if !known {
            return Err(not_github());
        }
        let path = path.trim_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path);
        let mut parts = path.split('/');
        let (Some(owner), Some(repo), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(not_github());
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        if !valid(owner) || !valid(repo) {
            return Err(not_github());
        }
        Ok(Self {
            host: if host == "www.github.com" {
                "github.com".to_owned()
            } else {
                host
            },
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        })
    }

    /// `owner/repo`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// Parses a pull request's page, `https://github.com/OWNER/REPO/pull/NUMBER` (hosts as
    /// for [`Self::from_remote_url`]), into its repository and number.
    ///
    /// # Errors
    /// [`ForgeError::NotGitHub`] for anything else.
    pub fn from_pull_url(url: &str, hosts: &[&str]) -> Result<(Self, u64), ForgeError> {
        let not_a_pull = || ForgeError::NotGitHub(shown(url));
        let rest = url.trim().strip_prefix("https://").ok_or_else(not_a_pull)?;
        let mut parts = rest.trim_end_matches('/').split('/');
        let (Some(host), Some(owner), Some(repo), Some("pull"), Some(number), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(not_a_pull());
        };
        let number: u64 = number
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(not_a_pull)?;
        let repo = Self::from_remote_url(&format!("https://{host}/{owner}/{repo}"), hosts)?;
        Ok((repo, number))
    }
}

/// What to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPullRequest {
    /// The title.
    pub title: String,
    /// The pushed branch with the work (in the same repository).
    pub head: String,
    /// The branch to merge into; `None`: the repository's default branch.
    pub base: Option<String>,
    /// The description (Markdown).
    pub body: String,
}

/// An open pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequest {
    /// Its number in the repository.
    pub number: u64,
    /// Its page, for people.
    pub html_url: String,
    /// `open` or `closed`.
    pub state: String,
    /// Its title.
    pub title: String,
    /// The branch with the work.
    pub head: String,
    /// The branch it merges into.
    pub base: String,
    /// Whether this call created it (`false`: it was already open for the branch).
    pub created: bool,
}

/// A GitHub REST client.
#[derive(Debug, Clone)]
pub struct GitHub {
    http: reqwest::Client,
    api: Url,
}

#[derive(Deserialize)]
struct PullJson {
    number: u64,
    html_url: String,
    state: String,
    title: String,
    head: BranchJson,
    base: BranchJson,
}

#[derive(Deserialize)]
struct PullStateJson {
    state: String,
    #[serde(default)]
    merged: bool,
}

#[derive(Deserialize)]
struct BranchJson {
    #[serde(rename = "ref")]
    name: String,
}

#[derive(Deserialize)]
struct RepoJson {
    default_branch: String,
}

#[derive(Deserialize, Default)]
struct ErrorJson {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

impl GitHub {
    /// A client for the API at `api` (see [`GITHUB_API`]).
    ///
    /// # Errors
    /// [`ForgeError::Unreachable`] when the HTTP client cannot be built (no TLS backend).
    pub fn new(api: Url) -> Result<Self, ForgeError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| ForgeError::Unreachable(e.to_string()))?;
        Ok(Self { http, api })
    }

    /// A client for `$SAM_GITHUB_API_URL`, else [`GITHUB_API`].
    ///
    /// # Errors
    /// [`ForgeError::Unreachable`] for a variable that is not a URL, or no HTTP client.
    pub fn from_env() -> Result<Self, ForgeError> {
        let api = std::env::var(GITHUB_API_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| GITHUB_API.to_owned());
        let api = Url::parse(api.trim())
            .map_err(|e| ForgeError::Unreachable(format!("{GITHUB_API_ENV} is not a URL ({e})")))?;
        Self::new(api)
    }

    fn url(&self, segments: &[&str]) -> Result<Url, ForgeError> {
        let mut url = self.api.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| ForgeError::Unreachable("the API URL cannot have a path".into()))?;
            path.pop_if_empty();
            for segment in segments {
                path.push(segment);
            }
        }
        Ok(url)
    }

    fn request(&self, method: reqwest::Method, url: Url, token: &str) -> reqwest::RequestBuilder {
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            reqwest::header::HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            USER_AGENT,
            reqwest::header::HeaderValue::from_static(concat!(
                "sam-desktop/",
                env!("CARGO_PKG_VERSION")
            )),
        );
        headers.insert(
            "x-github-api-version",
            reqwest::header::HeaderValue::from_static(API_VERSION),
        );
        let builder = self.http.request(method, url).headers(headers);
        match reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")) {
            Ok(mut value) => {
                value.set_sensitive(true);
                builder.header(AUTHORIZATION, value)
            }
            // A token with a newline or control character cannot be sent; GitHub would
            // reject it anyway.
            Err(_) => builder,
        }
    }

    /// Opens a pull request from `pull.head` in `repo`, or returns the one already open for
    /// that branch (GitHub's 422 "A pull request already exists").
    ///
    /// # Errors
    /// [`ForgeError`] for each way GitHub refuses, or no answer.
    pub async fn open_pull_request(
        &self,
        token: &str,
        repo: &GitHubRepo,
        pull: &NewPullRequest,
    ) -> Result<PullRequest, ForgeError> {
        let base = match &pull.base {
            Some(base) => base.clone(),
            None => self.default_branch(token, repo).await?,
        };
        let url = self.url(&["repos", &repo.owner, &repo.repo, "pulls"])?;
        let body = serde_json::json!({
            "title": pull.title,
            "head": pull.head,
            "base": base,
            "body": pull.body,
        });
        let response = self
            .request(reqwest::Method::POST, url, token)
            .json(&body)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let bytes = read_body(response).await?;
        if status == StatusCode::CREATED || status == StatusCode::OK {
            let created: PullJson = parse(status, &bytes)?;
            return Ok(pull_request(created, true));
        }
        let error: ErrorJson = serde_json::from_slice(&bytes).unwrap_or_default();
        if status == StatusCode::UNPROCESSABLE_ENTITY && already_exists(&error) {
            return match self.find_open(token, repo, &pull.head).await? {
                Some(existing) => Ok(existing),
                None => Err(ForgeError::Rejected(describe(&error))),
            };
        }
        Err(status_error(status, &error, repo))
    }

    /// The open pull request from `head` in `repo`, if there is one.
    ///
    /// # Errors
    /// [`ForgeError`] for each way GitHub refuses, or no answer.
    pub async fn find_open(
        &self,
        token: &str,
        repo: &GitHubRepo,
        head: &str,
    ) -> Result<Option<PullRequest>, ForgeError> {
        let mut url = self.url(&["repos", &repo.owner, &repo.repo, "pulls"])?;
        url.query_pairs_mut()
            .append_pair("head", &format!("{}:{head}", repo.owner))
            .append_pair("state", "open");
        let pulls: Vec<PullJson> = self.get(token, url, repo).await?;
        Ok(pulls.into_iter().next().map(|p| pull_request(p, false)))
    }

    /// Where pull request `number` of `repo` stands: `open`, `closed` or `merged`.
    ///
    /// # Errors
    /// [`ForgeError`] for each way GitHub refuses ([`ForgeError::NotFound`] for a number
    /// that is not there), or no answer.
    pub async fn pull_request_state(
        &self,
        token: &str,
        repo: &GitHubRepo,
        number: u64,
    ) -> Result<String, ForgeError> {
        let url = self.url(&[
            "repos",
            &repo.owner,
            &repo.repo,
            "pulls",
            &number.to_string(),
        ])?;
        let pull: PullStateJson = self.get(token, url, repo).await?;
        Ok(if pull.merged {
            "merged".to_owned()
        } else {
            pull.state
        })
    }

    /// The repository's default branch.
    ///
    /// # Errors
    /// [`ForgeError`] for each way GitHub refuses, or no answer.
    pub async fn default_branch(
        &self,
        token: &str,
        repo: &GitHubRepo,
    ) -> Result<String, ForgeError> {
        let url = self.url(&["repos", &repo.owner, &repo.repo])?;
        let repo_json: RepoJson = self.get(token, url, repo).await?;
        Ok(repo_json.default_branch)
    }
}

impl GitHub {
    /// A `GET` of `url` about `repo`, its 200 answer parsed as `T`.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        url: Url,
        repo: &GitHubRepo,
    ) -> Result<T, ForgeError> {
        let response = self
            .request(reqwest::Method::GET, url, token)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let bytes = read_body(response).await?;
        if status != StatusCode::OK {
            let error: ErrorJson = serde_json::from_slice(&bytes).unwrap_or_default();
            return Err(status_error(status, &error, repo));
        }
        parse(status, &bytes)
    }
}

fn pull_request(json: PullJson, created: bool) -> PullRequest {
    PullRequest {
        number: json.number,
        html_url: json.html_url,
        state: json.state,
        title: json.title,
        head: json.head.name,
        base: json.base.name,
        created,
    }
}

fn already_exists(error: &ErrorJson) -> bool {
    error.errors.iter().any(|e| {
        e.message
            .as_deref()
            .is_some_and(|m| m.starts_with("A pull request already exists"))
    })
}

/// GitHub's message and the details of its `errors` list, in one line.
fn describe(error: &ErrorJson) -> String {
    let details: Vec<String> = error
        .errors
        .iter()
        .map(|e| match (&e.message, &e.field, &e.code) {
            (Some(message), _, _) => message.clone(),
            (None, Some(field), Some(code)) => format!("{field} is {}", code.replace('_', " ")),
            (None, Some(field), None) => format!("{field} is invalid"),
            _ => String::new(),
        })
        .filter(|d| !d.is_empty())
        .collect();
    let message = if error.message.is_empty() {
        "no reason given".to_owned()
    } else {
        error.message.clone()
    };
    if details.is_empty() {
        shown(&message)
    } else {
        shown(&format!("{message}: {}", details.join("; ")))
    }
}

fn status_error(status: StatusCode, error: &ErrorJson, repo: &GitHubRepo) -> ForgeError {
    match status.as_u16() {
        401 => ForgeError::Unauthorized,
        403 if error.message.contains("rate limit") => ForgeError::Forbidden(
            "the API rate limit for this token is used up; try again in an hour".to_owned(),
        ),
        403 => ForgeError::Forbidden(format!(
            "{}. The token may not open pull requests on {}: a classic token needs the repo \
             scope; a fine-grained token needs \"Pull requests: Read and write\" on it.",
            describe(error),
            repo.full_name()
        )),
        404 => ForgeError::NotFound(repo.full_name()),
        422 => ForgeError::Rejected(describe(error)),
        other => ForgeError::Unexpected {
            status: other,
            message: describe(error),
        },
    }
}

async fn read_body(response: reqwest::Response) -> Result<Vec<u8>, ForgeError> {
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY_BYTES {
            return Err(ForgeError::Unexpected {
                status: 200,
                message: "the answer was too large".to_owned(),
            });
        }
    }
    Ok(body)
}

fn parse<T: serde::de::DeserializeOwned>(
    status: StatusCode,
    bytes: &[u8],
) -> Result<T, ForgeError> {
    serde_json::from_slice(bytes).map_err(|e| ForgeError::Unexpected {
        status: status.as_u16(),
        message: format!("an answer SAM cannot read ({e})"),
    })
}

fn unreachable(error: reqwest::Error) -> ForgeError {
    // Without the URL: keeping URLs out of messages keeps any accident harmless.
    let error = error.without_url();
    if error.is_timeout() {
        ForgeError::Unreachable("the request timed out".to_owned())
    } else {
        ForgeError::Unreachable(error.to_string())
    }
}

fn shown(text: &str) -> String {
    let printable: String = text
        .chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    printable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls_name_github_repositories() {
        let expect = |url: &str, owner: &str, repo: &str| {
            let parsed =
                GitHubRepo::from_remote_url(url, &[]).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(
                (parsed.owner.as_str(), parsed.repo.as_str()),
                (owner, repo),
                "{url}"
            );
            assert_eq!(parsed.host, "github.com");
        };
        expect("https://github.com/sam-dev/app.git", "sam-dev", "app");
        expect("https://github.com/sam-dev/app", "sam-dev", "app");
        expect("https://github.com/sam-dev/app/", "sam-dev", "app");
        expect("https://x-access-token:ghp_x@github.com/o/r.git", "o", "r");
        expect("git@github.com:o/r.git", "o", "r");
        expect("git@github.com:o/my.repo", "o", "my.repo");
        expect("ssh://git@github.com/o/r.git", "o", "r");
        expect("ssh://git@github.com:22/o/r.git", "o", "r");
        expect("https://GitHub.com/o/r.git", "o", "r");
        for bad in [
            "https://gitlab.com/o/r.git",
            "file:///srv/r.git",
            "/srv/r.git",
            "https://github.com/o",
            "https://github.com/o/r/tree/main",
            "git@github.com:../r.git",
            "github.com",
        ] {
            assert!(GitHubRepo::from_remote_url(bad, &[]).is_err(), "{bad}");
        }
        let enterprise =
            GitHubRepo::from_remote_url("https://git.example.com/o/r.git", &["git.example.com"])
                .unwrap();
        assert_eq!(enterprise.host, "git.example.com");
    }
}

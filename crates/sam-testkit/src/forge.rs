//! A fake of GitHub's pull-request REST API, checking requests as GitHub does: a
//! `User-Agent` is required, `Authorization: Bearer <token>` (or the older `token <token>`)
//! must carry an accepted token, a repository the token cannot see is a 404, a read-only
//! token gets 403 "Resource not accessible by personal access token", a pull request needs
//! `title`, `head` and `base` (422 `missing_field`), its head branch must exist (422
//! `invalid`; checked in a real bare repository when the test gives one), and a second pull
//! request for the same head and base is 422 "A pull request already exists for
//! OWNER:BRANCH.".
//!
//! Served: `GET /repos/{owner}/{repo}`, `POST /repos/{owner}/{repo}/pulls`,
//! `GET /repos/{owner}/{repo}/pulls?head=OWNER:BRANCH&state=open`. Tokens and header values
//! are never recorded.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use url::Url;

/// A pull request the fake holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePull {
    /// `owner/repo`.
    pub repo: String,
    /// Its number.
    pub number: u64,
    /// The title sent.
    pub title: String,
    /// The head branch sent (without an `owner:` prefix).
    pub head: String,
    /// The base branch sent.
    pub base: String,
    /// The body sent.
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    /// Whether it was merged (then `state` is `closed`).
    pub merged: bool,
}

/// One request the fake answered: no header values, no body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeRequest {
    /// `GET`, `POST`.
    pub method: String,
    /// The path.
    pub path: String,
    /// The query string.
    pub query: Option<String>,
    /// The status answered.
    pub status: u16,
}

#[derive(Debug)]
struct FakeRepo {
    default_branch: String,
    /// A bare repository whose branches are the repository's; `None`: every head exists.
    bare: Option<PathBuf>,
}

#[derive(Debug, Default)]
struct ForgeState {
    /// token → may write.
    tokens: HashMap<String, bool>,
    repos: HashMap<String, FakeRepo>,
    pulls: Vec<FakePull>,
    requests: Vec<ForgeRequest>,
}

#[derive(Debug, Default)]
struct Shared(Mutex<ForgeState>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, ForgeState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running fake GitHub on `127.0.0.1`; dropping it stops the server.
#[derive(Debug)]
pub struct FakeGitHub {
    base: Url,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl FakeGitHub {
    /// Starts the server on the current tokio runtime.
    ///
    /// # Errors
    /// When no local port can be bound.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding the fake GitHub to 127.0.0.1")?;
        let address = listener.local_addr().context("reading its address")?;
        let base = Url::parse(&format!("http://{address}/")).context("building its URL")?;
        let shared = Arc::new(Shared::default());
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::warn!(%error, "fake GitHub stopped");
            }
        });
        Ok(Self {
            base,
            shared,
            server,
        })
    }

    /// The API root, as `SAM_GITHUB_API_URL` takes it.
    pub fn api_url(&self) -> Url {
        self.base.clone()
    }

    /// Accepts `token` with write access (a classic token with `repo`).
    pub fn accept(&self, token: &str) {
        self.shared.lock().tokens.insert(token.to_owned(), true);
    }

    /// Accepts `token` for reading only: creating a pull request is a 403.
    pub fn accept_read_only(&self, token: &str) {
        self.shared.lock().tokens.insert(token.to_owned(), false);
    }

    /// Adds the repository `owner/repo` with its default branch; with `bare`, a head branch
    /// must exist there (pushed) before a pull request can be opened from it.
    pub fn add_repo(&self, full_name: &str, default_branch: &str, bare: Option<PathBuf>) {
        self.shared.lock().repos.insert(
            full_name.to_owned(),
            FakeRepo {
                default_branch: default_branch.to_owned(),
                bare,
            },
        );
    }

    /// Merges pull request `number` (as someone on GitHub would).
    pub fn merge(&self, number: u64) {
        let mut state = self.shared.lock();
        if let Some(pull) = state.pulls.iter_mut().find(|p| p.number == number) {
            pull.state = "closed".to_owned();
            pull.merged = true;
        }
    }

    /// The pull requests opened so far.
    pub fn pulls(&self) -> Vec<FakePull> {
        self.shared.lock().pulls.clone()
    }

    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<ForgeRequest> {
        self.shared.lock().requests.clone()
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let (status, value) = answer(
        &shared,
        &parts.method,
        &path,
        query.as_deref(),
        &parts.headers,
        &body,
    );
    shared.lock().requests.push(ForgeRequest {
        method: parts.method.to_string(),
        path,
        query,
        status,
    });
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json; charset=utf-8")
        .header("x-github-api-version-selected", "2022-11-28")
        .body(Body::from(value.to_string()))
        .unwrap_or_default()
}

fn error(status: u16, message: &str) -> (u16, Value) {
    (
        status,
        json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
            "status": status.to_string(),
        }),
    )
}

fn validation(errors: Value) -> (u16, Value) {
    (
        422,
        json!({
            "message": "Validation Failed",
            "errors": errors,
            "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
            "status": "422",
        }),
    )
}

fn token_of(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then(|| token.trim().to_owned())
}

fn answer(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> (u16, Value) {
    if headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .is_none_or(str::is_empty)
    {
        return error(
            403,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.",
        );
    }
    let mut state = shared.lock();
    let Some(write) = token_of(headers).and_then(|t| state.tokens.get(&t).copied()) else {
        return error(401, "Bad credentials");
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (owner, repo, rest) = match segments.as_slice() {
        ["repos", owner, repo, rest @ ..] => (*owner, *repo, rest),
        _ => return error(404, "Not Found"),
    };
    let full_name = format!("{owner}/{repo}");
    let Some(fake_repo) = state.repos.get(&full_name) else {
        return error(404, "Not Found");
    };
    match (method, rest) {
        (&Method::GET, []) => (
            200,
            json!({
                "id": 1, "name": repo, "full_name": full_name, "private": true,
                "owner": {"login": owner, "type": "User"},
                "html_url": format!("https://github.com/{full_name}"),
                "default_branch": fake_repo.default_branch,
            }),
        ),
        (&Method::GET, ["pulls"]) => {
            let pairs: Vec<(String, String)> =
                url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                    .into_owned()
                    .collect();
            let wanted_head = pairs
                .iter()
                .find(|(k, _)| k == "head")
                .map(|(_, v)| v.clone());
            let state_filter = pairs
                .iter()
                .find(|(k, _)| k == "state")
                .map_or("open".to_owned(), |(_, v)| v.clone());
            let pulls: Vec<Value> = state
                .pulls
                .iter()
                .filter(|p| p.repo == full_name)
                .filter(|p| {
                    wanted_head
                        .as_ref()
                        .is_none_or(|h| *h == format!("{owner}:{}", p.head))
                })
                .filter(|_| state_filter == "open" || state_filter == "all")
                .map(|p| pull_json(owner, p))
                .collect();
            (200, Value::Array(pulls))
        }
        (&Method::GET, ["pulls", number]) => {
            match state
                .pulls
                .iter()
                .find(|p| p.repo == full_name && number.parse() == Ok(p.number))
            {
                Some(pull) => (200, pull_json(owner, pull)),
                None => error(404, "Not Found"),
            }
        }
        (&Method::POST, ["pulls"]) => {
            if !write {
                return error(403, "Resource not accessible by personal access token");
            }
            let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
                return error(400, "Problems parsing JSON");
            };
            let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
            for field in ["title", "head", "base"] {
                if text(field).is_none_or(|v| v.trim().is_empty()) {
                    return validation(json!([{
                        "resource": "PullRequest", "field": field, "code": "missing_field"
                    }]));
                }
            }
            let title = text("title").unwrap_or_default();
            let head_spec = text("head").unwrap_or_default();
            let base = text("base").unwrap_or_default();
            let head = match head_spec.split_once(':') {
                Some((head_owner, branch)) if head_owner == owner => branch.to_owned(),
                Some(_) => {
                    return validation(json!([{
                        "resource": "PullRequest", "field": "head", "code": "invalid"
                    }]));
                }
                None => head_spec.clone(),
            };
            if let Some(bare) = &fake_repo.bare {
                for (field, branch) in [("head", &head), ("base", &base)] {
                    if !branch_exists(bare, branch) {
                        return validation(json!([{
                            "resource": "PullRequest", "field": field, "code": "invalid"
                        }]));
                    }
                }
            }
            if head == base {
                return validation(json!([{
                    "resource": "PullRequest", "code": "custom",
                    "message": format!("No commits between {base} and {head}")
                }]));
            }
            if state
                .pulls
                .iter()
                .any(|p| p.repo == full_name && p.head == head && p.base == base)
            {
                return validation(json!([{
                    "resource": "PullRequest", "code": "custom",
                    "message": format!("A pull request already exists for {owner}:{head}.")
                }]));
            }
            let number = u64::try_from(state.pulls.len()).unwrap_or(0) + 1;
            let pull = FakePull {
                repo: full_name,
                number,
                title,
                head,
                base,
                body: text("body").unwrap_or_default(),
                state: "open".to_owned(),
                merged: false,
            };
            let value = pull_json(owner, &pull);
            state.pulls.push(pull);
            (201, value)
        }
        _ => error(404, "Not Found"),
    }
}

fn pull_json(owner: &str, pull: &FakePull) -> Value {
    json!({
        "url": format!("https://api.github.com/repos/{}/pulls/{}", pull.repo, pull.number),
        "id": 1000 + pull.number,
        "number": pull.number,
        "html_url": format!("https://github.com/{}/pull/{}", pull.repo, pull.number),
        "state": pull.state,
        "merged": pull.merged,
        "draft": false,
        "title": pull.title,
        "body": pull.body,
        "user": {"login": owner},
        "head": {"label": format!("{owner}:{}", pull.head), "ref": pull.head},
        "base": {"label": format!("{owner}:{}", pull.base), "ref": pull.base},
    })
}

fn branch_exists(bare: &std::path::Path, branch: &str) -> bool {
    std::process::Command::new("git")
        .arg("-C")
        .arg(bare)
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("refs/heads/{branch}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

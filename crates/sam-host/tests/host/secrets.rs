//! The git token: only ever in the git process's environment, answered by `sam-host`'s askpass
//! mode; never in the state directory, the journal or the log.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use sam_host::{ASKPASS_MODE_ENV, TOKEN_ENV, TOKEN_USERNAME};
use sam_protocol::{ErrorCode, RequestBody};

use crate::support::{
    BIN, Daemon, file_url, git, git_plan, make_repo, ok, read_text, refused, status, with_token,
};

const TOKEN: &str = "ghp_SENTINEL_e1f0a9c3b7d24a55";

fn askpass(args: &[&str], git_mode: bool, token: Option<&str>) -> (bool, String) {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove(TOKEN_ENV)
        .env_remove(ASKPASS_MODE_ENV);
    if git_mode {
        command.env(ASKPASS_MODE_ENV, "1");
    }
    if let Some(token) = token {
        command.env(TOKEN_ENV, token);
    }
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn askpass_answers_git_prompts_from_the_environment() {
    let password = "Password for 'https://x-access-token@github.com': ";
    let username = "Username for 'https://github.com': ";
    // As a subcommand.
    assert_eq!(
        askpass(&["askpass", password], false, Some(TOKEN)),
        (true, format!("{TOKEN}\n"))
    );
    assert_eq!(
        askpass(&["askpass", username], false, Some(TOKEN)),
        (true, format!("{TOKEN_USERNAME}\n"))
    );
    // As git runs it: `<program> <prompt>`.
    assert_eq!(
        askpass(&[password], true, Some(TOKEN)),
        (true, format!("{TOKEN}\n"))
    );
    assert_eq!(
        askpass(&[username], true, Some(TOKEN)),
        (true, format!("{TOKEN_USERNAME}\n"))
    );
    // No token, or a prompt it does not know: no answer.
    assert_eq!(askpass(&[password], true, None), (false, String::new()));
    assert_eq!(
        askpass(
            &["Enter passphrase for key '/home/u/.ssh/id_ed25519': "],
            true,
            Some(TOKEN)
        ),
        (false, String::new())
    );
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                found.push(entry.path());
            }
        }
    }
    found
}

fn assert_token_absent(dir: &Path) {
    let files = files_under(dir);
    assert!(!files.is_empty());
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let found = bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes());
        assert!(!found, "the token is in {}", file.display());
    }
}

/// A tiny HTTP server for git's "dumb" protocol over a bare repository, demanding basic auth
/// with `x-access-token:<TOKEN>`, serving the files under `root`. Records the authorisation
/// headers it saw.
fn serve_repo_with_auth(root: PathBuf) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let expected = {
        use base64::Engine as _;
        let raw = format!("{TOKEN_USERNAME}:{TOKEN}");
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    };
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut authorization = None;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("authorization")
                {
                    authorization = Some(value.trim().to_owned());
                }
            }
            log.lock().unwrap().push(authorization.clone());
            let target = request_line.split_whitespace().nth(1).unwrap_or("/");
            let path = target
                .split('?')
                .next()
                .unwrap_or("/")
                .trim_start_matches('/');
            let response = if authorization.as_deref() != Some(expected.as_str()) {
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"sam\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            } else {
                match std::fs::File::open(root.join(path)) {
                    Ok(mut file) if !path.is_empty() && !path.contains("..") => {
                        let mut body = Vec::new();
                        file.read_to_end(&mut body).unwrap();
                        let mut response = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        response.extend(body);
                        response
                    }
                    _ => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                }
            };
            let _ = stream.write_all(&response);
        }
    });
    (format!("http://{address}/"), seen)
}

#[tokio::test]
async fn a_token_reaches_git_through_askpass_and_nowhere_else() {
    let work = tempfile::tempdir().unwrap();
    let repo = make_repo(&work.path().join("origin"));
    let bare = work.path().join("served.git");
    git(
        work.path(),
        &[
            "clone",
            "--quiet",
            "--bare",
            repo.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    git(&bare, &["update-server-info"]);
    let (base_url, seen) = serve_repo_with_auth(work.path().to_path_buf());

    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(state.path());
    let client = daemon.client().await;

    // Without the token the server refuses, and git does not hang on a prompt.
    let checkout = work.path().join("checkout");
    let plan = git_plan("ws", &format!("{base_url}served.git"), None, &checkout);
    let error = refused(&client, RequestBody::Setup(plan.clone())).await;
    assert_eq!(error.code, ErrorCode::SetupFailed);

    // With it, git authenticates through sam-host's askpass.
    ok(&client, RequestBody::Setup(with_token(plan, TOKEN))).await;
    assert_eq!(read_text(&client, "README.md").await, "hello sam\n");
    assert!(
        seen.lock().unwrap().iter().any(Option::is_some),
        "git sent credentials"
    );

    // A failing clone with a token: the reason is journaled, the token is not.
    let elsewhere = tempfile::tempdir().unwrap();
    let other_state = tempfile::tempdir().unwrap();
    let other = Daemon::start(other_state.path());
    let other_client = other.client().await;
    let missing = git_plan(
        "ws",
        &file_url(&work.path().join("missing")),
        None,
        &elsewhere.path().join("c"),
    );
    refused(
        &other_client,
        RequestBody::Setup(with_token(missing, TOKEN)),
    )
    .await;

    // Stop the daemons so every file is complete, then look everywhere.
    let _ = status(&client).await;
    drop((client, other_client));
    daemon.stop();
    other.stop();
    assert_token_absent(state.path());
    assert_token_absent(other_state.path());
    assert_token_absent(&checkout);
    let journal = rusqlite::Connection::open(state.path().join("journal.sqlite")).unwrap();
    let rows: Vec<String> = journal
        .prepare("SELECT body FROM events UNION ALL SELECT record FROM setup")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(rows.len() > 5);
    assert!(rows.iter().all(|row| !row.contains(TOKEN)));
}

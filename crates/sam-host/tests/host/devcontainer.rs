//! The devcontainer step with real parts: the pinned Dev Containers CLI bringing a container
//! up with podman from a local image, commands run inside it, and the ways it fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sam_protocol::client::HostClient;
use sam_protocol::{
    ContainerEngine, ErrorCode, EventBody, HostState, ProtocolError, RequestBody, ResponseBody,
    SetupPlan, step,
};

use crate::containers::{BASE_IMAGE, ContainerCleanup, ContainerTools};
use crate::support::{
    Daemon, events_until, file_url, git, git_plan, local_plan, make_repo, refused, run, status,
    subscribe,
};

/// `devcontainer up` of a small local image takes seconds; a loaded machine gets slack.
const SETUP_DEADLINE: Duration = Duration::from_secs(180);

/// A value only the daemon's environment holds; it must never reach a container.
const SECRET: &str = "hunter2-not-for-containers";

fn bodies(events: &[sam_protocol::Event]) -> Vec<EventBody> {
    events.iter().map(|e| e.event.clone()).collect()
}

pub(crate) async fn setup(
    client: &HostClient,
    plan: SetupPlan,
) -> Result<ResponseBody, ProtocolError> {
    match tokio::time::timeout(SETUP_DEADLINE, client.request(RequestBody::Setup(plan)))
        .await
        .expect("the setup timed out")
    {
        Ok(answer) => Ok(answer),
        Err(sam_protocol::client::ClientError::Host(error)) => Err(error),
        Err(other) => panic!("the connection failed: {other}"),
    }
}

/// A daemon that brings containers up with podman, holding [`SECRET`] in its environment.
fn container_daemon(tools: &ContainerTools, state: &Path) -> Daemon {
    Daemon::start_with(state, |command| {
        tools.configure_daemon(command);
        command.env("SAM_TEST_SECRET", SECRET);
    })
}

/// The test repository plus a committed `.devcontainer/devcontainer.json` with `config`.
pub(crate) fn repo_with_devcontainer(dir: &Path, config: &str) -> PathBuf {
    let repo = make_repo(dir);
    std::fs::create_dir_all(repo.join(".devcontainer")).unwrap();
    std::fs::write(repo.join(".devcontainer/devcontainer.json"), config).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "dev container"]);
    repo
}

#[tokio::test]
async fn a_repository_with_a_dev_container_runs_commands_inside_it() {
    let tools = ContainerTools::get();
    let work = tempfile::tempdir().unwrap();
    // `${localEnv:…}` works for what the host passes on (HOME) and finds nothing else.
    let config = format!(
        r#"{{
  // The default bridge network is not needed and not tested on these machines.
  "image": "{BASE_IMAGE}",
  "runArgs": ["--network=none"],
  "containerEnv": {{
    "SAM_PASSED_HOME": "${{localEnv:HOME}}",
    "SAM_LEAKED": "${{localEnv:SAM_TEST_SECRET}}"
  }}
}}"#
    );
    let repo = repo_with_devcontainer(&work.path().join("origin"), &config);
    let checkout = std::fs::canonicalize(work.path()).unwrap().join("checkout");
    let _cleanup = ContainerCleanup::new(tools, &checkout);
    let state = tempfile::tempdir().unwrap();
    let daemon = container_daemon(tools, state.path());
    let client = daemon.client().await;
    let (_, mut events) = subscribe(&client, None).await;

    let answer = setup(
        &client,
        git_plan("ws-dc", &file_url(&repo), None, &checkout),
    )
    .await;
    assert_eq!(
        answer.unwrap(),
        ResponseBody::SetupReady {
            checkout_dir: checkout.display().to_string()
        }
    );
    let journal = bodies(&events_until(&mut events, 7).await);
    assert!(matches!(journal[0], EventBody::HostStarted { .. }));
    assert_eq!(journal[1], EventBody::SetupStarted);
    assert_eq!(
        journal[2],
        EventBody::StepStarted {
            step: step::CLONE.into()
        }
    );
    assert!(matches!(&journal[3], EventBody::StepFinished { step, .. } if step == step::CLONE));
    assert_eq!(
        journal[4],
        EventBody::StepStarted {
            step: step::DEVCONTAINER.into()
        }
    );
    let EventBody::StepFinished {
        step: name,
        millis,
        detail: None,
    } = &journal[5]
    else {
        panic!(
            "expected the devcontainer step to finish, got {:?}",
            journal[5]
        );
    };
    assert_eq!(name, step::DEVCONTAINER);
    assert!(*millis > 0, "the step is timed");
    assert!(matches!(journal[6], EventBody::SetupComplete { .. }));

    let status = status(&client).await;
    assert_eq!(status.state, HostState::Ready);
    let container = status.container.clone().expect("a dev container");
    assert_eq!(container.engine, ContainerEngine::Podman);
    assert_eq!(container.remote_user, "root");
    assert_eq!(container.remote_workspace_folder, "/workspaces/checkout");
    assert_eq!(
        tools.containers_of(&checkout),
        vec![container.container_id.clone()]
    );

    let (code, version, _) = run(&client, &["cat", "/etc/debian_version"], true).await;
    assert_eq!(code, 0);
    assert!(version.starts_with("12."), "not bookworm: {version:?}");
    // Inside: podman's marker file, the remote workspace folder, the checkout mounted there.
    assert_eq!(
        run(&client, &["test", "-e", "/run/.containerenv"], true)
            .await
            .0,
        0
    );
    assert_eq!(
        run(&client, &["pwd"], true).await.1,
        "/workspaces/checkout\n"
    );
    assert_eq!(
        run(&client, &["cat", "README.md"], true).await,
        (0, "hello sam\n".to_owned(), String::new())
    );
    assert_eq!(run(&client, &["id", "-un"], true).await.1, "root\n");
    // On the host: no marker, the checkout itself.
    assert_ne!(
        run(&client, &["test", "-e", "/run/.containerenv"], false)
            .await
            .0,
        0
    );
    assert_eq!(
        run(&client, &["pwd"], false).await.1,
        format!("{}\n", checkout.display())
    );
    // Exit status and stderr come through the engine.
    let (code, _, stderr) = run(&client, &["sh", "-c", "echo bad >&2; exit 5"], true).await;
    assert_eq!((code, stderr.as_str()), (5, "bad\n"));
    assert_eq!(run(&client, &["no-such-program-sam"], true).await.0, 127);

    let (_, env, _) = run(&client, &["env"], true).await;
    let home = std::env::var("HOME").unwrap();
    assert!(
        env.lines().any(|l| l == format!("SAM_PASSED_HOME={home}")),
        "localEnv did not work at all:\n{env}"
    );
    assert!(
        !env.contains(SECRET),
        "a host secret reached the container:\n{env}"
    );

    // A restarted daemon still knows its container.
    daemon.stop();
    let daemon = container_daemon(tools, state.path());
    let client = daemon.client().await;
    assert_eq!(
        crate::support::status(&client).await.container,
        Some(container)
    );
    assert!(
        run(&client, &["cat", "/etc/debian_version"], true)
            .await
            .1
            .starts_with("12.")
    );
}

#[tokio::test]
async fn a_broken_devcontainer_json_fails_the_setup_with_the_cli_reason() {
    let tools = ContainerTools::get();
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    std::fs::create_dir_all(folder.join(".devcontainer")).unwrap();
    std::fs::write(
        folder.join(".devcontainer/devcontainer.json"),
        "{ \"image\": ",
    )
    .unwrap();
    let folder = std::fs::canonicalize(&folder).unwrap();
    let _cleanup = ContainerCleanup::new(tools, &folder);
    let state = tempfile::tempdir().unwrap();
    let daemon = container_daemon(tools, state.path());
    let client = daemon.client().await;
    let (_, mut events) = subscribe(&client, Some(1)).await;

    let error = setup(&client, local_plan("ws", &folder)).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::SetupFailed);
    assert!(
        error.message.contains("devcontainer up failed"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("devcontainer.json"),
        "{}",
        error.message
    );
    assert!(
        !error.message.contains("    at "),
        "stack frames: {}",
        error.message
    );

    let journal = bodies(&events_until(&mut events, 7).await);
    assert_eq!(
        journal[3],
        EventBody::StepStarted {
            step: step::DEVCONTAINER.into()
        }
    );
    assert!(
        matches!(&journal[4], EventBody::StepFailed { step, reason } if step == step::DEVCONTAINER && reason.contains("devcontainer up failed"))
    );
    assert!(matches!(&journal[5], EventBody::SetupFailed { .. }));
    let status = status(&client).await;
    assert!(
        matches!(status.state, HostState::Failed { .. }),
        "{:?}",
        status.state
    );
    assert_eq!(status.container, None);
    assert!(tools.containers_of(&folder).is_empty());
}

#[tokio::test]
async fn a_missing_dev_containers_cli_fails_the_setup_with_how_to_install_it() {
    let tools = ContainerTools::get();
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    std::fs::write(
        folder.join(".devcontainer.json"),
        format!(r#"{{"image": "{BASE_IMAGE}"}}"#),
    )
    .unwrap();

    // Named by SAM_DEVCONTAINER_CLI but absent.
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(state.path(), |command| {
        tools.configure_daemon(command);
        command.env("SAM_DEVCONTAINER_CLI", work.path().join("no-such-cli"));
    });
    let client = daemon.client().await;
    let error = setup(&client, local_plan("ws", &folder)).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::SetupFailed);
    assert!(
        error.message.contains("SAM_DEVCONTAINER_CLI"),
        "{}",
        error.message
    );
    assert!(error.message.contains("no-such-cli"), "{}", error.message);

    // Not on PATH either (PATH holds podman only).
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(which("podman"), bin.join("podman")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(state.path(), |command| {
        tools.configure_daemon(command);
        command.env_remove("SAM_DEVCONTAINER_CLI").env("PATH", &bin);
    });
    let client = daemon.client().await;
    let error = setup(&client, local_plan("ws", &folder)).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::SetupFailed);
    assert!(
        error.message.contains("npm install -g @devcontainers/cli"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn without_a_container_engine_commands_run_on_the_host() {
    // Needs no container tools: the daemon's PATH has neither docker nor podman.
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    std::fs::write(
        folder.join(".devcontainer.json"),
        r#"{"image": "debian:bookworm"}"#,
    )
    .unwrap();
    let empty_bin = work.path().join("empty-bin");
    std::fs::create_dir_all(&empty_bin).unwrap();
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(state.path(), |command| {
        command
            .env("PATH", &empty_bin)
            .env_remove("SAM_CONTAINER_ENGINE");
    });
    let client = daemon.client().await;
    let (_, mut events) = subscribe(&client, Some(1)).await;
    setup(&client, local_plan("ws", &folder)).await.unwrap();

    let journal = bodies(&events_until(&mut events, 7).await);
    assert_eq!(
        journal[3],
        EventBody::StepStarted {
            step: step::DEVCONTAINER.into()
        }
    );
    let EventBody::StepFinished {
        step: name,
        detail: Some(detail),
        ..
    } = &journal[4]
    else {
        panic!("expected a skipped devcontainer step, got {:?}", journal[4]);
    };
    assert_eq!(name, step::DEVCONTAINER);
    assert!(detail.starts_with("skipped:"), "{detail}");
    assert!(
        detail.contains("`docker info`") && detail.contains("`podman info`"),
        "{detail}"
    );
    assert!(detail.contains("commands run on the host"), "{detail}");
    assert!(matches!(journal[5], EventBody::SetupComplete { .. }));

    let status = status(&client).await;
    assert_eq!(status.state, HostState::Ready);
    assert_eq!(status.container, None);
    let error = refused(
        &client,
        RequestBody::Run {
            argv: vec!["cat".into(), "README.md".into()],
            in_container: true,
            timeout_ms: 5000,
        },
    )
    .await;
    assert_eq!(error.code, ErrorCode::NotFound);
    assert_eq!(
        run(&client, &["/bin/cat", "README.md"], false).await,
        (0, "hello sam\n".to_owned(), String::new())
    );
}

/// The absolute path of `program` on this process's PATH.
fn which(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{program} is not on PATH"))
}

/// Whether podman knows a container by this id or name.
fn container_exists(tools: &ContainerTools, id: &str) -> bool {
    tools
        .podman()
        .args(["container", "exists", id])
        .status()
        .unwrap()
        .success()
}

#[tokio::test]
async fn remove_container_removes_the_workspaces_container_and_nothing_else() {
    let tools = ContainerTools::get();
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    std::fs::write(
        folder.join(".devcontainer.json"),
        format!(r#"{{"image": "{BASE_IMAGE}", "runArgs": ["--network=none"]}}"#),
    )
    .unwrap();
    let folder = std::fs::canonicalize(&folder).unwrap();
    let _cleanup = ContainerCleanup::new(tools, &folder);
    // A dev container of the user's own, of another folder, from the same image: removing
    // the workspace's must leave it alone. (One with this folder's label would be the one
    // `devcontainer up` reuses, so it would be the workspace's.)
    let other = folder.with_file_name("other-project");
    let _cleanup_other = ContainerCleanup::new(tools, &other);
    let bystander = format!("sam-bystander-{}", std::process::id());
    let started = tools
        .podman()
        .args([
            "run",
            "--detach",
            "--network=none",
            "--name",
            &bystander,
            "--label",
        ])
        .arg(format!("devcontainer.local_folder={}", other.display()))
        .args([BASE_IMAGE, "sleep", "600"])
        .output()
        .unwrap();
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );

    let state = tempfile::tempdir().unwrap();
    let daemon = container_daemon(tools, state.path());
    let client = daemon.client().await;
    setup(&client, local_plan("ws-rm", &folder)).await.unwrap();
    let container = status(&client).await.container.expect("a dev container");
    assert!(container_exists(tools, &container.container_id));

    // A restarted daemon (after a reboot, say) still knows which container is its own.
    daemon.stop();
    let daemon = container_daemon(tools, state.path());
    let client = daemon.client().await;
    let answer = client.request(RequestBody::RemoveContainer).await.unwrap();
    assert_eq!(
        answer,
        ResponseBody::ContainerRemoved {
            container_id: Some(container.container_id.clone())
        }
    );
    assert!(
        !container_exists(tools, &container.container_id),
        "the workspace's container is gone"
    );
    assert!(
        container_exists(tools, &bystander),
        "the user's own container stays"
    );
    assert!(tools.containers_of(&folder).is_empty());
    assert_eq!(tools.containers_of(&other).len(), 1);
    assert_eq!(status(&client).await.container, None);
    // Asking again is fine: there is nothing left to remove.
    assert_eq!(
        client.request(RequestBody::RemoveContainer).await.unwrap(),
        ResponseBody::ContainerRemoved { container_id: None }
    );
    let _ = tools.podman().args(["rm", "--force", &bystander]).output();
}

#[tokio::test]
async fn remove_container_without_a_container_removes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let folder = make_repo(&work.path().join("code"));
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(state.path(), |command| {
        command.env("SAM_CONTAINER_ENGINE", "none");
    });
    let client = daemon.client().await;
    // Before any setup, and after one without a dev container.
    assert_eq!(
        client.request(RequestBody::RemoveContainer).await.unwrap(),
        ResponseBody::ContainerRemoved { container_id: None }
    );
    setup(&client, local_plan("ws-none", &folder))
        .await
        .unwrap();
    assert_eq!(
        client.request(RequestBody::RemoveContainer).await.unwrap(),
        ResponseBody::ContainerRemoved { container_id: None }
    );
}

/// The devcontainer step's detail in the journal, or `None` when there was no such step.
async fn devcontainer_step(client: &HostClient) -> Option<Option<String>> {
    let (_, mut events) = subscribe(client, None).await;
    let last = status(client).await.last_seq;
    bodies(&events_until(&mut events, last).await)
        .into_iter()
        .find_map(|body| match body {
            EventBody::StepFinished { step, detail, .. } if step == step::DEVCONTAINER => {
                Some(detail)
            }
            _ => None,
        })
}

#[tokio::test]
async fn a_clone_without_a_configuration_runs_in_the_base_container() {
    let tools = ContainerTools::get();
    let work = tempfile::tempdir().unwrap();
    let repo = make_repo(&work.path().join("origin"));
    let checkout = std::fs::canonicalize(work.path()).unwrap().join("checkout");
    let _cleanup = ContainerCleanup::new(tools, &checkout);
    let state = tempfile::tempdir().unwrap();
    // The local image stands in for the Node 22 image, which cannot be pulled here.
    let daemon = Daemon::start_with(state.path(), |command| {
        tools.configure_daemon(command);
        command.env("SAM_BASE_IMAGE", BASE_IMAGE);
    });
    let client = daemon.client().await;
    setup(
        &client,
        git_plan("ws-base", &file_url(&repo), None, &checkout),
    )
    .await
    .unwrap();

    let container = status(&client).await.container.expect("the base container");
    assert_eq!(container.engine, ContainerEngine::Podman);
    assert_eq!(container.remote_workspace_folder, "/workspaces/checkout");
    assert_eq!(
        tools.containers_of(&checkout),
        vec![container.container_id.clone()]
    );
    let detail = devcontainer_step(&client)
        .await
        .expect("a devcontainer step");
    assert!(
        detail
            .as_deref()
            .is_some_and(|d| d.contains("base container")),
        "{detail:?}"
    );
    // Commands (and so agents) run inside it, on the checkout.
    assert_eq!(
        run(&client, &["test", "-e", "/run/.containerenv"], true)
            .await
            .0,
        0
    );
    assert_eq!(
        run(&client, &["cat", "README.md"], true).await,
        (0, "hello sam\n".to_owned(), String::new())
    );
    // The configuration was generated in the state directory; the checkout is untouched.
    let config =
        std::fs::read_to_string(state.path().join("base-devcontainer/devcontainer.json")).unwrap();
    assert!(config.contains(BASE_IMAGE), "{config}");
    assert_eq!(
        run(&client, &["git", "status", "--porcelain"], false).await,
        (0, String::new(), String::new())
    );
    // Deleting the workspace removes it like any dev container.
    assert_eq!(
        client.request(RequestBody::RemoveContainer).await.unwrap(),
        ResponseBody::ContainerRemoved {
            container_id: Some(container.container_id)
        }
    );
    assert!(tools.containers_of(&checkout).is_empty());
}

#[tokio::test]
async fn a_folder_in_place_and_an_image_that_cannot_start_stay_on_the_host() {
    let tools = ContainerTools::get();
    let work = tempfile::tempdir().unwrap();
    let repo = make_repo(&work.path().join("origin"));

    // A folder used in place is the user's own setup: no base container, no step.
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(state.path(), |command| {
        tools.configure_daemon(command);
        command.env("SAM_BASE_IMAGE", BASE_IMAGE);
    });
    let client = daemon.client().await;
    let folder = std::fs::canonicalize(&repo).unwrap();
    let _cleanup_folder = ContainerCleanup::new(tools, &folder);
    setup(&client, local_plan("ws-here", &folder))
        .await
        .unwrap();
    assert_eq!(status(&client).await.container, None);
    assert_eq!(devcontainer_step(&client).await, None);
    assert!(tools.containers_of(&folder).is_empty());

    // An image that cannot be had: the clone is ready on the host, and the step says why.
    let checkout = std::fs::canonicalize(work.path()).unwrap().join("checkout");
    let _cleanup = ContainerCleanup::new(tools, &checkout);
    let state = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(state.path(), |command| {
        tools.configure_daemon(command);
        command.env("SAM_BASE_IMAGE", "localhost/sam-no-such-image:1");
    });
    let client = daemon.client().await;
    setup(
        &client,
        git_plan("ws-offline", &file_url(&repo), None, &checkout),
    )
    .await
    .unwrap();
    let status = status(&client).await;
    assert_eq!(status.state, HostState::Ready);
    assert_eq!(status.container, None);
    let detail = devcontainer_step(&client)
        .await
        .flatten()
        .unwrap_or_default();
    assert!(detail.contains("did not start"), "{detail}");
    assert!(detail.contains("commands run on the host"), "{detail}");
    assert_eq!(
        run(&client, &["cat", "README.md"], false).await,
        (0, "hello sam\n".to_owned(), String::new())
    );

    // A hostile image name is refused when the daemon starts, naming the variable.
    let state = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(crate::support::BIN)
        .args(["serve", "--state-dir"])
        .arg(state.path())
        .stdin(std::process::Stdio::null())
        .env("SAM_BASE_IMAGE", "--privileged")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("SAM_BASE_IMAGE"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

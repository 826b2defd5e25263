//! sam-ssh against a real OpenSSH server (one private `sshd` per test) and the real `ssh`
//! client.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sam_ssh::{
    ClientKey, HostKeyPin, SshError, SshOptions, SshTarget, UploadOutcome, connect,
    include_directive, known_hosts_line, ssh_config_entry, wait_for_ssh, write_managed_config,
    write_managed_known_hosts,
};
use support::{FreezableRelay, TestSshd, key_pair, write_secret_file};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn options() -> SshOptions {
    SshOptions {
        connect_timeout: Duration::from_secs(5),
        handshake_timeout: Duration::from_secs(10),
        ..SshOptions::default()
    }
}

async fn session(sshd: &TestSshd) -> sam_ssh::SshSession {
    connect(&sshd.target(), &sshd.client_key(), &options())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()))
}

#[tokio::test]
async fn exec_reports_stdout_stderr_and_status_over_a_pinned_connection() {
    let sshd = TestSshd::start();
    let session = session(&sshd).await;

    let algorithms = session.negotiated_algorithms().unwrap();
    assert!(algorithms.contains("host_key=ssh-ed25519"), "{algorithms}");
    eprintln!("negotiated: {algorithms}");

    let hi = session.exec("echo hi").await.unwrap();
    assert_eq!(hi.status, 0);
    assert_eq!(hi.stdout, b"hi\n");
    assert!(hi.stderr.is_empty());

    let failing = session
        .exec("echo out; echo 'went wrong' >&2; exit 3")
        .await
        .unwrap();
    assert_eq!(failing.status, 3);
    assert_eq!(failing.stdout, b"out\n");
    assert_eq!(failing.stderr, b"went wrong\n");
    match failing.check() {
        Err(SshError::CommandFailed {
            status,
            stderr_tail,
        }) => assert_eq!((status, stderr_tail.as_str()), (3, "went wrong")),
        other => panic!("{other:?}"),
    }

    // A command killed by a signal reports 128 + the signal number, as a shell would.
    let killed = session.exec("kill -KILL $$").await.unwrap();
    assert_eq!(killed.status, 137);

    // Stdin is closed: a command reading it ends instead of hanging.
    let cat = session.exec("cat; echo done").await.unwrap();
    assert_eq!(cat.stdout, b"done\n");

    // Commands run concurrently on one connection.
    let (a, b) = tokio::join!(session.exec("echo a"), session.exec("echo b"));
    assert_eq!(
        (a.unwrap().stdout, b.unwrap().stdout),
        (b"a\n".to_vec(), b"b\n".to_vec())
    );
}

#[tokio::test]
async fn exec_output_is_bounded() {
    let sshd = TestSshd::start();
    let bounded = SshOptions {
        max_exec_output_bytes: 1000,
        ..options()
    };
    let session = connect(&sshd.target(), &sshd.client_key(), &bounded)
        .await
        .unwrap();
    let exactly = session.exec("head -c 1000 /dev/zero").await.unwrap();
    assert_eq!(exactly.stdout.len(), 1000);
    let error = session.exec("head -c 100000 /dev/zero").await.unwrap_err();
    assert!(
        matches!(error, SshError::OutputTooLarge { limit_bytes: 1000 }),
        "{error:?}"
    );
    // The session survives and still works.
    assert_eq!(session.exec("echo ok").await.unwrap().stdout, b"ok\n");
}

#[tokio::test]
async fn a_wrong_host_key_is_refused_before_authenticating() {
    let sshd = TestSshd::start();
    let (_, other_public) = key_pair();
    let wrong_pin = HostKeyPin::from_openssh(&other_public).unwrap();
    let target = sshd.target_with_pin(wrong_pin.clone());

    let started = Instant::now();
    let error = wait_for_ssh(
        &target,
        &sshd.client_key(),
        &options(),
        Duration::from_millis(100),
        Duration::from_secs(10),
    )
    .await
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a mismatch was retried"
    );
    match &error {
        SshError::HostKeyMismatch {
            expected_fingerprint,
            presented_fingerprint,
        } => {
            assert_eq!(expected_fingerprint, &wrong_pin.fingerprint());
            assert_eq!(presented_fingerprint, &sshd.pin().fingerprint());
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.is_transient());
    assert!(error.to_string().contains("attack"));

    // The server saw the key exchange but no authentication request of any kind.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = sshd.log();
    assert!(log.contains("kex"), "the log shows no connection:\n{log}");
    assert!(!log.contains("userauth-request"), "{log}");
    assert!(!log.contains("Accepted"), "{log}");
}

#[tokio::test]
async fn a_rejected_client_key_is_permanent_and_not_retried() {
    let sshd = TestSshd::start();
    let (stranger, _) = key_pair();
    let stranger = ClientKey::from_openssh(&stranger).unwrap();

    let started = Instant::now();
    let error = wait_for_ssh(
        &sshd.target(),
        &stranger,
        &options(),
        Duration::from_millis(100),
        Duration::from_secs(10),
    )
    .await
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "auth was retried"
    );
    assert!(
        matches!(&error, SshError::AuthRejected { user } if user == sshd.user()),
        "{error:?}"
    );
    assert!(!error.is_transient());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = sshd.log();
    // One connection tried public-key auth (sshd's log shows each attempt).
    // The harness's readiness probe and our single attempt, no retry.
    assert!(
        log.matches("Connection from 127.0.0.1").count() <= 2,
        "{log}"
    );
    assert!(log.contains("userauth-request"), "{log}");
    assert!(!log.contains("Accepted publickey"), "{log}");
}

#[tokio::test]
async fn wait_for_ssh_rides_out_a_server_that_starts_late() {
    let mut sshd = TestSshd::prepare();
    let target = sshd.target();
    let key = sshd.client_key();
    let starter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        sshd.launch();
        sshd
    });
    let started = Instant::now();
    let session = wait_for_ssh(
        &target,
        &key,
        &options(),
        Duration::from_millis(100),
        Duration::from_secs(15),
    )
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(session.exec("echo up").await.unwrap().stdout, b"up\n");
    let _sshd = starter.join().unwrap();
}

#[tokio::test]
async fn wait_for_ssh_gives_up_at_the_deadline_on_a_closed_port() {
    let (_, host_public) = key_pair();
    let (client_private, _) = key_pair();
    let port = support::free_port();
    let target = SshTarget::new(
        "127.0.0.1",
        port,
        "root",
        HostKeyPin::from_openssh(&host_public).unwrap(),
    )
    .unwrap();
    let key = ClientKey::from_openssh(&client_private).unwrap();
    let started = Instant::now();
    let error = wait_for_ssh(
        &target,
        &key,
        &options(),
        Duration::from_millis(100),
        Duration::from_secs(1),
    )
    .await
    .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(&error, SshError::Unreachable { port: p, .. } if *p == port),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn a_stream_round_trips_bytes_both_ways_through_cat() {
    let sshd = TestSshd::start();
    let session = session(&sshd).await;

    // Small, interactive: what we write comes back before we close stdin.
    let mut stream = session.open_stream("cat").await.unwrap();
    stream.write_all(b"hello\n").await.unwrap();
    let mut echoed = [0_u8; 6];
    stream.read_exact(&mut echoed).await.unwrap();
    assert_eq!(&echoed, b"hello\n");
    stream.shutdown().await.unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
    assert_eq!(stream.wait_exit().await.unwrap(), 0);
    assert_eq!(stream.exit_status(), Some(0));

    // 5 MiB, written and read concurrently (flow control both ways).
    let payload: Vec<u8> = (0..5 * 1024 * 1024_u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let stream = session.open_stream("cat").await.unwrap();
    let (mut reader, mut writer) = tokio::io::split(stream);
    let to_send = payload.clone();
    let writing = tokio::spawn(async move {
        writer.write_all(&to_send).await.unwrap();
        writer.shutdown().await.unwrap();
        writer
    });
    let mut received = Vec::with_capacity(payload.len());
    reader.read_to_end(&mut received).await.unwrap();
    let writer = writing.await.unwrap();
    assert_eq!(received.len(), payload.len());
    assert!(received == payload, "the payload came back altered");
    let mut stream = reader.unsplit(writer);
    assert_eq!(stream.wait_exit().await.unwrap(), 0);
}

#[tokio::test]
async fn a_stream_exposes_exit_status_and_stderr_tail() {
    let sshd = TestSshd::start();
    let session = session(&sshd).await;
    let mut stream = session
        .open_stream("echo partial; echo 'sam-host: bad version' >&2; exit 7")
        .await
        .unwrap();
    let mut stdout = String::new();
    stream.read_to_string(&mut stdout).await.unwrap();
    assert_eq!(stdout, "partial\n");
    assert_eq!(stream.wait_exit().await.unwrap(), 7);
    assert_eq!(stream.stderr_tail(), "sam-host: bad version\n");

    // Dropping a stream closes its channel: the remote command ends.
    let marker = sshd.dir().join("stream-dropped");
    let stream = session
        .open_stream(&format!("cat; touch {}", marker.display()))
        .await
        .unwrap();
    drop(stream);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !marker.exists() {
        assert!(
            Instant::now() < deadline,
            "the remote command outlived its stream"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn upload_is_checksummed_atomic_and_skipped_when_present() {
    let sshd = TestSshd::start();
    let session = session(&sshd).await;
    let dir = sshd.dir().join("remote dir/bin");
    std::fs::create_dir_all(&dir).unwrap();
    let remote = dir.join("sam-host");
    let remote_path = remote.to_str().unwrap();

    let v1 = vec![7_u8; 300_000];
    assert_eq!(
        session.upload(&v1, remote_path, 0o755).await.unwrap(),
        UploadOutcome::Uploaded
    );
    assert_eq!(std::fs::read(&remote).unwrap(), v1);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&remote), 0o755);

    assert_eq!(
        session.upload(&v1, remote_path, 0o755).await.unwrap(),
        UploadOutcome::AlreadyPresent
    );

    let mut v2 = v1.clone();
    v2[123] = 8;
    assert_eq!(
        session.upload(&v2, remote_path, 0o755).await.unwrap(),
        UploadOutcome::Uploaded
    );
    assert_eq!(std::fs::read(&remote).unwrap(), v2);

    // Same bytes, another mode: rewritten with the new mode.
    assert_eq!(
        session.upload(&v2, remote_path, 0o700).await.unwrap(),
        UploadOutcome::Uploaded
    );
    assert_eq!(mode(&remote), 0o700);

    // Empty files are files too.
    let empty = dir.join("empty");
    session
        .upload(b"", empty.to_str().unwrap(), 0o644)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&empty).unwrap(), b"");

    // No temporary file left behind.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["empty", "sam-host"]);

    // A missing parent directory and a directory in the way are remote failures.
    let missing = sshd.dir().join("nope/sam-host");
    let error = session
        .upload(b"x", missing.to_str().unwrap(), 0o755)
        .await
        .unwrap_err();
    assert!(matches!(error, SshError::CommandFailed { .. }), "{error:?}");
    let error = session
        .upload(b"x", dir.to_str().unwrap(), 0o755)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SshError::CommandFailed { stderr_tail, .. } if stderr_tail.contains("directory")),
        "{error:?}"
    );
    assert!(dir.is_dir());
}

#[tokio::test]
async fn upload_refuses_hostile_remote_paths_before_running_anything() {
    let sshd = TestSshd::start();
    let session = session(&sshd).await;
    let canary = sshd.dir().join("canary");
    std::fs::write(&canary, "alive").unwrap();
    let base = sshd.dir().display().to_string();
    let hostile = [
        "relative/sam-host".to_owned(),
        format!("{base}/../etc/sam-host"),
        format!("{base}/x'; rm -f {base}/canary; echo '"),
        format!("{base}/x\nrm -f {base}/canary"),
        format!("{base}/x\0y"),
        format!("{base}/x`rm -f {base}/canary`"),
        format!("{base}/x\"y"),
        format!("{base}/dir/"),
    ];
    for path in &hostile {
        let error = session.upload(b"x", path, 0o755).await.unwrap_err();
        assert!(
            matches!(error, SshError::InvalidInput(_)),
            "{path:?}: {error:?}"
        );
    }
    let error = session
        .upload(b"x", &format!("{base}/ok"), 0o17777)
        .await
        .unwrap_err();
    assert!(matches!(error, SshError::InvalidInput(_)));
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "alive");

    // Shell metacharacters that are legal in names are quoted, not interpreted.
    let odd = format!("{base}/a $HOME;b&c");
    session.upload(b"odd", &odd, 0o600).await.unwrap();
    assert_eq!(std::fs::read(&odd).unwrap(), b"odd");
}

#[tokio::test]
async fn the_generated_ssh_config_works_with_the_system_ssh_client() {
    let sshd = TestSshd::start();
    let target = sshd.target();
    // A space in the folder, as in macOS's "Application Support".
    let dir = sshd.dir().join("App Support/sam/ssh");
    std::fs::create_dir_all(&dir).unwrap();
    let identity = write_secret_file(&dir.join("id_ed25519"), sshd.client_private_pem());
    let known_hosts = dir.join("known_hosts");
    let entry = ssh_config_entry("test", &target, &identity, &known_hosts).unwrap();
    let config = write_managed_config(&dir, &[entry]).unwrap();
    write_managed_known_hosts(&dir, &[known_hosts_line(&target)]).unwrap();
    // The user's own config holds just the Include line.
    let user_config = sshd.dir().join("user_config");
    std::fs::write(
        &user_config,
        format!("{}\n", include_directive(&config).unwrap()),
    )
    .unwrap();

    let ssh = |config: &Path| {
        let output = Command::new("ssh")
            .args(["-F"])
            .arg(config)
            .args([
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=5",
                "sam-test",
                "true",
            ])
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stderr) = ssh(&user_config);
    assert_eq!(code, Some(0), "{stderr}\n{}", sshd.log());

    // A different key in known_hosts: the real ssh refuses, as it must.
    let (_, other_public) = key_pair();
    let impostor = sshd.target_with_pin(HostKeyPin::from_openssh(&other_public).unwrap());
    write_managed_known_hosts(&dir, &[known_hosts_line(&impostor)]).unwrap();
    let (code, stderr) = ssh(&user_config);
    assert_eq!(code, Some(255), "{stderr}");
    assert!(stderr.contains("Host key verification failed"), "{stderr}");
}

#[tokio::test]
async fn a_dead_server_surfaces_as_disconnected() {
    let mut sshd = TestSshd::start();
    let session = session(&sshd).await;
    let mut stream = session.open_stream("cat").await.unwrap();
    assert_eq!(session.exec("echo alive").await.unwrap().stdout, b"alive\n");

    sshd.kill_all();

    let error = tokio::time::timeout(Duration::from_secs(10), session.exec("true"))
        .await
        .expect("exec after the server died did not return")
        .unwrap_err();
    assert!(matches!(error, SshError::Disconnected { .. }), "{error:?}");
    assert!(error.is_transient());
    assert!(session.is_closed());

    // The open stream ends with an error, not a clean end of file.
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buffer))
        .await
        .unwrap();
    assert_eq!(
        read.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionAborted
    );
    assert!(matches!(
        stream.wait_exit().await,
        Err(SshError::Disconnected { .. })
    ));
}

#[tokio::test]
async fn keepalives_notice_a_server_that_went_silent() {
    let sshd = TestSshd::start();
    let relay = FreezableRelay::start(sshd.port()).await;
    let target = SshTarget::new("127.0.0.1", relay.port, sshd.user(), sshd.pin()).unwrap();
    let quick = SshOptions {
        keepalive_interval: Duration::from_millis(300),
        keepalive_max: 2,
        ..options()
    };
    let session = connect(&target, &sshd.client_key(), &quick).await.unwrap();
    assert_eq!(session.exec("echo alive").await.unwrap().stdout, b"alive\n");

    relay.freeze();
    let started = Instant::now();
    let error = tokio::time::timeout(Duration::from_secs(10), session.exec("true"))
        .await
        .expect("keepalives did not end the silent connection")
        .unwrap_err();
    match &error {
        SshError::Disconnected { reason } => assert!(reason.contains("keepalive"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // About interval × (max + 1); generous for a loaded machine.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

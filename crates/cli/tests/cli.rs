//! The `hypnos` binary as a user runs it.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    process::{Command as StdCommand, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use assert_cmd::{Command, cargo::cargo_bin};

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}/hypnos.db?mode=rwc", dir.path().display())
}

#[test]
fn version_names_the_binary_and_version() {
    let output = Command::cargo_bin("hypnos")
        .unwrap()
        .arg("--version")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(output).unwrap().trim(),
        format!("hypnos {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn server_help_documents_every_setting() {
    let output = Command::cargo_bin("hypnos")
        .unwrap()
        .args(["server", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8(output).unwrap();
    for flag in [
        "--listen",
        "HYPNOS_LISTEN",
        "--database",
        "HYPNOS_DATABASE_URL",
        "--tls-cert",
        "--tls-key",
        "--public-url",
        "--session-idle-timeout",
        "--session-max-age",
        "--invitation-ttl",
        "HYPNOS_INVITATION_TTL",
        "--login-rate-per-account",
        "--login-rate-per-ip",
        "--max-body-bytes",
        "--max-blob-bytes",
        "--metrics-listen",
        "HYPNOS_METRICS_LISTEN",
        "HYPNOS_MAX_BLOB_BYTES",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    Command::cargo_bin("hypnos")
        .unwrap()
        .arg("frobnicate")
        .assert()
        .code(2);
}

#[test]
fn invalid_settings_are_refused_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    let assert = Command::cargo_bin("hypnos")
        .unwrap()
        .args(["server", "--database", &sqlite_url(&dir)])
        .args(["--session-idle-timeout", "10d", "--session-max-age", "1d"])
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("--session-idle-timeout"), "{stderr}");
}

#[test]
fn metrics_cannot_share_the_api_listener() {
    let dir = tempfile::tempdir().unwrap();
    let assert = Command::cargo_bin("hypnos")
        .unwrap()
        .args(["server", "--database", &sqlite_url(&dir)])
        .args([
            "--listen",
            "127.0.0.1:18080",
            "--metrics-listen",
            "127.0.0.1:18080",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("--metrics-listen"), "{stderr}");
    Command::cargo_bin("hypnos")
        .unwrap()
        .args(["server", "--metrics-listen", "everywhere"])
        .assert()
        .code(2);
}

#[test]
fn reset_token_for_an_unknown_account_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let assert = Command::cargo_bin("hypnos")
        .unwrap()
        .args([
            "admin",
            "reset-token",
            "nobody@example.com",
            "--database",
            &sqlite_url(&dir),
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("no account has the e-mail nobody@example.com"),
        "{stderr}"
    );
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// A free port on the loopback interface (free when asked: tests run in parallel).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `hypnos server` starts on its database, answers (metrics on their own listener, not the
/// API's), and exits cleanly on SIGTERM.
#[test]
fn server_runs_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let metrics_port = free_port();
    let mut child = StdCommand::new(cargo_bin("hypnos"))
        .args(["server", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
        .args(["--database", &sqlite_url(&dir)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        if let Some(response) = get(port, "/readyz") {
            break response;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not answer within 30 s"
        );
        sleep(Duration::from_millis(100));
    };
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    let metrics = get(metrics_port, "/metrics").unwrap();
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("hypnos_build_info"), "{metrics}");
    let api = get(port, "/metrics").unwrap();
    assert!(api.starts_with("HTTP/1.1 404"), "{api}");
    // The sync API's schema, for GraphQL tools, and the REST API's description, for OpenAPI
    // tools: each served as its flag prints it.
    let printed = served_as_printed(port, "/graphql/schema", "--print-schema");
    let printed_openapi = served_as_printed(port, "/openapi.json", "--print-openapi");
    let document: serde_json::Value = serde_json::from_str(&printed_openapi).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(
        document["paths"]["/auth/login-s"]["post"].is_object(),
        "{document}"
    );
    for operation in [
        "snapshotsCreate(",
        "blobsMissing(",
        "projectKey(",
        "type Query",
    ] {
        assert!(
            printed.contains(operation),
            "{operation} missing:\n{printed}"
        );
    }
    let status = StdCommand::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status after SIGTERM: {exit}");
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("shutting down"), "{log}");
    assert!(dir.path().join("hypnos.db").exists());
}

/// The stdout of `hypnos ARGS`, which must succeed.
fn stdout_of(args: &[&str]) -> String {
    let output = Command::cargo_bin("hypnos")
        .unwrap()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(output).unwrap()
}

#[test]
fn completions_cover_every_command_in_each_shell() {
    let bash = stdout_of(&["completions", "bash"]);
    let zsh = stdout_of(&["completions", "zsh"]);
    let fish = stdout_of(&["completions", "fish"]);
    assert!(zsh.starts_with("#compdef hypnos"), "{zsh}");
    // Every subcommand, and a flag deep in one, is offered by each script.
    for word in [
        "server",
        "watch",
        "team-project",
        "completions",
        "--debounce",
    ] {
        assert!(bash.contains(word), "bash lacks {word}");
        assert!(zsh.contains(word), "zsh lacks {word}");
        assert!(
            fish.contains(word.trim_start_matches('-')),
            "fish lacks {word}"
        );
    }
    // The bash script is valid bash.
    let mut check = StdCommand::new("bash")
        .args(["-n", "/dev/stdin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(bash.as_bytes())
        .unwrap();
    assert!(
        check.wait().unwrap().success(),
        "bash -n refused the script"
    );

    Command::cargo_bin("hypnos")
        .unwrap()
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}

#[test]
fn the_manual_page_renders_with_every_command() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH hypnos 1"), "{page}");
    // man(1) renders it, and the rendering lists the commands.
    let mut man = StdCommand::new("man")
        .args(["-l", "-"])
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    man.stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let rendered = man.wait_with_output().unwrap();
    assert!(rendered.status.success());
    let text = String::from_utf8_lossy(&rendered.stdout);
    for command in [
        "hypnos-server(1)",
        "hypnos-watch(1)",
        "hypnos-completions(1)",
    ] {
        assert!(text.contains(command), "{command} missing from:\n{text}");
    }

    // With --dir, every page it refers to is written too.
    let dir = tempfile::tempdir().unwrap();
    stdout_of(&["man", "--dir", dir.path().to_str().unwrap()]);
    let hypnos = std::fs::read_to_string(dir.path().join("hypnos.1")).unwrap();
    assert_eq!(hypnos, page);
    for name in [
        "hypnos-server.1",
        "hypnos-watch.1",
        "hypnos-team-project-create.1",
    ] {
        let sub = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(sub.starts_with(".ie"), "{name}: {sub}");
    }
}

/// What `GET path` serves, which must be what `hypnos server FLAG` prints; the printed text.
fn served_as_printed(port: u16, path: &str, flag: &str) -> String {
    let served = get(port, path).unwrap();
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    let printed = Command::cargo_bin("hypnos")
        .unwrap()
        .args(["server", flag])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let printed = String::from_utf8(printed).unwrap();
    assert_eq!(served.split_once("\r\n\r\n").unwrap().1, printed, "{path}");
    printed
}

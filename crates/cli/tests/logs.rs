//! The server's log lines as an operator's log collector reads them: `--log-format json`, one
//! object per line, and every line of a request carrying the id the response returns in
//! `X-Request-Id`.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

use std::{
    fs::File,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

struct Server {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(extra_args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.path().join("server.log");
        let child = Command::new(cargo_bin("hypnos"))
            .args(["server", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--database")
            .arg(format!(
                "sqlite://{}/hypnos.db?mode=rwc",
                dir.path().display()
            ))
            .args(["--metrics-listen", "off"])
            .args(extra_args)
            .env_remove("HYPNOS_LOG")
            .env_remove("RUST_LOG")
            .env_remove("HYPNOS_LOG_FORMAT")
            // A file, not a pipe: a pipe nobody reads would stop the server once full.
            .stderr(File::create(&log).unwrap())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self {
            child,
            port,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server
            .try_get("/readyz", &[])
            .is_none_or(|(status, _)| status != 200)
        {
            assert!(Instant::now() < deadline, "the server did not start");
            sleep(Duration::from_millis(50));
        }
        server
    }

    /// The status and the `X-Request-Id` of `GET path` with `headers`.
    fn try_get(&self, path: &str, headers: &[(&str, &str)]) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        let status = answer.get(9..12)?.parse().ok()?;
        let id = answer
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("x-request-id")
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default();
        Some((status, id))
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        self.try_get(path, headers).unwrap()
    }

    /// The log so far, once a line about `id` is in it (lines are written after the answer).
    fn log_with(&self, id: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap();
            if log.contains(id) || Instant::now() > deadline {
                return log;
            }
            sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The JSON log lines of the request with `id`.
fn lines_of(log: &str, id: &str) -> Vec<Value> {
    log.lines()
        .map(|line| {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|err| panic!("not a JSON line ({err}): {line}"))
        })
        .filter(|line| line["span"]["request_id"] == id)
        .collect()
}

#[test]
fn json_lines_carry_the_request_id_the_response_returns() {
    let server = Server::start(&["--log-format", "json"]);
    let (status, id) = server.get("/readyz", &[]);
    assert_eq!(status, 200);
    assert_eq!(id.len(), 16, "{id:?}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id:?}");
    let (status, other) = server.get("/no/such/endpoint", &[]);
    assert_eq!(status, 404);
    assert_ne!(id, other, "each request has its own id");

    let log = server.log_with(&other);
    let first = lines_of(&log, &id);
    assert_eq!(first.len(), 1, "{log}");
    assert_eq!(first[0]["level"], "INFO");
    assert_eq!(first[0]["span"]["path"], "/readyz");
    assert_eq!(first[0]["fields"]["status"], 200);
    let second = lines_of(&log, &other);
    assert_eq!(second[0]["fields"]["status"], 404, "{log}");
    // Every line is JSON, the start-up line too.
    assert!(log.contains("hypnos server listening"), "{log}");
}

#[test]
fn a_query_never_reaches_the_log() {
    let server = Server::start(&["--log-format", "json"]);
    // The 10.x app sends its session id in the event stream's query.
    let (status, id) = server.get("/v1/teams/team_x/streams?sessionId=s3cret-session", &[]);
    assert_eq!(status, 401);
    let log = server.log_with(&id);
    assert_eq!(lines_of(&log, &id).len(), 1, "{log}");
    assert!(!log.contains("s3cret-session"), "{log}");
}

#[test]
fn only_a_trusted_proxy_may_name_the_request() {
    let untrusted = Server::start(&[]);
    let (_, id) = untrusted.get("/healthz", &[("X-Request-Id", "proxy-42")]);
    assert_ne!(id, "proxy-42", "a client cannot choose its request's id");
    // Text lines carry the id too.
    assert!(
        untrusted
            .log_with(&id)
            .contains(&format!("request_id={id}"))
    );

    let behind_proxy = Server::start(&["--trusted-proxies", "127.0.0.1"]);
    let (_, id) = behind_proxy.get("/healthz", &[("X-Request-Id", "proxy-42")]);
    assert_eq!(id, "proxy-42");
    assert!(behind_proxy.log_with(&id).contains("request_id=proxy-42"));
    // Even from a trusted proxy, only a short plain id is taken.
    let long = "x".repeat(65);
    for refused in ["two words", "semi;colon", long.as_str()] {
        let (_, id) = behind_proxy.get("/healthz", &[("X-Request-Id", refused)]);
        assert_eq!(id.len(), 16, "{refused:?} was kept: {id:?}");
    }
}

//! `hypnos watch` against the real server binary, on SQLite and on PostgreSQL: two teammates in
//! one team, Ada watching her export while Bob pushes and pulls with the ordinary commands.
//!
//! * Bob's push reaches Ada's file by itself (her stream's `FileChanged`, then a pull), and
//!   what that pull wrote is not pushed back;
//! * Ada's edit on disk is pushed by the watch, and Bob's pull sees it;
//! * the server killed and restarted: the watch reconnects and catches up;
//! * Ctrl-C ends the watch with exit 0;
//! * the `--workspace` form, in text: Ada's edit still waiting on disk (a long `--debounce`)
//!   when Bob pushes a change to the same request stops the watch with exit 3 and the pull's
//!   conflict report, her file untouched.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Child, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use serde_json::Value;
use support::{
    backends::{Backend, Kind},
    exports::{edit, export, urls, write},
    hypnos_process, run_json, sign_up, trust_teammate,
};

/// The longest a test waits for the watch (an event arrives within a second; processes start
/// slower on a loaded machine).
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn sqlite() {
    teammates_follow_each_other_live(Kind::Sqlite);
}

#[test]
fn postgres() {
    teammates_follow_each_other_live(Kind::Postgres);
}

/// A running `hypnos watch`, its stdout read line by line; killed if the test ends first.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watch {
    fn start(home: &tempfile::TempDir, args: &[&str]) -> Self {
        let mut child = hypnos_process(home)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line `found` accepts (all lines are kept in `seen`).
    fn wait_for(&mut self, what: &str, found: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if found(&line) {
                        return line;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    panic!(
                        "no {what} within {WAIT:?}; the watch printed:\n{}\nand on stderr:\n{}",
                        self.seen.join("\n"),
                        self.stderr()
                    );
                }
            }
        }
    }

    /// The next JSON line of this action.
    fn wait_action(&mut self, name: &str) -> Value {
        let line = self.wait_for(name, |line| action(line) == name);
        serde_json::from_str(&line).unwrap()
    }

    /// How many lines seen so far are of this action.
    fn count(&self, name: &str) -> usize {
        self.seen.iter().filter(|line| action(line) == name).count()
    }

    /// Ctrl-C.
    fn interrupt(&self) {
        let sent = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the process to end: its exit code and stderr.
    fn exit(&mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.code(), self.stderr());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the watch did not end within {WAIT:?}; it printed:\n{}",
                    self.seen.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A JSON line's `action`; empty for other lines.
fn action(line: &str) -> String {
    serde_json::from_str::<Value>(line)
        .ok()
        .and_then(|value| value["action"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn path(file: &Path) -> &str {
    file.to_str().unwrap()
}

fn teammates_follow_each_other_live(kind: Kind) {
    let mut backend = Backend::start(kind);
    let server = backend.server();
    let (ada, bob) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    sign_up(&ada, server, "ada@example.com");
    sign_up(&bob, server, "bob@example.com");
    let org = run_json(&ada, &["org", "create", "Team"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team_project = run_json(&ada, &["team-project", "create", &org, "Backend"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ada_file = ada.path().join("team.json");
    write(
        &ada_file,
        &export(&[("req_a", "https://a/1"), ("req_b", "https://b/1")]),
    );
    let push = |home: &tempfile::TempDir, file: &Path| {
        run_json(
            home,
            &[
                "push",
                path(file),
                "--org",
                &org,
                "--team-project",
                &team_project,
            ],
        )
    };
    let project = push(&ada, &ada_file)["projects"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    trust_teammate(&ada, &bob, "bob@example.com");
    run_json(&ada, &["org", "invite", &org, "bob@example.com"]);
    let invitation = run_json(&bob, &["invites"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run_json(&bob, &["invites", "accept", &invitation]);
    let bob_file = bob.path().join("team.yaml");
    let bob_pulls = || {
        run_json(
            &bob,
            &[
                "pull",
                "--org",
                &org,
                "--project",
                &project,
                "-o",
                path(&bob_file),
            ],
        )
    };
    bob_pulls();

    // Ada watches her file; it is up to date, so the start pulls and pushes nothing.
    let mut watch = Watch::start(&ada, &["--json", "watch", path(&ada_file), "--org", &org]);
    let watching = watch.wait_action("watching");
    assert_eq!(
        watching["projects"],
        serde_json::json!([project]),
        "{watching}"
    );
    assert_eq!(
        watch.count("pulled") + watch.count("pushed"),
        0,
        "{:?}",
        watch.seen
    );

    // Bob pushes: the change is in Ada's file moments later.
    edit(&bob_file, "req_a", Some("https://a/bob"));
    push(&bob, &bob_file);
    let pulled = watch.wait_action("pulled");
    assert_eq!(pulled["pulled"]["id"], project.as_str(), "{pulled}");
    assert_eq!(
        pulled["pulled"]["incoming"]["modified"]["req_a"], "Request req_a",
        "{pulled}"
    );
    let event = watch
        .seen
        .iter()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|line| line["action"] == "event")
        .unwrap();
    assert_eq!(event["event"]["type"], "FileChanged", "{event}");
    assert_eq!(event["event"]["file"], project.as_str(), "{event}");
    assert_eq!(event["event"]["team"], org.as_str(), "{event}");
    assert_eq!(event["event"]["branch"], "master", "{event}");
    assert_eq!(
        urls(&ada_file),
        [("req_a", "https://a/bob"), ("req_b", "https://b/1")].map(|(a, b)| (a.into(), b.into()))
    );

    // Ada edits her file: the watch pushes that edit alone (what its pull wrote went back to
    // nobody), and Bob's pull sees it.
    edit(&ada_file, "req_b", Some("https://b/ada"));
    let pushed = watch.wait_action("pushed");
    let outgoing = &pushed["projects"][0]["outgoing"];
    assert_eq!(
        outgoing["modified"],
        serde_json::json!({"req_b": "Request req_b"}),
        "{pushed}"
    );
    assert_eq!(watch.count("pushed"), 1, "{:?}", watch.seen);
    bob_pulls();
    assert_eq!(
        urls(&bob_file),
        [("req_a", "https://a/bob"), ("req_b", "https://b/ada")].map(|(a, b)| (a.into(), b.into()))
    );

    // The server dies and comes back on the same port: the watch reconnects with backoff and
    // syncs again, so Bob's push made meanwhile (or just after) reaches Ada's file all the same.
    backend.server_mut().restart();
    edit(&bob_file, "req_c", Some("https://c/bob"));
    push(&bob, &bob_file);
    watch.wait_action("disconnected");
    let pulled = watch.wait_action("pulled");
    assert_eq!(
        pulled["pulled"]["incoming"]["added"]["req_c"], "Request req_c",
        "{pulled}"
    );
    assert!(watch.count("connected") >= 2, "{:?}", watch.seen);
    assert_eq!(urls(&ada_file).len(), 3);

    // Ctrl-C ends it cleanly.
    watch.interrupt();
    watch.wait_action("stopped");
    let (code, stderr) = watch.exit();
    assert_eq!(code, Some(0), "{stderr}");

    // Watching by workspace, in text, with Ada's edit held back for a minute: Bob's push to the
    // same request is a conflict, which stops the watch as it stops a pull.
    let mut watch = Watch::start(
        &ada,
        &[
            "watch",
            path(&ada_file),
            "--org",
            &org,
            "--workspace",
            "wrk_team",
            "--debounce",
            "60s",
        ],
    );
    watch.wait_for("the watching line", |line| line.starts_with("Watching"));
    edit(&ada_file, "req_a", Some("https://a/ada"));
    let before = std::fs::read(&ada_file).unwrap();
    edit(&bob_file, "req_a", Some("https://a/bob-again"));
    push(&bob, &bob_file);
    let (code, stderr) = watch.exit();
    assert_eq!(code, Some(3), "{stderr}\n{:?}", watch.seen);
    assert!(
        stderr.contains("The pull stopped")
            && stderr.contains("req_a")
            && stderr.contains("both modified")
            && stderr.contains("--prefer"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&ada_file).unwrap(), before);
}

//! A running `node interop/harness.js` (the Insomnia app's npm crypto libraries), spoken to over
//! its stdin and stdout, one JSON request and response per line. Shared by the interop tests of
//! `hypnos-crypto` and of `hypnos-server` (included with `#[path]`).

#![allow(dead_code, reason = "each test file uses a part of the harness")]

use std::{
    fmt::Display,
    io::{BufRead, BufReader, Read, Write},
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    thread,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// The exact versions `interop/package.json` pins (the ones the app's lockfile uses).
const PINNED: &[(&str, &str)] = &[
    ("node-forge", "1.3.1"),
    ("hkdf", "0.0.2"),
    ("srp-js", "0.2.1"),
    ("tweetnacl", "1.0.3"),
    ("blakejs", "1.2.1"),
];

/// How long one harness request may take (deriveKey runs 2 × 100,000 PBKDF2 rounds in JS).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

// ------------------------------------------------------------------------------------------------
// The harness process
// ------------------------------------------------------------------------------------------------

fn interop_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop");
    dir.canonicalize().unwrap_or(dir)
}

/// A running `node interop/harness.js`, spoken to over its stdin and stdout.
pub struct Harness {
    child: Child,
    stdin: Option<ChildStdin>,
    responses: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    next_id: u64,
}

impl Harness {
    pub fn start() -> Self {
        let dir = interop_dir();
        let modules = dir.join("node_modules");
        assert!(
            modules.is_dir(),
            "{} is missing: run `npm ci --prefix interop` from the workspace root first \
             (the interop tests need the app's npm packages and are never skipped)",
            modules.display()
        );
        let mut child = Command::new("node")
            .arg(dir.join("harness.js"))
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start `node` ({err}): install Node.js 20 or later, then run \
                     `npm ci --prefix interop` from the workspace root"
                )
            });
        let stdout = child.stdout.take().expect("stdout was piped");
        let (sender, responses) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut child_stderr = child.stderr.take().expect("stderr was piped");
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(read) = child_stderr.read(&mut chunk) {
                if read == 0 {
                    break;
                }
                let mut text = sink.lock().expect("stderr buffer lock");
                text.push_str(&String::from_utf8_lossy(&chunk[..read]));
            }
        });
        let stdin = child.stdin.take();
        let mut harness = Self {
            child,
            stdin,
            responses,
            stderr,
            next_id: 1,
        };
        harness.check_versions();
        harness
    }

    /// Refuses a stale `node_modules`: the installed packages must be the pinned ones.
    fn check_versions(&mut self) {
        let installed = self.ok("versions", json!({}), "reading installed package versions");
        for (name, version) in PINNED {
            assert_eq!(
                installed[*name].as_str(),
                Some(*version),
                "interop/node_modules has {name} {}, expected {version}: run `npm ci --prefix interop`",
                installed[*name]
            );
        }
    }

    fn stderr_tail(&self) -> String {
        let text = self.stderr.lock().expect("stderr buffer lock");
        let start = text.len().saturating_sub(2000);
        let start = (start..=text.len())
            .find(|idx| text.is_char_boundary(*idx))
            .unwrap_or(text.len());
        text[start..].to_string()
    }

    /// Sends one request and waits for its response: `Ok(result)` or `Err(the JS error message)`.
    pub fn call(&mut self, op: &str, args: Value) -> Result<Value, String> {
        let id = self.next_id;
        self.next_id += 1;
        let mut request = match args {
            Value::Object(members) => members,
            other => panic!("harness arguments must be an object, got {other}"),
        };
        request.insert("id".into(), json!(id));
        request.insert("op".into(), json!(op));
        let line = serde_json::to_string(&request).expect("a JSON value serializes");
        let stdin = self.stdin.as_mut().expect("the harness's stdin is open");
        if let Err(err) = writeln!(stdin, "{line}").and_then(|()| stdin.flush()) {
            panic!(
                "writing to the harness failed ({err}); its stderr:\n{}",
                self.stderr_tail()
            );
        }
        let line = match self.responses.recv_timeout(REQUEST_TIMEOUT) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "the harness did not answer `{op}` within {REQUEST_TIMEOUT:?}; its stderr:\n{}",
                self.stderr_tail()
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                thread::sleep(Duration::from_millis(200));
                panic!(
                    "the harness exited while answering `{op}`; its stderr:\n{}",
                    self.stderr_tail()
                )
            }
        };
        let response: Value = serde_json::from_str(&line).unwrap_or_else(|err| {
            panic!("the harness wrote a line that is not JSON ({err}): {line}")
        });
        assert_eq!(
            response["id"],
            json!(id),
            "the harness answered another request: {line}"
        );
        if response["ok"] == json!(true) {
            Ok(response["result"].clone())
        } else {
            Err(response["error"]
                .as_str()
                .unwrap_or("(no error message)")
                .to_string())
        }
    }

    /// [`Harness::call`] for an operation that must succeed; `context` says which case it is.
    pub fn ok(&mut self, op: &str, args: Value, context: impl Display) -> Value {
        self.call(op, args)
            .unwrap_or_else(|err| panic!("{context}: JS `{op}` failed: {err}"))
    }

    pub fn ok_str(&mut self, op: &str, args: Value, context: impl Display) -> String {
        match self.ok(op, args, &context) {
            Value::String(text) => text,
            other => panic!("{context}: JS `{op}` returned {other}, expected a string"),
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // Closing stdin ends the harness's read loop, and with it the process.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        // Only our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

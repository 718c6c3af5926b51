//! A real SMTP server for a test: `smtpd.py` (aiosmtpd) on a free port, requiring AUTH with a
//! user and password chosen here, delivering into a Maildir that [`wait_for_messages`] reads.
//! Killed when dropped. Standard library and `tempfile` only: the command-line tests mount this
//! file too (`#[path]`).

#![allow(
    dead_code,
    reason = "the server's mail tests and the command line's use different parts"
)]

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The user the SMTP server accepts.
pub const SMTP_USER: &str = "hypnos-mailer";

/// The sender the tests configure.
pub const SMTP_FROM: &str = "Hypnos Test <hypnos@mail.example.com>";

/// How long a test waits for mail (or a log line) before failing: generous, for a loaded
/// machine; never a bound on how fast mail goes.
pub const WITHIN: Duration = Duration::from_secs(60);

/// The SMTP server of one test.
pub struct Smtpd {
    child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    /// The password it accepts for [`SMTP_USER`].
    pub password: String,
    dir: tempfile::TempDir,
}

/// Debian's interpreter, which has `python3-aiosmtpd`, before any other on the `PATH`.
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

impl Smtpd {
    /// Starts the server and waits until it listens.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let password = format!("pw-{}", std::process::id());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../server/tests/mail/smtpd.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(dir.path().join("Maildir"))
            .args([SMTP_USER, &password])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(port) = line.trim().strip_prefix("ready ") else {
            let mut stderr = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
            let _ = child.kill();
            panic!("smtpd.py did not start (is python3-aiosmtpd installed?): {stderr}");
        };
        Self {
            port: port.parse().unwrap(),
            child,
            password,
            dir,
        }
    }

    /// The Maildir messages are delivered to.
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }

    /// A file holding `password` and a final newline, as an editor leaves it.
    pub fn password_file(&self, password: &str) -> PathBuf {
        let path = self.dir.path().join(format!("password-{}", password.len()));
        std::fs::write(&path, format!("{password}\n")).unwrap();
        path
    }

    /// The `hypnos` flags that send through this server with `password`.
    pub fn flags(&self, password: &str) -> Vec<String> {
        [
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &self.port.to_string(),
            "--smtp-tls",
            "none",
            "--smtp-user",
            SMTP_USER,
            "--smtp-password-file",
            self.password_file(password).to_str().unwrap(),
            "--smtp-from",
            SMTP_FROM,
        ]
        .map(str::to_owned)
        .to_vec()
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One delivered message: its headers in order (folded lines joined) and its decoded body.
#[derive(Debug)]
pub struct Mail {
    /// `(name, value)`, as delivered.
    pub headers: Vec<(String, String)>,
    /// The body, its transfer encoding undone.
    pub body: String,
}

impl Mail {
    /// The values of the headers called `name` (any case).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The one header called `name`.
    pub fn header(&self, name: &str) -> &str {
        let values = self.all(name);
        assert_eq!(values.len(), 1, "one {name} header in {:?}", self.headers);
        values[0]
    }

    /// The body with every run of white space made one space (the messages wrap their lines).
    pub fn text(&self) -> String {
        self.body.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn parse(raw: &str) -> Self {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut().unwrap();
                last.1.push(' ');
                last.1.push_str(line.trim());
            } else {
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                headers.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        let mut mail = Self {
            headers,
            body: String::new(),
        };
        let encoding = mail
            .all("Content-Transfer-Encoding")
            .first()
            .map(|value| value.to_ascii_lowercase());
        mail.body = match encoding.as_deref() {
            Some("quoted-printable") => quoted_printable(body),
            Some("base64") => {
                let packed: String = body.split_whitespace().collect();
                String::from_utf8(base64(&packed)).unwrap()
            }
            _ => body.to_owned(),
        };
        mail
    }
}

fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'='
            && let Some(hex) = joined.get(at + 1..at + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes().filter(|byte| *byte != b'=') {
        let value = ALPHABET.iter().position(|c| *c == byte).unwrap() as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

/// The messages in `maildir` once there are at least `count`, oldest first; fails the test
/// after [`WITHIN`]. Blocking: async tests call it through `spawn_blocking`.
pub fn wait_for_messages(maildir: &Path, count: usize) -> Vec<Mail> {
    let deadline = Instant::now() + WITHIN;
    loop {
        let found = delivered(maildir);
        if found.len() >= count {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{count} message(s) delivered within {WITHIN:?}; found {}",
            found.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The messages delivered so far, oldest first.
pub fn delivered(maildir: &Path) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(maildir.join("new")) else {
        return Vec::new();
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .map(|entry| entry.unwrap().path())
        .map(|path| (path.metadata().unwrap().modified().unwrap(), path))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|(_, path)| Mail::parse(&std::fs::read_to_string(path).unwrap()))
        .collect()
}

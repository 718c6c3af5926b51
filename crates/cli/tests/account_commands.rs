//! `hypnos signup | login | whoami | logout` against the real server binary, as a user or a
//! script runs them.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    process::{Child, Command as StdCommand, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use assert_cmd::{Command, cargo::cargo_bin};
use serde_json::Value;

struct Server {
    child: Child,
    url: String,
    _data: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = StdCommand::new(cargo_bin("hypnos"))
            .args(["server", "--listen", &format!("127.0.0.1:{port}")])
            .args([
                "--database",
                &format!("sqlite://{}/hypnos.db?mode=rwc", data.path().display()),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = write!(
                    stream,
                    "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                );
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.1 200") {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "the server did not start");
            sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _data: data,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `hypnos` with the client's state in `home`.
fn hypnos(home: &tempfile::TempDir) -> Command {
    let mut command = Command::cargo_bin("hypnos").unwrap();
    command
        .env("HYPNOS_HOME", home.path())
        .env_remove("HYPNOS_PASSPHRASE")
        .env_remove("HYPNOS_SERVER");
    command
}

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|err| panic!("not JSON ({err}): {}", String::from_utf8_lossy(output)))
}

#[test]
fn the_account_commands_sign_up_log_in_and_out() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();

    // Sign-up logs in too; --server and --json may come after the subcommand.
    let out = hypnos(&home)
        .args([
            "signup",
            "--email",
            " Ada@Example.com ",
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
        ])
        .args(["--server", &server.url, "--json"])
        .env("HYPNOS_PASSPHRASE", "correct horse battery staple")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let created = json_of(&out);
    let account_id = created["id"].as_str().unwrap().to_owned();
    assert!(account_id.starts_with("acct_"), "{created}");
    assert_eq!(created["email"], "ada@example.com");

    // The session file is the user's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path().join("session.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let me = json_of(
        &hypnos(&home)
            .args(["--json", "whoami"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(me["accountId"], account_id.as_str());
    assert_eq!(me["firstName"], "Ada");
    let text = hypnos(&home)
        .arg("whoami")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(text).unwrap().contains("ada@example.com"));

    // Log-out ends the session on the server and here; then whoami says what to do.
    let out = hypnos(&home)
        .args(["logout", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out)["loggedOut"], true);
    let failed = hypnos(&home)
        .arg("whoami")
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8(failed).unwrap().contains("hypnos login"),
        "says what to do"
    );

    // Log-in from a script (passphrase on stdin); a wrong passphrase fails clearly.
    let failed_login = hypnos(&home)
        .args([
            "--server",
            &server.url,
            "login",
            "--email",
            "ada@example.com",
            "--passphrase-stdin",
        ])
        .write_stdin("wrong passphrase\n")
        .assert()
        .code(1);
    let said = failed_login.get_output().stderr.clone();
    assert!(
        String::from_utf8(said)
            .unwrap()
            .contains("wrong e-mail or passphrase")
    );
    let out = hypnos(&home)
        .args([
            "--server",
            &server.url,
            "--json",
            "login",
            "--email",
            "ada@example.com",
            "--passphrase-stdin",
        ])
        .write_stdin("correct horse battery staple\n")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out)["accountId"], account_id.as_str());
    hypnos(&home).arg("whoami").assert().success();

    // Signing up an e-mail that is taken fails with the server's reason.
    let taken = hypnos(&home)
        .args([
            "--server",
            &server.url,
            "signup",
            "--email",
            "ada@example.com",
        ])
        .env("HYPNOS_PASSPHRASE", "another passphrase")
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(taken).unwrap().contains("EMAIL_TAKEN"));
}

#[test]
fn client_commands_explain_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    hypnos(&home).arg("login").assert().code(2);
    let help = hypnos(&home)
        .args(["login", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8(help).unwrap();
    for flag in [
        "--email",
        "--passphrase-stdin",
        "--server",
        "HYPNOS_SERVER",
        "--json",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

/// Signs up `email` with its state in `home`; returns the account id.
fn sign_up(home: &tempfile::TempDir, server: &Server, email: &str) -> String {
    let out = hypnos(home)
        .args([
            "--server",
            &server.url,
            "--json",
            "signup",
            "--email",
            email,
        ])
        .env("HYPNOS_PASSPHRASE", format!("{email} passphrase"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json_of(&out)["id"].as_str().unwrap().to_owned()
}

fn run_json(home: &tempfile::TempDir, args: &[&str]) -> Value {
    json_of(
        &hypnos(home)
            .arg("--json")
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
}

#[test]
fn a_team_is_made_joined_and_left_from_the_command_line() {
    let server = Server::start();
    let (ada_home, bob_home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    sign_up(&ada_home, &server, "ada@example.com");
    let bob = sign_up(&bob_home, &server, "bob@example.com");

    let orgs = run_json(&ada_home, &["org", "list"]);
    assert_eq!(orgs[0]["metadata"]["organizationType"], "personal");
    let team = run_json(&ada_home, &["org", "create", "Acme"]);
    let team = team["id"].as_str().unwrap().to_owned();
    let made = run_json(&ada_home, &["team-project", "create", &team, "Design"]);
    assert_eq!(made["organizationId"], team.as_str());

    // Ada invites Bob; Bob sees it and accepts; both are members and see the team project.
    let invited = run_json(
        &ada_home,
        &["org", "invite", &team, "bob@example.com", "--role", "admin"],
    );
    let invitation = invited["id"].as_str().unwrap().to_owned();
    let mine = run_json(&bob_home, &["invites"]);
    assert_eq!(mine[0]["id"], invitation.as_str());
    assert_eq!(mine[0]["organizationName"], "Acme");
    let joined = run_json(&bob_home, &["invites", "accept", &invitation]);
    assert_eq!(joined["organizationId"], team.as_str());
    let members = run_json(&bob_home, &["org", "members", &team]);
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap(),
                m["role_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [("ada@example.com", "owner"), ("bob@example.com", "admin")]
    );
    let projects = run_json(&bob_home, &["team-project", "list", &team]);
    assert_eq!(projects[0]["name"], "Design");

    // Bob leaves; Ada, the owner, cannot.
    run_json(&bob_home, &["org", "leave", &team]);
    let after = run_json(&ada_home, &["org", "members", &team]);
    assert!(!after.to_string().contains(&bob));
    let refused = hypnos(&ada_home)
        .args(["org", "leave", &team])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(refused).unwrap().contains("OWNER_STAYS"));

    // Inviting someone without an account says so.
    let failed = hypnos(&ada_home)
        .args(["org", "invite", &team, "nobody@example.com"])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(failed).unwrap().contains("sign up first"));
}

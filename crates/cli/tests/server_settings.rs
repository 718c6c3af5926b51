//! `hypnos server`'s settings from a configuration file (`--config`), their order of precedence
//! (flag, then environment, then file, then default), `--check-config`, and `hypnos
//! healthcheck`: the real binary, as an operator runs it.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

use std::{
    net::TcpListener,
    process::{Command as StdCommand, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use assert_cmd::{Command, cargo::cargo_bin};

/// `hypnos` with none of the server's settings inherited from the test's environment.
fn hypnos() -> Command {
    let mut command = Command::cargo_bin("hypnos").unwrap();
    for (name, _) in std::env::vars() {
        if name.starts_with("HYPNOS_") {
            command.env_remove(name);
        }
    }
    command
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_config(dir: &tempfile::TempDir, text: &str) -> String {
    let path = dir.path().join("hypnos.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The value and the origin of `key` in `--check-config`'s output.
fn setting<'a>(output: &'a str, key: &str) -> (&'a str, &'a str) {
    let line = output
        .lines()
        .find(|line| line.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in:\n{output}"));
    let (value, origin) = line[key.len() + 3..].split_once(" # ").unwrap();
    (value.trim_end(), origin)
}

fn check_config(command: &mut Command) -> (i32, String, String) {
    let output = command.arg("--check-config").output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn the_server_runs_on_its_configuration_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        &dir,
        &format!(
            "listen = \"127.0.0.1:{port}\"\n\
             database = \"sqlite://{}/from-file.db?mode=rwc\"\n\
             max-connections = 64\n\
             metrics-listen = \"off\"\n\
             trusted-proxies = [\"10.0.0.0/8\", \"::1\"]\n",
            dir.path().display()
        ),
    );
    let mut server = StdCommand::new(cargo_bin("hypnos"))
        .args(["server", "--config", &config])
        .env_remove("HYPNOS_LISTEN")
        .env_remove("HYPNOS_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !hypnos()
        .args(["--server", &url, "healthcheck"])
        .output()
        .unwrap()
        .status
        .success()
    {
        assert!(Instant::now() < deadline, "the server did not start");
        sleep(Duration::from_millis(100));
    }
    // Listening where the file said, on the database it named.
    assert!(dir.path().join("from-file.db").exists());
    let said = hypnos()
        .args(["--server", &url, "healthcheck"])
        .assert()
        .success();
    let stdout = String::from_utf8(said.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("is ready"), "{stdout}");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn flags_then_environment_then_file_then_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        &dir,
        "listen = \"127.0.0.1:1111\"\n\
         max-connections = 64\n\
         server-name = \"From the file\"\n\
         signup-domains = [\"example.com\", \"example.org\"]\n",
    );
    let (code, stdout, stderr) = check_config(
        hypnos()
            .args(["server", "--config", &config])
            .args(["--server-name", "From the flag"])
            .env("HYPNOS_MAX_CONNECTIONS", "128"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("the configuration is valid"), "{stderr}");
    assert_eq!(
        setting(&stdout, "listen"),
        ("\"127.0.0.1:1111\"", config.as_str())
    );
    assert_eq!(
        setting(&stdout, "max-connections"),
        ("\"128\"", "environment (HYPNOS_MAX_CONNECTIONS)")
    );
    assert_eq!(
        setting(&stdout, "server-name"),
        ("\"From the flag\"", "command line")
    );
    assert_eq!(
        setting(&stdout, "signup-domains"),
        ("[\"example.com\", \"example.org\"]", config.as_str())
    );
    assert_eq!(setting(&stdout, "session-max-age"), ("\"56d\"", "default"));
    // Hidden knobs for tests are not shown.
    assert!(!stdout.contains("presence-ttl"), "{stdout}");

    // HYPNOS_CONFIG names the file as --config does.
    let (code, stdout, _) = check_config(hypnos().arg("server").env("HYPNOS_CONFIG", &config));
    assert_eq!(code, 0);
    assert_eq!(
        setting(&stdout, "max-connections"),
        ("\"64\"", config.as_str())
    );
}

#[test]
fn the_effective_settings_read_back_as_a_configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_config(
        &dir,
        "listen = \"127.0.0.1:2222\"\ntrusted-proxies = [\"10.1.0.0/16\"]\nsignup = \"closed\"\n",
    );
    let (_, printed, _) = check_config(hypnos().args(["server", "--config", &first]));
    let again = dir.path().join("again.toml");
    std::fs::write(&again, &printed).unwrap();
    let (code, reprinted, stderr) =
        check_config(hypnos().args(["server", "--config", again.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    let values = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .map(|line| line.split(" # ").next().unwrap().trim_end().to_owned())
            .collect()
    };
    assert_eq!(values(&printed), values(&reprinted));
}

#[test]
fn check_config_masks_the_database_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        &dir,
        "database = \"postgres://hypnos:s3cret-pass@db.invalid/hypnos?sslmode=require\"\n",
    );
    let (code, stdout, stderr) = check_config(hypnos().args(["server", "--config", &config]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("s3cret-pass") && !stderr.contains("s3cret-pass"));
    assert_eq!(
        setting(&stdout, "database").0,
        "\"postgres://hypnos:****@db.invalid/hypnos?sslmode=require\""
    );
}

#[test]
fn check_config_refuses_settings_the_server_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        &dir,
        "session-idle-timeout = \"10d\"\nsession-max-age = \"1d\"\n",
    );
    let (code, stdout, stderr) = check_config(hypnos().args(["server", "--config", &config]));
    assert_eq!(code, 1);
    assert!(stderr.contains("--session-idle-timeout"), "{stderr}");
    // The settings are still shown, to see where the wrong one came from.
    assert_eq!(
        setting(&stdout, "session-max-age"),
        ("\"1d\"", config.as_str())
    );
}

#[test]
fn a_wrong_file_is_refused_naming_the_file_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (text, says) in [
        ("lisen = \"127.0.0.1:1\"\n", "unknown setting `lisen`"),
        (
            "max-connections = \"many\"\n",
            "`max-connections`: invalid value 'many'",
        ),
        ("session-max-age = \"forever\"\n", "`session-max-age`"),
        (
            "listen = [\"127.0.0.1:1\", \"127.0.0.1:2\"]\n",
            "`listen` takes one value, not a list",
        ),
        ("signup = \"sometimes\"\n", "`signup`"),
        ("[server]\nlisten = 1\n", "unknown setting `server`"),
        ("listen = { host = \"x\" }\n", "`listen` must be a string"),
        ("listen = \n", "is not valid TOML"),
    ] {
        let config = write_config(&dir, text);
        let assert = hypnos()
            .args(["server", "--config", &config])
            .timeout(Duration::from_secs(30))
            .assert()
            .code(2);
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains(&config), "{text:?}: {stderr}");
        assert!(stderr.contains(says), "{text:?}: {stderr}");
    }
    let missing = dir.path().join("missing.toml");
    let assert = hypnos()
        .args(["server", "--config", missing.to_str().unwrap()])
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("cannot be read"), "{stderr}");
}

#[test]
fn healthcheck_fails_when_no_server_answers() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let assert = hypnos()
        .args(["--server", &url, "healthcheck"])
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("is not ready"), "{stderr}");
}

#[test]
fn operator_commands_read_the_servers_configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("configured.db");
    let config = write_config(
        &dir,
        &format!("database = \"sqlite://{}\"\n", database.display()),
    );
    let backup = dir.path().join("backup.db");
    // The file names the database: the backup looks there (and finds none yet).
    let assert = hypnos()
        .args([
            "admin",
            "--config",
            &config,
            "backup",
            backup.to_str().unwrap(),
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(&format!("there is no database at {}", database.display())),
        "{stderr}"
    );
    // A flag still wins over the file.
    let elsewhere = dir.path().join("elsewhere.db");
    let assert = hypnos()
        .args([
            "admin",
            "backup",
            backup.to_str().unwrap(),
            "--config",
            &config,
        ])
        .arg("--database")
        .arg(format!("sqlite://{}", elsewhere.display()))
        .assert()
        .code(1);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(&elsewhere.display().to_string()),
        "{stderr}"
    );
    // A wrong file stops the command before it does anything.
    let wrong = write_config(&dir, "databse = \"x\"\n");
    hypnos()
        .args([
            "admin",
            "--config",
            &wrong,
            "backup",
            backup.to_str().unwrap(),
        ])
        .assert()
        .code(2);
}

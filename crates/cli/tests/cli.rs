//! The `hypnos` binary as a user runs it.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

use assert_cmd::Command;

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
fn server_subcommand_exists_and_says_it_is_not_built() {
    let assert = Command::cargo_bin("hypnos")
        .unwrap()
        .arg("server")
        .assert()
        .failure();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("not built yet"), "{stderr}");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    Command::cargo_bin("hypnos")
        .unwrap()
        .arg("frobnicate")
        .assert()
        .code(2);
}

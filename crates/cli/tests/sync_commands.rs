//! `hypnos push`, `pull` and `status` against the real server binary: two teammates push and
//! pull each other's changes through one team, meet a conflict, and settle it.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use std::path::Path;

use serde_json::Value;
use support::{
    Server,
    exports::{edit, export, urls, write},
    hypnos, json_of, run_json, sign_up, trust_teammate,
};

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn teammates_push_and_pull_each_others_changes_and_settle_a_conflict() {
    let server = Server::start();
    let (ada, bob) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    sign_up(&ada, &server, "ada@example.com");
    sign_up(&bob, &server, "bob@example.com");
    let org = run_json(&ada, &["org", "create", "Team"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team_project = run_json(&ada, &["team-project", "create", &org, "Backend"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Ada's export: status first says it is new, then the push creates the project.
    let ada_file = ada.path().join("team.json");
    write(
        &ada_file,
        &export(&[("req_a", "https://a/1"), ("req_b", "https://b/1")]),
    );
    let status = run_json(&ada, &["status", ada_file.to_str().unwrap()]);
    assert_eq!(status["workspaces"][0]["project"], Value::Null, "{status}");
    assert_eq!(
        status["workspaces"][0]["outgoing"]["added"]
            .as_object()
            .unwrap()
            .len(),
        4
    );
    let push = |home: &tempfile::TempDir, file: &Path, extra: &[&str]| {
        let mut command = hypnos(home);
        command
            .args(["--json", "push", file.to_str().unwrap(), "--org", &org])
            .args(["--team-project", &team_project, "-m", "work"])
            .args(extra);
        command.assert()
    };
    let pushed = json_of(&push(&ada, &ada_file, &[]).success().get_output().stdout);
    let project = pushed["projects"][0]["id"].as_str().unwrap().to_owned();
    assert!(project.starts_with("prj_"), "{pushed}");
    assert_eq!(pushed["projects"][0]["createdProject"], true);
    assert_eq!(pushed["projects"][0]["workspaceId"], "wrk_team");
    // The cookie jar stays on this machine: a workspace, an environment and two requests.
    assert_eq!(pushed["projects"][0]["uploadedBlobs"], 4);

    // Ada invites Bob after the push, as the README tells it: the invitation carries the
    // project key, encrypted to Bob on Ada's machine, once Ada has checked Bob's fingerprint.
    trust_teammate(&ada, &bob, "bob@example.com");
    run_json(&ada, &["org", "invite", &org, "bob@example.com"]);
    let invitation = run_json(&bob, &["invites"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run_json(&bob, &["invites", "accept", &invitation]);

    // Bob pulls it into a new YAML file, changes one request, adds one, and pushes.
    let bob_file = bob.path().join("team.yaml");
    let pulled = run_json(
        &bob,
        &[
            "pull",
            "--org",
            &org,
            "--workspace",
            "wrk_team",
            "-o",
            bob_file.to_str().unwrap(),
        ],
    );
    assert_eq!(pulled["id"], project.as_str());
    assert_eq!(pulled["documents"], 4);
    assert!(
        std::fs::read_to_string(&bob_file)
            .unwrap()
            .contains("_type: workspace")
    );
    assert_eq!(
        urls(&bob_file),
        pairs(&[("req_a", "https://a/1"), ("req_b", "https://b/1")])
    );
    edit(&bob_file, "req_a", Some("https://a/bob"));
    edit(&bob_file, "req_c", Some("https://c/bob"));
    let bob_push = json_of(&push(&bob, &bob_file, &[]).success().get_output().stdout);
    assert_eq!(bob_push["projects"][0]["createdProject"], false);
    assert_eq!(
        bob_push["projects"][0]["outgoing"]["modified"]["req_a"],
        "Request req_a"
    );
    assert_eq!(
        bob_push["projects"][0]["outgoing"]["added"]["req_c"],
        "Request req_c"
    );

    // Ada changed req_a too, differently, and req_b alone: the push stops with exit 3,
    // naming the conflict, and changes nothing anywhere.
    edit(&ada_file, "req_a", Some("https://a/ada"));
    edit(&ada_file, "req_b", Some("https://b/ada"));
    let before = std::fs::read(&ada_file).unwrap();
    let stopped = push(&ada, &ada_file, &[]).code(3);
    let stderr = String::from_utf8_lossy(&stopped.get_output().stderr).into_owned();
    assert!(
        stderr.contains("req_a") && stderr.contains("both modified"),
        "{stderr}"
    );
    assert!(stderr.contains("--prefer"), "{stderr}");
    assert!(!stderr.contains("req_b"), "{stderr}");
    let listed = json_of(&stopped.get_output().stdout);
    assert_eq!(listed["conflicts"][0]["conflicts"][0]["key"], "req_a");
    assert_eq!(std::fs::read(&ada_file).unwrap(), before);
    let log = run_json(&ada, &["log", &project]);
    assert_eq!(log.as_array().map_or(0, Vec::len), 2, "{log}");

    // Status shows the same, and what a push would bring in.
    let status = run_json(&ada, &["status", ada_file.to_str().unwrap()]);
    let plan = &status["workspaces"][0];
    assert_eq!(plan["conflicts"][0]["kind"], "bothModified", "{status}");
    assert_eq!(plan["incoming"]["added"]["req_c"], "Request req_c");
    let text = hypnos(&ada)
        .args(["status", ada_file.to_str().unwrap()])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&text).contains("Conflicts"));

    // Preferring theirs: Bob's req_a, Bob's new req_c, Ada's req_b, in Ada's file and on the
    // server.
    let settled = json_of(
        &push(&ada, &ada_file, &["--prefer", "theirs"])
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(settled["projects"][0]["conflicts"][0]["key"], "req_a");
    assert_eq!(
        settled["projects"][0]["incoming"]["added"]["req_c"],
        "Request req_c"
    );
    let merged = pairs(&[
        ("req_a", "https://a/bob"),
        ("req_b", "https://b/ada"),
        ("req_c", "https://c/bob"),
    ]);
    assert_eq!(urls(&ada_file), merged);
    // The cookie jar, which sync does not carry, is still in Ada's file.
    assert!(
        std::fs::read_to_string(&ada_file)
            .unwrap()
            .contains("jar_team")
    );

    // Bob pulls into his existing file: Ada's req_b arrives, his own edits stay.
    let pulled = run_json(
        &bob,
        &[
            "pull",
            "--org",
            &org,
            "--project",
            &project,
            "-o",
            bob_file.to_str().unwrap(),
        ],
    );
    assert_eq!(
        pulled["incoming"]["modified"]["req_b"], "Request req_b",
        "{pulled}"
    );
    assert_eq!(urls(&bob_file), merged);

    // Nothing new: up to date, no snapshot.
    let again = json_of(&push(&ada, &ada_file, &[]).success().get_output().stdout);
    assert_eq!(again["projects"][0]["snapshot"], Value::Null);
    assert_eq!(
        run_json(&ada, &["log", &project]).as_array().unwrap().len(),
        3
    );

    // A deletion on one side is a change like any other.
    edit(&bob_file, "req_c", None);
    push(&bob, &bob_file, &[]).success();
    push(&ada, &ada_file, &[]).success();
    assert_eq!(
        urls(&ada_file),
        pairs(&[("req_a", "https://a/bob"), ("req_b", "https://b/ada")])
    );

    // A pull into a file with its own unpushed conflicting edit stops too (exit 3).
    edit(&bob_file, "req_b", Some("https://b/bob"));
    edit(&ada_file, "req_b", Some("https://b/ada2"));
    push(&ada, &ada_file, &[]).success();
    let bob_pull = |extra: &[&str]| {
        let mut command = hypnos(&bob);
        command
            .args(["pull", "--org", &org, "--project", &project])
            .args(["-o", bob_file.to_str().unwrap()])
            .args(extra);
        command.assert()
    };
    bob_pull(&[]).code(3);
    bob_pull(&["--prefer", "ours"]).success();
    assert!(urls(&bob_file).contains(&("req_b".to_owned(), "https://b/bob".to_owned())));
}

#[test]
fn sync_commands_explain_bad_input() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    // Not logged in.
    let file = home.path().join("x.json");
    write(&file, &export(&[]));
    let out = hypnos(&home)
        .args(["status", file.to_str().unwrap()])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("hypnos login"));
    sign_up(&home, &server, "cy@example.com");
    let org = run_json(&home, &["org", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Not an export.
    std::fs::write(&file, "{\"hello\": 1}").unwrap();
    let out = hypnos(&home)
        .args([
            "push",
            file.to_str().unwrap(),
            "--org",
            &org,
            "--team-project",
            "proj_x",
        ])
        .assert()
        .code(1);
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr).contains("not an Insomnia export"),
        "{out:?}"
    );
    // An organization the account is not in.
    let good = home.path().join("good.json");
    write(&good, &export(&[("req_1", "https://x")]));
    let out = hypnos(&home)
        .args([
            "push",
            good.to_str().unwrap(),
            "--org",
            "org_00000000000000000000000000000000",
        ])
        .args(["--team-project", "proj_x"])
        .assert()
        .code(1);
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr).contains("hypnos org list"),
        "{out:?}"
    );
    // A bad branch name and a pull naming neither project nor workspace are usage errors.
    hypnos(&home)
        .args([
            "push",
            file.to_str().unwrap(),
            "--org",
            &org,
            "--team-project",
            "p",
            "--branch",
            "a b",
        ])
        .assert()
        .code(2);
    hypnos(&home)
        .args(["pull", "--org", &org, "-o", "x.json"])
        .assert()
        .code(2);
    // An unknown project.
    let out = hypnos(&home)
        .args([
            "pull",
            "--org",
            &org,
            "--project",
            "prj_00000000000000000000000000000000",
        ])
        .args(["-o", home.path().join("y.json").to_str().unwrap()])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("no such project"));
    assert!(!home.path().join("y.json").exists());
}

/// The server answers a sync call with an ended session as a GraphQL error (HTTP 200, as the
/// newest apps need); the command still says to log in again, as for any other endpoint.
#[tokio::test]
async fn a_sync_command_with_an_ended_session_says_to_log_in() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    sign_up(&home, &server, "dee@example.com");
    let api = hypnos_client::Api::new(&server.url).unwrap();
    let ended = hypnos_client::log_out(&api, &support::session_of(&home)).await;
    assert!(ended.is_ok(), "{ended:?}");
    let out = hypnos(&home)
        .args(["branches", "prj_00000000000000000000000000000000"])
        .assert()
        .code(1);
    let said = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(said.contains("hypnos login"), "{said}");
}

/// Organizations and team projects by name: a push and a pull with `--org Acme --team-project
/// Backend`; a name two teams share is refused with both ids; an unknown name says where the
/// names are listed.
#[test]
fn organizations_and_team_projects_go_by_name() {
    let server = Server::start();
    let ada = tempfile::tempdir().unwrap();
    sign_up(&ada, &server, "ada@example.com");
    let acme = run_json(&ada, &["org", "create", "Acme"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let made = run_json(&ada, &["team-project", "create", "acme", "Backend"]);
    assert_eq!(made["organizationId"], acme.as_str(), "by name, case aside");
    let file = ada.path().join("named.json");
    write(&file, &export(&[("req_a", "https://a/1")]));
    let pushed = json_of(
        &hypnos(&ada)
            .args(["--json", "push", file.to_str().unwrap()])
            .args(["--org", "Acme", "--team-project", "Backend"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let project = pushed["projects"][0]["id"].as_str().unwrap().to_owned();
    let pulled_file = ada.path().join("pulled.json");
    let pulled = run_json(
        &ada,
        &[
            "pull",
            "--org",
            "Acme",
            "--project",
            &project,
            "-o",
            pulled_file.to_str().unwrap(),
        ],
    );
    assert_eq!(pulled["id"], project.as_str(), "{pulled}");
    assert_eq!(pulled["documents"], 3, "{pulled}");

    let other = run_json(&ada, &["org", "create", "Acme"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ambiguous = hypnos(&ada)
        .args(["org", "members", "Acme"])
        .assert()
        .code(1);
    let said = String::from_utf8(ambiguous.get_output().stderr.clone()).unwrap();
    assert!(
        said.contains(&acme) && said.contains(&other) && said.contains("by its id"),
        "{said}"
    );
    let unknown = hypnos(&ada)
        .args(["team-project", "list", &acme])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&unknown.get_output().stdout).contains("Backend"));
    let missing = hypnos(&ada)
        .args(["push", file.to_str().unwrap(), "--org", &acme])
        .args(["--team-project", "Frontend"])
        .assert()
        .code(1);
    let said = String::from_utf8(missing.get_output().stderr.clone()).unwrap();
    assert!(
        said.contains("no team project is named \"Frontend\"")
            && said.contains(&format!("hypnos team-project list {acme}")),
        "{said}"
    );
}

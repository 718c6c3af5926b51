//! `hypnos push` and `hypnos pull` on every kind of export the Insomnia app has written over the
//! years (crates/client/tests/fixtures/app-exports: format 3 JSON of 2016 and 2017, format 4
//! JSON, the flow-style YAML of 2020, block YAML up to 10.1), against the real server binary on
//! SQLite and on PostgreSQL:
//!
//! * each export, pushed and pulled into a fresh directory, comes back with the documents it
//!   held (sync's equality: each synced document's blob content);
//! * each "Insomnia v5" file (Insomnia 11 and later: collection, design document, environment;
//!   schema 5.0 and 5.1) likewise, pulled back as a v5 file (`--format v5`, or into the v5 file
//!   itself), which then pushes as up to date;
//! * the flow-style YAML of 2020 is accepted, and holds exactly what its JSON twin holds (pushed
//!   after it, it changes nothing);
//! * branch `feature/login` (a newer app's name, with a `/`): push, status, a second push
//!   merged from this machine's record of the branch, log, branches and pull;
//! * files that are not exports (neither JSON nor YAML, YAML that does not parse, an
//!   v5 file of an unknown type or without ids, an export of format 2) get a clear error and
//!   are left as they were; a pull into a v5 file of documents v5 cannot hold is refused.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

#[path = "../../client/tests/fixtures/app-exports/fixtures.rs"]
mod fixtures;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use fixtures::{FIXTURES, FLOW_YAML, FLOW_YAML_JSON_TWIN, V5_FIXTURES, synced};
use hypnos_client::sync::export::{Export, Format};
use serde_json::{Value, json};
use support::{
    Server,
    backends::{Backend, Kind},
    hypnos, run_json, sign_up, stderr_of,
};

/// No command may hang a test.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Each test on both databases.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(super::Kind::Sqlite);
            }
            #[test]
            fn postgres() {
                super::$name(super::Kind::Postgres);
            }
        }
    )*};
}

on_both_backends!(
    every_app_export_comes_back_with_its_documents,
    every_v5_file_comes_back_with_its_documents,
    push_and_pull_on_a_branch_named_with_a_slash,
);

/// `hypnos --json ARGS…` run to success, with a time limit.
fn run(home: &tempfile::TempDir, args: &[&str]) -> Value {
    support::json_of(
        &hypnos(home)
            .timeout(COMMAND_TIMEOUT)
            .arg("--json")
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
}

/// A new organization with a team project: (org, team project).
fn new_team(home: &tempfile::TempDir, name: &str) -> (String, String) {
    let org = run_json(home, &["org", "create", name])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team_project = run_json(home, &["team-project", "create", &org, "Exports"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (org, team_project)
}

/// A copy of a fixture to push (a push may write its file: never the repository's).
fn copy_of(fixture: &str, dir: &Path) -> PathBuf {
    let copy = dir.join(fixture);
    std::fs::copy(fixtures::path(fixture), &copy).unwrap();
    copy
}

fn push(home: &tempfile::TempDir, file: &Path, org: &str, team: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "push",
        file.to_str().unwrap(),
        "--org",
        org,
        "--team-project",
        team,
        "-m",
        "imported",
    ];
    args.extend_from_slice(extra);
    run(home, &args)
}

/// Pulls each of `workspaces` into `file` (one file, as the app's exports hold several).
fn pull_into(
    home: &tempfile::TempDir,
    file: &Path,
    org: &str,
    workspaces: &[&str],
    extra: &[&str],
) {
    for workspace in workspaces {
        let mut args = vec![
            "pull",
            "--org",
            org,
            "--workspace",
            workspace,
            "-o",
            file.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let pulled = run(home, &args);
        assert_eq!(pulled["workspaceId"], *workspace, "{pulled}");
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn every_app_export_comes_back_with_its_documents(kind: Kind) {
    let backend = Backend::start(kind);
    let home = tempfile::tempdir().unwrap();
    sign_up(&home, backend.server(), "ada@example.com");
    let mut teams = BTreeMap::new();
    for fixture in FIXTURES {
        let original = synced(&fixtures::text(fixture.file));
        // One organization a file: some of the app's files share workspace ids.
        let (org, team) = new_team(&home, fixture.file);
        let file = copy_of(fixture.file, home.path());
        let pushed = push(&home, &file, &org, &team, &[]);
        let projects = pushed["projects"].as_array().unwrap();
        assert_eq!(
            projects.len(),
            fixture.workspaces,
            "{}: {pushed}",
            fixture.file
        );
        let added: usize = projects
            .iter()
            .map(|p| p["outgoing"]["added"].as_object().unwrap().len())
            .sum();
        assert_eq!(added, fixture.documents, "{}: {pushed}", fixture.file);
        assert!(projects.iter().all(|p| p["createdProject"] == true));
        // Nothing came in, so the file was not written.
        assert_eq!(
            read(&file),
            fixtures::text(fixture.file),
            "{}",
            fixture.file
        );

        // Pulled on a fresh directory, in the file's own syntax.
        let fresh = tempfile::tempdir().unwrap();
        let extension = Path::new(fixture.file)
            .extension()
            .unwrap()
            .to_str()
            .unwrap();
        let out = fresh.path().join(format!("pulled.{extension}"));
        let workspaces: Vec<&str> = original.keys().map(String::as_str).collect();
        pull_into(&home, &out, &org, &workspaces, &[]);
        let pulled = read(&out);
        assert_eq!(synced(&pulled), original, "{}", fixture.file);
        assert_eq!(
            Export::parse(&pulled).unwrap().format,
            fixture.format,
            "{}",
            fixture.file
        );
        teams.insert(fixture.file, (org, team));
    }

    // The flow-style YAML, pushed where its JSON twin went: the server already holds every
    // document it has, byte for byte.
    let (org, team) = &teams[FLOW_YAML_JSON_TWIN];
    let twin = home.path().join("twin").join(FLOW_YAML);
    std::fs::create_dir_all(twin.parent().unwrap()).unwrap();
    std::fs::copy(fixtures::path(FLOW_YAML), &twin).unwrap();
    let again = push(&home, &twin, org, team, &[]);
    let project = &again["projects"][0];
    assert_eq!(project["createdProject"], false, "{again}");
    assert_eq!(project["snapshot"], Value::Null, "{again}");
    for side in ["outgoing", "incoming"] {
        for change in ["added", "modified", "removed"] {
            assert_eq!(project[side][change], json!({}), "{again}");
        }
    }
}

fn every_v5_file_comes_back_with_its_documents(kind: Kind) {
    let backend = Backend::start(kind);
    let home = tempfile::tempdir().unwrap();
    sign_up(&home, backend.server(), "ada@example.com");
    for fixture in V5_FIXTURES {
        let original = synced(&fixtures::text(fixture.file));
        let (org, team) = new_team(&home, fixture.file);
        let file = copy_of(fixture.file, home.path());
        let pushed = push(&home, &file, &org, &team, &[]);
        let project = &pushed["projects"][0];
        assert_eq!(pushed["projects"].as_array().unwrap().len(), 1, "{pushed}");
        assert_eq!(project["createdProject"], true, "{pushed}");
        assert_eq!(
            project["outgoing"]["added"].as_object().unwrap().len(),
            fixture.documents,
            "{}: {pushed}",
            fixture.file
        );
        assert_eq!(
            read(&file),
            fixtures::text(fixture.file),
            "{}",
            fixture.file
        );
        let workspace = original.keys().next().unwrap().clone();

        // Pulled on a fresh directory as a v5 file: the same documents.
        let fresh = tempfile::tempdir().unwrap();
        let out = fresh.path().join("pulled.yaml");
        pull_into(&home, &out, &org, &[&workspace], &["--format", "v5"]);
        let pulled = read(&out);
        assert!(
            pulled.starts_with(&format!("type: {}\n", fixture.kind)),
            "{}: {pulled}",
            fixture.file
        );
        assert_eq!(Export::parse(&pulled).unwrap().format, Format::V5);
        assert_eq!(synced(&pulled), original, "{}", fixture.file);

        // The pulled file is up to date: status and a push change nothing.
        let status = run(&home, &["status", out.to_str().unwrap()]);
        let plan = &status["workspaces"][0];
        for side in ["outgoing", "incoming"] {
            for change in ["added", "modified", "removed"] {
                assert_eq!(plan[side][change], json!({}), "{}: {status}", fixture.file);
            }
        }
        let again = push(&home, &out, &org, &team, &[]);
        assert_eq!(again["projects"][0]["snapshot"], Value::Null, "{again}");

        // Pulled into the v5 file it came from: still v5, the same documents.
        pull_into(&home, &file, &org, &[&workspace], &[]);
        let rewritten = read(&file);
        assert_eq!(Export::parse(&rewritten).unwrap().format, Format::V5);
        assert_eq!(synced(&rewritten), original, "{}", fixture.file);
    }
}

/// The URL of request `id` in a YAML export file set to `url`, as an edit in the app would.
fn edit_url(path: &Path, id: &str, url: &str) {
    let mut value: Value = serde_norway::from_str(&read(path)).unwrap();
    let resources = value["resources"].as_array_mut().unwrap();
    let request = resources.iter_mut().find(|r| r["_id"] == id).unwrap();
    request["url"] = json!(url);
    std::fs::write(path, serde_norway::to_string(&value).unwrap()).unwrap();
}

/// Every file under `dir`, as paths relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(at) = pending.pop() {
        for entry in std::fs::read_dir(&at).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found
}

fn push_and_pull_on_a_branch_named_with_a_slash(kind: Kind) {
    const BRANCH: &str = "feature/login";
    const FIXTURE: &str = "v4-yaml-app-2021.5.3.yaml";
    const REQUEST: &str = "req_07b45021d3824dbf9a4b3547e5fc1abc";
    let backend = Backend::start(kind);
    let home = tempfile::tempdir().unwrap();
    sign_up(&home, backend.server(), "ada@example.com");
    let (org, team) = new_team(&home, "Branches");
    let work = tempfile::tempdir().unwrap();
    let file = copy_of(FIXTURE, work.path());
    let workspace = synced(&read(&file)).keys().next().unwrap().clone();

    let pushed = push(&home, &file, &org, &team, &["--branch", BRANCH]);
    let project = pushed["projects"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(pushed["projects"][0]["branch"], BRANCH, "{pushed}");
    assert_eq!(run(&home, &["branches", &project]), json!([BRANCH]));

    // This machine recorded the branch: status reads it back, up to date. Its record is one
    // file, the `/` written `~` as the app does, not a directory `feature`.
    let status = run(
        &home,
        &["status", file.to_str().unwrap(), "--branch", BRANCH],
    );
    let plan = &status["workspaces"][0];
    assert_eq!(plan["base"], pushed["projects"][0]["snapshot"], "{status}");
    for side in ["outgoing", "incoming"] {
        assert_eq!(plan[side]["added"], json!({}), "{status}");
        assert_eq!(plan[side]["modified"], json!({}), "{status}");
    }
    let records = files_under(&home.path().join("sync"));
    assert!(
        records
            .iter()
            .any(|f| f.ends_with(&format!("{project}/feature~login.json"))),
        "{records:?}"
    );
    assert!(
        records
            .iter()
            .all(|f| !f.contains(&format!("{project}/feature/"))),
        "{records:?}"
    );

    // An edit pushed on the branch: merged from the recorded base, one change, no conflict.
    edit_url(&file, REQUEST, "https://example.com/login");
    let second = push(&home, &file, &org, &team, &["--branch", BRANCH]);
    assert_eq!(
        second["projects"][0]["outgoing"]["modified"],
        json!({REQUEST: "Get Sleep"}),
        "{second}"
    );
    assert_eq!(second["projects"][0]["conflicts"], json!([]), "{second}");
    let log = run(&home, &["log", &project, "--branch", BRANCH]);
    assert_eq!(log.as_array().unwrap().len(), 2, "{log}");

    // Pulled on a fresh directory from the branch: the edited documents.
    let fresh = tempfile::tempdir().unwrap();
    let out = fresh.path().join("login.yaml");
    pull_into(&home, &out, &org, &[&workspace], &["--branch", BRANCH]);
    assert_eq!(synced(&read(&out)), synced(&read(&file)));
    assert!(read(&out).contains("https://example.com/login"));

    // master holds nothing: the branches are apart.
    let elsewhere = fresh.path().join("master.yaml");
    let refused = hypnos(&home)
        .timeout(COMMAND_TIMEOUT)
        .args(["pull", "--org", &org, "--workspace", &workspace])
        .args(["-o", elsewhere.to_str().unwrap()])
        .assert()
        .code(1);
    let stderr = stderr_of(refused);
    assert!(stderr.contains("master"), "{stderr}");
    assert!(!elsewhere.exists());
}

#[test]
fn files_that_are_not_app_exports_get_a_clear_error_and_stay_as_they_were() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    sign_up(&home, &server, "ada@example.com");
    let (org, team) = new_team(&home, "Refusals");
    let files: [(&str, &str, &[&str]); 7] = [
        (
            // Starts like JSON, and is neither JSON nor YAML.
            "broken.json",
            "{\"_type\": \"export\", \"__export_format\": 4, \"resources\": [}\n",
            &["neither JSON nor YAML", "not valid JSON", "not valid YAML"],
        ),
        (
            "broken.yaml",
            "_type: export\n__export_format: 4\nresources: [\n  - oops\n",
            &["not valid YAML"],
        ),
        (
            "pets.yaml",
            "type: collection.insomnia.rest/6.0\nname: Pets\nmeta:\n  id: wrk_pets\ncollection: []\n",
            &["collection.insomnia.rest/6.0", "does not read"],
        ),
        (
            "no-ids.yaml",
            "type: collection.insomnia.rest/5.0\nname: Pets\nmeta:\n  id: wrk_pets\ncollection:\n  - name: Get\n    url: https://x\n    method: GET\n",
            &["collection[0]", "meta.id"],
        ),
        (
            "newer.yaml",
            "type: collection.insomnia.rest/5.0\nschema_version: \"5.9\"\nname: Pets\nmeta:\n  id: wrk_pets\n",
            &["schema version 5.9", "newer app"],
        ),
        (
            "old.json",
            "{\"_type\": \"export\", \"__export_format\": 2, \"resources\": []}",
            &["format 2", "formats 3 and 4"],
        ),
        (
            "postman.json",
            "{\"info\": {\"name\": \"Pets\"}, \"item\": []}",
            &["not an Insomnia export"],
        ),
    ];
    for (name, text, says) in files {
        let path = home.path().join(name);
        std::fs::write(&path, text).unwrap();
        for args in [
            vec![
                "push",
                path.to_str().unwrap(),
                "--org",
                &org,
                "--team-project",
                &team,
            ],
            vec!["status", path.to_str().unwrap()],
        ] {
            let stderr = stderr_of(
                hypnos(&home)
                    .timeout(COMMAND_TIMEOUT)
                    .args(&args)
                    .assert()
                    .code(1),
            );
            assert!(stderr.contains(name), "{name}: {stderr}");
            for phrase in says {
                assert!(stderr.contains(phrase), "{name} {args:?}: {stderr}");
            }
            assert_eq!(read(&path), text, "{name}");
        }
    }

    // A workspace with a proto file, which a v5 file has no place for: the pull into a v5 file
    // stops before writing (a push of the file without it would delete it for everyone).
    let grpc = copy_of("v4-yaml-grpc-app-2022.7.0-beta.6.yaml", home.path());
    push(&home, &grpc, &org, &team, &[]);
    let out = home.path().join("grpc-v5.yaml");
    let stderr = stderr_of(
        hypnos(&home)
            .timeout(COMMAND_TIMEOUT)
            .args([
                "pull",
                "--org",
                &org,
                "--format",
                "v5",
                "-o",
                out.to_str().unwrap(),
            ])
            .args(["--workspace", "wrk_0c38593a37ec40f782ef9151dd0e307c"])
            .assert()
            .code(1),
    );
    assert!(
        stderr.contains("proto_file") && stderr.contains("--format yaml"),
        "{stderr}"
    );
    assert!(!out.exists());
}

//! A push and a pull of 10,000 documents through the real server binary draw progress bars
//! (forced with HYPNOS_PROGRESS=always, as the test has no terminal) and arrive whole; with
//! `--json` no bar is drawn. How fast is BENCHMARKS.md's business, not this test's.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use serde_json::{Value, json};
use support::{Server, hypnos, json_of, run_json, sign_up};

const DOCUMENTS: usize = 10_000;

fn export(edited: usize) -> Value {
    let mut resources = vec![json!({
        "_id": "wrk_large", "_type": "workspace", "parentId": null, "name": "Large",
    })];
    for index in 1..DOCUMENTS {
        let version = if index <= edited { "v2" } else { "v1" };
        resources.push(json!({
            "_id": format!("req_{index:05}"), "_type": "request", "parentId": "wrk_large",
            "name": format!("Request {index}"), "method": "POST",
            "url": format!("https://api.example.com/{version}/items/{index}"),
            "body": {"mimeType": "application/json", "text": "x".repeat(700)},
        }));
    }
    json!({"_type": "export", "__export_format": 4, "__export_date": "2026-11-28T10:00:00.000Z",
           "__export_source": "insomnia.desktop.app:v10.3.0", "resources": resources})
}

#[test]
fn ten_thousand_documents_push_and_pull_with_progress_bars() {
    let server = Server::start();
    let (here, there) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    sign_up(&here, &server, "big@example.com");
    let org = run_json(&here, &["org", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team_project = run_json(&here, &["team-project", "create", &org, "Large"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = here.path().join("large.json");
    std::fs::write(&file, export(0).to_string()).unwrap();

    let pushed = hypnos(&here)
        .args(["push", file.to_str().unwrap(), "--org", &org])
        .args(["--team-project", &team_project])
        .env("HYPNOS_PROGRESS", "always")
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&pushed.get_output().stderr).into_owned();
    assert!(stderr.contains("uploading"), "{stderr}");
    assert!(stderr.contains("10000/10000 blobs"), "{stderr}");
    let stdout = String::from_utf8_lossy(&pushed.get_output().stdout).into_owned();
    assert!(stdout.contains("10000 added"), "{stdout}");

    // Another machine of the same account pulls all of it.
    hypnos(&there)
        .args([
            "--server",
            &server.url,
            "login",
            "--email",
            "big@example.com",
        ])
        .env("HYPNOS_PASSPHRASE", "big@example.com passphrase")
        .assert()
        .success();
    let out = there.path().join("large.yaml");
    let pulled = hypnos(&there)
        .args(["pull", "--org", &org, "--workspace", "wrk_large"])
        .args(["-o", out.to_str().unwrap()])
        .env("HYPNOS_PROGRESS", "always")
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&pulled.get_output().stderr).into_owned();
    assert!(stderr.contains("downloading"), "{stderr}");
    assert!(stderr.contains("10000/10000 blobs"), "{stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.matches("_type: request").count(), DOCUMENTS - 1);

    // A second push uploads only what changed, and --json draws no bar.
    std::fs::write(&file, export(50).to_string()).unwrap();
    let again = hypnos(&here)
        .args(["--json", "push", file.to_str().unwrap(), "--org", &org])
        .args(["--team-project", &team_project])
        .env("HYPNOS_PROGRESS", "always")
        .assert()
        .success();
    assert!(!String::from_utf8_lossy(&again.get_output().stderr).contains("blobs"));
    let again = json_of(&again.get_output().stdout);
    assert_eq!(again["projects"][0]["uploadedBlobs"], 50);
    assert_eq!(
        again["projects"][0]["outgoing"]["modified"]
            .as_object()
            .unwrap()
            .len(),
        50
    );
}

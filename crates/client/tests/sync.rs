//! The library's sync round trip against the real server (in this process, SQLite): an export
//! pushed from one machine is pulled on another, byte-identical in what sync carries; pulled
//! blobs are cached encrypted, and a damaged cache entry is fetched again.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use std::path::Path;
use support::Server;

use hypnos_client::{
    Api, NewAccount, log_in, orgs,
    sync::{Progress, PushOptions, Quiet, Syncer, Target, export::Export},
};
use serde_json::{Value, json};

fn export() -> Value {
    json!({
        "_type": "export", "__export_format": 4, "__export_date": "2026-11-28T10:00:00.000Z",
        "__export_source": "insomnia.desktop.app:v10.3.0",
        "resources": [
            {"_id": "wrk_lib", "_type": "workspace", "parentId": null, "name": "Library",
             "scope": "collection", "modified": 1},
            {"_id": "fld_lib", "_type": "request_group", "parentId": "wrk_lib", "name": "Folder",
             "environment": {"n": 1e21, "small": 0.000001, "neg": -0.0}},
            {"_id": "req_lib", "_type": "request", "parentId": "fld_lib", "name": "Ünïcode ✓",
             "url": "https://example.com/secret-marker", "body": {"text": "{\"a\": [1, 2]}"}},
            {"_id": "ut_lib", "_type": "unit_test", "parentId": "uts_lib", "name": "T"},
            {"_id": "uts_lib", "_type": "unit_test_suite", "parentId": "wrk_lib", "name": "S"},
            {"_id": "req_private", "_type": "request", "parentId": "wrk_lib", "name": "Mine",
             "isPrivate": true},
        ],
    })
}

/// What sync carries of an export file: each synced document's blob content, by id (as the
/// app writes it: `-0` is `0` there, as in JavaScript).
fn synced(path: &Path) -> Vec<String> {
    let file = Export::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut documents: Vec<String> = file
        .workspaces()
        .remove(0)
        .documents
        .iter()
        .map(|document| hypnos_client::sync::state::blob_of(document).1)
        .collect();
    documents.sort();
    documents
}

/// Counts the blobs downloaded.
#[derive(Default)]
struct Downloads(std::sync::atomic::AtomicU64);

impl Downloads {
    fn total(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Progress for Downloads {
    fn begin(&self, _: &str, _: u64) {}
    fn advance(&self, units: u64) {
        self.0
            .fetch_add(units, std::sync::atomic::Ordering::Relaxed);
    }
    fn end(&self) {}
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_pushed_here_is_pulled_there() {
    let server = Server::start().await;
    let api = Api::new(&server.base).unwrap();
    hypnos_client::sign_up(
        &api,
        &NewAccount {
            email: "lin@example.com",
            first_name: "Lin",
            last_name: "",
            passphrase: "lin's long passphrase",
        },
    )
    .await
    .unwrap();
    let session = log_in(&api, "lin@example.com", "lin's long passphrase")
        .await
        .unwrap();
    let org = orgs::list(&api, &session.id).await.unwrap().remove(0).id;
    let team_project = orgs::create_team_project(&api, &session.id, &org, "Lib")
        .await
        .unwrap()
        .id;

    // Machine one pushes.
    let (here, there) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = here.path().join("export.json");
    std::fs::write(&file, export().to_string()).unwrap();
    let syncer = Syncer::new(&api, &session, here.path(), &Quiet).unwrap();
    let mut seen = Vec::new();
    let pushed = syncer
        .push(
            &file,
            &PushOptions {
                org: &org,
                team_project: Some(&team_project),
                branch: "master",
                message: "first",
                prefer: None,
            },
            |account, key| {
                seen.push((account.to_owned(), key.fingerprint()));
                Ok(())
            },
        )
        .await
        .unwrap();
    assert_eq!(pushed.len(), 1);
    assert_eq!(seen.len(), 1, "the project key goes to the one member");
    let project = pushed[0].id.clone();
    // Five synced documents: the private request stays here.
    assert_eq!(pushed[0].uploaded_blobs, 5);

    // Machine two pulls by workspace, then by project into YAML.
    let other = Syncer::new(&api, &session, there.path(), &Quiet).unwrap();
    let out = there.path().join("pulled.json");
    let pulled = other
        .pull(
            &org,
            Target::Workspace("wrk_lib"),
            "master",
            &out,
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(pulled.id, project);
    assert_eq!(Some(pulled.snapshot.clone()), pushed[0].snapshot);
    assert_eq!(synced(&out), synced(&file));
    assert!(
        !std::fs::read_to_string(&out)
            .unwrap()
            .contains("req_private")
    );

    // The cache holds the pulled documents, none of it readable.
    let cached = files_under(&there.path().join("cache"));
    assert_eq!(cached.len(), 1);
    let text = std::fs::read_to_string(&cached[0]).unwrap();
    assert!(text.len() > 100);
    assert!(!text.contains("secret-marker") && !text.contains("Library"));
    // With the cache, a pull into a new file downloads nothing.
    let counting = Downloads::default();
    let counted = Syncer::new(&api, &session, there.path(), &counting).unwrap();
    let yaml = there.path().join("pulled.yaml");
    let pull_yaml = || counted.pull(&org, Target::Project(&project), "master", &yaml, None, None);
    pull_yaml().await.unwrap();
    assert_eq!(counting.total(), 0);
    let text = std::fs::read_to_string(&yaml).unwrap();
    assert!(text.contains("_type: workspace"), "{text}");
    assert_eq!(synced(&yaml), synced(&file));
    // A damaged cache is a miss: the next pull fetches everything again and succeeds.
    std::fs::write(&cached[0], "{\"iv\":\"00\"}").unwrap();
    std::fs::remove_file(&yaml).unwrap();
    pull_yaml().await.unwrap();
    assert_eq!(counting.total(), 5);
    assert_eq!(synced(&yaml), synced(&file));

    server.stop().await;
}

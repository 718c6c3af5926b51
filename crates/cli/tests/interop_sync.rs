//! `hypnos push` and `hypnos pull` against a sync client built only on the npm packages the
//! Insomnia app uses (`interop/sync-client.js`: node-forge, srp-js, hkdf and Node's built-ins),
//! through the real server binary, in both directions: what the command line pushes, that client
//! reads back byte for byte (it checks every snapshot id, blob id and the deterministic JSON of
//! every document), and what it pushes, the command line pulls into the app's export file.
//!
//! The client needs its packages: `npm ci --prefix interop` from the workspace root, and `node`
//! (20 or later) on the PATH. Without them these tests fail; they are never skipped.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use serde_json::{Map, Number, Value, json};
use support::{Server, hypnos, run_json, sign_up, sync_client};

fn passphrase_of(email: &str) -> String {
    format!("{email} passphrase")
}

/// The caller's personal organization (`hypnos org list` puts it first).
fn personal_org(home: &tempfile::TempDir) -> String {
    let orgs = run_json(home, &["org", "list"]);
    let first = &orgs.as_array().expect("org list is an array")[0];
    assert_eq!(first["metadata"]["organizationType"], "personal", "{orgs}");
    first["id"].as_str().unwrap().to_owned()
}

fn team_project(home: &tempfile::TempDir, org: &str) -> String {
    let made = run_json(home, &["team-project", "create", org, "Interop"]);
    made["id"].as_str().unwrap().to_owned()
}

/// The app's export `_type` of each document type (insomnia-wire.md §8), for the synced types.
const EXPORT_TYPES: &[(&str, &str)] = &[
    ("Workspace", "workspace"),
    ("Environment", "environment"),
    ("UnitTestSuite", "unit_test_suite"),
    ("UnitTest", "unit_test"),
    ("RequestGroup", "request_group"),
    ("Request", "request"),
    ("GrpcRequest", "grpc_request"),
    ("WebSocketPayload", "websocket_payload"),
    ("WebSocketRequest", "websocket_request"),
    ("ProtoFile", "proto_file"),
    ("ProtoDirectory", "proto_directory"),
    ("ApiSpec", "api_spec"),
    ("MockServer", "mock"),
    ("MockRoute", "mock_route"),
];

/// A document as a sync blob holds it (insomnia-wire.md §4.1): no `modified`, and a workspace
/// without its parent.
fn as_stored(mut document: Map<String, Value>) -> Value {
    document.remove("modified");
    if document["type"] == "Workspace" {
        document.insert("parentId".into(), Value::Null);
    }
    Value::Object(document)
}

/// An export resource as the stored document (`_type` back to `type`); `None` for the types that
/// are not synced (the cookie jar).
fn resource_to_document(resource: &Value) -> Option<Value> {
    let mut document = resource.as_object().unwrap().clone();
    let export_type = document.remove("_type").unwrap();
    let (doc_type, _) = EXPORT_TYPES
        .iter()
        .find(|(_, exported)| export_type == *exported)?;
    document.insert("type".into(), json!(doc_type));
    Some(as_stored(document))
}

/// The same JSON with every number as a double, the way JavaScript holds it: `-0` is `0` and
/// integers beyond 2^53 round. The npm client prints numbers as `JSON.stringify` does, so this
/// is what "equal" means across the two sides; the client itself already checked that every
/// blob is the app's deterministic JSON, number formatting included.
fn as_javascript(value: &Value) -> Value {
    match value {
        Value::Number(number) => {
            let float = number.as_f64().unwrap() + 0.0;
            Value::Number(Number::from_f64(float).unwrap())
        }
        Value::Array(items) => Value::Array(items.iter().map(as_javascript).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(key, member)| (key.clone(), as_javascript(member)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Documents sorted by `_id`, numbers as JavaScript holds them.
fn normalized(mut documents: Vec<Value>) -> Vec<Value> {
    documents.sort_by(|a, b| a["_id"].as_str().cmp(&b["_id"].as_str()));
    documents.iter().map(as_javascript).collect()
}

const WORKSPACE_ID: &str = "wrk_5e1f0c3ad1b94d7e8a0c6b2f4e9d7a11";

/// An export file as the app (10.3) writes it, with the JSON corner cases a second
/// implementation gets wrong: non-ASCII and escaped text, keys whose UTF-16 and UTF-8 orders
/// differ (`🚀` and `ｚ`), `0.1`, `1e21`, `-0`, `1.5e-7`, an integer beyond 2^53, nesting.
/// The cookie jar is exported but never synced.
const EXPORT: &str = r#"{
  "_type": "export",
  "__export_format": 4,
  "__export_date": "2026-01-01T00:00:00.000Z",
  "__export_source": "insomnia.desktop.app:v10.3.0",
  "resources": [
    {
      "_id": "req_b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5",
      "parentId": "fld_7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d",
      "modified": 1767225600123,
      "created": 1767225600000,
      "url": "https://api.example.test/naïve/café?q=日本語&emoji=🚀",
      "name": "Créer — 日本語 🚀",
      "description": "quote \" backslash \\ tab \t newline \n bell \u0007 line-sep \u2028 astral \ud83d\ude80",
      "method": "POST",
      "body": {
        "mimeType": "application/json",
        "text": "{\n  \"ratio\": 0.1,\n  \"ok\": true\n}"
      },
      "parameters": [
        { "name": "page", "value": "1", "disabled": false },
        { "name": "ümlaut", "value": "ß", "disabled": true }
      ],
      "headers": [{ "name": "Content-Type", "value": "application/json" }],
      "authentication": { "type": "bearer", "token": "{{ _.token }}", "prefix": "", "disabled": false },
      "metaSortKey": -1767225600000,
      "isPrivate": false,
      "settingStoreCookies": true,
      "settingSendCookies": true,
      "settingDisableRenderRequestBody": false,
      "settingEncodeUrl": true,
      "settingRebuildPath": true,
      "settingFollowRedirects": "global",
      "numbers": {
        "tenth": 0.1,
        "huge": 1e21,
        "negativeZero": -0,
        "small": 1.5e-7,
        "beyond53Bits": 12345678901234567890,
        "negative": -42.5,
        "list": [0, -1, 2.5, 1e300, [], {}]
      },
      "_type": "request"
    },
    {
      "_id": "req_0f1e2d3c4b5a69788796a5b4c3d2e1f0",
      "parentId": "wrk_5e1f0c3ad1b94d7e8a0c6b2f4e9d7a11",
      "modified": 1767225600456,
      "created": 1767225600001,
      "url": "{{ _.base }}/items",
      "name": "List items",
      "description": "",
      "method": "GET",
      "body": {},
      "parameters": [],
      "headers": [],
      "authentication": {},
      "metaSortKey": -1767225600001,
      "isPrivate": false,
      "pathParameters": [],
      "_type": "request"
    },
    {
      "_id": "fld_7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d",
      "parentId": "wrk_5e1f0c3ad1b94d7e8a0c6b2f4e9d7a11",
      "modified": 1767225600789,
      "created": 1767225600002,
      "name": "Dossier ✓",
      "description": "",
      "environment": { "nested": { "deep": [true, false, null] } },
      "environmentPropertyOrder": null,
      "metaSortKey": -1767225600002,
      "_type": "request_group"
    },
    {
      "_id": "wrk_5e1f0c3ad1b94d7e8a0c6b2f4e9d7a11",
      "parentId": null,
      "modified": 1767225600999,
      "created": 1767225600003,
      "name": "Interop ☕",
      "description": "",
      "scope": "collection",
      "_type": "workspace"
    },
    {
      "_id": "env_3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f",
      "parentId": "wrk_5e1f0c3ad1b94d7e8a0c6b2f4e9d7a11",
      "modified": 1767225601000,
      "created": 1767225600004,
      "name": "Base Environment",
      "data": { "base": "https://api.example.test", "🚀": "rocket", "ｚ": "fullwidth z", "a": 1, "Z": 0.5 },
      "dataPropertyOrder": { "&": ["base", "🚀", "ｚ", "a", "Z"] },
      "color": null,
      "isPrivate": false,
      "metaSortKey": 1767225600004,
      "_type": "environment"
    },
    {
      "_id": "jar_9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a",
      "parentId": "wrk_5e1f0c3ad1b94d7e8a0c6b2f4e9d7a11",
      "modified": 1767225601001,
      "created": 1767225600005,
      "name": "Default Jar",
      "cookies": [],
      "_type": "cookie_jar"
    }
  ]
}"#;

#[test]
fn what_the_command_line_pushes_the_app_libraries_pull() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let email = "ada@interop.test";
    sign_up(&home, &server, email);
    let org = personal_org(&home);
    let team_project = team_project(&home, &org);

    let file = home.path().join("export.json");
    std::fs::write(&file, EXPORT).unwrap();
    let pushed = run_json(
        &home,
        &[
            "push",
            file.to_str().unwrap(),
            "--org",
            &org,
            "--team-project",
            &team_project,
            "-m",
            "first",
        ],
    );
    let projects = pushed["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 1, "{pushed}");
    assert_eq!(projects[0]["workspaceId"], WORKSPACE_ID, "{pushed}");
    let project = projects[0]["id"].as_str().unwrap();
    assert!(project.starts_with("prj_"), "{pushed}");
    let snapshot = projects[0]["snapshot"].as_str().unwrap();

    let pulled = sync_client(&[
        "pull",
        "--server",
        &server.url,
        "--email",
        email,
        "--passphrase",
        &passphrase_of(email),
        "--project",
        project,
    ]);
    assert_eq!(pulled["projectId"], project);
    assert_eq!(pulled["snapshot"], snapshot, "the same tip on both sides");

    let export: Value = serde_json::from_str(EXPORT).unwrap();
    let expected: Vec<Value> = export["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(resource_to_document)
        .collect();
    assert_eq!(expected.len(), 5, "everything but the cookie jar is synced");
    assert_eq!(
        normalized(pulled["documents"].as_array().unwrap().clone()),
        normalized(expected),
        "the app's libraries read back the documents of the export"
    );
}

#[test]
fn what_the_app_libraries_push_the_command_line_pulls() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let email = "grace@interop.test";
    sign_up(&home, &server, email);
    let org = personal_org(&home);
    let team_project = team_project(&home, &org);

    // Documents as the app's database holds them (with `type`, `modified`, and the workspace's
    // parent, the local project, which sync leaves out).
    let workspace = "wrk_0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let documents = json!([
        {
            "_id": workspace, "type": "Workspace", "parentId": "proj_local0123",
            "name": "From the app ☁", "description": "", "scope": "collection",
            "created": 1767225600000_u64, "modified": 1767225600500_u64
        },
        {
            "_id": "fld_11112222333344445555666677778888", "type": "RequestGroup",
            "parentId": workspace, "name": "Groupe", "description": "",
            "environment": {"k": [1, 2.5, "trois"]}, "environmentPropertyOrder": null,
            "metaSortKey": -1, "created": 1767225600001_u64, "modified": 1767225600501_u64
        },
        {
            "_id": "req_9999aaaabbbbccccddddeeeeffff0000", "type": "Request",
            "parentId": "fld_11112222333344445555666677778888", "name": "Ping — ✓",
            "url": "https://example.test/ping?x=ü", "method": "GET",
            "body": {}, "parameters": [], "headers": [{"name": "Accept", "value": "*/*"}],
            "authentication": {}, "metaSortKey": 0.1, "isPrivate": false,
            "created": 1767225600002_u64, "modified": 1767225600502_u64
        },
        {
            "_id": "env_aaaabbbbccccddddeeeeffff00001111", "type": "Environment",
            "parentId": workspace, "name": "Base Environment",
            "data": {"host": "example.test", "🚀": 1, "ｚ": 2}, "dataPropertyOrder": null,
            "color": null, "isPrivate": false, "metaSortKey": 1,
            "created": 1767225600003_u64, "modified": 1767225600503_u64
        }
    ]);
    let file = home.path().join("documents.json");
    std::fs::write(&file, serde_json::to_string_pretty(&documents).unwrap()).unwrap();
    let pushed = sync_client(&[
        "push",
        "--server",
        &server.url,
        "--email",
        email,
        "--passphrase",
        &passphrase_of(email),
        "--org",
        &org,
        "--team-project",
        &team_project,
        "--documents",
        file.to_str().unwrap(),
        "--message",
        "from the app's libraries",
    ]);
    let project = pushed["projectId"].as_str().unwrap();
    assert!(project.starts_with("prj_"), "{pushed}");

    // The command line's history sees the push.
    let log = run_json(&home, &["log", project]);
    assert_eq!(log[0]["id"], pushed["snapshot"], "{log}");
    assert_eq!(log[0]["message"], "from the app's libraries", "{log}");

    let expected: Vec<Value> = documents
        .as_array()
        .unwrap()
        .iter()
        .map(|document| as_stored(document.as_object().unwrap().clone()))
        .collect();

    let out_json = home.path().join("pulled.json");
    run_json(
        &home,
        &[
            "pull",
            "--org",
            &org,
            "--project",
            project,
            "-o",
            out_json.to_str().unwrap(),
        ],
    );
    let export: Value = serde_json::from_str(&std::fs::read_to_string(&out_json).unwrap())
        .unwrap_or_else(|err| panic!("{} is not JSON: {err}", out_json.display()));
    assert_eq!(export["_type"], "export", "{export}");
    assert_eq!(export["__export_format"], 4, "{export}");
    let resources = export["resources"].as_array().unwrap();
    // A cookie jar is not synced, but an export may carry one: only synced types are compared.
    let pulled: Vec<Value> = resources.iter().filter_map(resource_to_document).collect();
    assert_eq!(
        normalized(pulled),
        normalized(expected),
        "the command line exports the documents the app's libraries pushed"
    );

    let out_yaml = home.path().join("pulled.yaml");
    hypnos(&home)
        .args(["pull", "--org", &org, "--workspace", workspace])
        .args(["-o", out_yaml.to_str().unwrap(), "--format", "yaml"])
        .assert()
        .success();
    let yaml = std::fs::read_to_string(&out_yaml).unwrap();
    assert!(!yaml.trim().is_empty(), "the YAML export is empty");
    assert!(yaml.contains(workspace), "{yaml}");
    assert!(
        yaml.contains("req_9999aaaabbbbccccddddeeeeffff0000"),
        "{yaml}"
    );
}

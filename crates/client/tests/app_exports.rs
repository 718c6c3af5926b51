//! Every kind of export the Insomnia app has written over the years, as real app versions wrote
//! them (tests/fixtures/app-exports): format 3 JSON (2016, 2017), format 4 JSON, the flow-style
//! YAML of 2020 (one line starting with `{`), and block-style YAML up to 10.1. Each is read with
//! the syntax it is in, holds what another YAML reader finds in it, and reads the same after
//! this client writes it back. The "Insomnia v5" files of Insomnia 11 and later (collection,
//! design document, environment; schema 5.0 and 5.1) become the documents the app's importer
//! makes of them, and are written back as v5 files that read the same. (`crates/cli/tests/
//! app_exports.rs` syncs them end to end.)
#![allow(clippy::unwrap_used, reason = "tests may panic")]

#[path = "fixtures/app-exports/fixtures.rs"]
mod fixtures;

use fixtures::{
    FIXTURES, FLOW_YAML, FLOW_YAML_JSON_TWIN, V5_FIXTURES, V5_MOCK_WITHOUT_SERVER, synced, text,
};
use hypnos_client::sync::export::{Export, Format};
use serde_json::{Value, json};

#[test]
fn every_app_export_is_read_with_what_it_holds() {
    for fixture in FIXTURES {
        let export = Export::parse(&text(fixture.file))
            .unwrap_or_else(|err| panic!("{}: {err}", fixture.file));
        assert_eq!(export.format, fixture.format, "{}", fixture.file);
        assert_eq!(
            export.header["__export_format"], fixture.export_format,
            "{}",
            fixture.file
        );
        let workspaces = export.workspaces();
        assert_eq!(workspaces.len(), fixture.workspaces, "{}", fixture.file);
        let documents: usize = workspaces.iter().map(|w| w.documents.len()).sum();
        assert_eq!(documents, fixture.documents, "{}", fixture.file);
    }
}

#[test]
fn the_flow_yaml_of_2020_reads_as_the_json_the_app_wrote_beside_it() {
    let flow = text(FLOW_YAML);
    assert!(flow.starts_with("{_type: export, __export_format: 4,"));
    assert!(serde_json::from_str::<serde_json::Value>(&flow).is_err());
    let yaml = synced(&flow);
    assert_eq!(yaml.values().map(Vec::len).sum::<usize>(), 21);
    assert_eq!(yaml, synced(&text(FLOW_YAML_JSON_TWIN)));
}

#[test]
fn each_export_written_back_reads_the_same() {
    for fixture in FIXTURES {
        let export = Export::parse(&text(fixture.file)).unwrap();
        let written = export.render().unwrap();
        let again = Export::parse(&written).unwrap();
        // Flow-style YAML is written back in block style, in the same syntax (YAML).
        assert_eq!(again.format, fixture.format, "{}", fixture.file);
        assert_eq!(again.header, export.header, "{}", fixture.file);
        assert_eq!(again.resources, export.resources, "{}", fixture.file);
    }
}

#[test]
fn every_v5_file_is_read_with_what_it_holds() {
    for fixture in V5_FIXTURES {
        let export = Export::parse(&text(fixture.file))
            .unwrap_or_else(|err| panic!("{}: {err}", fixture.file));
        assert_eq!(export.format, Format::V5, "{}", fixture.file);
        assert_eq!(export.header["type"], fixture.kind, "{}", fixture.file);
        assert_eq!(
            export.resources.len(),
            fixture.resources,
            "{}",
            fixture.file
        );
        let workspaces = export.workspaces();
        assert_eq!(workspaces.len(), 1, "{}", fixture.file);
        assert_eq!(
            workspaces[0].documents.len(),
            fixture.documents,
            "{}",
            fixture.file
        );
        assert_eq!(
            workspaces[0].documents[0]["scope"], fixture.scope,
            "{}",
            fixture.file
        );
        // Every document's parent is in the file: the tree became parent ids.
        let ids: Vec<&str> = export
            .resources
            .iter()
            .map(|r| r["_id"].as_str().unwrap())
            .collect();
        for resource in &export.resources[1..] {
            let parent = resource["parentId"].as_str().unwrap();
            assert!(ids.contains(&parent), "{}: {resource}", fixture.file);
        }
    }
}

/// The document of `id` in a v5 fixture, as sync stores it.
fn document(file: &str, id: &str) -> Value {
    Export::parse(&text(file)).unwrap().workspaces()[0]
        .documents
        .iter()
        .find(|d| d["_id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {file}"))
        .clone()
}

#[test]
fn v5_documents_are_those_the_apps_importer_makes() {
    // As packages/insomnia/src/common/insomnia-v5.ts builds them: meta spread into _id,
    // created, modified, isPrivate, description and metaSortKey with its defaults; the request
    // settings inverted and renamed; empty lists and maps for what the file leaves out.
    const FILE: &str = "v5-collection-app-12.3.1.yaml";
    const WORKSPACE: &str = "wrk_829522b5e8dc4f37b7529db150315cd4";
    assert_eq!(
        document(FILE, WORKSPACE),
        json!({
            "_id": WORKSPACE, "type": "Workspace", "parentId": null, "name": "Collection A",
            "created": 1_770_798_742_203_u64, "modified": 1_770_800_022_824_u64,
            "isPrivate": false, "description": "", "metaSortKey": 0, "scope": "collection",
        })
    );
    assert_eq!(
        document(FILE, "req_02f58f24a4304f1f8c0e8ecafae3b50b"),
        json!({
            "_id": "req_02f58f24a4304f1f8c0e8ecafae3b50b", "type": "Request",
            "parentId": WORKSPACE, "name": "Request A", "url": "httpbin.org/get",
            "method": "GET", "created": 1_770_798_745_128_u64, "modified": 1_770_799_968_387_u64,
            "isPrivate": false, "description": "", "metaSortKey": -1_770_798_745_128_i64,
            "body": {}, "parameters": [], "pathParameters": [], "authentication": {},
            "headers": [{"name": "User-Agent", "value": "insomnia/12.3.1", "description": "",
                         "disabled": false}],
            "preRequestScript": "", "afterResponseScript": "",
            "settingDisableRenderRequestBody": false, "settingEncodeUrl": true,
            "settingFollowRedirects": "global", "settingSendCookies": true,
            "settingStoreCookies": true, "settingRebuildPath": true,
            "disableUserAgentHeader": false,
        })
    );
    assert_eq!(
        document(FILE, "env_2696694e6699b630056380b870ebe83268f09894"),
        json!({
            "_id": "env_2696694e6699b630056380b870ebe83268f09894", "type": "Environment",
            "parentId": WORKSPACE, "name": "Base Environment", "color": null, "data": {},
            "created": 1_770_798_742_204_u64, "modified": 1_770_798_742_204_u64,
            "isPrivate": false, "description": "", "metaSortKey": 0,
        })
    );
    // The cookie jar is read (and written back) but not synced.
    let export = Export::parse(&text(FILE)).unwrap();
    assert!(export.resources.iter().any(|r| r["_type"] == "cookie_jar"));

    // A design document: folders nest by parentId, sub-environments hang off the base, the
    // spec's contents become YAML text in the file's key order.
    const SPEC: &str = "v5-spec-app-repo-5.1.yaml";
    let nested = document(SPEC, "req_c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0");
    assert_eq!(nested["parentId"], "fld_a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6");
    assert!(
        nested["afterResponseScript"]
            .as_str()
            .unwrap()
            .contains("auth_token")
    );
    let folder = document(SPEC, "fld_e24f092224c24712bc0e624bae1ee0bc");
    assert_eq!(folder["type"], "RequestGroup");
    assert_eq!(
        folder["environment"],
        json!({"inherited_value": "from-folder"})
    );
    assert_eq!(
        folder["environmentPropertyOrder"],
        json!({"&": ["inherited_value"]})
    );
    let sub = document(SPEC, "env_ce01ec4776894c65bdac6257f386682e");
    assert_eq!(
        sub["parentId"],
        "env_a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"
    );
    assert_eq!(sub["color"], "#ca2121");
    assert_eq!(sub["metaSortKey"], 1_779_815_070_437_u64);
    let spec = document(SPEC, "spc_e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6");
    assert_eq!(spec["type"], "ApiSpec");
    assert_eq!(spec["name"], "Security & Testing");
    assert_eq!(spec["contentType"], "json");
    let contents = spec["contents"].as_str().unwrap();
    assert!(
        contents.starts_with("openapi: 3.0.4\ninfo:\n"),
        "{contents}"
    );
    let float_key = document(SPEC, "req_2499a1df6cdc40e4a251818c6635ac58");
    assert_eq!(float_key["metaSortKey"], json!(-1_779_746_488_882.5));
}

#[test]
fn each_v5_file_written_back_reads_the_same() {
    for fixture in V5_FIXTURES {
        let export = Export::parse(&text(fixture.file)).unwrap();
        let written = export.render().unwrap();
        assert!(
            written.starts_with(&format!("type: {}\nschema_version: '5.1'\n", fixture.kind))
                || written.starts_with(&format!(
                    "type: {}\nschema_version: \"5.1\"\n",
                    fixture.kind
                )),
            "{}: {written}",
            fixture.file
        );
        let again = Export::parse(&written)
            .unwrap_or_else(|err| panic!("{}: {err}\n{written}", fixture.file));
        assert_eq!(again.format, Format::V5, "{}", fixture.file);
        assert_eq!(again.resources, export.resources, "{}", fixture.file);
        // Deterministic: the same documents give the same text.
        assert_eq!(again.render().unwrap(), written, "{}", fixture.file);
        assert_eq!(
            synced(&written),
            synced(&text(fixture.file)),
            "{}",
            fixture.file
        );
    }
}

#[test]
fn v5_and_v4_files_of_the_same_workspace_hold_the_same_documents() {
    // The app's repository holds no v5 file and v4 export of one workspace with the same ids,
    // so the pair is made here: each v5 file written as a v4 export (JSON and YAML) holds the
    // same documents, and written back as v5 from there, the same file.
    for fixture in V5_FIXTURES {
        let v5 = Export::parse(&text(fixture.file)).unwrap();
        for format in [Format::Json, Format::Yaml] {
            let mut v4 = v5.clone();
            v4.format = format;
            let v4_text = v4.render().unwrap();
            let read = Export::parse(&v4_text).unwrap();
            assert_eq!(read.format, format, "{}", fixture.file);
            assert_eq!(read.header["__export_format"], 4, "{}", fixture.file);
            assert_eq!(
                synced(&v4_text),
                synced(&text(fixture.file)),
                "{}",
                fixture.file
            );
            let mut back = read.clone();
            back.format = Format::V5;
            assert_eq!(
                back.render().unwrap(),
                v5.render().unwrap(),
                "{}",
                fixture.file
            );
        }
    }
}

#[test]
fn a_v5_file_of_schema_5_0_is_migrated_as_the_app_does() {
    // 5.0 files gave headers, parameters and cookies ids, and kept empty rows; 5.1 dropped both.
    let file = "type: collection.insomnia.rest/5.0\nname: Old\nmeta:\n  id: wrk_old\n\
                collection:\n  - url: https://x\n    name: R\n    method: GET\n    meta:\n      \
                id: req_1\n    headers:\n      - id: pair_1\n        name: A\n        value: b\n      \
                - id: pair_2\n        name: \"\"\n        value: \"\"\n    parameters:\n      \
                - id: pair_3\n        name: \"\"\n        value: \"\"\n";
    let export = Export::parse(file).unwrap();
    let request = &export.workspaces()[0].documents[1];
    assert_eq!(request["headers"], json!([{"name": "A", "value": "b"}]));
    assert_eq!(request["parameters"], json!([]));
    // No settings at all: the schema's defaults (on, cookies sent and stored).
    assert_eq!(request["settingSendCookies"], true);
    assert_eq!(request["settingDisableRenderRequestBody"], false);
}

#[test]
fn bad_v5_files_get_a_clear_error() {
    let refused = |text: &str| Export::parse(text).unwrap_err().to_string();
    let cases: [(&str, &[&str]); 7] = [
        (
            "type: collection.insomnia.rest/6.0\nname: X\nmeta:\n  id: wrk_1\n",
            &["collection.insomnia.rest/6.0", "does not read"],
        ),
        (
            "type: notes.insomnia.rest/5.0\nmeta:\n  id: wrk_1\n",
            &["notes.insomnia.rest/5.0"],
        ),
        (
            "type: collection.insomnia.rest/5.0\nschema_version: \"6.0\"\nmeta:\n  id: wrk_1\n",
            &["schema version 6.0", "newer app"],
        ),
        (
            "type: collection.insomnia.rest/5.0\nname: X\n",
            &["workspace", "meta.id"],
        ),
        (
            "type: collection.insomnia.rest/5.0\nmeta:\n  id: wrk_1\ncollection:\n  - name: F\n    \
             meta:\n      id: fld_1\n    children:\n      - name: R\n        method: GET\n",
            &["collection[0].children[0]", "meta.id"],
        ),
        (
            "type: collection.insomnia.rest/5.0\nmeta:\n  id: wrk_1\nenvironments:\n  name: E\n",
            &["environments", "meta.id"],
        ),
        (
            "type: collection.insomnia.rest/5.0\nmeta:\n  id: wrk_1\ncollection:\n  - name: R\n    \
             url: https://x\n    meta:\n      id: req_1\n",
            &["collection[0]", "method"],
        ),
    ];
    for (file, says) in cases {
        let message = refused(file);
        for phrase in says {
            assert!(message.contains(phrase), "{file}: {message}");
        }
    }
    let mock = refused(&text(V5_MOCK_WITHOUT_SERVER));
    assert!(mock.contains("server"), "{mock}");
}

#[test]
fn documents_a_v5_file_cannot_hold_stop_the_writing() {
    // A proto file has no place in the v5 tree: dropping it would delete it on the next push.
    let mut export = Export::parse(&text("v4-yaml-grpc-app-2022.7.0-beta.6.yaml")).unwrap();
    export.format = Format::V5;
    let refused = export.render().unwrap_err().to_string();
    assert!(
        refused.contains("proto_file") && refused.contains("--format yaml"),
        "{refused}"
    );
    // Two workspaces do not fit one v5 file.
    let mut export = Export::parse(&text("v4-yaml-workspaces-app-2022.7.0-beta.3.yaml")).unwrap();
    export.format = Format::V5;
    let refused = export.render().unwrap_err().to_string();
    assert!(refused.contains("10 workspaces"), "{refused}");
}

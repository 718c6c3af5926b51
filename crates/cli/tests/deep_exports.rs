//! Export files nested far deeper than any real one (100,000 levels of lists and maps, JSON
//! and YAML) give `hypnos push` and `hypnos status` a clear error and exit 1: the parsers
//! stop at their depth limit (serde_json's and serde_norway's 128 levels) instead of
//! overflowing the stack (issue 12).
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use std::time::Duration;

use support::{Server, hypnos, sign_up};

const DEPTH: usize = 100_000;

/// The deep files: a name, their text, and what the error says (all but the last, whose keys
/// the parser refuses first, at their depth limit).
fn deep_files() -> Vec<(&'static str, String, &'static str)> {
    let lists = format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    let maps = format!("{}1{}", "{\"a\":".repeat(DEPTH), "}".repeat(DEPTH));
    let header = "\"_type\": \"export\", \"__export_format\": 4";
    vec![
        (
            "deep-lists.json",
            format!("{{{header}, \"resources\": [{{\"_id\": \"req_1\", \"x\": {lists}}}]}}"),
            "not valid JSON",
        ),
        (
            "deep-maps.json",
            format!("{{{header}, \"resources\": [{{\"_id\": \"req_1\", \"x\": {maps}}}]}}"),
            "not valid JSON",
        ),
        (
            "deep-flow.yaml",
            format!("_type: export\n__export_format: 4\nresources: {lists}\n"),
            "not valid YAML",
        ),
        (
            "deep-flow-maps.yaml",
            format!(
                "_type: export\n__export_format: 4\nresources:\n  - _id: req_1\n    x: {maps}\n"
            ),
            "not valid YAML",
        ),
        ("deep-top.yaml", lists.clone(), "not valid YAML"),
        (
            // Block sequences nested on one line (`- - - …`): no indentation needed.
            "deep-compact.yaml",
            format!(
                "_type: export\n__export_format: 4\nresources:\n{}1\n",
                "- ".repeat(DEPTH)
            ),
            "not valid YAML",
        ),
        (
            "deep-complex-keys.yaml",
            format!(
                "_type: export\n__export_format: 4\nresources:\n{}1\n",
                "? ".repeat(DEPTH)
            ),
            "not valid YAML",
        ),
        (
            "deep-block.yaml",
            {
                // Block style: one more level of indentation a line (about 100 MB would be
                // 100,000 levels; 5,000 is far past the limit already).
                let mut text = String::from("_type: export\n__export_format: 4\nresources:\n");
                for level in 0..5_000 {
                    text.push_str(&" ".repeat(level + 1));
                    text.push_str("- \n");
                }
                text
            },
            "not valid YAML",
        ),
    ]
}

#[test]
fn deeply_nested_exports_are_refused_with_a_clear_error() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    sign_up(&home, &server, "ada@example.com");
    for (name, text, says) in deep_files() {
        let path = home.path().join(name);
        std::fs::write(&path, text).unwrap();
        for args in [
            vec!["status", path.to_str().unwrap()],
            vec![
                "push",
                path.to_str().unwrap(),
                "--org",
                "org_x",
                "--team-project",
                "proj_x",
            ],
        ] {
            let assert = hypnos(&home)
                .timeout(Duration::from_secs(60))
                .args(&args)
                .assert()
                .code(1);
            let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
            let at_the_limit =
                name == "deep-complex-keys.yaml" || stderr.contains("recursion limit");
            assert!(
                stderr.contains(says) && at_the_limit,
                "{name} {args:?}: {stderr}"
            );
        }
    }
}

//! The export file the sync tests share: one workspace of requests, read and edited as a user
//! would (JSON or YAML).

use std::path::Path;

use serde_json::{Value, json};

/// An app export (format 4) of one workspace holding these requests (id, url).
pub fn export(requests: &[(&str, &str)]) -> Value {
    let mut resources = vec![
        json!({"_id": "wrk_team", "_type": "workspace", "parentId": null, "name": "Team API",
               "description": "", "scope": "collection", "modified": 1_700_000_000_000u64}),
        json!({"_id": "env_team", "_type": "environment", "parentId": "wrk_team", "name": "Base",
               "data": {"host": "api.example.com", "ratio": 0.1}, "modified": 1_700_000_000_000u64}),
        json!({"_id": "jar_team", "_type": "cookie_jar", "parentId": "wrk_team", "name": "Jar",
               "cookies": []}),
    ];
    for (id, url) in requests {
        resources.push(json!({
            "_id": id, "_type": "request", "parentId": "wrk_team", "name": format!("Request {id}"),
            "method": "GET", "url": url, "body": {}, "headers": [], "modified": 1_700_000_000_001u64,
        }));
    }
    json!({"_type": "export", "__export_format": 4, "__export_date": "2026-11-28T10:00:00.000Z",
           "__export_source": "insomnia.desktop.app:v10.3.0", "resources": resources})
}

pub fn write(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// The file's requests: id → url.
pub fn urls(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let value: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).unwrap()
    } else {
        serde_norway::from_str(&text).unwrap()
    };
    let mut found: Vec<(String, String)> = value["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["_type"] == "request")
        .map(|r| {
            (
                r["_id"].as_str().unwrap().to_owned(),
                r["url"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

/// Sets a request's url in an export file (JSON or YAML), as an edit in the app would.
pub fn edit(path: &Path, id: &str, url: Option<&str>) {
    let text = std::fs::read_to_string(path).unwrap();
    let yaml = !text.trim_start().starts_with('{');
    let mut value: Value = if yaml {
        serde_norway::from_str(&text).unwrap()
    } else {
        serde_json::from_str(&text).unwrap()
    };
    let resources = value["resources"].as_array_mut().unwrap();
    match (resources.iter_mut().find(|r| r["_id"] == id), url) {
        (Some(resource), Some(url)) => resource["url"] = json!(url),
        (Some(_), None) => resources.retain(|r| r["_id"] != id),
        (None, Some(url)) => resources.push(json!({
            "_id": id, "_type": "request", "parentId": "wrk_team", "name": format!("Request {id}"),
            "method": "GET", "url": url, "body": {}, "headers": [],
        })),
        (None, None) => {}
    }
    let text = if yaml {
        serde_norway::to_string(&value).unwrap()
    } else {
        serde_json::to_string_pretty(&value).unwrap()
    };
    std::fs::write(path, text).unwrap();
}

//! Writing resources back into a v5 file's tree, as the app's exporter lays it out.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::{ExportError, KINDS, MAPPED, MAX_FOLDER_DEPTH, WRITTEN_SCHEMA_VERSION, error, truthy};

/// Inserts `value` unless it is null.
fn put(map: &mut Map<String, Value>, key: &str, value: Option<&Value>) {
    if let Some(value) = value.filter(|v| !v.is_null()) {
        map.insert(key.into(), value.clone());
    }
}

/// Inserts `value` unless it is null or an empty list or map (what the importer reads as the
/// same empty default).
fn put_full(map: &mut Map<String, Value>, key: &str, value: Option<&Value>) {
    let empty = match value {
        None | Some(Value::Null) => true,
        Some(Value::Array(list)) => list.is_empty(),
        Some(Value::Object(map)) => map.is_empty(),
        Some(_) => false,
    };
    if !empty {
        map.insert(key.into(), value.cloned().unwrap_or_default());
    }
}

/// A document's `meta`: every member the importer reads back.
fn meta_of(document: &Value) -> Value {
    let mut meta = Map::new();
    put(&mut meta, "id", document.get("_id"));
    for key in ["created", "modified"] {
        put(&mut meta, key, document.get(key).filter(|v| v.is_number()));
    }
    put(
        &mut meta,
        "isPrivate",
        document.get("isPrivate").filter(|v| v.is_boolean()),
    );
    put(
        &mut meta,
        "description",
        document.get("description").filter(|v| v.is_string()),
    );
    put(
        &mut meta,
        "sortKey",
        document.get("metaSortKey").filter(|v| v.is_number()),
    );
    Value::Object(meta)
}

fn kind_of(resource: &Value) -> &str {
    resource["_type"].as_str().unwrap_or_default()
}

/// The resources of an export, written as a v5 file of its one workspace. `header` gives the
/// members kept from a v5 file that hypnos does not map; `type` follows the workspace's scope.
pub fn write(header: &Map<String, Value>, resources: &[Value]) -> Result<String, ExportError> {
    let workspaces: Vec<&Value> = resources
        .iter()
        .filter(|r| kind_of(r) == "workspace")
        .collect();
    let workspace = match workspaces.as_slice() {
        [one] => *one,
        [] => {
            return Err(error(
                "no workspace to write: a v5 file holds one workspace",
            ));
        }
        many => {
            return Err(error(format!(
                "{} workspaces: a v5 file holds one (pull each into its own file, or write an \
                 Insomnia v4 file with --format yaml)",
                many.len()
            )));
        }
    };
    let workspace_id = workspace["_id"].as_str().unwrap_or_default();
    let mut children: HashMap<&str, Vec<&Value>> = HashMap::new();
    for resource in resources {
        if let Some(parent) = resource.get("parentId").and_then(Value::as_str) {
            children.entry(parent).or_default().push(resource);
        }
    }
    let mut placed: HashSet<String> = HashSet::new();
    placed.insert(workspace_id.to_owned());
    let of = |parent: &str, kinds: &[&str]| -> Vec<&Value> {
        children
            .get(parent)
            .map(|list| {
                list.iter()
                    .copied()
                    .filter(|r| kinds.contains(&kind_of(r)))
                    .collect()
            })
            .unwrap_or_default()
    };

    let scope = workspace["scope"].as_str().unwrap_or_default();
    let file_type = match scope {
        "design" | "designer" | "spec" => KINDS[1].0,
        "environment" => KINDS[2].0,
        "mock-server" => KINDS[3].0,
        "mcp" => KINDS[4].0,
        "collection" | "debug" => KINDS[0].0,
        _ => header
            .get("type")
            .and_then(Value::as_str)
            .filter(|kind| KINDS.iter().any(|(name, _)| name == kind))
            .unwrap_or(KINDS[0].0),
    };
    let mut top: Vec<(&str, Value)> = vec![
        ("type", json!(file_type)),
        ("schema_version", json!(WRITTEN_SCHEMA_VERSION)),
    ];
    put_top(&mut top, "name", workspace.get("name"));
    top.push(("meta", meta_of(workspace)));

    let mut uses = |id: &Value| {
        if let Some(id) = id.as_str() {
            placed.insert(id.to_owned());
        }
    };

    // A mock server and its routes.
    if let Some(server) = of(workspace_id, &["mock"]).first() {
        uses(&server["_id"]);
        let mut out = Map::new();
        out.insert("meta".into(), meta_of(server));
        put(&mut out, "url", server.get("url"));
        put(&mut out, "useInsomniaCloud", server.get("useInsomniaCloud"));
        top.push(("server", Value::Object(out)));
        let server_id = server["_id"].as_str().unwrap_or_default();
        let routes: Vec<Value> = of(server_id, &["mock_route"])
            .into_iter()
            .map(|route| {
                uses(&route["_id"]);
                let mut out = Map::new();
                put(&mut out, "name", route.get("name"));
                out.insert("meta".into(), meta_of(route));
                put(&mut out, "body", route.get("body"));
                put_full(&mut out, "headers", route.get("headers"));
                for key in ["method", "mimeType", "statusCode", "statusText"] {
                    put(&mut out, key, route.get(key));
                }
                Value::Object(out)
            })
            .collect();
        if !routes.is_empty() {
            top.push(("routes", Value::Array(routes)));
        }
    }

    // The collection tree.
    let mut stack_error = None;
    let collection = items_of(workspace_id, &of, &mut uses, 0, &mut stack_error);
    if let Some(err) = stack_error {
        return Err(err);
    }
    if !collection.is_empty() {
        top.push(("collection", Value::Array(collection)));
    }

    if let Some(jar) = of(workspace_id, &["cookie_jar"]).first() {
        uses(&jar["_id"]);
        let mut out = Map::new();
        put(&mut out, "name", jar.get("name"));
        out.insert("meta".into(), meta_of(jar));
        put_full(&mut out, "cookies", jar.get("cookies"));
        top.push(("cookieJar", Value::Object(out)));
    }

    if let Some(base) = of(workspace_id, &["environment"]).first() {
        uses(&base["_id"]);
        let mut out = environment_of(base);
        let base_id = base["_id"].as_str().unwrap_or_default();
        let subs: Vec<Value> = of(base_id, &["environment"])
            .into_iter()
            .map(|sub| {
                uses(&sub["_id"]);
                Value::Object(environment_of(sub))
            })
            .collect();
        if !subs.is_empty() {
            out.insert("subEnvironments".into(), Value::Array(subs));
        }
        top.push(("environments", Value::Object(out)));
    }

    let mut spec_contents = None;
    if let Some(spec) = of(workspace_id, &["api_spec"]).first() {
        uses(&spec["_id"]);
        let contents = spec["contents"].as_str().unwrap_or_default();
        let mut out = Map::new();
        if !contents.is_empty() {
            let tree: serde_norway::Value = serde_norway::from_str(contents).map_err(|err| {
                error(format!(
                    "the API spec {} is neither YAML nor JSON ({err}): a v5 file holds the \
                     spec as YAML; write an Insomnia v4 file with --format yaml",
                    spec["_id"]
                ))
            })?;
            spec_contents = Some(tree);
        } else if let Some(file) = spec.get("fileName").filter(|f| truthy(Some(f))) {
            // The schema's other form of a spec: a file name, without contents.
            out.insert("file".into(), file.clone());
        }
        out.insert("meta".into(), meta_of(spec));
        top.push(("spec", Value::Object(out)));
    }

    let suites: Vec<Value> = of(workspace_id, &["unit_test_suite"])
        .into_iter()
        .map(|suite| {
            uses(&suite["_id"]);
            let suite_id = suite["_id"].as_str().unwrap_or_default();
            let tests: Vec<Value> = of(suite_id, &["unit_test"])
                .into_iter()
                .map(|test| {
                    uses(&test["_id"]);
                    let mut out = Map::new();
                    put(&mut out, "name", test.get("name"));
                    out.insert("meta".into(), meta_of(test));
                    put(&mut out, "requestId", test.get("requestId"));
                    put(&mut out, "code", test.get("code"));
                    Value::Object(out)
                })
                .collect();
            let mut out = Map::new();
            put(&mut out, "name", suite.get("name"));
            out.insert("meta".into(), meta_of(suite));
            if !tests.is_empty() {
                out.insert("tests".into(), Value::Array(tests));
            }
            Value::Object(out)
        })
        .collect();
    if !suites.is_empty() {
        top.push(("testSuites", Value::Array(suites)));
    }

    let unplaced: Vec<String> = resources
        .iter()
        .filter(|r| !placed.contains(r["_id"].as_str().unwrap_or_default()))
        .map(|r| format!("{} {}", kind_of(r), r["_id"].as_str().unwrap_or_default()))
        .collect();
    if !unplaced.is_empty() {
        return Err(error(format!(
            "{} documents have no place in an Insomnia v5 file ({}{}): the app's v5 format \
             cannot hold them, and a push of a file without them would delete them; write an \
             Insomnia v4 file instead (--format yaml)",
            unplaced.len(),
            unplaced
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if unplaced.len() > 3 { ", …" } else { "" }
        )));
    }

    for (key, value) in header {
        if !key.starts_with('_') && !MAPPED.contains(&key.as_str()) {
            top.push((key.as_str(), value.clone()));
        }
    }
    render_top(&top, spec_contents)
}

fn put_top<'a>(top: &mut Vec<(&'a str, Value)>, key: &'a str, value: Option<&Value>) {
    if let Some(value) = value.filter(|v| !v.is_null()) {
        top.push((key, value.clone()));
    }
}

fn environment_of(environment: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    put(&mut out, "name", environment.get("name"));
    out.insert("meta".into(), meta_of(environment));
    put_full(&mut out, "data", environment.get("data"));
    if truthy(environment.get("dataPropertyOrder")) {
        put(
            &mut out,
            "dataPropertyOrder",
            environment.get("dataPropertyOrder"),
        );
    }
    if truthy(environment.get("color")) {
        put(&mut out, "color", environment.get("color"));
    }
    out
}

/// The collection items under `parent`, folders with their children.
fn items_of<'a>(
    parent: &str,
    of: &dyn Fn(&str, &[&str]) -> Vec<&'a Value>,
    uses: &mut dyn FnMut(&Value),
    depth: usize,
    failure: &mut Option<ExportError>,
) -> Vec<Value> {
    if depth > MAX_FOLDER_DEPTH {
        *failure = Some(error(format!(
            "folders nested more than {MAX_FOLDER_DEPTH} deep"
        )));
        return Vec::new();
    }
    let kinds = [
        "request_group",
        "request",
        "grpc_request",
        "websocket_request",
        "socketio_request",
    ];
    of(parent, &kinds)
        .into_iter()
        .map(|resource| {
            uses(&resource["_id"]);
            let mut out = Map::new();
            let get = |key: &str| resource.get(key);
            match kind_of(resource) {
                "request_group" => {
                    put(&mut out, "name", get("name"));
                    out.insert("meta".into(), meta_of(resource));
                    let id = resource["_id"].as_str().unwrap_or_default();
                    let children = items_of(id, of, uses, depth + 1, failure);
                    if !children.is_empty() {
                        out.insert("children".into(), Value::Array(children));
                    }
                    put_scripts(&mut out, resource);
                    put_full(&mut out, "authentication", get("authentication"));
                    put_full(&mut out, "environment", get("environment"));
                    if truthy(get("environmentPropertyOrder")) {
                        put(
                            &mut out,
                            "environmentPropertyOrder",
                            get("environmentPropertyOrder"),
                        );
                    }
                    put_full(&mut out, "headers", get("headers"));
                }
                "request" => {
                    put(&mut out, "url", get("url"));
                    put(&mut out, "name", get("name"));
                    out.insert("meta".into(), meta_of(resource));
                    put(&mut out, "method", get("method"));
                    put_body(&mut out, get("body"));
                    put_full(&mut out, "parameters", get("parameters"));
                    put_full(&mut out, "headers", get("headers"));
                    put_full(&mut out, "authentication", get("authentication"));
                    put_scripts(&mut out, resource);
                    let mut settings = Map::new();
                    if let Some(off) =
                        get("settingDisableRenderRequestBody").and_then(Value::as_bool)
                    {
                        settings.insert("renderRequestBody".into(), json!(!off));
                    }
                    put(&mut settings, "encodeUrl", get("settingEncodeUrl"));
                    put(
                        &mut settings,
                        "followRedirects",
                        get("settingFollowRedirects"),
                    );
                    settings.insert("cookies".into(), cookies_of(resource));
                    put(&mut settings, "rebuildPath", get("settingRebuildPath"));
                    out.insert("settings".into(), Value::Object(settings));
                    put_full(&mut out, "pathParameters", get("pathParameters"));
                }
                "grpc_request" => {
                    put(&mut out, "url", get("url"));
                    put(&mut out, "name", get("name"));
                    out.insert("meta".into(), meta_of(resource));
                    put_full(&mut out, "body", get("body"));
                    put_full(&mut out, "metadata", get("metadata"));
                    put(
                        &mut out,
                        "protoFileId",
                        get("protoFileId").filter(|p| truthy(Some(p))),
                    );
                    put(&mut out, "protoMethodName", get("protoMethodName"));
                    out.insert(
                        "reflectionApi".into(),
                        get("reflectionApi")
                            .filter(|r| r.is_object())
                            .cloned()
                            .unwrap_or_else(|| json!({})),
                    );
                }
                kind => {
                    // WebSocket and Socket.IO requests.
                    put(&mut out, "url", get("url"));
                    put(&mut out, "name", get("name"));
                    out.insert("meta".into(), meta_of(resource));
                    let mut settings = Map::new();
                    put(&mut settings, "encodeUrl", get("settingEncodeUrl"));
                    if kind == "websocket_request" {
                        put(
                            &mut settings,
                            "followRedirects",
                            get("settingFollowRedirects"),
                        );
                    } else {
                        put(&mut settings, "path", get("settingPath"));
                    }
                    settings.insert("cookies".into(), cookies_of(resource));
                    out.insert("settings".into(), Value::Object(settings));
                    put_full(&mut out, "authentication", get("authentication"));
                    put_full(&mut out, "headers", get("headers"));
                    put_full(&mut out, "parameters", get("parameters"));
                    put_full(&mut out, "pathParameters", get("pathParameters"));
                    if kind == "socketio_request" {
                        put_full(&mut out, "eventListeners", get("eventListeners"));
                    }
                }
            }
            Value::Object(out)
        })
        .collect()
}

fn cookies_of(resource: &Value) -> Value {
    let mut cookies = Map::new();
    put(&mut cookies, "send", resource.get("settingSendCookies"));
    put(&mut cookies, "store", resource.get("settingStoreCookies"));
    Value::Object(cookies)
}

fn put_scripts(out: &mut Map<String, Value>, resource: &Value) {
    let mut scripts = Map::new();
    for (from, to) in [
        ("preRequestScript", "preRequest"),
        ("afterResponseScript", "afterResponse"),
    ] {
        if truthy(resource.get(from)) {
            put(&mut scripts, to, resource.get(from));
        }
    }
    if !scripts.is_empty() {
        out.insert("scripts".into(), Value::Object(scripts));
    }
}

/// A request body: only the members it has (a null MIME type too, which the importer keeps).
fn put_body(out: &mut Map<String, Value>, body: Option<&Value>) {
    let Some(Value::Object(members)) = body else {
        return;
    };
    if !members.is_empty() {
        out.insert("body".into(), Value::Object(members.clone()));
    }
}

/// The file's text: the top-level members in the app's order (`type` first), each written by
/// the YAML writer; the spec's contents keep the key order of the document's own text.
fn render_top(
    top: &[(&str, Value)],
    spec_contents: Option<serde_norway::Value>,
) -> Result<String, ExportError> {
    let mut text = String::new();
    let mut spec_contents = spec_contents;
    for (key, value) in top {
        let mut member = serde_norway::Mapping::new();
        let mut value =
            serde_norway::to_value(value).map_err(|err| error(format!("{key}: {err}")))?;
        if *key == "spec"
            && let Some(contents) = spec_contents.take()
            && let serde_norway::Value::Mapping(spec) = &mut value
        {
            let mut ordered = serde_norway::Mapping::new();
            ordered.insert("contents".into(), contents);
            for (k, v) in std::mem::take(spec) {
                ordered.insert(k, v);
            }
            *spec = ordered;
        }
        member.insert(serde_norway::Value::String((*key).to_owned()), value);
        text.push_str(
            &serde_norway::to_string(&member).map_err(|err| error(format!("{key}: {err}")))?,
        );
    }
    Ok(text)
}

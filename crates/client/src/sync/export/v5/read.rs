//! Reading a v5 file: its header, its environments, its API spec, test suites and mock server
//! into the flat resources of the v4 export (the collection's items: [`super::collection`]).

use serde_json::{Map, Value, json};

use super::{
    ExportError, KINDS, MAPPED, SCHEMA_VERSIONS, any_bool, any_string, collection::read_collection,
    copy_if, error, get, or, or_absent, truthy,
};

/// Reads a v5 file, given its text and its parsed value: its header (the `type`, the
/// `schema_version` and the members not mapped) and its resources, workspace first.
pub fn read(text: &str, mut value: Value) -> Result<(Map<String, Value>, Vec<Value>), ExportError> {
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(&(_, scope)) = KINDS.iter().find(|(name, _)| *name == kind) else {
        return Err(error(format!(
            "an Insomnia file of type {kind}, which hypnos does not read (it reads the v5 files \
             of types {})",
            KINDS.map(|(name, _)| name).join(", ")
        )));
    };
    let version = match value.get("schema_version") {
        None | Some(Value::Null) => "5.0".to_owned(),
        Some(Value::String(version)) => version.clone(),
        Some(other) => {
            return Err(error(format!(
                "an Insomnia v5 file whose schema_version is {other}, not a quoted version \
                 such as \"5.1\""
            )));
        }
    };
    if !SCHEMA_VERSIONS.contains(&version.as_str()) {
        return Err(error(format!(
            "an Insomnia v5 file of schema version {version}, which hypnos does not know (it \
             reads {}): a newer app wrote it",
            SCHEMA_VERSIONS.join(", ")
        )));
    }
    if version == "5.0" {
        // The app migrates a 5.0 file to 5.1 before reading it.
        value = without_scoped_ids(value);
    }
    let Value::Object(top) = &value else {
        return Err(error("an Insomnia v5 file is a map at the top"));
    };
    let file = &value;
    let mut resources = Vec::new();

    let mut workspace = meta_base(get(file, "meta"), "the file's workspace (top-level meta)")?;
    let workspace_id = id_of_map(&workspace);
    workspace.insert("_type".into(), json!("workspace"));
    workspace.insert(
        "name".into(),
        or(get(file, "name"), json!("Imported Collection")),
    );
    workspace.insert("parentId".into(), Value::Null);
    workspace.insert("scope".into(), json!(scope));
    resources.push(Value::Object(workspace));

    if let Some(environments) = get(file, "environments").filter(|e| truthy(Some(e))) {
        read_environments(environments, &workspace_id, &mut resources)?;
    }
    if let Some(jar) = get(file, "cookieJar").filter(|j| truthy(Some(j))) {
        let mut cookie_jar = meta_base(get(jar, "meta"), "cookieJar")?;
        cookie_jar.insert("_type".into(), json!("cookie_jar"));
        cookie_jar.insert(
            "name".into(),
            or(get(jar, "name"), json!("Imported Cookie Jar")),
        );
        cookie_jar.insert("parentId".into(), json!(workspace_id));
        // Cookies are not synced: kept as the file has them.
        cookie_jar.insert("cookies".into(), or(get(jar, "cookies"), json!([])));
        resources.push(Value::Object(cookie_jar));
    }
    match get(file, "collection") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            read_collection(items, &workspace_id, "collection", 0, &mut resources)?;
        }
        Some(_) => return Err(error("`collection` is not a list")),
    }
    if let Some(spec) = get(file, "spec").filter(|s| truthy(Some(s))) {
        let contents = spec_contents(text)?;
        let mut api_spec = meta_base(get(spec, "meta"), "spec")?;
        api_spec.insert("_type".into(), json!("api_spec"));
        api_spec.insert("name".into(), or(get(file, "name"), json!("Api Spec")));
        api_spec.insert(
            "fileName".into(),
            get(spec, "file").cloned().unwrap_or_else(|| json!("")),
        );
        // The app's importer says JSON although it writes the contents as YAML.
        api_spec.insert("contentType".into(), json!("json"));
        api_spec.insert("contents".into(), json!(contents));
        api_spec.insert("parentId".into(), json!(workspace_id));
        resources.push(Value::Object(api_spec));
    }
    if let Some(suites) = get(file, "testSuites") {
        read_test_suites(suites, &workspace_id, &mut resources)?;
    }
    read_mock(file, &workspace_id, &mut resources)?;

    let header = top
        .iter()
        .filter(|(key, _)| {
            !MAPPED.contains(&key.as_str()) || matches!(key.as_str(), "type" | "schema_version")
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Ok((header, resources))
}

pub(super) fn id_of_map(map: &Map<String, Value>) -> String {
    map["_id"].as_str().unwrap_or_default().to_owned()
}

/// The members every document takes from its `meta`, with the importer's defaults. A missing
/// `created` or `modified` stays missing (the app would stamp the time of the import, which no
/// two pushes would agree on).
pub(super) fn meta_base(
    meta: Option<&Value>,
    what: &str,
) -> Result<Map<String, Value>, ExportError> {
    let id = meta
        .and_then(|meta| meta.get("id"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            error(format!(
                "{what} has no meta.id: hypnos syncs documents by the ids the file gives them \
                 (export the file again from the app, which writes them)"
            ))
        })?;
    let meta = meta.unwrap_or(&Value::Null);
    let mut base = Map::new();
    base.insert("_id".into(), json!(id));
    for key in ["created", "modified"] {
        if let Some(stamp) = meta.get(key).filter(|s| s.is_number() && truthy(Some(s))) {
            base.insert(key.into(), stamp.clone());
        }
    }
    base.insert("isPrivate".into(), or(meta.get("isPrivate"), json!(false)));
    base.insert("description".into(), or(meta.get("description"), json!("")));
    base.insert("metaSortKey".into(), or(meta.get("sortKey"), json!(0)));
    Ok(base)
}

fn read_environments(
    environments: &Value,
    workspace_id: &str,
    resources: &mut Vec<Value>,
) -> Result<(), ExportError> {
    let environment = |source: &Value,
                       what: &str,
                       parent: &str,
                       default_name: Value|
     -> Result<Map<String, Value>, ExportError> {
        let mut document = meta_base(get(source, "meta"), what)?;
        document.insert("_type".into(), json!("environment"));
        document.insert("parentId".into(), json!(parent));
        document.insert("color".into(), or(get(source, "color"), Value::Null));
        document.insert("data".into(), or(get(source, "data"), json!({})));
        if let Some(order) = get(source, "dataPropertyOrder").filter(|o| truthy(Some(o))) {
            document.insert("dataPropertyOrder".into(), order.clone());
        }
        document.insert("name".into(), or(get(source, "name"), default_name));
        Ok(document)
    };
    let base = environment(
        environments,
        "environments (the base environment)",
        workspace_id,
        json!("Base Environment"),
    )?;
    let base_id = id_of_map(&base);
    resources.push(Value::Object(base));
    match get(environments, "subEnvironments") {
        None | Some(Value::Null) => {}
        Some(Value::Array(subs)) => {
            for (index, sub) in subs.iter().enumerate() {
                let document = environment(
                    sub,
                    &format!("environments.subEnvironments[{index}]"),
                    &base_id,
                    json!(format!("Environment {index}")),
                )?;
                resources.push(Value::Object(document));
            }
        }
        Some(_) => return Err(error("`environments.subEnvironments` is not a list")),
    }
    Ok(())
}

/// The API spec's contents as the app's importer stores them: the `contents` tree written as
/// YAML text, keys in the file's order (empty when there are none).
fn spec_contents(text: &str) -> Result<String, ExportError> {
    let ordered: serde_norway::Value =
        serde_norway::from_str(text).map_err(|err| error(format!("not valid YAML: {err}")))?;
    let contents = ordered.get("spec").and_then(|spec| spec.get("contents"));
    let empty = match contents {
        None | Some(serde_norway::Value::Null) => true,
        Some(serde_norway::Value::String(s)) => s.is_empty(),
        Some(serde_norway::Value::Bool(b)) => !b,
        _ => false,
    };
    if empty {
        return Ok(String::new());
    }
    serde_norway::to_string(&contents).map_err(|err| error(format!("spec.contents: {err}")))
}

fn read_test_suites(
    suites: &Value,
    workspace_id: &str,
    resources: &mut Vec<Value>,
) -> Result<(), ExportError> {
    let suites = match suites {
        Value::Null => return Ok(()),
        Value::Array(suites) => suites,
        _ => return Err(error("`testSuites` is not a list")),
    };
    for (index, suite) in suites.iter().enumerate() {
        let at = format!("testSuites[{index}]");
        let mut document = meta_base(get(suite, "meta"), &at)?;
        document.insert("_type".into(), json!("unit_test_suite"));
        document.insert(
            "name".into(),
            or(get(suite, "name"), json!("Imported Test Suite")),
        );
        document.insert("parentId".into(), json!(workspace_id));
        document.insert(
            "metaSortKey".into(),
            or_absent(
                suite.get("meta").and_then(|m| m.get("sortKey")),
                json!(index),
            ),
        );
        let suite_id = id_of_map(&document);
        resources.push(Value::Object(document));
        let tests = match get(suite, "tests") {
            None | Some(Value::Null) => continue,
            Some(Value::Array(tests)) => tests,
            Some(_) => return Err(error(format!("{at}.tests is not a list"))),
        };
        for (index, test) in tests.iter().enumerate() {
            let mut document = meta_base(get(test, "meta"), &format!("{at}.tests[{index}]"))?;
            document.insert("_type".into(), json!("unit_test"));
            document.insert("name".into(), or(get(test, "name"), json!("Imported Test")));
            document.insert("parentId".into(), json!(suite_id));
            document.insert(
                "requestId".into(),
                or_absent(get(test, "requestId"), Value::Null),
            );
            document.insert("code".into(), or_absent(get(test, "code"), json!("")));
            document.insert(
                "metaSortKey".into(),
                or_absent(
                    test.get("meta").and_then(|m| m.get("sortKey")),
                    json!(index),
                ),
            );
            resources.push(Value::Object(document));
        }
    }
    Ok(())
}

fn read_mock(
    file: &Value,
    workspace_id: &str,
    resources: &mut Vec<Value>,
) -> Result<(), ExportError> {
    let server = get(file, "server").filter(|s| truthy(Some(s)));
    let routes = match get(file, "routes") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(routes)) => routes.as_slice(),
        Some(_) => return Err(error("`routes` is not a list")),
    };
    let Some(server) = server else {
        if routes.is_empty() {
            return Ok(());
        }
        return Err(error(
            "mock routes without a `server` (with its meta.id) to hold them: the v5 files of \
             early Insomnia 11 put the server's url at the top; export the file again from a \
             newer app",
        ));
    };
    let mut mock = meta_base(get(server, "meta"), "server")?;
    mock.insert("_type".into(), json!("mock"));
    mock.insert(
        "name".into(),
        or(get(file, "name"), json!("Imported Mock Server")),
    );
    mock.insert("parentId".into(), json!(workspace_id));
    mock.insert("url".into(), or(get(server, "url"), json!("")));
    mock.insert(
        "useInsomniaCloud".into(),
        json!(
            server
                .get("useInsomniaCloud")
                .and_then(Value::as_bool)
                .unwrap_or(true)
        ),
    );
    let server_id = id_of_map(&mock);
    resources.push(Value::Object(mock));
    for (index, route) in routes.iter().enumerate() {
        let mut document = meta_base(get(route, "meta"), &format!("routes[{index}]"))?;
        document.insert("_type".into(), json!("mock_route"));
        document.insert(
            "name".into(),
            or(get(route, "name"), json!("Imported Mock Route")),
        );
        document.insert("parentId".into(), json!(server_id));
        document.insert("body".into(), or(get(route, "body"), json!("")));
        let headers = match get(route, "headers") {
            Some(Value::Array(list)) => list
                .iter()
                .map(|header| {
                    let mut pair = Map::new();
                    pair.insert("name".into(), or(header.get("name"), json!("")));
                    pair.insert("value".into(), or(header.get("value"), json!("")));
                    copy_if(&mut pair, header, "description", any_string);
                    copy_if(&mut pair, header, "disabled", any_bool);
                    Value::Object(pair)
                })
                .collect(),
            _ => Vec::new(),
        };
        document.insert("headers".into(), Value::Array(headers));
        document.insert("method".into(), or(get(route, "method"), json!("")));
        document.insert("mimeType".into(), or(get(route, "mimeType"), json!("")));
        document.insert(
            "statusCode".into(),
            or_absent(get(route, "statusCode"), json!(200)),
        );
        document.insert("statusText".into(), or(get(route, "statusText"), json!("")));
        resources.push(Value::Object(document));
    }
    Ok(())
}

/// The app's migration of a 5.0 file to 5.1: in every `headers`, `parameters` and `params`
/// list, entries lose their `id` and those with neither name nor value go; in every `cookies`
/// list, cookies lose `creation` and `lastAccessed` and those with neither key nor value go;
/// a list left empty goes.
fn without_scoped_ids(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(without_scoped_ids).collect()),
        Value::Object(members) => {
            let mut cleaned = Map::new();
            for (key, value) in members {
                let (dropped, needs): (&[&str], [&str; 2]) = match key.as_str() {
                    "headers" | "parameters" | "params" => (&["id"], ["name", "value"]),
                    "cookies" => (&["creation", "lastAccessed"], ["key", "value"]),
                    _ => {
                        cleaned.insert(key, without_scoped_ids(value));
                        continue;
                    }
                };
                let Value::Array(entries) = value else {
                    cleaned.insert(key, without_scoped_ids(value));
                    continue;
                };
                let kept: Vec<Value> = entries
                    .into_iter()
                    .filter(|entry| {
                        entry.is_object() && needs.iter().any(|n| truthy(entry.get(*n)))
                    })
                    .map(|mut entry| {
                        if let Value::Object(fields) = &mut entry {
                            for field in dropped {
                                fields.remove(*field);
                            }
                        }
                        without_scoped_ids(entry)
                    })
                    .collect();
                if !kept.is_empty() {
                    cleaned.insert(key, Value::Array(kept));
                }
            }
            Value::Object(cleaned)
        }
        other => other,
    }
}

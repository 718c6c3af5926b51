//! The "Insomnia v5" file of Insomnia 11 and later (`type: collection.insomnia.rest/5.0`, also
//! `spec.`, `environment.`, `mock.insomnia.rest/5.0` and `mcpClient.insomnia/5.0`): one workspace
//! as a nested YAML tree (`collection` of folders with `children`, `environments` as a base with
//! `subEnvironments`, `meta: {id, created, modified, isPrivate, description, sortKey}` on each).
//!
//! Reading turns the tree into the flat resources of the v4 export (`_id`, `_type`, `parentId`),
//! field for field as the app's v5 importer builds its documents, so every other part of sync
//! works on it unchanged. Writing turns the resources back into the tree as the app's v5 exporter
//! lays it out, with every field the importer reads back (the exporter leaves out a few the
//! importer would read: the sort key of a workspace and of a base environment, an environment's
//! description and property order, a request body's null MIME type), so a file hypnos writes
//! reads back into the same documents.
//!
//! What v5 cannot say is not invented: a document the tree has no place for (a proto file, a
//! WebSocket payload, a second base environment) stops the writing with that reason rather than
//! being dropped, since a push of the file would then delete it for the whole team.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::ExportError;

/// The schema version written: that of the files of Insomnia 11.5 to 13 (the app writes it
/// quoted, `schema_version: "5.1"`). A 5.2 app reads it and adds its item tags itself.
pub const WRITTEN_SCHEMA_VERSION: &str = "5.1";

/// The schema versions read. 5.0 files carry no `schema_version`; 5.1 dropped the `id` of
/// headers, parameters and cookies; 5.2 tags each collection item with its `type`.
const SCHEMA_VERSIONS: [&str; 3] = ["5.0", "5.1", "5.2"];

/// How deep folders may nest (the YAML reader stops at 128 levels, two a folder).
const MAX_FOLDER_DEPTH: usize = 100;

/// The kinds of v5 file: the file's `type`, and the workspace scope it holds.
const KINDS: [(&str, &str); 5] = [
    ("collection.insomnia.rest/5.0", "collection"),
    ("spec.insomnia.rest/5.0", "design"),
    ("environment.insomnia.rest/5.0", "environment"),
    ("mock.insomnia.rest/5.0", "mock-server"),
    ("mcpClient.insomnia/5.0", "mcp"),
];

/// The top-level members this module maps; any other is kept as it is and written back after
/// them. (`mcpRequest` is kept so: sync does not carry MCP requests.)
const MAPPED: [&str; 11] = [
    "type",
    "schema_version",
    "name",
    "meta",
    "collection",
    "cookieJar",
    "environments",
    "spec",
    "testSuites",
    "server",
    "routes",
];

/// Whether a file's top-level `type` names an Insomnia v5 file (of any kind or version, to
/// be refused by [`read`] with the reason when it is not one hypnos reads).
pub fn is_v5_type(kind: &str) -> bool {
    kind.contains(".insomnia.rest/") || kind.starts_with("mcpClient.insomnia/")
}

/// The header of a new v5 file.
pub fn new_header() -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("type".into(), json!(KINDS[0].0));
    header.insert("schema_version".into(), json!(WRITTEN_SCHEMA_VERSION));
    header
}

fn error(message: impl Into<String>) -> ExportError {
    ExportError(message.into())
}

/// JavaScript's truthiness, which the app's importer uses for its defaults (`x || default`).
fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// `value || default`.
fn or(value: Option<&Value>, default: Value) -> Value {
    if truthy(value) {
        value.cloned().unwrap_or(default)
    } else {
        default
    }
}

/// `value ?? default`.
fn or_absent(value: Option<&Value>, default: Value) -> Value {
    match value {
        None | Some(Value::Null) => default,
        Some(value) => value.clone(),
    }
}

fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key)
}

/// Copies `key` from `from` to `to` when it has the type the app's schema gives it.
fn copy_if(to: &mut Map<String, Value>, from: &Value, key: &str, accept: fn(&Value) -> bool) {
    if let Some(value) = from.get(key).filter(|value| accept(value)) {
        to.insert(key.into(), value.clone());
    }
}

fn any_string(value: &Value) -> bool {
    value.is_string()
}

fn any_bool(value: &Value) -> bool {
    value.is_boolean()
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

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

fn id_of_map(map: &Map<String, Value>) -> String {
    map["_id"].as_str().unwrap_or_default().to_owned()
}

/// The members every document takes from its `meta`, with the importer's defaults. A missing
/// `created` or `modified` stays missing (the app would stamp the time of the import, which no
/// two pushes would agree on).
fn meta_base(meta: Option<&Value>, what: &str) -> Result<Map<String, Value>, ExportError> {
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

/// The kinds of collection item.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Item {
    Folder,
    Request,
    Grpc,
    WebSocket,
    SocketIo,
}

/// An item's kind: its `type` tag (schema 5.2), else as the app infers it for older files: the
/// id's prefix first, then the members only one kind has.
fn item_kind(item: &Value) -> Item {
    match item.get("type").and_then(Value::as_str) {
        Some("RequestGroup") => return Item::Folder,
        Some("Request") => return Item::Request,
        Some("GrpcRequest") => return Item::Grpc,
        Some("WebSocketRequest") => return Item::WebSocket,
        Some("SocketIORequest") => return Item::SocketIo,
        _ => {}
    }
    let id = item
        .get("meta")
        .and_then(|meta| meta.get("id"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    for (prefix, kind) in [
        ("greq", Item::Grpc),
        ("fld", Item::Folder),
        ("socketio-req", Item::SocketIo),
        ("ws-req", Item::WebSocket),
        ("req", Item::Request),
    ] {
        if id.starts_with(prefix) {
            return kind;
        }
    }
    let has = |key: &str| item.get(key).is_some();
    if has("protoFileId") || has("metadata") || has("reflectionApi") {
        Item::Grpc
    } else if truthy(item.get("method")) {
        Item::Request
    } else if has("eventListeners") {
        Item::SocketIo
    } else if has("children") {
        Item::Folder
    } else if let Some(settings) = item.get("settings").filter(|s| s.is_object()) {
        if settings.get("followRedirects").is_some() {
            Item::WebSocket
        } else {
            Item::SocketIo
        }
    } else {
        Item::Request
    }
}

fn read_collection(
    items: &[Value],
    parent: &str,
    path: &str,
    depth: usize,
    resources: &mut Vec<Value>,
) -> Result<(), ExportError> {
    if depth > MAX_FOLDER_DEPTH {
        return Err(error(format!(
            "{path}: folders nested more than {MAX_FOLDER_DEPTH} deep"
        )));
    }
    for (index, item) in items.iter().enumerate() {
        let at = format!("{path}[{index}]");
        if !item.is_object() {
            return Err(error(format!("{at} is not a map")));
        }
        let kind = item_kind(item);
        let mut document = meta_base(get(item, "meta"), &at)?;
        document.insert("parentId".into(), json!(parent));
        let sort_key = or_absent(item.get("meta").and_then(|m| m.get("sortKey")), json!(0));
        match kind {
            Item::Folder => {
                document.insert("_type".into(), json!("request_group"));
                document.insert(
                    "name".into(),
                    or(get(item, "name"), json!("Imported Folder")),
                );
                document.insert("headers".into(), headers(get(item, "headers")));
                scripts(&mut document, item);
                document.insert(
                    "authentication".into(),
                    or(get(item, "authentication"), json!({})),
                );
                document.insert(
                    "environment".into(),
                    or(get(item, "environment"), json!({})),
                );
                if let Some(order) =
                    get(item, "environmentPropertyOrder").filter(|o| truthy(Some(o)))
                {
                    document.insert("environmentPropertyOrder".into(), order.clone());
                }
                let id = id_of_map(&document);
                resources.push(Value::Object(document));
                match get(item, "children") {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(children)) => read_collection(
                        children,
                        &id,
                        &format!("{at}.children"),
                        depth + 1,
                        resources,
                    )?,
                    Some(_) => return Err(error(format!("{at}.children is not a list"))),
                }
                continue;
            }
            Item::Request => {
                let method = get(item, "method")
                    .filter(|m| m.is_string())
                    .ok_or_else(|| error(format!("{at}: a request without a `method`")))?;
                document.insert("_type".into(), json!("request"));
                document.insert(
                    "name".into(),
                    or(get(item, "name"), json!("Imported Request")),
                );
                document.insert("url".into(), url(item));
                document.insert("method".into(), method.clone());
                document.insert("body".into(), body(get(item, "body")));
                document.insert("parameters".into(), parameters(get(item, "parameters")));
                document.insert("headers".into(), headers(get(item, "headers")));
                document.insert(
                    "authentication".into(),
                    or(get(item, "authentication"), json!({})),
                );
                scripts(&mut document, item);
                let settings = Settings::of(item, true);
                document.insert(
                    "settingDisableRenderRequestBody".into(),
                    json!(!settings.render_body),
                );
                document.insert("settingEncodeUrl".into(), json!(settings.encode_url));
                document.insert("settingFollowRedirects".into(), settings.follow_redirects);
                document.insert("settingSendCookies".into(), json!(settings.send_cookies));
                document.insert("settingStoreCookies".into(), json!(settings.store_cookies));
                document.insert("settingRebuildPath".into(), json!(settings.rebuild_path));
                document.insert(
                    "pathParameters".into(),
                    path_parameters(get(item, "pathParameters")),
                );
                document.insert("metaSortKey".into(), sort_key);
                document.insert("disableUserAgentHeader".into(), json!(false));
            }
            Item::Grpc => {
                document.insert("_type".into(), json!("grpc_request"));
                document.insert(
                    "name".into(),
                    or(get(item, "name"), json!("Imported gRPC Request")),
                );
                document.insert("url".into(), url(item));
                copy_if(&mut document, item, "protoMethodName", any_string);
                document.insert("metadata".into(), headers(get(item, "metadata")));
                let mut grpc_body = Map::new();
                if let Some(body) = get(item, "body") {
                    copy_if(&mut grpc_body, body, "text", any_string);
                }
                document.insert("body".into(), Value::Object(grpc_body));
                document.insert("metaSortKey".into(), sort_key);
                let reflection = get(item, "reflectionApi").unwrap_or(&Value::Null);
                let text = |key: &str| or(reflection.get(key).filter(|v| v.is_string()), json!(""));
                document.insert(
                    "reflectionApi".into(),
                    json!({
                        "enabled": reflection.get("enabled").and_then(Value::as_bool).unwrap_or(false),
                        "url": text("url"),
                        "apiKey": text("apiKey"),
                        "module": text("module"),
                    }),
                );
                document.insert(
                    "protoFileId".into(),
                    or(get(item, "protoFileId"), json!("")),
                );
                document.insert("disableUserAgentHeader".into(), json!(false));
            }
            Item::WebSocket | Item::SocketIo => {
                let websocket = kind == Item::WebSocket;
                let (export_type, default_name) = if websocket {
                    ("websocket_request", "Imported WebSocket Request")
                } else {
                    ("socketio_request", "Imported Socket.IO Request")
                };
                document.insert("_type".into(), json!(export_type));
                document.insert("name".into(), or(get(item, "name"), json!(default_name)));
                document.insert("url".into(), url(item));
                document.insert(
                    "authentication".into(),
                    or(get(item, "authentication"), json!({})),
                );
                document.insert("metaSortKey".into(), sort_key);
                document.insert("headers".into(), headers(get(item, "headers")));
                document.insert("parameters".into(), parameters(get(item, "parameters")));
                let settings = Settings::of(item, false);
                document.insert("settingEncodeUrl".into(), json!(settings.encode_url));
                document.insert("settingSendCookies".into(), json!(settings.send_cookies));
                document.insert("settingStoreCookies".into(), json!(settings.store_cookies));
                if websocket {
                    document.insert("settingFollowRedirects".into(), settings.follow_redirects);
                    document.insert(
                        "pathParameters".into(),
                        path_parameters(get(item, "pathParameters")),
                    );
                } else {
                    if let Some(path) = settings.path {
                        document.insert("settingPath".into(), path);
                    }
                    document.insert(
                        "pathParameters".into(),
                        parameters(get(item, "pathParameters")),
                    );
                    document.insert(
                        "eventListeners".into(),
                        event_listeners(get(item, "eventListeners")),
                    );
                }
                document.insert("disableUserAgentHeader".into(), json!(false));
            }
        }
        resources.push(Value::Object(document));
    }
    Ok(())
}

/// A request's `url` (the schema's default: empty).
fn url(item: &Value) -> Value {
    item.get("url")
        .filter(|url| url.is_string())
        .cloned()
        .unwrap_or_else(|| json!(""))
}

fn scripts(document: &mut Map<String, Value>, item: &Value) {
    let scripts = item.get("scripts").unwrap_or(&Value::Null);
    document.insert(
        "preRequestScript".into(),
        or(scripts.get("preRequest"), json!("")),
    );
    document.insert(
        "afterResponseScript".into(),
        or(scripts.get("afterResponse"), json!("")),
    );
}

/// A request's settings, with the schema's defaults (all on, redirects as the app's setting).
struct Settings {
    render_body: bool,
    encode_url: bool,
    follow_redirects: Value,
    send_cookies: bool,
    store_cookies: bool,
    rebuild_path: bool,
    path: Option<Value>,
}

impl Settings {
    /// `http`: an HTTP request's settings, whose cookie flags default to off when `cookies`
    /// is given without them (a WebSocket's default to on).
    fn of(item: &Value, http: bool) -> Self {
        let Some(settings) = item.get("settings").filter(|s| s.is_object()) else {
            return Self {
                render_body: true,
                encode_url: true,
                follow_redirects: json!("global"),
                send_cookies: true,
                store_cookies: true,
                rebuild_path: true,
                path: None,
            };
        };
        let flag = |value: Option<&Value>, default: bool| {
            value.and_then(Value::as_bool).unwrap_or(default)
        };
        let cookies = settings.get("cookies").unwrap_or(&Value::Null);
        Self {
            render_body: flag(settings.get("renderRequestBody"), true),
            encode_url: flag(settings.get("encodeUrl"), true),
            follow_redirects: settings
                .get("followRedirects")
                .filter(|f| f.is_string())
                .cloned()
                .unwrap_or_else(|| json!("global")),
            send_cookies: flag(cookies.get("send"), !http),
            store_cookies: flag(cookies.get("store"), !http),
            rebuild_path: flag(settings.get("rebuildPath"), true),
            path: settings.get("path").filter(|p| p.is_string()).cloned(),
        }
    }
}

/// Headers as the importer keeps them: name and value (empty when missing), description and
/// disabled when given; entries with neither name nor value are dropped.
fn headers(list: Option<&Value>) -> Value {
    pairs(list, &["description", "disabled"])
}

/// Query parameters: as headers, with `type` and `multiline` too.
fn parameters(list: Option<&Value>) -> Value {
    pairs(list, &["description", "disabled", "type", "multiline"])
}

fn pairs(list: Option<&Value>, optional: &[&str]) -> Value {
    let Some(Value::Array(list)) = list else {
        return json!([]);
    };
    Value::Array(
        list.iter()
            .filter_map(|entry| {
                let mut pair = Map::new();
                pair.insert("name".into(), or(entry.get("name"), json!("")));
                pair.insert("value".into(), or(entry.get("value"), json!("")));
                if !truthy(pair.get("name")) && !truthy(pair.get("value")) {
                    return None;
                }
                for key in optional {
                    if let Some(value) = entry.get(*key).filter(|v| !v.is_null()) {
                        pair.insert((*key).into(), value.clone());
                    }
                }
                Some(Value::Object(pair))
            })
            .collect(),
    )
}

/// Path parameters: name and value only (the schema keeps no more).
fn path_parameters(list: Option<&Value>) -> Value {
    let Some(Value::Array(list)) = list else {
        return json!([]);
    };
    Value::Array(
        list.iter()
            .map(|entry| {
                let text = |key: &str| {
                    entry
                        .get(key)
                        .filter(|v| v.is_string())
                        .cloned()
                        .unwrap_or_else(|| json!(""))
                };
                json!({"name": text("name"), "value": text("value")})
            })
            .collect(),
    )
}

/// A request body: its MIME type (null kept), text, file name and form parameters.
fn body(body: Option<&Value>) -> Value {
    let mut out = Map::new();
    let Some(body) = body.filter(|b| b.is_object()) else {
        return Value::Object(out);
    };
    if let Some(mime) = body
        .get("mimeType")
        .filter(|m| m.is_string() || m.is_null())
    {
        out.insert("mimeType".into(), mime.clone());
    }
    copy_if(&mut out, body, "text", any_string);
    copy_if(&mut out, body, "fileName", any_string);
    if let Some(Value::Array(params)) = body.get("params") {
        let params = params
            .iter()
            .map(|param| {
                let mut out = Map::new();
                out.insert(
                    "name".into(),
                    param
                        .get("name")
                        .filter(|n| n.is_string())
                        .cloned()
                        .unwrap_or_else(|| json!("")),
                );
                for key in ["value", "description", "fileName", "type"] {
                    copy_if(&mut out, param, key, any_string);
                }
                copy_if(&mut out, param, "disabled", any_bool);
                copy_if(&mut out, param, "multiline", |v| {
                    v.is_boolean() || v.is_string()
                });
                Value::Object(out)
            })
            .collect();
        out.insert("params".into(), Value::Array(params));
    }
    Value::Object(out)
}

fn event_listeners(list: Option<&Value>) -> Value {
    let Some(Value::Array(list)) = list else {
        return json!([]);
    };
    Value::Array(
        list.iter()
            .map(|listener| {
                json!({
                    "id": listener.get("id").cloned().unwrap_or(Value::Null),
                    "eventName": listener.get("eventName").filter(|v| v.is_string()).cloned().unwrap_or_else(|| json!("")),
                    "desc": listener.get("desc").filter(|v| v.is_string()).cloned().unwrap_or_else(|| json!("")),
                    "isOpen": listener.get("isOpen").and_then(Value::as_bool).unwrap_or(false),
                })
            })
            .collect(),
    )
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

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

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

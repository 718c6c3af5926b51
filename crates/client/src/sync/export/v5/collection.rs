//! Reading a v5 file's `collection`: the tree of folders and requests, and each item's
//! fields, into flat resources as the app's importer builds them.

use serde_json::{Map, Value, json};

use super::{
    ExportError, MAX_FOLDER_DEPTH, any_bool, any_string, copy_if, error, get, or, or_absent,
    read::{id_of_map, meta_base},
    truthy,
};

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

pub(super) fn read_collection(
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

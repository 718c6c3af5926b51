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

use serde_json::{Map, Value, json};

use super::ExportError;

mod collection;
mod read;
mod write;

pub use read::read;
pub use write::write;

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

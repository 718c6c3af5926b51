//! The app's export file ("Insomnia v4": formats 3 and 4, JSON or YAML; insomnia-wire.md §8)
//! and the conversion between its resources and the documents sync stores. The "Insomnia v5"
//! files of Insomnia 11 and later (`type: collection.insomnia.rest/5.0`, one workspace as a
//! nested tree) are read into the same flat resources and written back from them by [`v5`].
//!
//! A resource is the app's document with its `type` member replaced by an `_type` member (a
//! different spelling, [`TYPES`]); nothing else differs, so the conversion is lossless for the
//! synced types. Resources sync does not carry (cookie jars, private documents) stay in the
//! file untouched.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

/// The "Insomnia v5" file (its own module: a different, nested layout).
pub mod v5;

/// The synced document types: the app's `type` and the export's `_type`.
pub const TYPES: &[(&str, &str)] = &[
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

/// How an export file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON, as the app's "Insomnia v4 (JSON)" export.
    Json,
    /// YAML, as the app's "Insomnia v4 (YAML)" export: block style, or the flow style of 2020
    /// (written back in block style, which the app reads alike).
    Yaml,
    /// The "Insomnia v5" YAML file of Insomnia 11 and later: one workspace, nested.
    V5,
}

impl Format {
    /// YAML for a `.yaml` or `.yml` file name, JSON otherwise.
    pub fn from_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|ext| ext.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml") => {
                Self::Yaml
            }
            _ => Self::Json,
        }
    }
}

/// The deepest flow nesting (`[…]`, `{…}`) a YAML export may have before it is parsed. The
/// parser refuses more than 128 levels itself, but only after scanning the whole document, and
/// its scanner takes time quadratic in the flow depth (100,000 nested maps took minutes): this
/// linear pre-scan refuses such files at once. Real exports nest a few levels.
const MAX_YAML_FLOW_DEPTH: usize = 1_000;

/// Whether YAML text opens more than `limit` flow collections (`[`, `{`) at once, not
/// counting those inside quoted scalars or comments. Brackets inside plain or block scalars
/// count too (a conservative reading): balanced ones cancel out, and only text holding more than
/// `limit` unclosed ones is refused.
fn flow_depth_exceeds(text: &str, limit: usize) -> bool {
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    // The previous character that is not a space: quotes open a scalar only where one starts.
    let mut previous = '\n';
    while let Some(c) = chars.next() {
        match c {
            '#' if previous.is_whitespace() || previous == '\n' => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        break;
                    }
                }
                previous = '\n';
                continue;
            }
            '"' | '\'' if matches!(previous, '\n' | ':' | '-' | '[' | '{' | ',' | '?') => {
                while let Some(inner) = chars.next() {
                    if c == '"' && inner == '\\' {
                        chars.next();
                    } else if inner == c {
                        if c == '\'' && chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c == '\n' || !c.is_whitespace() {
            previous = c;
        }
    }
    false
}

/// YAML text as a value, refused at once when it nests flow collections too deep.
fn parse_yaml(text: &str) -> Result<Value, String> {
    if flow_depth_exceeds(text, MAX_YAML_FLOW_DEPTH) {
        return Err(format!(
            "lists or maps nested more than {MAX_YAML_FLOW_DEPTH} levels deep (recursion limit \
             exceeded)"
        ));
    }
    serde_norway::from_str(text).map_err(|err| err.to_string())
}

/// The export formats read: 3 (the app's JSON exports until 2019) and 4 (since then, JSON or
/// YAML). Their resources are alike: the app imports both as they are.
const FORMATS: [u64; 2] = [3, 4];

/// Whether a value is one of the app's v5 files (of any kind or version): its `type`, as
/// `collection.insomnia.rest/5.0`.
fn is_v5(value: &Value) -> bool {
    value
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(v5::is_v5_type)
}

/// Whether a value is one of the app's files (an export of any format, or a v5 file): what a
/// text starting with `{` that is not JSON must be to be taken as YAML.
fn is_export(value: &Value) -> bool {
    value.get("_type") == Some(&json!("export"))
        || value.get("__export_format").is_some()
        || is_v5(value)
}

/// Refuses what is not an export of a format this client reads, saying what it is instead.
fn check_kind(header: &Map<String, Value>) -> Result<(), ExportError> {
    // The app's importers look at `__export_format` alone (`_type` is optional in their
    // types), so a file without `_type` is read too; one with another `_type` is not an export.
    let export_type = header.get("_type").is_none_or(|kind| *kind == "export");
    let format = header.get("__export_format");
    match format.and_then(Value::as_u64) {
        Some(format) if export_type && FORMATS.contains(&format) => Ok(()),
        Some(format) if export_type => Err(ExportError(format!(
            "an Insomnia export of format {format}; hypnos reads formats 3 and 4 and the v5 \
             files (import the file into the app and export it again)"
        ))),
        _ => Err(ExportError(
            "not an Insomnia export (export it from the app with \"Export Data\", Insomnia v4 \
             format)"
                .into(),
        )),
    }
}

/// What is wrong with an export file.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ExportError(pub String);

/// An export file: its top-level members and its resources, in order.
#[derive(Debug, Clone)]
pub struct Export {
    /// The members besides `resources` (`_type`, `__export_format`, dates, source); of a v5
    /// file, its `type`, `schema_version` and the members hypnos does not map.
    pub header: Map<String, Value>,
    /// The resources.
    pub resources: Vec<Value>,
    /// How it was written (and will be written back).
    pub format: Format,
}

/// One workspace of an export and the synced documents under it (the workspace first), as
/// sync stores them (with `type`).
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace's `_id` (`wrk_…`): the backend project's `rootDocumentId`.
    pub id: String,
    /// Its name: the backend project's name.
    pub name: String,
    /// The synced documents, the workspace first.
    pub documents: Vec<Value>,
}

impl Export {
    /// A new, empty export, as this client writes it.
    pub fn new(format: Format) -> Self {
        if format == Format::V5 {
            return Self {
                header: v5::new_header(),
                resources: Vec::new(),
                format,
            };
        }
        let mut header = Map::new();
        header.insert("_type".into(), json!("export"));
        header.insert("__export_format".into(), json!(4));
        header.insert(
            "__export_date".into(),
            json!(humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()),
        );
        header.insert(
            "__export_source".into(),
            json!(concat!("hypnos.cli:v", env!("CARGO_PKG_VERSION"))),
        );
        Self {
            header,
            resources: Vec::new(),
            format,
        }
    }

    /// Reads an export of any format the app has written: format 3 (JSON, 2016 to 2019) and
    /// format 4 (JSON or YAML, 2019 on), whichever syntax the text is in. Text that starts
    /// with `{` is JSON, except the app's YAML of 2020, which wrote flow style
    /// (`{_type: export, __export_format: 4, …}` on one line): text that starts with `{` and is
    /// not JSON is read as YAML, and when neither reads, the error names both attempts. Other
    /// text is YAML (a JSON export starts with `{`).
    pub fn parse(text: &str) -> Result<Self, ExportError> {
        let trimmed = text.trim_start_matches('\u{feff}').trim_start();
        if trimmed.is_empty() {
            return Err(ExportError(
                "the file is empty, not an Insomnia export".into(),
            ));
        }
        let (value, format) = if trimmed.starts_with('{') {
            match serde_json::from_str::<Value>(trimmed) {
                Ok(value) => (value, Format::Json),
                Err(json) => match parse_yaml(trimmed) {
                    // Only an export read as YAML stands in for the JSON error: of a broken
                    // JSON file that YAML happens to read, the JSON error says what is wrong.
                    Ok(value) if is_export(&value) => (value, Format::Yaml),
                    Ok(_) => {
                        return Err(ExportError(format!(
                            "not valid JSON: {json}; read as YAML instead, it is not an Insomnia \
                             export"
                        )));
                    }
                    Err(yaml) => {
                        return Err(ExportError(format!(
                            "neither JSON nor YAML: not valid JSON: {json}; not valid YAML \
                             either: {yaml}"
                        )));
                    }
                },
            }
        } else {
            let value =
                parse_yaml(trimmed).map_err(|err| ExportError(format!("not valid YAML: {err}")))?;
            (value, Format::Yaml)
        };
        if is_v5(&value) {
            let (header, resources) = v5::read(trimmed, value)?;
            return Ok(Self {
                header,
                resources,
                format: Format::V5,
            });
        }
        let Value::Object(mut header) = value else {
            return Err(ExportError("an export is an object at the top".into()));
        };
        check_kind(&header)?;
        let resources = match header.remove("resources") {
            Some(Value::Array(resources)) => resources,
            None => Vec::new(),
            Some(_) => return Err(ExportError("`resources` is not a list".into())),
        };
        for (index, resource) in resources.iter().enumerate() {
            if resource.get("_id").and_then(Value::as_str).is_none() {
                return Err(ExportError(format!("resource {index} has no `_id`")));
            }
        }
        Ok(Self {
            header,
            resources,
            format,
        })
    }

    /// The file's text, in `self.format`. A file read as v5 and written as v4 (or the reverse:
    /// `hypnos pull --format`) gets the other format's header.
    pub fn render(&self) -> Result<String, ExportError> {
        if self.format == Format::V5 {
            return v5::write(&self.header, &self.resources);
        }
        let mut whole = if self.header.contains_key("__export_format") {
            self.header.clone()
        } else {
            Self::new(self.format).header
        };
        whole.insert("resources".into(), Value::Array(self.resources.clone()));
        let whole = Value::Object(whole);
        match self.format {
            Format::Json => {
                serde_json::to_string_pretty(&whole).map_err(|err| ExportError(err.to_string()))
            }
            Format::Yaml | Format::V5 => {
                serde_norway::to_string(&whole).map_err(|err| ExportError(err.to_string()))
            }
        }
    }

    /// The workspaces and their synced documents.
    pub fn workspaces(&self) -> Vec<Workspace> {
        let owners = self.owners();
        let mut workspaces: Vec<Workspace> = self
            .resources
            .iter()
            .filter(|resource| resource["_type"] == "workspace")
            .filter_map(to_document)
            .map(|document| Workspace {
                id: id_of(&document).to_owned(),
                name: document["name"].as_str().unwrap_or_default().to_owned(),
                documents: vec![document],
            })
            .collect();
        for resource in &self.resources {
            if resource["_type"] == "workspace" {
                continue;
            }
            let Some(owner) = owners.get(id_of(resource)) else {
                continue;
            };
            let Some(document) = to_document(resource) else {
                continue;
            };
            if let Some(workspace) = workspaces.iter_mut().find(|w| w.id == *owner) {
                workspace.documents.push(document);
            }
        }
        workspaces
    }

    /// Replaces the synced documents of a workspace (adding the workspace if the file lacks
    /// it): resources that stay keep their place and their text, new ones follow the last
    /// of the workspace's resources, and what sync does not carry is left alone.
    pub fn replace_workspace(&mut self, workspace: &str, documents: &[Value]) {
        let owners = self.owners();
        let mut incoming: HashMap<&str, &Value> = documents
            .iter()
            .map(|document| (id_of(document), document))
            .collect();
        let mut kept = Vec::with_capacity(self.resources.len() + documents.len());
        let mut insert_at = None;
        for resource in self.resources.drain(..) {
            let mine = to_document(&resource)
                .filter(|_| owners.get(id_of(&resource)).map(String::as_str) == Some(workspace));
            let Some(mine) = mine else {
                kept.push(resource);
                continue;
            };
            if let Some(document) = incoming.remove(id_of(&resource)) {
                // A document whose content did not change keeps the file's own text (its
                // `modified` stamp, which sync does not carry).
                let same = super::state::blob_of(&mine).0 == super::state::blob_of(document).0;
                kept.push(if same {
                    resource
                } else {
                    to_resource(document)
                });
            }
            insert_at = Some(kept.len());
        }
        let added: Vec<Value> = documents
            .iter()
            .filter(|document| incoming.contains_key(id_of(document)))
            .map(to_resource)
            .collect();
        let at = insert_at.unwrap_or(kept.len());
        kept.splice(at..at, added);
        self.resources = kept;
    }

    /// Each resource's workspace: the workspace its `parentId` chain reaches.
    fn owners(&self) -> HashMap<String, String> {
        let parents: HashMap<&str, &str> = self
            .resources
            .iter()
            .filter_map(|r| Some((id_of(r), r.get("parentId")?.as_str()?)))
            .collect();
        let workspaces: std::collections::HashSet<&str> = self
            .resources
            .iter()
            .filter(|r| r["_type"] == "workspace")
            .map(id_of)
            .collect();
        let mut owners = HashMap::new();
        for resource in &self.resources {
            let mut at = id_of(resource);
            // The chain is bounded by the number of resources: a cycle owns nothing.
            for _ in 0..=self.resources.len() {
                if workspaces.contains(at) {
                    owners.insert(id_of(resource).to_owned(), at.to_owned());
                    break;
                }
                match parents.get(at) {
                    Some(parent) => at = parent,
                    None => break,
                }
            }
        }
        owners
    }
}

/// A document's `_id`.
pub fn id_of(value: &Value) -> &str {
    value["_id"].as_str().unwrap_or_default()
}

/// The document sync stores for an export resource, if sync carries it (a synced type, not
/// private).
///
/// A `_type` that is not an export name but an app type name (`SocketIORequest`, `McpRequest`:
/// types newer apps sync that no v4 export ever held) is a document this client pulled and wrote
/// under its own type name ([`to_resource`]): it is synced again as it came, so pulling and
/// pushing a project never deletes a teammate's documents of a type this client does not know.
pub fn to_document(resource: &Value) -> Option<Value> {
    let export_type = resource.get("_type")?.as_str()?;
    let app_type = match TYPES.iter().find(|(_, t)| *t == export_type) {
        Some((app_type, _)) => *app_type,
        None if is_app_type_name(export_type) => export_type,
        None => return None,
    };
    if resource.get("isPrivate") == Some(&Value::Bool(true)) {
        return None;
    }
    let mut document = resource.as_object()?.clone();
    document.remove("_type");
    document.insert("type".into(), json!(app_type));
    Some(Value::Object(document))
}

/// Whether `name` is spelled as the app names its models (`SocketIORequest`): an ASCII capital,
/// then letters and digits. Export names are lower-case (`request_group`), and the documents an
/// export holds that sync never carries have export names too (`cookie_jar`).
fn is_app_type_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The export resource for a stored document.
pub fn to_resource(document: &Value) -> Value {
    let mut resource = document.as_object().cloned().unwrap_or_default();
    if let Some(Value::String(app_type)) = resource.remove("type") {
        let export_type = TYPES
            .iter()
            .find(|(t, _)| *t == app_type)
            .map_or(app_type.as_str(), |(_, e)| e);
        resource.insert("_type".into(), json!(export_type));
        if app_type == "Workspace" {
            // The app exports a workspace without its parent (its local project).
            resource.insert("parentId".into(), Value::Null);
        }
    }
    Value::Object(resource)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests may panic")]

    use super::*;

    #[test]
    fn documents_of_types_newer_apps_sync_come_back_as_they_went() {
        let pulled = json!({"_id": "sio_1", "type": "SocketIORequest", "parentId": "wrk_1"});
        let resource = to_resource(&pulled);
        assert_eq!(resource["_type"], "SocketIORequest");
        assert_eq!(to_document(&resource), Some(pulled));
        let private = json!({"_id": "mcp_1", "_type": "McpRequest", "isPrivate": true});
        assert_eq!(to_document(&private), None);
        for never_synced in ["cookie_jar", "client_certificate", "request-group", ""] {
            assert_eq!(
                to_document(&json!({"_id": "x", "_type": never_synced})),
                None
            );
        }
    }

    #[test]
    fn flow_depth_counts_open_collections_outside_quotes_and_comments() {
        assert!(!flow_depth_exceeds("a: [[1], {b: [2]}]", 3));
        assert!(flow_depth_exceeds("a: [[[1]]]", 2));
        // Brackets in quoted scalars and comments do not count; an apostrophe inside a plain
        // scalar opens nothing.
        assert!(!flow_depth_exceeds(
            "a: \"[[[[\"\nb: '{{{{'' [[['\n# [[[[\nc: don't [x]\nd: \"\\\"[[[\"",
            2
        ));
        let deep = format!("resources: {}{}", "[".repeat(5_000), "]".repeat(5_000));
        let started = std::time::Instant::now();
        let refused = Export::parse(&deep).unwrap_err().to_string();
        assert!(refused.contains("recursion limit"), "{refused}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        // Within the pre-scan's bound, the parser's own limit (128) still refuses it.
        let deeper_than_parser = format!(
            "_type: export\n__export_format: 4\nresources: {}{}",
            "[".repeat(200),
            "]".repeat(200)
        );
        let refused = Export::parse(&deeper_than_parser).unwrap_err().to_string();
        assert!(refused.contains("recursion limit"), "{refused}");
    }

    fn sample() -> Export {
        Export::parse(
            &json!({
                "_type": "export", "__export_format": 4, "__export_date": "2026-01-01T00:00:00.000Z",
                "__export_source": "insomnia.desktop.app:v10.3.0",
                "resources": [
                    {"_id": "wrk_1", "_type": "workspace", "parentId": null, "name": "One"},
                    {"_id": "fld_1", "_type": "request_group", "parentId": "wrk_1", "name": "F"},
                    {"_id": "req_1", "_type": "request", "parentId": "fld_1", "name": "R", "modified": 5},
                    {"_id": "req_p", "_type": "request", "parentId": "wrk_1", "name": "P", "isPrivate": true},
                    {"_id": "jar_1", "_type": "cookie_jar", "parentId": "wrk_1", "name": "J"},
                    {"_id": "wrk_2", "_type": "workspace", "parentId": null, "name": "Two"},
                    {"_id": "env_2", "_type": "environment", "parentId": "wrk_2", "name": "E"},
                    {"_id": "req_x", "_type": "request", "parentId": "nowhere", "name": "Orphan"},
                ],
            })
            .to_string(),
        )
        .unwrap()
    }

    #[test]
    fn workspaces_hold_their_synced_descendants_only() {
        let export = sample();
        let workspaces = export.workspaces();
        let ids: Vec<Vec<&str>> = workspaces
            .iter()
            .map(|w| w.documents.iter().map(id_of).collect())
            .collect();
        assert_eq!(
            ids,
            vec![vec!["wrk_1", "fld_1", "req_1"], vec!["wrk_2", "env_2"]]
        );
        assert_eq!(workspaces[0].documents[2]["type"], "Request");
        assert!(workspaces[0].documents[2].get("_type").is_none());
        assert_eq!(workspaces[1].name, "Two");
    }

    #[test]
    fn resources_and_documents_convert_both_ways() {
        let resource = json!({"_id": "ms_1", "_type": "mock", "parentId": "x", "n": 1.5});
        let document = to_document(&resource).unwrap();
        assert_eq!(document["type"], "MockServer");
        assert_eq!(to_resource(&document), resource);
        let workspace =
            to_resource(&json!({"_id": "wrk_1", "type": "Workspace", "parentId": "proj_1"}));
        assert_eq!(
            workspace,
            json!({"_id": "wrk_1", "_type": "workspace", "parentId": null})
        );
        assert!(to_document(&json!({"_id": "jar_1", "_type": "cookie_jar"})).is_none());
    }

    #[test]
    fn replacing_a_workspace_keeps_what_sync_does_not_carry() {
        let mut export = sample();
        let documents = vec![
            json!({"_id": "wrk_1", "type": "Workspace", "parentId": null, "name": "One"}),
            json!({"_id": "req_1", "type": "Request", "parentId": "wrk_1", "name": "R2"}),
            json!({"_id": "req_2", "type": "Request", "parentId": "wrk_1", "name": "New"}),
        ];
        export.replace_workspace("wrk_1", &documents);
        let ids: Vec<&str> = export.resources.iter().map(id_of).collect();
        assert_eq!(
            ids,
            [
                "wrk_1", "req_1", "req_2", "req_p", "jar_1", "wrk_2", "env_2", "req_x"
            ]
        );
        assert_eq!(export.resources[1]["name"], "R2");
        assert_eq!(export.resources[1]["_type"], "request");
        // The unchanged workspace keeps its own text.
        assert_eq!(export.resources[0], sample().resources[0]);
    }

    #[test]
    fn yaml_and_json_read_alike_and_other_files_are_refused() {
        let export = sample();
        let mut yaml = export.clone();
        yaml.format = Format::Yaml;
        let again = Export::parse(&yaml.render().unwrap()).unwrap();
        assert_eq!(again.format, Format::Yaml);
        assert_eq!(again.resources, export.resources);
        let json_again = Export::parse(&export.render().unwrap()).unwrap();
        assert_eq!(json_again.resources, export.resources);
        assert!(Export::parse("{\"_type\": \"export\", \"__export_format\": 2}").is_err());
        assert!(Export::parse("[1, 2]").is_err());
        assert!(
            Export::parse("{\"_type\":\"export\",\"__export_format\":4,\"resources\":[{}]}")
                .is_err()
        );
    }

    #[test]
    fn flow_style_yaml_is_read_as_yaml() {
        // As the app wrote YAML in 2020: one line, flow style, plain scalars.
        let flow = "{_type: export, __export_format: 4, __export_date: 2021-02-09T20:23:21.271Z, \
                    __export_source: 'insomnia.desktop.app:v2020.5.2', resources: [{_id: wrk_1, \
                    parentId: null, name: One, _type: workspace}, {_id: req_1, parentId: wrk_1, \
                    name: R, url: 'https://x/{{ _.id }}', _type: request}]}";
        let export = Export::parse(flow).unwrap();
        assert_eq!(export.format, Format::Yaml);
        assert_eq!(export.header["__export_date"], "2021-02-09T20:23:21.271Z");
        assert_eq!(export.resources[1]["url"], "https://x/{{ _.id }}");
        assert_eq!(export.workspaces()[0].documents.len(), 2);
        // JSON stays JSON.
        let json_text = json!({"_type": "export", "__export_format": 4, "resources": []});
        assert_eq!(
            Export::parse(&json_text.to_string()).unwrap().format,
            Format::Json
        );
    }

    #[test]
    fn formats_three_and_four_are_read_and_others_named() {
        for format in [3, 4] {
            let text = json!({"_type": "export", "__export_format": format, "resources": [
                {"_id": "wrk_1", "_type": "workspace", "parentId": null, "name": "W"}]});
            let export = Export::parse(&text.to_string()).unwrap();
            assert_eq!(export.workspaces().len(), 1);
            // The file keeps its own header when written back.
            assert_eq!(export.header["__export_format"], format);
        }
        // The app's importers need `__export_format` only.
        assert!(Export::parse("{\"__export_format\": 4, \"resources\": []}").is_ok());
        let refused = |text: &str| Export::parse(text).unwrap_err().to_string();
        assert!(refused("{\"_type\": \"export\", \"__export_format\": 1}").contains("format 1"));
        assert!(
            refused("{\"_type\": \"other\", \"__export_format\": 4}")
                .contains("not an Insomnia export")
        );
        let v6 = refused("type: collection.insomnia.rest/6.0\nname: Pets\ncollection: []\n");
        assert!(v6.contains("collection.insomnia.rest/6.0"), "{v6}");
        let no_id = refused("type: collection.insomnia.rest/5.0\nname: Pets\ncollection: []\n");
        assert!(no_id.contains("meta.id"), "{no_id}");
        assert!(refused("{\"info\": {\"name\": \"Postman\"}}").contains("not an Insomnia export"));
        assert!(refused("  \n").contains("empty"));
    }

    #[test]
    fn text_neither_json_nor_yaml_names_both_attempts() {
        // Starts like JSON, is neither.
        let both = Export::parse("{\"_type\": \"export\", \"resources\": [}")
            .unwrap_err()
            .to_string();
        assert!(
            both.contains("not valid JSON") && both.contains("not valid YAML"),
            "{both}"
        );
        // Broken JSON that YAML reads as something other than an export: the JSON error.
        let json_error = Export::parse("{\"a\": 1,}").unwrap_err().to_string();
        assert!(
            json_error.contains("not valid JSON") && json_error.contains("not an Insomnia export"),
            "{json_error}"
        );
        // Other text is YAML.
        let yaml = Export::parse("_type: export\n  bad: [")
            .unwrap_err()
            .to_string();
        assert!(yaml.contains("not valid YAML"), "{yaml}");
    }
}

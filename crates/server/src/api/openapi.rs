//! The OpenAPI 3.1 document of the REST API, served at `GET /openapi.json`.
//!
//! Nothing here lists a route: each handler's `#[utoipa::path]` attribute both documents it and,
//! through `utoipa_axum::routes!`, registers it with the router, and the bodies' schemas come
//! from the wire types' own derives (hypnos-crypto's `openapi` feature). So the document is the
//! router, and cannot drift from it. What this module adds is what every operation shares: the
//! session header, and the error answers (`{error, message}`, or on `/v3` the problem JSON that
//! also carries them) that any operation may give.

use axum::{
    Router,
    http::{HeaderValue, header},
    routing::get,
};
use hypnos_crypto::wire::{ErrorBody, v3::Problem};
use utoipa::{
    OpenApi, PartialSchema, ToSchema,
    openapi::{
        self, ContentBuilder, RefOr, ResponseBuilder,
        security::{ApiKey, ApiKeyValue, SecurityScheme},
    },
};

use crate::{session::SESSION_HEADER, state::AppState};

/// The path the document is served at.
pub const PATH: &str = "/openapi.json";

/// The name operations give the session header in their `security` lists.
pub const SESSION: &str = "session";

/// The document's fixed parts; the paths come from the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hypnos",
        description = "The REST API of a Hypnos server: the Insomnia app's account, organization \
                       and collaboration endpoints, and Hypnos's own. The sync API is GraphQL \
                       (`POST /graphql`); its schema is at `GET /graphql/schema`.",
    ),
    tags(
        (name = "accounts", description = "Sign-up, log-in (SRP-6a), sessions, passphrase change and reset"),
        (name = "organizations", description = "Organizations, their members, roles and audit log"),
        (name = "invitations", description = "Invitations and the keys shared with new members"),
        (name = "collaborators", description = "The newer apps' collaborator endpoints"),
        (name = "vault", description = "The account's vault key"),
        (name = "sync", description = "The GraphQL sync API, its schema and the event stream"),
        (name = "v3", description = "The newest apps' endpoints (problem JSON errors)"),
        (name = "app", description = "Fixed answers to the app's questions about hosted services"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct Fixed;

/// The finished document: the fixed parts, the router's paths, the session header's security
/// scheme, and on each operation the error answers it may give.
pub fn document(paths: openapi::OpenApi) -> openapi::OpenApi {
    let mut doc = Fixed::openapi().merge_from(paths);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SESSION,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            SESSION_HEADER,
            "The session id from log-in (hex of the SRP key K, 64 hex digits).",
        ))),
    );
    // The error bodies, with the schemas they refer to (a problem's invalid parameters).
    let mut errors = vec![
        (ErrorBody::name().into_owned(), ErrorBody::schema()),
        (Problem::name().into_owned(), Problem::schema()),
    ];
    ErrorBody::schemas(&mut errors);
    Problem::schemas(&mut errors);
    components.schemas.extend(errors);
    // A handler serving two methods (a member's role takes PUT and PATCH) documents both with
    // its one operation id; ids must be unique, so those get their method appended.
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for item in doc.paths.paths.values_mut() {
        for (_, operation) in operations(item) {
            if let Some(id) = &operation.operation_id {
                *seen.entry(id.clone()).or_default() += 1;
            }
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let schema = if path.starts_with("/v3") {
            Problem::name()
        } else {
            ErrorBody::name()
        };
        for (method, operation) in operations(item) {
            if let Some(id) = &mut operation.operation_id
                && seen.get(id.as_str()).is_some_and(|&count| count > 1)
            {
                id.push('_');
                id.push_str(method);
            }
            for (range, description) in [
                ("4XX", "The request was refused; nothing changed."),
                (
                    "5XX",
                    "The server could not answer (the database is unavailable, say).",
                ),
            ] {
                operation
                    .responses
                    .responses
                    .entry(range.to_owned())
                    .or_insert_with(|| RefOr::T(error_response(&schema, description)));
            }
        }
    }
    doc
}

fn error_response(schema: &str, description: &str) -> openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(openapi::Ref::from_schema_name(schema)))
                .build(),
        )
        .build()
}

/// Every operation of a path, with its method's name.
fn operations(
    item: &mut openapi::PathItem,
) -> impl Iterator<Item = (&'static str, &mut openapi::path::Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("options", item.options.as_mut()),
        ("head", item.head.as_mut()),
        ("patch", item.patch.as_mut()),
        ("trace", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| Some((method, operation?)))
}

/// The document as `GET /openapi.json` serves it and `hypnos server --print-openapi` prints it.
pub fn json() -> String {
    to_json(&super::openapi_document())
}

fn to_json(doc: &openapi::OpenApi) -> String {
    // Maps of strings and schema objects, which always serialize.
    let mut text = doc.to_pretty_json().expect("the document serializes");
    text.push('\n');
    text
}

/// `GET /openapi.json`: the document, serialized once.
pub fn route(doc: &openapi::OpenApi) -> Router<AppState> {
    let body = axum::body::Bytes::from(to_json(doc));
    Router::new().route(
        PATH,
        get(move || {
            let body = body.clone();
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    body,
                )
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every `$ref` of the document names a schema it holds (a dangling one makes tools skip
    /// that part of an operation).
    #[test]
    fn every_reference_resolves() {
        let text = json();
        let document: serde_json::Value = serde_json::from_str(&text).expect("it is JSON");
        let held: BTreeSet<&str> = document["components"]["schemas"]
            .as_object()
            .expect("it has schemas")
            .keys()
            .map(String::as_str)
            .collect();
        let prefix = "\"#/components/schemas/";
        let named: BTreeSet<&str> = text
            .match_indices(prefix)
            .filter_map(|(at, _)| text[at + prefix.len()..].split('"').next())
            .collect();
        let dangling: Vec<_> = named.difference(&held).collect();
        assert!(dangling.is_empty(), "dangling references: {dangling:?}");
        assert!(named.len() > 50, "{named:?}");
    }

    /// Operation ids are unique, and every operation answers its errors as documented.
    #[test]
    fn operations_have_unique_ids_and_error_answers() {
        let mut document = super::super::openapi_document();
        let mut ids = BTreeSet::new();
        for item in document.paths.paths.values_mut() {
            for (method, operation) in operations(item) {
                let id = operation
                    .operation_id
                    .clone()
                    .expect("every operation has an id");
                assert!(ids.insert(id.clone()), "{id} ({method}) is not unique");
                for range in ["4XX", "5XX"] {
                    assert!(
                        operation.responses.responses.contains_key(range),
                        "{id}: {range}"
                    );
                }
            }
        }
        assert!(ids.len() > 70, "{ids:?}");
    }
}

//! Cloud sync: the app's GraphQL version-control API (insomnia-wire.md §4.3), `POST /graphql`.
//!
//! The schema's argument names, input type names, nullability and fields are the app's. Every
//! operation names a project (or an organization); the caller must be a member of its
//! organization, and reading a project's key, branches, snapshots or blobs, or pushing, also
//! takes the caller's own key for the project; deleting one takes the role that deletes team
//! projects, not a key (the newest apps delete a remote file they never pulled). Every access
//! refusal is an error whose message contains "invalid access" (the app shows it as a lost
//! permission) and carries no data of the project. The server never decrypts anything: it
//! checks shapes and ids, and stores ciphertext.
//!
//! One schema serves the 10.x app and the newest (insomnia-wire-newer.md §6): `projects` takes
//! `allProjects` and a project has `teamProjectId`, branch names may hold `/`, and every answer
//! has a `data` object, errors included ([`transport`]).
//!
//! What one request may cost (nesting, fields, aliases, answer bytes, database connections) is
//! bounded in [`limits`]. A failure is never answered as a plausible empty value: a stored
//! snapshot that does not parse, or a read that fails, fails the field.
//!
//! Each area ([`projects`], [`branches`], [`snapshots`], [`blobs`]) holds its operations, a
//! query object and a mutation object, with their types and checks; [`QueryRoot`] and
//! [`MutationRoot`] merge them into one schema. [`access`] puts every operation through the
//! [`membership`](crate::membership) gate the REST handlers use; [`request`] holds what every
//! resolver uses of its request.

mod access;
mod blobs;
mod branches;
pub mod limits;
mod projects;
mod request;
mod snapshots;
mod transport;

use std::sync::LazyLock;

use async_graphql::{EmptySubscription, MergedObject, Schema};
use axum::{Extension, http::header, response::IntoResponse};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

// The read operations, one object per area, merged in this order. (Not a doc comment: the
// derive would make it the type's description in the schema, which the app's has not.)
#[derive(MergedObject, Default)]
pub(crate) struct QueryRoot(
    projects::ProjectsQuery,
    branches::BranchesQuery,
    snapshots::SnapshotsQuery,
    blobs::BlobsQuery,
);

// The write operations, likewise.
#[derive(MergedObject, Default)]
pub(crate) struct MutationRoot(
    projects::ProjectsMutation,
    branches::BranchesMutation,
    snapshots::SnapshotsMutation,
    blobs::BlobsMutation,
);

/// The schema the server answers with.
pub(crate) type SyncSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema. Selections nest at most 8 deep (the app's deepest is 3) and 16 counting
/// fragment spreads; the configurable limits are in [`limits`].
pub(crate) fn schema() -> SyncSchema {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(8)
    .limit_recursive_depth(16)
    .limit_directives(4)
    .finish()
}

/// The schema in GraphQL's schema definition language: what `GET /graphql/schema` and `hypnos
/// server --print-schema` give to tools, which cannot introspect it (standard introspection
/// nests deeper than the depth limit allows).
pub fn sdl() -> String {
    schema().sdl()
}

/// The routes: `POST /graphql` (the app adds `?<label>`, which is only a tag), with the schema
/// built once, here, for every request the router serves (how requests come in and answers go
/// out is in [`transport`]); and `GET /graphql/schema`, its SDL.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(transport::graphql))
        .routes(routes!(schema_sdl))
        .layer(Extension(schema()))
}

/// The schema's SDL, made once.
static SDL: LazyLock<axum::body::Bytes> = LazyLock::new(|| sdl().into());

/// The sync API's schema in GraphQL's schema definition language, for tools (standard
/// introspection nests deeper than the depth limit allows).
#[utoipa::path(get, operation_id = "graphql_schema_sdl", path = "/graphql/schema", tag = "sync", responses(
    (status = 200, description = "The schema.", body = String, content_type = "text/plain"),
))]
async fn schema_sdl() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        SDL.clone(),
    )
}

/// A GraphQL request, as `POST /graphql` takes it (the document for OpenAPI; async-graphql
/// parses the body).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct GraphQlRequest {
    /// The document: one query or mutation of the schema at `GET /graphql/schema`.
    query: String,
    /// The operation's variables.
    #[schema(value_type = Option<Object>)]
    variables: Option<serde_json::Map<String, serde_json::Value>>,
    /// Which operation of the document to run, when it holds several.
    #[schema(rename = "operationName")]
    operation_name: Option<String>,
}

/// A GraphQL answer: always a `data` object (empty when an error left none), and the errors.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct GraphQlResponse {
    /// The operation's result.
    #[schema(value_type = Object)]
    data: serde_json::Map<String, serde_json::Value>,
    /// What failed, each with a `message` and, for refusals, `extensions.code`.
    #[schema(value_type = Option<Vec<Object>>)]
    errors: Option<Vec<serde_json::Value>>,
}

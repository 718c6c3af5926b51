//! The newest app's `/v3` endpoints (insomnia-wire-newer.md §2.2 and §3.1): the session
//! bootstrap that replaced `/auth/whoami` (`users.rs`) and the paged list of spaces that replaced
//! `/v1/organizations` (`spaces.rs`), served from the same accounts and organizations as the 10.x
//! endpoints.
//!
//! Every error on a `/v3` path is problem JSON that also carries this server's own
//! `{error, message}` ([`Problem`]): the generated SDK reads `title` and `detail`, the app's
//! `insomniaFetch` (which calls `/v3/users/me` and its neighbours) reads `error` and `message`.
//! It is sent as `application/json`, not `application/problem+json`, because `insomniaFetch`
//! parses an error body only when its content type contains `application/json`.

mod spaces;
mod users;

use axum::{
    Router,
    body::Body,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::any,
};
use hypnos_crypto::wire::{
    ErrorBody,
    v3::{InvalidParameter, Problem},
};

use utoipa_axum::router::OpenApiRouter;

use crate::{error::ApiError, state::AppState, storage::StoreError};

/// The routes of the `/v3` API, every answer of which goes through [`problem_json`], and their
/// OpenAPI paths.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, paths) = OpenApiRouter::new()
        .merge(users::routes())
        .merge(spaces::routes())
        .split_for_parts();
    let router = router
        // Unknown `/v3` paths answer in the same problem shape as the known ones.
        .route("/v3", any(no_such_endpoint))
        .route("/v3/{*rest}", any(no_such_endpoint))
        // Set here, inside the layer: the server-wide one, set later, would answer unlayered.
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(problem_json));
    (router, paths)
}

async fn no_such_endpoint() -> ApiError {
    ApiError::NotFound("no such endpoint")
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(ErrorBody {
            error: "METHOD_NOT_ALLOWED".into(),
            message: "this endpoint does not take that method".into(),
        }),
    )
        .into_response()
}

/// A failure of a `/v3` handler: any API error, or a request field that failed validation (a
/// 400 whose problem names the field, as the SDK's `BadRequestError` does).
#[derive(Debug)]
pub(crate) enum V3Error {
    /// Any other failure.
    Api(ApiError),
    /// One field of the request is invalid.
    Invalid(InvalidParameter),
}

impl V3Error {
    /// An invalid query parameter `field` that broke `rule`, for `reason`.
    pub(crate) fn query(field: &str, rule: &str, reason: impl Into<String>) -> Self {
        V3Error::Invalid(InvalidParameter {
            field: field.into(),
            rule: rule.into(),
            reason: reason.into(),
            source: Some("query".into()),
        })
    }
}

impl From<ApiError> for V3Error {
    fn from(error: ApiError) -> Self {
        V3Error::Api(error)
    }
}

impl From<StoreError> for V3Error {
    fn from(error: StoreError) -> Self {
        V3Error::Api(error.into())
    }
}

/// The invalid field of a 400, handed to [`problem_json`] in the response's extensions.
#[derive(Clone, Debug)]
struct InvalidField(InvalidParameter);

impl IntoResponse for V3Error {
    fn into_response(self) -> Response {
        match self {
            V3Error::Api(error) => error.into_response(),
            V3Error::Invalid(parameter) => {
                let mut response = ApiError::BadRequest(parameter.reason.clone()).into_response();
                response.extensions_mut().insert(InvalidField(parameter));
                response
            }
        }
    }
}

/// The result of a `/v3` handler.
pub(crate) type V3Result<T> = Result<T, V3Error>;

/// The most bytes of an error body read to rewrite it (ours are a few hundred).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Rewrites every error answer of a `/v3` route, whoever made it (a handler, an extractor's
/// rejection, the router's 405), into a [`Problem`] with the status, headers (`Retry-After`)
/// and sentence of the original.
async fn problem_json(request: Request, next: Next) -> Response {
    let instance = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let invalid = parts.extensions.remove::<InvalidField>();
    let original = axum::body::to_bytes(body, MAX_ERROR_BODY)
        .await
        .ok()
        .and_then(|bytes| serde_json::from_slice::<ErrorBody>(&bytes).ok())
        .unwrap_or_else(|| ErrorBody {
            error: code_of(status),
            message: title_of(status),
        });
    let problem = Problem {
        status: status.as_u16(),
        title: title_of(status),
        detail: original.message.clone(),
        instance,
        invalid_parameters: invalid
            .map(|InvalidField(field)| field)
            .into_iter()
            .collect(),
        error: original.error,
        message: original.message,
    };
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

/// The status's reason in sentence case, as the SDK's problems title it ("Not found").
fn title_of(status: StatusCode) -> String {
    let reason = status.canonical_reason().unwrap_or("Error").to_lowercase();
    let mut characters = reason.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}

/// A code for an error answer that came without our body: the reason in upper snake case.
fn code_of(status: StatusCode) -> String {
    status
        .canonical_reason()
        .unwrap_or("ERROR")
        .to_uppercase()
        .replace([' ', '-'], "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_sentence_case_and_codes_upper_snake_case() {
        assert_eq!(title_of(StatusCode::NOT_FOUND), "Not found");
        assert_eq!(title_of(StatusCode::TOO_MANY_REQUESTS), "Too many requests");
        assert_eq!(
            code_of(StatusCode::METHOD_NOT_ALLOWED),
            "METHOD_NOT_ALLOWED"
        );
    }
}

//! `POST /graphql`: the request's way in and the answer's way out.
//!
//! Every answer is HTTP 200 with a JSON object holding a `data` object, errors included:
//!
//! - The newest apps throw on any non-2xx status and keep only the body's `error` and `message`,
//!   so a GraphQL error sent with another status loses `errors[0].message`, and with it the
//!   "invalid access" → "you no longer have permission" mapping (insomnia-wire-newer.md §1.4).
//! - Their GraphQL wrapper also throws "no data returned" when `data` is null or absent (§1.5):
//!   async-graphql sends `data: null` for a document that does not parse or validate, and when
//!   a resolver's error nulls a non-null top-level field. Such answers get an empty object.
//! - The 10.x app reads the body whatever the status and looks only at `errors` and `data`: a
//!   REST error body (`{"error","message"}`) reached it as "no errors, no data" and failed later
//!   on the missing data, so a refused session or body is a GraphQL error here too, carrying
//!   the REST code in `extensions.code` (`UNAUTHORIZED`, `PAYLOAD_TOO_LARGE`, `BAD_REQUEST`, …).
//!
//! The session is checked before a byte of the body is read: a refused caller's body is never
//! buffered. What the connection layer answers (a body too slow, too many bodies at once) and the
//! panic guard's 500 are not GraphQL answers and keep their REST shape.

use async_graphql::{ErrorExtensionValues, ServerError, Value};
use axum::{
    Extension,
    extract::{FromRequest, Request, State},
    response::{IntoResponse, Response},
};
use hypnos_crypto::wire::ErrorBody;

use super::{
    SyncSchema,
    limits::{self, AnswerBudget, StorePermits},
};
use crate::{
    error::ApiError, extract::Json, metrics::DatabaseFailure, session::Authenticated,
    state::AppState,
};

/// The most bytes of a REST error body read back to turn it into a GraphQL error (they are a
/// code and a sentence).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The sync API: one GraphQL query or mutation (the app adds `?<label>`, which is only a tag).
/// Every answer is 200 with a `data` object; refusals (no session, a bad body) are errors in it.
#[utoipa::path(post, operation_id = "graphql_graphql", path = "/graphql", tag = "sync", security(("session" = [])),
    request_body = super::GraphQlRequest,
    responses((status = 200, body = super::GraphQlResponse)),
)]
pub(super) async fn graphql(
    State(state): State<AppState>,
    Extension(schema): Extension<SyncSchema>,
    caller: Result<Authenticated, ApiError>,
    body: Request,
) -> Response {
    let caller = match caller {
        Ok(caller) => caller,
        Err(refused) => return refused_answer(refused).await,
    };
    let mut request = match Json::<async_graphql::Request>::from_request(body, &state).await {
        Ok(Json(request)) => request,
        Err(refused) => return refused_answer(refused).await,
    };
    // The request-level limits run here, before execution, rather than in a schema extension:
    // any extension takes async-graphql off its fast path for every field it resolves (tens of
    // thousands in a pull's snapshot state).
    if let Err(refused) = limits::check_request(&mut request, &state.config) {
        return answer(async_graphql::Response::from_errors(vec![refused])).into_response();
    }
    let request = request
        .data(AnswerBudget::new(state.config.max_answer_bytes))
        .data(StorePermits::default())
        .data(state.clone())
        .data(caller);
    let executed = schema.execute(request).await;
    let failure = executed
        .errors
        .iter()
        .find_map(|error| error.source::<DatabaseFailure>().copied());
    let mut response = answer(executed).into_response();
    if let Some(failure) = failure {
        // Every answer is a 200: the metrics learn of a database failure from this mark.
        response.extensions_mut().insert(failure);
    }
    response
}

/// A refusal's answer, marked for the metrics when the database failed it.
async fn refused_answer(error: ApiError) -> Response {
    let failure = error.database_failure();
    let mut response = answer(refusal(error).await).into_response();
    if let Some(failure) = failure {
        response.extensions_mut().insert(failure);
    }
    response
}

/// The answer as the apps read it: `data` is an object even when an error left none.
fn answer(mut response: async_graphql::Response) -> axum::Json<async_graphql::Response> {
    if response.data == Value::Null {
        response.data = Value::Object(Default::default());
    }
    axum::Json(response)
}

/// A refusal of the REST layer (session, body) as a GraphQL error: the same sentence, its code in
/// `extensions.code`. The REST error is rendered by [`ApiError`]'s own response (which also logs
/// an internal cause) and read back, so that codes and sentences are defined in one place.
async fn refusal(error: ApiError) -> async_graphql::Response {
    let rendered = error.into_response();
    let status = rendered.status();
    let body = axum::body::to_bytes(rendered.into_body(), MAX_ERROR_BODY)
        .await
        .ok()
        .and_then(|bytes| serde_json::from_slice::<ErrorBody>(&bytes).ok())
        .unwrap_or_else(|| ErrorBody {
            error: "ERROR".into(),
            message: format!("the request was refused ({status})"),
        });
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", body.error);
    let mut error = ServerError::new(body.message, None);
    error.extensions = Some(extensions);
    async_graphql::Response::from_errors(vec![error])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refusal_keeps_its_sentence_and_code_and_has_data() {
        let answer = answer(
            refusal(ApiError::Unauthorized(
                "the session has expired or was ended: log in again",
            ))
            .await,
        );
        let json = serde_json::to_value(&answer.0).expect("it serializes");
        assert_eq!(json["data"], serde_json::json!({}));
        assert_eq!(
            json["errors"][0]["message"],
            "the session has expired or was ended: log in again"
        );
        assert_eq!(json["errors"][0]["extensions"]["code"], "UNAUTHORIZED");
    }

    #[tokio::test]
    async fn an_internal_cause_is_not_repeated() {
        let answer = refusal(ApiError::Internal("secret detail".into())).await;
        let json = serde_json::to_value(&answer).expect("it serializes");
        assert!(!json.to_string().contains("secret detail"), "{json}");
        assert_eq!(json["errors"][0]["extensions"]["code"], "INTERNAL");
    }
}

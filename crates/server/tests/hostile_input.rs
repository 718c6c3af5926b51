//! Hostile input to the server's parsers, on SQLite and PostgreSQL: GraphQL text nested
//! thousands deep (which aborted the whole process), JSON bodies and GraphQL variables nested
//! past serde_json's limit, and a JWK nested deep inside a body. Each is refused, and the server
//! keeps answering. The parsers sit behind the router, so the hostile requests go through it
//! without a socket ([`common::app::oneshot`]); the user signs up over real HTTP.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use std::time::Duration;

use common::TestDb;
use common::app::{TestApp, oneshot};
use common::http::users::User;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

common::on_both_backends!(
    timeout = Duration::from_secs(120);
    graphql_text_nested_thousands_deep_is_refused_unparsed,
    json_nested_past_the_limit_is_a_400,
);

/// POSTs `body` as it is (JSON text the test wrote by hand) through the router, with a session
/// when given.
async fn post_text(
    app: &TestApp,
    path: &str,
    session: Option<&str>,
    body: String,
) -> (StatusCode, Value) {
    oneshot(&app.server.state, Method::POST, path, session, Some(body)).await
}

/// Runs GraphQL `query`; the status and the answer.
async fn graphql(app: &TestApp, session: &str, query: &str) -> (StatusCode, Value) {
    post_text(
        app,
        "/graphql?hostile",
        Some(session),
        json!({"query": query, "variables": {}}).to_string(),
    )
    .await
}

/// The first GraphQL error's message of a 200 answer.
fn first_error(status: StatusCode, answer: &Value) -> String {
    assert_eq!(
        status,
        StatusCode::OK,
        "GraphQL errors are answered 200: {answer}"
    );
    answer["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("an error: {answer}"))
        .to_owned()
}

/// The server still answers an ordinary query.
async fn still_up(app: &TestApp, session: &str) {
    let (status, answer) = graphql(app, session, "{ projects { id } }").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["data"]["projects"], json!([]), "{answer}");
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

async fn graphql_text_nested_thousands_deep_is_refused_unparsed(db: TestDb) {
    let app = TestApp::start(&db).await;
    let session = app.actor("eve").await.session;

    // The report's request: about 4 KB, an argument list nested 2,000 deep. It overflowed the
    // worker's stack inside the parser and aborted the process (this test's process with it).
    let deep_list = format!(
        "{{ blobs(project: \"prj_1\", ids: {}) {{ id }} }}",
        nested("[", "\"a\"", "]", 2_000)
    );
    let (status, answer) = graphql(&app, &session, &deep_list).await;
    assert!(
        first_error(status, &answer).contains("nests brackets"),
        "{answer}"
    );
    assert!(
        answer["data"]
            .as_object()
            .is_some_and(|data| data.is_empty()),
        "an empty data object, never null (the newest apps throw on a null one): {answer}"
    );
    still_up(&app, &session).await;

    // Input objects and selections nested as deep are refused the same way.
    let deep_object = format!(
        "mutation {{ blobsCreate(project: \"prj_1\", blobs: {}) {{ count }} }}",
        nested("{a: ", "1", "}", 2_000)
    );
    let (status, answer) = graphql(&app, &session, &deep_object).await;
    assert!(
        first_error(status, &answer).contains("nests brackets"),
        "{answer}"
    );
    let deep_selection = format!("{}{}", "{ projects ".repeat(2_000), "}".repeat(2_000));
    let (status, answer) = graphql(&app, &session, &deep_selection).await;
    assert!(
        first_error(status, &answer).contains("nests brackets"),
        "{answer}"
    );
    // An unclosed block string is `""` and a string to the parser, which goes on to parse
    // what follows: the count does too.
    let behind_unclosed_block = format!(
        "{{ blobs(project: \"prj_1\", ids: [\"\"\"a\" {}]) {{ id }} }}",
        nested("[", "\"a\"", "]", 2_000)
    );
    let (status, answer) = graphql(&app, &session, &behind_unclosed_block).await;
    assert!(
        first_error(status, &answer).contains("nests brackets"),
        "{answer}"
    );
    // Brackets inside strings and comments do not count.
    let quoted = format!(
        "# {}\n{{ project(id: \"{}\") {{ id }} }}",
        "[".repeat(5_000),
        "[".repeat(5_000)
    );
    let (status, answer) = graphql(&app, &session, &quoted).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["data"]["project"], Value::Null, "{answer}");

    // Right under the limit the parser runs (and the list is refused for its type), without
    // exhausting a worker's stack even in a debug build.
    let under = format!(
        "{{ blobs(project: \"prj_1\", ids: {}) {{ id }} }}",
        nested("[", "\"a\"", "]", 30)
    );
    let (status, answer) = graphql(&app, &session, &under).await;
    let message = first_error(status, &answer);
    assert!(!message.contains("nests brackets"), "{message}");

    // A query text longer than the limit is refused before it is parsed.
    let long = format!("{{ projects {{ id }} }}{}", " ".repeat(100 * 1024));
    let (status, answer) = graphql(&app, &session, &long).await;
    assert!(
        first_error(status, &answer).contains("longer than"),
        "{answer}"
    );
    still_up(&app, &session).await;
    app.server.stop().await;
}

async fn json_nested_past_the_limit_is_a_400(db: TestDb) {
    let app = TestApp::start(&db).await;
    let session = app.actor("eve").await.session;

    // GraphQL variables: serde_json stops at 128 levels (the request object and `variables`
    // are two of them), before async-graphql sees the value.
    let with_variable = |depth: usize| {
        format!(
            "{{\"query\": \"{{ projects {{ id }} }}\", \"variables\": {{\"x\": {}}}}}",
            nested("[", "1", "]", depth)
        )
    };
    let (status, answer) = post_text(&app, "/graphql", Some(&session), with_variable(120)).await;
    assert_eq!(status, StatusCode::OK, "120 levels parse: {answer}");
    for depth in [127, 10_000, 1_000_000] {
        let (status, answer) =
            post_text(&app, "/graphql", Some(&session), with_variable(depth)).await;
        // /graphql answers a body it refuses as a GraphQL error (200, a data object) with the
        // REST code in extensions.code: the newest apps read errors only from a 2xx answer.
        assert_eq!(status, StatusCode::OK, "{depth} levels: {answer}");
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "BAD_REQUEST",
            "{answer}"
        );
    }

    // REST bodies: an organization's creation and a log-in step.
    let deep = nested("{\"a\": ", "1", "}", 100_000);
    let (status, answer) = post_text(&app, "/v1/organizations", Some(&session), deep.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"].is_string(), "{answer}");
    let (status, answer) =
        post_text(&app, "/auth/login-s", None, nested("[", "1", "]", 5_000)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    // A JWK is JSON inside a JSON string: a public key nested 5,000 deep (within the small
    // body limit of the authentication endpoints) is refused as malformed, not parsed without
    // bound.
    let user = User::new("mallory@example.com", "mallory's passphrase");
    let mut body = user.signup_body();
    body["publicKey"] = json!(nested("{\"k\": ", "1", "}", 5_000));
    let (status, answer) = post_text(&app, "/auth/signup", None, body.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    let (status, answer) = graphql(&app, &session, "{ projects { id } }").await;
    assert_eq!(status, StatusCode::OK, "the server is still up: {answer}");
    app.server.stop().await;
}

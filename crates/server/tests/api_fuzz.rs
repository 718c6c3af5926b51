//! Issue 16: the server answers as its own description says, whatever is sent. schemathesis
//! (PyPI, pinned in `tests/api_fuzz/requirements.txt`) reads the REST API's OpenAPI document
//! from `GET /openapi.json` and the sync API's schema from `GET /graphql/schema`, and sends
//! generated requests, valid and invalid, with a real session, to a server on SQLite and on
//! PostgreSQL. The test fails on any 5xx, on an answer whose status, content type, headers or
//! body the document does not allow, on a run that does not finish (each is bounded by
//! `--max-time`), and on a server that stops answering or has lost the session afterwards.
//!
//! The schemathesis used is `$HYPNOS_SCHEMATHESIS`, which `./scripts/test` points at its own
//! virtual environment, or else `schemathesis` on the `PATH`.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use std::{path::Path, process::Stdio, time::Duration};

use common::{TestDb, app::TestApp};
use hypnos_server::storage::Role;
use reqwest::StatusCode;

/// How long schemathesis may generate requests for, per run.
const FUZZ_SECONDS: &str = "45";
/// A run that has not ended this long after its budget is a hung run.
const RUN_LIMIT: Duration = Duration::from_secs(240);

common::on_both_backends!(
    timeout = Duration::from_secs(420);
    rest_api_answers_as_documented,
    graphql_api_answers_as_documented,
    ids_with_a_nul_are_unknown_ids,
    every_parameter_with_a_nul_is_refused,
);

/// The checks every REST answer must pass: no server error, and status, content type, headers
/// and body as documented.
const REST_CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                           response_headers_conformance,response_schema_conformance";

/// schemathesis's warnings that mean the document or this test is wrong, not the server: each
/// fails the run (a dangling `$ref`, a method the document lists and the server refuses, a
/// filter below that matches nothing). Not `missing_auth`: a log-in proof or a verifier of the
/// right shape but not the account's is answered 401, as it must be; that the session still
/// works after the run is checked on its own.
const FAIL_ON_WARNINGS: &str = "[warnings]\nfail-on = [\"base_url_mismatch\", \
                                \"missing_deserializer\", \"unused_openapi_auth\", \
                                \"unsupported_regex\", \"method_not_allowed\", \
                                \"unmatched_filter\", \"unresolvable_reference\"]\n";

/// The checks every GraphQL answer must pass: its shape as the schema says, and no failure of
/// the server's own (`api_fuzz/hooks.py`: schemathesis's `not_a_server_error` would count the
/// app's refusals, which are resolver errors, as failures).
const GRAPHQL_CHECKS: &str = "response_schema_conformance,no_server_failure";

/// The REST API, as `/openapi.json` describes it, with the path parameters fixed to what the
/// session's account can reach, so requests get past the membership check and the look-up: a
/// team it owns with a second member, a team project in it, an invitation it sent and one it
/// received.
async fn rest_api_answers_as_documented(db: TestDb) {
    let app = TestApp::start(&db).await;
    let owner = app.actor("fuzzer").await;
    let member = app.actor("member").await;
    let invitee = app.actor("invitee").await;
    let inviter = app.actor("inviter").await;
    let team = app.team(&owner, "Fuzzed team").await;
    app.join(&owner, &team, &member, Role::Member).await;
    let sent = app.invite(&owner, &team, &invitee, Role::Member).await;
    let other_team = app.team(&inviter, "Inviting team").await;
    let received = app
        .invite(&inviter, &other_team, &owner, Role::Member)
        .await;
    let (status, project) = owner
        .post(
            &format!("/v1/organizations/{team}/team-projects"),
            serde_json::json!({"name": "Fuzzed project"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let project = project["id"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("schemathesis.toml"),
        format!(
            "[parameters]\n\"path.org\" = \"{team}\"\n\"path.account\" = \"{member}\"\n\n\
             [[operations]]\ninclude-path-regex = \"/team-projects/\"\n\
             parameters = {{ \"path.id\" = \"{project}\" }}\n\n\
             [[operations]]\ninclude-path-regex = \"^/v1/organizations/.*/invites/\"\n\
             parameters = {{ \"path.id\" = \"{sent}\" }}\n\n\
             [[operations]]\ninclude-path-regex = \"^/v1/user/invites/\"\n\
             parameters = {{ \"path.id\" = \"{received}\" }}\n\n{FAIL_ON_WARNINGS}",
            member = member.id,
        ),
    )
    .unwrap();
    schemathesis(
        dir.path(),
        &owner.session,
        REST_CHECKS,
        false,
        &[
            &app.url("/openapi.json"),
            // Endless by design: the answer is an event stream that lasts as long as the session.
            "--exclude-path",
            "/v1/teams/{org}/streams",
            // Would end the session every other request is made with.
            "--exclude-path",
            "/auth/logout",
            // Would delete the team every organization request names (once; after that
            // every one is a 404 and tests nothing more).
            "--exclude-operation-id",
            "orgs_remove",
        ],
    )
    .await;
    still_serving(&app, &owner).await;
}

/// The sync API, from its SDL: every query and mutation with generated arguments.
async fn graphql_api_answers_as_documented(db: TestDb) {
    let app = TestApp::start(&db).await;
    let owner = app.actor("fuzzer").await;
    let dir = tempfile::tempdir().unwrap();
    let sdl = app
        .http
        .get(app.url("/graphql/schema"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let schema = dir.path().join("sync.graphql");
    std::fs::write(&schema, sdl).unwrap();
    std::fs::write(dir.path().join("schemathesis.toml"), FAIL_ON_WARNINGS).unwrap();
    schemathesis(
        dir.path(),
        &owner.session,
        GRAPHQL_CHECKS,
        true,
        &[schema.to_str().unwrap(), "--url", &app.url("/graphql")],
    )
    .await;
    still_serving(&app, &owner).await;
}

/// Runs `schemathesis run` in `dir` with the session, `checks` (and with `hooks`, this test's
/// own, `api_fuzz/hooks.py`) and `arguments`; fails the test with its report unless every check
/// passed.
async fn schemathesis(dir: &Path, session: &str, checks: &str, hooks: bool, arguments: &[&str]) {
    let program = std::env::var("HYPNOS_SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    let mut command = tokio::process::Command::new(&program);
    if hooks {
        let here = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api_fuzz");
        command
            .env("SCHEMATHESIS_HOOKS", "hooks")
            .env("PYTHONPATH", here);
    }
    let run = command
        .current_dir(dir)
        .arg("run")
        .args(arguments)
        .args([
            "--header",
            &format!("X-Session-Id: {session}"),
            "--checks",
            checks,
            "--max-time",
            FUZZ_SECONDS,
            "--request-timeout",
            "20",
            "--workers",
            "2",
            // The session header is set above; generating it would only test the log-in wall.
            "--generation-with-security-parameters",
            "false",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(RUN_LIMIT, run)
        .await
        .unwrap_or_else(|_| panic!("schemathesis did not finish within {RUN_LIMIT:?}"))
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {program} ({error}): install it with `pip install -r \
                 crates/server/tests/api_fuzz/requirements.txt`, or run ./scripts/test"
            )
        });
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "schemathesis failed:\n{report}");
    // What was run, for `--nocapture`.
    eprintln!("{report}");
}

/// The server still answers, and the session the run used still works.
async fn still_serving(app: &TestApp, actor: &common::app::Actor) {
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let (status, whoami) = actor.get("/auth/whoami").await;
    assert_eq!(status, StatusCode::OK, "{whoami}");
}

/// What the fuzzer found on PostgreSQL, which refuses a text holding a NUL as an error: an
/// organization or project id with one is an unknown id (the refusal of any other), never a
/// failure of the server's own.
async fn ids_with_a_nul_are_unknown_ids(db: TestDb) {
    let app = TestApp::start(&db).await;
    let owner = app.actor("fuzzer").await;
    for query in [
        "{ branches(project: \"prj_\\u0000\") { name } }",
        "mutation { projectArchive(id: \"\\u0000\") }",
        "{ projects(teamId: \"org_\\u0000\") { id } }",
    ] {
        let (status, answer) = owner.gql(query, serde_json::json!({})).await;
        assert_eq!(status, StatusCode::OK, "{query}: {answer}");
        let error = &answer["errors"][0];
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("invalid access"),
            "{query}: {answer}"
        );
        assert!(error["extensions"]["code"].is_null(), "{query}: {answer}");
    }
    // The log-in's and the vault's second steps name their first step's id.
    for path in ["/auth/login-m1", "/v1/user/vault-verify-m1"] {
        let proof = "0".repeat(64);
        let body = serde_json::json!({"srpM1": proof, "sessionStarterId": "x\u{0}y"});
        let (status, answer) = owner.post(path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
    }
    for path in ["/v1/organizations/org_%00", "/v1/organizations/%00/members"] {
        let (status, answer) = owner.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
    }
}

/// The rest of that class, for every operation the document lists: each path parameter, and
/// each query parameter, holding a NUL (with an empty JSON object as the body where one is
/// taken) is answered with a 4xx and the error JSON (or, where nothing is looked up, the fixed
/// answer), never a failure.
async fn every_parameter_with_a_nul_is_refused(db: TestDb) {
    let app = TestApp::start(&db).await;
    let owner = app.actor("fuzzer").await;
    let (status, document) = owner.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{document}");
    let mut tried = 0;
    let mut queried = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        if path.ends_with("/streams") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body =
                matches!(method.as_str(), "POST" | "PUT" | "PATCH").then(|| serde_json::json!({}));
            // Each path parameter holding a NUL.
            if path.contains('{') {
                let target = fill(path, |_| "id%00x");
                refused_or_fixed(&owner, &method, &target, body.clone()).await;
                tried += 1;
            }
            // Each query parameter holding one, on a path that names the caller's own
            // organization, so that the query is read.
            let query: Vec<String> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|parameter| parameter["in"] == "query")
                .map(|parameter| format!("{}=x%00y", parameter["name"].as_str().unwrap()))
                .collect();
            if !query.is_empty() {
                let path = fill(path, |name| {
                    if name == "org" {
                        owner.personal.as_str()
                    } else {
                        "x"
                    }
                });
                let target = format!("{path}?{}", query.join("&"));
                refused_or_fixed(&owner, &method, &target, body).await;
                queried += 1;
            }
        }
    }
    assert!(tried >= 30, "only {tried} operations have path parameters");
    assert!(
        queried >= 4,
        "only {queried} operations have query parameters"
    );
}

/// `path` with each `{name}` replaced by `value(name)`.
fn fill<'a>(path: &str, value: impl Fn(&str) -> &'a str) -> String {
    path.split('/')
        .map(|part| {
            match part
                .strip_prefix('{')
                .and_then(|part| part.strip_suffix('}'))
            {
                Some(name) => value(name).to_owned(),
                None => part.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A refusal with the error JSON or, for the fixed answers that look nothing up, that answer;
/// never a failure.
async fn refused_or_fixed(
    actor: &common::app::Actor,
    method: &reqwest::Method,
    target: &str,
    body: Option<serde_json::Value>,
) {
    let (status, answer) = actor.send(method.clone(), target, body).await;
    assert!(
        status.is_client_error() || status.is_success(),
        "{method} {target}: {status} {answer}"
    );
    if status.is_client_error() {
        assert!(answer["error"].is_string(), "{method} {target}: {answer}");
    }
}

//! What each kind of traffic moves, counted exactly: the difference between a scrape before
//! and one after.

use std::time::Duration;

use hypnos_crypto::sync::{EMPTY_HASH, blob_content, blob_id, seal_blob};
use reqwest::StatusCode;
use serde_json::json;

use super::{metrics_listener, scrape};
use crate::common::{
    TestDb,
    app::TestApp,
    http::users::{User, login},
    stream::EventStream,
    vcs::{PUSH, UPLOAD, Vcs, data_or_error, request, snapshot},
};

const REQUESTS: &str = "hypnos_http_requests_total";
const LOGINS: &str = "hypnos_logins_total";
const RATE_LIMITED: &str = "hypnos_rate_limited_requests_total";
const DATABASE_ERRORS: &str = "hypnos_database_errors_total";
const STREAMS: &str = "hypnos_event_streams_open";
const PROJECT: &str = "prj_0123456789abcdef0123456789abcdef";

/// Log-ins good and bad, a refusal by the per-account limit, a push of two blobs and an open
/// event stream: each moves its own series by exactly what it did, and nothing else moves the
/// failure counters.
pub async fn traffic_moves_exactly_its_counters(db: TestDb) {
    // One failed log-in per account and address a minute: the next attempt is refused (429).
    let app = TestApp::start_tuned(&db, |config| config.login_rate_per_account = 1).await;
    let metrics = metrics_listener(&app);
    let alice = app.actor("alice").await;
    let bob = User::with_key(
        "bob@example.com",
        "bob's passphrase",
        crate::common::http::keys::key_named("bob"),
    );
    let key = alice
        .create_project(&alice.personal, None, PROJECT, "wrk_1", "Metrics")
        .await;
    let before = scrape(&metrics).await;

    // A sign-up.
    let (status, body) = app.post("/auth/signup", bob.signup_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let m1 = |status: &'static str| {
        [
            ("method", "POST"),
            ("route", "/auth/login-m1"),
            ("status", status),
        ]
    };

    // A wrong passphrase, then the right one refused by the limit, then a good log-in.
    let wrong = login(&app.server, &app.http, &bob.email, "not bob's passphrase").await;
    assert_eq!(wrong.unwrap_err().0, StatusCode::UNAUTHORIZED);
    let limited = login(&app.server, &app.http, &bob.email, &bob.passphrase).await;
    assert_eq!(limited.unwrap_err().0, StatusCode::TOO_MANY_REQUESTS);
    login(
        &app.server,
        &app.http,
        &alice.user.email,
        &alice.user.passphrase,
    )
    .await
    .unwrap();

    // A push: two blobs uploaded, then one snapshot naming them.
    let docs = [request("req_1", "One"), request("req_2", "Two")];
    let blobs: Vec<_> = docs
        .iter()
        .map(|doc| {
            let content = blob_content(doc);
            json!({"id": blob_id(&content), "content": seal_blob(&key, &content).unwrap()})
        })
        .collect();
    let blob_bytes: usize = blobs
        .iter()
        .map(|blob| blob["content"].as_str().unwrap().len())
        .sum();
    data_or_error(
        alice
            .gql(UPLOAD, json!({"projectId": PROJECT, "blobs": blobs}))
            .await,
    )
    .unwrap();
    let pushed = snapshot(PROJECT, EMPTY_HASH, &docs);
    data_or_error(
        alice
            .gql(
                PUSH,
                json!({"branchName": "master", "projectId": PROJECT, "snapshots": [pushed]}),
            )
            .await,
    )
    .unwrap();

    // An event stream, open while the server is scraped.
    let stream = EventStream::open(&alice, &alice.personal).await;
    let after = scrape(&metrics).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };
    let signup = [
        ("method", "POST"),
        ("route", "/auth/signup"),
        ("status", "201"),
    ];
    assert_eq!(moved(REQUESTS, &signup), 1.0);
    assert_eq!(moved(LOGINS, &[("outcome", "succeeded")]), 1.0);
    assert_eq!(moved(LOGINS, &[("outcome", "failed")]), 1.0);
    assert_eq!(moved(RATE_LIMITED, &[]), 1.0);
    assert_eq!(moved(REQUESTS, &m1("200")), 1.0);
    assert_eq!(moved(REQUESTS, &m1("401")), 1.0);
    assert_eq!(moved(REQUESTS, &m1("429")), 1.0);
    assert_eq!(moved("hypnos_pushes_total", &[]), 1.0);
    assert_eq!(moved("hypnos_blobs_stored_total", &[]), 2.0);
    assert_eq!(
        moved("hypnos_blob_bytes_stored_total", &[]),
        blob_bytes as f64
    );
    let graphql = [("method", "POST"), ("route", "/graphql"), ("status", "200")];
    assert_eq!(moved(REQUESTS, &graphql), 2.0, "the upload and the push");
    assert_eq!(
        moved(
            "hypnos_http_request_duration_seconds_count",
            &[("method", "POST"), ("route", "/graphql")]
        ),
        2.0
    );
    assert_eq!(after.value(STREAMS, &[]), 1.0);
    let server_errors: f64 = after
        .samples()
        .iter()
        .filter(|sample| sample.name == REQUESTS)
        .filter(|sample| {
            sample
                .labels
                .iter()
                .any(|(key, value)| *key == "status" && value.starts_with('5'))
        })
        .map(|sample| sample.value)
        .sum();
    assert_eq!(server_errors, 0.0, "no request failed on the server");
    for kind in ["unavailable", "failed"] {
        assert_eq!(
            after.value(DATABASE_ERRORS, &[("kind", kind)]),
            0.0,
            "{kind}"
        );
    }
    // The pools: the store's own, named for its backend, busy with this traffic.
    let pools: &[&str] = match db.backend {
        crate::common::Backend::Sqlite => &["read", "write"],
        crate::common::Backend::Postgres => &["main"],
    };
    for &pool in pools {
        let pool_label = [("pool", pool)];
        assert!(
            moved("hypnos_db_pool_acquires_total", &pool_label) > 0.0,
            "{pool}"
        );
        assert!(after.value("hypnos_db_pool_max_connections", &pool_label) >= 1.0);
        let open = after.value(
            "hypnos_db_pool_connections",
            &[("pool", pool), ("state", "idle")],
        ) + after.value(
            "hypnos_db_pool_connections",
            &[("pool", pool), ("state", "in_use")],
        );
        assert!(open >= 1.0, "{pool} has a connection open");
    }
    assert_eq!(
        after.series("hypnos_db_pool_max_connections").len(),
        pools.len()
    );

    // The stream's end is seen at the next scrape.
    drop(stream);
    let mut open = 1.0;
    for _ in 0..200 {
        open = scrape(&metrics).await.value(STREAMS, &[]);
        if open == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(open, 0.0, "the closed stream is no longer counted");

    // The API's own listener serves no metrics.
    let (status, _) = alice.get("/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A statement the database refuses is counted once per failed request, by the REST layer (a
/// 500) and by the GraphQL one (a 200 with an error) alike.
pub async fn database_failures_are_counted(db: TestDb) {
    let app = TestApp::start(&db).await;
    let metrics = metrics_listener(&app);
    let alice = app.actor("alice").await;
    alice
        .create_project(&alice.personal, None, PROJECT, "wrk_1", "Metrics")
        .await;
    let before = scrape(&metrics).await;
    // Tables gone from under the server: every statement on them fails.
    db.execute("ALTER TABLE team_projects RENAME TO team_projects_gone")
        .await;
    db.execute("ALTER TABLE blobs RENAME TO blobs_gone").await;
    let (status, body) = alice
        .get(&format!(
            "/v1/organizations/{}/team-projects",
            alice.personal
        ))
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    let missing = alice
        .gql(
            crate::common::vcs::MISSING,
            json!({"projectId": PROJECT, "ids": [blob_id("{}")]}),
        )
        .await;
    data_or_error(missing).unwrap_err();
    let after = scrape(&metrics).await;
    let failed = [("kind", "failed")];
    assert_eq!(
        after.value(DATABASE_ERRORS, &failed) - before.value(DATABASE_ERRORS, &failed),
        2.0
    );
    let unavailable = [("kind", "unavailable")];
    assert_eq!(after.value(DATABASE_ERRORS, &unavailable), 0.0);
}

/// Paths a client makes up all count under one route label, `unmatched`, and a route's ids
/// under its template: the series do not grow with what clients send.
pub async fn labels_stay_bounded_whatever_the_path(db: TestDb) {
    let app = TestApp::start(&db).await;
    let metrics = metrics_listener(&app);
    for n in 0..5 {
        let missing = app.http.get(app.url(&format!("/nothing/{n}"))).send().await;
        assert_eq!(missing.unwrap().status(), StatusCode::NOT_FOUND);
        let stream = app
            .http
            .get(app.url(&format!("/v1/teams/org_{n}/streams")))
            .send()
            .await;
        assert_eq!(stream.unwrap().status(), StatusCode::UNAUTHORIZED);
        let made_up = app
            .http
            .request(
                reqwest::Method::from_bytes(format!("BREW{n}").as_bytes()).unwrap(),
                app.url("/readyz"),
            )
            .send()
            .await;
        assert_eq!(made_up.unwrap().status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    let scraped = scrape(&metrics).await;
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert_eq!(scraped.value(REQUESTS, &unmatched), 5.0);
    let streams = [
        ("method", "GET"),
        ("route", "/v1/teams/{org}/streams"),
        ("status", "401"),
    ];
    assert_eq!(scraped.value(REQUESTS, &streams), 5.0);
    let other = [("method", "other"), ("route", "/readyz"), ("status", "405")];
    assert_eq!(scraped.value(REQUESTS, &other), 5.0);
    for series in scraped.series(REQUESTS) {
        for (label, value) in series {
            assert!(
                !value.contains("nothing") && !value.contains("org_") && !value.contains("BREW"),
                "{label}={value} comes from a client"
            );
        }
    }
}

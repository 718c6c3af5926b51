//! The stream limits: a server holding `--max-streams` refuses another with a 503 `BUSY`; an
//! account holding its most streams loses its oldest to a new one (a crashed app's stream must
//! not lock its owner out).

use super::*;

common::on_both_backends!(
    timeout = Duration::from_secs(60);
    a_full_server_answers_busy,
    an_accounts_newest_stream_ends_its_oldest,
);

async fn a_full_server_answers_busy(db: TestDb) {
    let app = TestApp::start_tuned(&db, |config| config.max_streams = Some(2)).await;
    let [alice, bob] = app.actors(["alice", "bob"]).await;
    let _first = EventStream::open(&alice, &alice.personal).await;
    let _second = EventStream::open(&alice, &alice.personal).await;
    let (status, body) = EventStream::try_open(&bob, &bob.personal)
        .await
        .err()
        .expect("the third stream is refused");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "BUSY", "{body}");
    assert!(body["message"].is_string(), "{body}");
    // Other requests are still served.
    let (status, _) = bob.get("/auth/whoami").await;
    assert_eq!(status, StatusCode::OK);
}

/// The default of `--max-streams-per-account`, which the test server keeps.
const MAX_STREAMS_PER_ACCOUNT: usize = 16;

async fn an_accounts_newest_stream_ends_its_oldest(db: TestDb) {
    let team = Team::new(&db).await;
    let mut streams = Vec::new();
    for _ in 0..MAX_STREAMS_PER_ACCOUNT {
        streams.push(EventStream::open(&team.alice, &team.org).await);
    }
    let mut newest = EventStream::open(&team.alice, &team.org).await;
    assert!(streams[0].ended(WITHIN).await, "the oldest stream ends");
    let marker = team.marker().await;
    assert_eq!(expect(&mut newest, "TeamProjectChanged").await, marker);
    assert_eq!(
        expect(&mut streams[1], "TeamProjectChanged").await,
        marker,
        "the others live on"
    );
}

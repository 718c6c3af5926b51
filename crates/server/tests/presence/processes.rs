//! Two server processes on one PostgreSQL: a place posted through one reaches the streams of
//! the other, a departure in one is heard on the other, and a stream that moves from one to
//! the other keeps the place.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::stream::EventStream;
use crate::common::{TestDb, bounded};
use crate::{
    WITHIN, arrived, elsewhere, left, next, next_of, path, post_place, start, team_with_project,
};

/// Alice's stream is held by the first process, Bob's by the second; Alice posts through the
/// second (a load balancer may send any request anywhere). Both hear her place; when her
/// stream closes, the first process takes her place and Bob, on the second, hears her leave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_places_and_departures() {
    bounded(Duration::from_secs(60), async {
        let db = TestDb::postgres().await;
        let first = start(&db, Duration::from_secs(9)).await;
        let second = start(&db, Duration::from_secs(9)).await;
        let [alice, bob] = first.actors(["alice", "bob"]).await;
        let (team, project) = team_with_project(&first, &alice, &[&bob]).await;
        let p = project.as_str();
        let bob_there = elsewhere(&second, &bob, "bob").await;
        let mut alice_stream = EventStream::open(&alice, &team).await;
        let mut bob_stream = EventStream::open(&bob_there, &team).await;

        let alice_there = elsewhere(&second, &alice, "alice").await;
        let body = json!({"project": p, "file": "wrk_one"});
        let (status, answer) = alice_there.post(&path(&team), body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let here = arrived(&alice, &team, p, Some("wrk_one"));
        assert_eq!(next(&mut bob_stream).await, here);
        assert_eq!(next(&mut alice_stream).await, here);

        drop(alice_stream);
        assert_eq!(
            next_of(&mut bob_stream, "PresentUserLeave", WITHIN).await,
            left(&alice, &team, p, Some("wrk_one"))
        );
        assert_eq!(db.scalar("SELECT COUNT(*) FROM presence").await, 0);
    })
    .await;
}

/// The app recycles its stream (it closes it and opens another whenever it handles some
/// events), and behind a load balancer the new one may land on another process: the place
/// stays, since the process that took the new stream refreshed it after the old one closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_reopened_on_another_process_keeps_the_place() {
    // A departure waits a ninth of the TTL: one second; three graces later, the first process
    // has weighed it.
    alice_keeps_her_place_across_processes(
        Duration::from_secs(9),
        Stream::ReopenedThereAfter,
        Duration::from_secs(3),
    )
    .await;
}

/// Two app windows of one member behind a load balancer: one stream on each process. The
/// first closes; the second still holds the member's stream, so the place must stay, although
/// the second process's own refresh comes only every third of the TTL (6 s here), well after
/// the first process's grace (2 s) runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_still_streaming_on_another_process_keeps_the_place() {
    alice_keeps_her_place_across_processes(
        Duration::from_secs(18),
        Stream::OpenThereBefore,
        Duration::from_secs(3),
    )
    .await;
}

/// When Alice's stream on the second process opens, relative to her stream on the first
/// closing.
enum Stream {
    OpenThereBefore,
    ReopenedThereAfter,
}

/// Two processes with presence TTL `ttl`; Alice posts her place with a stream on the first,
/// which closes (her stream on the second opened as `there` says); `wait` later, Bob posts
/// his: Alice is still listed, and no leave of hers came before Bob's arrival.
async fn alice_keeps_her_place_across_processes(ttl: Duration, there: Stream, wait: Duration) {
    bounded(Duration::from_secs(60), async {
        let db = TestDb::postgres().await;
        let first = start(&db, ttl).await;
        let second = start(&db, ttl).await;
        let [alice, bob] = first.actors(["alice", "bob"]).await;
        let (team, project) = team_with_project(&first, &alice, &[&bob]).await;
        let p = project.as_str();
        let alice_there = elsewhere(&second, &alice, "alice").await;
        let mut bob_stream = EventStream::open(&bob, &team).await;
        let alice_stream = EventStream::open(&alice, &team).await;
        let mut alice_stream_there = match there {
            Stream::OpenThereBefore => Some(EventStream::open(&alice_there, &team).await),
            Stream::ReopenedThereAfter => None,
        };
        post_place(&alice, &team, p, Some("wrk_one")).await;
        assert_eq!(
            next(&mut bob_stream).await,
            arrived(&alice, &team, p, Some("wrk_one"))
        );

        drop(alice_stream);
        if alice_stream_there.is_none() {
            alice_stream_there = Some(EventStream::open(&alice_there, &team).await);
        }
        tokio::time::sleep(wait).await;
        let rows = post_place(&bob, &team, p, None).await;
        assert_eq!(rows.len(), 2, "alice is still there: {rows:?}");
        assert_eq!(
            next(&mut bob_stream).await,
            arrived(&bob, &team, p, None),
            "no leave came before bob's own place"
        );
        drop(alice_stream_there);
    })
    .await;
}

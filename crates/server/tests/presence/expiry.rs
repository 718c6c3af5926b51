//! Places expire unless a stream of their organization keeps them.

use std::time::{Duration, Instant};

use crate::common::stream::EventStream;
use crate::common::{TestDb, on_both_backends};
use crate::{accounts, left, next_of, post_place, start, team_with_project};

on_both_backends!(timeout = Duration::from_secs(60); a_place_without_a_stream_expires);

/// The places' lifetime here.
const TTL: Duration = Duration::from_secs(4);

/// A place posted without any stream expires after the TTL and is announced as a leave; a
/// place whose member keeps a stream open outlives the TTL (its process refreshes it).
async fn a_place_without_a_stream_expires(db: TestDb) {
    let app = start(&db, TTL).await;
    let [alice, bob, carol] = app.actors(["alice", "bob", "carol"]).await;
    let (team, project) = team_with_project(&app, &alice, &[&bob, &carol]).await;
    let p = project.as_str();
    let mut bob_stream = EventStream::open(&bob, &team).await;
    let _carol_stream = EventStream::open(&carol, &team).await;

    post_place(&alice, &team, p, Some("wrk_one")).await;
    let carol_posted = Instant::now();
    let rows = post_place(&carol, &team, p, None).await;
    assert_eq!(rows.len(), 2, "{rows:?}");

    // Alice's place lapses: the sweep (every third of the TTL) announces it, and only it.
    let heard = next_of(&mut bob_stream, "PresentUserLeave", TTL * 3).await;
    assert_eq!(heard, left(&alice, &team, p, Some("wrk_one")));

    // Carol's place, refreshed by her stream, is still there a second after it would have
    // lapsed.
    tokio::time::sleep_until((carol_posted + TTL + Duration::from_secs(1)).into()).await;
    let rows = post_place(&bob, &team, p, None).await;
    let mut expected = vec![bob.id.as_str(), carol.id.as_str()];
    expected.sort_unstable();
    assert_eq!(accounts(&rows), expected, "alice expired, carol stayed");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM presence").await, 2);
}

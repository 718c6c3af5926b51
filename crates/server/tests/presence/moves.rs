//! A member's place appears on teammates' streams, moves, and goes when its stream closes.

use std::time::Duration;

use crate::common::stream::EventStream;
use crate::common::{TestDb, on_both_backends};
use crate::{
    WITHIN, accounts, arrived, left, next, next_of, post_place, row, start, team_with_project,
};

on_both_backends!(timeout = Duration::from_secs(60);
    a_place_appears_and_each_move_leaves_the_old_one,
    closing_the_last_stream_leaves,
);

/// Each post answers everyone present, one row per account, and reaches every stream of the
/// organization as `PresentStateChanged`; a move first sends `PresentUserLeave` for the exact
/// old place (no `file` when it was the dashboard); posting the same place again sends no leave.
async fn a_place_appears_and_each_move_leaves_the_old_one(db: TestDb) {
    let app = start(&db, Duration::from_secs(9)).await;
    let [alice, bob] = app.actors(["alice", "bob"]).await;
    let (team, project) = team_with_project(&app, &alice, &[&bob]).await;
    let mut alice_stream = EventStream::open(&alice, &team).await;
    let mut bob_stream = EventStream::open(&bob, &team).await;
    let p = project.as_str();

    // Alice opens a workspace: she alone is present.
    let rows = post_place(&alice, &team, p, Some("wrk_one")).await;
    assert_eq!(rows, [row(&alice, &team, p, Some("wrk_one"))]);
    let heard = next(&mut bob_stream).await;
    assert_eq!(heard, arrived(&alice, &team, p, Some("wrk_one")));

    // Bob on the project's dashboard: both present, his row without `file`.
    let rows = post_place(&bob, &team, p, None).await;
    let mut expected = [
        row(&alice, &team, p, Some("wrk_one")),
        row(&bob, &team, p, None),
    ];
    expected.sort_by(|a, b| a["acct"].as_str().cmp(&b["acct"].as_str()));
    assert_eq!(rows, expected);
    assert_eq!(next(&mut bob_stream).await, arrived(&bob, &team, p, None));
    assert_eq!(
        next(&mut alice_stream).await,
        arrived(&alice, &team, p, Some("wrk_one"))
    );
    assert_eq!(next(&mut alice_stream).await, arrived(&bob, &team, p, None));

    // Alice moves to another workspace: the leave of the old one comes first.
    post_place(&alice, &team, p, Some("wrk_two")).await;
    assert_eq!(
        next(&mut bob_stream).await,
        left(&alice, &team, p, Some("wrk_one"))
    );
    assert_eq!(
        next(&mut bob_stream).await,
        arrived(&alice, &team, p, Some("wrk_two"))
    );

    // Bob leaves the dashboard for a workspace: his leave names no file.
    post_place(&bob, &team, p, Some("wrk_one")).await;
    for expected in [
        left(&alice, &team, p, Some("wrk_one")),
        arrived(&alice, &team, p, Some("wrk_two")),
        left(&bob, &team, p, None),
        arrived(&bob, &team, p, Some("wrk_one")),
    ] {
        assert_eq!(next(&mut alice_stream).await, expected);
    }

    // The same place again: a state, no leave.
    let rows = post_place(&alice, &team, p, Some("wrk_two")).await;
    for expected in [
        left(&bob, &team, p, None),
        arrived(&bob, &team, p, Some("wrk_one")),
        arrived(&alice, &team, p, Some("wrk_two")),
    ] {
        assert_eq!(next(&mut bob_stream).await, expected);
    }
    let mut expected = [
        row(&alice, &team, p, Some("wrk_two")),
        row(&bob, &team, p, Some("wrk_one")),
    ];
    expected.sort_by(|a, b| a["acct"].as_str().cmp(&b["acct"].as_str()));
    assert_eq!(rows, expected);
}

/// When a member's last stream of the organization closes, its place goes (after a short grace)
/// and teammates hear `PresentUserLeave` for it.
async fn closing_the_last_stream_leaves(db: TestDb) {
    let app = start(&db, Duration::from_secs(9)).await;
    let [alice, bob] = app.actors(["alice", "bob"]).await;
    let (team, project) = team_with_project(&app, &alice, &[&bob]).await;
    let p = project.as_str();
    let alice_stream = EventStream::open(&alice, &team).await;
    let mut bob_stream = EventStream::open(&bob, &team).await;
    post_place(&alice, &team, p, Some("wrk_one")).await;
    assert_eq!(
        next_of(&mut bob_stream, "PresentStateChanged", WITHIN).await,
        arrived(&alice, &team, p, Some("wrk_one"))
    );

    drop(alice_stream);
    assert_eq!(
        next_of(&mut bob_stream, "PresentUserLeave", WITHIN).await,
        left(&alice, &team, p, Some("wrk_one"))
    );
    let rows = post_place(&bob, &team, p, None).await;
    assert_eq!(accounts(&rows), [bob.id.as_str()], "alice is gone");
}

//! Who may not post a place, and what is not a place: each refused with its status and the
//! error JSON, with nothing written and nothing told to the organization's streams.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::stream::EventStream;
use crate::common::{
    TestDb,
    app::{Actor, TestApp},
    on_both_backends,
};
use crate::{accounts, arrived, next, path, post_place, start, team_with_project};

on_both_backends!(timeout = Duration::from_secs(60);
    a_non_member_is_refused_and_never_appears,
    invalid_bodies_are_refused_and_nothing_is_written,
);

/// The status and error code of an answer, its message checked to be a sentence.
fn refusal((status, body): (StatusCode, Value)) -> (StatusCode, String) {
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()),
        "{body}"
    );
    (status, body["error"].as_str().unwrap().to_owned())
}

/// An outsider posting to the team gets the 404 of an organization that does not exist, and a
/// place in another organization's team project is no place: neither is recorded or heard.
async fn a_non_member_is_refused_and_never_appears(db: TestDb) {
    let app = start(&db, Duration::from_secs(90)).await;
    let [alice, bob, mallory] = app.actors(["alice", "bob", "mallory"]).await;
    let (team, project) = team_with_project(&app, &alice, &[&bob]).await;
    let (other_team, other_project) = team_with_project(&app, &mallory, &[]).await;
    let mut bob_stream = EventStream::open(&bob, &team).await;
    let not_found = (StatusCode::NOT_FOUND, "NOT_FOUND".to_owned());

    let body = json!({"project": project, "file": "wrk_one"});
    assert_eq!(
        refusal(mallory.post(&path(&team), body.clone()).await),
        not_found
    );
    // Mallory's own organizations do not hold the team's project, nor does Bob's team hold
    // Mallory's.
    for org in [&mallory.personal, &other_team] {
        assert_eq!(
            refusal(mallory.post(&path(org), body.clone()).await),
            not_found
        );
    }
    let elsewhere = json!({"project": other_project});
    assert_eq!(refusal(bob.post(&path(&team), elsewhere).await), not_found);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM presence").await, 0);

    // The first presence event Bob's stream hears is his own.
    let rows = post_place(&bob, &team, &project, None).await;
    assert_eq!(accounts(&rows), [bob.id.as_str()]);
    assert_eq!(
        next(&mut bob_stream).await,
        arrived(&bob, &team, &project, None)
    );
}

/// Bodies without a team project id, with ids that are not ids (empty, too long, other
/// characters, not strings), that are not JSON objects, or that come without a session: 400
/// (401 without a session) with the error JSON, and nothing written or heard.
async fn invalid_bodies_are_refused_and_nothing_is_written(db: TestDb) {
    let app = start(&db, Duration::from_secs(90)).await;
    let [alice, bob] = app.actors(["alice", "bob"]).await;
    let (team, project) = team_with_project(&app, &alice, &[&bob]).await;
    let mut bob_stream = EventStream::open(&bob, &team).await;
    let bad = (StatusCode::BAD_REQUEST, "BAD_REQUEST".to_owned());

    let long = "p".repeat(65);
    for body in [
        json!({}),
        json!({"file": "wrk_one"}),
        json!({"project": ""}),
        json!({"project": long}),
        json!({"project": "proj_1'; --"}),
        json!({"project": 7}),
        json!({"project": null}),
        json!({"project": project, "file": ""}),
        json!({"project": project, "file": "wrk/one"}),
        json!({"project": project, "file": "w".repeat(65)}),
        json!({"project": project, "file": ["wrk_one"]}),
        json!([]),
        json!("proj"),
    ] {
        assert_eq!(
            refusal(alice.post(&path(&team), body.clone()).await),
            bad,
            "{body}"
        );
    }
    for text in ["", "not json", "{\"project\": "] {
        assert_eq!(
            refusal(raw(&app, &alice, &team, text).await),
            bad,
            "{text:?}"
        );
    }
    let anonymous = app
        .send_as(
            "",
            Method::POST,
            &path(&team),
            Some(json!({"project": project})),
        )
        .await;
    assert_eq!(refusal(anonymous).0, StatusCode::UNAUTHORIZED);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM presence").await, 0);

    let rows = post_place(&bob, &team, &project, None).await;
    assert_eq!(accounts(&rows), [bob.id.as_str()]);
    assert_eq!(
        next(&mut bob_stream).await,
        arrived(&bob, &team, &project, None)
    );
}

/// `text` posted by `actor` as the JSON body of a presence in `team`.
async fn raw(app: &TestApp, actor: &Actor, team: &str, text: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(app.url(&path(team)))
        .header("X-Session-Id", &actor.session)
        .header("Content-Type", "application/json")
        .body(text.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

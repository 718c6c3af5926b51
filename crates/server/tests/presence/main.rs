//! Presence over real HTTP, on both databases: `POST /v1/organizations/{org}/collaborators`
//! answers everyone present and tells the organization's streams (`PresentStateChanged`,
//! `PresentUserLeave`); places expire unless a stream keeps them; two server processes on one
//! PostgreSQL share them. One module per topic; `common::stream` reads the event stream.
//!
//! Delivery is asserted within [`WITHIN`] (generous, so that a loaded machine does not fail
//! the test). That nothing arrives is asserted without waiting: a later event of the same
//! stream arrives first.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test, with its location"
)]

#[path = "../common/mod.rs"]
mod common;

mod expiry;
mod moves;
mod processes;
mod refusals;

use std::time::Duration;

use hypnos_server::storage::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{
    TestDb,
    app::{Actor, TestApp},
    http::{keys, users::User},
    stream::EventStream,
};

/// How long an event may take to arrive.
pub const WITHIN: Duration = Duration::from_secs(5);

/// The next event of `stream`, which must come within [`WITHIN`].
pub async fn next(stream: &mut EventStream) -> Value {
    stream
        .next(WITHIN)
        .await
        .unwrap_or_else(|| panic!("an event arrived within {WITHIN:?}"))
}

/// The next event of type `kind` within `within`, others skipped.
pub async fn next_of(stream: &mut EventStream, kind: &str, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let event = stream
            .next(left)
            .await
            .unwrap_or_else(|| panic!("a {kind} event arrived within {within:?}"));
        if event["type"] == kind {
            return event;
        }
    }
}

/// `actor` logged in again on `app` (another server process on the same database).
pub async fn elsewhere(app: &TestApp, actor: &Actor, name: &str) -> Actor {
    let user = User::with_key(
        &actor.user.email,
        &actor.user.passphrase,
        keys::key_named(name),
    );
    app.log_in_again(actor, user).await
}

/// The server on `db` with places lasting `ttl` (refreshed every third of it; a departure
/// waits a ninth of it).
pub async fn start(db: &TestDb, ttl: Duration) -> TestApp {
    TestApp::start_tuned(db, |config| config.presence_ttl = ttl).await
}

/// A team of `owner` with `members` and one team project, made over HTTP: (team, project).
pub async fn team_with_project(
    app: &TestApp,
    owner: &Actor,
    members: &[&Actor],
) -> (String, String) {
    let team = app.team(owner, "Acme").await;
    for member in members {
        app.join(owner, &team, member, Role::Member).await;
    }
    // The project's TeamProjectChanged is sent in the background (on PostgreSQL by NOTIFY): it
    // is awaited here, so that it cannot reach a stream the test opens next.
    let mut sent = EventStream::open(owner, &team).await;
    let (status, body) = owner
        .post(
            &format!("/v1/organizations/{team}/team-projects"),
            json!({"name": "API"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    next_of(&mut sent, "TeamProjectChanged", WITHIN).await;
    (team, body["id"].as_str().unwrap().to_owned())
}

/// The presence endpoint of `team`.
pub fn path(team: &str) -> String {
    format!("/v1/organizations/{team}/collaborators")
}

/// `actor` posts its place (`file` absent on the dashboard); the answer's rows, sorted by
/// account.
pub async fn post_place(
    actor: &Actor,
    team: &str,
    project: &str,
    file: Option<&str>,
) -> Vec<Value> {
    let mut body = json!({"project": project});
    if let Some(file) = file {
        body["file"] = json!(file);
    }
    let (status, answer) = actor.post(&path(team), body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let mut rows = answer["data"].as_array().unwrap().clone();
    rows.sort_by(|a, b| a["acct"].as_str().cmp(&b["acct"].as_str()));
    rows
}

/// The row the app reads for `actor` at (`project`, `file`) in `team`.
pub fn row(actor: &Actor, team: &str, project: &str, file: Option<&str>) -> Value {
    let mut row = json!({
        "acct": actor.id, "avatar": "", "branch": "", "firstName": "Ada",
        "lastName": "Lovelace", "project": project, "team": team,
    });
    if let Some(file) = file {
        row["file"] = json!(file);
    }
    row
}

/// The `PresentStateChanged` event of that row.
pub fn arrived(actor: &Actor, team: &str, project: &str, file: Option<&str>) -> Value {
    let mut event = row(actor, team, project, file);
    event["type"] = json!("PresentStateChanged");
    event["topic"] = json!(team);
    event
}

/// The `PresentUserLeave` event of `actor` leaving (`project`, `file`).
pub fn left(actor: &Actor, team: &str, project: &str, file: Option<&str>) -> Value {
    let mut event = json!({
        "type": "PresentUserLeave", "topic": team, "team": team, "acct": actor.id,
        "project": project,
    });
    if let Some(file) = file {
        event["file"] = json!(file);
    }
    event
}

/// The accounts in a list of rows.
pub fn accounts(rows: &[Value]) -> Vec<&str> {
    rows.iter()
        .map(|row| row["acct"].as_str().unwrap())
        .collect()
}

//! Synced projects ("files"): creating, pushing, removing a branch and archiving each reach the
//! teammates' streams; the stream's answer; who may open it.

use hypnos_crypto::sync::EMPTY_HASH;

use super::*;

common::on_both_backends!(
    timeout = Duration::from_secs(60);
    a_push_reaches_a_teammates_stream,
    the_stream_answers_as_the_app_expects,
    events_reach_the_members_of_their_organization_only,
);

const PROJECT: &str = "prj_0123456789abcdef0123456789abcdef";

/// A file event's whole body: `project` the team project, `file` the sync project.
fn file_event(kind: &str, team: &Team, branch: Option<&str>) -> Value {
    let mut event = json!({
        "type": kind, "topic": team.org, "team": team.org,
        "project": team.team_project, "file": PROJECT,
    });
    if let Some(branch) = branch {
        event["branch"] = json!(branch);
    }
    event
}

async fn a_push_reaches_a_teammates_stream(db: TestDb) {
    let team = Team::new(&db).await;
    let (alice, bob) = (&team.alice, &team.bob);
    let mut bobs = EventStream::open(bob, &team.org).await;

    // A new file: the dashboards list it (no branch yet).
    let key = team.create_file(PROJECT).await;
    let created = expect(&mut bobs, "FileChanged").await;
    assert_eq!(created, file_event("FileChanged", &team, None));

    // A push: the teammate's app refreshes the branch it shows.
    let docs = [request("req_1", REQUEST_NAME)];
    alice.push(PROJECT, &key, "master", EMPTY_HASH, &docs).await;
    let pushed = expect(&mut bobs, "FileChanged").await;
    assert_eq!(pushed, file_event("FileChanged", &team, Some("master")));

    // A new branch pushed, then removed.
    let other_docs = [request("req_2", REQUEST_NAME)];
    alice
        .push(PROJECT, &key, "feature/login", EMPTY_HASH, &other_docs)
        .await;
    let pushed = expect(&mut bobs, "FileChanged").await;
    assert_eq!(pushed["branch"], "feature/login");
    alice
        .data(
            REMOVE_BRANCH,
            json!({ "projectId": PROJECT, "branch": "feature/login" }),
        )
        .await
        .unwrap();
    let removed = expect(&mut bobs, "BranchDeleted").await;
    assert_eq!(
        removed,
        file_event("BranchDeleted", &team, Some("feature/login"))
    );

    // Archived: gone from the dashboards.
    let archived = alice.data(ARCHIVE, json!({ "id": PROJECT })).await.unwrap();
    assert_eq!(archived["projectArchive"], true);
    let deleted = expect(&mut bobs, "FileDeleted").await;
    assert_eq!(deleted, file_event("FileDeleted", &team, None));
}

async fn the_stream_answers_as_the_app_expects(db: TestDb) {
    let team = Team::new(&db).await;
    // `EventStream::open` checks the 200, the content type and the `retry:` sent first.
    let mut alices = EventStream::open(&team.alice, &team.org).await;
    let marker = team.marker().await;
    assert_eq!(expect(&mut alices, "TeamProjectChanged").await, marker);

    // No session, or an ended one: 401 JSON, as every endpoint answers.
    for session in ["", &"0".repeat(64)] {
        let (status, body) = team
            .app
            .send_as(
                session,
                reqwest::Method::GET,
                &format!("/v1/teams/{}/streams", team.org),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert!(body["error"].is_string(), "{body}");
    }
}

async fn events_reach_the_members_of_their_organization_only(db: TestDb) {
    let team = Team::new(&db).await;
    let carol = team.app.actor("carol").await;
    let other = team.app.team(&carol, "Other").await;

    // A non-member cannot open the stream: the 404 of an organization that does not exist.
    for org in [team.org.as_str(), "org_nosuchteam"] {
        let (status, body) = EventStream::try_open(&carol, org)
            .await
            .err()
            .expect("refused");
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"], "NOT_FOUND", "{body}");
    }

    let mut bobs = EventStream::open(&team.bob, &team.org).await;
    let mut carols = EventStream::open(&carol, &other).await;

    // Carol's organization changes: her stream hears it, Bob's does not (his next event is
    // the one of his own organization that follows).
    let others = carol.team_project(&other, "Elsewhere").await;
    assert_eq!(
        expect(&mut carols, "TeamProjectChanged").await,
        team_project_event(&other, &others)
    );
    let marker = team.marker().await;
    assert_eq!(expect(&mut bobs, "TeamProjectChanged").await, marker);

    // And the other way round.
    let again = carol.team_project(&other, "Elsewhere too").await;
    assert_eq!(
        expect(&mut carols, "TeamProjectChanged").await,
        team_project_event(&other, &again),
        "Carol's stream skipped Acme's event"
    );
}

//! Team projects, the storage rule, members and the organization itself: each change reaches
//! the organization's streams; a member who goes loses its streams at once, and so does
//! everyone when the organization is deleted.

use super::*;

common::on_both_backends!(
    timeout = Duration::from_secs(60);
    team_project_changes_reach_the_members,
    the_storage_rule_and_roles_reach_the_members,
    a_new_member_is_announced,
    a_member_who_goes_loses_the_stream_at_once,
    deleting_the_organization_ends_its_streams,
);

async fn team_project_changes_reach_the_members(db: TestDb) {
    let team = Team::new(&db).await;
    let mut bobs = EventStream::open(&team.bob, &team.org).await;
    let path = format!("/v1/organizations/{}/team-projects", team.org);

    let made = team.alice.team_project(&team.org, "Frontend").await;
    let event = team_project_event(&team.org, &made);
    assert_eq!(expect(&mut bobs, "TeamProjectChanged").await, event);

    let (status, body) = team
        .alice
        .patch(&format!("{path}/{made}"), json!({"name": "Web"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(expect(&mut bobs, "TeamProjectChanged").await, event);

    let (status, body) = team.alice.delete(&format!("{path}/{made}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(expect(&mut bobs, "TeamProjectChanged").await, event);

    // A refused change raises nothing: the next event is the marker's.
    let (status, _) = team
        .bob
        .delete(&format!("{path}/{}", team.team_project))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let marker = team.marker().await;
    assert_eq!(expect(&mut bobs, "TeamProjectChanged").await, marker);
}

async fn the_storage_rule_and_roles_reach_the_members(db: TestDb) {
    let team = Team::new(&db).await;
    let mut bobs = EventStream::open(&team.bob, &team.org).await;

    let (status, body) = team
        .alice
        .put(
            &format!("/v1/organizations/{}/storage-rule", team.org),
            json!({"storage": "cloud_only"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rule = expect(&mut bobs, "StorageRuleChanged").await;
    assert_eq!(rule, organization_event("StorageRuleChanged", &team.org));
    // The app refreshes the rule only for a `team` holding "org_".
    assert!(rule["team"].as_str().unwrap().contains("org_"));

    let (status, body) = team
        .alice
        .put(
            &format!(
                "/v1/organizations/{}/members/{}/roles",
                team.org, team.bob.id
            ),
            json!({"roles": ["admin"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        expect(&mut bobs, "OrganizationChanged").await,
        organization_event("OrganizationChanged", &team.org)
    );
}

async fn a_new_member_is_announced(db: TestDb) {
    let team = Team::new(&db).await;
    let carol = team.app.actor("carol").await;
    let mut alices = EventStream::open(&team.alice, &team.org).await;

    // Both apps accept an invitation at the 10.x endpoint (the newest app's own flow ends
    // there too).
    let invitation = team
        .app
        .invite(&team.alice, &team.org, &carol, Role::Member)
        .await;
    let (status, body) = carol
        .post(&format!("/v1/user/invites/{invitation}/accept"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        expect(&mut alices, "OrganizationChanged").await,
        organization_event("OrganizationChanged", &team.org)
    );

    // Carol's own stream now opens and hears the team.
    let mut carols = EventStream::open(&carol, &team.org).await;
    let marker = team.marker().await;
    assert_eq!(expect(&mut carols, "TeamProjectChanged").await, marker);
}

async fn a_member_who_goes_loses_the_stream_at_once(db: TestDb) {
    let team = Team::new(&db).await;
    let [carol, dave] = team.app.actors(["carol", "dave"]).await;
    for member in [&carol, &dave] {
        team.app
            .join(&team.alice, &team.org, member, Role::Member)
            .await;
    }
    let mut alices = EventStream::open(&team.alice, &team.org).await;
    let members = format!("/v1/organizations/{}/members", team.org);
    let unlink = format!("/v1/desktop/organizations/{}/collaborators", team.org);

    // Removed (10.x), leaving, and removed by the newest app's unlink.
    let goings: [(&Actor, &Actor, String); 3] = [
        (&team.alice, &team.bob, format!("{members}/{}", team.bob.id)),
        (&carol, &carol, format!("{members}/{}", carol.id)),
        (&team.alice, &dave, format!("{unlink}/{}/unlink", dave.id)),
    ];
    for (by, goes, path) in goings {
        let mut theirs = EventStream::open(goes, &team.org).await;
        let (status, body) = by.delete(&path).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{path}: {body}");
        // A last OrganizationChanged (the app reloads its organizations), then the end.
        assert_eq!(
            expect(&mut theirs, "OrganizationChanged").await,
            organization_event("OrganizationChanged", &team.org)
        );
        assert!(theirs.ended(WITHIN).await, "{path}: the stream ends");
        assert_eq!(
            expect(&mut alices, "OrganizationChanged").await,
            organization_event("OrganizationChanged", &team.org),
            "{path}: the others refresh the member list"
        );
        let (status, body) = EventStream::try_open(goes, &team.org).await.err().unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
}

async fn deleting_the_organization_ends_its_streams(db: TestDb) {
    let team = Team::new(&db).await;
    let mut alices = EventStream::open(&team.alice, &team.org).await;
    let mut bobs = EventStream::open(&team.bob, &team.org).await;
    // A stream of another organization lives on.
    let mut bobs_own = EventStream::open(&team.bob, &team.bob.personal).await;

    let (status, body) = team
        .alice
        .delete(&format!("/v1/organizations/{}", team.org))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for stream in [&mut alices, &mut bobs] {
        assert_eq!(
            expect(stream, "OrganizationChanged").await,
            organization_event("OrganizationChanged", &team.org)
        );
        assert!(stream.ended(WITHIN).await, "the stream ends");
    }
    let own = team.bob.team_project(&team.bob.personal, "Mine").await;
    assert_eq!(
        expect(&mut bobs_own, "TeamProjectChanged").await,
        team_project_event(&team.bob.personal, &own)
    );
}

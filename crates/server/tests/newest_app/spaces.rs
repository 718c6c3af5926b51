//! The paged spaces: their ids, their counts and the parameters they refuse.

use super::*;

common::on_both_backends!(
    timeout = STORY_TIMEOUT;
    spaces_page_through_201_organizations,
    spaces_count_members_admins_and_invitations,
    spaces_refuse_bad_parameters,
);

async fn spaces_page_through_201_organizations(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    app.many_teams(&alice).await;
    let v1 = v1_ids(&alice).await;
    assert_eq!(v1.len(), TEAMS + 1);

    // The app's loop: pages of 200, `next` until null.
    let first = app.spaces(&alice, "").await;
    assert_eq!(first["data"].as_array().unwrap().len(), 200);
    assert_eq!(first["meta"]["page"]["size"], 200);
    assert_eq!(
        first["meta"]["page"]["first"],
        "/v3/users/me/spaces?page[size]=200"
    );
    assert!(first["meta"]["page"]["previous"].is_null());
    let next = first["meta"]["page"]["next"].as_str().unwrap();
    assert!(next.starts_with("/v3/users/me/spaces?page[size]=200&page[after]="));
    let second = app
        .spaces(&alice, next.strip_prefix("/v3/users/me/spaces").unwrap())
        .await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert!(second["meta"]["page"]["next"].is_null(), "{second}");
    assert!(second["meta"]["page"]["previous"].is_string());
    let mut both = ids(&first["data"]);
    both.extend(ids(&second["data"]));
    assert_eq!(
        both, v1,
        "the same ids, in the same order as /v1/organizations"
    );
    let (status, explicit) = alice.get("/v3/users/me/spaces?page[size]=200").await;
    assert_eq!((status, &explicit), (StatusCode::OK, &first));

    // The personal organization: owned, one member, not to be left; a team likewise owned.
    let personal = &first["data"][0];
    assert_eq!(
        personal,
        &json!({
            "id": alice.personal,
            "name": "Personal workspace",
            "picture": null,
            "owner_first_name": "Ada",
            "owner_last_name": "Lovelace",
            "owner_email": "alice@example.com",
            "total_members": 1,
            "total_invites": 0,
            "total_admins": 1,
            "is_owner": true,
            "can_leave": false,
        })
    );
    // Teams made within the same millisecond are ordered by their random ids, so the team is
    // found by name rather than by place.
    let team = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|space| space["name"] == "Team 000")
        .expect("Team 000 is on the first page");
    assert_eq!(team["is_owner"], true);
    assert_eq!(team["total_members"], 1);

    // Small pages, forwards and then back from the last page by `previous`.
    let mut forward: Vec<Vec<String>> = Vec::new();
    let mut page = app.spaces(&alice, "?page[size]=7").await;
    loop {
        forward.push(ids(&page["data"]));
        match page["meta"]["page"]["next"].as_str() {
            Some(next) => {
                page = app
                    .spaces(&alice, next.strip_prefix("/v3/users/me/spaces").unwrap())
                    .await;
            }
            None => break,
        }
    }
    assert_eq!(forward.len(), 201_usize.div_ceil(7));
    assert_eq!(forward.concat(), v1);
    let mut backward = vec![ids(&page["data"])];
    while let Some(previous) = page["meta"]["page"]["previous"].as_str() {
        assert!(previous.contains("page[before]="), "{previous}");
        page = app
            .spaces(
                &alice,
                previous.strip_prefix("/v3/users/me/spaces").unwrap(),
            )
            .await;
        backward.push(ids(&page["data"]));
        assert!(page["meta"]["page"]["next"].is_string());
    }
    backward.reverse();
    assert_eq!(backward, forward, "the same pages, read backwards");

    // Percent-encoded brackets, as the SDK sends them, mean the same.
    let encoded = app.spaces(&alice, "?page%5Bsize%5D=7").await;
    assert_eq!(ids(&encoded["data"]), forward[0]);

    // Filters: the shown name, case-insensitive, its wildcards literal, kept across pages.
    let (filtered, pages) = app
        .all_spaces(&alice, "?page[size]=3&filter[name][contains]=TEAM%2001")
        .await;
    assert_eq!(pages, 4);
    let listed: Vec<Value> = [&first, &second]
        .iter()
        .flat_map(|page| page["data"].as_array().unwrap().clone())
        .collect();
    assert_eq!(names(&filtered), teams_01_as_listed(&listed));
    let (personal_only, _) = app
        .all_spaces(&alice, "?filter%5Bname%5D%5Bcontains%5D=personal")
        .await;
    assert_eq!(ids(&Value::Array(personal_only)), [alice.personal.as_str()]);
    for literal in ["Team%25", "Team_0", "%5C"] {
        let (none, _) = app
            .all_spaces(&alice, &format!("?filter[name][contains]={literal}"))
            .await;
        assert!(none.is_empty(), "{literal} matched {none:?}");
    }
    let (everything, _) = app.all_spaces(&alice, "?filter[name][contains]=").await;
    assert_eq!(everything.len(), TEAMS + 1);

    // Sorts, each paged by its own cursors.
    let (by_name, _) = app.all_spaces(&alice, "?page[size]=50&sort=name").await;
    let mut sorted = names(&by_name);
    sorted.sort();
    assert_eq!(names(&by_name), sorted);
    let (by_name_desc, _) = app.all_spaces(&alice, "?page[size]=50&sort=-name").await;
    let mut reversed = names(&by_name_desc);
    reversed.reverse();
    assert_eq!(reversed, sorted);
    let (oldest, _) = app
        .all_spaces(&alice, "?page[size]=50&sort=created_at")
        .await;
    assert_eq!(ids(&Value::Array(oldest.clone())), v1);
    let (newest, _) = app
        .all_spaces(&alice, "?page[size]=50&sort=-created_at")
        .await;
    let mut newest = ids(&Value::Array(newest));
    newest.reverse();
    assert_eq!(newest, v1);

    // Another account sees only its own.
    let bob = app.actor("bob").await;
    let (bobs, _) = app.all_spaces(&bob, "").await;
    assert_eq!(ids(&Value::Array(bobs)), [bob.personal.as_str()]);
}

async fn spaces_count_members_admins_and_invitations(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let bob = app.actor("bob").await;
    let carol = app.actor("carol").await;
    let dave = app.actor("dave").await;
    let erin = app.actor("erin").await;
    let team = app.team(&alice, "Counted").await;
    app.join(&alice, &team, &bob, Role::Admin).await;
    app.join(&alice, &team, &carol, Role::Member).await;
    app.invite(&alice, &team, &dave, Role::Member).await;
    let expired = app.invite(&bob, &team, &erin, Role::Member).await;
    db.execute(&format!(
        "UPDATE invitations SET expires_at = 0 WHERE id = '{expired}'"
    ))
    .await;

    let owners_view = app.space(&alice, &team).await;
    assert_eq!(
        owners_view,
        json!({
            "id": team,
            "name": "Counted",
            "picture": null,
            "owner_first_name": "Ada",
            "owner_last_name": "Lovelace",
            "owner_email": "alice@example.com",
            "total_members": 3,
            "total_invites": 1,
            "total_admins": 2,
            "is_owner": true,
            "can_leave": false,
        }),
        "the expired invitation is not pending"
    );
    let admins_view = app.space(&bob, &team).await;
    assert_eq!(admins_view["total_invites"], 1);
    assert_eq!(admins_view["is_owner"], false);
    assert_eq!(admins_view["can_leave"], true);
    assert_eq!(admins_view["owner_email"], "alice@example.com");
    // A member may not read invitations, so it is not told how many there are.
    let members_view = app.space(&carol, &team).await;
    assert_eq!(members_view["total_members"], 3);
    assert_eq!(members_view["total_admins"], 2);
    assert_eq!(members_view["total_invites"], 0);
    assert_eq!(members_view["can_leave"], true);
    for account in [&alice, &bob, &carol, &dave] {
        let (spaces, _) = app.all_spaces(account, "").await;
        assert_eq!(ids(&Value::Array(spaces)), v1_ids(account).await);
    }
    let (daves, _) = app.all_spaces(&dave, "").await;
    assert_eq!(daves.len(), 1, "an invitation is not a membership");

    // The counts follow every change of membership.
    let org = |rest: &str| format!("/v1/organizations/{team}{rest}");
    let (status, _) = alice
        .send(
            Method::PATCH,
            &org(&format!("/members/{}/roles", carol.id)),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.space(&alice, &team).await["total_admins"], 3);
    let (status, _) = alice
        .send(Method::DELETE, &org(&format!("/members/{}", bob.id)), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let counted = app.space(&alice, &team).await;
    assert_eq!(
        (&counted["total_members"], &counted["total_admins"]),
        (&json!(2), &json!(2))
    );
    let (status, _) = carol
        .send(
            Method::DELETE,
            &org(&format!("/members/{}", carol.id)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let counted = app.space(&alice, &team).await;
    assert_eq!(
        (&counted["total_members"], &counted["total_admins"]),
        (&json!(1), &json!(1))
    );
    let (carols, _) = app.all_spaces(&carol, "").await;
    assert_eq!(carols.len(), 1, "carol left");
    // The stored counts are the rows' counts.
    assert_eq!(
        db.scalar(&format!(
            "SELECT member_count FROM organizations WHERE id = '{team}'"
        ))
        .await,
        db.scalar(&format!(
            "SELECT COUNT(*) FROM memberships WHERE organization_id = '{team}'"
        ))
        .await
    );

    // A deleted team leaves the list.
    let (status, _) = alice.send(Method::DELETE, &org(""), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (alices, _) = app.all_spaces(&alice, "").await;
    assert_eq!(ids(&Value::Array(alices)), [alice.personal.as_str()]);
}

async fn spaces_refuse_bad_parameters(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let bob = app.actor("bob").await;
    for number in 0..3 {
        app.team(&alice, &format!("Team {number}")).await;
    }
    for query in [
        "?page[size]=201",
        "?page[size]=0",
        "?page[size]=-1",
        "?page[size]=ten",
    ] {
        assert_invalid(&app, &alice, query, "page[size]").await;
    }
    let by_name = app.spaces(&alice, "?page[size]=1&sort=name").await;
    let name_next = by_name["meta"]["page"]["next"].as_str().unwrap().to_owned();
    let name_cursor = name_next
        .split("page[after]=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let plain = app.spaces(&alice, "?page[size]=1").await;
    let plain_next = plain["meta"]["page"]["next"].as_str().unwrap();
    let cursor = plain_next.split("page[after]=").nth(1).unwrap().to_owned();
    for (query, field) in [
        ("?page[after]=zz".to_owned(), "page[after]"),
        ("?page[after]=".to_owned(), "page[after]"),
        ("?page[after]=5b5d".to_owned(), "page[after]"),
        (format!("?page[after]={}", "0".repeat(4_000)), "page[after]"),
        ("?page[before]=7b7d".to_owned(), "page[before]"),
        // A cursor made for another sort.
        (format!("?page[after]={name_cursor}"), "page[after]"),
        (format!("?page[after]={cursor}&sort=name"), "page[after]"),
        (
            format!("?page[after]={cursor}&page[before]={cursor}"),
            "page[before]",
        ),
        ("?sort=owner".to_owned(), "sort"),
        ("?sort=name&sort=name".to_owned(), "sort"),
        ("?page[number]=2".to_owned(), "page[number]"),
        (
            "?filter[owner][contains]=a".to_owned(),
            "filter[owner][contains]",
        ),
        (
            format!("?filter[name][contains]={}", "a".repeat(101)),
            "filter[name][contains]",
        ),
        (
            "?filter[name][contains]=%01".to_owned(),
            "filter[name][contains]",
        ),
    ] {
        assert_invalid(&app, &alice, &query, field).await;
    }
    let answer = app
        .v3(
            Method::GET,
            Some(&alice.session),
            "/v3/users/me/spaces?page[size]=%FF",
            None,
        )
        .await;
    assert_problem(
        answer,
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        "/v3/users/me/spaces",
    );

    // A cursor only positions the page: bob's cursor into alice's order shows bob nothing of
    // hers.
    let (bobs, _) = app
        .all_spaces(&bob, &format!("?page[after]={cursor}"))
        .await;
    assert!(
        bobs.iter()
            .all(|space| space["id"] == bob.personal.as_str()),
        "{bobs:?}"
    );
}

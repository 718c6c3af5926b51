//! The collaborator list and search: the 10.x flow's invitation shown, paging, filters, and who
//! sees what.

use super::*;

common::on_both_backends!(
    a_10x_invitation_is_listed_and_accepted,
    the_collaborator_list_pages_and_filters_members_then_invitations,
    search_finds_the_organizations_people_only,
);

/// The 10.x flow on the same tables: carol is invited without keys, the newest app lists the
/// invitation, and she accepts.
async fn a_10x_invitation_is_listed_and_accepted(db: TestDb) {
    let acme = Acme::new(&db).await;
    let alice = &acme.alice;
    let carol = acme.app.actor("carol").await;
    let (status, how) = alice
        .post(
            &acme.org("/invites/instructions"),
            json!({"inviteeEmail": "carol@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{how}");
    let (status, made) = alice
        .post(
            &acme.org("/invites"),
            json!({"inviteeId": carol.id, "inviteKeys": [], "roles": ["member"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let carol_invitation = made["id"].as_str().unwrap().to_owned();
    let (_, listed) = alice.get(&acme.desk("?per_page=25&page=0")).await;
    let shown = listed["collaborators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "invite")
        .unwrap()
        .clone();
    assert_eq!(shown["id"], carol_invitation.as_str(), "{listed}");
    assert_eq!(shown["metadata"]["invitationId"], carol_invitation.as_str());
    assert_eq!(shown["metadata"]["email"], "carol@example.com");
    assert_eq!(shown["metadata"]["roleId"], "member");
    assert_eq!(shown["name"], "carol@example.com");
    let (status, _) = accept(&carol, &carol_invitation).await;
    assert_eq!(status, StatusCode::OK);
}

/// Members (alice, bob, carol, dave) by e-mail, then invitations (erin, frank, gina); pages from
/// 0 as the app counts; `next` is the next page's path. A member sees the members, not the
/// invitations (it may not read them); bad paging is refused; a non-member learns nothing.
async fn the_collaborator_list_pages_and_filters_members_then_invitations(db: TestDb) {
    let Crowd {
        acme, carol, zed, ..
    } = Crowd::new(&db).await;
    let (alice, team) = (&acme.alice, &acme.team);
    let (status, page0) = alice.get(&acme.desk("?per_page=3&page=0")).await;
    assert_eq!(status, StatusCode::OK, "{page0}");
    assert_eq!(
        (
            &page0["start"],
            &page0["limit"],
            &page0["length"],
            &page0["total"]
        ),
        (&json!(0), &json!(3), &json!(3), &json!(7)),
        "{page0}"
    );
    assert_eq!(
        page0["next"],
        format!("/v1/desktop/organizations/{team}/collaborators?per_page=3&page=1")
    );
    let first = &page0["collaborators"][0];
    assert_eq!(first["id"], alice.id.as_str());
    assert_eq!(first["type"], "member");
    assert_eq!(first["name"], "Ada Lovelace");
    assert_eq!(first["picture"], "");
    assert_eq!(first["metadata"]["userId"], alice.id.as_str());
    assert_eq!(first["metadata"]["roleId"], "owner");
    assert_eq!(first["metadata"]["email"], "alice@example.com");
    assert!(first["metadata"].get("invitationId").is_none(), "{first}");
    assert!(first["createdAt"].as_str().unwrap().ends_with('Z'));
    let mut seen = Vec::new();
    for page in 0..3 {
        let (_, listed) = alice
            .get(&acme.desk(&format!("?per_page=3&page={page}")))
            .await;
        for c in listed["collaborators"].as_array().unwrap() {
            seen.push((
                c["type"].as_str().unwrap().to_owned(),
                c["metadata"]["email"].as_str().unwrap().to_owned(),
            ));
        }
        if page == 2 {
            assert_eq!(listed["next"], "", "the last page");
            assert_eq!(listed["length"], 1);
        }
    }
    let expected: Vec<(String, String)> = [
        ("member", "alice"),
        ("member", "bob"),
        ("member", "carol"),
        ("member", "dave"),
        ("invite", "erin"),
        ("invite", "frank"),
        ("invite", "gina"),
    ]
    .iter()
    .map(|(kind, name)| ((*kind).to_owned(), format!("{name}@example.com")))
    .collect();
    assert_eq!(seen, expected);
    let (_, filtered) = alice
        .get(&acme.desk("?per_page=25&page=0&filter=FRANK"))
        .await;
    assert_eq!(filtered["total"], 1, "{filtered}");
    let frank_shown = &filtered["collaborators"][0];
    assert_eq!(frank_shown["type"], "invite");
    assert_eq!(frank_shown["metadata"]["roleId"], "admin");
    assert_eq!(frank_shown["id"], frank_shown["metadata"]["invitationId"]);
    assert!(frank_shown["metadata"]["invitationId"].as_str().is_some());
    assert!(frank_shown["metadata"]["expiresAt"].as_str().is_some());
    for (filter, total) in [
        ("lovelace", 4),
        ("ada%20love", 4),
        ("example.com", 7),
        ("%25", 0),
        // The newest app's filter arrives percent-encoded once more.
        ("bob%2540example.com", 1),
        ("ada%2520love", 4),
        ("_", 0),
        ("nobody", 0),
    ] {
        let (_, filtered) = alice
            .get(&acme.desk(&format!("?per_page=25&filter={filter}")))
            .await;
        assert_eq!(filtered["total"], total, "{filter}: {filtered}");
    }
    let (_, carols_view) = carol.get(&acme.desk("?per_page=25")).await;
    assert_eq!(carols_view["total"], 4, "{carols_view}");
    assert!(
        carols_view["collaborators"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["type"] == "member")
    );
    let long_filter = format!("?filter={}", "a".repeat(255));
    for (query, expected) in [
        ("?per_page=0", StatusCode::BAD_REQUEST),
        ("?per_page=101", StatusCode::BAD_REQUEST),
        ("?per_page=abc", StatusCode::BAD_REQUEST),
        ("?page=-1", StatusCode::BAD_REQUEST),
        (long_filter.as_str(), StatusCode::BAD_REQUEST),
        ("?page=1000000", StatusCode::OK),
    ] {
        let (status, answer) = alice.get(&acme.desk(query)).await;
        assert_eq!(status, expected, "{query}: {answer}");
    }
    let (status, _) = zed.get(&acme.desk("?per_page=25")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a non-member learns nothing");
}

/// Search: the organization's members and invitations, the e-mail as the name; never another
/// account of the server, even by its exact e-mail.
async fn search_finds_the_organizations_people_only(db: TestDb) {
    let Crowd {
        acme, carol, zed, ..
    } = Crowd::new(&db).await;
    let alice = &acme.alice;
    let frank_invitation = acme.invitation_of("frank").await;
    let (status, found) = alice.get(&acme.desk("/search/frank")).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        found,
        json!([{"id": frank_invitation, "picture": "", "type": "invite", "name": "frank@example.com"}])
    );
    let (_, found) = alice.get(&acme.desk("/search/Lovelace")).await;
    assert_eq!(found.as_array().unwrap().len(), 4, "{found}");
    assert_eq!(found[0]["name"], "alice@example.com");
    assert_eq!(found[0]["type"], "member");
    let (_, found) = alice.get(&acme.desk("/search/zed@example.com")).await;
    assert_eq!(found, json!([]), "not a member: not found");
    let (_, found) = carol.get(&acme.desk("/search/frank")).await;
    assert_eq!(found, json!([]), "a member does not see invitations");
    let (status, _) = alice
        .get(&acme.desk(&format!("/search/{}", "a".repeat(255))))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = alice.get(&acme.desk("/search/%20")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = zed.get(&acme.desk("/search/alice")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

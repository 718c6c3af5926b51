//! Reinvite (an expired invitation lives again), unlink (an invitation, a member) and the audit
//! log of the newest flow's actions.

use super::*;

common::on_both_backends!(
    reinvite_renews_an_expired_invitation_with_its_key,
    unlink_withdraws_invitations_and_removes_members,
    the_audit_log_records_the_new_actions_and_no_key,
);

/// An expired invitation is listed as such, then lives again, with its role and its key.
async fn reinvite_renews_an_expired_invitation_with_its_key(db: TestDb) {
    let Crowd {
        acme,
        carol,
        frank,
        zed,
        ..
    } = Crowd::new(&db).await;
    let alice = &acme.alice;
    let frank_invitation = acme.invitation_of("frank").await;
    db.execute(&format!(
        "UPDATE invitations SET expires_at = 0 WHERE id = '{frank_invitation}'"
    ))
    .await;
    let (_, franks) = frank.get("/v1/user/invites").await;
    assert_eq!(franks["invitations"], json!([]), "expired");
    let (_, listed) = alice.get(&acme.desk("?filter=frank")).await;
    assert_eq!(
        listed["collaborators"][0]["metadata"]["expiresAt"], "1970-01-01T00:00:00.000Z",
        "the app shows it as expired, with a Resend button"
    );
    let reinvite = acme.org(&format!("/invites/{frank_invitation}/reinvite"));
    for (who, expected) in [
        (&carol, StatusCode::FORBIDDEN),
        (&zed, StatusCode::NOT_FOUND),
    ] {
        let (status, _) = post_empty(who, &reinvite).await;
        assert_eq!(status, expected);
    }
    let (status, _) = post_empty(alice, &acme.org("/invites/inv_nothing/reinvite")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = post_empty(alice, &reinvite).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, franks) = frank.get("/v1/user/invites").await;
    assert_eq!(franks["invitations"][0]["id"], frank_invitation.as_str());
    assert_eq!(franks["invitations"][0]["roles"], json!(["admin"]));
    let (status, _) = accept(&frank, &frank_invitation).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        opened_key(&acme, &frank).await,
        acme.project_key,
        "the renewed invitation kept its key"
    );
}

/// Unlink an invitation (gina's) and a member (carol), by the ids the list hands out, with the
/// 10.x endpoints' rights and rules.
async fn unlink_withdraws_invitations_and_removes_members(db: TestDb) {
    let Crowd {
        acme,
        bob,
        carol,
        dave,
        frank,
        gina,
        zed,
    } = Crowd::new(&db).await;
    let alice = &acme.alice;
    let (status, _) = accept(&frank, &acme.invitation_of("frank").await).await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = alice.get(&acme.desk("?filter=gina")).await;
    let gina_collaborator = listed["collaborators"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unlink = |id: &str| acme.desk(&format!("/{id}/unlink"));
    for (who, id, expected) in [
        (&carol, gina_collaborator.as_str(), StatusCode::FORBIDDEN),
        (&carol, bob.id.as_str(), StatusCode::FORBIDDEN),
        (&zed, gina_collaborator.as_str(), StatusCode::NOT_FOUND),
        (alice, alice.id.as_str(), StatusCode::CONFLICT),
        (alice, "inv_nothing", StatusCode::NOT_FOUND),
        (alice, zed.id.as_str(), StatusCode::NOT_FOUND),
        (alice, "not%20an%20id", StatusCode::BAD_REQUEST),
    ] {
        let (status, answer) = who.delete(&unlink(id)).await;
        assert_eq!(status, expected, "{id}: {answer}");
    }
    let (status, _) = alice.delete(&unlink(&gina_collaborator)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, ginas) = gina.get("/v1/user/invites").await;
    assert_eq!(ginas["invitations"], json!([]), "withdrawn");
    let (status, _) = dave.delete(&unlink(&carol.id)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "an admin removes a member");
    let (status, _) = carol.get(&acme.desk("?per_page=25")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "carol is no longer a member");
    let (_, listed) = alice.get(&acme.desk("?per_page=25")).await;
    let left: Vec<&str> = listed["collaborators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["metadata"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        left,
        [
            "alice@example.com",
            "bob@example.com",
            "dave@example.com",
            "frank@example.com",
            "erin@example.com",
        ],
        "members (frank now too), then erin's invitation"
    );
}

/// The audit log records the newest flow's actions as the 10.x ones, never a key: an invitation
/// with keys made and accepted, a key reconciled, an invitation renewed and one withdrawn, a
/// member removed.
async fn the_audit_log_records_the_new_actions_and_no_key(db: TestDb) {
    let acme = Acme::new(&db).await;
    let alice = &acme.alice;
    let [bob, carol, frank] = acme.app.actors(["bob", "carol", "frank"]).await;
    acme.join(&carol, Role::Member).await;
    let sent = acme.add_newest(alice, &[&bob, &frank], "member").await;
    let for_bob = sent[bob.id.as_str()]["prj_1"]["encKey"].as_str().unwrap();
    let (status, _) = accept(&bob, &acme.invitation_of("bob").await).await;
    assert_eq!(status, StatusCode::OK);
    let carol_public = carol.user.private.public_key().unwrap();
    let (status, _) = alice
        .post(
            &acme.org("/reconcile-keys"),
            json!({"keys": [{
                "projectId": "prj_1",
                "accountId": carol.id,
                "encSymmetricKey": carol_public.encrypt_string(&acme.project_key).unwrap(),
            }]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let frank_invitation = acme.invitation_of("frank").await;
    let reinvite = acme.org(&format!("/invites/{frank_invitation}/reinvite"));
    let (status, _) = post_empty(alice, &reinvite).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for id in [frank_invitation.as_str(), carol.id.as_str()] {
        let (status, _) = alice.delete(&acme.desk(&format!("/{id}/unlink"))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }

    let (_, log) = alice.get(&acme.org("/audit-log?limit=100")).await;
    let text = log.to_string();
    for action in [
        "invitation.created",
        "invitation.accepted",
        "invitation.renewed",
        "invitation.withdrawn",
        "membership.removed",
        "project_keys.shared",
    ] {
        assert!(text.contains(action), "{action} missing from {log}");
    }
    assert!(!text.contains(for_bob), "key material in the audit log");
}

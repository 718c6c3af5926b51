//! Teams, members and team projects, each confined to its organization.

use hypnos_server::storage::{Conflict, NewTeam, OrganizationKind, Role, StoreError, TeamProject};

use crate::common::{self, TestDb};
use crate::fixtures::*;

common::on_both_backends!(
    teams_are_created_listed_ruled_and_deleted,
    members_and_team_projects_stay_in_their_organization,
);

async fn teams_are_created_listed_ruled_and_deleted(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;

    // The personal organization comes first, even after a team created earlier.
    let team = store
        .create_team(
            NewTeam {
                id: "org_team".into(),
                name: "Acme".into(),
                owner_account_id: alice.clone(),
                now_ms: T0 - 1_000,
            },
            event("evt_1", "org_team", T0 - 1_000, "organization.created"),
        )
        .await
        .unwrap();
    assert_eq!(team.kind, OrganizationKind::Team);
    assert_eq!(team.display_name, "Acme");
    assert_eq!(team.storage_rule, "cloud_plus_local");
    let listed = store.memberships_of(&alice).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|m| m.organization.id.as_str()).collect();
    assert_eq!(ids, ["org_alice", "org_team"]);
    assert!(listed.iter().all(|m| m.role == Role::Owner));
    assert_eq!(listed[1].organization, team);
    assert_eq!(
        store.memberships_of(&bob).await.unwrap().len(),
        1,
        "bob has only his own"
    );

    // Membership: a non-member and an unknown organization look the same.
    assert!(
        store
            .membership(&"org_team".into(), &bob)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .membership(&"org_nope".into(), &alice)
            .await
            .unwrap()
            .is_none()
    );
    add_member(&db, "org_team", &bob).await;
    let bobs = store
        .membership(&"org_team".into(), &bob)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bobs.role, Role::Member);
    assert_eq!(bobs.organization.owner_account_id, alice);

    // A second team with a taken id: a conflict, and nothing of it is written.
    let again = store
        .create_team(
            NewTeam {
                id: "org_team".into(),
                name: "Again".into(),
                owner_account_id: bob.clone(),
                now_ms: T0,
            },
            event("evt_x", "org_team", T0, "organization.created"),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_events WHERE id = 'evt_x'")
            .await,
        0
    );

    // The storage rule, with its audit event in the same transaction.
    store
        .set_storage_rule(
            &"org_team".into(),
            "cloud_only",
            event("evt_2", "org_team", T0 + 10, "storage_rule.changed"),
        )
        .await
        .unwrap();
    let rule = store
        .membership(&"org_team".into(), &bob)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rule.organization.storage_rule, "cloud_only");
    let missing = store
        .set_storage_rule(
            &"org_nope".into(),
            "local_only",
            event("evt_3", "org_nope", T0 + 20, "storage_rule.changed"),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    // The audit log: newest first, paged by time.
    let log = store
        .audit_events(&"org_team".into(), i64::MAX, 10)
        .await
        .unwrap();
    let ids: Vec<&str> = log.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["evt_2", "evt_1"]);
    assert_eq!(log[0].action, "storage_rule.changed");
    assert_eq!(log[0].actor_account_id.as_deref(), Some("acct_alice"));
    let older = store
        .audit_events(&"org_team".into(), T0 + 10, 10)
        .await
        .unwrap();
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].id, "evt_1");
    assert_eq!(
        store
            .audit_events(&"org_team".into(), i64::MAX, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .audit_events(&"org_alice".into(), i64::MAX, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Deleting: a personal organization refuses; a team goes with its members and its log.
    let personal = store.delete_team(&"org_alice".into()).await;
    assert!(
        matches!(
            personal,
            Err(StoreError::Conflict(Conflict::PersonalOrganization))
        ),
        "{personal:?}"
    );
    store.delete_team(&"org_team".into()).await.unwrap();
    assert!(
        store
            .membership(&"org_team".into(), &bob)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.memberships_of(&alice).await.unwrap().len(), 1);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_events WHERE organization_id = 'org_team'")
            .await,
        0
    );
    let twice = store.delete_team(&"org_team".into()).await;
    assert!(matches!(twice, Err(StoreError::NotFound)), "{twice:?}");
}

async fn members_and_team_projects_stay_in_their_organization(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;
    let carol = sign_up(&store, "carol").await;
    create_team(&store, "org_a", &alice).await;
    create_team(&store, "org_b", &bob).await;
    join(&store, "org_a", &alice, &bob).await;
    join(&store, "org_a", &alice, &carol).await;
    let ev = |id: &str, org: &str| event(id, org, T0, "test");

    // Members: by e-mail, paged, filtered with LIKE's wildcards taken literally.
    let (page, total) = store
        .members(&OrgId::from("org_a"), None, 0, 10)
        .await
        .unwrap();
    assert_eq!(total, 3);
    let emails: Vec<&str> = page.iter().map(|m| m.email.as_str()).collect();
    assert_eq!(
        emails,
        ["alice@example.com", "bob@example.com", "carol@example.com"]
    );
    assert_eq!(page[0].role, Role::Owner);
    let (page, total) = store
        .members(&OrgId::from("org_a"), None, 1, 1)
        .await
        .unwrap();
    assert_eq!((page[0].account_id.as_str(), total), (bob.as_str(), 3));
    let (page, total) = store
        .members(&OrgId::from("org_a"), Some("CAROL"), 0, 10)
        .await
        .unwrap();
    assert_eq!((page.len(), total), (1, 1));
    for pattern in ["%", "_", "\\"] {
        let (_, total) = store
            .members(&OrgId::from("org_a"), Some(pattern), 0, 10)
            .await
            .unwrap();
        assert_eq!(total, 0, "{pattern:?} is a character, not a wildcard");
    }

    // Roles: the owner keeps the role; nobody else becomes owner; non-members are not found.
    store
        .set_member_role(
            &OrgId::from("org_a"),
            &bob,
            Role::Admin,
            ev("evt_1", "org_a"),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .membership(&OrgId::from("org_a"), &bob)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Admin
    );
    for (account, role) in [(&alice, Role::Member), (&carol, Role::Owner)] {
        let result = store
            .set_member_role(&OrgId::from("org_a"), account, role, ev("evt_x", "org_a"))
            .await;
        assert!(
            matches!(result, Err(StoreError::Conflict(Conflict::OwnerStays))),
            "{result:?}"
        );
    }
    let outsider = store
        .set_member_role(
            &OrgId::from("org_b"),
            &carol,
            Role::Admin,
            ev("evt_y", "org_b"),
        )
        .await;
    assert!(
        matches!(outsider, Err(StoreError::NotFound)),
        "{outsider:?}"
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_events WHERE id IN ('evt_x', 'evt_y')")
            .await,
        0,
        "refused changes record nothing"
    );

    // Removal: not the owner; a member once, with its invitations in that organization only.
    db.execute(&format!(
        "INSERT INTO invitations (organization_id, id, invitee_account_id, inviter_account_id, \
         role, created_at, expires_at) VALUES \
         ('org_a', 'inv_1', '{carol}', '{alice}', 'member', {T0}, {T0}), \
         ('org_b', 'inv_2', '{carol}', '{bob}', 'member', {T0}, {T0});"
    ))
    .await;
    let owner = store
        .remove_member(&OrgId::from("org_a"), &alice, ev("evt_2", "org_a"))
        .await;
    assert!(
        matches!(owner, Err(StoreError::Conflict(Conflict::OwnerStays))),
        "{owner:?}"
    );
    store
        .remove_member(&OrgId::from("org_a"), &carol, ev("evt_3", "org_a"))
        .await
        .unwrap();
    assert!(
        store
            .membership(&OrgId::from("org_a"), &carol)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM invitations WHERE id = 'inv_1'")
            .await,
        0
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM invitations WHERE id = 'inv_2'")
            .await,
        1,
        "another organization's invitation stays"
    );
    let again = store
        .remove_member(&OrgId::from("org_a"), &carol, ev("evt_4", "org_a"))
        .await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");

    // Team projects: listed per organization; another organization's id is not found.
    let project = |org: &str, id: &str, at: i64| TeamProject {
        id: id.into(),
        organization_id: org.into(),
        name: format!("Project {id}"),
        created_at: at,
    };
    store
        .create_team_project(project("org_a", "proj_2", T0 + 1), ev("evt_5", "org_a"))
        .await
        .unwrap();
    store
        .create_team_project(project("org_a", "proj_1", T0), ev("evt_6", "org_a"))
        .await
        .unwrap();
    store
        .create_team_project(project("org_b", "proj_b", T0), ev("evt_7", "org_b"))
        .await
        .unwrap();
    let ids: Vec<String> = store
        .team_projects(&OrgId::from("org_a"))
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["proj_1", "proj_2"]);
    let taken = store
        .create_team_project(project("org_a", "proj_b", T0), ev("evt_8", "org_a"))
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    store
        .rename_team_project(
            &OrgId::from("org_a"),
            "proj_1",
            "Renamed",
            ev("evt_9", "org_a"),
        )
        .await
        .unwrap();
    for result in [
        store
            .rename_team_project(
                &OrgId::from("org_a"),
                "proj_b",
                "Mine",
                ev("evt_10", "org_a"),
            )
            .await,
        store
            .delete_team_project(&OrgId::from("org_a"), "proj_b", ev("evt_11", "org_a"))
            .await,
    ] {
        assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    }
    assert_eq!(
        store.team_projects(&OrgId::from("org_b")).await.unwrap()[0].name,
        "Project proj_b"
    );
    store
        .delete_team_project(&OrgId::from("org_a"), "proj_1", ev("evt_12", "org_a"))
        .await
        .unwrap();
    assert_eq!(
        store
            .team_projects(&OrgId::from("org_a"))
            .await
            .unwrap()
            .len(),
        1
    );
}

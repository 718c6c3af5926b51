//! Synced projects: keys for exactly the members, fast-forward pushes, blobs stored once, racing pushers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hypnos_server::storage::{Conflict, NewTeam, Project, Role, Store, StoreError, TeamProject};

use crate::common::{self, TestDb};
use crate::fixtures::*;

common::on_both_backends!(
    projects_need_keys_for_exactly_the_members,
    projects_of_account_equal_the_per_organization_lists,
    pushes_fast_forward_atomically_and_blobs_are_stored_once,
    racing_pushes_lose_no_snapshot,
);

async fn projects_need_keys_for_exactly_the_members(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;
    create_team(&store, "org_a", &alice).await;
    join(&store, "org_a", &alice, &bob).await;
    create_team(&store, "org_b", &bob).await;
    let ev = |id: &str, org: &str| event(id, org, T0, "project.created");

    // Keys for a subset, a stranger, or twice for one member: refused, nothing written.
    for keys in [
        vec![key_for(&alice)],
        vec![key_for(&alice), key_for(&bob), key_for("acct_stranger")],
        vec![key_for(&alice), key_for(&alice)],
    ] {
        let result = store
            .create_project(project("org_a", "prj_1"), keys, ev("evt_x", "org_a"))
            .await;
        assert!(
            matches!(result, Err(StoreError::Conflict(Conflict::KeysMismatch))),
            "{result:?}"
        );
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM projects").await, 0);
    let keys = vec![key_for(&alice), key_for(&bob)];
    let made = store
        .create_project(
            project("org_a", "prj_1"),
            keys.clone(),
            ev("evt_1", "org_a"),
        )
        .await
        .unwrap();
    assert_eq!(made, project("org_a", "prj_1"));
    // The same again: the stored one, nothing new.
    let mut renamed = project("org_a", "prj_1");
    renamed.name = "Other".into();
    let again = store
        .create_project(renamed, keys.clone(), ev("evt_2", "org_a"))
        .await
        .unwrap();
    assert_eq!(again.name, "Project prj_1");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_events WHERE id = 'evt_2'")
            .await,
        0
    );
    // Its id in another organization: refused.
    let elsewhere = store
        .create_project(
            project("org_b", "prj_1"),
            vec![key_for(&bob)],
            ev("evt_3", "org_b"),
        )
        .await;
    assert!(
        matches!(elsewhere, Err(StoreError::Conflict(_))),
        "{elsewhere:?}"
    );
    // An unknown team project: refused.
    let mut under = project("org_a", "prj_2");
    under.team_project_id = Some("proj_nope".into());
    let orphan = store
        .create_project(under, keys.clone(), ev("evt_4", "org_a"))
        .await;
    assert!(matches!(orphan, Err(StoreError::Conflict(_))), "{orphan:?}");

    // Found through membership only; listed by team project.
    let (found, role) = store
        .project_of(&bob, &ProjectId::from("prj_1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.organization_id.as_str(), role),
        ("org_a", Role::Member)
    );
    let carol = sign_up(&store, "carol").await;
    assert!(
        store
            .project_of(&carol, &ProjectId::from("prj_1"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .project_of(&alice, &ProjectId::from("prj_nope"))
            .await
            .unwrap()
            .is_none()
    );
    db.execute(&format!(
        "INSERT INTO team_projects (organization_id, id, name, created_at) \
         VALUES ('org_a', 'proj_t', 'T', {T0});"
    ))
    .await;
    let mut under = project("org_a", "prj_3");
    under.team_project_id = Some("proj_t".into());
    store
        .create_project(under, keys, ev("evt_5", "org_a"))
        .await
        .unwrap();
    let all = store
        .projects_in(&OrgId::from("org_a"), None)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["prj_1", "prj_3"]
    );
    let under_t = store
        .projects_in(&OrgId::from("org_a"), Some("proj_t"))
        .await
        .unwrap();
    assert_eq!(under_t.len(), 1);
    assert!(
        store
            .projects_in(&OrgId::from("org_b"), None)
            .await
            .unwrap()
            .is_empty()
    );

    // Keys: each member's own; public keys of every member.
    assert_eq!(
        store
            .project_key(&OrgId::from("org_a"), &ProjectId::from("prj_1"), &bob)
            .await
            .unwrap()
            .as_deref(),
        Some(format!("key-for-{bob}").as_str())
    );
    assert!(
        store
            .project_key(&OrgId::from("org_a"), &ProjectId::from("prj_1"), &carol)
            .await
            .unwrap()
            .is_none()
    );
    let publics = store
        .member_public_keys(&OrgId::from("org_a"))
        .await
        .unwrap();
    assert_eq!(publics.len(), 2);
    assert!(publics.contains(&(bob.to_string(), "public-key-bob".into())));

    // Archiving takes everything of the project.
    store
        .archive_project(
            &OrgId::from("org_a"),
            &ProjectId::from("prj_1"),
            ev("evt_6", "org_a"),
        )
        .await
        .unwrap();
    assert!(
        store
            .project_of(&alice, &ProjectId::from("prj_1"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM project_keys WHERE project_id = 'prj_1'")
            .await,
        0
    );
    let twice = store
        .archive_project(
            &OrgId::from("org_a"),
            &ProjectId::from("prj_1"),
            ev("evt_7", "org_a"),
        )
        .await;
    assert!(matches!(twice, Err(StoreError::NotFound)), "{twice:?}");
}

async fn pushes_fast_forward_atomically_and_blobs_are_stored_once(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    create_team(&store, "org_a", &alice).await;
    let ev = event("evt_1", "org_a", T0, "project.created");
    store
        .create_project(project("org_a", "prj_1"), vec![key_for(&alice)], ev)
        .await
        .unwrap();
    let empty = hypnos_crypto::sync::EMPTY_HASH;
    let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // Blobs: stored once; missing and fetched in the order asked.
    let b = ["a".repeat(40), "b".repeat(40), "c".repeat(40)];
    assert_eq!(
        store
            .blobs_missing(
                &OrgId::from("org_a"),
                &ProjectId::from("prj_1"),
                &ids(&[&b[1], &b[0]])
            )
            .await
            .unwrap(),
        ids(&[&b[1], &b[0]])
    );
    let created = store
        .create_blobs(
            &OrgId::from("org_a"),
            &ProjectId::from("prj_1"),
            vec![blob(&b[0]), blob(&b[1]), blob(&b[0])],
        )
        .await
        .unwrap();
    assert_eq!(created, 2, "a blob is stored once");
    assert_eq!(
        store
            .blobs_missing(
                &OrgId::from("org_a"),
                &ProjectId::from("prj_1"),
                &ids(&[&b[2], &b[0], &b[2]])
            )
            .await
            .unwrap(),
        ids(&[&b[2]])
    );
    let fetched = store
        .blobs(
            &OrgId::from("org_a"),
            &ProjectId::from("prj_1"),
            &ids(&[&b[1], &b[2], &b[0]]),
        )
        .await
        .unwrap();
    assert_eq!(
        fetched.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
        [&b[1], &b[0]]
    );
    assert!(
        store
            .blobs(
                &OrgId::from("org_b"),
                &ProjectId::from("prj_1"),
                &ids(&[&b[0]])
            )
            .await
            .unwrap()
            .is_empty()
    );

    // A new branch starts from the empty hash; the next push continues its tip.
    let s1 = snapshot("prj_1", empty, &[&b[0]]);
    let s2 = snapshot("prj_1", &s1.id, &[&b[0], &b[1]]);
    store
        .push_snapshots(
            &OrgId::from("org_a"),
            &ProjectId::from("prj_1"),
            "master",
            vec![s1.clone()],
            ids(&[&b[0]]),
            T0,
        )
        .await
        .unwrap();
    store
        .push_snapshots(
            &OrgId::from("org_a"),
            &ProjectId::from("prj_1"),
            "master",
            vec![s2.clone()],
            ids(&[&b[0], &b[1]]),
            T0 + 5,
        )
        .await
        .unwrap();
    let master = store
        .branch(&OrgId::from("org_a"), &ProjectId::from("prj_1"), "master")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(master.snapshots, [s1.id.clone(), s2.id.clone()]);
    assert_eq!((master.created_at, master.modified_at), (T0, T0 + 5));

    // Refused, each changing nothing: a stale parent, a missing blob, a new branch not from
    // the empty hash.
    let stale = snapshot("prj_1", &s1.id, &[&b[1]]);
    let missing = snapshot("prj_1", &s2.id, &[&b[2]]);
    for (branch, pushed, blob_ids, expected) in [
        (
            "master",
            stale.clone(),
            ids(&[&b[1]]),
            Conflict::NotFastForward,
        ),
        (
            "master",
            missing.clone(),
            ids(&[&b[2]]),
            Conflict::MissingBlobs,
        ),
        (
            "feature",
            stale.clone(),
            ids(&[&b[1]]),
            Conflict::NotFastForward,
        ),
    ] {
        let result = store
            .push_snapshots(
                &OrgId::from("org_a"),
                &ProjectId::from("prj_1"),
                branch,
                vec![pushed],
                blob_ids,
                T0 + 9,
            )
            .await;
        assert!(
            matches!(result, Err(StoreError::Conflict(label)) if label == expected),
            "{branch}: {result:?}"
        );
    }
    let unchanged = store
        .branch(&OrgId::from("org_a"), &ProjectId::from("prj_1"), "master")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged, master);
    assert!(
        store
            .branch(&OrgId::from("org_a"), &ProjectId::from("prj_1"), "feature")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM snapshots").await, 2);

    // A batch: a new branch sharing master's history, then its own snapshot.
    let s3 = snapshot("prj_1", &s2.id, &[&b[1]]);
    store
        .push_snapshots(
            &OrgId::from("org_a"),
            &ProjectId::from("prj_1"),
            "feature",
            vec![
                snapshot("prj_1", empty, &[&b[0]]),
                snapshot("prj_1", &s1.id, &[&b[0], &b[1]]),
                s3.clone(),
            ],
            ids(&[&b[0], &b[1]]),
            T0 + 10,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .branch_names(&OrgId::from("org_a"), &ProjectId::from("prj_1"))
            .await
            .unwrap(),
        ["feature", "master"]
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM snapshots").await,
        3,
        "shared snapshots once"
    );
    let got = store
        .snapshots(
            &OrgId::from("org_a"),
            &ProjectId::from("prj_1"),
            &[s3.id.clone(), "f".repeat(40), s1.id.clone()],
        )
        .await
        .unwrap();
    assert_eq!(got, [s3.clone(), s1.clone()]);

    // Removing a branch keeps the snapshots others use.
    store
        .remove_branch(&OrgId::from("org_a"), &ProjectId::from("prj_1"), "feature")
        .await
        .unwrap();
    let again = store
        .remove_branch(&OrgId::from("org_a"), &ProjectId::from("prj_1"), "feature")
        .await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
    assert_eq!(
        store
            .branch_names(&OrgId::from("org_a"), &ProjectId::from("prj_1"))
            .await
            .unwrap(),
        ["master"]
    );
    assert_eq!(
        store
            .snapshots(
                &OrgId::from("org_a"),
                &ProjectId::from("prj_1"),
                std::slice::from_ref(&s1.id)
            )
            .await
            .unwrap(),
        [s1]
    );
}

/// Eight pushers on one branch, each pushing its own snapshot onto the tip it last read and
/// retrying when it loses: every snapshot lands exactly once, in a chain.
async fn racing_pushes_lose_no_snapshot(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    create_team(&store, "org_a", &alice).await;
    let ev = event("evt_1", "org_a", T0, "project.created");
    store
        .create_project(project("org_a", "prj_1"), vec![key_for(&alice)], ev)
        .await
        .unwrap();
    let blob_ids: Vec<String> = (0..8).map(|i| format!("{i:0>40}")).collect();
    store
        .create_blobs(
            &OrgId::from("org_a"),
            &ProjectId::from("prj_1"),
            blob_ids.iter().map(|id| blob(id)).collect(),
        )
        .await
        .unwrap();
    let losses = Arc::new(AtomicUsize::new(0));
    let mut pushers = tokio::task::JoinSet::new();
    for blob_id in blob_ids.clone() {
        let (store, losses) = (store.clone(), losses.clone());
        pushers.spawn(async move {
            loop {
                let tip = store
                    .branch(&OrgId::from("org_a"), &ProjectId::from("prj_1"), "master")
                    .await
                    .unwrap()
                    .and_then(|branch| branch.snapshots.last().cloned())
                    .unwrap_or_else(|| hypnos_crypto::sync::EMPTY_HASH.to_owned());
                let mine = snapshot("prj_1", &tip, &[&blob_id]);
                match store
                    .push_snapshots(
                        &OrgId::from("org_a"),
                        &ProjectId::from("prj_1"),
                        "master",
                        vec![mine],
                        vec![blob_id.clone()],
                        T0,
                    )
                    .await
                {
                    Ok(()) => return,
                    Err(StoreError::Conflict(Conflict::NotFastForward)) => {
                        losses.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(other) => panic!("a push failed otherwise: {other:?}"),
                }
            }
        });
    }
    while let Some(done) = pushers.join_next().await {
        done.unwrap();
    }
    let master = store
        .branch(&OrgId::from("org_a"), &ProjectId::from("prj_1"), "master")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(master.snapshots.len(), 8);
    let chain = store
        .snapshots(
            &OrgId::from("org_a"),
            &ProjectId::from("prj_1"),
            &master.snapshots,
        )
        .await
        .unwrap();
    let mut parent = hypnos_crypto::sync::EMPTY_HASH.to_owned();
    let mut blobs_seen = std::collections::BTreeSet::new();
    for snapshot in &chain {
        assert_eq!(snapshot.parent, parent, "a chain");
        parent = snapshot.id.clone();
        let state: serde_json::Value = serde_json::from_str(&snapshot.state).unwrap();
        blobs_seen.insert(state[0]["blob"].as_str().unwrap().to_owned());
    }
    assert_eq!(blobs_seen.len(), 8, "each pusher's snapshot exactly once");
    eprintln!(
        "racing pushes: {} lost rounds",
        losses.load(Ordering::Relaxed)
    );
}

/// What `projects_of_account` replaces: `memberships_of`, then `projects_in` for each
/// organization, each project with its organization's shown name.
async fn projects_per_organization(
    store: &Arc<dyn Store>,
    account_id: &str,
    team_project_id: Option<&str>,
) -> Vec<(Project, String)> {
    let mut projects = Vec::new();
    for membership in store
        .memberships_of(&AccountId::from(account_id))
        .await
        .unwrap()
    {
        let organization = membership.organization;
        for project in store
            .projects_in(&organization.id, team_project_id)
            .await
            .unwrap()
        {
            projects.push((project, organization.display_name.clone()));
        }
    }
    projects
}

async fn projects_of_account_equal_the_per_organization_lists(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let carol = sign_up(&store, "carol").await;
    // Alice: her personal organization, a team she owns and Carol's team; not Carol's other one.
    for (org, owner, at) in [
        ("org_mine", &alice, T0 + 10),
        ("org_shared", &carol, T0 + 5),
        ("org_apart", &carol, T0 + 1),
    ] {
        let team = NewTeam {
            id: org.into(),
            name: format!("Team {org}"),
            owner_account_id: owner.clone(),
            now_ms: at,
        };
        let made = store.create_team(
            team,
            event(&format!("evt_{org}"), org, at, "organization.created"),
        );
        made.await.unwrap();
    }
    join(&store, "org_shared", &carol, &alice).await;
    let filed = TeamProject {
        id: "proj_filed".into(),
        organization_id: "org_mine".into(),
        name: "Filed".into(),
        created_at: T0,
    };
    let ev = event("evt_filed", "org_mine", T0, "team_project.created");
    store.create_team_project(filed, ev).await.unwrap();
    // Projects made out of order, so that the lists must sort them.
    let made = [
        (
            "org_mine",
            "prj_m2",
            Some("proj_filed"),
            T0 + 3,
            vec![alice.clone()],
        ),
        ("org_mine", "prj_m1", None, T0 + 2, vec![alice.clone()]),
        ("org_alice", "prj_p2", None, T0 + 9, vec![alice.clone()]),
        ("org_alice", "prj_p1", None, T0 + 9, vec![alice.clone()]),
        (
            "org_shared",
            "prj_s1",
            None,
            T0 + 1,
            vec![alice.clone(), carol.clone()],
        ),
        ("org_apart", "prj_x1", None, T0, vec![carol.clone()]),
        ("org_carol", "prj_c1", None, T0, vec![carol.clone()]),
    ];
    for (org, id, under, at, holders) in made {
        let mut new = project(org, id);
        new.team_project_id = under.map(str::to_owned);
        new.created_at = at;
        let keys = holders.iter().map(|holder| key_for(holder)).collect();
        let ev = event(&format!("evt_{id}"), org, at, "project.created");
        store.create_project(new, keys, ev).await.unwrap();
    }

    for under in [None, Some("proj_filed"), Some("proj_nope")] {
        let expected = projects_per_organization(&store, &alice, under).await;
        let found = store.projects_of_account(&alice, under).await.unwrap();
        assert_eq!(found, expected, "under {under:?}");
    }
    let all = store.projects_of_account(&alice, None).await.unwrap();
    let listed: Vec<(&str, &str)> = all
        .iter()
        .map(|(project, shown)| (project.id.as_str(), shown.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("prj_p1", "Personal workspace"),
            ("prj_p2", "Personal workspace"),
            ("prj_s1", "Team org_shared"),
            ("prj_m1", "Team org_mine"),
            ("prj_m2", "Team org_mine"),
        ]
    );
    assert!(
        store
            .projects_of_account(&AccountId::from("acct_nobody"), None)
            .await
            .unwrap()
            .is_empty()
    );
}

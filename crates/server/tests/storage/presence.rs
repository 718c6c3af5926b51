//! Presence: one place per member of an organization, listed while it lasts, refreshed,
//! removed and swept; on PostgreSQL confined by row-level security.

use std::sync::Arc;

use hypnos_server::storage::{PresenceEntry, PresentMember, Store, StoreError, TeamProject};

use crate::common::{self, TestDb};
use crate::fixtures::*;

common::on_both_backends!(presence_is_one_lasting_place_per_member,);

/// A team project `id` of `org`.
async fn team_project(store: &Arc<dyn Store>, org: &str, id: &str) {
    let project = TeamProject {
        id: id.into(),
        organization_id: org.into(),
        name: id.into(),
        created_at: T0,
    };
    let created = event(&format!("evt_{id}"), org, T0, "team_project.created");
    store.create_team_project(project, created).await.unwrap();
}

/// `account`'s place in `org` until `expires_at`.
fn at(
    org: &str,
    account: &str,
    project: &str,
    file: Option<&str>,
    expires_at: i64,
) -> PresenceEntry {
    PresenceEntry {
        organization_id: org.into(),
        account_id: account.into(),
        team_project_id: project.into(),
        workspace_id: file.map(str::to_owned),
        expires_at,
    }
}

/// The accounts of a list, in its order.
fn accounts(list: &[PresentMember]) -> Vec<&str> {
    list.iter()
        .map(|member| member.entry.account_id.as_str())
        .collect()
}

/// Only a current member at a team project of the organization gets a place; setting one
/// returns the place it replaces; the list holds current members' places that have not expired,
/// freshest first, with their names, and no more than asked; a refresh only pushes expiries
/// forward; a removal takes a place only if it was not refreshed past the bound; the sweep
/// takes expired places of every organization, oldest first, a bounded number at a time; an
/// organization's deletion takes its places.
async fn presence_is_one_lasting_place_per_member(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;
    let carol = sign_up(&store, "carol").await;
    create_team(&store, "org_a", &alice).await;
    join(&store, "org_a", &alice, &bob).await;
    create_team(&store, "org_b", &carol).await;
    team_project(&store, "org_a", "proj_a").await;
    team_project(&store, "org_b", "proj_b").await;

    for refused in [
        at("org_a", &carol, "proj_a", None, T0 + 100),
        at("org_a", &bob, "proj_b", None, T0 + 100),
        at("org_a", &bob, "proj_none", None, T0 + 100),
        at("org_none", &bob, "proj_a", None, T0 + 100),
    ] {
        let result = store.set_presence(refused.clone()).await;
        assert!(
            matches!(result, Err(StoreError::NotFound)),
            "{refused:?}: {result:?}"
        );
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM presence").await, 0);

    let first = at("org_a", &alice, "proj_a", Some("wrk_1"), T0 + 100);
    assert_eq!(store.set_presence(first.clone()).await.unwrap(), None);
    let moved = at("org_a", &alice, "proj_a", None, T0 + 200);
    assert_eq!(
        store.set_presence(moved.clone()).await.unwrap(),
        Some(first)
    );
    let bobs = at("org_a", &bob, "proj_a", Some("wrk_2"), T0 + 150);
    assert_eq!(store.set_presence(bobs.clone()).await.unwrap(), None);
    let carols = at("org_b", &carol, "proj_b", Some("wrk_3"), T0 + 350);
    store.set_presence(carols.clone()).await.unwrap();

    let org_a = OrgId::from("org_a");
    let listed = store.present_members(&org_a, T0, 1000).await.unwrap();
    assert_eq!(
        listed,
        [
            PresentMember {
                entry: moved.clone(),
                first_name: "First alice".into(),
                last_name: "Last alice".into(),
            },
            PresentMember {
                entry: bobs.clone(),
                first_name: "First bob".into(),
                last_name: "Last bob".into(),
            },
        ]
    );
    let listed = store.present_members(&org_a, T0, 1).await.unwrap();
    assert_eq!(accounts(&listed), [alice.as_str()]);
    let listed = store.present_members(&org_a, T0 + 150, 1000).await.unwrap();
    assert_eq!(accounts(&listed), [alice.as_str()], "bob's place expired");

    // Refreshed forward only, and only where there is a place.
    let pairs = [
        (org_a.clone(), alice.clone()),
        (org_a.clone(), bob.clone()),
        (org_a.clone(), carol.clone()),
    ];
    assert_eq!(store.refresh_presence(&pairs, T0 + 300).await.unwrap(), 2);
    assert_eq!(
        store.refresh_presence(&pairs[..1], T0 + 250).await.unwrap(),
        0
    );
    assert_eq!(store.refresh_presence(&[], T0 + 999).await.unwrap(), 0);
    let listed = store.present_members(&org_a, T0 + 250, 1000).await.unwrap();
    assert_eq!(accounts(&listed).len(), 2, "both refreshed");

    // A member who left is no longer listed; its place stays until it is taken.
    let removed = event("evt_bob_out", "org_a", T0, "membership.removed");
    store.remove_member(&org_a, &bob, removed).await.unwrap();
    let listed = store.present_members(&org_a, T0, 1000).await.unwrap();
    assert_eq!(accounts(&listed), [alice.as_str()]);

    // Removal: not a place refreshed past the bound; once.
    assert_eq!(
        store
            .remove_presence(&org_a, &alice, T0 + 299)
            .await
            .unwrap(),
        None
    );
    let taken = store
        .remove_presence(&org_a, &alice, T0 + 300)
        .await
        .unwrap();
    assert_eq!(taken, Some(at("org_a", &alice, "proj_a", None, T0 + 300)));
    assert_eq!(
        store
            .remove_presence(&org_a, &alice, i64::MAX)
            .await
            .unwrap(),
        None
    );

    // The sweep: expired places of every organization, oldest first, bounded.
    let again = at("org_a", &alice, "proj_a", Some("wrk_4"), T0 + 400);
    assert_eq!(store.set_presence(again.clone()).await.unwrap(), None);
    assert_eq!(
        store.take_expired_presence(T0 + 299, 1000).await.unwrap(),
        []
    );
    let swept = store.take_expired_presence(T0 + 400, 1).await.unwrap();
    assert_eq!(
        swept,
        [at("org_a", &bob, "proj_a", Some("wrk_2"), T0 + 300)]
    );
    let swept = store.take_expired_presence(T0 + 400, 1000).await.unwrap();
    assert_eq!(swept, [carols, again]);
    assert_eq!(
        store.take_expired_presence(T0 + 400, 1000).await.unwrap(),
        []
    );

    // An organization's deletion takes its places.
    let back = at("org_b", &carol, "proj_b", None, T0 + 500);
    store.set_presence(back).await.unwrap();
    store.delete_team(&OrgId::from("org_b")).await.unwrap();
    assert_eq!(db.scalar("SELECT COUNT(*) FROM presence").await, 0);
}

/// On PostgreSQL, run as the server's role: a transaction sees and writes only its
/// organization's places; with the sweep's horizon alone it may read and delete places of any
/// organization that expired before it, and no others, and may change none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_row_level_security_confines_presence() {
    use sqlx::{Connection, PgConnection};

    let db = TestDb::postgres().await;
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;
    create_team(&store, "org_a", &alice).await;
    create_team(&store, "org_b", &bob).await;
    team_project(&store, "org_a", "proj_a").await;
    team_project(&store, "org_b", "proj_b").await;
    for entry in [
        at("org_a", &alice, "proj_a", None, T0 + 100),
        at("org_b", &bob, "proj_b", None, T0 + 200),
    ] {
        store.set_presence(entry).await.unwrap();
    }

    let mut app = PgConnection::connect(&db.url).await.unwrap();
    let organizations = |sql: &'static str| sqlx::query_scalar::<_, String>(sql);
    assert_eq!(
        organizations("SELECT organization_id FROM presence")
            .fetch_all(&mut app)
            .await
            .unwrap(),
        Vec::<String>::new(),
        "nothing without a tenant"
    );

    let mut tx = app.begin().await.unwrap();
    sqlx::query("SELECT set_config('hypnos.organization_id', 'org_a', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        organizations("SELECT organization_id FROM presence")
            .fetch_all(&mut *tx)
            .await
            .unwrap(),
        ["org_a"]
    );
    let smuggled = sqlx::query(
        "INSERT INTO presence (organization_id, account_id, team_project_id, expires_at) \
         VALUES ('org_b', 'acct_alice', 'proj_b', 0)",
    )
    .execute(&mut *tx)
    .await
    .unwrap_err();
    let code = smuggled.as_database_error().and_then(|e| e.code()).unwrap();
    assert_eq!(code, "42501", "a row-level security violation: {smuggled}");
    tx.rollback().await.unwrap();

    // The sweep's horizon: expired places of any organization, to read and delete only.
    let mut tx = app.begin().await.unwrap();
    sqlx::query("SELECT set_config('hypnos.expired_before', $1, true)")
        .bind((T0 + 150).to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        organizations("SELECT organization_id FROM presence")
            .fetch_all(&mut *tx)
            .await
            .unwrap(),
        ["org_a"],
        "only the expired place"
    );
    let changed = sqlx::query("UPDATE presence SET expires_at = expires_at + 1")
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(changed, 0, "the horizon changes nothing");
    let deleted = sqlx::query("DELETE FROM presence")
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(deleted, 1);
    tx.rollback().await.unwrap();
    assert_eq!(db.scalar("SELECT COUNT(*) FROM presence").await, 2);
}

//! The operator's overview (`hypnos admin accounts`, `hypnos admin orgs`): every account and
//! every organization with its storage, read across tenants; on PostgreSQL through each
//! organization's own scope, as the server's role that row-level security binds.

use crate::common::{self, TestDb};
use crate::fixtures::*;

common::on_both_backends!(the_overview_counts_every_tenant_exactly,);

async fn the_overview_counts_every_tenant_exactly(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;
    start_session(&store, alice.as_str(), hash(1), T0).await;
    make_team(&db, "org_a", alice.as_str()).await;
    add_member(&db, "org_a", bob.as_str()).await;
    make_project(&db, "org_a", "prj_1", &[alice.as_str()]).await;
    make_project(&db, "org_a", "prj_2", &[alice.as_str()]).await;
    make_team(&db, "org_b", bob.as_str()).await;

    let accounts = store.accounts_overview().await.unwrap();
    assert_eq!(accounts.len(), 2);
    let of = |email: &str| accounts.iter().find(|a| a.email == email).unwrap();
    assert_eq!(
        (
            of("alice@example.com").sessions,
            of("alice@example.com").teams_owned
        ),
        (1, 1)
    );
    assert_eq!(
        (
            of("bob@example.com").sessions,
            of("bob@example.com").teams_owned
        ),
        (0, 1)
    );
    assert_eq!(of("alice@example.com").id, alice.as_str());

    let orgs = store.organizations_overview().await.unwrap();
    let team_a = orgs.iter().find(|org| org.id == "org_a").unwrap();
    assert_eq!(team_a.owner, "alice@example.com");
    assert_eq!(
        (
            team_a.members,
            team_a.projects,
            team_a.snapshots,
            team_a.blobs,
            team_a.blob_bytes
        ),
        (2, 2, 2, 2, 20),
        "{team_a:?}"
    );
    let team_b = orgs.iter().find(|org| org.id == "org_b").unwrap();
    assert_eq!(
        (team_b.projects, team_b.blobs, team_b.blob_bytes),
        (0, 0, 0)
    );
    // Two personal organizations and two teams, each once.
    assert_eq!(orgs.len(), 4);
    assert_eq!(orgs.iter().filter(|org| org.kind == "personal").count(), 2);
}

//! PostgreSQL's row-level security under SQL that forgets the tenant filter.

use crate::common::TestDb;
use crate::fixtures::*;

/// PostgreSQL's row-level security holds even for SQL written without a tenant filter: run as
/// the role the server connects as, a transaction set to one organization reads, changes and
/// deletes only that organization's rows, cannot write rows into another, and a connection
/// with no organization set sees nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_row_level_security_confines_unfiltered_queries() {
    use sqlx::{Connection, Executor, PgConnection, Row};

    let db = TestDb::postgres().await;
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;
    make_team(&db, "org_a", &alice).await;
    make_team(&db, "org_b", &bob).await;
    add_member(&db, "org_b", &alice).await;
    make_project(&db, "org_a", "prj_a", &[&alice]).await;
    make_project(&db, "org_b", "prj_b", &[&bob, &alice]).await;
    let carol = sign_up(&store, "carol").await;
    make_team(&db, "org_c", &carol).await;
    make_project(&db, "org_c", "prj_c", &[&carol]).await;

    // The server's own role: not a superuser, no BYPASSRLS.
    let mut app = PgConnection::connect(&db.url).await.unwrap();
    let unbound: bool = app
        .fetch_one("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        .await
        .unwrap()
        .get(0);
    assert!(
        !unbound,
        "the test must run as a role row-level security binds"
    );
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);

    // No organization set: every tenant table looks empty.
    for table in [
        "memberships",
        "projects",
        "project_keys",
        "snapshots",
        "blobs",
        "branches",
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let seen: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut app)
            .await
            .unwrap();
        assert_eq!(seen, 0, "{table} without a tenant");
    }
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM projects").await,
        3,
        "the rows are there"
    );

    // Set to org_a: unfiltered reads, updates and deletes reach org_a's rows only.
    let mut tx = app.begin().await.unwrap();
    sqlx::query("SELECT set_config('hypnos.organization_id', 'org_a', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        count("SELECT COUNT(*) FROM projects")
            .fetch_one(&mut *tx)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM blobs")
            .fetch_one(&mut *tx)
            .await
            .unwrap(),
        1
    );
    let renamed = sqlx::query("UPDATE projects SET name = 'mine'")
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(renamed, 1);
    let deleted = sqlx::query("DELETE FROM blobs")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    // Writing a row into another organization is refused outright.
    let smuggled = sqlx::query(
        "INSERT INTO team_projects (organization_id, id, name, created_at) \
         VALUES ('org_b', 'proj_smuggled', 'x', 0)",
    )
    .execute(&mut *tx)
    .await
    .unwrap_err();
    let code = smuggled.as_database_error().and_then(|e| e.code()).unwrap();
    assert_eq!(code, "42501", "a row-level security violation: {smuggled}");
    tx.rollback().await.unwrap();

    // Moving a row out of the tenant is refused too.
    let mut tx = app.begin().await.unwrap();
    sqlx::query("SELECT set_config('hypnos.organization_id', 'org_a', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let moved = sqlx::query("UPDATE projects SET organization_id = 'org_b' WHERE id = 'prj_a'")
        .execute(&mut *tx)
        .await;
    assert!(moved.is_err(), "a row cannot leave its tenant");
    tx.rollback().await.unwrap();

    // The settings are the transaction's own: after it, nothing is visible again.
    assert_eq!(
        count("SELECT COUNT(*) FROM projects")
            .fetch_one(&mut app)
            .await
            .unwrap(),
        0
    );

    // Acting for alice without an organization: her own memberships and keys, everywhere, and
    // nothing else of org_b.
    let mut tx = app.begin().await.unwrap();
    sqlx::query("SELECT set_config('hypnos.account_id', $1, true)")
        .bind(&alice)
        .execute(&mut *tx)
        .await
        .unwrap();
    let memberships: Vec<(String, String)> =
        sqlx::query_as("SELECT organization_id, account_id FROM memberships ORDER BY 1, 2")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    // Her own three, and every membership of the organizations she owns (org_a, her personal
    // one): bob's membership of org_b is not hers to see.
    assert!(
        memberships
            .iter()
            .all(|(org, account)| account == &alice || org == "org_a")
    );
    assert!(
        !memberships
            .iter()
            .any(|(org, account)| org == "org_b" && account == &bob)
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM project_keys")
            .fetch_one(&mut *tx)
            .await
            .unwrap(),
        2,
        "her keys in both organizations"
    );
    // Projects of her organizations are visible to find them by id (migration 0004), not
    // carol's; their contents are not.
    let visible: Vec<String> = sqlx::query_scalar("SELECT id FROM projects ORDER BY id")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(visible, ["prj_a", "prj_b"]);
    assert_eq!(
        count("SELECT COUNT(*) FROM blobs")
            .fetch_one(&mut *tx)
            .await
            .unwrap(),
        0
    );
    tx.rollback().await.unwrap();
    app.close().await.unwrap();
}

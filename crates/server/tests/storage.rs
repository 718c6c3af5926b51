//! The storage layer's story, told once against `Arc<dyn Store>` and run on both backends.
//!
//! Each story gets a fresh database ([`common::TestDb`]): a SQLite file in a temporary directory
//! or a throw-away PostgreSQL database. Time is whatever the story says it is: the store never
//! reads the clock. Rows the accounts issue cannot create yet (team organizations, projects,
//! keys, invitations) are inserted with plain SQL.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test, with its location"
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Backend, TestDb};
use hypnos_server::storage::{
    self, AccountId, AuditEvent, ChangeCredentials, Conflict, LoginAttempt, NewAccount,
    NewProjectKey, NewSession, NewTeam, OrganizationKind, Project, ResetAccount, Role, SecretHash,
    Snapshot, Store, StoreError, TeamProject, Vault, VaultVerification,
};

/// Runs each story as one `#[tokio::test]` per backend: `sqlite::<story>` and
/// `postgres::<story>`.
macro_rules! on_both_backends {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    super::$story(super::TestDb::new(super::Backend::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    super::$story(super::TestDb::new(super::Backend::Postgres).await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    signup_creates_personal_org_and_owner_membership,
    duplicate_email_conflicts_and_writes_nothing,
    sessions_slide_expire_and_end,
    login_attempts_are_single_use_and_expire,
    change_credentials_is_guarded_and_revokes_other_sessions,
    reset_replaces_keys_and_keeps_memberships,
    delete_account_refuses_shared_teams_then_removes_everything,
    reset_tokens_are_single_use_and_bound_to_their_account,
    purge_expired_removes_only_expired_rows,
    security_events_are_recorded,
    server_secret_is_stable_across_calls_and_reconnects,
    migrations_are_idempotent,
    login_attempts_are_unlogged_and_go_with_their_account,
    teams_are_created_listed_ruled_and_deleted,
    members_and_team_projects_stay_in_their_organization,
    projects_need_keys_for_exactly_the_members,
    projects_of_account_equal_the_per_organization_lists,
    pushes_fast_forward_atomically_and_blobs_are_stored_once,
    racing_pushes_lose_no_snapshot,
    vaults_are_per_account_and_verifications_single_use,
);

/// A moment in 2023, in unix milliseconds.
const T0: i64 = 1_700_000_000_000;

/// A distinct fake SHA-256 value.
fn hash(n: u8) -> SecretHash {
    [n; 32]
}

/// A sign-up for `acct_<name>` with e-mail `<name>@example.com` and personal org `org_<name>`.
fn new_account(name: &str) -> NewAccount {
    NewAccount {
        id: format!("acct_{name}").into(),
        email: format!("{name}@example.com"),
        first_name: format!("First {name}"),
        last_name: format!("Last {name}"),
        salt_key: format!("salt-key-{name}"),
        salt_auth: format!("salt-auth-{name}"),
        salt_enc: format!("salt-enc-{name}"),
        verifier: format!("verifier-{name}"),
        public_key: format!("public-key-{name}"),
        enc_private_key: format!("enc-private-key-{name}"),
        enc_symmetric_key: format!("enc-symmetric-key-{name}"),
        personal_org_id: format!("org_{name}").into(),
        now_ms: T0,
    }
}

async fn sign_up(store: &Arc<dyn Store>, name: &str) -> AccountId {
    store.create_account(new_account(name)).await.unwrap().id
}

async fn start_session(store: &Arc<dyn Store>, account_id: &str, id_hash: SecretHash, now_ms: i64) {
    store
        .create_session(NewSession {
            id_hash,
            account_id: account_id.into(),
            now_ms,
            idle_ttl_ms: 60_000,
            absolute_ttl_ms: 3_600_000,
        })
        .await
        .unwrap();
}

fn attempt(id: &str, account_id: Option<&str>, expires_at: i64) -> LoginAttempt {
    LoginAttempt {
        id: id.to_owned(),
        account_id: account_id.map(AccountId::from),
        email: "someone@example.com".to_owned(),
        m1: vec![1; 32],
        m2: vec![2; 32],
        key_hash: vec![3; 32],
        created_at: T0,
        expires_at,
    }
}

/// A team organization `org_id` owned by `owner` (who is its owner member).
async fn make_team(db: &TestDb, org_id: &str, owner: &str) {
    db.execute(&format!(
        "INSERT INTO organizations (id, name, display_name, kind, owner_account_id, created_at) \
         VALUES ('{org_id}', '{org_id}', 'Team {org_id}', 'team', '{owner}', {T0}); \
         INSERT INTO memberships (organization_id, account_id, role, created_at) \
         VALUES ('{org_id}', '{owner}', 'owner', {T0});"
    ))
    .await;
}

async fn add_member(db: &TestDb, org_id: &str, account_id: &str) {
    db.execute(&format!(
        "INSERT INTO memberships (organization_id, account_id, role, created_at) \
         VALUES ('{org_id}', '{account_id}', 'member', {T0});"
    ))
    .await;
}

/// A project in `org_id` with a branch, a snapshot on it, a blob, and a project key for each of
/// `key_holders` (who must be members).
async fn make_project(db: &TestDb, org_id: &str, project_id: &str, key_holders: &[&str]) {
    let mut sql = format!(
        "INSERT INTO projects (organization_id, id, team_project_id, name, root_document_id, \
                               created_at) \
         VALUES ('{org_id}', '{project_id}', NULL, 'Project', 'wrk_1', {T0}); \
         INSERT INTO branches (organization_id, project_id, name, created_at, modified_at) \
         VALUES ('{org_id}', '{project_id}', 'master', {T0}, {T0}); \
         INSERT INTO snapshots (organization_id, project_id, id, parent, created, author, name, \
                                description, state) \
         VALUES ('{org_id}', '{project_id}', 'snap_1', '', '2023-11-14T22:13:20Z', 'acct_x', \
                 'first', '', '[]'); \
         INSERT INTO branch_snapshots (organization_id, project_id, branch, position, snapshot_id) \
         VALUES ('{org_id}', '{project_id}', 'master', 0, 'snap_1'); \
         INSERT INTO blobs (organization_id, project_id, id, content, size) \
         VALUES ('{org_id}', '{project_id}', 'blob_1', 'ciphertext', 10); \
         INSERT INTO audit_events (organization_id, id, at, actor_account_id, action, target, \
                                   details) \
         VALUES ('{org_id}', 'evt_{project_id}', {T0}, NULL, 'project.create', '{project_id}', '{{}}');"
    );
    for holder in key_holders {
        sql.push_str(&format!(
            "INSERT INTO project_keys (organization_id, project_id, account_id, \
                                       enc_symmetric_key, created_at) \
             VALUES ('{org_id}', '{project_id}', '{holder}', 'wrapped-key', {T0});"
        ));
    }
    db.execute(&sql).await;
}

/// An invitation in `org_id` from `inviter` to `invitee`, with one invitation key.
async fn make_invitation(db: &TestDb, org_id: &str, id: &str, inviter: &str, invitee: &str) {
    db.execute(&format!(
        "INSERT INTO invitations (organization_id, id, invitee_account_id, inviter_account_id, \
                                  role, created_at, expires_at) \
         VALUES ('{org_id}', '{id}', '{invitee}', '{inviter}', 'member', {T0}, {T0} + 1000000); \
         INSERT INTO invitation_keys (organization_id, invitation_id, project_id, \
                                      enc_symmetric_key) \
         VALUES ('{org_id}', '{id}', 'prj_any', 'sealed-key');"
    ))
    .await;
}

async fn signup_creates_personal_org_and_owner_membership(db: TestDb) {
    let store = db.connect().await;
    let account = store.create_account(new_account("alice")).await.unwrap();
    assert_eq!(account.id, "acct_alice");
    assert_eq!(account.email, "alice@example.com");
    assert_eq!(account.verifier, "verifier-alice");
    assert_eq!(account.created_at, T0);
    assert_eq!(account.updated_at, T0);

    let by_email = store.account_by_email("alice@example.com").await.unwrap();
    assert_eq!(by_email.as_ref(), Some(&account));
    let by_id = store.account_by_id(&"acct_alice".into()).await.unwrap();
    assert_eq!(by_id.as_ref(), Some(&account));
    assert_eq!(
        store.account_by_email("bob@example.com").await.unwrap(),
        None
    );
    assert_eq!(store.account_by_id(&"acct_bob".into()).await.unwrap(), None);

    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM organizations WHERE id = 'org_alice' AND kind = 'personal' \
             AND owner_account_id = 'acct_alice' AND name = 'alice' \
             AND display_name = 'Personal workspace' AND storage_rule = 'cloud_plus_local'"
        )
        .await,
        1
    );
    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM memberships WHERE organization_id = 'org_alice' \
             AND account_id = 'acct_alice' AND role = 'owner'"
        )
        .await,
        1
    );

    sign_up(&store, "bob").await;
    assert_eq!(db.scalar("SELECT COUNT(*) FROM organizations").await, 2);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM memberships").await, 2);
}

async fn duplicate_email_conflicts_and_writes_nothing(db: TestDb) {
    let store = db.connect().await;
    sign_up(&store, "alice").await;
    let mut twin = new_account("twin");
    twin.email = "alice@example.com".into();
    let result = store.create_account(twin).await;
    assert!(
        matches!(result, Err(StoreError::Conflict(Conflict::Email))),
        "{result:?}"
    );
    assert_eq!(
        store.account_by_id(&"acct_twin".into()).await.unwrap(),
        None
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM accounts").await, 1);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM organizations").await, 1);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM memberships").await, 1);

    // A second personal organization for the same owner is refused by the partial index.
    let second_personal = db
        .try_execute(&format!(
            "INSERT INTO organizations (id, name, display_name, kind, owner_account_id, \
                                        created_at) \
             VALUES ('org_second', 'x', 'x', 'personal', 'acct_alice', {T0})"
        ))
        .await;
    assert!(
        second_personal.is_err(),
        "a second personal organization was accepted"
    );
}

async fn sessions_slide_expire_and_end(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;

    let session = store
        .create_session(NewSession {
            id_hash: hash(1),
            account_id: alice.clone(),
            now_ms: T0,
            idle_ttl_ms: 100,
            absolute_ttl_ms: 250,
        })
        .await
        .unwrap();
    assert_eq!(session.id_hash, hash(1));
    assert_eq!(session.created_at, T0);
    assert_eq!(session.last_seen_at, T0);
    assert_eq!(session.idle_expires_at, T0 + 100);
    assert_eq!(session.absolute_expires_at, T0 + 250);

    // Reading a session writes nothing.
    let (seen, account) = store
        .session_account(&hash(1), T0 + 50)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.id, alice);
    assert_eq!(seen, session);
    // Each recorded use slides the idle expiry, never past the absolute one.
    let touched = store
        .touch_session(&hash(1), T0 + 50)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.last_seen_at, T0 + 50);
    assert_eq!(touched.idle_expires_at, T0 + 150);
    let (seen, _) = store
        .session_account(&hash(1), T0 + 140)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen, touched);
    let touched = store
        .touch_session(&hash(1), T0 + 140)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.idle_expires_at, T0 + 240);
    let touched = store
        .touch_session(&hash(1), T0 + 230)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.idle_expires_at, T0 + 250);
    assert_eq!(touched.absolute_expires_at, T0 + 250);
    // Absolute expiry, although it was used 20 ms ago: neither read nor touched.
    assert!(
        store
            .session_account(&hash(1), T0 + 250)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .touch_session(&hash(1), T0 + 250)
            .await
            .unwrap()
            .is_none()
    );

    // Idle expiry: unused for its whole idle lifetime.
    let with_idle = |id_hash| NewSession {
        id_hash,
        account_id: alice.clone(),
        now_ms: T0,
        idle_ttl_ms: 100,
        absolute_ttl_ms: 10_000,
    };
    store.create_session(with_idle(hash(2))).await.unwrap();
    assert!(
        store
            .session_account(&hash(2), T0 + 99)
            .await
            .unwrap()
            .is_some()
    );
    store.create_session(with_idle(hash(3))).await.unwrap();
    assert!(
        store
            .session_account(&hash(3), T0 + 100)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .touch_session(&hash(3), T0 + 100)
            .await
            .unwrap()
            .is_none()
    );

    // Unknown sessions and unknown accounts.
    assert!(store.session_account(&hash(9), T0).await.unwrap().is_none());
    assert!(store.touch_session(&hash(9), T0).await.unwrap().is_none());
    let result = store
        .create_session(NewSession {
            id_hash: hash(8),
            account_id: "acct_nobody".into(),
            now_ms: T0,
            idle_ttl_ms: 100,
            absolute_ttl_ms: 100,
        })
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");

    // Log-out ends one session; delete_sessions_of ends all of one account's.
    start_session(&store, &alice, hash(4), T0).await;
    start_session(&store, &alice, hash(5), T0).await;
    start_session(&store, &bob, hash(6), T0).await;
    store.delete_session(&hash(4)).await.unwrap();
    store.delete_session(&hash(4)).await.unwrap();
    assert!(store.session_account(&hash(4), T0).await.unwrap().is_none());
    assert!(store.session_account(&hash(5), T0).await.unwrap().is_some());
    // Alice still has sessions 1, 2, 3 (expired but not purged) and 5.
    assert_eq!(store.delete_sessions_of(&alice).await.unwrap(), 4);
    assert!(store.session_account(&hash(5), T0).await.unwrap().is_none());
    let (_, account) = store.session_account(&hash(6), T0).await.unwrap().unwrap();
    assert_eq!(account.id, bob);
}

async fn login_attempts_are_single_use_and_expire(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;

    let first = attempt("starter-1", Some(&alice), T0 + 1000);
    store.put_login_attempt(first.clone()).await.unwrap();
    let duplicate = store.put_login_attempt(first.clone()).await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(Conflict::LoginAttempt))),
        "{duplicate:?}"
    );
    assert_eq!(
        store
            .take_login_attempt("starter-1", T0 + 10)
            .await
            .unwrap(),
        Some(first)
    );
    assert_eq!(
        store
            .take_login_attempt("starter-1", T0 + 10)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.take_login_attempt("never", T0).await.unwrap(), None);

    // Unknown e-mail: no account.
    let decoy = attempt("starter-2", None, T0 + 1000);
    store.put_login_attempt(decoy.clone()).await.unwrap();
    assert_eq!(
        store.take_login_attempt("starter-2", T0).await.unwrap(),
        Some(decoy)
    );

    // Expired: refused, and gone.
    store
        .put_login_attempt(attempt("starter-3", Some(&alice), T0 + 1000))
        .await
        .unwrap();
    assert_eq!(
        store
            .take_login_attempt("starter-3", T0 + 1000)
            .await
            .unwrap(),
        None
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM login_attempts").await, 0);

    // Concurrent takes: exactly one wins, every time.
    for round in 0..20 {
        let id = format!("race-{round}");
        store
            .put_login_attempt(attempt(&id, Some(&alice), T0 + 1000))
            .await
            .unwrap();
        let (left, right) = (store.clone(), store.clone());
        let (left_id, right_id) = (id.clone(), id.clone());
        let left = tokio::spawn(async move { left.take_login_attempt(&left_id, T0).await });
        let right = tokio::spawn(async move { right.take_login_attempt(&right_id, T0).await });
        let left = left.await.unwrap().unwrap();
        let right = right.await.unwrap().unwrap();
        assert_eq!(
            usize::from(left.is_some()) + usize::from(right.is_some()),
            1,
            "round {round}"
        );
    }
}

async fn change_credentials_is_guarded_and_revokes_other_sessions(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;
    for n in 1..=3 {
        start_session(&store, &alice, hash(n), T0).await;
    }
    start_session(&store, &bob, hash(4), T0).await;
    store
        .put_login_attempt(attempt("pending", Some(&alice), T0 + 1000))
        .await
        .unwrap();
    let before = store.account_by_id(&alice).await.unwrap().unwrap();

    let change = ChangeCredentials {
        account_id: alice.clone(),
        expected_verifier: "verifier-alice".into(),
        expected_enc_symmetric_key: "enc-symmetric-key-alice".into(),
        new_email: "alice@new.example.com".into(),
        new_first_name: Some("Alicia".into()),
        new_last_name: None,
        new_verifier: "verifier-2".into(),
        new_enc_symmetric_key: "enc-symmetric-key-2".into(),
        keep_session_hash: hash(1),
        now_ms: T0 + 5,
    };

    // A stale expected value changes nothing.
    for stale in [
        ChangeCredentials {
            expected_verifier: "old-verifier".into(),
            ..change.clone()
        },
        ChangeCredentials {
            expected_enc_symmetric_key: "old-key".into(),
            ..change.clone()
        },
    ] {
        let result = store.change_credentials(stale).await;
        assert!(
            matches!(result, Err(StoreError::Conflict(Conflict::Credentials))),
            "{result:?}"
        );
        assert_eq!(
            store.account_by_id(&alice).await.unwrap().as_ref(),
            Some(&before)
        );
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM sessions WHERE account_id = 'acct_alice'")
                .await,
            3
        );
    }

    // A taken e-mail changes nothing either.
    let result = store
        .change_credentials(ChangeCredentials {
            new_email: "bob@example.com".into(),
            ..change.clone()
        })
        .await;
    assert!(
        matches!(result, Err(StoreError::Conflict(Conflict::Email))),
        "{result:?}"
    );
    assert_eq!(
        store.account_by_id(&alice).await.unwrap().as_ref(),
        Some(&before)
    );

    // An unknown account.
    let result = store
        .change_credentials(ChangeCredentials {
            account_id: "acct_nobody".into(),
            ..change.clone()
        })
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");

    // The real change.
    let after = store.change_credentials(change).await.unwrap();
    assert_eq!(after.email, "alice@new.example.com");
    assert_eq!(after.first_name, "Alicia");
    assert_eq!(after.last_name, before.last_name);
    assert_eq!(after.verifier, "verifier-2");
    assert_eq!(after.enc_symmetric_key, "enc-symmetric-key-2");
    assert_eq!(after.salt_auth, before.salt_auth);
    assert_eq!(after.public_key, before.public_key);
    assert_eq!(after.updated_at, T0 + 5);
    assert_eq!(
        store.account_by_id(&alice).await.unwrap().as_ref(),
        Some(&after)
    );
    assert_eq!(
        store
            .account_by_email("alice@new.example.com")
            .await
            .unwrap(),
        Some(after)
    );
    assert_eq!(
        store.account_by_email("alice@example.com").await.unwrap(),
        None
    );

    // Only the session that made the change survives; Bob's is untouched; the log-in that was
    // under way with the old verifier is gone.
    assert!(
        store
            .session_account(&hash(1), T0 + 6)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .session_account(&hash(2), T0 + 6)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session_account(&hash(3), T0 + 6)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session_account(&hash(4), T0 + 6)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.take_login_attempt("pending", T0 + 6).await.unwrap(),
        None
    );
}

async fn reset_replaces_keys_and_keeps_memberships(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;
    start_session(&store, &alice, hash(1), T0).await;
    start_session(&store, &alice, hash(2), T0).await;
    start_session(&store, &bob, hash(3), T0).await;
    store
        .put_reset_token(&hash(7), &alice, T0, 3_600_000)
        .await
        .unwrap();
    // Bob's team, which Alice belongs to, with a project both hold keys for; a project in
    // Alice's personal organization; an invitation from Bob to Alice for another team.
    make_team(&db, "org_team", &bob).await;
    add_member(&db, "org_team", &alice).await;
    make_project(&db, "org_team", "prj_team", &[&bob, &alice]).await;
    make_project(&db, "org_alice", "prj_own", &[&alice]).await;
    make_team(&db, "org_other", &bob).await;
    make_invitation(&db, "org_other", "inv_1", &bob, &alice).await;

    let reset = ResetAccount {
        account_id: alice.clone(),
        salt_key: "new-salt-key".into(),
        salt_auth: "new-salt-auth".into(),
        salt_enc: "new-salt-enc".into(),
        verifier: "new-verifier".into(),
        public_key: "new-public-key".into(),
        enc_private_key: "new-enc-private-key".into(),
        enc_symmetric_key: "new-enc-symmetric-key".into(),
        now_ms: T0 + 9,
    };
    let after = store.reset_account(reset.clone()).await.unwrap();
    assert_eq!(after.email, "alice@example.com");
    assert_eq!(after.salt_key, "new-salt-key");
    assert_eq!(after.salt_auth, "new-salt-auth");
    assert_eq!(after.salt_enc, "new-salt-enc");
    assert_eq!(after.verifier, "new-verifier");
    assert_eq!(after.public_key, "new-public-key");
    assert_eq!(after.enc_private_key, "new-enc-private-key");
    assert_eq!(after.enc_symmetric_key, "new-enc-symmetric-key");
    assert_eq!(after.updated_at, T0 + 9);
    assert_eq!(
        store.account_by_id(&alice).await.unwrap(),
        Some(after.clone())
    );

    let count = |sql: &'static str| db.scalar(sql);
    assert_eq!(
        count("SELECT COUNT(*) FROM sessions WHERE account_id = 'acct_alice'").await,
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM sessions WHERE account_id = 'acct_bob'").await,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM project_keys WHERE account_id = 'acct_alice'").await,
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM project_keys WHERE account_id = 'acct_bob'").await,
        1
    );
    assert_eq!(count("SELECT COUNT(*) FROM invitation_keys").await, 0);
    assert_eq!(count("SELECT COUNT(*) FROM invitations").await, 1);
    assert_eq!(
        count("SELECT COUNT(*) FROM memberships WHERE account_id = 'acct_alice'").await,
        2
    );
    assert_eq!(count("SELECT COUNT(*) FROM projects").await, 2);
    assert!(
        !store
            .take_reset_token(&hash(7), &alice, T0 + 10)
            .await
            .unwrap()
    );

    let result = store
        .reset_account(ResetAccount {
            account_id: "acct_nobody".into(),
            ..reset
        })
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

async fn delete_account_refuses_shared_teams_then_removes_everything(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;
    start_session(&store, &alice, hash(1), T0).await;
    start_session(&store, &bob, hash(2), T0).await;
    store
        .put_reset_token(&hash(7), &alice, T0, 3_600_000)
        .await
        .unwrap();
    store
        .put_login_attempt(attempt("pending", Some(&alice), T0 + 1000))
        .await
        .unwrap();
    // Alice owns a team Bob belongs to, and an empty team; Bob owns a team Alice belongs to.
    make_team(&db, "org_alice_team", &alice).await;
    add_member(&db, "org_alice_team", &bob).await;
    make_project(&db, "org_alice_team", "prj_shared", &[&alice, &bob]).await;
    make_team(&db, "org_alice_solo", &alice).await;
    make_project(&db, "org_alice_solo", "prj_solo", &[&alice]).await;
    make_team(&db, "org_bob_team", &bob).await;
    add_member(&db, "org_bob_team", &alice).await;
    make_project(&db, "org_bob_team", "prj_bob", &[&bob, &alice]).await;
    make_project(&db, "org_alice", "prj_personal", &[&alice]).await;
    make_invitation(&db, "org_bob_team", "inv_to_alice", &bob, &alice).await;

    let tables = [
        "accounts",
        "organizations",
        "memberships",
        "projects",
        "project_keys",
        "branches",
        "snapshots",
        "branch_snapshots",
        "blobs",
        "audit_events",
        "invitations",
        "invitation_keys",
        "sessions",
        "reset_tokens",
        "login_attempts",
    ];
    let mut counts_before = Vec::new();
    for table in tables {
        counts_before.push(db.scalar(&format!("SELECT COUNT(*) FROM {table}")).await);
    }

    let result = store.delete_account(&alice).await;
    assert!(
        matches!(result, Err(StoreError::Conflict(Conflict::OwnsSharedTeam))),
        "{result:?}"
    );
    for (table, before) in tables.iter().zip(&counts_before) {
        let now = db.scalar(&format!("SELECT COUNT(*) FROM {table}")).await;
        assert_eq!(
            now, *before,
            "{table} changed although the deletion was refused"
        );
    }

    // Once Bob has left Alice's team, she can go, and takes everything of hers along.
    db.execute(
        "DELETE FROM memberships WHERE organization_id = 'org_alice_team' \
         AND account_id = 'acct_bob'",
    )
    .await;
    store.delete_account(&alice).await.unwrap();

    assert_eq!(store.account_by_id(&alice).await.unwrap(), None);
    assert_eq!(
        store.account_by_email("alice@example.com").await.unwrap(),
        None
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM organizations WHERE owner_account_id = 'acct_alice'")
            .await,
        0
    );
    for table in [
        "memberships",
        "project_keys",
        "sessions",
        "reset_tokens",
        "login_attempts",
    ] {
        assert_eq!(
            db.scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE account_id = 'acct_alice'"
            ))
            .await,
            0,
            "{table} still has rows of the deleted account"
        );
    }
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM invitations WHERE invitee_account_id = 'acct_alice'")
            .await,
        0
    );
    // Only Bob's organizations and their data remain.
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM organizations").await,
        2,
        "org_bob and org_bob_team"
    );
    for table in [
        "projects",
        "branches",
        "snapshots",
        "branch_snapshots",
        "blobs",
    ] {
        assert_eq!(
            db.scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE organization_id <> 'org_bob_team'"
            ))
            .await,
            0,
            "{table} kept rows of a deleted organization"
        );
        assert_eq!(
            db.scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE organization_id = 'org_bob_team'"
            ))
            .await,
            1,
            "{table} lost rows of Bob's team"
        );
    }
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_events").await,
        1,
        "only org_bob_team's event"
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM project_keys WHERE account_id = 'acct_bob'")
            .await,
        1
    );
    let (_, account) = store.session_account(&hash(2), T0).await.unwrap().unwrap();
    assert_eq!(account.id, bob);

    let result = store.delete_account(&alice).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

async fn reset_tokens_are_single_use_and_bound_to_their_account(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;

    store
        .put_reset_token(&hash(1), &alice, T0, 1000)
        .await
        .unwrap();
    assert!(!store.take_reset_token(&hash(1), &bob, T0).await.unwrap());
    assert!(!store.take_reset_token(&hash(2), &alice, T0).await.unwrap());
    assert!(
        store
            .take_reset_token(&hash(1), &alice, T0 + 999)
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_reset_token(&hash(1), &alice, T0 + 999)
            .await
            .unwrap()
    );

    store
        .put_reset_token(&hash(3), &alice, T0, 1000)
        .await
        .unwrap();
    assert!(
        !store
            .take_reset_token(&hash(3), &alice, T0 + 1000)
            .await
            .unwrap()
    );

    let result = store
        .put_reset_token(&hash(4), &"acct_nobody".into(), T0, 1000)
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

async fn purge_expired_removes_only_expired_rows(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    // Expired at T0 + 100: a login attempt, an idle session, a reset token.
    store
        .put_login_attempt(attempt("old", Some(&alice), T0 + 100))
        .await
        .unwrap();
    store
        .create_session(NewSession {
            id_hash: hash(1),
            account_id: alice.clone(),
            now_ms: T0,
            idle_ttl_ms: 100,
            absolute_ttl_ms: 10_000,
        })
        .await
        .unwrap();
    store
        .put_reset_token(&hash(2), &alice, T0, 100)
        .await
        .unwrap();
    // Still valid at T0 + 100.
    store
        .put_login_attempt(attempt("new", Some(&alice), T0 + 101))
        .await
        .unwrap();
    start_session(&store, &alice, hash(3), T0).await;
    store
        .put_reset_token(&hash(4), &alice, T0, 101)
        .await
        .unwrap();

    assert_eq!(store.purge_expired(T0 + 100).await.unwrap(), 3);
    assert_eq!(store.purge_expired(T0 + 100).await.unwrap(), 0);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM login_attempts").await, 1);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM sessions").await, 1);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM reset_tokens").await, 1);
    assert!(
        store
            .take_login_attempt("new", T0 + 100)
            .await
            .unwrap()
            .is_some()
    );
}

async fn security_events_are_recorded(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    store
        .record_security_event("login_failed", None, Some("192.0.2.1"), None, T0)
        .await
        .unwrap();
    store
        .record_security_event(
            "account_reset",
            Some(&alice),
            Some("192.0.2.2"),
            Some("{\"by\":\"token\"}"),
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(db.scalar("SELECT COUNT(*) FROM security_events").await, 2);
    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM security_events WHERE kind = 'account_reset' \
             AND account_id = 'acct_alice' AND client_ip = '192.0.2.2' AND at = 1700000000001"
        )
        .await,
        1
    );
}

async fn server_secret_is_stable_across_calls_and_reconnects(db: TestDb) {
    let store = db.connect().await;
    let n_generated = AtomicUsize::new(0);
    let generate = || {
        let n = n_generated.fetch_add(1, Ordering::SeqCst);
        vec![u8::try_from(n).unwrap() + 1; 32]
    };
    let first = store.server_secret("hmac", &generate).await.unwrap();
    assert_eq!(first, vec![1; 32]);
    assert_eq!(store.server_secret("hmac", &generate).await.unwrap(), first);
    assert_eq!(n_generated.load(Ordering::SeqCst), 1);

    let other = store.server_secret("other", &generate).await.unwrap();
    assert_ne!(other, first);

    drop(store);
    let reopened = db.connect().await;
    assert_eq!(
        reopened.server_secret("hmac", &generate).await.unwrap(),
        first
    );
    assert_eq!(n_generated.load(Ordering::SeqCst), 2);

    // Two stores racing for a new secret agree on one value.
    let racer = db.connect().await;
    let (left, right) = tokio::join!(
        reopened.server_secret("raced", &|| vec![0xaa; 16]),
        racer.server_secret("raced", &|| vec![0xbb; 16]),
    );
    assert_eq!(left.unwrap(), right.unwrap());
}

async fn migrations_are_idempotent(db: TestDb) {
    let first = db.connect().await;
    first.ping().await.unwrap();
    sign_up(&first, "alice").await;
    let second = db.connect().await;
    second.ping().await.unwrap();
    assert!(
        second
            .account_by_id(&"acct_alice".into())
            .await
            .unwrap()
            .is_some()
    );
    drop((first, second));
    let third = db.connect().await;
    third.ping().await.unwrap();
    let migration_files =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
            .unwrap()
            .count() as i64;
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM _sqlx_migrations").await,
        migration_files
    );
}

/// A started log-in is state worth nothing after a crash: on PostgreSQL its table is unlogged
/// (no WAL flush per log-in step) and has no foreign key, so an account's deletion must remove
/// its attempts itself.
async fn login_attempts_are_unlogged_and_go_with_their_account(db: TestDb) {
    let store = db.connect().await;
    if db.backend == Backend::Postgres {
        assert_eq!(
            db.scalar(
                "SELECT COUNT(*) FROM pg_class \
                 WHERE relname = 'login_attempts' AND relpersistence = 'u'"
            )
            .await,
            1
        );
    }
    let alice = sign_up(&store, "alice").await;
    store
        .put_login_attempt(attempt("a1", Some(&alice), T0 + 1_000))
        .await
        .unwrap();
    store
        .put_login_attempt(attempt("u1", None, T0 + 1_000))
        .await
        .unwrap();
    store.delete_account(&alice).await.unwrap();
    assert!(store.take_login_attempt("a1", T0).await.unwrap().is_none());
    assert!(store.take_login_attempt("u1", T0).await.unwrap().is_some());
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    for url in ["mysql://localhost/db", "hypnos.db", ""] {
        let result = storage::connect(url).await;
        assert!(
            matches!(result, Err(StoreError::Other(_))),
            "{url}: {:?}",
            result.err()
        );
    }
}

#[tokio::test]
async fn an_unreachable_postgres_is_unavailable() {
    let options = storage::ConnectOptions {
        acquire_timeout: Duration::from_millis(500),
        ..storage::ConnectOptions::default()
    };
    let result = storage::connect_with("postgres://postgres@127.0.0.1:1/none", options).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{:?}",
        result.err()
    );
}

#[tokio::test]
async fn in_memory_sqlite_works() {
    let store = storage::connect("sqlite::memory:").await.unwrap();
    sign_up(&store, "alice").await;
    assert!(
        store
            .account_by_id(&"acct_alice".into())
            .await
            .unwrap()
            .is_some()
    );
}

fn event(id: &str, organization_id: &str, at: i64, action: &str) -> AuditEvent {
    AuditEvent {
        id: id.into(),
        organization_id: organization_id.into(),
        at,
        actor_account_id: Some("acct_alice".into()),
        action: action.into(),
        target: organization_id.into(),
        details: "{}".into(),
    }
}

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
    make_team(&db, "org_a", &alice).await;
    make_team(&db, "org_b", &bob).await;
    add_member(&db, "org_a", &bob).await;
    add_member(&db, "org_a", &carol).await;
    let ev = |id: &str, org: &str| event(id, org, T0, "test");

    // Members: by e-mail, paged, filtered with LIKE's wildcards taken literally.
    let (page, total) = store.members(&"org_a".into(), None, 0, 10).await.unwrap();
    assert_eq!(total, 3);
    let emails: Vec<&str> = page.iter().map(|m| m.email.as_str()).collect();
    assert_eq!(
        emails,
        ["alice@example.com", "bob@example.com", "carol@example.com"]
    );
    assert_eq!(page[0].role, Role::Owner);
    let (page, total) = store.members(&"org_a".into(), None, 1, 1).await.unwrap();
    assert_eq!((page[0].account_id.as_str(), total), (bob.as_str(), 3));
    let (page, total) = store
        .members(&"org_a".into(), Some("CAROL"), 0, 10)
        .await
        .unwrap();
    assert_eq!((page.len(), total), (1, 1));
    for pattern in ["%", "_", "\\"] {
        let (_, total) = store
            .members(&"org_a".into(), Some(pattern), 0, 10)
            .await
            .unwrap();
        assert_eq!(total, 0, "{pattern:?} is a character, not a wildcard");
    }

    // Roles: the owner keeps the role; nobody else becomes owner; non-members are not found.
    store
        .set_member_role(&"org_a".into(), &bob, Role::Admin, ev("evt_1", "org_a"))
        .await
        .unwrap();
    assert_eq!(
        store
            .membership(&"org_a".into(), &bob)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Admin
    );
    for (account, role) in [(&alice, Role::Member), (&carol, Role::Owner)] {
        let result = store
            .set_member_role(&"org_a".into(), account, role, ev("evt_x", "org_a"))
            .await;
        assert!(
            matches!(result, Err(StoreError::Conflict(Conflict::OwnerStays))),
            "{result:?}"
        );
    }
    let outsider = store
        .set_member_role(&"org_b".into(), &carol, Role::Admin, ev("evt_y", "org_b"))
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
        .remove_member(&"org_a".into(), &alice, ev("evt_2", "org_a"))
        .await;
    assert!(
        matches!(owner, Err(StoreError::Conflict(Conflict::OwnerStays))),
        "{owner:?}"
    );
    store
        .remove_member(&"org_a".into(), &carol, ev("evt_3", "org_a"))
        .await
        .unwrap();
    assert!(
        store
            .membership(&"org_a".into(), &carol)
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
        .remove_member(&"org_a".into(), &carol, ev("evt_4", "org_a"))
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
        .team_projects(&"org_a".into())
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
        .rename_team_project(&"org_a".into(), "proj_1", "Renamed", ev("evt_9", "org_a"))
        .await
        .unwrap();
    for result in [
        store
            .rename_team_project(&"org_a".into(), "proj_b", "Mine", ev("evt_10", "org_a"))
            .await,
        store
            .delete_team_project(&"org_a".into(), "proj_b", ev("evt_11", "org_a"))
            .await,
    ] {
        assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    }
    assert_eq!(
        store.team_projects(&"org_b".into()).await.unwrap()[0].name,
        "Project proj_b"
    );
    store
        .delete_team_project(&"org_a".into(), "proj_1", ev("evt_12", "org_a"))
        .await
        .unwrap();
    assert_eq!(store.team_projects(&"org_a".into()).await.unwrap().len(), 1);
}

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

fn project(org: &str, id: &str) -> Project {
    Project {
        id: id.into(),
        organization_id: org.into(),
        team_project_id: None,
        name: format!("Project {id}"),
        root_document_id: "wrk_1".into(),
        created_at: T0,
    }
}

fn key_for(account: &str) -> NewProjectKey {
    NewProjectKey {
        account_id: account.into(),
        enc_symmetric_key: format!("key-for-{account}"),
        auto_linked: false,
    }
}

/// A snapshot whose id is what the protocol's formula gives for its parent and blobs.
fn snapshot(project_id: &str, parent: &str, blobs: &[&str]) -> Snapshot {
    let state: Vec<serde_json::Value> = blobs
        .iter()
        .enumerate()
        .map(|(i, blob)| serde_json::json!({"key": format!("req_{i}"), "blob": blob, "name": "r"}))
        .collect();
    Snapshot {
        id: hypnos_crypto::sync::snapshot_id(project_id, parent, blobs),
        parent: parent.into(),
        created: "2026-11-28T08:00:00.000Z".into(),
        author: "acct_alice".into(),
        name: "a change".into(),
        description: String::new(),
        state: serde_json::Value::Array(state).to_string(),
    }
}

fn blob(id: &str) -> hypnos_server::storage::Blob {
    hypnos_server::storage::Blob {
        id: id.into(),
        content: format!("{{\"ciphertext\":\"{id}\"}}"),
    }
}

async fn projects_need_keys_for_exactly_the_members(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;
    make_team(&db, "org_a", &alice).await;
    add_member(&db, "org_a", &bob).await;
    make_team(&db, "org_b", &bob).await;
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
        .project_of(&bob, &"prj_1".into())
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
            .project_of(&carol, &"prj_1".into())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .project_of(&alice, &"prj_nope".into())
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
    let all = store.projects_in(&"org_a".into(), None).await.unwrap();
    assert_eq!(
        all.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["prj_1", "prj_3"]
    );
    let under_t = store
        .projects_in(&"org_a".into(), Some("proj_t"))
        .await
        .unwrap();
    assert_eq!(under_t.len(), 1);
    assert!(
        store
            .projects_in(&"org_b".into(), None)
            .await
            .unwrap()
            .is_empty()
    );

    // Keys: each member's own; public keys of every member.
    assert_eq!(
        store
            .project_key(&"org_a".into(), &"prj_1".into(), &bob)
            .await
            .unwrap()
            .as_deref(),
        Some(format!("key-for-{bob}").as_str())
    );
    assert!(
        store
            .project_key(&"org_a".into(), &"prj_1".into(), &carol)
            .await
            .unwrap()
            .is_none()
    );
    let publics = store.member_public_keys(&"org_a".into()).await.unwrap();
    assert_eq!(publics.len(), 2);
    assert!(publics.contains(&(bob.to_string(), "public-key-bob".into())));

    // Archiving takes everything of the project.
    store
        .archive_project(&"org_a".into(), &"prj_1".into(), ev("evt_6", "org_a"))
        .await
        .unwrap();
    assert!(
        store
            .project_of(&alice, &"prj_1".into())
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
        .archive_project(&"org_a".into(), &"prj_1".into(), ev("evt_7", "org_a"))
        .await;
    assert!(matches!(twice, Err(StoreError::NotFound)), "{twice:?}");
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
    add_member(&db, "org_shared", &alice).await;
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
            .projects_of_account(&"acct_nobody".into(), None)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn pushes_fast_forward_atomically_and_blobs_are_stored_once(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    make_team(&db, "org_a", &alice).await;
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
            .blobs_missing(&"org_a".into(), &"prj_1".into(), &ids(&[&b[1], &b[0]]))
            .await
            .unwrap(),
        ids(&[&b[1], &b[0]])
    );
    let created = store
        .create_blobs(
            &"org_a".into(),
            &"prj_1".into(),
            vec![blob(&b[0]), blob(&b[1]), blob(&b[0])],
        )
        .await
        .unwrap();
    assert_eq!(created, 2, "a blob is stored once");
    assert_eq!(
        store
            .blobs_missing(
                &"org_a".into(),
                &"prj_1".into(),
                &ids(&[&b[2], &b[0], &b[2]])
            )
            .await
            .unwrap(),
        ids(&[&b[2]])
    );
    let fetched = store
        .blobs(
            &"org_a".into(),
            &"prj_1".into(),
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
            .blobs(&"org_b".into(), &"prj_1".into(), &ids(&[&b[0]]))
            .await
            .unwrap()
            .is_empty()
    );

    // A new branch starts from the empty hash; the next push continues its tip.
    let s1 = snapshot("prj_1", empty, &[&b[0]]);
    let s2 = snapshot("prj_1", &s1.id, &[&b[0], &b[1]]);
    store
        .push_snapshots(
            &"org_a".into(),
            &"prj_1".into(),
            "master",
            vec![s1.clone()],
            ids(&[&b[0]]),
            T0,
        )
        .await
        .unwrap();
    store
        .push_snapshots(
            &"org_a".into(),
            &"prj_1".into(),
            "master",
            vec![s2.clone()],
            ids(&[&b[0], &b[1]]),
            T0 + 5,
        )
        .await
        .unwrap();
    let master = store
        .branch(&"org_a".into(), &"prj_1".into(), "master")
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
                &"org_a".into(),
                &"prj_1".into(),
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
        .branch(&"org_a".into(), &"prj_1".into(), "master")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged, master);
    assert!(
        store
            .branch(&"org_a".into(), &"prj_1".into(), "feature")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM snapshots").await, 2);

    // A batch: a new branch sharing master's history, then its own snapshot.
    let s3 = snapshot("prj_1", &s2.id, &[&b[1]]);
    store
        .push_snapshots(
            &"org_a".into(),
            &"prj_1".into(),
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
            .branch_names(&"org_a".into(), &"prj_1".into())
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
            &"org_a".into(),
            &"prj_1".into(),
            &[s3.id.clone(), "f".repeat(40), s1.id.clone()],
        )
        .await
        .unwrap();
    assert_eq!(got, [s3.clone(), s1.clone()]);

    // Removing a branch keeps the snapshots others use.
    store
        .remove_branch(&"org_a".into(), &"prj_1".into(), "feature")
        .await
        .unwrap();
    let again = store
        .remove_branch(&"org_a".into(), &"prj_1".into(), "feature")
        .await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
    assert_eq!(
        store
            .branch_names(&"org_a".into(), &"prj_1".into())
            .await
            .unwrap(),
        ["master"]
    );
    assert_eq!(
        store
            .snapshots(
                &"org_a".into(),
                &"prj_1".into(),
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
    make_team(&db, "org_a", &alice).await;
    let ev = event("evt_1", "org_a", T0, "project.created");
    store
        .create_project(project("org_a", "prj_1"), vec![key_for(&alice)], ev)
        .await
        .unwrap();
    let blob_ids: Vec<String> = (0..8).map(|i| format!("{i:0>40}")).collect();
    store
        .create_blobs(
            &"org_a".into(),
            &"prj_1".into(),
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
                    .branch(&"org_a".into(), &"prj_1".into(), "master")
                    .await
                    .unwrap()
                    .and_then(|branch| branch.snapshots.last().cloned())
                    .unwrap_or_else(|| hypnos_crypto::sync::EMPTY_HASH.to_owned());
                let mine = snapshot("prj_1", &tip, &[&blob_id]);
                match store
                    .push_snapshots(
                        &"org_a".into(),
                        &"prj_1".into(),
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
        .branch(&"org_a".into(), &"prj_1".into(), "master")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(master.snapshots.len(), 8);
    let chain = store
        .snapshots(&"org_a".into(), &"prj_1".into(), &master.snapshots)
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

fn vault(account_id: &str, salt: &str, now_ms: i64) -> Vault {
    Vault {
        account_id: account_id.into(),
        salt: salt.to_owned(),
        verifier: format!("verifier-{salt}"),
        created_at: now_ms,
        updated_at: now_ms,
    }
}

fn verification(id: &str, account_id: &str, expires_at: i64) -> VaultVerification {
    VaultVerification {
        id: id.to_owned(),
        account_id: account_id.into(),
        m1: vec![1; 32],
        m2: vec![2; 32],
        created_at: T0,
        expires_at,
    }
}

/// The vault key (insomnia-wire.md §5.1): one per account, created once, replaced by a reset
/// that drops pending verifications; a verification is stored only against the vault's current
/// verifier, taken once and by its own account, expires, is purged; an account reset keeps the
/// vault and an account deletion takes it.
async fn vaults_are_per_account_and_verifications_single_use(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;
    assert_eq!(store.vault(&alice).await.unwrap(), None);
    let missing = store.create_vault(vault("acct_nobody", "s0", T0)).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    store.create_vault(vault(&alice, "s1", T0)).await.unwrap();
    assert_eq!(
        store.vault(&alice).await.unwrap(),
        Some(vault(&alice, "s1", T0))
    );
    let again = store.create_vault(vault(&alice, "s2", T0 + 1)).await;
    assert!(
        matches!(again, Err(StoreError::Conflict(Conflict::VaultExists))),
        "{again:?}"
    );
    assert_eq!(
        store.vault(&alice).await.unwrap(),
        Some(vault(&alice, "s1", T0))
    );

    // Stored only against the current verifier; ids are unique.
    let far = T0 + 1_000_000;
    store
        .put_vault_verification(verification("v1", &alice, far), "verifier-s1")
        .await
        .unwrap();
    for (id, account, verifier) in [
        ("v0", alice.as_str(), "verifier-s2"),
        ("v0", bob.as_str(), "verifier-s1"),
    ] {
        let refused = store
            .put_vault_verification(verification(id, account, far), verifier)
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(Conflict::VaultChanged))),
            "{refused:?}"
        );
    }
    let reused = store
        .put_vault_verification(verification("v1", &alice, far), "verifier-s1")
        .await;
    assert!(
        matches!(
            reused,
            Err(StoreError::Conflict(Conflict::VaultVerification))
        ),
        "{reused:?}"
    );
    // Another account cannot take it (and leaves it); its own account takes it once.
    assert_eq!(
        store.take_vault_verification("v1", &bob, T0).await.unwrap(),
        None
    );
    let taken = store
        .take_vault_verification("v1", &alice, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken, verification("v1", &alice, far));
    assert_eq!(
        store
            .take_vault_verification("v1", &alice, T0)
            .await
            .unwrap(),
        None
    );

    // A reset replaces the vault (keeping when it was first made) and drops pending ones.
    store
        .put_vault_verification(verification("v2", &alice, far), "verifier-s1")
        .await
        .unwrap();
    store
        .reset_vault(vault(&alice, "s3", T0 + 5))
        .await
        .unwrap();
    assert_eq!(
        store.vault(&alice).await.unwrap(),
        Some(Vault {
            created_at: T0,
            ..vault(&alice, "s3", T0 + 5)
        })
    );
    assert_eq!(
        store
            .take_vault_verification("v2", &alice, T0)
            .await
            .unwrap(),
        None
    );
    store.reset_vault(vault(&bob, "b1", T0 + 6)).await.unwrap();
    assert_eq!(
        store.vault(&bob).await.unwrap(),
        Some(vault(&bob, "b1", T0 + 6))
    );
    let missing = store.reset_vault(vault("acct_nobody", "s0", T0)).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    // Expiry, and the purge.
    for (id, expires_at) in [("v3", T0 + 100), ("v4", T0 + 100), ("v5", T0 + 101)] {
        store
            .put_vault_verification(verification(id, &alice, expires_at), "verifier-s3")
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .take_vault_verification("v3", &alice, T0 + 100)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.purge_expired(T0 + 100).await.unwrap(), 1);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM vault_verifications").await,
        1
    );

    // An account reset keeps the vault; deleting the account takes it and its verifications.
    store
        .reset_account(ResetAccount {
            account_id: alice.clone(),
            salt_key: "k".into(),
            salt_auth: "a".into(),
            salt_enc: "e".into(),
            verifier: "v".into(),
            public_key: "p".into(),
            enc_private_key: "ep".into(),
            enc_symmetric_key: "es".into(),
            now_ms: T0 + 7,
        })
        .await
        .unwrap();
    assert_eq!(store.vault(&alice).await.unwrap().unwrap().salt, "s3");
    store.delete_account(&alice).await.unwrap();
    assert_eq!(store.vault(&alice).await.unwrap(), None);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM vault_verifications").await,
        0
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM vaults").await, 1);
}

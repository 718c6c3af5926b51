//! Accounts: sign-up, changed and reset credentials, deletion.

use hypnos_server::storage::{ChangeCredentials, Conflict, ResetAccount, StoreError};

use crate::common::{self, TestDb};
use crate::fixtures::*;

common::on_both_backends!(
    signup_creates_personal_org_and_owner_membership,
    duplicate_email_conflicts_and_writes_nothing,
    change_credentials_is_guarded_and_revokes_other_sessions,
    reset_replaces_keys_and_keeps_memberships,
    delete_account_refuses_shared_teams_then_removes_everything,
);

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
    twin.account.email = "alice@example.com".into();
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

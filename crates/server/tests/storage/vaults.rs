//! The vault key and its verifications.

use hypnos_server::storage::{Conflict, ResetAccount, StoreError, Vault};

use crate::common::{self, TestDb};
use crate::fixtures::*;

common::on_both_backends!(vaults_are_per_account_and_verifications_single_use,);

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

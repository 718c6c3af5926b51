//! An account's vault key and its pending verifications: [`super::super::VaultStore`], written
//! once. Each method acts for one account, in that account's [`super::super::Scope`].

/// Writes `VaultStore` for `$store` on `$db` into the backend's `sql` module.
macro_rules! vault_sql {
    ($db:ty, $store:ty) => {
        /// See [`VaultStore::vault`].
        async fn select_vault(
            tx: &mut sqlx::Transaction<'static, $db>,
            account_id: &AccountId,
        ) -> Result<Option<Vault>, StoreError> {
            let row = sqlx::query_as::<_, VaultRow>(
                "SELECT account_id, salt, verifier, created_at, updated_at FROM vaults \
                 WHERE account_id = $1",
            )
            .bind(account_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_error)?;
            Ok(row.map(Vault::from))
        }

        #[async_trait::async_trait]
        impl $crate::storage::VaultStore for $store {
            async fn vault(&self, account_id: &AccountId) -> Result<Option<Vault>, StoreError> {
                transaction!(self.read_in(Scope::account(account_id)), |tx| {
                    select_vault(tx, account_id).await
                })
            }

            async fn create_vault(&self, vault: Vault) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::account(&vault.account_id)), |tx| {
                    let inserted = sqlx::query(
                        "INSERT INTO vaults (account_id, salt, verifier, created_at, updated_at) \
                         SELECT id, $2, $3, $4, $4 FROM accounts WHERE id = $1 \
                         ON CONFLICT (account_id) DO NOTHING",
                    )
                    .bind(&vault.account_id)
                    .bind(&vault.salt)
                    .bind(&vault.verifier)
                    .bind(vault.updated_at)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
                    if inserted == 0 {
                        return Err(if select_vault(tx, &vault.account_id).await?.is_some() {
                            StoreError::Conflict(Conflict::VaultExists)
                        } else {
                            StoreError::NotFound
                        });
                    }
                    Ok(())
                })
            }

            async fn reset_vault(&self, vault: Vault) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::account(&vault.account_id)), |tx| {
                    let stored = sqlx::query(
                        "INSERT INTO vaults (account_id, salt, verifier, created_at, updated_at) \
                         SELECT id, $2, $3, $4, $4 FROM accounts WHERE id = $1 \
                         ON CONFLICT (account_id) DO UPDATE SET salt = excluded.salt, \
                         verifier = excluded.verifier, updated_at = excluded.updated_at",
                    )
                    .bind(&vault.account_id)
                    .bind(&vault.salt)
                    .bind(&vault.verifier)
                    .bind(vault.updated_at)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
                    if stored == 0 {
                        return Err(StoreError::NotFound);
                    }
                    sqlx::query("DELETE FROM vault_verifications WHERE account_id = $1")
                        .bind(&vault.account_id)
                        .execute(&mut **tx)
                        .await
                        .map_err(map_error)?;
                    Ok(())
                })
            }

            async fn put_vault_verification(
                &self,
                verification: VaultVerification,
                verifier: &str,
            ) -> Result<(), StoreError> {
                transaction!(
                    self.begin_in(Scope::account(&verification.account_id)),
                    |tx| {
                        let inserted = sqlx::query(
                            "INSERT INTO vault_verifications \
                         (id, account_id, m1, m2, created_at, expires_at) \
                         SELECT $1, account_id, $3, $4, $5, $6 FROM vaults \
                         WHERE account_id = $2 AND verifier = $7",
                        )
                        .bind(&verification.id)
                        .bind(&verification.account_id)
                        .bind(&verification.m1)
                        .bind(&verification.m2)
                        .bind(verification.created_at)
                        .bind(verification.expires_at)
                        .bind(verifier)
                        .execute(&mut **tx)
                        .await
                        .map_err(map_error)?
                        .rows_affected();
                        if inserted == 0 {
                            return Err(StoreError::Conflict(Conflict::VaultChanged));
                        }
                        Ok(())
                    }
                )
            }

            async fn take_vault_verification(
                &self,
                id: &str,
                account_id: &AccountId,
                now_ms: i64,
            ) -> Result<Option<VaultVerification>, StoreError> {
                let taken = transaction!(self.begin_in(Scope::account(account_id)), |tx| {
                    // One statement: of two concurrent deletes, only one gets the row back.
                    sqlx::query_as::<_, VaultVerificationRow>(
                        "DELETE FROM vault_verifications WHERE id = $1 AND account_id = $2 \
                         RETURNING id, account_id, m1, m2, created_at, expires_at",
                    )
                    .bind(id)
                    .bind(account_id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(map_error)
                })?;
                // An expired verification is deleted too, and reported as missing.
                Ok(taken
                    .map(VaultVerification::from)
                    .filter(|verification| verification.expires_at > now_ms))
            }
        }
    };
}
pub(in crate::storage) use vault_sql;

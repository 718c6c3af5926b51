//! Accounts, sessions, log-in attempts, reset tokens, security events, server secrets and
//! sign-up tokens: [`super::super::Store`] and [`super::super::SignupStore`], written once.
//!
//! Most of these are single statements on the store's pools, outside any transaction: a session
//! check or a log-in step is one round trip. The rest begin their transactions as the row-level
//! security of migration 0003 needs (an account and its personal organization, or none).

/// Writes `Store` and `SignupStore` for `$store` on `$db` into the backend's `sql` module (see
/// [`super::shared_sql!`] for `$smaller` and `$lock`).
macro_rules! accounts_sql {
    ($db:ty, $store:ty, $smaller:literal, $lock:literal) => {
        /// Reads an account inside a transaction (after an update, to return it).
        async fn account_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            account_id: &AccountId,
        ) -> Result<Account, StoreError> {
            sqlx::query_as::<_, AccountRow>(concat!(
                "SELECT ",
                account_columns!(),
                " FROM accounts WHERE id = $1"
            ))
            .bind(account_id)
            .fetch_one(&mut **tx)
            .await
            .map(Account::from)
            .map_err(map_error)
        }

        #[async_trait::async_trait]
        impl $crate::storage::Store for $store {
            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map_err(map_error)?;
                Ok(())
            }

            async fn check_writable(&self) -> Result<(), StoreError> {
                self.readiness.check(self.probe_write()).await
            }

            fn notices(&self) -> $crate::storage::notices::Notices {
                self.notice_channel()
            }

            fn pool_use(&self) -> Vec<$crate::storage::PoolUse> {
                self.pools_in_use()
            }

            async fn create_account(&self, new: NewAccount) -> Result<Account, StoreError> {
                let NewAccount {
                    account: new,
                    personal_org_id,
                } = new;
                let scope = Scope::both(&personal_org_id, &new.id);
                transaction!(self.begin_in(scope), |tx| {
                    let account = sqlx::query_as::<_, AccountRow>(concat!(
                        "INSERT INTO accounts (",
                        account_columns!(),
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                         RETURNING ",
                        account_columns!()
                    ))
                    .bind(&new.id)
                    .bind(&new.email)
                    .bind(&new.first_name)
                    .bind(&new.last_name)
                    .bind(&new.salt_key)
                    .bind(&new.salt_auth)
                    .bind(&new.salt_enc)
                    .bind(&new.verifier)
                    .bind(&new.public_key)
                    .bind(&new.enc_private_key)
                    .bind(&new.enc_symmetric_key)
                    .bind(new.created_at)
                    .bind(new.updated_at)
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    sqlx::query(
                        "INSERT INTO organizations \
                         (id, name, display_name, kind, owner_account_id, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&personal_org_id)
                    .bind($crate::storage::personal_org_name(&new.id))
                    .bind($crate::storage::PERSONAL_ORG_DISPLAY_NAME)
                    .bind(OrganizationKind::Personal.as_str())
                    .bind(&new.id)
                    .bind(new.created_at)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    sqlx::query(
                        "INSERT INTO memberships (organization_id, account_id, role, created_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&personal_org_id)
                    .bind(&new.id)
                    .bind(Role::Owner.as_str())
                    .bind(new.created_at)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    Ok(Account::from(account))
                })
            }

            async fn account_by_email(&self, email: &str) -> Result<Option<Account>, StoreError> {
                let row = sqlx::query_as::<_, AccountRow>(concat!(
                    "SELECT ",
                    account_columns!(),
                    " FROM accounts WHERE email = $1"
                ))
                .bind(email)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_error)?;
                Ok(row.map(Account::from))
            }

            async fn account_by_id(&self, account_id: &AccountId) -> Result<Option<Account>, StoreError> {
                let row = sqlx::query_as::<_, AccountRow>(concat!(
                    "SELECT ",
                    account_columns!(),
                    " FROM accounts WHERE id = $1"
                ))
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_error)?;
                Ok(row.map(Account::from))
            }

            async fn change_credentials(
                &self,
                change: ChangeCredentials,
            ) -> Result<Account, StoreError> {
                transaction!(self.begin(), |tx| {
                    let updated = sqlx::query(
                        "UPDATE accounts SET email = $4, first_name = COALESCE($5, first_name), \
                         last_name = COALESCE($6, last_name), verifier = $7, \
                         enc_symmetric_key = $8, updated_at = $9 \
                         WHERE id = $1 AND verifier = $2 AND enc_symmetric_key = $3",
                    )
                    .bind(&change.account_id)
                    .bind(&change.expected_verifier)
                    .bind(&change.expected_enc_symmetric_key)
                    .bind(&change.new_email)
                    .bind(&change.new_first_name)
                    .bind(&change.new_last_name)
                    .bind(&change.new_verifier)
                    .bind(&change.new_enc_symmetric_key)
                    .bind(change.now_ms)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
                    if updated == 0 {
                        let exists = sqlx::query("SELECT 1 FROM accounts WHERE id = $1")
                            .bind(&change.account_id)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(map_error)?
                            .is_some();
                        return Err(if exists {
                            StoreError::Conflict(Conflict::Credentials)
                        } else {
                            StoreError::NotFound
                        });
                    }
                    sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND id_hash <> $2")
                        .bind(&change.account_id)
                        .bind(&change.keep_session_hash[..])
                        .execute(&mut **tx)
                        .await
                        .map_err(map_error)?;
                    sqlx::query("DELETE FROM login_attempts WHERE account_id = $1")
                        .bind(&change.account_id)
                        .execute(&mut **tx)
                        .await
                        .map_err(map_error)?;
                    account_in(tx, &change.account_id).await
                })
            }

            async fn reset_account(&self, reset: ResetAccount) -> Result<Account, StoreError> {
                transaction!(self.begin_in(Scope::account(&reset.account_id)), |tx| {
                    let updated = sqlx::query(
                        "UPDATE accounts SET salt_key = $2, salt_auth = $3, salt_enc = $4, \
                         verifier = $5, public_key = $6, enc_private_key = $7, \
                         enc_symmetric_key = $8, updated_at = $9 WHERE id = $1",
                    )
                    .bind(&reset.account_id)
                    .bind(&reset.salt_key)
                    .bind(&reset.salt_auth)
                    .bind(&reset.salt_enc)
                    .bind(&reset.verifier)
                    .bind(&reset.public_key)
                    .bind(&reset.enc_private_key)
                    .bind(&reset.enc_symmetric_key)
                    .bind(reset.now_ms)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
                    if updated == 0 {
                        return Err(StoreError::NotFound);
                    }
                    for statement in [
                        "DELETE FROM sessions WHERE account_id = $1",
                        "DELETE FROM login_attempts WHERE account_id = $1",
                        "DELETE FROM reset_tokens WHERE account_id = $1",
                        "DELETE FROM project_keys WHERE account_id = $1",
                        "DELETE FROM invitation_keys WHERE (organization_id, invitation_id) IN \
                         (SELECT organization_id, id FROM invitations WHERE invitee_account_id = $1)",
                    ] {
                        sqlx::query(statement)
                            .bind(&reset.account_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(map_error)?;
                    }
                    account_in(tx, &reset.account_id).await
                })
            }

            async fn set_account_disabled(
                &self,
                account_id: &AccountId,
                disabled_at: Option<i64>,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::account(account_id)), |tx| {
                    update_one(
                        tx,
                        sqlx::query("UPDATE accounts SET disabled_at = $2 WHERE id = $1")
                            .bind(account_id)
                            .bind(disabled_at),
                    )
                    .await?;
                    if disabled_at.is_some() {
                        sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                            .bind(account_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(map_error)?;
                    }
                    Ok(())
                })
            }

            async fn account_disabled_at(
                &self,
                account_id: &AccountId,
            ) -> Result<Option<i64>, StoreError> {
                let disabled: Option<Option<i64>> =
                    sqlx::query_scalar("SELECT disabled_at FROM accounts WHERE id = $1")
                        .bind(account_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_error)?;
                Ok(disabled.flatten())
            }

            async fn delete_account(&self, account_id: &AccountId) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::account(account_id)), |tx| {
                    // Lock the account and the organizations it owns (PostgreSQL's `FOR UPDATE`):
                    // a concurrent invitation acceptance (which inserts a membership referencing
                    // one of them) waits for this transaction. On SQLite the transaction began
                    // IMMEDIATE: no other writer runs until it ends.
                    let exists =
                        sqlx::query(concat!("SELECT 1 FROM accounts WHERE id = $1", $lock))
                            .bind(account_id)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(map_error)?
                            .is_some();
                    if !exists {
                        return Err(StoreError::NotFound);
                    }
                    sqlx::query(concat!(
                        "SELECT id FROM organizations WHERE owner_account_id = $1",
                        $lock
                    ))
                    .bind(account_id)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    let owns_shared_team = sqlx::query(
                        "SELECT 1 FROM organizations o \
                         WHERE o.owner_account_id = $1 AND o.kind = 'team' \
                         AND EXISTS (SELECT 1 FROM memberships m \
                                     WHERE m.organization_id = o.id AND m.account_id <> $1) \
                         LIMIT 1",
                    )
                    .bind(account_id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .is_some();
                    if owns_shared_team {
                        return Err(StoreError::Conflict(Conflict::OwnsSharedTeam));
                    }
                    // Owned organizations take their projects, keys, snapshots, blobs,
                    // invitations and audit events with them; the account takes its memberships
                    // (and through them its project keys), sessions, reset tokens and
                    // invitations. Log-in attempts have no foreign key (on PostgreSQL they are
                    // an unlogged table, see migration 0002).
                    for statement in [
                        "DELETE FROM login_attempts WHERE account_id = $1",
                        "DELETE FROM organizations WHERE owner_account_id = $1",
                        "DELETE FROM accounts WHERE id = $1",
                    ] {
                        sqlx::query(statement)
                            .bind(account_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(map_error)?;
                    }
                    Ok(())
                })
            }

            async fn create_session(&self, new: NewSession) -> Result<Session, StoreError> {
                let row = sqlx::query_as::<_, SessionRow>(concat!(
                    "INSERT INTO sessions (",
                    session_columns!(),
                    ") SELECT $1, id, $3, $3, $4, ",
                    $smaller,
                    "($3 + $4, $3 + $5), $3 + $5 FROM accounts WHERE id = $2 RETURNING ",
                    session_columns!()
                ))
                .bind(&new.id_hash[..])
                .bind(&new.account_id)
                .bind(new.now_ms)
                .bind(new.idle_ttl_ms)
                .bind(new.absolute_ttl_ms)
                .fetch_optional(self.write_pool())
                .await
                .map_err(map_error)?;
                row.ok_or(StoreError::NotFound)?.try_into()
            }

            async fn session_account(
                &self,
                id_hash: &SecretHash,
                now_ms: i64,
            ) -> Result<Option<(Session, Account)>, StoreError> {
                let row = sqlx::query_as::<_, SessionAccountRow>(concat!(
                    "SELECT ",
                    session_account_columns!(),
                    " FROM sessions s JOIN accounts a ON a.id = s.account_id \
                     WHERE s.id_hash = $1 AND s.idle_expires_at > $2 \
                     AND s.absolute_expires_at > $2 AND a.disabled_at IS NULL"
                ))
                .bind(&id_hash[..])
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_error)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn touch_session(
                &self,
                id_hash: &SecretHash,
                now_ms: i64,
            ) -> Result<Option<Session>, StoreError> {
                let row = sqlx::query_as::<_, SessionRow>(concat!(
                    "UPDATE sessions SET last_seen_at = $2, idle_expires_at = ",
                    $smaller,
                    "(absolute_expires_at, $2 + idle_ttl_ms) \
                     WHERE id_hash = $1 AND idle_expires_at > $2 AND absolute_expires_at > $2 \
                     RETURNING ",
                    session_columns!()
                ))
                .bind(&id_hash[..])
                .bind(now_ms)
                .fetch_optional(self.write_pool())
                .await
                .map_err(map_error)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn delete_session(&self, id_hash: &SecretHash) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                    .bind(&id_hash[..])
                    .execute(self.write_pool())
                    .await
                    .map_err(map_error)?;
                Ok(())
            }

            async fn delete_sessions_of(&self, account_id: &AccountId) -> Result<u64, StoreError> {
                Ok(sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                    .bind(account_id)
                    .execute(self.write_pool())
                    .await
                    .map_err(map_error)?
                    .rows_affected())
            }

            async fn put_login_attempt(&self, attempt: LoginAttempt) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO login_attempts \
                     (id, account_id, email, m1, m2, key_hash, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&attempt.id)
                .bind(&attempt.account_id)
                .bind(&attempt.email)
                .bind(&attempt.m1)
                .bind(&attempt.m2)
                .bind(&attempt.key_hash)
                .bind(attempt.created_at)
                .bind(attempt.expires_at)
                .execute(self.write_pool())
                .await
                .map_err(map_error)?;
                Ok(())
            }

            async fn take_login_attempt(
                &self,
                id: &str,
                now_ms: i64,
            ) -> Result<Option<LoginAttempt>, StoreError> {
                // One statement: of two concurrent deletes, only one gets the row back. An
                // expired attempt is deleted too, and reported as missing.
                let row = sqlx::query_as::<_, LoginAttemptRow>(
                    "DELETE FROM login_attempts WHERE id = $1 \
                     RETURNING id, account_id, email, m1, m2, key_hash, created_at, expires_at",
                )
                .bind(id)
                .fetch_optional(self.write_pool())
                .await
                .map_err(map_error)?;
                Ok(row
                    .filter(|row| row.expires_at > now_ms)
                    .map(LoginAttempt::from))
            }

            async fn purge_expired(&self, now_ms: i64) -> Result<u64, StoreError> {
                transaction!(self.begin(), |tx| {
                    let mut n_deleted = 0;
                    for statement in [
                        "DELETE FROM login_attempts WHERE expires_at <= $1",
                        "DELETE FROM vault_verifications WHERE expires_at <= $1",
                        "DELETE FROM sessions \
                         WHERE idle_expires_at <= $1 OR absolute_expires_at <= $1",
                        "DELETE FROM reset_tokens WHERE expires_at <= $1",
                    ] {
                        n_deleted += sqlx::query(statement)
                            .bind(now_ms)
                            .execute(&mut **tx)
                            .await
                            .map_err(map_error)?
                            .rows_affected();
                    }
                    Ok(n_deleted)
                })
            }

            async fn put_reset_token(
                &self,
                token_hash: &SecretHash,
                account_id: &AccountId,
                now_ms: i64,
                ttl_ms: i64,
            ) -> Result<(), StoreError> {
                let inserted = sqlx::query(
                    "INSERT INTO reset_tokens (token_hash, account_id, created_at, expires_at) \
                     SELECT $1, id, $3, $3 + $4 FROM accounts WHERE id = $2",
                )
                .bind(&token_hash[..])
                .bind(account_id)
                .bind(now_ms)
                .bind(ttl_ms)
                .execute(self.write_pool())
                .await
                .map_err(map_error)?
                .rows_affected();
                if inserted == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn take_reset_token(
                &self,
                token_hash: &SecretHash,
                account_id: &AccountId,
                now_ms: i64,
            ) -> Result<bool, StoreError> {
                let deleted = sqlx::query(
                    "DELETE FROM reset_tokens \
                     WHERE token_hash = $1 AND account_id = $2 AND expires_at > $3",
                )
                .bind(&token_hash[..])
                .bind(account_id)
                .bind(now_ms)
                .execute(self.write_pool())
                .await
                .map_err(map_error)?
                .rows_affected();
                Ok(deleted == 1)
            }

            async fn record_security_event(
                &self,
                kind: &str,
                account_id: Option<&AccountId>,
                client_ip: Option<&str>,
                details: Option<&str>,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO security_events (at, kind, account_id, client_ip, details) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(now_ms)
                .bind(kind)
                .bind(account_id)
                .bind(client_ip)
                .bind(details)
                .execute(self.write_pool())
                .await
                .map_err(map_error)?;
                Ok(())
            }

            async fn server_secret(
                &self,
                name: &str,
                generate: &(dyn Fn() -> Vec<u8> + Sync),
            ) -> Result<Vec<u8>, StoreError> {
                let select = "SELECT value FROM server_settings WHERE name = $1";
                let stored: Option<Vec<u8>> = sqlx::query_scalar(select)
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_error)?;
                if let Some(value) = stored {
                    return Ok(value);
                }
                sqlx::query(
                    "INSERT INTO server_settings (name, value) VALUES ($1, $2) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(generate())
                .execute(self.write_pool())
                .await
                .map_err(map_error)?;
                // Read back where it was written: the value that was stored first.
                sqlx::query_scalar(select)
                    .bind(name)
                    .fetch_one(self.write_pool())
                    .await
                    .map_err(map_error)
            }
        }

        // Sign-up tokens (issue 12): server-wide rows, so no scope.
        #[async_trait::async_trait]
        impl $crate::storage::SignupStore for $store {
            async fn put_signup_token(
                &self,
                token: $crate::storage::SignupToken,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::default()), |tx| {
                    sqlx::query("DELETE FROM signup_tokens WHERE expires_at <= $1")
                        .bind(now_ms)
                        .execute(&mut **tx)
                        .await
                        .map_err(map_error)?;
                    sqlx::query(
                        "INSERT INTO signup_tokens (token_hash, email, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&token.token_hash[..])
                    .bind(&token.email)
                    .bind(token.created_at)
                    .bind(token.expires_at)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    Ok(())
                })
            }

            async fn signup_token(
                &self,
                token_hash: &SecretHash,
                now_ms: i64,
            ) -> Result<Option<$crate::storage::SignupToken>, StoreError> {
                transaction!(self.read_in(Scope::default()), |tx| {
                    let found: Option<(Option<String>, i64, i64)> = sqlx::query_as(
                        "SELECT email, created_at, expires_at FROM signup_tokens \
                         WHERE token_hash = $1 AND expires_at > $2",
                    )
                    .bind(&token_hash[..])
                    .bind(now_ms)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    Ok(found.map(|(email, created_at, expires_at)| {
                        $crate::storage::SignupToken {
                            token_hash: *token_hash,
                            email,
                            created_at,
                            expires_at,
                        }
                    }))
                })
            }

            async fn take_signup_token(
                &self,
                token_hash: &SecretHash,
                now_ms: i64,
            ) -> Result<bool, StoreError> {
                transaction!(self.begin_in(Scope::default()), |tx| {
                    let deleted = sqlx::query(
                        "DELETE FROM signup_tokens WHERE token_hash = $1 AND expires_at > $2",
                    )
                    .bind(&token_hash[..])
                    .bind(now_ms)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
                    Ok(deleted == 1)
                })
            }
        }
    };
}
pub(in crate::storage) use accounts_sql;

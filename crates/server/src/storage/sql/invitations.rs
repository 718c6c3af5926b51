//! Invitations and project keys: the second half of [`super::super::TenantStore`], written
//! once, and the `impl` block that holds both halves ([`super::tenants`] hands its methods in
//! as tokens).

/// Writes `TenantStore` for `$store` on `$db` into the backend's `sql` module: the
/// `$organization_methods` of [`super::tenants`], then these.
macro_rules! invitations_sql {
    ($db:ty, $store:ty, { $($organization_methods:tt)* }) => {
        /// Whether a row exists for `sql` with the two text parameters.
        async fn exists2(
            tx: &mut sqlx::Transaction<'static, $db>,
            sql: &'static str,
            first: &str,
            second: &str,
        ) -> Result<bool, StoreError> {
            Ok(sqlx::query(sql)
                .bind(first)
                .bind(second)
                .fetch_optional(&mut **tx)
                .await
                .map_err(map_error)?
                .is_some())
        }

        /// Whether `account_id` holds a key for the organization's project `project_id`.
        async fn holds_key(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &OrgId,
            project_id: &ProjectId,
            account_id: &AccountId,
        ) -> Result<bool, StoreError> {
            Ok(sqlx::query(
                "SELECT 1 FROM project_keys \
                 WHERE organization_id = $1 AND project_id = $2 AND account_id = $3",
            )
            .bind(organization_id)
            .bind(project_id)
            .bind(account_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_error)?
            .is_some())
        }

        /// See [`TenantStore::create_invitation`].
        async fn insert_invitation(
            tx: &mut sqlx::Transaction<'static, $db>,
            invitation: &Invitation,
            keys: &[InvitationKey],
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            let org = &invitation.organization_id;
            let invitee = &invitation.invitee_account_id;
            if exists2(
                tx,
                "SELECT 1 FROM memberships WHERE organization_id = $1 AND account_id = $2",
                org,
                invitee,
            )
            .await?
            {
                return Err(StoreError::Conflict(Conflict::AlreadyMember));
            }
            sqlx::query(
                "DELETE FROM invitations \
                 WHERE organization_id = $1 AND invitee_account_id = $2 AND expires_at <= $3",
            )
            .bind(org)
            .bind(invitee)
            .bind(invitation.created_at)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
            if exists2(
                tx,
                "SELECT 1 FROM invitations WHERE organization_id = $1 AND invitee_account_id = $2",
                org,
                invitee,
            )
            .await?
            {
                return Err(StoreError::Conflict(Conflict::AlreadyInvited));
            }
            for key in keys {
                if !holds_key(tx, org, &key.project_id, &invitation.inviter_account_id).await? {
                    return Err(StoreError::Conflict(Conflict::KeyNotShareable));
                }
            }
            sqlx::query(
                "INSERT INTO invitations (organization_id, id, invitee_account_id, \
                 inviter_account_id, role, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(org)
            .bind(&invitation.id)
            .bind(invitee)
            .bind(&invitation.inviter_account_id)
            .bind(invitation.role.as_str())
            .bind(invitation.created_at)
            .bind(invitation.expires_at)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
            for key in keys {
                sqlx::query(
                    "INSERT INTO invitation_keys (organization_id, invitation_id, project_id, \
                     enc_symmetric_key, auto_linked) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(org)
                .bind(&invitation.id)
                .bind(&key.project_id)
                .bind(&key.enc_symmetric_key)
                .bind(key.auto_linked)
                .execute(&mut **tx)
                .await
                .map_err(map_error)?;
            }
            insert_audit_event(tx, event).await
        }

        /// See [`TenantStore::invitations_of`] (`by_invitee` false) and
        /// [`TenantStore::invitations_for`].
        async fn select_invitations(
            tx: &mut sqlx::Transaction<'static, $db>,
            by_invitee: bool,
            id: &str,
            now_ms: i64,
        ) -> Result<Vec<InvitationView>, StoreError> {
            let sql = if by_invitee {
                concat!(
                    "SELECT ",
                    invitation_view_columns!(),
                    " WHERE i.invitee_account_id = $1 AND i.expires_at > $2 \
                     ORDER BY i.created_at, i.id"
                )
            } else {
                concat!(
                    "SELECT ",
                    invitation_view_columns!(),
                    " WHERE i.organization_id = $1 AND i.expires_at > $2 \
                     ORDER BY i.created_at, i.id"
                )
            };
            let rows = sqlx::query_as::<_, InvitationViewRow>(sql)
                .bind(id)
                .bind(now_ms)
                .fetch_all(&mut **tx)
                .await
                .map_err(map_error)?;
            rows.into_iter().map(TryInto::try_into).collect()
        }

        /// The organization, role and inviter of a live invitation addressed to the account,
        /// and from then on acts in that organization (`NotFound` for any other).
        async fn take_up_invitation(
            tx: &mut sqlx::Transaction<'static, $db>,
            account_id: &AccountId,
            invitation_id: &str,
            now_ms: i64,
        ) -> Result<(OrgId, String, AccountId), StoreError> {
            let found: Option<(OrgId, String, AccountId)> = sqlx::query_as(
                "SELECT organization_id, role, inviter_account_id FROM invitations \
                 WHERE id = $1 AND invitee_account_id = $2 AND expires_at > $3",
            )
            .bind(invitation_id)
            .bind(account_id)
            .bind(now_ms)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_error)?;
            let (organization_id, role, inviter) = found.ok_or(StoreError::NotFound)?;
            set_scope(tx, Scope::both(&organization_id, account_id)).await?;
            Ok((organization_id, role, inviter))
        }

        /// Deletes an invitation of the organization; returns whether there was one.
        async fn delete_invitation_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &OrgId,
            invitation_id: &str,
        ) -> Result<bool, StoreError> {
            let deleted =
                sqlx::query("DELETE FROM invitations WHERE organization_id = $1 AND id = $2")
                    .bind(organization_id)
                    .bind(invitation_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
            Ok(deleted > 0)
        }

        /// See [`TenantStore::accept_invitation`].
        async fn accept_invitation_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            account_id: &AccountId,
            invitation_id: &str,
            now_ms: i64,
            mut event: AuditEvent,
        ) -> Result<OrgId, StoreError> {
            let (org, role, inviter) =
                take_up_invitation(tx, account_id, invitation_id, now_ms).await?;
            // Belt and braces (issue 12): removing or demoting the inviter deletes what it may
            // no longer offer, and this refuses whatever is left (an invitation from before that
            // rule, a race with the demotion): the inviter must still be a member whose role
            // may invite at this role. Such an invitation is void and goes.
            let offered = Role::parse(&role).ok_or_else(|| {
                StoreError::Other(format!("an invitation has the unknown role {role:?}"))
            })?;
            let inviter_may = match member_role_in(tx, &org, &inviter).await {
                Ok(inviter_role) => $crate::storage::may_invite(inviter_role, offered),
                Err(StoreError::NotFound) => false,
                Err(other) => return Err(other),
            };
            if !inviter_may {
                delete_invitation_in(tx, &org, invitation_id).await?;
                return Err(StoreError::Conflict(Conflict::InviterLostRights));
            }
            sqlx::query(
                "INSERT INTO memberships (organization_id, account_id, role, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&org)
            .bind(account_id)
            .bind(&role)
            .bind(now_ms)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
            // Keys for projects deleted since the invitation are dropped.
            sqlx::query(
                "INSERT INTO project_keys (organization_id, project_id, account_id, \
                 enc_symmetric_key, auto_linked, created_at) \
                 SELECT k.organization_id, k.project_id, $3, k.enc_symmetric_key, k.auto_linked, $4 \
                 FROM invitation_keys k JOIN projects p \
                   ON p.organization_id = k.organization_id AND p.id = k.project_id \
                 WHERE k.organization_id = $1 AND k.invitation_id = $2",
            )
            .bind(&org)
            .bind(invitation_id)
            .bind(account_id)
            .bind(now_ms)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
            // If a removal or demotion of the inviter deleted the invitation meanwhile, the
            // accept loses the race and writes nothing.
            if !delete_invitation_in(tx, &org, invitation_id).await? {
                return Err(StoreError::NotFound);
            }
            event.organization_id = org.clone();
            insert_audit_event(tx, &event).await?;
            Ok(org)
        }

        /// See [`TenantStore::reconcile_keys`] (`replace` false) and
        /// [`TenantStore::replace_project_keys`].
        async fn insert_reconciled_keys(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &OrgId,
            sharer_account_id: &AccountId,
            keys: &[ProjectKey],
            now_ms: i64,
            event: &AuditEvent,
            replace: bool,
        ) -> Result<u64, StoreError> {
            for key in keys {
                let member = exists2(
                    tx,
                    "SELECT 1 FROM memberships WHERE organization_id = $1 AND account_id = $2",
                    organization_id,
                    &key.account_id,
                )
                .await?;
                if !member
                    || !holds_key(tx, organization_id, &key.project_id, sharer_account_id).await?
                {
                    return Err(StoreError::Conflict(Conflict::KeyNotShareable));
                }
            }
            let mut created = 0;
            // An existing key is overwritten only by a repair (`replace`).
            let statement = if replace {
                "INSERT INTO project_keys (organization_id, project_id, account_id, \
                 enc_symmetric_key, auto_linked, created_at) VALUES ($1, $2, $3, $4, FALSE, $5) \
                 ON CONFLICT (organization_id, project_id, account_id) DO UPDATE SET \
                 enc_symmetric_key = excluded.enc_symmetric_key, auto_linked = FALSE"
            } else {
                "INSERT INTO project_keys (organization_id, project_id, account_id, \
                 enc_symmetric_key, auto_linked, created_at) VALUES ($1, $2, $3, $4, FALSE, $5) \
                 ON CONFLICT DO NOTHING"
            };
            for key in keys {
                created += sqlx::query(statement)
                    .bind(organization_id)
                    .bind(&key.project_id)
                    .bind(&key.account_id)
                    .bind(&key.enc_symmetric_key)
                    .bind(now_ms)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
            }
            insert_audit_event(tx, event).await?;
            Ok(created)
        }

        #[async_trait::async_trait]
        impl $crate::storage::TenantStore for $store {
            $($organization_methods)*

            async fn create_invitation(
                &self,
                invitation: Invitation,
                keys: Vec<InvitationKey>,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let scope = Scope::organization(&invitation.organization_id);
                transaction!(self.begin_in(scope), |tx| {
                    insert_invitation(tx, &invitation, &keys, &event).await
                })
            }

            async fn invitations_of(
                &self,
                organization_id: &OrgId,
                now_ms: i64,
            ) -> Result<Vec<InvitationView>, StoreError> {
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
                    select_invitations(tx, false, organization_id, now_ms).await
                })
            }

            async fn invitations_for(
                &self,
                account_id: &AccountId,
                now_ms: i64,
            ) -> Result<Vec<InvitationView>, StoreError> {
                transaction!(self.read_in(Scope::account(account_id)), |tx| {
                    select_invitations(tx, true, account_id, now_ms).await
                })
            }

            async fn set_invitation_role(
                &self,
                organization_id: &OrgId,
                invitation_id: &str,
                role: Role,
                now_ms: i64,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    let statement = sqlx::query(
                        "UPDATE invitations SET role = $3 \
                         WHERE organization_id = $1 AND id = $2 AND expires_at > $4",
                    )
                    .bind(organization_id)
                    .bind(invitation_id)
                    .bind(role.as_str())
                    .bind(now_ms);
                    change_one(tx, statement, &event).await
                })
            }

            async fn delete_invitation(
                &self,
                organization_id: &OrgId,
                invitation_id: &str,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    if !delete_invitation_in(tx, organization_id, invitation_id).await? {
                        return Err(StoreError::NotFound);
                    }
                    insert_audit_event(tx, &event).await
                })
            }

            async fn accept_invitation(
                &self,
                account_id: &AccountId,
                invitation_id: &str,
                now_ms: i64,
                event: AuditEvent,
            ) -> Result<OrgId, StoreError> {
                let mut tx = self.begin_in(Scope::account(account_id)).await?;
                match accept_invitation_in(&mut tx, account_id, invitation_id, now_ms, event).await {
                    Ok(organization_id) => {
                        tx.commit().await.map_err(map_error)?;
                        Ok(organization_id)
                    }
                    // The void invitation's deletion is kept; nothing else was written.
                    Err(StoreError::Conflict(Conflict::InviterLostRights)) => {
                        tx.commit().await.map_err(map_error)?;
                        Err(StoreError::Conflict(Conflict::InviterLostRights))
                    }
                    Err(other) => Err(other),
                }
            }

            async fn decline_invitation(
                &self,
                account_id: &AccountId,
                invitation_id: &str,
                now_ms: i64,
                mut event: AuditEvent,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::account(account_id)), |tx| {
                    let (org, _, _) =
                        take_up_invitation(tx, account_id, invitation_id, now_ms).await?;
                    delete_invitation_in(tx, &org, invitation_id).await?;
                    event.organization_id = org;
                    insert_audit_event(tx, &event).await
                })
            }

            async fn my_project_keys(
                &self,
                organization_id: &OrgId,
                account_id: &AccountId,
            ) -> Result<(Vec<ProjectKey>, Vec<KeyGap>), StoreError> {
                transaction!(self.read_in(Scope::both(organization_id, account_id)), |tx| {
                    let keys = sqlx::query_as::<_, ProjectKeyRow>(
                        "SELECT project_id, account_id, enc_symmetric_key FROM project_keys \
                         WHERE organization_id = $1 AND account_id = $2 ORDER BY project_id",
                    )
                    .bind(organization_id)
                    .bind(account_id)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    let gaps = sqlx::query_as::<_, KeyGapRow>(
                        "SELECT m.account_id, mine.project_id, a.public_key \
                         FROM project_keys mine \
                         JOIN memberships m ON m.organization_id = mine.organization_id \
                         JOIN accounts a ON a.id = m.account_id \
                         WHERE mine.organization_id = $1 AND mine.account_id = $2 \
                           AND NOT EXISTS (SELECT 1 FROM project_keys k \
                                           WHERE k.organization_id = mine.organization_id \
                                             AND k.project_id = mine.project_id \
                                             AND k.account_id = m.account_id) \
                         ORDER BY mine.project_id, m.account_id",
                    )
                    .bind(organization_id)
                    .bind(account_id)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    Ok((
                        keys.into_iter().map(ProjectKey::from).collect(),
                        gaps.into_iter().map(KeyGap::from).collect(),
                    ))
                })
            }

            async fn reconcile_keys(
                &self,
                organization_id: &OrgId,
                sharer_account_id: &AccountId,
                keys: Vec<ProjectKey>,
                now_ms: i64,
                event: AuditEvent,
            ) -> Result<u64, StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    insert_reconciled_keys(
                        tx, organization_id, sharer_account_id, &keys, now_ms, &event, false,
                    )
                    .await
                })
            }

            async fn replace_project_keys(
                &self,
                organization_id: &OrgId,
                sharer_account_id: &AccountId,
                keys: Vec<ProjectKey>,
                now_ms: i64,
                event: AuditEvent,
            ) -> Result<u64, StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    insert_reconciled_keys(
                        tx, organization_id, sharer_account_id, &keys, now_ms, &event, true,
                    )
                    .await
                })
            }

            async fn create_invitations(
                &self,
                organization_id: &OrgId,
                invitations: Vec<(Invitation, Vec<InvitationKey>, AuditEvent)>,
            ) -> Result<(), StoreError> {
                // One scope for the whole transaction: every invitation must be of it.
                if invitations
                    .iter()
                    .any(|(invitation, _, _)| invitation.organization_id != *organization_id)
                {
                    return Err(StoreError::Other(
                        "create_invitations was given an invitation of another organization"
                            .into(),
                    ));
                }
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    for (invitation, keys, event) in &invitations {
                        insert_invitation(tx, invitation, keys, event).await?;
                    }
                    Ok(())
                })
            }

            async fn renew_invitation(
                &self,
                organization_id: &OrgId,
                invitation_id: &str,
                expires_at: i64,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    let statement = sqlx::query(
                        "UPDATE invitations SET expires_at = $3 \
                         WHERE organization_id = $1 AND id = $2",
                    )
                    .bind(organization_id)
                    .bind(invitation_id)
                    .bind(expires_at);
                    change_one(tx, statement, &event).await
                })
            }
        }
    };
}
pub(in crate::storage) use invitations_sql;

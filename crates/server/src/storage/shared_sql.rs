//! Queries both backends run exactly as written, defined once.
//!
//! sqlx's executors are typed by database, and a function generic over it drowns in trait bounds,
//! so [`shared_sql!`] writes these functions into each backend module, for that module's database
//! type, where they use that module's `map_error`. Each takes a transaction the backend began in
//! the right [`super::Scope`] (on PostgreSQL that sets what row-level security lets it see; on
//! SQLite writes run on its one writing connection) and commits.
//! A query whose text differs between the databases stays in the backend.

/// A push naming at least this many blobs (a project's first push, typically) first refreshes
/// the database's planner statistics: on PostgreSQL, right after a bulk upload they still
/// describe the tables as nearly empty, and until autovacuum's next analyze (up to a minute
/// later) the planner looked blobs up by filtering the project's whole key range — 140 ms per
/// 500 ids in the push's own check, 6 ms per 50 in the pull that follows — instead of using the
/// primary key.
pub(super) const BULK_PUSH: usize = 1_000;

/// Writes the shared query functions for `$db` (`Postgres` or `Sqlite`) into the calling module,
/// and [`super::TenantStore`], [`super::VaultStore`] and [`super::SyncStore`] for its store
/// `$store` on top of them: each method begins its transaction in the right scope with the
/// backend's `read_in` or `begin_in`, runs the shared function and commits.
macro_rules! shared_sql {
    ($db:ty, $store:ty) => {
        /// Records an audit event inside a transaction.
        async fn insert_audit_event(
            tx: &mut sqlx::Transaction<'static, $db>,
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            sqlx::query(concat!(
                "INSERT INTO audit_events (",
                audit_event_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ))
            .bind(&event.id)
            .bind(&event.organization_id)
            .bind(event.at)
            .bind(&event.actor_account_id)
            .bind(&event.action)
            .bind(&event.target)
            .bind(&event.details)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
            Ok(())
        }

        /// See [`Store::memberships_of`].
        async fn select_memberships_of(
            tx: &mut sqlx::Transaction<'static, $db>,
            account_id: &str,
        ) -> Result<Vec<Membership>, StoreError> {
            let rows = sqlx::query_as::<_, MembershipRow>(concat!(
                "SELECT ",
                membership_columns!(),
                " FROM memberships m JOIN organizations o ON o.id = m.organization_id \
                 WHERE m.account_id = $1 \
                 ORDER BY CASE o.kind WHEN 'personal' THEN 0 ELSE 1 END, o.created_at, o.id"
            ))
            .bind(account_id)
            .fetch_all(&mut **tx)
            .await
            .map_err(map_error)?;
            rows.into_iter().map(TryInto::try_into).collect()
        }

        /// See [`Store::membership`].
        async fn select_membership(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            account_id: &str,
        ) -> Result<Option<Membership>, StoreError> {
            let row = sqlx::query_as::<_, MembershipRow>(concat!(
                "SELECT ",
                membership_columns!(),
                " FROM memberships m JOIN organizations o ON o.id = m.organization_id \
                 WHERE m.organization_id = $1 AND m.account_id = $2"
            ))
            .bind(organization_id)
            .bind(account_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_error)?;
            row.map(TryInto::try_into).transpose()
        }

        /// See [`Store::create_team`].
        async fn insert_team(
            tx: &mut sqlx::Transaction<'static, $db>,
            new: NewTeam,
            event: &AuditEvent,
        ) -> Result<Organization, StoreError> {
            sqlx::query(
                "INSERT INTO organizations \
                 (id, name, display_name, kind, owner_account_id, storage_rule, created_at) \
                 VALUES ($1, $2, $2, 'team', $3, $4, $5)",
            )
            .bind(&new.id)
            .bind(&new.name)
            .bind(&new.owner_account_id)
            .bind(DEFAULT_STORAGE_RULE)
            .bind(new.now_ms)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
            sqlx::query(
                "INSERT INTO memberships (organization_id, account_id, role, created_at) \
                 VALUES ($1, $2, 'owner', $3)",
            )
            .bind(&new.id)
            .bind(&new.owner_account_id)
            .bind(new.now_ms)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
            insert_audit_event(tx, event).await?;
            Ok(Organization {
                id: new.id,
                display_name: new.name.clone(),
                name: new.name,
                kind: OrganizationKind::Team,
                owner_account_id: new.owner_account_id,
                storage_rule: DEFAULT_STORAGE_RULE.into(),
                created_at: new.now_ms,
            })
        }

        /// See [`Store::delete_team`].
        async fn delete_team_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
        ) -> Result<(), StoreError> {
            let kind: Option<String> =
                sqlx::query_scalar("SELECT kind FROM organizations WHERE id = $1")
                    .bind(organization_id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(map_error)?;
            match kind.as_deref().and_then(OrganizationKind::parse) {
                None => return Err(StoreError::NotFound),
                Some(OrganizationKind::Personal) => {
                    return Err(StoreError::Conflict(PERSONAL_ORGANIZATION));
                }
                Some(OrganizationKind::Team) => {}
            }
            // Every tenant table's rows go with their organization (ON DELETE CASCADE).
            sqlx::query("DELETE FROM organizations WHERE id = $1")
                .bind(organization_id)
                .execute(&mut **tx)
                .await
                .map_err(map_error)?;
            Ok(())
        }

        /// See [`Store::set_storage_rule`].
        async fn update_storage_rule(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            rule: &str,
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            let updated = sqlx::query("UPDATE organizations SET storage_rule = $2 WHERE id = $1")
                .bind(organization_id)
                .bind(rule)
                .execute(&mut **tx)
                .await
                .map_err(map_error)?
                .rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            insert_audit_event(tx, event).await
        }

        /// See [`Store::audit_events`].
        async fn select_audit_events(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            before_ms: i64,
            limit: u32,
        ) -> Result<Vec<AuditEvent>, StoreError> {
            let rows = sqlx::query_as::<_, AuditEventRow>(concat!(
                "SELECT ",
                audit_event_columns!(),
                " FROM audit_events WHERE organization_id = $1 AND at < $2 \
                 ORDER BY at DESC, id DESC LIMIT $3"
            ))
            .bind(organization_id)
            .bind(before_ms)
            .bind(i64::from(limit))
            .fetch_all(&mut **tx)
            .await
            .map_err(map_error)?;
            Ok(rows.into_iter().map(AuditEvent::from).collect())
        }
        /// See [`Store::members`].
        async fn select_members(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            email_contains: Option<&str>,
            offset: u64,
            limit: u32,
        ) -> Result<(Vec<Member>, u64), StoreError> {
            // LIKE with its wildcards escaped: the filter is text, not a pattern.
            let pattern = format!(
                "%{}%",
                email_contains
                    .unwrap_or_default()
                    .to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            let rows = sqlx::query_as::<_, MemberRow>(
                "SELECT a.id AS account_id, a.email, a.first_name, a.last_name, m.role, \
                 m.created_at \
                 FROM memberships m JOIN accounts a ON a.id = m.account_id \
                 WHERE m.organization_id = $1 AND a.email LIKE $2 ESCAPE '\\' \
                 ORDER BY a.email LIMIT $3 OFFSET $4",
            )
            .bind(organization_id)
            .bind(&pattern)
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(&mut **tx)
            .await
            .map_err(map_error)?;
            let total: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM memberships m JOIN accounts a ON a.id = m.account_id \
                 WHERE m.organization_id = $1 AND a.email LIKE $2 ESCAPE '\\'",
            )
            .bind(organization_id)
            .bind(&pattern)
            .fetch_one(&mut **tx)
            .await
            .map_err(map_error)?;
            let members = rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?;
            Ok((members, u64::try_from(total).unwrap_or_default()))
        }

        /// The role of a member, read inside a transaction (`NotFound` for a non-member).
        async fn member_role_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            account_id: &str,
        ) -> Result<Role, StoreError> {
            let role: Option<String> = sqlx::query_scalar(
                "SELECT role FROM memberships WHERE organization_id = $1 AND account_id = $2",
            )
            .bind(organization_id)
            .bind(account_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_error)?;
            let role = role.ok_or(StoreError::NotFound)?;
            Role::parse(&role)
                .ok_or_else(|| StoreError::Other(format!("a membership has the unknown role {role:?}")))
        }

        /// See [`Store::set_member_role`].
        async fn update_member_role(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            account_id: &str,
            role: Role,
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            let current = member_role_in(tx, organization_id, account_id).await?;
            if current == Role::Owner || role == Role::Owner {
                return Err(StoreError::Conflict(OWNER_STAYS));
            }
            sqlx::query(
                "UPDATE memberships SET role = $3 WHERE organization_id = $1 AND account_id = $2",
            )
            .bind(organization_id)
            .bind(account_id)
            .bind(role.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
            // An invitation must not outlive its inviter's right to make it: those the new role
            // may not make go now (issue 12).
            for offered in [Role::Owner, Role::Admin, Role::Member] {
                if super::may_invite(role, offered) {
                    continue;
                }
                sqlx::query(
                    "DELETE FROM invitations \
                     WHERE organization_id = $1 AND inviter_account_id = $2 AND role = $3",
                )
                .bind(organization_id)
                .bind(account_id)
                .bind(offered.as_str())
                .execute(&mut **tx)
                .await
                .map_err(map_error)?;
            }
            insert_audit_event(tx, event).await
        }

        /// See [`Store::remove_member`].
        async fn delete_member(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            account_id: &str,
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            if member_role_in(tx, organization_id, account_id).await? == Role::Owner {
                return Err(StoreError::Conflict(OWNER_STAYS));
            }
            // Its project keys go with the membership (ON DELETE CASCADE); invitations to it,
            // and those it made, which must not outlive its right to make them (issue 12), go
            // here with the keys they hold. The project keys it shared to others stay: they are
            // the organization's keys held by its members.
            for statement in [
                "DELETE FROM invitations WHERE organization_id = $1 AND invitee_account_id = $2",
                "DELETE FROM invitations WHERE organization_id = $1 AND inviter_account_id = $2",
                "DELETE FROM memberships WHERE organization_id = $1 AND account_id = $2",
            ] {
                sqlx::query(statement)
                    .bind(organization_id)
                    .bind(account_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?;
            }
            insert_audit_event(tx, event).await
        }

        /// See [`Store::team_projects`].
        async fn select_team_projects(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
        ) -> Result<Vec<TeamProject>, StoreError> {
            let rows = sqlx::query_as::<_, TeamProjectRow>(
                "SELECT id, organization_id, name, created_at FROM team_projects \
                 WHERE organization_id = $1 ORDER BY created_at, id",
            )
            .bind(organization_id)
            .fetch_all(&mut **tx)
            .await
            .map_err(map_error)?;
            Ok(rows.into_iter().map(TeamProject::from).collect())
        }

        /// See [`Store::create_team_project`].
        async fn insert_team_project(
            tx: &mut sqlx::Transaction<'static, $db>,
            project: &TeamProject,
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO team_projects (organization_id, id, name, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&project.organization_id)
            .bind(&project.id)
            .bind(&project.name)
            .bind(project.created_at)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
            insert_audit_event(tx, event).await
        }

        /// See [`Store::rename_team_project`].
        async fn update_team_project(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            team_project_id: &str,
            name: &str,
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            let updated = sqlx::query(
                "UPDATE team_projects SET name = $3 WHERE organization_id = $1 AND id = $2",
            )
            .bind(organization_id)
            .bind(team_project_id)
            .bind(name)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?
            .rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            insert_audit_event(tx, event).await
        }

        /// See [`Store::delete_team_project`].
        async fn delete_team_project_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            team_project_id: &str,
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            // The synced projects in it first (their keys and sync data cascade), then it.
            sqlx::query("DELETE FROM projects WHERE organization_id = $1 AND team_project_id = $2")
                .bind(organization_id)
                .bind(team_project_id)
                .execute(&mut **tx)
                .await
                .map_err(map_error)?;
            let deleted =
                sqlx::query("DELETE FROM team_projects WHERE organization_id = $1 AND id = $2")
                    .bind(organization_id)
                    .bind(team_project_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            insert_audit_event(tx, event).await
        }
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
            organization_id: &str,
            project_id: &str,
            account_id: &str,
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

        /// See [`Store::create_invitation`].
        async fn insert_invitation(
            tx: &mut sqlx::Transaction<'static, $db>,
            invitation: &Invitation,
            keys: &[InvitationKey],
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            let org = invitation.organization_id.as_str();
            let invitee = invitation.invitee_account_id.as_str();
            if exists2(
                tx,
                "SELECT 1 FROM memberships WHERE organization_id = $1 AND account_id = $2",
                org,
                invitee,
            )
            .await?
            {
                return Err(StoreError::Conflict(ALREADY_MEMBER));
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
                return Err(StoreError::Conflict(ALREADY_INVITED));
            }
            for key in keys {
                if !holds_key(tx, org, &key.project_id, &invitation.inviter_account_id).await? {
                    return Err(StoreError::Conflict(KEY_NOT_SHAREABLE));
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

        /// See [`Store::invitations_of`] (`by_invitee` false) and [`Store::invitations_for`].
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

        /// See [`Store::set_invitation_role`].
        async fn update_invitation_role(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            invitation_id: &str,
            role: Role,
            now_ms: i64,
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            let updated = sqlx::query(
                "UPDATE invitations SET role = $3 \
                 WHERE organization_id = $1 AND id = $2 AND expires_at > $4",
            )
            .bind(organization_id)
            .bind(invitation_id)
            .bind(role.as_str())
            .bind(now_ms)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?
            .rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            insert_audit_event(tx, event).await
        }

        /// See [`Store::delete_invitation`].
        async fn delete_invitation_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            invitation_id: &str,
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            let deleted =
                sqlx::query("DELETE FROM invitations WHERE organization_id = $1 AND id = $2")
                    .bind(organization_id)
                    .bind(invitation_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            insert_audit_event(tx, event).await
        }

        /// The organization, role and inviter of a live invitation addressed to the account,
        /// and from then on acts in that organization (`NotFound` for any other).
        async fn take_up_invitation(
            tx: &mut sqlx::Transaction<'static, $db>,
            account_id: &str,
            invitation_id: &str,
            now_ms: i64,
        ) -> Result<(String, String, String), StoreError> {
            let found: Option<(String, String, String)> = sqlx::query_as(
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
            set_scope(tx, super::Scope::both(&organization_id, account_id)).await?;
            Ok((organization_id, role, inviter))
        }

        /// See [`Store::accept_invitation`].
        async fn accept_invitation_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            account_id: &str,
            invitation_id: &str,
            now_ms: i64,
            mut event: AuditEvent,
        ) -> Result<String, StoreError> {
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
                Ok(inviter_role) => super::may_invite(inviter_role, offered),
                Err(StoreError::NotFound) => false,
                Err(other) => return Err(other),
            };
            if !inviter_may {
                sqlx::query("DELETE FROM invitations WHERE organization_id = $1 AND id = $2")
                    .bind(&org)
                    .bind(invitation_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?;
                return Err(StoreError::Conflict(super::INVITER_LOST_RIGHTS));
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
            let deleted =
                sqlx::query("DELETE FROM invitations WHERE organization_id = $1 AND id = $2")
                    .bind(&org)
                    .bind(invitation_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            event.organization_id = org.clone();
            insert_audit_event(tx, &event).await?;
            Ok(org)
        }

        /// See [`Store::decline_invitation`].
        async fn decline_invitation_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            account_id: &str,
            invitation_id: &str,
            now_ms: i64,
            mut event: AuditEvent,
        ) -> Result<(), StoreError> {
            let (org, _, _) = take_up_invitation(tx, account_id, invitation_id, now_ms).await?;
            sqlx::query("DELETE FROM invitations WHERE organization_id = $1 AND id = $2")
                .bind(&org)
                .bind(invitation_id)
                .execute(&mut **tx)
                .await
                .map_err(map_error)?;
            event.organization_id = org;
            insert_audit_event(tx, &event).await
        }

        /// See [`Store::my_project_keys`].
        async fn select_my_project_keys(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            account_id: &str,
        ) -> Result<(Vec<ProjectKey>, Vec<KeyGap>), StoreError> {
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
        }

        /// See [`Store::reconcile_keys`].
        async fn insert_reconciled_keys(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            sharer_account_id: &str,
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
                    return Err(StoreError::Conflict(KEY_NOT_SHAREABLE));
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

        /// See [`Store::collaborators`]. Members and invitations in one `UNION ALL`, so that one
        /// page can hold both and the count is one query.
        async fn select_collaborators(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            filter: Option<&str>,
            with_invitations: bool,
            offset: u64,
            limit: u32,
        ) -> Result<(Vec<super::Collaborator>, u64), StoreError> {
            macro_rules! collaborators_union {
                () => {
                    "SELECT 0 AS rank, 'member' AS kind, a.id AS id, a.email AS email, \
                     a.first_name AS first_name, a.last_name AS last_name, m.role AS role, \
                     m.created_at AS created_at, CAST(NULL AS BIGINT) AS expires_at \
                     FROM memberships m JOIN accounts a ON a.id = m.account_id \
                     WHERE m.organization_id = $1 \
                       AND (a.email LIKE $2 ESCAPE '\\' \
                            OR LOWER(a.first_name || ' ' || a.last_name) LIKE $2 ESCAPE '\\') \
                     UNION ALL \
                     SELECT 1, 'invite', i.id, a.email, '', '', i.role, i.created_at, i.expires_at \
                     FROM invitations i JOIN accounts a ON a.id = i.invitee_account_id \
                     WHERE i.organization_id = $1 AND $3 AND a.email LIKE $2 ESCAPE '\\'"
                };
            }
            // LIKE with its wildcards escaped: the filter is text, not a pattern.
            let pattern = format!(
                "%{}%",
                filter
                    .unwrap_or_default()
                    .to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            type Row = (String, String, String, String, String, String, i64, Option<i64>);
            let rows = sqlx::query_as::<_, Row>(concat!(
                "SELECT kind, id, email, first_name, last_name, role, created_at, expires_at \
                 FROM (",
                collaborators_union!(),
                ") AS c ORDER BY rank, email, id LIMIT $4 OFFSET $5"
            ))
            .bind(organization_id)
            .bind(&pattern)
            .bind(with_invitations)
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(&mut **tx)
            .await
            .map_err(map_error)?;
            let total: i64 = sqlx::query_scalar(concat!(
                "SELECT COUNT(*) FROM (",
                collaborators_union!(),
                ") AS c"
            ))
            .bind(organization_id)
            .bind(&pattern)
            .bind(with_invitations)
            .fetch_one(&mut **tx)
            .await
            .map_err(map_error)?;
            let collaborators = rows
                .into_iter()
                .map(
                    |(kind, id, email, first_name, last_name, role, created_at, expires_at)| {
                        let role = Role::parse(&role).ok_or_else(|| {
                            StoreError::Other(format!("a collaborator has the unknown role {role:?}"))
                        })?;
                        let kind = if kind == "member" {
                            super::CollaboratorKind::Member
                        } else {
                            super::CollaboratorKind::Invitation
                        };
                        Ok(super::Collaborator {
                            kind,
                            id,
                            email,
                            first_name,
                            last_name,
                            role,
                            created_at,
                            expires_at,
                        })
                    },
                )
                .collect::<Result<_, StoreError>>()?;
            Ok((collaborators, u64::try_from(total).unwrap_or_default()))
        }

        /// See [`Store::renew_invitation`].
        async fn update_invitation_expiry(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            invitation_id: &str,
            expires_at: i64,
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            let updated = sqlx::query(
                "UPDATE invitations SET expires_at = $3 WHERE organization_id = $1 AND id = $2",
            )
            .bind(organization_id)
            .bind(invitation_id)
            .bind(expires_at)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?
            .rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            insert_audit_event(tx, event).await
        }

        #[async_trait::async_trait]
        impl super::TenantStore for $store {
            async fn memberships_of(&self, account_id: &str) -> Result<Vec<Membership>, StoreError> {
                let mut tx = self.read_in(Scope::account(account_id)).await?;
                let memberships = select_memberships_of(&mut tx, account_id).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(memberships)
            }

            async fn membership(
                &self,
                organization_id: &str,
                account_id: &str,
            ) -> Result<Option<Membership>, StoreError> {
                let mut tx = self
                    .read_in(Scope::both(organization_id, account_id))
                    .await?;
                let membership = select_membership(&mut tx, organization_id, account_id).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(membership)
            }

            async fn create_team(
                &self,
                new: NewTeam,
                event: AuditEvent,
            ) -> Result<Organization, StoreError> {
                let mut tx = self
                    .begin_in(Scope::both(&new.id, &new.owner_account_id))
                    .await?;
                let organization = insert_team(&mut tx, new, &event).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(organization)
            }

            async fn delete_team(&self, organization_id: &str) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                delete_team_in(&mut tx, organization_id).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn set_storage_rule(
                &self,
                organization_id: &str,
                rule: &str,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                update_storage_rule(&mut tx, organization_id, rule, &event).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn audit_events(
                &self,
                organization_id: &str,
                before_ms: i64,
                limit: u32,
            ) -> Result<Vec<AuditEvent>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let events = select_audit_events(&mut tx, organization_id, before_ms, limit).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(events)
            }

            async fn members(
                &self,
                organization_id: &str,
                email_contains: Option<&str>,
                offset: u64,
                limit: u32,
            ) -> Result<(Vec<Member>, u64), StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let page = select_members(&mut tx, organization_id, email_contains, offset, limit).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(page)
            }

            async fn set_member_role(
                &self,
                organization_id: &str,
                account_id: &str,
                role: Role,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                update_member_role(&mut tx, organization_id, account_id, role, &event).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn remove_member(
                &self,
                organization_id: &str,
                account_id: &str,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                delete_member(&mut tx, organization_id, account_id, &event).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn team_projects(&self, organization_id: &str) -> Result<Vec<TeamProject>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let projects = select_team_projects(&mut tx, organization_id).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(projects)
            }

            async fn create_team_project(
                &self,
                project: TeamProject,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self
                    .begin_in(Scope::organization(&project.organization_id))
                    .await?;
                insert_team_project(&mut tx, &project, &event).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn rename_team_project(
                &self,
                organization_id: &str,
                team_project_id: &str,
                name: &str,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                update_team_project(&mut tx, organization_id, team_project_id, name, &event).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn delete_team_project(
                &self,
                organization_id: &str,
                team_project_id: &str,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                delete_team_project_in(&mut tx, organization_id, team_project_id, &event).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn create_invitation(
                &self,
                invitation: Invitation,
                keys: Vec<InvitationKey>,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self
                    .begin_in(Scope::organization(&invitation.organization_id))
                    .await?;
                insert_invitation(&mut tx, &invitation, &keys, &event).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn invitations_of(
                &self,
                organization_id: &str,
                now_ms: i64,
            ) -> Result<Vec<InvitationView>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let invitations = select_invitations(&mut tx, false, organization_id, now_ms).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(invitations)
            }

            async fn invitations_for(
                &self,
                account_id: &str,
                now_ms: i64,
            ) -> Result<Vec<InvitationView>, StoreError> {
                let mut tx = self.read_in(Scope::account(account_id)).await?;
                let invitations = select_invitations(&mut tx, true, account_id, now_ms).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(invitations)
            }

            async fn set_invitation_role(
                &self,
                organization_id: &str,
                invitation_id: &str,
                role: Role,
                now_ms: i64,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                update_invitation_role(
                    &mut tx,
                    organization_id,
                    invitation_id,
                    role,
                    now_ms,
                    &event,
                )
                .await?;
                tx.commit().await.map_err(map_error)
            }

            async fn delete_invitation(
                &self,
                organization_id: &str,
                invitation_id: &str,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                delete_invitation_in(&mut tx, organization_id, invitation_id, &event).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn accept_invitation(
                &self,
                account_id: &str,
                invitation_id: &str,
                now_ms: i64,
                event: AuditEvent,
            ) -> Result<String, StoreError> {
                let mut tx = self.begin_in(Scope::account(account_id)).await?;
                match accept_invitation_in(&mut tx, account_id, invitation_id, now_ms, event).await {
                    Ok(organization_id) => {
                        tx.commit().await.map_err(map_error)?;
                        Ok(organization_id)
                    }
                    // The void invitation's deletion is kept; nothing else was written.
                    Err(StoreError::Conflict(super::INVITER_LOST_RIGHTS)) => {
                        tx.commit().await.map_err(map_error)?;
                        Err(StoreError::Conflict(super::INVITER_LOST_RIGHTS))
                    }
                    Err(other) => Err(other),
                }
            }

            async fn decline_invitation(
                &self,
                account_id: &str,
                invitation_id: &str,
                now_ms: i64,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::account(account_id)).await?;
                decline_invitation_in(&mut tx, account_id, invitation_id, now_ms, event).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn my_project_keys(
                &self,
                organization_id: &str,
                account_id: &str,
            ) -> Result<(Vec<ProjectKey>, Vec<KeyGap>), StoreError> {
                let mut tx = self
                    .read_in(Scope::both(organization_id, account_id))
                    .await?;
                let found = select_my_project_keys(&mut tx, organization_id, account_id).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(found)
            }

            async fn reconcile_keys(
                &self,
                organization_id: &str,
                sharer_account_id: &str,
                keys: Vec<ProjectKey>,
                now_ms: i64,
                event: AuditEvent,
            ) -> Result<u64, StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                let created = insert_reconciled_keys(
                    &mut tx,
                    organization_id,
                    sharer_account_id,
                    &keys,
                    now_ms,
                    &event,
                    false,
                )
                .await?;
                tx.commit().await.map_err(map_error)?;
                Ok(created)
            }

            async fn replace_project_keys(
                &self,
                organization_id: &str,
                sharer_account_id: &str,
                keys: Vec<ProjectKey>,
                now_ms: i64,
                event: AuditEvent,
            ) -> Result<u64, StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                let stored = insert_reconciled_keys(
                    &mut tx,
                    organization_id,
                    sharer_account_id,
                    &keys,
                    now_ms,
                    &event,
                    true,
                )
                .await?;
                tx.commit().await.map_err(map_error)?;
                Ok(stored)
            }

            async fn collaborators(
                &self,
                organization_id: &str,
                filter: Option<&str>,
                with_invitations: bool,
                offset: u64,
                limit: u32,
            ) -> Result<(Vec<super::Collaborator>, u64), StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let page = select_collaborators(
                    &mut tx,
                    organization_id,
                    filter,
                    with_invitations,
                    offset,
                    limit,
                )
                .await?;
                tx.commit().await.map_err(map_error)?;
                Ok(page)
            }

            async fn create_invitations(
                &self,
                organization_id: &str,
                invitations: Vec<(Invitation, Vec<InvitationKey>, AuditEvent)>,
            ) -> Result<(), StoreError> {
                // One scope for the whole transaction: every invitation must be of it.
                if invitations
                    .iter()
                    .any(|(invitation, _, _)| invitation.organization_id != organization_id)
                {
                    return Err(StoreError::Other(
                        "create_invitations was given an invitation of another organization".into(),
                    ));
                }
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                for (invitation, keys, event) in &invitations {
                    insert_invitation(&mut tx, invitation, keys, event).await?;
                }
                tx.commit().await.map_err(map_error)
            }

            async fn renew_invitation(
                &self,
                organization_id: &str,
                invitation_id: &str,
                expires_at: i64,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                update_invitation_expiry(&mut tx, organization_id, invitation_id, expires_at, &event)
                    .await?;
                tx.commit().await.map_err(map_error)
            }

            async fn spaces_of(
                &self,
                query: super::SpaceQuery<'_>,
            ) -> Result<Vec<super::SpaceEntry>, StoreError> {
                use super::{SpaceKey, SpaceOrder};
                // The order's key columns (each ends on the id, so the order is total) and its
                // direction; travelling backwards reads the reverse order.
                let (columns, descending): (&[&str], bool) = match query.order {
                    SpaceOrder::Default => (
                        &["CASE o.kind WHEN 'personal' THEN 0 ELSE 1 END", "o.created_at", "o.id"],
                        false,
                    ),
                    SpaceOrder::CreatedAt { descending } => (&["o.created_at", "o.id"], descending),
                    SpaceOrder::Name { descending } => (&["o.display_name", "o.id"], descending),
                };
                let descending = descending != query.backwards;
                // Counts: members and admins kept on the organization (migration 0009), pending
                // invitations counted where the account may read them (owner, admin).
                let mut sql = sqlx::QueryBuilder::<$db>::new(concat!(
                    "SELECT ",
                    membership_columns!(),
                    ", a.first_name AS owner_first_name, a.last_name AS owner_last_name, \
                     a.email AS owner_email, o.member_count, o.admin_count, \
                     CASE WHEN m.role IN ('owner', 'admin') THEN \
                     (SELECT COUNT(*) FROM invitations i \
                      WHERE i.organization_id = o.id AND i.expires_at > "
                ));
                sql.push_bind(query.now_ms);
                sql.push(
                    ") ELSE 0 END AS invite_count \
                     FROM memberships m JOIN organizations o ON o.id = m.organization_id \
                     JOIN accounts a ON a.id = o.owner_account_id WHERE m.account_id = ",
                );
                sql.push_bind(query.account_id.to_owned());
                if let Some(text) = query.name_contains {
                    // LIKE with its wildcards escaped: the filter is text, not a pattern.
                    let pattern = format!(
                        "%{}%",
                        text.to_lowercase()
                            .replace('\\', "\\\\")
                            .replace('%', "\\%")
                            .replace('_', "\\_")
                    );
                    sql.push(" AND LOWER(o.display_name) LIKE ")
                        .push_bind(pattern)
                        .push(" ESCAPE '\\'");
                }
                if let Some(from) = query.from {
                    sql.push(" AND (").push(columns.join(", "));
                    sql.push(if descending { ") < (" } else { ") > (" });
                    let mut key = sql.separated(", ");
                    match (query.order, from) {
                        (SpaceOrder::Default, SpaceKey::Default { personal, created_at, id }) => {
                            key.push_bind(if *personal { 0_i32 } else { 1_i32 });
                            key.push_bind(*created_at);
                            key.push_bind(id.clone());
                        }
                        (SpaceOrder::CreatedAt { .. }, SpaceKey::CreatedAt { created_at, id }) => {
                            key.push_bind(*created_at);
                            key.push_bind(id.clone());
                        }
                        (SpaceOrder::Name { .. }, SpaceKey::Name { name, id }) => {
                            key.push_bind(name.clone());
                            key.push_bind(id.clone());
                        }
                        _ => {
                            return Err(StoreError::Other(
                                "spaces_of was given a key of another order".into(),
                            ));
                        }
                    }
                    sql.push(")");
                }
                sql.push(" ORDER BY ");
                let direction = if descending { " DESC" } else { " ASC" };
                let mut order = sql.separated(", ");
                for column in columns {
                    order.push(format_args!("{column}{direction}"));
                }
                sql.push(" LIMIT ").push_bind(i64::from(query.limit));
                let mut tx = self.read_in(Scope::account(query.account_id)).await?;
                let rows = sql
                    .build_query_as::<super::SpaceRow>()
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_error)?;
                tx.commit().await.map_err(map_error)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }

        // Sign-up tokens (issue 12): server-wide rows, so no scope; their own small section.
        #[async_trait::async_trait]
        impl super::SignupStore for $store {
            async fn put_signup_token(
                &self,
                token: super::SignupToken,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::default()).await?;
                sqlx::query("DELETE FROM signup_tokens WHERE expires_at <= $1")
                    .bind(now_ms)
                    .execute(&mut *tx)
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
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
                tx.commit().await.map_err(map_error)
            }

            async fn signup_token(
                &self,
                token_hash: &SecretHash,
                now_ms: i64,
            ) -> Result<Option<super::SignupToken>, StoreError> {
                let mut tx = self.read_in(Scope::default()).await?;
                let found: Option<(Option<String>, i64, i64)> = sqlx::query_as(
                    "SELECT email, created_at, expires_at FROM signup_tokens \
                     WHERE token_hash = $1 AND expires_at > $2",
                )
                .bind(&token_hash[..])
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_error)?;
                tx.commit().await.map_err(map_error)?;
                Ok(found.map(|(email, created_at, expires_at)| super::SignupToken {
                    token_hash: *token_hash,
                    email,
                    created_at,
                    expires_at,
                }))
            }

            async fn take_signup_token(
                &self,
                token_hash: &SecretHash,
                now_ms: i64,
            ) -> Result<bool, StoreError> {
                let mut tx = self.begin_in(Scope::default()).await?;
                let deleted = sqlx::query(
                    "DELETE FROM signup_tokens WHERE token_hash = $1 AND expires_at > $2",
                )
                .bind(&token_hash[..])
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(map_error)?
                .rows_affected();
                tx.commit().await.map_err(map_error)?;
                Ok(deleted == 1)
            }
        }

        /// See [`super::VaultStore::vault`].
        async fn select_vault(
            tx: &mut sqlx::Transaction<'static, $db>,
            account_id: &str,
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

        /// See [`super::VaultStore::create_vault`].
        async fn insert_vault(
            tx: &mut sqlx::Transaction<'static, $db>,
            vault: &Vault,
        ) -> Result<(), StoreError> {
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
                    StoreError::Conflict(VAULT_EXISTS)
                } else {
                    StoreError::NotFound
                });
            }
            Ok(())
        }

        /// See [`super::VaultStore::reset_vault`].
        async fn replace_vault(
            tx: &mut sqlx::Transaction<'static, $db>,
            vault: &Vault,
        ) -> Result<(), StoreError> {
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
        }

        /// See [`super::VaultStore::put_vault_verification`].
        async fn insert_vault_verification(
            tx: &mut sqlx::Transaction<'static, $db>,
            verification: &VaultVerification,
            verifier: &str,
        ) -> Result<(), StoreError> {
            let inserted = sqlx::query(
                "INSERT INTO vault_verifications (id, account_id, m1, m2, created_at, expires_at) \
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
                return Err(StoreError::Conflict(VAULT_CHANGED));
            }
            Ok(())
        }

        /// See [`super::VaultStore::take_vault_verification`].
        async fn delete_vault_verification(
            tx: &mut sqlx::Transaction<'static, $db>,
            id: &str,
            account_id: &str,
        ) -> Result<Option<VaultVerification>, StoreError> {
            // One statement: of two concurrent deletes, only one gets the row back.
            let row = sqlx::query_as::<_, VaultVerificationRow>(
                "DELETE FROM vault_verifications WHERE id = $1 AND account_id = $2 \
                 RETURNING id, account_id, m1, m2, created_at, expires_at",
            )
            .bind(id)
            .bind(account_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_error)?;
            Ok(row.map(VaultVerification::from))
        }

        #[async_trait::async_trait]
        impl super::VaultStore for $store {
            async fn vault(&self, account_id: &str) -> Result<Option<Vault>, StoreError> {
                let mut tx = self.read_in(Scope::account(account_id)).await?;
                let found = select_vault(&mut tx, account_id).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(found)
            }

            async fn create_vault(&self, vault: Vault) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::account(&vault.account_id)).await?;
                insert_vault(&mut tx, &vault).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn reset_vault(&self, vault: Vault) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::account(&vault.account_id)).await?;
                replace_vault(&mut tx, &vault).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn put_vault_verification(
                &self,
                verification: VaultVerification,
                verifier: &str,
            ) -> Result<(), StoreError> {
                let mut tx = self
                    .begin_in(Scope::account(&verification.account_id))
                    .await?;
                insert_vault_verification(&mut tx, &verification, verifier).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn take_vault_verification(
                &self,
                id: &str,
                account_id: &str,
                now_ms: i64,
            ) -> Result<Option<VaultVerification>, StoreError> {
                let mut tx = self.begin_in(Scope::account(account_id)).await?;
                let taken = delete_vault_verification(&mut tx, id, account_id).await?;
                tx.commit().await.map_err(map_error)?;
                // An expired verification is deleted too, and reported as missing.
                Ok(taken.filter(|verification| verification.expires_at > now_ms))
            }
        }

        /// Rows of one project whose ids are in `ids`: `select` is `SELECT … FROM table`, to
        /// which the organization, project and id filters are added (a few hundred ids a query).
        async fn select_in<R>(
            tx: &mut sqlx::Transaction<'static, $db>,
            select: &'static str,
            organization_id: &str,
            project_id: &str,
            ids: &[String],
        ) -> Result<Vec<R>, StoreError>
        where
            R: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
        {
            let mut rows = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(500) {
                let mut query = sqlx::QueryBuilder::<$db>::new(select);
                query
                    .push(" WHERE organization_id = ")
                    .push_bind(organization_id.to_owned())
                    .push(" AND project_id = ")
                    .push_bind(project_id.to_owned())
                    .push(" AND id IN (");
                let mut list = query.separated(", ");
                for id in chunk {
                    list.push_bind(id.clone());
                }
                list.push_unseparated(")");
                rows.extend(
                    query
                        .build_query_as::<R>()
                        .fetch_all(&mut **tx)
                        .await
                        .map_err(map_error)?,
                );
            }
            Ok(rows)
        }

        /// `found` put in the order of `ids` (each id once), dropping ids not found.
        fn in_order<T>(ids: &[String], found: Vec<T>, id_of: impl Fn(&T) -> &str) -> Vec<T> {
            let mut by_id: std::collections::HashMap<String, T> =
                found.into_iter().map(|item| (id_of(&item).to_owned(), item)).collect();
            ids.iter().filter_map(|id| by_id.remove(id)).collect()
        }

        /// See [`SyncStore::project_of`].
        async fn select_project_of(
            tx: &mut sqlx::Transaction<'static, $db>,
            account_id: &str,
            project_id: &str,
        ) -> Result<Option<(Project, Role)>, StoreError> {
            let row = sqlx::query_as::<_, ProjectRoleRow>(concat!(
                "SELECT ",
                project_columns!(),
                ", m.role FROM projects p JOIN memberships m \
                 ON m.organization_id = p.organization_id \
                 WHERE p.id = $1 AND m.account_id = $2"
            ))
            .bind(project_id)
            .bind(account_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_error)?;
            row.map(TryInto::try_into).transpose()
        }

        /// See [`SyncStore::projects_in`].
        async fn select_projects_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            team_project_id: Option<&str>,
        ) -> Result<Vec<Project>, StoreError> {
            let rows = sqlx::query_as::<_, ProjectRow>(concat!(
                "SELECT ",
                project_columns!(),
                " FROM projects p WHERE p.organization_id = $1 \
                 AND ($2 IS NULL OR p.team_project_id = $2) ORDER BY p.created_at, p.id"
            ))
            .bind(organization_id)
            .bind(team_project_id)
            .fetch_all(&mut **tx)
            .await
            .map_err(map_error)?;
            Ok(rows.into_iter().map(Project::from).collect())
        }

        /// See [`SyncStore::create_project`].
        async fn insert_project(
            tx: &mut sqlx::Transaction<'static, $db>,
            project: Project,
            keys: &[NewProjectKey],
            event: &AuditEvent,
        ) -> Result<Project, StoreError> {
            let existing = sqlx::query_as::<_, ProjectRow>(concat!(
                "SELECT ",
                project_columns!(),
                " FROM projects p WHERE p.organization_id = $1 AND p.id = $2"
            ))
            .bind(&project.organization_id)
            .bind(&project.id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_error)?;
            if let Some(existing) = existing {
                return Ok(existing.into());
            }
            let members: Vec<(String,)> =
                sqlx::query_as("SELECT account_id FROM memberships WHERE organization_id = $1")
                    .bind(&project.organization_id)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_error)?;
            let members: std::collections::BTreeSet<&str> =
                members.iter().map(|(id,)| id.as_str()).collect();
            let keyed: std::collections::BTreeSet<&str> =
                keys.iter().map(|key| key.account_id.as_str()).collect();
            if keyed.len() != keys.len() || keyed != members {
                return Err(StoreError::Conflict(KEYS_MISMATCH));
            }
            sqlx::query(
                "INSERT INTO projects (organization_id, id, team_project_id, name, \
                 root_document_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&project.organization_id)
            .bind(&project.id)
            .bind(&project.team_project_id)
            .bind(&project.name)
            .bind(&project.root_document_id)
            .bind(project.created_at)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
            for key in keys {
                sqlx::query(
                    "INSERT INTO project_keys (organization_id, project_id, account_id, \
                     enc_symmetric_key, auto_linked, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&project.organization_id)
                .bind(&project.id)
                .bind(&key.account_id)
                .bind(&key.enc_symmetric_key)
                .bind(key.auto_linked)
                .bind(project.created_at)
                .execute(&mut **tx)
                .await
                .map_err(map_error)?;
            }
            insert_audit_event(tx, event).await?;
            Ok(project)
        }

        /// See [`SyncStore::project_key`].
        async fn select_project_key(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            project_id: &str,
            account_id: &str,
        ) -> Result<Option<String>, StoreError> {
            sqlx::query_scalar(
                "SELECT enc_symmetric_key FROM project_keys \
                 WHERE organization_id = $1 AND project_id = $2 AND account_id = $3",
            )
            .bind(organization_id)
            .bind(project_id)
            .bind(account_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_error)
        }

        /// See [`SyncStore::member_public_keys`].
        async fn select_member_public_keys(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
        ) -> Result<Vec<(String, String)>, StoreError> {
            sqlx::query_as(
                "SELECT m.account_id, a.public_key FROM memberships m \
                 JOIN accounts a ON a.id = m.account_id \
                 WHERE m.organization_id = $1 ORDER BY m.account_id",
            )
            .bind(organization_id)
            .fetch_all(&mut **tx)
            .await
            .map_err(map_error)
        }

        /// See [`SyncStore::archive_project`].
        async fn delete_project(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            project_id: &str,
            event: &AuditEvent,
        ) -> Result<(), StoreError> {
            // Keys, branches (with their snapshot lists), snapshots and blobs cascade.
            let deleted =
                sqlx::query("DELETE FROM projects WHERE organization_id = $1 AND id = $2")
                    .bind(organization_id)
                    .bind(project_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            insert_audit_event(tx, event).await
        }

        /// See [`SyncStore::branch_names`].
        async fn select_branch_names(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            project_id: &str,
        ) -> Result<Vec<String>, StoreError> {
            sqlx::query_scalar(
                "SELECT name FROM branches WHERE organization_id = $1 AND project_id = $2 \
                 ORDER BY name",
            )
            .bind(organization_id)
            .bind(project_id)
            .fetch_all(&mut **tx)
            .await
            .map_err(map_error)
        }

        /// See [`SyncStore::branch`].
        async fn select_branch(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            project_id: &str,
            name: &str,
        ) -> Result<Option<Branch>, StoreError> {
            let times: Option<(i64, i64)> = sqlx::query_as(
                "SELECT created_at, modified_at FROM branches \
                 WHERE organization_id = $1 AND project_id = $2 AND name = $3",
            )
            .bind(organization_id)
            .bind(project_id)
            .bind(name)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_error)?;
            let Some((created_at, modified_at)) = times else {
                return Ok(None);
            };
            let snapshots = sqlx::query_scalar(
                "SELECT snapshot_id FROM branch_snapshots \
                 WHERE organization_id = $1 AND project_id = $2 AND branch = $3 \
                 ORDER BY position",
            )
            .bind(organization_id)
            .bind(project_id)
            .bind(name)
            .fetch_all(&mut **tx)
            .await
            .map_err(map_error)?;
            Ok(Some(Branch {
                name: name.to_owned(),
                created_at,
                modified_at,
                snapshots,
            }))
        }

        /// See [`SyncStore::remove_branch`].
        async fn delete_branch(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            project_id: &str,
            name: &str,
        ) -> Result<(), StoreError> {
            let deleted = sqlx::query(
                "DELETE FROM branches WHERE organization_id = $1 AND project_id = $2 AND name = $3",
            )
            .bind(organization_id)
            .bind(project_id)
            .bind(name)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?
            .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }

        /// See [`SyncStore::snapshots`].
        async fn select_snapshots(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            project_id: &str,
            ids: &[String],
        ) -> Result<Vec<Snapshot>, StoreError> {
            let rows: Vec<SnapshotRow> = select_in(
                tx,
                "SELECT id, parent, created, author, name, description, state FROM snapshots",
                organization_id,
                project_id,
                ids,
            )
            .await?;
            let snapshots = rows.into_iter().map(Snapshot::from).collect();
            Ok(in_order(ids, snapshots, |snapshot: &Snapshot| &snapshot.id))
        }

        /// A unique violation while pushing means another push got there first.
        fn raced(error: StoreError) -> StoreError {
            match error {
                StoreError::Conflict(_) => StoreError::Conflict(NOT_FAST_FORWARD),
                other => other,
            }
        }

        /// See [`SyncStore::push_snapshots`].
        async fn push_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            project_id: &str,
            branch: &str,
            snapshots: &[Snapshot],
            blob_ids: &[String],
            now_ms: i64,
        ) -> Result<(), StoreError> {
            let Some(first) = snapshots.first() else {
                return Ok(());
            };
            let branch_exists = sqlx::query(
                "SELECT 1 FROM branches WHERE organization_id = $1 AND project_id = $2 AND name = $3",
            )
            .bind(organization_id)
            .bind(project_id)
            .bind(branch)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_error)?
            .is_some();
            let tip: Option<(String, i64)> = sqlx::query_as(
                "SELECT snapshot_id, position FROM branch_snapshots \
                 WHERE organization_id = $1 AND project_id = $2 AND branch = $3 \
                 ORDER BY position DESC LIMIT 1",
            )
            .bind(organization_id)
            .bind(project_id)
            .bind(branch)
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_error)?;
            let (expected, next_position) = match &tip {
                Some((id, position)) => (id.as_str(), position + 1),
                None => (hypnos_crypto::sync::EMPTY_HASH, 0),
            };
            if first.parent != expected {
                return Err(StoreError::Conflict(NOT_FAST_FORWARD));
            }
            let wanted: std::collections::BTreeSet<&String> = blob_ids.iter().collect();
            let wanted: Vec<String> = wanted.into_iter().cloned().collect();
            let found: Vec<(String,)> =
                select_in(tx, "SELECT id FROM blobs", organization_id, project_id, &wanted).await?;
            if found.len() != wanted.len() {
                return Err(StoreError::Conflict(MISSING_BLOBS));
            }
            if !branch_exists {
                sqlx::query(
                    "INSERT INTO branches (organization_id, project_id, name, created_at, \
                     modified_at) VALUES ($1, $2, $3, $4, $4)",
                )
                .bind(organization_id)
                .bind(project_id)
                .bind(branch)
                .bind(now_ms)
                .execute(&mut **tx)
                .await
                .map_err(map_error)
                .map_err(raced)?;
            }
            for snapshot in snapshots {
                // Content-addressed: the same snapshot may be on another branch already.
                sqlx::query(
                    "INSERT INTO snapshots (organization_id, project_id, id, parent, created, \
                     author, name, description, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(organization_id)
                .bind(project_id)
                .bind(&snapshot.id)
                .bind(&snapshot.parent)
                .bind(&snapshot.created)
                .bind(&snapshot.author)
                .bind(&snapshot.name)
                .bind(&snapshot.description)
                .bind(&snapshot.state)
                .execute(&mut **tx)
                .await
                .map_err(map_error)?;
            }
            // The branch's next positions are unique: of two racing pushes only one can take
            // them; the other fails here and rolls back.
            for (offset, snapshot) in snapshots.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO branch_snapshots (organization_id, project_id, branch, position, \
                     snapshot_id) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(organization_id)
                .bind(project_id)
                .bind(branch)
                .bind(next_position + offset as i64)
                .bind(&snapshot.id)
                .execute(&mut **tx)
                .await
                .map_err(map_error)
                .map_err(raced)?;
            }
            sqlx::query(
                "UPDATE branches SET modified_at = $4 \
                 WHERE organization_id = $1 AND project_id = $2 AND name = $3",
            )
            .bind(organization_id)
            .bind(project_id)
            .bind(branch)
            .bind(now_ms)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
            Ok(())
        }

        /// See [`SyncStore::blobs_missing`].
        async fn select_blobs_missing(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            project_id: &str,
            ids: &[String],
        ) -> Result<Vec<String>, StoreError> {
            let found: Vec<(String,)> =
                select_in(tx, "SELECT id FROM blobs", organization_id, project_id, ids).await?;
            let found: std::collections::HashSet<String> =
                found.into_iter().map(|(id,)| id).collect();
            let mut seen = std::collections::HashSet::new();
            Ok(ids
                .iter()
                .filter(|id| !found.contains(*id) && seen.insert(*id))
                .cloned()
                .collect())
        }

        /// See [`SyncStore::create_blobs`]. One statement per 200 blobs: a row at a time made
        /// an app-sized upload (200 blobs) 200 round trips.
        async fn insert_blobs(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            project_id: &str,
            blobs: &[Blob],
        ) -> Result<u64, StoreError> {
            let mut created = 0;
            for chunk in blobs.chunks(200) {
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO blobs (organization_id, project_id, id, content, size) ",
                );
                query.push_values(chunk, |mut row, blob| {
                    row.push_bind(organization_id.to_owned())
                        .push_bind(project_id.to_owned())
                        .push_bind(blob.id.clone())
                        .push_bind(blob.content.clone())
                        .push_bind(blob.content.len() as i64);
                });
                query.push(" ON CONFLICT DO NOTHING");
                created += query
                    .build()
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
            }
            Ok(created)
        }

        /// See [`SyncStore::blobs`].
        async fn select_blobs(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            project_id: &str,
            ids: &[String],
        ) -> Result<Vec<Blob>, StoreError> {
            let rows: Vec<BlobRow> =
                select_in(tx, "SELECT id, content FROM blobs", organization_id, project_id, ids)
                    .await?;
            let blobs = rows.into_iter().map(Blob::from).collect();
            Ok(in_order(ids, blobs, |blob: &Blob| &blob.id))
        }

        /// The sum of `(id, size)` rows of `select` over `ids` (each id matches one row at most).
        async fn select_size_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            select: &'static str,
            organization_id: &str,
            project_id: &str,
            ids: &[String],
        ) -> Result<u64, StoreError> {
            let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
            let unique: Vec<String> = unique.into_iter().cloned().collect();
            let rows: Vec<(String, i64)> =
                select_in(tx, select, organization_id, project_id, &unique).await?;
            Ok(rows
                .iter()
                .map(|(_, size)| u64::try_from(*size).unwrap_or(0))
                .sum())
        }

        /// See [`SyncStore::member_authors`].
        async fn select_member_authors(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &str,
            account_ids: &[String],
        ) -> Result<Vec<super::SnapshotAuthor>, StoreError> {
            let unique: std::collections::BTreeSet<&String> = account_ids.iter().collect();
            let unique: Vec<&String> = unique.into_iter().collect();
            let mut authors = Vec::with_capacity(unique.len());
            for chunk in unique.chunks(500) {
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT a.id AS account_id, a.first_name, a.last_name, a.email \
                     FROM accounts a JOIN memberships m ON m.account_id = a.id \
                     WHERE m.organization_id = ",
                );
                query.push_bind(organization_id.to_owned()).push(" AND a.id IN (");
                let mut list = query.separated(", ");
                for id in chunk {
                    list.push_bind((*id).clone());
                }
                list.push_unseparated(")");
                authors.extend(
                    query
                        .build_query_as::<super::SnapshotAuthor>()
                        .fetch_all(&mut **tx)
                        .await
                        .map_err(map_error)?,
                );
            }
            Ok(authors)
        }

        #[async_trait::async_trait]
        impl super::SyncStore for $store {
            async fn blobs_within(
                &self,
                organization_id: &str,
                project_id: &str,
                ids: &[String],
                max_bytes: u64,
            ) -> Result<Option<Vec<Blob>>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let size = select_size_in(
                    &mut tx,
                    "SELECT id, size FROM blobs",
                    organization_id,
                    project_id,
                    ids,
                )
                .await?;
                let found = if size > max_bytes {
                    None
                } else {
                    Some(select_blobs(&mut tx, organization_id, project_id, ids).await?)
                };
                tx.commit().await.map_err(map_error)?;
                Ok(found)
            }

            async fn snapshots_size(
                &self,
                organization_id: &str,
                project_id: &str,
                ids: &[String],
            ) -> Result<u64, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                // LENGTH counts characters: the answer charges the bytes again once loaded.
                let size = select_size_in(
                    &mut tx,
                    "SELECT id, CAST(LENGTH(state) AS BIGINT) FROM snapshots",
                    organization_id,
                    project_id,
                    ids,
                )
                .await?;
                tx.commit().await.map_err(map_error)?;
                Ok(size)
            }

            async fn member_authors(
                &self,
                organization_id: &str,
                account_ids: &[String],
            ) -> Result<Vec<super::SnapshotAuthor>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let authors = select_member_authors(&mut tx, organization_id, account_ids).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(authors)
            }

            async fn project_of(
                &self,
                account_id: &str,
                project_id: &str,
            ) -> Result<Option<(Project, Role)>, StoreError> {
                let mut tx = self.read_in(Scope::account(account_id)).await?;
                let found = select_project_of(&mut tx, account_id, project_id).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(found)
            }

            async fn projects_in(
                &self,
                organization_id: &str,
                team_project_id: Option<&str>,
            ) -> Result<Vec<Project>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let found = select_projects_in(&mut tx, organization_id, team_project_id).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(found)
            }

            async fn create_project(
                &self,
                project: Project,
                keys: Vec<NewProjectKey>,
                event: AuditEvent,
            ) -> Result<Project, StoreError> {
                let mut tx = self
                    .begin_in(Scope::organization(&project.organization_id))
                    .await?;
                let created = insert_project(&mut tx, project, &keys, &event).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(created)
            }

            async fn project_key(
                &self,
                organization_id: &str,
                project_id: &str,
                account_id: &str,
            ) -> Result<Option<String>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let key = select_project_key(&mut tx, organization_id, project_id, account_id).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(key)
            }

            async fn member_public_keys(
                &self,
                organization_id: &str,
            ) -> Result<Vec<(String, String)>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let keys = select_member_public_keys(&mut tx, organization_id).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(keys)
            }

            async fn archive_project(
                &self,
                organization_id: &str,
                project_id: &str,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                delete_project(&mut tx, organization_id, project_id, &event).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn branch_names(
                &self,
                organization_id: &str,
                project_id: &str,
            ) -> Result<Vec<String>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let names = select_branch_names(&mut tx, organization_id, project_id).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(names)
            }

            async fn branch(
                &self,
                organization_id: &str,
                project_id: &str,
                name: &str,
            ) -> Result<Option<Branch>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let branch = select_branch(&mut tx, organization_id, project_id, name).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(branch)
            }

            async fn remove_branch(
                &self,
                organization_id: &str,
                project_id: &str,
                name: &str,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                delete_branch(&mut tx, organization_id, project_id, name).await?;
                tx.commit().await.map_err(map_error)
            }

            async fn snapshots(
                &self,
                organization_id: &str,
                project_id: &str,
                ids: &[String],
            ) -> Result<Vec<Snapshot>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let found = select_snapshots(&mut tx, organization_id, project_id, ids).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(found)
            }

            async fn push_snapshots(
                &self,
                organization_id: &str,
                project_id: &str,
                branch: &str,
                snapshots: Vec<Snapshot>,
                blob_ids: Vec<String>,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                // Before the push's own lookups of its many blobs, which would otherwise be
                // planned against statistics from before their upload.
                if blob_ids.len() >= super::shared_sql::BULK_PUSH {
                    self.refresh_statistics().await;
                }
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                push_in(
                    &mut tx,
                    organization_id,
                    project_id,
                    branch,
                    &snapshots,
                    &blob_ids,
                    now_ms,
                )
                .await?;
                tx.commit().await.map_err(map_error).map_err(raced)
            }

            async fn blobs_missing(
                &self,
                organization_id: &str,
                project_id: &str,
                ids: &[String],
            ) -> Result<Vec<String>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let missing = select_blobs_missing(&mut tx, organization_id, project_id, ids).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(missing)
            }

            async fn create_blobs(
                &self,
                organization_id: &str,
                project_id: &str,
                blobs: Vec<Blob>,
            ) -> Result<u64, StoreError> {
                let mut tx = self.begin_in(Scope::organization(organization_id)).await?;
                let created = insert_blobs(&mut tx, organization_id, project_id, &blobs).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(created)
            }

            async fn blobs(
                &self,
                organization_id: &str,
                project_id: &str,
                ids: &[String],
            ) -> Result<Vec<Blob>, StoreError> {
                let mut tx = self.read_in(Scope::organization(organization_id)).await?;
                let found = select_blobs(&mut tx, organization_id, project_id, ids).await?;
                tx.commit().await.map_err(map_error)?;
                Ok(found)
            }

            async fn filed_projects_of(
                &self,
                account_id: &str,
                limit: u32,
            ) -> Result<Vec<Project>, StoreError> {
                // Acting for the account, whose memberships show it the projects of its
                // organizations (as `project_of` reads them).
                let mut tx = self.read_in(Scope::account(account_id)).await?;
                let rows = sqlx::query_as::<_, ProjectRow>(concat!(
                    "SELECT ",
                    project_columns!(),
                    " FROM projects p JOIN memberships m \
                     ON m.organization_id = p.organization_id \
                     WHERE m.account_id = $1 AND p.team_project_id IS NOT NULL \
                     ORDER BY p.organization_id, p.created_at, p.id LIMIT $2"
                ))
                .bind(account_id)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(map_error)?;
                tx.commit().await.map_err(map_error)?;
                Ok(rows.into_iter().map(Project::from).collect())
            }
        }

        // Rate-limit counters (issue 12): written by their own macro, next to their trait.
        super::rate_limits::rate_limit_sql!($db, $store);
    };
}
pub(super) use shared_sql;

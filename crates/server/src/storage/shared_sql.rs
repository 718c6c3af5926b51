//! Queries both backends run exactly as written, defined once.
//!
//! sqlx's executors are typed by database, and a function generic over it drowns in trait bounds,
//! so [`shared_sql!`] writes these functions into each backend module, for that module's database
//! type, where they use that module's `map_error`. Each takes a transaction the backend began in
//! the right [`super::Scope`] (on PostgreSQL that sets what row-level security lets it see; on
//! SQLite writes run on its one writing connection) and commits.
//! A query whose text differs between the databases stays in the backend.

/// Writes the shared query functions for `$db` (`Postgres` or `Sqlite`) into the calling module.
macro_rules! shared_sql {
    ($db:ty) => {
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
            // Its project keys go with the membership (ON DELETE CASCADE); invitations to it
            // (and the keys they hold) go here.
            for statement in [
                "DELETE FROM invitations WHERE organization_id = $1 AND invitee_account_id = $2",
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
    };
}
pub(super) use shared_sql;

//! Queries both backends run exactly as written, defined once.
//!
//! sqlx's executors are typed by database, and a function generic over it drowns in trait bounds,
//! so [`shared_sql!`] writes these functions into each backend module, for that module's database
//! type, where they use that module's `map_error`. Reads take the backend's reading pool; writes
//! take a transaction the backend began (on SQLite, on its one writing connection) and commits.
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
            pool: &sqlx::Pool<$db>,
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
            .fetch_all(pool)
            .await
            .map_err(map_error)?;
            rows.into_iter().map(TryInto::try_into).collect()
        }

        /// See [`Store::membership`].
        async fn select_membership(
            pool: &sqlx::Pool<$db>,
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
            .fetch_optional(pool)
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
            pool: &sqlx::Pool<$db>,
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
            .fetch_all(pool)
            .await
            .map_err(map_error)?;
            Ok(rows.into_iter().map(AuditEvent::from).collect())
        }
    };
}
pub(super) use shared_sql;

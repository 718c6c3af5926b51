//! Presence: [`super::super::PresenceStore`], written once. A member's own entry is read and
//! written in its organization's [`super::super::Scope`]; the refresh sets each organization in
//! turn, and the sweep of expired entries sets only the horizon PostgreSQL's policy lets it
//! through (`set_expired_before`, migration 0010).

/// Accounts named in one refreshing statement.
pub(in crate::storage) const REFRESH_CHUNK: usize = 500;

/// Writes `PresenceStore` for `$store` on `$db` into the backend's `sql` module.
macro_rules! presence_sql {
    ($db:ty, $store:ty, $lock:literal) => {
        use $crate::storage::presence::{MAX_PRESENCE_ROWS, PresenceEntry, PresentMember};
        use $crate::storage::rows::{PresenceRow, PresentMemberRow, presence_columns};

        #[async_trait::async_trait]
        impl $crate::storage::PresenceStore for $store {
            async fn set_presence(
                &self,
                entry: PresenceEntry,
            ) -> Result<Option<PresenceEntry>, StoreError> {
                let scope = Scope::both(&entry.organization_id, &entry.account_id);
                transaction!(self.begin_in(scope), |tx| {
                    let previous = sqlx::query_as::<_, PresenceRow>(concat!(
                        "SELECT ",
                        presence_columns!(),
                        " FROM presence WHERE organization_id = $1 AND account_id = $2",
                        $lock
                    ))
                    .bind(&entry.organization_id)
                    .bind(&entry.account_id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    // Written only for a current member, at a team project of the organization.
                    let stored = sqlx::query(
                        "INSERT INTO presence (organization_id, account_id, team_project_id, \
                         workspace_id, expires_at) \
                         SELECT m.organization_id, m.account_id, t.id, $4, $5 \
                         FROM memberships m JOIN team_projects t \
                         ON t.organization_id = m.organization_id AND t.id = $3 \
                         WHERE m.organization_id = $1 AND m.account_id = $2 \
                         ON CONFLICT (organization_id, account_id) DO UPDATE SET \
                         team_project_id = excluded.team_project_id, \
                         workspace_id = excluded.workspace_id, expires_at = excluded.expires_at",
                    )
                    .bind(&entry.organization_id)
                    .bind(&entry.account_id)
                    .bind(&entry.team_project_id)
                    .bind(&entry.workspace_id)
                    .bind(entry.expires_at)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
                    if stored == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Ok(previous.map(PresenceEntry::from))
                })
            }

            async fn present_members(
                &self,
                organization_id: &OrgId,
                now_ms: i64,
                limit: u32,
            ) -> Result<Vec<PresentMember>, StoreError> {
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
                    let rows = sqlx::query_as::<_, PresentMemberRow>(
                        "SELECT p.organization_id, p.account_id, p.team_project_id, \
                         p.workspace_id, p.expires_at, a.first_name, a.last_name \
                         FROM presence p JOIN memberships m \
                         ON m.organization_id = p.organization_id AND m.account_id = p.account_id \
                         JOIN accounts a ON a.id = p.account_id \
                         WHERE p.organization_id = $1 AND p.expires_at > $2 \
                         ORDER BY p.expires_at DESC, p.account_id LIMIT $3",
                    )
                    .bind(organization_id)
                    .bind(now_ms)
                    .bind(i64::from(limit.min(MAX_PRESENCE_ROWS)))
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    Ok(rows.into_iter().map(PresentMember::from).collect())
                })
            }

            async fn remove_presence(
                &self,
                organization_id: &OrgId,
                account_id: &AccountId,
                expiring_by: i64,
            ) -> Result<Option<PresenceEntry>, StoreError> {
                let scope = Scope::both(organization_id, account_id);
                let removed = transaction!(self.begin_in(scope), |tx| {
                    sqlx::query_as::<_, PresenceRow>(concat!(
                        "DELETE FROM presence WHERE organization_id = $1 AND account_id = $2 \
                         AND expires_at <= $3 RETURNING ",
                        presence_columns!()
                    ))
                    .bind(organization_id)
                    .bind(account_id)
                    .bind(expiring_by)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(map_error)
                })?;
                Ok(removed.map(PresenceEntry::from))
            }

            async fn refresh_presence(
                &self,
                members: &[(OrgId, AccountId)],
                expires_at: i64,
            ) -> Result<u64, StoreError> {
                let mut by_organization =
                    std::collections::BTreeMap::<&OrgId, Vec<&AccountId>>::new();
                for (organization_id, account_id) in members {
                    by_organization
                        .entry(organization_id)
                        .or_default()
                        .push(account_id);
                }
                if by_organization.is_empty() {
                    return Ok(0);
                }
                transaction!(self.begin(), |tx| {
                    let mut refreshed = 0;
                    for (organization_id, accounts) in &by_organization {
                        set_scope(tx, Scope::organization(organization_id)).await?;
                        for chunk in accounts.chunks($crate::storage::sql::presence::REFRESH_CHUNK)
                        {
                            let mut query = sqlx::QueryBuilder::<$db>::new(
                                "UPDATE presence SET expires_at = ",
                            );
                            query.push_bind(expires_at);
                            query.push(" WHERE organization_id = ");
                            query.push_bind(organization_id.as_str());
                            query.push(" AND expires_at < ");
                            query.push_bind(expires_at);
                            query.push(" AND account_id IN (");
                            let mut list = query.separated(", ");
                            for account_id in chunk {
                                list.push_bind(account_id.as_str());
                            }
                            query.push(")");
                            refreshed += query
                                .build()
                                .execute(&mut **tx)
                                .await
                                .map_err(map_error)?
                                .rows_affected();
                        }
                    }
                    Ok(refreshed)
                })
            }

            async fn take_expired_presence(
                &self,
                now_ms: i64,
                limit: u32,
            ) -> Result<Vec<PresenceEntry>, StoreError> {
                let taken = transaction!(self.begin(), |tx| {
                    set_expired_before(tx, now_ms).await?;
                    // The outer `expires_at` test is checked again on a row refreshed while
                    // this waited for it (PostgreSQL), so a refreshed entry stays.
                    sqlx::query_as::<_, PresenceRow>(concat!(
                        "DELETE FROM presence WHERE expires_at <= $1 \
                         AND (organization_id, account_id) IN \
                         (SELECT organization_id, account_id FROM presence \
                          WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2) RETURNING ",
                        presence_columns!()
                    ))
                    .bind(now_ms)
                    .bind(i64::from(limit.min(MAX_PRESENCE_ROWS)))
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_error)
                })?;
                // RETURNING follows no order: the oldest first, as documented.
                let mut taken: Vec<PresenceEntry> =
                    taken.into_iter().map(PresenceEntry::from).collect();
                taken.sort_by_key(|entry| entry.expires_at);
                Ok(taken)
            }
        }
    };
}
pub(in crate::storage) use presence_sql;

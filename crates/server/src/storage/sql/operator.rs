//! [`super::super::OperatorStore`], written once: the operator's view of every account and
//! organization.

/// Writes `OperatorStore` for `$store` on `$db` into the backend's `sql` module.
macro_rules! operator_sql {
    ($db:ty, $store:ty) => {
        #[async_trait::async_trait]
        impl $crate::storage::OperatorStore for $store {
            async fn accounts_overview(
                &self,
            ) -> Result<Vec<$crate::storage::AccountOverview>, StoreError> {
                // accounts, sessions and organizations are not tenant tables: no scope needed.
                let rows: Vec<(String, String, String, String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT a.id, a.email, a.first_name, a.last_name, a.created_at, \
                     (SELECT COUNT(*) FROM sessions s WHERE s.account_id = a.id), \
                     (SELECT COUNT(*) FROM organizations o \
                      WHERE o.owner_account_id = a.id AND o.kind = 'team') \
                     FROM accounts a ORDER BY a.created_at, a.id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(map_error)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, email, first, last, created_at, sessions, teams_owned)| {
                        $crate::storage::AccountOverview {
                            id,
                            email,
                            name: format!("{first} {last}").trim().to_owned(),
                            created_at,
                            sessions,
                            teams_owned,
                        }
                    })
                    .collect())
            }

            async fn organizations_overview(
                &self,
            ) -> Result<Vec<$crate::storage::OrganizationOverview>, StoreError> {
                let organizations: Vec<(String, String, String, String, i64, i64)> =
                    sqlx::query_as(
                        "SELECT o.id, o.display_name, o.kind, a.email, o.created_at, \
                         o.member_count \
                         FROM organizations o JOIN accounts a ON a.id = o.owner_account_id \
                         ORDER BY o.created_at, o.id",
                    )
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_error)?;
                let mut overview = Vec::with_capacity(organizations.len());
                for (id, name, kind, owner, created_at, members) in organizations {
                    // The tenant tables, read in the organization's own scope.
                    let (projects, snapshots, blobs, blob_bytes): (i64, i64, i64, i64) =
                        transaction!(self.read_in(Scope::organization(&id)), |tx| {
                            sqlx::query_as(
                                "SELECT \
                                 (SELECT COUNT(*) FROM projects WHERE organization_id = $1), \
                                 (SELECT COUNT(*) FROM snapshots WHERE organization_id = $1), \
                                 (SELECT COUNT(*) FROM blobs WHERE organization_id = $1), \
                                 (SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs \
                                  WHERE organization_id = $1)",
                            )
                            .bind(&id)
                            .fetch_one(&mut **tx)
                            .await
                            .map_err(map_error)
                        })?;
                    overview.push($crate::storage::OrganizationOverview {
                        id,
                        name,
                        kind,
                        owner,
                        created_at,
                        // The personal organization counts its owner, as a team does.
                        members: members.max(1),
                        projects,
                        snapshots,
                        blobs,
                        blob_bytes,
                    });
                }
                Ok(overview)
            }
        }
    };
}
pub(in crate::storage) use operator_sql;

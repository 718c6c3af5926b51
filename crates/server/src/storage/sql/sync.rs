//! Synced projects, their keys, branches, snapshots and blobs: [`super::super::SyncStore`],
//! written once. Every method but `project_of`, `filed_projects_of` and `projects_of_account`
//! (which act for an account) acts in the organization it is given.

use super::super::{Conflict, StoreError};

/// A push naming at least this many blobs (a project's first push, typically) first refreshes
/// the database's planner statistics: on PostgreSQL, right after a bulk upload they still
/// describe the tables as nearly empty, and until autovacuum's next analyze (up to a minute
/// later) the planner looked blobs up by filtering the project's whole key range — 140 ms per
/// 500 ids in the push's own check, 6 ms per 50 in the pull that follows — instead of using the
/// primary key.
pub(in crate::storage) const BULK_PUSH: usize = 1_000;

/// `found` put in the order of `ids` (each id once), dropping ids not found.
pub(in crate::storage) fn in_order<T>(
    ids: &[String],
    found: Vec<T>,
    id_of: impl Fn(&T) -> &str,
) -> Vec<T> {
    let mut by_id: std::collections::HashMap<String, T> = found
        .into_iter()
        .map(|item| (id_of(&item).to_owned(), item))
        .collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

/// A unique violation while pushing means another push got there first.
pub(in crate::storage) fn raced(error: StoreError) -> StoreError {
    match error {
        StoreError::Conflict(_) => StoreError::Conflict(Conflict::NotFastForward),
        other => other,
    }
}

/// Writes `SyncStore` for `$store` on `$db` into the backend's `sql` module.
macro_rules! sync_sql {
    ($db:ty, $store:ty) => {
        use $crate::storage::sql::sync::{BULK_PUSH, in_order, raced};

        /// Rows of one project whose ids are in `ids`: `select` is `SELECT … FROM table`, to
        /// which the organization, project and id filters are added (a few hundred ids a query).
        async fn select_in<R>(
            tx: &mut sqlx::Transaction<'static, $db>,
            select: &'static str,
            organization_id: &OrgId,
            project_id: &ProjectId,
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

        /// The sum of `(id, size)` rows of `select` over `ids` (each id matches one row at most).
        async fn select_size_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            select: &'static str,
            organization_id: &OrgId,
            project_id: &ProjectId,
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

        /// See `SyncStore::blobs`.
        async fn select_blobs(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &OrgId,
            project_id: &ProjectId,
            ids: &[String],
        ) -> Result<Vec<Blob>, StoreError> {
            let rows: Vec<BlobRow> =
                select_in(tx, "SELECT id, content FROM blobs", organization_id, project_id, ids)
                    .await?;
            let blobs = rows.into_iter().map(Blob::from).collect();
            Ok(in_order(ids, blobs, |blob: &Blob| &blob.id))
        }

        $crate::storage::sql::history::history_sql!($db, $store, {
            async fn project_of(
                &self,
                account_id: &AccountId,
                project_id: &ProjectId,
            ) -> Result<Option<(Project, Role)>, StoreError> {
                transaction!(self.read_in(Scope::account(account_id)), |tx| {
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
                })
            }

            async fn projects_in(
                &self,
                organization_id: &OrgId,
                team_project_id: Option<&str>,
            ) -> Result<Vec<Project>, StoreError> {
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
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
                })
            }

            async fn projects_of_account(
                &self,
                account_id: &AccountId,
                team_project_id: Option<&str>,
            ) -> Result<Vec<(Project, String)>, StoreError> {
                // Acting for the account, like `memberships_of` and `filed_projects_of`: the
                // organizations in `memberships_of`'s order, each one's projects in
                // `projects_in`'s.
                transaction!(self.read_in(Scope::account(account_id)), |tx| {
                    let rows = sqlx::query_as::<_, $crate::storage::rows::ProjectOrganizationRow>(
                        concat!(
                            "SELECT ",
                            project_columns!(),
                            ", o.display_name AS organization_display_name \
                             FROM memberships m JOIN organizations o ON o.id = m.organization_id \
                             JOIN projects p ON p.organization_id = o.id \
                             WHERE m.account_id = $1 \
                             AND ($2 IS NULL OR p.team_project_id = $2) \
                             ORDER BY CASE o.kind WHEN 'personal' THEN 0 ELSE 1 END, \
                             o.created_at, o.id, p.created_at, p.id"
                        ),
                    )
                    .bind(account_id)
                    .bind(team_project_id)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }

            async fn create_project(
                &self,
                project: Project,
                keys: Vec<NewProjectKey>,
                event: AuditEvent,
            ) -> Result<Project, StoreError> {
                transaction!(self.begin_in(Scope::organization(&project.organization_id)), |tx| {
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
                    let members: Vec<(String,)> = sqlx::query_as(
                        "SELECT account_id FROM memberships WHERE organization_id = $1",
                    )
                    .bind(&project.organization_id)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    let members: std::collections::BTreeSet<&str> =
                        members.iter().map(|(id,)| id.as_str()).collect();
                    let keyed: std::collections::BTreeSet<&str> =
                        keys.iter().map(|key| key.account_id.as_str()).collect();
                    if keyed.len() != keys.len() || keyed != members {
                        return Err(StoreError::Conflict(Conflict::KeysMismatch));
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
                    for key in &keys {
                        sqlx::query(
                            "INSERT INTO project_keys (organization_id, project_id, account_id, \
                             enc_symmetric_key, auto_linked, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
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
                    insert_audit_event(tx, &event).await?;
                    Ok(project)
                })
            }

            async fn project_key(
                &self,
                organization_id: &OrgId,
                project_id: &ProjectId,
                account_id: &AccountId,
            ) -> Result<Option<String>, StoreError> {
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
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
                })
            }

            async fn member_public_keys(
                &self,
                organization_id: &OrgId,
            ) -> Result<Vec<(String, String)>, StoreError> {
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
                    sqlx::query_as(
                        "SELECT m.account_id, a.public_key FROM memberships m \
                         JOIN accounts a ON a.id = m.account_id \
                         WHERE m.organization_id = $1 ORDER BY m.account_id",
                    )
                    .bind(organization_id)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_error)
                })
            }

            async fn archive_project(
                &self,
                organization_id: &OrgId,
                project_id: &ProjectId,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    // Keys, branches (with their snapshot lists), snapshots and blobs cascade.
                    let statement =
                        sqlx::query("DELETE FROM projects WHERE organization_id = $1 AND id = $2")
                            .bind(organization_id)
                            .bind(project_id);
                    change_one(tx, statement, &event).await
                })
            }

            async fn filed_projects_of(
                &self,
                account_id: &AccountId,
                limit: u32,
            ) -> Result<Vec<Project>, StoreError> {
                // Acting for the account, whose memberships show it the projects of its
                // organizations (as `project_of` reads them).
                transaction!(self.read_in(Scope::account(account_id)), |tx| {
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
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    Ok(rows.into_iter().map(Project::from).collect())
                })
            }
        });
    };
}
pub(in crate::storage) use sync_sql;

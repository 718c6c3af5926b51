//! Branches, snapshots and blobs: the second half of [`super::super::SyncStore`], written once,
//! and the `impl` block that holds both halves ([`super::sync`] hands its project methods in as
//! tokens). Every method acts in the organization it is given.

/// Writes `SyncStore` for `$store` on `$db` into the backend's `sql` module: the
/// `$project_methods` of [`super::sync`], then these.
macro_rules! history_sql {
    ($db:ty, $store:ty, { $($project_methods:tt)* }) => {
        /// See `SyncStore::push_snapshots`.
        async fn push_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &OrgId,
            project_id: &ProjectId,
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
                return Err(StoreError::Conflict(Conflict::NotFastForward));
            }
            let wanted: std::collections::BTreeSet<&String> = blob_ids.iter().collect();
            let wanted: Vec<String> = wanted.into_iter().cloned().collect();
            let found: Vec<(String,)> =
                select_in(tx, "SELECT id FROM blobs", organization_id, project_id, &wanted).await?;
            if found.len() != wanted.len() {
                return Err(StoreError::Conflict(Conflict::MissingBlobs));
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

        #[async_trait::async_trait]
        impl $crate::storage::SyncStore for $store {
            $($project_methods)*

            async fn branch_names(
                &self,
                organization_id: &OrgId,
                project_id: &ProjectId,
            ) -> Result<Vec<String>, StoreError> {
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
                    sqlx::query_scalar(
                        "SELECT name FROM branches WHERE organization_id = $1 AND project_id = $2 \
                         ORDER BY name",
                    )
                    .bind(organization_id)
                    .bind(project_id)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_error)
                })
            }

            async fn branch(
                &self,
                organization_id: &OrgId,
                project_id: &ProjectId,
                name: &str,
            ) -> Result<Option<Branch>, StoreError> {
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
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
                    match times {
                        None => Ok(None),
                        Some((created_at, modified_at)) => {
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
                    }
                })
            }

            async fn remove_branch(
                &self,
                organization_id: &OrgId,
                project_id: &ProjectId,
                name: &str,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    let deleted = sqlx::query(
                        "DELETE FROM branches \
                         WHERE organization_id = $1 AND project_id = $2 AND name = $3",
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
                })
            }

            async fn snapshots(
                &self,
                organization_id: &OrgId,
                project_id: &ProjectId,
                ids: &[String],
            ) -> Result<Vec<Snapshot>, StoreError> {
                let rows: Vec<SnapshotRow> =
                    transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
                        select_in(
                            tx,
                            "SELECT id, parent, created, author, name, description, state \
                             FROM snapshots",
                            organization_id,
                            project_id,
                            ids,
                        )
                        .await
                    })?;
                let snapshots = rows.into_iter().map(Snapshot::from).collect();
                Ok(in_order(ids, snapshots, |snapshot: &Snapshot| &snapshot.id))
            }

            async fn push_snapshots(
                &self,
                organization_id: &OrgId,
                project_id: &ProjectId,
                branch: &str,
                snapshots: Vec<Snapshot>,
                blob_ids: Vec<String>,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                // Before the push's own lookups of its many blobs, which would otherwise be
                // planned against statistics from before their upload.
                if blob_ids.len() >= BULK_PUSH {
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
                organization_id: &OrgId,
                project_id: &ProjectId,
                ids: &[String],
            ) -> Result<Vec<String>, StoreError> {
                let found: Vec<(String,)> =
                    transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
                        select_in(tx, "SELECT id FROM blobs", organization_id, project_id, ids)
                            .await
                    })?;
                let found: std::collections::HashSet<String> =
                    found.into_iter().map(|(id,)| id).collect();
                let mut seen = std::collections::HashSet::new();
                Ok(ids
                    .iter()
                    .filter(|id| !found.contains(*id) && seen.insert(*id))
                    .cloned()
                    .collect())
            }

            // One statement per 200 blobs: a row at a time made an app-sized upload (200
            // blobs) 200 round trips.
            async fn create_blobs(
                &self,
                organization_id: &OrgId,
                project_id: &ProjectId,
                blobs: Vec<Blob>,
            ) -> Result<u64, StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
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
                })
            }

            async fn blobs(
                &self,
                organization_id: &OrgId,
                project_id: &ProjectId,
                ids: &[String],
            ) -> Result<Vec<Blob>, StoreError> {
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
                    select_blobs(tx, organization_id, project_id, ids).await
                })
            }

            async fn blobs_within(
                &self,
                organization_id: &OrgId,
                project_id: &ProjectId,
                ids: &[String],
                max_bytes: u64,
            ) -> Result<Option<Vec<Blob>>, StoreError> {
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
                    let size = select_size_in(
                        tx,
                        "SELECT id, size FROM blobs",
                        organization_id,
                        project_id,
                        ids,
                    )
                    .await?;
                    if size > max_bytes {
                        Ok(None)
                    } else {
                        Ok(Some(select_blobs(tx, organization_id, project_id, ids).await?))
                    }
                })
            }

            async fn snapshots_size(
                &self,
                organization_id: &OrgId,
                project_id: &ProjectId,
                ids: &[String],
            ) -> Result<u64, StoreError> {
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
                    // LENGTH counts characters: the answer charges the bytes again once loaded.
                    select_size_in(
                        tx,
                        "SELECT id, CAST(LENGTH(state) AS BIGINT) FROM snapshots",
                        organization_id,
                        project_id,
                        ids,
                    )
                    .await
                })
            }

            async fn member_authors(
                &self,
                organization_id: &OrgId,
                account_ids: &[String],
            ) -> Result<Vec<$crate::storage::SnapshotAuthor>, StoreError> {
                let unique: std::collections::BTreeSet<&String> = account_ids.iter().collect();
                let unique: Vec<&String> = unique.into_iter().collect();
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
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
                                .build_query_as::<$crate::storage::SnapshotAuthor>()
                                .fetch_all(&mut **tx)
                                .await
                                .map_err(map_error)?,
                        );
                    }
                    Ok(authors)
                })
            }
        }
    };
}
pub(in crate::storage) use history_sql;

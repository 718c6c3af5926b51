//! Organizations, members (and collaborators), team projects, the audit log and the newest
//! app's spaces: the first half of [`super::super::TenantStore`], written once. Every method's
//! transaction begins in the [`super::super::Scope`] of the organization (or account) it names,
//! so on PostgreSQL row-level security confines it.
//!
//! A trait's methods must stand in one `impl` block, so these are handed as tokens to
//! [`super::invitations`]'s macro, which writes the block with its own methods (invitations and
//! project keys) after them.

/// Writes these methods, and with [`super::invitations`] the whole `TenantStore`, for `$store`
/// on `$db` into the backend's `sql` module.
macro_rules! tenants_sql {
    ($db:ty, $store:ty) => {
        /// The role of a member, read inside a transaction (`NotFound` for a non-member).
        async fn member_role_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            organization_id: &OrgId,
            account_id: &AccountId,
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
            Role::parse(&role).ok_or_else(|| {
                StoreError::Other(format!("a membership has the unknown role {role:?}"))
            })
        }

        $crate::storage::sql::invitations::invitations_sql!($db, $store, {
            async fn memberships_of(&self, account_id: &AccountId) -> Result<Vec<Membership>, StoreError> {
                transaction!(self.read_in(Scope::account(account_id)), |tx| {
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
                })
            }

            async fn membership(
                &self,
                organization_id: &OrgId,
                account_id: &AccountId,
            ) -> Result<Option<Membership>, StoreError> {
                transaction!(self.read_in(Scope::both(organization_id, account_id)), |tx| {
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
                })
            }

            async fn create_team(
                &self,
                new: NewTeam,
                event: AuditEvent,
            ) -> Result<Organization, StoreError> {
                let scope = Scope::both(&new.id, &new.owner_account_id);
                transaction!(self.begin_in(scope), |tx| {
                    sqlx::query(
                        "INSERT INTO organizations \
                         (id, name, display_name, kind, owner_account_id, storage_rule, created_at) \
                         VALUES ($1, $2, $2, 'team', $3, $4, $5)",
                    )
                    .bind(&new.id)
                    .bind(&new.name)
                    .bind(&new.owner_account_id)
                    .bind($crate::storage::DEFAULT_STORAGE_RULE)
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
                    insert_audit_event(tx, &event).await?;
                    Ok(Organization {
                        id: new.id,
                        display_name: new.name.clone(),
                        name: new.name,
                        kind: OrganizationKind::Team,
                        owner_account_id: new.owner_account_id,
                        storage_rule: $crate::storage::DEFAULT_STORAGE_RULE.into(),
                        created_at: new.now_ms,
                    })
                })
            }

            async fn delete_team(&self, organization_id: &OrgId) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    let kind: Option<String> =
                        sqlx::query_scalar("SELECT kind FROM organizations WHERE id = $1")
                            .bind(organization_id)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(map_error)?;
                    match kind.as_deref().and_then(OrganizationKind::parse) {
                        None => return Err(StoreError::NotFound),
                        Some(OrganizationKind::Personal) => {
                            return Err(StoreError::Conflict(Conflict::PersonalOrganization));
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
                })
            }

            async fn set_storage_rule(
                &self,
                organization_id: &OrgId,
                rule: &str,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    let statement =
                        sqlx::query("UPDATE organizations SET storage_rule = $2 WHERE id = $1")
                            .bind(organization_id)
                            .bind(rule);
                    change_one(tx, statement, &event).await
                })
            }

            async fn audit_events(
                &self,
                organization_id: &OrgId,
                before_ms: i64,
                limit: u32,
            ) -> Result<Vec<AuditEvent>, StoreError> {
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
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
                })
            }

            async fn members(
                &self,
                organization_id: &OrgId,
                email_contains: Option<&str>,
                offset: u64,
                limit: u32,
            ) -> Result<(Vec<Member>, u64), StoreError> {
                let pattern = contains_pattern(email_contains.unwrap_or_default());
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
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
                })
            }

            // Members and invitations in one `UNION ALL`, so that one page can hold both and
            // the count is one query.
            async fn collaborators(
                &self,
                organization_id: &OrgId,
                filter: Option<&str>,
                with_invitations: bool,
                offset: u64,
                limit: u32,
            ) -> Result<(Vec<$crate::storage::Collaborator>, u64), StoreError> {
                use $crate::storage::{Collaborator, CollaboratorKind};
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
                         SELECT 1, 'invite', i.id, a.email, '', '', i.role, i.created_at, \
                         i.expires_at \
                         FROM invitations i JOIN accounts a ON a.id = i.invitee_account_id \
                         WHERE i.organization_id = $1 AND $3 AND a.email LIKE $2 ESCAPE '\\'"
                    };
                }
                type Row = (String, String, String, String, String, String, i64, Option<i64>);
                let pattern = contains_pattern(filter.unwrap_or_default());
                let (rows, total) = transaction!(
                    self.read_in(Scope::organization(organization_id)),
                    |tx| {
                        let rows = sqlx::query_as::<_, Row>(concat!(
                            "SELECT kind, id, email, first_name, last_name, role, created_at, \
                             expires_at FROM (",
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
                        Ok((rows, total))
                    }
                )?;
                let collaborators = rows
                    .into_iter()
                    .map(|(kind, id, email, first_name, last_name, role, created_at, expires_at)| {
                        let role = Role::parse(&role).ok_or_else(|| {
                            StoreError::Other(format!(
                                "a collaborator has the unknown role {role:?}"
                            ))
                        })?;
                        let kind = if kind == "member" {
                            CollaboratorKind::Member
                        } else {
                            CollaboratorKind::Invitation
                        };
                        Ok(Collaborator {
                            kind,
                            id,
                            email,
                            first_name,
                            last_name,
                            role,
                            created_at,
                            expires_at,
                        })
                    })
                    .collect::<Result<_, StoreError>>()?;
                Ok((collaborators, u64::try_from(total).unwrap_or_default()))
            }

            async fn set_member_role(
                &self,
                organization_id: &OrgId,
                account_id: &AccountId,
                role: Role,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    let current = member_role_in(tx, organization_id, account_id).await?;
                    if current == Role::Owner || role == Role::Owner {
                        return Err(StoreError::Conflict(Conflict::OwnerStays));
                    }
                    sqlx::query(
                        "UPDATE memberships SET role = $3 \
                         WHERE organization_id = $1 AND account_id = $2",
                    )
                    .bind(organization_id)
                    .bind(account_id)
                    .bind(role.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    // An invitation must not outlive its inviter's right to make it: those the
                    // new role may not make go now (issue 12).
                    for offered in [Role::Owner, Role::Admin, Role::Member] {
                        if $crate::storage::may_invite(role, offered) {
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
                    insert_audit_event(tx, &event).await
                })
            }

            async fn remove_member(
                &self,
                organization_id: &OrgId,
                account_id: &AccountId,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    if member_role_in(tx, organization_id, account_id).await? == Role::Owner {
                        return Err(StoreError::Conflict(Conflict::OwnerStays));
                    }
                    // Its project keys go with the membership (ON DELETE CASCADE); invitations
                    // to it, and those it made, which must not outlive its right to make them
                    // (issue 12), go here with the keys they hold. The project keys it shared to
                    // others stay: they are the organization's keys held by its members.
                    for statement in [
                        "DELETE FROM invitations \
                         WHERE organization_id = $1 AND invitee_account_id = $2",
                        "DELETE FROM invitations \
                         WHERE organization_id = $1 AND inviter_account_id = $2",
                        "DELETE FROM memberships WHERE organization_id = $1 AND account_id = $2",
                    ] {
                        sqlx::query(statement)
                            .bind(organization_id)
                            .bind(account_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(map_error)?;
                    }
                    insert_audit_event(tx, &event).await
                })
            }

            async fn team_projects(
                &self,
                organization_id: &OrgId,
            ) -> Result<Vec<TeamProject>, StoreError> {
                transaction!(self.read_in(Scope::organization(organization_id)), |tx| {
                    let rows = sqlx::query_as::<_, TeamProjectRow>(
                        "SELECT id, organization_id, name, created_at FROM team_projects \
                         WHERE organization_id = $1 ORDER BY created_at, id",
                    )
                    .bind(organization_id)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    Ok(rows.into_iter().map(TeamProject::from).collect())
                })
            }

            async fn create_team_project(
                &self,
                project: TeamProject,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::organization(&project.organization_id)), |tx| {
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
                    insert_audit_event(tx, &event).await
                })
            }

            async fn rename_team_project(
                &self,
                organization_id: &OrgId,
                team_project_id: &str,
                name: &str,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    let statement = sqlx::query(
                        "UPDATE team_projects SET name = $3 WHERE organization_id = $1 AND id = $2",
                    )
                    .bind(organization_id)
                    .bind(team_project_id)
                    .bind(name);
                    change_one(tx, statement, &event).await
                })
            }

            async fn delete_team_project(
                &self,
                organization_id: &OrgId,
                team_project_id: &str,
                event: AuditEvent,
            ) -> Result<(), StoreError> {
                transaction!(self.begin_in(Scope::organization(organization_id)), |tx| {
                    // The synced projects in it first (their keys and sync data cascade), then it.
                    sqlx::query(
                        "DELETE FROM projects WHERE organization_id = $1 AND team_project_id = $2",
                    )
                    .bind(organization_id)
                    .bind(team_project_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?;
                    let statement = sqlx::query(
                        "DELETE FROM team_projects WHERE organization_id = $1 AND id = $2",
                    )
                    .bind(organization_id)
                    .bind(team_project_id);
                    change_one(tx, statement, &event).await
                })
            }

            async fn spaces_of(
                &self,
                query: $crate::storage::SpaceQuery<'_>,
            ) -> Result<Vec<$crate::storage::SpaceEntry>, StoreError> {
                use $crate::storage::{SpaceKey, SpaceOrder};
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
                    sql.push(" AND LOWER(o.display_name) LIKE ")
                        .push_bind(contains_pattern(text))
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
                transaction!(self.read_in(Scope::account(query.account_id)), |tx| {
                    let rows = sql
                        .build_query_as::<$crate::storage::spaces::SpaceRow>()
                        .fetch_all(&mut **tx)
                        .await
                        .map_err(map_error)?;
                    rows.into_iter().map(TryInto::try_into).collect()
                })
            }
        });
    };
}
pub(in crate::storage) use tenants_sql;

//! The store's queries, each written once for both databases.
//!
//! sqlx's executors are typed by database, and a function generic over it drowns in trait bounds,
//! so [`shared_sql!`] writes the queries into each backend module, for that module's database
//! type, as a child module `sql` that implements every store trait for the backend's store.
//! They use what the backend provides: `map_error` (its errors), `set_scope` (row-level
//! security on PostgreSQL), `set_expired_before` (the sweep's horizon, for the same), and on the store `begin` (a write transaction without a scope),
//! `begin_in`/`read_in` (a write or read transaction in a [`super::Scope`]), `pool` (where
//! single statements read) and `write_pool` (where they write: SQLite's one writing connection).
//! Where the SQL itself differs, the backend hands the fragment in ([`shared_sql!`]'s
//! arguments); nothing else is written per backend.
//!
//! The areas: [`accounts`] (accounts, sessions, log-in attempts, reset tokens, security events,
//! server secrets, sign-up tokens), [`tenants`] and [`invitations`] (organizations, members,
//! team projects, audit log, spaces; invitations, project keys, collaborators), [`vault`],
//! [`sync`] and [`history`] (projects; branches, snapshots, blobs), and [`presence`].

pub(super) mod accounts;
pub(super) mod history;
pub(super) mod invitations;
pub(super) mod operator;
pub(super) mod presence;
pub(super) mod sync;
pub(super) mod tenants;
pub(super) mod vault;

/// Runs `$body` (a `Result<T, StoreError>` expression that uses `$tx`, the transaction as a
/// `&mut Transaction`) in the transaction `$begin` opens, commits, and gives `Ok(T)`: the shape
/// of nearly every store method. An error in `$body` (or a `?` in it) leaves without committing,
/// so the transaction rolls back.
macro_rules! transaction {
    ($begin:expr, |$tx:ident| $body:expr) => {{
        let mut transaction = $begin.await?;
        let $tx = &mut transaction;
        let value: Result<_, StoreError> = $body;
        let value = value?;
        transaction.commit().await.map_err(map_error)?;
        Ok::<_, StoreError>(value)
    }};
}
pub(super) use transaction;

/// A `LIKE` pattern (used with `ESCAPE '\'`) matching text that contains `text` in lower case:
/// its wildcards are escaped, so the filter is text, not a pattern.
pub(super) fn contains_pattern(text: &str) -> String {
    format!(
        "%{}%",
        text.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// Writes the module `sql` into the calling backend module, for database `$db` (`sqlx::Postgres`
/// or `sqlx::Sqlite`) and store `$store`: [`super::Store`], [`super::SignupStore`],
/// [`super::TenantStore`], [`super::VaultStore`], [`super::SyncStore`],
/// [`super::PresenceStore`] and [`super::RateLimitStore`]. `smaller` is the database's smaller-of-two function (`LEAST`;
/// SQLite's two-argument `MIN`); `lock` ends a `SELECT` that locks the rows it reads for the
/// rest of the transaction (PostgreSQL's ` FOR UPDATE`; empty on SQLite, whose write
/// transactions begin `IMMEDIATE` and so exclude every other writer already).
macro_rules! shared_sql {
    ($db:ty, $store:ty, smaller = $smaller:literal, lock = $lock:literal) => {
        /// The shared queries of `storage/sql`, written for this backend.
        mod sql {
            use super::*;
            use $crate::storage::model::{
                Account, AuditEvent, Blob, Branch, ChangeCredentials, Invitation, InvitationKey,
                InvitationView, KeyGap, LoginAttempt, Member, Membership, NewAccount,
                NewProjectKey, NewSession, NewTeam, Organization, OrganizationKind, Project,
                ProjectKey, ResetAccount, Role, SecretHash, Session, Snapshot, TeamProject, Vault,
                VaultVerification,
            };
            use $crate::storage::rows::{
                AccountRow, AuditEventRow, BlobRow, InvitationViewRow, KeyGapRow, LoginAttemptRow,
                MemberRow, MembershipRow, ProjectKeyRow, ProjectRoleRow, ProjectRow,
                SessionAccountRow, SessionRow, SnapshotRow, TeamProjectRow, VaultRow,
                VaultVerificationRow, account_columns, audit_event_columns,
                invitation_view_columns, membership_columns, project_columns,
                session_account_columns, session_columns,
            };
            use $crate::storage::sql::{contains_pattern, transaction};
            use $crate::storage::{AccountId, Conflict, OrgId, ProjectId, Scope, StoreError};

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

            /// Runs `statement`, which changes the one row it names: `NotFound` when there is
            /// no such row.
            async fn update_one(
                tx: &mut sqlx::Transaction<'static, $db>,
                statement: sqlx::query::Query<'_, $db, <$db as sqlx::Database>::Arguments>,
            ) -> Result<(), StoreError> {
                let changed = statement
                    .execute(&mut **tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
                if changed == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            /// [`update_one`], then records `event` (no event when there is no such row).
            async fn change_one(
                tx: &mut sqlx::Transaction<'static, $db>,
                statement: sqlx::query::Query<'_, $db, <$db as sqlx::Database>::Arguments>,
                event: &AuditEvent,
            ) -> Result<(), StoreError> {
                update_one(tx, statement).await?;
                insert_audit_event(tx, event).await
            }

            $crate::storage::sql::accounts::accounts_sql!($db, $store, $smaller, $lock);
            $crate::storage::sql::tenants::tenants_sql!($db, $store);
            $crate::storage::sql::vault::vault_sql!($db, $store);
            $crate::storage::sql::sync::sync_sql!($db, $store);
            $crate::storage::sql::presence::presence_sql!($db, $store, $lock);
            $crate::storage::sql::operator::operator_sql!($db, $store);
            $crate::storage::rate_limits::rate_limit_sql!($db, $store);
        }
    };
}
pub(super) use shared_sql;

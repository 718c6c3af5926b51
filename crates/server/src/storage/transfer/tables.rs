//! Which tables `hypnos admin migrate` copies, in which order, and what it leaves behind; and
//! each table's columns as both databases describe them.
//!
//! The list is written out rather than discovered, so that a migration adding a table makes the
//! command refuse ("does not know table …") until someone decides here whether it is copied:
//! nothing is ever left behind silently.

use sqlx::{AssertSqlSafe, PgConnection, Row, SqliteConnection};

use super::TransferError;
use super::values::Kind;

/// What the command does with a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Policy {
    /// Copied row for row and verified.
    Copy,
    /// Left behind, for the reason given (state that lives minutes and is rebuilt on its own).
    Skip(&'static str),
}

/// One table of the schema.
#[derive(Debug)]
pub(super) struct Table {
    /// Its name, the same in both databases.
    pub name: &'static str,
    /// A tenant table: `organization_id` leads its primary key, and on PostgreSQL row-level
    /// security shows and accepts only the rows of the organization set for the transaction.
    pub tenant: bool,
    /// Copied or skipped.
    pub policy: Policy,
    /// Columns PostgreSQL's triggers compute as other rows arrive: written as 0 and counted up
    /// by the triggers (then verified like every other column).
    pub derived: &'static [&'static str],
}

const fn copy(name: &'static str, tenant: bool) -> Table {
    Table {
        name,
        tenant,
        policy: Policy::Copy,
        derived: &[],
    }
}

const fn skip(name: &'static str, reason: &'static str) -> Table {
    Table {
        name,
        tenant: false,
        policy: Policy::Skip(reason),
        derived: &[],
    }
}

/// Every table of the current schema, in foreign-key order: a table comes after every table
/// it refers to.
pub(super) const TABLES: &[Table] = &[
    copy("accounts", false),
    Table {
        name: "organizations",
        tenant: false,
        policy: Policy::Copy,
        // Migration 0009's trigger on `memberships` adds each copied membership to these.
        derived: &["member_count", "admin_count"],
    },
    copy("memberships", true),
    copy("invitations", true),
    copy("invitation_keys", true),
    copy("team_projects", true),
    copy("projects", true),
    copy("project_keys", true),
    copy("branches", true),
    copy("snapshots", true),
    copy("branch_snapshots", true),
    copy("blobs", true),
    copy("audit_events", true),
    // Copied, so that everyone stays logged in across the move.
    copy("sessions", false),
    copy("reset_tokens", false),
    copy("signup_tokens", false),
    copy("security_events", false),
    // Holds the secret behind unknown accounts' stand-in salts: copied, so that an e-mail
    // without an account gets the same salts before and after the move.
    copy("server_settings", false),
    copy("vaults", false),
    skip(
        "login_attempts",
        "log-ins in progress live two minutes; a client caught mid-log-in starts again",
    ),
    skip(
        "vault_verifications",
        "vault-key checks in progress live two minutes; the app starts again",
    ),
    skip(
        "rate_limit_hits",
        "rate-limit windows last a minute; the counts start again at zero",
    ),
    skip(
        "presence",
        "places expire within minutes; open apps post theirs again",
    ),
];

/// The table the migration tool itself keeps; never copied (each database records its own
/// migrations, which `connect` ran).
pub(super) const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// One column as PostgreSQL keeps it.
#[derive(Debug)]
pub(super) struct Column {
    /// Its name.
    pub name: String,
    /// How its values are read, bound and encoded for the checksum.
    pub kind: Kind,
    /// `GENERATED ALWAYS AS IDENTITY`: inserted with `OVERRIDING SYSTEM VALUE`, its sequence
    /// moved past the largest copied value afterwards.
    pub identity: bool,
    /// Written as 0 and computed by the target's triggers ([`Table::derived`]).
    pub derived: bool,
}

/// A table with its columns, the same on both sides.
#[derive(Debug)]
pub(super) struct Layout {
    /// The table.
    pub table: &'static Table,
    /// Its columns, in PostgreSQL's order.
    pub columns: Vec<Column>,
    /// The primary key: indexes into `columns`, in key order.
    pub primary_key: Vec<usize>,
}

impl Layout {
    /// The column list, quoted.
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|column| quote(&column.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Where `organization_id` is among the columns (tenant tables).
    pub fn organization_column(&self) -> Option<usize> {
        self.columns
            .iter()
            .position(|column| column.name == "organization_id")
    }
}

/// An identifier in double quotes (our own table and column names; no quote in any).
pub(super) fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

/// Checks that both databases hold exactly the tables of [`TABLES`] with the same columns, and
/// describes each.
pub(super) async fn layouts(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
) -> Result<Vec<Layout>, TransferError> {
    let source_tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut *source)
    .await
    .map_err(|error| TransferError::source("reading the source's tables", error))?;
    let target_tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut *target)
    .await
    .map_err(|error| TransferError::target("reading the target's tables", error))?;
    for (side, tables) in [("source", &source_tables), ("target", &target_tables)] {
        if let Some(unknown) = tables
            .iter()
            .find(|name| *name != MIGRATIONS_TABLE && !TABLES.iter().any(|t| t.name == *name))
        {
            return Err(TransferError::Schema(format!(
                "the {side} database has a table this version of hypnos does not know \
                 ({unknown}); use the hypnos release that made it"
            )));
        }
    }
    let mut layouts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        for (side, tables) in [("source", &source_tables), ("target", &target_tables)] {
            if !tables.iter().any(|name| name == table.name) {
                return Err(TransferError::Schema(format!(
                    "the {side} database has no table {}",
                    table.name
                )));
            }
        }
        layouts.push(layout(source, target, table).await?);
    }
    Ok(layouts)
}

/// One table's columns, from PostgreSQL's catalogue, checked against SQLite's.
async fn layout(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    table: &'static Table,
) -> Result<Layout, TransferError> {
    let target_columns = sqlx::query(
        "SELECT column_name::text, data_type::text, is_identity::text \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table.name)
    .fetch_all(&mut *target)
    .await
    .map_err(|error| TransferError::target("reading the target's columns", error))?;
    // `pk` is the column's place in the primary key (1, 2, …), 0 outside it.
    let source_columns: Vec<(String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT name, pk FROM pragma_table_info('{}') ORDER BY cid",
        table.name
    )))
    .fetch_all(&mut *source)
    .await
    .map_err(|error| TransferError::source("reading the source's columns", error))?;

    let mut columns = Vec::with_capacity(target_columns.len());
    for row in &target_columns {
        let name: String = row.get(0);
        let data_type: String = row.get(1);
        let identity: String = row.get(2);
        let kind = Kind::of_postgres(&data_type).ok_or_else(|| {
            TransferError::Schema(format!(
                "{}.{name} has the PostgreSQL type {data_type}, which the copy does not handle",
                table.name
            ))
        })?;
        columns.push(Column {
            derived: table.derived.contains(&name.as_str()),
            name,
            kind,
            identity: identity == "YES",
        });
    }
    let mut source_names: Vec<&str> = source_columns.iter().map(|(n, _)| n.as_str()).collect();
    let mut target_names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    source_names.sort_unstable();
    target_names.sort_unstable();
    if source_names != target_names {
        return Err(TransferError::Schema(format!(
            "{} has the columns ({}) in the source but ({}) in the target",
            table.name,
            source_names.join(", "),
            target_names.join(", ")
        )));
    }
    let mut keyed: Vec<(i64, usize)> = source_columns
        .iter()
        .filter(|(_, pk)| *pk > 0)
        .map(|(name, pk)| {
            let index = columns.iter().position(|c| &c.name == name).unwrap_or(0);
            (*pk, index)
        })
        .collect();
    keyed.sort_unstable();
    if keyed.is_empty() {
        return Err(TransferError::Schema(format!(
            "{} has no primary key in the source",
            table.name
        )));
    }
    let layout = Layout {
        table,
        columns,
        primary_key: keyed.into_iter().map(|(_, index)| index).collect(),
    };
    if table.tenant && layout.primary_key.first() != layout.organization_column().as_ref() {
        return Err(TransferError::Schema(format!(
            "{}'s primary key does not begin with organization_id",
            table.name
        )));
    }
    Ok(layout)
}

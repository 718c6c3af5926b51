//! The copy itself: the target's emptiness, then each table streamed from SQLite in
//! primary-key order and inserted into PostgreSQL in bounded batches, all inside the target's
//! one transaction.
//!
//! Row-level security: the tenant tables `FORCE ROW LEVEL SECURITY` (migration 0003), so even
//! the tables' owner may insert a tenant row only inside the organization set for its
//! transaction. The copy sets that scope itself, as the store does (`set_config(…, true)`),
//! each time the organization of the streamed rows changes (their primary key begins with
//! `organization_id`, so each organization's rows come together): it needs no privilege beyond
//! the server's own, and a role that bypasses row-level security works too.

use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, PgConnection, SqliteConnection};

use super::tables::{Layout, quote};
use super::values::{self, Value};
use super::{Progress, TransferError};

/// The most rows one insert carries.
const BATCH_ROWS: usize = 500;

/// The most bytes of values one insert carries (a blob may be megabytes: a batch holds a few
/// of them at most, whatever the table's size).
const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// PostgreSQL's limit of parameters in one statement.
const MAX_PARAMETERS: usize = 65_535;

/// The tables of the target that hold rows, as far as this connection can see. With no
/// organization set, row-level security hides every tenant row; but every tenant row refers,
/// through its foreign keys, to an organization, and `organizations` has no policy: a target
/// without organizations has no tenant rows.
pub(super) async fn non_empty_tables(
    target: &mut PgConnection,
    layouts: &[Layout],
) -> Result<Vec<String>, TransferError> {
    let mut found = Vec::new();
    for layout in layouts {
        let name = layout.table.name;
        let holds: bool = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT EXISTS (SELECT 1 FROM {})",
            quote(name)
        )))
        .fetch_one(&mut *target)
        .await
        .map_err(|error| TransferError::target(&format!("looking into {name}"), error))?;
        if holds {
            found.push(name.to_owned());
        }
    }
    Ok(found)
}

/// How many rows a table of the source has.
pub(super) async fn source_rows(
    source: &mut SqliteConnection,
    layout: &Layout,
) -> Result<u64, TransferError> {
    let name = layout.table.name;
    let count: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {}",
        quote(name)
    )))
    .fetch_one(&mut *source)
    .await
    .map_err(|error| TransferError::source(&format!("counting {name}"), error))?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The source's select of a whole table in primary-key order (SQLite's BINARY collation:
/// byte order).
pub(super) fn source_select(layout: &Layout) -> String {
    let order: Vec<String> = layout
        .primary_key
        .iter()
        .map(|&index| quote(&layout.columns[index].name))
        .collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        layout.column_list(),
        quote(layout.table.name),
        order.join(", ")
    )
}

/// Copies one table; returns how many rows it copied.
pub(super) async fn copy_table(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    layout: &Layout,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<u64, TransferError> {
    let name = layout.table.name;
    let total = source_rows(source, layout).await?;
    if total > 0 {
        progress(Progress::Copying {
            table: name,
            copied: 0,
            total,
        });
    }
    let organization = if layout.table.tenant {
        layout.organization_column()
    } else {
        None
    };
    let batch_rows = BATCH_ROWS.min(MAX_PARAMETERS / layout.columns.len().max(1));
    let select = source_select(layout);
    let mut rows = sqlx::query(AssertSqlSafe(select)).fetch(&mut *source);
    let mut batch: Vec<Vec<Value>> = Vec::new();
    let mut batch_bytes = 0;
    let mut scope: Option<String> = None;
    let mut copied = 0;
    while let Some(row) = rows
        .try_next()
        .await
        .map_err(|error| TransferError::source(&format!("reading {name}"), error))?
    {
        let values = values::from_sqlite(&row, layout)?;
        if let Some(index) = organization {
            let Value::Text(org) = &values[index] else {
                return Err(TransferError::Schema(format!(
                    "{name} has a row whose organization_id is not text"
                )));
            };
            if scope.as_deref() != Some(org.as_str()) {
                // The batch so far belongs to the previous organization's scope.
                copied += insert(target, layout, std::mem::take(&mut batch)).await?;
                batch_bytes = 0;
                set_organization(target, org).await?;
                scope = Some(org.clone());
            }
        }
        batch_bytes += values.iter().map(Value::size).sum::<usize>();
        batch.push(values);
        if batch.len() >= batch_rows || batch_bytes >= BATCH_BYTES {
            copied += insert(target, layout, std::mem::take(&mut batch)).await?;
            batch_bytes = 0;
            progress(Progress::Copying {
                table: name,
                copied,
                total,
            });
        }
    }
    drop(rows);
    copied += insert(target, layout, batch).await?;
    if organization.is_some() {
        set_organization(target, "").await?;
    }
    reset_identities(target, layout).await?;
    progress(Progress::Copying {
        table: name,
        copied,
        total,
    });
    Ok(copied)
}

/// Sets the organization row-level security lets this transaction act in ("" for none), as
/// the store's `set_scope` does.
pub(super) async fn set_organization(
    target: &mut PgConnection,
    organization: &str,
) -> Result<(), TransferError> {
    sqlx::query("SELECT set_config('hypnos.organization_id', $1, true)")
        .bind(organization)
        .execute(&mut *target)
        .await
        .map_err(|error| TransferError::target("setting the organization scope", error))?;
    Ok(())
}

/// One multi-row insert; how many rows it wrote.
async fn insert(
    target: &mut PgConnection,
    layout: &Layout,
    rows: Vec<Vec<Value>>,
) -> Result<u64, TransferError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let name = layout.table.name;
    // An identity column that is GENERATED ALWAYS takes the copied ids only when told to.
    let overriding = if layout.columns.iter().any(|c| c.identity) {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO {} ({}){overriding} VALUES {}",
        quote(name),
        layout.column_list(),
        values::placeholders(layout, rows.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for row in rows {
        query = values::bind_row(query, layout, row)?;
    }
    let done = query
        .execute(&mut *target)
        .await
        .map_err(|error| TransferError::target(&format!("writing {name}"), error))?;
    Ok(done.rows_affected())
}

/// Moves each identity column's sequence past the largest copied value, so that the next row
/// the server adds gets a new id.
async fn reset_identities(target: &mut PgConnection, layout: &Layout) -> Result<(), TransferError> {
    for column in layout.columns.iter().filter(|c| c.identity) {
        let table = quote(layout.table.name);
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
             COALESCE(MAX({quoted}), 0) + 1, false) FROM {table}",
            column = column.name,
            quoted = quote(&column.name),
        );
        sqlx::query(AssertSqlSafe(sql))
            .execute(&mut *target)
            .await
            .map_err(|error| {
                TransferError::target(
                    &format!("resetting {}'s identity", layout.table.name),
                    error,
                )
            })?;
    }
    Ok(())
}

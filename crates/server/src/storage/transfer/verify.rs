//! The verification: per table, the rows counted and a SHA-256 over their canonical encoding
//! (`values::Value::digest_into`) in primary-key order, on each side, computed the same way.
//!
//! On PostgreSQL row-level security shows a tenant table's rows one organization at a time, so
//! the target's tenant tables are read organization by organization, in byte order of their
//! ids, each in primary-key order: since the key begins with `organization_id`, that is the
//! table's primary-key order, which the source reads in one go.

use aws_lc_rs::digest;
use futures_util::TryStreamExt;
use hypnos_crypto::encoding::to_hex;
use sqlx::{AssertSqlSafe, PgConnection, SqliteConnection};

use super::TransferError;
use super::copy::{set_organization, source_select};
use super::tables::{Layout, quote};
use super::values::{self, Value};

/// What one side holds of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Tally {
    /// Its rows.
    pub rows: u64,
    /// SHA-256 of the rows' canonical encoding in primary-key order, lowercase hex.
    pub checksum: String,
}

/// Counts rows into a digest.
struct Summer {
    digest: digest::Context,
    rows: u64,
}

impl Summer {
    fn new() -> Self {
        Self {
            digest: digest::Context::new(&digest::SHA256),
            rows: 0,
        }
    }

    fn add(&mut self, row: &[Value]) {
        for value in row {
            value.digest_into(&mut self.digest);
        }
        self.rows += 1;
    }

    fn finish(self) -> Tally {
        Tally {
            rows: self.rows,
            checksum: to_hex(self.digest.finish().as_ref()),
        }
    }
}

/// The source's tally of a table.
pub(super) async fn source_tally(
    source: &mut SqliteConnection,
    layout: &Layout,
) -> Result<Tally, TransferError> {
    let name = layout.table.name;
    let mut summer = Summer::new();
    let mut rows = sqlx::query(AssertSqlSafe(source_select(layout))).fetch(&mut *source);
    while let Some(row) = rows
        .try_next()
        .await
        .map_err(|error| TransferError::source(&format!("reading {name}"), error))?
    {
        summer.add(&values::from_sqlite(&row, layout)?);
    }
    Ok(summer.finish())
}

/// The target's organizations, in byte order of their ids (held in memory: one short id per
/// organization).
pub(super) async fn target_organizations(
    target: &mut PgConnection,
) -> Result<Vec<String>, TransferError> {
    sqlx::query_scalar("SELECT id FROM organizations ORDER BY id COLLATE \"C\"")
        .fetch_all(&mut *target)
        .await
        .map_err(|error| TransferError::target("reading the organizations", error))
}

/// The target's tally of a table; `organizations` as [`target_organizations`] gives them.
pub(super) async fn target_tally(
    target: &mut PgConnection,
    layout: &Layout,
    organizations: &[String],
) -> Result<Tally, TransferError> {
    let name = layout.table.name;
    let columns: Vec<String> = layout
        .columns
        .iter()
        .map(|column| column.kind.select(&quote(&column.name)))
        .collect();
    let order: Vec<String> = layout
        .primary_key
        .iter()
        .map(|&index| {
            let column = &layout.columns[index];
            column.kind.order(&quote(&column.name))
        })
        .collect();
    let mut summer = Summer::new();
    if layout.table.tenant {
        let sql = format!(
            "SELECT {} FROM {} WHERE organization_id = $1 ORDER BY {}",
            columns.join(", "),
            quote(name),
            order.join(", ")
        );
        for organization in organizations {
            set_organization(target, organization).await?;
            let mut rows = sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(organization)
                .fetch(&mut *target);
            while let Some(row) = rows
                .try_next()
                .await
                .map_err(|error| TransferError::target(&format!("reading {name}"), error))?
            {
                summer.add(&values::from_postgres(&row, layout)?);
            }
        }
        set_organization(target, "").await?;
    } else {
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            columns.join(", "),
            quote(name),
            order.join(", ")
        );
        let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *target);
        while let Some(row) = rows
            .try_next()
            .await
            .map_err(|error| TransferError::target(&format!("reading {name}"), error))?
        {
            summer.add(&values::from_postgres(&row, layout)?);
        }
    }
    Ok(summer.finish())
}

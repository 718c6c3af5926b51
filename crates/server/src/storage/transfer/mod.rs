//! Moving a server's data from SQLite to PostgreSQL (`hypnos admin migrate`): every account,
//! organization, key, snapshot and blob, copied into an empty PostgreSQL database and verified
//! table by table before anything is committed.
//!
//! - Both databases are opened through the store's own connect, which brings each to this
//!   version's schema (the source is migrated as `hypnos server` would migrate it at its next
//!   start; a SQLite file that does not exist is refused, not created).
//! - The target must be empty ([`TransferError::TargetNotEmpty`], nothing changed otherwise).
//! - The copy is one transaction on the target: tables in foreign-key order
//!   ([`tables::TABLES`]), rows streamed from one read transaction on the source and inserted
//!   in bounded batches (`copy`); then each copied table is counted and checksummed on both
//!   sides (`verify`), still inside that transaction, which commits only when every table
//!   matches. A failure or a mismatch anywhere leaves the target as empty as it was.
//! - Tables of short-lived state are skipped (log-ins and vault checks in progress, rate-limit
//!   windows, presence); sessions are copied, so users stay logged in.
//! - Row-level security on the target is honoured, not bypassed: see `copy`.
//!
//! No server may be running on either database meanwhile.

mod copy;
mod tables;
mod values;
mod verify;

use std::str::FromStr;

use serde::Serialize;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{PgConnection, SqliteConnection};

use super::{Backend, ConnectOptions, StoreError, postgres::PostgresStore, sqlite::SqliteStore};
use tables::{Layout, Policy};

/// What the transfer is doing, for a progress display.
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// Copying `table`: `copied` of its `total` rows so far (reported per batch and at its end).
    Copying {
        /// The table.
        table: &'a str,
        /// Rows written so far.
        copied: u64,
        /// Rows the source holds.
        total: u64,
    },
    /// `table` is not copied.
    Skipped {
        /// The table.
        table: &'a str,
        /// Rows the source holds, left behind.
        rows: u64,
        /// Why.
        reason: &'a str,
    },
    /// Counting and checksumming `table` on both sides.
    Verifying {
        /// The table.
        table: &'a str,
    },
}

/// One table in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableReport {
    /// The table.
    pub table: String,
    /// `copied` (by this run), `verified` (checked only) or `skipped`.
    pub action: String,
    /// Why a skipped table is not copied.
    pub skipped_because: Option<String>,
    /// Rows in the source.
    pub source_rows: u64,
    /// Rows in the target (not counted for a skipped table).
    pub target_rows: Option<u64>,
    /// SHA-256 of the source's rows (lowercase hex).
    pub source_checksum: Option<String>,
    /// SHA-256 of the target's rows, computed the same way.
    pub target_checksum: Option<String>,
    /// Counts and checksums are equal (always true for a skipped table).
    pub matches: bool,
}

/// The outcome of a transfer or a verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Every table of the schema, in copying order.
    pub tables: Vec<TableReport>,
    /// Every verified table matches.
    pub ok: bool,
    /// The copy was committed to the target (never when a table does not match).
    pub committed: bool,
}

/// Why a transfer did not happen. Messages never hold a database URL or a row's values.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The command was asked for something it does not do (a usage error).
    #[error("{0}")]
    Usage(String),
    /// The target holds rows already; nothing was written.
    #[error(
        "the target database is not empty (rows in {}); nothing was written: migrate into a \
         new, empty database",
        .0.join(", ")
    )]
    TargetNotEmpty(Vec<String>),
    /// The two schemas are not this version's.
    #[error("{0}")]
    Schema(String),
    /// A database could not be opened or migrated.
    #[error("cannot open the {side} database: {error}")]
    Open {
        /// `source` or `target`.
        side: &'static str,
        /// The store's error.
        error: StoreError,
    },
    /// A statement failed.
    #[error("the {side} database failed while {during}: {message}")]
    Database {
        /// `source` or `target`.
        side: &'static str,
        /// What the transfer was doing.
        during: String,
        /// The database's error.
        message: String,
    },
}

impl TransferError {
    /// A usage error (the CLI exits 2).
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::Usage(_))
    }

    fn source(during: &str, error: sqlx::Error) -> Self {
        Self::Database {
            side: "source",
            during: during.to_owned(),
            message: error.to_string(),
        }
    }

    fn target(during: &str, error: sqlx::Error) -> Self {
        Self::Database {
            side: "target",
            during: during.to_owned(),
            message: error.to_string(),
        }
    }
}

/// Copies everything from the SQLite database at `from` into the empty PostgreSQL database at
/// `to`, verifies every copied table, and commits only if all match. The report says what was
/// copied and checked; `committed` is false when a table did not match (nothing was written).
pub async fn migrate(
    from: &str,
    to: &str,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Report, TransferError> {
    check_urls(from, to)?;
    let (source_store, target_store) = open(from, to).await?;
    let mut source = source_store
        .reading_pool()
        .begin()
        .await
        .map_err(|error| TransferError::source("beginning a read", error))?;
    let mut target = target_store
        .pool()
        .begin()
        .await
        .map_err(|error| TransferError::target("beginning the copy", error))?;
    let layouts = tables::layouts(&mut source, &mut target).await?;
    let occupied = copy::non_empty_tables(&mut target, &layouts).await?;
    if !occupied.is_empty() {
        return Err(TransferError::TargetNotEmpty(occupied));
    }
    let mut skipped = Vec::new();
    for layout in &layouts {
        match layout.table.policy {
            Policy::Copy => {
                copy::copy_table(&mut source, &mut target, layout, progress).await?;
            }
            Policy::Skip(reason) => {
                let rows = copy::source_rows(&mut source, layout).await?;
                progress(Progress::Skipped {
                    table: layout.table.name,
                    rows,
                    reason,
                });
                skipped.push((layout.table.name, rows));
            }
        }
    }
    let mut report = compare(&mut source, &mut target, &layouts, "copied", progress).await?;
    for table in &mut report.tables {
        if let Some((_, rows)) = skipped.iter().find(|(name, _)| *name == table.table) {
            table.source_rows = *rows;
        }
    }
    if report.ok {
        target
            .commit()
            .await
            .map_err(|error| TransferError::target("committing the copy", error))?;
        report.committed = true;
    } else {
        target
            .rollback()
            .await
            .map_err(|error| TransferError::target("rolling the copy back", error))?;
    }
    source.rollback().await.ok();
    Ok(report)
}

/// Counts and checksums every table that [`migrate`] copies, on both sides, and reports
/// whether they match; writes nothing (an earlier migration's check, or a target changed since).
pub async fn verify(
    from: &str,
    to: &str,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Report, TransferError> {
    check_urls(from, to)?;
    let (source_store, target_store) = open(from, to).await?;
    let mut source = source_store
        .reading_pool()
        .begin()
        .await
        .map_err(|error| TransferError::source("beginning a read", error))?;
    let mut target = target_store
        .pool()
        .begin()
        .await
        .map_err(|error| TransferError::target("beginning a read", error))?;
    // One consistent view of the whole target, as the source's read transaction has.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *target)
        .await
        .map_err(|error| TransferError::target("beginning a read", error))?;
    let layouts = tables::layouts(&mut source, &mut target).await?;
    let mut report = compare(&mut source, &mut target, &layouts, "verified", progress).await?;
    for (layout, table) in layouts.iter().zip(&mut report.tables) {
        if matches!(layout.table.policy, Policy::Skip(_)) {
            table.source_rows = copy::source_rows(&mut source, layout).await?;
        }
    }
    target.rollback().await.ok();
    source.rollback().await.ok();
    Ok(report)
}

/// The source must be a SQLite file, the target PostgreSQL.
fn check_urls(from: &str, to: &str) -> Result<(), TransferError> {
    if Backend::of_url(from) != Some(Backend::Sqlite) {
        return Err(TransferError::Usage(
            "--from must be a SQLite database URL (sqlite://PATH): this command moves a \
             SQLite database to PostgreSQL"
                .into(),
        ));
    }
    if Backend::of_url(to) != Some(Backend::Postgres) {
        return Err(TransferError::Usage(
            "--to must be a PostgreSQL database URL (postgres://…)".into(),
        ));
    }
    if from.contains(":memory:") || from.contains("mode=memory") {
        return Err(TransferError::Usage(
            "--from must name a database file, not an in-memory database".into(),
        ));
    }
    Ok(())
}

/// Opens (and migrates) both stores; a source file that does not exist is refused, not made.
async fn open(from: &str, to: &str) -> Result<(SqliteStore, PostgresStore), TransferError> {
    let file = SqliteConnectOptions::from_str(from)
        .map_err(|error| TransferError::Usage(format!("--from is not a SQLite URL: {error}")))?
        .get_filename()
        .to_path_buf();
    if !file.is_file() {
        return Err(TransferError::Usage(format!(
            "--from: there is no database file at {}",
            file.display()
        )));
    }
    let options = ConnectOptions {
        max_connections: 2,
        ..ConnectOptions::default()
    };
    let source =
        SqliteStore::connect(from, options)
            .await
            .map_err(|error| TransferError::Open {
                side: "source",
                error,
            })?;
    let target =
        PostgresStore::connect(to, options)
            .await
            .map_err(|error| TransferError::Open {
                side: "target",
                error,
            })?;
    Ok((source, target))
}

/// Tallies every copied table on both sides into the report.
async fn compare(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    layouts: &[Layout],
    action: &str,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Report, TransferError> {
    let organizations = verify::target_organizations(target).await?;
    let mut tables = Vec::with_capacity(layouts.len());
    for layout in layouts {
        let name = layout.table.name;
        tables.push(match layout.table.policy {
            Policy::Skip(reason) => TableReport {
                table: name.to_owned(),
                action: "skipped".into(),
                skipped_because: Some(reason.to_owned()),
                source_rows: 0,
                target_rows: None,
                source_checksum: None,
                target_checksum: None,
                matches: true,
            },
            Policy::Copy => {
                progress(Progress::Verifying { table: name });
                let mine = verify::source_tally(source, layout).await?;
                let theirs = verify::target_tally(target, layout, &organizations).await?;
                TableReport {
                    table: name.to_owned(),
                    action: action.to_owned(),
                    skipped_because: None,
                    source_rows: mine.rows,
                    target_rows: Some(theirs.rows),
                    matches: mine == theirs,
                    source_checksum: Some(mine.checksum),
                    target_checksum: Some(theirs.checksum),
                }
            }
        });
    }
    let ok = tables.iter().all(|table| table.matches);
    Ok(Report {
        tables,
        ok,
        committed: false,
    })
}

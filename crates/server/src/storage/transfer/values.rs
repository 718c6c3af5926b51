//! One value of a row, as both databases hold it: read from SQLite by its storage class, read
//! from PostgreSQL by its column's type, bound into PostgreSQL with an explicit cast, and
//! encoded canonically for the checksum, so that the same data gives the same bytes whichever
//! database it was read from.

use aws_lc_rs::digest;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, Row, TypeInfo, ValueRef};

use super::TransferError;
use super::tables::Layout;

/// How PostgreSQL keeps a column (the schema uses no other types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// `bigint`, `integer`, `smallint`: SQLite INTEGER.
    Integer,
    /// `boolean`: SQLite INTEGER 0 or 1.
    Boolean,
    /// `text`: SQLite TEXT.
    Text,
    /// `bytea`: SQLite BLOB.
    Bytes,
}

impl Kind {
    /// The kind of a PostgreSQL `information_schema.columns.data_type`.
    pub fn of_postgres(data_type: &str) -> Option<Self> {
        match data_type {
            "bigint" | "integer" | "smallint" => Some(Self::Integer),
            "boolean" => Some(Self::Boolean),
            "text" | "character varying" => Some(Self::Text),
            "bytea" => Some(Self::Bytes),
            _ => None,
        }
    }

    /// The column in a PostgreSQL select list, read as this kind is decoded.
    pub fn select(self, quoted: &str) -> String {
        match self {
            // Any integer width is read as 64 bits, as SQLite gives it.
            Self::Integer => format!("{quoted}::int8"),
            _ => quoted.to_owned(),
        }
    }

    /// The column in an ORDER BY: text in byte order (`COLLATE "C"`), as SQLite's BINARY
    /// collation orders it, whatever the database's own collation.
    pub fn order(self, quoted: &str) -> String {
        match self {
            Self::Text => format!("{quoted} COLLATE \"C\""),
            _ => quoted.to_owned(),
        }
    }

    /// The placeholder `$n` with the cast that tells PostgreSQL what is bound.
    fn placeholder(self, n: usize) -> String {
        match self {
            Self::Integer => format!("${n}::int8"),
            Self::Boolean => format!("${n}::boolean"),
            Self::Text => format!("${n}::text"),
            Self::Bytes => format!("${n}::bytea"),
        }
    }
}

/// A value as SQLite's storage classes see it; PostgreSQL booleans are integers 0 and 1 here,
/// as SQLite stores them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Value {
    /// NULL.
    Null,
    /// A 64-bit integer.
    Integer(i64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
}

impl Value {
    /// Roughly how many bytes it holds (to bound a batch).
    pub fn size(&self) -> usize {
        match self {
            Self::Null | Self::Integer(_) => 8,
            Self::Text(text) => text.len(),
            Self::Bytes(bytes) => bytes.len(),
        }
    }

    /// Adds the canonical encoding to a digest: a tag, then eight big-endian bytes for an
    /// integer, or the length (eight big-endian bytes) and the bytes of text or binary.
    pub fn digest_into(&self, digest: &mut digest::Context) {
        match self {
            Self::Null => digest.update(&[0]),
            Self::Integer(value) => {
                digest.update(&[1]);
                digest.update(&value.to_be_bytes());
            }
            Self::Text(text) => {
                digest.update(&[2]);
                digest.update(&(text.len() as u64).to_be_bytes());
                digest.update(text.as_bytes());
            }
            Self::Bytes(bytes) => {
                digest.update(&[3]);
                digest.update(&(bytes.len() as u64).to_be_bytes());
                digest.update(bytes);
            }
        }
    }
}

/// A SQLite row, read in `layout`'s column order (the select lists them so), each value by its
/// storage class.
pub(super) fn from_sqlite(row: &SqliteRow, layout: &Layout) -> Result<Vec<Value>, TransferError> {
    let mut values = Vec::with_capacity(layout.columns.len());
    for (index, column) in layout.columns.iter().enumerate() {
        let failed = |error: sqlx::Error| {
            TransferError::source(
                &format!("reading {}.{}", layout.table.name, column.name),
                error,
            )
        };
        let raw = row.try_get_raw(index).map_err(failed)?;
        if raw.is_null() {
            values.push(Value::Null);
            continue;
        }
        let class = raw.type_info().name().to_owned();
        values.push(match class.as_str() {
            "INTEGER" => Value::Integer(row.try_get_unchecked(index).map_err(failed)?),
            "TEXT" => Value::Text(row.try_get_unchecked(index).map_err(failed)?),
            "BLOB" => Value::Bytes(row.try_get_unchecked(index).map_err(failed)?),
            other => {
                return Err(TransferError::Schema(format!(
                    "{}.{} holds a {other} value in the source, which the schema never stores",
                    layout.table.name, column.name
                )));
            }
        });
    }
    Ok(values)
}

/// A PostgreSQL row, read in `layout`'s column order by each column's kind.
pub(super) fn from_postgres(row: &PgRow, layout: &Layout) -> Result<Vec<Value>, TransferError> {
    let mut values = Vec::with_capacity(layout.columns.len());
    for (index, column) in layout.columns.iter().enumerate() {
        let failed = |error: sqlx::Error| {
            TransferError::target(
                &format!("reading {}.{}", layout.table.name, column.name),
                error,
            )
        };
        let value = match column.kind {
            Kind::Integer => row
                .try_get::<Option<i64>, _>(index)
                .map_err(failed)?
                .map(Value::Integer),
            Kind::Boolean => row
                .try_get::<Option<bool>, _>(index)
                .map_err(failed)?
                .map(|value| Value::Integer(value.into())),
            Kind::Text => row
                .try_get::<Option<String>, _>(index)
                .map_err(failed)?
                .map(Value::Text),
            Kind::Bytes => row
                .try_get::<Option<Vec<u8>>, _>(index)
                .map_err(failed)?
                .map(Value::Bytes),
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(values)
}

/// The `VALUES` tuples of an insert of `rows` rows: `($1::text, $2::int8, …), (…)`.
pub(super) fn placeholders(layout: &Layout, rows: usize) -> String {
    let width = layout.columns.len();
    (0..rows)
        .map(|row| {
            let cells: Vec<String> = layout
                .columns
                .iter()
                .enumerate()
                .map(|(index, column)| column.kind.placeholder(row * width + index + 1))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds one row's values to an insert, each as its column's kind wants it.
pub(super) fn bind_row<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    layout: &Layout,
    row: Vec<Value>,
) -> Result<Query<'q, Postgres, PgArguments>, TransferError> {
    for (column, value) in layout.columns.iter().zip(row) {
        let value = if column.derived {
            Value::Integer(0)
        } else {
            value
        };
        query = match (column.kind, value) {
            (Kind::Integer, Value::Integer(value)) => query.bind(value),
            (Kind::Integer, Value::Null) => query.bind(None::<i64>),
            (Kind::Boolean, Value::Integer(value @ (0 | 1))) => query.bind(value == 1),
            (Kind::Boolean, Value::Null) => query.bind(None::<bool>),
            (Kind::Text, Value::Text(value)) => query.bind(value),
            (Kind::Text, Value::Null) => query.bind(None::<String>),
            (Kind::Bytes, Value::Bytes(value)) => query.bind(value),
            (Kind::Bytes, Value::Null) => query.bind(None::<Vec<u8>>),
            (kind, value) => {
                return Err(TransferError::Schema(format!(
                    "{}.{}: the source holds {} where PostgreSQL keeps {kind:?}",
                    layout.table.name,
                    column.name,
                    match value {
                        Value::Null => "NULL",
                        Value::Integer(_) => "an integer",
                        Value::Text(_) => "text",
                        Value::Bytes(_) => "bytes",
                    }
                )));
            }
        };
    }
    Ok(query)
}

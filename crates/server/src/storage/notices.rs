//! Notices between the server processes that share one database: the transport of the event
//! stream (`crate::events`). PostgreSQL's own LISTEN/NOTIFY carries them, so that several
//! `hypnos server` processes behind one load balancer need no other message broker; a SQLite
//! database has one process, which delivers its notices itself.
//!
//! A notice is a short text (the events module's JSON, well under PostgreSQL's 8000-byte
//! payload limit). PostgreSQL delivers a notice to every listening connection, the sender's
//! included, in the order of the commits that sent them; a listener that loses its connection
//! misses what was sent meanwhile, and the events module lives with that (an event is a hint to
//! refresh, never data).

use sqlx::{PgPool, postgres::PgListener};

use super::StoreError;
use super::postgres::map_error;

/// The channel every process listens on.
const CHANNEL: &str = "hypnos_events";

/// How a store's notices travel.
#[derive(Clone, Debug)]
pub enum Notices {
    /// One process: the caller delivers its notices in memory.
    InProcess,
    /// Through PostgreSQL, to every process connected to the database.
    Postgres(PostgresNotices),
}

/// LISTEN/NOTIFY on the store's own pool.
#[derive(Clone, Debug)]
pub struct PostgresNotices {
    pool: PgPool,
}

impl PostgresNotices {
    pub(super) fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Sends `payload` to every listening process (this one included).
    pub async fn publish(&self, payload: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(())
    }

    /// A listener on the channel, holding one connection of the pool until it is dropped.
    pub async fn listen(&self) -> Result<NoticeListener, StoreError> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(map_error)?;
        listener.listen(CHANNEL).await.map_err(map_error)?;
        Ok(NoticeListener { listener })
    }
}

/// What [`NoticeListener::next`] got.
#[derive(Debug)]
pub enum Heard {
    /// A notice's payload.
    Notice(String),
    /// The connection was lost and has been opened again: notices sent in between were missed.
    Reconnected,
}

/// One process's listening connection.
pub struct NoticeListener {
    listener: PgListener,
}

impl NoticeListener {
    /// The next notice; an error when the connection is lost and cannot be opened again now (the
    /// caller waits and makes a new listener).
    pub async fn next(&mut self) -> Result<Heard, StoreError> {
        match self.listener.try_recv().await.map_err(map_error)? {
            Some(notification) => Ok(Heard::Notice(notification.payload().to_owned())),
            None => Ok(Heard::Reconnected),
        }
    }
}

//! The harness every server test file shares (`mod common;`):
//!
//! - [`db`]: [`TestDb`], a fresh database of either backend per test;
//! - [`http`]: the real server on an ephemeral port ([`http::TestServer`]), JSON requests and the
//!   app's sign-up and SRP log-in ([`http::users`]), with RSA keys from a per-process pool;
//! - [`app`]: [`app::TestApp`], the server with its store, whose actors are signed-up, logged-in
//!   users that send requests and GraphQL operations, and whose teams and members are built
//!   through the store's own methods; and [`app::oneshot`], one request through the router
//!   without a socket;
//! - [`vcs`]: the sync API's operations as the app sends them, and [`vcs::Vcs`], an actor
//!   creating, pushing and reading synced projects as the app does;
//! - [`stream`]: [`stream::EventStream`], the app's event stream of one organization read as
//!   the app's EventSource reads it;
//! - [`on_both_backends!`]: each story as a test on SQLite and on PostgreSQL.

#![allow(
    dead_code,
    unused_imports,
    unused_macros,
    clippy::unwrap_used,
    reason = "test helpers: each test file uses a part of them, and a failed unwrap is a failed test"
)]

pub mod app;
pub mod db;
pub mod http;
pub mod stream;
pub mod vcs;

use std::time::Duration;

pub use db::{Backend, DEFAULT_POSTGRES_URL, TestDb, postgres_db, sqlite_db};

/// How long a story may take unless its file says otherwise: no test may hang.
pub const STORY_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs `story`, failing the test if it takes longer than `limit`.
pub async fn bounded(limit: Duration, story: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(limit, story)
        .await
        .unwrap_or_else(|_| panic!("the story finished within {limit:?}"));
}

/// Runs each story (`async fn story(db: TestDb)` beside the call) as one `#[tokio::test]` per
/// backend, `sqlite::<story>` and `postgres::<story>`, each on a fresh [`TestDb`] and bounded by
/// [`STORY_TIMEOUT`], or by the `timeout = …;` given first.
macro_rules! on_both_backends {
    (timeout = $limit:expr; $($story:ident),* $(,)?) => {
        /// The bound of this module's stories.
        const ON_BOTH_BACKENDS_LIMIT: ::std::time::Duration = $limit;
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let db = $crate::common::TestDb::new($crate::common::Backend::Sqlite).await;
                    $crate::common::bounded(super::ON_BOTH_BACKENDS_LIMIT, super::$story(db)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let db = $crate::common::TestDb::new($crate::common::Backend::Postgres).await;
                    $crate::common::bounded(super::ON_BOTH_BACKENDS_LIMIT, super::$story(db)).await;
                }
            )*
        }
    };
    ($($story:ident),* $(,)?) => {
        $crate::common::on_both_backends!(timeout = $crate::common::STORY_TIMEOUT; $($story),*);
    };
}
pub(crate) use on_both_backends;

//! The connection layer: our own accept loop on hyper's HTTP/1.1 server, for plain HTTP and TLS.
//!
//! axum's `serve` has no header, body or idle timeouts and no connection cap, and it drops a
//! socket with unread input (which the kernel answers with a reset, so the client may never read
//! the answer). Here:
//! - at most `--max-connections` connections are served at once; past it the loop stops
//!   accepting and new connections wait in the kernel's listen queue (none is refused or crashes
//!   anything), and are served as soon as one ends;
//! - [`io::TimedIo`] closes a connection whose request head takes longer than
//!   `--header-read-timeout`, that stays idle between requests past `--keep-alive-timeout`, or
//!   whose response cannot be sent for `--body-read-timeout`;
//! - [`body::GuardedBody`] answers 408 to a request body that stalls or arrives too slowly, and
//!   503 when the bodies being received at once would hold more than `--max-buffered-body-bytes`;
//! - [`connection::linger`] half-closes and drains a bounded remainder before dropping a socket,
//!   as nginx's lingering close does, so an early refusal reaches the client.
//!
//! Only HTTP/1.1 is served (the app speaks it; TLS offers ALPN `http/1.1` alone): hyper's HTTP/1
//! connection hands the socket back when it ends, which lingering close needs.

mod body;
mod connection;
mod io;

use std::{future::Future, sync::Arc, time::Duration};

use axum::Router;
use tokio::{
    net::TcpListener,
    sync::{Semaphore, watch},
    task::JoinSet,
};
use tokio_rustls::TlsAcceptor;

use crate::ServerConfig;

/// The connection settings, taken once from the configuration and shared by every connection.
#[derive(Debug)]
pub(crate) struct ConnectionLimits {
    /// The whole request head (and a TLS handshake) must arrive within this.
    pub header_read_timeout: Duration,
    /// Idle time allowed between requests on a kept-alive connection.
    pub keep_alive_timeout: Duration,
    /// The longest gap without a body byte received, or a response byte sent.
    pub body_read_timeout: Duration,
    /// Bytes per second a body must average once it has been arriving for a while; 0: no check.
    pub min_body_rate: u64,
    /// Request-body bytes held at once across connections (one permit a byte).
    pub body_budget: Arc<Semaphore>,
}

impl ConnectionLimits {
    /// The limits of `config`.
    pub fn from_config(config: &ServerConfig) -> Self {
        Self {
            header_read_timeout: config.header_read_timeout,
            keep_alive_timeout: config.keep_alive_timeout,
            body_read_timeout: config.body_read_timeout,
            min_body_rate: config.min_body_rate,
            body_budget: Arc::new(Semaphore::new(
                config.max_buffered_body_bytes.min(Semaphore::MAX_PERMITS),
            )),
        }
    }
}

/// Accepts connections on `listener` (through `tls` when given) and serves `router` on each until
/// `shutdown` completes; then stops accepting, lets connections finish their requests for up to
/// `grace`, and drops those still open.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: ConnectionLimits,
    max_connections: usize,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(max_connections.min(Semaphore::MAX_PERMITS)));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // A free slot first: while every slot is taken, nothing is accepted and new connections
        // wait in the listen queue.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    if !is_connection_error(&err) {
                        // Out of file descriptors, say: wait rather than spin.
                        tracing::warn!(error = %err, "accepting a connection failed");
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_secs(1)) => {},
                            () = &mut shutdown => break,
                        }
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Reap finished connections so the set holds only live ones.
        while connections.try_join_next().is_some() {}
        let connection = connection::Connection {
            router: router.clone(),
            peer,
            limits: limits.clone(),
            stopping: stopping.clone(),
        };
        let tls = tls.clone();
        connections.spawn(async move {
            connection.serve(stream, tls).await;
            drop(slot);
        });
    }
    drop(listener);
    // Closed channels mean "stop" as well, so the send result does not matter.
    let _ = stop.send(true);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "grace period over: closing the connections still open"
        );
    }
    connections.abort_all();
}

/// Errors of one incoming connection (it was reset before we took it), not of the listener.
fn is_connection_error(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

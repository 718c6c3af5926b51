//! The live side of the server: the app's event stream (`GET /v1/teams/{org}/streams`, in
//! `api::streams`) and what feeds it.
//!
//! A handler that changes something a teammate's app shows calls [`Events::publish`] after its
//! transaction commits. The notice goes through the store ([`Notices`]): on PostgreSQL by
//! NOTIFY to every server process on the database, each of which LISTENs on one connection and
//! hands what it hears to its own [`Hub`]; on SQLite (one process) straight to the hub. So
//! there is one path to a stream whichever process made the change.
//!
//! Events are hints to refresh, never data: one lost while the listening connection is down
//! costs a teammate a refresh, not a change. The listener reconnects (with backoff) and
//! listens again; the streams stay open meanwhile, since the app's EventSource would not retry
//! a refused reconnect.

pub mod hub;
pub mod notice;
mod raise;

use std::{sync::Arc, time::Duration};

use tokio::{sync::mpsc, task::JoinHandle};

pub use hub::{Departure, Full, Hub, Movement, Subscription};
pub use notice::Notice;

use crate::storage::{
    Store,
    notices::{Heard, Notices, PostgresNotices},
};

/// A PostgreSQL NOTIFY payload must be shorter than 8000 bytes; notices are ids and names of
/// types, far shorter. One that is not is dropped (and logged) rather than refused by the
/// database.
const MAX_NOTICE_BYTES: usize = 7900;

/// The longest wait between attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Streams a server process holds at most when `--max-streams` is not given: half its
/// connections, so that open streams never keep requests out.
pub fn default_max_streams(max_connections: usize) -> usize {
    (max_connections / 2).max(1)
}

/// The event side of the server's state.
pub struct Events {
    hub: Arc<Hub>,
    transport: Notices,
    listener: Option<JoinHandle<()>>,
}

impl Events {
    /// Starts listening for notices (on PostgreSQL: returns once the first LISTEN is in place,
    /// or after trying once, so that a server that answers also hears). Departures (an
    /// account's last stream of an organization closing here) arrive on the receiver.
    pub async fn start(
        store: &dyn Store,
        max_streams: usize,
        max_per_account: usize,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<Movement>) {
        let (hub, departures) = Hub::new(max_streams, max_per_account);
        let transport = store.notices();
        let listener = match &transport {
            Notices::InProcess => None,
            Notices::Postgres(postgres) => {
                let first = postgres.listen().await;
                Some(tokio::spawn(listen(
                    postgres.clone(),
                    hub.clone(),
                    first.ok(),
                )))
            }
        };
        (
            Arc::new(Self {
                hub,
                transport,
                listener,
            }),
            departures,
        )
    }

    /// The streams of this process.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// Sends `notice` to every process's streams: at once in memory, or on PostgreSQL by a
    /// NOTIFY in the background. Failing to send is logged, never the caller's error: the
    /// change it reports has already been made.
    pub fn publish(&self, notice: Notice) {
        self.publish_in_order(vec![notice]);
    }

    /// [`Events::publish`] for several notices that must arrive in this order (on PostgreSQL
    /// one NOTIFY after the other, from one background task).
    pub fn publish_in_order(&self, notices: Vec<Notice>) {
        match &self.transport {
            Notices::InProcess => {
                for notice in &notices {
                    self.hub.deliver(notice);
                }
            }
            Notices::Postgres(postgres) => {
                let payloads: Vec<String> = notices.iter().filter_map(payload).collect();
                if payloads.is_empty() {
                    return;
                }
                let postgres = postgres.clone();
                tokio::spawn(async move {
                    for payload in payloads {
                        if let Err(error) = postgres.publish(&payload).await {
                            tracing::warn!(%error, "an event notice could not be sent");
                        }
                    }
                });
            }
        }
    }

    /// Whether notices cross server processes (PostgreSQL): other processes may hold streams
    /// of the same accounts.
    pub fn shared(&self) -> bool {
        matches!(self.transport, Notices::Postgres(_))
    }
}

/// The NOTIFY payload of `notice`; `None` (logged) for one too long to send.
/// Sends `notice` to the server processes on the store's database from outside a server (an
/// operator's command), waiting until it is sent: on PostgreSQL a NOTIFY; with SQLite no other
/// process can hear it, and nothing is sent.
pub async fn publish_now(
    store: &Arc<dyn crate::storage::Store>,
    notice: &Notice,
) -> Result<(), crate::storage::StoreError> {
    match (store.notices(), payload(notice)) {
        (Notices::Postgres(postgres), Some(payload)) => postgres.publish(&payload).await,
        _ => Ok(()),
    }
}

fn payload(notice: &Notice) -> Option<String> {
    let payload = serde_json::to_string(notice).ok()?;
    if payload.len() > MAX_NOTICE_BYTES {
        tracing::warn!(bytes = payload.len(), "an event notice is too long to send");
        return None;
    }
    Some(payload)
}

impl Drop for Events {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.abort();
        }
    }
}

/// This process's listener: what it hears goes to the hub; a lost connection is opened again,
/// waiting longer after each failure up to [`MAX_BACKOFF`].
async fn listen(
    notices: PostgresNotices,
    hub: Arc<Hub>,
    mut listener: Option<crate::storage::notices::NoticeListener>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(current) = listener.as_mut() else {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            match notices.listen().await {
                Ok(opened) => {
                    tracing::info!("listening for events again");
                    listener = Some(opened);
                }
                Err(error) => tracing::debug!(%error, "cannot listen for events yet"),
            }
            continue;
        };
        match current.next().await {
            Ok(Heard::Notice(payload)) => {
                backoff = Duration::from_millis(100);
                match serde_json::from_str::<Notice>(&payload) {
                    Ok(notice) => hub.deliver(&notice),
                    // Another version of the server, or someone else's NOTIFY on the channel.
                    Err(error) => tracing::debug!(%error, "an event notice could not be read"),
                }
            }
            Ok(Heard::Reconnected) => {
                tracing::warn!(
                    "the event listener lost its connection; events sent meanwhile were missed"
                );
            }
            Err(error) => {
                tracing::warn!(%error, "the event listener lost its connection");
                listener = None;
            }
        }
    }
}

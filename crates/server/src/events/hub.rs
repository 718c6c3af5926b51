//! The streams open in this process, by organization and by account, and the delivery of a
//! notice to those it concerns.
//!
//! Delivery never waits for a client: each stream has a small queue, and a stream whose queue
//! is full (a client that stopped reading) is ended instead of holding the event back for the
//! others or growing without bound; its app reconnects and refreshes. The lock is held only
//! to look up and enqueue.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, MutexGuard},
};

use hypnos_crypto::wire::events::{Event, OrganizationEvent};
use tokio::sync::mpsc;

use super::notice::Notice;
use crate::storage::SecretHash;

/// Events waiting to be written to one stream; past this the stream is ended.
const QUEUE: usize = 16;

/// One open stream.
struct Stream {
    account: String,
    session: SecretHash,
    sender: mpsc::Sender<Arc<str>>,
}

/// The registry.
#[derive(Default)]
struct Registry {
    next_id: u64,
    /// Organization id → stream id → stream.
    by_team: HashMap<String, HashMap<u64, Stream>>,
    /// Account id → its streams as (organization, stream id), oldest first by id.
    by_account: HashMap<String, HashSet<(String, u64)>>,
}

impl Registry {
    fn remove(&mut self, team: &str, id: u64) -> Option<Stream> {
        let streams = self.by_team.get_mut(team)?;
        let stream = streams.remove(&id)?;
        if streams.is_empty() {
            self.by_team.remove(team);
        }
        if let Some(owned) = self.by_account.get_mut(&stream.account) {
            owned.remove(&(team.to_owned(), id));
            if owned.is_empty() {
                self.by_account.remove(&stream.account);
            }
        }
        Some(stream)
    }

    /// Ends the streams `ids` of `team` after one last `OrganizationChanged` each: the app
    /// then reloads its organizations and finds this one gone, rather than keep showing it
    /// (its EventSource gives up for good when the reconnect is refused). A full queue only
    /// loses that hint.
    fn end_with_farewell(&mut self, team: &str, ids: Vec<u64>) {
        if ids.is_empty() {
            return;
        }
        let farewell = Event::OrganizationChanged(OrganizationEvent {
            topic: team.to_owned(),
            team: team.to_owned(),
        });
        let farewell: Option<Arc<str>> = serde_json::to_string(&farewell).ok().map(Into::into);
        for id in ids {
            if let Some(stream) = self.remove(team, id)
                && let Some(farewell) = &farewell
            {
                // The receiver still reads what was queued before the sender went.
                let _ = stream.sender.try_send(farewell.clone());
            }
        }
    }

    /// Whether `account` has a stream of `team`.
    fn holds(&self, team: &str, account: &str) -> bool {
        self.by_account
            .get(account)
            .is_some_and(|owned| owned.iter().any(|(other, _)| other == team))
    }

    /// The account's streams that `keep` selects, as (organization, id).
    fn of_account(
        &self,
        account: &str,
        keep: impl Fn(&str, &Stream) -> bool,
    ) -> Vec<(String, u64)> {
        let Some(owned) = self.by_account.get(account) else {
            return Vec::new();
        };
        owned
            .iter()
            .filter(|(team, id)| {
                self.by_team
                    .get(team)
                    .and_then(|streams| streams.get(id))
                    .is_some_and(|stream| keep(team, stream))
            })
            .cloned()
            .collect()
    }
}

/// Why a stream could not be opened.
#[derive(Debug, PartialEq, Eq)]
pub enum Full {
    /// The server holds its most streams (`--max-streams`).
    Server,
}

/// An account whose last stream of an organization in this process closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    /// The organization.
    pub team: String,
    /// The account.
    pub account: String,
}

/// What the hub tells the presence task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Movement {
    /// The account's last stream of the organization here closed.
    Left(Departure),
    /// Another process announced such a departure ([`Notice::Departing`]), and this one still
    /// holds a stream of the account's in the organization: its place is to be refreshed now,
    /// to expire after the departing process's `expiring_by` (the second field).
    StillHere(Departure, i64),
}

/// The streams of this process.
pub struct Hub {
    registry: Mutex<Registry>,
    max_streams: usize,
    max_per_account: usize,
    departures: mpsc::UnboundedSender<Movement>,
}

impl Hub {
    /// A hub of at most `max_streams` streams, `max_per_account` of them per account, which
    /// reports departures (for presence) on the returned receiver.
    pub fn new(
        max_streams: usize,
        max_per_account: usize,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<Movement>) {
        let (departures, departed) = mpsc::unbounded_channel();
        let hub = Arc::new(Self {
            registry: Mutex::new(Registry::default()),
            max_streams,
            max_per_account: max_per_account.max(1),
            departures,
        });
        (hub, departed)
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding the lock leaves the maps consistent (each change is one
        // insert or remove), so a poisoned lock is still usable.
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens a stream of `team` for `account` (through `session`). An account already holding
    /// its most streams loses its oldest: a crashed app's stream must not lock its owner out.
    pub fn open(
        self: &Arc<Self>,
        team: &str,
        account: &str,
        session: SecretHash,
    ) -> Result<Subscription, Full> {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let mut registry = self.registry();
        let owned = registry.by_account.get(account).map_or(0, HashSet::len);
        if owned >= self.max_per_account {
            let oldest = registry.by_account[account]
                .iter()
                .min_by_key(|(_, id)| *id)
                .cloned();
            if let Some((oldest_team, oldest_id)) = oldest {
                registry.remove(&oldest_team, oldest_id);
            }
        } else if self.count(&registry) >= self.max_streams {
            return Err(Full::Server);
        }
        let id = registry.next_id;
        registry.next_id += 1;
        registry.by_team.entry(team.to_owned()).or_default().insert(
            id,
            Stream {
                account: account.to_owned(),
                session,
                sender,
            },
        );
        registry
            .by_account
            .entry(account.to_owned())
            .or_default()
            .insert((team.to_owned(), id));
        Ok(Subscription {
            hub: self.clone(),
            team: team.to_owned(),
            account: account.to_owned(),
            id,
            receiver,
        })
    }

    fn count(&self, registry: &Registry) -> usize {
        registry.by_account.values().map(HashSet::len).sum()
    }

    /// How many streams are open.
    pub fn open_streams(&self) -> usize {
        self.count(&self.registry())
    }

    /// The (organization, account) pairs with a stream open here: the presence this process
    /// keeps alive. One entry per pair however many streams it has.
    pub fn holders(&self) -> Vec<(String, String)> {
        let registry = self.registry();
        let pairs: HashSet<(&str, &str)> = registry
            .by_account
            .iter()
            .flat_map(|(account, owned)| {
                owned
                    .iter()
                    .map(move |(team, _)| (team.as_str(), account.as_str()))
            })
            .collect();
        pairs
            .into_iter()
            .map(|(team, account)| (team.to_owned(), account.to_owned()))
            .collect()
    }

    /// Whether `account` has a stream of `team` open here.
    pub fn holds(&self, team: &str, account: &str) -> bool {
        self.registry().holds(team, account)
    }

    /// Ends every stream (the server is shutting down: it does not wait for them).
    pub fn close_all(&self) {
        let mut registry = self.registry();
        registry.by_team.clear();
        registry.by_account.clear();
    }

    /// Hands `notice` to the streams it concerns.
    pub fn deliver(&self, notice: &Notice) {
        let mut registry = self.registry();
        match notice {
            Notice::Event {
                event,
                account,
                except_session,
            } => {
                let text: Arc<str> = match serde_json::to_string(event) {
                    Ok(text) => text.into(),
                    Err(_) => return,
                };
                let targets: Vec<(String, u64)> = match (event.team(), account) {
                    (Some(team), _) => registry
                        .by_team
                        .get(team)
                        .map(|streams| streams.keys().map(|id| (team.to_owned(), *id)).collect())
                        .unwrap_or_default(),
                    (None, Some(account)) => registry.of_account(account, |_, stream| {
                        except_session.is_none_or(|except| stream.session != except)
                    }),
                    (None, None) => Vec::new(),
                };
                for (team, id) in targets {
                    let sent = registry.by_team[&team][&id].sender.try_send(text.clone());
                    if sent.is_err() {
                        // Full (the client stopped reading) or closed: end it.
                        registry.remove(&team, id);
                    }
                }
            }
            Notice::MemberLeft { team, account } => {
                let ids = registry
                    .of_account(account, |stream_team, _| stream_team == team)
                    .into_iter()
                    .map(|(_, id)| id)
                    .collect();
                registry.end_with_farewell(team, ids);
            }
            Notice::TeamClosed { team } => {
                let ids = registry
                    .by_team
                    .get(team)
                    .map(|streams| streams.keys().copied().collect())
                    .unwrap_or_default();
                registry.end_with_farewell(team, ids);
            }
            Notice::Departing {
                team,
                account,
                expiring_by,
            } => {
                if registry.holds(team, account) {
                    let departure = Departure {
                        team: team.clone(),
                        account: account.clone(),
                    };
                    let _ = self
                        .departures
                        .send(Movement::StillHere(departure, *expiring_by));
                }
            }
            Notice::SessionsEnded {
                account,
                session,
                keep,
            } => {
                for (team, id) in registry.of_account(account, |_, stream| {
                    session.is_none_or(|ended| stream.session == ended)
                        && keep.is_none_or(|kept| stream.session != kept)
                }) {
                    registry.remove(&team, id);
                }
            }
        }
    }

    /// Forgets a stream that closed, reporting a departure when it was its account's last
    /// stream of that organization here.
    fn closed(&self, team: &str, account: &str, id: u64) {
        let mut registry = self.registry();
        registry.remove(team, id);
        let still_here = registry.holds(team, account);
        drop(registry);
        if !still_here {
            // Unbounded, but bounded in practice: one small entry per closed stream, consumed
            // as they come by the presence task.
            let _ = self.departures.send(Movement::Left(Departure {
                team: team.to_owned(),
                account: account.to_owned(),
            }));
        }
    }
}

/// One open stream: the events for it, until the hub ends it. Dropping it (the client went
/// away) takes it out of the hub.
pub struct Subscription {
    hub: Arc<Hub>,
    team: String,
    account: String,
    id: u64,
    receiver: mpsc::Receiver<Arc<str>>,
}

impl Subscription {
    /// The next event's JSON; `None` when the hub ended the stream.
    pub async fn next(&mut self) -> Option<Arc<str>> {
        self.receiver.recv().await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.closed(&self.team, &self.account, self.id);
    }
}

impl futures_util::Stream for Subscription {
    type Item = Arc<str>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Arc<str>>> {
        self.get_mut().receiver.poll_recv(context)
    }
}

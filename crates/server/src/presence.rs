//! Presence across every server process on one database: how long a member's place lasts, and
//! the task each process runs to keep it (`POST /v1/organizations/{org}/collaborators`, in
//! `api::presence`, records it).
//!
//! A place lasts while its member keeps an event stream of the organization open somewhere.
//! The app posts its place only when it moves, never periodically, so the server keeps it
//! alive: every third of `--presence-ttl` (90 s) each process pushes forward the expiry of the
//! members whose streams it holds, and deletes the places that expired, in any organization,
//! announcing each as a `PresentUserLeave`. A member whose last stream of an organization
//! closes in a process leaves at once, after a short grace: the 10.x app recycles its stream
//! whenever it handles an event, and a leave then would take its avatar off every teammate's
//! screen until it moved again. Its place stays if, by the end of the grace, the member has a
//! stream here again or its place was refreshed or set anew: by another process holding a
//! stream (which refreshes on opening the member's first stream there, and on hearing the
//! departure announced, [`Notice::Departing`]), or by a new post. A post without any stream
//! expires after the TTL.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use hypnos_crypto::wire::events::Presence;
use tokio::{
    sync::mpsc,
    time::{Instant, MissedTickBehavior},
};

use crate::{
    config::ServerConfig,
    events::{Departure, Movement, Notice},
    state::{AppState, now_ms},
    storage::{AccountId, MAX_PRESENCE_ROWS, OrgId, PresentMember},
};

/// Sweeps of expired places one tick makes at most (each takes up to [`MAX_PRESENCE_ROWS`]).
const SWEEPS_PER_TICK: usize = 10;

/// The departures of this process's streams, until the presence task takes them.
pub type Departures = Arc<Mutex<Option<mpsc::UnboundedReceiver<Movement>>>>;

/// How long places last and how often they are kept, all from `--presence-ttl`.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    ttl: Duration,
}

impl Timing {
    /// The timing the configuration sets.
    pub fn of(config: &ServerConfig) -> Self {
        Self {
            ttl: config.presence_ttl,
        }
    }

    /// How long a place lasts unless refreshed, in milliseconds.
    pub fn ttl_ms(self) -> i64 {
        i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX)
    }

    /// The expiry of a place set or refreshed at `now_ms`.
    pub fn expiry(self, now_ms: i64) -> i64 {
        now_ms.saturating_add(self.ttl_ms())
    }

    /// How often places are refreshed and swept: a third of the TTL, so that a place survives
    /// one missed refresh.
    fn tick(self) -> Duration {
        self.ttl / 3
    }

    /// How long a departure waits for the member to come back (10 s at the default TTL).
    fn grace(self) -> Duration {
        self.ttl / 9
    }
}

/// The row the app shows for a present member: no avatar (the app shows the initials), no
/// branch (the app sends none and reads none), both names as strings.
pub fn row(member: &PresentMember) -> Presence {
    Presence {
        acct: member.entry.account_id.to_string(),
        avatar: String::new(),
        branch: String::new(),
        file: member.entry.workspace_id.clone(),
        first_name: member.first_name.clone(),
        last_name: member.last_name.clone(),
        project: member.entry.team_project_id.clone(),
        team: member.entry.organization_id.to_string(),
    }
}

/// `account` opened a stream of `team` here. On a database other processes share, its place
/// (if it has one) is refreshed now, in the background: the stream it replaces may have been
/// held by another process, whose departure must find the place kept. One process alone
/// (SQLite) sees its own streams come back and needs no write.
pub fn arrived(state: &AppState, team: &OrgId, account: &AccountId) {
    if !state.events.shared() {
        return;
    }
    let store = state.store.clone();
    let members = [(team.clone(), account.clone())];
    let expires_at = Timing::of(&state.config).expiry(now_ms());
    tokio::spawn(async move {
        if let Err(error) = store.refresh_presence(&members, expires_at).await {
            tracing::warn!(%error, "refreshing a returning member's presence failed");
        }
    });
}

/// The presence task of this process, run beside the server: refreshes the places of the
/// members whose streams it holds, sweeps expired places, and takes the places of members who
/// left (with the departures of `state`, if no other task took them already).
pub async fn keep(state: AppState) {
    let mut departures = state
        .departures
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    let timing = Timing::of(&state.config);
    let mut tick = tokio::time::interval(timing.tick());
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Departures in the order they came, each with the end of its grace and the latest expiry
    // its place may have to be taken (one set or refreshed later stays).
    let mut waiting: VecDeque<(Instant, Departure, i64)> = VecDeque::new();
    loop {
        let due = waiting.front().map(|(at, ..)| *at);
        tokio::select! {
            _ = tick.tick() => {
                refresh(&state, timing).await;
                sweep(&state).await;
            }
            movement = next(&mut departures) => match movement {
                Some(Movement::Left(departure)) => {
                    let grace_end = Instant::now() + timing.grace();
                    let expiring_by = timing.expiry(now_ms());
                    if state.events.shared() {
                        // Another process may still hold a stream of the member's: it
                        // refreshes the place well within the grace.
                        state.events.publish(Notice::Departing {
                            team: departure.team.clone(),
                            account: departure.account.clone(),
                            expiring_by,
                        });
                    }
                    waiting.push_back((grace_end, departure, expiring_by));
                }
                Some(Movement::StillHere(departure, expiring_by)) => {
                    still_here(&state, timing, &departure, expiring_by).await;
                }
                None => departures = None,
            },
            () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                if let Some((_, departure, expiring_by)) = waiting.pop_front() {
                    depart(&state, &departure, expiring_by).await;
                }
            }
        }
    }
}

/// The next movement; never, once there are none to come.
async fn next(departures: &mut Option<mpsc::UnboundedReceiver<Movement>>) -> Option<Movement> {
    match departures {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// Pushes forward the places of the members with a stream open here.
async fn refresh(state: &AppState, timing: Timing) {
    let members: Vec<(OrgId, AccountId)> = state
        .events
        .hub()
        .holders()
        .into_iter()
        .map(|(team, account)| (team.into(), account.into()))
        .collect();
    if members.is_empty() {
        return;
    }
    if let Err(error) = state
        .store
        .refresh_presence(&members, timing.expiry(now_ms()))
        .await
    {
        tracing::warn!(%error, "refreshing presence failed");
    }
}

/// Another process is about to take the place of a member whose stream this one holds:
/// refresh it now, to expire after the time that process takes it by.
async fn still_here(state: &AppState, timing: Timing, departure: &Departure, expiring_by: i64) {
    let members = [(
        OrgId::from(departure.team.as_str()),
        AccountId::from(departure.account.as_str()),
    )];
    let expires_at = timing.expiry(now_ms()).max(expiring_by.saturating_add(1));
    if let Err(error) = state.store.refresh_presence(&members, expires_at).await {
        tracing::warn!(%error, "refreshing a member's presence for another process failed");
    }
}

/// Takes the expired places of every organization and announces their leaves.
async fn sweep(state: &AppState) {
    for _ in 0..SWEEPS_PER_TICK {
        match state
            .store
            .take_expired_presence(now_ms(), MAX_PRESENCE_ROWS)
            .await
        {
            Ok(expired) => {
                state.events.presence_left(&expired);
                if expired.len() < MAX_PRESENCE_ROWS as usize {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "sweeping expired presence failed");
                return;
            }
        }
    }
}

/// A member's last stream of an organization closed here a grace ago: unless it has one here
/// again, its place goes (if nobody refreshed or set it since) and its leave is announced.
async fn depart(state: &AppState, departure: &Departure, expiring_by: i64) {
    if state
        .events
        .hub()
        .holds(&departure.team, &departure.account)
    {
        return;
    }
    let team = OrgId::from(departure.team.as_str());
    let account = AccountId::from(departure.account.as_str());
    match state
        .store
        .remove_presence(&team, &account, expiring_by)
        .await
    {
        Ok(Some(left)) => state.events.presence_left(&[left]),
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "removing a departed member's presence failed"),
    }
}

//! Delivery latency: pushes at a steady rate through one server process, events read on
//! streams held by another (two processes on one PostgreSQL database: the event crosses
//! LISTEN/NOTIFY), or by the same process.
//!
//! Each of `workers` pushers owns a branch of one project and pushes to it in a chain (each
//! snapshot's parent is the one before, an empty state: the push itself is what is measured,
//! not its blobs), one push every `workers / rate` seconds. The k-th `FileChanged` of a branch
//! on a stream is the k-th push of that branch (a branch has one push in flight at a time).
//! The push's commit happens somewhere between the request being sent and its answer arriving,
//! so delivery is given from both ends: from the answer (a lower bound: an event that overtakes
//! the answer counts as 0) and from the request being sent (an upper bound that includes the
//! push's own work).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hypnos_client::{Api, sync::remote::NewSnapshot, sync::state::State};
use hypnos_crypto::{sync::EMPTY_HASH, sync::snapshot_id, wire::events::Event};
use serde::Serialize;
use tokio::{sync::watch, task::JoinSet};

use crate::{LoadError, report::Latency, sync_bench::Seeded};

/// What the run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyReport {
    /// Pushes answered.
    pub pushes: usize,
    /// Pushes per second achieved.
    pub push_rate: f64,
    /// Listening streams.
    pub listeners: usize,
    /// Events received (every listener receives every push's event).
    pub events: usize,
    /// Events expected but not received by the end.
    pub missing: usize,
    /// From the push's answer to the event on a listener (a lower bound).
    pub delivery: Latency,
    /// From the push's request being sent to the event on a listener (an upper bound).
    pub delivery_from_sent: Latency,
    /// The pushes' own latency (request sent to answer).
    pub push: Latency,
}

/// When each push of a branch was sent and answered: branch → (sent, answer) in order.
type Answered = Arc<Mutex<HashMap<String, Vec<(Instant, Instant)>>>>;

/// Runs the benchmark: `seeded`'s project, pushes through `seeded.remote`, events read from
/// `listen` (the stream server) as `seeded.session`.
pub(crate) async fn run(
    seeded: &Seeded,
    org: &str,
    listen: &Api,
    (rate, seconds, workers, listeners): (f64, f64, usize, usize),
) -> Result<LatencyReport, LoadError> {
    let answered: Answered = Arc::default();
    let mut streams = Vec::with_capacity(listeners);
    for _ in 0..listeners {
        streams.push(listen.events(&seeded.session.id, org).await?);
    }
    // Each listener keeps its own arrivals: on one stream, a branch's events come in push order.
    let (stop, stopped) = watch::channel(false);
    let mut reading = JoinSet::new();
    for mut stream in streams {
        let project = seeded.project.clone();
        let mut stopped = stopped.clone();
        reading.spawn(async move {
            let mut arrivals: Vec<(String, Instant)> = Vec::new();
            loop {
                let event = tokio::select! {
                    _ = stopped.changed() => break,
                    event = stream.next_event() => event,
                };
                match event {
                    Some(Ok(Event::FileChanged(changed))) if changed.file == project => {
                        arrivals.push((changed.branch, Instant::now()));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                }
            }
            arrivals
        });
    }
    let interval = Duration::from_secs_f64(workers as f64 / rate);
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut pushing = JoinSet::new();
    for worker in 0..workers {
        let remote = seeded.remote.clone();
        let project = seeded.project.clone();
        let answered = answered.clone();
        pushing.spawn(async move {
            let branch = format!("bench-{worker}");
            let mut parent = EMPTY_HASH.to_owned();
            let mut took = Vec::new();
            let mut tick = tokio::time::interval(interval);
            let empty = State::default();
            while Instant::now() < until {
                tick.tick().await;
                let id = snapshot_id(&project, &parent, &[] as &[&str]);
                let sent = Instant::now();
                remote
                    .push_snapshot(
                        &project,
                        &branch,
                        &NewSnapshot {
                            id: &id,
                            parent: &parent,
                            message: "bench",
                            state: &empty,
                        },
                    )
                    .await?;
                let answer = Instant::now();
                took.push(answer - sent);
                answered
                    .lock()
                    .expect("the map is not poisoned")
                    .entry(branch.clone())
                    .or_default()
                    .push((sent, answer));
                parent = id;
            }
            Ok::<_, LoadError>(took)
        });
    }
    let mut push_latencies = Vec::new();
    while let Some(done) = pushing.join_next().await {
        push_latencies.extend(done.map_err(|err| LoadError::Setup(err.to_string()))??);
    }
    let push_rate = push_latencies.len() as f64 / started.elapsed().as_secs_f64();
    // The last events are on their way; then the listeners stop.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let answered = answered.lock().expect("the map is not poisoned").clone();
    let _ = stop.send(true);
    let mut delivered = Vec::new();
    let mut delivered_from_sent = Vec::new();
    let mut events = 0;
    while let Some(listened) = reading.join_next().await {
        let Ok(arrivals) = listened else { continue };
        events += arrivals.len();
        let mut occurrence: HashMap<&str, usize> = HashMap::new();
        for (branch, at) in &arrivals {
            let index = occurrence.entry(branch).or_default();
            if let Some((sent, answer)) = answered.get(branch).and_then(|times| times.get(*index)) {
                delivered.push(at.saturating_duration_since(*answer));
                delivered_from_sent.push(at.saturating_duration_since(*sent));
            }
            *index += 1;
        }
    }
    let expected = push_latencies.len() * listeners;
    Ok(LatencyReport {
        pushes: push_latencies.len(),
        push_rate,
        listeners,
        events,
        missing: expected.saturating_sub(events),
        delivery: Latency::of(delivered),
        delivery_from_sent: Latency::of(delivered_from_sent),
        push: Latency::of(push_latencies),
    })
}

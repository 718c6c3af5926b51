//! The honest client's loop: what it asks, over and over, while the attacker works.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use hypnos_crypto::wire::sync::{BLOBS, BLOBS_PER_QUERY, BRANCH};
use serde_json::{Value, json};

use super::record::{HonestLog, error_label};

/// The honest client's loop: whoami, the branch, a download batch of blobs, until `stop`. Each
/// request is made here rather than through `hypnos-client`, so that each is timed alone and a
/// failure is counted by what happened.
pub(super) async fn honest_loop(
    http: reqwest::Client,
    base: String,
    session: String,
    project: String,
    blob_ids: Vec<String>,
    log: HonestLog,
    stop: Arc<AtomicBool>,
) {
    let graphql = format!("{base}/graphql");
    let mut round = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let start = (round * BLOBS_PER_QUERY) % blob_ids.len().max(1);
        let ids: Vec<&String> = blob_ids
            .iter()
            .cycle()
            .skip(start)
            .take(BLOBS_PER_QUERY)
            .collect();
        let requests = [
            http.get(format!("{base}/auth/whoami")),
            http.post(&graphql).json(&json!({
                "query": BRANCH,
                "variables": {"project": project, "name": "master"},
            })),
            http.post(&graphql).json(&json!({
                "query": BLOBS,
                "variables": {"ids": ids, "project": project},
            })),
        ];
        for request in requests {
            let sent = Instant::now();
            match request.header("X-Session-Id", &session).send().await {
                Ok(response) if response.status().is_success() => {
                    match response.json::<Value>().await {
                        Ok(body) if body.get("errors").is_none() => log.ok(sent.elapsed()),
                        Ok(_) => log.failures.add("GraphQL error"),
                        Err(error) => log.failures.add(error_label(&error)),
                    }
                }
                Ok(response) => log.failures.add(response.status().as_u16().to_string()),
                Err(error) => log.failures.add(error_label(&error)),
            }
        }
        round += 1;
    }
}

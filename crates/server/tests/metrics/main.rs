//! `/metrics` over real HTTP, on SQLite and on PostgreSQL: the traffic of a team (sign-up,
//! log-ins good and bad, a rate-limited one, a push, an event stream, failures of the
//! database) moves exactly the series it should (`counters`); the text passes `promtool check
//! metrics` and a real Prometheus scrapes it (`prometheus`); the example Grafana dashboard
//! names only metrics the server serves (`dashboard`).
#![allow(clippy::unwrap_used, reason = "tests may panic")]

#[path = "../common/mod.rs"]
mod common;

mod counters;
mod dashboard;
mod prometheus;

use std::collections::BTreeSet;

use common::app::TestApp;

/// Serves `/metrics` of `app`'s server on a listener of its own (port 0: tests run in
/// parallel), as `hypnos server` does on `--metrics-listen`; its URL.
fn metrics_listener(app: &TestApp) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(hypnos_server::metrics::serve(
        app.server.state.clone(),
        listener,
        std::future::pending(),
    ));
    format!("http://{address}/metrics")
}

/// One scrape: the body of `GET url`, which must be a 200 of the text format.
async fn scrape(url: &str) -> Scrape {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        hypnos_server::metrics::CONTENT_TYPE
    );
    Scrape(response.text().await.unwrap())
}

/// A scraped body, read sample by sample.
struct Scrape(String);

/// One sample: its metric name, its labels in order, its value.
struct Sample<'a> {
    name: &'a str,
    labels: Vec<(&'a str, &'a str)>,
    value: f64,
}

impl Scrape {
    /// Every sample (label values hold no `"`, `,` or `\` in our metrics).
    fn samples(&self) -> Vec<Sample<'_>> {
        self.0
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').unwrap();
                let (name, labels) = match series.split_once('{') {
                    Some((name, labels)) => (name, labels.trim_end_matches('}')),
                    None => (series, ""),
                };
                let labels = labels
                    .split(',')
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (key, value) = pair.split_once('=').unwrap();
                        (key, value.trim_matches('"'))
                    })
                    .collect();
                Sample {
                    name,
                    labels,
                    value: value.parse().unwrap(),
                }
            })
            .collect()
    }

    /// The value of the one series `name` with (at least) these labels; 0 when there is none
    /// (a series appears at its first count).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<f64> = self
            .samples()
            .into_iter()
            .filter(|sample| {
                sample.name == name && labels.iter().all(|pair| sample.labels.contains(pair))
            })
            .map(|sample| sample.value)
            .collect();
        assert!(found.len() <= 1, "one series {name}{labels:?}: {found:?}");
        found.first().copied().unwrap_or(0.0)
    }

    /// The label sets of every series of `name`.
    fn series(&self, name: &str) -> Vec<Vec<(String, String)>> {
        self.samples()
            .into_iter()
            .filter(|sample| sample.name == name)
            .map(|sample| {
                sample
                    .labels
                    .iter()
                    .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                    .collect()
            })
            .collect()
    }

    /// The metric names with samples.
    fn names(&self) -> BTreeSet<String> {
        self.samples()
            .into_iter()
            .map(|sample| sample.name.to_owned())
            .collect()
    }
}

use counters::{
    database_failures_are_counted, labels_stay_bounded_whatever_the_path,
    traffic_moves_exactly_its_counters,
};
use dashboard::the_dashboard_names_only_served_metrics;
use prometheus::{a_real_prometheus_scrapes_the_server, promtool_passes_the_scrape};

common::on_both_backends!(
    traffic_moves_exactly_its_counters,
    database_failures_are_counted,
    labels_stay_bounded_whatever_the_path,
    promtool_passes_the_scrape,
    a_real_prometheus_scrapes_the_server,
    the_dashboard_names_only_served_metrics,
);

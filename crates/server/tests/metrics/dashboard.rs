//! The example Grafana dashboard (`contrib/grafana/hypnos.json`) cannot drift from the server:
//! every metric its queries name is served.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{metrics_listener, scrape};
use crate::common::{TestDb, app::TestApp};

/// The dashboard's JSON.
pub(super) fn dashboard() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../contrib/grafana/hypnos.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every `expr` (a panel target's PromQL) in `value`, however deep.
pub(super) fn expressions(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                match field {
                    Value::String(expr) if key == "expr" => found.push(expr.clone()),
                    other => expressions(other, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| expressions(item, found)),
        _ => {}
    }
}

/// The metric names (`hypnos_…`) an expression names.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(start) = rest.find("hypnos_") {
        let name: String = rest[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[start + name.len()..];
        names.insert(name);
    }
    names
}

/// After some traffic (so that the per-route series exist), each name the dashboard uses is
/// in the scrape; and the dashboard uses each kind of metric the issue asks to watch.
pub async fn the_dashboard_names_only_served_metrics(db: TestDb) {
    let app = TestApp::start(&db).await;
    let metrics = metrics_listener(&app);
    let alice = app.actor("alice").await;
    alice.get("/auth/whoami").await;
    let served = scrape(&metrics).await.names();
    let mut exprs = Vec::new();
    expressions(&dashboard(), &mut exprs);
    assert!(exprs.len() >= 8, "the dashboard has its panels: {exprs:?}");
    let used: BTreeSet<String> = exprs.iter().flat_map(|expr| metric_names(expr)).collect();
    let missing: Vec<&String> = used.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "the dashboard names {missing:?}, not served"
    );
    for watched in [
        "hypnos_http_requests_total",
        "hypnos_http_request_duration_seconds_bucket",
        "hypnos_logins_total",
        "hypnos_event_streams_open",
        "hypnos_db_pool_connections",
        "hypnos_blob_bytes_stored_total",
    ] {
        assert!(used.contains(watched), "the dashboard watches {watched}");
    }
}

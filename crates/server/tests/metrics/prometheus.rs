//! The text as Prometheus' own tools read it: `promtool check metrics` lints the scrape clean,
//! and a real `prometheus` (Debian's, started here with a configuration and a data directory
//! of its own, on a free port) scrapes the running server.

use std::{
    io::Write,
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

use super::{metrics_listener, scrape};
use crate::common::{TestDb, app::TestApp};

/// Some traffic, so that the request series exist, then `promtool check metrics` over the
/// scrape: no problem reported.
pub async fn promtool_passes_the_scrape(db: TestDb) {
    let app = TestApp::start(&db).await;
    let metrics = metrics_listener(&app);
    let alice = app.actor("alice").await;
    alice.get("/auth/whoami").await;
    app.http.get(app.url("/nothing")).send().await.unwrap();
    let body = scrape(&metrics).await.0;
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (Debian's `prometheus` package; .ci/run installs it)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}{}\n{body}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr),
    );
}

/// A `prometheus` process of this test's, killed (and waited for) when the test ends, however
/// it ends.
struct Prometheus {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `target` (`host:port`) every second, on a free port.
    fn start(target: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: hypnos\n    static_configs:\n      \
                 - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus runs (Debian's `prometheus` package; .ci/run installs it)");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// The result vector of the instant query `query`, empty while Prometheus is starting.
    async fn query(&self, query: &str) -> Vec<Value> {
        let answer = self.answer(query).await;
        answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Prometheus' whole answer to the instant query `query` (`Null` while it is starting).
    async fn answer(&self, query: &str) -> Value {
        let encoded: String = query
            .bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' => {
                    char::from(byte).to_string()
                }
                other => format!("%{other:02X}"),
            })
            .collect();
        let answer = reqwest::get(format!("{}/api/v1/query?query={encoded}", self.base)).await;
        let Ok(answer) = answer else {
            return Value::Null;
        };
        answer.json::<Value>().await.unwrap_or(Value::Null)
    }

    /// The result of `query` once it is not empty (Prometheus starts, then scrapes).
    async fn query_until_found(&self, query: &str) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let found = self.query(query).await;
            if !found.is_empty() {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus answers {query}: {}",
                std::fs::read_to_string(self._dir.path().join("prometheus.log"))
                    .unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Prometheus scrapes the server: the target is up, and a hypnos series is stored.
pub async fn a_real_prometheus_scrapes_the_server(db: TestDb) {
    let app = TestApp::start(&db).await;
    let metrics = metrics_listener(&app);
    app.actor("alice").await;
    let target = metrics
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .to_owned();
    let prometheus = Prometheus::start(&target);
    let up = prometheus
        .query_until_found("up{job=\"hypnos\"} == 1")
        .await;
    assert_eq!(up[0]["metric"]["instance"], target.as_str(), "{up:?}");
    let logins = prometheus
        .query_until_found("hypnos_logins_total{job=\"hypnos\",outcome=\"succeeded\"}")
        .await;
    assert_eq!(logins[0]["value"][1], "1", "alice's log-in: {logins:?}");
    // Every query of the example dashboard is PromQL this Prometheus runs (Grafana's own
    // variables replaced as Grafana would).
    let mut exprs = Vec::new();
    super::dashboard::expressions(&super::dashboard::dashboard(), &mut exprs);
    for expr in exprs {
        let query = expr
            .replace("$__rate_interval", "1m")
            .replace("$instance", ".*");
        let answer = prometheus.answer(&query).await;
        assert_eq!(answer["status"], "success", "{query}: {answer}");
    }
}

//! What `hypnos-hostile` measured, per phase and for the whole run, and how it prints it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::report::Latency;

/// What one phase measured.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    /// The phase's name.
    pub phase: &'static str,
    /// Latency of the honest client's requests that were answered with success.
    pub honest: Latency,
    /// How many honest requests succeeded.
    pub honest_ok: usize,
    /// Honest requests that failed, by what happened.
    pub honest_failures: BTreeMap<String, usize>,
    /// Whether the honest log-in of this phase (baseline and lock-out only) succeeded.
    pub honest_login: Option<bool>,
    /// What the attacker's requests got, by HTTP status or error kind.
    pub attacker: BTreeMap<String, usize>,
    /// The server's peak resident memory during the phase, in MiB above its idle level.
    pub server_rss_above_idle_mib: Option<f64>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The server's resident memory before the first phase, in MiB.
    pub server_idle_rss_mib: Option<f64>,
    /// Every phase.
    pub phases: Vec<PhaseReport>,
    /// Whether `/readyz` still answered 200 at the end.
    pub server_up_at_end: bool,
}

impl Report {
    /// The slowest successful honest request over all phases, in milliseconds.
    pub fn worst_honest_ms(&self) -> f64 {
        self.phases
            .iter()
            .map(|phase| phase.honest.max_ms)
            .fold(0.0, f64::max)
    }

    /// What broke the promises (empty when none did): the server down at the end, an honest
    /// request that failed or took 2 s or more, a failed honest log-in, memory that grew by
    /// 256 MiB or more.
    pub fn broken_promises(&self) -> Vec<String> {
        let mut broken = Vec::new();
        if !self.server_up_at_end {
            broken.push("the server was not ready at the end".to_owned());
        }
        for phase in &self.phases {
            let name = phase.phase;
            if !phase.honest_failures.is_empty() {
                broken.push(format!(
                    "{name}: honest requests failed: {:?}",
                    phase.honest_failures
                ));
            }
            if phase.honest.max_ms >= 2000.0 {
                broken.push(format!(
                    "{name}: an honest request took {:.0} ms",
                    phase.honest.max_ms
                ));
            }
            if phase.honest_login == Some(false) {
                broken.push(format!("{name}: the honest log-in failed"));
            }
            if phase
                .server_rss_above_idle_mib
                .is_some_and(|mib| mib >= 256.0)
            {
                broken.push(format!(
                    "{name}: the server's memory grew by {:.0} MiB",
                    phase.server_rss_above_idle_mib.unwrap_or_default()
                ));
            }
        }
        broken
    }

    /// The largest memory growth over all phases, in MiB.
    pub fn worst_rss_growth_mib(&self) -> Option<f64> {
        self.phases
            .iter()
            .filter_map(|phase| phase.server_rss_above_idle_mib)
            .reduce(f64::max)
    }
}

/// The report as the tool prints it.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let mib = |value: Option<f64>| value.map_or("not measured".into(), |v| format!("{v:.1} MiB"));
    out.push_str(&format!(
        "hypnos-hostile: server idle RSS {}\n",
        mib(report.server_idle_rss_mib)
    ));
    for phase in &report.phases {
        out.push_str(&format!(
            "  {:<13} honest: {} ok, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; failures {:?}{}\n                RSS above idle {}; attacker got {:?}\n",
            phase.phase,
            phase.honest_ok,
            phase.honest.p50_ms,
            phase.honest.p99_ms,
            phase.honest.max_ms,
            phase.honest_failures,
            phase
                .honest_login
                .map_or(String::new(), |ok| format!("; log-in {}", if ok { "ok" } else { "FAILED" })),
            mib(phase.server_rss_above_idle_mib),
            phase.attacker,
        ));
    }
    out.push_str(&format!(
        "  worst honest request {:.1} ms; worst RSS growth {}; server up at the end: {}\n",
        report.worst_honest_ms(),
        mib(report.worst_rss_growth_mib()),
        report.server_up_at_end
    ));
    out
}

//! The numbers a run produces and how they are printed: throughput, latency percentiles
//! (nearest rank over every successful log-in and every request of those, no sampling),
//! failures and CPU time.

use std::{collections::BTreeMap, fmt, time::Duration};

use serde::Serialize;

/// The `p`-th percentile (0–100) of `sorted` by the nearest-rank method: the smallest value
/// with at least `p`% of the values at or below it. `None` for no values.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p.clamp(0.0, 100.0) / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A latency distribution, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// Arithmetic mean.
    pub mean_ms: f64,
}

impl Latency {
    /// Summarizes the latencies (sorting them).
    pub fn of(mut latencies: Vec<Duration>) -> Self {
        latencies.sort_unstable();
        let at = |p| percentile(&latencies, p).map_or(0.0, ms);
        let mean = if latencies.is_empty() {
            0.0
        } else {
            ms(latencies.iter().sum::<Duration>()) / latencies.len() as f64
        };
        Self {
            p50_ms: at(50.0),
            p90_ms: at(90.0),
            p99_ms: at(99.0),
            max_ms: at(100.0),
            mean_ms: mean,
        }
    }
}

/// CPU time a process (or a group of processes) spent during the measured window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessCpu {
    /// The process id, or the command name of a group of processes.
    pub process: String,
    /// `utime + stime` ticks during the window.
    pub ticks: u64,
    /// The same in seconds.
    pub seconds: f64,
    /// CPU milliseconds per successful log-in.
    pub ms_per_login: f64,
    /// Average cores kept busy (CPU seconds / window seconds).
    pub cores: f64,
}

impl ProcessCpu {
    /// From a tick difference, the clock rate, the window and the number of log-ins.
    pub fn new(
        process: impl Into<String>,
        ticks: u64,
        ticks_per_second: u64,
        window: Duration,
        logins: u64,
    ) -> Self {
        let seconds = ticks as f64 / ticks_per_second.max(1) as f64;
        Self {
            process: process.into(),
            ticks,
            seconds,
            ms_per_login: if logins == 0 {
                0.0
            } else {
                seconds * 1000.0 / logins as f64
            },
            cores: seconds / window.as_secs_f64().max(f64::MIN_POSITIVE),
        }
    }
}

/// Everything a run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The server's base URL.
    pub server: String,
    /// Accounts signed up for the run.
    pub accounts: usize,
    /// Concurrent workers.
    pub concurrency: usize,
    /// Log-ins per second offered on a fixed schedule (`--rate`); `None` for a closed loop.
    pub offered_rate: Option<f64>,
    /// Seconds spent making and signing up the accounts (not measured further).
    pub setup_seconds: f64,
    /// Requested window, in seconds.
    pub duration_seconds: f64,
    /// The window as it was: until the last log-in in flight at its end finished.
    pub window_seconds: f64,
    /// Successful, complete log-ins in the window.
    pub logins: u64,
    /// `logins / window_seconds`.
    pub logins_per_second: f64,
    /// Latency of the successful log-ins, each whole: four requests and the client's SRP work.
    pub latency: Latency,
    /// Latency of every request of the successful log-ins, all steps together.
    pub request_latency: Latency,
    /// The same per step, by endpoint name.
    pub step_latency: BTreeMap<String, Latency>,
    /// Log-ins that did not complete.
    pub failures: u64,
    /// Failures by HTTP status (or kind) and step, e.g. `HTTP 429 at login-a`.
    pub failures_by_kind: BTreeMap<String, u64>,
    /// The server's CPU, when its process id was given.
    pub server_cpu: Option<ProcessCpu>,
    /// This tool's own CPU (it shares the machine with the server).
    pub client_cpu: Option<ProcessCpu>,
    /// The processes named by `--database-process`, together.
    pub database_cpu: Option<ProcessCpu>,
    /// Share of the whole machine's CPU time that was busy during the window (0–1).
    pub machine_busy: Option<f64>,
}

impl Report {
    /// `logins / window`, 0 for an empty window.
    pub fn rate(logins: u64, window: Duration) -> f64 {
        let seconds = window.as_secs_f64();
        if seconds > 0.0 {
            logins as f64 / seconds
        } else {
            0.0
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "hypnos-load: {} — {} accounts, {} concurrent, window {:.1} s (asked {:.0} s); setup {:.1} s",
            self.server,
            self.accounts,
            self.concurrency,
            self.window_seconds,
            self.duration_seconds,
            self.setup_seconds
        )?;
        writeln!(
            f,
            "  log-ins:    {} complete, {:.1}/s{}",
            self.logins,
            self.logins_per_second,
            match self.offered_rate {
                Some(rate) => format!(" ({rate:.0}/s offered; latency from each scheduled start)"),
                None => " (closed loop)".into(),
            }
        )?;
        let line = |f: &mut fmt::Formatter<'_>, label: &str, l: &Latency| {
            writeln!(
                f,
                "  {label:<11} p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  (mean {:.2})",
                l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms, l.mean_ms
            )
        };
        writeln!(f, "  latency ms, whole log-ins and their requests:")?;
        line(f, "log-in", &self.latency)?;
        line(f, "request", &self.request_latency)?;
        for (step, latency) in &self.step_latency {
            line(f, step, latency)?;
        }
        writeln!(f, "  failures:   {}", self.failures)?;
        for (kind, count) in &self.failures_by_kind {
            writeln!(f, "    {count:>8}  {kind}")?;
        }
        for (who, cpu) in [
            ("server", &self.server_cpu),
            ("client", &self.client_cpu),
            ("database", &self.database_cpu),
        ] {
            if let Some(cpu) = cpu {
                writeln!(
                    f,
                    "  {who:<8} CPU: {:.3} ms per log-in ({:.2} s CPU, {:.2} cores; {})",
                    cpu.ms_per_login, cpu.seconds, cpu.cores, cpu.process
                )?;
            }
        }
        if let Some(busy) = self.machine_busy {
            writeln!(f, "  machine:    {:.0}% of all cores busy", busy * 100.0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let sorted = millis(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&sorted, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&sorted, 90.0), Some(Duration::from_millis(90)));
        assert_eq!(percentile(&sorted, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&sorted, 100.0), Some(Duration::from_millis(100)));
        assert_eq!(percentile(&sorted, 0.0), Some(Duration::from_millis(1)));
        assert_eq!(percentile(&[], 50.0), None);
        let few = millis(&[10, 20, 30]);
        assert_eq!(percentile(&few, 50.0), Some(Duration::from_millis(20)));
        assert_eq!(percentile(&few, 99.0), Some(Duration::from_millis(30)));
    }

    #[test]
    fn latency_summary_sorts_and_averages() {
        let latency = Latency::of(millis(&[40, 10, 30, 20]));
        assert_eq!(latency.p50_ms, 20.0);
        assert_eq!(latency.p99_ms, 40.0);
        assert_eq!(latency.max_ms, 40.0);
        assert_eq!(latency.mean_ms, 25.0);
        assert_eq!(Latency::of(Vec::new()), Latency::default());
    }

    #[test]
    fn rates_and_cpu_per_login() {
        assert_eq!(Report::rate(1200, Duration::from_secs(20)), 60.0);
        assert_eq!(Report::rate(5, Duration::ZERO), 0.0);
        // 300 ticks at 100/s = 3 s of CPU over 1,000 log-ins in 2 s: 3 ms each, 1.5 cores.
        let cpu = ProcessCpu::new("7", 300, 100, Duration::from_secs(2), 1000);
        assert_eq!(cpu.seconds, 3.0);
        assert!((cpu.ms_per_login - 3.0).abs() < 1e-12);
        assert!((cpu.cores - 1.5).abs() < 1e-12);
        assert_eq!(
            ProcessCpu::new("7", 300, 100, Duration::from_secs(2), 0).ms_per_login,
            0.0
        );
    }
}

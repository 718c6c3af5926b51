//! What the tool records while a phase runs: outcomes counted by label, the honest client's
//! latencies and failures, and the server's resident memory.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

/// Samples a process's resident memory; the peak since the last reset.
pub(super) struct RssSampler {
    peak_kib: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

pub(super) fn rss_kib(pid: u32) -> Option<usize> {
    usize::try_from(crate::cpu::status_kib(pid, "VmRSS")?).ok()
}

impl RssSampler {
    pub(super) fn start(pid: u32) -> Self {
        let peak_kib = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (peak, stopped) = (peak_kib.clone(), stop.clone());
        tokio::spawn(async move {
            while !stopped.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        Self { peak_kib, stop }
    }

    pub(super) fn take_peak(&self) -> usize {
        self.peak_kib.swap(0, Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Counts outcomes by label.
#[derive(Clone, Default)]
pub(super) struct Tally(Arc<Mutex<BTreeMap<String, usize>>>);

impl Tally {
    pub(super) fn add(&self, label: impl Into<String>) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *map.entry(label.into()).or_default() += 1;
    }

    pub(super) fn take(&self) -> BTreeMap<String, usize> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

pub(super) fn error_label(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timeout".into()
    } else if error.is_connect() {
        "connect error".into()
    } else {
        "connection error".into()
    }
}

/// The honest client's measurements of the running phase.
#[derive(Clone, Default)]
pub(super) struct HonestLog {
    latencies: Arc<Mutex<Vec<Duration>>>,
    pub(super) failures: Tally,
}

impl HonestLog {
    pub(super) fn ok(&self, took: Duration) {
        self.latencies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(took);
    }

    pub(super) fn take(&self) -> (Vec<Duration>, BTreeMap<String, usize>) {
        let latencies = std::mem::take(
            &mut *self
                .latencies
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        (latencies, self.failures.take())
    }
}

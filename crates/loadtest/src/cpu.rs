//! Counters from `/proc`: a process's user + system time, and the whole machine's busy time, in
//! clock ticks (`getconf CLK_TCK`, normally 100 per second); and a process's memory.

use std::{collections::BTreeMap, process::Command};

use crate::LoadError;

/// A process's `utime + stime` from `/proc/PID/stat`, in clock ticks.
pub fn process_ticks(pid: u32) -> Result<u64, LoadError> {
    stat_ticks(&format!("/proc/{pid}/stat"))
}

/// This process's own `utime + stime`, in clock ticks.
pub fn own_ticks() -> Result<u64, LoadError> {
    stat_ticks("/proc/self/stat")
}

fn stat_ticks(path: &str) -> Result<u64, LoadError> {
    let text =
        std::fs::read_to_string(path).map_err(|err| LoadError::Proc(format!("{path}: {err}")))?;
    parse_process_stat(&text).ok_or_else(|| LoadError::Proc(format!("{path}: unexpected format")))
}

/// `utime + stime` (fields 14 and 15) of a `/proc/PID/stat` line. The command name (field 2) is
/// in parentheses and may hold spaces and parentheses, so fields are counted after the last `)`.
pub fn parse_process_stat(text: &str) -> Option<u64> {
    let after_name = &text[text.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // After the name come field 3 (state) … field 13; utime and stime are the 12th and 13th.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// `utime + stime` of every process whose command name (`/proc/PID/comm`) is `name`, by
/// process id. Processes that vanish while being read are skipped.
pub fn ticks_by_name(name: &str) -> Result<BTreeMap<u32, u64>, LoadError> {
    let entries =
        std::fs::read_dir("/proc").map_err(|err| LoadError::Proc(format!("/proc: {err}")))?;
    let mut ticks = BTreeMap::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let matches = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|comm| comm.trim_end() == name);
        if matches && let Ok(value) = process_ticks(pid) {
            ticks.insert(pid, value);
        }
    }
    Ok(ticks)
}

/// Ticks spent between two [`ticks_by_name`] readings: processes that started in between count
/// from zero; those that ended in between are lost (their time is not in `/proc` any more).
pub fn ticks_between(before: &BTreeMap<u32, u64>, after: &BTreeMap<u32, u64>) -> u64 {
    after
        .iter()
        .map(|(pid, &ticks)| ticks.saturating_sub(before.get(pid).copied().unwrap_or(0)))
        .sum()
}

/// The machine's CPU time from the `cpu` line of `/proc/stat`: (busy, total) in clock ticks,
/// summed over all cores. Busy is everything but idle and iowait.
pub fn machine_ticks() -> Result<(u64, u64), LoadError> {
    let text = std::fs::read_to_string("/proc/stat")
        .map_err(|err| LoadError::Proc(format!("/proc/stat: {err}")))?;
    parse_machine_stat(&text).ok_or_else(|| LoadError::Proc("/proc/stat: unexpected format".into()))
}

/// (busy, total) from the first line of `/proc/stat`: `cpu user nice system idle iowait irq
/// softirq steal [guest guest_nice]`. Guest time is already counted in user time, so it is left
/// out of the total.
pub fn parse_machine_stat(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|line| line.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    if values.len() < 5 {
        return None;
    }
    let total: u64 = values.iter().sum();
    let idle = values[3] + values[4];
    Some((total - idle, total))
}

/// Clock ticks per second, from `getconf CLK_TCK`; 100 (Linux's value on every common
/// architecture) if that cannot be run.
pub fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|&ticks: &u64| ticks > 0)
        .unwrap_or(100)
}

/// A memory figure of `/proc/PID/status` in KiB: `VmRSS` (resident now) or `VmHWM` (its peak).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| {
        line.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_after_a_name_with_spaces() {
        let line = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 2000 0 0 0 \
                    1234 567 0 0 20 0 3 0 100 1000000 500 18446744073709551615";
        assert_eq!(parse_process_stat(line), Some(1234 + 567));
        assert_eq!(parse_process_stat("garbage"), None);
    }

    #[test]
    fn group_ticks_count_new_processes_from_zero() {
        let before = BTreeMap::from([(1, 100), (2, 50)]);
        let after = BTreeMap::from([(1, 130), (3, 7)]);
        assert_eq!(ticks_between(&before, &after), 30 + 7);
    }

    #[test]
    fn machine_busy_leaves_out_idle_iowait_and_guest() {
        let text = "cpu  100 5 50 800 20 3 2 0 7 0\ncpu0 50 2 25 400 10 1 1 0 3 0\n";
        assert_eq!(parse_machine_stat(text), Some((160, 980)));
    }
}

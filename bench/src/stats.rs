//! Latency histograms (HDR: percentiles within 0.1 %, shared by thousands of receiving
//! tasks) and process facts read from /proc (RSS, CPU time).

use std::{
    sync::Mutex,
    time::{SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

/// Three significant digits: any value is kept within 0.1 %.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A histogram of microsecond values. `record` takes a lock held for a few nanoseconds:
/// the receiving tasks run on the load generator's two threads, so it is barely contended.
pub struct Histogram(Mutex<hdrhistogram::Histogram<u64>>);

impl Default for Histogram {
    fn default() -> Self {
        // Up to an hour: a value beyond is kept as an hour (`saturating_record`).
        let histogram =
            hdrhistogram::Histogram::new_with_bounds(1, 3_600_000_000, SIGNIFICANT_DIGITS)
                .expect("valid bounds");
        Self(Mutex::new(histogram))
    }
}

impl Histogram {
    pub fn record(&self, us: u64) {
        self.lock().saturating_record(us);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, hdrhistogram::Histogram<u64>> {
        // A panicking recorder leaves counts that are still counts.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Percentiles so far, and starts over.
    pub fn take(&self) -> Latency {
        let mut histogram = self.lock();
        let ms = |us: u64| round3(us as f64 / 1000.0);
        let latency = Latency {
            count: histogram.len(),
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
        };
        histogram.reset();
        latency
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Wall-clock microseconds: comparable across the load generator's processes.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Resident set size of a process, in KiB (`VmRSS` in /proc/PID/status).
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_field(pid, "VmRSS:")
}

/// A number of /proc/PID/status, by its label.
fn status_field(pid: u32, label: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(label))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU seconds a process has used (/proc/PID/stat, 100 ticks a second
/// on Linux x86-64).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start at state (field 3).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The machine's CPU ticks so far, all and idle (/proc/stat's first line).
pub fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // idle + iowait are the idle ticks.
    let idle = ticks.get(3)? + ticks.get(4).unwrap_or(&0);
    Some((ticks.iter().sum(), idle))
}

/// How busy the cores were between two `machine_ticks`, in % of all of them.
pub fn busy_percent(before: Option<(u64, u64)>, after: Option<(u64, u64)>) -> f64 {
    match (before, after) {
        (Some((t0, i0)), Some((t1, i1))) if t1 > t0 => {
            round3(100.0 * (1.0 - (i1 - i0) as f64 / (t1 - t0) as f64))
        }
        _ => 0.0,
    }
}

/// Open file descriptors of a process (entries of /proc/PID/fd).
pub fn open_fds(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// Threads of a process (`Threads` in /proc/PID/status).
pub fn threads(pid: u32) -> Option<u64> {
    status_field(pid, "Threads:")
}

/// Waits (at most `limit`) until the server is nearly idle — under 5 % of a core over
/// half a second — so a scenario does not start while the connect burst (greetings,
/// presence announcements) is still being delivered. Without a pid, waits one second.
pub async fn settle(pid: Option<u32>, limit: std::time::Duration) {
    let Some(pid) = pid else {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        return;
    };
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        let before = cpu_seconds(pid).unwrap_or(0.0);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        if cpu_seconds(pid).unwrap_or(0.0) - before < 0.025 {
            return;
        }
    }
}

/// Waits until `count()` reaches `expected`, or stops moving for `quiet`, or `limit`
/// passes (checking every 50 ms); returns its last value.
pub async fn wait_for_count(
    count: impl Fn() -> u64,
    expected: u64,
    quiet: std::time::Duration,
    limit: std::time::Duration,
) -> u64 {
    let deadline = std::time::Instant::now() + limit;
    let (mut last, mut still) = (count(), std::time::Instant::now());
    while last < expected && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let now = count();
        if now != last {
            (last, still) = (now, std::time::Instant::now());
        } else if still.elapsed() > quiet {
            break;
        }
    }
    count()
}

/// Least-squares slope of y over x.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (num, den) = points.iter().fold((0.0, 0.0), |(num, den), (x, y)| {
        (num + (x - mx) * (y - my), den + (x - mx) * (x - mx))
    });
    if den == 0.0 { 0.0 } else { num / den }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_a_thousandth() {
        let h = Histogram::default();
        for us in 1..=10_000 {
            h.record(us);
        }
        let l = h.take();
        assert_eq!(l.count, 10_000);
        assert!((l.p50_ms - 5.0).abs() <= 0.005, "{l:?}");
        assert!((l.p99_ms - 9.9).abs() <= 0.0099, "{l:?}");
        assert!((l.max_ms - 10.0).abs() <= 0.01, "{l:?}");
        assert_eq!(h.take().count, 0);
    }

    #[test]
    fn p99s_one_percent_apart_stay_apart() {
        let p99 = |us: u64| {
            let h = Histogram::default();
            (0..100).for_each(|_| h.record(us));
            h.take().p99_ms
        };
        assert!(p99(96_260) < p99(97_220), "{} {}", p99(96_260), p99(97_220));
    }

    #[test]
    fn slope_of_a_line() {
        let points: Vec<_> = (0..10).map(|x| (x as f64, 3.0 * x as f64 + 7.0)).collect();
        assert!((slope(&points) - 3.0).abs() < 1e-9);
    }
}

//! Latency histograms (lock-free, shared by thousands of receiving tasks) and process
//! facts read from /proc (RSS, CPU time): no extra dependency for either.

use std::{
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::{SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

/// 16 sub-buckets per power of two: values are kept within ~6 %.
const SUB: u32 = 16;
const BUCKETS: usize = 32 + 59 * SUB as usize;

/// A histogram of microsecond values; `record` is a relaxed atomic add.
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    max: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        }
    }
}

fn index(us: u64) -> usize {
    if us < 32 {
        return us as usize;
    }
    let exp = 63 - us.leading_zeros(); // ≥ 5
    let mantissa = (us >> (exp - 4)) & u64::from(SUB - 1);
    (32 + (exp - 5) * SUB) as usize + mantissa as usize
}

/// The middle of a bucket, in microseconds.
fn value(index: usize) -> f64 {
    if index < 32 {
        return index as f64;
    }
    let exp = (index - 32) as u32 / SUB + 5;
    let mantissa = (index - 32) as u64 % u64::from(SUB);
    let low = (1u64 << exp) + (mantissa << (exp - 4));
    low as f64 + (1u64 << (exp - 4)) as f64 / 2.0
}

impl Histogram {
    pub fn record(&self, us: u64) {
        self.buckets[index(us).min(BUCKETS - 1)].fetch_add(1, Relaxed);
        self.max.fetch_max(us, Relaxed);
    }

    /// Percentiles so far, and starts over.
    pub fn take(&self) -> Latency {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.swap(0, Relaxed)).collect();
        let max = self.max.swap(0, Relaxed);
        let count: u64 = counts.iter().sum();
        let at = |q: f64| {
            let rank = ((count as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return (value(i) / 1000.0).min(max as f64 / 1000.0);
                }
            }
            0.0
        };
        Latency {
            count,
            p50_ms: round3(at(0.50)),
            p99_ms: round3(at(0.99)),
            max_ms: round3(max as f64 / 1000.0),
        }
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
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
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

/// Waits until `counter` reaches `expected`, or stops moving for `quiet`, or `limit`
/// passes (checking every 50 ms); returns its last value.
pub async fn wait_for_count(
    counter: &AtomicU64,
    expected: u64,
    quiet: std::time::Duration,
    limit: std::time::Duration,
) -> u64 {
    let deadline = std::time::Instant::now() + limit;
    let (mut last, mut still) = (counter.load(Relaxed), std::time::Instant::now());
    while last < expected && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let now = counter.load(Relaxed);
        if now != last {
            (last, still) = (now, std::time::Instant::now());
        } else if still.elapsed() > quiet {
            break;
        }
    }
    counter.load(Relaxed)
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
    fn percentiles_are_within_a_bucket() {
        let h = Histogram::default();
        for us in 1..=10_000 {
            h.record(us);
        }
        let l = h.take();
        assert_eq!(l.count, 10_000);
        assert!((l.p50_ms - 5.0).abs() < 0.35, "{l:?}");
        assert!((l.p99_ms - 9.9).abs() < 0.65, "{l:?}");
        assert_eq!(l.max_ms, 10.0);
        assert_eq!(h.take().count, 0);
    }

    #[test]
    fn slope_of_a_line() {
        let points: Vec<_> = (0..10).map(|x| (x as f64, 3.0 * x as f64 + 7.0)).collect();
        assert!((slope(&points) - 3.0).abs() < 1e-9);
    }
}

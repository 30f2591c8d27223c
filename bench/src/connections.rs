//! Scenario 1, connections: ramp to N idle authenticated sockets in stages, sampling the
//! server's RSS after each, so memory per connection is a slope, not one noisy ratio.
//!
//! One process may hold at most 20 000 open files here, so the sockets are held by
//! worker processes (this binary, `bench worker`), each from its own 127.x source
//! address. The coordinator talks to them over stdin/stdout, one JSON line a stage.

use std::{
    net::SocketAddr,
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use clap::Args;
use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdin, ChildStdout, Command},
};

use crate::{
    client::{Client, Error},
    common::{VIEWER_KEY, auth, connect_many, rss_after_gc},
    stats::{self, round3},
};

#[derive(Args, Debug, Clone)]
pub struct Opts {
    /// Idle sockets to hold at the end of the ramp.
    #[arg(long, default_value_t = 19_000)]
    pub count: usize,
    /// Distinct user ids the sockets spread over (each user's first socket makes the
    /// server announce it to every other socket, so one id per socket would make the
    /// ramp quadratic).
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    /// RSS samples along the ramp.
    #[arg(long, default_value_t = 5)]
    pub stages: usize,
    /// Sockets per worker process (each process may hold 20 000 files at most).
    #[arg(long, default_value_t = 7_000)]
    pub per_worker: usize,
    /// Seconds to hold every socket idle at the end, measuring the server's idle CPU:
    /// at least five heartbeat periods (25 s each), so that where a period starts and
    /// ends does not weigh.
    #[arg(long, default_value_t = 125)]
    pub hold_secs: u64,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub target: usize,
    pub connected: usize,
    pub failed: usize,
    pub first_errors: Vec<String>,
    pub ramp_secs: f64,
    pub connects_per_sec: f64,
    pub rss_idle_kib: u64,
    pub rss_full_kib: u64,
    /// Least-squares slope of RSS over connections along the stages, in KiB per
    /// connection (the empty server's RSS is not one of the points: what a process holds
    /// before its first socket is not a per-socket cost).
    pub rss_per_connection_kib: f64,
    /// Each stage's own increment, in KiB per connection added.
    pub stage_increments_kib: Vec<f64>,
    /// (connections, RSS KiB) before the ramp and after each stage.
    pub samples: Vec<(usize, u64)>,
    /// Server CPU while every socket sat idle, in % of one core.
    pub idle_cpu_percent: f64,
    pub hold_secs: u64,
    pub workers: usize,
}

/// One worker's report after a stage.
#[derive(Debug, Serialize, Deserialize)]
struct Report {
    connected: usize,
    failed: usize,
    errors: Vec<String>,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
}

pub async fn run(addr: SocketAddr, server_pid: Option<u32>, opts: &Opts) -> Result<Outcome, Error> {
    let cpu = || server_pid.and_then(stats::cpu_seconds).unwrap_or(0.0);
    let workers_needed = opts.count.div_ceil(opts.per_worker.max(1)).max(1);
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut workers = Vec::new();
    for w in 0..workers_needed {
        let mut child = Command::new(&exe)
            .args([
                "worker",
                "--addr",
                &addr.to_string(),
                "--users",
                &opts.users.to_string(),
            ])
            .args(["--id-offset", &(w * opts.per_worker).to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start a worker: {e}"))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        workers.push(Worker {
            child,
            stdin,
            stdout,
        });
    }

    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = rss_after_gc(addr, server_pid).await;
    let mut samples = vec![(0, rss_idle)];
    let (mut connected, mut failed, mut errors) = (0, 0, Vec::new());
    let mut ramp = Duration::ZERO;
    for stage in 1..=opts.stages.max(1) {
        let total = opts.count * stage / opts.stages.max(1);
        let started = Instant::now();
        // Every worker ramps at once, each to its share of the stage's total.
        for (w, worker) in workers.iter_mut().enumerate() {
            let share = total
                .saturating_sub(w * opts.per_worker)
                .min(opts.per_worker);
            worker
                .stdin
                .write_all(format!("{share}\n").as_bytes())
                .await
                .map_err(|e| e.to_string())?;
        }
        (connected, failed) = (0, 0);
        for worker in &mut workers {
            let line = tokio::time::timeout(Duration::from_secs(300), worker.stdout.next_line())
                .await
                .map_err(|_| "a worker did not report within 300 s".to_owned())?
                .map_err(|e| e.to_string())?
                .ok_or("a worker exited")?;
            let report: Report =
                serde_json::from_str(&line).map_err(|e| format!("worker said {line}: {e}"))?;
            connected += report.connected;
            failed += report.failed;
            errors.extend(report.errors);
        }
        ramp += started.elapsed();
        // Let the server settle (greetings, presence) before reading its memory.
        tokio::time::sleep(Duration::from_secs(1)).await;
        stats::settle(server_pid, Duration::from_secs(30)).await;
        let rss = rss_after_gc(addr, server_pid).await;
        samples.push((connected, rss));
        eprintln!(
            "  connections: {connected} connected, {failed} failed, server RSS {} MiB",
            rss / 1024
        );
    }

    let cpu_before = cpu();
    let held = Instant::now();
    tokio::time::sleep(Duration::from_secs(opts.hold_secs)).await;
    let idle_cpu_percent = (cpu() - cpu_before) / held.elapsed().as_secs_f64() * 100.0;
    let rss_full = rss_after_gc(addr, server_pid).await;

    for mut worker in workers {
        drop(worker.stdin); // end of input: the worker closes its sockets and exits
        let _ = tokio::time::timeout(Duration::from_secs(30), worker.child.wait()).await;
    }
    let points: Vec<(f64, f64)> = samples[1..]
        .iter()
        .map(|&(c, r)| (c as f64, r as f64))
        .collect();
    let stage_increments_kib = samples
        .windows(2)
        .map(|w| round3((w[1].1 as f64 - w[0].1 as f64) / (w[1].0 as f64 - w[0].0 as f64).max(1.0)))
        .collect();
    errors.truncate(5);
    Ok(Outcome {
        target: opts.count,
        connected,
        failed,
        first_errors: errors,
        ramp_secs: round3(ramp.as_secs_f64()),
        connects_per_sec: (connected as f64 / ramp.as_secs_f64()).round(),
        rss_idle_kib: rss_idle,
        rss_full_kib: rss_full,
        rss_per_connection_kib: round3(stats::slope(&points)),
        stage_increments_kib,
        samples,
        idle_cpu_percent: round3(idle_cpu_percent),
        hold_secs: opts.hold_secs,
        workers: workers_needed,
    })
}

#[derive(Args, Debug, Clone)]
pub struct WorkerOpts {
    #[arg(long)]
    addr: SocketAddr,
    #[arg(long)]
    users: usize,
    /// Index of this worker's first socket (for user ids).
    #[arg(long)]
    id_offset: usize,
}

/// `bench worker`: reads a target count per line from stdin, connects up to it, answers
/// with a JSON `Report` line; holds the sockets (answering heartbeats) until stdin ends.
pub async fn worker(opts: WorkerOpts) -> Result<(), Error> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    let open = Arc::new(AtomicUsize::new(0));
    let mut held = 0;
    let mut failed = 0;
    // Bounded: a coordinator that vanished leaves no worker behind for long.
    let deadline = Duration::from_secs(3600);
    while let Ok(Ok(Some(line))) = tokio::time::timeout(deadline, lines.next_line()).await {
        let target: usize = line
            .trim()
            .parse()
            .map_err(|_| format!("bad count {line}"))?;
        let wanted = target.saturating_sub(held);
        let offset = opts.id_offset + held;
        let users = opts.users.max(1);
        let (clients, errors) = connect_many(opts.addr, wanted, 64, |i| {
            let user = format!("bench-u{}", (offset + i) % users);
            auth(VIEWER_KEY, &user, None)
        })
        .await;
        held += clients.len();
        failed += errors.len();
        for client in clients {
            open.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(hold(client, open.clone()));
        }
        let report = Report {
            connected: open.load(Ordering::Relaxed),
            failed,
            errors: errors.into_iter().take(3).collect(),
        };
        let mut out = serde_json::to_string(&report).map_err(|e| e.to_string())?;
        out.push('\n');
        stdout
            .write_all(out.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        stdout.flush().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Keeps one idle socket open, reading (and dropping) whatever the server sends.
async fn hold(mut client: Client, open: Arc<AtomicUsize>) {
    while let Ok(Some(_)) = client.next().await {}
    open.fetch_sub(1, Ordering::Relaxed);
}

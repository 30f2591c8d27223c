//! `bench soak`: pulso for a long while (issue 25, "running for months"), started by
//! the harness on a fresh SQLite file whose event log is prefilled with a day's worth
//! of events at the load's own rate, so retention (24 h, a pass every few seconds)
//! removes about as many events as the load adds. Meanwhile: the `mixed` load (viewers
//! in topic rooms, staff writing orders, notifications the users mark read) and
//! connection churn (`churn`). Every interval it samples the server (RSS, descriptors,
//! threads, database size, the log's rows, orders and notifications) and the load (ack
//! and delivery p99 over the interval). After a warm-up it judges the trends: RSS and
//! descriptors flat, the log's rows flat; and the work: nothing lost, no errors.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use chrono::{TimeDelta, Utc};
use clap::Args;
use serde::Serialize;
use sqlx::{AssertSqlSafe, Connection, SqliteConnection, sqlite::SqliteConnectOptions};
use tokio::sync::watch;

use crate::{
    churn,
    client::Error,
    common::{http_get, metric_sum},
    eventlog::{self, Scratch},
    mixed,
    server::{Kind, Programs, Server},
    stats::{self, Latency, round3},
};

/// The share of the run left out of the trends (connecting, caches filling, the first
/// expired events reaching retention).
pub const WARMUP: f64 = 0.2;
/// RSS may grow at most this fast after the warm-up (≈ 90 MiB a day).
pub const RSS_LIMIT_KIB_PER_MIN: f64 = 64.0;
/// Open descriptors may grow at most this fast after the warm-up (the churn's sockets
/// in flight come and go; a leak of one per churn cycle would be hundreds a minute).
pub const FDS_LIMIT_PER_MIN: f64 = 0.5;
/// The log's rows may move at most this share of what the load logs meanwhile.
pub const LOG_DRIFT_LIMIT: f64 = 0.1;

#[derive(Args, Debug, Clone, Serialize)]
pub struct Opts {
    /// How long the load runs, in seconds.
    #[arg(long, default_value_t = 1800)]
    pub duration_secs: u64,
    /// Seconds between samples.
    #[arg(long, default_value_t = 60)]
    pub interval_secs: u64,
    /// Viewer sockets (four tabs per user, in topic rooms).
    #[arg(long, default_value_t = 400)]
    pub viewers: usize,
    /// Staff sockets writing (4 in 5 writes are `order:create`, 1 a stock update).
    #[arg(long, default_value_t = 2)]
    pub staff: usize,
    /// Writes per second per staff socket.
    #[arg(long, default_value_t = 5.0)]
    pub staff_rate: f64,
    /// Notifications per second, each to one user, who marks it read.
    #[arg(long, default_value_t = 2.0)]
    pub notify_rate: f64,
    /// Churning sockets per second (see `churn`: a third complete, the rest abandoned
    /// mid-handshake).
    #[arg(long, default_value_t = 6.0)]
    pub churn_rate: f64,
    /// Events per second the prefilled day is dated at (default: what the load logs,
    /// so the log stays flat; lower makes a quick run's prefill small).
    #[arg(long)]
    pub prefill_per_sec: Option<f64>,
}

impl Opts {
    fn mixed(&self) -> mixed::Opts {
        mixed::Opts {
            viewers: self.viewers,
            staff: self.staff,
            staff_rate: self.staff_rate,
            notify_rate: self.notify_rate,
            secs: self.duration_secs as f64,
            mark_read: true,
        }
    }

    /// Events the load logs per second, from what pulso logs for each command: an order
    /// of one item `order_created` and `inventory_updated`, a stock update
    /// `inventory_updated`, a notification `notification`, marking it read
    /// `notification_read_confirmation`.
    fn logged_per_sec(&self) -> f64 {
        let writes = self.staff as f64 * self.staff_rate;
        writes * (0.8 * 2.0 + 0.2) + self.notify_rate * 2.0
    }

    /// Retention passes this often: small, so the log moves little between passes.
    fn prune_interval_secs(&self) -> u64 {
        (self.interval_secs / 12).clamp(1, 5)
    }
}

/// What the server and the load looked like at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Seconds since the load started.
    pub t_secs: f64,
    pub rss_kib: u64,
    pub open_fds: u64,
    pub threads: u64,
    /// The SQLite file and its WAL.
    pub db_bytes: u64,
    pub wal_bytes: u64,
    /// `pulso_event_log_events` (set by each retention pass), `pulso_events_pruned_total`.
    pub log_events: f64,
    pub events_pruned: f64,
    pub connections: f64,
    pub orders: i64,
    pub notifications: i64,
    /// Over the interval before the sample.
    pub ack: Latency,
    pub order_created: Latency,
    pub notification: Latency,
    pub server_cpu_percent: f64,
    /// The load generator's own CPU, and the whole machine's (all cores, 100 % = all
    /// busy): what is left is other work on the machine.
    pub bench_cpu_percent: f64,
    pub machine_busy_percent: f64,
    pub load: String,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub opts: Opts,
    pub duration_secs: u64,
    pub interval_secs: u64,
    pub warmup_secs: f64,
    pub prune_interval_secs: u64,
    pub prefilled_events: u64,
    pub prefill_per_sec: f64,
    pub samples: Vec<Sample>,
    /// The load's totals (its latencies are in the samples: each one took them).
    pub mixed: mixed::Outcome,
    pub churn: churn::Outcome,
    /// Least-squares slopes over the samples after the warm-up, per minute.
    pub rss_kib_per_min: f64,
    pub fds_per_min: f64,
    pub log_events_per_min: f64,
    /// Events the load logged per minute after the warm-up (kept + pruned).
    pub logged_per_min: f64,
    /// Database growth (file and WAL) per 1 000 orders after the warm-up, the log held
    /// flat by retention (notifications written meanwhile included).
    pub db_bytes_per_1000_orders: f64,
    /// The file table by table at the end (with their indexes), for what a row weighs.
    pub tables: Vec<TableWeight>,
    /// What went wrong with the work (loss, errors): fails `soak` and `smoke`.
    pub problems: Vec<String>,
    /// Trends over their limits: fail `soak` (a smoke run is too short to judge them).
    pub trends: Vec<String>,
}

/// One table's pages (its indexes included) and rows.
#[derive(Debug, Clone, Serialize)]
pub struct TableWeight {
    pub table: String,
    pub bytes: i64,
    pub rows: i64,
}

/// The tables whose weight per row the report gives.
const WEIGHED: [&str; 5] = [
    "events",
    "orders",
    "order_items",
    "notifications",
    "notification_reads",
];

pub async fn run(programs: &Programs, opts: &Opts) -> Result<Outcome, Error> {
    let scratch = Scratch::new("soak")?;
    let file = scratch.path("soak.db");
    eventlog::migrated(programs, &file)?;
    let warmup = opts.duration_secs as f64 * WARMUP;
    let per_sec = opts
        .prefill_per_sec
        .unwrap_or_else(|| opts.logged_per_sec());
    // Dated over the last day but half the warm-up: retention starts removing them
    // mid-warm-up, and from then on as many as the load adds.
    let now = Utc::now();
    let oldest = now - TimeDelta::hours(24) + TimeDelta::seconds((warmup / 2.0) as i64);
    let prefilled = (per_sec * (now - oldest).as_seconds_f64()) as u64;
    let prefill_started = Instant::now();
    eventlog::prefill(&file, prefilled, oldest, now).await?;
    eprintln!(
        "soak: {prefilled} events prefilled ({per_sec}/s over the last day) in {:.1} s",
        prefill_started.elapsed().as_secs_f64()
    );
    let env = vec![
        ("PULSO_EVENT_RETENTION_HOURS", "24".into()),
        (
            "PULSO_PRUNE_INTERVAL_SECS",
            opts.prune_interval_secs().to_string(),
        ),
    ];
    let server = Server::start(Kind::Pulso, &eventlog::on_file(programs, &file, env))?;
    let outcome = soak(&server, &file, opts).await;
    server.stop();
    let (samples, mixed, churn, tables) = outcome?;
    Ok(Outcome {
        tables,
        ..judge(opts, prefilled, per_sec, samples, mixed, churn)
    })
}

/// The load and the churn for the duration, sampled every interval.
async fn soak(
    server: &Server,
    file: &Path,
    opts: &Opts,
) -> Result<
    (
        Vec<Sample>,
        mixed::Outcome,
        churn::Outcome,
        Vec<TableWeight>,
    ),
    Error,
> {
    let load = mixed::start(server.addr, Some(server.pid), &opts.mixed()).await?;
    let (stop, stopped) = watch::channel(false);
    let churning = tokio::spawn(churn::run(server.addr, opts.churn_rate, stopped));
    let options = SqliteConnectOptions::new().filename(file).read_only(true);
    let mut db = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let started = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_secs(opts.interval_secs.max(1)));
    let mut samples = Vec::new();
    let mut before = Cpu::now(server.pid);
    loop {
        ticks.tick().await;
        let after = Cpu::now(server.pid);
        let t_secs = round3(started.elapsed().as_secs_f64());
        let sample = sample(server, file, &mut db, &load, t_secs, &before, &after).await?;
        eprintln!("  {}", line(&sample));
        samples.push(sample);
        before = after;
        if t_secs >= opts.duration_secs as f64 {
            break;
        }
    }
    let _ = stop.send(true);
    let churn = churning.await.map_err(|e| e.to_string())?;
    let mixed = load.finish().await?;
    let tables = weigh(&mut db).await?;
    let _ = db.close().await;
    Ok((samples, mixed, churn, tables))
}

/// SQLite's `dbstat` (compiled into the bundled SQLite): the pages of each table and its
/// indexes.
async fn weigh(db: &mut SqliteConnection) -> Result<Vec<TableWeight>, Error> {
    let mut tables = Vec::new();
    for table in WEIGHED {
        let bytes: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(s.pgsize), 0) FROM dbstat s JOIN sqlite_master m ON m.name = s.name WHERE m.tbl_name = ?",
        )
        .bind(table)
        .fetch_one(&mut *db)
        .await
        .map_err(|e| format!("dbstat of {table}: {e}"))?;
        let rows = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut *db)
            .await
            .map_err(|e| format!("rows of {table}: {e}"))?;
        tables.push(TableWeight {
            table: table.into(),
            bytes,
            rows,
        });
    }
    Ok(tables)
}

/// CPU seconds of the server and of this process, and the machine's ticks, at a moment.
struct Cpu {
    server: Option<f64>,
    bench: Option<f64>,
    machine: Option<(u64, u64)>,
    at: Instant,
}

impl Cpu {
    fn now(server: u32) -> Self {
        Self {
            server: stats::cpu_seconds(server),
            bench: stats::cpu_seconds(std::process::id()),
            machine: stats::machine_ticks(),
            at: Instant::now(),
        }
    }
}

async fn sample(
    server: &Server,
    file: &Path,
    db: &mut SqliteConnection,
    load: &mixed::Load,
    t_secs: f64,
    before: &Cpu,
    after: &Cpu,
) -> Result<Sample, Error> {
    let metrics = http_get(server.addr, "/metrics").await.unwrap_or_default();
    let metric = |name| metric_sum(&metrics, name);
    let [ack, order_created, notification] = load.take_latencies();
    let secs = (after.at - before.at).as_secs_f64().max(1e-3);
    let percent = |a: Option<f64>, b: Option<f64>| {
        a.zip(b)
            .map_or(0.0, |(a, b)| round3((b - a) / secs * 100.0))
    };
    Ok(Sample {
        t_secs,
        rss_kib: stats::rss_kib(server.pid).unwrap_or(0),
        open_fds: stats::open_fds(server.pid).unwrap_or(0),
        threads: stats::threads(server.pid).unwrap_or(0),
        db_bytes: size(file),
        wal_bytes: size(&wal(file)),
        log_events: metric("pulso_event_log_events"),
        events_pruned: metric("pulso_events_pruned_total"),
        connections: metric("pulso_connections"),
        orders: count(db, "SELECT COUNT(*) FROM orders").await?,
        notifications: count(db, "SELECT COUNT(*) FROM notifications").await?,
        ack,
        order_created,
        notification,
        server_cpu_percent: percent(before.server, after.server),
        bench_cpu_percent: percent(before.bench, after.bench),
        machine_busy_percent: stats::busy_percent(before.machine, after.machine),
        load: crate::compare::loadavg(),
    })
}

fn wal(file: &Path) -> PathBuf {
    let mut wal = file.as_os_str().to_owned();
    wal.push("-wal");
    wal.into()
}

fn size(file: &Path) -> u64 {
    std::fs::metadata(file).map_or(0, |m| m.len())
}

async fn count(db: &mut SqliteConnection, sql: &'static str) -> Result<i64, Error> {
    sqlx::query_scalar(sql)
        .fetch_one(db)
        .await
        .map_err(|e| format!("{sql}: {e}"))
}

pub fn line(s: &Sample) -> String {
    format!(
        "{:>6.0} s: RSS {} MiB, {} fds, {} threads, db {:.1} MiB (+{:.1} WAL), log {} ({} pruned), {} orders, {} notifications, {} sockets; p99 ack {} / order_created {} / notification {} ms; CPU server {}%, bench {}%, machine {}% busy; load {}",
        s.t_secs,
        s.rss_kib / 1024,
        s.open_fds,
        s.threads,
        s.db_bytes as f64 / 1048576.0,
        s.wal_bytes as f64 / 1048576.0,
        s.log_events,
        s.events_pruned,
        s.orders,
        s.notifications,
        s.connections,
        s.ack.p99_ms,
        s.order_created.p99_ms,
        s.notification.p99_ms,
        s.server_cpu_percent,
        s.bench_cpu_percent,
        s.machine_busy_percent,
        s.load
    )
}

/// The trends after the warm-up and what went wrong.
fn judge(
    opts: &Opts,
    prefilled: u64,
    per_sec: f64,
    samples: Vec<Sample>,
    mixed: mixed::Outcome,
    churn: churn::Outcome,
) -> Outcome {
    let warmup = opts.duration_secs as f64 * WARMUP;
    let steady: Vec<&Sample> = samples.iter().filter(|s| s.t_secs >= warmup).collect();
    let per_min = |y: fn(&Sample) -> f64| {
        let points: Vec<(f64, f64)> = steady.iter().map(|s| (s.t_secs / 60.0, y(s))).collect();
        round3(stats::slope(&points))
    };
    let rss = per_min(|s| s.rss_kib as f64);
    let fds = per_min(|s| s.open_fds as f64);
    let log = per_min(|s| s.log_events);
    let logged = per_min(|s| s.log_events + s.events_pruned);
    let growth: Vec<(f64, f64)> = steady
        .iter()
        .map(|s| (s.orders as f64, (s.db_bytes + s.wal_bytes) as f64))
        .collect();
    let mut problems = Vec::new();
    if mixed.commands_acked == 0
        || mixed.command_errors + mixed.lost + mixed.doubled + mixed.disconnected > 0
        || mixed.mark_read_errors > 0
    {
        problems.push(format!(
            "load: {} acked, {} errors, {} lost, {} doubled, {} disconnected, {} marks read failed",
            mixed.commands_acked,
            mixed.command_errors,
            mixed.lost,
            mixed.doubled,
            mixed.disconnected,
            mixed.mark_read_errors
        ));
    }
    if mixed.connected != mixed.viewers {
        problems.push(format!(
            "{} of {} viewers connected",
            mixed.connected, mixed.viewers
        ));
    }
    if churn.errors > 0 {
        problems.push(format!(
            "churn: {} errors, the first: {:?}",
            churn.errors, churn.first_error
        ));
    }
    let mut trends = Vec::new();
    if rss > RSS_LIMIT_KIB_PER_MIN {
        trends.push(format!(
            "RSS grew {rss} KiB/min (limit {RSS_LIMIT_KIB_PER_MIN})"
        ));
    }
    if fds > FDS_LIMIT_PER_MIN {
        trends.push(format!(
            "descriptors grew {fds}/min (limit {FDS_LIMIT_PER_MIN})"
        ));
    }
    if log.abs() > LOG_DRIFT_LIMIT * logged.max(1.0) {
        trends.push(format!(
            "the log moved {log} rows/min while the load logged {logged}/min (limit {} %)",
            LOG_DRIFT_LIMIT * 100.0
        ));
    }
    Outcome {
        opts: opts.clone(),
        duration_secs: opts.duration_secs,
        interval_secs: opts.interval_secs,
        warmup_secs: warmup,
        prune_interval_secs: opts.prune_interval_secs(),
        prefilled_events: prefilled,
        prefill_per_sec: per_sec,
        samples,
        mixed,
        churn,
        rss_kib_per_min: rss,
        fds_per_min: fds,
        log_events_per_min: log,
        logged_per_min: logged,
        db_bytes_per_1000_orders: (stats::slope(&growth) * 1000.0).round(),
        tables: Vec::new(),
        problems,
        trends,
    }
}

fn verdict(found: &[String], otherwise: &str) -> String {
    if found.is_empty() {
        "ok".into()
    } else {
        format!("{otherwise} ({})", found.join("; "))
    }
}

pub fn summary(o: &Outcome) -> String {
    format!(
        "soak: {} s; after the warm-up RSS {} KiB/min, fds {}/min, log {} rows/min (the load logged {}/min); {} bytes of database per 1 000 orders; {} commands acked, {} lost, {} churned ({} errors); {}",
        o.duration_secs,
        o.rss_kib_per_min,
        o.fds_per_min,
        o.log_events_per_min,
        o.logged_per_min,
        o.db_bytes_per_1000_orders,
        o.mixed.commands_acked,
        o.mixed.lost,
        o.churn.attempts.iter().sum::<u64>(),
        o.churn.errors,
        match (o.problems.is_empty(), o.trends.is_empty()) {
            (true, true) => "passed".to_owned(),
            // `smoke` judges only the work: the trends of a few seconds mean nothing.
            _ => format!(
                "work: {}; trends: {}",
                verdict(&o.problems, "FAILED"),
                verdict(&o.trends, "over the limits")
            ),
        }
    )
}

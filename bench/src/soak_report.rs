//! `bench soak` as a command: starts pulso, soaks it, writes bench/results/<date>-<name>
//! .json, .md and .svg (the plot the markdown shows), and exits 1 if it failed.

use std::{fmt::Write, path::PathBuf, process::ExitCode};

use chrono::Utc;
use clap::Args;
use serde::Serialize;
use serde_json::Value;

use crate::{
    client::Error,
    compare,
    plot::{self, Panel, Series},
    server::Programs,
    soak::{self, FDS_LIMIT_PER_MIN, LOG_DRIFT_LIMIT, Outcome, RSS_LIMIT_KIB_PER_MIN, Sample},
};

#[derive(Args, Debug)]
pub struct CommandOpts {
    /// Use this pulso binary instead of `cargo build --release --bin pulso`.
    #[arg(long)]
    pulso_bin: Option<PathBuf>,
    /// Directory for the result files (default: bench/results).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The result files are <date>-<name>.json, .md and .svg.
    #[arg(long, default_value = "soak")]
    name: String,
    #[command(flatten)]
    soak: soak::Opts,
}

#[derive(Serialize)]
struct Results<'a> {
    date: String,
    machine: Value,
    /// The machine before pulso started: load average, and how busy its cores were.
    load_before: String,
    machine_busy_percent_before: f64,
    outcome: &'a Outcome,
}

pub async fn command(opts: CommandOpts) -> Result<ExitCode, Error> {
    let pulso = match &opts.pulso_bin {
        Some(bin) => compare::absolute(bin)?,
        None => compare::build_pulso(true)?,
    };
    let machine = compare::machine_facts(opts.pulso_bin.as_deref(), None);
    let machine_busy_percent_before = compare::machine_busy_percent().await;
    let load_before = compare::loadavg();
    let programs = Programs {
        pulso,
        ..Programs::default()
    };
    let outcome = soak::run(&programs, &opts.soak).await?;
    let results = Results {
        date: Utc::now().format("%Y-%m-%d").to_string(),
        machine,
        load_before,
        machine_busy_percent_before,
        outcome: &outcome,
    };
    let stem = format!("{}-{}", results.date, opts.name);
    let dir = compare::write_results(opts.out, &stem, &results, &markdown(&results, &stem))?;
    std::fs::write(dir.join(format!("{stem}.svg")), svg(&outcome)).map_err(|e| e.to_string())?;
    eprintln!("{}", soak::summary(&outcome));
    Ok(
        if outcome.problems.is_empty() && outcome.trends.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn svg(o: &Outcome) -> String {
    let minutes = |y: fn(&Sample) -> f64| -> Vec<(f64, f64)> {
        o.samples.iter().map(|s| (s.t_secs / 60.0, y(s))).collect()
    };
    // An interval without a figure (the first sample) is left out rather than drawn as 0.
    let p99 = |y: fn(&Sample) -> Option<f64>| -> Vec<(f64, f64)> {
        o.samples
            .iter()
            .filter_map(|s| y(s).map(|v| (s.t_secs / 60.0, v)))
            .collect()
    };
    let series = |name, color, points| Series {
        name,
        color,
        points,
    };
    let panels = [
        Panel {
            title: "server RSS, MiB",
            series: vec![series(
                "RSS",
                "#1f77b4",
                minutes(|s| s.rss_kib as f64 / 1024.0),
            )],
        },
        Panel {
            title: "server open descriptors and threads",
            series: vec![
                series("descriptors", "#2ca02c", minutes(|s| s.open_fds as f64)),
                series("threads", "#9467bd", minutes(|s| s.threads as f64)),
            ],
        },
        Panel {
            title: "database, MiB",
            series: vec![
                series(
                    "file + WAL",
                    "#8c564b",
                    minutes(|s| mib(s.db_bytes + s.wal_bytes)),
                ),
                series("WAL", "#e377c2", minutes(|s| mib(s.wal_bytes))),
            ],
        },
        Panel {
            title: "event log rows (pulso_event_log_events)",
            series: vec![series("rows", "#ff7f0e", minutes(|s| s.log_events))],
        },
        Panel {
            title: "p99 over each interval, ms",
            series: vec![
                series(
                    "ack",
                    "#d62728",
                    p99(|s| (s.ack.count > 0).then_some(s.ack.p99_ms)),
                ),
                series(
                    "order_created delivery",
                    "#17becf",
                    p99(|s| (s.order_created.count > 0).then_some(s.order_created.p99_ms)),
                ),
                series(
                    "notification delivery",
                    "#bcbd22",
                    p99(|s| (s.notification.count > 0).then_some(s.notification.p99_ms)),
                ),
            ],
        },
    ];
    plot::svg(
        &format!(
            "pulso soak, {} (dashed: end of the warm-up)",
            length(o.duration_secs)
        ),
        "min",
        o.duration_secs as f64 / 60.0,
        o.warmup_secs / 60.0,
        &panels,
    )
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "**over**" }
}

fn markdown(results: &Results, stem: &str) -> String {
    let o = results.outcome;
    let first = o.samples.first();
    let last = o.samples.last();
    let at = |s: Option<&Sample>, y: fn(&Sample) -> String| s.map_or("–".into(), y);
    let passed = o.problems.is_empty() && o.trends.is_empty();
    let churned: u64 = o.churn.attempts.iter().sum();
    let mut md = format!(
        "# Soak, {} ({})\n\n\
         `bench soak --duration-secs {} --interval-secs {}`: pulso started by the harness on \
         a fresh SQLite file whose event log was prefilled with {} events dated over the last \
         day but {:.0} s ({} a second, what the load logs), retention 24 h with a pass every \
         {} s; the `mixed` load ({} viewers, four tabs per user, in topic rooms; {} staff \
         sockets writing {} a second each, 4 in 5 `order:create`; {} notifications a second, \
         each marked read by its user) and connection churn ({} sockets a second, in turn: \
         closed, dropped, TCP only, half an upgrade request, an Engine.IO WebSocket never \
         joined, a polling session never used). Sampled every {} s; the trends are \
         least-squares slopes over the samples after the warm-up (the first {:.0} s).\n\n\
         **{}**{}\n\n\
         | figure | after the warm-up | limit | |\n|---|---:|---:|---|\n\
         | server RSS | {} KiB/min | {RSS_LIMIT_KIB_PER_MIN} KiB/min | {} |\n\
         | open descriptors | {}/min | {FDS_LIMIT_PER_MIN}/min | {} |\n\
         | event log rows | {}/min (the load logged {}/min) | {} % of what is logged | {} |\n\
         | commands acked; errors; `order_created` and notifications lost, doubled | {}; {}; {}, {} | 0 | {} |\n\
         | viewers disconnected; marks read failed; churn errors | {}; {}; {} | 0 | {} |\n\n\
         **Database growth: {} bytes per 1 000 orders** ({:.1} KiB), the slope of file + WAL \
         over orders created after the warm-up, with the event log held flat by retention \
         (the notifications written meanwhile, {:.2} per order, included).\n\n\
         ![soak plot]({stem}.svg)\n\n",
        results.date,
        length(o.duration_secs),
        o.duration_secs,
        o.interval_secs,
        o.prefilled_events,
        o.warmup_secs / 2.0,
        o.prefill_per_sec,
        o.prune_interval_secs,
        o.opts.viewers,
        o.opts.staff,
        o.opts.staff_rate,
        o.opts.notify_rate,
        o.opts.churn_rate,
        o.interval_secs,
        o.warmup_secs,
        if passed { "Passed." } else { "FAILED." },
        if passed {
            String::new()
        } else {
            format!(" {}", [&o.problems[..], &o.trends[..]].concat().join("; "))
        },
        o.rss_kib_per_min,
        verdict(o.rss_kib_per_min <= RSS_LIMIT_KIB_PER_MIN),
        o.fds_per_min,
        verdict(o.fds_per_min <= FDS_LIMIT_PER_MIN),
        o.log_events_per_min,
        o.logged_per_min,
        LOG_DRIFT_LIMIT * 100.0,
        verdict(o.log_events_per_min.abs() <= LOG_DRIFT_LIMIT * o.logged_per_min.max(1.0)),
        o.mixed.commands_acked,
        o.mixed.command_errors,
        o.mixed.lost,
        o.mixed.doubled,
        verdict(o.mixed.command_errors + o.mixed.lost + o.mixed.doubled == 0),
        o.mixed.disconnected,
        o.mixed.mark_read_errors,
        o.churn.errors,
        verdict(o.mixed.disconnected + o.mixed.mark_read_errors + o.churn.errors == 0),
        o.db_bytes_per_1000_orders,
        o.db_bytes_per_1000_orders / 1024.0,
        ratio(
            last.map_or(0, |s| s.notifications),
            last.map_or(0, |s| s.orders)
        ),
    );
    let _ = write!(
        md,
        "From the first sample to the last: RSS {} → {} MiB, descriptors {} → {}, threads \
         {} → {}, database {} → {} MiB (file + WAL), log rows {} → {}, events pruned {}, \
         orders {}, notifications {} ({} marked read), sockets churned {churned} ({}). \
         pulso exposes no count of tokio tasks on `/metrics`: threads are sampled instead.\n\n",
        at(first, |s| (s.rss_kib / 1024).to_string()),
        at(last, |s| (s.rss_kib / 1024).to_string()),
        at(first, |s| s.open_fds.to_string()),
        at(last, |s| s.open_fds.to_string()),
        at(first, |s| s.threads.to_string()),
        at(last, |s| s.threads.to_string()),
        at(first, |s| format!("{:.0}", mib(s.db_bytes + s.wal_bytes))),
        at(last, |s| format!("{:.0}", mib(s.db_bytes + s.wal_bytes))),
        at(first, |s| s.log_events.to_string()),
        at(last, |s| s.log_events.to_string()),
        at(last, |s| s.events_pruned.to_string()),
        at(last, |s| s.orders.to_string()),
        at(last, |s| s.notifications.to_string()),
        o.mixed.marked_read,
        o.churn
            .kinds
            .iter()
            .zip(o.churn.attempts)
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    md += &weights(o);
    md += "## Samples\n\n| min | RSS MiB | fds | threads | DB MiB (WAL) | log rows | pruned | orders | notifications | ack p99 ms | order_created p99 ms | notification p99 ms | CPU % server / bench / machine | load |\n|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n";
    for s in &o.samples {
        let _ = writeln!(
            md,
            "| {:.1} | {:.1} | {} | {} | {:.1} ({:.1}) | {} | {} | {} | {} | {} | {} | {} | {:.0} / {:.0} / {:.0} | {} |",
            s.t_secs / 60.0,
            s.rss_kib as f64 / 1024.0,
            s.open_fds,
            s.threads,
            mib(s.db_bytes + s.wal_bytes),
            mib(s.wal_bytes),
            s.log_events,
            s.events_pruned,
            s.orders,
            s.notifications,
            s.ack.p99_ms,
            s.order_created.p99_ms,
            s.notification.p99_ms,
            s.server_cpu_percent,
            s.bench_cpu_percent,
            s.machine_busy_percent,
            s.load
        );
    }
    let cores = results.machine["cores"].as_f64().unwrap_or(1.0);
    let others: Vec<f64> = o
        .samples
        .iter()
        .skip(1)
        .map(|s| {
            (s.machine_busy_percent * cores - s.server_cpu_percent - s.bench_cpu_percent).max(0.0)
        })
        .collect();
    let _ = write!(
        md,
        "\nCPU: the server's and the load generator's in % of one core; the machine's in % \
         of all {cores} cores. Other work on the machine over each interval (machine × \
         cores − server − bench), in % of one core: {} (mean {:.0}). Before the start: load \
         average {}, cores {} % busy.\n",
        others
            .iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(", "),
        others.iter().sum::<f64>() / others.len().max(1) as f64,
        results.load_before,
        results.machine_busy_percent_before,
    );
    md + &crate::report::machine(&results.machine)
}

/// "30 min", or "40 s" for a short run.
fn length(secs: u64) -> String {
    if secs >= 120 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

fn ratio(a: i64, b: i64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// What a row of each table weighs at the end, and what 1 000 orders a day cost at the
/// load's mix: the orders and notifications stay, the log only for as long as it is kept.
fn weights(o: &Outcome) -> String {
    let weight = |table: &str| {
        o.tables
            .iter()
            .find(|t| t.table == table)
            .map_or((0, 0), |t| (t.bytes, t.rows))
    };
    let per = |bytes: i64, rows: i64| bytes as f64 / rows.max(1) as f64;
    let mut md = String::from(
        "## What a row weighs (SQLite `dbstat` at the end: pages, indexes included)\n\n\
         | table | bytes | rows | bytes per row |\n|---|---:|---:|---:|\n",
    );
    for t in &o.tables {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.0} |",
            t.table,
            t.bytes,
            t.rows,
            per(t.bytes, t.rows)
        );
    }
    let (orders, order_rows) = weight("orders");
    let (items, _) = weight("order_items");
    let (notifications, notification_rows) = weight("notifications");
    let (reads, _) = weight("notification_reads");
    let (events, event_rows) = weight("events");
    let order = per(orders + items, order_rows);
    let notification = per(notifications + reads, notification_rows);
    let event = per(events, event_rows);
    let orders_per_sec = o.opts.staff as f64 * o.opts.staff_rate * 0.8;
    let notifications_per_order = o.opts.notify_rate / orders_per_sec;
    let events_per_order = o.logged_per_min / 60.0 / orders_per_sec;
    let stays = 1000.0 * (order + notifications_per_order * notification);
    let log_per_day = 1000.0 * events_per_order * event;
    let _ = write!(
        md,
        "\nAn order with its lines weighs {order:.0} bytes, a notification with its reads \
         {notification:.0}, a logged event {event:.0} (the log is still mostly the prefilled \
         `order_created` events, the largest kind: an upper bound). At this load's mix \
         ({notifications_per_order:.2} notifications and {events_per_order:.2} logged events \
         per order), **1 000 orders a day add {:.0} KB a day that stay**, and the log holds \
         **{:.0} KB for each day it keeps** (`PULSO_EVENT_RETENTION_HOURS`).\n\n",
        stays / 1000.0,
        log_per_day / 1000.0,
    );
    md
}

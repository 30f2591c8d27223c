//! Logs through `tracing` (pretty for people, JSON one object per line for machines)
//! and metrics through the `metrics` facade, rendered for Prometheus at `GET /metrics`.
//! Every metric pulso records is named and described here.

use std::{sync::OnceLock, time::Duration};

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{EnvFilter, fmt};

/// How log lines are written: for people, or one JSON object per line for machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// `RUST_LOG` overrides the default level filter.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,sea_orm=warn,socketioxide=warn,engineioxide=warn")
    });
    // Logging is best-effort: a log write that fails (a supervisor's pipe closed) is
    // dropped. tracing-subscriber would otherwise report it with `eprintln!`, which
    // panics inside whatever task was logging when stderr is closed too.
    let builder = fmt().with_env_filter(filter).log_internal_errors(false);
    // A second init (tests start many servers in one process) is harmless: keep the first.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// Command latency buckets, in seconds: from a cached read to a slow contended write.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// How often histogram samples are folded into their buckets when nobody scrapes.
pub const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// The process-wide Prometheus recorder, installed on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &LATENCY_BUCKETS)
            .expect("latency buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
        }
        describe();
        handle
    })
}

fn describe() {
    describe_gauge!("pulso_connections", "Sockets connected to this node");
    describe_counter!("pulso_connects_total", "Sockets accepted");
    describe_counter!(
        "pulso_connects_refused_total",
        "Connections refused at the handshake, by reason"
    );
    describe_counter!("pulso_disconnects_total", "Sockets closed, by reason");
    describe_counter!(
        "pulso_rate_limited_total",
        "Commands refused by the rate limit"
    );
    describe_counter!(
        "pulso_flood_disconnects_total",
        "Sockets closed for flooding past the rate limit"
    );
    describe_counter!(
        "pulso_events_emitted_total",
        "Emits to sockets or rooms, by event type"
    );
    describe_counter!(
        "pulso_send_errors_total",
        "Deliveries to a socket that failed"
    );
    describe_counter!(
        "pulso_commands_total",
        "Socket commands, by name and outcome"
    );
    describe_histogram!(
        "pulso_command_duration_seconds",
        Unit::Seconds,
        "Socket command latency, by name"
    );
    describe_gauge!(
        "pulso_redis_up",
        "1 while this node reaches Redis (several nodes only)"
    );
    describe_counter!(
        "pulso_adapter_errors_total",
        "Emits that could not reach the other nodes (delivered on this node only)"
    );
    describe_counter!(
        "pulso_recoveries_total",
        "Reconnections that asked for their session back (or opted out), by outcome"
    );
    describe_counter!(
        "pulso_recovery_events_replayed_total",
        "Missed events sent to recovered sockets"
    );
    describe_counter!(
        "pulso_published_events_total",
        "Events producers published, by type and outcome"
    );
    describe_counter!(
        "pulso_events_pruned_total",
        "Events retention removed from the log"
    );
    describe_counter!(
        "pulso_notifications_pruned_total",
        "Notifications retention removed from the inbox"
    );
    describe_gauge!(
        "pulso_event_log_events",
        "Events the log holds (after the last pruning)"
    );
    describe_gauge!(
        "pulso_event_log_oldest_id",
        "The oldest kept event's id (after the last pruning)"
    );
    describe_counter!(
        "pulso_db_errors_total",
        "Database errors that failed a request"
    );
}

pub fn record_connect() {
    counter!("pulso_connects_total").increment(1);
    gauge!("pulso_connections").increment(1.0);
}

/// `reason`: `unauthorized`, `node_full`, `user_full` or `invalid`.
pub fn record_connect_refused(reason: &'static str) {
    counter!("pulso_connects_refused_total", "reason" => reason).increment(1);
}

/// `reason` names socketioxide's disconnect reason (`heartbeat_timeout` is also how a
/// client that stopped reading its full buffer ends).
pub fn record_disconnect(reason: &'static str) {
    counter!("pulso_disconnects_total", "reason" => reason).increment(1);
    gauge!("pulso_connections").decrement(1.0);
}

pub fn record_rate_limited(flooding: bool) {
    counter!("pulso_rate_limited_total").increment(1);
    if flooding {
        counter!("pulso_flood_disconnects_total").increment(1);
    }
}

pub fn record_emit(event: &str, send_errors: u64) {
    counter!("pulso_events_emitted_total", "type" => event.to_owned()).increment(1);
    if send_errors > 0 {
        counter!("pulso_send_errors_total").increment(send_errors);
    }
}

/// `command` must come from a fixed list: labels are never client-chosen text.
pub fn record_command(command: &'static str, outcome: &'static str, took: Duration) {
    counter!("pulso_commands_total", "command" => command, "outcome" => outcome).increment(1);
    histogram!("pulso_command_duration_seconds", "command" => command).record(took.as_secs_f64());
}

/// 1 while this node reaches Redis (several-node mode only).
pub fn record_redis_up(up: bool) {
    gauge!("pulso_redis_up").set(if up { 1.0 } else { 0.0 });
}

pub fn record_adapter_error() {
    counter!("pulso_adapter_errors_total").increment(1);
}

pub fn record_db_error() {
    counter!("pulso_db_errors_total").increment(1);
}

/// `outcome`: `recovered`, `expired`, `too_many_missed`, `invalid_pid`, `opted_out` or
/// `unavailable`.
pub fn record_recovery(outcome: &'static str) {
    counter!("pulso_recoveries_total", "outcome" => outcome).increment(1);
}

pub fn record_events_replayed(count: usize) {
    counter!("pulso_recovery_events_replayed_total").increment(count as u64);
}

/// `outcome`: `published`, `replayed`, or the error code that refused it.
pub fn record_published(event: &'static str, outcome: &'static str) {
    counter!("pulso_published_events_total", "type" => event, "outcome" => outcome).increment(1);
}

pub fn record_events_pruned(count: u64) {
    counter!("pulso_events_pruned_total").increment(count);
}

pub fn record_notifications_pruned(count: u64) {
    counter!("pulso_notifications_pruned_total").increment(count);
}

pub fn record_event_log(events: u64, oldest_id: i64) {
    gauge!("pulso_event_log_events").set(events as f64);
    gauge!("pulso_event_log_oldest_id").set(oldest_id as f64);
}

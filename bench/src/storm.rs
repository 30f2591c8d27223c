//! Scenario 5, reconnect storm after a crash: N dashboards (in `clients`) connect, each
//! keeping the pid of its CONNECT and the offset and envelope id of every logged event it
//! receives; a few events reach them all; the server is killed (SIGKILL) and started
//! again on the same database and address; M events are written over REST while no
//! dashboard is connected; then every dashboard reconnects at once with its auth, pid and
//! last offset (what socket.io-client sends). A dashboard is recovered when its CONNECT
//! carries the pid it had. Measures the time from the first reconnect attempt until the
//! last CONNECT (all recovered, when they are), the events replayed per second, and per
//! dashboard what was lost, doubled, unexpected or out of order against the event log
//! (`GET /api/events`): each should end with exactly the log's events after the point it
//! had reached.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use clap::Args;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    client::{Client, Error, Frame, Incoming},
    common::{ADMIN_KEY, STAFF_KEY, VIEWER_KEY, auth, connect_many_with, http_request},
    server::Server,
    stats::{self, Histogram, Latency, round3},
};

/// The dashboards' room, and the event written there (by `POST /api/clients`).
const ROOM: &str = "clients";
const EVENT: &str = "client_created";

#[derive(Args, Debug, Clone)]
pub struct Opts {
    /// Dashboards (sockets in `clients`).
    #[arg(long, default_value_t = 10_000)]
    pub dashboards: usize,
    /// Events written before the kill, each delivered to every dashboard, so that each
    /// has an offset to come back with.
    #[arg(long, default_value_t = 10)]
    pub before: usize,
    /// Events written over REST on the restarted server, all missed by every dashboard
    /// (pulso replays at most PULSO_RECOVERY_MAX_EVENTS, 1 000 by default).
    #[arg(long, default_value_t = 200)]
    pub events: usize,
    /// Handshakes in flight at once, for the first connect and the storm: the load
    /// generator's bound on "at once" (the servers' listen backlogs: pulso 128, the
    /// standard library's; Node 511).
    #[arg(long, default_value_t = 512)]
    pub in_flight: usize,
    /// Distinct user ids over the dashboards.
    #[arg(long, default_value_t = 100)]
    pub users: usize,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub dashboards: usize,
    /// Dashboards connected before the kill (the ones that then reconnect).
    pub connected: usize,
    pub connect_errors: Vec<String>,
    /// Events written before the kill that did not reach a dashboard before it.
    pub missed_before_kill: u64,
    /// From SIGKILL until the new process listened.
    pub restart_secs: f64,
    pub events_written: usize,
    pub reconnected: usize,
    pub reconnect_failed: usize,
    pub reconnect_errors: Vec<String>,
    /// Reconnected with the pid they had (their session recovered).
    pub recovered: usize,
    /// From the first reconnect attempt until the last CONNECT arrived.
    pub reconnect_secs: f64,
    /// The same, when every dashboard was recovered (the storm's figure).
    pub all_recovered_secs: Option<f64>,
    /// Each dashboard's own attempt → CONNECT (missed events included).
    pub reconnect_latency: Latency,
    /// Logged events received before a CONNECT, over every dashboard.
    pub replayed: u64,
    pub replayed_per_sec: f64,
    /// Log events after each dashboard's point, over every dashboard that reconnected
    /// or not: what they should have ended with.
    pub expected: u64,
    pub lost: u64,
    pub doubled: u64,
    /// Received after reconnecting, yet not in the log after the dashboard's point.
    pub unexpected: u64,
    /// Received out of log order after reconnecting.
    pub out_of_order: u64,
    /// Dashboards with anything lost, doubled, unexpected or out of order.
    pub dashboards_wrong: usize,
    /// The server's CPU from the first reconnect attempt to the last CONNECT.
    pub server_cpu_percent: f64,
    pub rss_kib: u64,
}

/// What one dashboard has seen on one connection.
#[derive(Default)]
struct Seen {
    pid: Option<String>,
    /// The last event that carried an offset (its offset is read when reconnecting).
    last_offset: Option<Frame>,
    /// Envelope ids of the logged events received, in arrival order.
    ids: Vec<i64>,
    /// How many of them came before the CONNECT (a recovery's replay).
    early: usize,
}

impl Seen {
    fn record(&mut self, frame: Frame, counted: &AtomicU64) {
        if frame.event_name() == Some(EVENT)
            && let Some(id) = frame.envelope_id()
        {
            self.ids.push(id);
            counted.fetch_add(1, Relaxed);
        }
        if frame.offset().is_some() {
            self.last_offset = Some(frame);
        }
    }

    fn offset(&self) -> Option<&str> {
        self.last_offset.as_ref().and_then(Frame::offset)
    }
}

/// A connected dashboard, read by its own task until the server closes it or `stop`.
struct Following {
    index: usize,
    /// Its attempt → CONNECT, and when the CONNECT came.
    took: Duration,
    connected_at: Instant,
    pid: Option<String>,
    early: usize,
    task: JoinHandle<Seen>,
}

/// Connects dashboard `index` with `auth` and reads it on a task of its own.
async fn follow(
    addr: SocketAddr,
    source: std::net::IpAddr,
    index: usize,
    auth: Value,
    counted: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) -> Result<Following, Error> {
    let attempt = Instant::now();
    let (mut client, handshake) = Client::connect_keeping(addr, Some(source), &auth, true).await?;
    let connected_at = Instant::now();
    let mut seen = Seen {
        pid: handshake.pid(),
        ..Seen::default()
    };
    for frame in handshake.early {
        seen.record(frame, &counted);
    }
    seen.early = seen.ids.len();
    let (pid, early) = (seen.pid.clone(), seen.early);
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                incoming = client.next() => match incoming {
                    Ok(Some(Incoming::Event(frame))) => seen.record(frame, &counted),
                    Ok(Some(Incoming::Ack(..))) => {}
                    Ok(None) | Err(_) => return seen,
                },
                _ = stop.changed() => {
                    client.close().await;
                    return seen;
                }
            }
        }
    });
    Ok(Following {
        index,
        took: connected_at - attempt,
        connected_at,
        pid,
        early,
        task,
    })
}

/// Connects `count` dashboards at once (`in_flight` handshakes at a time), dashboard i
/// with `auth_of(i)`; returns them and the errors.
async fn connect_all(
    addr: SocketAddr,
    indexes: &[usize],
    in_flight: usize,
    auth_of: impl Fn(usize) -> Value,
    counted: &Arc<AtomicU64>,
    stop: &watch::Receiver<bool>,
) -> (Vec<Following>, Vec<Error>) {
    connect_many_with(indexes.len(), in_flight, |n, source| {
        let index = indexes[n];
        follow(
            addr,
            source,
            index,
            auth_of(index),
            counted.clone(),
            stop.clone(),
        )
    })
    .await
}

/// Waits (at most `limit`) for every dashboard's task; tasks still reading then are
/// told to stop, and given five more seconds. Returns what each saw, by index.
async fn finish(
    followers: Vec<Following>,
    stop: &watch::Sender<bool>,
    limit: Duration,
    dashboards: usize,
) -> Vec<Option<Seen>> {
    let mut seen: Vec<Option<Seen>> = (0..dashboards).map(|_| None).collect();
    let mut deadline = tokio::time::Instant::now() + limit;
    let mut stopped = false;
    for follower in followers {
        let mut task = follower.task;
        let mut result = tokio::time::timeout_at(deadline, &mut task).await;
        if result.is_err() && !stopped {
            let _ = stop.send(true);
            stopped = true;
            deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            result = tokio::time::timeout_at(deadline, &mut task).await;
        }
        if result.is_err() {
            task.abort();
        }
        seen[follower.index] = result.ok().and_then(Result::ok);
    }
    seen
}

pub async fn run(server: &mut Server, opts: &Opts) -> Result<Outcome, Error> {
    let users = opts.users.max(1);
    let dashboard_auth =
        move |i: usize| auth(VIEWER_KEY, &format!("bench-d{}", i % users), Some(&[ROOM]));
    let counted = Arc::new(AtomicU64::new(0));
    let (stop, stopped) = watch::channel(false);

    // Before: every dashboard connected, and up to date with a few logged events.
    let all: Vec<usize> = (0..opts.dashboards).collect();
    let (first, connect_errors) = connect_all(
        server.addr,
        &all,
        opts.in_flight,
        dashboard_auth,
        &counted,
        &stopped,
    )
    .await;
    let connected = first.len();
    eprintln!(
        "  storm: {connected} dashboards in `{ROOM}` ({} failed)",
        connect_errors.len()
    );
    let returning: Vec<usize> = first.iter().map(|f| f.index).collect();
    stats::settle(Some(server.pid), Duration::from_secs(30)).await; // greetings and presence
    create_clients(server.addr, "before", opts.before).await?;
    let expected_before = (opts.before * connected) as u64;
    let delivered_before = stats::wait_for_count(
        || counted.load(Relaxed),
        expected_before,
        Duration::from_secs(5),
        Duration::from_secs(60),
    )
    .await;

    // The crash: every socket is closed by the kernel, nothing else happens.
    let killed = Instant::now();
    server.kill();
    let before = finish(first, &stop, Duration::from_secs(30), opts.dashboards).await;
    server.restart()?;
    let restart_secs = round3(killed.elapsed().as_secs_f64());
    eprintln!("  storm: killed and restarted in {restart_secs} s");
    create_clients(server.addr, "missed", opts.events).await?;

    // The storm: every dashboard back at once, with its pid and last offset.
    let resume_auth = |i: usize| {
        let mut auth = dashboard_auth(i);
        if let Some(seen) = &before[i] {
            if let Some(pid) = &seen.pid {
                auth["pid"] = json!(pid);
            }
            if let Some(offset) = seen.offset() {
                auth["offset"] = json!(offset);
            }
        }
        auth
    };
    let (stop, stopped) = watch::channel(false);
    let cpu_before = stats::cpu_seconds(server.pid);
    let started = Instant::now();
    let (back, reconnect_errors) = connect_all(
        server.addr,
        &returning,
        opts.in_flight,
        resume_auth,
        &counted,
        &stopped,
    )
    .await;
    let window = started.elapsed().as_secs_f64();
    let cpu = cpu_before
        .zip(stats::cpu_seconds(server.pid))
        .map_or(0.0, |(a, b)| (b - a) / window * 100.0);
    let reconnect = back
        .iter()
        .map(|f| f.connected_at - started)
        .max()
        .unwrap_or_default()
        .as_secs_f64();
    let latency = Histogram::default();
    let mut recovered = 0;
    let mut replayed = 0;
    for f in &back {
        latency.record(f.took.as_micros() as u64);
        let had = before[f.index].as_ref().and_then(|seen| seen.pid.as_ref());
        if f.pid.is_some() && f.pid.as_ref() == had {
            recovered += 1;
        }
        replayed += f.early as u64;
    }
    let reconnected = back.len();
    eprintln!(
        "  storm: {reconnected} reconnected in {:.2} s, {recovered} recovered, {replayed} events replayed",
        reconnect
    );
    // Live events after the CONNECTs (none are written now), then the tally.
    stats::settle(Some(server.pid), Duration::from_secs(30)).await;
    let rss_kib = stats::rss_kib(server.pid).unwrap_or(0);
    let _ = stop.send(true);
    let after = finish(back, &stop, Duration::from_secs(30), opts.dashboards).await;
    let log = event_log(server.addr).await?;
    let tally = tally(&returning, &before, &after, &log);

    let all_recovered = recovered == connected && connected > 0;
    Ok(Outcome {
        dashboards: opts.dashboards,
        connected,
        connect_errors: connect_errors.into_iter().take(5).collect(),
        missed_before_kill: expected_before.saturating_sub(delivered_before),
        restart_secs,
        events_written: opts.events,
        reconnected,
        reconnect_failed: reconnect_errors.len(),
        reconnect_errors: reconnect_errors.into_iter().take(5).collect(),
        recovered,
        reconnect_secs: round3(reconnect),
        all_recovered_secs: all_recovered.then_some(round3(reconnect)),
        reconnect_latency: latency.take(),
        replayed,
        replayed_per_sec: (replayed as f64 / reconnect.max(1e-3)).round(),
        expected: tally.expected,
        lost: tally.lost,
        doubled: tally.doubled,
        unexpected: tally.unexpected,
        out_of_order: tally.out_of_order,
        dashboards_wrong: tally.dashboards_wrong,
        server_cpu_percent: round3(cpu),
        rss_kib,
    })
}

#[derive(Debug, Default, PartialEq)]
struct Tally {
    expected: u64,
    lost: u64,
    doubled: u64,
    unexpected: u64,
    out_of_order: u64,
    dashboards_wrong: usize,
}

/// Each returning dashboard against `log` (the ids logged in its room, ascending): it
/// should have received, after reconnecting, exactly the ids after the last it had
/// before the kill, each once, in order. One that did not reconnect lost them all.
fn tally(
    returning: &[usize],
    before: &[Option<Seen>],
    after: &[Option<Seen>],
    log: &[i64],
) -> Tally {
    let mut t = Tally::default();
    for &i in returning {
        let reached = before[i]
            .as_ref()
            .and_then(|seen| seen.ids.iter().max().copied())
            .unwrap_or(0);
        let expected = &log[log.partition_point(|&id| id <= reached)..];
        let got: &[i64] = after[i].as_ref().map_or(&[], |seen| &seen.ids);
        let mut sorted = got.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let twice = (got.len() - sorted.len()) as u64;
        let old = sorted.iter().filter(|&&id| id <= reached).count() as u64;
        let unexpected = sorted
            .iter()
            .filter(|&&id| id > reached && log.binary_search(&id).is_err())
            .count() as u64;
        let lost = expected
            .iter()
            .filter(|id| sorted.binary_search(id).is_err())
            .count() as u64;
        let out_of_order = got.windows(2).filter(|w| w[0] > w[1]).count() as u64;
        t.expected += expected.len() as u64;
        t.lost += lost;
        t.doubled += twice + old;
        t.unexpected += unexpected;
        t.out_of_order += out_of_order;
        if lost + twice + old + unexpected + out_of_order > 0 {
            t.dashboards_wrong += 1;
        }
    }
    t
}

/// `count` clients created over REST (`POST /api/clients`, as staff), one at a time:
/// each logs one `client_created` in `clients`.
async fn create_clients(addr: SocketAddr, name: &str, count: usize) -> Result<(), Error> {
    let headers = [("x-api-key", STAFF_KEY), ("x-user-id", "bench-writer")];
    for i in 0..count {
        let body = json!({ "name": format!("storm {name} {i}") });
        match http_request(addr, "POST", "/api/clients", &headers, Some(&body)).await {
            Some((201, _)) => {}
            Some((status, body)) => {
                return Err(format!("POST /api/clients: {status} {body}"));
            }
            None => return Err("POST /api/clients: no answer".into()),
        }
    }
    Ok(())
}

/// The ids of the events logged in the dashboards' room, ascending (`GET /api/events`,
/// as admin, page by page).
async fn event_log(addr: SocketAddr) -> Result<Vec<i64>, Error> {
    let headers = [("x-api-key", ADMIN_KEY), ("x-user-id", "bench-admin")];
    let mut ids = Vec::new();
    let mut after = 0;
    // Bounded: a million events at most.
    for _ in 0..1_000 {
        let path = format!("/api/events?after={after}&limit=1000");
        let (status, body) = http_request(addr, "GET", &path, &headers, None)
            .await
            .ok_or("GET /api/events: no answer")?;
        if status != 200 {
            return Err(format!("GET /api/events: {status} {body}"));
        }
        let page: Value =
            serde_json::from_str(&body).map_err(|e| format!("GET /api/events: {e}"))?;
        let events = page["events"]
            .as_array()
            .ok_or("GET /api/events: no events")?;
        if events.is_empty() {
            return Ok(ids);
        }
        ids.extend(
            events
                .iter()
                .filter(|e| e["room"] == ROOM && e["type"] == EVENT)
                .filter_map(|e| e["id"].as_i64()),
        );
        after = page["next_after"]
            .as_i64()
            .ok_or("GET /api/events: no next_after")?;
    }
    Err("GET /api/events: more than a million events".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(ids: &[i64]) -> Option<Seen> {
        Some(Seen {
            ids: ids.to_vec(),
            ..Seen::default()
        })
    }

    #[test]
    fn a_dashboard_is_judged_against_the_log_after_its_point() {
        let log = [1, 2, 3, 4, 5, 6];
        let before = [seen(&[1, 2]), seen(&[1, 2]), seen(&[1, 2, 3]), seen(&[])];
        let after = [
            seen(&[3, 4, 5, 6]),    // exactly right
            seen(&[2, 3, 5, 5, 4]), // 2 again, 5 twice, 6 lost, 4 after 5
            seen(&[4, 5, 6, 9]),    // 9 is in no log
            None,                   // never came back: all six lost
        ];
        let t = tally(&[0, 1, 2, 3], &before, &after, &log);
        assert_eq!(
            t,
            Tally {
                expected: 4 + 4 + 3 + 6,
                lost: 1 + 6,
                doubled: 2,
                unexpected: 1,
                out_of_order: 1,
                dashboards_wrong: 3,
            }
        );
    }
}

//! Scenario 4, mixed dashboard: many viewers in topic rooms (a quarter each in `orders`,
//! `inventory`, all topics, or one `sku:` room; four tabs per user), a few staff
//! creating orders and setting stock at a steady rate, and an admin sending
//! notifications to single users. Measures ack latency, delivery latency of the
//! marked events (`order_created`, `notification`), their loss, and server cost.

use std::{
    collections::HashMap,
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
use tokio::{task::JoinSet, time::MissedTickBehavior};

use crate::{
    client::{Client, Error, Incoming, ack_data},
    common::{
        ADMIN_KEY, Catalog, STAFF_KEY, VIEWER_KEY, auth, connect_many_with, find_marker, marker,
        rss_after_gc,
    },
    stats::{self, Histogram, Latency, now_us, round3},
};

#[derive(Args, Debug, Clone)]
pub struct Opts {
    /// Viewer sockets (four per user).
    #[arg(long, default_value_t = 2_000)]
    pub viewers: usize,
    /// Staff sockets writing.
    #[arg(long, default_value_t = 4)]
    pub staff: usize,
    /// Writes per second per staff socket (4 in 5 are orders, 1 in 5 stock updates).
    #[arg(long, default_value_t = 25.0)]
    pub staff_rate: f64,
    /// Notifications per second, each to one user.
    #[arg(long, default_value_t = 10.0)]
    pub notify_rate: f64,
    /// Seconds to run.
    #[arg(long, default_value_t = 30.0)]
    pub secs: f64,
    /// One tab of each user marks its notifications read (`mark_read`).
    #[arg(long)]
    pub mark_read: bool,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub viewers: usize,
    pub connected: usize,
    pub commands_acked: u64,
    pub command_errors: u64,
    pub ack_latency: Latency,
    pub order_created_latency: Latency,
    pub notification_latency: Latency,
    pub deliveries: u64,
    pub deliveries_per_sec: f64,
    /// Marked events (order_created + notification) a viewer should have received and
    /// did not, counted viewer by viewer.
    pub lost: u64,
    /// Marked events a viewer received beyond what the acks promised it: duplicates, and
    /// the events of commands whose ack never came (a server that falls behind).
    pub doubled: u64,
    /// Viewers the server closed during the run.
    pub disconnected: u64,
    /// Notifications marked read (with `mark_read`), and the marks that failed.
    pub marked_read: u64,
    pub mark_read_errors: u64,
    /// Deliveries pulso itself counted as failed during the run (`pulso_send_errors_total`).
    pub server_send_errors: Option<f64>,
    pub server_cpu_percent: f64,
    pub rss_kib: u64,
}

const ORDERS: usize = 0;
const NOTIFICATIONS: usize = 1;

struct Shared {
    latency: [Histogram; 2],
    deliveries: AtomicU64,
    disconnected: AtomicU64,
    marked_read: AtomicU64,
    mark_read_errors: AtomicU64,
}

/// The marked events (orders, notifications) one viewer received.
type Counts = Arc<[AtomicU64; 2]>;

fn rooms_of(i: usize, skus: &[String]) -> Vec<String> {
    match i % 4 {
        0 => vec!["orders".into()],
        1 => vec!["inventory".into()],
        2 => vec!["orders".into(), "inventory".into(), "alerts".into()],
        _ => vec![format!("sku:{}", skus[i % skus.len()])],
    }
}

pub async fn run(addr: SocketAddr, server_pid: Option<u32>, opts: &Opts) -> Result<Outcome, Error> {
    start(addr, server_pid, opts).await?.finish().await
}

/// The load under way: viewers reading, writers writing until `opts.secs` have passed.
pub struct Load {
    addr: SocketAddr,
    server_pid: Option<u32>,
    viewers_asked: usize,
    users: usize,
    shared: Arc<Shared>,
    acks: Arc<Histogram>,
    counts: Vec<(usize, Counts)>,
    viewers: JoinSet<()>,
    writers: JoinSet<Result<Written, Error>>,
    send_errors_before: Option<f64>,
    cpu_before: Option<f64>,
    started: Instant,
}

/// Connects the viewers, waits until the server is idle, and starts the writers.
pub async fn start(addr: SocketAddr, server_pid: Option<u32>, opts: &Opts) -> Result<Load, Error> {
    let catalog = Arc::new(Catalog::create(addr).await?);
    let users = (opts.viewers / 4).max(1);
    let user_of = move |i: usize| user_of(i, users);
    // Each client with its index: what a viewer should receive depends on it.
    let (clients, errors) = connect_many_with(opts.viewers, 128, |i, source| {
        let rooms = rooms_of(i, &catalog.skus);
        let rooms: Vec<&str> = rooms.iter().map(String::as_str).collect();
        let auth = auth(VIEWER_KEY, &format!("bench-v{}", user_of(i)), Some(&rooms));
        async move { Ok((i, Client::connect(addr, Some(source), &auth).await?)) }
    })
    .await;
    if !errors.is_empty() {
        eprintln!(
            "  mixed: {} viewers failed to connect: {}",
            errors.len(),
            errors[0]
        );
    }
    let shared = Arc::new(Shared {
        latency: [Histogram::default(), Histogram::default()],
        deliveries: AtomicU64::new(0),
        disconnected: AtomicU64::new(0),
        marked_read: AtomicU64::new(0),
        mark_read_errors: AtomicU64::new(0),
    });
    let mut viewers = JoinSet::new();
    let mut counts: Vec<(usize, Counts)> = Vec::with_capacity(clients.len());
    for (i, client) in clients {
        let mine = Counts::default();
        counts.push((i, mine.clone()));
        // One tab per user marks read (all four would mark the same notification).
        let marks = opts.mark_read && i.is_multiple_of(4);
        viewers.spawn(view(client, shared.clone(), mine, marks));
    }
    stats::settle(server_pid, Duration::from_secs(30)).await; // greetings and presence
    shared.deliveries.store(0, Relaxed);
    let send_errors_before = crate::fanout::server_send_errors(addr).await;

    let acks = Arc::new(Histogram::default());
    let mut writers = JoinSet::new();
    for s in 0..opts.staff {
        let client = Client::connect(
            addr,
            None,
            &auth(STAFF_KEY, &format!("bench-staff{s}"), Some(&[])),
        )
        .await?;
        let catalog = catalog.clone();
        writers.spawn(open_loop(
            client,
            opts.staff_rate,
            opts.secs,
            acks.clone(),
            move |n| {
                if n % 5 == 4 {
                    let sku = &catalog.skus[n as usize % catalog.skus.len()];
                    (
                        "inventory:update",
                        json!({ "sku": sku, "quantity": 1_000_000_000 }),
                        None,
                    )
                } else {
                    let order = catalog.order(n as usize + s, &marker(ORDERS, now_us()));
                    ("order:create", order, Some(usize::MAX))
                }
            },
        ));
    }
    let admin = Client::connect(addr, None, &auth(ADMIN_KEY, "bench-admin", Some(&[]))).await?;
    writers.spawn(open_loop(
        admin,
        opts.notify_rate,
        opts.secs,
        acks.clone(),
        move |n| {
            let user = (n as usize * 7919) % users;
            let note = json!({
                "user_id": format!("bench-v{user}"),
                "subject": "bench",
                "message": marker(NOTIFICATIONS, now_us()),
            });
            ("notification:send", note, Some(user))
        },
    ));
    Ok(Load {
        addr,
        server_pid,
        viewers_asked: opts.viewers,
        users,
        shared,
        acks,
        counts,
        viewers,
        writers,
        send_errors_before,
        cpu_before: server_pid.and_then(stats::cpu_seconds),
        started: Instant::now(),
    })
}

/// A viewer's user: four tabs each.
fn user_of(i: usize, users: usize) -> usize {
    i / 4 % users
}

impl Load {
    /// Ack latency, then `order_created` and `notification` delivery latency, since the
    /// last call (or the start); each starts over.
    pub fn take_latencies(&self) -> [Latency; 3] {
        [
            self.acks.take(),
            self.shared.latency[ORDERS].take(),
            self.shared.latency[NOTIFICATIONS].take(),
        ]
    }

    /// Waits for the writers to end, then for what their acks promised to arrive, and
    /// counts it viewer by viewer.
    pub async fn finish(mut self) -> Result<Outcome, Error> {
        let (mut acked, mut errors, mut tags) = (0, 0, Vec::new());
        while let Some(done) = self.writers.join_next().await {
            let (ok, failed, acked_tags) = done.map_err(|e| e.to_string())??;
            acked += ok;
            errors += failed;
            tags.extend(acked_tags);
        }
        // What each viewer should receive: every acked order if it is in `orders`, and
        // every acked notification to its user.
        let orders = tags.iter().filter(|&&tag| tag == usize::MAX).count() as u64;
        let mut notified: HashMap<usize, u64> = HashMap::new();
        for &tag in tags.iter().filter(|&&tag| tag != usize::MAX) {
            *notified.entry(tag).or_default() += 1;
        }
        let users = self.users;
        let expected_at = |i: usize| {
            let in_orders = i.is_multiple_of(2); // the `orders` and all-topics viewers (`rooms_of`)
            [
                if in_orders { orders } else { 0 },
                notified.get(&user_of(i, users)).copied().unwrap_or(0),
            ]
        };
        let counts = &self.counts;
        let expected: u64 = counts.iter().flat_map(|&(i, _)| expected_at(i)).sum();
        let received = || {
            let viewer = |got: &Counts| got.iter().map(|n| n.load(Relaxed)).sum::<u64>();
            counts.iter().map(|(_, got)| viewer(got)).sum::<u64>()
        };
        stats::wait_for_count(
            received,
            expected,
            Duration::from_secs(5),
            Duration::from_secs(5),
        )
        .await;
        let elapsed = self.started.elapsed().as_secs_f64();
        let cpu = self
            .cpu_before
            .zip(self.server_pid.and_then(stats::cpu_seconds))
            .map_or(0.0, |(a, b)| (b - a) / elapsed * 100.0);
        let shared = &self.shared;
        let deliveries = shared.deliveries.load(Relaxed);
        let (mut lost, mut doubled) = (0, 0);
        for (i, got) in counts {
            for (kind, wanted) in expected_at(*i).into_iter().enumerate() {
                let got = got[kind].load(Relaxed);
                lost += wanted.saturating_sub(got);
                doubled += got.saturating_sub(wanted);
            }
        }
        let send_errors = self
            .send_errors_before
            .zip(crate::fanout::server_send_errors(self.addr).await)
            .map(|(a, b)| b - a);
        let disconnected = shared.disconnected.load(Relaxed);
        self.viewers.shutdown().await;
        let [ack_latency, order_created_latency, notification_latency] = self.take_latencies();
        Ok(Outcome {
            viewers: self.viewers_asked,
            connected: counts.len(),
            commands_acked: acked,
            command_errors: errors,
            ack_latency,
            order_created_latency,
            notification_latency,
            deliveries,
            deliveries_per_sec: (deliveries as f64 / elapsed).round(),
            lost,
            doubled,
            disconnected,
            marked_read: shared.marked_read.load(Relaxed),
            mark_read_errors: shared.mark_read_errors.load(Relaxed),
            server_send_errors: send_errors,
            server_cpu_percent: round3(cpu),
            rss_kib: rss_after_gc(self.addr, self.server_pid).await,
        })
    }
}

async fn view(mut client: Client, shared: Arc<Shared>, counts: Counts, marks_read: bool) {
    while let Ok(Some(incoming)) = client.next().await {
        let frame = match &incoming {
            Incoming::Event(frame) => frame,
            Incoming::Ack(_, raw) => {
                // Only `mark_read` is acked to a viewer.
                let done = match ack_data(raw.as_str()) {
                    Ok(_) => &shared.marked_read,
                    Err(_) => &shared.mark_read_errors,
                };
                done.fetch_add(1, Relaxed);
                continue;
            }
        };
        shared.deliveries.fetch_add(1, Relaxed);
        let name = incoming.event_name();
        if matches!(name, Some("order_created" | "notification"))
            && let Some((kind, sent)) = find_marker(frame.as_str())
            && kind < 2
        {
            shared.latency[kind].record(now_us().saturating_sub(sent));
            counts[kind].fetch_add(1, Relaxed);
            if marks_read
                && kind == NOTIFICATIONS
                && let Some(id) = notification_id(frame.as_str())
                && client
                    .emit_with_ack("mark_read", &json!({ "notification_id": id }))
                    .await
                    .is_err()
            {
                shared.mark_read_errors.fetch_add(1, Relaxed);
            }
        }
    }
    shared.disconnected.fetch_add(1, Relaxed);
}

/// The notification's own id in a `notification` event (its envelope's data).
fn notification_id(raw: &str) -> Option<i64> {
    let event: Value = serde_json::from_str(raw).ok()?;
    event[1]["data"]["id"].as_i64()
}

type Made = (&'static str, Value, Option<usize>);

/// A writer's acked commands, its errors, and the tags of the acked commands.
type Written = (u64, u64, Vec<usize>);

/// Sends `next(n)` at `rate` for `secs` without waiting for acks (bounded), records
/// ack latency; returns (acked ok, errors, the tags of the acked commands).
async fn open_loop(
    mut client: Client,
    rate: f64,
    secs: f64,
    acks: Arc<Histogram>,
    mut next: impl FnMut(u64) -> Made + Send,
) -> Result<Written, Error> {
    let total = (rate * secs).round() as u64;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.001)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(secs + 15.0);
    let mut waiting: HashMap<u64, (Instant, Option<usize>)> = HashMap::new();
    let (mut sent, mut ok, mut failed, mut tags) = (0, 0, 0, Vec::new());
    while sent < total || !waiting.is_empty() {
        tokio::select! {
            _ = ticker.tick(), if sent < total && waiting.len() < 1_000 => {
                let (event, data, tag) = next(sent);
                let id = client.emit_with_ack(event, &data).await?;
                waiting.insert(id, (Instant::now(), tag));
                sent += 1;
            }
            incoming = client.next() => match incoming? {
                Some(Incoming::Ack(id, raw)) => {
                    let Some((at, tag)) = waiting.remove(&id) else { continue };
                    acks.record(at.elapsed().as_micros() as u64);
                    match ack_data(raw.as_str()) {
                        Ok(_) => { ok += 1; tags.extend(tag); }
                        Err(_) => failed += 1,
                    }
                }
                Some(Incoming::Event(_)) => {}
                None => return Err("a writer was disconnected".into()),
            },
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    failed += waiting.len() as u64;
    client.close().await;
    Ok((ok, failed, tags))
}

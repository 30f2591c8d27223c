//! Scenario 2, fan-out: N sockets in the `orders` room, one staff producer creating
//! orders at a fixed rate (each persisted, then `order_created` to the room). The rate
//! steps up while the server keeps up without loss. The highest step with p99 delivery
//! latency within the limit is the sustainable maximum; the highest step that kept up
//! without loss, whatever its latency, is the lossless maximum (with thousands of
//! sockets one event is a burst, and its last delivery sets the p99).
//!
//! Each order's `notes` carries its step and send time, so every delivery yields a
//! latency (send → receipt, persistence included) without parsing the JSON.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use clap::Args;
use serde::Serialize;
use tokio::{task::JoinSet, time::MissedTickBehavior};

use crate::{
    client::{Client, Error, Incoming, ack_data},
    common::{
        Catalog, STAFF_KEY, VIEWER_KEY, auth, connect_many, find_marker, http_get, marker,
        metric_sum, rss_after_gc,
    },
    stats::{self, Histogram, Latency, now_us, round3},
};

#[derive(Args, Debug, Clone)]
pub struct Opts {
    /// Sockets in the room.
    #[arg(long, default_value_t = 10_000)]
    pub sockets: usize,
    /// Producer rates to step through, in events per second.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,2,5,10,20,50,100,200,500,1000"
    )]
    pub rates: Vec<f64>,
    /// Seconds per step.
    #[arg(long, default_value_t = 5.0)]
    pub step_secs: f64,
    /// A step passes while p99 delivery latency stays at or under this.
    #[arg(long, default_value_t = 50.0)]
    pub p99_limit_ms: f64,
    /// Distinct user ids over the receiving sockets.
    #[arg(long, default_value_t = 100)]
    pub users: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub rate: f64,
    pub events_sent: u64,
    pub events_acked: u64,
    pub ack_errors: u64,
    pub expected: u64,
    pub delivered: u64,
    /// Counted socket by socket: what each socket missed of the events acked.
    pub lost: u64,
    /// Deliveries beyond one per event at a socket (counted apart, so that a duplicate
    /// at one socket cannot hide a loss at another).
    pub doubled: u64,
    pub deliveries_per_sec: f64,
    pub latency: Latency,
    pub server_cpu_percent: f64,
    /// The load generator's own CPU (it shares the machine's cores with the server).
    pub client_cpu_percent: f64,
    /// Deliveries the server itself counted as failed (pulso's `pulso_send_errors_total`).
    pub server_send_errors: Option<f64>,
    pub disconnected: u64,
    /// Every event delivered to every socket, at the rate asked, without falling behind.
    pub kept_up: bool,
    /// Kept up, and p99 within the limit.
    pub passed: bool,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub sockets: usize,
    pub connected: usize,
    pub connect_errors: Vec<String>,
    pub steps: Vec<Step>,
    /// The highest step that passed (kept up, p99 within the limit).
    pub sustainable: Option<Step>,
    /// The highest step that kept up without loss, whatever its latency.
    pub lossless: Option<Step>,
    /// The step that delivered the most per second with nothing lost, whether or not it
    /// kept up with the rate asked: the delivery capacity, which the steps' granularity
    /// and the 90 % bar of `lossless` do not quantize.
    pub peak: Option<Step>,
    pub p99_limit_ms: f64,
    pub rss_kib: u64,
}

/// What the receivers count, per step (what each socket received is its `Counts`).
struct Shared {
    latency: Vec<Histogram>,
    disconnected: AtomicU64,
}

/// What one socket received, per step.
type Counts = Arc<[AtomicU64]>;

/// The receiving sockets (all in `orders`), each read by its own task, and what they
/// count per step; shared with the latency sweep, which adds sockets between steps.
pub struct Audience {
    addr: SocketAddr,
    server_pid: Option<u32>,
    shared: Arc<Shared>,
    receivers: JoinSet<()>,
    /// Each receiving socket's own counts, for loss and duplicates socket by socket.
    sockets: Vec<Counts>,
    attempted: usize,
    pub connected: usize,
    pub errors: Vec<Error>,
}

impl Audience {
    /// An audience of the server at `addr` with no sockets yet, counting `steps` steps.
    pub fn new(addr: SocketAddr, server_pid: Option<u32>, steps: usize) -> Self {
        Audience {
            addr,
            server_pid,
            shared: Arc::new(Shared {
                latency: (0..steps).map(|_| Histogram::default()).collect(),
                disconnected: AtomicU64::new(0),
            }),
            receivers: JoinSet::new(),
            sockets: Vec::new(),
            attempted: 0,
            connected: 0,
            errors: Vec::new(),
        }
    }

    /// Connects viewer sockets in `orders` until `total` were attempted (user ids
    /// spread over `users`), each then read by its own task.
    pub async fn grow(&mut self, total: usize, users: usize) {
        let (addr, first, users) = (self.addr, self.attempted, users.max(1));
        let (clients, errors) = connect_many(addr, total.saturating_sub(first), 128, |i| {
            let user = format!("bench-r{}", (first + i) % users);
            auth(VIEWER_KEY, &user, Some(&["orders"]))
        })
        .await;
        self.attempted = self.attempted.max(total);
        self.connected += clients.len();
        self.errors.extend(errors);
        let steps = self.shared.latency.len();
        for client in clients {
            let counts: Counts = (0..steps).map(|_| AtomicU64::new(0)).collect();
            self.sockets.push(counts.clone());
            self.receivers
                .spawn(receive(client, self.shared.clone(), counts));
        }
    }

    /// One step: `producer` creates orders at `rate` for `secs`, each marked with
    /// `index`; waits for their deliveries to every socket (or until none came for two
    /// seconds), then measures.
    pub async fn step(
        &self,
        producer: &mut Client,
        catalog: &Catalog,
        index: usize,
        rate: f64,
        secs: f64,
        p99_limit_ms: f64,
    ) -> Result<Step, Error> {
        let (addr, server_pid) = (self.addr, self.server_pid);
        let (shared, connected) = (&self.shared, self.connected);
        let send_errors_before = server_send_errors(addr).await;
        let cpu_before = server_pid.and_then(stats::cpu_seconds);
        let own_before = stats::cpu_seconds(std::process::id()).unwrap_or(0.0);
        let started_us = now_us();
        let (sent, acked, ack_errors) = produce(producer, catalog, index, rate, secs).await?;
        let expected = acked * connected as u64;
        // Wait for the deliveries: until all arrived or none came for two seconds.
        let delivered = stats::wait_for_count(
            || self.delivered(index),
            expected,
            Duration::from_secs(2),
            Duration::from_secs(20),
        )
        .await;
        let window = ((now_us() - started_us) as f64 / 1e6).max(secs);
        let latency = shared.latency[index].take();
        let cpu = cpu_before
            .zip(server_pid.and_then(stats::cpu_seconds))
            .map_or(0.0, |(a, b)| (b - a) / window * 100.0);
        let own = stats::cpu_seconds(std::process::id()).unwrap_or(0.0) - own_before;
        let send_errors = send_errors_before
            .zip(server_send_errors(addr).await)
            .map(|(a, b)| b - a);
        let (lost, doubled) = self.missed_and_doubled(index, acked);
        let disconnected = shared.disconnected.load(Relaxed);
        let deliveries_per_sec = (delivered as f64 / window).round();
        let kept_up = lost == 0
            && doubled == 0
            && ack_errors == 0
            && disconnected == 0
            && sent as f64 >= 0.9 * rate * secs
            && deliveries_per_sec >= 0.9 * rate * connected as f64;
        let passed = kept_up && latency.p99_ms <= p99_limit_ms;
        Ok(Step {
            rate,
            events_sent: sent,
            events_acked: acked,
            ack_errors,
            expected,
            delivered,
            lost,
            doubled,
            deliveries_per_sec,
            latency,
            server_cpu_percent: round3(cpu),
            client_cpu_percent: round3(own / window * 100.0),
            server_send_errors: send_errors,
            disconnected,
            kept_up,
            passed,
        })
    }

    /// Deliveries of step `index` so far, over every socket.
    fn delivered(&self, index: usize) -> u64 {
        self.sockets.iter().map(|c| c[index].load(Relaxed)).sum()
    }

    /// Summed over the sockets: the events of step `index` each one missed, and those it
    /// got more than once, of `acked` sent.
    fn missed_and_doubled(&self, index: usize, acked: u64) -> (u64, u64) {
        self.sockets.iter().fold((0, 0), |(lost, doubled), counts| {
            let got = counts[index].load(Relaxed);
            (
                lost + acked.saturating_sub(got),
                doubled + got.saturating_sub(acked),
            )
        })
    }

    pub async fn close(mut self) {
        self.receivers.shutdown().await;
    }
}

pub async fn run(addr: SocketAddr, server_pid: Option<u32>, opts: &Opts) -> Result<Outcome, Error> {
    let catalog = Catalog::create(addr).await?;
    let mut audience = Audience::new(addr, server_pid, opts.rates.len());
    audience.grow(opts.sockets, opts.users).await;
    let connected = audience.connected;
    eprintln!(
        "  fanout: {connected} sockets in `orders` ({} failed)",
        audience.errors.len()
    );
    let mut producer =
        Client::connect(addr, None, &auth(STAFF_KEY, "bench-producer", Some(&[]))).await?;
    stats::settle(server_pid, Duration::from_secs(30)).await; // greetings and presence

    let mut steps: Vec<Step> = Vec::new();
    for (index, &rate) in opts.rates.iter().enumerate() {
        let step = audience
            .step(
                &mut producer,
                &catalog,
                index,
                rate,
                opts.step_secs,
                opts.p99_limit_ms,
            )
            .await?;
        eprintln!(
            "  fanout: {rate}/s → {} deliveries/s, p50 {} ms, p99 {} ms, lost {}, CPU server {}% client {}%{}",
            step.deliveries_per_sec,
            step.latency.p50_ms,
            step.latency.p99_ms,
            step.lost,
            step.server_cpu_percent.round(),
            step.client_cpu_percent.round(),
            if step.passed {
                ""
            } else if step.kept_up {
                "  (p99 over the limit)"
            } else {
                "  (fell behind or lost)"
            }
        );
        let kept_up = step.kept_up;
        steps.push(step);
        if !kept_up {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let rss_kib = rss_after_gc(addr, server_pid).await;
    producer.close().await;
    let connect_errors = std::mem::take(&mut audience.errors);
    audience.close().await;
    let sustainable = steps.iter().rev().find(|s| s.passed).cloned();
    let lossless = steps.iter().rev().find(|s| s.kept_up).cloned();
    let peak = steps
        .iter()
        .filter(|s| s.lost == 0 && s.doubled == 0 && s.ack_errors == 0 && s.disconnected == 0)
        .max_by(|a, b| a.deliveries_per_sec.total_cmp(&b.deliveries_per_sec))
        .cloned();
    Ok(Outcome {
        sockets: opts.sockets,
        connected,
        connect_errors: connect_errors.into_iter().take(5).collect(),
        steps,
        sustainable,
        lossless,
        peak,
        p99_limit_ms: opts.p99_limit_ms,
        rss_kib,
    })
}

pub async fn server_send_errors(addr: SocketAddr) -> Option<f64> {
    let body = http_get(addr, "/metrics").await?;
    body.contains("pulso_")
        .then(|| metric_sum(&body, "pulso_send_errors_total"))
}

async fn receive(mut client: Client, shared: Arc<Shared>, counts: Counts) {
    loop {
        match client.next().await {
            Ok(Some(Incoming::Event(frame))) => {
                if let Some((step, sent)) = find_marker(frame.as_str())
                    && step < counts.len()
                {
                    shared.latency[step].record(now_us().saturating_sub(sent));
                    counts[step].fetch_add(1, Relaxed);
                }
            }
            Ok(Some(Incoming::Ack(..))) => {}
            Ok(None) | Err(_) => {
                shared.disconnected.fetch_add(1, Relaxed);
                return;
            }
        }
    }
}

/// Creates orders at `rate` for `secs` (open loop: the schedule does not wait for acks,
/// up to a bound on those outstanding), then waits for the last acks. Returns
/// (sent, acked ok, error acks or missing).
pub async fn produce(
    client: &mut Client,
    catalog: &Catalog,
    step: usize,
    rate: f64,
    secs: f64,
) -> Result<(u64, u64, u64), Error> {
    const MAX_OUTSTANDING: u64 = 2_000;
    let total = (rate * secs).round() as u64;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(secs + 15.0);
    let (mut sent, mut acked, mut errors) = (0u64, 0u64, 0u64);
    while sent < total || sent > acked + errors {
        tokio::select! {
            _ = ticker.tick(), if sent < total => {
                if sent - acked - errors < MAX_OUTSTANDING {
                    let order = catalog.order(sent as usize, &marker(step, now_us()));
                    client.emit_with_ack("order:create", &order).await?;
                    sent += 1;
                } else {
                    // Too far behind: the server cannot keep this rate.
                    return Ok((sent, acked, errors + (sent - acked - errors)));
                }
            }
            incoming = client.next() => match incoming? {
                Some(Incoming::Ack(_, raw)) => match ack_data(raw.as_str()) {
                    Ok(_) => acked += 1,
                    Err(_) => errors += 1,
                },
                Some(Incoming::Event(_)) => {}
                None => return Err("the producer was disconnected".into()),
            },
            _ = tokio::time::sleep_until(deadline) => {
                return Ok((sent, acked, errors + (sent - acked - errors)));
            }
        }
    }
    Ok((sent, acked, errors))
}

//! Scenario 3, commands: M staff sockets each keeping K `order:create` in flight (closed
//! loop: a new one goes out when an ack comes back), so M×K commands are always
//! waiting on the server. Measures acks per second and ack latency. One observer in the
//! `orders` room checks that every acked order was also announced.

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
use tokio::task::JoinSet;

use crate::{
    client::{Client, Error, Incoming, ack_data},
    common::{Catalog, STAFF_KEY, VIEWER_KEY, auth, marker, rss_after_gc},
    stats::{self, Histogram, Latency, round3},
};

#[derive(Args, Debug, Clone)]
pub struct Opts {
    /// Staff sockets sending commands.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Commands each socket keeps in flight.
    #[arg(long, default_value_t = 4)]
    pub in_flight: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 20.0)]
    pub secs: f64,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub clients: usize,
    pub in_flight: usize,
    pub secs: f64,
    pub acked: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub acks_per_sec: f64,
    pub latency: Latency,
    /// `order_created` events the observer saw (should equal `acked`).
    pub observed_events: u64,
    pub server_cpu_percent: f64,
    pub rss_kib: u64,
}

pub async fn run(addr: SocketAddr, server_pid: Option<u32>, opts: &Opts) -> Result<Outcome, Error> {
    let catalog = Arc::new(Catalog::create(addr).await?);
    let latency = Arc::new(Histogram::default());
    let observed = Arc::new(AtomicU64::new(0));
    let mut observer = Client::connect(
        addr,
        None,
        &auth(VIEWER_KEY, "bench-observer", Some(&["orders"])),
    )
    .await?;
    let observing = tokio::spawn({
        let observed = observed.clone();
        async move {
            while let Ok(Some(incoming)) = observer.next().await {
                if incoming.event_name() == Some("order_created") {
                    observed.fetch_add(1, Relaxed);
                }
            }
        }
    });
    // Staff sockets start in no topic room: this measures commands, not fan-out.
    let mut staff = Vec::new();
    for i in 0..opts.clients {
        staff.push(
            Client::connect(
                addr,
                None,
                &auth(STAFF_KEY, &format!("bench-staff{i}"), Some(&[])),
            )
            .await?,
        );
    }
    let cpu_before = server_pid.and_then(stats::cpu_seconds);
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(opts.secs);
    let mut tasks = JoinSet::new();
    for (i, client) in staff.into_iter().enumerate() {
        tasks.spawn(closed_loop(
            client,
            catalog.clone(),
            i,
            opts.in_flight,
            until,
            latency.clone(),
        ));
    }
    let (mut acked, mut errors, mut first_error) = (0, 0, None);
    while let Some(done) = tasks.join_next().await {
        let (ok, failed, first) = done.map_err(|e| e.to_string())??;
        acked += ok;
        errors += failed;
        first_error = first_error.or(first);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_before
        .zip(server_pid.and_then(stats::cpu_seconds))
        .map_or(0.0, |(a, b)| (b - a) / elapsed * 100.0);
    // The last announcements may trail the last acks by a moment.
    stats::wait_for_count(
        || observed.load(Relaxed),
        acked,
        Duration::from_secs(2),
        Duration::from_secs(10),
    )
    .await;
    observing.abort();
    Ok(Outcome {
        clients: opts.clients,
        in_flight: opts.in_flight,
        secs: round3(elapsed),
        acked,
        errors,
        first_error,
        acks_per_sec: (acked as f64 / elapsed).round(),
        latency: latency.take(),
        observed_events: observed.load(Relaxed),
        server_cpu_percent: round3(cpu),
        rss_kib: rss_after_gc(addr, server_pid).await,
    })
}

/// Keeps `depth` orders in flight on one socket until `until`, then collects the last
/// acks. Returns (acked ok, errors, the first error).
async fn closed_loop(
    mut client: Client,
    catalog: Arc<Catalog>,
    index: usize,
    depth: usize,
    until: Instant,
    latency: Arc<Histogram>,
) -> Result<(u64, u64, Option<String>), Error> {
    let mut waiting: HashMap<u64, Instant> = HashMap::new();
    let (mut ok, mut failed, mut first_error) = (0, 0, None);
    let mut n = index * 1_000_000;
    let limit = until + Duration::from_secs(15);
    loop {
        while waiting.len() < depth && Instant::now() < until {
            n += 1;
            let id = client
                .emit_with_ack("order:create", &catalog.order(n, &marker(0, 0)))
                .await?;
            waiting.insert(id, Instant::now());
        }
        if waiting.is_empty() {
            break;
        }
        let incoming = tokio::time::timeout_at(limit.into(), client.next())
            .await
            .map_err(|_| "acks still missing 15 s after the end".to_owned())??;
        match incoming {
            Some(Incoming::Ack(id, raw)) => {
                let Some(sent) = waiting.remove(&id) else {
                    continue;
                };
                latency.record(sent.elapsed().as_micros() as u64);
                match ack_data(raw.as_str()) {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        failed += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            Some(Incoming::Event(_)) => {}
            None => return Err("a staff socket was disconnected".into()),
        }
    }
    client.close().await;
    Ok((ok, failed, first_error))
}

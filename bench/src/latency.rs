//! Delivery-latency sweep: how long one event takes to reach every socket of a room, as
//! the room grows (1 000, 2 000, 5 000, 10 000 sockets). One server; sockets are added
//! between the points (the fan-out scenario's audience), and at each point the producer
//! creates a few orders, one a second, each a burst to the whole room: p50 / p99 are
//! over every delivery of those bursts (send → receipt, persistence included).

use std::{net::SocketAddr, time::Duration};

use clap::Args;
use serde::Serialize;

use crate::{
    client::{Client, Error},
    common::{Catalog, STAFF_KEY, auth},
    fanout::{Audience, Step},
    stats,
};

#[derive(Args, Debug, Clone)]
pub struct Opts {
    /// Sockets in the room at each point, ascending.
    #[arg(long, value_delimiter = ',', default_value = "1000,2000,5000,10000")]
    pub sockets: Vec<usize>,
    /// Events (bursts) per point.
    #[arg(long, default_value_t = 5)]
    pub events: u64,
    /// Events per second: slow enough that each burst is delivered before the next.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Distinct user ids over the receiving sockets.
    #[arg(long, default_value_t = 100)]
    pub users: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Sockets asked for at this point.
    pub sockets: usize,
    pub connected: usize,
    /// The fan-out step measured there (its `passed` uses a 50 ms p99 limit).
    pub step: Step,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub points: Vec<Point>,
    pub connect_errors: Vec<String>,
    pub events: u64,
    pub rate: f64,
}

impl Outcome {
    /// The point measured with `sockets` sockets asked for, if any.
    pub fn at(&self, sockets: usize) -> Option<&Point> {
        self.points.iter().find(|p| p.sockets == sockets)
    }
}

/// The target the sweep is judged against at 2 000 sockets.
pub const P99_LIMIT_MS: f64 = 50.0;

pub async fn run(addr: SocketAddr, server_pid: Option<u32>, opts: &Opts) -> Result<Outcome, Error> {
    let catalog = Catalog::create(addr).await?;
    let mut audience = Audience::new(addr, server_pid, opts.sockets.len());
    let mut producer =
        Client::connect(addr, None, &auth(STAFF_KEY, "bench-producer", Some(&[]))).await?;
    let rate = opts.rate.max(0.001);
    let secs = opts.events.max(1) as f64 / rate;
    let mut points = Vec::new();
    for (index, &sockets) in opts.sockets.iter().enumerate() {
        audience.grow(sockets, opts.users).await;
        stats::settle(server_pid, Duration::from_secs(30)).await; // greetings and presence
        let step = audience
            .step(&mut producer, &catalog, index, rate, secs, P99_LIMIT_MS)
            .await?;
        eprintln!(
            "  latency: {} sockets → p50 {} ms, p99 {} ms, max {} ms, lost {}",
            audience.connected,
            step.latency.p50_ms,
            step.latency.p99_ms,
            step.latency.max_ms,
            step.lost
        );
        points.push(Point {
            sockets,
            connected: audience.connected,
            step,
        });
    }
    producer.close().await;
    let connect_errors = std::mem::take(&mut audience.errors);
    audience.close().await;
    Ok(Outcome {
        points,
        connect_errors: connect_errors.into_iter().take(5).collect(),
        events: opts.events,
        rate: opts.rate,
    })
}

//! What every scenario shares: the target (loopback only), the API keys, source
//! addresses, connecting many sockets at once, and the catalog orders are made from.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use clap::Args;
use serde_json::{Value, json};
use tokio::{io::AsyncReadExt, io::AsyncWriteExt, net::TcpStream, task::JoinSet};

use crate::client::{Client, Error};

/// The keys `compare` configures on every server (roles admin, staff, viewer).
pub const API_KEYS: &str = "bench-admin-key:admin,bench-staff-key:staff,bench-viewer-key:viewer";
pub const ADMIN_KEY: &str = "bench-admin-key";
pub const STAFF_KEY: &str = "bench-staff-key";
pub const VIEWER_KEY: &str = "bench-viewer-key";

/// Stock large enough that no benchmark runs out (the contract's maximum).
const STOCK: u64 = 1_000_000_000;
/// Orders spread over this many SKUs.
pub const SKUS: usize = 16;

/// The server under test, as the scenario subcommands take it.
#[derive(Args, Debug, Clone)]
pub struct Target {
    /// The server's URL, e.g. http://127.0.0.1:8080 (loopback addresses only). Its API
    /// keys must include bench-admin-key:admin, bench-staff-key:staff and
    /// bench-viewer-key:viewer.
    #[arg(long)]
    pub url: String,
    /// The server's process id, to report its RSS and CPU time from /proc.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

/// `http://127.0.0.1:8080` → its socket address; anything but loopback is refused: this
/// tool only ever loads servers on this machine.
pub fn loopback_addr(url: &str) -> Result<SocketAddr, Error> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    let addr: SocketAddr = match authority.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}").parse(),
        None => authority.parse(),
    }
    .map_err(|_| format!("{url}: expected http://IP:PORT or http://localhost:PORT"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{url}: refusing a non-loopback target ({})",
            addr.ip()
        ));
    }
    Ok(addr)
}

/// A fresh 127.x.y.z source address each call (127.0.1.1, 127.0.1.2, ...): each holds
/// ~28 000 ephemeral ports, and a fresh one is never blocked by an earlier run's
/// TIME_WAIT sockets.
pub fn next_source() -> IpAddr {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // Offset by process id so worker processes and later runs pick other addresses.
    let host = 0x7f00_0101 + ((std::process::id() % 4096) << 8) + n % 250;
    IpAddr::V4(Ipv4Addr::from(host))
}

/// The `auth` a benchmark socket connects with.
pub fn auth(key: &str, user_id: &str, rooms: Option<&[&str]>) -> Value {
    let mut auth = json!({ "api_key": key, "user_id": user_id });
    if let Some(rooms) = rooms {
        auth["rooms"] = json!(rooms);
    }
    auth
}

/// Connects `count` sockets, `parallel` handshakes at a time; `auth_of(i)` gives the
/// i-th socket's auth. Returns the clients (in no particular order) and the errors.
pub async fn connect_many(
    addr: SocketAddr,
    count: usize,
    parallel: usize,
    auth_of: impl Fn(usize) -> Value,
) -> (Vec<Client>, Vec<Error>) {
    connect_many_with(count, parallel, |i, source| {
        let auth = auth_of(i);
        async move { Client::connect(addr, Some(source), &auth).await }
    })
    .await
}

/// Runs `connect(i, source)` for i in 0..count, `parallel` at a time, each on a
/// spawned task, with a fresh source address every 20 000; returns what succeeded (in
/// no particular order) and the errors.
pub async fn connect_many_with<T, F>(
    count: usize,
    parallel: usize,
    connect: impl Fn(usize, IpAddr) -> F,
) -> (Vec<T>, Vec<Error>)
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    let mut source = next_source();
    let mut pending = JoinSet::new();
    let (mut done, mut errors) = (Vec::with_capacity(count), Vec::new());
    for i in 0..count {
        if i > 0 && i % 20_000 == 0 {
            source = next_source();
        }
        while pending.len() >= parallel.max(1) {
            collect(pending.join_next().await, &mut done, &mut errors);
        }
        pending.spawn(connect(i, source));
    }
    while let Some(joined) = pending.join_next().await {
        collect(Some(joined), &mut done, &mut errors);
    }
    (done, errors)
}

type Joined<T> = Option<Result<Result<T, Error>, tokio::task::JoinError>>;

fn collect<T>(joined: Joined<T>, done: &mut Vec<T>, errors: &mut Vec<Error>) {
    match joined {
        Some(Ok(Ok(value))) => done.push(value),
        Some(Ok(Err(e))) => errors.push(e),
        Some(Err(e)) => errors.push(e.to_string()),
        None => {}
    }
}

/// What orders are made of: one client and `SKUS` well-stocked items.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub client_id: i64,
    pub skus: Vec<String>,
}

impl Catalog {
    pub async fn create(addr: SocketAddr) -> Result<Self, Error> {
        let auth = auth(STAFF_KEY, "bench-setup", Some(&[]));
        let mut staff = Client::connect(addr, None, &auth).await?;
        let customer = staff
            .call("client:create", &json!({ "name": "Bench Co" }))
            .await?;
        let client_id = customer["id"].as_i64().ok_or("client:create: no id")?;
        let mut skus = Vec::new();
        for i in 0..SKUS {
            let sku = format!("BENCH-{i}");
            let item = json!({ "sku": sku, "name": format!("Bench item {i}"), "quantity": STOCK });
            staff.call("inventory:update", &item).await?;
            skus.push(sku);
        }
        staff.close().await;
        Ok(Self { client_id, skus })
    }

    /// An `order:create` payload for one unit of the n-th SKU, carrying `marker`.
    pub fn order(&self, n: usize, marker: &str) -> Value {
        json!({
            "client_id": self.client_id,
            "items": [{ "sku": self.skus[n % self.skus.len()], "quantity": 1, "unit_price": "1.50" }],
            "notes": marker,
        })
    }
}

/// `bench@<step>@<sent_us>`: what producers put in a field the receivers see, so a
/// delivery tells which step it belongs to and when it was sent.
pub fn marker(step: usize, sent_us: u64) -> String {
    format!("bench@{step}@{sent_us}")
}

/// Finds a marker in a raw event payload without parsing the JSON.
pub fn find_marker(raw: &str) -> Option<(usize, u64)> {
    let at = raw.find("bench@")? + "bench@".len();
    let mut parts = raw[at..].splitn(3, ['@', '"']);
    let step = parts.next()?.parse().ok()?;
    let sent = parts.next()?.parse().ok()?;
    Some((step, sent))
}

/// The server's RSS in KiB (0 without a pid), read after asking it to collect its
/// garbage (`GET /bench/gc`: Node's reference collects when started with --expose-gc; the
/// others have no collector to run and answer 404), so that a garbage-collected server's
/// figure is not uncollected garbage.
pub async fn rss_after_gc(addr: SocketAddr, pid: Option<u32>) -> u64 {
    let _ = http_get(addr, "/bench/gc").await;
    pid.and_then(crate::stats::rss_kib).unwrap_or(0)
}

/// A plain HTTP/1.1 GET on loopback (for pulso's /metrics); the body, or None.
pub async fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    http_request(addr, "GET", path, &[], None)
        .await
        .map(|(_, body)| body)
}

/// A plain HTTP/1.1 request on loopback (one connection, closed after; no chunked
/// bodies: every server here sends a length). The status and body, or None.
pub async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Option<(u16, String)> {
    let fetch = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (name, value) in headers {
            request += &format!("{name}: {value}\r\n");
        }
        let body = body.map(Value::to_string).unwrap_or_default();
        if !body.is_empty() {
            request += &format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            );
        }
        request += "\r\n";
        request += &body;
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await.ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, body.to_owned()))
    };
    tokio::time::timeout(Duration::from_secs(5), fetch)
        .await
        .ok()?
}

/// The sum of a Prometheus counter's samples in a /metrics body (0 when absent).
pub fn metric_sum(body: &str, name: &str) -> f64 {
    body.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>()
        + 0.0 // an empty sum is -0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() {
        assert!(loopback_addr("http://127.0.0.1:8080").is_ok());
        assert!(loopback_addr("http://localhost:3000/").is_ok());
        assert!(loopback_addr("ws://127.0.0.5:1").is_ok());
        assert!(loopback_addr("http://10.0.0.1:8080").is_err());
        assert!(loopback_addr("http://example.com:80").is_err());
    }

    #[test]
    fn markers_round_trip() {
        let raw = format!(
            r#"["order_created",{{"data":{{"notes": "{}"}}}}]"#,
            marker(3, 1234)
        );
        assert_eq!(find_marker(&raw), Some((3, 1234)));
        assert_eq!(find_marker("[\"x\",{}]"), None);
    }

    #[test]
    fn counters_are_summed_over_labels() {
        let body =
            "# TYPE x counter\npulso_send_errors_total 3\nx{a=\"1\"} 2\nx{a=\"2\"} 5\nxy 9\n";
        assert_eq!(metric_sum(body, "x"), 7.0);
        assert_eq!(metric_sum(body, "pulso_send_errors_total"), 3.0);
    }
}

//! A Redis of the test's own, stopped and started again under two running nodes.

use std::{net::TcpListener, process::Stdio, time::Duration};

use reqwest::Method;
use serde_json::json;
use tokio::process::Command;

use crate::{
    first_node,
    helpers::{STAFF_KEY, TestApp, VIEWER_KEY, eventually, metrics, series},
    unique_prefix, until_ready_is,
};

/// Waits until `pulso_redis_up` says `up` (the keepalive pings every second).
async fn until_redis_up_is(node: &TestApp, up: f64) {
    eventually(
        &format!("pulso_redis_up {up}"),
        Duration::from_secs(15),
        || async { (series(&metrics(node).await, "pulso_redis_up") == up).then_some(()) },
    )
    .await;
}

async fn adapter_errors(node: &TestApp) -> f64 {
    series(&metrics(node).await, "pulso_adapter_errors_total")
}

struct OwnRedis {
    port: u16,
}

impl OwnRedis {
    async fn start_on(port: u16) -> OwnRedis {
        let status = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "yes"])
            .status()
            .await
            .expect("redis-server runs");
        assert!(status.success());
        let redis = OwnRedis { port };
        redis.wait_until(true).await;
        redis
    }

    async fn start() -> OwnRedis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        OwnRedis::start_on(port).await
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn cli(&self, args: &[&str]) -> Command {
        let mut command = Command::new("redis-cli");
        command.args(["-p", &self.port.to_string()]).args(args);
        command
    }

    /// Waits (without blocking the nodes' runtime) until it answers, or no longer does.
    async fn wait_until(&self, up: bool) {
        let state = if up { "up" } else { "down" };
        eventually(
            &format!("redis on {} {state}", self.port),
            Duration::from_secs(5),
            || async {
                let answers = self
                    .cli(&["ping"])
                    .output()
                    .await
                    .is_ok_and(|out| out.stdout.starts_with(b"PONG"));
                (answers == up).then_some(())
            },
        )
        .await;
    }

    async fn stop(&self) {
        let _ = self.cli(&["shutdown", "nosave"]).output().await;
        self.wait_until(false).await;
    }
}

impl Drop for OwnRedis {
    /// Stops it if a failed test left it running (nothing waits for that).
    fn drop(&mut self) {
        let _ = self
            .cli(&["shutdown", "nosave"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }
}

pub async fn run() {
    let redis = OwnRedis::start().await;
    let a = first_node(&redis.url(), &unique_prefix("outage")).await;
    let b = a.sibling().await;
    let writer_on_a = a.socket(STAFF_KEY, "writer").await;
    let watcher_on_a = a.socket(VIEWER_KEY, "local-watcher").await;
    let watcher_on_b = b.socket(VIEWER_KEY, "remote-watcher").await;

    until_redis_up_is(&a, 1.0).await;
    let errors_before = adapter_errors(&a).await;

    redis.stop().await;
    until_ready_is(&a, 503).await;
    until_redis_up_is(&a, 0.0).await;
    let (_, ready) = a.api(Method::GET, "/ready", None).await;
    assert_eq!(
        ready,
        json!({ "status": "degraded", "redis": "unreachable" })
    );
    // Writes and local delivery go on; the other node misses it (and can catch up
    // from the event log).
    let during = writer_on_a
        .ok("client:create", json!({ "name": "during" }))
        .await;
    assert_eq!(
        watcher_on_a.event("client_created").await["data"]["id"],
        during["id"]
    );
    // That event reached this node only: counted.
    assert_eq!(adapter_errors(&a).await - errors_before, 1.0);

    let redis = OwnRedis::start_on(redis.port).await;
    until_ready_is(&a, 200).await;
    until_ready_is(&b, 200).await;
    until_redis_up_is(&a, 1.0).await;
    // Delivery across nodes resumes without restarting anything. (The first emits after
    // a reconnect may race the resubscription: retry until one arrives.)
    let arrived = eventually("cross-node delivery", Duration::from_secs(15), || async {
        writer_on_a
            .ok("client:create", json!({ "name": "after" }))
            .await;
        tokio::time::timeout(Duration::from_secs(1), watcher_on_b.event("client_created"))
            .await
            .ok()
    })
    .await;
    assert_eq!(arrived["data"]["name"], "after");
    // What the other node missed is in the log.
    let (_, log) = b.api(Method::GET, "/api/events?after=0", None).await;
    assert!(
        log["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["data"]["id"] == during["id"])
    );

    for socket in [writer_on_a, watcher_on_a, watcher_on_b] {
        socket.disconnect().await;
    }
    b.stop().await;
    a.stop().await;
    drop(redis);
}

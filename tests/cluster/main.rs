//! Several pulso nodes sharing one database and one Redis: everything a client sees is
//! the same whichever node it is connected to, a node that stops reporting drops out of
//! the stats, and a node that loses Redis keeps serving its own sockets and recovers by
//! itself.
//!
//! Needs `PULSO_TEST_REDIS_URL` (a Redis 7 server; `.ci/run` sets it). Without it this
//! prints that it was skipped and runs nothing. It uses a key prefix of its own, and for
//! the outage a `redis-server` it starts on a free loopback port.

#[allow(dead_code)]
#[path = "../api/database.rs"]
mod database;
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
mod outage;
mod stale_node;
mod three_nodes;

use std::{process::ExitCode, time::Duration};

use helpers::TestApp;
use reqwest::Method;

pub const REDIS_VARIABLE: &str = "PULSO_TEST_REDIS_URL";

fn main() -> ExitCode {
    let Some(redis_url) = std::env::var(REDIS_VARIABLE).ok().filter(|u| !u.is_empty()) else {
        println!(
            "SKIPPED: the cluster tests (set {REDIS_VARIABLE}=redis://127.0.0.1:6379 to run them)"
        );
        return ExitCode::SUCCESS;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        println!("cluster: three nodes share events, inboxes, presence and broadcasts ...");
        three_nodes::run(&redis_url).await;
        println!("cluster: a node that stops reporting drops out of the stats ...");
        stale_node::run(&redis_url).await;
        println!("cluster: a node that loses Redis serves its own sockets and recovers ...");
        outage::run().await;
    });
    println!("cluster tests: 3 passed");
    ExitCode::SUCCESS
}

/// A prefix no other run shares.
pub fn unique_prefix(name: &str) -> String {
    format!("pulso-test-{}-{name}", std::process::id())
}

/// A node that shares rooms through `redis_url` under `prefix`; its `sibling`s are the
/// other nodes of the cluster. The Admin UI is on (open to anyone: development).
pub async fn first_node(redis_url: &str, prefix: &str) -> TestApp {
    helpers::spawn_durable_app_with(|config| {
        config.redis_url = Some(redis_url.to_owned());
        config.redis_prefix = prefix.to_owned();
        config.admin_ui = true;
    })
    .await
}

/// Polls `/ready` until it answers `status`.
pub async fn until_ready_is(node: &TestApp, status: u16) {
    helpers::eventually(
        &format!("/ready answering {status}"),
        Duration::from_secs(15),
        || async {
            let (got, _) = helpers::send(node.raw(Method::GET, "/ready")).await;
            (got == status).then_some(())
        },
    )
    .await;
}

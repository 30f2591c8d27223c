//! A node that stops reporting (it crashed, or lost Redis) drops out of every node's
//! `/ws/stats` once its last report is older than the stats' lifetime (10 s), while the
//! live nodes' counts stay.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use redis::AsyncCommands;
use reqwest::Method;
use serde_json::Value;

use crate::{
    first_node,
    helpers::{STAFF_KEY, TestApp, VIEWER_KEY, WAIT, eventually},
    unique_prefix,
};

/// `/ws/stats` once it covers `nodes` nodes and `sockets` sockets.
async fn stats_covering(node: &TestApp, nodes: usize, sockets: u64, limit: Duration) -> Value {
    eventually(
        &format!("stats covering {nodes} nodes and {sockets} sockets"),
        limit,
        || async {
            let (status, body) = node.api(Method::GET, "/ws/stats", None).await;
            assert_eq!(status, 200, "{body}");
            let stats = body["stats"].clone();
            let covers = stats["nodes"].as_array().map(Vec::len) == Some(nodes)
                && stats["total_connections"] == sockets;
            covers.then_some(stats)
        },
    )
    .await
}

pub async fn run(redis_url: &str) {
    let prefix = unique_prefix("stale");
    let a = first_node(redis_url, &prefix).await;
    let b = a.sibling().await;
    let on_a = a.socket(STAFF_KEY, "ann").await;
    let on_b = b.socket(VIEWER_KEY, "bob").await;
    stats_covering(&a, 2, 2, WAIT * 2).await;

    // A third node's report, as the live ones write it, with 5 sockets: it reports once
    // and then never again, as a node killed without cleanup.
    let key = format!("{prefix}:stats");
    let mut redis = redis::Client::open(redis_url)
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis connects");
    let reports: HashMap<String, String> = redis.hgetall(&key).await.expect("stats hash");
    let mut ghost: Value =
        serde_json::from_str(reports.values().next().expect("a live report")).unwrap();
    ghost["node_id"] = "ghost".into();
    ghost["total_connections"] = 5.into();
    ghost["reported_at"] = chrono::Utc::now().timestamp_millis().into();
    let reported = Instant::now();
    let () = redis
        .hset(&key, "ghost", ghost.to_string())
        .await
        .expect("ghost report written");
    // While its report is fresh it counts...
    let (_, body) = b.api(Method::GET, "/ws/stats", None).await;
    assert_eq!(body["stats"]["total_connections"], 7, "{body}");
    assert_eq!(body["stats"]["nodes"].as_array().map(Vec::len), Some(3));

    // ...and once it is older than 10 s it is left out; the live nodes still count.
    let stats = stats_covering(&a, 2, 2, Duration::from_secs(20)).await;
    assert!(
        reported.elapsed() >= Duration::from_secs(9),
        "dropped after {:?}",
        reported.elapsed()
    );
    let mut per_node: Vec<(bool, u64)> = stats["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["node_id"] == "ghost",
                n["total_connections"].as_u64().unwrap(),
            )
        })
        .collect();
    per_node.sort_unstable();
    assert_eq!(per_node, [(false, 1), (false, 1)]);
    let (_, body) = b.api(Method::GET, "/ws/stats", None).await;
    assert_eq!(body["stats"]["total_connections"], 2, "{body}");
    let kept: bool = redis.hexists(&key, "ghost").await.expect("hexists");
    assert!(!kept, "the stale report is removed from Redis");

    on_a.disconnect().await;
    on_b.disconnect().await;
    b.stop().await;
    a.stop().await;
}

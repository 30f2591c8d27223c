//! What only shows with several nodes on one database: concurrent reservations of the
//! last units never oversell, and readers paging the event log never skip an event.
//! Runs on SQLite (two servers on one file) and on PostgreSQL when it is configured.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn two_nodes_never_oversell_the_last_units() {
    let first = spawn_durable_app().await;
    let second = first.sibling().await;
    let client_id = first.seed("LAST-1", 3, 0).await;
    let order = json!({ "client_id": client_id, "items": [{ "sku": "LAST-1", "quantity": 1, "unit_price": "1.00" }] });
    let attempts = (0..20).map(|n| {
        let node = if n % 2 == 0 { &first } else { &second };
        node.api(Method::POST, "/api/orders", Some(order.clone()))
    });
    let statuses: Vec<u16> = join_all(attempts)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        17,
        "{statuses:?}"
    );
    let (_, item) = second.api(Method::GET, "/api/inventory/LAST-1", None).await;
    assert_eq!(item["quantity"], 0);
    second.stop().await;
    first.stop().await;
}

#[tokio::test]
async fn readers_of_the_event_log_never_skip_an_event() {
    let first = spawn_durable_app().await;
    let second = first.sibling().await;
    let writers = (0..4).map(|w| {
        let node = if w % 2 == 0 { &first } else { &second };
        async move {
            for n in 0..25 {
                let (status, _) = node
                    .api(
                        Method::POST,
                        "/api/clients",
                        Some(json!({ "name": format!("w{w}-{n}") })),
                    )
                    .await;
                assert_eq!(status, 201);
            }
        }
    });
    let writing = join_all(writers);
    // A reader follows the log with its cursor while the writers run on both nodes.
    let reading = async {
        let mut seen = Vec::new();
        let mut cursor = 0;
        while seen.len() < 100 {
            let (_, page) = second
                .api(Method::GET, &format!("/api/events?after={cursor}"), None)
                .await;
            let events = page["events"].as_array().unwrap();
            for event in events {
                seen.push(event["id"].as_i64().unwrap());
            }
            cursor = page["next_after"].as_i64().unwrap();
            if events.is_empty() {
                // Nothing new yet: let the writers run (two cores are shared with them).
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        seen
    };
    let reading = tokio::time::timeout(WAIT * 6, reading);
    let ((), seen) = tokio::join!(
        async {
            writing.await;
        },
        reading
    );
    let seen = seen.expect("the reader saw all 100 events in time");
    let (_, log) = first
        .api(Method::GET, "/api/events?after=0&limit=1000", None)
        .await;
    let all: Vec<i64> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(all.len(), 100);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "ids increase");
    assert_eq!(seen, all, "the reader saw every event, in order");
    second.stop().await;
    first.stop().await;
}

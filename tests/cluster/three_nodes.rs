//! Three nodes on one database and one Redis, clients spread over them.

use reqwest::Method;
use rust_socketio::TransportType;
use serde_json::json;

use crate::{
    first_node,
    helpers::{ADMIN_KEY, STAFF_KEY, TestApp, TestSocket, VIEWER_KEY, WAIT, eventually, every_arg},
    unique_prefix,
};

/// Waits until `node` has no socket in `room`.
async fn gone_from(node: &TestApp, room: &str) {
    eventually(&format!("{room} gone"), WAIT, || async {
        let (_, stats) = node.api(Method::GET, "/ws/stats", None).await;
        stats["stats"]["rooms"][room].is_null().then_some(())
    })
    .await;
}

pub async fn run(redis_url: &str) {
    let a = first_node(redis_url, &unique_prefix("three")).await;
    let b = a.sibling().await;
    let c = a.sibling().await;

    let ann_on_a = a.socket(STAFF_KEY, "ann").await;
    let ann_on_b = b.socket(STAFF_KEY, "ann").await;
    let bob_on_c = c.socket(VIEWER_KEY, "bob").await;
    let admin_on_b = b.socket(ADMIN_KEY, "boss").await;
    for socket in [&ann_on_a, &ann_on_b, &bob_on_c, &admin_on_b] {
        socket.event("unread_count").await;
    }
    // bob (on C) saw the admin arrive on B.
    assert_eq!(bob_on_c.event("user_connected").await["user_id"], "boss");

    // Any node's stats cover the cluster, with each node's beside the totals (nodes
    // share theirs every few seconds).
    let stats = eventually("stats covering 3 nodes and 4 sockets", WAIT * 2, || async {
        let (status, body) = c.api(Method::GET, "/ws/stats", None).await;
        assert_eq!(status, 200);
        let stats = body["stats"].clone();
        let complete =
            stats["nodes"].as_array().map(Vec::len) == Some(3) && stats["total_connections"] == 4;
        complete.then_some(stats)
    })
    .await;
    assert_eq!(stats["unique_users"], 3, "{stats}");
    assert_eq!(stats["rooms"]["user:ann"], 2, "{stats}");
    assert_eq!(
        stats["connections_by_role"],
        json!({ "admin": 1, "staff": 2, "viewer": 1 })
    );
    let mut per_node: Vec<u64> = stats["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["total_connections"].as_u64().unwrap())
        .collect();
    per_node.sort_unstable();
    assert_eq!(per_node, [1, 1, 2]);
    // Who is connected, asked of a node that holds none of them but bob.
    let (status, online) = c.api(Method::GET, "/api/presence", None).await;
    assert_eq!(status, 200, "{online}");
    assert_eq!(
        online,
        json!({ "users": [
            { "user_id": "ann", "role": "staff" },
            { "user_id": "bob", "role": "viewer" },
            { "user_id": "boss", "role": "admin" },
        ] })
    );
    // The Admin UI, on C, lists every node's sockets and hears from every node.
    let ui = TestSocket::connect_to(
        &c.url,
        "/admin",
        json!({}),
        TransportType::Any,
        "config",
        every_arg,
    )
    .await;
    let all = ui.event("all_sockets").await[0].clone();
    let mut users: Vec<&str> = all
        .as_array()
        .expect("sockets")
        .iter()
        .filter_map(|socket| {
            let rooms = socket["rooms"].as_array()?;
            rooms
                .iter()
                .find_map(|room| room.as_str()?.strip_prefix("user:"))
        })
        .collect();
    users.sort_unstable();
    assert_eq!(users, ["ann", "ann", "bob", "boss"], "{all}");
    let mut servers = std::collections::BTreeSet::new();
    while servers.len() < 3 {
        let stats = ui.event("server_stats").await[0].clone();
        servers.insert(stats["serverId"].as_str().expect("serverId").to_owned());
    }
    // It moves ann's two tabs, on A and B, into a room.
    ui.emit(
        "join",
        vec![json!("/"), json!("order:9"), json!("user:ann")],
    )
    .await;
    for _ in 0..2 {
        assert_eq!(ui.event("room_joined").await[1], "order:9");
    }
    // Any node's stats cover the cluster once the nodes have shared theirs.
    eventually("ann's two tabs in order:9", WAIT * 2, || async {
        let (_, stats) = a.api(Method::GET, "/ws/stats", None).await;
        (stats["stats"]["rooms"]["order:9"] == 2).then_some(())
    })
    .await;
    ui.disconnect().await;

    // Domain events reach every node.
    let created = ann_on_a
        .ok("client:create", json!({ "name": "Across" }))
        .await;
    for socket in [&ann_on_b, &bob_on_c, &admin_on_b] {
        let envelope = socket.event("client_created").await;
        assert_eq!(envelope["data"]["id"], created["id"]);
    }

    // A notification reaches every tab of its user, on any node, and nobody else.
    let sent = admin_on_b
        .ok(
            "notification:send",
            json!({ "user_id": "ann", "subject": "for ann", "message": "m" }),
        )
        .await;
    for tab in [&ann_on_a, &ann_on_b] {
        assert_eq!(tab.event("notification").await["data"]["id"], sent["id"]);
        assert_eq!(tab.event("unread_count").await["unread_count"], 1);
    }
    // Read on node A: the tab on node B hears it.
    ann_on_a
        .ok("mark_read", json!({ "notification_id": sent["id"] }))
        .await;
    let confirmation = ann_on_b.event("notification_read_confirmation").await;
    assert_eq!(confirmation["data"]["notification_id"], sent["id"]);
    assert_eq!(ann_on_b.event("unread_count").await["unread_count"], 0);

    // A notification for everyone refreshes every user's count, on every node.
    admin_on_b
        .ok(
            "notification:send",
            json!({ "user_id": null, "subject": "all", "message": "m" }),
        )
        .await;
    assert_eq!(
        bob_on_c.event("notification").await["data"]["subject"],
        "all"
    );
    assert_eq!(bob_on_c.event("unread_count").await["unread_count"], 1);
    for socket in [&ann_on_a, &ann_on_b, &admin_on_b] {
        assert_eq!(socket.event("notification").await["data"]["subject"], "all");
    }
    assert!(
        bob_on_c.received("notification").await.is_empty(),
        "ann's notification never reached bob"
    );

    // Test broadcasts reach every node.
    let (status, report) = c
        .api(
            Method::POST,
            "/ws/_test/broadcast",
            Some(json!({ "title": "t" })),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    for socket in [&ann_on_a, &ann_on_b, &admin_on_b] {
        let data = socket.event("notification").await["data"].clone();
        assert_eq!(data["type"], "test_broadcast");
    }

    // Presence counts a user's sockets on every node: the first tab anywhere announces,
    // the last tab anywhere says goodbye, even when tabs on two nodes open or close at
    // the same instant.
    for _ in 0..3 {
        let (cat_on_a, cat_on_b) =
            tokio::join!(a.socket(STAFF_KEY, "cat"), b.socket(STAFF_KEY, "cat"));
        assert_eq!(bob_on_c.event("user_connected").await["user_id"], "cat");
        tokio::join!(cat_on_a.disconnect(), cat_on_b.disconnect());
        assert_eq!(bob_on_c.event("user_disconnected").await["user_id"], "cat");
    }
    let cat_on_a = a.socket(STAFF_KEY, "cat").await;
    assert_eq!(bob_on_c.event("user_connected").await["user_id"], "cat");
    let cat_on_b = b.socket(STAFF_KEY, "cat").await;
    cat_on_a.disconnect().await;
    gone_from(&a, "user:cat").await;
    cat_on_b.disconnect().await;
    assert_eq!(bob_on_c.event("user_disconnected").await["user_id"], "cat");
    let dan_on_c = c.socket(STAFF_KEY, "dan").await;
    assert_eq!(bob_on_c.event("user_connected").await["user_id"], "dan");
    assert!(
        bob_on_c.received("user_connected").await.is_empty(),
        "cat's second tab was no news"
    );
    assert!(
        bob_on_c.received("user_disconnected").await.is_empty(),
        "cat left once"
    );

    for socket in [ann_on_a, ann_on_b, bob_on_c, admin_on_b, dan_on_c] {
        socket.disconnect().await;
    }
    c.stop().await;
    b.stop().await;
    a.stop().await;
}

//! Rooms: joining and leaving by hand, who may join what, and once-per-socket delivery.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn join_and_leave_take_a_name_or_an_object() {
    let app = spawn_app().await;
    let socket = app
        .socket_with(
            json!({ "api_key": VIEWER_KEY, "user_id": "v1", "rooms": [] }),
            rust_socketio::TransportType::Any,
        )
        .await;
    // Its own user and role rooms, then one more each time.
    let joined = socket.ok("join_room", json!("orders")).await;
    assert_eq!(joined, json!({ "room": "orders", "room_count": 3 }));
    let joined = socket.ok("join_room", json!({ "room": "sku:ABC-1" })).await;
    assert_eq!(joined, json!({ "room": "sku:ABC-1", "room_count": 4 }));
    socket.ok("join_room", json!({ "room": "order:12" })).await;
    socket.ok("join_room", json!("client:3")).await;
    let again = socket.ok("join_room", json!("user:v1")).await;
    assert_eq!(again["room_count"], 6, "its own room: already in it");

    let left = socket.ok("leave_room", json!("orders")).await;
    assert_eq!(left, json!({ "room": "orders", "room_count": 5 }));
    socket
        .ok("leave_room", json!({ "room": "sku:ABC-1" }))
        .await;
    socket.disconnect().await;
    app.stop().await;
}

/// A socket's rooms are capped (`PULSO_MAX_ROOMS_PER_SOCKET`, its own user and role rooms
/// included), at connect and by hand, and an ack stays the same size however many rooms
/// the socket holds.
#[tokio::test]
async fn rooms_per_socket_are_capped_and_acks_do_not_grow() {
    let app = spawn_app_with(|config| config.max_rooms_per_socket = 8).await;
    let too_many: Vec<String> = (1..=7).map(|n| format!("sku:CAP-{n}")).collect();
    let answer = raw_connect(
        &app,
        "",
        json!({ "api_key": VIEWER_KEY, "user_id": "v1", "rooms": too_many }),
    )
    .await;
    assert!(
        answer.starts_with("44") && answer.contains("too many rooms"),
        "{answer}"
    );

    let socket = app
        .socket_with(
            json!({ "api_key": VIEWER_KEY, "user_id": "v1", "rooms": [] }),
            rust_socketio::TransportType::Any,
        )
        .await;
    let mut sizes = Vec::new();
    for n in 1..=6 {
        let joined = socket.ok("join_room", json!(format!("sku:CAP-{n}"))).await;
        assert_eq!(joined["room_count"], n + 2);
        sizes.push(joined.to_string().len());
    }
    assert!(
        sizes.iter().all(|&size| size == sizes[0]),
        "acks grew: {sizes:?}"
    );
    let refused = socket
        .err("join_room", json!("sku:CAP-7"), "rate_limited")
        .await;
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("PULSO_MAX_ROOMS_PER_SOCKET")),
        "{refused}"
    );
    socket.ok("join_room", json!("sku:CAP-6")).await;
    socket.ok("leave_room", json!("sku:CAP-1")).await;
    socket.ok("join_room", json!("sku:CAP-7")).await;
    socket.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn private_and_unknown_rooms_are_refused() {
    let app = spawn_app().await;
    let socket = app.socket(ADMIN_KEY, "boss").await;
    for room in ["user:someone-else", "role:admin", "role:viewer"] {
        socket.err("join_room", json!(room), "forbidden").await;
    }
    for room in ["lobby", "order:abc", "order:-1", "sku:bad sku", "sku:", ""] {
        let error = socket.err("join_room", json!(room), "invalid").await;
        assert!(error["fields"]["room"].is_string(), "{room}: {error}");
    }
    socket.err("join_room", json!(42), "invalid").await;
    socket
        .err("join_room", json!({ "name": "orders" }), "invalid")
        .await;
    socket
        .err("leave_room", json!("user:boss"), "forbidden")
        .await;
    socket
        .err("leave_room", json!("role:admin"), "forbidden")
        .await;
    socket.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn an_event_reaches_a_socket_once_even_through_two_rooms() {
    let app = spawn_app().await;
    let client_id = app.seed("ONCE-1", 10, 0).await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    let order = staff
        .ok(
            "order:create",
            json!({ "client_id": client_id, "items": [{ "sku": "ONCE-1", "quantity": 1, "unit_price": 1 }] }),
        )
        .await;
    let watcher = app.socket(VIEWER_KEY, "v1").await;
    watcher.event("connection_established").await;
    watcher
        .ok("join_room", json!(format!("order:{}", order["id"])))
        .await;

    staff
        .ok(
            "order:update",
            json!({ "id": order["id"], "notes": "twice?" }),
        )
        .await;
    watcher.event("order_updated").await;
    // A later event in another room: anything sent before it has arrived by now.
    staff.ok("client:create", json!({ "name": "Marker" })).await;
    watcher.event("client_created").await;
    assert!(
        watcher.received("order_updated").await.is_empty(),
        "delivered twice"
    );

    // The entity room alone is enough to follow one order.
    let narrow = app
        .socket_with(
            json!({ "api_key": VIEWER_KEY, "user_id": "v2", "rooms": [format!("order:{}", order["id"])] }),
            rust_socketio::TransportType::Any,
        )
        .await;
    narrow.event("connection_established").await;
    staff
        .ok(
            "order:update",
            json!({ "id": order["id"], "status": "confirmed" }),
        )
        .await;
    assert_eq!(
        narrow.event("order_status_changed").await["data"]["to"],
        "confirmed"
    );
    staff.disconnect().await;
    watcher.disconnect().await;
    narrow.disconnect().await;
    app.stop().await;
}

/// Waits until everything sent to `socket` (of `user`) so far has arrived: a
/// notification to its user, sent now, arrives after all of it.
async fn all_arrived(app: &TestApp, socket: &TestSocket, user: &str) {
    let marker = json!({ "user_id": user, "subject": "marker", "message": "m" });
    let (status, _) = app
        .api(Method::POST, "/api/notifications", Some(marker))
        .await;
    assert_eq!(status, 201);
    socket.event("notification").await;
}

/// The string at `pointer` in each `event` that `socket` received, in order.
async fn received_strings(socket: &TestSocket, event: &str, pointer: &str) -> Vec<String> {
    let received = socket.received(event).await;
    received
        .iter()
        .map(|envelope| {
            envelope
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// `client:{id}` alone is enough to follow one client: each of its updates arrives
/// once, and no other client's.
#[tokio::test]
async fn a_socket_in_one_client_room_gets_that_clients_updates_once() {
    let app = spawn_app().await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    let followed = staff
        .ok("client:create", json!({ "name": "Followed" }))
        .await;
    let other = staff.ok("client:create", json!({ "name": "Other" })).await;
    let follower = only_in(&app, "f1", &[format!("client:{}", followed["id"])]).await;

    for (client, name) in [
        (&other, "Other 2"),
        (&followed, "Followed 2"),
        (&other, "Other 3"),
        (&followed, "Followed 3"),
    ] {
        staff
            .ok("client:update", json!({ "id": client["id"], "name": name }))
            .await;
    }
    all_arrived(&app, &follower, "f1").await;
    let names = received_strings(&follower, "client_updated", "/data/name").await;
    assert_eq!(names, ["Followed 2", "Followed 3"]);
    staff.disconnect().await;
    follower.disconnect().await;
    app.stop().await;
}

/// `sku:{sku}` alone is enough to follow one item: its `inventory_updated` and
/// `stock_low` arrive once each, and no other item's.
#[tokio::test]
async fn a_socket_in_one_sku_room_gets_that_items_stock_events_once() {
    let app = spawn_app().await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    for sku in ["FOLLOWED-1", "OTHER-1"] {
        staff
            .ok(
                "inventory:update",
                json!({ "sku": sku, "name": sku, "quantity": 10, "threshold": 8 }),
            )
            .await;
    }
    let follower = only_in(&app, "f1", &["sku:FOLLOWED-1".to_owned()]).await;

    // 10 → 7 crosses the threshold (an `inventory_updated` and a `stock_low`); OTHER-1's
    // second move, to 4, is an `inventory_updated` alone.
    for sku in ["OTHER-1", "FOLLOWED-1", "OTHER-1"] {
        staff
            .ok("inventory:update", json!({ "sku": sku, "delta": -3 }))
            .await;
    }
    all_arrived(&app, &follower, "f1").await;
    for event in ["inventory_updated", "stock_low"] {
        let skus = received_strings(&follower, event, "/data/sku").await;
        assert_eq!(skus, ["FOLLOWED-1"], "{event}");
    }
    staff.disconnect().await;
    follower.disconnect().await;
    app.stop().await;
}

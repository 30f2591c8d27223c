//! Orders over sockets: reservation, status rules, cancellation, all-or-nothing writes.

use reqwest::Method;
use rust_socketio::TransportType;
use serde_json::{Value, json};

use crate::helpers::*;

fn order_of(client_id: i64, sku: &str, quantity: i64, price: &str) -> serde_json::Value {
    json!({ "client_id": client_id, "items": [{ "sku": sku, "quantity": quantity, "unit_price": price }], "notes": "rush" })
}

#[tokio::test]
async fn two_dashboards_see_each_others_orders() {
    let app = spawn_app().await;
    let client_id = app.seed("ORD-1", 10, 2).await;
    let a = app.socket(STAFF_KEY, "a").await;
    let b = app.socket(STAFF_KEY, "b").await;
    b.event("connection_established").await;

    let order = a
        .ok("order:create", order_of(client_id, "ORD-1", 3, "19.99"))
        .await;
    assert_eq!(order["status"], "pending");
    assert_eq!(order["total"], "59.97");
    assert_eq!(order["items"][0]["unit_price"], "19.99");
    assert_eq!(order["notes"], "rush");
    let seen = b.event("order_created").await;
    assert_eq!(seen["data"], order);
    assert_eq!(seen["room"], "orders");
    assert_eq!(seen["user_id"], "a");
    let stock = b.event("inventory_updated").await;
    assert_eq!(stock["data"]["quantity"], 7);

    let order2 = b
        .ok("order:create", order_of(client_id, "ORD-1", 1, "1"))
        .await;
    let own = a.event("order_created").await;
    assert_eq!(
        own["data"]["id"], order["id"],
        "the sender's dashboard gets its own event too"
    );
    let seen = a.event("order_created").await;
    assert_eq!(seen["data"]["id"], order2["id"]);
    assert!(seen["id"].as_i64().is_some_and(|id| id > 0), "{seen}");
    a.disconnect().await;
    b.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn an_order_that_cannot_be_filled_writes_nothing() {
    let app = spawn_app().await;
    let client_id = app.seed("FEW-1", 2, 0).await;
    app.api(
        Method::POST,
        "/api/inventory",
        Some(json!({ "sku": "MANY-1", "name": "Plenty", "quantity": 100 })),
    )
    .await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    let (_, before) = app.api(Method::GET, "/api/events?after=0", None).await;

    let order = json!({ "client_id": client_id, "items": [
        { "sku": "MANY-1", "quantity": 5, "unit_price": 1 },
        { "sku": "FEW-1", "quantity": 3, "unit_price": 1 }
    ]});
    let error = staff.err("order:create", order, "conflict").await;
    assert!(
        error["message"].as_str().unwrap().contains("FEW-1"),
        "{error}"
    );
    let unknown = json!({ "client_id": client_id, "items": [{ "sku": "GHOST", "quantity": 1, "unit_price": 1 }] });
    staff.err("order:create", unknown, "not_found").await;
    let no_client = order_of(9999, "MANY-1", 1, "1");
    staff.err("order:create", no_client, "not_found").await;

    let (_, many) = app.api(Method::GET, "/api/inventory/MANY-1", None).await;
    assert_eq!(
        many["quantity"], 100,
        "the first line's reservation was rolled back"
    );
    let (_, orders) = app.api(Method::GET, "/api/orders", None).await;
    assert_eq!(orders["total"], 0);
    let (_, after) = app.api(Method::GET, "/api/events?after=0", None).await;
    assert_eq!(after["events"], before["events"], "no event recorded");
    staff.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn status_moves_forward_cancels_restock_and_bad_moves_conflict() {
    let app = spawn_app().await;
    let client_id = app.seed("ST-1", 10, 0).await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    let watcher = app.socket(VIEWER_KEY, "v1").await;
    watcher.event("connection_established").await;
    let order = staff
        .ok("order:create", order_of(client_id, "ST-1", 4, "2.50"))
        .await;
    let id = order["id"].clone();

    staff
        .err(
            "order:update",
            json!({ "id": id, "status": "shipped" }),
            "conflict",
        )
        .await;
    let confirmed = staff
        .ok("order:update", json!({ "id": id, "status": "confirmed" }))
        .await;
    assert_eq!(confirmed["status"], "confirmed");
    let change = watcher.event("order_status_changed").await;
    assert_eq!(change["data"]["order_id"], id);
    assert_eq!(change["data"]["from"], "pending");
    assert_eq!(change["data"]["to"], "confirmed");
    assert_eq!(change["data"]["order"]["status"], "confirmed");
    assert_eq!(
        watcher.event("order_updated").await["data"]["status"],
        "confirmed"
    );

    let noted = staff
        .ok(
            "order:update",
            json!({ "id": id, "notes": "leave at door" }),
        )
        .await;
    assert_eq!(noted["notes"], "leave at door");
    assert_eq!(noted["status"], "confirmed");

    let cancelled = staff
        .ok("order:update", json!({ "id": id, "status": "cancelled" }))
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    let (_, item) = app.api(Method::GET, "/api/inventory/ST-1", None).await;
    assert_eq!(
        item["quantity"], 10,
        "cancelling restores the reserved stock"
    );
    staff
        .err(
            "order:update",
            json!({ "id": id, "status": "pending" }),
            "conflict",
        )
        .await;
    staff
        .err(
            "order:update",
            json!({ "id": id, "status": "confirmed" }),
            "conflict",
        )
        .await;
    staff
        .err(
            "order:update",
            json!({ "id": 424242, "status": "confirmed" }),
            "not_found",
        )
        .await;
    let error = staff
        .err(
            "order:update",
            json!({ "id": id, "status": "lost" }),
            "invalid",
        )
        .await;
    assert!(error["fields"]["status"].is_string(), "{error}");

    let second = staff
        .ok("order:create", order_of(client_id, "ST-1", 1, "1"))
        .await;
    for status in ["confirmed", "shipped", "delivered"] {
        let moved = staff
            .ok(
                "order:update",
                json!({ "id": second["id"], "status": status }),
            )
            .await;
        assert_eq!(moved["status"], status);
    }
    staff
        .err(
            "order:update",
            json!({ "id": second["id"], "status": "cancelled" }),
            "conflict",
        )
        .await;
    staff.disconnect().await;
    watcher.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn bad_order_input_gets_an_invalid_ack_naming_fields() {
    let app = spawn_app().await;
    let client_id = app.seed("BAD-1", 10, 0).await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    let cases = [
        (json!({ "client_id": "x", "items": [] }), "client_id"),
        (json!({ "items": [] }), "client_id"),
        (json!({ "client_id": client_id, "items": [] }), "items"),
        (json!({ "client_id": client_id }), "items"),
        (
            json!({ "client_id": client_id, "items": [{ "sku": "BAD-1", "quantity": 0, "unit_price": 1 }] }),
            "items[0].quantity",
        ),
        (
            json!({ "client_id": client_id, "items": [{ "sku": "BAD-1", "quantity": 1.5, "unit_price": 1 }] }),
            "items[0].quantity",
        ),
        (
            json!({ "client_id": client_id, "items": [{ "sku": "BAD-1", "quantity": 1, "unit_price": "1.001" }] }),
            "items[0].unit_price",
        ),
        (
            json!({ "client_id": client_id, "items": [{ "sku": "BAD-1", "quantity": 1, "unit_price": -2 }] }),
            "items[0].unit_price",
        ),
        (
            json!({ "client_id": client_id, "items": [
            { "sku": "BAD-1", "quantity": 1, "unit_price": 1 }, { "sku": "BAD-1", "quantity": 1, "unit_price": 1 }
        ] }),
            "items",
        ),
    ];
    for (payload, field) in cases {
        let error = staff.err("order:create", payload.clone(), "invalid").await;
        assert!(
            error["fields"][field].is_string(),
            "{payload} should name `{field}`: {error}"
        );
    }
    staff.err("order:create", json!([1, 2]), "invalid").await;
    staff.err("order:create", json!(null), "invalid").await;
    staff.err("order:explode", json!({}), "invalid").await;

    let (_, item) = app.api(Method::GET, "/api/inventory/BAD-1", None).await;
    assert_eq!(item["quantity"], 10);
    // The socket is still usable after all that.
    staff
        .ok("order:create", order_of(client_id, "BAD-1", 1, "1"))
        .await;
    staff.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn viewers_may_read_but_not_write() {
    let app = spawn_app().await;
    let client_id = app.seed("VIEW-1", 10, 0).await;
    let viewer = app.socket(VIEWER_KEY, "v1").await;
    let commands = [
        ("client:create", json!({ "name": "x" })),
        ("client:update", json!({ "id": client_id, "name": "x" })),
        (
            "inventory:update",
            json!({ "sku": "VIEW-1", "quantity": 1 }),
        ),
        ("stock_low", json!({ "sku": "VIEW-1" })),
        ("order:create", order_of(client_id, "VIEW-1", 1, "1")),
    ];
    for (command, payload) in commands {
        viewer.err(command, payload, "forbidden").await;
    }
    let (_, item) = app.api(Method::GET, "/api/inventory/VIEW-1", None).await;
    assert_eq!(item["quantity"], 10);
    let (_, clients) = app.api(Method::GET, "/api/clients", None).await;
    assert_eq!(clients["items"][0]["name"], "Seed Client");
    viewer.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn clients_are_created_and_changed_over_sockets() {
    let app = spawn_app().await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    let other = app.socket(VIEWER_KEY, "v1").await;
    other.event("connection_established").await;

    let created = staff
        .ok(
            "client:create",
            json!({ "name": "  Bea  ", "email": "bea@example.com", "phone": "+34 600 000 000" }),
        )
        .await;
    assert_eq!(created["name"], "Bea");
    assert_eq!(other.event("client_created").await["data"], created);
    let updated = staff
        .ok(
            "client:update",
            json!({ "id": created["id"], "email": "", "name": "Beatriz" }),
        )
        .await;
    assert_eq!(updated["name"], "Beatriz");
    assert_eq!(updated["email"], serde_json::Value::Null);
    assert_eq!(updated["phone"], "+34 600 000 000");
    let seen = other.event("client_updated").await;
    assert_eq!(seen["room"], "clients");
    assert_eq!(seen["data"], updated);

    let error = staff
        .err(
            "client:create",
            json!({ "name": "", "email": "nope" }),
            "invalid",
        )
        .await;
    assert!(
        error["fields"]["name"].is_string() && error["fields"]["email"].is_string(),
        "{error}"
    );
    staff
        .err(
            "client:create",
            json!({ "name": "P", "phone": "call me" }),
            "invalid",
        )
        .await;
    staff
        .err(
            "client:update",
            json!({ "id": 999, "name": "x" }),
            "not_found",
        )
        .await;
    staff
        .err("client:update", json!({ "name": "x" }), "invalid")
        .await;
    staff.disconnect().await;
    other.disconnect().await;
    app.stop().await;
}

/// Orders that arrive together are written together (one transaction per batch); each
/// must still be decided as if written alone, in turn, and answered on its own.
#[tokio::test]
async fn orders_sent_at_once_are_each_decided_in_turn() {
    let app = spawn_app().await;
    let client_id = app.seed("RUSH-1", 10, 0).await;
    // One command per socket: rust_socketio 0.6 draws ack ids at random from 0..999, so
    // acks outstanding together on one client may collide.
    let mut sockets = Vec::new();
    for n in 0..32 {
        let user = format!("rush{n}");
        sockets.push((user.clone(), app.socket(STAFF_KEY, &user).await));
    }
    // Half order one unit each; a quarter name an unknown client, a quarter an unknown SKU.
    let commands = sockets.iter().enumerate().map(|(n, (user, socket))| {
        let order = match n % 4 {
            0 | 1 => order_of(client_id, "RUSH-1", 1, "1"),
            2 => order_of(9999, "RUSH-1", 1, "1"),
            _ => order_of(client_id, "GHOST", 1, "1"),
        };
        async move { (user.clone(), socket.ack("order:create", order).await) }
    });
    let replies = futures_util::future::join_all(commands).await;

    let outcome = |reply: &serde_json::Value| match reply["ok"].as_bool() {
        Some(true) => "ok".to_owned(),
        _ => reply["error"]["code"].as_str().unwrap_or("?").to_owned(),
    };
    let count = |code: &str| replies.iter().filter(|(_, r)| outcome(r) == code).count();
    assert_eq!(count("ok"), 10, "{replies:?}");
    assert_eq!(count("conflict"), 6, "{replies:?}");
    assert_eq!(count("not_found"), 16, "{replies:?}");
    for (_, reply) in replies.iter().filter(|(_, r)| outcome(r) == "conflict") {
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("insufficient stock for sku RUSH-1"),
            "{reply}"
        );
    }
    let (_, item) = app.api(Method::GET, "/api/inventory/RUSH-1", None).await;
    assert_eq!(item["quantity"], 0, "sold exactly what there was");

    let (_, log) = app
        .api(Method::GET, "/api/events?after=0&limit=1000", None)
        .await;
    let events = log["events"].as_array().unwrap();
    // Each order's event names the user who sent it.
    let senders: std::collections::HashMap<i64, &str> = replies
        .iter()
        .filter(|(_, r)| r["ok"] == true)
        .map(|(user, r)| (r["data"]["id"].as_i64().unwrap(), user.as_str()))
        .collect();
    let created: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "order_created")
        .collect();
    assert_eq!(created.len(), 10);
    for event in created {
        let id = event["data"]["id"].as_i64().unwrap();
        assert_eq!(event["user_id"], senders[&id], "{event}");
    }
    // The stock went down one unit per order, in the log's order.
    let quantities: Vec<i64> = events
        .iter()
        .filter(|e| e["type"] == "inventory_updated" && e["data"]["sku"] == "RUSH-1")
        .map(|e| e["data"]["quantity"].as_i64().unwrap())
        .collect();
    assert_eq!(
        quantities,
        (0..=10).rev().collect::<Vec<i64>>(),
        "seeded, then sold"
    );
    let lows: Vec<_> = events.iter().filter(|e| e["type"] == "stock_low").collect();
    assert_eq!(
        lows.len(),
        1,
        "one alert, when the stock reached its threshold"
    );
    assert_eq!(lows[0]["data"]["quantity"], 0);
    for (_, socket) in sockets {
        socket.disconnect().await;
    }
    app.stop().await;
}

/// `order:create` emits `order_created`, then `inventory_updated`, then `stock_low`
/// (docs/protocol.md), and one socket in all three rooms gets them in that order.
#[tokio::test]
async fn an_order_emits_its_events_in_the_promised_order() {
    let app = spawn_app().await;
    let client_id = app.seed("SEQ-1", 5, 4).await;
    let staff = app.socket(STAFF_KEY, "sequence").await;
    staff
        .ok("order:create", order_of(client_id, "SEQ-1", 2, "3.50"))
        .await;
    let names = ["order_created", "inventory_updated", "stock_low"];
    let mut arrived = Vec::new();
    for _ in names {
        arrived.push(staff.next_of(&names).await.0);
    }
    assert_eq!(arrived, names);
    staff.disconnect().await;
    app.stop().await;
}

/// A dashboard that catches up from the log sees exactly what live sockets were sent.
#[tokio::test]
async fn live_events_are_the_logged_events() {
    let app = spawn_app().await;
    let client_id = app.seed("LOG-1", 5, 4).await;
    let staff = app.socket(STAFF_KEY, "logger").await;
    staff.event("connection_established").await;
    staff
        .ok("order:create", order_of(client_id, "LOG-1", 2, "3.50"))
        .await;
    let live = [
        staff.event("order_created").await,
        staff.event("inventory_updated").await,
        staff.event("stock_low").await,
    ];
    let (_, log) = app
        .api(Method::GET, "/api/events?after=0&limit=1000", None)
        .await;
    for event in &live {
        let logged = log["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|logged| logged["id"] == event["id"])
            .unwrap_or_else(|| panic!("{event} is not in the log"));
        assert_eq!(logged, event);
    }
    staff.disconnect().await;
    app.stop().await;
}

/// More order lines at once than one batch takes: the rest wait for the next turn and
/// every order is written and answered.
#[tokio::test]
async fn a_burst_larger_than_one_batch_is_written_in_full() {
    let app = spawn_app().await;
    let client_id = app.seed("BULK-0", 1000, 0).await;
    for n in 1..100 {
        let item = json!({ "sku": format!("BULK-{n}"), "name": "Bulk", "quantity": 1000 });
        let (status, _) = app.api(Method::POST, "/api/inventory", Some(item)).await;
        assert_eq!(status, 201);
    }
    let lines: Vec<_> = (0..100)
        .map(|n| json!({ "sku": format!("BULK-{n}"), "quantity": 1, "unit_price": "1" }))
        .collect();
    let order = json!({ "client_id": client_id, "items": lines });
    // 24 orders of 100 lines, one per socket (see `orders_sent_at_once_are_each_decided_in_turn`): 2 400 lines, more than twice
    // what one batch takes. The sockets are in no topic room: 2 400 `inventory_updated`
    // at once would overflow a socket's queue (which drops what does not fit).
    let mut sockets = Vec::new();
    for n in 0..24 {
        let auth = json!({ "api_key": STAFF_KEY, "user_id": format!("bulk{n}"), "rooms": [] });
        sockets.push(app.socket_with(auth, TransportType::Any).await);
    }
    let sends = sockets
        .iter()
        .map(|socket| socket.ok("order:create", order.clone()));
    let orders = futures_util::future::join_all(sends).await;
    let ids: std::collections::BTreeSet<i64> = orders
        .iter()
        .map(|order| order["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 24);
    assert!(
        orders
            .iter()
            .all(|order| order["items"].as_array().unwrap().len() == 100)
    );
    let (_, item) = app.api(Method::GET, "/api/inventory/BULK-42", None).await;
    assert_eq!(item["quantity"], 1000 - 24);
    for socket in sockets {
        socket.disconnect().await;
    }
    app.stop().await;
}

/// Cancelling always succeeds: a restock that would pass the most an item can hold
/// (1 000 000 000) stops there.
#[tokio::test]
async fn cancelling_succeeds_when_the_restock_would_pass_the_maximum() {
    const MAX: i64 = 1_000_000_000;
    let app = spawn_app().await;
    let client_id = app.seed("CAP-1", MAX, 0).await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    let order = staff
        .ok("order:create", order_of(client_id, "CAP-1", MAX, "0.01"))
        .await;
    staff
        .ok(
            "inventory:update",
            json!({ "sku": "CAP-1", "quantity": MAX }),
        )
        .await;
    let cancelled = staff
        .ok(
            "order:update",
            json!({ "id": order["id"], "status": "cancelled" }),
        )
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    let (_, item) = app.api(Method::GET, "/api/inventory/CAP-1", None).await;
    assert_eq!(item["quantity"], MAX, "the restock stops at the maximum");
    // The same over REST.
    let (_, order) = app
        .api(
            Method::POST,
            "/api/orders",
            Some(order_of(client_id, "CAP-1", MAX, "0.01")),
        )
        .await;
    app.api(
        Method::PATCH,
        "/api/inventory/CAP-1",
        Some(json!({ "quantity": MAX })),
    )
    .await;
    let (status, cancelled) = app
        .api(
            Method::POST,
            &format!("/api/orders/{}/status", order["id"]),
            Some(json!({ "status": "cancelled" })),
        )
        .await;
    assert_eq!(
        (status, &cancelled["status"]),
        (200, &json!("cancelled")),
        "{cancelled}"
    );
    let (_, item) = app.api(Method::GET, "/api/inventory/CAP-1", None).await;
    assert_eq!(item["quantity"], MAX);
    staff.disconnect().await;
    app.stop().await;
}

/// Setting the status an order already has changes nothing: the answer is the order as
/// it was, nothing is logged and nothing is sent.
#[tokio::test]
async fn setting_the_current_status_again_changes_nothing() {
    let app = spawn_app().await;
    let client_id = app.seed("SAME-1", 10, 0).await;
    let staff = app.socket(STAFF_KEY, "s1").await;
    let watcher = app.socket(VIEWER_KEY, "v1").await;
    watcher.event("connection_established").await;
    let order = staff
        .ok("order:create", order_of(client_id, "SAME-1", 1, "1.00"))
        .await;
    watcher.event("order_created").await;
    let id = order["id"].as_i64().unwrap();
    let log = || app.api(Method::GET, "/api/events?after=0&limit=1000", None);
    let (_, logged) = log().await;

    let again = staff
        .ok("order:update", json!({ "id": id, "status": "pending" }))
        .await;
    assert_eq!(again, order);
    let (status, again) = app
        .api(
            Method::POST,
            &format!("/api/orders/{id}/status"),
            Some(json!({ "status": "pending" })),
        )
        .await;
    assert_eq!((status, again), (200, order.clone()));
    assert_eq!(log().await.1, logged, "nothing logged");

    // With a note, only the note changes: `order_updated`, no `order_status_changed`.
    let noted = staff
        .ok(
            "order:update",
            json!({ "id": id, "status": "pending", "notes": "marker" }),
        )
        .await;
    assert_eq!(
        (&noted["status"], &noted["notes"]),
        (&json!("pending"), &json!("marker"))
    );
    // A later event in another room: whatever was sent before it has arrived.
    staff.ok("client:create", json!({ "name": "Later" })).await;
    watcher.event("client_created").await;
    let updates: Vec<Value> = watcher
        .received("order_updated")
        .await
        .into_iter()
        .map(|update| update["data"].clone())
        .collect();
    assert_eq!(updates, [noted], "one update, the note's");
    assert!(watcher.received("order_status_changed").await.is_empty());
    staff.disconnect().await;
    watcher.disconnect().await;
    app.stop().await;
}

//! Who may do what, every pair: role × socket command, role × REST route, role × room.
//! A denial is `forbidden` (ack) or 403 (HTTP) and leaves the event log untouched.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const ROLES: [(&str, &str); 3] = [
    ("admin", ADMIN_KEY),
    ("staff", STAFF_KEY),
    ("viewer", VIEWER_KEY),
];

/// The id of the newest event in the log: a denied action must not move it.
async fn last_event(app: &TestApp) -> i64 {
    let (status, page) = app
        .api(Method::GET, "/api/events?after=0&limit=1000", None)
        .await;
    assert_eq!(status, 200);
    page["next_after"].as_i64().unwrap()
}

/// An order for one unit of `P-1`.
fn one_unit(client_id: i64) -> Value {
    json!({ "client_id": client_id, "items": [{ "sku": "P-1", "quantity": 1, "unit_price": "1.00" }] })
}

/// A client `client_id`, item `P-1` and order `order_id` for the commands to act on.
async fn seeded() -> (TestApp, i64, i64) {
    let app = spawn_app().await;
    let client_id = app.seed("P-1", 1000, 1).await;
    let (status, order) = app
        .api(Method::POST, "/api/orders", Some(one_unit(client_id)))
        .await;
    assert_eq!(status, 201);
    (app, client_id, order["id"].as_i64().unwrap())
}

/// A notification for `user`, sent by the admin: what `mark_read` acts on.
async fn notification_for(app: &TestApp, user: &str) -> i64 {
    let (status, sent) = app
        .api(
            Method::POST,
            "/api/notifications",
            Some(json!({ "user_id": user, "subject": "s", "message": "m" })),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    sent["id"].as_i64().unwrap()
}

#[tokio::test]
async fn every_role_and_socket_command() {
    let (app, client_id, order_id) = seeded().await;
    for (role, key) in ROLES {
        let user = format!("{role}-user");
        let own = notification_for(&app, &user).await;
        // (command, a payload that would succeed, roles allowed)
        let table = [
            (
                "join_room",
                json!({ "room": "orders" }),
                "admin staff viewer",
            ),
            (
                "leave_room",
                json!({ "room": "orders" }),
                "admin staff viewer",
            ),
            ("get_unread_count", json!({}), "admin staff viewer"),
            (
                "mark_read",
                json!({ "notification_id": own }),
                "admin staff viewer",
            ),
            ("mark_all_read", json!({}), "admin staff viewer"),
            ("client:create", json!({ "name": "New" }), "admin staff"),
            (
                "client:update",
                json!({ "id": client_id, "name": "Renamed" }),
                "admin staff",
            ),
            (
                "inventory:update",
                json!({ "sku": "P-1", "delta": -1 }),
                "admin staff",
            ),
            (
                "stock_low",
                json!({ "sku": "P-1", "note": "shelf empty" }),
                "admin staff",
            ),
            ("order:create", one_unit(client_id), "admin staff"),
            (
                "order:update",
                json!({ "id": order_id, "notes": "changed" }),
                "admin staff",
            ),
            (
                "notification:send",
                json!({ "user_id": null, "subject": "s", "message": "m" }),
                "admin",
            ),
            ("admin:test_broadcast", json!({}), "admin"),
        ];
        let socket = app.socket(key, &user).await;
        for (command, payload, allowed) in &table {
            let before = last_event(&app).await;
            let reply = socket.ack(command, payload.clone()).await;
            if allowed.split(' ').any(|r| r == role) {
                assert_eq!(reply["ok"], true, "{role} × {command}: {reply}");
            } else {
                assert_eq!(
                    reply["error"]["code"], "forbidden",
                    "{role} × {command}: {reply}"
                );
                assert_eq!(last_event(&app).await, before, "{role} × {command} wrote");
            }
        }
        // A denial comes before validation: it says nothing about the input.
        if role == "viewer" {
            socket
                .err("order:create", json!("garbage"), "forbidden")
                .await;
        }
        socket.disconnect().await;
    }
    app.stop().await;
}

/// The ids a role's requests act on: `pending` is a pending order, `sku` a new SKU and
/// `notification` a notification for the role's user, all its own, so an allowed request
/// can only succeed.
struct Targets {
    client_id: i64,
    order_id: i64,
    pending: i64,
    sku: String,
    notification: i64,
}

/// Every REST route under `/api` and `/ws` as (method, path, a body that makes the
/// request valid, the status it succeeds with, roles allowed), for one role.
fn rest_routes(targets: &Targets) -> Vec<(Method, String, Value, u16, &'static str)> {
    let Targets {
        client_id,
        order_id,
        pending,
        ref sku,
        notification,
    } = *targets;
    let order = one_unit(client_id);
    let (get, post, patch) = (Method::GET, Method::POST, Method::PATCH);
    let everyone = "admin staff viewer";
    vec![
        (
            get.clone(),
            "/api/clients".into(),
            Value::Null,
            200,
            everyone,
        ),
        (
            get.clone(),
            format!("/api/clients/{client_id}"),
            Value::Null,
            200,
            everyone,
        ),
        (
            get.clone(),
            "/api/inventory".into(),
            Value::Null,
            200,
            everyone,
        ),
        (
            get.clone(),
            "/api/inventory/P-1".into(),
            Value::Null,
            200,
            everyone,
        ),
        (
            get.clone(),
            "/api/orders".into(),
            Value::Null,
            200,
            everyone,
        ),
        (
            get.clone(),
            format!("/api/orders/{order_id}"),
            Value::Null,
            200,
            everyone,
        ),
        (
            get.clone(),
            "/api/events".into(),
            Value::Null,
            200,
            everyone,
        ),
        (
            get.clone(),
            "/api/notifications".into(),
            Value::Null,
            200,
            everyone,
        ),
        (
            get.clone(),
            "/api/notifications/unread-count".into(),
            Value::Null,
            200,
            everyone,
        ),
        (
            post.clone(),
            format!("/api/notifications/{notification}/read"),
            Value::Null,
            200,
            everyone,
        ),
        (
            post.clone(),
            "/api/notifications/read-all".into(),
            Value::Null,
            200,
            everyone,
        ),
        (
            post.clone(),
            "/api/clients".into(),
            json!({ "name": "N" }),
            201,
            "admin staff",
        ),
        (
            patch.clone(),
            format!("/api/clients/{client_id}"),
            json!({ "name": "R" }),
            200,
            "admin staff",
        ),
        (
            post.clone(),
            "/api/inventory".into(),
            json!({ "sku": sku, "name": "n" }),
            201,
            "admin staff",
        ),
        (
            patch.clone(),
            "/api/inventory/P-1".into(),
            json!({ "quantity": 900 }),
            200,
            "admin staff",
        ),
        (
            post.clone(),
            "/api/inventory/P-1/adjust".into(),
            json!({ "delta": 1 }),
            200,
            "admin staff",
        ),
        (
            post.clone(),
            "/api/inventory/P-1/stock-low".into(),
            json!({}),
            200,
            "admin staff",
        ),
        (
            post.clone(),
            "/api/orders".into(),
            order,
            201,
            "admin staff",
        ),
        (
            patch.clone(),
            format!("/api/orders/{order_id}"),
            json!({ "notes": "n" }),
            200,
            "admin staff",
        ),
        (
            post.clone(),
            format!("/api/orders/{pending}/status"),
            json!({ "status": "confirmed" }),
            200,
            "admin staff",
        ),
        (
            post.clone(),
            "/api/notifications".into(),
            json!({ "subject": "s", "message": "m" }),
            201,
            "admin",
        ),
        (get.clone(), "/ws/stats".into(), Value::Null, 200, "admin"),
        (post, "/ws/_test/broadcast".into(), json!({}), 200, "admin"),
    ]
}

#[tokio::test]
async fn every_role_and_rest_route() {
    let (app, client_id, order_id) = seeded().await;
    for (role, key) in ROLES {
        let (status, pending) = app
            .api(Method::POST, "/api/orders", Some(one_unit(client_id)))
            .await;
        assert_eq!(status, 201, "{pending}");
        let user = format!("{role}-user");
        let targets = Targets {
            client_id,
            order_id,
            pending: pending["id"].as_i64().unwrap(),
            sku: format!("NEW-{role}").to_uppercase(),
            notification: notification_for(&app, &user).await,
        };
        for (method, path, body, success, allowed) in rest_routes(&targets) {
            let before = last_event(&app).await;
            let body = (!body.is_null()).then_some(body);
            let (status, reply) = app.api_as(key, &user, method.clone(), &path, body).await;
            if allowed.split(' ').any(|r| r == role) {
                assert_eq!(status, success, "{role} × {method} {path}: {reply}");
            } else {
                assert_eq!(status, 403, "{role} × {method} {path}: {reply}");
                assert_eq!(
                    last_event(&app).await,
                    before,
                    "{role} × {method} {path} wrote"
                );
            }
        }
    }
    let (status, _) = app
        .api_as(
            VIEWER_KEY,
            "v",
            Method::POST,
            "/api/orders",
            Some(json!("garbage")),
        )
        .await;
    assert_eq!(status, 403, "a denial comes before validation");
    app.stop().await;
}

#[tokio::test]
async fn every_role_and_room() {
    let app = spawn_app().await;
    // (room, outcome of join_room for user `me`: "ok" or an error code)
    let table = [
        ("orders", "ok"),
        ("clients", "ok"),
        ("inventory", "ok"),
        ("alerts", "ok"),
        ("order:7", "ok"),
        ("client:7", "ok"),
        ("sku:A-1", "ok"),
        ("user:me", "ok"),
        ("user:someone-else", "forbidden"),
        ("role:admin", "forbidden"),
        ("role:staff", "forbidden"),
        ("role:viewer", "forbidden"),
        ("everyone", "invalid"),
        ("sku:not a sku", "invalid"),
        ("order:abc", "invalid"),
        ("secret-room", "invalid"),
        ("", "invalid"),
    ];
    for (role, key) in ROLES {
        let socket = app.socket(key, "me").await;
        for (room, outcome) in table {
            let reply = socket.ack("join_room", json!({ "room": room })).await;
            let got = if reply["ok"] == true {
                "ok"
            } else {
                reply["error"]["code"].as_str().unwrap()
            };
            assert_eq!(got, outcome, "{role} × join {room}: {reply}");
        }
        for automatic in ["user:me", &format!("role:{role}")] {
            socket
                .err("leave_room", json!(automatic), "forbidden")
                .await;
        }
        socket.disconnect().await;
    }
    app.stop().await;
}

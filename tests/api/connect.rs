//! Connecting: credentials from every place a client can put them, refusals, the
//! greeting, narrowed rooms and presence.

use reqwest::Method;
use rust_socketio::TransportType;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn greets_a_socket_with_its_identity_and_rooms() {
    let app = spawn_app().await;
    let socket = app.socket(STAFF_KEY, "u7").await;
    let hello = socket.event("connection_established").await;
    assert_eq!(hello["user_id"], "u7");
    assert_eq!(hello["role"], "staff");
    assert!(hello["socket_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        hello["server_time"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );
    let rooms: Vec<&str> = hello["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for room in [
        "orders",
        "clients",
        "inventory",
        "alerts",
        "user:u7",
        "role:staff",
    ] {
        assert!(rooms.contains(&room), "{room} missing from {rooms:?}");
    }
    socket.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn websocket_only_clients_connect_and_command() {
    let app = spawn_app().await;
    let socket = app
        .socket_with(
            json!({ "api_key": ADMIN_KEY, "user_id": "ws" }),
            TransportType::Websocket,
        )
        .await;
    socket.event("connection_established").await;
    let client = socket
        .ok("client:create", json!({ "name": "Over WS" }))
        .await;
    assert_eq!(client["name"], "Over WS");
    socket.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn credentials_may_come_in_the_query_string() {
    let app = spawn_app().await;
    let answer = raw_connect(&app, "&api_key=staff-key&user_id=q1", json!({})).await;
    assert!(answer.starts_with("40"), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn credentials_may_come_in_an_api_key_header() {
    let app = spawn_app().await;
    let (status, open) = send(
        app.raw(Method::GET, "/socket.io/?EIO=4&transport=polling")
            .header("X-API-Key", STAFF_KEY),
    )
    .await;
    assert_eq!(status, 200);
    let handshake: Value =
        serde_json::from_str(&open.as_str().expect("text")[1..]).expect("open packet");
    let sid = handshake["sid"].as_str().expect("sid");
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    send(
        app.raw(Method::POST, &path)
            .header("X-API-Key", STAFF_KEY)
            .body(r#"40{"user_id":"h1"}"#),
    )
    .await;
    let mut answer = String::new();
    for _ in 0..3 {
        let (_, body) = send(app.raw(Method::GET, &path).header("X-API-Key", STAFF_KEY)).await;
        answer = body.as_str().unwrap_or_default().to_owned();
        if answer.contains("40") || answer.contains("44") {
            break;
        }
    }
    assert!(
        answer.contains("40{"),
        "connected with header key: {answer}"
    );
    app.stop().await;
}

#[tokio::test]
async fn refuses_missing_or_wrong_credentials_with_a_reason() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "no credentials"),
        (
            json!({ "api_key": "nope", "user_id": "u1" }),
            "unknown api key",
        ),
        (json!({ "api_key": ADMIN_KEY }), "user_id is required"),
        (
            json!({ "api_key": ADMIN_KEY, "user_id": "a b" }),
            "user_id must be",
        ),
    ];
    for (auth, reason) in cases {
        let answer = raw_connect(&app, "", auth.clone()).await;
        assert!(answer.starts_with("44"), "{auth} → {answer}");
        let error: Value = serde_json::from_str(&answer[2..]).expect("connect_error JSON");
        let message = error["message"].as_str().expect("message");
        assert!(message.starts_with("unauthorized"), "{message}");
        assert!(
            message.contains(reason),
            "{auth}: `{message}` should say `{reason}`"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn auth_rooms_narrow_what_a_dashboard_receives() {
    let app = spawn_app().await;
    let client_id = app.seed("NARROW-1", 10, 0).await;
    let narrow = app
        .socket_with(
            json!({ "api_key": VIEWER_KEY, "user_id": "v1", "rooms": ["orders"] }),
            TransportType::Any,
        )
        .await;
    let hello = narrow.event("connection_established").await;
    assert_eq!(hello["rooms"], json!(["user:v1", "role:viewer", "orders"]));

    let staff = app.socket(STAFF_KEY, "s1").await;
    let order = staff
        .ok(
            "order:create",
            json!({ "client_id": client_id, "items": [{ "sku": "NARROW-1", "quantity": 1, "unit_price": 2 }] }),
        )
        .await;
    narrow.event("order_created").await;
    // A later event in a room it is in: anything sent to it earlier has arrived by then.
    staff
        .ok(
            "order:update",
            json!({ "id": order["id"], "status": "confirmed" }),
        )
        .await;
    narrow.event("order_updated").await;
    assert!(narrow.received("inventory_updated").await.is_empty());
    narrow.disconnect().await;
    staff.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn auth_rooms_that_may_not_be_joined_refuse_the_connection() {
    let app = spawn_app().await;
    for rooms in [
        json!(["role:admin"]),
        json!(["user:someone-else"]),
        json!(["nowhere"]),
    ] {
        let answer = raw_connect(
            &app,
            "",
            json!({ "api_key": VIEWER_KEY, "user_id": "v1", "rooms": rooms }),
        )
        .await;
        assert!(answer.starts_with("44"), "{rooms} → {answer}");
    }
    app.stop().await;
}

#[tokio::test]
async fn presence_follows_a_users_first_and_last_socket() {
    let app = spawn_app().await;
    let watcher = app.socket(VIEWER_KEY, "watcher").await;
    watcher.event("connection_established").await;

    let tab1 = app.socket(STAFF_KEY, "ana").await;
    let came = watcher.event("user_connected").await;
    assert_eq!(came, json!({ "user_id": "ana", "role": "staff" }));
    let tab2 = app.socket(STAFF_KEY, "ana").await;
    tab2.event("connection_established").await;

    tab2.disconnect().await;
    tab1.disconnect().await;
    let gone = watcher.event("user_disconnected").await;
    assert_eq!(gone, json!({ "user_id": "ana", "role": "staff" }));
    // A later announcement proves the first closing tab announced nothing.
    let other = app.socket(VIEWER_KEY, "marker").await;
    assert_eq!(watcher.event("user_connected").await["user_id"], "marker");
    assert!(watcher.received("user_disconnected").await.is_empty());
    assert!(
        watcher.received("user_connected").await.is_empty(),
        "second tab is not news"
    );
    other.disconnect().await;
    watcher.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn the_presence_list_names_who_is_connected_now() {
    let app = spawn_app().await;
    let online = || async {
        let (status, body) = app
            .api_as(VIEWER_KEY, "reader", Method::GET, "/api/presence", None)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    };
    assert_eq!(online().await, json!({ "users": [] }));

    let watcher = app.socket(VIEWER_KEY, "watcher").await;
    let (tab1, tab2) = (
        app.socket(STAFF_KEY, "ana").await,
        app.socket(STAFF_KEY, "ana").await,
    );
    let boss = app.socket(ADMIN_KEY, "boss").await;
    for socket in [&watcher, &tab1, &tab2, &boss] {
        socket.event("connection_established").await;
    }
    let everyone = json!({ "users": [
        { "user_id": "ana", "role": "staff" },
        { "user_id": "boss", "role": "admin" },
        { "user_id": "watcher", "role": "viewer" },
    ] });
    assert_eq!(online().await, everyone, "two tabs, one entry");

    tab1.disconnect().await;
    tab2.disconnect().await;
    assert_eq!(watcher.event("user_disconnected").await["user_id"], "ana");
    let without_ana = json!({ "users": [
        { "user_id": "boss", "role": "admin" },
        { "user_id": "watcher", "role": "viewer" },
    ] });
    assert_eq!(online().await, without_ana);
    boss.disconnect().await;
    watcher.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn tabs_opening_and_closing_at_once_announce_the_user_once() {
    let app = spawn_app().await;
    let watcher = app.socket(VIEWER_KEY, "watcher").await;
    for _ in 0..3 {
        let (tab1, tab2) = tokio::join!(app.socket(STAFF_KEY, "ana"), app.socket(STAFF_KEY, "ana"));
        assert_eq!(watcher.event("user_connected").await["user_id"], "ana");
        tokio::join!(tab1.disconnect(), tab2.disconnect());
        assert_eq!(watcher.event("user_disconnected").await["user_id"], "ana");
    }
    // A later announcement proves no duplicate was in flight before it.
    let marker = app.socket(VIEWER_KEY, "marker").await;
    assert_eq!(watcher.event("user_connected").await["user_id"], "marker");
    assert!(watcher.received("user_connected").await.is_empty());
    assert!(watcher.received("user_disconnected").await.is_empty());
    marker.disconnect().await;
    watcher.disconnect().await;
    app.stop().await;
}

/// Older dashboards send `user_id` as a number: it names the same user as its
/// decimal string, at connect and in `notification:send`.
#[tokio::test]
async fn a_numeric_user_id_names_the_same_user_as_its_string() {
    let app = spawn_app().await;
    let numeric = app
        .socket_with(
            json!({ "api_key": STAFF_KEY, "user_id": 42 }),
            TransportType::Any,
        )
        .await;
    assert_eq!(
        numeric.event("connection_established").await["user_id"],
        "42"
    );
    let admin = app.socket(ADMIN_KEY, "admin-1").await;
    let sent = admin
        .ok(
            "notification:send",
            json!({ "user_id": 42, "subject": "For 42", "message": "m" }),
        )
        .await;
    assert_eq!(sent["user_id"], "42");
    assert_eq!(
        numeric.event("notification").await["data"]["subject"],
        "For 42"
    );
    let (status, unread) = app
        .api_as(
            STAFF_KEY,
            "42",
            Method::GET,
            "/api/notifications/unread-count",
            None,
        )
        .await;
    assert_eq!((status, unread), (200, json!({ "unread_count": 1 })));
    numeric.disconnect().await;
    admin.disconnect().await;
    app.stop().await;
}

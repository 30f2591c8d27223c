//! One user never reaches another's notifications or private room, by any route:
//! socket events, the event log, counts, marking, joining, or connecting into it.

use pulso::{
    auth::{ApiKeys, jwt::JwtSecret},
    config::DEV_JWT_SECRET,
};
use reqwest::Method;
use rust_socketio::TransportType;
use serde_json::json;

use crate::helpers::*;

const KIOSK_KEY: &str = "kiosk-key-bound-to-vic";

/// A socket signed in with a token for `user` as an admin.
async fn token_socket(app: &TestApp, user: &str) -> TestSocket {
    let exp = chrono::Utc::now().timestamp() + 3600;
    let token =
        JwtSecret::new(DEV_JWT_SECRET).sign(&json!({ "sub": user, "role": "admin", "exp": exp }));
    TestSocket::connect(&app.url, json!({ "token": token }), TransportType::Any).await
}

/// The audit's attack: a viewer key plus someone else's user id. A key bound to one user
/// (`key:viewer:vic`) speaks for that user only, on every route, and cannot use up
/// another user's connection slots; a key declared for any user (`key:admin:*`, a trusted
/// service) still names users as the seeds' clients do.
#[tokio::test]
async fn a_key_bound_to_one_user_speaks_for_nobody_else() {
    let app = spawn_app_with(|config| {
        config.set_api_keys(
            ApiKeys::parse(&format!("{ADMIN_KEY}:admin:*,{KIOSK_KEY}:viewer:vic"))
                .expect("keys parse"),
        );
        config.max_connections_per_user = 4;
    })
    .await;
    let (status, private) = app
        .api(
            Method::POST,
            "/api/notifications",
            Some(json!({ "user_id": "bob", "subject": "for bob only", "message": "secret" })),
        )
        .await;
    assert_eq!(status, 201, "the admin key (any user) sends it");
    let id = private["id"].as_i64().unwrap();
    let bob = token_socket(&app, "bob").await;

    let refused = "unauthorized: this api key speaks only for its own user";
    for (method, path) in [
        (Method::GET, "/api/notifications".to_owned()),
        (Method::GET, "/api/events?after=0".to_owned()),
        (Method::GET, "/api/notifications/unread-count".to_owned()),
        (Method::POST, format!("/api/notifications/{id}/read")),
    ] {
        let (status, body) = app.api_as(KIOSK_KEY, "bob", method, &path, None).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["error"]["message"], refused, "{path}");
    }
    let answer = raw_connect(&app, "", json!({ "api_key": KIOSK_KEY, "user_id": "bob" })).await;
    assert!(
        answer.starts_with("44") && answer.contains(refused),
        "{answer}"
    );
    // Slots: however many tries, none counts against bob, whose own tabs still connect.
    for _ in 0..6 {
        let answer = raw_connect(&app, "", json!({ "api_key": KIOSK_KEY, "user_id": "bob" })).await;
        assert!(answer.starts_with("44"), "{answer}");
    }
    let second_tab = token_socket(&app, "bob").await;
    second_tab.disconnect().await;

    // The key speaks for its own user, named or not.
    for named in [Some("vic"), None] {
        let mut request = app
            .raw(Method::GET, "/api/notifications/unread-count")
            .header("X-API-Key", KIOSK_KEY);
        if let Some(user) = named {
            request = request.header("X-User-Id", user);
        }
        let (status, body) = send(request).await;
        assert_eq!(
            (status, body["unread_count"].clone()),
            (200, json!(0)),
            "{named:?}"
        );
    }
    let vic = app
        .socket_with(json!({ "api_key": KIOSK_KEY }), TransportType::Any)
        .await;
    assert_eq!(vic.event("connection_established").await["user_id"], "vic");

    // Bob's notification stayed unread and private.
    assert_eq!(
        bob.ok("get_unread_count", json!({})).await["unread_count"],
        1
    );
    assert!(
        bob.received("notification_read_confirmation")
            .await
            .is_empty()
    );
    vic.disconnect().await;
    bob.disconnect().await;
    app.stop().await;
}

#[tokio::test]
async fn a_user_cannot_reach_another_users_inbox_by_any_route() {
    let app = spawn_app().await;
    let (status, private) = app
        .api(
            Method::POST,
            "/api/notifications",
            Some(json!({ "user_id": "bea", "subject": "for bea only", "message": "secret" })),
        )
        .await;
    assert_eq!(status, 201);
    let id = private["id"].as_i64().unwrap();
    let bea = app.socket(STAFF_KEY, "bea").await;
    bea.ok("mark_read", json!({ "notification_id": id })).await;
    let ann = app.socket(STAFF_KEY, "ann").await;

    // Counting and listing.
    assert_eq!(
        ann.ok("get_unread_count", json!({})).await["unread_count"],
        0
    );
    let (_, list) = app
        .api_as(STAFF_KEY, "ann", Method::GET, "/api/notifications", None)
        .await;
    assert_eq!(list["total"], 0);
    // The event log holds bea's notification and read confirmation, but not for ann.
    let (_, log) = app
        .api_as(STAFF_KEY, "ann", Method::GET, "/api/events?after=0", None)
        .await;
    let rooms = event_strings(&log, "/room");
    assert!(!rooms.contains(&"user:bea"), "{rooms:?}");
    let (_, bea_log) = app
        .api_as(STAFF_KEY, "bea", Method::GET, "/api/events?after=0", None)
        .await;
    let bea_types = event_strings(&bea_log, "/type");
    assert_eq!(
        bea_types,
        ["notification", "notification_read_confirmation"]
    );

    // Marking, by socket and by REST: indistinguishable from a missing notification.
    ann.err("mark_read", json!({ "notification_id": id }), "not_found")
        .await;
    let (status, _) = app
        .api_as(
            STAFF_KEY,
            "ann",
            Method::POST,
            &format!("/api/notifications/{id}/read"),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // Joining bea's room, now or at connect.
    ann.err("join_room", json!("user:bea"), "forbidden").await;
    let answer = raw_connect(
        &app,
        "",
        json!({ "api_key": STAFF_KEY, "user_id": "ann", "rooms": ["user:bea"] }),
    )
    .await;
    assert!(answer.starts_with("44"), "{answer}");

    // A later notification to bea reaches bea; ann's inbox shows nothing of it.
    app.api(
        Method::POST,
        "/api/notifications",
        Some(json!({ "user_id": "bea", "subject": "again", "message": "secret" })),
    )
    .await;
    assert_eq!(bea.event("notification").await["data"]["subject"], "again");
    let marker = json!({ "user_id": "ann", "subject": "yours", "message": "m" });
    app.api(Method::POST, "/api/notifications", Some(marker))
        .await;
    assert_eq!(ann.event("notification").await["data"]["subject"], "yours");
    assert!(
        ann.received("notification").await.is_empty(),
        "nothing of bea's arrived first"
    );
    // ann's counts: 0 at connect and for her `get_unread_count`, then 1 for her own
    // notification; bea's never count.
    let mut counts = Vec::new();
    for _ in 0..3 {
        counts.push(ann.event("unread_count").await["unread_count"].clone());
    }
    assert_eq!(counts, [0, 0, 1]);
    let extra = ann.received("unread_count").await;
    assert!(extra.is_empty(), "{extra:?}");
    ann.disconnect().await;
    bea.disconnect().await;
    app.stop().await;
}

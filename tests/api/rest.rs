//! REST: every route, its errors in the API's JSON shape, and the same events as sockets.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let (status, body) = send(app.raw(Method::GET, "/health")).await;
    assert_eq!((status, body), (200, json!({ "status": "ok" })));
    let (status, body) = send(app.raw(Method::GET, "/ready")).await;
    assert_eq!((status, body), (200, json!({ "status": "ready" })));
    app.stop().await;
}

/// A newcomer's first click after `cargo run`: a page saying what runs and where next.
#[tokio::test]
async fn the_root_page_says_what_is_running_and_how_to_connect() {
    let app = spawn_app().await;
    let page = page(&app, "/", "text/html").await;
    assert!(page.contains(&format!("pulso {} is running", env!("CARGO_PKG_VERSION"))));
    for link in [
        "href=\"/health\"",
        "href=\"/ready\"",
        "href=\"/metrics\"",
        "socket.io-client",
    ] {
        assert!(page.contains(link), "{link} missing");
    }
    app.stop().await;
}

#[tokio::test]
async fn clients_routes() {
    let app = spawn_app().await;
    let (status, created) = app
        .api(
            Method::POST,
            "/api/clients",
            Some(json!({ "name": "Cai", "email": "cai@example.com" })),
        )
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_i64().unwrap();
    let (status, shown) = app
        .api(Method::GET, &format!("/api/clients/{id}"), None)
        .await;
    assert_eq!((status, &shown), (200, &created));
    let (status, patched) = app
        .api(
            Method::PATCH,
            &format!("/api/clients/{id}"),
            Some(json!({ "phone": "555-0100" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(patched["phone"], "555-0100");
    assert_eq!(patched["email"], "cai@example.com");
    for n in 0..3 {
        app.api(
            Method::POST,
            "/api/clients",
            Some(json!({ "name": format!("C{n}") })),
        )
        .await;
    }
    let (status, page) = app
        .api(Method::GET, "/api/clients?limit=2&offset=1", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 4);
    assert_eq!(page["limit"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["name"], "C0");
    app.stop().await;
}

#[tokio::test]
async fn inventory_routes() {
    let app = spawn_app().await;
    let item = json!({ "sku": "R-1", "name": "Rice", "quantity": 8, "low_stock_threshold": 2 });
    let (status, created) = app
        .api(Method::POST, "/api/inventory", Some(item.clone()))
        .await;
    assert_eq!(status, 201);
    assert_eq!(created["low_stock"], false);
    let (status, duplicate) = app.api(Method::POST, "/api/inventory", Some(item)).await;
    assert_eq!(status, 409, "{duplicate}");
    assert_eq!(duplicate["error"]["code"], "conflict");

    let (status, adjusted) = app
        .api(
            Method::POST,
            "/api/inventory/R-1/adjust",
            Some(json!({ "delta": -6 })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(adjusted["quantity"], 2);
    assert_eq!(adjusted["low_stock"], true);
    let (status, _) = app
        .api(
            Method::POST,
            "/api/inventory/R-1/adjust",
            Some(json!({ "delta": -3 })),
        )
        .await;
    assert_eq!(status, 409);
    let (status, missing) = app
        .api(Method::POST, "/api/inventory/R-1/adjust", Some(json!({})))
        .await;
    assert_eq!(status, 422);
    assert!(missing["error"]["fields"]["delta"].is_string());

    let (status, patched) = app
        .api(
            Method::PATCH,
            "/api/inventory/R-1",
            Some(json!({ "quantity": 30, "threshold": 10 })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            patched["quantity"].clone(),
            patched["low_stock_threshold"].clone()
        ),
        (json!(30), json!(10))
    );
    let (status, report) = app
        .api(
            Method::POST,
            "/api/inventory/R-1/stock-low",
            Some(json!({ "note": "looks thin" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(report["quantity"], 30);

    let (status, list) = app.api(Method::GET, "/api/inventory", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["sku"], "R-1");
    let (status, _) = app.api(Method::GET, "/api/inventory/NOPE", None).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn orders_routes() {
    let app = spawn_app().await;
    let client_id = app.seed("O-1", 50, 0).await;
    let mut ids = Vec::new();
    for quantity in 1..=3 {
        let (status, order) = app
            .api(
                Method::POST,
                "/api/orders",
                Some(json!({ "client_id": client_id, "items": [{ "sku": "O-1", "quantity": quantity, "unit_price": 0.1 }] })),
            )
            .await;
        assert_eq!(status, 201, "{order}");
        ids.push(order["id"].as_i64().unwrap());
    }
    let (_, first) = app
        .api(Method::GET, &format!("/api/orders/{}", ids[0]), None)
        .await;
    assert_eq!(first["total"], "0.10");
    let (_, third) = app
        .api(Method::GET, &format!("/api/orders/{}", ids[2]), None)
        .await;
    assert_eq!(third["total"], "0.30", "exact decimal arithmetic");

    let (status, confirmed) = app
        .api(
            Method::POST,
            &format!("/api/orders/{}/status", ids[1]),
            Some(json!({ "status": "confirmed" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(confirmed["status"], "confirmed");
    let (status, bad_move) = app
        .api(
            Method::POST,
            &format!("/api/orders/{}/status", ids[1]),
            Some(json!({ "status": "delivered" })),
        )
        .await;
    assert_eq!(status, 409, "{bad_move}");
    let (status, patched) = app
        .api(
            Method::PATCH,
            &format!("/api/orders/{}", ids[0]),
            Some(json!({ "notes": "gift wrap" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(patched["notes"], "gift wrap");

    let (_, pending) = app
        .api(Method::GET, "/api/orders?status=pending", None)
        .await;
    assert_eq!(pending["total"], 2);
    let (_, confirmed) = app
        .api(Method::GET, "/api/orders?status=confirmed&limit=10", None)
        .await;
    assert_eq!(confirmed["items"][0]["id"], ids[1]);
    assert_eq!(confirmed["items"][0]["items"][0]["quantity"], 2);
    let (_, newest) = app.api(Method::GET, "/api/orders?limit=1", None).await;
    assert_eq!(newest["items"][0]["id"], ids[2], "newest first");
    assert_eq!(newest["total"], 3);
    let (status, _) = app.api(Method::GET, "/api/orders?status=lost", None).await;
    assert_eq!(status, 422);
    let (status, _) = app.api(Method::GET, "/api/orders/999", None).await;
    assert_eq!(status, 404);

    // The order as created is the order as stored, lines in the order they were sent.
    app.seed("O-0", 5, 0).await;
    let (status, created) = app
        .api(
            Method::POST,
            "/api/orders",
            Some(
                json!({ "client_id": client_id, "notes": "two lines", "items": [
                { "sku": "O-1", "quantity": 1, "unit_price": "2.50" },
                { "sku": "O-0", "quantity": 2, "unit_price": "1.25" },
            ] }),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["items"][0]["sku"], "O-1");
    assert_eq!(created["items"][1]["sku"], "O-0");
    let (_, stored) = app
        .api(Method::GET, &format!("/api/orders/{}", created["id"]), None)
        .await;
    assert_eq!(stored, created);
    app.stop().await;
}

#[tokio::test]
async fn event_log_pages_after_a_cursor() {
    let app = spawn_app().await;
    for n in 0..5 {
        app.api(
            Method::POST,
            "/api/clients",
            Some(json!({ "name": format!("E{n}") })),
        )
        .await;
    }
    let (_, first) = app
        .api(Method::GET, "/api/events?after=0&limit=2", None)
        .await;
    let events = first["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["type"], "client_created");
    assert_eq!(events[0]["room"], "clients");
    assert_eq!(events[0]["user_id"], "u1");
    assert!(events[0]["timestamp"].as_str().unwrap().ends_with('Z'));
    let cursor = first["next_after"].as_i64().unwrap();
    assert_eq!(cursor, events[1]["id"].as_i64().unwrap());
    let (_, rest) = app
        .api(Method::GET, &format!("/api/events?after={cursor}"), None)
        .await;
    let names = event_strings(&rest, "/data/name");
    assert_eq!(names, ["E2", "E3", "E4"]);
    let (_, none) = app.api(Method::GET, "/api/events?after=1000", None).await;
    assert_eq!(none, json!({ "events": [], "next_after": 1000 }));
    app.stop().await;
}

#[tokio::test]
async fn errors_have_the_api_shape_and_status() {
    let app = spawn_app().await;
    let (status, body) = send(app.raw(Method::GET, "/api/clients")).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = app
        .api_as("wrong", "u1", Method::GET, "/api/clients", None)
        .await;
    assert_eq!(status, 401);
    let (status, body) = app
        .api_as(
            VIEWER_KEY,
            "v1",
            Method::POST,
            "/api/clients",
            Some(json!({ "name": "x" })),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "forbidden");

    let malformed = app
        .raw(Method::POST, "/api/clients")
        .header("X-API-Key", ADMIN_KEY)
        .header("X-User-Id", "u1")
        .header("Content-Type", "application/json")
        .body("{not json");
    let (status, body) = send(malformed).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid");

    let (status, body) = app
        .api(
            Method::POST,
            "/api/clients",
            Some(json!({ "email": "bad" })),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["error"]["fields"]["name"].is_string(), "{body}");
    let (status, body) = app
        .api(Method::POST, "/api/clients", Some(json!(["x"])))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app.api(Method::GET, "/api/clients/abc", None).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body) = app.api(Method::GET, "/api/nothing-here", None).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body) = app.api(Method::GET, "/api/clients?limit=many", None).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "invalid");
    let (_, page) = app.api(Method::GET, "/api/clients", None).await;
    assert_eq!(page["total"], 0, "nothing was written by the failures");
    app.stop().await;
}

#[tokio::test]
async fn rest_writes_emit_the_same_events_as_socket_commands() {
    let app = spawn_app().await;
    let client_id = app.seed("SAME-1", 5, 0).await;
    let watcher = app.socket(VIEWER_KEY, "v1").await;
    watcher.event("connection_established").await;

    let (_, order) = app
        .api(
            Method::POST,
            "/api/orders",
            Some(json!({ "client_id": client_id, "items": [{ "sku": "SAME-1", "quantity": 2, "unit_price": 5 }] })),
        )
        .await;
    let seen = watcher.event("order_created").await;
    assert_eq!(seen["data"], order);
    assert_eq!(seen["user_id"], "u1");
    app.api(
        Method::POST,
        &format!("/api/orders/{}/status", order["id"]),
        Some(json!({ "status": "confirmed" })),
    )
    .await;
    assert_eq!(
        watcher.event("order_status_changed").await["data"]["to"],
        "confirmed"
    );
    app.api(
        Method::POST,
        "/api/inventory/SAME-1/adjust",
        Some(json!({ "delta": 10 })),
    )
    .await;
    let stock: Value = watcher.event("inventory_updated").await;
    assert_eq!(
        stock["data"]["quantity"], 3,
        "the order's reservation came first"
    );
    assert_eq!(
        watcher.event("inventory_updated").await["data"]["quantity"],
        13
    );
    watcher.disconnect().await;
    app.stop().await;
}

/// The `Access-Control-Allow-Origin` a request from `origin` gets back (`None`: none),
/// for a preflight (`OPTIONS`) or a plain `GET`.
async fn allowed_origin(app: &TestApp, method: Method, origin: &str) -> Option<String> {
    let mut request = app
        .raw(method.clone(), "/api/clients")
        .header("Origin", origin);
    if method == Method::OPTIONS {
        request = request
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "x-api-key");
    }
    let response = request.send().await.expect("request sent");
    let allowed = response.headers().get("access-control-allow-origin");
    allowed.map(|value| value.to_str().expect("ASCII header").to_owned())
}

/// `PULSO_CORS_ORIGINS` names who may call from a browser: that origin gets itself
/// back, any other origin nothing, on a preflight and on a request.
#[tokio::test]
async fn cors_allows_the_configured_origin_only() {
    const ALLOWED: &str = "https://dash.example.com";
    let app = spawn_app_with(|config| config.cors_origins = vec![ALLOWED.into()]).await;
    for method in [Method::OPTIONS, Method::GET] {
        assert_eq!(
            allowed_origin(&app, method.clone(), ALLOWED)
                .await
                .as_deref(),
            Some(ALLOWED),
            "{method}"
        );
        for other in ["https://evil.example.com", "http://dash.example.com"] {
            assert_eq!(
                allowed_origin(&app, method.clone(), other).await,
                None,
                "{method} from {other}"
            );
        }
    }
    app.stop().await;
}

/// The Admin UI's origin is allowed while the Admin UI is on, with credentials (its
/// long-polling sends them).
#[tokio::test]
async fn the_admin_ui_origin_is_allowed_with_credentials_while_the_ui_is_on() {
    const UI: &str = "http://127.0.0.1:8081";
    for on in [true, false] {
        let app = spawn_app_with(|config| {
            config.admin_ui = on;
            config.admin_ui_origins = vec![UI.into()];
        })
        .await;
        let response = app
            .raw(Method::GET, "/socket.io/?EIO=4&transport=polling")
            .header("Origin", UI)
            .send()
            .await
            .expect("request sent");
        let header = |name: &str| {
            let value = response.headers().get(name);
            value.map(|value| value.to_str().expect("ASCII").to_owned())
        };
        let expected = on.then(|| (UI.to_owned(), "true".to_owned()));
        let got = header("access-control-allow-origin").map(|origin| {
            (
                origin,
                header("access-control-allow-credentials").unwrap_or_default(),
            )
        });
        assert_eq!(got, expected, "Admin UI on: {on}");
        assert_eq!(
            allowed_origin(&app, Method::OPTIONS, UI).await.is_some(),
            on
        );
        app.stop().await;
    }
}

/// `GET path` as the admin, asserting a 422 that names `limit`.
async fn refused_limit(app: &TestApp, path: &str) {
    let (status, body) = app.api(Method::GET, path, None).await;
    assert_eq!(status, 422, "{path}: {body}");
    assert_eq!(body["error"]["code"], "invalid", "{path}: {body}");
    assert_eq!(field_names(&body["error"]), ["limit"], "{path}: {body}");
}

/// Lists take `limit` 1–200 and say which they used (50 when none is given).
#[tokio::test]
async fn list_limits_are_1_to_200_and_50_by_default() {
    let app = spawn_app().await;
    for list in [
        "/api/clients",
        "/api/inventory",
        "/api/orders",
        "/api/notifications",
    ] {
        let (status, page) = app.api(Method::GET, list, None).await;
        assert_eq!((status, &page["limit"]), (200, &json!(50)), "{list}");
        for limit in [1, 200] {
            let path = format!("{list}?limit={limit}");
            let (status, page) = app.api(Method::GET, &path, None).await;
            assert_eq!((status, &page["limit"]), (200, &json!(limit)), "{path}");
        }
        for limit in [0, 201] {
            refused_limit(&app, &format!("{list}?limit={limit}")).await;
        }
    }
    app.stop().await;
}

/// The event log takes `limit` 1–1000 and gives 100 events when none is given.
#[tokio::test]
async fn event_log_limits_are_1_to_1000_and_100_by_default() {
    let app = spawn_app().await;
    for n in 0..101 {
        let name = json!({ "name": format!("E{n}") });
        let (status, _) = app.api(Method::POST, "/api/clients", Some(name)).await;
        assert_eq!(status, 201);
    }
    let count = |path: String| {
        let app = &app;
        async move {
            let (status, page) = app.api(Method::GET, &path, None).await;
            assert_eq!(status, 200, "{path}: {page}");
            page["events"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("/api/events?after=0".into()).await, 100);
    assert_eq!(count("/api/events?after=0&limit=1".into()).await, 1);
    assert_eq!(count("/api/events?after=0&limit=1000".into()).await, 101);
    for limit in [0, 1001] {
        refused_limit(&app, &format!("/api/events?after=0&limit={limit}")).await;
    }
    app.stop().await;
}

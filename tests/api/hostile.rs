//! Hostile input, property-based: every command gets arbitrary JSON (wrong types, huge
//! and odd strings, deep nesting, SQL-looking text, extreme numbers). Whatever comes,
//! the server answers with an ack whose error code fits, a refused command changes
//! nothing, and the socket stays usable.

use proptest::{
    prelude::*,
    test_runner::{Config as ProptestConfig, TestCaseError, TestRunner},
};
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::helpers::*;

const COMMANDS: [&str; 14] = [
    "join_room",
    "leave_room",
    "client:create",
    "client:update",
    "inventory:update",
    "stock_low",
    "order:create",
    "order:update",
    "notification:send",
    "mark_read",
    "mark_all_read",
    "get_unread_count",
    "admin:test_broadcast",
    "no:such-command",
];

/// Field names the commands read, so generated objects reach their validation.
const FIELDS: [&str; 24] = [
    "id",
    "name",
    "email",
    "phone",
    "sku",
    "quantity",
    "delta",
    "threshold",
    "low_stock_threshold",
    "client_id",
    "items",
    "unit_price",
    "status",
    "notes",
    "note",
    "notification_id",
    "user_id",
    "subject",
    "message",
    "severity",
    "priority",
    "room",
    "title",
    "level",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            " ",
            "'; DROP TABLE orders; --",
            "\" OR 1=1 --",
            "\u{0}",
            "\u{202e}evil",
            "😀",
            "e\u{301}",
            "\u{feff}",
            "sku:A-1",
            "user:other",
            "role:admin",
            "everyone",
            "A-1",
            "pending",
            "cancelled",
            "delivered",
            "1.005",
            "-0.01",
            "1e400",
            "99999999999999999999",
            "NaN",
            "urgent",
        ])
        .prop_map(str::to_owned),
        any::<String>(),
        (1usize..200_000).prop_map(|n| "x".repeat(n)),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![i64::MIN, i64::MAX, -1, 0, 1, 2, 1_000_000_001])
            .prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        prop::sample::select(vec![1e308, -1e308, 0.5, -0.0, 1.005, 2.5e-9]).prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(24, 96, 8, |inner| {
        let key = prop_oneof![
            prop::sample::select(FIELDS.to_vec()).prop_map(str::to_owned),
            text()
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

async fn last_event(app: &TestApp) -> i64 {
    let (status, page) = app
        .api(Method::GET, "/api/events?after=0&limit=1000", None)
        .await;
    assert_eq!(status, 200);
    // Pages of 1000: follow them to the newest id.
    let mut last = page["next_after"].as_i64().unwrap();
    loop {
        let (_, page) = app
            .api(
                Method::GET,
                &format!("/api/events?after={last}&limit=1000"),
                None,
            )
            .await;
        let next = page["next_after"].as_i64().unwrap();
        if next == last {
            return last;
        }
        last = next;
    }
}

async fn check(
    app: &TestApp,
    socket: &TestSocket,
    command: &str,
    payload: Value,
) -> Result<(), TestCaseError> {
    let before = last_event(app).await;
    let shown = payload.to_string().chars().take(2000).collect::<String>();
    let reply = socket
        .try_ack(command, payload)
        .await
        .map_err(|problem| TestCaseError::fail(format!("{problem}; payload: {shown}")))?;
    match reply["ok"].as_bool() {
        Some(true) => {}
        Some(false) => {
            let code = reply["error"]["code"].as_str().unwrap_or_default();
            prop_assert!(
                ["invalid", "not_found", "conflict", "forbidden"].contains(&code),
                "{} answered {}",
                command,
                reply
            );
            prop_assert!(reply["error"]["message"].is_string());
            prop_assert_eq!(last_event(app).await, before, "a refused {} wrote", command);
        }
        None => prop_assert!(false, "{} answered a malformed ack {}", command, reply),
    }
    let again = socket.ack("get_unread_count", json!({})).await;
    prop_assert_eq!(
        &again["ok"],
        &json!(true),
        "the socket is unusable after {}",
        command
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_survives_arbitrary_json() {
    let app = spawn_app_with(|config| {
        config.rate_limit = 1_000_000;
        config.rate_burst = 1_000_000;
    })
    .await;
    app.seed("A-1", 10, 2).await;
    // An admin may run every command, so input reaches the deepest validation.
    let socket = app.socket(ADMIN_KEY, "fuzzer").await;

    let cases = std::env::var("PULSO_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let runtime = tokio::runtime::Handle::current();
    // Payloads stay under the size limit: what happens over it is a transport matter,
    // tested in `raw_protocol`.
    let payload = json_value().prop_filter("under PULSO_MAX_PAYLOAD_BYTES", |value| {
        value.to_string().len() < 900 * 1024
    });
    let strategy = (prop::sample::select(COMMANDS.to_vec()), payload);
    let result = runner.run(&strategy, |(command, payload)| {
        tokio::task::block_in_place(|| runtime.block_on(check(&app, &socket, command, payload)))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert_eq!(server_panics(), 0, "the server panicked (see the output)");
    socket.disconnect().await;
    app.stop().await;
}

/// Inputs that once broke a request: money past what a decimal holds once turned into
/// cents and offsets past a signed 64-bit integer (panics), and the NUL character that
/// PostgreSQL cannot store (a failed write). Each is refused in words, over the socket
/// and over REST, with the field named.
#[tokio::test]
async fn inputs_that_once_broke_a_request_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    let client_id = app.seed("A-1", 10, 2).await;
    let socket = app.socket(STAFF_KEY, "staff-1").await;
    for price in [
        json!("1000000000000000000000000000"),
        json!("79228162514264337593543950335"),
        json!(1e27),
    ] {
        let order = json!({ "client_id": client_id, "items": [{ "sku": "A-1", "quantity": 1, "unit_price": price }] });
        let error = socket.err("order:create", order.clone(), "invalid").await;
        assert!(
            error["fields"]["items[0].unit_price"]
                .as_str()
                .is_some_and(|problem| problem.contains("too large")),
            "{error}"
        );
        let (status, body) = app
            .api_as(
                STAFF_KEY,
                "staff-1",
                Method::POST,
                "/api/orders",
                Some(order),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["error"]["fields"]["items[0].unit_price"].is_string(),
            "{body}"
        );
    }
    for list in ["clients", "orders", "notifications", "inventory"] {
        let (status, body) = app
            .api_as(
                VIEWER_KEY,
                "viewer-1",
                Method::GET,
                &format!("/api/{list}?offset=9223372036854775808"),
                None,
            )
            .await;
        assert_eq!(status, 422, "{list}: {body}");
        assert!(
            body["error"]["fields"]["offset"].is_string(),
            "{list}: {body}"
        );
    }
    let (status, _) = app
        .api(Method::GET, "/api/clients?offset=9223372036854775807", None)
        .await;
    assert_eq!(status, 200, "the largest offset a database takes");
    let nul = json!({ "name": "\0", "email": "a@example.com" });
    let error = socket.err("client:create", nul.clone(), "invalid").await;
    assert_eq!(
        error["fields"]["name"],
        "must not contain the NUL character"
    );
    let (status, body) = app
        .api_as(
            STAFF_KEY,
            "staff-1",
            Method::POST,
            "/api/clients",
            Some(nul),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["fields"]["name"]),
        (422, &json!("must not contain the NUL character"))
    );
    let nested = json!({ "client_id": client_id, "items": [{ "sku": "A-\0", "quantity": 1, "unit_price": "1.00" }] });
    let error = socket.err("order:create", nested, "invalid").await;
    assert!(error["fields"]["items[0].sku"].is_string(), "{error}");
    let (status, _) = app.api(Method::GET, "/api/inventory/A%00", None).await;
    assert_eq!(status, 404);
    assert_eq!(server_panics(), 0, "the server panicked (see the output)");
    socket.disconnect().await;
    app.stop().await;
}

//! Hostile input, property-based: every command gets arbitrary JSON (wrong types, huge
//! and odd strings, deep nesting, SQL-looking text, extreme numbers), and valid
//! commands with one field spoiled, removed or added, which get past the parser into
//! validation and transactions. Whatever comes, the answer is an ack whose error code
//! fits; a refused command changes no row of the database (read directly, every user's
//! rows); an accepted one changes only what it may; and the socket stays usable.
//! A failing case is saved in `hostile.proptest-regressions` and tried first next time.

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicU32, Ordering},
};

use proptest::{
    prelude::*,
    sample::Index,
    test_runner::{Config as ProptestConfig, FileFailurePersistence, TestCaseError, TestRunner},
};
use reqwest::Method;
use sea_orm::{Database, DatabaseConnection, FromQueryResult, JsonValue, Statement};
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
        // Around the seeded stock (1 000 000) and the quantity limit (1 000 000 000).
        (-5i64..2_000_000).prop_map(Value::from),
        (999_999_990i64..1_000_000_010).prop_map(Value::from),
        Just(json!(u64::MAX)),
        prop::sample::select(vec![1e308, -1e308, 0.5, -0.0, 1.005, 2.5e-9]).prop_map(Value::from),
    ]
}

/// A single value: null, a boolean, a number or a string.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        text().prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![12 => scalar(), 1 => deep()];
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

/// Nesting around the parser's depth limit (128 levels, the packet's own array included).
fn deep() -> impl Strategy<Value = Value> {
    (100usize..=140, any::<bool>()).prop_map(|(depth, objects)| nested(depth, objects))
}

/// `depth` levels of arrays (or of objects with one field) around `null`.
fn nested(depth: usize, objects: bool) -> Value {
    (0..depth).fold(Value::Null, |inner, _| match objects {
        true => json!({ "name": inner }),
        false => json!([inner]),
    })
}

/// Ids of what the seeded database holds, so that valid payloads can name them.
#[derive(Clone, Copy, Debug)]
struct Seeded {
    client_id: i64,
    order_id: i64,
    notification_id: i64,
}

/// A payload that `command` accepts on the seeded database.
fn valid(command: &str, seeded: Seeded) -> Value {
    match command {
        "join_room" | "leave_room" => json!({ "room": "orders" }),
        "client:create" => {
            json!({ "name": "Fuzz", "email": "fuzz@example.com", "phone": "+1 555 0100" })
        }
        "client:update" => json!({ "id": seeded.client_id, "name": "Fuzzed", "email": "" }),
        "inventory:update" => {
            json!({ "sku": "A-1", "delta": -1, "threshold": 2, "name": "Fuzz item" })
        }
        "stock_low" => json!({ "sku": "A-1", "quantity": 1, "note": "shelf empty" }),
        "order:create" => json!({
            "client_id": seeded.client_id,
            "items": [{ "sku": "A-1", "quantity": 1, "unit_price": "9.99" }],
            "notes": "fuzz",
        }),
        "order:update" => json!({ "id": seeded.order_id, "status": "confirmed", "notes": "fuzz" }),
        "notification:send" => {
            json!({ "user_id": "fuzzer", "subject": "s", "message": "m", "severity": "warning" })
        }
        "mark_read" => json!({ "notification_id": seeded.notification_id }),
        "admin:test_broadcast" => json!({ "title": "t", "content": "c", "level": "info" }),
        _ => json!({}),
    }
}

/// What is done to one place of a valid payload.
#[derive(Clone, Debug)]
enum Spoil {
    /// A string there becomes `text`, a number `number`: the right type, most
    /// likely a wrong value, which reaches the domain's rules and the database.
    Retype {
        text: String,
        number: Value,
    },
    Replace(Value),
    Remove,
    /// A field added to the object there (or the value there replaced by such an object).
    Add(String, Value),
}

/// JSON pointers to every place in `value` below `at`: object fields and array items.
fn places(value: &Value, at: &str, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(fields) => fields.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => return,
    };
    for (name, child) in children {
        let pointer = format!("{at}/{name}");
        out.push(pointer.clone());
        places(child, &pointer, out);
    }
}

/// `payload` with the place `which` picks (the payload itself included) spoiled.
fn spoiled(mut payload: Value, which: Index, spoil: Spoil) -> Value {
    let mut all = vec![String::new()];
    places(&payload, "", &mut all);
    let at = which.get(&all).clone();
    match spoil {
        Spoil::Retype { text, number } => match payload.pointer_mut(&at).expect("a place") {
            Value::String(old) => *old = text,
            old @ Value::Number(_) => *old = number,
            _ => {}
        },
        Spoil::Replace(value) => *payload.pointer_mut(&at).expect("a place") = value,
        Spoil::Remove => match at.rsplit_once('/') {
            None => payload = Value::Null,
            Some((parent, name)) => match payload.pointer_mut(parent).expect("a parent") {
                Value::Object(fields) => drop(fields.remove(name)),
                Value::Array(items) => drop(items.remove(name.parse::<usize>().expect("an index"))),
                _ => unreachable!("places are inside objects and arrays"),
            },
        },
        Spoil::Add(name, value) => {
            let target = payload.pointer_mut(&at).expect("a place");
            match target {
                Value::Object(fields) => drop(fields.insert(name, value)),
                other => *other = json!({ name: value }),
            }
        }
    }
    payload
}

/// A command and its payload: arbitrary JSON, or a valid payload with one place spoiled.
fn case(seeded: Seeded) -> impl Strategy<Value = (&'static str, Value)> {
    let command = || prop::sample::select(COMMANDS.to_vec());
    let spoil = prop_oneof![
        3 => (text(), number()).prop_map(|(text, number)| Spoil::Retype { text, number }),
        2 => scalar().prop_map(Spoil::Replace),
        1 => json_value().prop_map(Spoil::Replace),
        1 => Just(Spoil::Remove),
        1 => (prop::sample::select(FIELDS.to_vec()), json_value())
            .prop_map(|(name, value)| Spoil::Add(name.to_owned(), value)),
    ];
    prop_oneof![
        1 => (command(), json_value()),
        2 => (command(), any::<Index>(), spoil).prop_map(move |(command, which, spoil)| {
            (command, spoiled(valid(command, seeded), which, spoil))
        }),
    ]
}

/// The commands that write nothing.
const READS: [&str; 3] = ["join_room", "leave_room", "get_unread_count"];

/// The tables commands write, each with every user's rows.
const TABLES: [&str; 7] = [
    "clients",
    "inventory_items",
    "orders",
    "order_items",
    "notifications",
    "notification_reads",
    "events",
];

#[derive(Debug, PartialEq)]
struct Rows(BTreeMap<&'static str, Vec<JsonValue>>);

impl Rows {
    async fn read(db: &DatabaseConnection) -> Rows {
        let mut tables = BTreeMap::new();
        for table in TABLES {
            let select = Statement::from_string(
                db.get_database_backend(),
                format!("SELECT * FROM {table} ORDER BY 1, 2"),
            );
            let rows = JsonValue::find_by_statement(select)
                .all(db)
                .await
                .unwrap_or_else(|e| panic!("{table}: {e}"));
            tables.insert(table, rows);
        }
        Rows(tables)
    }

    fn changed(&self, after: &Rows) -> Vec<&'static str> {
        TABLES
            .into_iter()
            .filter(|table| self.0[table] != after.0[table])
            .collect()
    }

    fn has(&self, table: &str, id: &Value) -> bool {
        self.0[table].iter().any(|row| &row["id"] == id)
    }
}

/// What an accepted command may have written: reads nothing, read marks only their
/// own table (and the confirmation in the log), every other write its event-log rows
/// with it; a create one row, the one
/// its ack names.
fn accepted(command: &str, data: &Value, before: &Rows, after: &Rows) -> Result<(), TestCaseError> {
    let changed = before.changed(after);
    match command {
        _ if READS.contains(&command) => {
            prop_assert!(changed.is_empty(), "{} wrote {:?}", command, changed)
        }
        "mark_read" | "mark_all_read" => prop_assert!(
            changed
                .iter()
                .all(|table| ["notification_reads", "events"].contains(table)),
            "{} wrote {:?}",
            command,
            changed
        ),
        _ => prop_assert!(
            changed.is_empty() || changed.contains(&"events"),
            "{} wrote {:?} and logged no event",
            command,
            changed
        ),
    }
    let created = match command {
        "client:create" => Some("clients"),
        "order:create" => Some("orders"),
        "notification:send" => Some("notifications"),
        _ => None,
    };
    if let Some(table) = created {
        prop_assert_eq!(
            after.0[table].len(),
            before.0[table].len() + 1,
            "{} rows",
            table
        );
        prop_assert!(
            after.has(table, &data["id"]) && !before.has(table, &data["id"]),
            "{}'s ack names {} which it did not create",
            command,
            data
        );
    }
    Ok(())
}

/// Checks one case; true when it was a write the server accepted.
async fn check(
    db: &DatabaseConnection,
    socket: &TestSocket,
    command: &str,
    payload: Value,
) -> Result<bool, TestCaseError> {
    let before = Rows::read(db).await;
    let shown = payload.to_string().chars().take(2000).collect::<String>();
    let reply = socket
        .try_ack(command, payload)
        .await
        .map_err(|problem| TestCaseError::fail(format!("{problem}; payload: {shown}")))?;
    let after = Rows::read(db).await;
    let wrote = reply["ok"] == true && !READS.contains(&command);
    match reply["ok"].as_bool() {
        Some(true) => accepted(command, &reply["data"], &before, &after)?,
        Some(false) => {
            let code = reply["error"]["code"].as_str().unwrap_or_default();
            prop_assert!(
                ["invalid", "not_found", "conflict", "forbidden"].contains(&code),
                "{} answered {}",
                command,
                reply
            );
            prop_assert!(reply["error"]["message"].is_string());
            let changed = before.changed(&after);
            prop_assert!(
                changed.is_empty(),
                "a refused {} wrote {:?}",
                command,
                changed
            );
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
    Ok(wrote)
}

/// A client, an item with plenty of stock, an order and a notification for the fuzzer.
async fn seed(app: &TestApp) -> Seeded {
    let client_id = app.seed("A-1", 1_000_000, 2).await;
    let order = json!({ "client_id": client_id, "items": [{ "sku": "A-1", "quantity": 1, "unit_price": "1.00" }] });
    let (status, order) = app.api(Method::POST, "/api/orders", Some(order)).await;
    assert_eq!(status, 201, "{order}");
    let notification = json!({ "user_id": "fuzzer", "subject": "s", "message": "m" });
    let (status, notification) = app
        .api(Method::POST, "/api/notifications", Some(notification))
        .await;
    assert_eq!(status, 201, "{notification}");
    Seeded {
        client_id,
        order_id: order["id"].as_i64().unwrap(),
        notification_id: notification["id"].as_i64().unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_survives_hostile_json() {
    // A database in a file (or on PostgreSQL), so that the test can read it directly.
    let app = spawn_durable_app_with(|config| {
        config.rate_limit = 1_000_000;
        config.rate_burst = 1_000_000;
    })
    .await;
    let seeded = seed(&app).await;
    let db = Database::connect(app.database_url()).await.unwrap();
    // An admin may run every command, so input reaches the deepest validation.
    let socket = app.socket(ADMIN_KEY, "fuzzer").await;

    let cases = std::env::var("PULSO_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES);
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/api/hostile.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    });
    let runtime = tokio::runtime::Handle::current();
    // Payloads stay under the size limit: what happens over it is a transport matter,
    // tested in `raw_protocol`.
    let strategy = case(seeded).prop_filter("under PULSO_MAX_PAYLOAD_BYTES", |(_, payload)| {
        payload.to_string().len() < 900 * 1024
    });
    let writes = AtomicU32::new(0);
    let result = runner.run(&strategy, |(command, payload)| {
        let wrote = tokio::task::block_in_place(|| {
            runtime.block_on(check(&db, &socket, command, payload))
        })?;
        writes.fetch_add(u32::from(wrote), Ordering::Relaxed);
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    // The generator must reach the database, not stop at validation: about 20 % of
    // cases are accepted writes (5 % is far below that for 100 cases or more).
    let writes = writes.into_inner();
    println!("hostile: {writes} of {cases} cases were accepted writes");
    assert!(
        cases < 100 || writes * 20 >= cases,
        "only {writes} of {cases} cases wrote"
    );
    assert_eq!(server_panics(), 0, "the server panicked (see the output)");
    socket.disconnect().await;
    db.close().await.unwrap();
    app.stop().await;
}

/// Cases per run (about 70 per command); `PULSO_PROPTEST_CASES` runs more.
const CASES: u32 = 1000;

/// JSON nests as deep as the parser reads (127 levels, the packet's own array
/// included) and no deeper: the deepest payload is written, one more level is
/// `invalid`, saying so.
#[tokio::test]
async fn nesting_is_read_to_127_levels_and_refused_past_them() {
    let app = spawn_app().await;
    let socket = app.socket(STAFF_KEY, "staff-1").await;
    // 127 = the packet's array + the payload object + 125 levels in `extra`.
    let deepest = json!({ "name": "Deep", "extra": nested(125, false) });
    let created = socket.ok("client:create", deepest).await;
    assert_eq!(created["name"], "Deep");
    let too_deep = json!({ "name": "Too deep", "extra": nested(126, false) });
    let error = socket.err("client:create", too_deep, "invalid").await;
    assert_eq!(
        error["message"],
        "unreadable payload: JSON may nest at most 127 levels (the packet's own array included)"
    );
    let (_, clients) = app.api(Method::GET, "/api/clients", None).await;
    assert_eq!(
        clients["total"], 1,
        "only the deepest readable payload was written"
    );
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

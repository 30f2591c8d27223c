//! A form's every mistake in one answer: each bad field named as the client sent it,
//! in a sentence a store manager understands, never a parser's text; the same on the
//! socket and over REST.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// The error `command` answers with `code`, after checking that the same payload sent
/// to the REST route (`method`, `path`) gives the same error with `status`.
async fn error_of(
    app: &TestApp,
    command: &str,
    (method, path): (Method, &str),
    payload: Value,
    (code, status): (&str, u16),
) -> Value {
    let socket = app.socket(STAFF_KEY, "staff-1").await;
    let error = socket.err(command, payload.clone(), code).await;
    socket.disconnect().await;
    let (got, body) = app
        .api_as(STAFF_KEY, "staff-1", method, path, Some(payload))
        .await;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error"], error, "REST and socket differ");
    error
}

/// Refused as `invalid` (422); its `fields`.
async fn fields_of(app: &TestApp, command: &str, route: (Method, &str), payload: Value) -> Value {
    error_of(app, command, route, payload, ("invalid", 422)).await["fields"].clone()
}

#[tokio::test]
async fn an_order_form_with_four_mistakes_gets_four_sentences() {
    let app = spawn_app().await;
    let order = json!({ "items": [{ "sku": "", "quantity": -1, "unit_price": "abc" }] });
    let fields = fields_of(&app, "order:create", (Method::POST, "/api/orders"), order).await;
    assert_eq!(
        fields,
        json!({
            "client_id": "is required",
            "items[0].sku": "must be 1-64 letters, digits, - or _",
            "items[0].quantity": "must be a whole number from 1 to 1000000000",
            "items[0].unit_price": "must be a number with at most two decimals",
        })
    );
    app.stop().await;
}

#[tokio::test]
async fn every_wrong_type_is_named_at_once() {
    let app = spawn_app().await;
    let client = json!({ "name": 5, "email": 7, "phone": true });
    let fields = fields_of(
        &app,
        "client:create",
        (Method::POST, "/api/clients"),
        client,
    )
    .await;
    assert_eq!(
        fields,
        json!({ "name": "must be text", "email": "must be text", "phone": "must be text" })
    );
    app.stop().await;
}

/// `threshold` is another name for `low_stock_threshold`: whichever the client sent
/// names the problem, whether its type or its range is wrong.
#[tokio::test]
async fn a_field_keeps_the_name_the_client_sent() {
    let app = spawn_app().await;
    app.seed("TH-1", 10, 2).await;
    let patch = (Method::PATCH, "/api/inventory/TH-1");
    for (threshold, problem) in [
        (json!("x"), "must be a whole number"),
        (json!(-1), "must be a whole number from 0 to 1000000000"),
    ] {
        let fields = fields_of(
            &app,
            "inventory:update",
            patch.clone(),
            json!({ "sku": "TH-1", "threshold": threshold }),
        )
        .await;
        assert_eq!(fields, json!({ "threshold": problem }));
    }
    app.stop().await;
}

/// An order refused for one of its lines (an unknown SKU, too little stock) or for its
/// client names that field, so the form can show the problem on the right line.
#[tokio::test]
async fn an_order_refused_for_one_line_names_the_line() {
    let app = spawn_app().await;
    let client_id = app.seed("LINE-1", 5, 0).await;
    let line = |sku: &str, quantity: i64| json!({ "sku": sku, "quantity": quantity, "unit_price": "1.00" });
    let orders = (Method::POST, "/api/orders");
    for (order, (code, status), fields) in [
        (
            json!({ "client_id": client_id, "items": [line("LINE-1", 1), line("NO-SUCH", 1)] }),
            ("not_found", 404),
            json!({ "items[1].sku": "no item has this SKU" }),
        ),
        (
            json!({ "client_id": client_id, "items": [line("LINE-1", 6)] }),
            ("conflict", 409),
            json!({ "items[0].quantity": "only 5 in stock" }),
        ),
        (
            json!({ "client_id": client_id + 1, "items": [line("LINE-1", 1)] }),
            ("not_found", 404),
            json!({ "client_id": "no client has this id" }),
        ),
    ] {
        let error = error_of(&app, "order:create", orders.clone(), order, (code, status)).await;
        assert_eq!(error["fields"], fields, "{error}");
    }
    app.stop().await;
}

/// A bad query parameter is named too, in words.
#[tokio::test]
async fn a_bad_query_parameter_is_named_in_words() {
    let app = spawn_app().await;
    for (path, field, problem) in [
        ("/api/clients?limit=abc", "limit", "must be a whole number"),
        ("/api/events?after=-", "after", "must be a whole number"),
        (
            "/api/notifications?unread=maybe",
            "unread",
            "must be true or false",
        ),
        (
            "/api/orders?status=lost",
            "status",
            "must be one of pending, confirmed, shipped, delivered, cancelled",
        ),
    ] {
        let (status, body) = app.api(Method::GET, path, None).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["error"]["fields"], json!({ field: problem }), "{path}");
    }
    app.stop().await;
}

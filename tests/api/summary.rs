//! Business figures (`GET /api/summary`) and the low-stock filter of the item list.

use chrono::{TimeDelta, Utc};
use reqwest::Method;
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::helpers::*;

async fn order(app: &TestApp, client: i64, sku: &str, quantity: i64, price: &str) -> i64 {
    let line = json!({ "sku": sku, "quantity": quantity, "unit_price": price });
    let body = json!({ "client_id": client, "items": [line] });
    let (status, order) = app.api(Method::POST, "/api/orders", Some(body)).await;
    assert_eq!(status, 201, "{order}");
    order["id"].as_i64().expect("order id")
}

async fn move_to(app: &TestApp, id: i64, status: &str) {
    let path = format!("/api/orders/{id}/status");
    let (code, body) = app
        .api(Method::POST, &path, Some(json!({ "status": status })))
        .await;
    assert_eq!(code, 200, "{body}");
}

async fn summary(app: &TestApp) -> Value {
    let (status, summary) = app
        .api_as(VIEWER_KEY, "v1", Method::GET, "/api/summary", None)
        .await;
    assert_eq!(status, 200, "{summary}");
    summary
}

/// Moves an order's creation to yesterday, through a connection of the test's own.
async fn created_yesterday(app: &TestApp, id: i64) {
    let db = Database::connect(app.database_url())
        .await
        .expect("database opens");
    let yesterday = Utc::now() - TimeDelta::days(1);
    entity::order::Entity::update_many()
        .col_expr(entity::order::Column::CreatedAt, Expr::value(yesterday))
        .filter(entity::order::Column::Id.eq(id))
        .exec(&db)
        .await
        .expect("order backdated");
    db.close().await.expect("database closes");
}

fn skus(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["sku"].as_str().expect("sku"))
        .collect()
}

#[tokio::test]
async fn summary_counts_today_s_orders_revenue_statuses_and_low_stock() {
    // On a file, so that the test can reach the database too.
    let app = spawn_durable_app().await;
    let empty = summary(&app).await;
    assert_eq!(empty["orders_today"], 0);
    assert_eq!(empty["revenue_today"], "0.00");
    assert_eq!(
        empty["orders_by_status"],
        json!({ "pending": 0, "confirmed": 0, "shipped": 0, "delivered": 0, "cancelled": 0 })
    );
    assert_eq!(empty["low_stock_items"], 0);

    let client = app.seed("SUM-A", 100, 5).await;
    let (status, low) = app
        .api(
            Method::POST,
            "/api/inventory",
            Some(json!({ "sku": "SUM-B", "name": "Low", "quantity": 3, "low_stock_threshold": 5 })),
        )
        .await;
    assert_eq!(status, 201, "{low}");
    let kept = order(&app, client, "SUM-A", 2, "10.50").await;
    let cancelled = order(&app, client, "SUM-A", 1, "5.25").await;
    let confirmed = order(&app, client, "SUM-A", 3, "1.00").await;
    let old = order(&app, client, "SUM-A", 1, "100.00").await;
    move_to(&app, cancelled, "cancelled").await;
    move_to(&app, confirmed, "confirmed").await;
    created_yesterday(&app, old).await;

    let figures = summary(&app).await;
    assert_eq!(figures["orders_today"], 3, "{figures}");
    assert_eq!(
        figures["revenue_today"], "24.00",
        "21.00 + 3.00, not the cancelled 5.25 nor yesterday's 100.00"
    );
    assert_eq!(
        figures["orders_by_status"],
        json!({ "pending": 2, "confirmed": 1, "shipped": 0, "delivered": 0, "cancelled": 1 }),
        "every order, yesterday's too (#{kept} and #{old} pending)"
    );
    assert_eq!(figures["low_stock_items"], 1, "SUM-B only");
    let as_of: chrono::DateTime<Utc> = figures["as_of"]
        .as_str()
        .expect("as_of")
        .parse()
        .expect("a timestamp");
    assert!(
        (Utc::now() - as_of).abs() < TimeDelta::seconds(60),
        "{as_of}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_item_list_filters_on_low_stock_in_pages() {
    let app = spawn_app().await;
    // At the threshold is low; above it is not.
    for (sku, quantity, threshold) in [("D", 1, 2), ("B", 6, 5), ("A", 5, 5), ("C", 0, 0)] {
        let item = json!({ "sku": sku, "name": sku, "quantity": quantity, "low_stock_threshold": threshold });
        let (status, body) = app.api(Method::POST, "/api/inventory", Some(item)).await;
        assert_eq!(status, 201, "{body}");
    }
    let list = |query: &'static str| {
        let app = &app;
        async move {
            let path = format!("/api/inventory?{query}");
            let (status, page) = app.api(Method::GET, &path, None).await;
            assert_eq!(status, 200, "{page}");
            page
        }
    };

    let low = list("low_stock=true").await;
    assert_eq!(
        (skus(&low), &low["total"]),
        (vec!["A", "C", "D"], &json!(3))
    );
    let first = list("low_stock=true&limit=2").await;
    assert_eq!((skus(&first), &first["total"]), (vec!["A", "C"], &json!(3)));
    let rest = list("low_stock=true&limit=2&offset=2").await;
    assert_eq!(skus(&rest), ["D"]);
    assert_eq!(skus(&list("low_stock=false").await), ["B"]);
    assert_eq!(skus(&list("").await), ["A", "B", "C", "D"]);

    let (status, error) = app
        .api(Method::GET, "/api/inventory?low_stock=maybe", None)
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(field_names(&error["error"]), ["low_stock"], "{error}");

    let (status, body) = app
        .api(
            Method::POST,
            "/api/inventory/A/adjust",
            Some(json!({ "delta": 10 })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(skus(&list("low_stock=true").await), ["C", "D"]);
    assert_eq!(summary(&app).await["low_stock_items"], 2);
    app.stop().await;
}

//! Business figures: counts and sums done by the database (`COUNT`, `SUM`, `GROUP BY`),
//! so they cost the same however many orders there are.

use chrono::NaiveTime;
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Alias, Expr, Func},
};

use entity::{inventory_item, order};

use super::{Services, inventory, now};
use crate::{
    domain::{
        money::Money,
        orders::OrderStatus,
        summary::{OrdersByStatus, Summary},
    },
    error::AppError,
};

/// Today's orders and revenue (since midnight UTC), orders by status, low-stock items.
/// Three reads, not one snapshot: a write between them shows in the later ones only,
/// and the next summary has it everywhere.
pub async fn get(services: &Services) -> Result<Summary, AppError> {
    let db = &services.db;
    let as_of = now();
    let midnight = as_of.date_naive().and_time(NaiveTime::MIN).and_utc();

    let cancelled = order::Column::Status.eq(OrderStatus::Cancelled.as_str());
    let kept_cents = Expr::case(cancelled, 0).finally(Expr::col(order::Column::TotalCents));
    // PostgreSQL sums a BIGINT as NUMERIC: cast back so both databases answer an integer.
    let revenue = Expr::from(Func::cast_as(Func::sum(kept_cents), Alias::new("BIGINT")));
    let (orders_today, revenue_cents): (i64, Option<i64>) = order::Entity::find()
        .select_only()
        .column_as(order::Column::Id.count(), "orders")
        .column_as(revenue, "revenue")
        .filter(order::Column::CreatedAt.gte(midnight))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or_default();

    let by_status: Vec<(String, i64)> = order::Entity::find()
        .select_only()
        .column(order::Column::Status)
        .column_as(order::Column::Id.count(), "orders")
        .group_by(order::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut orders_by_status = OrdersByStatus::default();
    for (status, count) in by_status {
        match status.parse() {
            Ok(status) => *orders_by_status.count_of(status) = count.unsigned_abs(),
            Err(error) => tracing::error!(%error, "stored orders have an unknown status"),
        }
    }

    let low_stock_items = inventory_item::Entity::find()
        .filter(inventory::low_stock())
        .count(db)
        .await?;

    Ok(Summary {
        orders_today: orders_today.unsigned_abs(),
        revenue_today: Money::from_cents(revenue_cents.unwrap_or(0)),
        orders_by_status,
        low_stock_items,
        as_of,
    })
}

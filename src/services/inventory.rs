//! Inventory: items, quantity changes (set or delta), reservations for orders, and
//! stock-low alerts.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, sea_query::Expr,
};

use entity::inventory_item;

use super::{Page, PageRequest, Services, Write, now, paginate};
use crate::{
    auth::Identity,
    channels::{
        EventName, NewEvent,
        rooms::{Room, Topic},
    },
    domain::inventory::{
        AlertSource, ItemUpdate, ItemView, MAX_QUANTITY, NewItem, StockLow, StockLowReport,
        crossed_low,
    },
    error::AppError,
};

/// Creates an item; an existing SKU is a conflict.
pub async fn create(
    services: &Services,
    actor: &Identity,
    input: NewItem,
) -> Result<ItemView, AppError> {
    let mut write = Write::begin(services, actor).await?;
    if find_locked(write.txn(), &input.sku).await?.is_some() {
        return Err(AppError::conflict(format!(
            "an item with sku {} already exists",
            input.sku
        )));
    }
    let view = insert(&mut write, input).await?;
    write.commit().await?;
    Ok(view)
}

/// `inventory:update`: sets or moves the quantity, renames, changes the threshold. An
/// unknown SKU with a `name` is created; without one it is `not_found`.
pub async fn update(
    services: &Services,
    actor: &Identity,
    input: ItemUpdate,
) -> Result<ItemView, AppError> {
    let mut write = Write::begin(services, actor).await?;
    let view = match find_locked(write.txn(), &input.sku).await? {
        Some(item) => {
            let quantity = match (input.quantity, input.delta) {
                (Some(quantity), _) => quantity,
                (None, Some(delta)) => moved(&item, delta)?,
                (None, None) => item.quantity,
            };
            let change = Change {
                quantity,
                threshold: input
                    .low_stock_threshold
                    .unwrap_or(item.low_stock_threshold),
                name: input.name.map(|n| n.trim().to_owned()),
            };
            apply(&mut write, item, change).await?
        }
        None => {
            let Some(name) = input.name else {
                return Err(unknown_sku(&input.sku));
            };
            let quantity = input.quantity.or(input.delta).unwrap_or(0);
            if quantity < 0 {
                return Err(AppError::invalid_field(
                    "delta",
                    "a new item cannot start below 0",
                ));
            }
            let new = NewItem {
                sku: input.sku,
                name,
                quantity,
                low_stock_threshold: input.low_stock_threshold.unwrap_or(0),
            };
            insert(&mut write, new).await?
        }
    };
    write.commit().await?;
    Ok(view)
}

/// A user reports that an item is running low: recorded and sent to `alerts`.
pub async fn report_low(
    services: &Services,
    actor: &Identity,
    report: StockLowReport,
) -> Result<StockLow, AppError> {
    let mut write = Write::begin(services, actor).await?;
    let item = find_locked(write.txn(), &report.sku)
        .await?
        .ok_or_else(|| unknown_sku(&report.sku))?;
    let alert = StockLow {
        quantity: report.quantity.unwrap_or(item.quantity),
        note: report.note.filter(|n| !n.trim().is_empty()),
        ..stock_low(&item, AlertSource::Report)
    };
    write.emit(stock_low_event(&alert));
    write.commit().await?;
    Ok(alert)
}

pub async fn get(services: &Services, sku: &str) -> Result<ItemView, AppError> {
    inventory_item::Entity::find()
        .filter(inventory_item::Column::Sku.eq(sku))
        .one(&services.db)
        .await?
        .map(ItemView::from)
        .ok_or_else(|| unknown_sku(sku))
}

/// Items by SKU; with `low`, only those that are (or are not) low on stock.
pub async fn list(
    services: &Services,
    low: Option<bool>,
    page: PageRequest,
) -> Result<Page<ItemView>, AppError> {
    let mut query = inventory_item::Entity::find().order_by_asc(inventory_item::Column::Sku);
    if let Some(low) = low {
        let rule = Condition::all().add(low_stock());
        query = query.filter(if low { rule } else { rule.not() });
    }
    Ok(paginate(&services.db, query, page)
        .await?
        .map(ItemView::from))
}

/// `domain::inventory::is_low`, in SQL: the quantity is at or below the threshold.
pub(super) fn low_stock() -> Expr {
    // Here only: in scope elsewhere, its `min`/`max` would shadow the integers' own.
    use sea_orm::sea_query::ExprTrait;
    Expr::col(inventory_item::Column::Quantity)
        .lte(Expr::col(inventory_item::Column::LowStockThreshold))
}

/// Puts a cancelled order's line back in stock, inside the order's write (new orders
/// reserve in `order_batch`).
pub(super) async fn restock(
    write: &mut Write<'_>,
    sku: &str,
    quantity: i64,
) -> Result<(), AppError> {
    let item = find_locked(write.txn(), sku)
        .await?
        .ok_or_else(|| unknown_sku(sku))?;
    // Cancelling always succeeds: what would take the item past the most it can hold
    // is not put back. Both terms are at most MAX_QUANTITY, so the sum cannot overflow.
    let wanted = item.quantity + quantity;
    if wanted > MAX_QUANTITY {
        tracing::warn!(sku, returned = quantity, "restock capped at {MAX_QUANTITY}");
    }
    let change = Change {
        quantity: wanted.min(MAX_QUANTITY),
        threshold: item.low_stock_threshold,
        name: None,
    };
    apply(write, item, change).await?;
    Ok(())
}

struct Change {
    quantity: i64,
    threshold: i64,
    name: Option<String>,
}

/// Writes a change to an existing item and announces it.
async fn apply(
    write: &mut Write<'_>,
    item: inventory_item::Model,
    change: Change,
) -> Result<ItemView, AppError> {
    let before = (item.quantity, item.low_stock_threshold);
    let mut row: inventory_item::ActiveModel = item.into();
    row.quantity = Set(change.quantity);
    row.low_stock_threshold = Set(change.threshold);
    if let Some(name) = change.name {
        row.name = Set(name);
    }
    row.updated_at = Set(now());
    let item = row.update(write.txn()).await?;
    Ok(announce(write, before, item))
}

/// Emits what a change to an item announces (see `change_events`).
fn announce(write: &mut Write<'_>, before: (i64, i64), item: inventory_item::Model) -> ItemView {
    let (view, events) = change_events(before, item);
    for event in events {
        write.emit(event);
    }
    view
}

/// `inventory_updated`, plus `stock_low` when the change took the item from above its
/// threshold to at or below it (`before` is quantity and threshold before).
pub(super) fn change_events(
    before: (i64, i64),
    item: inventory_item::Model,
) -> (ItemView, Vec<NewEvent>) {
    let alert = crossed_low(before, (item.quantity, item.low_stock_threshold))
        .then(|| stock_low(&item, AlertSource::Threshold));
    let view = ItemView::from(item);
    let mut events = vec![updated_event(&view)];
    events.extend(alert.as_ref().map(stock_low_event));
    (view, events)
}

fn updated_event(view: &ItemView) -> NewEvent {
    NewEvent::new(
        EventName::InventoryUpdated,
        Topic::Inventory,
        Room::Sku(view.sku.clone()),
        view,
    )
}

async fn insert(write: &mut Write<'_>, input: NewItem) -> Result<ItemView, AppError> {
    let at = now();
    let item = inventory_item::ActiveModel {
        sku: Set(input.sku),
        name: Set(input.name.trim().to_owned()),
        quantity: Set(input.quantity),
        low_stock_threshold: Set(input.low_stock_threshold),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(write.txn())
    .await?;
    let view = ItemView::from(item);
    write.emit(updated_event(&view));
    Ok(view)
}

/// The item's row, locked for the rest of the transaction on databases with row locks
/// (SQLite's write transaction already excludes other writers).
async fn find_locked(
    txn: &DatabaseTransaction,
    sku: &str,
) -> Result<Option<inventory_item::Model>, AppError> {
    Ok(inventory_item::Entity::find()
        .filter(inventory_item::Column::Sku.eq(sku))
        .lock_exclusive()
        .one(txn)
        .await?)
}

pub(super) fn moved(item: &inventory_item::Model, delta: i64) -> Result<i64, AppError> {
    let quantity = item.quantity + delta;
    if quantity < 0 {
        Err(AppError::conflict(format!(
            "insufficient stock for sku {}: {} available, {} requested",
            item.sku, item.quantity, -delta
        )))
    } else if quantity > MAX_QUANTITY {
        Err(AppError::invalid_field(
            "delta",
            "quantity would exceed 1000000000",
        ))
    } else {
        Ok(quantity)
    }
}

fn stock_low(item: &inventory_item::Model, source: AlertSource) -> StockLow {
    StockLow {
        sku: item.sku.clone(),
        name: item.name.clone(),
        quantity: item.quantity,
        threshold: item.low_stock_threshold,
        item_id: item.id,
        note: None,
        source,
    }
}

fn stock_low_event(alert: &StockLow) -> NewEvent {
    NewEvent::new(
        EventName::StockLow,
        Topic::Alerts,
        Room::Sku(alert.sku.clone()),
        alert,
    )
}

pub(super) fn unknown_sku(sku: &str) -> AppError {
    AppError::not_found(format!("no item with sku {sku}"))
}

//! Orders: creation reserves stock, status moves follow the rules, cancelling restocks.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use entity::{order, order_item};

use super::{
    Page, PageRequest, Services, Write, inventory, now,
    order_batch::{self, order_event},
    paginate,
};
use crate::{
    auth::Identity,
    channels::{
        EventName, NewEvent,
        rooms::{Room, Topic},
    },
    domain::{
        money::Money,
        non_blank,
        orders::{NewOrder, OrderPatch, OrderStatus, OrderView, StatusChanged},
    },
    error::AppError,
};

/// Creates an order and reserves its stock in one transaction (shared with the orders
/// that arrive meanwhile, see `order_batch`): if any line cannot be reserved, nothing
/// of the order is written.
pub async fn create(
    services: &Services,
    actor: &Identity,
    input: NewOrder,
) -> Result<OrderView, AppError> {
    let total = input
        .items
        .iter()
        .try_fold(Money::default(), |sum, line| {
            line.unit_price
                .times(line.quantity)
                .and_then(|amount| sum.checked_add(amount))
        })
        .ok_or_else(|| AppError::invalid_field("items", "order total is too large"))?;

    order_batch::submit(services, actor, input, total).await
}

/// Changes status and/or notes. Moving to `cancelled` puts the reserved stock back.
pub async fn update(
    services: &Services,
    actor: &Identity,
    id: i64,
    patch: OrderPatch,
) -> Result<OrderView, AppError> {
    let mut write = Write::begin(services, actor).await?;
    let current = order::Entity::find_by_id(id)
        .lock_exclusive()
        .one(write.txn())
        .await?
        .ok_or_else(|| not_found(id))?;
    let from: OrderStatus = current.status.parse().map_err(|e: String| {
        tracing::error!(order_id = id, error = %e, "stored order has an unknown status");
        AppError::internal()
    })?;
    let to = patch.status.filter(|to| *to != from);
    if to.is_none() && patch.notes.is_none() {
        return load(write.txn(), current).await;
    }
    if let Some(to) = to
        && !from.can_move_to(to)
    {
        return Err(AppError::conflict(format!(
            "order {id} cannot move from {from} to {to}"
        )));
    }
    let lines = lines_of(write.txn(), id).await?;
    let mut row: order::ActiveModel = current.into();
    if let Some(to) = to {
        row.status = Set(to.to_string());
    }
    if let Some(notes) = patch.notes {
        row.notes = Set(non_blank(Some(notes)));
    }
    row.updated_at = Set(now());
    let view = OrderView::new(row.update(write.txn()).await?, lines);
    write.emit(order_event(EventName::OrderUpdated, &view));
    if let Some(to) = to {
        let change = StatusChanged {
            order_id: id,
            from,
            to,
            order: view.clone(),
        };
        write.emit(NewEvent::new(
            EventName::OrderStatusChanged,
            Topic::Orders,
            Room::Order(id),
            &change,
        ));
        if to == OrderStatus::Cancelled {
            let mut restock = view.items.clone();
            restock.sort_by(|a, b| a.sku.cmp(&b.sku));
            for line in restock {
                inventory::restock(&mut write, &line.sku, line.quantity).await?;
            }
        }
    }
    write.commit().await?;
    Ok(view)
}

pub async fn get(services: &Services, id: i64) -> Result<OrderView, AppError> {
    let order = order::Entity::find_by_id(id)
        .one(&services.db)
        .await?
        .ok_or_else(|| not_found(id))?;
    load(&services.db, order).await
}

pub async fn list(
    services: &Services,
    status: Option<OrderStatus>,
    page: PageRequest,
) -> Result<Page<OrderView>, AppError> {
    let mut query = order::Entity::find().order_by_desc(order::Column::Id);
    if let Some(status) = status {
        query = query.filter(order::Column::Status.eq(status.as_str()));
    }
    let page = paginate(&services.db, query, page).await?;
    let ids: Vec<i64> = page.items.iter().map(|o| o.id).collect();
    let mut lines = order_item::Entity::find()
        .filter(order_item::Column::OrderId.is_in(ids))
        .order_by_asc(order_item::Column::Id)
        .all(&services.db)
        .await?;
    Ok(page.map(|order| {
        let (mine, rest) = lines.drain(..).partition(|line| line.order_id == order.id);
        lines = rest;
        OrderView::new(order, mine)
    }))
}

async fn load<C: sea_orm::ConnectionTrait>(
    conn: &C,
    order: order::Model,
) -> Result<OrderView, AppError> {
    let lines = lines_of(conn, order.id).await?;
    Ok(OrderView::new(order, lines))
}

async fn lines_of<C: sea_orm::ConnectionTrait>(
    conn: &C,
    order_id: i64,
) -> Result<Vec<order_item::Model>, AppError> {
    Ok(order_item::Entity::find()
        .filter(order_item::Column::OrderId.eq(order_id))
        .order_by_asc(order_item::Column::Id)
        .all(conn)
        .await?)
}

fn not_found(id: i64) -> AppError {
    AppError::not_found(format!("no order with id {id}"))
}

//! New orders are written in batches. Each SQL statement costs a round trip to the
//! database (for SQLite, a hop to its driver thread and back), and those round trips,
//! not SQLite itself, were what an order cost. So orders that arrive while others are
//! being written wait for their turn and are then written together, in one transaction
//! with one statement per table, exactly as if they had been written one after the
//! other in arrival order: each order gets its own answer, and one that cannot be
//! filled writes nothing and does not hold back the others.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, NotSet, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{CaseStatement, Expr},
};
use tokio::sync::{OwnedMutexGuard, oneshot};

use entity::{client, inventory_item, order, order_item};

use super::{Committed, Services, Write, batches::Batches, ids_in_insert_order, inventory, now};
use crate::{
    auth::Identity,
    channels::{
        EventName, NewEvent,
        rooms::{Room, Topic},
    },
    domain::{
        money::Money,
        non_blank,
        orders::{NewOrder, OrderStatus, OrderView},
    },
    error::AppError,
};

/// Order lines per transaction, which bounds a statement's parameters (an order line
/// makes one row of four and up to two events of five) well under SQLite's limit.
const MAX_LINES_PER_BATCH: usize = 1000;

type Outcome = Result<OrderView, AppError>;

/// An item's (quantity, threshold) before an order's line, and the item after it.
type Reserved = ((i64, i64), inventory_item::Model);

/// New orders waiting for their turn to be written.
#[derive(Default)]
pub struct OrderQueue(Batches<Pending>);

/// A validated order waiting to be written, and where its outcome goes.
struct Pending {
    actor: Identity,
    input: NewOrder,
    total: Money,
    outcome: oneshot::Sender<Outcome>,
}

/// Writes an order, together with those that arrive while it waits for its turn.
pub(super) async fn submit(
    services: &Services,
    actor: &Identity,
    input: NewOrder,
    total: Money,
) -> Outcome {
    let (outcome, answer) = oneshot::channel();
    let order = Pending {
        actor: actor.clone(),
        input,
        total,
        outcome,
    };
    services
        .order_queue
        .0
        .submit(order, answer, batch_size, |batch, turn| {
            let services = services.clone();
            async move { write_batch(&services, batch, turn).await }
        })
        .await
}

/// The oldest waiting orders, up to `MAX_LINES_PER_BATCH` lines; those left keep
/// waiting for the turn.
fn batch_size(waiting: &[Pending]) -> usize {
    let mut lines = 0;
    waiting
        .iter()
        .take_while(|order| {
            lines += order.input.items.len();
            lines <= MAX_LINES_PER_BATCH
        })
        .count()
}

/// Writes a batch, answers each order, then publishes the batch's events; the turn goes
/// with the commit, so the next batch starts while this one is answered. Everything
/// that can refuse one order (its client, its stock) is decided per order in
/// `try_write`; what is left to fail is the transaction itself (a lost database), which
/// every order in it shares.
async fn write_batch(services: &Services, batch: Vec<Pending>, turn: OwnedMutexGuard<()>) {
    let (outcomes, committed) = match try_write(services, &batch, turn).await {
        Ok(written) => written,
        Err(error) => (vec![Err(error); batch.len()], None),
    };
    for (order, outcome) in batch.into_iter().zip(outcomes) {
        // The caller may have gone away; its order stands either way.
        let _ = order.outcome.send(outcome);
    }
    // Answering first saves each caller the time the events take to go out.
    if let Some(committed) = committed {
        committed.publish().await;
    }
}

/// One transaction for the whole batch: read the clients and the stock, decide each
/// order in turn against the stock the orders before it left, then insert the orders,
/// their lines and their events and set the new quantities, one statement each. Returns
/// each order's outcome and, when any was written, the events to publish.
async fn try_write(
    services: &Services,
    batch: &[Pending],
    turn: OwnedMutexGuard<()>,
) -> Result<(Vec<Outcome>, Option<Committed>), AppError> {
    // Each event names its own order's sender (`emit_as`), not this first one.
    let mut write = Write::begin(services, &batch[0].actor).await?;
    write.hold_until_commit(turn);
    let client_ids: BTreeSet<i64> = batch.iter().map(|order| order.input.client_id).collect();
    let clients: HashSet<i64> = client::Entity::find()
        .select_only()
        .column(client::Column::Id)
        .filter(client::Column::Id.is_in(client_ids))
        .into_tuple()
        .all(write.txn())
        .await?
        .into_iter()
        .collect();
    let skus: BTreeSet<&str> = batch
        .iter()
        .flat_map(|order| order.input.items.iter().map(|line| line.sku.as_str()))
        .collect();
    // Locked in SKU order, as every writer of stock does, so writers cannot deadlock.
    let mut stock: BTreeMap<String, inventory_item::Model> = inventory_item::Entity::find()
        .filter(inventory_item::Column::Sku.is_in(skus))
        .order_by_asc(inventory_item::Column::Sku)
        .lock_exclusive()
        .all(write.txn())
        .await?
        .into_iter()
        .map(|item| (item.sku.clone(), item))
        .collect();

    let at = now();
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(batch.len());
    let mut accepted = Vec::new();
    for (index, order) in batch.iter().enumerate() {
        let decision = if clients.contains(&order.input.client_id) {
            reserve(&mut stock, &order.input, at)
        } else {
            Err(
                AppError::not_found(format!("no client with id {}", order.input.client_id))
                    .on_field("client_id", "no client has this id"),
            )
        };
        match decision {
            Ok(reserved) => {
                accepted.push((index, reserved));
                outcomes.push(None);
            }
            Err(error) => outcomes.push(Some(Err(error))),
        }
    }
    if accepted.is_empty() {
        return Ok((outcomes.into_iter().flatten().collect(), None));
    }

    // Only the ids come back from the database: the rows are what was written.
    let mut orders: Vec<_> = accepted
        .iter()
        .map(|(index, _)| rows_of(&batch[*index], at))
        .collect();
    let rows = orders.iter().map(|(row, _)| order::ActiveModel {
        id: NotSet,
        ..row.clone().into_active_model()
    });
    let ids = order::Entity::insert_many(rows)
        .exec_with_returning_keys(write.txn())
        .await?;
    let ids = ids_in_insert_order(ids, orders.len())?;
    for ((row, lines), id) in orders.iter_mut().zip(ids) {
        row.id = id;
        for line in lines {
            line.order_id = id;
        }
    }
    let line_rows = orders.iter().flat_map(|(_, lines)| {
        lines.iter().map(|line| order_item::ActiveModel {
            id: NotSet,
            ..line.clone().into_active_model()
        })
    });
    order_item::Entity::insert_many(line_rows)
        .exec_without_returning(write.txn())
        .await?;
    let moved: BTreeSet<&str> = accepted
        .iter()
        .flat_map(|(_, reserved)| reserved.iter().map(|(_, item)| item.sku.as_str()))
        .collect();
    set_quantities(&write, moved.iter().map(|sku| &stock[*sku]), at).await?;

    for ((index, reserved), (row, lines)) in accepted.into_iter().zip(orders) {
        let view = OrderView::new(row, lines);
        let actor = &batch[index].actor;
        write.emit_as(actor, order_event(EventName::OrderCreated, &view));
        for (before, item) in reserved {
            for event in inventory::change_events(before, item).1 {
                write.emit_as(actor, event);
            }
        }
        outcomes[index] = Some(Ok(view));
    }
    let committed = write.commit_unpublished().await?;
    Ok((outcomes.into_iter().flatten().collect(), Some(committed)))
}

/// The rows an order is written as. Ids are 0 until the database gives the order its
/// id; its lines' own ids stay 0, as no view shows them and they are not read back.
fn rows_of(order: &Pending, at: DateTime<Utc>) -> (order::Model, Vec<order_item::Model>) {
    let lines = order
        .input
        .items
        .iter()
        .map(|line| order_item::Model {
            id: 0,
            order_id: 0,
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price_cents: line.unit_price.cents(),
        })
        .collect();
    let row = order::Model {
        id: 0,
        client_id: order.input.client_id,
        status: OrderStatus::Pending.to_string(),
        total_cents: order.total.cents(),
        notes: non_blank(order.input.notes.clone()),
        created_at: at,
        updated_at: at,
    };
    (row, lines)
}

/// Takes an order's lines from `stock`, all or none. Returns each item as it was
/// (quantity, threshold) and as the order leaves it, in SKU order; the first line that
/// cannot be filled, in SKU order, is the order's error, naming that line.
fn reserve(
    stock: &mut BTreeMap<String, inventory_item::Model>,
    input: &NewOrder,
    at: DateTime<Utc>,
) -> Result<Vec<Reserved>, AppError> {
    let mut lines: Vec<_> = input.items.iter().enumerate().collect();
    lines.sort_by(|(_, a), (_, b)| a.sku.cmp(&b.sku));
    let mut reserved = Vec::with_capacity(lines.len());
    for (index, line) in lines {
        let item = stock.get(&line.sku).ok_or_else(|| {
            inventory::unknown_sku(&line.sku)
                .on_field(format!("items[{index}].sku"), "no item has this SKU")
        })?;
        // A line takes stock away, so the only way it fails is running out.
        let quantity = inventory::moved(item, -line.quantity).map_err(|error| {
            error.on_field(
                format!("items[{index}].quantity"),
                format!("only {} in stock", item.quantity),
            )
        })?;
        let before = (item.quantity, item.low_stock_threshold);
        reserved.push((
            before,
            inventory_item::Model {
                quantity,
                updated_at: at,
                ..item.clone()
            },
        ));
    }
    for (_, item) in &reserved {
        stock.insert(item.sku.clone(), item.clone());
    }
    Ok(reserved)
}

/// One `UPDATE` setting the quantity of every item the batch moved.
async fn set_quantities<'a>(
    write: &Write<'_>,
    moved: impl Iterator<Item = &'a inventory_item::Model>,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    let (ids, quantity) = moved.fold(
        (Vec::new(), CaseStatement::new()),
        |(mut ids, case), item| {
            ids.push(item.id);
            let case = case.case(
                inventory_item::Column::Id.eq(item.id),
                Expr::value(item.quantity),
            );
            (ids, case)
        },
    );
    inventory_item::Entity::update_many()
        .col_expr(
            inventory_item::Column::Quantity,
            quantity
                .finally(Expr::col(inventory_item::Column::Quantity))
                .into(),
        )
        .col_expr(inventory_item::Column::UpdatedAt, Expr::value(at))
        .filter(inventory_item::Column::Id.is_in(ids))
        .exec(write.txn())
        .await?;
    Ok(())
}

/// An order's event, to `orders` and `order:{id}`.
pub(super) fn order_event(name: EventName, view: &OrderView) -> NewEvent {
    NewEvent::new(name, Topic::Orders, Room::Order(view.id), view)
}

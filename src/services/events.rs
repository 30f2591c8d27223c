//! The event log: every domain event is a row, written in the same transaction as the
//! change it describes, and replayable with `GET /api/events?after=ID`.

use sea_orm::{
    Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    prelude::*,
    sea_query::{Func, Query},
};

use entity::event;

use crate::{
    auth::Identity,
    channels::{Delivery, Envelope, NewEvent, policy::own_private_rooms, rooms::Room},
    error::{AppError, ErrorCode},
};

/// Held from the first event-log insert until commit on PostgreSQL (see `record`).
const EVENT_LOG_LOCK: i64 = 0x7075_6c73_6f00;

/// Writes the events in order and returns what to deliver once the transaction commits.
///
/// Readers page the log with `after=<last id seen>`, so ids must become visible in
/// increasing order: an event with a smaller id must never commit after a reader has
/// seen a larger one. SQLite gives that for free (one writer at a time). PostgreSQL
/// hands out ids at insert and commits concurrently, so writers take one transaction-
/// scoped advisory lock before inserting events; it is released at commit, which
/// serializes "insert events, commit" across every node sharing the database.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    events: Vec<(&Identity, NewEvent)>,
) -> Result<Vec<Delivery>, DbErr> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let backend = conn.get_database_backend();
    if backend == DbBackend::Postgres {
        conn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({EVENT_LOG_LOCK})"))
            .await?;
    }
    let at = super::now();
    // One statement for all of a write's events.
    let mut insert = Query::insert();
    insert
        .into_table(event::Entity)
        .columns([
            event::Column::EventType,
            event::Column::Room,
            event::Column::Entity,
            event::Column::Data,
            event::Column::UserId,
            event::Column::CreatedAt,
        ])
        .returning_col(event::Column::Id);
    for (actor, event) in &events {
        // The data goes in as the JSON text it already is; PostgreSQL needs to be told.
        let data = Expr::val(event.data.get());
        let data = match backend {
            DbBackend::Postgres => Func::cast_as(data, "json").into(),
            _ => data,
        };
        insert
            .values([
                event.name.as_str().into(),
                event.room.to_string().into(),
                event.entity.as_ref().map(Room::to_string).into(),
                data,
                actor.user_id.as_str().into(),
                at.into(),
            ])
            .map_err(|error| DbErr::Custom(error.to_string()))?;
    }
    // Only the ids come back: the envelopes are built from what was written, not
    // parsed back from rows.
    let ids = conn
        .query_all(&insert)
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<i64>(0))
        .collect::<Result<Vec<_>, _>>()?;
    let ids = super::ids_in_insert_order(ids, events.len())?;
    Ok(events
        .into_iter()
        .zip(ids)
        .map(|((actor, event), id)| event.delivery(id, at, &actor.user_id))
        .collect())
}

pub const MAX_PAGE: u64 = 1000;

/// Events with an id greater than `after` that `actor` may see, oldest first: every
/// dashboard event, and of the private ones only those for the actor or its role.
pub async fn list_after(
    db: &DatabaseConnection,
    actor: &Identity,
    after: i64,
    limit: u64,
) -> Result<Vec<Envelope>, AppError> {
    let limit = super::checked_limit(limit, MAX_PAGE)?;
    // `after=0` reads from the oldest kept event; a later cursor must not skip silently.
    let pruned_through = super::retention::pruned_through(db).await?;
    if after > 0 && after < pruned_through {
        return Err(AppError::new(
            ErrorCode::CursorExpired,
            format!(
                "cursor expired: the events after {after} up to {pruned_through} are past retention \
                 (PULSO_EVENT_RETENTION_HOURS); reload, then read on from after={pruned_through}"
            ),
        ));
    }
    let public = Room::PRIVATE_PREFIXES
        .iter()
        .fold(Condition::all(), |all, prefix| {
            all.add(event::Column::Room.not_like(format!("{prefix}%")))
        });
    let visible = Condition::any()
        .add(public)
        .add(event::Column::Room.is_in(own_private_rooms(actor)));
    let rows = event::Entity::find()
        .filter(event::Column::Id.gt(after))
        .filter(visible)
        .order_by_asc(event::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Envelope::from).collect())
}

/// The id of the last event in the log (0 when it is empty).
pub async fn last_id(db: &DatabaseConnection) -> Result<i64, DbErr> {
    let last: Option<Option<i64>> = event::Entity::find()
        .select_only()
        .column_as(event::Column::Id.max(), "last")
        .into_tuple()
        .one(db)
        .await?;
    Ok(last.flatten().unwrap_or(0))
}

/// The events a socket in `rooms` was sent with an id in `after..=upto`, oldest first,
/// at most `limit`: those logged under one of its rooms or about the entity of one of
/// them, as `NewEvent::delivery` sends them (an event for everyone goes to every role
/// room).
pub async fn sent_to_rooms(
    db: &DatabaseConnection,
    rooms: &[String],
    (after, upto): (i64, i64),
    limit: u64,
) -> Result<Vec<Envelope>, DbErr> {
    let mut logged_under = rooms.to_vec();
    if rooms
        .iter()
        .any(|room| matches!(room.parse(), Ok(Room::Role(_))))
    {
        logged_under.push(Room::Everyone.to_string());
    }
    let rows = event::Entity::find()
        .filter(event::Column::Id.gt(after))
        .filter(event::Column::Id.lte(upto))
        .filter(
            Condition::any()
                .add(event::Column::Room.is_in(logged_under))
                .add(event::Column::Entity.is_in(rooms.iter().cloned())),
        )
        .order_by_asc(event::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Envelope::from).collect())
}

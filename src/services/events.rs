//! The event log: every domain event is a row, written in the same transaction as the
//! change it describes, and replayable with `GET /api/events?after=ID`.

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    prelude::*,
};
use serde::Serialize;
use serde_json::Value;

use entity::event;

use crate::{
    auth::{Action, Identity, authorize},
    error::AppError,
    realtime::{
        publisher::{Delivery, Envelope},
        rooms::{Room, Topic},
    },
};

/// An event produced by a write, not yet recorded.
#[derive(Debug)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub topic: Topic,
    pub entity: Room,
    pub data: Value,
}

impl NewEvent {
    pub fn new(
        event_type: &'static str,
        topic: Topic,
        entity: Room,
        data: &impl Serialize,
    ) -> Self {
        Self {
            event_type,
            topic,
            entity,
            // Views are plain structs of strings and numbers: serializing them cannot fail.
            data: serde_json::to_value(data).unwrap_or(Value::Null),
        }
    }
}

/// Writes the events in order and returns what to deliver once the transaction commits.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Identity,
    events: Vec<NewEvent>,
) -> Result<Vec<Delivery>, DbErr> {
    let mut deliveries = Vec::with_capacity(events.len());
    for event in events {
        let row = event::ActiveModel {
            event_type: Set(event.event_type.to_owned()),
            room: Set(Room::Topic(event.topic).to_string()),
            data: Set(event.data),
            user_id: Set(Some(actor.user_id.clone())),
            created_at: Set(super::now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        deliveries.push(Delivery {
            rooms: vec![row.room.clone(), event.entity.to_string()],
            envelope: Envelope::from(row),
        });
    }
    Ok(deliveries)
}

pub const MAX_PAGE: u64 = 1000;

/// Events with an id greater than `after`, oldest first.
pub async fn list_after(
    db: &DatabaseConnection,
    actor: &Identity,
    after: i64,
    limit: u64,
) -> Result<Vec<Envelope>, AppError> {
    authorize(actor, Action::Read)?;
    let rows = event::Entity::find()
        .filter(event::Column::Id.gt(after))
        .order_by_asc(event::Column::Id)
        .limit(limit.clamp(1, MAX_PAGE))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Envelope::from).collect())
}

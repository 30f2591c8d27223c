//! What a domain event looks like on the wire and on its way there: a write's new event
//! (`NewEvent`), its envelope once recorded, and every room it goes to (`Delivery`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::value::{RawValue, to_raw_value};

use super::{
    EventName,
    rooms::{Room, Topic},
};

/// What every server→client domain event carries.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Envelope {
    pub id: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    #[schemars(with = "serde_json::Value")]
    pub data: Box<RawValue>,
    #[serde(serialize_with = "millis")]
    #[schemars(with = "DateTime<Utc>")]
    pub timestamp: DateTime<Utc>,
    pub user_id: Option<String>,
    pub room: String,
}

fn millis<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

impl From<entity::event::Model> for Envelope {
    fn from(row: entity::event::Model) -> Self {
        Self {
            id: row.id,
            event_type: row.event_type,
            data: raw(&row.data),
            timestamp: row.created_at,
            user_id: row.user_id,
            room: row.room,
        }
    }
}

/// A committed event and every room it goes to (its envelope names the main room).
#[derive(Debug, Clone)]
pub struct Delivery {
    pub envelope: Envelope,
    pub rooms: Vec<String>,
}

/// An event produced by a write, not yet recorded. It is recorded under `room` and
/// delivered to `room` and, for dashboard events, to the entity's room too.
#[derive(Debug)]
pub struct NewEvent {
    pub name: EventName,
    pub room: Room,
    pub entity: Option<Room>,
    /// Serialized once: the same text goes into the log and out to every socket.
    pub data: Box<RawValue>,
}

impl NewEvent {
    /// A dashboard event: its topic room and the room of the entity it is about.
    pub fn new(name: EventName, topic: Topic, entity: Room, data: &impl Serialize) -> Self {
        Self {
            entity: Some(entity),
            ..Self::to(name, Room::Topic(topic), data)
        }
    }

    /// An event for one room only (a user's, or everyone's).
    pub fn to(name: EventName, room: Room, data: &impl Serialize) -> Self {
        Self {
            name,
            room,
            entity: None,
            data: raw(data),
        }
    }

    /// The event as recorded under `id`, with every room it goes to.
    pub fn delivery(self, id: i64, at: DateTime<Utc>, user_id: &str) -> Delivery {
        let mut rooms = self.room.targets();
        rooms.extend(self.entity.iter().flat_map(Room::targets));
        Delivery {
            rooms,
            envelope: Envelope {
                id,
                event_type: self.name.as_str().to_owned(),
                data: self.data,
                timestamp: at,
                user_id: Some(user_id.to_owned()),
                room: self.room.to_string(),
            },
        }
    }
}

/// A payload serialized once for every room and node it goes to. Envelopes and session
/// messages are plain structs of strings and numbers: serializing them cannot fail.
pub fn raw(payload: &impl Serialize) -> Box<RawValue> {
    to_raw_value(payload).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

//! Channels: what goes to whom. The event catalogue, the envelope, room names (built and
//! parsed here only), who may join which room and who may read which logged event.
//! Services hand committed events here; the broker below sends them.

mod catalogue;
mod envelope;
pub mod policy;
mod presence;
pub mod rooms;

use serde::Serialize;
use serde_json::value::RawValue;

pub use catalogue::EventName;
use envelope::raw;
pub use envelope::{Delivery, Envelope, NewEvent};
pub use presence::{Presence, connected_users, online};
use rooms::Room;

use crate::broker::Publisher;

/// Emits committed events in order and returns how many local sockets they reached.
/// Each carries its offset (its id in the log) unless recovery is off. A failed emit
/// is logged and counted by the broker and does not undo the write: the event stays in
/// the log for clients to catch up with.
pub async fn publish(publisher: &Publisher, deliveries: &[Delivery]) -> usize {
    let mut reached = 0;
    for delivery in deliveries {
        let envelope = &delivery.envelope;
        reached += publisher
            .logged(
                delivery.rooms.clone(),
                &envelope.event_type,
                &raw(envelope),
                envelope.id,
            )
            .await;
    }
    reached
}

/// A logged event as it goes out: its envelope, then its offset (its id in the log),
/// which the client hands back when it reconnects to say what it got last.
pub fn with_offset(envelope: &Envelope) -> (Box<RawValue>, String) {
    (raw(envelope), envelope.id.to_string())
}

/// A session message (not persisted) to every socket of one user, on any node.
pub async fn to_user(
    publisher: &Publisher,
    user_id: &str,
    event: EventName,
    payload: &impl Serialize,
) -> usize {
    let room = Room::User(user_id.to_owned()).to_string();
    publisher
        .to_rooms(vec![room], event.as_str(), &raw(payload))
        .await
}

//! The only place that emits domain events: after a write commits, each recorded event
//! goes to its topic room and its entity room (once per socket, on any node).

use std::{future::Future, pin::Pin, sync::Arc};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;
use socketioxide::{SocketIo, adapter::Adapter};

/// What every server→client domain event carries.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    pub id: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: Value,
    #[serde(serialize_with = "millis")]
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
            data: row.data,
            timestamp: row.created_at,
            user_id: row.user_id,
            room: row.room,
        }
    }
}

/// A committed event and every room it goes to (its envelope names the topic room).
#[derive(Debug, Clone)]
pub struct Delivery {
    pub envelope: Envelope,
    pub rooms: Vec<String>,
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Room fan-out, whatever socket.io adapter (in-memory or Redis) sits behind it.
trait Fanout: Send + Sync {
    fn emit<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<(), String>>;
}

impl<A: Adapter> Fanout for SocketIo<A> {
    fn emit<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.to(delivery.rooms.clone())
                .emit(&delivery.envelope.event_type, &delivery.envelope)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

#[derive(Clone)]
pub struct Publisher {
    fanout: Arc<dyn Fanout>,
}

impl Publisher {
    pub fn new<A: Adapter>(io: SocketIo<A>) -> Self {
        Self {
            fanout: Arc::new(io),
        }
    }

    /// Emits committed events in order. A failed emit is logged and does not undo the
    /// write: the event stays in the log for clients to catch up with.
    pub async fn publish(&self, deliveries: &[Delivery]) {
        for delivery in deliveries {
            if let Err(error) = self.fanout.emit(delivery).await {
                tracing::warn!(
                    event_id = delivery.envelope.id,
                    event = %delivery.envelope.event_type,
                    %error,
                    "event not delivered to sockets"
                );
            }
        }
    }
}

//! The only place that emits to sockets. Domain events go out after their write
//! commits, to every room they belong to (once per socket, on any node); session
//! messages (greeting, presence, unread counts) go to one socket or one user. Every
//! emit is counted here, so the stats and metrics are what really happened.

use std::{future::Future, pin::Pin, sync::Arc};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::value::{RawValue, to_raw_value};
use socketioxide::{
    BroadcastError, SocketIo, adapter::Adapter, extract::SocketRef, operators::BroadcastOperators,
};

use super::{
    rooms::Room,
    stats::{ConnectedSocket, Counters},
};
use crate::{auth::Identity, telemetry};

/// What every server→client domain event carries.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    pub id: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: Box<RawValue>,
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

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Room fan-out and the local socket list, whatever socket.io adapter (in-memory or
/// Redis) sits behind them.
trait Fanout: Send + Sync {
    /// Emits to the rooms; returns how many local sockets it went to.
    fn emit<'a>(
        &'a self,
        rooms: Vec<String>,
        event: &'a str,
        payload: &'a RawValue,
    ) -> BoxFuture<'a, Result<usize, BroadcastError>>;

    fn connected(&self) -> Vec<ConnectedSocket>;

    /// Users with a socket on any node (from the `user:` rooms).
    fn users(&self) -> BoxFuture<'_, Vec<String>>;

    /// Closes every socket of this node.
    fn close(&self) -> BoxFuture<'_, ()>;
}

impl<A: Adapter> Fanout for SocketIo<A> {
    fn emit<'a>(
        &'a self,
        rooms: Vec<String>,
        event: &'a str,
        payload: &'a RawValue,
    ) -> BoxFuture<'a, Result<usize, BroadcastError>> {
        Box::pin(async move {
            let recipients = self.to(rooms.clone()).sockets().len();
            emit_or_local(|| self.to(rooms.clone()), event, payload).await?;
            Ok(recipients)
        })
    }

    fn users(&self) -> BoxFuture<'_, Vec<String>> {
        Box::pin(async move {
            let rooms = match self.rooms().await {
                Ok(rooms) => rooms,
                Err(error) => {
                    tracing::warn!(%error, "other nodes unreachable: listing this node's users only");
                    self.local().rooms().await.unwrap_or_default()
                }
            };
            rooms
                .iter()
                .filter_map(|room| match room.parse() {
                    Ok(Room::User(user_id)) => Some(user_id),
                    _ => None,
                })
                .collect()
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(SocketIo::close(self))
    }

    fn connected(&self) -> Vec<ConnectedSocket> {
        self.sockets()
            .into_iter()
            .map(|socket| ConnectedSocket {
                identity: socket.extensions.get::<Identity>(),
                rooms: socket.rooms().into_iter().map(|r| r.to_string()).collect(),
            })
            .collect()
    }
}

#[derive(Clone)]
pub struct Publisher {
    fanout: Arc<dyn Fanout>,
    counters: Arc<Counters>,
}

impl Publisher {
    pub fn new<A: Adapter>(io: SocketIo<A>) -> Self {
        Self {
            fanout: Arc::new(io),
            counters: Arc::default(),
        }
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Sockets connected to this node.
    pub fn connected(&self) -> Vec<ConnectedSocket> {
        self.fanout.connected()
    }

    /// Users connected to any node.
    pub async fn users(&self) -> Vec<String> {
        self.fanout.users().await
    }

    /// Closes every socket of this node (shutdown).
    pub async fn close(&self) {
        self.fanout.close().await;
    }

    /// Emits committed events in order and returns how many local sockets they reached.
    /// A failed emit is logged and counted and does not undo the write: the event stays
    /// in the log for clients to catch up with.
    pub async fn publish(&self, deliveries: &[Delivery]) -> usize {
        let mut reached = 0;
        for delivery in deliveries {
            let payload = raw(&delivery.envelope);
            reached += self
                .to_rooms(
                    delivery.rooms.clone(),
                    &delivery.envelope.event_type,
                    &payload,
                )
                .await;
        }
        reached
    }

    /// A session message (not persisted) to every socket of one user.
    pub async fn to_user(&self, user_id: &str, event: &str, payload: &impl Serialize) -> usize {
        let room = Room::User(user_id.to_owned()).to_string();
        let payload = raw(payload);
        self.to_rooms(vec![room], event, &payload).await
    }

    /// A session message to one socket.
    pub fn to_socket<A: Adapter>(
        &self,
        socket: &SocketRef<A>,
        event: &str,
        payload: &impl Serialize,
    ) {
        let sent = socket.emit(event, payload);
        self.counters.record_direct(sent.is_ok(), event);
        if let Err(error) = sent {
            tracing::warn!(socket_id = %socket.id, event, %error, "message not sent");
        }
    }

    /// A session message to every socket but this one (presence).
    pub async fn to_others<A: Adapter>(
        &self,
        socket: &SocketRef<A>,
        event: &str,
        payload: &impl Serialize,
    ) {
        let recipients = socket.broadcast().sockets().len();
        let result = emit_or_local(|| socket.broadcast(), event, payload).await;
        if let Err(error) = &result {
            log_undelivered(event, error);
        }
        self.counters.record_broadcast(event, recipients, &result);
    }

    async fn to_rooms(&self, rooms: Vec<String>, event: &str, payload: &RawValue) -> usize {
        match self.fanout.emit(rooms, event, payload).await {
            Ok(recipients) => {
                self.counters.record_broadcast(event, recipients, &Ok(()));
                recipients
            }
            Err(error) => {
                log_undelivered(event, &error);
                self.counters.record_broadcast(event, 0, &Err(error));
                0
            }
        }
    }
}

/// A payload serialized once for every room and node it goes to. Envelopes and session
/// messages are plain structs of strings and numbers: serializing them cannot fail.
pub fn raw(payload: &impl Serialize) -> Box<RawValue> {
    to_raw_value(payload).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// Emits to the sockets `select` names. When Redis is unreachable the adapter delivers
/// nothing, not even on this node: this node's sockets then still get it, and other
/// nodes' clients catch up from the event log.
async fn emit_or_local<A: Adapter>(
    select: impl Fn() -> BroadcastOperators<A>,
    event: &str,
    payload: &(impl Serialize + ?Sized),
) -> Result<(), BroadcastError> {
    match select().emit(event, payload).await {
        Err(BroadcastError::Adapter(error)) => {
            tracing::warn!(event, %error, "other nodes unreachable: delivering on this node only");
            telemetry::record_adapter_error();
            select().local().emit(event, payload).await
        }
        result => result,
    }
}

/// One line per emit, however many sockets missed it: when thousands leave at once the
/// failures are counted (`total_send_errors`), not listed.
fn log_undelivered(event: &str, error: &BroadcastError) {
    match error {
        BroadcastError::Socket(failures) => {
            tracing::warn!(
                event,
                failed = failures.len(),
                "not delivered to some sockets (closed, or queue full)"
            )
        }
        other => tracing::warn!(event, error = %other, "event not delivered"),
    }
}

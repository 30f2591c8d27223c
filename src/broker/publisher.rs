//! The only place that emits to sockets: to rooms (once per socket, on any node), to
//! one socket, or to every socket but one. What goes to which room is decided above, in
//! `channels`. Every emit is counted here, so the stats and metrics are what really
//! happened.

use std::{borrow::Cow, future::Future, pin::Pin, sync::Arc};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use socketioxide::{
    BroadcastError, SocketIo, adapter::Adapter, extract::SocketRef, operators::BroadcastOperators,
};
use socketioxide_core::Value;
use tokio::sync::{Notify, OwnedRwLockReadGuard, RwLock, mpsc};

use super::{
    cluster::ManagedDriver,
    stats::{ConnectedSocket, Counters},
};
use crate::{auth::Identity, telemetry};

/// How long a recovery waits for this node to deliver what its client already got.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(2);

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Room fan-out and the local socket list, whatever socket.io adapter (in-memory or
/// Redis) sits behind them.
trait Fanout: Send + Sync {
    /// Emits to the rooms (on this node only if `local`), with the offset as a last
    /// argument if there is one; returns how many local sockets it went to.
    fn emit<'a>(
        &'a self,
        rooms: Vec<String>,
        event: &'a str,
        payload: &'a RawValue,
        offset: Option<&'a str>,
        local: bool,
    ) -> BoxFuture<'a, Result<usize, BroadcastError>>;

    fn connected(&self) -> Vec<ConnectedSocket>;

    /// How many of this node's sockets are in any of the rooms.
    fn local_recipients(&self, rooms: &[String]) -> usize;

    /// The rooms of the sockets in `of` (of every socket when empty), on every node.
    fn rooms(&self, of: Vec<String>) -> BoxFuture<'_, Vec<String>>;

    /// Closes every socket of this node.
    fn close(&self) -> BoxFuture<'_, ()>;
}

impl<A: Adapter> Fanout for SocketIo<A> {
    fn emit<'a>(
        &'a self,
        rooms: Vec<String>,
        event: &'a str,
        payload: &'a RawValue,
        offset: Option<&'a str>,
        local: bool,
    ) -> BoxFuture<'a, Result<usize, BroadcastError>> {
        Box::pin(async move {
            let recipients = self.local_recipients(&rooms);
            let select = || {
                let root = root(self)?;
                Some(match local {
                    true => root.local().to(rooms.clone()),
                    false => root.to(rooms.clone()),
                })
            };
            match offset {
                // A tuple goes out as two arguments.
                Some(offset) => emit_or_local(select, event, &(payload, offset)).await?,
                None => emit_or_local(select, event, payload).await?,
            }
            Ok(recipients)
        })
    }

    fn rooms(&self, of: Vec<String>) -> BoxFuture<'_, Vec<String>> {
        Box::pin(async move {
            let Some(everywhere) = root(self).map(|root| root.within(of.clone())) else {
                return Vec::new();
            };
            let rooms = match everywhere.rooms().await {
                Ok(rooms) => rooms,
                Err(error) => {
                    tracing::warn!(%error, "other nodes unreachable: listing this node's rooms only");
                    let here = root(self).map(|root| root.within(of).local());
                    match here {
                        Some(here) => here.rooms().await.unwrap_or_default(),
                        None => Vec::new(),
                    }
                }
            };
            rooms.iter().map(|room| room.to_string()).collect()
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(SocketIo::close(self))
    }

    fn local_recipients(&self, rooms: &[String]) -> usize {
        root(self).map_or(0, |root| root.to(rooms.to_vec()).sockets().len())
    }

    fn connected(&self) -> Vec<ConnectedSocket> {
        root(self)
            .map(BroadcastOperators::sockets)
            .unwrap_or_default()
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
    offsets: bool,
    /// Several nodes: logged events travel through this node's Redis channel.
    cluster: Option<ManagedDriver>,
    /// The id of the last logged event delivered to this node's sockets: they are
    /// delivered in log order, under this lock (see `delivered`).
    delivered: Arc<RwLock<i64>>,
    /// Woken after each delivery.
    delivery: Arc<Notify>,
}

/// A logged event on its way through Redis to every node's sockets.
#[derive(Serialize, Deserialize)]
struct LoggedMessage<'a> {
    id: i64,
    rooms: Vec<String>,
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(borrow)]
    payload: &'a RawValue,
    #[serde(borrow)]
    offset: Option<Cow<'a, str>>,
}

impl Publisher {
    /// `offsets`: logged events carry their offset (connection state recovery is on).
    /// With several nodes, `cluster` carries them (see `logged`). `last_logged`: the
    /// last event id in the log when this node starts, delivered to nobody from now on.
    pub fn new<A: Adapter>(
        io: SocketIo<A>,
        offsets: bool,
        cluster: Option<ManagedDriver>,
        last_logged: i64,
    ) -> Self {
        Self {
            fanout: Arc::new(io),
            counters: Arc::default(),
            offsets,
            cluster,
            delivered: Arc::new(RwLock::new(last_logged)),
            delivery: Arc::default(),
        }
    }

    /// The id of the last logged event delivered to this node's sockets, once it is at
    /// least `at_least` (or after `CATCH_UP`, whatever it is then); no logged event is
    /// delivered while the guard lives. Every event up to that id was delivered already,
    /// every later one will be after the guard goes: what a recovering socket reads from
    /// the log, and what it gets live. Waiting matters with several nodes, where this one
    /// may not yet have delivered an event another delivered to the client.
    pub async fn delivered(&self, at_least: i64) -> OwnedRwLockReadGuard<i64> {
        let deadline = tokio::time::Instant::now() + CATCH_UP;
        loop {
            let delivery = self.delivery.notified();
            tokio::pin!(delivery);
            // Registered before the check: a delivery in between still wakes it.
            delivery.as_mut().enable();
            let delivered = self.delivered.clone().read_owned().await;
            if *delivered >= at_least || tokio::time::Instant::now() >= deadline {
                return delivered;
            }
            drop(delivered);
            let _ = tokio::time::timeout_at(deadline, delivery).await;
        }
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Sockets connected to this node.
    pub fn connected(&self) -> Vec<ConnectedSocket> {
        self.fanout.connected()
    }

    /// The rooms of the sockets in `of` (of every socket when empty), on any node.
    pub async fn rooms(&self, of: Vec<String>) -> Vec<String> {
        self.fanout.rooms(of).await
    }

    /// Closes every socket of this node (shutdown), and ends `deliver_logged`.
    pub async fn close(&self) {
        self.fanout.close().await;
        if let Some(cluster) = &self.cluster
            && let Err(error) = cluster.unsubscribe_logged().await
        {
            tracing::warn!(%error, "shutdown: logged events still subscribed");
        }
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
        let result = emit_or_local(|| Some(socket.broadcast()), event, payload).await;
        if let Err(error) = &result {
            log_undelivered(event, error);
        }
        self.counters.record_broadcast(event, recipients, &result);
    }

    /// Emits a payload serialized once to every socket in any of the rooms; returns how
    /// many local sockets it went to.
    pub async fn to_rooms(&self, rooms: Vec<String>, event: &str, payload: &RawValue) -> usize {
        self.emit(rooms, event, payload, None, false).await
    }

    /// Emits the logged event `id`, followed by its offset (the id, as a string) when
    /// connection state recovery is on, to every socket in any of the rooms, so that
    /// each socket gets logged events in log order (callers publish in that order).
    /// With several nodes the adapter would deliver this node's events to its sockets at
    /// once and other nodes' later, through Redis: logged events go through one Redis
    /// channel instead, which every node, this one included, delivers in the order Redis
    /// received them. While Redis is unreachable they reach this node's sockets only.
    pub async fn logged(
        &self,
        rooms: Vec<String>,
        event: &str,
        payload: &RawValue,
        id: i64,
    ) -> usize {
        let offset = self.offsets.then(|| id.to_string());
        let offset = offset.as_deref();
        let Some(cluster) = self.cluster.as_ref().filter(|c| c.healthy()) else {
            let local = self.cluster.is_some();
            if local {
                // Redis is known to be down: other nodes' sockets miss this event.
                telemetry::record_adapter_error();
            }
            let emit = self.emit(rooms, event, payload, offset, local);
            return self.delivering(id, emit).await;
        };
        let recipients = self.fanout.local_recipients(&rooms);
        let message = LoggedMessage {
            id,
            rooms,
            event: event.into(),
            payload,
            offset: offset.map(Cow::from),
        };
        let bytes = serde_json::to_vec(&message).unwrap_or_default();
        match cluster.publish_logged(bytes).await {
            Ok(()) => {
                self.counters.record_broadcast(event, recipients, &Ok(()));
                recipients
            }
            Err(error) => {
                tracing::warn!(event, %error, "other nodes unreachable: delivering on this node only");
                telemetry::record_adapter_error();
                let emit = self.emit(message.rooms, event, payload, offset, true);
                self.delivering(id, emit).await
            }
        }
    }

    /// Delivers the logged events of every node to this node's sockets, in the order
    /// Redis received them, until the channel closes.
    pub async fn deliver_logged(self, mut messages: mpsc::Receiver<(String, Vec<u8>)>) {
        while let Some((_, bytes)) = messages.recv().await {
            let Ok(message) = serde_json::from_slice::<LoggedMessage>(&bytes) else {
                tracing::warn!("an unreadable logged event from Redis was skipped");
                continue;
            };
            let offset = message.offset.as_deref();
            let (rooms, event) = (message.rooms, &message.event);
            let emit = self
                .fanout
                .emit(rooms, event, message.payload, offset, true);
            if let Err(error) = self.delivering(message.id, emit).await {
                log_undelivered(event, &error);
            }
        }
    }

    /// Runs `emit`, the delivery of logged event `id`, under the delivered lock.
    async fn delivering<T>(&self, id: i64, emit: impl Future<Output = T>) -> T {
        let mut delivered = self.delivered.write().await;
        let outcome = emit.await;
        *delivered = (*delivered).max(id);
        drop(delivered);
        self.delivery.notify_waiters();
        outcome
    }

    async fn emit(
        &self,
        rooms: Vec<String>,
        event: &str,
        payload: &RawValue,
        offset: Option<&str>,
        local: bool,
    ) -> usize {
        match self.fanout.emit(rooms, event, payload, offset, local).await {
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

/// Emits to what `select` picks, on every node, or on this node alone when the others
/// cannot be reached. Nothing to pick (the server has shut its namespace) sends nothing.
async fn emit_or_local<A: Adapter>(
    select: impl Fn() -> Option<BroadcastOperators<A>>,
    event: &str,
    payload: &(impl Serialize + ?Sized),
) -> Result<(), BroadcastError> {
    let Some(selected) = select() else {
        return Ok(());
    };
    match selected.emit(event, payload).await {
        Err(BroadcastError::Adapter(error)) => {
            tracing::warn!(event, %error, "other nodes unreachable: delivering on this node only");
            telemetry::record_adapter_error();
            match select() {
                Some(selected) => selected.local().emit(event, payload).await,
                None => Ok(()),
            }
        }
        result => result,
    }
}

/// The root namespace, until the server shuts it: a batch that commits during shutdown
/// then publishes to nobody (its events are in the log for those who reconnect) instead
/// of panicking in socketioxide's shorthands, which assume the namespace is there.
fn root<A: Adapter>(io: &SocketIo<A>) -> Option<BroadcastOperators<A>> {
    io.of("/")
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

/// The offset `logged` appended to a broadcast packet, if it has one.
pub fn offset_of(packet: &Value) -> Option<i64> {
    split_offset(packet).map(|(_, offset)| offset)
}

/// A broadcast packet without the offset `logged` appends, for a socket that opted
/// out of recovery: `…{envelope},"123"]` becomes `…{envelope}]`. Other packets (session
/// messages carry no offset) go through unchanged.
pub fn without_offset(packet: Value) -> Value {
    match split_offset(&packet) {
        Some((head, _)) => Value::Str(format!("{head}]").into(), None),
        None => packet,
    }
}

/// `…{envelope},"123"]` → (`…{envelope}`, 123). Only an object (the envelope) may come
/// before an offset, so a session message whose last argument is a string is not one.
fn split_offset(packet: &Value) -> Option<(&str, i64)> {
    let Value::Str(text, None) = packet else {
        return None;
    };
    let head = text.strip_suffix("\"]")?;
    let digits_at = head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let offset = head[digits_at..].parse().ok()?;
    let head = head[..digits_at].strip_suffix(",\"")?;
    head.ends_with('}').then_some((head, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(text: &str) -> Value {
        Value::Str(text.to_owned().into(), None)
    }

    #[test]
    fn offsets_are_read_and_removed_only_after_an_envelope() {
        let with = packet(r#"42["order_created",{"id":7,"data":{"x":"1"}},"7"]"#);
        assert_eq!(offset_of(&with), Some(7));
        assert_eq!(
            without_offset(with).as_str().map(|s| s.to_string()),
            Some(r#"42["order_created",{"id":7,"data":{"x":"1"}}]"#.to_owned())
        );
        for other in [
            r#"42["unread_count",{"count":3}]"#,
            r#"42["x","7"]"#,
            r#"42["x",{},""]"#,
            r#"42["x",{},"7a"]"#,
        ] {
            assert_eq!(offset_of(&packet(other)), None, "{other}");
            assert_eq!(without_offset(packet(other)), packet(other), "{other}");
        }
    }
}

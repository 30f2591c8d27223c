//! The only place that emits to sockets: to rooms (once per socket, on any node), to
//! one socket, or to every socket but one. What goes to which room is decided above, in
//! `channels`. Every emit is counted here, so the stats and metrics are what really
//! happened.

use std::{future::Future, pin::Pin, sync::Arc};

use serde::Serialize;
use serde_json::value::RawValue;
use socketioxide::{
    BroadcastError, SocketIo, adapter::Adapter, extract::SocketRef, operators::BroadcastOperators,
};

use super::stats::{ConnectedSocket, Counters};
use crate::{auth::Identity, telemetry};

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

    /// Every room with a socket in it, on any node.
    fn rooms(&self) -> BoxFuture<'_, Vec<String>>;

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

    fn rooms(&self) -> BoxFuture<'_, Vec<String>> {
        Box::pin(async move {
            let rooms = match SocketIo::rooms(self).await {
                Ok(rooms) => rooms,
                Err(error) => {
                    tracing::warn!(%error, "other nodes unreachable: listing this node's rooms only");
                    self.local().rooms().await.unwrap_or_default()
                }
            };
            rooms.iter().map(|room| room.to_string()).collect()
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

    /// Every room with a socket in it, on any node.
    pub async fn rooms(&self) -> Vec<String> {
        self.fanout.rooms().await
    }

    /// Closes every socket of this node (shutdown).
    pub async fn close(&self) {
        self.fanout.close().await;
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

    /// Emits a payload serialized once to every socket in any of the rooms; returns how
    /// many local sockets it went to.
    pub async fn to_rooms(&self, rooms: Vec<String>, event: &str, payload: &RawValue) -> usize {
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

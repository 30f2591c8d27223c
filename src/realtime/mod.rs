//! Socket.IO: connection auth, rooms, command handlers and the publisher. socketioxide
//! owns connections, rooms and fan-out; nothing here keeps its own map of sockets.

pub mod commands;
pub mod connect;
pub mod limits;
pub mod publisher;
pub mod rooms;
pub mod stats;

use std::sync::Arc;

use serde_json::Value;

use socketioxide::{
    SocketIo,
    adapter::LocalAdapter,
    extract::{SocketRef, TryData},
    handler::ConnectHandler,
};

use crate::state::AppState;

/// Registers the default namespace `/` (socketioxide does not create it by itself).
/// The handlers are generic over the adapter; this wires them to the in-memory one.
pub fn register(io: &SocketIo<LocalAdapter>, state: Arc<AppState>) {
    let on_connect = {
        let state = state.clone();
        move |socket: SocketRef<LocalAdapter>| connect::on_connect(state.clone(), socket)
    };
    let authenticate = move |socket: SocketRef<LocalAdapter>, auth: TryData<Value>| {
        connect::authenticate(state.clone(), socket, auth)
    };
    io.ns("/", on_connect.with(authenticate))
}

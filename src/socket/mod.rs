//! The socket edge (the socket's `http/`): authentication at connect, then every
//! command a socket sends, handed to the same services REST uses. socketioxide owns
//! connections, rooms and fan-out; nothing here keeps its own map of sockets.

pub mod admin_ui;
mod commands;
mod connect;
pub mod contract;
mod presence;
mod recovery;

use std::sync::Arc;

use serde_json::Value;
use socketioxide_core::adapter::DefinedAdapter;

use socketioxide::{
    SocketIo,
    adapter::Adapter,
    extract::{SocketRef, TryData},
    handler::ConnectHandler,
};

use crate::state::AppState;

/// Registers the default namespace `/` (socketioxide does not create it by itself).
/// With the in-memory adapter this returns `()`; with Redis, a future to await.
pub fn register<A: Adapter + DefinedAdapter>(io: &SocketIo<A>, state: Arc<AppState>) -> A::InitRes {
    let on_connect = {
        let state = state.clone();
        move |socket: SocketRef<A>, io: SocketIo<A>| connect::on_connect(state.clone(), socket, io)
    };
    let authenticate = move |socket: SocketRef<A>, auth: TryData<Value>| {
        connect::authenticate(state.clone(), socket, auth)
    };
    io.ns("/", on_connect.with(authenticate))
}

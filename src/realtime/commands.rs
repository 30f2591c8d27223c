//! Client → server commands. Every event a socket sends lands here: it is parsed,
//! handed to the same service function REST uses, and answered with an ack
//! `{ ok: true, data }` or `{ ok: false, error }`. Bad input never goes unanswered.

use std::{sync::Arc, time::Instant};

use serde::Serialize;
use serde_json::{Value, json};
use socketioxide::{
    adapter::Adapter,
    extract::{AckSender, SocketRef},
};

use super::rooms::Room;
use crate::{
    auth::Identity,
    domain::{TargetId, parse},
    error::{Ack, AppError},
    services::{clients, inventory, orders},
    state::AppState,
};

pub async fn dispatch<A: Adapter>(
    state: Arc<AppState>,
    socket: SocketRef<A>,
    command: String,
    payload: Value,
    ack: AckSender<A>,
) {
    let Some(identity) = socket.extensions.get::<Identity>() else {
        return;
    };
    let started = Instant::now();
    let result = state
        .writes
        .track_future(run(&state, &socket, &identity, &command, payload))
        .await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(error) => error.code.as_str(),
    };
    tracing::info!(
        socket_id = %socket.id,
        user_id = %identity.user_id,
        command,
        outcome,
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "command"
    );
    if let Err(error) = ack.send(&Ack::from(result)) {
        tracing::warn!(socket_id = %socket.id, %error, "ack not sent");
    }
}

async fn run<A: Adapter>(
    state: &AppState,
    socket: &SocketRef<A>,
    identity: &Identity,
    command: &str,
    payload: Value,
) -> Result<Value, AppError> {
    let services = &state.services;
    match command {
        "join_room" => join_room(socket, identity, payload),
        "leave_room" => leave_room(socket, payload),
        "client:create" => json_of(clients::create(services, identity, parse(payload)?).await),
        "client:update" => {
            let TargetId { id } = parse(payload.clone())?;
            json_of(clients::update(services, identity, id, parse(payload)?).await)
        }
        "inventory:update" => json_of(inventory::update(services, identity, parse(payload)?).await),
        "stock_low" => json_of(inventory::report_low(services, identity, parse(payload)?).await),
        "order:create" => json_of(orders::create(services, identity, parse(payload)?).await),
        "order:update" => {
            let TargetId { id } = parse(payload.clone())?;
            json_of(orders::update(services, identity, id, parse(payload)?).await)
        }
        other => Err(AppError::invalid(format!("unknown command `{other}`"))),
    }
}

fn json_of<T: Serialize>(result: Result<T, AppError>) -> Result<Value, AppError> {
    result.and_then(|value| serde_json::to_value(value).map_err(|_| AppError::internal()))
}

/// `join_room` / `leave_room` take `"orders"` or `{ room: "orders" }`.
fn room_arg(payload: Value) -> Result<Room, AppError> {
    let name = match &payload {
        Value::String(name) => Some(name.as_str()),
        Value::Object(map) => map.get("room").and_then(Value::as_str),
        _ => None,
    };
    name.ok_or_else(|| AppError::invalid_field("room", "expected a room name"))?
        .parse()
}

fn join_room<A: Adapter>(
    socket: &SocketRef<A>,
    identity: &Identity,
    payload: Value,
) -> Result<Value, AppError> {
    let room = room_arg(payload)?;
    room.may_join(identity)?;
    socket.join(room.to_string());
    Ok(json!({ "room": room.to_string(), "rooms": socket.rooms() }))
}

fn leave_room<A: Adapter>(socket: &SocketRef<A>, payload: Value) -> Result<Value, AppError> {
    let room = room_arg(payload)?;
    if room.is_automatic() {
        return Err(AppError::forbidden(format!("{room} cannot be left")));
    }
    socket.leave(room.to_string());
    Ok(json!({ "room": room.to_string(), "rooms": socket.rooms() }))
}

//! Client → server commands. Every event a socket sends lands here: it is parsed,
//! handed to the same service function REST uses, and answered with an ack
//! `{ ok: true, data }` or `{ ok: false, error }`. Bad input never goes unanswered.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use serde::Serialize;
use serde_json::{
    Value,
    value::{RawValue, to_raw_value},
};
use socketioxide::{
    adapter::Adapter,
    extract::{AckSender, SocketRef},
};
use tracing::Instrument;

use super::{admin_ui, recovery};

use crate::{
    auth::{Action, Identity},
    channels::{EventName, policy, rooms::Room},
    domain::{TargetId, notifications::MarkRead, parse, published},
    error::{Ack, AppError},
    limits::{TokenBucket, Verdict},
    services::{clients, inventory, notifications, operations, orders, publish},
    state::AppState,
    telemetry,
};

/// Every command a socket can send. Metrics label commands by these names only, so a
/// client cannot create new label values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Command {
    JoinRoom,
    LeaveRoom,
    ClientCreate,
    ClientUpdate,
    InventoryUpdate,
    StockLow,
    OrderCreate,
    OrderUpdate,
    NotificationSend,
    MarkRead,
    MarkAllRead,
    GetUnreadCount,
    TestBroadcast,
    Publish,
}

impl Command {
    pub(super) const ALL: [Command; 14] = [
        Command::JoinRoom,
        Command::LeaveRoom,
        Command::ClientCreate,
        Command::ClientUpdate,
        Command::InventoryUpdate,
        Command::StockLow,
        Command::OrderCreate,
        Command::OrderUpdate,
        Command::NotificationSend,
        Command::MarkRead,
        Command::MarkAllRead,
        Command::GetUnreadCount,
        Command::TestBroadcast,
        Command::Publish,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Command::JoinRoom => "join_room",
            Command::LeaveRoom => "leave_room",
            Command::ClientCreate => "client:create",
            Command::ClientUpdate => "client:update",
            Command::InventoryUpdate => "inventory:update",
            Command::StockLow => "stock_low",
            Command::OrderCreate => "order:create",
            Command::OrderUpdate => "order:update",
            Command::NotificationSend => "notification:send",
            Command::MarkRead => "mark_read",
            Command::MarkAllRead => "mark_all_read",
            Command::GetUnreadCount => "get_unread_count",
            Command::TestBroadcast => "admin:test_broadcast",
            Command::Publish => "publish",
        }
    }

    /// What the command needs its caller's role to allow (rooms are checked apart).
    pub(super) fn action(self) -> Action {
        match self {
            Command::JoinRoom
            | Command::LeaveRoom
            | Command::MarkRead
            | Command::MarkAllRead
            | Command::GetUnreadCount => Action::Read,
            Command::ClientCreate
            | Command::ClientUpdate
            | Command::InventoryUpdate
            | Command::StockLow
            | Command::OrderCreate
            | Command::OrderUpdate => Action::WriteCatalog,
            Command::NotificationSend => Action::SendNotification,
            Command::TestBroadcast => Action::TestBroadcast,
            Command::Publish => Action::Publish,
        }
    }

    pub(super) fn parse(name: &str) -> Option<Command> {
        Command::ALL
            .into_iter()
            .find(|command| command.name() == name)
    }
}

pub async fn dispatch<A: Adapter>(
    state: Arc<AppState>,
    bucket: Arc<Mutex<TokenBucket>>,
    socket: SocketRef<A>,
    event: String,
    payload: Result<Value, AppError>,
    ack: AckSender<A>,
) {
    let Some(identity) = socket.extensions.get::<Identity>() else {
        return;
    };
    let started = Instant::now();
    let command = Command::parse(&event);
    let verdict = match bucket.lock() {
        Ok(mut bucket) => bucket.take(started),
        Err(_) => Verdict::Run,
    };
    let result = match command {
        _ if verdict != Verdict::Run => Err(rate_limited(&state, &verdict)),
        Some(command) if let Err(denied) = state.permit(&identity, command.action()) => Err(denied),
        Some(command) => match payload {
            Err(unreadable) => Err(unreadable),
            Ok(payload) => {
                let span = tracing::info_span!("socket", socket_id = %socket.id, user_id = %identity.user_id);
                state
                    .writes
                    .track_future(run(&state, &socket, &identity, command, payload))
                    .instrument(span)
                    .await
            }
        },
        None => Err(AppError::invalid(format!("unknown command `{event}`"))),
    };
    let took = started.elapsed();
    let outcome = match &result {
        Ok(_) => "ok",
        Err(error) => error.code.as_str(),
    };
    let name = command.map_or("unknown", Command::name);
    telemetry::record_command(name, outcome, took);
    tracing::info!(
        socket_id = %socket.id,
        user_id = %identity.user_id,
        command = name,
        outcome,
        duration_ms = took.as_secs_f64() * 1000.0,
        "command"
    );
    if let Err(error) = ack.send(&Ack::from(result)) {
        tracing::warn!(socket_id = %socket.id, user_id = %identity.user_id, %error, "ack not sent");
    }
    if verdict == Verdict::Flooding {
        tracing::warn!(socket_id = %socket.id, user_id = %identity.user_id, "disconnecting a socket that floods past its rate limit");
        if let Err(error) = socket.disconnect() {
            tracing::warn!(%error, "could not disconnect a flooding socket");
        }
    }
}

/// The refusal for a command over the socket's rate: counted, with a retry hint.
fn rate_limited(state: &AppState, verdict: &Verdict) -> AppError {
    let flooding = *verdict == Verdict::Flooding;
    telemetry::record_rate_limited(flooding);
    let rate = state.limits.rate_per_second;
    match verdict {
        Verdict::Refuse(wait) => AppError::rate_limited(
            format!(
                "rate limited: more than {rate} commands per second; retry in {} ms",
                wait.as_millis()
            ),
            Some(*wait),
        ),
        _ => AppError::rate_limited(
            format!("rate limited: kept sending past {rate} commands per second; disconnecting"),
            None,
        ),
    }
}

async fn run<A: Adapter>(
    state: &AppState,
    socket: &SocketRef<A>,
    identity: &Identity,
    command: Command,
    payload: Value,
) -> Result<Box<RawValue>, AppError> {
    let services = &state.services;
    match command {
        Command::JoinRoom => {
            let change = join_room(state, socket, identity, payload)?;
            recovery::remember_rooms(state, socket).await;
            admin_ui::room_changed(socket, &change.room, true).await;
            json_of(Ok(change))
        }
        Command::LeaveRoom => {
            let change = leave_room(socket, payload)?;
            recovery::remember_rooms(state, socket).await;
            admin_ui::room_changed(socket, &change.room, false).await;
            json_of(Ok(change))
        }
        Command::ClientCreate => {
            json_of(clients::create(services, identity, parse(payload)?).await)
        }
        Command::ClientUpdate => {
            let TargetId { id } = parse(payload.clone())?;
            json_of(clients::update(services, identity, id, parse(payload)?).await)
        }
        Command::InventoryUpdate => {
            json_of(inventory::update(services, identity, parse(payload)?).await)
        }
        Command::StockLow => {
            json_of(inventory::report_low(services, identity, parse(payload)?).await)
        }
        Command::OrderCreate => json_of(orders::create(services, identity, parse(payload)?).await),
        Command::OrderUpdate => {
            let TargetId { id } = parse(payload.clone())?;
            json_of(orders::update(services, identity, id, parse(payload)?).await)
        }
        Command::NotificationSend => {
            json_of(notifications::send(services, identity, parse(payload)?).await)
        }
        Command::MarkRead => {
            let MarkRead { notification_id } = parse(payload)?;
            json_of(notifications::mark_read(services, identity, notification_id).await)
        }
        Command::MarkAllRead => json_of(notifications::mark_all_read(services, identity).await),
        Command::GetUnreadCount => {
            let count = notifications::unread_count(services, &identity.user_id).await?;
            services
                .publisher
                .to_socket(socket, EventName::UnreadCount.as_str(), &count);
            json_of(Ok(count))
        }
        Command::TestBroadcast => json_of(
            operations::test_broadcast(services, identity, state.production, parse(payload)?).await,
        ),
        Command::Publish => json_of(
            publish::publish(services, identity, state.relay, published::read(payload)?).await,
        ),
    }
}

/// The ack's data, serialized once, straight from the service's view.
fn json_of<T: Serialize>(result: Result<T, AppError>) -> Result<Box<RawValue>, AppError> {
    result.and_then(|value| to_raw_value(&value).map_err(|_| AppError::internal()))
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

/// What `join_room` and `leave_room` answer: the room and how many the socket is in now
/// (not their names, so an ack stays small however many rooms a socket holds).
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "RoomMembership")]
pub(super) struct RoomChange {
    room: String,
    room_count: usize,
}

fn join_room<A: Adapter>(
    state: &AppState,
    socket: &SocketRef<A>,
    identity: &Identity,
    payload: Value,
) -> Result<RoomChange, AppError> {
    let room = room_arg(payload)?;
    policy::may_join(identity, &room)?;
    let room = room.to_string();
    let rooms = socket.rooms();
    let mut room_count = rooms.len();
    if !rooms.iter().any(|joined| *joined == room) {
        room_count += 1;
        state.limits.check_rooms(room_count)?;
        socket.join(room.clone());
    }
    Ok(RoomChange { room, room_count })
}

fn leave_room<A: Adapter>(socket: &SocketRef<A>, payload: Value) -> Result<RoomChange, AppError> {
    let room = room_arg(payload)?;
    if room.is_automatic() {
        return Err(AppError::forbidden(format!("{room} cannot be left")));
    }
    socket.leave(room.to_string());
    Ok(RoomChange {
        room: room.to_string(),
        room_count: socket.rooms().len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_are_distinct_and_parse_back() {
        for command in Command::ALL {
            assert_eq!(Command::parse(command.name()), Some(command));
        }
        assert_eq!(Command::parse("order:delete"), None);
    }
}

//! Connection lifecycle: authenticate at connect, join the automatic rooms, greet the
//! socket, announce presence, and route every later event to the command handlers.

use std::sync::Arc;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use socketioxide::{
    adapter::Adapter,
    extract::{AckSender, Event, SocketRef, TryData},
};

use super::{
    commands,
    rooms::{Room, Topic},
};
use crate::{
    auth::{Credentials, Identity, authenticate as check_credentials},
    error::AppError,
    state::AppState,
};

/// The `auth` object a client sends with `io(url, { auth })`.
#[derive(Debug, Default, Deserialize)]
struct ConnectAuth {
    api_key: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    user_id: Option<String>,
    rooms: Option<Vec<String>>,
}

/// Browsers often send numeric ids; `user_id: 7` means user "7".
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The topic rooms a socket starts in: all its role may read, or the `auth.rooms` subset.
#[derive(Debug, Clone)]
struct InitialRooms(Vec<Room>);

/// Connect middleware: an error here becomes the client's `connect_error` and the
/// socket never joins the namespace.
pub async fn authenticate<A: Adapter>(
    state: Arc<AppState>,
    socket: SocketRef<A>,
    TryData(auth): TryData<Value>,
) -> Result<(), AppError> {
    let parts = socket.req_parts();
    let mut credentials = Credentials::from_http(&parts.headers, parts.uri.query());
    let auth: ConnectAuth = match auth {
        Ok(Value::Object(map)) => serde_json::from_value(Value::Object(map))
            .map_err(|e| AppError::invalid(format!("invalid auth payload: {e}")))?,
        _ => ConnectAuth::default(),
    };
    if auth.api_key.is_some() {
        credentials.api_key = auth.api_key;
    }
    if auth.user_id.is_some() {
        credentials.user_id = auth.user_id;
    }
    let identity = check_credentials(&state.api_keys, &credentials).inspect_err(|e| {
        tracing::info!(socket_id = %socket.id, reason = %e.message, "connection refused");
    })?;
    let rooms = initial_rooms(&identity, auth.rooms)?;
    socket.extensions.insert(identity);
    socket.extensions.insert(InitialRooms(rooms));
    Ok(())
}

fn initial_rooms(identity: &Identity, wanted: Option<Vec<String>>) -> Result<Vec<Room>, AppError> {
    let readable = Topic::readable_by(identity.role);
    let Some(wanted) = wanted else {
        return Ok(readable.iter().copied().map(Room::Topic).collect());
    };
    wanted
        .iter()
        .map(|name| {
            let room: Room = name.parse()?;
            room.may_join(identity)?;
            Ok(room)
        })
        .collect()
}

#[derive(Serialize)]
struct Established<'a> {
    user_id: &'a str,
    socket_id: String,
    role: &'a str,
    rooms: Vec<String>,
    server_time: String,
}

#[derive(Serialize)]
struct Presence<'a> {
    user_id: &'a str,
    role: &'a str,
}

pub async fn on_connect<A: Adapter>(state: Arc<AppState>, socket: SocketRef<A>) {
    let (Some(identity), Some(InitialRooms(rooms))) = (
        socket.extensions.get::<Identity>(),
        socket.extensions.get::<InitialRooms>(),
    ) else {
        tracing::error!(socket_id = %socket.id, "socket connected without identity");
        return;
    };
    let user_room = Room::User(identity.user_id.clone()).to_string();
    let mut joined: Vec<String> = vec![user_room.clone(), Room::Role(identity.role).to_string()];
    joined.extend(rooms.iter().map(Room::to_string));
    socket.join(joined.clone());
    tracing::info!(socket_id = %socket.id, user_id = %identity.user_id, role = %identity.role, "socket connected");

    let hello = Established {
        user_id: &identity.user_id,
        socket_id: socket.id.to_string(),
        role: identity.role.as_str(),
        rooms: joined,
        server_time: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    if let Err(error) = socket.emit("connection_established", &hello) {
        tracing::warn!(socket_id = %socket.id, %error, "could not greet socket");
    }

    if sockets_of(&socket, &user_room).await == 1 {
        announce(&socket, "user_connected", &identity).await;
    }

    socket.on_fallback(
        move |socket: SocketRef<A>,
              Event(event),
              TryData(data): TryData<Value>,
              ack: AckSender<A>| {
            commands::dispatch(
                state.clone(),
                socket,
                event,
                data.unwrap_or(Value::Null),
                ack,
            )
        },
    );
    socket.on_disconnect(move |socket: SocketRef<A>| async move {
        tracing::info!(socket_id = %socket.id, user_id = %identity.user_id, "socket disconnected");
        // The leaving socket is still counted while its disconnect handler runs.
        if sockets_of(&socket, &user_room).await <= 1 {
            announce(&socket, "user_disconnected", &identity).await;
        }
    });
}

/// Sockets in a room across every node.
async fn sockets_of<A: Adapter>(socket: &SocketRef<A>, room: &str) -> usize {
    match socket.within(room.to_owned()).fetch_sockets().await {
        Ok(sockets) => sockets.len(),
        Err(error) => {
            tracing::warn!(%error, "could not count sockets");
            0
        }
    }
}

/// Tells every other socket that a user came or went.
async fn announce<A: Adapter>(socket: &SocketRef<A>, event: &str, identity: &Identity) {
    let presence = Presence {
        user_id: &identity.user_id,
        role: identity.role.as_str(),
    };
    if let Err(error) = socket.broadcast().emit(event, &presence).await {
        tracing::warn!(%error, event, "presence not delivered");
    }
}

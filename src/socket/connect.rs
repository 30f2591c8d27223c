//! Connection lifecycle: authenticate at connect, join the automatic rooms, greet the
//! socket, announce presence, and route every later event to the command handlers.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use socketioxide::{
    ParserError, SocketIo,
    adapter::Adapter,
    extract::{AckSender, Event, SocketRef, TryData},
    socket::DisconnectReason,
};
use tokio::task::AbortHandle;

use super::{admin_ui, commands, presence, recovery};
use crate::{
    auth::{Credentials, Identity},
    channels::{EventName, policy, rooms::Room},
    error::AppError,
    limits::TokenBucket,
    services::notifications,
    state::AppState,
    telemetry,
};

/// The `auth` object a client sends with `io(url, { auth })`.
#[derive(Debug, Default, Deserialize)]
struct ConnectAuth {
    token: Option<String>,
    api_key: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::string_or_number")]
    user_id: Option<String>,
    rooms: Option<Vec<String>>,
    #[serde(flatten)]
    recovery: recovery::Request,
}

/// Connect middleware: an error here becomes the client's `connect_error` and the
/// socket never joins the namespace.
pub async fn authenticate<A: Adapter>(
    state: Arc<AppState>,
    socket: SocketRef<A>,
    TryData(auth): TryData<Value>,
) -> Result<(), AppError> {
    let parts = socket.req_parts();
    let mut credentials = Credentials::from_http(&parts.headers, parts.uri.query());
    let refuse = |reason: &'static str, error: AppError| {
        telemetry::record_connect_refused(reason);
        tracing::info!(socket_id = %socket.id, reason, error = %error.message, "connection refused");
        error
    };
    let auth: ConnectAuth = match auth {
        Ok(Value::Object(map)) => serde_json::from_value(Value::Object(map)).map_err(|e| {
            refuse(
                "invalid",
                AppError::invalid(format!("invalid auth payload: {e}")),
            )
        })?,
        _ => ConnectAuth::default(),
    };
    if auth.token.is_some() {
        credentials.token = auth.token;
    }
    if auth.api_key.is_some() {
        credentials.api_key = auth.api_key;
    }
    if auth.user_id.is_some() {
        credentials.user_id = auth.user_id;
    }
    let identity = state
        .auth
        .authenticate(&credentials)
        .map_err(|e| refuse("unauthorized", e))?;
    let rooms = initial_rooms(&identity, auth.rooms).map_err(|e| refuse("invalid", e))?;
    // Its own user and role rooms come on top of those it asked for.
    state
        .limits
        .check_rooms(rooms.len() + 2)
        .map_err(|e| refuse("invalid", e))?;
    let user_room = Room::User(identity.user_id.clone()).to_string();
    let tabs = socket.within(user_room).sockets().len();
    let per_user = state.limits.max_connections_per_user;
    if tabs >= per_user {
        let message = format!(
            "too many connections: user {} already has {per_user} (PULSO_MAX_CONNECTIONS_PER_USER)",
            identity.user_id
        );
        return Err(refuse("user_full", AppError::rate_limited(message, None)));
    }
    let slot = state
        .slots
        .take(state.limits.max_connections)
        .map_err(|e| refuse("node_full", e))?;
    socket.extensions.insert(Arc::new(slot));
    socket.extensions.insert(identity.clone());
    listen(state.clone(), &socket, identity.clone());
    recovery::start(&state, &socket, &identity, auth.recovery, rooms).await;
    Ok(())
}

fn initial_rooms(identity: &Identity, wanted: Option<Vec<String>>) -> Result<Vec<Room>, AppError> {
    let readable = policy::readable_topics(identity.role);
    let Some(wanted) = wanted else {
        return Ok(readable.iter().copied().map(Room::Topic).collect());
    };
    wanted
        .iter()
        .map(|name| {
            let room: Room = name.parse()?;
            policy::may_join(identity, &room)?;
            Ok(room)
        })
        .collect()
}

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "ConnectionEstablished")]
pub(super) struct Established<'a> {
    user_id: &'a str,
    socket_id: String,
    #[schemars(with = "crate::auth::Role")]
    role: &'a str,
    rooms: Vec<String>,
    #[schemars(with = "DateTime<Utc>")]
    server_time: String,
}

pub async fn on_connect<A: Adapter>(state: Arc<AppState>, socket: SocketRef<A>, io: SocketIo<A>) {
    let Some(identity) = socket.extensions.get::<Identity>() else {
        tracing::error!(socket_id = %socket.id, "socket connected without identity");
        return;
    };
    telemetry::record_connect();
    let recovered = socket
        .extensions
        .get::<recovery::Session>()
        .is_some_and(|session| session.recovered);
    tracing::info!(socket_id = %socket.id, user_id = %identity.user_id, role = %identity.role, recovered, "socket connected");
    if let Some(key) = &identity.delegated_by {
        // A key that may speak for anyone named this user: say which key, every time.
        tracing::info!(socket_id = %socket.id, user_id = %identity.user_id, role = %identity.role, key, "connection through a delegating API key");
    }

    if let Some(expires_at) = identity.expires_at {
        let timer = tokio::spawn(disconnect_at(
            socket.clone(),
            identity.user_id.clone(),
            expires_at,
        ));
        socket
            .extensions
            .insert(ExpiryTimer(Arc::new(timer.abort_handle())));
    }

    let publisher = state.services.publisher.clone();
    let hello = Established {
        user_id: &identity.user_id,
        socket_id: socket.id.to_string(),
        role: identity.role.as_str(),
        rooms: rooms_in_order(&socket),
        server_time: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    publisher.to_socket(&socket, EventName::ConnectionEstablished.as_str(), &hello);
    match notifications::unread_count(&state.services, &identity.user_id).await {
        Ok(count) => publisher.to_socket(&socket, EventName::UnreadCount.as_str(), &count),
        Err(error) => {
            tracing::warn!(socket_id = %socket.id, user_id = %identity.user_id, %error, "unread count not sent");
        }
    }
    if state.admin_ui {
        admin_ui::follow(&socket, io);
        admin_ui::connected(&socket).await;
    }
}

/// The socket's rooms: its user's and role's first, then the others by name.
fn rooms_in_order<A: Adapter>(socket: &SocketRef<A>) -> Vec<String> {
    let mut rooms: Vec<String> = socket.rooms().iter().map(|room| room.to_string()).collect();
    rooms.sort_by_cached_key(|room| {
        let private = Room::PRIVATE_PREFIXES
            .iter()
            .position(|p| room.starts_with(p));
        (
            private.unwrap_or(Room::PRIVATE_PREFIXES.len()),
            room.clone(),
        )
    });
    rooms
}

/// Routes the socket's events to the command handlers (through its rate limit) and its
/// closing to presence.
/// Called from the middleware, before the client learns it is connected, so that no
/// event it sends right after connecting can arrive before its handler.
fn listen<A: Adapter>(state: Arc<AppState>, socket: &SocketRef<A>, identity: Identity) {
    let commands_state = state.clone();
    let bucket = Arc::new(Mutex::new(TokenBucket::new(&state.limits, Instant::now())));
    socket.on_fallback(
        move |socket: SocketRef<A>,
              Event(event),
              TryData(data): TryData<Value>,
              ack: AckSender<A>| {
            commands::dispatch(
                commands_state.clone(),
                bucket.clone(),
                socket,
                event,
                argument(data),
                ack,
            )
        },
    );
    socket.on_disconnect(move |socket: SocketRef<A>, reason: DisconnectReason| async move {
        telemetry::record_disconnect(reason_label(reason));
        if let Some(ExpiryTimer(timer)) = socket.extensions.get::<ExpiryTimer>() {
            timer.abort();
        }
        tracing::info!(socket_id = %socket.id, user_id = %identity.user_id, "socket disconnected");
        // Before anything waits for the database (see `presence::leave`).
        presence::leave(&state, &socket, &identity).await;
        recovery::on_disconnect(&state, &socket, reason).await;
        admin_ui::disconnected(&socket, reason).await;
    });
}

/// How deep a command's JSON may nest: serde_json's recursion limit (128) stops at
/// the 128th level, so 127 are read.
const MAX_NESTING: usize = 127;

/// A command's argument. A packet without one reads as an error (and means `null`), as
/// does binary where JSON is expected (which the command then refuses); only JSON
/// nested past the parser's limit is refused here, in words.
fn argument(data: Result<Value, ParserError>) -> Result<Value, AppError> {
    match data {
        Ok(value) => Ok(value),
        Err(error) if error.to_string().starts_with("recursion limit exceeded") => {
            Err(AppError::invalid(format!(
                "unreadable payload: JSON may nest at most {} levels (the packet's own array included)",
                MAX_NESTING
            )))
        }
        Err(_) => Ok(Value::Null),
    }
}

fn reason_label(reason: DisconnectReason) -> &'static str {
    match reason {
        DisconnectReason::TransportClose => "transport_close",
        DisconnectReason::MultipleHttpPollingError => "multiple_polling",
        DisconnectReason::PacketParsingError => "bad_packet",
        DisconnectReason::TransportError => "transport_error",
        DisconnectReason::HeartbeatTimeout => "heartbeat_timeout",
        DisconnectReason::ClientNSDisconnect => "client_disconnect",
        DisconnectReason::ServerNSDisconnect => "server_disconnect",
        DisconnectReason::ClosingServer => "closing_server",
    }
}

/// The task that closes a socket when its token expires; aborted if it closes first.
#[derive(Clone)]
struct ExpiryTimer(Arc<AbortHandle>);

/// A socket must not outlive its credentials: at the token's `exp` the server closes
/// it (the client sees `disconnect` with reason `io server disconnect` and must
/// reconnect with a fresh token).
async fn disconnect_at<A: Adapter>(
    socket: SocketRef<A>,
    user_id: String,
    expires_at: DateTime<Utc>,
) {
    let left = (expires_at - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left).await;
    let socket_id = socket.id;
    tracing::info!(%socket_id, user_id, "token expired: disconnecting");
    if let Err(error) = socket.disconnect() {
        tracing::warn!(%socket_id, user_id, %error, "could not disconnect an expired socket");
    }
}

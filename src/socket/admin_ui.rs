//! The Socket.IO Admin UI (`@socket.io/admin-ui` 0.5, the page operators of Node's
//! socket.io and python-socketio already use) on the `/admin` namespace: its login, then
//! `config`, this node's `server_stats` every 2 s, `all_sockets`, and the dashboards'
//! sockets coming, going and changing rooms, on every node (through the adapter, as any
//! broadcast). This is the operators' feed, not dashboard traffic: it bypasses the
//! broker's counters, so admin sockets never show in the dashboards' stats. It declares
//! no commands (`supportedFeatures` is empty): the UI shows itself read-only.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use serde::Serialize;
use serde_json::{Value, json};
use socketioxide::{
    SocketIo,
    adapter::Adapter,
    extract::{SocketRef, TryData},
    handler::ConnectHandler,
    socket::DisconnectReason,
};
use socketioxide_core::adapter::DefinedAdapter;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::{auth::Identity, config::AdminAccess, services::operations, state::AppState};

pub const NAMESPACE: &str = "/admin";
/// What the UI shows on its login form when a sign-in fails (it matches these words).
const REFUSED: &str = "invalid credentials";
const STATS_EVERY: Duration = Duration::from_secs(2);
/// A session lets the UI reconnect without the password (the UI keeps its id).
const SESSION_LASTS: Duration = Duration::from_secs(24 * 3600);
const MAX_SESSIONS: usize = 1000;
/// Handshake headers and query parameters shown to operators: never credentials.
const SHOWN_HEADERS: [&str; 6] = [
    "host",
    "origin",
    "user-agent",
    "accept-language",
    "referer",
    "x-forwarded-for",
];
const SHOWN_QUERY: [&str; 2] = ["EIO", "transport"];

/// The `/admin` namespace's login and sessions on this node.
struct AdminUi {
    access: AdminAccess,
    /// Session ids handed out here, with when they were.
    sessions: Mutex<HashMap<String, Instant>>,
    /// bcrypt is slow on purpose: one check at a time, so a flood of sign-ins costs
    /// one core at most.
    checking: Semaphore,
}

/// The way from a dashboard socket to the `/admin` namespace (in its extensions, when
/// the Admin UI is on).
struct Feed<A: Adapter>(SocketIo<A>);

// Derived, it would ask `A: Clone`, which adapters are not.
impl<A: Adapter> Clone for Feed<A> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// Registers `/admin`; its sockets are never in `/`, so never dashboard users.
pub fn register<A: Adapter + DefinedAdapter>(
    io: &SocketIo<A>,
    state: Arc<AppState>,
    access: AdminAccess,
) -> A::InitRes {
    if matches!(access, AdminAccess::Anyone) {
        tracing::warn!(
            "the Admin UI (/admin) lets anyone in: set PULSO_ADMIN_USERNAME and PULSO_ADMIN_PASSWORD_HASH"
        );
    }
    let ui = Arc::new(AdminUi {
        access,
        sessions: Mutex::default(),
        checking: Semaphore::new(1),
    });
    tokio::spawn(report_stats(io.clone(), state.clone()));
    let on_connect = move |socket: SocketRef<A>, io: SocketIo<A>| greet(state.clone(), socket, io);
    let sign_in = move |socket: SocketRef<A>, auth: TryData<Value>| {
        let ui = ui.clone();
        async move { ui.sign_in(&socket, auth.0.unwrap_or_default()).await }
    };
    io.ns(NAMESPACE, on_connect.with(sign_in))
}

/// Why a sign-in failed; the client sees only the words the UI expects.
#[derive(Debug, thiserror::Error)]
#[error("{REFUSED}")]
struct Refused;

/// A session id handed out at sign-in, sent once the socket is connected.
#[derive(Clone)]
struct NewSession(String);

impl AdminUi {
    async fn sign_in<A: Adapter>(&self, socket: &SocketRef<A>, auth: Value) -> Result<(), Refused> {
        let AdminAccess::Login {
            username,
            password_hash,
        } = &self.access
        else {
            return Ok(());
        };
        if let Some(session) = auth["sessionId"].as_str()
            && self.session_valid(session)
        {
            return Ok(());
        }
        let given = |field: &str| auth[field].as_str().unwrap_or_default().to_owned();
        let (name, password) = (given("username"), given("password"));
        let _turn = self.checking.acquire().await.map_err(|_| Refused)?;
        let hash = password_hash.clone();
        let matches = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .is_ok_and(|verified| verified.unwrap_or(false));
        if !(matches && bool::from(name.as_bytes().ct_eq(username.as_bytes()))) {
            tracing::warn!(socket_id = %socket.id, "Admin UI sign-in refused");
            return Err(Refused);
        }
        let session = uuid::Uuid::new_v4().simple().to_string();
        self.keep_session(session.clone());
        socket.extensions.insert(NewSession(session));
        Ok(())
    }

    fn session_valid(&self, id: &str) -> bool {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions
            .get(id)
            .is_some_and(|since| since.elapsed() < SESSION_LASTS)
    }

    fn keep_session(&self, id: String) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|_, since| since.elapsed() < SESSION_LASTS);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, since)| **since)
                .map(|(id, _)| id.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(id, Instant::now());
    }
}

/// A signed-in admin socket gets its session, what pulso supports, this node's stats
/// and every dashboard socket.
async fn greet<A: Adapter>(state: Arc<AppState>, socket: SocketRef<A>, io: SocketIo<A>) {
    tracing::info!(socket_id = %socket.id, "Admin UI connected");
    if let Some(NewSession(session)) = socket.extensions.get::<NewSession>() {
        let _ = socket.emit("session", &session);
    }
    let _ = socket.emit("config", &json!({ "supportedFeatures": [] }));
    let _ = socket.emit("server_stats", &server_stats(&state));
    let _ = socket.emit("all_sockets", &all_sockets(&io).await);
}

/// This node's stats to every admin socket, on every node, until the server closes.
async fn report_stats<A: Adapter>(io: SocketIo<A>, state: Arc<AppState>) {
    let mut ticks = tokio::time::interval(STATS_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(admins) = io.of(NAMESPACE) else {
            return;
        };
        if let Err(error) = admins.emit("server_stats", &server_stats(&state)).await {
            tracing::debug!(%error, "server stats not sent to the Admin UI");
        }
    }
}

/// The UI's `ServerStats` (`clientsCount` counts dashboard sockets), with pulso's own
/// figures for this node beside them.
fn server_stats(state: &AppState) -> Value {
    let node = operations::this_node(&state.services, state.heartbeat, state.cluster.as_ref());
    let mut stats = serde_json::to_value(&node).unwrap_or_default();
    let extra = json!({
        "serverId": &*state.services.node,
        "hostname": hostname(),
        "pid": std::process::id(),
        "uptime": state.started.elapsed().as_secs_f64(),
        "clientsCount": node.stats.total_connections,
    });
    if let (Value::Object(stats), Value::Object(extra)) = (&mut stats, extra) {
        stats.extend(extra);
    }
    stats
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}

/// The UI's `SerializedSocket`.
#[derive(Serialize)]
struct Serialized {
    id: String,
    #[serde(rename = "clientId")]
    client_id: String,
    transport: &'static str,
    nsp: &'static str,
    data: Value,
    handshake: Value,
    rooms: Vec<String>,
}

/// Every dashboard socket, on every node: this node's in full, the others' with their
/// rooms (a remote socket tells no more).
async fn all_sockets<A: Adapter>(io: &SocketIo<A>) -> Vec<Serialized> {
    let Some(dashboards) = io.of("/") else {
        return Vec::new();
    };
    let mut sockets: Vec<Serialized> = dashboards
        .clone()
        .local()
        .sockets()
        .iter()
        .map(serialize)
        .collect();
    let remote = match dashboards.fetch_sockets().await {
        Ok(remote) => remote,
        Err(error) => {
            tracing::warn!(%error, "other nodes unreachable: the Admin UI lists this node's sockets");
            Vec::new()
        }
    };
    for socket in remote {
        let id = socket.data().id.to_string();
        if sockets.iter().any(|known| known.id == id) {
            continue;
        }
        let rooms = socket.rooms().await.unwrap_or_default();
        sockets.push(Serialized {
            client_id: id.clone(),
            id,
            transport: "unknown",
            nsp: "/",
            data: Value::Null,
            handshake: json!({}),
            rooms: rooms.iter().map(|room| room.to_string()).collect(),
        });
    }
    sockets
}

fn serialize<A: Adapter>(socket: &SocketRef<A>) -> Serialized {
    let parts = socket.req_parts();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let headers: serde_json::Map<String, Value> = SHOWN_HEADERS
        .iter()
        .filter_map(|name| Some((name.to_string(), Value::from(header(name)?))))
        .collect();
    let query: serde_json::Map<String, Value> =
        form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .filter(|(name, _)| SHOWN_QUERY.contains(&name.as_ref()))
            .map(|(name, value)| (name.into_owned(), Value::from(value.into_owned())))
            .collect();
    let data = match socket.extensions.get::<Identity>() {
        Some(identity) => json!({ "user_id": identity.user_id, "role": identity.role }),
        None => Value::Null,
    };
    Serialized {
        id: socket.id.to_string(),
        client_id: socket.id.to_string(),
        transport: match socket.transport_type() {
            socketioxide::TransportType::Websocket => "websocket",
            socketioxide::TransportType::Polling => "polling",
        },
        nsp: "/",
        data,
        handshake: json!({
            "address": header("x-forwarded-for").unwrap_or_default(),
            "headers": headers,
            "query": query,
            "secure": header("x-forwarded-proto") == Some("https"),
            "url": parts.uri.path(),
            "xdomain": header("origin").is_some(),
        }),
        rooms: socket.rooms().iter().map(|room| room.to_string()).collect(),
    }
}

/// Lets a dashboard socket's changes reach the Admin UI (only when it is on).
pub fn follow<A: Adapter>(socket: &SocketRef<A>, io: SocketIo<A>) {
    socket.extensions.insert(Feed(io));
}

/// A dashboard socket connected (with the rooms it starts in).
pub async fn connected<A: Adapter>(socket: &SocketRef<A>) {
    tell(socket, "socket_connected", &serialize(socket)).await;
}

/// A dashboard socket went away, with socket.io's words for why.
pub async fn disconnected<A: Adapter>(socket: &SocketRef<A>, reason: DisconnectReason) {
    let why = match reason {
        DisconnectReason::TransportClose => "transport close",
        DisconnectReason::MultipleHttpPollingError | DisconnectReason::PacketParsingError => {
            "parse error"
        }
        DisconnectReason::TransportError => "transport error",
        DisconnectReason::HeartbeatTimeout => "ping timeout",
        DisconnectReason::ClientNSDisconnect => "client namespace disconnect",
        DisconnectReason::ServerNSDisconnect => "server namespace disconnect",
        DisconnectReason::ClosingServer => "server shutting down",
    };
    tell(
        socket,
        "socket_disconnected",
        &("/", socket.id.to_string(), why),
    )
    .await;
}

/// A dashboard socket joined (`joined`) or left a room.
pub async fn room_changed<A: Adapter>(socket: &SocketRef<A>, room: &str, joined: bool) {
    let event = if joined { "room_joined" } else { "room_left" };
    tell(socket, event, &("/", room, socket.id.to_string())).await;
}

async fn tell<A: Adapter>(socket: &SocketRef<A>, event: &str, args: &impl Serialize) {
    let Some(Feed(io)) = socket.extensions.get::<Feed<A>>() else {
        return;
    };
    if let Some(admins) = io.of(NAMESPACE)
        && let Err(error) = admins.emit(event, args).await
    {
        tracing::debug!(event, %error, "not sent to the Admin UI");
    }
}

//! The Socket.IO Admin UI (`@socket.io/admin-ui` 0.5, the page operators of Node's
//! socket.io and python-socketio already use) on the `/admin` namespace: its login, then
//! `config`, this node's `server_stats` every 2 s, `all_sockets`, and the dashboards'
//! sockets coming, going, changing rooms and upgrading from long-polling to WebSocket
//! (`socket_connected`, `socket_disconnected`, `room_joined`, `room_left`,
//! `socket_updated`), on every node (through the adapter, as any broadcast). This is the
//! operators' feed, not dashboard traffic: it bypasses the broker's counters, so admin
//! sockets never show in the dashboards' stats.
//!
//! Unless read-only, the UI may make dashboard sockets join or leave rooms (within the
//! rooms their user may join; never their own `user:`/`role:` rooms) and disconnect
//! them, on any node. It may not emit: every event a dashboard gets is a persisted fact
//! (or a session message pulso owns), and the UI would send arbitrary ones.

use std::{collections::HashSet, sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;
use socketioxide::{
    SocketIo,
    adapter::Adapter,
    extract::{SocketRef, TryData},
    handler::ConnectHandler,
    socket::DisconnectReason,
    socket::RemoteSocket,
};
use socketioxide_core::adapter::DefinedAdapter;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::{
    auth::{Identity, jwt::JwtSecret},
    channels::{policy, rooms::Room},
    config::{AdminLogin, AdminUi},
    services::operations,
    state::AppState,
};

pub const NAMESPACE: &str = "/admin";
/// What the UI shows on its login form when a sign-in fails (it matches these words).
const REFUSED: &str = "invalid credentials";
const STATS_EVERY: Duration = Duration::from_secs(2);
/// A session lets the UI reconnect without the password (the UI keeps its id).
const SESSION_LASTS: Duration = Duration::from_secs(24 * 3600);
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

/// What the UI may do besides watching (`config.supportedFeatures`): one socket (by
/// id) or many (by room, or all) joining, leaving, disconnecting.
const FEATURES: [&str; 6] = [
    "JOIN",
    "LEAVE",
    "DISCONNECT",
    "MJOIN",
    "MLEAVE",
    "MDISCONNECT",
];

/// The `/admin` namespace's login.
struct SignIn {
    login: AdminLogin,
    /// bcrypt is slow on purpose: one check at a time, so a flood of sign-ins costs
    /// one core at most.
    checking: Semaphore,
}

/// The way from a dashboard socket to the `/admin` namespace (in its extensions, when
/// the Admin UI is on).
struct Feed<A: Adapter> {
    io: SocketIo<A>,
    /// When the socket connected (the UI's `handshake.issued`).
    since: chrono::DateTime<chrono::Utc>,
}

// Derived, it would ask `A: Clone`, which adapters are not.
impl<A: Adapter> Clone for Feed<A> {
    fn clone(&self) -> Self {
        Self {
            io: self.io.clone(),
            since: self.since,
        }
    }
}

/// Registers `/admin`; its sockets are never in `/`, so never dashboard users.
pub fn register<A: Adapter + DefinedAdapter>(
    io: &SocketIo<A>,
    state: Arc<AppState>,
    settings: AdminUi,
) -> A::InitRes {
    if matches!(settings.login, AdminLogin::Anyone) {
        tracing::warn!(
            "the Admin UI (/admin) lets anyone in: set PULSO_ADMIN_USERNAME and PULSO_ADMIN_PASSWORD_HASH"
        );
    }
    let ui = Arc::new(SignIn {
        login: settings.login,
        checking: Semaphore::new(1),
    });
    tokio::spawn(report_stats(io.clone(), state.clone()));
    let readonly = settings.readonly;
    let on_connect = move |socket: SocketRef<A>, io: SocketIo<A>| {
        if !readonly {
            listen(&socket, state.clone());
        }
        greet(state.clone(), socket, io, readonly)
    };
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

impl SignIn {
    async fn sign_in<A: Adapter>(&self, socket: &SocketRef<A>, auth: Value) -> Result<(), Refused> {
        let AdminLogin::Password {
            username,
            password_hash,
            session_secret,
        } = &self.login
        else {
            return Ok(());
        };
        let session = Session {
            secret: session_secret,
            username,
            password_hash,
        };
        let now = chrono::Utc::now().timestamp();
        if auth["sessionId"]
            .as_str()
            .is_some_and(|id| session.is_valid(id, now))
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
        let id = session
            .id(now + SESSION_LASTS.as_secs() as i64)
            .ok_or(Refused)?;
        socket.extensions.insert(NewSession(id));
        Ok(())
    }
}

/// A session id is when it expires and a MAC of that and the login under the secret
/// every node shares: any node accepts it until then, with no state kept, and a new
/// password (or secret) ends every session.
struct Session<'a> {
    secret: &'a JwtSecret,
    username: &'a str,
    password_hash: &'a str,
}

impl Session<'_> {
    fn id(&self, expires: i64) -> Option<String> {
        let tag = self.mac(expires)?.finalize().into_bytes();
        Some(format!("{expires}.{}", URL_SAFE_NO_PAD.encode(tag)))
    }

    fn is_valid(&self, id: &str, now: i64) -> bool {
        let Some((expires, tag)) = id.split_once('.') else {
            return false;
        };
        let (Ok(expires), Ok(tag)) = (expires.parse::<i64>(), URL_SAFE_NO_PAD.decode(tag)) else {
            return false;
        };
        now < expires
            && self
                .mac(expires)
                .is_some_and(|mac| mac.verify_slice(&tag).is_ok())
    }

    fn mac(&self, expires: i64) -> Option<Hmac<Sha256>> {
        let mut mac = self.secret.mac()?;
        let (username, hash) = (self.username, self.password_hash);
        mac.update(format!("pulso admin ui session\0{username}\0{hash}\0{expires}").as_bytes());
        Some(mac)
    }
}

/// A signed-in admin socket gets its session, what pulso supports, this node's stats
/// and every dashboard socket.
async fn greet<A: Adapter>(
    state: Arc<AppState>,
    socket: SocketRef<A>,
    io: SocketIo<A>,
    readonly: bool,
) {
    tracing::info!(socket_id = %socket.id, readonly, "Admin UI connected");
    if let Some(NewSession(session)) = socket.extensions.get::<NewSession>() {
        let _ = socket.emit("session", &session);
    }
    let features: &[&str] = if readonly { &[] } else { &FEATURES };
    let _ = socket.emit("config", &json!({ "supportedFeatures": features }));
    let _ = socket.emit("server_stats", &server_stats(&state));
    let _ = socket.emit("all_sockets", &all_sockets(&io).await);
}

/// This node's stats to every admin socket, on every node, until the server closes.
async fn report_stats<A: Adapter>(io: SocketIo<A>, state: Arc<AppState>) {
    let mut ticks = tokio::time::interval(STATS_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The namespace appears once registered (with Redis, after this task starts) and
    // goes when the server closes.
    let mut registered = false;
    loop {
        ticks.tick().await;
        let Some(admins) = io.of(NAMESPACE) else {
            if registered {
                return;
            }
            continue;
        };
        registered = true;
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
    let local: HashSet<String> = sockets.iter().map(|known| known.id.clone()).collect();
    for socket in remote {
        let id = socket.data().id.to_string();
        if local.contains(&id) {
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
    let since = socket.extensions.get::<Feed<A>>().map(|feed| feed.since);
    Serialized {
        id: socket.id.to_string(),
        client_id: socket.id.to_string(),
        transport: transport(socket),
        nsp: "/",
        data,
        handshake: json!({
            "address": header("x-forwarded-for").unwrap_or_default(),
            "headers": headers,
            "query": query,
            "secure": header("x-forwarded-proto") == Some("https"),
            "url": parts.uri.path(),
            "xdomain": header("origin").is_some(),
            "issued": since.map(|since| since.timestamp_millis()),
            "time": since.map(|since| since.to_rfc2822()),
        }),
        rooms: socket.rooms().iter().map(|room| room.to_string()).collect(),
    }
}

fn transport<A: Adapter>(socket: &SocketRef<A>) -> &'static str {
    match socket.transport_type() {
        socketioxide::TransportType::Websocket => "websocket",
        socketioxide::TransportType::Polling => "polling",
    }
}

/// Lets a dashboard socket's changes reach the Admin UI (only when it is on). Called
/// before the socket is shown (`connected`): an upgrade done before then shows there,
/// one after is told.
pub fn follow<A: Adapter>(socket: &SocketRef<A>, io: SocketIo<A>) {
    let since = chrono::Utc::now();
    socket.extensions.insert(Feed { io, since });
    if socket.transport_type() == socketioxide::TransportType::Polling {
        socket.on_upgrade(upgraded);
    }
}

/// A dashboard socket connected (with the rooms it starts in).
pub async fn connected<A: Adapter>(socket: &SocketRef<A>) {
    tell(socket, "socket_connected", &serialize(socket)).await;
}

/// A dashboard socket upgraded from long-polling to WebSocket (the UI's `socket_updated`
/// carries only what changed).
async fn upgraded<A: Adapter>(socket: SocketRef<A>) {
    let changed =
        json!({ "id": socket.id.to_string(), "nsp": "/", "transport": transport(&socket) });
    tell(&socket, "socket_updated", &changed).await;
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
    if let Some(feed) = socket.extensions.get::<Feed<A>>() {
        to_admins(&feed.io, event, args).await;
    }
}

/// To every admin socket, on every node.
async fn to_admins<A: Adapter>(io: &SocketIo<A>, event: &str, args: &impl Serialize) {
    if let Some(admins) = io.of(NAMESPACE)
        && let Err(error) = admins.emit(event, args).await
    {
        tracing::debug!(event, %error, "not sent to the Admin UI");
    }
}

/// The UI's commands: `join` / `leave` (namespace, room, filter) and `_disconnect`
/// (namespace, close, filter). The filter is a socket id, a room, or nothing (every
/// socket). Only `/` is served; a command for another namespace, or that does not
/// parse, does nothing (the protocol has no answer to give).
fn listen<A: Adapter>(socket: &SocketRef<A>, state: Arc<AppState>) {
    for (event, join) in [("join", true), ("leave", false)] {
        let state = state.clone();
        socket.on(
            event,
            move |io: SocketIo<A>, TryData(args): TryData<(String, String, Option<String>)>| {
                let state = state.clone();
                async move {
                    if let Ok((nsp, room, filter)) = args
                        && nsp == "/"
                    {
                        change_rooms(&io, &state, &room, filter.as_deref(), join).await;
                    }
                }
            },
        );
    }
    socket.on(
        "_disconnect",
        async |io: SocketIo<A>, TryData(args): TryData<(String, Value, Option<String>)>| {
            if let Ok((nsp, _close, filter)) = args
                && nsp == "/"
            {
                for target in targets(&io, filter.as_deref()).await {
                    let id = target.data().id;
                    if let Err(error) = target.disconnect().await {
                        tracing::warn!(socket_id = %id, %error, "Admin UI: not disconnected");
                    }
                }
            }
        },
    );
}

/// Makes the filter's sockets join (or leave) `room`, each only where its user may.
async fn change_rooms<A: Adapter>(
    io: &SocketIo<A>,
    state: &AppState,
    room: &str,
    filter: Option<&str>,
    join: bool,
) {
    let Ok(parsed) = room.parse::<Room>() else {
        tracing::info!(room, "Admin UI: not a room");
        return;
    };
    for target in targets(io, filter).await {
        let id = target.data().id.to_string();
        let rooms: Vec<String> = match target.rooms().await {
            Ok(rooms) => rooms.iter().map(|room| room.to_string()).collect(),
            Err(error) => {
                tracing::warn!(socket_id = id, %error, "Admin UI: rooms unknown, left as they are");
                continue;
            }
        };
        let allowed = if join {
            identity_in(&rooms).is_some_and(|identity| policy::may_join(&identity, &parsed).is_ok())
                && state.limits.check_rooms(rooms.len() + 1).is_ok()
        } else {
            !parsed.is_automatic()
        };
        if !allowed {
            tracing::info!(socket_id = id, room, join, "Admin UI: room change refused");
            continue;
        }
        let changed = match join {
            true => target.join(room.to_owned()).await,
            false => target.leave(room.to_owned()).await,
        };
        match changed {
            Ok(()) => {
                let event = if join { "room_joined" } else { "room_left" };
                to_admins(io, event, &("/", room, id)).await;
            }
            Err(error) => tracing::warn!(socket_id = id, %error, "Admin UI: room not changed"),
        }
    }
}

/// The dashboard sockets a filter names, on every node.
async fn targets<A: Adapter>(io: &SocketIo<A>, filter: Option<&str>) -> Vec<RemoteSocket<A>> {
    let Some(dashboards) = io.of("/") else {
        return Vec::new();
    };
    let room = filter.filter(|name| name.parse::<Room>().is_ok());
    let found = match room {
        Some(room) => dashboards.within(room.to_owned()).fetch_sockets().await,
        None => dashboards.fetch_sockets().await,
    };
    let sockets = found.unwrap_or_else(|error| {
        tracing::warn!(%error, "Admin UI: other nodes unreachable, nothing done");
        Vec::new()
    });
    match (filter, room) {
        (Some(id), None) => sockets
            .into_iter()
            .filter(|socket| socket.data().id.to_string() == id)
            .collect(),
        _ => sockets,
    }
}

/// Who a socket is, from its automatic rooms (a remote socket tells no more).
fn identity_in(rooms: &[String]) -> Option<Identity> {
    let (mut user_id, mut role) = (None, None);
    for room in rooms {
        match room.parse() {
            Ok(Room::User(id)) => user_id = Some(id),
            Ok(Room::Role(r)) => role = Some(r),
            _ => {}
        }
    }
    Some(Identity {
        user_id: user_id?,
        role: role?,
        expires_at: None,
        delegated_by: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_good_until_it_expires_and_only_for_its_login_and_secret() {
        let (secret, other_secret) = (
            JwtSecret::new("s".repeat(32)),
            JwtSecret::new("t".repeat(32)),
        );
        let session = Session {
            secret: &secret,
            username: "ops",
            password_hash: "hash",
        };
        let id = session.id(1000).expect("signed");
        assert!(session.is_valid(&id, 999));
        assert!(!session.is_valid(&id, 1000), "expired");
        for other in [
            Session {
                username: "root",
                ..session
            },
            Session {
                password_hash: "new hash",
                ..session
            },
            Session {
                secret: &other_secret,
                ..session
            },
        ] {
            assert!(!other.is_valid(&id, 999));
        }
        assert!(!session.is_valid("1000", 999) && !session.is_valid("x.y", 999));
    }
}

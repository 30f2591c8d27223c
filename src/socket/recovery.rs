//! Connection state recovery (Socket.IO 4.6+, served from the event log): a client that
//! comes back with its session's pid gets its rooms back and every logged event it
//! missed, in log order, before any live event and before its CONNECT, which carries
//! the same pid (`socket.recovered` is then true in socket.io-client).
//!
//! The pid points to a row (`services::sessions`), not to this process's memory, so a
//! client may come back to any node, and after its node was lost. It is not a
//! credential: the connection was fully authenticated first, a session is recovered
//! only for the user it was opened for, and what it replays is what the socket's rooms
//! (re-checked against the user's rights now) would have received. Anything else gives
//! a new session, never an error: a `connect_error` would stop the client reconnecting.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use socketioxide::{adapter::Adapter, extract::SocketRef, socket::DisconnectReason};
use uuid::Uuid;

use super::presence;
use crate::{
    auth::Identity,
    broker::{offset_of, without_offset},
    channels::{policy, rooms::Room},
    services::{
        replays::Missed,
        sessions::{self, Claim, Resumed},
    },
    state::AppState,
    telemetry,
};

/// What a client's CONNECT `auth` says about recovery: socket.io-client adds `pid` and
/// `offset` when it reconnects; `recovery: false` opts out.
#[derive(Debug, Default, Deserialize)]
pub struct Request {
    pid: Option<Value>,
    offset: Option<Value>,
    recovery: Option<bool>,
}

/// The socket's recoverable session (in its extensions).
#[derive(Debug, Clone)]
pub struct Session {
    digest: Arc<str>,
    pub recovered: bool,
}

/// How a connection's recovery went, for `/metrics` (`pulso_recoveries_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Recovered,
    Expired,
    TooManyMissed,
    /// The client's offset is past the newest logged event.
    AheadOfLog,
    InvalidPid,
    OptedOut,
    /// The database could not be asked: a new session, or none.
    Unavailable,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Recovered => "recovered",
            Outcome::Expired => "expired",
            Outcome::TooManyMissed => "too_many_missed",
            Outcome::AheadOfLog => "ahead_of_log",
            Outcome::InvalidPid => "invalid_pid",
            Outcome::OptedOut => "opted_out",
            Outcome::Unavailable => "unavailable",
        }
    }
}

/// Joins the socket's rooms (its session's when recovered, else `initial`) and sends
/// what it missed. Called from the connect middleware, after authentication; never
/// fails the connection.
pub async fn start<A: Adapter>(
    state: &AppState,
    socket: &SocketRef<A>,
    identity: &Identity,
    request: Request,
    initial: Vec<Room>,
) {
    // From here on the socket gets its rooms' broadcasts, held until the missed events
    // have gone out: nothing logged meanwhile falls between the replay and live events.
    socket.hold_broadcasts();
    let automatic = vec![
        Room::User(identity.user_id.clone()),
        Room::Role(identity.role),
    ];
    let defaults: Vec<String> = automatic
        .iter()
        .chain(&initial)
        .map(Room::to_string)
        .collect();
    let settings = state.recovery;
    let opted_out = request.recovery == Some(false);
    if !settings.enabled || opted_out {
        if opted_out {
            record(Outcome::OptedOut);
            if settings.enabled {
                socket.rewrite_broadcasts(without_offset);
            }
        }
        presence::join(state, socket, identity, defaults).await;
        release(socket, &[], None);
        return;
    }

    let asked = request.pid.is_some();
    let resumed = match resume(state, socket, identity, &request).await {
        Ok(resumed) => resumed,
        Err(outcome) => {
            if asked {
                record(outcome);
            }
            None
        }
    };
    if let Some(Resuming {
        pid,
        digest,
        resumed,
        after,
    }) = resumed
    {
        let saved = resumed.rooms;
        let rooms = allowed_rooms(state, identity, &automatic, saved.clone());
        presence::join(state, socket, identity, rooms.clone()).await;
        let max = settings.max_events;
        // No logged event reaches this node's sockets until the replay has gone out:
        // the log up to `upto` is replayed, what comes after is live.
        let delivered = state.services.publisher.delivered(after).await;
        let upto = *delivered;
        let missed = if after > upto {
            // The client has events the log lacks (it was restored from a backup): what
            // the client shows cannot be brought up to date, it must reload.
            Err(Outcome::AheadOfLog)
        } else {
            let missed = state.services.missed_events(&rooms, (after, upto), max + 1);
            missed.await.map_err(|error| {
                tracing::warn!(socket_id = %socket.id, %error, "missed events not read: new session");
                Outcome::Unavailable
            })
        };
        match missed {
            Ok(missed) if missed.len() as u64 <= max => {
                // Held events up to here are in the replay, or the client had them.
                release(socket, &missed, Some(upto.max(after)));
                drop(delivered);
                record(Outcome::Recovered);
                telemetry::record_events_replayed(missed.len());
                let same_rooms =
                    saved.len() == rooms.len() && rooms.iter().all(|r| saved.contains(r));
                if !same_rooms
                    && let Err(error) = state
                        .services
                        .set_session_rooms(&digest, &socket.id.to_string(), &rooms)
                        .await
                {
                    tracing::warn!(socket_id = %socket.id, %error, "recovered rooms not recorded");
                }
                finish(socket, pid, digest, true);
                return;
            }
            Ok(_) => {
                drop(delivered);
                record(Outcome::TooManyMissed);
            }
            Err(outcome) => {
                drop(delivered);
                record(outcome);
            }
        }
        // A new session after all: only the rooms a new socket starts in.
        let extra: Vec<String> = rooms
            .into_iter()
            .filter(|r| !defaults.contains(r))
            .collect();
        socket.leave(extra);
        socket.join(defaults.clone());
    } else {
        presence::join(state, socket, identity, defaults.clone()).await;
    }
    open(state, socket, identity, &defaults).await;
}

/// A session claimed for a reconnecting socket.
struct Resuming {
    pid: String,
    digest: String,
    resumed: Resumed,
    /// The last event id its client got (or the session's baseline).
    after: i64,
}

/// The session a valid pid names, claimed for this socket; `Err` says why there is none.
async fn resume<A: Adapter>(
    state: &AppState,
    socket: &SocketRef<A>,
    identity: &Identity,
    request: &Request,
) -> Result<Option<Resuming>, Outcome> {
    let Some(pid) = &request.pid else {
        return Ok(None);
    };
    let Value::String(pid) = pid else {
        return Err(Outcome::InvalidPid);
    };
    let offset = match &request.offset {
        None => None,
        Some(Value::String(offset)) => {
            Some(offset.parse::<i64>().map_err(|_| Outcome::InvalidPid)?)
        }
        Some(_) => return Err(Outcome::InvalidPid),
    };
    let digest = sessions::digest(pid);
    let claim = state
        .services
        .claim_session(
            &digest,
            &identity.user_id,
            &socket.id.to_string(),
            state.recovery.window,
        )
        .await
        .map_err(|error| {
            tracing::warn!(socket_id = %socket.id, %error, "session not read: new session");
            Outcome::Unavailable
        })?;
    match claim {
        // Events before the session began were never its to miss.
        Claim::Resumed(resumed) => Ok(Some(Resuming {
            pid: pid.clone(),
            digest,
            after: offset.unwrap_or(0).max(resumed.baseline_id),
            resumed,
        })),
        Claim::Expired => Err(Outcome::Expired),
        Claim::Unknown | Claim::OtherUser => Err(Outcome::InvalidPid),
    }
}

/// The session's rooms the user may still be in (its rights may have changed), within
/// the room limit, with its automatic rooms.
fn allowed_rooms(
    state: &AppState,
    identity: &Identity,
    automatic: &[Room],
    saved: Vec<String>,
) -> Vec<String> {
    let chosen = saved.iter().filter_map(|name| {
        let room: Room = name.parse().ok()?;
        let allowed = !room.is_automatic() && policy::may_join(identity, &room).is_ok();
        allowed.then_some(room)
    });
    automatic
        .iter()
        .cloned()
        .chain(chosen)
        .take(state.limits.max_rooms_per_socket)
        .map(|room| room.to_string())
        .collect()
}

/// Sends the missed events (each with its offset), then the held broadcasts, but for
/// logged events up to `known` (already replayed, or had by the client).
fn release<A: Adapter>(socket: &SocketRef<A>, missed: &[Missed], known: Option<i64>) {
    let replay = missed.iter().map(|m| (m.event.as_str(), &m.args));
    let keep = |packet: &_| match (offset_of(packet), known) {
        (Some(offset), Some(known)) => offset > known,
        _ => true,
    };
    if let Err(error) = socket.release_broadcasts(replay, keep) {
        // The transport is gone: its disconnect follows.
        tracing::debug!(socket_id = %socket.id, %error, "missed events not sent");
    }
}

/// Records a new session for the socket; without the database it simply has none.
/// Its baseline is the last event delivered on this node before the socket gets live
/// events: everything after reaches it (held until now, or live).
async fn open<A: Adapter>(
    state: &AppState,
    socket: &SocketRef<A>,
    identity: &Identity,
    rooms: &[String],
) {
    let delivered = state.services.publisher.delivered(0).await;
    let baseline = *delivered;
    release(socket, &[], None);
    drop(delivered);
    let pid = Uuid::new_v4().simple().to_string();
    let digest = sessions::digest(&pid);
    let sid = socket.id.to_string();
    let services = &state.services;
    match services
        .open_session(&digest, &identity.user_id, rooms, &sid, baseline)
        .await
    {
        Ok(()) => finish(socket, pid, digest, false),
        Err(error) => {
            tracing::warn!(socket_id = %sid, %error, "session not recorded: this connection cannot be recovered");
        }
    }
}

fn finish<A: Adapter>(socket: &SocketRef<A>, pid: String, digest: String, recovered: bool) {
    socket.set_pid(pid);
    socket.extensions.insert(Session {
        digest: digest.into(),
        recovered,
    });
}

/// The socket's rooms changed by hand: a recovery must give back the same ones.
pub async fn remember_rooms<A: Adapter>(state: &AppState, socket: &SocketRef<A>) {
    let Some(session) = socket.extensions.get::<Session>() else {
        return;
    };
    let rooms: Vec<String> = socket.rooms().iter().map(|room| room.to_string()).collect();
    let sid = socket.id.to_string();
    if let Err(error) = state
        .services
        .set_session_rooms(&session.digest, &sid, &rooms)
        .await
    {
        tracing::warn!(socket_id = %sid, %error, "session rooms not recorded: a recovery may miss this change");
    }
}

/// A transport that failed or timed out leaves its session recoverable for the window;
/// a client or server that ended the socket on purpose ends its session. When the
/// server shuts down nothing is written: its last heartbeat dates its sessions.
pub async fn on_disconnect<A: Adapter>(
    state: &AppState,
    socket: &SocketRef<A>,
    reason: DisconnectReason,
) {
    let Some(session) = socket.extensions.get::<Session>() else {
        return;
    };
    let sid = socket.id.to_string();
    let services = &state.services;
    let written = match reason {
        DisconnectReason::ClosingServer => return,
        DisconnectReason::ClientNSDisconnect | DisconnectReason::ServerNSDisconnect => {
            services.end_session(&session.digest, &sid).await
        }
        _ => services.session_disconnected(&session.digest, &sid).await,
    };
    if let Err(error) = written {
        tracing::warn!(socket_id = %sid, %error, "session end not recorded");
    }
}

fn record(outcome: Outcome) {
    telemetry::record_recovery(outcome.label());
}

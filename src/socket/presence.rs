//! Presence: `user_connected` when a user's first socket joins, `user_disconnected`
//! when its last one leaves, counted on every node.

use socketioxide::{adapter::Adapter, extract::SocketRef};

use crate::{
    auth::Identity,
    broker::Publisher,
    channels::{EventName, Presence, rooms::Room},
    state::AppState,
};

/// Joins the socket's rooms, and tells the others when it is the user's first socket.
pub async fn join<A: Adapter>(
    state: &AppState,
    socket: &SocketRef<A>,
    identity: &Identity,
    rooms: Vec<String>,
) {
    let _turn = state.presence.lock().await;
    socket.join(rooms);
    if user_sockets(state, socket, &identity.user_id, 1).await == 1 {
        announce(
            &state.services.publisher,
            socket,
            EventName::UserConnected,
            identity,
        )
        .await;
    }
}

/// Leaves the user's room and tells the others when it was the user's last socket.
/// socketioxide removes a socket from its rooms only after its disconnect handler (or
/// at once when its transport closes meanwhile): this must run first in that handler,
/// before anything waits for the database, so the count is of the other tabs.
pub async fn leave<A: Adapter>(state: &AppState, socket: &SocketRef<A>, identity: &Identity) {
    let _turn = state.presence.lock().await;
    socket.leave(Room::User(identity.user_id.clone()).to_string());
    if user_sockets(state, socket, &identity.user_id, -1).await == 0 {
        announce(
            &state.services.publisher,
            socket,
            EventName::UserDisconnected,
            identity,
        )
        .await;
    }
}

/// How many sockets the user has on every node once this one has come (`change` 1,
/// after joining) or gone (-1, after leaving). With several nodes a counter in Redis
/// makes "first" and "last" exact even when tabs on two nodes open or close at the same
/// instant. On one node, or while Redis cannot be reached, the user's room is counted
/// (under the node's presence lock).
async fn user_sockets<A: Adapter>(
    state: &AppState,
    socket: &SocketRef<A>,
    user_id: &str,
    change: i64,
) -> usize {
    if let Some(cluster) = &state.cluster {
        match cluster.count_presence(user_id, change).await {
            Ok(count) => return count,
            Err(error) => {
                tracing::warn!(socket_id = %socket.id, %error, "presence counter unreachable: counting rooms")
            }
        }
    }
    let room = Room::User(user_id.to_owned()).to_string();
    match socket.within(room.clone()).fetch_sockets().await {
        Ok(sockets) => sockets.len(),
        Err(error) => {
            tracing::warn!(socket_id = %socket.id, %error, "other nodes unreachable: counting this node's sockets");
            socket.within(room).sockets().len()
        }
    }
}

/// Tells every other socket that a user came or went.
async fn announce<A: Adapter>(
    publisher: &Publisher,
    socket: &SocketRef<A>,
    event: EventName,
    identity: &Identity,
) {
    let presence = Presence {
        user_id: identity.user_id.clone(),
        role: identity.role,
    };
    publisher.to_others(socket, event.as_str(), &presence).await;
}

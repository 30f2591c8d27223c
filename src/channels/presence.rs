//! Who is connected: users with a socket on any node, read from the rooms every socket
//! joins (`user:{id}`, `role:{role}`), so nothing else needs keeping in step.

use serde::Serialize;

use super::rooms::Room;
use crate::{auth::Role, broker::Publisher};

/// A connected user: the payload of `user_connected` / `user_disconnected`, and an
/// entry of `GET /api/presence`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Presence {
    pub user_id: String,
    pub role: Role,
}

/// Users with a socket on any node (from their `user:` rooms).
pub async fn connected_users(publisher: &Publisher) -> Vec<String> {
    users_in(publisher.rooms(Vec::new()).await)
}

/// Every connected user with the role it connected as, by user id.
pub async fn online(publisher: &Publisher) -> Vec<Presence> {
    let mut online = Vec::new();
    for role in Role::ALL {
        let rooms = publisher.rooms(vec![Room::Role(role).to_string()]).await;
        online.extend(
            users_in(rooms)
                .into_iter()
                .map(|user_id| Presence { user_id, role }),
        );
    }
    // Stable: a user with two roles keeps them in `Role::ALL`'s order.
    online.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    online
}

fn users_in(rooms: Vec<String>) -> Vec<String> {
    rooms
        .iter()
        .filter_map(|room| match room.parse() {
            Ok(Room::User(user_id)) => Some(user_id),
            _ => None,
        })
        .collect()
}

//! Channel policy: which rooms a caller may read and join. `user:*` and `role:*` rooms
//! are joined automatically at connect and never by request.

use super::rooms::{Room, Topic};
use crate::{
    auth::{Identity, Role},
    error::AppError,
};

/// Topics a role receives. Every role reads every dashboard topic today; this is the
/// seam for narrowing that per role.
pub fn readable_topics(_role: Role) -> &'static [Topic] {
    &Topic::ALL
}

/// Rooms a user may join by hand. `user:*` and `role:*` are joined automatically at
/// connect and never by request (a user's own `user:` room is allowed as a no-op).
pub fn may_join(identity: &Identity, room: &Room) -> Result<(), AppError> {
    match room {
        Room::Topic(topic) if readable_topics(identity.role).contains(topic) => Ok(()),
        Room::Topic(_) => Err(AppError::forbidden(format!(
            "role {} may not read {room}",
            identity.role
        ))),
        Room::Order(_) | Room::Client(_) | Room::Sku(_) => Ok(()),
        Room::User(id) if *id == identity.user_id => Ok(()),
        Room::User(_) | Room::Role(_) | Room::Everyone => {
            Err(AppError::forbidden(format!("{room} cannot be joined")))
        }
    }
}

/// The private rooms (`Room::PRIVATE_PREFIXES`) whose events `identity` may read: its
/// own user room and role room. Everything else in the event log (the dashboard rooms,
/// `everyone`) any caller may read.
pub fn own_private_rooms(identity: &Identity) -> [String; 2] {
    [
        Room::User(identity.user_id.clone()).to_string(),
        Room::Role(identity.role).to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_rooms_are_the_user_and_role_rooms() {
        let own = own_private_rooms(&Identity::with_role(Role::Staff));
        assert_eq!(own, ["user:me".to_owned(), "role:staff".to_owned()]);
        for (room, prefix) in own.iter().zip(Room::PRIVATE_PREFIXES) {
            assert!(room.starts_with(prefix), "{room}");
        }
        assert!(
            !Room::Everyone.to_string().contains(':'),
            "everyone is public"
        );
    }

    #[test]
    fn every_role_and_room() {
        // (room, may join) — the same for every role today.
        let table = [
            ("orders", true),
            ("clients", true),
            ("inventory", true),
            ("alerts", true),
            ("order:7", true),
            ("client:7", true),
            ("sku:A-1", true),
            ("user:me", true),
            ("user:someone-else", false),
            ("role:admin", false),
            ("role:staff", false),
            ("role:viewer", false),
        ];
        for role in Role::ALL {
            for (name, expected) in table {
                let room: Room = name.parse().unwrap();
                assert_eq!(
                    may_join(&Identity::with_role(role), &room).is_ok(),
                    expected,
                    "{role} × {name}"
                );
            }
        }
    }
}

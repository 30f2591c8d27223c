//! The one place that decides who may do what: role × action (every command and write
//! maps onto an action) and role × room. REST handlers, socket commands and services
//! all ask here.

use super::{Identity, Role};
use crate::{
    error::AppError,
    realtime::rooms::{Room, Topic},
};

/// Something a caller may want to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read dashboards, rooms, the event log and one's own notifications.
    Read,
    /// Create or change clients, orders, inventory, and report stock.
    WriteCatalog,
    /// Send notifications to a user or everyone.
    SendNotification,
    /// Read the socket layer's live stats.
    ReadStats,
    /// Fire a test broadcast (never in production).
    TestBroadcast,
}

impl Action {
    /// The policy: which roles may do each action.
    pub fn allowed_roles(self) -> &'static [Role] {
        match self {
            Action::Read => &Role::ALL,
            Action::WriteCatalog => &[Role::Admin, Role::Staff],
            Action::SendNotification | Action::ReadStats | Action::TestBroadcast => &[Role::Admin],
        }
    }
}

pub fn authorize(identity: &Identity, action: Action) -> Result<(), AppError> {
    if action.allowed_roles().contains(&identity.role) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "role {} may not do this",
            identity.role
        )))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn as_role(role: Role) -> Identity {
        Identity {
            user_id: "me".into(),
            role,
            expires_at: None,
            delegated_by: None,
        }
    }

    #[test]
    fn every_role_and_action() {
        use Action::*;
        // (action, admin, staff, viewer)
        let table = [
            (Read, true, true, true),
            (WriteCatalog, true, true, false),
            (SendNotification, true, false, false),
            (ReadStats, true, false, false),
            (TestBroadcast, true, false, false),
        ];
        for (action, admin, staff, viewer) in table {
            for (role, expected) in [
                (Role::Admin, admin),
                (Role::Staff, staff),
                (Role::Viewer, viewer),
            ] {
                let result = authorize(&as_role(role), action);
                assert_eq!(result.is_ok(), expected, "{role} × {action:?}");
            }
        }
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
                    may_join(&as_role(role), &room).is_ok(),
                    expected,
                    "{role} × {name}"
                );
            }
        }
    }
}

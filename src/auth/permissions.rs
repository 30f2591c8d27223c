//! The one place that decides who may do what: role × action (every command and write
//! maps onto an action). Who may join which room is the channels' policy
//! (`channels::policy`).

use super::{Identity, Role};
use crate::error::AppError;

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
    /// Publish events about data a producer owns.
    Publish,
}

impl Action {
    /// The policy: which roles may do each action.
    pub fn allowed_roles(self) -> &'static [Role] {
        match self {
            Action::Read => &Role::ALL,
            Action::WriteCatalog => &[Role::Admin, Role::Staff],
            Action::SendNotification | Action::ReadStats | Action::TestBroadcast => &[Role::Admin],
            Action::Publish => &[Role::Service],
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_and_action() {
        use Action::*;
        // (action, admin, staff, viewer, service)
        let table = [
            (Read, true, true, true, true),
            (WriteCatalog, true, true, false, false),
            (SendNotification, true, false, false, false),
            (ReadStats, true, false, false, false),
            (TestBroadcast, true, false, false, false),
            (Publish, false, false, false, true),
        ];
        for (action, admin, staff, viewer, service) in table {
            for (role, expected) in [
                (Role::Admin, admin),
                (Role::Staff, staff),
                (Role::Viewer, viewer),
                (Role::Service, service),
            ] {
                let result = authorize(&Identity::with_role(role), action);
                assert_eq!(result.is_ok(), expected, "{role} × {action:?}");
            }
        }
    }
}

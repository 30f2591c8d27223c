//! The notification inbox: send (to one user or everyone), read state per user, unread
//! counts pushed to every tab of the user whose count changed.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::OnConflict,
};

use entity::{notification, notification_read};

use super::{
    Page, PageRequest, Services, Write, now, paginate,
    unread_counts::{self, for_user, unread_by},
};
use crate::{
    auth::Identity,
    channels::{self, EventName, NewEvent, rooms::Room},
    domain::notifications::{NewNotification, NotificationView, ReadConfirmation, UnreadCount},
    error::AppError,
};

/// A notification that went out, and how many sockets on this node it reached.
pub struct Sent {
    pub notification: NotificationView,
    pub sockets: usize,
}

/// Persists a notification, delivers `notification` to its recipient's sockets (or
/// everyone's), then pushes the new unread counts.
pub async fn send(
    services: &Services,
    actor: &Identity,
    input: NewNotification,
) -> Result<NotificationView, AppError> {
    deliver(services, actor, input)
        .await
        .map(|sent| sent.notification)
}

/// Sending without the role check, for server-side producers (test broadcasts).
pub(crate) async fn deliver(
    services: &Services,
    actor: &Identity,
    input: NewNotification,
) -> Result<Sent, AppError> {
    let mut write = Write::begin(services, actor).await?;
    let notification = record(&mut write, input).await?;
    let sockets = write.commit().await?;
    push_unread_counts(services, &notification).await;
    Ok(Sent {
        notification,
        sockets,
    })
}

/// Stores a notification in the inbox and emits it with `write`.
pub(super) async fn record(
    write: &mut Write<'_>,
    input: NewNotification,
) -> Result<NotificationView, AppError> {
    let row = notification::ActiveModel {
        user_id: Set(input.user_id.clone()),
        kind: Set(input.kind),
        subject: Set(input.subject.trim().to_owned()),
        message: Set(input.message),
        severity: Set(input.severity.as_str().to_owned()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(write.txn())
    .await?;
    let notification = NotificationView::new(row, false);
    let room = match &notification.user_id {
        Some(user_id) => Room::User(user_id.clone()),
        None => Room::Everyone,
    };
    write.emit(NewEvent::to(EventName::Notification, room, &notification));
    Ok(notification)
}

/// After a notification committed: its recipient's new unread count, or everyone's.
pub(super) async fn push_unread_counts(services: &Services, notification: &NotificationView) {
    match &notification.user_id {
        Some(user_id) => push_unread_count(services, user_id).await,
        None => push_everyones_unread_count(services).await,
    }
}

/// Everyone's count changed: refreshes each connected user's, on every node.
pub(super) async fn push_everyones_unread_count(services: &Services) {
    for user_id in channels::connected_users(&services.publisher).await {
        push_unread_count(services, &user_id).await;
    }
}

/// Marks one notification read for the caller. Someone else's notification is
/// `not_found`, exactly like one that does not exist. Marking twice is harmless.
pub async fn mark_read(
    services: &Services,
    actor: &Identity,
    notification_id: i64,
) -> Result<ReadConfirmation, AppError> {
    let write = Write::begin(services, actor).await?;
    let visible = notification::Entity::find_by_id(notification_id)
        .filter(for_user(actor.user_id.as_str()))
        .one(write.txn())
        .await?;
    if visible.is_none() {
        return Err(AppError::not_found(format!(
            "no notification with id {notification_id}"
        )));
    }
    let newly = insert_reads(write.txn(), &actor.user_id, &[notification_id]).await?;
    let confirmation = ReadConfirmation {
        notification_id: Some(notification_id),
        notification_ids: vec![notification_id],
        read: true,
    };
    confirm(services, actor, write, newly, &confirmation).await?;
    Ok(confirmation)
}

/// Marks every notification the caller can see as read.
pub async fn mark_all_read(
    services: &Services,
    actor: &Identity,
) -> Result<ReadConfirmation, AppError> {
    let write = Write::begin(services, actor).await?;
    let unread: Vec<i64> = notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .filter(for_user(actor.user_id.as_str()))
        .filter(unread_by(actor.user_id.as_str()))
        .order_by_asc(notification::Column::Id)
        .into_tuple()
        .all(write.txn())
        .await?;
    let newly = insert_reads(write.txn(), &actor.user_id, &unread).await?;
    let confirmation = ReadConfirmation {
        notification_id: None,
        notification_ids: unread,
        read: true,
    };
    confirm(services, actor, write, newly, &confirmation).await?;
    Ok(confirmation)
}

/// Records the confirmation (when something changed), commits, and tells every tab.
async fn confirm(
    services: &Services,
    actor: &Identity,
    mut write: Write<'_>,
    changed: bool,
    confirmation: &ReadConfirmation,
) -> Result<(), AppError> {
    if changed {
        write.emit(NewEvent::to(
            EventName::NotificationReadConfirmation,
            Room::User(actor.user_id.clone()),
            confirmation,
        ));
    }
    write.commit().await?;
    if changed {
        push_unread_count(services, &actor.user_id).await;
    }
    Ok(())
}

pub async fn unread_count(services: &Services, user_id: &str) -> Result<UnreadCount, AppError> {
    let unread_count = unread_counts::count(services, user_id).await?;
    Ok(UnreadCount { unread_count })
}

/// The caller's notifications, newest first; `unread_only` hides the read ones.
pub async fn list(
    services: &Services,
    actor: &Identity,
    unread_only: bool,
    page: PageRequest,
) -> Result<Page<NotificationView>, AppError> {
    let mut query = notification::Entity::find()
        .filter(for_user(actor.user_id.as_str()))
        .order_by_desc(notification::Column::Id);
    if unread_only {
        query = query.filter(unread_by(actor.user_id.as_str()));
    }
    let page = paginate(&services.db, query, page).await?;
    let ids: Vec<i64> = page.items.iter().map(|n| n.id).collect();
    let read: Vec<i64> = notification_read::Entity::find()
        .select_only()
        .column(notification_read::Column::NotificationId)
        .filter(notification_read::Column::UserId.eq(&actor.user_id))
        .filter(notification_read::Column::NotificationId.is_in(ids))
        .into_tuple()
        .all(&services.db)
        .await?;
    Ok(page.map(|row| {
        let is_read = read.contains(&row.id);
        NotificationView::new(row, is_read)
    }))
}

/// Sends the user's current unread count to all of the user's sockets. A failure is
/// logged: the count is a convenience the client can also ask for.
pub async fn push_unread_count(services: &Services, user_id: &str) {
    match unread_count(services, user_id).await {
        Ok(count) => {
            channels::to_user(&services.publisher, user_id, EventName::UnreadCount, &count).await;
        }
        Err(error) => tracing::warn!(user_id, %error, "unread count not pushed"),
    }
}

/// Read marks per statement: three variables each, within SQLite's 32 766 per statement
/// (and PostgreSQL's 65 535), so marking any number read works.
const READS_PER_INSERT: usize = 5_000;

/// Inserts the read marks that do not exist yet; true if any was new.
async fn insert_reads<C: ConnectionTrait>(
    conn: &C,
    user_id: &str,
    notification_ids: &[i64],
) -> Result<bool, AppError> {
    let read_at = now();
    let mut inserted = 0;
    for chunk in notification_ids.chunks(READS_PER_INSERT) {
        let marks = chunk
            .iter()
            .map(|&notification_id| notification_read::ActiveModel {
                notification_id: Set(notification_id),
                user_id: Set(user_id.to_owned()),
                read_at: Set(read_at),
            });
        inserted += notification_read::Entity::insert_many(marks)
            .on_conflict(
                OnConflict::columns([
                    notification_read::Column::NotificationId,
                    notification_read::Column::UserId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(inserted > 0)
}

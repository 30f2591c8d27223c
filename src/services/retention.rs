//! Retention: the event log keeps events for `PULSO_EVENT_RETENTION_HOURS`, the inbox
//! keeps read notifications for `PULSO_NOTIFICATION_RETENTION_HOURS`, and a producer's
//! idempotency key lasts its window. Older rows are found by a read, then removed in
//! batches, each its own short write, so a writer waits for one batch at most. How far
//! the log's pruning got is recorded, so a reader whose cursor is older is told. On
//! SQLite the freed pages then go back to the file system, a few at a time.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, DeleteMany,
    EntityTrait, Insert, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    Set, Statement,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

use entity::{event, event_log_pruning, notification, notification_read, publication};

use super::{Services, notifications, now, publish::KEY_WINDOW};
use crate::{config::Retention, telemetry};

/// Rows removed per write: a command that arrives meanwhile waits for one such write.
const BATCH: u64 = 200;

/// SQLite pages (4 KiB each) given back to the file system per write.
const PAGES_PER_WRITE: u64 = 500;

/// The one row of `event_log_pruning`.
const ROW: i32 = 1;

/// What one pass removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub events: u64,
    pub notifications: u64,
    pub idempotency_keys: u64,
    /// SQLite pages given back to the file system.
    pub pages: u64,
}

/// Rows past their retention, each kind found and removed its own way.
#[derive(Debug, Clone, Copy)]
enum Expired {
    /// Events logged before the cutoff, read in id order up to `through`, the id of the
    /// last one logged (found once a pass through the date's index): without that
    /// bound, the read that finds the last of them would go on through the whole log.
    Events { cutoff: DateTime<Utc>, through: i64 },
    /// Notifications to one user that the user read before the cutoff.
    ReadNotifications(DateTime<Utc>),
    /// Notifications to everyone created before the cutoff, read or not.
    Broadcasts(DateTime<Utc>),
    /// Idempotency keys recorded before the cutoff.
    IdempotencyKeys(DateTime<Utc>),
}

impl Services {
    /// One pass of retention; returns what it removed.
    pub async fn prune(&self, retention: &Retention) -> Result<Pruned, DbErr> {
        let before = |keep| now() - TimeDelta::from_std(keep).unwrap_or(TimeDelta::MAX);
        let share = retention.writer_share_percent;
        let cutoff = before(retention.events);
        let events = match last_logged_before(&self.db, cutoff).await? {
            Some(through) => {
                self.remove(Expired::Events { cutoff, through }, share)
                    .await?
            }
            None => 0,
        };
        let read_cutoff = before(retention.read_notifications);
        let read = self
            .remove(Expired::ReadNotifications(read_cutoff), share)
            .await?;
        let broadcasts = self.remove(Expired::Broadcasts(read_cutoff), share).await?;
        if broadcasts > 0 {
            // Unread ones among them no longer count.
            notifications::push_everyones_unread_count(self).await;
        }
        let idempotency_keys = self
            .remove(Expired::IdempotencyKeys(now() - KEY_WINDOW), share)
            .await?;
        let pages = self.give_back_free_pages(share).await?;

        let (kept, oldest) = log_extent(&self.db).await?;
        telemetry::record_event_log(kept, oldest);
        Ok(Pruned {
            events,
            notifications: read + broadcasts,
            idempotency_keys,
            pages,
        })
    }

    /// Removes every row of the kind, a batch per write, each write taking at most
    /// `share` percent of the writing time; returns how many went.
    async fn remove(&self, expired: Expired, share: u32) -> Result<u64, DbErr> {
        let mut removed = 0;
        // Found by a read, so the write lock is held only to delete.
        while let Some(batch) = expired.next_batch(&self.db).await? {
            let (turn, txn) = self.begin_writing().await?;
            let writing = Instant::now();
            let gone = txn.execute_raw(batch.delete).await?.rows_affected();
            if let Some(record) = batch.record {
                txn.execute_raw(record).await?;
            }
            txn.commit().await?;
            drop(turn);
            removed += gone;
            expired.count(gone);
            if batch.found < BATCH as usize {
                break;
            }
            give_way(writing.elapsed(), share).await;
        }
        Ok(removed)
    }

    /// SQLite keeps the pages of removed rows for reuse; with incremental auto-vacuum
    /// (see `startup::connect_database`) they can go back to the file system.
    async fn give_back_free_pages(&self, share: u32) -> Result<u64, DbErr> {
        if self.db.get_database_backend() != DbBackend::Sqlite
            || pragma(&self.db, "auto_vacuum").await? != INCREMENTAL
        {
            return Ok(0);
        }
        let mut given = 0;
        loop {
            let free = pragma(&self.db, "freelist_count").await?;
            if free == 0 {
                return Ok(given);
            }
            let step = std::cmp::min(free.unsigned_abs(), PAGES_PER_WRITE);
            let (turn, txn) = self.begin_writing().await?;
            let writing = Instant::now();
            txn.execute_unprepared(&format!("PRAGMA incremental_vacuum({step})"))
                .await?;
            txn.commit().await?;
            drop(turn);
            given += step;
            give_way(writing.elapsed(), share).await;
        }
    }
}

/// Waits so that a write that took `took` is `share` percent of the time since it
/// began: commands (one writer at a time) rarely find pruning ahead of them
/// (bench/README.md, "Retention: what pruning costs the writes").
async fn give_way(took: Duration, share: u32) {
    let share = share.clamp(1, 100);
    tokio::time::sleep(took * (100 - share) / share).await;
}

/// Up to `BATCH` expired rows, oldest first, and the statements that remove them.
struct Batch {
    found: usize,
    delete: Statement,
    /// Written in the same transaction.
    record: Option<Statement>,
}

impl Expired {
    async fn next_batch(self, db: &DatabaseConnection) -> Result<Option<Batch>, DbErr> {
        let backend = db.get_database_backend();
        let batch = |found: usize, delete: Statement| Batch {
            found,
            delete,
            record: None,
        };
        let found = match self {
            Expired::Events { cutoff, through } => {
                let ids: Vec<i64> = oldest_ids(
                    event::Entity::find()
                        .select_only()
                        .column(event::Column::Id)
                        .filter(event::Column::Id.lte(through))
                        .filter(event::Column::CreatedAt.lt(cutoff))
                        .order_by_asc(event::Column::Id),
                    db,
                )
                .await?;
                ids.last().copied().map(move |last| Batch {
                    record: Some(record_pruned_through(last).build(backend)),
                    ..batch(
                        ids.len(),
                        event::Entity::delete_many()
                            .filter(event::Column::Id.is_in(ids))
                            .build(backend),
                    )
                })
            }
            Expired::ReadNotifications(cutoff) => {
                let ids = oldest_ids(
                    notification_read::Entity::find()
                        .select_only()
                        .column(notification_read::Column::NotificationId)
                        .filter(notification_read::Column::ReadAt.lt(cutoff))
                        .filter(read_by_addressee())
                        .order_by_asc(notification_read::Column::ReadAt),
                    db,
                )
                .await?;
                delete_notifications(ids).map(|(found, delete)| batch(found, delete.build(backend)))
            }
            Expired::Broadcasts(cutoff) => {
                let ids = oldest_ids(
                    notification::Entity::find()
                        .select_only()
                        .column(notification::Column::Id)
                        .filter(notification::Column::UserId.is_null())
                        .filter(notification::Column::CreatedAt.lt(cutoff))
                        .order_by_asc(notification::Column::Id),
                    db,
                )
                .await?;
                delete_notifications(ids).map(|(found, delete)| batch(found, delete.build(backend)))
            }
            Expired::IdempotencyKeys(cutoff) => {
                let keys: Vec<(String, String)> = publication::Entity::find()
                    .select_only()
                    .column(publication::Column::Scope)
                    .column(publication::Column::IdempotencyKey)
                    .filter(publication::Column::CreatedAt.lt(cutoff))
                    .order_by_asc(publication::Column::CreatedAt)
                    .limit(BATCH)
                    .into_tuple()
                    .all(db)
                    .await?;
                let found = keys.len();
                let any_of = keys
                    .into_iter()
                    .fold(Condition::any(), |any, (scope, key)| {
                        any.add(
                            Condition::all()
                                .add(publication::Column::Scope.eq(scope))
                                .add(publication::Column::IdempotencyKey.eq(key)),
                        )
                    });
                (found > 0).then(|| {
                    // A key reused since (past its window) was dated anew and stays.
                    let delete = publication::Entity::delete_many()
                        .filter(any_of)
                        .filter(publication::Column::CreatedAt.lt(cutoff));
                    batch(found, delete.build(backend))
                })
            }
        };
        Ok(found)
    }

    fn count(self, removed: u64) {
        match self {
            Expired::Events { .. } => telemetry::record_events_pruned(removed),
            Expired::ReadNotifications(_) | Expired::Broadcasts(_) => {
                telemetry::record_notifications_pruned(removed)
            }
            Expired::IdempotencyKeys(_) => {}
        }
    }
}

/// A read mark left by the notification's own addressee (reads of a notification to
/// everyone do not make it read for the others).
fn read_by_addressee() -> Condition {
    let addressed = Query::select()
        .expr(Expr::val(1))
        .from(notification::Entity)
        .and_where(
            Expr::col((notification::Entity, notification::Column::Id)).equals((
                notification_read::Entity,
                notification_read::Column::NotificationId,
            )),
        )
        .and_where(
            Expr::col((notification::Entity, notification::Column::UserId))
                .equals((notification_read::Entity, notification_read::Column::UserId)),
        )
        .to_owned();
    Condition::all().add(Expr::exists(addressed))
}

/// The ids of up to `BATCH` rows the query selects.
async fn oldest_ids<E: EntityTrait>(
    query: Select<E>,
    db: &DatabaseConnection,
) -> Result<Vec<i64>, DbErr> {
    query.limit(BATCH).into_tuple().all(db).await
}

/// Removes the notifications, if any; their reads go with them (ON DELETE CASCADE).
fn delete_notifications(ids: Vec<i64>) -> Option<(usize, DeleteMany<notification::Entity>)> {
    (!ids.is_empty()).then(|| {
        let found = ids.len();
        let delete =
            notification::Entity::delete_many().filter(notification::Column::Id.is_in(ids));
        (found, delete)
    })
}

/// Never moves back: two nodes pruning at once may record out of order.
fn record_pruned_through(through: i64) -> Insert<event_log_pruning::ActiveModel> {
    let row = event_log_pruning::ActiveModel {
        id: Set(ROW),
        pruned_through: Set(through),
    };
    event_log_pruning::Entity::insert(row).on_conflict(
        OnConflict::column(event_log_pruning::Column::Id)
            .update_column(event_log_pruning::Column::PrunedThrough)
            .action_and_where(
                Expr::col((
                    event_log_pruning::Entity,
                    event_log_pruning::Column::PrunedThrough,
                ))
                .lt(through),
            )
            .to_owned(),
    )
}

/// The highest event id retention removed (0 while it removed none).
pub async fn pruned_through(db: &DatabaseConnection) -> Result<i64, DbErr> {
    Ok(event_log_pruning::Entity::find_by_id(ROW)
        .one(db)
        .await?
        .map_or(0, |row| row.pruned_through))
}

/// The id of the last event logged before `cutoff`, found through the date's index.
/// Ids grow with time (they are handed out under the log's write lock); one that does
/// not, logged by a node whose clock is behind, goes at a later pass.
async fn last_logged_before(
    db: &DatabaseConnection,
    cutoff: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .filter(event::Column::CreatedAt.lt(cutoff))
        .order_by_desc(event::Column::CreatedAt)
        .order_by_desc(event::Column::Id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await
}

/// How many events the log holds, and the oldest one's id (0 when empty).
async fn log_extent(db: &DatabaseConnection) -> Result<(u64, i64), DbErr> {
    let kept = event::Entity::find().count(db).await?;
    let oldest: Option<Option<i64>> = event::Entity::find()
        .select_only()
        .column_as(event::Column::Id.min(), "oldest")
        .into_tuple()
        .one(db)
        .await?;
    Ok((kept, oldest.flatten().unwrap_or(0)))
}

/// `auto_vacuum`'s value for incremental.
pub const INCREMENTAL: i64 = 2;

/// A SQLite pragma's integer value.
pub async fn pragma<C: ConnectionTrait>(db: &C, name: &str) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("PRAGMA {name}"),
        ))
        .await?
        .ok_or_else(|| DbErr::Custom(format!("PRAGMA {name} answered nothing")))?;
    row.try_get_by_index(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_write_is_followed_by_the_wait_that_makes_it_its_share() {
        for (took_ms, share, waited_ms) in [(10, 1, 990), (10, 25, 30), (10, 100, 0)] {
            let start = tokio::time::Instant::now();
            give_way(Duration::from_millis(took_ms), share).await;
            assert_eq!(
                start.elapsed(),
                Duration::from_millis(waited_ms),
                "{share} %"
            );
        }
    }
}

//! Retention: the event log keeps events for `PULSO_EVENT_RETENTION_HOURS`. Older ones
//! go in batches, each its own short write, so a writer waits for one batch at most;
//! how far pruning got is recorded, so a reader whose cursor is older is told.

use std::time::Duration;

use chrono::TimeDelta;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, sea_query::OnConflict,
};

use entity::{event, event_log_pruning};

use super::{Services, now};
use crate::telemetry;

/// Events removed per write.
const BATCH: u64 = 1000;

/// The one row of `event_log_pruning`.
const ROW: i32 = 1;

impl Services {
    /// Removes the events older than `keep`, oldest first; returns how many went.
    pub async fn prune_events(&self, keep: Duration) -> Result<u64, DbErr> {
        let cutoff = now() - TimeDelta::from_std(keep).unwrap_or(TimeDelta::MAX);
        let mut removed = 0;
        loop {
            let (_turn, txn) = self.begin_writing().await?;
            let ids: Vec<i64> = event::Entity::find()
                .select_only()
                .column(event::Column::Id)
                .filter(event::Column::CreatedAt.lt(cutoff))
                .order_by_asc(event::Column::Id)
                .limit(BATCH)
                .into_tuple()
                .all(&txn)
                .await?;
            let Some(&through) = ids.last() else {
                break;
            };
            // Ids grow with time (they are handed out under the log's write lock).
            let gone = event::Entity::delete_many()
                .filter(event::Column::Id.lte(through))
                .exec(&txn)
                .await?
                .rows_affected;
            record_pruned_through(&txn, through).await?;
            txn.commit().await?;
            removed += gone;
            telemetry::record_events_pruned(gone);
            if (ids.len() as u64) < BATCH {
                break;
            }
            // Writers queued meanwhile go before the next batch.
            tokio::task::yield_now().await;
        }
        let (kept, oldest) = log_extent(&self.db).await?;
        telemetry::record_event_log(kept, oldest);
        Ok(removed)
    }
}

async fn record_pruned_through<C: ConnectionTrait>(conn: &C, through: i64) -> Result<(), DbErr> {
    let row = event_log_pruning::ActiveModel {
        id: Set(ROW),
        pruned_through: Set(through),
    };
    event_log_pruning::Entity::insert(row)
        .on_conflict(
            OnConflict::column(event_log_pruning::Column::Id)
                .update_column(event_log_pruning::Column::PrunedThrough)
                .to_owned(),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// The highest event id retention removed (0 while it removed none).
pub async fn pruned_through(db: &DatabaseConnection) -> Result<i64, DbErr> {
    Ok(event_log_pruning::Entity::find_by_id(ROW)
        .one(db)
        .await?
        .map_or(0, |row| row.pruned_through))
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

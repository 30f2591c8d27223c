//! Services: one module per aggregate. REST handlers and socket commands call the same
//! functions here (after checking the caller's role, once, at their edge), which
//! validate, write (with their events, in one transaction) and then hand the committed
//! events to the channels.

mod batches;
pub mod clients;
pub mod events;
pub mod inventory;
pub mod notifications;
pub mod operations;
mod order_batch;
pub mod orders;
pub mod publish;
pub mod publish_order;
pub mod replays;
pub mod retention;
pub mod sessions;
pub mod summary;
mod unread_counts;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use std::sync::Arc;

use publish_order::Ticket;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QuerySelect, Select, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
    sea_query::{Alias, OnConflict, Query},
};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::{
    auth::Identity,
    broker::Publisher,
    channels::{self, Delivery, NewEvent},
    error::AppError,
    limits::RateByCaller,
};

/// What every service needs: the database and the way out to sockets.
#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub publisher: Publisher,
    /// Orders this process's SQLite writers (see `Write::begin`).
    pub sqlite_writer: Arc<Mutex<()>>,
    /// Events go out in the order they were logged (see `publish_order`).
    pub publish_order: Arc<publish_order::PublishOrder>,
    /// New orders waiting to be written together (see `order_batch`).
    pub order_queue: Arc<order_batch::OrderQueue>,
    /// Unread counts waiting to be looked up together (see `unread_counts`).
    pub unread_queue: Arc<unread_counts::UnreadQueue>,
    /// New recoverable sessions waiting to be recorded together (see `sessions`).
    pub session_queue: Arc<sessions::SessionQueue>,
    /// Missed events shared by the recoveries that missed the same (see `replays`).
    pub replays: Arc<replays::Replays>,
    /// This server process, as the sessions and heartbeats name it (see `sessions`).
    pub node: Arc<str>,
    /// Each producer credential's publish rate (see `publish`).
    pub publish_rate: Arc<RateByCaller>,
}

impl Services {
    /// A write transaction. SQLite has one writer at a time: writers of this process
    /// queue here, in order and without sleeping, rather than on SQLite's busy timeout
    /// (which polls with sleeps of up to 100 ms); the write lock is then taken up front
    /// (IMMEDIATE), so a writer of another process makes us wait instead of failing an
    /// upgrade. The turn must be held until the transaction ends.
    async fn begin_writing(
        &self,
    ) -> Result<(Vec<OwnedMutexGuard<()>>, DatabaseTransaction), DbErr> {
        let turns = match self.db.get_database_backend() {
            DbBackend::Sqlite => vec![self.sqlite_writer.clone().lock_owned().await],
            _ => Vec::new(),
        };
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = self.db.begin_with_options(options).await?;
        Ok((turns, txn))
    }

    /// Proves that a write commits now: rewrites the one row of `write_probe`. A full
    /// disk, a read-only file or a lost server fail it while reads may still answer.
    pub async fn probe_write(&self) -> Result<(), DbErr> {
        let (_turns, txn) = self.begin_writing().await?;
        let mut upsert = Query::insert();
        upsert
            .into_table(Alias::new("write_probe"))
            .columns([Alias::new("id"), Alias::new("checked_at")])
            .values([1.into(), now().into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .on_conflict(
                OnConflict::column(Alias::new("id"))
                    .update_column(Alias::new("checked_at"))
                    .to_owned(),
            );
        txn.execute(&upsert).await?;
        txn.commit().await
    }
}

/// Timestamps are kept to the millisecond, as the wire format shows them.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::milliseconds(1))
        .unwrap_or(now)
}

/// The ids a multi-row `INSERT … RETURNING` gave, in the order its rows were listed:
/// ids are handed out in VALUES order, but RETURNING's own order is not guaranteed. A
/// short answer fails the write rather than leave a row without its id.
fn ids_in_insert_order(mut ids: Vec<i64>, rows: usize) -> Result<Vec<i64>, DbErr> {
    if ids.len() != rows {
        return Err(DbErr::Custom(format!(
            "an insert of {rows} rows returned {} ids",
            ids.len()
        )));
    }
    ids.sort_unstable();
    Ok(ids)
}

/// One write: a transaction plus the events it produces. Events are recorded in the
/// same transaction at commit and published only after the commit succeeded, so a
/// failed write changes nothing and tells nobody.
pub struct Write<'a> {
    services: &'a Services,
    actor: &'a Identity,
    txn: DatabaseTransaction,
    /// Each event with the user whose request caused it.
    events: Vec<(&'a Identity, NewEvent)>,
    /// Turns to write held until the commit: this process's on SQLite, and any other a
    /// caller hands over (`hold_until_commit`).
    turns: Vec<OwnedMutexGuard<()>>,
    /// Where to remember the logged events' ids (`publish`'s idempotency key).
    remember: Option<publish::Remember>,
}

impl<'a> Write<'a> {
    pub async fn begin(services: &'a Services, actor: &'a Identity) -> Result<Self, AppError> {
        let (turns, txn) = services.begin_writing().await?;
        Ok(Self {
            services,
            actor,
            txn,
            events: Vec::new(),
            turns,
            remember: None,
        })
    }

    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub fn emit(&mut self, event: NewEvent) {
        self.events.push((self.actor, event));
    }

    /// Keeps `turn` until this write has committed or failed, so whoever waits for it
    /// may start while this write's events go out.
    pub fn hold_until_commit(&mut self, turn: OwnedMutexGuard<()>) {
        self.turns.push(turn);
    }

    /// Records the ids of this write's events under `remember`, in its transaction.
    pub(crate) fn remember_as(&mut self, remember: publish::Remember) {
        self.remember = Some(remember);
    }

    /// An event caused by another request than the one that began the write (a batch).
    pub fn emit_as(&mut self, actor: &'a Identity, event: NewEvent) {
        self.events.push((actor, event));
    }

    /// Commits, then publishes; returns how many local sockets the events reached.
    pub async fn commit(self) -> Result<usize, AppError> {
        Ok(self.commit_unpublished().await?.publish().await)
    }

    /// Commits; the events go out when the caller says (`Committed::publish`), so a
    /// batch can answer its requests first.
    pub async fn commit_unpublished(self) -> Result<Committed, AppError> {
        let order = &self.services.publish_order;
        let (deliveries, ticket) = if self.events.is_empty() {
            (Vec::new(), None)
        } else {
            let cluster = order.before_logging().await?;
            let deliveries = events::record(&self.txn, self.events).await?;
            if let Some(remember) = self.remember {
                let ids = deliveries.iter().map(|d| d.envelope.id);
                remember.record(&self.txn, ids.collect()).await?;
            }
            // Taken while this write still holds its turn to write: tickets follow the log.
            (deliveries, Some(order.ticket(cluster)))
        };
        self.txn.commit().await?;
        // The next writer may start while this one's events go out.
        drop(self.turns);
        Ok(Committed {
            publisher: self.services.publisher.clone(),
            deliveries,
            ticket,
        })
    }
}

/// A committed write whose events are still to be published.
#[must_use = "a committed write's events reach nobody until they are published"]
pub struct Committed {
    publisher: Publisher,
    deliveries: Vec<Delivery>,
    /// Its place in the order events go out (given up if they never go).
    ticket: Option<Ticket>,
}

impl Committed {
    /// The envelopes of the committed events, in the order they were logged.
    pub fn envelopes(&self) -> Vec<channels::Envelope> {
        self.deliveries.iter().map(|d| d.envelope.clone()).collect()
    }

    /// Publishes the events, after those logged before them; returns how many local
    /// sockets they reached.
    pub async fn publish(mut self) -> usize {
        if let Some(ticket) = &mut self.ticket {
            ticket.wait().await;
        }
        let reached = channels::publish(&self.publisher, &self.deliveries).await;
        if let Some(ticket) = self.ticket {
            ticket.release().await;
        }
        reached
    }
}

/// `?limit=&offset=` on list endpoints.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct PageRequest {
    #[schemars(range(min = 1, max = Self::MAX_LIMIT))]
    pub limit: u64,
    pub offset: u64,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: 50,
            offset: 0,
        }
    }
}

impl PageRequest {
    pub const MAX_LIMIT: u64 = 200;

    /// 1 to `MAX_LIMIT`; anything else is `invalid`, naming `limit`.
    fn limit(self) -> Result<u64, AppError> {
        checked_limit(self.limit, Self::MAX_LIMIT)
    }

    /// Databases take a signed 64-bit offset.
    fn offset(self) -> Result<u64, AppError> {
        i64::try_from(self.offset)
            .map(|_| self.offset)
            .map_err(|_| {
                AppError::invalid_field(
                    "offset",
                    format!("must be a whole number from 0 to {}", i64::MAX),
                )
            })
    }
}

/// A page size from 1 to `max`, or `invalid` naming `limit`.
pub fn checked_limit(limit: u64, max: u64) -> Result<u64, AppError> {
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::invalid_field(
            "limit",
            format!("must be a whole number from 1 to {max}"),
        ))
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "PageOf{T}")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// One page of an ordered query, with the total count.
pub async fn paginate<E: EntityTrait>(
    db: &DatabaseConnection,
    query: Select<E>,
    page: PageRequest,
) -> Result<Page<E::Model>, AppError>
where
    E::Model: Sync,
{
    let (limit, offset) = (page.limit()?, page.offset()?);
    let total = query.clone().count(db).await?;
    let items = query.limit(limit).offset(offset).all(db).await?;
    Ok(Page {
        items,
        total,
        limit,
        offset: page.offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_ids_come_back_in_row_order_and_all_of_them() {
        assert_eq!(ids_in_insert_order(vec![7, 5, 6], 3).unwrap(), [5, 6, 7]);
        let short = ids_in_insert_order(vec![5, 6], 3).unwrap_err();
        assert!(
            short.to_string().contains("3 rows returned 2 ids"),
            "{short}"
        );
    }
}

//! Unread counts asked for while another lookup runs are counted together, in one
//! statement. Every socket asks for its user's count as it connects, so a burst of
//! connections (a reconnect storm after a restart) used to queue one query apiece, each
//! holding its statement's state (~10 KiB) until the database got to it: thousands at
//! once, and the process kept that high-water mark of memory. Now a burst waits as
//! small entries in one queue, and the users of a whole turn are counted in one round
//! trip, each tab of the same user sharing one answer.

use std::{
    collections::{BTreeSet, HashMap},
    mem,
    sync::{Arc, Mutex, PoisonError},
};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr,
    sea_query::{Condition, Expr, ExprTrait, Query},
};
use tokio::sync::{OwnedMutexGuard, oneshot};

use entity::{notification, notification_read};

use super::Services;
use crate::error::AppError;

/// Users per statement: one bound parameter each, far under either database's limit.
const MAX_USERS_PER_LOOKUP: usize = 500;

type Outcome = Result<u64, AppError>;

#[derive(Default)]
pub struct UnreadQueue {
    /// Who asked, in the order they asked.
    waiting: Mutex<Vec<(String, oneshot::Sender<Outcome>)>>,
    /// Held by the lookup running now, until it has answered.
    turn: Arc<tokio::sync::Mutex<()>>,
}

/// The number of notifications addressed to the user (or to everyone) that the user
/// has not read, counted together with those asked for in the meantime.
pub(super) async fn count(services: &Services, user_id: &str) -> Outcome {
    let queue = &services.unread_queue;
    let (outcome, mut answer) = oneshot::channel();
    lock(&queue.waiting).push((user_id.to_owned(), outcome));
    loop {
        // Whoever holds the turn counts what is waiting, so the answer may come first.
        let turn = tokio::select! {
            biased;
            outcome = &mut answer => return outcome.unwrap_or_else(|_| Err(AppError::internal())),
            turn = queue.turn.clone().lock_owned() => turn,
        };
        let batch = next_batch(&mut lock(&queue.waiting));
        if batch.is_empty() {
            break;
        }
        // Its own task: the others' answers must not be dropped with this request if
        // its caller goes away mid-lookup.
        let db = services.db.clone();
        let looked_up = tokio::spawn(async move { answer_batch(&db, batch, turn).await });
        if let Err(error) = looked_up.await {
            tracing::error!(%error, "an unread count lookup failed");
        }
    }
    answer.await.unwrap_or_else(|_| Err(AppError::internal()))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The oldest requests, up to `MAX_USERS_PER_LOOKUP` distinct users; the rest keep
/// waiting for the next turn.
fn next_batch(
    waiting: &mut Vec<(String, oneshot::Sender<Outcome>)>,
) -> Vec<(String, oneshot::Sender<Outcome>)> {
    let mut users = BTreeSet::new();
    let size = waiting
        .iter()
        .take_while(|(user_id, _)| {
            users.insert(user_id.as_str());
            users.len() <= MAX_USERS_PER_LOOKUP
        })
        .count();
    let rest = waiting.split_off(size);
    mem::replace(waiting, rest)
}

/// Counts for every user in the batch and answers each request; the turn goes once all
/// are answered.
async fn answer_batch(
    db: &DatabaseConnection,
    batch: Vec<(String, oneshot::Sender<Outcome>)>,
    _turn: OwnedMutexGuard<()>,
) {
    let users: BTreeSet<&str> = batch.iter().map(|(user_id, _)| user_id.as_str()).collect();
    let counts = unread_counts(db, &users).await.map_err(AppError::from);
    for (user_id, outcome) in batch {
        let answer = match &counts {
            Ok(counts) => counts.get(&user_id).copied().ok_or_else(|| {
                tracing::error!(user_id, "the unread count lookup left a user out");
                AppError::internal()
            }),
            Err(error) => Err(error.clone()),
        };
        // The asker may have gone away.
        outcome.send(answer).ok();
    }
}

/// One statement for all the users: for each row of a `VALUES` list of user ids, the
/// count of notifications addressed to that user or to everyone that the user has no
/// read mark for (the same rows `notifications::list` shows as unread).
async fn unread_counts(
    db: &DatabaseConnection,
    users: &BTreeSet<&str>,
) -> Result<HashMap<String, u64>, DbErr> {
    // SQLite and PostgreSQL both name a VALUES list's first column `column1`.
    let user = || Expr::col(("asker", "column1"));
    let reads = Query::select()
        .column(notification_read::Column::NotificationId)
        .from(notification_read::Entity)
        .and_where(
            Expr::col((notification_read::Entity, notification_read::Column::UserId)).eq(user()),
        )
        .to_owned();
    let unread = Query::select()
        .expr(Expr::col((notification::Entity, notification::Column::Id)).count())
        .from(notification::Entity)
        .cond_where(
            Condition::any()
                .add(Expr::col((notification::Entity, notification::Column::UserId)).eq(user()))
                .add(Expr::col((notification::Entity, notification::Column::UserId)).is_null()),
        )
        .and_where(
            Expr::col((notification::Entity, notification::Column::Id)).not_in_subquery(reads),
        )
        .to_owned();
    let lookup = Query::select()
        .expr(user())
        .expr(Expr::SubQuery(None, Box::new(unread.into())))
        .from_values(users.iter().map(|user_id| user_id.to_string()), "asker")
        .to_owned();
    db.query_all(&lookup)
        .await?
        .iter()
        .map(|row| {
            let count: i64 = row.try_get_by_index(1)?;
            let count = u64::try_from(count).map_err(|e| DbErr::Custom(e.to_string()))?;
            Ok((row.try_get_by_index(0)?, count))
        })
        .collect()
}

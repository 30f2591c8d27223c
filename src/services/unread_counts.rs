//! Unread counts asked for while another lookup runs are counted together, in one
//! statement. Every socket asks for its user's count as it connects: a burst of
//! connections (a reconnect storm after a restart) must not queue one query apiece, each
//! holding its statement's state until the database gets to it. A burst waits as small
//! entries in one queue, the users of a whole turn are counted in one round trip, and
//! the tabs of one user are answered from one count (bench/README.md has the memory
//! this saves).

use std::collections::{BTreeSet, HashMap};

use sea_orm::{
    Condition, ConnectionTrait, DatabaseConnection, DbErr,
    sea_query::{Expr, ExprTrait, Query},
};
use tokio::sync::{OwnedMutexGuard, oneshot};

use entity::{notification, notification_read};

use super::{Services, batches::Batches};
use crate::error::AppError;

/// Users per statement: one bound parameter each, far under either database's limit.
const MAX_USERS_PER_LOOKUP: usize = 500;

type Outcome = Result<u64, AppError>;

/// Who asked for a count, waiting for the turn to be looked up.
#[derive(Default)]
pub struct UnreadQueue(Batches<Request>);

/// A user whose count was asked for, and where the answer goes.
type Request = (String, oneshot::Sender<Outcome>);

/// The number of notifications addressed to the user (or to everyone) that the user
/// has not read, counted together with those asked for in the meantime.
pub(super) async fn count(services: &Services, user_id: &str) -> Outcome {
    let (outcome, answer) = oneshot::channel();
    services
        .unread_queue
        .0
        .submit(
            (user_id.to_owned(), outcome),
            answer,
            batch_size,
            |batch, turn| {
                let db = services.db.clone();
                async move { answer_batch(&db, batch, turn).await }
            },
        )
        .await
}

/// The oldest requests, up to `MAX_USERS_PER_LOOKUP` distinct users; the rest keep
/// waiting for the next turn.
fn batch_size(waiting: &[Request]) -> usize {
    let mut users = BTreeSet::new();
    waiting
        .iter()
        .take_while(|(user_id, _)| {
            users.insert(user_id.as_str());
            users.len() <= MAX_USERS_PER_LOOKUP
        })
        .count()
}

/// Counts for every user in the batch and answers each request; the turn goes once all
/// are answered.
async fn answer_batch(db: &DatabaseConnection, batch: Vec<Request>, _turn: OwnedMutexGuard<()>) {
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
/// count of the rows `notifications::list` shows that user as unread (the same two
/// conditions, on the list's column instead of a literal id).
async fn unread_counts(
    db: &DatabaseConnection,
    users: &BTreeSet<&str>,
) -> Result<HashMap<String, u64>, DbErr> {
    // SQLite and PostgreSQL both name a VALUES list's first column `column1`.
    let user = || Expr::col(("asker", "column1"));
    let unread = Query::select()
        .expr(Expr::col((notification::Entity, notification::Column::Id)).count())
        .from(notification::Entity)
        .cond_where(for_user(user()))
        .cond_where(unread_by(user()))
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

/// Notifications addressed to the user or to everyone. `user` is a user id, or the
/// column holding one when `unread_counts` counts for many users in one statement.
pub(super) fn for_user(user: impl Into<Expr>) -> Condition {
    let addressee = || Expr::col((notification::Entity, notification::Column::UserId));
    Condition::any()
        .add(addressee().eq(user))
        .add(addressee().is_null())
}

/// Notifications the user (an id, or a column holding one) has not read yet. NOT EXISTS
/// is one primary-key lookup per notification; a NOT IN over the user's reads was
/// evaluated again for every notification when `user` is a column (unread counts), which
/// took a minute once a user had read 11 000.
pub(super) fn unread_by(user: impl Into<Expr>) -> Condition {
    let read = Query::select()
        .expr(Expr::val(1))
        .from(notification_read::Entity)
        .and_where(
            Expr::col((
                notification_read::Entity,
                notification_read::Column::NotificationId,
            ))
            .equals((notification::Entity, notification::Column::Id)),
        )
        .and_where(
            Expr::col((notification_read::Entity, notification_read::Column::UserId)).eq(user),
        )
        .to_owned();
    Condition::all().add(Expr::exists(read).not())
}

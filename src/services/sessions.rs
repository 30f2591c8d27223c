//! Recoverable socket sessions (Socket.IO connection state recovery), kept in the
//! database so that a client may come back to any node, and after its node was lost.
//!
//! A session is found by the digest of its pid (the pid is not a credential, but the
//! table must not hand one out either). Every change names the socket that owns the
//! session, so a socket that closes after its session moved to a newer socket (the
//! client came back before the server noticed it had gone) cannot end it.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, sea_query::OnConflict,
};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedMutexGuard, oneshot};

use entity::{pulso_node, socket_session};

use super::{Services, batches::Batches, now};
use crate::error::AppError;

/// What a recovery finds under a pid.
#[derive(Debug)]
pub enum Claim {
    /// The session, now owned by the claiming socket.
    Resumed(Resumed),
    /// No such session (never issued, ended, or swept after its window).
    Unknown,
    /// The session belongs to another user: the pid was captured or forged.
    OtherUser,
    /// Its socket went away longer ago than the recovery window.
    Expired,
}

#[derive(Debug)]
pub struct Resumed {
    pub rooms: Vec<String>,
    pub baseline_id: i64,
}

/// The pid's digest, under which its session is stored.
pub fn digest(pid: &str) -> String {
    Sha256::digest(pid.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Sessions per insert: seven bound parameters each, far under either database's limit.
const MAX_SESSIONS_PER_INSERT: usize = 500;

/// New sessions waiting to be recorded together: every socket opens one as it connects,
/// and a burst of connections must not queue one write apiece for SQLite's one writer.
#[derive(Default)]
pub struct SessionQueue(Batches<Opening>);

/// A session to record, and where its baseline goes.
struct Opening {
    session: socket_session::ActiveModel,
    recorded: oneshot::Sender<Result<(), AppError>>,
}

impl Services {
    /// Records a new session owned by socket `sid`, together with those opened
    /// meanwhile. `baseline_id`: the last event delivered to this node's sockets before
    /// the socket was in its rooms; a client that got no event since missed those after.
    pub async fn open_session(
        &self,
        digest: &str,
        user_id: &str,
        rooms: &[String],
        sid: &str,
        baseline_id: i64,
    ) -> Result<(), AppError> {
        let (recorded, answer) = oneshot::channel();
        let session = socket_session::ActiveModel {
            pid_digest: Set(digest.to_owned()),
            user_id: Set(user_id.to_owned()),
            rooms: Set(rooms_json(rooms)),
            baseline_id: Set(baseline_id),
            node: Set(self.node.to_string()),
            owner_sid: Set(sid.to_owned()),
            disconnected_at: Set(None),
        };
        let batch_size = |waiting: &[Opening]| waiting.len().min(MAX_SESSIONS_PER_INSERT);
        self.session_queue
            .0
            .submit(
                Opening { session, recorded },
                answer,
                batch_size,
                |batch, turn| {
                    let services = self.clone();
                    async move { services.open_batch(batch, turn).await }
                },
            )
            .await
    }

    async fn open_batch(&self, batch: Vec<Opening>, _turn: OwnedMutexGuard<()>) {
        let (sessions, answers): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|opening| (opening.session, opening.recorded))
            .unzip();
        let written = self.insert_sessions(sessions).await.map_err(AppError::from);
        for answer in answers {
            // The socket may have gone away; its session row stays until swept.
            answer.send(written.clone()).ok();
        }
    }

    async fn insert_sessions(
        &self,
        sessions: Vec<socket_session::ActiveModel>,
    ) -> Result<(), DbErr> {
        let (_turns, txn) = self.begin_writing().await?;
        socket_session::Entity::insert_many(sessions)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await
    }

    /// Hands the session to socket `sid` if it is `user_id`'s and its socket went away
    /// at most `window` ago, or is still connected (the client noticed first). A
    /// session whose node stopped without a word is dated by that node's heartbeat.
    pub async fn claim_session(
        &self,
        digest: &str,
        user_id: &str,
        sid: &str,
        window: Duration,
    ) -> Result<Claim, DbErr> {
        let (_turns, txn) = self.begin_writing().await?;
        let Some(session) = socket_session::Entity::find_by_id(digest).one(&txn).await? else {
            return Ok(Claim::Unknown);
        };
        if session.user_id != user_id {
            return Ok(Claim::OtherUser);
        }
        let last_alive = match session.disconnected_at {
            Some(at) => Some(at),
            None => pulso_node::Entity::find_by_id(&session.node)
                .one(&txn)
                .await?
                .map(|node| node.seen_at),
        };
        if last_alive.is_none_or(|at| at < cutoff(window)) {
            socket_session::Entity::delete_by_id(digest)
                .exec(&txn)
                .await?;
            txn.commit().await?;
            return Ok(Claim::Expired);
        }
        let moved = socket_session::Entity::update_many()
            .col_expr(socket_session::Column::OwnerSid, sid.into())
            .col_expr(socket_session::Column::Node, self.node.as_ref().into())
            .col_expr(
                socket_session::Column::DisconnectedAt,
                None::<DateTime<Utc>>.into(),
            )
            .filter(socket_session::Column::PidDigest.eq(digest))
            .filter(socket_session::Column::OwnerSid.eq(&session.owner_sid))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if moved.rows_affected == 0 {
            // Another socket claimed it between the read and the update.
            return Ok(Claim::Unknown);
        }
        Ok(Claim::Resumed(Resumed {
            rooms: serde_json::from_str(&session.rooms).unwrap_or_default(),
            baseline_id: session.baseline_id,
        }))
    }

    /// The session's rooms changed (a room joined or left by hand).
    pub async fn set_session_rooms(
        &self,
        digest: &str,
        sid: &str,
        rooms: &[String],
    ) -> Result<(), DbErr> {
        self.change_session(digest, sid, |update| {
            update.col_expr(socket_session::Column::Rooms, rooms_json(rooms).into())
        })
        .await
    }

    /// The session's socket went away without saying goodbye: recoverable for a while.
    pub async fn session_disconnected(&self, digest: &str, sid: &str) -> Result<(), DbErr> {
        self.change_session(digest, sid, |update| {
            update.col_expr(socket_session::Column::DisconnectedAt, now().into())
        })
        .await
    }

    /// The client or the server ended the session on purpose: nothing to recover.
    pub async fn end_session(&self, digest: &str, sid: &str) -> Result<(), DbErr> {
        let (_turns, txn) = self.begin_writing().await?;
        socket_session::Entity::delete_many()
            .filter(owned_by(digest, sid))
            .exec(&txn)
            .await?;
        txn.commit().await
    }

    async fn change_session(
        &self,
        digest: &str,
        sid: &str,
        change: impl FnOnce(
            sea_orm::UpdateMany<socket_session::Entity>,
        ) -> sea_orm::UpdateMany<socket_session::Entity>,
    ) -> Result<(), DbErr> {
        let (_turns, txn) = self.begin_writing().await?;
        change(socket_session::Entity::update_many())
            .filter(owned_by(digest, sid))
            .exec(&txn)
            .await?;
        txn.commit().await
    }

    /// Says this node is alive, and forgets the sessions (and nodes) nobody can
    /// recover any more. They are kept for a second window, so that a client coming
    /// back late is told its session expired rather than that it is unknown.
    pub async fn heartbeat(&self, window: Duration) -> Result<(), DbErr> {
        let (_turns, txn) = self.begin_writing().await?;
        pulso_node::Entity::insert(pulso_node::ActiveModel {
            node: Set(self.node.to_string()),
            seen_at: Set(now()),
        })
        .on_conflict(
            OnConflict::column(pulso_node::Column::Node)
                .update_column(pulso_node::Column::SeenAt)
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        let cutoff = cutoff(window * 2);
        let live_nodes = pulso_node::Entity::find()
            .select_only()
            .column(pulso_node::Column::Node)
            .filter(pulso_node::Column::SeenAt.gte(cutoff))
            .into_query();
        socket_session::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(socket_session::Column::DisconnectedAt.lt(cutoff))
                    .add(
                        Condition::all()
                            .add(socket_session::Column::DisconnectedAt.is_null())
                            .add(socket_session::Column::Node.not_in_subquery(live_nodes)),
                    ),
            )
            .exec(&txn)
            .await?;
        pulso_node::Entity::delete_many()
            .filter(pulso_node::Column::SeenAt.lt(cutoff))
            .exec(&txn)
            .await?;
        txn.commit().await
    }
}

fn owned_by(digest: &str, sid: &str) -> Condition {
    Condition::all()
        .add(socket_session::Column::PidDigest.eq(digest))
        .add(socket_session::Column::OwnerSid.eq(sid))
}

fn cutoff(window: Duration) -> DateTime<Utc> {
    now() - TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX)
}

fn rooms_json(rooms: &[String]) -> String {
    serde_json::to_string(rooms).unwrap_or_else(|_| "[]".to_owned())
}

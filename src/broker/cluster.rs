//! Several nodes: socketioxide's Redis adapter, on a driver that survives Redis
//! restarts, and this node's view of Redis health.
//!
//! socketioxide-redis's own driver holds one connection that never reconnects after
//! Redis restarts. This one runs on `redis`'s `ConnectionManager` (reconnects, and
//! resubscribes its channels), pinged every second so that an idle node notices an
//! outage and its recovery by itself.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use redis::{
    AsyncCommands, FromRedisValue, PushInfo, PushKind, RedisError, RedisResult,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use socketioxide::adapter::Emitter;
use socketioxide_redis::{
    CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr,
    drivers::{ChanItem, Driver, MessageStream},
};
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::stats::NodeStats;
use crate::telemetry;

/// The socket.io adapter type of a multi-node pulso.
pub type ClusterAdapter = CustomRedisAdapter<Emitter, ManagedDriver>;

const KEEPALIVE: Duration = Duration::from_secs(1);

/// KEYS: the user's presence hash (node → sockets), the stats hash (node → JSON with
/// `reported_at`). ARGV: this node, the change, the oldest live `reported_at`.
const PRESENCE_SCRIPT: &str = r"
local mine = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if mine <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
local total = 0
local counts = redis.call('HGETALL', KEYS[1])
for i = 1, #counts, 2 do
  local node, sockets = counts[i], tonumber(counts[i + 1])
  local live = node == ARGV[1]
  if not live then
    local stats = redis.call('HGET', KEYS[2], node)
    live = stats and cjson.decode(stats).reported_at >= tonumber(ARGV[3])
  end
  if live then total = total + sockets else redis.call('HDEL', KEYS[1], node) end
end
return total
";
/// How often each node shares its stats, and when a silent node is forgotten.
pub const STATS_EVERY: Duration = Duration::from_secs(2);
const STATS_TTL: Duration = Duration::from_secs(10);

/// Logged events received and not yet delivered to this node's sockets.
const LOGGED_BACKLOG: usize = 65_536;

/// Where each subscribed channel's messages go.
type Subscribers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

#[derive(Clone)]
pub struct ManagedDriver {
    /// This node, among those sharing the prefix.
    node_id: String,
    prefix: String,
    conn: ConnectionManager,
    subscribers: Subscribers,
    healthy: Arc<AtomicBool>,
    /// Stops the keepalive task when the last clone of the driver goes.
    _keepalive: Arc<DropGuard>,
}

impl ManagedDriver {
    /// Connects (RESP3: the adapter needs push messages) as node `node_id`; fails if
    /// Redis is unreachable.
    pub async fn connect(url: &str, prefix: &str, node_id: &str) -> RedisResult<Self> {
        let client = redis::Client::open(with_resp3(url))?;
        let subscribers = Subscribers::default();
        let routes = subscribers.clone();
        let config = ConnectionManagerConfig::new()
            .set_automatic_resubscription()
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500))
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_push_sender(move |push: PushInfo| {
                route(&routes, push);
                Ok::<(), std::convert::Infallible>(())
            });
        let conn = ConnectionManager::new_with_config(client, config).await?;
        let healthy = Arc::new(AtomicBool::new(true));
        let stop = CancellationToken::new();
        tokio::spawn(keepalive(conn.clone(), healthy.clone(), stop.clone()));
        Ok(Self {
            node_id: node_id.to_owned(),
            prefix: prefix.to_owned(),
            conn,
            subscribers,
            healthy,
            _keepalive: Arc::new(stop.drop_guard()),
        })
    }

    /// Whether the last keepalive ping was answered.
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The adapter constructor for `SocketIo::builder().with_adapter`.
    pub fn adapter(self) -> RedisAdapterCtr<Self> {
        let config = RedisAdapterConfig::new()
            .with_prefix(self.prefix.clone())
            .with_request_timeout(Duration::from_secs(2));
        RedisAdapterCtr::new_with_driver(self, config)
    }

    fn stats_key(&self) -> String {
        format!("{}:stats", self.prefix)
    }

    /// The channel of logged events: every node, the publishing one included, delivers
    /// them to its sockets in the order Redis received them (see `Publisher::logged`).
    fn logged_channel(&self) -> String {
        format!("{}:logged", self.prefix)
    }

    pub async fn publish_logged(&self, message: Vec<u8>) -> RedisResult<()> {
        Driver::publish(self, self.logged_channel(), message).await
    }

    /// Stops `subscribe_logged`'s stream (shutdown: this node's sockets are closing).
    pub async fn unsubscribe_logged(&self) -> RedisResult<()> {
        Driver::unsubscribe(self, self.logged_channel()).await
    }

    /// Logged events from every node, in Redis order. Room for many: a message that
    /// does not fit is dropped (and logged), as the adapter's are.
    pub async fn subscribe_logged(&self) -> RedisResult<mpsc::Receiver<ChanItem>> {
        let (sink, stream) = mpsc::channel(LOGGED_BACKLOG);
        let channel = self.logged_channel();
        self.write_subscribers().insert(channel.clone(), sink);
        if let Err(error) = self.conn.clone().subscribe(&channel).await {
            self.write_subscribers().remove(&channel);
            return Err(error);
        }
        Ok(stream)
    }

    /// Publishes this node's stats for the others' `/ws/stats`.
    pub async fn share_stats(&self, stats: &NodeStats) -> RedisResult<()> {
        let json = serde_json::to_string(stats).unwrap_or_default();
        self.conn
            .clone()
            .hset::<_, _, _, ()>(self.stats_key(), &self.node_id, json)
            .await
    }

    /// Adds `change` to this node's count of the user's sockets and returns the user's
    /// sockets on every live node, atomically (one script). Counts of nodes that stopped
    /// reporting stats (crashed) are dropped.
    pub async fn count_presence(&self, user_id: &str, change: i64) -> RedisResult<usize> {
        let fresh_after = chrono::Utc::now().timestamp_millis() - STATS_TTL.as_millis() as i64;
        let total: i64 = redis::Script::new(PRESENCE_SCRIPT)
            .key(format!("{}:presence:{user_id}", self.prefix))
            .key(self.stats_key())
            .arg(&self.node_id)
            .arg(change)
            .arg(fresh_after)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(usize::try_from(total).unwrap_or(0))
    }

    /// Withdraws this node's stats (shutdown).
    pub async fn withdraw_stats(&self) -> RedisResult<()> {
        self.conn
            .clone()
            .hdel::<_, _, ()>(self.stats_key(), &self.node_id)
            .await
    }

    /// The other nodes' latest stats. A node that has not reported for a while is
    /// gone (it crashed, or lost Redis) and is forgotten.
    pub async fn other_nodes_stats(&self) -> RedisResult<Vec<NodeStats>> {
        let mut conn = self.conn.clone();
        let all: HashMap<String, String> = conn.hgetall(self.stats_key()).await?;
        let fresh_after = chrono::Utc::now().timestamp_millis() - STATS_TTL.as_millis() as i64;
        let mut nodes = Vec::new();
        for (node_id, json) in all {
            match serde_json::from_str::<NodeStats>(&json) {
                Ok(node) if node.reported_at >= fresh_after => {
                    if node_id != self.node_id {
                        nodes.push(node);
                    }
                }
                _ => conn.hdel::<_, _, ()>(self.stats_key(), &node_id).await?,
            }
        }
        nodes.sort_by(|a, b| a.node_id.cmp(&b.node_id));
        Ok(nodes)
    }
}

/// The `redis` crate speaks RESP3 only when the URL asks for it.
fn with_resp3(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    }
}

fn route(subscribers: &Subscribers, push: PushInfo) {
    if push.kind != PushKind::Message {
        return;
    }
    let mut data = push.data.into_iter();
    let (Some(channel), Some(payload)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(channel), Ok(payload)) = (
        String::from_redis_value(channel),
        Vec::<u8>::from_redis_value(payload),
    ) else {
        return;
    };
    let subscribers = subscribers.read().unwrap_or_else(|e| e.into_inner());
    if let Some(sink) = subscribers.get(&channel)
        && sink.try_send((channel, payload)).is_err()
    {
        tracing::warn!("a cluster message was dropped: its channel is full");
    }
}

/// Pings Redis every second: an idle connection manager only reconnects when a command
/// fails, and the health flag is what `/ready` reports.
async fn keepalive(mut conn: ConnectionManager, healthy: Arc<AtomicBool>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(KEEPALIVE) => {}
        }
        let up = redis::cmd("PING")
            .query_async::<redis::Value>(&mut conn)
            .await
            .is_ok();
        if healthy.swap(up, Ordering::Relaxed) != up {
            if up {
                tracing::info!("redis is reachable again: cross-node delivery resumes");
            } else {
                tracing::error!("redis is unreachable: serving this node's sockets only");
            }
        }
        telemetry::record_redis_up(up);
    }
}

impl Driver for ManagedDriver {
    type Error = RedisError;

    async fn publish(&self, channel: String, payload: Vec<u8>) -> Result<(), RedisError> {
        self.conn
            .clone()
            .publish::<_, _, redis::Value>(channel, payload)
            .await
            .map(drop)
    }

    async fn subscribe(
        &self,
        channel: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, RedisError> {
        let (sink, stream) = mpsc::channel(size);
        self.write_subscribers().insert(channel.clone(), sink);
        if let Err(error) = self.conn.clone().subscribe(&channel).await {
            self.write_subscribers().remove(&channel);
            return Err(error);
        }
        Ok(MessageStream::new(stream))
    }

    async fn unsubscribe(&self, channel: String) -> Result<(), RedisError> {
        self.write_subscribers().remove(&channel);
        self.conn.clone().unsubscribe(channel).await
    }

    async fn num_serv(&self, channel: &str) -> Result<u16, RedisError> {
        let (_, count): (String, u16) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(count)
    }
}

impl ManagedDriver {
    fn write_subscribers(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, HashMap<String, mpsc::Sender<ChanItem>>> {
        self.subscribers.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_ask_for_resp3() {
        assert_eq!(
            with_resp3("redis://h:6379"),
            "redis://h:6379?protocol=resp3"
        );
        assert_eq!(
            with_resp3("redis://h/0?x=1"),
            "redis://h/0?x=1&protocol=resp3"
        );
        assert_eq!(
            with_resp3("redis://h/?protocol=resp3"),
            "redis://h/?protocol=resp3"
        );
    }
}

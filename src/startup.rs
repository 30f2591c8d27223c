//! Application: connects and migrates the database, builds the Socket.IO layer and the
//! HTTP router, binds the listener, and runs until told to stop.

use std::{
    future::{Future, IntoFuture},
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{Extensions, HeaderMap, HeaderName, HeaderValue, Request},
    serve::ListenerExt,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, sqlx,
    sqlx::sqlite::{SqliteAutoVacuum, SqliteJournalMode, SqliteSynchronous},
};
use socketioxide::SocketIo;
use tokio::net::{TcpListener, TcpSocket};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_http::{
    cors::{AllowHeaders, AllowMethods, AllowOrigin, Any, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::{Level, Span};
use uuid::Uuid;

use crate::{
    auth::Credentials,
    broker::{
        Publisher,
        cluster::{ClusterAdapter, ManagedDriver},
    },
    config::{Config, ConfigError},
    docs, http,
    limits::{Limits, RateByCaller},
    services::{
        self, Services, operations,
        publish_order::PublishOrder,
        retention::{self, Pruned},
    },
    socket::{self, admin_ui},
    state::AppState,
    telemetry,
};

/// How long shutdown waits for open requests and in-flight writes.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
const WS_READ_BUFFER_BYTES: usize = 1024;
const WAL_CHECKPOINT_PAGES: u32 = 10_000;
const STATEMENT_CACHE_CAPACITY: usize = 1024;
const ROW_BUFFER_ROWS: usize = 4096;
/// How long a request waits for a database connection.
const DATABASE_WAIT: Duration = Duration::from_secs(3);
/// Connections the kernel queues before they are accepted. tokio's default (128, the
/// standard library's) overflows when thousands of dashboards reconnect at once after a
/// restart, and each refused SYN waits a second for its retry (Node listens with 511).
const LISTEN_BACKLOG: u32 = 1024;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("cannot listen: {0}")]
    Bind(#[from] std::io::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("cluster: {0}")]
    Cluster(String),
}

pub struct Application {
    listener: TcpListener,
    /// How long a connection may leave the server's writes unacknowledged.
    stall_timeout: Duration,
    router: Router,
    state: Arc<AppState>,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        config.validate()?;
        if config.uses_dev_key() {
            tracing::warn!(
                "DEVELOPMENT MODE: the API key `dev` (role admin) is accepted. \
                 Set PULSO_API_KEYS, and PULSO_ENV=production in production."
            );
        }
        let implicit = config.implicit_delegating_keys();
        if implicit > 0 {
            tracing::warn!(
                "PULSO_API_KEYS: {implicit} key(s) written `key:role` speak for any user_id a \
                 client names. Write `key:role:USER` to bind a key to one user, or \
                 `key:role:*` for a trusted service (production requires one or the other)."
            );
        }
        if config.uses_dev_jwt_secret() {
            tracing::warn!(
                "DEVELOPMENT MODE: tokens signed with the published development secret are \
                 accepted. Set PULSO_JWT_SECRET (32+ bytes)."
            );
        }
        let db = connect_database(&config.database_url).await?;
        Migrator::up(&db, None).await?;
        reclaim_space_incrementally(&db).await?;
        // Logged before this process: delivered to none of its sockets.
        let last_logged = services::events::last_id(&db).await?;

        let max_payload = usize::try_from(config.max_payload_bytes).unwrap_or(usize::MAX);
        let builder = SocketIo::builder()
            .ping_interval(config.ping_interval())
            .ping_timeout(config.ping_timeout())
            // socketioxide limits each transport separately: set them all.
            .max_payload(config.max_payload_bytes)
            .ws_max_message_size(max_payload)
            .ws_max_frame_size(max_payload)
            // Every socket keeps its read buffer for life. Commands are small; a larger
            // frame still gets room for its whole length, read a buffer at a time (a
            // smaller buffer cost commands throughput: bench/README.md).
            .ws_read_buffer_size(WS_READ_BUFFER_BYTES)
            .max_buffer_size(config.max_buffer_packets as usize);
        // This process, as sessions, heartbeats and the other nodes name it: a restarted
        // server is a new node, so the sessions of the one that died are dated by its
        // last heartbeat.
        let node: Arc<str> = Uuid::new_v4().to_string().into();
        let publish_order = Arc::new(match (&config.redis_url, db.get_database_backend()) {
            (Some(_), DbBackend::Postgres) => {
                PublishOrder::across_nodes(connect_lock_session(&config.database_url).await?)
            }
            _ => PublishOrder::default(),
        });
        let state_with = |publisher: Publisher, cluster: Option<ManagedDriver>| {
            Arc::new(AppState {
                services: Services {
                    db,
                    publisher,
                    sqlite_writer: Default::default(),
                    publish_order: publish_order.clone(),
                    order_queue: Default::default(),
                    unread_queue: Default::default(),
                    session_queue: Default::default(),
                    replays: Default::default(),
                    node: node.clone(),
                    publish_rate: Arc::new(RateByCaller::new(config.publish_rate_limit)),
                },
                auth: config.authenticator(),
                writes: TaskTracker::new(),
                production: config.is_production(),
                relay: config.relay,
                retention: config.retention(),
                heartbeat: config.ping_interval(),
                recovery: config.recovery(),
                presence: Default::default(),
                limits: Limits::from_config(&config),
                slots: Default::default(),
                cluster,
                admin_ui: config.admin_ui,
                started: Instant::now(),
            })
        };
        // One node keeps rooms in memory; several share them through Redis.
        let (state, router) = match &config.redis_url {
            None => {
                let (layer, io) = builder.build_layer();
                let publisher = Publisher::new(io.clone(), config.recovery, None, last_logged);
                let state = state_with(publisher, None);
                socket::register(&io, state.clone());
                if let Some(settings) = config.admin_ui() {
                    admin_ui::register(&io, state.clone(), settings);
                }
                (state.clone(), routes(state, &config).layer(layer))
            }
            Some(url) => {
                let driver = ManagedDriver::connect(url, &config.redis_prefix, &node).await?;
                let adapter = driver.clone().adapter();
                let (layer, io) = builder
                    .with_adapter::<ClusterAdapter>(adapter)
                    .build_layer();
                let publisher = Publisher::new(
                    io.clone(),
                    config.recovery,
                    Some(driver.clone()),
                    last_logged,
                );
                tokio::spawn(
                    publisher
                        .clone()
                        .deliver_logged(driver.subscribe_logged().await?),
                );
                let state = state_with(publisher, Some(driver));
                socket::register(&io, state.clone())
                    .await
                    .map_err(|e| StartupError::Cluster(e.to_string()))?;
                if let Some(settings) = config.admin_ui() {
                    admin_ui::register(&io, state.clone(), settings)
                        .await
                        .map_err(|e| StartupError::Cluster(e.to_string()))?;
                }
                (state.clone(), routes(state, &config).layer(layer))
            }
        };

        if state.recovery.enabled {
            // Sessions opened from now on are on a node known to be alive.
            state.services.heartbeat(state.recovery.window).await?;
        }
        telemetry::prometheus();
        let router = router
            .layer(axum::middleware::map_request(detach_socket_request))
            .layer(cors(&config))
            // Every request gets an `x-request-id` (kept if the caller sent one, echoed in
            // the response) and a span carrying it, so its log lines name it.
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span as fn(&Request<Body>) -> Span)
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
        let listener = listen(config.addr)?;
        Ok(Self {
            listener,
            stall_timeout: config.ping_interval() + config.ping_timeout(),
            router,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then stops accepting, closes every socket,
    /// and waits (up to a grace period) for open requests and in-flight writes.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = self.local_addr();
        tracing::info!(
            %addr,
            "pulso listening on http://{addr} (socket.io path /socket.io/, REST /api); \
             connect with io(\"http://{addr}\", {{ auth: {{ api_key, user_id }} }})"
        );
        let stopping = CancellationToken::new();
        let publisher = self.state.services.publisher.clone();
        tokio::spawn({
            let stopping = stopping.clone();
            async move {
                shutdown.await;
                tracing::info!("shutting down: closing sockets, finishing writes");
                stopping.cancel();
                publisher.close().await;
            }
        });
        tokio::spawn(metrics_upkeep(stopping.clone()));
        tokio::spawn(prune(self.state.clone(), stopping.clone()));
        if self.state.recovery.enabled {
            tokio::spawn(heartbeats(self.state.clone(), stopping.clone()));
        }
        // Before the first socket: other nodes count this node's sockets as present only
        // while it reports its stats.
        if let Some(cluster) = &self.state.cluster {
            operations::share_stats_now(&self.state.services, self.state.heartbeat, cluster).await;
        }
        let sharing = self.state.cluster.clone().map(|cluster| {
            tokio::spawn(operations::share_stats(
                self.state.services.clone(),
                self.state.heartbeat,
                cluster,
                stopping.clone(),
            ))
        });
        let stall_timeout = self.stall_timeout;
        let listener = self
            .listener
            .tap_io(move |tcp| tune_connection(tcp, stall_timeout));
        let serve = axum::serve(listener, self.router)
            .with_graceful_shutdown(stopping.clone().cancelled_owned())
            .into_future();
        tokio::pin!(serve);
        let result = tokio::select! {
            result = &mut serve => result,
            () = stopping.cancelled() => {
                // Shutdown has begun: open requests get the grace period, no longer.
                match tokio::time::timeout(SHUTDOWN_GRACE, &mut serve).await {
                    Ok(result) => result,
                    Err(_) => {
                        tracing::warn!("shutdown: open connections did not finish in time");
                        Ok(())
                    }
                }
            }
        };
        if let Some(sharing) = sharing {
            let _ = sharing.await;
        }
        self.state.writes.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.state.writes.wait())
            .await
            .is_err()
        {
            tracing::warn!("shutdown: some writes did not finish in time");
        }
        if let Err(error) = self.state.services.db.close_by_ref().await {
            tracing::warn!(%error, "shutdown: database did not close cleanly");
        }
        tracing::info!("pulso stopped");
        result
    }
}

/// Small realtime messages go out at once (no Nagle delay). And a client that stops
/// reading leaves the server's writes unacknowledged forever (a zero TCP window). On a
/// WebSocket it stops answering pings too, and the heartbeat ends it; an HTTP response
/// (REST, long-polling) has no heartbeat, and would keep its connection and buffers
/// alive: `TCP_USER_TIMEOUT` has the kernel drop such a connection after the heartbeat
/// budget, so it is closed (`raw_protocol` tests both).
fn tune_connection(tcp: &mut tokio::net::TcpStream, stall_timeout: Duration) {
    let tuned = tcp
        .set_nodelay(true)
        .and_then(|()| socket2::SockRef::from(&*tcp).set_tcp_user_timeout(Some(stall_timeout)));
    if let Err(error) = tuned {
        tracing::warn!(%error, "could not tune a connection");
    }
}

/// Folds histogram samples into buckets now and then, so memory stays bounded when
/// nothing scrapes `/metrics`.
async fn metrics_upkeep(stopping: CancellationToken) {
    let mut every = tokio::time::interval(telemetry::METRICS_UPKEEP);
    loop {
        tokio::select! {
            _ = every.tick() => telemetry::prometheus().run_upkeep(),
            () = stopping.cancelled() => return,
        }
    }
}

/// engineioxide keeps each socket's handshake request (URI, headers, extensions) for
/// the socket's lifetime, and pulso reads only the credentials from it, at connect. As
/// hyper hands it over, the URI and headers share the connection's read buffer, and
/// axum's `OriginalUri` holds it too. So a Socket.IO request goes in with its URI
/// copied, only the headers that are read after this layer (the credentials, and what
/// the Engine.IO transports read: the WebSocket key, a polling POST's content type) and
/// only the extension the WebSocket upgrade needs.
async fn detach_socket_request(request: Request<Body>) -> Request<Body> {
    if !request.uri().path().starts_with("/socket.io") {
        return request;
    }
    let (mut parts, body) = request.into_parts();
    if let Ok(uri) = parts.uri.to_string().parse() {
        parts.uri = uri;
    }
    let kept: Vec<(HeaderName, HeaderValue)> = Credentials::HEADERS
        .into_iter()
        .chain(["sec-websocket-key", "content-type"])
        .flat_map(|name| {
            parts
                .headers
                .get_all(name)
                .into_iter()
                .filter_map(move |value| {
                    let value = HeaderValue::from_bytes(value.as_bytes()).ok()?;
                    Some((HeaderName::from_static(name), value))
                })
        })
        .collect();
    // Sized to fit: a map grown one header at a time starts with room for six.
    let mut headers = HeaderMap::with_capacity(kept.len());
    headers.extend(kept);
    parts.headers = headers;
    let upgrade = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
    parts.extensions = Extensions::new();
    if let Some(upgrade) = upgrade {
        parts.extensions.insert(upgrade);
    }
    Request::from_parts(parts, body)
}

/// Every HTTP route: the API, the documents describing it and the sockets, and the Admin
/// UI's page. All of them before the socket.io layer: a layer wraps only the routes (and
/// the fallback) added before it, and the socket.io layer answers through that fallback.
fn routes(state: Arc<AppState>, config: &Config) -> Router {
    let router = http::routes()
        .merge(docs::routes())
        .into_parts()
        .0
        .with_state(state);
    match config.admin_ui_page() {
        Some(dir) => router.merge(http::admin_page::router(dir)),
        None => router,
    }
}

/// The span of one HTTP request: its request id (set by `SetRequestIdLayer`), method
/// and path. Only the path: query strings may carry credentials.
fn request_span(request: &Request<Body>) -> Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "http",
        method = %request.method(),
        path = request.uri().path(),
        request_id,
    )
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As `TcpListener::bind` does: a restarted server binds its port at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// One PostgreSQL connection of its own, whose session holds the lock that orders
/// publications across nodes (`services::publish_order`).
async fn connect_lock_session(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .max_connections(1)
        .acquire_timeout(DATABASE_WAIT);
    Database::connect(options).await
}

pub async fn connect_database(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    // A pooled SQLite connection is a local file handle that cannot go stale: pinging it
    // on every checkout only costs a round trip to its worker thread.
    let is_sqlite = url.starts_with("sqlite:");
    options
        .sqlx_logging(false)
        .test_before_acquire(!is_sqlite)
        // While the database cannot be reached (or opened for writing), requests fail
        // after this long instead of queueing for a connection.
        .acquire_timeout(DATABASE_WAIT)
        // An in-memory SQLite database lives only while a connection is open.
        .min_connections(1)
        .idle_timeout(None::<Duration>)
        .max_lifetime(None::<Duration>)
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                // So pruning can give pages back to the file system (a new file takes it
                // here; an older one in `reclaim_space_incrementally`).
                .auto_vacuum(SqliteAutoVacuum::Incremental)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // SQLite checkpoints (and fsyncs) the WAL into the database every 1 000
                // pages by default: a stall every few batches of orders under load. What
                // a power cut may roll back (`synchronous = NORMAL` syncs at checkpoints)
                // is at most this much WAL (docs/operations.md; the gain is measured in
                // bench/README.md).
                .pragma("wal_autocheckpoint", WAL_CHECKPOINT_PAGES.to_string())
                // A batch's statements differ in text by their row count, so a busy
                // writer uses hundreds; sqlx's default cache of 100 prepared statements
                // made it prepare them again and again.
                .statement_cache_capacity(STATEMENT_CACHE_CAPACITY)
                // Rows come back from SQLite's thread through a channel of 50 by default;
                // a batch's event insert returns more ids than that, and each time the
                // channel filled the thread stopped until the runtime drained it (a
                // wake-up each way). The channel grows only as rows queue up.
                .row_buffer_size(ROW_BUFFER_ROWS)
        })
        .map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|conn, _| Box::pin(async move { prove_writable(conn).await }))
        })
        .map_sqlx_sqlite_before_acquire(|conn, _| Box::pin(async move { Ok(is_clean(conn)) }))
        .map_sqlx_postgres_before_acquire(|conn, _| Box::pin(async move { Ok(is_clean(conn)) }));
    Database::connect(options).await
}

/// SQLite opens a file it may not write (a read-only file system, an immutable file)
/// read-only without saying so, and such a connection stays read-only after the file is
/// writable again. A connection is used only if it can take the write lock, so a server
/// whose connection was replaced during such a fault writes again as soon as it can.
async fn prove_writable(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    // BEGIN IMMEDIATE succeeds on such a connection; changing the header does not. The
    // change is rolled back: nothing reaches the disk.
    conn.execute("BEGIN IMMEDIATE").await?;
    let written = conn.execute("PRAGMA user_version = 0").await;
    conn.execute("ROLLBACK").await?;
    written.map(drop)
}

/// A SQLite file made before pulso set incremental auto-vacuum keeps every page it ever
/// used. It is rebuilt once (VACUUM, which needs as much free disk as the file and
/// blocks writers while it runs), so retention's pruning can give space back.
async fn reclaim_space_incrementally(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite
        || retention::pragma(db, "auto_vacuum").await? == retention::INCREMENTAL
    {
        return Ok(());
    }
    tracing::info!("rebuilding the SQLite file once (VACUUM) so pruning can give space back");
    db.execute_unprepared("PRAGMA auto_vacuum = INCREMENTAL; VACUUM")
        .await
        .map(drop)
}

/// A pooled connection must not be handed out inside a transaction. When a COMMIT or a
/// statement fails (a full disk, an I/O error, a lost server), the rollback that follows
/// may fail too (SQLite may have rolled back already, or still be busy), and the driver
/// then still counts a transaction as open: the next "transaction" would only be a
/// savepoint nested in it, and its "commit" would write nothing durable. Such a
/// connection is discarded (closing it rolls back whatever was open) and the pool opens
/// a fresh one.
fn is_clean<C: sqlx::Connection>(conn: &C) -> bool {
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::error!("discarding a database connection left inside a failed transaction");
    }
    clean
}

/// Named origins may send credentials: the Admin UI's long-polling does (pulso itself
/// reads none, it sets no cookie). Any origin (development) may not: browsers refuse
/// credentials with `*`.
fn cors(config: &Config) -> CorsLayer {
    if config.allows_any_origin() {
        return CorsLayer::new()
            .allow_origin(AllowOrigin::any())
            .allow_methods(Any)
            .allow_headers(Any);
    }
    let origins = config
        .allowed_origins()
        .filter_map(|origin| HeaderValue::from_str(origin).ok());
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods(AllowMethods::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
        .allow_credentials(true)
}

/// Keeps the event log and the inbox within their retention. Every node prunes: the
/// batches are small and a second node's pass finds what the first removed already gone.
async fn prune(state: Arc<AppState>, stopping: CancellationToken) {
    let mut ticks = tokio::time::interval(state.retention.every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while stopping.run_until_cancelled(ticks.tick()).await.is_some() {
        match state.services.prune(&state.retention).await {
            Ok(pruned) if pruned == Pruned::default() => {}
            Ok(pruned) => tracing::info!(
                events = pruned.events,
                notifications = pruned.notifications,
                idempotency_keys = pruned.idempotency_keys,
                pages = pruned.pages,
                "pruned past retention"
            ),
            Err(error) => tracing::warn!(%error, "not pruned: trying again later"),
        }
    }
}

/// Says every few seconds that this node is alive (a session on a node that stopped
/// saying so is dated by its last heartbeat) and sweeps the sessions nobody can recover.
async fn heartbeats(state: Arc<AppState>, stopping: CancellationToken) {
    let window = state.recovery.window;
    let every = (window / 4).clamp(Duration::from_millis(250), Duration::from_secs(15));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while stopping.run_until_cancelled(ticks.tick()).await.is_some() {
        if let Err(error) = state.services.heartbeat(window).await {
            tracing::warn!(%error, "node heartbeat not recorded: sessions on this node may expire early");
        }
    }
}

//! Test harness: the real server, built by the same `Application` as `main`, on port 0
//! with its own fresh database (in-memory SQLite, or PostgreSQL when
//! `PULSO_TEST_DATABASE_URL` is set) migrated by the real migrator, driven by real
//! clients (`rust_socketio` and HTTP).

use std::{
    collections::BTreeSet,
    future::Future,
    sync::{
        Arc, Once,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures_util::FutureExt;
use pulso::{
    auth::ApiKeys,
    config::{Config, Environment},
    startup::Application,
};
use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use crate::database::{TestDatabase, postgres_url};
use futures_util::{SinkExt, StreamExt};
use rust_socketio::{
    Payload, TransportType,
    asynchronous::{Client, ClientBuilder},
};
use serde_json::{Value, json};
use std::process::Stdio;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    net::{TcpSocket, TcpStream},
    process::{Child, Command},
    sync::{Mutex, Notify, oneshot},
    task::JoinHandle,
};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, client_async, tungstenite::Message};

/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(5);

pub const ADMIN_KEY: &str = "dev";
pub const STAFF_KEY: &str = "staff-key";
pub const VIEWER_KEY: &str = "viewer-key";
/// A producer's backend (`service` role), speaking for the user it names.
pub const SERVICE_KEY: &str = "service-key";
pub const PRODUCTION_ADMIN_KEY: &str = "production-admin-key";

pub struct TestApp {
    pub url: String,
    http: reqwest::Client,
    config: Config,
    database: Option<TestDatabase>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    /// The server's own process, when it runs as the binary.
    process: Option<Child>,
}

/// A server with one key per role on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The same, with settings changed by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    start(TestDatabase::create(false).await, adjust).await
}

/// A server whose data survives `restart`, and that `sibling`s can share (SQLite keeps
/// it in a file).
pub async fn spawn_durable_app() -> TestApp {
    spawn_durable_app_with(|_| {}).await
}

pub async fn spawn_durable_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    start(TestDatabase::create(true).await, adjust).await
}

/// A server on a database the test prepared.
pub async fn spawn_app_on(database: TestDatabase) -> TestApp {
    start(database, |_| {}).await
}

/// A server in production mode, whose only key is `PRODUCTION_ADMIN_KEY`.
pub async fn spawn_production_app() -> TestApp {
    spawn_app_with(|config| {
        config.set_environment(Environment::Production);
        config.set_api_keys(
            ApiKeys::parse(&format!("{PRODUCTION_ADMIN_KEY}:admin:*")).expect("keys parse"),
        );
        config.set_jwt_secret("a-production-secret-of-32-bytes-or-more");
    })
    .await
}

/// The real binary in a process of its own, for what only a whole process shows (its
/// memory): the same keys and a fresh database, with `env` set on top.
pub async fn spawn_binary_app(env: &[(&str, &str)]) -> TestApp {
    let database = TestDatabase::create(true).await;
    let mut process = Command::new(env!("CARGO_BIN_EXE_pulso"))
        .env_clear()
        .env("PULSO_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", &database.url)
        .env("PULSO_LOG_FORMAT", "json")
        .env(
            "PULSO_API_KEYS",
            format!("{ADMIN_KEY}:admin:*,{STAFF_KEY}:staff:*,{VIEWER_KEY}:viewer:*,{SERVICE_KEY}:service:*"),
        )
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("pulso binary starts");
    let mut lines = BufReader::new(process.stdout.take().expect("stdout")).lines();
    let addr = tokio::time::timeout(WAIT, async {
        loop {
            let line = lines.next_line().await.expect("stdout readable");
            let line: Value =
                serde_json::from_str(&line.expect("the server starts")).expect("a JSON log line");
            if let Some(addr) = line["addr"].as_str() {
                return addr.to_owned();
            }
        }
    })
    .await
    .expect("the server listens in time");
    // The rest of its log, read so that the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    TestApp {
        url: format!("http://{addr}"),
        http: reqwest::Client::new(),
        config: Config::development(&database.url),
        database: Some(database),
        stop: None,
        server: None,
        process: Some(process),
    }
}

/// A process's resident memory, in KiB.
pub fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

async fn start(database: TestDatabase, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = Config::development(&database.url);
    // Keys that speak for any user, as the seeds' dashboards use them (`api_key` plus
    // the `user_id` a test names); keys bound to one user are tested in `isolation`.
    config.set_api_keys(
        ApiKeys::parse(&format!(
            "{ADMIN_KEY}:admin:*,{STAFF_KEY}:staff:*,{VIEWER_KEY}:viewer:*,{SERVICE_KEY}:service:*"
        ))
        .expect("keys parse"),
    );
    adjust(&mut config);
    let mut app = run(config).await;
    app.database = Some(database);
    app
}

/// Panics raised outside the tests' own code (in the server or a library it calls)
/// since the first server started: a hostile input must never cause one, even where
/// tokio would catch it and the client only sees a dropped answer.
pub fn server_panics() -> usize {
    SERVER_PANICS.load(Ordering::SeqCst)
}

static SERVER_PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_server_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_tests = info
                .location()
                .is_some_and(|at| at.file().starts_with("tests/"));
            if !in_tests {
                SERVER_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
}

async fn run(config: Config) -> TestApp {
    count_server_panics();
    pulso::telemetry::init(config.log_format);
    let app = Application::build(config.clone())
        .await
        .expect("server builds");
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        url: format!("http://{addr}"),
        http: reqwest::Client::new(),
        config,
        database: None,
        stop: Some(stop),
        server: Some(server),
        process: None,
    }
}

impl TestApp {
    /// Stops the server the way SIGTERM does, waits until it has finished, and
    /// removes its database.
    pub async fn stop(mut self) {
        self.halt().await;
        if let Some(database) = self.database.take() {
            database.remove().await;
        }
    }

    /// Stops the server and starts it again on the same database and settings.
    pub async fn restart(mut self) -> TestApp {
        self.halt().await;
        let mut again = run(self.config.clone()).await;
        again.database = self.database.take();
        again
    }

    /// A second server on the same database, like another node behind a load balancer.
    /// Stop it before this one: this one owns the database.
    pub async fn sibling(&self) -> TestApp {
        run(self.config.clone()).await
    }

    /// A client of a server a test started by itself (a process whose output it reads).
    pub fn at(url: &str) -> TestApp {
        TestApp {
            url: url.to_owned(),
            http: reqwest::Client::new(),
            config: Config::development("sqlite::memory:"),
            database: None,
            stop: None,
            server: None,
            process: None,
        }
    }

    /// The id of the server's process (this one's, for a server in the tests' process).
    pub fn pid(&self) -> u32 {
        match &self.process {
            Some(process) => process.id().expect("the server runs"),
            None => std::process::id(),
        }
    }

    async fn halt(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill().await.expect("the server process ends");
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(15), server)
                .await
                .expect("server stops in time")
                .expect("server task")
                .expect("server ran cleanly");
        }
    }

    /// The server's database, for tests that look at or prepare it directly.
    pub fn database_url(&self) -> &str {
        &self.config.database_url
    }

    /// A REST call as the admin user `u1`.
    pub async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.api_as(ADMIN_KEY, "u1", method, path, body).await
    }

    pub async fn api_as(
        &self,
        key: &str,
        user: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("X-API-Key", key)
            .header("X-User-Id", user);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    /// A raw request (no credentials added), for malformed-input tests.
    pub fn raw(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.url))
    }

    /// A socket as `user` with `key`, polling upgraded to WebSocket.
    pub async fn socket(&self, key: &str, user: &str) -> TestSocket {
        self.socket_with(
            json!({ "api_key": key, "user_id": user }),
            TransportType::Any,
        )
        .await
    }

    pub async fn socket_with(&self, auth: Value, transport: TransportType) -> TestSocket {
        TestSocket::connect(&self.url, auth, transport).await
    }

    /// Creates a client and an item with `sku`; returns the client id (for order tests).
    pub async fn seed(&self, sku: &str, quantity: i64, threshold: i64) -> i64 {
        let (status, client) = self
            .api(
                Method::POST,
                "/api/clients",
                Some(json!({ "name": "Seed Client" })),
            )
            .await;
        assert_eq!(status, 201, "{client}");
        let (status, item) = self
            .api(
                Method::POST,
                "/api/inventory",
                Some(json!({ "sku": sku, "name": "Seed item", "quantity": quantity, "low_stock_threshold": threshold })),
            )
            .await;
        assert_eq!(status, 201, "{item}");
        client["id"].as_i64().expect("client id")
    }
}

/// Speaks Engine.IO v4 long-polling by hand to read the server's answer to a namespace
/// connect: `40{...}` on success, `44{"message":...}` (connect_error) on refusal.
pub async fn raw_connect(app: &TestApp, query: &str, auth: Value) -> String {
    raw_connect_to(app, "/", query, auth).await
}

/// The same, to `namespace`.
pub async fn raw_connect_to(app: &TestApp, namespace: &str, query: &str, auth: Value) -> String {
    let (status, open) = send(app.raw(
        Method::GET,
        &format!("/socket.io/?EIO=4&transport=polling{query}"),
    ))
    .await;
    assert_eq!(status, 200);
    let open = open.as_str().expect("text handshake").to_owned();
    let handshake: Value = serde_json::from_str(&open[1..]).expect("open packet");
    let sid = handshake["sid"].as_str().expect("sid");
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}{query}");
    let connect = match namespace {
        "/" => format!("40{auth}"),
        namespace => format!("40{namespace},{auth}"),
    };
    let (status, _) = send(app.raw(Method::POST, &path).body(connect)).await;
    assert_eq!(status, 200);
    // The first heartbeat PING may come first; read until the namespace answer.
    for _ in 0..3 {
        let (_, body) = send(app.raw(Method::GET, &path)).await;
        let body = body
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| body.to_string());
        if let Some(answer) = body.split('\u{1e}').find(|p| p.starts_with("4")) {
            return answer.to_owned();
        }
    }
    panic!("no namespace answer");
}

/// Polls `check` until it yields a value; fails the test, naming `what`, after `limit`.
/// For state that converges (a freed slot, a counter, a node's report); events are
/// awaited on the socket instead.
pub async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {what} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body read");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Everything a socket received, in order, until a test takes it.
#[derive(Default)]
struct Inbox {
    events: Mutex<Vec<(String, Value)>>,
    arrived: Notify,
}

pub struct TestSocket {
    client: Client,
    inbox: Arc<Inbox>,
}

impl TestSocket {
    pub async fn connect(url: &str, auth: Value, transport: TransportType) -> TestSocket {
        let greeting = "connection_established";
        Self::connect_to(url, "/", auth, transport, greeting, first_arg).await
    }

    /// Connects to `namespace`, keeping `keep` of each event's arguments, and waits for
    /// `greeting`, the event that says the namespace accepted the socket.
    pub async fn connect_to(
        url: &str,
        namespace: &str,
        auth: Value,
        transport: TransportType,
        greeting: &str,
        keep: fn(Payload) -> Value,
    ) -> TestSocket {
        let inbox = Arc::new(Inbox::default());
        let sink = inbox.clone();
        let connecting = ClientBuilder::new(url)
            .namespace(namespace)
            .auth(auth)
            .transport_type(transport)
            .reconnect(false)
            .on("close", {
                let sink = inbox.clone();
                move |_, _| {
                    let sink = sink.clone();
                    async move {
                        sink.events.lock().await.push(("close".into(), Value::Null));
                        sink.arrived.notify_waiters();
                    }
                    .boxed()
                }
            })
            .on_any(move |event, payload, _| {
                let sink = sink.clone();
                async move {
                    let value = keep(payload);
                    sink.events.lock().await.push((String::from(event), value));
                    sink.arrived.notify_waiters();
                }
                .boxed()
            })
            .connect();
        // Where the server answers no Engine.IO handshake, rust_socketio tries forever.
        let client = tokio::time::timeout(WAIT, connecting)
            .await
            .expect("the socket connects in time")
            .expect("socket connects");
        let socket = TestSocket { client, inbox };
        // rust_socketio returns before the server has accepted the namespace, and an
        // event sent before that is a protocol error. The greeting says it is accepted.
        socket.wait_for(greeting, false).await;
        socket
    }

    /// Waits for the next `event` (others stay in the inbox for later).
    pub async fn event(&self, event: &str) -> Value {
        self.wait_for(event, true).await
    }

    /// Waits for the next event named one of `names`, and takes it: the order in which
    /// several kinds of event arrived.
    pub async fn next_of(&self, names: &[&str]) -> (String, Value) {
        self.wait_for_any(names, true).await
    }

    async fn wait_for(&self, event: &str, take: bool) -> Value {
        self.wait_for_any(&[event], take).await.1
    }

    async fn wait_for_any(&self, names: &[&str], take: bool) -> (String, Value) {
        tokio::time::timeout(WAIT, async {
            loop {
                let arrived = self.inbox.arrived.notified();
                tokio::pin!(arrived);
                arrived.as_mut().enable();
                {
                    let mut events = self.inbox.events.lock().await;
                    let found = events.iter().position(|(name, _)| names.contains(&&**name));
                    if let Some(at) = found {
                        return if take {
                            events.remove(at)
                        } else {
                            events[at].clone()
                        };
                    }
                }
                arrived.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("none of {names:?} within {WAIT:?}"))
    }

    /// Events of this name that have arrived and not been taken yet.
    pub async fn received(&self, event: &str) -> Vec<Value> {
        let events = self.inbox.events.lock().await;
        events
            .iter()
            .filter(|(name, _)| name == event)
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// Sends a command and waits for its ack.
    pub async fn ack(&self, event: &str, payload: Value) -> Value {
        self.try_ack(event, payload)
            .await
            .unwrap_or_else(|problem| panic!("{problem}"))
    }

    /// Sends a command and waits for its ack, saying what went wrong if none came.
    pub async fn try_ack(&self, event: &str, payload: Value) -> Result<Value, String> {
        let (tx, rx) = oneshot::channel();
        let tx = Arc::new(std::sync::Mutex::new(Some(tx)));
        self.client
            .emit_with_ack(event, payload, WAIT, move |reply, _| {
                if let Some(tx) = tx.lock().expect("ack lock").take() {
                    // rust_socketio hands an ack's arguments over as one array.
                    let reply = match first_arg(reply) {
                        Value::Array(mut args) if args.len() == 1 => args.swap_remove(0),
                        other => other,
                    };
                    let _ = tx.send(reply);
                }
                async {}.boxed()
            })
            .await
            .map_err(|e| format!("`{event}` not sent: {e}"))?;
        tokio::time::timeout(WAIT, rx)
            .await
            .map_err(|_| format!("no ack for `{event}` within {WAIT:?}"))?
            .map_err(|_| format!("the ack for `{event}` was dropped"))
    }

    /// Sends a command, asserts it succeeded, returns its `data`.
    pub async fn ok(&self, event: &str, payload: Value) -> Value {
        let reply = self.ack(event, payload).await;
        assert_eq!(reply["ok"], true, "`{event}` failed: {reply}");
        reply["data"].clone()
    }

    /// Sends a command, asserts it failed with `code`, returns the error.
    pub async fn err(&self, event: &str, payload: Value, code: &str) -> Value {
        let reply = self.ack(event, payload).await;
        assert_eq!(reply["ok"], false, "`{event}` should fail: {reply}");
        assert_eq!(reply["error"]["code"], code, "`{event}`: {reply}");
        reply["error"].clone()
    }

    pub async fn disconnect(self) {
        let _ = self.client.disconnect().await;
    }

    /// Sends an event with these arguments, asking no ack.
    pub async fn emit(&self, event: &str, args: Vec<Value>) {
        self.client
            .emit(event, Payload::Text(args))
            .await
            .expect("event sent");
    }
}

/// Every argument of an event, as an array.
pub fn every_arg(payload: Payload) -> Value {
    match payload {
        Payload::Text(values) => Value::Array(values),
        other => Value::Array(vec![first_arg(other)]),
    }
}

fn first_arg(payload: Payload) -> Value {
    match payload {
        Payload::Text(mut values) if !values.is_empty() => values.swap_remove(0),
        Payload::Text(_) => Value::Null,
        #[allow(deprecated)]
        Payload::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        Payload::Binary(bytes) => Value::String(format!("<{} bytes>", bytes.len())),
    }
}

/// The ids of every committed client, and the client ids of every `client_created`
/// event, read through a connection of the test's own.
pub async fn committed_clients(database_url: &str) -> (BTreeSet<i64>, BTreeSet<i64>) {
    let db = Database::connect(database_url)
        .await
        .expect("database opens");
    let ids = |sql: &str| {
        let db = &db;
        let sql = sql.to_owned();
        async move {
            db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("query")
                .into_iter()
                .map(|row| row.try_get_by_index::<i64>(0).expect("id"))
                .collect::<BTreeSet<i64>>()
        }
    };
    let clients = ids("SELECT id FROM clients").await;
    let client_id = match db.get_database_backend() {
        DbBackend::Postgres => "CAST(data->>'id' AS BIGINT)",
        _ => "CAST(json_extract(data, '$.id') AS INTEGER)",
    };
    let events = ids(&format!(
        "SELECT {client_id} FROM events WHERE type = 'client_created'"
    ))
    .await;
    db.close().await.expect("database closes");
    (clients, events)
}

/// One string field of every event in a `GET /api/events` page, in order (`pointer` is a
/// JSON pointer into the envelope, e.g. `/type` or `/data/name`).
pub fn event_strings<'a>(page: &'a Value, pointer: &str) -> Vec<&'a str> {
    page["events"]
        .as_array()
        .expect("an events page")
        .iter()
        .map(|event| event.pointer(pointer).and_then(Value::as_str).unwrap())
        .collect()
}

/// The fields an error names (`error.fields`), in order.
pub fn field_names(error: &Value) -> Vec<&str> {
    error["fields"]
        .as_object()
        .unwrap_or_else(|| panic!("no fields named: {error}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// The sum of the series starting with `name` (a metric name, or a name with its
/// labels) in Prometheus text output; 0 when absent.
pub fn series(text: &str, name: &str) -> f64 {
    text.lines()
        .filter_map(|line| line.strip_prefix(name))
        .filter(|rest| rest.starts_with([' ', '{']))
        .filter_map(|rest| rest.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub async fn metrics(app: &TestApp) -> String {
    page(app, "/metrics", "text/plain").await
}

/// The body of `GET path`, asserting a 200 whose content type starts with `kind`.
pub async fn page(app: &TestApp, path: &str, kind: &str) -> String {
    let response = app.raw(Method::GET, path).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with(kind), "{content_type}");
    response.text().await.unwrap()
}

/// A WebSocket client that writes Engine.IO v4 / Socket.IO v5 frames by hand.
pub struct RawSocket {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl RawSocket {
    /// A TCP connection to the server whose receive buffer is small and fixed, so a
    /// client that stops reading shows at once.
    pub async fn tcp(app: &TestApp) -> TcpStream {
        let addr = app
            .url
            .trim_start_matches("http://")
            .parse()
            .expect("address");
        let tcp = TcpSocket::new_v4().expect("socket");
        tcp.set_recv_buffer_size(4096).expect("receive buffer");
        tcp.connect(addr).await.expect("tcp connects")
    }

    /// Opens a WebSocket-only Engine.IO session, without joining any namespace, on a
    /// `tcp` connection.
    pub async fn open(app: &TestApp) -> RawSocket {
        let url = format!(
            "{}/socket.io/?EIO=4&transport=websocket",
            app.url.replacen("http", "ws", 1)
        );
        let stream = RawSocket::tcp(app).await;
        let (ws, _) = client_async(url, MaybeTlsStream::Plain(stream))
            .await
            .expect("websocket opens");
        let mut socket = RawSocket { ws };
        let open = socket.next_text().await.expect("open packet");
        assert!(open.starts_with("0{"), "{open}");
        socket
    }

    /// Opens a session and joins `/` as a staff user.
    pub async fn connected(app: &TestApp) -> RawSocket {
        let mut socket = RawSocket::open(app).await;
        socket
            .send(&format!(
                "40{}",
                json!({ "api_key": STAFF_KEY, "user_id": "raw" })
            ))
            .await;
        let answer = socket.next_text().await.expect("namespace answer");
        assert!(answer.starts_with("40{"), "{answer}");
        socket
    }

    pub async fn send(&mut self, frame: &str) {
        // A send to a connection the server already closed is part of what is tested.
        let _ = self.ws.send(Message::Text(frame.to_owned())).await;
    }

    /// The next text frame (answering pings), or `None` once the server has closed.
    pub async fn next_text(&mut self) -> Option<String> {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("the server answers or closes in time");
            match message {
                Some(Ok(Message::Text(text))) if text == "2" => self.send("3").await,
                Some(Ok(Message::Text(text))) => return Some(text),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                Some(Ok(_)) => {}
            }
        }
    }

    /// Sends command `event` with ack id `id` and asserts its ack says `ok: true`;
    /// returns its `data`.
    pub async fn ok(&mut self, id: u32, event: &str, payload: Value) -> Value {
        self.send(&format!("42{id}{}", json!([event, payload])))
            .await;
        let ack = self
            .until(&format!("43{id}["))
            .await
            .unwrap_or_else(|| panic!("the connection closed before the ack for `{event}`"));
        let reply: Value = serde_json::from_str(&ack[format!("43{id}").len()..])
            .unwrap_or_else(|_| panic!("a malformed ack {ack}"));
        assert_eq!(reply[0]["ok"], true, "`{event}` failed: {ack}");
        reply[0]["data"].clone()
    }

    /// Reads until a frame starting with `prefix`, or `None` if the server closes first.
    pub async fn until(&mut self, prefix: &str) -> Option<String> {
        while let Some(text) = self.next_text().await {
            if text.starts_with(prefix) {
                return Some(text);
            }
        }
        None
    }
}

/// A viewer `user` whose only rooms (besides its own user and role rooms) are `rooms`.
pub async fn only_in(app: &TestApp, user: &str, rooms: &[String]) -> TestSocket {
    let auth = json!({ "api_key": VIEWER_KEY, "user_id": user, "rooms": rooms });
    let socket = app
        .socket_with(auth, rust_socketio::TransportType::Any)
        .await;
    let greeting = socket.event("connection_established").await;
    let mut expected = rooms.to_vec();
    expected.extend([format!("user:{user}"), "role:viewer".to_owned()]);
    let mut joined: Vec<String> = serde_json::from_value(greeting["rooms"].clone()).unwrap();
    joined.sort();
    expected.sort();
    assert_eq!(joined, expected);
    socket
}

/// For tests of what only SQLite has: false in the PostgreSQL pass of the suite (which
/// says so), as the SQLite pass runs them.
pub fn sqlite_pass(test: &str) -> bool {
    if postgres_url().is_some() {
        println!("SKIPPED {test}: SQLite's own (it runs in the SQLite pass)");
        return false;
    }
    true
}

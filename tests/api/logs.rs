//! The real binary as an operator runs it. Its logs: with `PULSO_LOG_FORMAT=json` one
//! JSON object per line; HTTP lines carry a request id, socket lines the socket and
//! user ids, command lines their name, outcome and duration; refusals their reason; no
//! secrets or bodies. Its exit codes: 1 for a configuration it refuses or a Redis it
//! cannot reach, 0 after SIGTERM, which lets in-flight writes finish.

use std::{
    net::TcpListener,
    process::{ExitStatus, Output, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use pulso::auth::jwt::JwtSecret;
use reqwest::Method;
use rust_socketio::TransportType;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, ChildStdout, Command},
    sync::{Mutex, Notify},
};

use crate::helpers::*;

const SECRET_KEY: &str = "a-secret-admin-key-for-logs";
const PRIVATE_BODY: &str = "a-private-message-body";

/// Every line the server printed, each parsed as JSON (a line that is not fails).
#[derive(Default)]
struct LogLines {
    lines: Mutex<Vec<Value>>,
    raw: Mutex<String>,
    arrived: Notify,
}

impl LogLines {
    fn follow(stdout: ChildStdout) -> Arc<Self> {
        let logs = Arc::new(LogLines::default());
        let sink = logs.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| json!({ "not_json": line, "error": e.to_string() }));
                sink.raw.lock().await.push_str(&line);
                sink.lines.lock().await.push(value);
                sink.arrived.notify_waiters();
            }
        });
        logs
    }

    /// Waits for a line that matches.
    async fn wait_for(&self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        tokio::time::timeout(WAIT, async {
            loop {
                let arrived = self.arrived.notified();
                tokio::pin!(arrived);
                arrived.as_mut().enable();
                if let Some(line) = self.lines.lock().await.iter().find(|l| matches(l)) {
                    return line.clone();
                }
                arrived.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no log line with {what}"))
    }
}

fn server_command(database: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pulso"));
    command
        .env_clear()
        .env("PULSO_ADDR", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", database.display()),
        )
        .env("PULSO_LOG_FORMAT", "json")
        .env("PULSO_API_KEYS", format!("{SECRET_KEY}:admin"))
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Sends SIGTERM, as a supervisor stops a server, and waits for the process to end.
async fn terminate(server: &mut Child) -> ExitStatus {
    let pid = server.id().expect("running").to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(signalled.success());
    tokio::time::timeout(Duration::from_secs(15), server.wait())
        .await
        .expect("the server stops on SIGTERM")
        .expect("exit status")
}

/// The binary serving `database`, with `env` on top of the usual settings; its log
/// followed, and a client of it once it says where it listens.
async fn serve(
    database: &std::path::Path,
    env: &[(&str, &str)],
) -> (Child, Arc<LogLines>, TestApp) {
    let mut server = server_command(database)
        .envs(env.iter().copied())
        .stderr(Stdio::null())
        .spawn()
        .expect("pulso binary starts");
    let logs = LogLines::follow(server.stdout.take().unwrap());
    let line = logs
        .wait_for("the listening address", |l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("pulso listening"))
        })
        .await;
    let app = TestApp::at(&format!("http://{}", line["addr"].as_str().unwrap()));
    (server, logs, app)
}

/// Runs the binary with `env` on top of the usual settings until it exits by itself,
/// which must be soon.
async fn run_until_exit(env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let run = server_command(&dir.path().join("exit.db"))
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .output();
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("the process exits by itself in time")
        .expect("pulso runs")
}

/// The address from the server's `pulso listening` line.
async fn listening_url(stdout: &mut tokio::io::Lines<BufReader<ChildStdout>>) -> String {
    loop {
        let line = tokio::time::timeout(WAIT, stdout.next_line())
            .await
            .expect("the server starts in time")
            .expect("stdout readable")
            .expect("the server prints where it listens");
        let line: Value = serde_json::from_str(&line).expect("a JSON log line");
        if let Some(addr) = line["addr"].as_str() {
            return format!("http://{addr}");
        }
    }
}

#[tokio::test]
async fn json_logs_name_requests_sockets_and_commands_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, logs, app) = serve(&dir.path().join("logs.db"), &[]).await;
    let url = &app.url;

    let http = reqwest::Client::new();
    let response = http
        .request(
            Method::GET,
            format!("{url}/api/notifications?api_key={SECRET_KEY}&user_id=ops"),
        )
        .header("x-request-id", "req-logs-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let finished = logs
        .wait_for("the request id", |l| {
            l["span"]["request_id"] == "req-logs-1" && l["status"].is_number()
        })
        .await;
    assert_eq!(finished["span"]["path"], "/api/notifications");
    assert_eq!(finished["status"], 200);

    let socket = TestSocket::connect(
        url,
        json!({ "api_key": SECRET_KEY, "user_id": "ops" }),
        TransportType::Any,
    )
    .await;
    let socket_id = socket.event("connection_established").await["socket_id"].clone();
    let connected = logs
        .wait_for("the socket connecting", |l| {
            l["message"] == "socket connected"
        })
        .await;
    assert_eq!(connected["socket_id"], socket_id);
    assert_eq!(connected["user_id"], "ops");
    // The key speaks for any user (`key:admin`): every connection through it is logged,
    // naming the key by a fingerprint only.
    let delegated = logs
        .wait_for("the delegating key", |l| {
            l["message"] == "connection through a delegating API key"
        })
        .await;
    assert_eq!(delegated["socket_id"], socket_id);
    assert!(
        delegated["key"].as_str().is_some_and(|key| key.len() == 8),
        "{delegated}"
    );

    socket
        .ok(
            "notification:send",
            json!({ "user_id": "ops", "subject": "s", "message": PRIVATE_BODY }),
        )
        .await;
    let command = logs
        .wait_for("the command", |l| l["message"] == "command")
        .await;
    assert_eq!(command["command"], "notification:send");
    assert_eq!(command["outcome"], "ok");
    assert_eq!(command["socket_id"], socket_id);
    assert_eq!(command["user_id"], "ops");
    assert!(command["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    socket.disconnect().await;
    logs.wait_for("the socket leaving", |l| {
        l["message"] == "socket disconnected"
    })
    .await;

    let lines = logs.lines.lock().await;
    assert!(
        lines.iter().all(|l| l.get("not_json").is_none()),
        "every line is JSON"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string())
    );
    let raw = logs.raw.lock().await;
    assert!(!raw.contains(SECRET_KEY), "the API key was logged");
    assert!(!raw.contains(PRIVATE_BODY), "a message body was logged");
    server.start_kill().unwrap();
}

/// A supervisor's log pipe breaking (`pulso | tee` with `tee` killed): every later log
/// write fails. Logging is best-effort: the server keeps answering and still stops
/// cleanly on SIGTERM.
#[tokio::test]
async fn a_closed_log_pipe_never_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = server_command(&dir.path().join("logs.db"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("pulso binary starts");
    let mut stdout = BufReader::new(server.stdout.take().unwrap()).lines();
    let url = listening_url(&mut stdout).await;
    // Both read ends closed: the server's writes to stdout and stderr now fail (EPIPE).
    drop(stdout);
    drop(server.stderr.take());

    let http = reqwest::Client::new();
    for _ in 0..3 {
        let health = http.get(format!("{url}/health")).send().await;
        assert_eq!(health.expect("/health answers").status(), 200);
    }
    let socket = TestSocket::connect(
        &url,
        json!({ "api_key": SECRET_KEY, "user_id": "ops" }),
        TransportType::Any,
    )
    .await;
    socket
        .ok("client:create", json!({ "name": "logged nowhere" }))
        .await;
    socket.disconnect().await;

    let status = terminate(&mut server).await;
    assert!(status.success(), "{status}");
}

/// Settings that carry secrets never show their values: not in `--help` (which prints
/// what the environment holds), not in the error for a malformed value.
#[tokio::test]
async fn help_and_configuration_errors_hide_secret_values() {
    let secrets = [
        ("PULSO_API_KEYS", "hidden-key-value:admin:*"),
        ("PULSO_JWT_SECRET", "hidden-jwt-secret-value"),
        ("REDIS_URL", "redis://:hidden-redis-password@127.0.0.1:1"),
        (
            "DATABASE_URL",
            "postgres://pulso:hidden-db-password@127.0.0.1:1/pulso",
        ),
    ];
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pulso"));
        command.args(args).env_clear();
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().expect("pulso runs")
    };
    let help = run(&["--help"], &secrets);
    assert!(help.status.success());
    let shown = String::from_utf8_lossy(&help.stdout);
    for (name, _) in secrets {
        assert!(shown.contains(name), "--help documents {name}");
    }
    assert!(!shown.contains("hidden"), "--help shows a secret: {shown}");

    let refused = run(&[], &[("PULSO_API_KEYS", "hidden-key-value:root")]);
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("PULSO_API_KEYS entry 1: unknown role `root`"),
        "{said}"
    );
    assert!(!said.contains("hidden"), "the error shows the key: {said}");
}

/// `ENVIRONMENT` (what older deployments set) alone makes a production server, which
/// refuses the development key, naming the setting.
#[tokio::test]
async fn environment_alone_makes_a_production_server() {
    let refused = run_until_exit(&[
        ("ENVIRONMENT", "production"),
        ("PULSO_API_KEYS", "dev:admin:*"),
    ])
    .await;
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(
        said.trim_end(),
        "pulso: could not start: invalid configuration: PULSO_API_KEYS must not contain \
         the development key `dev` in production"
    );
}

#[tokio::test]
async fn an_invalid_environment_stops_the_process_with_its_message() {
    let refused = run_until_exit(&[("ENVIRONMENT", "staging")]).await;
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(
        said.trim_end(),
        "pulso: invalid configuration: ENVIRONMENT=`staging` is not one of development, \
         production"
    );
}

/// `PULSO_ENV` wins over `ENVIRONMENT`: a development server with the development key
/// serves, and stops with exit code 0 on SIGTERM.
#[tokio::test]
async fn pulso_env_wins_over_environment() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("PULSO_ENV", "development"),
        ("ENVIRONMENT", "production"),
        ("PULSO_API_KEYS", "dev:admin:*"),
    ];
    let (mut server, _logs, app) = serve(&dir.path().join("env.db"), &env).await;
    let (status, _) = app.api(Method::GET, "/api/clients", None).await;
    assert_eq!(status, 200, "the development key works");
    assert_eq!(terminate(&mut server).await.code(), Some(0));
}

/// A node told to share rooms through Redis never serves alone: it exits with 1 when
/// Redis does not answer, soon, and never says it listens.
#[tokio::test]
async fn an_unreachable_redis_stops_the_process() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let url = format!("redis://127.0.0.1:{closed}");
    let refused = run_until_exit(&[("REDIS_URL", &url)]).await;
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.starts_with("pulso: could not start: redis: "),
        "{said}"
    );
    let logged = String::from_utf8_lossy(&refused.stdout);
    assert!(!logged.contains("pulso listening"), "{logged}");
}

/// SIGTERM in the middle of a stream of writes: the process exits 0, every write that
/// was acknowledged is committed with its event, none failed, and none is half written.
#[tokio::test]
async fn sigterm_lets_in_flight_writes_finish() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shutdown.db");
    let unlimited = [
        ("PULSO_RATE_LIMIT", "100000"),
        ("PULSO_RATE_BURST", "100000"),
    ];
    let (mut server, logs, app) = serve(&file, &unlimited).await;
    let acked = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let socket = app.socket(SECRET_KEY, &format!("writer-{writer}")).await;
        let acked = acked.clone();
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            // Until the server closes the socket: then the last command gets no ack.
            for n in 0.. {
                let name = format!("writer {writer} client {n}");
                let Ok(reply) = socket
                    .try_ack("client:create", json!({ "name": name }))
                    .await
                else {
                    break;
                };
                assert_eq!(reply["ok"], true, "a write failed: {reply}");
                ids.push(reply["data"]["id"].as_i64().expect("client id"));
                acked.fetch_add(1, Ordering::SeqCst);
            }
            ids
        }));
    }
    eventually("40 acknowledged writes", WAIT, || async {
        (acked.load(Ordering::SeqCst) >= 40).then_some(())
    })
    .await;
    assert_eq!(terminate(&mut server).await.code(), Some(0));

    let mut acknowledged = std::collections::BTreeSet::new();
    for writer in writers {
        acknowledged.extend(writer.await.expect("writer"));
    }
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let (clients, events) = committed_clients(&url).await;
    assert!(
        acknowledged.is_subset(&clients),
        "acknowledged writes missing: {:?}",
        acknowledged.difference(&clients)
    );
    assert_eq!(
        clients, events,
        "a client without its event, or the reverse"
    );
    let lines = logs.lines.lock().await;
    let failures: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["level"] == "ERROR" || l["message"] == "shutdown: some writes did not finish in time"
        })
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(lines.iter().any(|l| l["message"] == "pulso stopped"));
}

/// A refused socket (wrong key, token signed with another secret) and a refused REST
/// call each log why, and the log never holds the credential they sent.
#[tokio::test]
async fn refusals_are_logged_with_their_reason_but_not_the_credential() {
    const WRONG_KEY: &str = "a-wrong-key-that-must-not-be-logged";
    let forged = JwtSecret::new("another-secret-than-the-servers-own-32b").sign(&json!({
        "sub": "mallory", "role": "admin", "exp": chrono::Utc::now().timestamp() + 3600
    }));
    let dir = tempfile::tempdir().unwrap();
    let (mut server, logs, app) = serve(&dir.path().join("refusals.db"), &[]).await;

    // The line says what was refused, and why in the words the client was told.
    let refusal = |what: &'static str, why: &'static str| {
        move |l: &Value| l["message"] == what && l["error"] == why
    };
    let answer = raw_connect(&app, "", json!({ "api_key": WRONG_KEY, "user_id": "u" })).await;
    assert!(answer.starts_with("44"), "{answer}");
    let socket = "connection refused";
    let line = logs
        .wait_for(
            "a refused key",
            refusal(socket, "unauthorized: unknown api key"),
        )
        .await;
    assert_eq!(
        (&line["level"], &line["reason"]),
        (&json!("INFO"), &json!("unauthorized"))
    );

    let answer = raw_connect(&app, "", json!({ "token": forged })).await;
    assert!(answer.starts_with("44"), "{answer}");
    logs.wait_for(
        "a refused token",
        refusal(socket, "unauthorized: invalid token signature"),
    )
    .await;

    let (status, body) = app
        .api_as(WRONG_KEY, "u", Method::GET, "/api/clients", None)
        .await;
    assert_eq!(status, 401, "{body}");
    let line = logs
        .wait_for(
            "a refused request",
            refusal("request refused", "unauthorized: unknown api key"),
        )
        .await;
    assert_eq!(line["span"]["path"], "/api/clients");

    let raw = logs.raw.lock().await;
    assert!(!raw.contains(WRONG_KEY), "the wrong key was logged");
    assert!(!raw.contains(&forged), "the token was logged");
    // Nor its signature alone (the part a forger would want to see checked).
    assert!(!raw.contains(forged.rsplit('.').next().unwrap()));
    server.start_kill().unwrap();
}

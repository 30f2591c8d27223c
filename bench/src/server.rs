//! Starting the servers under test: each on a free loopback port, with a fresh SQLite
//! file in its own temporary directory, the same API keys and heartbeat settings.

use std::{
    fs::File,
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use serde::Serialize;

use crate::{client::Error, common::API_KEYS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Pulso,
    Node,
    /// The Node reference committing as pulso does: the commands of one event-loop turn
    /// in one transaction, acks before events (`BENCH_GROUP_COMMIT=1`).
    NodeBatched,
    Python,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Pulso, Kind::Node, Kind::NodeBatched, Kind::Python];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Pulso => "pulso",
            Kind::Node => "node",
            Kind::NodeBatched => "node-batched",
            Kind::Python => "python",
        }
    }
}

/// socket.io's defaults, for every server (pulso's own default interval is 30 s).
const PING_INTERVAL_MS: &str = "25000";
const PING_TIMEOUT_MS: &str = "20000";

/// The workspace root (bench/ is one of its members).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ lives in the workspace")
        .to_path_buf()
}

pub fn python_venv() -> PathBuf {
    root().join("target/bench-python-venv")
}

/// How to start pulso: its binary, optionally a database other than the fresh SQLite
/// file, and settings of its own (retention, for `prune` and `soak`).
#[derive(Debug, Clone, Default)]
pub struct Programs {
    pub pulso: PathBuf,
    pub pulso_database_url: Option<String>,
    pub pulso_env: Vec<(&'static str, String)>,
}

pub struct Server {
    pub addr: SocketAddr,
    pub pid: u32,
    kind: Kind,
    programs: Programs,
    child: Child,
    dir: PathBuf,
}

impl Server {
    pub fn start(kind: Kind, programs: &Programs) -> Result<Server, Error> {
        static RUN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "pulso-bench-{}-{n}-{}",
            std::process::id(),
            kind.name()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let any_port = "127.0.0.1:0".parse().expect("valid");
        match spawn(kind, programs, &dir, any_port) {
            Ok((child, addr)) => Ok(Server {
                addr,
                pid: child.id(),
                kind,
                programs: programs.clone(),
                child,
                dir,
            }),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    /// SIGKILL, as when the machine dies: no shutdown, nothing flushed or said to the
    /// clients but what the kernel does (it closes the sockets).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the same server again on the same address and database (after `kill`),
    /// so that its clients reconnect to the same URL.
    pub fn restart(&mut self) -> Result<(), Error> {
        let (child, addr) = spawn(self.kind, &self.programs, &self.dir, self.addr)?;
        self.pid = child.id();
        self.child = child;
        self.addr = addr;
        Ok(())
    }

    /// SIGTERM, then SIGKILL if it has not exited after a few seconds.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Starts `kind` in `dir` (its SQLite file `bench.db` there) listening on `bind`;
/// returns the process and the address it bound once it says it listens.
fn spawn(
    kind: Kind,
    programs: &Programs,
    dir: &Path,
    bind: SocketAddr,
) -> Result<(Child, SocketAddr), Error> {
    let db = dir.join("bench.db");
    let bind = bind.to_string();
    let reference = root().join("bench/reference");
    let mut command = match kind {
        Kind::Pulso => {
            let mut c = Command::new(&programs.pulso);
            let url = programs
                .pulso_database_url
                .clone()
                .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", db.display()));
            c.env("PULSO_ADDR", &bind)
                .env("DATABASE_URL", url)
                .env("PULSO_ENV", "development")
                .env("PULSO_API_KEYS", API_KEYS)
                .env("PULSO_PING_INTERVAL_MS", PING_INTERVAL_MS)
                .env("PULSO_PING_TIMEOUT_MS", PING_TIMEOUT_MS)
                .env("PULSO_LOG_FORMAT", "json")
                // The references have no limits: lift pulso's per-socket command rate
                // and per-user socket cap, which a load generator exceeds by design.
                .env("PULSO_RATE_LIMIT", "1000000")
                .env("PULSO_RATE_BURST", "1000000")
                .env("PULSO_MAX_CONNECTIONS_PER_USER", "100000")
                // pulso's shipped default level, unless the caller chose one.
                .env(
                    "RUST_LOG",
                    std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
                )
                .envs(programs.pulso_env.iter().map(|(k, v)| (k, v)));
            c
        }
        Kind::Node | Kind::NodeBatched => {
            let mut c = Command::new("node");
            // --expose-gc: the harness collects Node's garbage before sampling its RSS.
            c.arg("--expose-gc").arg(reference.join("node/server.js"));
            if kind == Kind::NodeBatched {
                c.env("BENCH_GROUP_COMMIT", "1");
            }
            c
        }
        Kind::Python => {
            let mut c = Command::new(python_venv().join("bin/python"));
            c.arg(reference.join("python/server.py"));
            c
        }
    };
    // Appended to: a restarted server's log follows the killed one's.
    let stderr = File::options()
        .create(true)
        .append(true)
        .open(dir.join("stderr.log"))
        .map_err(|e| e.to_string())?;
    command
        .current_dir(dir)
        .env("BENCH_ADDR", &bind)
        .env("BENCH_DB", &db)
        .env("BENCH_API_KEYS", API_KEYS)
        .env("BENCH_PING_INTERVAL_MS", PING_INTERVAL_MS)
        .env("BENCH_PING_TIMEOUT_MS", PING_TIMEOUT_MS)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", kind.name()))?;

    // Read stdout on a thread for the whole run: a server whose log pipe fills up
    // would stall. The line announcing the bound address is passed on.
    let stdout = child.stdout.take().expect("stdout is piped");
    let (found, addr_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut found = Some(found);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if found.is_some()
                && let Some(addr) = listening_addr(&line)
            {
                let _ = found.take().map(|tx| tx.send(addr));
            }
        }
    });
    match addr_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(addr) => Ok((child, addr)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
            let tail: String = log
                .chars()
                .rev()
                .take(2000)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            Err(format!(
                "{} did not start listening within 60 s:\n{tail}",
                kind.name()
            ))
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// pulso logs `{"message":"pulso listening ...","addr":"..."}`; the references
/// `{"message":"listening","addr":"..."}`.
fn listening_addr(line: &str) -> Option<SocketAddr> {
    let entry: serde_json::Value = serde_json::from_str(line).ok()?;
    let message = entry["message"].as_str()?;
    if !message.starts_with("pulso listening") && message != "listening" {
        return None;
    }
    entry["addr"].as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_listening_line() {
        let pulso = r#"{"timestamp":"x","level":"INFO","message":"pulso listening on http://127.0.0.1:5000 (...)","addr":"127.0.0.1:5000"}"#;
        assert_eq!(listening_addr(pulso), "127.0.0.1:5000".parse().ok());
        assert_eq!(
            listening_addr(r#"{"message": "listening", "addr": "127.0.0.1:7"}"#),
            "127.0.0.1:7".parse().ok()
        );
        assert_eq!(listening_addr("not json"), None);
    }
}

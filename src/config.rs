//! Configuration: one struct, read from flags and environment variables, validated
//! before anything starts. Production refuses unsafe defaults.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::{
    auth::{ApiKeys, Authenticator, Role, api_keys::entropy_bits, jwt::JwtSecret},
    telemetry::LogFormat,
};

/// The API key that exists by default in development only.
pub const DEV_API_KEY: &str = "dev";
/// Published so development tokens can be minted; refused in production.
pub const DEV_JWT_SECRET: &str = "pulso-development-secret-never-use-in-production";
const MIN_JWT_SECRET_BYTES: usize = 32;
/// A production secret must look random, not only be long (see `entropy_bits`).
const MIN_JWT_SECRET_BITS: f64 = 128.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

/// pulso: a Socket.IO-compatible realtime server for retail dashboards.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
pub struct Config {
    /// Without a command, pulso serves.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on.
    #[arg(
        long,
        env = "PULSO_ADDR",
        value_name = "PULSO_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub addr: SocketAddr,

    /// Database URL: `sqlite://FILE?mode=rwc` (default) or `postgres://...`.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        default_value = "sqlite://pulso.db?mode=rwc",
        hide_env_values = true
    )]
    pub database_url: String,

    /// Deployment environment (`ENVIRONMENT` is read too, as older deployments set it).
    #[arg(long = "env", env = "PULSO_ENV", value_name = "PULSO_ENV", value_enum)]
    environment: Option<Environment>,

    /// API keys as `key:role:user` (speaks for that user only) or `key:role:*` (speaks
    /// for any user: a trusted service), comma separated; roles admin, staff, viewer.
    /// Development defaults to the single key `dev`, an admin speaking for anyone.
    #[arg(
        long = "api-keys",
        env = "PULSO_API_KEYS",
        value_name = "PULSO_API_KEYS",
        hide_env_values = true
    )]
    api_keys_text: Option<String>,

    /// `api_keys_text` parsed by `load` (clap would echo a value it cannot parse).
    #[arg(skip)]
    api_keys: Option<ApiKeys>,

    /// Roles whose keys may speak for any user in production (`staff`, `viewer`;
    /// admin keys may always). Off by default: a browser must not hold such a key.
    #[arg(
        long,
        env = "PULSO_ALLOW_DELEGATING_KEYS",
        value_name = "PULSO_ALLOW_DELEGATING_KEYS",
        value_delimiter = ','
    )]
    pub allow_delegating_keys: Vec<Role>,

    /// Shared secret for HS256 tokens (at least 32 bytes in production). Development
    /// defaults to a published development secret.
    #[arg(
        long,
        env = "PULSO_JWT_SECRET",
        value_name = "PULSO_JWT_SECRET",
        hide_env_values = true
    )]
    jwt_secret: Option<String>,

    /// Allowed CORS origins, comma separated, or `*` for any (development only).
    #[arg(
        long,
        env = "PULSO_CORS_ORIGINS",
        value_name = "PULSO_CORS_ORIGINS",
        value_delimiter = ',',
        default_value = "http://localhost:5173,http://127.0.0.1:5173"
    )]
    pub cors_origins: Vec<String>,

    /// Socket.IO heartbeat: milliseconds between pings.
    #[arg(long, env = "PULSO_PING_INTERVAL_MS", value_name = "PULSO_PING_INTERVAL_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub ping_interval_ms: u64,

    /// Socket.IO heartbeat: milliseconds to wait for a pong before closing.
    #[arg(long, env = "PULSO_PING_TIMEOUT_MS", value_name = "PULSO_PING_TIMEOUT_MS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub ping_timeout_ms: u64,

    /// Largest message accepted, in bytes, on both HTTP long-polling and WebSocket.
    #[arg(long, env = "PULSO_MAX_PAYLOAD_BYTES", value_name = "PULSO_MAX_PAYLOAD_BYTES", default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=64 * 1024 * 1024))]
    pub max_payload_bytes: u64,

    /// Socket commands a socket may send per second (token bucket refill rate).
    #[arg(long, env = "PULSO_RATE_LIMIT", value_name = "PULSO_RATE_LIMIT", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: u32,

    /// Commands a socket may send at once before the rate applies (bucket size). A
    /// socket that keeps sending this many refused commands in a row is disconnected.
    #[arg(long, env = "PULSO_RATE_BURST", value_name = "PULSO_RATE_BURST", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_burst: u32,

    /// Sockets this node accepts at once; more are refused at connect.
    #[arg(long, env = "PULSO_MAX_CONNECTIONS", value_name = "PULSO_MAX_CONNECTIONS", default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Sockets one user may hold on this node at once (tabs, devices).
    #[arg(long, env = "PULSO_MAX_CONNECTIONS_PER_USER", value_name = "PULSO_MAX_CONNECTIONS_PER_USER", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_user: u32,

    /// Rooms one socket may be in at once (its automatic `user:` and `role:` rooms
    /// included); joining more is refused until it leaves one.
    #[arg(long, env = "PULSO_MAX_ROOMS_PER_SOCKET", value_name = "PULSO_MAX_ROOMS_PER_SOCKET", default_value_t = 100, value_parser = clap::value_parser!(u32).range(8..=100_000))]
    pub max_rooms_per_socket: u32,

    /// Packets waiting to be written to one socket. When a slow client lets it fill,
    /// further packets to it are dropped (and counted) and the socket is closed at its
    /// next heartbeat.
    #[arg(long, env = "PULSO_MAX_BUFFER_PACKETS", value_name = "PULSO_MAX_BUFFER_PACKETS", default_value_t = 256, value_parser = clap::value_parser!(u32).range(8..=65_536))]
    pub max_buffer_packets: u32,

    /// Connection state recovery: a client that reconnects within the window gets back
    /// its rooms and every event it missed, and each persisted event carries its offset
    /// as a last argument. `false`: no offsets, no sessions.
    #[arg(long, env = "PULSO_RECOVERY", value_name = "PULSO_RECOVERY", default_value_t = true, action = clap::ArgAction::Set)]
    pub recovery: bool,

    /// Relay mode: another backend owns orders, clients and inventory and publishes
    /// their events (`POST /api/publish`); pulso's own writes of them are refused, so
    /// an entity never has two owners.
    #[arg(long, env = "PULSO_RELAY", value_name = "PULSO_RELAY", default_value_t = false, action = clap::ArgAction::Set)]
    pub relay: bool,

    /// Publish requests (`POST /api/publish`, `publish`) one producer credential may
    /// make per second, on each node.
    #[arg(long, env = "PULSO_PUBLISH_RATE_LIMIT", value_name = "PULSO_PUBLISH_RATE_LIMIT", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub publish_rate_limit: u32,

    /// Seconds a session stays recoverable after its socket went away.
    #[arg(long, env = "PULSO_RECOVERY_WINDOW_SECS", value_name = "PULSO_RECOVERY_WINDOW_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub recovery_window_secs: u64,

    /// Most events one recovery replays: a client that missed more gets a new session
    /// (`socket.recovered` false, so it reloads).
    #[arg(long, env = "PULSO_RECOVERY_MAX_EVENTS", value_name = "PULSO_RECOVERY_MAX_EVENTS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub recovery_max_events: u64,

    /// Hours the event log keeps an event. At least a day: longer than any recovery
    /// window and than a producer's idempotency keys, so neither loses what it needs.
    #[arg(long, env = "PULSO_EVENT_RETENTION_HOURS", value_name = "PULSO_EVENT_RETENTION_HOURS", default_value_t = 720, value_parser = clap::value_parser!(u64).range(24..=876_000))]
    pub event_retention_hours: u64,

    /// Hours a notification is kept once its user read it (a notification to everyone:
    /// once it is this old, read or not). Unread notifications to one user are kept.
    #[arg(long, env = "PULSO_NOTIFICATION_RETENTION_HOURS", value_name = "PULSO_NOTIFICATION_RETENTION_HOURS", default_value_t = 2160, value_parser = clap::value_parser!(u64).range(24..=876_000))]
    pub notification_retention_hours: u64,

    /// Seconds between two prunings of the event log and the inbox.
    #[arg(long, env = "PULSO_PRUNE_INTERVAL_SECS", value_name = "PULSO_PRUNE_INTERVAL_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub prune_interval_secs: u64,

    /// Percent of the database's writing time pruning may take: after each of its
    /// writes it waits until its share is back under this. More catches a backlog up
    /// sooner, and commands wait behind it more often.
    #[arg(long, env = "PULSO_PRUNE_WRITER_SHARE_PERCENT", value_name = "PULSO_PRUNE_WRITER_SHARE_PERCENT", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub prune_writer_share_percent: u32,

    /// Serve the Socket.IO Admin UI's protocol on the `/admin` namespace.
    #[arg(long, env = "PULSO_ADMIN_UI", value_name = "PULSO_ADMIN_UI", default_value_t = false, action = clap::ArgAction::Set)]
    pub admin_ui: bool,

    /// Origins the Admin UI page is served from (e.g. `https://admin.socket.io`, or a
    /// copy on `http://127.0.0.1:8081`), comma separated: allowed by CORS when the
    /// Admin UI is on.
    #[arg(
        long,
        env = "PULSO_ADMIN_UI_ORIGINS",
        value_name = "PULSO_ADMIN_UI_ORIGINS",
        value_delimiter = ','
    )]
    pub admin_ui_origins: Vec<String>,

    /// A copy of the Admin UI's page (the `ui/dist` folder of the npm package
    /// `@socket.io/admin-ui`), served at `/admin/`: the page then calls pulso from its
    /// own origin, so PULSO_ADMIN_UI_ORIGINS need not name it.
    #[arg(long, env = "PULSO_ADMIN_UI_DIR", value_name = "PULSO_ADMIN_UI_DIR")]
    pub admin_ui_dir: Option<PathBuf>,

    /// The Admin UI only watches: it may not make sockets join or leave rooms, nor
    /// disconnect them.
    #[arg(long, env = "PULSO_ADMIN_READONLY", value_name = "PULSO_ADMIN_READONLY", default_value_t = false, action = clap::ArgAction::Set)]
    pub admin_readonly: bool,

    /// The Admin UI's user name (with PULSO_ADMIN_PASSWORD_HASH).
    #[arg(
        long,
        env = "PULSO_ADMIN_USERNAME",
        value_name = "PULSO_ADMIN_USERNAME"
    )]
    pub admin_username: Option<String>,

    /// A bcrypt hash of the Admin UI's password (`pulso hash-password` makes one).
    #[arg(
        long,
        env = "PULSO_ADMIN_PASSWORD_HASH",
        value_name = "PULSO_ADMIN_PASSWORD_HASH",
        hide_env_values = true
    )]
    pub admin_password_hash: Option<String>,

    /// Redis (7 or newer) shared by several pulso nodes, e.g. `redis://127.0.0.1:6379`.
    /// Unset: one node, rooms in memory.
    #[arg(
        long,
        env = "REDIS_URL",
        value_name = "REDIS_URL",
        hide_env_values = true
    )]
    pub redis_url: Option<String>,

    /// Prefix of pulso's Redis channels and keys; nodes of one deployment share it.
    #[arg(
        long,
        env = "PULSO_REDIS_PREFIX",
        value_name = "PULSO_REDIS_PREFIX",
        default_value = "pulso"
    )]
    pub redis_prefix: String,

    /// Log output: human-readable `pretty` or one JSON object per line.
    #[arg(
        long,
        env = "PULSO_LOG_FORMAT",
        value_name = "PULSO_LOG_FORMAT",
        value_enum,
        default_value = "pretty"
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run, roll back or list the database migrations, without starting the server.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Read a password on standard input and print its bcrypt hash, for
    /// PULSO_ADMIN_PASSWORD_HASH.
    HashPassword,
    /// Copy the SQLite database to FILE while the server may be running: a consistent
    /// snapshot (SQLite's `VACUUM INTO`). FILE must not exist.
    Backup { file: PathBuf },
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the newest migrations.
    Down {
        /// How many to roll back.
        #[arg(default_value_t = 1)]
        steps: u32,
    },
    /// List the migrations and whether each is applied.
    Status,
}

/// Who may sign in to the Admin UI, and whether it may act or only watch.
#[derive(Debug, Clone)]
pub struct AdminUi {
    pub login: AdminLogin,
    pub readonly: bool,
}

#[derive(Debug, Clone)]
pub enum AdminLogin {
    /// No login configured: development only.
    Anyone,
    Password {
        username: String,
        password_hash: String,
        /// Signs the UI's sessions (`PULSO_JWT_SECRET`: every node has it, so a session
        /// begun on one is good on all).
        session_secret: JwtSecret,
    },
}

/// How long the event log and the inbox keep what they hold, and how often they are
/// pruned.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub events: Duration,
    pub read_notifications: Duration,
    pub every: Duration,
    /// Percent of the writing time pruning may take.
    pub writer_share_percent: u32,
}

/// Connection state recovery settings (`PULSO_RECOVERY*`).
#[derive(Debug, Clone, Copy)]
pub struct Recovery {
    pub enabled: bool,
    /// How long after its socket went away a session may be recovered.
    pub window: Duration,
    /// Most events one recovery replays.
    pub max_events: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Parses flags and environment, then validates. Exits on `--help` or a flag error.
    pub fn load() -> Result<Self, ConfigError> {
        let mut config = Self::parse();
        if let Some(text) = &config.api_keys_text {
            config.api_keys = Some(ApiKeys::parse(text).map_err(ConfigError)?);
        }
        if config.environment.is_none() {
            config.environment = match std::env::var("ENVIRONMENT") {
                Ok(raw) => Some(Environment::from_str(&raw, true).map_err(|_| {
                    ConfigError(format!(
                        "ENVIRONMENT=`{raw}` is not one of development, production"
                    ))
                })?),
                Err(_) => None,
            };
        }
        // Serving validates the rest in `Application::build`; migrations need only the
        // database.
        Ok(config)
    }

    /// The development defaults with the given database (tests and embedding use this).
    /// The process environment is not read: a developer's `REDIS_URL` or `PULSO_*` must
    /// not reach a test server.
    pub fn development(database_url: &str) -> Self {
        let defaults = Self::command()
            .mut_args(|arg| arg.env(None::<&str>))
            .get_matches_from(["pulso"]);
        let mut config =
            Self::from_arg_matches(&defaults).expect("the defaults are a valid configuration");
        config.addr = "127.0.0.1:0".parse().expect("literal address");
        config.database_url = database_url.to_owned();
        config.environment = Some(Environment::Development);
        config.api_keys = None;
        config.jwt_secret = None;
        config
    }

    /// The Admin UI's settings, when it is on.
    pub fn admin_ui(&self) -> Option<AdminUi> {
        let login = match (&self.admin_username, &self.admin_password_hash) {
            (Some(username), Some(password_hash)) => AdminLogin::Password {
                username: username.clone(),
                password_hash: password_hash.clone(),
                // Production requires one; without it the Admin UI stays off.
                session_secret: self.jwt_secret()?,
            },
            _ => AdminLogin::Anyone,
        };
        let readonly = self.admin_readonly;
        self.admin_ui.then_some(AdminUi { login, readonly })
    }

    /// The folder of the Admin UI's page, when the Admin UI is on and pulso serves it.
    pub fn admin_ui_page(&self) -> Option<&Path> {
        self.admin_ui_dir.as_deref().filter(|_| self.admin_ui)
    }

    fn validate_admin_ui(&self) -> Result<(), ConfigError> {
        let hash = self.admin_password_hash.as_deref();
        if self.admin_username.is_some() != hash.is_some() {
            return Err(ConfigError(
                "PULSO_ADMIN_USERNAME and PULSO_ADMIN_PASSWORD_HASH go together: set both".into(),
            ));
        }
        if hash.is_some_and(|hash| hash.parse::<bcrypt::HashParts>().is_err()) {
            return Err(ConfigError(
                "PULSO_ADMIN_PASSWORD_HASH is not a bcrypt hash: make one with `pulso hash-password`"
                    .into(),
            ));
        }
        if let Some(dir) = &self.admin_ui_dir {
            if !self.admin_ui {
                return Err(ConfigError(
                    "PULSO_ADMIN_UI_DIR serves the Admin UI's page: it needs PULSO_ADMIN_UI=true"
                        .into(),
                ));
            }
            if !dir.join("index.html").is_file() {
                return Err(ConfigError(format!(
                    "PULSO_ADMIN_UI_DIR `{}` has no index.html: name the `ui/dist` folder of @socket.io/admin-ui",
                    dir.display()
                )));
            }
        }
        if self.admin_ui && self.is_production() && hash.is_none() {
            return Err(ConfigError(
                "PULSO_ADMIN_UI needs PULSO_ADMIN_USERNAME and PULSO_ADMIN_PASSWORD_HASH in production"
                    .into(),
            ));
        }
        Ok(())
    }

    pub fn retention(&self) -> Retention {
        Retention {
            events: Duration::from_secs(self.event_retention_hours * 3600),
            read_notifications: Duration::from_secs(self.notification_retention_hours * 3600),
            every: Duration::from_secs(self.prune_interval_secs),
            writer_share_percent: self.prune_writer_share_percent,
        }
    }

    pub fn recovery(&self) -> Recovery {
        Recovery {
            enabled: self.recovery,
            window: Duration::from_secs(self.recovery_window_secs),
            max_events: self.recovery_max_events,
        }
    }

    pub fn environment(&self) -> Environment {
        self.environment.unwrap_or(Environment::Development)
    }

    pub fn is_production(&self) -> bool {
        self.environment() == Environment::Production
    }

    /// The configured keys, or in development the default `dev` admin key.
    pub fn api_keys(&self) -> ApiKeys {
        match &self.api_keys {
            Some(keys) => keys.clone(),
            None if self.is_production() => ApiKeys::default(),
            None => ApiKeys::parse(&format!("{DEV_API_KEY}:admin:*"))
                .expect("the development key parses"),
        }
    }

    /// True when the development key is in use (the server warns about it at startup).
    pub fn uses_dev_key(&self) -> bool {
        self.api_keys().find(DEV_API_KEY).is_some()
    }

    /// How many keys are written `key:role`, which speaks for any user without saying so.
    pub fn implicit_delegating_keys(&self) -> usize {
        self.api_keys().grants().filter(|key| !key.explicit).count()
    }

    /// The configured secret, or in development the published development secret.
    pub fn jwt_secret(&self) -> Option<JwtSecret> {
        match &self.jwt_secret {
            Some(secret) => Some(JwtSecret::new(secret.as_bytes())),
            None if self.is_production() => None,
            None => Some(JwtSecret::new(DEV_JWT_SECRET)),
        }
    }

    /// True when tokens signed with the published development secret are accepted.
    pub fn uses_dev_jwt_secret(&self) -> bool {
        self.jwt_secret
            .as_deref()
            .is_none_or(|s| s == DEV_JWT_SECRET)
            && !self.is_production()
    }

    pub fn set_jwt_secret(&mut self, secret: &str) {
        self.jwt_secret = Some(secret.to_owned());
    }

    pub fn authenticator(&self) -> Authenticator {
        Authenticator {
            api_keys: self.api_keys(),
            jwt_secret: self.jwt_secret(),
        }
    }

    pub fn set_api_keys(&mut self, keys: ApiKeys) {
        self.api_keys = Some(keys);
    }

    pub fn set_environment(&mut self, environment: Environment) {
        self.environment = Some(environment);
    }

    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }

    pub fn ping_timeout(&self) -> Duration {
        Duration::from_millis(self.ping_timeout_ms)
    }

    pub fn allows_any_origin(&self) -> bool {
        self.cors_origins.iter().any(|o| o.trim() == "*")
    }

    /// The origins browsers may call from: the dashboards', and the Admin UI's when it
    /// is on.
    pub fn allowed_origins(&self) -> impl Iterator<Item = &str> {
        let admin_ui = self.admin_ui.then_some(&self.admin_ui_origins);
        self.cors_origins
            .iter()
            .chain(admin_ui.into_iter().flatten())
            .map(|origin| origin.trim())
    }

    /// Production keys are long and random, and say whom they speak for; a key that may
    /// speak for any user is a service credential, refused for staff and viewers unless
    /// the operator allows it by role.
    fn validate_production_keys(&self) -> Result<(), ConfigError> {
        let keys = self.api_keys();
        if keys.is_empty() {
            return Err(ConfigError(
                "PULSO_API_KEYS must be set in production".into(),
            ));
        }
        if keys.find(DEV_API_KEY).is_some() {
            return Err(ConfigError(format!(
                "PULSO_API_KEYS must not contain the development key `{DEV_API_KEY}` in production"
            )));
        }
        if keys.grants().any(|key| key.guessable) {
            return Err(ConfigError(
                "PULSO_API_KEYS: every key must be at least 16 characters and random in production"
                    .into(),
            ));
        }
        if keys.grants().any(|key| !key.explicit) {
            return Err(ConfigError(
                "PULSO_API_KEYS: in production every key says whom it speaks for: \
                 `KEY:ROLE:USER` (that user only) or `KEY:ROLE:*` (any user: a trusted service)"
                    .into(),
            ));
        }
        for key in keys.grants() {
            let role = key.role;
            // Admin and service keys are held by backends, which name the user they act for.
            if key.delegates()
                && !matches!(role, Role::Admin | Role::Service)
                && !self.allow_delegating_keys.contains(&role)
            {
                return Err(ConfigError(format!(
                    "PULSO_API_KEYS: a {role} key that speaks for any user is refused in production \
                     (a browser holding it could act as anyone); bind it to a user \
                     (`KEY:{role}:USER`) or allow it with PULSO_ALLOW_DELEGATING_KEYS={role}"
                )));
            }
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self
            .jwt_secret
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            return Err(ConfigError(
                "PULSO_JWT_SECRET is empty: set a secret, or leave it unset".into(),
            ));
        }
        self.validate_admin_ui()?;
        if self.is_production() {
            self.validate_production_keys()?;
            match self.jwt_secret.as_deref() {
                None => {
                    return Err(ConfigError(
                        "PULSO_JWT_SECRET must be set in production".into(),
                    ));
                }
                Some(DEV_JWT_SECRET) => {
                    return Err(ConfigError(
                        "PULSO_JWT_SECRET must not be the development secret in production".into(),
                    ));
                }
                Some(secret) if secret.len() < MIN_JWT_SECRET_BYTES => {
                    return Err(ConfigError(format!(
                        "PULSO_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes in production"
                    )));
                }
                Some(secret) if entropy_bits(secret) < MIN_JWT_SECRET_BITS => {
                    return Err(ConfigError(
                        "PULSO_JWT_SECRET looks guessable (too few different characters): \
                         use a random secret, e.g. `openssl rand -base64 32`"
                            .into(),
                    ));
                }
                Some(_) => {}
            }
            if self.allows_any_origin() {
                return Err(ConfigError(
                    "PULSO_CORS_ORIGINS must not allow any origin (`*`) in production".into(),
                ));
            }
        }
        for origin in self.cors_origins.iter().map(|o| o.trim()) {
            if origin != "*" && axum::http::HeaderValue::from_str(origin).is_err() {
                return Err(ConfigError(format!(
                    "PULSO_CORS_ORIGINS has an invalid origin `{origin}`"
                )));
            }
        }
        for origin in self.admin_ui_origins.iter().map(|o| o.trim()) {
            if origin == "*" || axum::http::HeaderValue::from_str(origin).is_err() {
                return Err(ConfigError(format!(
                    "PULSO_ADMIN_UI_ORIGINS has an invalid origin `{origin}` (name each one)"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-production-secret-of-32-bytes-or-more";
    const KEY: &str = "a-long-production-key:admin:*";

    fn production(keys: &str) -> Config {
        let mut config = Config::development("sqlite::memory:");
        config.set_environment(Environment::Production);
        config.set_api_keys(ApiKeys::parse(keys).expect("keys parse"));
        config.set_jwt_secret(SECRET);
        config
    }

    fn refusal(config: &Config) -> String {
        config.validate().unwrap_err().to_string()
    }

    #[test]
    fn the_admin_ui_needs_a_bcrypt_login_in_production() {
        let mut config = production(KEY);
        config.admin_ui = true;
        assert!(refusal(&config).contains("needs PULSO_ADMIN_USERNAME"));
        config.admin_username = Some("ops".into());
        assert!(refusal(&config).contains("go together"));
        config.admin_password_hash = Some("plain-password".into());
        assert!(refusal(&config).contains("not a bcrypt hash"));
        config.admin_password_hash = Some(bcrypt::hash("a password", 4).unwrap());
        assert!(config.validate().is_ok());
        assert!(matches!(
            config.admin_ui(),
            Some(AdminUi { login: AdminLogin::Password { username, .. }, readonly: false })
                if username == "ops"
        ));

        let mut development = Config::development("sqlite::memory:");
        development.admin_ui = true;
        assert!(
            development.validate().is_ok(),
            "anyone may sign in in development"
        );
        assert!(matches!(
            development.admin_ui(),
            Some(AdminUi {
                login: AdminLogin::Anyone,
                ..
            })
        ));
    }

    #[test]
    fn the_admin_ui_page_needs_the_admin_ui_and_a_folder_with_the_page() {
        let folder = tempfile::tempdir().unwrap();
        let mut config = Config::development("sqlite::memory:");
        config.admin_ui_dir = Some(folder.path().into());
        assert!(refusal(&config).contains("needs PULSO_ADMIN_UI=true"));
        config.admin_ui = true;
        assert!(refusal(&config).contains("has no index.html"));
        std::fs::write(folder.path().join("index.html"), "<title>UI</title>").unwrap();
        assert!(config.validate().is_ok());
        assert_eq!(config.admin_ui_page(), Some(folder.path()));
    }

    #[test]
    fn development_ignores_the_environment() {
        // Setting a variable in this process would need unsafe code: a child run of this
        // same test gets them instead, and checks.
        if std::env::var_os("REDIS_URL").is_none() {
            let output = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "config::tests::development_ignores_the_environment",
                ])
                .env("REDIS_URL", "redis://leaked:6379")
                .env("PULSO_RATE_LIMIT", "1")
                .output()
                .unwrap();
            let said = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success() && said.contains("1 passed"),
                "{said}"
            );
            return;
        }
        let config = Config::development("sqlite::memory:");
        assert_eq!(
            config.redis_url, None,
            "REDIS_URL leaked into development()"
        );
        assert_eq!(
            config.rate_limit, 50,
            "PULSO_RATE_LIMIT leaked into development()"
        );
    }

    #[test]
    fn development_defaults_to_the_dev_key() {
        let config = Config::development("sqlite::memory:");
        assert!(config.uses_dev_key());
        let dev = config.api_keys();
        let dev = dev.find(DEV_API_KEY).unwrap();
        assert_eq!((dev.role, dev.delegates()), (Role::Admin, true));
        config.validate().unwrap();
    }

    #[test]
    fn production_refuses_unsafe_settings() {
        production(KEY).validate().unwrap();

        let mut no_keys = Config::development("sqlite::memory:");
        no_keys.set_environment(Environment::Production);
        no_keys.set_jwt_secret(SECRET);
        assert!(refusal(&no_keys).contains("PULSO_API_KEYS"));
        assert!(no_keys.api_keys().is_empty(), "no dev key in production");
        assert!(refusal(&production("dev:admin:*")).contains("development key"));
        assert!(refusal(&production("short-key:admin:*")).contains("at least 16 characters"));
        assert!(
            refusal(&production("aaaaaaaaaaaaaaaaaaaaaaaa:admin:*")).contains("random"),
            "long but guessable"
        );

        let mut any_origin = production(KEY);
        any_origin.cors_origins = vec!["*".into()];
        assert!(refusal(&any_origin).contains("PULSO_CORS_ORIGINS"));

        let mut no_secret = production(KEY);
        no_secret.jwt_secret = None;
        assert!(refusal(&no_secret).contains("PULSO_JWT_SECRET must be set"));
        assert!(
            no_secret.jwt_secret().is_none(),
            "no dev secret in production"
        );
        let mut short_secret = production(KEY);
        short_secret.set_jwt_secret("thirty-one-bytes-is-not-enough");
        assert!(refusal(&short_secret).contains("at least 32 bytes"));
        let mut dev_secret = production(KEY);
        dev_secret.set_jwt_secret(DEV_JWT_SECRET);
        assert!(refusal(&dev_secret).contains("development secret"));
        for guessable in ["ab".repeat(20), "abc".repeat(12), "x".repeat(64)] {
            let mut weak = production(KEY);
            weak.set_jwt_secret(&guessable);
            assert!(refusal(&weak).contains("guessable"), "{guessable:?}");
        }
    }

    #[test]
    fn production_keys_say_whom_they_speak_for() {
        const BOUND: &str = "a-long-staff-key-123:staff:ana";
        production(BOUND).validate().unwrap();
        assert!(
            refusal(&production("a-long-production-key:admin")).contains("KEY:ROLE:USER"),
            "the older `key:role` form must be spelled out"
        );
        for role in ["staff", "viewer"] {
            let delegating = format!("a-long-{role}-key-123:{role}:*");
            let why = refusal(&production(&delegating));
            assert!(why.contains("PULSO_ALLOW_DELEGATING_KEYS"), "{why}");
            let mut allowed = production(&delegating);
            allowed.allow_delegating_keys = vec![role.parse().unwrap()];
            allowed.validate().unwrap();
        }
    }

    #[test]
    fn an_empty_jwt_secret_is_refused_in_every_mode() {
        for environment in [Environment::Development, Environment::Production] {
            for empty in ["", "   "] {
                let mut config = production(KEY);
                config.set_environment(environment);
                config.set_jwt_secret(empty);
                assert!(refusal(&config).contains("PULSO_JWT_SECRET is empty"));
            }
        }
    }

    #[test]
    fn help_and_errors_never_show_secret_values() {
        let secrets = [
            ("PULSO_API_KEYS", "hidden-key-value:admin:*"),
            ("REDIS_URL", "redis://:hidden-password@10.0.0.5:6379"),
            ("DATABASE_URL", "postgres://pulso:hidden-password@db/pulso"),
            ("PULSO_JWT_SECRET", "hidden-jwt-secret-value"),
        ];
        let mut command = <Config as clap::CommandFactory>::command();
        let help = command.render_long_help().to_string();
        for (variable, _) in secrets {
            assert!(help.contains(variable), "{variable} is documented");
        }
        // clap reads the environment while rendering: the values must stay hidden.
        for arg in command.get_arguments() {
            if let Some(variable) = arg.get_env().and_then(|v| v.to_str())
                && secrets.iter().any(|(name, _)| *name == variable)
            {
                assert!(arg.is_hide_env_values_set(), "{variable} shows its value");
            }
        }
        let error = ApiKeys::parse("hidden-key-value:root").unwrap_err();
        assert!(!error.contains("hidden-key-value"), "{error}");
    }

    #[test]
    fn development_accepts_tokens_signed_with_the_published_secret() {
        let config = Config::development("sqlite::memory:");
        assert!(config.uses_dev_jwt_secret());
        assert_eq!(config.jwt_secret().unwrap().len(), DEV_JWT_SECRET.len());
    }
}

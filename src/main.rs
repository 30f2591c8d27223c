use std::{
    fmt::Display,
    io::{Write, stderr, stdout},
    process::ExitCode,
};

use pulso::{
    config::{Command, Config},
    startup::Application,
    telemetry,
};

// Every command and delivery allocates small, short-lived buffers across threads, which
// mimalloc serves faster and with less memory kept than glibc's malloc (bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::load() {
        Ok(config) => config,
        Err(error) => {
            say_failure("pulso", error);
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(config.log_format);
    match &config.command {
        Some(Command::Migrate { action }) => {
            let done = pulso::migrate::run(&config.database_url, *action).await;
            return finish("pulso migrate", done);
        }
        Some(Command::Backup { file }) => {
            let done = pulso::backup::run(&config.database_url, file).await;
            return finish("pulso backup", done);
        }
        Some(Command::HashPassword) => return finish("pulso hash-password", hash_password()),
        None => {}
    }
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "pulso could not start");
            say_failure("pulso: could not start", error);
            return ExitCode::FAILURE;
        }
    };
    match app
        .run_until_stopped(pulso::startup::shutdown_signal())
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "pulso stopped with an error");
            ExitCode::FAILURE
        }
    }
}

/// Prints a one-shot command's report, or its failure, and says how it went.
fn finish(context: &str, done: Result<String, impl Display>) -> ExitCode {
    match done {
        Ok(report) if write!(stdout(), "{report}").is_ok() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            say_failure(context, error);
            ExitCode::FAILURE
        }
    }
}

/// Reads a password (one line) on standard input and returns its bcrypt hash.
fn hash_password() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|error| error.to_string())?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err("no password on standard input".into());
    }
    bcrypt::hash(password, bcrypt::DEFAULT_COST)
        .map(|hash| format!("{hash}\n"))
        .map_err(|error| error.to_string())
}

/// `eprintln!` panics when stderr is closed; the exit code says it failed either way.
fn say_failure(context: &str, error: impl Display) {
    let _ = writeln!(stderr(), "{context}: {error}");
}

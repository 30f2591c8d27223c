use std::process::ExitCode;

use pulso::{config::Config, startup::Application, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("pulso: {error}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(config.log_format);
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "pulso could not start");
            eprintln!("pulso: could not start: {error}");
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

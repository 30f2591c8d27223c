//! Logging through `tracing`: pretty for people, JSON (one object per line) for machines.
//! `RUST_LOG` overrides the default level filter.

use tracing_subscriber::{EnvFilter, fmt};

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,sea_orm=warn,socketioxide=warn,engineioxide=warn")
    });
    let builder = fmt().with_env_filter(filter);
    // A second init (tests start many servers in one process) is harmless: keep the first.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

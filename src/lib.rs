//! pulso: a Socket.IO-compatible realtime server for retail dashboards.

pub mod auth;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod migrate;
pub mod realtime;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;

//! pulso: a Socket.IO-compatible realtime server for retail dashboards.

pub mod auth;
pub mod backup;
pub mod broker;
pub mod channels;
pub mod config;
pub mod docs;
pub mod domain;
pub mod error;
pub mod http;
pub mod limits;
pub mod migrate;
pub mod services;
pub mod socket;
pub mod startup;
pub mod state;
pub mod telemetry;

//! Integration tests: one binary, the real server, real clients.

mod concurrency;
mod connect;
mod contract;
mod database;
mod faults;
mod field_errors;
mod helpers;
mod hostile;
mod inventory;
mod isolation;
mod limits;
mod logs;
mod metrics;
mod migrate;
mod notifications;
mod operations;
mod orders;
mod permissions;
mod persistence;
mod publish;
mod raw_protocol;
mod recovery;
mod rest;
mod retention;
mod rooms;
mod tokens;

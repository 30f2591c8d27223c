//! Integration tests: one binary, the real server, real clients.

mod connect;
mod helpers;
mod inventory;
mod limits;
mod logs;
mod notifications;
mod operations;
mod orders;
mod permissions;
mod persistence;
mod rest;
mod rooms;
mod tokens;

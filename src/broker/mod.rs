//! The broker: the only code that talks to socketioxide's emit side. The publisher
//! emits to rooms and sockets, the Redis driver carries rooms between nodes, and the
//! node stats count what was sent.

pub mod cluster;
mod publisher;
pub mod stats;

pub use publisher::{Publisher, offset_of, without_offset};

//! What recovering sockets missed, read from the event log once for all those that
//! missed the same events. After a restart thousands of dashboards come back at once
//! with the same rooms and offset: each one reading and serializing the same events
//! was what a reconnect storm cost (bench/README.md, "Connection state recovery").
//!
//! Each reading goes up to the last event delivered on this node when it was made
//! (`Publisher::delivered`), and is shared for a few seconds: a later recovery reads
//! only the events delivered since (usually none). Together they are what one reading
//! now would give.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use sea_orm::DbErr;
use serde_json::value::RawValue;

use super::{Services, events};
use crate::channels::with_offset;

/// How long a reading is shared.
const SHARED_FOR: Duration = Duration::from_secs(10);
/// Readings kept at most (rooms × offset combinations in one storm).
const MAX_READINGS: usize = 4096;

/// A missed event, serialized once for every socket it is replayed to.
#[derive(Debug, Clone)]
pub struct Missed {
    pub id: i64,
    pub event: String,
    /// The envelope and its offset: the event's arguments on the wire.
    pub args: (Box<RawValue>, String),
}

/// Rooms (sorted) and the id after which events were missed.
type Key = (Vec<String>, i64);

/// When the events were read, up to which id, and what they were.
type Reading = (Instant, i64, Arc<[Missed]>);

#[derive(Default)]
pub struct Replays {
    readings: Mutex<HashMap<Key, Reading>>,
}

impl Services {
    /// The events sent to `rooms` with an id in `after..=upto`, oldest first, at most
    /// `limit`.
    pub async fn missed_events(
        &self,
        rooms: &[String],
        (after, upto): (i64, i64),
        limit: u64,
    ) -> Result<Arc<[Missed]>, DbErr> {
        let mut key_rooms = rooms.to_vec();
        key_rooms.sort_unstable();
        let key = (key_rooms, after);
        let shared = self.replays.shared(&key, upto);
        let (read_upto, known) = shared
            .as_ref()
            .map_or((after, 0), |(upto, reading)| (*upto, reading.len()));
        let remaining = limit.saturating_sub(known as u64);
        let newer = match remaining {
            0 => Vec::new(),
            _ => events::sent_to_rooms(&self.db, rooms, (read_upto, upto), remaining).await?,
        };
        let reading: Arc<[Missed]> = match shared {
            // Nothing new: the same reading, now known to hold up to `upto`.
            Some((_, shared)) if newer.is_empty() => shared,
            shared => {
                let newer = newer.iter().map(|event| Missed {
                    id: event.id,
                    event: event.event_type.clone(),
                    args: with_offset(event),
                });
                let known = shared
                    .iter()
                    .flat_map(|(_, reading)| reading.iter().cloned());
                known.chain(newer).collect()
            }
        };
        self.replays.keep(key, upto, reading.clone());
        Ok(reading)
    }
}

impl Replays {
    /// A recent reading for `key` that went no further than `upto`, and how far it went.
    fn shared(&self, key: &Key, upto: i64) -> Option<(i64, Arc<[Missed]>)> {
        let readings = self.readings.lock().unwrap_or_else(PoisonError::into_inner);
        readings
            .get(key)
            .filter(|(at, read_upto, _)| at.elapsed() < SHARED_FOR && *read_upto <= upto)
            .map(|(_, read_upto, reading)| (*read_upto, reading.clone()))
    }

    fn keep(&self, key: Key, upto: i64, reading: Arc<[Missed]>) {
        let mut readings = self.readings.lock().unwrap_or_else(PoisonError::into_inner);
        if readings.len() >= MAX_READINGS {
            readings.retain(|_, (at, _, _)| at.elapsed() < SHARED_FOR);
        }
        if readings.len() < MAX_READINGS {
            readings.insert(key, (Instant::now(), upto, reading));
        }
    }
}

//! What recovering sockets missed, read from the event log once for all those that
//! missed the same events. After a restart thousands of dashboards come back at once
//! with the same rooms and offset: each one reading and serializing the same events
//! was what a reconnect storm cost (bench/README.md, "Connection state recovery").
//!
//! A reading is shared for a few seconds; a later recovery reads only the events logged
//! after it (usually none). Ids are handed out in commit order (SQLite's one writer,
//! PostgreSQL's event-log lock), so an event committed after a reading has a larger id
//! than every event it saw: the two together are what one reading now would give.

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
#[derive(Debug)]
pub struct Missed {
    pub id: i64,
    pub event: String,
    /// The envelope and its offset: the event's arguments on the wire.
    pub args: (Box<RawValue>, String),
}

/// Rooms (sorted) and the id after which events were missed.
type Key = (Vec<String>, i64);

/// When the events were read, and what they were.
type Reading = (Instant, Arc<[Missed]>);

#[derive(Default)]
pub struct Replays {
    readings: Mutex<HashMap<Key, Reading>>,
}

impl Services {
    /// The events sent to `rooms` after `after`, oldest first, at most `limit`.
    pub async fn missed_events(
        &self,
        rooms: &[String],
        after: i64,
        limit: u64,
    ) -> Result<Arc<[Missed]>, DbErr> {
        let mut key_rooms = rooms.to_vec();
        key_rooms.sort_unstable();
        let key = (key_rooms, after);
        let shared = self.replays.shared(&key);
        let read_after = shared
            .as_ref()
            .and_then(|s| s.last())
            .map_or(after, |m| m.id);
        let known = shared.as_ref().map_or(0, |s| s.len());
        let remaining = limit.saturating_sub(known as u64);
        let newer = match remaining {
            0 => Vec::new(),
            _ => events::sent_to_rooms(&self.db, rooms, read_after, remaining).await?,
        };
        if newer.is_empty()
            && let Some(shared) = shared
        {
            return Ok(shared);
        }
        let newer = newer.iter().map(|event| Missed {
            id: event.id,
            event: event.event_type.clone(),
            args: with_offset(event),
        });
        let reading: Arc<[Missed]> = match shared {
            Some(shared) => shared.iter().map(Missed::clone_of).chain(newer).collect(),
            None => newer.collect(),
        };
        self.replays.keep(key, reading.clone());
        Ok(reading)
    }
}

impl Missed {
    fn clone_of(&self) -> Missed {
        Missed {
            id: self.id,
            event: self.event.clone(),
            args: self.args.clone(),
        }
    }
}

impl Replays {
    fn shared(&self, key: &Key) -> Option<Arc<[Missed]>> {
        let readings = self.readings.lock().unwrap_or_else(PoisonError::into_inner);
        readings
            .get(key)
            .filter(|(at, _)| at.elapsed() < SHARED_FOR)
            .map(|(_, reading)| reading.clone())
    }

    fn keep(&self, key: Key, reading: Arc<[Missed]>) {
        let mut readings = self.readings.lock().unwrap_or_else(PoisonError::into_inner);
        if readings.len() >= MAX_READINGS {
            readings.retain(|_, (at, _)| at.elapsed() < SHARED_FOR);
        }
        if readings.len() < MAX_READINGS {
            readings.insert(key, (Instant::now(), reading));
        }
    }
}

//! Limits that keep one client from taking the node down: a command rate per socket
//! and a publish rate per producer (token buckets), and caps on sockets per node and
//! per user.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use crate::{config::Config, error::AppError};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub rate_per_second: u32,
    pub burst: u32,
    pub max_connections: usize,
    pub max_connections_per_user: usize,
    pub max_rooms_per_socket: usize,
}

impl Limits {
    /// Refuses a socket's room set past `max_rooms_per_socket`.
    pub fn check_rooms(&self, rooms: usize) -> Result<(), AppError> {
        if rooms > self.max_rooms_per_socket {
            return Err(AppError::rate_limited(
                format!(
                    "too many rooms: a socket may be in {} (PULSO_MAX_ROOMS_PER_SOCKET); leave one first",
                    self.max_rooms_per_socket
                ),
                None,
            ));
        }
        Ok(())
    }

    pub fn from_config(config: &Config) -> Self {
        Self {
            rate_per_second: config.rate_limit,
            burst: config.rate_burst,
            max_connections: config.max_connections as usize,
            max_connections_per_user: config.max_connections_per_user as usize,
            max_rooms_per_socket: config.max_rooms_per_socket as usize,
        }
    }
}

/// One socket's command allowance: `burst` tokens, refilled at `rate_per_second`.
#[derive(Debug)]
pub struct TokenBucket {
    tokens: f64,
    refilled_at: Instant,
    rate_per_second: f64,
    burst: f64,
    refused_in_a_row: u32,
}

/// What the bucket says about one command.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Run,
    /// Refused; try again after this long.
    Refuse(Duration),
    /// Refused, and the socket has been refused `burst` times in a row: it is flooding.
    Flooding,
}

impl TokenBucket {
    pub fn new(limits: &Limits, now: Instant) -> Self {
        Self::with_rate(limits.rate_per_second, limits.burst, now)
    }

    fn with_rate(rate_per_second: u32, burst: u32, now: Instant) -> Self {
        Self {
            tokens: f64::from(burst),
            refilled_at: now,
            rate_per_second: f64::from(rate_per_second),
            burst: f64::from(burst),
            refused_in_a_row: 0,
        }
    }

    /// A full bucket is the same as a new one: forgetting it loses nothing.
    fn is_full(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled_at);
        self.tokens + elapsed.as_secs_f64() * self.rate_per_second >= self.burst
    }

    pub fn take(&mut self, now: Instant) -> Verdict {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate_per_second).min(self.burst);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused_in_a_row = 0;
            return Verdict::Run;
        }
        self.refused_in_a_row += 1;
        if f64::from(self.refused_in_a_row) >= self.burst {
            return Verdict::Flooding;
        }
        Verdict::Refuse(Duration::from_secs_f64(
            (1.0 - self.tokens) / self.rate_per_second,
        ))
    }
}

/// Callers kept before a new one sweeps out those whose buckets are full again.
const CALLERS_BEFORE_SWEEP: usize = 256;

/// A request rate per caller (a producer's credential), over one second's burst.
#[derive(Debug)]
pub struct RateByCaller {
    per_second: u32,
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

impl RateByCaller {
    pub fn new(per_second: u32) -> Self {
        Self {
            per_second,
            buckets: Mutex::default(),
        }
    }

    /// Takes one request from `caller`'s allowance, or refuses with when to retry.
    pub fn take(&self, caller: &str, setting: &str) -> Result<(), AppError> {
        self.take_at(caller, setting, Instant::now())
    }

    fn take_at(&self, caller: &str, setting: &str, now: Instant) -> Result<(), AppError> {
        let verdict = match self.buckets.lock() {
            Ok(mut buckets) => {
                // Without this, every caller ever seen would stay for the process's life.
                if buckets.len() >= CALLERS_BEFORE_SWEEP && !buckets.contains_key(caller) {
                    buckets.retain(|_, bucket| !bucket.is_full(now));
                }
                buckets
                    .entry(caller.to_owned())
                    .or_insert_with(|| {
                        TokenBucket::with_rate(self.per_second, self.per_second, now)
                    })
                    .take(now)
            }
            Err(_) => Verdict::Run,
        };
        match verdict {
            Verdict::Run => Ok(()),
            Verdict::Refuse(wait) => Err(AppError::rate_limited(
                format!(
                    "rate limited: more than {} requests per second ({setting}); retry in {} ms",
                    self.per_second,
                    wait.as_millis()
                ),
                Some(wait),
            )),
            // A producer is not disconnected: it waits a whole second's refill.
            Verdict::Flooding => Err(AppError::rate_limited(
                format!(
                    "rate limited: more than {} requests per second ({setting}); retry in 1000 ms",
                    self.per_second
                ),
                Some(Duration::from_secs(1)),
            )),
        }
    }
}

/// Counts this node's sockets. A slot is held for as long as its socket exists (it
/// lives in the socket's extensions), so it is released however the socket ends.
#[derive(Debug, Default)]
pub struct ConnectionSlots {
    taken: Arc<AtomicUsize>,
}

#[derive(Debug)]
pub struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ConnectionSlots {
    pub fn take(&self, max: usize) -> Result<Slot, AppError> {
        let taken = self.taken.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(self.taken.clone());
        if taken >= max {
            return Err(AppError::rate_limited(
                format!("server full: {max} connections (PULSO_MAX_CONNECTIONS)"),
                None,
            ));
        }
        Ok(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rate_per_second: u32, burst: u32) -> Limits {
        Limits {
            rate_per_second,
            burst,
            max_connections: 1,
            max_connections_per_user: 1,
            max_rooms_per_socket: 8,
        }
    }

    #[test]
    fn a_burst_then_the_rate_then_flooding() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(&limits(10, 3), start);
        for _ in 0..3 {
            assert_eq!(bucket.take(start), Verdict::Run);
        }
        let Verdict::Refuse(wait) = bucket.take(start) else {
            panic!("the fourth at once is refused")
        };
        assert_eq!(wait, Duration::from_millis(100), "one token per 100 ms");
        assert_eq!(
            bucket.take(start + wait),
            Verdict::Run,
            "refilled after the hint"
        );
        assert!(matches!(bucket.take(start + wait), Verdict::Refuse(_)));
        assert!(matches!(bucket.take(start + wait), Verdict::Refuse(_)));
        assert_eq!(
            bucket.take(start + wait),
            Verdict::Flooding,
            "3 refusals in a row"
        );
    }

    #[test]
    fn callers_whose_allowance_is_whole_again_are_forgotten() {
        let rate = RateByCaller::new(10);
        let start = Instant::now();
        for caller in 0..CALLERS_BEFORE_SWEEP {
            rate.take_at(&caller.to_string(), "X", start).unwrap();
        }
        let later = start + Duration::from_secs(1);
        for _ in 0..10 {
            rate.take_at("0", "X", later).unwrap();
        }
        rate.take_at("new", "X", later).unwrap();
        let kept: Vec<String> = rate.buckets.lock().unwrap().keys().cloned().collect();
        assert_eq!(
            kept.len(),
            2,
            "only the emptied bucket and the new one: {kept:?}"
        );
        assert!(
            rate.take_at("0", "X", later).is_err(),
            "the emptied bucket kept its state"
        );
    }

    #[test]
    fn slots_are_released_when_dropped() {
        let slots = ConnectionSlots::default();
        let first = slots.take(2).unwrap();
        let _second = slots.take(2).unwrap();
        assert!(slots.take(2).is_err());
        drop(first);
        assert!(slots.take(2).is_ok());
    }
}

//! API keys and what each proves (`PULSO_API_KEYS`). A key is a role plus whom it speaks
//! for: one user (`key:role:USER`, what a kiosk or one person's tool holds), or any user
//! the caller names (`key:role:*`, a trusted service such as a backend). The older form
//! `key:role` speaks for any user too; production wants it spelled out.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Role, validate_user_id};

/// Whom a key may act as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpeaksFor {
    /// This user only: a `user_id` sent with the key must be absent or equal.
    User(String),
    /// Any user the caller names: a trusted service credential.
    AnyUser,
}

/// What one key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub role: Role,
    pub speaks_for: SpeaksFor,
    /// False for the older `key:role` form, which speaks for any user without saying so.
    pub explicit: bool,
    /// A short digest of the key, safe to log: it names the key without revealing it.
    pub fingerprint: String,
    /// Shorter than 16 characters, or too repetitive to be random (refused in production).
    pub guessable: bool,
}

/// Shortest key production accepts, and the least estimated entropy (see `entropy_bits`).
const MIN_KEY_CHARS: usize = 16;
const MIN_KEY_BITS: f64 = 48.0;

/// A rough guess of how random a secret is: the empirical entropy of its characters
/// times its length. It cannot prove a secret random, but it catches the guessable ones
/// a length check lets through (32 spaces: 0 bits; `abab…`: 1 bit a character; 32
/// random base64 characters: ~140 bits).
pub fn entropy_bits(secret: &str) -> f64 {
    let total = secret.chars().count() as f64;
    let mut counts = std::collections::HashMap::new();
    for c in secret.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
    }
    let per_char: f64 = counts
        .values()
        .map(|&n| {
            let p = f64::from(n) / total;
            -p * p.log2()
        })
        .sum();
    per_char * total
}

impl ApiKey {
    pub fn delegates(&self) -> bool {
        self.speaks_for == SpeaksFor::AnyUser
    }
}

/// The configured keys. Only digests are kept, and a lookup compares the presented key's
/// digest with every entry in constant time, so timing says nothing about a key.
#[derive(Clone, Default)]
pub struct ApiKeys(Vec<([u8; 32], ApiKey)>);

/// Keys are secrets: their debug form shows what they grant, not the keys.
impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.grants()).finish()
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl ApiKeys {
    /// Parses `key:role[:user|*],...`. Errors name an entry by its position and never
    /// repeat a key.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut keys = ApiKeys::default();
        let entries = raw.split(',').map(str::trim).filter(|e| !e.is_empty());
        for (index, entry) in entries.enumerate() {
            let at = format!("PULSO_API_KEYS entry {}", index + 1);
            let mut parts = entry.splitn(3, ':').map(str::trim);
            let key = parts.next().unwrap_or_default();
            let Some(role) = parts.next() else {
                return Err(format!("{at} is not `key:role` or `key:role:user`"));
            };
            if key.is_empty() {
                return Err(format!("{at}: the key is empty"));
            }
            let role: Role = role.parse().map_err(|e| format!("{at}: {e}"))?;
            let (speaks_for, explicit) = match parts.next() {
                None => (SpeaksFor::AnyUser, false),
                Some("*") => (SpeaksFor::AnyUser, true),
                Some(user) => {
                    validate_user_id(user).map_err(|e| format!("{at}: {e}"))?;
                    (SpeaksFor::User(user.to_owned()), true)
                }
            };
            let digest = digest(key);
            if keys.0.iter().any(|(known, _)| *known == digest) {
                return Err(format!("{at} repeats an earlier key"));
            }
            let fingerprint = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
            let guessable = key.chars().count() < MIN_KEY_CHARS || entropy_bits(key) < MIN_KEY_BITS;
            keys.0.push((
                digest,
                ApiKey {
                    role,
                    speaks_for,
                    explicit,
                    fingerprint,
                    guessable,
                },
            ));
        }
        if keys.0.is_empty() {
            return Err("PULSO_API_KEYS: no API keys given".into());
        }
        Ok(keys)
    }

    /// What `presented` grants, if it is a configured key.
    pub fn find(&self, presented: &str) -> Option<&ApiKey> {
        let presented = digest(presented);
        let mut found = None;
        for (known, grant) in &self.0 {
            if bool::from(known.ct_eq(&presented)) {
                found = Some(grant);
            }
        }
        found
    }

    pub fn grants(&self) -> impl Iterator<Item = &ApiKey> {
        self.0.iter().map(|(_, grant)| grant)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_say_whom_a_key_speaks_for() {
        let keys = ApiKeys::parse("k1:admin:*, k2:staff:ana, k3:viewer").unwrap();
        let k1 = keys.find("k1").unwrap();
        assert_eq!(
            (k1.role, k1.delegates(), k1.explicit),
            (Role::Admin, true, true)
        );
        let k2 = keys.find("k2").unwrap();
        assert_eq!(k2.speaks_for, SpeaksFor::User("ana".into()));
        let k3 = keys.find("k3").unwrap();
        assert_eq!((k3.delegates(), k3.explicit), (true, false));
        assert!(keys.find("k4").is_none());
        assert!(keys.find("").is_none());
    }

    #[test]
    fn errors_name_the_entry_and_never_the_key() {
        for (raw, says) in [
            ("secret-one", "entry 1 is not `key:role`"),
            ("a:admin,secret-two:root", "entry 2: unknown role `root`"),
            (":admin", "entry 1: the key is empty"),
            (
                "a:admin,secret-three:staff:bad user",
                "entry 2: user_id must be",
            ),
            (
                "secret-four:admin,secret-four:staff",
                "entry 2 repeats an earlier key",
            ),
            (" , ", "no API keys given"),
        ] {
            let error = ApiKeys::parse(raw).unwrap_err();
            assert!(error.contains(says), "{raw}: {error}");
            assert!(
                !error.contains("secret"),
                "{raw}: the error shows a key: {error}"
            );
        }
    }

    #[test]
    fn guessable_keys_are_told_apart() {
        let keys =
            ApiKeys::parse("short:admin:*,aaaaaaaaaaaaaaaaaaaa:admin:*,k7Qp2xV9mR4tL8wZ:admin:*")
                .unwrap();
        let guessable: Vec<bool> = keys.grants().map(|key| key.guessable).collect();
        assert_eq!(guessable, [true, true, false]);
        assert_eq!(entropy_bits("                                "), 0.0);
        assert!(entropy_bits("abababababababababababababababab") <= 32.0);
    }

    #[test]
    fn debug_output_shows_grants_not_keys() {
        let keys = ApiKeys::parse("a-secret-key:admin:*").unwrap();
        let shown = format!("{keys:?}");
        assert!(!shown.contains("a-secret-key"), "{shown}");
        assert!(shown.contains("Admin"), "{shown}");
    }
}

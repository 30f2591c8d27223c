//! JSON Web Tokens, HS256 only. Verification is done here in full, not by a general
//! JWT library, so that exactly one algorithm is accepted (`none` and every other `alg`
//! are refused by name) and every refusal says which check failed.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use super::Role;

/// The shared HS256 secret. Never printed.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    /// Signs claims (tests and tools that mint development tokens use this).
    pub fn sign(&self, claims: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{body}");
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signed}.{signature}")
    }
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}

/// Why a token was refused; the message is what the client is told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("token algorithm `{0}` is not accepted (only HS256)")]
    Algorithm(String),
    #[error("invalid token signature")]
    Signature,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("token has no valid `{0}` claim")]
    MissingClaim(&'static str),
    #[error("unknown role `{0}` in token")]
    UnknownRole(String),
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
}

#[derive(Deserialize)]
struct RawClaims {
    sub: Option<Value>,
    role: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
}

/// Checks, in order: shape, algorithm, signature, then the claims. No clock leeway:
/// `exp` and `nbf` are taken exactly.
pub fn verify(token: &str, secret: &JwtSecret, now: DateTime<Utc>) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(body), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header: Header = decode_json(header)?;
    match header.alg.as_deref() {
        Some("HS256") => {}
        other => return Err(TokenError::Algorithm(other.unwrap_or("none").to_owned())),
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let mut mac = secret.mac();
    mac.update(&token.as_bytes()[..header_and_body_len(token)]);
    mac.verify_slice(&signature)
        .map_err(|_| TokenError::Signature)?;

    let claims: RawClaims = decode_json(body)?;
    let exp = claims.exp.ok_or(TokenError::MissingClaim("exp"))?;
    let expires_at = DateTime::from_timestamp(exp, 0).ok_or(TokenError::MissingClaim("exp"))?;
    if now.timestamp() >= exp {
        return Err(TokenError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| now.timestamp() < nbf) {
        return Err(TokenError::NotYetValid);
    }
    let sub = match claims.sub {
        Some(Value::String(sub)) => sub,
        Some(Value::Number(sub)) => sub.to_string(),
        _ => return Err(TokenError::MissingClaim("sub")),
    };
    let role = claims.role.ok_or(TokenError::MissingClaim("role"))?;
    let role = role.parse().map_err(|_| TokenError::UnknownRole(role))?;
    Ok(Claims {
        sub,
        role,
        expires_at,
    })
}

/// Length of `header.body`, the signed part.
fn header_and_body_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn secret() -> JwtSecret {
        JwtSecret::new("a-test-secret-of-at-least-32-bytes!!")
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn token(claims: Value) -> String {
        secret().sign(&claims)
    }

    fn valid() -> Value {
        json!({ "sub": "u1", "role": "staff", "exp": 1_800_000_060 })
    }

    #[test]
    fn accepts_a_valid_token() {
        let claims = verify(&token(valid()), &secret(), now()).unwrap();
        assert_eq!(claims.sub, "u1");
        assert_eq!(claims.role, Role::Staff);
        assert_eq!(claims.expires_at.timestamp(), 1_800_000_060);
    }

    #[test]
    fn says_which_check_failed() {
        let cases = [
            (
                json!({ "sub": "u1", "role": "staff", "exp": 1_800_000_000 }),
                TokenError::Expired,
            ),
            (
                json!({ "sub": "u1", "role": "staff", "exp": 1_800_000_060, "nbf": 1_800_000_030 }),
                TokenError::NotYetValid,
            ),
            (
                json!({ "sub": "u1", "role": "staff" }),
                TokenError::MissingClaim("exp"),
            ),
            (
                json!({ "role": "staff", "exp": 1_800_000_060 }),
                TokenError::MissingClaim("sub"),
            ),
            (
                json!({ "sub": "u1", "exp": 1_800_000_060 }),
                TokenError::MissingClaim("role"),
            ),
            (
                json!({ "sub": "u1", "role": "root", "exp": 1_800_000_060 }),
                TokenError::UnknownRole("root".into()),
            ),
        ];
        for (claims, error) in cases {
            assert_eq!(
                verify(&token(claims.clone()), &secret(), now()),
                Err(error),
                "{claims}"
            );
        }
    }

    #[test]
    fn refuses_other_secrets_algorithms_and_junk() {
        let other = JwtSecret::new("another-secret-of-at-least-32-bytes!").sign(&valid());
        assert_eq!(verify(&other, &secret(), now()), Err(TokenError::Signature));

        let good = token(valid());
        let (_, rest) = good.split_once('.').unwrap();
        for alg in ["none", "HS512", "RS256"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            let forged = format!("{header}.{rest}");
            assert_eq!(
                verify(&forged, &secret(), now()),
                Err(TokenError::Algorithm(alg.into()))
            );
        }
        let unsigned = format!("{}.", &good[..good.rfind('.').unwrap()]);
        assert_eq!(
            verify(&unsigned, &secret(), now()),
            Err(TokenError::Signature)
        );
        for junk in ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.e30"] {
            assert!(verify(junk, &secret(), now()).is_err(), "{junk}");
        }
    }
}

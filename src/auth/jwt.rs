//! JSON Web Tokens, HS256 only, verified by `jsonwebtoken`: exactly one algorithm is
//! accepted (`none` and every other `alg` are refused by name), `exp` is required and
//! `nbf` honoured with no clock leeway, and every refusal says which check failed.

use std::sync::Once;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation,
    crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils},
    errors::ErrorKind,
    signature::{self, Signer, Verifier},
};
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

    /// HMAC-SHA256 under this secret, for values pulso signs itself (the Admin UI's
    /// sessions, which every node sharing the secret can then check).
    pub fn mac(&self) -> Option<Hmac<Sha256>> {
        Hmac::new_from_slice(&self.0).ok()
    }

    /// Signs claims (tests and tools that mint development tokens use this).
    pub fn sign(&self, claims: &Value) -> String {
        install_hs256();
        EncodingKey::from_secret(&self.0)
            .and_then(|key| jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key))
            .unwrap_or_default()
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
struct RawClaims {
    sub: Option<Value>,
    role: Option<String>,
    /// Required and checked against the clock by jsonwebtoken when it is a positive
    /// whole number (a NumericDate); anything else is refused here.
    exp: Option<Value>,
}

/// Checks, in order: shape, algorithm, signature, then the claims, against the clock.
pub fn verify(token: &str, secret: &JwtSecret) -> Result<Claims, TokenError> {
    // jsonwebtoken refuses an unknown `alg` (such as `none`) before naming it: read the
    // header's `alg` first, so the refusal says which algorithm was sent.
    match declared_algorithm(token)?.as_deref() {
        Some("HS256") => {}
        other => return Err(TokenError::Algorithm(other.unwrap_or("none").to_owned())),
    }
    install_hs256();
    let key = DecodingKey::from_secret(&secret.0).map_err(|_| TokenError::Signature)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp"]);
    let claims = jsonwebtoken::decode::<RawClaims>(token, &key, &validation)
        .map_err(|error| refusal(error.into_kind()))?
        .claims;
    let expires_at = claims
        .exp
        .as_ref()
        .and_then(Value::as_i64)
        .filter(|exp| *exp > 0)
        .and_then(|exp| DateTime::from_timestamp(exp, 0))
        .ok_or(TokenError::MissingClaim("exp"))?;
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

fn refusal(kind: ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::Signature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::MissingRequiredClaim(claim) | ErrorKind::InvalidClaimFormat(claim)
            if claim == "exp" =>
        {
            TokenError::MissingClaim("exp")
        }
        _ => TokenError::Malformed,
    }
}

/// The `alg` the token's header names, if the header is readable JSON.
fn declared_algorithm(token: &str) -> Result<Option<String>, TokenError> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    #[derive(Deserialize)]
    struct Named {
        alg: Option<String>,
    }
    let header = token.split('.').next().unwrap_or_default();
    let json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenError::Malformed)?;
    let named: Named = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
    Ok(named.alg)
}

/// jsonwebtoken takes its cryptography from a provider. Its bundled ones bring RSA,
/// ECDSA and EdDSA along (a large build for keys pulso never accepts): this one does
/// HS256 only, with the same RustCrypto `hmac` the bundled one uses.
fn install_hs256() {
    static HS256_ONLY: CryptoProvider = CryptoProvider {
        signer_factory: |algorithm, key| {
            hs256_for(*algorithm, key.as_bytes()).map(|mac| Box::new(mac) as Box<dyn JwtSigner>)
        },
        verifier_factory: |algorithm, key| {
            let secret = key.try_get_as_bytes()?;
            hs256_for(*algorithm, secret).map(|mac| Box::new(mac) as Box<dyn JwtVerifier>)
        },
        key_utils: KeyUtils::new_unimplemented(),
    };
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = HS256_ONLY.install_default();
    });
}

struct Hs256(Hmac<Sha256>);

fn hs256_for(algorithm: Algorithm, secret: &[u8]) -> jsonwebtoken::errors::Result<Hs256> {
    if algorithm != Algorithm::HS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Hmac::<Sha256>::new_from_slice(secret)
        .map(Hs256)
        .map_err(|_| ErrorKind::InvalidKeyFormat.into())
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        mac.verify_slice(tag).map_err(signature::Error::from_source)
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use serde_json::json;

    use super::*;

    fn secret() -> JwtSecret {
        JwtSecret::new("a-test-secret-of-at-least-32-bytes!!")
    }

    /// Seconds from now, as a claim.
    fn at(seconds: i64) -> i64 {
        Utc::now().timestamp() + seconds
    }

    fn token(claims: Value) -> String {
        secret().sign(&claims)
    }

    fn valid() -> Value {
        json!({ "sub": "u1", "role": "staff", "exp": at(60) })
    }

    #[test]
    fn accepts_a_valid_token() {
        let exp = at(60);
        let claims = verify(
            &token(json!({ "sub": "u1", "role": "staff", "exp": exp })),
            &secret(),
        )
        .unwrap();
        assert_eq!(claims.sub, "u1");
        assert_eq!(claims.role, Role::Staff);
        assert_eq!(claims.expires_at.timestamp(), exp);
        let numeric = verify(
            &token(json!({ "sub": 7, "role": "viewer", "exp": exp })),
            &secret(),
        );
        assert_eq!(
            numeric.unwrap().sub,
            "7",
            "a numeric `sub` is read as a string"
        );
    }

    #[test]
    fn says_which_check_failed() {
        let cases = [
            (
                json!({ "sub": "u1", "role": "staff", "exp": at(-1) }),
                TokenError::Expired,
            ),
            (
                json!({ "sub": "u1", "role": "staff", "exp": at(60), "nbf": at(30) }),
                TokenError::NotYetValid,
            ),
            (
                json!({ "sub": "u1", "role": "staff" }),
                TokenError::MissingClaim("exp"),
            ),
            (
                json!({ "sub": "u1", "role": "staff", "exp": "tomorrow" }),
                TokenError::MissingClaim("exp"),
            ),
            (
                json!({ "sub": "u1", "role": "staff", "exp": -5 }),
                TokenError::MissingClaim("exp"),
            ),
            (
                json!({ "role": "staff", "exp": at(60) }),
                TokenError::MissingClaim("sub"),
            ),
            (
                json!({ "sub": "u1", "exp": at(60) }),
                TokenError::MissingClaim("role"),
            ),
            (
                json!({ "sub": "u1", "role": "root", "exp": at(60) }),
                TokenError::UnknownRole("root".into()),
            ),
        ];
        for (claims, error) in cases {
            assert_eq!(
                verify(&token(claims.clone()), &secret()),
                Err(error),
                "{claims}"
            );
        }
    }

    #[test]
    fn refuses_other_secrets_algorithms_and_junk() {
        let other = JwtSecret::new("another-secret-of-at-least-32-bytes!").sign(&valid());
        assert_eq!(verify(&other, &secret()), Err(TokenError::Signature));

        let good = token(valid());
        let (_, rest) = good.split_once('.').unwrap();
        for alg in ["none", "HS512", "RS256"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            let forged = format!("{header}.{rest}");
            assert_eq!(
                verify(&forged, &secret()),
                Err(TokenError::Algorithm(alg.into()))
            );
        }
        let unsigned = format!("{}.", &good[..good.rfind('.').unwrap()]);
        assert_eq!(verify(&unsigned, &secret()), Err(TokenError::Signature));
        for junk in ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.e30"] {
            assert!(verify(junk, &secret()).is_err(), "{junk}");
        }
    }
}

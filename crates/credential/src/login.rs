//! The login request a wallet scans and the message its holder key signs in answer
//! (docs/login.md).
//!
//! A [`LoginRequest`] is signed by the issuer key, so a wallet that trusts the issuer's JWKS can
//! refuse a forged request (one that would send the citizen's credential to someone else, or
//! name another portal than the one asking). The wallet's answer signs
//! [`LoginRequest::response_message`], which binds it to every field of the request.

use crate::cbor;
use crate::cose;
use crate::error::Error;
use crate::keys::{Jwks, Kid};
use crate::payload::prefix::LOGIN_REQUEST;
use ciborium::Value;
use ed25519_dalek::Signature;
use sha2::{Digest, Sha256};
use signature::Signer;

/// The `typ` header of a login request.
pub const LOGIN_TYP: &str = "qrid-login";
/// Longest login request text accepted (QR version 40, alphanumeric, level L).
pub const MAX_LOGIN_REQUEST_CHARS: usize = 4296;
/// Most scopes a request may carry.
pub const MAX_SCOPES: usize = 16;
/// Longest text field (URLs, names, scopes) in a request.
pub const MAX_FIELD: usize = 512;
const RESPONSE_DOMAIN: &[u8] = b"qrid-login-response-v1\0";

/// A login request: which transaction, which challenge, who asks for what, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    /// Transaction id (32 hex digits).
    pub tx: String,
    /// Random challenge.
    pub challenge: [u8; 32],
    /// The service's public URL.
    pub audience: String,
    /// Where the wallet POSTs its response.
    pub response_uri: String,
    /// The portal's client id.
    pub client_id: String,
    /// The portal's registered name.
    pub client_name: String,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// Issued at, Unix seconds.
    pub issued_at: i64,
    /// Expires at, Unix seconds.
    pub expires_at: i64,
}

/// A login request whose issuer signature has been checked, with the bytes that were signed.
#[derive(Debug, Clone)]
pub struct VerifiedLoginRequest {
    /// The request.
    pub request: LoginRequest,
    /// The signed CBOR payload: what [`LoginRequest::response_message`] hashes.
    pub payload: Vec<u8>,
}

impl LoginRequest {
    /// The CBOR payload that the issuer signs.
    pub fn to_cbor(&self) -> Vec<u8> {
        let t = |s: &str| Value::Text(s.to_owned());
        let map = vec![
            (t("tx"), t(&self.tx)),
            (t("ch"), Value::Bytes(self.challenge.to_vec())),
            (t("aud"), t(&self.audience)),
            (t("rsp"), t(&self.response_uri)),
            (t("cid"), t(&self.client_id)),
            (t("cn"), t(&self.client_name)),
            (
                t("sc"),
                Value::Array(self.scopes.iter().map(|s| t(s)).collect()),
            ),
            (t("iat"), Value::Integer(self.issued_at.into())),
            (t("exp"), Value::Integer(self.expires_at.into())),
        ];
        cbor::encode(&Value::Map(map))
    }

    /// Signs the request and returns its QR text (`QL1:` + base45 COSE_Sign1).
    pub fn sign<S: Signer<Signature>>(&self, signer: &S, kid: &Kid) -> Result<String, Error> {
        self.check()?;
        let protected = cose::protected_header(&kid.short(), Some(LOGIN_TYP));
        let msg = cose::sign(signer, &protected, &self.to_cbor())?;
        Ok(format!("{LOGIN_REQUEST}{}", crate::base45::encode(&msg)))
    }

    /// Parses QR text and checks the issuer signature against `trust`; refuses any other
    /// `typ`, an unknown key, oversize fields. Does not look at the clock: see
    /// [`LoginRequest::is_expired`].
    pub fn verify(text: &str, trust: &Jwks) -> Result<VerifiedLoginRequest, Error> {
        let msg = cose::open_prefixed(
            text,
            LOGIN_REQUEST,
            LOGIN_TYP,
            MAX_LOGIN_REQUEST_CHARS,
            "login request",
            trust,
        )?;
        let request = LoginRequest::from_cbor(msg.payload())?;
        Ok(VerifiedLoginRequest {
            request,
            payload: msg.payload().to_vec(),
        })
    }

    fn from_cbor(bytes: &[u8]) -> Result<LoginRequest, Error> {
        let Value::Map(m) = cbor::decode(bytes)? else {
            return Err(bad("login request is not a map"));
        };
        let text = |k: &str| -> Result<String, Error> {
            match cbor::get_text(&m, k) {
                Some(Value::Text(s)) if s.len() <= MAX_FIELD => Ok(s.clone()),
                _ => Err(bad("login request lacks a text field or it is too long")),
            }
        };
        let int = |k: &str| -> Result<i64, Error> {
            cbor::get_text(&m, k)
                .and_then(cbor::as_i64)
                .ok_or_else(|| bad("login request lacks a time"))
        };
        let challenge = match cbor::get_text(&m, "ch") {
            Some(Value::Bytes(b)) => <[u8; 32]>::try_from(b.as_slice())
                .map_err(|_| bad("login challenge is not 32 bytes"))?,
            _ => return Err(bad("login request has no challenge")),
        };
        let scopes = match cbor::get_text(&m, "sc") {
            Some(Value::Array(a)) if a.len() <= MAX_SCOPES => a
                .iter()
                .map(|v| match v {
                    Value::Text(s) if s.len() <= MAX_FIELD => Ok(s.clone()),
                    _ => Err(bad("a scope is not a short text")),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(bad("login request has no scope list")),
        };
        let r = LoginRequest {
            tx: text("tx")?,
            challenge,
            audience: text("aud")?,
            response_uri: text("rsp")?,
            client_id: text("cid")?,
            client_name: text("cn")?,
            scopes,
            issued_at: int("iat")?,
            expires_at: int("exp")?,
        };
        r.check()?;
        Ok(r)
    }

    fn check(&self) -> Result<(), Error> {
        let long = [
            &self.tx,
            &self.audience,
            &self.response_uri,
            &self.client_id,
            &self.client_name,
        ]
        .iter()
        .any(|s| s.len() > MAX_FIELD);
        if long || self.scopes.len() > MAX_SCOPES || self.scopes.iter().any(|s| s.len() > MAX_FIELD)
        {
            return Err(bad("login request field over its limit"));
        }
        if self.expires_at < self.issued_at {
            return Err(bad("login request expires before it was issued"));
        }
        Ok(())
    }

    /// Whether the request has expired at `now` (Unix seconds), allowing `skew` seconds.
    pub fn is_expired(&self, now: i64, skew: i64) -> bool {
        now > self.expires_at.saturating_add(skew)
    }

    /// The bytes the holder key signs in answer to the request whose signed payload is
    /// `payload`: a domain label, then SHA-256 of the payload.
    pub fn response_message(payload: &[u8]) -> Vec<u8> {
        Self::response_message_for_digest(&Sha256::digest(payload).into())
    }

    /// [`LoginRequest::response_message`] from the SHA-256 of the payload, which is what the
    /// service keeps of a request it issued.
    pub fn response_message_for_digest(digest: &[u8; 32]) -> Vec<u8> {
        let mut m = Vec::with_capacity(RESPONSE_DOMAIN.len() + 32);
        m.extend_from_slice(RESPONSE_DOMAIN);
        m.extend_from_slice(digest);
        m
    }
}

fn bad(msg: &str) -> Error {
    Error::CoseStructure(msg.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::IssuerKey;

    fn request() -> LoginRequest {
        LoginRequest {
            tx: "00112233445566778899aabbccddeeff".into(),
            challenge: [9; 32],
            audience: "https://id.example".into(),
            response_uri: "https://id.example/login/response".into(),
            client_id: "c1".into(),
            client_name: "Cổng dịch vụ công".into(),
            scopes: vec!["openid".into(), "profile".into()],
            issued_at: 1_000,
            expires_at: 1_300,
        }
    }

    #[test]
    fn sign_verify_round_trip_and_refusals() {
        let key = IssuerKey::generate();
        let trust = Jwks {
            keys: vec![key.jwk()],
        };
        let text = request().sign(key.signing_key(), key.kid()).unwrap();
        assert!(text.starts_with("QL1:"));
        let v = LoginRequest::verify(&text, &trust).unwrap();
        assert_eq!(v.request, request());
        assert!(!v.request.is_expired(1_300, 0));
        assert!(v.request.is_expired(1_301, 0));

        // Another issuer's key: unknown.
        let other = IssuerKey::generate();
        let forged = request().sign(other.signing_key(), key.kid()).unwrap();
        assert_eq!(
            LoginRequest::verify(&forged, &trust).unwrap_err(),
            Error::BadSignature
        );
        let unknown = request().sign(other.signing_key(), other.kid()).unwrap();
        assert_eq!(
            LoginRequest::verify(&unknown, &trust).unwrap_err(),
            Error::UnknownKey
        );
        // A credential is not a login request.
        assert!(LoginRequest::verify("NCF", &trust).is_err());
        // One changed character breaks it.
        let mut chars: Vec<char> = text.chars().collect();
        let i = chars.len() - 10;
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        let edited: String = chars.into_iter().collect();
        assert!(LoginRequest::verify(&edited, &trust).is_err());
    }

    #[test]
    fn response_message_binds_the_payload() {
        let a = LoginRequest::response_message(b"one");
        let b = LoginRequest::response_message(b"two");
        assert_ne!(a, b);
        assert!(a.starts_with(b"qrid-login-response-v1\0"));
    }
}

//! The live QR a wallet shows at a counter (docs/credential-format.md, "The live QR"): the
//! credential and the time, signed by the holder key the credential is bound to (`cnf`).
//!
//! ```text
//! QP1: base45( COSE_Sign1 18([ protected {1: -8, 4: holder kid (4 bytes), 16: "qrid-presentation"},
//!                             {},
//!                             {1: credential bytes (its QR text, base45-decoded),
//!                              2: presented_at (Unix seconds),
//!                              3: nonce (8 random bytes)},
//!                             Ed25519 signature by the holder key ]) )
//! ```
//!
//! A photo or a screenshot of it carries the time it was made, and a counter refuses it once
//! [`PRESENTATION_MAX_AGE`] seconds have passed; within that time a counter that has seen it
//! before refuses it as a replay (the nonce makes each one the wallet shows different). The
//! wallet shows a new one every [`PRESENTATION_REFRESH`] seconds.
//!
//! ```
//! use qrid_credential::{IssuerKey, Presentation};
//!
//! let holder = IssuerKey::generate();
//! let p = Presentation { credential: "NCFOXN…".into(), presented_at: 1_796_083_200, nonce: [7; 8] };
//! # let p = Presentation { credential: "6BF-IVQJB".into(), ..p };
//! let text = p.sign(holder.signing_key(), holder.kid()).unwrap();
//! let opened = Presentation::open(&text).unwrap();
//! opened.verify_holder(&holder.verifying_key()).unwrap();
//! assert_eq!(opened.presentation, p);
//! ```

use crate::cbor;
use crate::cose::{self, SignedMessage};
use crate::error::Error;
use crate::keys::Kid;
use crate::payload::prefix::PRESENTATION;
use ciborium::Value;
use ed25519_dalek::{Signature, VerifyingKey};
use signature::Signer;

/// The COSE `typ` of a live presentation.
pub const PRESENTATION_TYP: &str = "qrid-presentation";
/// Longest presentation text read (QR version 40, alphanumeric, level L).
pub const MAX_PRESENTATION_CHARS: usize = 4296;
/// Seconds after `presented_at` from which a counter refuses the presentation as stale.
pub const PRESENTATION_MAX_AGE: i64 = 45;
/// Seconds `presented_at` may lie ahead of the counter's clock (a phone's clock runs fast).
pub const PRESENTATION_AHEAD: i64 = 15;
/// How often a wallet shows a new presentation.
pub const PRESENTATION_REFRESH: i64 = 15;

/// What a wallet presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    /// The credential's QR text (base45).
    pub credential: String,
    /// When the wallet made it, Unix seconds, by the phone's clock.
    pub presented_at: i64,
    /// Random bytes that make each presentation different.
    pub nonce: [u8; 8],
}

/// A presentation read from its QR text whose holder signature is not checked yet: verify
/// the credential inside first, then [`OpenedPresentation::verify_holder`] with its `cnf` key.
#[derive(Clone)]
pub struct OpenedPresentation {
    msg: SignedMessage,
    /// What it says.
    pub presentation: Presentation,
}

fn bad(msg: &str) -> Error {
    Error::CoseStructure(msg.to_owned())
}

impl Presentation {
    /// Signs the presentation with the holder key (`kid` its thumbprint); returns the QR
    /// text. Refuses a credential text that is not base45.
    pub fn sign<S: Signer<Signature>>(&self, holder: &S, kid: &Kid) -> Result<String, Error> {
        let credential = crate::base45::decode(&self.credential)?;
        let payload = cbor::encode(&Value::Map(vec![
            (Value::Integer(1.into()), Value::Bytes(credential)),
            (
                Value::Integer(2.into()),
                Value::Integer(self.presented_at.into()),
            ),
            (Value::Integer(3.into()), Value::Bytes(self.nonce.to_vec())),
        ]));
        let protected = cose::protected_header(&kid.short(), Some(PRESENTATION_TYP));
        let msg = cose::sign(holder, &protected, &payload)?;
        Ok(format!("{PRESENTATION}{}", crate::base45::encode(&msg)))
    }

    /// Reads QR text: at most [`MAX_PRESENTATION_CHARS`], the `QP1:` prefix, a COSE_Sign1 in
    /// deterministic encoding with EdDSA and `typ` [`PRESENTATION_TYP`], whose payload is the
    /// map above with nothing else in it.
    pub fn open(text: &str) -> Result<OpenedPresentation, Error> {
        let text = text.trim_matches(|c: char| matches!(c, '\r' | '\n' | '\t'));
        if text.len() > MAX_PRESENTATION_CHARS {
            return Err(Error::TooLarge {
                what: "presentation text",
                limit: MAX_PRESENTATION_CHARS,
            });
        }
        let body = text
            .strip_prefix(PRESENTATION)
            .ok_or_else(|| bad("a live presentation starts with QP1:"))?;
        let msg = SignedMessage::parse(&crate::base45::decode(body)?)?;
        if msg.typ() != Some(PRESENTATION_TYP) {
            return Err(bad("typ header says this is not a live presentation"));
        }
        cbor::check_deterministic(msg.payload())?;
        let Value::Map(m) = cbor::decode(msg.payload())? else {
            return Err(bad("presentation is not a map"));
        };
        if m.len() != 3 {
            return Err(bad("presentation has other members than 1, 2 and 3"));
        }
        let credential = match cbor::get_int(&m, 1) {
            Some(Value::Bytes(b)) => crate::base45::encode(b),
            _ => return Err(bad("presentation has no credential")),
        };
        let presented_at = cbor::get_int(&m, 2)
            .and_then(cbor::as_i64)
            .ok_or_else(|| bad("presentation has no time"))?;
        let nonce = match cbor::get_int(&m, 3) {
            Some(Value::Bytes(b)) => {
                <[u8; 8]>::try_from(b.as_slice()).map_err(|_| bad("nonce is not 8 bytes"))?
            }
            _ => return Err(bad("presentation has no nonce")),
        };
        Ok(OpenedPresentation {
            msg,
            presentation: Presentation {
                credential,
                presented_at,
                nonce,
            },
        })
    }
}

impl OpenedPresentation {
    /// Checks the holder's signature with the credential's `cnf` key.
    pub fn verify_holder(&self, holder: &VerifyingKey) -> Result<(), Error> {
        self.msg.verify(holder)
    }

    /// Whether `presented_at` is acceptable at `now`: not more than [`PRESENTATION_MAX_AGE`]
    /// seconds old, not more than [`PRESENTATION_AHEAD`] ahead.
    pub fn is_fresh(&self, now: i64) -> bool {
        let t = self.presentation.presented_at;
        t > now - PRESENTATION_MAX_AGE && t <= now + PRESENTATION_AHEAD
    }

    /// Until when a counter must remember it to refuse a replay: after that it is stale
    /// anyway.
    pub fn remember_until(&self) -> i64 {
        self.presentation
            .presented_at
            .saturating_add(PRESENTATION_MAX_AGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::IssuerKey;

    fn sample() -> Presentation {
        Presentation {
            credential: crate::base45::encode(b"\x78\x9cany credential bytes"),
            presented_at: 1_796_083_200,
            nonce: [1, 2, 3, 4, 5, 6, 7, 8],
        }
    }

    #[test]
    fn round_trip_and_the_holder_check() {
        let holder = IssuerKey::generate();
        let text = sample().sign(holder.signing_key(), holder.kid()).unwrap();
        assert!(text.starts_with("QP1:"));
        let o = Presentation::open(&text).unwrap();
        assert_eq!(o.presentation, sample());
        o.verify_holder(&holder.verifying_key()).unwrap();
        let other = IssuerKey::generate();
        assert_eq!(
            o.verify_holder(&other.verifying_key()),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn freshness_window() {
        let holder = IssuerKey::generate();
        let o = Presentation::open(&sample().sign(holder.signing_key(), holder.kid()).unwrap())
            .unwrap();
        let t = sample().presented_at;
        assert!(o.is_fresh(t));
        assert!(o.is_fresh(t + PRESENTATION_MAX_AGE - 1));
        assert!(!o.is_fresh(t + PRESENTATION_MAX_AGE));
        assert!(o.is_fresh(t - PRESENTATION_AHEAD));
        assert!(!o.is_fresh(t - PRESENTATION_AHEAD - 1));
    }

    #[test]
    fn other_kinds_and_shapes_are_refused() {
        let holder = IssuerKey::generate();
        let text = sample().sign(holder.signing_key(), holder.kid()).unwrap();
        assert!(Presentation::open(&text.replacen("QP1:", "QS1:", 1)).is_err());
        assert!(Presentation::open(&text[4..]).is_err());
        let long = format!("QP1:{}", "0".repeat(MAX_PRESENTATION_CHARS));
        assert!(matches!(
            Presentation::open(&long),
            Err(Error::TooLarge { .. })
        ));
        // A stamp-typed message under the presentation prefix.
        let protected = cose::protected_header(&holder.kid().short(), Some("qrid-stamp"));
        let msg = cose::sign(holder.signing_key(), &protected, &[0xA0]).unwrap();
        let wrong = format!("QP1:{}", crate::base45::encode(&msg));
        assert!(Presentation::open(&wrong).is_err());
    }

    proptest::proptest! {
        #[test]
        fn open_never_panics(s in "QP1:[0-9A-Z $%*+./:-]{0,400}") {
            let _ = Presentation::open(&s);
        }
    }
}

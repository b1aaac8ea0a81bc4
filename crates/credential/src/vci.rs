//! The wallet's key proof of OpenID for Verifiable Credential Issuance 1.0 (OpenID4VCI), proof
//! type `jwt` (Appendix F.1): a JWT that the holder key signs over the credential issuer's
//! identifier (`aud`), the time (`iat`) and the issuer's fresh `c_nonce`, carrying its public
//! key in the header (`jwk`). The issuer binds the credential it issues to that key (`cnf`).
//!
//! ```text
//! BASE64URL({"alg":"EdDSA","typ":"openid4vci-proof+jwt","jwk":{"kty":"OKP","crv":"Ed25519","x":…}})
//!   . BASE64URL({"aud":"https://id.example.vn","iat":1796083200,"nonce":"…"})
//!   . BASE64URL(Ed25519 signature over the first two parts and the dot)
//! ```
//!
//! This module checks what the proof itself says: its form, type, algorithm, key and
//! signature ([`KeyProof::verify`]). Whether `aud` is this issuer, `iat` is recent and the
//! nonce is one the issuer handed out and has not seen used is the issuer's to judge, with its
//! clock and its nonce store.
//!
//! ```
//! use qrid_credential::vci::{sign_proof, KeyProof};
//! use qrid_credential::IssuerKey;
//!
//! let holder = IssuerKey::generate(); // the wallet's holder key
//! let jwt = sign_proof(holder.signing_key(), &holder.verifying_key(), "https://id.example.vn", 1_796_083_200, "n-0S6_WzA2Mj").unwrap();
//! let proof = KeyProof::verify(&jwt).unwrap();
//! assert_eq!(proof.holder, holder.verifying_key());
//! assert_eq!(proof.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{json, Map, Value};
use signature::Signer;

/// The `typ` header of a key proof (OpenID4VCI 1.0 §F.1).
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// The longest proof read: a proof with an Ed25519 key and a nonce is under 600 characters;
/// anything far longer is refused before it is decoded.
pub const MAX_PROOF_CHARS: usize = 4096;
/// The longest `aud`, `nonce` or `iss` text kept from a proof.
pub const MAX_PROOF_TEXT: usize = 512;

/// Why a key proof was refused. Each variant is one cause; [`ProofError::kind`] is stable.
/// Messages hold no key material and no claim values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// Longer than [`MAX_PROOF_CHARS`].
    #[error("the proof is longer than {MAX_PROOF_CHARS} characters")]
    TooLong,
    /// Not three base64url parts of JSON objects, or a claim of the wrong type.
    #[error("the proof is not a well-formed JWT: {0}")]
    Malformed(&'static str),
    /// `typ` is not [`PROOF_TYP`].
    #[error("the proof's typ must be {PROOF_TYP}")]
    WrongType,
    /// `alg` is not EdDSA (the one algorithm the issuer's metadata offers).
    #[error("the proof's algorithm must be EdDSA")]
    AlgorithmNotAllowed,
    /// The header names its key other than by `jwk` (`kid`, `x5c`, `trust_chain`), carries a
    /// critical extension, or its `jwk` is not a public Ed25519 key.
    #[error("the proof's key is not usable: {0}")]
    Key(&'static str),
    /// The signature does not verify with the key in the header: the proof was not made by
    /// the key it presents.
    #[error("the proof's signature does not verify with the key it presents")]
    BadSignature,
}

impl ProofError {
    /// A stable, machine-readable name of the cause.
    pub fn kind(&self) -> &'static str {
        match self {
            ProofError::TooLong => "proof_too_long",
            ProofError::Malformed(_) => "proof_malformed",
            ProofError::WrongType => "proof_wrong_type",
            ProofError::AlgorithmNotAllowed => "proof_algorithm",
            ProofError::Key(_) => "proof_key",
            ProofError::BadSignature => "proof_signature",
        }
    }
}

/// A key proof whose signature verified with the key it presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProof {
    /// The holder key: the `jwk` of the header, which made the signature.
    pub holder: VerifyingKey,
    /// `aud`: whom the wallet meant the proof for (the credential issuer identifier).
    pub aud: String,
    /// `iat`, Unix seconds, as the wallet's clock says.
    pub iat: i64,
    /// `nonce`, if present.
    pub nonce: Option<String>,
    /// `iss`, the wallet's client id, if present (absent in the anonymous pre-authorized flow).
    pub iss: Option<String>,
}

/// A key proof for the issuer `aud`, at `iat`, over `nonce`, presenting `holder` and signed by
/// `signer` (which must hold `holder`'s private key, or the issuer refuses the proof).
pub fn sign_proof<S: Signer<Signature>>(
    signer: &S,
    holder: &VerifyingKey,
    aud: &str,
    iat: i64,
    nonce: &str,
) -> Result<String, crate::Error> {
    let key = holder;
    let header = json!({
        "alg": "EdDSA",
        "typ": PROOF_TYP,
        "jwk": {"kty": "OKP", "crv": "Ed25519", "x": B64URL.encode(key.as_bytes())},
    });
    let claims = json!({"aud": aud, "iat": iat, "nonce": nonce});
    let input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(claims.to_string())
    );
    let sig: Signature = signer
        .try_sign(input.as_bytes())
        .map_err(|_| crate::Error::Signing)?;
    Ok(format!("{input}.{}", B64URL.encode(sig.to_bytes())))
}

fn json_part(part: &str, what: &'static str) -> Result<Map<String, Value>, ProofError> {
    let bytes = B64URL
        .decode(part)
        .map_err(|_| ProofError::Malformed(what))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ProofError::Malformed(what)),
    }
}

fn text(m: &Map<String, Value>, k: &str) -> Result<Option<String>, ProofError> {
    match m.get(k) {
        None => Ok(None),
        Some(Value::String(s)) if s.len() <= MAX_PROOF_TEXT => Ok(Some(s.clone())),
        Some(_) => Err(ProofError::Malformed(
            "aud, nonce and iss must be short strings",
        )),
    }
}

impl KeyProof {
    /// Parses a proof and verifies its signature with the key in its header. Refuses a proof
    /// longer than [`MAX_PROOF_CHARS`], a `typ` other than [`PROOF_TYP`], an algorithm other
    /// than EdDSA, a key named by `kid`, `x5c` or `trust_chain` instead of `jwk`, a `jwk` that
    /// holds a private part or is not a valid Ed25519 point, a `crit` header, a missing `aud`
    /// or `iat`, and a signature that the presented key did not make.
    pub fn verify(jwt: &str) -> Result<KeyProof, ProofError> {
        if jwt.len() > MAX_PROOF_CHARS {
            return Err(ProofError::TooLong);
        }
        let mut parts = jwt.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ProofError::Malformed("a JWT has three parts"));
        };
        let header = json_part(h, "the header is not base64url JSON")?;
        let claims = json_part(c, "the claims are not base64url JSON")?;
        if header.get("typ").and_then(Value::as_str) != Some(PROOF_TYP) {
            return Err(ProofError::WrongType);
        }
        if header.get("alg").and_then(Value::as_str) != Some("EdDSA") {
            return Err(ProofError::AlgorithmNotAllowed);
        }
        if header.contains_key("crit") {
            return Err(ProofError::Key("no critical header is understood"));
        }
        if ["kid", "x5c", "trust_chain"]
            .iter()
            .any(|k| header.contains_key(*k))
        {
            return Err(ProofError::Key("the key must be given as jwk alone"));
        }
        let holder = header_key(header.get("jwk"))?;
        let sig: [u8; 64] = B64URL
            .decode(s)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(ProofError::Malformed(
                "the signature is not 64 base64url bytes",
            ))?;
        let input_len = h.len() + 1 + c.len();
        holder
            .verify_strict(&jwt.as_bytes()[..input_len], &Signature::from_bytes(&sig))
            .map_err(|_| ProofError::BadSignature)?;
        let aud = match claims.get("aud") {
            // RFC 7519 allows an array of audiences; the proof is for one issuer.
            Some(Value::Array(a)) if a.len() == 1 => a[0]
                .as_str()
                .filter(|s| s.len() <= MAX_PROOF_TEXT)
                .map(str::to_owned),
            Some(Value::String(s)) if s.len() <= MAX_PROOF_TEXT => Some(s.clone()),
            _ => None,
        }
        .ok_or(ProofError::Malformed("aud must be the credential issuer"))?;
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or(ProofError::Malformed("iat must be an integer"))?;
        Ok(KeyProof {
            holder,
            aud,
            iat,
            nonce: text(&claims, "nonce")?,
            iss: text(&claims, "iss")?,
        })
    }
}

fn header_key(jwk: Option<&Value>) -> Result<VerifyingKey, ProofError> {
    let Some(Value::Object(jwk)) = jwk else {
        return Err(ProofError::Key("the header has no jwk"));
    };
    if jwk.contains_key("d") {
        return Err(ProofError::Key("the jwk holds a private key"));
    }
    if jwk.get("kty").and_then(Value::as_str) != Some("OKP")
        || jwk.get("crv").and_then(Value::as_str) != Some("Ed25519")
    {
        return Err(ProofError::Key("the jwk is not an Ed25519 key"));
    }
    let x: [u8; 32] = jwk
        .get("x")
        .and_then(Value::as_str)
        .and_then(|x| B64URL.decode(x).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or(ProofError::Key("the jwk's x is not 32 base64url bytes"))?;
    let key = VerifyingKey::from_bytes(&x)
        .map_err(|_| ProofError::Key("the jwk's x is not an Ed25519 point"))?;
    if key.is_weak() {
        return Err(ProofError::Key("the jwk is a weak (small-order) key"));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IssuerKey;
    use ed25519_dalek::SigningKey;

    const AUD: &str = "https://id.example.vn";

    fn forge(header: Value, claims: Value, key: &SigningKey) -> String {
        let input = format!(
            "{}.{}",
            B64URL.encode(header.to_string()),
            B64URL.encode(claims.to_string())
        );
        let sig = key.sign(input.as_bytes());
        format!("{input}.{}", B64URL.encode(sig.to_bytes()))
    }

    fn header_of(key: &IssuerKey) -> Value {
        json!({"alg": "EdDSA", "typ": PROOF_TYP,
               "jwk": {"kty": "OKP", "crv": "Ed25519", "x": B64URL.encode(key.verifying_key().as_bytes())}})
    }

    #[test]
    fn a_proof_round_trips() {
        let k = IssuerKey::generate();
        let p = KeyProof::verify(
            &sign_proof(k.signing_key(), &k.verifying_key(), AUD, 5, "abc").unwrap(),
        )
        .unwrap();
        assert_eq!(
            (p.aud.as_str(), p.iat, p.nonce.as_deref(), p.iss),
            (AUD, 5, Some("abc"), None)
        );
    }

    #[test]
    fn a_proof_signed_by_another_key_than_the_one_presented_is_refused() {
        let presented = IssuerKey::generate();
        let signer = IssuerKey::generate();
        let jwt = forge(
            header_of(&presented),
            json!({"aud": AUD, "iat": 1, "nonce": "n"}),
            signer.signing_key(),
        );
        assert_eq!(KeyProof::verify(&jwt), Err(ProofError::BadSignature));
    }

    #[test]
    fn each_malformed_header_is_refused_with_its_reason() {
        let k = IssuerKey::generate();
        let claims = json!({"aud": AUD, "iat": 1, "nonce": "n"});
        let with = |f: &dyn Fn(&mut Map<String, Value>)| {
            let mut h = header_of(&k);
            f(h.as_object_mut().unwrap());
            KeyProof::verify(&forge(h, claims.clone(), k.signing_key()))
                .unwrap_err()
                .kind()
        };
        assert_eq!(
            with(&|h| {
                h.insert("typ".into(), "JWT".into());
            }),
            "proof_wrong_type"
        );
        assert_eq!(
            with(&|h| {
                h.insert("alg".into(), "none".into());
            }),
            "proof_algorithm"
        );
        assert_eq!(
            with(&|h| {
                h.insert("alg".into(), "HS256".into());
            }),
            "proof_algorithm"
        );
        assert_eq!(
            with(&|h| {
                h.insert("kid".into(), "k1".into());
            }),
            "proof_key"
        );
        assert_eq!(
            with(&|h| {
                h.insert("crit".into(), json!(["x"]));
            }),
            "proof_key"
        );
        assert_eq!(
            with(&|h| {
                h.remove("jwk");
            }),
            "proof_key"
        );
        assert_eq!(
            with(&|h| {
                h["jwk"]["d"] = "AAAA".into();
            }),
            "proof_key"
        );
        assert_eq!(
            with(&|h| {
                h["jwk"]["crv"] = "P-256".into();
            }),
            "proof_key"
        );
    }

    #[test]
    fn missing_claims_and_bad_shapes_are_refused() {
        let k = IssuerKey::generate();
        let kind = |claims: Value| {
            KeyProof::verify(&forge(header_of(&k), claims, k.signing_key()))
                .map(|_| "ok")
                .unwrap_or_else(|e| e.kind())
        };
        assert_eq!(kind(json!({"iat": 1})), "proof_malformed");
        assert_eq!(kind(json!({"aud": AUD})), "proof_malformed");
        assert_eq!(kind(json!({"aud": AUD, "iat": "1"})), "proof_malformed");
        assert_eq!(
            kind(json!({"aud": AUD, "iat": 1, "nonce": 7})),
            "proof_malformed"
        );
        assert_eq!(kind(json!({"aud": [AUD], "iat": 1})), "ok");
        assert_eq!(
            kind(json!({"aud": [AUD, "x"], "iat": 1})),
            "proof_malformed"
        );
        assert_eq!(
            KeyProof::verify("a.b").unwrap_err().kind(),
            "proof_malformed"
        );
        assert_eq!(
            KeyProof::verify("a.b.c.d").unwrap_err().kind(),
            "proof_malformed"
        );
        let long = "a".repeat(MAX_PROOF_CHARS + 1);
        assert_eq!(KeyProof::verify(&long), Err(ProofError::TooLong));
    }

    proptest::proptest! {
        #[test]
        fn verify_never_panics(s in ".{0,700}") {
            let _ = KeyProof::verify(&s);
        }

        #[test]
        fn an_edited_proof_never_verifies(pos in 0usize..400, byte in 0u8..128) {
            let k = IssuerKey::generate();
            let jwt = sign_proof(k.signing_key(), &k.verifying_key(), AUD, 9, "nonce").unwrap();
            let mut b = jwt.clone().into_bytes();
            let i = pos % b.len();
            proptest::prop_assume!(b[i] != byte);
            b[i] = byte;
            if let Ok(edited) = String::from_utf8(b) {
                if let Ok(p) = KeyProof::verify(&edited) {
                    // base64url's last character carries spare bits: an edit there may
                    // decode to the same bytes, and only then may the proof still verify.
                    proptest::prop_assert_eq!(p, KeyProof::verify(&jwt).unwrap());
                }
            }
        }
    }
}

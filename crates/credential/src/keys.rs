//! Issuer and holder keys: Ed25519 only, identified by their RFC 7638 JWK thumbprint.

use crate::error::Error;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// How many leading bytes of the thumbprint the QR carries as its COSE `kid`.
///
/// Four bytes keep the QR small; a verifier with several keys of the same prefix tries each of
/// them (the signature decides), so a prefix collision costs time, never correctness.
pub const SHORT_KID_LEN: usize = 4;

/// A key id: the RFC 7638 JWK thumbprint (SHA-256, base64url without padding, 43 characters).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kid([u8; 32]);

impl Kid {
    /// The RFC 7638 thumbprint of an Ed25519 public key: SHA-256 over
    /// `{"crv":"Ed25519","kty":"OKP","x":"<base64url>"}` (members in lexicographic order).
    pub fn thumbprint(key: &VerifyingKey) -> Kid {
        let canonical = format!(
            r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
            B64URL.encode(key.as_bytes())
        );
        Kid(Sha256::digest(canonical.as_bytes()).into())
    }

    /// The truncated form carried in the QR.
    pub fn short(&self) -> [u8; SHORT_KID_LEN] {
        let mut out = [0u8; SHORT_KID_LEN];
        out.copy_from_slice(&self.0[..SHORT_KID_LEN]);
        out
    }

    /// Whether a `kid` from a COSE header names this key: equal to the whole thumbprint or a
    /// prefix of it of at least [`SHORT_KID_LEN`] bytes.
    pub fn matches(&self, cose_kid: &[u8]) -> bool {
        cose_kid.len() >= SHORT_KID_LEN && self.0.starts_with(cose_kid)
    }

    /// The 32 thumbprint bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Most trusted keys tried for a message that names no key (no `kid` header, as MOSIP's Claim
/// 169 encoder writes): each try is one Ed25519 verification (about 50 µs), so a message
/// without kid costs at most this many, whatever it carries.
pub const MAX_KEYS_WITHOUT_KID: usize = 16;

/// The keys among `keys` that may have signed a message whose `kid` header is `cose_kid`, in
/// their order: with a kid, every key it [`Kid::matches`]; without one, every key when there
/// are at most [`MAX_KEYS_WITHOUT_KID`] of them, and none otherwise (a larger trust list cannot
/// be searched within the bound, so such a message is refused as signed by an unknown key
/// rather than checked against an arbitrary part of the list). The signature decides among
/// the candidates.
pub fn candidates<'a, T>(
    keys: &'a [T],
    kid_of: impl Fn(&T) -> &Kid,
    cose_kid: Option<&[u8]>,
) -> Vec<&'a T> {
    match cose_kid {
        Some(cose_kid) => keys
            .iter()
            .filter(|k| kid_of(k).matches(cose_kid))
            .collect(),
        None if keys.len() <= MAX_KEYS_WITHOUT_KID => keys.iter().collect(),
        None => Vec::new(),
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&B64URL.encode(self.0))
    }
}

impl fmt::Debug for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kid({self})")
    }
}

impl FromStr for Kid {
    type Err = Error;
    fn from_str(s: &str) -> Result<Kid, Error> {
        let bytes = B64URL
            .decode(s)
            .map_err(|_| Error::Key("kid is not base64url".into()))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::Key("kid is not a 32-byte SHA-256 thumbprint".into()))?;
        Ok(Kid(arr))
    }
}

impl Serialize for Kid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Kid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Kid, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One public key of a JWKS (RFC 7517), Ed25519 only (RFC 8037 OKP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Always "OKP".
    pub kty: String,
    /// Always "Ed25519".
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// The RFC 7638 thumbprint.
    pub kid: Kid,
    /// The one algorithm this key may be used with; verifiers refuse any other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// "sig".
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// The public JWK of an Ed25519 key, pinned to EdDSA.
    pub fn from_verifying_key(key: &VerifyingKey) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: B64URL.encode(key.as_bytes()),
            kid: Kid::thumbprint(key),
            alg: Some("EdDSA".into()),
            use_: Some("sig".into()),
        }
    }

    /// The key, after checking type, curve, algorithm and that `kid` is its real thumbprint.
    pub fn verifying_key(&self) -> Result<VerifyingKey, Error> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return Err(Error::Key(format!(
                "key {} is not an Ed25519 OKP key",
                self.kid
            )));
        }
        if let Some(alg) = &self.alg {
            if alg != "EdDSA" && alg != "Ed25519" {
                return Err(Error::Key(format!(
                    "key {} is pinned to algorithm {alg}",
                    self.kid
                )));
            }
        }
        let bytes: [u8; 32] = B64URL
            .decode(&self.x)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::Key(format!("key {} has a malformed x", self.kid)))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| Error::Key(format!("key {} is not a valid Ed25519 point", self.kid)))?;
        if key.is_weak() {
            return Err(Error::Key(format!(
                "key {} is a weak (small-order) key",
                self.kid
            )));
        }
        if Kid::thumbprint(&key) != self.kid {
            return Err(Error::Key(format!(
                "key {} has a kid that is not its thumbprint",
                self.kid
            )));
        }
        Ok(key)
    }
}

/// A JSON Web Key Set: the trust list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// Largest JWKS document accepted.
pub const MAX_JWKS_BYTES: usize = 1024 * 1024;

impl Jwks {
    /// Parses a JWKS document, refusing oversize input.
    pub fn from_json(json: &[u8]) -> Result<Jwks, Error> {
        if json.len() > MAX_JWKS_BYTES {
            return Err(Error::TooLarge {
                what: "JWKS document",
                limit: MAX_JWKS_BYTES,
            });
        }
        serde_json::from_slice(json).map_err(|e| Error::Key(format!("JWKS: {e}")))
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// An Ed25519 signing key held in a file, with its key id.
///
/// It implements [`signature::Signer`] through [`IssuerKey::signing_key`]; code that signs takes
/// any `Signer`, so a hardware key can replace a file key.
pub struct IssuerKey {
    signing: SigningKey,
    kid: Kid,
}

impl IssuerKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> IssuerKey {
        IssuerKey::from_signing_key(SigningKey::generate(&mut rand_core::OsRng))
    }

    /// Wraps an existing key.
    pub fn from_signing_key(signing: SigningKey) -> IssuerKey {
        let kid = Kid::thumbprint(&signing.verifying_key());
        IssuerKey { signing, kid }
    }

    /// Reads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<IssuerKey, Error> {
        SigningKey::from_pkcs8_pem(pem)
            .map(IssuerKey::from_signing_key)
            .map_err(|_| Error::Key("not a PKCS#8 PEM Ed25519 private key".into()))
    }

    /// The PKCS#8 PEM encoding; the returned string zeroises itself when dropped.
    pub fn to_pkcs8_pem(&self) -> Result<zeroize::Zeroizing<String>, Error> {
        self.signing
            .to_pkcs8_pem(Default::default())
            .map_err(|_| Error::Key("could not encode the key as PKCS#8".into()))
    }

    /// The key id.
    pub fn kid(&self) -> &Kid {
        &self.kid
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The public JWK.
    pub fn jwk(&self) -> Jwk {
        Jwk::from_verifying_key(&self.signing.verifying_key())
    }

    /// The signer.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuerKey({})", self.kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_by_kid_or_every_key_within_the_bound() {
        let keys: Vec<Kid> = (0..=MAX_KEYS_WITHOUT_KID)
            .map(|_| IssuerKey::generate().kid().clone())
            .collect();
        let last = &keys[MAX_KEYS_WITHOUT_KID];
        let pick = |keys: &[Kid], kid: Option<&[u8]>| candidates(keys, |k| k, kid).len();
        // With a kid: the keys it names, however many keys there are.
        assert_eq!(pick(&keys, Some(&last.short())), 1);
        assert_eq!(pick(&keys, Some(&last.short()[..3])), 0);
        // Without: every key of a list within the bound, none of a longer one.
        assert_eq!(
            pick(&keys[..MAX_KEYS_WITHOUT_KID], None),
            MAX_KEYS_WITHOUT_KID
        );
        assert_eq!(pick(&keys, None), 0);
        assert_eq!(pick(&[], None), 0);
    }

    #[test]
    fn rfc8037_thumbprint_example() {
        // RFC 8037 appendix A.3: the thumbprint of the example Ed25519 public key.
        let x = B64URL
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        let key = VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
        assert_eq!(
            Kid::thumbprint(&key).to_string(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn jwk_round_trip_and_tampering() {
        let key = IssuerKey::generate();
        let jwk = key.jwk();
        assert_eq!(jwk.verifying_key().unwrap(), key.verifying_key());
        let mut other = jwk.clone();
        other.kid = IssuerKey::generate().kid().clone();
        assert!(other.verifying_key().is_err());
        let mut es = jwk.clone();
        es.alg = Some("ES256".into());
        assert!(es.verifying_key().is_err());
        let pem = key.to_pkcs8_pem().unwrap();
        assert_eq!(IssuerKey::from_pkcs8_pem(&pem).unwrap().kid(), key.kid());
        assert!(IssuerKey::from_pkcs8_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"
        )
        .is_err());
        assert!(key.kid().matches(&key.kid().short()));
        assert!(!key.kid().matches(&key.kid().short()[..3]));
        assert!(!format!("{key:?}").contains("BEGIN"));
    }
}

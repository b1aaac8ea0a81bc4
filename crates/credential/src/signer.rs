//! The signer credential: the issuer's statement that a signing key belongs to an official,
//! with the official's name, title and agency (docs/signature-format.md).
//!
//! It is a CWT in a COSE_Sign1 like the identity credential, with `typ` `qrid-signer` so that
//! neither can be taken for the other: [`crate::open`] refuses it as an identity credential and
//! [`SignerCredential::open`] refuses an identity credential. The signing key is in `cnf`
//! (RFC 8747); the status reference is the same Token Status List claim, in the same lists.

use crate::cbor::{self, get_int, get_text};
use crate::claims::Text;
use crate::cose::{self, SignedMessage};
use crate::credential::{
    encode_cnf, encode_status, int, key, parse_cnf, parse_cti, parse_status, text, CredentialId,
    HolderKey, StatusRef, ISSUER_MAX,
};
use crate::error::{ClaimError, Error};
use crate::keys::Kid;
use crate::payload;
use ciborium::Value;
use ed25519_dalek::{Signature, VerifyingKey};
use signature::Signer;

/// The COSE `typ` of a signer credential.
pub const SIGNER_TYP: &str = "qrid-signer";
/// CWT claim (private use) holding `{"name", "title", "agency"}`.
pub const SIGNER_CLAIM: i64 = -65_537;
/// Longest official id (`sub`).
pub const SUBJECT_MAX: usize = 64;
/// Longest name, title or agency, in Unicode scalar values.
pub const SIGNER_TEXT_MAX: usize = 200;

/// Who an official is, as the issuer certifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Official {
    /// Full name.
    pub name: Text,
    /// Title or position ("Chủ tịch UBND xã").
    pub title: Text,
    /// The agency the official signs for.
    pub agency: Text,
}

impl Official {
    /// Validates and normalises the three texts (NFC, no control characters, 1 to 200
    /// characters each).
    pub fn new(name: &str, title: &str, agency: &str) -> Result<Official, ClaimError> {
        Ok(Official {
            name: Text::new("name", name, SIGNER_TEXT_MAX, false)?,
            title: Text::new("title", title, SIGNER_TEXT_MAX, false)?,
            agency: Text::new("agency", agency, SIGNER_TEXT_MAX, false)?,
        })
    }
}

/// A signer credential: issuer, validity, id, the official, the official's signing key and
/// a status reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerCredential {
    /// `iss`.
    pub issuer: String,
    /// `sub`: the service's opaque id of the official (never a national id number).
    pub subject: String,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    /// `exp`, Unix seconds.
    pub expires_at: i64,
    /// `cti`.
    pub id: CredentialId,
    /// Name, title, agency.
    pub official: Official,
    /// `cnf`: the key that signs documents.
    pub key: VerifyingKey,
    /// `status`.
    pub status: Option<StatusRef>,
}

impl SignerCredential {
    /// Checks what the types cannot: issuer and subject texts, validity window.
    pub fn validate(&self) -> Result<(), ClaimError> {
        let bad_text =
            |s: &str, max: usize| s.is_empty() || s.len() > max || s.chars().any(char::is_control);
        if bad_text(&self.issuer, ISSUER_MAX) {
            return Err(ClaimError::Invalid {
                field: "iss",
                problem: "must be 1 to 64 bytes without control characters",
            });
        }
        if bad_text(&self.subject, SUBJECT_MAX) {
            return Err(ClaimError::Invalid {
                field: "sub",
                problem: "must be 1 to 64 bytes without control characters",
            });
        }
        if self.expires_at <= self.issued_at {
            return Err(ClaimError::Invalid {
                field: "exp",
                problem: "must be after iat",
            });
        }
        Ok(())
    }

    /// The CWT claims map in deterministic key order.
    pub fn to_cbor(&self) -> Vec<u8> {
        let int = |i: i64| Value::Integer(i.into());
        let t = |s: &str| Value::Text(s.to_owned());
        let mut claims = vec![
            (int(key::ISS), t(&self.issuer)),
            (int(key::SUB), t(&self.subject)),
            (int(key::EXP), int(self.expires_at)),
            (int(key::IAT), int(self.issued_at)),
            (int(key::CTI), Value::Bytes(self.id.0.to_vec())),
            (int(key::CNF), encode_cnf(&self.key)),
        ];
        if let Some(s) = &self.status {
            claims.push((int(key::STATUS), encode_status(s)));
        }
        let o = &self.official;
        claims.push((
            int(SIGNER_CLAIM),
            Value::Map(vec![
                (t("name"), t(o.name.as_str())),
                (t("title"), t(o.title.as_str())),
                (t("agency"), t(o.agency.as_str())),
            ]),
        ));
        // Deterministic order (RFC 8949 §4.2.1, bytewise on the encoded keys): the negative
        // private claim (0x3a…) sorts after 65535 (0x19…).
        cbor::encode(&Value::Map(claims))
    }

    /// Parses and validates CWT claims bytes.
    pub fn from_cbor(bytes: &[u8]) -> Result<SignerCredential, Error> {
        let Value::Map(claims) = cbor::decode(bytes)? else {
            return Err(ClaimError::WrongType {
                field: "claims",
                expected: "a CBOR map",
            }
            .into());
        };
        let id = parse_cti(get_int(&claims, key::CTI))?;
        let HolderKey(key) =
            parse_cnf(get_int(&claims, key::CNF).ok_or(ClaimError::Missing("cnf"))?)?;
        let status = get_int(&claims, key::STATUS)
            .map(parse_status)
            .transpose()?;
        let Some(Value::Map(o)) = get_int(&claims, SIGNER_CLAIM) else {
            return Err(ClaimError::WrongType {
                field: "signer",
                expected: "a map of name, title and agency",
            }
            .into());
        };
        let field = |k: &'static str| text(get_text(o, k), k);
        let official = Official::new(field("name")?, field("title")?, field("agency")?)?;
        let c = SignerCredential {
            issuer: text(get_int(&claims, key::ISS), "iss")?.to_owned(),
            subject: text(get_int(&claims, key::SUB), "sub")?.to_owned(),
            issued_at: int(get_int(&claims, key::IAT), "iat")?,
            expires_at: int(get_int(&claims, key::EXP), "exp")?,
            id,
            official,
            key,
            status,
        };
        c.validate()?;
        Ok(c)
    }

    /// Signs with the issuer key and returns the text form (zlib when smaller, base45), the
    /// same transport as an identity credential.
    pub fn sign<S: Signer<Signature>>(&self, signer: &S, kid: &Kid) -> Result<String, Error> {
        self.validate()?;
        let protected = cose::protected_header(&kid.short(), Some(SIGNER_TYP));
        let msg = cose::sign(signer, &protected, &self.to_cbor())?;
        Ok(payload::encode(&msg))
    }

    /// Decodes the text form down to its COSE_Sign1 (signature not yet checked); refuses any
    /// `typ` but [`SIGNER_TYP`].
    pub fn open(text: &str) -> Result<SignedMessage, Error> {
        let bytes = payload::decode(text)?;
        let msg = SignedMessage::parse(&bytes)?;
        if msg.typ() != Some(SIGNER_TYP) {
            return Err(Error::CoseStructure(
                "typ header says this is not a signer credential".into(),
            ));
        }
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::IssuerKey;
    use crate::StatusIndex;

    fn credential(key: VerifyingKey) -> SignerCredential {
        SignerCredential {
            issuer: "VN".into(),
            subject: "0011223344556677".into(),
            issued_at: 1_000,
            expires_at: 2_000,
            id: CredentialId([1; 8]),
            official: Official::new("Lê Văn Tám", "Chủ tịch UBND xã", "UBND xã Tân Lập").unwrap(),
            key,
            status: Some(
                StatusRef::new("https://id.example/v1/status-lists/1", StatusIndex(7)).unwrap(),
            ),
        }
    }

    #[test]
    fn round_trip_and_kinds_are_kept_apart() {
        let issuer = IssuerKey::generate();
        let official = IssuerKey::generate();
        let c = credential(official.verifying_key());
        let text = c.sign(issuer.signing_key(), issuer.kid()).unwrap();
        let msg = SignerCredential::open(&text).unwrap();
        msg.verify(&issuer.verifying_key()).unwrap();
        assert_eq!(SignerCredential::from_cbor(msg.payload()).unwrap(), c);
        // Not an identity credential, and an identity credential is not a signer credential.
        assert!(crate::open(&text).is_err());
        let input = crate::CitizenInput::from_json(
            r#"{"id_number":"001099012345","full_name":"A B","date_of_birth":"1990-01-15"}"#,
        )
        .unwrap();
        let id = crate::Credential::from_input(&input, "VN", 1_764_662_400, 1, None, None)
            .unwrap()
            .sign(issuer.signing_key(), issuer.kid())
            .unwrap();
        assert!(SignerCredential::open(&id).is_err());
    }

    #[test]
    fn refuses_broken_claims() {
        let k = IssuerKey::generate().verifying_key();
        let mut c = credential(k);
        c.expires_at = c.issued_at;
        assert!(c.validate().is_err());
        let mut c = credential(k);
        c.subject = String::new();
        assert!(c.validate().is_err());
        assert!(Official::new("", "t", "a").is_err());
        assert!(Official::new("n", &"x".repeat(201), "a").is_err());
        assert!(Official::new("n\u{202E}", "t", "a").is_err());
        assert!(SignerCredential::from_cbor(&[0xA0]).is_err());
    }
}

//! The signature stamp printed on a signed document: a QR (`QS1:` + base45 COSE_Sign1 signed
//! by the issuer key, `typ` `qrid-stamp`) that says who signed which document when, and where
//! the signature record is (docs/signature-format.md).
//!
//! A counter scanning it offline learns, on the issuer's word, the signer, the signing time and
//! the document's digest and name; online it fetches the record at [`Stamp::url`] for the
//! signature itself and its current status.

use crate::cbor;
use crate::claims::Text;
use crate::cose;
use crate::error::Error;
use crate::keys::{Jwks, Kid};
use crate::payload::prefix::SIGNATURE_STAMP;
use ciborium::Value;
use ed25519_dalek::Signature;
use signature::Signer;

/// The COSE `typ` of a stamp.
pub const STAMP_TYP: &str = "qrid-stamp";
/// Longest stamp text accepted (QR version 40, alphanumeric, level L).
pub const MAX_STAMP_CHARS: usize = 4296;
/// Longest text field of a stamp.
pub const STAMP_FIELD_MAX: usize = 300;

/// What a stamp certifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The signature record's id.
    pub signature_id: String,
    /// Where the record is served (`…/v1/signatures/{id}`).
    pub url: String,
    /// SHA-256 of the signed document.
    pub digest: [u8; 32],
    /// Signing time, Unix seconds.
    pub signed_at: i64,
    /// The signer's name.
    pub signer: Text,
    /// The signer's title and agency, for officials.
    pub role: Option<(Text, Text)>,
    /// The document's name.
    pub document_name: Text,
}

fn bad(msg: &str) -> Error {
    Error::CoseStructure(msg.to_owned())
}

impl Stamp {
    fn to_cbor(&self) -> Vec<u8> {
        let t = |s: &str| Value::Text(s.to_owned());
        let mut m = vec![
            (t("id"), t(&self.signature_id)),
            (t("u"), t(&self.url)),
            (t("h"), Value::Bytes(self.digest.to_vec())),
            (t("t"), Value::Integer(self.signed_at.into())),
            (t("n"), t(self.signer.as_str())),
            (t("d"), t(self.document_name.as_str())),
        ];
        if let Some((title, agency)) = &self.role {
            m.push((t("ti"), t(title.as_str())));
            m.push((t("ag"), t(agency.as_str())));
        }
        cbor::encode(&Value::Map(m))
    }

    fn check(&self) -> Result<(), Error> {
        let plain = |s: &str| !s.is_empty() && s.len() <= STAMP_FIELD_MAX && s.is_ascii();
        if !plain(&self.signature_id) || !plain(&self.url) || self.url.contains(char::is_whitespace)
        {
            return Err(bad("stamp id or url is empty, too long or not plain ASCII"));
        }
        Ok(())
    }

    /// Signs the stamp with the issuer key; returns its QR text.
    pub fn sign<S: Signer<Signature>>(&self, signer: &S, kid: &Kid) -> Result<String, Error> {
        self.check()?;
        let protected = cose::protected_header(&kid.short(), Some(STAMP_TYP));
        let msg = cose::sign(signer, &protected, &self.to_cbor())?;
        Ok(format!("{SIGNATURE_STAMP}{}", crate::base45::encode(&msg)))
    }

    /// Parses QR text and checks the issuer signature against `trust`.
    pub fn verify(text: &str, trust: &Jwks) -> Result<Stamp, Error> {
        let msg = cose::open_prefixed(
            text,
            SIGNATURE_STAMP,
            STAMP_TYP,
            MAX_STAMP_CHARS,
            "signature stamp",
            trust,
        )?;
        Stamp::from_cbor(msg.payload())
    }

    fn from_cbor(bytes: &[u8]) -> Result<Stamp, Error> {
        let Value::Map(m) = cbor::decode(bytes)? else {
            return Err(bad("stamp is not a map"));
        };
        let raw = |k: &str| match cbor::get_text(&m, k) {
            Some(Value::Text(s)) if s.len() <= STAMP_FIELD_MAX * 4 => Ok(s.as_str()),
            _ => Err(bad("stamp lacks a text field or it is too long")),
        };
        let text = |k: &'static str| -> Result<Text, Error> {
            Ok(Text::new(k, raw(k)?, STAMP_FIELD_MAX, false)?)
        };
        let digest = match cbor::get_text(&m, "h") {
            Some(Value::Bytes(b)) => <[u8; 32]>::try_from(b.as_slice())
                .map_err(|_| bad("stamp digest is not 32 bytes"))?,
            _ => return Err(bad("stamp has no digest")),
        };
        let signed_at = cbor::get_text(&m, "t")
            .and_then(cbor::as_i64)
            .ok_or_else(|| bad("stamp has no signing time"))?;
        let role = match (cbor::get_text(&m, "ti"), cbor::get_text(&m, "ag")) {
            (None, None) => None,
            _ => Some((text("ti")?, text("ag")?)),
        };
        let s = Stamp {
            signature_id: raw("id")?.to_owned(),
            url: raw("u")?.to_owned(),
            digest,
            signed_at,
            signer: text("n")?,
            role,
            document_name: text("d")?,
        };
        s.check()?;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::IssuerKey;

    #[test]
    fn round_trip_and_refusals() {
        let key = IssuerKey::generate();
        let trust = Jwks {
            keys: vec![key.jwk()],
        };
        let t = |s: &str| Text::new("x", s, 300, false).unwrap();
        let stamp = Stamp {
            signature_id: "0123456789abcdef".into(),
            url: "https://id.example/v1/signatures/0123456789abcdef".into(),
            digest: [5; 32],
            signed_at: 1_764_662_400,
            signer: t("Lê Văn Tám"),
            role: Some((t("Chủ tịch"), t("UBND xã Tân Lập"))),
            document_name: t("Quyết định.pdf"),
        };
        let text = stamp.sign(key.signing_key(), key.kid()).unwrap();
        assert!(text.starts_with("QS1:"));
        assert_eq!(Stamp::verify(&text, &trust).unwrap(), stamp);
        let other = IssuerKey::generate();
        let forged = stamp.sign(other.signing_key(), key.kid()).unwrap();
        assert_eq!(Stamp::verify(&forged, &trust), Err(Error::BadSignature));
        assert!(Stamp::verify("QL1:ABC", &trust).is_err());
        assert!(Stamp::verify(&"QS1:".repeat(2000), &trust).is_err());
        // A credential is not a stamp.
        assert!(Stamp::verify(&text.replacen("QS1:", "", 1), &trust).is_err());
    }
}

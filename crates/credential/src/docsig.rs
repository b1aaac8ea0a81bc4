//! Detached document signatures: a JWS (RFC 7515) in compact form whose protected header names
//! the document by its SHA-256 digest, following ETSI JAdES baseline-B where it fits
//! (docs/signature-format.md).
//!
//! ```text
//! BASE64URL(header) . "" . BASE64URL(Ed25519(BASE64URL(header) || "."))
//! header = {"alg":"EdDSA","typ":"jose","kid":…,"sigT":"2026-12-02T08:00:00Z",
//!           "crit":["sigT","sigD"],
//!           "sigD":{"mId":"http://uri.etsi.org/19182/ObjectIdByURIHash","pars":[name],
//!                   "hashM":"S256","hashV":[digest],"ctys":[media type]},
//!           "qsc":<signer credential>, "qsid":<record id, service signatures only>}
//! ```
//!
//! The payload is empty, as JAdES prescribes for `sigD` with `ObjectIdByURIHash`: what is
//! signed is the header, and the header holds the document's digest. So a 100 MB document is
//! hashed once, by whoever has it, and the signature itself stays under a few KiB. Any JOSE
//! library verifies the signature with the signer's JWK (told that `sigT` and `sigD` are
//! understood critical parameters); the signer credential in `qsc` says whose key it is.
//!
//! ```
//! use qrid_credential::docsig::{DocumentRef, DocumentSignature, SignatureHeader};
//! use qrid_credential::{IssuerKey, Kid};
//!
//! let key = IssuerKey::generate(); // stands in for the signer's key
//! let document = DocumentRef::new([7; 32], "đơn.pdf", "application/pdf").unwrap();
//! let header = SignatureHeader {
//!     kid: Kid::thumbprint(&key.verifying_key()),
//!     signing_time: 1_764_662_400,
//!     document,
//!     credential: "NCF…".into(),
//!     signature_id: None,
//! };
//! let jws = header.sign(key.signing_key()).unwrap();
//! let parsed = DocumentSignature::parse(&jws).unwrap();
//! parsed.verify(&key.verifying_key()).unwrap();
//! assert_eq!(parsed.header().document.digest, [7; 32]);
//! ```

use crate::claims::Text;
use crate::date::{format_utc, parse_utc};
use crate::error::Error;
use crate::keys::Kid;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use signature::Signer;
use std::str::FromStr;

/// Longest JWS accepted, in characters (a real one is 1.5–3 KiB).
pub const MAX_JWS_CHARS: usize = 16 * 1024;
/// Longest document name, in Unicode scalar values.
pub const DOCUMENT_NAME_MAX: usize = 255;
/// Longest media type (RFC 6838 allows 127 + 1 + 127).
pub const MEDIA_TYPE_MAX: usize = 255;
/// Longest signer credential text carried in `qsc`.
pub const CREDENTIAL_MAX: usize = 4296;
/// The JAdES `sigD` mechanism: the document named by URI (here its name) and hash.
pub const SIGD_BY_URI_HASH: &str = "http://uri.etsi.org/19182/ObjectIdByURIHash";
const CRIT: [&str; 2] = ["sigT", "sigD"];

/// The signed document, as the signature names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRef {
    /// SHA-256 of the document's bytes.
    pub digest: [u8; 32],
    /// File name, NFC, 1 to 255 characters, no control characters or path separators.
    pub name: Text,
    /// Media type such as `application/pdf`.
    pub media_type: String,
}

impl DocumentRef {
    /// Validates a name and media type: the name is normalised (NFC, trimmed) and may not
    /// contain `/`, `\` or control characters; the media type must be `type/subtype` of
    /// RFC 6838 token characters, lower-cased.
    pub fn new(digest: [u8; 32], name: &str, media_type: &str) -> Result<DocumentRef, Error> {
        let name = Text::new("document name", name, DOCUMENT_NAME_MAX, false)?;
        if name.as_str().contains(['/', '\\']) {
            return Err(Error::SignatureFormat(
                "document name must not contain a path separator".into(),
            ));
        }
        let media_type = media_type.trim().to_ascii_lowercase();
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        let valid = media_type.len() <= MEDIA_TYPE_MAX
            && media_type
                .split_once('/')
                .is_some_and(|(t, s)| token(t) && token(s));
        if !valid {
            return Err(Error::SignatureFormat(
                "media type must be type/subtype (RFC 6838)".into(),
            ));
        }
        Ok(DocumentRef {
            digest,
            name,
            media_type,
        })
    }

    /// The digest as lower-case hex.
    pub fn digest_hex(&self) -> String {
        hex::encode(self.digest)
    }
}

/// Everything a document signature's protected header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// RFC 7638 thumbprint of the signing key (the key in the signer credential's `cnf`).
    pub kid: Kid,
    /// `sigT`: when it was signed, Unix seconds.
    pub signing_time: i64,
    /// `sigD`: the document.
    pub document: DocumentRef,
    /// `qsc`: the signer credential's text form (a signer credential of an official, or a
    /// citizen's identity credential with a holder key).
    pub credential: String,
    /// `qsid`: the id under which the service recorded this signature (`GET
    /// /v1/signatures/{id}`); absent for signatures made by a wallet.
    pub signature_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SigD {
    #[serde(rename = "mId")]
    mid: String,
    pars: Vec<String>,
    #[serde(rename = "hashM")]
    hash_m: String,
    #[serde(rename = "hashV")]
    hash_v: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ctys: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
    kid: String,
    #[serde(rename = "sigT")]
    sig_t: String,
    crit: Vec<String>,
    #[serde(rename = "sigD")]
    sig_d: SigD,
    qsc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    qsid: Option<String>,
}

fn bad(msg: &str) -> Error {
    Error::SignatureFormat(msg.to_owned())
}

/// Whether a record id is 1 to 64 characters of `[0-9a-zA-Z_-]`.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl SignatureHeader {
    fn to_json(&self) -> Result<String, Error> {
        if self.credential.is_empty() || self.credential.len() > CREDENTIAL_MAX {
            return Err(bad("signer credential is empty or too long"));
        }
        if self.signature_id.as_deref().is_some_and(|id| !valid_id(id)) {
            return Err(bad("signature id must be 1 to 64 characters [0-9A-Za-z_-]"));
        }
        let header = Header {
            alg: "EdDSA".into(),
            typ: Some("jose".into()),
            kid: self.kid.to_string(),
            sig_t: format_utc(self.signing_time)
                .ok_or_else(|| bad("signing time outside the years 1800 to 9999"))?,
            crit: CRIT.iter().map(|s| (*s).to_owned()).collect(),
            sig_d: SigD {
                mid: SIGD_BY_URI_HASH.into(),
                pars: vec![self.document.name.as_str().to_owned()],
                hash_m: "S256".into(),
                hash_v: vec![B64URL.encode(self.document.digest)],
                ctys: Some(vec![self.document.media_type.clone()]),
            },
            qsc: self.credential.clone(),
            qsid: self.signature_id.clone(),
        };
        serde_json::to_string(&header).map_err(|e| bad(&e.to_string()))
    }

    /// The JWS signing input for this header: `BASE64URL(header) || "."` (empty payload).
    pub fn signing_input(&self) -> Result<String, Error> {
        Ok(format!("{}.", B64URL.encode(self.to_json()?)))
    }

    /// Signs and returns the compact JWS `header..signature`. The signer is any
    /// [`signature::Signer`] for Ed25519 (a key held by the service, a wallet, an HSM).
    pub fn sign<S: Signer<Signature>>(&self, signer: &S) -> Result<String, Error> {
        let input = self.signing_input()?;
        let sig = signer
            .try_sign(input.as_bytes())
            .map_err(|_| Error::Signing)?;
        let mut out = input;
        out.push('.');
        out.push_str(&B64URL.encode(sig.to_bytes()));
        Ok(out)
    }
}

/// A parsed document signature whose signature has not been checked yet.
#[derive(Debug, Clone)]
pub struct DocumentSignature {
    header: SignatureHeader,
    signing_input: String,
    signature: Signature,
}

impl DocumentSignature {
    /// Parses a compact JWS strictly: at most [`MAX_JWS_CHARS`], three base64url parts
    /// (unpadded) with an empty payload, a header of exactly the documented members with
    /// `alg` EdDSA, `crit` exactly `sigT` and `sigD`, one document hashed with S256.
    pub fn parse(jws: &str) -> Result<DocumentSignature, Error> {
        let jws = jws.trim();
        if jws.len() > MAX_JWS_CHARS {
            return Err(Error::TooLarge {
                what: "document signature",
                limit: MAX_JWS_CHARS,
            });
        }
        let mut parts = jws.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("a compact JWS has three parts separated by dots"));
        };
        if !p.is_empty() {
            return Err(bad(
                "the payload part must be empty (the document is detached)",
            ));
        }
        let header_bytes = B64URL
            .decode(h)
            .map_err(|_| bad("header is not unpadded base64url"))?;
        let sig_bytes = B64URL
            .decode(s)
            .map_err(|_| bad("signature is not unpadded base64url"))?;
        let signature =
            Signature::from_slice(&sig_bytes).map_err(|_| bad("signature is not 64 bytes"))?;
        let header: Header = serde_json::from_slice(&header_bytes)
            .map_err(|e| Error::SignatureFormat(format!("header: {e}")))?;
        if header.alg != "EdDSA" {
            return Err(bad("alg must be EdDSA"));
        }
        if header.typ.as_deref().is_some_and(|t| t != "jose") {
            return Err(bad("typ must be jose"));
        }
        let mut crit = header.crit.clone();
        crit.sort();
        if crit != ["sigD", "sigT"] {
            return Err(bad("crit must list exactly sigT and sigD"));
        }
        let kid = Kid::from_str(&header.kid).map_err(|_| bad("kid is not a JWK thumbprint"))?;
        let signing_time =
            parse_utc(&header.sig_t).ok_or_else(|| bad("sigT is not YYYY-MM-DDThh:mm:ssZ"))?;
        let d = &header.sig_d;
        if d.mid != SIGD_BY_URI_HASH {
            return Err(bad("sigD mId must be ObjectIdByURIHash"));
        }
        if d.hash_m != "S256" {
            return Err(bad("sigD hashM must be S256"));
        }
        let (Ok::<[String; 1], _>([name]), Ok::<[String; 1], _>([digest])) =
            (d.pars.clone().try_into(), d.hash_v.clone().try_into())
        else {
            return Err(bad("sigD must name exactly one document"));
        };
        let media_type = match d.ctys.as_deref() {
            None => "application/octet-stream",
            Some([one]) => one.as_str(),
            Some(_) => return Err(bad("sigD ctys must have one entry")),
        };
        let digest: [u8; 32] = B64URL
            .decode(&digest)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("sigD hashV is not a base64url SHA-256 digest"))?;
        let document = DocumentRef::new(digest, &name, media_type)?;
        if header.qsc.is_empty() || header.qsc.len() > CREDENTIAL_MAX {
            return Err(bad("qsc must hold the signer credential"));
        }
        if header.qsid.as_deref().is_some_and(|id| !valid_id(id)) {
            return Err(bad("qsid must be 1 to 64 characters [0-9A-Za-z_-]"));
        }
        Ok(DocumentSignature {
            header: SignatureHeader {
                kid,
                signing_time,
                document,
                credential: header.qsc,
                signature_id: header.qsid,
            },
            signing_input: format!("{h}."),
            signature,
        })
    }

    /// What the header says. Do not trust it before [`Self::verify`].
    pub fn header(&self) -> &SignatureHeader {
        &self.header
    }

    /// Checks the signature with `key`, strictly, and that `kid` is that key's thumbprint.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), Error> {
        if Kid::thumbprint(key) != self.header.kid {
            return Err(Error::UnknownKey);
        }
        key.verify_strict(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| Error::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::IssuerKey;
    use proptest::prelude::*;

    fn header(key: &IssuerKey) -> SignatureHeader {
        SignatureHeader {
            kid: Kid::thumbprint(&key.verifying_key()),
            signing_time: 1_764_662_400,
            document: DocumentRef::new([3; 32], "Quyết định 12.pdf", "Application/PDF").unwrap(),
            credential: "6BFOXN*TS0BI$ZD".into(),
            signature_id: Some("00ff00ff00ff00ff".into()),
        }
    }

    #[test]
    fn round_trip() {
        let key = IssuerKey::generate();
        let h = header(&key);
        assert_eq!(h.document.media_type, "application/pdf");
        let jws = h.sign(key.signing_key()).unwrap();
        assert!(jws.contains(".."), "payload is empty");
        let p = DocumentSignature::parse(&jws).unwrap();
        assert_eq!(p.header(), &h);
        p.verify(&key.verifying_key()).unwrap();
        let other = IssuerKey::generate();
        assert_eq!(p.verify(&other.verifying_key()), Err(Error::UnknownKey));
    }

    #[test]
    fn an_edited_header_breaks_the_signature() {
        let key = IssuerKey::generate();
        let jws = header(&key).sign(key.signing_key()).unwrap();
        let (h, rest) = jws.split_once('.').unwrap();
        let json = String::from_utf8(B64URL.decode(h).unwrap()).unwrap();
        let edited = json.replace("2025-12-02", "2025-12-01");
        assert_ne!(edited, json);
        let forged = format!("{}.{rest}", B64URL.encode(edited));
        let p = DocumentSignature::parse(&forged).unwrap();
        assert_eq!(p.verify(&key.verifying_key()), Err(Error::BadSignature));
    }

    #[test]
    fn malformed_signatures_are_refused_with_a_reason() {
        let key = IssuerKey::generate();
        let jws = header(&key).sign(key.signing_key()).unwrap();
        let (h, rest) = jws.split_once('.').unwrap();
        let json = String::from_utf8(B64URL.decode(h).unwrap()).unwrap();
        let with = |from: &str, to: &str| {
            let j = json.replacen(from, to, 1);
            assert_ne!(j, json, "{from}");
            format!("{}.{rest}", B64URL.encode(j))
        };
        let cases = [
            String::new(),
            "a.b".into(),
            "a..b.c".into(),
            format!("{h}.cGF5bG9hZA.{}", rest.trim_start_matches('.')),
            format!("{h}=.{rest}"),
            "x".repeat(MAX_JWS_CHARS + 1),
            with("\"EdDSA\"", "\"none\""),
            with("\"EdDSA\"", "\"HS256\""),
            with("[\"sigT\",\"sigD\"]", "[\"sigT\"]"),
            with("[\"sigT\",\"sigD\"]", "[\"sigT\",\"sigD\",\"b64\"]"),
            with("\"S256\"", "\"S512\""),
            with("2025-12-02T08:00:00Z", "2025-12-02T08:00:00+07:00"),
            with("ObjectIdByURIHash", "ObjectIdByURI"),
            with("{\"alg\"", "{\"zip\":\"DEF\",\"alg\""),
            with("Quyết định 12.pdf", "../etc/passwd"),
            with("\"jose\"", "\"JWT\""),
        ];
        for (i, c) in cases.iter().enumerate() {
            assert!(DocumentSignature::parse(c).is_err(), "case {i} parsed");
        }
        assert_eq!(
            DocumentSignature::parse("x").unwrap_err().kind(),
            "malformed_signature"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,600}") {
            let _ = DocumentSignature::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_dotted_base64(a in "[A-Za-z0-9_-]{0,300}", b in "[A-Za-z0-9_-]{0,100}") {
            let _ = DocumentSignature::parse(&format!("{a}..{b}"));
        }
    }
}

//! COSE_Sign1 (RFC 9052) with EdDSA, written by hand for the fixed shape we emit and parsed
//! strictly for what we accept.

use crate::cbor;
use crate::error::Error;
use ciborium::Value;
use ed25519_dalek::{Signature, VerifyingKey};
use signature::Signer;

/// COSE algorithm identifier of EdDSA.
pub const ALG_EDDSA: i64 = -8;
const HDR_ALG: i64 = 1;
const HDR_CRIT: i64 = 2;
const HDR_KID: i64 = 4;
const HDR_TYP: i64 = 16;
const TAG_COSE_SIGN1: u64 = 18;
/// Longest `kid` accepted in a header.
const MAX_KID_LEN: usize = 64;

/// Appends a CBOR head (major type and argument) in its shortest form.
pub(crate) fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xFF => out.extend_from_slice(&[m | 24, n as u8]),
        0x100..=0xFFFF => {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xFFFF_FFFF => {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

pub(crate) fn bstr(out: &mut Vec<u8>, bytes: &[u8]) {
    head(out, 2, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// The serialized protected header `{1: -8, 4: kid}` plus `16: typ` when given.
pub(crate) fn protected_header(kid: &[u8], typ: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + kid.len());
    head(&mut out, 5, if typ.is_some() { 3 } else { 2 });
    out.extend_from_slice(&[0x01, 0x27]); // 1: -8
    out.push(0x04);
    bstr(&mut out, kid);
    if let Some(typ) = typ {
        out.push(0x10);
        head(&mut out, 3, typ.len() as u64);
        out.extend_from_slice(typ.as_bytes());
    }
    out
}

/// `Sig_structure = ["Signature1", protected, external_aad = h'', payload]`.
pub(crate) fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + protected.len() + payload.len());
    out.push(0x84);
    out.push(0x6A);
    out.extend_from_slice(b"Signature1");
    bstr(&mut out, protected);
    out.push(0x40);
    bstr(&mut out, payload);
    out
}

/// Signs `payload` and returns the COSE_Sign1 `18([protected, {}, payload, signature])`.
///
/// Tagged, as MOSIP's Claim 169 encoder writes it: some COSE libraries (pycose) read only the
/// tagged form, and the tag costs one byte. Readers here accept both.
pub(crate) fn sign<S: Signer<Signature>>(
    signer: &S,
    protected: &[u8],
    payload: &[u8],
) -> Result<Vec<u8>, Error> {
    let signature = signer
        .try_sign(&sig_structure(protected, payload))
        .map_err(|_| Error::Signing)?;
    let mut out = Vec::with_capacity(protected.len() + payload.len() + 80);
    head(&mut out, 6, TAG_COSE_SIGN1);
    out.push(0x84);
    bstr(&mut out, protected);
    out.push(0xA0);
    bstr(&mut out, payload);
    bstr(&mut out, &signature.to_bytes());
    Ok(out)
}

/// A parsed COSE_Sign1 whose signature has not been checked yet.
#[derive(Clone)]
pub struct SignedMessage {
    protected: Vec<u8>,
    kid: Option<Vec<u8>>,
    typ: Option<String>,
    payload: Vec<u8>,
    signature: Signature,
}

impl SignedMessage {
    /// Parses a COSE_Sign1, tagged (18) or not. Refuses an envelope that is not in
    /// deterministic encoding (indefinite lengths, long heads, unsorted unprotected header: so
    /// that one signed message has one text), any algorithm but EdDSA, critical headers, an
    /// algorithm in the unprotected bucket and detached payloads. The `kid` is optional (MOSIP's
    /// encoder may write none); when present it must be a byte string of 1 to 64 bytes.
    pub fn parse(bytes: &[u8]) -> Result<SignedMessage, Error> {
        // Before the tree is built: ciborium reads indefinite and long forms silently.
        cbor::check_deterministic(bytes)?;
        let value = cbor::decode(bytes)?;
        let value = match value {
            Value::Tag(TAG_COSE_SIGN1, inner) => *inner,
            Value::Tag(t, _) => return Err(structure(format!("unexpected CBOR tag {t}"))),
            v => v,
        };
        let Value::Array(items) = value else {
            return Err(structure("not an array".into()));
        };
        let Ok::<[Value; 4], _>([protected, unprotected, payload, signature]) = items.try_into()
        else {
            return Err(structure("not an array of four items".into()));
        };
        let Value::Bytes(protected) = protected else {
            return Err(structure("protected header is not a byte string".into()));
        };
        let Value::Map(unprotected) = unprotected else {
            return Err(structure("unprotected header is not a map".into()));
        };
        let Value::Bytes(payload) = payload else {
            return Err(structure("payload is absent or not a byte string".into()));
        };
        let Value::Bytes(signature) = signature else {
            return Err(structure("signature is not a byte string".into()));
        };
        let prot_map = if protected.is_empty() {
            Vec::new()
        } else {
            match cbor::decode(&protected)? {
                Value::Map(m) => m,
                _ => return Err(structure("protected header is not a map".into())),
            }
        };
        if cbor::get_int(&prot_map, HDR_CRIT).is_some()
            || cbor::get_int(&unprotected, HDR_CRIT).is_some()
        {
            return Err(structure(
                "critical header parameters are not supported".into(),
            ));
        }
        if cbor::get_int(&unprotected, HDR_ALG).is_some() {
            return Err(structure(
                "algorithm must be in the protected header".into(),
            ));
        }
        let alg = match cbor::get_int(&prot_map, HDR_ALG) {
            None => return Err(structure("protected header has no algorithm".into())),
            Some(v) => {
                cbor::as_i64(v).ok_or_else(|| structure("algorithm is not an integer".into()))?
            }
        };
        if alg != ALG_EDDSA {
            return Err(Error::AlgorithmNotAllowed(alg));
        }
        let kid = match cbor::get_int(&prot_map, HDR_KID)
            .or_else(|| cbor::get_int(&unprotected, HDR_KID))
        {
            Some(Value::Bytes(k)) if !k.is_empty() && k.len() <= MAX_KID_LEN => Some(k.clone()),
            Some(_) => {
                return Err(structure(
                    "kid is not a byte string of 1 to 64 bytes".into(),
                ))
            }
            None => None,
        };
        let typ = match cbor::get_int(&prot_map, HDR_TYP) {
            Some(Value::Text(t)) => Some(t.clone()),
            Some(_) => return Err(structure("typ is not a text string".into())),
            None => None,
        };
        let signature = Signature::from_slice(&signature).map_err(|_| Error::BadSignature)?;
        Ok(SignedMessage {
            protected,
            kid,
            typ,
            payload,
            signature,
        })
    }

    /// The `kid` header (a thumbprint prefix in what qrid signs), if the message has one.
    pub fn kid(&self) -> Option<&[u8]> {
        self.kid.as_deref()
    }

    /// The `typ` header, if any.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// The signed payload bytes (CWT claims). Do not trust them before [`Self::verify`].
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Checks the signature with `key`, strictly (no malleable or small-order signatures).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), Error> {
        key.verify_strict(
            &sig_structure(&self.protected, &self.payload),
            &self.signature,
        )
        .map_err(|_| Error::BadSignature)
    }
}

/// Opens the QR text of one of our prefixed kinds (login request, signature stamp): at most
/// `max` characters, `prefix`, base45 COSE_Sign1 with `typ`, signed by a key of `trust` (the
/// keys of [`crate::keys::candidates`] are tried; the signature decides).
pub(crate) fn open_prefixed(
    text: &str,
    prefix: &str,
    typ: &str,
    max: usize,
    what: &'static str,
    trust: &crate::keys::Jwks,
) -> Result<SignedMessage, Error> {
    let text = text.trim();
    if text.len() > max {
        return Err(Error::TooLarge { what, limit: max });
    }
    let body = text
        .strip_prefix(prefix)
        .ok_or_else(|| structure(format!("a {what} starts with {prefix}")))?;
    let msg = SignedMessage::parse(&crate::base45::decode(body)?)?;
    if msg.typ() != Some(typ) {
        return Err(structure(format!("typ header says this is not a {what}")));
    }
    let candidates = crate::keys::candidates(&trust.keys, |k| &k.kid, msg.kid());
    if candidates.is_empty() {
        return Err(Error::UnknownKey);
    }
    for k in candidates {
        if msg.verify(&k.verifying_key()?).is_ok() {
            return Ok(msg);
        }
    }
    Err(Error::BadSignature)
}

fn structure(msg: String) -> Error {
    Error::CoseStructure(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use signature::Signer;

    #[test]
    fn heads_are_shortest_form() {
        for (n, len) in [
            (0u64, 1),
            (23, 1),
            (24, 2),
            (255, 2),
            (256, 3),
            (65_535, 3),
            (65_536, 5),
            (1 << 32, 9),
        ] {
            let mut out = Vec::new();
            head(&mut out, 0, n);
            assert_eq!(out.len(), len, "{n}");
            let v: Value = ciborium::de::from_reader(&out[..]).unwrap();
            assert_eq!(v, Value::Integer(n.into()));
        }
    }

    #[test]
    fn sign_parse_verify() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let prot = protected_header(&[1, 2, 3, 4], Some("application/statuslist+cwt"));
        let msg = sign(&key, &prot, b"hello").unwrap();
        let parsed = SignedMessage::parse(&msg).unwrap();
        assert_eq!(parsed.kid(), Some(&[1u8, 2, 3, 4][..]));
        assert_eq!(parsed.typ(), Some("application/statuslist+cwt"));
        assert_eq!(parsed.payload(), b"hello");
        parsed.verify(&key.verifying_key()).unwrap();
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert_eq!(
            parsed.verify(&other.verifying_key()),
            Err(Error::BadSignature)
        );
        // Written with tag 18, as MOSIP writes it; the untagged form is read too.
        assert_eq!(msg[..2], [0xD2, 0x84]);
        SignedMessage::parse(&msg[1..])
            .unwrap()
            .verify(&key.verifying_key())
            .unwrap();
    }

    /// `[protected, unprotected, payload, signature]` with the given heads, signed by `key`.
    fn envelope(key: &SigningKey, protected: &[u8], unprotected: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let sig = key.sign(&sig_structure(protected, b"claims")).to_bytes();
        let mut rest = Vec::new();
        bstr(&mut rest, protected);
        rest.extend_from_slice(unprotected);
        bstr(&mut rest, b"claims");
        bstr(&mut rest, &sig);
        (rest, sig.to_vec())
    }

    #[test]
    fn kid_is_optional() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let (rest, _) = envelope(&key, &[0xA1, 0x01, 0x27], &[0xA0]);
        let mut m = vec![0xD2, 0x84];
        m.extend_from_slice(&rest);
        let parsed = SignedMessage::parse(&m).unwrap();
        assert_eq!(parsed.kid(), None);
        parsed.verify(&key.verifying_key()).unwrap();
        // Present but empty is still refused.
        let (rest, _) = envelope(&key, &[0xA2, 0x01, 0x27, 0x04, 0x40], &[0xA0]);
        let mut m = vec![0x84];
        m.extend_from_slice(&rest);
        assert_eq!(
            SignedMessage::parse(&m).map(|_| ()).unwrap_err().kind(),
            "cose_structure"
        );
    }

    /// One signed message, one text: every other encoding of the same envelope is refused.
    #[test]
    fn envelopes_must_be_in_deterministic_encoding() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let prot = protected_header(&[1, 2, 3, 4], None);
        let (rest, sig) = envelope(&key, &prot, &[0xA0]);
        let mut good = vec![0xD2, 0x84];
        good.extend_from_slice(&rest);
        SignedMessage::parse(&good).unwrap();

        let mut indefinite = vec![0xD2, 0x9F];
        indefinite.extend_from_slice(&rest);
        indefinite.push(0xFF);
        let mut long_tag = vec![0xD8, 0x12, 0x84];
        long_tag.extend_from_slice(&rest);
        let mut long_array = vec![0xD2, 0x98, 0x04];
        long_array.extend_from_slice(&rest);
        let mut long_sig = good[..good.len() - 66].to_vec();
        long_sig.extend_from_slice(&[0x59, 0x00, 0x40]);
        long_sig.extend_from_slice(&sig);
        let mut chunked_sig = good[..good.len() - 66].to_vec();
        chunked_sig.extend_from_slice(&[0x5F, 0x58, 0x40]);
        chunked_sig.extend_from_slice(&sig);
        chunked_sig.push(0xFF);
        let unsorted = {
            let (rest, _) = envelope(&key, &prot, &[0xA2, 0x18, 0x21, 0x40, 0x18, 0x20, 0x40]);
            let mut m = vec![0x84];
            m.extend_from_slice(&rest);
            m
        };
        let long_map = {
            let (rest, _) = envelope(&key, &prot, &[0xB8, 0x00]);
            let mut m = vec![0x84];
            m.extend_from_slice(&rest);
            m
        };
        for (what, bytes) in [
            ("indefinite array", indefinite),
            ("tag in two bytes", long_tag),
            ("array length in two bytes", long_array),
            ("signature length in three bytes", long_sig),
            ("signature in indefinite chunks", chunked_sig),
            ("unprotected keys unsorted", unsorted),
            ("empty map length in two bytes", long_map),
        ] {
            assert_eq!(
                SignedMessage::parse(&bytes).map(|_| ()).unwrap_err().kind(),
                "non_canonical",
                "{what}"
            );
        }
    }
}

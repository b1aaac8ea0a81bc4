//! The identity credential: a CWT whose claims carry the Claim 169 identity map.

use crate::cbor::{self, as_i64, get_int, get_text};
use crate::claims::{
    Citizen, CountryCode, FacePhoto, IdNumber, PhotoDigest, PhotoFormat, Sex, Text, FACE_PHOTO_MAX,
    FULL_NAME_MAX, PLACE_MAX,
};
use crate::cose::{self, SignedMessage};
use crate::date::Date;
use crate::error::{ClaimError, Error};
use crate::keys::Kid;
use crate::payload;
use ciborium::Value;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Serialize;
use sha2::Digest;
use signature::Signer;
use std::fmt;
use std::str::FromStr;

/// CWT claim keys (RFC 8392, RFC 8747, draft-ietf-oauth-status-list, MOSIP Claim 169).
pub mod key {
    /// iss
    pub const ISS: i64 = 1;
    /// sub
    pub const SUB: i64 = 2;
    /// exp
    pub const EXP: i64 = 4;
    /// nbf
    pub const NBF: i64 = 5;
    /// iat
    pub const IAT: i64 = 6;
    /// cti
    pub const CTI: i64 = 7;
    /// cnf (RFC 8747)
    pub const CNF: i64 = 8;
    /// MOSIP identity data
    pub const CLAIM169: i64 = 169;
    /// Token Status List reference
    pub const STATUS: i64 = 65535;
}

/// Keys inside the Claim 169 map.
pub mod claim169 {
    /// ID (tstr)
    pub const ID: i64 = 1;
    /// Full name (tstr)
    pub const FULL_NAME: i64 = 4;
    /// Date of birth, YYYYMMDD (tstr)
    pub const DATE_OF_BIRTH: i64 = 8;
    /// Gender: 1 male, 2 female, 3 others (int)
    pub const GENDER: i64 = 9;
    /// Address, lines separated by `\n` (tstr)
    pub const ADDRESS: i64 = 10;
    /// Nationality (tstr)
    pub const NATIONALITY: i64 = 13;
    /// Face photo (bstr).
    pub const PHOTO: i64 = 16;
    /// Face photo format: 1 JPEG, 2 JPEG 2000, 3 AVIF, 4 WebP (int).
    pub const PHOTO_FORMAT: i64 = 17;
    /// qrid private use: place of origin (tstr). Negative keys lie outside Claim 169's 1..99.
    pub const PLACE_OF_ORIGIN: i64 = -1;
    /// qrid private use: SHA-256 of the enrolment photo (bstr, 32 bytes).
    pub const PHOTO_SHA256: i64 = -2;
}

/// Longest issuer identifier.
pub const ISSUER_MAX: usize = 64;
/// Longest status list URI.
pub const STATUS_URI_MAX: usize = 256;

/// A credential's unique id (CWT `cti`): 8 random bytes, shown as 16 hex digits, or for a
/// credential without `cti` a digest of its claims ([`CredentialId::of_claims`]). This is
/// what logs and access records name, never the citizen.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialId(pub [u8; 8]);

impl CredentialId {
    /// A fresh random id.
    pub fn random() -> CredentialId {
        let mut b = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
        CredentialId(b)
    }
}

impl CredentialId {
    /// The id of a credential without `cti`: the first 8 bytes of the SHA-256 of its CWT
    /// claims bytes as signed. The same credential always gets the same id, and two different
    /// ones collide only with the odds of two random ids.
    pub fn of_claims(claims: &[u8]) -> CredentialId {
        let digest = sha2::Sha256::digest(claims);
        let mut b = [0u8; 8];
        b.copy_from_slice(&digest[..8]);
        CredentialId(b)
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}
impl fmt::Debug for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialId({self})")
    }
}
impl FromStr for CredentialId {
    type Err = ClaimError;
    fn from_str(s: &str) -> Result<Self, ClaimError> {
        let mut b = [0u8; 8];
        hex::decode_to_slice(s, &mut b)
            .map(|()| CredentialId(b))
            .map_err(|_| ClaimError::Invalid {
                field: "cti",
                problem: "must be 16 hexadecimal characters",
            })
    }
}
impl Serialize for CredentialId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A position in a status list. Allocated once and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct StatusIndex(pub u32);

impl fmt::Display for StatusIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a verifier looks up this credential's status.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct StatusRef {
    /// The status list's URI (its token's `sub`).
    pub uri: String,
    /// The credential's index in it.
    #[serde(rename = "idx")]
    pub index: StatusIndex,
}

impl StatusRef {
    /// Checks the URI: 1 to 256 printable ASCII characters without spaces.
    pub fn new(uri: &str, index: StatusIndex) -> Result<StatusRef, ClaimError> {
        if uri.is_empty()
            || uri.len() > STATUS_URI_MAX
            || !uri.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ClaimError::Invalid {
                field: "status.uri",
                problem: "must be 1 to 256 printable ASCII characters without spaces",
            });
        }
        Ok(StatusRef {
            uri: uri.to_owned(),
            index,
        })
    }
}

/// The holder's public key bound into the credential (`cnf`), which only the wallet can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HolderKey(pub VerifyingKey);

/// An identity credential: issuer, validity, id, the citizen, and optionally a status reference
/// and a holder key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// `iss`: short issuer identifier, e.g. the ISO country code of the authority.
    pub issuer: String,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    /// `exp`, Unix seconds: the credential is invalid from this second on.
    pub expires_at: i64,
    /// `nbf`, Unix seconds, if present (we never emit it; other issuers may).
    pub not_before: Option<i64>,
    /// `cti`.
    pub id: CredentialId,
    /// Claim 169 identity data.
    pub citizen: Citizen,
    /// `status`.
    pub status: Option<StatusRef>,
    /// `cnf`.
    pub holder: Option<HolderKey>,
}

impl Credential {
    /// Checks the fields that the types alone cannot: the issuer text, the validity window and
    /// that the date of birth is not after the issue date.
    pub fn validate(&self) -> Result<(), ClaimError> {
        if self.issuer.is_empty()
            || self.issuer.len() > ISSUER_MAX
            || self.issuer.chars().any(char::is_control)
        {
            return Err(ClaimError::Invalid {
                field: "iss",
                problem: "must be 1 to 64 bytes without control characters",
            });
        }
        if self.expires_at <= self.issued_at {
            return Err(ClaimError::Invalid {
                field: "exp",
                problem: "must be after iat",
            });
        }
        if self.citizen.date_of_birth.unix_start() > self.issued_at {
            return Err(ClaimError::Invalid {
                field: "date_of_birth",
                problem: "is after the issue date",
            });
        }
        Ok(())
    }

    /// The CWT claims map, in deterministic (RFC 8949 §4.2.1) key order.
    pub fn to_cbor(&self) -> Vec<u8> {
        let int = |i: i64| Value::Integer(i.into());
        let mut claims = vec![
            (int(key::ISS), Value::Text(self.issuer.clone())),
            (int(key::EXP), int(self.expires_at)),
        ];
        if let Some(nbf) = self.not_before {
            claims.push((int(key::NBF), int(nbf)));
        }
        claims.push((int(key::IAT), int(self.issued_at)));
        claims.push((int(key::CTI), Value::Bytes(self.id.0.to_vec())));
        if let Some(HolderKey(k)) = &self.holder {
            claims.push((int(key::CNF), encode_cnf(k)));
        }
        let c = &self.citizen;
        let mut id = vec![
            (int(claim169::ID), Value::Text(c.id_number.as_str().into())),
            (
                int(claim169::FULL_NAME),
                Value::Text(c.full_name.as_str().into()),
            ),
            (
                int(claim169::DATE_OF_BIRTH),
                Value::Text(c.date_of_birth.to_compact()),
            ),
        ];
        if let Some(sex) = c.sex {
            id.push((int(claim169::GENDER), int(sex.claim169_code())));
        }
        if let Some(r) = &c.place_of_residence {
            id.push((int(claim169::ADDRESS), Value::Text(r.as_str().into())));
        }
        if let Some(n) = &c.nationality {
            id.push((int(claim169::NATIONALITY), Value::Text(n.as_str().into())));
        }
        if let Some(face) = &c.face {
            id.push((int(claim169::PHOTO), Value::Bytes(face.bytes.clone())));
            if let Some(f) = face.format {
                id.push((int(claim169::PHOTO_FORMAT), int(f.code())));
            }
        }
        if let Some(o) = &c.place_of_origin {
            id.push((
                int(claim169::PLACE_OF_ORIGIN),
                Value::Text(o.as_str().into()),
            ));
        }
        if let Some(p) = &c.photo_sha256 {
            id.push((int(claim169::PHOTO_SHA256), Value::Bytes(p.0.to_vec())));
        }
        claims.push((int(key::CLAIM169), Value::Map(id)));
        if let Some(s) = &self.status {
            claims.push((int(key::STATUS), encode_status(s)));
        }
        cbor::encode(&Value::Map(claims))
    }

    /// Parses and validates CWT claims bytes. Unknown claims and unknown Claim 169 keys are
    /// ignored (forward compatibility); known ones of the wrong type or out of range are refused.
    /// Without a `cti` (other issuers may omit it), `id` is [`CredentialId::of_claims`] of
    /// `bytes`; [`Credential::to_cbor`] of such a credential writes that id as its `cti`, so
    /// its bytes are not the ones it was read from.
    pub fn from_cbor(bytes: &[u8]) -> Result<Credential, Error> {
        let Value::Map(claims) = cbor::decode(bytes)? else {
            return Err(ClaimError::WrongType {
                field: "claims",
                expected: "a CBOR map",
            }
            .into());
        };
        let issuer = text(get_int(&claims, key::ISS), "iss")?.to_owned();
        let expires_at = int(get_int(&claims, key::EXP), "exp")?;
        let issued_at = int(get_int(&claims, key::IAT), "iat")?;
        let not_before = get_int(&claims, key::NBF)
            .map(|v| int(Some(v), "nbf"))
            .transpose()?;
        // Claim 169 leaves `cti` optional and MOSIP's encoder cannot write one; such a
        // credential is named by a digest of what its issuer signed, which is as stable as a
        // cti and names nobody.
        let id = match get_int(&claims, key::CTI) {
            None => CredentialId::of_claims(bytes),
            cti => parse_cti(cti)?,
        };
        let holder = get_int(&claims, key::CNF).map(parse_cnf).transpose()?;
        let status = get_int(&claims, key::STATUS)
            .map(parse_status)
            .transpose()?;
        let Some(Value::Map(id_map)) = get_int(&claims, key::CLAIM169) else {
            return Err(ClaimError::WrongType {
                field: "169",
                expected: "a map of identity data",
            }
            .into());
        };
        let citizen = parse_citizen(id_map)?;
        let credential = Credential {
            issuer,
            issued_at,
            expires_at,
            not_before,
            id,
            citizen,
            status,
            holder,
        };
        credential.validate()?;
        Ok(credential)
    }

    /// Signs the credential and returns the QR payload text.
    ///
    /// The signer is any [`signature::Signer`] for Ed25519, so an HSM can stand in for a file
    /// key; `kid` must be the thumbprint of the signer's public key (the QR carries its prefix).
    pub fn sign<S: Signer<Signature>>(&self, signer: &S, kid: &Kid) -> Result<String, Error> {
        self.validate()?;
        let protected = cose::protected_header(&kid.short(), None);
        let cose = cose::sign(signer, &protected, &self.to_cbor())?;
        Ok(payload::encode(&cose))
    }

    /// The claims as JSON with the names of the claims input, plus credential metadata: the
    /// tree of this type's [`Serialize`] output.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Formats through `Display` straight into the serializer, with no `String` in between.
struct Shown<'a, T: fmt::Display>(&'a T);

impl<T: fmt::Display> Serialize for Shown<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

/// The claims JSON of [`Credential::to_json`]: the citizen's fields with the names of the
/// claims input, then `credential_id`, `issuer`, `issued_at`, `expires_at`, `status_list`
/// (`{"idx", "uri"}`) and `holder_kid` when present. Keys come in sorted order, the order a
/// `serde_json::Value` prints, so a verdict written straight to bytes (as `/v1/verify` does)
/// reads the same as one built as a tree first.
impl Serialize for Credential {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        #[derive(Serialize)]
        struct List<'a> {
            idx: u32,
            uri: &'a str,
        }
        let c = &self.citizen;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("credential_id", &Shown(&self.id))?;
        m.serialize_entry("date_of_birth", &Shown(&c.date_of_birth))?;
        m.serialize_entry("expires_at", &self.expires_at)?;
        m.serialize_entry("full_name", &Shown(&c.full_name))?;
        if let Some(HolderKey(k)) = &self.holder {
            m.serialize_entry("holder_kid", &Shown(&Kid::thumbprint(k)))?;
        }
        m.serialize_entry("id_number", &Shown(&c.id_number))?;
        m.serialize_entry("issued_at", &self.issued_at)?;
        m.serialize_entry("issuer", &self.issuer)?;
        if let Some(v) = &c.nationality {
            m.serialize_entry("nationality", &Shown(v))?;
        }
        if let Some(face) = &c.face {
            use base64::Engine;
            m.serialize_entry(
                "photo",
                &base64::engine::general_purpose::STANDARD.encode(&face.bytes),
            )?;
            if let Some(f) = face.format {
                m.serialize_entry("photo_format", f.media_type())?;
            }
        }
        if let Some(v) = &c.photo_sha256 {
            m.serialize_entry("photo_sha256", &Shown(v))?;
        }
        if let Some(v) = &c.place_of_origin {
            m.serialize_entry("place_of_origin", &Shown(v))?;
        }
        if let Some(v) = &c.place_of_residence {
            m.serialize_entry("place_of_residence", &Shown(v))?;
        }
        if let Some(v) = &c.sex {
            m.serialize_entry("sex", &Shown(v))?;
        }
        if let Some(st) = &self.status {
            let list = List {
                idx: st.index.0,
                uri: &st.uri,
            };
            m.serialize_entry("status_list", &list)?;
        }
        m.end()
    }
}

/// A credential payload decoded down to its COSE_Sign1, signature not yet checked.
///
/// The steps up to here are the format checks of docs/credential-format.md (prefix, size,
/// base45, zlib, CBOR, COSE structure, algorithm).
pub fn open(payload_text: &str) -> Result<SignedMessage, Error> {
    let bytes = payload::decode(payload_text)?;
    let msg = SignedMessage::parse(&bytes)?;
    if msg
        .typ()
        .is_some_and(|t| t != "application/cwt" && t != "cwt")
    {
        return Err(Error::CoseStructure(
            "typ header says this is not a credential".into(),
        ));
    }
    Ok(msg)
}

/// `cti`: 8 bytes.
pub(crate) fn parse_cti(v: Option<&Value>) -> Result<CredentialId, ClaimError> {
    match v {
        Some(Value::Bytes(b)) => {
            b.as_slice()
                .try_into()
                .map(CredentialId)
                .map_err(|_| ClaimError::Invalid {
                    field: "cti",
                    problem: "must be 8 bytes",
                })
        }
        Some(_) => Err(ClaimError::WrongType {
            field: "cti",
            expected: "a byte string",
        }),
        None => Err(ClaimError::Missing("cti")),
    }
}

pub(crate) fn text<'a>(v: Option<&'a Value>, field: &'static str) -> Result<&'a str, ClaimError> {
    match v {
        Some(Value::Text(s)) => Ok(s),
        Some(_) => Err(ClaimError::WrongType {
            field,
            expected: "a text string",
        }),
        None => Err(ClaimError::Missing(field)),
    }
}

pub(crate) fn int(v: Option<&Value>, field: &'static str) -> Result<i64, ClaimError> {
    match v {
        Some(v) => as_i64(v).ok_or(ClaimError::WrongType {
            field,
            expected: "an integer",
        }),
        None => Err(ClaimError::Missing(field)),
    }
}

fn parse_citizen(m: &[(Value, Value)]) -> Result<Citizen, ClaimError> {
    let opt_text = |k: i64,
                    field: &'static str,
                    max: usize,
                    multiline: bool|
     -> Result<Option<Text>, ClaimError> {
        get_int(m, k)
            .map(|v| text(Some(v), field).and_then(|s| Text::new(field, s, max, multiline)))
            .transpose()
    };
    let id_number: IdNumber = text(get_int(m, claim169::ID), "id_number")?.parse()?;
    let full_name = Text::new(
        "full_name",
        text(get_int(m, claim169::FULL_NAME), "full_name")?,
        FULL_NAME_MAX,
        false,
    )?;
    let dob = text(get_int(m, claim169::DATE_OF_BIRTH), "date_of_birth")?;
    // Claim 169 says YYYYMMDD; some encoders write YYYY-MM-DD, which is unambiguous too.
    let date_of_birth = Date::parse_compact(dob)
        .or_else(|| Date::parse_iso(dob))
        .ok_or(ClaimError::Invalid {
            field: "date_of_birth",
            problem: "must be a real date YYYYMMDD",
        })?;
    let sex = get_int(m, claim169::GENDER)
        .map(|v| {
            as_i64(v)
                .and_then(Sex::from_claim169_code)
                .ok_or(ClaimError::Invalid {
                    field: "sex",
                    problem: "gender must be 1, 2 or 3",
                })
        })
        .transpose()?;
    let nationality = get_int(m, claim169::NATIONALITY)
        .map(|v| text(Some(v), "nationality").and_then(CountryCode::from_str))
        .transpose()?;
    let photo_sha256 = match get_int(m, claim169::PHOTO_SHA256) {
        Some(Value::Bytes(b)) => Some(PhotoDigest(b.as_slice().try_into().map_err(|_| {
            ClaimError::Invalid {
                field: "photo_sha256",
                problem: "must be 32 bytes",
            }
        })?)),
        Some(_) => {
            return Err(ClaimError::WrongType {
                field: "photo_sha256",
                expected: "a byte string",
            })
        }
        None => None,
    };
    let face = match get_int(m, claim169::PHOTO) {
        Some(Value::Bytes(b)) if b.len() <= FACE_PHOTO_MAX => Some(FacePhoto {
            bytes: b.clone(),
            format: get_int(m, claim169::PHOTO_FORMAT)
                .map(|v| {
                    as_i64(v)
                        .and_then(PhotoFormat::from_code)
                        .ok_or(ClaimError::Invalid {
                            field: "photo_format",
                            problem: "must be 1 (JPEG), 2 (JPEG 2000), 3 (AVIF) or 4 (WebP)",
                        })
                })
                .transpose()?,
        }),
        Some(Value::Bytes(_)) => {
            return Err(ClaimError::TooLong {
                field: "photo",
                max: FACE_PHOTO_MAX,
            })
        }
        Some(_) => {
            return Err(ClaimError::WrongType {
                field: "photo",
                expected: "a byte string",
            })
        }
        None => None,
    };
    Ok(Citizen {
        id_number,
        full_name,
        date_of_birth,
        sex,
        nationality,
        place_of_origin: opt_text(
            claim169::PLACE_OF_ORIGIN,
            "place_of_origin",
            PLACE_MAX,
            true,
        )?,
        place_of_residence: opt_text(claim169::ADDRESS, "place_of_residence", PLACE_MAX, true)?,
        photo_sha256,
        face,
    })
}

/// `cnf` (RFC 8747) holding an Ed25519 COSE_Key.
pub(crate) fn encode_cnf(k: &VerifyingKey) -> Value {
    let int = |i: i64| Value::Integer(i.into());
    let cose_key = Value::Map(vec![
        (int(1), int(1)),  // kty: OKP
        (int(-1), int(6)), // crv: Ed25519
        (int(-2), Value::Bytes(k.as_bytes().to_vec())),
    ]);
    Value::Map(vec![(int(1), cose_key)])
}

/// The Token Status List reference claim.
pub(crate) fn encode_status(s: &StatusRef) -> Value {
    let status_list = Value::Map(vec![
        (Value::Text("idx".into()), Value::Integer(s.index.0.into())),
        (Value::Text("uri".into()), Value::Text(s.uri.clone())),
    ]);
    Value::Map(vec![(Value::Text("status_list".into()), status_list)])
}

pub(crate) fn parse_status(v: &Value) -> Result<StatusRef, ClaimError> {
    let wrong = ClaimError::WrongType {
        field: "status",
        expected: "{\"status_list\": {\"idx\": uint, \"uri\": text}}",
    };
    let Value::Map(outer) = v else {
        return Err(wrong);
    };
    let Some(Value::Map(inner)) = get_text(outer, "status_list") else {
        return Err(wrong);
    };
    let idx = get_text(inner, "idx")
        .and_then(|v| v.as_integer())
        .and_then(|i| u32::try_from(i).ok())
        .ok_or(ClaimError::Invalid {
            field: "status.idx",
            problem: "must be an unsigned 32-bit integer",
        })?;
    let uri = text(get_text(inner, "uri"), "status.uri")?;
    StatusRef::new(uri, StatusIndex(idx))
}

pub(crate) fn parse_cnf(v: &Value) -> Result<HolderKey, ClaimError> {
    let bad = ClaimError::Invalid {
        field: "cnf",
        problem: "must hold an Ed25519 COSE_Key (kty 1, crv 6, x)",
    };
    let Value::Map(cnf) = v else { return Err(bad) };
    let Some(Value::Map(k)) = get_int(cnf, 1) else {
        return Err(bad);
    };
    if get_int(k, 1).and_then(as_i64) != Some(1) || get_int(k, -1).and_then(as_i64) != Some(6) {
        return Err(bad);
    }
    let Some(Value::Bytes(x)) = get_int(k, -2) else {
        return Err(bad);
    };
    let bytes: [u8; 32] = x.as_slice().try_into().map_err(|_| bad.clone())?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad.clone())?;
    if key.is_weak() {
        return Err(bad);
    }
    Ok(HolderKey(key))
}

impl Credential {
    /// Builds a credential from claims input, filling dates from `now` and `valid_days` when
    /// the input gives none.
    pub fn from_input(
        input: &crate::claims::CitizenInput,
        issuer: &str,
        now: i64,
        valid_days: u32,
        status: Option<StatusRef>,
        holder: Option<HolderKey>,
    ) -> Result<Credential, ClaimError> {
        let citizen = input.to_citizen()?;
        let issued_at = match input.issue_date()? {
            Some(d) => d.unix_start(),
            None => now,
        };
        let expires_at = match input.expiry_date()? {
            // Valid through the whole expiry day.
            Some(d) => d.unix_start() + crate::date::DAY,
            None => issued_at + i64::from(valid_days) * crate::date::DAY,
        };
        let c = Credential {
            issuer: issuer.to_owned(),
            issued_at,
            expires_at,
            not_before: None,
            id: CredentialId::random(),
            citizen,
            status,
            holder,
        };
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::CitizenInput;

    /// The claims tree as it was built before `Credential` had its own `Serialize`: the
    /// citizen's derived serialization with the metadata added, in a `Value` (sorted keys).
    fn tree(c: &Credential) -> serde_json::Value {
        let mut v = serde_json::to_value(&c.citizen).unwrap();
        let m = v.as_object_mut().unwrap();
        m.insert("credential_id".into(), c.id.to_string().into());
        m.insert("issuer".into(), c.issuer.clone().into());
        m.insert("issued_at".into(), c.issued_at.into());
        m.insert("expires_at".into(), c.expires_at.into());
        if let Some(s) = &c.status {
            m.insert(
                "status_list".into(),
                serde_json::json!({"uri": s.uri, "idx": s.index.0}),
            );
        }
        if let Some(HolderKey(k)) = &c.holder {
            m.insert("holder_kid".into(), Kid::thumbprint(k).to_string().into());
        }
        v
    }

    fn credential(input: &str, status: bool, holder: bool) -> Credential {
        let status = status.then(|| {
            StatusRef::new("https://id.example/v1/status-lists/3", StatusIndex(77)).unwrap()
        });
        let holder = holder
            .then(|| HolderKey(ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key()));
        let input = CitizenInput::from_json(input).unwrap();
        Credential::from_input(&input, "VN", 1_790_000_000, 30, status, holder).unwrap()
    }

    /// Claim 169 leaves `cti` optional (MOSIP's encoder cannot write one): such a credential
    /// is read, and named by the digest of its claims bytes.
    #[test]
    fn a_credential_without_cti_is_named_by_its_claims() {
        let c = credential(
            r#"{"id_number":"000000000042","full_name":"Võ Thị Sáu","date_of_birth":"1933-01-01"}"#,
            true,
            false,
        );
        let Value::Map(mut m) = cbor::decode(&c.to_cbor()).unwrap() else {
            panic!("claims are a map")
        };
        m.retain(|(k, _)| k.as_integer() != Some(key::CTI.into()));
        let without = cbor::encode(&Value::Map(m));
        let read = Credential::from_cbor(&without).unwrap();
        assert_eq!(read.id, CredentialId::of_claims(&without));
        assert_eq!(
            read.id.to_string(),
            hex::encode(&sha2::Sha256::digest(&without)[..8])
        );
        assert_eq!(read.citizen, c.citizen);
        assert_eq!(read.status, c.status);
        // A cti that is there must still be right.
        let mut bad = c.clone();
        bad.id = CredentialId([0; 8]);
        let Value::Map(mut m) = cbor::decode(&bad.to_cbor()).unwrap() else {
            panic!("claims are a map")
        };
        for (k, v) in &mut m {
            if k.as_integer() == Some(key::CTI.into()) {
                *v = Value::Bytes(vec![1, 2, 3]);
            }
        }
        assert_eq!(
            Credential::from_cbor(&cbor::encode(&Value::Map(m)))
                .unwrap_err()
                .kind(),
            "bad_claims"
        );
    }

    #[test]
    fn serialized_claims_are_the_tree_byte_for_byte() {
        let minimal =
            r#"{"id_number":"000000000042","full_name":"Võ Thị Sáu","date_of_birth":"1933-01-01"}"#;
        let full = r#"{"id_number":"001099012345","full_name":"Nguyễn \"Minh\" Khai","date_of_birth":"1990-02-03",
            "sex":"F","nationality":"VN","place_of_origin":"Huế","place_of_residence":"Số 12, Hà Nội",
            "photo_sha256":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}"#;
        for input in [minimal, full] {
            for (status, holder) in [(false, false), (true, false), (false, true), (true, true)] {
                let c = credential(input, status, holder);
                let direct = serde_json::to_string(&c).unwrap();
                assert_eq!(direct, tree(&c).to_string(), "{input} {status} {holder}");
                assert_eq!(c.to_json(), tree(&c));
            }
        }
    }
}

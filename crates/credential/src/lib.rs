//! # qrid-credential
//!
//! The qrid identity credential format, as specified in `docs/credential-format.md`: a MOSIP
//! Claim 169 identity map inside a CWT (RFC 8392), signed as a COSE_Sign1 (RFC 9052) with Ed25519,
//! zlib-compressed when that makes it smaller, and base45-encoded (RFC 9285) for a QR code in
//! alphanumeric mode. Also the IETF Token Status List codec that revocation uses, and the
//! document-signature formats ([`docsig`] JWS, [`SignerCredential`], [`Stamp`]) of
//! docs/signature-format.md.
//!
//! This crate is pure: no I/O, no clock, no async. Time and keys come in as arguments; signing
//! goes through [`signature::Signer`] so that a hardware key can replace a file key.
//!
//! ```
//! use qrid_credential::{CitizenInput, Credential, IssuerKey, open};
//!
//! let key = IssuerKey::generate();
//! let input = CitizenInput::from_json(r#"{"id_number":"001099012345",
//!     "full_name":"Nguyễn Thị Minh Khai","date_of_birth":"1990-01-15"}"#).unwrap();
//! let credential = Credential::from_input(&input, "VN", 1_763_856_000, 3650, None, None).unwrap();
//! let payload = credential.sign(key.signing_key(), key.kid()).unwrap();
//!
//! let msg = open(&payload).unwrap();
//! assert!(msg.kid().is_some_and(|k| key.kid().matches(k)));
//! msg.verify(&key.verifying_key()).unwrap();
//! let back = Credential::from_cbor(msg.payload()).unwrap();
//! assert_eq!(back.citizen.full_name.as_str(), "Nguyễn Thị Minh Khai");
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod base45;
mod cbor;
mod claims;
mod cose;
mod credential;
mod date;
pub mod docsig;
mod error;
mod fold;
mod keys;
mod login;
pub mod payload;
mod presentation;
mod signer;
mod stamp;
mod statuslist;
pub mod vci;

pub use claims::{
    Citizen, CitizenInput, CountryCode, FacePhoto, IdNumber, PhotoDigest, PhotoFormat, Sex, Text,
    FACE_PHOTO_MAX, FULL_NAME_MAX, MAX_INPUT_JSON, PLACE_MAX,
};
pub use cose::{SignedMessage, ALG_EDDSA};
pub use credential::{
    claim169, key as cwt_key, open, Credential, CredentialId, HolderKey, StatusIndex, StatusRef,
    ISSUER_MAX, STATUS_URI_MAX,
};
pub use date::{format_utc, parse_utc, Date, DAY};
pub use error::{ClaimError, Error};
pub use fold::{fold_name, MAX_FOLDED};
pub use keys::{
    candidates, IssuerKey, Jwk, Jwks, Kid, MAX_JWKS_BYTES, MAX_KEYS_WITHOUT_KID, SHORT_KID_LEN,
};
pub use login::{LoginRequest, VerifiedLoginRequest, LOGIN_TYP, MAX_LOGIN_REQUEST_CHARS};
pub use presentation::{
    OpenedPresentation, Presentation, MAX_PRESENTATION_CHARS, PRESENTATION_AHEAD,
    PRESENTATION_MAX_AGE, PRESENTATION_REFRESH, PRESENTATION_TYP,
};
pub use signer::{Official, SignerCredential, SIGNER_TEXT_MAX, SIGNER_TYP, SUBJECT_MAX};
pub use stamp::{Stamp, MAX_STAMP_CHARS, STAMP_TYP};
pub use statuslist::{
    Status, StatusBits, StatusList, StatusListToken, MAX_LIST_BYTES, MAX_TOKEN_BYTES,
};

/// Re-exported so callers name the same key types as this crate.
pub use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

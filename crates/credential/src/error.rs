//! One error type for everything that can go wrong while building, encoding or decoding a
//! credential or a status list. Every variant has a stable, machine-readable [`Error::kind`]; the
//! kinds are part of the format specification (docs/credential-format.md) and of the test vectors.

use thiserror::Error;

/// What went wrong, one variant per cause.
///
/// Messages never contain claim values (names, id numbers), key material or whole payloads, so an
/// error can be logged or returned to a caller as it is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The payload starts with the prefix of another kind of QR code (a login request, a
    /// signature stamp, an EU health certificate), not an identity credential.
    #[error(
        "payload has the prefix {prefix:?} of another kind of QR code, not an identity credential"
    )]
    BadPrefix {
        /// The prefix that was found.
        prefix: &'static str,
    },
    /// The payload text is not valid base45 (RFC 9285).
    #[error("payload is not valid base45: {0}")]
    Base45(#[from] crate::base45::Base45Error),
    /// The zlib stream is corrupt or truncated.
    #[error("zlib decompression failed: {0}")]
    Decompression(String),
    /// An input or a decompressed stream is larger than its limit.
    #[error("{what} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// Which size was exceeded.
        what: &'static str,
        /// The limit in bytes (characters for payload text).
        limit: usize,
    },
    /// The bytes are not one well-formed CBOR item (malformed, trailing bytes, nested too deeply,
    /// duplicate map keys).
    #[error("CBOR is not well-formed: {0}")]
    Cbor(String),
    /// The CBOR is well-formed but not in the one encoding the format fixes (RFC 8949 §4.2.1
    /// deterministic encoding): an indefinite length, a head longer than needed, map keys out
    /// of order. Refused so that one credential has one text.
    #[error("CBOR is not in deterministic encoding: {0}")]
    NonCanonical(String),
    /// The CBOR is well-formed but not the COSE_Sign1 / CWT structure the format requires.
    #[error("not a valid COSE_Sign1 structure: {0}")]
    CoseStructure(String),
    /// The protected header names an algorithm other than EdDSA (-8).
    #[error("algorithm {0} is not allowed; only EdDSA (-8) is accepted")]
    AlgorithmNotAllowed(i64),
    /// The signature does not verify with the issuer key.
    #[error("signature does not verify")]
    BadSignature,
    /// The claims are missing, of the wrong type, or out of their limits.
    #[error("invalid claims: {0}")]
    BadClaims(ClaimError),
    /// A status list is malformed (bit width, length, compression).
    #[error("invalid status list: {0}")]
    StatusList(String),
    /// The signer refused or failed to sign (a hardware key that is unplugged, say).
    #[error("the signer failed to produce a signature")]
    Signing,
    /// No key of the trust list has the message's `kid`.
    #[error("no trusted key has this kid")]
    UnknownKey,
    /// A key could not be read or is not an Ed25519 key.
    #[error("invalid key: {0}")]
    Key(String),
    /// A document signature (JWS) is malformed: not three base64url parts with an empty
    /// payload, a header that is not the JSON of docs/signature-format.md, an unknown
    /// critical parameter, an algorithm other than EdDSA.
    #[error("malformed document signature: {0}")]
    SignatureFormat(String),
}

/// Writes an enum's `kind(&self) -> &'static str` and its `KINDS` list from one table of
/// `pattern => "kind"` arms, so that the list of kinds cannot drift from the match: a new
/// variant fails to compile until it has an arm, and its kind is then in `KINDS`. A kind that
/// two arms share appears once per arm.
#[macro_export]
macro_rules! stable_kinds {
    ($ty:ty, $vis:vis fn $name:ident, const $list:ident {
        $($pat:pat $(if $guard:expr)? => $kind:literal),+ $(,)?
    }) => {
        impl $ty {
            /// Every kind the kind function can answer, in the order of its arms.
            $vis const $list: &'static [&'static str] = &[$($kind),+];

            /// The stable snake_case kind, as verdict JSON, problem types and test vectors
            /// name it.
            $vis fn $name(&self) -> &'static str {
                match self {
                    $($pat $(if $guard)? => $kind),+
                }
            }
        }
    };
}

stable_kinds!(Error, pub fn kind, const KINDS {
    Error::BadPrefix { .. } => "bad_prefix",
    Error::Base45(_) => "base45",
    Error::Decompression(_) => "decompression",
    Error::TooLarge { .. } => "too_large",
    Error::Cbor(_) => "cbor",
    Error::NonCanonical(_) => "non_canonical",
    Error::CoseStructure(_) => "cose_structure",
    Error::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
    Error::BadSignature => "bad_signature",
    Error::BadClaims(_) => "bad_claims",
    Error::StatusList(_) => "bad_status_list",
    Error::Signing => "signing_failed",
    Error::UnknownKey => "unknown_key",
    Error::Key(_) => "bad_key",
    Error::SignatureFormat(_) => "malformed_signature",
});

impl From<ClaimError> for Error {
    fn from(e: ClaimError) -> Self {
        Error::BadClaims(e)
    }
}

/// A claim that is missing or broken. Says which field and what is wrong, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// A required field is absent.
    #[error("{0} is required")]
    Missing(&'static str),
    /// A field has the wrong CBOR or JSON type.
    #[error("{field} must be {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// A field's value breaks its format or range.
    #[error("{field}: {problem}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong, in words that do not repeat the value.
        problem: &'static str,
    },
    /// A text field is longer than its limit.
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The limit in Unicode scalar values after NFC normalisation.
        max: usize,
    },
    /// The JSON input is not an object of the documented fields.
    #[error("claims JSON: {0}")]
    Json(String),
}

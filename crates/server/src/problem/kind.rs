//! The catalogue of problem kinds: every `urn:qrid:problem:<kind>` the HTTP API answers with.
//!
//! The OpenID Connect endpoints' OAuth errors (`/authorize`, `/token`, `/userinfo`: an HTML
//! page, a redirect or RFC 6749 JSON such as `invalid_grant`) are not problems and are not
//! here. The catalogue is docs/api.md's Errors table; a unit test below checks both against
//! each other.

use axum::http::StatusCode;
use qrid_credential::Error as FormatError;
use qrid_qr::QrError;
use qrid_service::totp::TotpError;
use qrid_verifier::SigReason;

/// Declares [`ProblemKind`] with its wire name and usual status, and derives [`ProblemKind::ALL`]
/// from the same list, so that no variant can be left out of it.
macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $status:ident; )+) => {
        /// What went wrong, as the stable `kind` of a problem: the `type` of the answer is
        /// `urn:qrid:problem:<kind>`.
        ///
        /// One variant per kind the HTTP API can answer with (outside the OAuth errors of the
        /// OpenID Connect endpoints). Guarantees:
        ///
        /// - [`ProblemKind::as_str`] is the snake_case wire name, unique among the variants,
        ///   and never changes for a variant (clients and docs/api.md match on it);
        /// - [`ProblemKind::ALL`] lists every variant, once;
        /// - every kind is a row of docs/api.md's Errors table, and every row a kind (tested).
        ///
        /// Kinds that a library names at run time (QR decoding, TOTP codes, signature verdicts)
        /// are mapped from the library's error enum, never passed through as strings:
        /// [`ProblemKind::of_qr_error`], [`ProblemKind::of_signature_reason`],
        /// `From<TotpError>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemKind {
            $( $(#[$doc])* $variant, )+
        }

        impl ProblemKind {
            /// Every kind, in declaration order, each once.
            pub const ALL: &'static [ProblemKind] = &[ $( ProblemKind::$variant, )+ ];

            /// The stable snake_case kind: the part of the `type` URI after
            /// `urn:qrid:problem:`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ProblemKind::$variant => $name, )+
                }
            }

            /// The status this kind is usually answered with (the first row of docs/api.md's
            /// Errors table that names it). A few kinds are also answered with another status
            /// (`invalid_body`: 422 for JSON of the wrong shape, 400 for a body that could not
            /// be read; the QR kinds: 400 when rendering, 422 when reading an upload); the
            /// call site always chooses, this is for documentation and tests.
            pub const fn default_status(self) -> StatusCode {
                match self {
                    $( ProblemKind::$variant => StatusCode::$status, )+
                }
            }
        }
    };
}

kinds! {
    // ----- the request itself -----

    /// 400: the body is not JSON (a syntax error or an early end).
    MalformedJson = "malformed_json", BAD_REQUEST;
    /// 422: JSON of the wrong shape (missing or unknown field, wrong type) or a value out of
    /// range (`valid_days`, `reason`, a signing session's `documents` and `minutes`); 400: the
    /// body could not be read, or holds what belongs to another request.
    InvalidBody = "invalid_body", UNPROCESSABLE_ENTITY;
    /// 415: a body of a content type the endpoint does not take.
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE;
    /// 400: a query string that does not parse, or a `limit` out of range.
    InvalidQuery = "invalid_query", BAD_REQUEST;
    /// 413: a body over the endpoint's limit.
    BodyTooLarge = "body_too_large", PAYLOAD_TOO_LARGE;
    /// 400: a multipart body that breaks the form rules (boundary, parts, sizes, names).
    InvalidMultipart = "invalid_multipart", BAD_REQUEST;

    // ----- who is asking -----

    /// 401: no, a malformed, an expired or the wrong kind of credentials; a failed login.
    Unauthorized = "unauthorized", UNAUTHORIZED;
    /// 403: the caller may not do this (role, disabled official, another browser).
    Forbidden = "forbidden", FORBIDDEN;
    /// 429: the username (or an official's codes) is locked out after failed attempts.
    TooManyAttempts = "too_many_attempts", TOO_MANY_REQUESTS;
    /// 429: too many requests from this source address.
    RateLimited = "rate_limited", TOO_MANY_REQUESTS;

    // ----- what is asked for -----

    /// 404: unknown path, malformed id, or no such row.
    NotFound = "not_found", NOT_FOUND;
    /// 405: a known path with another method.
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED;
    /// 409: the thing already exists (a citizen's id number, a lost allocation race).
    Conflict = "conflict", CONFLICT;
    /// 409: the row's state does not allow this change.
    InvalidState = "invalid_state", CONFLICT;
    /// 422: an argument the store or a text field refused (too long, control characters).
    InvalidInput = "invalid_input", UNPROCESSABLE_ENTITY;
    /// 422: enrolment claims fail validation.
    BadClaims = "bad_claims", UNPROCESSABLE_ENTITY;
    /// 422: an issuance `holder_jwk` that is not a usable Ed25519 key.
    BadHolderKey = "bad_holder_key", UNPROCESSABLE_ENTITY;

    // ----- QR codes: rendering (400) -----

    /// 400: a QR `scale` out of range.
    BadScale = "bad_scale", BAD_REQUEST;
    /// 400: an unknown QR error-correction level.
    BadOption = "bad_option", BAD_REQUEST;
    /// 400: the payload does not fit in a QR code at this error-correction level.
    QrTooLong = "qr_too_long", BAD_REQUEST;
    /// 400: PNG encoding of a QR code failed.
    PngEncode = "png_encode", BAD_REQUEST;

    // ----- QR codes: reading an upload on /v1/verify -----

    /// 400: the multipart body has no field named `image`.
    MissingImage = "missing_image", BAD_REQUEST;
    /// 422: the image is neither PNG nor JPEG.
    UnsupportedImage = "unsupported_image", UNPROCESSABLE_ENTITY;
    /// 422: the image is over the pixel or decode-memory limit.
    ImageTooLarge = "image_too_large", UNPROCESSABLE_ENTITY;
    /// 422: the image cannot be decoded.
    ImageCorrupt = "image_corrupt", UNPROCESSABLE_ENTITY;
    /// 422: no QR code in the image.
    NoQrFound = "no_qr_found", UNPROCESSABLE_ENTITY;
    /// 422: a QR code was found but cannot be read.
    QrUnreadable = "qr_unreadable", UNPROCESSABLE_ENTITY;
    /// 422: the QR detector's work limit was reached.
    ImageTooComplex = "image_too_complex", UNPROCESSABLE_ENTITY;
    /// 503: the image memory stayed taken by other uploads for 10 s (`Retry-After: 2`).
    Busy = "busy", SERVICE_UNAVAILABLE;

    // ----- citizens' photos and the counter's face -----

    /// 422: a photo smaller than 120 pixels on a side.
    PhotoTooSmall = "photo_too_small", UNPROCESSABLE_ENTITY;
    /// 409: a face asked for a credential that does not verify.
    NotVerified = "not_verified", CONFLICT;
    /// 409: a face asked for a credential without a photo digest.
    NoPhotoDigest = "no_photo_digest", CONFLICT;
    /// 409: the stored photo is not the one the credential was signed over.
    PhotoMismatch = "photo_mismatch", CONFLICT;

    // ----- the wallet's login response (/login/response) -----

    /// 404: no such login transaction.
    LoginUnknown = "login_unknown", NOT_FOUND;
    /// 409: the transaction was already answered.
    LoginUsed = "login_used", CONFLICT;
    /// 409: the transaction failed after repeated refused answers.
    LoginFailed = "login_failed", CONFLICT;
    /// 422: the confirmation code is not the one the login page shows.
    LoginCodeMismatch = "login_code_mismatch", UNPROCESSABLE_ENTITY;
    /// 410: the transaction has expired.
    LoginExpired = "login_expired", GONE;
    /// 403: the portal that asked for the login was disabled while it waited.
    ClientDisabled = "client_disabled", FORBIDDEN;
    /// 422: the credential could not be checked, is not valid, or is not one this service
    /// issued.
    CredentialInvalid = "credential_invalid", UNPROCESSABLE_ENTITY;
    /// 422: the credential binds no holder key.
    HolderKeyMissing = "holder_key_missing", UNPROCESSABLE_ENTITY;
    /// 422: the holder signature is malformed or does not verify.
    HolderSignatureInvalid = "holder_signature_invalid", UNPROCESSABLE_ENTITY;

    // ----- officials: sole control -----

    /// 401: the `X-TOTP` code is not six digits.
    TotpMalformed = "totp_malformed", UNAUTHORIZED;
    /// 401: the `X-TOTP` code is wrong.
    TotpInvalid = "totp_invalid", UNAUTHORIZED;
    /// 401: the `X-TOTP` code's step was used already.
    TotpReused = "totp_reused", UNAUTHORIZED;
    /// 401: neither `X-TOTP` nor `X-Signing-Session`, or a session used to open a session.
    SoleControlRequired = "sole_control_required", UNAUTHORIZED;
    /// 403: a malformed, unknown, expired, used-up or another official's signing session.
    SigningSessionRefused = "signing_session_refused", FORBIDDEN;

    // ----- signing (POST /v1/signatures) -----

    /// 403: the request names another official's key (`kid`).
    NotYourKey = "not_your_key", FORBIDDEN;
    /// 403: the official has no signer credential.
    NoSignerCredential = "no_signer_credential", FORBIDDEN;
    /// 403: the official's signer credential is revoked.
    SignerCredentialRevoked = "signer_credential_revoked", FORBIDDEN;
    /// 403: the official's signer credential is suspended.
    SignerCredentialSuspended = "signer_credential_suspended", FORBIDDEN;
    /// 403: the official's signer credential has expired.
    SignerCredentialExpired = "signer_credential_expired", FORBIDDEN;
    /// 413: a document over 100 MiB.
    DocumentTooLarge = "document_too_large", PAYLOAD_TOO_LARGE;
    /// 422: a `digest` that is not 64 hexadecimal digits.
    InvalidDigest = "invalid_digest", UNPROCESSABLE_ENTITY;
    /// 422: neither a document part nor a digest.
    MissingDocument = "missing_document", UNPROCESSABLE_ENTITY;
    /// 422: the document has no name.
    MissingName = "missing_name", UNPROCESSABLE_ENTITY;
    /// 422: a document name or media type the signature format refuses.
    InvalidDocument = "invalid_document", UNPROCESSABLE_ENTITY;

    // ----- signature verification (POST /v1/signatures/verify) -----

    /// 422: the request has no signature to verify.
    MissingSignature = "missing_signature", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the JWS is malformed.
    MalformedSignature = "malformed_signature", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the JWS is longer than a document signature may be.
    TooLarge = "too_large", UNPROCESSABLE_ENTITY;
    /// 422 verdict: no trusted issuer key has the signer credential's `kid`.
    UnknownIssuerKey = "unknown_issuer_key", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the signer credential is malformed or its issuer signature does not verify.
    BadSignerCredential = "bad_signer_credential", UNPROCESSABLE_ENTITY;
    /// 422 verdict: an identity credential without a holder key.
    NoHolderKey = "no_holder_key", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the JWS `kid` is not the signer credential's key.
    KeyMismatch = "key_mismatch", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the JWS signature does not verify (an edited header).
    BadSignature = "bad_signature", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the document is not the one that was signed.
    DigestMismatch = "digest_mismatch", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the signing time lies in the future.
    SigningTimeInFuture = "signing_time_in_future", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the signer credential was not valid at the signing time.
    SignedOutsideValidity = "signed_outside_validity", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the signer credential was revoked or suspended at or before the signing
    /// time.
    RevokedBeforeSigning = "revoked_before_signing", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the signer credential's status is a value this service does not know, or
    /// its index is past the end of its list.
    UnknownStatus = "unknown_status", UNPROCESSABLE_ENTITY;

    // ----- PDF signatures (POST /v1/signatures/pdf, and verify with a PDF) -----

    /// 422: the body is not a PDF.
    NotPdf = "not_pdf", UNPROCESSABLE_ENTITY;
    /// 422: the PDF's structure is broken or cut short.
    MalformedPdf = "malformed_pdf", UNPROCESSABLE_ENTITY;
    /// 422: the PDF is encrypted (password-protected).
    EncryptedPdf = "encrypted_pdf", UNPROCESSABLE_ENTITY;
    /// 422: the PDF uses a structure this service does not sign.
    UnsupportedPdf = "unsupported_pdf", UNPROCESSABLE_ENTITY;
    /// 413: a PDF over 32 MiB, or one whose structure inflates past the bounds.
    PdfTooLarge = "pdf_too_large", PAYLOAD_TOO_LARGE;
    /// 422 verdict: the PDF has no signature.
    NoSignature = "no_signature", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the signer's certificate is not issued by this service's CA.
    UntrustedCertificate = "untrusted_certificate", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the `/ByteRange` does not cover the document but for the signature.
    ByteRangeInvalid = "byte_range_invalid", UNPROCESSABLE_ENTITY;
    /// 422 verdict: the document was changed after it was signed.
    ModifiedAfterSigning = "modified_after_signing", UNPROCESSABLE_ENTITY;

    // ----- the service -----

    /// 500: anything unexpected; the cause is logged, never shown.
    Internal = "internal", INTERNAL_SERVER_ERROR;
    /// 503: the database cannot serve now; nothing was changed (`Retry-After: 5`).
    DatabaseUnavailable = "database_unavailable", SERVICE_UNAVAILABLE;
    /// 503: the request took longer than its timeout.
    Timeout = "timeout", SERVICE_UNAVAILABLE;
}

impl ProblemKind {
    /// The kind whose [`as_str`](ProblemKind::as_str) is `s`, or `None` for a string that is no
    /// kind of this API. For parsing only: errors of the libraries are mapped from their enums.
    pub fn from_kind_str(s: &str) -> Option<ProblemKind> {
        ProblemKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// The kind of a QR rendering or decoding error: the same name as [`QrError::kind`].
    ///
    /// `None` for an error that is no problem of the API: a decode the handler itself
    /// cancelled (its request had already ended, so nobody reads the answer), or a variant
    /// added to the library since (the enum is `#[non_exhaustive]`); the caller answers
    /// those as [`ProblemKind::Internal`] and logs the cause.
    pub fn of_qr_error(e: &QrError) -> Option<ProblemKind> {
        Some(match e {
            QrError::TooLong(_) => ProblemKind::QrTooLong,
            QrError::BadScale => ProblemKind::BadScale,
            QrError::BadOption { .. } => ProblemKind::BadOption,
            QrError::PngEncode(_) => ProblemKind::PngEncode,
            QrError::UnsupportedImage => ProblemKind::UnsupportedImage,
            QrError::ImageTooLarge(_) => ProblemKind::ImageTooLarge,
            QrError::ImageCorrupt(_) => ProblemKind::ImageCorrupt,
            QrError::NoQrFound => ProblemKind::NoQrFound,
            QrError::QrUnreadable(_) => ProblemKind::QrUnreadable,
            QrError::ImageTooComplex => ProblemKind::ImageTooComplex,
            QrError::Cancelled => return None,
            _ => return None,
        })
    }

    /// The kind of this wire name, for the stable kinds a library names as strings
    /// (`qrid_pdf`'s refusals and verdicts); `None` for a name that is no kind.
    pub fn named(name: &str) -> Option<ProblemKind> {
        ProblemKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == name)
    }

    /// The kind of an invalid signature verdict: the same name as [`SigReason::kind`].
    ///
    /// `None` for a reason that makes a verdict indeterminate (`revocation_time_unknown`,
    /// `signing_time_unproven`: answered 200, never as a problem) and for a variant added to
    /// the library since (the enum is `#[non_exhaustive]`); the caller answers those as
    /// [`ProblemKind::Internal`] and logs the cause.
    pub fn of_signature_reason(r: &SigReason) -> Option<ProblemKind> {
        Some(match r {
            SigReason::Format(FormatError::TooLarge { .. }) => ProblemKind::TooLarge,
            SigReason::Format(_) => ProblemKind::MalformedSignature,
            SigReason::SignerCredential(FormatError::UnknownKey) => ProblemKind::UnknownIssuerKey,
            SigReason::SignerCredential(_) => ProblemKind::BadSignerCredential,
            SigReason::NoHolderKey => ProblemKind::NoHolderKey,
            SigReason::KeyMismatch => ProblemKind::KeyMismatch,
            SigReason::BadSignature => ProblemKind::BadSignature,
            SigReason::DigestMismatch => ProblemKind::DigestMismatch,
            SigReason::SigningTimeInFuture => ProblemKind::SigningTimeInFuture,
            SigReason::SignedOutsideValidity => ProblemKind::SignedOutsideValidity,
            SigReason::RevokedBeforeSigning { .. } => ProblemKind::RevokedBeforeSigning,
            SigReason::UnknownStatus(_) => ProblemKind::UnknownStatus,
            SigReason::RevocationTimeUnknown { .. } | SigReason::SigningTimeUnproven { .. } => {
                return None
            }
            _ => return None,
        })
    }
}

/// A refused TOTP code: the same name as [`TotpError::kind`]. Exhaustive: a new variant of
/// [`TotpError`] does not compile until it has a kind here.
impl From<TotpError> for ProblemKind {
    fn from(e: TotpError) -> ProblemKind {
        match e {
            TotpError::Malformed => ProblemKind::TotpMalformed,
            TotpError::Wrong => ProblemKind::TotpInvalid,
            TotpError::Reused => ProblemKind::TotpReused,
        }
    }
}

impl std::fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    const API_MD: &str = include_str!("../../../../docs/api.md");

    /// The rows of the table under `## Errors` (up to the next `## ` heading): each kind of
    /// the first cell (one or several, in backquotes, separated by commas) with the row's
    /// status.
    fn documented() -> BTreeMap<String, BTreeSet<u16>> {
        let start = API_MD
            .find("\n## Errors\n")
            .expect("docs/api.md has a ## Errors section");
        let section = &API_MD[start + 1..];
        let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
        let mut out: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
        for line in section[..end].lines() {
            if !line.starts_with("| `") {
                continue;
            }
            let cells: Vec<&str> = line.split('|').skip(1).map(str::trim).collect();
            let status: u16 = cells[1]
                .parse()
                .unwrap_or_else(|_| panic!("status of the row {line:?}"));
            for kind in cells[0].split(',') {
                let kind = kind.trim();
                let kind = kind
                    .strip_prefix('`')
                    .and_then(|k| k.strip_suffix('`'))
                    .unwrap_or_else(|| panic!("kind {kind:?} of the row {line:?}"));
                out.entry(kind.to_owned()).or_default().insert(status);
            }
        }
        assert!(out.len() > 20, "the Errors table was not found: {out:?}");
        out
    }

    #[test]
    fn every_kind_is_documented_with_its_status() {
        let docs = documented();
        for k in ProblemKind::ALL {
            let statuses = docs.get(k.as_str()).unwrap_or_else(|| {
                panic!(
                    "{} is missing from the Errors table of docs/api.md",
                    k.as_str()
                )
            });
            assert!(
                statuses.contains(&k.default_status().as_u16()),
                "{}: docs/api.md says {statuses:?}, the code {}",
                k.as_str(),
                k.default_status()
            );
        }
    }

    #[test]
    fn every_documented_kind_is_a_variant() {
        for kind in documented().keys() {
            assert!(
                ProblemKind::from_kind_str(kind).is_some(),
                "docs/api.md's Errors table names {kind}, which is no ProblemKind"
            );
        }
    }

    #[test]
    fn kinds_are_unique_snake_case() {
        let mut seen = BTreeSet::new();
        for k in ProblemKind::ALL {
            let s = k.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                !s.is_empty()
                    && s.starts_with(|c: char| c.is_ascii_lowercase())
                    && !s.ends_with('_')
                    && !s.contains("__")
                    && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s} is not snake_case"
            );
            assert_eq!(ProblemKind::from_kind_str(s), Some(*k));
            assert_eq!(k.to_string(), s);
        }
        assert_eq!(ProblemKind::from_kind_str("no_such_kind"), None);
    }

    /// The wire names stay the libraries' own: what a response said before the enum existed.
    #[test]
    fn library_errors_keep_their_names() {
        for e in [TotpError::Malformed, TotpError::Wrong, TotpError::Reused] {
            assert_eq!(ProblemKind::from(e).as_str(), e.kind());
        }
        let qr = [
            QrError::TooLong(5000),
            QrError::BadScale,
            QrError::BadOption {
                what: "ecc",
                expected: "L, M, Q or H",
            },
            QrError::PngEncode("x".into()),
            QrError::UnsupportedImage,
            QrError::ImageTooLarge("x".into()),
            QrError::ImageCorrupt("x".into()),
            QrError::NoQrFound,
            QrError::QrUnreadable("x".into()),
            QrError::ImageTooComplex,
        ];
        for e in &qr {
            assert_eq!(
                ProblemKind::of_qr_error(e).map(ProblemKind::as_str),
                Some(e.kind())
            );
        }
        assert_eq!(ProblemKind::of_qr_error(&QrError::Cancelled), None);
        let sig = [
            SigReason::Format(FormatError::TooLarge {
                what: "document signature",
                limit: 1,
            }),
            SigReason::Format(FormatError::SignatureFormat("x".into())),
            SigReason::SignerCredential(FormatError::UnknownKey),
            SigReason::SignerCredential(FormatError::BadSignature),
            SigReason::NoHolderKey,
            SigReason::KeyMismatch,
            SigReason::BadSignature,
            SigReason::DigestMismatch,
            SigReason::SigningTimeInFuture,
            SigReason::SignedOutsideValidity,
            SigReason::RevokedBeforeSigning { status: "revoked" },
            SigReason::UnknownStatus(3),
        ];
        for r in &sig {
            assert_eq!(
                ProblemKind::of_signature_reason(r).map(ProblemKind::as_str),
                Some(r.kind())
            );
        }
        for r in [
            SigReason::RevocationTimeUnknown { status: "revoked" },
            SigReason::SigningTimeUnproven { status: "revoked" },
        ] {
            assert_eq!(ProblemKind::of_signature_reason(&r), None);
        }
    }
}

//! RFC 9457 problem details: every error the API returns, with a stable `type` per kind.
//!
//! [`Problem`] is the one typed error of the handlers; its [`IntoResponse`] is the one place
//! that writes problem+json (the invalid verdict of `/v1/signatures/verify` goes through it
//! too, with [`Problem::into_response_with`]). The kinds are [`ProblemKind`].

mod kind;

pub use kind::ProblemKind;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// Base of every problem `type` URI: `urn:qrid:problem:<kind>`.
pub const TYPE_PREFIX: &str = "urn:qrid:problem:";

/// An API error: status, stable kind, and a detail that never holds secrets or personal data.
#[derive(Debug)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable kind; the `type` is `urn:qrid:problem:<kind>`.
    pub kind: ProblemKind,
    /// Human-readable detail.
    pub detail: String,
    /// For 401: the `WWW-Authenticate` challenge (the scheme the endpoint expects).
    pub challenge: &'static str,
    /// For 429 and 503: seconds to wait, sent as `Retry-After`.
    pub retry_after: Option<u64>,
    /// An extension member (RFC 9457 §3.2) that lets the client act on the problem, such as
    /// the existing citizen's id on a 409; never secrets or personal data.
    pub member: Option<(&'static str, String)>,
}

impl Problem {
    /// A problem of any status.
    pub fn new(status: StatusCode, kind: ProblemKind, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            kind,
            detail: detail.into(),
            challenge: "Bearer realm=\"qrid\"",
            retry_after: None,
            member: None,
        }
    }
    /// The same problem with an extension member.
    pub fn with_member(mut self, name: &'static str, value: String) -> Problem {
        self.member = Some((name, value));
        self
    }
    /// The same problem with another `WWW-Authenticate` challenge.
    pub fn with_challenge(mut self, challenge: &'static str) -> Problem {
        self.challenge = challenge;
        self
    }
    /// The same problem with a `Retry-After`.
    pub fn with_retry_after(mut self, secs: u64) -> Problem {
        self.retry_after = Some(secs);
        self
    }
    /// 400 with a kind.
    pub fn bad_request(kind: ProblemKind, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, kind, detail)
    }
    /// 404.
    pub fn not_found(what: &str) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            ProblemKind::NotFound,
            format!("{what} not found"),
        )
    }
    /// 401 with a WWW-Authenticate challenge added in `into_response`.
    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, ProblemKind::Unauthorized, detail)
    }
    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, ProblemKind::Forbidden, detail)
    }
    /// 500 without internals: the cause goes to the log with the request id, not to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Problem {
        tracing::error!(error = %cause, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ProblemKind::Internal,
            "internal error; see the service log for this request id",
        )
    }
}

impl Problem {
    /// The problem+json answer with `members` (a JSON object) besides the problem's own:
    /// `type`, `title`, `status` and `detail` are written over `members` (in that order), then
    /// the extension member if any; headers as [`IntoResponse`]. A `members` that is not an
    /// object is replaced by one.
    pub fn into_response_with(self, mut members: Value) -> Response {
        if !members.is_object() {
            members = Value::Object(Map::new());
        }
        if let Some(obj) = members.as_object_mut() {
            obj.insert("type".to_owned(), self.kind.type_uri().into());
            obj.insert(
                "title".to_owned(),
                self.status.canonical_reason().unwrap_or("Error").into(),
            );
            obj.insert("status".to_owned(), self.status.as_u16().into());
            obj.insert("detail".to_owned(), self.detail.into());
            if let Some((name, value)) = self.member {
                obj.insert(name.to_owned(), value.into());
            }
        }
        let mut resp = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            members.to_string(),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static(self.challenge),
            );
        }
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        resp
    }
}

impl ProblemKind {
    /// `urn:qrid:problem:<kind>`: the problem's `type`.
    pub fn type_uri(self) -> String {
        format!("{TYPE_PREFIX}{}", self.as_str())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        self.into_response_with(Value::Object(Map::new()))
    }
}

impl From<qrid_store::StoreError> for Problem {
    fn from(e: qrid_store::StoreError) -> Problem {
        use qrid_store::StoreError as E;
        match &e {
            E::NotFound(what) => Problem::not_found(what),
            E::Conflict(_) => {
                Problem::new(StatusCode::CONFLICT, ProblemKind::Conflict, e.to_string())
            }
            E::AlreadyEnrolled(id) => {
                Problem::new(StatusCode::CONFLICT, ProblemKind::Conflict, e.to_string())
                    .with_member("citizen_id", id.clone())
            }
            E::InvalidState(_) => Problem::new(
                StatusCode::CONFLICT,
                ProblemKind::InvalidState,
                e.to_string(),
            ),
            E::Invalid(_) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemKind::InvalidInput,
                e.to_string(),
            ),
            // Nothing was written and the request itself was fine: the client may retry.
            E::Unavailable(why) => {
                tracing::warn!(reason = %why, "database unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ProblemKind::DatabaseUnavailable,
                    format!("the database is {why}; nothing was changed, retry later"),
                )
                .with_retry_after(5)
            }
            E::UnsupportedUrl
            | E::Corrupt(_)
            | E::Rejected(_)
            | E::Migrate(_)
            | E::Database(_)
            | E::Open { .. }
            | E::Io(..) => Problem::internal(&e),
            // `StoreError` is `#[non_exhaustive]`: a variant added since is unexpected here.
            _ => Problem::internal(&e),
        }
    }
}

/// The one place where the service's refusals become HTTP answers: each [`ServiceError`]
/// variant has its problem kind (the kind's own name, [`ServiceError::kind`], checked by a
/// test) and status; a store error keeps the mapping of `From<StoreError>`; an internal error
/// is logged and answered without its cause.
///
/// [`ServiceError`]: qrid_service::ServiceError
/// [`ServiceError::kind`]: qrid_service::ServiceError::kind
impl From<qrid_service::ServiceError> for Problem {
    fn from(e: qrid_service::ServiceError) -> Problem {
        use qrid_service::ServiceError as E;
        match e {
            E::NotFound(what) => Problem::not_found(what),
            E::Forbidden(_) => Problem::forbidden(e.to_string()),
            E::Unauthorized(why) => Problem::unauthorized(why),
            E::TooManyAttempts { retry_after, .. } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemKind::TooManyAttempts,
                e.to_string(),
            )
            .with_retry_after(retry_after),
            E::InvalidRequest(detail) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemKind::InvalidBody,
                detail,
            ),
            E::BadClaims(c) => c.into(),
            E::BadHolderKey(detail) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemKind::BadHolderKey,
                detail,
            ),
            E::Store(s) => s.into(),
            E::Login(r) => {
                use qrid_service::oidc::LoginRefusal as L;
                // Exhaustive: a new refusal does not compile until it has its kind and status.
                let (status, kind) = match r {
                    L::Unknown => (StatusCode::NOT_FOUND, ProblemKind::LoginUnknown),
                    L::Expired => (StatusCode::GONE, ProblemKind::LoginExpired),
                    L::Failed => (StatusCode::CONFLICT, ProblemKind::LoginFailed),
                    L::Used => (StatusCode::CONFLICT, ProblemKind::LoginUsed),
                    L::ClientDisabled => (StatusCode::FORBIDDEN, ProblemKind::ClientDisabled),
                    L::CodeMismatch => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        ProblemKind::LoginCodeMismatch,
                    ),
                    L::CredentialInvalid(_) => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        ProblemKind::CredentialInvalid,
                    ),
                    L::HolderKeyMissing => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        ProblemKind::HolderKeyMissing,
                    ),
                    L::HolderSignatureInvalid(_) => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        ProblemKind::HolderSignatureInvalid,
                    ),
                    L::OtherBrowser => (StatusCode::FORBIDDEN, ProblemKind::Forbidden),
                };
                Problem::new(status, kind, r.to_string())
            }
            E::Signing(r) => {
                use qrid_service::signing::SigningRefusal as R;
                use qrid_service::totp::TotpError as T;
                // Exhaustive: a new refusal does not compile until it has its kind and status.
                let (status, kind) = match &r {
                    R::Totp(T::Malformed) => (StatusCode::UNAUTHORIZED, ProblemKind::TotpMalformed),
                    R::Totp(T::Wrong) => (StatusCode::UNAUTHORIZED, ProblemKind::TotpInvalid),
                    R::Totp(T::Reused) => (StatusCode::UNAUTHORIZED, ProblemKind::TotpReused),
                    R::SoleControlRequired(_) => {
                        (StatusCode::UNAUTHORIZED, ProblemKind::SoleControlRequired)
                    }
                    R::SigningSessionRefused(_) => {
                        (StatusCode::FORBIDDEN, ProblemKind::SigningSessionRefused)
                    }
                    R::NotYourKey => (StatusCode::FORBIDDEN, ProblemKind::NotYourKey),
                    R::NoSignerCredential => {
                        (StatusCode::FORBIDDEN, ProblemKind::NoSignerCredential)
                    }
                    R::SignerCredentialRevoked => {
                        (StatusCode::FORBIDDEN, ProblemKind::SignerCredentialRevoked)
                    }
                    R::SignerCredentialSuspended => (
                        StatusCode::FORBIDDEN,
                        ProblemKind::SignerCredentialSuspended,
                    ),
                    R::SignerCredentialExpired => {
                        (StatusCode::FORBIDDEN, ProblemKind::SignerCredentialExpired)
                    }
                    R::MissingDocument => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        ProblemKind::MissingDocument,
                    ),
                    R::MissingName => (StatusCode::UNPROCESSABLE_ENTITY, ProblemKind::MissingName),
                    R::InvalidDocument(_) => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        ProblemKind::InvalidDocument,
                    ),
                    R::InvalidText(_) => {
                        (StatusCode::UNPROCESSABLE_ENTITY, ProblemKind::InvalidInput)
                    }
                    R::Pdf { kind, .. } => {
                        let kind = ProblemKind::named(kind).unwrap_or(ProblemKind::MalformedPdf);
                        (kind.default_status(), kind)
                    }
                };
                Problem::new(status, kind, r.to_string())
            }
            E::Session(end) => Problem::unauthorized(end.to_string()),
            E::Photo(r) => {
                use qrid_service::photo::PhotoRefusal as P;
                let kind = match r {
                    P::NotAnImage => ProblemKind::UnsupportedImage,
                    P::TooLarge(_) => ProblemKind::ImageTooLarge,
                    P::Corrupt(_) => ProblemKind::ImageCorrupt,
                    P::TooSmall { .. } => ProblemKind::PhotoTooSmall,
                };
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, kind, r.to_string())
            }
            E::Face(r) => {
                use qrid_service::office::FaceRefusal as F;
                let kind = match r {
                    F::NotVerified(_) => ProblemKind::NotVerified,
                    F::NoDigest => ProblemKind::NoPhotoDigest,
                    F::DigestMismatch => ProblemKind::PhotoMismatch,
                };
                Problem::new(StatusCode::CONFLICT, kind, r.to_string())
            }
            E::OfficialDisabled => Problem::forbidden(e.to_string()),
            E::Internal(_) => Problem::internal(&e),
            // `ServiceError` is `#[non_exhaustive]`: a variant added since is unexpected here.
            _ => Problem::internal(&e),
        }
    }
}

impl From<qrid_credential::ClaimError> for Problem {
    fn from(e: qrid_credential::ClaimError) -> Problem {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::BadClaims,
            e.to_string(),
        )
    }
}

/// Converts axum's JSON extractor rejections (syntax, types, content type, size) to problems.
pub fn json_rejection(r: axum::extract::rejection::JsonRejection) -> Problem {
    use axum::extract::rejection::JsonRejection as J;
    match r {
        J::JsonDataError(e) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::InvalidBody,
            e.body_text(),
        ),
        J::JsonSyntaxError(e) => Problem::bad_request(ProblemKind::MalformedJson, e.body_text()),
        J::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemKind::UnsupportedMediaType,
            "expected Content-Type: application/json",
        ),
        J::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        other => Problem::bad_request(ProblemKind::InvalidBody, other.body_text()),
    }
}

/// Converts a JSON error of a body parsed by hand into the same problems as [`json_rejection`]:
/// not JSON at all → 400 `malformed_json`; JSON of the wrong shape → 422 `invalid_body`.
pub fn json_error(e: serde_json::Error) -> Problem {
    if e.is_syntax() || e.is_eof() {
        Problem::bad_request(ProblemKind::MalformedJson, e.to_string())
    } else {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::InvalidBody,
            e.to_string(),
        )
    }
}

/// Converts a raw body rejection (too large, or the client went away) to a problem.
pub fn bytes_rejection(r: axum::extract::rejection::BytesRejection) -> Problem {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        Problem::bad_request(ProblemKind::InvalidBody, r.body_text())
    }
}

/// 413.
pub fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ProblemKind::BodyTooLarge,
        "request body exceeds the limit for this endpoint",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(r: Response) -> (StatusCode, Vec<(String, String)>, String) {
        let status = r.status();
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_owned()))
            .collect();
        let body = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    /// The bytes, status and headers a problem answers with, as written before the kinds were
    /// an enum (keys in sorted order, the extension member among them).
    #[tokio::test]
    async fn problem_json_is_unchanged() {
        let (status, headers, body) = answer(Problem::not_found("citizen").into_response()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            r#"{"detail":"citizen not found","status":404,"title":"Not Found","type":"urn:qrid:problem:not_found"}"#
        );
        assert_eq!(
            headers,
            [(
                "content-type".to_owned(),
                "application/problem+json".to_owned()
            )]
        );

        let p = Problem::new(StatusCode::CONFLICT, ProblemKind::Conflict, "already")
            .with_member("citizen_id", "5c0f3a9e1b7d2468".into());
        let (_, _, body) = answer(p.into_response()).await;
        assert_eq!(
            body,
            r#"{"citizen_id":"5c0f3a9e1b7d2468","detail":"already","status":409,"title":"Conflict","type":"urn:qrid:problem:conflict"}"#
        );

        let p = Problem::unauthorized("no").with_challenge("Basic realm=\"qrid\"");
        let (_, headers, _) = answer(p.into_response()).await;
        assert!(headers.contains(&(
            "www-authenticate".to_owned(),
            "Basic realm=\"qrid\"".to_owned()
        )));

        let p = Problem::new(StatusCode::SERVICE_UNAVAILABLE, ProblemKind::Busy, "later")
            .with_retry_after(2);
        let (_, headers, body) = answer(p.into_response()).await;
        assert!(headers.contains(&("retry-after".to_owned(), "2".to_owned())));
        assert!(!headers.iter().any(|(k, _)| k == "www-authenticate"));
        assert!(body.contains(r#""type":"urn:qrid:problem:busy""#));
    }

    /// The invalid signature verdict: its members, with the problem's written over them.
    #[tokio::test]
    async fn members_are_kept_beside_the_problem() {
        let p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::RevokedBeforeSigning,
            "the signature is not valid: x",
        );
        let members = serde_json::json!({"valid": false, "status": "overwritten", "error": {"kind": "revoked_before_signing"}});
        let (status, _, body) = answer(p.into_response_with(members)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body,
            r#"{"detail":"the signature is not valid: x","error":{"kind":"revoked_before_signing"},"status":422,"title":"Unprocessable Entity","type":"urn:qrid:problem:revoked_before_signing","valid":false}"#
        );
    }

    /// The service and the HTTP API call each refusal by one name: every variant of the
    /// service's error maps to the problem kind of its own `kind()`.
    #[test]
    fn service_errors_map_to_the_kind_of_their_name() {
        use qrid_service::oidc::LoginRefusal as L;
        use qrid_service::signing::SigningRefusal as R;
        use qrid_service::ServiceError as E;
        use qrid_store::StoreError as S;
        let claim = qrid_credential::CitizenInput::default()
            .to_citizen()
            .expect_err("an empty citizen fails validation");
        let errors = [
            E::NotFound("citizen"),
            E::Forbidden("issuer or admin".into()),
            E::Unauthorized("wrong username or password"),
            E::TooManyAttempts {
                what: "too many failed logins",
                retry_after: 7,
            },
            E::InvalidRequest("valid_days must be 1 to 36500".into()),
            E::BadClaims(claim),
            E::BadHolderKey("not a key".into()),
            E::Store(S::NotFound("credential")),
            E::Store(S::Conflict("race")),
            E::Store(S::AlreadyEnrolled("5c0f3a9e1b7d2468".into())),
            E::Store(S::InvalidState("revoked is final")),
            E::Store(S::Invalid("bad")),
            E::Store(S::Unavailable(qrid_store::Unavailable::Busy)),
            E::Internal("boom".into()),
            E::OfficialDisabled,
            E::Signing(R::Totp(qrid_service::totp::TotpError::Malformed)),
            E::Signing(R::Totp(qrid_service::totp::TotpError::Wrong)),
            E::Signing(R::Totp(qrid_service::totp::TotpError::Reused)),
            E::Signing(R::SoleControlRequired("x")),
            E::Signing(R::SigningSessionRefused("x")),
            E::Signing(R::NotYourKey),
            E::Signing(R::NoSignerCredential),
            E::Signing(R::SignerCredentialRevoked),
            E::Signing(R::SignerCredentialSuspended),
            E::Signing(R::SignerCredentialExpired),
            E::Signing(R::MissingDocument),
            E::Signing(R::MissingName),
            E::Signing(R::InvalidDocument("x".into())),
            E::Signing(R::InvalidText("x".into())),
            E::Login(L::Unknown),
            E::Login(L::Expired),
            E::Login(L::Failed),
            E::Login(L::Used),
            E::Login(L::ClientDisabled),
            E::Login(L::CodeMismatch),
            E::Login(L::CredentialInvalid(
                "the credential is not valid: revoked".into(),
            )),
            E::Login(L::HolderKeyMissing),
            E::Login(L::HolderSignatureInvalid("does not verify")),
            E::Login(L::OtherBrowser),
            E::Session(qrid_service::office::SessionEnd::Expired),
            E::Photo(qrid_service::photo::PhotoRefusal::NotAnImage),
            E::Photo(qrid_service::photo::PhotoRefusal::TooLarge("x".into())),
            E::Photo(qrid_service::photo::PhotoRefusal::Corrupt("x".into())),
            E::Photo(qrid_service::photo::PhotoRefusal::TooSmall {
                width: 1,
                height: 1,
            }),
            E::Face(qrid_service::office::FaceRefusal::NotVerified("revoked")),
            E::Face(qrid_service::office::FaceRefusal::NoDigest),
            E::Face(qrid_service::office::FaceRefusal::DigestMismatch),
        ];
        for e in errors {
            let name = e.kind();
            let p = Problem::from(e);
            assert_eq!(p.kind.as_str(), name, "{}", p.detail);
            assert_eq!(p.status, p.kind.default_status(), "{name}");
            assert_eq!(
                ProblemKind::from_kind_str(name),
                Some(p.kind),
                "{name} is a kind of the API"
            );
        }
        let p = Problem::from(E::TooManyAttempts {
            what: "too many failed logins",
            retry_after: 7,
        });
        assert_eq!(
            (p.status, p.retry_after),
            (StatusCode::TOO_MANY_REQUESTS, Some(7))
        );
        assert_eq!(p.detail, "too many failed logins; try again in 7 s");
        // The login refusals keep the statuses and details the wallet and its tests know.
        for (r, status, detail) in [
            (L::Unknown, 404, "no such login transaction"),
            (L::Expired, 410, "the login transaction has expired"),
            (
                L::Failed,
                409,
                "the login transaction failed after repeated refused answers",
            ),
            (
                L::Used,
                409,
                "the login transaction has already been answered",
            ),
            (
                L::ClientDisabled,
                403,
                "the service that asked for this login is no longer allowed to log citizens in",
            ),
            (
                L::CodeMismatch,
                422,
                "the confirmation code is not the one the login page shows",
            ),
            (
                L::HolderKeyMissing,
                422,
                "the credential is not bound to a holder key (no cnf); it cannot log in",
            ),
            (
                L::OtherBrowser,
                403,
                "this login was started in another browser",
            ),
        ] {
            let p = Problem::from(E::Login(r));
            assert_eq!((p.status.as_u16(), p.detail.as_str()), (status, detail));
        }
        let p = Problem::from(E::NotFound("login transaction"));
        assert_eq!(p.detail, "login transaction not found");
    }
}

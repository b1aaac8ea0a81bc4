//! RFC 9457 problem details: every error the API returns, with a stable `type` per kind.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Base of every problem `type` URI: `urn:qrid:problem:<kind>`.
pub const TYPE_PREFIX: &str = "urn:qrid:problem:";

/// An API error: status, stable kind, and a detail that never holds secrets or personal data.
#[derive(Debug)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case kind; the `type` is `urn:qrid:problem:<kind>`.
    pub kind: &'static str,
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
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Problem {
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
    pub fn bad_request(kind: &'static str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, kind, detail)
    }
    /// 404.
    pub fn not_found(what: &str) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
    /// 401 with a WWW-Authenticate challenge added in `into_response`.
    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }
    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }
    /// 500 without internals: the cause goes to the log with the request id, not to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Problem {
        tracing::error!(error = %cause, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the service log for this request id",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("{TYPE_PREFIX}{}", self.kind),
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let (Some((name, value)), Some(obj)) = (self.member, body.as_object_mut()) {
            obj.insert(name.to_owned(), value.into());
        }
        let mut resp = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
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

impl From<qrid_store::StoreError> for Problem {
    fn from(e: qrid_store::StoreError) -> Problem {
        use qrid_store::StoreError as E;
        match &e {
            E::NotFound(what) => Problem::not_found(what),
            E::Conflict(_) => Problem::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            E::AlreadyEnrolled(id) => Problem::new(StatusCode::CONFLICT, "conflict", e.to_string())
                .with_member("citizen_id", id.clone()),
            E::InvalidState(_) => {
                Problem::new(StatusCode::CONFLICT, "invalid_state", e.to_string())
            }
            E::Invalid(_) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                e.to_string(),
            ),
            // Nothing was written and the request itself was fine: the client may retry.
            E::Unavailable(why) => {
                tracing::warn!(reason = %why, "database unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    format!("the database is {why}; nothing was changed, retry later"),
                )
                .with_retry_after(5)
            }
            _ => Problem::internal(&e),
        }
    }
}

impl From<qrid_credential::ClaimError> for Problem {
    fn from(e: qrid_credential::ClaimError) -> Problem {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_claims",
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
            "invalid_body",
            e.body_text(),
        ),
        J::JsonSyntaxError(e) => Problem::bad_request("malformed_json", e.body_text()),
        J::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: application/json",
        ),
        J::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        other => Problem::bad_request("invalid_body", other.body_text()),
    }
}

/// Converts a JSON error of a body parsed by hand into the same problems as [`json_rejection`]:
/// not JSON at all → 400 `malformed_json`; JSON of the wrong shape → 422 `invalid_body`.
pub fn json_error(e: serde_json::Error) -> Problem {
    if e.is_syntax() || e.is_eof() {
        Problem::bad_request("malformed_json", e.to_string())
    } else {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            e.to_string(),
        )
    }
}

/// Converts a raw body rejection (too large, or the client went away) to a problem.
pub fn bytes_rejection(r: axum::extract::rejection::BytesRejection) -> Problem {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        Problem::bad_request("invalid_body", r.body_text())
    }
}

/// 413.
pub fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "request body exceeds the limit for this endpoint",
    )
}

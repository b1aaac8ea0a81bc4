//! The HTTP side of officials: reading an official's bearer token, and the sole-control
//! headers of a signing request, for the service's signing operations
//! ([`qrid_service::signing`]).

use crate::problem::Problem;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use qrid_service::signing::ControlProof;
use std::sync::Arc;

pub use qrid_service::signing::{OfficialClaims, SoleControl};

/// An authenticated official, from `Authorization: Bearer …` (a token of
/// `POST /v1/officials/token`).
pub struct OfficialAuth(pub OfficialClaims);

impl FromRequestParts<Arc<AppState>> for OfficialAuth {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Problem> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Problem::unauthorized(
                    "an official's bearer token is required (POST /v1/officials/token)",
                )
            })?;
        Ok(OfficialAuth(state.official_claims(token)?))
    }
}

/// How the request offers sole control: `X-Signing-Session` if present (even beside an
/// `X-TOTP`), else `X-TOTP`, else nothing. A header that is not text is offered as `None`,
/// for the service to refuse as malformed.
pub fn control_proof(headers: &HeaderMap) -> ControlProof<'_> {
    if let Some(v) = headers.get("x-signing-session") {
        ControlProof::Session(v.to_str().ok())
    } else if let Some(v) = headers.get("x-totp") {
        ControlProof::Totp(v.to_str().ok())
    } else {
        ControlProof::Nothing
    }
}

//! The HTTP side of authentication: reading an officer's bearer token or a client's HTTP
//! Basic credentials from the request and handing them to the service
//! ([`qrid_service::accounts`]), which checks them.

use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use base64::Engine;
use qrid_service::ServiceError;
use std::sync::Arc;

pub use qrid_service::accounts::OfficerClaims;

/// An authenticated officer, extracted from `Authorization: Bearer …`.
pub struct Officer(pub qrid_service::Officer);

impl FromRequestParts<Arc<AppState>> for Officer {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Problem> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Problem::unauthorized("an officer bearer token is required"))?;
        let token = value
            .strip_prefix("Bearer ")
            .ok_or_else(|| Problem::unauthorized("use Authorization: Bearer <token>"))?;
        Ok(Officer(state.authenticate_officer(token).await?))
    }
}

/// A registered client, authenticated with HTTP Basic (`client_id:client_secret`).
pub struct Client(pub qrid_service::ClientId);

impl FromRequestParts<Arc<AppState>> for Client {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Problem> {
        let unauthorized = || {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                ProblemKind::Unauthorized,
                "registered client credentials (HTTP Basic) are required",
            )
            .with_challenge("Basic realm=\"qrid\", charset=\"UTF-8\"")
        };
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthorized)?;
        let b64 = value.strip_prefix("Basic ").ok_or_else(unauthorized)?;
        if b64.len() > 1024 {
            return Err(unauthorized());
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| unauthorized())?;
        let text = String::from_utf8(decoded).map_err(|_| unauthorized())?;
        let (id, secret) = text.split_once(':').ok_or_else(unauthorized)?;
        match state.authenticate_client(id, secret).await {
            Ok(client) => Ok(Client(client)),
            Err(ServiceError::Unauthorized(_)) => Err(unauthorized()),
            Err(e) => Err(e.into()),
        }
    }
}

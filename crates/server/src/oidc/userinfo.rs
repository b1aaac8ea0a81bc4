//! The userinfo endpoint (`GET`/`POST /userinfo`): the bearer token is read here; the claims
//! of its scopes, under the client's pairwise `sub`, are the service's
//! ([`Service::oidc_userinfo`]).
//!
//! [`Service::oidc_userinfo`]: qrid_service::Service::oidc_userinfo

use super::{no_store, S};
use crate::openapi as doc;
use crate::problem::Problem;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use qrid_service::oidc::{OAuthErrorCode, UserinfoError};
use serde_json::json;

/// A refused access token (RFC 6750 §3.1): 401 with the error in `WWW-Authenticate` and in
/// the body.
fn bearer_error(description: &str) -> Response {
    let error = OAuthErrorCode::InvalidToken.as_str();
    (
        StatusCode::UNAUTHORIZED,
        [
            (
                header::WWW_AUTHENTICATE,
                format!("Bearer error=\"{error}\", error_description=\"{description}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// `GET` or `POST /userinfo`
#[utoipa::path(method(get, post), path = "/userinfo", tag = "login", security(("access_token" = [])),
    summary = "The claims of the granted scopes",
    responses((status = 200, description = "`sub` and the claims of the granted scopes (`Cache-Control: no-store`)", body = doc::UserInfo),
        (status = 401, description = "`invalid_token` (OAuth JSON, `WWW-Authenticate: Bearer error=\"invalid_token\"`): a missing, unknown, expired or revoked token; problem+json `unauthorized` when the client is no longer registered",
            content((doc::OAuthError = "application/json"), (doc::ProblemJson = "application/problem+json"))),
        doc::ServerErrors))]
pub async fn userinfo(State(state): S, headers: HeaderMap) -> Result<Response, Problem> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match state.oidc_userinfo(token).await {
        Ok(claims) => Ok(no_store(
            serde_json::to_value(&claims).map_err(|e| Problem::internal(&e))?,
        )),
        Err(UserinfoError::InvalidToken(description)) => Ok(bearer_error(description)),
        Err(UserinfoError::Service(e)) => Err(e.into()),
    }
}

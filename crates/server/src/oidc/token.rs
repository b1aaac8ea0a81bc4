//! The token endpoint (`POST /token`): the body and the `Authorization` header are read here;
//! client authentication and the exchange of a code for an ID and access token are the
//! service's ([`Service::oidc_token`]). Errors are OAuth 2.0 JSON (RFC 6749 §5.2), not
//! problem+json.
//!
//! [`Service::oidc_token`]: qrid_service::Service::oidc_token

use super::{no_store, S};
use crate::openapi as doc;
use crate::problem::{bytes_rejection, Problem};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use qrid_service::oidc::{Granted, OAuthErrorCode, TokenError, TokenRequest};
use serde_json::json;

/// An OAuth error response (RFC 6749 §5.2) as sent.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    basic_challenge: bool,
}

impl OAuthError {
    fn request(description: impl Into<String>) -> OAuthError {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error: OAuthErrorCode::InvalidRequest.as_str(),
            description: description.into(),
            basic_challenge: false,
        }
    }
}

/// A problem (the body could not be read, the service failed) as an OAuth error: its status
/// and detail, `server_error` for a failure of the service, else `invalid_request`.
impl From<Problem> for OAuthError {
    fn from(p: Problem) -> Self {
        OAuthError {
            status: p.status,
            error: if p.status.is_server_error() {
                OAuthErrorCode::ServerError.as_str()
            } else {
                OAuthErrorCode::InvalidRequest.as_str()
            },
            description: p.detail,
            basic_challenge: false,
        }
    }
}

impl From<TokenError> for OAuthError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Refused {
                error,
                basic_challenge,
                ..
            } => OAuthError {
                status: if error.code == OAuthErrorCode::InvalidClient {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::BAD_REQUEST
                },
                error: error.code.as_str(),
                description: error.description,
                basic_challenge,
            },
            TokenError::Service(e) => Problem::from(e).into(),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({"error": self.error, "error_description": self.description})),
        )
            .into_response();
        if self.basic_challenge {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"qrid\", charset=\"UTF-8\""),
            );
        }
        resp
    }
}

/// `POST /token`
#[utoipa::path(post, path = "/token", tag = "login", operation_id = "oidc_token",
    security(("client" = []), ()),
    summary = "Redeem a code and its PKCE verifier → ID token and access token; or a credential offer's pre-authorized code and PIN → an access token",
    description = "`grant_type=authorization_code` (a portal): the client authenticates as it registered: HTTP Basic (`client_secret_basic`), or in the form (`client_secret_post`, `private_key_jwt`). `grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code` (a wallet, anonymous, OpenID4VCI §6): `pre-authorized_code` and `tx_code`; the answer is `access_token`, `token_type`, `expires_in` (300 s) for `POST /credential`. Errors are OAuth 2.0 JSON (RFC 6749 §5.2), not problem+json.",
    request_body(content = doc::TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The tokens (`Cache-Control: no-store`)", body = doc::OidcTokens),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type` or `invalid_grant` (unknown, expired or used code, another client's, another `redirect_uri`, a wrong `code_verifier`, a credential revoked since; for an offer: an unknown, expired or used code, a wrong PIN, an offer spent by 5 wrong PINs)",
            body = doc::OAuthError),
        (status = 401, description = "`invalid_client`, with `WWW-Authenticate: Basic` when Basic was used or nothing was sent", body = doc::OAuthError),
        (status = 413, description = "A body over 64 KiB: problem+json `body_too_large` when `Content-Length` declares it, else `invalid_request`",
            content((doc::OAuthError = "application/json"), (doc::ProblemJson = "application/problem+json"))),
        (status = 500, description = "`server_error`", body = doc::OAuthError),
        (status = 503, description = "`server_error`: the database is unavailable", body = doc::OAuthError)))]
pub async fn token(
    State(state): S,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) => {
            let p = bytes_rejection(r);
            return OAuthError {
                error: OAuthErrorCode::InvalidRequest.as_str(),
                ..OAuthError::from(p)
            }
            .into_response();
        }
    };
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype.starts_with("application/x-www-form-urlencoded") {
        return OAuthError::request("the body must be application/x-www-form-urlencoded")
            .into_response();
    }
    let Ok(form) = std::str::from_utf8(&body) else {
        return OAuthError::request("the body is not UTF-8").into_response();
    };
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    match state.token(TokenRequest { form, basic }).await {
        Ok(Granted::Offer(t)) => no_store(json!({
            "access_token": t.access_token,
            "token_type": "Bearer",
            "expires_in": t.expires_in,
        })),
        Ok(Granted::Login(t)) => {
            state.metrics.tokens_issued.inc();
            no_store(json!({
                "access_token": t.access_token,
                "token_type": t.token_type,
                "expires_in": t.expires_in,
                "id_token": t.id_token,
                "scope": t.scope,
            }))
        }
        Err(e) => {
            if matches!(
                e,
                TokenError::Refused {
                    client_refused: true,
                    ..
                }
            ) {
                state.metrics.token_client_failures.inc();
            }
            OAuthError::from(e).into_response()
        }
    }
}

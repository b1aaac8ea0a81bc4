//! Discovery: `/.well-known/openid-configuration` and the provider's signing keys at
//! `/oidc/jwks.json`.

use super::{client::SCOPES, ACR, S};
use crate::openapi as doc;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// `GET /.well-known/openid-configuration`
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "login",
    summary = "OpenID Connect Discovery 1.0: the provider's metadata",
    responses((status = 200, description = "The provider metadata: `issuer` is the `public_url` setting (`Cache-Control: public, max-age=300`)",
        body = Object, content_type = doc::JSON)))]
pub async fn discovery(State(state): S) -> Response {
    let base = &state.config.public_url;
    let body = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/oidc/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "userinfo_signing_alg_values_supported": ["none"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "PS256", "ES256", "EdDSA"],
        "scopes_supported": SCOPES,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "name", "birthdate", "gender", "address", "national_id", "nationality"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": [ACR],
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(body)).into_response()
}

/// `GET /oidc/jwks.json`
#[utoipa::path(get, path = "/oidc/jwks.json", tag = "login", operation_id = "oidc_jwks",
    summary = "The ID token public keys (RS256, ES256, EdDSA)",
    responses((status = 200, description = "The JWK Set (`Cache-Control: public, max-age=300`)",
        body = doc::JwkSet, content_type = doc::JSON)))]
pub async fn jwks(State(state): S) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.oidc.jwks()),
    )
        .into_response()
}

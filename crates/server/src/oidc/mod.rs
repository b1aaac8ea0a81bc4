//! The OpenID Connect provider's HTTP endpoints: discovery, `/authorize` with the QR login
//! page, the wallet's login response, `/token`, `/userinfo` (docs/login.md,
//! docs/portal-guide.md).
//!
//! The protocol's rules live in the service ([`qrid_service::oidc`]): each handler reads the
//! query, form, headers or cookie, calls one service operation, and renders its outcome (a
//! page, a redirect, JSON, an OAuth error or a problem) and counts it.

pub(crate) use qrid_service::oidc::client;
// The handlers' modules are visible to the crate for the OpenAPI description's paths.
pub(crate) mod authorize;
pub(crate) mod discovery;
pub(crate) mod login_response;
mod page;
pub(crate) mod token;
pub(crate) mod userinfo;

pub use authorize::{authorize, status, wait_js};
pub use discovery::{discovery, jwks};
pub use login_response::{decode_holder_signature, parse_login_response, response, LoginResponse};
pub use qrid_service::oidc::{
    ACR, CODE_TTL, LOGIN_TTL, MAX_ASSERTION_LIFETIME, MAX_LOGIN_FAILURES, TOKEN_TTL,
};
pub use token::token;
pub use userinfo::userinfo;

use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use std::sync::Arc;

type S = State<Arc<AppState>>;

/// A JSON answer that no cache keeps (RFC 6749 §5.1): tokens, claims, a login's state.
fn no_store(body: Value) -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(body),
    )
        .into_response()
}

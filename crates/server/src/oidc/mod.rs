//! The OpenID Connect provider: discovery, `/authorize` with the QR login page, the wallet's
//! login response, `/token`, `/userinfo` (docs/login.md, docs/portal-guide.md).
//!
//! Every secret the flow hands out (browser cookie, code, access token) is 256 random bits and
//! stored only as its SHA-256, so a database dump logs nobody in.

pub(crate) use qrid_service::oidc::{client, keys};
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
pub use token::{token, MAX_ASSERTION_LIFETIME};
pub use userinfo::userinfo;

use crate::problem::Problem;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use client::ClientSettings;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

type S = State<Arc<AppState>>;

/// How long the QR page waits for the wallet.
pub const LOGIN_TTL: i64 = 300;
/// How long a code lives.
pub const CODE_TTL: i64 = 60;
/// Access and ID token lifetime.
pub const TOKEN_TTL: i64 = 600;
/// Refused wallet answers before a transaction fails.
pub const MAX_LOGIN_FAILURES: i64 = 5;
/// The ACR and AMR of a login by wallet (docs/login.md).
pub const ACR: &str = "urn:qrid:acr:holder-key";

fn random_b64(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    B64URL.encode(b)
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Parameters of a form or query: each at most once (RFC 6749 §3.1).
fn params(raw: &str) -> Result<HashMap<String, String>, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw).map_err(|_| "malformed parameters".to_owned())?;
    let mut map = HashMap::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), v).is_some() {
            return Err(format!("parameter {k} appears more than once"));
        }
    }
    Ok(map)
}

/// A registered client and its parsed settings.
pub(crate) async fn oidc_client(
    state: &AppState,
    client_id: &str,
) -> Result<Option<(qrid_store::ClientRecord, ClientSettings)>, Problem> {
    if client_id.len() > 64 || !crate::auth::lookup_name_ok(client_id) {
        return Ok(None);
    }
    let Some(c) = state.store.client(client_id).await? else {
        return Ok(None);
    };
    if c.disabled {
        return Ok(None);
    }
    let settings: ClientSettings = serde_json::from_str(&c.settings)
        .map_err(|_| Problem::internal(&"stored client settings do not parse"))?;
    Ok(Some((c, settings)))
}

fn tx_id_ok(tx: &str) -> Result<(), Problem> {
    if tx.len() == 32 && tx.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Problem::not_found("login transaction"))
    }
}

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

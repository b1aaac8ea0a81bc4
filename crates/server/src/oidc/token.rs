//! The token endpoint (`POST /token`): client authentication (client secrets and
//! `private_key_jwt` assertions) and the exchange of a code for an ID and access token.

use super::client::{AuthMethod, ClientSettings};
use super::{no_store, oidc_client, params, random_b64, sha256_hex, ACR, S, TOKEN_TTL};
use crate::openapi as doc;
use crate::problem::{bytes_rejection, Problem};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use qrid_service::passwords::{constant_time_eq, secret_digest};
use qrid_store::{LoginTx, Redemption};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Furthest ahead a client assertion's `exp` may lie (plus the tolerated clock skew): an hour,
/// what authlib's `private_key_jwt` sets by default (other libraries set less). Its `jti` is
/// kept, and refused again, until the assertion can no longer be accepted.
pub const MAX_ASSERTION_LIFETIME: i64 = 3600;

/// An OAuth error response (RFC 6749 §5.2).
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    basic_challenge: bool,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            basic_challenge: false,
        }
    }
    fn client(description: impl Into<String>, basic: bool) -> OAuthError {
        OAuthError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
            basic_challenge: basic,
        }
    }
}

impl From<Problem> for OAuthError {
    fn from(p: Problem) -> Self {
        OAuthError {
            status: p.status,
            error: if p.status.is_server_error() {
                "server_error"
            } else {
                "invalid_request"
            },
            description: p.detail,
            basic_challenge: false,
        }
    }
}

impl From<qrid_store::StoreError> for OAuthError {
    fn from(e: qrid_store::StoreError) -> Self {
        OAuthError::from(Problem::from(e))
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

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    acr: &'static str,
    amr: [&'static str; 2],
}

fn percent_decode(s: &str) -> Option<String> {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("x={s}"))
        .ok()
        .and_then(|v| v.into_iter().next())
        .map(|(_, v)| v)
}

/// `POST /token`
#[utoipa::path(post, path = "/token", tag = "login", operation_id = "oidc_token",
    security(("client" = []), ()),
    summary = "Redeem a code and its PKCE verifier → ID token and access token",
    description = "The client authenticates as it registered: HTTP Basic (`client_secret_basic`), or in the form (`client_secret_post`, `private_key_jwt`). Errors are OAuth 2.0 JSON (RFC 6749 §5.2), not problem+json.",
    request_body(content = doc::TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The tokens (`Cache-Control: no-store`)", body = doc::OidcTokens),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type` or `invalid_grant` (unknown, expired or used code, another client's, another `redirect_uri`, a wrong `code_verifier`, a credential revoked since)",
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
                status: p.status,
                error: "invalid_request",
                description: p.detail,
                basic_challenge: false,
            }
            .into_response();
        }
    };
    match token_inner(&state, &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn token_inner(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype.starts_with("application/x-www-form-urlencoded") {
        return Err(OAuthError::new(
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| OAuthError::new("invalid_request", "the body is not UTF-8"))?;
    let p = params(text).map_err(|e| OAuthError::new("invalid_request", e))?;
    let get = |k: &str| p.get(k).map(String::as_str);
    let (client_id, settings) = authenticate_client(state, headers, &p).await?;
    if get("grant_type") != Some("authorization_code") {
        return Err(OAuthError::new(
            "unsupported_grant_type",
            "only authorization_code is supported",
        ));
    }
    let code = get("code").ok_or_else(|| OAuthError::new("invalid_request", "code is required"))?;
    if code.len() > 128 {
        return Err(OAuthError::new("invalid_grant", "the code is not valid"));
    }
    let code_hash = sha256_hex(code);
    let at = state.now();
    let t = redeemed(state.store.code_login(&code_hash, at).await?, &client_id)?;
    if t.new.client_id != client_id {
        return Err(OAuthError::new(
            "invalid_grant",
            "the code was issued to another client",
        ));
    }
    if get("redirect_uri") != Some(t.new.redirect_uri.as_str()) {
        return Err(OAuthError::new(
            "invalid_grant",
            "redirect_uri differs from the one of the authorization request",
        ));
    }
    let verifier = get("code_verifier")
        .ok_or_else(|| OAuthError::new("invalid_grant", "code_verifier is required (PKCE)"))?;
    if !(43..=128).contains(&verifier.len())
        || !verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    {
        return Err(OAuthError::new(
            "invalid_grant",
            "code_verifier must be 43 to 128 unreserved characters",
        ));
    }
    let computed = B64URL.encode(Sha256::digest(verifier.as_bytes()));
    if !constant_time_eq(computed.as_bytes(), t.new.code_challenge.as_bytes()) {
        return Err(OAuthError::new(
            "invalid_grant",
            "code_verifier does not match the code_challenge",
        ));
    }
    let access_token = random_b64(32);
    let t = redeemed(
        state
            .store
            .redeem_code(&code_hash, &sha256_hex(&access_token), at + TOKEN_TTL, at)
            .await?,
        &client_id,
    )?;
    let citizen_id = t
        .citizen_id
        .as_deref()
        .ok_or_else(|| OAuthError::from(Problem::internal(&"redeemed login without citizen")))?;
    let sector = settings.sector().unwrap_or_else(|| client_id.clone());
    let sub = state.oidc.pairwise_sub(&sector, citizen_id);
    let base = &state.config.public_url;
    let claims = IdTokenClaims {
        iss: base,
        sub: &sub,
        aud: &client_id,
        iat: at,
        exp: at + TOKEN_TTL,
        auth_time: t.auth_time.unwrap_or(at),
        nonce: t.new.nonce.as_deref(),
        acr: ACR,
        amr: ["pop", "swk"],
    };
    let id_token = state
        .oidc
        .sign(settings.id_token_signed_response_alg, &claims)
        .map_err(|e| OAuthError::from(Problem::internal(&e)))?;
    state.metrics.tokens_issued.inc();
    tracing::info!(event = "token", client_id = %client_id, "tokens issued");
    Ok(no_store(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL,
        "id_token": id_token,
        "scope": t.new.scope,
    })))
}

/// The login behind a code, or the `invalid_grant` that says why there is none.
fn redeemed(r: Redemption, client_id: &str) -> Result<Box<LoginTx>, OAuthError> {
    match r {
        Redemption::Redeemed(t) => Ok(t),
        Redemption::Replayed => {
            tracing::warn!(event = "code_replayed", client_id = %client_id, "an authorization code was presented again; its tokens are revoked");
            Err(OAuthError::new(
                "invalid_grant",
                "the code has already been used; the tokens issued with it are revoked",
            ))
        }
        Redemption::Unknown => Err(OAuthError::new(
            "invalid_grant",
            "the code is unknown or has expired",
        )),
    }
}

/// Authenticates the client by exactly one method, which must be the one it registered.
async fn authenticate_client(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    p: &HashMap<String, String>,
) -> Result<(String, ClientSettings), OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    let post = p.get("client_secret");
    let assertion = p.get("client_assertion");
    let used = [basic.is_some(), post.is_some(), assertion.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if used > 1 {
        return Err(OAuthError::new(
            "invalid_request",
            "use exactly one client authentication method",
        ));
    }
    let (method, client_id, secret) = if let Some(b64) = basic {
        let text = STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| OAuthError::client("malformed Basic credentials", true))?;
        let (id, secret) = text
            .split_once(':')
            .ok_or_else(|| OAuthError::client("malformed Basic credentials", true))?;
        let id = percent_decode(id)
            .ok_or_else(|| OAuthError::client("malformed Basic credentials", true))?;
        let secret = percent_decode(secret)
            .ok_or_else(|| OAuthError::client("malformed Basic credentials", true))?;
        (AuthMethod::ClientSecretBasic, id, Some(secret))
    } else if let Some(secret) = post {
        let id = p
            .get("client_id")
            .cloned()
            .ok_or_else(|| OAuthError::client("client_id is required", false))?;
        (AuthMethod::ClientSecretPost, id, Some(secret.clone()))
    } else if let Some(jwt) = assertion {
        if p.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
            return Err(OAuthError::new(
                "invalid_request",
                "client_assertion_type must be jwt-bearer",
            ));
        }
        // Only to learn which client claims to be speaking; the signature is checked below
        // with that client's registered keys before anything else is believed.
        let claims: Value = (jwt.len() <= 8192)
            .then(|| jwt.split('.').nth(1))
            .flatten()
            .and_then(|c| B64URL.decode(c).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| OAuthError::client("the client assertion is not a JWT", false))?;
        let id = claims["iss"].as_str().unwrap_or("").to_owned();
        if p.get("client_id").is_some_and(|c| *c != id) {
            return Err(OAuthError::client(
                "client_id differs from the assertion's issuer",
                false,
            ));
        }
        (AuthMethod::PrivateKeyJwt, id, None)
    } else {
        return Err(OAuthError::client(
            "client authentication is required",
            true,
        ));
    };
    // No lockout: client secrets and keys are 256-bit random values nobody can guess by
    // trying, and a lockout keyed by the public client id would let anyone block a portal's
    // logins. Failures are counted for monitoring.
    let fail = |why: &str| {
        state.metrics.token_client_failures.inc();
        tracing::info!(event = "client_auth_failed", client_id = %client_id, "token endpoint client authentication failed");
        OAuthError::client(why, method == AuthMethod::ClientSecretBasic)
    };
    let Some((c, settings)) = oidc_client(state, &client_id).await? else {
        return Err(fail("client authentication failed"));
    };
    if settings.token_endpoint_auth_method != method {
        return Err(fail(
            "this client registered another token endpoint authentication method",
        ));
    }
    match (method, secret) {
        (AuthMethod::PrivateKeyJwt, _) => {
            let jwt = assertion.map(String::as_str).unwrap_or("");
            check_assertion(state, &client_id, &settings, jwt)
                .await
                .map_err(&fail)?;
        }
        (_, Some(secret)) => {
            if !constant_time_eq(&secret_digest(&secret), &c.secret_sha256) {
                return Err(fail("client authentication failed"));
            }
        }
        (_, None) => return Err(fail("client authentication failed")),
    }
    Ok((client_id, settings))
}

/// Until when the `jti` of a client assertion that expires at `exp` must be kept, checked at
/// `now` with `leeway` seconds of tolerated clock skew: the assertion is accepted up to
/// `leeway` after `exp`, so its `jti` is kept that long too (a row dropped at `exp` would let
/// the same assertion in once more). Refuses an `exp` over [`MAX_ASSERTION_LIFETIME`] (+
/// leeway) ahead.
fn assertion_kept_until(exp: i64, now: i64, leeway: i64) -> Result<i64, &'static str> {
    if exp.saturating_add(leeway) < now {
        return Err("the client assertion has expired");
    }
    if exp > now.saturating_add(MAX_ASSERTION_LIFETIME + leeway) {
        return Err("the client assertion must expire within an hour");
    }
    Ok(exp.saturating_add(leeway))
}

async fn check_assertion(
    state: &Arc<AppState>,
    client_id: &str,
    settings: &ClientSettings,
    jwt: &str,
) -> Result<(), &'static str> {
    use jsonwebtoken::Algorithm;
    let header = jsonwebtoken::decode_header(jwt)
        .map_err(|_| "the client assertion header does not parse")?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256 | Algorithm::EdDSA
    ) {
        return Err("the client assertion's algorithm is not allowed");
    }
    let set = settings
        .jwks
        .as_ref()
        .ok_or("the client has no registered keys")?;
    let jwk = match &header.kid {
        Some(kid) => set.find(kid),
        None if set.keys.len() == 1 => set.keys.first(),
        None => None,
    }
    .ok_or("no registered key matches the client assertion")?;
    let key =
        jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|_| "the registered key is unusable")?;
    let base = &state.config.public_url;
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_issuer(&[client_id]);
    v.sub = Some(client_id.to_owned());
    v.set_audience(&[format!("{base}/token"), base.clone()]);
    v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let leeway = state.config.clock_skew.clamp(0, 60);
    // Expiry is judged below on the service's clock (assertion_kept_until), not on the
    // decoder's reading of the system's.
    v.validate_exp = false;
    let data = jsonwebtoken::decode::<Value>(jwt, &key, &v)
        .map_err(|_| "the client assertion does not verify")?;
    let exp = data.claims["exp"]
        .as_i64()
        .ok_or("the client assertion's exp is not a number")?;
    let at = state.now();
    let keep_until = assertion_kept_until(exp, at, leeway)?;
    let jti = data.claims["jti"]
        .as_str()
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or("the client assertion needs a jti")?;
    match state
        .store
        .use_client_assertion(client_id, jti, keep_until, at)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err("the client assertion was used before"),
        Err(_) => Err("the client assertion could not be recorded"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_assertions_live_as_long_as_libraries_make_them_and_their_jti_as_long() {
        let now = 1_800_000_000;
        // authlib's private_key_jwt default: exp an hour after iat, with a client clock a
        // little ahead of ours.
        assert_eq!(assertion_kept_until(now + 3600, now, 60), Ok(now + 3660));
        assert_eq!(assertion_kept_until(now + 3660, now, 60), Ok(now + 3720));
        assert!(assertion_kept_until(now + 3661, now, 60).is_err());
        assert!(assertion_kept_until(now + 3601, now, 0).is_err());
        // The jti outlives exp by the leeway, the time the JWT check still accepts it.
        assert_eq!(assertion_kept_until(now - 30, now, 60), Ok(now + 30));
        assert_eq!(assertion_kept_until(now - 60, now, 60), Ok(now));
        assert!(assertion_kept_until(now - 61, now, 60).is_err());
    }
}

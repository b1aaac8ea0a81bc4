//! The OpenID Connect provider: discovery, `/authorize` with the QR login page, the wallet's
//! login response, `/token`, `/userinfo` (docs/login.md, docs/portal-guide.md).
//!
//! Every secret the flow hands out (browser cookie, code, access token) is 256 random bits and
//! stored only as its SHA-256, so a database dump logs nobody in.

pub mod client;
pub mod keys;
mod page;

use crate::auth::{constant_time_eq, secret_digest};
use crate::problem::{bytes_rejection, json_error, Problem};
use crate::routes::with_live_status;
use crate::state::{now, AppState};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use client::{AuthMethod, ClientSettings, SCOPES};
use qrid_credential::{HolderKey, LoginRequest, Signature};
use qrid_store::{LoginOpened, LoginStatus, LoginTx, NewLoginTx, Redemption};
use qrid_verifier::Verdict;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
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
/// Longest query string `/authorize` reads, and longest `state` / `nonce`.
const MAX_QUERY: usize = 4096;
const MAX_PARAM: usize = 512;
/// The ACR and AMR of a login by wallet (docs/login.md).
pub const ACR: &str = "urn:qrid:acr:holder-key";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Furthest ahead a client assertion's `exp` may lie (plus the tolerated clock skew): an hour,
/// what authlib's `private_key_jwt` sets by default (other libraries set less). Its `jti` is
/// kept, and refused again, until the assertion can no longer be accepted.
pub const MAX_ASSERTION_LIFETIME: i64 = 3600;

/// Until when the `jti` of a client assertion that expires at `exp` must be kept, checked at
/// `now` with `leeway` seconds of tolerated clock skew: the assertion is accepted up to
/// `leeway` after `exp`, so its `jti` is kept that long too (a row dropped at `exp` would let
/// the same assertion in once more). Refuses an `exp` over [`MAX_ASSERTION_LIFETIME`] (+
/// leeway) ahead.
fn assertion_kept_until(exp: i64, now: i64, leeway: i64) -> Result<i64, &'static str> {
    if exp > now.saturating_add(MAX_ASSERTION_LIFETIME + leeway) {
        return Err("the client assertion must expire within an hour");
    }
    Ok(exp.saturating_add(leeway))
}

fn random_b64(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    B64URL.encode(b)
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// `GET /.well-known/openid-configuration`
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
pub async fn jwks(State(state): S) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.oidc.jwks()),
    )
        .into_response()
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

/// `redirect_uri` with `extra` appended to its query.
fn with_query(uri: &str, extra: &[(&str, &str)]) -> String {
    let q = serde_urlencoded::to_string(extra).unwrap_or_default();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{q}")
}

fn error_redirect(
    state: &AppState,
    redirect_uri: &str,
    error: &str,
    description: &str,
    st: Option<&str>,
) -> String {
    let mut p = vec![
        ("error", error),
        ("error_description", description),
        ("iss", state.config.public_url.as_str()),
    ];
    if let Some(s) = st {
        p.push(("state", s));
    }
    with_query(redirect_uri, &p)
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

/// `GET /authorize`
pub async fn authorize(State(state): S, RawQuery(query): RawQuery) -> Response {
    match authorize_inner(&state, query.as_deref().unwrap_or("")).await {
        Ok(r) => r,
        Err(p) => p.into_response(),
    }
}

async fn authorize_inner(state: &Arc<AppState>, query: &str) -> Result<Response, Problem> {
    // Until the client and redirect URI are known good, errors are shown, never redirected.
    if query.len() > MAX_QUERY {
        return Ok(page::error(
            StatusCode::BAD_REQUEST,
            "The login request is too long.",
        ));
    }
    let p = match params(query) {
        Ok(p) => p,
        Err(e) => return Ok(page::error(StatusCode::BAD_REQUEST, &e)),
    };
    let get = |k: &str| p.get(k).map(String::as_str);
    let Some((c, settings)) = oidc_client(state, get("client_id").unwrap_or("")).await? else {
        return Ok(page::error(
            StatusCode::BAD_REQUEST,
            "Unknown client: the portal that sent you here is not registered.",
        ));
    };
    // A URI registered before the registration rule was as strict as now is held to it too.
    let Some(redirect_uri) = get("redirect_uri").filter(|r| {
        settings.redirect_uris.iter().any(|u| u == r) && client::check_redirect_uri(r).is_ok()
    }) else {
        return Ok(page::error(
            StatusCode::BAD_REQUEST,
            "The redirect URI is not one the portal registered.",
        ));
    };
    let st = get("state");
    let back = |error: &str, description: &str| -> Result<Response, Problem> {
        let st = st.filter(|s| s.len() <= MAX_PARAM);
        Ok(
            Redirect::to(&error_redirect(state, redirect_uri, error, description, st))
                .into_response(),
        )
    };
    if st.is_some_and(|s| s.len() > MAX_PARAM) || get("nonce").is_some_and(|s| s.len() > MAX_PARAM)
    {
        return back(
            "invalid_request",
            "state and nonce are limited to 512 characters",
        );
    }
    if get("request").is_some() || get("request_uri").is_some() {
        return back("request_not_supported", "request objects are not supported");
    }
    if get("response_type") != Some("code") {
        return back(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    if get("response_mode").is_some_and(|m| m != "query") {
        return back("invalid_request", "only response_mode=query is supported");
    }
    if get("prompt").is_some_and(|p| p.split(' ').any(|v| v == "none")) {
        return back("login_required", "a login always needs the wallet");
    }
    let Some(challenge) = get("code_challenge") else {
        return back(
            "invalid_request",
            "PKCE is required: code_challenge with S256",
        );
    };
    if get("code_challenge_method") != Some("S256") {
        return back("invalid_request", "code_challenge_method must be S256");
    }
    if challenge.len() != 43
        || !challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return back(
            "invalid_request",
            "code_challenge must be a base64url SHA-256 (43 characters)",
        );
    }
    let mut scopes: Vec<String> = Vec::new();
    for s in get("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        if !settings.scopes.iter().any(|r| r == s) {
            return back(
                "invalid_scope",
                "a scope asked for is not registered for this client",
            );
        }
        if !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_owned());
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        return back("invalid_scope", "the openid scope is required");
    }

    let at = now();
    let mut tx_bytes = [0u8; 16];
    let mut ch = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut tx_bytes);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut ch);
    let tx = hex::encode(tx_bytes);
    let base = &state.config.public_url;
    let request = LoginRequest {
        tx: tx.clone(),
        challenge: ch,
        audience: base.clone(),
        response_uri: format!("{base}/login/response"),
        client_id: c.client_id.clone(),
        client_name: c.name.clone(),
        scopes: scopes.clone(),
        issued_at: at,
        expires_at: at + LOGIN_TTL,
    };
    let keys = state.keys();
    let text = request
        .sign(keys.current.signing_key(), keys.current.kid())
        .map_err(|e| Problem::internal(&e))?;
    let browser = random_b64(32);
    let opened = state
        .store
        .create_login_tx(
            &NewLoginTx {
                id: tx.clone(),
                client_id: c.client_id.clone(),
                redirect_uri: redirect_uri.to_owned(),
                scope: scopes.join(" "),
                state: st.map(str::to_owned),
                nonce: get("nonce").map(str::to_owned),
                code_challenge: challenge.to_owned(),
                browser_sha256: sha256_hex(&browser),
                request_sha256: hex::encode(Sha256::digest(request.to_cbor())),
                created_at: at,
                expires_at: at + LOGIN_TTL,
            },
            state.config.pending_logins,
        )
        .await?;
    if opened != LoginOpened::Opened {
        // Too many logins wait for a wallet (this portal's, or all together): the portal hears
        // it the OAuth way (RFC 6749 §4.1.2.1) and nothing is stored.
        state.metrics.pending_logins_refused.inc();
        tracing::warn!(event = "pending_logins_full", client = %c.client_id, per_client = opened == LoginOpened::ClientAtLimit, "login refused: too many pending");
        return back(
            "temporarily_unavailable",
            "too many logins are waiting for a wallet; try again in a minute",
        );
    }
    let secure = if base.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "qrid_login={browser}; Path=/login/{tx}/; Max-Age={LOGIN_TTL}; HttpOnly; SameSite=Lax{secure}"
    );
    let code = confirm_code(state, &tx);
    let mut resp = page::login(&text, &tx, &code, &c.name, &scopes, LOGIN_TTL).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// The confirmation code of login transaction `tx`: two digits the login page shows and the
/// citizen types into the wallet, so that a wallet answers only a login its holder is looking
/// at (a QR relayed alone, without the page, cannot be answered). Derived, not stored:
/// HMAC-SHA-256 under the token secret, which every node shares, so any node checks it.
pub(crate) fn confirm_code(state: &AppState, tx: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state.config.token_secret.expose())
        .expect("HMAC takes a key of any length");
    mac.update(b"qrid-login-code\0");
    mac.update(tx.as_bytes());
    let d = mac.finalize().into_bytes();
    format!("{:02}", u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % 100)
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

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `GET /login/{tx}/status`: what the waiting page polls, with the browser cookie.
pub async fn status(
    State(state): S,
    Path(tx): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    tx_id_ok(&tx)?;
    let t = state
        .store
        .login_tx(&tx)
        .await?
        .ok_or_else(|| Problem::not_found("login transaction"))?;
    let browser = cookie(&headers, "qrid_login").unwrap_or("");
    if !constant_time_eq(
        sha256_hex(browser).as_bytes(),
        t.new.browser_sha256.as_bytes(),
    ) {
        return Err(Problem::forbidden(
            "this login was started in another browser",
        ));
    }
    let denied = |why: &str| {
        error_redirect(
            &state,
            &t.new.redirect_uri,
            "access_denied",
            why,
            t.new.state.as_deref(),
        )
    };
    let at = now();
    Ok(no_store(match t.status {
        LoginStatus::Pending if at > t.new.expires_at => {
            json!({"status": "expired", "redirect_to": denied("the login was not completed in time")})
        }
        LoginStatus::Pending => json!({"status": "pending", "expires_at": t.new.expires_at}),
        LoginStatus::Failed => {
            json!({"status": "failed", "redirect_to": denied("the wallet's answers were refused")})
        }
        LoginStatus::Complete => json!({"status": "complete"}),
        LoginStatus::Authenticated => {
            let code = random_b64(32);
            let issued = state
                .store
                .complete_login(
                    &tx,
                    &t.new.browser_sha256,
                    &sha256_hex(&code),
                    at + CODE_TTL,
                )
                .await?;
            if !issued {
                // Another poll of this browser won the race and took the code.
                json!({"status": "complete"})
            } else {
                let mut p = vec![
                    ("code", code.as_str()),
                    ("iss", state.config.public_url.as_str()),
                ];
                if let Some(s) = t.new.state.as_deref() {
                    p.push(("state", s));
                }
                json!({"status": "complete", "redirect_to": with_query(&t.new.redirect_uri, &p)})
            }
        }
    }))
}

/// `GET /login/wait.js`: the waiting page's script (served as a file so the page runs no
/// inline script).
pub async fn wait_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        page::WAIT_JS,
    )
        .into_response()
}

/// A wallet's login response as sent (docs/login.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginResponse {
    /// The transaction id (32 hex digits).
    pub tx: String,
    /// The credential payload (base45).
    pub credential: String,
    /// The holder key's signature, base64url.
    pub signature: String,
    /// The confirmation code the login page showed, as the citizen typed it into the wallet.
    pub code: String,
}

/// Parses a login response body (JSON, at most the JSON body limit, already enforced by the
/// router) and checks the transaction id's form. Pure: what outside input can reach before
/// the database is read, and what `fuzz/` drives.
pub fn parse_login_response(body: &[u8]) -> Result<LoginResponse, Problem> {
    let r: LoginResponse = serde_json::from_slice(body).map_err(json_error)?;
    tx_id_ok(&r.tx)?;
    Ok(r)
}

/// Decodes the holder signature of a login response: base64url (padding tolerated) of 64
/// bytes, or `holder_signature_invalid`.
pub fn decode_holder_signature(text: &str) -> Result<Signature, Problem> {
    B64URL
        .decode(text.trim_end_matches('='))
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "holder_signature_invalid",
                "the signature is not a base64url Ed25519 signature",
            )
        })
}

/// `POST /login/response`: the wallet's answer. Every refusal of the client's making (4xx) is
/// counted in `qrid_wallet_refusals_total`.
pub async fn response(
    State(state): S,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let outcome = answer(&state, &headers, body).await;
    if outcome.as_ref().is_err_and(|p| p.status.is_client_error()) {
        state.metrics.wallet_refusals.inc();
    }
    outcome
}

async fn answer(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the login response as application/json",
        ));
    }
    let body = body.map_err(bytes_rejection)?;
    let r = parse_login_response(&body)?;
    let t = state.store.login_tx(&r.tx).await?.ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "login_unknown",
            "no such login transaction",
        )
    })?;
    let at = now();
    match t.status {
        LoginStatus::Pending if at > t.new.expires_at => {
            return Err(Problem::new(
                StatusCode::GONE,
                "login_expired",
                "the login transaction has expired",
            ))
        }
        LoginStatus::Pending => {}
        LoginStatus::Failed => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "login_failed",
                "the login transaction failed after repeated refused answers",
            ))
        }
        LoginStatus::Authenticated | LoginStatus::Complete => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "login_used",
                "the login transaction has already been answered",
            ))
        }
    }
    match check_response(state, &t, &r, at).await {
        Ok((citizen_id, credential_id)) => {
            match state
                .store
                .authenticate_login(&t.new.id, &citizen_id, &credential_id, at)
                .await
            {
                Ok(()) => {}
                Err(qrid_store::StoreError::InvalidState(_)) => {
                    return Err(Problem::new(
                        StatusCode::CONFLICT,
                        "login_used",
                        "the login transaction has already been answered",
                    ))
                }
                Err(e) => return Err(e.into()),
            }
            state.metrics.wallet_logins.inc();
            tracing::info!(event = "login", credential_id = %credential_id, client_id = %t.new.client_id, "wallet login accepted");
            Ok(no_store(
                json!({"status": "accepted", "client_id": t.new.client_id}),
            ))
        }
        Err(p) => {
            if p.status.is_client_error() {
                let failed = state
                    .store
                    .fail_login(&t.new.id, MAX_LOGIN_FAILURES)
                    .await?;
                tracing::info!(
                    event = "login_refused",
                    kind = p.kind,
                    failed,
                    "wallet answer refused"
                );
            }
            Err(p)
        }
    }
}

async fn check_response(
    state: &Arc<AppState>,
    t: &LoginTx,
    r: &LoginResponse,
    at: i64,
) -> Result<(String, String), Problem> {
    // A portal disabled while its login waited gets no citizen's consent: its token request
    // would be refused anyway, and the wallet should say so now, not after the citizen agreed.
    if oidc_client(state, &t.new.client_id).await?.is_none() {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "client_disabled",
            "the service that asked for this login is no longer allowed to log citizens in",
        ));
    }
    // First, and counted like any refused answer: five wrong codes fail the transaction.
    if !constant_time_eq(
        r.code.trim().as_bytes(),
        confirm_code(state, &t.new.id).as_bytes(),
    ) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "login_code_mismatch",
            "the confirmation code is not the one the login page shows",
        ));
    }
    let verdict = state.verifier().verify(&r.credential, at).map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "credential_invalid",
            format!("the credential could not be checked: {}", e.kind()),
        )
    })?;
    let verdict = match verdict {
        Verdict::Valid(v) => with_live_status(state, v).await?,
        invalid => invalid,
    };
    let v = match verdict {
        Verdict::Valid(v) => v,
        Verdict::Invalid(reason) => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "credential_invalid",
                format!("the credential is not valid: {}", reason.kind()),
            ))
        }
    };
    let Some(HolderKey(holder)) = v.credential.holder else {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "holder_key_missing",
            "the credential is not bound to a holder key (no cnf); it cannot log in",
        ));
    };
    let sig = decode_holder_signature(&r.signature)?;
    let digest: [u8; 32] = hex::decode(&t.new.request_sha256)
        .ok()
        .and_then(|d| d.try_into().ok())
        .ok_or_else(|| Problem::internal(&"stored request digest is malformed"))?;
    holder
        .verify_strict(&LoginRequest::response_message_for_digest(&digest), &sig)
        .map_err(|_| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "holder_signature_invalid",
                "the holder signature does not verify with the key bound in the credential",
            )
        })?;
    let credential_id = v.credential.id.to_string();
    let record = state
        .store
        .get_credential(&credential_id)
        .await?
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "credential_invalid",
                "the credential is not one this service issued",
            )
        })?;
    Ok((record.citizen_id, credential_id))
}

// ----- token endpoint -----

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
    let at = now();
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
    v.leeway = leeway as u64;
    let data = jsonwebtoken::decode::<Value>(jwt, &key, &v)
        .map_err(|_| "the client assertion does not verify")?;
    let exp = data.claims["exp"].as_i64().unwrap_or(0);
    let at = now();
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

// ----- userinfo -----

fn bearer_error(description: &'static str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (
                header::WWW_AUTHENTICATE,
                format!("Bearer error=\"invalid_token\", error_description=\"{description}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Json(json!({"error": "invalid_token", "error_description": description})),
    )
        .into_response()
}

/// `GET` or `POST /userinfo`
pub async fn userinfo(State(state): S, headers: HeaderMap) -> Result<Response, Problem> {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| t.len() <= 128)
    else {
        return Ok(bearer_error("a Bearer access token is required"));
    };
    let Some(t) = state
        .store
        .token_login(&sha256_hex(token.trim()), now())
        .await?
    else {
        return Ok(bearer_error(
            "the access token is unknown, expired or revoked",
        ));
    };
    let citizen_id = t
        .citizen_id
        .as_deref()
        .ok_or_else(|| Problem::internal(&"token without citizen"))?;
    let record = state
        .store
        .get_citizen(citizen_id)
        .await?
        .ok_or_else(|| Problem::internal(&"token for an unknown citizen"))?;
    let (_, settings) = oidc_client(&state, &t.new.client_id)
        .await?
        .ok_or_else(|| Problem::unauthorized("the client is no longer registered"))?;
    let sector = settings.sector().unwrap_or_else(|| t.new.client_id.clone());
    let c = &record.citizen;
    let mut out = serde_json::Map::new();
    out.insert(
        "sub".into(),
        state.oidc.pairwise_sub(&sector, citizen_id).into(),
    );
    for scope in t.new.scope.split(' ') {
        match scope {
            "profile" => {
                out.insert("name".into(), c.full_name.as_str().into());
                out.insert("birthdate".into(), c.date_of_birth.to_string().into());
                if let Some(sex) = c.sex {
                    let g = match sex {
                        qrid_credential::Sex::Male => "male",
                        qrid_credential::Sex::Female => "female",
                        qrid_credential::Sex::Other => "other",
                    };
                    out.insert("gender".into(), g.into());
                }
            }
            "address" => {
                if let Some(a) = &c.place_of_residence {
                    out.insert("address".into(), json!({"formatted": a.as_str()}));
                }
            }
            "national_id" => {
                out.insert("national_id".into(), c.id_number.to_string().into());
                if let Some(n) = &c.nationality {
                    out.insert("nationality".into(), n.to_string().into());
                }
            }
            _ => {}
        }
    }
    Ok(no_store(Value::Object(out)))
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
    }
}

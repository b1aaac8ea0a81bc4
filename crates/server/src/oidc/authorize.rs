//! The authorization request (`GET /authorize`) with the QR login page it answers with, and
//! what that page polls: `/login/{tx}/status` and its script `/login/wait.js`.

use super::{
    client, no_store, oidc_client, page, params, random_b64, sha256_hex, tx_id_ok, CODE_TTL,
    LOGIN_TTL, S,
};
use crate::openapi as doc;
use crate::problem::Problem;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use qrid_credential::LoginRequest;
use qrid_service::passwords::constant_time_eq;
use qrid_store::{LoginOpened, LoginStatus, NewLoginTx};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Longest query string `/authorize` reads, and longest `state` / `nonce`.
const MAX_QUERY: usize = 4096;
const MAX_PARAM: usize = 512;

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

/// `GET /authorize`
#[utoipa::path(get, path = "/authorize", tag = "login",
    summary = "Start a login: the QR login page",
    description = "The portal sends the citizen's browser here (authorization code flow with PKCE). Errors the portal can be told of are redirected to its `redirect_uri`; those it cannot are shown.",
    params(doc::AuthorizeQuery),
    responses((status = 200, description = "The login page, with `Set-Cookie: qrid_login=…` binding the login to this browser (`Cache-Control: no-store`)",
            body = String, content_type = "text/html; charset=utf-8"),
        (status = 303, description = "Back to the `redirect_uri` with `error` (`invalid_request`, `invalid_scope`, `unsupported_response_type`, `request_not_supported`, `login_required`, `temporarily_unavailable`), `error_description`, `iss` and `state`",
            headers(("Location" = String))),
        (status = 400, description = "An HTML page: unknown or disabled client, a `redirect_uri` not registered, a repeated parameter or an over-long query",
            body = String, content_type = "text/html; charset=utf-8"),
        (status = 429, description = "`rate_limited`: too many calls from this address; `Retry-After`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::ServerErrors))]
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

    let at = state.now();
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
#[utoipa::path(get, path = "/login/{tx}/status", tag = "login", security(("login_cookie" = [])),
    summary = "What the login page polls: pending, or where to send the browser",
    params(("tx" = String, Path, description = "The login transaction: 32 hexadecimal digits")),
    responses((status = 200, description = "The login's state (`Cache-Control: no-store`)", body = doc::LoginState),
        (status = 403, description = "`forbidden`: no cookie, or another browser's", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 404, description = "`not_found`: no such transaction", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::ServerErrors))]
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
    let at = state.now();
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
#[utoipa::path(get, path = "/login/wait.js", tag = "login",
    summary = "The login page's polling script",
    responses((status = 200, description = "The script (`Cache-Control: public, max-age=300`)",
        body = String, content_type = "text/javascript; charset=utf-8")))]
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

//! The authorization request (`GET /authorize`) with the QR login page it answers with, and
//! what that page polls: `/login/{tx}/status` and its script `/login/wait.js`. The rules are
//! the service's ([`Service::oidc_authorize`], [`Service::oidc_login_status`]); here the
//! query and cookie are read and the outcome rendered.
//!
//! [`Service::oidc_authorize`]: qrid_service::Service::oidc_authorize
//! [`Service::oidc_login_status`]: qrid_service::Service::oidc_login_status

use super::{no_store, page, S};
use crate::openapi as doc;
use crate::problem::Problem;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use qrid_service::oidc::{Authorization, LoginPage, LoginState, OAuthErrorCode};
use serde_json::json;

/// The cookie that binds a login to the browser that started it.
const LOGIN_COOKIE: &str = "qrid_login";

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
    match state.oidc_authorize(query.as_deref().unwrap_or("")).await {
        Ok(Authorization::Login(login)) => {
            login_page(login, state.config.public_url.starts_with("https://"))
        }
        Ok(Authorization::Redirect { location, error }) => {
            if error == OAuthErrorCode::TemporarilyUnavailable {
                state.metrics.pending_logins_refused.inc();
            }
            Redirect::to(&location).into_response()
        }
        Ok(Authorization::Shown(message)) => page::error(StatusCode::BAD_REQUEST, &message),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// The QR page of an opened login, with the cookie that holds the browser's secret: sent only
/// to the transaction's own paths, never to a script, `Secure` when the service is on HTTPS.
fn login_page(login: LoginPage, secure: bool) -> Response {
    let LoginPage {
        request,
        tx,
        code,
        client_name,
        scopes,
        ttl,
        browser_secret,
    } = login;
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{LOGIN_COOKIE}={browser_secret}; Path=/login/{tx}/; Max-Age={ttl}; HttpOnly; SameSite=Lax{secure}"
    );
    let mut resp = page::login(&request, &tx, &code, &client_name, &scopes, ttl).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// The value of cookie `name` in the request's `Cookie` headers (the first, if sent twice).
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
    let browser = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    Ok(no_store(
        match state.oidc_login_status(&tx, browser).await? {
            LoginState::Pending { expires_at } => {
                json!({"status": "pending", "expires_at": expires_at})
            }
            LoginState::Expired { redirect_to } => {
                json!({"status": "expired", "redirect_to": redirect_to})
            }
            LoginState::Failed { redirect_to } => {
                json!({"status": "failed", "redirect_to": redirect_to})
            }
            LoginState::Complete { redirect_to: None } => json!({"status": "complete"}),
            LoginState::Complete {
                redirect_to: Some(to),
            } => json!({"status": "complete", "redirect_to": to}),
        },
    ))
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

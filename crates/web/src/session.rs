//! Browser sessions of the web apps: the cookie, the signed-in officer as an extractor, the
//! anti-forgery checks, and the page a service refusal becomes.
//!
//! The session cookie is HttpOnly, `SameSite=Strict`, limited to the app's path, and `Secure`
//! when the service's public URL is https. Every state-changing request carries the session's
//! anti-forgery token (a form field, or the `X-CSRF-Token` header of the pages' scripts),
//! compared in constant time; the sign-in form, before any session exists, carries a
//! double-submit token instead.

use crate::i18n::{Lang, Texts, LANG_COOKIE};
use crate::page::{message, see_other, Chrome, Nav};
use crate::Host;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use qrid_service::office::{SessionEnd, OFFICE_ABSOLUTE};
use qrid_service::{Officer, ServiceError};
use qrid_store::Role;
use std::sync::Arc;

/// The office's session cookie.
pub const SESSION_COOKIE: &str = "qrid_office";
/// The sign-in form's double-submit cookie.
pub const PRE_COOKIE: &str = "qrid_pre";
/// The header the pages' scripts send the anti-forgery token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A cookie's value from the request's `Cookie` headers; `None` if absent or not plain ASCII.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The page language: the cookie's choice, else Vietnamese.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE).map_or(Lang::Vi, Lang::from_tag)
}

/// A `Set-Cookie` value for the app's path. `secure` adds `Secure`.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let s = format!(
        "{name}={value}; Path=/office; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static("qrid=; Max-Age=0"))
}

/// Whether cookies must be `Secure`: the service is reached over https.
pub fn https<H: Host>(host: &H) -> bool {
    host.service().config.public_url.starts_with("https://")
}

/// Constant-time equality of a submitted anti-forgery token with the expected one; an empty
/// expectation never matches.
pub fn tokens_match(expected: &str, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    !expected.is_empty()
        && expected.len() == given.len()
        && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// The path and query of a request, for coming back after sign-in or a language switch.
pub fn here(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map_or_else(|| "/office/".to_owned(), |p| p.as_str().to_owned())
}

/// A local path to go back to: only paths of the web apps (office, wallet, citizen page,
/// signing desk), never another origin.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if ["/office/", "/wallet/", "/me/", "/sign/"]
                .iter()
                .any(|p| n.starts_with(p))
                && !n.contains("//")
                && !n.contains('\\') =>
        {
            n.to_owned()
        }
        _ => "/office/".to_owned(),
    }
}

/// The label of a role in the page's language.
pub fn role_label(c: &Chrome, role: Role) -> &'static str {
    match role {
        Role::Admin => c.t.role_admin,
        Role::Issuer => c.t.role_issuer,
        Role::Auditor => c.t.role_auditor,
        Role::Clerk => c.t.role_clerk,
    }
}

/// A signed-in officer of the office, with the frame of their pages. As an extractor it
/// answers a request without a live session with the sign-in page (a 303 to it, saying why).
pub struct Staff {
    /// Who.
    pub officer: Officer,
    /// The session's anti-forgery token.
    pub csrf: String,
    /// The frame of their pages.
    pub chrome: Chrome,
}

impl Staff {
    /// Whether a submitted anti-forgery token is this session's.
    pub fn csrf_ok(&self, given: &str) -> bool {
        tokens_match(&self.csrf, given)
    }

    /// The page that refuses a form without this session's token (403).
    pub fn csrf_refused(&self) -> Response {
        let t = self.chrome.t;
        message(
            self.chrome.clone(),
            StatusCode::FORBIDDEN,
            t.csrf_title,
            t.csrf_text.to_owned(),
        )
    }

    /// The page a service refusal becomes for this officer.
    pub fn error(&self, e: ServiceError) -> Response {
        error_page(self.chrome.clone(), e)
    }
}

impl<H: Host> FromRequestParts<Arc<H>> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, host: &Arc<H>) -> Result<Staff, Response> {
        let lang = lang_of(&parts.headers);
        let here = here(parts);
        let token = cookie(&parts.headers, SESSION_COOKIE).unwrap_or_default();
        match host.service().office_session(token).await {
            Ok(s) => {
                let mut chrome = Chrome::anonymous(lang, &here);
                let role = s.officer.role;
                chrome.user = Some((s.officer.username.clone(), role_label(&chrome, role)));
                chrome.nav = Nav {
                    search: matches!(role, Role::Admin | Role::Issuer | Role::Auditor),
                    enrol: matches!(role, Role::Admin | Role::Issuer),
                    counter: matches!(role, Role::Admin | Role::Issuer | Role::Clerk),
                    admin: role == Role::Admin,
                };
                chrome.csrf = s.csrf.clone();
                Ok(Staff {
                    officer: s.officer,
                    csrf: s.csrf,
                    chrome,
                })
            }
            Err(ServiceError::Session(end)) => {
                let to = to_sign_in("/office/sign-in", &here, end);
                let mut r = see_other(&to);
                if !token.is_empty() {
                    // The cookie names a session that is over: drop it.
                    r.headers_mut().append(
                        header::SET_COOKIE,
                        set_cookie(SESSION_COOKIE, "", 0, https(host.as_ref())),
                    );
                }
                Err(r)
            }
            Err(e) => Err(error_page(Chrome::anonymous(lang, &here), e)),
        }
    }
}

/// Where a request without a live session is sent: the app's sign-in page `sign_in`, with the
/// page to come back to (`next`) and why the session ended (`why`, none if there was none).
pub fn to_sign_in(sign_in: &str, here: &str, end: SessionEnd) -> String {
    let why = match end {
        SessionEnd::Missing => "",
        SessionEnd::Expired => "expired",
        SessionEnd::Idle => "idle",
        SessionEnd::AccountChanged => "changed",
    };
    let mut to = format!(
        "{sign_in}?next={}",
        crate::page::encode_component(&safe_next(Some(here)))
    );
    if !why.is_empty() {
        to.push_str("&why=");
        to.push_str(why);
    }
    to
}

/// The notice a sign-in page shows for its query: signed out (`out`), or why the session
/// ended (`why`, as [`to_sign_in`] writes it).
pub fn sign_in_notice(t: &Texts, why: Option<&str>, out: bool) -> Option<&'static str> {
    match (why, out) {
        (_, true) => Some(t.signed_out),
        (Some("expired"), _) => Some(t.session_expired),
        (Some("idle"), _) => Some(t.session_idle),
        (Some("changed"), _) => Some(t.session_changed),
        _ => None,
    }
}

/// The double-submit token of a sign-in form: the browser's own (cookie `name`) if it has one,
/// so that two tabs both work, else a new one (43 characters, base64url of 32 random bytes).
pub fn pre_token(headers: &HeaderMap, name: &str) -> String {
    cookie(headers, name)
        .filter(|v| v.len() == 43)
        .map_or_else(random_token, str::to_owned)
}

/// A random token of 32 bytes, base64url (43 characters).
pub fn random_token() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The page for a service refusal: 403 for a role that does not allow it, 404 for what does
/// not exist, 422 with the service's sentence for input it refused, 429 and 503 with theirs,
/// and a plain 500 (the cause logged, not shown) for the rest.
pub fn error_page(c: Chrome, e: ServiceError) -> Response {
    let (status, title, text) = refusal(c.t, &e, "office");
    message(c, status, title, text)
}

/// What a page says for a service refusal, as [`error_page`] answers it: its status, heading
/// and sentence. `app` names the app in the log line of an internal error (whose cause is
/// logged, never shown). The apps with refusals of their own (the signing desk) answer those
/// first and leave the rest to this.
pub fn refusal(t: &Texts, e: &ServiceError, app: &str) -> (StatusCode, &'static str, String) {
    match e {
        ServiceError::Forbidden(_) => (
            StatusCode::FORBIDDEN,
            t.forbidden_title,
            t.forbidden_text.to_owned(),
        ),
        ServiceError::NotFound(_) | ServiceError::Store(qrid_store::StoreError::NotFound(_)) => (
            StatusCode::NOT_FOUND,
            t.not_found_title,
            t.not_found_text.to_owned(),
        ),
        ServiceError::TooManyAttempts { .. } => {
            (StatusCode::TOO_MANY_REQUESTS, t.error_title, e.to_string())
        }
        ServiceError::Store(qrid_store::StoreError::Unavailable(_)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            t.error_title,
            e.to_string(),
        ),
        _ if e.kind() == "internal" => {
            tracing::error!(error = %e, app, "a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                t.error_title,
                "internal error".to_owned(),
            )
        }
        _ => (
            StatusCode::UNPROCESSABLE_ENTITY,
            t.error_title,
            e.to_string(),
        ),
    }
}

/// Sessions last at most this long in the browser too.
pub const COOKIE_MAX_AGE: i64 = OFFICE_ABSOLUTE;

//! The officials' signing desk (`/sign/`): an official signs in with password and a TOTP
//! code, uploads PDFs, sees each one's first page and where the stamp goes, approves the batch
//! with one code, downloads each signed PDF, and reads the history of what they signed. The
//! rules are the service's ([`qrid_service::desk`]); docs/sign.md walks through it.
//!
//! The desk has its own session cookie (`qrid_sign`, Path=/sign) and sign-in double-submit
//! cookie, so an office session and a desk session never stand in for each other.

mod desk;

use crate::i18n::Texts;
use crate::page::{render, see_other, Chrome};
use crate::session::{
    cookie, here, https, lang_of, pre_token, safe_next, sign_in_notice, to_sign_in, tokens_match,
};
use crate::Host;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use qrid_service::desk::{DeskSession, DESK_ABSOLUTE};
use qrid_service::ServiceError;
use serde::Deserialize;
use std::sync::Arc;

/// The desk's session cookie (Path=/sign).
pub const DESK_COOKIE: &str = "qrid_sign";
/// The desk sign-in form's double-submit cookie (Path=/sign).
const DESK_PRE_COOKIE: &str = "qrid_sign_pre";
/// Forms of the desk but uploads: a few fields.
const FORM_LIMIT: usize = 16 * 1024;

/// The desk's routes.
pub fn routes<H: Host>() -> Router<Arc<H>> {
    Router::new()
        .route("/sign", get(|| async { see_other("/sign/") }))
        .route("/sign/sign-in", get(sign_in_page::<H>).post(sign_in::<H>))
        .route("/sign/sign-out", post(sign_out::<H>))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .merge(desk::routes::<H>())
}

/// A `Set-Cookie` value for the desk's path.
fn desk_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let s = format!(
        "{name}={value}; Path=/sign; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static("qrid=; Max-Age=0"))
}

/// The frame of the desk's pages: the official (if signed in), the anti-forgery token.
#[derive(Debug, Clone)]
pub struct SignChrome {
    /// The shared frame (language, texts, assets, the language switch).
    pub c: Chrome,
    /// The signed-in official's name and title.
    pub who: Option<(String, String)>,
}

impl SignChrome {
    fn anonymous(headers: &HeaderMap, here: &str) -> SignChrome {
        SignChrome {
            c: Chrome::anonymous(lang_of(headers), here),
            who: None,
        }
    }

    /// The texts.
    pub fn t(&self) -> &'static Texts {
        self.c.t
    }
}

/// A page that says what went wrong, in the desk's frame.
#[derive(Template)]
#[template(path = "sign_message.html")]
struct SignMessage {
    s: SignChrome,
    title: &'static str,
    text: String,
}

fn message(s: SignChrome, status: StatusCode, title: &'static str, text: String) -> Response {
    render(status, &SignMessage { s, title, text })
}

/// The page for a service refusal at the desk: as the office's ([`crate::session::error_page`])
/// but in the desk's frame.
fn error_page(s: SignChrome, e: ServiceError) -> Response {
    let t = s.t();
    let (status, title, text) = match &e {
        ServiceError::OfficialDisabled => (
            StatusCode::FORBIDDEN,
            t.forbidden_title,
            t.forbidden_text.to_owned(),
        ),
        ServiceError::DeskFull => (
            StatusCode::UNPROCESSABLE_ENTITY,
            t.error_title,
            t.sign_desk_full.to_owned(),
        ),
        ServiceError::Signing(r) => (
            match r.kind() {
                "totp_invalid" | "totp_reused" | "totp_malformed" => StatusCode::UNAUTHORIZED,
                "signer_credential_revoked"
                | "signer_credential_suspended"
                | "signer_credential_expired"
                | "no_signer_credential" => StatusCode::FORBIDDEN,
                "pdf_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
            t.error_title,
            format!("{e} ({})", r.kind()),
        ),
        _ => crate::session::refusal(t, &e, "sign"),
    };
    message(s, status, title, text)
}

/// A signed-in official at the desk, with the frame of their pages. As an extractor it
/// answers a request without a live desk session with the sign-in page (a 303, saying why).
pub struct Official {
    /// The session: who, the anti-forgery token, the claims the service's signing takes.
    pub session: DeskSession,
    /// The frame.
    pub s: SignChrome,
}

impl Official {
    fn csrf_ok(&self, given: &str) -> bool {
        tokens_match(&self.session.csrf, given)
    }

    fn csrf_refused(&self) -> Response {
        let t = self.s.t();
        message(
            self.s.clone(),
            StatusCode::FORBIDDEN,
            t.csrf_title,
            t.csrf_text.to_owned(),
        )
    }

    fn error(&self, e: ServiceError) -> Response {
        error_page(self.s.clone(), e)
    }
}

impl<H: Host> FromRequestParts<Arc<H>> for Official {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, host: &Arc<H>) -> Result<Official, Response> {
        let here = here(parts);
        let token = cookie(&parts.headers, DESK_COOKIE).unwrap_or_default();
        match host.service().desk_session(token).await {
            Ok(session) => {
                let mut s = SignChrome::anonymous(&parts.headers, &here);
                s.c.csrf = session.csrf.clone();
                s.who = Some((
                    session.official.full_name.clone(),
                    session.official.title.clone(),
                ));
                Ok(Official { session, s })
            }
            Err(ServiceError::Session(end)) => {
                let to = to_sign_in("/sign/sign-in", &here, end);
                let mut r = see_other(&to);
                if !token.is_empty() {
                    r.headers_mut().append(
                        header::SET_COOKIE,
                        desk_cookie(DESK_COOKIE, "", 0, https(host.as_ref())),
                    );
                }
                Err(r)
            }
            Err(e) => Err(error_page(SignChrome::anonymous(&parts.headers, &here), e)),
        }
    }
}

// ----- sign-in -----

#[derive(Template)]
#[template(path = "sign_sign_in.html")]
struct SignIn {
    s: SignChrome,
    pre: String,
    next: String,
    username: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct SignInQuery {
    next: Option<String>,
    why: Option<String>,
    out: Option<String>,
}

/// Where a desk sign-in goes afterwards: a desk page, else the desk.
fn desk_next(next: Option<&str>) -> String {
    let n = safe_next(next);
    if n.starts_with("/sign/") {
        n
    } else {
        "/sign/".to_owned()
    }
}

fn sign_in_form<H: Host>(
    host: &H,
    headers: &HeaderMap,
    status: StatusCode,
    mut page: SignIn,
) -> Response {
    let pre = pre_token(headers, DESK_PRE_COOKIE);
    page.pre = pre.clone();
    let mut r = render(status, &page);
    r.headers_mut().append(
        header::SET_COOKIE,
        desk_cookie(DESK_PRE_COOKIE, &pre, 3600, https(host)),
    );
    r
}

async fn sign_in_page<H: Host>(
    State(host): State<Arc<H>>,
    headers: HeaderMap,
    Query(q): Query<SignInQuery>,
) -> Response {
    let s = SignChrome::anonymous(&headers, "/sign/sign-in");
    let t = s.t();
    let notice = sign_in_notice(t, q.why.as_deref(), q.out.is_some());
    let page = SignIn {
        s,
        pre: String::new(),
        next: desk_next(q.next.as_deref()),
        username: String::new(),
        notice,
        error: None,
    };
    sign_in_form(host.as_ref(), &headers, StatusCode::OK, page)
}

#[derive(Deserialize)]
struct SignInForm {
    username: String,
    password: String,
    code: String,
    pre: String,
    next: Option<String>,
}

async fn sign_in<H: Host>(
    State(host): State<Arc<H>>,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let s = SignChrome::anonymous(&headers, "/sign/sign-in");
    let t = s.t();
    let Ok(Form(f)) = form else {
        return message(
            s,
            StatusCode::BAD_REQUEST,
            t.csrf_title,
            t.csrf_text.to_owned(),
        );
    };
    let next = desk_next(f.next.as_deref());
    if !tokens_match(
        cookie(&headers, DESK_PRE_COOKIE).unwrap_or_default(),
        &f.pre,
    ) {
        return message(
            s,
            StatusCode::FORBIDDEN,
            t.csrf_title,
            t.csrf_text.to_owned(),
        );
    }
    match host
        .service()
        .desk_sign_in(f.username.trim(), &f.password, &f.code)
        .await
    {
        Ok(opened) => {
            let mut r = see_other(&next);
            let h = r.headers_mut();
            let secure = https(host.as_ref());
            h.append(
                header::SET_COOKIE,
                desk_cookie(DESK_COOKIE, &opened.token, DESK_ABSOLUTE, secure),
            );
            h.append(
                header::SET_COOKIE,
                desk_cookie(DESK_PRE_COOKIE, "", 0, secure),
            );
            r
        }
        Err(e) => {
            let (status, error) = match &e {
                ServiceError::Unauthorized(_) => {
                    (StatusCode::UNAUTHORIZED, t.sign_refused.to_owned())
                }
                ServiceError::TooManyAttempts { .. } => {
                    (StatusCode::TOO_MANY_REQUESTS, t.locked_out.to_owned())
                }
                _ => return error_page(s, e),
            };
            let page = SignIn {
                s,
                pre: String::new(),
                next,
                username: f.username.chars().take(64).collect(),
                notice: None,
                error: Some(error),
            };
            sign_in_form(host.as_ref(), &headers, status, page)
        }
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn sign_out<H: Host>(
    State(host): State<Arc<H>>,
    headers: HeaderMap,
    official: Official,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if !official.csrf_ok(&f.csrf) {
        return official.csrf_refused();
    }
    let token = cookie(&headers, DESK_COOKIE).unwrap_or_default();
    if let Err(e) = host.service().desk_sign_out(token).await {
        return official.error(e);
    }
    tracing::info!(official = %official.session.official.id, "desk sign-out");
    let mut r = see_other("/sign/sign-in?out=1");
    r.headers_mut().append(
        header::SET_COOKIE,
        desk_cookie(DESK_COOKIE, "", 0, https(host.as_ref())),
    );
    r
}

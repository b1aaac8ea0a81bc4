//! The office (`/office/`): staff sign in, find and enrol citizens, issue, replace, print and
//! change credentials, check QR codes at the counter, and administer accounts. docs/office.md
//! walks through it.

mod admin;
mod citizens;
mod counter;
mod offer;

use crate::i18n::{Lang, LANG_COOKIE};
use crate::page::{message, render, see_other, Chrome};
use crate::session::{
    cookie, https, lang_of, pre_token, safe_next, set_cookie, sign_in_notice, tokens_match, Staff,
    COOKIE_MAX_AGE, PRE_COOKIE, SESSION_COOKIE,
};
use crate::Host;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use qrid_service::ServiceError;
use serde::Deserialize;
use std::sync::Arc;

/// The largest form the office takes but enrolment: a few fields.
const FORM_LIMIT: usize = 64 * 1024;
/// Enrolment and photo uploads: the photo ([`qrid_service::photo::MAX_PHOTO_BYTES`]) and the
/// fields.
const UPLOAD_LIMIT: usize = qrid_service::photo::MAX_PHOTO_BYTES + 64 * 1024;

/// The office's routes.
pub fn routes<H: Host>() -> Router<Arc<H>> {
    Router::new()
        .route("/office", get(|| async { see_other("/office/") }))
        .route("/office/", get(home))
        .route("/office/sign-in", get(sign_in_page::<H>).post(sign_in::<H>))
        .route("/office/sign-out", post(sign_out::<H>))
        .route("/office/lang/{tag}", get(switch_lang))
        .merge(citizens::routes::<H>())
        .merge(counter::routes::<H>())
        .merge(offer::routes::<H>())
        .merge(admin::routes::<H>())
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
}

// ----- home -----

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    c: Chrome,
}

async fn home(staff: Staff) -> Response {
    render(StatusCode::OK, &Home { c: staff.chrome })
}

// ----- sign-in -----

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignIn {
    c: Chrome,
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

/// The sign-in page with a double-submit token: the browser's own if it has one (so two tabs
/// both work), else a new one set in its cookie.
fn sign_in_form<H: Host>(
    host: &H,
    headers: &HeaderMap,
    status: StatusCode,
    mut page: SignIn,
) -> Response {
    let pre = pre_token(headers, PRE_COOKIE);
    page.pre = pre.clone();
    let mut r = render(status, &page);
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(PRE_COOKIE, &pre, 3600, https(host)),
    );
    r
}

async fn sign_in_page<H: Host>(
    State(host): State<Arc<H>>,
    headers: HeaderMap,
    Query(q): Query<SignInQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let c = Chrome::anonymous(lang, "/office/sign-in");
    let t = c.t;
    let notice = sign_in_notice(t, q.why.as_deref(), q.out.is_some());
    let next = safe_next(q.next.as_deref());
    let page = SignIn {
        c,
        pre: String::new(),
        next,
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
    pre: String,
    next: Option<String>,
}

async fn sign_in<H: Host>(
    State(host): State<Arc<H>>,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = lang_of(&headers);
    let c = Chrome::anonymous(lang, "/office/sign-in");
    let t = c.t;
    let Ok(Form(f)) = form else {
        return message(
            c,
            StatusCode::BAD_REQUEST,
            t.csrf_title,
            t.csrf_text.to_owned(),
        );
    };
    let next = safe_next(f.next.as_deref());
    if !tokens_match(cookie(&headers, PRE_COOKIE).unwrap_or_default(), &f.pre) {
        return message(
            c,
            StatusCode::FORBIDDEN,
            t.csrf_title,
            t.csrf_text.to_owned(),
        );
    }
    match host
        .service()
        .office_sign_in(f.username.trim(), &f.password)
        .await
    {
        Ok(opened) => {
            tracing::info!(officer = %opened.officer.username, "office sign-in");
            let mut r = see_other(&next);
            let h = r.headers_mut();
            let secure = https(host.as_ref());
            h.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &opened.token, COOKIE_MAX_AGE, secure),
            );
            h.append(header::SET_COOKIE, set_cookie(PRE_COOKIE, "", 0, secure));
            r
        }
        Err(e) => {
            let (status, error) = match &e {
                ServiceError::Unauthorized(_) => {
                    (StatusCode::UNAUTHORIZED, t.wrong_password.to_owned())
                }
                ServiceError::TooManyAttempts { .. } => {
                    (StatusCode::TOO_MANY_REQUESTS, t.locked_out.to_owned())
                }
                _ => return crate::session::error_page(c, e),
            };
            let username = f.username.chars().take(64).collect();
            let page = SignIn {
                c,
                pre: String::new(),
                next,
                username,
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
    staff: Staff,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return staff.csrf_refused();
    }
    let token = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    if let Err(e) = host.service().office_sign_out(token).await {
        return staff.error(e);
    }
    tracing::info!(officer = %staff.officer.username, "office sign-out");
    let mut r = see_other("/office/sign-in?out=1");
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, https(host.as_ref())),
    );
    r
}

// ----- language -----

#[derive(Deserialize)]
struct LangQuery {
    next: Option<String>,
}

async fn switch_lang(Path(tag): Path<String>, Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::from_tag(&tag);
    let mut r = see_other(&safe_next(q.next.as_deref()));
    let v = format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
        lang.tag()
    );
    if let Ok(v) = HeaderValue::from_str(&v) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// A plain refusal for a request a page's script made (JSON answers: the script shows the
/// sentence).
fn json_refusal(status: StatusCode, kind: &str, detail: String) -> Response {
    crate::page::secure(
        (
            status,
            axum::Json(serde_json::json!({"kind": kind, "detail": detail})),
        )
            .into_response(),
    )
}

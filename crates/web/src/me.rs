//! The citizen's own page (`/me/`): signed in with their wallet through the service's own
//! OpenID login, they see their credentials (status, expiry, the QR, a print layout), their
//! access record (every check: which counter or portal, when, with what outcome; every login
//! and the claims it shared; every face fetch), the portals they shared claims with, and can
//! report a card lost. The rules are the service's ([`qrid_service::me`]).

use crate::i18n::Texts;
use crate::page::{render, see_other, Chrome};
use crate::session::{cookie, https, lang_of, tokens_match};
use crate::Host;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use qrid_service::me::{MeSession, ME_ABSOLUTE};
use qrid_service::{CredentialId, ServiceError};
use qrid_store::CredentialStatus;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The citizen's session cookie (Path=/me).
pub const ME_COOKIE: &str = "qrid_me";
/// The sign-in's state and PKCE verifier, between `/me/sign-in` and `/me/callback`.
const ME_PRE_COOKIE: &str = "qrid_me_pre";
/// How long a sign-in may take (the login page waits 5 minutes for the wallet).
const PRE_MAX_AGE: i64 = 600;

/// The page's routes.
pub fn routes<H: Host>() -> Router<Arc<H>> {
    Router::new()
        .route("/me", get(|| async { see_other("/me/") }))
        .route("/me/", get(home::<H>))
        .route("/me/sign-in", get(sign_in::<H>))
        .route("/me/callback", get(callback::<H>))
        .route("/me/sign-out", post(sign_out::<H>))
        .route("/me/credentials/{id}/lost", post(lost::<H>))
        .layer(DefaultBodyLimit::max(16 * 1024))
}

fn me_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let s = format!(
        "{name}={value}; Path=/me; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static("qrid=; Max-Age=0"))
}

fn chrome(headers: &HeaderMap) -> Chrome {
    Chrome::anonymous(lang_of(headers), "/me/")
}

async fn session<H: Host>(host: &H, headers: &HeaderMap) -> Option<MeSession> {
    let token = cookie(headers, ME_COOKIE)?;
    host.service().me_session(token).await.ok()
}

/// An access-record entry as the page shows it.
struct EntryView {
    at: String,
    who: String,
    what: String,
    ok: bool,
}

struct CredentialView {
    id: String,
    issued: String,
    expires: String,
    status: &'static str,
    valid: bool,
    qr_svg: String,
}

struct PortalView {
    name: String,
    last: String,
    shared: String,
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    c: Chrome,
    signed_in: bool,
    why: Option<&'static str>,
    done: Option<&'static str>,
    name: String,
    id_number: String,
    credentials: Vec<CredentialView>,
    record: Vec<EntryView>,
    portals: Vec<PortalView>,
}

fn time(at: i64) -> String {
    qrid_credential::format_utc(at)
        .map(|t| t.replace('T', " ").replace('Z', " UTC"))
        .unwrap_or_default()
}

fn scopes_in_words(t: &Texts, scopes: &str) -> String {
    scopes
        .split_whitespace()
        .map(|s| match s {
            "openid" => t.scope_openid,
            "profile" => t.scope_profile,
            "address" => t.scope_address,
            "national_id" => t.scope_national_id,
            other => other,
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn outcome_in_words(t: &Texts, outcome: &str) -> (String, bool) {
    let (w, ok) = match outcome {
        "valid" => (t.me_outcome_valid, true),
        "login" => (t.me_outcome_login, true),
        "face_shown" => (t.me_outcome_face, true),
        "signature_valid" => (t.me_outcome_signature, true),
        o if o.starts_with("signature_") => (t.me_outcome_signature_refused, false),
        "revoked" | "suspended" | "expired" => (t.me_outcome_refused_status, false),
        o if o.starts_with("presentation_") => (t.me_outcome_refused_live, false),
        _ => (t.me_outcome_refused, false),
    };
    (format!("{w} ({outcome})"), ok)
}

#[derive(Deserialize)]
struct HomeQuery {
    done: Option<String>,
    why: Option<String>,
}

async fn home<H: Host>(
    State(host): State<Arc<H>>,
    headers: HeaderMap,
    Query(q): Query<HomeQuery>,
) -> Response {
    let c = chrome(&headers);
    let t = c.t;
    let Some(me) = session(host.as_ref(), &headers).await else {
        let why = match q.why.as_deref() {
            Some("failed") => Some(t.me_sign_in_failed),
            Some("out") => Some(t.signed_out),
            _ => None,
        };
        return render(
            StatusCode::OK,
            &MePage {
                c,
                signed_in: false,
                why,
                done: None,
                name: String::new(),
                id_number: String::new(),
                credentials: Vec::new(),
                record: Vec::new(),
                portals: Vec::new(),
            },
        );
    };
    let file = match host.service().me_file(&me).await {
        Ok(f) => f,
        Err(e) => return crate::session::error_page(c, e),
    };
    let credentials = file
        .credentials
        .iter()
        .map(|k| {
            let valid = k.status == CredentialStatus::Valid;
            CredentialView {
                id: k.id.clone(),
                issued: time(k.issued_at),
                expires: time(k.expires_at),
                status: match k.status {
                    CredentialStatus::Valid => t.status_valid,
                    CredentialStatus::Suspended => t.status_suspended,
                    CredentialStatus::Revoked => t.status_revoked,
                },
                valid,
                qr_svg: if valid {
                    qrid_qr::Symbol::encode(&k.payload, qrid_qr::Ecc::M)
                        .map(|s| s.to_svg(4))
                        .unwrap_or_default()
                } else {
                    String::new()
                },
            }
        })
        .collect();
    let mut portals: BTreeMap<String, (i64, String)> = BTreeMap::new();
    let record = file
        .record
        .iter()
        .map(|e| {
            let who = match (&e.client_name, e.client_id.strip_prefix("office:")) {
                (_, Some(clerk)) => format!("{} ({clerk})", t.me_office_counter),
                (Some(name), None) => name.clone(),
                (None, None) => e.client_id.clone(),
            };
            let (mut what, ok) = outcome_in_words(t, &e.outcome);
            if e.outcome == "login" {
                let shared = scopes_in_words(t, e.detail.as_deref().unwrap_or("openid"));
                what = format!("{what}: {shared}");
                let entry = portals.entry(who.clone()).or_insert((e.at, shared));
                entry.0 = entry.0.max(e.at);
            }
            EntryView {
                at: time(e.at),
                who,
                what,
                ok,
            }
        })
        .collect();
    let portals = portals
        .into_iter()
        .map(|(name, (last, shared))| PortalView {
            name,
            last: time(last),
            shared,
        })
        .collect();
    let done = match q.done.as_deref() {
        Some("lost") => Some(t.me_lost_done),
        _ => None,
    };
    let citizen = &file.citizen.citizen;
    render(
        StatusCode::OK,
        &MePage {
            signed_in: true,
            why: None,
            done,
            name: citizen.full_name.as_str().to_owned(),
            id_number: citizen.id_number.as_str().to_owned(),
            credentials,
            record,
            portals,
            c: Chrome { csrf: me.csrf, ..c },
        },
    )
}

async fn sign_in<H: Host>(State(host): State<Arc<H>>, headers: HeaderMap) -> Response {
    match host.service().me_begin().await {
        Ok(b) => {
            let mut r = see_other(&b.authorize_url);
            let value = format!("{}.{}", b.state, b.verifier);
            r.headers_mut().append(
                header::SET_COOKIE,
                me_cookie(ME_PRE_COOKIE, &value, PRE_MAX_AGE, https(host.as_ref())),
            );
            r
        }
        Err(e) => crate::session::error_page(chrome(&headers), e),
    }
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
}

async fn callback<H: Host>(
    State(host): State<Arc<H>>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let secure = https(host.as_ref());
    let pre = cookie(&headers, ME_PRE_COOKIE).and_then(|v| v.split_once('.'));
    let opened = match (pre, q.code.as_deref(), q.state.as_deref()) {
        (Some((state, verifier)), Some(code), Some(given)) if tokens_match(state, given) => {
            host.service().me_sign_in(code, verifier).await.ok()
        }
        _ => None,
    };
    let mut r = match &opened {
        Some(_) => see_other("/me/"),
        None => see_other("/me/?why=failed"),
    };
    let h = r.headers_mut();
    h.append(header::SET_COOKIE, me_cookie(ME_PRE_COOKIE, "", 0, secure));
    if let Some(o) = opened {
        h.append(
            header::SET_COOKIE,
            me_cookie(ME_COOKIE, &o.token, ME_ABSOLUTE, secure),
        );
    }
    r
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
    confirm: Option<String>,
}

async fn sign_out<H: Host>(
    State(host): State<Arc<H>>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Some(me) = session(host.as_ref(), &headers).await {
        if !tokens_match(&me.csrf, &f.csrf) {
            return csrf_refused(&headers);
        }
        if let Some(token) = cookie(&headers, ME_COOKIE) {
            if let Err(e) = host.service().me_sign_out(token).await {
                return crate::session::error_page(chrome(&headers), e);
            }
        }
    }
    let mut r = see_other("/me/?why=out");
    r.headers_mut().append(
        header::SET_COOKIE,
        me_cookie(ME_COOKIE, "", 0, https(host.as_ref())),
    );
    r
}

fn csrf_refused(headers: &HeaderMap) -> Response {
    let c = chrome(headers);
    let t = c.t;
    crate::page::message(
        c,
        StatusCode::FORBIDDEN,
        t.csrf_title,
        t.csrf_text.to_owned(),
    )
}

async fn lost<H: Host>(
    State(host): State<Arc<H>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let Some(me) = session(host.as_ref(), &headers).await else {
        return see_other("/me/");
    };
    if !tokens_match(&me.csrf, &f.csrf) {
        return csrf_refused(&headers);
    }
    let c = chrome(&headers);
    if f.confirm.as_deref() != Some("yes") {
        return crate::session::error_page(
            c.clone(),
            ServiceError::InvalidRequest(c.t.me_lost_unconfirmed.to_owned()),
        );
    }
    let result = async {
        let id = CredentialId::parse(&id)?;
        host.service().me_report_lost(&me, &id).await
    }
    .await;
    match result {
        Ok(_) => see_other("/me/?done=lost"),
        Err(e) => crate::session::error_page(c, e),
    }
}

//! The citizen's browser wallet (`/wallet/`): an installable page whose script
//! (assets/js/wallet.mjs) keeps a holder key made by WebCrypto (Ed25519, not extractable) and
//! the credential in the browser's IndexedDB, receives the credential by OpenID4VCI from an
//! offer the office made (`/wallet/offer?credential_offer=…`, the link in the offer's QR), and
//! shows the live QR (docs/credential-format.md, "The live QR") that a counter checks. Its
//! service worker keeps it working offline once installed.
//!
//! The server holds nothing of the wallet: these routes serve the same shell page to every
//! visitor, with no session and no personal data; everything the citizen has stays on the
//! phone.

use crate::i18n::Texts;
use crate::page::{render, Chrome};
use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

/// The wallet's routes.
pub fn routes<H: crate::Host>() -> Router<Arc<H>> {
    Router::new()
        .route(
            "/wallet",
            get(|| async { crate::page::see_other("/wallet/") }),
        )
        .route("/wallet/", get(shell))
        .route("/wallet/offer", get(shell))
        .route("/wallet/sw.js", get(service_worker))
        .route("/wallet/manifest.webmanifest", get(manifest))
}

/// One message the script shows, by key (the script looks texts up here, so that it holds
/// no language of its own).
struct Message {
    key: &'static str,
    text: &'static str,
}

#[derive(Template)]
#[template(path = "wallet.html")]
struct Shell {
    c: Chrome,
    messages: Vec<Message>,
}

fn messages(t: &'static Texts) -> Vec<Message> {
    [
        ("unsupported", t.wallet_unsupported),
        ("receiving", t.wallet_receiving),
        ("received", t.wallet_received),
        ("offer_invalid", t.wallet_offer_invalid),
        ("network", t.wallet_network),
        ("refused", t.wallet_refused),
        ("countdown", t.wallet_countdown),
        ("forget_confirm", t.wallet_forget_confirm),
        ("forgotten", t.wallet_forgotten),
        ("verify_failed", t.wallet_verify_failed),
        ("login_asks", t.wallet_login_asks),
        ("login_sent", t.wallet_login_sent),
        ("login_declined", t.wallet_login_declined),
        ("login_invalid", t.wallet_login_invalid),
        ("login_expired", t.wallet_login_expired),
        ("camera_unavailable", t.wallet_camera_unavailable),
        ("scope_openid", t.scope_openid),
        ("scope_profile", t.scope_profile),
        ("scope_address", t.scope_address),
        ("scope_national_id", t.scope_national_id),
        ("sign_done", t.wallet_sign_done),
    ]
    .into_iter()
    .map(|(key, text)| Message { key, text })
    .collect()
}

async fn shell(headers: HeaderMap) -> Response {
    let c = Chrome::anonymous(crate::session::lang_of(&headers), "/wallet/");
    let messages = messages(c.t);
    render(StatusCode::OK, &Shell { c, messages })
}

/// The wallet's service worker, with this build's asset URLs and version filled in.
async fn service_worker() -> Response {
    crate::page::service_worker(include_str!("../assets/js/wallet-sw.js"))
}

/// The web app manifest: the wallet installs as an app of its own.
async fn manifest() -> Response {
    let body = json!({
        "name": "qrid — Ví định danh / Identity wallet",
        "short_name": "Ví qrid",
        "lang": "vi",
        "start_url": "/wallet/",
        "scope": "/wallet/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b4f8a",
        "icons": [
            {"src": crate::assets::url("office-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": crate::assets::url("office-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    });
    let mut r = crate::page::secure(Json(body).into_response());
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/manifest+json"),
    );
    r
}

//! # qrid-web
//!
//! qrid's web apps, rendered on the server: the office for staff (`/office/`), the citizens'
//! browser wallet (`/wallet/`) and their own page (`/me/`), the officials' signing desk
//! (`/sign/`), and what the apps share: browser sessions in the database with anti-forgery
//! tokens ([`session`]), the two languages ([`i18n`]), the page frame and its security headers
//! ([`page`]), and the embedded, content-versioned assets ([`assets`]).
//!
//! Like the HTTP API, these handlers only translate: each reads a form or a cookie, makes one
//! call to [`qrid_service::Service`], and renders the answer with an auto-escaping template
//! (askama). Pages carry no inline script (the CSP forbids it), cannot be framed, and are
//! never cached.
#![forbid(unsafe_code)]

pub mod assets;
pub mod i18n;
pub mod me;
pub mod office;
pub mod page;
pub mod session;
pub mod sign;
pub mod wallet;

use qrid_service::Service;

/// What the host server gives the web apps: the node's service. The server's state implements
/// it, so the apps' routes merge into its router and share its middleware.
pub trait Host: Send + Sync + 'static {
    /// The node's service.
    fn service(&self) -> &Service;
}

/// Every route of the web apps and their assets, to merge into the host's router.
pub fn routes<H: Host>() -> axum::Router<std::sync::Arc<H>> {
    axum::Router::new()
        .merge(office::routes::<H>())
        .merge(wallet::routes::<H>())
        .merge(me::routes::<H>())
        .merge(sign::routes::<H>())
        .merge(assets::routes::<H>())
}

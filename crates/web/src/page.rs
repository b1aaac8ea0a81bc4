//! The frame every page shares (language, the signed-in officer, the anti-forgery token, the
//! asset URLs) and the headers every page is sent with.

use crate::i18n::{Lang, Texts};
use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Scripts from this origin only, no inline script or style, no plugins, no framing; images
/// may be `blob:` (the counter's face) or `data:` (the QR in a card).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; \
    worker-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// What the frame of a page needs.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The page's language.
    pub lang: Lang,
    /// Its texts.
    pub t: &'static Texts,
    /// The signed-in officer's username and role label, if any.
    pub user: Option<(String, &'static str)>,
    /// What the navigation offers this officer.
    pub nav: Nav,
    /// The session's anti-forgery token (empty before sign-in).
    pub csrf: String,
    /// The page's own path and query, for the language switch to come back to.
    pub here: String,
    /// The stylesheet's versioned URL.
    pub css: String,
    /// The common script's versioned URL.
    pub js: String,
}

/// The links the navigation shows, by role.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nav {
    /// Find and read citizens.
    pub search: bool,
    /// Enrol and issue.
    pub enrol: bool,
    /// The counter.
    pub counter: bool,
    /// Account administration.
    pub admin: bool,
}

impl Chrome {
    /// The frame for `lang`, nobody signed in.
    pub fn anonymous(lang: Lang, here: &str) -> Chrome {
        Chrome {
            lang,
            t: lang.texts(),
            user: None,
            nav: Nav::default(),
            csrf: String::new(),
            here: here.to_owned(),
            css: crate::assets::url("office.css"),
            js: crate::assets::url("office.js"),
        }
    }

    /// The language switch's link.
    pub fn switch_href(&self) -> String {
        format!(
            "/office/lang/{}?next={}",
            self.lang.other().tag(),
            encode_component(&self.here)
        )
    }

    /// The other language's name.
    pub fn switch_name(&self) -> &'static str {
        self.lang.other().name()
    }

    /// The versioned URL of an asset.
    pub fn asset(&self, name: &str) -> String {
        crate::assets::url(name)
    }
}

/// Percent-encodes a URL component (unreserved characters pass).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Adds the headers every page carries: the CSP, no framing, no caching (pages hold personal
/// data), no referrer, no MIME sniffing.
pub fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, max-age=0"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=()"),
    );
    r
}

/// A script the service writes (a service worker with this build's asset URLs), with the
/// pages' headers but its own cache rule.
pub fn script(body: String, cache: &'static str) -> Response {
    let mut r = secure(
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            )],
            body,
        )
            .into_response(),
    );
    // After `secure`, whose no-store is for pages.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

/// A service worker from its template (`__VERSION__` and `__ASSETS__` filled in with this
/// build's asset version and URLs), never cached stale.
pub fn service_worker(template: &str) -> Response {
    let assets = serde_json::to_string(&crate::assets::all_urls()).unwrap_or_else(|_| "[]".into());
    let body = template
        .replace("__VERSION__", &crate::assets::version())
        .replace("__ASSETS__", &assets);
    let mut r = script(body, "no-cache");
    // The page's permissions policy is for documents.
    r.headers_mut().remove("permissions-policy");
    r
}

/// Renders a template as a page with `status`; a template that fails to render (it cannot,
/// short of a bug) is a plain 500 page.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => secure(
            (
                status,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                )],
                html,
            )
                .into_response(),
        ),
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            secure((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response())
        }
    }
}

/// A page that says what went wrong: forbidden, not found, a refused form, or an error with
/// a sentence for the person.
#[derive(Template)]
#[template(path = "message.html")]
pub struct Message {
    /// The frame.
    pub c: Chrome,
    /// The heading.
    pub title: &'static str,
    /// What happened.
    pub text: String,
}

/// A message page with `status`.
pub fn message(c: Chrome, status: StatusCode, title: &'static str, text: String) -> Response {
    render(status, &Message { c, title, text })
}

/// A redirect after a form (303, so the browser follows with GET).
pub fn see_other(location: &str) -> Response {
    secure(
        (
            StatusCode::SEE_OTHER,
            [(
                header::LOCATION,
                HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/office/")),
            )],
        )
            .into_response(),
    )
}

//! The login pages: the QR page that waits for the wallet, and the error page for requests
//! that must not be redirected. No inline script (the CSP forbids it), no framing.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const CSP: &str =
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; \
     style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'";

/// The waiting page's script: polls the status with the browser cookie and follows
/// `redirect_to` when the login completes, fails or expires.
pub const WAIT_JS: &str = r#""use strict";
(function () {
  var el = document.getElementById("login-request");
  var tx = el.getAttribute("data-tx");
  var status = document.getElementById("login-status");
  function poll() {
    fetch("/login/" + tx + "/status", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.redirect_to) { status.textContent = "Signing you in…"; window.location.replace(s.redirect_to); return; }
        if (s.status === "complete") { status.textContent = "This login has completed in this browser."; return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
"#;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em;color:#222}\
    .qr svg{width:min(90vw,560px);height:auto;display:block}small{color:#555}\
    .code strong{font-size:2em;letter-spacing:.15em}";

/// The QR page.
pub fn login(
    request: &str,
    tx: &str,
    code: &str,
    client_name: &str,
    scopes: &[String],
    ttl: i64,
) -> Response {
    let svg = match qrid_qr::Symbol::encode(request, qrid_qr::Ecc::M) {
        Ok(s) => s.to_svg(8),
        Err(_) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The login QR could not be drawn.",
            )
        }
    };
    let scopes = scopes
        .iter()
        .map(|s| format!("<li>{}</li>", escape(s)))
        .collect::<String>();
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Log in with your QR identity</title><style>{STYLE}</style></head><body>\
         <h1>Log in to {name}</h1>\
         <p>Scan this code with your identity wallet. The wallet will show who is asking and what for.</p>\
         <div class=\"qr\" id=\"login-request\" data-tx=\"{tx}\" data-code=\"{code}\" data-request=\"{req}\">{svg}</div>\
         <p class=\"code\"><span lang=\"vi\">Mã xác nhận</span> / Confirmation code: <strong id=\"confirm-code\">{code}</strong></p>\
         <p><span lang=\"vi\">Ví sẽ hỏi mã này. Chỉ nhập nếu chính bạn đang đăng nhập trên trang này.</span><br>\
         Your wallet will ask for this code. Type it only if you started this login yourself, on this page.</p>\
         <p><a id=\"open-wallet\" target=\"_blank\" rel=\"noopener\" href=\"/wallet/#login={link}&amp;code={code}\"><span lang=\"vi\">Mở ví trên điện thoại này</span> / Open the wallet on this phone</a></p>\
         <p>{name} asks for:</p><ul>{scopes}</ul>\
         <p id=\"login-status\" role=\"status\">Waiting for your wallet… (this code is valid for {mins} minutes)</p>\
         <script src=\"/login/wait.js\"></script></body></html>",
        name = escape(client_name),
        tx = escape(tx),
        code = escape(code),
        req = escape(request),
        // The wallet on the same phone takes the request and the code from the fragment,
        // which never reaches a server.
        link = percent_encode(request),
        mins = ttl / 60,
    );
    html(StatusCode::OK, body)
}

/// A page for a login request that cannot be sent back to the portal.
pub fn error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Login refused</title>\
         <style>{STYLE}</style></head><body><h1>This login request was refused</h1><p>{}</p>\
         <p><small>Go back to the portal and start again. If this keeps happening, the portal's \
         registration with the identity service is wrong.</small></p></body></html>",
        escape(message)
    );
    html(status, body)
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for a URL fragment.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

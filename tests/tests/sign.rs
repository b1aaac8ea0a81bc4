//! The signing desk's refusals over plain HTTP, as a browser (or a forger) speaks it, against
//! the real `qrid serve`: no session, a forged sign-in, a wrong code, forged forms (an upload
//! whose first part is not the session's token reads no file), files that are not PDFs, another
//! official's documents, a place off the page, and the pages' security headers.
//! tests/tests/sign_browser.rs drives the same pages in Chromium.

mod common;

use common::office::{browser, input_value, text};
use qrid_e2e::officials::{create_official, current_step, totp, OFFICIAL_PASSWORD};
use qrid_e2e::repo_root;
use qrid_e2e::service::{Service, World};
use qrid_store::Backend;
use reqwest::blocking::multipart::{Form, Part};
use reqwest::blocking::Client;

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("tests/vectors/pdf").join(name)).expect("a PDF vector")
}

fn pdf_part(name: &str, bytes: Vec<u8>) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str("application/pdf")
        .expect("a media type")
}

/// Signs `username` in at the desk with `code`; returns the desk's anti-forgery token.
fn sign_in(b: &Client, s: &Service, username: &str, code: &str) -> String {
    let (status, page) = text(
        b.get(format!("{}/sign/sign-in", s.url))
            .send()
            .expect("GET"),
    );
    assert_eq!(status, 200, "{page}");
    let pre = input_value(&page, "pre");
    let r = b
        .post(format!("{}/sign/sign-in", s.url))
        .form(&[
            ("username", username),
            ("password", OFFICIAL_PASSWORD),
            ("code", code),
            ("pre", &pre),
            ("next", "/sign/"),
        ])
        .send()
        .expect("POST sign-in");
    assert_eq!(r.status().as_u16(), 303, "{:?}", r.text());
    let (status, desk) = text(b.get(format!("{}/sign/", s.url)).send().expect("GET"));
    assert_eq!(status, 200, "{desk}");
    input_value(&desk, "csrf")
}

/// The ids of the documents a desk page lists as waiting.
fn waiting(page: &str) -> Vec<String> {
    page.match_indices("<tr id=\"doc-")
        .map(|(at, m)| {
            let rest = &page[at + m.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_owned()
        })
        .collect()
}

#[test]
fn the_desk_refuses_what_it_must() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let lan = create_official(&w, &s, "lan.tran", "Trần Thị Lan");
    let b = browser();

    // No session: the sign-in page, saying where to come back to.
    let r = b.get(format!("{}/sign/", s.url)).send().expect("GET");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/sign/sign-in?next=/sign/")
    );
    // The pages' headers: no inline script, no framing, never cached.
    let r = b
        .get(format!("{}/sign/sign-in", s.url))
        .send()
        .expect("GET");
    let h = r.headers();
    let csp = h
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(
        h.get("x-frame-options").and_then(|v| v.to_str().ok()),
        Some("DENY")
    );
    assert_eq!(
        h.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store, max-age=0")
    );
    let page = r.text().expect("a page");
    let pre = input_value(&page, "pre");

    // A sign-in without the form's double-submit token, and one with a wrong code.
    let step = current_step();
    let forged = Client::new()
        .post(format!("{}/sign/sign-in", s.url))
        .form(&[
            ("username", "lan.tran"),
            ("password", OFFICIAL_PASSWORD),
            ("code", totp(&lan.secret, step).as_str()),
            ("pre", pre.as_str()),
        ])
        .send()
        .expect("POST");
    assert_eq!(forged.status().as_u16(), 403);
    let r = b
        .post(format!("{}/sign/sign-in", s.url))
        .form(&[
            ("username", "lan.tran"),
            ("password", OFFICIAL_PASSWORD),
            ("code", "000000"),
            ("pre", pre.as_str()),
        ])
        .send()
        .expect("POST");
    let (status, page) = text(r);
    assert_eq!(status, 401);
    assert!(
        page.contains("Sai tên đăng nhập, mật khẩu hoặc mã một lần."),
        "{page}"
    );

    let csrf = sign_in(&b, &s, "lan.tran", &totp(&lan.secret, step));
    let upload = |form: Form| {
        text(
            b.post(format!("{}/sign/upload", s.url))
                .multipart(form)
                .send()
                .expect("POST upload"),
        )
    };

    // Forged uploads: a wrong token, or the file before the token. Nothing is kept.
    let (status, _) = upload(
        Form::new()
            .text("csrf", "forged")
            .part("files", pdf_part("a.pdf", vector("simple.pdf"))),
    );
    assert_eq!(status, 403);
    let (status, _) = upload(
        Form::new()
            .part("files", pdf_part("a.pdf", vector("simple.pdf")))
            .text("csrf", csrf.clone()),
    );
    assert_eq!(status, 403);
    let (_, desk) = text(b.get(format!("{}/sign/", s.url)).send().expect("GET"));
    assert!(waiting(&desk).is_empty(), "{desk}");

    // A batch with a file that is not a PDF: that one is refused with its reason, the other kept.
    let (status, page) = upload(
        Form::new()
            .text("csrf", csrf.clone())
            .part("files", pdf_part("thư.pdf", b"not a PDF at all".to_vec()))
            .part("files", pdf_part("Quyết định.pdf", vector("simple.pdf")))
            .part("files", pdf_part("khoá.pdf", vector("encrypted.pdf"))),
    );
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("thư.pdf") && page.contains("(not_pdf)"),
        "{page}"
    );
    assert!(
        page.contains("khoá.pdf") && page.contains("(encrypted_pdf)"),
        "{page}"
    );
    let ids = waiting(&page);
    assert_eq!(ids.len(), 1, "{page}");
    let id = &ids[0];

    // The upload back, for the preview; unknown or malformed ids are not found.
    let r = b
        .get(format!("{}/sign/documents/{id}/original", s.url))
        .send()
        .expect("GET");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    assert_eq!(r.bytes().expect("bytes").to_vec(), vector("simple.pdf"));
    for bad in ["0000000000000000", "..%2F..%2Fetc", "x"] {
        let r = b
            .get(format!("{}/sign/documents/{bad}/original", s.url))
            .send()
            .expect("GET");
        assert_eq!(r.status().as_u16(), 404, "{bad}");
    }
    // Not signed yet: nothing to download.
    let r = b
        .get(format!("{}/sign/documents/{id}/signed", s.url))
        .send()
        .expect("GET");
    assert_eq!(r.status().as_u16(), 404);

    // A place off the page, a forged place, a forged approval.
    let place = |x: &str, token: &str| {
        b.post(format!("{}/sign/documents/{id}/place", s.url))
            .form(&[("csrf", token), ("x", x), ("y", "0")])
            .send()
            .expect("POST")
            .status()
            .as_u16()
    };
    assert_eq!(place("5000", &csrf), 422);
    assert_eq!(place("500", "forged"), 403);
    assert_eq!(place("500", &csrf), 303);
    let r = b
        .post(format!("{}/sign/approve", s.url))
        .form(&[("csrf", "forged"), ("code", "123456")])
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 403);

    // Another official sees none of it.
    let other = browser();
    let hoa = create_official(&w, &s, "hoa.tran", "Trần Văn Hoà");
    sign_in(&other, &s, "hoa.tran", &totp(&hoa.secret, current_step()));
    let r = other
        .get(format!("{}/sign/documents/{id}/original", s.url))
        .send()
        .expect("GET");
    assert_eq!(r.status().as_u16(), 404);

    // Signing out ends the session.
    let r = b
        .post(format!("{}/sign/sign-out", s.url))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 303);
    let r = b.get(format!("{}/sign/", s.url)).send().expect("GET");
    assert_eq!(r.status().as_u16(), 303);
}

//! The office's administration over HTTP, as a browser speaks it, against the real `qrid
//! serve`: officers listed, created, disabled, enabled and reset, and officials disabled,
//! re-enrolled (TOTP) and given a new key; each change holds at once, only admins may make it,
//! and forged forms change nothing. tests/tests/office_browser.rs checks the same screens in
//! Chromium with axe-core.

mod common;

use common::office::{browser, input_value, sign_in, text};
use qrid_e2e::service::{Auth, Body, World, PASSWORD};
use qrid_store::Backend;
use reqwest::blocking::{Client, Response};

fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The admin screens: an administrator lists officers, creates one, disables, enables and
/// resets a password, and every change holds at once for the account's open session; others
/// may not administer.
#[test]
fn office_administration() {
    let w = World::new(Backend::Sqlite);
    w.create_officer("cleo", "clerk");
    let s = w.start();
    let admin = browser();
    let csrf = sign_in(&admin, &s, "root");
    let (status, page) = text(
        admin
            .get(format!("{}/office/admin?kind=officer", s.url))
            .send()
            .expect("GET"),
    );
    assert_eq!(status, 200);
    for name in ["alice", "audrey", "cleo", "root"] {
        assert!(
            page.contains(&format!("id=\"account-{name}\"")),
            "{name} not listed"
        );
    }
    let post = |path: &str, form: &[(&str, &str)]| {
        let r = admin
            .post(format!("{}{path}", s.url))
            .form(form)
            .send()
            .expect("POST");
        (r.status().as_u16(), location(&r))
    };

    // Disabled: the clerk's open session ends at its next request.
    let clerk = browser();
    sign_in(&clerk, &s, "cleo");
    let account = |action: &str, password: &str| {
        post(
            "/office/admin/accounts",
            &[
                ("csrf", csrf.as_str()),
                ("kind", "officer"),
                ("name", "cleo"),
                ("action", action),
                ("password", password),
            ],
        )
    };
    assert_eq!(account("disable", "").0, 303);
    let r = clerk
        .get(format!("{}/office/counter", s.url))
        .send()
        .expect("GET");
    assert!(location(&r).contains("why=changed"), "{}", location(&r));
    // Enabled and given a new password: the old one no longer signs in, the new one does.
    assert_eq!(account("enable", "").0, 303);
    assert_eq!(account("reset", "a new passphrase for cleo").0, 303);
    let b = browser();
    let (_, page) = text(
        b.get(format!("{}/office/sign-in", s.url))
            .send()
            .expect("GET"),
    );
    let pre = input_value(&page, "pre");
    let signed = |password: &str| {
        b.post(format!("{}/office/sign-in", s.url))
            .form(&[("username", "cleo"), ("password", password), ("pre", &pre)])
            .send()
            .expect("POST")
            .status()
            .as_u16()
    };
    assert_eq!(signed(PASSWORD), 401);
    assert_eq!(signed("a new passphrase for cleo"), 303);
    // A new officer from the form; an administrator cannot disable their own account.
    assert_eq!(
        post(
            "/office/admin/officers",
            &[
                ("csrf", csrf.as_str()),
                ("username", "dung"),
                ("role", "clerk"),
                ("password", "another long password"),
            ],
        )
        .0,
        303
    );
    let (_, page) = text(
        admin
            .get(format!("{}/office/admin", s.url))
            .send()
            .expect("GET"),
    );
    assert!(page.contains("id=\"account-dung\""), "{page}");
    let (status, _) = post(
        "/office/admin/accounts",
        &[
            ("csrf", csrf.as_str()),
            ("kind", "officer"),
            ("name", "root"),
            ("action", "disable"),
        ],
    );
    assert_eq!(status, 422);
    // Without the token, nothing changes; an issuer may not administer.
    let (status, _) = post(
        "/office/admin/accounts",
        &[
            ("csrf", "x"),
            ("kind", "officer"),
            ("name", "alice"),
            ("action", "disable"),
        ],
    );
    assert_eq!(status, 403);
    let issuer = browser();
    sign_in(&issuer, &s, "alice");
    let (status, page) = text(
        issuer
            .get(format!("{}/office/admin", s.url))
            .send()
            .expect("GET"),
    );
    assert_eq!(status, 403, "{page}");
}

/// The text of the element with `id` (up to its closing tag), as the page escaped it, with the
/// one escape an otpauth URI or a kid can hold undone.
fn element_text(page: &str, id: &str) -> String {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {page}"));
    let rest = &page[start..];
    let open = rest.find('>').expect("the tag ends") + 1;
    let close = rest[open..].find('<').expect("the element ends");
    rest[open..open + close]
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The officials' admin screens: an administrator disables and enables an official, re-enrols
/// their TOTP device (the page shows the new secret once, as the link and as its QR; the new
/// device signs in, the old one no longer does) and rotates their key after the confirmation
/// page (tokens made before end; the same authenticator signs in, with the new key). A clerk is
/// refused every one of these screens, and a form without the session's token changes nothing.
#[test]
fn office_official_administration() {
    use qrid_e2e::officials::{base32_decode, bearer, create_official, current_step, totp};
    let w = World::new(Backend::Sqlite);
    w.create_officer("cleo", "clerk");
    let s = w.start();
    let o = create_official(&w, &s, "khai", "Nguyễn Văn Khải");
    let step = current_step();
    let official_sign_in =
        |secret: &[u8], step: u64| qrid_e2e::officials::sign_in(&s, &o, &totp(secret, step));
    let mine = |t: &str| {
        qrid_e2e::service::http(
            "GET",
            &format!("{}/v1/officials/me/signatures", s.url),
            Auth::Bearer(t),
            Body::None,
        )
        .status
    };
    let token = bearer(&official_sign_in(&o.secret, step));
    assert_eq!(mine(&token), 200);

    let get = |b: &Client, path: &str| text(b.get(format!("{}{path}", s.url)).send().expect("GET"));
    let admin = browser();
    let csrf = sign_in(&admin, &s, "root");
    let (status, page) = get(&admin, "/office/admin?kind=official");
    assert_eq!(status, 200, "{page}");
    for id in ["account-khai", "totp-khai", "rotate-khai"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "no #{id}: {page}");
    }
    let post = |b: &Client, path: &str, form: &[(&str, &str)]| {
        text(
            b.post(format!("{}{path}", s.url))
                .form(form)
                .send()
                .expect("POST"),
        )
    };

    // Disabled: the official's token ends at once; enabled: it stays ended.
    for action in ["disable", "enable"] {
        let (status, _) = post(
            &admin,
            "/office/admin/accounts",
            &[
                ("csrf", &csrf),
                ("kind", "official"),
                ("name", "khai"),
                ("action", action),
            ],
        );
        assert_eq!(status, 303, "{action}");
        assert_ne!(mine(&token), 200, "{action}");
    }

    // A clerk may not re-enrol, see the rotation page or rotate; forged forms change nothing.
    let before = w.db.official("khai");
    let clerk = browser();
    let clerk_csrf = sign_in(&clerk, &s, "cleo");
    let (status, page) = post(
        &clerk,
        "/office/admin/officials/totp",
        &[("csrf", &clerk_csrf), ("name", "khai")],
    );
    assert_eq!(status, 403, "{page}");
    let (status, _) = get(&clerk, "/office/admin/officials/rotate-key?name=khai");
    assert_eq!(status, 403);
    let (status, _) = post(
        &clerk,
        "/office/admin/officials/rotate-key",
        &[("csrf", &clerk_csrf), ("name", "khai"), ("confirm", "yes")],
    );
    assert_eq!(status, 403);
    for path in [
        "/office/admin/officials/totp",
        "/office/admin/officials/rotate-key",
    ] {
        for token in ["", "forged", clerk_csrf.as_str()] {
            let (status, page) = post(
                &admin,
                path,
                &[("csrf", token), ("name", "khai"), ("confirm", "yes")],
            );
            assert_eq!(status, 403, "{path} {token:?}");
            assert!(page.contains("Biểu mẫu không hợp lệ"), "{page}");
        }
    }
    let unchanged = w.db.official("khai");
    assert_eq!(
        (unchanged.kid, unchanged.totp_sealed, unchanged.token_epoch),
        (before.kid, before.totp_sealed, before.token_epoch)
    );

    // Re-enrolment: the page shows the new secret once, as the link and as its QR.
    let (status, page) = post(
        &admin,
        "/office/admin/officials/totp",
        &[("csrf", &csrf), ("name", "khai")],
    );
    assert_eq!(status, 200, "{page}");
    let uri = element_text(&page, "otpauth-uri");
    assert!(
        uri.starts_with("otpauth://totp/qrid%20VN:khai?secret="),
        "{uri}"
    );
    let svg = qrid_qr::Symbol::encode(&uri, qrid_qr::Ecc::M)
        .expect("a QR of the URI")
        .to_svg(4);
    assert!(page.contains(&svg), "the page's QR is not the URI's");
    let secret = base32_decode(
        uri.split("secret=")
            .nth(1)
            .and_then(|r| r.split('&').next())
            .expect("a secret"),
    );
    assert_ne!(secret, o.secret);
    assert_eq!(official_sign_in(&o.secret, step + 1).status, 401);
    let token = bearer(&official_sign_in(&secret, step));
    assert_eq!(mine(&token), 200);

    // Rotation: the confirmation page, then a post without the box ticked changes nothing…
    let (status, page) = get(&admin, "/office/admin/officials/rotate-key?name=khai");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"rotate-confirm\""), "{page}");
    let (status, page) = post(
        &admin,
        "/office/admin/officials/rotate-key",
        &[("csrf", &csrf), ("name", "khai")],
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("id=\"error\""), "{page}");
    assert_eq!(w.db.official("khai").kid, o.kid);
    // …and with it, a new key, shown; tokens made before end; the same authenticator signs in.
    let (status, page) = post(
        &admin,
        "/office/admin/officials/rotate-key",
        &[("csrf", &csrf), ("name", "khai"), ("confirm", "yes")],
    );
    assert_eq!(status, 200, "{page}");
    let kid = element_text(&page, "new-kid");
    assert_eq!(element_text(&page, "old-kid"), o.kid);
    assert!(
        page.contains(&o.signer_credential_id),
        "the revoked credential is named"
    );
    assert_ne!(kid, o.kid);
    assert_eq!(w.db.official("khai").kid, kid);
    assert_eq!(mine(&token), 401);
    let r = official_sign_in(&secret, step + 1);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["official"]["kid"], kid.as_str());
}

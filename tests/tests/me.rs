//! The citizen's own page (`/me/`) over HTTP against the real `qrid serve`, on both back ends:
//! signed in with the wallet through the service's own OpenID login (the CLI wallet answers
//! the login QR), it shows the credentials and the access record (a counter's check, a face
//! fetch, the portal logins with the claims they shared), and "my card is lost" suspends the
//! card at once so that the counter refuses it. Without a session the page offers only the
//! sign-in; another citizen's card cannot be reported lost; a forged form is refused.

mod common;

use common::office::{browser, check, counter, input_value, sign_in as office_sign_in, text};
use qrid_e2e::login::{save_trust_list, LoginRequest, Wallet};
use qrid_e2e::service::{enrol, http, token, Auth, Body, Service, World};
use qrid_e2e::CITIZEN_JSON;
use qrid_store::Backend;
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A citizen with a wallet holding a credential bound to it: (citizen id, credential id, the
/// credential's payload, the wallet).
fn citizen_with_wallet(
    w: &World,
    s: &Service,
    citizen: &str,
    dir: &str,
) -> (String, String, String, Wallet) {
    let t = token(s, "alice");
    let id = enrol(s, &t, citizen);
    let wallet = Wallet::init(&w.path(dir));
    let r = http(
        "POST",
        &format!("{}/v1/citizens/{id}/credentials", s.url),
        Auth::Bearer(&t),
        Body::Json(&json!({ "holder_jwk": wallet.jwk }).to_string()),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let cred = r.json();
    let trust = w.path(&format!("{dir}-trust.json"));
    save_trust_list(s, &trust);
    let payload = cred["payload"].as_str().expect("a payload").to_owned();
    wallet.must_import(&trust, &payload);
    (
        id,
        cred["id"].as_str().expect("an id").to_owned(),
        payload,
        wallet,
    )
}

/// Signs the citizen in to `/me/` in `b`: the page sends the browser to the provider's login
/// page, the wallet answers its QR with the code beside it, the page's poll gets the redirect
/// back, and the callback opens the session. The home page's HTML.
fn me_sign_in(b: &Client, s: &Service, wallet: &Wallet) -> String {
    let r = b.get(format!("{}/me/sign-in", s.url)).send().expect("GET");
    assert_eq!(r.status().as_u16(), 303);
    let to = r.headers()["location"]
        .to_str()
        .expect("a location")
        .to_owned();
    assert!(to.starts_with("/authorize?"), "{to}");
    let (status, page) = text(b.get(format!("{}{to}", s.url)).send().expect("GET"));
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("id=\"open-wallet\""),
        "no same-phone link: {page}"
    );
    let req = LoginRequest::from_page(&page).expect("a login request on the page");
    let (code, out, err) = wallet.login_request(&req.text, &req.code);
    assert_eq!(code, 0, "the wallet's answer: {out}\n{err}");
    let started = Instant::now();
    let redirect = loop {
        let (status, body) = text(
            b.get(format!("{}/login/{}/status", s.url, req.tx()))
                .send()
                .expect("GET status"),
        );
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("JSON");
        if let Some(to) = v["redirect_to"].as_str() {
            break to.to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no redirect: {v}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        redirect.starts_with(&format!("{}/me/callback?", s.url)),
        "{redirect}"
    );
    let r = b.get(&redirect).send().expect("GET callback");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/me/");
    let (status, home) = text(b.get(format!("{}/me/", s.url)).send().expect("GET /me/"));
    assert_eq!(status, 200);
    home
}

fn scenario(backend: Backend) {
    let w = World::new(backend);
    w.create_officer("cleo", "clerk");
    let s = w.start();
    let (_, cred, payload, wallet) = citizen_with_wallet(&w, &s, CITIZEN_JSON, "wallet");

    // Without a session: the sign-in offer only, nothing of anyone.
    let b = browser();
    let (status, page) = text(b.get(format!("{}/me/", s.url)).send().expect("GET"));
    assert_eq!(status, 200);
    assert!(page.contains("id=\"me-sign-in\""), "{page}");
    assert!(
        !page.contains("me-record") && !page.contains(&cred),
        "{page}"
    );
    let csp = b.get(format!("{}/me/", s.url)).send().expect("GET");
    assert!(csp.headers()["content-security-policy"]
        .to_str()
        .unwrap_or("")
        .contains("frame-ancestors 'none'"));
    // Reporting a card lost without a session changes nothing.
    let r = b
        .post(format!("{}/me/credentials/{cred}/lost", s.url))
        .form(&[("csrf", "x"), ("confirm", "yes")])
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 303);

    // A counter checks the card and looks at the face: both go on the record.
    let clerk = browser();
    let csrf_clerk = office_sign_in(&clerk, &s, "cleo");
    assert_eq!(check(&clerk, &s, &csrf_clerk, &payload)["kind"], "valid");

    // Signed in with the wallet.
    let home = me_sign_in(&b, &s, &wallet);
    let name: Value = serde_json::from_str(CITIZEN_JSON).expect("citizen JSON");
    assert!(
        home.contains(name["full_name"].as_str().expect("a name")),
        "{home}"
    );
    assert!(
        home.contains(&format!("id=\"me-credential-{cred}\"")),
        "{home}"
    );
    assert!(home.contains("id=\"me-record\""), "{home}");
    // The page's own login with what it shared, and the counter's check (written to the
    // record behind the counter's answer: waited for, boundedly).
    assert!(home.contains("(login)"), "{home}");
    let started = Instant::now();
    let home = loop {
        let (_, home) = text(b.get(format!("{}/me/", s.url)).send().expect("GET /me/"));
        if home.contains("(cleo)") && home.contains("(valid)") {
            break home;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the counter's check is not on the record"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(home.contains("id=\"me-portals\""), "{home}");

    // Another citizen's card, by its id, cannot be reported lost.
    let other: Value = serde_json::from_str(CITIZEN_JSON).expect("citizen JSON");
    let mut other = other;
    other["id_number"] = "079204000123".into();
    other["full_name"] = "Trần Văn Bình".into();
    let (_, other_cred, other_payload, _) =
        citizen_with_wallet(&w, &s, &other.to_string(), "other-wallet");
    let csrf = input_value(&home, "csrf");
    let r = b
        .post(format!("{}/me/credentials/{other_cred}/lost", s.url))
        .form(&[("csrf", csrf.as_str()), ("confirm", "yes")])
        .send()
        .expect("POST");
    let (status, page) = text(r);
    assert_eq!(status, 404, "{page}");
    assert_eq!(
        check(&clerk, &s, &csrf_clerk, &other_payload)["kind"],
        "valid"
    );
    // A form without the session's token is refused.
    let r = b
        .post(format!("{}/me/credentials/{cred}/lost", s.url))
        .form(&[("csrf", "forged"), ("confirm", "yes")])
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 403);
    // Without the confirmation, nothing happens.
    let r = b
        .post(format!("{}/me/credentials/{cred}/lost", s.url))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(check(&clerk, &s, &csrf_clerk, &payload)["kind"], "valid");

    // "My card is lost": suspended at once; the counter refuses it.
    let r = b
        .post(format!("{}/me/credentials/{cred}/lost", s.url))
        .form(&[("csrf", csrf.as_str()), ("confirm", "yes")])
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/me/?done=lost");
    let (_, home) = text(
        b.get(format!("{}/me/?done=lost", s.url))
            .send()
            .expect("GET"),
    );
    assert!(home.contains("id=\"me-done\""), "{home}");
    let v = check(&clerk, &s, &csrf_clerk, &payload);
    assert_eq!(v["kind"], "suspended", "{v}");
    assert_eq!(v["valid"], false, "{v}");
    // Only an office reinstates it: the citizen's page offers nothing to do so.
    assert!(!home.contains(&format!("id=\"lost-{cred}\"")), "{home}");
    let t = token(&s, "alice");
    let r = http(
        "GET",
        &format!("{}/v1/credentials/{cred}", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(r.json()["status_reason"], "reported lost by the holder");

    // Sign-out ends it: the page is back to the sign-in offer.
    let r = b
        .post(format!("{}/me/sign-out", s.url))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = text(b.get(format!("{}/me/", s.url)).send().expect("GET"));
    assert!(page.contains("id=\"me-sign-in\""), "{page}");
    // The face endpoint is not this page's: a citizen's cookie opens no office call.
    let r = counter(&b, &s, &csrf, "check", &payload);
    assert_ne!(r.status().as_u16(), 200);
    s.stop();
}

#[test]
fn the_citizens_page_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn the_citizens_page_postgres() {
    scenario(Backend::Postgres);
}

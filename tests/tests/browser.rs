//! The login as a citizen lives it (docs/login.md): a real headless Chromium opens the
//! relying party's `/authorize` link, the wallet reads the QR off a screenshot of that page, and
//! the page's own script takes the browser back to the relying party with a code.
//!
//! Chromium is driven through chromedriver with the W3C WebDriver protocol
//! ([`qrid_e2e::webdriver`]). Both come from Debian (`chromium`, `chromium-driver`), which
//! `.ci/run` installs; without them this test fails and says so.

use qrid_e2e::login::{
    form, pkce_pair, query_param, random_token, save_trust_list, Authorize, LoginRequest, Wallet,
};
use qrid_e2e::service::{create_client, enrol, issue_bound, token, World};
use qrid_e2e::webdriver::{chromedriver, chromium, Driver, Session};
use qrid_e2e::{zbar_read, zbarimg, CITIZEN_JSON};
use qrid_store::Backend;
use reqwest::blocking::Client as HttpClient;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ----- the relying party: a listener that records what the browser brings back -----

struct RelyingParty {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl RelyingParty {
    fn start() -> RelyingParty {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the RP listener");
        let port = listener.local_addr().expect("RP address").port();
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, halt) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let log = log.clone();
                        std::thread::spawn(move || answer(stream, &log));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        RelyingParty { port, seen, stop }
    }

    fn request_lines(&self) -> Vec<String> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Drop for RelyingParty {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one request head, records its request line, answers 200 "ok".
fn answer(mut stream: TcpStream, log: &Mutex<Vec<String>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    if let Some(line) = text.lines().next().filter(|l| !l.is_empty()) {
        if let Ok(mut v) = log.lock() {
            v.push(line.to_owned());
        }
    }
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
    );
}

// ----- the test -----

#[test]
fn a_citizen_logs_in_with_chromium_and_the_wallet_reading_the_screen() {
    let chromium = chromium();
    let chromedriver = chromedriver();
    let t0 = Instant::now();
    let step = |what: &str| eprintln!("[{:>6.1} s] {what}", t0.elapsed().as_secs_f64());

    let rp_listener = RelyingParty::start();
    let redirect_uri = format!("http://127.0.0.1:{}/cb", rp_listener.port);
    let w = World::new(Backend::Sqlite);
    let (client_id, client_secret) = create_client(
        &w.db.url(),
        "Cổng Dịch vụ công Quốc gia",
        &["--redirect-uri", &redirect_uri],
    );
    let s = w.start();
    let officer = token(&s, "alice");
    let citizen = enrol(&s, &officer, CITIZEN_JSON);
    let trust = w.path("jwks.json");
    save_trust_list(&s, &trust);
    let wallet = Wallet::init(&w.path("wallet"));
    let cred = issue_bound(&s, &officer, &citizen, &wallet.jwk);
    wallet.must_import(
        &trust,
        cred["payload"]
            .as_str()
            .unwrap_or_else(|| panic!("no payload in {cred}")),
    );

    step("service, citizen and wallet ready");
    let driver = Driver::start(&chromedriver);
    let profile = tempfile::tempdir().expect("a profile directory");
    let browser = Session::new(
        &driver,
        &chromium,
        profile.path(),
        &["--window-size=1000,1000".to_owned()],
    );
    let (verifier, challenge) = pkce_pair();
    let state = random_token(16);
    let nonce = random_token(16);
    let url = Authorize {
        base: &s.url,
        client_id: &client_id,
        redirect_uri: &redirect_uri,
        scope: "openid",
        state: &state,
        nonce: &nonce,
        code_challenge: &challenge,
    }
    .url();
    step("Chromium started");
    browser.navigate(&url);
    step("login page loaded");
    let at = browser.current_url();
    assert!(at.starts_with(&format!("{}/authorize", s.url)), "{at}");
    let html = browser.source();
    let request = LoginRequest::from_page(&html).unwrap_or_else(|e| panic!("{e}"));
    let request_text = request.text.clone();
    assert_eq!(request.text("cid"), client_id);

    // What the citizen's phone sees: the screen.
    let shot = w.path("authorize.png");
    std::fs::write(&shot, browser.screenshot()).expect("write the screenshot");
    if let Ok(dir) = std::env::var("QRID_E2E_SCREENSHOT_DIR") {
        let _ = std::fs::copy(&shot, Path::new(&dir).join("authorize.png"));
    }
    assert_eq!(
        zbar_read(&zbarimg(), &shot),
        request_text,
        "zbarimg reads another text off the screenshot"
    );
    step("screenshot taken and read by zbarimg");
    // The citizen reads the two-digit code off the same screen and types it into the wallet.
    let (code, out, err) = wallet.login_image(&shot, &request.code);
    step("the wallet answered");
    assert_eq!(
        code,
        0,
        "qrid wallet login --image (screenshot in {}) failed:\n{out}\n{err}",
        shot.display()
    );
    assert!(
        out.contains("Cổng Dịch vụ công Quốc gia") || err.contains("Cổng Dịch vụ công Quốc gia"),
        "the wallet shows who asks: {out}\n{err}"
    );

    // The page's script notices and takes the browser back to the relying party.
    let deadline = Instant::now() + Duration::from_secs(30);
    let landed = loop {
        let now = browser.current_url();
        if now.starts_with(&format!("{redirect_uri}?")) && query_param(&now, "code").is_some() {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "Chromium is still at {now} 30 s after the wallet answered"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    step("Chromium is back at the relying party");
    assert_eq!(
        query_param(&landed, "state").as_deref(),
        Some(state.as_str())
    );
    let code = query_param(&landed, "code").expect("a code");
    let lines = rp_listener.request_lines();
    assert!(
        lines.iter().any(
            |l| l.starts_with("GET /cb?") && l.contains(&format!("code={}", form_value(&code)))
        ),
        "the relying party never saw the code: {lines:?}"
    );

    // The relying party redeems the code the browser brought.
    let r = HttpClient::new()
        .post(format!("{}/token", s.url))
        .basic_auth(&client_id, Some(&client_secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &verifier),
        ]))
        .send()
        .expect("POST /token");
    let status = r.status().as_u16();
    let body = r.text().unwrap_or_default();
    assert_eq!(status, 200, "{body}");
    let tokens: Value = serde_json::from_str(&body).expect("token JSON");
    let id_token = tokens["id_token"].as_str().expect("an id_token");
    let claims = jwt_claims(id_token);
    assert_eq!(claims["nonce"], nonce.as_str(), "{claims}");
    assert!(
        claims["aud"] == client_id.as_str() || claims["aud"] == json!([client_id]),
        "{claims}"
    );
    assert_eq!(claims["iss"], s.url.as_str(), "{claims}");
}

/// How a query value appears in a request line (the service may percent-encode it).
fn form_value(v: &str) -> String {
    if v.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        v.to_owned()
    } else {
        qrid_e2e::login::pct(v)
    }
}

fn jwt_claims(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt
        .split('.')
        .nth(1)
        .unwrap_or_else(|| panic!("not a JWT: {jwt}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url claims");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

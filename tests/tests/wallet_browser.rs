//! The citizen's browser wallet in real browsers: headless Chromium through chromedriver
//! against the real `qrid serve`. Three browsers, as three devices: the office's (an issuer
//! makes a wallet offer), the citizen's phone (a phone-sized window running `/wallet/`), and
//! the counter's (a clerk whose fake camera plays a video made from a screenshot of the
//! phone's screen).
//!
//! The office's offer page shows a QR that zbarimg reads as the wallet link; the phone opens
//! it (as its camera app would), takes the PIN, makes its key and receives the credential by
//! OpenID4VCI; it shows the live QR; the counter's camera reads it off the phone's screen and
//! says VALID with the face; the same screen shown again (a photo of it) is refused as a copy.
//! Then the phone's camera (a video made from a screenshot of the desk's screen) reads a test
//! portal's login QR and the citizen approves it: the portal redeems the code and reads the
//! name; the wallet signs a document and the service verifies the signature; the citizen's
//! page, signed in the same way, lists the counter's checks, the copy refused, the face fetch
//! and both logins; "my card is lost" suspends the card and the counter refuses the phone's
//! next live QR. Every screen is checked with axe-core. The in-page time to make and show a
//! live QR is printed (docs/benchmarks.md).
//!
//! Needs Debian's `chromium`, `chromium-driver` and `zbar-tools`, and `npm ci` in crates/web
//! for axe-core; `.ci/run` installs them all.

use qrid_e2e::pages::{browser, Screens};
use qrid_e2e::service::{enrol, http, token, Auth, Body, Service, World, PASSWORD};
use qrid_e2e::video::{write_y4m_of, Fit};
use qrid_e2e::webdriver::{chromedriver, chromium, wait_until, Driver, Session};
use qrid_e2e::{zbar_read, zbarimg, CITIZEN_JSON};
use qrid_store::Backend;
use serde_json::Value;
use std::time::Duration;

const PORTRAIT: &[u8] = include_bytes!("../fixtures/portrait.png");
/// The office's and the counter's screens.
const DESK: (u32, u32) = (1280, 900);
/// A phone's screen (CSS pixels).
const PHONE: (u32, u32) = (412, 915);
/// Bounds, not measures: nothing here asserts a speed.
const PAGE: Duration = Duration::from_secs(30);
const CAMERA: Duration = Duration::from_secs(60);

fn sign_in(b: &Session, s: &Service, user: &str) {
    b.navigate(&format!("{}/office/sign-in", s.url));
    b.wait_displayed("#username", PAGE);
    b.find("#username").send_keys(user);
    b.find("#password").send_keys(PASSWORD);
    b.find("#sign-in").click();
    let home = format!("{}/office/", s.url);
    b.wait_url(&format!("{user}'s home page"), PAGE, |u| u == home);
}

fn wait_verdict(b: &Session, kind: &str, bound: Duration) {
    wait_until(&format!("a {kind:?} verdict at the counter"), bound, || {
        let v = b.try_find("#verdict")?;
        (v.is_displayed() && v.attribute("data-kind").as_deref() == Some(kind)).then_some(())
    });
}

/// The wallet's live QR, once it is drawn: (the milliseconds the page took to make and show
/// it, how many it has shown).
fn live_qr(b: &Session) -> (f64, u64) {
    wait_until("the live QR", PAGE, || probe_qr(b))
}

fn probe_qr(b: &Session) -> Option<(f64, u64)> {
    let qr = b.try_find("#w-qr")?;
    let ms: f64 = qr.attribute("data-made-ms")?.parse().ok()?;
    let n: u64 = qr.attribute("data-count")?.parse().ok()?;
    b.try_find("#w-qr svg")?;
    Some((ms, n))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn a_citizen_receives_shows_logs_in_signs_and_reports_a_loss_with_the_browser_wallet() {
    let chromium = chromium();
    let chromedriver = chromedriver();
    let zbarimg = zbarimg();
    let mut screens = Screens::new("wallet");

    let w = World::new(Backend::Sqlite);
    w.create_officer("cleo", "clerk");
    let s = w.start();
    let t = token(&s, "alice");
    let citizen = enrol(&s, &t, CITIZEN_JSON);
    let portrait = w.path("portrait.png");
    std::fs::write(&portrait, PORTRAIT).expect("write the portrait");
    let r = http(
        "PUT",
        &format!("{}/v1/citizens/{citizen}/photo", s.url),
        Auth::Bearer(&t),
        Body::Raw("image/png", portrait),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let name: Value = serde_json::from_str(CITIZEN_JSON).expect("citizen JSON");
    let name = name["full_name"].as_str().expect("a name").to_owned();
    let driver = Driver::start(&chromedriver);

    // 1. The office makes a wallet offer: a QR and, apart from it, the PIN.
    let office_profile = tempfile::tempdir().expect("a profile directory");
    let office = browser(&driver, &chromium, office_profile.path(), None, DESK, PAGE);
    sign_in(&office, &s, "alice");
    office.navigate(&format!("{}/office/citizens/{citizen}", s.url));
    office.find("#offer").click();
    office.wait_displayed("#offer-pin", PAGE);
    screens.check(&office, "offer", "offer.png");
    let pin = office.find("#offer-pin").text();
    assert!(
        pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit()),
        "{pin}"
    );
    let link = office.execute(
        "return document.getElementById('offer-link').textContent;",
        &[],
    );
    let link = link.as_str().expect("the offer link").trim().to_owned();
    assert!(
        link.starts_with(&format!("{}/wallet/offer?credential_offer=", s.url)),
        "{link}"
    );
    let shot = w.path("offer-screen.png");
    std::fs::write(&shot, office.screenshot()).expect("write the screenshot");
    assert_eq!(
        zbar_read(&zbarimg, &shot),
        link,
        "the offer page's QR is not the wallet link"
    );

    // 2. The phone opens the link its camera read, takes the PIN and receives.
    let phone_profile = tempfile::tempdir().expect("a profile directory");
    let phone = browser(&driver, &chromium, phone_profile.path(), None, PHONE, PAGE);
    phone.navigate(&link);
    phone.wait_displayed("#w-pin", PAGE);
    screens.check(&phone, "wallet (PIN)", "wallet-pin.png");
    phone.find("#w-pin").send_keys(&pin);
    phone.find("#w-receive-button").click();
    phone.wait_displayed("#w-card", CAMERA);
    assert_eq!(phone.find("#w-name").text(), name);
    let url = phone.current_url();
    assert_eq!(
        url,
        format!("{}/wallet/", s.url),
        "the offer stayed in the URL"
    );
    screens.check(&phone, "wallet (card)", "wallet-card.png");
    // The offer was single use: the same link again is refused by the service.
    let again = http(
        "POST",
        &format!("{}/token", s.url),
        Auth::None,
        Body::Raw("application/x-www-form-urlencoded", {
            let code = link
                .split_once("credential_offer=")
                .map(|(_, q)| q.to_owned())
                .unwrap_or_default();
            let offer: Vec<(String, String)> =
                serde_urlencoded::from_str(&format!("o={code}")).expect("the query");
            let offer: Value = serde_json::from_str(&offer[0].1).expect("the offer JSON");
            let code = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
                ["pre-authorized_code"]
                .as_str()
                .expect("a code")
                .to_owned();
            let form = serde_urlencoded::to_string([
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                ),
                ("pre-authorized_code", code.as_str()),
                ("tx_code", pin.as_str()),
            ])
            .expect("a form");
            let p = w.path("again.form");
            std::fs::write(&p, form).expect("write the form");
            p
        }),
    );
    assert_eq!(
        again.status,
        400,
        "{}",
        String::from_utf8_lossy(&again.body)
    );
    assert_eq!(again.json()["error"], "invalid_grant");

    // 3. The live QR, read off the phone's screen by the counter's camera.
    phone.find("#w-show").click();
    let (first_ms, mut count) = live_qr(&phone);
    screens.check(&phone, "wallet (live QR)", "wallet-live.png");
    let screen = w.path("phone-screen.png");
    std::fs::write(&screen, phone.screenshot()).expect("write the screenshot");
    let shown = zbar_read(&zbarimg, &screen);
    assert!(shown.starts_with("QP1:"), "the phone shows {shown:.40}");
    // The counter's camera held up to the phone: the QR element alone fills its frame (the
    // whole phone screen scaled into 640×480 leaves the live QR at 2 pixels a module).
    let video = w.path("phone.y4m");
    write_y4m_of(&video, &phone.find("#w-qr").screenshot(), Fit::Sharp);
    let counter_profile = tempfile::tempdir().expect("a profile directory");
    let counter = browser(
        &driver,
        &chromium,
        counter_profile.path(),
        Some(&video),
        DESK,
        PAGE,
    );
    sign_in(&counter, &s, "cleo");
    counter.navigate(&format!("{}/office/counter", s.url));
    counter.find("#scan-start").click();
    wait_verdict(&counter, "live_valid", CAMERA);
    assert_eq!(counter.find("#verdict-headline").text(), "HỢP LỆ");
    assert_eq!(counter.find("#v-full_name").text(), name);
    wait_until("the holder's face", PAGE, || {
        let img = counter.try_find("#verdict-face")?;
        (img.is_displayed() && img.property("naturalWidth").as_u64().unwrap_or(0) > 0).then_some(())
    });
    counter.find("#scan-stop").click();
    counter.wait_displayed("#scan-start", PAGE);
    screens.check(&counter, "counter (live QR)", "counter-live.png");

    // 4. The same screen again, as a photo of it: a copy, refused.
    counter
        .find("#scan-file")
        .send_keys(&screen.to_string_lossy());
    wait_verdict(&counter, "presentation_replayed", PAGE);
    assert_eq!(counter.find("#verdict-headline").text(), "KHÔNG HỢP LỆ");
    assert!(
        !counter.find("#verdict-face").is_displayed(),
        "a face is shown for a copy"
    );
    screens.check(&counter, "counter (copy)", "counter-copy.png");

    // 5. The in-page time to make and show a live QR: the first, and fresh ones after.
    let mut times = vec![first_ms];
    for _ in 0..9 {
        phone.find("#w-hide").click();
        phone.find("#w-show").click();
        let (ms, n) = wait_until("a new live QR", PAGE, || {
            probe_qr(&phone).filter(|(_, n)| *n > count)
        });
        count = n;
        times.push(ms);
    }
    println!(
        "live QR made and shown in the page: median {:.1} ms, min {:.1} ms, max {:.1} ms over {} (first {:.1} ms)",
        median(times.clone()),
        times.iter().copied().fold(f64::INFINITY, f64::min),
        times.iter().copied().fold(0.0, f64::max),
        times.len(),
        first_ms
    );
    // 6. Log in to a portal: the portal's login page is on the desk; the phone's camera reads
    //    it off the desk's screen, the citizen approves with the code shown beside it.
    let redirect_uri = format!("{}/healthz", s.url);
    let (portal, portal_secret) = w.create_client(
        "Cổng dịch vụ công thử nghiệm",
        &[
            "--redirect-uri",
            &redirect_uri,
            "--scope",
            "openid",
            "--scope",
            "profile",
        ],
    );
    let verifier = "a-pkce-verifier-of-forty-three-characters-or-more";
    let challenge = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()))
    };
    let authorize = format!(
        "{}/authorize?{}",
        s.url,
        serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", portal.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("scope", "openid profile"),
            ("state", "portal-state"),
            ("nonce", "portal-nonce"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .expect("a query")
    );
    office.navigate(&authorize);
    office.wait_displayed("#login-request", PAGE);
    let code = office.find("#confirm-code").text();
    drop(phone);
    let phone = phone_scanning(
        &driver,
        &chromium,
        phone_profile.path(),
        &w,
        &office,
        "portal",
    );
    phone.find("#w-login").click();
    phone.wait_displayed("#w-login-confirm", CAMERA);
    assert_eq!(
        phone
            .find("#w-login-who")
            .attribute("data-client")
            .as_deref(),
        Some(portal.as_str())
    );
    screens.check(&phone, "wallet (login)", "wallet-login.png");
    phone.find("#w-login-code").send_keys(&code);
    phone.find("#w-login-approve").click();
    phone.wait_displayed("#w-card", PAGE);
    let back = office.wait_url("the portal's redirect", PAGE, |u| {
        u.starts_with(&format!("{redirect_uri}?"))
    });
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(back.split_once('?').map_or("", |(_, q)| q)).expect("a query");
    let portal_code = query
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.clone())
        .expect("a code");
    let form = w.path("token.form");
    std::fs::write(
        &form,
        serde_urlencoded::to_string([
            ("grant_type", "authorization_code"),
            ("code", portal_code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier),
        ])
        .expect("a form"),
    )
    .expect("write the form");
    let tokens = http(
        "POST",
        &format!("{}/token", s.url),
        Auth::Basic(&portal, &portal_secret),
        Body::Raw("application/x-www-form-urlencoded", form),
    );
    assert_eq!(
        tokens.status,
        200,
        "{}",
        String::from_utf8_lossy(&tokens.body)
    );
    let access = tokens.json()["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    let info = http(
        "GET",
        &format!("{}/userinfo", s.url),
        Auth::Bearer(&access),
        Body::None,
    );
    assert_eq!(info.json()["name"], name.as_str());

    // 7. Sign a document in the wallet; the service verifies the signature.
    let document = w.path("đơn-đề-nghị.txt");
    std::fs::write(&document, "Đơn đề nghị cấp giấy phép xây dựng\n").expect("write the document");
    phone.find("#w-sign").click();
    phone.wait_displayed("#w-sign-section", PAGE);
    phone
        .find("#w-sign-file")
        .send_keys(&document.to_string_lossy());
    phone.find("#w-sign-button").click();
    let jws = wait_until("the signature", PAGE, || {
        phone
            .find("#w-sign-result")
            .attribute("data-jws")
            .filter(|j| !j.is_empty())
    });
    screens.check(&phone, "wallet (signed)", "wallet-signed.png");
    let digest = {
        use sha2::Digest;
        hex_of(&sha2::Sha256::digest(
            std::fs::read(&document).expect("the document"),
        ))
    };
    let verdict = http(
        "POST",
        &format!("{}/v1/signatures/verify", s.url),
        w.client(),
        Body::Json(&serde_json::json!({"signature": jws, "digest": digest}).to_string()),
    );
    let v = verdict.json();
    assert_eq!(v["valid"], true, "{v}");
    phone.find("#w-sign-back").click();

    // 8. The citizen's page, signed in with the wallet: every check and login is there.
    office.navigate(&format!("{}/me/", s.url));
    office.wait_displayed("#me-sign-in", PAGE);
    screens.check(&office, "me (signed out)", "me-signed-out.png");
    office.find("#me-sign-in").click();
    office.wait_displayed("#login-request", PAGE);
    let code = office.find("#confirm-code").text();
    drop(phone);
    let phone = phone_scanning(&driver, &chromium, phone_profile.path(), &w, &office, "me");
    phone.find("#w-login").click();
    phone.wait_displayed("#w-login-confirm", CAMERA);
    phone.find("#w-login-code").send_keys(&code);
    phone.find("#w-login-approve").click();
    phone.wait_displayed("#w-card", PAGE);
    office.wait_url("the citizen's page", PAGE, |u| {
        u == format!("{}/me/", s.url)
    });
    let record = wait_until("the counter's check on the record", PAGE, || {
        office.navigate(&format!("{}/me/", s.url));
        let t = office.try_find("#me-record")?.text();
        (t.contains("(cleo)")
            && t.contains("Cổng dịch vụ công thử nghiệm")
            && t.contains("(signature_valid)"))
        .then_some(t)
    });
    assert!(record.contains("(valid)"), "{record}");
    assert!(record.contains("(presentation_replayed)"), "{record}");
    assert!(record.contains("(login)"), "{record}");
    assert!(record.contains("(face_shown)"), "{record}");
    assert!(record.contains("(signature_valid)"), "{record}");
    let portals = office.find("#me-portals").text();
    assert!(
        portals.contains("Cổng dịch vụ công thử nghiệm"),
        "{portals}"
    );
    screens.check(&office, "me", "me.png");

    // 9. "My card is lost": suspended; the counter refuses the phone's next live QR.
    let credential = wait_until("the credential on the page", PAGE, || {
        office
            .try_find("article.me-credential")?
            .attribute("id")?
            .strip_prefix("me-credential-")
            .map(str::to_owned)
    });
    office.find(&format!("#lost-confirm-{credential}")).click();
    office.find(&format!("#lost-{credential}")).click();
    office.wait_displayed("#me-done", PAGE);
    phone.find("#w-show").click();
    live_qr(&phone);
    let screen = w.path("phone-screen-lost.png");
    std::fs::write(&screen, phone.screenshot()).expect("write the screenshot");
    counter
        .find("#scan-file")
        .send_keys(&screen.to_string_lossy());
    wait_verdict(&counter, "suspended", PAGE);
    assert_eq!(counter.find("#verdict-headline").text(), "KHÔNG HỢP LỆ");
    screens.check(&counter, "counter (lost)", "counter-lost.png");

    screens.assert_no_serious();
    drop(phone);
    drop(counter);
    drop(office);
    driver.stop();
    s.stop();
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The phone again (the same profile: its wallet is kept), its camera now held up to the
/// login QR on the desk's screen. The video is of the QR element alone: a whole-screen
/// screenshot scaled into the camera's 640×480 frame left a dense login QR at about 3 pixels
/// a module, which jsQR missed in about one run of three.
fn phone_scanning<'a>(
    driver: &'a Driver,
    chromium: &std::path::Path,
    profile: &std::path::Path,
    w: &World,
    desk: &Session,
    name: &str,
) -> Session<'a> {
    let shot = w.path(&format!("desk-{name}.png"));
    std::fs::write(&shot, desk.find("#login-request").screenshot()).expect("write the screenshot");
    let video = w.path(&format!("desk-{name}.y4m"));
    write_y4m_of(
        &video,
        &std::fs::read(&shot).expect("the screenshot"),
        Fit::Sharp,
    );
    let phone = browser(driver, chromium, profile, Some(&video), PHONE, PAGE);
    phone.navigate(&format!("{}/wallet/", desk_origin(desk)));
    phone.wait_displayed("#w-card", PAGE);
    phone
}

fn desk_origin(desk: &Session) -> String {
    let url = desk.current_url();
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let host = rest.split('/').next().unwrap_or("");
    format!("http://{host}")
}

//! The office in a real browser: headless Chromium driven through chromedriver (W3C
//! WebDriver, [`qrid_e2e::webdriver`]) against the real `qrid serve`, on SQLite and on
//! PostgreSQL, with fake cameras that play videos made here ([`qrid_e2e::video`]).
//!
//! An issuer signs in through the form, enrols a citizen with a photo taken by the page's
//! camera script, issues a credential and prints its card to PDF (read back at 300 dpi by
//! zbarimg); a clerk in a second Chromium whose camera "sees" that QR code gets the valid
//! verdict with the face; then a replacement and a revocation, checked at the counter from
//! photos of the QR codes. Every screen is checked with axe-core (no serious or critical
//! violation), and screenshotted into `$QRID_SCREENSHOTS` when that names a directory.
//! tests/tests/office.rs drives the same screens over plain HTTP.
//!
//! Needs Debian's `chromium`, `chromium-driver`, `zbar-tools` and `poppler-utils` (pdftoppm),
//! and `npm ci` in crates/web for axe-core; `.ci/run` installs them all.

use qrid_e2e::officials::{
    bearer, create_official, current_step, sign_file, sign_in as official_sign_in, totp,
};
use qrid_e2e::pages::Screens;
use qrid_e2e::service::{Auth, Body, Service, World, PASSWORD};
use qrid_e2e::video::{write_y4m_of, Fit};
use qrid_e2e::webdriver::{chromedriver, chromium, required, wait_until, Driver, Session};
use qrid_e2e::{zbar_read, zbarimg};
use qrid_store::Backend;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The public-domain portrait of tests/fixtures (see its README): the face the issuer's
/// camera sees.
const PORTRAIT: &[u8] = include_bytes!("../fixtures/portrait.png");
/// The citizen's name, with its diacritics.
const NAME: &str = "Nguyễn Thị Minh Khai";
const ID_NUMBER: &str = "001099012345";
/// The viewport every screen is seen (and screenshotted) at.
const VIEWPORT: (u32, u32) = (1280, 900);
/// How long a page, a script or a service call may take before the test calls it a hang
/// (bounds, not measures: nothing here asserts a speed).
const PAGE: Duration = Duration::from_secs(30);
/// How long the counter may take to find the QR code in the camera's frames.
const CAMERA: Duration = Duration::from_secs(60);

/// The stored payload of a credential, through the officers' API.
fn payload(s: &Service, credential: &str) -> String {
    let t = qrid_e2e::service::token(s, "alice");
    let r = qrid_e2e::service::http(
        "GET",
        &format!("{}/v1/credentials/{credential}", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["payload"].as_str().expect("a payload").to_owned()
}

/// A PNG of a payload's QR code (level M, `scale` pixels a module, with its quiet zone).
fn qr_png(text: &str, scale: u32) -> Vec<u8> {
    qrid_qr::render(text, qrid_qr::Ecc::M, scale, qrid_qr::Format::Png).expect("a QR code")
}

/// A Chromium at the office's window size, with a fake camera playing `video` if given.
fn browser<'a>(
    driver: &'a Driver,
    chromium: &Path,
    profile: &Path,
    video: Option<&Path>,
) -> Session<'a> {
    qrid_e2e::pages::browser(driver, chromium, profile, video, VIEWPORT, PAGE)
}

/// Opens the office, is sent to sign-in, and signs `user` in through the form.
fn sign_in(b: &Session, s: &Service, user: &str, screens: Option<&mut Screens>) {
    b.navigate(&format!("{}/office/", s.url));
    let at = b.current_url();
    assert!(
        at.starts_with(&format!("{}/office/sign-in", s.url)),
        "not sent to sign-in: {at}"
    );
    b.wait_displayed("#username", PAGE);
    if let Some(screens) = screens {
        screens.check(b, "sign-in", "sign-in.png");
    }
    b.find("#username").send_keys(user);
    b.find("#password").send_keys(PASSWORD);
    b.find("#sign-in").click();
    let home = format!("{}/office/", s.url);
    b.wait_url(&format!("{user}'s home page after sign-in"), PAGE, |u| {
        u == home
    });
    let who = b.wait_for("#who", PAGE).text();
    assert_eq!(who, user);
}

/// Follows the navigation's link to `path` and waits for the page.
fn go(b: &Session, s: &Service, path: &str) {
    b.find(&format!("header nav a[href=\"{path}\"]")).click();
    let want = format!("{}{path}", s.url);
    b.wait_url(&format!("the page {path}"), PAGE, |u| u == want);
}

/// Waits until the image `css` is shown and decoded (a non-zero natural width), returns that
/// width.
fn wait_image(b: &Session, css: &str, bound: Duration) -> u64 {
    wait_until(&format!("the image {css} to be shown"), bound, || {
        let img = b.try_find(css)?;
        if !img.is_displayed() || img.property("complete") != json!(true) {
            return None;
        }
        img.property("naturalWidth").as_u64().filter(|w| *w > 0)
    })
}

/// The ids of the credentials listed on a citizen's page, in order.
fn credential_rows(b: &Session) -> Vec<String> {
    // In one script, not element by element: the page may be replaced between two commands
    // (the form's redirect), and an element of the old page is gone.
    b.execute(
        "return Array.from(document.querySelectorAll('#credentials tbody tr')).map(r => r.id);",
        &[],
    )
    .as_array()
    .map(|ids| {
        ids.iter()
            .filter_map(Value::as_str)
            .map(|id| id.trim_start_matches("credential-").to_owned())
            .collect()
    })
    .unwrap_or_default()
}

/// Waits until the counter shows a verdict of `kind`; returns the verdict element's class.
fn wait_verdict(b: &Session, kind: &str, bound: Duration) -> String {
    wait_until(&format!("a {kind:?} verdict at the counter"), bound, || {
        let v = b.try_find("#verdict")?;
        (v.is_displayed() && v.attribute("data-kind").as_deref() == Some(kind))
            .then(|| v.attribute("class").unwrap_or_default())
    })
}

/// Prints the card page to a card-sized PDF, renders it at 300 dpi with pdftoppm, and returns
/// the pages' PNG files.
fn print_card(b: &Session, dir: &Path) -> Vec<PathBuf> {
    let pdftoppm = required("pdftoppm", "poppler-utils");
    // ID-1: 85.60 × 53.98 mm, no margin, as the card's print style sheet asks.
    let pdf = b.print_pdf(json!({
        "page": { "width": 8.56, "height": 5.398 },
        "margin": { "top": 0, "bottom": 0, "left": 0, "right": 0 },
        "background": true,
        "shrinkToFit": false,
    }));
    let file = dir.join("card.pdf");
    std::fs::write(&file, &pdf).expect("write the PDF");
    let out = Command::new(&pdftoppm)
        .args(["-r", "300", "-png"])
        .arg(&file)
        .arg(dir.join("card-page"))
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", pdftoppm.display()));
    assert!(
        out.status.success(),
        "pdftoppm failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the scratch directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("card-page"))
        })
        .collect();
    pages.sort();
    pages
}

fn scenario(backend: Backend) {
    let t0 = Instant::now();
    let step = |what: &str| eprintln!("[{backend:?} {:>6.1} s] {what}", t0.elapsed().as_secs_f64());
    let chromium = chromium();
    let chromedriver = chromedriver();
    let zbarimg = zbarimg();
    let mut screens = Screens::new(&format!("{backend:?}"));

    let w = World::new(backend);
    w.create_officer("cleo", "clerk");
    let s = w.start();
    let portrait_video = w.path("portrait.y4m");
    write_y4m_of(&portrait_video, PORTRAIT, Fit::Smooth);
    step("service started, the portrait's video written");

    let driver = Driver::start(&chromedriver);
    let alice_profile = tempfile::tempdir().expect("a profile directory");
    let alice = browser(
        &driver,
        &chromium,
        alice_profile.path(),
        Some(&portrait_video),
    );

    // 1. Sign in, enrol with the camera's photo.
    sign_in(&alice, &s, "alice", Some(&mut screens));
    screens.check(&alice, "home", "home.png");
    go(&alice, &s, "/office/enrol");
    alice.find("#id_number").send_keys(ID_NUMBER);
    alice.find("#full_name").send_keys(NAME);
    let dob = alice.find("#date_of_birth");
    // Typed as a person types a date into Chromium's date field (month, day, year in the
    // en-US locale the browsers run in), then read back as the form will send it.
    dob.send_keys("01151990");
    assert_eq!(
        dob.property("value"),
        json!("1990-01-15"),
        "the date field did not take the typed date"
    );
    alice.find("#sex option[value=\"F\"]").click();
    alice.find("#nationality").send_keys("VN");
    alice
        .find("#place_of_origin")
        .send_keys("Xã Đông Hội, Huyện Đông Anh, Hà Nội");
    // On one line: the service refuses the line break a text area sends (CR LF) as a
    // control character, although the field is a text area and the citizen page shows it
    // with its line breaks.
    alice
        .find("#place_of_residence")
        .send_keys("Số 1 Tràng Tiền, Phường Tràng Tiền, Quận Hoàn Kiếm, Hà Nội");
    alice.find("#camera-start").click();
    alice.wait_displayed("#camera", PAGE);
    wait_until("the camera's video to play", CAMERA, || {
        alice
            .find("#camera-video")
            .property("videoWidth")
            .as_u64()
            .filter(|w| *w > 0)
    });
    alice.find("#camera-take").click();
    let preview = wait_image(&alice, "#photo-preview", PAGE);
    assert!(preview > 0);
    let files = alice.execute(
        "const f = document.getElementById('photo').files; \
         return f.length === 1 ? [f[0].name, f[0].type, f[0].size] : null;",
        &[],
    );
    assert_eq!(
        (&files[0], &files[1]),
        (&json!("camera.jpg"), &json!("image/jpeg")),
        "the camera's photo is not in the form's file input: {files}"
    );
    assert!(
        alice.find("#camera-status").text().len() > 1,
        "no word that the photo was taken"
    );
    step("the camera's photo taken");
    screens.check(&alice, "enrol", "enrol.png");
    alice.find("#enrol").click();
    let citizen_url = alice.wait_url("the citizen page after enrolment", PAGE, |u| {
        u.contains("/office/citizens/") && u.ends_with("?done=enrolled")
    });
    let citizen = citizen_url
        .rsplit("/office/citizens/")
        .next()
        .and_then(|r| r.split('?').next())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(alice.find("#citizen-name").text(), NAME);
    assert_eq!(alice.find("#citizen-id-number").text(), ID_NUMBER);
    wait_image(&alice, "#citizen-photo", PAGE);
    step("enrolled");

    // 2. Issue, open the card, print it; the printed QR reads back as the payload.
    assert!(alice.try_find("#credentials").is_none());
    alice.find("#issue").click();
    alice.wait_url("the citizen page after issuance", PAGE, |u| {
        u.ends_with("?done=issued")
    });
    let rows = wait_until("the credential's row", PAGE, || {
        Some(credential_rows(&alice)).filter(|r| r.len() == 1)
    });
    let first = rows[0].clone();
    wait_image(&alice, "#citizen-photo", PAGE);
    screens.check(&alice, "citizen", "citizen.png");
    alice.find(&format!("#credential-{first} a.print")).click();
    let card_url = format!("{}/office/credentials/{first}/card", s.url);
    alice.wait_url("the card page", PAGE, |u| u == card_url);
    alice.wait_displayed("#card", PAGE);
    wait_image(&alice, "#card img.card-face", PAGE);
    screens.check(&alice, "card", "card.png");
    let p1 = payload(&s, &first);
    let pages = print_card(&alice, w.dir.path());
    if let Some(dir) = &screens.shots {
        if let Some(page) = pages.first() {
            std::fs::copy(page, dir.join("card-print.png")).expect("copy the printed card");
        }
    }
    assert_eq!(
        pages.len(),
        1,
        "the card does not print on one card-sized page: {pages:?}"
    );
    assert_eq!(
        zbar_read(&zbarimg, &pages[0]),
        p1,
        "zbarimg reads another text off the printed card ({})",
        pages[0].display()
    );
    step("the card printed and read");

    // The citizen is found by the name typed without diacritics.
    go(&alice, &s, "/office/citizens");
    alice.find("#q").send_keys("nguyen thi minh");
    alice.find("form[role=search] button[type=submit]").click();
    alice.wait_url("the search's results", PAGE, |u| u.contains("?q="));
    let hit = alice.wait_for(
        &format!("#results a[href=\"/office/citizens/{citizen}\"]"),
        PAGE,
    );
    assert_eq!(hit.text(), NAME);
    screens.check(&alice, "search", "search.png");

    // 3. The clerk's camera sees the QR code: valid, with the face from the service.
    let qr_video = w.path("qr.y4m");
    write_y4m_of(&qr_video, &qr_png(&p1, 1), Fit::Sharp);
    let cleo_profile = tempfile::tempdir().expect("a profile directory");
    let cleo = browser(&driver, &chromium, cleo_profile.path(), Some(&qr_video));
    sign_in(&cleo, &s, "cleo", None);
    assert!(
        cleo.try_find("header nav a[href=\"/office/enrol\"]")
            .is_none(),
        "a clerk is offered enrolment"
    );
    go(&cleo, &s, "/office/counter");
    cleo.find("#scan-start").click();
    let class = wait_verdict(&cleo, "valid", CAMERA);
    step("the counter's camera read the QR");
    assert!(
        class.split_whitespace().any(|c| c == "valid"),
        "the verdict's class: {class}"
    );
    assert_eq!(cleo.find("#verdict-headline").text(), "HỢP LỆ");
    assert_eq!(
        cleo.find("#verdict").attribute("data-offline"),
        None,
        "the verdict came from the in-page verifier, not the service"
    );
    let face = wait_image(&cleo, "#verdict-face", PAGE);
    assert!(face > 0);
    let src = cleo
        .find("#verdict-face")
        .attribute("src")
        .unwrap_or_default();
    assert!(
        src.starts_with("blob:"),
        "the face is not the one fetched from the service: {src:.40}"
    );
    assert_eq!(cleo.find("#v-full_name").text(), NAME);
    assert_eq!(cleo.find("#v-id_number").text(), ID_NUMBER);
    // The camera is stopped before anything else is looked at or scanned: it reads the same
    // QR again every few seconds and shows its verdict anew (the face fetched again), and
    // would show it over the next one.
    cleo.find("#scan-stop").click();
    cleo.wait_displayed("#scan-start", PAGE);
    wait_verdict(&cleo, "valid", PAGE);
    wait_image(&cleo, "#verdict-face", PAGE);
    screens.check(&cleo, "counter (valid)", "counter-valid.png");

    // 4. A replacement: the old card's QR, from a photo of it, is "replaced".
    alice.navigate(&format!("{}/office/citizens/{citizen}", s.url));
    alice
        .find(&format!("#replaces option[value=\"{first}\"]"))
        .click();
    alice.find("#issue").click();
    let rows = wait_until("the replacement's row", PAGE, || {
        Some(credential_rows(&alice)).filter(|r| r.len() == 2)
    });
    let second = rows
        .iter()
        .find(|r| **r != first)
        .expect("the replacement's id")
        .clone();
    let old_png = w.path("old-qr.png");
    std::fs::write(&old_png, qr_png(&p1, 4)).expect("write the QR");
    cleo.find("#scan-file")
        .send_keys(&old_png.to_string_lossy());
    let class = wait_verdict(&cleo, "replaced", PAGE);
    assert!(
        class.split_whitespace().any(|c| c == "invalid"),
        "the verdict's class: {class}"
    );
    assert_eq!(cleo.find("#verdict-headline").text(), "KHÔNG HỢP LỆ");
    assert!(
        !cleo.find("#verdict-face").is_displayed(),
        "a face is shown for a replaced card"
    );
    step("the replaced card checked");

    // Revoked from the citizen's page, with a reason; the counter says so.
    alice
        .find(&format!("#reason-{second}"))
        .send_keys("Mất thẻ");
    alice
        .find(&format!("#credential-{second} button[value=\"revoke\"]"))
        .click();
    alice.wait_url("the citizen page after the revocation", PAGE, |u| {
        u.ends_with("?done=status")
    });
    let status = alice
        .wait_for(&format!("#credential-{second} .status"), PAGE)
        .attribute("data-status")
        .unwrap_or_default();
    assert_eq!(status, "bad", "the revoked credential's status class");
    let new_png = w.path("new-qr.png");
    std::fs::write(&new_png, qr_png(&payload(&s, &second), 4)).expect("write the QR");
    cleo.find("#scan-file")
        .send_keys(&new_png.to_string_lossy());
    wait_verdict(&cleo, "revoked", PAGE);
    assert_eq!(cleo.find("#verdict-headline").text(), "KHÔNG HỢP LỆ");
    screens.check(&cleo, "counter (revoked)", "counter-revoked.png");
    step("the revoked card checked");

    // A document stamp: an official signs a file; its printed stamp, scanned at the counter,
    // shows the signature record it points to.
    let minh = create_official(&w, &s, "minh.nguyen", "Nguyễn Văn Minh");
    let totp_step = current_step();
    let ot = bearer(&official_sign_in(&s, &minh, &totp(&minh.secret, totp_step)));
    let doc = w.path("decision.txt");
    std::fs::write(&doc, "Quyết định số 118/QĐ-UBND").expect("write the document");
    let code = totp(&minh.secret, totp_step + 1);
    let r = sign_file(&s, &ot, &doc, "text/plain", &[("x-totp", &code)]);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let sig_id = r.json()["id"].as_str().expect("a signature id").to_owned();
    let record = qrid_e2e::service::http(
        "GET",
        &format!("{}/v1/signatures/{sig_id}", s.url),
        Auth::None,
        Body::None,
    )
    .json();
    let stamp = record["stamp"].as_str().expect("a stamp").to_owned();
    let stamp_png = w.path("stamp-qr.png");
    std::fs::write(&stamp_png, qr_png(&stamp, 4)).expect("write the stamp's QR");
    cleo.find("#scan-file")
        .send_keys(&stamp_png.to_string_lossy());
    wait_verdict(&cleo, "stamp", PAGE);
    assert_eq!(cleo.find("#s-signature_id").text(), sig_id);
    assert_eq!(cleo.find("#s-signer").text(), "Nguyễn Văn Minh");
    assert_eq!(cleo.find("#s-document").text(), "decision.txt");
    assert!(cleo.find("#verdict-stamp").is_displayed());
    assert!(!cleo.find("#verdict-holder").is_displayed());
    step("a document stamp checked");

    // The photo profile: the face travels in the QR, and the counter shows it from there.
    alice.navigate(&format!("{}/office/citizens/{citizen}", s.url));
    alice.find("#profile-photo").click();
    alice.find("#issue").click();
    let rows = wait_until("the photo credential's row", PAGE, || {
        Some(credential_rows(&alice)).filter(|r| r.len() == 3)
    });
    let third = rows
        .iter()
        .find(|r| **r != first && **r != second)
        .expect("the photo credential's id")
        .clone();
    let p3 = payload(&s, &third);
    assert!(
        qrid_qr::Symbol::encode(&p3, qrid_qr::Ecc::M)
            .expect("a QR code")
            .version()
            <= 25,
        "the photo profile's QR is larger than version 25"
    );
    let photo_png = w.path("photo-qr.png");
    std::fs::write(&photo_png, qr_png(&p3, 4)).expect("write the QR");
    cleo.find("#scan-file")
        .send_keys(&photo_png.to_string_lossy());
    wait_verdict(&cleo, "valid", PAGE);
    wait_image(&cleo, "#verdict-face", PAGE);
    let src = cleo
        .find("#verdict-face")
        .attribute("src")
        .unwrap_or_default();
    assert!(
        src.starts_with("data:image/jpeg;base64,"),
        "the photo profile's face does not come from the QR: {}",
        &src[..src.len().min(40)]
    );
    step("the photo profile checked, its face from the QR");

    // 7. The counter's own timings (frame captured → verdict shown), numbers only.
    let timings = cleo.execute("return window.qridCounterTimings;", &[]);
    let ms: Vec<f64> = timings
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    assert!(
        ms.len() >= 3,
        "the counter recorded {ms:?}, not one timing a verdict"
    );
    eprintln!(
        "[{backend:?}] counter timings, frame → verdict (ms): {}",
        ms.iter()
            .map(|m| format!("{m:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // The counter, opened again while online, saves the trust list and the status lists as
    // they are now (the revocation included) and is kept by its service worker.
    cleo.navigate(&format!("{}/office/counter", s.url));
    wait_until("the trust data saved", PAGE, || {
        Some(cleo.find("#trust-status").text()).filter(|t| !t.is_empty())
    });
    wait_until("the counter's service worker in control", PAGE, || {
        cleo.execute("return !!navigator.serviceWorker.controller;", &[])
            .as_bool()
            .filter(|c| *c)
    });

    // The administrator's screen: alice signs out, root signs in.
    alice
        .find("form[action=\"/office/sign-out\"] button")
        .click();
    alice.wait_url("the sign-in page after sign-out", PAGE, |u| {
        u.contains("/office/sign-in?out=1")
    });
    sign_in(&alice, &s, "root", None);
    go(&alice, &s, "/office/admin");
    alice.wait_for("#accounts", PAGE);
    screens.check(&alice, "admin", "admin.png");
    // The officials' screens: the list, a TOTP re-enrolment's page (the secret as QR and
    // link), a key rotation's confirmation page and its notice.
    alice.navigate(&format!("{}/office/admin?kind=official", s.url));
    alice.wait_for("#accounts", PAGE);
    screens.check(&alice, "admin (officials)", "admin-officials.png");
    alice.find("[id=\"totp-minh.nguyen\"]").click();
    alice.wait_for("#otpauth-uri", PAGE);
    screens.check(
        &alice,
        "official TOTP re-enrolled",
        "admin-official-totp.png",
    );
    alice.navigate(&format!(
        "{}/office/admin/officials/rotate-key?name=minh.nguyen",
        s.url
    ));
    alice.wait_for("#rotate-confirm", PAGE);
    screens.check(&alice, "official key rotation", "admin-official-rotate.png");
    alice.find("#rotate-confirm").click();
    alice.find("#rotate").click();
    alice.wait_for("#new-kid", PAGE);
    screens.check(&alice, "official key rotated", "admin-official-rotated.png");

    // What the pages said in the console: no script error, no load the CSP refused, no
    // failed request, but for the icon browsers ask every site for (the office has none).
    let mut errors = Vec::new();
    for (who, b) in [("alice", &alice), ("cleo", &cleo)] {
        for (level, message) in b.browser_log() {
            eprintln!("[{backend:?}] console of {who}: {level} {message}");
            if level == "SEVERE" && !message.contains("/favicon.ico ") {
                errors.push(format!("{who}: {message}"));
            }
        }
    }
    assert!(
        errors.is_empty(),
        "errors in the browsers' consoles:\n{}",
        errors.join("\n")
    );
    // Offline: the service stops; the counter, opened again, comes from the service worker
    // and verifies in the page from what it saved, and says so, with the list's age.
    let base = s.url.clone();
    s.stop();
    cleo.navigate(&format!("{base}/office/counter"));
    cleo.wait_for("#counter[data-offline='1']", PAGE);
    assert!(cleo.find("#offline-banner").is_displayed());
    cleo.find("#scan-file")
        .send_keys(&photo_png.to_string_lossy());
    wait_verdict(&cleo, "valid", PAGE);
    assert!(
        cleo.find("#verdict").attribute("data-offline").is_some(),
        "the offline verdict does not say it is offline"
    );
    let reason = cleo.find("#verdict-reason").text();
    assert!(
        reason.contains("Danh sách trạng thái đã lưu cách đây"),
        "the offline verdict does not say how old its list is: {reason}"
    );
    wait_image(&cleo, "#verdict-face", PAGE);
    assert_eq!(cleo.find("#v-full_name").text(), NAME);
    screens.check(&cleo, "counter (offline)", "counter-offline.png");
    // The revoked card and the replaced one read "revoked" offline (only the service knows
    // that a card was replaced).
    for png in [&new_png, &old_png] {
        cleo.find("#verdict-clear").click();
        cleo.find("#scan-file").send_keys(&png.to_string_lossy());
        wait_verdict(&cleo, "revoked", PAGE);
        assert!(cleo.find("#verdict").attribute("data-offline").is_some());
    }
    step("offline verdicts checked");

    step("done");
    screens.assert_no_serious();
}

#[test]
fn office_in_chromium_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn office_in_chromium_postgres() {
    scenario(Backend::Postgres);
}

//! Scan-to-verdict at the office counter, measured in the browser (docs/benchmarks.md): a
//! clerk's headless Chromium whose fake camera shows a credential's QR code scans it again and
//! again; the counter page records, for each scan, the milliseconds from the frame it captured
//! to the verdict on screen (`window.qridCounterTimings`). First online (the service's verdict),
//! then with the service stopped (the page's own verifier, from the saved trust data).
//!
//! `cargo run --release -p qrid-e2e --example office_scan -- [SCANS]` (default 50). Needs what
//! the browser tests need: chromium, chromedriver and PostgreSQL-free SQLite.

use qrid_e2e::service::{enrol, http, token, Auth, Body, World, PASSWORD};
use qrid_e2e::video::{write_y4m, Fit};
use qrid_e2e::webdriver::{chromedriver, chromium, wait_until, Driver, Session};
use qrid_e2e::CITIZEN_JSON;
use qrid_store::Backend;
use serde_json::{json, Value};
use std::time::Duration;

const PORTRAIT: &[u8] = include_bytes!("../fixtures/portrait.png");
const BOUND: Duration = Duration::from_secs(30);

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Clears the verdict N times and waits for the camera loop to show it again; returns the
/// page's timings.
fn scans(b: &Session<'_>, n: usize, offline: bool) -> Vec<f64> {
    let start = b
        .execute("return window.qridCounterTimings.length;", &[])
        .as_u64()
        .unwrap_or(0) as usize;
    for i in 0..n {
        wait_until("a verdict", BOUND, || {
            let got = b
                .execute("return window.qridCounterTimings.length;", &[])
                .as_u64()
                .unwrap_or(0) as usize;
            (got > start + i).then_some(())
        });
        let kind = b
            .find("#verdict")
            .attribute("data-kind")
            .unwrap_or_default();
        if kind.is_empty() {
            eprintln!("{:?}", b.browser_log());
        }
        assert_eq!(
            kind,
            "valid",
            "scan {i}: the verdict is {kind:?}: {}",
            b.execute(
                "return document.getElementById('verdict').outerHTML + ' | ' + document.getElementById('scan-status').textContent + ' | ' + JSON.stringify(window.qridCounterTimings);",
                &[]
            )
        );
        let was_offline = b.find("#verdict").attribute("data-offline").is_some();
        assert_eq!(was_offline, offline, "scan {i}: offline {was_offline}");
        b.find("#verdict-clear").click();
    }
    let all = b.execute("return window.qridCounterTimings;", &[]);
    let mut t: Vec<f64> = all
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    t.drain(..start);
    t
}

fn report(what: &str, mut t: Vec<f64>) {
    t.sort_by(f64::total_cmp);
    println!(
        "{what}: {} scans, p50 {:.1} ms, p95 {:.1} ms, min {:.1} ms, max {:.1} ms",
        t.len(),
        percentile(&t, 0.5),
        percentile(&t, 0.95),
        t[0],
        t[t.len() - 1]
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let w = World::new(Backend::Sqlite);
    w.create_officer("cleo", "clerk");
    let s = w.start();
    let t = token(&s, "alice");
    let citizen = enrol(&s, &t, CITIZEN_JSON);
    let photo = w.path("portrait.png");
    std::fs::write(&photo, PORTRAIT).expect("write the portrait");
    let r = http(
        "PUT",
        &format!("{}/v1/citizens/{citizen}/photo", s.url),
        Auth::Bearer(&t),
        Body::Raw("image/png", photo),
    );
    assert_eq!(r.status, 200);
    let body = json!({}).to_string();
    let cred = http(
        "POST",
        &format!("{}/v1/citizens/{citizen}/credentials", s.url),
        Auth::Bearer(&t),
        Body::Json(&body),
    )
    .json();
    let payload = cred["payload"].as_str().expect("a payload");
    let png = qrid_qr::Symbol::encode(payload, qrid_qr::Ecc::M)
        .expect("a QR code")
        .to_png(4)
        .expect("a PNG");
    let qr = image::load_from_memory(&png).expect("the PNG").to_rgb8();
    let video = w.path("qr.y4m");
    write_y4m(&video, &qr, Fit::Sharp);

    let driver = Driver::start(&chromedriver());
    let profile = w.path("profile");
    let b = Session::new(
        &driver,
        &chromium(),
        &profile,
        &[
            "--use-fake-device-for-media-stream".into(),
            "--use-fake-ui-for-media-stream".into(),
            format!("--use-file-for-fake-video-capture={}", video.display()),
            "--window-size=1280,900".into(),
        ],
    );
    b.navigate(&format!("{}/office/sign-in", s.url));
    b.find("#username").send_keys("cleo");
    b.find("#password").send_keys(PASSWORD);
    b.find("#sign-in").click();
    b.wait_url("the home page", BOUND, |u| u.ends_with("/office/"));
    b.navigate(&format!("{}/office/counter", s.url));
    // Trust data saved and the service worker in control before the service goes away.
    wait_until("the trust data saved", BOUND, || {
        (!b.find("#trust-status").text().is_empty()).then_some(())
    });
    b.navigate(&format!("{}/office/counter", s.url));
    wait_until("the service worker", BOUND, || {
        b.execute("return !!navigator.serviceWorker.controller;", &[])
            .as_bool()
            .filter(|c| *c)
    });
    b.find("#scan-start").click();
    let online = scans(&b, n, false);

    // The service stops; the counter page, opened again, comes from the service worker and
    // verifies on its own.
    let base = s.url.clone();
    s.stop();
    b.navigate(&format!("{base}/office/counter"));
    wait_until("the offline counter", BOUND, || {
        b.try_find("#counter[data-offline='1']").map(|_| ())
    });
    b.find("#scan-start").click();
    let offline = scans(&b, n, true);
    report("online (the service's verdict)", online);
    report("offline (the page's verifier, saved lists)", offline);
}

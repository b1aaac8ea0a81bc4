//! The officials' signing desk (`/sign/`) in a real browser: headless Chromium driven through
//! chromedriver against the real `qrid serve` (SQLite).
//!
//! An official signs in with password and TOTP code, uploads two PDFs in one go (one of three
//! pages), sees the first and last pages drawn by pdf.js with the stamp's frame, moves one
//! stamp, approves the batch with one code (a wrong code first: refused, nothing signed), and
//! downloads both signed PDFs. The downloads are judged by pyHanko (intact, trusted to the
//! development CA, whole file, PAdES B-B) and poppler's pdfsig (valid, whole document); the
//! stamp rendered at 300 dpi from each is read by zbarimg and checks at the office counter.
//! The history shows both records as valid. Every screen is checked with axe-core, in
//! Vietnamese and in English.
//!
//! Needs Debian's `chromium`, `chromium-driver`, `zbar-tools`, `poppler-utils`, python3 with
//! pyHanko, and `npm ci` in crates/web for axe-core; `.ci/run` installs them all.

mod common;

use qrid_e2e::officials::{create_official, current_step, totp, OFFICIAL_PASSWORD};
use qrid_e2e::pages::Screens;
use qrid_e2e::pdf::{fetch, pdfsig, pyhanko, stamp_on_last_page};
use qrid_e2e::repo_root;
use qrid_e2e::service::{http, Auth, Body, World};
use qrid_e2e::webdriver::{chromedriver, chromium, wait_until, Driver, Session};
use qrid_store::Backend;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const VIEWPORT: (u32, u32) = (1280, 1000);
/// Bounds on a page, a script, a download (not measures: nothing here asserts a speed).
const PAGE: Duration = Duration::from_secs(30);
/// The two documents' names as uploaded: Vietnamese, with a space.
const FIRST: &str = "Quyết định 12.pdf";
const SECOND: &str = "Công văn 7.pdf";

fn vector(name: &str) -> PathBuf {
    repo_root().join("tests/vectors/pdf").join(name)
}

/// The desk rows of a table (`waiting` or `signed`), as (row id, document name).
fn rows(b: &Session, table: &str) -> Vec<(String, String)> {
    let v = b.execute(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr'))\
           .map(r => [r.id, r.querySelector('.doc-name').textContent]);",
        &[json!(table)],
    );
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r[0].as_str().unwrap_or_default().to_owned(),
                        r[1].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How many pixels of a canvas are not white: a page pdf.js drew has ink.
fn inked(b: &Session, css: &str) -> u64 {
    b.execute(
        "const c = document.querySelector(arguments[0]);\
         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;\
         let n = 0; for (let i = 0; i < d.length; i += 4) { if (d[i] < 200 || d[i+1] < 200 || d[i+2] < 200) n++; }\
         return n;",
        &[json!(css)],
    )
    .as_u64()
    .unwrap_or(0)
}

/// Files in `dir` whose download has finished.
fn downloaded(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().and_then(|e| e.to_str()) == Some("pdf")
                        && std::fs::metadata(p).is_ok_and(|m| m.len() > 0)
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn an_official_signs_a_batch_of_pdfs_in_chromium() {
    let t0 = Instant::now();
    let step = |what: &str| eprintln!("[{:>6.1} s] {what}", t0.elapsed().as_secs_f64());
    let chromium = chromium();
    let chromedriver = chromedriver();
    let mut screens = Screens::new("sign");

    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let lan = create_official(&w, &s, "lan.tran", "Trần Thị Lan");
    // The documents, under the names an official's computer gives them.
    let uploads = tempfile::tempdir().expect("a directory");
    let first = uploads.path().join(FIRST);
    let second = uploads.path().join(SECOND);
    std::fs::copy(vector("three-pages.pdf"), &first).expect("copy");
    std::fs::copy(vector("simple.pdf"), &second).expect("copy");
    let downloads = tempfile::tempdir().expect("a download directory");
    step("service started, official created");

    let driver = Driver::start(&chromedriver);
    let profile = tempfile::tempdir().expect("a profile directory");
    let b = qrid_e2e::pages::browser(&driver, &chromium, profile.path(), None, VIEWPORT, PAGE);
    b.call(
        "POST",
        "/goog/cdp/execute",
        Some(json!({
            "cmd": "Browser.setDownloadBehavior",
            "params": {"behavior": "allow", "downloadPath": downloads.path().to_string_lossy()},
        })),
    );

    // 1. Sign in: the desk sends a stranger to its sign-in page.
    b.navigate(&format!("{}/sign/", s.url));
    b.wait_url("the desk's sign-in", PAGE, |u| {
        u.starts_with(&format!("{}/sign/sign-in", s.url))
    });
    b.wait_displayed("#code", PAGE);
    screens.check(&b, "desk sign-in", "sign-sign-in.png");
    let step0 = current_step();
    b.find("#username").send_keys("lan.tran");
    b.find("#password").send_keys(OFFICIAL_PASSWORD);
    b.find("#code").send_keys(&totp(&lan.secret, step0));
    b.find("#sign-in").click();
    let desk = format!("{}/sign/", s.url);
    b.wait_url("the desk after sign-in", PAGE, |u| u == desk);
    assert_eq!(b.wait_for("#who", PAGE).text(), "Trần Thị Lan");
    screens.check(&b, "desk (empty)", "sign-desk-empty.png");
    step("signed in");

    // 2. Upload both in one go.
    let files = format!("{}\n{}", first.display(), second.display());
    b.find("#files").send_keys(&files);
    b.find("#upload-button").click();
    wait_until("two documents waiting", PAGE, || {
        (rows(&b, "waiting").len() == 2).then_some(())
    });
    let waiting = rows(&b, "waiting");
    let names: Vec<&str> = waiting.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, [FIRST, SECOND], "{waiting:?}");
    screens.check(&b, "desk (two waiting)", "sign-desk-waiting.png");
    step("two PDFs uploaded");

    // 3. The first document's preview: pages drawn by pdf.js, the stamp's frame on the last
    // page. Move its stamp to the bottom left.
    let first_id = waiting[0].0.trim_start_matches("doc-").to_owned();
    b.find(&format!("#doc-{first_id} .preview-link")).click();
    b.wait_url("the preview", PAGE, |u| u.contains(&first_id));
    let state = wait_until("pdf.js to draw the pages", PAGE, || {
        let st = b.find("#preview").attribute("data-state")?;
        Some(st)
    });
    assert_eq!(state, "drawn", "{:?}", b.browser_log());
    assert!(inked(&b, "#first-page") > 500, "the first page has no ink");
    assert!(inked(&b, "#last-page") > 500, "the last page has no ink");
    // In-browser timings for docs/benchmarks.md (printed, never asserted): pdf.js drawing the
    // two pages, beside the page's own load in the same browser.
    let rendered = b.find("#preview").attribute("data-rendered-ms");
    let loaded = b.execute(
        "const n = performance.getEntriesByType('navigation')[0];\
         return Math.round(n.domContentLoadedEventEnd);",
        &[],
    );
    eprintln!(
        "timing: preview page DOMContentLoaded {loaded} ms; pdf.js drew both pages in {} ms",
        rendered.unwrap_or_default()
    );
    // The frame sits bottom right by default; typing a place moves it.
    let frame = |b: &Session| {
        let v = b.execute(
            "const f = document.getElementById('stamp-box').getBoundingClientRect();\
             const c = document.getElementById('last-page').getBoundingClientRect();\
             return [f.left - c.left, c.bottom - f.bottom, c.right - f.right];",
            &[],
        );
        (
            v[0].as_f64().unwrap_or(-1.0),
            v[1].as_f64().unwrap_or(-1.0),
            v[2].as_f64().unwrap_or(-1.0),
        )
    };
    let (left, bottom, right) = frame(&b);
    assert!(
        right < left && bottom < 40.0,
        "bottom right: {left} {bottom} {right}"
    );
    screens.check(&b, "preview", "sign-preview.png");
    b.find("#x").clear();
    b.find("#x").send_keys("0");
    b.find("#y").clear();
    b.find("#y").send_keys("0");
    let (left, _, right) = frame(&b);
    assert!(left < right, "moved left: {left} {right}");
    b.find("#place-save").click();
    b.wait_url("back at the desk", PAGE, |u| u == desk);
    let place = b.find(&format!("#doc-{first_id}")).text();
    assert!(place.contains("0‰"), "{place}");
    step("preview drawn, stamp moved");

    // 4. Approve with one code: a wrong one first signs nothing.
    let good = totp(&lan.secret, step0 + 1);
    let wrong = format!("{:06}", (good.parse::<u32>().unwrap_or(0) + 1) % 1_000_000);
    b.find("#approve-code").send_keys(&wrong);
    b.find("#approve-button").click();
    let message = b.wait_for("#message", PAGE).text();
    assert!(message.contains("totp_invalid"), "{message}");
    b.navigate(&desk);
    assert_eq!(rows(&b, "waiting").len(), 2, "nothing signed");
    b.find("#approve-code").send_keys(&good);
    b.find("#approve-button").click();
    wait_until("both signed", PAGE, || {
        (rows(&b, "signed").len() == 2).then_some(())
    });
    assert!(b.try_find("#waiting").is_none(), "nothing left waiting");
    let notice = b.find("#notice-1").text();
    assert!(notice.contains('2'), "{notice}");
    screens.check(&b, "desk (signed)", "sign-desk-signed.png");
    step("batch approved with one code");

    // 5. Download both, as the official would.
    for link in b.find_all("#signed .download") {
        link.click();
    }
    let files = wait_until("two downloads", PAGE, || {
        let d = downloaded(downloads.path());
        (d.len() == 2).then_some(d)
    });
    step("both downloaded");

    // 6. Independent judges of the downloads, and the counter.
    let ca = w.path("ca.pem");
    let crl = w.path("crl.der");
    fetch(&format!("{}/v1/pki/ca.pem", s.url), &ca);
    fetch(&format!("{}/v1/pki/crl", s.url), &crl);
    let office = common::office::browser();
    let csrf = common::office::sign_in(&office, &s, "alice");
    for (i, file) in files.iter().enumerate() {
        let (code, v) = pyhanko(file, &ca, &crl);
        assert_eq!(code, 0, "{}: {v}", file.display());
        let sig = &v["signatures"][0];
        assert_eq!(sig["intact"], true, "{v}");
        assert_eq!(sig["trusted"], true, "{v}");
        assert_eq!(sig["coverage"], "ENTIRE_FILE", "{v}");
        assert_eq!(sig["pades_level"], "B-B", "{v}");
        let report = pdfsig(file);
        assert!(report.contains("Signature is Valid."), "{report}");
        assert!(report.contains("Total document signed"), "{report}");
        let stamp = stamp_on_last_page(file, &w.path(&format!("stamp-{i}")));
        let verdict = common::office::check(&office, &s, &csrf, &stamp);
        assert_eq!(verdict["kind"], "stamp", "{verdict}");
        assert_eq!(verdict["valid"], true, "{verdict}");
        assert_eq!(verdict["stamp"]["signer"], "Trần Thị Lan", "{verdict}");
        let id = verdict["stamp"]["signature_id"]
            .as_str()
            .unwrap_or_default();
        let record = http(
            "GET",
            &format!("{}/v1/signatures/{id}", s.url),
            Auth::None,
            Body::None,
        )
        .json();
        assert_eq!(record["format"], "pades", "{record}");
        assert!(
            [FIRST, SECOND].contains(&record["document"]["name"].as_str().unwrap_or_default()),
            "{record}"
        );
    }
    step("pyHanko, pdfsig and the counter accept both");

    // 7. The history, in English too.
    b.find("header nav a[href=\"/sign/history\"]").click();
    b.wait_url("the history", PAGE, |u| u.ends_with("/sign/history"));
    let history = b.find("#history").text();
    assert!(
        history.contains(FIRST) && history.contains(SECOND),
        "{history}"
    );
    assert_eq!(b.find_all("#history tbody tr").len(), 2);
    assert!(history.contains("Còn hiệu lực"), "{history}");
    screens.check(&b, "history", "sign-history.png");
    b.find("header .lang a").click();
    wait_until("the English history", PAGE, || {
        b.find("#history").text().contains("Valid").then_some(())
    });
    assert_eq!(b.find("h1").text(), "Documents signed");
    screens.check(&b, "history (English)", "sign-history-en.png");
    b.navigate(&desk);
    assert_eq!(b.find("h1").text(), "Signing desk");
    screens.check(&b, "desk (English)", "sign-desk-en.png");
    step("history checked");

    screens.assert_no_serious();
}

//! The office over HTTP, as a browser speaks it (cookies, forms, multipart uploads, the
//! counter's JSON calls), against the real `qrid serve` on SQLite and on PostgreSQL: staff
//! sign in, enrol with a photo, find, issue, replace, print, change status, and check at the
//! counter with the face; and every refusal the office must make, each on its own.
//! tests/tests/office_browser.rs drives the same screens in Chromium.

mod common;

use common::execute;
use common::office::{browser, check, counter, input_value, sign_in, text};
use qrid_e2e::service::{Auth, Body, Service, World, PASSWORD};
use qrid_store::Backend;
use reqwest::blocking::{multipart, Client, Response};
use serde_json::Value;

/// The public-domain portrait of tests/fixtures (see its README).
const PORTRAIT: &[u8] = include_bytes!("../fixtures/portrait.png");

fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn enrol_form(csrf: &str, id_number: &str, name: &str, photo: Option<Vec<u8>>) -> multipart::Form {
    let mut f = multipart::Form::new()
        .text("csrf", csrf.to_owned())
        .text("id_number", id_number.to_owned())
        .text("full_name", name.to_owned())
        .text("date_of_birth", "1990-01-15")
        .text("sex", "F")
        .text("nationality", "VN")
        .text("place_of_origin", "Xã Đông Hội, Huyện Đông Anh, Hà Nội")
        .text("place_of_residence", "");
    if let Some(p) = photo {
        f = f.part(
            "photo",
            multipart::Part::bytes(p)
                .file_name("photo.png")
                .mime_str("image/png")
                .expect("a MIME type"),
        );
    }
    f
}

/// Enrols through the form; returns the citizen's id.
fn enrol(b: &Client, s: &Service, csrf: &str, id_number: &str, name: &str) -> String {
    let r = b
        .post(format!("{}/office/enrol", s.url))
        .multipart(enrol_form(csrf, id_number, name, Some(PORTRAIT.to_vec())))
        .send()
        .expect("POST enrol");
    let to = location(&r);
    assert_eq!(r.status().as_u16(), 303, "{:?}", r.text());
    to.trim_start_matches("/office/citizens/")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Issues through the citizen page's form (optionally replacing `replaces`); returns the new
/// credential's id.
fn issue(b: &Client, s: &Service, csrf: &str, citizen: &str, replaces: &str) -> String {
    let before = credential_ids(b, s, citizen);
    let r = b
        .post(format!("{}/office/citizens/{citizen}/issue", s.url))
        .form(&[
            ("csrf", csrf),
            ("valid_days", "365"),
            ("replaces", replaces),
        ])
        .send()
        .expect("POST issue");
    assert_eq!(r.status().as_u16(), 303, "{:?}", r.text());
    let after = credential_ids(b, s, citizen);
    let new: Vec<_> = after.iter().filter(|i| !before.contains(i)).collect();
    assert_eq!(new.len(), 1, "{before:?} → {after:?}");
    new[0].clone()
}

fn credential_ids(b: &Client, s: &Service, citizen: &str) -> Vec<String> {
    let (status, page) = text(
        b.get(format!("{}/office/citizens/{citizen}", s.url))
            .send()
            .expect("GET citizen"),
    );
    assert_eq!(status, 200, "{page}");
    page.match_indices("id=\"credential-")
        .map(|(i, m)| page[i + m.len()..i + m.len() + 16].to_owned())
        .collect()
}

/// The stored payload of a credential, through the officers' API.
fn payload(s: &Service, credential: &str) -> String {
    let t = qrid_e2e::service::token(s, "alice");
    let r = qrid_e2e::service::http(
        "GET",
        &format!("{}/v1/credentials/{credential}", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(r.status, 200);
    r.json()["payload"].as_str().expect("a payload").to_owned()
}

/// A decompression bomb: a PNG of `w`×`h` gray pixels whose pixel data is a few KiB of zlib
/// that inflates to zeros (a decoder that believed the header would allocate w×h bytes).
fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    use std::io::Write;
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(
            &u32::try_from(data.len())
                .expect("a small chunk")
                .to_be_bytes(),
        );
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0u8; 16 << 20]).expect("writes to a Vec");
    chunk(&mut png, b"IDAT", &z.finish().expect("writes to a Vec"));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn office_flow(backend: Backend) {
    let w = World::new(backend);
    w.create_officer("cleo", "clerk");
    let s = w.start();
    let b = browser();

    // Not signed in: the sign-in page, saying where to come back to.
    let r = b.get(format!("{}/office/", s.url)).send().expect("GET");
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/office/sign-in?next=/office/".to_owned())
    );
    for header in [
        "content-security-policy",
        "x-frame-options",
        "cache-control",
    ] {
        assert!(r.headers().contains_key(header), "no {header}");
    }

    let csrf = sign_in(&b, &s, "alice");
    let citizen = enrol(&b, &s, &csrf, "001099012345", "Nguyễn Thị Minh Khai");

    // Found by id number, and by the name typed without diacritics.
    for q in ["001099012345", "nguyen thi minh", "NGUYEN  Thi"] {
        let (status, page) = text(
            b.get(format!("{}/office/citizens", s.url))
                .query(&[("q", q)])
                .send()
                .expect("GET search"),
        );
        assert_eq!(status, 200);
        assert!(
            page.contains(&format!("/office/citizens/{citizen}")),
            "{q:?} did not find the citizen:\n{page}"
        );
    }
    let (_, none) = text(
        b.get(format!("{}/office/citizens?q=tran+van", s.url))
            .send()
            .expect("GET"),
    );
    assert!(none.contains("id=\"no-results\""), "{none}");

    // The photo is stored re-encoded, and the claims carry its digest.
    let (status, page) = text(
        b.get(format!("{}/office/citizens/{citizen}", s.url))
            .send()
            .expect("GET"),
    );
    assert_eq!(status, 200);
    assert!(page.contains("id=\"citizen-photo\""), "{page}");
    let photo = b
        .get(format!("{}/office/citizens/{citizen}/photo", s.url))
        .send()
        .expect("GET photo")
        .bytes()
        .expect("bytes");
    assert!(photo.starts_with(&[0xFF, 0xD8, 0xFF]), "not a JPEG");
    let t = qrid_e2e::service::token(&s, "alice");
    let api = qrid_e2e::service::http(
        "GET",
        &format!("{}/v1/citizens/{citizen}", s.url),
        Auth::Bearer(&t),
        Body::None,
    )
    .json();
    use sha2::Digest;
    assert_eq!(
        api["photo_sha256"].as_str(),
        Some(hex::encode(sha2::Sha256::digest(&photo)).as_str()),
        "photo_sha256 is the stored photo's digest"
    );

    // Issue, print, and check at the counter with the face.
    let first = issue(&b, &s, &csrf, &citizen, "");
    let (status, card) = text(
        b.get(format!("{}/office/credentials/{first}/card", s.url))
            .send()
            .expect("GET card"),
    );
    assert_eq!(status, 200);
    assert!(
        card.contains("<svg") && card.contains("data:image/jpeg;base64,"),
        "{card}"
    );
    let p1 = payload(&s, &first);
    let v = check(&b, &s, &csrf, &p1);
    assert_eq!(
        (v["kind"].as_str(), v["valid"].as_bool()),
        (Some("valid"), Some(true)),
        "{v}"
    );
    assert_eq!(v["face"], "file");
    assert_eq!(v["holder"]["full_name"], "Nguyễn Thị Minh Khai");
    let face = counter(&b, &s, &csrf, "face", &p1);
    assert_eq!(face.status().as_u16(), 200);
    assert_eq!(face.bytes().expect("face").as_ref(), photo.as_ref());
    // The face fetch is written before the face is sent; the check itself is queued for the
    // access record's writer, which writes within a second.
    let record = w.db.verifications_of(&first);
    assert!(
        record
            .iter()
            .any(|v| v.outcome == "face_shown" && v.client_id == "office:alice"),
        "the face fetch is on the access record: {record:?}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let record = w.db.verifications_of(&first);
        if record
            .iter()
            .any(|v| v.outcome == "valid" && v.client_id == "office:alice")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the check is not on the access record: {record:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // The photo profile: the counter shows the face from the QR itself.
    let before = credential_ids(&b, &s, &citizen);
    let r = b
        .post(format!("{}/office/citizens/{citizen}/issue", s.url))
        .form(&[
            ("csrf", csrf.as_str()),
            ("profile", "photo"),
            ("valid_days", ""),
        ])
        .send()
        .expect("POST issue");
    assert_eq!(r.status().as_u16(), 303, "{:?}", r.text());
    let with_face = credential_ids(&b, &s, &citizen)
        .into_iter()
        .find(|i| !before.contains(i))
        .expect("a new credential");
    let v = check(&b, &s, &csrf, &payload(&s, &with_face));
    assert_eq!(
        (v["kind"].as_str(), v["face"].as_str()),
        (Some("valid"), Some("qr")),
        "{v}"
    );
    assert!(v["photo"].as_str().is_some_and(|p| p.len() > 100), "{v}");

    // A replacement revokes the one it replaces, and the counter says "replaced".
    let second = issue(&b, &s, &csrf, &citizen, &first);
    let v = check(&b, &s, &csrf, &p1);
    assert_eq!(
        (v["kind"].as_str(), v["valid"].as_bool()),
        (Some("replaced"), Some(false)),
        "{v}"
    );
    // No face for a credential that does not verify.
    let r = counter(&b, &s, &csrf, "face", &p1);
    assert_eq!(r.status().as_u16(), 409);
    assert_eq!(r.json::<Value>().expect("JSON")["kind"], "not_verified");

    // Revoked from the citizen's page, with a reason.
    let r = b
        .post(format!("{}/office/credentials/{second}/status", s.url))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "revoke"),
            ("reason", "lost"),
        ])
        .send()
        .expect("POST status");
    assert_eq!(r.status().as_u16(), 303);
    let v = check(&b, &s, &csrf, &payload(&s, &second));
    assert_eq!(v["kind"], "revoked", "{v}");

    // Suspended, then reinstated, from the citizen's page: the counter follows each change.
    let pf = payload(&s, &with_face);
    for (action, kind) in [("suspend", "suspended"), ("reinstate", "valid")] {
        let r = b
            .post(format!("{}/office/credentials/{with_face}/status", s.url))
            .form(&[
                ("csrf", csrf.as_str()),
                ("action", action),
                ("reason", "hồ sơ"),
            ])
            .send()
            .expect("POST status");
        assert_eq!(r.status().as_u16(), 303, "{action}");
        assert_eq!(check(&b, &s, &csrf, &pf)["kind"], kind, "after {action}");
    }

    // A new photo: credentials issued before keep the old digest, and get no face.
    let third = issue(&b, &s, &csrf, &citizen, "");
    let mut other = image::RgbImage::from_pixel(300, 400, image::Rgb([200, 180, 160]));
    other.put_pixel(10, 10, image::Rgb([0, 0, 0]));
    let mut png = Vec::new();
    other
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a PNG");
    let file = w.path("other.png");
    std::fs::write(&file, &png).expect("write the photo");
    let r = qrid_e2e::service::http(
        "PUT",
        &format!("{}/v1/citizens/{citizen}/photo", s.url),
        Auth::Bearer(&t),
        Body::Raw("image/png", file),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let p3 = payload(&s, &third);
    assert_eq!(check(&b, &s, &csrf, &p3)["face"], "none");
    let r = counter(&b, &s, &csrf, "face", &p3);
    assert_eq!(r.status().as_u16(), 409);
    assert_eq!(r.json::<Value>().expect("JSON")["kind"], "photo_mismatch");

    // A login request is named, not verified.
    let v = check(&b, &s, &csrf, "QL1:6BFOXN*TS0BI$ZD4N9");
    assert_eq!(v["kind"], "login_request");

    // The API finds the citizen by id number.
    let r = qrid_e2e::service::http(
        "GET",
        &format!("{}/v1/citizens?id_number=001099012345", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(r.json()["citizens"][0]["id"], citizen.as_str());

    // Sign-out ends the session on every node: a second node on the same database takes the
    // session's cookie, and refuses it once the first node has signed it out.
    let s2 = w.start();
    let raw = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let (_, page) = text(
        raw.get(format!("{}/office/sign-in", s.url))
            .send()
            .expect("GET"),
    );
    let pre = input_value(&page, "pre");
    let r = raw
        .post(format!("{}/office/sign-in", s.url))
        .header("cookie", format!("qrid_pre={pre}"))
        .form(&[("username", "alice"), ("password", PASSWORD), ("pre", &pre)])
        .send()
        .expect("POST sign-in");
    assert_eq!(r.status().as_u16(), 303);
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("qrid_office="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let home = |node: &Service| {
        let r = raw
            .get(format!("{}/office/", node.url))
            .header("cookie", format!("qrid_office={session}"))
            .send()
            .expect("GET");
        (r.status().as_u16(), text(r).1)
    };
    let (status, page) = home(&s2);
    assert_eq!(status, 200, "the second node does not know the session");
    let csrf2 = input_value(&page, "csrf");
    let r = raw
        .post(format!("{}/office/sign-out", s.url))
        .header("cookie", format!("qrid_office={session}"))
        .form(&[("csrf", csrf2.as_str())])
        .send()
        .expect("POST sign-out");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        home(&s2).0,
        303,
        "the second node still takes a signed-out session"
    );
    assert_eq!(home(&s).0, 303);
    drop(s2);
    drop(s);
}

#[test]
fn office_flow_sqlite() {
    office_flow(Backend::Sqlite);
}

#[test]
fn office_flow_postgres() {
    office_flow(Backend::Postgres);
}

/// Each refusal the office makes, on its own.
#[test]
fn office_refusals() {
    let w = World::new(Backend::Sqlite);
    w.create_officer("cleo", "clerk");
    let s = w.start();

    // A wrong password: the sign-in page again, 401, with the sentence.
    let b = browser();
    let (_, page) = text(
        b.get(format!("{}/office/sign-in", s.url))
            .send()
            .expect("GET"),
    );
    let pre = input_value(&page, "pre");
    let (status, page) = text(
        b.post(format!("{}/office/sign-in", s.url))
            .form(&[("username", "alice"), ("password", "wrong"), ("pre", &pre)])
            .send()
            .expect("POST"),
    );
    assert_eq!(status, 401);
    assert!(
        page.contains("id=\"error\"") && page.contains("Sai tên đăng nhập"),
        "{page}"
    );
    // The sign-in form without its double-submit token.
    let (status, _) = text(
        browser()
            .post(format!("{}/office/sign-in", s.url))
            .form(&[("username", "alice"), ("password", PASSWORD), ("pre", &pre)])
            .send()
            .expect("POST"),
    );
    assert_eq!(status, 403);

    // A clerk opening enrolment: the 403 page, and a posted enrolment is refused too.
    let clerk = browser();
    let clerk_csrf = sign_in(&clerk, &s, "cleo");
    let (status, page) = text(
        clerk
            .get(format!("{}/office/enrol", s.url))
            .send()
            .expect("GET"),
    );
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("Không có quyền"), "{page}");
    let r = clerk
        .post(format!("{}/office/enrol", s.url))
        .multipart(enrol_form(&clerk_csrf, "001099000001", "Lê Văn Tám", None))
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(w.db.census().citizens, 0);
    // …but the counter is theirs.
    assert_eq!(
        clerk
            .get(format!("{}/office/counter", s.url))
            .send()
            .expect("GET")
            .status()
            .as_u16(),
        200
    );

    // A form posted without its anti-forgery token, or with another session's.
    let b = browser();
    let csrf = sign_in(&b, &s, "alice");
    for token in ["", clerk_csrf.as_str()] {
        let (status, page) = text(
            b.post(format!("{}/office/enrol", s.url))
                .multipart(enrol_form(token, "001099000002", "Lê Văn Tám", None))
                .send()
                .expect("POST"),
        );
        assert_eq!(status, 403, "{page}");
        assert!(page.contains("Biểu mẫu không hợp lệ"), "{page}");
    }
    let r = counter(&b, &s, "nope", "check", "x");
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(w.db.census().citizens, 0);

    // Every field's problem at once.
    let (status, page) = text(
        b.post(format!("{}/office/enrol", s.url))
            .multipart(
                multipart::Form::new()
                    .text("csrf", csrf.clone())
                    .text("id_number", "12")
                    .text("full_name", "")
                    .text("date_of_birth", "1990-02-30")
                    .text("sex", "Q"),
            )
            .send()
            .expect("POST"),
    );
    assert_eq!(status, 422);
    assert!(page.matches("<li>").count() >= 4, "{page}");

    // Photos: not an image, too many pixels, a decompression bomb; nothing is enrolled.
    let bomb = png_bomb(50_000, 50_000);
    let huge_jpeg = qrid_qr::hostile::ycbcr_jpeg(6_000, 5_000, false, |_, _| 0);
    for (photo, expect) in [
        (b"GIF89a not a photo".to_vec(), "PNG or JPEG"),
        (huge_jpeg, "too large"),
        (bomb, "too large"),
    ] {
        let (status, page) = text(
            b.post(format!("{}/office/enrol", s.url))
                .multipart(enrol_form(&csrf, "001099000003", "Lê Văn Tám", Some(photo)))
                .send()
                .expect("POST"),
        );
        assert_eq!(status, 422, "{page}");
        assert!(page.contains(expect), "{expect:?} not in {page}");
    }
    assert_eq!(w.db.census().citizens, 0);

    // An expired session and an idle one: back to sign-in, saying why.
    for (sql, why) in [
        ("UPDATE web_sessions SET expires_at = 0", "why=expired"),
        (
            "UPDATE web_sessions SET last_seen = last_seen - 7200",
            "why=idle",
        ),
    ] {
        let b = browser();
        sign_in(&b, &s, "alice");
        execute(&w.db.url(), sql);
        let r = b
            .get(format!("{}/office/citizens", s.url))
            .send()
            .expect("GET");
        assert_eq!(r.status().as_u16(), 303);
        assert!(location(&r).contains(why), "{}", location(&r));
        let (_, page) = text(
            b.get(format!("{}{}", s.url, location(&r)))
                .send()
                .expect("GET"),
        );
        assert!(page.contains("id=\"notice\""), "{page}");
    }
}

//! The photo profile end to end: a citizen's face photo uploaded to the real `qrid serve`, a
//! credential issued with the face in the QR (Claim 169 keys 16 and 17), the QR's size beside
//! the digest-only profile's, and the photo read back by independent code: MOSIP's `claim169`
//! package decodes the credential and gives the same bytes and format, and Pillow opens them.
//! Without python3, `claim169` and Pillow the test fails (`.ci/run` installs them).

use base64::Engine;
use qrid_e2e::service::{enrol, http, token, Auth, Body, World};
use qrid_e2e::CITIZEN_JSON;
use qrid_store::Backend;
use serde_json::{json, Value};
use std::process::Command;

const PORTRAIT: &[u8] = include_bytes!("../fixtures/portrait.png");

const DECODE: &str = r#"
import sys, json, io, claim169
from PIL import Image
qr, pk = sys.argv[1], bytes.fromhex(sys.argv[2])
r = claim169.decode_with_ed25519(qr, pk, validate_timestamps=False)
c = r.claim169
photo = bytes(c.photo)
img = Image.open(io.BytesIO(photo))
img.load()
print(json.dumps({
    "status": r.verification_status, "full_name": c.full_name,
    "photo_hex": photo.hex(), "photo_format": int(c.photo_format),
    "pillow_format": img.format, "pillow_size": list(img.size), "pillow_mode": img.mode,
}))
"#;

fn issue(s: &qrid_e2e::service::Service, t: &str, citizen: &str, profile: &str) -> Value {
    let body = json!({ "profile": profile }).to_string();
    let r = http(
        "POST",
        &format!("{}/v1/citizens/{citizen}/credentials", s.url),
        Auth::Bearer(t),
        Body::Json(&body),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

#[test]
fn the_face_travels_in_the_qr_and_mosip_and_pillow_read_it() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let t = token(&s, "alice");
    // Full claims, Vietnamese with diacritics (the largest case of docs/credential-format.md).
    let citizen = enrol(&s, &t, CITIZEN_JSON);
    let file = w.path("portrait.png");
    std::fs::write(&file, PORTRAIT).expect("write the portrait");
    let r = http(
        "PUT",
        &format!("{}/v1/citizens/{citizen}/photo", s.url),
        Auth::Bearer(&t),
        Body::Raw("image/png", file),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));

    let digest = issue(&s, &t, &citizen, "digest");
    let photo = issue(&s, &t, &citizen, "photo");
    let version = |v: &Value| {
        let p = v["payload"].as_str().expect("a payload");
        (
            p.len(),
            qrid_qr::Symbol::encode(p, qrid_qr::Ecc::M)
                .expect("a QR code")
                .version(),
        )
    };
    let (d_chars, d_version) = version(&digest);
    let (p_chars, p_version) = version(&photo);
    println!(
        "full claims, ECC M: digest-only {d_chars} chars, version {d_version}; \
         photo profile {p_chars} chars, version {p_version}"
    );
    assert!(
        p_version <= 25,
        "the photo profile needs version {p_version} (target ≤ 25)"
    );
    assert!(d_version < p_version);

    // The service's own verifier names the photo.
    let payload = photo["payload"].as_str().expect("a payload");
    let body = json!({ "payload": payload }).to_string();
    let v = http(
        "POST",
        &format!("{}/v1/verify", s.url),
        w.client(),
        Body::Json(&body),
    )
    .json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["claims"]["photo_format"], "image/jpeg", "{v}");
    let ours = base64::engine::general_purpose::STANDARD
        .decode(v["claims"]["photo"].as_str().expect("a photo"))
        .expect("base64");
    assert!(ours.starts_with(&[0xFF, 0xD8]), "a JPEG");

    // MOSIP's reader decodes the same bytes, and Pillow opens them as a 48×64 gray JPEG.
    let jwks = http(
        "GET",
        &format!("{}/.well-known/jwks.json", s.url),
        Auth::None,
        Body::None,
    )
    .json();
    let x = jwks["keys"][0]["x"].as_str().expect("a key");
    let pk = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(x)
        .expect("base64url");
    let out = Command::new("python3")
        .args(["-c", DECODE, payload, &hex::encode(pk)])
        .output()
        .expect("run python3 (with claim169 and Pillow: .ci/run installs them)");
    assert!(
        out.status.success(),
        "python (claim169, Pillow) failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("python printed JSON");
    println!("claim169 + Pillow: {}", {
        let mut g = got.clone();
        g["photo_hex"] = json!(format!("{} bytes", ours.len()));
        g
    });
    assert_eq!(got["status"], "verified", "{got}");
    assert_eq!(got["full_name"], "Nguyễn Thị Minh Khai");
    assert_eq!(
        got["photo_hex"],
        hex::encode(&ours),
        "claim169 read other photo bytes"
    );
    assert_eq!(got["photo_format"], 1, "JPEG is Claim 169 photo format 1");
    assert_eq!(got["pillow_format"], "JPEG");
    assert_eq!(got["pillow_size"], json!([48, 64]));
    assert_eq!(got["pillow_mode"], "L");
}

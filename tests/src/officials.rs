//! Officials as the signature tests make them: created with the CLI, their TOTP codes computed
//! here from the RFCs (independently of the service's code), signed in, and signing a file.

use crate::service::{http, http_with, Auth, Body, Resp, Service, World};
use crate::{parts, qrid, zbar_read, zbarimg};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::path::Path;

/// The password `create_official` gives every official.
pub const OFFICIAL_PASSWORD: &str = "official password 2026";

// ----- an independent TOTP (RFC 6238) and base32, written here from the RFCs -----

/// RFC 4648 base32 (upper case, no padding), as an otpauth URI carries a TOTP secret.
pub fn base32_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u64, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {s}"),
        };
        buf = (buf << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// The RFC 6238 code (SHA-1, six digits) of `secret` at time step `step`.
pub fn totp(secret: &[u8], step: u64) -> String {
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret).unwrap();
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[19] & 0xf) as usize;
    let v = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]) % 1_000_000;
    format!("{v:06}")
}

/// The current TOTP step on the real binary's clock, read without waiting: the service accepts
/// a step's code while its clock is in that step or one either side, so a test that uses this
/// step's code at once and the next step's code later has at least 30 s for it, and 60 s for
/// the later code. What needs a step to pass (a neighbouring step's code, a reused code a step
/// later) is tested in process on a manual clock: crates/server/tests/clocked.rs.
pub fn current_step() -> u64 {
    crate::login::now() as u64 / 30
}

// ----- helpers -----

/// An official made with `qrid official create`.
pub struct OfficialAccount {
    /// Username.
    pub username: String,
    /// The official's id.
    pub id: String,
    /// Their signing key's kid.
    pub kid: String,
    /// Their signer credential.
    pub signer_credential_id: String,
    /// The TOTP secret, decoded.
    pub secret: Vec<u8>,
    /// The otpauth URI the enrolment QR holds.
    pub otpauth: String,
}

/// `qrid official create` (password [`OFFICIAL_PASSWORD`]) on the world's database, with the
/// TOTP enrolment QR read back by zbarimg.
pub fn create_official(w: &World, s: &Service, username: &str, name: &str) -> OfficialAccount {
    let qr = w.path(&format!("{username}-totp.png"));
    let url = w.db.url();
    let key_dir = w.key_dir.to_string_lossy().into_owned();
    let qr_arg = qr.to_string_lossy().into_owned();
    let out = qrid(
        &[
            "official",
            "create",
            "--username",
            username,
            "--full-name",
            name,
            "--title",
            "Chủ tịch Ủy ban nhân dân",
            "--agency",
            "UBND xã Đông Hội",
            "--database-url",
            &url,
            "--key-dir",
            &key_dir,
            "--public-url",
            &s.url,
            "--totp-qr",
            &qr_arg,
        ],
        Some(format!("{OFFICIAL_PASSWORD}\n").as_bytes()),
    );
    let (code, stdout, stderr) = parts(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains(OFFICIAL_PASSWORD), "password echoed");
    let j: Value = serde_json::from_str(stdout.trim()).expect("official create prints JSON");
    let otpauth = j["otpauth_uri"].as_str().unwrap().to_owned();
    assert!(
        otpauth.starts_with(&format!("otpauth://totp/qrid%20VN:{username}?secret=")),
        "{otpauth}"
    );
    // The enrolment QR holds exactly the URI, as an authenticator app would read it.
    assert_eq!(zbar_read(&zbarimg(), &qr), otpauth);
    let secret_b32 = otpauth
        .split("secret=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .unwrap();
    OfficialAccount {
        username: username.into(),
        id: j["official_id"].as_str().unwrap().into(),
        kid: j["kid"].as_str().unwrap().into(),
        signer_credential_id: j["signer_credential_id"].as_str().unwrap().into(),
        secret: base32_decode(secret_b32),
        otpauth,
    }
}

/// `POST /v1/officials/token` with the password and a TOTP code.
pub fn sign_in(s: &Service, o: &OfficialAccount, code: &str) -> Resp {
    let body = json!({"username": o.username, "password": OFFICIAL_PASSWORD, "totp": code});
    http(
        "POST",
        &format!("{}/v1/officials/token", s.url),
        Auth::None,
        Body::Json(&body.to_string()),
    )
}

/// The bearer token of a successful sign-in.
pub fn bearer(r: &Resp) -> String {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["access_token"].as_str().unwrap().to_owned()
}

/// `POST /v1/signatures` with a file, as multipart.
pub fn sign_file(s: &Service, t: &str, file: &Path, mime: &str, headers: &[(&str, &str)]) -> Resp {
    http_with(
        "POST",
        &format!("{}/v1/signatures", s.url),
        Auth::Bearer(t),
        Body::Form(vec![format!("document=@{};type={mime}", file.display())]),
        headers,
    )
}

//! E-signatures end to end (docs/signature-format.md, docs/api.md): an official created with
//! the CLI enrols TOTP, signs a PDF over HTTP; the signature is verified offline with the CLI,
//! online at the endpoint, and by an independent JOSE library; revocation refuses new
//! signatures while earlier ones stay valid; a citizen signs with the wallet. Real `qrid
//! serve`, real databases (SQLite and PostgreSQL), curl, zbarimg, Python's authlib.

mod common;

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use qrid_e2e::officials::{
    base32_decode, bearer, create_official, current_step, sign_file, sign_in, totp,
    OfficialAccount, OFFICIAL_PASSWORD,
};
use qrid_e2e::service::{
    announce, enrol, http, http_with, issue_bound, metric, simultaneous_posts, token, Auth, Body,
    Resp, Service, World,
};
use qrid_e2e::{parts, qrid, repo_root, zbar_read, zbarimg};
use qrid_store::Backend;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn verify_endpoint(w: &World, s: &Service, jws: &str, digest: &str) -> Resp {
    let body = json!({"signature": jws, "digest": digest}).to_string();
    http(
        "POST",
        &format!("{}/v1/signatures/verify", s.url),
        w.client(),
        Body::Json(&body),
    )
}

/// A small but well-formed PDF: a page with one line of text.
fn pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn fetch(url: &str, to: &Path) {
    let r = http("GET", url, Auth::None, Body::None);
    assert_eq!(
        r.status,
        200,
        "GET {url}: {}",
        String::from_utf8_lossy(&r.body)
    );
    std::fs::write(to, &r.body).unwrap();
}

/// `qrid verify-signature --trust JWKS [--status LIST] FILE SIG`: (exit code, verdict).
fn verify_offline(w: &World, status: Option<&Path>, file: &Path, sig: &Path) -> (i32, Value) {
    let trust = w.path("jwks.json").to_string_lossy().into_owned();
    let mut args = vec!["verify-signature".to_owned(), "--trust".into(), trust];
    if let Some(st) = status {
        args.push("--status".into());
        args.push(st.to_string_lossy().into_owned());
    }
    args.push(file.to_string_lossy().into_owned());
    args.push(sig.to_string_lossy().into_owned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = parts(&qrid(&refs, None));
    let v: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("verify-signature printed no JSON ({e}): {out} {err}"));
    (code, v)
}

/// An independent JOSE implementation (Python's authlib) verifies the compact JWS with the
/// signer's JWK; returns what it saw.
fn authlib_verify(jws: &str, jwk: &Value) -> Value {
    let script = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
from authlib.jose import JsonWebSignature, OKPKey
jws, jwk = sys.argv[1], json.loads(sys.argv[2])
key = OKPKey.import_key(jwk)
out = {}
# A verifier that understands the critical JAdES parameters accepts the signature ...
s = JsonWebSignature(algorithms=["EdDSA"], private_headers={"sigT", "sigD", "qsc", "qsid"})
obj = s.deserialize_compact(jws, key)
out["header"] = dict(obj.header)
out["payload"] = obj.payload.decode()
# ... and one byte changed anywhere in the header is refused.
h, p, sig = jws.split(".")
raw = bytearray(__import__("base64").urlsafe_b64decode(h + "=" * (-len(h) % 4)))
raw[-3] ^= 1
bad = __import__("base64").urlsafe_b64encode(bytes(raw)).decode().rstrip("=") + "." + p + "." + sig
try:
    s.deserialize_compact(bad, key)
    out["edited"] = "accepted"
except Exception as e:
    out["edited"] = type(e).__name__
print(json.dumps(out))
"#;
    let o = Command::new("python3")
        .args(["-c", script, jws, &jwk.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        o.status.success(),
        "authlib refused the signature (python3 -m pip install authlib): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Opens a sealed secret with the development KEK, independently of the service's code, from
/// the layout docs/signature-format.md gives: version ‖ KEK id (8) ‖ nonce (12) ‖ ciphertext.
fn unseal(sealed: &[u8], purpose: &str, username: &str, kid: &str) -> Vec<u8> {
    let kek_hex = std::fs::read_to_string(repo_root().join("keys-dev/kek.key")).unwrap();
    let kek = hex::decode(kek_hex.trim()).unwrap();
    let cipher = chacha20poly1305::ChaCha20Poly1305::new_from_slice(&kek).unwrap();
    let aad = format!("{purpose}\0{username}\0{kid}");
    cipher
        .decrypt(
            chacha20poly1305::Nonce::from_slice(&sealed[9..21]),
            Payload {
                msg: &sealed[21..],
                aad: aad.as_bytes(),
            },
        )
        .expect("the sealed secret opens with the development KEK")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every spelling a leaked secret could take in a dump: raw, hex (both cases), base64 (all
/// alphabets, padded or not), base32.
fn spellings(secret: &[u8]) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
    vec![
        secret.to_vec(),
        hex::encode(secret).into_bytes(),
        hex::encode_upper(secret).into_bytes(),
        STANDARD.encode(secret).into_bytes(),
        STANDARD_NO_PAD.encode(secret).into_bytes(),
        URL_SAFE.encode(secret).into_bytes(),
        B64.encode(secret).into_bytes(),
    ]
}

// ----- the official's flow, on both databases -----

fn official_flow(backend: Backend) {
    let w = World::new(backend);
    let s = w.start();
    let minh = create_official(&w, &s, "minh.nguyen", "Nguyễn Văn Minh");
    let lan = create_official(&w, &s, "lan.tran", "Trần Thị Lan");
    let step = current_step();

    // Sign-in: password and TOTP; a wrong code, then the right one, then the same one again.
    let wrong = format!(
        "{:06}",
        (totp(&minh.secret, step).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    // A refused sign-in never says which part was wrong (a wrong code answers as a wrong
    // password would).
    sign_in(&s, &minh, &wrong).problem(401, "unauthorized");
    let first = sign_in(&s, &minh, &totp(&minh.secret, step));
    let t = bearer(&first);
    assert_eq!(first.json()["official"]["id"], minh.id.as_str());
    assert_eq!(first.json()["official"]["kid"], minh.kid.as_str());
    sign_in(&s, &minh, &totp(&minh.secret, step)).problem(401, "unauthorized");
    let bad_pw = json!({"username": minh.username, "password": "not the password", "totp": totp(&minh.secret, step + 1)});
    http(
        "POST",
        &format!("{}/v1/officials/token", s.url),
        Auth::None,
        Body::Json(&bad_pw.to_string()),
    )
    .problem(401, "unauthorized");

    // A PDF, signed over HTTP in a signing session opened with a fresh code (one code per
    // step: signing with a code of its own is tested on a manual clock in
    // crates/server/tests/clocked.rs, and in the tests below).
    let doc = w.path("decision-2026-118.pdf");
    let pdf_bytes = pdf("Quyet dinh so 118/QD-UBND");
    std::fs::write(&doc, &pdf_bytes).unwrap();
    // A stolen bearer token alone signs nothing.
    sign_file(&s, &t, &doc, "application/pdf", &[]).problem(401, "sole_control_required");
    // A signing session: opened with a fresh code, good for three documents.
    let code = totp(&minh.secret, step + 1);
    let r = http_with(
        "POST",
        &format!("{}/v1/signing-sessions", s.url),
        Auth::Bearer(&t),
        Body::Json(r#"{"documents": 4, "minutes": 5}"#),
        &[("x-totp", &code)],
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let session = r.json()["session"].as_str().unwrap().to_owned();
    let r = sign_file(
        &s,
        &t,
        &doc,
        "application/pdf",
        &[("x-signing-session", &session)],
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let signed = r.json();
    let jws = signed["jws"].as_str().unwrap().to_owned();
    let sig_id = signed["id"].as_str().unwrap().to_owned();
    assert_eq!(signed["document"]["sha256"], sha256_hex(&pdf_bytes));
    assert_eq!(signed["document"]["name"], "decision-2026-118.pdf");
    assert_eq!(signed["document"]["media_type"], "application/pdf");
    assert_eq!(signed["signer"]["name"], "Nguyễn Văn Minh");
    // The same code a second time is refused, whatever it is for.
    sign_file(&s, &t, &doc, "application/pdf", &[("x-totp", &code)]).problem(401, "totp_reused");

    // Offline, with the published trust list and status list.
    let sig_path = w.path("decision-2026-118.pdf.sig");
    std::fs::write(&sig_path, format!("{jws}\n")).unwrap();
    fetch(
        &format!("{}/.well-known/jwks.json", s.url),
        &w.path("jwks.json"),
    );
    let list = w.path("list-1.cwt");
    fetch(&format!("{}/v1/status-lists/1", s.url), &list);
    let (code_off, v) = verify_offline(&w, Some(&list), &doc, &sig_path);
    assert_eq!(code_off, 0, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["signer"]["kind"], "official");
    assert_eq!(v["signer"]["name"], "Nguyễn Văn Minh");
    assert_eq!(v["signer"]["agency"], "UBND xã Đông Hội");
    assert_eq!(v["time_source"], "service");
    assert_eq!(v["document"]["matches"], true);
    assert_eq!(
        v["signer_credential"]["id"],
        minh.signer_credential_id.as_str()
    );
    assert_eq!(v["signer_credential"]["status_now"], "valid", "{v}");
    assert_eq!(v["signature_id"], sig_id.as_str());

    // One changed byte of the document.
    let mut changed = pdf_bytes.clone();
    let i = changed.len() / 2;
    changed[i] ^= 0x01;
    let doc2 = w.path("decision-2026-118-changed.pdf");
    std::fs::write(&doc2, &changed).unwrap();
    let (c2, v2) = verify_offline(&w, Some(&list), &doc2, &sig_path);
    assert_eq!(c2, 1);
    assert_eq!(v2["error"]["kind"], "digest_mismatch", "{v2}");

    // Online: by digest, and by uploading the document.
    let r = verify_endpoint(&w, &s, &jws, &sha256_hex(&pdf_bytes));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["signer"]["name"], "Nguyễn Văn Minh");
    assert_eq!(v["signer_credential"]["status_now"], "valid");
    let r = http(
        "POST",
        &format!("{}/v1/signatures/verify", s.url),
        w.client(),
        Body::Form(vec![
            format!("signature={jws}"),
            format!("document=@{};type=application/pdf", doc.display()),
        ]),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["document"]["matches"], true);
    let r = verify_endpoint(&w, &s, &jws, &sha256_hex(&changed));
    let p = r.problem(422, "digest_mismatch");
    assert_eq!(p["valid"], false);
    assert_eq!(p["signer"]["name"], "Nguyễn Văn Minh", "{p}");
    // Verification needs a registered client.
    let r = http(
        "POST",
        &format!("{}/v1/signatures/verify", s.url),
        Auth::None,
        Body::Json(&json!({"signature": jws}).to_string()),
    );
    r.problem(401, "unauthorized");

    // A header edited by one byte, and malformed signatures, are refused with 4xx.
    let parts_: Vec<&str> = jws.split('.').collect();
    let mut header = B64.decode(parts_[0]).unwrap();
    let pos = header.windows(4).position(|w| w == b"sigT").unwrap();
    header[pos + 8] = if header[pos + 8] == b'1' { b'2' } else { b'1' };
    let edited = format!("{}..{}", B64.encode(&header), parts_[2]);
    verify_endpoint(&w, &s, &edited, &sha256_hex(&pdf_bytes)).problem(422, "bad_signature");
    for bad in [
        "",
        "not a jws",
        "a.b.c",
        &format!("{}.x.{}", parts_[0], parts_[2]),
    ] {
        let r = verify_endpoint(&w, &s, bad, &sha256_hex(&pdf_bytes));
        assert_eq!(
            r.status,
            422,
            "{bad:?}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            r.json()["type"]
                .as_str()
                .unwrap()
                .ends_with("malformed_signature"),
            "{bad:?}"
        );
    }
    // Longer than any signature this service makes: refused before it is decoded.
    let r = verify_endpoint(&w, &s, &"A".repeat(20_000), &sha256_hex(&pdf_bytes));
    r.problem(422, "too_large");
    let r = http(
        "POST",
        &format!("{}/v1/signatures/verify", s.url),
        w.client(),
        Body::Json(r#"{"signature": 7}"#),
    );
    r.problem(422, "invalid_body");

    // An independent JOSE library verifies it with the signer's JWK, and honours crit.
    let seen = authlib_verify(&jws, &v["signer_jwk"]);
    assert_eq!(seen["payload"], "", "detached: the payload is empty");
    assert_eq!(seen["header"]["alg"], "EdDSA");
    assert_eq!(seen["header"]["kid"], minh.kid.as_str());
    assert_eq!(seen["header"]["crit"], json!(["sigT", "sigD"]));
    assert_eq!(
        seen["header"]["sigD"]["hashV"][0],
        B64.encode(hex::decode(sha256_hex(&pdf_bytes)).unwrap())
    );
    assert_eq!(seen["edited"], "BadSignatureError", "{seen}");

    // The record the QR stamp points to, and the stamp itself read by an independent reader.
    let rec = http(
        "GET",
        &format!("{}/v1/signatures/{sig_id}", s.url),
        Auth::None,
        Body::None,
    );
    assert_eq!(rec.status, 200);
    let rec = rec.json();
    assert_eq!(rec["jws"], jws.as_str());
    assert_eq!(rec["document"]["sha256"], sha256_hex(&pdf_bytes));
    assert_eq!(rec["signer"]["name"], "Nguyễn Văn Minh");
    let stamp_png = w.path("stamp.png");
    fetch(
        &format!("{}/v1/signatures/{sig_id}/stamp.png", s.url),
        &stamp_png,
    );
    let stamp_text = rec["stamp"].as_str().unwrap();
    assert!(stamp_text.starts_with("QS1:"));
    assert_eq!(zbar_read(&zbarimg(), &stamp_png), stamp_text);
    let jwks =
        qrid_credential::Jwks::from_json(&std::fs::read(w.path("jwks.json")).unwrap()).unwrap();
    let stamp = qrid_credential::Stamp::verify(stamp_text, &jwks).expect("the stamp verifies");
    assert_eq!(hex::encode(stamp.digest), sha256_hex(&pdf_bytes));
    assert_eq!(stamp.signature_id, sig_id);
    assert_eq!(stamp.url, format!("{}/v1/signatures/{sig_id}", s.url));
    // The office counter shows the record a printed stamp points to.
    w.create_officer("cleo", "clerk");
    let b = common::office::browser();
    let csrf = common::office::sign_in(&b, &s, "cleo");
    let v = common::office::check(&b, &s, &csrf, stamp_text);
    assert_eq!(
        (v["kind"].as_str(), v["valid"].as_bool()),
        (Some("stamp"), Some(true)),
        "{v}"
    );
    assert_eq!(v["stamp"]["signature_id"], sig_id.as_str());
    assert_eq!(v["stamp"]["signer"], "Nguyễn Văn Minh");
    assert_eq!(v["stamp"]["digest"], sha256_hex(&pdf_bytes));
    // A counter checks the printed stamp offline with the trust list alone: from the image,
    // and against the document in hand.
    let trust = w.path("jwks.json").to_string_lossy().into_owned();
    let (code, out, err) = parts(&qrid(
        &[
            "verify",
            "--trust",
            &trust,
            "--image",
            stamp_png.to_str().unwrap(),
            "--document",
            doc.to_str().unwrap(),
        ],
        None,
    ));
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["kind"], "signature_stamp", "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["signature_id"], sig_id.as_str());
    assert_eq!(v["signer"]["name"], "Nguyễn Văn Minh");
    assert_eq!(v["document"]["matches"], true);
    assert_eq!(v["document"]["sha256"], sha256_hex(&pdf_bytes));
    let other = w.path("other.pdf");
    std::fs::write(&other, pdf("Quyet dinh so 119/QD-UBND")).unwrap();
    let (code, out, _) = parts(&qrid(
        &[
            "verify",
            "--trust",
            &trust,
            "--payload",
            stamp_text,
            "--document",
            other.to_str().unwrap(),
        ],
        None,
    ));
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["error"]["kind"], "document_mismatch", "{v}");
    // A stamp whose signature does not check is refused, not shown.
    let forged = format!("{}A", stamp_text);
    let (code, out, _) = parts(&qrid(
        &["verify", "--trust", &trust, "--payload", &forged],
        None,
    ));
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["valid"], false, "{v}");
    assert!(v.get("signer").is_none(), "{v}");
    http(
        "GET",
        &format!("{}/v1/signatures/0123456789abcdef", s.url),
        Auth::None,
        Body::None,
    )
    .problem(404, "not_found");

    // The session signs two documents more.
    let by_digest = |t: &str, extra: Value, h: &[(&str, &str)]| {
        let mut body = json!({"digest": sha256_hex(b"application form"), "name": "application.txt", "media_type": "text/plain"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        http_with(
            "POST",
            &format!("{}/v1/signatures", s.url),
            Auth::Bearer(t),
            Body::Json(&body.to_string()),
            h,
        )
    };
    for left in [2, 1] {
        let r = by_digest(&t, json!({}), &[("x-signing-session", &session)]);
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.json()["session_documents_left"], left);
    }
    // A session is not a way to open another session.
    http_with(
        "POST",
        &format!("{}/v1/signing-sessions", s.url),
        Auth::Bearer(&t),
        Body::Json(r#"{"documents": 100, "minutes": 60}"#),
        &[("x-signing-session", &session)],
    )
    .problem(401, "sole_control_required");

    // Another official's key, or session, is refused.
    let lan_step = current_step();
    let lan_t = bearer(&sign_in(&s, &lan, &totp(&lan.secret, lan_step)));
    let r = http_with(
        "POST",
        &format!("{}/v1/signing-sessions", s.url),
        Auth::Bearer(&lan_t),
        Body::Json(r#"{"documents": 2, "minutes": 5}"#),
        &[("x-totp", &totp(&lan.secret, lan_step + 1))],
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let lan_session = r.json()["session"].as_str().unwrap().to_owned();
    by_digest(&t, json!({}), &[("x-signing-session", &lan_session)])
        .problem(403, "signing_session_refused");
    let r = by_digest(
        &lan_t,
        json!({"kid": minh.kid}),
        &[("x-signing-session", &lan_session)],
    );
    r.problem(403, "not_your_key");
    // An officer's token is not an official's, and an official's is not an officer's.
    let officer = token(&s, "alice");
    by_digest(&officer, json!({}), &[("x-signing-session", &lan_session)])
        .problem(401, "unauthorized");
    http(
        "GET",
        &format!("{}/v1/citizens/0123456789abcdef", s.url),
        Auth::Bearer(&lan_t),
        Body::None,
    )
    .problem(401, "unauthorized");

    // Each official lists their own signatures only.
    let mine = http(
        "GET",
        &format!("{}/v1/officials/me/signatures", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(mine.status, 200);
    let ids: Vec<String> = mine.json()["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(!ids.iter().any(|i| i.is_empty()));
    assert!(ids.contains(&sig_id));
    let theirs = http(
        "GET",
        &format!("{}/v1/officials/me/signatures", s.url),
        Auth::Bearer(&lan_t),
        Body::None,
    );
    assert_eq!(theirs.json()["signatures"], json!([]));

    // Revoking minh's signer credential refuses new signatures. (That the earlier one stays
    // valid at its signing time, with a verdict saying when the credential was revoked, needs
    // the revocation in a later second than the signing: crates/server/tests/clocked.rs moves
    // a manual clock for it. Here the whole flow may fit in one second.)
    let r = http(
        "POST",
        &format!(
            "{}/v1/credentials/{}/revoke",
            s.url, minh.signer_credential_id
        ),
        Auth::Bearer(&officer),
        Body::Json(r#"{"reason":"left office"}"#),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = sign_file(
        &s,
        &t,
        &doc,
        "application/pdf",
        &[("x-signing-session", &session)],
    );
    r.problem(403, "signer_credential_revoked");
    // Offline, a fresh status list says "revoked" but not since when: indeterminate, and the
    // verdict says to ask the issuer.
    fetch(&format!("{}/v1/status-lists/1", s.url), &list);
    let (c3, v3) = verify_offline(&w, Some(&list), &doc, &sig_path);
    assert_eq!(c3, 1);
    assert_eq!(v3["outcome"], "indeterminate", "{v3}");
    assert_eq!(v3["error"]["kind"], "revocation_time_unknown", "{v3}");
    // Lan is unaffected; then her session is used up.
    let r = by_digest(&lan_t, json!({}), &[("x-signing-session", &lan_session)]);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["session_documents_left"], 0);
    by_digest(&lan_t, json!({}), &[("x-signing-session", &lan_session)])
        .problem(403, "signing_session_refused");

    // A dump of the database holds neither key nor TOTP secret in the clear.
    let log = s.log();
    assert!(s.stop() == 0, "graceful stop");
    let dump = w.db.dump();
    for account in [&minh, &lan] {
        let row = w.db.official(&account.username);
        let key = unseal(
            &row.key_sealed,
            "qrid/official-signing-key/v1",
            &account.username,
            &account.kid,
        );
        assert_eq!(key.len(), 32);
        let public = ed25519_dalek::SigningKey::from_bytes(&key.as_slice().try_into().unwrap())
            .verifying_key();
        assert_eq!(
            public.to_bytes(),
            row.public_key,
            "the sealed key is the official's key"
        );
        let totp_secret = unseal(
            &row.totp_sealed,
            "qrid/official-totp-secret/v1",
            &account.username,
            &account.kid,
        );
        assert_eq!(totp_secret, account.secret);
        for (what, secret) in [("signing key", &key), ("TOTP secret", &totp_secret)] {
            for form in spellings(secret) {
                assert!(
                    !contains(&dump, &form),
                    "{what} of {} found in the dump",
                    account.username
                );
                assert!(
                    !contains(log.as_bytes(), &form),
                    "{what} of {} found in the log",
                    account.username
                );
            }
        }
        let b32 = account
            .otpauth
            .split("secret=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        assert!(!contains(&dump, b32.as_bytes()) && !log.contains(b32));
    }
    assert!(!log.contains(OFFICIAL_PASSWORD));
}

#[test]
fn official_signs_a_pdf_and_anyone_verifies_it_sqlite() {
    official_flow(Backend::Sqlite);
}

#[test]
fn official_signs_a_pdf_and_anyone_verifies_it_postgres() {
    official_flow(Backend::Postgres);
}

// ----- citizens, limits -----

/// A citizen's wallet (`qrid wallet init`) holding a credential bound to its key: the wallet
/// directory, the holder JWK and the issued credential.
fn citizen_wallet(w: &World, s: &Service, t: &str) -> (String, Value, Value) {
    let wallet = w.path("wallet");
    let wdir = wallet.to_string_lossy().into_owned();
    let (code, jwk, err) = parts(&qrid(&["wallet", "init", "--dir", &wdir], None));
    assert_eq!(code, 0, "{err}");
    let jwk: Value = serde_json::from_str(jwk.trim()).unwrap();
    let citizen = enrol(s, t, qrid_e2e::CITIZEN_JSON);
    let cred = issue_bound(s, t, &citizen, &jwk);
    fetch(
        &format!("{}/.well-known/jwks.json", s.url),
        &w.path("jwks.json"),
    );
    let trust = w.path("jwks.json").to_string_lossy().into_owned();
    let payload = cred["payload"].as_str().unwrap();
    let (code, _, err) = parts(&qrid(
        &[
            "wallet",
            "import",
            "--dir",
            &wdir,
            "--trust",
            &trust,
            "--payload",
            payload,
        ],
        None,
    ));
    assert_eq!(code, 0, "{err}");
    (wdir, jwk, cred)
}

#[test]
fn a_citizen_signs_an_application_with_the_wallet() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let t = token(&s, "alice");
    let (wdir, jwk, cred) = citizen_wallet(&w, &s, &t);
    let app = w.path("application-birth-certificate.pdf");
    let bytes = pdf("Don xin cap ban sao giay khai sinh");
    std::fs::write(&app, &bytes).unwrap();
    let app_arg = app.to_string_lossy().into_owned();
    let (code, _, err) = parts(&qrid(&["wallet", "sign", "--dir", &wdir, &app_arg], None));
    assert_eq!(code, 0, "{err}");
    let sig_path = PathBuf::from(format!("{app_arg}.sig"));
    let jws = std::fs::read_to_string(&sig_path)
        .unwrap()
        .trim()
        .to_owned();

    // The portal posts the application and its signature: the endpoint names the citizen.
    let r = http(
        "POST",
        &format!("{}/v1/signatures/verify", s.url),
        w.client(),
        Body::Form(vec![
            format!("signature={jws}"),
            format!("document=@{app_arg};type=application/pdf"),
        ]),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["signer"]["kind"], "citizen");
    assert_eq!(v["signer"]["name"], "Nguyễn Thị Minh Khai");
    assert_eq!(v["signer"]["claims"]["credential_id"], cred["id"]);
    assert_eq!(
        v["time_source"], "signer",
        "a wallet's signing time is its own claim"
    );
    assert_eq!(v["document"]["media_type"], "application/pdf");
    // Offline too, and with an independent JOSE library.
    let (code, off) = verify_offline(&w, None, &app, &sig_path);
    assert_eq!(code, 0, "{off}");
    assert_eq!(off["signer"]["name"], "Nguyễn Thị Minh Khai");
    let seen = authlib_verify(&jws, &v["signer_jwk"]);
    assert_eq!(seen["header"]["kid"], jwk["kid"]);
    assert_eq!(
        v["signer_jwk"]["x"], jwk["x"],
        "the signing key is the holder key"
    );

    // What a revocation does to the verdict on a wallet's signatures made before and after it
    // needs the clock to pass a second between them: crates/server/tests/clocked.rs.
}

// A signature made while the credential was suspended stays invalid once it is reinstated:
// crates/server/tests/clocked.rs, on both databases (it needs the clock to pass between the
// suspension, the signature and the reinstatement).

#[test]
fn a_sign_in_the_audit_table_cannot_record_hands_out_no_token() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let minh = create_official(&w, &s, "minh.nguyen", "Nguyễn Văn Minh");
    let step = current_step();
    let url = w.db.url();
    common::refuse_audit(&url, "official.login");
    let p = sign_in(&s, &minh, &totp(&minh.secret, step)).problem(500, "internal");
    assert!(p.get("access_token").is_none(), "{p}");
    common::allow_audit(&url);
    // That code was used up before the audit write failed; the next step's is accepted.
    bearer(&sign_in(&s, &minh, &totp(&minh.secret, step + 1)));
    assert_eq!(s.stop(), 0);
}

/// Officer logins and officials' codes are counted in separate namespaces: an officer login
/// under a username spelled like an official's lockout key (`totp:<official id>`, the id being
/// public as the `sub` of every signer credential) locks no official out.
#[test]
fn officer_logins_named_after_an_official_do_not_lock_the_official_out() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let minh = create_official(&w, &s, "minh.nguyen", "Nguyễn Văn Minh");
    for name in [
        format!("totp:{}", minh.id),
        format!("official:{}", minh.username),
    ] {
        let guess = json!({"username": name, "password": "a guess at it"}).to_string();
        for i in 0..10 {
            let r = http(
                "POST",
                &format!("{}/v1/auth/token", s.url),
                Auth::None,
                Body::Json(&guess),
            );
            if i < 4 {
                r.problem(401, "unauthorized");
            } else {
                assert!(matches!(r.status, 401 | 429), "{}", r.status);
            }
        }
    }
    // The official still signs in, and signs with a fresh code.
    let step = current_step();
    let t = bearer(&sign_in(&s, &minh, &totp(&minh.secret, step)));
    let doc = w.path("decision.pdf");
    std::fs::write(&doc, pdf("Quyet dinh so 7/QD-UBND")).unwrap();
    let r = sign_file(
        &s,
        &t,
        &doc,
        "application/pdf",
        &[("x-totp", &totp(&minh.secret, step + 1))],
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}

fn official_sign_in_as(s: &Service, username: &str, password: &str, code: &str) -> Resp {
    let body = json!({"username": username, "password": password, "totp": code});
    http(
        "POST",
        &format!("{}/v1/officials/token", s.url),
        Auth::None,
        Body::Json(&body.to_string()),
    )
}

/// A refused sign-in answers the same whichever part was wrong, so an answer never tells that
/// a password was right; and simultaneous guesses are counted before any password is checked.
#[test]
fn every_refused_official_sign_in_answers_alike_and_guesses_cannot_outrun_the_lockout() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let minh = create_official(&w, &s, "minh.nguyen", "Nguyễn Văn Minh");
    let lan = create_official(&w, &s, "lan.tran", "Trần Thị Lan");
    let step = current_step();
    let code = totp(&minh.secret, step);
    let wrong_code = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let answers = [
        (
            "right password, wrong code",
            sign_in(&s, &minh, &wrong_code),
        ),
        (
            "wrong password, right code",
            official_sign_in_as(&s, &minh.username, "not the password", &code),
        ),
        (
            "right password, malformed code",
            sign_in(&s, &minh, "12ab56"),
        ),
        (
            "unknown username",
            official_sign_in_as(&s, "nobody", OFFICIAL_PASSWORD, &code),
        ),
    ];
    // Right password and code, then the same code again: reused.
    let t = bearer(&sign_in(&s, &minh, &code));
    assert!(!t.is_empty());
    let reused = sign_in(&s, &minh, &code);
    let first = &answers[0].1;
    first.problem(401, "unauthorized");
    for (what, r) in answers
        .iter()
        .chain([("right password, reused code", reused)].iter())
    {
        assert_eq!(
            (
                r.status,
                &r.content_type,
                &r.body,
                r.header("www-authenticate")
            ),
            (
                first.status,
                &first.content_type,
                &first.body,
                first.header("www-authenticate")
            ),
            "{what}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }

    // 60 simultaneous wrong passwords for one official, then the right password and code:
    // at most five passwords are checked, and the right one is refused while locked.
    let checks_before = metric(&s, "qrid_password_checks_total");
    let guesses: Vec<String> = (0..60)
        .map(|i| {
            json!({"username": lan.username, "password": format!("guess {i}"), "totp": "000000"})
                .to_string()
        })
        .collect();
    let answers = simultaneous_posts(&s.url, "/v1/officials/token", &guesses);
    let checked = answers.iter().filter(|r| r.status == 401).count();
    assert!(
        (1..=5).contains(&checked),
        "{checked} of 60 checked (limit 5)"
    );
    for r in answers.iter().filter(|r| r.status != 401) {
        r.problem(429, "too_many_attempts");
    }
    let right = json!({"username": lan.username, "password": OFFICIAL_PASSWORD, "totp": totp(&lan.secret, step)})
        .to_string();
    simultaneous_posts(&s.url, "/v1/officials/token", &[right])[0]
        .problem(429, "too_many_attempts");
    assert_eq!(
        metric(&s, "qrid_password_checks_total") - checks_before,
        checked as u64
    );
}

#[test]
fn oversize_documents_are_refused_while_memory_stays_flat() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let minh = create_official(&w, &s, "minh.nguyen", "Nguyễn Văn Minh");
    let step = current_step();
    let t = bearer(&sign_in(&s, &minh, &totp(&minh.secret, step)));
    // One byte over 100 MiB.
    let big = w.path("big.bin");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(100 * 1024 * 1024 + 1).unwrap();
    drop(f);
    let r = http_with(
        "POST",
        &format!("{}/v1/signing-sessions", s.url),
        Auth::Bearer(&t),
        // Every request below uses one document, the refused ones too (docs/api.md).
        Body::Json(r#"{"documents": 30, "minutes": 5}"#),
        &[("x-totp", &totp(&minh.secret, step + 1))],
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let session = r.json()["session"].as_str().unwrap().to_owned();
    let h = [("x-signing-session", session.as_str())];
    // Announced and refused before a byte of it is sent (no `100 Continue`).
    let auth = format!("Bearer {t}");
    for (ctype, length, kind) in [
        (
            "multipart/form-data; boundary=b",
            101 * 1024 * 1024 + 1,
            "document_too_large",
        ),
        ("application/json", 64 * 1024 + 1, "body_too_large"),
    ] {
        let length = length.to_string();
        announce(
            &s.url,
            "POST",
            "/v1/signatures",
            &[
                ("authorization", &auth),
                ("x-signing-session", &session),
                ("content-type", ctype),
                ("content-length", &length),
            ],
        )
        .problem(413, kind);
    }
    // Sent whole, one byte over: refused as it streams.
    let r = sign_file(&s, &t, &big, "application/octet-stream", &h);
    r.problem(413, "document_too_large");
    // Exactly 100 MiB signs, streamed: the service never holds the document whole.
    let f = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
    f.set_len(100 * 1024 * 1024).unwrap();
    drop(f);
    let r = sign_file(&s, &t, &big, "application/octet-stream", &h);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    assert_eq!(j["document"]["size"], 100 * 1024 * 1024);
    let zeros = {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        let block = vec![0u8; 1 << 20];
        for _ in 0..100 {
            hasher.update(&block);
        }
        hex::encode(hasher.finalize())
    };
    assert_eq!(j["document"]["sha256"], zeros);
    // Malformed signing requests: each a 4xx problem, never a 5xx.
    for (body, status, kind) in [
        (
            r#"{"digest": "abc", "name": "x.txt"}"#,
            422,
            "invalid_digest",
        ),
        (r#"{"digest": 5}"#, 422, "invalid_body"),
        (r#"{"digest": "00""#, 400, "malformed_json"),
        (r#"{"name": "x.txt"}"#, 422, "missing_document"),
        (r#"{"digest": "00", "nme": "x"}"#, 422, "invalid_body"),
        (
            r#"{"digest": "0000000000000000000000000000000000000000000000000000000000000000", "name": "../etc/passwd"}"#,
            422,
            "invalid_document",
        ),
        (
            r#"{"digest": "0000000000000000000000000000000000000000000000000000000000000000", "name": "a.txt", "media_type": "not a type"}"#,
            422,
            "invalid_document",
        ),
    ] {
        let r = http_with(
            "POST",
            &format!("{}/v1/signatures", s.url),
            Auth::Bearer(&t),
            Body::Json(body),
            &h,
        );
        r.problem(status, kind);
    }
    for (ctype, status, kind) in [
        ("text/plain", 415, "unsupported_media_type"),
        ("application/json", 413, "body_too_large"),
    ] {
        let r = http_with(
            "POST",
            &format!("{}/v1/signatures", s.url),
            Auth::Bearer(&t),
            Body::Raw(ctype, big.clone()),
            &h,
        );
        r.problem(status, kind);
    }
    // Malformed multipart bodies (the service reads them with its own streaming reader).
    let head = |name: &str| {
        format!(
            "--b\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"a.pdf\"\r\n\r\n"
        )
    };
    let long_field = format!("{}{}\r\n--b--\r\n", head("name"), "x".repeat(33 * 1024));
    let long_headers = format!("--b\r\nX-Pad: {}\r\n\r\nx\r\n--b--\r\n", "p".repeat(9000));
    for (i, (ctype, body, detail)) in [
        ("multipart/form-data", "x".to_owned(), "boundary"),
        (
            "multipart/form-data; boundary=b",
            format!("{}%PDF-1.7 no end", head("document")),
            "ends before",
        ),
        (
            "multipart/form-data; boundary=b",
            "no boundary at all".to_owned(),
            "ends before",
        ),
        (
            "multipart/form-data; boundary=b",
            long_headers,
            "longer than",
        ),
        (
            "multipart/form-data; boundary=b",
            format!("{}x\r\n--b--\r\n", head("colour")),
            "unknown part",
        ),
        (
            "multipart/form-data; boundary=b",
            format!("{0}x\r\n{0}y\r\n--b--\r\n", head("document")),
            "one document",
        ),
        ("multipart/form-data; boundary=b", long_field, "longer than"),
        (
            "multipart/form-data; boundary=b",
            "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n".to_owned(),
            "Content-Disposition",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let path = w.path(&format!("form{i}.txt"));
        std::fs::write(&path, body).unwrap();
        let r = http_with(
            "POST",
            &format!("{}/v1/signatures", s.url),
            Auth::Bearer(&t),
            Body::Raw(ctype, path),
            &h,
        );
        let p = r.problem(400, "invalid_multipart");
        assert!(p["detail"].as_str().unwrap().contains(detail), "{i}: {p}");
    }
    assert_eq!(s.stop(), 0);
}

/// An official's TOTP is re-enrolled and the official disabled from the command line: the
/// tokens held end at once, codes of the old secret stop working, and the new secret works.
#[test]
fn an_official_is_re_enrolled_and_disabled_at_once() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let lan = create_official(&w, &s, "lan.tran", "Trần Thị Lan");
    let url = w.db.url();
    let key_dir = w.key_dir.to_string_lossy().into_owned();
    let mine = |t: &str| {
        http(
            "GET",
            &format!("{}/v1/officials/me/signatures", s.url),
            Auth::Bearer(t),
            Body::None,
        )
        .status
    };
    let step = current_step();
    let t = bearer(&sign_in(&s, &lan, &totp(&lan.secret, step)));
    assert_eq!(mine(&t), 200);

    let admin = |args: &[&str]| {
        let mut all = vec!["official"];
        all.extend_from_slice(args);
        all.extend(["--database-url", &url, "--key-dir", &key_dir]);
        let (code, out, err) = parts(&qrid(&all, None));
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    let out = admin(&["reset-totp", "lan.tran"]);
    let j: Value = serde_json::from_str(out.trim()).unwrap();
    let otpauth = j["otpauth_uri"].as_str().unwrap();
    assert_ne!(otpauth, lan.otpauth);
    let secret = base32_decode(
        otpauth
            .split("secret=")
            .nth(1)
            .and_then(|r| r.split('&').next())
            .unwrap(),
    );
    assert_eq!(
        mine(&t),
        401,
        "a token from before the re-enrolment still works"
    );
    // The replay counter was reset with the secret, so the next step is acceptable: only the
    // secret decides. The old one is refused, the new one accepted.
    sign_in(&s, &lan, &totp(&lan.secret, step + 1)).problem(401, "unauthorized");
    let renewed = OfficialAccount { secret, ..lan };
    let t2 = bearer(&sign_in(&s, &renewed, &totp(&renewed.secret, step + 1)));
    assert_eq!(mine(&t2), 200);

    // Disabled: the token ends at once.
    admin(&["disable", "lan.tran"]);
    assert_eq!(mine(&t2), 403);
    let (_, listed, _) = parts(&qrid(&["official", "list", "--database-url", &url], None));
    assert!(
        listed.contains("\"username\":\"lan.tran\"") && listed.contains("\"disabled\":true"),
        "{listed}"
    );
    assert_eq!(s.stop(), 0);
}

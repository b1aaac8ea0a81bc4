//! PDF signatures end to end (docs/signature-format.md "PDF signatures (PAdES)"): an official
//! signs PDFs over HTTP (`POST /v1/signatures/pdf`), and independent validators judge them —
//! pyHanko (Python) with the service's CA and CRL, poppler's `pdfsig` — as do the service's
//! verify endpoint and the offline CLI; the stamp on the page, rendered by pdftoppm at 300 dpi,
//! is read by zbarimg and checks; changed PDFs are reported as changed; documents that cannot
//! be signed are refused with their reason; a revoked official signs nothing new while the
//! earlier signature stays valid and the CRL lists the certificate. Real `qrid serve`.

use qrid_e2e::officials::{bearer, create_official, current_step, sign_in, totp};
use qrid_e2e::pdf::{fetch, pdfsig, pyhanko, stamp_on_last_page};
use qrid_e2e::service::{http, http_with, token, Auth, Body, Resp, Service, World};
use qrid_e2e::{parts, qrid, repo_root};
use qrid_store::Backend;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn vector(name: &str) -> PathBuf {
    repo_root().join("tests/vectors/pdf").join(name)
}

fn sign_pdf(s: &Service, t: &str, file: &Path, name: &str, headers: &[(&str, &str)]) -> Resp {
    http_with(
        "POST",
        &format!("{}/v1/signatures/pdf?name={name}", s.url),
        Auth::Bearer(t),
        Body::Raw("application/pdf", file.to_path_buf()),
        headers,
    )
}

fn verify_endpoint(w: &World, s: &Service, pdf: &Path) -> Resp {
    http(
        "POST",
        &format!("{}/v1/signatures/verify", s.url),
        w.client(),
        Body::Raw("application/pdf", pdf.to_path_buf()),
    )
}

fn verify_offline(pdf: &Path, ca: &Path, crl: &Path) -> (i32, Value) {
    let (code, out, err) = parts(&qrid(
        &[
            "verify-signature",
            "--ca",
            ca.to_str().unwrap(),
            "--crl",
            crl.to_str().unwrap(),
            pdf.to_str().unwrap(),
        ],
        None,
    ));
    let v = serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("{out}{err}"));
    (code, v)
}

#[test]
fn officials_sign_pdfs_that_independent_validators_accept() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let minh = create_official(&w, &s, "minh.nguyen", "Nguyễn Văn Minh");
    let step = current_step();
    let t = bearer(&sign_in(&s, &minh, &totp(&minh.secret, step)));
    let code = totp(&minh.secret, step + 1);
    let r = http_with(
        "POST",
        &format!("{}/v1/signing-sessions", s.url),
        Auth::Bearer(&t),
        Body::Json(r#"{"documents": 10, "minutes": 10}"#),
        &[("x-totp", &code)],
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let session = r.json()["session"].as_str().unwrap().to_owned();
    let sess = [("x-signing-session", session.as_str())];

    // Sole control: a bearer token alone, a wrong code and a used code sign nothing.
    sign_pdf(&s, &t, &vector("simple.pdf"), "a.pdf", &[]).problem(401, "sole_control_required");
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    sign_pdf(
        &s,
        &t,
        &vector("simple.pdf"),
        "a.pdf",
        &[("x-totp", &wrong)],
    )
    .problem(401, "totp_invalid");
    sign_pdf(&s, &t, &vector("simple.pdf"), "a.pdf", &[("x-totp", &code)])
        .problem(401, "totp_reused");

    // Two PDFs of different structure (a classic xref table; an xref stream with object
    // streams), signed in the session.
    let ca = w.path("ca.pem");
    let crl = w.path("crl.der");
    fetch(&format!("{}/v1/pki/ca.pem", s.url), &ca);
    let mut signed = Vec::new();
    for (i, name) in ["simple.pdf", "xref-stream.pdf"].iter().enumerate() {
        let r = sign_pdf(&s, &t, &vector(name), &format!("quyet-dinh-{i}.pdf"), &sess);
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.header("content-type").as_deref(), Some("application/pdf"));
        let id = r.header("x-signature-id").expect("the record's id");
        let original = std::fs::read(vector(name)).unwrap();
        assert!(
            r.body.starts_with(&original),
            "an incremental update keeps the original bytes"
        );
        let path = w.path(&format!("signed-{i}.pdf"));
        std::fs::write(&path, &r.body).unwrap();
        signed.push((path, id));
    }
    fetch(&format!("{}/v1/pki/crl", s.url), &crl);

    for (path, id) in &signed {
        // pyHanko: intact, valid, trusted to the CA, the whole file, PAdES B-B; the CRL checked.
        let (code, v) = pyhanko(path, &ca, &crl);
        assert_eq!(code, 0, "{v}");
        let sig = &v["signatures"][0];
        assert_eq!(sig["intact"], true, "{v}");
        assert_eq!(sig["trusted"], true, "{v}");
        assert_eq!(sig["coverage"], "ENTIRE_FILE", "{v}");
        assert_eq!(sig["pades_level"], "B-B", "{v}");
        assert!(
            sig["signer_subject"]
                .as_str()
                .unwrap()
                .contains("Nguyễn Văn Minh"),
            "{v}"
        );
        // poppler.
        let report = pdfsig(path);
        assert!(report.contains("Signature is Valid."), "{report}");
        assert!(report.contains("Total document signed"), "{report}");
        assert!(report.contains("ETSI.CAdES.detached"), "{report}");
        // The service, and the CLI offline.
        let r = verify_endpoint(&w, &s, path);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        assert_eq!(v["valid"], true, "{v}");
        assert_eq!(v["signatures"][0]["level"], "PAdES-B-B", "{v}");
        assert_eq!(v["signatures"][0]["record"]["id"], id.as_str(), "{v}");
        assert_eq!(
            v["signatures"][0]["certificate"]["status_now"], "valid",
            "{v}"
        );
        let (code, v) = verify_offline(path, &ca, &crl);
        assert_eq!(code, 0, "{v}");
        assert_eq!(
            v["signatures"][0]["signer"]["name"], "Nguyễn Văn Minh",
            "{v}"
        );
    }

    // The stamp on the last page, printed at 300 dpi, is the record's stamp, and checks.
    let (first, first_id) = &signed[0];
    let read = stamp_on_last_page(first, &w.path("page"));
    let record = http(
        "GET",
        &format!("{}/v1/signatures/{first_id}", s.url),
        Auth::None,
        Body::None,
    )
    .json();
    assert_eq!(record["format"], "pades", "{record}");
    assert_eq!(read.trim(), record["stamp"].as_str().unwrap());
    let jwks = w.path("jwks.json");
    fetch(&format!("{}/.well-known/jwks.json", s.url), &jwks);
    let (code, out, _) = parts(&qrid(
        &[
            "verify",
            "--trust",
            jwks.to_str().unwrap(),
            "--payload",
            read.trim(),
        ],
        None,
    ));
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["kind"], "signature_stamp", "{v}");
    assert_eq!(v["signature_id"], first_id.as_str(), "{v}");

    // A byte changed inside the signed range: pyHanko, pdfsig and qrid all say so.
    let mut bytes = std::fs::read(first).unwrap();
    let at = bytes
        .windows(9)
        .position(|w| w == b"Helvetica")
        .expect("the font name");
    bytes[at] = b'q';
    let changed = w.path("changed.pdf");
    std::fs::write(&changed, &bytes).unwrap();
    let (code, v) = pyhanko(&changed, &ca, &crl);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["signatures"][0]["intact"], false, "{v}");
    let report = pdfsig(&changed);
    assert!(!report.contains("Signature is Valid."), "{report}");
    verify_endpoint(&w, &s, &changed).problem(422, "digest_mismatch");
    assert_eq!(verify_offline(&changed, &ca, &crl).0, 1);
    // An unsigned revision appended after the signature.
    let mut appended = std::fs::read(first).unwrap();
    appended.extend_from_slice(b"99 0 obj\n(later)\nendobj\n");
    let appended_path = w.path("appended.pdf");
    std::fs::write(&appended_path, &appended).unwrap();
    let r = verify_endpoint(&w, &s, &appended_path);
    let v = r.problem(422, "modified_after_signing");
    assert_eq!(v["document"]["modified_after_signing"], true, "{v}");

    // Documents that cannot be signed: refused with the reason, nothing signed.
    for (file, status, kind) in [
        ("not-a-pdf.pdf", 422, "not_pdf"),
        ("truncated.pdf", 422, "malformed_pdf"),
        ("encrypted.pdf", 422, "encrypted_pdf"),
    ] {
        sign_pdf(&s, &t, &vector(file), "x.pdf", &sess).problem(status, kind);
    }
    let big = w.path("big.pdf");
    let mut huge = std::fs::read(vector("simple.pdf")).unwrap();
    huge.resize(33 << 20, b' ');
    std::fs::write(&big, &huge).unwrap();
    sign_pdf(&s, &t, &big, "big.pdf", &sess).problem(413, "pdf_too_large");
    let mine = http(
        "GET",
        &format!("{}/v1/officials/me/signatures", s.url),
        Auth::Bearer(&t),
        Body::None,
    )
    .json();
    assert_eq!(mine["signatures"].as_array().unwrap().len(), 2, "{mine}");

    // Revoked in a later second: new signatures refused, the earlier one valid at its signing
    // time, the CRL lists the certificate.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let officer = token(&s, "alice");
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
    sign_pdf(&s, &t, &vector("simple.pdf"), "late.pdf", &sess)
        .problem(403, "signer_credential_revoked");
    let r = verify_endpoint(&w, &s, first);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(
        v["signatures"][0]["certificate"]["status_now"], "revoked",
        "{v}"
    );
    assert_eq!(
        v["signatures"][0]["certificate"]["valid_at_signing"], true,
        "{v}"
    );
    let serial = v["signatures"][0]["certificate"]["serial"]
        .as_str()
        .unwrap()
        .to_owned();
    fetch(&format!("{}/v1/pki/crl", s.url), &crl);
    let out = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(&crl)
        .output()
        .expect("openssl runs");
    let text = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    assert!(text.contains(&format!("serial number: {serial}")), "{text}");
    let (code, v) = verify_offline(first, &ca, &crl);
    assert_eq!(
        code, 0,
        "revoked after signing: still valid offline with the CRL: {v}"
    );
    assert_eq!(
        v["signatures"][0]["certificate"]["status_now"], "revoked",
        "{v}"
    );
    s.stop();
}

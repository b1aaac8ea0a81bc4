//! The offline browser verifier (crates/web/assets/js/qrid-verify.mjs) gives every case of
//! tests/vectors/ the verdict the Rust verifier gives, and refuses hostile input without
//! throwing or hanging: tests/js/vectors.mjs checks both, run here with Node.js. A missing
//! `node` fails the test, as a missing zbarimg does: a check that skips proves nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `node` on PATH, or a failure that says what to install.
fn node() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("node"))
                .find(|p| p.is_file())
        })
        .expect(
            "node is not installed: install Node.js 20 or later (e.g. `apt-get install nodejs`); \
             it runs the browser verifier against the test vectors",
        )
}

#[test]
fn browser_verifier_gives_every_vector_its_verdict() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(node())
        .arg("tests/js/vectors.mjs")
        .current_dir(&root)
        .output()
        .expect("run node tests/js/vectors.mjs");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{output}");
    assert!(
        out.status.success(),
        "node tests/js/vectors.mjs failed ({}):\n{output}",
        out.status
    );
}

/// The copy of jsQR embedded in the binary (crates/web/assets/vendor) is the npm package
/// pinned by crates/web/package-lock.json, byte for byte: `npm ci --prefix crates/web`
/// installs it (.ci/run does), and an edited or stale copy fails here.
#[test]
fn the_vendored_qr_decoder_is_the_pinned_package() {
    same_as_pinned("jsqr", "dist/jsQR.js", "jsQR.js");
}

/// The wallet's QR generator (crates/web/assets/vendor/qrcode.js) is qrcode-generator as
/// crates/web/package-lock.json pins it, byte for byte.
#[test]
fn the_vendored_qr_generator_is_the_pinned_package() {
    same_as_pinned("qrcode-generator", "qrcode.js", "qrcode.js");
}

/// The signing desk's PDF renderer (pdf.js: crates/web/assets/vendor/pdf.min.mjs and its
/// worker) is pdfjs-dist as crates/web/package-lock.json pins it, byte for byte.
#[test]
fn the_vendored_pdf_renderer_is_the_pinned_package() {
    same_as_pinned("pdfjs-dist", "build/pdf.min.mjs", "pdf.min.mjs");
    same_as_pinned(
        "pdfjs-dist",
        "build/pdf.worker.min.mjs",
        "pdf.worker.min.mjs",
    );
}

/// `crates/web/assets/vendor/<vendored>` is `node_modules/<package>/<file>`, and the package is
/// in the lock file.
fn same_as_pinned(package: &str, file: &str, vendored_name: &str) {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/web");
    let installed = web.join("node_modules").join(package).join(file);
    let pinned = std::fs::read(&installed).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `npm ci --prefix crates/web` (the pinned browser packages)",
            installed.display()
        )
    });
    let lock = std::fs::read_to_string(web.join("package-lock.json")).expect("the lock file");
    assert!(
        lock.contains(&format!("\"node_modules/{package}\"")),
        "{package} is not in the lock file"
    );
    let vendored =
        std::fs::read(web.join("assets/vendor").join(vendored_name)).expect("the vendored copy");
    assert!(
        vendored == pinned,
        "crates/web/assets/vendor/{vendored_name} differs from the pinned package's {file}: copy it again"
    );
}

/// The browser verifier checks a wallet's live QR (`QP1:`) as the service does
/// (crates/service/src/live.rs), and makes one byte for byte as the wallet's Rust code does:
/// presentations made here with the Rust crate (fresh, replayed, signed by another key, stale
/// or too far ahead, of a credential bound to no key, of an expired or untrusted credential,
/// malformed) are given to tests/js/presentation.mjs, which checks each verdict and remakes one
/// with `makePresentation` from the same seed, nonce and time.
#[test]
fn the_browser_verifier_checks_live_presentations() {
    use qrid_credential::{
        CitizenInput, Credential, HolderKey, IssuerKey, Presentation, SigningKey,
    };
    use serde_json::json;

    const NOW: i64 = 1_796_083_200;
    let root = qrid_e2e::repo_root();
    let pem = std::fs::read_to_string(root.join("keys-dev/issuer.key.pem"))
        .expect("the development issuer key");
    let issuer = IssuerKey::from_pkcs8_pem(&pem).expect("a PKCS#8 key");
    let trust: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("keys-dev/jwks.json")).expect("keys-dev/jwks.json"),
    )
    .expect("the development JWKS");
    let key = |seed: u8| IssuerKey::from_signing_key(SigningKey::from_bytes(&[seed; 32]));
    let holder = key(0x42);
    let other = key(0x43);
    let input = CitizenInput::from_json(
        &json!({
            "id_number": "001099012345",
            "full_name": "Nguyễn Văn An",
            "date_of_birth": "1990-01-15",
        })
        .to_string(),
    )
    .expect("claims");
    // No status reference: the credential verifies offline without a status list.
    let credential = |signer: &IssuerKey, issued_at: i64, bound: Option<&IssuerKey>| {
        let holder = bound.map(|k| HolderKey(k.verifying_key()));
        Credential::from_input(&input, "VN", issued_at, 365, None, holder)
            .expect("credential")
            .sign(signer.signing_key(), signer.kid())
            .expect("sign the credential")
    };
    let bound = credential(&issuer, NOW - 86_400, Some(&holder));
    let unbound = credential(&issuer, NOW - 86_400, None);
    let expired = credential(&issuer, NOW - 400 * 86_400, Some(&holder));
    let untrusted = credential(&other, NOW - 86_400, Some(&holder));
    let present = |credential: &str, by: &IssuerKey, presented_at: i64, nonce: u8| {
        Presentation {
            credential: credential.to_owned(),
            presented_at,
            nonce: [nonce; 8],
        }
        .sign(by.signing_key(), by.kid())
        .expect("sign the presentation")
    };
    let fresh = present(&bound, &holder, NOW - 5, 1);
    let case = |name: &str, text: &str, kind: &str, ok: bool| json!({"name": name, "text": text, "expect_kind": kind, "expect_ok": ok});
    // The presentation's bytes without the last two: truncated CBOR.
    let cut = {
        let bytes = qrid_credential::base45::decode(&fresh["QP1:".len()..]).expect("base45");
        format!(
            "QP1:{}",
            qrid_credential::base45::encode(&bytes[..bytes.len() - 2])
        )
    };
    let cases = vec![
        case("fresh", &fresh, "live_valid", true),
        case("the same again", &fresh, "presentation_replayed", false),
        case(
            "the same with scanner line ends",
            &format!("{fresh}\r\n"),
            "presentation_replayed",
            false,
        ),
        case(
            "signed by another key",
            &present(&bound, &other, NOW - 5, 2),
            "presentation_wrong_holder",
            false,
        ),
        case(
            "44 s old",
            &present(&bound, &holder, NOW - 44, 3),
            "live_valid",
            true,
        ),
        case(
            "45 s old",
            &present(&bound, &holder, NOW - 45, 4),
            "presentation_stale",
            false,
        ),
        case(
            "an hour old",
            &present(&bound, &holder, NOW - 3600, 5),
            "presentation_stale",
            false,
        ),
        case(
            "15 s ahead",
            &present(&bound, &holder, NOW + 15, 6),
            "live_valid",
            true,
        ),
        case(
            "16 s ahead",
            &present(&bound, &holder, NOW + 16, 7),
            "presentation_stale",
            false,
        ),
        case(
            "of a credential bound to no key",
            &present(&unbound, &holder, NOW - 5, 8),
            "presentation_unbound",
            false,
        ),
        case(
            "of an expired credential",
            &present(&expired, &holder, NOW - 5, 9),
            "expired",
            false,
        ),
        case(
            "of a credential of an untrusted issuer",
            &present(&untrusted, &holder, NOW - 5, 10),
            "unknown_key",
            false,
        ),
        case(
            "malformed: the credential without QP1:",
            &bound,
            "presentation_malformed",
            false,
        ),
        case("malformed: two bytes short", &cut, "cbor", false),
        case(
            "malformed: not base45",
            &fresh.to_lowercase().replace("qp1:", "QP1:"),
            "base45",
            false,
        ),
    ];
    // The Rust reader refuses them with the same kinds.
    for (text, kind) in [(&cut, "cbor"), (&bound, "cose_structure")] {
        let refused = Presentation::open(text).map(|_| ()).unwrap_err();
        assert_eq!(refused.kind(), kind, "{refused}");
    }

    // The byte-identity case: a fixed seed, nonce and time.
    let nonce = [0x0b, 0xad, 0xc0, 0xde, 0x01, 0x23, 0x45, 0x67];
    let expected = Presentation {
        credential: bound.clone(),
        presented_at: NOW - 3,
        nonce,
    }
    .sign(holder.signing_key(), holder.kid())
    .expect("sign");
    let spec = json!({
        "trust": trust,
        "now": NOW,
        "cases": cases,
        "make": {
            "credential": bound,
            "seed_hex": hex::encode(holder.signing_key().to_bytes()),
            "kid_hex": hex::encode(holder.kid().short()),
            "now": NOW - 3,
            "nonce_hex": hex::encode(nonce),
            "expected": expected,
        },
    });
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("presentations.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&spec).expect("JSON")).expect("write");
    let out = Command::new(node())
        .arg("tests/js/presentation.mjs")
        .arg(&file)
        .current_dir(&root)
        .output()
        .expect("run node tests/js/presentation.mjs");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{output}");
    assert!(
        out.status.success(),
        "node tests/js/presentation.mjs failed ({}):\n{output}",
        out.status
    );
}

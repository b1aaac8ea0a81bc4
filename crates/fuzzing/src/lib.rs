//! # qrid-fuzzing
//!
//! One entry point per parser of outside input. The fuzz targets in `fuzz/` (cargo-fuzz,
//! libFuzzer) call these with the fuzzer's bytes; the tests below replay every file of
//! `fuzz/corpus/<target>/` through the same functions, so `cargo test` keeps what the fuzzers
//! found, and a crash they once found, fixed. Each function must return for any input: no
//! panic, no unbounded memory or time (the parsers' own limits bound them).
//!
//! The trust list is the development issuer key (`keys-dev/jwks.json`), so seeds signed with
//! it reach the code behind the signature checks.
#![forbid(unsafe_code)]

use qrid_credential::{Jwks, LoginRequest, SignedMessage, Stamp, StatusListToken};
use qrid_server::form::{FormError, FormReader, PartHead, PartSink};
use qrid_verifier::{Policy, StatusCache, TrustStore, Verifier};
use std::sync::OnceLock;

/// The time every target verifies at: 2026-12-01T00:00:00Z.
pub const NOW: i64 = 1_796_083_200;

/// The names of the targets, as directories of `fuzz/corpus/` and binaries of `fuzz/`.
pub const TARGETS: [&str; 7] = [
    "payload",
    "status_list",
    "multipart",
    "image",
    "login",
    "jws",
    "wallet",
];

struct Trust {
    jwks: Jwks,
    store: TrustStore,
    verifier: Verifier,
}

fn trust() -> &'static Trust {
    static TRUST: OnceLock<Trust> = OnceLock::new();
    TRUST.get_or_init(|| {
        let jwks = Jwks::from_json(include_bytes!("../../../keys-dev/jwks.json"))
            .unwrap_or_else(|e| panic!("keys-dev/jwks.json: {e}"));
        let store = || TrustStore::from_jwks(&jwks).unwrap_or_else(|e| panic!("trust store: {e}"));
        let policy = Policy {
            require_status: false,
            ..Policy::default()
        };
        Trust {
            store: store(),
            verifier: Verifier::new(store(), StatusCache::default(), policy),
            jwks,
        }
    })
}

/// A credential payload: base45, zlib, CBOR and COSE_Sign1 layer by layer, then the whole
/// verifier (signature, claims, time, status).
pub fn payload(data: &[u8]) {
    let _ = SignedMessage::parse(data);
    let _ = qrid_credential::Credential::from_cbor(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = qrid_credential::base45::decode(text);
        let _ = qrid_credential::payload::decode(text);
        let _ = trust().verifier.verify(text, NOW);
    }
}

/// A status list token (CWT) as a verifier fetches it: claims, then signature and insertion.
pub fn status_list(data: &[u8]) {
    let _ = StatusListToken::from_claims(data);
    let _ = StatusCache::default().insert_token(data, &trust().store, NOW);
}

/// A sink that keeps nothing and stops at 64 parts, as the service's own sinks bound them.
struct Counting {
    parts: usize,
    bytes: usize,
}

impl PartSink for Counting {
    type Error = FormError;
    fn start(&mut self, _head: PartHead) -> Result<(), FormError> {
        self.parts += 1;
        if self.parts > 64 {
            return Err(FormError::Header("too many parts"));
        }
        Ok(())
    }
    fn data(&mut self, bytes: &[u8]) -> Result<(), FormError> {
        self.bytes += bytes.len();
        Ok(())
    }
    fn end(&mut self) -> Result<(), FormError> {
        Ok(())
    }
}

/// A multipart/form-data body: the first byte picks the frame size (1 to 256 bytes), so the
/// fuzzer also explores delimiters and headers split across frames; the boundary is fixed.
pub fn multipart(data: &[u8]) {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let _ = qrid_server::form::boundary(&String::from_utf8_lossy(body.get(..80).unwrap_or(body)));
    let frame = usize::from(first) + 1;
    let mut reader = FormReader::new("qridFuzzBoundary");
    let mut sink = Counting { parts: 0, bytes: 0 };
    for chunk in body.chunks(frame) {
        if reader.feed(chunk, &mut sink).is_err() {
            return;
        }
    }
    let _ = reader.finish();
}

/// The limits the `image` target decodes under: the service's, scaled down (65,536 pixels,
/// 4 MiB, a million detector steps), so that the fuzzer's time goes to many inputs rather than
/// to a few large ones. The code paths are the same at any scale: every limit is a number
/// compared with what the header claims or the detector has spent, and the inputs a fuzzer
/// writes (at most 64 KiB) reach each refusal either way, and the corpus's QR codes (122 × 122
/// pixels) still read, as a test checks. The corpus replay also runs under the service's limits
/// ([`image_service_limits`]), and tests/tests/images.rs holds the service to 150 MiB with them.
pub const FUZZ_IMAGE_LIMITS: qrid_qr::DecodeLimits = qrid_qr::DecodeLimits {
    max_bytes: 1024 * 1024,
    max_pixels: 65_536,
    max_memory: 4 * 1024 * 1024,
    max_work: 1_000_000,
};

/// An uploaded image: format sniffing, header checks, decoding and QR detection, under
/// [`FUZZ_IMAGE_LIMITS`].
pub fn image(data: &[u8]) {
    let_rqrr_panics_unwind();
    let _ = qrid_qr::decode_image(data, &FUZZ_IMAGE_LIMITS);
}

/// The same as [`image`] under the service's default limits: slower per input, so the fuzzer
/// does not run it, but the corpus replay does.
pub fn image_service_limits(data: &[u8]) {
    let_rqrr_panics_unwind();
    let _ = qrid_qr::decode_image(data, &qrid_qr::DecodeLimits::default());
}

/// rqrr asserts on some geometry of its own making (a perspective that maps a cell outside
/// `i32`, found by this fuzzer), and `qrid_qr` runs it under `catch_unwind` so that such an
/// image is answered `qr_unreadable`. libFuzzer's panic hook aborts on every panic, caught or
/// not, before unwinding starts; this hook lets the panics raised inside rqrr's own code unwind
/// to that catch and passes every other panic on to libFuzzer's hook. A panic of rqrr that
/// escaped the decoder would still fail the target: libfuzzer-sys aborts when one unwinds out
/// of it.
fn let_rqrr_panics_unwind() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_rqrr = info.location().is_some_and(|l| l.file().contains("/rqrr-"));
            if !in_rqrr {
                previous(info);
            }
        }));
    });
}

/// The login protocol's outside inputs: the login request QR a wallet scans, and the login
/// response body the service receives (JSON, transaction id, holder signature).
pub fn login(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = LoginRequest::verify(text, &trust().jwks);
    }
    if let Ok(r) = qrid_server::oidc::parse_login_response(data) {
        let _ = qrid_server::oidc::decode_holder_signature(&r.signature);
        let _ = trust().verifier.verify(&r.credential, NOW);
    }
}

/// Document signatures: the compact JWS (format, signer credential, key, signature) and the
/// printed stamp (`QS1:`).
pub fn jws(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = qrid_credential::docsig::DocumentSignature::parse(text);
        let _ = trust().verifier.examine_signature(text, None);
        let _ = Stamp::verify(text, &trust().jwks);
    }
}

/// The wallet's outside inputs: an OpenID4VCI key proof (the JWT a credential request
/// carries) and a live presentation (`QP1:`) as a counter reads it: opened, its credential
/// verified, and for a bound one the holder's signature and the time window checked.
pub fn wallet(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = qrid_credential::vci::KeyProof::verify(text);
    if let Ok(p) = qrid_credential::Presentation::open(text) {
        let _ = p.is_fresh(NOW);
        if let Ok(qrid_verifier::Verdict::Valid(v)) =
            trust().verifier.verify(&p.presentation.credential, NOW)
        {
            if let Some(qrid_credential::HolderKey(k)) = v.credential.holder {
                let _ = p.verify_holder(&k);
            }
        }
    }
}

/// A PDF as the signer and the verifier read it: the last page found and a signature
/// prepared on it (no key: only the reader and the writer), and every signature dictionary
/// read back and examined against the development CA.
pub fn pdf(data: &[u8]) {
    let _ = qrid_pdf::last_page(data);
    let appearance = qrid_pdf::Appearance {
        qr: vec![vec![true; 21]; 21],
        lines: vec!["Nguyễn Văn A".into()],
    };
    let info = qrid_pdf::SignatureInfo {
        field_name: "fuzz".into(),
        signing_time: NOW,
        signer_name: "fuzz".into(),
        reason: None,
        location: None,
    };
    let _ = qrid_pdf::sign::prepare(data, &info, &appearance, qrid_pdf::Placement::BottomRight);
    if let Ok(ca) = qrid_pdf::Cert::from_pem(include_str!("../../../keys-dev/ca.pem")) {
        let _ = qrid_pdf::report::examine_all(data, &ca);
    }
}

/// The entry point of a target by name.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    Some(match name {
        "payload" => payload,
        "status_list" => status_list,
        "multipart" => multipart,
        "image" => image,
        "login" => login,
        "jws" => jws,
        "wallet" => wallet,
        "pdf" => pdf,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus")
            .join(target);
        let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("the corpus {} must be there: {e}", dir.display()))
            .map(|e| {
                let path = e.expect("a corpus entry").path();
                let bytes =
                    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
                (path, bytes)
            })
            .collect();
        files.sort();
        files
    }

    /// Every file of every corpus goes through its target; a corpus that is missing or nearly
    /// empty fails, rather than passing without having checked anything.
    fn replay(target: &str) {
        let files = corpus(target);
        assert!(
            files.len() >= 5,
            "fuzz/corpus/{target} holds {} files: seed it (bench/fuzz.sh)",
            files.len()
        );
        let f = super::target(target).expect("a known target");
        for (path, bytes) in &files {
            let outcome = std::panic::catch_unwind(|| f(bytes));
            assert!(outcome.is_ok(), "{target} panicked on {}", path.display());
        }
    }

    #[test]
    fn pdf_corpus() {
        replay("pdf");
    }

    #[test]
    fn payload_corpus() {
        replay("payload");
    }
    #[test]
    fn status_list_corpus() {
        replay("status_list");
    }
    #[test]
    fn multipart_corpus() {
        replay("multipart");
    }
    #[test]
    fn image_corpus() {
        replay("image");
    }
    /// The image the fuzzer found making rqrr assert (a perspective outside `i32`; found as
    /// e749473a…, whose chunk checksums the fuzz build does not check, and kept with them
    /// corrected so that every build reaches rqrr): the decoder contains the panic and answers
    /// `qr_unreadable`, under either limits.
    #[test]
    fn an_rqrr_assertion_is_qr_unreadable() {
        let_rqrr_panics_unwind();
        let (_, bytes) = corpus("image")
            .into_iter()
            .find(|(p, _)| p.ends_with("5cf37ae68c4b59236629657730cfd4be0bc978ef"))
            .expect("the image that made rqrr assert is in the corpus");
        for limits in [FUZZ_IMAGE_LIMITS, qrid_qr::DecodeLimits::default()] {
            let e = qrid_qr::decode_image(&bytes, &limits).expect_err("no QR code in it");
            assert_eq!(e.kind(), "qr_unreadable", "{e}");
        }
    }

    /// The scaled-down limits lose no QR code the corpus holds: every corpus image read under
    /// the service's limits is read under the fuzzer's too. (The fuzz build skips PNG chunk
    /// checksums, so most mutants read there and only a few here.)
    #[test]
    fn the_fuzz_image_limits_still_read_qr_codes() {
        let read = |limits: &qrid_qr::DecodeLimits| -> Vec<PathBuf> {
            corpus("image")
                .into_iter()
                .filter(|(_, bytes)| {
                    qrid_qr::decode_image(bytes, limits).is_ok_and(|t| !t.is_empty())
                })
                .map(|(path, _)| path)
                .collect()
        };
        let under_service = read(&qrid_qr::DecodeLimits::default());
        assert!(
            !under_service.is_empty(),
            "no corpus image holds a readable QR code"
        );
        assert_eq!(read(&FUZZ_IMAGE_LIMITS), under_service);
    }
    #[test]
    fn image_corpus_under_the_service_limits() {
        for (path, bytes) in corpus("image") {
            let outcome = std::panic::catch_unwind(|| image_service_limits(&bytes));
            assert!(outcome.is_ok(), "image panicked on {}", path.display());
        }
    }
    #[test]
    fn login_corpus() {
        replay("login");
    }
    #[test]
    fn jws_corpus() {
        replay("jws");
    }
    #[test]
    fn wallet_corpus() {
        replay("wallet");
    }

    #[test]
    fn every_target_has_a_fuzz_binary() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
        for t in TARGETS {
            let src = std::fs::read_to_string(dir.join(format!("{t}.rs")))
                .unwrap_or_else(|e| panic!("fuzz/fuzz_targets/{t}.rs: {e}"));
            assert!(
                src.contains(&format!("qrid_fuzzing::{t}(")),
                "fuzz/fuzz_targets/{t}.rs must call qrid_fuzzing::{t}"
            );
        }
    }
}

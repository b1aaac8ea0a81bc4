//! Signing every vector of tests/vectors/pdf and reading the signature back; the refusals of
//! documents that are not signed. pyHanko and poppler judge the same outputs in
//! tests/tests/pades.rs.

use p256::ecdsa::SigningKey;
use qrid_pdf::verify::{examine, judge, signatures};
use qrid_pdf::{
    pki, sign_pdf, Appearance, Cert, CertStatus, PdfError, Placement, SigFailure, SignatureInfo,
    Subject,
};

const NOW: i64 = 1_796_569_200; // 2026-12-06 15:00 UTC

fn vector(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/pdf")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Pki {
    ca_key: SigningKey,
    ca: Cert,
    key: SigningKey,
    cert: Cert,
}

fn pki() -> Pki {
    let ca_key = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let ca = Cert::from_der(
        &pki::ca_certificate(
            &ca_key,
            ca_key.verifying_key(),
            &Subject {
                common_name: "qrid test CA".into(),
                title: None,
                organization: Some("Bộ Công an".into()),
                serial: None,
                country: Some("VN".into()),
            },
            &[1; 16],
            NOW - 86_400,
            NOW + 10 * 365 * 86_400,
        )
        .unwrap(),
    )
    .unwrap();
    let key = SigningKey::from_slice(&[9u8; 32]).unwrap();
    let cert = Cert::from_der(
        &pki::official_certificate(
            &ca_key,
            &ca,
            key.verifying_key(),
            &Subject {
                common_name: "Nguyễn Văn An".into(),
                title: Some("Chánh văn phòng".into()),
                organization: Some("Sở Tư pháp".into()),
                serial: Some("off-1".into()),
                country: Some("VN".into()),
            },
            &[2; 16],
            NOW - 3600,
            NOW + 365 * 86_400,
            "http://127.0.0.1:8080/v1/pki/crl",
        )
        .unwrap(),
    )
    .unwrap();
    Pki {
        ca_key,
        ca,
        key,
        cert,
    }
}

fn info(field: &str) -> SignatureInfo {
    SignatureInfo {
        field_name: field.into(),
        signing_time: NOW,
        signer_name: "Nguyễn Văn An".into(),
        reason: Some("Phê duyệt / Approved".into()),
        location: None,
    }
}

fn appearance() -> Appearance {
    Appearance {
        qr: (0..25)
            .map(|r| (0..25).map(|c| (r * c) % 3 == 0).collect())
            .collect(),
        lines: vec![
            "Nguyễn Văn An".into(),
            "Chánh văn phòng".into(),
            "2026-12-06 15:00 UTC".into(),
        ],
    }
}

fn sign(pdf: &[u8], p: &Pki, field: &str) -> Result<Vec<u8>, PdfError> {
    sign_pdf(
        pdf,
        &info(field),
        &appearance(),
        Placement::BottomRight,
        &p.key,
        &p.cert,
        &[&p.ca],
    )
    .map(|(b, _)| b)
}

#[test]
fn every_vector_signs_and_verifies() {
    let p = pki();
    for name in [
        "simple.pdf",
        "three-pages.pdf",
        "xref-stream.pdf",
        "incremental.pdf",
        "annots.pdf",
        "signed-by-pyhanko.pdf",
    ] {
        let original = vector(name);
        let signed = sign(&original, &p, "qrid-1").unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            signed.starts_with(&original),
            "{name}: the original bytes stay"
        );
        let sigs = signatures(&signed).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ours = sigs
            .iter()
            .find(|s| s.field == "qrid-1")
            .expect("our field");
        let e = examine(&signed, &sigs, ours, &p.ca).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(e.covers_whole_file, "{name}");
        assert_eq!(e.signing_time, NOW);
        assert_eq!(e.level, Some("B-B"));
        assert_eq!(e.signer.common_name, "Nguyễn Văn An");
        judge(&e, CertStatus::Good, NOW + 60, 300).unwrap();
        // The page box is still readable after the update.
        qrid_pdf::last_page(&signed).unwrap();
    }
}

#[test]
fn a_second_signature_keeps_the_first_valid() {
    let p = pki();
    let once = sign(&vector("simple.pdf"), &p, "first").unwrap();
    let twice = sign(&once, &p, "second").unwrap();
    let sigs = signatures(&twice).unwrap();
    assert_eq!(sigs.len(), 2);
    for s in &sigs {
        let e = examine(&twice, &sigs, s, &p.ca).unwrap();
        judge(&e, CertStatus::Good, NOW, 300).unwrap();
        assert_eq!(e.covers_whole_file, s.field == "second");
    }
}

#[test]
fn changes_after_signing_are_found() {
    let p = pki();
    let signed = sign(&vector("simple.pdf"), &p, "s").unwrap();
    // A byte inside the signed range.
    let mut flipped = signed.clone();
    let at = flipped.windows(9).position(|w| w == b"Helvetica").unwrap();
    flipped[at] = b'h';
    let sigs = signatures(&flipped).unwrap();
    assert_eq!(
        examine(&flipped, &sigs, &sigs[0], &p.ca).unwrap_err(),
        SigFailure::DigestMismatch
    );
    // An unsigned update appended.
    let mut appended = signed.clone();
    appended.extend_from_slice(b"1 0 obj\n<< /Type /Catalog >>\nendobj\n");
    let sigs = signatures(&signed).unwrap();
    let sigs_after: Vec<_> = sigs.clone();
    let e = examine(&appended, &sigs_after, &sigs[0], &p.ca).unwrap();
    assert!(!e.covers_whole_file);
    assert_eq!(
        judge(&e, CertStatus::Good, NOW, 300).unwrap_err(),
        SigFailure::ModifiedAfterSigning
    );
}

#[test]
fn another_ca_and_revocation_are_judged() {
    let p = pki();
    let signed = sign(&vector("simple.pdf"), &p, "s").unwrap();
    let sigs = signatures(&signed).unwrap();
    let other_key = SigningKey::from_slice(&[8u8; 32]).unwrap();
    let other = Cert::from_der(
        &pki::ca_certificate(
            &other_key,
            other_key.verifying_key(),
            &p.ca.subject(),
            &[1; 16],
            NOW - 10,
            NOW + 10_000,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        examine(&signed, &sigs, &sigs[0], &other).unwrap_err(),
        SigFailure::UntrustedCertificate
    );
    let e = examine(&signed, &sigs, &sigs[0], &p.ca).unwrap();
    assert_eq!(
        judge(&e, CertStatus::Revoked(NOW), NOW + 10, 300).unwrap_err(),
        SigFailure::RevokedBeforeSigning
    );
    judge(&e, CertStatus::Revoked(NOW + 1), NOW + 10, 300).unwrap();
    assert_eq!(
        judge(&e, CertStatus::Good, NOW - 1000, 300).unwrap_err(),
        SigFailure::SigningTimeInFuture
    );
    // The CRL lists what it was given, signed by the CA.
    let crl = pki::crl(
        &p.ca_key,
        &p.ca,
        &[pki::Revocation {
            serial: hex::decode(p.cert.serial_hex()).unwrap(),
            at: NOW + 1,
        }],
        NOW + 2,
        NOW + 86_400,
        7,
    )
    .unwrap();
    let read = qrid_pdf::Crl::from_der(&crl, &p.ca).unwrap();
    assert_eq!(read.revoked_at(&p.cert.serial_hex()), Some(NOW + 1));
    assert!(qrid_pdf::Crl::from_der(&crl, &other).is_err());
}

#[test]
fn documents_that_cannot_be_signed_are_refused_with_a_reason() {
    let p = pki();
    assert_eq!(
        sign(&vector("encrypted.pdf"), &p, "s").unwrap_err(),
        PdfError::Encrypted
    );
    assert_eq!(
        sign(&vector("not-a-pdf.pdf"), &p, "s").unwrap_err().kind(),
        "not_pdf"
    );
    assert_eq!(
        sign(&vector("truncated.pdf"), &p, "s").unwrap_err().kind(),
        "malformed_pdf"
    );
    assert_eq!(
        sign(b"%PDF-1.4\n", &p, "s").unwrap_err().kind(),
        "malformed_pdf"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// Damaged documents are refused or signed, never a panic.
    #[test]
    fn damaged_documents_never_panic(cut in 0usize..2000, at in 0usize..2000, byte in proptest::prelude::any::<u8>()) {
        let p = pki();
        let mut doc = vector("xref-stream.pdf");
        let i = at % doc.len();
        doc[i] = byte;
        doc.truncate(doc.len().saturating_sub(cut % 64));
        let _ = sign(&doc, &p, "s");
        let _ = signatures(&doc);
    }
}

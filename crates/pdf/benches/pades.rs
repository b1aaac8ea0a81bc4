//! PAdES signing and verification costs (docs/benchmarks.md, "PDF signatures (issue 19)"), in
//! process, one core, beside their references measured in the same run:
//!
//! - a 10 MiB PDF (20 A4 pages, each a 1024×512 gray scan of noise: 10 MiB of image data,
//!   made here) signed with `sign_pdf` (prepare + CMS signature + finish), and its parts,
//!   beside SHA-256 of the same file and a plain copy of it;
//! - the signed 10 MiB PDF verified (`report::examine_all`: the signatures read, the byte
//!   ranges hashed, the CMS and the chain to the CA checked);
//! - a small PDF (tests/vectors/pdf/simple.pdf) signed and verified, beside one raw P-256
//!   ECDSA signature and one verification.
//!
//! The CA and the official's key are made in memory (fixed test keys, nothing read from
//! keys-dev/).
//!
//! `cargo bench -p qrid-pdf --bench pades`

use criterion::{criterion_group, criterion_main, Criterion};
use p256::ecdsa::{Signature, SigningKey};
use qrid_pdf::report::examine_all;
use qrid_pdf::{cms, pki, sign, sign_pdf, Appearance, Cert, Placement, SignatureInfo, Subject};
use sha2::{Digest, Sha256};
use signature::{Signer, Verifier};
use std::hint::black_box;
use std::time::Duration;

const SMALL: &[u8] = include_bytes!("../../../tests/vectors/pdf/simple.pdf");
const NOW: i64 = 1_796_569_200; // 2026-12-06 15:00 UTC
/// Pages of the large document, and the size of each page's image.
const PAGES: usize = 20;
const IMAGE_W: usize = 1024;
const IMAGE_H: usize = 512;
/// Modules a side of the stamp's QR code: version 13, as the service's stamps come out
/// (1,248 dark runs drawn in one of them).
const QR_MODULES: usize = 69;

/// A valid PDF 1.4 of `PAGES` A4 pages, each showing one uncompressed 8-bit gray image of
/// noise (as incompressible as a scan's JPEG): `PAGES × IMAGE_W × IMAGE_H` bytes of image
/// data (10 MiB) and a classic cross-reference table.
fn big_pdf() -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |out: &mut Vec<u8>, num: usize, body: &[u8]| {
        offsets.push((num, out.len()));
        out.extend_from_slice(format!("{num} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    // Objects: 1 catalog, 2 page tree, then per page: page, content, image.
    let page_num = |i: usize| 3 + 3 * i;
    object(&mut out, 1, b"<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..PAGES).map(|i| format!("{} 0 R", page_num(i))).collect();
    object(
        &mut out,
        2,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {PAGES} >>",
            kids.join(" ")
        )
        .as_bytes(),
    );
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut noise = vec![0u8; IMAGE_W * IMAGE_H];
    for i in 0..PAGES {
        let (page, content, image) = (page_num(i), page_num(i) + 1, page_num(i) + 2);
        object(
            &mut out,
            page,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
                 /Resources << /XObject << /Im0 {image} 0 R >> >> /Contents {content} 0 R >>"
            )
            .as_bytes(),
        );
        let ops = b"q 595 0 0 842 0 0 cm /Im0 Do Q";
        let mut body = format!("<< /Length {} >>\nstream\n", ops.len()).into_bytes();
        body.extend_from_slice(ops);
        body.extend_from_slice(b"\nendstream");
        object(&mut out, content, &body);
        for chunk in noise.chunks_mut(8) {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        let mut body = format!(
            "<< /Type /XObject /Subtype /Image /Width {IMAGE_W} /Height {IMAGE_H} \
             /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {} >>\nstream\n",
            noise.len()
        )
        .into_bytes();
        body.extend_from_slice(&noise);
        body.extend_from_slice(b"\nendstream");
        object(&mut out, image, &body);
    }
    let size = page_num(PAGES);
    offsets.sort_unstable();
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f \n").as_bytes());
    assert!(
        offsets.iter().map(|(n, _)| *n).eq(1..size),
        "objects 1 to size - 1, each once"
    );
    for (_, at) in &offsets {
        out.extend_from_slice(format!("{at:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {size} /Root 1 0 R /ID [<71726964626967> <71726964626967>] >>\n\
             startxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    out
}

struct Pki {
    ca: Cert,
    key: SigningKey,
    cert: Cert,
}

fn pki() -> Pki {
    let ca_key = SigningKey::from_slice(&[7u8; 32]).expect("a CA key");
    let ca = Cert::from_der(
        &pki::ca_certificate(
            &ca_key,
            ca_key.verifying_key(),
            &Subject {
                common_name: "qrid bench CA".into(),
                title: None,
                organization: Some("Bộ Công an".into()),
                serial: None,
                country: Some("VN".into()),
            },
            &[1; 16],
            NOW - 86_400,
            NOW + 10 * 365 * 86_400,
        )
        .expect("a CA certificate"),
    )
    .expect("the CA certificate parses");
    let key = SigningKey::from_slice(&[9u8; 32]).expect("an official's key");
    let cert = Cert::from_der(
        &pki::official_certificate(
            &ca_key,
            &ca,
            key.verifying_key(),
            &Subject {
                common_name: "Nguyễn Văn Minh".into(),
                title: Some("Chủ tịch".into()),
                organization: Some("UBND xã Đông Hội".into()),
                serial: Some("off-1".into()),
                country: Some("VN".into()),
            },
            &[2; 16],
            NOW - 3600,
            NOW + 365 * 86_400,
            "http://127.0.0.1:8080/v1/pki/crl",
        )
        .expect("an official's certificate"),
    )
    .expect("the official's certificate parses");
    Pki { ca, key, cert }
}

fn info() -> SignatureInfo {
    SignatureInfo {
        field_name: "qrid-bench".into(),
        signing_time: NOW,
        signer_name: "Nguyễn Văn Minh".into(),
        reason: Some("Ký số / Digitally signed".into()),
        location: None,
    }
}

/// A stamp like the service's: a QR code of `QR_MODULES` a side whose modules are noise, half
/// dark (as a QR's data area is), and the service's six lines.
fn appearance() -> Appearance {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut bit = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state & 1 == 1
    };
    Appearance {
        qr: (0..QR_MODULES)
            .map(|_| (0..QR_MODULES).map(|_| bit()).collect())
            .collect(),
        lines: vec![
            "Nguyễn Văn Minh".into(),
            "Chủ tịch".into(),
            "UBND xã Đông Hội".into(),
            "Ky so / Signed: 2026-12-06 15:00 UTC".into(),
            "Ma ho so / Record: bench".into(),
            "Quet ma QR de kiem tra / Scan the QR to check".into(),
        ],
    }
}

fn sign_one(pdf: &[u8], p: &Pki, info: &SignatureInfo, appearance: &Appearance) -> Vec<u8> {
    sign_pdf(
        pdf,
        info,
        appearance,
        Placement::BottomRight,
        &p.key,
        &p.cert,
        &[&p.ca],
    )
    .expect("the PDF signs")
    .0
}

/// Verifies `signed` and checks, once, that its one signature is good.
fn examine_ok(signed: &[u8], ca: &Cert) -> usize {
    let found = examine_all(signed, ca).expect("the signed PDF reads");
    assert!(
        found.len() == 1 && found.iter().all(|f| f.examined.is_ok()),
        "the signature verifies"
    );
    found.len()
}

fn pades(c: &mut Criterion) {
    let p = pki();
    let info = info();
    let appearance = appearance();
    let big = big_pdf();
    let big_signed = sign_one(&big, &p, &info, &appearance);
    let small_signed = sign_one(SMALL, &p, &info, &appearance);
    examine_ok(&big_signed, &p.ca);
    examine_ok(&small_signed, &p.ca);
    let dark_runs: usize = appearance
        .qr
        .iter()
        .map(|row| {
            (0..row.len())
                .filter(|&i| row[i] && (i == 0 || !row[i - 1]))
                .count()
        })
        .sum();
    eprintln!(
        "pades bench: large PDF {} bytes ({} signed), small PDF {} bytes ({} signed); \
         stamp QR {QR_MODULES} modules a side, {dark_runs} dark runs",
        big.len(),
        big_signed.len(),
        SMALL.len(),
        small_signed.len()
    );

    let mut g = c.benchmark_group("pades_10mib");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("reference_sha256_10mib", |b| {
        b.iter(|| -> [u8; 32] { Sha256::digest(black_box(&big)).into() })
    });
    g.bench_function("reference_copy_10mib", |b| {
        b.iter(|| black_box(&big).to_vec())
    });
    g.bench_function("sign_10mib", |b| {
        b.iter(|| sign_one(black_box(&big), &p, &info, &appearance))
    });
    g.bench_function("part_prepare_10mib", |b| {
        b.iter(|| {
            sign::prepare(black_box(&big), &info, &appearance, Placement::BottomRight)
                .expect("prepared")
        })
    });
    let prepared =
        sign::prepare(&big, &info, &appearance, Placement::BottomRight).expect("prepared");
    g.bench_function("part_digest_10mib", |b| {
        b.iter(|| black_box(&prepared).digest())
    });
    let digest = prepared.digest();
    g.bench_function("part_cms_sign_detached", |b| {
        b.iter(|| cms::sign_detached(black_box(&digest), &p.key, &p.cert, &[&p.ca]).expect("a CMS"))
    });
    g.bench_function("verify_examine_all_10mib", |b| {
        b.iter(|| examine_all(black_box(&big_signed), &p.ca).expect("reads"))
    });
    g.finish();

    let mut g = c.benchmark_group("pades_small");
    g.sample_size(50);
    let message = b"the DER of a CMS's signed attributes, about this long: 200 bytes of it";
    g.bench_function("reference_p256_sign", |b| {
        b.iter(|| -> Signature { p.key.sign(black_box(message)) })
    });
    let sig: Signature = p.key.sign(message);
    let vk = *p.key.verifying_key();
    g.bench_function("reference_p256_verify", |b| {
        b.iter(|| vk.verify(black_box(message), &sig).expect("verifies"))
    });
    g.bench_function("sign_small", |b| {
        b.iter(|| sign_one(black_box(SMALL), &p, &info, &appearance))
    });
    g.bench_function("part_prepare_small", |b| {
        b.iter(|| {
            sign::prepare(black_box(SMALL), &info, &appearance, Placement::BottomRight)
                .expect("prepared")
        })
    });
    g.bench_function("part_appearance_content", |b| {
        b.iter(|| qrid_pdf::appearance::content(black_box(&appearance)))
    });
    g.bench_function("verify_examine_all_small", |b| {
        b.iter(|| examine_all(black_box(&small_signed), &p.ca).expect("reads"))
    });
    g.finish();
}

criterion_group!(benches, pades);
criterion_main!(benches);

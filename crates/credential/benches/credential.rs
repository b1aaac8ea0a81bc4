//! Issuing one credential against the raw Ed25519 signature it contains, measured together.
//! `cargo bench -p qrid-credential --bench credential`

use criterion::{criterion_group, criterion_main, Criterion};
use qrid_credential::{CitizenInput, Credential, IssuerKey, StatusIndex, StatusRef};
use signature::Signer;
use std::hint::black_box;

const CLAIMS: &str = r#"{"id_number":"001099012345","full_name":"Nguyễn Thị Minh Khai",
"date_of_birth":"1990-01-15","sex":"F","nationality":"VN",
"place_of_origin":"Xã Đông Hội, Huyện Đông Anh, Thành phố Hà Nội",
"place_of_residence":"Số 12 Ngõ 34 Phố Nguyễn Trãi, Phường Thượng Đình, Quận Thanh Xuân, Hà Nội",
"photo_sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}"#;

fn bench(c: &mut Criterion) {
    let key = IssuerKey::generate();
    let status = StatusRef::new("https://id.gov.vn/s/1", StatusIndex(40_000)).ok();
    let input = CitizenInput::from_json(CLAIMS).expect("claims");
    let credential = Credential::from_input(&input, "VN", 1_763_856_000, 3650, status, None)
        .expect("credential");
    let msg = vec![0x5Au8; 450];
    let mut g = c.benchmark_group("issue");
    g.bench_function("raw_ed25519_sign_450B", |b| {
        b.iter(|| key.signing_key().sign(black_box(&msg)))
    });
    g.bench_function("credential_sign", |b| {
        b.iter(|| {
            black_box(&credential)
                .sign(key.signing_key(), key.kid())
                .expect("sign")
        })
    });
    g.bench_function("parse_validate_sign_from_json", |b| {
        b.iter(|| {
            let input = CitizenInput::from_json(black_box(CLAIMS)).expect("json");
            Credential::from_input(&input, "VN", 1_763_856_000, 3650, None, None)
                .expect("claims")
                .sign(key.signing_key(), key.kid())
                .expect("sign")
        })
    });
    g.bench_function("claims_to_cbor", |b| {
        b.iter(|| black_box(&credential).to_cbor())
    });
    let cbor = credential.to_cbor();
    let mut cose = vec![0x84u8];
    cose.extend_from_slice(&cbor);
    cose.extend_from_slice(&[0x5A; 66]);
    g.bench_function("zlib_if_smaller_base45", |b| {
        b.iter(|| qrid_credential::payload::encode(black_box(&cose)))
    });
    g.finish();
    let payload = credential.sign(key.signing_key(), key.kid()).expect("sign");
    let mut g = c.benchmark_group("decode");
    g.bench_function("open_payload", |b| {
        b.iter(|| qrid_credential::open(black_box(&payload)).expect("open"))
    });
    let msg = qrid_credential::open(&payload).expect("open");
    g.bench_function("claims_from_cbor", |b| {
        b.iter(|| Credential::from_cbor(black_box(msg.payload())).expect("claims"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Verifying one credential end to end against the raw strict Ed25519 verification inside it.
//! `cargo bench -p qrid-verifier --bench verify`

use criterion::{criterion_group, criterion_main, Criterion};
use qrid_credential::{CitizenInput, Credential, IssuerKey, Jwks, StatusIndex, StatusRef};
use qrid_verifier::{Policy, StatusCache, TrustStore, Verifier};
use signature::Signer;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let key = IssuerKey::generate();
    let input = CitizenInput::from_json(
        r#"{"id_number":"001099012345","full_name":"Nguyễn Thị Minh Khai","date_of_birth":"1990-01-15",
        "sex":"F","nationality":"VN","place_of_origin":"Xã Đông Hội, Huyện Đông Anh, Thành phố Hà Nội",
        "place_of_residence":"Số 12 Ngõ 34 Phố Nguyễn Trãi, Phường Thượng Đình, Quận Thanh Xuân, Hà Nội"}"#,
    )
    .expect("claims");
    let now = 1_763_856_000;
    let status = StatusRef::new("https://id.gov.vn/s/1", StatusIndex(40_000)).ok();
    let payload = Credential::from_input(&input, "VN", now, 3650, status, None)
        .expect("credential")
        .sign(key.signing_key(), key.kid())
        .expect("sign");
    let trust = TrustStore::from_jwks(&Jwks {
        keys: vec![key.jwk()],
    })
    .expect("trust");
    let verifier = Verifier::new(trust, StatusCache::default(), Policy::default());
    // The reference: ed25519-dalek alone on a message the size of the credential's Sig_structure.
    let raw_msg = vec![0x5Au8; 450];
    let raw_sig = key.signing_key().sign(&raw_msg);
    let vk = key.verifying_key();
    let mut g = c.benchmark_group("verify");
    g.bench_function("raw_ed25519_verify_strict", |b| {
        b.iter(|| {
            vk.verify_strict(black_box(&raw_msg), black_box(&raw_sig))
                .expect("sig")
        })
    });
    g.bench_function("credential_verify", |b| {
        b.iter(|| verifier.verify(black_box(&payload), now).expect("checked"))
    });
    g.bench_function("credential_verify_to_json", |b| {
        b.iter(|| {
            verifier
                .verify(black_box(&payload), now)
                .expect("checked")
                .to_json()
                .to_string()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

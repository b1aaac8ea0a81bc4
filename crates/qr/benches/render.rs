//! Rendering and decoding costs for one credential-sized payload (600 base45 characters,
//! version 15 at ECC M), with the `qrcode` crate's encoder as the comparison for `fast_qr`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use qrid_qr::{decode_image, DecodeLimits, Ecc, Symbol};

const BASE45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// A fixed pseudo-random base45 string: the same bytes on every run.
fn payload(len: usize) -> String {
    let mut state: u64 = 0x5152_4944;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            char::from(BASE45[(state >> 33) as usize % BASE45.len()])
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let text = payload(600);
    let symbol = Symbol::encode(&text, Ecc::M).expect("600 characters fit");
    assert_eq!(symbol.version(), 15);

    let mut encode = c.benchmark_group("encode");
    encode.bench_function("fast_qr", |b| {
        b.iter(|| Symbol::encode(black_box(&text), Ecc::M))
    });
    encode.bench_function("qrcode", |b| {
        b.iter(|| {
            qrcode::QrCode::with_error_correction_level(
                black_box(text.as_bytes()),
                qrcode::EcLevel::M,
            )
        })
    });
    encode.finish();

    let mut render = c.benchmark_group("render");
    render.bench_function("png_scale4", |b| b.iter(|| black_box(&symbol).to_png(4)));
    render.bench_function("svg_scale4", |b| b.iter(|| black_box(&symbol).to_svg(4)));
    render.bench_function("encode_and_png_scale4", |b| {
        b.iter(|| qrid_qr::render(black_box(&text), Ecc::M, 4, qrid_qr::Format::Png))
    });
    render.finish();

    let png = symbol.to_png(4).expect("scale 4 is valid");
    let limits = DecodeLimits::default();
    let mut decode = c.benchmark_group("decode");
    decode.bench_function("png", |b| b.iter(|| decode_image(black_box(&png), &limits)));
    decode.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

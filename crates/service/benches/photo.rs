//! Photo processing per upload (docs/benchmarks.md): an enrolment photo from a phone (12 MP
//! JPEG) and from the webcam (a 960×1280 JPEG) made into the stored photo, beside decoding the
//! same files alone (the reference: what any service accepting the photo must do anyway); and
//! the photo profile's thumbnail and quality search beside a plain signature.
//!
//! `cargo bench -p qrid-service --bench photo`

use criterion::{criterion_group, criterion_main, Criterion};
use image::RgbImage;
use qrid_service::photo::{encode_thumbnail, process_upload, thumbnail_pixels};
use std::hint::black_box;

const PORTRAIT: &[u8] = include_bytes!("../../../tests/fixtures/portrait.png");

/// The portrait scaled to `w`×`h` and written as a JPEG, as a camera would.
fn camera_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::load_from_memory(PORTRAIT)
        .expect("the portrait")
        .to_rgb8();
    let big: RgbImage = image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle);
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(
            big.as_raw(),
            u16::try_from(w).expect("a width"),
            u16::try_from(h).expect("a height"),
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("a JPEG");
    out
}

fn decode_only(jpeg: &[u8]) -> usize {
    let mut d = zune_jpeg::JpegDecoder::new(std::io::Cursor::new(jpeg));
    d.decode().expect("decodes").len()
}

fn photos(c: &mut Criterion) {
    let phone = camera_jpeg(3000, 4000);
    let webcam = camera_jpeg(960, 1280);
    let mut g = c.benchmark_group("photo");
    g.sample_size(20);
    g.bench_function("upload_phone_12mp_jpeg", |b| {
        b.iter(|| process_upload(black_box(&phone)).expect("a photo"))
    });
    g.bench_function("reference_decode_only_phone_12mp_jpeg", |b| {
        b.iter(|| decode_only(black_box(&phone)))
    });
    g.bench_function("upload_webcam_960x1280_jpeg", |b| {
        b.iter(|| process_upload(black_box(&webcam)).expect("a photo"))
    });
    g.bench_function("reference_decode_only_webcam_960x1280_jpeg", |b| {
        b.iter(|| decode_only(black_box(&webcam)))
    });
    let stored = process_upload(&webcam).expect("a photo").jpeg;
    g.bench_function("thumbnail_pixels_from_stored", |b| {
        b.iter(|| thumbnail_pixels(black_box(&stored)).expect("pixels"))
    });
    let px = thumbnail_pixels(&stored).expect("pixels");
    g.bench_function("thumbnail_encode_q20", |b| {
        b.iter(|| encode_thumbnail(black_box(&px), 20).expect("a thumbnail"))
    });
    g.finish();
}

criterion_group!(benches, photos);
criterion_main!(benches);

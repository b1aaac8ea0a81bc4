//! Unit tests of `decode.rs`, in a file of their own to keep that one readable.

use super::*;
use crate::tests::{base45_payload, Lcg};
use crate::{Ecc, Symbol};
use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageFormat, Luma};
use std::time::Instant;

fn kind(bytes: &[u8]) -> &'static str {
    decode_image(bytes, &DecodeLimits::default())
        .unwrap_err()
        .kind()
}

use crate::hostile::chunk;

/// A well-formed PNG of a few dozen bytes whose header claims `w`×`h` 1-bit pixels.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut png = PNG_MAGIC.to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    // An empty zlib stream: the pixels are missing, which only a full decode would notice.
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

fn encode_png(img: &GrayImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

fn encode_jpeg(img: &GrayImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    out
}

/// A symbol as a gray image: `scale` pixels per module, quiet zone included.
fn symbol_image(symbol: &Symbol, scale: u32) -> GrayImage {
    let side = (symbol.modules() + 2 * crate::QUIET_ZONE) as u32 * scale;
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / scale) as usize, (y / scale) as usize);
        let q = crate::QUIET_ZONE;
        let dark = mx >= q && my >= q && symbol.is_dark(mx - q, my - q);
        Luma([if dark { 0 } else { 255 }])
    })
}

/// A "photo": the symbol printed with gray ink on light-gray, unevenly lit, noisy paper,
/// slightly out of focus.
fn photo(symbol: &Symbol, scale: u32, canvas: (u32, u32), at: (u32, u32), blur: f32) -> GrayImage {
    let qr = symbol_image(symbol, scale);
    let mut rng = Lcg(42);
    let (cw, ch) = canvas;
    let mut img = GrayImage::from_fn(cw, ch, |x, y| {
        // Light falls off towards the bottom right.
        let light = 1.0 - 0.25 * (x as f32 / cw as f32 + y as f32 / ch as f32) / 2.0;
        let inside = x >= at.0 && y >= at.1 && x - at.0 < qr.width() && y - at.1 < qr.height();
        let ink = inside && qr.get_pixel(x - at.0, y - at.1).0[0] == 0;
        let base = if ink { 45.0 } else { 205.0 };
        let noise = (rng.next() % 41) as f32 - 20.0;
        Luma([(base * light + noise).clamp(0.0, 255.0) as u8])
    });
    if blur > 0.0 {
        img = image::imageops::blur(&img, blur);
    }
    img
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 64,
        ..proptest::prelude::ProptestConfig::default()
    })]
    /// Arbitrary bytes behind each accepted magic: an error, never a panic or a text.
    #[test]
    fn arbitrary_bytes_are_refused_without_panic(
        magic in 0usize..3,
        tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
    ) {
        let mut bytes = [&b""[..], PNG_MAGIC, JPEG_MAGIC][magic].to_vec();
        bytes.extend_from_slice(&tail);
        proptest::prop_assert!(decode_image(&bytes, &DecodeLimits::default()).is_err());
    }
}

#[test]
fn refuses_what_is_not_an_image() {
    assert_eq!(kind(b""), "unsupported_image");
    let mut rng = Lcg(3);
    let random: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
    assert!(!random.starts_with(&[0x89]) && !random.starts_with(&[0xFF]));
    assert_eq!(kind(&random), "unsupported_image");
    assert_eq!(
        kind(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        "unsupported_image"
    );
    // Right magic, garbage after it.
    let mut fake_png = PNG_MAGIC.to_vec();
    fake_png.extend_from_slice(&random);
    assert_eq!(kind(&fake_png), "image_corrupt");
    let mut fake_jpeg = JPEG_MAGIC.to_vec();
    fake_jpeg.extend_from_slice(&random);
    assert_eq!(kind(&fake_jpeg), "image_corrupt");
    assert_eq!(kind(PNG_MAGIC), "image_corrupt");
}

#[test]
fn refuses_truncated_png() {
    let symbol = Symbol::encode(&base45_payload(600, 5), Ecc::M).unwrap();
    let png = symbol.to_png(4).unwrap();
    for cut in [png.len() / 2, png.len() - 13, 40] {
        assert_eq!(kind(&png[..cut]), "image_corrupt", "cut at {cut}");
    }
}

#[test]
fn refuses_decompression_bombs_from_the_header() {
    let bomb = png_claiming(100_000, 100_000);
    assert!(bomb.len() < 100);
    assert_eq!(kind(&bomb), "image_too_large");
    // Also when everything after the header is missing: a decoder that had gone on to the
    // pixels would have said `image_corrupt`, so the refusal comes from the header alone.
    assert_eq!(kind(&bomb[..33]), "image_too_large");
    // The same from a JPEG: patch the frame header of a real JPEG to 65000×65000.
    let mut jpeg = encode_jpeg(&GrayImage::from_pixel(16, 16, Luma([200])), 80);
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG has SOF0");
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xFD, 0xE8, 0xFD, 0xE8]);
    assert_eq!(kind(&jpeg), "image_too_large");
    // A small real image over a small pixel limit.
    let png = Symbol::encode("QRID", Ecc::M).unwrap().to_png(4).unwrap();
    let limits = DecodeLimits {
        max_pixels: 100 * 100,
        ..DecodeLimits::default()
    };
    let err = decode_image(&png, &limits).unwrap_err();
    assert_eq!(err.kind(), "image_too_large");
}

#[test]
fn refuses_files_over_max_bytes() {
    let png = Symbol::encode("QRID", Ecc::M).unwrap().to_png(4).unwrap();
    let limits = DecodeLimits {
        max_bytes: png.len() - 1,
        ..DecodeLimits::default()
    };
    assert_eq!(
        decode_image(&png, &limits).unwrap_err().kind(),
        "image_too_large"
    );
    let limits = DecodeLimits {
        max_bytes: png.len(),
        ..DecodeLimits::default()
    };
    assert_eq!(decode_image(&png, &limits).unwrap(), ["QRID"]);
}

#[test]
fn reports_no_qr_in_a_plain_image() {
    let mut rng = Lcg(9);
    let noise = GrayImage::from_fn(300, 200, |_, _| Luma([150 + (rng.next() % 60) as u8]));
    assert_eq!(kind(&encode_png(&noise)), "no_qr_found");
    assert_eq!(kind(&encode_jpeg(&noise, 70)), "no_qr_found");
    assert_eq!(kind(&png_claiming(1, 1)), "image_corrupt");
}

#[test]
fn reports_a_damaged_symbol_as_unreadable() {
    let symbol = Symbol::encode(&base45_payload(300, 8), Ecc::L).unwrap();
    let mut img = symbol_image(&symbol, 4);
    // Scramble a central block (well beyond what level L restores) but keep the finder
    // patterns, so that the symbol is found and its data is not readable.
    let mut rng = Lcg(11);
    let side = symbol.modules() as u32;
    for my in side / 4..side * 3 / 4 {
        for mx in side / 4..side * 3 / 4 {
            let v = if rng.next() & 1 == 0 { 0 } else { 255 };
            for dy in 0..4 {
                for dx in 0..4 {
                    img.put_pixel((mx + 4) * 4 + dx, (my + 4) * 4 + dy, Luma([v]));
                }
            }
        }
    }
    assert_eq!(kind(&encode_png(&img)), "qr_unreadable");
}

#[test]
fn finds_every_symbol_in_an_image() {
    let (a, b) = (base45_payload(100, 1), base45_payload(200, 2));
    let qa = symbol_image(&Symbol::encode(&a, Ecc::M).unwrap(), 4);
    let qb = symbol_image(&Symbol::encode(&b, Ecc::M).unwrap(), 4);
    let mut img =
        GrayImage::from_pixel(qa.width() + qb.width() + 40, qb.height() + 40, Luma([255]));
    image::imageops::overlay(&mut img, &qa, 10, 10);
    image::imageops::overlay(&mut img, &qb, i64::from(qa.width()) + 30, 20);
    let mut texts = decode_image(&encode_png(&img), &DecodeLimits::default()).unwrap();
    texts.sort();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(texts, expected);
}

#[test]
fn reads_a_jpeg_photo_of_a_credential() {
    let text = base45_payload(600, 4);
    let symbol = Symbol::encode(&text, Ecc::M).unwrap();
    let img = photo(&symbol, 6, (1400, 1100), (310, 240), 1.0);
    let jpeg = encode_jpeg(&img, 70);
    assert_eq!(
        decode_image(&jpeg, &DecodeLimits::default()).unwrap(),
        [text]
    );
}

#[test]
fn reads_a_large_blurred_phone_photo() {
    let text = base45_payload(600, 6);
    let symbol = Symbol::encode(&text, Ecc::M).unwrap();
    let img = photo(&symbol, 20, (3200, 2400), (900, 500), 3.0);
    let jpeg = encode_jpeg(&img, 70);
    assert_eq!(
        decode_image(&jpeg, &DecodeLimits::default()).unwrap(),
        [text]
    );
}

/// Gray of a symbol placed at (40, 40), 4 px per module, on white: for the hostile images
/// that must still be read.
fn symbol_at(symbol: &Symbol) -> impl Fn(u32, u32) -> u8 + '_ {
    let q = crate::QUIET_ZONE as u32;
    move |x, y| {
        let (mx, my) = (x / 4, y / 4);
        let inside = mx >= 10 + q && my >= 10 + q;
        let (mx, my) = (
            mx.wrapping_sub(10 + q) as usize,
            my.wrapping_sub(10 + q) as usize,
        );
        let dark =
            inside && mx < symbol.modules() && my < symbol.modules() && symbol.is_dark(mx, my);
        if dark {
            0
        } else {
            255
        }
    }
}

/// Issue 15 item 6: an iCCP chunk that inflates to 1 GiB cost the decoder 1 GB. The chunk is
/// skipped, not inflated: the pixels are read and so is the symbol in them, and the memory
/// estimate is that of the pixels alone.
#[test]
fn an_iccp_bomb_is_skipped_and_the_symbol_read() {
    let symbol = Symbol::encode("QRID ICCP", Ecc::M).unwrap();
    let bomb = crate::hostile::iccp_bomb(300, 300, symbol_at(&symbol), 1 << 30);
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    let limits = DecodeLimits::default();
    assert!(decode_memory(&bomb, &limits).unwrap() < 4 << 20);
    assert_eq!(decode_image(&bomb, &limits).unwrap(), ["QRID ICCP"]);
}

/// Issue 15 item 6: tiled finder patterns kept the detector busy 284 s. The detector's
/// steps are counted, and the image is refused once it has spent `max_work` of them: the
/// same refusal after the same work, every time.
#[test]
fn tiled_finder_patterns_are_refused_as_too_complex() {
    let trap = crate::hostile::tiled_finders(1600, 2);
    assert!(trap.len() < 64 << 10, "{} bytes", trap.len());
    assert_eq!(kind(&trap), "image_too_complex");
    // A smaller budget refuses sooner; the refusal does not depend on the machine.
    let limits = DecodeLimits {
        max_work: 5_000_000,
        ..DecodeLimits::default()
    };
    for _ in 0..2 {
        let err = decode_image(&trap, &limits).unwrap_err();
        assert_eq!(err, QrError::ImageTooComplex);
    }
}

/// A set cancel flag stops the work with its own error, whether in the PNG rows or in the
/// detector.
#[test]
fn a_cancelled_decode_stops_with_cancelled() {
    let cancel = AtomicBool::new(true);
    let limits = DecodeLimits::default();
    let png = Symbol::encode("QRID", Ecc::M).unwrap().to_png(4).unwrap();
    let err = decode_image_cancellable(&png, &limits, &cancel).unwrap_err();
    assert_eq!(err.kind(), "cancelled");
    let jpeg = encode_jpeg(&GrayImage::from_pixel(2000, 1500, Luma([200])), 80);
    let err = decode_image_cancellable(&jpeg, &limits, &cancel).unwrap_err();
    assert_eq!(err.kind(), "cancelled");
}

/// Issue 15 item 6: large 16-bit images within the pixel limit cost 400–500 MB. They are
/// decoded row by row to 8-bit gray; the estimate is about one byte a pixel.
#[test]
fn a_large_16_bit_png_is_decoded_to_gray_within_the_estimate() {
    let symbol = Symbol::encode("QRID 16 BIT", Ecc::M).unwrap();
    let png = crate::hostile::png16_rgba(6000, 6000, symbol_at(&symbol));
    let limits = DecodeLimits::default();
    let need = decode_memory(&png, &limits).unwrap();
    assert!(need < 64 << 20, "{need}");
    assert_eq!(decode_image(&png, &limits).unwrap(), ["QRID 16 BIT"]);
}

/// Issue 15 item 6: large CMYK JPEGs cost 400–500 MB. They are decoded through RGB (zune-jpeg
/// has no CMYK to gray), progressive ones hold all their coefficients: the estimate says so
/// from the headers, and one over the memory limit is refused before decoding; smaller ones
/// are decoded.
#[test]
fn cmyk_and_progressive_jpegs_are_read_or_refused_by_their_memory_need() {
    let symbol = Symbol::encode("QRID JPEG", Ecc::M).unwrap();
    let limits = DecodeLimits::default();
    for progressive in [false, true] {
        let big = crate::hostile::cmyk_jpeg(6000, 6000, progressive, |_, _| 255);
        let err = decode_image(&big, &limits).unwrap_err();
        assert_eq!(err.kind(), "image_too_large", "{err}");
        assert!(err.to_string().contains("MiB"), "{err}");
        // Within the limit it goes to the decoder. zune-jpeg 0.5.15 turns this encoder's
        // baseline CMYK into alternate black rows and refuses its progressive CMYK, so no
        // symbol is asserted: only that it is not refused for its size.
        let small = crate::hostile::cmyk_jpeg(1200, 900, progressive, symbol_at(&symbol));
        assert!(decode_memory(&small, &limits).unwrap() < 16 << 20);
        let expected = if progressive {
            "image_corrupt"
        } else {
            "no_qr_found"
        };
        assert_eq!(kind(&small), expected);
    }
    let big = crate::hostile::ycbcr_jpeg(7000, 5500, true, |_, _| 255);
    assert_eq!(kind(&big), "image_too_large");
    let photo = crate::hostile::ycbcr_jpeg(4000, 3000, true, symbol_at(&symbol));
    assert!(decode_memory(&photo, &limits).unwrap() < limits.max_memory);
    assert_eq!(decode_image(&photo, &limits).unwrap(), ["QRID JPEG"]);
    // Baseline 40 MP: the largest photo the pixel limit lets through fits the memory limit.
    let baseline = crate::hostile::ycbcr_jpeg(7300, 5470, false, |_, _| 255);
    assert!(decode_memory(&baseline, &limits).unwrap() < limits.max_memory);
}

fn gray_of(bytes: &[u8]) -> GrayImage {
    let header = Header::read(bytes, &DecodeLimits::default()).unwrap();
    match header.layout {
        Layout::Png => decode_png(bytes, &AtomicBool::new(false)).unwrap(),
        Layout::Jpeg { components } => decode_jpeg(bytes, &header, components).unwrap(),
    }
}

/// Detector steps spent on real photos and on tiled finder patterns: the measurement behind
/// the default `max_work`. Run with `--ignored --nocapture`.
#[test]
#[ignore]
fn measure_work() {
    let text = base45_payload(600, 6);
    let symbol = Symbol::encode(&text, Ecc::M).unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for (scale, canvas, at, blur, quality) in [
        (6, (1400, 1100), (310, 240), 1.0, 70),
        (20, (3200, 2400), (900, 500), 3.0, 70),
        (20, (3200, 2400), (900, 500), 6.0, 60),
        (28, (4000, 3000), (800, 400), 8.0, 60),
    ] {
        let jpeg = encode_jpeg(&photo(&symbol, scale, canvas, at, blur), quality);
        cases.push((format!("photo {canvas:?} blur {blur}"), jpeg));
    }
    let mut rng = Lcg(9);
    let noise = GrayImage::from_fn(4000, 3000, |_, _| Luma([(rng.next() % 256) as u8]));
    cases.push(("noise 4000x3000".into(), encode_png(&noise)));
    for (side, scale) in [(400, 1), (800, 2), (1600, 2), (2000, 2), (4000, 2)] {
        cases.push((
            format!("tiled finders {side} px, {scale} px/module"),
            crate::hostile::tiled_finders(side, scale),
        ));
    }
    for (name, bytes) in cases {
        let gray = gray_of(&bytes);
        let meter = Meter {
            used: Cell::new(0),
            max: 2_000_000_000,
            cancel: &AtomicBool::new(false),
        };
        let t = Instant::now();
        let outcome = detect(gray, &meter).map(|t| t.len());
        println!(
            "{name}: {outcome:?}, {} M steps, {:?}",
            meter.used.get() / 1_000_000,
            t.elapsed()
        );
    }
}

/// Which attempt reads which kind of image: the measurement behind the attempt order.
/// Run with `--ignored --nocapture`.
#[test]
#[ignore]
fn measure_attempts() {
    let text = base45_payload(600, 6);
    let symbol = Symbol::encode(&text, Ecc::M).unwrap();
    for (scale, canvas, at, blur, quality) in [
        (6, (1400, 1100), (310, 240), 1.0, 70),
        (6, (1400, 1100), (310, 240), 2.0, 50),
        (20, (3200, 2400), (900, 500), 3.0, 70),
        (20, (3200, 2400), (900, 500), 6.0, 60),
        (28, (4000, 3000), (800, 400), 8.0, 60),
    ] {
        let img = photo(&symbol, scale, canvas, at, blur);
        let jpeg = encode_jpeg(&img, quality);
        let gray = image::load_from_memory(&jpeg).unwrap().to_luma8();
        let t = Instant::now();
        let meter = Meter {
            used: Cell::new(0),
            max: u64::MAX,
            cancel: &AtomicBool::new(false),
        };
        let as_is = read_all(&gray, &meter).map(|t| t.len());
        let t1 = t.elapsed();
        let small = downscale(&gray, DOWNSCALE_LONG_SIDE);
        let t = Instant::now();
        let down = read_all(&small, &meter).map(|t| t.len());
        let t2 = t.elapsed();
        let t = Instant::now();
        let bin = read_all(&binarise(gray.clone()), &meter).map(|t| t.len());
        let t3 = t.elapsed();
        let bin_small = read_all(&binarise(small.clone()), &meter).map(|t| t.len());
        println!(
            "scale {scale} canvas {canvas:?} blur {blur} q{quality}: as-is {as_is:?} ({t1:?}), \
             downscaled {down:?} ({t2:?}), binarised {bin:?} ({t3:?}), both {bin_small:?}"
        );
    }
}

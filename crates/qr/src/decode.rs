use crate::QrError;
use image::{DynamicImage, GrayImage, ImageError, ImageFormat, ImageReader};
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Bounds on an image handed to [`decode_image`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Largest width × height accepted, read from the header before any pixel is decoded.
    pub max_pixels: u64,
}

impl Default for DecodeLimits {
    /// 20 MiB and 40 megapixels: any phone photo, no decompression bomb.
    fn default() -> Self {
        DecodeLimits {
            max_bytes: 20 * 1024 * 1024,
            max_pixels: 40_000_000,
        }
    }
}

/// Photos larger than this on their long side are also tried downscaled: the QR detector's
/// finder-pattern search works best when a module is a few pixels wide, and phone photos of a
/// card often have modules 20+ pixels wide with sensor noise inside them.
const DOWNSCALE_LONG_SIDE: u32 = 1600;

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];

/// Finds and reads every QR code in a PNG or JPEG image; returns their texts in the order found.
///
/// Guarantees, in this order, before any pixel is decoded:
/// - input longer than `limits.max_bytes` is refused with [`QrError::ImageTooLarge`];
/// - anything but PNG or JPEG (judged by magic bytes, not by name) is refused with
///   [`QrError::UnsupportedImage`];
/// - an image whose header claims more than `limits.max_pixels` pixels is refused with
///   [`QrError::ImageTooLarge`], without allocating its pixels.
///
/// Then an undecodable image gives [`QrError::ImageCorrupt`]; an image without any QR symbol
/// [`QrError::NoQrFound`]; one where symbols were seen but none could be read
/// [`QrError::QrUnreadable`]. Large photos are tried downscaled first, then at full size; each
/// as it is and then binarised; the first attempt that reads a symbol wins.
pub fn decode_image(bytes: &[u8], limits: &DecodeLimits) -> Result<Vec<String>, QrError> {
    if bytes.len() > limits.max_bytes {
        return Err(QrError::ImageTooLarge(format!(
            "file of {} bytes, limit {}",
            bytes.len(),
            limits.max_bytes
        )));
    }
    let format = if bytes.starts_with(PNG_MAGIC) {
        ImageFormat::Png
    } else if bytes.starts_with(JPEG_MAGIC) {
        ImageFormat::Jpeg
    } else {
        return Err(QrError::UnsupportedImage);
    };
    // The PNG IHDR sits at a fixed offset, so a bomb is refused even when the rest of the file
    // is missing or damaged (the decoder would otherwise report it as corrupt, not too large).
    if let Some((w, h)) = png_ihdr_dimensions(bytes) {
        check_pixels(w, h, limits)?;
    }
    let (w, h) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(image_error)?;
    check_pixels(w, h, limits)?;

    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(w);
    image_limits.max_image_height = Some(h);
    // Room for the widest decoded layout (16-bit RGBA) of an image within max_pixels.
    image_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    reader.limits(image_limits);
    let img = reader.decode().map_err(image_error)?;
    let gray = DynamicImage::to_luma8(&img);
    drop(img);

    let mut unreadable = None;
    let mut attempt = |candidate: &GrayImage| -> Option<Vec<String>> {
        match read_all(candidate) {
            Ok(texts) if !texts.is_empty() => Some(texts),
            Ok(_) => None,
            Err(e) => {
                unreadable = Some(e);
                None
            }
        }
    };
    // Order measured on synthetic photos (test `measure_attempts`): a large photo read at
    // <= 1600 px costs ~80 ms against ~300 ms (8 MP) at full size and reads most of them, so it
    // goes first; Otsu binarisation rescued small noisy JPEGs that rqrr's own adaptive
    // threshold missed; full resolution still reads some photos the downscaled copy does not.
    if gray.width().max(gray.height()) > DOWNSCALE_LONG_SIDE {
        let small = downscale(&gray, DOWNSCALE_LONG_SIDE);
        if let Some(texts) = attempt(&small).or_else(|| attempt(&binarise(&small))) {
            return Ok(texts);
        }
    }
    if let Some(texts) = attempt(&gray).or_else(|| attempt(&binarise(&gray))) {
        return Ok(texts);
    }
    Err(unreadable.unwrap_or(QrError::NoQrFound))
}

fn check_pixels(w: u32, h: u32, limits: &DecodeLimits) -> Result<(), QrError> {
    if u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(QrError::ImageTooLarge(format!(
            "{w}x{h} pixels, limit {}",
            limits.max_pixels
        )));
    }
    Ok(())
}

/// Width and height from a PNG's first chunk, if it is a well-placed IHDR.
fn png_ihdr_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let chunk = bytes.get(PNG_MAGIC.len()..PNG_MAGIC.len() + 16)?;
    if chunk.get(4..8)? != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(chunk.get(8..12)?.try_into().ok()?);
    let h = u32::from_be_bytes(chunk.get(12..16)?.try_into().ok()?);
    Some((w, h))
}

fn image_error(e: ImageError) -> QrError {
    match e {
        ImageError::Limits(e) => QrError::ImageTooLarge(e.to_string()),
        ImageError::Unsupported(e) => QrError::ImageCorrupt(e.to_string()),
        e => QrError::ImageCorrupt(e.to_string()),
    }
}

/// Decodes every grid rqrr detects; `Ok(empty)` when none is found, `Err` when grids were found
/// but none could be read.
fn read_all(gray: &GrayImage) -> Result<Vec<String>, QrError> {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let raw = gray.as_raw();
    // rqrr is third-party geometry code fed with attacker-controlled pixels; a panic in it must
    // become an error, not take down a verifier counter or a server worker.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            raw.get(y * w + x).copied().unwrap_or(255)
        });
        prepared
            .detect_grids()
            .into_iter()
            .map(|grid| grid.decode().map(|(_, text)| text))
            .collect::<Vec<_>>()
    }))
    .map_err(|_| QrError::QrUnreadable("QR reader failed on this image".into()))?;
    let mut texts = Vec::new();
    let mut error = None;
    for result in outcome {
        match result {
            Ok(text) => texts.push(text),
            Err(e) => error = Some(QrError::QrUnreadable(e.to_string())),
        }
    }
    match (texts.is_empty(), error) {
        (true, Some(e)) => Err(e),
        _ => Ok(texts),
    }
}

fn downscale(gray: &GrayImage, max_side: u32) -> GrayImage {
    let (w, h) = gray.dimensions();
    let long = u64::from(w.max(h)).max(1);
    let fit = |side: u32| (u64::from(side) * u64::from(max_side) / long).max(1) as u32;
    // Area averaging: cheap on 40-megapixel photos and it suppresses sensor noise.
    image::imageops::thumbnail(gray, fit(w), fit(h))
}

/// Global Otsu threshold: on low-contrast or JPEG-smeared images it restores the hard module
/// edges that rqrr's finder-pattern search expects.
fn binarise(gray: &GrayImage) -> GrayImage {
    let mut hist = [0u64; 256];
    for p in gray.pixels() {
        hist[usize::from(p.0[0])] += 1;
    }
    let total: u64 = hist.iter().sum();
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut sum_b, mut w_b, mut best, mut threshold) = (0.0, 0u64, 0.0, 128u8);
    for (t, &c) in (0u8..=255).zip(hist.iter()) {
        w_b += c;
        if w_b == 0 {
            continue;
        }
        let w_f = total - w_b;
        if w_f == 0 {
            break;
        }
        sum_b += f64::from(t) * c as f64;
        let m_b = sum_b / w_b as f64;
        let m_f = (sum_all - sum_b) / w_f as f64;
        let between = w_b as f64 * w_f as f64 * (m_b - m_f).powi(2);
        if between > best {
            best = between;
            threshold = t;
        }
    }
    let mut out = gray.clone();
    for p in out.pixels_mut() {
        p.0[0] = if p.0[0] > threshold { 255 } else { 0 };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{base45_payload, Lcg};
    use crate::{Ecc, Symbol};
    use image::codecs::jpeg::JpegEncoder;
    use image::{GrayImage, Luma};
    use std::time::{Duration, Instant};

    fn kind(bytes: &[u8]) -> &'static str {
        decode_image(bytes, &DecodeLimits::default())
            .unwrap_err()
            .kind()
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
            }
        }
        !crc
    }

    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }

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
    fn photo(
        symbol: &Symbol,
        scale: u32,
        canvas: (u32, u32),
        at: (u32, u32),
        blur: f32,
    ) -> GrayImage {
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
        let started = Instant::now();
        let bomb = png_claiming(100_000, 100_000);
        assert!(bomb.len() < 100);
        assert_eq!(kind(&bomb), "image_too_large");
        // Also when everything after the header is missing.
        assert_eq!(kind(&bomb[..33]), "image_too_large");
        // The same from a JPEG: patch the frame header of a real JPEG to 65000×65000.
        let mut jpeg = encode_jpeg(&GrayImage::from_pixel(16, 16, Luma([200])), 80);
        let sof = jpeg
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("baseline JPEG has SOF0");
        jpeg[sof + 5..sof + 9].copy_from_slice(&[0xFD, 0xE8, 0xFD, 0xE8]);
        assert_eq!(kind(&jpeg), "image_too_large");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
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
            let as_is = read_all(&gray).map(|t| t.len());
            let t1 = t.elapsed();
            let small = downscale(&gray, DOWNSCALE_LONG_SIDE);
            let t = Instant::now();
            let down = read_all(&small).map(|t| t.len());
            let t2 = t.elapsed();
            let t = Instant::now();
            let bin = read_all(&binarise(&gray)).map(|t| t.len());
            let t3 = t.elapsed();
            let bin_small = read_all(&binarise(&small)).map(|t| t.len());
            println!(
                "scale {scale} canvas {canvas:?} blur {blur} q{quality}: as-is {as_is:?} ({t1:?}), \
                 downscaled {down:?} ({t2:?}), binarised {bin:?} ({t3:?}), both {bin_small:?}"
            );
        }
    }
}

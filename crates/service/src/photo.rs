//! Face photos: an upload (webcam frame or file) made into the photo the service stores, and the
//! thumbnail a photo credential carries.
//!
//! Whatever arrives is hostile until decoded within bounds: the size, pixel count and decode
//! memory are judged from the header before any pixel is decoded (the QR reader's checks,
//! [`qrid_qr::decode_memory`]); ancillary PNG chunks (ICC profiles, text) are never inflated;
//! the decoders run under `catch_unwind`. Only pixels survive: the stored photo is re-encoded,
//! so Exif (location, camera serial) and every other metadata is gone, after the Exif
//! orientation has been applied to the pixels.

use image::{imageops, GrayImage, RgbImage};
use sha2::{Digest, Sha256};
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The largest upload accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// The most pixels an upload may have (a 24-megapixel phone photo).
pub const MAX_PHOTO_PIXELS: u64 = 24_000_000;
/// The shortest side an upload may have: smaller is not a usable face.
pub const MIN_PHOTO_SIDE: u32 = 120;
/// The stored photo fits in this box (3:4 portrait), never enlarged.
pub const STORED_BOX: (u32, u32) = (480, 640);
/// JPEG quality of the stored photo.
pub const STORED_QUALITY: u8 = 85;
/// Memory one decode may hold (RGB pixels and the decoder's buffers).
const MAX_DECODE_MEMORY: u64 = 96 * 1024 * 1024;
/// PNG chunk data the decoder may hold (palette, Exif).
const PNG_CHUNK_MEMORY: usize = 4 * 1024 * 1024;

/// Why an upload is not a usable photo. `Display` says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoRefusal {
    /// Neither PNG nor JPEG (judged by its bytes, not its name).
    #[error("the photo is not a PNG or JPEG image")]
    NotAnImage,
    /// Over the byte, pixel or decode-memory limit.
    #[error("the photo is too large: {0}")]
    TooLarge(String),
    /// The image cannot be decoded.
    #[error("the photo cannot be read: {0}")]
    Corrupt(String),
    /// Smaller than [`MIN_PHOTO_SIDE`] on a side.
    #[error(
        "the photo is too small ({width}×{height}); it needs at least 120 pixels on each side"
    )]
    TooSmall {
        /// Pixels.
        width: u32,
        /// Pixels.
        height: u32,
    },
}

impl PhotoRefusal {
    /// The stable kind (the HTTP problem kind of the same name).
    pub fn kind(&self) -> &'static str {
        match self {
            PhotoRefusal::NotAnImage => "unsupported_image",
            PhotoRefusal::TooLarge(_) => "image_too_large",
            PhotoRefusal::Corrupt(_) => "image_corrupt",
            PhotoRefusal::TooSmall { .. } => "photo_too_small",
        }
    }
}

/// A photo as the service stores it: a baseline JPEG without metadata.
#[derive(Clone, PartialEq, Eq)]
pub struct Photo {
    /// The JPEG file.
    pub jpeg: Vec<u8>,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// SHA-256 of `jpeg`.
    pub sha256: [u8; 32],
}

impl std::fmt::Debug for Photo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Photo({}×{}, {} B)",
            self.width,
            self.height,
            self.jpeg.len()
        )
    }
}

/// Makes an upload into the stored photo: checked, decoded within bounds, turned upright by its
/// Exif orientation, shrunk to fit [`STORED_BOX`], re-encoded as JPEG. CPU-bound: call it on a
/// blocking thread.
pub fn process_upload(bytes: &[u8]) -> Result<Photo, PhotoRefusal> {
    // The QR reader's estimate (gray pixels and its detector's copies, about three bytes a
    // pixel) is in the order of what a colour decode holds (three bytes a pixel and the
    // decoder's buffers); MAX_PHOTO_PIXELS keeps both under MAX_DECODE_MEMORY.
    let limits = qrid_qr::DecodeLimits {
        max_bytes: MAX_PHOTO_BYTES,
        max_pixels: MAX_PHOTO_PIXELS,
        max_memory: MAX_DECODE_MEMORY,
        ..qrid_qr::DecodeLimits::default()
    };
    qrid_qr::decode_memory(bytes, &limits).map_err(|e| match e {
        qrid_qr::QrError::UnsupportedImage => PhotoRefusal::NotAnImage,
        qrid_qr::QrError::ImageTooLarge(why) => PhotoRefusal::TooLarge(why),
        other => PhotoRefusal::Corrupt(other.to_string()),
    })?;
    let rgb = if bytes.starts_with(b"\x89PNG") {
        decode_png(bytes)?
    } else {
        decode_jpeg(bytes)?
    };
    if rgb.width() < MIN_PHOTO_SIDE || rgb.height() < MIN_PHOTO_SIDE {
        return Err(PhotoRefusal::TooSmall {
            width: rgb.width(),
            height: rgb.height(),
        });
    }
    let fitted = fit(rgb, STORED_BOX);
    let jpeg = encode_jpeg(&fitted, STORED_QUALITY)?;
    Ok(Photo {
        sha256: Sha256::digest(&jpeg).into(),
        width: fitted.width(),
        height: fitted.height(),
        jpeg,
    })
}

/// The face thumbnail of a photo credential: gray, this many pixels (docs/credential-format.md,
/// "The face in the QR", has the measurements that chose it).
pub const THUMB_SIZE: (u32, u32) = (48, 64);
/// JPEG qualities tried for the thumbnail, best first: issuance takes the first whose whole
/// credential fits [`crate::issuance::PHOTO_PROFILE_MAX_CHARS`].
pub const THUMB_QUALITIES: [u8; 12] = [30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8];

/// The thumbnail's pixels from a stored photo: cropped to 3:4 about its centre, shrunk to
/// [`THUMB_SIZE`] (Lanczos), gray. The stored photo is decoded like any upload.
pub fn thumbnail_pixels(stored_jpeg: &[u8]) -> Result<GrayImage, PhotoRefusal> {
    let rgb = decode_jpeg(stored_jpeg)?;
    let (w, h) = rgb.dimensions();
    // The largest 3:4 box inside the photo.
    let (cw, ch) = if u64::from(w) * 4 > u64::from(h) * 3 {
        ((h * 3 / 4).max(1), h)
    } else {
        (w, (w * 4 / 3).max(1))
    };
    let crop = imageops::crop_imm(&rgb, (w - cw) / 2, (h - ch) / 2, cw, ch).to_image();
    let small = imageops::resize(
        &crop,
        THUMB_SIZE.0,
        THUMB_SIZE.1,
        imageops::FilterType::Lanczos3,
    );
    Ok(image::DynamicImage::ImageRgb8(small).to_luma8())
}

/// A gray baseline JPEG with optimised Huffman tables and nothing a decoder does not need: the
/// JFIF header and the chroma quantisation table (a gray image has no chroma) are left out,
/// about 85 bytes of a 500-byte budget.
pub fn encode_thumbnail(img: &GrayImage, quality: u8) -> Result<Vec<u8>, PhotoRefusal> {
    let (w, h) = dims16(img.width(), img.height())?;
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    enc.set_optimized_huffman_tables(true);
    enc.encode(img.as_raw(), w, h, jpeg_encoder::ColorType::Luma)
        .map_err(|e| PhotoRefusal::Corrupt(e.to_string()))?;
    Ok(strip_gray_jpeg(&out))
}

/// Drops APP0 segments and every quantisation table but table 0 from a one-component JPEG
/// written by our encoder. Anything unexpected leaves the file as it was.
fn strip_gray_jpeg(jpeg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(jpeg.len());
    let Some(body) = jpeg.strip_prefix(&[0xFF, 0xD8]) else {
        return jpeg.to_vec();
    };
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut rest = body;
    loop {
        let (Some(&0xFF), Some(&marker)) = (rest.first(), rest.get(1)) else {
            return jpeg.to_vec();
        };
        if marker == 0xDA {
            // Start of scan: the entropy-coded data and the end follow unchanged.
            out.extend_from_slice(rest);
            return out;
        }
        let Some(len) = rest
            .get(2..4)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            return jpeg.to_vec();
        };
        let Some(segment) = rest.get(..2 + len).filter(|_| len >= 2) else {
            return jpeg.to_vec();
        };
        match marker {
            0xE0 => {}
            0xDB => {
                // Tables: Pq/Tq, then 64 (8-bit) or 128 (16-bit) values each.
                let mut tables = &segment[4..];
                let mut kept = Vec::new();
                while let Some(&pq_tq) = tables.first() {
                    let n = if pq_tq >> 4 == 0 { 64 } else { 128 };
                    let Some(t) = tables.get(..1 + n) else {
                        return jpeg.to_vec();
                    };
                    if pq_tq & 0x0F == 0 {
                        kept.extend_from_slice(t);
                    }
                    tables = &tables[1 + n..];
                }
                if !kept.is_empty() {
                    out.extend_from_slice(&[0xFF, 0xDB]);
                    out.extend_from_slice(&((kept.len() + 2) as u16).to_be_bytes());
                    out.extend_from_slice(&kept);
                }
            }
            _ => out.extend_from_slice(segment),
        }
        rest = &rest[2 + len..];
    }
}

/// Shrinks `img` to fit in `(w, h)` keeping its proportions; never enlarges.
pub fn fit(img: RgbImage, (w, h): (u32, u32)) -> RgbImage {
    let (iw, ih) = img.dimensions();
    if iw <= w && ih <= h {
        return img;
    }
    let scale = f64::min(f64::from(w) / f64::from(iw), f64::from(h) / f64::from(ih));
    let nw = ((f64::from(iw) * scale).round() as u32).max(1);
    let nh = ((f64::from(ih) * scale).round() as u32).max(1);
    imageops::resize(&img, nw, nh, imageops::FilterType::Triangle)
}

/// Baseline JPEG of RGB pixels.
pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, PhotoRefusal> {
    let (w, h) = dims16(img.width(), img.height())?;
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(img.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| PhotoRefusal::Corrupt(e.to_string()))?;
    Ok(out)
}

fn dims16(w: u32, h: u32) -> Result<(u16, u16), PhotoRefusal> {
    match (u16::try_from(w), u16::try_from(h)) {
        (Ok(w), Ok(h)) => Ok((w, h)),
        _ => Err(PhotoRefusal::TooLarge(
            "wider or taller than 65535 pixels".into(),
        )),
    }
}

fn decode_png(bytes: &[u8]) -> Result<RgbImage, PhotoRefusal> {
    let corrupt = |e: png::DecodingError| PhotoRefusal::Corrupt(e.to_string());
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: PNG_CHUNK_MEMORY,
        },
    );
    // A face needs none of these; an iCCP or zTXt chunk inflates to anything.
    decoder.set_ignore_iccp_chunk(true);
    decoder.set_ignore_text_chunk(true);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        let mut reader = decoder.read_info().map_err(corrupt)?;
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| PhotoRefusal::TooLarge("the PNG's pixels".into()))?;
        let mut buf = vec![0u8; size];
        let info = reader.next_frame(&mut buf).map_err(corrupt)?;
        buf.truncate(info.buffer_size());
        Ok::<_, PhotoRefusal>((buf, info))
    }))
    .map_err(|_| PhotoRefusal::Corrupt("the PNG decoder failed on this image".into()))??;
    let (buf, info) = decoded;
    let channels = info.color_type.samples();
    let mut rgb = Vec::with_capacity(info.width as usize * info.height as usize * 3);
    for px in buf.chunks_exact(channels) {
        match channels {
            1 | 2 => rgb.extend_from_slice(&[px[0], px[0], px[0]]),
            _ => rgb.extend_from_slice(&px[..3]),
        }
    }
    RgbImage::from_raw(info.width, info.height, rgb)
        .ok_or_else(|| PhotoRefusal::Corrupt("PNG pixel count differs from its header".into()))
}

fn decode_jpeg(bytes: &[u8]) -> Result<RgbImage, PhotoRefusal> {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(16_384)
        .set_max_height(16_384);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(Cursor::new(bytes), options);
    // zune-jpeg is third-party code fed with attacker-controlled bytes.
    let (pixels, orientation) = catch_unwind(AssertUnwindSafe(|| {
        decoder
            .decode_headers()
            .map_err(|e| PhotoRefusal::Corrupt(e.to_string()))?;
        let orientation = decoder.exif().map_or(1, |e| exif_orientation(e));
        let pixels = decoder
            .decode()
            .map_err(|e| PhotoRefusal::Corrupt(e.to_string()))?;
        Ok::<_, PhotoRefusal>((pixels, orientation))
    }))
    .map_err(|_| PhotoRefusal::Corrupt("the JPEG decoder failed on this image".into()))??;
    let (w, h) = decoder
        .dimensions()
        .ok_or_else(|| PhotoRefusal::Corrupt("the JPEG has no size".into()))?;
    let img = RgbImage::from_raw(w as u32, h as u32, pixels)
        .ok_or_else(|| PhotoRefusal::Corrupt("JPEG pixel count differs from its header".into()))?;
    Ok(orient(img, orientation))
}

/// Turns pixels upright by the Exif orientation (1–8); anything else leaves them as they are.
fn orient(img: RgbImage, orientation: u16) -> RgbImage {
    match orientation {
        2 => imageops::flip_horizontal(&img),
        3 => imageops::rotate180(&img),
        4 => imageops::flip_vertical(&img),
        5 => imageops::flip_horizontal(&imageops::rotate90(&img)),
        6 => imageops::rotate90(&img),
        7 => imageops::flip_horizontal(&imageops::rotate270(&img)),
        8 => imageops::rotate270(&img),
        _ => img,
    }
}

/// The orientation tag (0x0112) of IFD0 of an Exif block (`Exif\0\0` and a TIFF header, or the
/// TIFF header alone), or 1 when there is none or the block is malformed. Reads at most IFD0's
/// entries, each bounds-checked.
fn exif_orientation(exif: &[u8]) -> u16 {
    let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    let le = match tiff.get(..2) {
        Some(b"II") => true,
        Some(b"MM") => false,
        _ => return 1,
    };
    let u16_at = |o: usize| -> Option<u16> {
        let b = tiff.get(o..o + 2)?;
        Some(if le {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |o: usize| -> Option<u32> {
        let b = tiff.get(o..o + 4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let found = (|| {
        let ifd = u32_at(4)? as usize;
        let count = u16_at(ifd)? as usize;
        (0..count.min(256)).find_map(|i| {
            let entry = ifd + 2 + 12 * i;
            (u16_at(entry)? == 0x0112).then(|| u16_at(entry + 8))?
        })
    })();
    found.unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn portrait(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        })
    }

    fn png_of(img: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("encode a PNG");
        out
    }

    #[test]
    fn an_upload_becomes_a_jpeg_that_fits_the_box() {
        let photo = process_upload(&png_of(&portrait(900, 1200))).expect("a photo");
        assert_eq!((photo.width, photo.height), (480, 640));
        assert!(photo.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert_eq!(photo.sha256, <[u8; 32]>::from(Sha256::digest(&photo.jpeg)));
        // Re-encoding is stable enough to be stored once; a second pass of the stored photo
        // keeps its size (it fits the box already).
        let again = process_upload(&photo.jpeg).expect("the stored photo reads back");
        assert_eq!((again.width, again.height), (480, 640));
    }

    /// The markers of a JPEG's segments before its scan.
    fn header_markers(jpeg: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut at = 2;
        while let (Some(&0xFF), Some(&m)) = (jpeg.get(at), jpeg.get(at + 1)) {
            out.push(m);
            if m == 0xDA {
                break;
            }
            let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
            at += 2 + len;
        }
        out
    }

    #[test]
    fn a_phone_photo_of_twelve_megapixels_is_taken() {
        let img = portrait(3000, 4000);
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 90)
            .encode(img.as_raw(), 3000, 4000, jpeg_encoder::ColorType::Rgb)
            .expect("a JPEG");
        let photo = process_upload(&jpeg).expect("a 12 MP phone photo is a usable photo");
        assert_eq!((photo.width, photo.height), STORED_BOX);
    }

    #[test]
    fn refusals_say_what_was_wrong() {
        assert_eq!(
            process_upload(b"GIF89a....").unwrap_err(),
            PhotoRefusal::NotAnImage
        );
        assert_eq!(
            process_upload(&png_of(&portrait(100, 300)))
                .unwrap_err()
                .kind(),
            "photo_too_small"
        );
        let mut cut = png_of(&portrait(300, 400));
        cut.truncate(cut.len() / 2);
        assert_eq!(process_upload(&cut).unwrap_err().kind(), "image_corrupt");
    }

    #[test]
    fn the_thumbnail_is_a_small_gray_jpeg_that_decoders_read() {
        let photo = process_upload(&png_of(&portrait(480, 640))).expect("a photo");
        let px = thumbnail_pixels(&photo.jpeg).expect("pixels");
        assert_eq!(px.dimensions(), THUMB_SIZE);
        let mut last = usize::MAX;
        for q in THUMB_QUALITIES {
            let jpeg = encode_thumbnail(&px, q).expect("a thumbnail");
            assert!(
                jpeg.len() <= last,
                "quality {q} is larger than the one above it"
            );
            last = jpeg.len();
            // No JFIF header, one quantisation table; still a JPEG the image crate reads.
            let markers = header_markers(&jpeg);
            assert!(
                !markers.contains(&0xE0),
                "an APP0 segment is left: {markers:x?}"
            );
            assert_eq!(
                markers.iter().filter(|m| **m == 0xDB).count(),
                1,
                "{markers:x?}"
            );
            let back = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
                .expect("the stripped thumbnail decodes");
            assert_eq!((back.width(), back.height()), THUMB_SIZE);
        }
        // A square photo is cropped to 3:4, not squashed.
        let square = process_upload(&png_of(&portrait(400, 400))).expect("a photo");
        assert_eq!(
            thumbnail_pixels(&square.jpeg).expect("pixels").dimensions(),
            THUMB_SIZE
        );
    }

    #[test]
    fn exif_orientation_is_read_from_either_byte_order() {
        // II, IFD at 8, one entry: tag 0x0112, type SHORT, count 1, value 6.
        let le = [
            b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0,
        ];
        assert_eq!(exif_orientation(&le), 6);
        let be = [
            b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 8, 0, 0,
        ];
        assert_eq!(exif_orientation(&be), 8);
        assert_eq!(exif_orientation(b"Exif\0\0II"), 1);
        assert_eq!(exif_orientation(&[]), 1);
        let rotated = orient(portrait(200, 300), 6);
        assert_eq!(rotated.dimensions(), (300, 200));
    }
}

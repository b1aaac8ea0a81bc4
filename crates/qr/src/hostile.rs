//! Builders of hostile images, for the tests and benchmarks of [`decode_image`](crate::decode_image)
//! (feature `hostile-images`): each is made at run time, small on disk, and built to cost a
//! naive decoder memory or time — what issue 15 item 6 found.
//!
//! The pixels are given as a function of (x, y) returning gray, so that a caller can put a QR
//! symbol in them (to check that a guarded decode still reads it) or leave them blank.

use std::io::Write;

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

/// Appends one PNG chunk (length, kind, data, CRC-32) to `out`.
pub(crate) fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// An 8-bit gray PNG of `w`×`h` pixels whose iCCP chunk (placed before the pixels, as the
/// format requires) holds a zlib stream that inflates to `inflated` zero bytes: about 1 MiB on
/// disk for 1 GiB inflated.
pub fn iccp_bomb(w: u32, h: u32, gray: impl Fn(u32, u32) -> u8, inflated: u64) -> Vec<u8> {
    let mut profile = b"qrid test profile\0\0".to_vec(); // name, NUL, compression method 0
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    let mut left = inflated;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        z.write_all(&zeros[..n]).expect("writes to a Vec");
        left -= n as u64;
    }
    profile.extend_from_slice(&z.finish().expect("writes to a Vec"));
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"iCCP", &profile);
    let mut raw = Vec::with_capacity((w as usize + 1) * h as usize);
    for y in 0..h {
        raw.push(0);
        raw.extend((0..w).map(|x| gray(x, y)));
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).expect("writes to a Vec");
    chunk(&mut png, b"IDAT", &z.finish().expect("writes to a Vec"));
    chunk(&mut png, b"IEND", &[]);
    png
}

/// A 1-bit PNG of `side`×`side` pixels tiled with QR finder patterns (7×7 modules and a
/// one-module light border), `scale` pixels per module: a few KiB on disk, and to a detector
/// that checks every triple of finder patterns as a possible symbol, a great many candidates.
pub fn tiled_finders(side: u32, scale: u32) -> Vec<u8> {
    let scale = scale.max(1);
    let dark = |x: u32, y: u32| {
        let (mx, my) = ((x / scale) % 8, (y / scale) % 8);
        if mx == 7 || my == 7 {
            return false;
        }
        // Rings around the centre module: dark 3×3 core, light ring, dark outer ring.
        mx.abs_diff(3).max(my.abs_diff(3)) != 2
    };
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().expect("writes to a Vec");
    let stride = side.div_ceil(8) as usize;
    let mut data = vec![0u8; stride * side as usize];
    for y in 0..side {
        for x in 0..side {
            if !dark(x, y) {
                data[y as usize * stride + x as usize / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    writer.write_image_data(&data).expect("writes to a Vec");
    writer.finish().expect("writes to a Vec");
    png
}

/// A 16-bit RGBA PNG of `w`×`h` pixels (8 bytes a pixel once decoded the usual way), written
/// row by row so that making it holds no full image.
pub fn png16_rgba(w: u32, h: u32, gray: impl Fn(u32, u32) -> u8) -> Vec<u8> {
    // png's stream writer wants to own its sink for 'static.
    #[derive(Clone, Default)]
    struct Sink(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let mut encoder = png::Encoder::new(sink.clone(), w, h);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Sixteen);
    encoder.set_compression(png::Compression::Fastest);
    let mut writer = encoder
        .write_header()
        .expect("writes to a Vec")
        .into_stream_writer()
        .expect("writes to a Vec");
    let mut row = Vec::with_capacity(w as usize * 8);
    for y in 0..h {
        row.clear();
        for x in 0..w {
            let v = gray(x, y);
            row.extend_from_slice(&[v, v, v, v, v, v, 0xFF, 0xFF]);
        }
        writer.write_all(&row).expect("writes to a Vec");
    }
    writer.finish().expect("writes to a Vec");
    sink.0.take()
}

/// A CMYK JPEG (Adobe, as print software writes them) of `w`×`h` pixels, baseline or
/// progressive; gray values become K. The samples are written as Adobe software stores them,
/// 255 for no ink.
pub fn cmyk_jpeg(w: u16, h: u16, progressive: bool, gray: impl Fn(u32, u32) -> u8) -> Vec<u8> {
    let mut cmyk = Vec::with_capacity(usize::from(w) * usize::from(h) * 4);
    for y in 0..u32::from(h) {
        for x in 0..u32::from(w) {
            cmyk.extend_from_slice(&[0, 0, 0, 255 - gray(x, y)]);
        }
    }
    encode_jpeg(&cmyk, w, h, jpeg_encoder::ColorType::Cmyk, progressive)
}

/// A YCbCr JPEG (4:2:0) of `w`×`h` pixels, baseline or progressive.
pub fn ycbcr_jpeg(w: u16, h: u16, progressive: bool, gray: impl Fn(u32, u32) -> u8) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..u32::from(h) {
        for x in 0..u32::from(w) {
            let v = gray(x, y);
            rgb.extend_from_slice(&[v, v, v]);
        }
    }
    encode_jpeg(&rgb, w, h, jpeg_encoder::ColorType::Rgb, progressive)
}

fn encode_jpeg(
    data: &[u8],
    w: u16,
    h: u16,
    color: jpeg_encoder::ColorType,
    progressive: bool,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 85);
    encoder.set_progressive(progressive);
    if color == jpeg_encoder::ColorType::Rgb {
        encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    }
    encoder
        .encode(data, w, h, color)
        .expect("a valid image to encode");
    out
}

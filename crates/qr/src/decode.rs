use crate::QrError;
use image::{GenericImage, GenericImageView, GrayImage, Luma, Pixel};
use std::cell::Cell;
use std::io::Cursor;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

/// Bounds on an image handed to [`decode_image`]. Every one is checked before the work it
/// bounds is done, so that a refusal costs next to nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Largest width × height accepted, read from the header before any pixel is decoded.
    pub max_pixels: u64,
    /// Most memory one decode may hold at once, in bytes, beside the file itself: judged from
    /// the header (dimensions, JPEG components and scan layout) by [`decode_memory`] before any
    /// pixel is decoded. It covers the decoder's buffers and the detector's copies; ancillary
    /// data (ICC profiles, text, Exif) is skipped, not held.
    pub max_memory: u64,
    /// Most steps the QR detector may take over all its attempts on one image (one step per
    /// pixel it reads, writes or copies). Real photos need a few dozen steps per pixel; an image
    /// built to make the detector try candidate after candidate reaches the limit and is
    /// refused with [`QrError::ImageTooComplex`], after the same amount of work every time.
    pub max_work: u64,
}

impl Default for DecodeLimits {
    /// 20 MiB, 40 megapixels, 96 MiB of memory and 100 million detector steps: any phone photo
    /// (a 40-megapixel baseline JPEG needs about 73 MiB; the photos in the tests take 15–30
    /// million steps), no decompression bomb, and a bounded time per image (about a second
    /// when a detector trap spends all its steps; docs/benchmarks.md).
    fn default() -> Self {
        DecodeLimits {
            max_bytes: 20 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_memory: 96 * 1024 * 1024,
            max_work: 100_000_000,
        }
    }
}

/// Photos larger than this on their long side are also tried downscaled: the QR detector's
/// finder-pattern search works best when a module is a few pixels wide, and phone photos of a
/// card often have modules 20+ pixels wide with sensor noise inside them.
const DOWNSCALE_LONG_SIDE: u32 = 1600;

/// The "full size" attempt looks at no more pixels than this: larger images are shrunk to it
/// first. The detector holds three copies of what it looks at (the image, its own mutable copy,
/// and a copy per candidate symbol it checks), so this bounds its memory whatever the photo.
const DETECT_MAX_PIXELS: u64 = 8_000_000;

/// Allowance for what is not proportional to the pixels: row buffers, tables, the detector's
/// candidate lists.
const FIXED_MEMORY: u64 = 2 * 1024 * 1024;

/// Memory the PNG decoder may use for chunk data it keeps (palette, Exif, which it cannot skip).
/// ICC profiles and text chunks are not read at all.
const PNG_CHUNK_MEMORY: usize = 4 * 1024 * 1024;

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];

/// Finds and reads every QR code in a PNG or JPEG image; returns their texts in the order found.
/// The same as [`decode_image_cancellable`] with a flag nobody sets.
pub fn decode_image(bytes: &[u8], limits: &DecodeLimits) -> Result<Vec<String>, QrError> {
    decode_image_cancellable(bytes, limits, &AtomicBool::new(false))
}

/// Finds and reads every QR code in a PNG or JPEG image; returns their texts in the order found.
///
/// Guarantees, in this order, before any pixel is decoded:
/// - input longer than `limits.max_bytes` is refused with [`QrError::ImageTooLarge`];
/// - anything but PNG or JPEG (judged by magic bytes, not by name) is refused with
///   [`QrError::UnsupportedImage`];
/// - an image whose header claims more than `limits.max_pixels` pixels, or whose decoding would
///   need more than `limits.max_memory` bytes ([`decode_memory`]), is refused with
///   [`QrError::ImageTooLarge`], without allocating its pixels.
///
/// Pixels are decoded straight to 8-bit gray, row by row for PNG (16-bit, palette and colour
/// images never exist at full size), and ancillary chunks (ICC profiles, text) are skipped
/// without being inflated. The detector's work is bounded by `limits.max_work`
/// ([`QrError::ImageTooComplex`]). Setting `cancel` stops the work within a few milliseconds
/// with [`QrError::Cancelled`]: the service sets it when the request that wanted the answer has
/// ended.
///
/// Then an undecodable image gives [`QrError::ImageCorrupt`]; an image without any QR symbol
/// [`QrError::NoQrFound`]; one where symbols were seen but none could be read
/// [`QrError::QrUnreadable`]. Large photos are tried downscaled first, then at full size (at
/// most 8 megapixels); each as it is and then binarised; the first attempt that reads a symbol
/// wins.
pub fn decode_image_cancellable(
    bytes: &[u8],
    limits: &DecodeLimits,
    cancel: &AtomicBool,
) -> Result<Vec<String>, QrError> {
    let header = Header::read(bytes, limits)?;
    let gray = match header.layout {
        Layout::Png => decode_png(bytes, cancel)?,
        Layout::Jpeg { components, .. } => decode_jpeg(bytes, &header, components)?,
    };
    if (gray.width(), gray.height()) != (header.width, header.height) {
        return Err(QrError::ImageCorrupt(
            "decoded size differs from the header".into(),
        ));
    }
    let meter = Meter {
        used: Cell::new(0),
        max: limits.max_work,
        cancel,
    };
    detect(gray, &meter)
}

/// The most memory, in bytes, that [`decode_image`] holds at once for this image beside the
/// file itself, judged from its header alone (nothing is decoded). Refuses what `decode_image`
/// would refuse before decoding, with the same errors: a file or a pixel count over the limits,
/// a format other than PNG or JPEG, a header that cannot be read, and a need over
/// `limits.max_memory`. The service reserves this much of its image memory before decoding.
pub fn decode_memory(bytes: &[u8], limits: &DecodeLimits) -> Result<u64, QrError> {
    Header::read(bytes, limits).map(|h| h.memory)
}

#[derive(Debug, Clone, Copy)]
enum Layout {
    Png,
    Jpeg { components: u8 },
}

#[derive(Debug, Clone, Copy)]
struct Header {
    width: u32,
    height: u32,
    layout: Layout,
    /// See [`decode_memory`].
    memory: u64,
}

impl Header {
    fn read(bytes: &[u8], limits: &DecodeLimits) -> Result<Header, QrError> {
        if bytes.len() > limits.max_bytes {
            return Err(QrError::ImageTooLarge(format!(
                "file of {} bytes, limit {}",
                bytes.len(),
                limits.max_bytes
            )));
        }
        let (width, height, layout, decode_memory) = if bytes.starts_with(PNG_MAGIC) {
            let (w, h) = png_ihdr_dimensions(bytes)
                .ok_or_else(|| QrError::ImageCorrupt("PNG without a header chunk".into()))?;
            check_pixels(w, h, limits)?;
            // The gray image plus a few rows of at most 16-bit RGBA (8 bytes a pixel).
            let pixels = u64::from(w) * u64::from(h);
            (w, h, Layout::Png, pixels + 4 * 8 * u64::from(w))
        } else if bytes.starts_with(JPEG_MAGIC) {
            let frame = jpeg_frame(bytes)?;
            check_pixels(frame.width, frame.height, limits)?;
            let pixels = u64::from(frame.width) * u64::from(frame.height);
            // zune-jpeg writes gray directly from YCbCr and gray; CMYK and YCCK only to RGB,
            // which is then turned into gray in place.
            let output = if frame.components == 4 {
                3 * pixels
            } else {
                pixels
            };
            let memory = output + frame.coefficient_bytes;
            let layout = Layout::Jpeg {
                components: frame.components,
            };
            (frame.width, frame.height, layout, memory)
        } else {
            return Err(QrError::UnsupportedImage);
        };
        let pixels = u64::from(width) * u64::from(height);
        let small = pixels.min(u64::from(DOWNSCALE_LONG_SIDE).pow(2));
        let full = pixels.min(DETECT_MAX_PIXELS);
        // The decoder's buffers are gone before detection starts: the peak is the larger phase.
        let detect_memory = pixels + 3 * small.max(full);
        let memory = decode_memory.max(detect_memory) + FIXED_MEMORY;
        if memory > limits.max_memory {
            return Err(QrError::ImageTooLarge(format!(
                "decoding needs about {} MiB, limit {} MiB",
                memory.div_ceil(1 << 20),
                limits.max_memory >> 20
            )));
        }
        Ok(Header {
            width,
            height,
            layout,
            memory,
        })
    }
}

fn check_pixels(w: u32, h: u32, limits: &DecodeLimits) -> Result<(), QrError> {
    if w == 0 || h == 0 {
        return Err(QrError::ImageCorrupt(format!("{w}x{h} pixels")));
    }
    if u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(QrError::ImageTooLarge(format!(
            "{w}x{h} pixels, limit {}",
            limits.max_pixels
        )));
    }
    Ok(())
}

/// Width and height from a PNG's first chunk, if it is a well-placed IHDR. The IHDR sits at a
/// fixed offset, so a bomb is refused even when the rest of the file is missing or damaged.
fn png_ihdr_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let chunk = bytes.get(PNG_MAGIC.len()..PNG_MAGIC.len() + 16)?;
    if chunk.get(4..8)? != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(chunk.get(8..12)?.try_into().ok()?);
    let h = u32::from_be_bytes(chunk.get(12..16)?.try_into().ok()?);
    Some((w, h))
}

/// What the memory estimate needs from a JPEG's frame header and first scan header.
struct JpegFrame {
    width: u32,
    height: u32,
    components: u8,
    /// Bytes of DCT coefficients the decoder keeps for the whole image: progressive images,
    /// and baseline ones whose first scan does not carry every component, are decoded scan by
    /// scan into such a buffer (2 bytes per coefficient, MCU-padded); others an MCU row at a time.
    coefficient_bytes: u64,
}

/// Walks the marker segments up to the first scan (SOS): the frame header (SOFn) gives size,
/// components and sampling; the scan header whether the decoder must hold all coefficients.
fn jpeg_frame(bytes: &[u8]) -> Result<JpegFrame, QrError> {
    let corrupt = |what: &str| QrError::ImageCorrupt(format!("JPEG {what}"));
    let mut at = 2;
    // The frame, whether it is progressive, and each component's sampling factors.
    type Frame = (JpegFrame, bool, Vec<(u8, u8)>);
    let mut frame: Option<Frame> = None;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        if bytes.get(at) != Some(&0xFF) {
            return Err(corrupt("marker expected"));
        }
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let marker = *bytes.get(at).ok_or_else(|| corrupt("ends before a scan"))?;
        at += 1;
        if marker == 0x01 || (0xD0..=0xD8).contains(&marker) {
            continue; // no length field
        }
        let len = bytes
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .filter(|&len| len >= 2)
            .ok_or_else(|| corrupt("segment length"))?;
        let body = bytes
            .get(at + 2..at + len)
            .ok_or_else(|| corrupt("segment past the end"))?;
        at += len;
        match marker {
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if frame.is_some() {
                    return Err(corrupt("with two frame headers"));
                }
                let n = usize::from(*body.get(5).ok_or_else(|| corrupt("frame header"))?);
                let comps = body
                    .get(6..6 + 3 * n)
                    .ok_or_else(|| corrupt("frame header"))?;
                let sampling: Vec<(u8, u8)> = comps
                    .chunks_exact(3)
                    .map(|c| ((c[1] >> 4).max(1), (c[1] & 15).max(1)))
                    .collect();
                let height = u32::from(u16::from_be_bytes([body[1], body[2]]));
                let width = u32::from(u16::from_be_bytes([body[3], body[4]]));
                let progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                let info = JpegFrame {
                    width,
                    height,
                    components: n as u8,
                    coefficient_bytes: 0,
                };
                frame = Some((info, progressive, sampling));
            }
            0xDA => {
                let (mut info, progressive, sampling) =
                    frame.ok_or_else(|| corrupt("scan before the frame header"))?;
                let in_scan = usize::from(*body.first().ok_or_else(|| corrupt("scan header"))?);
                if info.components == 0 || info.components > 4 {
                    return Err(corrupt("component count"));
                }
                if progressive || in_scan < sampling.len() {
                    let h_max = u64::from(sampling.iter().map(|s| s.0).max().unwrap_or(1));
                    let v_max = u64::from(sampling.iter().map(|s| s.1).max().unwrap_or(1));
                    let mcus_x = u64::from(info.width).div_ceil(8 * h_max);
                    let mcus_y = u64::from(info.height).div_ceil(8 * v_max);
                    let blocks: u64 = sampling
                        .iter()
                        .map(|&(h, v)| mcus_x * mcus_y * u64::from(h) * u64::from(v))
                        .sum();
                    info.coefficient_bytes = blocks * 64 * 2;
                }
                return Ok(info);
            }
            0xD9 => return Err(corrupt("ends before a scan")),
            _ => {}
        }
    }
}

fn png_error(e: png::DecodingError) -> QrError {
    match e {
        png::DecodingError::LimitsExceeded => {
            QrError::ImageTooLarge("PNG chunk data over the limit".into())
        }
        e => QrError::ImageCorrupt(e.to_string()),
    }
}

/// Decodes a PNG row by row straight into 8-bit gray: 16-bit samples are stripped, palettes and
/// low bit depths expanded, colour weighted as image's `to_luma8` does, alpha ignored.
fn decode_png(bytes: &[u8], cancel: &AtomicBool) -> Result<GrayImage, QrError> {
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: PNG_CHUNK_MEMORY,
        },
    );
    // A QR reader needs none of these; an iCCP or zTXt chunk inflates to anything.
    decoder.set_ignore_iccp_chunk(true);
    decoder.set_ignore_text_chunk(true);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(png_error)?;
    let (w, h) = (reader.info().width, reader.info().height);
    let channels = reader.output_color_type().0.samples();
    let (wu, hu) = (w as usize, h as usize);
    let mut gray = vec![0u8; wu * hu];
    let mut line = vec![0u8; wu];
    let mut y = 0usize;
    while let Some(row) = reader.next_interlaced_row().map_err(png_error)? {
        if cancel.load(Ordering::Relaxed) {
            return Err(QrError::Cancelled);
        }
        let data = row.data();
        let n = data.len() / channels;
        let out = line
            .get_mut(..n)
            .ok_or_else(|| QrError::ImageCorrupt("PNG row longer than the image".into()))?;
        to_gray(data, channels, out);
        match row.interlace() {
            png::InterlaceInfo::Null(_) => {
                let dest = gray
                    .get_mut(y * wu..(y + 1) * wu)
                    .filter(|_| n == wu)
                    .ok_or_else(|| {
                        QrError::ImageCorrupt("PNG rows differ from its header".into())
                    })?;
                dest.copy_from_slice(&line[..wu]);
                y += 1;
            }
            png::InterlaceInfo::Adam7(info) => {
                png::expand_interlaced_row(&mut gray, wu, &line[..n], info, 8);
            }
        }
    }
    GrayImage::from_raw(w, h, gray).ok_or_else(|| QrError::ImageCorrupt("PNG pixel buffer".into()))
}

/// One row of 8-bit samples with `channels` per pixel into gray (Rec. 709 weights for colour).
fn to_gray(data: &[u8], channels: usize, out: &mut [u8]) {
    match channels {
        1 => out.copy_from_slice(&data[..out.len()]),
        2 => {
            for (o, px) in out.iter_mut().zip(data.chunks_exact(2)) {
                *o = px[0];
            }
        }
        _ => {
            for (o, px) in out.iter_mut().zip(data.chunks_exact(channels)) {
                *o = rgb_to_gray(px[0], px[1], px[2]);
            }
        }
    }
}

fn rgb_to_gray(r: u8, g: u8, b: u8) -> u8 {
    ((2126 * u32::from(r) + 7152 * u32::from(g) + 722 * u32::from(b)) / 10_000) as u8
}

/// Decodes a JPEG to 8-bit gray: directly for gray and YCbCr, through RGB (converted in place)
/// for CMYK and YCCK, which zune-jpeg cannot turn into gray itself.
fn decode_jpeg(bytes: &[u8], header: &Header, components: u8) -> Result<GrayImage, QrError> {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let out = if components == 4 {
        ColorSpace::RGB
    } else {
        ColorSpace::Luma
    };
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(out)
        .set_max_width(header.width as usize)
        .set_max_height(header.height as usize);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(Cursor::new(bytes), options);
    // zune-jpeg is third-party code fed with attacker-controlled bytes, like rqrr below.
    let decoded = catch_unwind(AssertUnwindSafe(|| decoder.decode()))
        .map_err(|_| QrError::ImageCorrupt("JPEG decoder failed on this image".into()))?
        .map_err(|e| QrError::ImageCorrupt(e.to_string()))?;
    let mut pixels = decoded;
    if components == 4 {
        let n = pixels.len() / 3;
        for i in 0..n {
            pixels[i] = rgb_to_gray(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]);
        }
        pixels.truncate(n);
    }
    GrayImage::from_raw(header.width, header.height, pixels)
        .ok_or_else(|| QrError::ImageCorrupt("JPEG pixel count differs from its header".into()))
}

/// The attempts in order, sharing one work meter; the first that reads a symbol wins.
fn detect(gray: GrayImage, meter: &Meter<'_>) -> Result<Vec<String>, QrError> {
    let mut unreadable = None;
    let mut attempt = |candidate: &GrayImage| -> Result<Option<Vec<String>>, QrError> {
        match read_all(candidate, meter) {
            Ok(texts) if !texts.is_empty() => Ok(Some(texts)),
            Ok(_) => Ok(None),
            Err(e @ (QrError::ImageTooComplex | QrError::Cancelled)) => Err(e),
            Err(e) => {
                unreadable = Some(e);
                Ok(None)
            }
        }
    };
    // Order measured on synthetic photos (test `measure_attempts`): a large photo read at
    // <= 1600 px costs ~80 ms against ~300 ms (8 MP) at full size and reads most of them, so it
    // goes first; Otsu binarisation rescued small noisy JPEGs that rqrr's own adaptive
    // threshold missed; full resolution still reads some photos the downscaled copy does not.
    if gray.width().max(gray.height()) > DOWNSCALE_LONG_SIDE {
        let small = downscale(&gray, DOWNSCALE_LONG_SIDE);
        if let Some(texts) = attempt(&small)? {
            return Ok(texts);
        }
        if let Some(texts) = attempt(&binarise(small))? {
            return Ok(texts);
        }
    }
    let pixels = u64::from(gray.width()) * u64::from(gray.height());
    let full = if pixels > DETECT_MAX_PIXELS {
        let long = f64::from(gray.width().max(gray.height()));
        let side = (long * (DETECT_MAX_PIXELS as f64 / pixels as f64).sqrt()) as u32;
        downscale(&gray, side)
    } else {
        gray
    };
    if let Some(texts) = attempt(&full)? {
        return Ok(texts);
    }
    if let Some(texts) = attempt(&binarise(full))? {
        return Ok(texts);
    }
    Err(unreadable.unwrap_or(QrError::NoQrFound))
}

/// Counts the detector's steps against `max_work` and watches the cancel flag. rqrr offers no
/// way to stop its search, so the image it searches does it: past the budget, or once the flag
/// is set, a pixel access unwinds (without the panic hook, so nothing is printed) to
/// [`read_all`]'s `catch_unwind`, which turns it into a typed error. Nothing rqrr built survives
/// the unwind: the prepared image and its candidates are dropped with it.
struct Meter<'a> {
    used: Cell<u64>,
    max: u64,
    cancel: &'a AtomicBool,
}

/// Why the meter stopped the detector (the unwind payload).
enum Stop {
    Budget,
    Cancelled,
}

impl Meter<'_> {
    #[inline]
    fn charge(&self, steps: u64) {
        let before = self.used.get();
        let after = before.saturating_add(steps);
        self.used.set(after);
        if after > self.max {
            resume_unwind(Box::new(Stop::Budget));
        }
        // The flag is an atomic load: look at it every 64 Ki steps (well under a millisecond).
        if (before >> 16) != (after >> 16) && self.cancel.load(Ordering::Relaxed) {
            resume_unwind(Box::new(Stop::Cancelled));
        }
    }
}

/// The gray image rqrr searches, with every access charged to the meter. rqrr copies the whole
/// image for every candidate symbol it checks, so a copy is charged per pixel too: that is what
/// made tiled finder patterns cost minutes.
struct Metered<'a> {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
    meter: &'a Meter<'a>,
}

impl Metered<'_> {
    fn index(&self, x: u32, y: u32) -> usize {
        y as usize * self.width as usize + x as usize
    }
}

impl Clone for Metered<'_> {
    fn clone(&self) -> Self {
        self.meter.charge(self.pixels.len() as u64);
        Metered {
            width: self.width,
            height: self.height,
            pixels: self.pixels.clone(),
            meter: self.meter,
        }
    }
}

impl GenericImageView for Metered<'_> {
    type Pixel = Luma<u8>;

    fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn get_pixel(&self, x: u32, y: u32) -> Luma<u8> {
        self.meter.charge(1);
        Luma([self.pixels[self.index(x, y)]])
    }
}

impl GenericImage for Metered<'_> {
    fn get_pixel_mut(&mut self, x: u32, y: u32) -> &mut Luma<u8> {
        self.meter.charge(1);
        let i = self.index(x, y);
        Luma::from_slice_mut(&mut self.pixels[i..=i])
    }

    fn put_pixel(&mut self, x: u32, y: u32, pixel: Luma<u8>) {
        self.meter.charge(1);
        let i = self.index(x, y);
        self.pixels[i] = pixel.0[0];
    }

    fn blend_pixel(&mut self, x: u32, y: u32, pixel: Luma<u8>) {
        self.put_pixel(x, y, pixel);
    }
}

/// Decodes every grid rqrr detects; `Ok(empty)` when none is found, `Err` when grids were found
/// but none could be read, or when the meter stopped the search.
fn read_all(gray: &GrayImage, meter: &Meter<'_>) -> Result<Vec<String>, QrError> {
    // rqrr is third-party geometry code fed with attacker-controlled pixels; a panic in it must
    // become an error, not take down a verifier counter or a server worker.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let image = Metered {
            width: gray.width(),
            height: gray.height(),
            pixels: gray.as_raw().clone(),
            meter,
        };
        meter.charge(image.pixels.len() as u64);
        let mut prepared = rqrr::PreparedImage::prepare(image);
        prepared
            .detect_grids()
            .into_iter()
            .map(|grid| grid.decode().map(|(_, text)| text))
            .collect::<Vec<_>>()
    }))
    .map_err(|payload| match payload.downcast_ref::<Stop>() {
        Some(Stop::Budget) => QrError::ImageTooComplex,
        Some(Stop::Cancelled) => QrError::Cancelled,
        None => QrError::QrUnreadable("QR reader failed on this image".into()),
    })?;
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
/// edges that rqrr's finder-pattern search expects. In place: the caller has no further use for
/// the gray image, and a copy would be one more image-sized buffer.
fn binarise(mut gray: GrayImage) -> GrayImage {
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
    for p in gray.pixels_mut() {
        p.0[0] = if p.0[0] > threshold { 255 } else { 0 };
    }
    gray
}

#[cfg(test)]
mod tests;

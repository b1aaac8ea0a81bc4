use crate::QrError;
use fast_qr::{Mode, QRBuilder, ECL};
use std::fmt::{self, Write as _};
use std::str::FromStr;

/// Light modules around the symbol, as ISO/IEC 18004 requires for reliable scanning.
pub const QUIET_ZONE: usize = 4;
/// Largest pixels-per-module accepted.
pub const MAX_SCALE: u32 = 32;

/// Error-correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecc {
    /// ~7 % of codewords restorable.
    L,
    /// ~15 %.
    M,
    /// ~25 %.
    Q,
    /// ~30 %.
    H,
}

impl FromStr for Ecc {
    type Err = QrError;
    fn from_str(s: &str) -> Result<Ecc, QrError> {
        match s.to_ascii_uppercase().as_str() {
            "L" => Ok(Ecc::L),
            "M" => Ok(Ecc::M),
            "Q" => Ok(Ecc::Q),
            "H" => Ok(Ecc::H),
            _ => Err(QrError::BadOption {
                what: "error-correction level",
                expected: "L, M, Q or H",
            }),
        }
    }
}

impl fmt::Display for Ecc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ecc::L => "L",
            Ecc::M => "M",
            Ecc::Q => "Q",
            Ecc::H => "H",
        })
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// 1-bit grayscale PNG.
    Png,
    /// Standalone SVG.
    Svg,
}

impl FromStr for Format {
    type Err = QrError;
    fn from_str(s: &str) -> Result<Format, QrError> {
        match s.to_ascii_lowercase().as_str() {
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            _ => Err(QrError::BadOption {
                what: "format",
                expected: "png or svg",
            }),
        }
    }
}

/// An encoded QR symbol: the module matrix, without quiet zone.
#[derive(Clone, PartialEq, Eq)]
pub struct Symbol {
    version: u8,
    ecc: Ecc,
    size: usize,
    dark: Vec<bool>,
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Symbol(version {}, ECC {})", self.version, self.ecc)
    }
}

/// The QR alphanumeric character set (ISO/IEC 18004 table 5), which base45 uses exactly.
fn is_alphanumeric(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_uppercase() || b" $%*+-./:".contains(&b)
}

impl Symbol {
    /// Encodes `text` in the smallest version (1 to 40) that holds it at level `ecc`, in a single
    /// segment: alphanumeric mode when every character is in the QR alphanumeric set (base45
    /// payloads always are), byte mode (UTF-8) otherwise.
    ///
    /// Refuses text beyond the version-40 capacity for that mode and level with
    /// [`QrError::TooLong`] (e.g. 3391 alphanumeric characters at level M).
    pub fn encode(text: &str, ecc: Ecc) -> Result<Symbol, QrError> {
        let mode = if text.bytes().all(is_alphanumeric) {
            Mode::Alphanumeric
        } else {
            Mode::Byte
        };
        let level = match ecc {
            Ecc::L => ECL::L,
            Ecc::M => ECL::M,
            Ecc::Q => ECL::Q,
            Ecc::H => ECL::H,
        };
        let qr = QRBuilder::new(text.as_bytes())
            .ecl(level)
            .mode(mode)
            .build()
            .map_err(|_| QrError::TooLong(text.len()))?;
        let version = qr
            .version
            .map(|v| v as u8 + 1)
            .ok_or(QrError::TooLong(text.len()))?;
        let size = qr.size;
        let dark = qr
            .data
            .iter()
            .take(size * size)
            .map(|m| m.value())
            .collect();
        Ok(Symbol {
            version,
            ecc,
            size,
            dark,
        })
    }

    /// The version, 1 to 40.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The error-correction level.
    pub fn ecc(&self) -> Ecc {
        self.ecc
    }

    /// Width in modules, without the quiet zone.
    pub fn modules(&self) -> usize {
        self.size
    }

    /// Whether the module at column `x`, row `y` is dark; false outside the symbol.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.size && y < self.size && self.dark[y * self.size + x]
    }

    /// A 1-bit grayscale PNG, black on white, `scale` pixels per module, surrounded by a light
    /// quiet zone of [`QUIET_ZONE`] modules. Refuses `scale` outside `1..=MAX_SCALE` with
    /// [`QrError::BadScale`].
    pub fn to_png(&self, scale: u32) -> Result<Vec<u8>, QrError> {
        check_scale(scale)?;
        let scale = scale as usize;
        let side = (self.size + 2 * QUIET_ZONE) * scale;
        let row_bytes = side.div_ceil(8);
        // Build each module row once, then repeat it `scale` times.
        let mut pixels = vec![0xFFu8; row_bytes * side];
        for y in 0..self.size {
            let row_start = (y + QUIET_ZONE) * scale * row_bytes;
            let row = &mut pixels[row_start..row_start + row_bytes];
            for x in 0..self.size {
                if self.dark[y * self.size + x] {
                    let px0 = (x + QUIET_ZONE) * scale;
                    for px in px0..px0 + scale {
                        row[px / 8] &= !(0x80 >> (px % 8));
                    }
                }
            }
            for r in 1..scale {
                pixels.copy_within(row_start..row_start + row_bytes, row_start + r * row_bytes);
            }
        }
        let mut out = Vec::with_capacity(pixels.len() / 4 + 128);
        {
            let mut enc = png::Encoder::new(&mut out, side as u32, side as u32);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::One);
            // Measured on a version-15 symbol at scale 4: Fast 104 µs / 3.4 KB, the default
            // (Balanced) 977 µs / 1.8 KB, none 59 µs / 15 KB. Fast keeps rendering within the
            // 1 ms budget at a size that still fits any response comfortably.
            enc.set_compression(png::Compression::Fast);
            let mut writer = enc
                .write_header()
                .map_err(|e| QrError::PngEncode(e.to_string()))?;
            writer
                .write_image_data(&pixels)
                .map_err(|e| QrError::PngEncode(e.to_string()))?;
            writer
                .finish()
                .map_err(|e| QrError::PngEncode(e.to_string()))?;
        }
        Ok(out)
    }

    /// A standalone SVG document (with XML namespace, `width`/`height` of the pixel size and a
    /// `viewBox` in module units): a white background and one `<path>` of the dark modules, drawn
    /// with `shape-rendering="crispEdges"` so that viewers do not anti-alias module edges.
    ///
    /// `scale` only sets the nominal pixel size (SVG scales losslessly); it is clamped to
    /// `1..=MAX_SCALE` rather than refused, so this never fails. [`render`] refuses a bad scale.
    pub fn to_svg(&self, scale: u32) -> String {
        let scale = scale.clamp(1, MAX_SCALE) as usize;
        let side = self.size + 2 * QUIET_ZONE;
        let px = side * scale;
        let mut svg = String::with_capacity(256 + self.size * self.size * 3);
        // Writing to a String cannot fail; the results are ignored for that reason only.
        let _ = write!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{px}\" height=\"{px}\" \
             viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\""
        );
        for (y, row) in self.dark.chunks_exact(self.size.max(1)).enumerate() {
            let mut x = 0;
            while x < row.len() {
                if !row[x] {
                    x += 1;
                    continue;
                }
                // One rectangle per horizontal run: far fewer path commands than per module.
                let start = x;
                while x < row.len() && row[x] {
                    x += 1;
                }
                let run = x - start;
                // Hand-rolled formatting: `write!` per run was most of the SVG render time.
                svg.push('M');
                push_number(&mut svg, start + QUIET_ZONE);
                svg.push(' ');
                push_number(&mut svg, y + QUIET_ZONE);
                svg.push('h');
                push_number(&mut svg, run);
                svg.push_str("v1h-");
                push_number(&mut svg, run);
                svg.push('z');
            }
        }
        svg.push_str("\"/></svg>\n");
        svg
    }
}

/// Appends the decimal digits of `n` (module coordinates, so at most three digits).
fn push_number(out: &mut String, n: usize) {
    if n >= 10 {
        push_number(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

fn check_scale(scale: u32) -> Result<(), QrError> {
    if (1..=MAX_SCALE).contains(&scale) {
        Ok(())
    } else {
        Err(QrError::BadScale)
    }
}

/// Encodes `text` as [`Symbol::encode`] does and renders it as PNG or SVG bytes.
///
/// Refuses `scale` outside `1..=MAX_SCALE` ([`QrError::BadScale`], for SVG too) and text that
/// does not fit ([`QrError::TooLong`]).
pub fn render(text: &str, ecc: Ecc, scale: u32, format: Format) -> Result<Vec<u8>, QrError> {
    check_scale(scale)?;
    let symbol = Symbol::encode(text, ecc)?;
    match format {
        Format::Png => symbol.to_png(scale),
        Format::Svg => Ok(symbol.to_svg(scale).into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
        /// Any text either encodes into a well-formed symbol or is refused as too long.
        #[test]
        fn any_text_encodes_or_is_refused(text in "\\PC{0,3000}", ecc_i in 0usize..4) {
            let ecc = [Ecc::L, Ecc::M, Ecc::Q, Ecc::H][ecc_i];
            match Symbol::encode(&text, ecc) {
                Ok(symbol) => {
                    prop_assert!((1..=40).contains(&symbol.version()));
                    prop_assert_eq!(symbol.modules(), 17 + 4 * usize::from(symbol.version()));
                }
                Err(e) => prop_assert_eq!(e.kind(), "qr_too_long"),
            }
        }
    }

    fn alnum(len: usize) -> String {
        crate::tests::base45_payload(len, 7)
    }

    #[test]
    fn version_boundaries_match_the_qr_capacity_table() {
        // ISO/IEC 18004 table 7, alphanumeric mode: the project's size targets are QR versions.
        for (len, ecc, version) in [
            (1, Ecc::M, 1),
            (20, Ecc::M, 1),
            (21, Ecc::M, 2),
            (311, Ecc::M, 10),
            (312, Ecc::M, 11),
            (600, Ecc::M, 15),
            (601, Ecc::M, 16),
            (4296, Ecc::L, 40),
            (3391, Ecc::M, 40),
            (2420, Ecc::Q, 40),
            (1852, Ecc::H, 40),
        ] {
            let symbol = Symbol::encode(&alnum(len), ecc).unwrap();
            assert_eq!(symbol.version(), version, "{len} chars at {ecc}");
            assert_eq!(symbol.ecc(), ecc);
            assert_eq!(symbol.modules(), 17 + 4 * usize::from(version));
        }
    }

    #[test]
    fn refuses_text_beyond_version_40() {
        for (len, ecc) in [
            (4297, Ecc::L),
            (3392, Ecc::M),
            (2421, Ecc::Q),
            (1853, Ecc::H),
        ] {
            let err = Symbol::encode(&alnum(len), ecc).unwrap_err();
            assert_eq!(err.kind(), "qr_too_long", "{len} chars at {ecc}");
        }
        // Byte mode (lower case is not alphanumeric) has the smaller byte capacity: 2331 at M.
        assert_eq!(
            Symbol::encode(&"a".repeat(2331), Ecc::M).unwrap().version(),
            40
        );
        let err = render(&"a".repeat(2332), Ecc::M, 4, Format::Png).unwrap_err();
        assert_eq!(err.kind(), "qr_too_long");
    }

    #[test]
    fn non_alphanumeric_text_uses_byte_mode() {
        // 600 bytes need version 19 at M in byte mode (capacity 614; v15 holds 412), so v15 above proves alphanumeric mode.
        let lower = alnum(600).to_ascii_lowercase();
        assert_eq!(Symbol::encode(&lower, Ecc::M).unwrap().version(), 19);
    }

    #[test]
    fn bad_scale_is_refused() {
        for scale in [0, MAX_SCALE + 1, u32::MAX] {
            for format in [Format::Png, Format::Svg] {
                let err = render("QRID", Ecc::M, scale, format).unwrap_err();
                assert_eq!(err.kind(), "bad_scale", "scale {scale} {format:?}");
            }
            let symbol = Symbol::encode("QRID", Ecc::M).unwrap();
            assert_eq!(symbol.to_png(scale).unwrap_err().kind(), "bad_scale");
        }
        assert!(render("QRID", Ecc::M, MAX_SCALE, Format::Png).is_ok());
        assert!(render("QRID", Ecc::M, 1, Format::Png).is_ok());
    }

    #[test]
    fn options_parse_case_insensitively() {
        for (s, ecc) in [("l", Ecc::L), ("M", Ecc::M), ("q", Ecc::Q), ("H", Ecc::H)] {
            assert_eq!(s.parse::<Ecc>().unwrap(), ecc);
            assert_eq!(ecc.to_string(), s.to_ascii_uppercase());
        }
        assert_eq!("PNG".parse::<Format>().unwrap(), Format::Png);
        assert_eq!("svg".parse::<Format>().unwrap(), Format::Svg);
        assert!("X".parse::<Ecc>().is_err());
        assert!("gif".parse::<Format>().is_err());
    }

    #[test]
    fn png_is_one_bit_gray_with_quiet_zone_and_matches_modules() {
        let symbol = Symbol::encode(&alnum(100), Ecc::Q).unwrap();
        let scale = 3;
        let png_bytes = symbol.to_png(scale).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
            .read_info()
            .unwrap();
        let info = reader.info();
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.bit_depth, png::BitDepth::One);
        let side = (symbol.modules() + 2 * QUIET_ZONE) * scale as usize;
        assert_eq!(info.width as usize, side);
        assert_eq!(info.height as usize, side);
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        let row_bytes = frame.line_size;
        let black = |px: usize, py: usize| buf[py * row_bytes + px / 8] & (0x80 >> (px % 8)) == 0;
        for py in 0..side {
            for px in 0..side {
                let (mx, my) = (px / scale as usize, py / scale as usize);
                let expected = mx >= QUIET_ZONE
                    && my >= QUIET_ZONE
                    && symbol.is_dark(mx - QUIET_ZONE, my - QUIET_ZONE);
                assert_eq!(black(px, py), expected, "pixel {px},{py}");
            }
        }
        assert!(!symbol.is_dark(symbol.modules(), 0));
        assert!(!symbol.is_dark(0, usize::MAX));
    }

    #[test]
    fn svg_is_standalone_and_draws_exactly_the_dark_modules() {
        let symbol = Symbol::encode(&alnum(50), Ecc::M).unwrap();
        let svg = symbol.to_svg(4);
        let side = symbol.modules() + 2 * QUIET_ZONE;
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains(&format!("width=\"{}\"", side * 4)));
        assert!(svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")));
        assert!(svg.contains("shape-rendering=\"crispEdges\""));
        assert_eq!(svg.matches("<path").count(), 1);
        assert!(svg.trim_end().ends_with("</svg>"));
        // Re-draw the path's runs and compare with the matrix.
        let d = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut drawn = vec![false; side * side];
        for cmd in d.split('M').filter(|c| !c.is_empty()) {
            let (xy, rest) = cmd.split_once('h').unwrap();
            let (x, y) = xy.split_once(' ').unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let run: usize = rest.split_once('v').unwrap().0.parse().unwrap();
            for i in x..x + run {
                assert!(!drawn[y * side + i], "module drawn twice");
                drawn[y * side + i] = true;
            }
        }
        for y in 0..side {
            for x in 0..side {
                let expected = x >= QUIET_ZONE
                    && y >= QUIET_ZONE
                    && symbol.is_dark(x - QUIET_ZONE, y - QUIET_ZONE);
                assert_eq!(drawn[y * side + x], expected, "module {x},{y}");
            }
        }
        // Out-of-range scales are clamped, never a panic or a zero-sized image.
        assert!(symbol.to_svg(0).contains(&format!("width=\"{side}\"")));
    }
}

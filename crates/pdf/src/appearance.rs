//! The stamp as it is drawn on the page: the QR code (its modules as filled squares, so that
//! it stays sharp at any zoom and prints as the printer's dots) beside the signer's name,
//! title, agency and the signing time, in a frame.
//!
//! The text is set in Helvetica, one of the standard fonts every reader has, with
//! WinAnsiEncoding: letters it lacks (most Vietnamese ones) are written without their marks
//! (`Nguyễn Văn An` → `Nguyen Van An`). The exact name is in the certificate, the CMS and the
//! QR code; embedding a font that carries every Vietnamese letter is left for later.

use unicode_normalization::UnicodeNormalization;

/// The stamp's width and height, points (about 106 × 35 mm).
pub const SIZE: (f64, f64) = (300.0, 100.0);
/// Most lines of text beside the QR code.
pub const MAX_LINES: usize = 7;

/// What the stamp shows.
#[derive(Debug, Clone)]
pub struct Appearance {
    /// The QR code's modules, row by row (`true` is dark), quiet zone not included.
    pub qr: Vec<Vec<bool>>,
    /// Lines of text beside it, top to bottom; the first is set larger.
    pub lines: Vec<String>,
}

/// The appearance stream's content (§8.2 graphics operators), in the form's own space
/// `[0 0 w h]`.
pub fn content(a: &Appearance) -> Vec<u8> {
    let (w, h) = SIZE;
    let mut s = String::new();
    // White ground and a thin dark-red frame, as a seal's ink.
    s.push_str(&format!("q 1 1 1 rg 0 0 {w} {h} re f Q\n"));
    s.push_str(&format!(
        "q 0.65 0.08 0.08 RG 1.2 w 0.6 0.6 {} {} re S Q\n",
        w - 1.2,
        h - 1.2
    ));
    // The QR code in the left square, with a quiet zone of four modules.
    let n = a.qr.len();
    if n > 0 {
        let side = h - 8.0;
        let module = side / (n as f64 + 8.0);
        let (ox, oy) = (4.0 + 4.0 * module, 4.0 + 4.0 * module);
        s.push_str("q 0 0 0 rg\n");
        for (row, cells) in a.qr.iter().enumerate() {
            let y = oy + (n - 1 - row) as f64 * module;
            // Runs of dark modules, one rectangle each.
            let mut col = 0;
            while col < cells.len() {
                if !cells[col] {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < cells.len() && cells[col] {
                    col += 1;
                }
                s.push_str(&format!(
                    "{:.3} {:.3} {:.3} {:.3} re\n",
                    ox + start as f64 * module,
                    y,
                    (col - start) as f64 * module,
                    module
                ));
            }
        }
        s.push_str("f Q\n");
    }
    // The text, right of the code.
    let x = h + 2.0;
    let mut y = h - 18.0;
    s.push_str("BT 0.1 0.1 0.1 rg\n");
    for (i, line) in a.lines.iter().take(MAX_LINES).enumerate() {
        let size = if i == 0 { 10.0 } else { 7.5 };
        let text = fit(&winansi(line), (w - x - 6.0) / (size * 0.5));
        s.push_str(&format!("/F1 {size} Tf 1 0 0 1 {x} {y:.2} Tm ("));
        for c in text.chars() {
            match c {
                '(' | ')' | '\\' => {
                    s.push('\\');
                    s.push(c);
                }
                _ => s.push(c),
            }
        }
        s.push_str(") Tj\n");
        y -= if i == 0 { 14.0 } else { 11.0 };
    }
    s.push_str("ET\n");
    s.into_bytes()
}

/// The text in printable ASCII: marks dropped (NFD, then combining marks removed), `đ` as
/// `d`, anything else left over as `?`.
pub fn winansi(text: &str) -> String {
    text.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c if (' '..='~').contains(&c) => c,
            c if c.is_whitespace() => ' ',
            _ => '?',
        })
        .collect()
}

/// At most `chars` characters, with an ellipsis of three dots when cut.
fn fit(text: &str, chars: f64) -> String {
    let max = chars.max(4.0) as usize;
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 3).collect();
    cut.push_str("...");
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_is_written_without_marks() {
        assert_eq!(
            winansi("Nguyễn Văn Đạt — Sở Tư pháp"),
            "Nguyen Van Dat ? So Tu phap"
        );
    }

    #[test]
    fn content_escapes_text_and_draws_every_dark_run() {
        let a = Appearance {
            qr: vec![
                vec![true, false, true, true],
                vec![false; 4],
                vec![true; 4],
                vec![false; 4],
            ],
            lines: vec!["A (b) \\".into()],
        };
        let c = String::from_utf8(content(&a)).unwrap();
        assert_eq!(c.matches(" re\n").count(), 3);
        assert!(c.contains("(A \\(b\\) \\\\) Tj"));
    }
}

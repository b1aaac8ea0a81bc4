//! Signing a PDF by incremental update (ISO 32000-1 §7.5.6, §12.8): the original bytes stay
//! as they are, and a new revision appends a signature dictionary (`/ByteRange`,
//! `/Contents` reserved for the CMS), a signature field whose widget on the last page shows
//! the stamp, the page and the form (`/AcroForm`, `/SigFlags 3`) rewritten to hold it, and a
//! cross-reference section of the kind the newest revision has.

use crate::appearance::{self, Appearance};
use crate::file::{PdfFile, XrefKind};
use crate::object::{Dict, Object};
use crate::PdfError;
use sha2::{Digest, Sha256};

/// Bytes reserved for the CMS SignedData (twice this in hex digits).
pub const CONTENTS_RESERVED: usize = 12 * 1024;
/// Deepest page tree followed.
const MAX_TREE_DEPTH: usize = 32;
/// Most kids of a page-tree node looked at, and most form fields.
const MAX_KIDS: usize = 1_000_000;

/// Where the stamp goes on the last page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Placement {
    /// Bottom right, inside a margin.
    BottomRight,
    /// The stamp's lower-left corner at these fractions (0 to 1) of the room the page leaves
    /// for it: (0, 0) is bottom left, (1, 1) top right.
    At {
        /// Across.
        x: f64,
        /// Up.
        y: f64,
    },
}

/// What the signature dictionary says besides the CMS.
#[derive(Debug, Clone)]
pub struct SignatureInfo {
    /// The field's name (unique in the document: it carries the service's record id).
    pub field_name: String,
    /// Signing time, Unix seconds (`/M`; PAdES puts the time here, not in the CMS).
    pub signing_time: i64,
    /// The signer's name (`/Name`).
    pub signer_name: String,
    /// Why (`/Reason`).
    pub reason: Option<String>,
    /// Where (`/Location`).
    pub location: Option<String>,
}

/// The last page, as the signer sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageBox {
    /// Pages in the document.
    pub pages: usize,
    /// The last page's MediaBox `[x0 y0 x1 y1]`.
    pub media_box: [f64; 4],
}

/// A document with its new revision written and `/Contents` reserved: hash
/// [`Prepared::digest`], sign it, then [`Prepared::finish`] with the CMS.
pub struct Prepared {
    bytes: Vec<u8>,
    /// The hex digits of `/Contents`, between `<` and `>`.
    contents: std::ops::Range<usize>,
    byte_range: [usize; 4],
    /// Where the stamp went, in the last page's coordinates.
    pub rect: [f64; 4],
}

impl Prepared {
    /// SHA-256 of the bytes the signature covers: all but `/Contents`'s value.
    pub fn digest(&self) -> [u8; 32] {
        let [a, b, c, d] = self.byte_range;
        let mut h = Sha256::new();
        h.update(&self.bytes[a..a + b]);
        h.update(&self.bytes[c..c + d]);
        h.finalize().into()
    }

    /// The signed document: the CMS written into the reserved `/Contents`.
    pub fn finish(mut self, cms: &[u8]) -> Result<Vec<u8>, PdfError> {
        let hex = hex::encode_upper(cms);
        if hex.len() > self.contents.len() {
            return Err(PdfError::TooLarge(
                "the CMS signature is over its reserved room",
            ));
        }
        self.bytes[self.contents.start..self.contents.start + hex.len()]
            .copy_from_slice(hex.as_bytes());
        Ok(self.bytes)
    }
}

/// The page count and the last page's box, without signing.
pub fn last_page(pdf: &[u8]) -> Result<PageBox, PdfError> {
    let file = PdfFile::open(pdf)?;
    let catalog = catalog(&file)?;
    let (_, _, pages, media_box) = find_last_page(&file, &catalog)?;
    Ok(PageBox { pages, media_box })
}

fn catalog(file: &PdfFile<'_>) -> Result<Dict, PdfError> {
    match file
        .trailer
        .get("Root")
        .map(|r| file.resolve(r))
        .transpose()?
    {
        Some(Object::Dict(d)) => Ok(d),
        _ => Err(PdfError::Malformed(
            "the trailer has no document catalog".into(),
        )),
    }
}

/// The last page: its object number, its dictionary, the page count, its MediaBox
/// (inherited if need be).
fn find_last_page(
    file: &PdfFile<'_>,
    catalog: &Dict,
) -> Result<(u32, Dict, usize, [f64; 4]), PdfError> {
    let Some(Object::Ref(mut num, _)) = catalog.get("Pages") else {
        return Err(PdfError::Malformed("the catalog has no page tree".into()));
    };
    let mut media_box = None;
    let mut count = None;
    for _ in 0..MAX_TREE_DEPTH {
        let Object::Dict(node) = file.object(num)? else {
            return Err(PdfError::Malformed(
                "a page-tree node is not a dictionary".into(),
            ));
        };
        if let Some(b) = node.get("MediaBox").map(|b| file.resolve(b)).transpose()? {
            media_box = Some(rectangle(&b)?);
        }
        if count.is_none() {
            count = node.get("Count").and_then(Object::as_int);
        }
        match node.get("Kids").map(|k| file.resolve(k)).transpose()? {
            Some(Object::Array(kids)) if !node.is_name("Type", "Page") => {
                if kids.len() > MAX_KIDS {
                    return Err(PdfError::TooLarge("a page-tree node has too many kids"));
                }
                match kids.last() {
                    Some(Object::Ref(n, _)) => num = *n,
                    _ => return Err(PdfError::Malformed("the page tree has no pages".into())),
                }
            }
            _ => {
                let media_box = media_box
                    .ok_or_else(|| PdfError::Malformed("the last page has no MediaBox".into()))?;
                let pages = count
                    .and_then(|c| usize::try_from(c).ok())
                    .filter(|&c| c > 0)
                    .unwrap_or(1);
                return Ok((num, node, pages, media_box));
            }
        }
    }
    Err(PdfError::Malformed("the page tree is too deep".into()))
}

fn rectangle(o: &Object) -> Result<[f64; 4], PdfError> {
    let bad = || PdfError::Malformed("a page box is not four numbers".into());
    let Object::Array(a) = o else {
        return Err(bad());
    };
    if a.len() != 4 {
        return Err(bad());
    }
    let v: Vec<f64> = a
        .iter()
        .map(Object::as_f64)
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    let (x0, x1) = (v[0].min(v[2]), v[0].max(v[2]));
    let (y0, y1) = (v[1].min(v[3]), v[1].max(v[3]));
    if !(x1 - x0 > 1.0 && y1 - y0 > 1.0 && x1 - x0 < 20_000.0 && y1 - y0 < 20_000.0) {
        return Err(bad());
    }
    Ok([x0, y0, x1, y1])
}

/// Writes the new revision with a visible signature of `appearance` at `placement` on the
/// last page. Refuses encrypted documents, documents it cannot read, and pages too small for
/// the stamp.
pub fn prepare(
    pdf: &[u8],
    info: &SignatureInfo,
    appearance: &Appearance,
    placement: Placement,
) -> Result<Prepared, PdfError> {
    let file = PdfFile::open(pdf)?;
    let root_num = match file.trailer.get("Root") {
        Some(Object::Ref(n, _)) => *n,
        _ => {
            return Err(PdfError::Malformed(
                "the trailer has no document catalog".into(),
            ))
        }
    };
    let mut catalog = catalog(&file)?;
    let (page_num, mut page, _, media_box) = find_last_page(&file, &catalog)?;
    let (w, h) = appearance::SIZE;
    let [x0, y0, x1, y1] = media_box;
    let margin = 24.0;
    if x1 - x0 < w + 2.0 * margin || y1 - y0 < h + 2.0 * margin {
        return Err(PdfError::Unsupported(
            "the last page is too small for the stamp".into(),
        ));
    }
    let (fx, fy) = match placement {
        Placement::BottomRight => (1.0, 0.0),
        Placement::At { x, y } if (0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y) => (x, y),
        Placement::At { .. } => {
            return Err(PdfError::Unsupported(
                "the stamp's place is off the page".into(),
            ))
        }
    };
    let sx = x0 + margin + fx * (x1 - x0 - w - 2.0 * margin);
    let sy = y0 + margin + fy * (y1 - y0 - h - 2.0 * margin);
    let rect = [sx, sy, sx + w, sy + h];

    let mut next = file.size;
    let mut alloc = || {
        let n = next;
        next += 1;
        n
    };
    let sig_num = alloc();
    let field_num = alloc();
    let ap_num = alloc();
    let font_num = alloc();

    let mut out = pdf.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut offsets: Vec<(u32, usize)> = Vec::new();

    // The signature dictionary, with room kept for the ByteRange and the CMS.
    offsets.push((sig_num, out.len()));
    out.extend_from_slice(
        format!("{sig_num} 0 obj\n<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached")
            .as_bytes(),
    );
    out.extend_from_slice(b"/M");
    Object::Str(pdf_date(info.signing_time).into_bytes()).write(&mut out);
    out.extend_from_slice(b"/Name");
    Object::Str(text_string(&info.signer_name)).write(&mut out);
    if let Some(r) = &info.reason {
        out.extend_from_slice(b"/Reason");
        Object::Str(text_string(r)).write(&mut out);
    }
    if let Some(l) = &info.location {
        out.extend_from_slice(b"/Location");
        Object::Str(text_string(l)).write(&mut out);
    }
    out.extend_from_slice(b"/ByteRange[");
    let byte_range_at = out.len();
    out.extend_from_slice(&[b' '; 4 * 11]);
    out.extend_from_slice(b"]/Contents<");
    let contents_start = out.len();
    out.resize(out.len() + 2 * CONTENTS_RESERVED, b'0');
    let contents_end = out.len();
    out.extend_from_slice(b">>>\nendobj\n");

    // The field and its widget (one object), on the last page.
    let mut field = Dict::default();
    field.set("Type", name("Annot"));
    field.set("Subtype", name("Widget"));
    field.set("FT", name("Sig"));
    field.set("T", Object::Str(text_string(&info.field_name)));
    field.set("V", Object::Ref(sig_num, 0));
    // Print and Locked.
    field.set("F", Object::Int(132));
    field.set(
        "Rect",
        Object::Array(
            rect.iter()
                .map(|v| Object::Real(format!("{v:.2}")))
                .collect(),
        ),
    );
    field.set("P", Object::Ref(page_num, 0));
    let mut ap = Dict::default();
    ap.set("N", Object::Ref(ap_num, 0));
    field.set("AP", Object::Dict(ap));
    write_object(&mut out, &mut offsets, field_num, &Object::Dict(field));

    // The appearance: a form XObject with the stamp drawn in it.
    let content = appearance::content(appearance);
    offsets.push((ap_num, out.len()));
    out.extend_from_slice(
        format!(
            "{ap_num} 0 obj\n<</Type/XObject/Subtype/Form/BBox[0 0 {w} {h}]/Resources<</Font<</F1 {font_num} 0 R>>>>/Length {}>>\nstream\n",
            content.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&content);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    write_object(
        &mut out,
        &mut offsets,
        font_num,
        &Object::Dict(Dict(vec![
            (b"Type".to_vec(), name("Font")),
            (b"Subtype".to_vec(), name("Type1")),
            (b"BaseFont".to_vec(), name("Helvetica")),
            (b"Encoding".to_vec(), name("WinAnsiEncoding")),
        ])),
    );

    // The page's annotations, wherever the array is.
    match page.get("Annots").cloned() {
        Some(Object::Ref(n, _)) => {
            let Object::Array(mut annots) = file.object(n)? else {
                return Err(PdfError::Malformed("/Annots is not an array".into()));
            };
            annots.push(Object::Ref(field_num, 0));
            write_object(&mut out, &mut offsets, n, &Object::Array(annots));
        }
        Some(Object::Array(mut annots)) => {
            annots.push(Object::Ref(field_num, 0));
            page.set("Annots", Object::Array(annots));
            write_object(&mut out, &mut offsets, page_num, &Object::Dict(page));
        }
        None | Some(Object::Null) => {
            page.set("Annots", Object::Array(vec![Object::Ref(field_num, 0)]));
            write_object(&mut out, &mut offsets, page_num, &Object::Dict(page));
        }
        Some(_) => return Err(PdfError::Malformed("/Annots is not an array".into())),
    }

    // The form: the field added to /Fields, signatures flagged.
    let field_ref = Object::Ref(field_num, 0);
    let add_field = |form: &mut Dict,
                     out: &mut Vec<u8>,
                     offsets: &mut Vec<(u32, usize)>|
     -> Result<(), PdfError> {
        form.set("SigFlags", Object::Int(3));
        match form.get("Fields").cloned() {
            Some(Object::Ref(n, _)) => {
                let Object::Array(mut fields) = file.object(n)? else {
                    return Err(PdfError::Malformed("/Fields is not an array".into()));
                };
                fields.push(field_ref.clone());
                write_object(out, offsets, n, &Object::Array(fields));
            }
            Some(Object::Array(mut fields)) => {
                if fields.len() > MAX_KIDS {
                    return Err(PdfError::TooLarge("too many form fields"));
                }
                fields.push(field_ref.clone());
                form.set("Fields", Object::Array(fields));
            }
            _ => form.set("Fields", Object::Array(vec![field_ref.clone()])),
        }
        Ok(())
    };
    match catalog.get("AcroForm").cloned() {
        Some(Object::Ref(n, _)) => {
            let Object::Dict(mut form) = file.object(n)? else {
                return Err(PdfError::Malformed("/AcroForm is not a dictionary".into()));
            };
            add_field(&mut form, &mut out, &mut offsets)?;
            write_object(&mut out, &mut offsets, n, &Object::Dict(form));
        }
        Some(Object::Dict(mut form)) => {
            add_field(&mut form, &mut out, &mut offsets)?;
            catalog.set("AcroForm", Object::Dict(form));
            write_object(&mut out, &mut offsets, root_num, &Object::Dict(catalog));
        }
        _ => {
            let form_num = alloc();
            let mut form = Dict::default();
            add_field(&mut form, &mut out, &mut offsets)?;
            write_object(&mut out, &mut offsets, form_num, &Object::Dict(form));
            catalog.set("AcroForm", Object::Ref(form_num, 0));
            write_object(&mut out, &mut offsets, root_num, &Object::Dict(catalog));
        }
    }

    write_xref(&mut out, &file, &mut offsets, next);

    // The byte range: everything but the hex digits and their brackets.
    let (b, c) = (contents_start - 1, contents_end + 1);
    let byte_range = [0, b, c, out.len() - c];
    let text = format!("0 {b} {c} {}", out.len() - c);
    if text.len() > 4 * 11 {
        return Err(PdfError::TooLarge("the document is too large to sign"));
    }
    out[byte_range_at..byte_range_at + text.len()].copy_from_slice(text.as_bytes());
    Ok(Prepared {
        bytes: out,
        contents: contents_start..contents_end,
        byte_range,
        rect,
    })
}

fn name(n: &str) -> Object {
    Object::Name(n.as_bytes().to_vec())
}

fn write_object(out: &mut Vec<u8>, offsets: &mut Vec<(u32, usize)>, num: u32, o: &Object) {
    offsets.push((num, out.len()));
    out.extend_from_slice(format!("{num} 0 obj\n").as_bytes());
    o.write(out);
    out.extend_from_slice(b"\nendobj\n");
}

/// The cross-reference section of the update, of the kind the previous one is, with the
/// trailer entries that carry over (`/Root`, `/Info`, `/ID`) and `/Prev`.
fn write_xref(
    out: &mut Vec<u8>,
    file: &PdfFile<'_>,
    offsets: &mut Vec<(u32, usize)>,
    mut size: u32,
) {
    let mut trailer = Dict::default();
    for key in ["Root", "Info", "ID"] {
        if let Some(v) = file.trailer.get(key) {
            trailer.set(key, v.clone());
        }
    }
    trailer.set("Prev", Object::Int(file.startxref as i64));
    match file.xref_kind {
        XrefKind::Table => {
            trailer.set("Size", Object::Int(i64::from(size)));
            offsets.sort_unstable();
            offsets.dedup_by_key(|(n, _)| *n);
            let at = out.len();
            out.extend_from_slice(b"xref\n");
            for run in runs(offsets) {
                out.extend_from_slice(format!("{} {}\n", run[0].0, run.len()).as_bytes());
                for (_, off) in run {
                    out.extend_from_slice(format!("{off:010} 00000 n\r\n").as_bytes());
                }
            }
            out.extend_from_slice(b"trailer\n");
            trailer.write(out);
            out.extend_from_slice(format!("\nstartxref\n{at}\n%%EOF\n").as_bytes());
        }
        XrefKind::Stream => {
            let xref_num = size;
            size += 1;
            let at = out.len();
            offsets.push((xref_num, at));
            offsets.sort_unstable();
            offsets.dedup_by_key(|(n, _)| *n);
            let mut index = Vec::new();
            let mut data = Vec::new();
            for run in runs(offsets) {
                index.push(Object::Int(i64::from(run[0].0)));
                index.push(Object::Int(run.len() as i64));
                for (_, off) in run {
                    data.push(1u8);
                    data.extend_from_slice(&(*off as u64).to_be_bytes()[3..]);
                    data.extend_from_slice(&[0, 0]);
                }
            }
            trailer.set("Type", name("XRef"));
            trailer.set("Size", Object::Int(i64::from(size)));
            trailer.set(
                "W",
                Object::Array(vec![Object::Int(1), Object::Int(5), Object::Int(2)]),
            );
            trailer.set("Index", Object::Array(index));
            trailer.set("Length", Object::Int(data.len() as i64));
            out.extend_from_slice(format!("{xref_num} 0 obj\n").as_bytes());
            trailer.write(out);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&data);
            out.extend_from_slice(
                format!("\nendstream\nendobj\nstartxref\n{at}\n%%EOF\n").as_bytes(),
            );
        }
    }
}

/// Consecutive object numbers, grouped.
fn runs(offsets: &[(u32, usize)]) -> Vec<&[(u32, usize)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=offsets.len() {
        if i == offsets.len() || offsets[i].0 != offsets[i - 1].0 + 1 {
            out.push(&offsets[start..i]);
            start = i;
        }
    }
    out
}

/// A PDF date in UTC, `D:YYYYMMDDHHmmSS+00'00'`.
pub fn pdf_date(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("D:{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}+00'00'")
}

/// Unix seconds → (year, month, day, hour, minute, second), UTC (days-from-civil inverse).
pub(crate) fn civil(unix: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        (secs / 60 % 60) as u32,
        (secs % 60) as u32,
    )
}

/// A PDF text string: PDFDocEncoding when ASCII, else UTF-16BE with its byte-order mark.
fn text_string(s: &str) -> Vec<u8> {
    if s.bytes().all(|c| (0x20..0x7f).contains(&c)) {
        return s.as_bytes().to_vec();
    }
    let mut out = vec![0xfe, 0xff];
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_be_bytes());
    }
    out
}

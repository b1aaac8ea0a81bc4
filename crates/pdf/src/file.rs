//! The file structure (ISO 32000-1 §7.5): the cross-reference chain from the last
//! `startxref` back through `/Prev`, in tables or streams (§7.5.8), and objects read at their
//! offsets or out of object streams (§7.5.7). Every decompression is bounded; nothing is
//! read that the signer does not need (page contents are never decoded).

use crate::object::{is_white, Dict, Object, Parser};
use crate::PdfError;
use std::collections::{HashMap, HashSet};
use std::io::Read;

/// Most cross-reference sections followed (revisions of a document).
const MAX_SECTIONS: usize = 512;
/// Most bytes one decoded xref or object stream may hold.
const MAX_DECODED: usize = 32 << 20;
/// Most decoded bytes, all streams together.
const MAX_DECODED_TOTAL: usize = 128 << 20;
/// Highest object number accepted.
const MAX_OBJECTS: u64 = 8_000_000;

/// Where an object lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// At this byte offset.
    Offset(usize),
    /// The `index`th object of object stream `stream`.
    InStream { stream: u32, index: usize },
    /// Free.
    Free,
}

/// Which kind of cross-reference the newest revision has: an update writes the same kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrefKind {
    /// `xref` table and `trailer`.
    Table,
    /// A cross-reference stream.
    Stream,
}

/// A PDF file, its cross-reference read; objects are parsed when asked for.
pub struct PdfFile<'a> {
    pub(crate) bytes: &'a [u8],
    entries: HashMap<u32, Entry>,
    /// The newest trailer (for a stream: its dictionary).
    pub(crate) trailer: Dict,
    /// Offset of the newest cross-reference section (the update's `/Prev`).
    pub(crate) startxref: usize,
    /// Kind of the newest cross-reference section.
    pub(crate) xref_kind: XrefKind,
    /// `/Size` of the newest trailer: the update's first new object number.
    pub(crate) size: u32,
    decoded: std::cell::Cell<usize>,
    object_streams: std::cell::RefCell<HashMap<u32, std::rc::Rc<ObjStream>>>,
}

struct ObjStream {
    data: Vec<u8>,
    /// (object number, offset in data)
    index: Vec<(u32, usize)>,
}

impl<'a> PdfFile<'a> {
    /// Reads the header and the cross-reference chain.
    pub fn open(bytes: &'a [u8]) -> Result<PdfFile<'a>, PdfError> {
        let head = &bytes[..bytes.len().min(1024)];
        if memfind(head, b"%PDF-").is_none() {
            return Err(PdfError::NotPdf);
        }
        let tail_from = bytes.len().saturating_sub(2048);
        let sx = rfind(&bytes[tail_from..], b"startxref")
            .map(|p| tail_from + p)
            .ok_or(PdfError::Truncated)?;
        let mut p = Parser::new(bytes, sx + "startxref".len());
        let startxref = usize::try_from(p.uint()?).map_err(|_| PdfError::Truncated)?;
        let mut file = PdfFile {
            bytes,
            entries: HashMap::new(),
            trailer: Dict::default(),
            startxref,
            xref_kind: XrefKind::Table,
            size: 0,
            decoded: std::cell::Cell::new(0),
            object_streams: Default::default(),
        };
        let mut seen = HashSet::new();
        let mut next = Some(startxref);
        let mut newest = true;
        while let Some(at) = next {
            if !seen.insert(at) || seen.len() > MAX_SECTIONS {
                return Err(PdfError::Malformed(
                    "the cross-reference chain loops or is too long".into(),
                ));
            }
            let (trailer, kind) = file.read_section(at)?;
            if newest {
                file.xref_kind = kind;
                file.trailer = trailer.clone();
                newest = false;
            }
            // A hybrid file's table points to a stream with the compressed objects.
            if let Some(Object::Int(x)) = trailer.get("XRefStm") {
                let x = usize::try_from(*x).map_err(|_| PdfError::Malformed("XRefStm".into()))?;
                if seen.insert(x) {
                    file.read_section(x)?;
                }
            }
            next = match trailer.get("Prev") {
                Some(Object::Int(p)) => {
                    Some(usize::try_from(*p).map_err(|_| PdfError::Malformed("/Prev".into()))?)
                }
                _ => None,
            };
        }
        let size = file
            .trailer
            .get("Size")
            .and_then(Object::as_int)
            .filter(|&s| s > 0 && (s as u64) < MAX_OBJECTS)
            .ok_or_else(|| PdfError::Malformed("the trailer has no valid /Size".into()))?;
        file.size = size as u32;
        if file.trailer.get("Encrypt").is_some() {
            return Err(PdfError::Encrypted);
        }
        Ok(file)
    }

    /// Reads one section at `at`; entries already known (from newer sections) stay.
    fn read_section(&mut self, at: usize) -> Result<(Dict, XrefKind), PdfError> {
        if at >= self.bytes.len() {
            return Err(PdfError::Malformed(
                "a cross-reference offset points past the end of the file".into(),
            ));
        }
        let mut p = Parser::new(self.bytes, at);
        if p.at_keyword("xref") {
            p.keyword("xref")?;
            loop {
                if p.at_keyword("trailer") {
                    p.keyword("trailer")?;
                    let Object::Dict(d) = p.object()? else {
                        return Err(PdfError::Malformed(
                            "the trailer is not a dictionary".into(),
                        ));
                    };
                    return Ok((d, XrefKind::Table));
                }
                let first = p.uint()?;
                let count = p.uint()?;
                if first + count > MAX_OBJECTS {
                    return Err(PdfError::Malformed("too many objects".into()));
                }
                for i in 0..count {
                    let offset = p.uint()?;
                    let _gen = p.uint()?;
                    p.skip_ws();
                    let kind = p.bytes.get(p.pos).copied().ok_or(PdfError::Truncated)?;
                    p.pos += 1;
                    let entry = match kind {
                        b'n' => {
                            Entry::Offset(usize::try_from(offset).map_err(|_| PdfError::Truncated)?)
                        }
                        b'f' => Entry::Free,
                        _ => {
                            return Err(PdfError::Malformed(
                                "a cross-reference entry is neither n nor f".into(),
                            ))
                        }
                    };
                    self.entries.entry((first + i) as u32).or_insert(entry);
                }
            }
        }
        // A cross-reference stream.
        let (_, obj, stream) = self.indirect_at(at)?;
        let (Object::Dict(d), Some(range)) = (obj, stream) else {
            return Err(PdfError::Malformed(
                "startxref points at neither a table nor a stream".into(),
            ));
        };
        if !d.is_name("Type", "XRef") {
            return Err(PdfError::Malformed(
                "the xref stream has no /Type /XRef".into(),
            ));
        }
        let data = self.decode(&d, range)?;
        let w: Vec<usize> = match d.get("W") {
            Some(Object::Array(a)) if a.len() == 3 => a
                .iter()
                .map(|o| {
                    o.as_int()
                        .and_then(|i| usize::try_from(i).ok())
                        .filter(|&i| i <= 8)
                })
                .collect::<Option<_>>()
                .ok_or_else(|| PdfError::Malformed("/W".into()))?,
            _ => return Err(PdfError::Malformed("the xref stream has no /W".into())),
        };
        let size = d.get("Size").and_then(Object::as_int).unwrap_or(0);
        let index: Vec<i64> = match d.get("Index") {
            Some(Object::Array(a)) => a
                .iter()
                .map(Object::as_int)
                .collect::<Option<_>>()
                .ok_or_else(|| PdfError::Malformed("/Index".into()))?,
            _ => vec![0, size],
        };
        let row = w[0] + w[1] + w[2];
        if row == 0 || !index.len().is_multiple_of(2) {
            return Err(PdfError::Malformed("/W or /Index".into()));
        }
        let mut rows = data.chunks_exact(row);
        for pair in index.chunks(2) {
            let (first, count) = (pair[0], pair[1]);
            if first < 0 || count < 0 || (first + count) as u64 > MAX_OBJECTS {
                return Err(PdfError::Malformed("/Index".into()));
            }
            for i in 0..count {
                let Some(r) = rows.next() else {
                    return Err(PdfError::Malformed("the xref stream is short".into()));
                };
                let field = |k: usize, default: u64| -> u64 {
                    if w[k] == 0 {
                        return default;
                    }
                    let from = w[..k].iter().sum::<usize>();
                    r[from..from + w[k]]
                        .iter()
                        .fold(0u64, |acc, &b| acc << 8 | u64::from(b))
                };
                let entry = match field(0, 1) {
                    0 => Entry::Free,
                    1 => Entry::Offset(field(1, 0) as usize),
                    2 => Entry::InStream {
                        stream: u32::try_from(field(1, 0))
                            .map_err(|_| PdfError::Malformed("object stream number".into()))?,
                        index: field(2, 0) as usize,
                    },
                    _ => continue, // reserved types are null objects (§7.5.8.3)
                };
                self.entries.entry((first + i) as u32).or_insert(entry);
            }
        }
        Ok((d, XrefKind::Stream))
    }

    /// Parses `n g obj … endobj` at `at`: the object number, the object, and for a stream
    /// where its data lies.
    fn indirect_at(
        &self,
        at: usize,
    ) -> Result<(u32, Object, Option<std::ops::Range<usize>>), PdfError> {
        let mut p = Parser::new(self.bytes, at);
        let num =
            u32::try_from(p.uint()?).map_err(|_| PdfError::Malformed("object number".into()))?;
        p.uint()?;
        p.keyword("obj")?;
        let obj = p.object()?;
        if !p.at_keyword("stream") {
            return Ok((num, obj, None));
        }
        let Object::Dict(d) = &obj else {
            return Err(PdfError::Malformed("a stream without a dictionary".into()));
        };
        p.keyword("stream")?;
        // The keyword is followed by CRLF or LF (a lone CR is tolerated).
        match (self.bytes.get(p.pos), self.bytes.get(p.pos + 1)) {
            (Some(b'\r'), Some(b'\n')) => p.pos += 2,
            (Some(b'\n' | b'\r'), _) => p.pos += 1,
            _ => {}
        }
        let start = p.pos;
        let declared = match d.get("Length") {
            Some(Object::Int(n)) => usize::try_from(*n).ok(),
            Some(Object::Ref(n, _)) => self.length_object(*n),
            _ => None,
        };
        let end = match declared {
            Some(len)
                if start
                    .checked_add(len)
                    .is_some_and(|e| e <= self.bytes.len())
                    && Parser::new(self.bytes, start + len).at_keyword("endstream") =>
            {
                start + len
            }
            // A wrong /Length: the data ends before the next `endstream`.
            _ => {
                let rel = memfind(&self.bytes[start..], b"endstream").ok_or(PdfError::Truncated)?;
                let mut end = start + rel;
                while end > start && is_white(self.bytes[end - 1]) {
                    end -= 1;
                }
                end
            }
        };
        Ok((num, obj, Some(start..end)))
    }

    /// A stream's `/Length` given by reference: only a plain object at an offset is read
    /// (never one in an object stream, whose own length could point back here).
    fn length_object(&self, num: u32) -> Option<usize> {
        let Some(Entry::Offset(at)) = self.entries.get(&num) else {
            return None;
        };
        let mut p = Parser::new(self.bytes, *at);
        (p.uint().ok()? == u64::from(num)).then_some(())?;
        p.uint().ok()?;
        p.keyword("obj").ok()?;
        p.object()
            .ok()?
            .as_int()
            .and_then(|n| usize::try_from(n).ok())
    }

    /// Object `num` (the newest revision of it); `Null` for free or absent objects.
    pub fn object(&self, num: u32) -> Result<Object, PdfError> {
        Ok(self.object_with_stream(num)?.0)
    }

    /// Object `num` and, for a stream object, where its data lies.
    pub(crate) fn object_with_stream(
        &self,
        num: u32,
    ) -> Result<(Object, Option<std::ops::Range<usize>>), PdfError> {
        match self.entries.get(&num) {
            None | Some(Entry::Free) => Ok((Object::Null, None)),
            Some(Entry::Offset(at)) => {
                let (n, o, s) = self.indirect_at(*at)?;
                if n != num {
                    return Err(PdfError::Malformed(format!(
                        "object {num}'s offset holds object {n}"
                    )));
                }
                Ok((o, s))
            }
            Some(Entry::InStream { stream, index }) => {
                let os = self.object_stream(*stream)?;
                let &(n, off) = os.index.get(*index).ok_or_else(|| {
                    PdfError::Malformed("an object stream index is out of range".into())
                })?;
                if n != num {
                    return Err(PdfError::Malformed(format!(
                        "object stream {stream} holds {n} where {num} was expected"
                    )));
                }
                Ok((Parser::new(&os.data, off).object()?, None))
            }
        }
    }

    /// Follows a reference (once, and again while the result is a reference).
    pub fn resolve(&self, o: &Object) -> Result<Object, PdfError> {
        let mut o = o.clone();
        for _ in 0..8 {
            match o {
                Object::Ref(n, _) => o = self.object(n)?,
                other => return Ok(other),
            }
        }
        Err(PdfError::Malformed("a chain of references".into()))
    }

    fn object_stream(&self, num: u32) -> Result<std::rc::Rc<ObjStream>, PdfError> {
        if let Some(os) = self.object_streams.borrow().get(&num) {
            return Ok(os.clone());
        }
        let at = match self.entries.get(&num) {
            Some(Entry::Offset(at)) => *at,
            _ => {
                return Err(PdfError::Malformed(
                    "an object stream is not in the file".into(),
                ))
            }
        };
        let (_, obj, range) = self.indirect_at(at)?;
        let (Object::Dict(d), Some(range)) = (obj, range) else {
            return Err(PdfError::Malformed(
                "an object stream is not a stream".into(),
            ));
        };
        let n = d
            .get("N")
            .and_then(Object::as_int)
            .filter(|&n| (0..=1_000_000).contains(&n));
        let first = d
            .get("First")
            .and_then(Object::as_int)
            .and_then(|f| usize::try_from(f).ok());
        let (Some(n), Some(first)) = (n, first) else {
            return Err(PdfError::Malformed(
                "an object stream without /N or /First".into(),
            ));
        };
        let data = self.decode(&d, range)?;
        let mut p = Parser::new(&data, 0);
        let mut index = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let num = u32::try_from(p.uint()?)
                .map_err(|_| PdfError::Malformed("object number".into()))?;
            let off = usize::try_from(p.uint()?).map_err(|_| PdfError::Truncated)?;
            index.push((num, first.checked_add(off).ok_or(PdfError::Truncated)?));
        }
        let os = std::rc::Rc::new(ObjStream { data, index });
        self.object_streams.borrow_mut().insert(num, os.clone());
        Ok(os)
    }

    /// A stream's data, decoded (FlateDecode with the PNG predictors, or none), bounded by
    /// [`MAX_DECODED`] and the file's total [`MAX_DECODED_TOTAL`].
    fn decode(&self, d: &Dict, range: std::ops::Range<usize>) -> Result<Vec<u8>, PdfError> {
        let raw = &self.bytes[range];
        let filter = match d.get("Filter") {
            None => None,
            Some(Object::Name(n)) => Some(n.clone()),
            Some(Object::Array(a)) if a.is_empty() => None,
            Some(Object::Array(a)) if a.len() == 1 => match &a[0] {
                Object::Name(n) => Some(n.clone()),
                _ => return Err(PdfError::Unsupported("a stream filter".into())),
            },
            _ => return Err(PdfError::Unsupported("a chain of stream filters".into())),
        };
        let budget = MAX_DECODED.min(MAX_DECODED_TOTAL.saturating_sub(self.decoded.get()));
        let data = match filter.as_deref() {
            None => raw.to_vec(),
            Some(b"FlateDecode") => {
                let mut out = Vec::new();
                flate2::read::ZlibDecoder::new(raw)
                    .take(budget as u64 + 1)
                    .read_to_end(&mut out)
                    .map_err(|_| {
                        PdfError::Malformed("a compressed stream does not inflate".into())
                    })?;
                if out.len() > budget {
                    return Err(PdfError::TooLarge("a compressed stream inflates too far"));
                }
                out
            }
            Some(other) => {
                return Err(PdfError::Unsupported(format!(
                    "the {} filter on a structure stream",
                    String::from_utf8_lossy(other)
                )))
            }
        };
        self.decoded.set(self.decoded.get() + data.len());
        let parms = match d.get("DecodeParms") {
            Some(Object::Dict(p)) => Some(p.clone()),
            Some(Object::Array(a)) => match a.first() {
                Some(Object::Dict(p)) => Some(p.clone()),
                _ => None,
            },
            _ => None,
        };
        match parms {
            Some(p) if p.get("Predictor").and_then(Object::as_int).unwrap_or(1) >= 10 => {
                let columns = p.get("Columns").and_then(Object::as_int).unwrap_or(1);
                let columns = usize::try_from(columns)
                    .ok()
                    .filter(|&c| (1..=1 << 16).contains(&c))
                    .ok_or_else(|| PdfError::Malformed("/Columns".into()))?;
                unpredict_png(&data, columns)
            }
            Some(p) if p.get("Predictor").and_then(Object::as_int).unwrap_or(1) > 1 => Err(
                PdfError::Unsupported("the TIFF predictor on a structure stream".into()),
            ),
            _ => Ok(data),
        }
    }
}

/// Undoes the PNG predictors (RFC 2083 §6) row by row; bytes per pixel is 1, as xref and
/// object streams use.
fn unpredict_png(data: &[u8], columns: usize) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; columns];
    for row in data.chunks(columns + 1) {
        if row.len() != columns + 1 {
            return Err(PdfError::Malformed(
                "a predicted stream ends mid-row".into(),
            ));
        }
        let (kind, src) = (row[0], &row[1..]);
        let mut cur = vec![0u8; columns];
        for i in 0..columns {
            let left = if i > 0 { cur[i - 1] } else { 0 };
            let up = prev[i];
            let up_left = if i > 0 { prev[i - 1] } else { 0 };
            cur[i] = src[i].wrapping_add(match kind {
                0 => 0,
                1 => left,
                2 => up,
                3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                4 => paeth(left, up, up_left),
                _ => return Err(PdfError::Malformed("a PNG predictor byte".into())),
            });
        }
        out.extend_from_slice(&cur);
        prev = cur;
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// First position of `needle` in `hay`.
pub(crate) fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Last position of `needle` in `hay`.
pub(crate) fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

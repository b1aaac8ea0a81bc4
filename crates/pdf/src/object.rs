//! PDF objects (ISO 32000-1 §7.3): a bounded parser of the syntax and the writer of the few
//! objects an incremental update rewrites. Streams are not decoded here: a stream is its
//! dictionary and where its bytes lie in the file.

use crate::PdfError;

/// Deepest nesting of arrays and dictionaries the parser follows.
const MAX_DEPTH: usize = 32;
/// Most entries of one array or dictionary.
const MAX_ITEMS: usize = 100_000;
/// Longest string or name, bytes.
const MAX_STRING: usize = 1 << 20;

/// A PDF object. Reals keep their text, so that a rewritten dictionary says what it said.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A real number, as written.
    Real(String),
    /// A name, without its slash, `#xx` escapes decoded.
    Name(Vec<u8>),
    /// A string (literal or hexadecimal), decoded.
    Str(Vec<u8>),
    /// An array.
    Array(Vec<Object>),
    /// A dictionary.
    Dict(Dict),
    /// An indirect reference `n g R`.
    Ref(u32, u16),
}

/// A dictionary, in the order written (a rewritten one keeps it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict(pub Vec<(Vec<u8>, Object)>);

impl Dict {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Object> {
        self.0
            .iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| v)
    }

    /// Sets `key` to `value`, in place if present, else at the end.
    pub fn set(&mut self, key: &str, value: Object) {
        match self.0.iter_mut().find(|(k, _)| k == key.as_bytes()) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.as_bytes().to_vec(), value)),
        }
    }

    /// Whether `key` is the name `name`.
    pub fn is_name(&self, key: &str, name: &str) -> bool {
        matches!(self.get(key), Some(Object::Name(n)) if n == name.as_bytes())
    }
}

impl Object {
    /// The integer, if it is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Object::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number, integer or real.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Object::Int(i) => Some(*i as f64),
            Object::Real(r) => r.parse().ok(),
            _ => None,
        }
    }

    /// Serializes the object (no stream data: streams are never rewritten).
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Object::Null => out.extend_from_slice(b"null"),
            Object::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Object::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Object::Real(r) => out.extend_from_slice(r.as_bytes()),
            Object::Name(n) => write_name(n, out),
            Object::Str(s) => {
                out.push(b'<');
                out.extend_from_slice(hex::encode_upper(s).as_bytes());
                out.push(b'>');
            }
            Object::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Object::Dict(d) => d.write(out),
            Object::Ref(n, g) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
        }
    }
}

impl Dict {
    /// Serializes the dictionary.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<<");
        for (k, v) in &self.0 {
            write_name(k, out);
            out.push(b' ');
            v.write(out);
        }
        out.extend_from_slice(b">>");
    }
}

fn write_name(n: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &c in n {
        if c.is_ascii_graphic() && !is_delimiter(c) && c != b'#' {
            out.push(c);
        } else {
            out.extend_from_slice(format!("#{c:02X}").as_bytes());
        }
    }
}

/// PDF white space (§7.2.2).
pub(crate) fn is_white(c: u8) -> bool {
    matches!(c, 0 | 9 | 10 | 12 | 13 | 32)
}

fn is_delimiter(c: u8) -> bool {
    matches!(
        c,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(c: u8) -> bool {
    !is_white(c) && !is_delimiter(c)
}

/// A cursor over the file's bytes.
pub(crate) struct Parser<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(bytes: &'a [u8], pos: usize) -> Parser<'a> {
        Parser { bytes, pos }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips white space and comments.
    pub(crate) fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if is_white(c) {
                self.pos += 1;
            } else if c == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// The next run of regular characters (a keyword or number), without consuming it.
    fn word_at(&self, at: usize) -> &'a [u8] {
        let end = self.bytes[at.min(self.bytes.len())..]
            .iter()
            .position(|&c| !is_regular(c))
            .map_or(self.bytes.len(), |p| at + p);
        &self.bytes[at.min(end)..end]
    }

    /// Consumes keyword `kw` (after white space) or fails.
    pub(crate) fn keyword(&mut self, kw: &str) -> Result<(), PdfError> {
        self.skip_ws();
        if self.word_at(self.pos) == kw.as_bytes() {
            self.pos += kw.len();
            Ok(())
        } else {
            Err(PdfError::Malformed(format!(
                "expected `{kw}` at byte {}",
                self.pos
            )))
        }
    }

    /// Whether keyword `kw` comes next (after white space); consumes nothing.
    pub(crate) fn at_keyword(&mut self, kw: &str) -> bool {
        self.skip_ws();
        self.word_at(self.pos) == kw.as_bytes()
    }

    /// An unsigned integer (object numbers, offsets, counts).
    pub(crate) fn uint(&mut self) -> Result<u64, PdfError> {
        self.skip_ws();
        let w = self.word_at(self.pos);
        let n = std::str::from_utf8(w)
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= 19 && s.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                PdfError::Malformed(format!("expected a number at byte {}", self.pos))
            })?;
        self.pos += w.len();
        Ok(n)
    }

    /// One object.
    pub(crate) fn object(&mut self) -> Result<Object, PdfError> {
        self.object_at_depth(0)
    }

    fn object_at_depth(&mut self, depth: usize) -> Result<Object, PdfError> {
        if depth > MAX_DEPTH {
            return Err(PdfError::Malformed("objects nested too deep".into()));
        }
        self.skip_ws();
        let start = self.pos;
        let c = self.peek().ok_or(PdfError::Truncated)?;
        match c {
            b'/' => {
                self.pos += 1;
                Ok(Object::Name(self.name()?))
            }
            b'(' => {
                self.pos += 1;
                Ok(Object::Str(self.literal()?))
            }
            b'<' if self.bytes.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                let mut d = Dict::default();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b'>') => {
                            if self.bytes.get(self.pos + 1) != Some(&b'>') {
                                return Err(malformed("a lone `>` in a dictionary", self.pos));
                            }
                            self.pos += 2;
                            return Ok(Object::Dict(d));
                        }
                        Some(b'/') => {
                            self.pos += 1;
                            let key = self.name()?;
                            let value = self.object_at_depth(depth + 1)?;
                            if d.0.len() >= MAX_ITEMS {
                                return Err(PdfError::Malformed("dictionary too long".into()));
                            }
                            // A repeated key: the first one counts, as most readers take it.
                            if d.get_bytes(&key).is_none() {
                                d.0.push((key, value));
                            }
                        }
                        Some(_) => return Err(malformed("a dictionary key", self.pos)),
                        None => return Err(PdfError::Truncated),
                    }
                }
            }
            b'<' => {
                self.pos += 1;
                Ok(Object::Str(self.hex_string()?))
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Object::Array(items));
                        }
                        None => return Err(PdfError::Truncated),
                        Some(_) => {
                            if items.len() >= MAX_ITEMS {
                                return Err(PdfError::Malformed("array too long".into()));
                            }
                            items.push(self.object_at_depth(depth + 1)?);
                        }
                    }
                }
            }
            _ if is_regular(c) => {
                let w = self.word_at(start);
                self.pos += w.len();
                match w {
                    b"true" => Ok(Object::Bool(true)),
                    b"false" => Ok(Object::Bool(false)),
                    b"null" => Ok(Object::Null),
                    _ => self.number(w, start),
                }
            }
            _ => Err(malformed("an object", start)),
        }
    }

    fn number(&mut self, w: &[u8], start: usize) -> Result<Object, PdfError> {
        let s = std::str::from_utf8(w).map_err(|_| malformed("a number", start))?;
        let numeric = !s.is_empty()
            && s.bytes()
                .all(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.'));
        if !numeric || s.len() > 40 {
            return Err(malformed("an object", start));
        }
        if s.contains('.') {
            s.parse::<f64>().map_err(|_| malformed("a number", start))?;
            return Ok(Object::Real(s.to_owned()));
        }
        let n: i64 = s.parse().map_err(|_| malformed("a number", start))?;
        // `n g R`: two unsigned integers and R.
        if s.bytes().all(|c| c.is_ascii_digit()) {
            let save = self.pos;
            self.skip_ws();
            let g = self.word_at(self.pos);
            if !g.is_empty() && g.len() <= 5 && g.iter().all(u8::is_ascii_digit) {
                let gpos = self.pos + g.len();
                self.pos = gpos;
                self.skip_ws();
                if self.word_at(self.pos) == b"R" {
                    self.pos += 1;
                    let num = u32::try_from(n).map_err(|_| malformed("an object number", start))?;
                    let gen = std::str::from_utf8(g)
                        .ok()
                        .and_then(|g| g.parse::<u16>().ok())
                        .ok_or_else(|| malformed("a generation number", start))?;
                    return Ok(Object::Ref(num, gen));
                }
            }
            self.pos = save;
        }
        Ok(Object::Int(n))
    }

    fn name(&mut self) -> Result<Vec<u8>, PdfError> {
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            if !is_regular(c) {
                break;
            }
            self.pos += 1;
            if c == b'#' {
                let h = self
                    .bytes
                    .get(self.pos..self.pos + 2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| malformed("a #xx escape in a name", self.pos))?;
                self.pos += 2;
                out.push(h);
            } else {
                out.push(c);
            }
            if out.len() > 127 * 4 {
                return Err(PdfError::Malformed("name too long".into()));
            }
        }
        Ok(out)
    }

    fn literal(&mut self) -> Result<Vec<u8>, PdfError> {
        let mut out = Vec::new();
        let mut depth = 1usize;
        loop {
            let c = self.peek().ok_or(PdfError::Truncated)?;
            self.pos += 1;
            match c {
                b'(' => {
                    depth += 1;
                    out.push(c);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(out);
                    }
                    out.push(c);
                }
                b'\\' => {
                    let e = self.peek().ok_or(PdfError::Truncated)?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(c),
            }
            if out.len() > MAX_STRING {
                return Err(PdfError::Malformed("string too long".into()));
            }
        }
    }

    fn hex_string(&mut self) -> Result<Vec<u8>, PdfError> {
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let c = self.peek().ok_or(PdfError::Truncated)?;
            self.pos += 1;
            let v = match c {
                b'>' => {
                    if let Some(h) = high {
                        out.push(h << 4);
                    }
                    return Ok(out);
                }
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ if is_white(c) => continue,
                _ => return Err(malformed("a hexadecimal string", self.pos - 1)),
            };
            match high.take() {
                Some(h) => out.push(h << 4 | v),
                None => high = Some(v),
            }
            if out.len() > MAX_STRING {
                return Err(PdfError::Malformed("string too long".into()));
            }
        }
    }
}

impl Dict {
    fn get_bytes(&self, key: &[u8]) -> Option<&Object> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

fn malformed(what: &str, at: usize) -> PdfError {
    PdfError::Malformed(format!("expected {what} at byte {at}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Object, PdfError> {
        Parser::new(s.as_bytes(), 0).object()
    }

    #[test]
    fn parses_the_syntax() {
        let o = parse("<< /Type /Page /Kids [1 0 R 2 0 R] /N -3.5 /S (a\\(b\\)\\101) /H <4142 4> /B true /Z null /E#20x 7 >>").unwrap();
        let Object::Dict(d) = o else { panic!() };
        assert!(d.is_name("Type", "Page"));
        assert_eq!(
            d.get("Kids"),
            Some(&Object::Array(vec![Object::Ref(1, 0), Object::Ref(2, 0)]))
        );
        assert_eq!(d.get("N"), Some(&Object::Real("-3.5".into())));
        assert_eq!(d.get("S"), Some(&Object::Str(b"a(b)A".to_vec())));
        assert_eq!(d.get("H"), Some(&Object::Str(vec![0x41, 0x42, 0x40])));
        assert_eq!(d.get("E x"), Some(&Object::Int(7)));
    }

    #[test]
    fn written_objects_parse_back() {
        let src = "<< /A [1 2 0 R (x) /N#23 -4 1.25] /D << /E false >> >>";
        let o = parse(src).unwrap();
        let mut out = Vec::new();
        o.write(&mut out);
        assert_eq!(Parser::new(&out, 0).object().unwrap(), o);
    }

    #[test]
    fn refuses_hostile_nesting_and_truncation() {
        let deep = "[".repeat(1000);
        assert!(matches!(parse(&deep), Err(PdfError::Malformed(_))));
        assert!(matches!(parse("<< /A (abc"), Err(PdfError::Truncated)));
        assert!(matches!(parse("<< /A 1 >"), Err(PdfError::Malformed(_))));
        assert!(parse(")").is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = Parser::new(&bytes, 0).object();
        }
    }
}

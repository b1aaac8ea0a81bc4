//! A streaming `multipart/form-data` reader (RFC 7578, RFC 2046 §5.1) for document uploads.
//!
//! Why not the multipart extractor: it copies every body frame into its own buffer before
//! handing out part data, which for a 10 MiB document costs as much again as the kernel's
//! copy. This reader hands part data to a [`PartSink`] as slices of the frames hyper already
//! holds; it copies only what it cannot yet decide about: at most a delimiter's length at the
//! end of a frame, and part headers (at most [`MAX_PART_HEADERS`] bytes).
//!
//! Everything is bounded: boundary length (70, as RFC 2046 allows), part headers, preamble
//! and the number of parts (the sink decides the last). Malformed input is a [`FormError`],
//! never a panic.

use memchr::memmem;

/// Longest header block of one part, bytes.
pub const MAX_PART_HEADERS: usize = 8 * 1024;
/// Longest preamble (text before the first boundary) accepted, bytes.
const MAX_PREAMBLE: usize = 16 * 1024;
/// Longest transport padding after a boundary, bytes.
const MAX_PADDING: usize = 64;
/// The window `feed` tops up before it needs to see a whole header block or delimiter line.
const WINDOW: usize = MAX_PART_HEADERS + 4 + 256;

/// What was wrong with a multipart body. Over HTTP every variant is a 400 `invalid_multipart`
/// whose detail is the variant's message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormError {
    /// The Content-Type has no usable `boundary` parameter (missing, empty, longer than 70
    /// characters, or with characters RFC 2046 does not allow).
    #[error("the multipart Content-Type needs a boundary of 1 to 70 allowed characters")]
    Boundary,
    /// More than 16 KiB came before the first boundary.
    #[error("no multipart boundary in the first {MAX_PREAMBLE} bytes")]
    NoBoundary,
    /// A boundary line went on with something other than padding and CRLF, or `--`.
    #[error("a multipart boundary line is malformed")]
    BoundaryLine,
    /// A part's header block is longer than [`MAX_PART_HEADERS`] bytes.
    #[error("a part's headers are longer than {MAX_PART_HEADERS} bytes")]
    HeadersTooLong,
    /// A part header is not `Name: value` in UTF-8, or Content-Disposition is not form-data
    /// with a name.
    #[error("a part header is malformed: {0}")]
    Header(&'static str),
    /// The body ended before the closing boundary.
    #[error("the multipart body ends before its closing boundary")]
    Truncated,
}

/// A part's headers, as far as form-data uses them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartHead {
    /// The Content-Disposition `name`.
    pub name: String,
    /// The Content-Disposition `filename`, if any.
    pub filename: Option<String>,
    /// The part's Content-Type, if any.
    pub content_type: Option<String>,
}

/// Receives the parts of a body in order: `start`, any number of `data` (the part's bytes,
/// in order, split anywhere), `end`. Its errors stop the reading and are returned as they are.
pub trait PartSink {
    type Error: From<FormError>;
    fn start(&mut self, head: PartHead) -> Result<(), Self::Error>;
    fn data(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
    fn end(&mut self) -> Result<(), Self::Error>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter; `usize` bytes of preamble seen.
    Preamble(usize),
    /// Just after a delimiter: `--` (the end), or padding and CRLF (a part follows).
    AfterDelimiter,
    Headers,
    Body,
    /// After the closing delimiter: the epilogue is ignored.
    Done,
}

/// A push parser: give it the body's frames with [`FormReader::feed`], then call
/// [`FormReader::finish`].
pub struct FormReader {
    /// `CRLF--boundary`.
    delimiter: Vec<u8>,
    finder: memmem::Finder<'static>,
    state: State,
    /// Bytes not yet decided about, carried between frames (bounded by `WINDOW`).
    pending: Vec<u8>,
}

/// The `boundary` parameter of a `multipart/form-data` Content-Type, if the type is that.
///
/// `None` when the type is something else; `Err` when it is multipart/form-data without a
/// usable boundary.
pub fn boundary(content_type: &str) -> Option<Result<String, FormError>> {
    let (mime, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let mut params = params;
    loop {
        let Some((name, value, rest)) = parameter(params) else {
            return Some(Err(FormError::Boundary));
        };
        if name.eq_ignore_ascii_case("boundary") {
            return Some(valid_boundary(value));
        }
        params = rest;
    }
}

fn valid_boundary(b: String) -> Result<String, FormError> {
    // RFC 2046 §5.1.1: bchars, 1 to 70, not ending in a space.
    let allowed = |c: u8| c.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&c);
    if b.is_empty() || b.len() > 70 || b.ends_with(' ') || !b.bytes().all(allowed) {
        return Err(FormError::Boundary);
    }
    Ok(b)
}

/// The next `; name=value` (token or quoted string) of a header's parameters, and the rest.
fn parameter(s: &str) -> Option<(&str, String, &str)> {
    let s = s.trim_start_matches([' ', '\t', ';']);
    let (name, rest) = s.split_once('=')?;
    let name = name.trim();
    let rest = rest.trim_start_matches([' ', '\t']);
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Some((name, value, &quoted[i + 1..])),
                '\\' => value.push(chars.next()?.1),
                c => value.push(c),
            }
        }
        None
    } else {
        let end = rest.find(';').unwrap_or(rest.len());
        Some((name, rest[..end].trim().to_owned(), &rest[end..]))
    }
}

fn part_head(block: &[u8]) -> Result<PartHead, FormError> {
    let text = std::str::from_utf8(block).map_err(|_| FormError::Header("not UTF-8"))?;
    let mut head = PartHead::default();
    let mut disposition = false;
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or(FormError::Header("a header line without a colon"))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-disposition") {
            if disposition {
                return Err(FormError::Header("two Content-Disposition headers"));
            }
            disposition = true;
            let (kind, mut params) = value.split_once(';').unwrap_or((value, ""));
            if !kind.trim().eq_ignore_ascii_case("form-data") {
                return Err(FormError::Header("Content-Disposition is not form-data"));
            }
            let mut name = None;
            while let Some((p, v, rest)) = parameter(params) {
                if p.eq_ignore_ascii_case("name") {
                    name = Some(v);
                } else if p.eq_ignore_ascii_case("filename") {
                    head.filename = Some(v);
                }
                params = rest;
            }
            head.name = name.ok_or(FormError::Header("Content-Disposition has no name"))?;
        } else if name.eq_ignore_ascii_case("content-type") {
            head.content_type = Some(value.to_owned());
        }
    }
    if !disposition {
        return Err(FormError::Header("a part without Content-Disposition"));
    }
    Ok(head)
}

impl FormReader {
    /// A reader for a body whose Content-Type gave this boundary (see [`boundary`]).
    pub fn new(boundary: &str) -> Self {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        let finder = memmem::Finder::new(&delimiter).into_owned();
        FormReader {
            delimiter,
            finder,
            state: State::Preamble(0),
            // The first delimiter may open the body without a CRLF before it.
            pending: b"\r\n".to_vec(),
        }
    }

    /// Reads one frame of the body, handing complete part data to `sink` as it goes.
    pub fn feed<S: PartSink>(&mut self, mut frame: &[u8], sink: &mut S) -> Result<(), S::Error> {
        // First decide about what was carried over, topping it up from this frame by at most
        // WINDOW bytes at a time: that bounds what is copied, however large the frame.
        while !self.pending.is_empty() {
            let had = self.pending.len();
            let take = WINDOW.saturating_sub(had).min(frame.len());
            self.pending.extend_from_slice(&frame[..take]);
            let mut buf = std::mem::take(&mut self.pending);
            let used = self.step_all(&buf, sink)?;
            if used >= had {
                // The carried bytes are decided; go on in the frame itself, where the rest of
                // `buf` came from.
                frame = &frame[used - had..];
                buf.clear();
                self.pending = buf;
                break;
            }
            buf.drain(..used);
            self.pending = buf;
            frame = &frame[take..];
            if frame.is_empty() {
                return Ok(());
            }
            // Either this top-up took bytes from the frame or `pending` is WINDOW long, in
            // which case `step_all` consumed some: each turn makes progress.
        }
        let used = self.step_all(frame, sink)?;
        self.pending.extend_from_slice(&frame[used..]);
        Ok(())
    }

    /// Ends the body: an error unless the closing delimiter was seen.
    pub fn finish(&self) -> Result<(), FormError> {
        if self.state == State::Done {
            Ok(())
        } else {
            Err(FormError::Truncated)
        }
    }

    /// Steps until no more progress can be made in `buf`; returns the bytes consumed. What is
    /// left is shorter than WINDOW, or an error is returned.
    fn step_all<S: PartSink>(&mut self, buf: &[u8], sink: &mut S) -> Result<usize, S::Error> {
        let mut used = 0;
        loop {
            let n = self.step(&buf[used..], sink)?;
            if n == 0 {
                return Ok(used);
            }
            used += n;
        }
    }

    /// One step of the state machine on `buf`: the bytes consumed, 0 if it needs more. With
    /// `buf.len() >= WINDOW` it always consumes or fails.
    fn step<S: PartSink>(&mut self, buf: &[u8], sink: &mut S) -> Result<usize, S::Error> {
        let dlen = self.delimiter.len();
        match self.state {
            State::Preamble(seen) => match self.finder.find(buf) {
                Some(p) => {
                    if seen + p > MAX_PREAMBLE {
                        return Err(FormError::NoBoundary.into());
                    }
                    self.state = State::AfterDelimiter;
                    Ok(p + dlen)
                }
                None => {
                    let skip = buf.len().saturating_sub(dlen - 1);
                    if seen + skip > MAX_PREAMBLE {
                        return Err(FormError::NoBoundary.into());
                    }
                    self.state = State::Preamble(seen + skip);
                    Ok(skip)
                }
            },
            State::AfterDelimiter => {
                if buf.len() < 2 {
                    return Ok(0);
                }
                if &buf[..2] == b"--" {
                    self.state = State::Done;
                    return Ok(2);
                }
                let look = &buf[..buf.len().min(MAX_PADDING + 2)];
                match memmem::find(look, b"\r\n") {
                    Some(p) if buf[..p].iter().all(|&c| c == b' ' || c == b'\t') => {
                        self.state = State::Headers;
                        Ok(p + 2)
                    }
                    Some(_) => Err(FormError::BoundaryLine.into()),
                    None if look.len() < MAX_PADDING + 2 => Ok(0),
                    None => Err(FormError::BoundaryLine.into()),
                }
            }
            State::Headers => {
                // A part with no headers at all starts with the blank line itself.
                let (block, consumed) = if buf.starts_with(b"\r\n") {
                    (&buf[..0], 2)
                } else {
                    let look = &buf[..buf.len().min(MAX_PART_HEADERS + 4)];
                    match memmem::find(look, b"\r\n\r\n") {
                        Some(p) => (&buf[..p], p + 4),
                        None if look.len() < MAX_PART_HEADERS + 4 => return Ok(0),
                        None => return Err(FormError::HeadersTooLong.into()),
                    }
                };
                let head = part_head(block)?;
                sink.start(head)?;
                self.state = State::Body;
                Ok(consumed)
            }
            State::Body => match self.finder.find(buf) {
                Some(p) => {
                    if p > 0 {
                        sink.data(&buf[..p])?;
                    }
                    sink.end()?;
                    self.state = State::AfterDelimiter;
                    Ok(p + dlen)
                }
                None => {
                    // The last dlen - 1 bytes could begin a delimiter that the next frame ends.
                    let safe = buf.len().saturating_sub(dlen - 1);
                    if safe > 0 {
                        sink.data(&buf[..safe])?;
                    }
                    Ok(safe)
                }
            },
            State::Done => Ok(buf.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Default, Debug, PartialEq)]
    struct Collect {
        parts: Vec<(PartHead, Vec<u8>)>,
        open: bool,
    }

    impl PartSink for Collect {
        type Error = FormError;
        fn start(&mut self, head: PartHead) -> Result<(), FormError> {
            assert!(!self.open);
            self.open = true;
            self.parts.push((head, Vec::new()));
            Ok(())
        }
        fn data(&mut self, bytes: &[u8]) -> Result<(), FormError> {
            assert!(self.open && !bytes.is_empty());
            self.parts.last_mut().unwrap().1.extend_from_slice(bytes);
            Ok(())
        }
        fn end(&mut self) -> Result<(), FormError> {
            assert!(self.open);
            self.open = false;
            Ok(())
        }
    }

    fn read(boundary: &str, frames: &[&[u8]]) -> Result<Vec<(PartHead, Vec<u8>)>, FormError> {
        let mut r = FormReader::new(boundary);
        let mut sink = Collect::default();
        for f in frames {
            r.feed(f, &mut sink)?;
        }
        r.finish()?;
        assert!(!sink.open);
        Ok(sink.parts)
    }

    fn encode(boundary: &str, parts: &[(PartHead, Vec<u8>)], preamble: &[u8]) -> Vec<u8> {
        let mut out = preamble.to_vec();
        if !preamble.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
        for (h, body) in parts {
            out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let mut cd = format!("Content-Disposition: form-data; name=\"{}\"", h.name);
            if let Some(f) = &h.filename {
                cd.push_str(&format!("; filename=\"{f}\""));
            }
            out.extend_from_slice(cd.as_bytes());
            out.extend_from_slice(b"\r\n");
            if let Some(t) = &h.content_type {
                out.extend_from_slice(format!("Content-Type: {t}\r\n").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        out
    }

    fn head(name: &str) -> PartHead {
        PartHead {
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn boundary_parameter() {
        assert_eq!(boundary("application/json"), None);
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").unwrap(),
            Ok("abc".into())
        );
        assert_eq!(
            boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b:c\"").unwrap(),
            Ok("a b:c".into())
        );
        assert_eq!(
            boundary("multipart/form-data").unwrap(),
            Err(FormError::Boundary)
        );
        assert_eq!(
            boundary(&format!("multipart/form-data; boundary={}", "x".repeat(71))).unwrap(),
            Err(FormError::Boundary)
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=\"a\r\nb\"").unwrap(),
            Err(FormError::Boundary)
        );
    }

    #[test]
    fn a_form_as_curl_sends_it() {
        let body = b"--------------------------abc123\r\n\
Content-Disposition: form-data; name=\"document\"; filename=\"a \\\"b\\\".pdf\"\r\n\
Content-Type: application/pdf\r\n\r\n%PDF-1.7\r\n--not the boundary\r\n\
\r\n--------------------------abc123\r\n\
Content-Disposition: form-data; name=\"kid\"\r\n\r\nk1\r\n\
--------------------------abc123--\r\n";
        let parts = read("------------------------abc123", &[body]).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].0.name, "document");
        assert_eq!(parts[0].0.filename.as_deref(), Some("a \"b\".pdf"));
        assert_eq!(parts[0].0.content_type.as_deref(), Some("application/pdf"));
        assert_eq!(parts[0].1, b"%PDF-1.7\r\n--not the boundary\r\n");
        assert_eq!(parts[1], (head("kid"), b"k1".to_vec()));
    }

    #[test]
    fn refusals() {
        let ok = encode("b", &[(head("x"), b"1".to_vec())], b"");
        // Cut anywhere before the closing delimiter's end: truncated.
        for cut in 0..ok.len() - 4 {
            assert!(read("b", &[&ok[..cut]]).is_err(), "cut at {cut}");
        }
        assert_eq!(
            read("b", &[&vec![b'x'; MAX_PREAMBLE + 100]]),
            Err(FormError::NoBoundary)
        );
        let mut long = b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\nX: ".to_vec();
        long.extend(vec![b'a'; MAX_PART_HEADERS]);
        assert_eq!(read("b", &[&long]), Err(FormError::HeadersTooLong));
        assert_eq!(
            read("b", &[b"--bjunk\r\n\r\n\r\n--b--"]),
            Err(FormError::BoundaryLine)
        );
        assert_eq!(
            read("b", &[b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"]),
            Err(FormError::Header("a part without Content-Disposition"))
        );
        assert_eq!(
            read(
                "b",
                &[b"--b\r\nContent-Disposition: attachment; name=x\r\n\r\nx\r\n--b--"]
            ),
            Err(FormError::Header("Content-Disposition is not form-data"))
        );
        assert_eq!(
            read(
                "b",
                &[b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--"]
            ),
            Err(FormError::Header("Content-Disposition has no name"))
        );
        assert_eq!(
            read(
                "b",
                &[b"--b\r\nContent-Disposition: form-data; name=\"\xff\"\r\n\r\nx\r\n--b--"]
            ),
            Err(FormError::Header("not UTF-8"))
        );
    }

    fn arb_head() -> impl Strategy<Value = PartHead> {
        (
            "[a-z_]{1,12}",
            proptest::option::of("[a-zA-Z0-9 ._-]{0,20}"),
            proptest::option::of("[a-z]{1,8}/[a-z.+-]{1,12}"),
        )
            .prop_map(|(name, filename, content_type)| PartHead {
                name,
                filename,
                content_type,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// However the body is cut into frames, the same parts come out, byte for byte;
        /// part bodies full of near-delimiters included.
        #[test]
        fn any_framing_reads_the_same(
            boundary in "[a-zA-Z0-9'()+_,./:=?-]{1,70}",
            parts in proptest::collection::vec(
                (arb_head(), proptest::collection::vec(
                    prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'-'), any::<u8>()], 0..600)),
                0..5),
            preamble in proptest::collection::vec(any::<u8>(), 0..64),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            // A body that happens to contain the delimiter would be a different form.
            let delimiter = format!("\r\n--{boundary}");
            let finder = memmem::Finder::new(delimiter.as_bytes());
            prop_assume!(parts.iter().all(|(_, b)| finder.find(&[b"\r\n", b.as_slice(), b"\r\n"].concat()).is_none()));
            prop_assume!(finder.find(&[b"\r\n", preamble.as_slice(), b"\r\n"].concat()).is_none());
            let body = encode(&boundary, &parts, &preamble);
            let mut at: Vec<usize> = cuts.iter().map(|i| i.index(body.len() + 1)).collect();
            at.push(0);
            at.push(body.len());
            at.sort_unstable();
            let frames: Vec<&[u8]> = at.windows(2).map(|w| &body[w[0]..w[1]]).collect();
            let got = read(&boundary, &frames).unwrap();
            prop_assert_eq!(got, parts);
        }

        /// Arbitrary bytes in arbitrary frames: an answer, never a panic.
        #[test]
        fn garbage_never_panics(
            body in proptest::collection::vec(
                prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'-'), Just(b'b'), any::<u8>()], 0..400),
            cut in any::<prop::sample::Index>(),
        ) {
            let c = cut.index(body.len() + 1);
            let _ = read("b", &[&body[..c], &body[c..]]);
        }
    }
}

//! Bounded CBOR decoding and small accessors over `ciborium::Value`.

use crate::error::Error;
use ciborium::Value;

/// Nesting deeper than this is refused: our structures need 5 levels, and ciborium recurses.
pub(crate) const MAX_DEPTH: usize = 16;
/// Larger maps are refused (see `check_unique_keys`).
pub(crate) const MAX_MAP_ENTRIES: usize = 256;

/// Decodes exactly one CBOR item, refusing trailing bytes, deep nesting and duplicate map keys.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, Error> {
    let mut cursor = std::io::Cursor::new(bytes);
    // The parser's own scratch is 4 KiB zeroed on every call, which for our few-hundred-byte
    // items cost more than the parse. No text or byte string is longer than the input, so a
    // scratch of the input's length is always enough. This entry point nests up to 256
    // levels (a bounded recursion on a stack of megabytes); MAX_DEPTH is checked below.
    let mut scratch = vec![0u8; bytes.len().clamp(1, 4096)];
    let value: Value = ciborium::de::from_reader_with_buffer(&mut cursor, &mut scratch)
        .map_err(|e| Error::Cbor(describe(e)))?;
    if cursor.position() != bytes.len() as u64 {
        return Err(Error::Cbor("trailing bytes after the CBOR item".into()));
    }
    check(&value, 1)?;
    Ok(value)
}

fn describe<T: std::fmt::Debug>(e: ciborium::de::Error<T>) -> String {
    match e {
        ciborium::de::Error::Io(_) => "truncated input".into(),
        ciborium::de::Error::Syntax(at) => format!("syntax error at byte {at}"),
        ciborium::de::Error::Semantic(_, msg) => msg,
        ciborium::de::Error::RecursionLimitExceeded => too_deep(),
    }
}

fn too_deep() -> String {
    format!("nested deeper than {MAX_DEPTH} levels")
}

/// Refuses nesting deeper than MAX_DEPTH, oversized maps and duplicate map keys. The parser
/// bounds the depth this recursion can reach.
fn check(value: &Value, depth: usize) -> Result<(), Error> {
    let nested = matches!(value, Value::Map(_) | Value::Array(_) | Value::Tag(..));
    if nested && depth > MAX_DEPTH {
        return Err(Error::Cbor(too_deep()));
    }
    match value {
        Value::Map(entries) => {
            // Our maps have a few dozen entries at most; a cap keeps the pairwise check cheap.
            if entries.len() > MAX_MAP_ENTRIES {
                return Err(Error::Cbor(format!(
                    "map with more than {MAX_MAP_ENTRIES} entries"
                )));
            }
            for (i, (k, v)) in entries.iter().enumerate() {
                if entries[..i].iter().any(|(other, _)| other == k) {
                    return Err(Error::Cbor("duplicate map key".into()));
                }
                check(k, depth + 1)?;
                check(v, depth + 1)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|v| check(v, depth + 1)),
        Value::Tag(_, inner) => check(inner, depth + 1),
        _ => Ok(()),
    }
}

/// Checks that `bytes` hold exactly one CBOR item in the deterministic encoding of RFC 8949
/// §4.2.1: every head in its shortest form, definite lengths only, map keys in bytewise order
/// of their encodings (so no duplicates either), floats in the shortest form that keeps their
/// value, simple values only in their one-byte form. Nesting deeper than [`MAX_DEPTH`] and
/// lengths longer than the input are refused without allocating.
///
/// The contents of byte strings are not looked into: what a format signs (a COSE protected
/// header, a CWT payload) is taken byte for byte as signed, and its signature already fixes it.
pub(crate) fn check_deterministic(bytes: &[u8]) -> Result<(), Error> {
    let mut r = Reader { bytes, pos: 0 };
    r.item(1)?;
    if r.pos != bytes.len() {
        return Err(Error::Cbor("trailing bytes after the CBOR item".into()));
    }
    Ok(())
}

/// A cursor for [`check_deterministic`]; it only reads heads and skips string contents.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

fn non_canonical(what: &str) -> Error {
    Error::NonCanonical(what.into())
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| Error::Cbor("truncated input".into()))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn remaining(&self) -> u64 {
        (self.bytes.len() - self.pos) as u64
    }

    /// The major type, the additional information and the argument of the next head.
    fn head(&mut self) -> Result<(u8, u8, u64), Error> {
        let first = self.take(1)?[0];
        let (major, info) = (first >> 5, first & 0x1F);
        let mut arg = |n: usize| -> Result<u64, Error> {
            Ok(self
                .take(n)?
                .iter()
                .fold(0u64, |a, &b| a << 8 | u64::from(b)))
        };
        let value = match info {
            0..=23 => u64::from(info),
            24 => arg(1)?,
            25 => arg(2)?,
            26 => arg(4)?,
            27 => arg(8)?,
            // Indefinite lengths are well formed only for strings, arrays and maps.
            31 if (2..=5).contains(&major) => return Err(non_canonical("indefinite length")),
            31 => {
                return Err(Error::Cbor(
                    "a break or an indefinite length out of place".into(),
                ))
            }
            _ => {
                return Err(Error::Cbor(format!(
                    "reserved additional information {info}"
                )))
            }
        };
        // Floats (major 7, 25 to 27) are judged by their value, below; a simple value in the
        // two-byte form must be 32 or more (RFC 8949 §3.3 makes smaller ones malformed).
        let shortest = match (major, info) {
            (7, 24) => value >= 32,
            (7, 25..=27) => true,
            (_, 24) => value >= 24,
            (_, 25) => value > 0xFF,
            (_, 26) => value > 0xFFFF,
            (_, 27) => value > 0xFFFF_FFFF,
            _ => true,
        };
        if !shortest {
            return Err(non_canonical(
                "an integer or length not in its shortest form",
            ));
        }
        Ok((major, info, value))
    }

    fn item(&mut self, depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::Cbor(too_deep()));
        }
        let (major, info, arg) = self.head()?;
        match major {
            2 | 3 => {
                let n = usize::try_from(arg).map_err(|_| Error::Cbor("truncated input".into()))?;
                self.take(n)?;
            }
            // Every item takes at least one byte: a count over what is left is a lie that
            // would otherwise loop for up to 2^64 rounds.
            4 => {
                if arg > self.remaining() {
                    return Err(Error::Cbor("truncated input".into()));
                }
                for _ in 0..arg {
                    self.item(depth + 1)?;
                }
            }
            5 => {
                if arg > self.remaining() / 2 {
                    return Err(Error::Cbor("truncated input".into()));
                }
                let mut previous: Option<&[u8]> = None;
                for _ in 0..arg {
                    let start = self.pos;
                    self.item(depth + 1)?;
                    let key = &self.bytes[start..self.pos];
                    // A repeated key is not valid CBOR at all (RFC 8949 §5.6), whatever the order.
                    if previous == Some(key) {
                        return Err(Error::Cbor("duplicate map key".into()));
                    }
                    if previous.is_some_and(|p| p > key) {
                        return Err(non_canonical("map keys not in deterministic order"));
                    }
                    previous = Some(key);
                    self.item(depth + 1)?;
                }
            }
            6 => self.item(depth + 1)?,
            7 => {
                let shorter = match info {
                    26 => f32_fits_f16(f32::from_bits(arg as u32)),
                    27 => {
                        let x = f64::from_bits(arg);
                        x.is_nan() || f64::from(x as f32) == x
                    }
                    _ => false,
                };
                if shorter {
                    return Err(non_canonical("a float not in its shortest form"));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Whether a half-precision float holds `x` exactly (NaN and infinities included).
fn f32_fits_f16(x: f32) -> bool {
    if !x.is_finite() || x == 0.0 {
        return true;
    }
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xFF) as i32 - 127;
    let mantissa = bits & 0x7F_FFFF;
    match exponent {
        // Normal halves keep 10 of the 23 mantissa bits.
        -14..=15 => mantissa & 0x1FFF == 0,
        // Subnormal halves are multiples of 2^-24.
        -24..=-15 => mantissa & ((1u32 << (-1 - exponent)) - 1) == 0,
        _ => false,
    }
}

/// Serialises a value; writing to a Vec cannot fail for the values this crate builds.
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    // ciborium only fails on writer errors, and Vec<u8> never errors.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}

/// Looks up an integer key in a CBOR map.
pub(crate) fn get_int(map: &[(Value, Value)], key: i64) -> Option<&Value> {
    map.iter()
        .find(|(k, _)| {
            k.as_integer()
                .is_some_and(|i| i128::from(i) == i128::from(key))
        })
        .map(|(_, v)| v)
}

/// Looks up a text key in a CBOR map.
pub(crate) fn get_text<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
}

/// The value of a CBOR integer as i64, if it fits.
pub(crate) fn as_i64(value: &Value) -> Option<i64> {
    value.as_integer().and_then(|i| i64::try_from(i).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_trailing_bytes_duplicates_and_depth() {
        assert!(matches!(decode(&[0x01, 0x02]), Err(Error::Cbor(_))));
        // {1: 1, 1: 2}
        assert!(matches!(
            decode(&[0xA2, 0x01, 0x01, 0x01, 0x02]),
            Err(Error::Cbor(_))
        ));
        let mut deep = vec![0x81u8; 1000];
        deep.push(0x00);
        assert!(matches!(decode(&deep), Err(Error::Cbor(_))));
        // A definite-length array claiming 2^32 items in a 6-byte input must fail, not allocate.
        assert!(matches!(
            decode(&[0x9A, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]),
            Err(Error::Cbor(_))
        ));
        assert!(matches!(decode(&[]), Err(Error::Cbor(_))));
    }

    #[test]
    fn deterministic_encoding_is_checked_head_by_head() {
        let kind = |b: &[u8]| check_deterministic(b).map_err(|e| e.kind());
        for ok in [
            &[0x00][..],
            &[0x17],
            &[0x18, 0x18],
            &[0x19, 0x01, 0x00],
            &[0x1A, 0x00, 0x01, 0x00, 0x00],
            &[0x1B, 0, 0, 0, 1, 0, 0, 0, 0],
            &[0x38, 0x18],                         // -25
            &[0x42, 1, 2],                         // h'0102'
            &[0xA2, 0x01, 0x00, 0x20, 0x00],       // {1: 0, -1: 0}: 0x01 < 0x20
            &[0xF8, 0x20],                         // simple(32)
            &[0xF9, 0x3C, 0x00],                   // 1.0 as a half
            &[0xFA, 0x3F, 0x80, 0x00, 0x01],       // a single no half holds
            &[0xFB, 0x3F, 0xF0, 0, 0, 0, 0, 0, 1], // a double no single holds
        ] {
            assert_eq!(kind(ok), Ok(()), "{ok:02x?}");
        }
        for bad in [
            &[0x18, 0x17][..],
            &[0x19, 0x00, 0xFF],
            &[0x1A, 0x00, 0x00, 0xFF, 0xFF],
            &[0x1B, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF],
            &[0x58, 0x01, 0x00],
            &[0x9F, 0xFF],
            &[0x5F, 0x41, 0x00, 0xFF],
            &[0xBF, 0xFF],
            &[0xA2, 0x20, 0x00, 0x01, 0x00], // {-1: 0, 1: 0}: out of order
            &[0xD8, 0x12, 0x80],             // tag 18 in two bytes
            &[0xFA, 0x3F, 0x80, 0x00, 0x00], // 1.0 as a single
            &[0xFB, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0], // 1.0 as a double
            &[0xFA, 0x7F, 0xC0, 0x00, 0x00], // NaN as a single
            &[0xFA, 0x33, 0x80, 0x00, 0x00], // 2^-24, the least half, as a single
        ] {
            assert_eq!(kind(bad), Err("non_canonical"), "{bad:02x?}");
        }
        for malformed in [
            &[][..],
            &[0x00, 0x00],
            &[0x1C],
            &[0x58],
            &[0x5A, 0xFF, 0xFF, 0xFF, 0xFF],
            &[0x9B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            &[0xBA, 0xFF, 0xFF, 0xFF, 0xFF, 0x00],
            &[0xF8, 0x10],
            &[0xFF],
            &[0xA2, 0x01, 0x00, 0x01, 0x00], // a repeated key
        ] {
            assert!(
                matches!(kind(malformed), Err("cbor" | "non_canonical")),
                "{malformed:02x?}"
            );
        }
        let mut deep = vec![0x81u8; MAX_DEPTH + 1];
        deep.push(0x00);
        assert_eq!(kind(&deep), Err("cbor"));
    }

    #[test]
    fn nesting_is_refused_beyond_max_depth_however_it_nests() {
        let nested = |depth: usize, open: &[u8]| {
            let mut v: Vec<u8> = open
                .iter()
                .copied()
                .cycle()
                .take(depth * open.len())
                .collect();
            v.push(0x00);
            v
        };
        // Arrays, maps ({0: …}) and tags, each MAX_DEPTH deep decode; one more is refused,
        // with the same message whichever check (ours, the parser's) finds it.
        for open in [&[0x81u8][..], &[0xA1, 0x00], &[0xC6]] {
            assert!(decode(&nested(MAX_DEPTH, open)).is_ok(), "{open:?}");
            for depth in [MAX_DEPTH + 1, 300] {
                assert_eq!(
                    decode(&nested(depth, open)),
                    Err(Error::Cbor(too_deep())),
                    "{open:?} {depth}"
                );
            }
        }
        // Strings as long as the input itself fit the scratch buffer.
        let mut text = vec![0x79, 0x01, 0x00];
        text.extend(std::iter::repeat_n(b'a', 256));
        assert_eq!(decode(&text), Ok(Value::Text("a".repeat(256))));
    }
}
